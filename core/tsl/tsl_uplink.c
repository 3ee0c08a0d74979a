/*
 * Uplink helpers: change detection, full-report timing and the pack/post
 * builder (contracts in tsl_uplink.h).
 */
#include "tsl_uplink.h"
#include "tsl_codes.h"
#include "tsl_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
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

bool gw_tsl_last_changed(const gw_tsl_last_t *last, const json_t *now, double deadband)
{
    if (last->kind == GW_TSL_LAST_NONE)
        return true;
    if (last->kind == GW_TSL_LAST_JSON)
        return gw_tsl_changed(last->u.j, now, deadband);
    if (!now)
        return false;
    if (!json_is_number(now))
        return true;
    double was = last->kind == GW_TSL_LAST_INT ? (double)last->u.i : last->u.f;
    if (deadband > 0)
        return fabs(json_number_value(now) - was) > deadband;
    if (last->kind == GW_TSL_LAST_INT && json_is_integer(now))
        return json_integer_value(now) != last->u.i;
    return json_number_value(now) != was;
}

void gw_tsl_last_clear(gw_tsl_last_t *last)
{
    if (last->kind == GW_TSL_LAST_JSON)
        json_decref(last->u.j);
    last->kind = GW_TSL_LAST_NONE;
    last->u.i = 0;
}

void gw_tsl_last_set(gw_tsl_last_t *last, json_t *now)
{
    if (last->kind == GW_TSL_LAST_JSON && last->u.j == now)
        return;
    gw_tsl_last_clear(last);
    if (json_is_integer(now)) {
        last->kind = GW_TSL_LAST_INT;
        last->u.i = json_integer_value(now);
    } else if (json_is_real(now)) {
        last->kind = GW_TSL_LAST_REAL;
        last->u.f = json_real_value(now);
    } else if (now) {
        last->kind = GW_TSL_LAST_JSON;
        last->u.j = json_incref(now);
    }
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

/* ---- size bounds ------------------------------------------------------------------ */

/*
 * What the pieces of uplink params cost in bytes. The pack builder's renderer
 * (sb_str) writes '"' and '\\' as 2 bytes and other bytes below 0x20 as
 * \u00XX (6); jansson writes some of those shorter (\n) and nothing longer
 * (no JSON_ENSURE_ASCII, no JSON_ESCAPE_SLASH): so strings are exact or over.
 */
#define INT_BYTES 20   /* -9223372036854775808 */
#define REAL_BYTES 40  /* what sb_real reserves; jansson's %.17g form is at most 24 */
#define LIT(s) (sizeof(s) - 1)

static size_t str_bytes(const char *s, size_t n)
{
    size_t c = n + 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            c += 1;
        else if (ch < 0x20)
            c += 5;
    }
    return c;
}

size_t gw_tsl_json_bytes(const json_t *v)
{
    size_t c = 2;
    const char *k;
    json_t *x;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, x)
            c += str_bytes(k, strlen(k)) + 1 + gw_tsl_json_bytes(x) + 1; /* "k":v, */
        return c;
    case JSON_ARRAY:
        json_array_foreach(v, i, x)
            c += gw_tsl_json_bytes(x) + 1;
        return c;
    case JSON_STRING: return str_bytes(json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return INT_BYTES;
    case JSON_REAL: return REAL_BYTES;
    case JSON_TRUE: return 4;
    case JSON_FALSE: return 5;
    case JSON_NULL: return 4;
    }
    return 0; /* NULL */
}

/* `"id":{"value":` v `,"time":` t `}` `,` around a value of @p vbytes. */
static inline size_t entry_bytes(size_t idbytes, size_t vbytes, int64_t time_ms)
{
    return idbytes + LIT(":{\"value\":") + vbytes + (time_ms >= 0 ? LIT(",\"time\":") + INT_BYTES : 0) +
           LIT("}") + LIT(",");
}

size_t gw_tsl_entry_bytes(const char *id, const json_t *value, int64_t time_ms)
{
    return entry_bytes(str_bytes(id, strlen(id)), gw_tsl_json_bytes(value), time_ms);
}

size_t gw_tsl_identity_bytes(const char *pk, const char *dn)
{
    return LIT("{\"identity\":{\"productKey\":") + str_bytes(pk, strlen(pk)) + LIT(",\"deviceName\":") +
           str_bytes(dn, strlen(dn)) + LIT("},\"properties\":{") + LIT("},\"events\":{") + LIT("}}") + LIT(",");
}

/* ---- pack/post builder ---------------------------------------------------- */

/*
 * A queued value: 32 bytes. Numbers are held inline (the caller's json_t is
 * released at once, so the next value's allocation reuses it while it is
 * still in cache); other values by reference.
 */
