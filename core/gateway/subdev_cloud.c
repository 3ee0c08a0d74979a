/*
 * What the lifecycle manager says to the platform (see subdev_internal.h):
 *
 * On every connection: topo/get, and every LocalTopoList device the cloud no
 * longer lists is dropped (LocalTopoList, access network). Only then the pump
 * runs; it is level-triggered and sends, within the platform's limits:
 *   topo/delete   RemovedDevList, ≤ 30 per request; acked (or 6401/6100:
 *                 already gone) → the row leaves RemovedDevList;
 *   sub/register  present devices with an identity but no DeviceSecret, when
 *                 the instance allows it, ≤ 30; the secrets are committed to
 *                 the store BEFORE anything uses them; refusals (6289 already
 *                 issued, 6100 not pre-registered, 6288, 6619) are final until
 *                 credentials are imported;
 *   topo/add      present devices holding a secret, not proxied, ≤ 30, each
 *                 entry signed; acked → LocalTopoList;
 *   batch_login   proxied, present, online, not logged in, ≤ 50 per batch,
 *                 at most login_rate entries in any 1-second window (platform:
 *                 ~200/s per gateway), ≤ 5 logins per device per rolling
 *                 minute; batches wait to fill (min(candidates, 50, rate/4));
 *   batch_logout  logged in but offline or gone, ≤ 50.
 * Batches are all-or-nothing on the platform: the devices its reply names
 * get their own treatment (codes below), the others are retried at once; a
 * failed batch that names nobody is retried one device per request.
 * Platform limits 428 (online cap) and 6400 (topology cap) are logged at
 * error level and shown by `linkgwctl status`.
 *
 * Downstream: topo/change (status 0 created, 1 deleted, 2 enabled, 8
 * disabled), thing/disable|enable|delete on the sub-device's topics,
 * topo/add/notify, and the error channels (/ext/error 520 → log in again;
 * 427/521/522 kicks). All idempotent.
 */
#include "subdev_internal.h"
#include "gateway_conf.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_SHORT_MS 5000
#define RETRY_LIMIT_MS 60000
#define RETRY_LONG_MS 300000

typedef struct req_ctx {
    gw_subdev_t *m;
    int op;
    size_t n;
    char keys[][2 * GW_STORE_NAME_MAX]; /* "pk/dn" of each entry */
} req_ctx_t;

static req_ctx_t *ctx_new(gw_subdev_t *m, int op, size_t n)
{
    req_ctx_t *c = calloc(1, sizeof *c + n * sizeof c->keys[0]);
    if (c) {
        c->m = m;
        c->op = op;
    }
    return c;
}

static sd_dev_t *ctx_dev(req_ctx_t *c, size_t i)
{
    return gw_strmap_get(&c->m->by_cloud, c->keys[i]);
}

static void gw_topic(gw_subdev_t *m, char *buf, size_t cap, const char *root, const char *rest)
{
    snprintf(buf, cap, "/%s/%s/%s/%s", root, gw_cloud_product_key(m->cloud), gw_cloud_device_name(m->cloud), rest);
}

/* Code the reply's data gives for pk/dn (all-or-nothing batches list offenders), or 0. */
static int offender_code(const gw_cloud_reply_t *r, const sd_dev_t *d, bool *listed_any)
{
    size_t i;
    json_t *e;
    if (!r || !json_is_array(r->data))
        return 0;
    json_array_foreach(r->data, i, e) {
        json_t *code = json_object_get(e, "code");
        if (!json_is_integer(code))
            continue;
        *listed_any = true;
        const char *pk = json_string_value(json_object_get(e, "productKey"));
        const char *dn = json_string_value(json_object_get(e, "deviceName"));
        if (pk && dn && strcmp(pk, d->pk) == 0 && strcmp(dn, d->dn) == 0)
            return (int)json_integer_value(code);
    }
    return 0;
}

/* Records a platform cap (428/6400) for `linkgwctl status`; logs at most once a minute per code. */
static void record_cap(gw_subdev_t *m, int code, const char *what)
{
    int64_t now = sd_wall_ms();
    if (code != m->stats.last_cap_code || now - m->stats.last_cap_ms > 60000)
        GW_ERROR("subdev", "platform limit reached (code %d): %s", code, what);
    m->stats.last_cap_code = code;
    m->stats.last_cap_ms = now;
    snprintf(m->stats.last_cap_msg, sizeof m->stats.last_cap_msg, "%s", what);
}

/* What a platform error code means for @p d after a request of kind @p op. */
static void fail_dev(gw_subdev_t *m, sd_dev_t *d, int op, int code, uint64_t now)
{
    d->last_code = code;
    switch (code) {
    case 428:
        record_cap(m, 428, "too many sub-devices online under this gateway; logins wait");
        m->login_paused_until = now + RETRY_LIMIT_MS;
        break;
    case 6400:
        record_cap(m, 6400, "too many sub-devices in this gateway's topology; topo/add waits");
        m->add_paused_until = now + RETRY_LIMIT_MS;
        break;
    case 429:
        m->stats.throttled++;
        GW_WARN("subdev", "%s: throttled by the platform (429): retry in a minute", d->ckey);
        d->retry_at = now + RETRY_LIMIT_MS;
        break;
    case 522:
    case 6204:
        GW_WARN("subdev", "%s is disabled in the cloud (%d)", d->ckey, code);
        d->disabled = true;
        break;
    case 521:
    case 6401:
        if (op == OP_LOGIN) {
            sd_cloud_deleted(m, d, code == 521 ? "login: device deleted" : "login: no topological relation");
            return;
        }
        d->retry_at = now + RETRY_SHORT_MS;
        break;
    case 6289:
    case 6288:
    case 6100:
    case 6619:
    case 6600:
    case 6250:
        if (op == OP_REG) {
            d->no_secret = code;
            GW_ERROR("subdev", "%s: registration refused (%d: %s); fix the configuration or import its "
                     "DeviceSecret with `linkgwctl credentials import`", d->ckey, code,
                     code == 6289 ? "the secret was already issued once"
                     : code == 6288 ? "dynamic registration is off for the product"
                     : code == 6100 ? "DeviceName not pre-registered (whitelist)"
                     : code == 6600 ? "signature check failed: the ProductSecret in product_secrets is wrong"
                     : code == 6250 ? "no such product"
                                    : "bound to another gateway");
            return;
        }
        /* fall through */
    case 401:
    case 6287:
    case 6292:
    case 6402:
        GW_ERROR("subdev", "%s refused by the platform (code %d)%s", d->ckey, code,
                 code == 401 || code == 6287 ? ": its DeviceSecret is wrong" : "");
        d->retry_at = now + RETRY_LONG_MS;
        break;
    default:
        GW_WARN("subdev", "%s: platform error %d: retrying", d->ckey, code);
        d->retry_at = now + RETRY_SHORT_MS;
        break;
    }
}

