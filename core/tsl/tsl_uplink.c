/*
 * Uplink helpers: change detection, full-report timing and the pack/post
 * builder (contracts in tsl_uplink.h).
 */
#include "tsl_uplink.h"
#include "tsl_codes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool gw_tsl_changed(const json_t *last, const json_t *now, double deadband)
{
    if (!last)
        return true;
    if (!now)
        return false;
    if (json_is_number(last) && json_is_number(now)) {
        double d = fabs(json_number_value(now) - json_number_value(last));
        if (deadband > 0)
            return d > deadband;
        /* integers compare exactly (a double loses precision above 2^53) */
        if (json_is_integer(last) && json_is_integer(now))
            return json_integer_value(last) != json_integer_value(now);
        return json_number_value(now) != json_number_value(last);
    }
    return !json_equal((json_t *)last, (json_t *)now);
}

bool gw_tsl_full_report_due(int64_t period_ms, int64_t last_ms, int64_t now_ms)
{
    if (period_ms <= 0)
        return false;
    if (last_ms < 0 || now_ms < last_ms)
        return true;
    return now_ms - last_ms >= period_ms;
}

int64_t gw_tsl_full_report_delay(int64_t period_ms, int64_t last_ms, int64_t now_ms)
{
    if (period_ms <= 0)
        return -1;
    if (gw_tsl_full_report_due(period_ms, last_ms, now_ms))
        return 0;
    return last_ms + period_ms - now_ms;
}

/* ---- pack/post builder ---------------------------------------------------- */

typedef struct item {
    char *id;
    json_t *value;
    int64_t time_ms;
    bool event;
} item_t;

struct gw_tsl_pack_dev {
    char *pk, *dn;      /* NULL, NULL: the gateway */
    uint64_t hash;
    item_t *items;
    size_t n, cap;
    gw_tsl_pack_t *owner;
};

struct gw_tsl_pack {
    size_t max_sub, max_props, max_events;
    gw_tsl_pack_dev_t **devs; /* insertion order */
    size_t n_devs, cap_devs;
    gw_tsl_pack_dev_t **table; /* open addressing, power-of-two size */
    size_t table_cap;
    size_t pending;
};

gw_tsl_pack_t *gw_tsl_pack_new(void)
{
    gw_tsl_pack_t *p = calloc(1, sizeof *p);
    if (p)
        gw_tsl_pack_set_limits(p, 0, 0, 0);
    return p;
}

void gw_tsl_pack_set_limits(gw_tsl_pack_t *p, size_t max_subdevs, size_t max_props, size_t max_events)
{
    p->max_sub = max_subdevs && max_subdevs < GW_TSL_MAX_SUBDEVS_PER_PACK ? max_subdevs : GW_TSL_MAX_SUBDEVS_PER_PACK;
    p->max_props = max_props && max_props < GW_TSL_MAX_PROPS_PER_POST ? max_props : GW_TSL_MAX_PROPS_PER_POST;
    p->max_events = max_events && max_events < GW_TSL_MAX_EVENTS_PER_PACK ? max_events : GW_TSL_MAX_EVENTS_PER_PACK;
}

static void dev_free(gw_tsl_pack_dev_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].id);
        json_decref(d->items[i].value);
    }
    free(d->items);
    free(d->pk);
    free(d->dn);
    free(d);
}

/* Drops every device (after a take or on free). */
static void clear(gw_tsl_pack_t *p)
{
    for (size_t i = 0; i < p->n_devs; i++)
        dev_free(p->devs[i]);
    p->n_devs = 0;
    p->pending = 0;
    if (p->table)
        memset(p->table, 0, p->table_cap * sizeof *p->table);
}

void gw_tsl_pack_free(gw_tsl_pack_t *p)
{
    if (!p)
        return;
    clear(p);
    free(p->devs);
    free(p->table);
    free(p);
}