typedef struct item {
    const char *id;     /* interned in the pack (pack_ids_t): equal identifiers, equal pointers */
    union {
        json_t *j;
        json_int_t i;
        double f;
    } v;
    int64_t time_ms;
    uint32_t hash;      /* of id, for the duplicate check when chunking */
    bool event;
    uint8_t kind;       /* ITEM_* */
    uint16_t idlen;     /* id as a JSON string literal, in bytes (IDLEN_LONG: longer, measure it) */
} item_t;

#define IDLEN_LONG UINT16_MAX

enum { ITEM_JSON, ITEM_INT, ITEM_REAL };

static inline void item_release(item_t *it)
{
    if (it->kind == ITEM_JSON)
        json_decref(it->v.j);
}

/* The value of @p it as a new JSON reference (NULL when memory is short). */
static json_t *item_json(const item_t *it)
{
    switch (it->kind) {
    case ITEM_INT: return json_integer(it->v.i);
    case ITEM_REAL: return json_real(it->v.f);
    default: return json_incref(it->v.j);
    }
}

/* The identifier of @p it. */
static inline const char *item_id(const item_t *it)
{
    return it->id;
}

/*
 * The identifiers queued items point to, one copy each (a model has tens to
 * hundreds; a gateway a few thousand at most). Open addressing, power-of-two
 * size. Emptied when the queue is empty and it has grown past PACK_IDS_KEEP
 * (identifiers of models no longer reported).
 */
typedef struct pack_ids {
    struct {
        char *s;
        uint32_t hash;
        uint32_t esc;   /* s as a JSON string literal, in bytes */
    } *slot;
    size_t cap, n;
} pack_ids_t;

#define PACK_IDS_KEEP 8192

/*
 * A device's block. Blocks outlive a take/flush: the next round of the same
 * device (the common case, every device reports periodically) reuses the
 * block, its strings and its item array instead of allocating them again.
 */
struct gw_tsl_pack_dev {
    char *pk, *dn;      /* NULL, NULL: the gateway */
    uint64_t hash;
    size_t hdr;         /* bytes of its sub-device block without entries (0: the gateway) */
    item_t *items;
    size_t n, cap;
    bool active;        /* in devs[] this round */
    gw_tsl_pack_t *owner;
};

/* Idle blocks kept beyond those active in the last round before all idle ones are freed. */
#define PACK_IDLE_KEEP 4096

struct plan;
struct dupset;

/* Scratch of a flush, kept between flushes: no large allocation per flush in the steady state. */
typedef struct pack_scratch {
    struct plan *plan;
    struct dupset *ds;
    char *text;            /* the rendered params of one message */
    size_t text_cap;
} pack_scratch_t;

/* Scratch buffers larger than this are given back after the flush that needed them (a backlog). */
#define PACK_SCRATCH_KEEP (1u << 20)

struct gw_tsl_pack {
    size_t max_sub, max_props, max_events;
    size_t max_bytes;          /* of one message's params */
    gw_tsl_pack_drop_fn drop_fn;
    void *drop_ctx;
    uint64_t dropped;
    pack_scratch_t scr;
    pack_ids_t ids;
    gw_tsl_pack_dev_t **devs; /* this round's devices, insertion order */
    size_t n_devs, cap_devs;
    gw_tsl_pack_dev_t **table; /* every block, active or idle; open addressing, power-of-two size */
    size_t table_cap, n_blocks;
    size_t pending;
};

gw_tsl_pack_t *gw_tsl_pack_new(void)
{
    gw_tsl_pack_t *p = calloc(1, sizeof *p);
    if (p) {
        gw_tsl_pack_set_limits(p, 0, 0, 0);
        gw_tsl_pack_set_max_bytes(p, 0);
    }
    return p;
}

void gw_tsl_pack_set_max_bytes(gw_tsl_pack_t *p, size_t max_bytes)
{
    p->max_bytes = max_bytes && max_bytes < GW_TSL_PARAMS_MAX ? max_bytes : GW_TSL_PARAMS_MAX;
}

size_t gw_tsl_pack_max_bytes(const gw_tsl_pack_t *p)
{
    return p ? p->max_bytes : GW_TSL_PARAMS_MAX;
}

void gw_tsl_pack_set_drop_cb(gw_tsl_pack_t *p, gw_tsl_pack_drop_fn fn, void *ctx)
{
    p->drop_fn = fn;
    p->drop_ctx = ctx;
}

uint64_t gw_tsl_pack_dropped(const gw_tsl_pack_t *p)
{
    return p ? p->dropped : 0;
}

