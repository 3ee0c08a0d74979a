/*
 * Uplink, second half: sending. The queue (pack builder) is flushed by the
 * one timer of the data layer and when it holds flush_values values:
 *   - values of several sub-devices → thing/event/property/pack/post on the
 *     gateway's topic, rendered straight to text by gw_tsl_pack_flush()
 *     (≤ 20 sub-devices, ≤ 200 properties per message);
 *   - values of one sub-device → thing/event/property/post on its own topic;
 *   - events → thing/event/{id}/post on the sub-device's topic.
 * Every post has sys.ack 1 and an id of our own (MQTT QoS 0, see cloud_qos_for():
 * delivery is proven by the reply, not by a PUBACK); its reply is
 * matched here (data_inflight_t) and its code checked. A post that fails
 * (link lost, no reply within ack_timeout_ms, code 520 or another retriable
 * code) gives its values back to the hold (journal or memory, uplink.c);
 * 520 also tells the lifecycle (gw_subdev_session_lost) so it logs the device
 * in again, after which the held values are resent. Codes that cannot
 * succeed on a resend (6401 no topology, TSL codes …) drop the values of the
 * devices concerned (counted as rejected).
 * Every params stays within gw_tsl_pack_max_bytes() (GW_TSL_PARAMS_MAX: the
 * 1 MiB payload cap minus the envelope): the pack builder splits by bytes;
 * a value or event that cannot fit alone is dropped and counted as oversize.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

#define TOPIC_MAX 320

void data_inflight_free(data_inflight_t *f)
{
    if (!f)
        return;
    free(f->topic_reply);
    gw_cloud_buf_release(f->msg);
    free(f->event_id);
    free(f->seqs);
    free(f);
}

/* Number of property/event entries in a params text: each carries one "time". */
static size_t count_values(const char *params)
{
    size_t n = 0;
    for (const char *p = params; (p = strstr(p, "\"time\":")); p += 7)
        n++;
    return n;
}

data_inflight_t *data_send_request(gw_data_t *d, const char *topic, const char *method, const char *params,
                                   size_t len)
{
    char id[16];
    data_next_id(d, id);
    /* The envelope is built once, in a buffer the publisher's queue shares (no copy): the post
     * keeps it until its reply, for its params if the values must be requeued. */
    static const char p1[] = "{\"id\":\"", p2[] = "\",\"version\":\"1.0\",\"params\":",
                      p3[] = ",\"sys\":{\"ack\":1},\"method\":\"", p4[] = "\"}";
    size_t il = strlen(id), ml = strlen(method);
    size_t n = sizeof p1 + il + sizeof p2 + len + sizeof p3 + ml + sizeof p4; /* ≥ the text */
    data_inflight_t *f = calloc(1, sizeof *f);
    gw_cloud_buf_t *msg = f ? gw_cloud_buf_new(n) : NULL;
    if (!msg) {
        free(f);
        return NULL;
    }
    char *o = gw_cloud_buf_data(msg);
#define PUT(s, l) (memcpy(o, s, l), o += (l))
    PUT(p1, sizeof p1 - 1);
    PUT(id, il);
    PUT(p2, sizeof p2 - 1);
    const char *params_at = o;
    PUT(params, len);
    PUT(p3, sizeof p3 - 1);
    PUT(method, ml);
    PUT(p4, sizeof p4 - 1);
#undef PUT
    int rc = gw_cloud_publish_buf(d->deps.cloud, topic, msg, (size_t)(o - gw_cloud_buf_data(msg)));
    if (rc != LGW_OK) {
        gw_cloud_buf_release(msg);
        free(f);
        return NULL;
    }
    f->msg = msg;
    f->params = params_at;
    f->params_len = len;
    snprintf(f->id, sizeof f->id, "%s", id);
    if (asprintf(&f->topic_reply, "%s_reply", topic) < 0)
        f->topic_reply = NULL;
    f->sent_ms = uv_now(d->deps.loop);
    gw_list_init(&f->link);
    gw_list_push_back(&d->inflight, &f->link);
    d->n_inflight++;
    d->st.messages++;
    return f;
}

/* ---- giving values back ----------------------------------------------------------- */

