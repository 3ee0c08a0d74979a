/* emu_admin.c — the console / cloud-API side of the emulator, reached by the `alink-emu`
 * CLI over the broker itself: JSON requests on "$emu/request" from the admin credential
 * only, answers delivered to the requesting client on "$emu/response" with the request's
 * correlation id "cid". Also owns the pending downstream requests (property set,
 * services, RRPC) and their timeouts. */
#include "emu.h"
#include "emu_tsl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

void emu_admin_respond(const char *client_id, const char *cid, json_t *body)
{
    emu_conn_t *c = emu_conn_by_client_id(client_id);
    json_object_set_new(body, "cid", json_string(cid ? cid : ""));
    if (!c) { json_decref(body); return; }
    emu_send(c, EMU_ADMIN_RESPONSE_TOPIC, body, 0);
}

static json_t *fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *fail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static json_t *ok(void) { return json_pack("{s:b}", "ok", 1); }

/* Device named by productKey/deviceName in the request, or NULL with *err set. */
static json_t *req_device(const json_t *req, char key[EMU_KEY_MAX], json_t **err)
{
    const char *pk = jstr(req, "productKey"), *dn = jstr(req, "deviceName");
    json_t *dev = emu_device(pk, dn);
    if (!pk || !dn) { *err = fail("productKey and deviceName are required%s", ""); return NULL; }
    emu_key(key, pk, dn);
    if (!dev) *err = fail("no such device %s", key);
    return dev;
}

static json_t *dump_state(void)
{
    json_t *conns = json_array();
    for (emu_conn_t *c = g_emu.conns; c; c = c->next) {
        const char *kind = c->kind == EMU_CONN_ADMIN ? "admin" : c->kind == EMU_CONN_REGISTER ? "register" : "device";
        json_array_append_new(conns, json_pack("{s:s,s:s,s:s,s:b,s:i}", "clientId", c->client_id, "kind", kind, "device",
                                               c->key, "ss", c->ss, "ext", c->ext));
    }
    json_t *s = json_deep_copy(g_emu.state);
    json_object_set(s, "sessions", g_emu.sessions);
    json_object_set(s, "audit", g_emu.audit);
    json_object_set_new(s, "connections", conns);
    return json_pack("{s:b,s:o}", "ok", 1, "state", s);
}

static void topo_change(const char *gw_key, int status, const json_t *sub)
{
    emu_conn_t *gc = emu_conn_by_key(gw_key);
    char id[24], topic[300];
    if (!gc) return;
    emu_next_id(id);
    snprintf(topic, sizeof topic, "/sys/%s/thing/topo/change", gw_key);
    emu_send(gc, topic, json_pack("{s:s,s:s,s:{s:i,s:[{s:O,s:O}]},s:s}", "id", id, "version", "1.0", "params", "status",
                                  status, "subList", "productKey", json_object_get(sub, "productKey"), "deviceName",
                                  json_object_get(sub, "deviceName"), "method", "thing.topo.change"), 1);
}

/* disable / enable / delete, as the console does it (§11.4). */
static json_t *device_lifecycle(const json_t *req, const char *what)
{
    char key[EMU_KEY_MAX];
    json_t *err = NULL, *dev = req_device(req, key, &err);
    if (!dev) return err;
    json_incref(dev);
    const char *gw = jstr(dev, "gateway");
    char gw_key[EMU_KEY_MAX] = "";
    if (gw) snprintf(gw_key, sizeof gw_key, "%s", gw);
    int status = !strcmp(what, "disable") ? 8 : !strcmp(what, "enable") ? 2 : 1;
    char method[32];
    snprintf(method, sizeof method, "thing.%s", what);

    if (strcmp(what, "enable")) {
        emu_conn_t *own = emu_conn_by_key(key);
        if (own) emu_kick_later(own->client_id);
    }
    if (gw_key[0]) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, "thing/%s", what);
        /* on the sub-device's own topic (delivered through its gateway) and topo/change */
        emu_conn_t *gc = emu_conn_by_key(gw_key);
        if (gc) {
            char id[24], topic[300];
            emu_next_id(id);
            snprintf(topic, sizeof topic, "/sys/%s/%s", key, suffix);
            json_t *msg = json_pack("{s:s,s:s,s:{},s:s}", "id", id, "version", "1.0", "params", "method", method);
            if (!strcmp(what, "delete")) /* delivered after the unbind below: permitted now */
                emu_send_farewell(gc, topic, msg, 1);
            else
                emu_send(gc, topic, msg, 1);
        }
        topo_change(gw_key, status, dev);
    }
    if (!strcmp(what, "enable")) {
        json_object_set_new(dev, "enabled", json_true());
    } else {
        emu_end_session(key);
        json_object_set_new(dev, "enabled", json_false());
    }
    if (!strcmp(what, "delete")) {
        const char *k;
        json_t *v;
        void *tmp;
        emu_topo_unbind(key);
        json_object_foreach_safe(emu_topo_of(dev), tmp, k, v) emu_topo_unbind(k);   /* a deleted gateway */
        json_object_del(json_object_get(g_emu.state, "devices"), key);
        json_object_set_new(json_object_get(g_emu.state, "deleted"), key, json_integer(emu_now_ms()));
        emu_history_forget();
    }
    json_decref(dev);
    emu_mark_dirty();
    return ok();
}

