/* emu_plugin.c — the mosquitto (plugin API v5) side of alink-emu: CONNECT authentication
 * as the Alibaba IoT Platform does it, the per-device ACL, message dispatch to the
 * protocol and console handlers, the tick (deferred output, timeouts, state saving) and
 * disconnects. Options (mosquitto.conf): plugin_opt_registry, plugin_opt_state_dir,
 * plugin_opt_admin_user, plugin_opt_admin_password. */
#include "emu.h"
#include "emu_clientid.h"
#include "emu_sign.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

static mosquitto_plugin_id_t *g_pid;

void emu_log(int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int m = level <= 1 ? MOSQ_LOG_DEBUG : level == 2 ? MOSQ_LOG_INFO : level == 3 ? MOSQ_LOG_NOTICE
          : level == 4 ? MOSQ_LOG_WARNING : MOSQ_LOG_ERR;
    mosquitto_log_printf(m, "%s", buf);
}

/* ---- connection table ----------------------------------------------------------- */

emu_conn_t *emu_conn_by_client(const void *client)
{
    for (emu_conn_t *c = g_emu.conns; c; c = c->next) if (c->client == client) return c;
    return NULL;
}

emu_conn_t *emu_conn_by_key(const char *key)
{
    for (emu_conn_t *c = g_emu.conns; c; c = c->next)
        if (c->kind == EMU_CONN_DEVICE && !strcmp(c->key, key)) return c;
    return NULL;
}

emu_conn_t *emu_conn_by_client_id(const char *client_id)
{
    for (emu_conn_t *c = g_emu.conns; c; c = c->next) if (!strcmp(c->client_id, client_id)) return c;
    return NULL;
}

emu_conn_t *emu_route(const char *key)
{
    json_t *s = emu_session(key);
    if (!s) return NULL;
    const char *via = json_string_value(json_object_get(s, "via"));
    return emu_conn_by_key(via ? via : key);
}

static void conn_remove(emu_conn_t *victim)
{
    for (emu_conn_t **pp = &g_emu.conns; *pp; pp = &(*pp)->next) {
        if (*pp == victim) {
            *pp = victim->next;
            free(victim->client_id);
            free(victim);
            return;
        }
    }
}

/* ---- output --------------------------------------------------------------------- */

static void publish_text(const char *client_id, const char *topic, const char *text, int qos)
{
    int rc = mosquitto_broker_publish_copy(client_id, topic, (int)strlen(text), text, qos, false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) emu_log(4, "alink-emu: publish on %s failed (%d)", topic, rc);
}

void emu_send(const emu_conn_t *c, const char *topic, json_t *payload, int qos)
{
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    if (c && text) publish_text(c->ss || c->kind != EMU_CONN_DEVICE ? c->client_id : NULL, topic, text, qos);
    free(text);
    json_decref(payload);
}

void emu_send_bytes(const emu_conn_t *c, const char *topic, const void *payload, size_t len, int qos)
{
    if (!c) return;
    int rc = mosquitto_broker_publish_copy(c->ss || c->kind != EMU_CONN_DEVICE ? c->client_id : NULL, topic, (int)len,
                                           len ? payload : "", qos, false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) emu_log(4, "alink-emu: publish on %s failed (%d)", topic, rc);
}

void emu_send_later(const char *client_id, bool direct, const char *topic, json_t *payload, int qos)
{
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    if (text)
        json_array_append_new(g_emu.outbox, json_pack("{s:s,s:s?,s:s,s:s,s:i}", "op", "publish", "clientId",
                                                      direct ? client_id : NULL, "topic", topic, "payload", text, "qos", qos));
    free(text);
    json_decref(payload);
}

void emu_kick_later(const char *client_id)
{
    json_array_append_new(g_emu.outbox, json_pack("{s:s,s:s}", "op", "kick", "clientId", client_id));
}

static void flush_outbox(void)
{
    json_t *box = g_emu.outbox;
    size_t i;
    json_t *it;
    g_emu.outbox = json_array();
    json_array_foreach(box, i, it) {
        const char *op = json_string_value(json_object_get(it, "op"));
        const char *cid = json_string_value(json_object_get(it, "clientId"));
        if (!strcmp(op, "kick")) {
            if (cid) mosquitto_kick_client_by_clientid(cid, false);
        } else {
            publish_text(cid, json_string_value(json_object_get(it, "topic")),
                         json_string_value(json_object_get(it, "payload")),
                         (int)json_integer_value(json_object_get(it, "qos")));
        }
    }
    json_decref(box);
}

/* ---- authentication ------------------------------------------------------------- */

