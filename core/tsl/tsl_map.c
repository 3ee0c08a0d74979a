/*
 * The `models` mapping of conf.d files: parsing and load-time checks
 * (file:line errors), the check against a plugin's declared device model.
 * The value conversions it drives live in tsl_map_convert.c.
 * Format and contracts: tsl_map.h.
 */
#include "tsl_map.h"
#include "tsl_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse context: the error sink and the count. */
typedef struct mctx {
    gw_tsl_error_fn fn;
    void *ctx;
    int n;
} mctx_t;

static const char *src_file(const config_setting_t *s)
{
    const char *f = s ? config_setting_source_file(s) : NULL;
    return f ? f : "<config>";
}

static void cerr(mctx_t *c, const config_setting_t *s, const char *fmt, ...) LGW_PRINTF(3, 4);

static void cerr(mctx_t *c, const config_setting_t *s, const char *fmt, ...)
{
    c->n++;
    if (!c->fn)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gw_tsl_utf8_fix(msg);
    c->fn(c->ctx, s, src_file(s), s ? (int)config_setting_source_line(s) : 0, msg);
}

/* Same, with an explicit file and line (device-model checks after parsing). */
static void cerr_at(mctx_t *c, const char *file, int line, const char *fmt, ...) LGW_PRINTF(4, 5);

static void cerr_at(mctx_t *c, const char *file, int line, const char *fmt, ...)
{
    c->n++;
    if (!c->fn)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gw_tsl_utf8_fix(msg);
    c->fn(c->ctx, NULL, file, line, msg);
}

static const char *kind_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_LIST: return "a list";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    }
    return "a value";
}

/* Reports members of group @p g not in @p allowed (NULL-terminated). */
static void check_keys(mctx_t *c, const config_setting_t *g, const char *const *allowed, const char *what)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = name && strcmp(name, *a) == 0;
        if (!ok) {
            char list[256] = "";
            size_t used = 0;
            for (const char *const *a = allowed; *a && used < sizeof list; a++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", a == allowed ? "" : ", ", *a);
            cerr(c, m, "unknown setting '%s' in %s (known: %s)", name ? name : "?", what, list);
        }
    }
}

/* Required string member; reports missing / wrong kind. */
static const char *get_string(mctx_t *c, const config_setting_t *g, const char *key, bool required)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s) {
        if (required)
            cerr(c, g, "missing required setting '%s'", key);
        return NULL;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        cerr(c, s, "setting '%s' must be a string, not %s", key, kind_name(config_setting_type(s)));
        return NULL;
    }
    const char *v = config_setting_get_string(s);
    if (!v || !*v) {
        cerr(c, s, "setting '%s' must not be empty", key);
        return NULL;
    }
    return v;
}

/* Optional number member (integer or float). Returns false when absent or wrong. */
static bool get_number(mctx_t *c, const config_setting_t *g, const char *key, double *out)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s)
        return false;
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
        *out = (double)config_setting_get_int64(s);
    else if (t == CONFIG_TYPE_FLOAT)
        *out = config_setting_get_float(s);
    else {
        cerr(c, s, "setting '%s' must be a number, not %s", key, kind_name(t));
        return false;
    }
    if (!isfinite(*out)) {
        cerr(c, s, "setting '%s' must be finite", key);
        return false;
    }
    return true;
}

static char *dup_or_count(mctx_t *c, const config_setting_t *s, const char *v)
{
    char *d = strdup(v);
    if (!d)
        cerr(c, s, "out of memory");
    return d;
}

/* ---- freeing ------------------------------------------------------------ */

static void renames_free(gw_tsl_rename_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].plugin);
        free(r[i].tsl);
    }
    free(r);
}

static void model_map_clear(gw_tsl_model_map_t *mm)
{
    free(mm->name);
    free(mm->file);
    for (size_t i = 0; i < mm->n_points; i++) {
        gw_tsl_point_map_t *p = &mm->points[i];
        free(p->point);
        for (size_t k = 0; k < p->n_pairs; k++) {
            free(p->pairs[k].ptext);
            free(p->pairs[k].ttext);
        }
        free(p->pairs);
    }
    free(mm->points);
    free(mm->by_property);
    for (size_t i = 0; i < mm->n_services; i++) {
        free(mm->services[i].service);
        renames_free(mm->services[i].renames, mm->services[i].n_renames);
    }
    free(mm->services);
    for (size_t i = 0; i < mm->n_events; i++) {
        free(mm->events[i].event);
        renames_free(mm->events[i].renames, mm->events[i].n_renames);
    }
    free(mm->events);
}

