/* test_emu_console.c — the console / cloud-API side (`alink-emu` CLI) against devices:
 * property set and async service answered by the device and printed by the CLI, sync
 * services over both RRPC forms (ext=1: /ext/rrpc/…, ext=0: /sys/…/rrpc/request/…),
 * topo delete/add (topo/change 1/0), disable/enable/delete of a sub-device (thing/disable
 * etc. on its own topic + topo/change 8/2/1), batch-add with CSV export, OTA push, and
 * the whole state surviving a broker restart. */
#include <pthread.h>
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

static emu_broker_t B;
static emu_client_t *G;      /* gw01, _ss=1, ext=1 (LinkSDK style) */
static emu_client_t *H;      /* gw02, subscribes explicitly, ext=0 (iotkit 3.x style) */

typedef struct {
    const char *args[24];
    char *out;
    int rc;
} cli_job_t;

static void *cli_thread(void *p)
{
    cli_job_t *j = p;
    j->rc = emu_cli(&B, &j->out, j->args);
    return NULL;
}

static void topo_login(emu_client_t *c, const char *gw, const char *dn, const char *ds)
{
    char sign[65], e[600], payload[1400], topic[200];
    emu_sub_sign(SUB_PK, dn, ds, "1700000000000", sign);
    snprintf(e, sizeof e, "{\"productKey\":\"%s\",\"deviceName\":\"%s\",\"clientId\":\"%s.%s\",\"timestamp\":\"1700000000000\","
             "\"signmethod\":\"hmacSha256\",\"sign\":\"%s\"}", SUB_PK, dn, SUB_PK, dn, sign);
    snprintf(payload, sizeof payload, "{\"id\":\"1\",\"params\":[%s]}", e);
    snprintf(topic, sizeof topic, "/sys/%s/%s/thing/topo/add", GW_PK, gw);
    json_t *r = emu_client_request(c, topic, payload, EMU_WAIT_MS);
    assert_int_equal(emu_code(r), 200);
    json_decref(r);
    snprintf(payload, sizeof payload, "{\"id\":\"2\",\"params\":{\"signMethod\":\"hmacSha256\",\"deviceList\":[%s]}}", e);
    snprintf(topic, sizeof topic, "/ext/session/%s/%s/combine/batch_login", GW_PK, gw);
    r = emu_client_request(c, topic, payload, EMU_WAIT_MS);
    assert_int_equal(emu_code(r), 200);
    json_decref(r);
}

static int setup(void **s)
{
    int rc;
    (void)s;
    if (emu_broker_start(&B, EMU_REGISTRY, false)) return -1;
    G = emu_device_connect(&B, GW_PK, "gw01", GW_DS(1), "_ss=1,ext=1", &rc);
    H = emu_device_connect(&B, GW_PK, "gw02", GW_DS(2), "ext=0", &rc);
    if (!G || !H) return -1;
    static const char *const subs[] = {"/sys/" GW_PK "/gw02/thing/#", "/ext/session/" GW_PK "/gw02/combine/+",
                                       "/sys/+/+/thing/#", "/sys/+/+/rrpc/request/+", NULL};
    for (int i = 0; subs[i]; i++) if (emu_client_sub(H, subs[i]) != 0) return -1;
    topo_login(G, "gw01", "sub01", SUB_DS(1));
    topo_login(H, "gw02", "sub02", SUB_DS(2));
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    emu_client_close(G);
    emu_client_close(H);
    return emu_broker_cleanup(&B);
}

