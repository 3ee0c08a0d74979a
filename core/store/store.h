/*
 * gw_store: the gateway's persistent state in one SQLite database.
 *
 * What it holds (all in <state_dir>/linkgw.db, WAL mode, files 0600, directory 0700):
 *   - credentials   sub-device DeviceSecrets, imported from the console's CSV or obtained with
 *                   thing/sub/register; kept after a device leaves the topology so a secret the
 *                   platform hands out only once is never requested twice;
 *   - gateway       the gateway's own identity (DeviceSecret from dynamic registration);
 *   - topo          the seed's LocalTopoList: sub-devices reported to the platform as proxied;
 *   - removed       the seed's RemovedDevList: deleted locally, topo/delete not yet acknowledged;
 *   - kv            small named values (e.g. the last cloud connection time);
 *   - journal       store-and-forward of property values and events (see journal.h).
 *
 * Every secret is encrypted at rest with AES-256-GCM under a 32-byte key kept in
 * <state_dir>/store.key (0600, created on first open); the associated data of each ciphertext is
 * the identity of its row, so a ciphertext copied to another row fails to decrypt.
 *
 * Consistency: every mutating call is one SQLite transaction (or one savepoint inside a batch, see
 * gw_store_batch_begin), so killing the process at any moment leaves the state of the last commit.
 * The store never logs (and no error message it produces contains a secret); callers log the
 * messages of gw_store_errmsg().
 *
 * Threads: a gw_store_t is not thread-safe. The daemon owns it on its loop thread. Another
 * process (e.g. linkgwctl) may open the same state directory at the same time: SQLite's locking
 * serialises writers (busy timeout), every counter lives in the database.
 *
 * Cost: outside a batch each mutation is one commit; at synchronous=FULL that is one fsync
 * (0.2..0.9 ms on the test VM). Group bursts (2,000 topo/add results, a sub/register reply of 30
 * secrets) in one gw_store_batch_begin()/gw_store_batch_commit().
 */
#ifndef LINKGW_CORE_STORE_H
#define LINKGW_CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_store gw_store_t;

/** Result codes. Negative = error; GW_STORE_OK and GW_STORE_NOTFOUND are normal outcomes. */
enum {
    GW_STORE_OK = 0,
    GW_STORE_NOTFOUND = 1,      /**< lookup found nothing (not an error) */
    GW_STORE_EINVAL = -1,       /**< bad argument (name charset/length, NULL, value too big) */
    GW_STORE_EIO = -2,          /**< SQLite or file-system failure; see gw_store_errmsg() */
    GW_STORE_ECRYPTO = -3,      /**< a ciphertext failed authentication: wrong key, tampered or moved row */
    GW_STORE_ECORRUPT = -4,     /**< integrity check failed */
    GW_STORE_ENOMEM = -5,
    GW_STORE_ESCHEMA = -6,      /**< database written by a newer linkgw (user_version too high) */
    GW_STORE_ECONFLICT = -7,    /**< uniqueness or reference conflict (see each function) */
    GW_STORE_ESTATE = -8,       /**< call not valid now (e.g. batch_commit without batch_begin) */
};

/* Size limits, including the terminating NUL. Names are validated on every write. */
#define GW_STORE_NAME_MAX 65    /**< ProductKey / DeviceName: 1..64 chars of [A-Za-z0-9_.:@-] */
#define GW_STORE_SECRET_MAX 129 /**< DeviceSecret: 1..128 printable ASCII chars, no space */
#define GW_STORE_TEXT_MAX 129   /**< plugin instance, device id, model: 1..128 chars, no control chars */

/** Options of gw_store_open(); zero-initialised means the defaults below. */
typedef struct {
    /** Run PRAGMA integrity_check on open and fail with GW_STORE_ECORRUPT if it is not "ok".
     *  Reads the whole database: cheap for our sizes (a few MB), worth it at boot. */
    bool integrity_check;
    /** false (default): synchronous=FULL — every commit is fsync'ed before it returns, so a commit
     *  survives a power loss, not only a process crash. A DeviceSecret from thing/sub/register can
     *  never be requested again, and an acked journal entry must stay deleted, so durability wins
     *  over speed; batch journal appends (gw_store_batch_begin) to amortise the fsync.
     *  true: synchronous=NORMAL — in WAL mode still crash-safe against kill -9 and never corrupt,
     *  but a power loss may roll back the last commits. For tests, benchmarks, or flash-wear-bound
     *  targets that accept that. */
    bool sync_normal;
    /** true: journal appends and acks outside a batch commit with synchronous=NORMAL even when
     *  the store is FULL (the connection switches for that one transaction). Still safe against
     *  kill -9 (issue 9's requirement) and never corrupt; a power loss may lose the last journal
     *  commits, while credentials, topology and kv stay power-loss durable. Cuts a single append
     *  from one fsync (0.3..0.9 ms on our test VM) to ~20 us; see bench/store. Batches opened with
     *  gw_journal_batch_begin() commit with NORMAL too; gw_store_batch_begin() batches with the
     *  store's own setting. */
    bool journal_sync_normal;
    /** SQLite busy timeout in ms when another process (linkgwctl) holds the write lock; 0 = 5000. */
    int busy_timeout_ms;
    /** Journal size budget in bytes (see journal.h); 0 = 16 MiB. */
    uint64_t journal_max_bytes;
} gw_store_options_t;

