/*
 * Opening and closing the store: state directory, file modes, SQLite pragmas, schema migration,
 * key check; plus the plumbing every other file uses (errors, statement cache, transactions,
 * batches). See store.h for the contracts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "journal.h"
#include "store_internal.h"

#define DB_NAME "linkgw.db"
#define KEY_NAME "store.key"
#define KEY_CHECK_TEXT "linkgw key check v1"

/* ------------------------------------------------------------------ errors */

int st_fail(gw_store_t *st, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
    return rc;
}

int st_sqlfail(gw_store_t *st, const char *what)
{
    return st_fail(st, GW_STORE_EIO, "%s: %s", what, sqlite3_errmsg(st->db));
}

void st_clear_err(gw_store_t *st) { st->err[0] = '\0'; }

const char *gw_store_errmsg(const gw_store_t *st) { return st ? st->err : ""; }

const char *gw_store_rc_str(int rc)
{
    switch (rc) {
    case GW_STORE_OK: return "ok";
    case GW_STORE_NOTFOUND: return "not found";
    case GW_STORE_EINVAL: return "invalid argument";
    case GW_STORE_EIO: return "I/O or database error";
    case GW_STORE_ECRYPTO: return "decryption failed";
    case GW_STORE_ECORRUPT: return "database corrupt";
    case GW_STORE_ENOMEM: return "out of memory";
    case GW_STORE_ESCHEMA: return "database schema too new";
    case GW_STORE_ECONFLICT: return "conflict";
    case GW_STORE_ESTATE: return "invalid state";
    default: return "unknown error";
    }
}

/* ------------------------------------------------------------------ helpers */

bool st_text_valid(const char *s, size_t max)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n + 1 >= max)
            return false;
    return true;
}

bool gw_store_name_valid(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == ':' || c == '@' || c == '-';
        if (!ok || n + 1 >= GW_STORE_NAME_MAX)
            return false;
    }
    return true;
}

bool gw_store_secret_valid(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f || n + 1 >= GW_STORE_SECRET_MAX)
            return false;
    return true;
}