static bool retriable(int code)
{
    return code < 0 || code == 520 || code == 429 || code == 500 || code == 503 || code == 6760 || code == 400;
}

/* The code the reply's data lists for pk/dn (pack/post failures name devices), or 0. */
static int listed_code(const json_t *list, const char *pk, const char *dn)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *p = json_string_value(json_object_get(e, "productKey"));
        const char *n = json_string_value(json_object_get(e, "deviceName"));
        if (p && n && !strcmp(p, pk) && !strcmp(n, dn)) {
            json_t *c = json_object_get(e, "code");
            return json_is_integer(c) ? (int)json_integer_value(c) : -1;
        }
    }
    return 0;
}

/* One device's failed properties: hold them or drop them by @p code. */
static void fail_block(gw_data_t *d, const char *pk, const char *dn, json_t *props, int code)
{
    data_dev_t *dev = data_dev_by_pkdn(d, pk, dn);
    size_t n = json_object_size(props);
    if (!dev || !retriable(code)) {
        d->st.rejected += n;
        if (code > 0)
            GW_WARN(DATA_LOG, "%s/%s: %zu value(s) refused by the platform with code %d (dropped)", pk, dn, n, code);
        return;
    }
    if (code == 520)
        gw_subdev_session_lost(d->deps.subdev, pk, dn);
    dev->retry_at = uv_now(d->deps.loop) + 1000;
    const char *id;
    json_t *e;
    json_object_foreach(props, id, e) {
        json_t *t = json_object_get(e, "time");
        data_hold(d, dev, false, id, json_object_get(e, "value"), json_is_integer(t) ? json_integer_value(t) : 0);
    }
}

/*
 * Gives the values of failed post @p f back (or drops them), by reply @p code
 * (-1: no reply) and the device list in the reply's @p data.
 */
static void fail_post(gw_data_t *d, data_inflight_t *f, int code, const json_t *data)
{
    if (f->event_id) {
        data_dev_t *dev = data_dev_by_pkdn(d, f->pk, f->dn);
        if (!dev || !retriable(code)) {
            d->st.events_failed++;
            GW_WARN(DATA_LOG, "%s/%s: event %s refused by the platform with code %d (dropped)", f->pk, f->dn,
                    f->event_id, code);
            return;
        }
        if (code == 520)
            gw_subdev_session_lost(d->deps.subdev, f->pk, f->dn);
        json_t *p = json_loadb(f->params, f->params_len, 0, NULL);
        json_t *t = json_object_get(p, "time");
        data_hold(d, dev, true, f->event_id, json_object_get(p, "value"), json_is_integer(t) ? json_integer_value(t) : 0);
        json_decref(p);
        return;
    }
    json_t *p = json_loadb(f->params, f->params_len, 0, NULL);
    if (!p) {
        d->st.rejected += f->n_values;
        return;
    }
    if (!f->pack) {
        fail_block(d, f->pk, f->dn, p, code);
    } else {
        size_t i;
        json_t *sub;
        json_array_foreach(json_object_get(p, "subDevices"), i, sub) {
            json_t *ident = json_object_get(sub, "identity");
            const char *pk = json_string_value(json_object_get(ident, "productKey"));
            const char *dn = json_string_value(json_object_get(ident, "deviceName"));
            if (!pk || !dn)
                continue;
            int c = listed_code(data, pk, dn);
            /* all-or-nothing: devices the reply does not blame are simply resent */
            fail_block(d, pk, dn, json_object_get(sub, "properties"), c ? c : json_is_array(data) ? -1 : code);
        }
    }
    json_decref(p);
}

/* ---- oversize values ------------------------------------------------------------------- */

#define OVERSIZE_LOG_MS 60000

void data_oversize(gw_data_t *d, const char *pk, const char *dn, const char *id, bool event, size_t bytes)
{
    d->st.oversize++;
    uint64_t now = uv_now(d->deps.loop);
    if (d->st.oversize > 1 && now - d->oversize_log_at < OVERSIZE_LOG_MS)
        return;
    d->oversize_log_at = now;
    GW_WARN(DATA_LOG,
            "%s/%s: %s '%s' dropped: %zu bytes alone, over the %zu-byte message budget (1 MiB payload cap), so no "
            "post can carry it (%" PRIu64 " dropped as oversize so far; logged at most once a minute)",
            pk ? pk : d->gw_pk, dn ? dn : d->gw_dn, event ? "event" : "property", id, bytes,
            gw_tsl_pack_max_bytes(d->pack), d->st.oversize);
}

