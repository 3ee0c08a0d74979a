/*
 * Typed values (sdk/include/linkgw/value.h): construction, inspection, deep
 * copy and the JSON rendering used by logs. Pure data, any thread.
 */
#include "value_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LGW_HOST_API const char *lgw_type_name(lgw_type_t type)
{
    switch (type) {
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

static lgw_value_t *vnew(lgw_type_t t)
{
    lgw_value_t *v = calloc(1, sizeof *v);
    if (v)
        v->type = t;
    return v;
}

LGW_HOST_API lgw_value_t *lgw_value_new_bool(bool b)
{
    lgw_value_t *v = vnew(LGW_TYPE_BOOL);
    if (v) v->u.b = b;
    return v;
}

LGW_HOST_API lgw_value_t *lgw_value_new_int(int64_t i)
{
    lgw_value_t *v = vnew(LGW_TYPE_INT);
    if (v) v->u.i = i;
    return v;
}

LGW_HOST_API lgw_value_t *lgw_value_new_float(float f)
{
    lgw_value_t *v = vnew(LGW_TYPE_FLOAT);
    if (v) v->u.f = f;
    return v;
}

LGW_HOST_API lgw_value_t *lgw_value_new_double(double d)
{
    lgw_value_t *v = vnew(LGW_TYPE_DOUBLE);
    if (v) v->u.d = d;
    return v;
}

LGW_HOST_API lgw_value_t *lgw_value_new_text_n(const char *s, size_t len)
{
    if (!s)
        return NULL;
    lgw_value_t *v = vnew(LGW_TYPE_TEXT);
    if (!v)
        return NULL;
    v->u.text.s = malloc(len + 1);
    if (!v->u.text.s) {
        free(v);
        return NULL;
    }
    memcpy(v->u.text.s, s, len);
    v->u.text.s[len] = '\0';
    v->u.text.len = len;
    return v;
}

LGW_HOST_API lgw_value_t *lgw_value_new_text(const char *s)
{
    return s ? lgw_value_new_text_n(s, strlen(s)) : NULL;
}

LGW_HOST_API lgw_value_t *lgw_value_new_enum(int32_t key)
{
    lgw_value_t *v = vnew(LGW_TYPE_ENUM);
    if (v) v->u.i = key;
    return v;
}

LGW_HOST_API lgw_value_t *lgw_value_new_date(int64_t utc_ms)
{
    lgw_value_t *v = vnew(LGW_TYPE_DATE);
    if (v) v->u.i = utc_ms;
    return v;
}

LGW_HOST_API lgw_value_t *lgw_value_new_struct(void) { return vnew(LGW_TYPE_STRUCT); }
LGW_HOST_API lgw_value_t *lgw_value_new_array(void) { return vnew(LGW_TYPE_ARRAY); }

void gw_value_clear(lgw_value_t *v)
{
    if (!v)
        return;
    if (v->type == LGW_TYPE_TEXT) {
        free(v->u.text.s);
    } else if (v->type == LGW_TYPE_STRUCT || v->type == LGW_TYPE_ARRAY) {
        for (size_t i = 0; i < v->u.list.n; i++) {
            free(v->u.list.items[i].name);
            lgw_value_free(v->u.list.items[i].value);
        }
        free(v->u.list.items);
    }
    memset(&v->u, 0, sizeof v->u);
}

LGW_HOST_API void lgw_value_free(lgw_value_t *v)
{
    if (!v)
        return;
    gw_value_clear(v);
    free(v);
}

/* Makes room for one more item in a struct/array. */
static int list_grow(lgw_value_t *v)
{
    if (v->u.list.n < v->u.list.cap)
        return LGW_OK;
    if (v->u.list.cap > UINT32_MAX / 2)
        return LGW_ENOMEM;
    uint32_t cap = v->u.list.cap ? v->u.list.cap * 2 : 4;
    gw_vitem_t *items = realloc(v->u.list.items, cap * sizeof *items);
    if (!items)
        return LGW_ENOMEM;
    v->u.list.items = items;
    v->u.list.cap = cap;
    return LGW_OK;
}

static gw_vitem_t *struct_find(const lgw_value_t *s, const char *name)
{
    for (size_t i = 0; i < s->u.list.n; i++)
        if (strcmp(s->u.list.items[i].name, name) == 0)
            return &s->u.list.items[i];
    return NULL;
}

LGW_HOST_API int lgw_value_struct_set(lgw_value_t *s, const char *name, lgw_value_t *member)
{
    if (!s || !name || !member) {
        lgw_value_free(member);
        return LGW_EINVAL;
    }
    if (s->type != LGW_TYPE_STRUCT) {
        lgw_value_free(member);
        return LGW_ETYPE;
    }
    gw_vitem_t *it = struct_find(s, name);
    if (it) {
        lgw_value_free(it->value);
        it->value = member;
        return LGW_OK;
    }
    char *dup = strdup(name);
    if (!dup || list_grow(s) != LGW_OK) {
        free(dup);
        lgw_value_free(member);
        return LGW_ENOMEM;
    }
    s->u.list.items[s->u.list.n++] = (gw_vitem_t){dup, member};
    return LGW_OK;
}

LGW_HOST_API int lgw_value_array_append(lgw_value_t *a, lgw_value_t *elem)
{
    if (!a || !elem) {
        lgw_value_free(elem);
        return LGW_EINVAL;
    }
    if (a->type != LGW_TYPE_ARRAY) {
        lgw_value_free(elem);
        return LGW_ETYPE;
    }
    if (list_grow(a) != LGW_OK) {
        lgw_value_free(elem);
        return LGW_ENOMEM;
    }
    a->u.list.items[a->u.list.n++] = (gw_vitem_t){NULL, elem};
    return LGW_OK;
}

LGW_HOST_API lgw_value_t *lgw_value_copy(const lgw_value_t *v)
{
    if (!v)
        return NULL;
    switch (v->type) {
    case LGW_TYPE_TEXT:
        return lgw_value_new_text_n(v->u.text.s, v->u.text.len);
    case LGW_TYPE_STRUCT:
    case LGW_TYPE_ARRAY: {
        lgw_value_t *c = vnew(v->type);
        if (!c)
            return NULL;
        for (size_t i = 0; i < v->u.list.n; i++) {
            lgw_value_t *e = lgw_value_copy(v->u.list.items[i].value);
            int rc = e ? (v->type == LGW_TYPE_STRUCT ? lgw_value_struct_set(c, v->u.list.items[i].name, e)
                                                     : lgw_value_array_append(c, e))
                       : LGW_ENOMEM;
            if (rc != LGW_OK) {
                lgw_value_free(c);
                return NULL;
            }
        }
        return c;
    }
    default: {
        lgw_value_t *c = vnew(v->type);
        if (c)
            c->u = v->u;
        return c;
    }
    }
}

static bool is_scalar(lgw_type_t t)
{
    return t != LGW_TYPE_TEXT && t != LGW_TYPE_STRUCT && t != LGW_TYPE_ARRAY;
}

int gw_value_set_copy(lgw_value_t *dst, const lgw_value_t *src)
{
    if (!dst || !src)
        return LGW_EINVAL;
    if (is_scalar(src->type)) {
        gw_value_clear(dst);
        dst->type = src->type;
        dst->u = src->u;
        return LGW_OK;
    }
    if (src->type == LGW_TYPE_TEXT) {
        size_t len = src->u.text.len;
        if (dst->type == LGW_TYPE_TEXT && dst->u.text.len >= len) {
            memmove(dst->u.text.s, src->u.text.s, len); /* same length or shorter: reuse the buffer */
        } else {
            char *s = malloc(len + 1);
            if (!s)
                return LGW_ENOMEM;
            memcpy(s, src->u.text.s, len);
            gw_value_clear(dst);
            dst->type = LGW_TYPE_TEXT;
            dst->u.text.s = s;
        }
        dst->u.text.s[len] = '\0';
        dst->u.text.len = len;
        return LGW_OK;
    }
    lgw_value_t *c = lgw_value_copy(src); /* struct or array: build the copy, then move its content */
    if (!c)
        return LGW_ENOMEM;
    gw_value_clear(dst);
    *dst = *c;
    free(c);
    return LGW_OK;
}

bool gw_value_equal(const lgw_value_t *a, const lgw_value_t *b)
{
    if (!a || !b || a->type != b->type)
        return a == b;
    switch (a->type) {
    case LGW_TYPE_BOOL: return a->u.b == b->u.b;
    case LGW_TYPE_FLOAT: return a->u.f == b->u.f;
    case LGW_TYPE_DOUBLE: return a->u.d == b->u.d;
    case LGW_TYPE_TEXT:
        return a->u.text.len == b->u.text.len && memcmp(a->u.text.s, b->u.text.s, a->u.text.len) == 0;
    case LGW_TYPE_STRUCT:
    case LGW_TYPE_ARRAY:
        if (a->u.list.n != b->u.list.n)
            return false;
        for (size_t i = 0; i < a->u.list.n; i++) {
            const gw_vitem_t *x = &a->u.list.items[i], *y = &b->u.list.items[i];
            if ((x->name || y->name) && (!x->name || !y->name || strcmp(x->name, y->name) != 0))
                return false;
            if (!gw_value_equal(x->value, y->value))
                return false;
        }
        return true;
    default:
        return a->u.i == b->u.i;
    }
}

/* ---- inspection ------------------------------------------------------- */

LGW_HOST_API lgw_type_t lgw_value_type(const lgw_value_t *v) { return v ? v->type : (lgw_type_t)0; }

LGW_HOST_API int lgw_value_get_bool(const lgw_value_t *v, bool *out)
{
    if (!v || !out)
        return LGW_EINVAL;
    if (v->type != LGW_TYPE_BOOL)
        return LGW_ETYPE;
    *out = v->u.b;
    return LGW_OK;
}

LGW_HOST_API int lgw_value_get_int(const lgw_value_t *v, int64_t *out)
{
    if (!v || !out)
        return LGW_EINVAL;
    switch (v->type) {
    case LGW_TYPE_INT:
    case LGW_TYPE_ENUM:
    case LGW_TYPE_DATE: *out = v->u.i; return LGW_OK;
    case LGW_TYPE_BOOL: *out = v->u.b ? 1 : 0; return LGW_OK;
    default: return LGW_ETYPE;
    }
}

LGW_HOST_API int lgw_value_get_double(const lgw_value_t *v, double *out)
{
    if (!v || !out)
        return LGW_EINVAL;
    switch (v->type) {
    case LGW_TYPE_FLOAT: *out = v->u.f; return LGW_OK;
    case LGW_TYPE_DOUBLE: *out = v->u.d; return LGW_OK;
    case LGW_TYPE_INT:
    case LGW_TYPE_ENUM:
    case LGW_TYPE_DATE: *out = (double)v->u.i; return LGW_OK;
    case LGW_TYPE_BOOL: *out = v->u.b ? 1.0 : 0.0; return LGW_OK;
    default: return LGW_ETYPE;
    }
}

LGW_HOST_API int lgw_value_get_text(const lgw_value_t *v, const char **out, size_t *len)
{
    if (!v || !out)
        return LGW_EINVAL;
    if (v->type != LGW_TYPE_TEXT)
        return LGW_ETYPE;
    *out = v->u.text.s;
    if (len)
        *len = v->u.text.len;
    return LGW_OK;
}

LGW_HOST_API size_t lgw_value_count(const lgw_value_t *v)
{
    return v && (v->type == LGW_TYPE_STRUCT || v->type == LGW_TYPE_ARRAY) ? v->u.list.n : 0;
}

LGW_HOST_API const lgw_value_t *lgw_value_struct_at(const lgw_value_t *s, size_t index, const char **name)
{
    if (!s || s->type != LGW_TYPE_STRUCT || index >= s->u.list.n)
        return NULL;
    if (name)
        *name = s->u.list.items[index].name;
    return s->u.list.items[index].value;
}

LGW_HOST_API const lgw_value_t *lgw_value_struct_get(const lgw_value_t *s, const char *name)
{
    if (!s || !name || s->type != LGW_TYPE_STRUCT)
        return NULL;
    gw_vitem_t *it = struct_find(s, name);
    return it ? it->value : NULL;
}

LGW_HOST_API const lgw_value_t *lgw_value_array_at(const lgw_value_t *a, size_t index)
{
    if (!a || a->type != LGW_TYPE_ARRAY || index >= a->u.list.n)
        return NULL;
    return a->u.list.items[index].value;
}

/* ---- JSON rendering ---------------------------------------------------- */

/* snprintf-style output: counts everything, stores what fits. */
typedef struct {
    char *buf;
    size_t size, len;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->len < o->size) {
        size_t room = o->size - o->len - 1; /* keep one byte for the NUL */
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void putf(out_t *o, const char *fmt, ...) LGW_PRINTF(2, 3);
static void putf(out_t *o, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_string(out_t *o, const char *s, size_t len)
{
    put(o, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': put(o, "\\\"", 2); break;
        case '\\': put(o, "\\\\", 2); break;
        case '\n': put(o, "\\n", 2); break;
        case '\r': put(o, "\\r", 2); break;
        case '\t': put(o, "\\t", 2); break;
        default:
            if (c < 0x20)
                putf(o, "\\u%04x", c);
            else
                put(o, (const char *)&s[i], 1);
        }
    }
    put(o, "\"", 1);
}

/* Shortest %g rendering that reads back as the same number. */
static void put_number(out_t *o, double d, bool single)
{
    if (!isfinite(d)) {
        put(o, "null", 4);
        return;
    }
    char tmp[40];
    for (int prec = single ? 6 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (single ? (strtof(tmp, NULL) == (float)d) : (strtod(tmp, NULL) == d))
            break;
    }
    put(o, tmp, strlen(tmp));
}

static void render(out_t *o, const lgw_value_t *v)
{
    if (!v) {
        put(o, "null", 4);
        return;
    }
    switch (v->type) {
    case LGW_TYPE_BOOL: put(o, v->u.b ? "true" : "false", v->u.b ? 4 : 5); break;
    case LGW_TYPE_INT:
    case LGW_TYPE_ENUM:
    case LGW_TYPE_DATE: putf(o, "%" PRId64, v->u.i); break;
    case LGW_TYPE_FLOAT: put_number(o, v->u.f, true); break;
    case LGW_TYPE_DOUBLE: put_number(o, v->u.d, false); break;
    case LGW_TYPE_TEXT: put_string(o, v->u.text.s, v->u.text.len); break;
    case LGW_TYPE_STRUCT:
    case LGW_TYPE_ARRAY: {
        bool st = v->type == LGW_TYPE_STRUCT;
        put(o, st ? "{" : "[", 1);
        for (size_t i = 0; i < v->u.list.n; i++) {
            if (i)
                put(o, ",", 1);
            if (st) {
                put_string(o, v->u.list.items[i].name, strlen(v->u.list.items[i].name));
                put(o, ":", 1);
            }
            render(o, v->u.list.items[i].value);
        }
        put(o, st ? "}" : "]", 1);
        break;
    }
    default: put(o, "null", 4);
    }
}

LGW_HOST_API size_t lgw_value_to_string(const lgw_value_t *v, char *buf, size_t size)
{
    out_t o = {buf, buf ? size : 0, 0};
    render(&o, v);
    if (o.size > 0)
        o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
    return o.len;
}
