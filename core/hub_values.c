/*
 * The hub's last values and the interned names they use; see hub_values.h.
 *
 * Index: open addressing with linear probing over a power-of-two array of
 * uint32_t. An entry is 0 (empty) or (tag << 16) | (slot + 1), where tag is
 * the upper 16 bits of the name's hash, so that a probe compares names only
 * when the tags agree. Points are never removed from a table (a device's
 * points only go away with the device), so there are no tombstones. The
 * index is kept at most 7/8 full and rebuilt from the slots when it grows.
 */
#include "hub_values.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(void *) != 8 || sizeof(gw_hub_slot_t) == 32, "a slot is a name and a 24-byte lgw_value_t");

/* ---- interned names ----------------------------------------------------- */

typedef struct name_entry {
    size_t refs;
    char name[];            /* the map's key */
} name_entry_t;

static name_entry_t *entry_of(const char *name)
{
    return (name_entry_t *)(void *)(name - offsetof(name_entry_t, name));
}

void gw_hub_names_init(gw_hub_names_t *p) { gw_strmap_init(&p->map); }

static bool free_entry(const char *key, void *value, void *data)
{
    (void)key;
    (void)data;
    free(value);
    return true;
}

void gw_hub_names_free(gw_hub_names_t *p)
{
    gw_strmap_foreach(&p->map, free_entry, NULL); /* empty when all tables were freed; tidy anyway */
    gw_strmap_free(&p->map);
}

const char *gw_hub_names_intern(gw_hub_names_t *p, const char *name)
{
    name_entry_t *e = gw_strmap_get(&p->map, name);
    if (e) {
        e->refs++;
        return e->name;
    }
    size_t len = strlen(name);
    e = malloc(sizeof *e + len + 1);
    if (!e)
        return NULL;
    e->refs = 1;
    memcpy(e->name, name, len + 1);
    if (gw_strmap_put(&p->map, e->name, e) != 0) {
        free(e);
        return NULL;
    }
    return e->name;
}

void gw_hub_names_release(gw_hub_names_t *p, const char *name)
{
    if (!name)
        return;
    name_entry_t *e = entry_of(name);
    if (--e->refs > 0)
        return;
    gw_strmap_remove(&p->map, e->name);
    free(e);
}

size_t gw_hub_names_count(const gw_hub_names_t *p) { return p->map.count; }

/* ---- the table ------------------------------------------------------------ */

/* FNV-1a, 32 bits. */
static uint32_t hash_of(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

#define TAG(h) ((h) & 0xffff0000u)
#define SLOT(e) (((e) & 0xffffu) - 1)

void gw_hub_values_init(gw_hub_values_t *t, gw_hub_names_t *names)
{
    memset(t, 0, sizeof *t);
    t->names = names;
}

void gw_hub_values_free(gw_hub_values_t *t)
{
    for (uint32_t i = 0; i < t->n; i++) {
        gw_value_clear(&t->slots[i].value);
        gw_hub_names_release(t->names, t->slots[i].name);
    }
    free(t->slots);
    free(t->index);
    gw_hub_values_init(t, t->names);
}

/* The index entry for @p name (hash @p h): a pointer to its entry, or to the empty one where it would go. */
static uint32_t *probe(const gw_hub_values_t *t, const char *name, uint32_t h)
{
    for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
        uint32_t *e = &t->index[i];
        if (*e == 0 || (TAG(*e) == TAG(h) && strcmp(t->slots[SLOT(*e)].name, name) == 0))
            return e;
    }
}

/* Makes the index big enough for @p n points (at most 7/8 full), rebuilding it when it grows. */
static int index_fit(gw_hub_values_t *t, uint32_t n)
{
    uint32_t size = t->mask ? t->mask + 1 : 0;
    if (size && n <= size - size / 8)
        return LGW_OK;
    if (!size)
        size = 8;
    while (n > size - size / 8)
        size *= 2;
    uint32_t *index = calloc(size, sizeof *index);
    if (!index)
        return LGW_ENOMEM;
    free(t->index);
    t->index = index;
    t->mask = size - 1;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t h = hash_of(t->slots[i].name);
        *probe(t, t->slots[i].name, h) = TAG(h) | (i + 1);
    }
    return LGW_OK;
}

int gw_hub_values_reserve(gw_hub_values_t *t, size_t n)
{
    if (n > GW_HUB_VALUES_MAX)
        return LGW_ERANGE;
    if (n > t->cap) {
        gw_hub_slot_t *slots = realloc(t->slots, n * sizeof *slots);
        if (!slots)
            return LGW_ENOMEM;
        t->slots = slots;
        t->cap = (uint32_t)n;
    }
    return index_fit(t, (uint32_t)n);
}

int gw_hub_values_put(gw_hub_values_t *t, const char *name, const lgw_value_t *v)
{
    if (!t || !name || !v)
        return LGW_EINVAL;
    uint32_t h = hash_of(name);
    if (t->mask) {
        uint32_t e = *probe(t, name, h);
        if (e)
            return gw_value_set_copy(&t->slots[SLOT(e)].value, v);
    }
    /* A new point: room first (slots grow by half, the index keeps up), then the copy, then the slot. */
    if (t->n == t->cap) {
        size_t cap = t->cap < 4 ? 4 : (size_t)t->cap + t->cap / 2;
        if (cap > GW_HUB_VALUES_MAX)
            cap = GW_HUB_VALUES_MAX;
        if (t->n == cap)
            return LGW_ERANGE;
        int rc = gw_hub_values_reserve(t, cap);
        if (rc != LGW_OK)
            return rc;
    }
    int rc = index_fit(t, t->n + 1);
    if (rc != LGW_OK)
        return rc;
    lgw_value_t value = {0};
    if ((rc = gw_value_set_copy(&value, v)) != LGW_OK)
        return rc;
    const char *interned = gw_hub_names_intern(t->names, name);
    if (!interned) {
        gw_value_clear(&value);
        return LGW_ENOMEM;
    }
    t->slots[t->n] = (gw_hub_slot_t){interned, value};
    *probe(t, interned, h) = TAG(h) | (t->n + 1);
    t->n++;
    return LGW_OK;
}

const lgw_value_t *gw_hub_values_get(const gw_hub_values_t *t, const char *name)
{
    if (!t || !name || !t->mask)
        return NULL;
    uint32_t e = *probe(t, name, hash_of(name));
    return e ? &t->slots[SLOT(e)].value : NULL;
}

size_t gw_hub_values_count(const gw_hub_values_t *t) { return t ? t->n : 0; }

const lgw_value_t *gw_hub_values_at(const gw_hub_values_t *t, size_t i, const char **name)
{
    if (!t || i >= t->n)
        return NULL;
    if (name)
        *name = t->slots[i].name;
    return &t->slots[i].value;
}