/* The pack builder's drop callback. */
static void on_pack_oversize(void *ctx, const char *pk, const char *dn, const char *id, bool event, size_t bytes)
{
    data_oversize(ctx, pk, dn, id, event, bytes);
}

void data_send_init(gw_data_t *d)
{
    gw_tsl_pack_set_drop_cb(d->pack, on_pack_oversize, d);
}

/* ---- flushing ------------------------------------------------------------------------ */

static void emit_pack(void *ctx, const char *params, size_t len)
{
    gw_data_t *d = ctx;
    char topic[TOPIC_MAX];
    snprintf(topic, sizeof topic, "/sys/%s/%s/thing/event/property/pack/post", d->gw_pk, d->gw_dn);
    data_inflight_t *f = d->connected ? data_send_request(d, topic, "thing.event.property.pack.post", params, len) : NULL;
    if (f) {
        f->pack = true;
        f->wal_gen = data_wal_ref(d);
        f->n_values = count_values(params);
        d->st.sent += f->n_values;
        return;
    }
    data_inflight_t tmp = {.pack = true, .params = params, .params_len = len};
    fail_post(d, &tmp, -1, NULL);
}

/*
 * One device's queue → property/post on its own topic (tree path; one device
 * means few values). Its params (the device's "properties" object) are part
 * of a pack/post params the builder kept within the byte budget, so they are
 * within it too; oversize values were dropped by the builder (on_pack_oversize).
 */
static void flush_single(gw_data_t *d)
{
    json_t *msgs = gw_tsl_pack_take(d->pack);
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        json_t *sub = json_array_get(json_object_get(m, "subDevices"), 0);
        json_t *ident = json_object_get(sub, "identity");
        const char *pk = json_string_value(json_object_get(ident, "productKey"));
        const char *dn = json_string_value(json_object_get(ident, "deviceName"));
        json_t *props = json_object_get(sub, "properties");
        if (!pk || !dn || !props)
            continue;
        char *text = json_dumps(props, JSON_COMPACT);
        if (!text)
            continue;
        char topic[TOPIC_MAX];
        snprintf(topic, sizeof topic, "/sys/%s/%s/thing/event/property/post", pk, dn);
        data_inflight_t *f =
            d->connected ? data_send_request(d, topic, "thing.event.property.post", text, strlen(text)) : NULL;
        if (f) {
            snprintf(f->pk, sizeof f->pk, "%s", pk);
            snprintf(f->dn, sizeof f->dn, "%s", dn);
            f->wal_gen = data_wal_ref(d);
            f->n_values = json_object_size(props);
            d->st.sent += f->n_values;
        } else {
            fail_block(d, pk, dn, props, -1);
        }
        free(text);
    }
    json_decref(msgs);
}

void data_send_flush(gw_data_t *d)
{
    if (!d->pack_values && !gw_tsl_pack_pending(d->pack))
        return;
    /* Backpressure: with max_inflight posts unanswered, values wait in the queue; once
     * the queue holds 4 × flush_values they go to the hold (the journal) instead. */
    bool full = d->connected && d->n_inflight >= d->opt.max_inflight;
    if (full && d->pack_values < 4 * (size_t)d->opt.flush_values)
        return;
    if (full) {
        bool was = d->connected;
        d->connected = false; /* routes every message of this flush to the hold */
        gw_tsl_pack_flush(d->pack, emit_pack, d);
        d->connected = was;
        d->pack_values = 0;
        return;
    }
    if (gw_tsl_pack_devices(d->pack) == 1) {
        flush_single(d);
    } else if (gw_tsl_pack_flush(d->pack, emit_pack, d) < 0) {
        GW_WARN(DATA_LOG, "out of memory rendering pack/post; kept for the next flush");
        return;
    }
    d->pack_values = 0;
}