/*
 * Common handling of a batch reply: returns true on success (code 200).
 * Otherwise applies fail_dev() to the devices the reply names and decides
 * for the others (retry now, one by one, or later).
 */
static bool batch_outcome(req_ctx_t *c, int status, const gw_cloud_reply_t *r, const char *what)
{
    gw_subdev_t *m = c->m;
    uint64_t now = uv_now(m->loop);
    if (status == LGW_OK && r && r->code == 200)
        return true;
    if (status != LGW_OK || !r) {
        GW_WARN("subdev", "%s of %zu device(s): no answer (%d)", what, c->n, status);
        for (size_t i = 0; i < c->n; i++) {
            sd_dev_t *d = ctx_dev(c, i);
            if (d)
                d->retry_at = now + RETRY_SHORT_MS;
        }
        return false;
    }
    bool listed = false;
    for (size_t i = 0; i < c->n; i++) {
        sd_dev_t *d = ctx_dev(c, i);
        if (d)
            offender_code(r, d, &listed);
    }
    GW_WARN("subdev", "%s of %zu device(s) refused: %d %s", what, c->n, r->code, r->message ? r->message : "");
    if (!listed && c->n > 1 && (r->code == 428 || r->code == 6400))
        record_cap(m, r->code, r->code == 428 ? "too many sub-devices online under this gateway: logging in one by one"
                                              : "too many sub-devices in this gateway's topology: adding one by one");
    for (size_t i = 0; i < c->n; i++) {
        sd_dev_t *d = ctx_dev(c, i);
        if (!d)
            continue;
        bool dummy = false;
        int code = offender_code(r, d, &dummy);
        if (code)
            fail_dev(m, d, c->op, code, now);
        else if (listed)
            d->retry_at = 0;                         /* innocent bystander */
        else if (c->n > 1 && r->code != 429)
            d->solo = true;                          /* find the culprit, or fill up to a cap */
        else
            fail_dev(m, d, c->op, r->code, now);
    }
    return false;
}

/* Clears the in-flight bit of every device of @p c and forgets those left in no list. */
static void ctx_finish(req_ctx_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        sd_dev_t *d = ctx_dev(c, i);
        if (d) {
            d->inflight &= ~(unsigned)c->op;
            sd_maybe_drop(c->m, d);
        }
    }
    free(c);
}

static int send_req(gw_subdev_t *m, const char *topic, const char *method, json_t *params, gw_cloud_reply_fn fn,
                    req_ctx_t *c)
{
    int rc = gw_cloud_request(m->cloud, topic, method, params, 0, fn, c, NULL);
    json_decref(params);
    return rc;
}

/* The in-flight counter of requests of @p c's kind (topo/delete contexts have op 0). */
static unsigned *ctx_inflight(req_ctx_t *c)
{
    switch (c->op) {
    case OP_REG: return &c->m->reg_inflight;
    case OP_ADD: return &c->m->add_inflight;
    case OP_LOGIN: return &c->m->login_inflight;
    case OP_LOGOUT: return &c->m->logout_inflight;
    default: return &c->m->del_inflight;
    }
}

/*
 * Sends the request of context @p c (reply to @p fn), counted in flight until
 * ctx_arrived(). On failure nothing stays counted and @p c is still the
 * caller's to clean up.
 */
static int send_ctx(req_ctx_t *c, const char *topic, const char *method, json_t *params, gw_cloud_reply_fn fn)
{
    unsigned *n = ctx_inflight(c);
    (*n)++;
    int rc = send_req(c->m, topic, method, params, fn, c);
    if (rc != LGW_OK)
        (*n)--;
    return rc;
}

/* A reply (or its failure) for @p c arrived: uncounts it. False, with @p c freed, once the cloud is gone. */
static bool ctx_arrived(req_ctx_t *c)
{
    (*ctx_inflight(c))--;
    if (!c->m->cloud) {
        free(c);
        return false;
    }
    return true;
}

/* Builds a signed entry (topo/add: signmethod in the entry; login: at params level). */
static json_t *signed_entry(gw_subdev_t *m, sd_dev_t *d, const char *ts, bool topo)
{
    char secret[GW_STORE_SECRET_MAX], cid[2 * GW_STORE_NAME_MAX + 2], sign[GW_ALINK_HEX_MAX];
    if (gw_store_cred_get(m->store, d->pk, d->dn, secret, NULL) != GW_STORE_OK) {
        GW_ERROR("subdev", "%s: DeviceSecret unreadable: %s", d->ckey, gw_store_errmsg(m->store));
        d->has_cred = false;
        return NULL;
    }
    snprintf(cid, sizeof cid, "%s.%s", d->pk, d->dn);
    int n = gw_alink_device_sign(GW_ALINK_HMAC_SHA256, secret, cid, d->dn, d->pk, ts, sign);
    memset(secret, 0, sizeof secret);
    if (n < 0)
        return NULL;
    json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s}", "productKey", d->pk, "deviceName", d->dn, "clientId", cid,
                          "timestamp", ts, "sign", sign);
    if (!e)
        return NULL;
    if (topo)
        json_object_set_new(e, "signmethod", json_string("hmacSha256"));
    else
        json_object_set_new(e, "cleanSession", json_string("false"));
    return e;
}

