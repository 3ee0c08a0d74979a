/*
 * Reading and validating the KNX plugin's settings (see knx_conf.h for the
 * format). Runs in the create callback, so it also serves
 * `linkgw --check-config`.
 */
#include "knx_conf.h"

#include <stdlib.h>
#include <string.h>

#include "knx_addr.h"

lgw_type_t knx_dpt_lgw_type(knx_dpt_t dpt)
{
    switch (knx_dpt_kind(dpt)) {
    case KNX_VK_BOOL: return LGW_TYPE_BOOL;
    case KNX_VK_DOUBLE: return LGW_TYPE_DOUBLE;
    case KNX_VK_FLOAT: return LGW_TYPE_FLOAT;
    case KNX_VK_TEXT: return LGW_TYPE_TEXT;
    case KNX_VK_ENUM: return LGW_TYPE_ENUM;
    case KNX_VK_RGB: return LGW_TYPE_STRUCT;
    case KNX_VK_INT:
    default: return LGW_TYPE_INT;
    }
}

knx_device_t *knx_settings_find_device(const knx_settings_t *s, const char *id)
{
    for (size_t k = 0; k < s->n_devices; k++)
        if (s->devices[k].id && strcmp(s->devices[k].id, id) == 0)
            return &s->devices[k];
    return NULL;
}

knx_point_t *knx_device_find_point(const knx_device_t *dev, const char *name)
{
    for (size_t k = 0; k < dev->n_points; k++)
        if (dev->points[k].name && strcmp(dev->points[k].name, name) == 0)
            return &dev->points[k];
    return NULL;
}

void knx_settings_free(knx_settings_t *s)
{
    if (!s)
        return;
    for (size_t d = 0; d < s->n_devices; d++) {
        knx_device_t *dev = &s->devices[d];
        for (size_t p = 0; p < dev->n_points; p++) {
            free(dev->points[p].name);
            free(dev->points[p].listen);
        }
        free(dev->points);
        free(dev->id);
        free(dev->model);
    }
    free(s->devices);
    free(s->url);
    memset(s, 0, sizeof *s);
}

/* True when @p s is 1..max characters of [A-Za-z0-9] plus @p extra. */
static bool name_ok(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(extra, c)))
            return false;
    }
    return true;
}

/* Reads group address member @p key of @p grp into *out (left 0 if absent). */
static void get_ga(const lgw_config_t *grp, const char *key, uint16_t *out)
{
    const char *s;
    if (lgw_config_get_string(grp, key, &s) != LGW_OK)
        return;
    if (!knx_ga_parse(s, out))
        lgw_config_error(lgw_config_child(grp, key),
                         "'%s' is not a group address (main/middle/sub up to 31/7/255, or main/sub up to 31/2047)",
                         s);
}

/* Adds @p ga to the point's listen set unless present. Returns false when out of memory. */
static bool add_listen(knx_point_t *pt, uint16_t ga)
{
    if (ga == 0)
        return true;
    for (size_t k = 0; k < pt->n_listen; k++)
        if (pt->listen[k] == ga)
            return true;
    uint16_t *n = realloc(pt->listen, (pt->n_listen + 1) * sizeof *n);
    if (!n)
        return false;
    pt->listen = n;
    pt->listen[pt->n_listen++] = ga;
    return true;
}

