/*
 * End to end through the data layer (issue 6): the real linkgw daemon with
 * two sim instances mapped onto four TSL products, connected to a real
 * broker with the Alink emulator. The console side is `alink-emu`:
 *   - uplink: values of every sim device reach the emulator's state
 *     (pack/post and property/post), the over_temperature event arrives as
 *     Overheat with its output data;
 *   - an invalid value (humidity above the TSL's max) is never sent, logged
 *     once per device+point and counted;
 *   - property set from the console changes the sim light, and the new value
 *     comes back in the emulator's state; unknown identifiers, bad types and
 *     read-only properties are refused with the platform's codes;
 *   - an async service and a sync (RRPC) service return the plugin's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "data_fixture.h"

static const char k_sim_conf[] =
    "plugin = \"sim\";\n"
    "settings = {\n"
    "  seed = 7;\n"
    "  thermometer = { count = 2; interval_ms = 200; base = 21.0; noise = 0.6; humidity = 45.0; threshold = 21.0; };\n"
    "  light = { count = 1; interval_ms = 300; brightness = 10; };\n"
    "  power_meter = { count = 1; interval_ms = 300; };\n"
    "};\n"
    "subdevice = { register = true; };\n"
    "models = {\n"
    "  thermometer = { product_key = \"a1DThermo\";\n"
    "    points = ( { point = \"temperature\"; property = \"Temperature\"; },\n"
    "               { point = \"humidity\"; property = \"Humidity\"; } );\n"
    "    events = ( { event = \"over_temperature\"; tsl = \"Overheat\"; params = { temperature = \"Temperature\"; }; } ); };\n"
    "  light = { product_key = \"a1DLight\";\n"
    "    points = ( { point = \"power\"; property = \"PowerSwitch\"; },\n"
    "               { point = \"brightness\"; property = \"Brightness\"; } ); };\n"
    "  power_meter = { product_key = \"a1DMeter\";\n"
    "    points = ( { point = \"power\"; property = \"Power\"; }, { point = \"energy\"; property = \"Energy\"; } );\n"
    "    services = ( { service = \"reset_energy\"; tsl = \"ResetEnergy\"; params = { previous_energy = \"PreviousEnergy\"; }; } ); };\n"
    "};\n";

static const char k_smeter_conf[] =
    "plugin = \"sim\";\n"
    "settings = { power_meter = { count = 1; interval_ms = 300; prefix = \"smeter-\"; }; };\n"
    "subdevice = { register = true; };\n"
    "models = {\n"
    "  power_meter = { product_key = \"a1DMeterS\"; full_report_s = 1;\n"
    "    points = ( { point = \"power\"; property = \"Power\"; deadband = 1000000.0; },\n"
    "               { point = \"energy\"; property = \"Energy\"; } );\n"
    "    services = ( { service = \"reset_energy\"; tsl = \"ResetEnergy\"; params = { previous_energy = \"PreviousEnergy\"; }; } ); };\n"
    "};\n";

static df_t g_f;

static int setup(void **state)
{
    (void)state;
    if (df_start_broker(&g_f) != 0)
        return -1;
    df_conf_t confs[] = {{"sim", k_sim_conf}, {"smeter", k_smeter_conf}};
    return df_start_gateway(&g_f, "data = { stats_interval_s = 1; };", confs, 2);
}

static int teardown(void **state)
{
    (void)state;
    int rc = df_stop_gateway(&g_f);
    if (rc != 0) {
        fprintf(stderr, "linkgw exit status %d\n", rc);
        df_dump_log(&g_f);
    }
    df_cleanup(&g_f);
    return rc == 0 ? 0 : -1;
}

static bool has_prop(df_t *f, void *arg)
{
    const char *const *a = arg;
    json_t *v = df_property(f, a[0], a[1], a[2]);
    bool ok = v != NULL;
    json_decref(v);
    return ok;
}

static void wait_prop(const char *pk, const char *dn, const char *id)
{
    const char *a[] = {pk, dn, id};
    if (!df_wait(&g_f, has_prop, a, 30000)) {
        df_dump_log(&g_f);
        fail_msg("%s/%s never reported %s", pk, dn, id);
    }
}

static void test_uplink(void **state)
{
    (void)state;
    wait_prop("a1DThermo", "thermo-0", "Temperature");
    wait_prop("a1DThermo", "thermo-1", "Temperature");
    wait_prop("a1DLight", "light-0", "Brightness");
    wait_prop("a1DLight", "light-0", "PowerSwitch");
    wait_prop("a1DMeter", "meter-0", "Energy");
    wait_prop("a1DMeterS", "smeter-0", "Power");
    json_t *t = df_property(&g_f, "a1DThermo", "thermo-0", "Temperature");
    assert_true(json_is_number(t));
    assert_true(json_number_value(t) > 10 && json_number_value(t) < 30);
    json_decref(t);
}

static bool has_event(df_t *f, void *arg)
{
    (void)arg;
    json_t *d = df_device(f, "a1DThermo", "thermo-0");
    size_t i;
    json_t *e;
    bool ok = false;
    json_array_foreach(json_object_get(d, "events"), i, e) {
        json_t *t = json_object_get(json_object_get(e, "value"), "Temperature");
        if (!strcmp(json_string_value(json_object_get(e, "identifier")) ?: "", "Overheat") && json_is_number(t))
            ok = true;
    }
    json_decref(d);
    return ok;
}

static void test_event(void **state)
{
    (void)state;
    if (!df_wait(&g_f, has_event, NULL, 30000)) {
        df_dump_log(&g_f);
        fail_msg("no Overheat event with its Temperature output reached the emulator");
    }
}

static void test_invalid_dropped(void **state)
{
    (void)state;
    wait_prop("a1DThermo", "thermo-0", "Temperature");
    /* humidity ~45 %RH against a TSL max of 40: refused locally, never posted */
    json_t *h = df_property(&g_f, "a1DThermo", "thermo-0", "Humidity");
    assert_null(h);
    int n0 = df_log_count(&g_f, "thermo-0: point 'humidity' not sent: code 6307");
    int n1 = df_log_count(&g_f, "thermo-1: point 'humidity' not sent: code 6307");
    assert_int_equal(n0, 1); /* many reports so far, logged once per minute */
    assert_int_equal(n1, 1);
    json_t *st = df_ctl(&g_f, "{\"cmd\":\"status\"}");
    json_t *data = json_object_get(json_object_get(st, "status"), "data");
    if (data) /* counted (the status shows it once the control socket includes the data layer) */
        assert_true(json_integer_value(json_object_get(data, "invalid")) >= 2);
    json_decref(st);
}

