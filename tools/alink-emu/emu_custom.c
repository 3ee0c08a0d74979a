/* emu_custom.c — custom topics (/{pk}/{dn}/user/…), raw passthrough (thing/model/up_raw,
 * down_raw and their replies) and RRPC on custom topics, as the platform serves them:
 * per-product topic classes with their permission (the console's "publish", "subscribe",
 * "both"; products without a "topics" list get the console's three default classes),
 * the raw topics only for products whose data format is "custom", the platform's 1 MiB
 * payload and 128-byte topic limits, a per-device log of what arrived (last 100), and
 * the console commands that publish to a device's custom topic, call it synchronously
 * (RRPC, 8 s) and send down_raw. There is no data-parsing script: up_raw is answered
 * with an Alink reply JSON on up_raw_reply. */
#include "emu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_LOG_MAX 100
#define MSG_KEEP_BYTES 4096

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static json_t *fail(const char *msg) { return json_pack("{s:b,s:s}", "ok", 0, "error", msg); }

/* ---- topic classes --------------------------------------------------------------- */

static bool class_valid(const char *topic)
{
    if (!topic || strncmp(topic, "user/", 5) || strlen(topic) > 100) return false;
    for (const char *lv = topic + 5;;) {
        const char *end = strchr(lv, '/');
        size_t n = end ? (size_t)(end - lv) : strlen(lv);
        if (!n) return false;
        if (n == 1 && (*lv == '+' || *lv == '#')) {
            if (*lv == '#' && end) return false;
        } else {
            for (size_t i = 0; i < n; i++) {
                char ch = lv[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
                    return false;
            }
        }
        if (!end) return true;
        lv = end + 1;
    }
}

static int dir_of(const char *s)
{
    if (!s) return 0;
    if (!strcmp(s, "publish")) return EMU_DIR_UP;
    if (!strcmp(s, "subscribe")) return EMU_DIR_DOWN;
    if (!strcmp(s, "both") || !strcmp(s, "all")) return EMU_DIR_BOTH;
    return 0;
}

bool emu_custom_product(const json_t *spec, json_t *prod, char *err, size_t errsz)
{
    const json_t *topics = json_object_get(spec, "topics");
    const char *fmt = jstr(spec, "dataFormat");
    size_t i;
    json_t *it;
    if (json_object_get(spec, "dataFormat") && (!fmt || (strcmp(fmt, "alink") && strcmp(fmt, "custom")))) {
        snprintf(err, errsz, "dataFormat must be \"alink\" or \"custom\"");
        return false;
    }
    if (topics && !json_is_array(topics)) { snprintf(err, errsz, "topics must be an array of {topic, direction}"); return false; }
    json_array_foreach(topics, i, it) {
        const char *tp = jstr(it, "topic");
        if (!class_valid(tp)) {
            snprintf(err, errsz, "topics[%zu]: topic must be \"user/…\" (levels of letters, digits, _ -, or + / #)", i);
            return false;
        }
        if (!dir_of(jstr(it, "direction"))) {
            snprintf(err, errsz, "topics[%zu]: direction must be publish, subscribe or both", i);
            return false;
        }
    }
    if (!prod) return true;
    json_object_set_new(prod, "dataFormat", json_string(fmt ? fmt : "alink"));
    if (topics) {
        json_t *copy = json_array();
        json_array_foreach(topics, i, it)
            json_array_append_new(copy, json_pack("{s:s,s:s}", "topic", jstr(it, "topic"), "direction", jstr(it, "direction")));
        json_object_set_new(prod, "topics", copy);
    }
    return true;
}

/* MQTT filter match: '+' one level, '#' the rest. */
static bool match(const char *f, const char *t)
{
    for (;;) {
        const char *fe = strchr(f, '/'), *te = strchr(t, '/');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f), tl = te ? (size_t)(te - t) : strlen(t);
        if (fl == 1 && *f == '#') return true;
        if (!(fl == 1 && *f == '+') && (fl != tl || strncmp(f, t, fl))) return false;
        if (!fe || !te) return !fe && !te;
        f = fe + 1;
        t = te + 1;
    }
}

