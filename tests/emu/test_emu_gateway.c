/* test_emu_gateway.c — the gateway side of the Alink protocol against alink-emu: topology
 * (add/get/delete and their refusals), sessions (login, batch login all-or-nothing,
 * logout), 520 on /ext/error for data without a session, sub/register issued once
 * (6289, reset, 6100, 6288), TSL-validated posts (invalid properties dropped, invalid
 * events refused), pack/post all-or-nothing, history/post, NTP, ACL refusals, malformed
 * input. The gateway connects with _ss=1 and never subscribes: every reply it gets proves
 * server-side subscription. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "emu_fixture.h"
#include "emu_harness.h"
#include "emu_sign.h"

static emu_broker_t B;
static emu_client_t *G;      /* gateway gw01, _ss=1, no subscriptions */

#define T(rest) "/sys/" GW_PK "/gw01/" rest
#define S(rest) "/ext/session/" GW_PK "/gw01/combine/" rest

static int setup(void **s)
{
    int rc;
    (void)s;
    if (emu_broker_start(&B, EMU_REGISTRY, false)) return -1;
    G = emu_device_connect(&B, GW_PK, "gw01", GW_DS(1), "_ss=1,ext=3", &rc);
    return G ? 0 : -1;
}

static int teardown(void **s)
{
    (void)s;
    emu_client_close(G);
    return emu_broker_cleanup(&B);
}

/* {"productKey","deviceName","clientId","timestamp","signmethod","sign"} for subNN */
static void topo_entry(char *out, size_t n, const char *dn, const char *ds)
{
    char sign[65];
    emu_sub_sign(SUB_PK, dn, ds, "1700000000000", sign);
    snprintf(out, n, "{\"productKey\":\"%s\",\"deviceName\":\"%s\",\"clientId\":\"%s.%s\",\"timestamp\":\"1700000000000\","
             "\"signmethod\":\"hmacSha256\",\"sign\":\"%s\"}", SUB_PK, dn, SUB_PK, dn, sign);
}

static json_t *req(const char *topic, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *req(const char *topic, const char *fmt, ...)
{
    char payload[65536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(payload, sizeof payload, fmt, ap);
    va_end(ap);
    return emu_client_request(G, topic, payload, EMU_WAIT_MS);
}

static int code_of(json_t *r)
{
    int c = emu_code(r);
    json_decref(r);
    return c;
}

static json_t *device_state(const char *key)
{
    json_t *st = emu_state(&B);
    json_t *d = json_incref(json_object_get(json_object_get(st, "devices"), key));
    json_decref(st);
    return d;
}

static bool online(const char *key)
{
    json_t *st = emu_state(&B);
    bool on = json_object_get(json_object_get(st, "sessions"), key) != NULL;
    json_decref(st);
    return on;
}

static void add_and_login(const char *dn, const char *ds)
{
    char e[600];
    topo_entry(e, sizeof e, dn, ds);
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"1\",\"version\":\"1.0\",\"params\":[%s]}", e)), 200);
    assert_int_equal(code_of(req(S("batch_login"), "{\"id\":\"2\",\"params\":{\"signMethod\":\"hmacSha256\",\"deviceList\":[%s]}}", e)), 200);
}