static void t_property_set(void **s)
{
    pthread_t th;
    cli_job_t j = {.args = {"prop", "set", SUB_PK, "sub01", "{\"PowerSwitch\":1}", NULL}};
    (void)s;
    pthread_create(&th, NULL, cli_thread, &j);
    json_t *m = emu_client_wait(G, "/sys/" SUB_PK "/sub01/thing/service/property/set", EMU_WAIT_MS);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "params"), "PowerSwitch")), 1);
    assert_string_equal(json_string_value(json_object_get(m, "method")), "thing.service.property.set");
    char reply[200];
    snprintf(reply, sizeof reply, "{\"id\":\"%s\",\"code\":200,\"data\":{}}", json_string_value(json_object_get(m, "id")));
    emu_client_pub(G, "/sys/" SUB_PK "/sub01/thing/service/property/set_reply", reply);
    json_decref(m);
    pthread_join(th, NULL);
    assert_int_equal(j.rc, 0);
    assert_non_null(strstr(j.out, "\"code\": 200"));
    free(j.out);
    /* refused by the console: read-only property, wrong type, offline device */
    const char *ro[] = {"prop", "set", SUB_PK, "sub01", "{\"Temperature\":1.5}", NULL};
    assert_int_equal(emu_cli(&B, NULL, ro), 1);
    const char *bad[] = {"prop", "set", SUB_PK, "sub01", "{\"Mode\":9}", NULL};
    assert_int_equal(emu_cli(&B, NULL, bad), 1);
    const char *off[] = {"prop", "set", SUB_PK, "sub03", "{\"Mode\":1}", NULL};
    assert_int_equal(emu_cli(&B, NULL, off), 1);
    const char *badjson[] = {"prop", "set", SUB_PK, "sub01", "{", NULL};
    assert_int_equal(emu_cli(&B, NULL, badjson), 2);
}

static void t_services(void **s)
{
    pthread_t th;
    char topic[300], reply[300];
    (void)s;
    /* async */
    cli_job_t a = {.args = {"service", "invoke", SUB_PK, "sub01", "Calibrate", "{\"Offset\":1.5}", NULL}};
    pthread_create(&th, NULL, cli_thread, &a);
    json_t *m = emu_client_wait(G, "/sys/" SUB_PK "/sub01/thing/service/Calibrate", EMU_WAIT_MS);
    assert_non_null(m);
    snprintf(reply, sizeof reply, "{\"id\":\"%s\",\"code\":200,\"data\":{\"Result\":1}}", json_string_value(json_object_get(m, "id")));
    emu_client_pub(G, "/sys/" SUB_PK "/sub01/thing/service/Calibrate_reply", reply);
    json_decref(m);
    pthread_join(th, NULL);
    assert_int_equal(a.rc, 0);
    assert_non_null(strstr(a.out, "\"Result\": 1"));
    free(a.out);

    /* sync, gateway with ext bit0: /ext/rrpc/{mid}/sys/... answered on the same topic */
    cli_job_t b = {.args = {"service", "invoke", SUB_PK, "sub01", "Calibrate", "{\"Offset\":0.5}", "--sync", NULL}};
    pthread_create(&th, NULL, cli_thread, &b);
    m = emu_client_wait_prefix(G, "/ext/rrpc/", EMU_WAIT_MS, topic, sizeof topic);
    assert_non_null(m);
    assert_non_null(strstr(topic, "/sys/" SUB_PK "/sub01/thing/service/Calibrate"));
    snprintf(reply, sizeof reply, "{\"id\":\"%s\",\"code\":200,\"data\":{\"Result\":0}}", json_string_value(json_object_get(m, "id")));
    emu_client_pub(G, topic, reply);
    json_decref(m);
    pthread_join(th, NULL);
    assert_int_equal(b.rc, 0);
    assert_non_null(strstr(b.out, "\"Result\": 0"));
    free(b.out);

    /* sync, gateway without ext: /sys/{pk}/{dn}/rrpc/request/{mid} -> rrpc/response/{mid} */
    cli_job_t c = {.args = {"service", "invoke", SUB_PK, "sub02", "Calibrate", "{\"Offset\":0.5}", "--sync", NULL}};
    pthread_create(&th, NULL, cli_thread, &c);
    m = emu_client_wait_prefix(H, "/sys/" SUB_PK "/sub02/rrpc/request/", EMU_WAIT_MS, topic, sizeof topic);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "method")), "thing.service.Calibrate");
    char resp_topic[300];
    snprintf(resp_topic, sizeof resp_topic, "/sys/" SUB_PK "/sub02/rrpc/response/%s", strrchr(topic, '/') + 1);
    snprintf(reply, sizeof reply, "{\"id\":\"%s\",\"code\":200,\"data\":{\"Result\":1}}", json_string_value(json_object_get(m, "id")));
    emu_client_pub(H, resp_topic, reply);
    json_decref(m);
    pthread_join(th, NULL);
    assert_int_equal(c.rc, 0);
    free(c.out);

    /* unknown service and a device that never answers (timeout) */
    const char *unk[] = {"service", "invoke", SUB_PK, "sub01", "NoSuch", "{}", NULL};
    assert_int_equal(emu_cli(&B, NULL, unk), 1);
    const char *slow[] = {"service", "invoke", SUB_PK, "sub01", "Calibrate", "{\"Offset\":0.5}", "--timeout-ms", "300",
                          NULL};
    assert_int_equal(emu_cli(&B, NULL, slow), 1);
    m = emu_client_wait(G, "/sys/" SUB_PK "/sub01/thing/service/Calibrate", EMU_WAIT_MS); /* it did reach the device */
    assert_non_null(m);
    json_decref(m);
}

