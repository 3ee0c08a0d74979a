/* emu_proto.c — the Alink protocol as the platform serves it: topology (topo/add, delete,
 * get, list/found), sub-device registration (sub/register, product_register), sessions
 * (combine/login, logout, batch_login, batch_logout), property/event/pack/history/batch
 * posts validated against the product TSL, tags, NTP, OTA reports, replies to downstream
 * requests, and /ext/error 520 for sub-device data without a session.
 * Decisions where the platform is unverified follow §11 of the protocol notes. */
#include "emu.h"
#include "emu_sign.h"
#include "emu_tsl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    emu_conn_t *c;              /* connection that sent the request */
    const emu_topic_t *t;
    const char *topic;
    json_t *req;                /* parsed payload, NULL when not JSON */
    char id[40];
    bool ack;                   /* the device wants a reply */
    char okey[EMU_KEY_MAX];     /* owner of the topic */
    json_t *odev;               /* owner device */
} req_t;

const char *emu_code_message(int code)
{
    switch (code) {
    case 200: return "success";
    case 401: return "request auth error";
    case 428: return "too many subdevices under gateway";
    case 429: return "rate limit, too many subDeviceOnline msg in one minute";
    case 460: return "request parameter error";
    case 520: return "device no session";
    case 521: return "device deleted";
    case 522: return "device forbidden";
    case 5160: return "tsl event not found";
    case 6100: return "device not found";
    case 6204: return "device disabled";
    case 6250: return "product not found";
    case 6280: return "devicename not meet specs";
    case 6287: return "invalid sign";
    case 6288: return "dynamic register not enabled";
    case 6289: return "device already registered";
    case 6292: return "sign method not supported";
    case 6356: return "too many events";
    case 6400: return "too many sub devices for this gateway";
    case 6401: return "topo relation not exist";
    case 6402: return "topo relation cannot add by self";
    case 6600: return "sign check failed";
    case 6619: return "device bound to another gateway";
    case 6713: return "remote config disabled";
    default: return code >= 6300 && code < 6400 ? "tsl check failed" : "error";
    }
}

json_t *emu_reply_body(const char *id, int code, json_t *data, const char *message)
{
    return json_pack("{s:s,s:i,s:o,s:s}", "id", id ? id : "", "code", code, "data", data ? data : json_object(),
                     "message", message ? message : emu_code_message(code));
}

static void reply(req_t *r, int code, json_t *data)
{
    char topic[600];
    if (code != 200) {
        char detail[700];
        snprintf(detail, sizeof detail, "%s -> %d", r->topic, code);
        emu_audit("request_refused", r->c->client_id, detail);
    }
    if (!r->ack) { json_decref(data); return; }
    snprintf(topic, sizeof topic, "%s_reply", r->topic);
    emu_send(r->c, topic, emu_reply_body(r->id, code, data, NULL), 0);
}

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static json_t *ident(const char *pk, const char *dn)
{
    return json_pack("{s:s,s:s}", "productKey", pk, "deviceName", dn);
}

static json_t *ident_code(const char *pk, const char *dn, int code)
{
    return json_pack("{s:s,s:s,s:i}", "productKey", pk ? pk : "", "deviceName", dn ? dn : "", "code", code);
}

/* Request id as a string: string ids are echoed, numeric ids converted; for payloads
 * that are not JSON a best-effort scan of the raw text. */
static void get_id(const json_t *req, const char *raw, size_t len, char out[40])
{
    const json_t *v = json_object_get(req, "id");
    out[0] = '\0';
    if (json_is_string(v)) snprintf(out, 40, "%s", json_string_value(v));
    else if (json_is_integer(v)) snprintf(out, 40, "%lld", (long long)json_integer_value(v));
    else if (!req && raw) {
        char buf[256];
        size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, raw, n);
        buf[n] = '\0';
        const char *p = strstr(buf, "\"id\"");
        if (!p) return;
        p += 4;
        while (*p == ' ' || *p == ':' || *p == '"') p++;
        size_t i = 0;
        while (i < 20 && isdigit((unsigned char)p[i])) { out[i] = p[i]; i++; }
        out[i] = '\0';
    }
}

static long long time_of(const json_t *v, long long dflt)
{
    if (json_is_integer(v)) return (long long)json_integer_value(v);
    const char *s = json_string_value(v);
    if (s && *s) {
        char *end;
        long long t = strtoll(s, &end, 10);
        if (!*end) return t;
    }
    return dflt;
}

static const char *pk_of(const json_t *dev) { return jstr(dev, "productKey"); }

static const json_t *tsl_of(const json_t *dev)
{
    const json_t *tsl = json_object_get(emu_product(pk_of(dev)), "tsl");
    return json_is_object(tsl) ? tsl : NULL;
}

/* ---- property storage --------------------------------------------------------- */

static void store_prop(json_t *dev, const char *id, json_t *value, long long time, bool latest)
{
    json_t *hist = json_object_get(dev, "history");
    if (!json_is_object(hist)) { hist = json_object(); json_object_set_new(dev, "history", hist); }
    json_t *list = json_object_get(hist, id);
    if (!json_is_array(list)) { list = json_array(); json_object_set_new(hist, id, list); }
    json_array_append_new(list, json_pack("{s:O,s:I}", "value", value, "time", (json_int_t)time));
    size_t evicted = 0;
    for (; json_array_size(list) > g_emu.history_max; evicted++) json_array_remove(list, 0);
    char key[EMU_KEY_MAX];
    emu_key(key, pk_of(dev), jstr(dev, "deviceName"));
    emu_history_appended(key, id, value, (json_int_t)time, evicted);
    if (latest) {
        json_t *props = json_object_get(dev, "properties");
        if (!json_is_object(props)) { props = json_object(); json_object_set_new(dev, "properties", props); }
        json_object_set_new(props, id, json_pack("{s:O,s:I}", "value", value, "time", (json_int_t)time));
    }
    emu_mark_dirty();
}

