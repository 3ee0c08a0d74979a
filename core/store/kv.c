/*
 * Key/value table for small state in clear text (never secrets). See store.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define KV_VALUE_MAX (64 * 1024)

int gw_store_kv_set(gw_store_t *st, const char *key, const char *value)
{
    st_clear_err(st);
    if (!st_text_valid(key, GW_STORE_TEXT_MAX))
        return st_fail(st, GW_STORE_EINVAL, "invalid key");
    if (!value || strlen(value) > KV_VALUE_MAX)
        return st_fail(st, GW_STORE_EINVAL, "value of %s missing or larger than %d bytes", key, KV_VALUE_MAX);
    int rc = st_tx_begin(st);
    if (rc != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "INSERT OR REPLACE INTO kv(key, value, updated_ms) VALUES (?1, ?2, ?3)");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, gw_store_now_ms());
    rc = sqlite3_step(s) == SQLITE_DONE ? GW_STORE_OK : st_sqlfail(st, "store value");
    sqlite3_reset(s);
    return st_tx_end(st, rc);
}

int gw_store_kv_get(gw_store_t *st, const char *key, char **value)
{
    st_clear_err(st);
    *value = NULL;
    if (!st_text_valid(key, GW_STORE_TEXT_MAX))
        return st_fail(st, GW_STORE_EINVAL, "invalid key");
    sqlite3_stmt *s = st_stmt(st, "SELECT value FROM kv WHERE key = ?1");
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int r = sqlite3_step(s), rc = GW_STORE_OK;
    if (r == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        *value = strdup(t ? t : "");
        if (!*value)
            rc = st_fail(st, GW_STORE_ENOMEM, "out of memory");
    } else {
        rc = r == SQLITE_DONE ? GW_STORE_NOTFOUND : st_sqlfail(st, "read value");
    }
    sqlite3_reset(s);
    return rc;
}

int gw_store_kv_delete(gw_store_t *st, const char *key)
{
    st_clear_err(st);
    if (!st_text_valid(key, GW_STORE_TEXT_MAX))
        return st_fail(st, GW_STORE_EINVAL, "invalid key");
    int rc = st_tx_begin(st);
    if (rc != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "DELETE FROM kv WHERE key = ?1");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s) == SQLITE_DONE ? GW_STORE_OK : st_sqlfail(st, "delete value");
    sqlite3_reset(s);
    if (rc == GW_STORE_OK && sqlite3_changes(st->db) == 0)
        rc = GW_STORE_NOTFOUND;
    return st_tx_end(st, rc);
}

int gw_store_kv_set_i64(gw_store_t *st, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return gw_store_kv_set(st, key, buf);
}

int gw_store_kv_get_i64(gw_store_t *st, const char *key, int64_t *v)
{
    char *s = NULL;
    int rc = gw_store_kv_get(st, key, &s);
    if (rc != GW_STORE_OK)
        return rc;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        rc = st_fail(st, GW_STORE_EINVAL, "value of %s is not an integer", key);
    else
        *v = (int64_t)x;
    free(s);
    return rc;
}
