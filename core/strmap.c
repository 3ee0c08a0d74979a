/* String-keyed hash map; see strmap.h. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct gw_strmap_entry {
    gw_strmap_entry_t *next;
    const char *key;
    uint64_t hash;
    void *value;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void gw_strmap_init(gw_strmap_t *m) { memset(m, 0, sizeof *m); }

void gw_strmap_free(gw_strmap_t *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        gw_strmap_entry_t *e = m->buckets[i];
        while (e) {
            gw_strmap_entry_t *n = e->next;
            free(e);
            e = n;
        }
    }
    free(m->buckets);
    memset(m, 0, sizeof *m);
}

static gw_strmap_entry_t **slot(const gw_strmap_t *m, const char *key, uint64_t h)
{
    gw_strmap_entry_t **p = &m->buckets[h & (m->nbuckets - 1)];
    while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
        p = &(*p)->next;
    return p;
}

void *gw_strmap_get(const gw_strmap_t *m, const char *key)
{
    if (!m->nbuckets || !key)
        return NULL;
    gw_strmap_entry_t **p = slot(m, key, fnv1a(key));
    return *p ? (*p)->value : NULL;
}

static int grow(gw_strmap_t *m)
{
    size_t nb = m->nbuckets ? m->nbuckets * 2 : 16;
    gw_strmap_entry_t **b = calloc(nb, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < m->nbuckets; i++) {
        gw_strmap_entry_t *e = m->buckets[i];
        while (e) {
            gw_strmap_entry_t *n = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
            e = n;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
    return 0;
}

int gw_strmap_put(gw_strmap_t *m, const char *key, void *value)
{
    if (m->count >= m->nbuckets && grow(m) != 0)
        return -1;
    uint64_t h = fnv1a(key);
    gw_strmap_entry_t **p = slot(m, key, h);
    if (*p) {
        (*p)->key = key;
        (*p)->value = value;
        return 0;
    }
    gw_strmap_entry_t *e = malloc(sizeof *e);
    if (!e)
        return -1;
    *e = (gw_strmap_entry_t){NULL, key, h, value};
    *p = e;
    m->count++;
    return 0;
}

void *gw_strmap_remove(gw_strmap_t *m, const char *key)
{
    if (!m->nbuckets || !key)
        return NULL;
    gw_strmap_entry_t **p = slot(m, key, fnv1a(key));
    gw_strmap_entry_t *e = *p;
    if (!e)
        return NULL;
    *p = e->next;
    void *v = e->value;
    free(e);
    m->count--;
    return v;
}

void gw_strmap_foreach(const gw_strmap_t *m, bool (*fn)(const char *, void *, void *), void *data)
{
    for (size_t i = 0; i < m->nbuckets; i++)
        for (gw_strmap_entry_t *e = m->buckets[i]; e; e = e->next)
            if (!fn(e->key, e->value, data))
                return;
}