static void t_topology_and_sessions(void **s)
{
    char e1[600], e2[600];
    (void)s;
    topo_entry(e1, sizeof e1, "sub01", SUB_DS(1));
    topo_entry(e2, sizeof e2, "sub02", SUB_DS(2));
    json_t *r = req(T("thing/topo/add"), "{\"id\":\"11\",\"version\":\"1.0\",\"params\":[%s,%s]}", e1, e2);
    assert_int_equal(emu_code(r), 200);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "11");
    assert_int_equal(json_array_size(json_object_get(r, "data")), 2);
    assert_non_null(json_object_get(r, "message"));
    json_decref(r);
    /* LinkSDK topo/get: params is the string "{}" */
    r = req(T("thing/topo/get"), "{\"id\":\"2\",\"version\":\"1.0\",\"params\":\"{}\"}");
    assert_int_equal(emu_code(r), 200);
    assert_int_equal(json_array_size(json_object_get(r, "data")), 2);
    json_decref(r);
    /* numeric id is echoed as a string */
    r = req(T("thing/topo/get"), "{\"id\":77,\"params\":{}}");
    assert_string_equal(json_string_value(json_object_get(r, "id")), "77");
    json_decref(r);

    r = req(S("batch_login"), "{\"id\":\"3\",\"version\":\"1.0\",\"params\":{\"signMethod\":\"hmacSha256\",\"deviceList\":[%s,%s]}}", e1, e2);
    assert_int_equal(emu_code(r), 200);
    assert_int_equal(json_array_size(json_object_get(r, "data")), 2);
    json_decref(r);
    assert_true(online(SUB_PK "/sub01"));

    /* sub-device data on its own topics, through the gateway connection */
    assert_int_equal(code_of(emu_client_request(G, "/sys/" SUB_PK "/sub01/thing/event/property/post",
                                                "{\"id\":\"4\",\"version\":\"1.0\",\"params\":{\"Temperature\":23.5,\"PowerSwitch\":1},\"sys\":{\"ack\":1}}", EMU_WAIT_MS)), 200);
    json_t *d = device_state(SUB_PK "/sub01");
    assert_true(json_number_value(json_object_get(json_object_get(json_object_get(d, "properties"), "Temperature"), "value")) == 23.5);
    json_decref(d);

    /* single logout, then data without a session -> 520 on /ext/error/{gw} */
    r = req(S("logout"), "{\"id\":\"5\",\"params\":{\"productKey\":\"" SUB_PK "\",\"deviceName\":\"sub02\"}}");
    assert_int_equal(emu_code(r), 200);
    json_decref(r);
    assert_int_equal(code_of(req(S("logout"), "{\"id\":\"6\",\"params\":{\"productKey\":\"" SUB_PK "\",\"deviceName\":\"sub02\"}}")), 520);
    emu_client_pub(G, "/sys/" SUB_PK "/sub02/thing/event/property/post", "{\"id\":\"7\",\"params\":{\"Temperature\":1.5}}");
    r = emu_client_wait(G, "/ext/error/" GW_PK "/gw01", EMU_WAIT_MS);
    assert_int_equal(emu_code(r), 520);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "7");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"), "deviceName")), "sub02");
    json_decref(r);
    d = device_state(SUB_PK "/sub02");
    assert_null(json_object_get(json_object_get(d, "properties"), "Temperature"));
    json_decref(d);

    /* single combine/login, 3.x style (full clientId signed, cleanSession excluded) */
    char sign[65], content[400];
    const char *cid = SUB_PK ".sub02|_ss=1,_v=sdk-c-3.2.0|";
    snprintf(content, sizeof content, "clientId%sdeviceNamesub02productKey%stimestamp973962", cid, SUB_PK);
    emu_hmac_hex(EMU_HMAC_SHA256, SUB_DS(2), content, sign);
    r = req(S("login"), "{\"id\":\"8\",\"params\":{\"productKey\":\"%s\",\"deviceName\":\"sub02\",\"clientId\":\"%s\",\"timestamp\":\"973962\","
            "\"signMethod\":\"hmacSha256\",\"sign\":\"%s\",\"cleanSession\":\"true\"},\"method\":\"combine.login\"}", SUB_PK, cid, sign);
    assert_int_equal(emu_code(r), 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"), "deviceName")), "sub02");
    json_decref(r);
    /* batch logout and topo/delete */
    assert_int_equal(code_of(req(S("batch_logout"), "{\"id\":\"9\",\"params\":[{\"productKey\":\"%s\",\"deviceName\":\"sub02\"}]}", SUB_PK)), 200);
    assert_int_equal(code_of(req(T("thing/topo/delete"), "{\"id\":\"10\",\"params\":[{\"productKey\":\"%s\",\"deviceName\":\"sub02\"}]}", SUB_PK)), 200);
    assert_int_equal(code_of(req(T("thing/topo/delete"), "{\"id\":\"11\",\"params\":[{\"productKey\":\"%s\",\"deviceName\":\"sub02\"}]}", SUB_PK)), 6401);
    assert_int_equal(code_of(req(S("login"), "{\"id\":\"12\",\"params\":{\"productKey\":\"%s\",\"deviceName\":\"sub02\",\"clientId\":\"%s\","
                                 "\"timestamp\":\"973962\",\"signMethod\":\"hmacSha256\",\"sign\":\"%s\"}}", SUB_PK, cid, sign)), 6401);
}

