/*
 * The data layer object (data.h): creation and teardown, the per-device
 * records, the hub consumer, the cloud state and sub-device session
 * listeners, and the one timer that drives flushing, reply timeouts, RRPC
 * deadlines, resends and the journal drain.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

void gw_data_options_init(gw_data_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->flush_ms = 50;
    o->flush_values = 4000;
    o->ack_timeout_ms = 10000;
    o->max_inflight = 256;
    o->rrpc_timeout_ms = 7500;
    o->invalid_log_s = 60;
    o->held_max = 1000;
    o->journal = true;
    o->drain_rate = 1000;
    o->wal = true;
}

/* ---- devices ------------------------------------------------------------------------ */

static void dev_key(char *buf, size_t cap, const char *instance, const char *device_id)
{
    snprintf(buf, cap, "%s\x1f%s", instance, device_id);
}

/*
 * The hub device's consumer slot (hub.h: free for the single cloud consumer,
 * which is us) caches its record, saving a key build and a map lookup per
 * report. It is set here, and cleared whenever the record is freed while the
 * hub device lives: device_gone / device_added, and gw_data_close(). Devices
 * of a stopped instance are freed by the hub with their slot.
 */
static void slot_set(const gw_hub_device_t *hd, data_dev_t *dev)
{
    ((gw_hub_device_t *)hd)->consumer_data = dev;
}

static bool slot_clear(const gw_hub_device_t *hd, void *unused)
{
    (void)unused;
    slot_set(hd, NULL);
    return true;
}

data_dev_t *data_dev_get(gw_data_t *d, const gw_hub_device_t *hd, bool create)
{
    if (hd->consumer_data)
        return hd->consumer_data;
    char key[2 * GW_STORE_TEXT_MAX + 2];
    dev_key(key, sizeof key, hd->instance, hd->device_id);
    data_dev_t *dev = gw_strmap_get(&d->devs, key);
    if (dev) {
        slot_set(hd, dev);
        return dev;
    }
    if (!create)
        return NULL;
    dev = calloc(1, sizeof *dev);
    if (!dev)
        return NULL;
    dev->key = strdup(key);
    dev->instance = strdup(hd->instance);
    dev->device_id = strdup(hd->device_id);
    dev->bad_log = json_object();
    dev->last_full_ms = -1;
    gw_list_init(&dev->held_link);
    if (!dev->key || !dev->instance || !dev->device_id || !dev->bad_log ||
        gw_strmap_put(&d->devs, dev->key, dev) != 0) {
        free(dev->key);
        free(dev->instance);
        free(dev->device_id);
        json_decref(dev->bad_log);
        free(dev);
        return NULL;
    }
    slot_set(hd, dev);
    return dev;
}

gw_tsl_last_t *data_dev_last(data_dev_t *dev, const gw_tsl_model_map_t *mm)
{
    if (dev->last && dev->last_serial == mm->serial && dev->n_last == mm->n_points)
        return dev->last;
    data_dev_last_clear(dev);
    free(dev->last);
    dev->last = mm->n_points ? calloc(mm->n_points, sizeof *dev->last) : NULL;
    dev->n_last = dev->last ? mm->n_points : 0;
    dev->last_serial = dev->last ? mm->serial : 0;
    return dev->last;
}

void data_dev_last_clear(data_dev_t *dev)
{
    for (size_t i = 0; i < dev->n_last; i++)
        gw_tsl_last_clear(&dev->last[i]);
}

data_dev_t *data_dev_by_pkdn(gw_data_t *d, const char *pk, const char *dn)
{
    char key[2 * GW_STORE_NAME_MAX + 2];
    snprintf(key, sizeof key, "%s/%s", pk, dn);
    return gw_strmap_get(&d->by_pkdn, key);
}

