/*
 * Private state of the data layer (data.h), shared by data.c, uplink.c,
 * uplink_send.c, downlink.c and data_journal.c. Loop thread only.
 */
#ifndef GW_GATEWAY_DATA_INTERNAL_H
#define GW_GATEWAY_DATA_INTERNAL_H

#include "data.h"
#include "list.h"
#include "log.h"
#include "store/journal.h"
#include "store/wal.h"
#include "strmap.h"
#include "tsl_uplink.h"

#define DATA_LOG "data"

/*
 * What cloud handlers and listeners get as their data: gw_cloud and the
 * sub-device manager cannot unregister them and outlive the data layer, so
 * they reach it through this cell, which gw_data_close() empties. Cells stay
 * allocated (reachable from a global list) for the life of the process.
 */
typedef struct data_ref {
    struct data_ref *next;
    gw_data_t *d;
} data_ref_t;

/** What the data layer remembers about one hub device. */
typedef struct data_dev {
    char *key;               /* "instance\x1f" "device_id": key in gw_data.devs */
    char *instance, *device_id;
    bool has_identity;
    char pk[GW_STORE_NAME_MAX], dn[GW_STORE_NAME_MAX];
    char *pkdn;              /* "pk/dn": key in gw_data.by_pkdn once the identity is known */
    bool logged_in;          /* platform session, kept by the sub-device manager's session
                              * listener (data.c on_session) once the identity is known */
    bool shared_identity;    /* another record has the same pk/dn (misconfigured): logged_in is
                              * then asked from the lifecycle each time, the listener reaches one only */
    gw_tsl_last_t *last;     /* per point of the device's mapping (index in mm->points): the value
                              * last queued, for report on change; NULL until the first report */
    size_t n_last;           /* its length */
    uint64_t last_serial;    /* serial of the mapping it was sized for: a reloaded mapping (other
                              * serial) starts afresh. The mapping itself is never kept: a reload
                              * frees it while the device lives on */
    json_t *bad_log;         /* point → last time (uv_now ms) an invalid value was logged */
    int64_t last_full_ms;    /* uv_now of the last full report, -1 = never */
    /* Undelivered data kept in memory when there is no journal: arrays of
     * [id, value, time] in arrival order (bounded by held_max each). */
    json_t *held_props, *held_events;
    uint64_t retry_at;       /* uv_now before which held data is not resent */
    gw_list_t held_link;     /* in gw_data.held while something is held */
} data_dev_t;

/** A post waiting for its reply. */
typedef struct data_inflight {
    gw_list_t link;          /* gw_data.inflight, in send order */
    char id[16];
    char *topic_reply;       /* the reply topic we expect */
    gw_cloud_buf_t *msg;     /* the post as published: shared with the cloud's publisher queue, not copied */
    const char *params;      /* its params text, inside msg, for requeueing on failure */
    size_t params_len;
    bool pack;               /* pack/post form; else a post of pk/dn's own */
    char *event_id;          /* event post: the event identifier (params {"value","time"}) */
    char pk[GW_STORE_NAME_MAX], dn[GW_STORE_NAME_MAX];
    size_t n_values;
    uint64_t sent_ms;        /* uv_now */
    uint64_t wal_gen;        /* live post: its token on this write-ahead log generation (0: none) */
    /* journal drain (history/post): sequence numbers to ack */
    bool history;
    uint64_t *seqs;
    size_t n_seqs;
} data_inflight_t;

/**
 * A generation of the write-ahead log (data_wal.c): the values accepted
 * between two seals (seqs first..last, contiguous). It is resolved — a
 * resolve record written, its values no longer needed for recovery — once it
 * is sealed, no post holds a token on it (refs) and the journal commit it
 * waits for (awaiting) happened.
 */
typedef struct data_wal_gen {
    uint64_t id;
    uint64_t first, last;    /* empty while last < first */
    uint32_t refs;           /* live posts sent while it was open */
    bool awaiting;           /* some of its values went to jpending: wait for the next journal commit */
    bool sealed;             /* no longer open (the queue was empty at a tick) */
    bool resolved;
} data_wal_gen_t;

/** A downstream request waiting for the hub (downlink.c). */
typedef struct data_call {
    gw_list_t link;          /* gw_data.calls */
    gw_data_t *d;            /* NULL once the data layer closed */
    gw_cloud_msg_kind_t kind;
    char *reply_topic;
    char id[24];
    char *instance, *model;  /* mapping looked up again at completion */
    char *tsl_service;       /* services: TSL identifier */
    bool sync;               /* RRPC: answered by the deadline at the latest */
    bool answered;
    uint64_t deadline;       /* uv_now */
    uint64_t t0_ns;          /* uv_hrtime at arrival, for the latency figure */
} data_call_t;

