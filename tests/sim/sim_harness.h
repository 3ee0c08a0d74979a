/*
 * Helpers of the sim plugin tests: an in-process linkgw host on its own
 * loop, creating sim instances from settings text, running the loop until a
 * condition holds (with a generous safety limit — never a timing assertion),
 * a hub consumer that records what the sim reported, and synchronous
 * wrappers around the hub's downlink requests.
 */
#ifndef LINKGW_TEST_SIM_HARNESS_H
#define LINKGW_TEST_SIM_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cfgdoc.h"
#include "host.h"
#include "hub.h"
#include "instance.h"

#define SH_MAX_DEVICES 64

/** What the recording consumer saw about one device. */
typedef struct sh_dev {
    char instance[32];
    char id[48];
    int added, online, offline, props, events;
    double last_event_value; /* the over_temperature output */
} sh_dev_t;

/** Online/offline changes of one instance, in order: "light-0-light-2+…" ('+' online, '-' offline). */
typedef struct sh_trail {
    char instance[32];
    char text[2048];
} sh_trail_t;

/** The test host. */
typedef struct sh {
    uv_loop_t loop;
    gw_host_t host;
    sh_dev_t devs[SH_MAX_DEVICES];
    size_t ndevs;
    int added, online, offline, props, events, started, stopped;
    sh_trail_t trails[4];
    bool totals_only;  /**< set for big tests: count, but keep no per-device records or trails */
} sh_t;

void sh_open(sh_t *s);
/** Closes the host and the loop; every instance must be stopped or destroyed. */
void sh_close(sh_t *s);

/**
 * Loads the in-tree sim plugin as instance @p name and runs create with
 * @p settings (the inside of the `settings` group: its first line is line 3
 * of the document "sim-test.conf"). Errors go to @p errs. Returns the created
 * instance or NULL (create failed; it is destroyed then).
 */
lgw_instance_t *sh_create(sh_t *s, const char *name, const char *settings, gw_errors_t *errs);
/** sh_create() + start; fails the test on any error. */
lgw_instance_t *sh_start(sh_t *s, const char *name, const char *settings);
/** Stops a running instance and waits until it is destroyed. */
void sh_stop(sh_t *s, lgw_instance_t *inst);

/** Runs the loop until @p cond(s, arg) holds; fails the test after 20 s. */
void sh_run_until(sh_t *s, bool (*cond)(sh_t *s, void *arg), void *arg);
/** Runs the loop for about @p ms ms (lets things that must NOT happen have their chance). */
void sh_run_for(sh_t *s, uint64_t ms);

/** The record of device @p id of @p instance, or NULL if never seen. */
sh_dev_t *sh_dev(sh_t *s, const char *instance, const char *id);
/** The online/offline trail of @p instance ("" if none). */
const char *sh_trail(sh_t *s, const char *instance);
/** Last value of point @p point of a device as the hub holds it, or NULL. */
const lgw_value_t *sh_value(sh_t *s, const char *instance, const char *id, const char *point);
/** sh_value() as a double (fails the test if absent or not a number). */
double sh_number(sh_t *s, const char *instance, const char *id, const char *point);

/** Outcome of a downlink request. */
typedef struct sh_reply {
    bool done;
    int code;
    char message[128];
    lgw_value_t *output; /* copy; freed by sh_reply_free */
} sh_reply_t;
void sh_reply_free(sh_reply_t *r);
/** Writes @p values (taken over and freed) and waits for the reply. */
void sh_write(sh_t *s, const char *instance, const char *id, lgw_value_t *values, sh_reply_t *r);
/** Reads the point @p point and waits for the reply. */
void sh_read(sh_t *s, const char *instance, const char *id, const char *point, sh_reply_t *r);
/** Invokes @p service without input and waits for the reply. */
void sh_invoke(sh_t *s, const char *instance, const char *id, const char *service, sh_reply_t *r);
/** Removes the device and waits for the reply. */
void sh_remove(sh_t *s, const char *instance, const char *id, sh_reply_t *r);

/** True when @p errs holds a message containing @p needle. */
bool sh_has_error(const gw_errors_t *errs, const char *needle);

#endif
