/*
 * Alink signing primitives: HMAC (md5 / sha1 / sha256) rendered as hex, and
 * the exact "content" strings the Alibaba IoT platform signs.
 *
 * Pure functions over OpenSSL's libcrypto; no allocation, no global state, no
 * logging, so they are safe from any thread. Shared by the gateway's cloud
 * link (core/cloud) and the platform emulator (tools/alink-emu).
 *
 * Facts (see /work/shared/alink-protocol.md §1 and §4):
 *  - content = the submitted parameters sorted by name, name+value concatenated
 *    with no separator: "clientId"<cid> "deviceName"<dn> "productKey"<pk>
 *    "timestamp"<ts>; clientId and timestamp are optional and simply omitted.
 *  - registration content = "deviceName"<dn> "productKey"<pk> "random"<r>,
 *    keyed with the ProductSecret.
 *  - SDKs disagree on hex case: produce either, compare case-insensitively.
 */
#ifndef LINKGW_ALINK_SIGN_H
#define LINKGW_ALINK_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** HMAC algorithms the platform accepts. */
typedef enum gw_alink_sign_method {
    GW_ALINK_HMAC_MD5 = 0,
    GW_ALINK_HMAC_SHA1 = 1,
    GW_ALINK_HMAC_SHA256 = 2
} gw_alink_sign_method_t;

/** Size of a buffer that holds any hex HMAC plus its NUL (sha256: 64 + 1). */
#define GW_ALINK_HEX_MAX 65

/**
 * Parses a sign method name case-insensitively: "hmacmd5", "hmacsha1",
 * "hmacsha256" (so also the JSON spellings "hmacMd5", "hmacSha1",
 * "hmacSha256"). Returns 0 and sets *out, or -1 for anything else (including
 * NULL and the unverified plain "Sha256").
 */
int gw_alink_sign_method_parse(const char *name, gw_alink_sign_method_t *out);

/** Lower-case name used in the MQTT client id block: "hmacsha256". */
const char *gw_alink_sign_method_name(gw_alink_sign_method_t m);

/** Camel-case name used in JSON sign fields: "hmacSha256". */
const char *gw_alink_sign_method_json(gw_alink_sign_method_t m);

/**
 * HMAC of @p msg (@p len bytes) keyed with the NUL-terminated @p key, written
 * to @p out as hex (upper case when @p upper) and NUL-terminated. @p out must
 * hold GW_ALINK_HEX_MAX bytes. Returns the number of hex digits (32, 40, 64)
 * or -1 on a bad argument / libcrypto failure (out is then "").
 */
int gw_alink_hmac_hex(gw_alink_sign_method_t m, const char *key, const void *msg, size_t len,
                      bool upper, char out[GW_ALINK_HEX_MAX]);

/**
 * True when the two NUL-terminated hex strings are equal ignoring ASCII case.
 * Runs in time independent of where they differ (for equal lengths), so it may
 * be used to check signatures. NULL never equals anything.
 */
bool gw_alink_hex_equal(const char *a, const char *b);

/**
 * Builds the device / sub-device sign content
 * "clientId<cid>deviceName<dn>productKey<pk>timestamp<ts>" into @p buf.
 * @p client_id and @p timestamp may be NULL (the pair is then omitted);
 * @p device_name and @p product_key are required. Returns the content length,
 * or -1 when an argument is missing or @p cap is too small.
 */
int gw_alink_sign_content(char *buf, size_t cap, const char *client_id, const char *device_name,
                          const char *product_key, const char *timestamp);

/**
 * Signs a device identity: HMAC(@p secret, sign content as above) as upper-case
 * hex into @p out. This is the MQTT CONNECT password of a device-secret login,
 * the `sign` of topo/add, combine/login and batch_login entries. Returns the
 * hex length or -1.
 */
int gw_alink_device_sign(gw_alink_sign_method_t m, const char *secret, const char *client_id,
                         const char *device_name, const char *product_key, const char *timestamp,
                         char out[GW_ALINK_HEX_MAX]);

/**
 * Signs a dynamic registration (MQTT register, HTTPS register, LinkSDK
 * product_register): HMAC(@p product_secret,
 * "deviceName<dn>productKey<pk>random<random>") as upper-case hex into @p out.
 * All strings are required. Returns the hex length or -1.
 */
int gw_alink_register_sign(gw_alink_sign_method_t m, const char *product_secret,
                           const char *device_name, const char *product_key, const char *random,
                           char out[GW_ALINK_HEX_MAX]);

#ifdef __cplusplus
}
#endif
#endif
