/* emu_sign.c — HMAC helpers for the Alink emulator (see emu_sign.h). */
#include "emu_sign.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

emu_hmac_t emu_hmac_from_name(const char *name)
{
    if (!name) return EMU_HMAC_NONE;
    if (!strncasecmp(name, "hmac", 4)) name += 4;
    if (!strcasecmp(name, "md5")) return EMU_HMAC_MD5;
    if (!strcasecmp(name, "sha1")) return EMU_HMAC_SHA1;
    if (!strcasecmp(name, "sha256")) return EMU_HMAC_SHA256;
    return EMU_HMAC_NONE;
}

bool emu_hmac_hex(emu_hmac_t alg, const char *key, const char *msg, char out[65])
{
    const EVP_MD *md = alg == EMU_HMAC_MD5 ? EVP_md5() : alg == EMU_HMAC_SHA1 ? EVP_sha1()
                     : alg == EMU_HMAC_SHA256 ? EVP_sha256() : NULL;
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    out[0] = '\0';
    if (!md || !key || !msg) return false;
    if (!HMAC(md, key, (int)strlen(key), (const unsigned char *)msg, strlen(msg), dig, &len)) return false;
    if (len > 32) return false;
    for (unsigned int i = 0; i < len; i++) snprintf(out + 2 * i, 3, "%02X", dig[i]);
    return true;
}

bool emu_hex_equal(const char *a, const char *b)
{
    if (!a || !b || strlen(a) != strlen(b) || !*a) return false;
    return strcasecmp(a, b) == 0;
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
    char content[1024], hex[65];
    emu_hmac_t alg = emu_hmac_from_name(method);
    if (alg == EMU_HMAC_NONE || !secret || !sign) return false;
    if (!emu_sign_content(content, sizeof content, NULL, client_id, dn, pk, timestamp)) return false;
    return emu_hmac_hex(alg, secret, content, hex) && emu_hex_equal(hex, sign);
}
