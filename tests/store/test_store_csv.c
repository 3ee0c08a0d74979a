/*
 * Credentials CSV ("Batch Add" export): dialect tolerance, "file:line: message" rejections that
 * never echo a secret, and the all-or-nothing import into the credential table.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/cred_csv.h"
#include "test_util.h"

/* ------------------------------------------------------------------ collection of results */

typedef struct {
    int n;
    char pk[16][80], dn[16][80], sec[16][140];
    int line[16];
    int nerr;
    char err[64][600];
} got_t;

static int on_row(void *ud, int line, const char *pk, const char *dn, const char *secret)
{
    got_t *g = ud;
    if (g->n < 16) {
        snprintf(g->pk[g->n], sizeof g->pk[0], "%s", pk);
        snprintf(g->dn[g->n], sizeof g->dn[0], "%s", dn);
        snprintf(g->sec[g->n], sizeof g->sec[0], "%s", secret);
        g->line[g->n] = line;
    }
    g->n++;
    return 0;
}

static void on_err(void *ud, const char *msg)
{
    got_t *g = ud;
    if (g->nerr < 64)
        snprintf(g->err[g->nerr], sizeof g->err[0], "%s", msg);
    g->nerr++;
}

static int parse(const char *text, got_t *g)
{
    memset(g, 0, sizeof *g);
    return gw_cred_csv_parse("creds.csv", text, strlen(text), on_row, g, on_err, g);
}

static bool has_err(const got_t *g, const char *needle)
{
    for (int i = 0; i < g->nerr && i < 64; i++)
        if (strstr(g->err[i], needle))
            return true;
    return false;
}

/* ------------------------------------------------------------------ dialect */

static void test_plain(void **state)
{
    (void)state;
    got_t g;
    assert_int_equal(parse("ProductKey,DeviceName,DeviceSecret\n"
                           "a1622GZELFq,PzG64uonPrepRRSSe5mO,d38da90ab1f9adc159bd412ab66d3ed4\n"
                           "a1622GZELFq,dev-02,0123456789abcdef0123456789abcdef\n",
                           &g),
                     2);
    assert_int_equal(g.nerr, 0);
    assert_string_equal(g.pk[0], "a1622GZELFq");
    assert_string_equal(g.dn[0], "PzG64uonPrepRRSSe5mO");
    assert_string_equal(g.sec[0], "d38da90ab1f9adc159bd412ab66d3ed4");
    assert_int_equal(g.line[0], 2);
    assert_string_equal(g.dn[1], "dev-02");
    assert_int_equal(g.line[1], 3);
}

static void test_column_order_extra_columns_header_variants(void **state)
{
    (void)state;
    got_t g;
    assert_int_equal(parse("IotId, device_secret ,Nickname,Device Name,PRODUCTKEY\n"
                           "xyz,sec1,Kitchen,dev1,a1PK\n",
                           &g),
                     1);
    assert_string_equal(g.pk[0], "a1PK");
    assert_string_equal(g.dn[0], "dev1");
    assert_string_equal(g.sec[0], "sec1");
}

static void test_bom_crlf_no_final_newline(void **state)
{
    (void)state;
    got_t g;
    assert_int_equal(parse("\xEF\xBB\xBFProductKey,DeviceName,DeviceSecret\r\n"
                           "a1PK,dev1,sec1\r\n"
                           "a1PK,dev2,sec2",
                           &g),
                     2);
    assert_string_equal(g.pk[0], "a1PK"); /* the BOM did not stick to the header */
    assert_string_equal(g.sec[1], "sec2");
    assert_int_equal(g.line[1], 3);
    /* old Mac line ends */
    assert_int_equal(parse("ProductKey,DeviceName,DeviceSecret\ra1PK,dev1,sec1\ra1PK,dev2,sec2\r", &g), 2);
    assert_int_equal(g.line[1], 3);
}

static void test_quotes(void **state)
{
    (void)state;
    got_t g;
    assert_int_equal(parse("\"ProductKey\",\"DeviceName\",\"Nickname\",\"DeviceSecret\"\n"
                           "\"a1PK\",\"dev1\",\"Hall, \"\"east\"\" side\",\"sec1\"\n"
                           "a1PK,dev2,\"two\nlines\r\nhere\",sec2\n"
                           "  \"a1PK\"  ,dev3,,  sec3  \n",
                           &g),
                     3);
    assert_int_equal(g.nerr, 0);
    assert_string_equal(g.dn[0], "dev1");
    assert_string_equal(g.sec[0], "sec1");
    assert_int_equal(g.line[1], 3);
    assert_int_equal(g.line[2], 6); /* the quoted field spanned lines 3..5 */
    assert_string_equal(g.pk[2], "a1PK");
    assert_string_equal(g.sec[2], "sec3");
}

