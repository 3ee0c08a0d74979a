/* Internals of gw_tsl: strict number parsing, UTF-8 repair of messages (see tsl_internal.h). */
#include "tsl_internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool gw_tsl_num_int64(const char *s, int64_t *out)
{
    if (!s)
        return false;
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || !end || *end)
        return false;
    *out = (int64_t)v;
    return true;
}

bool gw_tsl_num_double(const char *s, double *out)
{
    if (!s)
        return false;
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return false;
    char *end = NULL;
    double v = strtod(s, &end);
    if (!end || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Decimal digits of @p u into the end of a buffer whose end is @p end; returns the first digit. */
static char *utoa_rev(uint64_t u, char *end)
{
    char *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return p;
}

size_t gw_tsl_num_fmt_int(int64_t v, char *buf)
{
    char t[24], *end = t + sizeof t;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v; /* INT64_MIN too */
    char *p = utoa_rev(u, end);
    if (v < 0)
        *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(buf, p, n);
    buf[n] = '\0';
    return n;
}

/* 5^0 .. 5^27 (5^27 < 2^63). */
static const uint64_t k_pow5[28] = {
    1ULL, 5ULL, 25ULL, 125ULL, 625ULL, 3125ULL, 15625ULL, 78125ULL, 390625ULL, 1953125ULL, 9765625ULL,
    48828125ULL, 244140625ULL, 1220703125ULL, 6103515625ULL, 30517578125ULL, 152587890625ULL, 762939453125ULL,
    3814697265625ULL, 19073486328125ULL, 95367431640625ULL, 476837158203125ULL, 2384185791015625ULL,
    11920928955078125ULL, 59604644775390625ULL, 298023223876953125ULL, 1490116119384765625ULL,
    7450580596923828125ULL };

/* 10^0 .. 10^17. */
static const uint64_t k_pow10u[18] = { 1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
                                       100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
                                       1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
                                       1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL };

typedef unsigned __int128 u128;

/*
 * @p a (positive, normal, mantissa f * 2^e with 2^52 < f < 2^53) times 10^d,
 * rounded half-even to an integer: exactly, in 128-bit integers, as
 * f * 5^d * 2^(d+e). *twice gets 2 * f * 5^d and *s the shift -(d+e)
 * (1..64, checked by the caller) for the round-trip test.
 */
static uint64_t scaled_round(uint64_t f, int e, int d, u128 *twice, int *s)
{
    u128 p = (u128)f * k_pow5[d];
    int sh = -(d + e);
    u128 q = p >> sh, rem = p & (((u128)1 << sh) - 1), half = (u128)1 << (sh - 1);
    if (rem > half || (rem == half && (q & 1)))
        q++;
    *twice = p << 1;
    *s = sh;
    return (uint64_t)q;
}

/*
 * The exact path for 1e-4 <= |v| < 1e15, where %g prints fixed notation: for
 * n = 15, 16, 17 significant digits, the correctly rounded n-digit decimal
 * m / 10^d of v (computed exactly with 128-bit integers, no printf), taking
 * the first n whose decimal reads back (strtod, round-half-even) as v — also
 * decided exactly: |m / 10^d - v| < ulp / 2, i.e. |m * 2^(s+1) - 2 f 5^d| <
 * 5^d. With 15 digits this is already the shortest text when one of at most
 * 15 digits exists (a double carries 15.95 digits), so the result, trailing
 * zeros dropped, is what %.15g / %.16g / %.17g print. Returns the length, 0
 * when not applicable (out of range, or a power of two, whose ulp below is
 * half the one above).
 */
static size_t fmt_fixed(double v, char *buf)
{
    double a = fabs(v);
    if (!(a >= 1.0001e-4 && a < 9.999e14))
        return 0;
    int e2;
    double fr = frexp(a, &e2); /* a = fr * 2^e2, 0.5 <= fr < 1 */
    uint64_t f = (uint64_t)ldexp(fr, 53);
    int e = e2 - 53;
    if (f == (1ULL << 52))
        return 0;
    /* decimal exponent X (10^X <= a < 10^(X+1)), estimated, corrected below */
    int x = (int)floor((e2 - 1) * 0.30102999566398120);
    uint64_t m = 0;
    int d = 0;
    for (int n = 15; n <= 17; n++) {
        u128 twice;
        int s;
        for (int tries = 0;; tries++) {
            d = n - 1 - x;
            if (d < 0 || d > 27 || tries > 3 || -(d + e) < 1 || -(d + e) > 64)
                return 0; /* never in range; the 128-bit arithmetic needs these */
            m = scaled_round(f, e, d, &twice, &s);
            if (m < k_pow10u[n - 1] && m != 0) {
                x--;
                continue;
            }
            if (m > k_pow10u[n]) {
                x++;
                continue;
            }
            break;
        }
        if (m == k_pow10u[n]) { /* rounded up to the next power of ten: one digit fewer */
            m /= 10;
            d--;
            if (d < 0)
                return 0;
        }
        if (n == 17 || s + 1 + 57 > 127)
            break; /* 17 digits always read back */
        u128 lhs = (u128)m << (s + 1);
        u128 diff = lhs > twice ? lhs - twice : twice - lhs;
        u128 half_ulp = k_pow5[d];
        if (diff < half_ulp || (diff == half_ulp && !(f & 1)))
            break;
    }
    while (d > 0 && m % 10 == 0) { /* %g drops trailing zeros */
        m /= 10;
        d--;
    }
    char t[24], *end = t + sizeof t;
    char *p = utoa_rev(m, end);
    size_t digits = (size_t)(end - p);
    char *o = buf;
    if (v < 0)
        *o++ = '-';
    if (digits <= (size_t)d) { /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (size_t z = digits; z < (size_t)d; z++)
            *o++ = '0';
        memcpy(o, p, digits);
        o += digits;
    } else {
        memcpy(o, p, digits - (size_t)d);
        o += digits - (size_t)d;
        *o++ = '.';
        if (d == 0) {
            *o++ = '0';
        } else {
            memcpy(o, end - d, (size_t)d);
            o += d;
        }
    }
    *o = '\0';
    return (size_t)(o - buf);
}

size_t gw_tsl_num_fmt_real(double v, char *buf)
{
    if (v == 0) {
        memcpy(buf, signbit(v) ? "-0.0" : "0.0", signbit(v) ? 5 : 4);
        return signbit(v) ? 4 : 3;
    }
    size_t n = fmt_fixed(v, buf);
    if (n)
        return n;
    /* With 15 significant digits %g already prints the shortest text when that has at
     * most 15 (a double carries 15.95 digits), except for subnormals, which carry fewer:
     * for them try from one digit up (5e-324). */
    int prec = fabs(v) < DBL_MIN ? 1 : 15;
    int len = snprintf(buf, 32, "%.*g", prec, v);
    while (prec < 17 && strtod(buf, NULL) != v)
        len = snprintf(buf, 32, "%.*g", ++prec, v);
    if (!strpbrk(buf, ".eEn")) { /* "1e+15" has its exponent; a bare "20" gets ".0" */
        buf[len++] = '.';
        buf[len++] = '0';
        buf[len] = '\0';
    }
    return (size_t)len;
}

const char *gw_tsl_num_str(double v, char *buf)
{
    size_t n = gw_tsl_num_fmt_real(v, buf);
    if (n > 2 && buf[n - 2] == '.' && buf[n - 1] == '0') /* without the ".0" a real gets in JSON: "20" */
        buf[n - 2] = '\0';
    return buf;
}

bool gw_tsl_num_on_step(double v, double base, double step, double rel_eps)
{
    if (!(step > 0))
        return true;
    double k = nearbyint((v - base) / step);
    if (!isfinite(k))
        return false;
    double allowed = step * 1e-6 + (fabs(v) + fabs(base)) * rel_eps;
    return fabs((v - base) - k * step) <= allowed;
}

/* Decimal places of @p x, up to 12 (0.01 → 2, 0.5 → 1, 5 → 0). */
static int decimal_places(double x)
{
    double p = 1.0;
    for (int d = 0; d < 12; d++, p *= 10.0)
        if (fabs(x * p - nearbyint(x * p)) <= 1e-9 * fabs(x * p) + 1e-9)
            return d;
    return 12;
}

double gw_tsl_num_snap(double v, double base, double step)
{
    if (!(step > 0) || !isfinite(v))
        return v;
    double k = nearbyint((v - base) / step);
    double q = base + k * step;
    if (!isfinite(q))
        return v;
    int dec = decimal_places(step), dec_base = decimal_places(base);
    double p = pow(10.0, dec > dec_base ? dec : dec_base);
    double r = nearbyint(q * p) / p;
    if (!isfinite(r))
        return q;
    return r == 0.0 ? copysign(0.0, v) : r; /* zero keeps the sign it came with */
}

void gw_tsl_utf8_fix(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (p && *p) {
        size_t need;
        if (*p < 0x80) {
            p++;
            continue;
        } else if (*p >= 0xc2 && *p <= 0xdf) {
            need = 1;
        } else if (*p >= 0xe0 && *p <= 0xef) {
            need = 2;
        } else if (*p >= 0xf0 && *p <= 0xf4) {
            need = 3;
        } else {
            *p++ = '?';
            continue;
        }
        size_t k = 1;
        while (k <= need && (p[k] & 0xc0) == 0x80)
            k++;
        if (k <= need) { /* truncated or broken sequence */
            for (size_t i = 0; i < k; i++)
                p[i] = '?';
            p += k;
        } else {
            p += need + 1;
        }
    }
}