/* Split and validate one posted property entry; *value is borrowed from entry. */
static int check_prop(const json_t *dev, const char *id, json_t *entry, json_t **value, long long *time)
{
    const json_t *v = entry;
    int code = emu_tsl_prop_entry(pk_of(dev), id, entry, &v, time);
    *value = (json_t *)v;
    return code;
}

static void store_event(json_t *dev, const char *id, json_t *value, long long time)
{
    json_t *evs = json_object_get(dev, "events");
    if (!json_is_array(evs)) { evs = json_array(); json_object_set_new(dev, "events", evs); }
    json_array_append_new(evs, json_pack("{s:s,s:O,s:I,s:I}", "identifier", id, "value", value, "time", (json_int_t)time,
                                         "received", (json_int_t)emu_now_ms()));
    while (json_array_size(evs) > g_emu.events_max) json_array_remove(evs, 0);
    emu_mark_dirty();
}

static int check_event(const json_t *dev, const char *id, const json_t *value)
{
    return emu_tsl_event_output(pk_of(dev), id, value);
}

/* Event params: {"value":{..},"time":t} or the output object itself (LinkSDK). */
static json_t *event_value(json_t *params, long long *time)
{
    json_t *v = json_object_get(params, "value");
    if (json_is_object(v) && json_object_size(params) <= 2 && (json_object_size(params) == 1 || json_object_get(params, "time"))) {
        *time = time_of(json_object_get(params, "time"), *time);
        return v;
    }
    return params;
}

/* ---- data posts --------------------------------------------------------------- */

static void prop_post(req_t *r, json_t *params)
{
    const char *k;
    json_t *v;
    char detail[300];
    if (!json_is_object(params) || json_object_size(params) > 200) { reply(r, 460, NULL); return; }
    json_object_foreach(params, k, v) {
        long long time = emu_now_ms();
        json_t *value = NULL;
        int code = check_prop(r->odev, k, v, &value, &time);
        if (code) {                               /* the platform drops invalid properties */
            snprintf(detail, sizeof detail, "%s property %s dropped (%d)", r->okey, k, code);
            emu_audit("tsl_dropped", r->c->client_id, detail);
            continue;
        }
        store_prop(r->odev, k, value, time, true);
    }
    reply(r, 200, NULL);
}

static void event_post(req_t *r, const char *event_id, json_t *params)
{
    long long time = emu_now_ms();
    if (!json_is_object(params)) { reply(r, 460, NULL); return; }
    json_t *value = event_value(params, &time);
    int code = check_event(r->odev, event_id, value);
    if (code) { reply(r, code, NULL); return; }
    store_event(r->odev, event_id, value, time);
    reply(r, 200, NULL);
}

/* thing/event/property/batch/post: {"properties":{id:[{value,time}..]},"events":{id:[..]}} */
static void batch_post(req_t *r, json_t *params)
{
    const char *k;
    json_t *list, *it;
    size_t i;
    json_t *props = json_object_get(params, "properties"), *evs = json_object_get(params, "events");
    if (!json_is_object(params) || (props && !json_is_object(props)) || (evs && !json_is_object(evs))) {
        reply(r, 460, NULL);
        return;
    }
    json_object_foreach(props, k, list) {
        if (!json_is_array(list)) { reply(r, 460, NULL); return; }
        json_array_foreach(list, i, it) {
            long long time = emu_now_ms();
            json_t *value = NULL;
            if (!check_prop(r->odev, k, it, &value, &time)) store_prop(r->odev, k, value, time, true);
        }
    }
    json_object_foreach(evs, k, list) {
        if (!json_is_array(list)) { reply(r, 460, NULL); return; }
        json_array_foreach(list, i, it) {
            long long time = emu_now_ms();
            json_t *value = event_value(it, &time);
            if (!check_event(r->odev, k, value)) store_event(r->odev, k, value, time);
        }
    }
    reply(r, 200, NULL);
}

static bool in_my_topo(req_t *r, const char *key)
{
    json_t *me = emu_device_by_key(r->c->key);
    return emu_is_gateway(me) && json_object_get(emu_topo_of(me), key);
}

/* Validate one pack/post block (properties + events of one device). */
static int pack_check(const json_t *dev, json_t *props, json_t *evs, size_t *nprops, size_t *nevents)
{
    const char *k;
    json_t *v;
    if ((props && !json_is_object(props)) || (evs && !json_is_object(evs))) return 460;
    json_object_foreach(props, k, v) {
        long long t = 0;
        json_t *value = NULL;
        int code = check_prop(dev, k, v, &value, &t);
        if (code) return code;
        (*nprops)++;
    }
    json_object_foreach(evs, k, v) {
        long long t = 0;
        if (!json_is_object(v)) return 460;
        int code = check_event(dev, k, event_value(v, &t));
        if (code) return code;
        (*nevents)++;
    }
    return 0;
}

static void pack_apply(json_t *dev, json_t *props, json_t *evs)
{
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v) {
        long long t = emu_now_ms();
        json_t *value = NULL;
        check_prop(dev, k, v, &value, &t);
        store_prop(dev, k, value, t, true);
    }
    json_object_foreach(evs, k, v) {
        long long t = emu_now_ms();
        json_t *value = event_value(v, &t);
        store_event(dev, k, value, t);
    }
}

