/*
 * Mapping of a plugin's device models to TSL products, read from the
 * `models` group of a conf.d instance file, and the value conversions it
 * implies in both directions.
 *
 * Configuration (libconfig; one entry per device model the plugin declares):
 *
 *   models = {
 *     thermometer = {                       # the plugin's model name
 *       product_key = "a1ThermoPK";         # TSL model from the models directory
 *       full_report_s = 300;                # optional: every N s report all points (0 = never)
 *       points = (
 *         { point = "temperature"; property = "Temperature"; scale = 0.1; offset = -40.0; deadband = 0.2; },
 *         { point = "mode"; property = "Mode"; map = { auto = 0; manual = 1; }; },
 *         { point = "state"; property = "PowerSwitch"; map = ( (3, 0), ("on off", 1) ); },  # list form
 *         { point = "raw"; property = "Counter"; writable = false; }  # refuse cloud writes
 *       );
 *       services = ( { service = "reset_energy"; tsl = "ResetEnergy";
 *                      params = { previous_energy = "PreviousEnergy"; }; } );
 *       events = ( { event = "over_temperature"; tsl = "Overheat";
 *                    params = { temperature = "Temperature"; }; } );
 *     };
 *   };
 *
 * Keys of a point: `point` (plugin point name, required), `property` (TSL
 * property identifier, required), and at most one conversion:
 *   - `scale` / `offset` (numbers; TSL int/float/double only): uplink
 *     tsl = point * scale + offset (rounded to the nearest integer for TSL
 *     int), downlink point = (tsl - offset) / scale; scale may not be 0;
 *   - `map`: pairs point value → TSL value, for TSL enum, bool, int or text.
 *     Group form `{ name = tsl; … }` when the point values are texts that are
 *     valid libconfig names; list form `( (point_value, tsl_value), … )` for
 *     integers, booleans or any text. Values must be unique on both sides.
 *   - neither: the value passes as is (typed conversion, tsl_convert.h).
 * Optional: `deadband` (≥ 0, numeric properties: report on change only when
 * the value moved by more than this; default 0 = any change) and `writable`
 * (false refuses cloud writes of an rw property with 460).
 * `params` of services and events rename argument names plugin → TSL;
 * unnamed arguments keep their name.
 *
 * Errors (all of them, not just the first) go to a callback as
 * (file, line, message): unknown keys, missing keys, unknown ProductKey,
 * identifiers the TSL does not define, a conversion that does not fit the
 * TSL type, map values the TSL type refuses, duplicate points/properties.
 * gw_tsl_mapping_check_device() then checks the mapping against the model the
 * plugin declared (unknown points, type mismatches, writes to read-only points).
 *
 * A mapping points into the TSL models of the set it was parsed with: free
 * the mapping before the set. Read-only after parsing (and after
 * check_device); safe to share between threads.
 */
#ifndef GW_TSL_MAP_H
#define GW_TSL_MAP_H

#include <libconfig.h>
#include <jansson.h>
#include <linkgw/host.h> /* LGW_ACCESS_* */
#include <linkgw/value.h>
#include "tsl_model.h"
#include "tsl_validate.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Receives one configuration error: the setting it is about (@p at; NULL for
 * errors found by gw_tsl_mapping_check_device(), after the configuration was
 * released), and its @p file and @p line (what "file:line: message" needs).
 * In the daemon, forward it with lgw_config_error(at, "%s", msg) when @p at
 * is set, else add "file:line: msg" to the instance's error list.
 */
typedef void (*gw_tsl_error_fn)(void *ctx, const config_setting_t *at, const char *file, int line, const char *msg);

/** One `map` pair. */
typedef struct gw_tsl_map_pair {
    lgw_type_t pkind;   /* point side: LGW_TYPE_TEXT, LGW_TYPE_INT or LGW_TYPE_BOOL */
    char *ptext;        /* point text (pkind TEXT) */
    int64_t pint;       /* point integer or bool 0/1 */
    int64_t tint;       /* TSL side for enum/bool/int */
    char *ttext;        /* TSL side for text */
} gw_tsl_map_pair_t;

