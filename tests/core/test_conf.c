/*
 * The main configuration file, conf.d files and the module registry, with
 * exact file:line errors.
 */
#include "harness.h"
#include "conf.h"

#include <string.h>

typedef struct seen {
    int calls;
    bool got_null;
    int64_t value;
} seen_t;

static int cloud_section(const lgw_config_t *s, void *data)
{
    seen_t *k = data;
    k->calls++;
    k->got_null = s == NULL;
    static const char *const keys[] = {"port", NULL};
    if (s) {
        lgw_config_check_keys(s, keys);
        lgw_config_get_int(s, "port", &k->value);
    }
    return LGW_OK;
}

static int models_key(const char *instance, const lgw_config_t *s, void *data)
{
    (void)instance;
    seen_t *k = data;
    k->calls++;
    if (lgw_config_kind(s) != LGW_CFG_LIST)
        lgw_config_error(s, "models must be a list");
    return LGW_OK;
}

static void test_main_file(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_conf_registry_clear();
    seen_t cloud = {0}, store = {0};
    assert_int_equal(gw_conf_register_section("cloud", cloud_section, &cloud), LGW_OK);
    assert_int_equal(gw_conf_register_section("cloud", cloud_section, &cloud), LGW_EINVAL);
    assert_int_equal(gw_conf_register_section("conf_dir", cloud_section, &cloud), LGW_EINVAL);
    assert_int_equal(gw_conf_register_section("store", cloud_section, &store), LGW_OK);

    const char *p = th_write(&t, "linkgw.conf",
                             "log_level = \"debug\";\n"
                             "conf_dir = \"instances\";\n"
                             "state_dir = \"/var/tmp/x\";\n"
                             "request_timeout_ms = 2500;\n"
                             "cloud = { port = 8883; };\n");
    gw_errors_t errs = {0};
    gw_main_conf_t mc;
    assert_int_equal(gw_main_conf_load(&mc, p, &errs), LGW_OK);
    assert_int_equal(errs.n, 0);
    assert_int_equal(mc.log_level, LGW_LOG_DEBUG);
    char want[600];
    snprintf(want, sizeof want, "%s/instances", t.dir);
    assert_string_equal(mc.conf_dir, want);
    assert_string_equal(mc.state_dir, "/var/tmp/x");
    assert_string_equal(mc.plugin_dir, LINKGW_PLUGIN_DIR);
    assert_int_equal(mc.request_timeout_ms, 2500);
    assert_int_equal(cloud.calls, 1);
    assert_false(cloud.got_null);
    assert_int_equal(cloud.value, 8883);
    assert_int_equal(store.calls, 1);
    assert_true(store.got_null); /* absent sections are called with NULL */
    gw_main_conf_free(&mc);

    p = th_write(&t, "bad.conf",
                 "log_level = \"loud\";\n"            /* 1 */
                 "conf_dir = 5;\n"                    /* 2 */
                 "mystery = 1;\n"                     /* 3 */
                 "cloud = { port = 1; extra = 2; };\n" /* 4 */
                 "store = 3;\n"                       /* 5 */
                 "request_timeout_ms = 0;\n");        /* 6 */
    assert_int_equal(gw_main_conf_load(&mc, p, &errs), LGW_EINVAL);
    char e[6][700];
    snprintf(e[0], sizeof e[0], "%s:1: setting 'log_level' must be one of \"error\", \"warn\", \"info\", \"debug\", "
             "not \"loud\"", p);
    snprintf(e[1], sizeof e[1], "%s:2: setting 'conf_dir' must be a string, not an integer", p);
    snprintf(e[2], sizeof e[2], "%s:6: setting 'request_timeout_ms' must be between 1 and 3600000, not 0", p);
    snprintf(e[3], sizeof e[3], "%s:3: unknown setting 'mystery'", p);
    snprintf(e[4], sizeof e[4], "%s:4: unknown setting 'extra'", p);
    snprintf(e[5], sizeof e[5], "%s:5: setting 'store' must be a group, not an integer", p);
    assert_int_equal(errs.n, 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(errs.msgs[i], e[i]);
    gw_main_conf_free(&mc);
    gw_errors_free(&errs);

    p = th_write(&t, "syntax.conf", "a = 1;\nb = {\n");
    assert_int_equal(gw_main_conf_load(&mc, p, &errs), LGW_EINVAL);
    assert_int_equal(errs.n, 1);
    snprintf(want, sizeof want, "%s:3: ", p);
    assert_true(strncmp(errs.msgs[0], want, strlen(want)) == 0);
    gw_main_conf_free(&mc);
    gw_errors_free(&errs);
    gw_conf_registry_clear();
    th_close(&t);
}

static void test_instance_files(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_conf_registry_clear();
    seen_t models = {0};
    assert_int_equal(gw_conf_register_instance_key("models", models_key, &models), LGW_OK);
    assert_int_equal(gw_conf_register_instance_key("plugin", models_key, &models), LGW_EINVAL);
    gw_errors_t errs = {0};
    gw_inst_conf_t ic;

    const char *p = th_write(&t, "bus1.conf",
                             "# a comment\n"
                             "plugin = \"modbus\";\n"
                             "settings = { port = 502; };\n"
                             "models = ( 1 );\n");
    assert_int_equal(gw_inst_conf_load(&ic, p, "/plugins", &errs), LGW_OK);
    assert_string_equal(ic.name, "bus1");
    assert_string_equal(ic.plugin_path, "/plugins/modbus.so");
    assert_int_equal(ic.plugin_line, 2);
    assert_true(ic.enabled);
    int64_t port = 0;
    assert_int_equal(lgw_config_get_int(ic.settings, "port", &port), LGW_OK);
    assert_int_equal(port, 502);
    assert_int_equal(models.calls, 1);
    uint64_t h1 = ic.hash;
    gw_inst_conf_free(&ic);

    p = th_write(&t, "bus1.conf", "plugin = \"/opt/x/my.so\";\nenabled = false;\n");
    assert_int_equal(gw_inst_conf_load(&ic, p, "/plugins", &errs), LGW_OK);
    assert_string_equal(ic.plugin_path, "/opt/x/my.so");
    assert_false(ic.enabled);
    assert_true(ic.hash != h1);
    assert_int_equal(lgw_config_kind(ic.settings), LGW_CFG_GROUP); /* empty group when absent */
    assert_int_equal(lgw_config_count(ic.settings), 0);
    gw_inst_conf_free(&ic);
    assert_int_equal(errs.n, 0);

    p = th_write(&t, "bad.conf",
                 "plugin = \"rel/x.so\";\n"   /* 1 */
                 "enabled = \"yes\";\n"       /* 2 */
                 "settings = 3;\n"            /* 3 */
                 "colour = \"red\";\n"        /* 4 */
                 "models = 5;\n");            /* 5 */
    assert_int_equal(gw_inst_conf_load(&ic, p, "/plugins", &errs), LGW_EINVAL);
    gw_inst_conf_free(&ic);
    char e[5][700];
    snprintf(e[0], sizeof e[0], "%s:2: setting 'enabled' must be a boolean, not a string", p);
    snprintf(e[1], sizeof e[1], "%s:1: plugin path 'rel/x.so' must be absolute (or a plain plugin name)", p);
    snprintf(e[2], sizeof e[2], "%s:3: setting 'settings' must be a group, not an integer", p);
    snprintf(e[3], sizeof e[3], "%s:4: unknown setting 'colour'", p);
    snprintf(e[4], sizeof e[4], "%s:5: models must be a list", p);
    assert_int_equal(errs.n, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(errs.msgs[i], e[i]);
    gw_errors_free(&errs);

    p = th_write(&t, "noplugin.conf", "settings = { };\n");
    assert_int_equal(gw_inst_conf_load(&ic, p, "/plugins", &errs), LGW_EINVAL);
    gw_inst_conf_free(&ic);
    char want[600];
    snprintf(want, sizeof want, "%s: missing required setting 'plugin'", p);
    assert_string_equal(errs.msgs[0], want);
    gw_errors_free(&errs);

    p = th_write(&t, "syntax.conf", "plugin = \"x\";\n\nsettings = { a = ; };\n");
    assert_int_equal(gw_inst_conf_load(&ic, p, "/plugins", &errs), LGW_EINVAL);
    gw_inst_conf_free(&ic);
    snprintf(want, sizeof want, "%s:3: ", p);
    assert_true(strncmp(errs.msgs[0], want, strlen(want)) == 0);
    gw_errors_free(&errs);

    /* directory listing: *.conf only, sorted */
    th_write(&t, "b.conf.example", "");
    th_write(&t, "a.conf", "");
    th_write(&t, ".hidden.conf", "");
    char **files = gw_confd_list(t.dir, &errs);
    assert_non_null(files);
    const char *expect[] = {"a.conf", "bad.conf", "bus1.conf", "noplugin.conf", "syntax.conf", NULL};
    for (int i = 0; expect[i]; i++) {
        assert_non_null(files[i]);
        assert_string_equal(strrchr(files[i], '/') + 1, expect[i]);
    }
    assert_null(files[5]);
    gw_confd_list_free(files);
    assert_null(gw_confd_list("/nonexistent-dir", &errs));
    assert_int_equal(errs.n, 1);
    gw_errors_free(&errs);
    gw_conf_registry_clear();
    th_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_main_file),
        cmocka_unit_test(test_instance_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