struct gw_data {
    data_ref_t *ref;
    gw_data_deps_t deps;
    gw_data_options_t opt;
    uv_timer_t timer;        /* the one timer: flush, ack timeouts, RRPC deadlines, drain */
    gw_strmap_t devs;        /* key → data_dev_t */
    gw_strmap_t by_pkdn;     /* "pk/dn" → data_dev_t */
    gw_tsl_pack_t *pack;
    size_t pack_values;
    gw_list_t inflight;
    size_t n_inflight;       /* live posts (pack/property/event) waiting for a reply */
    gw_list_t held;          /* data_dev_t with held data */
    gw_list_t calls;
    uint32_t next_id;
    bool connected;
    bool closing;
    void (*done)(void *);
    void *done_arg;
    gw_data_stats_t st;
    uint64_t oversize_log_at;/* uv_now of the last st.oversize warning (one a minute at most) */
    uint32_t lat_us[1024];   /* gateway time of the last downlink requests (arrival → reply), µs */
    size_t lat_n;
    uint64_t stats_at;       /* uv_now of the last periodic stats line */
    char gw_pk[GW_STORE_NAME_MAX], gw_dn[GW_STORE_NAME_MAX];
    /* journal (data_journal.c) */
    /* jpending: the records to journal on the next tick, packed one after the other in one
     * buffer kept between ticks (data_journal.c: a header, then pk, dn, identifier and the value's
     * JSON text, each NUL-terminated): ~80 bytes and no allocation per value, where a JSON array
     * per value cost ~350 bytes in five allocations (a burst of held values at start is 10,000) */
    char *jbuf;
    size_t jlen, jcap;
    /* uv_now of the last append or drained entry; once the journal has been idle for
     * JOURNAL_IDLE_MS, jbuf and SQLite's page cache are given back (journal_slim set until the
     * next activity), so a burst (an outage, a start-up with devices still registering) does
     * not keep ~0.5 MB for the daemon's life */
    uint64_t journal_busy_at;
    bool journal_slim;
    uint64_t drain_after;    /* read cursor of the drain */
    uint64_t drain_budget_ms;/* uv_now of the last drain refill */
    uint64_t drain_rescan_at;/* uv_now before which no new pass starts */
    double drain_tokens;
    size_t drain_inflight;   /* history/post messages waiting for a reply */
    /* write-ahead log (data_wal.c) */
    gw_wal_t *wal;           /* NULL: off (no journal, `wal = false`, or it could not be opened) */
    data_wal_gen_t *gens;    /* ring of unresolved generations, oldest first; the last may be open */
    size_t gen_cap, gen_head, gen_n;
    uint64_t gen_next;       /* id of the next generation */
    bool wal_pinned;         /* resolution stopped: something is neither delivered nor journaled */
    uint64_t wal_recovered;  /* values recovered at start */
    uint64_t wal_full_log_at;/* uv_now of that warning */
};

/* ---- data.c ------------------------------------------------------------------ */
data_dev_t *data_dev_get(gw_data_t *d, const gw_hub_device_t *hd, bool create);
data_dev_t *data_dev_by_pkdn(gw_data_t *d, const char *pk, const char *dn);
/** The per-point last values of @p dev under mapping @p mm (emptied when the mapping changed); NULL on OOM. */
gw_tsl_last_t *data_dev_last(data_dev_t *dev, const gw_tsl_model_map_t *mm);
/** Forgets every last value of @p dev (the next report of each point is sent). */
void data_dev_last_clear(data_dev_t *dev);
/** Fills the device's identity if the lifecycle knows it now. */
bool data_dev_identity(gw_data_t *d, data_dev_t *dev);
const char *data_next_id(gw_data_t *d, char buf[16]);

/* ---- uplink.c ---------------------------------------------------------------- */
/** A property report of hub device @p hd; @p from_plugin false for the gateway's own re-reports (not counted as reported). */
void data_uplink_properties(gw_data_t *d, const gw_hub_device_t *hd, const lgw_report_t *r, bool from_plugin);
void data_uplink_event(gw_data_t *d, const gw_hub_device_t *hd, const lgw_report_t *r);
/** Keeps an undelivered value/event of @p dev (journal or memory). */
void data_hold(gw_data_t *d, data_dev_t *dev, bool event, const char *id, json_t *value, int64_t time_ms);
/** Moves held data of logged-in devices back into the queue. */
void data_resend_held(gw_data_t *d, bool force);
void data_dev_unhold(gw_data_t *d, data_dev_t *dev);

