/*
 * Registers the `cloud` section with the daemon's configuration registry and
 * turns gw_cloud_config_parse() errors into errors of the loaded document.
 */
#include "cloud_conf.h"

#include "cfgdoc.h"
#include "conf.h"

static void to_doc_error(void *data, const config_setting_t *node, const char *file, int line, const char *message)
{
    (void)file;
    (void)line;
    const lgw_config_t *section = data;
    lgw_config_error(node ? gw_cfg_node(node) : section, "%s", message);
}

static int cloud_section(const lgw_config_t *section, void *data)
{
    gw_cloud_config_t *out = data;
    gw_cloud_config_free(out);
    if (!section)
        return LGW_OK;
    int n = gw_cloud_config_parse(gw_cfg_setting(section), out, to_doc_error, (void *)section);
    return n ? LGW_EINVAL : LGW_OK;
}

int gw_cloud_conf_register(gw_cloud_config_t *out)
{
    if (!out)
        return LGW_EINVAL;
    gw_cloud_config_init(out);
    return gw_conf_register_section("cloud", cloud_section, out);
}
