/*
 * TSL thing models: the product definitions (properties, events, services and
 * their data types) exactly as Alibaba Cloud IoT Platform exports them as
 * JSON (alink-protocol.md §6), parsed into read-only C structures.
 *
 * Parsing is strict: anything the platform could not have exported (unknown
 * type, non-numeric spec, min > max, duplicate identifier, struct inside a
 * struct …) refuses the whole model with a message that names the JSON path
 * and the identifier, e.g.
 *   "thermo.json: properties[1] 'Temperature': dataType.specs.min: "abc" is not a number".
 * Optional descriptive fields (name, desc, unit, unitName, method, required)
 * are read when present and never required.
 *
 * Data-type decisions (documented here once, relied upon by tsl_validate.h):
 *  - int is 32-bit: min/max default to INT32_MIN/INT32_MAX and must lie inside.
 *  - numeric specs are strings in exports ("0.1"); JSON numbers are accepted too.
 *  - text `length` counts BYTES of the UTF-8 encoding (the platform's console
 *    states the limit in bytes); allowed 1..10240, default 10240 when absent.
 *  - array `size` 1..512 (the platform's current maximum; older docs said 128),
 *    items int/float/double/text/struct (and, leniently, bool/enum/date);
 *    never an array of arrays.
 *  - struct members are scalars (int/float/double/text/date/bool/enum); a
 *    struct is never nested in a struct (but arrays may hold structs).
 *  - identifiers: 1..64 characters from [A-Za-z0-9_-] (the platform allows
 *    letters, digits, '_' and '-'), unique within their list.
 *  - the built-ins (event `post`, services `set` and `get`) are recognised
 *    and skipped: they only repeat the properties.
 *
 * Models are immutable after parsing and may be shared between threads.
 */
#ifndef GW_TSL_MODEL_H
#define GW_TSL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <linkgw/value.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GW_TSL_TEXT_MAX 10240     /* largest text length a model may declare (bytes) */
#define GW_TSL_ARRAY_MAX 512      /* largest array size a model may declare */
#define GW_TSL_ID_MAX 64          /* longest identifier accepted */
#define GW_TSL_MAX_DEPTH 4        /* deepest data type: property → array → struct → scalar */

typedef struct gw_tsl_datatype gw_tsl_datatype_t;

/** One entry of an enum's (or bool's) specs: key → label. */
typedef struct gw_tsl_enum_item {
    int32_t key;
    char *label;
} gw_tsl_enum_item_t;

/** A named, typed parameter: struct member, event output, service argument. */
typedef struct gw_tsl_param gw_tsl_param_t;

/**
 * A data type. `type` uses the SDK's lgw_type_t (same names as TSL). Only
 * the fields of that type are meaningful.
 */
struct gw_tsl_datatype {
    lgw_type_t type;
    /* int */
    int64_t imin, imax, istep;    /* istep 0 = no step given */
    /* float, double */
    double min, max, step;        /* step 0 = no step given */
    bool has_min, has_max;        /* numeric types: bound given in the model */
    char *unit;                   /* may be NULL */
    /* enum (keys sorted ascending); bool: labels of 0 and 1 in items (may be empty) */
    size_t n_items;
    gw_tsl_enum_item_t *items;
    /* text: maximal length in bytes */
    size_t length;
    /* struct */
    size_t n_members;
    gw_tsl_param_t *members;
    /* array */
    size_t size;                  /* maximal number of elements */
    gw_tsl_datatype_t *item;      /* element type */
};

struct gw_tsl_param {
    char *identifier;
    char *name;                   /* may be NULL */
    gw_tsl_datatype_t type;
};

/** A property of the product. */
typedef struct gw_tsl_property {
    char *identifier;
    char *name;
    bool writable;                /* accessMode "rw" (false: "r") */
    bool required;
    gw_tsl_datatype_t type;
} gw_tsl_property_t;

/** Event kinds. */
typedef enum gw_tsl_event_kind { GW_TSL_EVENT_INFO, GW_TSL_EVENT_ALERT, GW_TSL_EVENT_ERROR } gw_tsl_event_kind_t;

/** An event (the built-in `post` is not listed). */
typedef struct gw_tsl_event {
    char *identifier;
    char *name;
    gw_tsl_event_kind_t kind;
    bool required;
    size_t n_output;
    gw_tsl_param_t *output;
} gw_tsl_event_t;

