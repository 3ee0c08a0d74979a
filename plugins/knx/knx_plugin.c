/*
 * linkgw KNX plugin: the plugin entry points and the glue between knxd
 * telegrams and linkgw devices.
 *
 *   rx    GroupValue_Write / GroupValue_Response to an address a point listens
 *         to → decoded with the point's DPT → reported under the point's name
 *         (one report per device and telegram).
 *   tx    property write → GroupValue_Write of the encoded value to the point's
 *         write address; the request completes once knxd took the telegram.
 *   get   property read request → GroupValue_Read to the points' read
 *         addresses; completes when every point got a telegram (or after
 *         read_timeout_ms with 100003).
 *   read  GroupValue_Read to each point's state (else write) address on
 *         connect (read_on_start) and every poll interval — one timer per
 *         distinct interval, each queueing the reads of all its points; the
 *         queue is sent paced at read_rate telegrams per second.
 *   online/offline  a device goes offline when a read request got no telegram
 *         from it within read_timeout_ms, and whenever knxd is unreachable; it
 *         is online again with its next telegram (from its individual
 *         address when `address` is configured, else to any of its addresses).
 *   learn group addresses nobody claims are logged once; while learning (the
 *         `learn` setting, or a discovery scan) each is also reported as a
 *         device "ga-M-I-S" of model "knx_learned" (see README.md).
 *
 * Everything runs on the loop thread; the only blocking call (connecting to
 * knxd) runs on the host's pool inside knx_link.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knx_addr.h"
#include "knx_plugin.h"

/* ---- rx ----------------------------------------------------------------------- */

static size_t refs_lower_bound(const knx_t *k, uint16_t ga)
{
    size_t lo = 0, hi = k->n_refs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->refs[mid].ga < ga)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void on_telegram(void *data, uint16_t src, uint16_t dst, const uint8_t *buf, size_t len)
{
    knx_t *k = data;
    knx_apdu_t a;
    if (!knx_apdu_parse(buf, len, &a))
        return; /* not group-value communication */
    size_t i = refs_lower_bound(k, dst);
    if (i == k->n_refs || k->refs[i].ga != dst) {
        knx_learn(k, src, dst, &a);
        return;
    }
    if (a.apci == KNX_APCI_READ)
        return; /* someone else asks; the answer will update us */

    lgw_report_t *r = NULL;
    knx_device_t *rdev = NULL;
    for (; i < k->n_refs && k->refs[i].ga == dst; i++) {
        knx_point_t *pt = k->refs[i].pt;
        knx_device_heard(k, pt->dev, src);
        if (!(pt->access & LGW_ACCESS_READ))
            continue;
        knx_val_t v;
        int err = knx_decode_apdu(pt->dpt, &a, &v);
        if (err != KNX_DPT_OK) {
            char ga[KNX_ADDR_STR], ia[KNX_ADDR_STR], dpt[16], hex[2 * 254 + 1];
            knx_payload_hex(&a, hex, sizeof hex);
            lgw_log(k->inst, LGW_LOG_WARN, "device %s point %s: %s from %s to %s (data %s) is not a %s: %s",
                    pt->dev->id, pt->name, knx_apci_name(a.apci), knx_ia_format(src, ia, sizeof ia),
                    knx_ga_format(dst, ga, sizeof ga), hex, knx_dpt_format(pt->dpt, dpt, sizeof dpt),
                    knx_dpt_strerror(err));
            continue;
        }
        knx_preads_offer(k, pt, &v);
        if (rdev != pt->dev) {
            if (r)
                lgw_report_commit(r);
            rdev = pt->dev;
            r = lgw_report_new(k->inst, rdev->id);
        }
        if (r)
            knx_report_add(r, pt->name, &v);
    }
    if (r)
        lgw_report_commit(r);
}

static void on_link_up(void *data)
{
    knx_t *k = data;
    knx_queue_reads(k, &k->on_connect);
}

static void on_link_down(void *data)
{
    knx_t *k = data;
    knx_clear_queue(k);
    knx_preads_fail_all(k, KNX_REPLY_BUS_DOWN, "the knxd connection was lost");
    for (size_t d = 0; d < k->cfg.n_devices; d++) {
        k->cfg.devices[d].awaiting_since = 0;
        knx_set_online(k, &k->cfg.devices[d], false, "knxd unreachable");
    }
}

