/*
 * The data layer's write-ahead log (issue 9: "kill -9 of the gateway at any
 * point loses nothing already accepted from a plugin, and duplicates at most
 * what was in flight"). The log itself is core/store/wal.{c,h}; this file
 * decides what goes in and when it may be forgotten.
 *
 * In: every value accepted from a plugin — it passed the mapping, the TSL
 * validation and report on change, and goes to the queue or to the hold
 * (uplink.c) — is appended before anything else happens to it. Appending is a
 * memcpy into a MAP_SHARED page: it survives the death of the process.
 *
 * Out, by generation rather than per value (the pack builder carries no
 * per-value tags): the open generation collects the seqs appended since it
 * was opened (a contiguous range). Every live post sent while it is open
 * (pack/post, property/post, event) takes a token on it, and every value it
 * hands to the hold (jpending, journaled at the next tick) marks it
 * `awaiting`. It is sealed at a timer tick that finds the queue empty — then
 * each of its values is in a post holding a token on it, or in jpending, or
 * already dealt with. A post gives its token back when it got 200 (at once)
 * or when it failed or was refused (its values went to the hold or were
 * dropped for good: the generation then waits for the next journal commit).
 * A sealed generation with no token and no awaited commit is resolved: a
 * resolve record for its range is appended, and once every older generation
 * is resolved too, the log may recycle the segments below it.
 *
 * At start (before the hub consumer is registered, so before any new value),
 * the values of the previous process that no resolve record covers are
 * written to the SQLite journal in one batch with their original pk, dn, id,
 * value and time, and then the old segments are deleted; they drain through
 * history/post like any journaled entry. What was in flight at the kill may
 * have reached the platform already: it arrives twice, with the same
 * timestamp.
 *
 * Limits (docs/data-path.md): a value is accepted when the loop thread has
 * taken its report from the host's cross-thread queue — a report committed
 * but still in that queue at the kill is lost; not power-loss safe unless
 * `wal_sync`; when the log is full (`wal_max_mib` of unresolved values) values
 * are not logged (counted `wal_full`, warned) and flow as before.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

#define WAL_LOG "data"
#define FULL_WARN_MS 10000

/* ---- generations ---------------------------------------------------------------- */

static data_wal_gen_t *gen_at(gw_data_t *d, size_t i)
{
    return &d->gens[(d->gen_head + i) % d->gen_cap];
}

static data_wal_gen_t *gen_find(gw_data_t *d, uint64_t id)
{
    if (!d->gen_n)
        return NULL;
    uint64_t front = gen_at(d, 0)->id;
    if (id < front || id - front >= d->gen_n)
        return NULL;
    return gen_at(d, (size_t)(id - front));
}

/* The open generation, created when @p create and there is none. NULL: none / out of memory. */
static data_wal_gen_t *gen_open(gw_data_t *d, bool create)
{
    if (d->gen_n) {
        data_wal_gen_t *g = gen_at(d, d->gen_n - 1);
        if (!g->sealed)
            return g;
    }
    if (!create)
        return NULL;
    if (d->gen_n == d->gen_cap) {
        size_t cap = d->gen_cap ? d->gen_cap * 2 : 64;
        data_wal_gen_t *na = malloc(cap * sizeof *na);
        if (!na)
            return NULL;
        for (size_t i = 0; i < d->gen_n; i++)
            na[i] = *gen_at(d, i);
        free(d->gens);
        d->gens = na;
        d->gen_cap = cap;
        d->gen_head = 0;
    }
    data_wal_gen_t *g = gen_at(d, d->gen_n++);
    uint64_t first = gw_wal_next_seq(d->wal);
    *g = (data_wal_gen_t){.id = ++d->gen_next, .first = first, .last = first - 1};
    return g;
}

/* Resolves @p g if nothing holds it any more. */
static void gen_try_resolve(gw_data_t *d, data_wal_gen_t *g)
{
    if (d->wal_pinned || g->resolved || !g->sealed || g->refs || g->awaiting)
        return;
    g->resolved = true;
    if (g->last >= g->first && gw_wal_resolve(d->wal, g->first, g->last) != GW_WAL_OK)
        GW_DEBUG(WAL_LOG, "wal: no room for a resolve record of %" PRIu64 "..%" PRIu64 " (recovered again after a crash)",
                 g->first, g->last);
}