/* Directions product pk allows on custom topic rest ("user/…"); the console's defaults
 * for products without "topics". */
static int class_dirs(const char *pk, const char *rest)
{
    static const char *const defaults[][2] = {{"user/update", "publish"}, {"user/update/error", "publish"}, {"user/get", "subscribe"}};
    json_t *topics = json_object_get(emu_product(pk), "topics");
    int dirs = 0;
    if (!json_is_array(topics)) {
        for (size_t i = 0; i < 3; i++) if (match(defaults[i][0], rest)) dirs |= dir_of(defaults[i][1]);
        return dirs;
    }
    size_t i;
    json_t *it;
    json_array_foreach(topics, i, it) if (match(jstr(it, "topic"), rest)) dirs |= dir_of(jstr(it, "direction"));
    return dirs;
}

static bool product_raw(const char *pk)
{
    const char *fmt = jstr(emu_product(pk), "dataFormat");
    return fmt && !strcmp(fmt, "custom");
}

static bool is_raw_rest(const char *rest)
{
    return !strcmp(rest, "thing/model/up_raw") || !strcmp(rest, "thing/model/up_raw_reply") ||
           !strcmp(rest, "thing/model/down_raw") || !strcmp(rest, "thing/model/down_raw_reply");
}

const char *emu_custom_acl(const emu_topic_t *t, int dir, size_t payloadlen, const char *topic)
{
    bool raw = (t->cls == EMU_T_SYS && is_raw_rest(t->rest)) || (t->cls == EMU_T_RRPC && !strcmp(t->rest, "thing/model/down_raw"));
    bool custom = t->cls == EMU_T_USER || (t->cls == EMU_T_RRPC && t->user);
    if (!raw && !custom) return NULL;
    if (dir == EMU_DIR_UP && payloadlen > EMU_MESSAGE_MAX) return "payload larger than the platform's 1 MiB";
    if (dir == EMU_DIR_UP && topic && strlen(topic) > EMU_TOPIC_MAX) return "topic longer than the platform's 128 bytes";
    if (t->wild_owner && !emu_product(t->pk)) return NULL;   /* "/+/+/user/#": every delivery is checked */
    /* SDKs subscribe down_raw / up_raw_reply for every product (the platform grants it);
     * only sending raw data needs a product whose data format is custom */
    if (raw) return dir == EMU_DIR_DOWN || product_raw(t->pk) ? NULL : "raw data needs a product with dataFormat \"custom\"";
    if (strchr(t->rest, '+') || strchr(t->rest, '#')) return NULL;
    int dirs = class_dirs(t->pk, t->rest);
    if (!dirs) return "no topic class of the product matches";
    if (t->cls == EMU_T_RRPC) return dirs & EMU_DIR_DOWN ? NULL : "RRPC needs a topic class with subscribe permission";
    if (dir == EMU_DIR_UP && !(dirs & EMU_DIR_UP)) return "the topic class has no publish permission";
    if (dir == EMU_DIR_DOWN && !(dirs & EMU_DIR_DOWN)) return "the topic class has no subscribe permission";
    return NULL;
}

/* ---- payload <-> JSON ---------------------------------------------------------------- */

static json_t *bytes_json(const void *payload, size_t len)
{
    static const char hexd[] = "0123456789abcdef";
    size_t keep = len < MSG_KEEP_BYTES ? len : MSG_KEEP_BYTES;
    char *hex = malloc(keep * 2 + 1);
    json_t *o = json_pack("{s:I}", "size", (json_int_t)len);
    if (hex) {
        for (size_t i = 0; i < keep; i++) {
            hex[2 * i] = hexd[((const unsigned char *)payload)[i] >> 4];
            hex[2 * i + 1] = hexd[((const unsigned char *)payload)[i] & 15];
        }
        hex[keep * 2] = '\0';
        json_object_set_new(o, "hex", json_string(hex));
        free(hex);
    }
    json_t *text = keep && memchr(payload, 0, keep) == NULL ? json_stringn(payload, keep) : keep ? NULL : json_string("");
    json_object_set_new(o, "payload", text ? text : json_null());
    if (keep < len) json_object_set_new(o, "truncated", json_true());
    return o;
}

