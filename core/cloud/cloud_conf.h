/*
 * The `cloud` group of linkgw.conf in the daemon's configuration registry
 * (core/conf.h). Built only inside the daemon's tree (needs linkgw_core).
 */
#ifndef LINKGW_CORE_CLOUD_CONF_H
#define LINKGW_CORE_CLOUD_CONF_H

#include "cloud.h"

/**
 * Claims the main-file group "cloud" with gw_conf_register_section(). On every
 * load of the main file (start-up, SIGHUP, --check-config) the group is
 * validated by gw_cloud_config_parse() into *@p out, which is freed first;
 * every problem becomes a "file:line: message" error of that load. Without a
 * cloud group *@p out is left at its defaults with host == NULL: the caller
 * decides whether running without the cloud is allowed. @p out must outlive
 * the registration. Returns LGW_OK or LGW_EINVAL (name already claimed).
 */
int gw_cloud_conf_register(gw_cloud_config_t *out);

#endif
