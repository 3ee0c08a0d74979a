/*
 * KNX plugin: conversions between the codecs' plain values (knx_val_t) and
 * the SDK's typed values, and decoding a telegram's payload for a point.
 */
#include <string.h>

#include "knx_plugin.h"

/* New SDK value for @p v (NULL when out of memory). */
lgw_value_t *knx_to_value(const knx_val_t *v)
{
    switch (v->kind) {
    case KNX_VK_BOOL: return lgw_value_new_bool(v->b);
    case KNX_VK_INT: return lgw_value_new_int(v->i);
    case KNX_VK_DOUBLE: return lgw_value_new_double(v->d);
    case KNX_VK_FLOAT: return lgw_value_new_float((float)v->d);
    case KNX_VK_TEXT: return lgw_value_new_text(v->text);
    case KNX_VK_ENUM: return lgw_value_new_enum((int32_t)v->i);
    case KNX_VK_RGB: {
        lgw_value_t *s = lgw_value_new_struct();
        if (s) {
            lgw_value_struct_set(s, "Red", lgw_value_new_int(v->rgb[0]));
            lgw_value_struct_set(s, "Green", lgw_value_new_int(v->rgb[1]));
            lgw_value_struct_set(s, "Blue", lgw_value_new_int(v->rgb[2]));
        }
        return s;
    }
    default: return NULL;
    }
}

/* Adds @p v under @p name to @p r with the SDK type of its kind. */
int knx_report_add(lgw_report_t *r, const char *name, const knx_val_t *v)
{
    switch (v->kind) {
    case KNX_VK_BOOL: return lgw_report_add_bool(r, name, v->b);
    case KNX_VK_INT: return lgw_report_add_int(r, name, v->i);
    case KNX_VK_DOUBLE: return lgw_report_add_double(r, name, v->d);
    case KNX_VK_FLOAT: return lgw_report_add_float(r, name, (float)v->d);
    case KNX_VK_TEXT: return lgw_report_add_text(r, name, v->text);
    case KNX_VK_ENUM: return lgw_report_add_enum(r, name, (int32_t)v->i);
    case KNX_VK_RGB: {
        lgw_value_t *s = knx_to_value(v);
        return s ? lgw_report_add_value(r, name, s) : LGW_ENOMEM;
    }
    default: return LGW_EINVAL;
    }
}

/* Reads colour member @p name (or its lower-case spelling) of struct @p s. */
static int rgb_member(const lgw_value_t *s, const char *name, const char *lower, uint8_t *out)
{
    const lgw_value_t *m = lgw_value_struct_get(s, name);
    int64_t i;
    if (!m)
        m = lgw_value_struct_get(s, lower);
    if (!m || lgw_value_get_int(m, &i) != LGW_OK)
        return KNX_DPT_EKIND;
    if (i < 0 || i > 255)
        return KNX_DPT_ERANGE;
    *out = (uint8_t)i;
    return KNX_DPT_OK;
}

/* Converts an SDK value into a codec value. Returns a KNX_DPT_E* code. */
int knx_from_value(const lgw_value_t *v, knx_val_t *out)
{
    memset(out, 0, sizeof *out);
    const char *text;
    size_t len;
    int r;
    switch (lgw_value_type(v)) {
    case LGW_TYPE_BOOL:
        out->kind = KNX_VK_BOOL;
        return lgw_value_get_bool(v, &out->b) == LGW_OK ? KNX_DPT_OK : KNX_DPT_EKIND;
    case LGW_TYPE_INT:
    case LGW_TYPE_DATE:
    case LGW_TYPE_ENUM:
        out->kind = lgw_value_type(v) == LGW_TYPE_ENUM ? KNX_VK_ENUM : KNX_VK_INT;
        return lgw_value_get_int(v, &out->i) == LGW_OK ? KNX_DPT_OK : KNX_DPT_EKIND;
    case LGW_TYPE_FLOAT:
    case LGW_TYPE_DOUBLE:
        out->kind = KNX_VK_DOUBLE;
        return lgw_value_get_double(v, &out->d) == LGW_OK ? KNX_DPT_OK : KNX_DPT_EKIND;
    case LGW_TYPE_TEXT:
        out->kind = KNX_VK_TEXT;
        if (lgw_value_get_text(v, &text, &len) != LGW_OK)
            return KNX_DPT_EKIND;
        if (len >= sizeof out->text || memchr(text, '\0', len))
            return KNX_DPT_ERANGE;
        memcpy(out->text, text, len);
        return KNX_DPT_OK;
    case LGW_TYPE_STRUCT:
        out->kind = KNX_VK_RGB;
        if ((r = rgb_member(v, "Red", "red", &out->rgb[0])) != KNX_DPT_OK ||
            (r = rgb_member(v, "Green", "green", &out->rgb[1])) != KNX_DPT_OK ||
            (r = rgb_member(v, "Blue", "blue", &out->rgb[2])) != KNX_DPT_OK)
            return r;
        return KNX_DPT_OK;
    default:
        return KNX_DPT_EKIND;
    }
}

/* Decodes the payload of @p a for @p dpt (small DPTs take the 6-bit value). */
int knx_decode_apdu(knx_dpt_t dpt, const knx_apdu_t *a, knx_val_t *out)
{
    if (knx_dpt_size(dpt) == 0) {
        if (a->is_small)
            return knx_dpt_decode(dpt, &a->small, 1, out);
        return knx_dpt_decode(dpt, a->data, a->len, out); /* tolerated: one data byte */
    }
    if (a->is_small)
        return KNX_DPT_ELENGTH;
    return knx_dpt_decode(dpt, a->data, a->len, out);
}
