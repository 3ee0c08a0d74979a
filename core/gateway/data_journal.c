/*
 * Store-and-forward (issue 9): values and events that could not be
 * delivered live — link down, a post without reply, a sub-device without a
 * session — are appended to the store's journal (SQLite, survives kill -9,
 * bounded by a byte budget with drop-oldest and a dropped counter). Appends
 * of one timer tick are collected in memory and written in one transaction
 * (data_journal_commit on every tick of the data layer's timer; never a batch
 * left open across callbacks, the lifecycle shares the store), so a crash
 * loses at most the last tick (flush_ms) of what was being journaled.
 *
 * The drain runs on the same timer while the link is up: entries are read in
 * sequence order and posted through thing/event/property/history/post on the
 * gateway's topic, with their original timestamps, at most drain_rate
 * entries per second and two posts in flight, so live data keeps flowing.
 * Entries of sub-devices that are not logged in (yet) are skipped and picked
 * up on a later pass. An entry leaves the journal only when the platform
 * answered 200 for its post (gw_journal_ack); a failed or unanswered post
 * leaves its entries in place and restarts the scan from the oldest entry.
 * Entries the platform refuses for good (TSL codes, no topology) are
 * deleted with a warning and counted as rejected.
 */
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

#define DRAIN_BATCH 100   /* entries per history/post */
#define DRAIN_INFLIGHT 2  /* history/post messages waiting for a reply */

bool data_journal_enabled(gw_data_t *d)
{
    return d->deps.store && d->opt.journal;
}

/* One record of jpending; the strings follow it (see data_internal.h). */
typedef struct jrec {
    int64_t time_ms;
    uint32_t size;       /* whole record with its strings, a multiple of 8 */
    uint8_t event;
    uint8_t pad[3];
} jrec_t;

#define JBUF_KEEP (1u << 20) /* a jpending buffer grown past this by a burst is given back */
#define JOURNAL_IDLE_MS 5000  /* journal idle this long: its memory is given back */
#define VALUE_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY)

int data_journal_put(gw_data_t *d, const char *pk, const char *dn, bool event, const char *id, const json_t *value,
                     int64_t time_ms)
{
    size_t pl = strlen(pk) + 1, dl = strlen(dn) + 1, il = strlen(id) + 1;
    size_t vl = json_dumpb(value, NULL, 0, VALUE_FLAGS);
    if (vl == 0 || vl > GW_JOURNAL_VALUE_MAX)
        return -1; /* the journal would refuse it at the commit: the caller holds it in memory instead */
    size_t size = (sizeof(jrec_t) + pl + dl + il + vl + 1 + 7) & ~(size_t)7;
    if (size > UINT32_MAX)
        return -1;
    if (d->jlen + size > d->jcap) {
        size_t cap = d->jcap ? d->jcap : 16384;
        while (cap < d->jlen + size)
            cap *= 2;
        char *nb = realloc(d->jbuf, cap);
        if (!nb)
            return -1;
        d->jbuf = nb;
        d->jcap = cap;
    }
    char *p = d->jbuf + d->jlen;
    jrec_t h = { .time_ms = time_ms, .size = (uint32_t)size, .event = event };
    memcpy(p, &h, sizeof h);
    char *o = p + sizeof h;
    memcpy(o, pk, pl);
    o += pl;
    memcpy(o, dn, dl);
    o += dl;
    memcpy(o, id, il);
    o += il;
    if (json_dumpb(value, o, vl, VALUE_FLAGS) != vl)
        return -1;
    o[vl] = '\0';
    d->jlen += size;
    return 0;
}

static void journal_busy(gw_data_t *d)
{
    d->journal_busy_at = uv_now(d->deps.loop);
    d->journal_slim = false;
}

/* Nothing appended or drained for JOURNAL_IDLE_MS: give back what the last burst grew. */
static void journal_idle(gw_data_t *d)
{
    if (d->journal_slim || uv_now(d->deps.loop) - d->journal_busy_at < JOURNAL_IDLE_MS)
        return;
    d->journal_slim = true;
    free(d->jbuf);
    d->jbuf = NULL;
    d->jcap = 0;
    size_t freed = gw_store_release_memory(d->deps.store);
    if (freed)
        GW_DEBUG(DATA_LOG, "journal idle: released %zu bytes of the store's page cache", freed);
}

