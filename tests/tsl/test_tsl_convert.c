/*
 * Tests of the lgw_value_t ⇄ JSON conversions guided by the TSL type
 * (core/tsl/tsl_convert.c): every type both ways, lenient input forms,
 * canonical output, type and range errors, and round trips.
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

#include "tsl_convert.h"

static gw_tsl_model_t *thermo;

static int setup(void **state)
{
    (void)state;
    char err[512];
    thermo = gw_tsl_model_load_file(TSL_TEST_DATA "/models/thermo.json", err, sizeof err);
    if (!thermo)
        fprintf(stderr, "%s\n", err);
    return thermo ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gw_tsl_model_free(thermo);
    return 0;
}

static const gw_tsl_datatype_t *T(const char *prop)
{
    const gw_tsl_property_t *p = gw_tsl_model_property(thermo, prop);
    assert_non_null(p);
    return &p->type;
}

static lgw_value_t *from(const char *prop, const char *json, int expect_code)
{
    json_error_t je;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &je);
    assert_non_null(j);
    lgw_value_t *v = NULL;
    gw_tsl_err_t err;
    int rc = gw_tsl_value_from_json(T(prop), j, prop, 0, &v, &err);
    json_decref(j);
    if (rc != expect_code)
        fail_msg("%s=%s: expected %d, got %d (%s)", prop, json, expect_code, rc, err.msg);
    if (rc)
        assert_null(v);
    return v;
}

static void test_from_json(void **state)
{
    (void)state;
    lgw_value_t *v;
    double d;
    int64_t i;
    bool b;

    v = from("Temperature", "\"30.5\"", 0);
    assert_int_equal(lgw_value_type(v), LGW_TYPE_FLOAT);
    lgw_value_get_double(v, &d);
    assert_true(d == 30.5);
    lgw_value_free(v);

    v = from("Humidity", "55", 0);
    assert_int_equal(lgw_value_type(v), LGW_TYPE_DOUBLE);
    lgw_value_free(v);

    v = from("Setpoint", "20.0", 0);
    assert_int_equal(lgw_value_type(v), LGW_TYPE_INT);
    lgw_value_get_int(v, &i);
    assert_int_equal(i, 20);
    lgw_value_free(v);

    v = from("PowerSwitch", "true", 0);
    assert_int_equal(lgw_value_type(v), LGW_TYPE_BOOL);
    lgw_value_get_bool(v, &b);
    assert_true(b);
    lgw_value_free(v);
    v = from("PowerSwitch", "0", 0);
    lgw_value_get_bool(v, &b);
    assert_false(b);
    lgw_value_free(v);

    v = from("Mode", "\"5\"", 0);
    assert_int_equal(lgw_value_type(v), LGW_TYPE_ENUM);
    lgw_value_get_int(v, &i);
    assert_int_equal(i, 5);
    lgw_value_free(v);

    v = from("LastSeen", "\"1524448722000\"", 0);
    assert_int_equal(lgw_value_type(v), LGW_TYPE_DATE);
    lgw_value_get_int(v, &i);
    assert_int_equal(i, 1524448722000LL);
    lgw_value_free(v);

    v = from("Label", "\"h\\u00e9\"", 0);
    const char *s;
    size_t len;
    lgw_value_get_text(v, &s, &len);
    assert_string_equal(s, "h\xc3\xa9");
    assert_int_equal(len, 3);
    lgw_value_free(v);

    v = from("Zones", "[{\"On\":1,\"Id\":3},{\"Id\":4,\"On\":0}]", 0);
    assert_int_equal(lgw_value_type(v), LGW_TYPE_ARRAY);
    assert_int_equal(lgw_value_count(v), 2);
    const lgw_value_t *z = lgw_value_array_at(v, 0);
    const char *name;
    assert_int_equal(lgw_value_type(z), LGW_TYPE_STRUCT);
    lgw_value_struct_at(z, 0, &name);
    assert_string_equal(name, "Id"); /* model order, not JSON order */
    lgw_value_get_int(lgw_value_struct_get(z, "Id"), &i);
    assert_int_equal(i, 3);
    assert_int_equal(lgw_value_type(lgw_value_struct_get(z, "On")), LGW_TYPE_BOOL);
    lgw_value_free(v);

    assert_null(from("Temperature", "\"NaN\"", 6307));
    assert_null(from("Counter", "2147483648", 6306));
    assert_null(from("Color", "{\"R\":1}", 6312));
    assert_null(from("Zones", "[{\"Id\":0,\"On\":0}]", 6324));
}

