/*
 * Tests of the uplink helpers (core/tsl/tsl_uplink.c): change detection with
 * deadband, full-report timing, and the pack/post builder's splitting at the
 * platform's limits (20 sub-devices, 200 properties, 20 events per message),
 * including a randomised check of its invariants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsl_uplink.h"
#include "tsl_validate.h"
#include "pack_walk.h"

static json_t *J(const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    return j;
}

static bool changed(const char *last, const char *now, double db)
{
    json_t *a = last ? J(last) : NULL, *b = J(now);
    bool r = gw_tsl_changed(a, b, db);
    /* the compact form the data layer keeps must decide exactly the same */
    gw_tsl_last_t l = { 0 };
    if (a)
        gw_tsl_last_set(&l, a);
    assert_int_equal(gw_tsl_last_changed(&l, b, db), r);
    gw_tsl_last_clear(&l);
    json_decref(a);
    json_decref(b);
    return r;
}

static void test_last_compact(void **state)
{
    (void)state;
    gw_tsl_last_t l = { 0 };
    json_t *big = json_integer(9007199254740993LL), *real = json_real(20.25), *text = json_string("a");
    assert_true(gw_tsl_last_changed(&l, big, 0)); /* never reported */
    gw_tsl_last_set(&l, big);
    assert_int_equal(l.kind, GW_TSL_LAST_INT);    /* numbers are held inline, no reference */
    assert_int_equal(big->refcount, 1);
    assert_false(gw_tsl_last_changed(&l, big, 0));
    gw_tsl_last_set(&l, real);
    assert_int_equal(l.kind, GW_TSL_LAST_REAL);
    assert_false(gw_tsl_last_changed(&l, real, 0));
    gw_tsl_last_set(&l, text);                    /* other values are referenced */
    assert_int_equal(l.kind, GW_TSL_LAST_JSON);
    assert_int_equal(text->refcount, 2);
    gw_tsl_last_set(&l, text);                    /* the same again: no second reference */
    assert_int_equal(text->refcount, 2);
    assert_false(gw_tsl_last_changed(&l, NULL, 0));
    gw_tsl_last_set(&l, big);                     /* a number again: the text is released */
    assert_int_equal(text->refcount, 1);
    gw_tsl_last_clear(&l);
    assert_int_equal(l.kind, GW_TSL_LAST_NONE);
    json_decref(big);
    json_decref(real);
    json_decref(text);
}

static void test_changed(void **state)
{
    (void)state;
    assert_true(changed(NULL, "1", 0));
    assert_false(changed("1", "1", 0));
    assert_true(changed("1", "2", 0));
    assert_false(changed("20.0", "20", 0));
    assert_true(changed("9007199254740993", "9007199254740992", 0)); /* exact for integers */
    assert_false(changed("20.0", "20.2", 0.5));
    assert_false(changed("20.0", "20.5", 0.5));
    assert_true(changed("20.0", "20.51", 0.5));
    assert_true(changed("20.0", "19.4", 0.5));
    assert_false(changed("\"1524448722000\"", "\"1524448722000\"", 0));
    assert_true(changed("\"a\"", "\"b\"", 10));
    assert_false(changed("{\"R\":1,\"G\":2}", "{\"G\":2,\"R\":1}", 0));
    assert_true(changed("{\"R\":1,\"G\":2}", "{\"G\":3,\"R\":1}", 0));
    assert_true(changed("[1,2]", "[1,2,3]", 0));
    assert_true(changed("1", "\"1\"", 0));
    json_t *one = json_integer(1);
    assert_false(gw_tsl_changed(one, NULL, 0));
    json_decref(one);
}