static void t_topology_refusals(void **s)
{
    char e[600], bad[600], many[32 * 620] = "";
    (void)s;
    topo_entry(e, sizeof e, "sub03", SUB_DS(3));
    topo_entry(bad, sizeof bad, "sub03", SUB_DS(4));                 /* signed with the wrong secret */
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"1\",\"params\":[%s]}", bad)), 401);
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"1\",\"params\":[{\"productKey\":\"%s\",\"deviceName\":\"ghost\","
                                 "\"sign\":\"00\",\"signmethod\":\"hmacSha256\"}]}", SUB_PK)), 6100);
    char self[600], sign[65];
    emu_sub_sign(GW_PK, "gw01", GW_DS(1), "1", sign);
    snprintf(self, sizeof self, "{\"productKey\":\"%s\",\"deviceName\":\"gw01\",\"clientId\":\"%s.gw01\",\"timestamp\":\"1\","
             "\"signmethod\":\"hmacSha256\",\"sign\":\"%s\"}", GW_PK, GW_PK, sign);
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"1\",\"params\":[%s]}", self)), 6402);
    char dis[600];
    topo_entry(dis, sizeof dis, "subdis1", "SubDisabledSecret000000000000001");
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"1\",\"params\":[%s]}", dis)), 6204);
    /* 31 entries */
    for (int i = 0; i < 31; i++) { strcat(many, i ? "," : ""); strcat(many, e); }
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"1\",\"params\":[%s]}", many)), 460);
    /* malformed JSON and wrong shapes */
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"41\",\"params\":[")), 460);
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"42\",\"params\":{}}")), 460);
    assert_int_equal(code_of(req(T("thing/topo/add"), "[1,2,3]")), 460);
    /* nothing of the above got added */
    json_t *d = device_state(SUB_PK "/sub03");
    assert_true(json_is_null(json_object_get(d, "gateway")));
    json_decref(d);
}

static void t_batch_login_all_or_nothing(void **s)
{
    char a[600], b[600], bad[600], many[52 * 620] = "";
    (void)s;
    topo_entry(a, sizeof a, "sub03", SUB_DS(3));
    topo_entry(b, sizeof b, "sub04", SUB_DS(4));
    topo_entry(bad, sizeof bad, "sub04", SUB_DS(3));
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"1\",\"params\":[%s,%s]}", a, b)), 200);
    json_t *r = req(S("batch_login"), "{\"id\":\"2\",\"params\":{\"signMethod\":\"hmacSha256\",\"deviceList\":[%s,%s]}}", a, bad);
    assert_int_equal(emu_code(r), 6287);
    json_t *data = json_object_get(r, "data");
    assert_int_equal(json_array_size(data), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(data, 0), "deviceName")), "sub04");
    json_decref(r);
    assert_false(online(SUB_PK "/sub03"));
    for (int i = 0; i < 51; i++) { strcat(many, i ? "," : ""); strcat(many, a); }
    assert_int_equal(code_of(req(S("batch_login"), "{\"id\":\"3\",\"params\":{\"signMethod\":\"hmacSha256\",\"deviceList\":[%s]}}", many)), 460);
    /* not in this gateway's topology */
    char c5[600];
    topo_entry(c5, sizeof c5, "sub05", SUB_DS(5));
    assert_int_equal(code_of(req(S("batch_login"), "{\"id\":\"4\",\"params\":{\"signMethod\":\"hmacSha256\",\"deviceList\":[%s]}}", c5)), 6401);
    assert_int_equal(code_of(req(S("batch_login"), "{\"id\":\"5\",\"params\":{\"signMethod\":\"hmacSha256\",\"deviceList\":[%s,%s]}}", a, b)), 200);
    assert_true(online(SUB_PK "/sub03"));
    assert_true(online(SUB_PK "/sub04"));
}

