/*
 * Value conversions driven by a model mapping (tsl_map.h): plugin point
 * values ⇄ TSL property JSON (scale/offset, value maps), property set/get
 * requests → point structs/lists, service arguments and event data renamed
 * between plugin and TSL names. Uses the lgw_value_* API (core/value.c).
 */
#include "tsl_map.h"
#include "tsl_convert.h"
#include "tsl_internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OOM(err, path) gw_tsl_err_set(err, GW_TSL_E_PARAM, path, "out of memory")

static int type_code(lgw_type_t t)
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

/* ---- lookups ------------------------------------------------------------- */

const gw_tsl_point_map_t *gw_tsl_map_point(const gw_tsl_model_map_t *mm, const char *point)
{
    if (!mm || !point)
        return NULL;
    size_t lo = 0, hi = mm->n_points;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(point, mm->points[mid].point);
        if (r == 0)
            return &mm->points[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const gw_tsl_point_map_t *gw_tsl_map_property(const gw_tsl_model_map_t *mm, const char *id)
{
    if (!mm || !id)
        return NULL;
    size_t lo = 0, hi = mm->n_points;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(id, mm->by_property[mid]->prop->identifier);
        if (r == 0)
            return mm->by_property[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const gw_tsl_service_map_t *gw_tsl_map_service(const gw_tsl_model_map_t *mm, const char *service)
{
    for (size_t i = 0; mm && service && i < mm->n_services; i++)
        if (strcmp(mm->services[i].service, service) == 0)
            return &mm->services[i];
    return NULL;
}

const gw_tsl_service_map_t *gw_tsl_map_service_tsl(const gw_tsl_model_map_t *mm, const char *id)
{
    for (size_t i = 0; mm && id && i < mm->n_services; i++)
        if (strcmp(mm->services[i].svc->identifier, id) == 0)
            return &mm->services[i];
    return NULL;
}

const gw_tsl_event_map_t *gw_tsl_map_event(const gw_tsl_model_map_t *mm, const char *event)
{
    for (size_t i = 0; mm && event && i < mm->n_events; i++)
        if (strcmp(mm->events[i].event, event) == 0)
            return &mm->events[i];
    return NULL;
}

/* ---- points: uplink ------------------------------------------------------ */

static bool pair_matches(const gw_tsl_map_pair_t *pr, const lgw_value_t *v)
{
    lgw_type_t vt = lgw_value_type(v);
    if (pr->pkind == LGW_TYPE_TEXT) {
        const char *s;
        size_t len;
        return vt == LGW_TYPE_TEXT && lgw_value_get_text(v, &s, &len) == LGW_OK && strlen(pr->ptext) == len &&
               memcmp(pr->ptext, s, len) == 0;
    }
    int64_t i;
    if (pr->pkind == LGW_TYPE_BOOL && vt != LGW_TYPE_BOOL)
        return false;
    if (pr->pkind == LGW_TYPE_INT && vt != LGW_TYPE_INT && vt != LGW_TYPE_ENUM)
        return false;
    return lgw_value_get_int(v, &i) == LGW_OK && i == pr->pint;
}

int gw_tsl_point_to_json(const gw_tsl_point_map_t *pm, const lgw_value_t *v, json_t **out, gw_tsl_err_t *err)
{
    const gw_tsl_property_t *p = pm->prop;
    const char *path = p->identifier;
    *out = NULL;
    if (pm->n_pairs) {
        for (size_t i = 0; i < pm->n_pairs; i++) {
            const gw_tsl_map_pair_t *pr = &pm->pairs[i];
            if (!pair_matches(pr, v))
                continue;
            json_t *j = pr->ttext ? json_string(pr->ttext) : json_integer(pr->tint);
            if (!j)
                return OOM(err, path);
            int rc = gw_tsl_check_value(&p->type, j, path, 0, err);
            if (rc) {
                json_decref(j);
                return rc;
            }
            *out = j;
            return 0;
        }
        char buf[64];
        lgw_value_to_string(v, buf, sizeof buf);
        return gw_tsl_err_set(err, type_code(p->type.type), path, "point '%s' value %s is not in the map",
                              pm->point, v ? buf : "(none)");
    }
    if (pm->linear) {
        lgw_type_t vt = lgw_value_type(v);
        double x;
        if ((vt != LGW_TYPE_INT && vt != LGW_TYPE_FLOAT && vt != LGW_TYPE_DOUBLE && vt != LGW_TYPE_ENUM) ||
            lgw_value_get_double(v, &x) != LGW_OK)
            return gw_tsl_err_set(err, type_code(p->type.type), path, "point '%s' is not a number (%s)", pm->point,
                                  v ? gw_tsl_type_name(vt) : "none");
        if (vt == LGW_TYPE_FLOAT)
            x = gw_tsl_float_decimal((float)x);
        double t = x * pm->scale + pm->offset;
        if (!isfinite(t))
            return gw_tsl_err_set(err, type_code(p->type.type), path, "point '%s' value is not finite", pm->point);
        json_t *j;
        if (p->type.type == LGW_TYPE_INT) {
            if (fabs(t) > 9e18)
                return gw_tsl_err_set(err, GW_TSL_E_INT, path, "%g is outside the 32-bit int range", t);
            t = (double)llround(t);
            if (p->type.istep > 1)
                t = gw_tsl_num_snap(t, (double)p->type.imin, (double)p->type.istep);
            j = json_integer((json_int_t)llround(t));
        } else {
            j = json_real(gw_tsl_num_snap(t, p->type.has_min ? p->type.min : 0.0, p->type.step));
        }
        if (!j)
            return OOM(err, path);
        int rc = gw_tsl_check_value(&p->type, j, path, 0, err);
        if (rc) {
            json_decref(j);
            return rc;
        }
        *out = j;
        return 0;
    }
    return gw_tsl_value_to_json(&p->type, v, path, 0, out, err);
}

/* ---- points: downlink -------------------------------------------------------- */

/* New value of point type @p pt from a number (INT rounds). NULL if @p pt is not numeric-like. */
static lgw_value_t *number_as(lgw_type_t pt, double x)
{
    switch (pt) {
    case LGW_TYPE_INT:
        if (!(fabs(x) < 9.2e18))
            return NULL;
        return lgw_value_new_int((int64_t)llround(x));
    case LGW_TYPE_ENUM:
        if (!(fabs(x) < 2.1e9))
            return NULL;
        return lgw_value_new_enum((int32_t)llround(x));
    case LGW_TYPE_FLOAT: return lgw_value_new_float((float)x);
    case LGW_TYPE_DOUBLE: return lgw_value_new_double(x);
    case LGW_TYPE_BOOL: return lgw_value_new_bool(x != 0);
    case LGW_TYPE_DATE: return lgw_value_new_date((int64_t)llround(x));
    default: return NULL;
    }
}

/* Converts @p tv (TSL-typed) to point type @p pt when both are scalars of compatible kinds. */
static lgw_value_t *coerce(lgw_value_t *tv, lgw_type_t pt)
{
    lgw_type_t vt = lgw_value_type(tv);
    if (!pt || pt == vt || vt == LGW_TYPE_TEXT || vt == LGW_TYPE_STRUCT || vt == LGW_TYPE_ARRAY)
        return tv;
    double x;
    if (lgw_value_get_double(tv, &x) != LGW_OK)
        return tv;
    lgw_value_t *pv = number_as(pt, x);
    if (!pv)
        return tv;
    lgw_value_free(tv);
    return pv;
}

int gw_tsl_point_from_json(const gw_tsl_point_map_t *pm, const json_t *j, unsigned flags, lgw_value_t **out,
                           gw_tsl_err_t *err)
{
    const gw_tsl_property_t *p = pm->prop;
    const char *path = p->identifier;
    lgw_value_t *tv = NULL;
    *out = NULL;
    int rc = gw_tsl_value_from_json(&p->type, j, path, flags, &tv, err);
    if (rc)
        return rc;
    if (pm->n_pairs) {
        const char *s = NULL;
        int64_t k = 0;
        if (p->type.type == LGW_TYPE_TEXT)
            lgw_value_get_text(tv, &s, NULL);
        else
            lgw_value_get_int(tv, &k);
        for (size_t i = 0; i < pm->n_pairs; i++) {
            const gw_tsl_map_pair_t *pr = &pm->pairs[i];
            if (s ? !(pr->ttext && strcmp(pr->ttext, s) == 0) : (pr->ttext || pr->tint != k))
                continue;
            lgw_value_free(tv);
            lgw_value_t *pv;
            if (pr->pkind == LGW_TYPE_TEXT)
                pv = lgw_value_new_text(pr->ptext);
            else if (pr->pkind == LGW_TYPE_BOOL)
                pv = lgw_value_new_bool(pr->pint != 0);
            else if (pm->point_type == LGW_TYPE_ENUM)
                pv = lgw_value_new_enum((int32_t)pr->pint);
            else
                pv = lgw_value_new_int(pr->pint);
            if (!pv)
                return OOM(err, path);
            *out = pv;
            return 0;
        }
        lgw_value_free(tv);
        char b[64];
        if (s)
            snprintf(b, sizeof b, "\"%.40s\"", s);
        else
            snprintf(b, sizeof b, "%lld", (long long)k);
        return gw_tsl_err_set(err, type_code(p->type.type), path, "%s has no point value in the map", b);
    }
    if (pm->linear) {
        double t;
        lgw_value_get_double(tv, &t);
        if (lgw_value_type(tv) == LGW_TYPE_FLOAT) /* undo float rounding: 23.6f → 23.6 */
            t = gw_tsl_float_decimal((float)t);
        lgw_value_free(tv);
        double x = (t - pm->offset) / pm->scale;
        lgw_type_t pt = pm->point_type;
        if (!pt)
            pt = p->type.type == LGW_TYPE_INT && x == nearbyint(x) ? LGW_TYPE_INT : LGW_TYPE_DOUBLE;
        lgw_value_t *pv = isfinite(x) ? number_as(pt, x) : NULL;
        if (!pv)
            return gw_tsl_err_set(err, type_code(p->type.type), path, "%g does not fit point '%s'", x, pm->point);
        *out = pv;
        return 0;
    }
    *out = coerce(tv, pm->point_type);
    return 0;
}

/* ---- requests -------------------------------------------------------------- */

int gw_tsl_map_property_set(const gw_tsl_model_map_t *mm, const json_t *params, unsigned flags,
                            lgw_value_t **points, gw_tsl_err_t *err)
{
    *points = NULL;
    if (!json_is_object(params) || json_object_size(params) == 0)
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "params", "property set params must be a non-empty object");
    if (json_object_size(params) > GW_TSL_MAX_PROPS_PER_POST)
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "params", "more than %d properties", GW_TSL_MAX_PROPS_PER_POST);
    lgw_value_t *s = lgw_value_new_struct();
    if (!s)
        return OOM(err, "params");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)params, key, v) {
        int rc = 0;
        const gw_tsl_point_map_t *pm = gw_tsl_map_property(mm, key);
        if (!gw_tsl_model_property(mm->tsl, key))
            rc = gw_tsl_err_set(err, GW_TSL_E_NOT_DEFINED, key, "property not defined in the TSL");
        else if (!gw_tsl_model_property(mm->tsl, key)->writable)
            rc = gw_tsl_err_set(err, GW_TSL_E_PARAM, key, "property is read-only");
        else if (!pm)
            rc = gw_tsl_err_set(err, GW_TSL_E_PARAM, key, "property is not mapped to a device point");
        else if (!pm->writable)
            rc = gw_tsl_err_set(err, GW_TSL_E_PARAM, key, "property is not writable on this device");
        lgw_value_t *pv = NULL;
        if (!rc)
            rc = gw_tsl_point_from_json(pm, v, flags, &pv, err);
        if (!rc && lgw_value_struct_set(s, pm->point, pv) != LGW_OK)
            rc = OOM(err, key);
        if (rc) {
            lgw_value_free(s);
            return rc;
        }
    }
    *points = s;
    return 0;
}

