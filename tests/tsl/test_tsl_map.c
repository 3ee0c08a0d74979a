/*
 * Tests of the conf.d `models` mapping (core/tsl/tsl_map.c and
 * tsl_map_convert.c): parsing, every load-time error with its exact
 * file:line, the check against a declared device model, and the conversions
 * both ways (scale/offset, value maps, renames, property set/get requests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsl_map.h"

static gw_tsl_models_t *models;

/* Collected "file:line: message" lines, file reduced to its base name. */
typedef struct errlist {
    char lines[64][320];
    int n;
} errlist_t;

static void collect(void *ctx, const config_setting_t *at, const char *file, int line, const char *msg)
{
    errlist_t *e = ctx;
    if (at) /* the setting agrees with file:line */
        assert_int_equal(config_setting_source_line(at), line);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    if (e->n < 64)
        snprintf(e->lines[e->n++], sizeof e->lines[0], "%s:%d: %s", base, line, msg);
}

static int setup(void **state)
{
    (void)state;
    char err[512];
    models = gw_tsl_models_new();
    if (gw_tsl_models_load_dir(models, TSL_TEST_DATA "/models", err, sizeof err) != 0) {
        fprintf(stderr, "%s", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_tsl_models_free(models);
    return 0;
}

/* Loads conf file @p name and parses its `models` group. */
static gw_tsl_mapping_t *load(config_t *cfg, const char *name, errlist_t *errs, int *n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/map/%s", TSL_TEST_DATA, name);
    config_init(cfg);
    if (!config_read_file(cfg, path))
        fail_msg("%s:%d: %s", path, config_error_line(cfg), config_error_text(cfg));
    return gw_tsl_mapping_parse(config_lookup(cfg, "models"), models, collect, errs, n);
}

static gw_tsl_mapping_t *good(config_t *cfg)
{
    errlist_t errs = { .n = 0 };
    int n = -1;
    gw_tsl_mapping_t *map = load(cfg, "good.conf", &errs, &n);
    for (int i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    assert_int_equal(n, 0);
    assert_non_null(map);
    return map;
}

static void test_parse_good(void **state)
{
    (void)state;
    config_t cfg;
    gw_tsl_mapping_t *map = good(&cfg);
    assert_int_equal(map->n_models, 2);
    const gw_tsl_model_map_t *mm = gw_tsl_mapping_model(map, "thermometer");
    assert_non_null(mm);
    assert_string_equal(mm->tsl->product_key, "a1ThermoPK");
    assert_int_equal(mm->full_report_ms, 300000);
    assert_int_equal(mm->n_points, 9);
    const gw_tsl_point_map_t *pm = gw_tsl_map_point(mm, "temperature");
    assert_true(pm->linear && pm->scale == 0.1 && pm->offset == -40.0 && pm->deadband == 0.2);
    assert_int_equal(pm->line, 8);
    assert_ptr_equal(gw_tsl_map_property(mm, "Temperature"), pm);
    assert_int_equal(gw_tsl_map_point(mm, "mode")->n_pairs, 3);
    assert_false(gw_tsl_map_point(mm, "label")->writable);
    assert_true(gw_tsl_map_point(mm, "mode")->writable);
    assert_false(gw_tsl_map_point(mm, "count")->writable); /* TSL "r" */
    assert_null(gw_tsl_map_point(mm, "nope"));
    assert_non_null(gw_tsl_map_service(mm, "calibrate"));
    assert_ptr_equal(gw_tsl_map_service_tsl(mm, "ResetEnergy"), gw_tsl_map_service(mm, "reset_energy"));
    assert_non_null(gw_tsl_map_event(mm, "over_temperature"));
    assert_null(gw_tsl_mapping_model(map, "light"));
    assert_non_null(gw_tsl_mapping_model(map, "switch"));
    gw_tsl_mapping_free(map);
    config_destroy(&cfg);
}

static const char *const bad_expected[] = {
    "bad.conf:4: unknown setting 'colour' in a model mapping (known: product_key, full_report_s, points, services, events)",
    "bad.conf:5: setting 'full_report_s' must be 0..604800, not -1",
    "bad.conf:7: product a1ThermoPK has no property 'Temprature'",
    "bad.conf:8: 'scale' must not be 0",
    "bad.conf:9: map value refused by the TSL: Mode: 2 is not an enum key (0,1,5)",
    "bad.conf:10: 'scale'/'offset' need a TSL int, float or double property; 'Label' is text",
    "bad.conf:11: 'map' needs a TSL enum, bool, int or text property; 'Color' is struct",
    "bad.conf:12: 'deadband' must be >= 0",
    "bad.conf:13: property 'Temperature' is read-only in the TSL (accessMode \"r\"): it cannot be writable",
    "bad.conf:16: unknown setting 'units' in a point (known: point, property, scale, offset, map, deadband, writable)",
    "bad.conf:16: product a1ThermoPK has no property 'Setpoint2'",
    "bad.conf:17: missing required setting 'point'",
    "bad.conf:18: map point value appears twice",
    "bad.conf:19: setting 'scale' must be a number, not a string",
    /* libconfig gives a scalar list element the line of the token after it (the ")" on 21) */
    "bad.conf:21: each entry of 'points' must be a group { point = …; property = …; }",
    "bad.conf:14: point 'h' is mapped twice",
    "bad.conf:15: property 'Temperature' is mapped from two points ('y' and 'z')",
    "bad.conf:22: product a1ThermoPK has no service 'Reboot'",
    "bad.conf:22: 'Offst' is not a parameter of the TSL item",
    "bad.conf:23: unknown setting 'what' in an event (known: event, tsl, params)",
    "bad.conf:25: no TSL model for ProductKey 'a1NoSuchPK' in the models directory",
    "bad.conf:26: model 'light' must be a group { product_key = …; points = ( … ); }",
};

static void test_parse_bad(void **state)
{
    (void)state;
    config_t cfg;
    errlist_t errs = { .n = 0 };
    int n = 0;
    gw_tsl_mapping_t *map = load(&cfg, "bad.conf", &errs, &n);
    assert_null(map);
    size_t ne = sizeof bad_expected / sizeof bad_expected[0];
    int missing = 0;
    for (size_t i = 0; i < ne; i++) {
        bool found = false;
        for (int k = 0; k < errs.n && !found; k++)
            found = strcmp(errs.lines[k], bad_expected[i]) == 0;
        if (!found) {
            fprintf(stderr, "missing: %s\n", bad_expected[i]);
            missing++;
        }
    }
    if (missing || errs.n != (int)ne)
        for (int k = 0; k < errs.n; k++)
            fprintf(stderr, "got: %s\n", errs.lines[k]);
    assert_int_equal(missing, 0);
    assert_int_equal(errs.n, (int)ne);
    assert_int_equal(n, (int)ne);
    assert_int_equal(gw_tsl_mapping_validate(config_lookup(&cfg, "models"), models, NULL, NULL), (int)ne);
    config_destroy(&cfg);

    /* not a group at all */
    config_init(&cfg);
    assert_true(config_read_string(&cfg, "models = 5;"));
    assert_int_equal(gw_tsl_mapping_validate(config_lookup(&cfg, "models"), models, NULL, NULL), 1);
    config_destroy(&cfg);
}

static void test_check_device(void **state)
{
    (void)state;
    config_t cfg;
    gw_tsl_mapping_t *map = good(&cfg);
    static const gw_tsl_dev_point_t pts_ok[] = {
        { "temperature", LGW_TYPE_INT, LGW_ACCESS_READ },
        { "humidity", LGW_TYPE_FLOAT, LGW_ACCESS_READ },
        { "mode", LGW_TYPE_TEXT, LGW_ACCESS_RW },
        { "power", LGW_TYPE_INT, LGW_ACCESS_RW }, /* mixed map: int and text */
        { "setpoint", LGW_TYPE_INT, LGW_ACCESS_RW },
        { "label", LGW_TYPE_TEXT, LGW_ACCESS_READ },
        { "color", LGW_TYPE_STRUCT, LGW_ACCESS_RW },
        { "count", LGW_TYPE_DOUBLE, LGW_ACCESS_READ },
        { "seen", LGW_TYPE_INT, LGW_ACCESS_READ },
    };
    static const char *const svcs[] = { "calibrate" };
    static const char *const evs[] = { "over_temperature" };
    gw_tsl_dev_model_t dm = { "thermometer", 9, pts_ok, 1, svcs, 1, evs };
    errlist_t errs = { .n = 0 };
    int n = gw_tsl_mapping_check_device(map, &dm, collect, &errs);
    const char *want[] = {
        "good.conf:15: point 'count' (double) cannot map to property 'Counter' (int): a fractional point for an int "
        "property needs 'scale' (values are rounded)",
        "good.conf:11: point 'power' (int) cannot map to property 'PowerSwitch' (bool): the map mixes point value kinds",
        "good.conf:20: model 'thermometer' has no service 'reset_energy'",
    };
    for (int k = 0; n != 3 && k < errs.n; k++)
        fprintf(stderr, "check: %s\n", errs.lines[k]);
    assert_int_equal(n, errs.n);
    assert_int_equal(n, 3);
    assert_string_equal(errs.lines[0], want[0]);
    assert_string_equal(errs.lines[1], want[1]);
    assert_string_equal(errs.lines[2], want[2]);
    assert_int_equal(gw_tsl_map_point(gw_tsl_mapping_model(map, "thermometer"), "mode")->point_type,
                     LGW_TYPE_TEXT);

    /* unknown point, read-only point behind a writable property, missing event */
    static const gw_tsl_dev_point_t pts2[] = {
        { "on", LGW_TYPE_BOOL, LGW_ACCESS_READ },
    };
    gw_tsl_dev_model_t sw = { "switch", 1, pts2, 0, NULL, 0, NULL };
    errs.n = 0;
    assert_int_equal(gw_tsl_mapping_check_device(map, &sw, collect, &errs), 1);
    assert_string_equal(errs.lines[0], "good.conf:28: property 'PowerSwitch' is writable in the TSL but point 'on' "
                                       "is read-only (add writable = false)");
    static const gw_tsl_dev_point_t pts3[] = {
        { "onoff", LGW_TYPE_BOOL, LGW_ACCESS_RW },
        { "level", LGW_TYPE_INT, LGW_ACCESS_RW },
    };
    gw_tsl_dev_model_t sw3 = { "switch", 2, pts3, 0, NULL, 0, NULL };
    errs.n = 0;
    assert_int_equal(gw_tsl_mapping_check_device(map, &sw3, collect, &errs), 1);
    assert_string_equal(errs.lines[0], "good.conf:28: model 'switch' has no point 'on' (points: onoff, level)");
    gw_tsl_dev_model_t other = { "light", 0, NULL, 0, NULL, 0, NULL };
    assert_int_equal(gw_tsl_mapping_check_device(map, &other, collect, &errs), 0);
    gw_tsl_mapping_free(map);
    config_destroy(&cfg);
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(j);
    return s;
}

/* Uplink conversion of @p v (freed) through point @p point; compares JSON text or error code. */
static void up(const gw_tsl_model_map_t *mm, const char *point, lgw_value_t *v, int code, const char *want)
{
    json_t *j = NULL;
    gw_tsl_err_t err;
    int rc = gw_tsl_point_to_json(gw_tsl_map_point(mm, point), v, &j, &err);
    lgw_value_free(v);
    if (rc != code)
        fail_msg("%s: expected code %d, got %d (%s)", point, code, rc, err.msg);
    if (rc) {
        assert_null(j);
        if (want && !strstr(err.msg, want))
            fail_msg("%s: expected \"%s\" in \"%s\"", point, want, err.msg);
        return;
    }
    char *s = dump(j);
    if (strcmp(s, want) != 0)
        fail_msg("%s: expected %s, got %s", point, want, s);
    free(s);
}

/* Downlink conversion of JSON @p text through property @p prop; compares the value rendering. */
static void down(const gw_tsl_model_map_t *mm, const char *prop, const char *text, int code, lgw_type_t type,
                 const char *want)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    lgw_value_t *v = NULL;
    gw_tsl_err_t err;
    int rc = gw_tsl_point_from_json(gw_tsl_map_property(mm, prop), j, 0, &v, &err);
    json_decref(j);
    if (rc != code)
        fail_msg("%s=%s: expected code %d, got %d (%s)", prop, text, code, rc, err.msg);
    if (rc) {
        assert_null(v);
        if (want && !strstr(err.msg, want))
            fail_msg("%s: expected \"%s\" in \"%s\"", prop, want, err.msg);
        return;
    }
    char buf[128];
    lgw_value_to_string(v, buf, sizeof buf);
    if (lgw_value_type(v) != type || strcmp(buf, want) != 0)
        fail_msg("%s=%s: expected %s %s, got %s %s", prop, text, lgw_type_name(type), want,
                 lgw_type_name(lgw_value_type(v)), buf);
    lgw_value_free(v);
}

static void test_conversions(void **state)
{
    (void)state;
    config_t cfg;
    gw_tsl_mapping_t *map = good(&cfg);
    const gw_tsl_model_map_t *mm = gw_tsl_mapping_model(map, "thermometer");

    /* scale 0.1, offset -40: raw 636 → 23.6 */
    up(mm, "temperature", lgw_value_new_int(636), 0, "23.6");
    up(mm, "temperature", lgw_value_new_float(636.0f), 0, "23.6");
    up(mm, "temperature", lgw_value_new_int(0), 0, "-40.0");
    up(mm, "temperature", lgw_value_new_int(1651), 6307, "Temperature: 125.1 is above max 125");
    /* scaled values leave with the step's decimals, not binary noise (114 * 0.1 - 40) */
    up(mm, "temperature", lgw_value_new_int(514), 0, "11.4");
    up(mm, "temperature", lgw_value_new_float(514.04f), 0, "11.4");
    up(mm, "temperature", lgw_value_new_text("x"), 6307, "point 'temperature' is not a number (text)");
    up(mm, "temperature", lgw_value_new_double(NAN), 6307, "not finite");
    down(mm, "Temperature", "23.6", 0, LGW_TYPE_DOUBLE, "636");
    /* scale 5 on an int: point 3 → 15; downlink 15 → INT 3 (no point type known) */
    up(mm, "setpoint", lgw_value_new_int(3), 0, "15");
    up(mm, "setpoint", lgw_value_new_double(2.9), 0, "15"); /* 14.5 rounds to 15 */
    up(mm, "setpoint", lgw_value_new_int(8), 6306, "Setpoint: 40 is above max 35");
    down(mm, "Setpoint", "15", 0, LGW_TYPE_INT, "3");
    down(mm, "Setpoint", "\"25\"", 0, LGW_TYPE_INT, "5");
    down(mm, "Setpoint", "12", 6306, 0, "not on step");
    /* group map: text points ⇄ enum keys */
    up(mm, "mode", lgw_value_new_text("eco"), 0, "5");
    up(mm, "mode", lgw_value_new_text("turbo"), 6309, "point 'mode' value \"turbo\" is not in the map");
    up(mm, "mode", lgw_value_new_int(0), 6309, "is not in the map");
    down(mm, "Mode", "1", 0, LGW_TYPE_TEXT, "\"manual\"");
    down(mm, "Mode", "\"5\"", 0, LGW_TYPE_TEXT, "\"eco\"");
    down(mm, "Mode", "2", 6309, 0, "2 is not an enum key");
    /* list map: mixed point values ⇄ bool */
    up(mm, "power", lgw_value_new_text("on off"), 0, "0");
    up(mm, "power", lgw_value_new_int(7), 0, "1");
    up(mm, "power", lgw_value_new_enum(7), 0, "1");
    up(mm, "power", lgw_value_new_bool(true), 6308, "not in the map");
    down(mm, "PowerSwitch", "true", 0, LGW_TYPE_INT, "7");
    down(mm, "PowerSwitch", "0", 0, LGW_TYPE_TEXT, "\"on off\"");
    /* plain typed conversions */
    up(mm, "humidity", lgw_value_new_float(55.5f), 0, "55.5");
    up(mm, "humidity", lgw_value_new_int(101), 6322, "above max 100");
    up(mm, "count", lgw_value_new_int(-7), 0, "-7");
    up(mm, "count", lgw_value_new_int(INT64_C(3000000000)), 6306, "outside the 32-bit int range");
    up(mm, "seen", lgw_value_new_int(1524448722000LL), 0, "\"1524448722000\"");
    up(mm, "label", lgw_value_new_text("hello"), 0, "\"hello\"");
    down(mm, "Humidity", "40", 0, LGW_TYPE_DOUBLE, "40");
    down(mm, "LastSeen", "\"1000\"", 0, LGW_TYPE_DATE, "1000");
    down(mm, "Color", "{\"R\":1,\"G\":2,\"B\":3}", 0, LGW_TYPE_STRUCT, "{\"R\":1,\"G\":2,\"B\":3}");
    gw_tsl_mapping_free(map);
    config_destroy(&cfg);
}

/* With the device's declared point types the downlink produces exactly those types. */
static void test_conversions_typed(void **state)
{
    (void)state;
    config_t cfg;
    gw_tsl_mapping_t *map = good(&cfg);
    static const gw_tsl_dev_point_t pts[] = {
        { "temperature", LGW_TYPE_INT, LGW_ACCESS_READ }, { "humidity", LGW_TYPE_FLOAT, LGW_ACCESS_READ },
        { "mode", LGW_TYPE_TEXT, LGW_ACCESS_RW },         { "power", LGW_TYPE_INT, LGW_ACCESS_RW },
        { "setpoint", LGW_TYPE_FLOAT, LGW_ACCESS_RW },    { "label", LGW_TYPE_TEXT, LGW_ACCESS_READ },
        { "color", LGW_TYPE_STRUCT, LGW_ACCESS_RW },      { "count", LGW_TYPE_INT, LGW_ACCESS_READ },
        { "seen", LGW_TYPE_INT, LGW_ACCESS_READ },
    };
    gw_tsl_dev_model_t dm = { "thermometer", 9, pts, 0, NULL, 0, NULL };
    gw_tsl_mapping_check_device(map, &dm, NULL, NULL); /* power/services errors ignored here */
    const gw_tsl_model_map_t *mm = gw_tsl_mapping_model(map, "thermometer");
    down(mm, "Temperature", "23.65", 6307, LGW_TYPE_INT, "not on step");
    down(mm, "Temperature", "23.6", 0, LGW_TYPE_INT, "636");
    down(mm, "Setpoint", "15", 0, LGW_TYPE_FLOAT, "3");
    down(mm, "Humidity", "40", 0, LGW_TYPE_FLOAT, "40");
    down(mm, "LastSeen", "\"1000\"", 0, LGW_TYPE_INT, "1000");
    gw_tsl_mapping_free(map);
    config_destroy(&cfg);
}

static void test_requests(void **state)
{
    (void)state;
    config_t cfg;
    gw_tsl_mapping_t *map = good(&cfg);
    const gw_tsl_model_map_t *mm = gw_tsl_mapping_model(map, "thermometer");
    gw_tsl_err_t err;
    lgw_value_t *v = NULL;
    char buf[256];

    json_t *p = json_loads("{\"Mode\":1,\"Setpoint\":\"35\",\"PowerSwitch\":1}", 0, NULL);
    assert_int_equal(gw_tsl_map_property_set(mm, p, 0, &v, &err), 0);
    lgw_value_to_string(v, buf, sizeof buf);
    assert_string_equal(buf, "{\"mode\":\"manual\",\"setpoint\":7,\"power\":7}");
    lgw_value_free(v);
    json_decref(p);

    static const struct {
        const char *params;
        int code;
        const char *msg;
    } bad[] = {
        { "{\"Temperature\":20}", 460, "Temperature: property is read-only" },
        { "{\"Label\":\"x\"}", 460, "Label: property is not writable on this device" },
        { "{\"Names\":[]}", 460, "Names: property is not mapped to a device point" },
        { "{\"Nope\":1}", 6320, "Nope: property not defined in the TSL" },
        { "{\"Mode\":1,\"Setpoint\":36}", 6306, "Setpoint: 36 is above max 35" },
        { "{}", 460, "non-empty object" },
        { "[]", 460, NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = json_loads(bad[i].params, JSON_DECODE_ANY, NULL);
        v = (lgw_value_t *)1;
        int rc = gw_tsl_map_property_set(mm, p, 0, &v, &err);
        json_decref(p);
        if (rc != bad[i].code || v || (bad[i].msg && !strstr(err.msg, bad[i].msg)))
            fail_msg("%s: expected %d %s, got %d %s", bad[i].params, bad[i].code, bad[i].msg ? bad[i].msg : "", rc,
                     err.msg);
    }

    p = json_loads("[\"Temperature\",\"Mode\"]", 0, NULL);
    assert_int_equal(gw_tsl_map_property_get(mm, p, &v, &err), 0);
    lgw_value_to_string(v, buf, sizeof buf);
    assert_string_equal(buf, "[\"temperature\",\"mode\"]");
    lgw_value_free(v);
    json_decref(p);
    p = json_loads("[\"Samples\"]", 0, NULL);
    assert_int_equal(gw_tsl_map_property_get(mm, p, &v, &err), 460);
    json_decref(p);
    p = json_loads("[\"Nope\"]", 0, NULL);
    assert_int_equal(gw_tsl_map_property_get(mm, p, &v, &err), 6320);
    json_decref(p);

    /* services: TSL → plugin names, plugin output → TSL names */
    const gw_tsl_service_map_t *sm = gw_tsl_map_service(mm, "calibrate");
    p = json_loads("{\"Offset\":\"-1.5\"}", 0, NULL);
    assert_int_equal(gw_tsl_map_service_input(sm, p, 0, &v, &err), 0);
    lgw_value_to_string(v, buf, sizeof buf);
    assert_string_equal(buf, "{\"offset\":-1.5}");
    lgw_value_free(v);
    json_decref(p);
    p = json_loads("{}", 0, NULL);
    assert_int_equal(gw_tsl_map_service_input(sm, p, 0, &v, &err), 6302);
    json_decref(p);
    lgw_value_t *o = lgw_value_new_struct();
    lgw_value_struct_set(o, "result", lgw_value_new_int(1));
    json_t *j = NULL;
    assert_int_equal(gw_tsl_map_service_output(sm, o, &j, &err), 0);
    char *s = dump(j);
    assert_string_equal(s, "{\"Result\":1}");
    free(s);
    lgw_value_struct_set(o, "extra", lgw_value_new_int(1));
    assert_int_equal(gw_tsl_map_service_output(sm, o, &j, &err), 460);
    assert_non_null(strstr(err.msg, "extra: not a parameter of this service"));
    lgw_value_free(o);
    assert_int_equal(gw_tsl_map_service_output(gw_tsl_map_service(mm, "reset_energy"), NULL, &j, &err), 0);
    s = dump(j);
    assert_string_equal(s, "{}");
    free(s);

    /* events */
    const gw_tsl_event_map_t *em = gw_tsl_map_event(mm, "over_temperature");
    lgw_value_t *d = lgw_value_new_struct();
    lgw_value_struct_set(d, "temperature", lgw_value_new_float(88.8f));
    lgw_value_struct_set(d, "Level", lgw_value_new_enum(2));
    assert_int_equal(gw_tsl_map_event_output(em, d, &j, &err), 0);
    s = dump(j);
    assert_string_equal(s, "{\"Temperature\":88.8,\"Level\":2}");
    free(s);
    lgw_value_struct_set(d, "Level", lgw_value_new_enum(9));
    assert_int_equal(gw_tsl_map_event_output(em, d, &j, &err), 6309);
    lgw_value_free(d);
    d = lgw_value_new_int(3);
    assert_int_equal(gw_tsl_map_event_output(em, d, &j, &err), 460);
    lgw_value_free(d);
    gw_tsl_mapping_free(map);
    config_destroy(&cfg);
}

/* A bool point mapped to an enum with the list form (true/false point values). */
static void test_bool_point_map(void **state)
{
    (void)state;
    config_t cfg;
    config_init(&cfg);
    assert_true(config_read_string(&cfg, "models = { sw = { product_key = \"a1ThermoPK\";\n"
                                         "  points = ( { point = \"auto\"; property = \"Mode\"; "
                                         "map = ( (true, 0), (false, 1) ); } ); }; };"));
    int n = -1;
    gw_tsl_mapping_t *map = gw_tsl_mapping_parse(config_lookup(&cfg, "models"), models, NULL, NULL, &n);
    assert_int_equal(n, 0);
    const gw_tsl_model_map_t *mm = gw_tsl_mapping_model(map, "sw");
    static const gw_tsl_dev_point_t pts[] = { { "auto", LGW_TYPE_BOOL, LGW_ACCESS_RW } };
    gw_tsl_dev_model_t dm = { "sw", 1, pts, 0, NULL, 0, NULL };
    assert_int_equal(gw_tsl_mapping_check_device(map, &dm, NULL, NULL), 0);
    up(mm, "auto", lgw_value_new_bool(true), 0, "0");
    up(mm, "auto", lgw_value_new_bool(false), 0, "1");
    up(mm, "auto", lgw_value_new_int(1), 6309, "not in the map");
    down(mm, "Mode", "1", 0, LGW_TYPE_BOOL, "false");
    down(mm, "Mode", "5", 6309, 0, "5 has no point value in the map");
    gw_tsl_mapping_free(map);
    config_destroy(&cfg);

    /* a bool point cannot take a map written for integers */
    config_init(&cfg);
    assert_true(config_read_string(&cfg, "models = { sw = { product_key = \"a1ThermoPK\";\n"
                                         "  points = ( { point = \"auto\"; property = \"Mode\"; "
                                         "map = ( (1, 0), (0, 1) ); } ); }; };"));
    map = gw_tsl_mapping_parse(config_lookup(&cfg, "models"), models, NULL, NULL, &n);
    errlist_t errs = { .n = 0 };
    assert_int_equal(gw_tsl_mapping_check_device(map, &dm, collect, &errs), 1);
    assert_string_equal(errs.lines[0], "<config>:2: point 'auto' (bool) cannot map to property 'Mode' (enum): the "
                                       "map's point values do not have the point's type");
    gw_tsl_mapping_free(map);
    config_destroy(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_check_device),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_conversions_typed),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_bool_point_map),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
