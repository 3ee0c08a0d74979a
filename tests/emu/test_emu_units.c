/* test_emu_units.c — pure parts of alink-emu without a broker: the signature vectors of
 * the protocol notes, the tolerant client-id parser and the topic classifier (owner and
 * direction rules behind the ACL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emu.h"
#include "emu_clientid.h"
#include "emu_sign.h"

static void t_sign_vectors(void **s)
{
    char hex[65], content[512];
    (void)s;
    /* §1.1 doc example */
    assert_true(emu_sign_content(content, sizeof content, NULL, "12345", "device", "pk", "789"));
    assert_string_equal(content, "clientId12345deviceNamedeviceproductKeypktimestamp789");
    assert_true(emu_hmac_hex(EMU_HMAC_SHA1, "secret", content, hex));
    assert_string_equal(hex, "FAFD82A3D602B37FB0FA8B7892F24A477F851A14");
    /* §1.1 LinkSDK format */
    assert_true(emu_sign_check("hmacsha256", "0123456789abcdef0123456789abcdef", "a1TestPK01.gw01", "gw01", "a1TestPK01",
                               "2524608000000", "da7341e75633d9347f5aba62fa07398e4cd62cf44399e4ad1920a2781b40addb"));
    /* §1.4 topo/add vectors */
    assert_true(emu_sign_check("hmacmd5", "1234", "868575026974305", "868575026974305", "a1PB5fp1234", "1646277090411",
                               "3BA0DFA4C477B40C007D84D30D6466CC"));
    assert_true(emu_sign_check("hmacSha256", "fedcba9876543210fedcba9876543210", "a1SubPK001.sub01", "sub01", "a1SubPK001",
                               "1700000000000", "D7AE575CE4A200F0969C8EBEDB0C4BA42AE07424A66D83BF2C426293D31453D5"));
    assert_false(emu_sign_check("hmacSha256", "wrong", "a1SubPK001.sub01", "sub01", "a1SubPK001", "1700000000000",
                                "D7AE575CE4A200F0969C8EBEDB0C4BA42AE07424A66D83BF2C426293D31453D5"));
    assert_false(emu_sign_check("Sha256", "x", "c", "d", "p", "1", "00"));
    assert_int_equal(emu_hmac_from_name("HmacMD5"), EMU_HMAC_MD5);
    assert_int_equal(emu_hmac_from_name(NULL), EMU_HMAC_NONE);
    assert_false(emu_hex_equal("", ""));
    /* legacy login content with cleanSession (§11.6) */
    assert_true(emu_sign_content(content, sizeof content, "true", "123", "test", "123", "123"));
    assert_string_equal(content, "cleanSessiontrueclientId123deviceNametestproductKey123timestamp123");
}

static void t_client_id(void **s)
{
    emu_cid_t c;
    (void)s;
    assert_true(emu_cid_parse("a1.gw|timestamp=2524608000000,_ss=1,_v=sdk-c-4.1.0,securemode=3,signmethod=hmacsha256,ext=3,|", &c));
    assert_string_equal(c.base, "a1.gw");
    assert_string_equal(c.signmethod, "hmacsha256");
    assert_true(c.has_timestamp && c.ss);
    assert_int_equal(c.ext, 3);
    assert_true(emu_cid_parse("x|SignMethod=hmacmd5,,SECUREMODE=2,lan=C|", &c));
    assert_string_equal(c.signmethod, "hmacmd5");
    assert_string_equal(c.securemode, "2");
    assert_false(c.has_timestamp || c.ss);
    assert_true(emu_cid_parse("plain", &c));
    assert_string_equal(c.base, "plain");
    assert_true(emu_cid_parse("|timestamp=1|", &c));                 /* "assigned clientid" form */
    assert_string_equal(c.base, "");
    assert_true(emu_cid_parse("d.p|random=8811,authType=register,securemode=-2,signmethod=hmacsha256,instanceId=iot-1|", &c));
    assert_string_equal(c.auth_type, "register");
    assert_string_equal(c.random, "8811");
    assert_false(emu_cid_parse("x|securemode=3", &c));               /* unterminated block */
    assert_false(emu_cid_parse(NULL, &c));
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(emu_cid_parse(big, &c));                            /* base too long */
    char longval[300] = "x|signmethod=";
    memset(longval + strlen(longval), 'b', 100);
    strcat(longval, "|");
    assert_false(emu_cid_parse(longval, &c));
}

