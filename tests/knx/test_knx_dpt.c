/*
 * Unit tests of the KNX datapoint codecs (plugins/knx/knx_dpt.c): every
 * supported DPT in both directions, with edge values and byte patterns known
 * from the KNX specification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "knx_dpt.h"

static knx_dpt_t dpt(const char *name)
{
    knx_dpt_t d = { 0, 0 };
    assert_int_equal(knx_dpt_parse(name, &d), KNX_DPT_OK);
    return d;
}

static knx_val_t vint(int64_t i) { knx_val_t v = { .kind = KNX_VK_INT, .i = i }; return v; }
static knx_val_t vdbl(double d) { knx_val_t v = { .kind = KNX_VK_DOUBLE, .d = d }; return v; }
static knx_val_t vbool(bool b) { knx_val_t v = { .kind = KNX_VK_BOOL, .b = b }; return v; }
static knx_val_t vtext(const char *s)
{
    knx_val_t v = { .kind = KNX_VK_TEXT };
    strncpy(v.text, s, sizeof v.text - 1);
    return v;
}

/* Encodes v with DPT name and checks the bytes. */
static void enc_ok(const char *name, knx_val_t v, const uint8_t *expect, size_t n)
{
    uint8_t out[KNX_DPT_MAX_BYTES];
    size_t len = 0;
    int r = knx_dpt_encode(dpt(name), &v, out, &len);
    if (r != KNX_DPT_OK)
        fail_msg("encode %s: %s", name, knx_dpt_strerror(r));
    assert_int_equal(len, n);
    assert_memory_equal(out, expect, n);
}

static void enc_err(const char *name, knx_val_t v, int err)
{
    uint8_t out[KNX_DPT_MAX_BYTES];
    size_t len = 0;
    assert_int_equal(knx_dpt_encode(dpt(name), &v, out, &len), err);
}

static knx_val_t dec_ok(const char *name, const uint8_t *data, size_t n)
{
    knx_val_t v;
    int r = knx_dpt_decode(dpt(name), data, n, &v);
    if (r != KNX_DPT_OK)
        fail_msg("decode %s: %s", name, knx_dpt_strerror(r));
    assert_int_equal(v.kind, knx_dpt_kind(dpt(name)));
    return v;
}

static void dec_err(const char *name, const uint8_t *data, size_t n, int err)
{
    knx_val_t v;
    assert_int_equal(knx_dpt_decode(dpt(name), data, n, &v), err);
}

#define B(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static void test_parse(void **state)
{
    (void)state;
    knx_dpt_t d;
    assert_int_equal(knx_dpt_parse("9.001", &d), KNX_DPT_OK);
    assert_int_equal(d.main, 9);
    assert_int_equal(d.sub, 1);
    assert_int_equal(knx_dpt_parse("DPT9.001", &d), KNX_DPT_OK);
    assert_int_equal(d.sub, 1);
    assert_int_equal(knx_dpt_parse("DPST-9-1", &d), KNX_DPT_OK);
    assert_int_equal(d.main * 1000 + d.sub, 9001);
    assert_int_equal(knx_dpt_parse("dpt-9", &d), KNX_DPT_OK);
    assert_int_equal(d.main * 1000 + d.sub, 9000);
    assert_int_equal(knx_dpt_parse("1", &d), KNX_DPT_OK);
    assert_int_equal(d.main * 1000 + d.sub, 1000);
    assert_int_equal(knx_dpt_parse("10", &d), KNX_DPT_OK);
    assert_int_equal(d.main * 1000 + d.sub, 10001);
    assert_int_equal(knx_dpt_parse("232", &d), KNX_DPT_OK);
    assert_int_equal(d.sub, 600);
    assert_int_equal(knx_dpt_parse("232.600", &d), KNX_DPT_OK);
    assert_int_equal(knx_dpt_parse("20.102", &d), KNX_DPT_OK);

    assert_int_equal(knx_dpt_parse("10.002", &d), KNX_DPT_EUNSUPPORTED);
    assert_int_equal(knx_dpt_parse("19.001", &d), KNX_DPT_EUNSUPPORTED);
    assert_int_equal(knx_dpt_parse("16.002", &d), KNX_DPT_EUNSUPPORTED);
    assert_int_equal(knx_dpt_parse("232.601", &d), KNX_DPT_EUNSUPPORTED);
    assert_int_equal(knx_dpt_parse("", &d), KNX_DPT_EINVALID);
    assert_int_equal(knx_dpt_parse("9.x", &d), KNX_DPT_EINVALID);
    assert_int_equal(knx_dpt_parse("9.001x", &d), KNX_DPT_EINVALID);
    assert_int_equal(knx_dpt_parse("DPST-9", &d), KNX_DPT_EINVALID);
    assert_int_equal(knx_dpt_parse("-9", &d), KNX_DPT_EINVALID);
    assert_int_equal(knx_dpt_parse("999999", &d), KNX_DPT_EINVALID);
    assert_int_equal(knx_dpt_parse(NULL, &d), KNX_DPT_EINVALID);

    char buf[16];
    assert_string_equal(knx_dpt_format(dpt("DPST-5-1"), buf, sizeof buf), "5.001");
}

