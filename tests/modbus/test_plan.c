/* Unit tests of plugins/modbus/mb_plan.c: coalescing points into requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mb_plan.h"

static const mb_plan_limits_t LIM = {.max_gap = 4, .max_regs = 125, .max_bits = 2000};

static void test_contiguous_and_unsorted(void **state)
{
    (void)state;
    mb_span_t s[] = {{MB_TABLE_HOLDING, 2, 2, 0}, {MB_TABLE_HOLDING, 0, 1, 1}, {MB_TABLE_HOLDING, 1, 1, 2}};
    mb_block_t b[3];
    assert_int_equal(mb_plan(s, 3, &LIM, b), 1);
    assert_int_equal(b[0].address, 0);
    assert_int_equal(b[0].count, 4);
    assert_int_equal(b[0].first, 0);
    assert_int_equal(b[0].n, 3);
    assert_int_equal(s[0].point, 1); /* sorted by address */
    assert_int_equal(s[2].point, 0);
}

static void test_gap(void **state)
{
    (void)state;
    /* hole of 4 (addresses 1..4) joins; hole of 5 (6..10) splits */
    mb_span_t s[] = {{MB_TABLE_INPUT, 0, 1, 0}, {MB_TABLE_INPUT, 5, 1, 1}, {MB_TABLE_INPUT, 11, 1, 2}};
    mb_block_t b[3];
    assert_int_equal(mb_plan(s, 3, &LIM, b), 2);
    assert_int_equal(b[0].address, 0);
    assert_int_equal(b[0].count, 6);
    assert_int_equal(b[0].n, 2);
    assert_int_equal(b[1].address, 11);
    assert_int_equal(b[1].count, 1);
    mb_plan_limits_t nogap = LIM;
    nogap.max_gap = 0;
    mb_span_t t[] = {{MB_TABLE_INPUT, 0, 1, 0}, {MB_TABLE_INPUT, 1, 1, 1}, {MB_TABLE_INPUT, 3, 1, 2}};
    assert_int_equal(mb_plan(t, 3, &nogap, b), 2);
}

static void test_register_limit(void **state)
{
    (void)state;
    mb_span_t s[130];
    mb_block_t b[130];
    for (int i = 0; i < 130; i++)
        s[i] = (mb_span_t){MB_TABLE_HOLDING, (uint16_t)i, 1, (uint32_t)i};
    assert_int_equal(mb_plan(s, 130, &LIM, b), 2);
    assert_int_equal(b[0].count, 125);
    assert_int_equal(b[1].address, 125);
    assert_int_equal(b[1].count, 5);
    /* a 2-register value never straddles the limit */
    mb_plan_limits_t wide = LIM;
    wide.max_gap = 200;
    mb_span_t f[] = {{MB_TABLE_HOLDING, 0, 1, 0}, {MB_TABLE_HOLDING, 124, 2, 1}};
    assert_int_equal(mb_plan(f, 2, &wide, b), 2);
    assert_int_equal(b[1].address, 124);
    assert_int_equal(b[1].count, 2);
    mb_span_t g[] = {{MB_TABLE_HOLDING, 0, 1, 0}, {MB_TABLE_HOLDING, 123, 2, 1}};
    assert_int_equal(mb_plan(g, 2, &wide, b), 1);
    assert_int_equal(b[0].count, 125);
}

static void test_bit_limit_and_tables(void **state)
{
    (void)state;
    mb_span_t s[] = {{MB_TABLE_COIL, 0, 1, 0},     {MB_TABLE_COIL, 1999, 1, 1},   {MB_TABLE_COIL, 2000, 1, 2},
                     {MB_TABLE_DISCRETE, 0, 1, 3}, {MB_TABLE_HOLDING, 0, 1, 4},   {MB_TABLE_INPUT, 0, 1, 5}};
    mb_block_t b[6];
    mb_plan_limits_t big = LIM;
    big.max_gap = 2000;
    /* tables never mix; coils 0..1999 fit 2000 bits, 2000 does not */
    assert_int_equal(mb_plan(s, 6, &big, b), 5);
    assert_int_equal(b[0].table, MB_TABLE_COIL);
    assert_int_equal(b[0].count, 2000);
    assert_int_equal(b[1].address, 2000);
    assert_int_equal(b[2].table, MB_TABLE_DISCRETE);
    assert_int_equal(b[3].table, MB_TABLE_INPUT);
    assert_int_equal(b[4].table, MB_TABLE_HOLDING);
}

static void test_overlap(void **state)
{
    (void)state;
    /* bits of one register and a value overlapping it */
    mb_span_t s[] = {{MB_TABLE_HOLDING, 10, 1, 0}, {MB_TABLE_HOLDING, 10, 1, 1}, {MB_TABLE_HOLDING, 9, 2, 2}};
    mb_block_t b[3];
    assert_int_equal(mb_plan(s, 3, &LIM, b), 1);
    assert_int_equal(b[0].address, 9);
    assert_int_equal(b[0].count, 2);
    assert_int_equal(b[0].n, 3);
    assert_int_equal(mb_plan(s, 0, &LIM, b), 0);
}

static void test_small_max_regs(void **state)
{
    (void)state;
    mb_plan_limits_t lim = {.max_gap = 0, .max_regs = 4, .max_bits = 8};
    mb_span_t s[10];
    mb_block_t b[10];
    for (int i = 0; i < 10; i++)
        s[i] = (mb_span_t){MB_TABLE_HOLDING, (uint16_t)(100 + i), 1, (uint32_t)i};
    assert_int_equal(mb_plan(s, 10, &lim, b), 3);
    assert_int_equal(b[2].count, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous_and_unsorted), cmocka_unit_test(test_gap),
        cmocka_unit_test(test_register_limit),          cmocka_unit_test(test_bit_limit_and_tables),
        cmocka_unit_test(test_overlap),                 cmocka_unit_test(test_small_max_regs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