/* Payload of a console request: "payload" (text) or "hex"; malloc'd into *out. */
static bool req_bytes(const json_t *req, unsigned char **out, size_t *len, const char **err)
{
    const char *text = jstr(req, "payload"), *hex = jstr(req, "hex");
    *out = NULL;
    *len = 0;
    if (hex) {
        size_t n = strlen(hex);
        if (n % 2) { *err = "hex must have an even number of digits"; return false; }
        *out = malloc(n / 2 + 1);
        if (!*out) { *err = "out of memory"; return false; }
        for (size_t i = 0; i < n / 2; i++) {
            unsigned v;
            if (sscanf(hex + 2 * i, "%2x", &v) != 1) { free(*out); *out = NULL; *err = "hex must be hex digits"; return false; }
            (*out)[i] = (unsigned char)v;
        }
        *len = n / 2;
    } else if (text) {
        *len = json_string_length(json_object_get(req, "payload"));
        *out = malloc(*len + 1);
        if (!*out) { *err = "out of memory"; return false; }
        memcpy(*out, text, *len);
    } else {
        *err = "payload (text) or hex is required";
        return false;
    }
    if (*len > EMU_MESSAGE_MAX) { free(*out); *out = NULL; *err = "payload larger than the platform's 1 MiB"; return false; }
    return true;
}

/* ---- what devices send --------------------------------------------------------------- */

static void log_message(const char *key, const char *topic, const void *payload, size_t len)
{
    json_t *dev = emu_device_by_key(key);
    if (!dev) return;
    json_t *log = json_object_get(dev, "messages");
    if (!json_is_array(log)) { log = json_array(); json_object_set_new(dev, "messages", log); }
    json_t *m = bytes_json(payload, len);
    json_object_set_new(m, "topic", json_string(topic));
    json_object_set_new(m, "time", json_integer(emu_now_ms()));
    json_array_append_new(log, m);
    while (json_array_size(log) > MSG_LOG_MAX) json_array_remove(log, 0);
    emu_mark_dirty();
}

/* The pending console request of `kind` for device key: by id, or the oldest. */
static const char *pending_find(const char *id, const char *key, const char *kind)
{
    json_t *pending = json_object_get(g_emu.state, "pending");
    const char *k, *best = NULL;
    long long best_t = 0;
    json_t *p;
    json_object_foreach(pending, k, p) {
        if (strcmp(jstr(p, "device") ? jstr(p, "device") : "", key) || strcmp(jstr(p, "kind") ? jstr(p, "kind") : "", kind)) continue;
        if (id) { if (!strcmp(k, id)) return k; continue; }
        long long t = json_integer_value(json_object_get(p, "created"));
        if (!best || t < best_t) { best = k; best_t = t; }
    }
    return best;
}

static void pending_answer(const char *id, const void *payload, size_t len)
{
    json_t *pending = json_object_get(g_emu.state, "pending");
    json_t *p = json_object_get(pending, id);
    if (!p) return;
    emu_admin_respond(jstr(p, "admin"), jstr(p, "cid"), json_pack("{s:b,s:i,s:o}", "ok", 1, "code", 200, "reply", bytes_json(payload, len)));
    json_object_del(pending, id);
    emu_mark_dirty();
}

