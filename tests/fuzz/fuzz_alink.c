/*
 * Fuzz target: the Alink identity strings, both sides of the wire.
 *  - gateway side (core/alink): client-id split and `|k=v,…|` lookup,
 *    username split, sign-method names, CONNECT credential and sign builders;
 *  - emulator side (tools/alink-emu): the tolerant client-id parser and the
 *    signature check.
 * Input: newline-separated fields
 *   client-id \n key-or-username \n pk \n dn \n secret \n timestamp \n method \n extra
 * Invariant: when the emulator can parse a client id the gateway built, it
 * finds the same base and the gateway's password verifies (the emulator
 * accepts what the gateway sends).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alink_auth.h"
#include "alink_sign.h"
#include "emu_clientid.h"
#include "emu_sign.h"
#include "fuzz_util.h"

static void parse_side(const fz_fields_t *f)
{
    const char *id = f->f[0], *key = f->f[1];
    char base[129], val[65], dn[65], pk[65], tiny[2];
    size_t blen = 0;
    const char *block = gw_alink_client_id_split(id, base, sizeof base, &blen);
    if (block && strlen(block) < blen)
        abort(); /* the block length must stay inside the string */
    (void)gw_alink_client_id_split(id, tiny, sizeof tiny, &blen);
    gw_alink_client_id_get(id, key, val, sizeof val);
    gw_alink_client_id_get(id, key, tiny, sizeof tiny);
    static const char *const keys[] = { "securemode", "signmethod", "timestamp", "ext", "_ss", "authType" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        gw_alink_client_id_get(id, keys[i], val, sizeof val);
    gw_alink_username_split(key, dn, sizeof dn, pk, sizeof pk);
    gw_alink_username_split(key, tiny, sizeof tiny, tiny, sizeof tiny);
    emu_cid_t cid;
    emu_cid_parse(id, &cid);
    emu_cid_parse(key, &cid);
    gw_alink_sign_method_t m;
    gw_alink_sign_method_parse(f->f[6], &m);
    (void)emu_hmac_from_name(f->f[6]);
    (void)gw_alink_hex_equal(f->f[0], f->f[1]);
    (void)emu_hex_equal(f->f[0], f->f[1]);
}

static void build_side(const fz_fields_t *f)
{
    const char *pk = f->f[2], *dn = f->f[3], *secret = f->f[4], *ts = f->f[5];
    gw_alink_sign_method_t m = (gw_alink_sign_method_t)(f->len[6] % 3);
    gw_alink_sign_method_parse(f->f[6], &m);
    gw_alink_connect_params_t p = {
        .product_key = pk,
        .device_name = dn,
        .device_secret = secret,
        .client_id = f->n > 0 && f->len[0] && f->len[0] < 100 ? f->f[0] : NULL,
        .securemode = (int)(f->len[1] % 5) - 2,
        .sign_method = m,
        .timestamp = f->len[5] ? ts : NULL,
        .version = f->len[7] % 2 ? "sdk-c-4.1.0" : NULL,
        .ext = (int)(f->len[2] % 4) - 1,
        .extra = NULL,
    };
    gw_alink_mqtt_cred_t cred;
    if (gw_alink_connect_cred(&p, &cred) == 0) {
        emu_cid_t cid;
        if (emu_cid_parse(cred.client_id, &cid)) {
            char want[300];
            snprintf(want, sizeof want, "%s.%s", pk, dn);
            if (strcmp(cid.base, p.client_id ? p.client_id : want) != 0) {
                fprintf(stderr, "emulator read base '%s' from '%s'\n", cid.base, cred.client_id);
                abort();
            }
            if (!emu_sign_check(cid.signmethod, secret, cid.base, dn, pk, cid.has_timestamp ? cid.timestamp : NULL,
                                cred.password)) {
                fprintf(stderr, "emulator refused the gateway's password for '%s'\n", cred.client_id);
                abort();
            }
        }
    }
    p.extra = f->f[7];
    if (gw_alink_connect_cred(&p, &cred) == 0) {
        emu_cid_t cid;
        emu_cid_parse(cred.client_id, &cid);
    }
    gw_alink_register_params_t r = {
        .product_key = pk,
        .device_name = dn,
        .product_secret = secret,
        .client_id = NULL,
        .auth_type = f->len[1] % 2 ? "register" : "regnwl",
        .random = ts,
        .securemode = f->len[7] % 2 ? 2 : -2,
        .sign_method = m,
        .instance_id = f->len[7] ? f->f[7] : NULL,
    };
    if (gw_alink_register_cred(&r, &cred) == 0) {
        emu_cid_t cid;
        emu_cid_parse(cred.client_id, &cid);
    }
    char out[GW_ALINK_HEX_MAX], content[256];
    gw_alink_device_sign(m, secret, f->f[0], dn, pk, f->len[5] ? ts : NULL, out);
    gw_alink_register_sign(m, secret, dn, pk, ts, out);
    gw_alink_sign_content(content, sizeof content, f->f[0], dn, pk, ts);
    gw_alink_sign_content(content, 8, f->f[0], dn, pk, ts);
    gw_alink_hmac_hex(m, secret, f->f[7], f->len[7], f->len[0] % 2, out);
    emu_sign_content(content, sizeof content, f->len[1] % 2 ? "true" : NULL, f->f[0], dn, pk, ts);
    emu_sign_check(f->f[6], secret, f->f[0], dn, pk, ts, f->f[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_fields_t f;
    if (fz_split(data, size, 8, &f) != 0)
        return 0;
    parse_side(&f);
    build_side(&f);
    fz_fields_free(&f);
    return 0;
}