/* ---- requests ----------------------------------------------------------------- */

typedef struct knx_tx {
    knx_point_t *pt;
    uint8_t apdu[KNX_APDU_MAX];
    size_t len;
} knx_tx_t;

static int knx_write(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *values)
{
    knx_t *k = data;
    knx_device_t *dev = knx_settings_find_device(&k->cfg, device_id);
    if (!dev)
        return LGW_ENOENT;
    if (lgw_value_type(values) != LGW_TYPE_STRUCT)
        return LGW_EINVAL;
    size_t n = lgw_value_count(values);
    knx_tx_t *tx = calloc(n ? n : 1, sizeof *tx);
    if (!tx)
        return LGW_ENOMEM;
    char msg[160];

    /* Encode everything first: a bad value fails the request before anything is sent. */
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL;
        const lgw_value_t *v = lgw_value_struct_at(values, i, &name);
        knx_point_t *pt = name ? knx_device_find_point(dev, name) : NULL;
        knx_val_t kv;
        uint8_t payload[KNX_DPT_MAX_BYTES];
        size_t plen = 0;
        int err;
        if (!pt) {
            snprintf(msg, sizeof msg, "device %s has no point '%s'", dev->id, name ? name : "?");
            goto param_error;
        }
        if (!(pt->access & LGW_ACCESS_WRITE)) {
            snprintf(msg, sizeof msg, "point '%s' is read-only", pt->name);
            goto param_error;
        }
        if ((err = knx_from_value(v, &kv)) != KNX_DPT_OK ||
            (err = knx_dpt_encode(pt->dpt, &kv, payload, &plen)) != KNX_DPT_OK) {
            char dpt[16];
            snprintf(msg, sizeof msg, "point '%s' (DPT %s): %s", pt->name, knx_dpt_format(pt->dpt, dpt, sizeof dpt),
                     knx_dpt_strerror(err));
            goto param_error;
        }
        tx[i].pt = pt;
        tx[i].len = knx_apdu_build(KNX_APCI_WRITE, knx_dpt_size(pt->dpt) == 0, payload, plen, tx[i].apdu);
    }
    if (!knx_link_is_up(k->link)) {
        free(tx);
        lgw_request_done(req, KNX_REPLY_BUS_DOWN, "knxd is not connected");
        return LGW_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (knx_link_send(k->link, tx[i].pt->write_ga, tx[i].apdu, tx[i].len) != LGW_OK) {
            free(tx);
            lgw_request_done(req, KNX_REPLY_SEND_FAILED, "the knxd connection broke while sending");
            return LGW_OK;
        }
    }
    /* Points without a state address: the written value is the new state. */
    lgw_report_t *r = NULL;
    for (size_t i = 0; i < n; i++) {
        knx_point_t *pt = tx[i].pt;
        knx_apdu_t a;
        knx_val_t v;
        if (!pt->optimistic || !(pt->access & LGW_ACCESS_READ) || !knx_apdu_parse(tx[i].apdu, tx[i].len, &a) ||
            knx_decode_apdu(pt->dpt, &a, &v) != KNX_DPT_OK)
            continue;
        if (!r)
            r = lgw_report_new(k->inst, dev->id);
        if (r)
            knx_report_add(r, pt->name, &v);
    }
    if (r)
        lgw_report_commit(r);
    free(tx);
    lgw_request_done(req, LGW_REPLY_SUCCESS, NULL);
    return LGW_OK;

param_error:
    free(tx);
    lgw_request_done(req, LGW_REPLY_PARAM_ERROR, msg);
    return LGW_OK;
}