/* ---- topo/get (on connect) --------------------------------------------------------------- */

static void on_topo_get(gw_cloud_t *cl, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)cl;
    gw_subdev_t *m = data;
    m->topo_get_inflight = false;
    if (!m->cloud || !m->connected)
        return;
    if (status != LGW_OK || !r || r->code != 200 || !json_is_array(r->data)) {
        GW_WARN("subdev", "topo/get failed (%d/%d): retrying before anything else is sent", status, r ? r->code : 0);
        m->topo_get_retry_at = uv_now(m->loop) + RETRY_SHORT_MS;
        sd_kick(m);
        return;
    }
    gw_strmap_t cloud;
    gw_strmap_init(&cloud);
    size_t i;
    json_t *e;
    char (*keys)[2 * GW_STORE_NAME_MAX] = calloc(json_array_size(r->data) + 1, sizeof *keys);
    json_array_foreach(r->data, i, e) {
        const char *pk = json_string_value(json_object_get(e, "productKey"));
        const char *dn = json_string_value(json_object_get(e, "deviceName"));
        if (!keys || !pk || !dn || strlen(pk) >= GW_STORE_NAME_MAX || strlen(dn) >= GW_STORE_NAME_MAX)
            continue;
        snprintf(keys[i], sizeof keys[i], "%s/%s", pk, dn);
        gw_strmap_put(&cloud, keys[i], keys[i]);
    }
    size_t dropped = 0;
    if (keys) {
        gw_list_foreach_safe(node, tmp, &m->devs) {
            sd_dev_t *d = gw_container_of(node, sd_dev_t, link);
            if (d->proxied && !gw_strmap_get(&cloud, d->ckey)) {
                dropped++;
                sd_cloud_deleted(m, d, "not in the cloud topology any more");
            }
        }
    }
    gw_strmap_free(&cloud);
    free(keys);
    GW_INFO("subdev", "connected: cloud topology has %zu sub-device(s); %zu deleted in the cloud meanwhile",
            json_array_size(r->data), dropped);
    m->synced = true;
    m->stats.syncs++;
    sd_kick(m);
}

static void topo_get(gw_subdev_t *m)
{
    char t[256];
    gw_topic(m, t, sizeof t, "sys", "thing/topo/get");
    m->topo_get_inflight = true;
    if (send_req(m, t, "thing.topo.get", json_object(), on_topo_get, (req_ctx_t *)(void *)m) != LGW_OK)
        m->topo_get_inflight = false;
}

/* ---- topo/delete (RemovedDevList) ---------------------------------------------------------- */

static void on_topo_delete(gw_cloud_t *cl, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)cl;
    req_ctx_t *c = data;
    if (!ctx_arrived(c))
        return;
    gw_subdev_t *m = c->m;
    if (status == LGW_OK && r && r->code == 200) {
        for (size_t i = 0; i < c->n; i++) {
            char *slash = strchr(c->keys[i], '/');
            *slash = 0;
            gw_store_removed_delete(m->store, c->keys[i], slash + 1);
            GW_INFO("subdev", "topo/delete %s/%s acknowledged: out of RemovedDevList", c->keys[i], slash + 1);
            m->stats.removed_sent++;
        }
        m->del_solo = false;
    } else if (status == LGW_OK && r) {
        bool listed = false;
        size_t i;
        json_t *e;
        json_array_foreach(r->data, i, e) {
            json_t *code = json_object_get(e, "code");
            const char *pk = json_string_value(json_object_get(e, "productKey"));
            const char *dn = json_string_value(json_object_get(e, "deviceName"));
            if (!pk || !dn || !json_is_integer(code))
                continue;
            listed = true;
            int cd = (int)json_integer_value(code);
            if (cd == 6401 || cd == 6100) { /* already gone on the platform */
                gw_store_removed_delete(m->store, pk, dn);
                GW_INFO("subdev", "topo/delete %s/%s: already gone on the platform (%d)", pk, dn, cd);
            }
        }
        if (!listed) {
            m->del_solo = c->n > 1;
            if (!m->del_solo)
                m->del_retry_at = uv_now(m->loop) + RETRY_SHORT_MS;
            GW_WARN("subdev", "topo/delete refused: %d %s", r->code, r->message ? r->message : "");
        }
    } else {
        m->del_retry_at = uv_now(m->loop) + RETRY_SHORT_MS;
    }
    free(c);
    sd_kick(m);
}

static void pump_removed(gw_subdev_t *m, uint64_t now, uint64_t *wake)
{
    if (m->del_inflight)
        return;
    if (now < m->del_retry_at) {
        if (m->del_retry_at < *wake)
            *wake = m->del_retry_at;
        return;
    }
    gw_removed_entry_t *rl = NULL;
    size_t n = 0;
    if (gw_store_removed_list(m->store, &rl, &n) != GW_STORE_OK || n == 0) {
        free(rl);
        return;
    }
    size_t take = n < SD_BATCH_TOPO ? n : SD_BATCH_TOPO;
    if (m->del_solo)
        take = 1;
    req_ctx_t *c = ctx_new(m, 0, take);
    json_t *params = json_array();
    for (size_t i = 0; c && i < take; i++) {
        snprintf(c->keys[i], sizeof c->keys[i], "%s/%s", rl[i].pk, rl[i].dn);
        json_array_append_new(params, json_pack("{s:s,s:s}", "productKey", rl[i].pk, "deviceName", rl[i].dn));
        c->n++;
    }
    free(rl);
    if (!c) {
        json_decref(params);
        return;
    }
    char t[256];
    gw_topic(m, t, sizeof t, "sys", "thing/topo/delete");
    if (send_ctx(c, t, "thing.topo.delete", params, on_topo_delete) != LGW_OK)
        free(c);
}