void gw_tsl_pack_set_limits(gw_tsl_pack_t *p, size_t max_subdevs, size_t max_props, size_t max_events)
{
    p->max_sub = max_subdevs && max_subdevs < GW_TSL_MAX_SUBDEVS_PER_PACK ? max_subdevs : GW_TSL_MAX_SUBDEVS_PER_PACK;
    p->max_props = max_props && max_props < GW_TSL_MAX_PROPS_PER_POST ? max_props : GW_TSL_MAX_PROPS_PER_POST;
    p->max_events = max_events && max_events < GW_TSL_MAX_EVENTS_PER_PACK ? max_events : GW_TSL_MAX_EVENTS_PER_PACK;
}

/* Item arrays up to this many entries stay with their idle block; larger ones are given back. */
#define DEV_ITEMS_KEEP 16

/*
 * Empties @p d's queue (the block stays). A large item array is freed: a
 * device reporting 100 points keeps 3-4 KB otherwise, and the blocks of all
 * devices hold them at once (200 KB at 50 devices) although only the devices
 * that reported since the last flush need one; gw_tsl_pack_reserve() makes
 * the next round's array in one allocation.
 */
static void dev_reset(gw_tsl_pack_dev_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        item_release(&d->items[i]);
    d->n = 0;
    d->active = false;
    if (d->cap > DEV_ITEMS_KEEP) {
        free(d->items);
        d->items = NULL;
        d->cap = 0;
    }
}

static int dev_grow(gw_tsl_pack_dev_t *d, size_t cap)
{
    item_t *v = realloc(d->items, cap * sizeof *v);
    if (!v)
        return -1;
    d->items = v;
    d->cap = cap;
    return 0;
}

int gw_tsl_pack_reserve(gw_tsl_pack_dev_t *d, size_t more)
{
    if (!d || more > SIZE_MAX / sizeof(item_t) - d->n)
        return -1;
    return d->n + more <= d->cap ? 0 : dev_grow(d, d->n + more);
}

static void dev_free(gw_tsl_pack_dev_t *d)
{
    dev_reset(d);
    free(d->items);
    free(d->pk);
    free(d->dn);
    free(d);
}

/* Frees every block (all idle or, on free, all of them) and empties the table. */
static void drop_blocks(gw_tsl_pack_t *p)
{
    for (size_t i = 0; i < p->table_cap; i++)
        if (p->table[i])
            dev_free(p->table[i]);
    if (p->table)
        memset(p->table, 0, p->table_cap * sizeof *p->table);
    p->n_blocks = 0;
}

/*
 * Empties every queue after a take (the blocks stay for the next round). When
 * many idle blocks piled up (devices that went away), they are all freed.
 */
static void ids_free(pack_ids_t *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slot[i].s);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

static void clear(gw_tsl_pack_t *p)
{
    for (size_t i = 0; i < p->n_devs; i++)
        dev_reset(p->devs[i]);
    if (p->n_blocks > 2 * p->n_devs + PACK_IDLE_KEEP)
        drop_blocks(p);
    p->n_devs = 0;
    p->pending = 0;
    if (p->ids.n > PACK_IDS_KEEP) /* nothing queued points to them now */
        ids_free(&p->ids);
}

static void scratch_free(pack_scratch_t *scr);

void gw_tsl_pack_free(gw_tsl_pack_t *p)
{
    if (!p)
        return;
    drop_blocks(p); /* every block, queued or idle, is in the table */
    scratch_free(&p->scr);
    ids_free(&p->ids);
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
    gw_tsl_pack_dev_t *d = NULL;
    if (p->table_cap) {
        size_t mask = p->table_cap - 1;
        for (size_t i = (size_t)h & mask; p->table[i]; i = (i + 1) & mask)
            if (p->table[i]->hash == h && same_dev(p->table[i], pk, dn)) {
                d = p->table[i];
                break;
            }
    }
    if (d && d->active)
        return d;
    if (p->n_devs == p->cap_devs) {
        size_t cap = p->cap_devs ? p->cap_devs * 2 : 32;
        gw_tsl_pack_dev_t **v = realloc(p->devs, cap * sizeof *v);
        if (!v)
            return NULL;
        p->devs = v;
        p->cap_devs = cap;
    }
    if (d) { /* a block from an earlier round */
        d->active = true;
        p->devs[p->n_devs++] = d;
        return d;
    }
    if ((p->n_blocks + 1) * 2 > p->table_cap) { /* keep the load factor under 1/2 */
        size_t old_cap = p->table_cap, cap = old_cap ? old_cap * 2 : 64;
        gw_tsl_pack_dev_t **t = calloc(cap, sizeof *t), **old = p->table;
        if (!t)
            return NULL;
        p->table = t;
        p->table_cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i])
                table_put(p, old[i]);
        free(old);
    }
    d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (pk && (!(d->pk = strdup(pk)) || !(d->dn = strdup(dn)))) {
        dev_free(d);
        return NULL;
    }
    d->hash = h;
    d->hdr = pk ? gw_tsl_identity_bytes(pk, dn) : 0;
    d->owner = p;
    d->active = true;
    p->devs[p->n_devs++] = d;
    table_put(p, d);
    p->n_blocks++;
    return d;
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/*
 * The pack's copy of @p id (added when new), its hash in @p *hash and its
 * length as a JSON string literal in @p *esc; NULL when memory is short.
 */