static emu_conn_t *conn_add(const void *client, const char *client_id, emu_conn_kind_t kind, const char *pk,
                            const char *dn, const emu_cid_t *cid)
{
    emu_conn_t *stale = emu_conn_by_client(client);
    if (stale) conn_remove(stale);
    emu_conn_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->client = client;
    c->client_id = strdup(client_id);
    c->kind = kind;
    snprintf(c->pk, sizeof c->pk, "%s", pk ? pk : "");
    snprintf(c->dn, sizeof c->dn, "%s", dn ? dn : "");
    emu_key(c->key, c->pk, c->dn);
    if (cid) { c->ss = cid->ss; c->ext = cid->ext; }
    if (!c->client_id) { free(c); return NULL; }
    c->next = g_emu.conns;
    g_emu.conns = c;
    return c;
}

static int refuse(const char *who, const char *why)
{
    emu_audit("auth_refused", who, why);
    return MOSQ_ERR_AUTH;
}

/* authType=register: one-product-one-secret dynamic registration over MQTT (§4.4). */
static int auth_register(struct mosquitto *client, const char *client_id, const emu_cid_t *cid, const char *pk,
                         const char *dn, const char *password)
{
    char content[512], hex[65], key[EMU_KEY_MAX];
    json_t *prod = emu_product(pk), *dev = emu_device(pk, dn);
    if (!prod) return refuse(client_id, "register: unknown product");
    if (!json_is_true(json_object_get(prod, "dynamicRegistration"))) return refuse(client_id, "register: dynamic registration off (6288)");
    if (!dev) return refuse(client_id, "register: device not pre-registered (6100)");
    if (!json_is_true(json_object_get(dev, "enabled"))) return refuse(client_id, "register: device disabled");
    if (json_is_true(json_object_get(dev, "activated"))) return refuse(client_id, "register: device already activated (6289)");
    if (strcmp(cid->securemode, "2") && strcmp(cid->securemode, "-2")) return refuse(client_id, "register: securemode must be 2 or -2");
    snprintf(content, sizeof content, "deviceName%sproductKey%srandom%s", dn, pk, cid->random);
    emu_hmac_t alg = emu_hmac_from_name(cid->signmethod[0] ? cid->signmethod : "hmacsha256");
    if (!cid->random[0] || !emu_hmac_hex(alg, json_string_value(json_object_get(prod, "productSecret")), content, hex) ||
        !emu_hex_equal(hex, password))
        return refuse(client_id, "register: bad sign");
    if (!json_string_value(json_object_get(dev, "deviceSecret"))) {
        char secret[33];
        emu_random_alnum(secret, 32);
        json_object_set_new(dev, "deviceSecret", json_string(secret));
    }
    json_object_set_new(dev, "secretIssued", json_true());
    emu_mark_dirty();
    emu_key(key, pk, dn);
    if (!conn_add(client, client_id, EMU_CONN_REGISTER, pk, dn, cid)) return MOSQ_ERR_NOMEM;
    emu_send_later(client_id, true, "/ext/register",
                   json_pack("{s:s,s:s,s:O}", "productKey", pk, "deviceName", dn, "deviceSecret",
                             json_object_get(dev, "deviceSecret")), 0);
    emu_log(2, "alink-emu: %s registered over MQTT", key);
    return MOSQ_ERR_SUCCESS;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_basic_auth *ed = event_data;
    const char *client_id = mosquitto_client_id(ed->client);
    const char *user = ed->username, *pass = ed->password;
    emu_cid_t cid;
    char pk[65], dn[65], content[1024], hex[65], key[EMU_KEY_MAX];
    (void)event;
    (void)userdata;

    if (!client_id || !user || !pass) return refuse(client_id, "missing client id, username or password");
    if (!strcmp(user, g_emu.admin_user)) {
        if (strcmp(pass, g_emu.admin_pass)) return refuse(client_id, "bad admin password");
        return conn_add(ed->client, client_id, EMU_CONN_ADMIN, NULL, NULL, NULL) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
    }
    const char *amp = strchr(user, '&');
    if (!amp || amp == user || (size_t)(amp - user) >= sizeof dn || strlen(amp + 1) >= sizeof pk || !amp[1])
        return refuse(client_id, "username is not deviceName&productKey");
    snprintf(dn, sizeof dn, "%.*s", (int)(amp - user), user);
    snprintf(pk, sizeof pk, "%s", amp + 1);
    if (!emu_cid_parse(client_id, &cid)) return refuse(client_id, "malformed client id");
    if (!strcmp(cid.auth_type, "register")) return auth_register(ed->client, client_id, &cid, pk, dn, pass);
    if (cid.auth_type[0]) return refuse(client_id, "unsupported authType");

    json_t *prod = emu_product(pk), *dev = emu_device(pk, dn);
    if (!prod || !dev) return refuse(client_id, "unknown device");
    if (!json_is_true(json_object_get(dev, "enabled"))) return refuse(client_id, "device disabled");
    const char *secret = json_string_value(json_object_get(dev, "deviceSecret"));
    if (!secret) return refuse(client_id, "device has no secret yet");
    int ka = mosquitto_client_keepalive(ed->client);
    if (ka < 30) return refuse(client_id, "keepalive below 30 s");
    emu_hmac_t alg = emu_hmac_from_name(cid.signmethod[0] ? cid.signmethod : "hmacmd5");
    if (alg == EMU_HMAC_NONE) return refuse(client_id, "unknown signmethod");
    if (!emu_sign_content(content, sizeof content, NULL, cid.base, dn, pk, cid.has_timestamp ? cid.timestamp : NULL) ||
        !emu_hmac_hex(alg, secret, content, hex) || !emu_hex_equal(hex, pass))
        return refuse(client_id, "bad sign");

    emu_key(key, pk, dn);
    emu_conn_t *old = emu_conn_by_key(key);
    if (old) {                                   /* same credentials twice: the older goes */
        emu_proto_offline(old);
        if (strcmp(old->client_id, client_id)) emu_kick_later(old->client_id);
        conn_remove(old);
    }
    emu_conn_t *c = conn_add(ed->client, client_id, EMU_CONN_DEVICE, pk, dn, &cid);
    if (!c) return MOSQ_ERR_NOMEM;
    if (!json_is_true(json_object_get(dev, "activated"))) {
        json_object_set_new(dev, "activated", json_true());
        emu_mark_dirty();
    }
    emu_proto_online(c);
    return MOSQ_ERR_SUCCESS;
}

