/*
 * Parsing of TSL thing-model JSON into gw_tsl_model_t (see tsl_model.h for
 * the accepted format and the decisions taken on ambiguous points).
 */
#include "tsl_model.h"
#include "tsl_internal.h"

#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse context: where errors go. Only the first error is kept. */
typedef struct pctx {
    const char *source;
    char *err;
    size_t errlen;
    bool failed;
} pctx_t;

static bool fail(pctx_t *c, const char *path, const char *fmt, ...) LGW_PRINTF(3, 4);

static bool fail(pctx_t *c, const char *path, const char *fmt, ...)
{
    if (c->failed)
        return false;
    c->failed = true;
    if (!c->err || c->errlen == 0)
        return false;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path && *path)
        snprintf(c->err, c->errlen, "%s: %s: %s", c->source, path, msg);
    else
        snprintf(c->err, c->errlen, "%s: %s", c->source, msg);
    gw_tsl_utf8_fix(c->err);
    return false;
}

const char *gw_tsl_type_name(lgw_type_t t)
{
    switch (t) {
    case LGW_TYPE_BOOL: return "bool";
    case LGW_TYPE_INT: return "int";
    case LGW_TYPE_FLOAT: return "float";
    case LGW_TYPE_DOUBLE: return "double";
    case LGW_TYPE_TEXT: return "text";
    case LGW_TYPE_ENUM: return "enum";
    case LGW_TYPE_DATE: return "date";
    case LGW_TYPE_STRUCT: return "struct";
    case LGW_TYPE_ARRAY: return "array";
    }
    return "?";
}

static bool type_from_name(const char *s, lgw_type_t *t)
{
    static const lgw_type_t all[] = { LGW_TYPE_BOOL, LGW_TYPE_INT, LGW_TYPE_FLOAT, LGW_TYPE_DOUBLE, LGW_TYPE_TEXT,
                                      LGW_TYPE_ENUM, LGW_TYPE_DATE, LGW_TYPE_STRUCT, LGW_TYPE_ARRAY };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, gw_tsl_type_name(all[i])) == 0) {
            *t = all[i];
            return true;
        }
    return false;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- freeing ------------------------------------------------------------ */

static void params_free(gw_tsl_param_t *p, size_t n);

static void datatype_clear(gw_tsl_datatype_t *d)
{
    free(d->unit);
    for (size_t i = 0; i < d->n_items; i++)
        free(d->items[i].label);
    free(d->items);
    params_free(d->members, d->n_members);
    if (d->item) {
        datatype_clear(d->item);
        free(d->item);
    }
    memset(d, 0, sizeof *d);
}

static void params_free(gw_tsl_param_t *p, size_t n)
{
    if (!p)
        return;
    for (size_t i = 0; i < n; i++) {
        free(p[i].identifier);
        free(p[i].name);
        datatype_clear(&p[i].type);
    }
    free(p);
}

void gw_tsl_model_free(gw_tsl_model_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_properties; i++) {
        free(m->properties[i].identifier);
        free(m->properties[i].name);
        datatype_clear(&m->properties[i].type);
    }
    free(m->properties);
    for (size_t i = 0; i < m->n_events; i++) {
        free(m->events[i].identifier);
        free(m->events[i].name);
        params_free(m->events[i].output, m->events[i].n_output);
    }
    free(m->events);
    for (size_t i = 0; i < m->n_services; i++) {
        free(m->services[i].identifier);
        free(m->services[i].name);
        params_free(m->services[i].input, m->services[i].n_input);
        params_free(m->services[i].output, m->services[i].n_output);
    }
    free(m->services);
    free(m->prop_index);
    free(m->product_key);
    free(m->source);
    free(m);
}

/* ---- small JSON readers --------------------------------------------------- */

static bool valid_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GW_TSL_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

