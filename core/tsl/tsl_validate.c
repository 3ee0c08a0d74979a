/*
 * Validation of JSON values and Alink request params against TSL models
 * (contract and accepted forms in tsl_validate.h).
 */
#include "tsl_validate.h"
#include "tsl_internal.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DATE_MAX_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

int gw_tsl_err_set(gw_tsl_err_t *err, int code, const char *path, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    char msg[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path && *path)
        snprintf(err->msg, sizeof err->msg, "%.100s: %.150s", path, msg);
    else
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    gw_tsl_utf8_fix(err->path);
    gw_tsl_utf8_fix(err->msg);
    return code;
}

int gw_tsl_type_code(lgw_type_t t)
{
    switch (t) {
    case LGW_TYPE_INT: return GW_TSL_E_INT;
    case LGW_TYPE_FLOAT: return GW_TSL_E_FLOAT;
    case LGW_TYPE_DOUBLE: return GW_TSL_E_DOUBLE;
    case LGW_TYPE_BOOL: return GW_TSL_E_BOOL;
    case LGW_TYPE_ENUM: return GW_TSL_E_ENUM;
    case LGW_TYPE_TEXT: return GW_TSL_E_TEXT;
    case LGW_TYPE_DATE: return GW_TSL_E_DATE;
    case LGW_TYPE_STRUCT: return GW_TSL_E_STRUCT;
    case LGW_TYPE_ARRAY: return GW_TSL_E_NOT_ARRAY;
    }
    return GW_TSL_E_PARAM;
}

static int ok(gw_tsl_err_t *err)
{
    if (err) {
        err->code = 0;
        err->path[0] = err->msg[0] = '\0';
    }
    return 0;
}

/* Short rendering of a JSON value for messages. */
static const char *show(const json_t *v, char *buf, size_t size)
{
    if (json_is_string(v)) {
        snprintf(buf, size, "\"%.32s%s\"", json_string_value(v), json_string_length(v) > 32 ? "…" : "");
        return buf;
    }
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        char n[32];
        snprintf(buf, size, "%s", gw_tsl_num_str(json_real_value(v), n));
        return buf;
    }
    snprintf(buf, size, "%s", json_is_object(v) ? "an object" : json_is_array(v) ? "an array" :
                               json_is_boolean(v) ? (json_is_true(v) ? "true" : "false") :
                               json_is_null(v) ? "null" : "a value");
    return buf;
}

/*
 * Reads an integer from @p v: JSON integer; unless strict, also an integral
 * real or a decimal string. Returns false if @p v has another form.
 */
static bool json_int_form(const json_t *v, unsigned flags, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (flags & GW_TSL_STRICT)
        return false;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || d != nearbyint(d) || d < -9.2e18 || d > 9.2e18)
            return false;
        *out = (int64_t)d;
        return true;
    }
    if (json_is_string(v))
        return gw_tsl_num_int64(json_string_value(v), out);
    return false;
}

/* Reads a finite number: JSON integer or real; unless strict, a numeric string. */
static bool json_num_form(const json_t *v, unsigned flags, double *out)
{
    if (json_is_integer(v)) {
        *out = (double)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = json_real_value(v);
        return isfinite(*out);
    }
    if (!(flags & GW_TSL_STRICT) && json_is_string(v))
        return gw_tsl_num_double(json_string_value(v), out);
    return false;
}

static int check_int(const gw_tsl_datatype_t *t, const json_t *v, const char *path, unsigned flags,
                     gw_tsl_err_t *err)
{
    char b[64];
    int64_t x;
    if (!json_int_form(v, flags, &x)) {
        if (json_is_string(v) && !(flags & GW_TSL_STRICT)) {
            double d;
            if (gw_tsl_num_double(json_string_value(v), &d))
                return gw_tsl_err_set(err, GW_TSL_E_INT, path, "%s is %s", show(v, b, sizeof b),
                               d == nearbyint(d) && fabs(d) > (double)INT32_MAX ? "outside the 32-bit int range"
                                                                               : "not an integer");
        }
        if (json_is_real(v) && json_real_value(v) == nearbyint(json_real_value(v)) &&
            fabs(json_real_value(v)) > (double)INT32_MAX)
            return gw_tsl_err_set(err, GW_TSL_E_INT, path, "%s is outside the 32-bit int range", show(v, b, sizeof b));
        if (json_is_number(v))
            return gw_tsl_err_set(err, GW_TSL_E_INT, path, "%s is not an integer", show(v, b, sizeof b));
        return gw_tsl_err_set(err, GW_TSL_E_INT, path, "int expected, got %s", show(v, b, sizeof b));
    }
    if (x < INT32_MIN || x > INT32_MAX)
        return gw_tsl_err_set(err, GW_TSL_E_INT, path, "%lld is outside the 32-bit int range", (long long)x);
    if (x < t->imin)
        return gw_tsl_err_set(err, GW_TSL_E_INT, path, "%lld is below min %lld", (long long)x, (long long)t->imin);
    if (x > t->imax)
        return gw_tsl_err_set(err, GW_TSL_E_INT, path, "%lld is above max %lld", (long long)x, (long long)t->imax);
    if (t->istep > 1 && !(flags & GW_TSL_NO_STEP)) {
        int64_t base = t->has_min ? t->imin : 0;
        if ((x - base) % t->istep != 0)
            return gw_tsl_err_set(err, GW_TSL_E_INT, path, "%lld is not on step %lld from %lld", (long long)x,
                           (long long)t->istep, (long long)base);
    }
    return 0;
}

