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

/**
 * Allocator policy, to call first thing in main(), before any thread exists:
 * one malloc arena for the whole process (M_ARENA_MAX = 1) unless the
 * operator chose otherwise (MALLOC_ARENA_MAX, or glibc.malloc.arena_max in
 * GLIBC_TUNABLES, in the environment win).
 *
 * Why: glibc gives every thread that allocates concurrently an arena of its
 * own, and each arena keeps its own high-water mark of freed memory. Our
 * threads allocate in bursts and free on another thread (a plugin's worker
 * builds reports the loop frees; the publisher's Paho copies are freed by
 * Paho's send thread; replies arrive on Paho's receive thread), so every
 * arena held a burst's worth of free pages. With one arena they share one
 * pool: bench_modbus_gateway at 50 slaves, RssAnon 2.96 -> 2.72 MB; the
 * per-thread caches (tcache) keep small allocations lock-free, and
 * bench_data's CPU per value did not change measurably. Returns true when the
 * policy was applied. No-op with other C libraries.
 */
bool gw_malloc_policy(void);

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
