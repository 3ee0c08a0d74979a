/*
 * Alink signing primitives (see alink_sign.h): HMAC hex and sign contents.
 */
#include "alink_sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    const char *json;
} k_methods[] = {
    [GW_ALINK_HMAC_MD5] = {"hmacmd5", "hmacMd5"},
    [GW_ALINK_HMAC_SHA1] = {"hmacsha1", "hmacSha1"},
    [GW_ALINK_HMAC_SHA256] = {"hmacsha256", "hmacSha256"},
};

static bool method_valid(gw_alink_sign_method_t m)
{
    return (int)m >= GW_ALINK_HMAC_MD5 && (int)m <= GW_ALINK_HMAC_SHA256;
}

int gw_alink_sign_method_parse(const char *name, gw_alink_sign_method_t *out)
{
    if (!name || !out)
        return -1;
    for (size_t i = 0; i < sizeof k_methods / sizeof k_methods[0]; i++) {
        if (strcasecmp(name, k_methods[i].name) == 0) {
            *out = (gw_alink_sign_method_t)i;
            return 0;
        }
    }
    return -1;
}

const char *gw_alink_sign_method_name(gw_alink_sign_method_t m)
{
    return method_valid(m) ? k_methods[m].name : "?";
}

const char *gw_alink_sign_method_json(gw_alink_sign_method_t m)
{
    return method_valid(m) ? k_methods[m].json : "?";
}

int gw_alink_hmac_hex(gw_alink_sign_method_t m, const char *key, const void *msg, size_t len,
                      bool upper, char out[GW_ALINK_HEX_MAX])
{
    if (!out)
        return -1;
    out[0] = '\0';
    if (!key || (!msg && len) || !method_valid(m))
        return -1;
    const EVP_MD *md = m == GW_ALINK_HMAC_MD5 ? EVP_md5() : m == GW_ALINK_HMAC_SHA1 ? EVP_sha1() : EVP_sha256();
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    static const unsigned char empty[1] = {0};
    if (!HMAC(md, key, (int)strlen(key), msg ? (const unsigned char *)msg : empty, len, mac, &mac_len)
        || mac_len * 2 + 1 > GW_ALINK_HEX_MAX)
        return -1;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (unsigned int i = 0; i < mac_len; i++) {
        out[2 * i] = digits[mac[i] >> 4];
        out[2 * i + 1] = digits[mac[i] & 0xf];
    }
    out[2 * mac_len] = '\0';
    return (int)(2 * mac_len);
}

bool gw_alink_hex_equal(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < la; i++) {
        unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];
        if (ca >= 'A' && ca <= 'Z')
            ca = (unsigned char)(ca + 32);
        if (cb >= 'A' && cb <= 'Z')
            cb = (unsigned char)(cb + 32);
        diff |= (unsigned char)(ca ^ cb);
    }
    return diff == 0;
}

int gw_alink_sign_content(char *buf, size_t cap, const char *client_id, const char *device_name,
                          const char *product_key, const char *timestamp)
{
    if (!buf || !cap || !device_name || !product_key)
        return -1;
    int n = snprintf(buf, cap, "%s%sdeviceName%sproductKey%s%s%s", client_id ? "clientId" : "",
                     client_id ? client_id : "", device_name, product_key, timestamp ? "timestamp" : "",
                     timestamp ? timestamp : "");
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return -1;
    }
    return n;
}

int gw_alink_device_sign(gw_alink_sign_method_t m, const char *secret, const char *client_id,
                         const char *device_name, const char *product_key, const char *timestamp,
                         char out[GW_ALINK_HEX_MAX])
{
    char content[1024];
    if (out)
        out[0] = '\0';
    int n = gw_alink_sign_content(content, sizeof content, client_id, device_name, product_key, timestamp);
    if (n < 0 || !secret)
        return -1;
    return gw_alink_hmac_hex(m, secret, content, (size_t)n, true, out);
}

int gw_alink_register_sign(gw_alink_sign_method_t m, const char *product_secret,
                           const char *device_name, const char *product_key, const char *random,
                           char out[GW_ALINK_HEX_MAX])
{
    char content[512];
    if (out)
        out[0] = '\0';
    if (!product_secret || !device_name || !product_key || !random)
        return -1;
    int n = snprintf(content, sizeof content, "deviceName%sproductKey%srandom%s", device_name, product_key,
                     random);
    if (n < 0 || (size_t)n >= sizeof content)
        return -1;
    return gw_alink_hmac_hex(m, product_secret, content, (size_t)n, true, out);
}