/* Reads the required identifier of object @p o; @p path names the object. */
static const char *get_identifier(pctx_t *c, const json_t *o, const char *path)
{
    const json_t *id = json_object_get(o, "identifier");
    if (!id)
        return fail(c, path, "missing \"identifier\""), NULL;
    if (!json_is_string(id))
        return fail(c, path, "\"identifier\" must be a string"), NULL;
    const char *s = json_string_value(id);
    if (!valid_identifier(s))
        return fail(c, path, "invalid identifier \"%.80s\" (1..%d of A-Z a-z 0-9 _ -)", s, GW_TSL_ID_MAX), NULL;
    return s;
}

/* Optional string field: NULL if absent; fails if present but not a string. */
static bool get_opt_string(pctx_t *c, const json_t *o, const char *key, const char *path, const char **out)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return fail(c, path, "\"%s\" must be a string", key);
    *out = json_string_value(v);
    return true;
}

static bool get_opt_bool(pctx_t *c, const json_t *o, const char *key, const char *path, bool *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_boolean(v))
        return fail(c, path, "\"%s\" must be true or false", key);
    *out = json_is_true(v);
    return true;
}

/* A numeric spec value: a string such as "0.1" (as exported) or a JSON number. */
static bool spec_double(pctx_t *c, const json_t *v, const char *path, const char *key, double *out)
{
    if (json_is_string(v)) {
        if (gw_tsl_num_double(json_string_value(v), out))
            return true;
        return fail(c, path, "specs.%s: \"%.40s\" is not a number", key, json_string_value(v));
    }
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    return fail(c, path, "specs.%s must be a number string", key);
}

static bool spec_int(pctx_t *c, const json_t *v, const char *path, const char *key, int64_t *out)
{
    if (json_is_string(v)) {
        if (gw_tsl_num_int64(json_string_value(v), out))
            return true;
        return fail(c, path, "specs.%s: \"%.40s\" is not an integer", key, json_string_value(v));
    }
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    return fail(c, path, "specs.%s must be an integer string", key);
}

/* ---- data types ------------------------------------------------------------ */

static bool parse_params(pctx_t *c, const json_t *arr, const char *path, int depth, gw_tsl_param_t **out,
                         size_t *n_out, bool scalars_only);

static bool parse_numeric(pctx_t *c, const json_t *specs, const char *path, gw_tsl_datatype_t *d)
{
    const json_t *jmin = json_object_get(specs, "min");
    const json_t *jmax = json_object_get(specs, "max");
    const json_t *jstep = json_object_get(specs, "step");
    const char *unit = NULL;
    if (!get_opt_string(c, specs, "unit", path, &unit))
        return false;
    if (unit && !(d->unit = strdup(unit)))
        return fail(c, path, "out of memory");
    if (d->type == LGW_TYPE_INT) {
        d->imin = INT32_MIN;
        d->imax = INT32_MAX;
        if (jmin && !json_is_null(jmin)) {
            if (!spec_int(c, jmin, path, "min", &d->imin))
                return false;
            d->has_min = true;
        }
        if (jmax && !json_is_null(jmax)) {
            if (!spec_int(c, jmax, path, "max", &d->imax))
                return false;
            d->has_max = true;
        }
        if (d->imin < INT32_MIN || d->imin > INT32_MAX)
            return fail(c, path, "specs.min %lld is outside the 32-bit int range", (long long)d->imin);
        if (d->imax < INT32_MIN || d->imax > INT32_MAX)
            return fail(c, path, "specs.max %lld is outside the 32-bit int range", (long long)d->imax);
        if (d->imin > d->imax)
            return fail(c, path, "specs.min %lld is greater than specs.max %lld", (long long)d->imin,
                        (long long)d->imax);
        if (jstep && !json_is_null(jstep)) {
            if (!spec_int(c, jstep, path, "step", &d->istep))
                return false;
            if (d->istep <= 0 || d->istep > (int64_t)UINT32_MAX)
                return fail(c, path, "specs.step must be a positive 32-bit integer");
        }
        d->min = (double)d->imin;
        d->max = (double)d->imax;
        d->step = (double)d->istep;
        return true;
    }
    double limit = d->type == LGW_TYPE_FLOAT ? (double)FLT_MAX : DBL_MAX;
    d->min = -limit;
    d->max = limit;
    if (jmin && !json_is_null(jmin)) {
        if (!spec_double(c, jmin, path, "min", &d->min))
            return false;
        d->has_min = true;
    }
    if (jmax && !json_is_null(jmax)) {
        if (!spec_double(c, jmax, path, "max", &d->max))
            return false;
        d->has_max = true;
    }
    if (d->min < -limit || d->max > limit)
        return fail(c, path, "specs.min/max outside the range of %s", gw_tsl_type_name(d->type));
    if (d->min > d->max)
        return fail(c, path, "specs.min %g is greater than specs.max %g", d->min, d->max);
    if (jstep && !json_is_null(jstep)) {
        if (!spec_double(c, jstep, path, "step", &d->step))
            return false;
        if (!(d->step > 0))
            return fail(c, path, "specs.step must be positive");
    }
    return true;
}

