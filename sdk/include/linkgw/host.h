/*
 * linkgw plugin SDK — what the host offers to plugins.
 *
 * Copyright (c) the linkgw developers. Licensed under the MIT license.
 *
 * These functions are implemented by the linkgw daemon and resolved when it
 * loads a plugin: a plugin does not link against any library for them.
 *
 * Threading contract, function by function, is stated in each comment:
 *  - "loop thread": only from host callbacks (plugin callbacks, timer, watch
 *    and `after` callbacks), which all run on the host's event loop;
 *  - "any thread": also from threads the plugin owns or from work functions.
 *
 * Nothing here exposes the host's event loop library, JSON library or config
 * library: handles are opaque and every callback carries a `void *data`.
 */
#ifndef LINKGW_HOST_H
#define LINKGW_HOST_H

#include <stdarg.h>
#include <stdbool.h>
#include "common.h"
#include "value.h"
#include "config.h"
#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===== Driver registration (only inside lgw_plugin_register()) =========== */

/**
 * Sets the driver's own version string (e.g. "1.2.0") and a one-line
 * description, shown by `linkgwctl plugins` and in logs. Both are copied.
 */
LGW_HOST_API void lgw_driver_set_info(lgw_driver_t *drv, const char *version, const char *description);
/** Registers the create callback (required). */
LGW_HOST_API void lgw_driver_set_create(lgw_driver_t *drv, lgw_create_cb cb);
/** Registers the start callback (required). */
LGW_HOST_API void lgw_driver_set_start(lgw_driver_t *drv, lgw_start_cb cb);
/** Registers the stop callback (required). */
LGW_HOST_API void lgw_driver_set_stop(lgw_driver_t *drv, lgw_stop_cb cb);
/** Registers the destroy callback (required). */
LGW_HOST_API void lgw_driver_set_destroy(lgw_driver_t *drv, lgw_destroy_cb cb);
/** Registers the discovery callback (optional). */
LGW_HOST_API void lgw_driver_set_discovery(lgw_driver_t *drv, lgw_discovery_cb cb);
/** Registers the property-write callback (optional). */
LGW_HOST_API void lgw_driver_set_write(lgw_driver_t *drv, lgw_write_cb cb);
/** Registers the property-read callback (optional). */
LGW_HOST_API void lgw_driver_set_read(lgw_driver_t *drv, lgw_read_cb cb);
/** Registers the service-invocation callback (optional). */
LGW_HOST_API void lgw_driver_set_invoke(lgw_driver_t *drv, lgw_invoke_cb cb);
/** Registers the device-removal callback (optional). */
LGW_HOST_API void lgw_driver_set_remove(lgw_driver_t *drv, lgw_remove_cb cb);
/** Registers the firmware-install callback (optional). Since ABI 1.1. */
LGW_HOST_API void lgw_driver_set_ota(lgw_driver_t *drv, lgw_ota_cb cb);
/** Registers the custom-topic / raw message callback (optional). Since ABI 1.1. */
LGW_HOST_API void lgw_driver_set_message(lgw_driver_t *drv, lgw_message_cb cb);

/* ===== Instances, logging, time ========================================== */

/** Name of the instance (its conf.d file name without ".conf"). Any thread. */
LGW_HOST_API const char *lgw_instance_name(const lgw_instance_t *inst);

/**
 * Logs a message through the host (stderr / journald), prefixed with the
 * instance name. @p inst may be NULL (e.g. in lgw_plugin_register()). Never
 * log secrets. Any thread.
 */
LGW_HOST_API void lgw_log(const lgw_instance_t *inst, lgw_log_level_t level, const char *fmt, ...) LGW_PRINTF(3, 4);
/** va_list form of lgw_log(). Any thread. */
LGW_HOST_API void lgw_logv(const lgw_instance_t *inst, lgw_log_level_t level, const char *fmt, va_list ap);
/** True when messages at @p level are printed (skip costly formatting otherwise). Any thread. */
LGW_HOST_API bool lgw_log_enabled(lgw_log_level_t level);

/**
 * Current UTC time in milliseconds, corrected by the host's clock sync with
 * the cloud (NTP over MQTT), so timestamps are right even without a local time
 * source. Any thread.
 */
LGW_HOST_API int64_t lgw_time_ms(void);

/** Monotonic milliseconds (arbitrary origin) for intervals. Any thread. */
LGW_HOST_API uint64_t lgw_monotonic_ms(void);

/** Message for an lgw_result_t code. Any thread. */
LGW_HOST_API const char *lgw_strerror(int result);

/* ===== Timers (loop thread) ============================================== */

/**
 * Timer callback, run on the loop thread. For a repeating timer it runs every
 * `repeat_ms`; drift does not accumulate. Use one timer per polling group,
 * never one per point.
 */
