/*
 * Unit tests of the number formatters in core/tsl/tsl_num.c: every text reads
 * back (strtod) as exactly the same double (sign of zero included), is the
 * shortest such text in %g's form (compared with a slow reference that tries
 * %.1g .. %.17g), and keeps a '.' or an exponent; integers over the whole
 * int64 range. Values: edge cases, the TSL step grids the uplink prints, and
 * a few hundred thousand random doubles (fixed seed) over every magnitude.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <stdbool.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsl_internal.h"

/*
 * The slow reference, in the form the uplink has always printed: %.15g, else
 * %.16g, else %.17g, the first that reads back (for subnormals from %.1g on:
 * they carry fewer digits), plus ".0" when it shows
 * neither '.' nor exponent. Returns the fewest significant digits any %.Ng
 * needs to read back (1..17), to check that the text is also the shortest.
 */
static int ref_real(double v, char *out)
{
    int min_prec = 17;
    char t[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) {
            min_prec = prec;
            break;
        }
    }
    for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) { /* subnormals: from 1 */
        snprintf(out, 40, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    if (!strpbrk(out, ".eEn"))
        strcat(out, ".0");
    return min_prec;
}

/* Significant digits of a number's text: from the first to the last non-zero digit of the mantissa. */
static int sig_digits(const char *s)
{
    int n = 0, pending_zeros = 0;
    bool started = false;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s == '0') {
            if (started)
                pending_zeros++;
            continue;
        }
        started = true;
        n += pending_zeros + 1;
        pending_zeros = 0;
    }
    return n ? n : 1;
}

static uint64_t bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static unsigned long checked;

static void check_real(double v)
{
    char got[40], want[40];
    memset(got, 'x', sizeof got);
    size_t n = gw_tsl_num_fmt_real(v, got);
    int min_prec = ref_real(v, want);
    if (n != strlen(got) || strcmp(got, want) != 0 || bits(strtod(got, NULL)) != bits(v) ||
        sig_digits(got) != min_prec) {
        print_error("value %a: got \"%s\" (len %zu), want \"%s\"\n", v, got, n, want);
        fail();
    }
    /* gw_tsl_num_str: the same without the forced ".0" */
    char s[40];
    gw_tsl_num_str(v, s);
    assert_true(bits(strtod(s, NULL)) == bits(v));
    checked++;
}

static void t_real_edges(void **state)
{
    (void)state;
    static const double v[] = { 0.0, 1.0, -1.0, 0.1, -0.1, 0.5, 20.0, 20.86, 1234.5678, 0.3, 0.1 + 0.2, 1.0 / 3, 2.0 / 3,
                                1e-4, 9.9999e-5, 1e-5, 0.00012, 1e15, 1e15 - 1, 999999999999999.9, 1e16, 1e17, 1e21, 1e22,
                                1e23, 1e300, 1e-300, DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN, DBL_TRUE_MIN, -DBL_TRUE_MIN,
                                DBL_EPSILON, 9007199254740992.0, 9007199254740993.0, 4503599627370496.5, 123456789012345.6,
                                0.000123456789012345, 5e-324, 2.2250738585072009e-308, 1.7976931348623157e308,
                                9223372036854775807.0, -9223372036854775808.0, 4294967295.0, 65535.5, 100.0, 1e14,
                                0.15, 0.25, 0.35, 2.675, 1.005, 8.5, 9.5, 0.95, -273.15, 3.4028234663852886e38 };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        check_real(v[i]);
        check_real(-v[i]);
        check_real(nextafter(v[i], INFINITY));
        check_real(nextafter(v[i], -INFINITY));
    }
    char b[40];
    assert_int_equal(gw_tsl_num_fmt_real(-0.0, b), 4);
    assert_string_equal(b, "-0.0");
    assert_int_equal(gw_tsl_num_fmt_real(0.0, b), 3);
    assert_string_equal(b, "0.0");
    gw_tsl_num_fmt_real(20.0, b);
    assert_string_equal(b, "20.0");
    gw_tsl_num_fmt_real(1e15, b);
    assert_string_equal(b, "1e+15");
    gw_tsl_num_fmt_real(1e-5, b);
    assert_string_equal(b, "1e-05");
    gw_tsl_num_fmt_real(0.0001, b);
    assert_string_equal(b, "0.0001");
    gw_tsl_num_fmt_real(0.1 + 0.2, b);
    assert_string_equal(b, "0.30000000000000004");
    gw_tsl_num_fmt_real(-273.15, b);
    assert_string_equal(b, "-273.15");
    assert_string_equal(gw_tsl_num_str(20.0, b), "20");
    assert_string_equal(gw_tsl_num_str(-0.0, b), "-0");
}

/* Values on decimal grids, as gw_tsl_num_snap leaves them: the uplink's usual case. */
static void t_real_grids(void **state)
{
    (void)state;
    static const double steps[] = { 1, 0.5, 0.1, 0.01, 0.001, 0.25, 0.05, 1e-6, 10, 0.3 };
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++)
        for (int k = -20000; k <= 20000; k += 7) {
            double v = gw_tsl_num_snap(k * steps[s] + steps[s] / 3, 0, steps[s]);
            check_real(v);
            check_real(v * 1000003.0);
        }
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void t_real_random(void **state)
{
    (void)state;
    for (int i = 0; i < 100000; i++) { /* any finite bit pattern */
        uint64_t u = next_rand();
        double v;
        memcpy(&v, &u, sizeof v);
        if (isfinite(v))
            check_real(v);
    }
    for (int i = 0; i < 100000; i++) { /* human magnitudes, few digits */
        int digits = (int)(next_rand() % 12), exp10 = (int)(next_rand() % 24) - 12;
        double m = (double)(next_rand() % 1000000000000ULL);
        m = fmod(m, pow(10, digits + 1));
        double v = m * pow(10, exp10);
        check_real((next_rand() & 1) ? -v : v);
    }
    for (int i = 0; i < 100000; i++) { /* uniform in [-1e6, 1e6] */
        double v = ((double)(next_rand() >> 11) / 9007199254740992.0 - 0.5) * 2e6;
        check_real(v);
    }
    print_message("checked %lu doubles\n", checked);
}

static void check_int(int64_t v)
{
    char got[24], want[24];
    size_t n = gw_tsl_num_fmt_int(v, got);
    snprintf(want, sizeof want, "%" PRId64, v);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
}

static void t_int(void **state)
{
    (void)state;
    static const int64_t v[] = { 0, 1, -1, 9, 10, -10, 99, 100, 1795777784208LL, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN,
                                 INT64_MAX - 1, INT64_MIN + 1, 9007199254740993LL };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        check_int(v[i]);
    for (int i = 0; i < 100000; i++) {
        uint64_t u = next_rand();
        check_int((int64_t)(u >> (u % 64)));
        check_int((int64_t)u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_real_edges),
        cmocka_unit_test(t_real_grids),
        cmocka_unit_test(t_real_random),
        cmocka_unit_test(t_int),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
