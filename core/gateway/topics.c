/*
 * Custom topics, raw passthrough and RRPC on custom topics: the runtime
 * (cloud handlers, the lgw_publish() sink, answers to requests). See topics.h.
 */
#include "topics.h"
#include "topics_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "message.h"

#define TP_LOG "topics"
#define TP_RRPC_TIMEOUT_MS 8000 /* the platform's RRPC timeout */
#define TP_RECENT 32
#define TP_MAX_LEVELS 24

/* A request (RRPC, down_raw) waiting for the plugin's answer. */
typedef struct tp_call {
    struct tp_call *next;
    gw_topics_t *t;       /* NULL once t was freed */
    bool raw;             /* down_raw: no bytes = no reply */
    char mid[40];         /* RRPC message id, "" for down_raw */
    char reply_topic[];
} tp_call_t;

struct gw_topics {
    uv_loop_t *loop;
    gw_hub_t *hub;
    gw_cloud_t *cloud;
    gw_subdev_t *subdev;
    char **filters;       /* subscribed so far (gw_cloud_on cannot take them back) */
    size_t nfilters;
    tp_call_t *calls;
    char recent[TP_RECENT][40]; /* RRPC ids answered lately: our own answer echoed back is not a request */
    unsigned recent_pos;
    bool attached;
    uint64_t warned_ms;   /* loop time of the last refusal warning */
    uint64_t unwarned;    /* refusals not logged since (at most one warning per 10 s) */
    gw_topics_stats_t stats;
};

/* ---- uplink ------------------------------------------------------------------------ */

/* Cloud identity of (instance, device_id); device_id NULL = the gateway itself. */
static bool identity(gw_topics_t *t, const char *instance, const char *device_id, const char **pk, const char **dn)
{
    if (!device_id) {
        *pk = gw_cloud_product_key(t->cloud);
        *dn = gw_cloud_device_name(t->cloud);
        return *pk && *dn;
    }
    return t->subdev && gw_subdev_identity(t->subdev, instance, device_id, pk, dn);
}

/* Every check of lgw_publish(); the topic to use into @p topic; @p why says what failed. */
static int check(gw_topics_t *t, const char *instance, const char *device_id, const char *suffix, size_t len,
                 char *topic, size_t cap, const char **why)
{
    const char *pk, *dn;
    *why = NULL;
    if (len > LGW_MESSAGE_MAX)
        return *why = "payload larger than 1 MiB", LGW_ERANGE;
    if (!gw_message_suffix_ok(suffix))
        return *why = "not a topic suffix (\"user/…\" or \"raw\")", LGW_EINVAL;
    if (!identity(t, instance, device_id, &pk, &dn))
        return *why = "the device has no cloud identity yet", LGW_ESTATE;
    bool raw = strcmp(suffix, "raw") == 0;
    if (!gw_topics_conf_allows(pk, suffix, GW_TOPIC_UP))
        return *why = raw ? "raw data is not declared for this product" : "no declared publish class matches", LGW_EINVAL;
    int n = raw ? snprintf(topic, cap, "/sys/%s/%s/thing/model/up_raw", pk, dn) : snprintf(topic, cap, "/%s/%s/%s", pk, dn, suffix);
    if (n < 0 || (size_t)n >= cap || n > LGW_TOPIC_MAX)
        return *why = "topic longer than 128 bytes", LGW_ERANGE;
    if (device_id && !gw_subdev_logged_in(t->subdev, pk, dn))
        return *why = "the sub-device is not logged in", LGW_ESTATE;
    if (gw_cloud_state(t->cloud) != GW_CLOUD_CONNECTED)
        return *why = "the cloud link is down", LGW_ESTATE;
    return LGW_OK;
}