/* ---- sub/register ------------------------------------------------------------------------------ */

/*
 * Persists the DeviceSecrets of reply list @p list ([{productKey, deviceName,
 * deviceSecret}, …]) for the devices of @p c, in one transaction committed
 * BEFORE anything uses them (the platform issues a secret only once).
 */
static void store_secrets(req_ctx_t *c, const json_t *list, const char *what)
{
    gw_subdev_t *m = c->m;
    bool batch = gw_store_batch_begin(m->store) == GW_STORE_OK;
    size_t i, stored = 0;
    json_t *e;
    sd_dev_t **got = calloc(c->n + 1, sizeof *got);
    json_array_foreach(list, i, e) {
        const char *pk = json_string_value(json_object_get(e, "productKey"));
        const char *dn = json_string_value(json_object_get(e, "deviceName"));
        const char *ds = json_string_value(json_object_get(e, "deviceSecret"));
        sd_dev_t *d = sd_find_cloud(m, pk, dn);
        if (!d || !(d->inflight & OP_REG) || !ds || !gw_store_secret_valid(ds)) {
            GW_WARN("subdev", "%s reply: entry %zu ignored (unknown device or invalid secret)", what, i);
            continue;
        }
        if (gw_store_cred_put(m->store, pk, dn, ds, GW_CRED_REGISTERED) != GW_STORE_OK) {
            GW_ERROR("subdev", "%s: cannot store the DeviceSecret: %s", d->ckey, gw_store_errmsg(m->store));
            continue;
        }
        if (got && stored < c->n)
            got[stored++] = d;
    }
    bool durable = !batch || gw_store_batch_commit(m->store) == GW_STORE_OK;
    if (!durable)
        GW_ERROR("subdev", "the DeviceSecrets just issued could NOT be persisted (%s); the platform will not "
                 "issue them again: import them with `linkgwctl credentials import`",
                 gw_store_errmsg(m->store));
    for (size_t k = 0; durable && got && k < stored; k++) {
        got[k]->has_cred = true;
        got[k]->last_code = 0;
        m->stats.registered++;
        GW_INFO("subdev", "%s: DeviceSecret obtained (%s) and stored", got[k]->ckey, what);
    }
    free(got);
}

static void on_register(gw_cloud_t *cl, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)cl;
    req_ctx_t *c = data;
    if (!ctx_arrived(c))
        return;
    gw_subdev_t *m = c->m;
    if (batch_outcome(c, status, r, "thing/sub/register"))
        store_secrets(c, r->data, "thing/sub/register");
    ctx_finish(c);
    sd_kick(m);
}

/* product_register answers {"proxieds": [...]}; a bare array is accepted too. */
static void on_product_register(gw_cloud_t *cl, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)cl;
    req_ctx_t *c = data;
    if (!ctx_arrived(c))
        return;
    gw_subdev_t *m = c->m;
    if (batch_outcome(c, status, r, "product_register")) {
        const json_t *list = json_is_array(r->data) ? r->data : json_object_get(r->data, "proxieds");
        if (!json_is_array(list))
            GW_WARN("subdev", "product_register reply without a device list: retrying later");
        store_secrets(c, list, "product_register");
        /* a device the reply did not list got nothing: ask again, not soon */
        for (size_t i = 0; i < c->n; i++) {
            sd_dev_t *d = ctx_dev(c, i);
            if (d && !d->has_cred) {
                GW_WARN("subdev", "%s: product_register answered 200 without its secret; asking again later", d->ckey);
                d->retry_at = uv_now(m->loop) + RETRY_LONG_MS;
            }
        }
    }
    ctx_finish(c);
    sd_kick(m);
}

/* ---- candidates ----------------------------------------------------------------------------------- */

static bool due(sd_dev_t *d, uint64_t now, uint64_t *wake)
{
    if (d->retry_at <= now)
        return true;
    if (d->retry_at < *wake)
        *wake = d->retry_at;
    return false;
}

typedef bool (*want_fn)(gw_subdev_t *m, sd_dev_t *d);

static bool want_register(gw_subdev_t *m, sd_dev_t *d)
{
    (void)m;
    return d->present && d->ckey[0] && !d->proxied && !d->has_cred && !d->no_secret && !d->disabled &&
           !(d->inflight & OP_REG) && gw_gwconf_may_register(d->instance);
}

static bool want_add(gw_subdev_t *m, sd_dev_t *d)
{
    (void)m;
    return d->present && d->ckey[0] && !d->proxied && d->has_cred && !d->disabled && !(d->inflight & OP_ADD);
}

static bool want_login(gw_subdev_t *m, sd_dev_t *d)
{
    (void)m;
    return d->proxied && d->present && d->online && !d->logged_in && !d->disabled &&
           !(d->inflight & (OP_LOGIN | OP_LOGOUT | OP_ADD));
}

static bool want_logout(gw_subdev_t *m, sd_dev_t *d)
{
    (void)m;
    return d->logged_in && (!d->present || !d->online) && !(d->inflight & (OP_LOGIN | OP_LOGOUT));
}

/* When @p d may log in again under the 5-per-minute rule (uv_now ms). */
static uint64_t login_allowed_at(const sd_dev_t *d)
{
    if (d->nlogins < SD_LOGIN_WINDOW)
        return 0;
    return d->logins[d->nlogins % SD_LOGIN_WINDOW] + 60000 + 100;
}

/* Up to @p max due candidates of @p want into @p out; a `solo` device goes alone. */
static size_t collect(gw_subdev_t *m, want_fn want, bool login, sd_dev_t **out, size_t max, uint64_t now,
                      uint64_t *wake)
{
    size_t n = 0;
    gw_list_foreach_safe(node, tmp, &m->devs) {
        if (n >= max)
            break;
        sd_dev_t *d = gw_container_of(node, sd_dev_t, link);
        if (!want(m, d) || !due(d, now, wake))
            continue;
        if (login) {
            uint64_t at = login_allowed_at(d);
            if (at > now) {
                if (at < *wake)
                    *wake = at;
                continue;
            }
        }
        if (d->solo) {
            if (n == 0) {
                out[n++] = d; /* the sender clears the flag */
                break;
            }
            continue;
        }
        out[n++] = d;
    }
    return n;
}

