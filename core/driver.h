/*
 * What a plugin registered about itself (lgw_driver_t): version string,
 * description and callbacks, filled by lgw_driver_set_*() during
 * lgw_plugin_register() (driver.c) and checked by the loader.
 */
#ifndef LINKGW_CORE_DRIVER_H
#define LINKGW_CORE_DRIVER_H

#include <stdbool.h>
#include <linkgw/host.h>

struct lgw_driver {
    bool registering;   /* setters only work inside lgw_plugin_register() */
    const char *path;   /* the .so, for messages (not owned) */
    int abi;            /* negotiated ABI, encoded */
    char *version, *description;
    lgw_create_cb create;
    lgw_start_cb start;
    lgw_stop_cb stop;
    lgw_destroy_cb destroy;
    lgw_discovery_cb discovery;
    lgw_write_cb write;
    lgw_read_cb read;
    lgw_invoke_cb invoke;
    lgw_remove_cb remove;
    lgw_ota_cb ota;         /* ABI 1.1 */
    lgw_message_cb message; /* ABI 1.1 */
};

/** Frees what lgw_driver_set_info() copied. */
void gw_driver_clear(lgw_driver_t *drv);

#endif
