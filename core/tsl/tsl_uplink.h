/*
 * Uplink helpers, pure data (no event loop, no clock of their own):
 *  - report-on-change decision with an optional deadband;
 *  - periodic full-report timing;
 *  - the pack/post builder that batches the properties and events of many
 *    sub-devices (and of the gateway itself) into
 *    `thing.event.property.pack.post` params within the platform's limits
 *    (≤ 20 sub-devices, ≤ 200 properties and ≤ 20 events per message) and
 *    within the payload cap in bytes (GW_TSL_PARAMS_MAX), splitting beyond
 *    them;
 *  - size bounds of JSON text, so the other uplink paths (event posts, the
 *    journal's history/post) stay under the same cap.
 */
#ifndef GW_TSL_UPLINK_H
#define GW_TSL_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Whether @p now (the TSL JSON of a property) differs enough from @p last,
 * the value last REPORTED for it (compare with the last reported value, not
 * the last seen one, so a slow drift is reported once it exceeds the band):
 *  - @p last NULL (never reported): true;
 *  - both numbers: |now - last| > @p deadband (deadband 0: any change);
 *  - otherwise: the JSON values differ (json_equal; strings, structs, arrays).
 * The deadband is in TSL units (after scale/offset).
 */
bool gw_tsl_changed(const json_t *last, const json_t *now, double deadband);

/**
 * The value last reported for one property, kept compactly: numbers inline
 * (no JSON object, 16 bytes per property), anything else as a JSON reference.
 * Zero-initialised = never reported. One per mapped point of a device in the
 * data layer, so the memory of report-on-change does not grow with a hash
 * table and a JSON number per point.
 */
typedef struct gw_tsl_last {
    union {
        json_int_t i;
        double f;
        json_t *j;
    } u;
    uint8_t kind;            /**< GW_TSL_LAST_* */
} gw_tsl_last_t;

enum { GW_TSL_LAST_NONE = 0, GW_TSL_LAST_INT, GW_TSL_LAST_REAL, GW_TSL_LAST_JSON };

/** gw_tsl_changed() against a compact last value (same rules, same results). */
bool gw_tsl_last_changed(const gw_tsl_last_t *last, const json_t *now, double deadband);

/** Remembers @p now (borrowed: numbers are copied, other values referenced) in @p last. */
void gw_tsl_last_set(gw_tsl_last_t *last, json_t *now);

/** Forgets @p last (back to never reported). */
void gw_tsl_last_clear(gw_tsl_last_t *last);

/**
 * Periodic full report: true when @p period_ms > 0 and the last full report
 * (@p last_ms, -1 = never) is at least @p period_ms before @p now_ms, or the
 * clock went backwards. Use a monotonic clock.
 */
bool gw_tsl_full_report_due(int64_t period_ms, int64_t last_ms, int64_t now_ms);

/**
 * Milliseconds from @p now_ms until the next full report is due (0 if due
 * now, -1 if @p period_ms is 0): what to arm a one-shot timer with.
 */
int64_t gw_tsl_full_report_delay(int64_t period_ms, int64_t last_ms, int64_t now_ms);

/* ---- payload cap --------------------------------------------------------------- */

/**
 * The largest MQTT payload the platform and its SDK accept: 1 MiB
 * (alink-protocol.md §1.3, LinkSDK CORE_MQTT_PAYLOAD_MAXLEN). A message over
 * it is refused whatever its content, so resending it can never succeed.
 */
#define GW_TSL_PAYLOAD_MAX (1024u * 1024u)

/**
 * Bytes kept for the Alink envelope around the params:
 *   {"id":"…","version":"1.0","params":…,"sys":{"ack":1},"method":"…"}
 * is 63 bytes of fixed text, an id of at most 15 characters and a method of at
 * most 81 bytes (thing.event.{identifier ≤ 64}.post): ≤ 159 bytes today. The
 * margin is 4 KiB so that a longer id, another `sys` field or a longer method
 * never needs this number revisited.
 */
