/*
 * gw_cloud request layer: Alink ids, the table of requests waiting for a
 * reply, reply matching by (reply topic, id), and timeouts.
 */
#include "cloud_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

json_t *cloud_json_id_string(json_t *v, char *buf, size_t cap)
{
    /* Alink ids are decimal 0..4294967295, as a string (most SDKs) or a number (OTA). */
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > 4294967295LL)
            return NULL;
        snprintf(buf, cap, "%lld", (long long)n);
        return v;
    }
    const char *s = json_string_value(v);
    size_t len = s ? strlen(s) : 0;
    if (!s || !len || len > 10 || len >= cap)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return NULL;
    if (strtoull(s, NULL, 10) > 4294967295ULL)
        return NULL;
    memcpy(buf, s, len + 1);
    return v;
}

bool cloud_request_is_reply_topic(const char *topic)
{
    size_t n = strlen(topic);
    return n > 6 && strcmp(topic + n - 6, "_reply") == 0;
}

/* "/sys/pk/dn/x/y" -> "/sys/+/+/x/y_reply"; same for /ext/session/pk/dn/...; others exact + "_reply". */
static int reply_filter(const char *topic, char *out, size_t cap)
{
    const char *rest = NULL;
    const char *prefix = NULL;
    if (strncmp(topic, "/sys/", 5) == 0) {
        prefix = "/sys/";
        rest = topic + 5;
    } else if (strncmp(topic, "/ext/session/", 13) == 0) {
        prefix = "/ext/session/";
        rest = topic + 13;
    }
    int n;
    if (rest) {
        const char *s1 = strchr(rest, '/');
        const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s2)
            return -1;
        n = snprintf(out, cap, "%s+/+%s_reply", prefix, s2);
    } else {
        n = snprintf(out, cap, "%s_reply", topic);
    }
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static bool topic_ok(const char *topic)
{
    return topic && topic[0] == '/' && strlen(topic) <= 200 && !strpbrk(topic, "+#");
}

void cloud_request_arm_timer(gw_cloud_t *c)
{
    if (c->closing)
        return;
    uint64_t first = 0;
    for (cloud_pending_t *p = c->pending; p; p = p->next)
        if (!first || p->deadline < first)
            first = p->deadline;
    if (c->register_deadline && (!first || c->register_deadline < first))
        first = c->register_deadline;
    if (!first) {
        uv_timer_stop(&c->request_timer);
        return;
    }
    uint64_t now = uv_now(c->loop);
    uv_timer_start(&c->request_timer, cloud_request_timer_cb, first > now ? first - now : 0, 0);
}

static void pending_free(cloud_pending_t *p)
{
    free(p->reply_topic);
    free(p);
}

void cloud_request_timer_cb(uv_timer_t *t)
{
    gw_cloud_t *c = t->data;
    uint64_t now = uv_now(c->loop);
    for (;;) {
        cloud_pending_t **pp = &c->pending, *hit = NULL;
        for (; *pp; pp = &(*pp)->next) {
            if ((*pp)->deadline <= now) {
                hit = *pp;
                *pp = hit->next;
                break;
            }
        }
        if (!hit)
            break;
        c->stats.request_timeouts++;
        GW_WARN(CLOUD_LOG, "request %s timed out waiting for %s", hit->id, hit->reply_topic);
        hit->fn(c, LGW_ETIMEDOUT, NULL, hit->data);
        pending_free(hit);
        if (c->closing)
            return;
    }
    if (c->register_deadline && c->register_deadline <= now && c->registering) {
        c->register_deadline = 0;
        GW_WARN(CLOUD_LOG, "no /ext/register message within %d s", CLOUD_REGISTER_TIMEOUT_MS / 1000);
        cloud_register_timeout(c);
        if (c->closing)
            return;
    }
    cloud_request_arm_timer(c);
}