static void test_full_report(void **state)
{
    (void)state;
    assert_false(gw_tsl_full_report_due(0, -1, 1000));
    assert_true(gw_tsl_full_report_due(1000, -1, 5));
    assert_false(gw_tsl_full_report_due(1000, 5000, 5999));
    assert_true(gw_tsl_full_report_due(1000, 5000, 6000));
    assert_true(gw_tsl_full_report_due(1000, 5000, 4000)); /* clock went back */
    assert_int_equal(gw_tsl_full_report_delay(0, -1, 0), -1);
    assert_int_equal(gw_tsl_full_report_delay(1000, 5000, 5250), 750);
    assert_int_equal(gw_tsl_full_report_delay(1000, 5000, 7000), 0);
    assert_int_equal(gw_tsl_full_report_delay(1000, -1, 7000), 0);
}

/* Checks the limits of every message and counts its items. */
static void check_limits(const json_t *msgs, size_t max_sub, size_t max_props, size_t max_events, size_t *items)
{
    size_t i;
    const json_t *m;
    *items = 0;
    json_array_foreach(msgs, i, m) {
        const json_t *subs = json_object_get(m, "subDevices");
        size_t np = json_object_size(json_object_get(m, "properties"));
        size_t ne = json_object_size(json_object_get(m, "events"));
        assert_true(json_array_size(subs) <= max_sub);
        size_t k;
        const json_t *sd;
        json_array_foreach(subs, k, sd) {
            np += json_object_size(json_object_get(sd, "properties"));
            ne += json_object_size(json_object_get(sd, "events"));
            /* an identity appears at most once per message */
            for (size_t q = 0; q < k; q++)
                assert_false(json_equal(json_object_get(json_array_get(subs, q), "identity"),
                                        json_object_get(sd, "identity")));
        }
        assert_true(np <= max_props);
        assert_true(ne <= max_events);
        assert_true(np + ne > 0);
        *items += np + ne;
    }
}

/* gw_tsl_pack_flush() sink keeping the raw text. */
static void collect_raw(void *ctx, const char *params, size_t len)
{
    json_array_append_new(ctx, json_stringn(params, len));
}

static void test_pack_basic(void **state)
{
    (void)state;
    gw_tsl_pack_t *p = gw_tsl_pack_new();
    json_t *out = gw_tsl_pack_take(p);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);

    gw_tsl_pack_dev_t *gw = gw_tsl_pack_device(p, NULL, NULL);
    gw_tsl_pack_dev_t *t1 = gw_tsl_pack_device(p, "a1ThermoPK", "t1");
    assert_ptr_equal(gw_tsl_pack_device(p, "a1ThermoPK", "t1"), t1);
    assert_ptr_equal(gw_tsl_pack_device(p, NULL, "x"), gw);
    assert_int_equal(gw_tsl_pack_add_property(gw, "PowerSwitch", json_integer(1), 1524448722000LL), 0);
    assert_int_equal(gw_tsl_pack_add_property(t1, "Temperature", json_real(23.5), 1524448722000LL), 0);
    assert_int_equal(gw_tsl_pack_add_event(t1, "Overheat", J("{\"Level\":2}"), -1), 0);
    assert_int_equal(gw_tsl_pack_add_property(NULL, "X", json_integer(1), -1), -1);
    assert_int_equal(gw_tsl_pack_pending(p), 3);
    assert_int_equal(gw_tsl_pack_devices(p), 2);
    out = gw_tsl_pack_take(p);
    char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "[{\"events\":{},\"properties\":{\"PowerSwitch\":{\"time\":1524448722000,\"value\":1}},"
                           "\"subDevices\":[{\"events\":{\"Overheat\":{\"value\":{\"Level\":2}}},\"identity\":{"
                           "\"deviceName\":\"t1\",\"productKey\":\"a1ThermoPK\"},\"properties\":{\"Temperature\":{"
                           "\"time\":1524448722000,\"value\":23.5}}}]}]");
    free(s);

    /* the messages pass the platform-side validator */
    char err_s[256];
    gw_tsl_models_t *set = gw_tsl_models_new();
    assert_int_equal(gw_tsl_models_load_dir(set, TSL_TEST_DATA "/models", err_s, sizeof err_s), 0);
    gw_tsl_err_t err;
    assert_int_equal(gw_tsl_check_pack_post(set, gw_tsl_models_find(set, "a1SwitchPK"), json_array_get(out, 0),
                                            GW_TSL_STRICT, &err),
                     0);
    gw_tsl_models_free(set);
    json_decref(out);
    assert_int_equal(gw_tsl_pack_pending(p), 0);
    /* text rendering: reals keep a decimal point, time only when given */
    gw = gw_tsl_pack_device(p, NULL, NULL);
    gw_tsl_pack_add_property(gw, "A", json_real(20.0), -1);
    gw_tsl_pack_add_property(gw, "B", json_real(23.6), 5);
    gw_tsl_pack_add_property(gw, "C", json_real(0.1 + 0.2), 5);
    gw_tsl_pack_add_property(gw, "D", json_string("q\"x"), 5);
    json_t *texts = json_array();
    assert_int_equal(gw_tsl_pack_flush(p, collect_raw, texts), 1);
    assert_string_equal(json_string_value(json_array_get(texts, 0)),
                        "{\"properties\":{\"A\":{\"value\":20.0},\"B\":{\"value\":23.6,\"time\":5},"
                        "\"C\":{\"value\":0.30000000000000004,\"time\":5},\"D\":{\"value\":\"q\\\"x\",\"time\":5}},"
                        "\"events\":{}}");
    json_decref(texts);
    texts = json_array();
    assert_int_equal(gw_tsl_pack_flush(p, collect_raw, texts), 0);
    json_decref(texts);
    assert_int_equal(gw_tsl_pack_devices(p), 0);
    gw_tsl_pack_free(p);
}

