/*
 * sim — plugin entry points and the instance lifecycle.
 *
 * Start reading here. A linkgw plugin exports two functions: lgw_plugin_abi()
 * (defined by LGW_PLUGIN_DEFINE_ABI) and lgw_plugin_register(), which
 * registers the callbacks below. The host then, for each conf.d file naming
 * this plugin:
 *
 *   create  → read and validate settings, declare device models
 *   start   → allocate devices, start the timers, announce devices
 *   …         timers report values; requests and discovery arrive
 *   stop    → stop the timers, complete pending requests
 *   destroy → free everything
 *
 * `linkgw --check-config` runs create and destroy only.
 */
#include <stdlib.h>

#include "sim_model.h"

/* Frees everything an instance owns; safe at any stage after calloc. */
static void sim_free(struct sim *sim)
{
    sim_replies_free(sim);
    sim_discovery_free(sim);
    for (size_t k = 0; k < sim->ngroups; k++)
        sim_group_free(&sim->groups[k]);
    free(sim->groups);
    free(sim->conf.trace_file);
    free(sim);
}

static int sim_create(lgw_instance_t *inst, const lgw_config_t *settings, void **data)
{
    struct sim *sim = calloc(1, sizeof *sim);
    if (!sim)
        return LGW_ENOMEM;
    sim->inst = inst;

    int rc = sim_config_read(sim, settings);
    if (rc == LGW_OK)
        rc = sim_models_declare(inst); /* in create, so --check-config can check mappings */
    if (rc != LGW_OK) {
        sim_free(sim);
        return rc;
    }
    sim_rng_seed(&sim->rng, sim->conf.seed);
    *data = sim;
    return LGW_OK;
}

static int sim_start(void *data)
{
    struct sim *sim = data;
    size_t total = 0;
    int rc = sim_replies_init(sim);
    if (rc == LGW_OK)
        rc = sim_discovery_start(sim);
    for (size_t k = 0; k < sim->ngroups && rc == LGW_OK; k++)
        if (!sim->groups[k].devs)
            rc = sim_group_init(&sim->groups[k]);
    if (rc != LGW_OK) {
        lgw_log(sim->inst, LGW_LOG_ERROR, "cannot start: %s", lgw_strerror(rc));
        return rc;
    }
    sim->running = true;
    sim_trace_open(sim);

    /*
     * Announce the devices: at the first start every device when they appear
     * at start; at a restart the devices that were known before. Devices the
     * host removed stay away until a discovery scan finds them.
     */
    bool first = !sim->started_before;
    sim->started_before = true;
    for (size_t k = 0; k < sim->ngroups; k++) {
        struct sim_group *g = &sim->groups[k];
        for (size_t i = 0; i < (size_t)g->conf.count; i++) {
            bool known = g->devs[i].flags & SIM_DEV_PRESENT;
            if (known || (first && sim->conf.appear == SIM_APPEAR_START)) {
                sim_device_appear(g, i);
                total++;
            }
        }
        rc = sim_group_start(g);
        if (rc != LGW_OK)
            return rc;
    }
    lgw_log(sim->inst, LGW_LOG_INFO, "started: %zu groups, %zu devices announced%s", sim->ngroups, total,
            sim->conf.appear == SIM_APPEAR_DISCOVERY ? " (the others appear through discovery)" : "");
    return LGW_OK;
}

static void sim_stop(void *data)
{
    struct sim *sim = data;
    sim->running = false;
    for (size_t k = 0; k < sim->ngroups; k++)
        sim_group_stop(&sim->groups[k]);
    sim_discovery_stop(sim);
    sim_replies_flush(sim); /* every accepted request completes exactly once */
    sim_ota_stop(sim);
    sim_trace_close(sim);
}

static void sim_destroy(void *data)
{
    sim_free(data);
}

LGW_PLUGIN_DEFINE_ABI()

LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv)
{
    lgw_driver_set_info(drv, "1.0.0", "simulated thermometers, lights and power meters");
    lgw_driver_set_create(drv, sim_create);
    lgw_driver_set_start(drv, sim_start);
    lgw_driver_set_stop(drv, sim_stop);
    lgw_driver_set_destroy(drv, sim_destroy);
    lgw_driver_set_discovery(drv, sim_discovery);
    lgw_driver_set_write(drv, sim_write);
    lgw_driver_set_read(drv, sim_read);
    lgw_driver_set_invoke(drv, sim_invoke);
    lgw_driver_set_remove(drv, sim_remove);
    lgw_driver_set_ota(drv, sim_ota); /* ABI 1.1 */
    lgw_driver_set_message(drv, sim_message);
    return LGW_OK;
}