static int load_point(const lgw_config_t *c, knx_device_t *dev, knx_point_t *pt)
{
    static const char *const keys[] = { "name", "dpt", "write", "state", "listen", "read_on_start",
                                        "poll_ms", "access", NULL };
    if (lgw_config_kind(c) != LGW_CFG_GROUP) {
        lgw_config_error(c, "a point must be a group { name = …; dpt = …; … }");
        return LGW_OK;
    }
    lgw_config_check_keys(c, keys);
    pt->dev = dev;

    const char *name = NULL;
    if (lgw_config_require(c, "name") == LGW_OK && lgw_config_get_string(c, "name", &name) == LGW_OK) {
        if (!name_ok(name, 64, "_"))
            lgw_config_error(lgw_config_child(c, "name"), "point name '%s' must be 1..64 of A-Z a-z 0-9 _", name);
        else if (knx_device_find_point(dev, name))
            lgw_config_error(lgw_config_child(c, "name"), "device '%s' already has a point '%s'", dev->id, name);
    }
    pt->name = strdup(name ? name : "");
    if (!pt->name)
        return LGW_ENOMEM;

    const char *dpt = NULL;
    if (lgw_config_require(c, "dpt") == LGW_OK && lgw_config_get_string(c, "dpt", &dpt) == LGW_OK) {
        int r = knx_dpt_parse(dpt, &pt->dpt);
        if (r == KNX_DPT_EUNSUPPORTED)
            lgw_config_error(lgw_config_child(c, "dpt"),
                             "datapoint type '%s' is not supported (1.x 2.x 3.x 5.x 6.x 7.x 8.x 9.x 10.001 11.001 "
                             "12.x 13.x 14.x 16.000 16.001 17.001 18.001 20.x 232.600)",
                             dpt);
        else if (r != KNX_DPT_OK)
            lgw_config_error(lgw_config_child(c, "dpt"), "'%s' is not a datapoint type (like \"9.001\")", dpt);
    }
    pt->type = knx_dpt_lgw_type(pt->dpt);

    uint16_t state = 0;
    get_ga(c, "write", &pt->write_ga);
    get_ga(c, "state", &state);
    pt->read_ga = state ? state : pt->write_ga;
    pt->optimistic = state == 0;
    if (!add_listen(pt, pt->write_ga) || !add_listen(pt, state))
        return LGW_ENOMEM;

    const lgw_config_t *listen = lgw_config_child(c, "listen");
    if (listen) {
        lgw_config_kind_t k = lgw_config_kind(listen);
        size_t n = (k == LGW_CFG_STRING) ? 1 : lgw_config_count(listen);
        if (k != LGW_CFG_STRING && k != LGW_CFG_ARRAY && k != LGW_CFG_LIST) {
            lgw_config_error(listen, "listen must be a group address or a list of them");
            n = 0;
        }
        for (size_t i = 0; i < n; i++) {
            const lgw_config_t *e = (k == LGW_CFG_STRING) ? listen : lgw_config_at(listen, i);
            const char *s;
            uint16_t ga = 0;
            if (lgw_config_kind(e) != LGW_CFG_STRING || lgw_config_get_string(e, NULL, &s) != LGW_OK) {
                lgw_config_error(e, "listen addresses must be strings like \"1/2/3\"");
                continue;
            }
            if (!knx_ga_parse(s, &ga)) {
                lgw_config_error(e, "'%s' is not a group address (main/middle/sub up to 31/7/255, or main/sub up "
                                    "to 31/2047)", s);
                continue;
            }
            if (!add_listen(pt, ga))
                return LGW_ENOMEM;
        }
    }
    if (!lgw_config_child(c, "write") && !lgw_config_child(c, "state") && !listen)
        lgw_config_error(c, "point '%s' has no group address: give write, state or listen", pt->name);

    static const char *const accesses[] = { "r", "w", "rw", NULL };
    int acc = -1;
    pt->access = pt->write_ga ? LGW_ACCESS_RW : LGW_ACCESS_READ;
    if (lgw_config_get_choice(c, "access", accesses, &acc) == LGW_OK)
        pt->access = acc == 0 ? LGW_ACCESS_READ : acc == 1 ? LGW_ACCESS_WRITE : LGW_ACCESS_RW;
    if ((pt->access & LGW_ACCESS_WRITE) && pt->write_ga == 0)
        lgw_config_error(lgw_config_child(c, "access") ? lgw_config_child(c, "access") : c,
                         "point '%s' is writable but has no write address", pt->name);

    bool readable = (pt->access & LGW_ACCESS_READ) && pt->read_ga != 0;
    pt->read_on_start = readable;
    if (lgw_config_get_bool(c, "read_on_start", &pt->read_on_start) == LGW_OK && pt->read_on_start && !readable)
        lgw_config_error(lgw_config_child(c, "read_on_start"),
                         "point '%s' cannot be read on start: it needs read access and a state or write address",
                         pt->name);

    int64_t poll = 0;
    if (lgw_config_get_int_range(c, "poll_ms", &poll, 0, 86400000) == LGW_OK && poll != 0) {
        if (poll < 100)
            lgw_config_error(lgw_config_child(c, "poll_ms"), "poll_ms must be 0 (never) or at least 100");
        else if (!readable)
            lgw_config_error(lgw_config_child(c, "poll_ms"),
                             "point '%s' cannot be polled: it needs read access and a state or write address",
                             pt->name);
    }
    pt->poll_ms = (uint32_t)poll;
    return LGW_OK;
}

