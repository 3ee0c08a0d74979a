/*
 * Tests of the pack builder's byte budget (core/tsl/tsl_uplink.c): the size
 * bounds never under-count what jansson or the text renderer writes; with a
 * small budget the planner splits so that no message is over it, every value
 * goes out exactly once and the values of one identifier keep their order; a
 * value that cannot fit even alone is dropped, reported (device and
 * identifier) and counted, exactly at the budget's edge; and with the
 * platform's budget 200 texts of 10,240 bytes (a ~2 MB pack) are split under
 * GW_TSL_PARAMS_MAX.
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
#include "pack_walk.h"

static size_t dumped(const json_t *v)
{
    return json_dumpb(v, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* A string of @p n bytes drawn from a mix that needs escaping ('"', '\\', control characters, UTF-8). */
static json_t *nasty_string(size_t n, unsigned seed)
{
    static const char *const parts[] = { "a", "\"", "\\", "\n", "\x01", "\x1f", "/", "\xc3\xa9", "z" };
    char *s = malloc(n + 4);
    assert_non_null(s);
    size_t len = 0;
    while (len < n) {
        seed = seed * 1103515245u + 12345u;
        const char *p = parts[(seed >> 16) % 9];
        size_t l = strlen(p);
        if (len + l > n)
            p = "a", l = 1;
        memcpy(s + len, p, l);
        len += l;
    }
    json_t *j = json_stringn(s, len);
    free(s);
    assert_non_null(j);
    return j;
}