static int check_real(const gw_tsl_datatype_t *t, const json_t *v, const char *path, unsigned flags,
                      gw_tsl_err_t *err)
{
    int code = gw_tsl_type_code(t->type);
    const char *tn = gw_tsl_type_name(t->type);
    char b[64], b2[32], b3[32];
    double x;
    if (!json_num_form(v, flags, &x)) {
        if (json_is_string(v) && !(flags & GW_TSL_STRICT))
            return gw_tsl_err_set(err, code, path, "%s is not a finite number", show(v, b, sizeof b));
        return gw_tsl_err_set(err, code, path, "%s expected, got %s", tn, show(v, b, sizeof b));
    }
    if (t->type == LGW_TYPE_FLOAT && fabs(x) > (double)FLT_MAX)
        return gw_tsl_err_set(err, code, path, "%g is outside the float range", x);
    if (x < t->min)
        return gw_tsl_err_set(err, code, path, "%s is below min %s", gw_tsl_num_str(x, b), gw_tsl_num_str(t->min, b2));
    if (x > t->max)
        return gw_tsl_err_set(err, code, path, "%s is above max %s", gw_tsl_num_str(x, b), gw_tsl_num_str(t->max, b2));
    if (t->step > 0 && !(flags & GW_TSL_NO_STEP)) {
        double base = t->has_min ? t->min : 0.0;
        double eps = t->type == LGW_TYPE_FLOAT ? 4 * (double)FLT_EPSILON : 16 * DBL_EPSILON;
        if (!gw_tsl_num_on_step(x, base, t->step, eps))
            return gw_tsl_err_set(err, code, path, "%s is not on step %s from %s", gw_tsl_num_str(x, b),
                                  gw_tsl_num_str(t->step, b2), gw_tsl_num_str(base, b3));
    }
    return 0;
}