static int cmp_item(const void *a, const void *b)
{
    const gw_tsl_enum_item_t *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

/* enum and bool specs: {"0":"label","1":"label",…}. */
static bool parse_labels(pctx_t *c, const json_t *specs, const char *path, gw_tsl_datatype_t *d)
{
    size_t n = json_object_size(specs);
    if (d->type == LGW_TYPE_ENUM && n == 0)
        return fail(c, path, "enum specs list no value");
    if (n == 0)
        return true;
    d->items = calloc(n, sizeof *d->items);
    if (!d->items)
        return fail(c, path, "out of memory");
    const char *key;
    const json_t *label;
    json_object_foreach((json_t *)specs, key, label) {
        int64_t k;
        if (!gw_tsl_num_int64(key, &k) || k < INT32_MIN || k > INT32_MAX)
            return fail(c, path, "specs key \"%.40s\" is not a 32-bit integer", key);
        if (d->type == LGW_TYPE_BOOL && k != 0 && k != 1)
            return fail(c, path, "bool specs key \"%.40s\" must be 0 or 1", key);
        if (!json_is_string(label))
            return fail(c, path, "specs \"%.40s\": the label must be a string", key);
        d->items[d->n_items].key = (int32_t)k;
        if (!(d->items[d->n_items].label = strdup(json_string_value(label))))
            return fail(c, path, "out of memory");
        d->n_items++;
    }
    qsort(d->items, d->n_items, sizeof *d->items, cmp_item);
    for (size_t i = 1; i < d->n_items; i++)
        if (d->items[i].key == d->items[i - 1].key)
            return fail(c, path, "specs key %d appears twice", (int)d->items[i].key);
    return true;
}

static bool parse_datatype(pctx_t *c, const json_t *dt, const char *path, int depth, gw_tsl_datatype_t *d);

/* Array specs: {"size":"10","item":{"type":"int","specs":…}}. */
static bool parse_array(pctx_t *c, const json_t *specs, const char *path, int depth, gw_tsl_datatype_t *d)
{
    const json_t *jsize = json_object_get(specs, "size");
    if (!jsize)
        return fail(c, path, "array specs need \"size\"");
    int64_t size;
    if (!spec_int(c, jsize, path, "size", &size))
        return false;
    if (size < 1 || size > GW_TSL_ARRAY_MAX)
        return fail(c, path, "specs.size %lld is outside 1..%d", (long long)size, GW_TSL_ARRAY_MAX);
    d->size = (size_t)size;
    const json_t *item = json_object_get(specs, "item");
    if (!json_is_object(item))
        return fail(c, path, "array specs need an \"item\" object");
    char sub[256];
    snprintf(sub, sizeof sub, "%s.item", path);
    if (!(d->item = calloc(1, sizeof *d->item)))
        return fail(c, path, "out of memory");
    if (!parse_datatype(c, item, sub, depth + 1, d->item))
        return false;
    if (d->item->type == LGW_TYPE_ARRAY)
        return fail(c, sub, "an array cannot hold arrays");
    return true;
}

/*
 * Parses a {"type":…,"specs":…} object into @p d (zeroed by the caller).
 * @p depth counts nesting for the GW_TSL_MAX_DEPTH bound.
 */
static bool parse_datatype(pctx_t *c, const json_t *dt, const char *path, int depth, gw_tsl_datatype_t *d)
{
    if (depth > GW_TSL_MAX_DEPTH)
        return fail(c, path, "data type nested too deeply");
    if (!json_is_object(dt))
        return fail(c, path, "dataType must be an object");
    const json_t *jt = json_object_get(dt, "type");
    if (!json_is_string(jt))
        return fail(c, path, "dataType.type must be a string");
    if (!type_from_name(json_string_value(jt), &d->type))
        return fail(c, path, "unknown data type \"%.40s\"", json_string_value(jt));
    const json_t *specs = json_object_get(dt, "specs");
    if (json_is_null(specs))
        specs = NULL;
    char sub[256];
    switch (d->type) {
    case LGW_TYPE_INT:
    case LGW_TYPE_FLOAT:
    case LGW_TYPE_DOUBLE:
        if (specs && !json_is_object(specs))
            return fail(c, path, "%s specs must be an object", gw_tsl_type_name(d->type));
        {
            json_t *empty = NULL;
            if (!specs)
                specs = empty = json_object();
            bool ok = specs && parse_numeric(c, specs, path, d);
            json_decref(empty);
            return ok || fail(c, path, "out of memory");
        }
    case LGW_TYPE_BOOL:
    case LGW_TYPE_ENUM:
        if (!specs && d->type == LGW_TYPE_BOOL)
            return true;
        if (!json_is_object(specs))
            return fail(c, path, "%s specs must be an object of labels", gw_tsl_type_name(d->type));
        return parse_labels(c, specs, path, d);
    case LGW_TYPE_TEXT: {
        d->length = GW_TSL_TEXT_MAX;
        if (!specs)
            return true;
        if (!json_is_object(specs))
            return fail(c, path, "text specs must be an object");
        const json_t *jl = json_object_get(specs, "length");
        if (!jl || json_is_null(jl))
            return true;
        int64_t len;
        if (!spec_int(c, jl, path, "length", &len))
            return false;
        if (len < 1 || len > GW_TSL_TEXT_MAX)
            return fail(c, path, "specs.length %lld is outside 1..%d", (long long)len, GW_TSL_TEXT_MAX);
        d->length = (size_t)len;
        return true;
    }
    case LGW_TYPE_DATE:
        if (specs && !json_is_object(specs))
            return fail(c, path, "date specs must be an object");
        return true;
    case LGW_TYPE_STRUCT:
        if (!json_is_array(specs))
            return fail(c, path, "struct specs must be an array of members");
        if (json_array_size(specs) == 0)
            return fail(c, path, "struct has no members");
        snprintf(sub, sizeof sub, "%s.specs", path);
        return parse_params(c, specs, sub, depth + 1, &d->members, &d->n_members, true);
    case LGW_TYPE_ARRAY:
        if (!json_is_object(specs))
            return fail(c, path, "array specs must be an object");
        return parse_array(c, specs, path, depth, d);
    }
    return fail(c, path, "unknown data type");
}

/*
 * Parses a list of {"identifier","name","dataType"} (struct members, event
 * outputData, service inputData/outputData). @p scalars_only: struct members.
 */
static bool parse_params(pctx_t *c, const json_t *arr, const char *path, int depth, gw_tsl_param_t **out,
                         size_t *n_out, bool scalars_only)
{
    if (!json_is_array(arr))
        return fail(c, path, "must be an array");
    size_t n = json_array_size(arr);
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return true;
    gw_tsl_param_t *p = calloc(n, sizeof *p);
    if (!p)
        return fail(c, path, "out of memory");
    *out = p;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        char sub[256];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (!json_is_object(o))
            return fail(c, sub, "must be an object");
        const char *id = get_identifier(c, o, sub);
        if (!id)
            return false;
        snprintf(sub, sizeof sub, "%s[%zu] '%s'", path, i, id);
        const char *name;
        if (!get_opt_string(c, o, "name", sub, &name))
            return false;
        for (size_t j = 0; j < *n_out; j++)
            if (strcmp(p[j].identifier, id) == 0)
                return fail(c, sub, "identifier defined twice");
        if (!(p[i].identifier = strdup(id)) || (name && !(p[i].name = strdup(name))))
            return fail(c, sub, "out of memory");
        *n_out = i + 1;
        char dsub[300];
        snprintf(dsub, sizeof dsub, "%s: dataType", sub);
        if (!parse_datatype(c, json_object_get(o, "dataType"), dsub, depth, &p[i].type))
            return false;
        if (scalars_only && (p[i].type.type == LGW_TYPE_STRUCT || p[i].type.type == LGW_TYPE_ARRAY))
            return fail(c, sub, "a struct member cannot be a %s", gw_tsl_type_name(p[i].type.type));
    }
    return true;
}

