/*
 * Write-ahead log of accepted values (issue 9, "kill -9 loses nothing already accepted").
 *
 * An append-only log of small binary records in segment files <dir>/<16 hex digits>.seg (0600,
 * directory 0700). Each segment is preallocated (posix_fallocate, so a full disk shows up when a
 * segment is created, never as a SIGBUS on a later store) and mapped MAP_SHARED: appending a
 * record is a memcpy into the page cache, no system call. Dirty pages of a MAP_SHARED file belong
 * to the kernel, not to the process, so everything appended survives the death of the process
 * (kill -9, a crash, the OOM killer). It does NOT survive a power loss or a kernel crash unless
 * gw_wal_sync() ran after the append (msync, which blocks until the pages are on disk).
 *
 * Records (host byte order and alignment: the log never leaves the machine):
 *   - value:   one property value or event accepted from a plugin: seq (strictly increasing,
 *              assigned here), pk, dn, identifier, time, and the value (a double, an integer,
 *              true/false/null, a string, or JSON text for structured values);
 *   - resolve: "the values with first <= seq <= last need no recovery" (they were acknowledged
 *              by the platform, refused for good, or written to the SQLite journal).
 * Every record starts with its length and a CRC32C over the length and the body. A scan stops a
 * segment at the first record of length 0 (the preallocated, never written space) or with a bad
 * length or CRC (a record torn by the kill, or garbage): everything before it is used.
 *
 * Life cycle:
 *   1. gw_wal_recover(dir, cb): read every segment left by a previous process; @p cb gets each
 *      value record no resolve record covers, in seq order. Nothing is modified.
 *   2. The caller makes those values durable elsewhere (the journal) and then
 *   3. gw_wal_open(dir): deletes every old segment (oldest first) and starts a fresh log.
 *   4. gw_wal_append() per accepted value, gw_wal_resolve() per resolved range, and
 *      gw_wal_release_below() when every value below a seq is resolved: only then may the oldest
 *      segments be deleted (resolve records always come later in the log than their values, so
 *      deleting oldest-first never leaves a resolve record without a value or the reverse).
 *   5. gw_wal_close(remove = true) after a clean shutdown that resolved everything.
 * A crash during 3 leaves only old segments (new ones are created after the last old one is
 * gone): they are recovered again on the next start — duplicates, never a loss.
 *
 * Bound: at most max_bytes of segments on disk. When a new segment would exceed it and the oldest
 * one still holds unresolved values, appends of values fail (GW_WAL_FULL) until resolution frees
 * a segment. A small reserve at the end of each segment keeps room for resolve records.
 *
 * Not thread-safe: one thread (the data layer's loop thread) uses a gw_wal_t.
 */
#ifndef LINKGW_CORE_STORE_WAL_H
#define LINKGW_CORE_STORE_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_wal gw_wal_t;

/** Results. */
enum {
    GW_WAL_OK = 0,
    GW_WAL_EINVAL = -1, /**< bad argument (too long a field, unknown value type) */
    GW_WAL_EIO = -2,    /**< a file operation failed (message in gw_wal_errmsg) */
    GW_WAL_FULL = -3,   /**< the disk budget is used by unresolved values, or the disk is full */
};

/** How a value is stored. */
typedef enum {
    GW_WAL_V_NULL = 1,
    GW_WAL_V_FALSE = 2,
    GW_WAL_V_TRUE = 3,
    GW_WAL_V_INT = 4,    /**< num.i */
    GW_WAL_V_DOUBLE = 5, /**< num.d */
    GW_WAL_V_STRING = 6, /**< text/text_len: the string itself (not JSON-escaped) */
    GW_WAL_V_JSON = 7,   /**< text/text_len: JSON text (objects, arrays) */
} gw_wal_vtype_t;

/** Longest pk, dn or identifier (bytes). */
#define GW_WAL_NAME_MAX 255
/** Longest string/JSON value (bytes). */
#define GW_WAL_TEXT_MAX (64 * 1024)

/** One value record (appended, or handed to the recovery callback: then valid during the call). */
typedef struct gw_wal_value {
    uint64_t seq;            /**< assigned by gw_wal_append */
    bool event;              /**< an event (identifier = event id, value = its output data) */
    const char *pk, *dn, *id;
    uint8_t pk_len, dn_len, id_len; /**< lengths (filled by gw_wal_append from strlen; given on recovery) */
    int64_t time_ms;
    gw_wal_vtype_t vtype;
    union {
        int64_t i;
        double d;
    } num;
    const char *text;        /**< STRING / JSON; not NUL-terminated on recovery */
    size_t text_len;
} gw_wal_value_t;