void gw_tsl_mapping_free(gw_tsl_mapping_t *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->n_models; i++)
        model_map_clear(&map->models[i]);
    free(map->models);
    free(map);
}

/* ---- map pairs ------------------------------------------------------------ */

/*
 * Converts a libconfig scalar to the TSL value of type @p t: checks it with
 * the validator and stores it in @p pr. Reports and returns false otherwise.
 */
static bool tsl_side(mctx_t *c, const config_setting_t *s, const gw_tsl_property_t *prop, gw_tsl_map_pair_t *pr)
{
    json_t *j = NULL;
    int kind = config_setting_type(s);
    switch (kind) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: j = json_integer(config_setting_get_int64(s)); break;
    case CONFIG_TYPE_BOOL: j = json_integer(config_setting_get_bool(s) ? 1 : 0); break;
    case CONFIG_TYPE_STRING: j = json_string(config_setting_get_string(s)); break;
    default: break;
    }
    lgw_type_t tt = prop->type.type;
    if (!j || (tt == LGW_TYPE_TEXT) != (kind == CONFIG_TYPE_STRING) ||
        (kind == CONFIG_TYPE_BOOL && tt != LGW_TYPE_BOOL)) {
        cerr(c, s, "map value for '%s' must be %s", prop->identifier,
             tt == LGW_TYPE_TEXT ? "a string" : tt == LGW_TYPE_BOOL ? "0, 1, true or false" : "an integer");
        json_decref(j);
        return false;
    }
    gw_tsl_err_t err;
    if (gw_tsl_check_value(&prop->type, j, prop->identifier, GW_TSL_STRICT, &err)) {
        cerr(c, s, "map value refused by the TSL: %s", err.msg);
        json_decref(j);
        return false;
    }
    if (tt == LGW_TYPE_TEXT)
        pr->ttext = dup_or_count(c, s, json_string_value(j));
    else
        pr->tint = json_integer_value(j);
    json_decref(j);
    return tt != LGW_TYPE_TEXT || pr->ttext;
}

/* Point side of a list-form pair. */
static bool point_side(mctx_t *c, const config_setting_t *s, gw_tsl_map_pair_t *pr)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        pr->pkind = LGW_TYPE_INT;
        pr->pint = config_setting_get_int64(s);
        return true;
    case CONFIG_TYPE_BOOL:
        pr->pkind = LGW_TYPE_BOOL;
        pr->pint = config_setting_get_bool(s) ? 1 : 0;
        return true;
    case CONFIG_TYPE_STRING:
        pr->pkind = LGW_TYPE_TEXT;
        return (pr->ptext = dup_or_count(c, s, config_setting_get_string(s))) != NULL;
    }
    cerr(c, s, "map point value must be an integer, a boolean or a string, not %s",
         kind_name(config_setting_type(s)));
    return false;
}

static bool same_point(const gw_tsl_map_pair_t *a, const gw_tsl_map_pair_t *b)
{
    if (a->pkind != b->pkind)
        return false;
    return a->pkind == LGW_TYPE_TEXT ? strcmp(a->ptext, b->ptext) == 0 : a->pint == b->pint;
}

static bool same_tsl(const gw_tsl_map_pair_t *a, const gw_tsl_map_pair_t *b)
{
    if (a->ttext || b->ttext)
        return a->ttext && b->ttext && strcmp(a->ttext, b->ttext) == 0;
    return a->tint == b->tint;
}