static json_t *to(const char *prop, lgw_value_t *v, int expect_code, const char *msg)
{
    json_t *j = NULL;
    gw_tsl_err_t err;
    int rc = gw_tsl_value_to_json(T(prop), v, prop, 0, &j, &err);
    lgw_value_free(v);
    if (rc != expect_code || (msg && !strstr(err.msg, msg)))
        fail_msg("%s: expected %d \"%s\", got %d \"%s\"", prop, expect_code, msg ? msg : "", rc, err.msg);
    if (rc)
        assert_null(j);
    return j;
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(j);
    return s;
}

#define ASSERT_JSON(jexpr, text)          \
    do {                                   \
        char *s_ = dump(jexpr);            \
        assert_non_null(s_);               \
        assert_string_equal(s_, text);     \
        free(s_);                          \
    } while (0)

static void test_to_json(void **state)
{
    (void)state;
    json_t *j = to("Temperature", lgw_value_new_float(23.6f), 0, NULL);
    assert_true(json_real_value(j) == 23.6); /* shortest decimal of the float */
    json_decref(j);
    ASSERT_JSON(to("Temperature", lgw_value_new_int(20), 0, NULL), "20.0");
    ASSERT_JSON(to("Humidity", lgw_value_new_double(55.55), 0, NULL), "55.55");
    ASSERT_JSON(to("Setpoint", lgw_value_new_double(25.0), 0, NULL), "25");
    ASSERT_JSON(to("Setpoint", lgw_value_new_enum(10), 0, NULL), "10");
    ASSERT_JSON(to("PowerSwitch", lgw_value_new_bool(true), 0, NULL), "1");
    ASSERT_JSON(to("PowerSwitch", lgw_value_new_int(0), 0, NULL), "0");
    ASSERT_JSON(to("Mode", lgw_value_new_enum(5), 0, NULL), "5");
    ASSERT_JSON(to("LastSeen", lgw_value_new_date(1524448722000LL), 0, NULL), "\"1524448722000\"");
    ASSERT_JSON(to("Label", lgw_value_new_text("abc"), 0, NULL), "\"abc\"");

    lgw_value_t *c = lgw_value_new_struct();
    lgw_value_struct_set(c, "R", lgw_value_new_int(1));
    lgw_value_struct_set(c, "G", lgw_value_new_int(2));
    lgw_value_struct_set(c, "B", lgw_value_new_int(3));
    ASSERT_JSON(to("Color", c, 0, NULL), "{\"R\":1,\"G\":2,\"B\":3}");

    lgw_value_t *zones = lgw_value_new_array(), *zz = lgw_value_new_struct();
    lgw_value_struct_set(zz, "Id", lgw_value_new_int(2));
    lgw_value_struct_set(zz, "On", lgw_value_new_bool(false));
    lgw_value_array_append(zones, zz);
    ASSERT_JSON(to("Zones", zones, 0, NULL), "[{\"Id\":2,\"On\":0}]");

    /* errors */
    to("Setpoint", lgw_value_new_double(25.3), 6306, "Setpoint: 25.3 is not an integer");
    to("Setpoint", lgw_value_new_text("25"), 6306, "Setpoint: int expected, got text");
    to("Setpoint", lgw_value_new_int(40), 6306, "Setpoint: 40 is above max 35");
    to("Counter", lgw_value_new_int(INT64_C(1) << 40), 6306, "outside the 32-bit int range");
    to("Temperature", lgw_value_new_double(NAN), 6307, "not a finite number");
    to("Temperature", lgw_value_new_double(INFINITY), 6307, "not a finite number");
    to("Humidity", lgw_value_new_double(-INFINITY), 6322, "not a finite number");
    to("Temperature", lgw_value_new_bool(true), 6307, "float expected, got bool");
    to("PowerSwitch", lgw_value_new_int(2), 6308, "bool must be 0 or 1");
    to("Mode", lgw_value_new_enum(3), 6309, "3 is not an enum key");
    to("Label", lgw_value_new_text("123456789"), 6310, "longer than 8");
    to("Label", lgw_value_new_text_n("\xff\xfe", 2), 6310, "not valid UTF-8");
    to("LastSeen", lgw_value_new_date(-5), 6311, "outside");
    to("Color", lgw_value_new_int(1), 6312, "struct expected, got int");
    c = lgw_value_new_struct();
    lgw_value_struct_set(c, "R", lgw_value_new_int(1));
    to("Color", c, 6312, "Color.G: struct member missing");
    c = lgw_value_new_struct();
    lgw_value_struct_set(c, "R", lgw_value_new_int(1));
    lgw_value_struct_set(c, "X", lgw_value_new_int(1));
    to("Color", c, 6304, "Color.X: struct has no member 'X'");
    lgw_value_t *a = lgw_value_new_array();
    for (int k = 0; k < 100; k++)
        lgw_value_array_append(a, lgw_value_new_double(k));
    to("Samples", a, 6324, "array of 5 elements exceeds size 4");
    a = lgw_value_new_array();
    lgw_value_array_append(a, lgw_value_new_text("x"));
    to("Samples", a, 6324, "Samples[0]: double expected, got text");
    to("Samples", lgw_value_new_struct(), 6328, "array expected, got struct");
    to("Samples", NULL, 6328, "array expected, got nothing");
}