int gw_topics_publish(gw_topics_t *t, const char *instance, const char *device_id, const char *suffix,
                      const void *payload, size_t len)
{
    if (!t || !suffix || (!payload && len))
        return LGW_EINVAL;
    char topic[LGW_TOPIC_MAX + 200];
    const char *why;
    int rc = check(t, instance, device_id, suffix, len, topic, sizeof topic, &why);
    if (rc == LGW_OK && (rc = gw_cloud_publish(t->cloud, topic, payload, len)) != LGW_OK)
        why = "the cloud link refused it";
    if (rc != LGW_OK) {
        t->stats.refused++;
        uint64_t now = uv_now(t->loop);
        if (t->warned_ms && now - t->warned_ms < 10000) { /* a plugin publishing in a loop must not flood the log */
            t->unwarned++;
            return rc;
        }
        char more[64] = "";
        if (t->unwarned)
            snprintf(more, sizeof more, " (and %llu earlier refusals not logged)", (unsigned long long)t->unwarned);
        GW_WARN(TP_LOG, "message of %s/%s on '%s' (%zu bytes) refused: %s%s", instance ? instance : "-",
                device_id ? device_id : "(gateway)", suffix, len, why, more);
        t->warned_ms = now ? now : 1;
        t->unwarned = 0;
        return rc;
    }
    t->stats.published++;
    GW_DEBUG(TP_LOG, "published %zu bytes on %s", len, topic);
    return LGW_OK;
}

static int sink_precheck(void *data, const char *suffix)
{
    (void)data;
    return gw_topics_conf_any_publish(suffix) ? LGW_OK : LGW_EINVAL;
}

static int sink_check(void *data, const char *instance, const char *device_id, const char *suffix, size_t len)
{
    gw_topics_t *t = data;
    char topic[LGW_TOPIC_MAX + 200];
    const char *why;
    int rc = check(t, instance, device_id, suffix, len, topic, sizeof topic, &why);
    if (rc != LGW_OK) {
        t->stats.refused++;
        GW_DEBUG(TP_LOG, "lgw_publish(%s/%s, '%s') refused: %s", instance, device_id ? device_id : "(gateway)", suffix,
                 why);
    }
    return rc;
}

static void sink_publish(void *data, const char *instance, const char *device_id, const char *suffix,
                         const void *payload, size_t len)
{
    gw_topics_publish(data, instance, device_id, suffix, payload, len);
}

static const gw_message_sink_t g_sink = {sink_precheck, sink_check, sink_publish};

/* ---- downlink ---------------------------------------------------------------------- */

static bool recent_has(gw_topics_t *t, const char *mid)
{
    for (int i = 0; i < TP_RECENT; i++)
        if (t->recent[i][0] && strcmp(t->recent[i], mid) == 0)
            return true;
    return false;
}

static void recent_add(gw_topics_t *t, const char *mid)
{
    snprintf(t->recent[t->recent_pos++ % TP_RECENT], sizeof t->recent[0], "%s", mid);
}

static void call_unlink(gw_topics_t *t, tp_call_t *call)
{
    for (tp_call_t **pp = &t->calls; *pp; pp = &(*pp)->next)
        if (*pp == call) {
            *pp = call->next;
            return;
        }
}

/* The plugin answered (or the request timed out / its instance stopped). */
static void on_answer(void *data, int code, const char *message, const void *reply, size_t len)
{
    tp_call_t *call = data;
    gw_topics_t *t = call->t;
    if (t) {
        call_unlink(t, call);
        if (code != LGW_REPLY_SUCCESS) {
            GW_WARN(TP_LOG, "no answer on %s: code %d%s%s", call->reply_topic, code, message ? ", " : "",
                    message ? message : "");
        } else if (call->raw && !reply) {
            GW_DEBUG(TP_LOG, "down_raw handled without reply bytes");
        } else {
            if (call->mid[0])
                recent_add(t, call->mid);
            int rc = gw_cloud_publish(t->cloud, call->reply_topic, reply ? reply : "", reply ? len : 0);
            if (rc == LGW_OK)
                t->stats.replies++;
            else
                GW_WARN(TP_LOG, "cannot send the answer on %s: %s", call->reply_topic, lgw_strerror(rc));
        }
    }
    free(call);
}