/* The size bounds are never below what jansson writes. */
static void test_bounds(void **state)
{
    (void)state;
    const char *texts[] = {
        "0", "-9223372036854775808", "9223372036854775807", "-1.7976931348623157e308", "2.2250738585072014e-308",
        "-4.9406564584124654e-324", "0.1", "true", "false", "null", "\"\"", "\"\\\"\\\\\\n\\t\\u0001\\u001f/\"",
        "{\"a\\\"b\":[1,2.5,{\"x\":\"\\u0000y\"}],\"c\":{}}", "[]", "[[],[[]],{\"\":null}]",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        json_t *v = json_loads(texts[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        assert_non_null(v);
        assert_true(gw_tsl_json_bytes(v) >= dumped(v));
        /* strings are exact with this renderer's escapes, objects count a comma per member */
        json_decref(v);
    }
    for (unsigned seed = 1; seed < 200; seed++) {
        json_t *s = nasty_string(seed * 7 % 300, seed);
        assert_true(gw_tsl_json_bytes(s) >= dumped(s));
        json_t *st = json_pack("{s:o,s:f,s:I,s:[O,O]}", "t", json_incref(s), "f", seed * 0.37, "i",
                               (json_int_t)seed * -1000003, "a", s, s);
        assert_true(gw_tsl_json_bytes(st) >= dumped(st));
        /* an entry as both renderers write it: "id":{"value":v,"time":t} */
        json_t *e = json_pack("{s:{s:O,s:I}}", "Id\"\n", "value", st, "time", (json_int_t)1524448722000LL);
        size_t n = dumped(e) - 2; /* without the braces of the wrapping object */
        assert_true(gw_tsl_entry_bytes("Id\"\n", st, 1524448722000LL) >= n + 1);
        json_decref(e);
        json_decref(st);
        json_decref(s);
    }
    json_t *blk = json_pack("{s:{s:s,s:s},s:{},s:{}}", "identity", "productKey", "a1\"PK", "deviceName", "d\tn",
                            "properties", "events");
    assert_true(gw_tsl_identity_bytes("a1\"PK", "d\tn") >= dumped(blk) + 1);
    json_decref(blk);
}

/* ---- splitting under a small budget ---------------------------------------------- */

typedef struct drops {
    size_t n;
    char last[128];
} drops_t;

static void on_drop(void *ctx, const char *pk, const char *dn, const char *id, bool event, size_t bytes)
{
    drops_t *d = ctx;
    d->n++;
    snprintf(d->last, sizeof d->last, "%s/%s/%s/%s", pk ? pk : "-", dn ? dn : "-", event ? "event" : "property", id);
    assert_true(bytes > 0);
}

typedef struct sink {
    json_t *msgs;
    size_t max_len;
} sink_t;

static void collect(void *ctx, const char *params, size_t len)
{
    sink_t *s = ctx;
    assert_int_equal(strlen(params), len);
    if (len > s->max_len)
        s->max_len = len;
    json_error_t je;
    json_t *j = json_loadb(params, len, 0, &je);
    if (!j)
        fail_msg("bad JSON from flush: %s", je.text);
    json_array_append_new(s->msgs, j);
}

/*
 * The length of the params of a message holding only value @p v of device
 * @p dn (NULL: the gateway), as the text renderer writes it.
 */
static size_t alone_len(const char *dn, const char *id, json_t *v, int64_t t, bool event)
{
    gw_tsl_pack_t *p = gw_tsl_pack_new();
    gw_tsl_pack_dev_t *d = gw_tsl_pack_device(p, dn ? "pk" : NULL, dn);
    assert_int_equal(event ? gw_tsl_pack_add_event(d, id, json_incref(v), t)
                           : gw_tsl_pack_add_property(d, id, json_incref(v), t),
                     0);
    sink_t s = { json_array(), 0 };
    assert_int_equal(gw_tsl_pack_flush(p, collect, &s), 1);
    json_decref(s.msgs);
    gw_tsl_pack_free(p);
    return s.max_len;
}


/*
 * Random queues of values of every size (numbers, short and long texts with
 * escapes, structs, arrays) under random small budgets and count limits:
 * no message over the budget, the limits hold, every value exactly once
 * (delivered, or dropped because it cannot fit alone), per-identifier order
 * kept, and the tree path (take) plans the same messages as the text path.
 */
static void test_split_random(void **state)
{
    (void)state;
    srand(4242);
    for (int round = 0; round < 60; round++) {
        size_t budget = 200 + (size_t)(rand() % 4000);
        size_t ms = (size_t)(1 + rand() % 20), mp = (size_t)(1 + rand() % 200), me = (size_t)(1 + rand() % 20);
        gw_tsl_pack_t *p = gw_tsl_pack_new(), *p2 = gw_tsl_pack_new();
        gw_tsl_pack_set_limits(p, ms, mp, me);
        gw_tsl_pack_set_limits(p2, ms, mp, me);
        gw_tsl_pack_set_max_bytes(p, budget);
        gw_tsl_pack_set_max_bytes(p2, budget);
        assert_int_equal(gw_tsl_pack_max_bytes(p), budget);
        drops_t dr = { 0 }, dr2 = { 0 };
        gw_tsl_pack_set_drop_cb(p, on_drop, &dr);
        gw_tsl_pack_set_drop_cb(p2, on_drop, &dr2);
        int n_items = 20 + rand() % 600, n_devs = 1 + rand() % 30;
        json_t *all = json_object(); /* time → [dn or null, id, event, value] */
        for (int i = 0; i < n_items; i++) {
            int d = rand() % (n_devs + 1); /* n_devs = the gateway */
            char dn[16], id[16];
            snprintf(dn, sizeof dn, "d%d", d);
            snprintf(id, sizeof id, "I%d", rand() % 12);
            int kind = rand() % 6;
            json_t *v = kind == 0   ? json_integer(i)
                      : kind == 1   ? json_real(i + 0.25)
                      : kind == 2   ? nasty_string((size_t)(rand() % 80), (unsigned)i)
                      : kind == 3   ? nasty_string((size_t)(rand() % (int)(budget + 200)), (unsigned)i)
                      : kind == 4   ? json_pack("{s:o,s:i}", "txt", nasty_string((size_t)(rand() % 400), (unsigned)i),
                                                "n", i)
                                    : json_pack("[o,o]", nasty_string((size_t)(rand() % 200), (unsigned)i),
                                                json_real(i * 1.5));
            bool event = rand() % 5 == 0;
            bool gw = d == n_devs;
            for (int k = 0; k < 2; k++) {
                gw_tsl_pack_t *pp = k ? p2 : p;
                gw_tsl_pack_dev_t *dev = gw ? gw_tsl_pack_device(pp, NULL, NULL) : gw_tsl_pack_device(pp, "pk", dn);
                json_incref(v);
                assert_int_equal(event ? gw_tsl_pack_add_event(dev, id, v, 1000 + i)
                                       : gw_tsl_pack_add_property(dev, id, v, 1000 + i),
                                 0);
            }
            char tk[24];
            snprintf(tk, sizeof tk, "%d", 1000 + i);
            json_object_set_new(all, tk, json_pack("[s?,s,b,o]", gw ? NULL : dn, id, event, v));
        }
        sink_t s = { json_array(), 0 };
        long n = gw_tsl_pack_flush(p, collect, &s);
        assert_int_equal(n, (long)json_array_size(s.msgs));
        assert_true(s.max_len <= budget);
        assert_int_equal(gw_tsl_pack_pending(p), 0);
        assert_int_equal(gw_tsl_pack_dropped(p), dr.n);
        /* limits */
        size_t i;
        const json_t *m;
        json_array_foreach(s.msgs, i, m) {
            size_t np = json_object_size(json_object_get(m, "properties")),
                   ne = json_object_size(json_object_get(m, "events"));
            const json_t *subs = json_object_get(m, "subDevices");
            assert_true(json_array_size(subs) <= ms);
            size_t k;
            const json_t *sd;
            json_array_foreach(subs, k, sd) {
                np += json_object_size(json_object_get(sd, "properties"));
                ne += json_object_size(json_object_get(sd, "events"));
            }
            assert_true(np <= mp);
            assert_true(ne <= me);
        }
        /* exactly once: delivered, or dropped because alone it is over the budget */
        json_t *seen = json_object(), *times = json_object();
        pack_walk(s.msgs, seen, times);
        const char *tk;
        json_t *rec;
        size_t missing = 0;
        json_object_foreach(all, tk, rec) {
            if (json_object_get(times, tk))
                continue;
            missing++;
            const char *dn = json_string_value(json_array_get(rec, 0));
            size_t len = alone_len(dn, json_string_value(json_array_get(rec, 1)), json_array_get(rec, 3),
                                   strtoll(tk, NULL, 10), json_is_true(json_array_get(rec, 2)));
            if (len <= budget)
                fail_msg("round %d: value %s (%zu bytes alone) neither sent nor over the budget %zu", round, tk, len,
                         budget);
        }
        assert_int_equal(missing, dr.n);
        /* the tree path plans the same messages */
        json_t *tree = gw_tsl_pack_take(p2);
        assert_non_null(tree);
        assert_int_equal(json_array_size(tree), json_array_size(s.msgs));
        assert_int_equal(dr2.n, dr.n);
        json_array_foreach(tree, i, m) {
            char *t = json_dumps(m, JSON_COMPACT);
            assert_true(strlen(t) <= budget);
            free(t);
        }
        json_decref(tree);
        json_decref(seen);
        json_decref(times);
        json_decref(all);
        json_decref(s.msgs);
        gw_tsl_pack_free(p);
        gw_tsl_pack_free(p2);
    }
}

/*
 * A value that does not fit alone is dropped (the callback names the device
 * and identifier), its neighbours go out in order; the edge is exact: a
 * value whose message is exactly the budget is sent.
 */
static void test_oversize_dropped(void **state)
{
    (void)state;
    json_t *big = nasty_string(500, 7);
    size_t alone = alone_len("dev-1", "Text", big, 5, false);
    for (int edge = 0; edge < 2; edge++) {
        gw_tsl_pack_t *p = gw_tsl_pack_new();
        gw_tsl_pack_set_max_bytes(p, edge ? alone : alone - 1);
        drops_t dr = { 0 };
        gw_tsl_pack_set_drop_cb(p, on_drop, &dr);
        gw_tsl_pack_dev_t *d = gw_tsl_pack_device(p, "pk", "dev-1");
        gw_tsl_pack_add_property(d, "Small", json_integer(1), 4);
        gw_tsl_pack_add_property(d, "Text", json_incref(big), 5);
        gw_tsl_pack_add_property(d, "Small", json_integer(2), 6);
        assert_int_equal(gw_tsl_pack_pending(p), 3);
        sink_t s = { json_array(), 0 };
        long n = gw_tsl_pack_flush(p, collect, &s);
        assert_true(s.max_len <= gw_tsl_pack_max_bytes(p));
        json_t *seen = json_object(), *times = json_object();
        pack_walk(s.msgs, seen, times);
        assert_non_null(json_object_get(times, "4"));
        assert_non_null(json_object_get(times, "6"));
        if (edge) {
            assert_non_null(json_object_get(times, "5"));
            assert_int_equal(dr.n, 0);
            assert_int_equal(n, 3); /* Small, Text and Small each fill the budget with another */
        } else {
            assert_null(json_object_get(times, "5"));
            assert_int_equal(dr.n, 1);
            assert_string_equal(dr.last, "pk/dev-1/property/Text");
            assert_int_equal(gw_tsl_pack_dropped(p), 1);
        }
        assert_int_equal(gw_tsl_pack_pending(p), 0);
        json_decref(seen);
        json_decref(times);
        json_decref(s.msgs);
        gw_tsl_pack_free(p);
    }
    /* the gateway's own event, through the tree path; no callback: still counted */
    gw_tsl_pack_t *p = gw_tsl_pack_new();
    gw_tsl_pack_set_max_bytes(p, 300);
    gw_tsl_pack_dev_t *g = gw_tsl_pack_device(p, NULL, NULL);
    gw_tsl_pack_add_event(g, "Alarm", json_pack("{s:O}", "detail", big), 1);
    gw_tsl_pack_add_property(g, "T", json_real(20.5), 2);
    json_t *out = gw_tsl_pack_take(p);
    assert_int_equal(json_array_size(out), 1);
    assert_int_equal(json_object_size(json_object_get(json_array_get(out, 0), "events")), 0);
    assert_int_equal(json_object_size(json_object_get(json_array_get(out, 0), "properties")), 1);
    assert_int_equal(gw_tsl_pack_dropped(p), 1);
    assert_int_equal(gw_tsl_pack_pending(p), 0);
    json_decref(out);
    gw_tsl_pack_free(p);
    json_decref(big);
}

/*
 * The platform's budget: 20 sub-devices with 10 texts of 10,240 bytes each
 * (a TSL text's maximum; ~2 MB in all) no longer make one 2 MB pack/post.
 */
static void test_platform_budget(void **state)
{
    (void)state;
    gw_tsl_pack_t *p = gw_tsl_pack_new();
    assert_int_equal(gw_tsl_pack_max_bytes(p), GW_TSL_PARAMS_MAX);
    gw_tsl_pack_set_max_bytes(p, GW_TSL_PAYLOAD_MAX * 4); /* above: the cap stays */
    assert_int_equal(gw_tsl_pack_max_bytes(p), GW_TSL_PARAMS_MAX);
    char *text = malloc(10241);
    assert_non_null(text);
    memset(text, 'x', 10240);
    text[10240] = '\0';
    for (int d = 0; d < 20; d++) {
        char dn[16];
        snprintf(dn, sizeof dn, "dev-%d", d);
        gw_tsl_pack_dev_t *dev = gw_tsl_pack_device(p, "a1PK", dn);
        for (int k = 0; k < 10; k++) {
            char id[16];
            snprintf(id, sizeof id, "Text%d", k);
            gw_tsl_pack_add_property(dev, id, json_string(text), 1524448722000LL + d * 10 + k);
        }
    }
    free(text);
    sink_t s = { json_array(), 0 };
    long n = gw_tsl_pack_flush(p, collect, &s);
    assert_true(n >= 2);
    assert_true(s.max_len <= GW_TSL_PARAMS_MAX);
    json_t *seen = json_object(), *times = json_object();
    pack_walk(s.msgs, seen, times);
    assert_int_equal(json_object_size(times), 200);
    assert_int_equal(gw_tsl_pack_dropped(p), 0);
    json_decref(seen);
    json_decref(times);
    json_decref(s.msgs);
    gw_tsl_pack_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_split_random),
        cmocka_unit_test(test_oversize_dropped),
        cmocka_unit_test(test_platform_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
