/*
 * The sub-device lifecycle manager's side facing the gateway composition and
 * the control socket (the data layer uses subdev.h only). Loop thread only.
 */
#ifndef GW_GATEWAY_SUBDEV_MGR_H
#define GW_GATEWAY_SUBDEV_MGR_H

#include <jansson.h>
#include <uv.h>

#include "cloud.h"
#include "hub.h"
#include "store/store.h"
#include "subdev.h"

/**
 * Creates the manager: loads LocalTopoList from @p store, registers a hub
 * consumer on @p hub, a state listener and downstream handlers on @p cloud.
 * @p login_rate: login entries per second (1..200). NULL on failure (logged).
 */
gw_subdev_t *gw_subdev_new(uv_loop_t *loop, gw_hub_t *hub, gw_cloud_t *cloud, gw_store_t *store,
                           unsigned login_rate);

/**
 * First step of shutdown, before the cloud session is closed: stops using the
 * cloud and the hub (consumer removed); replies still arriving (cancelled
 * requests) are absorbed.
 */
void gw_subdev_detach(gw_subdev_t *m);

/** Stops timers, unregisters the consumer, frees @p m once its handles closed, then calls @p done. */
void gw_subdev_close(gw_subdev_t *m, void (*done)(void *data), void *data);

/**
 * The seed's local delete ("delete through the gateway's web server or
 * Telnet") of @p spec = "INSTANCE/DEVICE_ID" or "PK/DN": removed from the
 * access network (gw_hub_remove) and LocalDevList; if proxied, recorded in
 * RemovedDevList first and topo/delete sent now when the link is up.
 * Returns 0, or -1 with a reason in @p err.
 */
int gw_subdev_delete_local(gw_subdev_t *m, const char *spec, char *err, size_t cap);

/** Credentials were imported: re-check which devices now hold a secret and proceed. */
void gw_subdev_credentials_changed(gw_subdev_t *m);

/** `linkgwctl status`: link state, list sizes, counters, last platform cap errors. New reference. */
json_t *gw_subdev_status_json(gw_subdev_t *m);
/** `linkgwctl devices`: every sub-device with list memberships, online state, product, last seen. */
json_t *gw_subdev_devices_json(gw_subdev_t *m);

/** `linkgwctl plugins`: running instances with their plugin, state and device counts. */
json_t *gw_subdev_plugins_json(gw_subdev_t *m);

#endif
