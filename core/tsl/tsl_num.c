/* Strict number parsing for gw_tsl (see tsl_num.h). */
#include "tsl_internal.h"

#include <errno.h>
#include <math.h>
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
