/*
 * Tests of the TSL validators (core/tsl/tsl_validate.c): every data type and
 * its edges (NaN, ±Inf, 32-bit overflow, range, step, wrong JSON types, huge
 * texts, deep structs, arrays of structs, unknown enum keys), and the request
 * checkers (property post/set/get, events, services, pack/post).
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

#include "tsl_validate.h"

static gw_tsl_model_t *thermo;

static int setup(void **state)
{
    (void)state;
    char err[512];
    thermo = gw_tsl_model_load_file(TSL_TEST_DATA "/models/thermo.json", err, sizeof err);
    if (!thermo) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_tsl_model_free(thermo);
    return 0;
}

typedef struct vcase {
    const char *prop;
    const char *json; /* the value, as JSON text */
    unsigned flags;
    int code;
    const char *msg;  /* expected substring of err.msg, or NULL */
} vcase_t;

static const vcase_t cases[] = {
    /* int: Setpoint 5..35 step 5; Counter: whole int32 */
    { "Setpoint", "5", 0, 0, NULL },
    { "Setpoint", "35", 0, 0, NULL },
    { "Setpoint", "20", GW_TSL_STRICT, 0, NULL },
    { "Setpoint", "0", 0, 6306, "Setpoint: 0 is below min 5" },
    { "Setpoint", "40", 0, 6306, "Setpoint: 40 is above max 35" },
    { "Setpoint", "12", 0, 6306, "Setpoint: 12 is not on step 5 from 5" },
    { "Setpoint", "12", GW_TSL_NO_STEP, 0, NULL },
    { "Setpoint", "20.0", 0, 0, NULL },
    { "Setpoint", "20.0", GW_TSL_STRICT, 6306, "20 is not an integer" },
    { "Setpoint", "20.5", 0, 6306, "20.5 is not an integer" },
    { "Setpoint", "\"15\"", 0, 0, NULL },
    { "Setpoint", "\"15\"", GW_TSL_STRICT, 6306, "int expected, got \"15\"" },
    { "Setpoint", "\"15.5\"", 0, 6306, "\"15.5\" is not an integer" },
    { "Setpoint", "\"abc\"", 0, 6306, "int expected, got \"abc\"" },
    { "Setpoint", "true", 0, 6306, "int expected, got true" },
    { "Setpoint", "null", 0, 6306, "int expected, got null" },
    { "Setpoint", "[]", 0, 6306, "int expected, got an array" },
    { "Counter", "2147483647", 0, 0, NULL },
    { "Counter", "-2147483648", 0, 0, NULL },
    { "Counter", "2147483648", 0, 6306, "2147483648 is outside the 32-bit int range" },
    { "Counter", "-2147483649", 0, 6306, "outside the 32-bit int range" },
    { "Counter", "9223372036854775807", 0, 6306, "outside the 32-bit int range" },
    { "Counter", "1e300", 0, 6306, "is outside the 32-bit int range" },
    { "Counter", "1.5", 0, 6306, "1.5 is not an integer" },
    { "Counter", "\"99999999999999999999\"", 0, 6306, "is outside the 32-bit int range" },
    { "Counter", "1e10", 0, 6306, "10000000000 is outside the 32-bit int range" },
    /* float: Temperature -40..125 step 0.1 */
    { "Temperature", "23.6", 0, 0, NULL },
    { "Temperature", "-40", 0, 0, NULL },
    { "Temperature", "125.0", 0, 0, NULL },
    { "Temperature", "0.30000000000000004", 0, 0, NULL },
    { "Temperature", "23.65", 0, 6307, "Temperature: 23.65 is not on step 0.1 from -40" },
    { "Temperature", "125.1", 0, 6307, "Temperature: 125.1 is above max 125" },
    { "Temperature", "-40.1", 0, 6307, "below min -40" },
    { "Temperature", "\"30.5\"", 0, 0, NULL },
    { "Temperature", "\"30.5\"", GW_TSL_STRICT, 6307, "float expected, got \"30.5\"" },
    { "Temperature", "\"NaN\"", 0, 6307, "\"NaN\" is not a finite number" },
    { "Temperature", "\"Infinity\"", 0, 6307, "not a finite number" },
    { "Temperature", "\"-inf\"", 0, 6307, "not a finite number" },
    { "Temperature", "\"1e999\"", 0, 6307, "not a finite number" },
    { "Temperature", "\" 30\"", 0, 6307, "not a finite number" },
    { "Temperature", "\"0x10\"", 0, 6307, "not a finite number" },
    { "Temperature", "true", 0, 6307, "float expected, got true" },
    { "Temperature", "{}", 0, 6307, "float expected, got an object" },
    /* double: Humidity 0..100 step 0.01, Energy step 0.001 */
    { "Humidity", "55.55", 0, 0, NULL },
    { "Humidity", "100", 0, 0, NULL },
    { "Humidity", "55.555", 0, 6322, "not on step" },
    { "Humidity", "-0.01", 0, 6322, "below min 0" },
    { "Humidity", "\"x\"", 0, 6322, "not a finite number" },
    { "Energy", "999999.999", 0, 0, NULL },
    { "Energy", "123456.789", 0, 0, NULL },
    { "Energy", "1e-300", 0, 0, NULL }, /* 0 within tolerance */
    { "Energy", "0.0005", 0, 6322, "not on step" },
    { "Energy", "1e308", 0, 6322, "above max" },
    /* bool */
    { "PowerSwitch", "0", 0, 0, NULL },
    { "PowerSwitch", "1", GW_TSL_STRICT, 0, NULL },
    { "PowerSwitch", "true", 0, 0, NULL },
    { "PowerSwitch", "false", GW_TSL_STRICT, 6308, "bool (0 or 1) expected, got false" },
    { "PowerSwitch", "\"1\"", 0, 0, NULL },
    { "PowerSwitch", "2", 0, 6308, "bool must be 0 or 1, not 2" },
    { "PowerSwitch", "-1", 0, 6308, "not -1" },
    { "PowerSwitch", "1.0", 0, 6308, "bool (0 or 1) expected, got 1" },
    { "PowerSwitch", "\"on\"", 0, 6308, "bool (0 or 1) expected" },
    /* enum: keys 0, 1, 5 */
    { "Mode", "5", 0, 0, NULL },
    { "Mode", "\"1\"", 0, 0, NULL },
    { "Mode", "\"1\"", GW_TSL_STRICT, 6309, "enum key (integer) expected" },
    { "Mode", "2", 0, 6309, "Mode: 2 is not an enum key (0,1,5)" },
    { "Mode", "4294967296", 0, 6309, "is not an enum key" },
    { "Mode", "\"auto\"", 0, 6309, "enum key (integer) expected, got \"auto\"" },
    { "Mode", "1.0", 0, 6309, "enum key (integer) expected" },
    /* text: length 8 bytes */
    { "Label", "\"\"", 0, 0, NULL },
    { "Label", "\"12345678\"", 0, 0, NULL },
    { "Label", "\"123456789\"", 0, 6310, "Label: text of 9 bytes is longer than 8" },
    { "Label", "\"\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\"", 0, 0, NULL },          /* 4 chars, 8 bytes */
    { "Label", "\"\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4x\"", 0, 6310, "9 bytes" }, /* 5 chars, 9 bytes */
    { "Label", "\"a\\u0000b\"", 0, 6310, "NUL character" },
    { "Label", "12", 0, 6310, "text expected, got 12" },
    /* date */
    { "LastSeen", "\"1524448722000\"", 0, 0, NULL },
    { "LastSeen", "1524448722000", GW_TSL_STRICT, 0, NULL },
    { "LastSeen", "\"0\"", 0, 0, NULL },
    { "LastSeen", "\"-1\"", 0, 6311, "date -1 is outside" },
    { "LastSeen", "\"253402300800000\"", 0, 6311, "outside" },
    { "LastSeen", "\"2024-01-01\"", 0, 6311, "date (UTC milliseconds) expected" },
    { "LastSeen", "1.5e12", 0, 6311, "date (UTC milliseconds) expected" },
    /* struct */
    { "Color", "{\"R\":1,\"G\":2,\"B\":3}", 0, 0, NULL },
    { "Color", "{\"R\":1,\"G\":2}", 0, 6312, "Color.B: struct member missing" },
    { "Color", "{\"R\":1,\"G\":2,\"B\":3,\"A\":4}", 0, 6304, "Color.A: struct has no member 'A'" },
    { "Color", "{\"R\":1,\"G\":256,\"B\":3}", 0, 6306, "Color.G: 256 is above max 255" },
    { "Color", "{\"R\":1,\"G\":{\"x\":{\"y\":{\"z\":[[[[1]]]]}}},\"B\":3}", 0, 6306, "Color.G: int expected, got an object" },
    { "Color", "[1,2,3]", 0, 6312, "struct (object) expected, got an array" },
    /* arrays */
    { "Samples", "[]", 0, 0, NULL },
    { "Samples", "[1, 2.5, -3e10, 4]", 0, 0, NULL },
    { "Samples", "[1, 2, 3, 4, 5]", 0, 6324, "Samples: array of 5 elements exceeds size 4" },
    { "Samples", "[1, \"x\"]", 0, 6324, "Samples[1]: \"x\" is not a finite number" },
    { "Samples", "{\"0\":1}", 0, 6328, "array expected, got an object" },
    { "Names", "[\"abcd\", \"\"]", 0, 0, NULL },
    { "Names", "[\"abcde\"]", 0, 6324, "Names[0]: text of 5 bytes is longer than 4" },
    { "Zones", "[{\"Id\":1,\"On\":1},{\"Id\":9,\"On\":0}]", 0, 0, NULL },
    { "Zones", "[{\"Id\":1,\"On\":1},{\"Id\":10,\"On\":0}]", 0, 6324, "Zones[1].Id: 10 is above max 9" },
    { "Zones", "[{\"Id\":1,\"On\":1,\"X\":0}]", 0, 6324, "Zones[0].X: struct has no member 'X'" },
    { "Zones", "[{\"Id\":1}]", 0, 6324, "Zones[0].On: struct member missing" },
    { "Zones", "[[{\"Id\":1,\"On\":1}]]", 0, 6324, "Zones[0]: struct (object) expected" },
    /* unknown property */
    { "Nope", "1", 0, 6320, "Nope: property not defined in the TSL" },
};