static void parse_map(mctx_t *c, const config_setting_t *ms, gw_tsl_point_map_t *pm)
{
    lgw_type_t tt = pm->prop ? pm->prop->type.type : 0;
    if (pm->prop && tt != LGW_TYPE_ENUM && tt != LGW_TYPE_BOOL && tt != LGW_TYPE_INT && tt != LGW_TYPE_TEXT) {
        cerr(c, ms, "'map' needs a TSL enum, bool, int or text property; '%s' is %s", pm->prop->identifier,
             gw_tsl_type_name(tt));
        return;
    }
    int kind = config_setting_type(ms);
    if (kind != CONFIG_TYPE_GROUP && kind != CONFIG_TYPE_LIST) {
        cerr(c, ms, "'map' must be a group { name = value; } or a list ( (point, tsl), … ), not %s",
             kind_name(kind));
        return;
    }
    int n = config_setting_length(ms);
    if (n == 0) {
        cerr(c, ms, "'map' is empty");
        return;
    }
    if (!(pm->pairs = calloc((size_t)n, sizeof *pm->pairs))) {
        cerr(c, ms, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(ms, (unsigned)i);
        gw_tsl_map_pair_t *pr = &pm->pairs[pm->n_pairs];
        const config_setting_t *tv;
        if (kind == CONFIG_TYPE_GROUP) {
            pr->pkind = LGW_TYPE_TEXT;
            if (!(pr->ptext = dup_or_count(c, e, config_setting_name(e))))
                continue;
            tv = e;
        } else {
            int ek = config_setting_type(e);
            if ((ek != CONFIG_TYPE_LIST && ek != CONFIG_TYPE_ARRAY) || config_setting_length(e) != 2) {
                cerr(c, e, "map entry must be a pair (point_value, tsl_value)");
                continue;
            }
            if (!point_side(c, config_setting_get_elem(e, 0), pr))
                continue;
            tv = config_setting_get_elem(e, 1);
        }
        pm->n_pairs++; /* owned from here on, even if the TSL side fails */
        if (!pm->prop || !tsl_side(c, tv, pm->prop, pr))
            continue;
        for (size_t k = 0; k + 1 < pm->n_pairs; k++) {
            if (same_point(&pm->pairs[k], pr)) {
                cerr(c, e, "map point value appears twice");
                break;
            }
            if (same_tsl(&pm->pairs[k], pr)) {
                cerr(c, e, "map TSL value appears twice (the mapping must work both ways)");
                break;
            }
        }
    }
}

/* ---- points, services, events ---------------------------------------------- */

static void parse_point(mctx_t *c, const config_setting_t *g, const gw_tsl_model_t *tsl, gw_tsl_point_map_t *pm)
{
    static const char *const keys[] = { "point", "property", "scale", "offset", "map", "deadband", "writable", NULL };
    pm->line = (int)config_setting_source_line(g);
    pm->scale = 1.0;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        cerr(c, g, "each entry of 'points' must be a group { point = …; property = …; }");
        return;
    }
    check_keys(c, g, keys, "a point");
    const char *point = get_string(c, g, "point", true);
    const char *prop = get_string(c, g, "property", true);
    if (point)
        pm->point = dup_or_count(c, g, point);
    if (prop && tsl) {
        pm->prop = gw_tsl_model_property(tsl, prop);
        if (!pm->prop)
            cerr(c, config_setting_get_member(g, "property"), "product %s has no property '%s'", tsl->product_key,
                 prop);
    }
    lgw_type_t tt = pm->prop ? pm->prop->type.type : 0;
    bool numeric = tt == LGW_TYPE_INT || tt == LGW_TYPE_FLOAT || tt == LGW_TYPE_DOUBLE;
    bool has_scale = get_number(c, g, "scale", &pm->scale);
    bool has_offset = get_number(c, g, "offset", &pm->offset);
    const config_setting_t *ms = config_setting_get_member(g, "map");
    if (has_scale || has_offset) {
        pm->linear = true;
        const config_setting_t *at = config_setting_get_member(g, has_scale ? "scale" : "offset");
        if (has_scale && pm->scale == 0)
            cerr(c, at, "'scale' must not be 0");
        if (pm->prop && !numeric)
            cerr(c, at, "'scale'/'offset' need a TSL int, float or double property; '%s' is %s", pm->prop->identifier,
                 gw_tsl_type_name(tt));
        if (ms)
            cerr(c, ms, "'map' and 'scale'/'offset' cannot be combined");
    }
    if (ms && !pm->linear)
        parse_map(c, ms, pm);
    const config_setting_t *db = config_setting_get_member(g, "deadband");
    if (get_number(c, g, "deadband", &pm->deadband)) {
        if (pm->deadband < 0)
            cerr(c, db, "'deadband' must be >= 0");
        else if (pm->prop && !numeric)
            cerr(c, db, "'deadband' needs a numeric TSL property; '%s' is %s", pm->prop->identifier,
                 gw_tsl_type_name(tt));
    }
    pm->writable = pm->prop && pm->prop->writable;
    const config_setting_t *w = config_setting_get_member(g, "writable");
    if (w) {
        if (config_setting_type(w) != CONFIG_TYPE_BOOL)
            cerr(c, w, "setting 'writable' must be a boolean, not %s", kind_name(config_setting_type(w)));
        else if (config_setting_get_bool(w) && pm->prop && !pm->prop->writable)
            cerr(c, w, "property '%s' is read-only in the TSL (accessMode \"r\"): it cannot be writable",
                 pm->prop->identifier);
        else if (!config_setting_get_bool(w))
            pm->writable = false;
    }
}