/**
 * Opens (creating if needed) the store in @p state_dir.
 *
 * Creates @p state_dir with mode 0700 if it is missing (its parent must exist). Creates the key file
 * store.key on first start: 32 bytes from OpenSSL's RAND_bytes written to a temporary file opened
 * O_CREAT|O_EXCL 0600, fsync'ed, then renamed into place without replacing an existing key, and the
 * directory fsync'ed. An existing key file must be exactly 32 bytes and not readable by group or
 * others. The database linkgw.db and its -wal/-shm files are created 0600 (umask 077 around the
 * open, existing files chmod'ed to 0600). WAL mode, foreign keys on, busy timeout, synchronous as
 * in the options; the schema is migrated to the current version (PRAGMA user_version), each step in
 * one transaction.
 *
 * The process umask is set to 077 for the duration of the open (it is process-wide: open the store
 * at startup, before other threads create files).
 *
 * The database remembers a check value sealed with the key: if store.key is missing while the
 * database holds secrets, or another key file is present, open fails with GW_STORE_ECRYPTO rather
 * than silently creating a new key and losing every secret.
 *
 * @param opts NULL for defaults.
 * @param out receives the handle on success, NULL on failure.
 * @param err,errlen if not NULL, receive a one-line reason on failure (never a secret).
 * @return GW_STORE_OK, or EINVAL, EIO, ECRYPTO, ECORRUPT, ESCHEMA, ENOMEM.
 */
int gw_store_open(const char *state_dir, const gw_store_options_t *opts, gw_store_t **out,
                  char *err, size_t errlen);

/**
 * Gives back the memory of SQLite's page cache for @p st (sqlite3_db_release_memory): every
 * cached page not held by an open statement or transaction is freed. The cache refills from the
 * database (and the kernel's page cache) as it is used again, so this costs nothing but a few
 * reads; call it when the store has been idle for a while, e.g. after a journal backlog drained,
 * so a burst does not keep its cache (up to the 256 KiB cache_size) for the daemon's life.
 * Same thread rules as every other call on @p st. NULL is accepted.
 * @return the bytes of cache released (SQLITE_DBSTATUS_CACHE_USED before minus after).
 */
size_t gw_store_release_memory(gw_store_t *st);

/** Closes the store (rolls back an open batch). NULL is accepted. */
void gw_store_close(gw_store_t *st);

/** The reason of the last failed call on @p st (valid until the next call); "" if none. */
const char *gw_store_errmsg(const gw_store_t *st);

/** A short constant name for a result code ("ok", "not found", "crypto failure", ...). */
const char *gw_store_rc_str(int rc);

/** Runs PRAGMA integrity_check now. GW_STORE_OK if "ok", else GW_STORE_ECORRUPT (the first
 *  problem is in gw_store_errmsg()). */
int gw_store_integrity_check(gw_store_t *st);

/** Path of the database file and of the key file (for linkgwctl status and tests). */
const char *gw_store_db_path(const gw_store_t *st);
const char *gw_store_key_path(const gw_store_t *st);
/** The state directory the store was opened in (the write-ahead log lives in <dir>/wal). */
const char *gw_store_dir(const gw_store_t *st);

/** Current UTC time in ms, the clock the store stamps rows with. */
int64_t gw_store_now_ms(void);

/* ---------------------------------------------------------------------------------------------
 * Batches: several mutations in one transaction.
 *
 * Between gw_store_batch_begin() and gw_store_batch_commit(), every mutating call runs inside a
 * savepoint of one outer transaction: a failing call undoes only its own changes (and returns its
 * error), the others stay pending. Nothing is durable, nor visible to other processes, until
 * commit; a crash before commit loses the whole batch and nothing else. Batches do not nest.
 * The journal's append path is the main user (one fsync for hundreds of values).
 * --------------------------------------------------------------------------------------------- */
