/*
 * The SDK's configuration accessors (sdk/include/linkgw/config.h) over
 * libconfig settings. Errors go to the node's document (cfgdoc.c) with the
 * node's file and line.
 */
#include "cfgdoc.h"

#include <inttypes.h>
#include <string.h>

const char *gw_config_kind_name(lgw_config_kind_t k)
{
    switch (k) {
    case LGW_CFG_GROUP: return "a group";
    case LGW_CFG_LIST: return "a list";
    case LGW_CFG_ARRAY: return "an array";
    case LGW_CFG_INT: return "an integer";
    case LGW_CFG_FLOAT: return "a number";
    case LGW_CFG_BOOL: return "a boolean";
    case LGW_CFG_STRING: return "a string";
    default: return "nothing";
    }
}

LGW_HOST_API lgw_config_kind_t lgw_config_kind(const lgw_config_t *c)
{
    if (!c)
        return LGW_CFG_NONE;
    switch (config_setting_type(gw_cfg_setting(c))) {
    case CONFIG_TYPE_GROUP: return LGW_CFG_GROUP;
    case CONFIG_TYPE_LIST: return LGW_CFG_LIST;
    case CONFIG_TYPE_ARRAY: return LGW_CFG_ARRAY;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return LGW_CFG_INT;
    case CONFIG_TYPE_FLOAT: return LGW_CFG_FLOAT;
    case CONFIG_TYPE_BOOL: return LGW_CFG_BOOL;
    case CONFIG_TYPE_STRING: return LGW_CFG_STRING;
    default: return LGW_CFG_NONE;
    }
}

LGW_HOST_API const char *lgw_config_name(const lgw_config_t *c)
{
    return c ? config_setting_name(gw_cfg_setting(c)) : NULL;
}

LGW_HOST_API const char *lgw_config_file(const lgw_config_t *c)
{
    if (!c)
        return NULL;
    const char *f = config_setting_source_file(gw_cfg_setting(c));
    if (f)
        return f;
    return ((gw_cfgdoc_t *)gw_cfg_setting(c)->config)->path;
}

LGW_HOST_API int lgw_config_line(const lgw_config_t *c)
{
    return c ? (int)config_setting_source_line(gw_cfg_setting(c)) : 0;
}

LGW_HOST_API const lgw_config_t *lgw_config_child(const lgw_config_t *c, const char *name)
{
    if (!c || !name || config_setting_type(gw_cfg_setting(c)) != CONFIG_TYPE_GROUP)
        return NULL;
    /* config_setting_get_member() also accepts paths; we want one name only. */
    config_setting_t *s = gw_cfg_setting(c);
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
        if (m && m->name && strcmp(m->name, name) == 0)
            return gw_cfg_node(m);
    }
    return NULL;
}

LGW_HOST_API size_t lgw_config_count(const lgw_config_t *c)
{
    if (!c || !config_setting_is_aggregate(gw_cfg_setting(c)))
        return 0;
    return (size_t)config_setting_length(gw_cfg_setting(c));
}

LGW_HOST_API const lgw_config_t *lgw_config_at(const lgw_config_t *c, size_t index)
{
    if (!c || !config_setting_is_aggregate(gw_cfg_setting(c)) || index > (size_t)INT32_MAX)
        return NULL;
    return gw_cfg_node(config_setting_get_elem(gw_cfg_setting(c), (unsigned)index));
}

/* Finds the node a getter reads: @p c itself or its member @p name. */
static const lgw_config_t *target(const lgw_config_t *c, const char *name)
{
    return name ? lgw_config_child(c, name) : c;
}

/* Records "'name' must be <kind>, not <kind>" at @p t. */
static int type_error(const lgw_config_t *t, lgw_config_kind_t want)
{
    const char *name = lgw_config_name(t);
    lgw_config_error(t, "setting '%s' must be %s, not %s", name ? name : "(element)",
                     gw_config_kind_name(want), gw_config_kind_name(lgw_config_kind(t)));
    return LGW_ETYPE;
}

LGW_HOST_API int lgw_config_get_int(const lgw_config_t *c, const char *name, int64_t *out)
{
    const lgw_config_t *t = target(c, name);
    if (!t)
        return LGW_ENOENT;
    if (lgw_config_kind(t) != LGW_CFG_INT)
        return type_error(t, LGW_CFG_INT);
    if (out)
        *out = config_setting_get_int64(gw_cfg_setting(t));
    return LGW_OK;
}

