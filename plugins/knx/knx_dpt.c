/*
 * KNX datapoint type codecs: DPT name parsing and payload <-> value
 * conversion for the types listed in knx_dpt.h. Pure functions.
 *
 * Byte layouts follow the KNX specification, volume 3/7/2 (Datapoint Types);
 * all multi-byte values are big-endian on the wire.
 */
#include "knx_dpt.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- names --------------------------------------------------------------- */

/* Parses 1..5 decimal digits at *p into *out and advances *p. */
static bool parse_num(const char **p, unsigned *out)
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

int knx_dpt_parse(const char *name, knx_dpt_t *out)
{
    if (!name || !out)
        return KNX_DPT_EINVALID;
    const char *p = name;
    bool dpst = false;
    if (strncasecmp(p, "DPST", 4) == 0) {
        dpst = true;
        p += 4;
    } else if (strncasecmp(p, "DPT", 3) == 0) {
        p += 3;
    }
    if (p != name && (*p == '-' || *p == ' ' || *p == ':'))
        p++;
    unsigned main_no = 0, sub_no = 0;
    bool has_sub = false;
    if (!parse_num(&p, &main_no))
        return KNX_DPT_EINVALID;
    if (*p == '.' || *p == '-') {
        p++;
        if (!parse_num(&p, &sub_no))
            return KNX_DPT_EINVALID;
        has_sub = true;
    }
    if (*p != '\0' || (dpst && !has_sub))
        return KNX_DPT_EINVALID;

    switch (main_no) {
    case 1: case 2: case 3: case 5: case 6: case 7: case 8: case 9:
    case 12: case 13: case 14: case 20:
        break;
    case 10: case 11: case 17: case 18:
        if (sub_no != 0 && sub_no != 1)
            return KNX_DPT_EUNSUPPORTED;
        sub_no = 1;
        break;
    case 16:
        if (sub_no > 1)
            return KNX_DPT_EUNSUPPORTED;
        break;
    case 232:
        if (sub_no != 0 && sub_no != 600)
            return KNX_DPT_EUNSUPPORTED;
        sub_no = 600;
        break;
    default:
        return KNX_DPT_EUNSUPPORTED;
    }
    out->main = (uint16_t)main_no;
    out->sub = (uint16_t)sub_no;
    return KNX_DPT_OK;
}

char *knx_dpt_format(knx_dpt_t dpt, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%03u", (unsigned)dpt.main, (unsigned)dpt.sub);
    return buf;
}

knx_vkind_t knx_dpt_kind(knx_dpt_t dpt)
{
    switch (dpt.main) {
    case 1: return KNX_VK_BOOL;
    case 5: return (dpt.sub == 1 || dpt.sub == 3) ? KNX_VK_DOUBLE : KNX_VK_INT;
    case 9: return KNX_VK_DOUBLE;
    case 14: return KNX_VK_FLOAT;
    case 10: case 11: case 16: return KNX_VK_TEXT;
    case 20: return KNX_VK_ENUM;
    case 232: return KNX_VK_RGB;
    default: return KNX_VK_INT;
    }
}

size_t knx_dpt_size(knx_dpt_t dpt)
{
    switch (dpt.main) {
    case 1: case 2: case 3: return 0;
    case 5: case 6: case 17: case 18: case 20: return 1;
    case 7: case 8: case 9: return 2;
    case 10: case 11: case 232: return 3;
    case 12: case 13: case 14: return 4;
    case 16: return 14;
    default: return 0;
    }
}

const char *knx_dpt_strerror(int err)
{
    switch (err) {
    case KNX_DPT_OK: return "success";
    case KNX_DPT_EUNSUPPORTED: return "unsupported datapoint type";
    case KNX_DPT_ELENGTH: return "payload length does not match the datapoint type";
    case KNX_DPT_EINVALID: return "payload is not a valid value of the datapoint type";
    case KNX_DPT_ERANGE: return "value out of range for the datapoint type";
    case KNX_DPT_EKIND: return "value has the wrong type for the datapoint type";
    default: return "unknown error";
    }
}

