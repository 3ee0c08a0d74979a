/*
 * Alink MQTT CONNECT credentials: building them (gateway side) and taking the
 * client id apart (emulator side).
 *
 * MQTT client id = <clientId> "|" k=v,k=v,... "|"
 * username       = <deviceName> "&" <productKey>
 * password       = device login:   hex HMAC(deviceSecret, sign content)
 *                  registration:   hex HMAC(productSecret, "deviceName..productKey..random..")
 * (/work/shared/alink-protocol.md §1.1, §1.2, §4.4). Pure functions, no
 * allocation, thread-safe.
 */
#ifndef LINKGW_ALINK_AUTH_H
#define LINKGW_ALINK_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "alink_sign.h"

#ifdef __cplusplus
extern "C" {
#endif

/** securemode values (§1.2). */
#define GW_ALINK_SECUREMODE_TLS 2
#define GW_ALINK_SECUREMODE_TCP 3
#define GW_ALINK_SECUREMODE_NEW_INSTANCE (-2)

/** The constant timestamp both official C SDKs sign (year 2050; never checked). */
#define GW_ALINK_SDK_TIMESTAMP "2524608000000"

/** Limits of the strings built here (MQTT client id ≤ 64 + block). */
#define GW_ALINK_CLIENT_ID_MAX 320
#define GW_ALINK_USERNAME_MAX 160

/** A ready-to-use set of MQTT CONNECT strings. */
typedef struct gw_alink_mqtt_cred {
    char client_id[GW_ALINK_CLIENT_ID_MAX]; /**< full MQTT client id incl. the |...| block */
    char username[GW_ALINK_USERNAME_MAX];   /**< "dn&pk" */
    char password[GW_ALINK_HEX_MAX];        /**< upper-case hex HMAC */
} gw_alink_mqtt_cred_t;

/**
 * Inputs of a device-secret login. Strings are borrowed for the call only.
 *  - client_id: the free part before '|'; NULL means "<pk>.<dn>" (the SDKs' choice).
 *  - securemode: 2 (TLS) or 3 (plain TCP), or -2 for new-version instances.
 *  - timestamp: signed and put in the block; NULL means GW_ALINK_SDK_TIMESTAMP,
 *    "" means omitted from both block and content.
 *  - version: the `_v` value (e.g. "linkgw-0.1.0"); NULL omits it.
 *  - ext: the `ext` bitmap (bit0 = RRPC on /ext/rrpc, bit1 = ext notify); < 0 omits it.
 *  - extra: more "k=v[,k=v]" appended to the block verbatim; NULL/"" for none.
 */
typedef struct gw_alink_connect_params {
    const char *product_key;
    const char *device_name;
    const char *device_secret;
    const char *client_id;
    int securemode;
    gw_alink_sign_method_t sign_method;
    const char *timestamp;
    const char *version;
    int ext;
    const char *extra;
} gw_alink_connect_params_t;

/**
 * Builds the CONNECT strings of a device-secret login, e.g.
 * "pk.dn|securemode=2,signmethod=hmacsha256,timestamp=2524608000000,_v=linkgw-0.1.0,ext=1|".
 * Returns 0, or -1 when a required field is missing/contains '|' '&' ',' where
 * they would break the format, or a result does not fit (out is zeroed then).
 */
int gw_alink_connect_cred(const gw_alink_connect_params_t *p, gw_alink_mqtt_cred_t *out);

/**
 * Inputs of an MQTT dynamic registration (§4.4).
 *  - auth_type: "register" (pre-registered DeviceName) or "regnwl".
 *  - random: the nonce (decimal or hex text, ≤ 64 chars) signed with the product secret.
 *  - securemode: 2 on public instances, -2 on new-version instances (with instance_id).
 *  - instance_id: NULL omits it.
 *  - client_id: NULL means "<pk>.<dn>".
 */
typedef struct gw_alink_register_params {
    const char *product_key;
    const char *device_name;
    const char *product_secret;
    const char *client_id;
    const char *auth_type;
    const char *random;
    int securemode;
    gw_alink_sign_method_t sign_method;
    const char *instance_id;
} gw_alink_register_params_t;

/**
 * Builds the CONNECT strings of an MQTT dynamic registration, e.g.
 * "pk.dn|securemode=2,authType=register,random=1234,signmethod=hmacsha256|".
 * Returns 0 or -1 (as gw_alink_connect_cred).
 */
int gw_alink_register_cred(const gw_alink_register_params_t *p, gw_alink_mqtt_cred_t *out);

/**
 * Splits a full MQTT client id at the first '|': copies the part before it
 * into @p base (cap @p base_cap) and returns a pointer to the k=v list that
 * follows (up to, not including, the closing '|'; the list may have trailing
 * commas, unknown keys, any order), with its length in *@p block_len.
 * Without a '|' the whole id is the base and the block is empty ("", 0).
 * Returns NULL when an argument is NULL or the base does not fit.
 */
const char *gw_alink_client_id_split(const char *mqtt_client_id, char *base, size_t base_cap,
                                     size_t *block_len);

/**
 * Looks up @p key in the |k=v,...| block of @p mqtt_client_id and copies its
 * value into @p val (cap @p val_cap). Keys match exactly (case-sensitive).
 * Returns the value length, -1 when absent, -2 when it does not fit.
 */
int gw_alink_client_id_get(const char *mqtt_client_id, const char *key, char *val, size_t val_cap);

/**
 * Splits a username "dn&pk" into its parts. Returns 0, or -1 if there is no
 * '&', a part is empty, or does not fit.
 */
int gw_alink_username_split(const char *username, char *dn, size_t dn_cap, char *pk, size_t pk_cap);

#ifdef __cplusplus
}
#endif
#endif