static int load_device(const lgw_config_t *c, knx_settings_t *s, knx_device_t *dev)
{
    static const char *const keys[] = { "id", "model", "address", "points", NULL };
    if (lgw_config_kind(c) != LGW_CFG_GROUP) {
        lgw_config_error(c, "a device must be a group { id = …; model = …; points = ( … ); }");
        return LGW_OK;
    }
    lgw_config_check_keys(c, keys);

    const char *id = NULL, *model = NULL, *ia = NULL;
    if (lgw_config_require(c, "id") == LGW_OK && lgw_config_get_string(c, "id", &id) == LGW_OK) {
        if (!name_ok(id, 64, "-_.:@"))
            lgw_config_error(lgw_config_child(c, "id"), "device id '%s' must be 1..64 of A-Z a-z 0-9 - _ . : @", id);
        else if (knx_settings_find_device(s, id))
            lgw_config_error(lgw_config_child(c, "id"), "device id '%s' is used twice", id);
    }
    /* The TSL mapping names models as libconfig keys (`models = { <model> = { … }; }`), so a
     * model name must be a valid libconfig name: a letter, then letters, digits, - and _. */
    if (lgw_config_require(c, "model") == LGW_OK && lgw_config_get_string(c, "model", &model) == LGW_OK &&
        (!name_ok(model, 64, "-_") || !((model[0] >= 'a' && model[0] <= 'z') || (model[0] >= 'A' && model[0] <= 'Z'))))
        lgw_config_error(lgw_config_child(c, "model"),
                         "model name '%s' must be a letter followed by up to 63 of A-Z a-z 0-9 - _", model);
    dev->id = strdup(id ? id : "");
    dev->model = strdup(model ? model : "");
    if (!dev->id || !dev->model)
        return LGW_ENOMEM;
    if (lgw_config_get_string(c, "address", &ia) == LGW_OK) {
        dev->has_ia = knx_ia_parse(ia, &dev->ia);
        if (!dev->has_ia)
            lgw_config_error(lgw_config_child(c, "address"),
                             "'%s' is not an individual address (area.line.device, up to 15.15.255)", ia);
    }

    const lgw_config_t *points = lgw_config_child(c, "points");
    if (lgw_config_require(c, "points") != LGW_OK)
        return LGW_OK;
    lgw_config_kind_t k = lgw_config_kind(points);
    size_t n = lgw_config_count(points);
    if ((k != LGW_CFG_LIST && k != LGW_CFG_GROUP) || n == 0) {
        lgw_config_error(points, "points must be a non-empty list ( { name = …; dpt = …; … }, … )");
        return LGW_OK;
    }
    if (k == LGW_CFG_GROUP) { /* a single point written as a group is a common slip */
        lgw_config_error(points, "points must be a list: write ( { … } ), not { … }");
        return LGW_OK;
    }
    dev->points = calloc(n, sizeof *dev->points);
    if (!dev->points)
        return LGW_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int r = load_point(lgw_config_at(points, i), dev, &dev->points[i]);
        dev->n_points = i + 1;
        if (r != LGW_OK)
            return r;
    }
    return LGW_OK;
}