static void t_sub_register_once(void **s)
{
    (void)s;
    json_t *r = req(T("thing/sub/register"), "{\"id\":\"1\",\"version\":\"1.0\",\"params\":[{\"productKey\":\"%s\",\"deviceName\":\"subnew1\"}]}", SUB_PK);
    assert_int_equal(emu_code(r), 200);
    json_t *e = json_array_get(json_object_get(r, "data"), 0);
    const char *secret = json_string_value(json_object_get(e, "deviceSecret"));
    assert_non_null(secret);
    char first[80];
    snprintf(first, sizeof first, "%s", secret);
    json_decref(r);
    assert_int_equal(code_of(req(T("thing/sub/register"), "{\"id\":\"2\",\"params\":[{\"productKey\":\"%s\",\"deviceName\":\"subnew1\"}]}", SUB_PK)), 6289);
    const char *args[] = {"reset", SUB_PK, "subnew1", NULL};
    assert_int_equal(emu_cli(&B, NULL, args), 0);
    r = req(T("thing/sub/register"), "{\"id\":\"3\",\"params\":[{\"productKey\":\"%s\",\"deviceName\":\"subnew1\"}]}", SUB_PK);
    assert_int_equal(emu_code(r), 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "data"), 0), "deviceSecret")), first);
    json_decref(r);
    /* the issued secret works for topo/add */
    char entry[600];
    topo_entry(entry, sizeof entry, "subnew1", first);
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"4\",\"params\":[%s]}", entry)), 200);
    assert_int_equal(code_of(req(T("thing/sub/register"), "{\"id\":\"5\",\"params\":[{\"productKey\":\"%s\",\"deviceName\":\"never\"}]}", SUB_PK)), 6100);
    assert_int_equal(code_of(req(T("thing/sub/register"), "{\"id\":\"6\",\"params\":[{\"productKey\":\"a1NoDyn001\",\"deviceName\":\"nodyn01\"}]}")), 6288);
    /* all-or-nothing: subnew2 is not issued when the batch fails */
    assert_int_equal(code_of(req(T("thing/sub/register"), "{\"id\":\"7\",\"params\":[{\"productKey\":\"%s\",\"deviceName\":\"subnew2\"},"
                                 "{\"productKey\":\"%s\",\"deviceName\":\"never\"}]}", SUB_PK, SUB_PK)), 6100);
    json_t *d = device_state(SUB_PK "/subnew2");
    assert_false(json_is_true(json_object_get(d, "secretIssued")));
    json_decref(d);
    char many[40 * 70] = "";
    for (int i = 0; i < 31; i++) { strcat(many, i ? "," : ""); strcat(many, "{\"productKey\":\"" SUB_PK "\",\"deviceName\":\"subnew2\"}"); }
    assert_int_equal(code_of(req(T("thing/sub/register"), "{\"id\":\"8\",\"params\":[%s]}", many)), 460);
}