static void t_ota_push(void **s)
{
    (void)s;
    const char *args[] = {"ota", "push", SUB_PK, "sub01", "--url", "https://example.invalid/fw.bin", "--version", "2.0.0",
                          "--size", "1024", "--sign", "93230c3bde425a9d7984a594ac55ea1e", "--sign-method", "Md5", NULL};
    assert_int_equal(emu_cli(&B, NULL, args), 0);
    json_t *m = emu_client_wait(G, "/ota/device/upgrade/" SUB_PK "/sub01", EMU_WAIT_MS);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "code")), "1000");
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "data"), "version")), "2.0.0");
    json_decref(m);
    emu_client_pub(G, "/ota/device/progress/" SUB_PK "/sub01", "{\"id\":1,\"params\":{\"step\":\"50\",\"desc\":\"\"}}");
    emu_client_pub(G, "/ota/device/inform/" SUB_PK "/sub01", "{\"id\":2,\"params\":{\"version\":\"2.0.0\"}}");
    json_t *r = emu_client_request(G, "/sys/" GW_PK "/gw01/thing/topo/get", "{\"id\":\"3\",\"params\":{}}", EMU_WAIT_MS);
    json_decref(r);
    json_t *st = emu_state(&B);
    json_t *ota = json_object_get(json_object_get(json_object_get(st, "devices"), SUB_PK "/sub01"), "ota");
    assert_true(json_is_null(json_object_get(ota, "task")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(ota, "versions"), "default")), "2.0.0");
    json_decref(st);
    const char *bad[] = {"ota", "push", SUB_PK, "sub01", "--url", "u", "--version", "1", "--size", "1", "--sign", "zz",
                         "--sign-method", "Md5", NULL};
    assert_int_equal(emu_cli(&B, NULL, bad), 1);
}

