/*
 * Store-and-forward (issue 9) end to end: the real linkgw daemon with sim
 * power meters, the broker with the Alink emulator stopped during steady
 * traffic and started again on the same port.
 *   - outage: every value of the outage reaches the emulator afterwards
 *     (through history/post, original timestamps): no gap in the meter's
 *     history, and a value seen twice carries the same timestamp;
 *   - kill -9 of the daemon during the outage: what was journaled before the
 *     kill survives and is delivered after the restart;
 *   - the journal's byte budget: a long outage drops the oldest entries
 *     (counted), the journal never grows past the budget, and the backlog
 *     drains while live values keep flowing.
 * No timing assertions: the checks are about which values arrived.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "data_fixture.h"

#define INTERVAL_MS 100

static const char k_meter_conf[] =
    "plugin = \"sim\";\n"
    "settings = { power_meter = { count = 1; interval_ms = %d; };\n"
    "             thermometer = { count = 1; interval_ms = 100; base = 21.0; noise = 0.6; threshold = 21.0; }; };\n"
    "subdevice = { register = true; };\n"
    "models = {\n"
    "  thermometer = { product_key = \"a1DThermo\";\n"
    "    points = ( { point = \"temperature\"; property = \"Temperature\"; } );\n"
    "    events = ( { event = \"over_temperature\"; tsl = \"Overheat\"; params = { temperature = \"Temperature\"; }; } ); };\n"
    "  power_meter = { product_key = \"a1DMeter\";\n"
    "    points = ( { point = \"power\"; property = \"Power\"; }, { point = \"energy\"; property = \"Energy\"; } ); };\n"
    "};\n";

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The emulator's history of meter-0 Energy: array of {value, time} (new reference). */
static json_t *history(df_t *f)
{
    json_t *d = df_device(f, "a1DMeter", "meter-0");
    json_t *h = json_incref(json_object_get(json_object_get(d, "history"), "Energy"));
    json_decref(d);
    return h;
}

typedef struct span {
    long long from, to;
} span_t;

/* True when the history holds a value in [from, to]. */
static bool has_value_in(df_t *f, void *arg)
{
    span_t *s = arg;
    json_t *h = history(f);
    size_t i;
    json_t *e;
    bool ok = false;
    json_array_foreach(h, i, e) {
        long long t = json_integer_value(json_object_get(e, "time"));
        if (t >= s->from && t <= s->to)
            ok = true;
    }
    json_decref(h);
    return ok;
}

static int cmp_time(const void *a, const void *b)
{
    long long x = json_integer_value(json_object_get(*(json_t *const *)a, "time"));
    long long y = json_integer_value(json_object_get(*(json_t *const *)b, "time"));
    return x < y ? -1 : x > y;
}

/*
 * Checks the history between @p from and @p to: consecutive values at most
 * @p max_gap ms apart (the meter reports every INTERVAL_MS: a bigger gap is a
 * lost value), and duplicates (same time) carry the same value. Returns the
 * number of values in the span; fails the test otherwise.
 */
static size_t check_span(df_t *f, long long from, long long to, long long max_gap)
{
    json_t *h = history(f);
    size_t n = json_array_size(h), k = 0, dups = 0;
    json_t **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(h, i);
        long long t = json_integer_value(json_object_get(e, "time"));
        if (t >= from && t <= to)
            v[k++] = e;
    }
    qsort(v, k, sizeof *v, cmp_time);
    long long prev = from;
    for (size_t i = 0; i < k; i++) {
        long long t = json_integer_value(json_object_get(v[i], "time"));
        if (i && t == json_integer_value(json_object_get(v[i - 1], "time"))) {
            dups++;
            if (!json_equal(json_object_get(v[i], "value"), json_object_get(v[i - 1], "value")))
                fail_msg("two different values with the same timestamp %lld", t);
            continue;
        }
        if (t - prev > max_gap) {
            df_dump_log(f);
            fail_msg("values lost: nothing between %lld and %lld (span %lld..%lld, %zu values)", prev, t, from, to, k);
        }
        prev = t;
    }
    if (to - prev > max_gap) {
        df_dump_log(f);
        fail_msg("values lost at the end: last at %lld, span ends %lld", prev, to);
    }
    printf("  span %lld..%lld: %zu values, %zu duplicate(s) with identical timestamps\n", from, to, k, dups);
    free(v);
    json_decref(h);
    return k;
}

