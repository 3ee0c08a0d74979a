/*
 * The data layer of the gateway (issues 6 and 9): everything that carries
 * property values, events and service calls between the device hub and the
 * Alink session, through the TSL mapping of each plugin model.
 *
 *   uplink     hub reports → mapping → TSL validation → report on change
 *              (deadband) + periodic full report → pack/post of many
 *              sub-devices, or property/post on one sub-device's own topic;
 *              events on thing/event/{id}/post (uplink.c, uplink_send.c)
 *   downlink   property set/get, async services and both RRPC forms →
 *              validation → gw_hub_write/read/invoke → reply (downlink.c)
 *   journal    values that could not be delivered (link down, no ack,
 *              no session) wait in the store's journal and drain through
 *              thing/event/property/history/post (data_journal.c)
 *   wal        every accepted value is first appended to a write-ahead log
 *              (mmap'd, ~80 ns) and recovered into the journal at the next
 *              start if a kill -9 came before it was delivered (data_wal.c)
 *
 * One gw_data_t per gateway, created by the `data` core module
 * (data_module.c) after the gateway module, or directly by tests.
 * Loop thread only.
 */
#ifndef GW_GATEWAY_DATA_H
#define GW_GATEWAY_DATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cloud.h"
#include "hub.h"
#include "store/store.h"
#include "subdev.h"
#include "tsl_map.h"

typedef struct gw_data gw_data_t;

/** Mapping of plugin model @p model of instance @p instance, or NULL (not mapped). */
typedef const gw_tsl_model_map_t *(*gw_data_map_fn)(void *data, const char *instance, const char *model);

/** Settings (the main file's optional `data { … }` group; see data_conf.c). */
typedef struct gw_data_options {
    unsigned flush_ms;           /**< batching window: one timer, default 50 */
    unsigned flush_values;       /**< flush early once this many values wait, default 4000 */
    unsigned ack_timeout_ms;     /**< a post without reply after this is failed, default 10000 */
    unsigned max_inflight;       /**< live posts waiting for a reply; beyond it values wait, then go to the hold, default 256 */
    unsigned rrpc_timeout_ms;    /**< sync services answered (400) after this, default 7500 (< 8 s) */
    unsigned invalid_log_s;      /**< invalid value of one device+point logged at most this often, default 60 */
    unsigned held_max;           /**< per device: undelivered values kept in memory without journal, default 1000 */
    bool journal;                /**< journal undelivered values in the store (default true when a store exists) */
    uint64_t journal_max_bytes;  /**< journal budget (0 = the store's default) */
    unsigned drain_rate;         /**< journal entries per second sent by history/post, default 1000 */
    unsigned stats_interval_s;   /**< log the counters every N s (0 = only at shutdown), default 0 */
    bool wal;                    /**< write-ahead log of accepted values (only with the journal), default true */
    uint64_t wal_max_bytes;      /**< its disk budget (0 = 32 MiB) */
    bool wal_sync;               /**< msync the log every tick (power-loss safety, blocks the loop), default false */
} gw_data_options_t;

/** Fills @p o with the defaults. */
void gw_data_options_init(gw_data_options_t *o);

/** What the data layer works with (all borrowed; they must outlive it). */
typedef struct gw_data_deps {
    uv_loop_t *loop;
    gw_hub_t *hub;
    gw_cloud_t *cloud;
    gw_subdev_t *subdev;
    gw_store_t *store;           /**< may be NULL: no journal */
    gw_data_map_fn map;          /**< model mapping lookup */
    void *map_data;
} gw_data_deps_t;

/** Counters (for `linkgwctl status`, tests and benchmarks). */
typedef struct gw_data_stats {
    uint64_t reported;        /**< values received from the hub */
    uint64_t unmapped;        /**< values of points/devices without mapping or identity */
    uint64_t invalid;         /**< values refused by the TSL validation (never sent) */
    uint64_t suppressed;      /**< values not sent because unchanged (deadband) */
    uint64_t queued;          /**< values queued for sending */
    uint64_t sent;            /**< values published (pack/post or property/post) */
    uint64_t acked;           /**< values the platform acknowledged with 200 */
    uint64_t rejected;        /**< values in posts refused by the platform for good (e.g. 6401, TSL codes) */
    uint64_t requeued;        /**< values put back after a failed/unacked post or a missing session */
    uint64_t held_dropped;    /**< values dropped from a full in-memory hold (no journal) */
    uint64_t oversize;        /**< values/events dropped because alone they exceed a message's byte budget */
    uint64_t messages;        /**< posts published */
    uint64_t events_sent, events_acked, events_failed, events_invalid;
    uint64_t downlink;        /**< downstream requests handled */
    uint64_t downlink_refused;/**< refused before reaching a plugin (TSL codes, unknown device) */
    uint64_t journaled;       /**< values/events written to the journal */
    uint64_t drained;         /**< journal entries acknowledged through history/post */
    uint64_t journal_depth, journal_bytes, journal_dropped; /**< from gw_journal_stats */
    int64_t journal_oldest_age_ms;
    bool wal;                 /**< the write-ahead log is on */
    uint64_t wal_segments, wal_bytes; /**< segment files and their allocated size */
    uint64_t wal_pending;     /**< logged values not resolved yet (queued, in flight, waiting for the journal) */
    uint64_t wal_recovered;   /**< values recovered from the log at start */
    uint64_t wal_full;        /**< values not logged because the log was full */
} gw_data_stats_t;

/**
 * Creates the data layer: registers a hub consumer, a cloud state listener,
 * downstream handlers (property set/get, services, RRPC, pack/post replies)
 * and a session listener on @p deps->subdev, and starts the flush timer.
 * @p opts NULL = defaults. Returns NULL on failure (logged).
 */
gw_data_t *gw_data_new(const gw_data_deps_t *deps, const gw_data_options_t *opts);

/**
 * Flushes what is queued (when connected), unregisters, fails nothing that
 * was accepted (undelivered values go to the journal when there is one),
 * frees @p d once its handles closed and then calls @p done(@p arg).
 */
void gw_data_close(gw_data_t *d, void (*done)(void *arg), void *arg);

/** Copies the counters (journal figures read from the store now). */
void gw_data_get_stats(gw_data_t *d, gw_data_stats_t *out);

/**
 * The `data` object of `linkgwctl status`: the counters above plus
 * {"journal":{"depth","bytes","oldest_age_ms","dropped"}} and
 * {"wal":{"enabled","segments","bytes","pending","recovered","full"}}. New reference.
 */
json_t *gw_data_status_json(gw_data_t *d);

/** Sends everything queued now (tests, shutdown). */
void gw_data_flush(gw_data_t *d);

/** The daemon's data layer, or NULL (no gateway). */
gw_data_t *gw_data_current(void);

#endif
