/*
 * linkgw plugin SDK — typed values.
 *
 * Copyright (c) the linkgw developers. Licensed under the MIT license.
 *
 * A value carries one of the TSL data types of Alibaba Cloud IoT Platform:
 * bool, int, float, double, text, enum, date, struct and array. Plugins build
 * values to report structured data (structs, arrays) and read the values the
 * host hands them in write and service requests.
 *
 * Ownership: a function that returns lgw_value_t * gives the caller a value it
 * must free with lgw_value_free() or hand to a function documented as "takes
 * ownership". Values passed to plugin callbacks as `const lgw_value_t *` are
 * borrowed: valid until the callback returns (copy them with lgw_value_copy()
 * to keep them longer).
 *
 * All functions here are pure data manipulation and may be called from any
 * thread, provided one value is not used by two threads at once.
 */
#ifndef LINKGW_VALUE_H
#define LINKGW_VALUE_H

#include <stdbool.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The data types of a value, named after the TSL types. */
typedef enum lgw_type {
    LGW_TYPE_BOOL = 1,   /**< true/false (TSL bool, sent as 0/1) */
    LGW_TYPE_INT = 2,    /**< signed 64-bit integer (TSL int is 32-bit; the core checks the range) */
    LGW_TYPE_FLOAT = 3,  /**< single precision (TSL float) */
    LGW_TYPE_DOUBLE = 4, /**< double precision (TSL double) */
    LGW_TYPE_TEXT = 5,   /**< UTF-8 text (TSL text) */
    LGW_TYPE_ENUM = 6,   /**< an enumeration key (TSL enum) */
    LGW_TYPE_DATE = 7,   /**< UTC milliseconds since the epoch (TSL date) */
    LGW_TYPE_STRUCT = 8, /**< named members, in insertion order (TSL struct) */
    LGW_TYPE_ARRAY = 9   /**< ordered elements (TSL array) */
} lgw_type_t;

/** Name of a type ("bool", "int" …, the TSL spelling), or "?" if unknown. */
LGW_HOST_API const char *lgw_type_name(lgw_type_t type);

/* ---- construction ----------------------------------------------------- */

/** New bool value. Returns NULL only when out of memory. */
LGW_HOST_API lgw_value_t *lgw_value_new_bool(bool v);
/** New int value. */
LGW_HOST_API lgw_value_t *lgw_value_new_int(int64_t v);
/** New float value. */
LGW_HOST_API lgw_value_t *lgw_value_new_float(float v);
/** New double value. */
LGW_HOST_API lgw_value_t *lgw_value_new_double(double v);
/** New text value; @p s (NUL-terminated UTF-8) is copied. NULL if @p s is NULL. */
LGW_HOST_API lgw_value_t *lgw_value_new_text(const char *s);
/** New text value from @p len bytes at @p s (need not be NUL-terminated). */
LGW_HOST_API lgw_value_t *lgw_value_new_text_n(const char *s, size_t len);
/** New enum value holding the key @p key. */
LGW_HOST_API lgw_value_t *lgw_value_new_enum(int32_t key);
/** New date value, @p utc_ms milliseconds since 1970-01-01T00:00:00Z. */
LGW_HOST_API lgw_value_t *lgw_value_new_date(int64_t utc_ms);
/** New, empty struct value. Add members with lgw_value_struct_set(). */
LGW_HOST_API lgw_value_t *lgw_value_new_struct(void);
/** New, empty array value. Add elements with lgw_value_array_append(). */
LGW_HOST_API lgw_value_t *lgw_value_new_array(void);

/**
 * Sets member @p name of struct @p s to @p member, replacing an existing member
 * of that name. Takes ownership of @p member in every case (it is freed on
 * error). Returns LGW_OK, LGW_EINVAL (NULL argument) or LGW_ETYPE (@p s is not
 * a struct).
 */
LGW_HOST_API int lgw_value_struct_set(lgw_value_t *s, const char *name, lgw_value_t *member);

/**
 * Appends @p elem to array @p a. Takes ownership of @p elem in every case.
 * Returns LGW_OK, LGW_EINVAL or LGW_ETYPE (@p a is not an array).
 */
LGW_HOST_API int lgw_value_array_append(lgw_value_t *a, lgw_value_t *elem);

/** Deep copy of @p v; NULL if @p v is NULL or memory is short. */
LGW_HOST_API lgw_value_t *lgw_value_copy(const lgw_value_t *v);

/** Frees @p v and everything it contains. NULL is a no-op. */
LGW_HOST_API void lgw_value_free(lgw_value_t *v);

/* ---- inspection ------------------------------------------------------- */

/** Type of @p v (0 if @p v is NULL). */
LGW_HOST_API lgw_type_t lgw_value_type(const lgw_value_t *v);

/** Reads a bool. LGW_ETYPE unless the value is a bool. */
LGW_HOST_API int lgw_value_get_bool(const lgw_value_t *v, bool *out);

/**
 * Reads an integer. Accepts int, enum, date and bool values (bool as 0/1).
 * LGW_ETYPE for any other type.
 */
LGW_HOST_API int lgw_value_get_int(const lgw_value_t *v, int64_t *out);

/**
 * Reads a number as double. Accepts float, double, int, enum, date and bool.
 * LGW_ETYPE for text, struct and array.
 */
LGW_HOST_API int lgw_value_get_double(const lgw_value_t *v, double *out);

/**
 * Reads text. @p *out is borrowed (valid while @p v lives and is not changed);
 * @p len, if not NULL, receives its length in bytes. LGW_ETYPE unless text.
 */
LGW_HOST_API int lgw_value_get_text(const lgw_value_t *v, const char **out, size_t *len);

/** Number of members of a struct or elements of an array; 0 for other types. */
LGW_HOST_API size_t lgw_value_count(const lgw_value_t *v);

/**
 * Member @p index (0-based, insertion order) of struct @p s; its name is
 * stored in @p *name if @p name is not NULL. NULL if out of range or not a struct.
 */
LGW_HOST_API const lgw_value_t *lgw_value_struct_at(const lgw_value_t *s, size_t index, const char **name);

/** Member @p name of struct @p s, or NULL. */
LGW_HOST_API const lgw_value_t *lgw_value_struct_get(const lgw_value_t *s, const char *name);

/** Element @p index of array @p a, or NULL. */
LGW_HOST_API const lgw_value_t *lgw_value_array_at(const lgw_value_t *a, size_t index);

/**
 * Writes a JSON rendering of @p v into @p buf (at most @p size bytes, always
 * NUL-terminated when @p size > 0) and returns the length the full rendering
 * needs, like snprintf. Meant for logs and debugging.
 */
LGW_HOST_API size_t lgw_value_to_string(const lgw_value_t *v, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* LINKGW_VALUE_H */