/* Drops the resolved generations at the front and lets the log recycle below the oldest left. */
static void gen_pop(gw_data_t *d)
{
    if (d->wal_pinned)
        return;
    while (d->gen_n && gen_at(d, 0)->resolved) {
        d->gen_head = (d->gen_head + 1) % d->gen_cap;
        d->gen_n--;
    }
    gw_wal_release_below(d->wal, d->gen_n ? gen_at(d, 0)->first : gw_wal_next_seq(d->wal));
}

void data_wal_pin(gw_data_t *d, const char *why)
{
    if (!d->wal || d->wal_pinned)
        return;
    d->wal_pinned = true;
    /* no more generations: nothing is resolved or recycled any more, values are still appended */
    free(d->gens);
    d->gens = NULL;
    d->gen_n = d->gen_cap = d->gen_head = 0;
    GW_WARN(WAL_LOG, "wal: %s: the write-ahead log now keeps everything until the next start (it recovers it then; "
                     "duplicates possible)", why);
}

/* ---- hooks of the data path -------------------------------------------------------- */

void data_wal_value(gw_data_t *d, const data_dev_t *dev, bool event, const char *id, const json_t *value,
                    int64_t time_ms)
{
    gw_wal_value_t v = {.event = event, .pk = dev->pk, .dn = dev->dn, .id = id, .time_ms = time_ms};
    char *text = NULL;
    switch (json_typeof(value)) {
    case JSON_REAL:
        v.vtype = GW_WAL_V_DOUBLE;
        v.num.d = json_real_value(value);
        break;
    case JSON_INTEGER:
        v.vtype = GW_WAL_V_INT;
        v.num.i = json_integer_value(value);
        break;
    case JSON_TRUE: v.vtype = GW_WAL_V_TRUE; break;
    case JSON_FALSE: v.vtype = GW_WAL_V_FALSE; break;
    case JSON_NULL: v.vtype = GW_WAL_V_NULL; break;
    case JSON_STRING:
        v.vtype = GW_WAL_V_STRING;
        v.text = json_string_value(value);
        v.text_len = json_string_length(value);
        break;
    default: /* objects (events, structs) and arrays: JSON text */
        text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text) /* out of memory: this value is not logged, and flows as without the log */
            return;
        v.vtype = GW_WAL_V_JSON;
        v.text = text;
        v.text_len = strlen(text);
        break;
    }
    data_wal_gen_t *g = d->wal_pinned ? NULL : gen_open(d, true);
    if (!g && !d->wal_pinned)
        data_wal_pin(d, "out of memory tracking a generation");
    int rc = gw_wal_append(d->wal, &v);
    free(text);
    if (rc == GW_WAL_OK) {
        if (g)
            g->last = v.seq;
        return;
    }
    if (rc == GW_WAL_EINVAL) { /* cannot be for a value that passed the TSL (names ≤ 64, values ≤ 64 KiB) */
        GW_DEBUG(WAL_LOG, "wal: %s/%s %s not logged (field too long)", dev->pk, dev->dn, id);
        return;
    }
    uint64_t now = uv_now(d->deps.loop);
    if (!d->wal_full_log_at || now - d->wal_full_log_at >= FULL_WARN_MS) {
        gw_wal_stats_t ws;
        gw_wal_stats(d->wal, &ws);
        GW_WARN(WAL_LOG, "wal: %s; %" PRIu64 " value(s) not logged so far (a kill -9 now could lose them until it drains)",
                gw_wal_errmsg(d->wal), ws.full);
        d->wal_full_log_at = now;
    }
}

uint64_t data_wal_ref(gw_data_t *d)
{
    if (!d->wal || d->wal_pinned)
        return 0;
    data_wal_gen_t *g = gen_open(d, true);
    if (!g) {
        data_wal_pin(d, "out of memory tracking a generation");
        return 0;
    }
    g->refs++;
    return g->id;
}