/* Which instance/device pk/dn is: the gateway (device NULL) or a sub-device. */
static bool target(gw_topics_t *t, const char *pk, const char *dn, char *gw_inst, size_t cap, const char **instance,
                   const char **device_id)
{
    const char *gpk = gw_cloud_product_key(t->cloud), *gdn = gw_cloud_device_name(t->cloud);
    if (gpk && gdn && strcmp(pk, gpk) == 0 && strcmp(dn, gdn) == 0) {
        if (!gw_topics_conf_gateway_instance(gw_inst, cap))
            return false;
        *instance = gw_inst;
        *device_id = NULL;
        return true;
    }
    return t->subdev && gw_subdev_lookup(t->subdev, pk, dn, instance, device_id);
}

/* Hands one downstream message to its plugin; @p reply_topic NULL = no request. */
static void deliver(gw_topics_t *t, const char *pk, const char *dn, const char *suffix, const gw_cloud_msg_t *msg,
                    const char *reply_topic, const char *mid, bool raw)
{
    char gw_inst[128];
    const char *instance = NULL, *device_id = NULL;
    if (!gw_topics_conf_allows(pk, suffix, GW_TOPIC_DOWN) && !(raw && gw_topics_conf_allows(pk, "raw", GW_TOPIC_DOWN))) {
        t->stats.dropped++;
        GW_WARN(TP_LOG, "%s: no declared subscribe class of product %s matches; dropped", msg->topic, pk);
        return;
    }
    if (!target(t, pk, dn, gw_inst, sizeof gw_inst, &instance, &device_id)) {
        t->stats.dropped++;
        GW_WARN(TP_LOG, "%s: %s/%s is not a device of this gateway (or no topics.gateway_instance); dropped",
                msg->topic, pk, dn);
        return;
    }
    if (!reply_topic) {
        int rc = gw_hub_message(t->hub, instance, device_id, suffix, msg->payload, msg->len, 0, NULL, NULL);
        if (rc == LGW_OK) {
            t->stats.delivered++;
        } else {
            t->stats.dropped++;
            GW_WARN(TP_LOG, "%s: not taken by %s/%s: %s", msg->topic, instance, device_id ? device_id : "(gateway)",
                    lgw_strerror(rc));
        }
        return;
    }
    size_t rl = strlen(reply_topic);
    tp_call_t *call = calloc(1, sizeof *call + rl + 1);
    if (!call) {
        t->stats.dropped++;
        return;
    }
    call->t = t;
    call->raw = raw;
    snprintf(call->mid, sizeof call->mid, "%s", mid ? mid : "");
    memcpy(call->reply_topic, reply_topic, rl + 1);
    call->next = t->calls;
    t->calls = call;
    t->stats.delivered++;
    gw_hub_message(t->hub, instance, device_id, suffix, msg->payload, msg->len, mid ? TP_RRPC_TIMEOUT_MS : 0,
                   on_answer, call);
}

