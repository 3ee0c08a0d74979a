/*
 * Tests of the KNX plugin's settings reader (plugins/knx/knx_conf.c) through
 * the core's config implementation: what a valid file yields, and the exact
 * `file:line: message` of every kind of mistake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cfgdoc.h"
#include "knx_addr.h"
#include "knx_conf.h"

static uint16_t ga(const char *s)
{
    uint16_t v = 0;
    assert_true(knx_ga_parse(s, &v));
    return v;
}

/* Loads @p text as knx.conf and returns knx_settings_load's result; errors land in @p errs. */
static int load(const char *text, knx_settings_t *s, gw_errors_t *errs)
{
    gw_cfgdoc_t doc;
    assert_int_equal(gw_cfgdoc_load_string(&doc, "knx.conf", text, errs), LGW_OK);
    const lgw_config_t *settings = lgw_config_child(gw_cfgdoc_root(&doc), "settings");
    assert_non_null(settings);
    int r = knx_settings_load(settings, s);
    gw_cfgdoc_free(&doc);
    return r;
}

static void test_valid(void **state)
{
    (void)state;
    const char *text =
        "settings = {\n"
        "  url = \"ip:127.0.0.1:6720\";\n"
        "  read_timeout_ms = 2000;\n"
        "  devices = (\n"
        "    { id = \"light-1\"; model = \"dimmer\"; address = \"1.1.5\";\n"
        "      points = (\n"
        "        { name = \"power\"; dpt = \"1.001\"; write = \"1/1/1\"; state = \"1/1/2\"; },\n"
        "        { name = \"level\"; dpt = \"DPST-5-1\"; write = \"1/1/3\"; poll_ms = 60000; },\n"
        "        { name = \"temp\"; dpt = \"9.001\"; listen = [ \"3/0/1\", \"3/9\", \"3/0/1\" ]; },\n"
        "        { name = \"scene\"; dpt = \"17.001\"; write = \"1/1/9\"; access = \"w\"; }\n"
        "      ); },\n"
        "    { id = \"light-2\"; model = \"dimmer\";\n"
        "      points = (\n"
        "        { name = \"power\"; dpt = \"1.001\"; write = \"1/2/1\"; read_on_start = false; },\n"
        "        { name = \"level\"; dpt = \"5.001\"; write = \"1/2/3\"; },\n"
        "        { name = \"temp\"; dpt = \"9.001\"; listen = \"3/0/2\"; },\n"
        "        { name = \"scene\"; dpt = \"17.001\"; write = \"1/2/9\"; access = \"w\"; }\n"
        "      ); }\n"
        "  );\n"
        "};\n";
    knx_settings_t s;
    gw_errors_t errs = { 0 };
    assert_int_equal(load(text, &s, &errs), LGW_OK);
    assert_int_equal(errs.n, 0);
    assert_string_equal(s.url, "ip:127.0.0.1:6720");
    assert_int_equal(s.read_timeout_ms, 2000);
    assert_int_equal(s.reconnect_min_ms, 500);
    assert_int_equal(s.reconnect_max_ms, 30000);
    assert_int_equal(s.read_rate, 20);
    assert_false(s.learn);
    assert_int_equal(s.n_devices, 2);

    knx_device_t *d = knx_settings_find_device(&s, "light-1");
    assert_non_null(d);
    assert_string_equal(d->model, "dimmer");
    assert_true(d->has_ia);
    assert_int_equal(d->ia, 0x1105);
    assert_int_equal(d->n_points, 4);

    knx_point_t *p = knx_device_find_point(d, "power");
    assert_int_equal(p->type, LGW_TYPE_BOOL);
    assert_int_equal(p->access, LGW_ACCESS_RW);
    assert_int_equal(p->write_ga, ga("1/1/1"));
    assert_int_equal(p->read_ga, ga("1/1/2"));
    assert_int_equal(p->n_listen, 2);
    assert_true(p->read_on_start);
    assert_false(p->optimistic);
    assert_ptr_equal(p->dev, d);

    p = knx_device_find_point(d, "level");
    assert_int_equal(p->dpt.main, 5);
    assert_int_equal(p->dpt.sub, 1);
    assert_int_equal(p->type, LGW_TYPE_DOUBLE);
    assert_int_equal(p->read_ga, ga("1/1/3")); /* no state address: reads go to the write address */
    assert_int_equal(p->poll_ms, 60000);
    assert_true(p->optimistic);

    p = knx_device_find_point(d, "temp");
    assert_int_equal(p->access, LGW_ACCESS_READ);
    assert_int_equal(p->write_ga, 0);
    assert_int_equal(p->read_ga, 0);
    assert_false(p->read_on_start);
    assert_int_equal(p->n_listen, 2); /* duplicates dropped */
    assert_int_equal(p->listen[1], ga("3/0/9"));

    p = knx_device_find_point(d, "scene");
    assert_int_equal(p->access, LGW_ACCESS_WRITE);
    assert_false(p->read_on_start);

    d = knx_settings_find_device(&s, "light-2");
    assert_false(d->has_ia);
    assert_false(knx_device_find_point(d, "power")->read_on_start);
    assert_null(knx_device_find_point(d, "nope"));
    assert_null(knx_settings_find_device(&s, "nope"));
    knx_settings_free(&s);
    gw_errors_free(&errs);
}

