/*
 * Store-and-forward journal: property values and events waiting for the platform.
 *
 * Producers append entries while the cloud link is down or a QoS 1 publish is unacknowledged; the
 * drainer reads the oldest entries in order, publishes them (thing/event/property/history/post)
 * and acknowledges each entry only after the platform acked it. Entries live in the store's SQLite
 * database, so they survive kill -9 and reboots.
 *
 * Sequence numbers are assigned by the journal, strictly increasing and never reused (even after
 * the journal was emptied). Order of reading = order of appending.
 *
 * Bound: the sum of the entries' sizes (gw_journal_entry_size) never exceeds the byte budget (option
 * journal_max_bytes, or gw_journal_set_budget). An append that would exceed it first deletes the
 * oldest entries (drop-oldest), adding their number to the persistent `dropped` counter, in the
 * same transaction as the append. An in-flight entry (read, not yet acked) may be dropped that
 * way; acking it later is harmless.
 *
 * Cost: each append outside a batch is one transaction with an fsync (see gw_store_options_t).
 * Producers should group appends with gw_journal_batch_begin()/gw_store_batch_commit() — e.g. every
 * value that arrived during one loop iteration — for one commit per batch; with the option
 * journal_sync_normal (store.h) journal commits skip the fsync. bench/store measures each case.
 */
#ifndef LINKGW_CORE_STORE_JOURNAL_H
#define LINKGW_CORE_STORE_JOURNAL_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    GW_JOURNAL_PROPERTY = 1, /**< identifier = property id, value = its JSON value */
    GW_JOURNAL_EVENT = 2,    /**< identifier = event id, value = JSON object of its output data */
} gw_journal_kind_t;

/** Maximum length of the JSON value text of one entry (bytes, without NUL). */
#define GW_JOURNAL_VALUE_MAX (64 * 1024)

/** One entry as appended. Strings are copied; the journal does not parse value_json. */
typedef struct {
    const char *pk;          /**< device ProductKey (gateway or sub-device), gw_store_name_valid() */
    const char *dn;          /**< device DeviceName */
    gw_journal_kind_t kind;
    const char *identifier;  /**< TSL identifier, 1..128 chars, no control chars */
    const char *value_json;  /**< JSON text, 1..GW_JOURNAL_VALUE_MAX bytes */
    int64_t ts_ms;           /**< original UTC timestamp in ms (sent as "time" in history/post) */
} gw_journal_rec_t;

/** One entry as read back (owned by the array from gw_journal_read). */
typedef struct {
    uint64_t seq;
    char pk[GW_STORE_NAME_MAX];
    char dn[GW_STORE_NAME_MAX];
    gw_journal_kind_t kind;
    char identifier[GW_STORE_TEXT_MAX];
    char *value_json;        /**< NUL-terminated, freed by gw_journal_entries_free */
    int64_t ts_ms;
} gw_journal_entry_t;

typedef struct {
    uint64_t depth;          /**< entries waiting */
    uint64_t bytes;          /**< sum of their sizes (<= budget) */
    uint64_t budget;         /**< current byte budget */
    int64_t oldest_ts_ms;    /**< ts_ms of the oldest entry (by seq); 0 if empty */
    int64_t oldest_age_ms;   /**< now - oldest_ts_ms (>= 0); 0 if empty */
    uint64_t dropped;        /**< entries dropped since the database was created: by the budget, or
                                  forgotten with their device (gw_journal_forget_device) */
    uint64_t acked;          /**< entries acknowledged since the database was created */
    uint64_t last_seq;       /**< highest sequence ever assigned; 0 if none */
} gw_journal_stats_t;

/**
 * Opens a batch for journal operations only (appends, reads, acks); commit or roll it back with
 * gw_store_batch_commit() / gw_store_batch_rollback(). Same as gw_store_batch_begin(), except that
 * with the journal_sync_normal option the batch commits with synchronous=NORMAL, and that any
 * other mutation inside it fails with GW_STORE_ESTATE (so a secret or a topology change is never
 * committed with the relaxed setting). ESTATE if a batch is already open.
 */
int gw_journal_batch_begin(gw_store_t *st);

/** Bytes an entry counts against the budget: its strings plus a fixed 48-byte row overhead. */
uint64_t gw_journal_entry_size(const gw_journal_rec_t *rec);

/**
 * Appends one entry (one transaction, or one savepoint inside a batch), dropping the oldest
 * entries first if the budget requires it.
 * @param seq_out optional, receives the entry's sequence number.
 * @return OK; EINVAL (bad field, or the entry alone is larger than the budget: nothing is dropped);
 *         EIO.
 */
int gw_journal_append(gw_store_t *st, const gw_journal_rec_t *rec, uint64_t *seq_out);

/**
 * Reads up to @p max entries with seq > @p after_seq, in sequence order, without removing them.
 * Pass after_seq = 0 for the oldest entries; pass the last seq of the previous read to pipeline
 * several history/post requests before their acks.
 * @param out malloc'ed array (NULL when none), free with gw_journal_entries_free().
 */
int gw_journal_read(gw_store_t *st, uint64_t after_seq, size_t max, gw_journal_entry_t **out,
                    size_t *count);
void gw_journal_entries_free(gw_journal_entry_t *entries, size_t count);

/**
 * Deletes the entries whose sequence numbers are listed, after the platform acknowledged them;
 * one transaction. Unknown sequences (already acked or dropped) are ignored.
 * @param removed optional, receives how many entries were actually deleted.
 */
int gw_journal_ack(gw_store_t *st, const uint64_t *seqs, size_t n, size_t *removed);

/** Like gw_journal_ack(), for entries given up rather than delivered (one too big for any
 *  message): they are counted as dropped, not acked. */
int gw_journal_drop(gw_store_t *st, const uint64_t *seqs, size_t n, size_t *removed);

/** Deletes every entry with first <= seq <= last (a contiguous acked batch); one transaction. */
int gw_journal_ack_range(gw_store_t *st, uint64_t first, uint64_t last, size_t *removed);

/**
 * Deletes every entry of the sub-device @p pk / @p dn and counts them as dropped; one transaction.
 * For a device that can never post again (deleted in the cloud or locally, so it has no
 * topology): its entries would otherwise wait for a session that never comes, be re-read by every
 * drain pass, and hold budget that live devices need.
 * @param removed optional, receives how many entries were deleted.
 * @return GW_STORE_OK, EINVAL (pk or dn not a valid name), EIO.
 */
int gw_journal_forget_device(gw_store_t *st, const char *pk, const char *dn, size_t *removed);

int gw_journal_stats(gw_store_t *st, gw_journal_stats_t *out);

/** Changes the byte budget (not persisted: it comes from the configuration at every open) and
 *  drops oldest entries at once if the journal is over it. EINVAL if @p max_bytes is 0. */
int gw_journal_set_budget(gw_store_t *st, uint64_t max_bytes);

#ifdef __cplusplus
}
#endif
#endif
