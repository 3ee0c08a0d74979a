/*
 * linkgw KNX plugin: the plugin entry points and the glue between knxd
 * telegrams and linkgw devices.
 *
 *   rx    GroupValue_Write / GroupValue_Response to an address a point listens
 *         to → decoded with the point's DPT → reported under the point's name
 *         (one report per device and telegram).
 *   tx    property write → GroupValue_Write of the encoded value to the point's
 *         write address; the request completes once knxd took the telegram.
 *   read  GroupValue_Read to each point's state (else write) address on
 *         connect (read_on_start) and every poll interval — one timer per
 *         distinct interval, each sending the reads of all its points.
 *   online/offline  a device goes offline when a read request got no telegram
 *         from it within read_timeout_ms, and whenever knxd is unreachable; it
 *         is online again with its next telegram (from its individual
 *         address when `address` is configured, else to any of its addresses).
 *   learn group addresses nobody claims are logged once; while learning (the
 *         `learn` setting, or a discovery scan) each is also reported as a
 *         device "ga-M-I-S" of model "knx_learned" (see README.md).
 *
 * Everything runs on the loop thread; the only blocking call (connecting to
 * knxd) runs on a worker inside knx_link.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linkgw/linkgw.h>

#include "knx_addr.h"
#include "knx_apdu.h"
#include "knx_conf.h"
#include "knx_dpt.h"
#include "knx_link.h"

/* Device-defined reply codes (LGW_REPLY_DEVICE_MIN..MAX). */
#define KNX_REPLY_BUS_DOWN 100001     /* knxd is not connected */
#define KNX_REPLY_SEND_FAILED 100002  /* knxd connection broke while sending */

#define KNX_LEARNED_MODEL "knx_learned"

/* Read requests sent together: on connect (poll_ms 0) or every poll_ms. */
typedef struct knx_read_group {
    struct knx *k;
    uint32_t poll_ms;
    uint16_t *gas;         /* distinct read addresses */
    size_t n_gas;
    knx_device_t **devs;   /* distinct devices that must answer */
    size_t n_devs;
    lgw_timer_t *timer;
} knx_read_group_t;

/* One (group address → point) binding; sorted by address, then device, then point. */
typedef struct knx_ref {
    uint16_t ga;
    knx_point_t *pt;
} knx_ref_t;

typedef struct knx {
    lgw_instance_t *inst;
    knx_settings_t cfg;
    knx_ref_t *refs;
    size_t n_refs;
    knx_read_group_t on_connect;
    knx_read_group_t *polls;
    size_t n_polls;
    knx_link_t *link;
    lgw_timer_t *offline_timer;
    bool running;
    /* learn mode */
    bool learning;
    uint8_t seen[65536 / 8];     /* unclaimed addresses already logged */
    uint8_t reported[65536 / 8]; /* unclaimed addresses reported as devices in this scan */
    uint32_t n_reported;
    bool learn_full_logged;
} knx_t;

static bool bit_get(const uint8_t *bits, uint16_t n) { return (bits[n >> 3] >> (n & 7)) & 1; }
static void bit_set(uint8_t *bits, uint16_t n) { bits[n >> 3] |= (uint8_t)(1u << (n & 7)); }

/* ---- value conversion ------------------------------------------------------- */

/* Adds @p v under @p name to @p r with the SDK type of its kind. */
static int report_add(lgw_report_t *r, const char *name, const knx_val_t *v)
{
    switch (v->kind) {
    case KNX_VK_BOOL: return lgw_report_add_bool(r, name, v->b);
    case KNX_VK_INT: return lgw_report_add_int(r, name, v->i);
    case KNX_VK_DOUBLE: return lgw_report_add_double(r, name, v->d);
    case KNX_VK_FLOAT: return lgw_report_add_float(r, name, (float)v->d);
    case KNX_VK_TEXT: return lgw_report_add_text(r, name, v->text);
    case KNX_VK_ENUM: return lgw_report_add_enum(r, name, (int32_t)v->i);
    case KNX_VK_RGB: {
        lgw_value_t *s = lgw_value_new_struct();
        if (!s)
            return LGW_ENOMEM;
        lgw_value_struct_set(s, "Red", lgw_value_new_int(v->rgb[0]));
        lgw_value_struct_set(s, "Green", lgw_value_new_int(v->rgb[1]));
        lgw_value_struct_set(s, "Blue", lgw_value_new_int(v->rgb[2]));
        return lgw_report_add_value(r, name, s);
    }
    default: return LGW_EINVAL;
    }
}

