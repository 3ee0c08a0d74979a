/*
 * gw_alink: every signing vector of the protocol notes (§1, §4) and every
 * signature in the LinkSDK / iotkit capture, plus the CONNECT string format
 * and the client id parser the emulator uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alink_auth.h"
#include "alink_sign.h"

static void expect_device_sign(gw_alink_sign_method_t m, const char *secret, const char *cid, const char *dn,
                               const char *pk, const char *ts, const char *want)
{
    char out[GW_ALINK_HEX_MAX];
    int n = gw_alink_device_sign(m, secret, cid, dn, pk, ts, out);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(out, want); /* produced upper case, as LinkSDK */
    assert_true(gw_alink_hex_equal(out, want));
}

/* §1.1 doc example (hmacsha1) and the LinkSDK-format computed vector. */
static void test_doc_connect_vectors(void **state)
{
    (void)state;
    char content[256];
    assert_int_equal(gw_alink_sign_content(content, sizeof content, "12345", "device", "pk", "789"), 53);
    assert_string_equal(content, "clientId12345deviceNamedeviceproductKeypktimestamp789");
    expect_device_sign(GW_ALINK_HMAC_SHA1, "secret", "12345", "device", "pk", "789",
                       "FAFD82A3D602B37FB0FA8B7892F24A477F851A14");
    expect_device_sign(GW_ALINK_HMAC_SHA256, "0123456789abcdef0123456789abcdef", "a1TestPK01.gw01", "gw01",
                       "a1TestPK01", GW_ALINK_SDK_TIMESTAMP,
                       "DA7341E75633D9347F5ABA62FA07398E4CD62CF44399E4AD1920A2781B40ADDB");
}

/* §1.4 sub-device sign vectors (hmacmd5 doc vector, LinkSDK hmacSha256). */
static void test_doc_subdev_vectors(void **state)
{
    (void)state;
    expect_device_sign(GW_ALINK_HMAC_MD5, "1234", "868575026974305", "868575026974305", "a1PB5fp1234",
                       "1646277090411", "3BA0DFA4C477B40C007D84D30D6466CC");
    expect_device_sign(GW_ALINK_HMAC_SHA256, "fedcba9876543210fedcba9876543210", "a1SubPK001.sub01", "sub01",
                       "a1SubPK001", "1700000000000",
                       "D7AE575CE4A200F0969C8EBEDB0C4BA42AE07424A66D83BF2C426293D31453D5");
}

/* §4.3 registration vector (the doc prints it lower case). */
static void test_doc_register_vector(void **state)
{
    (void)state;
    char out[GW_ALINK_HEX_MAX];
    assert_int_equal(gw_alink_register_sign(GW_ALINK_HMAC_SHA256, "ProductSecret0001", "sub01", "a1SubPK001",
                                            "123456", out),
                     64);
    assert_true(gw_alink_hex_equal(out, "d09409dad7b1878843f78989075a29ac3e0634cd69565bcfd82d233f27975b5e"));
    /* lower-case rendering matches byte for byte */
    char msg[] = "deviceNamesub01productKeya1SubPK001random123456";
    assert_int_equal(gw_alink_hmac_hex(GW_ALINK_HMAC_SHA256, "ProductSecret0001", msg, strlen(msg), false, out), 64);
    assert_string_equal(out, "d09409dad7b1878843f78989075a29ac3e0634cd69565bcfd82d233f27975b5e");
}

/* Capture: CONNECT passwords of LinkSDK 4.1.0 and iotkit 3.2.0. */
static void test_capture_connect(void **state)
{
    (void)state;
    expect_device_sign(GW_ALINK_HMAC_SHA256, "awAlkVEzZm40nk4EbMfcUVRwDnnClVVu", "a1tmc66UyDK.subdev_basic_demo",
                       "subdev_basic_demo", "a1tmc66UyDK", "2524608000000",
                       "994A61302C5D9CAA1E1F09CFC235A816D45351D8D6C03CEBD53322940B95D906");
    expect_device_sign(GW_ALINK_HMAC_SHA256, "RDXf67itLqZCwdMCRrw0N5FHbv5D7jrE", "a1RIsMLz2BJ.example1", "example1",
                       "a1RIsMLz2BJ", "2524608000000",
                       "962B1892E19A9BB0F740F6F5AC0769674D52F4AE30D138572C00CA2E56D8EFB6");

    /* the same through the credential builder, with the capture's client id base */
    gw_alink_connect_params_t p = {
        .product_key = "a1tmc66UyDK",
        .device_name = "subdev_basic_demo",
        .device_secret = "awAlkVEzZm40nk4EbMfcUVRwDnnClVVu",
        .securemode = GW_ALINK_SECUREMODE_TCP,
        .sign_method = GW_ALINK_HMAC_SHA256,
        .version = "linkgw-0.1.0",
        .ext = 1,
    };
    gw_alink_mqtt_cred_t c;
    assert_int_equal(gw_alink_connect_cred(&p, &c), 0);
    assert_string_equal(c.client_id, "a1tmc66UyDK.subdev_basic_demo|securemode=3,signmethod=hmacsha256,"
                                     "timestamp=2524608000000,_v=linkgw-0.1.0,ext=1|");
    assert_string_equal(c.username, "subdev_basic_demo&a1tmc66UyDK");
    assert_string_equal(c.password, "994A61302C5D9CAA1E1F09CFC235A816D45351D8D6C03CEBD53322940B95D906");
}