void st_copy_col(char *dst, size_t cap, sqlite3_stmt *stmt, int col)
{
    const unsigned char *t = sqlite3_column_text(stmt, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int64_t gw_store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *gw_store_db_path(const gw_store_t *st) { return st->db_path; }
const char *gw_store_dir(const gw_store_t *st) { return st->dir; }
const char *gw_store_key_path(const gw_store_t *st) { return st->key_path; }

/* ------------------------------------------------------------------ statements, transactions */

sqlite3_stmt *st_stmt(gw_store_t *st, const char *sql)
{
    for (int i = 0; i < st->ncache; i++)
        if (st->cache[i].sql == sql) {
            sqlite3_reset(st->cache[i].stmt);
            sqlite3_clear_bindings(st->cache[i].stmt);
            return st->cache[i].stmt;
        }
    if (st->ncache == GW_STORE_STMT_CACHE) {
        st_fail(st, GW_STORE_EIO, "statement cache full");
        return NULL;
    }
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
        st_sqlfail(st, "prepare");
        return NULL;
    }
    st->cache[st->ncache].sql = sql;
    st->cache[st->ncache].stmt = stmt;
    st->ncache++;
    return stmt;
}

int st_exec(gw_store_t *st, const char *sql)
{
    sqlite3_stmt *s = st_stmt(st, sql);
    if (!s)
        return GW_STORE_EIO;
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return st_sqlfail(st, sql);
    return GW_STORE_OK;
}

static int tx_end(gw_store_t *st, int rc);

static int tx_begin(gw_store_t *st)
{
    return st_exec(st, st->in_batch ? "SAVEPOINT gw_op" : "BEGIN IMMEDIATE");
}

int st_tx_begin(gw_store_t *st)
{
    if (st->in_batch && st->batch_journal)
        return st_fail(st, GW_STORE_ESTATE, "a journal batch holds journal operations only");
    return tx_begin(st);
}

int st_tx_begin_journal(gw_store_t *st)
{
    if (!st->in_batch && st->journal_sync_normal && !st->sync_normal) {
        int rc = st_exec(st, "PRAGMA synchronous=NORMAL");
        if (rc != GW_STORE_OK)
            return rc;
        st->relaxed_now = true;
    }
    int rc = tx_begin(st);
    if (rc != GW_STORE_OK && st->relaxed_now) {
        st->relaxed_now = false;
        st_exec(st, "PRAGMA synchronous=FULL");
    }
    return rc;
}

/** Puts synchronous back to FULL after a relaxed journal transaction ended. */
static int restore_sync(gw_store_t *st, int rc)
{
    if (!st->relaxed_now)
        return rc;
    st->relaxed_now = false;
    int r = st_exec(st, "PRAGMA synchronous=FULL");
    return rc < 0 ? rc : (r == GW_STORE_OK ? rc : r);
}

int st_tx_end(gw_store_t *st, int rc)
{
    if (st->in_batch) /* a savepoint: the batch's commit restores the setting */
        return tx_end(st, rc);
    return restore_sync(st, tx_end(st, rc));
}

static int tx_end(gw_store_t *st, int rc)
{
    if (st->in_batch) {
        if (rc < 0) {
            char keep[sizeof st->err];
            memcpy(keep, st->err, sizeof keep);
            st_exec(st, "ROLLBACK TO gw_op");
            st_exec(st, "RELEASE gw_op");
            memcpy(st->err, keep, sizeof keep);
            return rc;
        }
        return st_exec(st, "RELEASE gw_op") == GW_STORE_OK ? rc : GW_STORE_EIO;
    }
    if (rc < 0) {
        char keep[sizeof st->err];
        memcpy(keep, st->err, sizeof keep);
        if (!sqlite3_get_autocommit(st->db))
            st_exec(st, "ROLLBACK");
        memcpy(st->err, keep, sizeof keep);
        return rc;
    }
    if (st_exec(st, "COMMIT") != GW_STORE_OK) {
        char keep[sizeof st->err];
        memcpy(keep, st->err, sizeof keep);
        if (!sqlite3_get_autocommit(st->db))
            st_exec(st, "ROLLBACK");
        memcpy(st->err, keep, sizeof keep);
        return GW_STORE_EIO;
    }
    return rc;
}

static int batch_begin(gw_store_t *st, bool journal)
{
    st_clear_err(st);
    if (st->in_batch)
        return st_fail(st, GW_STORE_ESTATE, "a batch is already open");
    int rc = journal ? st_tx_begin_journal(st) : tx_begin(st);
    if (rc == GW_STORE_OK) {
        st->in_batch = true;
        st->batch_journal = journal;
    }
    return rc;
}

int gw_store_batch_begin(gw_store_t *st) { return batch_begin(st, false); }

int gw_journal_batch_begin(gw_store_t *st) { return batch_begin(st, true); }

int gw_store_batch_commit(gw_store_t *st)
{
    st_clear_err(st);
    if (!st->in_batch)
        return st_fail(st, GW_STORE_ESTATE, "no batch is open");
    st->in_batch = st->batch_journal = false;
    return st_tx_end(st, GW_STORE_OK);
}

int gw_store_batch_rollback(gw_store_t *st)
{
    st_clear_err(st);
    if (!st->in_batch)
        return st_fail(st, GW_STORE_ESTATE, "no batch is open");
    st->in_batch = st->batch_journal = false;
    int rc = GW_STORE_OK;
    if (!sqlite3_get_autocommit(st->db))
        rc = st_exec(st, "ROLLBACK");
    return restore_sync(st, rc);
}

bool gw_store_in_batch(const gw_store_t *st) { return st->in_batch; }

/* ------------------------------------------------------------------ open */

/** Reads the single-row, single-column text result of a pragma into @p buf. */
static int pragma_text(gw_store_t *st, const char *sql, char *buf, size_t cap)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return st_sqlfail(st, sql);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        snprintf(buf, cap, "%s", t ? (const char *)t : "");
    } else if (rc == SQLITE_DONE) {
        buf[0] = '\0';
    } else {
        int r = st_sqlfail(st, sql);
        sqlite3_finalize(s);
        return r;
    }
    sqlite3_finalize(s);
    return GW_STORE_OK;
}

int gw_store_integrity_check(gw_store_t *st)
{
    st_clear_err(st);
    char res[200];
    int rc = pragma_text(st, "PRAGMA integrity_check", res, sizeof res);
    if (rc != GW_STORE_OK)
        return rc;
    if (strcmp(res, "ok") != 0)
        return st_fail(st, GW_STORE_ECORRUPT, "integrity check: %s", res);
    return GW_STORE_OK;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/** Creates @p dir 0700 if missing; it must be a directory. */
static int ensure_dir(gw_store_t *st, const char *dir)
{
    if (mkdir(dir, 0700) == 0)
        return GW_STORE_OK;
    if (errno != EEXIST)
        return st_fail(st, GW_STORE_EIO, "%s: cannot create state directory: %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return st_fail(st, GW_STORE_EIO, "%s: not a directory", dir);
    return GW_STORE_OK;
}

/** chmod 0600 the database files that exist (a file left by an older umask, or by sqlite3(1)). */
static int fix_modes(gw_store_t *st)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s%s", st->db_path, suffix[i]);
        struct stat sb;
        if (stat(p, &sb) != 0)
            continue;
        if ((sb.st_mode & 0777) != 0600 && chmod(p, 0600) != 0)
            return st_fail(st, GW_STORE_EIO, "%s: chmod 600: %s", p, strerror(errno));
    }
    return GW_STORE_OK;
}

