/*
 * Fuzz target: the KNX codecs (plugins/knx): DPT names, group and individual
 * addresses, APDU parsing, and every DPT decoder and encoder. Input: raw
 * bytes, used at once as a telegram APDU, as DPT payload, as text (names and
 * addresses) and as the fields of a value to encode.
 * Invariants: a parsed address formats back to text that parses to the same
 * address; a payload a decoder accepts can be encoded again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "knx_addr.h"
#include "knx_apdu.h"
#include "knx_dpt.h"

static const knx_dpt_t dpts[] = {
    { 1, 1 }, { 2, 1 }, { 3, 7 }, { 5, 1 }, { 5, 3 }, { 5, 4 }, { 5, 10 }, { 6, 1 }, { 7, 1 }, { 8, 1 },
    { 9, 1 }, { 10, 1 }, { 11, 1 }, { 12, 1 }, { 13, 1 }, { 14, 56 }, { 16, 0 }, { 16, 1 }, { 17, 1 },
    { 18, 1 }, { 20, 102 }, { 232, 600 },
};
#define N_DPTS (sizeof dpts / sizeof dpts[0])

static void text_side(const char *s)
{
    knx_dpt_t d;
    char buf[KNX_ADDR_STR + 16];
    if (knx_dpt_parse(s, &d) == 0) {
        knx_dpt_format(d, buf, sizeof buf);
        (void)knx_dpt_kind(d);
        (void)knx_dpt_size(d);
    }
    uint16_t a, b;
    if (knx_ga_parse(s, &a)) {
        knx_ga_format(a, buf, sizeof buf);
        if (!knx_ga_parse(buf, &b) || a != b) {
            fprintf(stderr, "group address '%s' -> %u -> '%s' does not read back\n", s, a, buf);
            abort();
        }
    }
    if (knx_ia_parse(s, &a)) {
        knx_ia_format(a, buf, sizeof buf);
        if (!knx_ia_parse(buf, &b) || a != b) {
            fprintf(stderr, "individual address '%s' -> %u -> '%s' does not read back\n", s, a, buf);
            abort();
        }
    }
    knx_ga_format((uint16_t)strlen(s), buf, 4); /* short buffers are truncated, never overrun */
    knx_ia_format((uint16_t)strlen(s), buf, 4);
}

static void decode_all(const uint8_t *p, size_t len)
{
    for (size_t k = 0; k < N_DPTS; k++) {
        knx_val_t v;
        if (knx_dpt_decode(dpts[k], p, len, &v) != KNX_DPT_OK)
            continue;
        uint8_t out[KNX_DPT_MAX_BYTES];
        size_t olen = sizeof out;
        int rc = knx_dpt_encode(dpts[k], &v, out, &olen);
        if (rc != KNX_DPT_OK) {
            char name[16];
            fprintf(stderr, "DPT %s decoded %zu bytes but cannot encode the value: %s\n",
                    knx_dpt_format(dpts[k], name, sizeof name), len, knx_dpt_strerror(rc));
            abort();
        }
    }
}

static void encode_all(const uint8_t *data, size_t size)
{
    knx_val_t v;
    memset(&v, 0, sizeof v);
    uint8_t raw[40] = { 0 };
    memcpy(raw, data, size < sizeof raw ? size : sizeof raw);
    v.kind = (knx_vkind_t)(raw[0] % 8);
    v.b = raw[1] & 1;
    memcpy(&v.i, raw + 2, sizeof v.i);
    memcpy(&v.d, raw + 10, sizeof v.d);
    memcpy(v.rgb, raw + 18, 3);
    if (size > 21) {
        size_t n = size - 21 < KNX_VAL_TEXT_MAX - 1 ? size - 21 : KNX_VAL_TEXT_MAX - 1;
        memcpy(v.text, data + 21, n);
    }
    for (size_t k = 0; k < N_DPTS; k++) {
        uint8_t out[KNX_DPT_MAX_BYTES];
        size_t olen = sizeof out;
        if (knx_dpt_encode(dpts[k], &v, out, &olen) == KNX_DPT_OK) {
            knx_val_t back;
            knx_dpt_decode(dpts[k], out, olen ? olen : 1, &back);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fz_strndup(data, size);
    if (!s)
        return 0;
    text_side(s);
    free(s);

    knx_apdu_t apdu;
    if (knx_apdu_parse(data, size, &apdu)) {
        if (apdu.len > size || (apdu.len && (apdu.data < data || apdu.data + apdu.len > data + size)))
            abort();
        if (apdu.is_small) {
            uint8_t one = apdu.small;
            decode_all(&one, 1);
        } else {
            decode_all(apdu.data, apdu.len);
        }
        uint8_t out[KNX_APDU_MAX];
        knx_apdu_build(apdu.apci == KNX_APCI_OTHER ? KNX_APCI_WRITE : apdu.apci, apdu.is_small,
                       apdu.is_small ? &apdu.small : apdu.data, apdu.is_small ? 1 : apdu.len, out);
    }
    decode_all(data, size);
    encode_all(data, size);
    return 0;
}