/* Capture: topo/add (4.1.0, 3.2.0 with uptime timestamp), batch_login, 3.x login, product_register. */
static void test_capture_subdev(void **state)
{
    (void)state;
    static const struct {
        const char *dn, *ds, *ts, *sign;
    } v4[] = {
        {"subdev_basic_demo_01", "768XBgQwgOakz3K4uhOiLeeh9xjJQx6h", "1795773407322",
         "422157C311DAEBA469C81A749DB009B9E44DC4F51984A5905D7F4E49B52CA189"},
        {"subdev_basic_demo_02", "iwTZrbjbgNVChfuJkihjE5asekoyKoYv", "1795773407322",
         "9767E596012373F766BC76836D3D02F12CEA0298E15BFC425A6921E8F5ABDCB1"},
        {"subdev_basic_demo_03", "fdutq35iKMYdcWWBuIINY26hsNhgFXWE", "1795773407322",
         "68AE6DF6E38795C5E60C21040EDBED62231F9251A4E9F9995700C94F139F844A"},
        {"subdev_basic_demo_04", "HCKv50YqgwdKhy5cE0Vz4aydmK2ojPvr", "1795773407322",
         "542DCCC336245CC12B602E40A4B01C2770C9F46B00027E8C0F7A61FF67496356"},
        {"subdev_basic_demo_01", "768XBgQwgOakz3K4uhOiLeeh9xjJQx6h", "1795773409322",
         "0481136BC0CF0BB7D92D3CE03B83123EE1B4DE39FA86F2059478B0DCDC476CB7"},
        {"subdev_basic_demo_02", "iwTZrbjbgNVChfuJkihjE5asekoyKoYv", "1795773409322",
         "F8B11C59AEF326FF6CB47D0849B312F3545C85C700FFAE6C703C8F9185A4F78F"},
        {"subdev_basic_demo_03", "fdutq35iKMYdcWWBuIINY26hsNhgFXWE", "1795773409322",
         "993B8C8B1B50A529A0157375C45611122ABAB9C28C5B1A11865A8060DA21218B"},
        {"subdev_basic_demo_04", "HCKv50YqgwdKhy5cE0Vz4aydmK2ojPvr", "1795773409322",
         "AFC43E8B70D2FCB51981B6C54BE8E28C3911E748A4F7760C25BFA49D5AF02BA7"},
    };
    for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++) {
        char cid[64];
        snprintf(cid, sizeof cid, "a13FN5TplKq.%s", v4[i].dn);
        expect_device_sign(GW_ALINK_HMAC_SHA256, v4[i].ds, cid, v4[i].dn, "a13FN5TplKq", v4[i].ts, v4[i].sign);
    }
    /* 3.2.0 topo/add: timestamp is the uptime in ms */
    expect_device_sign(GW_ALINK_HMAC_SHA256, "eglNFNJiRuR0yncB9RP05sSTY4FrUIoe", "a13Npv1vjZ4.example_sub1",
                       "example_sub1", "a13Npv1vjZ4", "973761",
                       "3B35BF5F11A6A6282A1BAF195E7BDD44A6AB23B7D868B9943F89BEB5CF3044D9");
    expect_device_sign(GW_ALINK_HMAC_SHA256, "jFsErM3uA7UfbS6J0hm0QaEXsQbmO6Pa", "a1YRfb9bepk.test_02", "test_02",
                       "a1YRfb9bepk", "975380", "CB3ACABD697487A1E5130F64C4FB2B5761019CF5C0B461A9D4C5ED9866069BB4");
    /* 3.2.0 combine/login: the clientId field is signed whole, '|' block included */
    expect_device_sign(GW_ALINK_HMAC_SHA256, "eglNFNJiRuR0yncB9RP05sSTY4FrUIoe",
                       "a13Npv1vjZ4.example_sub1|_ss=1,_v=sdk-c-3.2.0|", "example_sub1", "a13Npv1vjZ4", "973962",
                       "757FEF895C912E728F7564FC2B99468E4D5B881F539409F1A814E2B200378E8C");
    expect_device_sign(GW_ALINK_HMAC_SHA256, "MjWMvCLBcuZyqUswryBbgypN8uOgJGVD",
                       "a1YRfb9bepk.test_03|_ss=1,_v=sdk-c-3.2.0|", "test_03", "a1YRfb9bepk", "977168",
                       "A78382AA86BB39426564E2F3712059B5F11266E040915D91F3181C3C5E54AB7E");
    /* 4.1.0 product_register, keyed with the product secret */
    char out[GW_ALINK_HEX_MAX];
    assert_int_equal(gw_alink_register_sign(GW_ALINK_HMAC_SHA256, "y7GSILD480lBSsP8", "subdev_basic_demo_01",
                                            "a13FN5TplKq", "6BBC543C1234FBA6751F", out),
                     64);
    assert_string_equal(out, "2EBAD00C55E413602E8C89EAA35B8424A7642ECFAA6FF9C3B865A8F0D8A71A84");
    assert_int_equal(gw_alink_register_sign(GW_ALINK_HMAC_SHA256, "y7GSILD480lBSsP8", "subdev_basic_demo_01",
                                            "a13FN5TplKq", "1A6010B16FAB34618C4C", out),
                     64);
    assert_string_equal(out, "48784AD29A3877F79E4B8C880EF5181D4993069FDBCC54AAA536E30E64FE01F8");
}

