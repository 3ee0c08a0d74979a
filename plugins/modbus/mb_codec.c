/*
 * Modbus value codecs (see mb_codec.h for the byte-order rules). Pure
 * functions only; everything goes through a canonical "most significant byte
 * first" byte array so each order is implemented exactly once.
 */
#include "mb_codec.h"

#include <float.h>
#include <math.h>
#include <string.h>

const char *const mb_type_names[] = {
    "bool", "bit", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float32", "float64", "string", NULL};

const char *const mb_order_names[] = {"ABCD", "BADC", "CDAB", "DCBA", NULL};

unsigned mb_type_regs(mb_type_t type, unsigned str_regs)
{
    switch (type) {
    case MB_T_BOOL:
    case MB_T_BIT:
    case MB_T_INT16:
    case MB_T_UINT16: return 1;
    case MB_T_INT32:
    case MB_T_UINT32:
    case MB_T_FLOAT32: return 2;
    case MB_T_INT64:
    case MB_T_UINT64:
    case MB_T_FLOAT64: return 4;
    case MB_T_STRING: return str_regs;
    default: return 0;
    }
}

static bool order_swaps_bytes(mb_order_t o) { return o == MB_ORDER_BADC || o == MB_ORDER_DCBA; }
static bool order_swaps_words(mb_order_t o) { return o == MB_ORDER_CDAB || o == MB_ORDER_DCBA; }

void mb_regs_to_bytes(const uint16_t *regs, unsigned n, mb_order_t order, uint8_t *out)
{
    for (unsigned i = 0; i < n; i++) {
        /* register i carries value word w (word 0 = most significant) */
        unsigned w = order_swaps_words(order) ? n - 1 - i : i;
        uint8_t hi = (uint8_t)(regs[i] >> 8), lo = (uint8_t)regs[i];
        if (order_swaps_bytes(order)) {
            uint8_t t = hi;
            hi = lo;
            lo = t;
        }
        out[2 * w] = hi;
        out[2 * w + 1] = lo;
    }
}

void mb_bytes_to_regs(const uint8_t *in, unsigned n, mb_order_t order, uint16_t *regs)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned w = order_swaps_words(order) ? n - 1 - i : i;
        uint8_t hi = in[2 * w], lo = in[2 * w + 1];
        if (order_swaps_bytes(order)) {
            uint8_t t = hi;
            hi = lo;
            lo = t;
        }
        regs[i] = (uint16_t)((hi << 8) | lo);
    }
}

/* Big-endian bytes of an n-register value as an unsigned integer. */
static uint64_t bytes_to_u64(const uint8_t *b, unsigned nbytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < nbytes; i++)
        v = (v << 8) | b[i];
    return v;
}

static void u64_to_bytes(uint64_t v, unsigned nbytes, uint8_t *b)
{
    for (unsigned i = nbytes; i-- > 0;) {
        b[i] = (uint8_t)v;
        v >>= 8;
    }
}

int mb_decode_num(mb_type_t type, mb_order_t order, const uint16_t *regs, mb_num_t *out)
{
    unsigned n = mb_type_regs(type, 0);
    uint8_t b[8];
    if (type < MB_T_INT16 || type > MB_T_FLOAT64)
        return -1;
    mb_regs_to_bytes(regs, n, order, b);
    uint64_t u = bytes_to_u64(b, 2 * n);
    switch (type) {
    case MB_T_INT16: out->kind = MB_NUM_INT; out->i = (int16_t)(uint16_t)u; break;
    case MB_T_INT32: out->kind = MB_NUM_INT; out->i = (int32_t)(uint32_t)u; break;
    case MB_T_INT64: out->kind = MB_NUM_INT; out->i = (int64_t)u; break;
    case MB_T_UINT16:
    case MB_T_UINT32:
    case MB_T_UINT64: out->kind = MB_NUM_UINT; out->u = u; break;
    case MB_T_FLOAT32: {
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, sizeof f);
        out->kind = MB_NUM_FLOAT;
        out->f = f;
        break;
    }
    case MB_T_FLOAT64: {
        double d;
        memcpy(&d, &u, sizeof d);
        out->kind = MB_NUM_FLOAT;
        out->f = d;
        break;
    }
    default: return -1;
    }
    return 0;
}