bool data_dev_identity(gw_data_t *d, data_dev_t *dev)
{
    if (dev->has_identity)
        return true;
    const char *pk, *dn;
    /* A device still registering has its ProductKey and DeviceName already: its values are
     * accepted (logged, journaled) and wait like those of any device not logged in yet. */
    if ((!gw_subdev_identity(d->deps.subdev, dev->instance, dev->device_id, &pk, &dn) &&
         !gw_subdev_identity_pending(d->deps.subdev, dev->instance, dev->device_id, &pk, &dn)) ||
        !pk || !dn ||
        strlen(pk) >= sizeof dev->pk || strlen(dn) >= sizeof dev->dn)
        return false;
    snprintf(dev->pk, sizeof dev->pk, "%s", pk);
    snprintf(dev->dn, sizeof dev->dn, "%s", dn);
    if (asprintf(&dev->pkdn, "%s/%s", pk, dn) < 0) {
        dev->pkdn = NULL;
        return false;
    }
    data_dev_t *old = gw_strmap_get(&d->by_pkdn, dev->pkdn);
    if (old && old != dev) {
        GW_WARN(DATA_LOG, "%s/%s and %s/%s share the cloud identity %s", old->instance, old->device_id, dev->instance,
                dev->device_id, dev->pkdn);
        old->shared_identity = dev->shared_identity = true;
    }
    gw_strmap_put(&d->by_pkdn, dev->pkdn, dev);
    dev->has_identity = true;
    /* from now on on_session() keeps it current */
    dev->logged_in = gw_subdev_logged_in(d->deps.subdev, dev->pk, dev->dn);
    return true;
}

static void dev_free(gw_data_t *d, data_dev_t *dev)
{
    if (dev->pkdn && gw_strmap_get(&d->by_pkdn, dev->pkdn) == dev)
        gw_strmap_remove(&d->by_pkdn, dev->pkdn);
    gw_list_remove(&dev->held_link);
    data_dev_last_clear(dev);
    free(dev->last);
    json_decref(dev->bad_log);
    json_decref(dev->held_props);
    json_decref(dev->held_events);
    free(dev->pkdn);
    free(dev->key);
    free(dev->instance);
    free(dev->device_id);
    free(dev);
}

const char *data_next_id(gw_data_t *d, char buf[16])
{
    /* Our own id range, far from gw_cloud's per-session counter; wraps within 32 bits. */
    if (++d->next_id < 1000000000u || d->next_id > 4000000000u)
        d->next_id = 1000000000u;
    snprintf(buf, 16, "%u", d->next_id);
    return buf;
}

/* ---- hub consumer ------------------------------------------------------------------- */

static void on_properties(void *data, const gw_hub_device_t *hd, const lgw_report_t *r)
{
    data_uplink_properties(data, hd, r, true);
}

static void on_event(void *data, const gw_hub_device_t *hd, const lgw_report_t *r)
{
    data_uplink_event(data, hd, r);
}

static void on_device_gone(void *data, const gw_hub_device_t *hd)
{
    gw_data_t *d = data;
    data_dev_t *dev = data_dev_get(d, hd, false);
    if (!dev)
        return;
    slot_set(hd, NULL);
    gw_strmap_remove(&d->devs, dev->key);
    dev_free(d, dev);
}

static void on_device_added(void *data, const gw_hub_device_t *hd)
{
    /* a new model (or identity) starts from scratch: everything is reported again */
    on_device_gone(data, hd);
}

static const gw_hub_consumer_t data_consumer = {
    .device_added = on_device_added,
    .device_gone = on_device_gone,
    .properties = on_properties,
    .event = on_event,
};

/* ---- listeners ---------------------------------------------------------------------- */

static void on_state(gw_cloud_t *c, gw_cloud_state_t state, void *data)
{
    gw_data_t *d = ((data_ref_t *)data)->d;
    if (!d)
        return;
    bool up = state == GW_CLOUD_CONNECTED;
    if (up) {
        snprintf(d->gw_pk, sizeof d->gw_pk, "%s", gw_cloud_product_key(c));
        snprintf(d->gw_dn, sizeof d->gw_dn, "%s", gw_cloud_device_name(c));
    }
    if (up == d->connected)
        return;
    d->connected = up;
    if (!up) {
        /* nothing in flight will be answered now: give it back */
        data_send_expire(d, true);
        data_send_flush(d);
    }
}