static void t_lifecycle(void **s)
{
    (void)s;
    /* disable: thing/disable on the sub-device topic + topo/change 8, session ends */
    const char *dis[] = {"device", "disable", SUB_PK, "sub02", NULL};
    assert_int_equal(emu_cli(&B, NULL, dis), 0);
    json_t *m = emu_client_wait(H, "/sys/" SUB_PK "/sub02/thing/disable", EMU_WAIT_MS);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "method")), "thing.disable");
    /* the gateway's answer is accepted although the session has ended: no 520 */
    char ans[200];
    snprintf(ans, sizeof ans, "{\"id\":\"%s\",\"code\":200,\"data\":{}}", json_string_value(json_object_get(m, "id")));
    emu_client_pub(H, "/sys/" SUB_PK "/sub02/thing/disable_reply", ans);
    json_decref(m);
    assert_int_equal(emu_client_sub(H, "/ext/error/" GW_PK "/gw02"), 0);
    m = emu_client_wait(H, "/sys/" GW_PK "/gw02/thing/topo/change", EMU_WAIT_MS);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "params"), "status")), 8);
    json_decref(m);
    /* login of a disabled sub-device: 522 */
    char sign[65], payload[800];
    emu_sub_sign(SUB_PK, "sub02", SUB_DS(2), "1", sign);
    snprintf(payload, sizeof payload, "{\"id\":\"9\",\"params\":{\"productKey\":\"%s\",\"deviceName\":\"sub02\",\"clientId\":\"%s.sub02\","
             "\"timestamp\":\"1\",\"signMethod\":\"hmacSha256\",\"sign\":\"%s\"}}", SUB_PK, SUB_PK, sign);
    json_t *r = emu_client_request(H, "/ext/session/" GW_PK "/gw02/combine/login", payload, EMU_WAIT_MS);
    assert_int_equal(emu_code(r), 522);
    json_decref(r);
    assert_null(emu_client_wait(H, "/ext/error/" GW_PK "/gw02", 300));
    const char *en[] = {"device", "enable", SUB_PK, "sub02", NULL};
    assert_int_equal(emu_cli(&B, NULL, en), 0);
    json_decref(emu_client_wait(H, "/sys/" SUB_PK "/sub02/thing/enable", EMU_WAIT_MS));
    m = emu_client_wait(H, "/sys/" GW_PK "/gw02/thing/topo/change", EMU_WAIT_MS);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "params"), "status")), 2);
    json_decref(m);
    r = emu_client_request(H, "/ext/session/" GW_PK "/gw02/combine/login", payload, EMU_WAIT_MS);
    assert_int_equal(emu_code(r), 200);
    json_decref(r);
    /* console topo delete -> topo/change 1, then add back -> 0 */
    const char *tdel[] = {"topo", "delete", GW_PK "/gw02", SUB_PK "/sub02", NULL};
    assert_int_equal(emu_cli(&B, NULL, tdel), 0);
    m = emu_client_wait(H, "/sys/" GW_PK "/gw02/thing/topo/change", EMU_WAIT_MS);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "params"), "status")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(m, "params"), "subList"), 0),
                                                          "deviceName")), "sub02");
    json_decref(m);
    const char *tadd[] = {"topo", "add", GW_PK, "gw02", SUB_PK, "sub02", NULL};
    assert_int_equal(emu_cli(&B, NULL, tadd), 0);
    m = emu_client_wait(H, "/sys/" GW_PK "/gw02/thing/topo/change", EMU_WAIT_MS);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "params"), "status")), 0);
    json_decref(m);
    /* delete: thing/delete + topo/change 1, device gone */
    const char *del[] = {"device", "delete", SUB_PK, "sub02", NULL};
    assert_int_equal(emu_cli(&B, NULL, del), 0);
    /* delivered although mosquitto checks gw02's read permission (no _ss: it receives
     * through its own subscription) only after sub02 has left gw02's topology */
    m = emu_client_wait(H, "/sys/" SUB_PK "/sub02/thing/delete", EMU_WAIT_MS);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "method")), "thing.delete");
    json_decref(m);
    m = emu_client_wait(H, "/sys/" GW_PK "/gw02/thing/topo/change", EMU_WAIT_MS);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "params"), "status")), 1);
    json_decref(m);
    const char *get[] = {"device", "get", SUB_PK, "sub02", NULL};
    assert_int_equal(emu_cli(&B, NULL, get), 1);
}

