/*
 * gw_ota — firmware upgrades (OTA) of the gateway and of its sub-devices over
 * the Alink session (protocol §7; docs/ota.md is the operator's view).
 *
 *  - Versions: the gateway's own version (config `version` or the first line
 *    of `version_file`) is reported on /ota/device/inform/{pk}/{dn} after
 *    every connect; a sub-device's version (lgw_device_set_firmware, kept by
 *    the hub) when its session starts and whenever it changes.
 *  - Tasks: pushed on /ota/device/upgrade/{pk}/{dn} (also when a device comes
 *    online) and, for the gateway, pulled with thing/ota/firmware/get after
 *    every connect.
 *  - Download: HTTPS only, libcurl (OpenSSL) on a thread of its own per task,
 *    into `dir` with resume (Range) across cuts and restarts, capped at
 *    `max_size`, TLS verification always on (`ca_file` or the system store).
 *  - Verification: Md5 or SHA256 of the whole file against the task's sign.
 *  - Install: the gateway's image goes to the operator's `install_command`
 *    (uv_spawn, never blocking the loop); a sub-device's to the owning
 *    plugin's lgw_ota_cb (ABI 1.1) through gw_hub_ota().
 *  - Progress on /ota/device/progress/{pk}/{dn}: steps 1..90 while
 *    downloading, 91..100 while installing; failures -1 (upgrade failed, e.g.
 *    the plugin has no OTA support), -2 (download), -3 (verification),
 *    -4 (install).
 *
 * Loop thread only, like gw_cloud. The cloud has no way to unregister
 * handlers: close the cloud session (and wait for its done callback) before
 * gw_ota_free().
 */
#ifndef LINKGW_CORE_OTA_H
#define LINKGW_CORE_OTA_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cloud.h"
#include "hub.h"

/** Settings of the `ota { ... }` group (strings owned). */
typedef struct gw_ota_config {
    char *version;           /**< the gateway's firmware version, or NULL ... */
    char *version_file;      /**< ... read from this file's first line (re-read on every connect);
                                  neither: the daemon's own version (LINKGW_VERSION) */
    char *install_command;   /**< sh -c command for gateway images; NULL = gateway upgrades refused (-1) */
    char *dir;               /**< download directory (created 0700); default <state_dir>/ota (required by gw_ota_new) */
    char *ca_file;           /**< PEM bundle for the download server; NULL = system trust store */
    int64_t max_size;        /**< bytes; larger images are refused (-2); default 64 MiB */
    unsigned retries;        /**< resumed attempts after a cut transfer; default 5 */
    unsigned retry_delay_ms; /**< pause before a resumed attempt; default 2000 */
    unsigned stall_timeout_s;   /**< abort an attempt without a byte for this long; default 60 */
    unsigned install_timeout_s; /**< how long a plugin may take to install; default 1800 (the
                                     install command is never timed out: it must bound itself) */
} gw_ota_config_t;

void gw_ota_config_init(gw_ota_config_t *cfg);
void gw_ota_config_free(gw_ota_config_t *cfg);

/** Receives one validation error about @p node (the setting, or the group); @p file may be NULL. */
typedef void (*gw_ota_config_error_fn)(void *data, const config_setting_t *node, const char *file, int line,
                                       const char *message);

/**
 * Reads and validates the `ota` group @p group (may be NULL: defaults) into
 * @p cfg. @p state_dir gives the default `dir` (NULL: left unset for the
 * caller to fill). Errors go to @p err as
 * (file, line, message) or, when @p err is NULL, to the log as
 * "file:line: message". Returns the number of errors (0 = usable).
 */
int gw_ota_config_parse(const config_setting_t *group, const char *state_dir, gw_ota_config_t *cfg,
                        gw_ota_config_error_fn err, void *data);

/**
 * The sub-device directory the OTA manager consults (the lifecycle's
 * gw_subdev in the daemon; a stub in tests). Every callback runs on the loop
 * thread; returned strings need to stay valid only until the next call.
 */
typedef struct gw_ota_devices {
    /** Cloud identity of hub device (@p instance, @p device_id); false if none. */
    bool (*identity)(void *data, const char *instance, const char *device_id, const char **pk, const char **dn);
    /** Hub device behind a sub-device's @p pk/@p dn; false if not ours. */
    bool (*lookup)(void *data, const char *pk, const char *dn, const char **instance, const char **device_id);
    /** True while the sub-device is logged in through the gateway. */
    bool (*logged_in)(void *data, const char *pk, const char *dn);
    void *data;
} gw_ota_devices_t;

typedef struct gw_ota gw_ota_t;

/** Counters and the last progress sent, for tests and metrics. */
typedef struct gw_ota_stats {
    uint64_t informs;        /**< version reports sent */
    uint64_t tasks;          /**< tasks started (duplicates not counted) */
    uint64_t succeeded;      /**< images installed (step 100 sent) */
    uint64_t failed;         /**< tasks that ended with a negative step */
    uint64_t resumed;        /**< download attempts that continued a partial file with Range */
    int last_step;           /**< last step sent (0 = none yet) */
    char last_desc[160];     /**< its desc */
    char last_device[96];    /**< "pk/dn" it was about */
} gw_ota_stats_t;

/**
 * Creates the manager. @p cfg is copied; @p hub and @p devs may be NULL
 * (gateway firmware only). Nothing is registered until gw_ota_start().
 */
gw_ota_t *gw_ota_new(uv_loop_t *loop, const gw_ota_config_t *cfg, gw_cloud_t *cloud, gw_hub_t *hub,
                     const gw_ota_devices_t *devs);

/**
 * Registers the downstream handler (/ota/device/upgrade/+/+), the firmware/get
 * reply handling, a cloud state listener and a hub consumer; if the cloud is
 * already connected, reports and pulls at once. LGW_OK / LGW_ENOMEM / LGW_ESTATE.
 */
int gw_ota_start(gw_ota_t *ota);

/**
 * A sub-device's session started or ended (gw_subdev_session_fn signature:
 * register it with gw_subdev_add_listener(m, gw_ota_on_session, ota)). On
 * login the sub-device's version (if its plugin reported one) is reported.
 */
void gw_ota_on_session(void *ota, const char *pk, const char *dn, bool logged_in);

/** Copies the counters. */
void gw_ota_get_stats(const gw_ota_t *ota, gw_ota_stats_t *out);

/* ---- the daemon's wiring (ota_module.c, ota_subdev.c) ---- */

/**
 * The `ota` group of the last main-file load (registered by the `ota` core
 * module; `dir` unset unless configured), or NULL when the file had none or
 * it was invalid.
 */
const gw_ota_config_t *gw_ota_conf_current(void);

typedef struct gw_subdev gw_subdev_t;
/** The sub-device directory backed by the lifecycle manager @p m (core/gateway/subdev.h). */
gw_ota_devices_t gw_ota_subdev_devices(gw_subdev_t *m);

/** Number of tasks in progress. */
unsigned gw_ota_active(const gw_ota_t *ota);

/**
 * Stops everything: downloads are cancelled (their threads joined, partial
 * files kept for resume), an install command keeps running on its own (never
 * killed half-way through a flash), sub-device installs are left to the hub
 * (their answer frees them). Frees @p ota once its handles are closed; run the
 * loop afterwards. See the note on top about closing the cloud first.
 */
void gw_ota_free(gw_ota_t *ota);

#endif