static int reply_code(json_t *r)
{
    json_t *c = json_object_get(r, "code");
    return json_is_integer(c) ? (int)json_integer_value(c) : -1;
}

static json_t *prop_set(const char *pk, const char *dn, const char *params)
{
    const char *args[] = {"prop", "set", pk, dn, params, NULL};
    return df_cli(&g_f, args);
}

static bool brightness_is_42(df_t *f, void *arg)
{
    (void)arg;
    json_t *v = df_property(f, "a1DLight", "light-0", "Brightness");
    bool ok = json_is_integer(v) && json_integer_value(v) == 42;
    json_decref(v);
    return ok;
}

static void test_property_set(void **state)
{
    (void)state;
    wait_prop("a1DLight", "light-0", "Brightness");
    json_t *r = prop_set("a1DLight", "light-0", "{\"Brightness\":42,\"PowerSwitch\":1}");
    if (reply_code(r) != 200) {
        char *s = json_dumps(r, 0);
        fail_msg("property set answered %s", s ? s : "nothing");
    }
    json_decref(r);
    /* the sim applies the write and reports it; the value comes back to the platform */
    assert_true(df_wait(&g_f, brightness_is_42, NULL, 15000));
}

static void test_property_set_refused(void **state)
{
    (void)state;
    wait_prop("a1DLight", "light-0", "Brightness");
    static const struct {
        const char *pk, *dn, *params;
        int code;
    } cases[] = {
        /* the emulator's TSL is looser than the gateway's (tests/data/models/emu) */
        {"a1DLight", "light-0", "{\"Ghost\":1}", 6320},            /* not in the gateway's TSL */
        {"a1DLight", "light-0", "{\"Brightness\":55.5}", 6306},    /* not an int */
        {"a1DLight", "light-0", "{\"Brightness\":101}", 6306},     /* above max */
        {"a1DLight", "light-0", "{\"PowerSwitch\":2}", 6308},      /* not a bool */
        {"a1DLight", "light-0", "{\"Level\":3}", 460},             /* valid, but mapped to no point */
        {"a1DThermo", "thermo-0", "{\"Temperature\":20.5}", 460},  /* read-only */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *r = prop_set(cases[i].pk, cases[i].dn, cases[i].params);
        if (reply_code(r) != cases[i].code) {
            char *s = json_dumps(r, 0);
            fail_msg("set %s on %s: expected %d, got %s", cases[i].params, cases[i].dn, cases[i].code, s ? s : "nothing");
        }
        json_decref(r);
    }
    /* and the plugin never saw them: brightness keeps a valid value */
    json_t *b = df_property(&g_f, "a1DLight", "light-0", "Brightness");
    assert_true(json_is_integer(b) && json_integer_value(b) <= 100);
    json_decref(b);
}

static void check_service(const char *pk, const char *dn, bool sync)
{
    wait_prop(pk, dn, "Energy");
    const char *args[] = {"service", "invoke", pk, dn, "ResetEnergy", "{}", sync ? "--sync" : NULL, NULL};
    json_t *r = df_cli(&g_f, args);
    char *s = json_dumps(r, 0);
    if (reply_code(r) != 200)
        fail_msg("%s service answered %s", sync ? "sync" : "async", s ? s : "nothing");
    json_t *out = json_object_get(json_object_get(r, "data"), "PreviousEnergy");
    if (!json_is_number(out))
        fail_msg("no PreviousEnergy output in %s", s ? s : "nothing");
    free(s);
    json_decref(r);
}

