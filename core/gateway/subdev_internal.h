/*
 * Internals of the sub-device lifecycle manager, shared by subdev.c (the
 * device table, hub events, subdev.h, the control views) and subdev_cloud.c
 * (everything said to the platform: the on-connect sync, the paced pump of
 * sub/register, topo/add, batch_login/logout, topo/delete, and the cloud's
 * downstream notices).
 *
 * One sd_dev_t per sub-device the manager knows: every LocalDevList device
 * (present) and every LocalTopoList row (proxied), indexed by
 * "instance\n device_id" and by "pk/dn". RemovedDevList lives in the store
 * only. The pump is level-triggered: events change flags and kick it; it
 * compares what is with what should be and sends what is missing, within the
 * platform's limits, at most a few requests of each kind in flight.
 */
#ifndef GW_GATEWAY_SUBDEV_INTERNAL_H
#define GW_GATEWAY_SUBDEV_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "list.h"
#include "store/store.h"
#include "strmap.h"
#include "subdev_mgr.h"

enum { OP_REG = 1, OP_ADD = 2, OP_LOGIN = 4, OP_LOGOUT = 8 };

#define SD_LOGIN_WINDOW 5          /* logins of one device per minute (platform) */
#define SD_BATCH_LOGIN 50          /* devices per batch_login/logout */
#define SD_BATCH_TOPO 30           /* devices per topo/add, topo/delete, sub/register */
#define SD_LOGIN_INFLIGHT 4        /* batch_login requests in flight */
#define SD_WINDOW_MAX 256          /* batches remembered for the 1-second window (≥ login_rate) */

typedef struct sd_dev {
    gw_list_t link;
    char *lkey;                    /* "instance\ndevice_id" */
    char *instance, *device_id, *model;
    char pk[GW_STORE_NAME_MAX], dn[GW_STORE_NAME_MAX];
    char ckey[2 * GW_STORE_NAME_MAX];  /* "pk/dn", "" without identity */
    bool present;                  /* in LocalDevList (the hub has it) */
    bool online;                   /* online on the access network */
    bool proxied;                  /* in LocalTopoList */
    bool logged_in;                /* platform session through this gateway */
    bool disabled;                 /* disabled in the cloud */
    bool has_cred;                 /* a DeviceSecret is held */
    bool solo;                     /* send alone (a batch it was in failed without details) */
    int no_secret;                 /* sub/register refused for good with this code (0 = not) */
    unsigned inflight;             /* OP_* */
    uint64_t retry_at;             /* uv_now() ms before which nothing is retried */
    uint64_t logins[SD_LOGIN_WINDOW];  /* uv_now() of the last logins (ring) */
    unsigned nlogins;
    int64_t last_seen_ms;
    int last_code;                 /* last platform error for this device (0 = none) */
} sd_dev_t;

typedef struct sd_listener {
    gw_subdev_session_fn fn;       /* one of fn and deleted is set */
    gw_subdev_deleted_fn deleted;
    void *data;
} sd_listener_t;

struct gw_subdev {
    uv_loop_t *loop;
    gw_hub_t *hub;
    gw_cloud_t *cloud;             /* NULL once detached (closing) */
    gw_store_t *store;
    gw_list_t devs;
    gw_strmap_t by_local, by_cloud;
    size_t ndevs;
    sd_listener_t *listeners;
    size_t nlisteners;
    char **instances;              /* running plugin instances (for `linkgwctl plugins`) */
    size_t ninstances;

    bool connected, synced, topo_get_inflight;
    bool del_solo;                 /* topo/delete one device per request (a batch failed) */
    unsigned reg_inflight, add_inflight, login_inflight, logout_inflight, del_inflight;
    uint64_t del_retry_at, topo_get_retry_at;
    uint64_t add_paused_until;     /* 6400: the topology is full (until a device leaves it, or 60 s) */
    uint64_t login_paused_until;   /* 428: too many online (until a logout, or 60 s) */
    unsigned login_rate;           /* at most this many login entries in any 1000 ms window */
    struct {                       /* batches sent in the last second (sliding window) */
        uint64_t at[SD_WINDOW_MAX];
        unsigned n[SD_WINDOW_MAX];
        unsigned head, len, sum;
    } win;
    uv_timer_t kick_timer, retry_timer;
    bool closing;
    int handles_open;
    void (*close_done)(void *);
    void *close_data;

    struct {
        uint64_t connects, syncs, registered, topo_added, logins, login_batches, logouts, cloud_deleted,
            local_deleted, removed_sent, relogins_520, throttled;
        int last_cap_code;         /* 428 / 6400 */
        int64_t last_cap_ms;
        char last_cap_msg[160];
    } stats;
};

/* subdev.c */
sd_dev_t *sd_find_cloud(gw_subdev_t *m, const char *pk, const char *dn);
void sd_set_logged_in(gw_subdev_t *m, sd_dev_t *d, bool on);
/** Forgets @p d when it is in no list and nothing is in flight for it. */
void sd_maybe_drop(gw_subdev_t *m, sd_dev_t *d);
/** The cloud deleted @p d: out of LocalTopoList, removed from the access network. */
void sd_cloud_deleted(gw_subdev_t *m, sd_dev_t *d, const char *why);
int64_t sd_wall_ms(void);

/* subdev_cloud.c */
/** Registers the state listener and the downstream handlers. */
int sd_cloud_attach(gw_subdev_t *m);
/** Schedules a pump run on the next loop turn. */
void sd_kick(gw_subdev_t *m);
void sd_pump(gw_subdev_t *m);

#endif