static void test_content_optional_fields(void **state)
{
    (void)state;
    char buf[128];
    assert_int_equal(gw_alink_sign_content(buf, sizeof buf, NULL, "dn", "pk", NULL), 24);
    assert_string_equal(buf, "deviceNamednproductKeypk");
    assert_int_equal(gw_alink_sign_content(buf, sizeof buf, NULL, "dn", "pk", "5") > 0, 1);
    assert_string_equal(buf, "deviceNamednproductKeypktimestamp5");
    assert_int_equal(gw_alink_sign_content(buf, 10, "c", "dn", "pk", "5"), -1);
    assert_int_equal(gw_alink_sign_content(buf, sizeof buf, "c", NULL, "pk", "5"), -1);
}

static void test_method_names_and_hex(void **state)
{
    (void)state;
    gw_alink_sign_method_t m;
    assert_int_equal(gw_alink_sign_method_parse("hmacSha256", &m), 0);
    assert_int_equal(m, GW_ALINK_HMAC_SHA256);
    assert_int_equal(gw_alink_sign_method_parse("HMACMD5", &m), 0);
    assert_int_equal(m, GW_ALINK_HMAC_MD5);
    assert_int_equal(gw_alink_sign_method_parse("hmacsha1", &m), 0);
    assert_int_equal(m, GW_ALINK_HMAC_SHA1);
    assert_int_equal(gw_alink_sign_method_parse("Sha256", &m), -1);
    assert_int_equal(gw_alink_sign_method_parse(NULL, &m), -1);
    assert_string_equal(gw_alink_sign_method_name(GW_ALINK_HMAC_SHA1), "hmacsha1");
    assert_string_equal(gw_alink_sign_method_json(GW_ALINK_HMAC_SHA256), "hmacSha256");
    assert_true(gw_alink_hex_equal("abCD", "ABcd"));
    assert_false(gw_alink_hex_equal("abCD", "ABce"));
    assert_false(gw_alink_hex_equal("abc", "abcd"));
    assert_false(gw_alink_hex_equal(NULL, "a"));
    char out[GW_ALINK_HEX_MAX];
    assert_int_equal(gw_alink_hmac_hex(GW_ALINK_HMAC_MD5, "k", "", 0, false, out), 32);
    assert_int_equal(gw_alink_hmac_hex((gw_alink_sign_method_t)7, "k", "x", 1, false, out), -1);
    assert_string_equal(out, "");
}