int gw_tsl_map_property_get(const gw_tsl_model_map_t *mm, const json_t *params, lgw_value_t **names,
                            gw_tsl_err_t *err)
{
    *names = NULL;
    int rc = gw_tsl_check_property_get(mm->tsl, params, err);
    if (rc)
        return rc;
    lgw_value_t *a = lgw_value_new_array();
    if (!a)
        return OOM(err, "params");
    size_t i;
    const json_t *v;
    json_array_foreach(params, i, v) {
        const gw_tsl_point_map_t *pm = gw_tsl_map_property(mm, json_string_value(v));
        if (!pm)
            rc = gw_tsl_err_set(err, GW_TSL_E_PARAM, json_string_value(v), "property is not mapped to a device point");
        else if (lgw_value_array_append(a, lgw_value_new_text(pm->point)) != LGW_OK)
            rc = OOM(err, "params");
        if (rc) {
            lgw_value_free(a);
            return rc;
        }
    }
    *names = a;
    return 0;
}

static const char *plugin_name(const gw_tsl_rename_t *r, size_t n, const char *tsl)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].tsl, tsl) == 0)
            return r[i].plugin;
    return tsl;
}

static const char *tsl_name(const gw_tsl_rename_t *r, size_t n, const char *plugin)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].plugin, plugin) == 0)
            return r[i].tsl;
    return plugin;
}

