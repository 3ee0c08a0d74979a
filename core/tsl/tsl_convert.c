/*
 * Typed values (lgw_value_t) ⇄ Alink JSON, guided by the TSL data type
 * (contract in tsl_convert.h).
 */
#include "tsl_convert.h"
#include "tsl_internal.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OOM(err, path) gw_tsl_err_set(err, GW_TSL_E_PARAM, path, "out of memory")

double gw_tsl_float_decimal(float f)
{
    if (!isfinite(f))
        return (double)f;
    char buf[48];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        double d = strtod(buf, NULL);
        if ((float)d == f)
            return d;
    }
    return (double)f;
}

/* ---- JSON → value --------------------------------------------------------- */

/* Integer of an already validated int/enum/bool/date JSON form. */
static int64_t jint(const json_t *j)
{
    int64_t x = 0;
    if (json_is_integer(j))
        return json_integer_value(j);
    if (json_is_real(j))
        return (int64_t)json_real_value(j);
    if (json_is_true(j))
        return 1;
    if (json_is_string(j))
        gw_tsl_num_int64(json_string_value(j), &x);
    return x;
}

static double jnum(const json_t *j)
{
    double d = 0;
    if (json_is_string(j))
        gw_tsl_num_double(json_string_value(j), &d);
    else
        d = json_number_value(j);
    return d;
}

/* Converts a validated JSON value; NULL only when memory is short. */
static lgw_value_t *from_valid(const gw_tsl_datatype_t *t, const json_t *j)
{
    switch (t->type) {
    case LGW_TYPE_INT: return lgw_value_new_int(jint(j));
    case LGW_TYPE_FLOAT: return lgw_value_new_float((float)jnum(j));
    case LGW_TYPE_DOUBLE: return lgw_value_new_double(jnum(j));
    case LGW_TYPE_BOOL: return lgw_value_new_bool(jint(j) != 0);
    case LGW_TYPE_ENUM: return lgw_value_new_enum((int32_t)jint(j));
    case LGW_TYPE_DATE: return lgw_value_new_date(jint(j));
    case LGW_TYPE_TEXT: return lgw_value_new_text_n(json_string_value(j), json_string_length(j));
    case LGW_TYPE_STRUCT: {
        lgw_value_t *s = lgw_value_new_struct();
        for (size_t i = 0; s && i < t->n_members; i++) {
            lgw_value_t *m = from_valid(&t->members[i].type, json_object_get(j, t->members[i].identifier));
            if (!m || lgw_value_struct_set(s, t->members[i].identifier, m) != LGW_OK) {
                lgw_value_free(s);
                return NULL;
            }
        }
        return s;
    }
    case LGW_TYPE_ARRAY: {
        lgw_value_t *a = lgw_value_new_array();
        for (size_t i = 0; a && i < json_array_size(j); i++) {
            lgw_value_t *e = from_valid(t->item, json_array_get(j, i));
            if (!e || lgw_value_array_append(a, e) != LGW_OK) {
                lgw_value_free(a);
                return NULL;
            }
        }
        return a;
    }
    }
    return NULL;
}

int gw_tsl_value_from_json(const gw_tsl_datatype_t *t, const json_t *j, const char *path, unsigned flags,
                           lgw_value_t **out, gw_tsl_err_t *err)
{
    *out = NULL;
    int rc = gw_tsl_check_value(t, j, path, flags, err);
    if (rc)
        return rc;
    if (!(*out = from_valid(t, j)))
        return OOM(err, path);
    return 0;
}

/* ---- value → JSON --------------------------------------------------------- */

static int wrong_type(const gw_tsl_datatype_t *t, const lgw_value_t *v, const char *path, gw_tsl_err_t *err)
{
    return gw_tsl_err_set(err, gw_tsl_type_code(t->type), path, "%s expected, got %s", gw_tsl_type_name(t->type),
                          v ? gw_tsl_type_name(lgw_value_type(v)) : "nothing");
}

/*
 * Builds the JSON of @p v for type @p t without range checks (done after on
 * the whole result by gw_tsl_check_value). Returns 0 or a type error code.
 */