static int pragmas(gw_store_t *st, const gw_store_options_t *o)
{
    char buf[64];
    int rc = pragma_text(st, "PRAGMA journal_mode=WAL", buf, sizeof buf);
    if (rc != GW_STORE_OK)
        return rc;
    if (strcmp(buf, "wal") != 0)
        return st_fail(st, GW_STORE_EIO, "%s: WAL mode unavailable (got \"%s\")", st->db_path, buf);
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA busy_timeout=%d", o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000);
    if ((rc = pragma_text(st, sql, buf, sizeof buf)) != GW_STORE_OK)
        return rc;
    if ((rc = pragma_text(st, o->sync_normal ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL",
                          buf, sizeof buf)) != GW_STORE_OK)
        return rc;
    if ((rc = pragma_text(st, "PRAGMA foreign_keys=ON", buf, sizeof buf)) != GW_STORE_OK)
        return rc;
    /* Memory: SQLite's default page cache grows to 2 MiB while the journal fills (an outage).
     * The journal appends at the end of one table and the drain reads it in order, so a
     * small cache costs nothing measurable and keeps the daemon's memory flat under backlog. */
    if ((rc = pragma_text(st, "PRAGMA cache_size=-256", buf, sizeof buf)) != GW_STORE_OK) /* KiB */
        return rc;
    /* Touch the database so -wal and -shm exist now, under our umask. */
    return pragma_text(st, "SELECT count(*) FROM sqlite_master", buf, sizeof buf);
}

/** Verifies (or, on first use, records) the value sealed with the key, so a wrong or regenerated
 *  key file is detected at open instead of at the first secret. */
static int key_check(gw_store_t *st)
{
    unsigned char aad[128];
    size_t aadlen = st_aad(aad, sizeof aad, "meta", "key_check", "");
    sqlite3_stmt *s = st_stmt(st, "SELECT value FROM meta WHERE key='key_check'");
    if (!s)
        return GW_STORE_EIO;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(s, 0);
        int n = sqlite3_column_bytes(s, 0);
        unsigned char pt[64];
        size_t ptlen = 0;
        int ok = blob && n > GW_SEAL_OVERHEAD && n - GW_SEAL_OVERHEAD <= (int)sizeof pt &&
                 st_unseal(st->key, aad, aadlen, blob, (size_t)n, pt, &ptlen) == 0 &&
                 ptlen == strlen(KEY_CHECK_TEXT) && memcmp(pt, KEY_CHECK_TEXT, ptlen) == 0;
        sqlite3_reset(s);
        if (!ok)
            return st_fail(st, GW_STORE_ECRYPTO, "%s does not match the key this database was written with",
                           st->key_path);
        return GW_STORE_OK;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return st_sqlfail(st, "read key check");
    unsigned char blob[sizeof KEY_CHECK_TEXT + GW_SEAL_OVERHEAD];
    size_t len = strlen(KEY_CHECK_TEXT);
    if (st_seal(st->key, aad, aadlen, (const unsigned char *)KEY_CHECK_TEXT, len, blob) != 0)
        return st_fail(st, GW_STORE_ECRYPTO, "cannot seal the key check value");
    if ((rc = st_tx_begin(st)) != GW_STORE_OK)
        return rc;
    s = st_stmt(st, "INSERT INTO meta(key, value) VALUES('key_check', ?1)");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_blob(s, 1, blob, (int)(len + GW_SEAL_OVERHEAD), SQLITE_TRANSIENT);
    rc = sqlite3_step(s) == SQLITE_DONE ? GW_STORE_OK : st_sqlfail(st, "store key check");
    sqlite3_reset(s);
    return st_tx_end(st, rc);
}

/** True if the database already holds a key check value (so its key must exist). */
static int has_key_check(gw_store_t *st, bool *has)
{
    sqlite3_stmt *s = st_stmt(st, "SELECT 1 FROM meta WHERE key='key_check'");
    if (!s)
        return GW_STORE_EIO;
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return st_sqlfail(st, "read key check");
    *has = rc == SQLITE_ROW;
    return GW_STORE_OK;
}

