/*
 * Plugin loading with ABI negotiation (plugin.h "Versioning").
 *
 * dlopen(RTLD_NOW | RTLD_LOCAL) so unresolved host symbols fail at load and
 * plugins cannot see each other's symbols; then lgw_plugin_abi() with the
 * versions this host implements, then lgw_plugin_register() with a fresh
 * driver builder, then a check of the required callbacks. Any failure is one
 * clear error naming the file (and both versions for ABI mismatches); other
 * instances are unaffected.
 */
#include "instance.h"
#include "log.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The ABI versions this host implements: ABI 1 up to this minor. */
static const int g_host_abis[] = {LGW_ABI_ENCODE(1, LGW_ABI_MINOR)};

typedef int (*abi_fn)(const int *, int);
typedef int (*register_fn)(lgw_driver_t *);

/* Checks @p v against the offered versions; fills @p why when refused. */
static bool abi_acceptable(int v, char *why, size_t size)
{
    int major = LGW_ABI_MAJOR_OF(v), minor = LGW_ABI_MINOR_OF(v);
    for (size_t i = 0; i < sizeof g_host_abis / sizeof g_host_abis[0]; i++) {
        int hmaj = LGW_ABI_MAJOR_OF(g_host_abis[i]), hmin = LGW_ABI_MINOR_OF(g_host_abis[i]);
        if (v > 0 && major == hmaj) {
            if (minor <= hmin)
                return true;
            snprintf(why, size, "plugin needs ABI %d.%d but this host implements ABI %d.%d (too old for it)",
                     major, minor, hmaj, hmin);
            return false;
        }
    }
    if (v <= 0)
        snprintf(why, size, "lgw_plugin_abi() returned an invalid version (%d); this host implements ABI %d.%d", v,
                 LGW_ABI_MAJOR, LGW_ABI_MINOR);
    else
        snprintf(why, size, "plugin was built for ABI %d.%d but this host implements ABI %d.%d (major versions differ)",
                 major, minor, LGW_ABI_MAJOR, LGW_ABI_MINOR);
    return false;
}

static void drop(lgw_instance_t *inst)
{
    if (inst->dl)
        dlclose(inst->dl);
    gw_driver_clear(&inst->drv);
    free(inst->name);
    free(inst->log_comp);
    free(inst->plugin_path);
    free(inst);
}

lgw_instance_t *gw_instance_load(gw_host_t *host, const char *name, const char *plugin_path, gw_errors_t *errs,
                                 const char *file, int line)
{
    lgw_instance_t *inst = calloc(1, sizeof *inst);
    if (!inst)
        return NULL;
    inst->host = host;
    inst->name = strdup(name);
    inst->plugin_path = strdup(plugin_path);
    if (!inst->name || !inst->plugin_path || asprintf(&inst->log_comp, "plugin %s", name) < 0) {
        inst->log_comp = NULL;
        gw_errors_add(errs, file, line, "out of memory");
        drop(inst);
        return NULL;
    }
    atomic_init(&inst->refs, 1);
    atomic_init(&inst->state, GW_INST_LOADED);
    gw_list_init(&inst->link);
    gw_list_init(&inst->timers);
    gw_list_init(&inst->watches);
    gw_list_init(&inst->workers);
    gw_list_init(&inst->jobs);
    gw_list_init(&inst->models);
    gw_list_init(&inst->requests);

    if (access(plugin_path, F_OK) != 0) {
        gw_errors_add(errs, file, line, "plugin file %s: %s", plugin_path, strerror(errno));
        drop(inst);
        return NULL;
    }
    dlerror();
    inst->dl = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
    if (!inst->dl) {
        const char *e = dlerror();
        gw_errors_add(errs, file, line, "cannot load plugin %s: %s", plugin_path, e ? e : "unknown error");
        drop(inst);
        return NULL;
    }
    abi_fn abi = (abi_fn)dlsym(inst->dl, "lgw_plugin_abi");
    register_fn reg = (register_fn)dlsym(inst->dl, "lgw_plugin_register");
    if (!abi || !reg) {
        gw_errors_add(errs, file, line, "%s is not a linkgw plugin: it does not export %s", plugin_path,
                      !abi ? "lgw_plugin_abi()" : "lgw_plugin_register()");
        drop(inst);
        return NULL;
    }
    int v = abi(g_host_abis, (int)(sizeof g_host_abis / sizeof g_host_abis[0]));
    char why[256];
    if (!abi_acceptable(v, why, sizeof why)) {
        gw_errors_add(errs, file, line, "refusing plugin %s: %s", plugin_path, why);
        drop(inst);
        return NULL;
    }
    inst->drv.path = inst->plugin_path;
    inst->drv.abi = v;
    inst->drv.registering = true;
    int rc = reg(&inst->drv);
    inst->drv.registering = false;
    if (rc != LGW_OK) {
        gw_errors_add(errs, file, line, "plugin %s refused to register: %s", plugin_path, lgw_strerror(rc));
        drop(inst);
        return NULL;
    }
    const char *missing = !inst->drv.create ? "create"
                          : !inst->drv.start ? "start"
                          : !inst->drv.stop  ? "stop"
                          : !inst->drv.destroy ? "destroy" : NULL;
    if (missing) {
        gw_errors_add(errs, file, line, "plugin %s did not register the required '%s' callback "
                      "(lgw_driver_set_%s)", plugin_path, missing, missing);
        drop(inst);
        return NULL;
    }
    gw_list_push_back(&host->instances, &inst->link);
    GW_DEBUG(inst->log_comp, "loaded %s (ABI %d.%d, version %s)", plugin_path, LGW_ABI_MAJOR_OF(v),
             LGW_ABI_MINOR_OF(v), inst->drv.version ? inst->drv.version : "?");
    return inst;
}

/* Final release: called when the last reference goes (instance.c). */
void gw_instance_free_(lgw_instance_t *inst);
void gw_instance_free_(lgw_instance_t *inst) { drop(inst); }
