/*
 * KNX datapoint types (DPT): parsing of DPT names and the codecs between a
 * telegram's payload bytes and a plain value, in both directions.
 *
 * Everything here is pure (no I/O, no host calls, no allocation), so it is
 * unit-tested on its own (tests/knx/test_knx_dpt.c). The plugin converts
 * knx_val_t to and from the SDK's lgw_value_t (knx_plugin.c).
 *
 * Value representation per main type (what the cloud sees):
 *   1.x      bool
 *   2.x      int 0..3        bit 1 = control, bit 0 = value
 *   3.x      int -7..+7      sign = control bit (+ = c=1: increase / down),
 *                            magnitude = step code, 0 = stop (break)
 *   5.001    double 0..100   scaling in percent (raw * 100 / 255, 2 decimals)
 *   5.003    double 0..360   angle in degrees   (raw * 360 / 255, 2 decimals)
 *   5.x      int 0..255      (5.004, 5.010 counter, 5.005 … : the raw byte)
 *   6.x      int -128..127
 *   7.x      int 0..65535
 *   8.x      int -32768..32767
 *   9.x      double          2-byte KNX float, -671088.64 .. 670433.28 (0x7FFF,
 *                            the top code, means "invalid data")
 *   10.001   text "HH:MM:SS" or "Ddd HH:MM:SS" (Ddd = Mon … Sun)
 *   11.001   text "YYYY-MM-DD", years 1990 … 2089
 *   12.x     int 0..4294967295
 *   13.x     int -2147483648..2147483647
 *   14.x     float           IEEE 754 single precision
 *   16.000   text ≤ 14 ASCII characters; 16.001: ≤ 14 ISO 8859-1 characters
 *            (carried as UTF-8 in the value)
 *   17.001   int 0..63       scene number as on the wire (ETS shows 1..64)
 *   18.001   int             scene number 0..63, plus 128 to learn (raw byte)
 *   20.x     enum 0..255
 *   232.600  rgb             red, green, blue 0..255
 */
#ifndef KNX_DPT_H
#define KNX_DPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Largest payload any supported DPT has (16.x: 14 bytes). */
#define KNX_DPT_MAX_BYTES 14
/** Room for the longest text value (16.001: 14 Latin-1 chars → 28 UTF-8 bytes) and its NUL. */
#define KNX_VAL_TEXT_MAX 32

/** A datapoint type, e.g. {9, 1} for 9.001. */
typedef struct knx_dpt {
    uint16_t main;
    uint16_t sub;
} knx_dpt_t;

/** Kinds of plain values the codecs produce and consume. */
typedef enum knx_vkind {
    KNX_VK_BOOL = 1,
    KNX_VK_INT,    /* i */
    KNX_VK_DOUBLE, /* d (decimal values: 5.001, 5.003, 9.x) */
    KNX_VK_FLOAT,  /* d holds the float32 value exactly (14.x) */
    KNX_VK_TEXT,   /* text, UTF-8, NUL-terminated */
    KNX_VK_ENUM,   /* i (20.x) */
    KNX_VK_RGB     /* rgb[0..2] = red, green, blue */
} knx_vkind_t;

/** A plain value; which member counts depends on kind. */
typedef struct knx_val {
    knx_vkind_t kind;
    bool b;
    int64_t i;
    double d;
    uint8_t rgb[3];
    char text[KNX_VAL_TEXT_MAX];
} knx_val_t;

/** Codec errors (negative; 0 is success). */
#define KNX_DPT_OK 0
#define KNX_DPT_EUNSUPPORTED (-1) /* DPT not supported */
#define KNX_DPT_ELENGTH (-2)      /* payload has the wrong length */
#define KNX_DPT_EINVALID (-3)     /* payload bytes are not a valid value (e.g. 9.x 0x7FFF, hour 25) */
#define KNX_DPT_ERANGE (-4)       /* value outside what the DPT can carry */
#define KNX_DPT_EKIND (-5)        /* value of the wrong kind for this DPT */

/**
 * Parses a DPT name into @p out. Accepted spellings: "9.001", "9" (main type
 * only: the sub-type is 0 except for types whose only supported sub-type is
 * fixed — 10 → 10.001, 11 → 11.001, 17 → 17.001, 18 → 18.001, 232 → 232.600),
 * "DPT9.001", "DPT-9", "DPST-9-1" (the ETS export forms). Returns KNX_DPT_OK,
 * KNX_DPT_EINVALID for a malformed name, or KNX_DPT_EUNSUPPORTED for a
 * well-formed but unsupported type (e.g. "10.002", "19.001").
 */
int knx_dpt_parse(const char *name, knx_dpt_t *out);

/** Formats @p dpt as "M.SSS" into @p buf (at least 12 bytes). Returns @p buf. */
char *knx_dpt_format(knx_dpt_t dpt, char *buf, size_t size);

/** The value kind @p dpt decodes to (and expects to encode from). */
knx_vkind_t knx_dpt_kind(knx_dpt_t dpt);

/**
 * Number of payload bytes of @p dpt, or 0 for the "small" types (1.x, 2.x,
 * 3.x) whose value travels in the low 6 bits of the APCI byte. For 16.x this
 * is 14 (the maximum; decoding also accepts shorter payloads).
 */
size_t knx_dpt_size(knx_dpt_t dpt);

/**
 * Decodes a payload. For small DPTs @p data is one byte holding the 6-bit
 * value (upper bits ignored), @p len must be 1. Fills @p out (kind per
 * knx_dpt_kind()). Returns KNX_DPT_OK or a negative KNX_DPT_E* code.
 */
int knx_dpt_decode(knx_dpt_t dpt, const uint8_t *data, size_t len, knx_val_t *out);

/**
 * Encodes @p in into @p out (room for KNX_DPT_MAX_BYTES) and stores the
 * payload length in @p *len. For small DPTs the result is one byte holding
 * the 6-bit value. @p in->kind must be knx_dpt_kind(dpt), except that BOOL,
 * INT and ENUM are interchangeable and DOUBLE/FLOAT are accepted for INT DPTs
 * when integral (and INT for DOUBLE/FLOAT DPTs); 232.600 also takes an INT
 * 0xRRGGBB. Returns KNX_DPT_OK or a negative KNX_DPT_E* code.
 */
int knx_dpt_encode(knx_dpt_t dpt, const knx_val_t *in, uint8_t *out, size_t *len);

/** Short English description of a KNX_DPT_E* code. */
const char *knx_dpt_strerror(int err);

#endif /* KNX_DPT_H */
