/*
 * The sub-device lifecycle manager (issue 5): the seam between the lifecycle
 * layer (which owns LocalTopoList, LocalDevList, RemovedDevList and the
 * platform sessions of sub-devices) and the data layer (uplink/downlink of
 * properties, events and services, which may only use a sub-device's own
 * pk/dn topics while it is logged in through this gateway).
 *
 * Everything here runs on the loop thread. Strings returned are owned by the
 * manager and valid until the next call that changes the lists (copy them to
 * keep them across callbacks).
 */
#ifndef GW_GATEWAY_SUBDEV_H
#define GW_GATEWAY_SUBDEV_H

#include <stdbool.h>

typedef struct gw_subdev gw_subdev_t;

/**
 * Whether the hub device @p device_id of @p instance is on its way to a cloud
 * identity: the lifecycle knows its ProductKey and DeviceName (set in @p pk and
 * @p dn, either may be NULL) and is getting its credentials (registration),
 * which nothing has refused for good. The data layer treats such a device like
 * one that is not logged in yet: its values wait in the journal.
 */
bool gw_subdev_identity_pending(gw_subdev_t *m, const char *instance, const char *device_id, const char **pk,
                                const char **dn);

/**
 * Cloud identity (ProductKey, DeviceName) of the hub device @p device_id of
 * plugin instance @p instance. Returns false when the device has no identity
 * yet (no model mapping, no credentials). Does not imply a session.
 */
bool gw_subdev_identity(gw_subdev_t *m, const char *instance, const char *device_id, const char **pk,
                        const char **dn);

/**
 * Reverse lookup for downlink messages: the hub device behind @p pk/@p dn.
 * Returns false when the pair is not a sub-device of this gateway.
 */
bool gw_subdev_lookup(gw_subdev_t *m, const char *pk, const char *dn, const char **instance,
                      const char **device_id);

/** True while the sub-device is logged in through this gateway (its data may be sent). */
bool gw_subdev_logged_in(gw_subdev_t *m, const char *pk, const char *dn);

/**
 * The platform reported that @p pk/@p dn has no session (code 520 on
 * /ext/error): the manager logs it in again (respecting the platform's rate
 * limits). Listeners learn when the login succeeded and may resend then.
 */
void gw_subdev_session_lost(gw_subdev_t *m, const char *pk, const char *dn);

/** Called when a sub-device's session starts (@p logged_in true) or ends. */
typedef void (*gw_subdev_session_fn)(void *data, const char *pk, const char *dn, bool logged_in);

/** Adds a session listener (several may be registered). Returns 0 or -1. */
int gw_subdev_add_listener(gw_subdev_t *m, gw_subdev_session_fn fn, void *data);

/**
 * Called when a sub-device was deleted, in the cloud or locally, after its session ended: it has
 * no topology any more, so nothing queued or journaled for it can ever be posted (the data layer
 * drops its journal entries).
 */
typedef void (*gw_subdev_deleted_fn)(void *data, const char *pk, const char *dn);

/** Adds a deletion listener (several may be registered). Returns 0 or -1. */
int gw_subdev_add_deleted_listener(gw_subdev_t *m, gw_subdev_deleted_fn fn, void *data);

#endif