void cloud_request_fail_all(gw_cloud_t *c, int status)
{
    cloud_pending_t *p = c->pending;
    c->pending = NULL;
    while (p) {
        cloud_pending_t *n = p->next;
        p->fn(c, status, NULL, p->data);
        pending_free(p);
        p = n;
    }
    if (!c->closing)
        cloud_request_arm_timer(c);
}

int gw_cloud_request(gw_cloud_t *c, const char *topic, const char *method, json_t *params, unsigned timeout_ms,
                     gw_cloud_reply_fn fn, void *data, char *id_out)
{
    if (!c || !topic_ok(topic) || (params && !json_is_object(params) && !json_is_array(params)))
        return LGW_EINVAL;
    if (!cloud_is_connected(c))
        return LGW_ESTATE;
    char id[12];
    if (++c->next_id == 0)
        c->next_id = 1;
    snprintf(id, sizeof id, "%u", c->next_id);

    cloud_pending_t *p = NULL;
    if (fn) {
        char filter[256];
        if (reply_filter(topic, filter, sizeof filter) != 0)
            return LGW_EINVAL;
        int rc = cloud_subscribe_add(c, filter);
        if (rc != LGW_OK)
            return rc;
        p = calloc(1, sizeof *p);
        if (!p || asprintf(&p->reply_topic, "%s_reply", topic) < 0) {
            free(p);
            return LGW_ENOMEM;
        }
        memcpy(p->id, id, sizeof p->id);
        p->fn = fn;
        p->data = data;
        p->deadline = uv_now(c->loop) + (timeout_ms ? timeout_ms : (unsigned)c->cfg.request_timeout_ms);
    }

    json_t *root = json_pack("{s:s, s:s, s:O, s:{s:i}}", "id", id, "version", "1.0", "params",
                             params ? params : json_object(), "sys", "ack", fn ? 1 : 0);
    if (root && !params) {
        /* json_pack's O took a reference to the fresh object: drop ours */
        json_decref(json_object_get(root, "params"));
    }
    if (root && method)
        json_object_set_new(root, "method", json_string(method));
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text) {
        if (p)
            pending_free(p);
        return LGW_ENOMEM;
    }
    int rc = cloud_send(c, topic, text, strlen(text));
    free(text);
    if (rc != LGW_OK) {
        if (p)
            pending_free(p);
        return rc;
    }
    if (p) {
        p->next = c->pending;
        c->pending = p;
        cloud_request_arm_timer(c);
    }
    if (id_out)
        memcpy(id_out, id, strlen(id) + 1);
    return LGW_OK;
}

bool cloud_request_on_reply(gw_cloud_t *c, const char *topic, const char *payload, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(payload, len, 0, &jerr);
    char id[16];
    if (!json_is_object(root) || !cloud_json_id_string(json_object_get(root, "id"), id, sizeof id)) {
        json_decref(root);
        return false;
    }
    cloud_pending_t **pp = &c->pending, *hit = NULL;
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0 && strcmp((*pp)->reply_topic, topic) == 0) {
            hit = *pp;
            *pp = hit->next;
            break;
        }
    }
    if (!hit) {
        json_decref(root);
        return false;
    }
    json_t *code = json_object_get(root, "code");
    if (json_is_integer(code)) {
        gw_cloud_reply_t r = {
            .id = id,
            .code = (int)json_integer_value(code),
            .message = json_string_value(json_object_get(root, "message")),
            .data = json_object_get(root, "data"),
        };
        if (r.code != 200)
            GW_WARN(CLOUD_LOG, "request %s on %.*s failed: code %d%s%s", id, (int)(strlen(topic) - 6), topic, r.code,
                    r.message ? ", " : "", r.message ? r.message : "");
        hit->fn(c, LGW_OK, &r, hit->data);
    } else {
        c->stats.malformed++;
        GW_WARN(CLOUD_LOG, "reply %s on %s has no integer code", id, topic);
        hit->fn(c, LGW_EINVAL, NULL, hit->data);
    }
    pending_free(hit);
    json_decref(root);
    if (!c->closing)
        cloud_request_arm_timer(c);
    return true;
}
