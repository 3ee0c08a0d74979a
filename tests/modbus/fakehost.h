/*
 * A minimal stand-in for the parts of the linkgw host that the core has not
 * landed yet (event loop, timers, workers, device/report/request plumbing),
 * so the Modbus plugin can be tested end to end against a real simulator
 * now. Values and config accessors are the real core's (linkgw_core).
 *
 * Every host function defined here is a *weak* alias: as soon as the core
 * provides the real one, the real one wins at link time and fh_available()
 * reports that the stand-in is no longer in charge (the integration tests
 * then skip, asking to be ported to the core's own test host).
 *
 * Threading mirrors the SDK contract: the test's main thread is the "loop
 * thread" and only runs callbacks inside fh_run*(); workers are threads.
 */
#ifndef FAKEHOST_H
#define FAKEHOST_H

#include <stdbool.h>
#include <linkgw/linkgw.h>

#include "cfgdoc.h"

typedef struct fh_plugin {
    void *dl;
    lgw_driver_t *drv;
    lgw_instance_t *inst;
    void *data;
    bool created, started;
    gw_cfgdoc_t doc;
    gw_errors_t errs;
} fh_plugin_t;

/** True when this stand-in implements the host; else @p why says why not. */
bool fh_available(const char **why);

/** dlopen()s plugin @p name (".so" appended) from $LINKGW_TEST_PLUGIN_DIR and registers it. */
fh_plugin_t *fh_load(const char *name, const char *instance_name);
/**
 * Parses @p text as conf.d file @p path and runs the create callback with its
 * `settings` group. Returns the callback's result; errors are in p->errs.
 */
int fh_create(fh_plugin_t *p, const char *path, const char *text);
int fh_start(fh_plugin_t *p);
/** Calls the remove callback and waits for completion; returns the reply code. */
int fh_remove(fh_plugin_t *p, const char *dev);
/** Calls the discovery callback. */
int fh_discovery(fh_plugin_t *p, bool enable);
/** Stops (if started), destroys (if created), unloads and frees. */
void fh_unload(fh_plugin_t *p);

/** Runs the loop for @p ms milliseconds. */
void fh_run(int ms);
/** Runs the loop until @p pred(arg) holds or @p timeout_ms passes; returns pred's last value. */
bool fh_run_until(bool (*pred)(void *), void *arg, int timeout_ms);

/* ---- what the plugin reported (thread-safe) ---- */

/** Copy of the last value of @p point of @p dev (free it), or NULL. */
lgw_value_t *fh_last(const char *dev, const char *point);
/** Number of reports committed for @p dev. */
long fh_reports(const char *dev);
/** 1 online, 0 offline (added, not online), -1 never added. */
int fh_online(const char *dev);
/** Model the device was added with, or NULL. */
const char *fh_model(const char *dev);
/** Firmware reported for @p dev, or NULL. */
const char *fh_firmware(const char *dev);
/** Number of times @p dev was reported offline. */
int fh_offline_count(const char *dev);
/** Point @p point declared in model @p model: its type, or 0. */
lgw_type_t fh_model_point(const char *model, const char *point, int *access);
/**
 * Benchmark mode: reports only count their values (no storage), so what is
 * measured is the plugin, not this stand-in. fh_sink_counts() reads the totals.
 */
void fh_set_sink(bool on);
void fh_sink_counts(long *values, long *reports);
/** Forget every device and report (between tests). */
void fh_reset(void);

/**
 * Sends a write (@p service NULL; @p values a struct, taken) or a service
 * invocation to @p dev and runs the loop until it completes (10 s max).
 * Returns the reply code (or the callback's negative result) and copies the
 * message to @p msg.
 */
int fh_request(fh_plugin_t *p, const char *dev, const char *service, lgw_value_t *values, char *msg, size_t cap);

#endif