/* The ProductSecret configured for @p d's product, or NULL. */
static const char *product_secret(const sd_dev_t *d)
{
    return gw_gwconf_product_secret(d->instance, d->pk);
}

/*
 * A product_register entry for @p d, signed with its ProductSecret @p ps
 * over a fresh random (20 hex digits, like the LinkSDK's).
 */
static json_t *product_register_entry(const sd_dev_t *d, const char *ps)
{
    unsigned char b[10];
    char rnd[2 * sizeof b + 1], sign[GW_ALINK_HEX_MAX];
    if (uv_random(NULL, NULL, b, sizeof b, 0, NULL) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(rnd + 2 * i, 3, "%02x", b[i]);
    if (gw_alink_register_sign(GW_ALINK_HMAC_SHA256, ps, d->dn, d->pk, rnd, sign) < 0)
        return NULL;
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "productKey", d->pk, "deviceName", d->dn, "random", rnd,
                     "signMethod", "hmacSha256", "sign", sign);
}

/*
 * One registration request at a time, ≤ 30 devices, all of one kind: devices
 * whose product has a ProductSecret in `product_secrets` go through
 * thing/proxy/provisioning/product_register (signed), the others through
 * thing/sub/register. The kind of the first candidate decides; the others
 * wait for the next pump (the reply kicks it).
 */
static void pump_register(gw_subdev_t *m, uint64_t now, uint64_t *wake)
{
    if (m->reg_inflight)
        return;
    sd_dev_t *devs[SD_BATCH_TOPO];
    size_t n = collect(m, want_register, false, devs, SD_BATCH_TOPO, now, wake);
    if (!n)
        return;
    const char *ps[SD_BATCH_TOPO];
    bool by_product = (ps[0] = product_secret(devs[0])) != NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = i ? product_secret(devs[i]) : ps[0];
        if ((s != NULL) == by_product) {
            ps[k] = s;
            devs[k++] = devs[i];
        }
    }
    n = k;
    req_ctx_t *c = ctx_new(m, OP_REG, n);
    if (!c)
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *e = by_product ? product_register_entry(devs[i], ps[i])
                               : json_pack("{s:s,s:s}", "productKey", devs[i]->pk, "deviceName", devs[i]->dn);
        if (!e || json_array_append_new(list, e) != 0)
            continue; /* out of memory or randomness: retried on a later pump */
        memcpy(c->keys[c->n], devs[i]->ckey, sizeof c->keys[c->n]);
        c->n++;
        devs[i]->inflight |= OP_REG;
        devs[i]->solo = false;
    }
    n = c->n;
    if (!n) {
        json_decref(list);
        free(c);
        return;
    }
    char t[256];
    if (by_product) {
        gw_topic(m, t, sizeof t, "sys", "thing/proxy/provisioning/product_register");
        GW_INFO("subdev", "thing/proxy/provisioning/product_register for %zu sub-device(s)", n);
        if (send_ctx(c, t, "thing.proxy.provisioning.product_register", json_pack("{s:o}", "proxieds", list),
                     on_product_register) != LGW_OK)
            ctx_finish(c);
    } else {
        gw_topic(m, t, sizeof t, "sys", "thing/sub/register");
        GW_INFO("subdev", "thing/sub/register for %zu sub-device(s)", n);
        if (send_ctx(c, t, "thing.sub.register", list, on_register) != LGW_OK)
            ctx_finish(c);
    }
}

/* ---- topo/add ------------------------------------------------------------------------------------- */

static void on_topo_add(gw_cloud_t *cl, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)cl;
    req_ctx_t *c = data;
    if (!ctx_arrived(c))
        return;
    gw_subdev_t *m = c->m;
    if (batch_outcome(c, status, r, "topo/add")) {
        bool batch = gw_store_batch_begin(m->store) == GW_STORE_OK;
        for (size_t i = 0; i < c->n; i++) {
            sd_dev_t *d = ctx_dev(c, i);
            if (!d)
                continue;
            gw_topo_entry_t e;
            memset(&e, 0, sizeof e);
            snprintf(e.pk, sizeof e.pk, "%s", d->pk);
            snprintf(e.dn, sizeof e.dn, "%s", d->dn);
            snprintf(e.plugin, sizeof e.plugin, "%s", d->instance);
            snprintf(e.device_id, sizeof e.device_id, "%s", d->device_id);
            snprintf(e.model, sizeof e.model, "%s", d->model[0] ? d->model : "-");
            int rc = gw_store_topo_add(m->store, &e, NULL, 0);
            if (rc != GW_STORE_OK) {
                GW_ERROR("subdev", "LocalTopoList: cannot add %s: %s", d->ckey, gw_store_errmsg(m->store));
                continue;
            }
            d->proxied = true;
            d->last_code = 0;
            m->stats.topo_added++;
            if (!d->present) /* deleted locally while topo/add was on its way */
                gw_store_topo_move_to_removed(m->store, d->pk, d->dn), d->proxied = false;
        }
        if (batch && gw_store_batch_commit(m->store) != GW_STORE_OK)
            GW_ERROR("subdev", "LocalTopoList: commit failed: %s", gw_store_errmsg(m->store));
        GW_INFO("subdev", "topo/add of %zu sub-device(s) acknowledged", c->n);
    }
    ctx_finish(c);
    sd_kick(m);
}

