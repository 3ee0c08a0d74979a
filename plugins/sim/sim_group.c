/*
 * sim — polling groups: device ids, the report timers, and the periodic
 * reports.
 *
 * The rule every driver should follow: one timer per polling group, never one
 * per device or per point. A tick walks the device array and sends one report
 * per device (all its points at once); offline or absent devices are skipped.
 *
 * A group larger than SIM_SLICE_MAX devices is cut into slices, each with its
 * own timer, and the slices' first expiries are spread over the interval:
 * 100,000 devices every second become 50 ticks of 2,000 reports 20 ms apart,
 * instead of one burst of 100,000 that the host would have to swallow in a
 * single loop turn (it refuses reports beyond a bound: lgw_report_commit()
 * then returns LGW_EBUSY and the host counts the drops).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_model.h"

int sim_group_init(struct sim_group *g)
{
    size_t n = (size_t)g->conf.count;
    g->nslices = (n + SIM_SLICE_MAX - 1) / SIM_SLICE_MAX;
    g->devs = calloc(n, sizeof *g->devs);
    g->ids = malloc(n * SIM_ID_MAX);
    g->slices = calloc(g->nslices, sizeof *g->slices);
    if (!g->devs || !g->ids || !g->slices)
        return LGW_ENOMEM;
    for (size_t k = 0; k < g->nslices; k++) {
        g->slices[k].group = g;
        g->slices[k].begin = k * SIM_SLICE_MAX;
        g->slices[k].end = k + 1 < g->nslices ? (k + 1) * SIM_SLICE_MAX : n;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(g->ids + i * SIM_ID_MAX, SIM_ID_MAX, "%s%u", g->conf.prefix, (unsigned)i);
        g->model->init(g, &g->devs[i]);
    }
    return LGW_OK;
}

void sim_group_free(struct sim_group *g)
{
    for (size_t k = 0; k < g->nslices && g->slices; k++) {
        lgw_timer_free(g->slices[k].timer);
        free(g->slices[k].trace_buf);
    }
    free(g->slices);
    free(g->devs);
    free(g->ids);
    g->slices = NULL;
    g->nslices = 0;
    g->devs = NULL;
    g->ids = NULL;
}

/* A slice's timer: advance and report every online device of the slice. */
static void slice_tick(lgw_timer_t *timer, void *data)
{
    (void)timer;
    struct sim_slice *sl = data;
    struct sim_group *g = sl->group;
    uint64_t now = lgw_monotonic_ms();
    double dt_s = (double)(now - sl->last_tick_ms) / 1000.0;
    sl->last_tick_ms = now;
    /* the host took the previous tick's reports off its queue by now: they can be traced */
    sim_trace_flush(g->sim, sl);
    g->sim->trace_slice = sl;

    for (size_t i = sl->begin; i < sl->end; i++) {
        struct sim_device *d = &g->devs[i];
        if ((d->flags & (SIM_DEV_PRESENT | SIM_DEV_ONLINE)) != (SIM_DEV_PRESENT | SIM_DEV_ONLINE))
            continue;
        const char *id = sim_group_id(g, i);
        g->model->advance(g, d, id, dt_s);
        g->model->report(g, d, id);
    }
    g->sim->trace_slice = NULL;
}

int sim_group_start(struct sim_group *g)
{
    uint64_t every = (uint64_t)g->conf.interval_ms, now = lgw_monotonic_ms();
    for (size_t k = 0; k < g->nslices; k++) {
        struct sim_slice *sl = &g->slices[k];
        if (!sl->timer)
            sl->timer = lgw_timer_new(g->sim->inst, slice_tick, sl);
        if (!sl->timer)
            return LGW_ENOMEM;
        /* Slice k first fires (k+1)/n of the way into the interval, then every interval. */
        uint64_t first = every * (k + 1) / g->nslices;
        sl->last_tick_ms = now + first - every; /* so the first dt is one interval */
        int rc = lgw_timer_start(sl->timer, first, every);
        if (rc != LGW_OK)
            return rc;
    }
    return LGW_OK;
}

void sim_group_stop(struct sim_group *g)
{
    for (size_t k = 0; k < g->nslices; k++)
        if (g->slices[k].timer)
            lgw_timer_stop(g->slices[k].timer);
}

void sim_device_appear(struct sim_group *g, size_t i)
{
    struct sim_device *d = &g->devs[i];
    const char *id = sim_group_id(g, i);
    lgw_device_add(g->sim->inst, id, g->model->name);
    /* A simulated device answers at once: report it online straight away. */
    lgw_device_set_online(g->sim->inst, id, true);
    d->flags |= SIM_DEV_PRESENT | SIM_DEV_ONLINE;
}

/* Parses the decimal index after a prefix: digits only, no leading zeros. */
static bool parse_index(const char *s, size_t *out)
{
    size_t v = 0, n = 0;
    if (s[0] == '0' && s[1] != '\0')
        return false;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 10)
            return false;
        v = v * 10 + (size_t)(s[n] - '0');
    }
    *out = v;
    return n > 0;
}

struct sim_device *sim_find(struct sim *sim, const char *id, struct sim_group **group)
{
    if (!id)
        return NULL;
    for (size_t k = 0; k < sim->ngroups; k++) {
        struct sim_group *g = &sim->groups[k];
        size_t plen = strlen(g->conf.prefix), index;
        if (strncmp(id, g->conf.prefix, plen) != 0)
            continue;
        /* Prefixes never start one another (sim_config.c), so this is the only candidate. */
        if (!parse_index(id + plen, &index) || index >= (size_t)g->conf.count)
            return NULL;
        *group = g;
        return &g->devs[index];
    }
    return NULL;
}
