/*
 * Custom topics, raw data and custom-topic RRPC end to end (issue 12): the
 * real linkgw with the sim plugin (which echoes, see plugins/sim/
 * sim_messages.c) against alink-emu, both directions, for a sub-device and for
 * the gateway itself; the refusals of both sides (undeclared classes, wrong
 * permission, raw for an Alink-JSON product, oversize payloads) and a clean
 * daemon exit.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lc_harness.h"

#define SUB "thermo-0"
#define DIRECT_PK "a1DirectPK"
#define DIRECT_DN "direct01"
#define DIRECT_DS "DirectDeviceSecret00000000000001"
#define WAIT_MS 30000

static lc_t T;

static int teardown(void **s)
{
    (void)s;
    lc_teardown(&T);
    return 0;
}

/* Output of `alink-emu ARGS…` (parsed JSON or NULL) and its exit status. */
static json_t *emu_json(int *rc, ...)
{
    const char *args[16];
    int n = 0;
    va_list ap;
    va_start(ap, rc);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 15)
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    char *out = NULL;
    *rc = emu_cli(&T.b, &out, args);
    json_t *j = out ? json_loads(out, JSON_DECODE_ANY, NULL) : NULL;
    free(out);
    return j;
}

/* The emulator's message log of pk/dn. */
static json_t *messages(const char *pk, const char *dn)
{
    int rc;
    json_t *m = emu_json(&rc, "messages", pk, dn, NULL);
    assert_int_equal(rc, 0);
    assert_true(json_is_array(m));
    return m;
}

typedef struct want {
    const char *pk, *dn, *topic, *payload, *hex;
} want_t;

/* True once a message on w->topic with that payload (text) or hex arrived. */
static bool has_message(lc_t *t, void *arg)
{
    (void)t;
    const want_t *w = arg;
    json_t *m = messages(w->pk, w->dn), *it;
    size_t i;
    bool found = false;
    json_array_foreach(m, i, it) {
        const char *tp = json_string_value(json_object_get(it, "topic"));
        const char *p = json_string_value(json_object_get(it, "payload"));
        const char *h = json_string_value(json_object_get(it, "hex"));
        if (tp && !strcmp(tp, w->topic) && (!w->payload || (p && !strcmp(p, w->payload))) && (!w->hex || (h && !strcmp(h, w->hex))))
            found = true;
    }
    json_decref(m);
    return found;
}

static bool log_has(const char *needle)
{
    char path[400];
    snprintf(path, sizeof path, "%s/linkgw.log", T.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static bool pred_log(lc_t *t, void *arg)
{
    (void)t;
    return log_has(arg);
}

/* Rewrites the registry: topic classes, a custom-format sub-device product, a direct device. */
static void write_registry(void)
{
    json_error_t je;
    json_t *reg = json_load_file(T.b.registry, 0, &je);
    assert_non_null(reg);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(reg, "products"), i, p) {
        const char *pk = json_string_value(json_object_get(p, "productKey"));
        if (!strcmp(pk, LC_SUB_PK)) {
            json_object_set_new(p, "dataFormat", json_string("custom"));
            json_object_set_new(p, "topics", json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "topic", "user/update", "direction",
                                                       "publish", "topic", "user/cmd", "direction", "subscribe", "topic",
                                                       "user/rpc", "direction", "subscribe"));
        } else {
            json_object_set_new(p, "topics", json_pack("[{s:s,s:s},{s:s,s:s}]", "topic", "user/gwcmd", "direction", "subscribe",
                                                       "topic", "user/update", "direction", "publish"));
        }
    }
    json_array_append_new(json_object_get(reg, "products"),
                          json_pack("{s:s,s:s,s:s,s:[{s:s,s:s},{s:s,s:s}]}", "productKey", DIRECT_PK, "productSecret", "DirectPS",
                                    "nodeType", "device", "topics", "topic", "user/update", "direction", "publish", "topic",
                                    "user/get", "direction", "subscribe"));
    json_array_append_new(json_object_get(reg, "devices"),
                          json_pack("{s:s,s:s,s:s}", "productKey", DIRECT_PK, "deviceName", DIRECT_DN, "deviceSecret", DIRECT_DS));
    assert_int_equal(json_dump_file(reg, T.b.registry, JSON_INDENT(1)), 0);
    json_decref(reg);
}