static const char *intern(pack_ids_t *t, const char *id, uint32_t *hash, uint32_t *esc)
{
    uint32_t h = hash_str(id);
    *hash = h;
    if (t->cap) {
        for (size_t i = h & (t->cap - 1); t->slot[i].s; i = (i + 1) & (t->cap - 1))
            if (t->slot[i].hash == h && strcmp(t->slot[i].s, id) == 0) {
                *esc = t->slot[i].esc;
                return t->slot[i].s;
            }
    }
    if ((t->n + 1) * 2 > t->cap) { /* load under 1/2 */
        size_t cap = t->cap ? t->cap * 2 : 256;
        __typeof__(t->slot) ns = calloc(cap, sizeof *ns);
        if (!ns)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slot[i].s)
                continue;
            size_t j = t->slot[i].hash & (cap - 1);
            while (ns[j].s)
                j = (j + 1) & (cap - 1);
            ns[j] = t->slot[i];
        }
        free(t->slot);
        t->slot = ns;
        t->cap = cap;
    }
    char *c = strdup(id);
    if (!c)
        return NULL;
    size_t i = h & (t->cap - 1);
    while (t->slot[i].s)
        i = (i + 1) & (t->cap - 1);
    size_t e = str_bytes(c, strlen(c));
    t->slot[i].s = c;
    t->slot[i].hash = h;
    t->slot[i].esc = e < UINT32_MAX ? (uint32_t)e : UINT32_MAX;
    *esc = t->slot[i].esc;
    t->n++;
    return c;
}

static int add_item(gw_tsl_pack_dev_t *d, const char *id, json_t *value, int64_t time_ms, bool event)
{
    if (!d || !id || !value) {
        json_decref(value);
        return -1;
    }
    if (d->n == d->cap && dev_grow(d, d->cap ? d->cap * 2 : 8) != 0) {
        json_decref(value);
        return -1;
    }
    item_t *it = &d->items[d->n];
    uint32_t esc;
    if (!(it->id = intern(&d->owner->ids, id, &it->hash, &esc))) {
        json_decref(value);
        return -1;
    }
    it->idlen = esc < IDLEN_LONG ? (uint16_t)esc : IDLEN_LONG;
    if (json_is_integer(value)) {
        it->kind = ITEM_INT;
        it->v.i = json_integer_value(value);
        json_decref(value);
    } else if (json_is_real(value)) {
        it->kind = ITEM_REAL;
        it->v.f = json_real_value(value);
        json_decref(value);
    } else {
        it->kind = ITEM_JSON;
        it->v.j = value;
    }
    it->time_ms = time_ms;
    it->event = event;
    d->n++;
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

/* ---- planning: which items go into which message --------------------------- */

/* A run of one device's queue that fits one message and repeats no identifier. */
typedef struct pchunk {
    const gw_tsl_pack_dev_t *dev;
    size_t begin, end;   /* items [begin, end) */
    size_t np, ne;
    size_t bytes;        /* bound of its text in the message (block and entries, with commas) */
    size_t msg;
} pchunk_t;

typedef struct pmsg {
    size_t n_sub, n_props, n_events;
    size_t bytes;        /* bound of its text: MSG_BASE + its chunks' bytes */
    bool has_gw;
} pmsg_t;

/* A message's params without entries and without sub-devices; the "subDevices" array around them. */
#define MSG_BASE (LIT("{\"properties\":{") + LIT("},\"events\":{") + LIT("}") + LIT("}"))
#define SUBS_WRAP (LIT(",\"subDevices\":[") + LIT("]"))

typedef struct plan {
    pchunk_t *chunks;
    size_t n_chunks, cap_chunks;
    pmsg_t *msgs;
    size_t n_msgs, cap_msgs;
    size_t *order;      /* chunk indices grouped by message, placement order kept */
    size_t cap_order;
    size_t *start;      /* message m's chunks: order[start[m] .. start[m+1]) */
    size_t cap_start;
    size_t *fill;       /* counting-sort cursor per message */
    size_t cap_fill;
} plan_t;

/* Duplicate-identifier check inside a chunk: a stamped open-addressing set. */
#define DUP_SLOTS 1024u /* > 4 x (200 properties + 20 events) */
typedef struct dupset {
    struct {
        uint32_t stamp;
        const item_t *it;
    } slot[DUP_SLOTS];
    uint32_t stamp;
} dupset_t;

static void scratch_free(pack_scratch_t *scr)
{
    if (scr->plan) {
        free(scr->plan->chunks);
        free(scr->plan->msgs);
        free(scr->plan->order);
        free(scr->plan->start);
        free(scr->plan->fill);
        free(scr->plan);
    }
    free(scr->ds);
    free(scr->text);
    memset(scr, 0, sizeof *scr);
}

/* Grows @p *v (elements of @p size) to hold @p n; false when memory is short. */
static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *nv = realloc(*v, c * size);
    if (!nv)
        return false;
    *v = nv;
    *cap = c;
    return true;
}