static void pump_add(gw_subdev_t *m, uint64_t now, uint64_t *wake)
{
    if (m->add_inflight)
        return;
    if (now < m->add_paused_until) {
        if (m->add_paused_until < *wake)
            *wake = m->add_paused_until;
        return;
    }
    sd_dev_t *devs[SD_BATCH_TOPO];
    size_t n = collect(m, want_add, false, devs, SD_BATCH_TOPO, now, wake);
    if (!n)
        return;
    req_ctx_t *c = ctx_new(m, OP_ADD, n);
    if (!c)
        return;
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)gw_cloud_time_ms(m->cloud));
    json_t *params = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *e = signed_entry(m, devs[i], ts, true);
        if (!e)
            continue;
        json_array_append_new(params, e);
        memcpy(c->keys[c->n++], devs[i]->ckey, sizeof c->keys[0]);
        devs[i]->inflight |= OP_ADD;
        devs[i]->solo = false;
    }
    if (!c->n) {
        json_decref(params);
        free(c);
        return;
    }
    char t[256];
    gw_topic(m, t, sizeof t, "sys", "thing/topo/add");
    if (send_ctx(c, t, "thing.topo.add", params, on_topo_add) != LGW_OK)
        ctx_finish(c);
}

/* ---- batch_login / batch_logout ---------------------------------------------------------------------- */

static void on_login(gw_cloud_t *cl, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)cl;
    req_ctx_t *c = data;
    if (!ctx_arrived(c))
        return;
    gw_subdev_t *m = c->m;
    if (batch_outcome(c, status, r, "batch_login")) {
        for (size_t i = 0; i < c->n; i++) {
            sd_dev_t *d = ctx_dev(c, i);
            if (!d)
                continue;
            d->last_code = 0;
            m->stats.logins++;
            sd_set_logged_in(m, d, true);
        }
        GW_INFO("subdev", "batch_login of %zu sub-device(s) acknowledged", c->n);
    }
    ctx_finish(c);
    sd_kick(m);
}

/* Login entries still allowed in the 1-second window ending now (expired batches dropped). */
static unsigned window_free(gw_subdev_t *m, uint64_t now)
{
    while (m->win.len && m->win.at[m->win.head] + 1000 <= now) {
        m->win.sum -= m->win.n[m->win.head];
        m->win.head = (m->win.head + 1) % SD_WINDOW_MAX;
        m->win.len--;
    }
    return m->win.sum < m->login_rate ? m->login_rate - m->win.sum : 0;
}

/* When @p need entries will be free (uv_now ms). */
static uint64_t window_free_at(gw_subdev_t *m, unsigned need, uint64_t now)
{
    unsigned freed = m->login_rate - m->win.sum;
    for (unsigned i = 0; i < m->win.len && freed < need; i++) {
        unsigned k = (m->win.head + i) % SD_WINDOW_MAX;
        freed += m->win.n[k];
        if (freed >= need)
            return m->win.at[k] + 1000 + 1;
    }
    return now + 1000;
}

static void window_add(gw_subdev_t *m, uint64_t now, unsigned n)
{
    if (m->win.len == SD_WINDOW_MAX) { /* cannot happen with login_rate ≤ 200; stay conservative */
        m->win.n[(m->win.head + m->win.len - 1) % SD_WINDOW_MAX] += n;
        m->win.sum += n;
        return;
    }
    unsigned k = (m->win.head + m->win.len) % SD_WINDOW_MAX;
    m->win.at[k] = now;
    m->win.n[k] = n;
    m->win.len++;
    m->win.sum += n;
}

static void pump_login(gw_subdev_t *m, uint64_t now, uint64_t *wake)
{
    if (now < m->login_paused_until) {
        if (m->login_paused_until < *wake)
            *wake = m->login_paused_until;
        return;
    }
    while (m->login_inflight < SD_LOGIN_INFLIGHT) {
        /* fill batches: wait for min(candidates, 50, a quarter second of rate) free entries */
        sd_dev_t *probe[SD_BATCH_LOGIN];
        uint64_t ignore = UINT64_MAX;
        size_t ncand = collect(m, want_login, true, probe, SD_BATCH_LOGIN, now, &ignore);
        if (ncand == 1 && probe[0]->solo)
            ncand = 1; /* a device that goes alone */
        size_t need = m->login_rate / 4 ? m->login_rate / 4 : 1;
        if (need > SD_BATCH_LOGIN)
            need = SD_BATCH_LOGIN;
        if (ncand < need)
            need = ncand;
        if (need == 0) {
            collect(m, want_login, true, probe, SD_BATCH_LOGIN, now, wake); /* only for the wake time */
            return;
        }
        unsigned avail = window_free(m, now);
        if (avail < need) {
            uint64_t at = window_free_at(m, (unsigned)need, now);
            if (at < *wake)
                *wake = at;
            return;
        }
        size_t max = avail < SD_BATCH_LOGIN ? avail : SD_BATCH_LOGIN;
        sd_dev_t *devs[SD_BATCH_LOGIN];
        size_t n = collect(m, want_login, true, devs, max, now, wake);
        if (!n)
            return;
        req_ctx_t *c = ctx_new(m, OP_LOGIN, n);
        if (!c)
            return;
        char ts[24];
        snprintf(ts, sizeof ts, "%lld", (long long)gw_cloud_time_ms(m->cloud));
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *e = signed_entry(m, devs[i], ts, false);
            if (!e)
                continue;
            json_array_append_new(list, e);
            memcpy(c->keys[c->n++], devs[i]->ckey, sizeof c->keys[0]);
            devs[i]->inflight |= OP_LOGIN;
            devs[i]->solo = false;
            devs[i]->logins[devs[i]->nlogins % SD_LOGIN_WINDOW] = now;
            devs[i]->nlogins++;
        }
        if (!c->n) {
            json_decref(list);
            free(c);
            return;
        }
        window_add(m, now, (unsigned)c->n);
        json_t *params = json_pack("{s:s,s:o}", "signMethod", "hmacSha256", "deviceList", list);
        char t[256];
        gw_topic(m, t, sizeof t, "ext/session", "combine/batch_login");
        m->stats.login_batches++;
        if (send_ctx(c, t, "combine.batch_login", params, on_login) != LGW_OK) {
            ctx_finish(c);
            return;
        }
    }
}

