/*
 * gw_cloud session: the Paho MQTT async client, the crossing of everything
 * Paho delivers into the libuv loop, connect / dynamic registration /
 * reconnect with jittered exponential backoff, and the subscription set.
 *
 * Paho callbacks run on Paho's threads: they only copy what they got into a
 * cloud_ev_t, append it to c->q_* under c->q_mutex and uv_async_send(). The
 * loop thread drains the queue in async_cb and owns all other state.
 */
#include "cloud_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define CLOUD_SDK_VERSION "linkgw-0.1"
/* ext bit0: the gateway takes sync services on /ext/rrpc/... (it handles both forms). */
#define CLOUD_EXT_FLAGS 1

/* One per Paho client: the context Paho hands back to our callbacks. Kept until
 * the session is freed, because Paho may still be inside a callback while
 * MQTTAsync_destroy() runs on the loop thread. */
typedef struct cloud_ctx {
    struct cloud_ctx *next;
    gw_cloud_t *c;
    unsigned gen;
} cloud_ctx_t;

static const char *const k_state_names[] = {"idle", "registering", "connecting", "connected", "waiting", "closed"};

const char *gw_cloud_state_name(gw_cloud_state_t s)
{
    return (unsigned)s < sizeof k_state_names / sizeof k_state_names[0] ? k_state_names[s] : "?";
}

int64_t cloud_realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ event queue */

static cloud_ctx_t *ctx_of(gw_cloud_t *c);

static void push_event(cloud_ctx_t *ctx, cloud_ev_type_t type, int code, const char *text, const void *payload,
                       size_t len)
{
    gw_cloud_t *c = ctx->c;
    cloud_ev_t *ev = calloc(1, sizeof *ev);
    if (!ev)
        return; /* out of memory on a Paho thread: the message is lost, nothing else to do */
    ev->type = type;
    ev->gen = ctx->gen;
    ev->code = code;
    ev->text = text ? strdup(text) : NULL;
    if (payload || type == EV_MESSAGE) {
        ev->payload = malloc(len + 1);
        if (ev->payload) {
            if (len)
                memcpy(ev->payload, payload, len);
            ev->payload[len] = '\0';
            ev->len = len;
        }
    }
    pthread_mutex_lock(&c->q_mutex);
    if (c->q_tail)
        c->q_tail->next = ev;
    else
        c->q_head = ev;
    c->q_tail = ev;
    pthread_mutex_unlock(&c->q_mutex);
    uv_async_send(&c->async);
}

static void free_event(cloud_ev_t *ev)
{
    free(ev->text);
    free(ev->payload);
    free(ev);
}

/* -------------------------------------------------------- Paho callbacks */

static void on_connect_ok(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    push_event(context, EV_CONNECTED, 0, NULL, NULL, 0);
}

static void on_connect_fail(void *context, MQTTAsync_failureData *resp)
{
    push_event(context, EV_CONNECT_FAILED, resp ? resp->code : -1, resp ? resp->message : NULL, NULL, 0);
}

static void on_lost(void *context, char *cause)
{
    push_event(context, EV_LOST, 0, cause, NULL, 0);
}

