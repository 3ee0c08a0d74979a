/*
 * gw_store: opening (directory and file modes, schema version, options), key/value table, gateway
 * identity, credentials, LocalTopoList / RemovedDevList and batches.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

typedef struct {
    char *base;  /* scratch directory */
    char *dir;   /* state directory inside it (not created before open) */
    gw_store_t *st;
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    fx->base = tu_mkdtemp();
    fx->dir = tu_path(fx->base, "state");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    gw_store_close(fx->st);
    tu_rmrf(fx->base);
    free(fx->dir);
    free(fx->base);
    free(fx);
    return 0;
}

static gw_topo_entry_t entry(const char *pk, const char *dn, const char *plugin, const char *id)
{
    gw_topo_entry_t e;
    memset(&e, 0, sizeof e);
    snprintf(e.pk, sizeof e.pk, "%s", pk);
    snprintf(e.dn, sizeof e.dn, "%s", dn);
    snprintf(e.plugin, sizeof e.plugin, "%s", plugin);
    snprintf(e.device_id, sizeof e.device_id, "%s", id);
    snprintf(e.model, sizeof e.model, "sim-thermo");
    return e;
}

/* ------------------------------------------------------------------ open */

static void test_open_creates_private_files(void **state)
{
    fx_t *fx = *state;
    mode_t old = umask(0); /* the store must not depend on the caller's umask */
    fx->st = tu_open(fx->dir, NULL);
    umask(old);
    assert_int_equal(tu_mode(fx->dir), 0700);
    char *db = tu_path(fx->dir, "linkgw.db"), *wal = tu_path(fx->dir, "linkgw.db-wal"),
         *shm = tu_path(fx->dir, "linkgw.db-shm"), *key = tu_path(fx->dir, "store.key");
    assert_string_equal(gw_store_db_path(fx->st), db);
    assert_string_equal(gw_store_key_path(fx->st), key);
    TU_OK(gw_store_kv_set(fx->st, "k", "v")); /* a write: -wal exists and has frames */
    assert_int_equal(tu_mode(db), 0600);
    assert_int_equal(tu_mode(wal), 0600);
    assert_int_equal(tu_mode(shm), 0600);
    assert_int_equal(tu_mode(key), 0600);
    struct stat sb;
    assert_int_equal(stat(key, &sb), 0);
    assert_int_equal(sb.st_size, 32);
    /* no temporary key file left behind */
    char *tmp = NULL;
    assert_true(asprintf(&tmp, "%s.tmp.%ld", key, (long)getpid()) > 0);
    assert_int_equal(tu_mode(tmp), -1);
    free(tmp);
    free(db), free(wal), free(shm), free(key);
}

static void test_open_fixes_loose_db_mode_and_reopens(void **state)
{
    fx_t *fx = *state;
    fx->st = tu_open(fx->dir, NULL);
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "dev1", "s3cr3t", GW_CRED_IMPORTED));
    gw_store_close(fx->st);
    fx->st = NULL;
    char *db = tu_path(fx->dir, "linkgw.db");
    assert_int_equal(chmod(db, 0644), 0);
    gw_store_options_t o = {.integrity_check = true};
    fx->st = tu_open(fx->dir, &o);
    assert_int_equal(tu_mode(db), 0600);
    char secret[GW_STORE_SECRET_MAX];
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "dev1", secret, NULL));
    assert_string_equal(secret, "s3cr3t");
    TU_OK(gw_store_integrity_check(fx->st));
    free(db);
}

static void test_open_errors(void **state)
{
    fx_t *fx = *state;
    gw_store_t *st = (gw_store_t *)1;
    char err[256];
    assert_int_equal(gw_store_open(NULL, NULL, &st, err, sizeof err), GW_STORE_EINVAL);
    assert_null(st);
    assert_int_equal(gw_store_open("", NULL, &st, err, sizeof err), GW_STORE_EINVAL);
    /* parent missing: the store creates one level only */
    char *deep = tu_path(fx->dir, "a/b");
    assert_int_equal(gw_store_open(deep, NULL, &st, err, sizeof err), GW_STORE_EIO);
    assert_non_null(strstr(err, "cannot create state directory"));
    free(deep);
    /* a file where the directory should be */
    char *file = tu_path(fx->base, "plain");
    FILE *f = fopen(file, "w");
    fclose(f);
    assert_int_equal(gw_store_open(file, NULL, &st, err, sizeof err), GW_STORE_EIO);
    assert_non_null(strstr(err, "not a directory"));
    free(file);
}

