/*
 * Uplink, first half: from the hub's property and event reports to the
 * queue of values to send (the pack builder), through the TSL mapping:
 * point → property with its conversion, validation against the TSL (invalid
 * values are counted and logged at most once per device+point per
 * `invalid_log_s`, never sent), report on change with the point's deadband
 * and the model's periodic full report. Also the "hold": data that could not
 * be delivered (no session, failed post) waits in the journal or, without
 * one, in memory, and goes back into the queue once the device is logged in.
 * Sending is uplink_send.c.
 */
#include <string.h>

#include "data_internal.h"
#include "report.h"

/* Logs an invalid value of dev/point unless it was logged less than invalid_log_s ago. */
static void log_invalid(gw_data_t *d, data_dev_t *dev, const char *point, const gw_tsl_err_t *err)
{
    uint64_t now = uv_now(d->deps.loop);
    json_t *t = json_object_get(dev->bad_log, point);
    if (t && now - (uint64_t)json_integer_value(t) < (uint64_t)d->opt.invalid_log_s * 1000u)
        return;
    json_object_set_new(dev->bad_log, point, json_integer((json_int_t)now));
    GW_WARN(DATA_LOG, "%s/%s: point '%s' not sent: code %d, %s (counted; logged once per %u s)", dev->instance,
            dev->device_id, point, err->code, err->msg, d->opt.invalid_log_s);
}

/*
 * Whether @p dev (identity known, not logged in) still has or is getting its
 * credentials. A registration refused for good after the data layer took the
 * identity makes its values unmapped again, instead of filling the journal
 * with data no session will ever send.
 */
static bool identity_alive(gw_data_t *d, const data_dev_t *dev)
{
    gw_subdev_t *m = d->deps.subdev;
    return gw_subdev_identity(m, dev->instance, dev->device_id, NULL, NULL) ||
           gw_subdev_identity_pending(m, dev->instance, dev->device_id, NULL, NULL);
}

static bool logged_in(gw_data_t *d, data_dev_t *dev)
{
    if (!dev->has_identity)
        return false;
    return dev->shared_identity ? gw_subdev_logged_in(d->deps.subdev, dev->pk, dev->dn) : dev->logged_in;
}

void data_uplink_properties(gw_data_t *d, const gw_hub_device_t *hd, const lgw_report_t *r, bool from_plugin)
{
    size_t n = gw_report_count(r);
    if (from_plugin)
        d->st.reported += n;
    const gw_tsl_model_map_t *mm = d->deps.map(d->deps.map_data, hd->instance, hd->model);
    data_dev_t *dev = mm ? data_dev_get(d, hd, true) : NULL;
    if (!dev || !data_dev_identity(d, dev)) {
        d->st.unmapped += n;
        return;
    }
    uint64_t now = uv_now(d->deps.loop);
    bool full = gw_tsl_full_report_due(mm->full_report_ms, dev->last_full_ms, (int64_t)now);
    if (full)
        dev->last_full_ms = (int64_t)now;
    int64_t ts = gw_report_time(r);
    bool online = logged_in(d, dev);
    if (!online && !identity_alive(d, dev)) {
        d->st.unmapped += n;
        return;
    }
    gw_tsl_last_t *last = data_dev_last(dev, mm); /* NULL (out of memory): everything counts as changed */
    gw_tsl_pack_dev_t *pd = NULL;
    if (online && gw_list_linked(&dev->held_link) && now >= dev->retry_at)
        data_dev_unhold(d, dev); /* older data first */
    for (size_t i = 0; i < n; i++) {
        const char *point;
        const lgw_value_t *v = gw_report_at(r, i, &point);
        const gw_tsl_point_map_t *pm = gw_tsl_map_point(mm, point);
        if (!pm) {
            d->st.unmapped++;
            continue;
        }
        json_t *j = NULL;
        gw_tsl_err_t err;
        if (gw_tsl_point_to_json(pm, v, &j, &err) != 0) {
            d->st.invalid++;
            log_invalid(d, dev, point, &err);
            continue;
        }
        const char *id = pm->prop->identifier;
        gw_tsl_last_t *lv = last ? &last[pm - mm->points] : NULL;
        if (!full && lv && !gw_tsl_last_changed(lv, j, pm->deadband)) {
            d->st.suppressed++;
            json_decref(j);
            continue;
        }
        if (lv)
            gw_tsl_last_set(lv, j);
        d->st.queued++;
        if (d->wal) /* accepted: in the write-ahead log before anything else happens to it */
            data_wal_value(d, dev, false, id, j, ts);
        if (!online) {
            data_hold(d, dev, false, id, j, ts);
            json_decref(j);
            continue;
        }
        if (!pd) {
            if (!(pd = gw_tsl_pack_device(d->pack, dev->pk, dev->dn))) {
                data_hold(d, dev, false, id, j, ts);
                json_decref(j);
                continue;
            }
            (void)gw_tsl_pack_reserve(pd, n - i); /* at most the rest of the report; a hint */
        }
        if (gw_tsl_pack_add_property(pd, id, j, ts) == 0)
            d->pack_values++;
    }
    if (d->pack_values >= d->opt.flush_values)
        data_send_flush(d);
}

