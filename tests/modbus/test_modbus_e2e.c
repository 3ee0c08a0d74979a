/*
 * The Modbus plugin end to end through the platform emulator (issue 7, item 8):
 * tools/modbus-sim with two units on a free port, the real `linkgw` with a
 * cloud section, the TSL models of tests/modbus/data_e2e/models and a conf.d
 * Modbus instance whose `models` map points to TSL properties, against
 * mosquitto + alink-emu (tests/lifecycle/lc_harness). Every assertion reads
 * the emulator's state (`alink-emu state`) or the simulator's registers
 * (a libmodbus client), never log text:
 *   - both units are registered, topo-added and logged in, and the platform's
 *     latest properties are the registers converted (scale applied);
 *   - `alink-emu prop set` of rw properties answers 200 and changes the
 *     holding register / coil in the simulator;
 *   - a unit made dead through the simulator's control file goes offline on
 *     the platform (its session ends) while the other stays, and comes back
 *     when revived.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <modbus/modbus.h>

#include "lc_harness.h"
#include "simproc.h"

#define PK "a1DemoMbus"
#define WAIT_MS 45000

static lc_t T;
static simproc_t S;
static char g_ctl[400];

static int teardown(void **s)
{
    (void)s;
    simproc_stop(&S);
    lc_teardown(&T);
    return 0;
}


/* The emulator's device PK/dn (borrowed from @p st). */
static json_t *emu_dev(json_t *st, const char *dn)
{
    char key[128];
    snprintf(key, sizeof key, PK "/%s", dn);
    return json_object_get(json_object_get(st, "devices"), key);
}

/* True when PK/dn has a session through the test gateway. */
static bool online(json_t *st, const char *dn)
{
    char key[128];
    snprintf(key, sizeof key, PK "/%s", dn);
    const char *via = json_string_value(json_object_get(json_object_get(json_object_get(st, "sessions"), key), "via"));
    return via && strcmp(via, LC_GW_PK "/" LC_GW_DN) == 0;
}

/* The latest value of property @p id of PK/dn as a number; NAN when absent. */
static double prop(json_t *st, const char *dn, const char *id)
{
    json_t *v = json_object_get(json_object_get(json_object_get(emu_dev(st, dn), "properties"), id), "value");
    return json_is_number(v) ? json_number_value(v) : NAN;
}

typedef struct expect {
    const char *dn;
    bool online;
    const char *id; /* property to check, or NULL */
    double value;
} expect_t;

static bool pred_expect(lc_t *t, void *arg)
{
    const expect_t *e = arg;
    json_t *st = lc_emu(t);
    bool ok = true;
    for (; ok && e->dn; e++) {
        ok = online(st, e->dn) == e->online;
        if (ok && e->id)
            ok = fabs(prop(st, e->dn, e->id) - e->value) < 1e-6;
    }
    json_decref(st);
    return ok;
}

/* Reads one holding register (coil when @p coil) of unit @p unit from the simulator; -1 on error. */
static int sim_read(int unit, int addr, bool coil)
{
    modbus_t *m = modbus_new_tcp("127.0.0.1", S.port);
    int v = -1;
    if (m && modbus_set_slave(m, unit) == 0 && modbus_connect(m) == 0) {
        uint16_t r;
        uint8_t b;
        if (coil ? modbus_read_bits(m, addr, 1, &b) == 1 : modbus_read_registers(m, addr, 1, &r) == 1)
            v = coil ? b : r;
        modbus_close(m);
    }
    if (m)
        modbus_free(m);
    return v;
}

/* `alink-emu prop set PK dn JSON`: 0 when the device's reply carried code 200. */
static int prop_set(const char *dn, const char *json)
{
    const char *args[] = {"prop", "set", PK, dn, json, "--timeout-ms", "15000", NULL};
    char *out = NULL;
    int rc = emu_cli(&T.b, &out, args);
    json_t *reply = out ? json_loads(out, 0, NULL) : NULL;
    if (rc == 0 && json_integer_value(json_object_get(reply, "code")) != 200)
        rc = -1;
    if (rc)
        fprintf(stderr, "prop set %s %s: rc %d, %s\n", dn, json, rc, out ? out : "(no output)");
    json_decref(reply);
    free(out);
    return rc;
}