static bool has_key(const gw_tsl_datatype_t *t, int64_t k)
{
    size_t lo = 0, hi = t->n_items;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->items[mid].key == k)
            return true;
        if (t->items[mid].key < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int check_enum(const gw_tsl_datatype_t *t, const json_t *v, const char *path, unsigned flags,
                      gw_tsl_err_t *err)
{
    char b[64];
    int64_t k;
    if (json_is_real(v) || !json_int_form(v, flags, &k))
        return gw_tsl_err_set(err, GW_TSL_E_ENUM, path, "enum key (integer) expected, got %s", show(v, b, sizeof b));
    if (!has_key(t, k)) {
        char keys[96] = "";
        size_t used = 0;
        for (size_t i = 0; i < t->n_items && used + 16 < sizeof keys; i++)
            used += (size_t)snprintf(keys + used, sizeof keys - used, "%s%d", i ? "," : "", (int)t->items[i].key);
        if (used + 16 >= sizeof keys)
            snprintf(keys + used, sizeof keys - used, ",…");
        return gw_tsl_err_set(err, GW_TSL_E_ENUM, path, "%lld is not an enum key (%s)", (long long)k, keys);
    }
    return 0;
}

static int check_bool(const json_t *v, const char *path, unsigned flags, gw_tsl_err_t *err)
{
    char b[64];
    int64_t k;
    if (json_is_boolean(v) && !(flags & GW_TSL_STRICT))
        return 0;
    if (json_is_real(v) || !json_int_form(v, flags, &k))
        return gw_tsl_err_set(err, GW_TSL_E_BOOL, path, "bool (0 or 1) expected, got %s", show(v, b, sizeof b));
    if (k != 0 && k != 1)
        return gw_tsl_err_set(err, GW_TSL_E_BOOL, path, "bool must be 0 or 1, not %lld", (long long)k);
    return 0;
}

static int check_text(const gw_tsl_datatype_t *t, const json_t *v, const char *path, gw_tsl_err_t *err)
{
    char b[64];
    if (!json_is_string(v))
        return gw_tsl_err_set(err, GW_TSL_E_TEXT, path, "text expected, got %s", show(v, b, sizeof b));
    size_t len = json_string_length(v);
    if (len > t->length)
        return gw_tsl_err_set(err, GW_TSL_E_TEXT, path, "text of %zu bytes is longer than %zu", len, t->length);
    if (strlen(json_string_value(v)) != len)
        return gw_tsl_err_set(err, GW_TSL_E_TEXT, path, "text contains a NUL character");
    return 0;
}

static int check_date(const json_t *v, const char *path, gw_tsl_err_t *err)
{
    char b[64];
    int64_t ms;
    if (json_is_integer(v))
        ms = json_integer_value(v);
    else if (!json_is_string(v) || !gw_tsl_num_int64(json_string_value(v), &ms))
        return gw_tsl_err_set(err, GW_TSL_E_DATE, path, "date (UTC milliseconds) expected, got %s", show(v, b, sizeof b));
    if (ms < 0 || ms > DATE_MAX_MS)
        return gw_tsl_err_set(err, GW_TSL_E_DATE, path, "date %lld is outside 0..%lld", (long long)ms, DATE_MAX_MS);
    return 0;
}

static int check_at(const gw_tsl_datatype_t *t, const json_t *v, const char *path, unsigned flags,
                    gw_tsl_err_t *err, int depth);

static int check_struct(const gw_tsl_datatype_t *t, const json_t *v, const char *path, unsigned flags,
                        gw_tsl_err_t *err, int depth)
{
    char b[64], sub[128];
    if (!json_is_object(v))
        return gw_tsl_err_set(err, GW_TSL_E_STRUCT, path, "struct (object) expected, got %s", show(v, b, sizeof b));
    const char *key;
    const json_t *mv;
    json_object_foreach((json_t *)v, key, mv) {
        if (!gw_tsl_param_find(t->members, t->n_members, key)) {
            snprintf(sub, sizeof sub, "%s%s%.60s", path, *path ? "." : "", key);
            return gw_tsl_err_set(err, GW_TSL_E_STRUCT_MEMBER, sub, "struct has no member '%.60s'", key);
        }
    }
    for (size_t i = 0; i < t->n_members; i++) {
        const gw_tsl_param_t *p = &t->members[i];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", p->identifier);
        mv = json_object_get(v, p->identifier);
        if (!mv)
            return gw_tsl_err_set(err, GW_TSL_E_STRUCT, sub, "struct member missing");
        int rc = check_at(&p->type, mv, sub, flags, err, depth + 1);
        if (rc)
            return rc;
    }
    return 0;
}

static int check_array(const gw_tsl_datatype_t *t, const json_t *v, const char *path, unsigned flags,
                       gw_tsl_err_t *err, int depth)
{
    char b[64], sub[128];
    if (!json_is_array(v))
        return gw_tsl_err_set(err, GW_TSL_E_NOT_ARRAY, path, "array expected, got %s", show(v, b, sizeof b));
    size_t n = json_array_size(v);
    if (n > t->size)
        return gw_tsl_err_set(err, GW_TSL_E_ARRAY_ELEMENT, path, "array of %zu elements exceeds size %zu", n, t->size);
    for (size_t i = 0; i < n; i++) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        gw_tsl_err_t inner;
        if (check_at(t->item, json_array_get(v, i), sub, flags, &inner, depth + 1)) {
            if (err) {
                *err = inner;
                err->code = GW_TSL_E_ARRAY_ELEMENT;
            }
            return GW_TSL_E_ARRAY_ELEMENT;
        }
    }
    return 0;
}