static void start(void)
{
    assert_int_equal(lc_setup(&T, 1, NULL), 0);
    assert_int_equal(lc_broker_stop(&T), 0);
    write_registry();
    char state[400];
    snprintf(state, sizeof state, "%s/state.json", T.b.state_dir);
    unlink(state); /* saved state wins over the registry */
    assert_int_equal(lc_broker_start(&T), 0);

    FILE *f = fopen(T.conf, "a");
    assert_non_null(f);
    /* the gateway's own product declares user/gwcmd (cloud → gateway) only: its echo on user/update is refused */
    fprintf(f, "topics = { gateway_instance = \"sim\";\n"
               "  products = ( { product_key = \"" LC_GW_PK "\"; classes = ( { topic = \"user/gwcmd\"; direction = \"subscribe\"; } ); } ); };\n");
    fclose(f);
    assert_int_equal(lc_write_instance(&T, "thermometer = { count = 1; interval_ms = 3600000; };",
                                       "models = { thermometer = { product_key = \"" LC_SUB_PK "\"; }; };\n"
                                       "subdevice = { register = true; };\n"
                                       "topics = { products = ( { product_key = \"" LC_SUB_PK "\"; raw = true;\n"
                                       "  classes = ( { topic = \"user/update\"; direction = \"publish\"; },\n"
                                       "              { topic = \"user/cmd\"; direction = \"subscribe\"; },\n"
                                       "              { topic = \"user/rpc\"; direction = \"both\"; } ); } ); };\n"),
                     0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)1, WAIT_MS));
}

/* Cloud → sub-device on a custom topic; the sim's echo comes back on user/update. */
static void t_custom_both_ways(void **s)
{
    (void)s;
    start();
    int rc;
    json_t *r = emu_json(&rc, "user", "publish", LC_SUB_PK, SUB, "user/cmd", "hello", NULL);
    assert_int_equal(rc, 0);
    json_decref(r);
    want_t w = {LC_SUB_PK, SUB, "/" LC_SUB_PK "/" SUB "/user/update", "hello", NULL};
    assert_true(lc_wait(&T, has_message, &w, WAIT_MS));

    /* binary bytes survive both ways */
    r = emu_json(&rc, "user", "publish", LC_SUB_PK, SUB, "user/cmd", "--hex", "00ff7f0a", NULL);
    assert_int_equal(rc, 0);
    json_decref(r);
    want_t wb = {LC_SUB_PK, SUB, "/" LC_SUB_PK "/" SUB "/user/update", NULL, "00ff7f0a"};
    assert_true(lc_wait(&T, has_message, &wb, WAIT_MS));
}