/* ---- ACL ------------------------------------------------------------------------ */

static int deny(const emu_conn_t *c, int access, const char *topic, const char *why)
{
    char detail[600];
    snprintf(detail, sizeof detail, "%s %s: %s", access == MOSQ_ACL_WRITE ? "publish" : access == MOSQ_ACL_READ ? "read" : "subscribe",
             topic ? topic : "", why);
    if (access == MOSQ_ACL_READ) emu_log(1, "alink-emu: acl: %s: %s", c ? c->client_id : "-", detail);
    else emu_audit("acl_denied", c ? c->client_id : NULL, detail);
    return MOSQ_ERR_ACL_DENIED;
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_acl_check *ed = event_data;
    emu_conn_t *c = emu_conn_by_client(ed->client);
    emu_topic_t t;
    (void)event;
    (void)userdata;
    if (!c) return deny(NULL, ed->access, ed->topic, "unknown connection");
    if (c->kind == EMU_CONN_ADMIN || ed->access == MOSQ_ACL_UNSUBSCRIBE) return MOSQ_ERR_SUCCESS;
    if (!emu_topic_parse(ed->topic, ed->access == MOSQ_ACL_SUBSCRIBE, &t)) {
        /* a broad wildcard filter ("#", "/sys/#" …) is allowed: every delivery is checked (§11.9) */
        if (ed->access == MOSQ_ACL_SUBSCRIBE && c->kind == EMU_CONN_DEVICE && ed->topic && strpbrk(ed->topic, "+#") &&
            ed->topic[0] != '$')
            return MOSQ_ERR_SUCCESS;
        return deny(c, ed->access, ed->topic, "not an Alink topic");
    }
    if (c->kind == EMU_CONN_REGISTER)
        return t.cls == EMU_T_REGISTER && ed->access != MOSQ_ACL_WRITE ? MOSQ_ERR_SUCCESS
                                                                       : deny(c, ed->access, ed->topic, "registration session");
    if (t.cls == EMU_T_REGISTER || t.cls == EMU_T_ADMIN) return deny(c, ed->access, ed->topic, "reserved topic");
    if (!(ed->access == MOSQ_ACL_SUBSCRIBE && t.wild_owner) && (strcmp(t.pk, c->pk) || strcmp(t.dn, c->dn))) {
        char okey[EMU_KEY_MAX];
        json_t *me = emu_device_by_key(c->key);
        emu_key(okey, t.pk, t.dn);
        if (!emu_is_gateway(me) || !json_object_get(emu_topo_of(me), okey))
            return deny(c, ed->access, ed->topic, "another device's topic");
        if (t.cls == EMU_T_SESSION) return deny(c, ed->access, ed->topic, "session topics use the gateway's own identity");
    }
    int dir = emu_topic_dir(&t);
    if (ed->access == MOSQ_ACL_WRITE && !(dir & EMU_DIR_UP)) return deny(c, ed->access, ed->topic, "downstream-only topic");
    if (ed->access == MOSQ_ACL_READ && !(dir & EMU_DIR_DOWN)) return deny(c, ed->access, ed->topic, "upstream-only topic");
    if (!dir) return deny(c, ed->access, ed->topic, "unknown direction");
    const char *why = emu_custom_acl(&t, ed->access == MOSQ_ACL_WRITE ? EMU_DIR_UP : EMU_DIR_DOWN, ed->payloadlen, ed->topic);
    if (why) return deny(c, ed->access, ed->topic, why);
    if (ed->access == MOSQ_ACL_SUBSCRIBE && !c->ss) emu_proto_subscribed(c, ed->topic);
    return MOSQ_ERR_SUCCESS;
}

