/* emu_tsl.c — TSL value validation for the Alink emulator (see emu_tsl.h). */
#include "emu_tsl.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const json_t *find_in(const json_t *tsl, const char *section, const char *id)
{
    const json_t *arr = json_object_get(tsl, section);
    size_t i;
    const json_t *it;
    if (!id || !json_is_array(arr)) return NULL;
    json_array_foreach(arr, i, it) {
        const char *ident = json_string_value(json_object_get(it, "identifier"));
        if (ident && !strcmp(ident, id)) return it;
    }
    return NULL;
}

const json_t *emu_tsl_property(const json_t *tsl, const char *id) { return find_in(tsl, "properties", id); }
const json_t *emu_tsl_event(const json_t *tsl, const char *id) { return find_in(tsl, "events", id); }
const json_t *emu_tsl_service(const json_t *tsl, const char *id) { return find_in(tsl, "services", id); }

/* Numeric spec (a string in TSL documents, tolerated as a number); false when absent. */
static bool spec_num(const json_t *specs, const char *key, double *out)
{
    const json_t *v = json_object_get(specs, key);
    if (json_is_number(v)) { *out = json_number_value(v); return true; }
    const char *s = json_string_value(v);
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || *end) return false;
    *out = d;
    return true;
}

static bool in_range(const json_t *specs, double v)
{
    double lo, hi;
    if (spec_num(specs, "min", &lo) && v < lo) return false;
    if (spec_num(specs, "max", &hi) && v > hi) return false;
    return true;
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++) if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static int check_depth(const json_t *dt, const json_t *value, int depth);

static const json_t *member_of(const json_t *members, const char *id)
{
    size_t i;
    const json_t *it;
    json_array_foreach(members, i, it) {
        const char *ident = json_string_value(json_object_get(it, "identifier"));
        if (ident && !strcmp(ident, id)) return it;
    }
    return NULL;
}

static int check_depth(const json_t *dt, const json_t *value, int depth)
{
    const char *type = json_string_value(json_object_get(dt, "type"));
    const json_t *specs = json_object_get(dt, "specs");
    if (!type || depth > 8) return 6317;
    if (!value) return 460;
    if (!strcmp(type, "int")) {
        if (!json_is_integer(value)) return 6306;
        return in_range(specs, (double)json_integer_value(value)) ? 0 : 6306;
    }
    if (!strcmp(type, "float") || !strcmp(type, "double")) {
        int code = !strcmp(type, "float") ? 6307 : 6322;
        if (!json_is_number(value)) return code;
        double d = json_number_value(value);
        if (!isfinite(d)) return code;
        return in_range(specs, d) ? 0 : code;
    }
    if (!strcmp(type, "bool")) {
        if (json_is_boolean(value)) return 0;
        if (!json_is_integer(value)) return 6308;
        json_int_t b = json_integer_value(value);
        return b == 0 || b == 1 ? 0 : 6308;
    }
    if (!strcmp(type, "enum")) {
        char key[32];
        if (!json_is_integer(value)) return 6309;
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(value));
        return json_object_get(specs, key) ? 0 : 6309;
    }
    if (!strcmp(type, "text")) {
        double max = 2048;
        if (!json_is_string(value)) return 6310;
        spec_num(specs, "length", &max);
        return (double)utf8_len(json_string_value(value)) <= max ? 0 : 6310;
    }
    if (!strcmp(type, "date")) {
        if (json_is_integer(value)) return json_integer_value(value) >= 0 ? 0 : 6311;
        const char *s = json_string_value(value);
        if (!s || !*s || strlen(s) > 19) return 6311;
        for (; *s; s++) if (*s < '0' || *s > '9') return 6311;
        return 0;
    }
    if (!strcmp(type, "struct")) {
        const char *k;
        const json_t *v;
        if (!json_is_object(value)) return 6312;
        if (!json_is_array(specs)) return 6317;
        json_object_foreach((json_t *)value, k, v) {
            const json_t *m = member_of(specs, k);
            if (!m) return 6304;
            int code = check_depth(json_object_get(m, "dataType"), v, depth + 1);
            if (code) return code;
        }
        return 0;
    }
    if (!strcmp(type, "array")) {
        double size = 128;
        size_t i;
        const json_t *v;
        if (!json_is_array(value)) return 6324;
        spec_num(specs, "size", &size);
        if ((double)json_array_size(value) > size) return 6324;
        const json_t *item = json_object_get(specs, "item");
        if (!json_is_object(item)) return 6317;
        json_array_foreach(value, i, v) {
            if (check_depth(item, v, depth + 1)) return 6324;
        }
        return 0;
    }
    return 6317;
}

int emu_tsl_check(const json_t *data_type, const json_t *value)
{
    return check_depth(data_type, value, 0);
}

int emu_tsl_check_params(const json_t *defs, const json_t *params)
{
    const char *k;
    const json_t *v;
    if (!json_is_object(params)) return 460;
    json_object_foreach((json_t *)params, k, v) {
        const json_t *d = json_is_array(defs) ? member_of(defs, k) : NULL;
        if (!d) return 6304;
        int code = check_depth(json_object_get(d, "dataType"), v, 0);
        if (code) return code;
    }
    return 0;
}
