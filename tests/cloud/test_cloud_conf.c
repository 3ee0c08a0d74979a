/*
 * The `cloud` group validated through the daemon's configuration registry:
 * errors land in the load's error list as "file:line: message"; a valid group
 * fills the config; a file without it leaves host NULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cloud_conf.h"
#include "conf.h"
#include "test_util.h"

static char g_dir[256];

static const char *write_conf(const char *text)
{
    static char path[320];
    snprintf(path, sizeof path, "%s/linkgw.conf", g_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_registry(void **state)
{
    (void)state;
    assert_int_equal(tu_mkdtemp(g_dir, sizeof g_dir), 0);
    gw_conf_registry_clear();
    gw_cloud_config_t cloud;
    assert_int_equal(gw_cloud_conf_register(&cloud), LGW_OK);
    assert_int_equal(gw_cloud_conf_register(&cloud), LGW_EINVAL);

    gw_errors_t errs = {0};
    gw_main_conf_t mc;
    const char *path = write_conf("cloud = {\n  host = \"127.0.0.1\";\n  port = 1883;\n  tls = false;\n"
                                  "  product_key = \"a1TestPK01\";\n  device_name = \"gw01\";\n"
                                  "  device_secret = \"0123456789abcdef0123456789abcdef\";\n};\n");
    assert_int_equal(gw_main_conf_load(&mc, path, &errs), LGW_OK);
    assert_int_equal(errs.n, 0);
    assert_string_equal(cloud.host, "127.0.0.1");
    assert_false(cloud.tls);
    assert_int_equal(cloud.keepalive, 300);
    gw_main_conf_free(&mc);

    path = write_conf("cloud = {\n  host = \"h\";\n  port = 1883;\n  keepalive = 5;\n  product_key = \"pk\";\n"
                      "  device_name = \"dn\";\n  device_secret = \"s\";\n  bogus = 1;\n};\n");
    assert_int_not_equal(gw_main_conf_load(&mc, path, &errs), LGW_OK);
    char want1[400], want2[400];
    snprintf(want1, sizeof want1, "%s:4: cloud.keepalive must be 30..1200 seconds (platform limit), not 5", path);
    snprintf(want2, sizeof want2, "%s:8: cloud: unknown setting 'bogus'", path);
    bool f1 = false, f2 = false;
    for (size_t i = 0; i < errs.n; i++) {
        f1 |= strcmp(errs.msgs[i], want1) == 0;
        f2 |= strcmp(errs.msgs[i], want2) == 0;
    }
    if (!f1 || !f2) {
        gw_errors_print(&errs, stderr);
        fail_msg("expected errors missing");
    }
    assert_null(cloud.host); /* freed on error */
    gw_main_conf_free(&mc);
    gw_errors_free(&errs);

    path = write_conf("log_level = \"info\";\n");
    assert_int_equal(gw_main_conf_load(&mc, path, &errs), LGW_OK);
    assert_null(cloud.host);
    gw_main_conf_free(&mc);
    gw_errors_free(&errs);
    gw_cloud_config_free(&cloud);
    gw_conf_registry_clear();
    tu_rmtree(g_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_registry)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
