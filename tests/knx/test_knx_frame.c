/*
 * Unit tests of KNX address notation (plugins/knx/knx_addr.c) and group-value
 * APDU framing (plugins/knx/knx_apdu.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "knx_addr.h"
#include "knx_apdu.h"

static void test_group_addresses(void **state)
{
    (void)state;
    uint16_t ga = 0;
    char buf[KNX_ADDR_STR];
    assert_true(knx_ga_parse("1/2/3", &ga));
    assert_int_equal(ga, 0x0A03);
    assert_string_equal(knx_ga_format(ga, buf, sizeof buf), "1/2/3");
    assert_true(knx_ga_parse("31/7/255", &ga));
    assert_int_equal(ga, 0xFFFF);
    assert_true(knx_ga_parse("0/0/1", &ga));
    assert_int_equal(ga, 1);
    /* 2-level: main/sub with an 11-bit sub group */
    assert_true(knx_ga_parse("1/234", &ga));
    assert_int_equal(ga, (1 << 11) | 234);
    assert_string_equal(knx_ga_format(ga, buf, sizeof buf), "1/0/234");
    assert_true(knx_ga_parse("31/2047", &ga));
    assert_int_equal(ga, 0xFFFF);
    assert_true(knx_ga_parse("2/1000", &ga));
    assert_string_equal(knx_ga_format(ga, buf, sizeof buf), "2/3/232");

    const char *bad[] = { "", "1", "32/0/0", "1/8/0", "1/2/256", "1/2048", "0/0/0", "0/0", "1/2/3/4",
                          "1//3", "1/2/", "/1/2", " 1/2/3", "1/2/3 ", "a/b/c", "-1/2/3", "1.2.3", "100000/1" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        if (knx_ga_parse(bad[k], &ga))
            fail_msg("'%s' was accepted", bad[k]);
    assert_false(knx_ga_parse(NULL, &ga));
}

static void test_individual_addresses(void **state)
{
    (void)state;
    uint16_t ia = 0;
    char buf[KNX_ADDR_STR];
    assert_true(knx_ia_parse("1.1.5", &ia));
    assert_int_equal(ia, 0x1105);
    assert_string_equal(knx_ia_format(0xFFFF, buf, sizeof buf), "15.15.255");
    assert_string_equal(knx_ia_format(0x0002, buf, sizeof buf), "0.0.2");
    assert_false(knx_ia_parse("16.0.0", &ia));
    assert_false(knx_ia_parse("1.1", &ia));
    assert_false(knx_ia_parse("1/1/1", &ia));
}

static void test_apdu(void **state)
{
    (void)state;
    uint8_t out[KNX_APDU_MAX];
    uint8_t one = 0x01, two[2] = { 0x0C, 0x1A };

    assert_int_equal(knx_apdu_build(KNX_APCI_READ, false, NULL, 0, out), 2);
    assert_int_equal(out[0], 0x00);
    assert_int_equal(out[1], 0x00);
    assert_int_equal(knx_apdu_build(KNX_APCI_WRITE, true, &one, 1, out), 2);
    assert_int_equal(out[1], 0x81);
    assert_int_equal(knx_apdu_build(KNX_APCI_RESPONSE, true, &one, 1, out), 2);
    assert_int_equal(out[1], 0x41);
    assert_int_equal(knx_apdu_build(KNX_APCI_WRITE, false, two, 2, out), 4);
    assert_int_equal(out[1], 0x80);
    assert_int_equal(out[2], 0x0C);
    assert_int_equal(out[3], 0x1A);
    assert_int_equal(knx_apdu_build(KNX_APCI_WRITE, false, two, 15, out), 0);

    knx_apdu_t a;
    assert_true(knx_apdu_parse((const uint8_t[]){ 0x00, 0x81 }, 2, &a));
    assert_int_equal(a.apci, KNX_APCI_WRITE);
    assert_true(a.is_small);
    assert_int_equal(a.small, 1);
    assert_true(knx_apdu_parse((const uint8_t[]){ 0x00, 0x40, 0x0C, 0x1A }, 4, &a));
    assert_int_equal(a.apci, KNX_APCI_RESPONSE);
    assert_false(a.is_small);
    assert_int_equal(a.len, 2);
    assert_int_equal(a.data[1], 0x1A);
    assert_true(knx_apdu_parse((const uint8_t[]){ 0x00, 0x00 }, 2, &a));
    assert_int_equal(a.apci, KNX_APCI_READ);
    /* A_Memory_Read (APCI 8) and runts are not group-value communication */
    assert_false(knx_apdu_parse((const uint8_t[]){ 0x02, 0x00 }, 2, &a));
    assert_int_equal(a.apci, KNX_APCI_OTHER);
    assert_false(knx_apdu_parse((const uint8_t[]){ 0x00 }, 1, &a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_addresses),
        cmocka_unit_test(test_individual_addresses),
        cmocka_unit_test(test_apdu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
