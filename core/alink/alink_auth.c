/*
 * Alink MQTT CONNECT credentials (see alink_auth.h).
 */
#include "alink_auth.h"

#include <stdio.h>
#include <string.h>

/* A value placed in the |k=v| block or the username must not carry the separators. */
static bool clean_value(const char *s)
{
    return s && *s && !strpbrk(s, "|,&=");
}

static bool clean_base(const char *s)
{
    return s && *s && !strchr(s, '|');
}

static int default_base(char *buf, size_t cap, const char *client_id, const char *pk, const char *dn)
{
    int n = client_id ? snprintf(buf, cap, "%s", client_id) : snprintf(buf, cap, "%s.%s", pk, dn);
    return (n < 0 || (size_t)n >= cap || !clean_base(buf)) ? -1 : n;
}

static int fail(gw_alink_mqtt_cred_t *out)
{
    memset(out, 0, sizeof *out);
    return -1;
}

int gw_alink_connect_cred(const gw_alink_connect_params_t *p, gw_alink_mqtt_cred_t *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    if (!p || !clean_value(p->product_key) || !clean_value(p->device_name) || !p->device_secret
        || !*p->device_secret)
        return -1;
    const char *ts = p->timestamp ? p->timestamp : GW_ALINK_SDK_TIMESTAMP;
    if (*ts && !clean_value(ts))
        return -1;
    if ((p->version && !clean_value(p->version)) || (p->extra && strchr(p->extra, '|')))
        return -1;
    char base[128];
    if (default_base(base, sizeof base, p->client_id, p->product_key, p->device_name) < 0)
        return -1;

    char ext[24] = "";
    if (p->ext >= 0)
        snprintf(ext, sizeof ext, ",ext=%d", p->ext);
    int n = snprintf(out->client_id, sizeof out->client_id, "%s|securemode=%d,signmethod=%s%s%s%s%s%s%s%s|",
                     base, p->securemode, gw_alink_sign_method_name(p->sign_method), *ts ? ",timestamp=" : "",
                     ts, p->version ? ",_v=" : "", p->version ? p->version : "", ext,
                     (p->extra && *p->extra) ? "," : "", p->extra ? p->extra : "");
    if (n < 0 || (size_t)n >= sizeof out->client_id)
        return fail(out);
    n = snprintf(out->username, sizeof out->username, "%s&%s", p->device_name, p->product_key);
    if (n < 0 || (size_t)n >= sizeof out->username)
        return fail(out);
    if (gw_alink_device_sign(p->sign_method, p->device_secret, base, p->device_name, p->product_key,
                             *ts ? ts : NULL, out->password)
        < 0)
        return fail(out);
    return 0;
}

int gw_alink_register_cred(const gw_alink_register_params_t *p, gw_alink_mqtt_cred_t *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    if (!p || !clean_value(p->product_key) || !clean_value(p->device_name) || !p->product_secret
        || !*p->product_secret || !clean_value(p->auth_type) || !clean_value(p->random)
        || strlen(p->random) > 64 || (p->instance_id && !clean_value(p->instance_id)))
        return -1;
    char base[128];
    if (default_base(base, sizeof base, p->client_id, p->product_key, p->device_name) < 0)
        return -1;
    int n = snprintf(out->client_id, sizeof out->client_id,
                     "%s|securemode=%d,authType=%s,random=%s,signmethod=%s%s%s|", base, p->securemode,
                     p->auth_type, p->random, gw_alink_sign_method_name(p->sign_method),
                     p->instance_id ? ",instanceId=" : "", p->instance_id ? p->instance_id : "");
    if (n < 0 || (size_t)n >= sizeof out->client_id)
        return fail(out);
    n = snprintf(out->username, sizeof out->username, "%s&%s", p->device_name, p->product_key);
    if (n < 0 || (size_t)n >= sizeof out->username)
        return fail(out);
    if (gw_alink_register_sign(p->sign_method, p->product_secret, p->device_name, p->product_key, p->random,
                               out->password)
        < 0)
        return fail(out);
    return 0;
}

const char *gw_alink_client_id_split(const char *mqtt_client_id, char *base, size_t base_cap,
                                     size_t *block_len)
{
    if (!mqtt_client_id || !base || !base_cap || !block_len)
        return NULL;
    const char *bar = strchr(mqtt_client_id, '|');
    size_t blen = bar ? (size_t)(bar - mqtt_client_id) : strlen(mqtt_client_id);
    if (blen >= base_cap)
        return NULL;
    memcpy(base, mqtt_client_id, blen);
    base[blen] = '\0';
    if (!bar) {
        *block_len = 0;
        return mqtt_client_id + blen;
    }
    const char *block = bar + 1;
    const char *end = strchr(block, '|');
    *block_len = end ? (size_t)(end - block) : strlen(block);
    return block;
}

int gw_alink_client_id_get(const char *mqtt_client_id, const char *key, char *val, size_t val_cap)
{
    char base[256];
    size_t len = 0;
    if (!key || !val || !val_cap)
        return -1;
    const char *block = gw_alink_client_id_split(mqtt_client_id, base, sizeof base, &len);
    if (!block)
        return -1;
    size_t klen = strlen(key);
    const char *p = block, *end = block + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        const char *eq = memchr(p, '=', (size_t)(item_end - p));
        if (eq && (size_t)(eq - p) == klen && memcmp(p, key, klen) == 0) {
            size_t vlen = (size_t)(item_end - eq - 1);
            if (vlen >= val_cap)
                return -2;
            memcpy(val, eq + 1, vlen);
            val[vlen] = '\0';
            return (int)vlen;
        }
        p = item_end + 1;
    }
    return -1;
}

int gw_alink_username_split(const char *username, char *dn, size_t dn_cap, char *pk, size_t pk_cap)
{
    if (!username || !dn || !pk || !dn_cap || !pk_cap)
        return -1;
    const char *amp = strchr(username, '&');
    if (!amp || amp == username || !amp[1])
        return -1;
    size_t dlen = (size_t)(amp - username), plen = strlen(amp + 1);
    if (dlen >= dn_cap || plen >= pk_cap)
        return -1;
    memcpy(dn, username, dlen);
    dn[dlen] = '\0';
    memcpy(pk, amp + 1, plen + 1);
    return 0;
}