static void on_logout(gw_cloud_t *cl, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)cl;
    req_ctx_t *c = data;
    if (!ctx_arrived(c))
        return;
    gw_subdev_t *m = c->m;
    bool ok = batch_outcome(c, status, r, "batch_logout");
    for (size_t i = 0; i < c->n; i++) {
        sd_dev_t *d = ctx_dev(c, i);
        bool listed = false;
        if (d && (ok || (r && offender_code(r, d, &listed) == 520))) {
            d->retry_at = 0;
            m->login_paused_until = 0; /* room under the online cap again */
            if (ok)
                m->stats.logouts++;
            sd_set_logged_in(m, d, false);
        }
    }
    ctx_finish(c);
    sd_kick(m);
}

static void pump_logout(gw_subdev_t *m, uint64_t now, uint64_t *wake)
{
    if (m->logout_inflight >= 2)
        return;
    sd_dev_t *devs[SD_BATCH_LOGIN];
    size_t n = collect(m, want_logout, false, devs, SD_BATCH_LOGIN, now, wake);
    if (!n)
        return;
    req_ctx_t *c = ctx_new(m, OP_LOGOUT, n);
    if (!c)
        return;
    json_t *params = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(params, json_pack("{s:s,s:s}", "productKey", devs[i]->pk, "deviceName", devs[i]->dn));
        memcpy(c->keys[i], devs[i]->ckey, sizeof c->keys[i]);
        devs[i]->inflight |= OP_LOGOUT;
        devs[i]->solo = false;
    }
    c->n = n;
    char t[256];
    gw_topic(m, t, sizeof t, "ext/session", "combine/batch_logout");
    if (send_ctx(c, t, "combine.batch_logout", params, on_logout) != LGW_OK)
        ctx_finish(c);
}

/* ---- the pump ---------------------------------------------------------------------------------------- */

static void on_retry(uv_timer_t *t)
{
    sd_pump(t->data);
}

static void arm(gw_subdev_t *m, uint64_t wake, uint64_t now)
{
    if (wake == UINT64_MAX)
        return;
    uint64_t delay = wake > now ? wake - now : 1;
    if (uv_is_active((uv_handle_t *)&m->retry_timer) && uv_timer_get_due_in(&m->retry_timer) <= delay)
        return;
    uv_timer_start(&m->retry_timer, on_retry, delay, 0);
}

void sd_pump(gw_subdev_t *m)
{
    if (!m->cloud || m->closing || !m->connected)
        return;
    uv_update_time(m->loop);
    uint64_t now = uv_now(m->loop), wake = UINT64_MAX;
    if (!m->synced) {
        if (!m->topo_get_inflight) {
            if (now >= m->topo_get_retry_at)
                topo_get(m);
            else
                wake = m->topo_get_retry_at;
        }
        arm(m, wake, now);
        return;
    }
    pump_removed(m, now, &wake);
    pump_register(m, now, &wake);
    pump_add(m, now, &wake);
    pump_logout(m, now, &wake);
    pump_login(m, now, &wake);
    arm(m, wake, now);
}

static void on_kick(uv_timer_t *t)
{
    sd_pump(t->data);
}

void sd_kick(gw_subdev_t *m)
{
    if (m->closing || uv_is_active((uv_handle_t *)&m->kick_timer))
        return;
    uv_timer_start(&m->kick_timer, on_kick, 0, 0);
}

/* ---- connection state ---------------------------------------------------------------------------------- */

static void on_state(gw_cloud_t *cl, gw_cloud_state_t st, void *data)
{
    (void)cl;
    gw_subdev_t *m = data;
    if (!m->cloud || m->closing)
        return;
    bool up = st == GW_CLOUD_CONNECTED;
    if (up && !m->connected) {
        m->connected = true;
        m->synced = false;
        m->topo_get_retry_at = 0;
        m->del_retry_at = 0;
        m->stats.connects++;
        gw_list_foreach_safe(node, tmp, &m->devs) {
            sd_dev_t *d = gw_container_of(node, sd_dev_t, link);
            d->retry_at = 0;
            d->solo = false;
            d->disabled = false; /* may have been enabled meanwhile: the login tells */
        }
        m->add_paused_until = m->login_paused_until = 0;
        sd_kick(m);
    } else if (!up && m->connected) {
        m->connected = false;
        m->synced = false;
        /* the platform sets every sub-device offline when the gateway goes */
        gw_list_foreach_safe(node, tmp, &m->devs)
            sd_set_logged_in(m, gw_container_of(node, sd_dev_t, link), false);
    }
}

/* ---- downstream ------------------------------------------------------------------------------------------ */

/* Applies a topo/change status (or thing/disable|enable|delete) to pk/dn. */
static void apply_change(gw_subdev_t *m, const char *pk, const char *dn, int status)
{
    sd_dev_t *d = sd_find_cloud(m, pk, dn);
    if (status == 1) {
        bool in_removed = false;
        if (gw_store_removed_has(m->store, pk, dn, &in_removed) == GW_STORE_OK && in_removed)
            gw_store_removed_delete(m->store, pk, dn);
        if (d && (d->proxied || d->present))
            sd_cloud_deleted(m, d, "topo/change");
        return;
    }
    if (!d)
        return;
    switch (status) {
    case 8:
        GW_INFO("subdev", "%s disabled in the cloud", d->ckey);
        d->disabled = true;
        sd_set_logged_in(m, d, false);
        break;
    case 2:
        GW_INFO("subdev", "%s enabled in the cloud", d->ckey);
        d->disabled = false;
        d->retry_at = 0;
        d->last_code = 0;
        break;
    case 0:
        if (!d->proxied && d->present && d->has_cred) {
            gw_topo_entry_t e;
            memset(&e, 0, sizeof e);
            snprintf(e.pk, sizeof e.pk, "%s", d->pk);
            snprintf(e.dn, sizeof e.dn, "%s", d->dn);
            snprintf(e.plugin, sizeof e.plugin, "%s", d->instance);
            snprintf(e.device_id, sizeof e.device_id, "%s", d->device_id);
            snprintf(e.model, sizeof e.model, "%s", d->model[0] ? d->model : "-");
            if (gw_store_topo_add(m->store, &e, NULL, 0) == GW_STORE_OK)
                d->proxied = true;
        }
        d->retry_at = 0;
        break;
    default:
        break;
    }
    sd_kick(m);
}

