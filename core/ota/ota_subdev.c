/*
 * The OTA manager's sub-device directory (gw_ota_devices_t) backed by the
 * lifecycle's gw_subdev (core/gateway/subdev.h): identities, reverse lookup
 * and login state of the gateway's sub-devices.
 */
#include "ota.h"
#include "subdev.h"

static bool identity(void *data, const char *instance, const char *device_id, const char **pk, const char **dn)
{
    return gw_subdev_identity(data, instance, device_id, pk, dn);
}

static bool lookup(void *data, const char *pk, const char *dn, const char **instance, const char **device_id)
{
    return gw_subdev_lookup(data, pk, dn, instance, device_id);
}

static bool logged_in(void *data, const char *pk, const char *dn) { return gw_subdev_logged_in(data, pk, dn); }

gw_ota_devices_t gw_ota_subdev_devices(gw_subdev_t *m)
{
    gw_ota_devices_t d = {identity, lookup, logged_in, m};
    return d;
}