static int check_at(const gw_tsl_datatype_t *t, const json_t *v, const char *path, unsigned flags,
                    gw_tsl_err_t *err, int depth)
{
    if (!t || depth > GW_TSL_MAX_DEPTH)
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, path, "value nested too deeply");
    if (!v)
        return gw_tsl_err_set(err, gw_tsl_type_code(t->type), path, "value missing");
    switch (t->type) {
    case LGW_TYPE_INT: return check_int(t, v, path, flags, err);
    case LGW_TYPE_FLOAT:
    case LGW_TYPE_DOUBLE: return check_real(t, v, path, flags, err);
    case LGW_TYPE_BOOL: return check_bool(v, path, flags, err);
    case LGW_TYPE_ENUM: return check_enum(t, v, path, flags, err);
    case LGW_TYPE_TEXT: return check_text(t, v, path, err);
    case LGW_TYPE_DATE: return check_date(v, path, err);
    case LGW_TYPE_STRUCT: return check_struct(t, v, path, flags, err, depth);
    case LGW_TYPE_ARRAY: return check_array(t, v, path, flags, err, depth);
    }
    return gw_tsl_err_set(err, GW_TSL_E_TSL_INCOMPLETE, path, "unknown data type");
}

int gw_tsl_check_value(const gw_tsl_datatype_t *t, const json_t *v, const char *path, unsigned flags,
                       gw_tsl_err_t *err)
{
    int rc = check_at(t, v, path ? path : "", flags, err, 1);
    return rc ? rc : ok(err);
}

int gw_tsl_check_property(const gw_tsl_model_t *m, const char *id, const json_t *v, unsigned flags,
                          gw_tsl_err_t *err)
{
    const gw_tsl_property_t *p = gw_tsl_model_property(m, id);
    if (!p)
        return gw_tsl_err_set(err, GW_TSL_E_NOT_DEFINED, id, "property not defined in the TSL");
    return gw_tsl_check_value(&p->type, v, id, flags, err);
}

/* Reads a `time` field: UTC ms as integer or decimal string. */
static bool read_time(const json_t *t, int64_t *out)
{
    int64_t ms;
    if (json_is_integer(t))
        ms = json_integer_value(t);
    else if (!json_is_string(t) || !gw_tsl_num_int64(json_string_value(t), &ms))
        return false;
    if (ms < 0 || ms > DATE_MAX_MS)
        return false;
    *out = ms;
    return true;
}

int gw_tsl_post_entry(const gw_tsl_property_t *p, const json_t *entry, const json_t **value, int64_t *time_ms,
                      gw_tsl_err_t *err)
{
    *value = entry;
    *time_ms = -1;
    const char *path = p ? p->identifier : "";
    const json_t *jv = json_object_get(entry, "value");
    if (!jv)
        return ok(err);
    size_t n = json_object_size(entry);
    const json_t *jt = json_object_get(entry, "time");
    if (n != (jt ? 2u : 1u))
        return ok(err); /* other keys: a bare struct value */
    if (p && p->type.type == LGW_TYPE_STRUCT && gw_tsl_param_find(p->type.members, p->type.n_members, "value"))
        return ok(err);
    *value = jv;
    if (jt && !read_time(jt, time_ms)) {
        char b[64];
        return gw_tsl_err_set(err, GW_TSL_E_TIME, path, "bad time %s (UTC milliseconds expected)", show(jt, b, sizeof b));
    }
    return ok(err);
}

int gw_tsl_check_property_post(const gw_tsl_model_t *m, const json_t *params, unsigned flags, gw_tsl_err_t *err)
{
    if (!json_is_object(params))
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "params", "property post params must be an object");
    if (json_object_size(params) > GW_TSL_MAX_PROPS_PER_POST)
        return gw_tsl_err_set(err, GW_TSL_E_TOO_MANY, "params", "map size must less than %d",
                       GW_TSL_MAX_PROPS_PER_POST);
    const char *key;
    const json_t *entry;
    json_object_foreach((json_t *)params, key, entry) {
        const gw_tsl_property_t *p = gw_tsl_model_property(m, key);
        if (!p)
            return gw_tsl_err_set(err, GW_TSL_E_NOT_DEFINED, key, "property not defined in the TSL");
        const json_t *v;
        int64_t t;
        int rc = gw_tsl_post_entry(p, entry, &v, &t, err);
        if (!rc)
            rc = gw_tsl_check_value(&p->type, v, p->identifier, flags, err);
        if (rc)
            return rc;
    }
    return ok(err);
}

/*
 * Checks an object of named params against @p defs: unknown names are 460;
 * when @p missing_code is non-zero, a missing one is reported with it.
 */
