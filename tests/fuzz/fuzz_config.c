/*
 * Fuzz target: the daemon's configuration files (core/conf.h, config.c,
 * cfgdoc.c). Each input is read twice, as the main file linkgw.conf and as a
 * conf.d instance file, with the validators the daemon registers: the `cloud`
 * section (gw_cloud_config_parse) and the `models` instance key
 * (gw_tsl_mapping_validate against the test models). Every reported error
 * must be a non-empty line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cfgdoc.h"
#include "cloud.h"
#include "conf.h"
#include "fuzz_util.h"
#include "log.h"
#include "tsl_map.h"

static gw_tsl_models_t *g_set;

static void cloud_err(void *data, const config_setting_t *node, const char *file, int line, const char *message)
{
    (void)file;
    (void)line;
    lgw_config_error(node ? gw_cfg_node(node) : (const lgw_config_t *)data, "%s", message);
}

static int cloud_section(const lgw_config_t *section, void *data)
{
    (void)data;
    if (!section)
        return 0;
    gw_cloud_config_t cfg;
    if (gw_cloud_config_parse(gw_cfg_setting(section), &cfg, cloud_err, (void *)section) == 0)
        gw_cloud_config_free(&cfg);
    return 0;
}

static void tsl_err(void *ctx, const config_setting_t *at, const char *file, int line, const char *msg)
{
    (void)ctx;
    (void)file;
    (void)line;
    if (at)
        lgw_config_error(gw_cfg_node(at), "%s", msg);
}

static int models_key(const char *instance, const lgw_config_t *setting, void *data)
{
    (void)instance;
    (void)data;
    return gw_tsl_mapping_validate(gw_cfg_setting(setting), g_set, tsl_err, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[1024];
    g_set = gw_tsl_models_new();
    if (!g_set || gw_tsl_models_load_dir(g_set, FUZZ_TSL_DATA "/models", err, sizeof err) != 0) {
        fprintf(stderr, "cannot load the test models: %s\n", err);
        abort();
    }
    gw_log_set_level(LGW_LOG_ERROR); /* quieter: validators may log */
    gw_conf_register_section("cloud", cloud_section, NULL);
    gw_conf_register_instance_key("models", models_key, NULL);
    return 0;
}

static void check_errors(const gw_errors_t *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        if (!errs->msgs[i] || !errs->msgs[i][0])
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fz_memfile(data, size, path, sizeof path);
    if (fd < 0)
        return 0;

    gw_errors_t errs = { 0 };
    gw_main_conf_t mc;
    gw_main_conf_load(&mc, path, &errs);
    gw_main_conf_free(&mc);
    check_errors(&errs);
    gw_errors_free(&errs);

    gw_inst_conf_t ic;
    gw_inst_conf_load(&ic, path, FUZZ_PLUGIN_DIR, &errs);
    gw_inst_conf_free(&ic);
    check_errors(&errs);
    gw_errors_free(&errs);

    close(fd);
    return 0;
}