/* pack/post: all-or-nothing over the gateway's and its sub-devices' data. */
static void pack_post(req_t *r, json_t *params)
{
    size_t nprops = 0, nevents = 0, i;
    json_t *it;
    json_t *subs = json_object_get(params, "subDevices");
    if (!json_is_object(params) || (subs && !json_is_array(subs))) { reply(r, 460, NULL); return; }
    if (json_array_size(subs) > 20) { reply(r, 460, NULL); return; }
    int code = pack_check(r->odev, json_object_get(params, "properties"), json_object_get(params, "events"), &nprops, &nevents);
    if (code) { reply(r, code, NULL); return; }
    json_array_foreach(subs, i, it) {
        json_t *id = json_object_get(it, "identity");
        char key[EMU_KEY_MAX];
        const char *pk = jstr(id, "productKey"), *dn = jstr(id, "deviceName");
        if (!pk || !dn) { reply(r, 460, NULL); return; }
        json_t *dev = emu_device(pk, dn);
        emu_key(key, pk, dn);
        if (!dev) { reply(r, 6100, json_pack("[o]", ident_code(pk, dn, 6100))); return; }
        if (!in_my_topo(r, key)) { reply(r, 6401, json_pack("[o]", ident_code(pk, dn, 6401))); return; }
        code = pack_check(dev, json_object_get(it, "properties"), json_object_get(it, "events"), &nprops, &nevents);
        if (code) { reply(r, code, json_pack("[o]", ident_code(pk, dn, code))); return; }
    }
    if (nprops > 200) { reply(r, 460, NULL); return; }
    if (nevents > 20) { reply(r, 6356, NULL); return; }
    pack_apply(r->odev, json_object_get(params, "properties"), json_object_get(params, "events"));
    json_array_foreach(subs, i, it) {
        json_t *id = json_object_get(it, "identity");
        pack_apply(emu_device(jstr(id, "productKey"), jstr(id, "deviceName")), json_object_get(it, "properties"),
                   json_object_get(it, "events"));
    }
    reply(r, 200, NULL);
}

/* history/post: [{identity, properties:[{id:{value,time}}], events:[{id:{value,time}}]}] */
static void history_post(req_t *r, json_t *params)
{
    size_t i, j;
    json_t *it, *blk;
    if (!json_is_array(params) || !json_array_size(params)) { reply(r, 460, NULL); return; }
    json_array_foreach(params, i, it) {
        json_t *id = json_object_get(it, "identity");
        char key[EMU_KEY_MAX];
        const char *pk = jstr(id, "productKey"), *dn = jstr(id, "deviceName");
        if (!pk || !dn) { reply(r, 460, NULL); return; }
        emu_key(key, pk, dn);
        if (!emu_device(pk, dn)) { reply(r, 6100, NULL); return; }
        if (strcmp(key, r->c->key) && !in_my_topo(r, key)) { reply(r, 6401, NULL); return; }
        json_t *props = json_object_get(it, "properties"), *evs = json_object_get(it, "events");
        if ((props && !json_is_array(props)) || (evs && !json_is_array(evs))) { reply(r, 460, NULL); return; }
    }
    json_array_foreach(params, i, it) {
        json_t *id = json_object_get(it, "identity");
        json_t *dev = emu_device(jstr(id, "productKey"), jstr(id, "deviceName"));
        json_array_foreach(json_object_get(it, "properties"), j, blk) {
            const char *k;
            json_t *v;
            json_object_foreach(blk, k, v) {
                long long t = emu_now_ms();
                json_t *value = NULL;
                if (!check_prop(dev, k, v, &value, &t)) store_prop(dev, k, value, t, false);
            }
        }
        json_array_foreach(json_object_get(it, "events"), j, blk) {
            const char *k;
            json_t *v;
            json_object_foreach(blk, k, v) {
                long long t = emu_now_ms();
                json_t *value = json_is_object(v) ? event_value(v, &t) : v;
                if (!check_event(dev, k, value)) store_event(dev, k, value, t);
            }
        }
    }
    reply(r, 200, NULL);
}

static void deviceinfo(req_t *r, json_t *params, bool update)
{
    size_t i;
    json_t *it;
    json_t *tags = json_object_get(r->odev, "tags");
    if (!json_is_array(params) || !json_array_size(params) || json_array_size(params) > 200) { reply(r, 460, NULL); return; }
    json_array_foreach(params, i, it) {
        const char *k = jstr(it, "attrKey");
        if (!k || !*k || strlen(k) > 100 || (!isalpha((unsigned char)k[0]) && k[0] != '_')) { reply(r, 460, NULL); return; }
        for (const char *p = k; *p; p++) if (!isalnum((unsigned char)*p) && *p != '_') { reply(r, 460, NULL); return; }
        if (update && !json_is_string(json_object_get(it, "attrValue"))) { reply(r, 460, NULL); return; }
    }
    if (!json_is_object(tags)) { tags = json_object(); json_object_set_new(r->odev, "tags", tags); }
    json_array_foreach(params, i, it) {
        if (update) json_object_set(tags, jstr(it, "attrKey"), json_object_get(it, "attrValue"));
        else json_object_del(tags, jstr(it, "attrKey"));
    }
    emu_mark_dirty();
    reply(r, 200, NULL);
}

/* ---- topology and registration (gateway's own topics) ------------------------- */

static int sub_sign_code(const json_t *dev, const json_t *e, const char *fallback_method, bool login)
{
    const char *method = jstr(e, "signmethod");
    if (!method) method = jstr(e, "signMethod");
    if (!method) method = fallback_method;
    if (!method || !jstr(e, "sign")) return 460;
    if (emu_hmac_from_name(method) == EMU_HMAC_NONE) return 6292;
    const char *secret = jstr(dev, "deviceSecret");
    const char *cid = jstr(e, "clientId"), *pk = jstr(e, "productKey"), *dn = jstr(e, "deviceName"), *ts = jstr(e, "timestamp");
    if (emu_sign_check(method, secret, cid, dn, pk, ts, jstr(e, "sign"))) return 0;
    if (login && jstr(e, "cleanSession")) {      /* legacy 2018 form includes cleanSession (§11.6) */
        char content[1024], hex[65];
        if (emu_sign_content(content, sizeof content, jstr(e, "cleanSession"), cid, dn, pk, ts) &&
            emu_hmac_hex(emu_hmac_from_name(method), secret, content, hex) && emu_hex_equal(hex, jstr(e, "sign")))
            return 0;
    }
    return login ? 6287 : 401;
}

