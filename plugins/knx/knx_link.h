/*
 * The connection to knxd: a libeibclient group socket driven from the host's
 * event loop, reconnected with exponential backoff forever.
 *
 * - Connecting (EIBSocketURL + EIBOpen_GroupSocket) blocks, so it runs as a
 *   job on the host's pool (lgw_work_submit). Stopping does not wait for it:
 *   the host runs the job's `after` before the plugin's destroy, which is
 *   why the link must only be freed in destroy. TCP connects to ip: URLs
 *   are bounded to 3 s.
 * - Receiving never blocks: an lgw_watch_t on EIB_Poll_FD() reports
 *   readiness and EIB_Poll_Complete() is asked before every EIBGetGroup_Src(),
 *   which would block on a partly received packet otherwise.
 * - Sending (EIBSendGroup) writes ~10 bytes to a local or TCP socket; the
 *   socket has a 200 ms send timeout so a stalled knxd cannot hold the loop
 *   longer than that (the link is then considered broken and reconnected).
 *
 * All functions: loop thread only.
 */
#ifndef KNX_LINK_H
#define KNX_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linkgw/linkgw.h>

typedef struct knx_link knx_link_t;

/** What the link tells its owner (all on the loop thread). */
typedef struct knx_link_events {
    /** The group socket is open. */
    void (*up)(void *data);
    /** The connection was lost (not called by knx_link_stop()). */
    void (*down)(void *data);
    /** A group telegram arrived: @p apdu starts with the TPCI/APCI bytes. */
    void (*telegram)(void *data, uint16_t src, uint16_t dst, const uint8_t *apdu, size_t len);
} knx_link_events_t;

/**
 * New, idle link to knxd at @p url ("local:/path" or "ip:host[:port]"), with
 * reconnect delays from @p min_ms doubling up to @p max_ms. NULL when out of
 * memory.
 */
knx_link_t *knx_link_new(lgw_instance_t *inst, const char *url, uint32_t min_ms, uint32_t max_ms,
                         const knx_link_events_t *ev, void *data);

/** Starts connecting (in the background). Returns LGW_OK or LGW_ENOMEM. */
int knx_link_start(knx_link_t *link);

/**
 * Disconnects and stops reconnecting. No event is delivered after it
 * returns; a connect attempt still running is discarded when it ends. The
 * link may be started again.
 */
void knx_link_stop(knx_link_t *link);

/**
 * Stops (if needed) and frees @p link. NULL is a no-op. Only call it when no
 * connect job can be outstanding: in the plugin's destroy callback.
 */
void knx_link_free(knx_link_t *link);

/** True while the group socket is open. */
bool knx_link_is_up(const knx_link_t *link);

/**
 * Sends the group APDU @p apdu (@p len bytes) to group address @p dst.
 * Returns LGW_OK, LGW_ESTATE when not connected, or LGW_EIO when the send
 * failed (the link then goes down — the down event is delivered before this
 * returns — and reconnects).
 */
int knx_link_send(knx_link_t *link, uint16_t dst, const uint8_t *apdu, size_t len);

#endif /* KNX_LINK_H */