/* `params = { plugin_name = "TslName"; }` of services and events. */
static void parse_renames(mctx_t *c, const config_setting_t *g, const gw_tsl_param_t *a, size_t na,
                          const gw_tsl_param_t *b, size_t nb, bool check, gw_tsl_rename_t **out, size_t *n_out)
{
    const config_setting_t *ps = config_setting_get_member(g, "params");
    if (!ps)
        return;
    if (config_setting_type(ps) != CONFIG_TYPE_GROUP) {
        cerr(c, ps, "'params' must be a group { plugin_name = \"TslIdentifier\"; }");
        return;
    }
    int n = config_setting_length(ps);
    if (n <= 0)
        return;
    if (!(*out = calloc((size_t)n, sizeof **out))) {
        cerr(c, ps, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(ps, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            cerr(c, e, "'params' entries must be strings (TSL identifiers)");
            continue;
        }
        const char *tsl = config_setting_get_string(e);
        if (check && !gw_tsl_param_find(a, na, tsl) && !gw_tsl_param_find(b, nb, tsl)) {
            cerr(c, e, "'%s' is not a parameter of the TSL item", tsl);
            continue;
        }
        for (size_t k = 0; k < *n_out; k++)
            if ((*out)[k].tsl && strcmp((*out)[k].tsl, tsl) == 0)
                cerr(c, e, "TSL parameter '%s' is named twice", tsl);
        gw_tsl_rename_t *r = &(*out)[*n_out];
        r->plugin = dup_or_count(c, e, config_setting_name(e));
        r->tsl = dup_or_count(c, e, tsl);
        (*n_out)++;
    }
}

static void parse_services(mctx_t *c, const config_setting_t *list, gw_tsl_model_map_t *mm)
{
    static const char *const keys[] = { "service", "tsl", "params", NULL };
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        cerr(c, list, "'services' must be a list ( { service = …; tsl = …; }, … )");
        return;
    }
    int n = config_setting_length(list);
    if (n <= 0)
        return;
    if (!(mm->services = calloc((size_t)n, sizeof *mm->services))) {
        cerr(c, list, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            cerr(c, g, "each entry of 'services' must be a group");
            continue;
        }
        gw_tsl_service_map_t *sm = &mm->services[mm->n_services++];
        sm->line = (int)config_setting_source_line(g);
        check_keys(c, g, keys, "a service");
        const char *svc = get_string(c, g, "service", true);
        const char *tsl = get_string(c, g, "tsl", true);
        if (svc) {
            sm->service = dup_or_count(c, g, svc);
            for (size_t k = 0; k + 1 < mm->n_services; k++)
                if (mm->services[k].service && strcmp(mm->services[k].service, svc) == 0)
                    cerr(c, g, "service '%s' is mapped twice", svc);
        }
        if (tsl && mm->tsl && !(sm->svc = gw_tsl_model_service(mm->tsl, tsl)))
            cerr(c, config_setting_get_member(g, "tsl"), "product %s has no service '%s'", mm->tsl->product_key,
                 tsl);
        parse_renames(c, g, sm->svc ? sm->svc->input : NULL, sm->svc ? sm->svc->n_input : 0,
                      sm->svc ? sm->svc->output : NULL, sm->svc ? sm->svc->n_output : 0, sm->svc != NULL,
                      &sm->renames, &sm->n_renames);
    }
}