/* ---- properties, events, services ---------------------------------------- */

static int cmp_prop_ptr(const void *a, const void *b)
{
    const gw_tsl_property_t *const *x = a, *const *y = b;
    return strcmp((*x)->identifier, (*y)->identifier);
}

static bool parse_properties(pctx_t *c, const json_t *arr, gw_tsl_model_t *m)
{
    if (!arr || json_is_null(arr))
        return true;
    if (!json_is_array(arr))
        return fail(c, "properties", "must be an array");
    size_t n = json_array_size(arr);
    if (n == 0)
        return true;
    if (!(m->properties = calloc(n, sizeof *m->properties)) || !(m->prop_index = calloc(n, sizeof *m->prop_index)))
        return fail(c, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        gw_tsl_property_t *p = &m->properties[i];
        char path[160];
        snprintf(path, sizeof path, "properties[%zu]", i);
        if (!json_is_object(o))
            return fail(c, path, "must be an object");
        const char *id = get_identifier(c, o, path);
        if (!id)
            return false;
        snprintf(path, sizeof path, "properties[%zu] '%s'", i, id);
        const char *name, *mode;
        if (!get_opt_string(c, o, "name", path, &name) || !get_opt_string(c, o, "accessMode", path, &mode) ||
            !get_opt_bool(c, o, "required", path, &p->required))
            return false;
        if (!mode)
            return fail(c, path, "missing \"accessMode\"");
        if (strcmp(mode, "rw") == 0)
            p->writable = true;
        else if (strcmp(mode, "r") != 0)
            return fail(c, path, "accessMode must be \"r\" or \"rw\", not \"%.20s\"", mode);
        if (!(p->identifier = strdup(id)) || (name && !(p->name = strdup(name))))
            return fail(c, path, "out of memory");
        m->n_properties = i + 1;
        m->prop_index[i] = p;
        char dpath[200];
        snprintf(dpath, sizeof dpath, "%s: dataType", path);
        if (!parse_datatype(c, json_object_get(o, "dataType"), dpath, 1, &p->type))
            return false;
    }
    qsort(m->prop_index, n, sizeof *m->prop_index, cmp_prop_ptr);
    for (size_t i = 1; i < n; i++)
        if (strcmp(m->prop_index[i]->identifier, m->prop_index[i - 1]->identifier) == 0)
            return fail(c, "properties", "identifier '%s' defined twice", m->prop_index[i]->identifier);
    return true;
}