static void test_defaults(void **state)
{
    (void)state;
    knx_settings_t s;
    gw_errors_t errs = { 0 };
    assert_int_equal(load("settings = { learn = true; };\n", &s, &errs), LGW_OK);
    assert_string_equal(s.url, "local:/run/knx");
    assert_true(s.learn);
    assert_int_equal(s.learn_max, 256);
    assert_int_equal(s.n_devices, 0);
    knx_settings_free(&s);
    gw_errors_free(&errs);
}

/* Each mistake, alone in an otherwise valid file, gives exactly this error. */
static void expect_error(const char *settings_body, const char *error)
{
    char text[2048];
    snprintf(text, sizeof text, "settings = {\n%s};\n", settings_body);
    knx_settings_t s;
    gw_errors_t errs = { 0 };
    assert_int_equal(load(text, &s, &errs), LGW_EINVAL);
    if (errs.n != 1) {
        for (size_t i = 0; i < errs.n; i++)
            print_error("  got: %s\n", errs.msgs[i]);
        fail_msg("expected exactly one error: %s", error);
    }
    assert_string_equal(errs.msgs[0], error);
    gw_errors_free(&errs);
}

#define DEV(points) "  devices = ( { id = \"d1\"; model = \"m\"; points = (\n" points "  ); } );\n"

