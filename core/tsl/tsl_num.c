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

/* 10^0 .. 10^22: every one exact in binary64. */
static const double k_pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/*
 * The fast path: the fewest fraction digits d such that the decimal m / 10^d
 * reads back as @p v, with m an integer below 2^53. Both m and 10^d (d <= 22)
 * are exact doubles and IEEE division rounds correctly, so m / 10^d == v is
 * exactly "strtod of that text gives v" (Clinger's fast path), no strtod call
 * needed. Only used where %.Ng would print fixed notation (1e-4 <= |v| < 1e15),
 * so the text is the one %.Ng prints for the smallest N that round-trips.
 * Returns the length, 0 when the fast path does not apply.
 */
static size_t fmt_fixed(double v, char *buf)
{
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15))
        return 0;
    for (int d = 0; d <= 22; d++) {
        double scaled = a * k_pow10[d];
        if (scaled >= 9007199254740992.0) /* 2^53 */
            return 0;
        double m = nearbyint(scaled);
        if (m / k_pow10[d] != a)
            continue;
        char t[48], *end = t + sizeof t;
        char *p = utoa_rev((uint64_t)m, end);
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
    return 0;
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
    size_t n = fmt_fixed(v, buf);
    if (n) { /* without the ".0" a real gets in JSON: "20", as %g prints it */
        if (n > 2 && buf[n - 2] == '.' && buf[n - 1] == '0')
            buf[n - 2] = '\0';
        return buf;
    }
    int prec = fabs(v) < DBL_MIN ? 1 : 15; /* as in gw_tsl_num_fmt_real */
    snprintf(buf, 32, "%.*g", prec, v);
    while (prec < 17 && strtod(buf, NULL) != v)
        snprintf(buf, 32, "%.*g", ++prec, v);
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