static uint64_t hash_id(const char *pk, const char *dn)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *s = pk ? pk : ""; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
    for (const char *s = dn ? dn : ""; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static bool same_dev(const gw_tsl_pack_dev_t *d, const char *pk, const char *dn)
{
    if (!pk || !dn)
        return !d->pk;
    return d->pk && strcmp(d->pk, pk) == 0 && strcmp(d->dn, dn) == 0;
}

static void table_put(gw_tsl_pack_t *p, gw_tsl_pack_dev_t *d)
{
    size_t mask = p->table_cap - 1;
    size_t i = (size_t)d->hash & mask;
    while (p->table[i])
        i = (i + 1) & mask;
    p->table[i] = d;
}

gw_tsl_pack_dev_t *gw_tsl_pack_device(gw_tsl_pack_t *p, const char *pk, const char *dn)
{
    if (!p)
        return NULL;
    if (!pk || !dn)
        pk = dn = NULL;
    uint64_t h = hash_id(pk, dn);
    if (p->table_cap) {
        size_t mask = p->table_cap - 1;
        for (size_t i = (size_t)h & mask; p->table[i]; i = (i + 1) & mask)
            if (p->table[i]->hash == h && same_dev(p->table[i], pk, dn))
                return p->table[i];
    }
    if ((p->n_devs + 1) * 2 > p->table_cap) { /* keep the load factor under 1/2 */
        size_t cap = p->table_cap ? p->table_cap * 2 : 64;
        gw_tsl_pack_dev_t **t = calloc(cap, sizeof *t);
        if (!t)
            return NULL;
        free(p->table);
        p->table = t;
        p->table_cap = cap;
        for (size_t i = 0; i < p->n_devs; i++)
            table_put(p, p->devs[i]);
    }
    if (p->n_devs == p->cap_devs) {
        size_t cap = p->cap_devs ? p->cap_devs * 2 : 32;
        gw_tsl_pack_dev_t **v = realloc(p->devs, cap * sizeof *v);
        if (!v)
            return NULL;
        p->devs = v;
        p->cap_devs = cap;
    }
    gw_tsl_pack_dev_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (pk && (!(d->pk = strdup(pk)) || !(d->dn = strdup(dn)))) {
        dev_free(d);
        return NULL;
    }
    d->hash = h;
    d->owner = p;
    p->devs[p->n_devs++] = d;
    table_put(p, d);
    return d;
}

static int add_item(gw_tsl_pack_dev_t *d, const char *id, json_t *value, int64_t time_ms, bool event)
{
    if (!d || !id || !value) {
        json_decref(value);
        return -1;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        item_t *v = realloc(d->items, cap * sizeof *v);
        if (!v) {
            json_decref(value);
            return -1;
        }
        d->items = v;
        d->cap = cap;
    }
    char *copy = strdup(id);
    if (!copy) {
        json_decref(value);
        return -1;
    }
    d->items[d->n++] = (item_t){ copy, value, time_ms, event };
    d->owner->pending++;
    return 0;
}

int gw_tsl_pack_add_property(gw_tsl_pack_dev_t *d, const char *id, json_t *value, int64_t time_ms)
{
    return add_item(d, id, value, time_ms, false);
}

int gw_tsl_pack_add_event(gw_tsl_pack_dev_t *d, const char *id, json_t *value, int64_t time_ms)
{
    return add_item(d, id, value, time_ms, true);
}

size_t gw_tsl_pack_pending(const gw_tsl_pack_t *p)
{
    return p ? p->pending : 0;
}

size_t gw_tsl_pack_devices(const gw_tsl_pack_t *p)
{
    size_t n = 0;
    for (size_t i = 0; p && i < p->n_devs; i++)
        n += p->devs[i]->n > 0;
    return n;
}

/* One message being filled. */
typedef struct msg {
    json_t *params, *props, *events, *subs;
    size_t n_sub, n_props, n_events;
    bool has_gw;
} msg_t;

/* One chunk of a device's queue: fits a message, no repeated identifier. */
typedef struct chunk {
    json_t *props, *events;
    size_t np, ne;
} chunk_t;

static json_t *entry(const item_t *it)
{
    json_t *e = json_object();
    if (!e || json_object_set(e, "value", it->value) != 0 ||
        (it->time_ms >= 0 && json_object_set_new(e, "time", json_integer(it->time_ms)) != 0)) {
        json_decref(e);
        return NULL;
    }
    return e;
}

static bool msg_fits(const gw_tsl_pack_t *p, const msg_t *m, bool gw, const chunk_t *c)
{
    if (gw ? m->has_gw : m->n_sub >= p->max_sub)
        return false;
    return m->n_props + c->np <= p->max_props && m->n_events + c->ne <= p->max_events;
}

/*
 * Puts chunk @p c of a device into the first message at index >= @p from with
 * room (a new one if none); the chunk's objects stay the caller's. Returns
 * the message index or -1 (out of memory).
 */
static long place(const gw_tsl_pack_t *p, msg_t **msgs, size_t *n_msgs, size_t *cap_msgs, size_t from,
                  const gw_tsl_pack_dev_t *d, chunk_t *c)
{
    bool gw = d->pk == NULL;
    size_t m = from;
    while (m < *n_msgs && !msg_fits(p, &(*msgs)[m], gw, c))
        m++;
    if (m == *n_msgs) {
        if (*n_msgs == *cap_msgs) {
            size_t cap = *cap_msgs ? *cap_msgs * 2 : 4;
            msg_t *v = realloc(*msgs, cap * sizeof *v);
            if (!v)
                return -1;
            *msgs = v;
            *cap_msgs = cap;
        }
        msg_t *nm = &(*msgs)[m];
        memset(nm, 0, sizeof *nm);
        nm->params = json_object();
        nm->props = json_object();
        nm->events = json_object();
        nm->subs = json_array();
        (*n_msgs)++;
        if (!nm->params || !nm->props || !nm->events || !nm->subs)
            return -1;
    }
    msg_t *mm = &(*msgs)[m];
    if (gw) {
        if (json_object_update(mm->props, c->props) != 0 || json_object_update(mm->events, c->events) != 0)
            return -1;
        mm->has_gw = true;
    } else {
        json_t *sd = json_pack("{s:{s:s,s:s},s:O,s:O}", "identity", "productKey", d->pk, "deviceName", d->dn,
                               "properties", c->props, "events", c->events);
        if (!sd || json_array_append_new(mm->subs, sd) != 0)
            return -1;
        mm->n_sub++;
    }
    mm->n_props += c->np;
    mm->n_events += c->ne;
    return (long)m;
}

static void msgs_free(msg_t *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(msgs[i].params);
        json_decref(msgs[i].props);
        json_decref(msgs[i].events);
        json_decref(msgs[i].subs);
    }
    free(msgs);
}