static void parse_events(mctx_t *c, const config_setting_t *list, gw_tsl_model_map_t *mm)
{
    static const char *const keys[] = { "event", "tsl", "params", NULL };
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        cerr(c, list, "'events' must be a list ( { event = …; tsl = …; }, … )");
        return;
    }
    int n = config_setting_length(list);
    if (n <= 0)
        return;
    if (!(mm->events = calloc((size_t)n, sizeof *mm->events))) {
        cerr(c, list, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            cerr(c, g, "each entry of 'events' must be a group");
            continue;
        }
        gw_tsl_event_map_t *em = &mm->events[mm->n_events++];
        em->line = (int)config_setting_source_line(g);
        check_keys(c, g, keys, "an event");
        const char *ev = get_string(c, g, "event", true);
        const char *tsl = get_string(c, g, "tsl", true);
        if (ev) {
            em->event = dup_or_count(c, g, ev);
            for (size_t k = 0; k + 1 < mm->n_events; k++)
                if (mm->events[k].event && strcmp(mm->events[k].event, ev) == 0)
                    cerr(c, g, "event '%s' is mapped twice", ev);
        }
        if (tsl && mm->tsl && !(em->ev = gw_tsl_model_event(mm->tsl, tsl)))
            cerr(c, config_setting_get_member(g, "tsl"), "product %s has no event '%s'", mm->tsl->product_key, tsl);
        parse_renames(c, g, em->ev ? em->ev->output : NULL, em->ev ? em->ev->n_output : 0, NULL, 0, em->ev != NULL,
                      &em->renames, &em->n_renames);
    }
}

static int cmp_point(const void *a, const void *b)
{
    const gw_tsl_point_map_t *x = a, *y = b;
    return strcmp(x->point ? x->point : "", y->point ? y->point : "");
}

static int cmp_point_prop(const void *a, const void *b)
{
    const gw_tsl_point_map_t *const *x = a, *const *y = b;
    return strcmp((*x)->prop->identifier, (*y)->prop->identifier);
}

static void parse_points(mctx_t *c, const config_setting_t *list, gw_tsl_model_map_t *mm)
{
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        cerr(c, list, "'points' must be a list ( { point = …; property = …; }, … )");
        return;
    }
    int n = config_setting_length(list);
    if (n <= 0)
        return;
    if (!(mm->points = calloc((size_t)n, sizeof *mm->points)) ||
        !(mm->by_property = calloc((size_t)n, sizeof *mm->by_property))) {
        cerr(c, list, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++)
        parse_point(c, config_setting_get_elem(list, (unsigned)i), mm->tsl, &mm->points[mm->n_points++]);
    qsort(mm->points, mm->n_points, sizeof *mm->points, cmp_point);
    size_t np = 0;
    for (size_t i = 0; i < mm->n_points; i++) {
        gw_tsl_point_map_t *p = &mm->points[i];
        if (i > 0 && p->point && mm->points[i - 1].point && strcmp(p->point, mm->points[i - 1].point) == 0)
            cerr_at(c, mm->file, p->line > mm->points[i - 1].line ? p->line : mm->points[i - 1].line,
                    "point '%s' is mapped twice", p->point);
        if (p->prop)
            mm->by_property[np++] = p;
    }
    qsort(mm->by_property, np, sizeof *mm->by_property, cmp_point_prop);
    for (size_t i = 1; i < np; i++)
        if (mm->by_property[i]->prop == mm->by_property[i - 1]->prop) {
            const gw_tsl_point_map_t *a = mm->by_property[i - 1], *b = mm->by_property[i];
            cerr_at(c, mm->file, a->line > b->line ? a->line : b->line,
                    "property '%s' is mapped from two points ('%s' and '%s')", b->prop->identifier,
                    a->line < b->line ? a->point : b->point, a->line < b->line ? b->point : a->point);
        }
}