static void test_value_cases(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const vcase_t *c = &cases[i];
        json_error_t je;
        json_t *v = json_loads(c->json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!v)
            fail_msg("case %zu: bad test JSON %s: %s", i, c->json, je.text);
        gw_tsl_err_t err;
        int rc = gw_tsl_check_property(thermo, c->prop, v, c->flags, &err);
        json_decref(v);
        if (rc != c->code || err.code != c->code || (c->msg && !strstr(err.msg, c->msg)) ||
            (!c->code && err.msg[0])) {
            fprintf(stderr, "case %zu: %s = %s: expected %d \"%s\", got %d \"%s\"\n", i, c->prop, c->json, c->code,
                    c->msg ? c->msg : "", rc, err.msg);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* Values built in C (NaN and Inf cannot be written as JSON text). */
static void test_non_finite(void **state)
{
    (void)state;
    gw_tsl_err_t err;
    /* jansson refuses to hold NaN/Inf reals; a NULL value is "missing". */
    json_t *nan_v = json_real(NAN);
    json_t *inf_v = json_real(INFINITY);
    assert_null(nan_v);
    assert_null(inf_v);
    assert_int_equal(gw_tsl_check_property(thermo, "Temperature", NULL, 0, &err), 6307);
    assert_non_null(strstr(err.msg, "value missing"));
    /* float range: a double beyond FLT_MAX on an unbounded float */
    const char *j = "{\"profile\":{\"productKey\":\"pk\"},\"properties\":["
                    "{\"identifier\":\"F\",\"accessMode\":\"r\",\"dataType\":{\"type\":\"float\",\"specs\":{}}}]}";
    gw_tsl_model_t *m = gw_tsl_model_parse_text(j, strlen(j), "t", NULL, 0);
    assert_non_null(m);
    json_t *big = json_real(1e39);
    assert_int_equal(gw_tsl_check_property(m, "F", big, 0, &err), 6307);
    assert_non_null(strstr(err.msg, "outside the float range"));
    json_decref(big);
    big = json_real(3.4e38);
    assert_int_equal(gw_tsl_check_property(m, "F", big, 0, &err), 0);
    json_decref(big);
    gw_tsl_model_free(m);
}

static void test_huge_text(void **state)
{
    (void)state;
    const char *j = "{\"profile\":{\"productKey\":\"pk\"},\"properties\":["
                    "{\"identifier\":\"T\",\"accessMode\":\"r\",\"dataType\":{\"type\":\"text\",\"specs\":{\"length\":\"10240\"}}}]}";
    gw_tsl_model_t *m = gw_tsl_model_parse_text(j, strlen(j), "t", NULL, 0);
    assert_non_null(m);
    size_t n = 1u << 20;
    char *s = malloc(n + 1);
    memset(s, 'x', n);
    s[n] = '\0';
    json_t *v = json_stringn(s, 10240);
    gw_tsl_err_t err;
    assert_int_equal(gw_tsl_check_property(m, "T", v, 0, &err), 0);
    json_decref(v);
    v = json_stringn(s, 10241);
    assert_int_equal(gw_tsl_check_property(m, "T", v, 0, &err), 6310);
    json_decref(v);
    v = json_string(s);
    assert_int_equal(gw_tsl_check_property(m, "T", v, 0, &err), 6310);
    assert_non_null(strstr(err.msg, "text of 1048576 bytes is longer than 10240"));
    json_decref(v);
    free(s);
    gw_tsl_model_free(m);
}

/* Messages cut inside a UTF-8 character stay valid UTF-8 (they may go into a JSON reply). */
static void test_messages_utf8(void **state)
{
    (void)state;
    char s[128] = "x";
    for (int i = 0; i < 40; i++)
        strcat(s, "\xc3\xa4");
    json_t *v = json_string(s);
    gw_tsl_err_t err;
    assert_int_equal(gw_tsl_check_property(thermo, "Setpoint", v, 0, &err), 6306);
    json_t *m = json_string(err.msg);
    assert_non_null(m);
    json_decref(m);
    /* unknown identifier made of 2-byte characters, longer than the path buffer */
    json_t *params = json_object();
    char key[400] = "";
    for (int i = 0; i < 150; i++)
        strcat(key, "\xc3\xa4");
    json_object_set_new(params, key, json_integer(1));
    assert_int_equal(gw_tsl_check_property_post(thermo, params, 0, &err), 6320);
    m = json_string(err.msg);
    assert_non_null(m);
    json_decref(m);
    m = json_string(err.path);
    assert_non_null(m);
    json_decref(m);
    json_decref(params);
    json_decref(v);
}

static json_t *J(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, je.text);
    return v;
}

/* Compares a check's outcome with the expected code and message part. */
static void expect_result(int rc, const gw_tsl_err_t *err, const char *text, int code, const char *sub)
{
    if (rc != code || err->code != code || (sub && !strstr(err->msg, sub)))
        fail_msg("%s: expected %d \"%s\", got %d \"%s\"", text, code, sub ? sub : "", rc, err->msg);
}

/* Parses @p text into v, runs @p call_with_v, checks code and message. */
#define EXPECT(call_with_v, text, code, sub)                   \
    do {                                                         \
        json_t *v = J(text);                                     \
        gw_tsl_err_t err;                                        \
        expect_result((call_with_v), &err, text, code, sub);     \
        json_decref(v);                                          \
    } while (0)

static void test_property_post(void **state)
{
    (void)state;
#define POST(text, code, sub) EXPECT(gw_tsl_check_property_post(thermo, v, 0, &err), text, code, sub)
    POST("{}", 0, NULL);
    POST("{\"Temperature\":23.6,\"PowerSwitch\":1}", 0, NULL);
    POST("{\"Temperature\":{\"value\":23.6,\"time\":1524448722000},\"Mode\":{\"value\":5}}", 0, NULL);
    POST("{\"Temperature\":{\"value\":23.6,\"time\":\"1524448722000\"}}", 0, NULL);
    POST("{\"Temperature\":{\"value\":23.6,\"time\":\"yesterday\"}}", 6326, "Temperature: bad time \"yesterday\"");
    POST("{\"Temperature\":{\"value\":23.6,\"time\":-5}}", 6326, NULL);
    POST("{\"Temperature\":{\"value\":200}}", 6307, "Temperature: 200 is above max 125");
    POST("{\"Color\":{\"value\":{\"R\":1,\"G\":2,\"B\":3},\"time\":1}}", 0, NULL);
    POST("{\"Color\":{\"R\":1,\"G\":2,\"B\":3}}", 0, NULL);
    POST("{\"Temperature\":{\"value\":1,\"unit\":\"C\"}}", 6307, "float expected, got an object");
    POST("{\"Nope\":1}", 6320, "Nope: property not defined in the TSL");
    POST("[]", 460, "params: property post params must be an object");
    /* 201 properties → 6106 */
    json_t *big = json_object();
    for (int i = 0; i < 201; i++) {
        char k[16];
        snprintf(k, sizeof k, "P%d", i);
        json_object_set_new(big, k, json_integer(1));
    }
    gw_tsl_err_t err;
    assert_int_equal(gw_tsl_check_property_post(thermo, big, 0, &err), 6106);
    json_decref(big);

    /* entry splitter: a struct with a member called "value" is bare */
    const char *j = "{\"profile\":{\"productKey\":\"pk\"},\"properties\":["
                    "{\"identifier\":\"S\",\"accessMode\":\"r\",\"dataType\":{\"type\":\"struct\",\"specs\":["
                    "{\"identifier\":\"value\",\"dataType\":{\"type\":\"int\"}}]}}]}";
    gw_tsl_model_t *m = gw_tsl_model_parse_text(j, strlen(j), "t", NULL, 0);
    assert_non_null(m);
    json_t *e = J("{\"value\":3}");
    const json_t *val;
    int64_t t;
    assert_int_equal(gw_tsl_post_entry(gw_tsl_model_property(m, "S"), e, &val, &t, &err), 0);
    assert_ptr_equal(val, e);
    assert_int_equal(t, -1);
    assert_int_equal(gw_tsl_post_entry(NULL, e, &val, &t, &err), 0);
    assert_ptr_equal(val, json_object_get(e, "value"));
    json_decref(e);
    gw_tsl_model_free(m);
#undef POST
}

static void test_events_services(void **state)
{
    (void)state;
#define EV(text, code, sub) EXPECT(gw_tsl_check_event_post(thermo, "Overheat", v, 0, &err), text, code, sub)
    EV("{\"value\":{\"Temperature\":90.5,\"Level\":2},\"time\":1524448722000}", 0, NULL);
    EV("{\"value\":{\"Level\":1}}", 0, NULL);
    EV("{\"value\":{\"Level\":3}}", 6309, "Level: 3 is not an enum key (1,2)");
    EV("{\"value\":{\"Other\":3}}", 460, "Other: not a parameter of this event");
    EV("{\"value\":[1]}", 460, "event must be an object");
    EV("{\"time\":1}", 460, "event params need \"value\"");
    EV("{\"value\":{},\"time\":\"x\"}", 6326, NULL);
    EXPECT(gw_tsl_check_event_post(thermo, "Nope", v, 0, &err), "{\"value\":{}}", 5160, "Nope: event not defined");
    EXPECT(gw_tsl_check_event_output(thermo, "Fault", v, 0, &err), "{}", 0, NULL);
#undef EV
#define SV(text, code, sub) EXPECT(gw_tsl_check_service_input(thermo, "Calibrate", v, 0, &err), text, code, sub)
    SV("{\"Offset\":1.25}", 0, NULL);
    SV("{\"Offset\":\"-4.99\"}", 0, NULL);
    SV("{}", 6302, "Offset: service argument missing");
    SV("{\"Offset\":5.01}", 6322, "Offset: 5.01 is above max 5");
    SV("{\"Offset\":1,\"X\":1}", 460, "X: not a parameter of this service");
    SV("[]", 460, "service must be an object");
    EXPECT(gw_tsl_check_service_input(thermo, "ResetEnergy", v, 0, &err), "{}", 0, NULL);
    EXPECT(gw_tsl_check_service_input(thermo, "Nope", v, 0, &err), "{}", 5161, "Nope: service not defined");
    EXPECT(gw_tsl_check_service_output(thermo, "Calibrate", v, 0, &err), "{\"Result\":1}", 0, NULL);
    EXPECT(gw_tsl_check_service_output(thermo, "Calibrate", v, 0, &err), "{\"Result\":2}", 6306, "Result: 2 is above max 1");
#undef SV
}

static void test_property_set_get(void **state)
{
    (void)state;
#define SET(text, code, sub) EXPECT(gw_tsl_check_property_set(thermo, v, 0, &err), text, code, sub)
    SET("{\"PowerSwitch\":1,\"Mode\":0,\"Label\":\"hi\"}", 0, NULL);
    SET("{\"Setpoint\":\"30\"}", 0, NULL);
    SET("{\"Temperature\":20}", 460, "Temperature: property is read-only");
    SET("{\"Nope\":1}", 6320, "Nope: property not defined");
    SET("{\"Setpoint\":31}", 6306, "not on step");
    SET("{}", 460, "non-empty object");
    SET("\"x\"", 460, NULL);
#undef SET
#define GET(text, code, sub) EXPECT(gw_tsl_check_property_get(thermo, v, &err), text, code, sub)
    GET("[\"Temperature\",\"Mode\"]", 0, NULL);
    GET("[]", 0, NULL);
    GET("[\"Temperature\",\"Nope\"]", 6320, "Nope: property not defined");
    GET("[1]", 460, "params[0]: property identifier (string) expected");
    GET("{}", 6301, "property get params must be an array");
#undef GET
}

static void test_pack_post(void **state)
{
    (void)state;
    char err_s[256];
    gw_tsl_models_t *set = gw_tsl_models_new();
    assert_int_equal(gw_tsl_models_load_dir(set, TSL_TEST_DATA "/models", err_s, sizeof err_s), 0);
    const gw_tsl_model_t *gw = gw_tsl_models_find(set, "a1SwitchPK");
#define PACK(text, code, sub) EXPECT(gw_tsl_check_pack_post(set, gw, v, 0, &err), text, code, sub)
    PACK("{\"properties\":{\"PowerSwitch\":{\"value\":1,\"time\":1}},\"subDevices\":[{\"identity\":{\"productKey\":"
         "\"a1ThermoPK\",\"deviceName\":\"t1\"},\"properties\":{\"Temperature\":{\"value\":20.5,\"time\":1}},"
         "\"events\":{\"Overheat\":{\"value\":{\"Level\":1},\"time\":1}}}]}",
         0, NULL);
    PACK("{\"subDevices\":[{\"identity\":{\"productKey\":\"a1ThermoPK\",\"deviceName\":\"t1\"},"
         "\"properties\":{\"Temperature\":{\"value\":200,\"time\":1}}}]}",
         6307, "a1ThermoPK/t1: Temperature: 200 is above max 125");
    PACK("{\"subDevices\":[{\"identity\":{\"productKey\":\"a1Unknown\",\"deviceName\":\"t1\"}}]}", 460,
         "a1Unknown/t1: no TSL model for productKey");
    PACK("{\"subDevices\":[{\"properties\":{}}]}", 460, "subDevices[0]: needs identity");
    PACK("{\"subDevices\":{}}", 460, NULL);
#undef PACK
    /* 21 sub-devices; 201 properties across devices; 21 events */
    json_t *p = json_object(), *subs = json_array();
    json_object_set_new(p, "subDevices", subs);
    for (int i = 0; i < 21; i++) {
        json_t *sd = json_pack("{s:{s:s,s:s},s:{}}", "identity", "productKey", "a1ThermoPK", "deviceName", "d",
                               "properties");
        json_array_append_new(subs, sd);
    }
    gw_tsl_err_t err;
    assert_int_equal(gw_tsl_check_pack_post(set, gw, p, 0, &err), 6357);
    json_array_remove(subs, 20);
    assert_int_equal(gw_tsl_check_pack_post(set, gw, p, 0, &err), 0);
    for (int i = 0; i < 20; i++) {
        json_t *props = json_object_get(json_array_get(subs, (size_t)i), "properties");
        for (int k = 0; k < 10; k++) {
            char id[16];
            snprintf(id, sizeof id, "Temperature");
            (void)k;
            json_object_set_new(props, id, json_real(1.5));
        }
    }
    assert_int_equal(gw_tsl_check_pack_post(set, gw, p, 0, &err), 0); /* 20 properties */
    json_decref(p);

    p = json_object();
    json_t *props = json_object();
    for (int i = 0; i < 201; i++) {
        char id[16];
        snprintf(id, sizeof id, "X%d", i);
        json_object_set_new(props, id, json_integer(1));
    }
    json_object_set_new(p, "properties", props);
    assert_int_equal(gw_tsl_check_pack_post(set, gw, p, 0, &err), 6106);
    json_decref(p);

    p = json_object();
    subs = json_array();
    json_object_set_new(p, "subDevices", subs);
    for (int i = 0; i < 3; i++) {
        json_t *evs = json_object();
        for (int k = 0; k < 7; k++) {
            char id[16];
            snprintf(id, sizeof id, "E%d", k);
            json_object_set_new(evs, id, json_pack("{s:{}}", "value"));
        }
        json_array_append_new(subs, json_pack("{s:{s:s,s:s},s:o}", "identity", "productKey", "a1ThermoPK",
                                              "deviceName", "d", "events", evs));
    }
    assert_int_equal(gw_tsl_check_pack_post(set, gw, p, 0, &err), 6356);
    json_decref(p);
    gw_tsl_models_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_cases),
        cmocka_unit_test(test_non_finite),
        cmocka_unit_test(test_huge_text),
        cmocka_unit_test(test_property_post),
        cmocka_unit_test(test_events_services),
        cmocka_unit_test(test_property_set_get),
        cmocka_unit_test(test_pack_post),
        cmocka_unit_test(test_messages_utf8),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
