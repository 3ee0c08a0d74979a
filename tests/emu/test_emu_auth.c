/* test_emu_auth.c — CONNECT authentication of alink-emu against a real mosquitto:
 * signatures (all three HMACs, either hex case, optional timestamp, doc vector), refusals
 * (bad sign, unknown, disabled, no secret, keepalive, bad username), TLS listener,
 * MQTT dynamic registration (/ext/register without SUBSCRIBE, register once), and the
 * older connection being dropped when the same device connects twice. */
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

static int setup(void **s) { (void)s; return emu_broker_start(&B, EMU_REGISTRY, true); }
static int teardown(void **s) { (void)s; return emu_broker_cleanup(&B); }

static void t_linksdk_connect(void **s)
{
    int rc;
    (void)s;
    emu_client_t *c = emu_device_connect(&B, GW_PK, "gw01", GW_DS(1), "_ss=1,ext=3,_v=sdk-c-4.1.0,", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(c);
    emu_client_close(c);
}

static void t_doc_vector_both_cases(void **s)
{
    int rc;
    (void)s;
    /* [DOCS19] example recomputed in the protocol notes */
    emu_client_t *c = emu_client_connect(&B, "12345|securemode=3,signmethod=hmacsha1,timestamp=789|", "device&pk",
                                         "FAFD82A3D602B37FB0FA8B7892F24A477F851A14", 60, false, &rc);
    assert_int_equal(rc, 0);
    emu_client_close(c);
    c = emu_client_connect(&B, "12345|timestamp=789,signmethod=hmacsha1,securemode=3|", "device&pk",
                           "fafd82a3d602b37fb0fa8b7892f24a477f851a14", 60, false, &rc);
    assert_int_equal(rc, 0);
    emu_client_close(c);
}

static void t_md5_without_timestamp(void **s)
{
    int rc;
    char pass[65];
    (void)s;
    emu_hmac_hex(EMU_HMAC_MD5, "DevDeviceSecret00000000000000001", "clientIdmyboxdeviceNamedev01productKeya1DevPK001", pass);
    emu_client_t *c = emu_client_connect(&B, "mybox|securemode=3,signmethod=hmacmd5|", "dev01&" DEV_PK, pass, 300, false, &rc);
    assert_int_equal(rc, 0);
    emu_client_close(c);
    /* no |…| block at all: hmacmd5 is the default */
    c = emu_client_connect(&B, "mybox", "dev01&" DEV_PK, pass, 300, false, &rc);
    assert_int_equal(rc, 0);
    emu_client_close(c);
}

static void t_refusals(void **s)
{
    int rc;
    (void)s;
    assert_null(emu_device_connect(&B, GW_PK, "gw01", "wrong-secret", NULL, &rc));
    assert_int_not_equal(rc, 0);
    assert_null(emu_device_connect(&B, GW_PK, "nosuchdev", GW_DS(1), NULL, &rc));
    assert_int_not_equal(rc, 0);
    assert_null(emu_device_connect(&B, DEV_PK, "devoff", "DevDeviceSecret00000000000000002", NULL, &rc));
    assert_int_not_equal(rc, 0);
    assert_null(emu_device_connect(&B, SUB_PK, "subnew1", "", NULL, &rc));   /* pre-registered, no secret */
    assert_int_not_equal(rc, 0);
    assert_null(emu_client_connect(&B, "x|securemode=3|", "no-ampersand", "x", 60, false, &rc));
    assert_int_not_equal(rc, 0);
    assert_null(emu_client_connect(&B, "x|securemode=3,signmethod=hmacsha1", "device&pk", "x", 60, false, &rc));
    assert_int_not_equal(rc, 0);
    /* keepalive below 30 s is refused */
    assert_null(emu_client_connect(&B, "12345|securemode=3,signmethod=hmacsha1,timestamp=789|", "device&pk",
                                   "FAFD82A3D602B37FB0FA8B7892F24A477F851A14", 10, false, &rc));
    assert_int_not_equal(rc, 0);
    json_t *st = emu_state(&B);
    assert_non_null(st);
    assert_true(json_array_size(json_object_get(st, "audit")) >= 6);
    json_decref(st);
}

static void t_tls(void **s)
{
    int rc;
    (void)s;
    emu_client_t *c = emu_client_connect(&B, "12345|securemode=2,signmethod=hmacsha1,timestamp=789|", "device&pk",
                                         "FAFD82A3D602B37FB0FA8B7892F24A477F851A14", 60, true, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(c);
    emu_client_close(c);
}

static emu_client_t *dynreg(const char *pk, const char *dn, const char *ps, int *rc)
{
    char content[200], pass[65], user[100];
    snprintf(content, sizeof content, "deviceName%sproductKey%srandom8811", dn, pk);
    emu_hmac_hex(EMU_HMAC_SHA256, ps, content, pass);
    snprintf(user, sizeof user, "%s&%s", dn, pk);
    return emu_client_connect(&B, "reg01|securemode=2,authType=register,random=8811,signmethod=hmacsha256|", user, pass, 60,
                              true, rc);
}

static void t_dynamic_registration(void **s)
{
    int rc;
    (void)s;
    emu_client_t *c = dynreg(DEV_PK, "devreg1", "DevSecret0000001", &rc);
    assert_int_equal(rc, 0);
    json_t *msg = emu_client_wait(c, "/ext/register", EMU_WAIT_MS);            /* no SUBSCRIBE needed */
    assert_non_null(msg);
    const char *secret = json_string_value(json_object_get(msg, "deviceSecret"));
    assert_non_null(secret);
    assert_string_equal(json_string_value(json_object_get(msg, "deviceName")), "devreg1");
    emu_client_close(c);
    c = emu_device_connect(&B, DEV_PK, "devreg1", secret, NULL, &rc);  /* activates the device */
    assert_int_equal(rc, 0);
    emu_client_close(c);
    json_decref(msg);
    assert_null(dynreg(DEV_PK, "devreg1", "DevSecret0000001", &rc));   /* already activated */
    assert_null(dynreg(DEV_PK, "devreg1", "WrongProductSecret", &rc));
    assert_null(dynreg("a1NoDyn001", "nodyn01", "NoDynSecret00001", &rc));   /* dynamic registration off */
}

static void t_second_connection_replaces_first(void **s)
{
    int rc;
    (void)s;
    emu_client_t *a = emu_device_connect(&B, GW_PK, "gw02", GW_DS(2), "_v=a", &rc);
    assert_int_equal(rc, 0);
    char cid[200], pass[65], content[300];
    snprintf(content, sizeof content, "clientIdotherdeviceNamegw02productKey%stimestamp1", GW_PK);
    emu_hmac_hex(EMU_HMAC_SHA1, GW_DS(2), content, pass);
    snprintf(cid, sizeof cid, "other|securemode=3,signmethod=hmacsha1,timestamp=1|");
    emu_client_t *b = emu_client_connect(&B, cid, "gw02&" GW_PK, pass, 60, false, &rc);
    assert_int_equal(rc, 0);
    for (int i = 0; i < EMU_WAIT_MS / 50 && emu_client_connected(a); i++) usleep(50000);
    assert_false(emu_client_connected(a));
    assert_true(emu_client_connected(b));
    emu_client_close(a);
    emu_client_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_linksdk_connect), cmocka_unit_test(t_doc_vector_both_cases), cmocka_unit_test(t_md5_without_timestamp),
        cmocka_unit_test(t_refusals), cmocka_unit_test(t_tls), cmocka_unit_test(t_dynamic_registration),
        cmocka_unit_test(t_second_connection_replaces_first),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + emu_harness_failures;
}