/*
 * After a login, reports the last value of every point the hub holds for
 * @p dev's device again, stamped with the time the device was last heard
 * from (the values were still current then: devices report changes). Values
 * heard before the login went to the journal and up as history/post, which
 * does not set the platform's latest values; a device that only reports
 * changes (KNX telegrams, a report-on-change register that stays put) would
 * otherwise show no current value until it changes. Not counted as reported.
 */
static void refresh_from_hub(gw_data_t *d, data_dev_t *dev)
{
    const gw_hub_device_t *hd = gw_hub_find(d->deps.hub, dev->instance, dev->device_id);
    if (!hd || gw_hub_value_count(hd) == 0)
        return;
    lgw_report_t *r = lgw_report_new(hd->inst, hd->device_id);
    if (!r)
        return;
    const char *name;
    const lgw_value_t *v;
    for (size_t i = 0; (v = gw_hub_value_at(hd, i, &name)) != NULL; i++)
        lgw_report_add_value(r, name, lgw_value_copy(v));
    if (hd->last_seen_ms > 0)
        lgw_report_set_time(r, hd->last_seen_ms);
    data_uplink_properties(d, hd, r, false);
    lgw_report_discard(r);
}

static void on_session(void *data, const char *pk, const char *dn, bool in)
{
    gw_data_t *d = ((data_ref_t *)data)->d;
    data_dev_t *dev = d ? data_dev_by_pkdn(d, pk, dn) : NULL;
    if (dev)
        dev->logged_in = in;
    if (!dev || d->closing)
        return;
    if (!in) {
        data_send_fail_device(d, pk, dn);
        return;
    }
    /* the platform forgot what it had: report everything afresh, held data first */
    data_dev_last_clear(dev);
    dev->last_full_ms = -1;
    dev->retry_at = 0;
    if (gw_list_linked(&dev->held_link))
        data_dev_unhold(d, dev);
    refresh_from_hub(d, dev);
}

static void on_deleted(void *data, const char *pk, const char *dn)
{
    gw_data_t *d = ((data_ref_t *)data)->d;
    if (d && !d->closing)
        data_journal_forget(d, pk, dn);
}

/* One line with the counters (at shutdown, and every stats_interval_s when set). */
static void data_log_totals(gw_data_t *d)
{
    uint32_t p50, p99;
    data_downlink_latency(d, &p50, &p99);
    gw_data_stats_t s;
    gw_data_get_stats(d, &s);
    GW_INFO(DATA_LOG,
            "totals: reported=%" PRIu64 " invalid=%" PRIu64 " unchanged=%" PRIu64 " sent=%" PRIu64 " posts=%" PRIu64
            " acked=%" PRIu64 " rejected=%" PRIu64 " oversize=%" PRIu64 " journaled=%" PRIu64 " drained=%" PRIu64 " events_sent=%" PRIu64
            " events_acked=%" PRIu64 " downlink=%" PRIu64 " downlink_refused=%" PRIu64 " downlink_p50_us=%" PRIu32
            " downlink_p99_us=%" PRIu32 " journal_depth=%" PRIu64 " journal_bytes=%" PRIu64 " journal_dropped=%" PRIu64
            " journal_oldest_age_ms=%" PRId64 " wal_segments=%" PRIu64 " wal_pending=%" PRIu64 " wal_recovered=%" PRIu64
            " wal_full=%" PRIu64,
            s.reported, s.invalid, s.suppressed, s.sent, s.messages, s.acked, s.rejected, s.oversize, s.journaled,
            s.drained,
            s.events_sent, s.events_acked, s.downlink, s.downlink_refused, p50, p99, s.journal_depth, s.journal_bytes,
            s.journal_dropped, s.journal_oldest_age_ms, s.wal_segments, s.wal_pending, s.wal_recovered, s.wal_full);
}