/*
 * Writes what data_journal_put() collected in one journal batch, opened and
 * committed here (never left open: the lifecycle shares the store).
 */
void data_journal_commit(gw_data_t *d)
{
    if (!d->jlen) {
        data_wal_committed(d, true);
        journal_idle(d);
        return;
    }
    journal_busy(d);
    /* detached while it is written, so nothing that runs meanwhile can append to it */
    char *buf = d->jbuf;
    size_t len = d->jlen, cap = d->jcap, n = 0;
    d->jbuf = NULL;
    d->jlen = d->jcap = 0;
    bool batch = gw_journal_batch_begin(d->deps.store) == GW_STORE_OK;
    size_t ok = 0;
    for (size_t at = 0; at < len; n++) {
        jrec_t h;
        memcpy(&h, buf + at, sizeof h);
        const char *pk = buf + at + sizeof h;
        const char *dn = pk + strlen(pk) + 1;
        const char *id = dn + strlen(dn) + 1;
        gw_journal_rec_t rec = {
            .pk = pk,
            .dn = dn,
            .kind = h.event ? GW_JOURNAL_EVENT : GW_JOURNAL_PROPERTY,
            .identifier = id,
            .value_json = id + strlen(id) + 1,
            .ts_ms = h.time_ms,
        };
        int rc = gw_journal_append(d->deps.store, &rec, NULL);
        if (rc == GW_STORE_OK)
            ok++;
        else
            GW_WARN(DATA_LOG, "%s/%s: cannot journal %s (store error %d)", rec.pk, rec.dn, rec.identifier, rc);
        at += h.size;
    }
    bool committed = !batch || gw_store_batch_commit(d->deps.store) == GW_STORE_OK;
    if (!committed) {
        GW_ERROR(DATA_LOG, "journal commit of %zu entries failed: they are lost%s", n,
                 d->wal ? " (but still in the write-ahead log)" : "");
        ok = 0;
    }
    data_wal_committed(d, committed);
    d->st.journaled += ok;
    if (!d->jbuf && cap <= JBUF_KEEP) { /* keep the buffer for the next tick */
        d->jbuf = buf;
        d->jcap = cap;
    } else {
        free(buf);
    }
}

void data_journal_forget(gw_data_t *d, const char *pk, const char *dn)
{
    data_dev_t *dev = data_dev_by_pkdn(d, pk, dn);
    size_t held = 0;
    if (dev) { /* the in-memory hold (no journal) */
        held = json_array_size(dev->held_props) + json_array_size(dev->held_events);
        json_decref(dev->held_props);
        json_decref(dev->held_events);
        dev->held_props = dev->held_events = NULL;
        gw_list_remove(&dev->held_link);
        d->st.held_dropped += held;
    }
    size_t n = 0;
    if (data_journal_enabled(d)) {
        data_journal_commit(d); /* what this tick collected goes in first, this device's included */
        if (gw_journal_forget_device(d->deps.store, pk, dn, &n) != GW_STORE_OK) {
            GW_WARN(DATA_LOG, "%s/%s: cannot drop its journaled values: %s", pk, dn,
                    gw_store_errmsg(d->deps.store));
            n = 0;
        }
    }
    if (n + held)
        GW_INFO(DATA_LOG, "%s/%s: %zu journaled value(s) dropped with the device", pk, dn, n + held);
}

static bool sendable(gw_data_t *d, const gw_journal_entry_t *e)
{
    if (!strcmp(e->pk, d->gw_pk) && !strcmp(e->dn, d->gw_dn))
        return true;
    return gw_subdev_logged_in(d->deps.subdev, e->pk, e->dn);
}

