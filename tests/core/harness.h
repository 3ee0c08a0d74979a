/*
 * Shared helpers of the core tests: an in-process host on its own loop,
 * temporary directories/files, loading the test plugins, running the loop
 * until a condition holds (with a generous safety limit, never a timing
 * assertion), and a hub consumer that records what it sees.
 */
#ifndef LINKGW_TEST_HARNESS_H
#define LINKGW_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cfgdoc.h"
#include "host.h"
#include "hub.h"
#include "instance.h"

typedef struct th {
    uv_loop_t loop;
    gw_host_t host;
    char dir[256];      /* temporary directory, removed by th_close */
} th_t;

void th_open(th_t *t);
/** Closes the host and loop (all instances must be gone) and removes the directory. */
void th_close(th_t *t);
/** Writes @p text to <dir>/<name>; returns the path (static buffer rotation of 4). */
const char *th_write(th_t *t, const char *name, const char *text);
/** Path of a test plugin, e.g. th_plugin("test_good"). */
const char *th_plugin(const char *name);
/**
 * Loads test plugin @p plugin as instance @p name and runs create with
 * @p settings_text (the inside of a settings group). Errors are appended to
 * @p errs. Returns the created instance or NULL.
 */
lgw_instance_t *th_create(th_t *t, const char *name, const char *plugin, const char *settings_text,
                          gw_errors_t *errs);
/** Runs the loop until @p cond(arg) is true; fails the test after 20 s. */
void th_run_until(th_t *t, bool (*cond)(void *arg), void *arg);
/** Runs the loop for about @p ms milliseconds (to let things that must NOT happen have their chance). */
void th_run_for(th_t *t, uint64_t ms);

/** A hub consumer that counts what it sees. */
typedef struct rec {
    int started, stopped, added, online, offline, gone, firmware, props, events, values;
    int64_t last_seq;   /* last "seq" value seen */
    bool seq_in_order;  /* every "seq" was last_seq + 1 */
} rec_t;
extern const gw_hub_consumer_t rec_consumer;
void rec_init(rec_t *r);

bool th_has_error(const gw_errors_t *e, const char *needle);

#endif