static void on_timer(uv_timer_t *t)
{
    gw_data_t *d = t->data;
    if (d->opt.stats_interval_s && uv_now(d->deps.loop) - d->stats_at >= d->opt.stats_interval_s * 1000ull) {
        d->stats_at = uv_now(d->deps.loop);
        data_log_totals(d);
    }
    data_journal_commit(d);
    data_send_flush(d);
    data_send_expire(d, false);
    data_downlink_expire(d);
    if (d->connected) {
        data_resend_held(d, false);
        data_journal_drain(d);
    }
    data_wal_tick(d);
}

/* ---- public ------------------------------------------------------------------------- */

static gw_data_t *g_current;
static data_ref_t *g_refs; /* see data_ref_t */

gw_data_t *gw_data_current(void)
{
    return g_current;
}

gw_data_t *gw_data_new(const gw_data_deps_t *deps, const gw_data_options_t *opts)
{
    if (!deps || !deps->loop || !deps->hub || !deps->cloud || !deps->subdev || !deps->map)
        return NULL;
    gw_data_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->deps = *deps;
    if (opts)
        d->opt = *opts;
    else
        gw_data_options_init(&d->opt);
    if (!d->opt.flush_ms)
        d->opt.flush_ms = 50;
    if (!d->opt.held_max)
        d->opt.held_max = 1;
    if (!d->opt.max_inflight)
        d->opt.max_inflight = 256;
    gw_strmap_init(&d->devs);
    gw_strmap_init(&d->by_pkdn);
    gw_list_init(&d->inflight);
    gw_list_init(&d->held);
    gw_list_init(&d->calls);
    d->pack = gw_tsl_pack_new();
    d->ref = calloc(1, sizeof *d->ref);
    if (!d->pack || !d->ref) {
        free(d->ref);
        d->ref = NULL;
        goto fail;
    }
    d->ref->d = d;
    data_send_init(d);
    d->ref->next = g_refs;
    g_refs = d->ref;
    if (d->deps.store && d->opt.journal && d->opt.journal_max_bytes)
        gw_journal_set_budget(d->deps.store, d->opt.journal_max_bytes);
    gw_cloud_t *c = d->deps.cloud;
    static const char *const reply_filters[] = {
        "/sys/+/+/thing/event/+/post_reply",
        "/sys/+/+/thing/event/property/pack/post_reply",
        "/sys/+/+/thing/event/property/history/post_reply",
    };
    for (size_t i = 0; i < sizeof reply_filters / sizeof *reply_filters; i++)
        if (gw_cloud_on(c, reply_filters[i], data_send_on_reply, d->ref) != LGW_OK)
            goto fail;
    if (data_downlink_register(d) != 0 ||
        gw_cloud_add_state_listener(c, on_state, d->ref) != LGW_OK ||
        gw_subdev_add_listener(d->deps.subdev, on_session, d->ref) != 0 ||
        gw_subdev_add_deleted_listener(d->deps.subdev, on_deleted, d->ref) != 0)
        goto fail;
    /* what a previous process left in the write-ahead log goes to the journal before any new value */
    data_wal_start(d);
    if (gw_hub_add_consumer(d->deps.hub, &data_consumer, d) != LGW_OK)
        goto fail;
    uv_timer_init(d->deps.loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, on_timer, d->opt.flush_ms, d->opt.flush_ms);
    on_state(c, gw_cloud_state(c), d->ref);
    g_current = d;
    return d;
fail:
    /* handlers registered on the cloud cannot be removed: refuse to start instead of half-working */
    GW_ERROR(DATA_LOG, "cannot set up the data layer (out of memory?)");
    if (d->ref)
        d->ref->d = NULL;
    if (d->wal) {
        gw_wal_close(d->wal, false);
        free(d->gens);
    }
    gw_tsl_pack_free(d->pack);
    free(d);
    return NULL;
}

static bool free_dev_cb(const char *key, void *value, void *data)
{
    (void)key;
    dev_free(data, value); /* also leaves by_pkdn and the held list, both still intact here */
    return true;
}

static void on_closed(uv_handle_t *h)
{
    gw_data_t *d = h->data;
    void (*done)(void *) = d->done;
    void *arg = d->done_arg;
    free(d);
    if (done)
        done(arg);
}