LGW_HOST_API int lgw_config_get_double(const lgw_config_t *c, const char *name, double *out)
{
    const lgw_config_t *t = target(c, name);
    if (!t)
        return LGW_ENOENT;
    lgw_config_kind_t k = lgw_config_kind(t);
    if (k == LGW_CFG_INT) {
        if (out)
            *out = (double)config_setting_get_int64(gw_cfg_setting(t));
    } else if (k == LGW_CFG_FLOAT) {
        if (out)
            *out = config_setting_get_float(gw_cfg_setting(t));
    } else {
        return type_error(t, LGW_CFG_FLOAT);
    }
    return LGW_OK;
}

LGW_HOST_API int lgw_config_get_bool(const lgw_config_t *c, const char *name, bool *out)
{
    const lgw_config_t *t = target(c, name);
    if (!t)
        return LGW_ENOENT;
    if (lgw_config_kind(t) != LGW_CFG_BOOL)
        return type_error(t, LGW_CFG_BOOL);
    if (out)
        *out = config_setting_get_bool(gw_cfg_setting(t)) != 0;
    return LGW_OK;
}

LGW_HOST_API int lgw_config_get_string(const lgw_config_t *c, const char *name, const char **out)
{
    const lgw_config_t *t = target(c, name);
    if (!t)
        return LGW_ENOENT;
    if (lgw_config_kind(t) != LGW_CFG_STRING)
        return type_error(t, LGW_CFG_STRING);
    if (out)
        *out = config_setting_get_string(gw_cfg_setting(t));
    return LGW_OK;
}

LGW_HOST_API int lgw_config_get_int_range(const lgw_config_t *c, const char *name, int64_t *out,
                                          int64_t min, int64_t max)
{
    int64_t v;
    int rc = lgw_config_get_int(c, name, &v);
    if (rc != LGW_OK)
        return rc;
    if (v < min || v > max) {
        const lgw_config_t *t = target(c, name);
        const char *n = lgw_config_name(t);
        lgw_config_error(t, "setting '%s' must be between %" PRId64 " and %" PRId64 ", not %" PRId64,
                         n ? n : "(element)", min, max, v);
        return LGW_ERANGE;
    }
    if (out)
        *out = v;
    return LGW_OK;
}

LGW_HOST_API int lgw_config_get_choice(const lgw_config_t *c, const char *name, const char *const *choices,
                                       int *index)
{
    const char *s;
    int rc = lgw_config_get_string(c, name, &s);
    if (rc != LGW_OK)
        return rc;
    for (int i = 0; choices && choices[i]; i++) {
        if (strcmp(choices[i], s) == 0) {
            if (index)
                *index = i;
            return LGW_OK;
        }
    }
    char list[512];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; choices && choices[i] && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s\"%s\"", i ? ", " : "", choices[i]);
    const lgw_config_t *t = target(c, name);
    const char *n = lgw_config_name(t);
    lgw_config_error(t, "setting '%s' must be one of %s, not \"%s\"", n ? n : "(element)", list, s);
    return LGW_EINVAL;
}

LGW_HOST_API int lgw_config_require(const lgw_config_t *c, const char *name)
{
    if (lgw_config_child(c, name))
        return LGW_OK;
    lgw_config_error(c, "missing required setting '%s'", name ? name : "?");
    return LGW_ENOENT;
}

LGW_HOST_API int lgw_config_check_keys(const lgw_config_t *c, const char *const *allowed)
{
    int unknown = 0;
    size_t n = lgw_config_kind(c) == LGW_CFG_GROUP ? lgw_config_count(c) : 0;
    for (size_t i = 0; i < n; i++) {
        const lgw_config_t *m = lgw_config_at(c, i);
        const char *name = lgw_config_name(m);
        bool known = false;
        for (int k = 0; allowed && allowed[k] && !known; k++)
            known = name && strcmp(allowed[k], name) == 0;
        if (!known) {
            lgw_config_error(m, "unknown setting '%s'", name ? name : "?");
            unknown++;
        }
    }
    return unknown;
}
