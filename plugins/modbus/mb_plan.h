/*
 * Request planning: coalesces the points of one polling group of one slave
 * into as few Modbus read requests as the protocol and the configured gap
 * allow. Pure functions, unit-tested in tests/modbus/test_plan.c.
 */
#ifndef MB_PLAN_H
#define MB_PLAN_H

#include <stddef.h>
#include <stdint.h>

/** The four Modbus tables. */
typedef enum mb_table {
    MB_TABLE_COIL = 0,     /**< read FC 1, write FC 5/15 */
    MB_TABLE_DISCRETE = 1, /**< read FC 2 */
    MB_TABLE_INPUT = 2,    /**< read FC 4 */
    MB_TABLE_HOLDING = 3   /**< read FC 3, write FC 6/16 */
} mb_table_t;

/** Config spellings of the tables, indexed by mb_table_t, NULL-terminated. */
extern const char *const mb_table_names[];

/** One point as the planner sees it: where it lives and how wide it is. */
typedef struct mb_span {
    uint8_t table;     /**< mb_table_t */
    uint16_t address;  /**< 0-based protocol address */
    uint16_t count;    /**< registers (or bits) it occupies, >= 1 */
    uint32_t point;    /**< caller's index of the point */
} mb_span_t;

/** One read request covering spans[first .. first+n-1] of the sorted spans. */
typedef struct mb_block {
    uint8_t table;
    uint16_t address;
    uint16_t count;
    uint32_t first;
    uint32_t n;
} mb_block_t;

/** Limits for coalescing. */
typedef struct mb_plan_limits {
    unsigned max_gap;   /**< unused registers/bits allowed between two points of one request */
    unsigned max_regs;  /**< registers per request, 1..125 */
    unsigned max_bits;  /**< bits per request, 1..2000 */
} mb_plan_limits_t;

/**
 * Sorts @p spans by (table, address) in place and groups them into blocks:
 * a block holds one table, never exceeds the table's limit, and neighbouring
 * spans join it only when the hole between them is at most max_gap. Spans
 * may overlap (bits of one register). A span wider than the limit gets a
 * block of its own (callers reject such points beforehand). @p blocks must
 * have room for @p n entries. Returns the number of blocks.
 */
size_t mb_plan(mb_span_t *spans, size_t n, const mb_plan_limits_t *lim, mb_block_t *blocks);

#endif /* MB_PLAN_H */