static json_t *topo_console(const json_t *req, bool add)
{
    const char *gw = jstr(req, "gateway"), *sub = jstr(req, "sub");
    json_t *g = emu_device_by_key(gw), *s = emu_device_by_key(sub);
    if (!g || !s) return fail("unknown gateway or sub-device (use pk/dn)%s", "");
    if (!emu_is_gateway(g)) return fail("%s is not a gateway", gw);
    if (add) {
        if (!strcmp(gw, sub)) return fail("cannot add a gateway to itself%s", "");
        emu_topo_bind(gw, sub);
        topo_change(gw, 0, s);
    } else {
        if (!json_object_get(emu_topo_of(g), sub)) return fail("%s is not in that topology", sub);
        emu_end_session(sub);
        emu_topo_unbind(sub);
        topo_change(gw, 1, s);
    }
    return ok();
}

static bool valid_ident(const char *s)
{
    if (!s || !*s || strlen(s) > 64) return false;
    for (; *s; s++) if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') return false;
    return true;
}

void emu_pending_add(const char *id, const char *key, const char *kind, const char *admin, const char *cid, long long timeout_ms)
{
    long long now = emu_now_ms();
    json_object_set_new(json_object_get(g_emu.state, "pending"), id,
                        json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "device", key, "kind", kind, "admin", admin, "cid", cid ? cid : "",
                                  "created", (json_int_t)now, "deadline", (json_int_t)(now + timeout_ms)));
    emu_mark_dirty();
}

static long long timeout_of(const json_t *req, long long dflt)
{
    json_t *t = json_object_get(req, "timeout");
    if (json_is_integer(t) && json_integer_value(t) > 0 && json_integer_value(t) <= 600000) return json_integer_value(t);
    return dflt;
}

static json_t *prop_set(const json_t *req, const emu_conn_t *admin, const char *cid)
{
    char key[EMU_KEY_MAX], id[24], topic[300];
    json_t *err = NULL, *dev = req_device(req, key, &err);
    json_t *params = json_object_get(req, "params");
    if (!dev) return err;
    if (!json_is_object(params) || !json_object_size(params)) return fail("params must be a non-empty JSON object%s", "");
    char msg[400];
    if (emu_tsl_property_set(jstr(dev, "productKey"), params, msg, sizeof msg)) return fail("refused by the TSL: %s", msg);
    emu_conn_t *c = emu_route(key);
    if (!c) return fail("device %s is offline", key);
    emu_next_id(id);
    snprintf(topic, sizeof topic, "/sys/%s/thing/service/property/set", key);
    emu_pending_add(id, key, "property.set", admin->client_id, cid, timeout_of(req, 10000));
    emu_send(c, topic, json_pack("{s:s,s:s,s:O,s:s}", "id", id, "version", "1.0", "params", params, "method",
                                 "thing.service.property.set"), 1);
    return NULL;                                 /* answered when the device replies */
}