static void t_tsl_validation(void **s)
{
    (void)s;
    add_and_login("sub05", SUB_DS(5));
    const char *topic = "/sys/" SUB_PK "/sub05/thing/event/property/post";
    assert_int_equal(code_of(emu_client_request(G, topic, "{\"id\":\"1\",\"params\":{\"Temperature\":20.5,\"Mode\":1,\"Label\":\"ok\","
                                                "\"Color\":{\"R\":1,\"G\":2},\"Samples\":[1.5,2]}}", EMU_WAIT_MS)), 200);
    /* wrong types / ranges / enum / text length / unknown: dropped, still 200 */
    char longtext[200];
    memset(longtext, 'x', 100);
    longtext[100] = '\0';
    char payload[1024];
    snprintf(payload, sizeof payload, "{\"id\":\"2\",\"params\":{\"Temperature\":\"hot\",\"Mode\":7,\"Label\":\"%s\",\"PowerSwitch\":{\"value\":2,\"time\":1},"
             "\"Color\":{\"R\":300},\"Nope\":1,\"Samples\":[\"a\"]}}", longtext);
    assert_int_equal(code_of(emu_client_request(G, topic, payload, EMU_WAIT_MS)), 200);
    json_t *d = device_state(SUB_PK "/sub05");
    json_t *p = json_object_get(d, "properties");
    assert_true(json_number_value(json_object_get(json_object_get(p, "Temperature"), "value")) == 20.5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "Mode"), "value")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "Label"), "value")), "ok");
    assert_null(json_object_get(p, "PowerSwitch"));
    assert_null(json_object_get(p, "Nope"));
    json_decref(d);
    /* {"value","time"} form */
    assert_int_equal(code_of(emu_client_request(G, topic, "{\"id\":\"3\",\"params\":{\"PowerSwitch\":{\"value\":1,\"time\":1524448722000}}}", EMU_WAIT_MS)), 200);
    /* events: valid accepted, invalid refused with a TSL code, unknown refused */
    const char *ev = "/sys/" SUB_PK "/sub05/thing/event/Overheat/post";
    assert_int_equal(code_of(emu_client_request(G, ev, "{\"id\":\"4\",\"params\":{\"value\":{\"Temperature\":99.5},\"time\":1}}", EMU_WAIT_MS)), 200);
    assert_int_equal(code_of(emu_client_request(G, ev, "{\"id\":\"5\",\"params\":{\"Temperature\":999}}", EMU_WAIT_MS)), 6307);
    assert_int_equal(code_of(emu_client_request(G, "/sys/" SUB_PK "/sub05/thing/event/Nope/post", "{\"id\":\"6\",\"params\":{}}", EMU_WAIT_MS)), 5160);
    /* more than 200 properties */
    char big[8192] = "{\"id\":\"7\",\"params\":{";
    for (int i = 0; i < 201; i++) { char x[32]; snprintf(x, sizeof x, "%s\"p%d\":1", i ? "," : "", i); strcat(big, x); }
    strcat(big, "}}");
    assert_int_equal(code_of(emu_client_request(G, topic, big, EMU_WAIT_MS)), 460);
    /* sys.ack = 0: no reply */
    emu_client_pub(G, topic, "{\"id\":\"8\",\"params\":{\"Temperature\":21.5},\"sys\":{\"ack\":0}}");
    assert_null(emu_client_wait(G, "/sys/" SUB_PK "/sub05/thing/event/property/post_reply", 500));
    json_t *st = emu_state(&B);
    assert_true(json_array_size(json_object_get(st, "audit")) > 0);
    json_decref(st);
}