static void test_pack_split(void **state)
{
    (void)state;
    gw_tsl_pack_t *p = gw_tsl_pack_new();
    /* 45 sub-devices x 10 properties: 20 + 20 + 5 devices */
    for (int d = 0; d < 45; d++) {
        char dn[16];
        snprintf(dn, sizeof dn, "d%d", d);
        gw_tsl_pack_dev_t *dev = gw_tsl_pack_device(p, "pk", dn);
        for (int k = 0; k < 10; k++) {
            char id[16];
            snprintf(id, sizeof id, "P%d", k);
            gw_tsl_pack_add_property(dev, id, json_integer(k), 1);
        }
    }
    json_t *out = gw_tsl_pack_take(p);
    size_t items;
    check_limits(out, 20, 200, 20, &items);
    assert_int_equal(items, 450);
    assert_int_equal(json_array_size(out), 3);
    assert_int_equal(json_array_size(json_object_get(json_array_get(out, 2), "subDevices")), 5);
    json_decref(out);

    /* one device with 450 distinct properties: 200 + 200 + 50, in order */
    gw_tsl_pack_dev_t *big = gw_tsl_pack_device(p, "pk", "big");
    for (int k = 0; k < 450; k++) {
        char id[16];
        snprintf(id, sizeof id, "P%03d", k);
        gw_tsl_pack_add_property(big, id, json_integer(k), -1);
    }
    out = gw_tsl_pack_take(p);
    check_limits(out, 20, 200, 20, &items);
    assert_int_equal(items, 450);
    assert_int_equal(json_array_size(out), 3);
    const json_t *last = json_object_get(json_array_get(json_object_get(json_array_get(out, 2), "subDevices"), 0),
                                         "properties");
    assert_int_equal(json_object_size(last), 50);
    assert_non_null(json_object_get(last, "P449"));
    json_decref(out);

    /* the same property three times: three messages, values in order; another device fills message 1 */
    gw_tsl_pack_dev_t *a = gw_tsl_pack_device(p, "pk", "a");
    gw_tsl_pack_dev_t *b = gw_tsl_pack_device(p, "pk", "b");
    for (int k = 0; k < 3; k++)
        gw_tsl_pack_add_property(a, "T", json_integer(k), 100 + k);
    gw_tsl_pack_add_property(b, "T", json_integer(9), 100);
    out = gw_tsl_pack_take(p);
    assert_int_equal(json_array_size(out), 3);
    for (int k = 0; k < 3; k++) {
        const json_t *subs = json_object_get(json_array_get(out, (size_t)k), "subDevices");
        const json_t *sd = json_array_get(subs, 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(sd, "identity"), "deviceName")), "a");
        const json_t *e = json_object_get(json_object_get(sd, "properties"), "T");
        assert_int_equal(json_integer_value(json_object_get(e, "value")), k);
        assert_int_equal(json_integer_value(json_object_get(e, "time")), 100 + k);
        assert_int_equal(json_array_size(subs), k == 0 ? 2 : 1);
    }
    json_decref(out);

    /* events: 5 devices x 5 events -> at most 20 events per message */
    for (int d = 0; d < 5; d++) {
        char dn[16];
        snprintf(dn, sizeof dn, "e%d", d);
        gw_tsl_pack_dev_t *dev = gw_tsl_pack_device(p, "pk", dn);
        for (int k = 0; k < 5; k++) {
            char id[16];
            snprintf(id, sizeof id, "E%d", k);
            gw_tsl_pack_add_event(dev, id, json_object(), -1);
        }
    }
    out = gw_tsl_pack_take(p);
    check_limits(out, 20, 200, 20, &items);
    assert_int_equal(items, 25);
    assert_int_equal(json_array_size(out), 2);
    json_decref(out);
    gw_tsl_pack_free(p);
}