/* ---- messages, tick, disconnect ------------------------------------------------- */

static int on_message(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_message *ed = event_data;
    emu_conn_t *c = emu_conn_by_client(ed->client);
    (void)event;
    (void)userdata;
    if (!c || !ed->topic) return MOSQ_ERR_SUCCESS;
    if (c->kind == EMU_CONN_ADMIN) {
        if (!strcmp(ed->topic, EMU_ADMIN_REQUEST_TOPIC)) {
            emu_admin_message(c, ed->payload, ed->payloadlen);
            return MOSQ_ERR_ACL_DENIED;          /* consumed, not forwarded */
        }
        return MOSQ_ERR_SUCCESS;
    }
    if (c->kind != EMU_CONN_DEVICE) return MOSQ_ERR_ACL_DENIED;
    return emu_proto_message(c, ed->topic, ed->payload, ed->payloadlen) ? MOSQ_ERR_ACL_DENIED : MOSQ_ERR_SUCCESS;
}

static int on_tick(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)event_data;
    (void)userdata;
    flush_outbox();
    emu_pending_tick(emu_now_ms());
    emu_save(false);
    return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_disconnect *ed = event_data;
    emu_conn_t *c = emu_conn_by_client(ed->client);
    (void)event;
    (void)userdata;
    if (!c) return MOSQ_ERR_SUCCESS;
    if (c->kind == EMU_CONN_DEVICE) emu_proto_offline(c);
    conn_remove(c);
    return MOSQ_ERR_SUCCESS;
}

/* ---- plugin entry points -------------------------------------------------------- */

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++) if (supported_versions[i] == 5) return 5;
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *opts, int opt_count)
{
    const char *registry = NULL, *state_dir = NULL;
    char err[1024];
    memset(&g_emu, 0, sizeof g_emu);
    g_pid = identifier;
    *userdata = NULL;
    for (int i = 0; i < opt_count; i++) {
        if (!strcmp(opts[i].key, "registry")) registry = opts[i].value;
        else if (!strcmp(opts[i].key, "state_dir")) state_dir = opts[i].value;
        else if (!strcmp(opts[i].key, "admin_user")) { free(g_emu.admin_user); g_emu.admin_user = strdup(opts[i].value); }
        else if (!strcmp(opts[i].key, "admin_password")) { free(g_emu.admin_pass); g_emu.admin_pass = strdup(opts[i].value); }
        else {
            mosquitto_log_printf(MOSQ_LOG_ERR, "alink-emu: unknown option plugin_opt_%s", opts[i].key);
            return MOSQ_ERR_INVAL;
        }
    }
    if (!emu_load(registry, state_dir, err, sizeof err)) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "alink-emu: %s", err);
        emu_free();
        return MOSQ_ERR_INVAL;
    }
    if (mosquitto_callback_register(g_pid, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL) ||
        mosquitto_callback_register(g_pid, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL) ||
        mosquitto_callback_register(g_pid, MOSQ_EVT_MESSAGE, on_message, NULL, NULL) ||
        mosquitto_callback_register(g_pid, MOSQ_EVT_TICK, on_tick, NULL, NULL) ||
        mosquitto_callback_register(g_pid, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, NULL)) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "alink-emu: cannot register callbacks");
        emu_free();
        return MOSQ_ERR_UNKNOWN;
    }
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "alink-emu: ready (%zu products, %zu devices)",
                         json_object_size(json_object_get(g_emu.state, "products")),
                         json_object_size(json_object_get(g_emu.state, "devices")));
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
    (void)userdata;
    (void)opts;
    (void)opt_count;
    mosquitto_callback_unregister(g_pid, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
    mosquitto_callback_unregister(g_pid, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    mosquitto_callback_unregister(g_pid, MOSQ_EVT_MESSAGE, on_message, NULL);
    mosquitto_callback_unregister(g_pid, MOSQ_EVT_TICK, on_tick, NULL);
    mosquitto_callback_unregister(g_pid, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
    emu_save(true);
    emu_free();
    return MOSQ_ERR_SUCCESS;
}
