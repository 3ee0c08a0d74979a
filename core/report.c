/*
 * Reports (report.h). Cheap by design: target 100k values/s overall, so the
 * common path (scalar values, short names) does not allocate per value.
 */
#include "report.h"
#include "hub.h"
#include "instance.h"
#include "log.h"
#include "value_int.h"

#include <stdlib.h>
#include <string.h>

#define INLINE_ENTRIES 16
#define INLINE_ARENA 512

typedef struct rentry {
    const char *name;  /* in the arena */
    lgw_value_t val;   /* inline value */
    bool owns;         /* val owns heap memory (moved-in text/struct/array) */
} rentry_t;

typedef struct chunk {
    struct chunk *next;
    char mem[];
} chunk_t;

struct lgw_report {
    gw_xmsg_t x;                /* first: queued as a message */
    lgw_instance_t *inst;       /* referenced */
    int64_t time_ms;
    const char *device_id;      /* in the arena */
    const char *event;          /* in the arena, NULL for properties */
    rentry_t *entries;
    size_t n, cap;
    chunk_t *chunks;            /* arena overflow */
    char *arena_ptr;
    size_t arena_left;
    rentry_t inline_entries[INLINE_ENTRIES];
    char arena[INLINE_ARENA];
};

/* Copies @p len bytes of @p s plus a NUL into the report's arena. */
static char *arena_dup(lgw_report_t *r, const char *s, size_t len)
{
    if (len + 1 > r->arena_left) {
        size_t size = len + 1 > 1024 ? len + 1 : 1024;
        chunk_t *c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->next = r->chunks;
        r->chunks = c;
        r->arena_ptr = c->mem;
        r->arena_left = size;
    }
    char *d = r->arena_ptr;
    memcpy(d, s, len);
    d[len] = '\0';
    r->arena_ptr += len + 1;
    r->arena_left -= len + 1;
    return d;
}

static lgw_report_t *report_new(lgw_instance_t *inst, const char *device_id, const char *event)
{
    if (!inst || !device_id || !*device_id)
        return NULL;
    if (!gw_instance_accepts(inst))
        return NULL;
    lgw_report_t *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->inst = NULL; /* referenced only once fully built */
    r->time_ms = lgw_time_ms();
    r->entries = r->inline_entries;
    r->n = 0;
    r->cap = INLINE_ENTRIES;
    r->chunks = NULL;
    r->arena_ptr = r->arena;
    r->arena_left = sizeof r->arena;
    r->event = NULL;
    r->device_id = arena_dup(r, device_id, strlen(device_id));
    if (event)
        r->event = arena_dup(r, event, strlen(event));
    if (!r->device_id || (event && !r->event)) {
        lgw_report_discard(r);
        return NULL;
    }
    gw_instance_ref(inst);
    r->inst = inst;
    return r;
}

LGW_HOST_API lgw_report_t *lgw_report_new(lgw_instance_t *inst, const char *device_id)
{
    return report_new(inst, device_id, NULL);
}

LGW_HOST_API lgw_report_t *lgw_event_new(lgw_instance_t *inst, const char *device_id, const char *event)
{
    return event && *event ? report_new(inst, device_id, event) : NULL;
}

LGW_HOST_API void lgw_report_set_time(lgw_report_t *r, int64_t utc_ms)
{
    if (r)
        r->time_ms = utc_ms;
}

/* Reserves the next entry named @p name; NULL when out of memory. */
static rentry_t *add_entry(lgw_report_t *r, const char *name)
{
    if (!r || !name || !*name)
        return NULL;
    if (r->n == r->cap) {
        size_t cap = r->cap * 2;
        rentry_t *e = r->entries == r->inline_entries ? malloc(cap * sizeof *e)
                                                      : realloc(r->entries, cap * sizeof *e);
        if (!e)
            return NULL;
        if (r->entries == r->inline_entries)
            memcpy(e, r->inline_entries, sizeof r->inline_entries);
        r->entries = e;
        r->cap = cap;
    }
    rentry_t *e = &r->entries[r->n];
    e->name = arena_dup(r, name, strlen(name));
    if (!e->name)
        return NULL;
    e->owns = false;
    r->n++;
    return e;
}