static void test_service_async(void **state)
{
    (void)state;
    check_service("a1DMeter", "meter-0", false);
}

static void test_service_sync(void **state)
{
    (void)state;
    check_service("a1DMeterS", "smeter-0", true);
}

static void test_service_unknown(void **state)
{
    (void)state;
    wait_prop("a1DMeter", "meter-0", "Energy");
    const char *args[] = {"service", "invoke", "a1DMeter", "meter-0", "Explode", "{}", NULL};
    json_t *r = df_cli(&g_f, args);
    assert_int_equal(reply_code(r), 5161);
    json_decref(r);
}

static bool three_powers(df_t *f, void *arg)
{
    (void)arg;
    json_t *d = df_device(f, "a1DMeterS", "smeter-0");
    bool ok = json_array_size(json_object_get(json_object_get(d, "history"), "Power")) >= 3;
    json_decref(d);
    return ok;
}

/* smeter-0's Power has a deadband it never leaves and full_report_s = 1: it still
 * arrives, once per full report, not with every report (every 300 ms). */
static void test_deadband_full_report(void **state)
{
    (void)state;
    assert_true(df_wait(&g_f, three_powers, NULL, 30000));
    json_t *d = df_device(&g_f, "a1DMeterS", "smeter-0");
    json_t *h = json_object_get(json_object_get(d, "history"), "Power");
    json_t *e2 = json_object_get(json_object_get(d, "history"), "Energy");
    size_t i;
    json_t *e;
    long long prev = -1;
    json_array_foreach(h, i, e) {
        long long t = json_integer_value(json_object_get(e, "time"));
        if (prev >= 0 && t - prev < 700)
            fail_msg("Power sent %lld ms after the previous one: the deadband did not hold", t - prev);
        prev = t;
    }
    /* Energy has no deadband: it goes out with (nearly) every report */
    assert_true(json_array_size(e2) > json_array_size(h));
    json_decref(d);
}

/* Last value of counter @p key in the daemon's counter lines (stats_interval_s = 1), -1 if none. */
static long long counter(const char *key)
{
    FILE *fp = fopen(g_f.log, "r");
    char line[4096], pat[64];
    long long v = -1;
    snprintf(pat, sizeof pat, " %s=", key);
    while (fp && fgets(line, sizeof line, fp)) {
        char *p = strstr(line, pat);
        if (p)
            v = atoll(p + strlen(pat));
    }
    if (fp)
        fclose(fp);
    return v;
}

static bool downlink_reached(df_t *f, void *arg)
{
    (void)f;
    return counter("downlink") >= *(long long *)arg;
}

/*
 * The other sync form, /sys/{pk}/{dn}/rrpc/request/{mid}: the emulator picks /ext/rrpc for
 * this gateway, so a console client publishes it straight on the broker. The emulator
 * consumes the answer on rrpc/response/{mid}, so the checks are the gateway's counters and
 * log: the well-formed request was handled (not refused), the one without a
 * thing.service.{id} method refused with 460.
 */
static void test_rrpc_sys_form(void **state)
{
    (void)state;
    wait_prop("a1DMeterS", "smeter-0", "Energy");
    int connack = -1;
    emu_client_t *adm = emu_client_connect(&g_f.b, "test-rrpc", "emu-admin", "emu-admin", 30, false, &connack);
    assert_non_null(adm);
    long long want = counter("downlink") + 2;
    emu_client_pub(adm, "/sys/a1DMeterS/smeter-0/rrpc/request/777001",
                   "{\"id\":\"42\",\"version\":\"1.0\",\"params\":{},\"method\":\"thing.service.ResetEnergy\"}");
    emu_client_pub(adm, "/sys/a1DMeterS/smeter-0/rrpc/request/777002", "{\"id\":\"43\",\"version\":\"1.0\",\"params\":{}}");
    if (!df_wait(&g_f, downlink_reached, &want, 15000)) {
        df_dump_log(&g_f);
        fail_msg("the gateway did not handle both RRPC requests");
    }
    assert_int_equal(df_log_count(&g_f, "refused /sys/a1DMeterS/smeter-0/rrpc/request/777002: code 460"), 1);
    assert_int_equal(df_log_count(&g_f, "rrpc/request/777001"), 0);
    emu_client_close(adm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uplink),          cmocka_unit_test(test_event),
        cmocka_unit_test(test_invalid_dropped), cmocka_unit_test(test_property_set),
        cmocka_unit_test(test_property_set_refused), cmocka_unit_test(test_service_async),
        cmocka_unit_test(test_service_sync),    cmocka_unit_test(test_service_unknown),
        cmocka_unit_test(test_deadband_full_report), cmocka_unit_test(test_rrpc_sys_form),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