static bool parse_events(pctx_t *c, const json_t *arr, gw_tsl_model_t *m)
{
    if (!arr || json_is_null(arr))
        return true;
    if (!json_is_array(arr))
        return fail(c, "events", "must be an array");
    size_t n = json_array_size(arr);
    if (n == 0)
        return true;
    if (!(m->events = calloc(n, sizeof *m->events)))
        return fail(c, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        char path[160];
        snprintf(path, sizeof path, "events[%zu]", i);
        if (!json_is_object(o))
            return fail(c, path, "must be an object");
        const char *id = get_identifier(c, o, path);
        if (!id)
            return false;
        if (strcmp(id, "post") == 0)
            continue; /* built-in: the property post, lists the properties again */
        snprintf(path, sizeof path, "events[%zu] '%s'", i, id);
        if (gw_tsl_model_event(m, id))
            return fail(c, path, "identifier defined twice");
        gw_tsl_event_t *e = &m->events[m->n_events];
        const char *name, *type;
        if (!get_opt_string(c, o, "name", path, &name) || !get_opt_string(c, o, "type", path, &type) ||
            !get_opt_bool(c, o, "required", path, &e->required))
            return false;
        if (!type || strcmp(type, "info") == 0)
            e->kind = GW_TSL_EVENT_INFO;
        else if (strcmp(type, "alert") == 0)
            e->kind = GW_TSL_EVENT_ALERT;
        else if (strcmp(type, "error") == 0)
            e->kind = GW_TSL_EVENT_ERROR;
        else
            return fail(c, path, "type must be \"info\", \"alert\" or \"error\", not \"%.20s\"", type);
        if (!(e->identifier = strdup(id)) || (name && !(e->name = strdup(name))))
            return fail(c, path, "out of memory");
        m->n_events++;
        const json_t *od = json_object_get(o, "outputData");
        if (od && !json_is_null(od)) {
            char sub[200];
            snprintf(sub, sizeof sub, "%s: outputData", path);
            if (!parse_params(c, od, sub, 1, &e->output, &e->n_output, false))
                return false;
        }
    }
    return true;
}