/* JSON → value → JSON gives the canonical form of the input. */
static void test_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *prop, *in, *out;
    } rt[] = {
        { "Temperature", "23.6", "23.6" },
        { "Temperature", "\"-39.9\"", "-39.9" },
        { "Humidity", "12.34", "12.34" },
        { "Energy", "123456.789", "123456.789" },
        { "Setpoint", "\"15\"", "15" },
        { "Counter", "-2147483648", "-2147483648" },
        { "PowerSwitch", "true", "1" },
        { "Mode", "0", "0" },
        { "Label", "\"\xc3\xa4x\"", "\"\xc3\xa4x\"" },
        { "LastSeen", "1524448722000", "\"1524448722000\"" },
        { "Color", "{\"B\":3,\"G\":2,\"R\":1}", "{\"R\":1,\"G\":2,\"B\":3}" },
        { "Samples", "[1,2.5,-3]", "[1.0,2.5,-3.0]" },
        { "Names", "[\"ab\",\"\"]", "[\"ab\",\"\"]" },
        { "Zones", "[{\"Id\":9,\"On\":\"1\"}]", "[{\"Id\":9,\"On\":1}]" },
    };
    for (size_t k = 0; k < sizeof rt / sizeof rt[0]; k++) {
        lgw_value_t *v = from(rt[k].prop, rt[k].in, 0);
        json_t *j = to(rt[k].prop, v, 0, NULL);
        char *s = dump(j);
        if (strcmp(s, rt[k].out) != 0)
            fail_msg("%s: %s → %s, expected %s", rt[k].prop, rt[k].in, s, rt[k].out);
        free(s);
    }
    /* floats: every float of a grid survives value → JSON → value exactly */
    for (int k = -400; k <= 1250; k++) {
        float f = (float)k / 10.0f;
        json_t *j = to("Temperature", lgw_value_new_float(f), 0, NULL);
        lgw_value_t *v = NULL;
        gw_tsl_err_t err;
        assert_int_equal(gw_tsl_value_from_json(T("Temperature"), j, "t", 0, &v, &err), 0);
        double d;
        lgw_value_get_double(v, &d);
        assert_true((float)d == f);
        lgw_value_free(v);
        json_decref(j);
    }
    assert_true(gw_tsl_float_decimal(0.1f) == 0.1);
    assert_true(gw_tsl_float_decimal(1e-7f) == 1e-7);
}

/* ---- randomised: any JSON value either fails with a code or survives value ⇄ JSON ---- */

