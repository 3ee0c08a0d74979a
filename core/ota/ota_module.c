/*
 * The `ota` core module: claims the `ota { ... }` group of linkgw.conf and
 * keeps its last valid parse for the gateway composition (core/gateway),
 * which creates the OTA manager next to the cloud session. Errors carry
 * file:line (also for `linkgw --check-config`).
 */
#include "cfgdoc.h"
#include "conf.h"
#include "module.h"
#include "ota.h"

#include <linkgw/config.h>

static gw_ota_config_t g_cfg;
static bool g_cfg_set;

/* Error sink of gw_ota_config_parse(): recorded on the offending setting (file:line). */
static void conf_err(void *data, const config_setting_t *node, const char *file, int line, const char *message)
{
    (void)file;
    (void)line;
    lgw_config_error(node ? gw_cfg_node(node) : data, "%s", message);
}

static int ota_section(const lgw_config_t *section, void *data)
{
    (void)data;
    if (g_cfg_set)
        gw_ota_config_free(&g_cfg);
    g_cfg_set = false;
    if (!section)
        return 0;
    if (gw_ota_config_parse(gw_cfg_setting(section), NULL, &g_cfg, conf_err, (void *)section) == 0)
        g_cfg_set = true;
    return 0;
}

const gw_ota_config_t *gw_ota_conf_current(void) { return g_cfg_set ? &g_cfg : NULL; }

static int module_init(void) { return gw_conf_register_section("ota", ota_section, NULL); }

static void __attribute__((destructor)) conf_free(void)
{
    if (g_cfg_set)
        gw_ota_config_free(&g_cfg);
}

GW_MODULE(ota, 50, module_init, NULL, NULL)