typedef void (*lgw_timer_cb)(lgw_timer_t *timer, void *data);

/** New stopped timer that will call @p cb with @p data. NULL on error. */
LGW_HOST_API lgw_timer_t *lgw_timer_new(lgw_instance_t *inst, lgw_timer_cb cb, void *data);
/**
 * (Re)starts @p timer: first expiry after @p timeout_ms, then every
 * @p repeat_ms (0 = one-shot).
 */
LGW_HOST_API int lgw_timer_start(lgw_timer_t *timer, uint64_t timeout_ms, uint64_t repeat_ms);
/** Stops @p timer; it may be started again. Safe if not running. */
LGW_HOST_API void lgw_timer_stop(lgw_timer_t *timer);
/** Stops and frees @p timer (safe inside its own callback). NULL is a no-op. */
LGW_HOST_API void lgw_timer_free(lgw_timer_t *timer);

/* ===== File-descriptor watches (loop thread) ============================= */

/** Readiness flags for lgw_watch_start() and the watch callback. */
#define LGW_WATCH_READ 1
#define LGW_WATCH_WRITE 2
/** Passed to the callback (never requested): the fd has an error or hung up. */
#define LGW_WATCH_ERROR 4

/** Watch callback, run on the loop thread with the ready @p events. */
typedef void (*lgw_watch_cb)(lgw_watch_t *watch, int fd, int events, void *data);

/**
 * New watch on @p fd (a socket, pipe, tty … that the plugin owns and keeps
 * open while the watch exists; best non-blocking). NULL on error.
 */
LGW_HOST_API lgw_watch_t *lgw_watch_new(lgw_instance_t *inst, int fd, lgw_watch_cb cb, void *data);
/** Starts watching for @p events (LGW_WATCH_READ | LGW_WATCH_WRITE); replaces earlier events. */
LGW_HOST_API int lgw_watch_start(lgw_watch_t *watch, int events);
/** Stops watching; may be started again. */
LGW_HOST_API void lgw_watch_stop(lgw_watch_t *watch);
/** Stops and frees @p watch (safe inside its callback). Does not close the fd. */
LGW_HOST_API void lgw_watch_free(lgw_watch_t *watch);

/* ===== Running blocking work off the loop ================================ */

/** Runs on a worker thread: may block. Must not call loop-thread functions. */
typedef void (*lgw_work_fn)(void *data);
/**
 * Runs on the loop thread after the work function returned (@p status LGW_OK)
 * or after the job was cancelled before it ran (@p status LGW_ECANCELED).
 */
typedef void (*lgw_after_fn)(void *data, int status);

/**
 * Runs @p work on the host's shared thread pool, then @p after (may be NULL)
 * on the loop thread. Jobs of the shared pool run concurrently and in no
 * particular order. When the instance stops, jobs that have not started are
 * cancelled (their @p after runs with LGW_ECANCELED) and running ones are
 * waited for: every @p after has run before the plugin's destroy callback is
 * called, so destroy may free what the jobs use. Loop thread.
 */
LGW_HOST_API int lgw_work_submit(lgw_instance_t *inst, lgw_work_fn work, lgw_after_fn after, void *data);

/**
 * New dedicated worker thread named @p name (for logs): jobs submitted to it
 * run one after another, in submission order — the natural shape for a serial
 * bus. NULL on error. Loop thread.
 */
LGW_HOST_API lgw_worker_t *lgw_worker_new(lgw_instance_t *inst, const char *name);
/** Queues a job on @p worker; @p after (may be NULL) runs on the loop thread. Loop thread. */
LGW_HOST_API int lgw_worker_submit(lgw_worker_t *worker, lgw_work_fn work, lgw_after_fn after, void *data);
/** Number of jobs queued or running on @p worker. Loop thread. */
LGW_HOST_API size_t lgw_worker_pending(const lgw_worker_t *worker);
/**
 * Waits for the running job to finish, cancels the queued ones (their
 * `after` runs with LGW_ECANCELED before this returns), joins the thread and
 * frees @p worker. Loop thread.
 */
LGW_HOST_API void lgw_worker_free(lgw_worker_t *worker);

/* ===== Device models (loop thread) ======================================= */

/** Access of a point: readable, writable, or both. */
#define LGW_ACCESS_READ 1
#define LGW_ACCESS_WRITE 2
#define LGW_ACCESS_RW (LGW_ACCESS_READ | LGW_ACCESS_WRITE)

/**
 * Begins declaring the device model @p name (e.g. "thermometer", or a
 * vendor's product code): the points, services and events its devices have.
 * The host uses declared models to check the TSL mapping of conf.d at load
 * time and to map values without guessing. Declaring is optional but strongly
 * recommended. Commit with lgw_model_commit(). NULL on error.
 */
