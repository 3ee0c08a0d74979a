/*
 * The host: the state shared by every plugin instance of one daemon — the
 * libuv loop, the device hub, and the cross-thread queue.
 *
 * Cross-thread queue ("xq"): reports, device events and request completions
 * may come from any thread (plugin-owned threads, work functions). Each is a
 * message (gw_xmsg_t embedded first in a larger struct) appended under a
 * mutex; a uv_async wakes the loop thread, which takes the whole batch and
 * calls each message's deliver function in order. Messages posted from the
 * loop thread take the same path, so per-thread order is always kept and no
 * plugin callback is re-entered from inside a host call.
 *
 * Reports are the only messages that can be refused: when more than
 * xq_report_limit of them wait (the loop cannot keep up), lgw_report_commit()
 * returns LGW_EBUSY and the loop logs how many were dropped. Device events
 * and request completions are never refused.
 */
#ifndef LINKGW_CORE_HOST_H
#define LINKGW_CORE_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "list.h"

typedef struct gw_hub gw_hub_t;

typedef struct gw_xmsg gw_xmsg_t;
struct gw_xmsg {
    gw_xmsg_t *next;
    /** Called on the loop thread; owns the message from then on. */
    void (*deliver)(gw_xmsg_t *m);
};

typedef struct gw_host {
    uv_loop_t *loop;
    gw_hub_t *hub;
    uint64_t request_timeout_ms;  /* downlink request timeout */
    gw_list_t instances;          /* every lgw_instance_t alive (loop thread) */

    pthread_t loop_thread;        /* the thread that runs the loop */

    pthread_mutex_t xq_lock;
    gw_xmsg_t *xq_head, *xq_tail;
    size_t xq_reports;            /* reports queued (under xq_lock) */
    size_t xq_report_limit;       /* beyond this, reports are refused */
    uint64_t xq_dropped;          /* reports refused since the last warning (under xq_lock) */
    uint64_t xq_warned_ms;        /* monotonic time of that warning (loop thread) */
    uv_async_t xq_async;
} gw_host_t;

/** Initialises @p host on @p loop (creates the hub). Returns LGW_OK or an error. */
int gw_host_init(gw_host_t *host, uv_loop_t *loop);
/**
 * Releases the host: drains the queue, frees the hub and closes the async
 * handle. Run the loop afterwards so close callbacks complete (the hub's
 * memory is released in one). Every instance must be gone already.
 */
void gw_host_close(gw_host_t *host);

/**
 * Sets the correction added to the local clock by lgw_time_ms() (cloud time
 * minus local time, ms). Set by the cloud link's NTP exchange. Any thread.
 */
void gw_time_set_offset(int64_t offset_ms);

/**
 * True on the loop thread. Loop-thread-only host functions check it and
 * refuse (with an error log naming @p fn) when called from another thread,
 * rather than corrupt libuv state.
 */
bool gw_host_check_loop(const gw_host_t *host, const char *fn);

/** Queues @p m for delivery on the loop thread. Any thread. */
void gw_xq_post(gw_host_t *host, gw_xmsg_t *m);
/**
 * Queues report message @p m unless the report limit is reached; returns
 * false (and counts a drop) then. The deliver function must call
 * gw_xq_report_done() once per delivered report. Any thread.
 */
bool gw_xq_post_report(gw_host_t *host, gw_xmsg_t *m);
/** Accounts one report message taken off the queue. Loop thread. */
void gw_xq_report_done(gw_host_t *host);
/** Delivers everything queued so far, now. Loop thread. */
void gw_xq_drain(gw_host_t *host);

#endif
