/*
 * Conversions between typed values (lgw_value_t) and jansson JSON, for the
 * core modules that speak JSON (cloud link, store, TSL mapping).
 */
#ifndef LINKGW_CORE_VALUE_JSON_H
#define LINKGW_CORE_VALUE_JSON_H

#include <jansson.h>
#include <linkgw/value.h>

/**
 * New JSON rendering of @p v (new reference; NULL when out of memory or @p v
 * is NULL). bool → true/false, int/enum/date → integer, float/double → real
 * (non-finite → null), text → string, struct → object (insertion order kept),
 * array → array. The Alink wire form of bool (0/1) is the TSL layer's choice.
 */
json_t *gw_value_to_json(const lgw_value_t *v);

/**
 * New value from JSON without a type hint: true/false → bool, integer → int,
 * real → double, string → text, object → struct, array → array. NULL for
 * JSON null or when memory is short. The TSL layer converts with the model's
 * types instead where a model is known.
 */
lgw_value_t *gw_value_from_json(const json_t *j);

#endif
