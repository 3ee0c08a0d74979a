/*
 * linkgw plugin SDK — what a plugin exports.
 *
 * Copyright (c) the linkgw developers. Licensed under the MIT license.
 *
 * A linkgw plugin is a shared object (`.so`) that drives one access network
 * (a Modbus bus, a KNX line, a Zigbee coordinator …). The host (the linkgw
 * daemon) loads it with dlopen() and looks up exactly two symbols:
 *
 *   1. lgw_plugin_abi()      — ABI negotiation; called first, once per load;
 *   2. lgw_plugin_register() — the plugin describes itself and registers its
 *                              callbacks through the opaque lgw_driver_t
 *                              builder (see the lgw_driver_set_*() functions
 *                              in host.h).
 *
 * Everything else happens through callbacks. A plugin may be instantiated
 * several times (one instance per conf.d file: two Modbus buses are two
 * instances of the same plugin), so keep all state in the instance data your
 * create callback returns, never in globals.
 *
 * Threading: every callback below is called on the host's event-loop thread.
 * A callback must not block: do blocking I/O in lgw_work_submit() jobs or on a
 * lgw_worker_t, or drive non-blocking file descriptors with lgw_watch_t.
 *
 * Versioning: the host passes the ABI versions it implements; the plugin
 * answers the version it was built for. A plugin built for another major
 * version, or for a newer minor than the host has, is refused with a message
 * naming the file and both versions. New capabilities arrive as new
 * lgw_driver_set_*() functions in later minor versions, so a plugin built
 * today keeps loading in every later 1.x host.
 *
 * Minimal plugin:
 * @code
 *   #include <linkgw/linkgw.h>
 *   LGW_PLUGIN_DEFINE_ABI()
 *   LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv)
 *   {
 *       lgw_driver_set_info(drv, "1.0.0", "my bus driver");
 *       lgw_driver_set_create(drv, my_create);
 *       lgw_driver_set_start(drv, my_start);
 *       lgw_driver_set_stop(drv, my_stop);
 *       lgw_driver_set_destroy(drv, my_destroy);
 *       return LGW_OK;
 *   }
 * @endcode
 */
#ifndef LINKGW_PLUGIN_H
#define LINKGW_PLUGIN_H

#include "common.h"
#include "value.h"
#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===== Exports ============================================================ */

/**
 * ABI negotiation. Called once, right after dlopen(), before anything else.
 *
 * @param host_versions  the ABI versions the host implements, each encoded with
 *                       LGW_ABI_ENCODE(major, highest minor of that major);
 * @param count          number of entries in @p host_versions.
 * @return the encoded ABI version the plugin implements. If it can implement
 *         none of the offered majors it still returns the version it was built
 *         for, so the host can name it in its refusal.
 *
 * LGW_PLUGIN_DEFINE_ABI() defines this function for plugins that implement
 * exactly the version of the headers they were built with — almost all do.
 */
LGW_PLUGIN_EXPORT int lgw_plugin_abi(const int *host_versions, int count);

/**
 * Registration. Called once per load, after a successful negotiation.
 * Set the driver's information and callbacks with the lgw_driver_set_*()
 * functions of host.h. Return LGW_OK, or a negative lgw_result_t to refuse to
 * load (say why with lgw_log(NULL, …) first).
 */
LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv);

/** Defines lgw_plugin_abi() as "the ABI version of these headers". */
#define LGW_PLUGIN_DEFINE_ABI()                                                  \
    LGW_PLUGIN_EXPORT int lgw_plugin_abi(const int *host_versions, int count)    \
    {                                                                            \
        (void)host_versions;                                                     \
        (void)count;                                                             \
        return LGW_ABI_VERSION;                                                  \
    }

/* ===== Callbacks (registered with the lgw_driver_set_*() functions) ======= */

/**
 * @brief Create an instance from its settings. Required.
 *
 * Validate @p settings with the functions of config.h (their errors carry file
 * and line), allocate your instance state and store it in @p *data: the host
 * passes it back to every other callback. Do not start I/O yet; declare your
 * device models (lgw_model_new()) here or in start. This callback also runs
 * for `linkgw --check-config`, in which case start is never called.
 *
 * @param inst      the host's handle for this instance (keep it: every host
 *                  function takes it);
 * @param settings  the `settings` group of the instance's conf.d file (an empty
 *                  group when the file has none); borrowed, valid during the call;
 * @param data      out: the instance data.
 * @return LGW_OK, or a negative lgw_result_t (record config errors first).
 */
typedef int (*lgw_create_cb)(lgw_instance_t *inst, const lgw_config_t *settings, void **data);

/**
 * @brief Start the instance. Required.
 *
 * Open connections, start timers and watches, report the devices already known
 * (lgw_device_add()). Failures to reach the access network are *not* errors:
 * keep retrying with backoff and report devices offline meanwhile. Return an
 * error only for problems a retry cannot fix.
 */
typedef int (*lgw_start_cb)(void *data);

/**
 * @brief Stop the instance. Required.
 *
 * Stop timers and watches, finish or cancel outstanding requests
 * (lgw_request_done()), join your threads. After this callback returns the
 * plugin must not call any reporting function for this instance. The host
 * stops an instance on shutdown and when its conf.d file changes or goes away.
 */
typedef void (*lgw_stop_cb)(void *data);

/**
 * @brief Free the instance data. Required.
 *
 * Called after stop (or after create only, for --check-config and on create
 * failure paths where @p data was set). Free timers, watches and workers here
 * at the latest.
 */
typedef void (*lgw_destroy_cb)(void *data);

/**
 * @brief Start or stop a discovery scan of the access network. Optional.
 *
 * While enabled, report every device you find with lgw_device_add(). Scans
 * may end by themselves; the host may call again with @p enable false at any
 * time. Return LGW_OK or LGW_ENOTSUP.
 */