static void test_sizes_and_kinds(void **state)
{
    (void)state;
    assert_int_equal(knx_dpt_size(dpt("1.001")), 0);
    assert_int_equal(knx_dpt_size(dpt("3.007")), 0);
    assert_int_equal(knx_dpt_size(dpt("5.001")), 1);
    assert_int_equal(knx_dpt_size(dpt("9.001")), 2);
    assert_int_equal(knx_dpt_size(dpt("10.001")), 3);
    assert_int_equal(knx_dpt_size(dpt("14.068")), 4);
    assert_int_equal(knx_dpt_size(dpt("16.000")), 14);
    assert_int_equal(knx_dpt_size(dpt("232.600")), 3);
    assert_int_equal(knx_dpt_kind(dpt("5.001")), KNX_VK_DOUBLE);
    assert_int_equal(knx_dpt_kind(dpt("5.010")), KNX_VK_INT);
    assert_int_equal(knx_dpt_kind(dpt("14.000")), KNX_VK_FLOAT);
    assert_int_equal(knx_dpt_kind(dpt("20.102")), KNX_VK_ENUM);
}

static void test_dpt1_2_3(void **state)
{
    (void)state;
    enc_ok("1.001", vbool(true), B(0x01));
    enc_ok("1.001", vbool(false), B(0x00));
    enc_ok("1.001", vint(1), B(0x01));
    enc_err("1.001", vint(2), KNX_DPT_ERANGE);
    enc_err("1.001", vtext("on"), KNX_DPT_EKIND);
    assert_true(dec_ok("1.001", B(0x01)).b);
    assert_false(dec_ok("1.001", B(0x00)).b);
    assert_false(dec_ok("1.001", B(0x3E)).b); /* only bit 0 counts */
    dec_err("1.001", B(0x01, 0x00), KNX_DPT_ELENGTH);

    enc_ok("2.001", vint(3), B(0x03));
    enc_ok("2.001", vint(2), B(0x02));
    enc_err("2.001", vint(4), KNX_DPT_ERANGE);
    enc_err("2.001", vint(-1), KNX_DPT_ERANGE);
    assert_int_equal(dec_ok("2.001", B(0x01)).i, 1);
    assert_int_equal(dec_ok("2.001", B(0x03)).i, 3);

    enc_ok("3.007", vint(1), B(0x09));   /* increase, 100 % */
    enc_ok("3.007", vint(7), B(0x0F));
    enc_ok("3.007", vint(-7), B(0x07));
    enc_ok("3.008", vint(0), B(0x00));   /* stop */
    enc_err("3.007", vint(8), KNX_DPT_ERANGE);
    enc_err("3.007", vint(-8), KNX_DPT_ERANGE);
    assert_int_equal(dec_ok("3.007", B(0x0B)).i, 3);
    assert_int_equal(dec_ok("3.007", B(0x03)).i, -3);
    assert_int_equal(dec_ok("3.007", B(0x08)).i, 0); /* break with c=1 */
}

