/*
 * The device hub: where devices reported by plugin instances meet the layers
 * above (cloud link, lifecycle, TSL mapping, store). Loop thread only.
 *
 * Uplink: every device event and report of every instance arrives here (from
 * the cross-thread queue). The hub keeps the LocalDevList — one
 * gw_hub_device_t per (instance, device id) with its model, online state,
 * last-seen time, firmware and last values (hub_values.h: names interned per
 * instance, values inline, found by hash) — and calls each registered
 * consumer. With no consumer registered, a built-in one logs at info what
 * would be forwarded (device, point, value as JSON).
 *
 * Downlink: gw_hub_write/read/invoke/remove() build an lgw_request_t, call
 * the plugin, and deliver (code, message, output) to the caller's done
 * callback exactly once, always later on the loop (never inside the call):
 * when the plugin completes, when the timeout expires (code 400, "timed
 * out"), when the instance stops (code 400, "instance stopped"), or at once
 * (on the next loop turn) for unknown instances/devices or unsupported
 * operations. A plugin completing after the timeout is ignored.
 */
#ifndef LINKGW_CORE_HUB_H
#define LINKGW_CORE_HUB_H

#include <stdbool.h>
#include <stdint.h>
#include <linkgw/host.h>

#include "host.h"
#include "hub_values.h"

/** A device in the LocalDevList (read-only for consumers). */
typedef struct gw_hub_device {
    lgw_instance_t *inst;
    const char *instance;   /* instance name */
    char *device_id;
    char *model;
    char *firmware;         /* NULL until reported */
    bool online;
    int64_t last_seen_ms;   /* UTC ms of the last report / online change */
    gw_hub_values_t values; /* last value of each point: read with gw_hub_value*() below */
    void *consumer_data;    /* free slot for the (single) cloud consumer: the data layer caches its record here */
} gw_hub_device_t;

/**
 * What the layers above implement. Every member may be NULL. Device pointers
 * are valid until device_gone returns or the instance stops.
 */
typedef struct gw_hub_consumer {
    void (*instance_started)(void *data, const char *instance);
    /** The instance stopped; its devices were reported offline first and are forgotten now. */
    void (*instance_stopped)(void *data, const char *instance);
    /** A device appeared (or its model changed). */
    void (*device_added)(void *data, const gw_hub_device_t *dev);
    void (*device_online)(void *data, const gw_hub_device_t *dev, bool online);
    /** The device left for good (lgw_device_gone); removed after this returns. */
    void (*device_gone)(void *data, const gw_hub_device_t *dev);
    void (*device_firmware)(void *data, const gw_hub_device_t *dev, const char *version);
    /** Property values (read with gw_report_count/gw_report_at of report.h). */
    void (*properties)(void *data, const gw_hub_device_t *dev, const lgw_report_t *report);
    /** An event (gw_report_event() names it; its values are the output data). */
    void (*event)(void *data, const gw_hub_device_t *dev, const lgw_report_t *report);
} gw_hub_consumer_t;

gw_hub_t *gw_hub_new(gw_host_t *host);
void gw_hub_free(gw_hub_t *hub);

/**
 * Registers a consumer (@p c must outlive its registration). Several may be
 * registered; they are called in registration order. While none is, the
 * built-in log consumer runs.
 */
int gw_hub_add_consumer(gw_hub_t *hub, const gw_hub_consumer_t *c, void *data);
/** Unregisters a consumer registered with the same @p c and @p data. */
void gw_hub_remove_consumer(gw_hub_t *hub, const gw_hub_consumer_t *c, void *data);
/** Replaces all consumers by @p c (NULL: back to the log consumer). */
void gw_hub_set_consumer(gw_hub_t *hub, const gw_hub_consumer_t *c, void *data);

/** Device @p device_id of instance @p instance, or NULL. */
const gw_hub_device_t *gw_hub_find(gw_hub_t *hub, const char *instance, const char *device_id);
/** Calls @p fn for every device (of every running instance); stops when @p fn returns false. */
void gw_hub_foreach(gw_hub_t *hub, bool (*fn)(const gw_hub_device_t *dev, void *data), void *data);
/**
 * The last reported value of point @p name of @p dev, or NULL. Borrowed:
 * valid until the device's next property report or its removal.
 */
const lgw_value_t *gw_hub_value(const gw_hub_device_t *dev, const char *name);
/** Number of points @p dev has reported values for. */
size_t gw_hub_value_count(const gw_hub_device_t *dev);
/**
 * Point @p i of @p dev (0 … count-1, in first-report order) and its name
 * (to @p *name, may be NULL), or NULL past the end. Borrowed like gw_hub_value().
 */