static json_t *service_invoke(const json_t *req, const emu_conn_t *admin, const char *cid)
{
    char key[EMU_KEY_MAX], id[24], topic[400], method[100];
    json_t *err = NULL, *dev = req_device(req, key, &err);
    const char *sid = jstr(req, "identifier");
    json_t *params = json_object_get(req, "params");
    bool sync = json_is_true(json_object_get(req, "sync"));
    if (!dev) return err;
    if (!valid_ident(sid)) return fail("service identifier must be letters, digits, _ or -%s", "");
    if (params && !json_is_object(params)) return fail("params must be a JSON object%s", "");
    char msg[400];
    json_t *empty = json_object();
    int code = emu_tsl_service_input(jstr(dev, "productKey"), sid, params ? params : empty, msg, sizeof msg);
    json_decref(empty);
    if (code) return fail("refused by the TSL: %s", msg);
    emu_conn_t *c = emu_route(key);
    if (!c) return fail("device %s is offline", key);
    emu_next_id(id);
    snprintf(method, sizeof method, "thing.service.%s", sid);
    if (sync) {
        if (c->ext & 1) snprintf(topic, sizeof topic, "/ext/rrpc/%s/sys/%s/thing/service/%s", id, key, sid);
        else snprintf(topic, sizeof topic, "/sys/%s/rrpc/request/%s", key, id);
        emu_pending_add(id, key, "service.sync", admin->client_id, cid, 8000);   /* platform RRPC timeout */
    } else {
        snprintf(topic, sizeof topic, "/sys/%s/thing/service/%s", key, sid);
        emu_pending_add(id, key, "service.async", admin->client_id, cid, timeout_of(req, 10000));
    }
    emu_send(c, topic, json_pack("{s:s,s:s,s:O,s:s}", "id", id, "version", "1.0", "params", params ? params : json_object(),
                                 "method", method), sync ? 0 : 1);
    return NULL;
}

static json_t *ota_push(const json_t *req)
{
    char key[EMU_KEY_MAX], id[24];
    json_t *err = NULL, *dev = req_device(req, key, &err);
    const char *url = jstr(req, "url"), *ver = jstr(req, "version"), *sign = jstr(req, "sign"), *sm = jstr(req, "signMethod");
    const char *mod = jstr(req, "module");
    json_t *size = json_object_get(req, "size");
    if (!dev) return err;
    if (!url || !*url || !ver || !*ver) return fail("url and version are required%s", "");
    if (!json_is_integer(size) || json_integer_value(size) <= 0) return fail("size must be a positive integer%s", "");
    if (!sm || (strcmp(sm, "Md5") && strcmp(sm, "SHA256") && strcmp(sm, "Sha256"))) return fail("signMethod must be Md5, SHA256 or Sha256%s", "");
    size_t want = strcmp(sm, "Md5") ? 64 : 32;
    if (!sign || strlen(sign) != want) return fail("sign must be %s hex digits", want == 32 ? "32" : "64");
    for (const char *p = sign; *p; p++) if (!isxdigit((unsigned char)*p)) return fail("sign must be hex%s", "");
    emu_next_id(id);
    json_t *data = json_pack("{s:O,s:s,s:s,s:s,s:s}", "size", size, "version", ver, "url", url, "sign", sign, "signMethod", sm);
    if (!strcmp(sm, "Md5")) json_object_set_new(data, "md5", json_string(sign));
    if (mod) json_object_set_new(data, "module", json_string(mod));
    json_t *o = json_object_get(dev, "ota");
    if (!json_is_object(o)) { o = json_object(); json_object_set_new(dev, "ota", o); }
    json_object_set_new(o, "task", json_pack("{s:I,s:o,s:I}", "id", (json_int_t)strtoll(id, NULL, 10), "data", data, "created",
                                             (json_int_t)emu_now_ms()));
    emu_mark_dirty();
    bool online = emu_route(key) != NULL;
    emu_ota_deliver(key);
    return json_pack("{s:b,s:b}", "ok", 1, "delivered", online);
}

static json_t *batch_add(const json_t *req)
{
    const char *pk = jstr(req, "productKey"), *prefix = jstr(req, "prefix");
    json_t *count = json_object_get(req, "count");
    char err[256];
    if (!emu_product(pk)) return fail("unknown product %s", pk ? pk : "(missing)");
    if (!json_is_integer(count) || json_integer_value(count) < 1 || json_integer_value(count) > 10000)
        return fail("count must be 1..10000%s", "");
    if (prefix && (strlen(prefix) > 20 || !*prefix)) return fail("prefix must be 1..20 characters%s", "");
    json_t *list = json_array();
    for (json_int_t i = 0; i < json_integer_value(count); i++) {
        char dn[33], secret[33];
        if (prefix) snprintf(dn, sizeof dn, "%s%04lld", prefix, (long long)i + 1);
        else emu_random_alnum(dn, 20);                        /* console "Auto Generate" */
        emu_random_alnum(secret, 32);
        json_t *spec = json_pack("{s:s,s:s,s:s}", "productKey", pk, "deviceName", dn, "deviceSecret", secret);
        bool added = emu_device_add(spec, err, sizeof err);
        json_decref(spec);
        if (!added) {
            json_decref(list);
            return fail("%s", err);
        }
        json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "productKey", pk, "deviceName", dn, "deviceSecret", secret));
    }
    return json_pack("{s:b,s:o}", "ok", 1, "devices", list);
}

