/*
 * Unit tests of plugins/modbus/mb_codec.c: every type in every byte/word
 * order, decoded from and encoded to register patterns written out by hand
 * (the expected registers below are literals, not computed), plus strings,
 * bits and range errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mb_codec.h"

/* One value pattern (bytes most significant first) and how each order lays it out. */
typedef struct pattern {
    unsigned n;            /* registers */
    uint16_t regs[4][4];   /* [order][register], orders ABCD, BADC, CDAB, DCBA */
} pattern_t;

/* 0xFFFE */
static const pattern_t P16 = {1, {{0xFFFE}, {0xFEFF}, {0xFFFE}, {0xFEFF}}};
/* 0x1234 */
static const pattern_t P16b = {1, {{0x1234}, {0x3412}, {0x1234}, {0x3412}}};
/* 0xF8A432EB */
static const pattern_t P32 = {2, {{0xF8A4, 0x32EB}, {0xA4F8, 0xEB32}, {0x32EB, 0xF8A4}, {0xEB32, 0xA4F8}}};
/* 0x42F6E979 = 123.456f */
static const pattern_t P32F = {2, {{0x42F6, 0xE979}, {0xF642, 0x79E9}, {0xE979, 0x42F6}, {0x79E9, 0xF642}}};
/* 0xEEDDEF0B82167EEB = -1234567890123456789 */
static const pattern_t P64 = {4, {{0xEEDD, 0xEF0B, 0x8216, 0x7EEB},
                                  {0xDDEE, 0x0BEF, 0x1682, 0xEB7E},
                                  {0x7EEB, 0x8216, 0xEF0B, 0xEEDD},
                                  {0xEB7E, 0x1682, 0x0BEF, 0xDDEE}}};
/* 0xFEDCBA9876543210 */
static const pattern_t P64U = {4, {{0xFEDC, 0xBA98, 0x7654, 0x3210},
                                   {0xDCFE, 0x98BA, 0x5476, 0x1032},
                                   {0x3210, 0x7654, 0xBA98, 0xFEDC},
                                   {0x1032, 0x5476, 0x98BA, 0xDCFE}}};
/* 0x405EDD2F1A9FBE77 = 123.456 */
static const pattern_t P64F = {4, {{0x405E, 0xDD2F, 0x1A9F, 0xBE77},
                                   {0x5E40, 0x2FDD, 0x9F1A, 0x77BE},
                                   {0xBE77, 0x1A9F, 0xDD2F, 0x405E},
                                   {0x77BE, 0x9F1A, 0x2FDD, 0x5E40}}};

static void test_layout(void **state)
{
    (void)state;
    const uint8_t b32[4] = {0xF8, 0xA4, 0x32, 0xEB};
    for (int o = 0; o < MB_ORDER_COUNT_; o++) {
        uint8_t out[8];
        uint16_t regs[4];
        mb_regs_to_bytes(P32.regs[o], 2, (mb_order_t)o, out);
        assert_memory_equal(out, b32, 4);
        mb_bytes_to_regs(b32, 2, (mb_order_t)o, regs);
        assert_memory_equal(regs, P32.regs[o], 2 * sizeof(uint16_t));
    }
}

/* Decodes pattern @p p in every order as @p type and checks the integer. */
static void check_int(mb_type_t type, const pattern_t *p, int64_t expect)
{
    for (int o = 0; o < MB_ORDER_COUNT_; o++) {
        mb_num_t n;
        uint16_t regs[4] = {0};
        assert_int_equal(mb_type_regs(type, 0), p->n);
        assert_int_equal(mb_decode_num(type, (mb_order_t)o, p->regs[o], &n), 0);
        assert_int_equal(n.kind, MB_NUM_INT);
        assert_true(n.i == expect);
        assert_int_equal(mb_encode_int(type, (mb_order_t)o, expect, regs), 0);
        assert_memory_equal(regs, p->regs[o], p->n * sizeof(uint16_t));
    }
}