static void parse_model(mctx_t *c, const config_setting_t *g, const gw_tsl_models_t *set, gw_tsl_model_map_t *mm)
{
    static const char *const keys[] = { "product_key", "full_report_s", "points", "services", "events", NULL };
    static uint64_t serials; /* parsing happens on the loop thread (start, SIGHUP) */
    mm->serial = ++serials;
    mm->line = (int)config_setting_source_line(g);
    mm->file = dup_or_count(c, g, src_file(g));
    mm->name = dup_or_count(c, g, config_setting_name(g));
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        cerr(c, g, "model '%s' must be a group { product_key = …; points = ( … ); }", config_setting_name(g));
        return;
    }
    check_keys(c, g, keys, "a model mapping");
    const char *pk = get_string(c, g, "product_key", true);
    if (pk && !(mm->tsl = gw_tsl_models_find(set, pk)))
        cerr(c, config_setting_get_member(g, "product_key"), "no TSL model for ProductKey '%s' in the models directory",
             pk);
    const config_setting_t *fr = config_setting_get_member(g, "full_report_s");
    if (fr) {
        int t = config_setting_type(fr);
        long long v = config_setting_get_int64(fr);
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
            cerr(c, fr, "setting 'full_report_s' must be an integer, not %s", kind_name(t));
        else if (v < 0 || v > 86400 * 7)
            cerr(c, fr, "setting 'full_report_s' must be 0..604800, not %lld", v);
        else
            mm->full_report_ms = (int64_t)v * 1000;
    }
    const config_setting_t *s;
    if ((s = config_setting_get_member(g, "points")))
        parse_points(c, s, mm);
    if ((s = config_setting_get_member(g, "services")))
        parse_services(c, s, mm);
    if ((s = config_setting_get_member(g, "events")))
        parse_events(c, s, mm);
}

static int cmp_model(const void *a, const void *b)
{
    const gw_tsl_model_map_t *x = a, *y = b;
    return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

gw_tsl_mapping_t *gw_tsl_mapping_parse(const config_setting_t *models, const gw_tsl_models_t *set,
                                       gw_tsl_error_fn fn, void *ctx, int *n_errors)
{
    mctx_t c = { fn, ctx, 0 };
    gw_tsl_mapping_t *map = calloc(1, sizeof *map);
    if (!map) {
        cerr(&c, models, "out of memory");
    } else if (!models || config_setting_type(models) != CONFIG_TYPE_GROUP) {
        cerr(&c, models, "'models' must be a group { model_name = { … }; }");
    } else {
        int n = config_setting_length(models);
        if (n > 0 && !(map->models = calloc((size_t)n, sizeof *map->models)))
            cerr(&c, models, "out of memory");
        for (int i = 0; map->models && i < n; i++)
            parse_model(&c, config_setting_get_elem(models, (unsigned)i), set, &map->models[map->n_models++]);
        if (map->n_models)
            qsort(map->models, map->n_models, sizeof *map->models, cmp_model);
    }
    if (n_errors)
        *n_errors = c.n;
    if (c.n) {
        gw_tsl_mapping_free(map);
        return NULL;
    }
    return map;
}

int gw_tsl_mapping_validate(const config_setting_t *models, const gw_tsl_models_t *set, gw_tsl_error_fn fn,
                            void *ctx)
{
    int n = 0;
    gw_tsl_mapping_free(gw_tsl_mapping_parse(models, set, fn, ctx, &n));
    return n;
}

const gw_tsl_model_map_t *gw_tsl_mapping_model(const gw_tsl_mapping_t *map, const char *name)
{
    if (!map || !name)
        return NULL;
    size_t lo = 0, hi = map->n_models;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(name, map->models[mid].name);
        if (r == 0)
            return &map->models[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ---- check against the declared device model ------------------------------ */

/* Whether a point of type @p pt can carry property values under map @p pm. NULL if fine, else why not. */
static const char *type_misfit(const gw_tsl_point_map_t *pm, lgw_type_t pt)
{
    lgw_type_t tt = pm->prop->type.type;
    if (pm->n_pairs) {
        lgw_type_t pk = pm->pairs[0].pkind;
        for (size_t i = 1; i < pm->n_pairs; i++)
            if (pm->pairs[i].pkind != pk)
                return "the map mixes point value kinds";
        if (pk == LGW_TYPE_TEXT && pt == LGW_TYPE_TEXT)
            return NULL;
        if (pk == LGW_TYPE_INT && (pt == LGW_TYPE_INT || pt == LGW_TYPE_ENUM))
            return NULL;
        if (pk == LGW_TYPE_BOOL && pt == LGW_TYPE_BOOL)
            return NULL;
        return "the map's point values do not have the point's type";
    }
    bool num = pt == LGW_TYPE_INT || pt == LGW_TYPE_FLOAT || pt == LGW_TYPE_DOUBLE;
    if (pm->linear)
        return num ? NULL : "scale/offset need a numeric point";
    switch (tt) {
    case LGW_TYPE_INT:
        if (pt == LGW_TYPE_INT || pt == LGW_TYPE_ENUM || pt == LGW_TYPE_BOOL)
            return NULL;
        return pt == LGW_TYPE_FLOAT || pt == LGW_TYPE_DOUBLE ? "a fractional point for an int property needs "
                                                               "'scale' (values are rounded)"
                                                             : "types do not match";
    case LGW_TYPE_FLOAT:
    case LGW_TYPE_DOUBLE: return num ? NULL : "types do not match";
    case LGW_TYPE_BOOL:
        return pt == LGW_TYPE_BOOL || pt == LGW_TYPE_INT || pt == LGW_TYPE_ENUM ? NULL : "types do not match (use 'map')";
    case LGW_TYPE_ENUM: return pt == LGW_TYPE_ENUM || pt == LGW_TYPE_INT ? NULL : "types do not match (use 'map')";
    case LGW_TYPE_DATE: return pt == LGW_TYPE_DATE || pt == LGW_TYPE_INT ? NULL : "types do not match";
    default: return pt == tt ? NULL : "types do not match";
    }
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], s) == 0)
            return true;
    return false;
}