static void t_pack_and_history(void **s)
{
    (void)s;
    add_and_login("sub06", SUB_DS(6));
    assert_int_equal(code_of(req(T("thing/event/property/pack/post"),
        "{\"id\":\"1\",\"version\":\"1.0\",\"params\":{\"properties\":{\"gwprop\":{\"value\":1,\"time\":1}},\"subDevices\":[{\"identity\":"
        "{\"productKey\":\"%s\",\"deviceName\":\"sub06\"},\"properties\":{\"Temperature\":{\"value\":30.5,\"time\":1524448722000}},"
        "\"events\":{\"Overheat\":{\"value\":{\"Temperature\":30.5},\"time\":1524448722000}}}]},\"method\":\"thing.event.property.pack.post\"}", SUB_PK)), 200);
    json_t *d = device_state(SUB_PK "/sub06");
    assert_true(json_number_value(json_object_get(json_object_get(json_object_get(d, "properties"), "Temperature"), "value")) == 30.5);
    assert_int_equal(json_array_size(json_object_get(d, "events")), 1);
    json_decref(d);
    /* all-or-nothing: sub07 is not in the topology -> 6401 and sub06 unchanged */
    assert_int_equal(code_of(req(T("thing/event/property/pack/post"),
        "{\"id\":\"2\",\"params\":{\"subDevices\":[{\"identity\":{\"productKey\":\"%s\",\"deviceName\":\"sub06\"},\"properties\":{\"Temperature\":{\"value\":40.5,\"time\":1}}},"
        "{\"identity\":{\"productKey\":\"%s\",\"deviceName\":\"sub07\"},\"properties\":{\"Temperature\":{\"value\":1.5,\"time\":1}}}]}}", SUB_PK, SUB_PK)), 6401);
    /* a TSL failure also fails the whole pack */
    assert_int_equal(code_of(req(T("thing/event/property/pack/post"),
        "{\"id\":\"3\",\"params\":{\"subDevices\":[{\"identity\":{\"productKey\":\"%s\",\"deviceName\":\"sub06\"},\"properties\":{\"Temperature\":{\"value\":\"x\",\"time\":1}}}]}}", SUB_PK)), 6307);
    d = device_state(SUB_PK "/sub06");
    assert_true(json_number_value(json_object_get(json_object_get(json_object_get(d, "properties"), "Temperature"), "value")) == 30.5);
    json_decref(d);
    char subs[21 * 80] = "";
    for (int i = 0; i < 21; i++) { strcat(subs, i ? "," : ""); strcat(subs, "{\"identity\":{\"productKey\":\"" SUB_PK "\",\"deviceName\":\"sub06\"}}"); }
    assert_int_equal(code_of(req(T("thing/event/property/pack/post"), "{\"id\":\"4\",\"params\":{\"subDevices\":[%s]}}", subs)), 460);
    /* history/post goes to history only */
    assert_int_equal(code_of(req(T("thing/event/property/history/post"),
        "{\"id\":\"5\",\"params\":[{\"identity\":{\"productKey\":\"%s\",\"deviceName\":\"sub06\"},\"properties\":[{\"Temperature\":{\"value\":11.5,\"time\":1000}}],"
        "\"events\":[]}]}", SUB_PK)), 200);
    d = device_state(SUB_PK "/sub06");
    assert_true(json_number_value(json_object_get(json_object_get(json_object_get(d, "properties"), "Temperature"), "value")) == 30.5);
    assert_int_equal(json_array_size(json_object_get(json_object_get(d, "history"), "Temperature")), 2);
    json_decref(d);
    assert_int_equal(code_of(req(T("thing/event/property/history/post"),
        "{\"id\":\"6\",\"params\":[{\"identity\":{\"productKey\":\"%s\",\"deviceName\":\"sub08\"},\"properties\":[]}]}", SUB_PK)), 6401);
}

static void t_login_rate_limit(void **s)
{
    char e[600], sign[65];
    (void)s;
    topo_entry(e, sizeof e, "sub07", SUB_DS(7));
    assert_int_equal(code_of(req(T("thing/topo/add"), "{\"id\":\"1\",\"params\":[%s]}", e)), 200);
    emu_sub_sign(SUB_PK, "sub07", SUB_DS(7), "5", sign);
    /* signMethod given per entry, signmethod spelling: both accepted */
    for (int i = 0; i < 5; i++)
        assert_int_equal(code_of(req(S("login"), "{\"id\":\"%d\",\"params\":{\"productKey\":\"%s\",\"deviceName\":\"sub07\",\"clientId\":"
                                     "\"%s.sub07\",\"timestamp\":\"5\",\"signmethod\":\"hmacSha256\",\"sign\":\"%s\"}}", 10 + i, SUB_PK, SUB_PK, sign)), 200);
    /* the sixth login within a minute is throttled */
    assert_int_equal(code_of(req(S("login"), "{\"id\":\"20\",\"params\":{\"productKey\":\"%s\",\"deviceName\":\"sub07\",\"clientId\":"
                                 "\"%s.sub07\",\"timestamp\":\"5\",\"signMethod\":\"hmacSha256\",\"sign\":\"%s\"}}", SUB_PK, SUB_PK, sign)), 429);
}

