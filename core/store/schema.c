/*
 * The database schema and its migrations. PRAGMA user_version holds the version; migration i
 * brings version i to i + 1 in one transaction, so a crash mid-migration leaves version i intact.
 * To change the schema, append a step (never edit a released one) and bump
 * GW_STORE_SCHEMA_VERSION in store_internal.h.
 */
#include <stdio.h>

#include "store_internal.h"

static const char *const migrations[GW_STORE_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE meta("
    "  key   TEXT PRIMARY KEY,"
    "  value BLOB);"
    /* Small state in clear text. */
    "CREATE TABLE kv("
    "  key        TEXT PRIMARY KEY,"
    "  value      TEXT NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    /* The gateway's own identity: one row. secret = sealed for ("gateway", pk, dn). */
    "CREATE TABLE gateway("
    "  id         INTEGER PRIMARY KEY CHECK (id = 1),"
    "  pk         TEXT NOT NULL,"
    "  dn         TEXT NOT NULL,"
    "  secret     BLOB NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    /* Sub-device secrets, sealed for ("credential", pk, dn). Outlive topology membership. */
    "CREATE TABLE credential("
    "  pk         TEXT NOT NULL,"
    "  dn         TEXT NOT NULL,"
    "  secret     BLOB NOT NULL,"
    "  source     INTEGER NOT NULL CHECK (source IN (1, 2)),"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (pk, dn)) WITHOUT ROWID;"
    /* LocalTopoList. A proxied device always has a credential. */
    "CREATE TABLE topo("
    "  pk         TEXT NOT NULL,"
    "  dn         TEXT NOT NULL,"
    "  plugin     TEXT NOT NULL,"
    "  device_id  TEXT NOT NULL,"
    "  model      TEXT NOT NULL,"
    "  added_ms   INTEGER NOT NULL,"
    "  PRIMARY KEY (pk, dn),"
    "  UNIQUE (plugin, device_id),"
    "  FOREIGN KEY (pk, dn) REFERENCES credential(pk, dn)) WITHOUT ROWID;"
    /* RemovedDevList. */
    "CREATE TABLE removed("
    "  pk         TEXT NOT NULL,"
    "  dn         TEXT NOT NULL,"
    "  plugin     TEXT NOT NULL DEFAULT '',"
    "  device_id  TEXT NOT NULL DEFAULT '',"
    "  removed_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (pk, dn)) WITHOUT ROWID;"
    /* Store-and-forward journal. AUTOINCREMENT: sequence numbers are never reused. */
    "CREATE TABLE journal("
    "  seq        INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  pk         TEXT NOT NULL,"
    "  dn         TEXT NOT NULL,"
    "  kind       INTEGER NOT NULL CHECK (kind IN (1, 2)),"
    "  ident      TEXT NOT NULL,"
    "  value      TEXT NOT NULL,"
    "  ts_ms      INTEGER NOT NULL,"
    "  size       INTEGER NOT NULL);"
    /* Running totals, kept exact by triggers in the same transaction as each change. */
    "CREATE TABLE journal_meta("
    "  id      INTEGER PRIMARY KEY CHECK (id = 1),"
    "  bytes   INTEGER NOT NULL,"
    "  depth   INTEGER NOT NULL,"
    "  dropped INTEGER NOT NULL,"
    "  acked   INTEGER NOT NULL);"
    "INSERT INTO journal_meta VALUES (1, 0, 0, 0, 0);"
    "CREATE TRIGGER journal_ai AFTER INSERT ON journal BEGIN"
    "  UPDATE journal_meta SET bytes = bytes + NEW.size, depth = depth + 1 WHERE id = 1;"
    " END;"
    "CREATE TRIGGER journal_ad AFTER DELETE ON journal BEGIN"
    "  UPDATE journal_meta SET bytes = bytes - OLD.size, depth = depth - 1 WHERE id = 1;"
    " END;",
};

static int user_version(gw_store_t *st, int *v)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return st_sqlfail(st, "read user_version");
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? GW_STORE_OK : st_sqlfail(st, "read user_version");
}

int st_migrate(gw_store_t *st)
{
    int v = 0;
    int rc = user_version(st, &v);
    if (rc != GW_STORE_OK)
        return rc;
    if (v > GW_STORE_SCHEMA_VERSION)
        return st_fail(st, GW_STORE_ESCHEMA, "%s: schema version %d is newer than this linkgw (%d)",
                       st->db_path, v, GW_STORE_SCHEMA_VERSION);
    for (; v < GW_STORE_SCHEMA_VERSION; v++) {
        char *msg = NULL;
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d; COMMIT;", v + 1);
        if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(st->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
            st_fail(st, GW_STORE_EIO, "%s: schema migration %d -> %d: %s", st->db_path, v, v + 1,
                    msg ? msg : sqlite3_errmsg(st->db));
            sqlite3_free(msg);
            if (!sqlite3_get_autocommit(st->db))
                sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return GW_STORE_EIO;
        }
    }
    return GW_STORE_OK;
}
