/*
 * sim — polling groups: device ids, the one report timer per group, and the
 * periodic reports.
 *
 * The rule every driver should follow: one timer per polling group, never one
 * per device or per point. A tick of the group's timer walks the group's
 * device array and sends one report per device (all its points at once).
 * Offline or absent devices are skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_model.h"

int sim_group_init(struct sim_group *g)
{
    size_t n = (size_t)g->conf.count;
    g->devs = calloc(n, sizeof *g->devs);
    g->ids = malloc(n * SIM_ID_MAX);
    if (!g->devs || !g->ids)
        return LGW_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        snprintf(g->ids + i * SIM_ID_MAX, SIM_ID_MAX, "%s%u", g->conf.prefix, (unsigned)i);
        g->model->init(g, &g->devs[i]);
    }
    return LGW_OK;
}

void sim_group_free(struct sim_group *g)
{
    lgw_timer_free(g->timer);
    g->timer = NULL;
    free(g->devs);
    free(g->ids);
    g->devs = NULL;
    g->ids = NULL;
}

/* The group's timer: advance and report every online device. */
static void group_tick(lgw_timer_t *timer, void *data)
{
    (void)timer;
    struct sim_group *g = data;
    uint64_t now = lgw_monotonic_ms();
    double dt_s = (double)(now - g->last_tick_ms) / 1000.0;
    g->last_tick_ms = now;

    for (size_t i = 0; i < (size_t)g->conf.count; i++) {
        struct sim_device *d = &g->devs[i];
        if ((d->flags & (SIM_DEV_PRESENT | SIM_DEV_ONLINE)) != (SIM_DEV_PRESENT | SIM_DEV_ONLINE))
            continue;
        const char *id = sim_group_id(g, i);
        g->model->advance(g, d, id, dt_s);
        g->model->report(g, d, id);
    }
}

int sim_group_start(struct sim_group *g)
{
    if (!g->timer)
        g->timer = lgw_timer_new(g->sim->inst, group_tick, g);
    if (!g->timer)
        return LGW_ENOMEM;
    g->last_tick_ms = lgw_monotonic_ms();
    uint64_t every = (uint64_t)g->conf.interval_ms;
    return lgw_timer_start(g->timer, every, every);
}

void sim_group_stop(struct sim_group *g)
{
    if (g->timer)
        lgw_timer_stop(g->timer);
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