static void t_modbus_e2e(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 0, NULL), 0);
    assert_int_equal(lc_use_product(&T, PK, E2E_MODELS, (const char *const[]){"mb-unit1", "mb-unit2", NULL}), 0);

    /* the simulator: unit 1 setpoint 20.0, unit 2 setpoint 21.5 */
    char script[400];
    snprintf(script, sizeof script, "%s/sim.script", T.dir);
    snprintf(g_ctl, sizeof g_ctl, "%s/sim.control", T.dir);
    assert_int_equal(lc_write_text(script, "units 1-2\ninput 0 const 2300\ncoil 0 const 0\n"
                                        "units 1\ninput 1 const 150\nholding 10 const 200\n"
                                        "units 2\ninput 1 const 725\nholding 10 const 215\n"),
                     0);
    assert_int_equal(lc_write_text(g_ctl, ""), 0);
    const char *args[] = {"--tcp", "127.0.0.1:0", "--units", "1-2", "--script", script, "--control", g_ctl, NULL};
    assert_int_equal(simproc_start_sim(&S, args), 0);

    char conf[2048], path[400];
    snprintf(conf, sizeof conf,
             "plugin = \"modbus\";\n"
             "settings = {\n"
             "  transport = \"tcp\"; host = \"127.0.0.1\"; port = %d;\n"
             "  response_timeout_ms = 300; max_failures = 2; probe_min_ms = 200; probe_max_ms = 1000;\n"
             "  models = ( { name = \"meter\"; address_base = 0; interval_ms = 300;\n"
             "    points = (\n"
             "      { name = \"voltage\"; table = \"input\"; address = 0; type = \"uint16\"; scale = 0.1; },\n"
             "      { name = \"current\"; table = \"input\"; address = 1; type = \"uint16\"; scale = 0.01; },\n"
             "      { name = \"setpoint\"; table = \"holding\"; address = 10; type = \"int16\"; scale = 0.1; access = \"rw\"; },\n"
             "      { name = \"relay\"; table = \"coil\"; address = 0; access = \"rw\"; }\n"
             "    ); } );\n"
             "  devices = ( { id = \"mb-unit1\"; model = \"meter\"; unit = 1; },\n"
             "              { id = \"mb-unit2\"; model = \"meter\"; unit = 2; } );\n"
             "};\n"
             "models = { meter = { product_key = \"" PK "\";\n"
             "  points = ( { point = \"voltage\"; property = \"Voltage\"; }, { point = \"current\"; property = \"Current\"; },\n"
             "             { point = \"setpoint\"; property = \"Setpoint\"; }, { point = \"relay\"; property = \"Relay\"; } ); }; };\n"
             "subdevice = { register = true; };\n",
             S.port);
    snprintf(path, sizeof path, "%s/modbus.conf", T.confd);
    assert_int_equal(lc_write_text(path, conf), 0);
    assert_int_equal(lc_gw_start(&T), 0);

    /* 1. registered, logged in, values converted */
    expect_t up[] = {{"mb-unit1", true, "Setpoint", 20.0}, {"mb-unit1", true, "Voltage", 230.0},
                     {"mb-unit1", true, "Current", 1.5},   {"mb-unit2", true, "Setpoint", 21.5},
                     {"mb-unit2", true, "Current", 7.25},  {NULL, false, NULL, 0}};
    assert_true(lc_wait(&T, pred_expect, up, WAIT_MS));
    json_t *st = lc_emu(&T);
    assert_string_equal(json_string_value(json_object_get(emu_dev(st, "mb-unit1"), "gateway")), LC_GW_PK "/" LC_GW_DN);
    assert_string_equal(json_string_value(json_object_get(emu_dev(st, "mb-unit2"), "gateway")), LC_GW_PK "/" LC_GW_DN);
    json_decref(st);

    /* 2. property set → FC 6 / FC 5 in the simulator, reply 200 */
    assert_int_equal(prop_set("mb-unit1", "{\"Setpoint\":42.5,\"Relay\":1}"), 0);
    assert_int_equal(sim_read(1, 10, false), 425);
    assert_int_equal(sim_read(1, 0, true), 1);
    assert_int_equal(sim_read(2, 10, false), 215); /* the other unit untouched */
    assert_int_equal(prop_set("mb-unit2", "{\"Setpoint\":-3.5}"), 0);
    assert_int_equal((int16_t)sim_read(2, 10, false), -35);
    /* the new values come back up through polling */
    expect_t set[] = {{"mb-unit1", true, "Setpoint", 42.5}, {"mb-unit1", true, "Relay", 1},
                      {"mb-unit2", true, "Setpoint", -3.5}, {NULL, false, NULL, 0}};
    assert_true(lc_wait(&T, pred_expect, set, WAIT_MS));

    /* 3. unit 2 dead → offline on the platform, unit 1 stays; revived → online again */
    assert_int_equal(lc_write_text(g_ctl, "dead 2\n"), 0);
    expect_t dead[] = {{"mb-unit2", false, NULL, 0}, {"mb-unit1", true, NULL, 0}, {NULL, false, NULL, 0}};
    assert_true(lc_wait(&T, pred_expect, dead, WAIT_MS));
    assert_int_equal(sim_read(1, 10, false), 425);
    assert_int_equal(lc_write_text(g_ctl, ""), 0);
    expect_t back[] = {{"mb-unit2", true, NULL, 0}, {"mb-unit1", true, NULL, 0}, {NULL, false, NULL, 0}};
    assert_true(lc_wait(&T, pred_expect, back, WAIT_MS));
    /* and values flow again for the revived unit */
    assert_int_equal(prop_set("mb-unit2", "{\"Setpoint\":12.3}"), 0);
    assert_int_equal(sim_read(2, 10, false), 123);

    /* a clean stop (under ASan: no leaks) */
    assert_int_equal(lc_gw_stop(&T), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(t_modbus_e2e, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