/* Adds @p it; false if an item of the same kind and identifier is already in the set. */
static bool dup_add(dupset_t *ds, const item_t *it)
{
    uint32_t i = (it->hash ^ (it->event ? 0x9e3779b9u : 0)) & (DUP_SLOTS - 1);
    for (;; i = (i + 1) & (DUP_SLOTS - 1)) {
        if (ds->slot[i].stamp != ds->stamp) {
            ds->slot[i].stamp = ds->stamp;
            ds->slot[i].it = it;
            return true;
        }
        const item_t *o = ds->slot[i].it;
        if (o->id == it->id && o->event == it->event) /* interned: same identifier, same pointer */
            return false;
    }
}

/*
 * Byte accounting: every entry and every sub-device block is counted with a
 * comma after it, where the last of each list has none: a message is counted
 * at least one byte over its text, two when it holds a sub-device. So a
 * message may be counted up to max_bytes + 1 (+ 1 with a sub-device) and
 * still fit; for a value alone in a message that is exact. Each chunk of a
 * sub-device also counts the "subDevices" array around it (once would do).
 */
static inline size_t msg_cap(const gw_tsl_pack_t *p, bool subs)
{
    return p->max_bytes + 1 + (subs ? 1 : 0);
}

static bool msg_fits(const gw_tsl_pack_t *p, const pmsg_t *m, bool gw, const pchunk_t *c)
{
    if (gw ? m->has_gw : m->n_sub >= p->max_sub)
        return false;
    return m->n_props + c->np <= p->max_props && m->n_events + c->ne <= p->max_events &&
           m->bytes + c->bytes <= msg_cap(p, m->n_sub > 0 || !gw);
}

/* Bound of @p it's entry in bytes (with a comma). */
static inline size_t item_bytes(const item_t *it)
{
    size_t idb = it->idlen != IDLEN_LONG ? it->idlen : str_bytes(it->id, strlen(it->id));
    size_t vb = it->kind == ITEM_INT ? INT_BYTES : it->kind == ITEM_REAL ? REAL_BYTES : gw_tsl_json_bytes(it->v.j);
    return entry_bytes(idb, vb, it->time_ms);
}

/* Digits (and sign) of @p v. */
static size_t int_digits(int64_t v)
{
    char b[24];
    return (size_t)snprintf(b, sizeof b, "%" PRId64, v);
}

/*
 * @p it's entry measured exactly (for a value whose bound does not fit: is
 * it really too big?). Numbers keep their bound; JSON values are written
 * once by jansson to count them (json_dumpb into no buffer), as both
 * renderers write them. (size_t)-1 when jansson cannot write it.
 */
static size_t item_exact(const item_t *it)
{
    if (it->kind != ITEM_JSON)
        return item_bytes(it);
    size_t vb = json_dumpb(it->v.j, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT);
    if (vb == 0)
        return (size_t)-1;
    size_t idb = it->idlen != IDLEN_LONG ? it->idlen : str_bytes(it->id, strlen(it->id));
    size_t tb = it->time_ms >= 0 ? LIT(",\"time\":") + int_digits(it->time_ms) : 0;
    return idb + LIT(":{\"value\":") + vb + tb + LIT("}") + LIT(",");
}

/* Takes oversize item @p it (of @p d) out: tells the drop callback, counts, releases. */
static void drop_oversize(gw_tsl_pack_t *p, const gw_tsl_pack_dev_t *d, item_t *it, size_t bytes)
{
    if (p->drop_fn)
        p->drop_fn(p->drop_ctx, d->pk, d->dn, item_id(it), it->event, bytes);
    p->dropped++;
    p->pending--;
    item_release(it);
}