static void test_register_cred_and_parse(void **state)
{
    (void)state;
    gw_alink_register_params_t p = {
        .product_key = "a1SubPK001",
        .device_name = "sub01",
        .product_secret = "ProductSecret0001",
        .auth_type = "register",
        .random = "123456",
        .securemode = GW_ALINK_SECUREMODE_TLS,
        .sign_method = GW_ALINK_HMAC_SHA256,
    };
    gw_alink_mqtt_cred_t c;
    assert_int_equal(gw_alink_register_cred(&p, &c), 0);
    assert_string_equal(c.client_id,
                        "a1SubPK001.sub01|securemode=2,authType=register,random=123456,signmethod=hmacsha256|");
    assert_string_equal(c.username, "sub01&a1SubPK001");
    assert_true(gw_alink_hex_equal(c.password, "d09409dad7b1878843f78989075a29ac3e0634cd69565bcfd82d233f27975b5e"));
    p.securemode = GW_ALINK_SECUREMODE_NEW_INSTANCE;
    p.instance_id = "iot-06z00";
    assert_int_equal(gw_alink_register_cred(&p, &c), 0);
    assert_string_equal(c.client_id, "a1SubPK001.sub01|securemode=-2,authType=register,random=123456,"
                                     "signmethod=hmacsha256,instanceId=iot-06z00|");
    p.random = "bad,random";
    assert_int_equal(gw_alink_register_cred(&p, &c), -1);
    assert_string_equal(c.client_id, "");

    /* the emulator's parser, on the capture's 4.1.0 client id (trailing comma variant too) */
    const char *cid = "a1tmc66UyDK.subdev_basic_demo|timestamp=2524608000000,_ss=1,_v=sdk-c-4.1.0,securemode=3,"
                      "signmethod=hmacsha256,ext=3,_conn=tls_1,|";
    char base[128], val[64];
    size_t blen;
    const char *block = gw_alink_client_id_split(cid, base, sizeof base, &blen);
    assert_non_null(block);
    assert_string_equal(base, "a1tmc66UyDK.subdev_basic_demo");
    assert_int_equal(gw_alink_client_id_get(cid, "securemode", val, sizeof val), 1);
    assert_string_equal(val, "3");
    assert_int_equal(gw_alink_client_id_get(cid, "signmethod", val, sizeof val), 10);
    assert_string_equal(val, "hmacsha256");
    assert_int_equal(gw_alink_client_id_get(cid, "ext", val, sizeof val), 1);
    assert_string_equal(val, "3");
    assert_int_equal(gw_alink_client_id_get(cid, "timestamp", val, 4), -2);
    assert_int_equal(gw_alink_client_id_get(cid, "nope", val, sizeof val), -1);
    assert_int_equal(gw_alink_client_id_get("plain-id", "ext", val, sizeof val), -1);
    char dn[64], pk[64];
    assert_int_equal(gw_alink_username_split("subdev_basic_demo&a1tmc66UyDK", dn, sizeof dn, pk, sizeof pk), 0);
    assert_string_equal(dn, "subdev_basic_demo");
    assert_string_equal(pk, "a1tmc66UyDK");
    assert_int_equal(gw_alink_username_split("nodelim", dn, sizeof dn, pk, sizeof pk), -1);
    assert_int_equal(gw_alink_username_split("&pk", dn, sizeof dn, pk, sizeof pk), -1);
}

static void test_connect_cred_rejects_bad_input(void **state)
{
    (void)state;
    gw_alink_mqtt_cred_t c;
    gw_alink_connect_params_t p = {.product_key = "pk", .device_name = "d|n", .device_secret = "s", .ext = -1};
    assert_int_equal(gw_alink_connect_cred(&p, &c), -1);
    p.device_name = "device";
    p.device_secret = "";
    assert_int_equal(gw_alink_connect_cred(&p, &c), -1);
    p.device_secret = "secret";
    p.client_id = "12345";
    p.timestamp = "789";
    p.sign_method = GW_ALINK_HMAC_SHA1;
    p.securemode = 2;
    assert_int_equal(gw_alink_connect_cred(&p, &c), 0);
    assert_string_equal(c.client_id, "12345|securemode=2,signmethod=hmacsha1,timestamp=789|");
    assert_string_equal(c.password, "FAFD82A3D602B37FB0FA8B7892F24A477F851A14");
    p.timestamp = ""; /* omitted from block and content */
    assert_int_equal(gw_alink_connect_cred(&p, &c), 0);
    assert_string_equal(c.client_id, "12345|securemode=2,signmethod=hmacsha1|");
    char want[GW_ALINK_HEX_MAX];
    gw_alink_device_sign(GW_ALINK_HMAC_SHA1, "secret", "12345", "device", "pk", NULL, want);
    assert_string_equal(c.password, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_connect_vectors),     cmocka_unit_test(test_doc_subdev_vectors),
        cmocka_unit_test(test_doc_register_vector),     cmocka_unit_test(test_capture_connect),
        cmocka_unit_test(test_capture_subdev),          cmocka_unit_test(test_content_optional_fields),
        cmocka_unit_test(test_method_names_and_hex),    cmocka_unit_test(test_register_cred_and_parse),
        cmocka_unit_test(test_connect_cred_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