/* Reads colour member @p name (or its lower-case spelling) of struct @p s. */
static int rgb_member(const lgw_value_t *s, const char *name, const char *lower, uint8_t *out)
{
    const lgw_value_t *m = lgw_value_struct_get(s, name);
    int64_t i;
    if (!m)
        m = lgw_value_struct_get(s, lower);
    if (!m || lgw_value_get_int(m, &i) != LGW_OK)
        return KNX_DPT_EKIND;
    if (i < 0 || i > 255)
        return KNX_DPT_ERANGE;
    *out = (uint8_t)i;
    return KNX_DPT_OK;
}

/* Converts an SDK value into a codec value. Returns a KNX_DPT_E* code. */
static int value_to_knx(const lgw_value_t *v, knx_val_t *out)
{
    memset(out, 0, sizeof *out);
    const char *text;
    size_t len;
    int r;
    switch (lgw_value_type(v)) {
    case LGW_TYPE_BOOL:
        out->kind = KNX_VK_BOOL;
        return lgw_value_get_bool(v, &out->b) == LGW_OK ? KNX_DPT_OK : KNX_DPT_EKIND;
    case LGW_TYPE_INT:
    case LGW_TYPE_DATE:
    case LGW_TYPE_ENUM:
        out->kind = lgw_value_type(v) == LGW_TYPE_ENUM ? KNX_VK_ENUM : KNX_VK_INT;
        return lgw_value_get_int(v, &out->i) == LGW_OK ? KNX_DPT_OK : KNX_DPT_EKIND;
    case LGW_TYPE_FLOAT:
    case LGW_TYPE_DOUBLE:
        out->kind = KNX_VK_DOUBLE;
        return lgw_value_get_double(v, &out->d) == LGW_OK ? KNX_DPT_OK : KNX_DPT_EKIND;
    case LGW_TYPE_TEXT:
        out->kind = KNX_VK_TEXT;
        if (lgw_value_get_text(v, &text, &len) != LGW_OK)
            return KNX_DPT_EKIND;
        if (len >= sizeof out->text || memchr(text, '\0', len))
            return KNX_DPT_ERANGE;
        memcpy(out->text, text, len);
        return KNX_DPT_OK;
    case LGW_TYPE_STRUCT:
        out->kind = KNX_VK_RGB;
        if ((r = rgb_member(v, "Red", "red", &out->rgb[0])) != KNX_DPT_OK ||
            (r = rgb_member(v, "Green", "green", &out->rgb[1])) != KNX_DPT_OK ||
            (r = rgb_member(v, "Blue", "blue", &out->rgb[2])) != KNX_DPT_OK)
            return r;
        return KNX_DPT_OK;
    default:
        return KNX_DPT_EKIND;
    }
}

/* Decodes the payload of @p a for @p dpt (small DPTs take the 6-bit value). */
static int decode_apdu(knx_dpt_t dpt, const knx_apdu_t *a, knx_val_t *out)
{
    if (knx_dpt_size(dpt) == 0) {
        if (a->is_small)
            return knx_dpt_decode(dpt, &a->small, 1, out);
        return knx_dpt_decode(dpt, a->data, a->len, out); /* tolerated: one data byte */
    }
    if (a->is_small)
        return KNX_DPT_ELENGTH;
    return knx_dpt_decode(dpt, a->data, a->len, out);
}

/* ---- online / offline --------------------------------------------------------- */

static void set_online(knx_t *k, knx_device_t *dev, bool online, const char *why)
{
    if (dev->online == online)
        return;
    dev->online = online;
    lgw_log(k->inst, LGW_LOG_INFO, "device %s %s (%s)", dev->id, online ? "online" : "offline", why);
    lgw_device_set_online(k->inst, dev->id, online);
}

/* A telegram from (or for) @p dev arrived. */
static void device_heard(knx_t *k, knx_device_t *dev, uint16_t src)
{
    if (dev->has_ia && src != dev->ia)
        return;
    dev->awaiting_since = 0;
    set_online(k, dev, true, "telegram received");
}

