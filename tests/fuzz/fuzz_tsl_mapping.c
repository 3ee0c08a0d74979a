/*
 * Fuzz target: the conf.d `models` mapping (core/tsl/tsl_map.h). Input: the
 * libconfig text of an instance file; its `models` setting (any type) is
 * parsed against the test models of tests/tsl/data, then checked against a
 * fixed plugin device model (as the daemon does once the plugin declared
 * it). Every reported error must carry a message and, when it names a setting, a positive line.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "tsl_map.h"

static gw_tsl_models_t *g_set;

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
    return 0;
}

static void on_error(void *ctx, const config_setting_t *at, const char *file, int line, const char *msg)
{
    (void)at;
    (void)file;
    ++*(int *)ctx;
    if (!msg || !msg[0] || (at && line <= 0))
        abort(); /* an error without a message helps nobody */
}

/* The thermometer model as the sim plugin would declare it. */
static const gw_tsl_dev_point_t thermo_points[] = {
    { "temperature", LGW_TYPE_DOUBLE, LGW_ACCESS_READ },
    { "humidity", LGW_TYPE_DOUBLE, LGW_ACCESS_READ },
    { "mode", LGW_TYPE_TEXT, LGW_ACCESS_READ | LGW_ACCESS_WRITE },
    { "power", LGW_TYPE_INT, LGW_ACCESS_READ | LGW_ACCESS_WRITE },
    { "setpoint", LGW_TYPE_INT, LGW_ACCESS_READ | LGW_ACCESS_WRITE },
    { "label", LGW_TYPE_TEXT, LGW_ACCESS_READ },
    { "on", LGW_TYPE_BOOL, LGW_ACCESS_READ | LGW_ACCESS_WRITE },
};
static const char *const thermo_services[] = { "calibrate", "reset_energy" };
static const char *const thermo_events[] = { "over_temperature" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strndup(data, size);
    if (!text)
        return 0;
    config_t cfg;
    config_init(&cfg);
    if (config_read_string(&cfg, text)) {
        const config_setting_t *models = config_lookup(&cfg, "models");
        if (!models)
            models = config_root_setting(&cfg);
        int ctx = 0, n = 0;
        gw_tsl_mapping_validate(models, g_set, on_error, &ctx);
        gw_tsl_mapping_t *map = gw_tsl_mapping_parse(models, g_set, on_error, &ctx, &n);
        if (map) {
            static const char *const names[] = { "thermometer", "switch", "sw" };
            for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                gw_tsl_dev_model_t dm = {
                    .name = names[i],
                    .n_points = sizeof thermo_points / sizeof thermo_points[0],
                    .points = thermo_points,
                    .n_services = 2,
                    .services = thermo_services,
                    .n_events = 1,
                    .events = thermo_events,
                };
                gw_tsl_mapping_check_device(map, &dm, on_error, &ctx);
            }
            for (size_t i = 0; i < map->n_models; i++)
                (void)gw_tsl_mapping_model(map, map->models[i].name);
            gw_tsl_mapping_free(map);
        } else if (n == 0) {
            abort(); /* refused without a single error */
        }
    }
    config_destroy(&cfg);
    free(text);
    return 0;
}
