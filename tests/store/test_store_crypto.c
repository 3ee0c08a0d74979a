/*
 * gw_store encryption at rest: no plaintext secret in the database files, tampered or moved
 * ciphertexts fail cleanly with GW_STORE_ECRYPTO, a wrong/missing/loose key file is refused at
 * open, and no error message carries a secret.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

#define SECRET_A "Aa11SecretPlaintextMarkerAAAA0001"
#define SECRET_B "Bb22SecretPlaintextMarkerBBBB0002"
#define SECRET_GW "GwGwSecretPlaintextMarkerGGGG0003"

typedef struct {
    char *base, *dir, *db, *key;
    gw_store_t *st;
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    fx->base = tu_mkdtemp();
    fx->dir = tu_path(fx->base, "state");
    fx->db = tu_path(fx->dir, "linkgw.db");
    fx->key = tu_path(fx->dir, "store.key");
    fx->st = tu_open(fx->dir, NULL);
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "devA", SECRET_A, GW_CRED_IMPORTED));
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "devB", SECRET_B, GW_CRED_REGISTERED));
    TU_OK(gw_store_gateway_set(fx->st, "a1GW", "gw1", SECRET_GW));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    gw_store_close(fx->st);
    tu_rmrf(fx->base);
    free(fx->dir), free(fx->db), free(fx->key), free(fx->base);
    free(fx);
    return 0;
}

static void reopen(fx_t *fx)
{
    gw_store_close(fx->st);
    fx->st = tu_open(fx->dir, NULL);
}

static void assert_no_secret_in(const char *text)
{
    assert_null(strstr(text, SECRET_A));
    assert_null(strstr(text, SECRET_B));
    assert_null(strstr(text, SECRET_GW));
}

static void test_no_plaintext_on_disk(void **state)
{
    fx_t *fx = *state;
    char *wal = tu_path(fx->dir, "linkgw.db-wal");
    /* while open: the secrets sit in the WAL */
    assert_false(tu_file_contains(wal, SECRET_A, strlen(SECRET_A)));
    assert_false(tu_file_contains(fx->db, SECRET_A, strlen(SECRET_A)));
    gw_store_close(fx->st); /* checkpoint: now in the main file */
    fx->st = NULL;
    assert_false(tu_file_contains(fx->db, SECRET_A, strlen(SECRET_A)));
    assert_false(tu_file_contains(fx->db, SECRET_B, strlen(SECRET_B)));
    assert_false(tu_file_contains(fx->db, SECRET_GW, strlen(SECRET_GW)));
    /* but the names are there: the test would notice an empty file */
    assert_true(tu_file_contains(fx->db, "devA", 4));
    fx->st = tu_open(fx->dir, NULL);
    char sec[GW_STORE_SECRET_MAX];
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "devA", sec, NULL));
    assert_string_equal(sec, SECRET_A);
    free(wal);
}

static void test_same_secret_different_ciphertexts(void **state)
{
    fx_t *fx = *state;
    /* a fresh nonce per seal: two rows with the same secret do not share a ciphertext */
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "devC", SECRET_A, GW_CRED_IMPORTED));
    gw_store_close(fx->st);
    fx->st = NULL;
    assert_int_equal(tu_sql_int(fx->db, "SELECT count(DISTINCT secret) FROM credential "
                                        "WHERE dn IN ('devA', 'devC')"),
                     2);
    fx->st = tu_open(fx->dir, NULL);
}

static void test_tampered_ciphertext(void **state)
{
    fx_t *fx = *state;
    gw_store_close(fx->st);
    fx->st = NULL;
    /* flip one bit in the middle of devA's ciphertext */
    tu_flip_blob_bit(fx->db, "credential", "secret", "dn = 'devA'", 20);
    fx->st = tu_open(fx->dir, NULL);
    char sec[GW_STORE_SECRET_MAX];
    memset(sec, 'x', sizeof sec);
    assert_int_equal(gw_store_cred_get(fx->st, "a1PK", "devA", sec, NULL), GW_STORE_ECRYPTO);
    assert_non_null(strstr(gw_store_errmsg(fx->st), "does not authenticate"));
    assert_no_secret_in(gw_store_errmsg(fx->st));
    assert_int_equal(sec[0], '\0');
    /* the other rows are unaffected */
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "devB", sec, NULL));
    assert_string_equal(sec, SECRET_B);
    /* a truncated blob fails the same way */
    gw_store_close(fx->st);
    fx->st = NULL;
    tu_sql(fx->db, "UPDATE credential SET secret = substr(secret, 1, 10) WHERE dn = 'devB'");
    fx->st = tu_open(fx->dir, NULL);
    assert_int_equal(gw_store_cred_get(fx->st, "a1PK", "devB", sec, NULL), GW_STORE_ECRYPTO);
    /* repairing by writing the secret again works */
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "devB", SECRET_B, GW_CRED_IMPORTED));
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "devB", sec, NULL));
    assert_string_equal(sec, SECRET_B);
}