typedef int (*lgw_discovery_cb)(void *data, bool enable);

/**
 * @brief Write properties of a device. Optional (LGW_REPLY_REQUEST_ERROR if absent).
 *
 * @p values is a struct: each member is one of the device model's points
 * (by the point names the plugin declared) with a value already validated and
 * converted by the host. Perform the write without blocking and complete @p req
 * with lgw_request_done() — from any thread, exactly once, typically a few
 * milliseconds later. The request also times out on the host side; completing
 * it after that is harmless.
 *
 * @return LGW_OK when the request was accepted (and will be completed);
 *         a negative lgw_result_t to fail it at once (the host completes it).
 */
typedef int (*lgw_write_cb)(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *values);

/**
 * @brief Read properties of a device now. Optional.
 *
 * @p names is an array of text values (point names). Add each value read with
 * lgw_request_add_output() and complete with lgw_request_done(). When a plugin
 * has no read callback the host answers property reads from the last reported
 * values.
 */
typedef int (*lgw_read_cb)(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *names);

/**
 * @brief Invoke a service (command) of a device. Optional.
 *
 * @p service is the service name the plugin declared in the device's model;
 * @p input is a struct of its input arguments (possibly empty). Put output
 * arguments with lgw_request_add_output() and complete with lgw_request_done().
 */
typedef int (*lgw_invoke_cb)(void *data, lgw_request_t *req, const char *device_id, const char *service,
                             const lgw_value_t *input);

/**
 * @brief Remove a device from the access network. Optional.
 *
 * Called when the device was deleted in the cloud or by the operator: unpair
 * it, forget it, stop polling it. Complete @p req with LGW_REPLY_SUCCESS once
 * done. Do not call lgw_device_gone() for it: the host already forgot it.
 */
typedef int (*lgw_remove_cb)(void *data, lgw_request_t *req, const char *device_id);

/**
 * @brief Install a firmware image on a device. Optional. Since ABI 1.1.
 *
 * The cloud asked to upgrade @p device_id to @p version. The host has already
 * downloaded the image to @p image_path (a local file, readable by the daemon's
 * user) and verified its size and sign (Md5 / SHA256) against the task.
 * @p module names the firmware module the task is for, or NULL for the
 * device's default module.
 *
 * Install the image without blocking the loop (lgw_work_submit(), a worker or
 * your own thread). You may report progress with lgw_request_progress()
 * (1..100) while it runs. Complete @p req exactly once with lgw_request_done():
 * LGW_REPLY_SUCCESS when the device runs the new firmware — then also report
 * the new version with lgw_device_set_firmware(), which is what tells the cloud
 * the upgrade succeeded — or an error code with a message (the host reports
 * the upgrade as failed). Installs may take minutes: the host waits longer
 * than for other requests (see docs/ota.md).
 *
 * The host deletes the file at @p image_path after the request completed (or
 * timed out): copy it first if you need it afterwards. All string arguments
 * are valid during the call only.
 *
 * Plugins that do not register this callback (and every plugin built for ABI
 * 1.0) answer "not supported": the host reports the upgrade as failed.
 *
 * @return LGW_OK when the request was accepted; a negative lgw_result_t to
 *         refuse it at once (the host completes it).
 */
typedef int (*lgw_ota_cb)(void *data, lgw_request_t *req, const char *device_id, const char *version,
                          const char *image_path, const char *module);

/**
 * @brief Receive bytes the cloud sent to a device on a custom topic or as raw
 * data. Optional. Since ABI 1.1.
 *
 * Besides TSL (properties, events, services) a product can exchange data in a
 * format of its own: custom topics `/{productKey}/{deviceName}/user/...`
 * declared per product in the gateway's configuration, and raw passthrough
 * (`thing/model/down_raw`, whose bytes the platform's data-parsing script
 * produced). The host calls this callback with @p topic_suffix naming what
 * arrived:
 *  - "user/..."   the device's custom topic (the part after pk/dn), e.g.
 *                 "user/get"; @p req is NULL, unless the cloud made a
 *                 synchronous call (RRPC on a custom topic,
 *                 `/ext/rrpc/{messageId}/...`): then @p req is set and your
 *                 answer (lgw_request_reply_bytes() + lgw_request_done()) is
 *                 what the caller in the cloud receives — within the
 *                 platform's 8 s;
 *  - "raw"        down_raw: @p req is set; the bytes you give with
 *                 lgw_request_reply_bytes() go back on down_raw_reply
 *                 (complete with LGW_REPLY_SUCCESS and no bytes to send none);
 *  - "raw_reply"  the platform's answer to your own up_raw (lgw_publish()
 *                 with "raw"); @p req is NULL.
 * Other suffixes may be added by later minors: ignore them (return
 * LGW_ENOTSUP).
 *
 * @p device_id is NULL when the message is for the gateway itself (its own
 * product's topics; delivered to the instance the configuration names as the
 * gateway's receiver). @p payload (@p len bytes, opaque, not NUL-terminated)
 * and the strings are valid during the call only. With a request, complete it
 * exactly once from any thread; a reply code other than LGW_REPLY_SUCCESS
 * sends nothing (the cloud's caller sees a timeout or no reply).
 *
 * @return LGW_OK when handled (with a request: accepted, you will complete
 *         it); a negative lgw_result_t to refuse (the host completes the
 *         request itself). Plugins without this callback (every 1.0 plugin)
 *         never receive such messages.
 */
typedef int (*lgw_message_cb)(void *data, lgw_request_t *req, const char *device_id, const char *topic_suffix,
                              const void *payload, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* LINKGW_PLUGIN_H */
