/* test_emu_limits.c — the per-gateway topology cap (2,000 sub-devices, code 6400) with a
 * generated registry of 2,001 sub-devices, added 30 per topo/add as a gateway must. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emu_harness.h"

#define NSUB 2001
static emu_broker_t B;

static void secret_of(int i, char out[40]) { snprintf(out, 40, "CapSubSecret%020d", i); }

static int setup(void **s)
{
    (void)s;
    size_t cap = 200 + (size_t)NSUB * 120, len = 0;
    char *reg = malloc(cap);
    if (!reg) return -1;
    len += (size_t)snprintf(reg + len, cap - len,
                            "{\"products\":[{\"productKey\":\"a1CapGw001\",\"productSecret\":\"x\",\"nodeType\":\"gateway\"},"
                            "{\"productKey\":\"a1CapSub01\",\"productSecret\":\"y\",\"nodeType\":\"sub\"}],\"devices\":["
                            "{\"productKey\":\"a1CapGw001\",\"deviceName\":\"capgw\",\"deviceSecret\":\"CapGatewaySecret\"}");
    for (int i = 0; i < NSUB; i++) {
        char sec[40];
        secret_of(i, sec);
        len += (size_t)snprintf(reg + len, cap - len, ",{\"productKey\":\"a1CapSub01\",\"deviceName\":\"cap%05d\",\"deviceSecret\":\"%s\"}", i, sec);
    }
    snprintf(reg + len, cap - len, "]}");
    int rc = emu_broker_start(&B, reg, false);
    free(reg);
    return rc;
}

static int teardown(void **s)
{
    (void)s;
    return emu_broker_cleanup(&B);
}

static int topo_add(emu_client_t *c, int from, int n)
{
    static char payload[30 * 400 + 100];
    size_t len = (size_t)snprintf(payload, sizeof payload, "{\"id\":\"%d\",\"params\":[", from);
    for (int i = from; i < from + n; i++) {
        char dn[16], sec[40], sign[65];
        snprintf(dn, sizeof dn, "cap%05d", i);
        secret_of(i, sec);
        emu_sub_sign("a1CapSub01", dn, sec, "1", sign);
        len += (size_t)snprintf(payload + len, sizeof payload - len,
                                "%s{\"productKey\":\"a1CapSub01\",\"deviceName\":\"%s\",\"clientId\":\"a1CapSub01.%s\",\"timestamp\":\"1\","
                                "\"signmethod\":\"hmacSha256\",\"sign\":\"%s\"}", i > from ? "," : "", dn, dn, sign);
    }
    snprintf(payload + len, sizeof payload - len, "]}");
    json_t *r = emu_client_request(c, "/sys/a1CapGw001/capgw/thing/topo/add", payload, EMU_WAIT_MS);
    int code = emu_code(r);
    json_decref(r);
    return code;
}

static void t_topology_cap(void **s)
{
    int rc;
    (void)s;
    emu_client_t *c = emu_device_connect(&B, "a1CapGw001", "capgw", "CapGatewaySecret", "_ss=1", &rc);
    assert_non_null(c);
    for (int i = 0; i < 2000; i += 30) assert_int_equal(topo_add(c, i, i + 30 <= 2000 ? 30 : 2000 - i), 200);
    assert_int_equal(topo_add(c, 2000, 1), 6400);      /* the 2,001st */
    assert_int_equal(topo_add(c, 1990, 10), 200);      /* already bound: not new */
    json_t *r = emu_client_request(c, "/sys/a1CapGw001/capgw/thing/topo/get", "{\"id\":\"1\",\"params\":{}}", EMU_WAIT_MS);
    assert_int_equal(json_array_size(json_object_get(r, "data")), 2000);
    json_decref(r);
    emu_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_topology_cap)};
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + emu_harness_failures;
}