static bool parse_services(pctx_t *c, const json_t *arr, gw_tsl_model_t *m)
{
    if (!arr || json_is_null(arr))
        return true;
    if (!json_is_array(arr))
        return fail(c, "services", "must be an array");
    size_t n = json_array_size(arr);
    if (n == 0)
        return true;
    if (!(m->services = calloc(n, sizeof *m->services)))
        return fail(c, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        char path[160];
        snprintf(path, sizeof path, "services[%zu]", i);
        if (!json_is_object(o))
            return fail(c, path, "must be an object");
        const char *id = get_identifier(c, o, path);
        if (!id)
            return false;
        if (strcmp(id, "set") == 0 || strcmp(id, "get") == 0)
            continue; /* built-ins: property set/get */
        snprintf(path, sizeof path, "services[%zu] '%s'", i, id);
        if (gw_tsl_model_service(m, id))
            return fail(c, path, "identifier defined twice");
        gw_tsl_service_t *s = &m->services[m->n_services];
        const char *name, *call;
        if (!get_opt_string(c, o, "name", path, &name) || !get_opt_string(c, o, "callType", path, &call) ||
            !get_opt_bool(c, o, "required", path, &s->required))
            return false;
        if (!call || strcmp(call, "async") == 0)
            s->sync = false;
        else if (strcmp(call, "sync") == 0)
            s->sync = true;
        else
            return fail(c, path, "callType must be \"async\" or \"sync\", not \"%.20s\"", call);
        if (!(s->identifier = strdup(id)) || (name && !(s->name = strdup(name))))
            return fail(c, path, "out of memory");
        m->n_services++;
        char sub[200];
        const json_t *in = json_object_get(o, "inputData");
        if (in && !json_is_null(in)) {
            snprintf(sub, sizeof sub, "%s: inputData", path);
            if (!parse_params(c, in, sub, 1, &s->input, &s->n_input, false))
                return false;
        }
        const json_t *out = json_object_get(o, "outputData");
        if (out && !json_is_null(out)) {
            snprintf(sub, sizeof sub, "%s: outputData", path);
            if (!parse_params(c, out, sub, 1, &s->output, &s->n_output, false))
                return false;
        }
    }
    return true;
}

