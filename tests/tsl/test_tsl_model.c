/*
 * Tests of TSL model parsing (core/tsl/tsl_model.c, tsl_models.c): a model
 * with every data type, the models directory loader, and the exact error for
 * each kind of malformed model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tsl_model.h"

static gw_tsl_model_t *load_thermo(void)
{
    char err[512];
    gw_tsl_model_t *m = gw_tsl_model_load_file(TSL_TEST_DATA "/models/thermo.json", err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    return m;
}

static void test_full_model(void **state)
{
    (void)state;
    gw_tsl_model_t *m = load_thermo();
    assert_string_equal(m->product_key, "a1ThermoPK");
    assert_int_equal(m->n_properties, 13);
    assert_int_equal(m->n_events, 2);   /* post skipped */
    assert_int_equal(m->n_services, 2); /* set/get skipped */

    const gw_tsl_property_t *p = gw_tsl_model_property(m, "Temperature");
    assert_non_null(p);
    assert_false(p->writable);
    assert_int_equal(p->type.type, LGW_TYPE_FLOAT);
    assert_true(p->type.has_min && p->type.has_max);
    assert_true(p->type.min == -40.0 && p->type.max == 125.0 && p->type.step == 0.1);
    assert_string_equal(p->type.unit, "°C");

    p = gw_tsl_model_property(m, "Setpoint");
    assert_int_equal(p->type.type, LGW_TYPE_INT);
    assert_int_equal(p->type.imin, 5);
    assert_int_equal(p->type.imax, 35);
    assert_int_equal(p->type.istep, 5);
    assert_true(p->writable);

    p = gw_tsl_model_property(m, "Counter"); /* no specs: whole 32-bit range */
    assert_false(p->type.has_min);
    assert_int_equal(p->type.imin, INT32_MIN);
    assert_int_equal(p->type.imax, INT32_MAX);

    p = gw_tsl_model_property(m, "Mode");
    assert_int_equal(p->type.n_items, 3);
    assert_int_equal(p->type.items[2].key, 5);
    assert_string_equal(p->type.items[2].label, "eco");

    p = gw_tsl_model_property(m, "PowerSwitch");
    assert_int_equal(p->type.type, LGW_TYPE_BOOL);
    assert_int_equal(p->type.n_items, 2);

    assert_int_equal(gw_tsl_model_property(m, "Label")->type.length, 8);
    assert_int_equal(gw_tsl_model_property(m, "LastSeen")->type.type, LGW_TYPE_DATE);

    p = gw_tsl_model_property(m, "Color");
    assert_int_equal(p->type.n_members, 3);
    assert_string_equal(p->type.members[1].identifier, "G");
    assert_int_equal(p->type.members[1].type.imax, 255);

    p = gw_tsl_model_property(m, "Zones");
    assert_int_equal(p->type.type, LGW_TYPE_ARRAY);
    assert_int_equal(p->type.size, 2);
    assert_int_equal(p->type.item->type, LGW_TYPE_STRUCT);
    assert_int_equal(p->type.item->n_members, 2);
    assert_int_equal(p->type.item->members[1].type.type, LGW_TYPE_BOOL);

    assert_int_equal(gw_tsl_model_property(m, "Names")->type.item->length, 4);
    assert_null(gw_tsl_model_property(m, "Nope"));

    const gw_tsl_event_t *e = gw_tsl_model_event(m, "Overheat");
    assert_non_null(e);
    assert_int_equal(e->kind, GW_TSL_EVENT_ALERT);
    assert_int_equal(e->n_output, 2);
    assert_int_equal(gw_tsl_model_event(m, "Fault")->kind, GW_TSL_EVENT_ERROR);
    assert_null(gw_tsl_model_event(m, "post"));

    const gw_tsl_service_t *s = gw_tsl_model_service(m, "Calibrate");
    assert_true(s->sync);
    assert_int_equal(s->n_input, 1);
    assert_int_equal(s->n_output, 1);
    assert_false(gw_tsl_model_service(m, "ResetEnergy")->sync);
    assert_null(gw_tsl_model_service(m, "set"));
    gw_tsl_model_free(m);
}