/* ---- helpers --------------------------------------------------------------- */

static bool supported(knx_dpt_t dpt)
{
    char name[16];
    knx_dpt_t check;
    knx_dpt_format(dpt, name, sizeof name);
    return knx_dpt_parse(name, &check) == KNX_DPT_OK && check.main == dpt.main && check.sub == dpt.sub;
}

/* Rounds to two decimals: what 5.001/5.003/9.x can resolve. */
static double round2(double v)
{
    return round(v * 100.0) / 100.0;
}

static int val_as_int(const knx_val_t *in, int64_t *out)
{
    switch (in->kind) {
    case KNX_VK_BOOL: *out = in->b ? 1 : 0; return KNX_DPT_OK;
    case KNX_VK_INT: case KNX_VK_ENUM: *out = in->i; return KNX_DPT_OK;
    case KNX_VK_DOUBLE: case KNX_VK_FLOAT:
        if (!isfinite(in->d) || in->d != floor(in->d))
            return KNX_DPT_EKIND;
        if (in->d < -9.2e18 || in->d > 9.2e18)
            return KNX_DPT_ERANGE;
        *out = (int64_t)in->d;
        return KNX_DPT_OK;
    default: return KNX_DPT_EKIND;
    }
}

static int val_as_double(const knx_val_t *in, double *out)
{
    switch (in->kind) {
    case KNX_VK_BOOL: *out = in->b ? 1.0 : 0.0; return KNX_DPT_OK;
    case KNX_VK_INT: case KNX_VK_ENUM: *out = (double)in->i; return KNX_DPT_OK;
    case KNX_VK_DOUBLE: case KNX_VK_FLOAT:
        if (!isfinite(in->d))
            return KNX_DPT_ERANGE;
        *out = in->d;
        return KNX_DPT_OK;
    default: return KNX_DPT_EKIND;
    }
}

static void put_be(uint8_t *out, uint64_t v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = (uint8_t)(v >> (8 * (n - 1 - k)));
}

static uint64_t get_be(const uint8_t *in, size_t n)
{
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++)
        v = (v << 8) | in[k];
    return v;
}

/* ---- 9.x: 2-byte float ------------------------------------------------------
 * MEEEEMMM MMMMMMMM: value = 0.01 * M * 2^E, M a 12-bit two's complement
 * mantissa (its sign bit is the top bit of the first byte), E 0..15.
 * 0x7FFF means "invalid data".
 */
static int f16_decode(const uint8_t *d, knx_val_t *out)
{
    if (d[0] == 0x7F && d[1] == 0xFF)
        return KNX_DPT_EINVALID;
    int m = ((d[0] & 0x07) << 8) | d[1];
    if (d[0] & 0x80)
        m -= 2048;
    int e = (d[0] >> 3) & 0x0F;
    out->kind = KNX_VK_DOUBLE;
    out->d = round2(0.01 * m * (double)(1 << e));
    return KNX_DPT_OK;
}

static int f16_encode(double v, uint8_t *out)
{
    double hundredths = round(v * 100.0);
    if (hundredths < -671088.64 * 100.0 - 0.5 || hundredths > 670760.96 * 100.0 + 0.5)
        return KNX_DPT_ERANGE;
    for (int e = 0; e <= 15; e++) {
        double m = round(hundredths / (double)(1 << e));
        if (m >= -2048.0 && m <= 2047.0) {
            int mi = (int)m;
            unsigned m12 = (unsigned)mi & 0xFFFu;
            out[0] = (uint8_t)(((m12 >> 4) & 0x80) | (unsigned)(e << 3) | ((m12 >> 8) & 0x07));
            out[1] = (uint8_t)(m12 & 0xFF);
            if (out[0] == 0x7F && out[1] == 0xFF) /* 670760.96 collides with "invalid" */
                return KNX_DPT_ERANGE;
            return KNX_DPT_OK;
        }
    }
    return KNX_DPT_ERANGE;
}