void gw_data_close(gw_data_t *d, void (*done)(void *arg), void *arg)
{
    if (!d) {
        if (done)
            done(arg);
        return;
    }
    if (g_current == d)
        g_current = NULL;
    d->closing = true;
    d->ref->d = NULL;
    data_log_totals(d);
    d->done = done;
    d->done_arg = arg;
    gw_hub_remove_consumer(d->deps.hub, &data_consumer, d);
    data_send_flush(d);
    /* what is in flight goes back to the hold: the journal keeps it across the restart
     * (a reply that still arrives makes it a duplicate, never a loss); memory does not */
    data_send_expire(d, true);
    /* values the backpressure kept in the queue (max_inflight reached) go to the hold too */
    d->connected = false;
    data_send_flush(d);
    data_journal_commit(d);
    free(d->jbuf);
    d->jbuf = NULL;
    d->jlen = d->jcap = 0;
    data_wal_close(d); /* everything is in the journal now: the log's files go */
    data_downlink_detach(d);
    gw_hub_foreach(d->deps.hub, slot_clear, NULL); /* no hub device keeps a pointer to a freed record */
    gw_strmap_foreach(&d->devs, free_dev_cb, d);
    gw_strmap_free(&d->devs);
    gw_strmap_free(&d->by_pkdn);
    gw_tsl_pack_free(d->pack);
    d->pack = NULL;
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, on_closed);
}

void gw_data_flush(gw_data_t *d)
{
    data_journal_commit(d);
    data_send_flush(d);
}

void gw_data_get_stats(gw_data_t *d, gw_data_stats_t *out)
{
    *out = d->st;
    gw_journal_stats_t js;
    if (d->deps.store && gw_journal_stats(d->deps.store, &js) == GW_STORE_OK) {
        out->journal_depth = js.depth;
        out->journal_bytes = js.bytes;
        out->journal_dropped = js.dropped;
        out->journal_oldest_age_ms = js.oldest_age_ms;
    }
    data_wal_stats(d, out);
}

json_t *gw_data_status_json(gw_data_t *d)
{
    gw_data_stats_t s;
    gw_data_get_stats(d, &s);
    json_t *j = json_pack("{sIsIsIsIsIsIsIsIsIsIsIsIsIsIsIsIsIsIs{sIsIsIsI}}",
                     "reported", (json_int_t)s.reported, "unmapped", (json_int_t)s.unmapped,
                     "invalid", (json_int_t)s.invalid, "suppressed", (json_int_t)s.suppressed,
                     "sent", (json_int_t)s.sent, "acked", (json_int_t)s.acked,
                     "rejected", (json_int_t)s.rejected, "requeued", (json_int_t)s.requeued,
                     "held_dropped", (json_int_t)s.held_dropped, "oversize", (json_int_t)s.oversize,
                     "messages", (json_int_t)s.messages,
                     "events_sent", (json_int_t)s.events_sent, "events_acked", (json_int_t)s.events_acked,
                     "events_failed", (json_int_t)s.events_failed, "downlink", (json_int_t)s.downlink,
                     "downlink_refused", (json_int_t)s.downlink_refused, "journaled", (json_int_t)s.journaled,
                     "drained", (json_int_t)s.drained,
                     "journal", "depth", (json_int_t)s.journal_depth, "bytes", (json_int_t)s.journal_bytes,
                     "oldest_age_ms", (json_int_t)s.journal_oldest_age_ms, "dropped", (json_int_t)s.journal_dropped);
    json_t *wal = json_pack("{sbsIsIsIsIsI}", "enabled", s.wal, "segments", (json_int_t)s.wal_segments, "bytes",
                            (json_int_t)s.wal_bytes, "pending", (json_int_t)s.wal_pending, "recovered",
                            (json_int_t)s.wal_recovered, "full", (json_int_t)s.wal_full);
    if (j && wal)
        json_object_set_new(j, "wal", wal);
    else
        json_decref(wal);
    return j;
}
