/*
 * gw_cloud downstream dispatch: classifies a topic (property set, services,
 * both RRPC forms, topo/change, disable/enable/delete, /ext/error ...),
 * validates the payload, answers malformed requests with 460, and routes
 * valid ones to the handlers registered with gw_cloud_on().
 */
#include "cloud_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MAX_LEVELS 12

bool gw_cloud_topic_match(const char *filter, const char *topic)
{
    if (!filter || !topic)
        return false;
    const char *f = filter, *t = topic;
    for (;;) {
        const char *fe = strchr(f, '/'), *te = strchr(t, '/');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f);
        size_t tl = te ? (size_t)(te - t) : strlen(t);
        if (fl == 1 && f[0] == '#')
            return true;
        if (!(fl == 1 && f[0] == '+') && (fl != tl || memcmp(f, t, fl) != 0))
            return false;
        if (!fe || !te)
            return !fe && !te;
        f = fe + 1;
        t = te + 1;
    }
}

int gw_cloud_on(gw_cloud_t *c, const char *filter, gw_cloud_handler_fn fn, void *data)
{
    if (!c || !filter || filter[0] != '/' || !fn || strlen(filter) > 200)
        return LGW_EINVAL;
    cloud_handler_t *h = calloc(1, sizeof *h), **tail = &c->handlers;
    if (!h || !(h->filter = strdup(filter))) {
        free(h);
        return LGW_ENOMEM;
    }
    h->fn = fn;
    h->data = data;
    while (*tail)
        tail = &(*tail)->next;
    *tail = h;
    return cloud_subscribe_add(c, filter);
}

void cloud_handlers_free(gw_cloud_t *c)
{
    for (cloud_handler_t *h = c->handlers, *n; h; h = n) {
        n = h->next;
        free(h->filter);
        free(h);
    }
    c->handlers = NULL;
}

int gw_cloud_reply_to(gw_cloud_t *c, const char *reply_topic, const char *id, int code, json_t *data,
                      const char *message)
{
    if (!c || !reply_topic || reply_topic[0] != '/' || !id)
        return LGW_EINVAL;
    json_t *root = json_object();
    json_object_set_new(root, "id", json_string(id));
    json_object_set_new(root, "code", json_integer(code));
    json_object_set(root, "data", data ? data : json_object());
    if (!data)
        json_decref(json_object_get(root, "data"));
    json_object_set_new(root, "message", json_string(message ? message : code == 200 ? "success" : "error"));
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text)
        return LGW_ENOMEM;
    int rc = cloud_send(c, reply_topic, text, strlen(text));
    free(text);
    return rc;
}

/* The parts of a topic that dispatch needs. */
typedef struct topic_info {
    gw_cloud_msg_kind_t kind;
    char buf[256]; /* a copy of the topic cut into levels */
    const char *lv[MAX_LEVELS];
    int n;
    const char *pk, *dn, *service, *rrpc_id;
    char reply[300];
    bool has_reply;
} topic_info_t;

static bool eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static void classify(const char *topic, topic_info_t *ti)
{
    memset(ti, 0, sizeof *ti);
    if (strlen(topic) >= sizeof ti->buf)
        return;
    strcpy(ti->buf, topic);
    for (char *p = ti->buf, *s; ti->n < MAX_LEVELS; p = s + 1) {
        ti->lv[ti->n++] = p;
        if (!(s = strchr(p, '/')))
            break;
        *s = '\0';
    }
    const char **l = ti->lv;
    int n = ti->n;
    if (n < 2 || l[0][0] != '\0')
        return;
    if (eq(l[1], "sys") && n >= 5) {
        ti->pk = l[2];
        ti->dn = l[3];
        if (cloud_request_is_reply_topic(topic))
            return;
        if (n == 7 && eq(l[4], "thing") && eq(l[5], "model"))
            return; /* thing/model/down_raw carries raw bytes, not an Alink request: no 460 for them */
        ti->has_reply = true;
        snprintf(ti->reply, sizeof ti->reply, "%s_reply", topic);
        if (n == 8 && eq(l[4], "thing") && eq(l[5], "service") && eq(l[6], "property"))
            ti->kind = eq(l[7], "set") ? GW_CLOUD_MSG_PROPERTY_SET
                       : eq(l[7], "get") ? GW_CLOUD_MSG_PROPERTY_GET : GW_CLOUD_MSG_OTHER;
        else if (n == 7 && eq(l[4], "thing") && eq(l[5], "service")) {
            ti->kind = GW_CLOUD_MSG_SERVICE;
            ti->service = l[6];
        } else if (n == 7 && eq(l[4], "rrpc") && eq(l[5], "request")) {
            ti->kind = GW_CLOUD_MSG_RRPC_SYS;
            ti->rrpc_id = l[6];
            snprintf(ti->reply, sizeof ti->reply, "/sys/%s/%s/rrpc/response/%s", l[2], l[3], l[6]);
        } else if (n == 7 && eq(l[4], "thing") && eq(l[5], "topo") && eq(l[6], "change"))
            ti->kind = GW_CLOUD_MSG_TOPO_CHANGE;
        else if (n == 8 && eq(l[4], "thing") && eq(l[5], "topo") && eq(l[6], "add") && eq(l[7], "notify"))
            ti->kind = GW_CLOUD_MSG_TOPO_NOTIFY;
        else if (n == 6 && eq(l[4], "thing") && eq(l[5], "disable"))
            ti->kind = GW_CLOUD_MSG_DISABLE;
        else if (n == 6 && eq(l[4], "thing") && eq(l[5], "enable"))
            ti->kind = GW_CLOUD_MSG_ENABLE;
        else if (n == 6 && eq(l[4], "thing") && eq(l[5], "delete"))
            ti->kind = GW_CLOUD_MSG_DELETE;
        return;
    }
    if (n == 10 && eq(l[1], "ext") && eq(l[2], "rrpc") && eq(l[4], "sys") && eq(l[7], "thing")
        && eq(l[8], "service")) {
        ti->kind = GW_CLOUD_MSG_RRPC_EXT;
        ti->rrpc_id = l[3];
        ti->pk = l[5];
        ti->dn = l[6];
        ti->service = l[9];
        ti->has_reply = true;
        snprintf(ti->reply, sizeof ti->reply, "%s", topic);
        return;
    }
    if (n == 5 && eq(l[1], "ext") && eq(l[2], "error")) {
        ti->kind = GW_CLOUD_MSG_EXT_ERROR;
        ti->pk = l[3];
        ti->dn = l[4];
    }
}