/*
 * Cuts every device's queue into chunks and places each chunk first-fit in
 * a message after the one holding the device's previous chunk (so values of
 * one identifier keep their order). A chunk stops at the count limits, at a
 * repeated identifier and where its bytes would not fit an empty message.
 * A value that does not fit even alone is taken out of the queue on the way
 * (drop_oversize; the queue is compacted in the same pass: items are read at
 * r and kept at w <= r). Returns NULL when memory is short (the queues are
 * intact then, minus the oversize values already dropped).
 */
static plan_t *plan_build(gw_tsl_pack_t *p)
{
    if (!p->scr.plan && !(p->scr.plan = calloc(1, sizeof *p->scr.plan)))
        return NULL;
    if (!p->scr.ds && !(p->scr.ds = calloc(1, sizeof *p->scr.ds)))
        return NULL;
    plan_t *pl = p->scr.plan;
    dupset_t *ds = p->scr.ds;
    pl->n_chunks = pl->n_msgs = 0;
    size_t first_open = 0;
    bool ok = true;
    for (size_t di = 0; di < p->n_devs && ok; di++) {
        gw_tsl_pack_dev_t *d = p->devs[di];
        bool gw = d->pk == NULL;
        size_t fixed = gw ? 0 : d->hdr + SUBS_WRAP;
        /* the most a chunk may count: what fits an empty message */
        size_t cap = msg_cap(p, !gw), room = cap >= MSG_BASE + fixed ? cap - MSG_BASE : 0;
        size_t r = 0, w = 0, from = first_open;
        while (r < d->n) {
            pchunk_t c = { d, w, w, 0, 0, fixed, 0 };
            ds->stamp++;
            for (; r < d->n; r++) {
                item_t *it = &d->items[r];
                if (it->event ? c.ne >= p->max_events : c.np >= p->max_props)
                    break;
                size_t b = item_bytes(it);
                if (fixed + b > room) {
                    b = item_exact(it); /* (size_t)-1: jansson cannot write it either */
                    if (b == (size_t)-1 || fixed + b > room) {
                        drop_oversize(p, d, it, b == (size_t)-1 ? 0 : b - 1);
                        continue;
                    }
                }
                if (c.bytes + b > room)
                    break;
                if (w != r) /* moved before dup_add, which keeps its address */
                    d->items[w] = *it;
                if (!dup_add(ds, &d->items[w]))
                    break; /* d->items[r] is intact: it starts the next chunk */
                w++;
                c.bytes += b;
                if (d->items[w - 1].event)
                    c.ne++;
                else
                    c.np++;
            }
            c.end = w;
            if (c.end == c.begin)
                break; /* only oversize values were left */
            size_t m = from < first_open ? first_open : from;
            while (m < pl->n_msgs && !msg_fits(p, &pl->msgs[m], gw, &c))
                m++;
            if (m == pl->n_msgs) {
                if (!(ok = grow((void **)&pl->msgs, &pl->cap_msgs, pl->n_msgs + 1, sizeof *pl->msgs)))
                    break;
                memset(&pl->msgs[pl->n_msgs++], 0, sizeof *pl->msgs);
                pl->msgs[m].bytes = MSG_BASE;
            }
            if (!(ok = grow((void **)&pl->chunks, &pl->cap_chunks, pl->n_chunks + 1, sizeof *pl->chunks)))
                break;
            pmsg_t *pm = &pl->msgs[m];
            if (gw)
                pm->has_gw = true;
            else
                pm->n_sub++;
            pm->n_props += c.np;
            pm->n_events += c.ne;
            pm->bytes += c.bytes;
            c.msg = m;
            pl->chunks[pl->n_chunks++] = c;
            from = m + 1;
            while (first_open < pl->n_msgs && pl->msgs[first_open].n_sub >= p->max_sub &&
                   pl->msgs[first_open].has_gw)
                first_open++;
        }
        if (w != r) { /* close the gap left by dropped values (also when stopped short of memory) */
            memmove(d->items + w, d->items + r, (d->n - r) * sizeof *d->items);
            d->n -= r - w;
        }
    }
    /* group chunks by message (counting sort, stable) */
    if (ok) {
        ok = grow((void **)&pl->start, &pl->cap_start, pl->n_msgs + 1, sizeof *pl->start) &&
             grow((void **)&pl->fill, &pl->cap_fill, pl->n_msgs + 1, sizeof *pl->fill) &&
             grow((void **)&pl->order, &pl->cap_order, pl->n_chunks ? pl->n_chunks : 1, sizeof *pl->order);
    }
    if (ok) {
        memset(pl->start, 0, (pl->n_msgs + 1) * sizeof *pl->start);
        memset(pl->fill, 0, (pl->n_msgs + 1) * sizeof *pl->fill);
        for (size_t k = 0; k < pl->n_chunks; k++)
            pl->start[pl->chunks[k].msg + 1]++;
        for (size_t m = 0; m < pl->n_msgs; m++)
            pl->start[m + 1] += pl->start[m];
        for (size_t k = 0; k < pl->n_chunks; k++) {
            size_t m = pl->chunks[k].msg;
            pl->order[pl->start[m] + pl->fill[m]++] = k;
        }
    }
    return ok ? pl : NULL;
}