/* ---- 10.001 / 11.001 text forms ------------------------------------------- */

static const char *const day_names[8] = { "", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

/* Parses exactly two digits. */
static bool two_digits(const char *p, int *out)
{
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
        return false;
    *out = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

static int time_encode(const char *s, uint8_t *out)
{
    int day = 0, h, m, sec = 0;
    for (int k = 1; k <= 7; k++) {
        if (strncasecmp(s, day_names[k], 3) == 0 && s[3] == ' ') {
            day = k;
            s += 4;
            break;
        }
    }
    if (!two_digits(s, &h) || s[2] != ':' || !two_digits(s + 3, &m))
        return KNX_DPT_EKIND;
    if (s[5] == ':') {
        if (!two_digits(s + 6, &sec) || s[8] != '\0')
            return KNX_DPT_EKIND;
    } else if (s[5] != '\0') {
        return KNX_DPT_EKIND;
    }
    if (h > 23 || m > 59 || sec > 59)
        return KNX_DPT_ERANGE;
    out[0] = (uint8_t)((day << 5) | h);
    out[1] = (uint8_t)m;
    out[2] = (uint8_t)sec;
    return KNX_DPT_OK;
}

static int time_decode(const uint8_t *d, knx_val_t *out)
{
    int day = d[0] >> 5, h = d[0] & 0x1F, m = d[1] & 0x3F, s = d[2] & 0x3F;
    if (h > 23 || m > 59 || s > 59)
        return KNX_DPT_EINVALID;
    out->kind = KNX_VK_TEXT;
    if (day)
        snprintf(out->text, sizeof out->text, "%s %02d:%02d:%02d", day_names[day], h, m, s);
    else
        snprintf(out->text, sizeof out->text, "%02d:%02d:%02d", h, m, s);
    return KNX_DPT_OK;
}

static int date_encode(const char *s, uint8_t *out)
{
    int y_hi, y_lo, mon, day;
    if (!two_digits(s, &y_hi) || !two_digits(s + 2, &y_lo) || s[4] != '-' || !two_digits(s + 5, &mon) ||
        s[7] != '-' || !two_digits(s + 8, &day) || s[10] != '\0')
        return KNX_DPT_EKIND;
    int year = y_hi * 100 + y_lo;
    if (year < 1990 || year > 2089 || mon < 1 || mon > 12 || day < 1 || day > 31)
        return KNX_DPT_ERANGE;
    out[0] = (uint8_t)day;
    out[1] = (uint8_t)mon;
    out[2] = (uint8_t)(year % 100);
    return KNX_DPT_OK;
}

static int date_decode(const uint8_t *d, knx_val_t *out)
{
    int day = d[0] & 0x1F, mon = d[1] & 0x0F, yy = d[2] & 0x7F;
    if (day < 1 || mon < 1 || mon > 12 || yy > 99)
        return KNX_DPT_EINVALID;
    int year = yy >= 90 ? 1900 + yy : 2000 + yy;
    out->kind = KNX_VK_TEXT;
    snprintf(out->text, sizeof out->text, "%04d-%02d-%02d", year, mon, day);
    return KNX_DPT_OK;
}

/* ---- 16.x text ------------------------------------------------------------- */

static int text_decode(knx_dpt_t dpt, const uint8_t *d, size_t len, knx_val_t *out)
{
    size_t o = 0;
    for (size_t k = 0; k < len && d[k] != 0; k++) {
        uint8_t c = d[k];
        if (c < 0x80) {
            out->text[o++] = (char)c;
        } else if (dpt.sub == 1) { /* ISO 8859-1 → UTF-8 */
            out->text[o++] = (char)(0xC0 | (c >> 6));
            out->text[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            return KNX_DPT_EINVALID;
        }
    }
    out->text[o] = '\0';
    out->kind = KNX_VK_TEXT;
    return KNX_DPT_OK;
}

static int text_encode(knx_dpt_t dpt, const char *s, uint8_t *out)
{
    size_t n = 0;
    memset(out, 0, 14);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned cp;
        if (*p < 0x80) {
            cp = *p;
        } else if ((*p == 0xC2 || *p == 0xC3) && (p[1] & 0xC0) == 0x80) {
            cp = ((unsigned)(*p & 0x1F) << 6) | (p[1] & 0x3F);
            p++;
        } else {
            return KNX_DPT_ERANGE; /* outside Latin-1, or malformed UTF-8 */
        }
        if (cp > 0x7F && dpt.sub != 1)
            return KNX_DPT_ERANGE;
        if (n == 14)
            return KNX_DPT_ERANGE;
        out[n++] = (uint8_t)cp;
    }
    return KNX_DPT_OK;
}

/* ---- decode / encode --------------------------------------------------------- */

int knx_dpt_decode(knx_dpt_t dpt, const uint8_t *data, size_t len, knx_val_t *out)
{
    if (!supported(dpt))
        return KNX_DPT_EUNSUPPORTED;
    if (!data || !out)
        return KNX_DPT_EINVALID;
    memset(out, 0, sizeof *out);
    size_t size = knx_dpt_size(dpt);
    if (dpt.main == 16) {
        if (len < 1 || len > 14)
            return KNX_DPT_ELENGTH;
    } else if (len != (size ? size : 1)) {
        return KNX_DPT_ELENGTH;
    }
    out->kind = knx_dpt_kind(dpt);

    switch (dpt.main) {
    case 1:
        out->b = (data[0] & 0x01) != 0;
        return KNX_DPT_OK;
    case 2:
        out->i = data[0] & 0x03;
        return KNX_DPT_OK;
    case 3: {
        int step = data[0] & 0x07;
        out->i = step == 0 ? 0 : ((data[0] & 0x08) ? step : -step);
        return KNX_DPT_OK;
    }
    case 5:
        if (dpt.sub == 1)
            out->d = round2(data[0] * 100.0 / 255.0);
        else if (dpt.sub == 3)
            out->d = round2(data[0] * 360.0 / 255.0);
        else
            out->i = data[0];
        return KNX_DPT_OK;
    case 6:
        out->i = (int8_t)data[0];
        return KNX_DPT_OK;
    case 7:
        out->i = (int64_t)get_be(data, 2);
        return KNX_DPT_OK;
    case 8:
        out->i = (int16_t)get_be(data, 2);
        return KNX_DPT_OK;
    case 9:
        return f16_decode(data, out);
    case 10:
        return time_decode(data, out);
    case 11:
        return date_decode(data, out);
    case 12:
        out->i = (int64_t)get_be(data, 4);
        return KNX_DPT_OK;
    case 13:
        out->i = (int32_t)(uint32_t)get_be(data, 4);
        return KNX_DPT_OK;
    case 14: {
        uint32_t bits = (uint32_t)get_be(data, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f))
            return KNX_DPT_EINVALID;
        out->d = f;
        return KNX_DPT_OK;
    }
    case 16:
        return text_decode(dpt, data, len, out);
    case 17:
        out->i = data[0] & 0x3F;
        return KNX_DPT_OK;
    case 18:
        out->i = data[0] & 0xBF; /* bit 6 is reserved */
        return KNX_DPT_OK;
    case 20:
        out->i = data[0];
        return KNX_DPT_OK;
    case 232:
        memcpy(out->rgb, data, 3);
        return KNX_DPT_OK;
    default:
        return KNX_DPT_EUNSUPPORTED;
    }
}

/* Encodes an integer DPT after range checking. */
static int int_encode(const knx_val_t *in, int64_t lo, int64_t hi, uint8_t *out, size_t n)
{
    int64_t v;
    int r = val_as_int(in, &v);
    if (r != KNX_DPT_OK)
        return r;
    if (v < lo || v > hi)
        return KNX_DPT_ERANGE;
    put_be(out, (uint64_t)v, n);
    return KNX_DPT_OK;
}

int knx_dpt_encode(knx_dpt_t dpt, const knx_val_t *in, uint8_t *out, size_t *len)
{
    if (!supported(dpt))
        return KNX_DPT_EUNSUPPORTED;
    if (!in || !out || !len)
        return KNX_DPT_EINVALID;
    size_t size = knx_dpt_size(dpt);
    *len = size ? size : 1;
    int64_t v;
    double d;
    int r;

    switch (dpt.main) {
    case 1:
        return int_encode(in, 0, 1, out, 1);
    case 2:
        return int_encode(in, 0, 3, out, 1);
    case 3:
        if ((r = val_as_int(in, &v)) != KNX_DPT_OK)
            return r;
        if (v < -7 || v > 7)
            return KNX_DPT_ERANGE;
        out[0] = (uint8_t)(v > 0 ? (0x08 | v) : -v);
        return KNX_DPT_OK;
    case 5:
        if (dpt.sub == 1 || dpt.sub == 3) {
            double full = dpt.sub == 1 ? 100.0 : 360.0;
            if ((r = val_as_double(in, &d)) != KNX_DPT_OK)
                return r;
            if (d < 0.0 || d > full)
                return KNX_DPT_ERANGE;
            out[0] = (uint8_t)lround(d * 255.0 / full);
            return KNX_DPT_OK;
        }
        return int_encode(in, 0, 255, out, 1);
    case 6:
        return int_encode(in, -128, 127, out, 1);
    case 7:
        return int_encode(in, 0, 65535, out, 2);
    case 8:
        return int_encode(in, -32768, 32767, out, 2);
    case 9:
        if ((r = val_as_double(in, &d)) != KNX_DPT_OK)
            return r;
        return f16_encode(d, out);
    case 10:
        if (in->kind != KNX_VK_TEXT)
            return KNX_DPT_EKIND;
        return time_encode(in->text, out);
    case 11:
        if (in->kind != KNX_VK_TEXT)
            return KNX_DPT_EKIND;
        return date_encode(in->text, out);
    case 12:
        return int_encode(in, 0, 4294967295LL, out, 4);
    case 13:
        return int_encode(in, INT32_MIN, INT32_MAX, out, 4);
    case 14: {
        if ((r = val_as_double(in, &d)) != KNX_DPT_OK)
            return r;
        if (d > FLT_MAX || d < -FLT_MAX)
            return KNX_DPT_ERANGE;
        float f = (float)d;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        put_be(out, bits, 4);
        return KNX_DPT_OK;
    }
    case 16:
        if (in->kind != KNX_VK_TEXT)
            return KNX_DPT_EKIND;
        return text_encode(dpt, in->text, out);
    case 17:
        return int_encode(in, 0, 63, out, 1);
    case 18:
        if ((r = val_as_int(in, &v)) != KNX_DPT_OK)
            return r;
        if (!((v >= 0 && v <= 63) || (v >= 128 && v <= 191)))
            return KNX_DPT_ERANGE;
        out[0] = (uint8_t)v;
        return KNX_DPT_OK;
    case 20:
        return int_encode(in, 0, 255, out, 1);
    case 232:
        if (in->kind == KNX_VK_RGB) {
            memcpy(out, in->rgb, 3);
            return KNX_DPT_OK;
        }
        if (in->kind == KNX_VK_INT)
            return int_encode(in, 0, 0xFFFFFF, out, 3);
        return KNX_DPT_EKIND;
    default:
        return KNX_DPT_EUNSUPPORTED;
    }
}
