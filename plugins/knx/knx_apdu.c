/*
 * Group-value APDU framing (see knx_apdu.h).
 */
#include "knx_apdu.h"

#include <string.h>

size_t knx_apdu_build(knx_apci_t apci, bool small, const uint8_t *payload, size_t len, uint8_t *out)
{
    if (apci < KNX_APCI_READ || apci > KNX_APCI_WRITE || len > KNX_APDU_MAX - 2)
        return 0;
    out[0] = (uint8_t)(((unsigned)apci >> 2) & 0x03);
    out[1] = (uint8_t)(((unsigned)apci & 0x03) << 6);
    if (apci == KNX_APCI_READ || !payload || len == 0)
        return 2;
    if (small) {
        out[1] |= payload[0] & 0x3F;
        return 2;
    }
    memcpy(out + 2, payload, len);
    return 2 + len;
}

bool knx_apdu_parse(const uint8_t *buf, size_t len, knx_apdu_t *out)
{
    memset(out, 0, sizeof *out);
    out->apci = KNX_APCI_OTHER;
    if (!buf || len < 2 || len > 255)
        return false;
    int apci = ((buf[0] & 0x03) << 2) | (buf[1] >> 6);
    if (apci > KNX_APCI_WRITE)
        return false;
    out->apci = (knx_apci_t)apci;
    out->small = buf[1] & 0x3F;
    out->is_small = len == 2;
    out->data = buf + 2;
    out->len = len - 2;
    return true;
}