static void test_dpt5(void **state)
{
    (void)state;
    enc_ok("5.001", vdbl(100.0), B(0xFF));
    enc_ok("5.001", vdbl(0.0), B(0x00));
    enc_ok("5.001", vdbl(50.0), B(0x80));
    enc_ok("5.001", vint(100), B(0xFF));
    enc_err("5.001", vdbl(100.01), KNX_DPT_ERANGE);
    enc_err("5.001", vdbl(-0.5), KNX_DPT_ERANGE);
    enc_err("5.001", vdbl(NAN), KNX_DPT_ERANGE);
    assert_true(dec_ok("5.001", B(0xFF)).d == 100.0);
    assert_true(dec_ok("5.001", B(0x00)).d == 0.0);
    assert_true(fabs(dec_ok("5.001", B(0x80)).d - 50.2) < 1e-9);
    /* every raw value survives decode → encode */
    for (int raw = 0; raw < 256; raw++) {
        uint8_t in = (uint8_t)raw, out[KNX_DPT_MAX_BYTES];
        size_t len;
        knx_val_t v = dec_ok("5.001", &in, 1);
        assert_int_equal(knx_dpt_encode(dpt("5.001"), &v, out, &len), KNX_DPT_OK);
        assert_int_equal(out[0], raw);
        v = dec_ok("5.003", &in, 1);
        assert_int_equal(knx_dpt_encode(dpt("5.003"), &v, out, &len), KNX_DPT_OK);
        assert_int_equal(out[0], raw);
    }
    enc_ok("5.003", vdbl(360.0), B(0xFF));
    enc_ok("5.003", vdbl(180.0), B(0x80));
    enc_err("5.003", vdbl(361.0), KNX_DPT_ERANGE);

    enc_ok("5.010", vint(255), B(0xFF));
    enc_ok("5.010", vint(0), B(0x00));
    enc_err("5.010", vint(256), KNX_DPT_ERANGE);
    enc_err("5.010", vint(-1), KNX_DPT_ERANGE);
    enc_err("5.010", vdbl(1.5), KNX_DPT_EKIND);
    enc_ok("5.010", vdbl(7.0), B(0x07));
    assert_int_equal(dec_ok("5.010", B(0xFE)).i, 254);
    dec_err("5.010", B(0x01, 0x02), KNX_DPT_ELENGTH);
}

static void test_dpt6_7_8(void **state)
{
    (void)state;
    enc_ok("6.010", vint(-128), B(0x80));
    enc_ok("6.010", vint(127), B(0x7F));
    enc_ok("6.001", vint(-1), B(0xFF));
    enc_err("6.010", vint(128), KNX_DPT_ERANGE);
    enc_err("6.010", vint(-129), KNX_DPT_ERANGE);
    assert_int_equal(dec_ok("6.010", B(0x80)).i, -128);
    assert_int_equal(dec_ok("6.010", B(0x7F)).i, 127);

    enc_ok("7.001", vint(65535), B(0xFF, 0xFF));
    enc_ok("7.001", vint(0x1234), B(0x12, 0x34));
    enc_ok("7.001", vint(0), B(0x00, 0x00));
    enc_err("7.001", vint(65536), KNX_DPT_ERANGE);
    enc_err("7.001", vint(-1), KNX_DPT_ERANGE);
    assert_int_equal(dec_ok("7.001", B(0xFF, 0xFF)).i, 65535);
    assert_int_equal(dec_ok("7.600", B(0x0F, 0xA0)).i, 4000);

    enc_ok("8.001", vint(-32768), B(0x80, 0x00));
    enc_ok("8.001", vint(32767), B(0x7F, 0xFF));
    enc_ok("8.001", vint(-1), B(0xFF, 0xFF));
    enc_err("8.001", vint(32768), KNX_DPT_ERANGE);
    assert_int_equal(dec_ok("8.001", B(0x80, 0x00)).i, -32768);
    assert_int_equal(dec_ok("8.001", B(0xFF, 0xFE)).i, -2);
    dec_err("8.001", B(0x01), KNX_DPT_ELENGTH);
}