int gw_store_batch_begin(gw_store_t *st);       /**< ESTATE if a batch is already open */
int gw_store_batch_commit(gw_store_t *st);      /**< ESTATE if none is open; EIO leaves it rolled back */
int gw_store_batch_rollback(gw_store_t *st);    /**< ESTATE if none is open */
bool gw_store_in_batch(const gw_store_t *st);

/* ---------------------------------------------------------------------------------------------
 * Name validation (shared with the CSV import and usable by callers before a cloud request).
 * --------------------------------------------------------------------------------------------- */
/** ProductKey / DeviceName: 1..64 characters of [A-Za-z0-9_.:@-] (the platform allows 4..32 for
 *  DeviceName; we are lenient on length, strict on characters that would break a topic). */
bool gw_store_name_valid(const char *s);
/** DeviceSecret: 1..128 printable ASCII characters, no space. */
bool gw_store_secret_valid(const char *s);

/* ---------------------------------------------------------------------------------------------
 * Credentials (sub-device DeviceSecrets).
 * --------------------------------------------------------------------------------------------- */
typedef enum {
    GW_CRED_IMPORTED = 1,   /**< from `linkgwctl credentials import` (console CSV) */
    GW_CRED_REGISTERED = 2, /**< returned by thing/sub/register */
} gw_cred_source_t;

/**
 * Stores (inserts or replaces) the DeviceSecret of @p pk / @p dn, encrypted. Call it as soon as
 * thing/sub/register_reply arrives and before using the secret: when it returns GW_STORE_OK the
 * secret is durable (see gw_store_options_t.sync_normal; inside a batch, only after commit).
 * @return OK, EINVAL (bad name/secret/source), EIO, ECRYPTO (RNG/cipher failure).
 */
int gw_store_cred_put(gw_store_t *st, const char *pk, const char *dn, const char *secret,
                      gw_cred_source_t source);

/**
 * Copies the decrypted DeviceSecret of @p pk / @p dn into @p secret (GW_STORE_SECRET_MAX bytes).
 * @param source_out optional.
 * @return OK, NOTFOUND, ECRYPTO (tampered/moved row or wrong key), EINVAL, EIO.
 */
int gw_store_cred_get(gw_store_t *st, const char *pk, const char *dn,
                      char secret[GW_STORE_SECRET_MAX], gw_cred_source_t *source_out);

/** "Do we already hold a secret for this device?" — ask before thing/sub/register so a secret is
 *  never requested twice. Does not decrypt. @return OK (*has set), EINVAL, EIO. */
int gw_store_cred_has(gw_store_t *st, const char *pk, const char *dn, bool *has);

/** Forgets a credential. ECONFLICT while the device is in the topology (remove it first);
 *  NOTFOUND if there was none. */
int gw_store_cred_delete(gw_store_t *st, const char *pk, const char *dn);

/** Number of credentials held. */
int gw_store_cred_count(gw_store_t *st, size_t *count);

/* ---------------------------------------------------------------------------------------------
 * The gateway's own identity (one row).
 * --------------------------------------------------------------------------------------------- */
/** Stores the gateway's pk/dn/DeviceSecret (e.g. after dynamic registration), replacing any. */
int gw_store_gateway_set(gw_store_t *st, const char *pk, const char *dn, const char *secret);
/** Reads it back. NOTFOUND if never set; ECRYPTO if the row does not authenticate. */
int gw_store_gateway_get(gw_store_t *st, char pk[GW_STORE_NAME_MAX], char dn[GW_STORE_NAME_MAX],
                         char secret[GW_STORE_SECRET_MAX]);
/** Forgets it (e.g. the platform said the secret is invalid). NOTFOUND if none. */
int gw_store_gateway_clear(gw_store_t *st);

/* ---------------------------------------------------------------------------------------------
 * LocalTopoList and RemovedDevList.
 *
 * A device is identified by pk/dn; (plugin, device_id) is unique among topo rows too, so a plugin
 * device maps to one cloud device. The lists are disjoint: every call below keeps each device in at
 * most one of them, in the same transaction.
 * --------------------------------------------------------------------------------------------- */
typedef struct {
    char pk[GW_STORE_NAME_MAX];
    char dn[GW_STORE_NAME_MAX];
    char plugin[GW_STORE_TEXT_MAX];     /**< plugin instance name */
    char device_id[GW_STORE_TEXT_MAX];  /**< the plugin's device id */
    char model[GW_STORE_TEXT_MAX];      /**< the plugin's device model */
    char secret[GW_STORE_SECRET_MAX];   /**< decrypted DeviceSecret (from credentials) */
    int64_t added_ms;                   /**< UTC ms when it entered LocalTopoList */
} gw_topo_entry_t;