static void test_blank_lines_and_empty_rows(void **state)
{
    (void)state;
    got_t g;
    assert_int_equal(parse("\n\nProductKey,DeviceName,DeviceSecret\n\n,,\na1PK,dev1,sec1\n ,  ,\n\n", &g), 1);
    assert_int_equal(g.line[0], 6);
}

static void test_duplicates(void **state)
{
    (void)state;
    got_t g;
    /* the same device twice with the same secret: delivered once */
    assert_int_equal(parse("ProductKey,DeviceName,DeviceSecret\na1PK,dev1,sec1\na1PK,dev2,sec2\na1PK,dev1,sec1\n",
                           &g),
                     2);
    assert_string_equal(g.dn[0], "dev1");
    assert_string_equal(g.dn[1], "dev2");
    /* with another secret: rejected, nothing delivered, the message names both lines, no secret */
    assert_int_equal(parse("ProductKey,DeviceName,DeviceSecret\na1PK,dev1,sec1\na1PK,dev2,sec2\n"
                           "a1PK,dev1,TOPSECRETX\n",
                           &g),
                     GW_STORE_EINVAL);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.nerr, 1);
    assert_string_equal(g.err[0],
                        "creds.csv:4: a1PK/dev1 is listed again with a different DeviceSecret (first at line 2)");
}

/* ------------------------------------------------------------------ rejections */

static void test_header_problems(void **state)
{
    (void)state;
    got_t g;
    assert_int_equal(parse("ProductKey,DeviceName\na1PK,dev1\n", &g), GW_STORE_EINVAL);
    assert_int_equal(g.nerr, 1);
    assert_true(has_err(&g, "creds.csv:1: header has no DeviceSecret column"));
    assert_int_equal(parse("\n\nProductKey,DeviceName,DeviceSecret,device_name\n", &g), GW_STORE_EINVAL);
    assert_true(has_err(&g, "creds.csv:3: column DeviceName appears twice"));
    assert_int_equal(parse("", &g), GW_STORE_EINVAL);
    assert_true(has_err(&g, "creds.csv: empty file"));
    assert_int_equal(parse("\xEF\xBB\xBF\r\n", &g), GW_STORE_EINVAL);
    /* a data row in place of the header */
    assert_int_equal(parse("a1PK,dev1,sec1\n", &g), GW_STORE_EINVAL);
    assert_int_equal(g.nerr, 3);
    /* a header only: valid, nothing to import */
    assert_int_equal(parse("ProductKey,DeviceName,DeviceSecret\n", &g), 0);
    assert_int_equal(g.nerr, 0);
}

static void test_bad_rows_are_all_reported(void **state)
{
    (void)state;
    got_t g;
    int rc = parse("ProductKey,DeviceName,DeviceSecret\n"
                   "a1PK,dev1,sec1\n"                /* 2 fine */
                   "a1PK,dev2\n"                     /* 3 short */
                   "a1PK,dev/3,sec3\n"               /* 4 bad name */
                   ",dev4,sec4\n"                    /* 5 empty pk */
                   "a1PK,dev5,\n"                    /* 6 empty secret */
                   "a1PK,dev6,\"SECRET WITH SPACE\"\n" /* 7 bad secret */
                   "a1PK,\"dev7\"x,sec7\n"           /* 8 text after quote */
                   "a1PK,dev8,sec8\n"                /* 9 fine */
                   "a1PK,\"dev9,sec9\n",             /* 10 unterminated */
                   &g);
    assert_int_equal(rc, GW_STORE_EINVAL);
    assert_int_equal(g.n, 0); /* a bad file delivers no row */
    assert_true(has_err(&g, "creds.csv:3: 2 fields, the header needs at least 3"));
    assert_true(has_err(&g, "creds.csv:4: invalid DeviceName \"dev/3\""));
    assert_true(has_err(&g, "creds.csv:5: empty ProductKey"));
    assert_true(has_err(&g, "creds.csv:6: empty DeviceSecret"));
    assert_true(has_err(&g, "creds.csv:7: invalid DeviceSecret"));
    assert_true(has_err(&g, "creds.csv:8: unexpected text after a closing quote"));
    assert_true(has_err(&g, "creds.csv:10: unterminated quoted field"));
    assert_int_equal(g.nerr, 7);
    for (int i = 0; i < g.nerr; i++)
        assert_null(strstr(g.err[i], "SECRET WITH SPACE"));
}