/** One mapped point. */
typedef struct gw_tsl_point_map {
    char *point;
    const gw_tsl_property_t *prop;
    bool linear;                 /* scale/offset given */
    double scale, offset;
    size_t n_pairs;
    gw_tsl_map_pair_t *pairs;
    double deadband;
    bool writable;               /* cloud writes allowed (TSL rw and not `writable = false`) */
    lgw_type_t point_type;       /* from the declared device model; 0 = unknown */
    int line;
} gw_tsl_point_map_t;

/** One mapped service or event: plugin name, TSL item and argument renames. */
typedef struct gw_tsl_rename {
    char *plugin;
    char *tsl;
} gw_tsl_rename_t;

typedef struct gw_tsl_service_map {
    char *service;                     /* plugin service name */
    const gw_tsl_service_t *svc;
    size_t n_renames;
    gw_tsl_rename_t *renames;
    int line;
} gw_tsl_service_map_t;

typedef struct gw_tsl_event_map {
    char *event;                       /* plugin event name */
    const gw_tsl_event_t *ev;
    size_t n_renames;
    gw_tsl_rename_t *renames;
    int line;
} gw_tsl_event_map_t;

/** The mapping of one plugin device model. */
typedef struct gw_tsl_model_map {
    char *name;                        /* plugin model name */
    const gw_tsl_model_t *tsl;
    char *file;                        /* where it was configured */
    int line;
    int64_t full_report_ms;            /* 0 = no periodic full report */
    uint64_t serial;                   /* unique per parsed model map (never reused within a process):
                                        * per-point state of the data layer is keyed by it */
    size_t n_points;
    gw_tsl_point_map_t *points;        /* sorted by point name */
    gw_tsl_point_map_t **by_property;  /* sorted by property identifier */
    size_t n_services;
    gw_tsl_service_map_t *services;
    size_t n_events;
    gw_tsl_event_map_t *events;
} gw_tsl_model_map_t;

/** The `models` group of one instance file. */
typedef struct gw_tsl_mapping {
    size_t n_models;
    gw_tsl_model_map_t *models;        /* sorted by name */
} gw_tsl_mapping_t;

/**
 * Parses and checks a `models` group (@p models, a libconfig group setting)
 * against the TSL models of @p set. Every error is passed to @p fn (may be
 * NULL) and counted in @p *n_errors (may be NULL). Returns the mapping, or
 * NULL when there was any error.
 */
gw_tsl_mapping_t *gw_tsl_mapping_parse(const config_setting_t *models, const gw_tsl_models_t *set,
                                       gw_tsl_error_fn fn, void *ctx, int *n_errors);

/**
 * Only checks a `models` group (same errors as gw_tsl_mapping_parse()) and
 * returns the number of errors: the function to register as the validator
 * of the `models` key of conf.d files.
 */
int gw_tsl_mapping_validate(const config_setting_t *models, const gw_tsl_models_t *set, gw_tsl_error_fn fn,
                            void *ctx);

/** Frees a mapping. NULL is a no-op. */
void gw_tsl_mapping_free(gw_tsl_mapping_t *map);

/** Mapping of plugin model @p name, or NULL. */
const gw_tsl_model_map_t *gw_tsl_mapping_model(const gw_tsl_mapping_t *map, const char *name);

/* ---- checking against what the plugin declared -------------------------- */

/** A point of a plugin's declared device model (LGW_ACCESS_* access). */
typedef struct gw_tsl_dev_point {
    const char *name;
    lgw_type_t type;
    int access;
} gw_tsl_dev_point_t;

/** A plugin's declared device model (as lgw_model_add_*() described it). */
typedef struct gw_tsl_dev_model {
    const char *name;
    size_t n_points;
    const gw_tsl_dev_point_t *points;
    size_t n_services;
    const char *const *services;
    size_t n_events;
    const char *const *events;
} gw_tsl_dev_model_t;

