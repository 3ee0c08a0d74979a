/*
 * Timers for plugins (host.h "Timers") over uv_timer_t.
 *
 * Repeating timers are re-armed from their previous due time, not from
 * when the callback ran, so drift does not accumulate; if the loop was late
 * by more than a period, missed expiries are skipped rather than bunched.
 * Freeing is safe inside the timer's own callback: the memory goes away in
 * the uv_close callback.
 */
#include "instance.h"
#include "log.h"

#include <stdlib.h>

struct lgw_timer {
    uv_timer_t h;
    lgw_instance_t *inst;
    lgw_timer_cb cb;
    void *data;
    uint64_t due, repeat;  /* loop time (ms) of the current expiry; period */
    bool closing;
    gw_list_t link;        /* in inst->timers */
};

static void on_close(uv_handle_t *h) { free(h->data); }

static void on_timer(uv_timer_t *h)
{
    lgw_timer_t *t = h->data;
    if (t->repeat) {
        uint64_t now = uv_now(h->loop);
        t->due += t->repeat;
        if (t->due <= now) /* late by a whole period or more: skip */
            t->due = now + t->repeat - (now - t->due) % t->repeat;
        uv_timer_start(&t->h, on_timer, t->due - now, 0);
    }
    t->cb(t, t->data); /* may free t: nothing after this */
}

LGW_HOST_API lgw_timer_t *lgw_timer_new(lgw_instance_t *inst, lgw_timer_cb cb, void *data)
{
    if (!inst || !cb || !gw_host_check_loop(inst->host, __func__))
        return NULL;
    lgw_timer_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (uv_timer_init(inst->host->loop, &t->h) != 0) {
        free(t);
        return NULL;
    }
    t->h.data = t;
    t->inst = inst;
    t->cb = cb;
    t->data = data;
    gw_list_push_back(&inst->timers, &t->link);
    return t;
}

LGW_HOST_API int lgw_timer_start(lgw_timer_t *t, uint64_t timeout_ms, uint64_t repeat_ms)
{
    if (!t || t->closing)
        return LGW_EINVAL;
    if (!gw_host_check_loop(t->inst->host, __func__))
        return LGW_ESTATE;
    uv_update_time(t->h.loop);
    t->due = uv_now(t->h.loop) + timeout_ms;
    t->repeat = repeat_ms;
    return uv_timer_start(&t->h, on_timer, timeout_ms, 0) == 0 ? LGW_OK : LGW_EINVAL;
}

LGW_HOST_API void lgw_timer_stop(lgw_timer_t *t)
{
    if (t && !t->closing && gw_host_check_loop(t->inst->host, __func__))
        uv_timer_stop(&t->h);
}

LGW_HOST_API void lgw_timer_free(lgw_timer_t *t)
{
    if (!t || t->closing || !gw_host_check_loop(t->inst->host, __func__))
        return;
    t->closing = true;
    gw_list_remove(&t->link);
    uv_timer_stop(&t->h);
    uv_close((uv_handle_t *)&t->h, on_close);
}

void gw_timers_free_all(lgw_instance_t *inst)
{
    size_t n = 0;
    gw_list_foreach_safe(node, tmp, &inst->timers) {
        lgw_timer_free(gw_container_of(node, lgw_timer_t, link));
        n++;
    }
    if (n)
        GW_WARN(inst->log_comp, "%zu timer(s) not freed by the plugin; freed by the host", n);
}
