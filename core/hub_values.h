/*
 * The hub's last values: for every device, the last value of each point it
 * reported, kept compactly and found by name in constant time.
 *
 * Two pieces:
 *  - gw_hub_names_t, a pool of interned point names (one per hub, shared by its instances).
 *    Devices of the same model report the same names; the pool keeps each
 *    name once, reference-counted, instead of one copy per device. A name
 *    is freed when the last table holding it lets it go.
 *  - gw_hub_values_t, one per device: an array of slots in first-report
 *    order, each an interned name and an lgw_value_t stored inline (scalars
 *    need no allocation at all; text, struct and array values own a copy of
 *    their content), plus an open-addressing hash index from name to slot.
 *    Updating a point is one hash of the name, usually one strcmp, and a
 *    copy into the slot. A table holds at most GW_HUB_VALUES_MAX points.
 *
 * Memory per point: one slot (32 bytes on LP64) plus 4.6 to 9 bytes of
 * index (it is 1/2 to 7/8 full); the name is shared. Loop thread only (not thread-safe), like the hub.
 */
#ifndef LINKGW_CORE_HUB_VALUES_H
#define LINKGW_CORE_HUB_VALUES_H

#include <stddef.h>
#include <stdint.h>
#include <linkgw/value.h>

#include "strmap.h"
#include "value_int.h"

/** Most points one table holds (the index stores slot numbers in 16 bits). */
#define GW_HUB_VALUES_MAX 65535u

/** A pool of interned, reference-counted names. */
typedef struct gw_hub_names {
    gw_strmap_t map;        /* name -> its entry (the key lives in the entry) */
} gw_hub_names_t;

void gw_hub_names_init(gw_hub_names_t *p);
/** Frees the pool; every table using it must have been freed before. */
void gw_hub_names_free(gw_hub_names_t *p);
/**
 * The pool's copy of @p name (a new reference: give it back with
 * gw_hub_names_release()), or NULL when out of memory.
 */
const char *gw_hub_names_intern(gw_hub_names_t *p, const char *name);
/** Drops one reference to @p name (a pointer gw_hub_names_intern() returned); frees it at the last. */
void gw_hub_names_release(gw_hub_names_t *p, const char *name);
/** Number of distinct names in the pool. */
size_t gw_hub_names_count(const gw_hub_names_t *p);

/** One point: its interned name and its last value (content owned). */
typedef struct gw_hub_slot {
    const char *name;
    lgw_value_t value;
} gw_hub_slot_t;

/** The last values of one device. All members are private to hub_values.c. */
typedef struct gw_hub_values {
    gw_hub_names_t *names;  /* where slot names are interned */
    gw_hub_slot_t *slots;   /* first-report order */
    uint32_t n, cap;
    uint32_t *index;        /* mask + 1 entries: (hash tag << 16) | (slot + 1), 0 = empty */
    uint32_t mask;          /* 0 while there is no index */
} gw_hub_values_t;

/** Makes @p t an empty table interning its names in @p names (which must outlive it). */
void gw_hub_values_init(gw_hub_values_t *t, gw_hub_names_t *names);
/** Frees everything @p t holds (values, index, name references); @p t is empty afterwards. */
void gw_hub_values_free(gw_hub_values_t *t);

/**
 * Makes room for @p n points in all, so that adding up to that many needs no
 * further allocation. The hub calls it before the first report of a device
 * (which usually names all its points) so the slot array fits exactly.
 * Returns LGW_OK, LGW_ENOMEM or LGW_ERANGE (more than GW_HUB_VALUES_MAX).
 */
int gw_hub_values_reserve(gw_hub_values_t *t, size_t n);

/**
 * Sets point @p name to a copy of @p v (any type; the type may differ from
 * the one stored before). A new name gets a new slot at the end. Returns
 * LGW_OK; LGW_EINVAL for NULL arguments; LGW_ENOMEM (the point keeps its
 * previous value, or stays absent); LGW_ERANGE when the table is full.
 * Pointers returned by get/at may move: they are valid until the next put.
 */
int gw_hub_values_put(gw_hub_values_t *t, const char *name, const lgw_value_t *v);

/** The last value of point @p name, or NULL when it was never set. */
const lgw_value_t *gw_hub_values_get(const gw_hub_values_t *t, const char *name);
/** Number of points held. */
size_t gw_hub_values_count(const gw_hub_values_t *t);
/**
 * Point @p i (0 … count-1, in the order points were first set), or NULL past
 * the end; its name goes to @p *name when @p name is not NULL.
 */
const lgw_value_t *gw_hub_values_at(const gw_hub_values_t *t, size_t i, const char **name);

#endif
