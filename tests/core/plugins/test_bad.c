/*
 * Deliberately broken plugins, one per BAD_* macro (see CMakeLists.txt):
 *   BAD_ABI_MAJOR   built for ABI 2.0
 *   BAD_ABI_MINOR   needs a minor newer than the host implements
 *   OLD_ABI_1_0     not broken: a plugin built for ABI 1.0, which every 1.x
 *                   host must keep loading
 *   BAD_NO_REGISTER does not export lgw_plugin_register
 *   BAD_NO_STOP     does not register the required stop callback
 *   BAD_UNDEFINED   calls a host function this host does not have (as a
 *                   plugin built against a newer SDK would, without checking)
 */
#include <linkgw/linkgw.h>

#if defined(BAD_ABI_MAJOR)
LGW_PLUGIN_EXPORT int lgw_plugin_abi(const int *v, int n)
{
    (void)v;
    (void)n;
    return LGW_ABI_ENCODE(2, 0);
}
#elif defined(BAD_ABI_MINOR)
LGW_PLUGIN_EXPORT int lgw_plugin_abi(const int *v, int n)
{
    (void)v;
    (void)n;
    return LGW_ABI_ENCODE(LGW_ABI_MAJOR, LGW_ABI_MINOR + 1);
}
#elif defined(OLD_ABI_1_0)
LGW_PLUGIN_EXPORT int lgw_plugin_abi(const int *v, int n)
{
    (void)v;
    (void)n;
    return LGW_ABI_ENCODE(1, 0);
}
#else
LGW_PLUGIN_DEFINE_ABI()
#endif

static int b_create(lgw_instance_t *i, const lgw_config_t *s, void **d)
{
    (void)i;
    (void)s;
    *d = NULL;
    return LGW_OK;
}
#ifdef BAD_UNDEFINED
extern int lgw_future_function(void);
static int b_start(void *d) { (void)d; return lgw_future_function(); }
#else
static int b_start(void *d) { (void)d; return LGW_OK; }
#endif
static void b_stop(void *d) { (void)d; }
static void b_destroy(void *d) { (void)d; }

#ifndef BAD_NO_REGISTER
LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv)
{
    lgw_driver_set_create(drv, b_create);
    lgw_driver_set_start(drv, b_start);
#ifndef BAD_NO_STOP
    lgw_driver_set_stop(drv, b_stop);
#else
    (void)b_stop;
#endif
    lgw_driver_set_destroy(drv, b_destroy);
    return LGW_OK;
}
#else
/* keep the callbacks referenced */
LGW_PLUGIN_EXPORT void *lgw_test_unused[] = {(void *)b_create, (void *)b_start, (void *)b_stop, (void *)b_destroy};
#endif
