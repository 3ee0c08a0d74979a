/*
 * Internal layout of lgw_value_t (sdk/include/linkgw/value.h), shared by the
 * core files that build values without one allocation each (reports keep
 * scalar values inline in their arena) and by the JSON conversions.
 * Plugins never see this layout: the ABI only has the opaque pointer.
 */
#ifndef LINKGW_CORE_VALUE_INT_H
#define LINKGW_CORE_VALUE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linkgw/value.h>

/** One member of a struct (name set) or element of an array (name NULL). */
typedef struct gw_vitem {
    char *name;
    lgw_value_t *value;
} gw_vitem_t;

struct lgw_value {
    lgw_type_t type;
    union {
        bool b;
        int64_t i;          /* int, enum (int32 range), date */
        float f;
        double d;
        struct {
            char *s;        /* NUL-terminated; len excludes the NUL */
            size_t len;
        } text;
        struct {
            gw_vitem_t *items;
            uint32_t n, cap;    /* 32 bits keep the union (and lgw_value_t, 24 bytes) as small as text */
        } list;             /* struct and array */
    } u;
};

/** Frees what @p v owns (text, members) but not @p v itself. */
void gw_value_clear(lgw_value_t *v);

/**
 * Replaces what @p dst holds (a value whose content it owns, or an all-zero
 * lgw_value_t) by a deep copy of @p src, in place: scalars need no
 * allocation, text reuses @p dst's buffer when the new text is not longer.
 * Used by the hub's last values, which keep lgw_value_t inline. Returns
 * LGW_OK, LGW_EINVAL (NULL) or LGW_ENOMEM (then @p dst is unchanged).
 */
int gw_value_set_copy(lgw_value_t *dst, const lgw_value_t *src);

/** True when @p a and @p b have the same type and content. */
bool gw_value_equal(const lgw_value_t *a, const lgw_value_t *b);

#endif
