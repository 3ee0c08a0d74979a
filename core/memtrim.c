/* Periodic return of free heap pages to the kernel; see memtrim.h. */
#include "memtrim.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

bool gw_malloc_policy(void)
{
#ifdef __GLIBC__
    const char *tunables = getenv("GLIBC_TUNABLES");
    if (getenv("MALLOC_ARENA_MAX") || (tunables && strstr(tunables, "arena_max")))
        return false;
    return mallopt(M_ARENA_MAX, 1) == 1;
#else
    return false;
#endif
}

static void on_trim(uv_timer_t *t)
{
    (void)t;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

bool gw_memtrim_start(gw_memtrim_t *mt, uv_loop_t *loop)
{
    memset(mt, 0, sizeof *mt);
#ifndef __GLIBC__
    (void)loop;
    return false;
#else
    if (uv_timer_init(loop, &mt->timer) != 0)
        return false;
    mt->started = true;
    if (uv_timer_start(&mt->timer, on_trim, GW_MEMTRIM_PERIOD_MS, GW_MEMTRIM_PERIOD_MS) != 0) {
        GW_WARN("linkgw", "cannot start the memory trim timer");
        gw_memtrim_stop(mt);
        return false;
    }
    uv_unref((uv_handle_t *)&mt->timer);
    return true;
#endif
}

void gw_memtrim_stop(gw_memtrim_t *mt)
{
    if (!mt->started)
        return;
    mt->started = false;
    if (!uv_is_closing((uv_handle_t *)&mt->timer))
        uv_close((uv_handle_t *)&mt->timer, NULL);
}
