/*
 * KNX plugin: reading the bus. One table of distinct read addresses (each
 * with the devices that must answer), one paced queue that sends them, the
 * poll groups (one timer per interval) that fill it, property read requests
 * from the cloud, and the online/offline bookkeeping that hangs on reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knx_plugin.h"

/* ---- online / offline --------------------------------------------------------- */

void knx_set_online(knx_t *k, knx_device_t *dev, bool online, const char *why)
{
    if (dev->online == online)
        return;
    dev->online = online;
    lgw_log(k->inst, LGW_LOG_INFO, "device %s %s (%s)", dev->id, online ? "online" : "offline", why);
    lgw_device_set_online(k->inst, dev->id, online);
}

/* A telegram from (or for) @p dev arrived. */
void knx_device_heard(knx_t *k, knx_device_t *dev, uint16_t src)
{
    if (dev->has_ia && src != dev->ia)
        return;
    dev->awaiting_since = 0;
    knx_set_online(k, dev, true, "telegram received");
}

/* ---- property read requests ----------------------------------------------------- */

/* Completes and frees @p pr (already unlinked). */
static void pread_finish(knx_pread_t *pr, int code, const char *msg)
{
    lgw_request_done(pr->req, code, msg);
    free(pr->pts);
    free(pr->got);
    free(pr);
}

/* Completes every pending read with @p code (link down, instance stopping). */
void knx_preads_fail_all(knx_t *k, int code, const char *msg)
{
    while (k->preads) {
        knx_pread_t *pr = k->preads;
        k->preads = pr->next;
        pread_finish(pr, code, msg);
    }
}

/* Hands the decoded value of @p pt to the read requests waiting for it. */
void knx_preads_offer(knx_t *k, knx_point_t *pt, const knx_val_t *v)
{
    for (knx_pread_t **pp = &k->preads; *pp;) {
        knx_pread_t *pr = *pp;
        for (size_t i = 0; i < pr->n; i++) {
            if (pr->pts[i] != pt || pr->got[i])
                continue;
            lgw_value_t *val = knx_to_value(v);
            if (val && lgw_request_add_output(pr->req, pt->name, val) == LGW_OK) {
                pr->got[i] = true;
                pr->n_got++;
            }
        }
        if (pr->n_got == pr->n) {
            *pp = pr->next;
            pread_finish(pr, LGW_REPLY_SUCCESS, NULL);
        } else {
            pp = &pr->next;
        }
    }
}

/* Fails the read requests whose time is up. */
static void preads_expire(knx_t *k, uint64_t now)
{
    for (knx_pread_t **pp = &k->preads; *pp;) {
        knx_pread_t *pr = *pp;
        if (now < pr->deadline) {
            pp = &pr->next;
            continue;
        }
        *pp = pr->next;
        char msg[160];
        size_t i = 0;
        while (i < pr->n && pr->got[i])
            i++;
        snprintf(msg, sizeof msg, "no answer from the bus for point '%s' within %u ms",
                 i < pr->n ? pr->pts[i]->name : "?", (unsigned)k->cfg.read_timeout_ms);
        pread_finish(pr, KNX_REPLY_NO_ANSWER, msg);
    }
}

void knx_on_offline_tick(lgw_timer_t *timer, void *data)
{
    (void)timer;
    knx_t *k = data;
    uint64_t now = lgw_monotonic_ms();
    preads_expire(k, now);
    for (size_t d = 0; d < k->cfg.n_devices; d++) {
        knx_device_t *dev = &k->cfg.devices[d];
        if (dev->awaiting_since && now - dev->awaiting_since >= k->cfg.read_timeout_ms) {
            dev->awaiting_since = 0;
            knx_set_online(k, dev, false, "no answer to read requests");
        }
    }
}

/* ---- reads ------------------------------------------------------------------ */

/*
 * Sends the next queued read and arms the pace timer; when the queue is empty
 * pacing stops. Reads are paced because a KNX TP line carries only a few dozen
 * telegrams a second: a burst of hundreds would sit in knxd's queue longer
 * than read_timeout_ms and make healthy devices look dead.
 */
static void pace_next(knx_t *k)
{
    if (k->q_len == 0 || !knx_link_is_up(k->link)) {
        k->pacing = false;
        return;
    }
    knx_read_t *rd = &k->reads[k->queue[k->q_head]];
    k->q_head = (k->q_head + 1) % k->n_reads;
    k->q_len--;
    rd->queued = false;
    uint8_t apdu[KNX_APDU_MAX];
    size_t len = knx_apdu_build(KNX_APCI_READ, false, NULL, 0, apdu);
    if (knx_link_send(k->link, rd->ga, apdu, len) != LGW_OK) {
        k->pacing = false; /* the link went down and the queue was cleared */
        return;
    }
    uint64_t now = lgw_monotonic_ms();
    for (size_t i = 0; i < rd->n_devs; i++)
        if (!rd->devs[i]->awaiting_since)
            rd->devs[i]->awaiting_since = now ? now : 1;
    k->pacing = true;
    lgw_timer_start(k->pace_timer, 1000 / k->cfg.read_rate ? 1000 / k->cfg.read_rate : 1, 0);
}

void knx_on_pace(lgw_timer_t *timer, void *data)
{
    (void)timer;
    pace_next(data);
}

/* Queues read entry @p idx unless it is queued already; call knx_pace_start() after. */
void knx_queue_read(knx_t *k, size_t idx)
{
    knx_read_t *rd = &k->reads[idx];
    if (rd->queued)
        return;
    rd->queued = true;
    k->queue[(k->q_head + k->q_len) % k->n_reads] = idx;
    k->q_len++;
}

