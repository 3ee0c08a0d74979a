/*
 * The seed's LocalTopoList (table topo) and RemovedDevList (table removed). Secrets of topo rows
 * come from the credential table (one source of truth; a credential outlives the topology entry
 * so a secret is never requested twice). See store.h for contracts.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store_internal.h"

#define TOPO_COLS "t.pk, t.dn, t.plugin, t.device_id, t.model, t.added_ms, c.secret"
#define TOPO_FROM " FROM topo t JOIN credential c ON c.pk = t.pk AND c.dn = t.dn"

/** Fills @p e from a row selected with TOPO_COLS. */
static int topo_row(gw_store_t *st, sqlite3_stmt *s, gw_topo_entry_t *e)
{
    memset(e, 0, sizeof *e);
    st_copy_col(e->pk, sizeof e->pk, s, 0);
    st_copy_col(e->dn, sizeof e->dn, s, 1);
    st_copy_col(e->plugin, sizeof e->plugin, s, 2);
    st_copy_col(e->device_id, sizeof e->device_id, s, 3);
    st_copy_col(e->model, sizeof e->model, s, 4);
    e->added_ms = sqlite3_column_int64(s, 5);
    return st_column_secret(st, s, 6, "credential", e->pk, e->dn, e->secret);
}

static int step_done(gw_store_t *st, sqlite3_stmt *s, const char *what)
{
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GW_STORE_OK : st_sqlfail(st, what);
}

int gw_store_topo_add(gw_store_t *st, const gw_topo_entry_t *e, const char *secret,
                      gw_cred_source_t source)
{
    st_clear_err(st);
    if (!e)
        return st_fail(st, GW_STORE_EINVAL, "no entry");
    int rc = st_check_names(st, e->pk, e->dn);
    if (rc != GW_STORE_OK)
        return rc;
    if (!st_text_valid(e->plugin, GW_STORE_TEXT_MAX) || !st_text_valid(e->device_id, GW_STORE_TEXT_MAX) ||
        !st_text_valid(e->model, GW_STORE_TEXT_MAX))
        return st_fail(st, GW_STORE_EINVAL, "%s/%s: plugin, device id and model must be 1..%d printable "
                       "characters", e->pk, e->dn, GW_STORE_TEXT_MAX - 1);
    if (secret && !gw_store_secret_valid(secret))
        return st_fail(st, GW_STORE_EINVAL, "invalid DeviceSecret for %s/%s", e->pk, e->dn);
    if (secret && source != GW_CRED_IMPORTED && source != GW_CRED_REGISTERED)
        return st_fail(st, GW_STORE_EINVAL, "invalid credential source");
    if ((rc = st_tx_begin(st)) != GW_STORE_OK)
        return rc;

    if (secret) {
        rc = st_cred_put_locked(st, e->pk, e->dn, secret, source);
    } else {
        bool has = false;
        rc = gw_store_cred_has(st, e->pk, e->dn, &has);
        if (rc == GW_STORE_OK && !has)
            rc = st_fail(st, GW_STORE_NOTFOUND, "no credential held for %s/%s", e->pk, e->dn);
    }
    if (rc != GW_STORE_OK)
        return st_tx_end(st, rc); /* NOTFOUND changed nothing; errors roll back */

    sqlite3_stmt *s = st_stmt(st, "SELECT pk, dn FROM topo WHERE plugin = ?1 AND device_id = ?2");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, e->plugin, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, e->device_id, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        const char *opk = (const char *)sqlite3_column_text(s, 0);
        const char *odn = (const char *)sqlite3_column_text(s, 1);
        if (strcmp(opk, e->pk) != 0 || strcmp(odn, e->dn) != 0) {
            rc = st_fail(st, GW_STORE_ECONFLICT, "%s device %s is already proxied as %s/%s", e->plugin,
                         e->device_id, opk, odn);
        }
    } else if (r != SQLITE_DONE) {
        rc = st_sqlfail(st, "read topology");
    }
    sqlite3_reset(s);
    if (rc != GW_STORE_OK)
        return st_tx_end(st, rc);

    s = st_stmt(st, "INSERT INTO topo(pk, dn, plugin, device_id, model, added_ms) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (pk, dn) DO UPDATE SET "
                    "plugin = excluded.plugin, device_id = excluded.device_id, model = excluded.model");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, e->pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, e->dn, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, e->plugin, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, e->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, e->model, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, gw_store_now_ms());
    if ((rc = step_done(st, s, "add to topology")) != GW_STORE_OK)
        return st_tx_end(st, rc);

    s = st_stmt(st, "DELETE FROM removed WHERE pk = ?1 AND dn = ?2");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, e->pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, e->dn, -1, SQLITE_STATIC);
    return st_tx_end(st, step_done(st, s, "clear removed entry"));
}