static void test_moved_row(void **state)
{
    fx_t *fx = *state;
    gw_topo_entry_t e;
    memset(&e, 0, sizeof e);
    strcpy(e.pk, "a1PK"), strcpy(e.dn, "devB"), strcpy(e.plugin, "sim1"), strcpy(e.device_id, "b");
    strcpy(e.model, "m");
    TU_OK(gw_store_topo_add(fx->st, &e, NULL, 0));
    gw_store_close(fx->st);
    fx->st = NULL;
    /* copy devA's ciphertext into devB's row: a valid ciphertext, for another identity */
    tu_sql(fx->db, "UPDATE credential SET secret = (SELECT secret FROM credential WHERE dn = 'devA') "
                   "WHERE dn = 'devB'");
    /* and the credential's ciphertext into the gateway row */
    tu_sql(fx->db, "UPDATE gateway SET secret = (SELECT secret FROM credential WHERE dn = 'devA')");
    fx->st = tu_open(fx->dir, NULL);
    char sec[GW_STORE_SECRET_MAX], pk[GW_STORE_NAME_MAX], dn[GW_STORE_NAME_MAX];
    assert_int_equal(gw_store_cred_get(fx->st, "a1PK", "devB", sec, NULL), GW_STORE_ECRYPTO);
    assert_no_secret_in(gw_store_errmsg(fx->st));
    assert_int_equal(gw_store_gateway_get(fx->st, pk, dn, sec), GW_STORE_ECRYPTO);
    /* a topology listing with one bad row fails as a whole, cleanly */
    gw_topo_entry_t *list = (gw_topo_entry_t *)1, got;
    size_t n = 7;
    assert_int_equal(gw_store_topo_list(fx->st, &list, &n), GW_STORE_ECRYPTO);
    assert_null(list);
    assert_int_equal(n, 0);
    assert_int_equal(gw_store_topo_get(fx->st, "a1PK", "devB", &got), GW_STORE_ECRYPTO);
    /* devA itself still decrypts */
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "devA", sec, NULL));
    assert_string_equal(sec, SECRET_A);
    /* renaming a row (same ciphertext, new identity) fails too */
    gw_store_close(fx->st);
    fx->st = NULL;
    tu_sql(fx->db, "UPDATE credential SET dn = 'devZ' WHERE dn = 'devA'");
    fx->st = tu_open(fx->dir, NULL);
    assert_int_equal(gw_store_cred_get(fx->st, "a1PK", "devZ", sec, NULL), GW_STORE_ECRYPTO);
}

static void write_key(const char *path, unsigned char fill, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true(fd >= 0);
    unsigned char buf[64];
    memset(buf, fill, sizeof buf);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_wrong_key_file(void **state)
{
    fx_t *fx = *state;
    gw_store_close(fx->st);
    fx->st = NULL;
    char *saved = tu_path(fx->base, "saved.key");
    assert_int_equal(rename(fx->key, saved), 0);
    write_key(fx->key, 0x5a, 32, 0600);
    gw_store_t *st = NULL;
    char err[256];
    assert_int_equal(gw_store_open(fx->dir, NULL, &st, err, sizeof err), GW_STORE_ECRYPTO);
    assert_null(st);
    assert_non_null(strstr(err, "does not match"));
    /* the original key opens it again, secrets intact */
    assert_int_equal(rename(saved, fx->key), 0);
    reopen(fx);
    char sec[GW_STORE_SECRET_MAX];
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "devA", sec, NULL));
    assert_string_equal(sec, SECRET_A);
    free(saved);
}

static void test_missing_key_file(void **state)
{
    fx_t *fx = *state;
    gw_store_close(fx->st);
    fx->st = NULL;
    char *saved = tu_path(fx->base, "saved.key");
    assert_int_equal(rename(fx->key, saved), 0);
    gw_store_t *st = NULL;
    char err[256];
    assert_int_equal(gw_store_open(fx->dir, NULL, &st, err, sizeof err), GW_STORE_ECRYPTO);
    assert_non_null(strstr(err, "missing"));
    assert_int_equal(tu_mode(fx->key), -1); /* no new key silently created */
    assert_int_equal(rename(saved, fx->key), 0);
    reopen(fx);
    free(saved);
}

static void test_bad_key_files(void **state)
{
    fx_t *fx = *state;
    gw_store_close(fx->st);
    fx->st = NULL;
    char *saved = tu_path(fx->base, "saved.key");
    assert_int_equal(rename(fx->key, saved), 0);
    gw_store_t *st = NULL;
    char err[256];
    write_key(fx->key, 1, 31, 0600); /* short */
    assert_int_equal(gw_store_open(fx->dir, NULL, &st, err, sizeof err), GW_STORE_ECRYPTO);
    assert_non_null(strstr(err, "expected 32"));
    write_key(fx->key, 1, 33, 0600); /* long */
    assert_int_equal(gw_store_open(fx->dir, NULL, &st, err, sizeof err), GW_STORE_ECRYPTO);
    /* the right key, readable by others */
    unlink(fx->key);
    assert_int_equal(rename(saved, fx->key), 0);
    assert_int_equal(chmod(fx->key, 0644), 0);
    assert_int_equal(gw_store_open(fx->dir, NULL, &st, err, sizeof err), GW_STORE_ECRYPTO);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(fx->key, 0600), 0);
    reopen(fx);
    free(saved);
}

static void test_new_database_with_existing_key(void **state)
{
    fx_t *fx = *state;
    /* a database removed on purpose, key kept: a fresh database adopts the existing key */
    gw_store_close(fx->st);
    fx->st = NULL;
    struct stat before;
    assert_int_equal(stat(fx->key, &before), 0);
    unlink(fx->db);
    char *p = tu_path(fx->dir, "linkgw.db-wal");
    unlink(p);
    free(p);
    p = tu_path(fx->dir, "linkgw.db-shm");
    unlink(p);
    free(p);
    fx->st = tu_open(fx->dir, NULL);
    bool has = true;
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "devA", &has));
    assert_false(has);
    struct stat after;
    assert_int_equal(stat(fx->key, &after), 0);
    assert_true(before.st_ino == after.st_ino);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_plaintext_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_secret_different_ciphertexts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_ciphertext, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moved_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_key_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_database_with_existing_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
