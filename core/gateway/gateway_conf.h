/*
 * The gateway's configuration, process-wide (the conf registry is too):
 *
 * Main file (linkgw.conf), groups registered by the gateway module:
 *   cloud   = { … };   the Alink session (gw_cloud_config_parse(), core/cloud/cloud.h);
 *                      its presence turns the gateway on
 *   tsl     = { models_dir = "models"; };   TSL thing-model JSON files (one per
 *                      ProductKey) the conf.d `models` mappings refer to
 *   gateway = { control_socket = "/run/linkgw/ctl.sock";  # default <state_dir>/linkgw.sock
 *               control_mode = 0600;                      # 0600 or 0660
 *               login_rate = 200; };                       # sub-device logins per second, 1..200
 *
 * conf.d instance files, keys registered by the gateway module:
 *   models    = { <plugin model> = { product_key = "…"; points = (…); … }; };  (core/tsl/tsl_map.h)
 *   subdevice = {
 *     register = true;                       # obtain missing DeviceSecrets with thing/sub/register
 *     device_name_prefix = "";               # DeviceName = prefix + device id (default: the id)
 *     device_names = ( ("thermo-0", "kitchen-t1"), … );   # explicit device id → DeviceName
 *     product_secrets = ( ("a1ThermoPK", "…"), … );  # products registered with the ProductSecret
 *   };                                   # (thing/proxy/provisioning/product_register)
 *
 * Every error is recorded with lgw_config_error() on the offending node, so
 * `linkgw --check-config` prints it as file:line: message. Loop thread only.
 * A reload of a conf.d file replaces the instance's record when the file has
 * a `models` or `subdevice` key (a file that drops both keeps the old record).
 */
#ifndef GW_GATEWAY_CONF_H
#define GW_GATEWAY_CONF_H

#include <stdbool.h>

#include "cloud.h"
#include "tsl_map.h"

/** Registers the sections and keys above with the conf registry (module init). */
int gw_gwconf_register(void);

/** The `cloud` group as parsed by the last main-file load, or NULL when absent/invalid. */
const gw_cloud_config_t *gw_gwconf_cloud(void);
/** Control socket path ("" before the main file was loaded). */
const char *gw_gwconf_control_socket(const char *state_dir, char *buf, size_t cap);
/** Control socket mode (0600 or 0660). */
unsigned gw_gwconf_control_mode(void);
/** Login entries per second (1..200). */
unsigned gw_gwconf_login_rate(void);
/** The loaded TSL models (never NULL after the main file was loaded; may be empty). */
const gw_tsl_models_t *gw_gwconf_tsl_models(void);

/** ProductKey of plugin model @p model of instance @p instance, or NULL when not mapped. */
const char *gw_gwconf_product_key(const char *instance, const char *model);
/** The TSL mapping of @p model in @p instance, or NULL. Valid until the instance file is re-read. */
const gw_tsl_model_map_t *gw_gwconf_model_map(const char *instance, const char *model);
/**
 * DeviceName of device @p device_id of @p instance into @p out (GW_STORE_NAME_MAX):
 * the mapping table, else prefix + id. False when the result is not a valid name.
 */
bool gw_gwconf_device_name(const char *instance, const char *device_id, char *out, size_t cap);
/** True when the instance allows thing/sub/register. */
bool gw_gwconf_may_register(const char *instance);
/**
 * The ProductSecret the instance's `product_secrets` table gives for
 * @p product_key, or NULL (then thing/sub/register is used). Valid until the
 * instance file is re-read; never log it.
 */
const char *gw_gwconf_product_secret(const char *instance, const char *product_key);

/** Frees everything (also runs at process exit). */
void gw_gwconf_free(void);

#endif