typedef struct {
    char pk[GW_STORE_NAME_MAX];
    char dn[GW_STORE_NAME_MAX];
    char plugin[GW_STORE_TEXT_MAX];     /**< "" if unknown */
    char device_id[GW_STORE_TEXT_MAX];  /**< "" if unknown */
    int64_t removed_ms;                 /**< UTC ms of the local delete */
} gw_removed_entry_t;

/**
 * Records that the platform accepted topo/add for this device: inserts it in LocalTopoList (or
 * updates plugin/device_id/model of an existing row, keeping added_ms), and removes it from
 * RemovedDevList — one transaction.
 * @param secret the DeviceSecret; stored as credential (source @p source) in the same transaction.
 *               NULL: a credential for pk/dn must already be held (else NOTFOUND).
 * @param e      pk, dn, plugin, device_id, model are read; secret and added_ms are ignored.
 * @return OK, NOTFOUND, EINVAL, ECONFLICT ((plugin, device_id) already mapped to another pk/dn), EIO.
 */
int gw_store_topo_add(gw_store_t *st, const gw_topo_entry_t *e, const char *secret,
                      gw_cred_source_t source);

/** Removes pk/dn from LocalTopoList (cloud-side delete: topo/get no longer lists it, or
 *  topo/delete acked while it was still in topo). The credential stays. NOTFOUND if absent. */
int gw_store_topo_remove(gw_store_t *st, const char *pk, const char *dn);

/** One device of LocalTopoList, with its decrypted secret. NOTFOUND, ECRYPTO, EINVAL, EIO. */
int gw_store_topo_get(gw_store_t *st, const char *pk, const char *dn, gw_topo_entry_t *out);
/** The topo row of a plugin device (plugin instance + device id). NOTFOUND if not proxied. */
int gw_store_topo_find(gw_store_t *st, const char *plugin, const char *device_id, gw_topo_entry_t *out);

/**
 * The whole LocalTopoList, ordered by added_ms then pk/dn, secrets decrypted.
 * @param out receives a malloc'ed array (NULL when empty), free with gw_store_topo_free().
 * @return OK, ECRYPTO (one row failed: nothing returned), ENOMEM, EIO.
 */
int gw_store_topo_list(gw_store_t *st, gw_topo_entry_t **out, size_t *count);
/** Wipes the secrets and frees a list from gw_store_topo_list(). */
void gw_store_topo_free(gw_topo_entry_t *list, size_t count);
int gw_store_topo_count(gw_store_t *st, size_t *count);

/**
 * A local delete (linkgwctl delete, the plugin reports the device gone for good): removes pk/dn
 * from LocalTopoList and inserts it into RemovedDevList with removed_ms = now, one transaction.
 * Use it for every local delete, link up or down, as the seed orders it: record first, then (link
 * up) send topo/delete and call gw_store_removed_delete() once it is acknowledged — a crash in
 * between leaves the device in RemovedDevList, so the delete is retried on the next connection.
 * If the device is not in LocalTopoList, nothing is recorded (the platform never heard of it) and
 * NOTFOUND is returned. The credential stays.
 */
int gw_store_topo_move_to_removed(gw_store_t *st, const char *pk, const char *dn);

/** Drops pk/dn from RemovedDevList once the platform acknowledged topo/delete. NOTFOUND if absent. */
int gw_store_removed_delete(gw_store_t *st, const char *pk, const char *dn);
/** Is pk/dn in RemovedDevList? */
int gw_store_removed_has(gw_store_t *st, const char *pk, const char *dn, bool *has);
/** The whole RemovedDevList, oldest first; free() the array. */
int gw_store_removed_list(gw_store_t *st, gw_removed_entry_t **out, size_t *count);

/* ---------------------------------------------------------------------------------------------
 * Key/value table for small state. Keys: 1..128 chars, no control chars; values: UTF-8 text up
 * to 64 KiB. Not for secrets (stored in clear).
 * --------------------------------------------------------------------------------------------- */
int gw_store_kv_set(gw_store_t *st, const char *key, const char *value);
/** @param value receives a malloc'ed copy (free it). NOTFOUND if unset. */
int gw_store_kv_get(gw_store_t *st, const char *key, char **value);
int gw_store_kv_delete(gw_store_t *st, const char *key);
/** Integer helpers over the same table (value stored as decimal text). */
int gw_store_kv_set_i64(gw_store_t *st, const char *key, int64_t v);
/** NOTFOUND if unset; EINVAL if the stored text is not an integer. */
int gw_store_kv_get_i64(gw_store_t *st, const char *key, int64_t *v);

#ifdef __cplusplus
}
#endif
#endif
