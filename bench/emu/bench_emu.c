/* bench_emu.c — throughput of the emulator on the paths a gateway stresses: sequential
 * property-post round trips, pipelined posts (publish N, then collect N replies), and a
 * 50-device batch_login. Prints numbers; asserts nothing. Usage: bench_emu [N]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu_harness.h"
#include "bench_proc.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000, rc;
    emu_broker_t b;
    if (n <= 0) n = 2000;
    size_t cap = 1024 + 50 * 200, len = 0;
    char *reg = malloc(cap);
    if (!reg) return 1;
    len += (size_t)snprintf(reg, cap, "{\"products\":[{\"productKey\":\"a1BenchGw1\",\"productSecret\":\"x\",\"nodeType\":\"gateway\"},"
                                      "{\"productKey\":\"a1BenchSub\",\"productSecret\":\"y\",\"nodeType\":\"sub\"}],\"devices\":["
                                      "{\"productKey\":\"a1BenchGw1\",\"deviceName\":\"gw01\",\"deviceSecret\":\"BenchGatewaySecret\"}");
    for (int i = 0; i < 50; i++)
        len += (size_t)snprintf(reg + len, cap - len, ",{\"productKey\":\"a1BenchSub\",\"deviceName\":\"sub%02d\",\"deviceSecret\":\"S%02d\"}", i, i);
    snprintf(reg + len, cap - len, "]}");
    if (emu_broker_start(&b, reg, false)) { fprintf(stderr, "broker did not start\n"); free(reg); return 1; }
    free(reg);
    emu_client_t *g = emu_device_connect(&b, "a1BenchGw1", "gw01", "BenchGatewaySecret", "_ss=1", &rc);
    if (!g) { emu_broker_cleanup(&b); return 1; }

    /* topo/add (2 × 25) then one batch_login of 50 */
    static char payload[60000];
    char list[50][400];
    for (int i = 0; i < 50; i++) {
        char dn[8], ds[8], sign[65];
        snprintf(dn, sizeof dn, "sub%02d", i);
        snprintf(ds, sizeof ds, "S%02d", i);
        emu_sub_sign("a1BenchSub", dn, ds, "1", sign);
        snprintf(list[i], sizeof list[i], "{\"productKey\":\"a1BenchSub\",\"deviceName\":\"%s\",\"clientId\":\"a1BenchSub.%s\","
                 "\"timestamp\":\"1\",\"signmethod\":\"hmacSha256\",\"sign\":\"%s\"}", dn, dn, sign);
    }
    for (int part = 0; part < 2; part++) {
        size_t l = (size_t)snprintf(payload, sizeof payload, "{\"id\":\"%d\",\"params\":[", part);
        for (int i = part * 25; i < part * 25 + 25; i++) l += (size_t)snprintf(payload + l, sizeof payload - l, "%s%s", i % 25 ? "," : "", list[i]);
        snprintf(payload + l, sizeof payload - l, "]}");
        json_decref(emu_client_request(g, "/sys/a1BenchGw1/gw01/thing/topo/add", payload, 10000));
    }
    size_t l = (size_t)snprintf(payload, sizeof payload, "{\"id\":\"9\",\"params\":{\"signMethod\":\"hmacSha256\",\"deviceList\":[");
    for (int i = 0; i < 50; i++) l += (size_t)snprintf(payload + l, sizeof payload - l, "%s%s", i ? "," : "", list[i]);
    snprintf(payload + l, sizeof payload - l, "]}}");
    double t0 = bench_now_s();
    json_t *r = emu_client_request(g, "/ext/session/a1BenchGw1/gw01/combine/batch_login", payload, 10000);
    double t1 = bench_now_s();
    printf("batch_login of 50 sub-devices: code %d in %.1f ms\n", emu_code(r), (t1 - t0) * 1e3);
    json_decref(r);

    t0 = bench_now_s();
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char topic[100], body[120];
        snprintf(topic, sizeof topic, "/sys/a1BenchSub/sub%02d/thing/event/property/post", i % 50);
        snprintf(body, sizeof body, "{\"id\":\"%d\",\"params\":{\"Temperature\":%d.5}}", i, i % 100);
        r = emu_client_request(g, topic, body, 5000);
        ok += emu_code(r) == 200;
        json_decref(r);
    }
    t1 = bench_now_s();
    printf("sequential property posts: %d/%d answered 200, %.0f round trips/s\n", ok, n, n / (t1 - t0));

    t0 = bench_now_s();
    for (int i = 0; i < n; i++) {
        char body[120];
        snprintf(body, sizeof body, "{\"id\":\"%d\",\"params\":{\"Temperature\":%d.5}}", i, i % 100);
        emu_client_pub(g, "/sys/a1BenchSub/sub00/thing/event/property/post", body);
    }
    ok = 0;
    while (ok < n && (r = emu_client_wait(g, "/sys/a1BenchSub/sub00/thing/event/property/post_reply", 5000)) != NULL) {
        ok++;
        json_decref(r);
    }
    t1 = bench_now_s();
    printf("pipelined property posts: %d/%d replies, %.0f msg/s\n", ok, n, ok / (t1 - t0));
    emu_client_close(g);
    return emu_broker_cleanup(&b) ? 1 : 0;
}
