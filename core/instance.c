/* Plugin instance life cycle; see instance.h. */
#include "instance.h"
#include "hub.h"
#include "log.h"

#include <dlfcn.h>
#include <stdlib.h>

void gw_instance_free_(lgw_instance_t *inst); /* loader.c */

void gw_instance_ref(lgw_instance_t *inst) { atomic_fetch_add(&inst->refs, 1); }

void gw_instance_unref(lgw_instance_t *inst)
{
    if (inst && atomic_fetch_sub(&inst->refs, 1) == 1)
        gw_instance_free_(inst);
}

int gw_instance_create(lgw_instance_t *inst, gw_cfgdoc_t *doc, const lgw_config_t *settings)
{
    int before = doc->nerrs;
    void *data = NULL;
    gw_cfgdoc_set_current(doc);
    int rc = inst->drv.create(inst, settings, &data);
    gw_cfgdoc_set_current(NULL);
    inst->data = data;
    inst->created = rc == LGW_OK || data != NULL;
    if (rc == LGW_OK && doc->nerrs > before)
        rc = LGW_EINVAL; /* errors recorded but create said OK: still invalid */
    if (rc != LGW_OK && doc->nerrs == before)
        gw_errors_add(doc->errs, doc->path, 0, "plugin %s failed to create instance '%s': %s", inst->plugin_path,
                      inst->name, lgw_strerror(rc));
    if (rc == LGW_OK)
        atomic_store(&inst->state, GW_INST_CREATED);
    return rc;
}

/* Destroy callback, leftover resources, dlclose, release. Loop thread. */
static void finish(lgw_instance_t *inst)
{
    gw_xq_drain(inst->host);
    gw_requests_stop(inst);
    if (inst->created && inst->drv.destroy)
        inst->drv.destroy(inst->data);
    inst->created = false;
    inst->data = NULL;
    atomic_store(&inst->state, GW_INST_DEAD);
    gw_workers_free_all(inst);
    gw_timers_free_all(inst);
    gw_watches_free_all(inst);
    gw_models_free_all(inst);
    gw_xq_drain(inst->host);
    gw_requests_free_all(inst);
    gw_list_remove(&inst->link);
    if (inst->started)
        GW_INFO(inst->log_comp, "instance stopped");
    if (inst->dl) {
        dlclose(inst->dl);
        inst->dl = NULL;
    }
    void (*cb)(lgw_instance_t *, void *) = inst->stopped_cb;
    inst->stopped_cb = NULL;
    if (cb)
        cb(inst, inst->stopped_data);
    gw_instance_unref(inst);
}

int gw_instance_start(lgw_instance_t *inst)
{
    gw_hub_instance_started(inst->host->hub, inst);
    atomic_store(&inst->state, GW_INST_RUNNING);
    int rc = inst->drv.start(inst->data);
    if (rc != LGW_OK) {
        GW_ERROR(inst->log_comp, "start failed: %s", lgw_strerror(rc));
        atomic_store(&inst->state, GW_INST_STOPPED);
        gw_xq_drain(inst->host);
        gw_hub_instance_stopped(inst->host->hub, inst);
        if (inst->njobs == 0)
            finish(inst);
        /* else: the last pool job's after finishes it */
        return rc;
    }
    inst->started = true;
    GW_INFO(inst->log_comp, "instance started (%s %s)", inst->plugin_path,
            inst->drv.version ? inst->drv.version : "");
    return LGW_OK;
}

void gw_instance_stop(lgw_instance_t *inst, void (*done)(lgw_instance_t *, void *), void *data)
{
    inst->stopped_cb = done;
    inst->stopped_data = data;
    atomic_store(&inst->state, GW_INST_STOPPING);
    inst->drv.stop(inst->data);
    atomic_store(&inst->state, GW_INST_STOPPED);
    gw_xq_drain(inst->host);           /* what the plugin sent before stop returned */
    gw_requests_stop(inst);
    gw_hub_instance_stopped(inst->host->hub, inst);
    gw_jobs_cancel_all(inst);
    if (inst->njobs == 0)
        finish(inst);
    else
        GW_INFO(inst->log_comp, "stopping: waiting for %zu running pool job(s)", inst->njobs);
}

void gw_instance_job_finished(lgw_instance_t *inst)
{
    inst->njobs--;
    gw_inst_state_t s = gw_instance_state(inst);
    if (inst->njobs == 0 && s == GW_INST_STOPPED)
        finish(inst);
}

void gw_instance_destroy(lgw_instance_t *inst)
{
    if (!inst)
        return;
    atomic_store(&inst->state, GW_INST_STOPPED);
    gw_jobs_cancel_all(inst);
    if (inst->njobs == 0)
        finish(inst);
}
