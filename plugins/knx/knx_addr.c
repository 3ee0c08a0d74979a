/*
 * KNX address parsing and formatting (see knx_addr.h).
 */
#include "knx_addr.h"

#include <ctype.h>
#include <stdio.h>

/* Parses 1..5 decimal digits at *p (no sign, no blanks) and advances *p. */
static bool num(const char **p, unsigned *out)
{
    unsigned v = 0;
    int n = 0;
    while (isdigit((unsigned char)**p)) {
        if (++n > 5)
            return false;
        v = v * 10 + (unsigned)(**p - '0');
        (*p)++;
    }
    *out = v;
    return n > 0;
}

/* Splits "a<sep>b[<sep>c]" into up to three numbers; returns how many (0 = malformed). */
static int split(const char *s, char sep, unsigned part[3])
{
    int n = 0;
    const char *p = s;
    if (!s)
        return 0;
    for (;;) {
        if (n == 3 || !num(&p, &part[n]))
            return 0;
        n++;
        if (*p == '\0')
            return n;
        if (*p != sep)
            return 0;
        p++;
    }
}

bool knx_ga_parse(const char *s, uint16_t *out)
{
    unsigned part[3];
    unsigned v;
    switch (split(s, '/', part)) {
    case 3:
        if (part[0] > 31 || part[1] > 7 || part[2] > 255)
            return false;
        v = (part[0] << 11) | (part[1] << 8) | part[2];
        break;
    case 2:
        if (part[0] > 31 || part[1] > 2047)
            return false;
        v = (part[0] << 11) | part[1];
        break;
    default:
        return false;
    }
    if (v == 0)
        return false;
    *out = (uint16_t)v;
    return true;
}

char *knx_ga_format(uint16_t ga, char *buf, size_t size)
{
    snprintf(buf, size, "%u/%u/%u", (unsigned)(ga >> 11) & 0x1F, (unsigned)(ga >> 8) & 0x07, (unsigned)ga & 0xFF);
    return buf;
}

bool knx_ia_parse(const char *s, uint16_t *out)
{
    unsigned part[3];
    if (split(s, '.', part) != 3 || part[0] > 15 || part[1] > 15 || part[2] > 255)
        return false;
    *out = (uint16_t)((part[0] << 12) | (part[1] << 8) | part[2]);
    return true;
}

char *knx_ia_format(uint16_t ia, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u", (unsigned)(ia >> 12) & 0x0F, (unsigned)(ia >> 8) & 0x0F, (unsigned)ia & 0xFF);
    return buf;
}