static void on_offline_tick(lgw_timer_t *timer, void *data)
{
    (void)timer;
    knx_t *k = data;
    uint64_t now = lgw_monotonic_ms();
    for (size_t d = 0; d < k->cfg.n_devices; d++) {
        knx_device_t *dev = &k->cfg.devices[d];
        if (dev->awaiting_since && now - dev->awaiting_since >= k->cfg.read_timeout_ms) {
            dev->awaiting_since = 0;
            set_online(k, dev, false, "no answer to read requests");
        }
    }
}

/* ---- reads ------------------------------------------------------------------ */

static void send_reads(knx_t *k, knx_read_group_t *g)
{
    uint8_t apdu[KNX_APDU_MAX];
    size_t len = knx_apdu_build(KNX_APCI_READ, false, NULL, 0, apdu);
    if (!knx_link_is_up(k->link) || g->n_gas == 0)
        return;
    for (size_t i = 0; i < g->n_gas; i++)
        if (knx_link_send(k->link, g->gas[i], apdu, len) != LGW_OK)
            return; /* the link went down; devices were set offline */
    uint64_t now = lgw_monotonic_ms();
    for (size_t i = 0; i < g->n_devs; i++)
        if (!g->devs[i]->awaiting_since)
            g->devs[i]->awaiting_since = now ? now : 1;
}

static void on_poll(lgw_timer_t *timer, void *data)
{
    (void)timer;
    knx_read_group_t *g = data;
    send_reads(g->k, g);
}

/* Adds @p pt's read address and device to @p g (each once). */
static int group_add(knx_read_group_t *g, knx_point_t *pt)
{
    bool have = false;
    for (size_t i = 0; i < g->n_gas && !have; i++)
        have = g->gas[i] == pt->read_ga;
    if (!have) {
        uint16_t *n = realloc(g->gas, (g->n_gas + 1) * sizeof *n);
        if (!n)
            return LGW_ENOMEM;
        g->gas = n;
        g->gas[g->n_gas++] = pt->read_ga;
    }
    have = false;
    for (size_t i = 0; i < g->n_devs && !have; i++)
        have = g->devs[i] == pt->dev;
    if (!have) {
        knx_device_t **n = realloc(g->devs, (g->n_devs + 1) * sizeof *n);
        if (!n)
            return LGW_ENOMEM;
        g->devs = n;
        g->devs[g->n_devs++] = pt->dev;
    }
    return LGW_OK;
}

static void group_free(knx_read_group_t *g)
{
    lgw_timer_free(g->timer);
    free(g->gas);
    free(g->devs);
    memset(g, 0, sizeof *g);
}

/* ---- rx ----------------------------------------------------------------------- */

static const char *apci_name(knx_apci_t apci)
{
    return apci == KNX_APCI_READ ? "read" : apci == KNX_APCI_RESPONSE ? "response" : "write";
}