/* ---- rendering as a JSON tree ---------------------------------------------- */

/* Adds the entries of @p c's items to @p props / @p events. */
static bool chunk_entries(const pchunk_t *c, json_t *props, json_t *events)
{
    for (size_t i = c->begin; i < c->end; i++) {
        const item_t *it = &c->dev->items[i];
        json_t *e = json_object();
        if (!e || json_object_set_new(e, "value", item_json(it)) != 0 ||
            (it->time_ms >= 0 && json_object_set_new(e, "time", json_integer(it->time_ms)) != 0)) {
            json_decref(e);
            return false;
        }
        if (json_object_set_new(it->event ? events : props, item_id(it), e) != 0)
            return false; /* e was released by json_object_set_new */
    }
    return true;
}

json_t *gw_tsl_pack_take(gw_tsl_pack_t *p)
{
    const plan_t *pl = plan_build(p);
    if (!pl)
        return NULL;
    json_t *out = json_array();
    for (size_t m = 0; out && m < pl->n_msgs; m++) {
        json_t *params = json_object(), *props = json_object(), *events = json_object(), *subs = json_array();
        bool ok = params && props && events && subs;
        for (size_t k = pl->start[m]; ok && k < pl->start[m + 1]; k++) {
            const pchunk_t *c = &pl->chunks[pl->order[k]];
            if (!c->dev->pk) {
                ok = chunk_entries(c, props, events);
                continue;
            }
            json_t *sp = json_object(), *se = json_object();
            ok = sp && se && chunk_entries(c, sp, se);
            json_t *sd = ok ? json_pack("{s:{s:s,s:s},s:O,s:O}", "identity", "productKey", c->dev->pk, "deviceName",
                                        c->dev->dn, "properties", sp, "events", se)
                            : NULL;
            json_decref(sp);
            json_decref(se);
            ok = sd && json_array_append_new(subs, sd) == 0;
        }
        ok = ok && json_object_set(params, "properties", props) == 0 &&
             json_object_set(params, "events", events) == 0 &&
             (json_array_size(subs) == 0 || json_object_set(params, "subDevices", subs) == 0) &&
             json_array_append(out, params) == 0;
        json_decref(params);
        json_decref(props);
        json_decref(events);
        json_decref(subs);
        if (!ok) {
            json_decref(out);
            out = NULL;
        }
    }
    if (out)
        clear(p);
    return out;
}

/* ---- rendering as text --------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool oom;
} sbuf_t;

static bool sb_reserve(sbuf_t *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
    if (!sb_reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

#define SB_LIT(b, lit) sb_put(b, lit, sizeof(lit) - 1)

/* A JSON string literal of @p s (escaping quotes, backslashes and control characters). */
static void sb_str(sbuf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (!sb_reserve(b, n * 6 + 2))
        return;
    char *o = b->s + b->len;
    *o++ = '"';
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q == '"' || *q == '\\') {
            *o++ = '\\';
            *o++ = (char)*q;
        } else if (*q < 0x20) {
            o += sprintf(o, "\\u%04x", *q);
        } else {
            *o++ = (char)*q;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->s);
    b->s[b->len] = '\0';
}

static void sb_int(sbuf_t *b, int64_t v)
{
    if (!sb_reserve(b, 24))
        return;
    b->len += gw_tsl_num_fmt_int(v, b->s + b->len);
}

/* The shortest text that reads back exactly, always with a '.' or exponent (gw_tsl_num_fmt_real). */
static void sb_real(sbuf_t *b, double v)
{
    if (!sb_reserve(b, 40))
        return;
    b->len += gw_tsl_num_fmt_real(v, b->s + b->len);
}

static void sb_value(sbuf_t *b, const json_t *v)
{
    if (json_is_integer(v)) {
        sb_int(b, json_integer_value(v));
    } else if (json_is_real(v)) {
        sb_real(b, json_real_value(v));
    } else {
        size_t need = json_dumpb(v, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT);
        if (need == 0 || !sb_reserve(b, need)) {
            b->oom = true;
            return;
        }
        b->len += json_dumpb(v, b->s + b->len, need, JSON_ENCODE_ANY | JSON_COMPACT);
        b->s[b->len] = '\0';
    }
}