static void send_topo_change(const char *gw_key, int status, json_t *sublist)
{
    emu_conn_t *gc = emu_conn_by_key(gw_key);
    char id[24], topic[300];
    if (!gc) { json_decref(sublist); return; }
    emu_next_id(id);
    snprintf(topic, sizeof topic, "/sys/%s/%s/thing/topo/change", gc->pk, gc->dn);
    emu_send(gc, topic, json_pack("{s:s,s:s,s:{s:i,s:o},s:s}", "id", id, "version", "1.0", "params", "status", status,
                                  "subList", sublist, "method", "thing.topo.change"), 1);
}

static void topo_add(req_t *r, json_t *params)
{
    size_t i, fresh = 0;
    json_t *e;
    json_t *topo = emu_topo_of(r->odev), *seen = json_object(), *fails = json_array();
    int first = 0;
    if (!json_is_array(params) || !json_array_size(params) || json_array_size(params) > 30) {
        reply(r, 460, NULL);
        goto out;
    }
    json_array_foreach(params, i, e) {
        const char *pk = jstr(e, "productKey"), *dn = jstr(e, "deviceName");
        char key[EMU_KEY_MAX];
        int code = 0;
        if (!pk || !dn) { reply(r, 460, NULL); goto out; }
        json_t *dev = emu_device(pk, dn);
        emu_key(key, pk, dn);
        if (!dev) code = 6100;
        else if (!strcmp(key, r->okey)) code = 6402;
        else if (!json_is_true(json_object_get(dev, "enabled"))) code = 6204;
        else code = sub_sign_code(dev, e, NULL, false);
        if (code) {
            if (!first) first = code;
            json_array_append_new(fails, ident_code(pk, dn, code));
        } else if (!json_object_get(topo, key) && !json_object_get(seen, key)) {
            fresh++;
        }
        json_object_set_new(seen, key, json_true());
    }
    if (first) { reply(r, first, json_incref(fails)); goto out; }
    if (json_object_size(topo) + fresh > (size_t)g_emu.topo_cap) { reply(r, 6400, NULL); goto out; }
    json_t *data = json_array();
    json_array_foreach(params, i, e) {
        char key[EMU_KEY_MAX];
        emu_key(key, jstr(e, "productKey"), jstr(e, "deviceName"));
        json_t *dev = emu_device_by_key(key);
        const char *old = jstr(dev, "gateway");
        if (old && strcmp(old, r->okey)) {       /* moves from another gateway (like BatchAddThingTopo) */
            emu_end_session(key);
            send_topo_change(old, 1, json_pack("[o]", ident(jstr(e, "productKey"), jstr(e, "deviceName"))));
        }
        emu_topo_bind(r->okey, key);
        json_array_append_new(data, ident(jstr(e, "productKey"), jstr(e, "deviceName")));
    }
    reply(r, 200, data);
out:
    json_decref(seen);
    json_decref(fails);
}

static void topo_delete(req_t *r, json_t *params)
{
    size_t i;
    json_t *e;
    json_t *topo = emu_topo_of(r->odev);
    if (!json_is_array(params) || !json_array_size(params) || json_array_size(params) > 30) { reply(r, 460, NULL); return; }
    json_array_foreach(params, i, e) {
        const char *pk = jstr(e, "productKey"), *dn = jstr(e, "deviceName");
        char key[EMU_KEY_MAX];
        if (!pk || !dn) { reply(r, 460, NULL); return; }
        emu_key(key, pk, dn);
        if (!emu_device(pk, dn)) { reply(r, 6100, json_pack("[o]", ident_code(pk, dn, 6100))); return; }
        if (!json_object_get(topo, key)) { reply(r, 6401, json_pack("[o]", ident_code(pk, dn, 6401))); return; }
    }
    json_array_foreach(params, i, e) {
        char key[EMU_KEY_MAX];
        emu_key(key, jstr(e, "productKey"), jstr(e, "deviceName"));
        emu_end_session(key);
        emu_topo_unbind(key);
    }
    reply(r, 200, NULL);
}

static void topo_get(req_t *r)
{
    const char *k;
    json_t *v, *data = json_array();
    json_object_foreach(emu_topo_of(r->odev), k, v) {
        json_t *dev = emu_device_by_key(k);
        if (dev) json_array_append_new(data, ident(jstr(dev, "productKey"), jstr(dev, "deviceName")));
    }
    reply(r, 200, data);
}

static bool valid_dn(const char *dn)
{
    size_t n = dn ? strlen(dn) : 0;
    if (n < 4 || n > 32) return false;
    for (; *dn; dn++) if (!isalnum((unsigned char)*dn) && !strchr("-_@.:", *dn)) return false;
    return true;
}

static void list_found(req_t *r, json_t *params)
{
    size_t i;
    json_t *e;
    if (!json_is_array(params) || !json_array_size(params)) { reply(r, 460, NULL); return; }
    json_array_foreach(params, i, e) {
        const char *pk = jstr(e, "productKey"), *dn = jstr(e, "deviceName");
        if (!pk || !dn) { reply(r, 460, NULL); return; }
        if (!emu_product(pk)) { reply(r, 6250, NULL); return; }
        if (!valid_dn(dn)) { reply(r, 6280, NULL); return; }
    }
    json_object_set(r->odev, "found", params);
    emu_mark_dirty();
    reply(r, 200, NULL);
}