/* Payload of @p a as hex ("" for reads; the 6-bit value for small telegrams). */
static void payload_hex(const knx_apdu_t *a, char *buf, size_t size)
{
    buf[0] = '\0';
    if (a->apci == KNX_APCI_READ)
        return;
    if (a->is_small) {
        snprintf(buf, size, "%02x", a->small);
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < a->len && o + 3 <= size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%02x", a->data[i]);
}

/* A telegram to an address no point claims. */
static void learn(knx_t *k, uint16_t src, uint16_t dst, const knx_apdu_t *a)
{
    char ga[KNX_ADDR_STR], ia[KNX_ADDR_STR], hex[2 * 254 + 1];
    knx_ga_format(dst, ga, sizeof ga);
    knx_ia_format(src, ia, sizeof ia);
    payload_hex(a, hex, sizeof hex);
    if (!bit_get(k->seen, dst)) {
        bit_set(k->seen, dst);
        lgw_log(k->inst, LGW_LOG_INFO, "unclaimed group address %s: group value %s from %s%s%s", ga,
                apci_name(a->apci), ia, hex[0] ? ", data " : "", hex);
    }
    if (!k->learning)
        return;
    char id[32];
    snprintf(id, sizeof id, "ga-%u-%u-%u", (unsigned)(dst >> 11) & 0x1F, (unsigned)(dst >> 8) & 0x07,
             (unsigned)dst & 0xFF);
    if (!bit_get(k->reported, dst)) {
        if (k->n_reported >= k->cfg.learn_max) {
            if (!k->learn_full_logged)
                lgw_log(k->inst, LGW_LOG_WARN, "learn: %u addresses reported (learn_max); ignoring more",
                        (unsigned)k->n_reported);
            k->learn_full_logged = true;
            return;
        }
        bit_set(k->reported, dst);
        k->n_reported++;
        lgw_device_add(k->inst, id, KNX_LEARNED_MODEL);
        lgw_device_set_online(k->inst, id, true);
    }
    lgw_report_t *r = lgw_report_new(k->inst, id);
    if (!r)
        return;
    lgw_report_add_text(r, "service", apci_name(a->apci));
    lgw_report_add_text(r, "source", ia);
    lgw_report_add_text(r, "raw", hex);
    lgw_report_commit(r);
}

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
        learn(k, src, dst, &a);
        return;
    }
    if (a.apci == KNX_APCI_READ)
        return; /* someone else asks; the answer will update us */

    lgw_report_t *r = NULL;
    knx_device_t *rdev = NULL;
    for (; i < k->n_refs && k->refs[i].ga == dst; i++) {
        knx_point_t *pt = k->refs[i].pt;
        device_heard(k, pt->dev, src);
        if (!(pt->access & LGW_ACCESS_READ))
            continue;
        knx_val_t v;
        int err = decode_apdu(pt->dpt, &a, &v);
        if (err != KNX_DPT_OK) {
            char ga[KNX_ADDR_STR], ia[KNX_ADDR_STR], dpt[16], hex[2 * 254 + 1];
            payload_hex(&a, hex, sizeof hex);
            lgw_log(k->inst, LGW_LOG_WARN, "device %s point %s: %s from %s to %s (data %s) is not a %s: %s",
                    pt->dev->id, pt->name, apci_name(a.apci), knx_ia_format(src, ia, sizeof ia),
                    knx_ga_format(dst, ga, sizeof ga), hex, knx_dpt_format(pt->dpt, dpt, sizeof dpt),
                    knx_dpt_strerror(err));
            continue;
        }
        if (rdev != pt->dev) {
            if (r)
                lgw_report_commit(r);
            rdev = pt->dev;
            r = lgw_report_new(k->inst, rdev->id);
        }
        if (r)
            report_add(r, pt->name, &v);
    }
    if (r)
        lgw_report_commit(r);
}

static void on_link_up(void *data)
{
    knx_t *k = data;
    send_reads(k, &k->on_connect);
}

static void on_link_down(void *data)
{
    knx_t *k = data;
    for (size_t d = 0; d < k->cfg.n_devices; d++) {
        k->cfg.devices[d].awaiting_since = 0;
        set_online(k, &k->cfg.devices[d], false, "knxd unreachable");
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
        if ((err = value_to_knx(v, &kv)) != KNX_DPT_OK ||
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
            decode_apdu(pt->dpt, &a, &v) != KNX_DPT_OK)
            continue;
        if (!r)
            r = lgw_report_new(k->inst, dev->id);
        if (r)
            report_add(r, pt->name, &v);
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
            if (pt->read_on_start && group_add(&k->on_connect, pt) != LGW_OK)
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
            if (group_add(g, pt) != LGW_OK)
                return LGW_ENOMEM;
        }
    }
    for (size_t i = 0; i < k->n_polls; i++)
        k->polls[i].k = k; /* after the last realloc */
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
    k->offline_timer = lgw_timer_new(k->inst, on_offline_tick, k);
    if (!k->link || !k->offline_timer)
        return LGW_ENOMEM;
    uint64_t tick = k->cfg.read_timeout_ms / 4;
    tick = tick < 50 ? 50 : tick > 1000 ? 1000 : tick;
    lgw_timer_start(k->offline_timer, tick, tick);
    for (size_t i = 0; i < k->n_polls; i++) {
        knx_read_group_t *g = &k->polls[i];
        g->timer = lgw_timer_new(k->inst, on_poll, g);
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
    knx_link_free(k->link); /* waits for a connect in progress; no events afterwards */
    k->link = NULL;
    lgw_timer_free(k->offline_timer);
    k->offline_timer = NULL;
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
    if (k->link)
        knx_stop(k);
    group_free(&k->on_connect);
    for (size_t i = 0; i < k->n_polls; i++)
        group_free(&k->polls[i]);
    free(k->polls);
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
    lgw_driver_set_discovery(drv, knx_discovery);
    return LGW_OK;
}