static void test_models_dir(void **state)
{
    (void)state;
    char err[1024];
    gw_tsl_models_t *set = gw_tsl_models_new();
    assert_int_equal(gw_tsl_models_load_dir(set, TSL_TEST_DATA "/models", err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(gw_tsl_models_count(set), 2);
    assert_string_equal(gw_tsl_models_at(set, 0)->product_key, "a1SwitchPK");
    assert_non_null(gw_tsl_models_find(set, "a1ThermoPK"));
    assert_null(gw_tsl_models_find(set, "a1Other"));
    gw_tsl_models_free(set);

    set = gw_tsl_models_new();
    assert_int_equal(gw_tsl_models_load_dir(set, TSL_TEST_DATA "/bad_dir", err, sizeof err), 2);
    assert_int_equal(gw_tsl_models_count(set), 1);
    assert_non_null(strstr(err, "bad_dir/b.json: productKey \"a1SwitchPK\" is already defined by"));
    assert_non_null(strstr(err, "bad_dir/c.json:3:"));
    gw_tsl_models_free(set);

    set = gw_tsl_models_new();
    assert_int_equal(gw_tsl_models_load_dir(set, TSL_TEST_DATA "/no_such_dir", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open models directory"));
    gw_tsl_models_free(set);
}

/* One malformed model and the message it must produce. */
typedef struct bad_case {
    const char *json;
    const char *expect; /* substring of the error */
} bad_case_t;

#define P(dt) "{\"profile\":{\"productKey\":\"pk\"},\"properties\":[{\"identifier\":\"X\",\"accessMode\":\"r\",\"dataType\":" dt "}]}"

static const bad_case_t bad_cases[] = {
    { "[]", "t: a thing model must be a JSON object" },
    { "{\"properties\":[]}", "t: missing \"profile\" object" },
    { "{\"profile\":{\"productKey\":\"\"}}", "t: profile: \"productKey\" must be a non-empty string" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"properties\":{}}", "t: properties: must be an array" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"properties\":[{\"accessMode\":\"r\"}]}",
      "t: properties[0]: missing \"identifier\"" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"properties\":[{\"identifier\":\"a b\",\"accessMode\":\"r\"}]}",
      "t: properties[0]: invalid identifier \"a b\"" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"properties\":[{\"identifier\":\"X\",\"accessMode\":\"w\","
      "\"dataType\":{\"type\":\"int\"}}]}",
      "t: properties[0] 'X': accessMode must be \"r\" or \"rw\", not \"w\"" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"properties\":[{\"identifier\":\"X\",\"dataType\":{\"type\":\"int\"}}]}",
      "t: properties[0] 'X': missing \"accessMode\"" },
    { P("{\"type\":\"long\"}"), "t: properties[0] 'X': dataType: unknown data type \"long\"" },
    { P("{\"specs\":{}}"), "t: properties[0] 'X': dataType: dataType.type must be a string" },
    { P("{\"type\":\"int\",\"specs\":{\"min\":\"abc\"}}"), "properties[0] 'X': dataType: specs.min: \"abc\" is not an integer" },
    { P("{\"type\":\"int\",\"specs\":{\"min\":\"1.5\"}}"), "specs.min: \"1.5\" is not an integer" },
    { P("{\"type\":\"int\",\"specs\":{\"max\":\"3000000000\"}}"), "specs.max 3000000000 is outside the 32-bit int range" },
    { P("{\"type\":\"int\",\"specs\":{\"min\":\"10\",\"max\":\"1\"}}"), "specs.min 10 is greater than specs.max 1" },
    { P("{\"type\":\"int\",\"specs\":{\"step\":\"0\"}}"), "specs.step must be a positive 32-bit integer" },
    { P("{\"type\":\"float\",\"specs\":{\"min\":\"nan\"}}"), "specs.min: \"nan\" is not a number" },
    { P("{\"type\":\"float\",\"specs\":{\"max\":\"1e39\"}}"), "specs.min/max outside the range of float" },
    { P("{\"type\":\"double\",\"specs\":{\"step\":\"-0.1\"}}"), "specs.step must be positive" },
    { P("{\"type\":\"double\",\"specs\":{\"min\":true}}"), "specs.min must be a number string" },
    { P("{\"type\":\"double\",\"specs\":[]}"), "double specs must be an object" },
    { P("{\"type\":\"enum\",\"specs\":{}}"), "enum specs list no value" },
    { P("{\"type\":\"enum\",\"specs\":{\"a\":\"x\"}}"), "specs key \"a\" is not a 32-bit integer" },
    { P("{\"type\":\"enum\",\"specs\":{\"1\":2}}"), "specs \"1\": the label must be a string" },
    { P("{\"type\":\"bool\",\"specs\":{\"2\":\"x\"}}"), "bool specs key \"2\" must be 0 or 1" },
    { P("{\"type\":\"text\",\"specs\":{\"length\":\"0\"}}"), "specs.length 0 is outside 1..10240" },
    { P("{\"type\":\"text\",\"specs\":{\"length\":\"99999\"}}"), "specs.length 99999 is outside 1..10240" },
    { P("{\"type\":\"struct\",\"specs\":{}}"), "struct specs must be an array of members" },
    { P("{\"type\":\"struct\",\"specs\":[]}"), "struct has no members" },
    { P("{\"type\":\"struct\",\"specs\":[{\"identifier\":\"a\",\"dataType\":{\"type\":\"struct\",\"specs\":["
        "{\"identifier\":\"b\",\"dataType\":{\"type\":\"int\"}}]}}]}"),
      "properties[0] 'X': dataType.specs[0] 'a': a struct member cannot be a struct" },
    { P("{\"type\":\"struct\",\"specs\":[{\"identifier\":\"a\",\"dataType\":{\"type\":\"int\"}},"
        "{\"identifier\":\"a\",\"dataType\":{\"type\":\"int\"}}]}"),
      "dataType.specs[1] 'a': identifier defined twice" },
    { P("{\"type\":\"struct\",\"specs\":[{\"identifier\":\"a\",\"dataType\":{\"type\":\"int\",\"specs\":{\"max\":\"x\"}}}]}"),
      "properties[0] 'X': dataType.specs[0] 'a': dataType: specs.max: \"x\" is not an integer" },
    { P("{\"type\":\"array\",\"specs\":{\"item\":{\"type\":\"int\"}}}"), "array specs need \"size\"" },
    { P("{\"type\":\"array\",\"specs\":{\"size\":\"513\",\"item\":{\"type\":\"int\"}}}"), "specs.size 513 is outside 1..512" },
    { P("{\"type\":\"array\",\"specs\":{\"size\":\"2\"}}"), "array specs need an \"item\" object" },
    { P("{\"type\":\"array\",\"specs\":{\"size\":\"2\",\"item\":{\"type\":\"array\",\"specs\":{\"size\":\"2\","
        "\"item\":{\"type\":\"int\"}}}}}"),
      "dataType.item: an array cannot hold arrays" },
    { P("{\"type\":\"array\",\"specs\":{\"size\":\"2\",\"item\":{\"type\":\"blob\"}}}"),
      "dataType.item: unknown data type \"blob\"" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"properties\":[{\"identifier\":\"X\",\"accessMode\":\"r\",\"dataType\":"
      "{\"type\":\"int\"}},{\"identifier\":\"X\",\"accessMode\":\"r\",\"dataType\":{\"type\":\"int\"}}]}",
      "t: properties: identifier 'X' defined twice" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"events\":[{\"identifier\":\"E\",\"type\":\"warning\"}]}",
      "t: events[0] 'E': type must be \"info\", \"alert\" or \"error\", not \"warning\"" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"events\":[{\"identifier\":\"E\",\"outputData\":[{\"identifier\":\"o\","
      "\"dataType\":{\"type\":\"int\",\"specs\":{\"min\":\"q\"}}}]}]}",
      "t: events[0] 'E': outputData[0] 'o': dataType: specs.min: \"q\" is not an integer" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"events\":[{\"identifier\":\"E\"},{\"identifier\":\"E\"}]}",
      "t: events[1] 'E': identifier defined twice" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"services\":[{\"identifier\":\"S\",\"callType\":\"later\"}]}",
      "t: services[0] 'S': callType must be \"async\" or \"sync\", not \"later\"" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"services\":[{\"identifier\":\"S\",\"inputData\":[\"a\"]}]}",
      "t: services[0] 'S': inputData[0]: must be an object" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"services\":[{\"identifier\":\"S\",\"outputData\":[{\"identifier\":\"r\"}]}]}",
      "t: services[0] 'S': outputData[0] 'r': dataType: dataType must be an object" },
    { "{\"profile\":{\"productKey\":\"pk\"},\"properties\":[{\"identifier\":\"X\",\"accessMode\":\"r\",\"required\":\"yes\","
      "\"dataType\":{\"type\":\"int\"}}]}",
      "t: properties[0] 'X': \"required\" must be true or false" },
    { "{\"profile\":{\"productKey\":\"pk\"}, \"properties\": [", "t:1:" },
    { "{\"profile\":{\"productKey\":\"pk\",\"productKey\":\"pk2\"}}", "t:1:" },
};

static void test_bad_models(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        char err[512] = "";
        gw_tsl_model_t *m = gw_tsl_model_parse_text(bad_cases[i].json, strlen(bad_cases[i].json), "t", err,
                                                    sizeof err);
        if (m || !strstr(err, bad_cases[i].expect)) {
            gw_tsl_model_free(m);
            fail_msg("case %zu: expected \"%s\", got \"%s\"", i, bad_cases[i].expect, err);
        }
    }
}

static void test_minimal_and_lenient_specs(void **state)
{
    (void)state;
    const char *j = "{\"profile\":{\"productKey\":\"pk\"},\"properties\":["
                    "{\"identifier\":\"A\",\"accessMode\":\"rw\",\"dataType\":{\"type\":\"double\",\"specs\":{\"min\":-1.5,\"max\":2}}},"
                    "{\"identifier\":\"B\",\"accessMode\":\"r\",\"dataType\":{\"type\":\"text\"}},"
                    "{\"identifier\":\"C\",\"accessMode\":\"r\",\"dataType\":{\"type\":\"bool\"}}]}";
    char err[256];
    gw_tsl_model_t *m = gw_tsl_model_parse_text(j, strlen(j), "t", err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    assert_true(gw_tsl_model_property(m, "A")->type.min == -1.5);
    assert_int_equal(gw_tsl_model_property(m, "B")->type.length, GW_TSL_TEXT_MAX);
    assert_int_equal(gw_tsl_model_property(m, "C")->type.n_items, 0);
    assert_int_equal(m->n_events, 0);
    gw_tsl_model_free(m);
}

/* Random mutations of a valid model: each is either loaded or refused with a message, never a crash. */
static uint32_t rng = 88172645u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static json_t *random_scalar(void)
{
    switch (rnd() % 6) {
    case 0: return json_null();
    case 1: return json_true();
    case 2: return json_integer((json_int_t)(int32_t)rnd());
    case 3: return json_string("x y");
    case 4: return json_string("-1");
    default: return json_array();
    }
}

/* Mutates a random node below @p j (depth-first random walk). */
static void mutate(json_t *j)
{
    for (int depth = 0; depth < 12; depth++) {
        size_t n = json_is_object(j) ? json_object_size(j) : json_is_array(j) ? json_array_size(j) : 0;
        if (n == 0)
            return;
        size_t pick = rnd() % n;
        json_t *child;
        const char *key = NULL;
        if (json_is_object(j)) {
            void *it = json_object_iter(j);
            for (size_t i = 0; i < pick; i++)
                it = json_object_iter_next(j, it);
            key = json_object_iter_key(it);
            child = json_object_iter_value(it);
        } else {
            child = json_array_get(j, pick);
        }
        if ((json_is_object(child) || json_is_array(child)) && rnd() % 3) {
            j = child;
            continue;
        }
        int op = (int)(rnd() % 3);
        if (op == 0 && key)
            json_object_del(j, key);
        else if (op == 0)
            json_array_remove(j, pick);
        else if (key)
            json_object_set_new(j, key, random_scalar());
        else
            json_array_set_new(j, pick, random_scalar());
        return;
    }
}

static void test_mutated_models(void **state)
{
    (void)state;
    json_t *base = json_load_file(TSL_TEST_DATA "/models/thermo.json", 0, NULL);
    assert_non_null(base);
    int loaded = 0, refused = 0;
    for (int i = 0; i < 3000; i++) {
        json_t *j = json_deep_copy(base);
        for (uint32_t k = 1 + rnd() % 3; k > 0; k--)
            mutate(j);
        char err[512] = "";
        gw_tsl_model_t *m = gw_tsl_model_parse(j, "m.json", err, sizeof err);
        if (m) {
            loaded++;
            gw_tsl_model_free(m);
        } else {
            refused++;
            assert_true(strncmp(err, "m.json: ", 8) == 0);
        }
        json_decref(j);
    }
    assert_true(loaded > 0 && refused > 0);
    json_decref(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_model),
        cmocka_unit_test(test_models_dir),
        cmocka_unit_test(test_bad_models),
        cmocka_unit_test(test_minimal_and_lenient_specs),
        cmocka_unit_test(test_mutated_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
