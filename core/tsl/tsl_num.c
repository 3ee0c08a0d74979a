/* Internals of gw_tsl: strict number parsing, UTF-8 repair of messages (see tsl_internal.h). */
#include "tsl_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

const char *gw_tsl_num_str(double v, char *buf)
{
    snprintf(buf, 32, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, 32, "%.17g", v);
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