static void test_schema_version_too_new(void **state)
{
    fx_t *fx = *state;
    fx->st = tu_open(fx->dir, NULL);
    gw_store_close(fx->st);
    fx->st = NULL;
    char *db = tu_path(fx->dir, "linkgw.db");
    tu_sql(db, "PRAGMA user_version=99");
    gw_store_t *st = NULL;
    char err[256];
    assert_int_equal(gw_store_open(fx->dir, NULL, &st, err, sizeof err), GW_STORE_ESCHEMA);
    assert_null(st);
    assert_non_null(strstr(err, "newer"));
    tu_sql(db, "PRAGMA user_version=1");
    fx->st = tu_open(fx->dir, NULL);
    free(db);
}

static void test_integrity_check_detects_damage(void **state)
{
    fx_t *fx = *state;
    fx->st = tu_open(fx->dir, NULL);
    TU_OK(gw_store_batch_begin(fx->st));
    char key[32], val[600];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "key%03d", i);
        TU_OK(gw_store_kv_set(fx->st, key, val));
    }
    TU_OK(gw_store_batch_commit(fx->st));
    TU_OK(gw_store_integrity_check(fx->st));
    gw_store_close(fx->st);
    fx->st = NULL;
    /* scribble over the middle of the file (well past the header and schema pages) */
    char *db = tu_path(fx->dir, "linkgw.db");
    FILE *f = fopen(db, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    assert_true(len > 64 * 1024);
    fseek(f, len / 2, SEEK_SET);
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 37 + 11);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    gw_store_options_t o = {.integrity_check = true};
    gw_store_t *st = NULL;
    char err[256] = "";
    int rc = gw_store_open(fx->dir, &o, &st, err, sizeof err);
    print_message("damaged database refused: %d (%s)\n", rc, err);
    assert_true(rc == GW_STORE_ECORRUPT || rc == GW_STORE_EIO);
    assert_null(st);
    assert_true(err[0] != '\0');
    free(db);
}

static void test_rc_strings_and_validation(void **state)
{
    (void)state;
    assert_string_equal(gw_store_rc_str(GW_STORE_OK), "ok");
    assert_string_equal(gw_store_rc_str(GW_STORE_ECRYPTO), "decryption failed");
    assert_string_equal(gw_store_rc_str(12345), "unknown error");
    assert_true(gw_store_name_valid("a1B2c3"));
    assert_true(gw_store_name_valid("dev_01-x.y:z@w"));
    assert_false(gw_store_name_valid(""));
    assert_false(gw_store_name_valid(NULL));
    assert_false(gw_store_name_valid("a/b"));
    assert_false(gw_store_name_valid("a b"));
    assert_false(gw_store_name_valid("a+#"));
    char longname[80];
    memset(longname, 'x', 64);
    longname[64] = '\0';
    assert_true(gw_store_name_valid(longname));
    longname[64] = 'x', longname[65] = '\0';
    assert_false(gw_store_name_valid(longname));
    assert_true(gw_store_secret_valid("abcDEF0123!$"));
    assert_false(gw_store_secret_valid("has space"));
    assert_false(gw_store_secret_valid("tab\t"));
    assert_false(gw_store_secret_valid(""));
}

/* ------------------------------------------------------------------ kv */