/* Writes `"id":{"value":v,"time":t}` entries of @p c's items of one kind. */
static void sb_entries(sbuf_t *b, const pchunk_t *c, bool events)
{
    bool first = true;
    for (size_t i = c->begin; i < c->end; i++) {
        const item_t *it = &c->dev->items[i];
        if (it->event != events)
            continue;
        if (!first)
            SB_LIT(b, ",");
        first = false;
        sb_str(b, item_id(it));
        SB_LIT(b, ":{\"value\":");
        if (it->kind == ITEM_INT)
            sb_int(b, it->v.i);
        else if (it->kind == ITEM_REAL)
            sb_real(b, it->v.f);
        else
            sb_value(b, it->v.j);
        if (it->time_ms >= 0) {
            SB_LIT(b, ",\"time\":");
            sb_int(b, it->time_ms);
        }
        SB_LIT(b, "}");
    }
}

/* Renders message @p m of plan @p pl into @p b (emptied first); b->oom when memory is short. */
static void render_message(sbuf_t *b, const plan_t *pl, size_t m)
{
    b->len = 0;
    const pchunk_t *gwc = NULL;
    for (size_t k = pl->start[m]; k < pl->start[m + 1]; k++)
        if (!pl->chunks[pl->order[k]].dev->pk)
            gwc = &pl->chunks[pl->order[k]];
    SB_LIT(b, "{\"properties\":{");
    if (gwc)
        sb_entries(b, gwc, false);
    SB_LIT(b, "},\"events\":{");
    if (gwc)
        sb_entries(b, gwc, true);
    SB_LIT(b, "}");
    bool first = true;
    for (size_t k = pl->start[m]; k < pl->start[m + 1]; k++) {
        const pchunk_t *c = &pl->chunks[pl->order[k]];
        if (!c->dev->pk)
            continue;
        if (first)
            SB_LIT(b, ",\"subDevices\":[");
        else
            SB_LIT(b, ",");
        first = false;
        SB_LIT(b, "{\"identity\":{\"productKey\":");
        sb_str(b, c->dev->pk);
        SB_LIT(b, ",\"deviceName\":");
        sb_str(b, c->dev->dn);
        SB_LIT(b, "},\"properties\":{");
        sb_entries(b, c, false);
        SB_LIT(b, "},\"events\":{");
        sb_entries(b, c, true);
        SB_LIT(b, "}}");
    }
    if (!first)
        SB_LIT(b, "]");
    SB_LIT(b, "}");
}

/* Removes the first @p k items of @p d's queue (already emitted); the rest moves to the front. */
static void dev_drop_prefix(gw_tsl_pack_dev_t *d, size_t k)
{
    for (size_t i = 0; i < k; i++)
        item_release(&d->items[i]);
    memmove(d->items, d->items + k, (d->n - k) * sizeof *d->items);
    d->n -= k;
    d->owner->pending -= k;
}

/*
 * After messages [0, @p done) of @p pl were emitted: takes their items out
 * of the queues. A device's chunks sit together in the plan, in queue order,
 * and each goes to a later message than the one before, so what a device
 * had emitted is a prefix of its queue.
 */
static void drop_emitted(const plan_t *pl, size_t done)
{
    for (size_t k = 0; k < pl->n_chunks;) {
        gw_tsl_pack_dev_t *d = (gw_tsl_pack_dev_t *)pl->chunks[k].dev;
        size_t cut = 0;
        for (; k < pl->n_chunks && pl->chunks[k].dev == d; k++)
            if (pl->chunks[k].msg < done)
                cut = pl->chunks[k].end;
        dev_drop_prefix(d, cut);
    }
}

long gw_tsl_pack_flush(gw_tsl_pack_t *p, gw_tsl_pack_emit_fn emit, void *ctx)
{
    const plan_t *pl = plan_build(p);
    if (!pl)
        return -1;
    /* One message at a time in a buffer kept between flushes (a message of numbers is
     * tens of KB; one of large values up to max_bytes, and a buffer grown past
     * PACK_SCRATCH_KEEP is given back). Detached during the emits. */
    sbuf_t b = { p->scr.text, 0, p->scr.text_cap, false };
    p->scr.text = NULL;
    p->scr.text_cap = 0;
    size_t done = 0;
    for (; done < pl->n_msgs; done++) {
        render_message(&b, pl, done);
        if (b.oom)
            break;
        emit(ctx, b.s, b.len); /* sb_put keeps the text NUL-terminated */
    }
    if (!p->scr.text && b.cap <= PACK_SCRATCH_KEEP) {
        p->scr.text = b.s;
        p->scr.text_cap = b.cap;
    } else {
        free(b.s);
    }
    if (done < pl->n_msgs) {
        drop_emitted(pl, done);
        return -1;
    }
    clear(p);
    return (long)done;
}
