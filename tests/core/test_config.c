/* Config accessors (sdk config.h) with exact file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cfgdoc.h"

static const char *const DOC =
    "settings = {\n"                /* 1 */
    "  port = 502;\n"               /* 2 */
    "  host = \"10.0.0.1\";\n"      /* 3 */
    "  ratio = 0.5;\n"              /* 4 */
    "  on = true;\n"                /* 5 */
    "  mode = \"rtu\";\n"           /* 6 */
    "  bogus = 1;\n"                /* 7 */
    "  list = ( 1, \"a\" );\n"      /* 8 */
    "  big = 70000;\n"              /* 9 */
    "};\n";

static void test_getters(void **state)
{
    (void)state;
    gw_errors_t errs = {0};
    gw_cfgdoc_t doc;
    assert_int_equal(gw_cfgdoc_load_string(&doc, "x.conf", DOC, &errs), LGW_OK);
    const lgw_config_t *s = lgw_config_child(gw_cfgdoc_root(&doc), "settings");
    assert_int_equal(lgw_config_kind(s), LGW_CFG_GROUP);
    assert_string_equal(lgw_config_name(s), "settings");
    assert_string_equal(lgw_config_file(s), "x.conf");
    assert_int_equal(lgw_config_count(s), 8);
    int64_t i = 7;
    double d = 0;
    bool b = false;
    const char *str = NULL;
    assert_int_equal(lgw_config_get_int(s, "port", &i), LGW_OK);
    assert_int_equal(i, 502);
    assert_int_equal(lgw_config_get_int(s, "nope", &i), LGW_ENOENT);
    assert_int_equal(i, 502);
    assert_int_equal(lgw_config_get_double(s, "port", &d), LGW_OK);
    assert_true(d == 502.0);
    assert_int_equal(lgw_config_get_double(s, "ratio", &d), LGW_OK);
    assert_true(d == 0.5);
    assert_int_equal(lgw_config_get_bool(s, "on", &b), LGW_OK);
    assert_true(b);
    assert_int_equal(lgw_config_get_string(s, "host", &str), LGW_OK);
    assert_string_equal(str, "10.0.0.1");
    assert_int_equal(errs.n, 0);

    assert_int_equal(lgw_config_get_int(s, "ratio", &i), LGW_ETYPE);
    assert_string_equal(errs.msgs[0], "x.conf:4: setting 'ratio' must be an integer, not a number");
    assert_int_equal(lgw_config_get_int_range(s, "big", &i, 1, 65535), LGW_ERANGE);
    assert_string_equal(errs.msgs[1], "x.conf:9: setting 'big' must be between 1 and 65535, not 70000");
    static const char *const modes[] = {"tcp", "rtu", NULL};
    int idx = -1;
    assert_int_equal(lgw_config_get_choice(s, "mode", modes, &idx), LGW_OK);
    assert_int_equal(idx, 1);
    static const char *const modes2[] = {"tcp", "udp", NULL};
    assert_int_equal(lgw_config_get_choice(s, "mode", modes2, &idx), LGW_EINVAL);
    assert_string_equal(errs.msgs[2], "x.conf:6: setting 'mode' must be one of \"tcp\", \"udp\", not \"rtu\"");
    assert_int_equal(lgw_config_require(s, "device"), LGW_ENOENT);
    assert_string_equal(errs.msgs[3], "x.conf:1: missing required setting 'device'");
    static const char *const keys[] = {"port", "host", "ratio", "on", "mode", "list", "big", NULL};
    assert_int_equal(lgw_config_check_keys(s, keys), 1);
    assert_string_equal(errs.msgs[4], "x.conf:7: unknown setting 'bogus'");
    const lgw_config_t *l = lgw_config_child(s, "list");
    assert_int_equal(lgw_config_kind(l), LGW_CFG_LIST);
    assert_int_equal(lgw_config_count(l), 2);
    assert_null(lgw_config_name(lgw_config_at(l, 0)));
    assert_int_equal(lgw_config_get_int(lgw_config_at(l, 1), NULL, &i), LGW_ETYPE);
    assert_string_equal(errs.msgs[5], "x.conf:8: setting '(element)' must be an integer, not a string");
    lgw_config_error(NULL, "ignored without a current document");
    gw_cfgdoc_set_current(&doc);
    lgw_config_error(NULL, "free %s", "form");
    gw_cfgdoc_set_current(NULL);
    assert_string_equal(errs.msgs[6], "x.conf: free form");
    assert_int_equal(lgw_config_error_count(s), 7);
    assert_int_equal(errs.n, 7);
    gw_cfgdoc_free(&doc);
    gw_errors_free(&errs);
}

static void test_parse_error(void **state)
{
    (void)state;
    gw_errors_t errs = {0};
    gw_cfgdoc_t doc;
    assert_int_equal(gw_cfgdoc_load_string(&doc, "bad.conf", "a = 1;\nb = ;\n", &errs), LGW_EINVAL);
    gw_cfgdoc_free(&doc);
    assert_int_equal(errs.n, 1);
    assert_true(strncmp(errs.msgs[0], "bad.conf:2: ", 12) == 0);
    assert_int_equal(gw_cfgdoc_load(&doc, "/nonexistent/x.conf", &errs), LGW_EINVAL);
    gw_cfgdoc_free(&doc);
    assert_string_equal(errs.msgs[1], "/nonexistent/x.conf: cannot read file: No such file or directory");
    gw_errors_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_parse_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