static void test_kv(void **state)
{
    fx_t *fx = *state;
    fx->st = tu_open(fx->dir, NULL);
    char *v = NULL;
    assert_int_equal(gw_store_kv_get(fx->st, "missing", &v), GW_STORE_NOTFOUND);
    assert_null(v);
    TU_OK(gw_store_kv_set(fx->st, "cloud.last_connect", "2026-11-27T10:00:00Z"));
    TU_OK(gw_store_kv_get(fx->st, "cloud.last_connect", &v));
    assert_string_equal(v, "2026-11-27T10:00:00Z");
    free(v);
    TU_OK(gw_store_kv_set(fx->st, "cloud.last_connect", ""));
    TU_OK(gw_store_kv_get(fx->st, "cloud.last_connect", &v));
    assert_string_equal(v, "");
    free(v);
    int64_t i = 0;
    TU_OK(gw_store_kv_set_i64(fx->st, "n", -1234567890123LL));
    TU_OK(gw_store_kv_get_i64(fx->st, "n", &i));
    assert_true(i == -1234567890123LL);
    TU_OK(gw_store_kv_set(fx->st, "n", "12abc"));
    assert_int_equal(gw_store_kv_get_i64(fx->st, "n", &i), GW_STORE_EINVAL);
    TU_OK(gw_store_kv_delete(fx->st, "n"));
    assert_int_equal(gw_store_kv_delete(fx->st, "n"), GW_STORE_NOTFOUND);
    assert_int_equal(gw_store_kv_get_i64(fx->st, "n", &i), GW_STORE_NOTFOUND);
    assert_int_equal(gw_store_kv_set(fx->st, "", "x"), GW_STORE_EINVAL);
    assert_int_equal(gw_store_kv_set(fx->st, "bad\nkey", "x"), GW_STORE_EINVAL);
    assert_int_equal(gw_store_kv_set(fx->st, "k", NULL), GW_STORE_EINVAL);
    /* survives a reopen */
    TU_OK(gw_store_kv_set(fx->st, "persist", "yes"));
    gw_store_close(fx->st);
    fx->st = tu_open(fx->dir, NULL);
    TU_OK(gw_store_kv_get(fx->st, "persist", &v));
    assert_string_equal(v, "yes");
    free(v);
}

/* ------------------------------------------------------------------ gateway identity */

static void test_gateway_identity(void **state)
{
    fx_t *fx = *state;
    fx->st = tu_open(fx->dir, NULL);
    char pk[GW_STORE_NAME_MAX], dn[GW_STORE_NAME_MAX], sec[GW_STORE_SECRET_MAX];
    assert_int_equal(gw_store_gateway_get(fx->st, pk, dn, sec), GW_STORE_NOTFOUND);
    TU_OK(gw_store_gateway_set(fx->st, "a1GwPK", "gw-0001", "GwSecret01"));
    TU_OK(gw_store_gateway_set(fx->st, "a1GwPK", "gw-0001", "GwSecret02"));
    gw_store_close(fx->st);
    fx->st = tu_open(fx->dir, NULL);
    TU_OK(gw_store_gateway_get(fx->st, pk, dn, sec));
    assert_string_equal(pk, "a1GwPK");
    assert_string_equal(dn, "gw-0001");
    assert_string_equal(sec, "GwSecret02");
    assert_int_equal(gw_store_gateway_set(fx->st, "a1GwPK", "gw 1", "x"), GW_STORE_EINVAL);
    assert_int_equal(gw_store_gateway_set(fx->st, "a1GwPK", "gw1", ""), GW_STORE_EINVAL);
    TU_OK(gw_store_gateway_clear(fx->st));
    assert_int_equal(gw_store_gateway_clear(fx->st), GW_STORE_NOTFOUND);
    assert_int_equal(gw_store_gateway_get(fx->st, pk, dn, sec), GW_STORE_NOTFOUND);
}

/* ------------------------------------------------------------------ credentials */