void emu_admin_message(emu_conn_t *c, const void *payload, size_t len)
{
    json_error_t je;
    json_t *req = json_loadb(payload, len, 0, &je), *resp = NULL;
    char err[512], key[EMU_KEY_MAX];
    if (!json_is_object(req)) {
        json_decref(req);
        emu_admin_respond(c->client_id, "", fail("request is not a JSON object%s", ""));
        return;
    }
    const char *cid = jstr(req, "cid"), *cmd = jstr(req, "cmd");
    if (!cmd) resp = fail("missing cmd%s", "");
    else if (!strcmp(cmd, "ping")) resp = ok();
    else if (!strcmp(cmd, "state")) resp = dump_state();
    else if (!strcmp(cmd, "product.add"))
        resp = emu_product_add(json_object_get(req, "product"), NULL, err, sizeof err) ? ok() : fail("%s", err);
    else if (!strcmp(cmd, "device.add"))
        resp = emu_device_add(json_object_get(req, "device"), err, sizeof err) ? ok() : fail("%s", err);
    else if (!strcmp(cmd, "device.batchAdd")) resp = batch_add(req);
    else if (!strcmp(cmd, "device.get")) {
        json_t *dev = req_device(req, key, &resp);
        if (dev) resp = json_pack("{s:b,s:O,s:b}", "ok", 1, "device", dev, "online", emu_session(key) != NULL);
    } else if (!strcmp(cmd, "device.disable")) resp = device_lifecycle(req, "disable");
    else if (!strcmp(cmd, "device.enable")) resp = device_lifecycle(req, "enable");
    else if (!strcmp(cmd, "device.delete")) resp = device_lifecycle(req, "delete");
    else if (!strcmp(cmd, "device.reset")) {
        json_t *dev = req_device(req, key, &resp);
        if (dev) {
            json_object_set_new(dev, "secretIssued", json_false());
            json_object_set_new(dev, "activated", json_false());
            emu_mark_dirty();
            resp = ok();
        }
    } else if (!strcmp(cmd, "topo.add")) resp = topo_console(req, true);
    else if (!strcmp(cmd, "topo.delete")) resp = topo_console(req, false);
    else if (!strcmp(cmd, "prop.set")) resp = prop_set(req, c, cid);
    else if (!strcmp(cmd, "service.invoke")) resp = service_invoke(req, c, cid);
    else if (!strcmp(cmd, "ota.push")) resp = ota_push(req);
    else if (!strcmp(cmd, "user.publish") || !strcmp(cmd, "user.rrpc") || !strcmp(cmd, "raw.down") ||
             !strcmp(cmd, "messages"))
        resp = emu_custom_admin(cmd, req, c, cid);
    else resp = fail("unknown cmd %s", cmd);
    if (resp) emu_admin_respond(c->client_id, cid, resp);
    json_decref(req);
}

bool emu_pending_resolve(const char *id, const char *key, const json_t *reply)
{
    json_t *pending = json_object_get(g_emu.state, "pending");
    json_t *p = json_object_get(pending, id);
    if (!p || strcmp(jstr(p, "device") ? jstr(p, "device") : "", key)) return false;
    json_t *code = json_object_get(reply, "code");
    emu_admin_respond(jstr(p, "admin"), jstr(p, "cid"),
                      json_pack("{s:b,s:O,s:O}", "ok", 1, "code", code ? code : json_null(), "reply", reply ? (json_t *)reply : json_null()));
    json_object_del(pending, id);
    emu_mark_dirty();
    return true;
}

void emu_pending_tick(long long now)
{
    json_t *pending = json_object_get(g_emu.state, "pending");
    const char *k;
    json_t *p;
    void *tmp;
    json_object_foreach_safe(pending, tmp, k, p) {
        if (json_integer_value(json_object_get(p, "deadline")) > now) continue;
        emu_admin_respond(jstr(p, "admin"), jstr(p, "cid"), json_pack("{s:b,s:s,s:s}", "ok", 0, "error", "timeout", "request", k));
        json_object_del(pending, k);
        emu_mark_dirty();
    }
}
