/*
 * Fuzz target: the `settings` readers of the in-tree field-bus plugins, with
 * the daemon's real config implementation (core/cfgdoc.c, config.c): the
 * Modbus plugin's mb_config_read() (bus, models, points, groups and request
 * planning, devices, discovery) and the KNX plugin's knx_settings_load().
 * Input: the text of a conf.d instance file (its `settings` group, or the
 * root when there is none). A refused file must have recorded an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgdoc.h"
#include "fuzz_util.h"
#include "knx_conf.h"
#include "log.h"
#include "mb_plugin.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    gw_log_set_level(LGW_LOG_ERROR);
    return 0;
}

static const lgw_config_t *settings_of(gw_cfgdoc_t *doc)
{
    const lgw_config_t *s = lgw_config_child(gw_cfgdoc_root(doc), "settings");
    return s ? s : gw_cfgdoc_root(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strndup(data, size);
    if (!text)
        return 0;
    gw_errors_t errs = { 0 };
    gw_cfgdoc_t doc;
    if (gw_cfgdoc_load_string(&doc, "fuzz.conf", text, &errs) == LGW_OK) {
        gw_cfgdoc_set_current(&doc);
        mb_inst_t *mi = calloc(1, sizeof *mi);
        if (mi) {
            int rc = mb_config_read(mi, settings_of(&doc));
            if (rc == LGW_EINVAL && errs.n == 0)
                abort();
            mb_config_free(mi);
            free(mi);
        }
        gw_cfgdoc_set_current(NULL);
    }
    gw_cfgdoc_free(&doc);
    gw_errors_free(&errs);

    if (gw_cfgdoc_load_string(&doc, "fuzz.conf", text, &errs) == LGW_OK) {
        gw_cfgdoc_set_current(&doc);
        knx_settings_t ks;
        memset(&ks, 0, sizeof ks);
        int rc = knx_settings_load(settings_of(&doc), &ks);
        if (rc == LGW_EINVAL && errs.n == 0)
            abort();
        if (rc == LGW_OK)
            knx_settings_free(&ks);
        gw_cfgdoc_set_current(NULL);
    }
    gw_cfgdoc_free(&doc);
    gw_errors_free(&errs);
    free(text);
    return 0;
}