/** A service (the built-ins `set` and `get` are not listed). */
typedef struct gw_tsl_service {
    char *identifier;
    char *name;
    bool sync;                    /* callType "sync" (RRPC) */
    bool required;
    size_t n_input;
    gw_tsl_param_t *input;
    size_t n_output;
    gw_tsl_param_t *output;
} gw_tsl_service_t;

/** A whole product model. */
typedef struct gw_tsl_model {
    char *product_key;            /* profile.productKey */
    char *source;                 /* file it came from, or "<string>" */
    size_t n_properties;
    gw_tsl_property_t *properties;  /* in model order */
    size_t n_events;
    gw_tsl_event_t *events;
    size_t n_services;
    gw_tsl_service_t *services;
    /* private lookup indexes (sorted by identifier) */
    gw_tsl_property_t **prop_index;
} gw_tsl_model_t;

/**
 * Parses a model from a JSON document already loaded. @p source names it in
 * messages (a file name). Returns the model, or NULL with a one-line message
 * "source: what is wrong" in @p err (size @p errlen; may be NULL).
 */
gw_tsl_model_t *gw_tsl_model_parse(const json_t *root, const char *source, char *err, size_t errlen);

/** Parses a model from JSON text (@p len bytes). Same contract as gw_tsl_model_parse(). */
gw_tsl_model_t *gw_tsl_model_parse_text(const char *text, size_t len, const char *source, char *err,
                                        size_t errlen);

/** Loads a model file. JSON syntax errors carry "file:line:column: ...". */
gw_tsl_model_t *gw_tsl_model_load_file(const char *path, char *err, size_t errlen);

/** Frees a model. NULL is a no-op. */
void gw_tsl_model_free(gw_tsl_model_t *m);

/** Property @p id (binary search), or NULL. */
const gw_tsl_property_t *gw_tsl_model_property(const gw_tsl_model_t *m, const char *id);
/** Event @p id, or NULL. */
const gw_tsl_event_t *gw_tsl_model_event(const gw_tsl_model_t *m, const char *id);
/** Service @p id, or NULL. */
const gw_tsl_service_t *gw_tsl_model_service(const gw_tsl_model_t *m, const char *id);
/** Parameter @p id among @p n params (struct members, event output, service args), or NULL. */
const gw_tsl_param_t *gw_tsl_param_find(const gw_tsl_param_t *params, size_t n, const char *id);
/** The TSL spelling of a type ("int", "struct" …). */
const char *gw_tsl_type_name(lgw_type_t t);

/* ---- a set of models, one per ProductKey ------------------------------- */

typedef struct gw_tsl_models gw_tsl_models_t;

/** New empty set. NULL only when out of memory. */
gw_tsl_models_t *gw_tsl_models_new(void);
/**
 * Adds @p m (the set takes ownership in every case). Fails with a message if
 * a model of the same ProductKey is already there (the new one is freed).
 * Returns 0 or -1.
 */
int gw_tsl_models_add(gw_tsl_models_t *set, gw_tsl_model_t *m, char *err, size_t errlen);
/**
 * Loads every "*.json" file of directory @p dir (sorted by name, other files
 * ignored) into @p set. Every file is tried; each failure appends one line
 * "file: message\n" to @p err (truncated to @p errlen). Returns the number of
 * files that failed (0 = all loaded), or -1 if @p dir cannot be read.
 */
int gw_tsl_models_load_dir(gw_tsl_models_t *set, const char *dir, char *err, size_t errlen);
/** Model of ProductKey @p pk, or NULL. */
const gw_tsl_model_t *gw_tsl_models_find(const gw_tsl_models_t *set, const char *pk);
/** Number of models in the set. */
size_t gw_tsl_models_count(const gw_tsl_models_t *set);
/** Model @p i (0-based, ordered by ProductKey), or NULL. */
const gw_tsl_model_t *gw_tsl_models_at(const gw_tsl_models_t *set, size_t i);
/** Frees the set and its models. NULL is a no-op. */
void gw_tsl_models_free(gw_tsl_models_t *set);

#ifdef __cplusplus
}
#endif
#endif