const lgw_value_t *gw_hub_value_at(const gw_hub_device_t *dev, size_t i, const char **name);
/** Number of devices known. */
size_t gw_hub_device_count(gw_hub_t *hub);
/** The running instance named @p name, or NULL. */
lgw_instance_t *gw_hub_instance(gw_hub_t *hub, const char *name);

/* ---- downlink --------------------------------------------------------- */

/** Outcome of a downlink request; @p output is a struct (maybe empty), borrowed. */
typedef void (*gw_hub_done_fn)(void *data, int code, const char *message, const lgw_value_t *output);

/** Writes @p values (a struct, borrowed: copied) to a device. */
void gw_hub_write(gw_hub_t *hub, const char *instance, const char *device_id, const lgw_value_t *values,
                  gw_hub_done_fn done, void *data);
/**
 * Reads points @p names (an array of text, borrowed). Without a plugin read
 * callback the answer comes from the last reported values.
 */
void gw_hub_read(gw_hub_t *hub, const char *instance, const char *device_id, const lgw_value_t *names,
                 gw_hub_done_fn done, void *data);
/** Invokes @p service with @p input (a struct or NULL, borrowed). */
void gw_hub_invoke(gw_hub_t *hub, const char *instance, const char *device_id, const char *service,
                   const lgw_value_t *input, gw_hub_done_fn done, void *data);
/** Progress of a long downlink request (lgw_request_progress): @p percent 1..100, @p message or NULL. */
typedef void (*gw_hub_progress_fn)(void *data, int percent, const char *message);

/**
 * Hands a verified firmware image to the plugin's ota callback (ABI 1.1).
 * @p module may be NULL. The request times out after @p timeout_ms (0 = the
 * host's request timeout); @p progress (may be NULL) sees the plugin's
 * progress reports until the answer. Plugins without the callback are
 * answered with LGW_REPLY_REQUEST_ERROR and a message saying OTA is not
 * supported. The caller owns (and deletes) the image file; it must exist
 * until @p done ran.
 */
void gw_hub_ota(gw_hub_t *hub, const char *instance, const char *device_id, const char *version,
                const char *image_path, const char *module, uint64_t timeout_ms, gw_hub_progress_fn progress,
                gw_hub_done_fn done, void *data);
/** Outcome of a message request: @p reply (@p len bytes) is what the plugin set with lgw_request_reply_bytes(), or NULL. */
typedef void (*gw_hub_bytes_done_fn)(void *data, int code, const char *message, const void *reply, size_t len);

/**
 * Hands bytes the cloud sent (custom topic, RRPC on a custom topic, down_raw,
 * up_raw_reply; @p suffix "user/…", "raw", "raw_reply") to the plugin's
 * message callback (ABI 1.1) of instance @p instance, for @p device_id (NULL:
 * the gateway itself, then the device need not exist).
 * Without @p done no request is made: the callback runs now with a NULL
 * request and its result is returned (LGW_ENOENT unknown instance or device,
 * LGW_ENOTSUP no callback). With @p done the plugin gets a request that is
 * answered through @p done exactly once, later (timeout @p timeout_ms, 0 =
 * the host's), and LGW_OK is returned.
 */
int gw_hub_message(gw_hub_t *hub, const char *instance, const char *device_id, const char *suffix,
                   const void *payload, size_t len, uint64_t timeout_ms, gw_hub_bytes_done_fn done, void *data);
/** Asks the plugin to remove the device from its network; the hub forgets it at once. */
void gw_hub_remove(gw_hub_t *hub, const char *instance, const char *device_id, gw_hub_done_fn done, void *data);
/** Starts or stops discovery on an instance; LGW_ENOTSUP without the callback. */
int gw_hub_discovery(gw_hub_t *hub, const char *instance, bool enable);

/* ---- from the core (instance.c, device.c, report.c) -------------------- */

void gw_hub_instance_started(gw_hub_t *hub, lgw_instance_t *inst);
void gw_hub_instance_stopped(gw_hub_t *hub, lgw_instance_t *inst);
void gw_hub_device_added(gw_hub_t *hub, lgw_instance_t *inst, const char *id, const char *model);
void gw_hub_device_online(gw_hub_t *hub, lgw_instance_t *inst, const char *id, bool online);
void gw_hub_device_gone(gw_hub_t *hub, lgw_instance_t *inst, const char *id);
void gw_hub_device_firmware(gw_hub_t *hub, lgw_instance_t *inst, const char *id, const char *version);
void gw_hub_report(gw_hub_t *hub, lgw_instance_t *inst, const lgw_report_t *report);

#endif
