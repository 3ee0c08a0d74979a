/* Helpers shared by the gw_store tests; see test_util.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "test_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *p = NULL;
    if (asprintf(&p, "%s/linkgw-store-XXXXXX", base && *base ? base : "/tmp") < 0)
        fail_msg("asprintf");
    if (!mkdtemp(p))
        fail_msg("mkdtemp %s", p);
    return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

void tu_rmrf(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_path(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        fail_msg("asprintf");
    return p;
}

int tu_mode(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 0777) : -1;
}

bool tu_file_contains(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(len > 0 ? (size_t)len : 1);
    size_t got = fread(buf, 1, (size_t)(len > 0 ? len : 0), f);
    fclose(f);
    bool found = memmem(buf, got, needle, n) != NULL;
    free(buf);
    return found;
}

gw_store_t *tu_open(const char *dir, const gw_store_options_t *opts)
{
    gw_store_t *st = NULL;
    char err[256];
    int rc = gw_store_open(dir, opts, &st, err, sizeof err);
    if (rc != GW_STORE_OK)
        fail_msg("gw_store_open(%s): %d %s", dir, rc, err);
    return st;
}

void tu_sql(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(db_path, &db) != SQLITE_OK)
        fail_msg("sqlite3_open %s", db_path);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

long long tu_sql_int(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_open(db_path, &db) != SQLITE_OK || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) != SQLITE_ROW)
        fail_msg("%s: no row", sql);
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

void tu_flip_blob_bit(const char *db_path, const char *table, const char *col, const char *where, int offset)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s", col, table, where);
    if (sqlite3_open(db_path, &db) != SQLITE_OK || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int n = sqlite3_column_bytes(s, 0);
    if (offset >= n)
        fail_msg("blob of %d bytes, offset %d", n, offset);
    unsigned char *buf = malloc((size_t)n);
    memcpy(buf, sqlite3_column_blob(s, 0), (size_t)n);
    sqlite3_finalize(s);
    buf[offset] ^= 1;
    snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?1 WHERE %s", table, col, where);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_bind_blob(s, 1, buf, n, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    sqlite3_close(db);
    free(buf);
}