/* Every topic this module subscribed ends up here. */
static void on_cloud(gw_cloud_t *c, const gw_cloud_msg_t *msg, void *data)
{
    (void)c;
    gw_topics_t *t = data;
    char buf[512];
    const char *lv[TP_MAX_LEVELS];
    size_t off[TP_MAX_LEVELS];
    int n = 0;
    if (strlen(msg->topic) >= sizeof buf)
        return;
    strcpy(buf, msg->topic);
    for (char *p = buf, *s; n < TP_MAX_LEVELS; p = s + 1) {
        off[n] = (size_t)(p - buf);
        lv[n++] = p;
        if (!(s = strchr(p, '/')))
            break;
        *s = '\0';
    }
    if (n < 5 || lv[0][0])
        return;
    char reply[600];
    if (strcmp(lv[1], "sys") == 0 && n == 7 && strcmp(lv[4], "thing") == 0 && strcmp(lv[5], "model") == 0) {
        if (strcmp(lv[6], "down_raw") == 0) {
            snprintf(reply, sizeof reply, "%s_reply", msg->topic);
            deliver(t, lv[2], lv[3], "raw", msg, reply, NULL, true);
        } else if (strcmp(lv[6], "up_raw_reply") == 0) {
            deliver(t, lv[2], lv[3], "raw_reply", msg, NULL, NULL, true);
        }
        return;
    }
    if (strcmp(lv[1], "ext") == 0 && strcmp(lv[2], "rrpc") == 0) {
        const char *mid = lv[3];
        int b = lv[4][0] ? 4 : 5; /* "/ext/rrpc/{mid}//{pk}/…" (literal ${topic} with its leading '/') */
        if (!*mid || n < b + 3 || recent_has(t, mid))
            return; /* our own answer coming back, or malformed */
        if (strcmp(lv[b], "sys") == 0) {
            if (n == b + 6 && strcmp(lv[b + 3], "thing") == 0 && strcmp(lv[b + 4], "model") == 0
                && strcmp(lv[b + 5], "down_raw") == 0)
                deliver(t, lv[b + 1], lv[b + 2], "raw", msg, msg->topic, mid, true);
            return;
        }
        if (n >= b + 4 && strcmp(lv[b + 2], "user") == 0)
            deliver(t, lv[b], lv[b + 1], msg->topic + off[b + 2], msg, msg->topic, mid, false);
        return;
    }
    if (strcmp(lv[3], "user") == 0)
        deliver(t, lv[1], lv[2], msg->topic + off[3], msg, NULL, NULL, false);
}

/* ---- subscriptions ----------------------------------------------------------------- */

static void add_filter(void *data, const char *filter)
{
    gw_topics_t *t = data;
    for (size_t i = 0; i < t->nfilters; i++)
        if (strcmp(t->filters[i], filter) == 0)
            return;
    char **f = realloc(t->filters, (t->nfilters + 1) * sizeof *f);
    if (!f)
        return;
    t->filters = f;
    if (!(f[t->nfilters] = strdup(filter)))
        return;
    t->nfilters++;
    int rc = gw_cloud_on(t->cloud, filter, on_cloud, t);
    if (rc != LGW_OK)
        GW_WARN(TP_LOG, "cannot subscribe %s: %s", filter, lgw_strerror(rc));
    else
        GW_DEBUG(TP_LOG, "subscribed %s", filter);
}

static void on_conf_changed(void *data)
{
    gw_topics_conf_filters(add_filter, data);
}

gw_topics_t *gw_topics_new(uv_loop_t *loop, gw_hub_t *hub, gw_cloud_t *cloud, gw_subdev_t *subdev)
{
    if (!loop || !hub || !cloud)
        return NULL;
    gw_topics_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->loop = loop;
    t->hub = hub;
    t->cloud = cloud;
    t->subdev = subdev;
    t->attached = true;
    gw_topics_conf_filters(add_filter, t);
    gw_topics_conf_set_listener(on_conf_changed, t);
    gw_message_set_sink(&g_sink, t);
    return t;
}

void gw_topics_detach(gw_topics_t *t)
{
    if (!t || !t->attached)
        return;
    t->attached = false;
    gw_message_set_sink(NULL, NULL);
    gw_topics_conf_set_listener(NULL, NULL);
}

void gw_topics_free(gw_topics_t *t)
{
    if (!t)
        return;
    gw_topics_detach(t);
    for (tp_call_t *c = t->calls; c; c = c->next)
        c->t = NULL; /* answered later by the hub; freed then */
    for (size_t i = 0; i < t->nfilters; i++)
        free(t->filters[i]);
    free(t->filters);
    free(t);
}

void gw_topics_get_stats(const gw_topics_t *t, gw_topics_stats_t *out)
{
    if (t && out)
        *out = t->stats;
}