bool emu_custom_message(emu_conn_t *c, const emu_topic_t *t, const char *topic, const void *payload, size_t len)
{
    char key[EMU_KEY_MAX];
    emu_key(key, t->pk, t->dn);
    if (t->cls == EMU_T_USER) {                      /* device → cloud on a custom topic */
        log_message(key, topic, payload, len);
        return true;
    }
    if (t->cls == EMU_T_RRPC && t->user) {           /* the answer to a custom-topic RRPC */
        const char *id = pending_find(t->mid, key, "user.rrpc");
        if (id) pending_answer(id, payload, len);
        return true;
    }
    if (t->cls != EMU_T_SYS) return false;
    if (!strcmp(t->rest, "thing/model/up_raw")) {
        char id[24], rt[300];
        log_message(key, topic, payload, len);
        emu_next_id(id);
        snprintf(rt, sizeof rt, "%s_reply", topic);
        json_t *body = emu_reply_body(id, 200, NULL, NULL);
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (text) emu_send_bytes(c, rt, text, strlen(text), 0);
        free(text);
        return true;
    }
    if (!strcmp(t->rest, "thing/model/down_raw_reply")) {
        log_message(key, topic, payload, len);
        const char *id = pending_find(NULL, key, "raw.down");
        if (id) pending_answer(id, payload, len);
        return true;
    }
    return false;
}

/* ---- console ------------------------------------------------------------------------- */

json_t *emu_custom_admin(const char *cmd, const json_t *req, const emu_conn_t *admin, const char *cid)
{
    const char *pk = jstr(req, "productKey"), *dn = jstr(req, "deviceName"), *err = NULL;
    char key[EMU_KEY_MAX], topic[600], id[24], msg[300];
    if (!pk || !dn) return fail("productKey and deviceName are required");
    json_t *dev = emu_device(pk, dn);
    emu_key(key, pk, dn);
    if (!dev) { snprintf(msg, sizeof msg, "no such device %s", key); return fail(msg); }
    if (!strcmp(cmd, "messages")) {
        json_t *log = json_object_get(dev, "messages");
        return json_pack("{s:b,s:o}", "ok", 1, "messages", json_is_array(log) ? json_incref(log) : json_array());
    }
    const char *sub = jstr(req, "topic");
    bool raw = !strcmp(cmd, "raw.down");
    if (raw && !product_raw(pk)) return fail("raw data needs a product with dataFormat \"custom\"");
    if (!raw) {
        if (!sub || !class_valid(sub) || strchr(sub, '+') || strchr(sub, '#')) return fail("topic must be a concrete \"user/…\" topic");
        if (!(class_dirs(pk, sub) & EMU_DIR_DOWN)) {
            snprintf(msg, sizeof msg, "no topic class of %s with subscribe permission matches %s", pk, sub);
            return fail(msg);
        }
    }
    unsigned char *bytes;
    size_t len;
    if (!req_bytes(req, &bytes, &len, &err)) return fail(err);
    emu_conn_t *c = emu_route(key);
    json_t *resp = NULL;
    if (!c) {
        snprintf(msg, sizeof msg, "device %s is offline", key);
        resp = fail(msg);
    } else if (!strcmp(cmd, "user.publish")) {
        snprintf(topic, sizeof topic, "/%s/%s", key, sub);
        emu_send_bytes(c, topic, bytes, len, 1);
        resp = json_pack("{s:b,s:s}", "ok", 1, "topic", topic);
    } else if (!strcmp(cmd, "user.rrpc")) {
        if (!(c->ext & 1)) {
            resp = fail("the connection did not announce ext=1 in its client id (needed for custom-topic RRPC)");
        } else {
            emu_next_id(id);
            snprintf(topic, sizeof topic, "/ext/rrpc/%s//%s/%s", id, key, sub);   /* /ext/rrpc/${messageId}/${topic} */
            emu_pending_add(id, key, "user.rrpc", admin->client_id, cid, 8000);    /* platform RRPC timeout */
            emu_send_bytes(c, topic, bytes, len, 0);
        }
    } else {
        json_t *t = json_object_get(req, "timeout");
        long long tmo = json_is_integer(t) && json_integer_value(t) > 0 && json_integer_value(t) <= 600000 ? json_integer_value(t) : 10000;
        emu_next_id(id);
        snprintf(topic, sizeof topic, "/sys/%s/thing/model/down_raw", key);
        emu_pending_add(id, key, "raw.down", admin->client_id, cid, tmo);
        emu_send_bytes(c, topic, bytes, len, 1);
    }
    free(bytes);
    return resp;
}