json_t *gw_tsl_pack_take(gw_tsl_pack_t *p)
{
    msg_t *msgs = NULL;
    size_t n_msgs = 0, cap_msgs = 0, first_open = 0;
    bool oom = false;
    for (size_t di = 0; di < p->n_devs && !oom; di++) {
        const gw_tsl_pack_dev_t *d = p->devs[di];
        long prev = -1;
        size_t i = 0;
        while (i < d->n && !oom) {
            chunk_t c = { json_object(), json_object(), 0, 0 };
            if (!c.props || !c.events) {
                json_decref(c.props);
                json_decref(c.events);
                oom = true;
                break;
            }
            /* fill one chunk: stop at a limit or at an identifier already in it */
            for (; i < d->n; i++) {
                const item_t *it = &d->items[i];
                json_t *dst = it->event ? c.events : c.props;
                size_t *cnt = it->event ? &c.ne : &c.np;
                size_t max = it->event ? p->max_events : p->max_props;
                if (*cnt >= max || json_object_get(dst, it->id))
                    break;
                json_t *e = entry(it);
                if (!e || json_object_set_new(dst, it->id, e) != 0) {
                    oom = true;
                    break;
                }
                (*cnt)++;
            }
            size_t from = prev >= 0 ? (size_t)prev + 1 : first_open;
            if (from < first_open)
                from = first_open;
            long m = oom ? -1 : place(p, &msgs, &n_msgs, &cap_msgs, from, d, &c);
            json_decref(c.props);
            json_decref(c.events);
            if (m < 0) {
                oom = true;
                break;
            }
            prev = m;
            while (first_open < n_msgs && msgs[first_open].has_gw && msgs[first_open].n_sub >= p->max_sub)
                first_open++;
        }
    }
    json_t *out = oom ? NULL : json_array();
    for (size_t i = 0; out && i < n_msgs; i++) {
        msg_t *m = &msgs[i];
        if (json_object_set(m->params, "properties", m->props) != 0 ||
            json_object_set(m->params, "events", m->events) != 0 ||
            (m->n_sub && json_object_set(m->params, "subDevices", m->subs) != 0) ||
            json_array_append(out, m->params) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    msgs_free(msgs, n_msgs);
    if (out)
        clear(p);
    return out;
}