/* RRPC on a custom topic: the sim answers with the same bytes, within the 8 s. */
static void t_custom_rrpc(void **s)
{
    (void)s;
    int rc;
    json_t *r = emu_json(&rc, "user", "rrpc", LC_SUB_PK, SUB, "user/rpc", "ping-42", NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(json_string_value(json_object_get(r, "payload")), "ping-42");
    json_decref(r);
}

/* down_raw → down_raw_reply with the same bytes; the sim also sends them as up_raw,
 * whose up_raw_reply comes back to the sim (published on user/update). */
static void t_raw(void **s)
{
    (void)s;
    int rc;
    json_t *r = emu_json(&rc, "raw", "down", LC_SUB_PK, SUB, "--hex", "a5010203", NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(json_string_value(json_object_get(r, "hex")), "a5010203");
    json_decref(r);
    want_t up = {LC_SUB_PK, SUB, "/sys/" LC_SUB_PK "/" SUB "/thing/model/up_raw", NULL, "a5010203"};
    assert_true(lc_wait(&T, has_message, &up, WAIT_MS));
    /* the emulator answers up_raw with an Alink reply; the sim publishes it after "raw_reply:" */
    json_t *m = NULL;
    bool seen = false;
    for (int i = 0; i < 300 && !seen; i++) {
        json_decref(m);
        m = messages(LC_SUB_PK, SUB);
        size_t k;
        json_t *it;
        json_array_foreach(m, k, it) {
            const char *p = json_string_value(json_object_get(it, "payload"));
            seen |= p && !strncmp(p, "raw_reply:{", 11) && strstr(p, "\"code\":200");
        }
        if (!seen)
            usleep(100000);
    }
    json_decref(m);
    assert_true(seen);
}

/* The gateway's own topics: delivered to topics.gateway_instance with device_id NULL;
 * the sim's echo on user/update is not declared for the gateway product in linkgw.conf,
 * so the gateway refuses it (the emulator would have accepted it). */
static void t_gateway_itself(void **s)
{
    (void)s;
    int rc;
    json_t *r = emu_json(&rc, "user", "publish", LC_GW_PK, LC_GW_DN, "user/gwcmd", "gw-hello", NULL);
    assert_int_equal(rc, 0);
    json_decref(r);
    assert_true(lc_wait(&T, pred_log, (void *)"8 bytes on user/gwcmd for the gateway", WAIT_MS));
    assert_true(lc_wait(&T, pred_log, (void *)"publish of 8 bytes on user/update for the gateway refused: invalid argument", WAIT_MS));
    json_t *m = messages(LC_GW_PK, LC_GW_DN);
    assert_int_equal(json_array_size(m), 0);
    json_decref(m);
    /* RRPC on the gateway's own custom topic */
    r = emu_json(&rc, "user", "rrpc", LC_GW_PK, LC_GW_DN, "user/gwcmd", "gw-ping", NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(json_string_value(json_object_get(r, "payload")), "gw-ping");
    json_decref(r);
}

/* The console refuses what the product's classes do not allow. */
static void t_console_refusals(void **s)
{
    (void)s;
    int rc;
    json_decref(emu_json(&rc, "user", "publish", LC_SUB_PK, SUB, "user/update", "x", NULL)); /* publish-only class */
    assert_int_equal(rc, 1);
    json_decref(emu_json(&rc, "user", "publish", LC_SUB_PK, SUB, "user/nothere", "x", NULL)); /* no such class */
    assert_int_equal(rc, 1);
    json_decref(emu_json(&rc, "user", "rrpc", LC_SUB_PK, SUB, "user/update", "x", NULL));     /* RRPC needs subscribe */
    assert_int_equal(rc, 1);
    json_decref(emu_json(&rc, "raw", "down", LC_GW_PK, LC_GW_DN, "--hex", "00", NULL));       /* Alink-JSON product */
    assert_int_equal(rc, 1);
}

/* The emulator's ACL: a device outside its classes, against their permission, oversize. */
static void t_emulator_acl(void **s)
{
    (void)s;
    int connack;
    emu_client_t *c = emu_device_connect(&T.b, DIRECT_PK, DIRECT_DN, DIRECT_DS, "ext=1", &connack);
    assert_non_null(c);
    assert_int_equal(emu_client_sub(c, "/" DIRECT_PK "/" DIRECT_DN "/user/get"), 0);
    assert_int_equal(emu_client_sub(c, "/" DIRECT_PK "/" DIRECT_DN "/user/update"), 128);   /* publish-only */
    assert_int_equal(emu_client_sub(c, "/" DIRECT_PK "/" DIRECT_DN "/user/secret"), 128);   /* undeclared */
    emu_client_pub(c, "/" DIRECT_PK "/" DIRECT_DN "/user/secret", "no");                   /* undeclared */
    emu_client_pub(c, "/" DIRECT_PK "/" DIRECT_DN "/user/get", "no");                      /* subscribe-only */
    emu_client_pub(c, "/sys/" DIRECT_PK "/" DIRECT_DN "/thing/model/up_raw", "no");        /* Alink-JSON product */
    size_t big = 1024 * 1024 + 1;
    char *buf = malloc(big + 1);
    assert_non_null(buf);
    memset(buf, 'a', big);
    buf[big] = '\0';
    emu_client_pub(c, "/" DIRECT_PK "/" DIRECT_DN "/user/update", buf);                    /* over 1 MiB */
    buf[1024 * 1024] = '\0';
    emu_client_pub(c, "/" DIRECT_PK "/" DIRECT_DN "/user/update", buf);                    /* exactly 1 MiB: fine */
    free(buf);
    emu_client_pub(c, "/" DIRECT_PK "/" DIRECT_DN "/user/update", "last");
    want_t w = {DIRECT_PK, DIRECT_DN, "/" DIRECT_PK "/" DIRECT_DN "/user/update", "last", NULL};
    assert_true(lc_wait(&T, has_message, &w, WAIT_MS));
    json_t *m = messages(DIRECT_PK, DIRECT_DN), *it;
    size_t i;
    assert_int_equal(json_array_size(m), 2); /* the 1 MiB one and "last" */
    json_array_foreach(m, i, it) assert_string_equal(json_string_value(json_object_get(it, "topic")),
                                                     "/" DIRECT_PK "/" DIRECT_DN "/user/update");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(m, 0), "size")), 1024 * 1024);
    json_decref(m);
    json_t *st = lc_emu(&T);
    int denied = 0;
    json_array_foreach(json_object_get(st, "audit"), i, it) {
        const char *d = json_string_value(json_object_get(it, "detail"));
        if (d && strstr(d, DIRECT_PK) && (strstr(d, "no topic class") || strstr(d, "no publish permission") ||
                                          strstr(d, "no subscribe permission") || strstr(d, "1 MiB") ||
                                          strstr(d, "dataFormat")))
            denied++;
    }
    json_decref(st);
    assert_true(denied >= 6);
    emu_client_close(c);
    /* custom RRPC needs ext=1 in the client id */
    c = emu_device_connect(&T.b, DIRECT_PK, DIRECT_DN, DIRECT_DS, "", &connack);
    assert_non_null(c);
    int rc;
    json_decref(emu_json(&rc, "user", "rrpc", DIRECT_PK, DIRECT_DN, "user/get", "x", NULL));
    assert_int_equal(rc, 1);
    emu_client_close(c);
}

static void t_clean_exit(void **s)
{
    (void)s;
    assert_int_equal(lc_gw_stop(&T), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_custom_both_ways), cmocka_unit_test(t_custom_rrpc),     cmocka_unit_test(t_raw),
        cmocka_unit_test(t_gateway_itself),   cmocka_unit_test(t_console_refusals), cmocka_unit_test(t_emulator_acl),
        cmocka_unit_test(t_clean_exit),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