int gw_tsl_check_params(const gw_tsl_param_t *defs, size_t n, const json_t *obj, int missing_code,
                        const char *what, unsigned flags, gw_tsl_err_t *err)
{
    if (!json_is_object(obj))
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "", "%s must be an object", what);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        const gw_tsl_param_t *p = gw_tsl_param_find(defs, n, key);
        if (!p)
            return gw_tsl_err_set(err, GW_TSL_E_PARAM, key, "not a parameter of this %s", what);
        int rc = gw_tsl_check_value(&p->type, v, key, flags, err);
        if (rc)
            return rc;
    }
    if (missing_code)
        for (size_t i = 0; i < n; i++)
            if (!json_object_get(obj, defs[i].identifier))
                return gw_tsl_err_set(err, missing_code, defs[i].identifier, "%s argument missing", what);
    return ok(err);
}

int gw_tsl_check_event_output(const gw_tsl_model_t *m, const char *event, const json_t *value, unsigned flags,
                              gw_tsl_err_t *err)
{
    const gw_tsl_event_t *e = gw_tsl_model_event(m, event);
    if (!e)
        return gw_tsl_err_set(err, GW_TSL_E_EVENT_UNKNOWN, event, "event not defined in the TSL");
    return gw_tsl_check_params(e->output, e->n_output, value, 0, "event", flags, err);
}

int gw_tsl_check_event_post(const gw_tsl_model_t *m, const char *event, const json_t *params, unsigned flags,
                            gw_tsl_err_t *err)
{
    if (!gw_tsl_model_event(m, event))
        return gw_tsl_err_set(err, GW_TSL_E_EVENT_UNKNOWN, event, "event not defined in the TSL");
    if (!json_is_object(params))
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "params", "event params must be an object");
    const json_t *t = json_object_get(params, "time");
    int64_t ms;
    if (t && !read_time(t, &ms))
        return gw_tsl_err_set(err, GW_TSL_E_TIME, "time", "bad time (UTC milliseconds expected)");
    const json_t *v = json_object_get(params, "value");
    if (!v)
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "params", "event params need \"value\"");
    return gw_tsl_check_event_output(m, event, v, flags, err);
}

int gw_tsl_check_service_input(const gw_tsl_model_t *m, const char *service, const json_t *params, unsigned flags,
                               gw_tsl_err_t *err)
{
    const gw_tsl_service_t *s = gw_tsl_model_service(m, service);
    if (!s)
        return gw_tsl_err_set(err, GW_TSL_E_SERVICE_UNKNOWN, service, "service not defined in the TSL");
    return gw_tsl_check_params(s->input, s->n_input, params, GW_TSL_E_INPUT_MISSING, "service", flags, err);
}

int gw_tsl_check_service_output(const gw_tsl_model_t *m, const char *service, const json_t *data, unsigned flags,
                                gw_tsl_err_t *err)
{
    const gw_tsl_service_t *s = gw_tsl_model_service(m, service);
    if (!s)
        return gw_tsl_err_set(err, GW_TSL_E_SERVICE_UNKNOWN, service, "service not defined in the TSL");
    return gw_tsl_check_params(s->output, s->n_output, data, 0, "service output", flags, err);
}

int gw_tsl_check_property_set(const gw_tsl_model_t *m, const json_t *params, unsigned flags, gw_tsl_err_t *err)
{
    if (!json_is_object(params) || json_object_size(params) == 0)
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "params", "property set params must be a non-empty object");
    if (json_object_size(params) > GW_TSL_MAX_PROPS_PER_POST)
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "params", "more than %d properties", GW_TSL_MAX_PROPS_PER_POST);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)params, key, v) {
        const gw_tsl_property_t *p = gw_tsl_model_property(m, key);
        if (!p)
            return gw_tsl_err_set(err, GW_TSL_E_NOT_DEFINED, key, "property not defined in the TSL");
        if (!p->writable)
            return gw_tsl_err_set(err, GW_TSL_E_PARAM, key, "property is read-only");
        int rc = gw_tsl_check_value(&p->type, v, key, flags, err);
        if (rc)
            return rc;
    }
    return ok(err);
}

int gw_tsl_check_property_get(const gw_tsl_model_t *m, const json_t *params, gw_tsl_err_t *err)
{
    if (!json_is_array(params))
        return gw_tsl_err_set(err, GW_TSL_E_ARRAY_EXPECTED, "params", "property get params must be an array");
    size_t i;
    const json_t *v;
    json_array_foreach(params, i, v) {
        char sub[32];
        snprintf(sub, sizeof sub, "params[%zu]", i);
        if (!json_is_string(v))
            return gw_tsl_err_set(err, GW_TSL_E_PARAM, sub, "property identifier (string) expected");
        if (!gw_tsl_model_property(m, json_string_value(v)))
            return gw_tsl_err_set(err, GW_TSL_E_NOT_DEFINED, json_string_value(v), "property not defined in the TSL");
    }
    return ok(err);
}