static int knx_discovery(void *data, bool enable)
{
    knx_t *k = data;
    if (enable && !k->learning) {
        memset(k->reported, 0, sizeof k->reported);
        k->n_reported = 0;
        k->learn_full_logged = false;
    }
    k->learning = enable || k->cfg.learn;
    lgw_log(k->inst, LGW_LOG_INFO, "learn mode %s", k->learning ? "on" : "off");
    return LGW_OK;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int ref_cmp(const void *pa, const void *pb)
{
    const knx_ref_t *a = pa, *b = pb;
    if (a->ga != b->ga)
        return a->ga < b->ga ? -1 : 1;
    /* Each device's points are one array, so ordering by address keeps the
     * points of a device together: on_telegram makes one report per device. */
    if (a->pt != b->pt)
        return (uintptr_t)a->pt < (uintptr_t)b->pt ? -1 : 1;
    return 0;
}

/* Declares one model per distinct model name, and the learned model. */
static int declare_models(knx_t *k)
{
    for (size_t d = 0; d < k->cfg.n_devices; d++) {
        knx_device_t *dev = &k->cfg.devices[d];
        bool seen = false;
        for (size_t e = 0; e < d && !seen; e++)
            seen = strcmp(k->cfg.devices[e].model, dev->model) == 0;
        if (seen)
            continue;
        lgw_model_t *m = lgw_model_new(k->inst, dev->model);
        if (!m)
            return LGW_ENOMEM;
        for (size_t p = 0; p < dev->n_points; p++)
            lgw_model_add_point(m, dev->points[p].name, dev->points[p].type, dev->points[p].access);
        int r = lgw_model_commit(m);
        if (r != LGW_OK)
            return r;
    }
    lgw_model_t *m = lgw_model_new(k->inst, KNX_LEARNED_MODEL);
    if (!m)
        return LGW_ENOMEM;
    lgw_model_add_point(m, "service", LGW_TYPE_TEXT, LGW_ACCESS_READ);
    lgw_model_add_point(m, "source", LGW_TYPE_TEXT, LGW_ACCESS_READ);
    lgw_model_add_point(m, "raw", LGW_TYPE_TEXT, LGW_ACCESS_READ);
    return lgw_model_commit(m);
}

/* Builds the address index and the read groups from the settings. */
static int build_index(knx_t *k)
{
    size_t n = 0;
    for (size_t d = 0; d < k->cfg.n_devices; d++)
        for (size_t p = 0; p < k->cfg.devices[d].n_points; p++)
            n += k->cfg.devices[d].points[p].n_listen;
    k->refs = calloc(n ? n : 1, sizeof *k->refs);
    if (!k->refs)
        return LGW_ENOMEM;
    k->on_connect.k = k;
    for (size_t d = 0; d < k->cfg.n_devices; d++) {
        for (size_t p = 0; p < k->cfg.devices[d].n_points; p++) {
            knx_point_t *pt = &k->cfg.devices[d].points[p];
            for (size_t l = 0; l < pt->n_listen; l++)
                k->refs[k->n_refs++] = (knx_ref_t){ pt->listen[l], pt };
            pt->read_idx = -1;
            if ((pt->access & LGW_ACCESS_READ) && pt->read_ga && (pt->read_idx = knx_read_index(k, pt)) < 0)
                return LGW_ENOMEM;
            if (pt->read_on_start && knx_group_add(k, &k->on_connect, pt) != LGW_OK)
                return LGW_ENOMEM;
            if (pt->poll_ms == 0)
                continue;
            knx_read_group_t *g = NULL;
            for (size_t i = 0; i < k->n_polls && !g; i++)
                if (k->polls[i].poll_ms == pt->poll_ms)
                    g = &k->polls[i];
            if (!g) {
                knx_read_group_t *grown = realloc(k->polls, (k->n_polls + 1) * sizeof *grown);
                if (!grown)
                    return LGW_ENOMEM;
                k->polls = grown;
                g = &k->polls[k->n_polls++];
                memset(g, 0, sizeof *g);
                g->poll_ms = pt->poll_ms;
            }
            if (knx_group_add(k, g, pt) != LGW_OK)
                return LGW_ENOMEM;
        }
    }
    for (size_t i = 0; i < k->n_polls; i++)
        k->polls[i].k = k; /* after the last realloc */
    k->queue = calloc(k->n_reads ? k->n_reads : 1, sizeof *k->queue);
    if (!k->queue)
        return LGW_ENOMEM;
    qsort(k->refs, k->n_refs, sizeof *k->refs, ref_cmp);
    return LGW_OK;
}

static void knx_destroy(void *data);

static int knx_create(lgw_instance_t *inst, const lgw_config_t *settings, void **data)
{
    knx_t *k = calloc(1, sizeof *k);
    if (!k)
        return LGW_ENOMEM;
    k->inst = inst;
    int r = knx_settings_load(settings, &k->cfg);
    if (r != LGW_OK) {
        free(k);
        return r;
    }
    k->learning = k->cfg.learn;
    if ((r = build_index(k)) != LGW_OK || (r = declare_models(k)) != LGW_OK) {
        knx_destroy(k);
        return r;
    }
    *data = k;
    return LGW_OK;
}

static int knx_start(void *data)
{
    knx_t *k = data;
    static const knx_link_events_t ev = { on_link_up, on_link_down, on_telegram };
    k->link = knx_link_new(k->inst, k->cfg.url, k->cfg.reconnect_min_ms, k->cfg.reconnect_max_ms, &ev, k);
    k->offline_timer = lgw_timer_new(k->inst, knx_on_offline_tick, k);
    k->pace_timer = lgw_timer_new(k->inst, knx_on_pace, k);
    if (!k->link || !k->offline_timer || !k->pace_timer)
        return LGW_ENOMEM;
    uint64_t tick = k->cfg.read_timeout_ms / 4;
    tick = tick < 50 ? 50 : tick > 1000 ? 1000 : tick;
    lgw_timer_start(k->offline_timer, tick, tick);
    for (size_t i = 0; i < k->n_polls; i++) {
        knx_read_group_t *g = &k->polls[i];
        g->timer = lgw_timer_new(k->inst, knx_on_poll, g);
        if (!g->timer)
            return LGW_ENOMEM;
        lgw_timer_start(g->timer, g->poll_ms, g->poll_ms);
    }
    for (size_t d = 0; d < k->cfg.n_devices; d++)
        lgw_device_add(k->inst, k->cfg.devices[d].id, k->cfg.devices[d].model);
    k->running = true;
    lgw_log(k->inst, LGW_LOG_INFO, "%zu devices, %zu addresses, %zu poll groups; knxd at %s%s", k->cfg.n_devices,
            k->n_refs, k->n_polls, k->cfg.url, k->learning ? "; learn mode on" : "");
    return knx_link_start(k->link);
}

static void knx_stop(void *data)
{
    knx_t *k = data;
    k->running = false;
    knx_preads_fail_all(k, LGW_REPLY_REQUEST_ERROR, "the KNX instance is stopping");
    knx_link_stop(k->link); /* no events afterwards; freed in destroy (see knx_link.h) */
    lgw_timer_free(k->offline_timer);
    k->offline_timer = NULL;
    lgw_timer_free(k->pace_timer);
    k->pace_timer = NULL;
    k->pacing = false;
    knx_clear_queue(k);
    for (size_t i = 0; i < k->n_polls; i++) {
        lgw_timer_free(k->polls[i].timer);
        k->polls[i].timer = NULL;
    }
}

static void knx_destroy(void *data)
{
    knx_t *k = data;
    if (!k)
        return;
    if (k->link) {
        knx_stop(k);
        knx_link_free(k->link);
    }
    knx_group_free(&k->on_connect);
    for (size_t i = 0; i < k->n_polls; i++)
        knx_group_free(&k->polls[i]);
    free(k->polls);
    for (size_t i = 0; i < k->n_reads; i++)
        free(k->reads[i].devs);
    free(k->reads);
    free(k->queue);
    free(k->refs);
    knx_settings_free(&k->cfg);
    free(k);
}

LGW_PLUGIN_DEFINE_ABI()

LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv)
{
    lgw_driver_set_info(drv, "0.1.0", "KNX through knxd (libeibclient): group addresses as device points");
    lgw_driver_set_create(drv, knx_create);
    lgw_driver_set_start(drv, knx_start);
    lgw_driver_set_stop(drv, knx_stop);
    lgw_driver_set_destroy(drv, knx_destroy);
    lgw_driver_set_write(drv, knx_write);
    lgw_driver_set_read(drv, knx_read_request);
    lgw_driver_set_discovery(drv, knx_discovery);
    return LGW_OK;
}