static void t_ntp(void **s)
{
    (void)s;
    emu_client_pub(G, "/ext/ntp/" GW_PK "/gw01/request", "{\"deviceSendTime\":\"1571724098000\"}");
    json_t *r = emu_client_wait(G, "/ext/ntp/" GW_PK "/gw01/response", EMU_WAIT_MS);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "deviceSendTime")), "1571724098000");
    assert_true(json_is_string(json_object_get(r, "serverRecvTime")));
    assert_true(json_is_string(json_object_get(r, "serverSendTime")));
    json_decref(r);
    emu_client_pub(G, "/ext/ntp/" GW_PK "/gw01/request", "{\"deviceSendTime\":1571724098000}");
    r = emu_client_wait(G, "/ext/ntp/" GW_PK "/gw01/response", EMU_WAIT_MS);
    assert_true(json_is_integer(json_object_get(r, "serverSendTime")));
    assert_true(json_integer_value(json_object_get(r, "serverSendTime")) > 1600000000000LL);
    json_decref(r);
}

static void t_acl(void **s)
{
    int rc;
    (void)s;
    /* a device may not subscribe to another device's topics */
    emu_client_t *d = emu_device_connect(&B, DEV_PK, "dev01", "DevDeviceSecret00000000000000001", NULL, &rc);
    assert_non_null(d);
    assert_int_equal(emu_client_sub(d, "/sys/" GW_PK "/gw01/thing/service/property/set"), 128);
    assert_int_equal(emu_client_sub(d, "/sys/" DEV_PK "/dev01/thing/event/property/post_reply"), 0);
    /* a broad filter is granted, but only the device's own downstream traffic is delivered */
    assert_int_equal(emu_client_sub(d, "#"), 0);
    assert_int_equal(emu_client_sub(d, "$SYS/#"), 128);
    /* publishing on another device's topic is dropped (no reply), own works */
    emu_client_pub(d, "/sys/" GW_PK "/gw01/thing/event/property/post", "{\"id\":\"1\",\"params\":{}}");
    assert_null(emu_client_wait(G, "/sys/" GW_PK "/gw01/thing/event/property/post_reply", 500));
    emu_client_t *g2 = emu_device_connect(&B, GW_PK, "gw02", GW_DS(2), NULL, &rc);   /* no _ss: replies are published */
    assert_non_null(g2);
    assert_int_equal(emu_client_sub(g2, "/sys/" GW_PK "/gw02/thing/topo/get_reply"), 0);
    assert_int_equal(code_of(emu_client_request(g2, "/sys/" GW_PK "/gw02/thing/topo/get", "{\"id\":\"99\",\"params\":{}}", EMU_WAIT_MS)), 200);
    assert_null(emu_client_wait(d, "/sys/" GW_PK "/gw02/thing/topo/get_reply", 300));   /* not for d */
    assert_null(emu_client_wait(d, "/sys/" GW_PK "/gw02/thing/topo/get", 10));
    emu_client_close(g2);
    assert_int_equal(code_of(emu_client_request(d, "/sys/" DEV_PK "/dev01/thing/event/property/post", "{\"id\":\"2\",\"params\":{}}", EMU_WAIT_MS)), 200);
    /* a direct device cannot act as a gateway */
    assert_int_equal(emu_client_sub(d, "/sys/" DEV_PK "/dev01/thing/topo/get_reply"), 0);
    assert_int_equal(code_of(emu_client_request(d, "/sys/" DEV_PK "/dev01/thing/topo/get", "{\"id\":\"3\",\"params\":{}}", EMU_WAIT_MS)), 460);
    emu_client_close(d);
    /* the gateway: sub-device outside its topology, downstream-only topics, other gateway's session topics */
    emu_client_pub(G, "/sys/" SUB_PK "/sub08/thing/event/property/post", "{\"id\":\"4\",\"params\":{\"Temperature\":1.5}}");
    assert_null(emu_client_wait(G, "/ext/error/" GW_PK "/gw01", 500));
    assert_int_equal(emu_client_sub(G, "/sys/" SUB_PK "/sub08/thing/service/+"), 128);
    emu_client_pub(G, T("thing/service/property/set"), "{\"id\":\"5\",\"params\":{}}");
    emu_client_pub(G, "/ext/session/" GW_PK "/gw02/combine/login", "{\"id\":\"6\",\"params\":{}}");
    emu_client_pub(G, "$emu/request", "{\"cmd\":\"state\",\"cid\":\"x\"}");
    /* a round trip on the same connection: everything above has been processed */
    assert_int_equal(code_of(req(T("thing/topo/get"), "{\"id\":\"7\",\"params\":{}}")), 200);
    json_t *st = emu_state(&B);
    size_t denied = 0, i;
    json_t *a;
    json_array_foreach(json_object_get(st, "audit"), i, a)
        if (!strcmp(json_string_value(json_object_get(a, "event")), "acl_denied")) denied++;
    assert_true(denied >= 6);
    json_decref(st);
}