/* The params block of pk/dn in @p params, NULL if none yet. */
static json_t *find_block(json_t *params, const char *pk, const char *dn)
{
    size_t i;
    json_t *b;
    json_array_foreach(params, i, b) {
        json_t *ident = json_object_get(b, "identity");
        if (!strcmp(json_string_value(json_object_get(ident, "productKey")), pk) &&
            !strcmp(json_string_value(json_object_get(ident, "deviceName")), dn))
            return b;
    }
    return NULL;
}

/* A new params block of pk/dn, appended to @p params (borrowed reference). */
static json_t *new_block(json_t *params, const char *pk, const char *dn)
{
    json_t *b = json_pack("{s{ssss}s[]s[]}", "identity", "productKey", pk, "deviceName", dn, "properties", "events");
    json_array_append_new(params, b);
    return b;
}

/* The exact length of a history/post params holding only entry @p e (value @p v); (size_t)-1 on OOM. */
static size_t alone_bytes(const gw_journal_entry_t *e, json_t *v)
{
    json_t *one = json_pack("[{s{ssss}s[{s{sOsI}}]s[]}]", "identity", "productKey", e->pk, "deviceName", e->dn,
                            e->kind == GW_JOURNAL_EVENT ? "events" : "properties", e->identifier, "value", v, "time",
                            (json_int_t)e->ts_ms, e->kind == GW_JOURNAL_EVENT ? "properties" : "events");
    size_t n = one ? json_dumpb(one, NULL, 0, JSON_COMPACT) : 0;
    json_decref(one);
    return n ? n : (size_t)-1;
}

/*
 * Sends one history/post of up to @p max entries, and at most
 * gw_tsl_pack_max_bytes() of params (the byte budget of every uplink
 * message): the batch stops before the entry that would not fit, which is
 * read again by the next call. Sizes are bounded the pack builder's way
 * (gw_tsl_entry_bytes, gw_tsl_identity_bytes: every entry and block counted
 * with a comma, so a batch may be counted two bytes over and still fit). An
 * entry too big even alone can never be sent: it is deleted from the journal
 * and counted as oversize (data_oversize). Returns how many were sent, -1
 * when nothing is left.
 */
static long drain_once(gw_data_t *d, size_t max)
{
    gw_journal_entry_t *e = NULL;
    size_t n = 0;
    if (gw_journal_read(d->deps.store, d->drain_after, max, &e, &n) != GW_STORE_OK || n == 0) {
        gw_journal_entries_free(e, n);
        return -1;
    }
    json_t *params = json_array();
    uint64_t *seqs = calloc(n, sizeof *seqs), *drop = NULL;
    size_t k = 0, nd = 0, i = 0;
    size_t budget = gw_tsl_pack_max_bytes(d->pack), bytes = 2; /* the array's brackets */
    for (; i < n && seqs; i++) {
        if (!sendable(d, &e[i]))
            continue;
        json_t *v = json_loads(e[i].value_json, JSON_DECODE_ANY, NULL);
        if (!v)
            continue; /* cannot be: we wrote it; it will be dropped by the budget eventually */
        size_t blk = gw_tsl_identity_bytes(e[i].pk, e[i].dn);
        size_t ent = gw_tsl_entry_bytes(e[i].identifier, v, e[i].ts_ms) + 2; /* + the {} around it */
        json_t *b = find_block(params, e[i].pk, e[i].dn);
        size_t cost = ent + (b ? 0 : blk);
        if (bytes + cost > budget + 2) {
            /* alone (bound first, exact only when the bound says no) */
            size_t alone = 2 + blk + ent > budget + 2 ? alone_bytes(&e[i], v) : 0;
            if (alone == (size_t)-1) { /* out of memory: try again later */
                json_decref(v);
                break;
            }
            if (alone > budget) { /* never sendable: delete it */
                if (!drop && !(drop = calloc(n, sizeof *drop))) {
                    json_decref(v);
                    break;
                }
                drop[nd++] = e[i].seq;
                data_oversize(d, e[i].pk, e[i].dn, e[i].identifier, e[i].kind == GW_JOURNAL_EVENT, alone);
                json_decref(v);
                continue;
            }
            if (k) { /* full: this entry starts the next batch */
                json_decref(v);
                break;
            }
        }
        bytes += cost;
        if (!b)
            b = new_block(params, e[i].pk, e[i].dn);
        json_t *entry = json_pack("{s{sosI}}", e[i].identifier, "value", v, "time", (json_int_t)e[i].ts_ms);
        json_array_append_new(json_object_get(b, e[i].kind == GW_JOURNAL_EVENT ? "events" : "properties"), entry);
        seqs[k++] = e[i].seq;
    }
    if (i > 0) /* entries from i on are read again by the next call */
        d->drain_after = e[i - 1].seq;
    gw_journal_entries_free(e, n);
    journal_busy(d);
    if (nd) {
        size_t removed = 0;
        if (gw_journal_drop(d->deps.store, drop, nd, &removed) != GW_STORE_OK)
            GW_WARN(DATA_LOG, "cannot remove %zu oversize journal entries", nd);
    }
    free(drop);
    if (!k) {
        free(seqs);
        json_decref(params);
        return 0;
    }
    char *text = json_dumps(params, JSON_COMPACT);
    json_decref(params);
    char topic[320];
    snprintf(topic, sizeof topic, "/sys/%s/%s/thing/event/property/history/post", d->gw_pk, d->gw_dn);
    data_inflight_t *f =
        text ? data_send_request(d, topic, "thing.event.property.history.post", text, strlen(text)) : NULL;
    free(text);
    if (!f) {
        free(seqs);
        d->drain_after = 0;
        return -1;
    }
    f->history = true;
    f->seqs = seqs;
    f->n_seqs = k;
    f->n_values = k;
    d->drain_inflight++;
    return (long)k;
}

