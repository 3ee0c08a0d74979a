/*
 * Secrets in rows: sub-device credentials (table credential) and the gateway's own identity
 * (table gateway). Every secret is sealed for its row (see seal.c); see store.h for contracts.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store_internal.h"

int st_bind_secret(gw_store_t *st, sqlite3_stmt *stmt, int idx, const char *table, const char *pk,
                   const char *dn, const char *secret)
{
    unsigned char aad[256];
    size_t aadlen = st_aad(aad, sizeof aad, table, pk, dn);
    size_t n = strlen(secret);
    unsigned char blob[GW_STORE_SECRET_MAX + GW_SEAL_OVERHEAD];
    if (!aadlen || n >= GW_STORE_SECRET_MAX)
        return st_fail(st, GW_STORE_EINVAL, "secret or row identity too long");
    if (st_seal(st->key, aad, aadlen, (const unsigned char *)secret, n, blob) != 0)
        return st_fail(st, GW_STORE_ECRYPTO, "cannot encrypt the secret of %s/%s", pk, dn);
    int rc = sqlite3_bind_blob(stmt, idx, blob, (int)(n + GW_SEAL_OVERHEAD), SQLITE_TRANSIENT);
    OPENSSL_cleanse(blob, sizeof blob);
    return rc == SQLITE_OK ? GW_STORE_OK : st_sqlfail(st, "bind secret");
}

int st_column_secret(gw_store_t *st, sqlite3_stmt *stmt, int col, const char *table, const char *pk,
                     const char *dn, char out[GW_STORE_SECRET_MAX])
{
    unsigned char aad[256];
    size_t aadlen = st_aad(aad, sizeof aad, table, pk, dn);
    const unsigned char *blob = sqlite3_column_blob(stmt, col);
    int n = sqlite3_column_bytes(stmt, col);
    size_t ptlen = 0;
    out[0] = '\0';
    if (!aadlen || !blob || n <= GW_SEAL_OVERHEAD || n - GW_SEAL_OVERHEAD >= GW_STORE_SECRET_MAX ||
        st_unseal(st->key, aad, aadlen, blob, (size_t)n, (unsigned char *)out, &ptlen) != 0)
        return st_fail(st, GW_STORE_ECRYPTO,
                       "the stored secret of %s/%s does not authenticate (wrong key, or the row was "
                       "tampered with or copied from another row)",
                       pk, dn);
    out[ptlen] = '\0';
    if (!gw_store_secret_valid(out)) {
        OPENSSL_cleanse(out, GW_STORE_SECRET_MAX);
        return st_fail(st, GW_STORE_ECRYPTO, "the stored secret of %s/%s is malformed", pk, dn);
    }
    return GW_STORE_OK;
}

int st_check_names(gw_store_t *st, const char *pk, const char *dn)
{
    if (!gw_store_name_valid(pk))
        return st_fail(st, GW_STORE_EINVAL, "invalid ProductKey");
    if (!gw_store_name_valid(dn))
        return st_fail(st, GW_STORE_EINVAL, "invalid DeviceName");
    return GW_STORE_OK;
}

int st_pkdn_exists(gw_store_t *st, const char *sql, const char *pk, const char *dn, const char *what, bool *has)
{
    st_clear_err(st);
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, sql);
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return st_sqlfail(st, what);
    *has = r == SQLITE_ROW;
    return GW_STORE_OK;
}

int st_cred_put_locked(gw_store_t *st, const char *pk, const char *dn, const char *secret,
                       gw_cred_source_t source)
{
    sqlite3_stmt *s = st_stmt(st, "INSERT INTO credential(pk, dn, secret, source, updated_ms) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (pk, dn) DO UPDATE SET "
                                  "secret = excluded.secret, source = excluded.source, "
                                  "updated_ms = excluded.updated_ms");
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    int rc = st_bind_secret(st, s, 3, "credential", pk, dn, secret);
    if (rc != GW_STORE_OK)
        return rc;
    sqlite3_bind_int(s, 4, (int)source);
    sqlite3_bind_int64(s, 5, gw_store_now_ms());
    rc = sqlite3_step(s) == SQLITE_DONE ? GW_STORE_OK : st_sqlfail(st, "store credential");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s); /* drop the copy of the ciphertext */
    return rc;
}

int gw_store_cred_put(gw_store_t *st, const char *pk, const char *dn, const char *secret,
                      gw_cred_source_t source)
{
    st_clear_err(st);
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK)
        return rc;
    if (!gw_store_secret_valid(secret))
        return st_fail(st, GW_STORE_EINVAL, "invalid DeviceSecret for %s/%s", pk, dn);
    if (source != GW_CRED_IMPORTED && source != GW_CRED_REGISTERED)
        return st_fail(st, GW_STORE_EINVAL, "invalid credential source");
    if ((rc = st_tx_begin(st)) != GW_STORE_OK)
        return rc;
    return st_tx_end(st, st_cred_put_locked(st, pk, dn, secret, source));
}