/*
 * One pack/post device block: "properties" and "events" objects. With
 * @p n_props/@p n_events non-NULL only checks the shape and adds the counts.
 */
static int check_pack_block(const gw_tsl_model_t *m, const json_t *blk, const char *who, unsigned flags,
                            size_t *n_props, size_t *n_events, gw_tsl_err_t *err)
{
    const json_t *props = json_object_get(blk, "properties");
    const json_t *events = json_object_get(blk, "events");
    if (props && !json_is_object(props))
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, who, "\"properties\" must be an object");
    if (events && !json_is_object(events))
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, who, "\"events\" must be an object");
    if (n_props) { /* counting pass */
        *n_props += json_object_size(props);
        *n_events += json_object_size(events);
        return ok(err);
    }
    if (!m) {
        if (json_object_size(props) || json_object_size(events))
            return gw_tsl_err_set(err, GW_TSL_E_PARAM, who, "no TSL model for this device");
        return ok(err);
    }
    int rc = 0;
    if (props)
        rc = gw_tsl_check_property_post(m, props, flags, err);
    const char *key;
    const json_t *ev;
    if (!rc && events)
        json_object_foreach((json_t *)events, key, ev) {
            if ((rc = gw_tsl_check_event_post(m, key, ev, flags, err)))
                break;
        }
    if (rc && err) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%.60s: %.190s", who, err->msg);
        snprintf(err->msg, sizeof err->msg, "%s", msg);
        gw_tsl_utf8_fix(err->msg);
    }
    return rc;
}

int gw_tsl_check_pack_post(const gw_tsl_models_t *set, const gw_tsl_model_t *gw, const json_t *params,
                           unsigned flags, gw_tsl_err_t *err)
{
    if (!json_is_object(params))
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "params", "pack params must be an object");
    const json_t *subs = json_object_get(params, "subDevices");
    if (subs && !json_is_array(subs))
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "subDevices", "must be an array");
    if (json_array_size(subs) > GW_TSL_MAX_SUBDEVS_PER_PACK)
        return gw_tsl_err_set(err, GW_TSL_E_TOO_MANY_SUBDEV, "subDevices", "more than %d sub-devices",
                       GW_TSL_MAX_SUBDEVS_PER_PACK);
    /* Pass 0 counts properties and events (limits first, as they are cheap); pass 1 validates. */
    size_t n_props = 0, n_events = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t *np = pass ? NULL : &n_props, *ne = pass ? NULL : &n_events;
        int rc = check_pack_block(gw, params, "gateway", flags, np, ne, err);
        if (rc)
            return rc;
        size_t i;
        const json_t *sd;
        json_array_foreach(subs, i, sd) {
            char who[160];
            snprintf(who, sizeof who, "subDevices[%zu]", i);
            const json_t *id = json_object_get(sd, "identity");
            const json_t *pk = json_object_get(id, "productKey");
            const json_t *dn = json_object_get(id, "deviceName");
            if (!json_is_object(sd) || !json_is_string(pk) || !json_is_string(dn))
                return gw_tsl_err_set(err, GW_TSL_E_PARAM, who, "needs identity.productKey and identity.deviceName");
            snprintf(who, sizeof who, "%.60s/%.60s", json_string_value(pk), json_string_value(dn));
            const gw_tsl_model_t *m = gw_tsl_models_find(set, json_string_value(pk));
            if (pass && !m)
                return gw_tsl_err_set(err, GW_TSL_E_PARAM, who, "no TSL model for productKey");
            if ((rc = check_pack_block(m, sd, who, flags, np, ne, err)))
                return rc;
        }
        if (n_props > GW_TSL_MAX_PROPS_PER_POST)
            return gw_tsl_err_set(err, GW_TSL_E_TOO_MANY, "params", "more than %d properties in one pack",
                           GW_TSL_MAX_PROPS_PER_POST);
        if (n_events > GW_TSL_MAX_EVENTS_PER_PACK)
            return gw_tsl_err_set(err, GW_TSL_E_TOO_MANY_EVENTS, "params", "more than %d events in one pack",
                           GW_TSL_MAX_EVENTS_PER_PACK);
    }
    return ok(err);
}