static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *m)
{
    char *t = topic_len > 0 ? strndup(topic, (size_t)topic_len) : strdup(topic);
    push_event(context, EV_MESSAGE, 0, t ? t : "", m->payload, (size_t)(m->payloadlen > 0 ? m->payloadlen : 0));
    free(t);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_delivered(void *context, MQTTAsync_token token)
{
    (void)token;
    cloud_ctx_t *ctx = context;
    atomic_fetch_add(&ctx->c->acked, 1);
}

static void on_sub_ok(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    push_event(context, EV_SUBSCRIBED, 0, NULL, NULL, 0);
}

static void on_sub_fail(void *context, MQTTAsync_failureData *resp)
{
    push_event(context, EV_SUBSCRIBED, resp && resp->code ? resp->code : -1, resp ? resp->message : NULL, NULL, 0);
}

static void on_disc_done(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    push_event(context, EV_DISCONNECTED, 0, NULL, NULL, 0);
}

static void on_disc_fail(void *context, MQTTAsync_failureData *resp)
{
    (void)resp;
    push_event(context, EV_DISCONNECTED, -1, NULL, NULL, 0);
}

static int on_ssl_error(const char *str, size_t len, void *u)
{
    (void)u;
    gw_log(LGW_LOG_WARN, CLOUD_LOG, "TLS: %.*s", (int)(len && str[len - 1] == '\n' ? len - 1 : len), str);
    return 0;
}

/* ------------------------------------------------------------- state */

void cloud_set_state(gw_cloud_t *c, gw_cloud_state_t s)
{
    if (c->state == s)
        return;
    GW_DEBUG(CLOUD_LOG, "state %s -> %s", gw_cloud_state_name(c->state), gw_cloud_state_name(s));
    c->state = s;
    for (cloud_listener_t *l = c->listeners; l; l = l->next)
        l->fn(c, s, l->data);
    if (!c->closing)
        cloud_self_on_state(c);
}

bool cloud_is_connected(const gw_cloud_t *c)
{
    return c->state == GW_CLOUD_CONNECTED && c->client && !c->closing;
}

/*
 * QoS per topic (publish) or filter (subscribe). Delivery of data is proven by
 * the platform's Alink reply (sys.ack = 1), never by a PUBACK: the data layer
 * keeps a value (hold, journal, write-ahead log) until its post_reply says 200
 * and resends it after ack_timeout_ms otherwise, so for the high-rate traffic
 * QoS 1 would only add a PUBACK each way. Like the LinkSDK, these go at QoS 0:
 *   - posts of properties and events (/thing/event/…), incl. pack and history;
 *   - the replies we subscribe to (…_reply), and sessions and NTP.
 * Everything else (downlink requests to us and our answers, lifecycle and OTA
 * requests: low rate, and a lost one costs a platform-side timeout) stays at 1.
 */
int cloud_qos_for(const char *topic)
{
    size_t n = strlen(topic);
    if (strncmp(topic, "/ext/session/", 13) == 0 || strncmp(topic, "/ext/ntp/", 9) == 0)
        return 0;
    if (n > 6 && strcmp(topic + n - 6, "_reply") == 0 && strncmp(topic, "/sys/+/", 7) == 0)
        return 0; /* a subscription to replies of our requests */
    if (strstr(topic, "/thing/event/") && n > 5 && strcmp(topic + n - 5, "/post") == 0)
        return 0;
    return 1;
}

/* ------------------------------------------------------------- contexts */

/* The contexts live in a list hanging off the session (freed with it). */
static cloud_ctx_t **ctx_head(gw_cloud_t *c)
{
    return (cloud_ctx_t **)&c->ctx_list;
}

static cloud_ctx_t *ctx_new(gw_cloud_t *c)
{
    cloud_ctx_t *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->c = c;
    x->gen = ++c->gen;
    x->next = *ctx_head(c);
    *ctx_head(c) = x;
    return x;
}

static cloud_ctx_t *ctx_of(gw_cloud_t *c)
{
    return *ctx_head(c);
}

static void client_destroy(gw_cloud_t *c)
{
    if (!c->client)
        return;
    cloud_client_lock(c); /* the publisher thread is not inside a Paho call */
    if (MQTTAsync_isConnected(c->client)) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 0;
        MQTTAsync_disconnect(c->client, &d);
    }
    MQTTAsync_destroy(&c->client);
    c->client = NULL;
    c->connect_inflight = false;
    c->gen++; /* anything still queued for the old client is stale */
    cloud_client_unlock(c);
    free(c->client_id);
    c->client_id = NULL;
}

/* Creates a Paho client for @p client_id unless the current one already uses it. */
static int client_create(gw_cloud_t *c, const char *uri, const char *client_id);

static int client_ensure(gw_cloud_t *c, const char *client_id)
{
    if (c->client && c->client_id && strcmp(c->client_id, client_id) == 0)
        return 0;
    client_destroy(c);
    char uri[320];
    snprintf(uri, sizeof uri, "%s://%s:%d", c->cfg.tls ? "ssl" : "tcp", c->cfg.host, c->cfg.port);
    cloud_client_lock(c);
    int ok = client_create(c, uri, client_id);
    cloud_client_unlock(c);
    return ok;
}

