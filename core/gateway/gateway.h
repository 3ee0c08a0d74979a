/*
 * The gateway: the composition that turns linkgw into an Alibaba Cloud IoT
 * gateway. Created by the `gateway` core module (gateway.c) when the main
 * configuration has a `cloud` section; without one the daemon runs as before
 * (the hub's log consumer shows what would be forwarded).
 *
 * It owns, in creation order:
 *   store   gw_store in the daemon's state_dir (LocalTopoList, RemovedDevList,
 *           credentials, the gateway's own identity; secrets AES-256-GCM);
 *   cloud   gw_cloud, the Alink session; a gateway DeviceSecret obtained by
 *           dynamic registration is kept in the store's gateway identity;
 *   subdev  the sub-device lifecycle manager (subdev.h): a hub consumer that
 *           runs the seed's logic on every connection and event;
 *   ctl     the control socket linkgwctl talks to (gateway_ctl.c).
 *
 * Layers above (the data layer: uplink/downlink of properties, events and
 * services) attach from their own core module started after this one
 * (priority > GW_GATEWAY_MODULE_PRIORITY) with gw_gateway_current() and the
 * accessors below. Everything runs on the loop thread.
 */
#ifndef GW_GATEWAY_GATEWAY_H
#define GW_GATEWAY_GATEWAY_H

#include <uv.h>

#include "cloud.h"
#include "hub.h"
#include "store/store.h"
#include "subdev.h"
#include "tsl_map.h"

/** Priority of the gateway module (module.h); data layers use a larger one. */
#define GW_GATEWAY_MODULE_PRIORITY 100

typedef struct gw_gateway gw_gateway_t;

/** What gw_gateway_new() needs. */
typedef struct gw_gateway_options {
    const char *state_dir;           /**< required: the store lives here */
    const gw_cloud_config_t *cloud;  /**< required (copied) */
    const char *control_socket;      /**< NULL: no control socket */
    unsigned control_mode;           /**< 0600 (default when 0) or 0660 */
    unsigned login_rate;             /**< sub-device logins per second; 0 = 200 */
    bool store_sync_normal;          /**< store synchronous=NORMAL (tests, benchmarks) */
} gw_gateway_options_t;

/**
 * Opens the store, creates the cloud session, the sub-device manager (loads
 * LocalTopoList, registers as a hub consumer) and the control socket. Nothing
 * is sent before gw_gateway_start(). Returns LGW_OK and *out, or an error
 * (logged; nothing left behind).
 */
int gw_gateway_new(uv_loop_t *loop, gw_hub_t *hub, const gw_gateway_options_t *opts, gw_gateway_t **out);

/** Starts the cloud session (connects, reconnects forever). LGW_OK or an error. */
int gw_gateway_start(gw_gateway_t *gw);

/**
 * Closes everything: the control socket, the manager (hub consumer removed),
 * the cloud session (pending requests fail), then the store; frees @p gw and
 * calls @p done(@p data) once all handles are closed (the loop must run).
 */
void gw_gateway_close(gw_gateway_t *gw, void (*done)(void *data), void *data);

/* ---- accessors (valid until gw_gateway_close) ------------------------------ */
uv_loop_t *gw_gateway_loop(gw_gateway_t *gw);
gw_hub_t *gw_gateway_hub(gw_gateway_t *gw);
gw_cloud_t *gw_gateway_cloud(gw_gateway_t *gw);
gw_store_t *gw_gateway_store(gw_gateway_t *gw);
gw_subdev_t *gw_gateway_subdev(gw_gateway_t *gw);

/**
 * TSL mapping of plugin model @p model of instance @p instance (the conf.d
 * `models` group), or NULL. Valid until that instance file is re-read
 * (SIGHUP): look it up again in each callback rather than keeping it.
 */
const gw_tsl_model_map_t *gw_gateway_model_map(gw_gateway_t *gw, const char *instance, const char *model);

/** The TSL thing models loaded from `tsl.models_dir` (never NULL; may be empty). */
const gw_tsl_models_t *gw_gateway_tsl_models(gw_gateway_t *gw);

/** The daemon's gateway, or NULL (no `cloud` section, or not started yet / closed). */
gw_gateway_t *gw_gateway_current(void);

#endif
