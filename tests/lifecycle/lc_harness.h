/*
 * Harness of the lifecycle end-to-end tests: a private directory with the
 * emulator's registry and state, linkgw.conf (cloud + tsl sections), a conf.d
 * sim instance with a `models` mapping, the daemon's state dir; the broker
 * (mosquitto + alink-emu plugin) on a free loopback port that stays the same
 * across broker restarts (so the daemon reconnects to it); the real `linkgw`
 * binary; `linkgwctl --json`. Child processes die with the test
 * (PR_SET_PDEATHSIG) and are stopped by lc_teardown() on failure too.
 */
#ifndef LC_HARNESS_H
#define LC_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "emu_harness.h"

#define LC_GW_PK "a1GwPK0001"
#define LC_GW_DN "gw01"
#define LC_SUB_PK "a1ThermoPK"

typedef struct lc {
    char dir[256];
    char conf[320], confd[320], state[320];
    emu_broker_t b;          /* port and dir for emu_cli()/emu_state() */
    pid_t gw_pid;
} lc_t;

/**
 * Creates the directory and starts the broker with a registry: gateway
 * a1GwPK0001/gw01 and product a1ThermoPK (dynamic registration on) with
 * @p npre pre-registered devices "thermo-0".."thermo-<npre-1>" without secret.
 * @p extra_devices: more JSON device objects (",{...}" appended) or NULL.
 */
int lc_setup(lc_t *t, int npre, const char *extra_devices);
/** When > 0 before lc_setup(): the emulator's per-gateway topology cap (default 2,000). */
extern int lc_topology_cap;
/** Appends @p text to linkgw.conf (e.g. a `gateway = { … };` section). */
int lc_append_conf(lc_t *t, const char *text);
/** Writes @p text to @p path (0 or -1). */
int lc_write_text(const char *path, const char *text);
/**
 * Replaces the emulator's registry with the test gateway plus product @p pk
 * (dynamic registration on, TSL from @p models_dir/@p pk.json) whose
 * @p device_names (NULL-terminated) are whitelisted, restarts the broker on
 * it, and points linkgw.conf's TSL models directory at @p models_dir.
 */
int lc_use_product(lc_t *t, const char *pk, const char *models_dir, const char *const *device_names);
/** Writes conf.d/sim.conf: @p sim_settings inside `settings = { … }`, @p keys after it (models/subdevice). */
int lc_write_instance(lc_t *t, const char *sim_settings, const char *keys);
int lc_broker_start(lc_t *t);
/** SIGTERM the broker; 0 when it exited cleanly. */
int lc_broker_stop(lc_t *t);
int lc_gw_start(lc_t *t);
/** SIGTERM the daemon and wait; returns its exit status (0 = clean, also no leaks under ASan) or -1. */
int lc_gw_stop(lc_t *t);
/** SIGKILL the daemon. */
void lc_gw_kill(lc_t *t);
/** SIGHUP the daemon (conf.d reload). */
void lc_gw_reload(lc_t *t);
/** Stops everything, removes the directory (kept when LC_KEEP is set). */
void lc_teardown(lc_t *t);

/** `linkgwctl --json ARGS…` (NULL-terminated); the answer or NULL; *rc gets the exit status. */
json_t *lc_ctl(lc_t *t, int *rc, ...);
/** The emulator's state object (devices, sessions, …), or NULL. */
json_t *lc_emu(lc_t *t);
/** Runs an alink-emu console command (NULL-terminated args); its exit status. */
int lc_emu_cmd(lc_t *t, ...);

/** Polls @p pred every 100 ms for up to @p timeout_ms; true once it holds. */
bool lc_wait(lc_t *t, bool (*pred)(lc_t *t, void *arg), void *arg, int timeout_ms);

/* ---- predicates and queries ---- */
/** Number of devices of product a1ThermoPK with a session via the gateway, in the emulator. */
int lc_emu_sessions(lc_t *t);
/** True when the emulator's device pk/dn has a session via the gateway. */
bool lc_emu_online(json_t *emu_state, const char *dn);
/** The emulator's gateway of a1ThermoPK/@p dn ("" when none). */
const char *lc_emu_gateway(json_t *emu_state, const char *dn);
/** The daemon's status object (linkgwctl status --json .status), or NULL (new reference). */
json_t *lc_status(lc_t *t);
/** lists.<name> of the status, or -1. */
long long lc_list_size(lc_t *t, const char *name);
/** counters.<name> of the status, or -1. */
long long lc_counter(lc_t *t, const char *name);
/** The daemon's entry for a1ThermoPK/@p dn from `devices`, or NULL (new reference). */
json_t *lc_device(lc_t *t, const char *dn);
/** True when the device entry's lists contain @p list. */
bool lc_in_list(json_t *dev, const char *list);

/* ready-made predicates: arg = (intptr_t) expected count */
bool lc_pred_sessions(lc_t *t, void *arg);
bool lc_pred_synced(lc_t *t, void *arg);

#endif