/* Stores the low 2n bytes of @p u in @p regs. */
static void store_u64(uint64_t u, unsigned n, mb_order_t order, uint16_t *regs)
{
    uint8_t b[8];
    u64_to_bytes(u, 2 * n, b);
    mb_bytes_to_regs(b, n, order, regs);
}

int mb_encode_int(mb_type_t type, mb_order_t order, int64_t v, uint16_t *regs)
{
    int64_t lo, hi;
    switch (type) {
    case MB_T_INT16: lo = INT16_MIN; hi = INT16_MAX; break;
    case MB_T_UINT16: lo = 0; hi = UINT16_MAX; break;
    case MB_T_INT32: lo = INT32_MIN; hi = INT32_MAX; break;
    case MB_T_UINT32: lo = 0; hi = UINT32_MAX; break;
    case MB_T_INT64: lo = INT64_MIN; hi = INT64_MAX; break;
    case MB_T_UINT64: lo = 0; hi = INT64_MAX; break;
    default: return -1;
    }
    if (v < lo || v > hi)
        return -2;
    store_u64((uint64_t)v, mb_type_regs(type, 0), order, regs);
    return 0;
}

int mb_encode_uint(mb_type_t type, mb_order_t order, uint64_t v, uint16_t *regs)
{
    if (type == MB_T_UINT64) {
        store_u64(v, 4, order, regs);
        return 0;
    }
    if (v > (uint64_t)INT64_MAX)
        return type >= MB_T_INT16 && type <= MB_T_UINT64 ? -2 : -1;
    return mb_encode_int(type, order, (int64_t)v, regs);
}

int mb_encode_double(mb_type_t type, mb_order_t order, double v, uint16_t *regs)
{
    if (type == MB_T_FLOAT32) {
        if (!isfinite(v) || fabs(v) > FLT_MAX)
            return -2;
        float f = (float)v;
        uint32_t w;
        memcpy(&w, &f, sizeof w);
        store_u64(w, 2, order, regs);
        return 0;
    }
    if (type == MB_T_FLOAT64) {
        if (!isfinite(v))
            return -2;
        uint64_t w;
        memcpy(&w, &v, sizeof w);
        store_u64(w, 4, order, regs);
        return 0;
    }
    if (type < MB_T_INT16 || type > MB_T_UINT64)
        return -1;
    if (!isfinite(v))
        return -2;
    double r = nearbyint(v);
    /* 2^63 and beyond do not fit int64; uint64 gets its own branch */
    if (type == MB_T_UINT64 && r >= 9223372036854775808.0) {
        if (r >= 18446744073709551616.0)
            return -2;
        return mb_encode_uint(type, order, (uint64_t)r, regs);
    }
    if (r < -9223372036854775808.0 || r >= 9223372036854775808.0)
        return -2;
    return mb_encode_int(type, order, (int64_t)r, regs);
}

size_t mb_decode_string(mb_order_t order, const uint16_t *regs, unsigned n, char *out)
{
    size_t len = 0;
    bool swap = order_swaps_bytes(order);
    for (unsigned i = 0; i < n; i++) {
        uint8_t c[2] = {(uint8_t)(regs[i] >> 8), (uint8_t)regs[i]};
        if (swap) {
            uint8_t t = c[0];
            c[0] = c[1];
            c[1] = t;
        }
        for (int k = 0; k < 2; k++) {
            if (c[k] == 0)
                goto done;
            out[len++] = (c[k] >= 0x20 && c[k] < 0x7f) ? (char)c[k] : '?';
        }
    }
done:
    while (len > 0 && out[len - 1] == ' ')
        len--;
    out[len] = '\0';
    return len;
}

int mb_encode_string(mb_order_t order, const char *s, unsigned n, uint16_t *regs)
{
    size_t len = strlen(s);
    if (len > 2u * n)
        return -2;
    bool swap = order_swaps_bytes(order);
    for (unsigned i = 0; i < n; i++) {
        uint8_t hi = 2 * i < len ? (uint8_t)s[2 * i] : 0;
        uint8_t lo = 2 * i + 1 < len ? (uint8_t)s[2 * i + 1] : 0;
        regs[i] = swap ? (uint16_t)((lo << 8) | hi) : (uint16_t)((hi << 8) | lo);
    }
    return 0;
}
