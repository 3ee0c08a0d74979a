/*
 * A small string-keyed hash map (chained, FNV-1a, grows ×2 at load 1).
 * Keys are borrowed: they must live as long as their entry (store the key
 * inside the value). Not thread-safe.
 */
#ifndef LINKGW_CORE_STRMAP_H
#define LINKGW_CORE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_strmap_entry gw_strmap_entry_t;
typedef struct gw_strmap {
    gw_strmap_entry_t **buckets;
    size_t nbuckets, count;
} gw_strmap_t;

void gw_strmap_init(gw_strmap_t *m);
/** Frees the map's own memory (not the values). */
void gw_strmap_free(gw_strmap_t *m);
void *gw_strmap_get(const gw_strmap_t *m, const char *key);
/** Inserts or replaces; returns 0, or -1 when out of memory. */
int gw_strmap_put(gw_strmap_t *m, const char *key, void *value);
/** Removes @p key; returns its value or NULL. */
void *gw_strmap_remove(gw_strmap_t *m, const char *key);
/** Calls @p fn for each entry until it returns false; @p fn must not modify the map. */
void gw_strmap_foreach(const gw_strmap_t *m, bool (*fn)(const char *key, void *value, void *data), void *data);

#endif