#define ADD_SCALAR(fn, ctype, tag, field)                                       \
    LGW_HOST_API int fn(lgw_report_t *r, const char *name, ctype v)             \
    {                                                                           \
        if (!r || !name || !*name)                                              \
            return LGW_EINVAL;                                                  \
        rentry_t *e = add_entry(r, name);                                       \
        if (!e)                                                                 \
            return LGW_ENOMEM;                                                  \
        e->val.type = tag;                                                      \
        e->val.u.field = v;                                                     \
        return LGW_OK;                                                          \
    }

ADD_SCALAR(lgw_report_add_bool, bool, LGW_TYPE_BOOL, b)
ADD_SCALAR(lgw_report_add_int, int64_t, LGW_TYPE_INT, i)
ADD_SCALAR(lgw_report_add_float, float, LGW_TYPE_FLOAT, f)
ADD_SCALAR(lgw_report_add_double, double, LGW_TYPE_DOUBLE, d)
ADD_SCALAR(lgw_report_add_enum, int32_t, LGW_TYPE_ENUM, i)
ADD_SCALAR(lgw_report_add_date, int64_t, LGW_TYPE_DATE, i)

LGW_HOST_API int lgw_report_add_text(lgw_report_t *r, const char *name, const char *v)
{
    if (!r || !name || !*name || !v)
        return LGW_EINVAL;
    size_t len = strlen(v);
    char *s = arena_dup(r, v, len);
    rentry_t *e = s ? add_entry(r, name) : NULL;
    if (!e)
        return LGW_ENOMEM;
    e->val.type = LGW_TYPE_TEXT;
    e->val.u.text.s = s;
    e->val.u.text.len = len;
    return LGW_OK;
}

LGW_HOST_API int lgw_report_add_value(lgw_report_t *r, const char *name, lgw_value_t *v)
{
    if (!r || !name || !*name || !v) {
        lgw_value_free(v);
        return LGW_EINVAL;
    }
    rentry_t *e = add_entry(r, name);
    if (!e) {
        lgw_value_free(v);
        return LGW_ENOMEM;
    }
    e->val = *v; /* move the content in, free the shell */
    e->owns = v->type == LGW_TYPE_TEXT || v->type == LGW_TYPE_STRUCT || v->type == LGW_TYPE_ARRAY;
    free(v);
    return LGW_OK;
}

LGW_HOST_API void lgw_report_discard(lgw_report_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (r->entries[i].owns)
            gw_value_clear(&r->entries[i].val);
    if (r->entries != r->inline_entries)
        free(r->entries);
    while (r->chunks) {
        chunk_t *c = r->chunks;
        r->chunks = c->next;
        free(c);
    }
    lgw_instance_t *inst = r->inst;
    free(r);
    gw_instance_unref(inst);
}

/* Loop thread: hands the report to the hub unless the instance is gone. */
static void report_deliver(gw_xmsg_t *m)
{
    lgw_report_t *r = (lgw_report_t *)m;
    gw_xq_report_done(r->inst->host);
    if (gw_instance_state(r->inst) != GW_INST_DEAD)
        gw_hub_report(r->inst->host->hub, r->inst, r);
    lgw_report_discard(r);
}

LGW_HOST_API int lgw_report_commit(lgw_report_t *r)
{
    if (!r)
        return LGW_EINVAL;
    if (!gw_instance_accepts(r->inst)) {
        lgw_report_discard(r);
        return LGW_ESTATE;
    }
    r->x.deliver = report_deliver;
    if (!gw_xq_post_report(r->inst->host, &r->x)) {
        lgw_report_discard(r);
        return LGW_EBUSY; /* the loop is overloaded; counted and logged there */
    }
    return LGW_OK;
}

size_t gw_report_count(const lgw_report_t *r) { return r ? r->n : 0; }

const lgw_value_t *gw_report_at(const lgw_report_t *r, size_t i, const char **name)
{
    if (!r || i >= r->n)
        return NULL;
    if (name)
        *name = r->entries[i].name;
    return &r->entries[i].val;
}

int64_t gw_report_time(const lgw_report_t *r) { return r ? r->time_ms : 0; }
const char *gw_report_device(const lgw_report_t *r) { return r ? r->device_id : NULL; }
const char *gw_report_event(const lgw_report_t *r) { return r ? r->event : NULL; }
lgw_instance_t *gw_report_instance(const lgw_report_t *r) { return r ? r->inst : NULL; }
