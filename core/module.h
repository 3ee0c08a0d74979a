/*
 * Core modules: the seam through which the layers above the hub (cloud link,
 * store, TSL mapping, lifecycle …) join the daemon without daemon.c knowing
 * them. A module lives in core/<name>/, is compiled into linkgw_core, and
 * declares itself once with GW_MODULE():
 *
 *   static int cloud_init(void)  { return gw_conf_register_section("cloud", cloud_conf, NULL); }
 *   static int cloud_start(gw_host_t *host, const gw_main_conf_t *mc) {
 *       return gw_hub_add_consumer(host->hub, &cloud_consumer, NULL);
 *   }
 *   static void cloud_stop(gw_host_t *host, void (*done)(void *arg), void *arg) { …; done(arg); }
 *   GW_MODULE(cloud, 100, cloud_init, cloud_start, cloud_stop)
 *
 * Order of calls (all on the main/loop thread):
 *   init   — every run (daemon and --check-config), before any configuration
 *            is read: register configuration sections/keys here;
 *   start  — daemon only, after the main file was loaded and before the
 *            conf.d instances start: add hub consumers, open handles on
 *            host->loop;
 *   stop   — daemon only, at shutdown after every instance stopped (so the
 *            module has seen all final device offline events): flush, close
 *            handles, free; call done(arg) exactly once when finished (it may
 *            be later, from a loop callback). The host is closed afterwards.
 * Modules run in ascending priority (ties: registration order); stop runs in
 * reverse order. Any member may be NULL. A start failure is fatal (exit 3).
 */
#ifndef LINKGW_CORE_MODULE_H
#define LINKGW_CORE_MODULE_H

#include "conf.h"
#include "host.h"

typedef struct gw_module {
    const char *name;
    int priority;
    int (*init)(void);
    int (*start)(gw_host_t *host, const gw_main_conf_t *mc);
    void (*stop)(gw_host_t *host, void (*done)(void *arg), void *arg);
    struct gw_module *next; /* registry link */
} gw_module_t;

/** Adds @p m to the registry (called by GW_MODULE at load time). */
void gw_module_register(gw_module_t *m);

/** Declares a module; see the comment on top. */
#define GW_MODULE(name_, prio_, init_, start_, stop_)                                         \
    static gw_module_t gw_module_##name_ = {#name_, prio_, init_, start_, stop_, NULL};       \
    __attribute__((constructor)) static void gw_module_register_##name_(void)                 \
    {                                                                                          \
        gw_module_register(&gw_module_##name_);                                               \
    }

/* ---- used by the daemon ----------------------------------------------------- */

/** Runs every init (once per process). Returns LGW_OK or the first error. */
int gw_modules_init(void);
/** Runs every start; on failure the modules already started are stopped synchronously-ish. */
int gw_modules_start(gw_host_t *host, const gw_main_conf_t *mc);
/** Runs every stop in reverse order, one after another; @p done runs after the last. */
void gw_modules_stop(gw_host_t *host, void (*done)(void *arg), void *arg);

#endif