void data_journal_drain(gw_data_t *d)
{
    if (!data_journal_enabled(d) || !d->connected || !d->gw_pk[0])
        return;
    uint64_t now = uv_now(d->deps.loop);
    double rate = d->opt.drain_rate ? d->opt.drain_rate : 1000;
    if (d->drain_budget_ms)
        d->drain_tokens += (double)(now - d->drain_budget_ms) * rate / 1000.0;
    d->drain_budget_ms = now;
    double burst = rate / 2 > 1 ? rate / 2 : 1; /* at most half a second's worth at once */
    if (d->drain_tokens > burst)
        d->drain_tokens = burst;
    data_journal_commit(d); /* read what was appended */
    if (now < d->drain_rescan_at)
        return;
    for (int guard = 0; guard < 8 && d->drain_inflight < DRAIN_INFLIGHT && d->drain_tokens >= 1; guard++) {
        size_t max = d->drain_tokens < DRAIN_BATCH ? (size_t)d->drain_tokens : DRAIN_BATCH;
        long sent = drain_once(d, max);
        if (sent < 0) {
            /* end of the journal: once nothing is in flight, the next pass (in a second)
             * starts from the oldest entry again (entries of devices not logged in yet) */
            if (d->drain_inflight == 0 && d->drain_after) {
                d->drain_after = 0;
                d->drain_rescan_at = now + 1000;
            }
            break;
        }
        d->drain_tokens -= sent ? (double)sent : (double)max / 4;
    }
}

void data_journal_on_reply(gw_data_t *d, data_inflight_t *f, int code)
{
    if (d->drain_inflight)
        d->drain_inflight--;
    size_t removed = 0;
    if (code == 200 || (code > 0 && code != 520 && code != 429 && code != 500 && code != 503 && code != 400)) {
        if (gw_journal_ack(d->deps.store, f->seqs, f->n_seqs, &removed) != GW_STORE_OK)
            GW_WARN(DATA_LOG, "cannot remove %zu acknowledged journal entries", f->n_seqs);
        if (code == 200) {
            d->st.drained += removed;
        } else {
            d->st.rejected += removed;
            GW_WARN(DATA_LOG, "history/post of %zu entries refused with code %d: dropped", f->n_seqs, code);
        }
        return;
    }
    d->drain_after = 0; /* retriable: start again from the oldest entry */
}