void data_uplink_event(gw_data_t *d, const gw_hub_device_t *hd, const lgw_report_t *r)
{
    const gw_tsl_model_map_t *mm = d->deps.map(d->deps.map_data, hd->instance, hd->model);
    const char *name = gw_report_event(r);
    data_dev_t *dev = mm ? data_dev_get(d, hd, true) : NULL;
    const gw_tsl_event_map_t *em = mm ? gw_tsl_map_event(mm, name) : NULL;
    if (!em || !data_dev_identity(d, dev)) {
        d->st.unmapped++;
        return;
    }
    lgw_value_t *data = lgw_value_new_struct();
    size_t n = gw_report_count(r);
    for (size_t i = 0; data && i < n; i++) {
        const char *pname;
        const lgw_value_t *v = gw_report_at(r, i, &pname);
        lgw_value_struct_set(data, pname, lgw_value_copy(v));
    }
    json_t *value = NULL;
    gw_tsl_err_t err;
    int rc = data ? gw_tsl_map_event_output(em, data, &value, &err) : -1;
    lgw_value_free(data);
    if (rc != 0) {
        d->st.events_invalid++;
        if (rc > 0)
            log_invalid(d, dev, name, &err);
        return;
    }
    int64_t ts = gw_report_time(r);
    if (!logged_in(d, dev) && !identity_alive(d, dev)) {
        d->st.unmapped++;
        json_decref(value);
        return;
    }
    if (d->wal)
        data_wal_value(d, dev, true, em->ev->identifier, value, ts);
    if (logged_in(d, dev))
        data_send_event(d, dev, em->ev->identifier, value, ts);
    else
        data_hold(d, dev, true, em->ev->identifier, value, ts);
    json_decref(value);
}

/* ---- holding undelivered data ---------------------------------------------------- */

static void held_push(gw_data_t *d, json_t **arr, const char *id, json_t *value, int64_t time_ms)
{
    if (!*arr)
        *arr = json_array();
    while (json_array_size(*arr) >= d->opt.held_max && json_array_size(*arr) > 0) {
        json_array_remove(*arr, 0);
        d->st.held_dropped++;
    }
    json_array_append_new(*arr, json_pack("[sOI]", id, value, (json_int_t)time_ms));
}

void data_hold(gw_data_t *d, data_dev_t *dev, bool event, const char *id, json_t *value, int64_t time_ms)
{
    d->st.requeued++;
    if (data_journal_enabled(d) &&
        data_journal_put(d, dev->pk, dev->dn, event, id, value, time_ms) == 0) {
        data_wal_held(d);
        return;
    }
    data_wal_pin(d, "a value went to the in-memory hold");
    held_push(d, event ? &dev->held_events : &dev->held_props, id, value, time_ms);
    if (!gw_list_linked(&dev->held_link))
        gw_list_push_back(&d->held, &dev->held_link);
}

/* Puts everything @p dev holds in memory back into the queue (device logged in). */
void data_dev_unhold(gw_data_t *d, data_dev_t *dev)
{
    json_t *props = dev->held_props, *evs = dev->held_events;
    dev->retry_at = uv_now(d->deps.loop) + 1000; /* what fails again is not retried in this turn */
    dev->held_props = dev->held_events = NULL;
    gw_list_remove(&dev->held_link);
    size_t i;
    json_t *e;
    gw_tsl_pack_dev_t *pd = props ? gw_tsl_pack_device(d->pack, dev->pk, dev->dn) : NULL;
    json_array_foreach(props, i, e) {
        const char *id = json_string_value(json_array_get(e, 0));
        json_t *v = json_array_get(e, 1);
        int64_t t = json_integer_value(json_array_get(e, 2));
        if (pd && gw_tsl_pack_add_property(pd, id, json_incref(v), t) == 0)
            d->pack_values++;
        else
            held_push(d, &dev->held_props, id, v, t);
    }
    json_array_foreach(evs, i, e)
        data_send_event(d, dev, json_string_value(json_array_get(e, 0)), json_array_get(e, 1),
                        json_integer_value(json_array_get(e, 2)));
    json_decref(props);
    json_decref(evs);
    if ((dev->held_props || dev->held_events) && !gw_list_linked(&dev->held_link))
        gw_list_push_back(&d->held, &dev->held_link);
}

void data_resend_held(gw_data_t *d, bool force)
{
    uint64_t now = uv_now(d->deps.loop);
    gw_list_foreach_safe(n, tmp, &d->held) {
        data_dev_t *dev = gw_container_of(n, data_dev_t, held_link);
        if ((force || now >= dev->retry_at) && logged_in(d, dev))
            data_dev_unhold(d, dev);
    }
}
