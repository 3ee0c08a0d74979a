/*
 * Validation of JSON values and Alink request parameters against a TSL
 * model. Every check returns 0 (GW_TSL_OK) when valid, otherwise the
 * platform's code (tsl_codes.h) and fills a gw_tsl_err_t with the same code,
 * the JSON path of the culprit and a human message, e.g.
 *   code 6306, path "Color.R", msg "Color.R: 300 is above max 255".
 *
 * Accepted forms (flags = 0, "lenient", what the platform tolerates):
 *  - int:    a JSON integer within 32 bits and specs.min..max, on the step grid
 *            counted from min (or 0); a JSON real with an integral value
 *            (5.0) and a decimal string ("5") are accepted too;
 *  - float/double: a JSON number (or a numeric string such as "30.5", as the
 *            platform sends in property set), finite, float within ±FLT_MAX,
 *            min..max, on the step grid from min (tolerance 1e-6 of a step plus
 *            rounding of the type); NaN and ±Inf can never pass;
 *  - bool:   0 or 1 (also true/false and "0"/"1");
 *  - enum:   an integer key of the specs (also its decimal string);
 *  - text:   a JSON string of at most specs.length BYTES (UTF-8);
 *  - date:   UTC milliseconds, a decimal string ("1524448722000", the
 *            platform's form) or a JSON integer, 0..253402300799999 (year 9999);
 *  - struct: a JSON object with every member, no unknown member (6304);
 *            a missing member is 6312; a bad member gives that member's code;
 *  - array:  a JSON array (6328 otherwise) of at most specs.size elements;
 *            too many elements or any invalid element is 6324.
 * GW_TSL_STRICT refuses the alternative forms (numeric strings, integral
 * reals for int, true/false for bool); GW_TSL_NO_STEP skips step checks.
 *
 * Thread-safe: reads the model only.
 */
#ifndef GW_TSL_VALIDATE_H
#define GW_TSL_VALIDATE_H

#include <jansson.h>
#include "tsl_codes.h"
#include "tsl_model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GW_TSL_STRICT 0x1u   /* only canonical JSON forms */
#define GW_TSL_NO_STEP 0x2u  /* do not check specs.step */

/** Outcome of a failed check. `msg` already starts with `path` when there is one. */
typedef struct gw_tsl_err {
    int code;       /* platform code, 0 if valid */
    char path[128]; /* "Temperature", "Color.R", "Samples[3]", "" for the whole request */
    char msg[256];  /* human message */
} gw_tsl_err_t;

/**
 * Checks one JSON value against data type @p t. @p path names the value in
 * messages (may be NULL or ""). @p err may be NULL.
 */
int gw_tsl_check_value(const gw_tsl_datatype_t *t, const json_t *v, const char *path, unsigned flags,
                       gw_tsl_err_t *err);

/** Checks the value of property @p id (6320 if the model has no such property). */
int gw_tsl_check_property(const gw_tsl_model_t *m, const char *id, const json_t *v, unsigned flags,
                          gw_tsl_err_t *err);

/**
 * Splits one entry of a property post's params: either {"value":v,"time":ms}
 * or the bare value v. An object whose keys are "value" and optionally
 * "time" is the wrapped form, unless property @p p is a struct with a member
 * named "value". Stores the value in @p *value (borrowed) and the time in
 * @p *time_ms (-1 when absent; a bad time is 6326). @p p may be NULL (then
 * the shape alone decides).
 */
int gw_tsl_post_entry(const gw_tsl_property_t *p, const json_t *entry, const json_t **value, int64_t *time_ms,
                      gw_tsl_err_t *err);

/**
 * Checks a `thing.event.property.post` params object: at most 200 entries
 * (6106), every identifier a property (6320), every value valid. Returns the
 * first error (the platform drops invalid properties and still answers 200;
 * callers that want that behaviour check entry by entry with
 * gw_tsl_post_entry() + gw_tsl_check_property()).
 */
int gw_tsl_check_property_post(const gw_tsl_model_t *m, const json_t *params, unsigned flags, gw_tsl_err_t *err);

/**
 * Checks the output data of event @p event (5160 if unknown): @p value is the
 * object of output parameters; unknown parameter 460, missing ones allowed.
 */
int gw_tsl_check_event_output(const gw_tsl_model_t *m, const char *event, const json_t *value, unsigned flags,
                              gw_tsl_err_t *err);

/** Checks an event post's params {"value":{…},"time":ms} (time optional; 460 for a bad shape). */
int gw_tsl_check_event_post(const gw_tsl_model_t *m, const char *event, const json_t *params, unsigned flags,
                            gw_tsl_err_t *err);

/**
 * Checks the params of a call of service @p service (5161 if unknown): an
 * object holding every input argument (6302 if one is missing), no unknown
 * one (460), each valid.
 */
int gw_tsl_check_service_input(const gw_tsl_model_t *m, const char *service, const json_t *params, unsigned flags,
                               gw_tsl_err_t *err);

/** Checks a service reply's data against its outputData (missing outputs allowed, unknown ones 460). */
int gw_tsl_check_service_output(const gw_tsl_model_t *m, const char *service, const json_t *data, unsigned flags,
                                gw_tsl_err_t *err);

/**
 * Checks a `thing.service.property.set` params object: non-empty, at most 200
 * entries, every identifier a property (6320) that is writable (460
 * "read-only"), every value valid (bare values only).
 */
int gw_tsl_check_property_set(const gw_tsl_model_t *m, const json_t *params, unsigned flags, gw_tsl_err_t *err);

/** Checks `thing.service.property.get` params: an array (6301) of property identifiers (6320). */
int gw_tsl_check_property_get(const gw_tsl_model_t *m, const json_t *params, gw_tsl_err_t *err);

/**
 * Checks a gateway's `thing.event.property.pack.post` params: the gateway's
 * own "properties"/"events" against @p gw (may be NULL when the gateway has
 * no model: then they must be absent or empty), and each of "subDevices"
 * (≤ 20, 6357) against the model of its identity.productKey in @p set (460 if
 * no model); ≤ 200 properties (6106) and ≤ 20 events (6356) in total.
 * Everything is checked: the platform fails the whole pack on any error.
 */
int gw_tsl_check_pack_post(const gw_tsl_models_t *set, const gw_tsl_model_t *gw, const json_t *params,
                           unsigned flags, gw_tsl_err_t *err);

#ifdef __cplusplus
}
#endif
#endif