LGW_HOST_API lgw_model_t *lgw_model_new(lgw_instance_t *inst, const char *name);
/** Declares a point (a property of the device) with its type and access (LGW_ACCESS_*). */
LGW_HOST_API int lgw_model_add_point(lgw_model_t *model, const char *name, lgw_type_t type, int access);
/** Declares a service the device can run (lgw_invoke_cb). */
LGW_HOST_API int lgw_model_add_service(lgw_model_t *model, const char *name);
/** Declares an event the device can raise (lgw_event_new()). */
LGW_HOST_API int lgw_model_add_event(lgw_model_t *model, const char *name);
/** Hands the model to the host (which takes ownership); replaces an earlier model of that name. */
LGW_HOST_API int lgw_model_commit(lgw_model_t *model);
/** Discards a model that was not committed. */
LGW_HOST_API void lgw_model_discard(lgw_model_t *model);

/* ===== Devices (any thread) ============================================== */

/**
 * Reports that the device @p device_id (unique within the instance; a MAC,
 * serial number, bus address …) of model @p model is present on the access
 * network — configured, or found by discovery. The host then proxies it to
 * the cloud (credential lookup, topo/add, login). Reporting a known device
 * again is harmless. The device starts offline: report it online with
 * lgw_device_set_online() once it answers. Any thread.
 */
LGW_HOST_API int lgw_device_add(lgw_instance_t *inst, const char *device_id, const char *model);

/**
 * Reports that a device answers (@p online true) or stopped answering. Use
 * your own failure counting (e.g. N consecutive timeouts) before reporting
 * offline; the host logs the sub-device in and out of the cloud. Any thread.
 */
LGW_HOST_API int lgw_device_set_online(lgw_instance_t *inst, const char *device_id, bool online);

/**
 * Reports that a device left the access network for good (unpaired or
 * deleted locally). The host deletes it from the cloud topology (now, or on
 * the next connection if the cloud is unreachable). Any thread.
 */
LGW_HOST_API int lgw_device_gone(lgw_instance_t *inst, const char *device_id);

/** Reports the firmware version of a device (used for OTA version reports). Any thread. */
LGW_HOST_API int lgw_device_set_firmware(lgw_instance_t *inst, const char *device_id, const char *version);

/* ===== Reporting values and events (any thread) ========================== */

/**
 * Begins a report of property values of @p device_id. Add values, then
 * lgw_report_commit(). A report is cheap (no allocation per value in the common
 * case), so report one poll cycle of a device as one report. NULL on error.
 * Any thread (one report is used by one thread at a time).
 */
LGW_HOST_API lgw_report_t *lgw_report_new(lgw_instance_t *inst, const char *device_id);

/**
 * Begins a report of event @p event (declared in the device's model) of
 * @p device_id. Add the event's output data as values, then commit.
 */
LGW_HOST_API lgw_report_t *lgw_event_new(lgw_instance_t *inst, const char *device_id, const char *event);

/**
 * Sets the time the values were sampled (UTC ms, see lgw_time_ms()). Default:
 * the time of lgw_report_new().
 */
LGW_HOST_API void lgw_report_set_time(lgw_report_t *report, int64_t utc_ms);

/** Adds a bool value for point @p name. */
LGW_HOST_API int lgw_report_add_bool(lgw_report_t *report, const char *name, bool v);
/** Adds an int value. */
LGW_HOST_API int lgw_report_add_int(lgw_report_t *report, const char *name, int64_t v);
/** Adds a float value. */
LGW_HOST_API int lgw_report_add_float(lgw_report_t *report, const char *name, float v);
/** Adds a double value. */
LGW_HOST_API int lgw_report_add_double(lgw_report_t *report, const char *name, double v);
/** Adds a text value (copied). */
LGW_HOST_API int lgw_report_add_text(lgw_report_t *report, const char *name, const char *v);
/** Adds an enum value. */
LGW_HOST_API int lgw_report_add_enum(lgw_report_t *report, const char *name, int32_t key);
/** Adds a date value (UTC ms). */
LGW_HOST_API int lgw_report_add_date(lgw_report_t *report, const char *name, int64_t utc_ms);
/** Adds any value (structs, arrays …); takes ownership of @p v in every case. */
LGW_HOST_API int lgw_report_add_value(lgw_report_t *report, const char *name, lgw_value_t *v);