static void on_topo_change(gw_cloud_t *cl, const gw_cloud_msg_t *msg, void *data)
{
    gw_subdev_t *m = data;
    json_t *st = json_object_get(msg->params, "status");
    json_t *list = json_object_get(msg->params, "subList");
    if (!json_is_integer(st) || !json_is_array(list)) {
        if (msg->reply_topic && msg->id)
            gw_cloud_reply_to(cl, msg->reply_topic, msg->id, 460, NULL, "request parameter error");
        return;
    }
    if (msg->reply_topic && msg->id)
        gw_cloud_reply_to(cl, msg->reply_topic, msg->id, 200, NULL, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *pk = json_string_value(json_object_get(e, "productKey"));
        const char *dn = json_string_value(json_object_get(e, "deviceName"));
        if (pk && dn)
            apply_change(m, pk, dn, (int)json_integer_value(st));
    }
}

static void on_thing_state(gw_cloud_t *cl, const gw_cloud_msg_t *msg, void *data)
{
    gw_subdev_t *m = data;
    int status = msg->kind == GW_CLOUD_MSG_DISABLE ? 8 : msg->kind == GW_CLOUD_MSG_ENABLE ? 2
               : msg->kind == GW_CLOUD_MSG_DELETE  ? 1
                                                   : -1;
    if (msg->reply_topic && msg->id)
        gw_cloud_reply_to(cl, msg->reply_topic, msg->id, status < 0 ? 460 : 200, NULL, NULL);
    if (status < 0 || !msg->product_key || !msg->device_name)
        return;
    if (strcmp(msg->product_key, gw_cloud_product_key(cl)) == 0 &&
        strcmp(msg->device_name, gw_cloud_device_name(cl)) == 0) {
        GW_WARN("subdev", "the platform %s the gateway itself", status == 8 ? "disabled" : status == 2 ? "enabled" : "deleted");
        return;
    }
    apply_change(m, msg->product_key, msg->device_name, status);
}

static void on_add_notify(gw_cloud_t *cl, const gw_cloud_msg_t *msg, void *data)
{
    gw_subdev_t *m = data;
    if (msg->reply_topic && msg->id)
        gw_cloud_reply_to(cl, msg->reply_topic, msg->id, json_is_array(msg->params) ? 200 : 460, NULL, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(msg->params, i, e) {
        sd_dev_t *d = sd_find_cloud(m, json_string_value(json_object_get(e, "productKey")),
                                    json_string_value(json_object_get(e, "deviceName")));
        if (d)
            d->retry_at = 0;
    }
    sd_kick(m);
}

/* /ext/error/{gw} and pushes on combine/logout_reply: session problems of sub-devices. */
static void on_session_error(gw_cloud_t *cl, const gw_cloud_msg_t *msg, void *data)
{
    (void)cl;
    gw_subdev_t *m = data;
    json_t *code = json_object_get(msg->root, "code");
    json_t *d_ = json_object_get(msg->root, "data");
    const char *pk = json_string_value(json_object_get(d_, "productKey"));
    const char *dn = json_string_value(json_object_get(d_, "deviceName"));
    if (!json_is_integer(code) || !pk || !dn) {
        GW_DEBUG("subdev", "%s: ignored (no code or device)", msg->topic);
        return;
    }
    sd_dev_t *d = sd_find_cloud(m, pk, dn);
    if (!d)
        return;
    int c = (int)json_integer_value(code);
    uint64_t now = uv_now(m->loop);
    switch (c) {
    case 200:
        break;
    case 520:
        gw_subdev_session_lost(m, pk, dn);
        break;
    case 427:
        GW_WARN("subdev", "%s logged in elsewhere (427): retrying in a minute", d->ckey);
        sd_set_logged_in(m, d, false);
        d->retry_at = now + RETRY_LIMIT_MS;
        break;
    case 521:
        sd_cloud_deleted(m, d, "device deleted (521)");
        return;
    case 522:
        d->disabled = true;
        sd_set_logged_in(m, d, false);
        break;
    case 6401:
        sd_cloud_deleted(m, d, "topological relation gone (6401)");
        return;
    default:
        GW_WARN("subdev", "%s: platform error %d on %s", d->ckey, c, msg->topic);
        break;
    }
    sd_kick(m);
}

int sd_cloud_attach(gw_subdev_t *m)
{
    gw_cloud_t *c = m->cloud;
    char f[300];
    const char *pk = gw_cloud_product_key(c), *dn = gw_cloud_device_name(c);
    if (gw_cloud_add_state_listener(c, on_state, m) != LGW_OK)
        return -1;
    int rc = 0;
    snprintf(f, sizeof f, "/sys/%s/%s/thing/topo/change", pk, dn);
    rc |= gw_cloud_on(c, f, on_topo_change, m);
    snprintf(f, sizeof f, "/sys/%s/%s/thing/topo/add/notify", pk, dn);
    rc |= gw_cloud_on(c, f, on_add_notify, m);
    rc |= gw_cloud_on(c, "/sys/+/+/thing/disable", on_thing_state, m);
    rc |= gw_cloud_on(c, "/sys/+/+/thing/enable", on_thing_state, m);
    rc |= gw_cloud_on(c, "/sys/+/+/thing/delete", on_thing_state, m);
    snprintf(f, sizeof f, "/ext/error/%s/%s", pk, dn);
    rc |= gw_cloud_on(c, f, on_session_error, m);
    snprintf(f, sizeof f, "/ext/session/%s/%s/combine/logout_reply", pk, dn);
    rc |= gw_cloud_on(c, f, on_session_error, m);
    return rc ? -1 : 0;
}