/* gw_tsl_pack_flush() sink: parses each message into the array @p ctx. */
static void collect_text(void *ctx, const char *params, size_t len)
{
    assert_int_equal(strlen(params), len);
    json_error_t je;
    json_t *j = json_loadb(params, len, 0, &je);
    if (!j)
        fail_msg("bad JSON from flush: %s: %.200s", je.text, params);
    json_array_append_new(ctx, j);
}

/* Random queues under small and platform limits: limits hold, nothing lost, per-key order kept. */
static void test_pack_random(void **state)
{
    (void)state;
    srand(12345);
    for (int round = 0; round < 40; round++) {
        gw_tsl_pack_t *p = gw_tsl_pack_new(), *p2 = gw_tsl_pack_new();
        size_t ms = (size_t)(round % 2 ? 20 : 1 + rand() % 5), mp = (size_t)(round % 2 ? 200 : 1 + rand() % 7),
               me = (size_t)(round % 2 ? 20 : 1 + rand() % 3);
        gw_tsl_pack_set_limits(p, ms, mp, me);
        gw_tsl_pack_set_limits(p2, ms, mp, me);
        int n_items = 50 + rand() % 3000, n_devs = 1 + rand() % 60;
        for (int i = 0; i < n_items; i++) {
            int d = rand() % (n_devs + 1); /* n_devs = the gateway */
            char dn[16], id[16];
            snprintf(dn, sizeof dn, "d%d", d);
            snprintf(id, sizeof id, "I%d", rand() % 30);
            gw_tsl_pack_dev_t *dev = d == n_devs ? gw_tsl_pack_device(p, NULL, NULL) : gw_tsl_pack_device(p, "pk", dn);
            gw_tsl_pack_dev_t *dev2 =
                d == n_devs ? gw_tsl_pack_device(p2, NULL, NULL) : gw_tsl_pack_device(p2, "pk", dn);
            int kind = rand() % 4;
            json_t *v = kind == 0 ? json_pack("{s:i,s:s}", "seq", i, "q", "\"\\\n")
                      : kind == 1 ? json_real(i + 0.1) : json_integer(i);
            json_incref(v);
            if (kind == 0) {
                gw_tsl_pack_add_event(dev, id, v, i);
                gw_tsl_pack_add_event(dev2, id, v, i);
            } else {
                gw_tsl_pack_add_property(dev, id, v, i);
                gw_tsl_pack_add_property(dev2, id, v, i);
            }
        }
        assert_int_equal(gw_tsl_pack_pending(p), (size_t)n_items);
        json_t *out = gw_tsl_pack_take(p);
        size_t items;
        check_limits(out, ms, mp, me, &items);
        assert_int_equal(items, (size_t)n_items);
        /* the text renderer produces the same messages */
        json_t *texts = json_array();
        assert_int_equal(gw_tsl_pack_flush(p2, collect_text, texts), (long)json_array_size(out));
        assert_true(json_equal(texts, out));
        assert_int_equal(gw_tsl_pack_pending(p2), 0);
        json_decref(texts);
        gw_tsl_pack_free(p2);
        /* per (device, kind, id): times strictly increase across messages */
        json_t *seen = json_object();
        pack_walk(out, seen, NULL);
        json_decref(seen);
        json_decref(out);
        gw_tsl_pack_free(p);
    }
}

