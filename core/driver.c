/*
 * The driver builder (host.h "Driver registration"): plugins set their info
 * and callbacks through these setters, which only act while
 * lgw_plugin_register() runs. Adding a capability in a later ABI minor means
 * adding a setter here, never changing a layout the plugin sees.
 */
#include "driver.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* Refuses (with a log line) setters called outside lgw_plugin_register(). */
static bool can_set(lgw_driver_t *drv, const char *what)
{
    if (!drv)
        return false;
    if (!drv->registering) {
        GW_WARN("loader", "%s: lgw_driver_set_%s() called outside lgw_plugin_register(); ignored",
                drv->path ? drv->path : "?", what);
        return false;
    }
    return true;
}

LGW_HOST_API void lgw_driver_set_info(lgw_driver_t *drv, const char *version, const char *description)
{
    if (!can_set(drv, "info"))
        return;
    free(drv->version);
    free(drv->description);
    drv->version = version ? strdup(version) : NULL;
    drv->description = description ? strdup(description) : NULL;
}

#define SETTER(field, type)                                                  \
    LGW_HOST_API void lgw_driver_set_##field(lgw_driver_t *drv, type cb)     \
    {                                                                        \
        if (can_set(drv, #field))                                            \
            drv->field = cb;                                                 \
    }

SETTER(create, lgw_create_cb)
SETTER(start, lgw_start_cb)
SETTER(stop, lgw_stop_cb)
SETTER(destroy, lgw_destroy_cb)
SETTER(discovery, lgw_discovery_cb)
SETTER(write, lgw_write_cb)
SETTER(read, lgw_read_cb)
SETTER(invoke, lgw_invoke_cb)
SETTER(remove, lgw_remove_cb)
SETTER(ota, lgw_ota_cb)
SETTER(message, lgw_message_cb)

void gw_driver_clear(lgw_driver_t *drv)
{
    free(drv->version);
    free(drv->description);
    memset(drv, 0, sizeof *drv);
}
