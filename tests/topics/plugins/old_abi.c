/*
 * A plugin built for ABI 1.0 (before lgw_driver_set_message): it must keep
 * loading in a 1.1 host and simply never receive custom-topic or raw
 * messages. One device, "old-0", reported at start.
 */
#include <linkgw/linkgw.h>

LGW_PLUGIN_EXPORT int lgw_plugin_abi(const int *host_versions, int count)
{
    (void)host_versions;
    (void)count;
    return LGW_ABI_ENCODE(1, 0);
}

static int create(lgw_instance_t *inst, const lgw_config_t *settings, void **data)
{
    (void)settings;
    *data = inst;
    return LGW_OK;
}

static int start(void *data)
{
    lgw_device_add(data, "old-0", "thing");
    return lgw_device_set_online(data, "old-0", true);
}

static void stop(void *data) { (void)data; }
static void destroy(void *data) { (void)data; }

LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv)
{
    lgw_driver_set_info(drv, "1.0.0", "ABI 1.0 test plugin");
    lgw_driver_set_create(drv, create);
    lgw_driver_set_start(drv, start);
    lgw_driver_set_stop(drv, stop);
    lgw_driver_set_destroy(drv, destroy);
    return LGW_OK;
}
