/*
 * Downlink requests (lgw_request_t) and their timeouts; used by the hub.
 *
 * A request is answered exactly once (its gw_hub_done_fn runs once) but lives
 * until the plugin completes it or its instance is destroyed, because the
 * plugin holds the pointer until it calls lgw_request_done().
 */
#ifndef LINKGW_CORE_REQUEST_H
#define LINKGW_CORE_REQUEST_H

#include "hub.h"
#include "list.h"

/** The pending requests of a hub, in deadline order, and their timer. */
typedef struct gw_reqs {
    gw_host_t *host;
    gw_list_t pending;
    uv_timer_t timer;
} gw_reqs_t;

/** Initialises @p rq; its owner closes rq->timer (whose data is @p rq) before freeing it. */
void gw_reqs_init(gw_reqs_t *rq, gw_host_t *host);

/**
 * New request about @p device_id of @p inst (NULL for requests failed before
 * reaching a plugin), answered through @p done. @p what names it in logs
 * ("write", "invoke reset" …). NULL when out of memory.
 */
lgw_request_t *gw_request_new(gw_reqs_t *rq, lgw_instance_t *inst, const char *device_id, const char *what,
                              gw_hub_done_fn done, void *data);
/**
 * Gives @p req its own timeout (from now) instead of the host's
 * request_timeout_ms: firmware installs take minutes.
 */
void gw_request_set_timeout(lgw_request_t *req, uint64_t timeout_ms);
/** Forwards lgw_request_progress() reports of @p req to @p fn (loop thread, until answered). */
void gw_request_set_progress(lgw_request_t *req, gw_hub_progress_fn fn);
/**
 * Makes @p req a message request (lgw_request_reply_bytes() allowed): it is
 * answered through @p fn instead of its gw_hub_done_fn; the reply bytes are
 * passed only when the plugin completed it (not on timeout or stop).
 */
void gw_request_set_bytes_done(lgw_request_t *req, gw_hub_bytes_done_fn fn);
/** Completes @p req from the host side, exactly like lgw_request_done(). */
void gw_request_finish(lgw_request_t *req, int code, const char *message);
/** The output struct being built (for host-side answers). */
lgw_value_t *gw_request_output(lgw_request_t *req);

#endif
