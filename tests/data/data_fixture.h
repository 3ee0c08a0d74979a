/*
 * Fixture of the data-path tests: a real broker with the Alink emulator
 * (tests/emu harness, free loopback port), the products of tests/data/models
 * (their TSL loaded into the emulator's registry), and the real `linkgw`
 * daemon with sim instances mapped onto them, started as a child process.
 * Everything lives in a temporary directory removed at the end; the daemon's
 * log is kept there (printed when a test fails).
 */
#ifndef DATA_FIXTURE_H
#define DATA_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "emu_harness.h"

#define DF_GW_PK "a1DGateway"
#define DF_GW_DN "gw-data-1"
#define DF_GW_DS "0123456789abcdef0123456789abcdef"

typedef struct df {
    emu_broker_t b;
    char dir[256];       /* config, models, state, log */
    char log[300];
    char sock[300];      /* control socket */
    pid_t gw;
    char log_level[16];  /* "" = info */
    bool no_cloud;       /* write linkgw.conf without the cloud section (no gateway, no data layer) */
} df_t;

/** Starts the broker (registry: gateway + the four products, sub-devices pre-registered). 0 on success. */
int df_start_broker(df_t *f);
/** Same, with more devices in the registry (@p extra_devices: array of {productKey, deviceName[, deviceSecret]}, stolen). */
int df_start_broker_ex(df_t *f, json_t *extra_devices);
/**
 * Writes linkgw.conf (with @p main_extra appended, e.g. "data = { … };") and
 * conf.d/{@p confs[i].name}.conf, then starts linkgw. 0 on success.
 */
typedef struct df_conf {
    const char *name, *text;
} df_conf_t;
int df_start_gateway(df_t *f, const char *main_extra, const df_conf_t *confs, size_t n);
/** Starts linkgw again with the files already written. */
int df_restart_gateway(df_t *f);
/** SIGTERM and wait; returns the exit status (or -1 after SIGKILL). */
int df_stop_gateway(df_t *f);
/** SIGKILL and wait. */
void df_kill_gateway(df_t *f);
/** Stops the broker (SIGTERM; the emulator saves its state). */
void df_broker_stop(df_t *f);
/** Starts the broker again on the SAME port and state (the daemon reconnects to it). 0 on success. */
int df_broker_start_again(df_t *f);
/** Stops everything and removes the directories. */
void df_cleanup(df_t *f);

/** The emulator's record of device pk/dn (new reference) or NULL. */
json_t *df_device(df_t *f, const char *pk, const char *dn);
/** Latest value of property @p id of pk/dn as the emulator stored it (new reference) or NULL. */
json_t *df_property(df_t *f, const char *pk, const char *dn, const char *id);
/** Runs `alink-emu ARGS…` and returns its parsed stdout (new reference) or NULL. */
json_t *df_cli(df_t *f, const char *const *args);
/** `linkgwctl`-style request on the control socket; the answer (new reference) or NULL. */
json_t *df_ctl(df_t *f, const char *request_json);
/** Number of lines of the daemon's log containing @p needle. */
int df_log_count(df_t *f, const char *needle);
/** Prints the daemon's log to stderr (on failure). */
void df_dump_log(df_t *f);
/** Polls @p cond every 100 ms until true or @p timeout_ms passed. */
bool df_wait(df_t *f, bool (*cond)(df_t *f, void *arg), void *arg, int timeout_ms);
/** Monotonic milliseconds. */
long long df_now_ms(void);

#endif