/** Deletes pk/dn from @p table ("topo" or "removed" statements) inside the caller's transaction;
 *  NOTFOUND if no row. */
static int delete_row(gw_store_t *st, const char *sql, const char *pk, const char *dn)
{
    sqlite3_stmt *s = st_stmt(st, sql);
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    int rc = step_done(st, s, "delete");
    if (rc == GW_STORE_OK && sqlite3_changes(st->db) == 0)
        rc = GW_STORE_NOTFOUND;
    return rc;
}

int gw_store_topo_remove(gw_store_t *st, const char *pk, const char *dn)
{
    st_clear_err(st);
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK || (rc = st_tx_begin(st)) != GW_STORE_OK)
        return rc;
    return st_tx_end(st, delete_row(st, "DELETE FROM topo WHERE pk = ?1 AND dn = ?2", pk, dn));
}

int gw_store_topo_get(gw_store_t *st, const char *pk, const char *dn, gw_topo_entry_t *out)
{
    st_clear_err(st);
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "SELECT " TOPO_COLS TOPO_FROM " WHERE t.pk = ?1 AND t.dn = ?2");
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    rc = r == SQLITE_ROW ? topo_row(st, s, out) : r == SQLITE_DONE ? GW_STORE_NOTFOUND
                                                                    : st_sqlfail(st, "read topology");
    sqlite3_reset(s);
    return rc;
}

int gw_store_topo_find(gw_store_t *st, const char *plugin, const char *device_id, gw_topo_entry_t *out)
{
    st_clear_err(st);
    if (!st_text_valid(plugin, GW_STORE_TEXT_MAX) || !st_text_valid(device_id, GW_STORE_TEXT_MAX))
        return st_fail(st, GW_STORE_EINVAL, "invalid plugin or device id");
    sqlite3_stmt *s = st_stmt(st, "SELECT " TOPO_COLS TOPO_FROM " WHERE t.plugin = ?1 AND t.device_id = ?2");
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_text(s, 1, plugin, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, device_id, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    int rc = r == SQLITE_ROW ? topo_row(st, s, out) : r == SQLITE_DONE ? GW_STORE_NOTFOUND
                                                                        : st_sqlfail(st, "read topology");
    sqlite3_reset(s);
    return rc;
}

void gw_store_topo_free(gw_topo_entry_t *list, size_t count)
{
    if (!list)
        return;
    OPENSSL_cleanse(list, count * sizeof *list);
    free(list);
}

int gw_store_topo_list(gw_store_t *st, gw_topo_entry_t **out, size_t *count)
{
    st_clear_err(st);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s = st_stmt(st, "SELECT " TOPO_COLS TOPO_FROM " ORDER BY t.added_ms, t.pk, t.dn");
    if (!s)
        return GW_STORE_EIO;
    gw_topo_entry_t *arr = NULL;
    size_t n = 0, cap = 0;
    int rc = GW_STORE_OK, r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            gw_topo_entry_t *na = malloc(ncap * sizeof *na);
            if (!na) {
                rc = st_fail(st, GW_STORE_ENOMEM, "out of memory");
                break;
            }
            if (arr) {
                memcpy(na, arr, n * sizeof *arr);
                gw_store_topo_free(arr, n); /* wipe the old copy's secrets */
            }
            arr = na;
            cap = ncap;
        }
        if ((rc = topo_row(st, s, &arr[n])) != GW_STORE_OK)
            break;
        n++;
    }
    if (rc == GW_STORE_OK && r != SQLITE_DONE)
        rc = st_sqlfail(st, "list topology");
    sqlite3_reset(s);
    if (rc != GW_STORE_OK) {
        gw_store_topo_free(arr, cap);
        return rc;
    }
    *out = arr;
    *count = n;
    return GW_STORE_OK;
}

