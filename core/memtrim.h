/*
 * Gives the heap's free pages back to the kernel every few seconds.
 *
 * glibc returns memory to the kernel only from the top of the heap. After a
 * burst — a broker that stalls for a moment while posts pile up in flight, a
 * journal drain, a sub-device storm at start — the freed chunks sit in the
 * middle of the heap under later allocations and stay resident for the life
 * of the process: measured at 50 Modbus slaves, one run in four kept ~1.9 MB
 * more than the others for good. malloc_trim(0) releases the free pages
 * anywhere in the heap (madvise), so resident memory follows live memory
 * again. It walks the free lists under the allocator's lock: tens of
 * microseconds on the loop every period. No-op with other C libraries.
 */
#ifndef LINKGW_CORE_MEMTRIM_H
#define LINKGW_CORE_MEMTRIM_H

#include <stdbool.h>
#include <uv.h>

/** Period of the trim in milliseconds. */
#define GW_MEMTRIM_PERIOD_MS 10000

typedef struct gw_memtrim {
    uv_timer_t timer;
    bool started;       /* timer initialised (must be closed) */
} gw_memtrim_t;

/**
 * Starts trimming every GW_MEMTRIM_PERIOD_MS on @p loop. The timer is
 * unreferenced (it never keeps the loop alive) and closed by
 * gw_memtrim_stop() or by a uv_walk() closing every handle. Returns false
 * when it could not start (nothing to undo) or the C library has no trim.
 */
bool gw_memtrim_start(gw_memtrim_t *mt, uv_loop_t *loop);

/** Stops and closes the timer (no-op if none was started). */
void gw_memtrim_stop(gw_memtrim_t *mt);

#endif