static void t_direct_device(void **s)
{
    int rc;
    (void)s;
    /* an OTA task pushed while offline is delivered when the device connects (_ss=1) */
    const char *ota[] = {"ota", "push", DEV_PK, "dev01", "--url", "https://example.invalid/a.bin", "--version", "3.1",
                         "--size", "10", "--sign", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                         "--sign-method", "SHA256", "--module", "MCU", NULL};
    assert_int_equal(emu_cli(&B, NULL, ota), 0);
    emu_client_t *d = emu_device_connect(&B, DEV_PK, "dev01", "DevDeviceSecret00000000000000001", "_ss=1", &rc);
    assert_non_null(d);
    json_t *m = emu_client_wait(d, "/ota/device/upgrade/" DEV_PK "/dev01", EMU_WAIT_MS);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "data"), "module")), "MCU");
    json_decref(m);
    const char *waiton[] = {"wait", "online", DEV_PK, "dev01", "--timeout", "30", NULL};
    assert_int_equal(emu_cli(&B, NULL, waiton), 0);
    /* disabling a direct device disconnects it and refuses it afterwards */
    const char *dis[] = {"device", "disable", DEV_PK, "dev01", NULL};
    assert_int_equal(emu_cli(&B, NULL, dis), 0);
    for (int i = 0; i < EMU_WAIT_MS / 50 && emu_client_connected(d); i++) usleep(50000);
    assert_false(emu_client_connected(d));
    emu_client_close(d);
    const char *waitoff[] = {"wait", "offline", DEV_PK, "dev01", "--timeout", "30", NULL};
    assert_int_equal(emu_cli(&B, NULL, waitoff), 0);
    assert_null(emu_device_connect(&B, DEV_PK, "dev01", "DevDeviceSecret00000000000000001", NULL, &rc));
    const char *en[] = {"device", "enable", DEV_PK, "dev01", NULL};
    assert_int_equal(emu_cli(&B, NULL, en), 0);
    /* without _ss the pending task arrives once the device subscribes */
    d = emu_device_connect(&B, DEV_PK, "dev01", "DevDeviceSecret00000000000000001", NULL, &rc);
    assert_non_null(d);
    assert_int_equal(emu_client_sub(d, "/ota/device/upgrade/" DEV_PK "/+"), 0);
    m = emu_client_wait(d, "/ota/device/upgrade/" DEV_PK "/dev01", EMU_WAIT_MS);
    assert_non_null(m);
    json_decref(m);
    emu_client_close(d);
}

static void t_products_devices_csv(void **s)
{
    char csv[400], *out = NULL;
    (void)s;
    const char *padd[] = {"product", "add", "a1NewPK001", "--node-type", "sub", "--dynreg", NULL};
    assert_int_equal(emu_cli(&B, NULL, padd), 0);
    assert_int_equal(emu_cli(&B, NULL, padd), 1);                   /* exists */
    const char *dadd[] = {"device", "add", "a1NewPK001", "one_1", "--secret", "abc", NULL};
    assert_int_equal(emu_cli(&B, NULL, dadd), 0);
    const char *bad[] = {"device", "add", "a1NewPK001", "x", NULL};  /* name too short */
    assert_int_equal(emu_cli(&B, NULL, bad), 1);
    snprintf(csv, sizeof csv, "%s/devices.csv", B.dir);
    const char *batch[] = {"device", "batch-add", "a1NewPK001", "5", "--export", csv, NULL};
    assert_int_equal(emu_cli(&B, &out, batch), 0);
    free(out);
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[256];
    int n = 0;
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "ProductKey,DeviceName,DeviceSecret\n");
    while (fgets(line, sizeof line, f)) {
        assert_int_equal(strncmp(line, "a1NewPK001,", 11), 0);
        n++;
    }
    fclose(f);
    assert_int_equal(n, 5);
    json_t *st = emu_state(&B);
    size_t cnt = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(st, "devices"), k, v) if (!strncmp(k, "a1NewPK001/", 11)) cnt++;
    assert_int_equal(cnt, 6);
    json_decref(st);
}