static uint32_t rng = 2463534242u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static json_t *gen(int depth)
{
    static const char *const keys[] = { "R", "G", "B", "Id", "On", "value", "time", "x", "" };
    static const json_int_t ints[] = { 0, 1, -1, 5, 35, 255, 2147483647, -2147483648LL, 2147483648LL, INT64_MAX };
    static const double reals[] = { 0.0, 23.6, -40.0, 125.0, 1e308, -1e-308, 0.1, 3.4e38, 1e39, 55.55 };
    static const char *const strs[] = { "", "1", "30.5", "NaN", "1524448722000", "abc", "\xc3\xa4\xc3\xa4", "-0", "1e3" };
    switch (rnd() % (depth > 0 ? 8 : 6)) {
    case 0: return json_null();
    case 1: return json_boolean(rnd() % 2);
    case 2: return json_integer(rnd() % 3 ? ints[rnd() % 10] : (json_int_t)(int32_t)rnd());
    case 3: return json_real(rnd() % 3 ? reals[rnd() % 10] : (double)(int32_t)rnd() / 100.0);
    case 4: return json_string(strs[rnd() % 9]);
    case 5: {
        char buf[40];
        size_t n = rnd() % 12;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('a' + rnd() % 26);
        return json_stringn(buf, n);
    }
    case 6: {
        json_t *a = json_array();
        for (uint32_t i = rnd() % 6; i > 0; i--)
            json_array_append_new(a, gen(depth - 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (uint32_t i = rnd() % 5; i > 0; i--)
            json_object_set_new(o, keys[rnd() % 9], gen(depth - 1));
        return o;
    }
    }
}

/* Device values off the TSL step grid go up on the nearest grid point (the step is the
 * resolution the product states); range checks still apply after that. */
static void test_uplink_snaps_to_step(void **state)
{
    (void)state;
    gw_tsl_datatype_t dt;
    memset(&dt, 0, sizeof dt);
    dt.type = LGW_TYPE_DOUBLE;
    dt.min = -40;
    dt.max = 125;
    dt.step = 0.01;
    dt.has_min = dt.has_max = true;
    static const struct { double in; int code; const char *out; } cases[] = {
        {20.86256, 0, "20.86"}, {20.865001, 0, "20.87"}, {-0.004, 0, "0.0"}, {125.004, 0, "125.0"},
        {125.006, GW_TSL_E_DOUBLE, NULL}, {-40.2, GW_TSL_E_DOUBLE, NULL}, {21.5, 0, "21.5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lgw_value_t *v = lgw_value_new_double(cases[i].in);
        json_t *j = NULL;
        gw_tsl_err_t err;
        int rc = gw_tsl_value_to_json(&dt, v, "T", 0, &j, &err);
        lgw_value_free(v);
        if (rc != cases[i].code)
            fail_msg("%g: expected code %d, got %d (%s)", cases[i].in, cases[i].code, rc, err.msg);
        if (!rc) {
            char *txt = json_dumps(j, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
            if (strcmp(txt, cases[i].out) != 0 && !(strtod(txt, NULL) == strtod(cases[i].out, NULL)))
                fail_msg("%g: expected %s, got %s", cases[i].in, cases[i].out, txt);
            free(txt);
            json_decref(j);
        }
    }
    /* a float sensor value keeps its float-to-decimal reading before the snap */
    dt.type = LGW_TYPE_FLOAT;
    lgw_value_t *v = lgw_value_new_float(20.86256f);
    json_t *j = NULL;
    gw_tsl_err_t err;
    assert_int_equal(gw_tsl_value_to_json(&dt, v, "T", 0, &j, &err), 0);
    assert_true(json_real_value(j) == 20.86);
    json_decref(j);
    lgw_value_free(v);
    /* on the grid within float precision: the grid point, not the float's digits */
    v = lgw_value_new_float(20.980024f);
    assert_int_equal(gw_tsl_value_to_json(&dt, v, "T", 0, &j, &err), 0);
    assert_true(json_real_value(j) == 20.98);
    json_decref(j);
    lgw_value_free(v);
}

/* A double for a TSL float (single precision on the platform) is sent with float precision;
 * for a TSL double it is sent as it is. */
static void test_double_into_float(void **state)
{
    (void)state;
    gw_tsl_datatype_t dt;
    memset(&dt, 0, sizeof dt);
    dt.type = LGW_TYPE_FLOAT;
    dt.min = -1e6; /* the parser always fills the range */
    dt.max = 1e6;
    lgw_value_t *v = lgw_value_new_double(509.2499966270152);
    json_t *j = NULL;
    gw_tsl_err_t err;
    assert_int_equal(gw_tsl_value_to_json(&dt, v, "P", 0, &j, &err), 0);
    assert_true(json_real_value(j) == 509.25);
    json_decref(j);
    dt.type = LGW_TYPE_DOUBLE;
    assert_int_equal(gw_tsl_value_to_json(&dt, v, "P", 0, &j, &err), 0);
    assert_true(json_real_value(j) == 509.2499966270152);
    json_decref(j);
    lgw_value_free(v);
}

static void test_random_values(void **state)
{
    (void)state;
    size_t valid = 0, total = 0;
    for (int round = 0; round < 3000; round++) {
        json_t *j = gen(3);
        for (size_t k = 0; k < thermo->n_properties; k++) {
            const gw_tsl_property_t *p = &thermo->properties[k];
            gw_tsl_err_t e1, e2;
            int rc = gw_tsl_check_value(&p->type, j, p->identifier, 0, &e1);
            lgw_value_t *v = NULL;
            assert_int_equal(gw_tsl_value_from_json(&p->type, j, p->identifier, 0, &v, &e2), rc);
            total++;
            if (rc) {
                assert_true(e1.code == rc && e1.msg[0]);
                assert_null(v);
                continue;
            }
            valid++;
            json_t *back = NULL;
            if (gw_tsl_value_to_json(&p->type, v, p->identifier, GW_TSL_STRICT, &back, &e2) != 0)
                fail_msg("%s: canonical form refused: %s", p->identifier, e2.msg);
            lgw_value_t *v2 = NULL;
            assert_int_equal(gw_tsl_value_from_json(&p->type, back, p->identifier, GW_TSL_STRICT, &v2, &e2), 0);
            char s1[512], s2[512];
            lgw_value_to_string(v, s1, sizeof s1);
            lgw_value_to_string(v2, s2, sizeof s2);
            assert_string_equal(s1, s2);
            lgw_value_free(v);
            lgw_value_free(v2);
            json_decref(back);
        }
        json_decref(j);
    }
    assert_true(valid > 100); /* the generator does hit valid values */
    assert_true(total > valid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_uplink_snaps_to_step),
        cmocka_unit_test(test_double_into_float),
        cmocka_unit_test(test_random_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