static void test_errors(void **state)
{
    (void)state;
    expect_error("  uri = \"local:/x\";\n", "knx.conf:2: unknown setting 'uri'");
    expect_error("  url = \"tcp:1.2.3.4\";\n",
                 "knx.conf:2: url 'tcp:1.2.3.4' must be \"local:/path/to/socket\" or \"ip:host[:port]\"");
    expect_error("  reconnect_min_ms = 5000;\n  reconnect_max_ms = 1000;\n",
                 "knx.conf:3: reconnect_max_ms must not be below reconnect_min_ms");
    expect_error("  read_rate = 0;\n", "knx.conf:2: setting 'read_rate' must be between 1 and 1000, not 0");
    expect_error("  read_timeout_ms = 1.5;\n", "knx.conf:2: setting 'read_timeout_ms' must be an integer, not a number");
    expect_error("  devices = { };\n",
                 "knx.conf:2: devices must be a list ( { id = …; model = …; points = ( … ); }, … )");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; write = \"1/2/3\"; color = 1; }\n"),
                 "knx.conf:3: unknown setting 'color'");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; write = \"1/8/3\"; }\n"),
                 "knx.conf:3: '1/8/3' is not a group address (main/middle/sub up to 31/7/255, or main/sub up to "
                 "31/2047)");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; listen = [ \"1/2/3\", \"x\" ]; }\n"),
                 "knx.conf:3: 'x' is not a group address (main/middle/sub up to 31/7/255, or main/sub up to "
                 "31/2047)");
    expect_error(DEV("    { name = \"a\"; dpt = \"19.001\"; write = \"1/2/3\"; }\n"),
                 "knx.conf:3: datapoint type '19.001' is not supported (1.x 2.x 3.x 5.x 6.x 7.x 8.x 9.x 10.001 "
                 "11.001 12.x 13.x 14.x 16.000 16.001 17.001 18.001 20.x 232.600)");
    expect_error(DEV("    { name = \"a\"; dpt = \"nine\"; write = \"1/2/3\"; }\n"),
                 "knx.conf:3: 'nine' is not a datapoint type (like \"9.001\")");
    expect_error(DEV("    { dpt = \"1.001\"; write = \"1/2/3\"; }\n"), "knx.conf:3: missing required setting 'name'");
    expect_error(DEV("    { name = \"a b\"; dpt = \"1.001\"; write = \"1/2/3\"; }\n"),
                 "knx.conf:3: point name 'a b' must be 1..64 of A-Z a-z 0-9 _");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; write = \"1/2/3\"; },\n"
                     "    { name = \"a\"; dpt = \"1.001\"; write = \"1/2/4\"; }\n"),
                 "knx.conf:4: device 'd1' already has a point 'a'");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; }\n"),
                 "knx.conf:3: point 'a' has no group address: give write, state or listen");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; state = \"1/2/3\";\n      access = \"rw\"; }\n"),
                 "knx.conf:4: point 'a' is writable but has no write address");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; write = \"1/2/3\"; access = \"x\"; }\n"),
                 "knx.conf:3: setting 'access' must be one of \"r\", \"w\", \"rw\", not \"x\"");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; listen = \"1/2/3\";\n      read_on_start = true; }\n"),
                 "knx.conf:4: point 'a' cannot be read on start: it needs read access and a state or write address");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; write = \"1/2/3\"; poll_ms = 50; }\n"),
                 "knx.conf:3: poll_ms must be 0 (never) or at least 100");
    expect_error(DEV("    { name = \"a\"; dpt = \"1.001\"; write = \"1/2/3\"; access = \"w\"; poll_ms = 1000; }\n"),
                 "knx.conf:3: point 'a' cannot be polled: it needs read access and a state or write address");
    expect_error("  devices = ( { id = \"d1\"; model = \"m\"; points = ( ); } );\n",
                 "knx.conf:2: points must be a non-empty list ( { name = …; dpt = …; … }, … )");
    expect_error("  devices = ( { id = \"d1\"; model = \"m\"; } );\n", "knx.conf:2: missing required setting 'points'");
    expect_error("  devices = ( { id = \"d 1\"; model = \"m\"; points = ( { name = \"a\"; dpt = \"1\"; write = \"1/1\"; } ); } );\n",
                 "knx.conf:2: device id 'd 1' must be 1..64 of A-Z a-z 0-9 - _ . : @");
    expect_error("  devices = ( { id = \"d1\"; model = \"1m.x\"; points = ( { name = \"a\"; dpt = \"1\"; write = \"1/1\"; } ); } );\n",
                 "knx.conf:2: model name '1m.x' must be a letter followed by up to 63 of A-Z a-z 0-9 - _");
    expect_error("  devices = ( { id = \"d1\"; model = \"m\"; address = \"1/1/1\";\n"
                 "                points = ( { name = \"a\"; dpt = \"1\"; write = \"1/1\"; } ); } );\n",
                 "knx.conf:2: '1/1/1' is not an individual address (area.line.device, up to 15.15.255)");
    expect_error("  devices = (\n"
                 "    { id = \"d1\"; model = \"m\"; points = ( { name = \"a\"; dpt = \"1\"; write = \"1/1\"; } ); },\n"
                 "    { id = \"d1\"; model = \"m\"; points = ( { name = \"a\"; dpt = \"1\"; write = \"1/2\"; } ); } );\n",
                 "knx.conf:4: device id 'd1' is used twice");
    expect_error("  devices = (\n"
                 "    { id = \"d1\"; model = \"m\"; points = ( { name = \"a\"; dpt = \"1\"; write = \"1/1\"; } ); },\n"
                 "    { id = \"d2\"; model = \"m\"; points = ( { name = \"a\"; dpt = \"9\"; write = \"1/2\"; } ); } );\n",
                 "knx.conf:4: device 'd2' declares model 'm' with other points (names, types or access) than device "
                 "'d1'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
