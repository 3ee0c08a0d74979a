/* lgw_value_t <-> jansson conversions; see value_json.h. */
#include "value_json.h"
#include "value_int.h"

#include <math.h>

json_t *gw_value_to_json(const lgw_value_t *v)
{
    if (!v)
        return NULL;
    switch (v->type) {
    case LGW_TYPE_BOOL: return json_boolean(v->u.b);
    case LGW_TYPE_INT:
    case LGW_TYPE_ENUM:
    case LGW_TYPE_DATE: return json_integer((json_int_t)v->u.i);
    case LGW_TYPE_FLOAT: return isfinite(v->u.f) ? json_real(v->u.f) : json_null();
    case LGW_TYPE_DOUBLE: return isfinite(v->u.d) ? json_real(v->u.d) : json_null();
    case LGW_TYPE_TEXT: return json_stringn(v->u.text.s, v->u.text.len);
    case LGW_TYPE_STRUCT: {
        json_t *o = json_object();
        for (size_t i = 0; o && i < v->u.list.n; i++) {
            json_t *m = gw_value_to_json(v->u.list.items[i].value);
            if (!m || json_object_set_new(o, v->u.list.items[i].name, m) != 0) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    case LGW_TYPE_ARRAY: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < v->u.list.n; i++) {
            json_t *m = gw_value_to_json(v->u.list.items[i].value);
            if (!m || json_array_append_new(a, m) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    }
    return NULL;
}

lgw_value_t *gw_value_from_json(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_TRUE: return lgw_value_new_bool(true);
    case JSON_FALSE: return lgw_value_new_bool(false);
    case JSON_INTEGER: return lgw_value_new_int(json_integer_value(j));
    case JSON_REAL: return lgw_value_new_double(json_real_value(j));
    case JSON_STRING: return lgw_value_new_text_n(json_string_value(j), json_string_length(j));
    case JSON_OBJECT: {
        lgw_value_t *s = lgw_value_new_struct();
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)j, k, m) {
            if (json_is_null(m))
                continue; /* no value: the member is left out */
            lgw_value_t *e = gw_value_from_json(m);
            if (!s || !e || lgw_value_struct_set(s, k, e) != LGW_OK) {
                lgw_value_free(s);
                return NULL;
            }
        }
        return s;
    }
    case JSON_ARRAY: {
        lgw_value_t *a = lgw_value_new_array();
        size_t i;
        json_t *m;
        json_array_foreach(j, i, m) {
            if (json_is_null(m))
                continue;
            lgw_value_t *e = gw_value_from_json(m);
            if (!a || !e || lgw_value_array_append(a, e) != LGW_OK) {
                lgw_value_free(a);
                return NULL;
            }
        }
        return a;
    }
    default: return NULL;
    }
}