static void test_dpt9(void **state)
{
    (void)state;
    enc_ok("9.001", vdbl(21.0), B(0x0C, 0x1A));
    enc_ok("9.001", vdbl(-30.0), B(0x8A, 0x24));
    enc_ok("9.001", vdbl(0.0), B(0x00, 0x00));
    enc_ok("9.001", vdbl(0.01), B(0x00, 0x01));
    enc_ok("9.001", vdbl(-0.01), B(0x87, 0xFF));
    enc_ok("9.001", vdbl(20.47), B(0x07, 0xFF));
    enc_ok("9.001", vdbl(20.48), B(0x0C, 0x00));
    enc_ok("9.001", vdbl(25.6), B(0x0D, 0x00));
    enc_ok("9.001", vdbl(-671088.64), B(0xF8, 0x00));
    enc_ok("9.001", vdbl(670433.28), B(0x7F, 0xFE));
    enc_ok("9.004", vint(1000), B(0x36, 0x1B)); /* 1000.32 lx: 1562.5 rounds up */
    enc_err("9.001", vdbl(670760.96), KNX_DPT_ERANGE); /* would be 0x7FFF, "invalid" */
    enc_err("9.001", vdbl(-671088.65), KNX_DPT_ERANGE);
    enc_err("9.001", vdbl(1e9), KNX_DPT_ERANGE);
    enc_err("9.001", vdbl(INFINITY), KNX_DPT_ERANGE);
    enc_err("9.001", vtext("21"), KNX_DPT_EKIND);

    assert_true(dec_ok("9.001", B(0x0C, 0x1A)).d == 21.0);
    assert_true(dec_ok("9.001", B(0x8A, 0x24)).d == -30.0);
    assert_true(dec_ok("9.001", B(0x0C, 0x65)).d == 22.5);
    assert_true(dec_ok("9.001", B(0x87, 0xFF)).d == -0.01);
    assert_true(dec_ok("9.001", B(0xF8, 0x00)).d == -671088.64);
    assert_true(dec_ok("9.001", B(0x7F, 0xFE)).d == 670433.28);
    dec_err("9.001", B(0x7F, 0xFF), KNX_DPT_EINVALID);
    dec_err("9.001", B(0x0C, 0x1A, 0x00), KNX_DPT_ELENGTH);
    /* encode → decode is exact to half a step of the mantissa (0.01 * 2^E / 2) */
    for (int k = -5000; k <= 5000; k += 7) {
        uint8_t out[KNX_DPT_MAX_BYTES];
        size_t len;
        knx_val_t v = vdbl(k / 100.0);
        assert_int_equal(knx_dpt_encode(dpt("9.001"), &v, out, &len), KNX_DPT_OK);
        knx_val_t back = dec_ok("9.001", out, len);
        assert_true(fabs(back.d - v.d) <= 0.0201); /* half a step: 0.02 at |v| > 40.96 */
    }
}

static void test_dpt10_11(void **state)
{
    (void)state;
    enc_ok("10.001", vtext("Mon 12:34:56"), B(0x2C, 0x22, 0x38));
    enc_ok("10.001", vtext("23:59:59"), B(0x17, 0x3B, 0x3B));
    enc_ok("10.001", vtext("sun 00:00:00"), B(0xE0, 0x00, 0x00));
    enc_ok("10.001", vtext("07:05"), B(0x07, 0x05, 0x00));
    enc_err("10.001", vtext("24:00:00"), KNX_DPT_ERANGE);
    enc_err("10.001", vtext("12:60:00"), KNX_DPT_ERANGE);
    enc_err("10.001", vtext("Xyz 12:00:00"), KNX_DPT_EKIND);
    enc_err("10.001", vtext("12:00:00 "), KNX_DPT_EKIND);
    enc_err("10.001", vint(3), KNX_DPT_EKIND);
    assert_string_equal(dec_ok("10.001", B(0x2C, 0x22, 0x38)).text, "Mon 12:34:56");
    assert_string_equal(dec_ok("10.001", B(0x17, 0x3B, 0x3B)).text, "23:59:59");
    assert_string_equal(dec_ok("10.001", B(0xF7, 0x00, 0x01)).text, "Sun 23:00:01");
    dec_err("10.001", B(0x18, 0x00, 0x00), KNX_DPT_EINVALID);
    dec_err("10.001", B(0x00, 0x3C, 0x00), KNX_DPT_EINVALID);

    enc_ok("11.001", vtext("2024-02-29"), B(0x1D, 0x02, 0x18));
    enc_ok("11.001", vtext("1990-01-01"), B(0x01, 0x01, 0x5A));
    enc_ok("11.001", vtext("2089-12-31"), B(0x1F, 0x0C, 0x59));
    enc_err("11.001", vtext("1989-12-31"), KNX_DPT_ERANGE);
    enc_err("11.001", vtext("2090-01-01"), KNX_DPT_ERANGE);
    enc_err("11.001", vtext("2024-13-01"), KNX_DPT_ERANGE);
    enc_err("11.001", vtext("2024-1-01"), KNX_DPT_EKIND);
    assert_string_equal(dec_ok("11.001", B(0x01, 0x01, 0x5A)).text, "1990-01-01");
    assert_string_equal(dec_ok("11.001", B(0x1F, 0x0C, 0x59)).text, "2089-12-31");
    assert_string_equal(dec_ok("11.001", B(0x0F, 0x06, 0x00)).text, "2000-06-15");
    dec_err("11.001", B(0x01, 0x0D, 0x00), KNX_DPT_EINVALID);
    dec_err("11.001", B(0x00, 0x01, 0x00), KNX_DPT_EINVALID);
    dec_err("11.001", B(0x01, 0x01, 0x64), KNX_DPT_EINVALID);
}