static void t_topics(void **s)
{
    emu_topic_t t;
    (void)s;
    assert_true(emu_topic_parse("/sys/pk1/dn1/thing/event/property/post", false, &t));
    assert_int_equal(t.cls, EMU_T_SYS);
    assert_string_equal(t.pk, "pk1");
    assert_string_equal(t.rest, "thing/event/property/post");
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_UP);
    assert_true(emu_topic_parse("/sys/pk1/dn1/thing/event/property/post_reply", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_DOWN);
    assert_true(emu_topic_parse("/sys/pk1/dn1/thing/service/property/set", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_DOWN);
    assert_true(emu_topic_parse("/sys/pk1/dn1/thing/service/property/set_reply", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_UP);
    assert_true(emu_topic_parse("/sys/pk1/dn1/thing/topo/change_reply", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_UP);
    assert_true(emu_topic_parse("/sys/pk1/dn1/rrpc/request/77", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_DOWN);
    assert_true(emu_topic_parse("/sys/pk1/dn1/rrpc/response/77", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_UP);
    assert_true(emu_topic_parse("/ext/rrpc/123/sys/pk1/dn1/thing/service/Cal", false, &t));
    assert_int_equal(t.cls, EMU_T_RRPC);
    assert_string_equal(t.mid, "123");
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_BOTH);
    assert_true(emu_topic_parse("/ext/session/pk1/dn1/combine/batch_login_reply", false, &t));
    assert_int_equal(t.cls, EMU_T_SESSION);
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_DOWN);
    assert_true(emu_topic_parse("/ota/device/upgrade/pk1/dn1", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_DOWN);
    assert_true(emu_topic_parse("/ota/device/inform/pk1/dn1", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_UP);
    assert_true(emu_topic_parse("/ext/ntp/pk1/dn1/request", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_UP);
    assert_true(emu_topic_parse("/ext/error/pk1/dn1", false, &t));
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_DOWN);
    assert_true(emu_topic_parse("/pk1/dn1/user/update", false, &t));
    assert_int_equal(t.cls, EMU_T_USER);
    /* custom-topic RRPC, literal "/ext/rrpc/${messageId}/${topic}" form and the single-slash one */
    assert_true(emu_topic_parse("/ext/rrpc/123//pk1/dn1/user/get", false, &t));
    assert_int_equal(t.cls, EMU_T_RRPC);
    assert_true(t.user);
    assert_string_equal(t.pk, "pk1");
    assert_string_equal(t.dn, "dn1");
    assert_string_equal(t.mid, "123");
    assert_string_equal(t.rest, "user/get");
    assert_true(emu_topic_parse("/ext/rrpc/124/pk1/dn1/user/a/b", false, &t));
    assert_true(t.user);
    assert_string_equal(t.rest, "user/a/b");
    assert_true(emu_topic_parse("/ext/rrpc/+//pk1/+/user/get", true, &t));
    assert_true(t.wild_owner);
    assert_false(emu_topic_parse("/ext/rrpc/125/pk1/dn1/other/get", false, &t));
    assert_true(emu_topic_parse("/ext/rrpc/9/sys/pk1/dn1/thing/service/x", false, &t));
    assert_false(t.user);
    assert_true(emu_topic_parse("/ext/register", false, &t));
    assert_int_equal(t.cls, EMU_T_REGISTER);
    assert_true(emu_topic_parse("$emu/request", false, &t));
    assert_int_equal(t.cls, EMU_T_ADMIN);
    /* filters */
    assert_true(emu_topic_parse("/sys/+/+/thing/#", true, &t));
    assert_true(t.wild_owner);
    assert_int_equal(emu_topic_dir(&t), EMU_DIR_BOTH);
    /* not Alink */
    assert_false(emu_topic_parse("sys/pk/dn/thing/x", false, &t));
    assert_false(emu_topic_parse("/sys//dn/thing/x", false, &t));
    assert_false(emu_topic_parse("$SYS/broker/uptime", false, &t));
    assert_false(emu_topic_parse("#", true, &t));
    assert_false(emu_topic_parse("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z", false, &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_sign_vectors), cmocka_unit_test(t_client_id), cmocka_unit_test(t_topics)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