void data_wal_unref(gw_data_t *d, uint64_t gen, bool via_journal)
{
    data_wal_gen_t *g = d->wal ? gen_find(d, gen) : NULL;
    if (!g || !g->refs)
        return;
    g->refs--;
    if (via_journal) {
        g->awaiting = true; /* its values went to jpending (or were dropped): the next commit settles it */
        return;
    }
    gen_try_resolve(d, g);
}

void data_wal_held(gw_data_t *d)
{
    data_wal_gen_t *g = d->wal ? gen_open(d, false) : NULL;
    if (g)
        g->awaiting = true;
}

void data_wal_committed(gw_data_t *d, bool ok)
{
    if (!d->wal)
        return;
    if (!ok) {
        data_wal_pin(d, "the journal cannot be written");
        return;
    }
    for (size_t i = 0; i < d->gen_n; i++) {
        data_wal_gen_t *g = gen_at(d, i);
        if (g->awaiting) {
            g->awaiting = false;
            gen_try_resolve(d, g);
        }
    }
}

void data_wal_tick(gw_data_t *d)
{
    if (!d->wal)
        return;
    data_wal_gen_t *g = gen_open(d, false);
    if (g && !d->pack_values && !gw_tsl_pack_pending(d->pack)) {
        g->sealed = true; /* each of its values is in a post holding a token, in jpending, or done */
        gen_try_resolve(d, g);
    }
    gen_pop(d);
    if (d->opt.wal_sync && gw_wal_sync(d->wal) != GW_WAL_OK)
        GW_WARN(WAL_LOG, "wal: %s", gw_wal_errmsg(d->wal));
}

void data_wal_close(gw_data_t *d)
{
    if (!d->wal)
        return;
    data_wal_tick(d);
    size_t left = 0;
    for (size_t i = 0; i < d->gen_n; i++) {
        data_wal_gen_t *g = gen_at(d, i);
        if (!g->resolved && g->last >= g->first)
            left += (size_t)(g->last - g->first + 1);
    }
    bool clean = !d->wal_pinned && left == 0;
    if (!clean)
        GW_WARN(WAL_LOG, "wal: %zu value(s) not resolved at shutdown: kept for the next start", left);
    gw_wal_close(d->wal, clean);
    d->wal = NULL;
    free(d->gens);
    d->gens = NULL;
    d->gen_n = d->gen_cap = d->gen_head = 0;
}

void data_wal_stats(gw_data_t *d, gw_data_stats_t *out)
{
    out->wal = d->wal != NULL;
    out->wal_recovered = d->wal_recovered;
    if (!d->wal)
        return;
    gw_wal_stats_t ws;
    gw_wal_stats(d->wal, &ws);
    out->wal_segments = ws.segments;
    out->wal_bytes = ws.bytes;
    out->wal_full = ws.full;
    uint64_t pending = 0;
    for (size_t i = 0; i < d->gen_n; i++) {
        data_wal_gen_t *g = gen_at(d, i);
        if (!g->resolved && g->last >= g->first)
            pending += g->last - g->first + 1;
    }
    out->wal_pending = pending;
}

/* ---- recovery ------------------------------------------------------------------------ */

typedef struct recover_ctx {
    gw_store_t *store;
    uint64_t ok, bad;
    bool failed;   /* a value could not be journaled: keep the segments for the next start */
} recover_ctx_t;

/* The JSON text of a recovered value (malloc'ed), NULL if it cannot be rendered. */
static char *value_text(const gw_wal_value_t *v)
{
    json_t *j = NULL;
    switch (v->vtype) {
    case GW_WAL_V_NULL: j = json_null(); break;
    case GW_WAL_V_FALSE: j = json_false(); break;
    case GW_WAL_V_TRUE: j = json_true(); break;
    case GW_WAL_V_INT: j = json_integer((json_int_t)v->num.i); break;
    case GW_WAL_V_DOUBLE: j = json_real(v->num.d); break;
    case GW_WAL_V_STRING: j = json_stringn(v->text, v->text_len); break;
    case GW_WAL_V_JSON: /* compact JSON text as logged: kept as is once it parses */
        if (!(j = json_loadb(v->text, v->text_len, JSON_DECODE_ANY, NULL)))
            return NULL;
        json_decref(j);
        return strndup(v->text, v->text_len);
    }
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return text;
}

