/*
 * Custom topics, raw passthrough and RRPC on custom topics (issue 12): the
 * part of the gateway that moves opaque bytes between plugins (ABI 1.1:
 * lgw_message_cb, lgw_publish) and the cloud, for the gateway itself and its
 * sub-devices. Declarations come from topics_conf.h.
 *
 * Cloud → device (subscribed per declared product; see docs/custom-topics.md):
 *   /{pk}/{dn}/user/…                          → plugin, suffix "user/…", no request
 *   /ext/rrpc/{mid}/{pk}/{dn}/user/…  (also with "//" before pk: the form the
 *   documented "/ext/rrpc/${messageId}/${topic}" literally gives)
 *                                              → plugin with a request (8 s);
 *                                                the reply bytes go back on the
 *                                                very topic received
 *   /sys/{pk}/{dn}/thing/model/down_raw         → plugin, "raw", request; reply
 *                                                bytes on …/down_raw_reply
 *   /ext/rrpc/{mid}/sys/{pk}/{dn}/thing/model/down_raw → the same, answered on
 *                                                the received topic
 *   /sys/{pk}/{dn}/thing/model/up_raw_reply     → plugin, "raw_reply", no request
 * Device → cloud: lgw_publish() ("user/…" → /{pk}/{dn}/user/…, "raw" →
 * /sys/{pk}/{dn}/thing/model/up_raw), checked against the declarations, the
 * platform's size limits and the device's session.
 *
 * The device behind pk/dn: the gateway itself (its own pk/dn; delivered to
 * the instance named by topics.gateway_instance, device_id NULL) or a
 * sub-device (gw_subdev_lookup). Loop thread only.
 */
#ifndef GW_GATEWAY_TOPICS_H
#define GW_GATEWAY_TOPICS_H

#include <stdint.h>
#include <uv.h>

#include "cloud.h"
#include "hub.h"
#include "subdev.h"

typedef struct gw_topics gw_topics_t;

/** Counters (for tests and the control socket). */
typedef struct gw_topics_stats {
    uint64_t published;   /**< messages handed to the cloud link */
    uint64_t refused;     /**< lgw_publish() refusals found on the loop (returned or logged) */
    uint64_t delivered;   /**< downstream messages handed to a plugin */
    uint64_t dropped;     /**< downstream messages nobody could take (unknown device, undeclared class …) */
    uint64_t replies;     /**< RRPC / down_raw answers sent */
} gw_topics_stats_t;

/**
 * Subscribes the declared topics on @p cloud and becomes the sink of
 * lgw_publish(). NULL when out of memory. @p subdev may be NULL (gateway only).
 */
gw_topics_t *gw_topics_new(uv_loop_t *loop, gw_hub_t *hub, gw_cloud_t *cloud, gw_subdev_t *subdev);

/** Stops taking lgw_publish() (before the cloud closes). */
void gw_topics_detach(gw_topics_t *t);

/** Frees @p t; call after the cloud session was closed (its handlers point here). NULL is a no-op. */
void gw_topics_free(gw_topics_t *t);

/**
 * Publishes for (instance, device_id) exactly as lgw_publish() does, with
 * every check done now (the gateway's own code uses it with device_id NULL).
 */
int gw_topics_publish(gw_topics_t *t, const char *instance, const char *device_id, const char *suffix,
                      const void *payload, size_t len);

void gw_topics_get_stats(const gw_topics_t *t, gw_topics_stats_t *out);

#endif