static void issue_secret(json_t *dev)
{
    if (!jstr(dev, "deviceSecret")) {
        char secret[33];
        emu_random_alnum(secret, 32);
        json_object_set_new(dev, "deviceSecret", json_string(secret));
    }
    if (!jstr(dev, "iotId")) {
        char iot[21];
        emu_random_alnum(iot, 20);
        json_object_set_new(dev, "iotId", json_string(iot));
    }
    json_object_set_new(dev, "secretIssued", json_true());
    emu_mark_dirty();
}

/* thing/sub/register: the secret is issued once (§11.1), all-or-nothing. */
static void sub_register(req_t *r, json_t *params)
{
    size_t i;
    json_t *e, *fails = json_array();
    int first = 0;
    if (!json_is_array(params) || !json_array_size(params) || json_array_size(params) > 30) {
        reply(r, 460, NULL);
        json_decref(fails);
        return;
    }
    json_array_foreach(params, i, e) {
        const char *pk = jstr(e, "productKey"), *dn = jstr(e, "deviceName");
        int code = 0;
        if (!pk || !dn) { reply(r, 460, NULL); json_decref(fails); return; }
        json_t *prod = emu_product(pk), *dev = emu_device(pk, dn);
        const char *gw = jstr(dev, "gateway");
        if (!prod) code = 6250;
        else if (!json_is_true(json_object_get(prod, "dynamicRegistration"))) code = 6288;
        else if (!dev) code = 6100;
        else if (!json_is_true(json_object_get(dev, "enabled"))) code = 6204;
        else if (gw && strcmp(gw, r->okey)) code = 6619;
        else if (json_is_true(json_object_get(dev, "secretIssued"))) code = 6289;
        if (code) {
            if (!first) first = code;
            json_array_append_new(fails, ident_code(pk, dn, code));
        }
    }
    if (first) { reply(r, first, fails); return; }
    json_decref(fails);
    json_t *data = json_array();
    json_array_foreach(params, i, e) {
        json_t *dev = emu_device(jstr(e, "productKey"), jstr(e, "deviceName"));
        issue_secret(dev);
        json_array_append_new(data, json_pack("{s:O,s:O,s:O,s:O}", "iotId", json_object_get(dev, "iotId"), "productKey",
                                              json_object_get(dev, "productKey"), "deviceName", json_object_get(dev, "deviceName"),
                                              "deviceSecret", json_object_get(dev, "deviceSecret")));
    }
    reply(r, 200, data);
}

/* thing/proxy/provisioning/product_register: product-secret signed registration that may
 * take a sub-device from another gateway (LinkSDK). Not subject to issue-once. */
static void product_register(req_t *r, json_t *params)
{
    size_t i;
    json_t *e;
    json_t *list = json_object_get(params, "proxieds");
    if (!json_is_array(list) || !json_array_size(list) || json_array_size(list) > 30) { reply(r, 460, NULL); return; }
    json_array_foreach(list, i, e) {
        const char *pk = jstr(e, "productKey"), *dn = jstr(e, "deviceName"), *rnd = jstr(e, "random");
        const char *sign = jstr(e, "sign"), *method = jstr(e, "signMethod");
        char content[512], hex[65];
        if (!method) method = jstr(e, "signmethod");
        if (!pk || !dn || !rnd || !sign || !method) { reply(r, 460, NULL); return; }
        json_t *prod = emu_product(pk);
        if (!prod) { reply(r, 6250, NULL); return; }
        if (!json_is_true(json_object_get(prod, "dynamicRegistration"))) { reply(r, 6288, NULL); return; }
        if (!emu_device(pk, dn)) { reply(r, 6100, NULL); return; }
        if (emu_hmac_from_name(method) == EMU_HMAC_NONE) { reply(r, 6292, NULL); return; }
        snprintf(content, sizeof content, "deviceName%sproductKey%srandom%s", dn, pk, rnd);
        if (!emu_hmac_hex(emu_hmac_from_name(method), jstr(prod, "productSecret"), content, hex) || !emu_hex_equal(hex, sign)) {
            reply(r, 6600, NULL);
            return;
        }
    }
    json_t *out = json_array();
    json_array_foreach(list, i, e) {
        json_t *dev = emu_device(jstr(e, "productKey"), jstr(e, "deviceName"));
        issue_secret(dev);
        json_array_append_new(out, json_pack("{s:O,s:O,s:O}", "productKey", json_object_get(dev, "productKey"), "deviceName",
                                             json_object_get(dev, "deviceName"), "deviceSecret", json_object_get(dev, "deviceSecret")));
    }
    reply(r, 200, json_pack("{s:o}", "proxieds", out));
}

/* ---- sessions ------------------------------------------------------------------ */

void emu_end_session(const char *key)
{
    if (json_object_get(g_emu.sessions, key)) json_object_del(g_emu.sessions, key);
}

static size_t online_via(const char *gw_key)
{
    const char *k;
    json_t *s;
    size_t n = 0;
    json_object_foreach(g_emu.sessions, k, s) {
        const char *via = jstr(s, "via");
        if (via && !strcmp(via, gw_key)) n++;
    }
    return n;
}

static int login_check(req_t *r, const json_t *e, const char *fallback_method)
{
    const char *pk = jstr(e, "productKey"), *dn = jstr(e, "deviceName");
    if (!pk || !dn) return 460;
    json_t *dev = emu_device(pk, dn);
    if (!dev) return 6100;
    if (!json_is_true(json_object_get(dev, "enabled"))) return 522;
    const char *gw = jstr(dev, "gateway");
    if (!gw || strcmp(gw, r->okey)) return 6401;
    int code = sub_sign_code(dev, e, fallback_method, true);
    if (code) return code;
    /* ≤ 5 logins of one sub-device per minute */
    json_t *times = json_object_get(dev, "loginTimes");
    long long now = emu_now_ms();
    size_t i, recent = 0;
    json_t *t;
    json_array_foreach(times, i, t) if (now - json_integer_value(t) < 60000) recent++;
    if (recent >= 5) return 429;
    return 0;
}