static bool meter_reported(df_t *f, void *arg)
{
    (void)arg;
    json_t *v = df_property(f, "a1DMeter", "meter-0", "Energy");
    bool ok = v != NULL;
    json_decref(v);
    return ok;
}

static void start(df_t *f, const char *data_conf, int interval_ms)
{
    static char conf[1024];
    snprintf(conf, sizeof conf, k_meter_conf, interval_ms);
    assert_int_equal(df_start_broker(f), 0);
    df_conf_t confs[] = {{"sim", conf}};
    assert_int_equal(df_start_gateway(f, data_conf, confs, 1), 0);
    if (!df_wait(f, meter_reported, NULL, 30000)) {
        df_dump_log(f);
        fail_msg("meter-0 never reported");
    }
}

static void finish(df_t *f)
{
    int rc = df_stop_gateway(f);
    if (rc != 0)
        df_dump_log(f);
    df_cleanup(f);
    assert_int_equal(rc, 0);
}

/* Last value of counter @p key in the daemon's counter lines, -1 if none. */
static long long counter(df_t *f, const char *key)
{
    FILE *fp = fopen(f->log, "r");
    char line[4096], pat[64];
    long long v = -1;
    snprintf(pat, sizeof pat, " %s=", key);
    while (fp && fgets(line, sizeof line, fp)) {
        char *p = strstr(line, pat);
        if (p)
            v = atoll(p + strlen(pat));
    }
    if (fp)
        fclose(fp);
    return v;
}

static bool some_drained(df_t *f, void *arg)
{
    (void)arg;
    return counter(f, "drained") > 0;
}

static bool drained(df_t *f, void *arg);

static void test_broker_outage(void **state)
{
    (void)state;
    df_t f;
    /* a meter every 200 ms: the emulator keeps only the last 100 arrivals of a property, and the
     * outage (plus the reconnect backoff) must fit with what was live around it */
    start(&f, "data = { stats_interval_s = 1; };", 2 * INTERVAL_MS);
    sleep(1);
    long long t_down = wall_ms();
    df_broker_stop(&f);
    sleep(3);
    long long t_up = wall_ms();
    assert_int_equal(df_broker_start_again(&f), 0);
    /* the backlog arrives (both ends of the outage), then live values continue */
    span_t early = {t_down + 100, t_down + 500}, late = {t_up - 500, t_up - 100}, live = {t_up + 1500, t_up + 60000};
    assert_true(df_wait(&f, has_value_in, &early, 30000));
    assert_true(df_wait(&f, has_value_in, &late, 30000));
    assert_true(df_wait(&f, has_value_in, &live, 30000));
    assert_true(df_wait(&f, drained, NULL, 30000)); /* the journal is empty: all delivered */
    check_span(&f, t_down - 800, t_up + 1000, 6 * INTERVAL_MS);
    /* events of the outage too, delivered late from the journal with their original time
     * (over_temperature fires on upward crossings of its threshold: several per outage) */
    json_t *th = df_device(&f, "a1DThermo", "thermo-0");
    size_t i, n_ev = 0;
    json_t *e;
    json_array_foreach(json_object_get(th, "events"), i, e) {
        long long t = json_integer_value(json_object_get(e, "time"));
        long long received = json_integer_value(json_object_get(e, "received"));
        if (t > t_down && received - t > 1000 && json_is_number(json_object_get(json_object_get(e, "value"), "Temperature")))
            n_ev++;
    }
    json_decref(th);
    printf("  %zu Overheat event(s) from the outage delivered\n", n_ev);
    assert_true(n_ev > 0);
    /* the outage's values went through the journal and history/post */
    assert_true(df_wait(&f, some_drained, NULL, 10000));
    finish(&f);
}