void data_send_event(gw_data_t *d, data_dev_t *dev, const char *id, json_t *value, int64_t time_ms)
{
    json_t *params = json_pack("{sOsI}", "value", value, "time", (json_int_t)time_ms);
    char *text = params ? json_dumps(params, JSON_COMPACT) : NULL;
    json_decref(params);
    size_t len = text ? strlen(text) : 0;
    if (len > gw_tsl_pack_max_bytes(d->pack)) { /* no post can carry it, now or after a resend: not held */
        free(text);
        data_oversize(d, dev->pk, dev->dn, id, true, len);
        return;
    }
    data_inflight_t *f = NULL;
    if (text && d->connected) {
        char topic[TOPIC_MAX], method[160];
        snprintf(topic, sizeof topic, "/sys/%s/%s/thing/event/%s/post", dev->pk, dev->dn, id);
        snprintf(method, sizeof method, "thing.event.%s.post", id);
        f = data_send_request(d, topic, method, text, len);
    }
    free(text);
    if (!f) {
        data_hold(d, dev, true, id, value, time_ms);
        return;
    }
    f->event_id = strdup(id);
    f->wal_gen = data_wal_ref(d);
    snprintf(f->pk, sizeof f->pk, "%s", dev->pk);
    snprintf(f->dn, sizeof f->dn, "%s", dev->dn);
    d->st.events_sent++;
}

/* ---- replies ------------------------------------------------------------------------ */

static data_inflight_t *find_inflight(gw_data_t *d, const char *id, const char *topic)
{
    gw_list_foreach_safe(n, tmp, &d->inflight) {
        data_inflight_t *f = gw_container_of(n, data_inflight_t, link);
        if (!strcmp(f->id, id) && f->topic_reply && !strcmp(f->topic_reply, topic))
            return f;
    }
    return NULL;
}

static void complete(gw_data_t *d, data_inflight_t *f, int code, const json_t *data)
{
    gw_list_remove(&f->link);
    d->n_inflight--;
    if (f->history)
        data_journal_on_reply(d, f, code);
    else if (code == 200) {
        if (f->event_id)
            d->st.events_acked++;
        else
            d->st.acked += f->n_values;
    } else {
        fail_post(d, f, code, data);
    }
    if (f->wal_gen) /* after fail_post: what it held is in jpending now */
        data_wal_unref(d, f->wal_gen, code != 200);
    data_inflight_free(f);
}

void data_send_on_reply(gw_cloud_t *c, const gw_cloud_msg_t *m, void *data)
{
    (void)c;
    gw_data_t *d = ((data_ref_t *)data)->d;
    if (!d || !m->id || !m->root)
        return;
    data_inflight_t *f = find_inflight(d, m->id, m->topic);
    if (!f)
        return;
    json_t *code = json_object_get(m->root, "code");
    complete(d, f, json_is_integer(code) ? (int)json_integer_value(code) : 400, json_object_get(m->root, "data"));
}

void data_send_expire(gw_data_t *d, bool all)
{
    uint64_t now = uv_now(d->deps.loop);
    gw_list_foreach_safe(n, tmp, &d->inflight) {
        data_inflight_t *f = gw_container_of(n, data_inflight_t, link);
        if (!all && now - f->sent_ms < d->opt.ack_timeout_ms)
            break;
        if (!all)
            GW_WARN(DATA_LOG, "no reply to post %s within %u ms; values kept for a resend", f->id,
                    d->opt.ack_timeout_ms);
        complete(d, f, -1, NULL);
    }
}

/*
 * The sub-device's session ended (e.g. the platform answered 520 on
 * /ext/error, handled by the lifecycle): what we posted on its own topics
 * was dropped and gets no reply, so give it back now instead of waiting for
 * the ack timeout; it is resent after the next login.
 */
void data_send_fail_device(gw_data_t *d, const char *pk, const char *dn)
{
    gw_list_foreach_safe(n, tmp, &d->inflight) {
        data_inflight_t *f = gw_container_of(n, data_inflight_t, link);
        if (!f->pack && !f->history && !strcmp(f->pk, pk) && !strcmp(f->dn, dn))
            complete(d, f, -1, NULL);
    }
}