static void login_apply(req_t *r, const char *pk, const char *dn)
{
    char key[EMU_KEY_MAX];
    json_t *dev = emu_device(pk, dn);
    long long now = emu_now_ms();
    emu_key(key, pk, dn);
    json_t *times = json_object_get(dev, "loginTimes");
    if (!json_is_array(times)) { times = json_array(); json_object_set_new(dev, "loginTimes", times); }
    json_array_append_new(times, json_integer(now));
    while (json_array_size(times) > 5) json_array_remove(times, 0);
    json_object_set_new(g_emu.sessions, key, json_pack("{s:s,s:s,s:I}", "clientId", r->c->client_id, "via", r->okey,
                                                       "since", (json_int_t)now));
    emu_mark_dirty();
}

static void login(req_t *r, json_t *params)
{
    char key[EMU_KEY_MAX];
    if (!json_is_object(params)) { reply(r, 460, NULL); return; }
    int code = login_check(r, params, NULL);
    if (code) { reply(r, code, NULL); return; }
    emu_key(key, jstr(params, "productKey"), jstr(params, "deviceName"));
    if (!emu_session(key) && online_via(r->okey) >= (size_t)g_emu.online_cap) { reply(r, 428, NULL); return; }
    login_apply(r, jstr(params, "productKey"), jstr(params, "deviceName"));
    reply(r, 200, ident(jstr(params, "productKey"), jstr(params, "deviceName")));
    emu_ota_deliver(key);
}

static bool session_via(const char *key, const char *gw_key)
{
    const char *via = jstr(emu_session(key), "via");
    return via && !strcmp(via, gw_key);
}

static void logout(req_t *r, json_t *params)
{
    char key[EMU_KEY_MAX];
    const char *pk = jstr(params, "productKey"), *dn = jstr(params, "deviceName");
    if (!pk || !dn) { reply(r, 460, NULL); return; }
    emu_key(key, pk, dn);
    if (!session_via(key, r->okey)) { reply(r, 520, NULL); return; }
    emu_end_session(key);
    reply(r, 200, ident(pk, dn));
}

static void batch_login(req_t *r, json_t *params)
{
    json_t *list = json_is_array(params) ? params : json_object_get(params, "deviceList");
    const char *method = jstr(params, "signMethod");
    size_t i, fresh = 0;
    json_t *e, *fails;
    int first = 0;
    if (!method) method = jstr(params, "signmethod");
    if (!json_is_array(list) || !json_array_size(list) || json_array_size(list) > 50) { reply(r, 460, NULL); return; }
    fails = json_array();
    json_array_foreach(list, i, e) {
        int code = login_check(r, e, method);
        char key[EMU_KEY_MAX];
        if (code) {
            if (!first) first = code;
            json_array_append_new(fails, ident_code(jstr(e, "productKey"), jstr(e, "deviceName"), code));
            continue;
        }
        emu_key(key, jstr(e, "productKey"), jstr(e, "deviceName"));
        if (!emu_session(key)) fresh++;
    }
    if (first) { reply(r, first, fails); return; }
    json_decref(fails);
    if (online_via(r->okey) + fresh > (size_t)g_emu.online_cap) { reply(r, 428, NULL); return; }
    json_t *data = json_array();
    json_array_foreach(list, i, e) {
        login_apply(r, jstr(e, "productKey"), jstr(e, "deviceName"));
        json_array_append_new(data, ident(jstr(e, "productKey"), jstr(e, "deviceName")));
    }
    reply(r, 200, data);
    json_array_foreach(list, i, e) {
        char key[EMU_KEY_MAX];
        emu_key(key, jstr(e, "productKey"), jstr(e, "deviceName"));
        emu_ota_deliver(key);
    }
}

static void batch_logout(req_t *r, json_t *params)
{
    json_t *list = json_is_array(params) ? params : json_object_get(params, "deviceList");
    size_t i;
    json_t *e, *fails;
    int first = 0;
    if (!json_is_array(list) || !json_array_size(list) || json_array_size(list) > 50) { reply(r, 460, NULL); return; }
    fails = json_array();
    json_array_foreach(list, i, e) {
        const char *pk = jstr(e, "productKey"), *dn = jstr(e, "deviceName");
        char key[EMU_KEY_MAX];
        if (!pk || !dn) { reply(r, 460, NULL); json_decref(fails); return; }
        emu_key(key, pk, dn);
        if (!session_via(key, r->okey)) {
            if (!first) first = 520;
            json_array_append_new(fails, ident_code(pk, dn, 520));
        }
    }
    if (first) { reply(r, first, fails); return; }
    json_decref(fails);
    json_t *data = json_array();
    json_array_foreach(list, i, e) {
        char key[EMU_KEY_MAX];
        emu_key(key, jstr(e, "productKey"), jstr(e, "deviceName"));
        emu_end_session(key);
        json_array_append_new(data, ident(jstr(e, "productKey"), jstr(e, "deviceName")));
    }
    reply(r, 200, data);
}

/* ---- NTP, OTA -------------------------------------------------------------------- */

static void ntp(req_t *r)
{
    json_t *sent = json_object_get(r->req, "deviceSendTime");
    char topic[300], now_s[24];
    long long now = emu_now_ms();
    if (!json_is_string(sent) && !json_is_integer(sent)) return;
    snprintf(now_s, sizeof now_s, "%lld", now);
    snprintf(topic, sizeof topic, "/ext/ntp/%s/%s/response", r->t->pk, r->t->dn);
    json_t *body = json_is_string(sent)
        ? json_pack("{s:O,s:s,s:s}", "deviceSendTime", sent, "serverRecvTime", now_s, "serverSendTime", now_s)
        : json_pack("{s:O,s:I,s:I}", "deviceSendTime", sent, "serverRecvTime", (json_int_t)now, "serverSendTime", (json_int_t)now);
    emu_send(r->c, topic, body, 0);
}