void knx_pace_start(knx_t *k)
{
    if (!k->pacing)
        pace_next(k);
}

/* Queues the reads of @p g (each address at most once in the queue). */
void knx_queue_reads(knx_t *k, knx_read_group_t *g)
{
    if (!knx_link_is_up(k->link))
        return;
    for (size_t i = 0; i < g->n_reads; i++)
        knx_queue_read(k, g->reads[i]);
    knx_pace_start(k);
}

void knx_clear_queue(knx_t *k)
{
    for (size_t i = 0; i < k->n_reads; i++)
        k->reads[i].queued = false;
    k->q_head = k->q_len = 0;
}

void knx_on_poll(lgw_timer_t *timer, void *data)
{
    (void)timer;
    knx_read_group_t *g = data;
    knx_queue_reads(g->k, g);
}

/* Index of the read entry for @p pt (created on first use, with pt's device added), or -1. */
long knx_read_index(knx_t *k, knx_point_t *pt)
{
    size_t i = 0;
    while (i < k->n_reads && k->reads[i].ga != pt->read_ga)
        i++;
    if (i == k->n_reads) {
        knx_read_t *n = realloc(k->reads, (k->n_reads + 1) * sizeof *n);
        if (!n)
            return -1;
        k->reads = n;
        memset(&k->reads[i], 0, sizeof k->reads[i]);
        k->reads[i].ga = pt->read_ga;
        k->n_reads++;
    }
    knx_read_t *rd = &k->reads[i];
    for (size_t d = 0; d < rd->n_devs; d++)
        if (rd->devs[d] == pt->dev)
            return (long)i;
    knx_device_t **n = realloc(rd->devs, (rd->n_devs + 1) * sizeof *n);
    if (!n)
        return -1;
    rd->devs = n;
    rd->devs[rd->n_devs++] = pt->dev;
    return (long)i;
}

/* Adds @p pt's read to @p g (each address once per group). */
int knx_group_add(knx_t *k, knx_read_group_t *g, knx_point_t *pt)
{
    long idx = knx_read_index(k, pt);
    if (idx < 0)
        return LGW_ENOMEM;
    for (size_t i = 0; i < g->n_reads; i++)
        if (g->reads[i] == (size_t)idx)
            return LGW_OK;
    size_t *n = realloc(g->reads, (g->n_reads + 1) * sizeof *n);
    if (!n)
        return LGW_ENOMEM;
    g->reads = n;
    g->reads[g->n_reads++] = (size_t)idx;
    return LGW_OK;
}

void knx_group_free(knx_read_group_t *g)
{
    lgw_timer_free(g->timer);
    free(g->reads);
    memset(g, 0, sizeof *g);
}

/* ---- the read callback ---------------------------------------------------------- */

int knx_read_request(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *names)
{
    knx_t *k = data;
    knx_device_t *dev = knx_settings_find_device(&k->cfg, device_id);
    if (!dev)
        return LGW_ENOENT;
    if (lgw_value_type(names) != LGW_TYPE_ARRAY)
        return LGW_EINVAL;
    size_t n = lgw_value_count(names);
    if (n == 0) {
        lgw_request_done(req, LGW_REPLY_SUCCESS, NULL);
        return LGW_OK;
    }
    knx_pread_t *pr = calloc(1, sizeof *pr);
    if (!pr || !(pr->pts = calloc(n, sizeof *pr->pts)) || !(pr->got = calloc(n, sizeof *pr->got))) {
        if (pr)
            free(pr->pts);
        free(pr);
        return LGW_ENOMEM;
    }
    pr->req = req;
    char msg[160] = "";
    for (size_t i = 0; i < n && !msg[0]; i++) {
        const char *name = NULL;
        lgw_value_get_text(lgw_value_array_at(names, i), &name, NULL);
        knx_point_t *pt = name ? knx_device_find_point(dev, name) : NULL;
        if (!pt)
            snprintf(msg, sizeof msg, "device %s has no point '%s'", dev->id, name ? name : "?");
        else if (!(pt->access & LGW_ACCESS_READ) || pt->read_idx < 0)
            snprintf(msg, sizeof msg, "point '%s' cannot be read from the bus (no read access or no state or write "
                     "address)", pt->name);
        else
            pr->pts[pr->n++] = pt;
    }
    if (msg[0] || !knx_link_is_up(k->link)) {
        pread_finish(pr, msg[0] ? LGW_REPLY_PARAM_ERROR : KNX_REPLY_BUS_DOWN,
                     msg[0] ? msg : "knxd is not connected");
        return LGW_OK;
    }
    /* the same point asked twice counts once */
    for (size_t i = 0; i < pr->n; i++)
        for (size_t j = 0; j < i; j++)
            if (pr->pts[j] == pr->pts[i] && !pr->got[i]) {
                pr->got[i] = true;
                pr->n_got++;
            }
    for (size_t i = 0; i < pr->n; i++)
        knx_queue_read(k, (size_t)pr->pts[i]->read_idx);
    /* the timeout counts from when the last of these reads can have gone out */
    pr->deadline = lgw_monotonic_ms() + k->cfg.read_timeout_ms + (uint64_t)k->q_len * 1000 / k->cfg.read_rate;
    pr->next = k->preads;
    k->preads = pr;
    knx_pace_start(k);
    return LGW_OK;
}