#define GW_TSL_ENVELOPE_MARGIN 4096u

/**
 * The byte budget of the params of every uplink message: pack/post,
 * property/post, event posts and history/post. The one number those paths
 * share (the pack builder's default, gw_tsl_pack_max_bytes()).
 */
#define GW_TSL_PARAMS_MAX (GW_TSL_PAYLOAD_MAX - GW_TSL_ENVELOPE_MARGIN)

/**
 * An upper bound of the length of @p v written as compact JSON
 * (json_dumpb with JSON_COMPACT | JSON_ENCODE_ANY, or the pack builder's
 * renderer): exact for strings, objects and arrays of them, 20 bytes per
 * integer, 40 per real. Walks the value once, writes nothing. 0 for NULL.
 */
size_t gw_tsl_json_bytes(const json_t *v);

/**
 * An upper bound of one entry `"id":{"value":v,"time":t}` and the comma
 * that may follow it (@p time_ms < 0: no "time"), as the pack builder and the
 * history/post both write it.
 */
size_t gw_tsl_entry_bytes(const char *id, const json_t *value, int64_t time_ms);

/**
 * An upper bound of a sub-device block without its entries:
 * `{"identity":{"productKey":pk,"deviceName":dn},"properties":{},"events":{}}`
 * (the same length with [] as history/post writes it) and a comma.
 */
size_t gw_tsl_identity_bytes(const char *pk, const char *dn);

/* ---- pack/post builder ---------------------------------------------------- */

typedef struct gw_tsl_pack gw_tsl_pack_t;
typedef struct gw_tsl_pack_dev gw_tsl_pack_dev_t;

/**
 * New empty builder with the platform's limits (20 sub-devices, 200
 * properties, 20 events) and a budget of GW_TSL_PARAMS_MAX bytes per params.
 */
gw_tsl_pack_t *gw_tsl_pack_new(void);

/**
 * Lowers the limits (values above the platform's, or 0, keep the platform's).
 * For tests and for staying under a payload size.
 */
void gw_tsl_pack_set_limits(gw_tsl_pack_t *p, size_t max_subdevs, size_t max_props, size_t max_events);

/**
 * Lowers the byte budget of one message's params (0 or above
 * GW_TSL_PARAMS_MAX: GW_TSL_PARAMS_MAX). For tests (a small budget exercises
 * the splitting with small values) and for the other uplink paths, which read
 * it with gw_tsl_pack_max_bytes() so the whole data layer has one budget.
 */
void gw_tsl_pack_set_max_bytes(gw_tsl_pack_t *p, size_t max_bytes);

/** The byte budget of one message's params. */
size_t gw_tsl_pack_max_bytes(const gw_tsl_pack_t *p);

/**
 * Told about a value that can never be sent: alone in a message (with its
 * device's identity) its rendering exceeds the byte budget (@p bytes: its
 * entry's size). @p pk / @p dn NULL for the gateway itself. The value is
 * never passed (it may be huge, or private). Called from take/flush, before
 * the value is released; must not call into the builder.
 */
typedef void (*gw_tsl_pack_drop_fn)(void *ctx, const char *pk, const char *dn, const char *id, bool event,
                                    size_t bytes);

/** Sets the callback for values dropped as oversize (NULL: dropped silently, still counted). */
void gw_tsl_pack_set_drop_cb(gw_tsl_pack_t *p, gw_tsl_pack_drop_fn fn, void *ctx);

/** Number of values dropped as oversize since the builder was made. */
uint64_t gw_tsl_pack_dropped(const gw_tsl_pack_t *p);

/** Frees the builder and everything pending. NULL is a no-op. */
void gw_tsl_pack_free(gw_tsl_pack_t *p);