static int recover_one(void *arg, const gw_wal_value_t *v)
{
    recover_ctx_t *c = arg;
    char pk[GW_WAL_NAME_MAX + 1], dn[GW_WAL_NAME_MAX + 1], id[GW_WAL_NAME_MAX + 1];
    snprintf(pk, sizeof pk, "%.*s", v->pk_len, v->pk);
    snprintf(dn, sizeof dn, "%.*s", v->dn_len, v->dn);
    snprintf(id, sizeof id, "%.*s", v->id_len, v->id);
    char *text = value_text(v);
    gw_journal_rec_t rec = {
        .pk = pk,
        .dn = dn,
        .kind = v->event ? GW_JOURNAL_EVENT : GW_JOURNAL_PROPERTY,
        .identifier = id,
        .value_json = text,
        .ts_ms = v->time_ms,
    };
    int rc = text ? gw_journal_append(c->store, &rec, NULL) : GW_STORE_EINVAL;
    free(text);
    if (rc == GW_STORE_OK) {
        c->ok++;
        return 0;
    }
    if (rc == GW_STORE_EINVAL) { /* cannot be rendered, or larger than the whole budget: never will be */
        c->bad++;
        return 0;
    }
    /* the journal cannot take it now (I/O error, disk full): stop; the segments are kept */
    c->failed = true;
    return -1;
}

void data_wal_start(gw_data_t *d)
{
    if (!data_journal_enabled(d) || !d->opt.wal)
        return;
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/wal", gw_store_dir(d->deps.store)) >= (int)sizeof dir) {
        GW_ERROR(WAL_LOG, "wal: state directory path too long; running without the write-ahead log");
        return;
    }
    recover_ctx_t c = {.store = d->deps.store};
    gw_wal_report_t rep;
    bool batch = gw_journal_batch_begin(d->deps.store) == GW_STORE_OK;
    int rc = gw_wal_recover(dir, recover_one, &c, &rep);
    if (batch && gw_store_batch_commit(d->deps.store) != GW_STORE_OK) {
        /* the segments stay: the next start tries again */
        GW_ERROR(WAL_LOG, "wal: cannot write %" PRIu64 " recovered value(s) to the journal (%s); running without the "
                          "write-ahead log, its files are kept for the next start",
                 c.ok, gw_store_errmsg(d->deps.store));
        return;
    }
    if (c.failed) {
        GW_ERROR(WAL_LOG, "wal: cannot journal the values recovered from %s (%s); running without the write-ahead "
                          "log, its files are kept for the next start",
                 dir, gw_store_errmsg(d->deps.store));
        return;
    }
    if (rc != GW_WAL_OK) {
        GW_ERROR(WAL_LOG, "wal: cannot read %s; running without the write-ahead log", dir);
        return;
    }
    d->wal_recovered = c.ok;
    d->st.journaled += c.ok;
    if (rep.segments || rep.torn)
        GW_INFO(WAL_LOG,
                "wal: recovered %" PRIu64 " value(s) of the previous run into the journal (%" PRIu64
                " segment(s), %" PRIu64 " value(s) already resolved, %" PRIu64 " unusable, %" PRIu64
                " torn or corrupt tail(s) skipped)",
                c.ok, rep.segments, rep.resolved, c.bad, rep.torn);
    gw_wal_options_t o = {.max_bytes = d->opt.wal_max_bytes, .first_seq = rep.max_seq + 1};
    char err[300];
    if (gw_wal_open(dir, &o, &d->wal, err, sizeof err) != GW_WAL_OK) {
        GW_ERROR(WAL_LOG, "wal: %s; running without the write-ahead log", err);
        d->wal = NULL;
    }
}