static void test_kill_during_outage(void **state)
{
    (void)state;
    df_t f;
    start(&f, "data = { stats_interval_s = 1; };", INTERVAL_MS);
    sleep(1);
    long long t_down = wall_ms();
    df_broker_stop(&f);
    sleep(2);
    long long t_kill = wall_ms();
    df_kill_gateway(&f);
    assert_int_equal(df_restart_gateway(&f), 0);
    sleep(2); /* the restarted daemon journals while the broker is still down */
    long long t_up = wall_ms();
    assert_int_equal(df_broker_start_again(&f), 0);
    span_t before_kill = {t_kill - 600, t_kill - 300}, after = {t_up - 600, t_up - 100}, live = {t_up + 1500, t_up + 60000};
    assert_true(df_wait(&f, has_value_in, &before_kill, 30000));
    assert_true(df_wait(&f, has_value_in, &after, 30000));
    assert_true(df_wait(&f, has_value_in, &live, 30000));
    assert_true(df_wait(&f, drained, NULL, 30000));
    /* everything journaled before the kill arrived (up to the last flush window before it) */
    check_span(&f, t_down - 800, t_kill - 300, 3 * INTERVAL_MS);
    /* and everything the restarted daemon journaled, from its first value on */
    json_t *h = history(&f);
    long long first_after = 0;
    size_t i;
    json_t *e;
    json_array_foreach(h, i, e) {
        long long t = json_integer_value(json_object_get(e, "time"));
        if (t > t_kill && (!first_after || t < first_after))
            first_after = t;
    }
    json_decref(h);
    assert_true(first_after > 0);
    check_span(&f, first_after, t_up + 1000, 3 * INTERVAL_MS);
    finish(&f);
}

static void test_kill_during_drain(void **state)
{
    (void)state;
    df_t f;
    /* A slow drain (10 entries/s) so that the kill lands in it, and a slower meter: the
     * emulator keeps only the last 100 arrivals of a property, live and drained together. */
    start(&f, "data = { stats_interval_s = 1; drain_rate = 10; };", 2 * INTERVAL_MS);
    sleep(1);
    long long t_down = wall_ms();
    df_broker_stop(&f);
    sleep(2);
    long long t_up = wall_ms();
    assert_int_equal(df_broker_start_again(&f), 0);
    assert_true(df_wait(&f, some_drained, NULL, 30000));
    long long t_kill = wall_ms();
    df_kill_gateway(&f);
    long long drained_before = counter(&f, "drained");
    assert_int_equal(df_restart_gateway(&f), 0);
    span_t early = {t_down + 100, t_down + 500}, late = {t_up - 500, t_up - 100};
    assert_true(df_wait(&f, has_value_in, &early, 60000));
    assert_true(df_wait(&f, has_value_in, &late, 60000));
    assert_true(df_wait(&f, drained, NULL, 60000));
    printf("  %lld entries drained before the kill\n", drained_before);
    /* nothing lost from before the outage to the kill; repeats keep their timestamps */
    check_span(&f, t_down - 800, t_kill - 300, 6 * INTERVAL_MS);
    finish(&f);
}

/* ---- budget ---------------------------------------------------------------------- */

/* Largest journal_bytes and last journal_dropped/depth in the counter lines. */
static void journal_figures(df_t *f, long long *max_bytes, long long *dropped, long long *depth)
{
    FILE *fp = fopen(f->log, "r");
    char line[4096];
    *max_bytes = *dropped = *depth = -1;
    while (fp && fgets(line, sizeof line, fp)) {
        char *p = strstr(line, "journal_bytes=");
        if (!p)
            continue;
        long long b = atoll(p + 14);
        if (b > *max_bytes)
            *max_bytes = b;
        if ((p = strstr(line, "journal_dropped=")))
            *dropped = atoll(p + 16);
        if ((p = strstr(line, "journal_depth=")))
            *depth = atoll(p + 14);
    }
    if (fp)
        fclose(fp);
}

static bool dropped_some(df_t *f, void *arg)
{
    (void)arg;
    long long b, dr, de;
    journal_figures(f, &b, &dr, &de);
    return dr > 0;
}

static bool drained(df_t *f, void *arg)
{
    (void)arg;
    long long b, dr, de;
    journal_figures(f, &b, &dr, &de);
    return de == 0;
}

static bool meter_dropped(df_t *f, void *arg)
{
    (void)arg;
    return df_log_count(f, "a1DMeter/meter-0: ") > 0 && df_log_count(f, "journaled value(s) dropped with the device") > 0;
}

/*
 * A device deleted locally while the link is down takes its journaled values with it: it has no
 * topology any more, so no post could ever carry them. Without that they would wait in the journal
 * for a session that never comes (the journal would never drain).
 */