/* ---- entry points ----------------------------------------------------------- */

gw_tsl_model_t *gw_tsl_model_parse(const json_t *root, const char *source, char *err, size_t errlen)
{
    pctx_t c = { source ? source : "<model>", err, errlen, false };
    if (err && errlen)
        err[0] = '\0';
    if (!json_is_object(root))
        return fail(&c, NULL, "a thing model must be a JSON object"), NULL;
    gw_tsl_model_t *m = calloc(1, sizeof *m);
    if (!m || !(m->source = strdup(c.source))) {
        free(m);
        return fail(&c, NULL, "out of memory"), NULL;
    }
    const json_t *profile = json_object_get(root, "profile");
    const json_t *pk = json_object_get(profile, "productKey");
    if (!json_is_object(profile))
        fail(&c, NULL, "missing \"profile\" object");
    else if (!json_is_string(pk) || json_string_length(pk) == 0 || json_string_length(pk) > 64)
        fail(&c, "profile", "\"productKey\" must be a non-empty string");
    else if (!(m->product_key = xstrdup(json_string_value(pk))))
        fail(&c, NULL, "out of memory");
    const json_t *schema = json_object_get(root, "schema");
    if (!c.failed && schema && !json_is_string(schema))
        fail(&c, NULL, "\"schema\" must be a string");
    if (!c.failed && parse_properties(&c, json_object_get(root, "properties"), m) &&
        parse_events(&c, json_object_get(root, "events"), m) &&
        parse_services(&c, json_object_get(root, "services"), m))
        return m;
    gw_tsl_model_free(m);
    return NULL;
}

gw_tsl_model_t *gw_tsl_model_parse_text(const char *text, size_t len, const char *source, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (err && errlen)
            snprintf(err, errlen, "%s:%d:%d: %s", source ? source : "<model>", je.line, je.column, je.text);
        return NULL;
    }
    gw_tsl_model_t *m = gw_tsl_model_parse(root, source, err, errlen);
    json_decref(root);
    return m;
}

gw_tsl_model_t *gw_tsl_model_load_file(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (err && errlen) {
            if (je.line > 0)
                snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
            else
                snprintf(err, errlen, "%s: %s", path, je.text);
        }
        return NULL;
    }
    gw_tsl_model_t *m = gw_tsl_model_parse(root, path, err, errlen);
    json_decref(root);
    return m;
}

/* ---- lookups -------------------------------------------------------------- */

const gw_tsl_property_t *gw_tsl_model_property(const gw_tsl_model_t *m, const char *id)
{
    if (!m || !id)
        return NULL;
    size_t lo = 0, hi = m->n_properties;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(id, m->prop_index[mid]->identifier);
        if (r == 0)
            return m->prop_index[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const gw_tsl_event_t *gw_tsl_model_event(const gw_tsl_model_t *m, const char *id)
{
    if (!m || !id)
        return NULL;
    for (size_t i = 0; i < m->n_events; i++)
        if (strcmp(m->events[i].identifier, id) == 0)
            return &m->events[i];
    return NULL;
}

const gw_tsl_service_t *gw_tsl_model_service(const gw_tsl_model_t *m, const char *id)
{
    if (!m || !id)
        return NULL;
    for (size_t i = 0; i < m->n_services; i++)
        if (strcmp(m->services[i].identifier, id) == 0)
            return &m->services[i];
    return NULL;
}

const gw_tsl_param_t *gw_tsl_param_find(const gw_tsl_param_t *params, size_t n, const char *id)
{
    if (!params || !id)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(params[i].identifier, id) == 0)
            return &params[i];
    return NULL;
}