static void test_error_flood_is_capped(void **state)
{
    (void)state;
    size_t cap = 200 * 16 + 64;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, "ProductKey,DeviceName,DeviceSecret\n");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(text + n, cap - n, "a1PK,bad dn,s\n");
    got_t g;
    assert_int_equal(parse(text, &g), GW_STORE_EINVAL);
    assert_int_equal(g.nerr, 51);
    assert_true(has_err(&g, "too many errors"));
    free(text);
}

/* ------------------------------------------------------------------ import into the store */

typedef struct {
    char *base;
    gw_store_t *st;
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    fx->base = tu_mkdtemp();
    char *dir = tu_path(fx->base, "state");
    fx->st = tu_open(dir, NULL);
    free(dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    gw_store_close(fx->st);
    tu_rmrf(fx->base);
    free(fx->base);
    free(fx);
    return 0;
}

static void test_import(void **state)
{
    fx_t *fx = *state;
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "dev1", "registered1", GW_CRED_REGISTERED));
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "dev2", "same2", GW_CRED_IMPORTED));
    const char *csv = "DeviceSecret,DeviceName,ProductKey\r\nimported1,dev1,a1PK\r\nsame2,dev2,a1PK\r\n"
                      "new3,dev3,a1PK\r\n";
    gw_csv_import_result_t r;
    got_t g = {0};
    TU_OK(gw_store_cred_import_csv(fx->st, "c.csv", csv, strlen(csv), &r, on_err, &g));
    assert_int_equal(g.nerr, 0);
    assert_int_equal(r.rows, 3);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.replaced, 1);
    assert_int_equal(r.unchanged, 1);
    char sec[GW_STORE_SECRET_MAX];
    gw_cred_source_t src = 0;
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "dev1", sec, &src));
    assert_string_equal(sec, "imported1");
    assert_int_equal(src, GW_CRED_IMPORTED);
    TU_OK(gw_store_cred_get(fx->st, "a1PK", "dev3", sec, NULL));
    assert_string_equal(sec, "new3");
}

static void test_bad_file_imports_nothing(void **state)
{
    fx_t *fx = *state;
    const char *csv = "ProductKey,DeviceName,DeviceSecret\na1PK,dev1,s1\na1PK,dev2,s2\na1PK,dev 3,s3\n";
    gw_csv_import_result_t r;
    got_t g = {0};
    assert_int_equal(gw_store_cred_import_csv(fx->st, "c.csv", csv, strlen(csv), &r, on_err, &g),
                     GW_STORE_EINVAL);
    assert_int_equal(g.nerr, 1);
    assert_string_equal(g.err[0], "c.csv:4: invalid DeviceName \"dev 3\" (1..64 of A-Z a-z 0-9 _ . : @ -)");
    assert_int_equal(r.rows, 0);
    size_t n = 9;
    TU_OK(gw_store_cred_count(fx->st, &n));
    assert_int_equal(n, 0);
}

static void test_import_file(void **state)
{
    fx_t *fx = *state;
    char *path = tu_path(fx->base, "batch.csv");
    FILE *f = fopen(path, "w");
    fputs("\xEF\xBB\xBFProductKey,DeviceName,DeviceSecret\r\na1PK,dev1,s1\r\n", f);
    fclose(f);
    gw_csv_import_result_t r;
    got_t g = {0};
    TU_OK(gw_store_cred_import_csv_file(fx->st, path, &r, on_err, &g));
    assert_int_equal(r.added, 1);
    bool has = false;
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "dev1", &has));
    assert_true(has);
    char *missing = tu_path(fx->base, "nope.csv");
    assert_int_equal(gw_store_cred_import_csv_file(fx->st, missing, &r, on_err, &g), GW_STORE_EIO);
    assert_true(has_err(&g, "nope.csv: No such file or directory"));
    assert_int_equal(gw_store_cred_import_csv_file(fx->st, fx->base, &r, on_err, &g), GW_STORE_EINVAL);
    free(missing);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_column_order_extra_columns_header_variants),
        cmocka_unit_test(test_bom_crlf_no_final_newline),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_blank_lines_and_empty_rows),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_header_problems),
        cmocka_unit_test(test_bad_rows_are_all_reported),
        cmocka_unit_test(test_error_flood_is_capped),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_file_imports_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