int gw_store_topo_count(gw_store_t *st, size_t *count)
{
    st_clear_err(st);
    sqlite3_stmt *s = st_stmt(st, "SELECT count(*) FROM topo");
    if (!s)
        return GW_STORE_EIO;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return r == SQLITE_ROW ? GW_STORE_OK : st_sqlfail(st, "count topology");
}

int gw_store_topo_move_to_removed(gw_store_t *st, const char *pk, const char *dn)
{
    st_clear_err(st);
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK || (rc = st_tx_begin(st)) != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "INSERT INTO removed(pk, dn, plugin, device_id, removed_ms) "
                                  "SELECT pk, dn, plugin, device_id, ?3 FROM topo WHERE pk = ?1 AND dn = ?2 "
                                  "ON CONFLICT (pk, dn) DO UPDATE SET plugin = excluded.plugin, "
                                  "device_id = excluded.device_id, removed_ms = excluded.removed_ms");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, gw_store_now_ms());
    if ((rc = step_done(st, s, "add to removed list")) != GW_STORE_OK)
        return st_tx_end(st, rc);
    if (sqlite3_changes(st->db) == 0)
        return st_tx_end(st, GW_STORE_NOTFOUND);
    return st_tx_end(st, delete_row(st, "DELETE FROM topo WHERE pk = ?1 AND dn = ?2", pk, dn));
}

int gw_store_removed_delete(gw_store_t *st, const char *pk, const char *dn)
{
    st_clear_err(st);
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK || (rc = st_tx_begin(st)) != GW_STORE_OK)
        return rc;
    return st_tx_end(st, delete_row(st, "DELETE FROM removed WHERE pk = ?1 AND dn = ?2", pk, dn));
}

int gw_store_removed_has(gw_store_t *st, const char *pk, const char *dn, bool *has)
{
    return st_pkdn_exists(st, "SELECT 1 FROM removed WHERE pk = ?1 AND dn = ?2", pk, dn, "read removed list", has);
}

int gw_store_removed_list(gw_store_t *st, gw_removed_entry_t **out, size_t *count)
{
    st_clear_err(st);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s = st_stmt(st, "SELECT pk, dn, plugin, device_id, removed_ms FROM removed "
                                  "ORDER BY removed_ms, pk, dn");
    if (!s)
        return GW_STORE_EIO;
    gw_removed_entry_t *arr = NULL;
    size_t n = 0, cap = 0;
    int rc = GW_STORE_OK, r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            gw_removed_entry_t *na = realloc(arr, ncap * sizeof *na);
            if (!na) {
                rc = st_fail(st, GW_STORE_ENOMEM, "out of memory");
                break;
            }
            arr = na;
            cap = ncap;
        }
        gw_removed_entry_t *e = &arr[n++];
        st_copy_col(e->pk, sizeof e->pk, s, 0);
        st_copy_col(e->dn, sizeof e->dn, s, 1);
        st_copy_col(e->plugin, sizeof e->plugin, s, 2);
        st_copy_col(e->device_id, sizeof e->device_id, s, 3);
        e->removed_ms = sqlite3_column_int64(s, 4);
    }
    if (rc == GW_STORE_OK && r != SQLITE_DONE)
        rc = st_sqlfail(st, "list removed devices");
    sqlite3_reset(s);
    if (rc != GW_STORE_OK) {
        free(arr);
        return rc;
    }
    *out = arr;
    *count = n;
    return GW_STORE_OK;
}
