/*
 * Test host for the Modbus plugin: the real linkgw core (loader, instance
 * life cycle, libuv loop, workers, timers, device hub) in-process, plus a hub
 * consumer that records what the plugin reported, per device. Used by
 * tests/modbus/test_host.c and bench/modbus/bench_modbus.c.
 *
 * The test's main thread is the loop thread: callbacks only run inside
 * mbh_run*() and the request helpers.
 */
#ifndef MBH_H
#define MBH_H

#include <stdbool.h>
#include <stddef.h>
#include <linkgw/linkgw.h>

#include "cfgdoc.h"

typedef struct mbh_plugin {
    lgw_instance_t *inst;
    char name[64];
    bool started;
    gw_errors_t errs;
} mbh_plugin_t;

/** Prepares an instance named @p instance_name of plugin @p name (".so" in $LINKGW_TEST_PLUGIN_DIR). */
mbh_plugin_t *mbh_load(const char *name, const char *instance_name);
/**
 * Loads the plugin and runs its create callback with the `settings` group of
 * @p text, parsed as conf.d file @p path. Returns LGW_OK or an error; the
 * file:line errors are in p->errs.
 */
int mbh_create(mbh_plugin_t *p, const char *path, const char *text);
int mbh_start(mbh_plugin_t *p);
/** Stops (if started) or destroys the instance, forgets what it reported, frees @p p. */
void mbh_unload(mbh_plugin_t *p);
/** Releases the host and loop (end of the program). */
void mbh_shutdown(void);

/** Runs the loop for @p ms milliseconds. */
void mbh_run(int ms);
/** Runs the loop until @p pred(arg) holds or @p timeout_ms passes; returns pred's last value. */
bool mbh_run_until(bool (*pred)(void *), void *arg, int timeout_ms);

/* ---- what the plugin reported ---- */

/** Copy of the last value of @p point of @p dev (free it), or NULL. */
lgw_value_t *mbh_last(const char *dev, const char *point);
/** Number of property reports of @p dev. */
long mbh_reports(const char *dev);
/** 1 online, 0 added but not online, -1 never added. */
int mbh_online(const char *dev);
/** Model the device was added with, or NULL. */
const char *mbh_model(const char *dev);
/** Firmware reported for @p dev, or NULL. */
const char *mbh_firmware(const char *dev);
/** Number of times @p dev was reported offline (the hub reports changes only). */
int mbh_offline_count(const char *dev);
/** Type of point @p point in the model @p model declared by @p p (0 if none); its access in @p access. */
lgw_type_t mbh_model_point(mbh_plugin_t *p, const char *model, const char *point, int *access);
/**
 * Benchmark mode: the consumer only counts values and reports, so the
 * figures are the plugin's and the core's, not this recorder's.
 */
void mbh_set_sink(bool on);
void mbh_sink_counts(long *values, long *reports);

/* ---- downlink (through the hub, like the cloud would) ---- */

/** Writes (@p service NULL) or invokes @p service; @p values is taken. Returns the reply code. */
int mbh_request(mbh_plugin_t *p, const char *dev, const char *service, lgw_value_t *values, char *msg, size_t cap);
/** Removes @p dev; returns the reply code. */
int mbh_remove(mbh_plugin_t *p, const char *dev);
/** Starts or stops discovery. */
int mbh_discovery(mbh_plugin_t *p, bool enable);

#endif