/* ---- uplink_send.c ----------------------------------------------------------- */
void data_send_flush(gw_data_t *d);
void data_send_event(gw_data_t *d, data_dev_t *dev, const char *id, json_t *value, int64_t time_ms);
void data_send_on_reply(gw_cloud_t *c, const gw_cloud_msg_t *m, void *data);
void data_send_fail_device(gw_data_t *d, const char *pk, const char *dn);
/** Fails in-flight posts older than the ack timeout (or all when @p all). */
void data_send_expire(gw_data_t *d, bool all);
void data_inflight_free(data_inflight_t *f);
/**
 * A value or event of pk/dn (NULL: the gateway) that can never be sent: its
 * params alone are @p bytes long, over the budget. Counts it (d->st.oversize)
 * and warns at most once a minute, naming device and identifier, never the value.
 */
void data_oversize(gw_data_t *d, const char *pk, const char *dn, const char *id, bool event, size_t bytes);
/** Connects the pack builder's drop callback to data_oversize (once, when the pack is created). */
void data_send_init(gw_data_t *d);
/** Publishes @p params (text) as a request on @p topic and tracks the reply. NULL if not sent. */
data_inflight_t *data_send_request(gw_data_t *d, const char *topic, const char *method, const char *params,
                                   size_t len);

/* ---- downlink.c -------------------------------------------------------------- */
int data_downlink_register(gw_data_t *d);
void data_downlink_expire(gw_data_t *d);
void data_downlink_detach(gw_data_t *d);
/** p50 and p99 (µs) of the recorded downlink latencies; 0 when none. */
void data_downlink_latency(gw_data_t *d, uint32_t *p50, uint32_t *p99);

/* ---- data_journal.c ---------------------------------------------------------- */
bool data_journal_enabled(gw_data_t *d);
/** Collects a value for the next journal commit. -1 when it cannot be journaled (out of memory, or
 *  its JSON text over GW_JOURNAL_VALUE_MAX, which the journal refuses): the caller keeps it in the
 *  in-memory hold instead of losing it at the commit. */
int data_journal_put(gw_data_t *d, const char *pk, const char *dn, bool event, const char *id, const json_t *value,
                     int64_t time_ms);
void data_journal_commit(gw_data_t *d);
/** Sub-device pk/dn was deleted (gw_subdev_deleted_fn): its held and journaled values can never be
 *  posted; they are dropped (the journal's entries counted as dropped, the in-memory hold's as
 *  held_dropped), after this tick's pending appends are committed so none of them outlives it. */
void data_journal_forget(gw_data_t *d, const char *pk, const char *dn);
void data_journal_drain(gw_data_t *d);
void data_journal_on_reply(gw_data_t *d, data_inflight_t *f, int code);

/* ---- data_wal.c -------------------------------------------------------------- */
/** Recovers what a previous process left in the log into the journal, then opens a fresh log. */
void data_wal_start(gw_data_t *d);
/** Logs one accepted value (hot path: call only when d->wal). */
void data_wal_value(gw_data_t *d, const data_dev_t *dev, bool event, const char *id, const json_t *value,
                    int64_t time_ms);
/** A live post was sent: a token on the open generation (0 when the log is off). */
uint64_t data_wal_ref(gw_data_t *d);
/** The post holding token @p gen completed: acknowledged (@p via_journal false) or handed to the hold. */
void data_wal_unref(gw_data_t *d, uint64_t gen, bool via_journal);
/** Values of the open generation went to jpending (data_hold). */
void data_wal_held(gw_data_t *d);
/** Values went to the in-memory hold although the log is on (journal unavailable). */
void data_wal_pin(gw_data_t *d, const char *why);
/** The journal commit of jpending happened (@p ok) or failed. */
void data_wal_committed(gw_data_t *d, bool ok);
/** Timer tick: seals the open generation when the queue is empty, resolves, recycles. */
void data_wal_tick(gw_data_t *d);
/** Shutdown, after the final journal commit. */
void data_wal_close(gw_data_t *d);
/** Figures for the status. */
void data_wal_stats(gw_data_t *d, gw_data_stats_t *out);

#endif