int gw_store_cred_get(gw_store_t *st, const char *pk, const char *dn, char secret[GW_STORE_SECRET_MAX],
                      gw_cred_source_t *source_out)
{
    st_clear_err(st);
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "SELECT secret, source FROM credential WHERE pk = ?1 AND dn = ?2");
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        rc = st_column_secret(st, s, 0, "credential", pk, dn, secret);
        if (rc == GW_STORE_OK && source_out)
            *source_out = (gw_cred_source_t)sqlite3_column_int(s, 1);
    } else {
        rc = r == SQLITE_DONE ? GW_STORE_NOTFOUND : st_sqlfail(st, "read credential");
    }
    sqlite3_reset(s);
    return rc;
}

int gw_store_cred_has(gw_store_t *st, const char *pk, const char *dn, bool *has)
{
    return st_pkdn_exists(st, "SELECT 1 FROM credential WHERE pk = ?1 AND dn = ?2", pk, dn, "read credential", has);
}

int gw_store_cred_delete(gw_store_t *st, const char *pk, const char *dn)
{
    st_clear_err(st);
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK || (rc = st_tx_begin(st)) != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "SELECT 1 FROM topo WHERE pk = ?1 AND dn = ?2");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r == SQLITE_ROW)
        return st_tx_end(st, st_fail(st, GW_STORE_ECONFLICT, "%s/%s is in the topology; remove it first",
                                     pk, dn));
    if (r != SQLITE_DONE)
        return st_tx_end(st, st_sqlfail(st, "read topology"));
    s = st_stmt(st, "DELETE FROM credential WHERE pk = ?1 AND dn = ?2");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        return st_tx_end(st, st_sqlfail(st, "delete credential"));
    return st_tx_end(st, sqlite3_changes(st->db) ? GW_STORE_OK : GW_STORE_NOTFOUND);
}

int gw_store_cred_count(gw_store_t *st, size_t *count)
{
    st_clear_err(st);
    sqlite3_stmt *s = st_stmt(st, "SELECT count(*) FROM credential");
    if (!s)
        return GW_STORE_EIO;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return r == SQLITE_ROW ? GW_STORE_OK : st_sqlfail(st, "count credentials");
}

/* ------------------------------------------------------------------ gateway identity */

int gw_store_gateway_set(gw_store_t *st, const char *pk, const char *dn, const char *secret)
{
    st_clear_err(st);
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK)
        return rc;
    if (!gw_store_secret_valid(secret))
        return st_fail(st, GW_STORE_EINVAL, "invalid gateway DeviceSecret");
    if ((rc = st_tx_begin(st)) != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "INSERT OR REPLACE INTO gateway(id, pk, dn, secret, updated_ms) "
                                  "VALUES (1, ?1, ?2, ?3, ?4)");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    rc = st_bind_secret(st, s, 3, "gateway", pk, dn, secret);
    if (rc == GW_STORE_OK) {
        sqlite3_bind_int64(s, 4, gw_store_now_ms());
        rc = sqlite3_step(s) == SQLITE_DONE ? GW_STORE_OK : st_sqlfail(st, "store gateway identity");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return st_tx_end(st, rc);
}

int gw_store_gateway_get(gw_store_t *st, char pk[GW_STORE_NAME_MAX], char dn[GW_STORE_NAME_MAX],
                         char secret[GW_STORE_SECRET_MAX])
{
    st_clear_err(st);
    sqlite3_stmt *s = st_stmt(st, "SELECT pk, dn, secret FROM gateway WHERE id = 1");
    if (!s)
        return GW_STORE_EIO;
    int r = sqlite3_step(s), rc;
    if (r == SQLITE_ROW) {
        st_copy_col(pk, GW_STORE_NAME_MAX, s, 0);
        st_copy_col(dn, GW_STORE_NAME_MAX, s, 1);
        rc = st_column_secret(st, s, 2, "gateway", pk, dn, secret);
    } else {
        rc = r == SQLITE_DONE ? GW_STORE_NOTFOUND : st_sqlfail(st, "read gateway identity");
    }
    sqlite3_reset(s);
    return rc;
}

int gw_store_gateway_clear(gw_store_t *st)
{
    st_clear_err(st);
    int rc = st_tx_begin(st);
    if (rc != GW_STORE_OK)
        return rc;
    rc = st_exec(st, "DELETE FROM gateway");
    if (rc == GW_STORE_OK && sqlite3_changes(st->db) == 0)
        rc = GW_STORE_NOTFOUND;
    return st_tx_end(st, rc);
}