static void ota_deliver(const char *key, bool later)
{
    json_t *dev = emu_device_by_key(key);
    json_t *task = json_object_get(json_object_get(dev, "ota"), "task");
    char topic[300];
    if (!json_is_object(task)) return;
    emu_conn_t *c = emu_route(key);
    if (!c) return;
    snprintf(topic, sizeof topic, "/ota/device/upgrade/%s", key);
    json_t *body = json_pack("{s:s,s:O,s:O,s:s}", "code", "1000", "data", json_object_get(task, "data"), "id",
                             json_object_get(task, "id"), "message", "success");
    if (later) {
        emu_send_later(c->client_id, c->ss, topic, body, 1);
    } else {
        emu_send(c, topic, body, 1);
    }
}

void emu_ota_deliver(const char *key) { ota_deliver(key, false); }

/* MQTT filter match: '+' one level, '#' this level and below ("a/#" also matches "a"). */
static bool filter_matches(const char *f, const char *t)
{
    for (;;) {
        if (!strcmp(f, "#")) return true;
        const char *fe = strchr(f, '/'), *te = strchr(t, '/');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f), tl = te ? (size_t)(te - t) : strlen(t);
        if (!(fl == 1 && *f == '+') && (fl != tl || strncmp(f, t, fl))) return false;
        if (!fe && !te) return true;
        if (!fe || !te) return fe && !strcmp(fe + 1, "#");
        f = fe + 1;
        t = te + 1;
    }
}

void emu_proto_subscribed(emu_conn_t *c, const char *filter)
{
    char topic[300];
    const char *k;
    json_t *s;
    snprintf(topic, sizeof topic, "/ota/device/upgrade/%s", c->key);
    if (filter_matches(filter, topic)) ota_deliver(c->key, true);
    json_object_foreach(g_emu.sessions, k, s) {           /* sub-devices logged in through c */
        const char *via = jstr(s, "via");
        if (!via || strcmp(via, c->key)) continue;
        snprintf(topic, sizeof topic, "/ota/device/upgrade/%s", k);
        if (filter_matches(filter, topic)) ota_deliver(k, true);
    }
}

static void ota(req_t *r)
{
    json_t *params = json_object_get(r->req, "params");
    json_t *o = json_object_get(r->odev, "ota");
    if (!json_is_object(o)) { o = json_pack("{s:{},s:n}", "versions", "task"); json_object_set_new(r->odev, "ota", o); }
    if (!strcmp(r->t->rest, "inform")) {
        const char *ver = jstr(params, "version"), *mod = jstr(params, "module");
        if (!ver) return;
        json_t *vers = json_object_get(o, "versions");
        if (!json_is_object(vers)) { vers = json_object(); json_object_set_new(o, "versions", vers); }
        json_object_set_new(vers, mod ? mod : "default", json_string(ver));
        json_t *task = json_object_get(o, "task");
        const char *tver = jstr(json_object_get(task, "data"), "version");
        const char *tmod = jstr(json_object_get(task, "data"), "module");
        if (tver && !strcmp(tver, ver) && !strcmp(tmod ? tmod : "default", mod ? mod : "default")) {
            json_object_set(o, "lastUpgrade", task);
            json_object_set_new(o, "task", json_null());
        }
    } else if (!strcmp(r->t->rest, "progress")) {
        if (json_is_object(params)) json_object_set_new(o, "progress", json_pack("{s:O,s:I}", "params", params, "time", (json_int_t)emu_now_ms()));
    } else if (!strcmp(r->t->rest, "request")) {
        ota_deliver(r->okey, false);
    }
    emu_mark_dirty();
}

static void firmware_get(req_t *r)
{
    json_t *task = json_object_get(json_object_get(r->odev, "ota"), "task");
    reply(r, 200, json_is_object(task) ? json_deep_copy(json_object_get(task, "data")) : json_object());
    ota_deliver(r->okey, false);
}

/* ---- online / offline ------------------------------------------------------------ */

void emu_proto_online(emu_conn_t *c)
{
    json_object_set_new(g_emu.sessions, c->key, json_pack("{s:s,s:n,s:I}", "clientId", c->client_id, "via", "since",
                                                          (json_int_t)emu_now_ms()));
    ota_deliver(c->key, true);
}

void emu_proto_offline(emu_conn_t *c)
{
    const char *k;
    void *tmp;
    json_t *s;
    json_t *own = emu_session(c->key);
    if (own && !strcmp(jstr(own, "clientId") ? jstr(own, "clientId") : "", c->client_id)) emu_end_session(c->key);
    /* the platform marks every sub-device offline when its gateway goes */
    json_object_foreach_safe(g_emu.sessions, tmp, k, s) {
        const char *via = jstr(s, "via");
        if (via && !strcmp(via, c->key)) json_object_del(g_emu.sessions, k);
    }
}

/* ---- dispatch ---------------------------------------------------------------------- */

static bool no_session(req_t *r)
{
    char topic[300];
    emu_audit("no_session", r->c->client_id, r->topic);
    snprintf(topic, sizeof topic, "/ext/error/%s/%s", r->c->pk, r->c->dn);
    emu_send(r->c, topic, json_pack("{s:s,s:i,s:s,s:{s:s,s:s}}", "id", r->id, "code", 520, "message", "device session error",
                                     "data", "productKey", r->t->pk, "deviceName", r->t->dn), 0);
    return true;
}