/* client_ensure()'s second half: a new client and context (client mutex held). */
static int client_create(gw_cloud_t *c, const char *uri, const char *client_id)
{
    /* Plain create: with create options Paho caps queued publishes at
     * maxBufferedMessages (100) even while connected. Nothing is buffered while
     * disconnected (publishing then returns LGW_ESTATE). */
    int rc = MQTTAsync_create(&c->client, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        GW_ERROR(CLOUD_LOG, "cannot create MQTT client for %s: %s", uri, MQTTAsync_strerror(rc));
        c->client = NULL;
        return -1;
    }
    cloud_ctx_t *x = ctx_new(c);
    c->client_id = strdup(client_id);
    if (!x || !c->client_id) {
        MQTTAsync_destroy(&c->client);
        c->client = NULL;
        free(c->client_id);
        c->client_id = NULL;
        return -1;
    }
    MQTTAsync_setCallbacks(c->client, x, on_lost, on_message, on_delivered);
    return 0;
}

/* ------------------------------------------------------------- connect */

static void schedule_retry(gw_cloud_t *c, const char *why);

static void make_random(char *out, size_t cap)
{
    unsigned char b[8];
    if (uv_random(NULL, NULL, b, sizeof b, 0, NULL) != 0) {
        uint64_t t = (uint64_t)uv_hrtime();
        memcpy(b, &t, sizeof b);
    }
    snprintf(out, cap, "%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

static unsigned jitter(unsigned d)
{
    uint32_t r = 0;
    if (uv_random(NULL, NULL, &r, sizeof r, 0, NULL) != 0)
        r = (uint32_t)uv_hrtime();
    return d / 2 + (d / 2 ? r % (d / 2 + 1) : 0);
}

static void do_connect(gw_cloud_t *c)
{
    if (c->closing)
        return;
    gw_alink_mqtt_cred_t cred;
    c->registering = c->secret[0] == '\0';
    if (c->registering) {
        /* One nonce per session: retries reuse it, so they reuse one Paho client
         * (its client id carries the nonce) instead of creating one per attempt. */
        if (!c->reg_random[0])
            make_random(c->reg_random, sizeof c->reg_random);
        const char *random = c->reg_random;
        gw_alink_register_params_t rp = {
            .product_key = c->cfg.product_key,
            .device_name = c->cfg.device_name,
            .product_secret = c->cfg.product_secret,
            .client_id = c->cfg.client_id,
            .auth_type = "register",
            .random = random,
            .securemode = c->cfg.register_securemode,
            .sign_method = c->cfg.sign_method,
            .instance_id = c->cfg.register_securemode == GW_ALINK_SECUREMODE_NEW_INSTANCE ? c->cfg.instance_id : NULL,
        };
        if (gw_alink_register_cred(&rp, &cred) != 0) {
            GW_ERROR(CLOUD_LOG, "cannot build registration credentials (check product_key/device_name)");
            schedule_retry(c, "bad credentials");
            return;
        }
    } else {
        gw_alink_connect_params_t cp = {
            .product_key = c->cfg.product_key,
            .device_name = c->cfg.device_name,
            .device_secret = c->secret,
            .client_id = c->cfg.client_id,
            .securemode = c->cfg.tls ? GW_ALINK_SECUREMODE_TLS : GW_ALINK_SECUREMODE_TCP,
            .sign_method = c->cfg.sign_method,
            .version = CLOUD_SDK_VERSION,
            .ext = CLOUD_EXT_FLAGS,
        };
        if (gw_alink_connect_cred(&cp, &cred) != 0) {
            GW_ERROR(CLOUD_LOG, "cannot build MQTT credentials (check product_key/device_name/client_id)");
            schedule_retry(c, "bad credentials");
            return;
        }
    }
    if (client_ensure(c, cred.client_id) != 0) {
        memset(&cred, 0, sizeof cred);
        schedule_retry(c, "client creation failed");
        return;
    }
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    o.keepAliveInterval = c->registering ? 60 : c->cfg.keepalive;
    o.cleansession = 1;
    o.connectTimeout = 10;
    o.username = cred.username;
    o.password = cred.password;
    o.MQTTVersion = MQTTVERSION_3_1_1;
    o.automaticReconnect = 0;
    o.onSuccess = on_connect_ok;
    o.onFailure = on_connect_fail;
    o.context = ctx_of(c);
    if (c->cfg.tls) {
        ssl.trustStore = c->cfg.ca_file;
        ssl.enableServerCertAuth = c->cfg.verify;
        ssl.verify = c->cfg.verify;
        ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        ssl.ssl_error_cb = on_ssl_error;
        o.ssl = &ssl;
    }
    c->stats.connect_attempts++;
    cloud_set_state(c, c->registering ? GW_CLOUD_REGISTERING : GW_CLOUD_CONNECTING);
    if (c->closing)
        return;
    GW_INFO(CLOUD_LOG, "%s %s:%d (%s, securemode=%d)", c->registering ? "registering at" : "connecting to",
            c->cfg.host, c->cfg.port, c->cfg.tls ? "TLS" : "plain TCP",
            c->registering ? c->cfg.register_securemode : (c->cfg.tls ? 2 : 3));
    int rc = MQTTAsync_connect(c->client, &o);
    memset(&cred, 0, sizeof cred);
    c->connect_inflight = rc == MQTTASYNC_SUCCESS;
    if (rc != MQTTASYNC_SUCCESS) {
        GW_ERROR(CLOUD_LOG, "MQTT connect failed to start: %s", MQTTAsync_strerror(rc));
        schedule_retry(c, "connect not started");
    }
}

static void retry_cb(uv_timer_t *t)
{
    do_connect(t->data);
}

static void schedule_retry(gw_cloud_t *c, const char *why)
{
    if (c->closing)
        return;
    unsigned shift = c->attempt < 16 ? c->attempt : 16;
    uint64_t d = (uint64_t)c->backoff_min_ms << shift;
    if (d > c->backoff_max_ms)
        d = c->backoff_max_ms;
    unsigned delay = jitter((unsigned)d);
    c->attempt++;
    GW_INFO(CLOUD_LOG, "%s; reconnecting in %u ms", why, delay);
    cloud_set_state(c, GW_CLOUD_WAITING);
    if (!c->closing)
        uv_timer_start(&c->retry_timer, retry_cb, delay, 0);
}

/* ------------------------------------------------------------ subscriptions */

int cloud_subscribe_add(gw_cloud_t *c, const char *filter)
{
    for (cloud_sub_t *s = c->subs; s; s = s->next)
        if (strcmp(s->filter, filter) == 0)
            return LGW_OK;
    cloud_sub_t *s = calloc(1, sizeof *s);
    if (!s || !(s->filter = strdup(filter))) {
        free(s);
        return LGW_ENOMEM;
    }
    s->qos = cloud_qos_for(filter);
    s->next = c->subs;
    c->subs = s;
    c->stats.subscriptions++;
    if (cloud_is_connected(c)) { /* otherwise the next connect subscribes the whole set */
        MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
        r.onSuccess = on_sub_ok;
        r.onFailure = on_sub_fail;
        r.context = ctx_of(c);
        c->stats.subscribe_calls++;
        int rc = MQTTAsync_subscribe(c->client, s->filter, s->qos, &r);
        if (rc != MQTTASYNC_SUCCESS)
            GW_WARN(CLOUD_LOG, "subscribe %s: %s", s->filter, MQTTAsync_strerror(rc));
    }
    return LGW_OK;
}

static void subscribe_all(gw_cloud_t *c)
{
    size_t n = 0;
    for (cloud_sub_t *s = c->subs; s; s = s->next)
        n++;
    if (!n)
        return;
    char **filters = calloc(n, sizeof *filters);
    int *qos = calloc(n, sizeof *qos);
    if (!filters || !qos) {
        free(filters);
        free(qos);
        GW_ERROR(CLOUD_LOG, "out of memory subscribing");
        return;
    }
    size_t i = 0;
    for (cloud_sub_t *s = c->subs; s; s = s->next, i++) {
        filters[i] = s->filter;
        qos[i] = s->qos;
    }
    MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
    r.onSuccess = on_sub_ok;
    r.onFailure = on_sub_fail;
    r.context = ctx_of(c);
    c->stats.subscribe_calls++;
    int rc = MQTTAsync_subscribeMany(c->client, (int)n, filters, qos, &r);
    if (rc != MQTTASYNC_SUCCESS)
        GW_WARN(CLOUD_LOG, "subscribe (%zu filters): %s", n, MQTTAsync_strerror(rc));
    free(filters);
    free(qos);
}

/* cloud_send, with the payload either copied or, when @p buf is given, shared with the publisher. */
static int send_msg(gw_cloud_t *c, const char *topic, const void *payload, gw_cloud_buf_t *buf, size_t len)
{
    if (!cloud_is_connected(c))
        return LGW_ESTATE;
    if (len > 1024 * 1024)
        return LGW_EINVAL;
    int qos = cloud_qos_for(topic);
    if (c->pub_running) { /* the loop never waits on Paho's mutex (cloud_publish.c) */
        int rc = cloud_publisher_send(c, topic, payload, buf, len, qos);
        if (rc == LGW_OK)
            c->stats.published++;
        return rc;
    }
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = (void *)payload;
    m.payloadlen = (int)len;
    m.qos = qos;
    int rc = MQTTAsync_sendMessage(c->client, topic, &m, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        GW_WARN(CLOUD_LOG, "publish %s: %s", topic, MQTTAsync_strerror(rc));
        return LGW_EIO;
    }
    c->stats.published++;
    return LGW_OK;
}

int cloud_send(gw_cloud_t *c, const char *topic, const void *payload, size_t len)
{
    return send_msg(c, topic, payload, NULL, len);
}

int gw_cloud_publish(gw_cloud_t *c, const char *topic, const void *payload, size_t len)
{
    if (!c || !topic || !*topic || (!payload && len))
        return LGW_EINVAL;
    return cloud_send(c, topic, payload ? payload : "", len);
}

int gw_cloud_publish_buf(gw_cloud_t *c, const char *topic, gw_cloud_buf_t *buf, size_t len)
{
    if (!c || !topic || !*topic || !buf || len > gw_cloud_buf_cap(buf))
        return LGW_EINVAL;
    return send_msg(c, topic, gw_cloud_buf_data(buf), buf, len);
}

/* ------------------------------------------------------ registration reply */

/* The registration session is gone: continue with the normal connection, or
 * (registration given up) retry later. */
static void registration_left(gw_cloud_t *c)
{
    const char *retry = c->reg_leave_retry;
    c->reg_leaving = false;
    c->reg_leave_retry = NULL;
    client_destroy(c);
    if (retry)
        schedule_retry(c, retry);
    else
        do_connect(c);
}

/*
 * Leaves the registration session: a DISCONNECT, and only once it completed
 * (EV_DISCONNECTED / EV_LOST) the client is destroyed — destroying a connected
 * Paho client leaks inside Paho. Then registration_left() connects with the
 * new secret (@p retry NULL) or schedules a retry for the reason @p retry (a
 * string literal). Without a connection the client is destroyed at once.
 */
static void registration_leave(gw_cloud_t *c, const char *retry)
{
    c->reg_leave_retry = retry;
    if (!c->client || !MQTTAsync_isConnected(c->client)) {
        registration_left(c);
        return;
    }
    c->reg_leaving = true;
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 1000;
    d.onSuccess = on_disc_done;
    d.onFailure = on_disc_fail;
    d.context = ctx_of(c);
    if (MQTTAsync_disconnect(c->client, &d) != MQTTASYNC_SUCCESS)
        registration_left(c);
}

static void on_register_message(gw_cloud_t *c, const char *topic, const char *payload, size_t len)
{
    if (strcmp(topic, "/ext/regnwl") == 0) {
        GW_ERROR(CLOUD_LOG, "platform answered with /ext/regnwl (register without pre-registration): "
                            "not supported; pre-register the DeviceName");
        return;
    }
    if (strcmp(topic, "/ext/register") != 0) {
        GW_DEBUG(CLOUD_LOG, "ignoring %s during registration", topic);
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(payload, len, 0, &jerr);
    const char *pk = json_string_value(json_object_get(root, "productKey"));
    const char *dn = json_string_value(json_object_get(root, "deviceName"));
    const char *ds = json_string_value(json_object_get(root, "deviceSecret"));
    bool ok = json_is_object(root) && pk && dn && ds && *ds && strlen(ds) < CLOUD_SECRET_MAX
              && strcmp(pk, c->cfg.product_key) == 0 && strcmp(dn, c->cfg.device_name) == 0
              && !strpbrk(ds, " \t\r\n");
    if (!ok) {
        c->stats.malformed++;
        GW_ERROR(CLOUD_LOG, "malformed /ext/register message (%zu bytes): ignored", len);
        json_decref(root);
        return;
    }
    if (c->store.save(c->store.data, pk, dn, ds) != 0) {
        GW_ERROR(CLOUD_LOG, "registered, but the DeviceSecret could not be stored: not using it");
        json_decref(root);
        registration_leave(c, "secret store failed");
        return;
    }
    snprintf(c->secret, sizeof c->secret, "%s", ds);
    json_decref(root);
    c->stats.registrations++;
    c->registering = false;
    c->register_deadline = 0;
    GW_INFO(CLOUD_LOG, "dynamic registration of %s/%s done; DeviceSecret stored", c->cfg.product_key,
            c->cfg.device_name);
    c->attempt = 0;
    registration_leave(c, NULL); /* then connect with the new secret */
}

/* --------------------------------------------------------------- the loop */

static const char *connack_reason(int code)
{
    switch (code) {
    case 1: return "unacceptable protocol version";
    case 2: return "identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return NULL;
    }
}

static void handle_event(gw_cloud_t *c, cloud_ev_t *ev)
{
    if (ev->type == EV_CONNECTED || ev->type == EV_CONNECT_FAILED)
        c->connect_inflight = false;
    switch (ev->type) {
    case EV_CONNECTED:
        if (c->registering) {
            GW_INFO(CLOUD_LOG, "registration session open; waiting for /ext/register");
            c->register_deadline = uv_now(c->loop) + CLOUD_REGISTER_TIMEOUT_MS;
            cloud_request_arm_timer(c);
            break;
        }
        c->attempt = 0;
        c->stats.connects++;
        GW_INFO(CLOUD_LOG, "connected to %s:%d as %s/%s", c->cfg.host, c->cfg.port, c->cfg.product_key,
                c->cfg.device_name);
        subscribe_all(c);
        cloud_set_state(c, GW_CLOUD_CONNECTED);
        if (cloud_is_connected(c))
            cloud_ntp_request(c);
        break;
    case EV_CONNECT_FAILED: {
        const char *reason = connack_reason(ev->code);
        char why[256];
        if (reason)
            snprintf(why, sizeof why, "%s refused by %s:%d: %s (CONNACK %d)",
                     c->registering ? "registration" : "connection", c->cfg.host, c->cfg.port, reason, ev->code);
        else
            snprintf(why, sizeof why, "%s to %s:%d failed: %s (%d)",
                     c->registering ? "registration" : "connection", c->cfg.host, c->cfg.port,
                     ev->text ? ev->text : MQTTAsync_strerror(ev->code), ev->code);
        GW_ERROR(CLOUD_LOG, "%s", why);
        schedule_retry(c, "not connected");
        break;
    }
    case EV_DISCONNECTED:
        if (c->reg_leaving)
            registration_left(c);
        break;
    case EV_LOST:
        if (c->reg_leaving) {
            registration_left(c);
            break;
        }
        GW_WARN(CLOUD_LOG, "connection to %s:%d lost%s%s", c->cfg.host, c->cfg.port, ev->text ? ": " : "",
                ev->text ? ev->text : "");
        cloud_request_fail_all(c, LGW_EIO);
        schedule_retry(c, "connection lost");
        break;
    case EV_MESSAGE:
        c->stats.received++;
        if (c->reg_leaving)
            break;
        if (c->registering) {
            on_register_message(c, ev->text, ev->payload ? ev->payload : "", ev->len);
            break;
        }
        if (!ev->payload)
            break;
        if (cloud_ntp_on_message(c, ev->text, ev->payload, ev->len))
            break;
        cloud_dispatch(c, ev->text, ev->payload, ev->len);
        break;
    case EV_SUBSCRIBED:
        if (ev->code)
            GW_WARN(CLOUD_LOG, "subscription refused: %s (%d)", ev->text ? ev->text : "no detail", ev->code);
        break;
    }
}

static void finish_close(gw_cloud_t *c);

/* Starts a DISCONNECT whose completion finishes the close. */
static bool close_disconnect(gw_cloud_t *c)
{
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 500;
    d.onSuccess = on_disc_done;
    d.onFailure = on_disc_fail;
    d.context = ctx_of(c);
    return MQTTAsync_disconnect(c->client, &d) == MQTTASYNC_SUCCESS;
}

/* While closing: a connect that was in flight ends, or our DISCONNECT completes. */
static void close_on_event(gw_cloud_t *c, cloud_ev_t *ev)
{
    switch (ev->type) {
    case EV_CONNECTED:
        if (!close_disconnect(c))
            finish_close(c);
        break;
    case EV_CONNECT_FAILED:
    case EV_DISCONNECTED:
    case EV_LOST:
        finish_close(c);
        break;
    default:
        break;
    }
}

static void async_cb(uv_async_t *a)
{
    gw_cloud_t *c = a->data;
    pthread_mutex_lock(&c->q_mutex);
    cloud_ev_t *ev = c->q_head;
    c->q_head = c->q_tail = NULL;
    pthread_mutex_unlock(&c->q_mutex);
    while (ev) {
        cloud_ev_t *next = ev->next;
        if (ev->gen == c->gen) {
            if (!c->closing)
                handle_event(c, ev);
            else if (c->close_wait && !c->close_done)
                close_on_event(c, ev);
        }
        free_event(ev);
        ev = next;
    }
}

/* ------------------------------------------------------------ public API */

gw_cloud_t *gw_cloud_new(uv_loop_t *loop, const gw_cloud_config_t *cfg, const gw_cloud_secret_store_t *store)
{
    if (!loop || !cfg || !cfg->host || !cfg->product_key || !cfg->device_name || cfg->port <= 0
        || cfg->port > 65535)
        return NULL;
    bool has_ds = cfg->device_secret && *cfg->device_secret;
    if (!has_ds && !(cfg->product_secret && *cfg->product_secret)) {
        GW_ERROR(CLOUD_LOG, "neither device_secret nor product_secret configured");
        return NULL;
    }
    if (!has_ds && (!store || !store->load || !store->save)) {
        GW_ERROR(CLOUD_LOG, "dynamic registration needs a secret store");
        return NULL;
    }
    if (has_ds && strlen(cfg->device_secret) >= CLOUD_SECRET_MAX)
        return NULL;
    gw_cloud_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (cloud_config_copy(&c->cfg, cfg) != 0) {
        gw_cloud_config_free(&c->cfg);
        free(c);
        return NULL;
    }
    c->loop = loop;
    if (store) {
        c->store = *store;
        c->have_store = store->load && store->save;
    }
    if (has_ds)
        snprintf(c->secret, sizeof c->secret, "%s", cfg->device_secret);
    c->backoff_min_ms = 1000;
    c->backoff_max_ms = 60000;
    c->next_id = 0;
    c->created_ns = uv_hrtime();
    pthread_mutex_init(&c->q_mutex, NULL);
    if (cloud_publisher_start(c) != 0)
        GW_WARN(CLOUD_LOG, "no publisher thread; publishing from the event loop");
    uv_async_init(loop, &c->async, async_cb);
    c->async.data = c;
    uv_timer_init(loop, &c->retry_timer);
    c->retry_timer.data = c;
    uv_timer_init(loop, &c->request_timer);
    c->request_timer.data = c;
    uv_timer_init(loop, &c->self_timer);
    c->self_timer.data = c;
    c->open_handles = 4;
    /* internal subscriptions */
    char t[256];
    snprintf(t, sizeof t, "/ext/ntp/%s/%s/response", c->cfg.product_key, c->cfg.device_name);
    cloud_subscribe_add(c, t);
    snprintf(t, sizeof t, "/ext/error/%s/%s", c->cfg.product_key, c->cfg.device_name);
    cloud_subscribe_add(c, t);
    return c;
}

int gw_cloud_start(gw_cloud_t *c)
{
    if (!c)
        return LGW_EINVAL;
    if (c->started || c->closing)
        return LGW_ESTATE;
    c->started = true;
    if (!c->secret[0]) {
        char buf[CLOUD_SECRET_MAX];
        int rc = c->store.load(c->store.data, c->cfg.product_key, c->cfg.device_name, buf, sizeof buf);
        if (rc == 0 && buf[0]) {
            snprintf(c->secret, sizeof c->secret, "%s", buf);
            GW_INFO(CLOUD_LOG, "using the stored DeviceSecret of %s/%s", c->cfg.product_key, c->cfg.device_name);
        } else if (rc < 0) {
            /* Registering again could burn the one-time secret: refuse, retry later. */
            GW_ERROR(CLOUD_LOG, "cannot read the secret store; not registering");
            memset(buf, 0, sizeof buf);
            c->started = false;
            return LGW_EIO;
        }
        memset(buf, 0, sizeof buf);
    }
    do_connect(c);
    return LGW_OK;
}

int gw_cloud_add_state_listener(gw_cloud_t *c, gw_cloud_state_fn fn, void *data)
{
    if (!c || !fn)
        return LGW_EINVAL;
    cloud_listener_t *l = calloc(1, sizeof *l), **tail = &c->listeners;
    if (!l)
        return LGW_ENOMEM;
    l->fn = fn;
    l->data = data;
    while (*tail)
        tail = &(*tail)->next;
    *tail = l;
    return LGW_OK;
}

gw_cloud_state_t gw_cloud_state(const gw_cloud_t *c)
{
    return c ? c->state : GW_CLOUD_CLOSED;
}

const char *gw_cloud_product_key(const gw_cloud_t *c)
{
    return c->cfg.product_key;
}

const char *gw_cloud_device_name(const gw_cloud_t *c)
{
    return c->cfg.device_name;
}

void gw_cloud_get_stats(const gw_cloud_t *c, gw_cloud_stats_t *out)
{
    *out = c->stats;
    out->acked = atomic_load(&((gw_cloud_t *)c)->acked);
    uint64_t n = 0;
    for (cloud_pending_t *p = c->pending; p; p = p->next)
        n++;
    out->requests_pending = n;
}

void gw_cloud_set_backoff(gw_cloud_t *c, unsigned min_ms, unsigned max_ms)
{
    if (!c || !min_ms || max_ms < min_ms)
        return;
    c->backoff_min_ms = min_ms;
    c->backoff_max_ms = max_ms;
}

static void free_session(gw_cloud_t *c)
{
    cloud_publisher_stop(c);
    cloud_ev_t *ev = c->q_head;
    while (ev) {
        cloud_ev_t *n = ev->next;
        free_event(ev);
        ev = n;
    }
    pthread_mutex_destroy(&c->q_mutex);
    for (cloud_listener_t *l = c->listeners, *n; l; l = n) {
        n = l->next;
        free(l);
    }
    for (cloud_sub_t *s = c->subs, *n; s; s = n) {
        n = s->next;
        free(s->filter);
        free(s);
    }
    for (cloud_ctx_t *x = *ctx_head(c), *n; x; x = n) {
        n = x->next;
        free(x);
    }
    cloud_handlers_free(c);
    gw_cloud_config_free(&c->cfg);
    memset(c->secret, 0, sizeof c->secret);
    gw_cloud_closed_fn done = c->closed_fn;
    void *data = c->closed_data;
    free(c);
    if (done)
        done(data);
}

static void handle_closed(uv_handle_t *h)
{
    gw_cloud_t *c = h->data;
    if (--c->open_handles == 0)
        free_session(c);
}

static void finish_close(gw_cloud_t *c)
{
    if (c->close_done)
        return;
    c->close_done = true;
    uint32_t p50, p99;
    cloud_publisher_latency(c, &p50, &p99);
    if (c->stats.published)
        GW_INFO(CLOUD_LOG, "publish handoff (queued -> accepted by Paho): p50 %u us, p99 %u us; %llu failed", p50, p99,
                (unsigned long long)atomic_load(&c->pub_failed));
    cloud_publisher_stop(c); /* nothing left to send: the client goes next */
    client_destroy(c);
    uv_timer_stop(&c->retry_timer);
    uv_close((uv_handle_t *)&c->async, handle_closed);
    uv_close((uv_handle_t *)&c->retry_timer, handle_closed);
    uv_close((uv_handle_t *)&c->request_timer, handle_closed);
    uv_close((uv_handle_t *)&c->self_timer, handle_closed);
}

static void close_timeout_cb(uv_timer_t *t)
{
    gw_cloud_t *c = t->data;
    GW_WARN(CLOUD_LOG, "MQTT client did not finish in time; closing anyway");
    finish_close(c);
}

void gw_cloud_close(gw_cloud_t *c, gw_cloud_closed_fn done, void *data)
{
    if (!c || c->closing)
        return;
    c->closed_fn = done;
    c->closed_data = data;
    cloud_set_state(c, GW_CLOUD_CLOSED);
    c->closing = true;
    cloud_request_fail_all(c, LGW_ECANCELED);
    uv_timer_stop(&c->retry_timer);
    uv_timer_stop(&c->request_timer);
    uv_timer_stop(&c->self_timer);
    cloud_publisher_flush(c); /* what was published goes out before the DISCONNECT */
    /* Paho leaks when a client is destroyed with a connect or traffic in flight:
     * let the connect finish / send DISCONNECT, and destroy it afterwards. */
    if (c->client && (c->connect_inflight || (MQTTAsync_isConnected(c->client) && close_disconnect(c)))) {
        c->close_wait = true;
        uv_timer_start(&c->retry_timer, close_timeout_cb, 15000, 0);
        return;
    }
    finish_close(c);
}

void cloud_register_timeout(gw_cloud_t *c)
{
    /* already leaving; or a deadline of an earlier session with a new connect
     * in flight (its CONNACK sets a new deadline; destroying now would leak) */
    if (c->reg_leaving || c->connect_inflight)
        return;
    registration_leave(c, "registration timed out");
}
