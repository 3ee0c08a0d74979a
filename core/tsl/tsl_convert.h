/*
 * Conversions between the SDK's typed values (lgw_value_t) and the Alink JSON
 * of a TSL data type, both ways, with validation on the way.
 *
 * These functions call the lgw_value_* API (implemented by core/value.c);
 * a program that links gw_tsl and uses them must also link that
 * implementation (the daemon and host tests do). gw_tsl's other files do not
 * need it, so the emulator can link the validators alone.
 */
#ifndef GW_TSL_CONVERT_H
#define GW_TSL_CONVERT_H

#include <jansson.h>
#include <linkgw/value.h>
#include "tsl_validate.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * JSON → value. Validates @p j against @p t (same rules and @p flags as
 * gw_tsl_check_value(); codes in @p err) and, if valid, stores in @p *out a
 * new value of the TSL's own type: int → LGW_TYPE_INT, float → FLOAT,
 * double → DOUBLE, bool → BOOL, enum → ENUM, text → TEXT, date → DATE,
 * struct → STRUCT (members in model order), array → ARRAY. Lenient forms
 * ("30.5", true, "1") become their canonical value. Returns 0 or the code;
 * LGW_ENOMEM-like failures return 460 with "out of memory".
 */
int gw_tsl_value_from_json(const gw_tsl_datatype_t *t, const json_t *j, const char *path, unsigned flags,
                           lgw_value_t **out, gw_tsl_err_t *err);

/**
 * Value → canonical Alink JSON of type @p t, validated. Accepted value types:
 *  - int:    INT, ENUM, BOOL (0/1), or FLOAT/DOUBLE holding an integral value;
 *  - float/double: FLOAT, DOUBLE, INT (a float is written with the shortest
 *            decimal that reads back as the same float: 23.6f → 23.6);
 *  - bool:   BOOL, or INT/ENUM 0/1 → 0/1;
 *  - enum:   ENUM or INT → the integer key;
 *  - text:   TEXT;
 *  - date:   DATE or INT (ms) → decimal string "1524448722000";
 *  - struct: STRUCT with every member of the model (extra members: 6304);
 *  - array:  ARRAY of convertible elements.
 * Another value type gives the type's code ("int expected, got text").
 * Stores a new reference in @p *out; returns 0 or the code.
 */
int gw_tsl_value_to_json(const gw_tsl_datatype_t *t, const lgw_value_t *v, const char *path, unsigned flags,
                         json_t **out, gw_tsl_err_t *err);

/** The JSON real for a float: the shortest decimal that reads back as @p f (23.6f → 23.6). */
double gw_tsl_float_decimal(float f);

#ifdef __cplusplus
}
#endif
#endif