static void test_delete_drops_journal(void **state)
{
    (void)state;
    df_t f;
    start(&f, "data = { stats_interval_s = 1; };", INTERVAL_MS);
    df_broker_stop(&f);
    sleep(2); /* both devices journal ~10 values/s each */
    json_t *r = df_ctl(&f, "{\"cmd\":\"delete\",\"device\":\"sim/meter-0\"}");
    assert_non_null(r);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    if (!df_wait(&f, meter_dropped, NULL, 10000)) {
        df_dump_log(&f);
        fail_msg("the deleted device's journal entries were not dropped");
    }
    json_t *st = df_ctl(&f, "{\"cmd\":\"status\"}");
    json_t *jr = json_object_get(json_object_get(json_object_get(st, "status"), "data"), "journal");
    long long dropped = json_integer_value(json_object_get(jr, "dropped"));
    printf("  journal after the delete: %lld dropped, depth %lld\n", dropped,
           (long long)json_integer_value(json_object_get(jr, "depth")));
    assert_true(dropped >= 10);
    json_decref(st);
    /* the thermometer's outage still drains; nothing is left waiting for meter-0 */
    assert_int_equal(df_broker_start_again(&f), 0);
    if (!df_wait(&f, drained, NULL, 30000)) {
        df_dump_log(&f);
        fail_msg("the journal never drained");
    }
    finish(&f);
}

static void test_budget(void **state)
{
    (void)state;
    df_t f;
    json_t *extra = json_array();
    for (int i = 1; i < 50; i++) {
        char dn[32];
        snprintf(dn, sizeof dn, "meter-%d", i);
        json_array_append_new(extra, json_pack("{ssss}", "productKey", "a1DMeter", "deviceName", dn));
    }
    assert_int_equal(df_start_broker_ex(&f, extra), 0);
    df_conf_t confs[] = {{"sim",
                          "plugin = \"sim\";\n"
                          "settings = { power_meter = { count = 50; interval_ms = 50; }; };\n"
                          "subdevice = { register = true; };\n"
                          "models = { power_meter = { product_key = \"a1DMeter\";\n"
                          "  points = ( { point = \"power\"; property = \"Power\"; }, { point = \"energy\"; property = \"Energy\"; } ); }; };\n"}};
    assert_int_equal(df_start_gateway(&f, "data = { stats_interval_s = 1; journal_max_mib = 1; drain_rate = 20000; };", confs, 1), 0);
    assert_true(df_wait(&f, meter_reported, NULL, 30000));
    df_broker_stop(&f); /* 2,000 values/s, about 100 bytes each in the journal: over 1 MiB in ~5 s */
    if (!df_wait(&f, dropped_some, NULL, 30000)) {
        df_dump_log(&f);
        fail_msg("the journal never dropped anything");
    }
    /* the operator sees the backlog in `linkgwctl status` (issue 9): depth, bytes, age, dropped */
    json_t *st = df_ctl(&f, "{\"cmd\":\"status\"}");
    json_t *jr = json_object_get(json_object_get(json_object_get(st, "status"), "data"), "journal");
    assert_non_null(jr);
    assert_true(json_integer_value(json_object_get(jr, "depth")) > 0);
    assert_true(json_integer_value(json_object_get(jr, "bytes")) > 0);
    assert_true(json_integer_value(json_object_get(jr, "bytes")) <= 1048576);
    assert_true(json_integer_value(json_object_get(jr, "oldest_age_ms")) > 0);
    assert_true(json_integer_value(json_object_get(jr, "dropped")) > 0);
    json_decref(st);
    sleep(1);
    assert_int_equal(df_broker_start_again(&f), 0);
    if (!df_wait(&f, drained, NULL, 60000)) {
        df_dump_log(&f);
        fail_msg("the journal never drained");
    }
    long long max_bytes, dropped, depth;
    journal_figures(&f, &max_bytes, &dropped, &depth);
    printf("  journal: at most %lld bytes (budget 1048576), %lld dropped, depth %lld after the drain\n", max_bytes,
           dropped, depth);
    assert_true(max_bytes <= 1048576);
    assert_true(dropped > 0);
    finish(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broker_outage),
        cmocka_unit_test(test_kill_during_outage),
        cmocka_unit_test(test_kill_during_drain),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_delete_drops_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