static void check_uint(mb_type_t type, const pattern_t *p, uint64_t expect)
{
    for (int o = 0; o < MB_ORDER_COUNT_; o++) {
        mb_num_t n;
        uint16_t regs[4] = {0};
        assert_int_equal(mb_decode_num(type, (mb_order_t)o, p->regs[o], &n), 0);
        assert_int_equal(n.kind, MB_NUM_UINT);
        assert_true(n.u == expect);
        assert_int_equal(mb_encode_uint(type, (mb_order_t)o, expect, regs), 0);
        assert_memory_equal(regs, p->regs[o], p->n * sizeof(uint16_t));
    }
}

static void check_float(mb_type_t type, const pattern_t *p, double expect)
{
    for (int o = 0; o < MB_ORDER_COUNT_; o++) {
        mb_num_t n;
        uint16_t regs[4] = {0};
        assert_int_equal(mb_decode_num(type, (mb_order_t)o, p->regs[o], &n), 0);
        assert_int_equal(n.kind, MB_NUM_FLOAT);
        assert_true(n.f == expect);
        assert_int_equal(mb_encode_double(type, (mb_order_t)o, expect, regs), 0);
        assert_memory_equal(regs, p->regs[o], p->n * sizeof(uint16_t));
    }
}

static void test_int16(void **s) { (void)s; check_int(MB_T_INT16, &P16, -2); check_int(MB_T_INT16, &P16b, 0x1234); }
static void test_uint16(void **s) { (void)s; check_uint(MB_T_UINT16, &P16, 65534); check_uint(MB_T_UINT16, &P16b, 0x1234); }
static void test_int32(void **s) { (void)s; check_int(MB_T_INT32, &P32, -123456789); }
static void test_uint32(void **s) { (void)s; check_uint(MB_T_UINT32, &P32, 4171510507u); }
static void test_int64(void **s) { (void)s; check_int(MB_T_INT64, &P64, -1234567890123456789LL); }
static void test_uint64(void **s) { (void)s; check_uint(MB_T_UINT64, &P64U, 18364758544493064720ULL); }
static void test_float32(void **s) { (void)s; check_float(MB_T_FLOAT32, &P32F, (double)123.456f); }
static void test_float64(void **s) { (void)s; check_float(MB_T_FLOAT64, &P64F, 123.456); }

static void test_string(void **state)
{
    (void)state;
    char out[16];
    const uint16_t abcd[3] = {0x4142, 0x4300, 0x5858};  /* "ABC", NUL ends it */
    const uint16_t badc[3] = {0x4241, 0x0043, 0x5858};
    assert_int_equal(mb_decode_string(MB_ORDER_ABCD, abcd, 3, out), 3);
    assert_string_equal(out, "ABC");
    assert_int_equal(mb_decode_string(MB_ORDER_CDAB, abcd, 3, out), 3); /* word order ignored */
    assert_string_equal(out, "ABC");
    assert_int_equal(mb_decode_string(MB_ORDER_BADC, badc, 3, out), 3);
    assert_string_equal(out, "ABC");
    assert_int_equal(mb_decode_string(MB_ORDER_DCBA, badc, 3, out), 3);
    assert_string_equal(out, "ABC");
    const uint16_t padded[3] = {0x4F4B, 0x2020, 0x2020}; /* "OK    " */
    assert_int_equal(mb_decode_string(MB_ORDER_ABCD, padded, 3, out), 2);
    assert_string_equal(out, "OK");
    const uint16_t junk[2] = {0x41FF, 0x0A42}; /* non-printable bytes */
    mb_decode_string(MB_ORDER_ABCD, junk, 2, out);
    assert_string_equal(out, "A??B");

    uint16_t regs[3];
    assert_int_equal(mb_encode_string(MB_ORDER_ABCD, "ABC", 3, regs), 0);
    const uint16_t enc_abcd[3] = {0x4142, 0x4300, 0x0000};
    assert_memory_equal(regs, enc_abcd, sizeof regs);
    assert_int_equal(mb_encode_string(MB_ORDER_DCBA, "ABC", 3, regs), 0);
    const uint16_t enc_dcba[3] = {0x4241, 0x0043, 0x0000};
    assert_memory_equal(regs, enc_dcba, sizeof regs);
    assert_int_equal(mb_encode_string(MB_ORDER_ABCD, "1234567", 3, regs), -2);
}