static void test_credentials(void **state)
{
    fx_t *fx = *state;
    fx->st = tu_open(fx->dir, NULL);
    bool has = true;
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "dev1", &has));
    assert_false(has);
    char sec[GW_STORE_SECRET_MAX];
    gw_cred_source_t src = 0;
    assert_int_equal(gw_store_cred_get(fx->st, "a1PK", "dev1", sec, &src), GW_STORE_NOTFOUND);
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "dev1", "first", GW_CRED_IMPORTED));
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "dev2", "other", GW_CRED_IMPORTED));
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "dev1", "fromRegister", GW_CRED_REGISTERED));
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "dev1", &has));
    assert_true(has);
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "dev1", sec, &src));
    assert_string_equal(sec, "fromRegister");
    assert_int_equal(src, GW_CRED_REGISTERED);
    size_t n = 0;
    TU_OK(gw_store_cred_count(fx->st, &n));
    assert_int_equal(n, 2);
    /* survives a reopen: "persisted before use, never requested twice" */
    gw_store_close(fx->st);
    fx->st = tu_open(fx->dir, NULL);
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "dev1", &has));
    assert_true(has);
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "dev1", sec, NULL));
    assert_string_equal(sec, "fromRegister");
    TU_OK(gw_store_cred_delete(fx->st, "a1PK", "dev2"));
    assert_int_equal(gw_store_cred_delete(fx->st, "a1PK", "dev2"), GW_STORE_NOTFOUND);
    TU_OK(gw_store_cred_count(fx->st, &n));
    assert_int_equal(n, 1);
    /* validation */
    assert_int_equal(gw_store_cred_put(fx->st, "a1PK", "dev/1", "x", GW_CRED_IMPORTED), GW_STORE_EINVAL);
    assert_int_equal(gw_store_cred_put(fx->st, "a1PK", "dev1", "with space", GW_CRED_IMPORTED),
                     GW_STORE_EINVAL);
    assert_null(strstr(gw_store_errmsg(fx->st), "with space")); /* never echo a secret */
    assert_int_equal(gw_store_cred_put(fx->st, "a1PK", "dev1", "x", (gw_cred_source_t)7), GW_STORE_EINVAL);
    assert_int_equal(gw_store_cred_has(fx->st, "", "dev1", &has), GW_STORE_EINVAL);
}

/* ------------------------------------------------------------------ topology */