static void test_dpt12_13_14(void **state)
{
    (void)state;
    enc_ok("12.001", vint(4294967295LL), B(0xFF, 0xFF, 0xFF, 0xFF));
    enc_ok("12.001", vint(0x01020304), B(0x01, 0x02, 0x03, 0x04));
    enc_err("12.001", vint(4294967296LL), KNX_DPT_ERANGE);
    enc_err("12.001", vint(-1), KNX_DPT_ERANGE);
    assert_int_equal(dec_ok("12.001", B(0xFF, 0xFF, 0xFF, 0xFF)).i, 4294967295LL);

    enc_ok("13.001", vint(INT32_MIN), B(0x80, 0x00, 0x00, 0x00));
    enc_ok("13.001", vint(INT32_MAX), B(0x7F, 0xFF, 0xFF, 0xFF));
    enc_ok("13.010", vint(-1), B(0xFF, 0xFF, 0xFF, 0xFF));
    enc_err("13.001", vint((int64_t)INT32_MAX + 1), KNX_DPT_ERANGE);
    enc_err("13.001", vint((int64_t)INT32_MIN - 1), KNX_DPT_ERANGE);
    assert_int_equal(dec_ok("13.001", B(0x80, 0x00, 0x00, 0x00)).i, INT32_MIN);
    assert_int_equal(dec_ok("13.001", B(0xFF, 0xFF, 0xFF, 0xFE)).i, -2);

    enc_ok("14.068", vdbl(1.0), B(0x3F, 0x80, 0x00, 0x00));
    enc_ok("14.068", vdbl(-2.5), B(0xC0, 0x20, 0x00, 0x00));
    enc_ok("14.000", vint(0), B(0x00, 0x00, 0x00, 0x00));
    enc_err("14.068", vdbl(3.5e38), KNX_DPT_ERANGE);
    enc_err("14.068", vdbl(NAN), KNX_DPT_ERANGE);
    assert_true(dec_ok("14.068", B(0x3F, 0x80, 0x00, 0x00)).d == 1.0);
    assert_true(dec_ok("14.068", B(0x41, 0xAC, 0x00, 0x00)).d == 21.5);
    assert_true(dec_ok("14.068", B(0x7F, 0x7F, 0xFF, 0xFF)).d == (double)3.4028234663852886e38f);
    dec_err("14.068", B(0x7F, 0xC0, 0x00, 0x00), KNX_DPT_EINVALID); /* NaN */
    dec_err("14.068", B(0x7F, 0x80, 0x00, 0x00), KNX_DPT_EINVALID); /* +inf */
    dec_err("14.068", B(0x00, 0x00, 0x00), KNX_DPT_ELENGTH);
}

