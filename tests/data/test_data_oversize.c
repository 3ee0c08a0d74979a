/*
 * The journal drain within the payload cap, end to end: the state database
 * is filled before the real linkgw daemon starts with large journaled
 * entries of the gateway's own property (60 texts of 40,000 bytes: 2.4 MB,
 * which the old drain put in ONE history/post of up to 100 entries, over the
 * platform's 1 MiB). Checked against the Alink emulator and `linkgwctl
 * status`:
 *   - every entry arrives exactly once, with its original time, in at least
 *     three history/post messages (2.4 MB / GW_TSL_PARAMS_MAX);
 *   - the journal ends empty; nothing was dropped (data.oversize is 0: the
 *     journal takes values of at most GW_JOURNAL_VALUE_MAX = 64 KiB, so with
 *     the platform's budget every entry fits a message alone; the oversize
 *     drop itself is tested on the pack builder, tests/tsl).
 * No timing assertions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "data_fixture.h"
#include "store/journal.h"
#include "store/store.h"
#include "tsl_uplink.h"

#define N_BIG 60
#define BIG_LEN 40000
#define T0 1700000000000LL

/* A JSON string value of @p n bytes of @p ch (text as the journal stores it). */
static char *json_text(size_t n, char ch)
{
    char *s = malloc(n + 3);
    assert_non_null(s);
    s[0] = '"';
    memset(s + 1, ch, n);
    s[n + 1] = '"';
    s[n + 2] = '\0';
    return s;
}

/* Journals the entries straight into the daemon's state database (before the daemon runs). */
static void fill_journal(df_t *f)
{
    char dir[400], err[200];
    snprintf(dir, sizeof dir, "%s/state", f->dir);
    gw_store_t *st = NULL;
    gw_store_options_t o = { .sync_normal = true, .journal_max_bytes = 64u << 20 };
    if (gw_store_open(dir, &o, &st, err, sizeof err) != GW_STORE_OK)
        fail_msg("store: %s", err);
    char *big = json_text(BIG_LEN, 'b');
    for (int i = 0; i < N_BIG; i++) {
        gw_journal_rec_t r = { .pk = DF_GW_PK, .dn = DF_GW_DN, .kind = GW_JOURNAL_PROPERTY,
                               .identifier = "Note", .value_json = big, .ts_ms = T0 + i };
        assert_int_equal(gw_journal_append(st, &r, NULL), GW_STORE_OK);
    }
    free(big);
    gw_store_close(st);
}

/* data.<key> of `linkgwctl status`, -1 when not available. */
static long long status_of(df_t *f, const char *key, const char *sub)
{
    json_t *r = df_ctl(f, "{\"cmd\":\"status\"}");
    json_t *d = json_object_get(json_object_get(json_object_get(r, "status"), "data"), key);
    if (sub)
        d = json_object_get(d, sub);
    long long v = json_is_integer(d) ? (long long)json_integer_value(d) : -1;
    json_decref(r);
    return v;
}

static bool all_drained(df_t *f, void *arg)
{
    (void)arg;
    return status_of(f, "drained", NULL) >= N_BIG && status_of(f, "journal", "depth") == 0;
}

static void test_drain_splits(void **state)
{
    (void)state;
    df_t f;
    assert_int_equal(df_start_broker(&f), 0);
    fill_journal(&f);
    assert_int_equal(df_start_gateway(&f, "data = { stats_interval_s = 1; };", NULL, 0), 0);
    if (!df_wait(&f, all_drained, NULL, 60000)) {
        df_dump_log(&f);
        fail_msg("the journal did not drain");
    }
    assert_int_equal(status_of(&f, "drained", NULL), N_BIG);
    assert_int_equal(status_of(&f, "oversize", NULL), 0);
    /* 2.4 MB of params: at least three messages under the budget (one before) */
    long long msgs = status_of(&f, "messages", NULL);
    long long need = ((long long)N_BIG * BIG_LEN + GW_TSL_PARAMS_MAX - 1) / GW_TSL_PARAMS_MAX;
    printf("  %d entries of %d bytes drained in %lld history/post messages (at least %lld)\n", N_BIG, BIG_LEN, msgs,
           need);
    assert_true(msgs >= need);
    /* every entry arrived exactly once, with its time */
    json_t *dev = df_device(&f, DF_GW_PK, DF_GW_DN);
    json_t *h = json_object_get(json_object_get(dev, "history"), "Note");
    assert_int_equal(json_array_size(h), N_BIG);
    bool seen[N_BIG] = { false };
    size_t i;
    json_t *e;
    json_array_foreach(h, i, e) {
        long long t = json_integer_value(json_object_get(e, "time")) - T0;
        assert_true(t >= 0 && t < N_BIG);
        assert_false(seen[t]);
        seen[t] = true;
        assert_int_equal(json_string_length(json_object_get(e, "value")), BIG_LEN);
    }
    json_decref(dev);
    int rc = df_stop_gateway(&f);
    if (rc != 0)
        df_dump_log(&f);
    df_cleanup(&f);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drain_splits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