static void test_topo_add_get_find_list(void **state)
{
    fx_t *fx = *state;
    fx->st = tu_open(fx->dir, NULL);
    gw_topo_entry_t e1 = entry("a1PK", "dev1", "sim1", "id-1"), e2 = entry("a1PK", "dev2", "sim1", "id-2");
    /* without a secret, a credential must exist */
    assert_int_equal(gw_store_topo_add(fx->st, &e1, NULL, 0), GW_STORE_NOTFOUND);
    TU_OK(gw_store_topo_add(fx->st, &e1, "sec1", GW_CRED_REGISTERED));
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "dev2", "sec2", GW_CRED_IMPORTED));
    TU_OK(gw_store_topo_add(fx->st, &e2, NULL, 0));

    gw_topo_entry_t got;
    TU_OK(gw_store_topo_get(fx->st, "a1PK", "dev1", &got));
    assert_string_equal(got.plugin, "sim1");
    assert_string_equal(got.device_id, "id-1");
    assert_string_equal(got.model, "sim-thermo");
    assert_string_equal(got.secret, "sec1");
    assert_true(got.added_ms > 1600000000000LL);
    int64_t added1 = got.added_ms;
    TU_OK(gw_store_topo_find(fx->st, "sim1", "id-2", &got));
    assert_string_equal(got.dn, "dev2");
    assert_string_equal(got.secret, "sec2");
    assert_int_equal(gw_store_topo_find(fx->st, "sim1", "id-9", &got), GW_STORE_NOTFOUND);
    assert_int_equal(gw_store_topo_get(fx->st, "a1PK", "dev9", &got), GW_STORE_NOTFOUND);

    /* re-adding updates the plugin fields and keeps added_ms */
    gw_topo_entry_t e1b = entry("a1PK", "dev1", "sim2", "id-1b");
    snprintf(e1b.model, sizeof e1b.model, "sim-lamp");
    TU_OK(gw_store_topo_add(fx->st, &e1b, NULL, 0));
    TU_OK(gw_store_topo_get(fx->st, "a1PK", "dev1", &got));
    assert_string_equal(got.plugin, "sim2");
    assert_string_equal(got.model, "sim-lamp");
    assert_true(got.added_ms == added1);

    /* a plugin device maps to one cloud device */
    gw_topo_entry_t clash = entry("a1PK", "dev3", "sim1", "id-2");
    assert_int_equal(gw_store_topo_add(fx->st, &clash, "sec3", GW_CRED_IMPORTED), GW_STORE_ECONFLICT);
    bool has = true;
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "dev3", &has));
    assert_false(has); /* rolled back with the failed add */

    gw_topo_entry_t *list = NULL;
    size_t n = 0;
    TU_OK(gw_store_topo_list(fx->st, &list, &n));
    assert_int_equal(n, 2);
    assert_string_equal(list[0].dn, "dev1");
    assert_string_equal(list[1].dn, "dev2");
    assert_string_equal(list[1].secret, "sec2");
    gw_store_topo_free(list, n);
    TU_OK(gw_store_topo_count(fx->st, &n));
    assert_int_equal(n, 2);

    /* credential cannot go while the device is proxied */
    assert_int_equal(gw_store_cred_delete(fx->st, "a1PK", "dev2"), GW_STORE_ECONFLICT);
    TU_OK(gw_store_topo_remove(fx->st, "a1PK", "dev2"));
    assert_int_equal(gw_store_topo_remove(fx->st, "a1PK", "dev2"), GW_STORE_NOTFOUND);
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "dev2", &has));
    assert_true(has); /* the credential outlives the topology entry */
    TU_OK(gw_store_cred_delete(fx->st, "a1PK", "dev2"));

    /* validation */
    gw_topo_entry_t bad = entry("a1PK", "dev4", "", "id-4");
    assert_int_equal(gw_store_topo_add(fx->st, &bad, "s", GW_CRED_IMPORTED), GW_STORE_EINVAL);
    bad = entry("a1PK", "dev 4", "sim1", "id-4");
    assert_int_equal(gw_store_topo_add(fx->st, &bad, "s", GW_CRED_IMPORTED), GW_STORE_EINVAL);
    assert_int_equal(gw_store_topo_add(fx->st, NULL, "s", GW_CRED_IMPORTED), GW_STORE_EINVAL);

    list = (gw_topo_entry_t *)1;
    TU_OK(gw_store_topo_remove(fx->st, "a1PK", "dev1"));
    TU_OK(gw_store_topo_list(fx->st, &list, &n));
    assert_int_equal(n, 0);
    assert_null(list);
}

static void test_removed_list(void **state)
{
    fx_t *fx = *state;
    fx->st = tu_open(fx->dir, NULL);
    gw_topo_entry_t e1 = entry("a1PK", "dev1", "sim1", "id-1"), e2 = entry("a1PK", "dev2", "sim1", "id-2");
    TU_OK(gw_store_topo_add(fx->st, &e1, "sec1", GW_CRED_IMPORTED));
    TU_OK(gw_store_topo_add(fx->st, &e2, "sec2", GW_CRED_IMPORTED));

    /* local delete while the link is down */
    TU_OK(gw_store_topo_move_to_removed(fx->st, "a1PK", "dev1"));
    assert_int_equal(gw_store_topo_move_to_removed(fx->st, "a1PK", "dev1"), GW_STORE_NOTFOUND);
    assert_int_equal(gw_store_topo_move_to_removed(fx->st, "a1PK", "never"), GW_STORE_NOTFOUND);
    gw_topo_entry_t got;
    assert_int_equal(gw_store_topo_get(fx->st, "a1PK", "dev1", &got), GW_STORE_NOTFOUND);
    bool has = false;
    TU_OK(gw_store_removed_has(fx->st, "a1PK", "dev1", &has));
    assert_true(has);
    TU_OK(gw_store_removed_has(fx->st, "a1PK", "dev2", &has));
    assert_false(has);
    TU_OK(gw_store_topo_move_to_removed(fx->st, "a1PK", "dev2"));

    gw_store_close(fx->st); /* the list is persistent */
    fx->st = tu_open(fx->dir, NULL);
    gw_removed_entry_t *rl = NULL;
    size_t n = 0;
    TU_OK(gw_store_removed_list(fx->st, &rl, &n));
    assert_int_equal(n, 2);
    assert_string_equal(rl[0].dn, "dev1");
    assert_string_equal(rl[0].plugin, "sim1");
    assert_string_equal(rl[0].device_id, "id-1");
    assert_true(rl[0].removed_ms > 1600000000000LL);
    assert_string_equal(rl[1].dn, "dev2");
    free(rl);

    /* topo/delete acked for dev1 */
    TU_OK(gw_store_removed_delete(fx->st, "a1PK", "dev1"));
    assert_int_equal(gw_store_removed_delete(fx->st, "a1PK", "dev1"), GW_STORE_NOTFOUND);
    /* dev2 re-added (topo/add accepted) before the delete was sent: it leaves RemovedDevList */
    TU_OK(gw_store_topo_add(fx->st, &e2, NULL, 0));
    TU_OK(gw_store_removed_has(fx->st, "a1PK", "dev2", &has));
    assert_false(has);
    TU_OK(gw_store_removed_list(fx->st, &rl, &n));
    assert_int_equal(n, 0);
    assert_null(rl);
    /* credentials stayed */
    char sec[GW_STORE_SECRET_MAX];
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "dev1", sec, NULL));
    assert_string_equal(sec, "sec1");
}