static void t_admin_garbage(void **s)
{
    int rc;
    (void)s;
    emu_client_t *a = emu_client_connect(&B, "admin-raw", "emu-admin", "emu-admin", 60, false, &rc);
    assert_non_null(a);
    static const char *const bad[] = {
        "", "x", "[]", "{}", "{\"cmd\":5}", "{\"cmd\":\"nope\",\"cid\":\"1\"}", "{\"cmd\":\"prop.set\"}",
        "{\"cmd\":\"prop.set\",\"productKey\":\"a1SubPK001\",\"deviceName\":\"sub01\",\"params\":[1]}",
        "{\"cmd\":\"service.invoke\",\"productKey\":\"a1SubPK001\",\"deviceName\":\"sub01\",\"identifier\":\"a/b\"}",
        "{\"cmd\":\"device.batchAdd\",\"productKey\":\"a1SubPK001\",\"count\":\"x\"}",
        "{\"cmd\":\"product.add\",\"product\":5}", "{\"cmd\":\"product.add\",\"product\":{\"productKey\":\"bad key\"}}",
        "{\"cmd\":\"product.add\",\"product\":{\"productKey\":\"a1BadTsl01\",\"tsl\":{\"properties\":[{\"identifier\":\"x\"}]}}}",
        "{\"cmd\":\"device.add\",\"device\":{\"productKey\":\"a1SubPK001\",\"deviceName\":\"ok_name\",\"deviceSecret\":7}}",
        "{\"cmd\":\"topo.add\"}", "{\"cmd\":\"topo.delete\",\"gateway\":1,\"sub\":[]}",
        "{\"cmd\":\"ota.push\",\"productKey\":\"a1SubPK001\",\"deviceName\":\"sub01\",\"size\":-1}",
        "{\"cmd\":\"device.disable\",\"productKey\":null}", NULL};
    for (int i = 0; bad[i]; i++) emu_client_pub(a, "$emu/request", bad[i]);
    json_t *r = NULL;
    int answers = 0;
    while ((r = emu_client_wait(a, "$emu/response", EMU_WAIT_MS)) != NULL) {
        assert_false(json_is_true(json_object_get(r, "ok")));
        json_decref(r);
        if (++answers == 18) break;
    }
    assert_int_equal(answers, 18);
    emu_client_close(a);
    const char *ping[] = {"ping", NULL};
    assert_int_equal(emu_cli(&B, NULL, ping), 0);
    json_t *st = emu_state(&B);
    assert_null(json_object_get(json_object_get(st, "products"), "a1BadTsl01"));
    json_decref(st);
}

static void t_state_survives_restart(void **s)
{
    int rc;
    (void)s;
    emu_client_close(G);
    emu_client_close(H);
    G = H = NULL;
    assert_int_equal(emu_broker_restart(&B), 0);
    json_t *st = emu_state(&B);
    assert_non_null(st);
    json_t *devs = json_object_get(st, "devices");
    assert_string_equal(json_string_value(json_object_get(json_object_get(devs, SUB_PK "/sub01"), "gateway")), GW_PK "/gw01");
    assert_non_null(json_object_get(devs, "a1NewPK001/one_1"));
    assert_null(json_object_get(devs, SUB_PK "/sub02"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(json_object_get(devs, SUB_PK "/sub01"), "ota"),
                                                                           "versions"), "default")), "2.0.0");
    assert_true(json_integer_value(json_object_get(st, "seq")) > 1000);
    assert_int_equal(json_object_size(json_object_get(st, "sessions")), 0);   /* sessions end with the broker */
    json_decref(st);
    /* the gateway can reconnect and log its sub-device in again */
    G = emu_device_connect(&B, GW_PK, "gw01", GW_DS(1), "_ss=1,ext=1", &rc);
    assert_non_null(G);
    json_t *r = emu_client_request(G, "/sys/" GW_PK "/gw01/thing/topo/get", "{\"id\":\"1\",\"params\":{}}", EMU_WAIT_MS);
    assert_int_equal(emu_code(r), 200);
    assert_int_equal(json_array_size(json_object_get(r, "data")), 1);
    json_decref(r);
    H = emu_device_connect(&B, GW_PK, "gw02", GW_DS(2), "ext=0", &rc);
    assert_non_null(H);
}