typedef struct gw_wal_options {
    uint64_t max_bytes;      /**< disk budget of all segments; 0 = 32 MiB; at least 2 segments */
    uint32_t segment_bytes;  /**< 0 = max_bytes / 8 clamped to 64 KiB .. 4 MiB */
    uint64_t first_seq;      /**< first seq to assign (0 = 1); pass gw_wal_report_t.max_seq + 1 */
} gw_wal_options_t;

/** What gw_wal_recover found. */
typedef struct gw_wal_report {
    uint64_t segments;       /**< segment files read */
    uint64_t values;         /**< value records read */
    uint64_t resolved;       /**< of which covered by resolve records */
    uint64_t recovered;      /**< handed to the callback */
    uint64_t torn;           /**< segments whose scan stopped at a torn/corrupt record (or bad header) */
    uint64_t max_seq;        /**< highest value seq seen (0 = none) */
} gw_wal_report_t;

/** Called by gw_wal_recover for each unresolved value, in seq order; non-zero stops the scan. */
typedef int (*gw_wal_recover_fn)(void *arg, const gw_wal_value_t *v);

/**
 * Reads the segments in @p dir (missing directory = nothing to recover) and calls @p cb for every
 * value record not covered by a resolve record. Modifies nothing. A torn tail or garbage ends
 * that segment's scan (counted in rep->torn); unreadable files are skipped (counted as torn).
 * @return GW_WAL_OK, GW_WAL_EIO (the directory cannot be read), or the callback's non-zero result.
 */
int gw_wal_recover(const char *dir, gw_wal_recover_fn cb, void *arg, gw_wal_report_t *rep);

/**
 * Creates @p dir (0700) if missing, deletes every segment in it (recover them first!) and
 * creates the first segment. @p err receives a one-line reason on failure.
 * @return GW_WAL_OK, GW_WAL_EIO or GW_WAL_FULL (the first segment cannot be allocated).
 */
int gw_wal_open(const char *dir, const gw_wal_options_t *opts, gw_wal_t **out, char *err, size_t errlen);

/**
 * Closes the log. With @p remove, deletes every segment (only when everything appended was
 * resolved, e.g. after a clean shutdown); otherwise they stay for the next gw_wal_recover.
 */
void gw_wal_close(gw_wal_t *w, bool remove);

/**
 * Appends value @p v (its seq is assigned and written to v->seq; lengths are taken with strlen).
 * No system call unless the current segment is full (then a new one is created, or the oldest
 * resolved one deleted first).
 * @return GW_WAL_OK; GW_WAL_EINVAL (field too long); GW_WAL_FULL (nothing written; counted).
 */
int gw_wal_append(gw_wal_t *w, gw_wal_value_t *v);

/**
 * Appends a resolve record for [first, last]. Uses the segment's reserve when values no longer
 * fit. GW_WAL_OK or GW_WAL_FULL (not written: those values would be recovered again after a
 * crash — duplicates, not a loss).
 */
int gw_wal_resolve(gw_wal_t *w, uint64_t first, uint64_t last);

/**
 * Declares every value with seq < @p seq resolved: segments (other than the current one) holding
 * only such values are deleted, oldest first.
 */
void gw_wal_release_below(gw_wal_t *w, uint64_t seq);

/** msync(MS_SYNC) of what was appended since the last call: blocks until it is on disk. */
int gw_wal_sync(gw_wal_t *w);

/** The seq the next appended value gets. */
uint64_t gw_wal_next_seq(const gw_wal_t *w);

typedef struct gw_wal_stats {
    uint64_t segments;       /**< segment files now */
    uint64_t bytes;          /**< their allocated size */
    uint64_t used;           /**< bytes of records in them */
    uint64_t appended;       /**< value records appended since open */
    uint64_t full;           /**< values refused with GW_WAL_FULL since open */
} gw_wal_stats_t;

void gw_wal_stats(const gw_wal_t *w, gw_wal_stats_t *out);

/** The reason of the last failure ("" if none). */
const char *gw_wal_errmsg(const gw_wal_t *w);

/** CRC32C (Castagnoli) of @p len bytes, continuing from @p crc (0 to start). Exposed for tests. */
uint32_t gw_wal_crc32c(uint32_t crc, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