static void test_dpt16(void **state)
{
    (void)state;
    enc_ok("16.000", vtext("KNX is OK"),
           B('K', 'N', 'X', ' ', 'i', 's', ' ', 'O', 'K', 0, 0, 0, 0, 0));
    enc_ok("16.000", vtext(""), B(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    enc_ok("16.000", vtext("ABCDEFGHIJKLMN"),
           B('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N'));
    enc_err("16.000", vtext("ABCDEFGHIJKLMNO"), KNX_DPT_ERANGE);
    enc_err("16.000", vtext("\xC3\xA4"), KNX_DPT_ERANGE);              /* ä is not ASCII */
    enc_ok("16.001", vtext("\xC3\xA4\xC3\xB6\xC3\xBC"), B(0xE4, 0xF6, 0xFC, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    enc_err("16.001", vtext("\xE2\x82\xAC"), KNX_DPT_ERANGE);          /* € is not Latin-1 */
    enc_err("16.001", vtext("\xC3"), KNX_DPT_ERANGE);                  /* truncated UTF-8 */
    enc_err("16.000", vint(1), KNX_DPT_EKIND);

    assert_string_equal(dec_ok("16.000", B('K', 'N', 'X', 0, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0)).text, "KNX");
    assert_string_equal(dec_ok("16.000", B('h', 'i')).text, "hi"); /* short payload tolerated */
    assert_string_equal(dec_ok("16.001", B(0xE4, 'b', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).text, "\xC3\xA4" "b");
    knx_val_t full = dec_ok("16.001", B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                        0xFF, 0xFF));
    assert_int_equal(strlen(full.text), 28);
    dec_err("16.000", B(0xE4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), KNX_DPT_EINVALID);
    dec_err("16.000", B(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), KNX_DPT_ELENGTH);
}

static void test_dpt17_18_20_232(void **state)
{
    (void)state;
    enc_ok("17.001", vint(0), B(0x00));
    enc_ok("17.001", vint(63), B(0x3F));
    enc_err("17.001", vint(64), KNX_DPT_ERANGE);
    assert_int_equal(dec_ok("17.001", B(0x3F)).i, 63);
    assert_int_equal(dec_ok("17.001", B(0xC5)).i, 5); /* reserved bits ignored */

    enc_ok("18.001", vint(5), B(0x05));
    enc_ok("18.001", vint(128 + 5), B(0x85));
    enc_ok("18.001", vint(191), B(0xBF));
    enc_err("18.001", vint(64), KNX_DPT_ERANGE);
    enc_err("18.001", vint(192), KNX_DPT_ERANGE);
    assert_int_equal(dec_ok("18.001", B(0x85)).i, 133);
    assert_int_equal(dec_ok("18.001", B(0x3F)).i, 63);

    knx_val_t e = { .kind = KNX_VK_ENUM, .i = 4 };
    enc_ok("20.102", e, B(0x04));
    enc_ok("20.102", vint(255), B(0xFF));
    enc_err("20.102", vint(256), KNX_DPT_ERANGE);
    knx_val_t d = dec_ok("20.102", B(0x02));
    assert_int_equal(d.kind, KNX_VK_ENUM);
    assert_int_equal(d.i, 2);

    knx_val_t rgb = { .kind = KNX_VK_RGB, .rgb = { 255, 128, 0 } };
    enc_ok("232.600", rgb, B(0xFF, 0x80, 0x00));
    enc_ok("232.600", vint(0x123456), B(0x12, 0x34, 0x56));
    enc_err("232.600", vint(0x1000000), KNX_DPT_ERANGE);
    enc_err("232.600", vtext("#ffffff"), KNX_DPT_EKIND);
    knx_val_t c = dec_ok("232.600", B(0x01, 0x02, 0x03));
    assert_int_equal(c.rgb[0], 1);
    assert_int_equal(c.rgb[1], 2);
    assert_int_equal(c.rgb[2], 3);
    dec_err("232.600", B(0x01, 0x02), KNX_DPT_ELENGTH);
}

static void test_unsupported(void **state)
{
    (void)state;
    knx_dpt_t bad = { 19, 1 };
    knx_val_t v = vint(1), out;
    uint8_t buf[KNX_DPT_MAX_BYTES];
    size_t len;
    assert_int_equal(knx_dpt_encode(bad, &v, buf, &len), KNX_DPT_EUNSUPPORTED);
    assert_int_equal(knx_dpt_decode(bad, buf, 1, &out), KNX_DPT_EUNSUPPORTED);
    assert_string_equal(knx_dpt_strerror(KNX_DPT_ERANGE), "value out of range for the datapoint type");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_sizes_and_kinds),
        cmocka_unit_test(test_dpt1_2_3),
        cmocka_unit_test(test_dpt5),
        cmocka_unit_test(test_dpt6_7_8),
        cmocka_unit_test(test_dpt9),
        cmocka_unit_test(test_dpt10_11),
        cmocka_unit_test(test_dpt12_13_14),
        cmocka_unit_test(test_dpt16),
        cmocka_unit_test(test_dpt17_18_20_232),
        cmocka_unit_test(test_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