/* Size of the history journal (what has reached the disk). */
static long journal_size(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/history.jsonl", B.state_dir);
    return emu_file_size(path);
}

static json_t *dev01_history(void)
{
    json_t *st = emu_state(&B);
    json_t *h = json_incref(json_object_get(json_object_get(json_object_get(st, "devices"), DEV_PK "/dev01"), "history"));
    json_decref(st);
    return h;
}

/* The property history lives in its own journal (history.jsonl), not in state.json: it
 * survives a clean restart and a crash (once flushed), in order, with its values. */
static void t_history_survives_restart(void **s)
{
    int rc;
    (void)s;
    emu_client_close(G);
    emu_client_close(H);
    G = H = NULL;
    emu_client_t *d = emu_device_connect(&B, DEV_PK, "dev01", "DevDeviceSecret00000000000000001", "_ss=1", &rc);
    assert_non_null(d);
    static const char *const posts[] = {
        "{\"id\":\"11\",\"params\":{\"Temperature\":{\"value\":20.5,\"time\":1700000000001},\"Label\":\"a\\\"b\"}}",
        "{\"id\":\"12\",\"params\":{\"Temperature\":-0.1,\"Mode\":1}}",
        "{\"id\":\"13\",\"params\":{\"Temperature\":{\"value\":125,\"time\":1700000000003}}}", NULL};
    long before = journal_size();
    for (int i = 0; posts[i]; i++) {
        json_t *r = emu_client_request(d, "/sys/" DEV_PK "/dev01/thing/event/property/post", posts[i], EMU_WAIT_MS);
        assert_int_equal(emu_code(r), 200);
        json_decref(r);
    }
    emu_client_close(d);
    json_t *h0 = dev01_history();
    assert_true(json_array_size(json_object_get(h0, "Temperature")) >= 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(h0, "Label"), 0), "value")), "a\"b");
    /* state.json itself carries no history */
    char path[400];
    snprintf(path, sizeof path, "%s/state.json", B.state_dir);
    json_error_t je;
    json_t *saved = json_load_file(path, 0, &je);
    assert_non_null(saved);
    assert_null(json_object_get(json_object_get(json_object_get(saved, "devices"), DEV_PK "/dev01"), "history"));
    json_decref(saved);

    /* a crash once the appended lines reached the disk (flushed with the state, ≤ ~300 ms) */
    for (int i = 0; i < EMU_WAIT_MS / 20 && journal_size() <= before; i++) usleep(20000);
    assert_true(journal_size() > before);
    assert_int_equal(emu_broker_crash_restart(&B), 0);
    json_t *h1 = dev01_history();
    assert_true(json_equal(h0, h1));
    json_decref(h1);
    /* a clean restart (the journal was compacted at the last start) */
    assert_int_equal(emu_broker_restart(&B), 0);
    h1 = dev01_history();
    assert_true(json_equal(h0, h1));
    json_decref(h1);
    json_decref(h0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_property_set), cmocka_unit_test(t_services), cmocka_unit_test(t_ota_push),
        cmocka_unit_test(t_lifecycle), cmocka_unit_test(t_direct_device), cmocka_unit_test(t_products_devices_csv), cmocka_unit_test(t_admin_garbage),
        cmocka_unit_test(t_state_survives_restart), cmocka_unit_test(t_history_survives_restart),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + emu_harness_failures;
}
