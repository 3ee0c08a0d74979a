/* Helpers shared by the gw_store tests; see test_util.h. */
#define _GNU_SOURCE
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
