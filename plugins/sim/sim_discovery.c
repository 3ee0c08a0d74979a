/*
 * sim — discovery scans and random online/offline flapping.
 *
 * Discovery: while a scan runs, a timer finds `discovery_batch` devices not
 * yet known to the host every `discovery_interval_ms` and reports them with
 * lgw_device_add(), as a real scan finds devices one after another. The scan
 * ends by itself once every device has been found. Devices that were never
 * added (appear = "discovery") and devices the host removed are found.
 *
 * Flapping: every `flapping.interval_ms` each known device goes offline with
 * probability `probability` (if online) or comes back with probability
 * `recovery` (if offline), drawn from the instance's seeded generator, so the
 * same seed flaps the same devices. Offline devices do not report.
 */
#include "sim_model.h"

/* One tick of a running scan: find up to discovery_batch absent devices. */
static void discovery_tick(lgw_timer_t *timer, void *data)
{
    struct sim *sim = data;
    int64_t found = 0;

    while (sim->scan_group < sim->ngroups && found < sim->conf.discovery_batch) {
        struct sim_group *g = &sim->groups[sim->scan_group];
        if (sim->scan_index >= (size_t)g->conf.count) {
            sim->scan_group++;
            sim->scan_index = 0;
            continue;
        }
        size_t i = sim->scan_index++;
        if (!(g->devs[i].flags & SIM_DEV_PRESENT)) {
            sim_device_appear(g, i);
            found++;
        }
    }
    if (sim->scan_group >= sim->ngroups) {
        lgw_timer_stop(timer);
        lgw_log(sim->inst, LGW_LOG_INFO, "discovery scan finished");
    }
}

int sim_discovery(void *data, bool enable)
{
    struct sim *sim = data;
    if (!sim->running)
        return LGW_ESTATE;
    if (!enable) {
        lgw_timer_stop(sim->discovery_timer);
        return LGW_OK;
    }
    /* (Re)start the scan from the first device. */
    sim->scan_group = 0;
    sim->scan_index = 0;
    uint64_t every = (uint64_t)sim->conf.discovery_interval_ms;
    return lgw_timer_start(sim->discovery_timer, every, every);
}

/* One flapping tick over every known device. */
static void flap_tick(lgw_timer_t *timer, void *data)
{
    (void)timer;
    struct sim *sim = data;
    for (size_t k = 0; k < sim->ngroups; k++) {
        struct sim_group *g = &sim->groups[k];
        for (size_t i = 0; i < (size_t)g->conf.count; i++) {
            struct sim_device *d = &g->devs[i];
            if (!(d->flags & SIM_DEV_PRESENT))
                continue;
            bool online = d->flags & SIM_DEV_ONLINE;
            double p = online ? sim->conf.flap_probability : sim->conf.flap_recovery;
            if (sim_rng_unit(&sim->rng) >= p)
                continue;
            d->flags ^= SIM_DEV_ONLINE;
            lgw_device_set_online(sim->inst, sim_group_id(g, i), !online);
        }
    }
}

int sim_discovery_start(struct sim *sim)
{
    /* Timers survive a stop, so a restarted instance reuses them. */
    if (!sim->discovery_timer)
        sim->discovery_timer = lgw_timer_new(sim->inst, discovery_tick, sim);
    if (!sim->discovery_timer)
        return LGW_ENOMEM;
    if (sim->conf.flap_probability <= 0.0)
        return LGW_OK;
    if (!sim->flap_timer)
        sim->flap_timer = lgw_timer_new(sim->inst, flap_tick, sim);
    if (!sim->flap_timer)
        return LGW_ENOMEM;
    uint64_t every = (uint64_t)sim->conf.flap_interval_ms;
    return lgw_timer_start(sim->flap_timer, every, every);
}

void sim_discovery_stop(struct sim *sim)
{
    if (sim->discovery_timer)
        lgw_timer_stop(sim->discovery_timer);
    if (sim->flap_timer)
        lgw_timer_stop(sim->flap_timer);
}

void sim_discovery_free(struct sim *sim)
{
    lgw_timer_free(sim->discovery_timer);
    lgw_timer_free(sim->flap_timer);
    sim->discovery_timer = sim->flap_timer = NULL;
}