/*
 * One builder used round after round (its device blocks are reused across
 * flushes, idle ones freed once many pile up) renders exactly what a fresh
 * builder renders for the same round: device subsets change, the order of
 * first use changes, identifiers long enough to be stored apart, a round
 * with more devices than the idle blocks kept.
 */
static void test_pack_reuse(void **state)
{
    (void)state;
    srand(777);
    gw_tsl_pack_t *kept = gw_tsl_pack_new();
    for (int round = 0; round < 30; round++) {
        gw_tsl_pack_t *fresh = gw_tsl_pack_new();
        int n_devs = round == 7 ? 6000 : 1 + rand() % 80, n_items = round == 7 ? 12000 : rand() % 400;
        for (int i = 0; i < n_items; i++) {
            int d = round == 7 ? i % n_devs : rand() % (n_devs + 1); /* n_devs = the gateway */
            char dn[24], id[48];
            snprintf(dn, sizeof dn, "dev-%d", (d * 7 + round) % (n_devs + 1));
            snprintf(id, sizeof id, rand() % 3 ? "P%d" : "AQuiteLongPropertyIdentifier_%d", rand() % 20);
            bool gw = d == n_devs;
            json_t *v = rand() % 2 ? json_real(i * 0.37) : json_integer(i);
            gw_tsl_pack_add_property(gw ? gw_tsl_pack_device(kept, NULL, NULL) : gw_tsl_pack_device(kept, "pk", dn), id,
                                     json_incref(v), i);
            gw_tsl_pack_add_property(gw ? gw_tsl_pack_device(fresh, NULL, NULL) : gw_tsl_pack_device(fresh, "pk", dn),
                                     id, v, i);
        }
        assert_int_equal(gw_tsl_pack_pending(kept), gw_tsl_pack_pending(fresh));
        assert_int_equal(gw_tsl_pack_devices(kept), gw_tsl_pack_devices(fresh));
        json_t *a = json_array(), *b = json_array();
        assert_int_equal(gw_tsl_pack_flush(kept, collect_raw, a), gw_tsl_pack_flush(fresh, collect_raw, b));
        assert_true(json_equal(a, b));
        assert_int_equal(gw_tsl_pack_pending(kept), 0);
        assert_int_equal(gw_tsl_pack_devices(kept), 0);
        json_decref(a);
        json_decref(b);
        gw_tsl_pack_free(fresh);
    }
    gw_tsl_pack_free(kept);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changed),
        cmocka_unit_test(test_last_compact),
        cmocka_unit_test(test_full_report),
        cmocka_unit_test(test_pack_basic),
        cmocka_unit_test(test_pack_split),
        cmocka_unit_test(test_pack_random),
        cmocka_unit_test(test_pack_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