static void sqlite_config(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)NULL, 0, 0);
}

/*
 * SQLite gives every page cache (one per attached database: main, and temp
 * once integrity_check or a sort needs it) an up-front bulk allocation of
 * 20 pages, ~87 KB, kept for the connection's life whether the pages are
 * used or not. Turning that off makes the cache allocate page by page, so it
 * holds what it caches and gw_store_release_memory() can give it all back.
 * sqlite3_config() works only before SQLite initialises; if something else in
 * the process (a plugin) initialised it first, this does nothing, harmlessly.
 */
static void sqlite_config_once(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, sqlite_config);
}

static int open_steps(gw_store_t *st, const char *state_dir, const gw_store_options_t *o)
{
    sqlite_config_once();
    int rc = ensure_dir(st, state_dir);
    if (rc != GW_STORE_OK)
        return rc;

    mode_t old = umask(077);
    int src = sqlite3_open_v2(st->db_path, &st->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        umask(old);
        if (!st->db)
            return st_fail(st, GW_STORE_ENOMEM, "sqlite3_open: out of memory");
        return st_fail(st, GW_STORE_EIO, "%s: %s", st->db_path, sqlite3_errmsg(st->db));
    }
    sqlite3_extended_result_codes(st->db, 1);
    rc = pragmas(st, o);
    umask(old);
    if (rc != GW_STORE_OK)
        return rc;
    if ((rc = fix_modes(st)) != GW_STORE_OK)
        return rc;

    if (o->integrity_check && (rc = gw_store_integrity_check(st)) != GW_STORE_OK)
        return rc;
    if ((rc = st_migrate(st)) != GW_STORE_OK)
        return rc;

    bool has = false, created = false;
    if ((rc = has_key_check(st, &has)) != GW_STORE_OK)
        return rc;
    if ((rc = st_key_load_or_create(st, !has, &created)) != GW_STORE_OK)
        return rc;
    return key_check(st);
}

size_t gw_store_release_memory(gw_store_t *st)
{
    if (!st || !st->db)
        return 0;
    int before = 0, after = 0, peak = 0;
    if (sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_USED, &before, &peak, 0) != SQLITE_OK)
        before = 0;
    (void)sqlite3_db_release_memory(st->db);
    if (sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_USED, &after, &peak, 0) != SQLITE_OK)
        return 0;
    return before > after ? (size_t)(before - after) : 0;
}

int gw_store_open(const char *state_dir, const gw_store_options_t *opts, gw_store_t **out, char *err,
                  size_t errlen)
{
    gw_store_options_t defaults = {0};
    const gw_store_options_t *o = opts ? opts : &defaults;
    if (out)
        *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!state_dir || !*state_dir || !out) {
        if (err && errlen)
            snprintf(err, errlen, "gw_store_open: state directory and output handle are required");
        return GW_STORE_EINVAL;
    }
    gw_store_t *st = calloc(1, sizeof *st);
    if (!st) {
        if (err && errlen)
            snprintf(err, errlen, "gw_store_open: out of memory");
        return GW_STORE_ENOMEM;
    }
    st->journal_budget = o->journal_max_bytes ? o->journal_max_bytes : 16u * 1024 * 1024;
    st->sync_normal = o->sync_normal;
    st->journal_sync_normal = o->journal_sync_normal;
    st->dir = strdup(state_dir);
    st->db_path = path_join(state_dir, DB_NAME);
    st->key_path = path_join(state_dir, KEY_NAME);
    int rc = (!st->dir || !st->db_path || !st->key_path)
                 ? st_fail(st, GW_STORE_ENOMEM, "out of memory")
                 : open_steps(st, state_dir, o);
    if (rc != GW_STORE_OK) {
        if (err && errlen)
            snprintf(err, errlen, "%s", st->err);
        gw_store_close(st);
        return rc;
    }
    *out = st;
    return GW_STORE_OK;
}

void gw_store_close(gw_store_t *st)
{
    if (!st)
        return;
    if (st->in_batch)
        gw_store_batch_rollback(st);
    for (int i = 0; i < st->ncache; i++)
        sqlite3_finalize(st->cache[i].stmt);
    if (st->db)
        sqlite3_close(st->db);
    OPENSSL_cleanse(st->key, sizeof st->key);
    free(st->dir);
    free(st->db_path);
    free(st->key_path);
    free(st);
}