int gw_tsl_map_service_input(const gw_tsl_service_map_t *sm, const json_t *params, unsigned flags,
                             lgw_value_t **input, gw_tsl_err_t *err)
{
    *input = NULL;
    int rc = gw_tsl_check_params(sm->svc->input, sm->svc->n_input, params, GW_TSL_E_INPUT_MISSING, "service", flags,
                                 err);
    if (rc)
        return rc;
    lgw_value_t *s = lgw_value_new_struct();
    if (!s)
        return OOM(err, "params");
    for (size_t i = 0; i < sm->svc->n_input; i++) {
        const gw_tsl_param_t *p = &sm->svc->input[i];
        lgw_value_t *v = NULL;
        rc = gw_tsl_value_from_json(&p->type, json_object_get(params, p->identifier), p->identifier, flags, &v, err);
        if (!rc && lgw_value_struct_set(s, plugin_name(sm->renames, sm->n_renames, p->identifier), v) != LGW_OK)
            rc = OOM(err, p->identifier);
        if (rc) {
            lgw_value_free(s);
            return rc;
        }
    }
    *input = s;
    return 0;
}

/* Plugin struct → JSON object of TSL params (@p defs), renaming members. */
static int struct_to_params(const gw_tsl_param_t *defs, size_t n, const gw_tsl_rename_t *r, size_t nr,
                            const lgw_value_t *data, const char *what, json_t **out, gw_tsl_err_t *err)
{
    *out = NULL;
    if (data && lgw_value_type(data) != LGW_TYPE_STRUCT)
        return gw_tsl_err_set(err, GW_TSL_E_PARAM, "", "%s data must be a struct, not %s", what,
                              gw_tsl_type_name(lgw_value_type(data)));
    json_t *o = json_object();
    if (!o)
        return OOM(err, "");
    size_t count = lgw_value_count(data);
    for (size_t i = 0; i < count; i++) {
        const char *name = NULL;
        const lgw_value_t *mv = lgw_value_struct_at(data, i, &name);
        const char *id = tsl_name(r, nr, name);
        const gw_tsl_param_t *p = gw_tsl_param_find(defs, n, id);
        int rc = 0;
        json_t *j = NULL;
        if (!p)
            rc = gw_tsl_err_set(err, GW_TSL_E_PARAM, id, "not a parameter of this %s", what);
        else
            rc = gw_tsl_value_to_json(&p->type, mv, id, 0, &j, err);
        if (!rc && json_object_set_new(o, id, j) != 0)
            rc = OOM(err, id);
        if (rc) {
            json_decref(o);
            return rc;
        }
    }
    *out = o;
    return 0;
}

int gw_tsl_map_service_output(const gw_tsl_service_map_t *sm, const lgw_value_t *output, json_t **data,
                              gw_tsl_err_t *err)
{
    return struct_to_params(sm->svc->output, sm->svc->n_output, sm->renames, sm->n_renames, output, "service",
                            data, err);
}

int gw_tsl_map_event_output(const gw_tsl_event_map_t *em, const lgw_value_t *data, json_t **value,
                            gw_tsl_err_t *err)
{
    return struct_to_params(em->ev->output, em->ev->n_output, em->renames, em->n_renames, data, "event", value,
                            err);
}