/* Kind-specific shape of `params`; NULL when fine, else what is wrong. */
static const char *check_params(gw_cloud_msg_kind_t kind, json_t *params)
{
    switch (kind) {
    case GW_CLOUD_MSG_PROPERTY_SET:
        return json_is_object(params) ? NULL : "params must be an object";
    case GW_CLOUD_MSG_PROPERTY_GET:
        return json_is_array(params) ? NULL : "params must be an array of identifiers";
    case GW_CLOUD_MSG_SERVICE:
    case GW_CLOUD_MSG_RRPC_EXT:
    case GW_CLOUD_MSG_RRPC_SYS:
        return (!params || json_is_object(params)) ? NULL : "params must be an object";
    case GW_CLOUD_MSG_TOPO_CHANGE:
        if (!json_is_object(params) || !json_is_integer(json_object_get(params, "status"))
            || !json_is_array(json_object_get(params, "subList")))
            return "params must be {status:int, subList:[...]}";
        return NULL;
    case GW_CLOUD_MSG_TOPO_NOTIFY:
        return json_is_array(params) ? NULL : "params must be an array";
    default:
        return NULL;
    }
}

void cloud_dispatch(gw_cloud_t *c, const char *topic, const char *payload, size_t len)
{
    if (cloud_request_is_reply_topic(topic) && cloud_request_on_reply(c, topic, payload, len))
        return;
    topic_info_t ti;
    classify(topic, &ti);
    json_error_t jerr;
    json_t *root = json_loadb(payload, len, 0, &jerr);
    if (root && !json_is_object(root)) {
        json_decref(root);
        root = NULL;
    }
    char id[16] = "";
    bool id_ok = root && cloud_json_id_string(json_object_get(root, "id"), id, sizeof id);

    /* Our own answer on /ext/rrpc/... comes back on a plain broker: not a request. */
    if (ti.kind == GW_CLOUD_MSG_RRPC_EXT && root && json_object_get(root, "code")
        && !json_object_get(root, "params") && !json_object_get(root, "method")) {
        json_decref(root);
        return;
    }

    gw_cloud_msg_t m = {
        .kind = ti.kind,
        .topic = topic,
        .payload = payload,
        .len = len,
        .root = root,
        .id = id_ok ? id : NULL,
        .method = json_string_value(json_object_get(root, "method")),
        .params = json_object_get(root, "params"),
        .product_key = ti.pk,
        .device_name = ti.dn,
        .service = ti.service,
        .rrpc_id = ti.rrpc_id,
        .reply_topic = ti.has_reply ? ti.reply : NULL,
    };

    if (ti.has_reply) {
        const char *why = !root ? "payload is not a JSON object" : !id_ok ? "missing or invalid id"
                                                                          : check_params(ti.kind, m.params);
        if (why) {
            c->stats.malformed++;
            GW_WARN(CLOUD_LOG, "malformed message on %s (%zu bytes): %s; answering 460", topic, len, why);
            gw_cloud_reply_to(c, ti.reply, id_ok ? id : "0", 460, NULL, "request parameter error");
            json_decref(root);
            return;
        }
    }

    bool is_reply = cloud_request_is_reply_topic(topic);
    for (cloud_handler_t *h = c->handlers; h; h = h->next) {
        /* unmatched replies only go to handlers that asked for reply topics explicitly */
        if (is_reply && !strstr(h->filter, "_reply"))
            continue;
        if (gw_cloud_topic_match(h->filter, topic)) {
            h->fn(c, &m, h->data);
            json_decref(root);
            return;
        }
    }
    if (ti.has_reply) {
        GW_WARN(CLOUD_LOG, "no handler for %s; answering 400", topic);
        gw_cloud_reply_to(c, ti.reply, id, 400, NULL, "not supported by this gateway");
    } else if (ti.kind == GW_CLOUD_MSG_EXT_ERROR) {
        json_t *code = json_object_get(root, "code");
        const char *msg = json_string_value(json_object_get(root, "message"));
        GW_WARN(CLOUD_LOG, "platform error on %s: code %lld%s%s", topic,
                json_is_integer(code) ? (long long)json_integer_value(code) : -1LL, msg ? ", " : "", msg ? msg : "");
    } else {
        GW_DEBUG(CLOUD_LOG, "unhandled message on %s (%zu bytes)", topic, len);
    }
    json_decref(root);
}