/* Devices sharing a model must declare the same points (names, types, access). */
static void check_models(const lgw_config_t *list, knx_settings_t *s)
{
    for (size_t d = 1; d < s->n_devices; d++) {
        knx_device_t *dev = &s->devices[d];
        for (size_t e = 0; e < d; e++) {
            knx_device_t *first = &s->devices[e];
            if (!first->model || !dev->model || strcmp(first->model, dev->model) != 0)
                continue;
            bool same = first->n_points == dev->n_points;
            for (size_t p = 0; same && p < dev->n_points; p++) {
                knx_point_t *a = &dev->points[p];
                knx_point_t *b = a->name ? knx_device_find_point(first, a->name) : NULL;
                same = b && a->type == b->type && a->access == b->access;
            }
            if (!same)
                lgw_config_error(lgw_config_at(list, d),
                                 "device '%s' declares model '%s' with other points (names, types or access) than "
                                 "device '%s'",
                                 dev->id, dev->model, first->id);
            break;
        }
    }
}

int knx_settings_load(const lgw_config_t *c, knx_settings_t *s)
{
    static const char *const keys[] = { "url", "reconnect_min_ms", "reconnect_max_ms", "read_timeout_ms",
                                        "read_rate", "learn", "learn_max", "devices", NULL };
    memset(s, 0, sizeof *s);
    int errors_before = lgw_config_error_count(c);
    lgw_config_check_keys(c, keys);

    const char *url = "local:/run/knx";
    if (lgw_config_get_string(c, "url", &url) == LGW_OK) {
        bool ok = (strncmp(url, "local:/", 7) == 0 && url[7] != '\0') ||
                  (strncmp(url, "ip:", 3) == 0 && url[3] != '\0' && url[3] != ':');
        if (!ok)
            lgw_config_error(lgw_config_child(c, "url"),
                             "url '%s' must be \"local:/path/to/socket\" or \"ip:host[:port]\"", url);
    }
    s->url = strdup(url);
    if (!s->url)
        goto nomem;

    int64_t v = 500;
    lgw_config_get_int_range(c, "reconnect_min_ms", &v, 10, 3600000);
    s->reconnect_min_ms = (uint32_t)v;
    v = 30000;
    lgw_config_get_int_range(c, "reconnect_max_ms", &v, 10, 3600000);
    s->reconnect_max_ms = (uint32_t)v;
    if (s->reconnect_max_ms < s->reconnect_min_ms)
        lgw_config_error(lgw_config_child(c, "reconnect_max_ms") ? lgw_config_child(c, "reconnect_max_ms") : c,
                         "reconnect_max_ms must not be below reconnect_min_ms");
    v = 10000;
    lgw_config_get_int_range(c, "read_timeout_ms", &v, 100, 3600000);
    s->read_timeout_ms = (uint32_t)v;
    v = 20;
    lgw_config_get_int_range(c, "read_rate", &v, 1, 1000);
    s->read_rate = (uint32_t)v;
    lgw_config_get_bool(c, "learn", &s->learn);
    v = 256;
    lgw_config_get_int_range(c, "learn_max", &v, 0, 65535);
    s->learn_max = (uint32_t)v;

    const lgw_config_t *list = lgw_config_child(c, "devices");
    if (list) {
        lgw_config_kind_t k = lgw_config_kind(list);
        size_t n = lgw_config_count(list);
        if (k != LGW_CFG_LIST) {
            lgw_config_error(list, "devices must be a list ( { id = …; model = …; points = ( … ); }, … )");
        } else if (n > 0) {
            s->devices = calloc(n, sizeof *s->devices);
            if (!s->devices)
                goto nomem;
            for (size_t i = 0; i < n; i++) {
                int r = load_device(lgw_config_at(list, i), s, &s->devices[i]);
                s->n_devices = i + 1;
                if (r != LGW_OK)
                    goto nomem;
            }
            check_models(list, s);
        }
    }
    if (lgw_config_error_count(c) > errors_before) {
        knx_settings_free(s);
        return LGW_EINVAL;
    }
    return LGW_OK;

nomem:
    lgw_config_error(c, "out of memory while reading the KNX settings");
    knx_settings_free(s);
    return LGW_ENOMEM;
}