int gw_tsl_mapping_check_device(gw_tsl_mapping_t *map, const gw_tsl_dev_model_t *dm, gw_tsl_error_fn fn, void *ctx)
{
    mctx_t c = { fn, ctx, 0 };
    gw_tsl_model_map_t *mm = (gw_tsl_model_map_t *)gw_tsl_mapping_model(map, dm ? dm->name : NULL);
    if (!mm)
        return 0;
    for (size_t i = 0; i < mm->n_points; i++) {
        gw_tsl_point_map_t *pm = &mm->points[i];
        const gw_tsl_dev_point_t *dp = NULL;
        for (size_t k = 0; k < dm->n_points && !dp; k++)
            if (strcmp(dm->points[k].name, pm->point) == 0)
                dp = &dm->points[k];
        if (!dp) {
            char names[256] = "";
            size_t used = 0;
            for (size_t k = 0; k < dm->n_points && used < sizeof names; k++)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", k ? ", " : "",
                                         dm->points[k].name);
            cerr_at(&c, mm->file, pm->line, "model '%s' has no point '%s' (points: %s)", mm->name, pm->point,
                    dm->n_points ? names : "none");
            continue;
        }
        const char *why = type_misfit(pm, dp->type);
        if (why) {
            cerr_at(&c, mm->file, pm->line, "point '%s' (%s) cannot map to property '%s' (%s): %s", pm->point,
                    gw_tsl_type_name(dp->type), pm->prop->identifier, gw_tsl_type_name(pm->prop->type.type), why);
            continue;
        }
        if (pm->writable && !(dp->access & LGW_ACCESS_WRITE)) {
            cerr_at(&c, mm->file, pm->line,
                    "property '%s' is writable in the TSL but point '%s' is read-only (add writable = false)",
                    pm->prop->identifier, pm->point);
            continue;
        }
        pm->point_type = dp->type;
    }
    for (size_t i = 0; i < mm->n_services; i++)
        if (!in_list(dm->services, dm->n_services, mm->services[i].service))
            cerr_at(&c, mm->file, mm->services[i].line, "model '%s' has no service '%s'", mm->name,
                    mm->services[i].service);
    for (size_t i = 0; i < mm->n_events; i++)
        if (!in_list(dm->events, dm->n_events, mm->events[i].event))
            cerr_at(&c, mm->file, mm->events[i].line, "model '%s' has no event '%s'", mm->name, mm->events[i].event);
    return c.n;
}