static bool handle_sys(req_t *r, bool self)
{
    const char *rest = r->t->rest;
    json_t *params = json_object_get(r->req, "params");
    size_t n = strlen(rest);
    bool gw_op = !strcmp(rest, "thing/topo/add") || !strcmp(rest, "thing/topo/delete") || !strcmp(rest, "thing/topo/get") ||
                 !strcmp(rest, "thing/list/found") || !strcmp(rest, "thing/sub/register") ||
                 !strcmp(rest, "thing/proxy/provisioning/product_register");

    if (n > 6 && !strcmp(rest + n - 6, "_reply")) {          /* answer to a downstream request */
        emu_pending_resolve(r->id, r->okey, r->req);
        return false;
    }
    if (!strncmp(rest, "rrpc/response/", 14)) {
        emu_pending_resolve(rest + 14, r->okey, r->req);
        return true;
    }
    if (!r->req) { reply(r, 460, NULL); return false; }
    if (gw_op) {
        if (!self || !emu_is_gateway(r->odev)) { reply(r, 460, NULL); return false; }
        if (!strcmp(rest, "thing/topo/add")) topo_add(r, params);
        else if (!strcmp(rest, "thing/topo/delete")) topo_delete(r, params);
        else if (!strcmp(rest, "thing/topo/get")) topo_get(r);
        else if (!strcmp(rest, "thing/list/found")) list_found(r, params);
        else if (!strcmp(rest, "thing/sub/register")) sub_register(r, params);
        else product_register(r, params);
        return false;
    }
    if (!strcmp(rest, "thing/event/property/post")) prop_post(r, params);
    else if (!strcmp(rest, "thing/event/property/pack/post")) {
        if (!self || !emu_is_gateway(r->odev)) reply(r, 460, NULL); else pack_post(r, params);
    } else if (!strcmp(rest, "thing/event/property/history/post")) history_post(r, params);
    else if (!strcmp(rest, "thing/event/property/batch/post")) batch_post(r, params);
    else if (!strncmp(rest, "thing/event/", 12) && n > 17 && !strcmp(rest + n - 5, "/post")) {
        char ev[128];
        snprintf(ev, sizeof ev, "%.*s", (int)(n - 17), rest + 12);
        if (!*ev || strchr(ev, '/')) reply(r, 460, NULL); else event_post(r, ev, params);
    } else if (!strcmp(rest, "thing/deviceinfo/update")) deviceinfo(r, params, true);
    else if (!strcmp(rest, "thing/deviceinfo/delete")) deviceinfo(r, params, false);
    else if (!strcmp(rest, "thing/dsltemplate/get") || !strcmp(rest, "thing/dynamicTsl/get")) {
        const json_t *tsl = tsl_of(r->odev);
        reply(r, tsl ? 200 : 6321, tsl ? json_deep_copy(tsl) : NULL);
    } else if (!strcmp(rest, "thing/ota/firmware/get")) firmware_get(r);
    else if (!strcmp(rest, "thing/config/get")) reply(r, 6713, NULL);
    return false;
}

bool emu_proto_message(emu_conn_t *c, const char *topic, const void *payload, size_t len)
{
    emu_topic_t t;
    req_t r;
    json_error_t je;
    bool drop = false;

    if (!emu_topic_parse(topic, false, &t)) return false;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.t = &t;
    r.topic = topic;
    r.ack = true;
    emu_key(r.okey, t.pk, t.dn);
    r.odev = emu_device_by_key(r.okey);
    bool self = !strcmp(r.okey, c->key);
    if (!r.odev) return true;                   /* ACL let it through; device was deleted since */
    if (len && payload) r.req = json_loadb(payload, len, 0, &je);
    if (r.req && !json_is_object(r.req)) { json_decref(r.req); r.req = NULL; }
    get_id(r.req, payload, len, r.id);
    json_t *sys = json_object_get(r.req, "sys");
    if (json_is_integer(json_object_get(sys, "ack")) && json_integer_value(json_object_get(sys, "ack")) == 0) r.ack = false;

    /* answers to the platform's own requests (thing/disable_reply, service replies, RRPC)
     * are accepted without a session: the platform may just have ended it */
    size_t rl = strlen(t.rest);
    bool answer = t.cls == EMU_T_RRPC ||
                  (t.cls == EMU_T_SYS && ((rl > 6 && !strcmp(t.rest + rl - 6, "_reply")) || !strncmp(t.rest, "rrpc/response/", 14)));
    if (!self && !answer && !session_via(r.okey, c->key) && t.cls != EMU_T_SESSION) {
        drop = no_session(&r);
        goto out;
    }
    if (emu_custom_message(c, &t, topic, payload, len)) {
        drop = true;
        goto out;
    }
    switch (t.cls) {
    case EMU_T_SYS:
        drop = handle_sys(&r, self);
        break;
    case EMU_T_SESSION:
        if (!self) break;
        if (!r.req) { reply(&r, 460, NULL); break; }
        if (!strcmp(t.rest, "login")) login(&r, json_object_get(r.req, "params"));
        else if (!strcmp(t.rest, "logout")) logout(&r, json_object_get(r.req, "params"));
        else if (!strcmp(t.rest, "batch_login")) batch_login(&r, json_object_get(r.req, "params"));
        else if (!strcmp(t.rest, "batch_logout")) batch_logout(&r, json_object_get(r.req, "params"));
        break;
    case EMU_T_NTP:
        if (!strcmp(t.rest, "request") && r.req) ntp(&r);
        break;
    case EMU_T_OTA:
        if (r.req) ota(&r);
        break;
    case EMU_T_RRPC:
        emu_pending_resolve(t.mid, r.okey, r.req);
        drop = true;
        break;
    default:
        break;
    }
out:
    json_decref(r.req);
    return drop;
}