/**
 * Hands the report to the host and frees it. The host maps, validates and
 * forwards the values (or journals them while the cloud is unreachable). Any
 * thread. Returns LGW_OK; LGW_ESTATE once the instance's stop callback has
 * returned (reports made inside stop are still accepted); or
 * LGW_EBUSY when the host is overloaded (too many reports waiting for the
 * loop): the report is dropped and the host counts and logs the drops. The
 * report is freed in every case. Pace your reports (one per poll cycle of a
 * device) rather than retrying at once on LGW_EBUSY.
 *
 * Durability: once the host's loop thread has taken the report (normally
 * within one loop iteration of this call, also when called on the loop
 * thread), each value it forwards is in the host's write-ahead log and
 * survives a crash of the host process (`kill -9`) — when the operator left
 * the log on (it needs the journal; `data { wal }`) and it is not full (the
 * host counts and logs values it could not log). A report still waiting for
 * the loop when the process dies is lost.
 */
LGW_HOST_API int lgw_report_commit(lgw_report_t *report);
/** Frees a report without sending it. */
LGW_HOST_API void lgw_report_discard(lgw_report_t *report);

/* ===== Completing requests (any thread) ================================== */

/**
 * Adds output data to a request (values read, service output arguments).
 * Takes ownership of @p v. Any thread, before lgw_request_done().
 */
LGW_HOST_API int lgw_request_add_output(lgw_request_t *req, const char *name, lgw_value_t *v);

/**
 * Completes @p req with @p code (LGW_REPLY_SUCCESS, LGW_REPLY_PARAM_ERROR, a
 * device code in [LGW_REPLY_DEVICE_MIN, LGW_REPLY_DEVICE_MAX] …) and an
 * optional message (may be NULL). The host replies to the cloud and frees
 * @p req: do not touch it afterwards. Call exactly once per accepted request.
 * Any thread.
 */
LGW_HOST_API void lgw_request_done(lgw_request_t *req, int code, const char *message);

/**
 * Reports progress of a long request (a firmware install, lgw_ota_cb):
 * @p percent in 1..100 (other values are ignored) and an optional short
 * @p message (may be NULL; copied). The host forwards it to the cloud; it may
 * drop or merge reports that come faster than it forwards them. Call before
 * lgw_request_done(), never after. Any thread. Since ABI 1.1.
 */
LGW_HOST_API void lgw_request_progress(lgw_request_t *req, int percent, const char *message);

/**
 * Sets the bytes answering a request that carries bytes (lgw_message_cb with
 * a request: RRPC on a custom topic, down_raw): copied, @p len at most
 * LGW_MESSAGE_MAX; replaces bytes set earlier. The host sends them when you
 * complete the request with LGW_REPLY_SUCCESS. Any thread, before
 * lgw_request_done(). Returns LGW_OK; LGW_EINVAL (NULL request, NULL payload
 * with a length, already completed, or a request that is not a message);
 * LGW_ERANGE (too long); LGW_ENOMEM. Since ABI 1.1.
 */
LGW_HOST_API int lgw_request_reply_bytes(lgw_request_t *req, const void *payload, size_t len);

/* ===== Custom topics and raw data (any thread) =========================== */

/**
 * Largest payload of a custom-topic or raw message, in bytes (the platform's
 * limit for one MQTT message, 1 MiB). Since ABI 1.1.
 */
#define LGW_MESSAGE_MAX (1024 * 1024)
/** Largest full MQTT topic the platform accepts, in bytes. Since ABI 1.1. */
#define LGW_TOPIC_MAX 128

/**
 * Publishes @p len opaque bytes for device @p device_id (NULL = the gateway
 * itself) on:
 *  - a custom topic, @p topic_suffix "user/..." (sent on
 *    `/{productKey}/{deviceName}/user/...`), which must match a topic class
 *    of the device's product declared with direction "publish" or "both" in
 *    the gateway's configuration (`topics`, see docs/custom-topics.md);
 *  - raw data, @p topic_suffix "raw" (sent on `thing/model/up_raw`; the
 *    platform's data-parsing script translates it), for products declared
 *    with `raw = true`. The platform's answer comes back to lgw_message_cb as
 *    "raw_reply".
 * The payload is copied. Nothing is journaled: a message that cannot be sent
 * now is dropped (use TSL reports for data that must not be lost).
 *
 * Returns LGW_OK when the message was accepted for sending; LGW_EINVAL for bad
 * arguments or a topic outside the declared publish classes (or "raw" for a
 * product not declared raw); LGW_ERANGE when @p len exceeds LGW_MESSAGE_MAX or
 * the full topic LGW_TOPIC_MAX; LGW_ESTATE when the instance has stopped, the
 * device has no cloud session (not logged in) or the cloud link is down;
 * LGW_ENOTSUP when the daemon runs without a cloud link. Checks that need the
 * device's cloud identity are made at once when called on the loop thread;
 * from other threads they are made when the message reaches the loop, where a
 * refusal is logged and counted instead of returned. Any thread. Since ABI 1.1.
 */
LGW_HOST_API int lgw_publish(lgw_instance_t *inst, const char *device_id, const char *topic_suffix,
                             const void *payload, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* LINKGW_HOST_H */
