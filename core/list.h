/*
 * Intrusive circular doubly linked list used across the core (timers of an
 * instance, pending requests …). An empty list is a head linked to itself.
 */
#ifndef LINKGW_CORE_LIST_H
#define LINKGW_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_list {
    struct gw_list *prev, *next;
} gw_list_t;

static inline void gw_list_init(gw_list_t *l) { l->prev = l->next = l; }
static inline bool gw_list_empty(const gw_list_t *l) { return l->next == l; }
/** True when @p n is linked in some list (nodes are initialised unlinked). */
static inline bool gw_list_linked(const gw_list_t *n) { return n->next != n; }

static inline void gw_list_push_back(gw_list_t *l, gw_list_t *n)
{
    n->prev = l->prev;
    n->next = l;
    l->prev->next = n;
    l->prev = n;
}

/** Unlinks @p n and leaves it self-linked (safe to call twice). */
static inline void gw_list_remove(gw_list_t *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

#define gw_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/** Iterates over nodes of @p head; @p n may be unlinked inside the body. */
#define gw_list_foreach_safe(n, tmp, head) \
    for (gw_list_t *n = (head)->next, *tmp = n->next; n != (head); n = tmp, tmp = n->next)

#endif