/**
 * The pending block of device @p pk / @p dn (created on first use; both
 * NULL = the gateway itself, reported in the top-level properties/events).
 * The handle stays valid until gw_tsl_pack_take() or gw_tsl_pack_free().
 * NULL when memory is short.
 */
gw_tsl_pack_dev_t *gw_tsl_pack_device(gw_tsl_pack_t *p, const char *pk, const char *dn);

/**
 * Queues property @p id = @p value (reference stolen, even on error) with
 * its time (UTC ms, -1 = no "time" field). A property queued twice before a
 * take keeps both values: they go out in order, in different messages.
 * Returns 0 or -1 (out of memory).
 */
int gw_tsl_pack_add_property(gw_tsl_pack_dev_t *d, const char *id, json_t *value, int64_t time_ms);

/**
 * Makes room for @p more items in @p d's queue at once (a report of n values reserves n before
 * queueing them: one allocation instead of a doubling series). Optional; 0 or -1 (out of memory,
 * nothing changed; queueing still works and grows as needed).
 */
int gw_tsl_pack_reserve(gw_tsl_pack_dev_t *d, size_t more);

/** Queues event @p id with its output object @p value (stolen) and time. Same contract. */
int gw_tsl_pack_add_event(gw_tsl_pack_dev_t *d, const char *id, json_t *value, int64_t time_ms);

/** Number of queued properties + events. */
size_t gw_tsl_pack_pending(const gw_tsl_pack_t *p);

/** Number of devices (gateway included) with something queued. */
size_t gw_tsl_pack_devices(const gw_tsl_pack_t *p);

/**
 * Takes everything queued as a JSON array of pack/post `params` objects
 * (new reference; an empty array if nothing is queued, NULL when out of
 * memory — the queue is then kept), and empties the builder. Each element:
 *   {"properties":{id:{"value":v,"time":t},…}, "events":{id:{"value":{…},"time":t},…},
 *    "subDevices":[{"identity":{"productKey":pk,"deviceName":dn},
 *                   "properties":{…},"events":{…}}, …]}
 * and respects the limits: sub-devices per message, properties and events
 * per message (gateway's and sub-devices' together), and the byte budget
 * (gw_tsl_pack_max_bytes(): the element written as compact JSON is never
 * longer; sizes are bounded, not measured, so a message may be split a little
 * before it would really reach the budget). A device whose queue exceeds a
 * message (or repeats an identifier) is split into chunks sent in successive
 * messages, in queue order; other devices fill the free room first-fit.
 * Devices keep their first-queued order. A value that does not fit even
 * alone is taken out of the queue, released and reported to the drop callback
 * (gw_tsl_pack_set_drop_cb); everything else goes out exactly once.
 */
json_t *gw_tsl_pack_take(gw_tsl_pack_t *p);

/** Receives one rendered pack/post `params` object (@p len bytes, NUL-terminated, valid until return). */
typedef void (*gw_tsl_pack_emit_fn)(void *ctx, const char *params, size_t len);

/**
 * Like gw_tsl_pack_take() but renders each message's params straight to JSON
 * text (no jansson tree; several times faster) and hands them to @p emit in
 * order (each at most gw_tsl_pack_max_bytes() long; oversize values are
 * dropped as in gw_tsl_pack_take()); the caller wraps them in the Alink
 * envelope. Reals are written with
 * the shortest text that reads back exactly (gw_tsl_num_fmt_real: %g's form,
 * 15 to 17 significant digits at most), and always with a decimal point or
 * exponent (20 → 20.0). The builder is emptied
 * once every message has been emitted; @p emit must take care of each one
 * (send or journal it) and must not call into this builder. Messages are
 * rendered one at a time into a buffer the builder keeps. Returns the number
 * of messages, or -1 when memory is short: the messages emitted before the
 * shortage are out of the queue, everything else stays queued in order.
 */
long gw_tsl_pack_flush(gw_tsl_pack_t *p, gw_tsl_pack_emit_fn emit, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