static int build(const gw_tsl_datatype_t *t, const lgw_value_t *v, const char *path, json_t **out,
                 gw_tsl_err_t *err, int depth)
{
    lgw_type_t vt = lgw_value_type(v);
    int64_t i;
    double d;
    *out = NULL;
    if (depth > GW_TSL_MAX_DEPTH)
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, path, "value nested too deeply");
    switch (t->type) {
    case LGW_TYPE_INT:
        if (vt == LGW_TYPE_INT || vt == LGW_TYPE_ENUM || vt == LGW_TYPE_BOOL) {
            lgw_value_get_int(v, &i);
        } else if (vt == LGW_TYPE_FLOAT || vt == LGW_TYPE_DOUBLE) {
            lgw_value_get_double(v, &d);
            if (!isfinite(d) || d != nearbyint(d) || fabs(d) > 9e18) {
                char nb[32];
                return gw_tsl_err_set(err, GW_TSL_E_INT, path, "%s is not an integer", gw_tsl_num_str(d, nb));
            }
            i = (int64_t)d;
        } else
            return wrong_type(t, v, path, err);
        *out = json_integer(i);
        break;
    case LGW_TYPE_FLOAT:
    case LGW_TYPE_DOUBLE:
        if (vt != LGW_TYPE_FLOAT && vt != LGW_TYPE_DOUBLE && vt != LGW_TYPE_INT)
            return wrong_type(t, v, path, err);
        lgw_value_get_double(v, &d);
        if (!isfinite(d))
            return gw_tsl_err_set(err, gw_tsl_type_code(t->type), path, "%g is not a finite number", d);
        /* A float sample, or any number for a TSL float (single precision on the platform):
         * the shortest decimal of its float, not the noise digits of a double
         * (509.25 for 509.2499966270152). Beyond float range it stays as it is and the
         * range check refuses it. */
        bool as_float = vt == LGW_TYPE_FLOAT || (t->type == LGW_TYPE_FLOAT && fabs(d) <= FLT_MAX);
        if (as_float)
            d = gw_tsl_float_decimal((float)d);
        /* Off the grid: to the nearest point. On it: exactly as given, except a
         * float sample (20.980024 for 20.98), whose digits past float precision are
         * noise, so the snap loses nothing. */
        if (t->step > 0) {
            double base = t->has_min ? t->min : 0.0;
            double eps = t->type == LGW_TYPE_FLOAT ? 4 * (double)FLT_EPSILON : 16 * DBL_EPSILON;
            if (as_float || !gw_tsl_num_on_step(d, base, t->step, eps))
                d = gw_tsl_num_snap(d, base, t->step);
        }
        *out = json_real(d);
        break;
    case LGW_TYPE_BOOL:
        if (vt == LGW_TYPE_BOOL || vt == LGW_TYPE_INT || vt == LGW_TYPE_ENUM)
            lgw_value_get_int(v, &i);
        else
            return wrong_type(t, v, path, err);
        *out = json_integer(i); /* range 0/1 checked afterwards */
        break;
    case LGW_TYPE_ENUM:
        if (vt != LGW_TYPE_ENUM && vt != LGW_TYPE_INT)
            return wrong_type(t, v, path, err);
        lgw_value_get_int(v, &i);
        *out = json_integer(i);
        break;
    case LGW_TYPE_DATE: {
        if (vt != LGW_TYPE_DATE && vt != LGW_TYPE_INT)
            return wrong_type(t, v, path, err);
        lgw_value_get_int(v, &i);
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRId64, i);
        *out = json_string(buf);
        break;
    }
    case LGW_TYPE_TEXT: {
        const char *s;
        size_t len;
        if (vt != LGW_TYPE_TEXT)
            return wrong_type(t, v, path, err);
        lgw_value_get_text(v, &s, &len);
        *out = json_stringn(s, len);
        if (!*out)
            return gw_tsl_err_set(err, GW_TSL_E_TEXT, path, "text is not valid UTF-8");
        break;
    }
    case LGW_TYPE_STRUCT: {
        if (vt != LGW_TYPE_STRUCT)
            return wrong_type(t, v, path, err);
        json_t *o = json_object();
        if (!o)
            return OOM(err, path);
        size_t n = lgw_value_count(v);
        for (size_t k = 0; k < n; k++) {
            const char *name = NULL;
            const lgw_value_t *mv = lgw_value_struct_at(v, k, &name);
            char sub[128];
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", name ? name : "?");
            const gw_tsl_param_t *p = gw_tsl_param_find(t->members, t->n_members, name);
            if (!p) {
                json_decref(o);
                return gw_tsl_err_set(err, GW_TSL_E_STRUCT_MEMBER, sub, "struct has no member '%s'",
                                      name ? name : "?");
            }
            json_t *mj;
            int rc = build(&p->type, mv, sub, &mj, err, depth + 1);
            if (rc || json_object_set_new(o, name, mj) != 0) {
                json_decref(o);
                return rc ? rc : OOM(err, path);
            }
        }
        *out = o;
        return 0;
    }
    case LGW_TYPE_ARRAY: {
        if (vt != LGW_TYPE_ARRAY)
            return wrong_type(t, v, path, err);
        json_t *a = json_array();
        if (!a)
            return OOM(err, path);
        size_t n = lgw_value_count(v);
        for (size_t k = 0; k < n && k <= t->size; k++) {
            char sub[128];
            snprintf(sub, sizeof sub, "%s[%zu]", path, k);
            json_t *ej;
            int rc = build(t->item, lgw_value_array_at(v, k), sub, &ej, err, depth + 1);
            if (rc || json_array_append_new(a, ej) != 0) {
                json_decref(a);
                if (rc && err)
                    err->code = GW_TSL_E_ARRAY_ELEMENT;
                return rc ? GW_TSL_E_ARRAY_ELEMENT : OOM(err, path);
            }
        }
        *out = a;
        return 0;
    }
    }
    if (!*out)
        return OOM(err, path);
    return 0;
}

int gw_tsl_value_to_json(const gw_tsl_datatype_t *t, const lgw_value_t *v, const char *path, unsigned flags,
                         json_t **out, gw_tsl_err_t *err)
{
    if (!path)
        path = "";
    json_t *j = NULL;
    *out = NULL;
    int rc = build(t, v, path, &j, err, 1);
    if (!rc)
        rc = gw_tsl_check_value(t, j, path, flags, err);
    if (rc) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return 0;
}