/**
 * Checks the mapping of model @p dm->name in @p map against the declared
 * model: every mapped point, service and event exists; each point's type fits
 * its TSL property and conversion; a TSL-writable property is only mapped to
 * a writable point (or has `writable = false`). Errors go to @p fn with the
 * mapping's file:line. On success records the point types (used by the
 * downlink conversions). Returns the number of errors (0 if the model is not
 * mapped at all).
 */
int gw_tsl_mapping_check_device(gw_tsl_mapping_t *map, const gw_tsl_dev_model_t *dm, gw_tsl_error_fn fn,
                                void *ctx);

/* ---- conversions ------------------------------------------------------------ */

/** Point map of plugin point @p point, or NULL. */
const gw_tsl_point_map_t *gw_tsl_map_point(const gw_tsl_model_map_t *mm, const char *point);
/** Point map of TSL property @p id, or NULL. */
const gw_tsl_point_map_t *gw_tsl_map_property(const gw_tsl_model_map_t *mm, const char *id);
/** Service map of plugin service @p service / of TSL service @p id, or NULL. */
const gw_tsl_service_map_t *gw_tsl_map_service(const gw_tsl_model_map_t *mm, const char *service);
const gw_tsl_service_map_t *gw_tsl_map_service_tsl(const gw_tsl_model_map_t *mm, const char *id);
/** Event map of plugin event @p event, or NULL. */
const gw_tsl_event_map_t *gw_tsl_map_event(const gw_tsl_model_map_t *mm, const char *event);

/**
 * Uplink: point value → validated TSL JSON of its property (new reference in
 * @p *out). Applies scale/offset or the map. Returns 0 or the TSL code with
 * @p err (e.g. 6307 out of range after scaling, 6309 value not in the map).
 */
int gw_tsl_point_to_json(const gw_tsl_point_map_t *pm, const lgw_value_t *v, json_t **out, gw_tsl_err_t *err);

/**
 * Downlink: JSON of the property (validated here) → point value (new, in
 * @p *out), reversing scale/offset or the map. The point value has the
 * declared point type when known (INT rounds to nearest), else the natural
 * type: the map's point side, DOUBLE for scaled values (INT when the result
 * is integral and the TSL type is int), the TSL's own type otherwise.
 */
int gw_tsl_point_from_json(const gw_tsl_point_map_t *pm, const json_t *j, unsigned flags, lgw_value_t **out,
                           gw_tsl_err_t *err);

/**
 * Downlink property set: checks @p params (gw_tsl_check_property_set rules),
 * refuses properties with no point or `writable = false` (460) and builds the
 * struct of point values the plugin's write callback receives.
 */
int gw_tsl_map_property_set(const gw_tsl_model_map_t *mm, const json_t *params, unsigned flags,
                            lgw_value_t **points, gw_tsl_err_t *err);

/**
 * Downlink property get: checks @p params (array of identifiers) and builds
 * the array of point-name texts the read callback receives (6320 unknown,
 * 460 for a property with no point).
 */
int gw_tsl_map_property_get(const gw_tsl_model_map_t *mm, const json_t *params, lgw_value_t **names,
                            gw_tsl_err_t *err);

/**
 * Downlink service call: checks @p params against the TSL service's input
 * and builds the struct of plugin-named, typed arguments.
 */
int gw_tsl_map_service_input(const gw_tsl_service_map_t *sm, const json_t *params, unsigned flags,
                             lgw_value_t **input, gw_tsl_err_t *err);

/**
 * Uplink service reply: the plugin's output struct (may be NULL = none) →
 * validated JSON object of TSL outputData.
 */
int gw_tsl_map_service_output(const gw_tsl_service_map_t *sm, const lgw_value_t *output, json_t **data,
                              gw_tsl_err_t *err);

/**
 * Uplink event: the plugin's event data struct (may be NULL) → validated
 * JSON object of the TSL event's outputData (the `value` of an event post).
 */
int gw_tsl_map_event_output(const gw_tsl_event_map_t *em, const lgw_value_t *data, json_t **value,
                            gw_tsl_err_t *err);

#ifdef __cplusplus
}
#endif
#endif
