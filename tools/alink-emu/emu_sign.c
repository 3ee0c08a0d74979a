/* emu_sign.c — Alink signature helpers for the emulator (see emu_sign.h), a thin layer
 * over the gateway's own gw_alink library (core/alink) so that both sides sign alike.
 * Only the legacy login content with cleanSession (§11.6) is built here. */
#include "emu_sign.h"

#include <stdio.h>
#include <string.h>

#include "alink_sign.h"

emu_hmac_t emu_hmac_from_name(const char *name)
{
    gw_alink_sign_method_t m;
    if (gw_alink_sign_method_parse(name, &m)) return EMU_HMAC_NONE;
    return m == GW_ALINK_HMAC_MD5 ? EMU_HMAC_MD5 : m == GW_ALINK_HMAC_SHA1 ? EMU_HMAC_SHA1 : EMU_HMAC_SHA256;
}

static bool to_method(emu_hmac_t alg, gw_alink_sign_method_t *m)
{
    switch (alg) {
    case EMU_HMAC_MD5: *m = GW_ALINK_HMAC_MD5; return true;
    case EMU_HMAC_SHA1: *m = GW_ALINK_HMAC_SHA1; return true;
    case EMU_HMAC_SHA256: *m = GW_ALINK_HMAC_SHA256; return true;
    default: return false;
    }
}

bool emu_hmac_hex(emu_hmac_t alg, const char *key, const char *msg, char out[65])
{
    gw_alink_sign_method_t m;
    out[0] = '\0';
    if (!to_method(alg, &m) || !key || !msg) return false;
    return gw_alink_hmac_hex(m, key, msg, strlen(msg), true, out) > 0;
}

bool emu_hex_equal(const char *a, const char *b)
{
    return a && b && *a && gw_alink_hex_equal(a, b);
}

static bool append(char *out, size_t outsz, size_t *pos, const char *name, const char *val)
{
    if (!val) return true;
    int n = snprintf(out + *pos, outsz - *pos, "%s%s", name, val);
    if (n < 0 || (size_t)n >= outsz - *pos) return false;
    *pos += (size_t)n;
    return true;
}

bool emu_sign_content(char *out, size_t outsz, const char *clean_session, const char *client_id,
                      const char *dn, const char *pk, const char *timestamp)
{
    size_t pos = 0;
    if (!outsz) return false;
    out[0] = '\0';
    return append(out, outsz, &pos, "cleanSession", clean_session) &&
           append(out, outsz, &pos, "clientId", client_id) &&
           append(out, outsz, &pos, "deviceName", dn) && append(out, outsz, &pos, "productKey", pk) &&
           append(out, outsz, &pos, "timestamp", timestamp);
}

bool emu_sign_check(const char *method, const char *secret, const char *client_id, const char *dn,
                    const char *pk, const char *timestamp, const char *sign)
{
    gw_alink_sign_method_t m;
    char hex[GW_ALINK_HEX_MAX];
    if (gw_alink_sign_method_parse(method, &m) || !secret || !sign) return false;
    if (gw_alink_device_sign(m, secret, client_id, dn, pk, timestamp, hex) <= 0) return false;
    return emu_hex_equal(hex, sign);
}
