/*
 * Modbus TCP/RTU driver for linkgw: the SDK entry points. One instance = one
 * bus (a TCP endpoint or a serial line) with its register maps and slaves.
 * See mb_plugin.h for how the files divide the work and README.md for the
 * settings.
 */
#define _GNU_SOURCE
#include "mb_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LGW_PLUGIN_DEFINE_ABI()

static int mb_create(lgw_instance_t *inst, const lgw_config_t *settings, void **data)
{
    mb_inst_t *mi = calloc(1, sizeof *mi);
    if (!mi)
        return LGW_ENOMEM;
    mi->inst = inst;
    mi->bus.inst = inst;
    int rc = mb_config_read(mi, settings);
    if (rc == LGW_OK)
        rc = mb_models_declare(mi);
    if (rc != LGW_OK) {
        mb_config_free(mi);
        free(mi);
        return rc;
    }
    *data = mi;
    return LGW_OK;
}

static int mb_start(void *data)
{
    mb_inst_t *mi = data;
    int rc = mb_bus_open(&mi->bus);
    if (rc != LGW_OK)
        return rc;
    char name[64];
    snprintf(name, sizeof name, "modbus:%s", lgw_instance_name(mi->inst));
    mi->worker = lgw_worker_new(mi->inst, name);
    if (!mi->worker)
        return LGW_ENOMEM;
    mi->running = true;
    for (mb_device_t *d = mi->devices; d; d = d->next)
        if ((rc = mb_device_attach(mi, d)) != LGW_OK)
            return rc;
    return mb_poll_start(mi);
}

static void mb_stop(void *data)
{
    mb_inst_t *mi = data;
    mi->running = false;
    mi->scanning = false;
    mb_poll_stop(mi);
    if (mi->worker) {
        lgw_worker_free(mi->worker); /* joins; queued jobs' `after` see LGW_ECANCELED */
        mi->worker = NULL;
    }
    mb_bus_close(&mi->bus);
    if (mi->overruns)
        lgw_log(mi->inst, LGW_LOG_INFO, "%llu polls skipped because the bus was still busy with the previous one",
                (unsigned long long)mi->overruns);
    mi->overruns = 0;
}

static void mb_destroy(void *data)
{
    mb_inst_t *mi = data;
    if (!mi)
        return;
    mb_stop(mi); /* idempotent; covers a start that failed half-way */
    mb_config_free(mi);
    free(mi);
}

LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv)
{
    lgw_driver_set_info(drv, "0.1.0", "Modbus TCP and RTU (libmodbus " LIBMODBUS_VERSION_STRING ")");
    lgw_driver_set_create(drv, mb_create);
    lgw_driver_set_start(drv, mb_start);
    lgw_driver_set_stop(drv, mb_stop);
    lgw_driver_set_destroy(drv, mb_destroy);
    lgw_driver_set_write(drv, mb_write);
    lgw_driver_set_invoke(drv, mb_invoke);
    lgw_driver_set_remove(drv, mb_remove);
    lgw_driver_set_discovery(drv, mb_discovery);
    return LGW_OK;
}