/* ------------------------------------------------------------------ batches */

static void test_batches(void **state)
{
    fx_t *fx = *state;
    fx->st = tu_open(fx->dir, NULL);
    assert_int_equal(gw_store_batch_commit(fx->st), GW_STORE_ESTATE);
    assert_int_equal(gw_store_batch_rollback(fx->st), GW_STORE_ESTATE);
    TU_OK(gw_store_batch_begin(fx->st));
    assert_true(gw_store_in_batch(fx->st));
    assert_int_equal(gw_store_batch_begin(fx->st), GW_STORE_ESTATE);
    TU_OK(gw_store_kv_set(fx->st, "a", "1"));
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "dev1", "s1", GW_CRED_IMPORTED));
    TU_OK(gw_store_batch_rollback(fx->st));
    assert_false(gw_store_in_batch(fx->st));
    char *v = NULL;
    assert_int_equal(gw_store_kv_get(fx->st, "a", &v), GW_STORE_NOTFOUND);
    bool has = true;
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "dev1", &has));
    assert_false(has);

    /* a failing call inside a batch undoes only itself */
    TU_OK(gw_store_batch_begin(fx->st));
    TU_OK(gw_store_kv_set(fx->st, "a", "1"));
    gw_topo_entry_t e = entry("a1PK", "dev1", "sim1", "id-1");
    TU_OK(gw_store_topo_add(fx->st, &e, "s1", GW_CRED_IMPORTED));
    gw_topo_entry_t clash = entry("a1PK", "dev2", "sim1", "id-1");
    assert_int_equal(gw_store_topo_add(fx->st, &clash, "s2", GW_CRED_IMPORTED), GW_STORE_ECONFLICT);
    TU_OK(gw_store_kv_set(fx->st, "b", "2"));
    TU_OK(gw_store_batch_commit(fx->st));
    TU_OK(gw_store_kv_get(fx->st, "b", &v));
    free(v);
    TU_OK(gw_store_kv_get(fx->st, "a", &v));
    free(v);
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "dev2", &has));
    assert_false(has);
    size_t n = 0;
    TU_OK(gw_store_topo_count(fx->st, &n));
    assert_int_equal(n, 1);

    /* closing with an open batch rolls it back */
    TU_OK(gw_store_batch_begin(fx->st));
    TU_OK(gw_store_kv_set(fx->st, "c", "3"));
    gw_store_close(fx->st);
    fx->st = tu_open(fx->dir, NULL);
    assert_int_equal(gw_store_kv_get(fx->st, "c", &v), GW_STORE_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_private_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_fixes_loose_db_mode_and_reopens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_version_too_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integrity_check_detects_damage, setup, teardown),
        cmocka_unit_test(test_rc_strings_and_validation),
        cmocka_unit_test_setup_teardown(test_kv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gateway_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topo_add_get_find_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