static void t_garbage_never_crashes(void **s)
{
    (void)s;
    static const char *const payloads[] = {"", "null", "[]", "{", "\"x\"", "{\"id\":{},\"params\":[[[[[[[[[[]]]]]]]]]]}",
                                           "{\"id\":\"1\",\"params\":null}", "{\"id\":\"1\",\"params\":\"{}\"}", "\xff\xfe\x00", NULL};
    static const char *const topics[] = {T("thing/topo/add"), T("thing/topo/delete"), T("thing/sub/register"), T("thing/list/found"),
                                         T("thing/proxy/provisioning/product_register"), T("thing/event/property/pack/post"),
                                         T("thing/event/property/history/post"), T("thing/event/property/batch/post"),
                                         T("thing/event/property/post"), T("thing/event/x/post"), T("thing/deviceinfo/update"),
                                         T("thing/deviceinfo/delete"), S("login"), S("logout"), S("batch_login"), S("batch_logout"),
                                         "/ext/ntp/" GW_PK "/gw01/request", "/ota/device/inform/" GW_PK "/gw01",
                                         "/ota/device/progress/" GW_PK "/gw01", T("thing/service/x_reply"), T("rrpc/response/1"), NULL};
    char deep[6000];
    memset(deep, '[', 5000);
    deep[5000] = '\0';
    for (int t = 0; topics[t]; t++) {
        for (int p = 0; payloads[p]; p++) emu_client_pub(G, topics[t], payloads[p]);
        emu_client_pub(G, topics[t], deep);
    }
    json_t *r = emu_client_wait(G, T("thing/topo/add_reply"), EMU_WAIT_MS);
    assert_non_null(r);
    json_decref(r);
    const char *args[] = {"ping", NULL};
    assert_int_equal(emu_cli(&B, NULL, args), 0);
    assert_true(emu_client_connected(G));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_topology_and_sessions), cmocka_unit_test(t_topology_refusals),
        cmocka_unit_test(t_batch_login_all_or_nothing), cmocka_unit_test(t_sub_register_once),
        cmocka_unit_test(t_tsl_validation), cmocka_unit_test(t_pack_and_history), cmocka_unit_test(t_login_rate_limit), cmocka_unit_test(t_ntp),
        cmocka_unit_test(t_acl), cmocka_unit_test(t_garbage_never_crashes),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + emu_harness_failures;
}
