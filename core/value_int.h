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
            size_t n, cap;
        } list;             /* struct and array */
    } u;
};

/** Frees what @p v owns (text, members) but not @p v itself. */
void gw_value_clear(lgw_value_t *v);

/**
 * Sets member @p name of struct @p s to a copy of @p src, reusing the
 * existing member's storage when both are scalars (no allocation in the
 * common "update the last value" case). Returns LGW_OK or LGW_ENOMEM/ETYPE.
 */
int gw_value_struct_put_copy(lgw_value_t *s, const char *name, const lgw_value_t *src);

/** True when @p a and @p b have the same type and content. */
bool gw_value_equal(const lgw_value_t *a, const lgw_value_t *b);

#endif
