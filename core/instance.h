/*
 * A plugin instance (lgw_instance_t): one conf.d file, one loaded plugin,
 * its instance data, and every host resource it owns (timers, watches,
 * workers, pool jobs, models, outstanding requests) so nothing outlives it.
 *
 * Life cycle, all on the loop thread:
 *   gw_instance_load()    dlopen + ABI negotiation + registration (loader.c)
 *   gw_instance_create()  plugin create with the settings (errors → gw_errors_t)
 *   gw_instance_start()   plugin start; registered with the hub
 *   gw_instance_stop()    plugin stop, queued messages drained, requests
 *                         answered, hub told, pool jobs waited for, then
 *                         destroy + dlclose; @p done runs when all is over
 *   gw_instance_destroy() for instances never started (check-config, errors)
 *
 * The struct is reference counted because messages queued from other threads
 * (reports, device events) may still point at it after it is destroyed; such
 * messages are dropped on delivery (state GW_INST_DEAD).
 */
#ifndef LINKGW_CORE_INSTANCE_H
#define LINKGW_CORE_INSTANCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <linkgw/host.h>

#include "cfgdoc.h"
#include "driver.h"
#include "host.h"
#include "list.h"

typedef enum gw_inst_state {
    GW_INST_LOADED = 0,   /* plugin loaded, no instance data yet */
    GW_INST_CREATED,      /* create succeeded */
    GW_INST_RUNNING,      /* start called (reports accepted) */
    GW_INST_STOPPING,     /* stop callback running (reports still accepted) */
    GW_INST_STOPPED,      /* stop returned: late reports get LGW_ESTATE */
    GW_INST_DEAD          /* destroyed */
} gw_inst_state_t;

typedef struct gw_hub_inst gw_hub_inst_t;

struct lgw_instance {
    gw_host_t *host;
    char *name;         /* conf.d file name without .conf */
    char *log_comp;     /* "plugin <name>" for log lines */
    char *plugin_path;  /* the .so */
    void *dl;           /* dlopen handle */
    lgw_driver_t drv;
    void *data;         /* what create returned */
    bool created;
    bool started;       /* start succeeded (for the "stopped" log line) */

    _Atomic int state;  /* gw_inst_state_t */
    _Atomic int refs;

    gw_list_t link;     /* in host->instances */
    gw_list_t timers, watches, workers, jobs, models, requests;
    size_t njobs;       /* pool jobs not yet finished */
    gw_hub_inst_t *hub; /* the hub's record while running */

    void (*stopped_cb)(lgw_instance_t *inst, void *data);
    void *stopped_data;
};

/**
 * Loads the plugin at @p plugin_path for a new instance named @p name.
 * Errors are appended to @p errs prefixed by @p file / @p line (the conf.d
 * file and the line of its `plugin` setting). Returns NULL on error.
 */
lgw_instance_t *gw_instance_load(gw_host_t *host, const char *name, const char *plugin_path, gw_errors_t *errs,
                                 const char *file, int line);
/**
 * Runs the plugin's create with @p settings (a group of @p doc). Errors the
 * plugin records go to the document's error list. Returns LGW_OK, or an error
 * (also when the plugin recorded config errors but returned LGW_OK).
 */
int gw_instance_create(lgw_instance_t *inst, gw_cfgdoc_t *doc, const lgw_config_t *settings);
/** Starts a created instance. On failure the instance is destroyed (not freed). */
int gw_instance_start(lgw_instance_t *inst);
/**
 * Stops a running instance asynchronously; @p done (may be NULL) runs once
 * the instance is destroyed, then the instance is released.
 */
void gw_instance_stop(lgw_instance_t *inst, void (*done)(lgw_instance_t *inst, void *data), void *data);
/** Destroys and releases an instance that is not running (loaded or created). */
void gw_instance_destroy(lgw_instance_t *inst);

/** Current state. Any thread. */
static inline gw_inst_state_t gw_instance_state(const lgw_instance_t *inst)
{
    return (gw_inst_state_t)atomic_load(&((lgw_instance_t *)inst)->state);
}
/** True while the plugin may report (running or inside stop). Any thread. */
static inline bool gw_instance_accepts(const lgw_instance_t *inst)
{
    gw_inst_state_t s = gw_instance_state(inst);
    return s == GW_INST_CREATED || s == GW_INST_RUNNING || s == GW_INST_STOPPING;
}
void gw_instance_ref(lgw_instance_t *inst);
void gw_instance_unref(lgw_instance_t *inst);

/* Called by pool jobs (host_work.c) when a job's after has run. */
void gw_instance_job_finished(lgw_instance_t *inst);

/* Per-resource cleanup of leftovers at destroy (host_*.c, model.c, request.c). */
void gw_timers_free_all(lgw_instance_t *inst);
void gw_watches_free_all(lgw_instance_t *inst);
void gw_workers_free_all(lgw_instance_t *inst);
void gw_jobs_cancel_all(lgw_instance_t *inst);
void gw_models_free_all(lgw_instance_t *inst);
void gw_requests_stop(lgw_instance_t *inst);     /* answer unanswered ones */
void gw_requests_free_all(lgw_instance_t *inst); /* free every remaining one */

#endif