static void test_bits(void **state)
{
    (void)state;
    assert_true(mb_get_bit(0x8001, 0));
    assert_true(mb_get_bit(0x8001, 15));
    assert_false(mb_get_bit(0x8001, 7));
    assert_int_equal(mb_set_bit(0x0000, 3, true), 0x0008);
    assert_int_equal(mb_set_bit(0xFFFF, 15, false), 0x7FFF);
    assert_int_equal(mb_type_regs(MB_T_BIT, 0), 1);
    assert_int_equal(mb_type_regs(MB_T_STRING, 7), 7);
}

static void test_ranges(void **state)
{
    (void)state;
    uint16_t r[4];
    assert_int_equal(mb_encode_int(MB_T_INT16, MB_ORDER_ABCD, 32768, r), -2);
    assert_int_equal(mb_encode_int(MB_T_INT16, MB_ORDER_ABCD, -32769, r), -2);
    assert_int_equal(mb_encode_int(MB_T_UINT16, MB_ORDER_ABCD, -1, r), -2);
    assert_int_equal(mb_encode_int(MB_T_UINT16, MB_ORDER_ABCD, 65536, r), -2);
    assert_int_equal(mb_encode_int(MB_T_UINT32, MB_ORDER_ABCD, 4294967296LL, r), -2);
    assert_int_equal(mb_encode_int(MB_T_INT32, MB_ORDER_ABCD, 2147483648LL, r), -2);
    assert_int_equal(mb_encode_uint(MB_T_INT64, MB_ORDER_ABCD, 9223372036854775808ULL, r), -2);
    assert_int_equal(mb_encode_int(MB_T_FLOAT32, MB_ORDER_ABCD, 1, r), -1);
    /* doubles to integers round to nearest, then range-check */
    assert_int_equal(mb_encode_double(MB_T_INT16, MB_ORDER_ABCD, 32767.4, r), 0);
    assert_int_equal(r[0], 0x7FFF);
    assert_int_equal(mb_encode_double(MB_T_INT16, MB_ORDER_ABCD, 32767.6, r), -2);
    assert_int_equal(mb_encode_double(MB_T_UINT16, MB_ORDER_ABCD, 12.5, r), 0);
    assert_int_equal(r[0], 12); /* round half to even */
    assert_int_equal(mb_encode_double(MB_T_FLOAT32, MB_ORDER_ABCD, 1e39, r), -2);
    assert_int_equal(mb_encode_double(MB_T_FLOAT64, MB_ORDER_ABCD, 0.0 / 0.0, r), -2);
    assert_int_equal(mb_encode_double(MB_T_UINT64, MB_ORDER_ABCD, 18446744073709551615.0, r), -2);
    assert_int_equal(mb_encode_double(MB_T_STRING, MB_ORDER_ABCD, 1, r), -1);
    mb_num_t n;
    assert_int_equal(mb_decode_num(MB_T_STRING, MB_ORDER_ABCD, r, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),  cmocka_unit_test(test_int16),   cmocka_unit_test(test_uint16),
        cmocka_unit_test(test_int32),   cmocka_unit_test(test_uint32),  cmocka_unit_test(test_int64),
        cmocka_unit_test(test_uint64),  cmocka_unit_test(test_float32), cmocka_unit_test(test_float64),
        cmocka_unit_test(test_string),  cmocka_unit_test(test_bits),    cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
