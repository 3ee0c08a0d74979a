/*
 * Tests of the sim plugin through the real host: the plugin is loaded with
 * the daemon's loader, created from settings text, started on a host loop,
 * and observed through a hub consumer; requests go through the hub exactly as
 * the cloud's would. Waits are "until a condition holds" (20 s safety limit),
 * never fixed sleeps or timing assertions.
 */
#include <math.h>
#include <string.h>

#include "sim_harness.h"

/* ---- conditions for sh_run_until() ------------------------------------------ */

typedef struct want {
    const char *instance, *id;
    int n;
} want_t;

static bool added_at_least(sh_t *s, void *arg)
{
    return s->added >= *(int *)arg;
}

/* Device want->id of want->instance has sent at least want->n property reports. */
static bool dev_props_at_least(sh_t *s, void *arg)
{
    want_t *w = arg;
    sh_dev_t *d = sh_dev(s, w->instance, w->id);
    return d && d->props >= w->n;
}

/* Every recorded device has sent at least *arg property reports. */
static bool all_props_at_least(sh_t *s, void *arg)
{
    if (s->ndevs == 0)
        return false;
    for (size_t i = 0; i < s->ndevs; i++)
        if (s->devs[i].props < *(int *)arg)
            return false;
    return true;
}

static bool events_at_least(sh_t *s, void *arg)
{
    return s->events >= *(int *)arg;
}

/* ---- configuration ------------------------------------------------------------ */

/* Every kind of mistake is reported at its file:line, and create fails. */
static void test_config_errors(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    gw_errors_t errs = { 0 };
    lgw_instance_t *inst = sh_create(&s, "bad",
                                     "  bogus = 1;\n"                                     /* line 3 */
                                     "  appear = \"later\";\n"                            /* line 4 */
                                     "  flapping = { probability = 2.0; };\n"             /* line 5 */
                                     "  thermometer = { count = -1; colour = \"red\"; };\n" /* line 6 */
                                     "  light = { interval_ms = 1.5; prefix = \"thermo-x\"; };\n" /* line 7 */
                                     "  power_meter = 3;\n"                               /* line 8 */
                                     "  seed = \"x\";\n",                                 /* line 9 */
                                     &errs);
    assert_null(inst);
    for (size_t i = 0; i < errs.n; i++)
        print_message("  %s\n", errs.msgs[i]);
    assert_true(sh_has_error(&errs, "sim-test.conf:3: unknown setting 'bogus'"));
    assert_true(sh_has_error(&errs, "sim-test.conf:4: "));
    assert_true(sh_has_error(&errs, "sim-test.conf:5: setting 'probability' must be between 0 and 1"));
    assert_true(sh_has_error(&errs, "sim-test.conf:6: unknown setting 'colour'"));
    assert_true(sh_has_error(&errs, "sim-test.conf:6: setting 'count'"));
    assert_true(sh_has_error(&errs, "sim-test.conf:7: setting 'interval_ms'"));
    assert_true(sh_has_error(&errs, "sim-test.conf:7: prefix 'thermo-x' of light clashes"));
    assert_true(sh_has_error(&errs, "sim-test.conf:8: setting 'power_meter' must be a group"));
    assert_true(sh_has_error(&errs, "sim-test.conf:9: setting 'seed'"));
    gw_errors_free(&errs);

    /* A correct file creates fine (and is destroyed without being started). */
    inst = sh_create(&s, "good", "  thermometer = { count = 2; };\n  flapping = { probability = 0.1; };\n",
                     &errs);
    assert_non_null(inst);
    assert_int_equal(errs.n, 0);
    gw_instance_destroy(inst);
    gw_errors_free(&errs);
    sh_close(&s);
}

/* ---- devices and reports --------------------------------------------------------- */

/* Devices appear at start, come online and report plausible values periodically. */
static void test_reports(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    lgw_instance_t *inst = sh_start(&s, "sim1",
                                    "  thermometer = { count = 3; interval_ms = 10; base = 21.0; noise = 0.5; };\n"
                                    "  light = { count = 2; interval_ms = 10; };\n"
                                    "  power_meter = { count = 1; interval_ms = 10; watts = 1000.0; noise = 10.0; };\n");
    int six = 6, five = 5;
    sh_run_until(&s, added_at_least, &six);
    assert_non_null(sh_dev(&s, "sim1", "thermo-2"));
    assert_non_null(sh_dev(&s, "sim1", "light-1"));
    assert_non_null(sh_dev(&s, "sim1", "meter-0"));
    sh_run_until(&s, all_props_at_least, &five);
    for (size_t i = 0; i < s.ndevs; i++)
        assert_int_equal(s.devs[i].online, 1);

    /* The walk keeps within base ± noise/(1-0.8); humidity within 0..100. */
    double t = sh_number(&s, "sim1", "thermo-0", "temperature");
    double h = sh_number(&s, "sim1", "thermo-0", "humidity");
    assert_true(t > 21.0 - 2.6 && t < 21.0 + 2.6);
    assert_true(h >= 0 && h <= 100);
    bool on = true;
    assert_int_equal(lgw_value_get_bool(sh_value(&s, "sim1", "light-0", "power"), &on), LGW_OK);
    assert_false(on);
    assert_true(sh_number(&s, "sim1", "light-0", "brightness") == 100);
    double w = sh_number(&s, "sim1", "meter-0", "power");
    assert_true(w >= 990 && w <= 1010);

    /* The energy counter grows. */
    double e1 = sh_number(&s, "sim1", "meter-0", "energy");
    want_t more = { "sim1", "meter-0", sh_dev(&s, "sim1", "meter-0")->props + 3 };
    sh_run_until(&s, dev_props_at_least, &more);
    double e2 = sh_number(&s, "sim1", "meter-0", "energy");
    assert_true(e1 > 0 && e2 > e1);

    sh_stop(&s, inst);
    assert_int_equal(s.stopped, 1);
    sh_close(&s);
}

/* With appear = "discovery" nothing appears until a scan, which finds every device. */
static void test_discovery(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    lgw_instance_t *inst = sh_start(&s, "sim1",
                                    "  appear = \"discovery\";\n"
                                    "  discovery_interval_ms = 5; discovery_batch = 2;\n"
                                    "  thermometer = { count = 5; interval_ms = 10; };\n");
    sh_run_for(&s, 100);
    assert_int_equal(s.added, 0);
    assert_int_equal(s.props, 0);

    assert_int_equal(gw_hub_discovery(s.host.hub, "sim1", true), LGW_OK);
    int five = 5, two = 2;
    sh_run_until(&s, added_at_least, &five);
    sh_run_until(&s, all_props_at_least, &two);
    assert_int_equal(s.added, 5);
    assert_int_equal(s.online, 5);
    sh_stop(&s, inst);
    sh_close(&s);
}

/* ---- requests --------------------------------------------------------------------- */

static bool light_is(sh_t *s, void *arg)
{
    const int64_t *want = arg; /* { power, brightness } */
    bool power;
    int64_t b;
    return lgw_value_get_bool(sh_value(s, "sim1", "light-0", "power"), &power) == LGW_OK &&
           lgw_value_get_int(sh_value(s, "sim1", "light-0", "brightness"), &b) == LGW_OK &&
           power == (want[0] != 0) && b == want[1];
}

/* A write takes effect and is reported back; bad writes are refused without effect. */
static void test_light_write(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    lgw_instance_t *inst = sh_start(&s, "sim1", "  light = { count = 2; interval_ms = 1000000; };\n");
    int two = 2;
    sh_run_until(&s, added_at_least, &two);

    sh_reply_t r;
    lgw_value_t *v = lgw_value_new_struct();
    lgw_value_struct_set(v, "power", lgw_value_new_bool(true));
    lgw_value_struct_set(v, "brightness", lgw_value_new_int(42));
    sh_write(&s, "sim1", "light-0", v, &r);
    assert_int_equal(r.code, LGW_REPLY_SUCCESS);
    sh_reply_free(&r);
    /* The report interval is huge: only the report-back can bring the new state. */
    int64_t want[2] = { 1, 42 };
    sh_run_until(&s, light_is, want);

    /* Out of range: refused, nothing changes. */
    v = lgw_value_new_struct();
    lgw_value_struct_set(v, "power", lgw_value_new_bool(false));
    lgw_value_struct_set(v, "brightness", lgw_value_new_int(420));
    sh_write(&s, "sim1", "light-0", v, &r);
    assert_int_equal(r.code, LGW_REPLY_PARAM_ERROR);
    sh_reply_free(&r);
    sh_read(&s, "sim1", "light-0", "brightness", &r);
    assert_int_equal(r.code, LGW_REPLY_SUCCESS);
    int64_t b = 0;
    assert_int_equal(lgw_value_get_int(lgw_value_struct_get(r.output, "brightness"), &b), LGW_OK);
    assert_int_equal(b, 42);
    sh_reply_free(&r);

    /* Unknown device: not a success. */
    v = lgw_value_new_struct();
    lgw_value_struct_set(v, "power", lgw_value_new_bool(true));
    sh_write(&s, "sim1", "light-7", v, &r);
    assert_int_not_equal(r.code, LGW_REPLY_SUCCESS);
    sh_reply_free(&r);

    sh_stop(&s, inst);
    sh_close(&s);
}

/*
 * The counter holds at least one second of energy (3600 W for 1 s = 0.001 kWh),
 * so after a reset it stays below the previous value for a whole second:
 * ample time for the read that checks it, even on a loaded machine.
 */
static bool energy_one_second(sh_t *s, void *arg)
{
    (void)arg;
    const lgw_value_t *v = sh_value(s, "sim1", "meter-0", "energy");
    double e = 0;
    return v && lgw_value_get_double(v, &e) == LGW_OK && e >= 0.001;
}

/* reset_energy returns the previous counter and zeroes it. */
static void test_reset_energy(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    lgw_instance_t *inst = sh_start(&s, "sim1", "  power_meter = { count = 1; interval_ms = 5; watts = 3600.0;"
                                                " noise = 0.0; };\n");
    sh_run_until(&s, energy_one_second, NULL);
    double before = sh_number(&s, "sim1", "meter-0", "energy");

    sh_reply_t r;
    sh_invoke(&s, "sim1", "meter-0", "reset_energy", &r);
    assert_int_equal(r.code, LGW_REPLY_SUCCESS);
    double previous = 0;
    assert_int_equal(lgw_value_get_double(lgw_value_struct_get(r.output, "previous_energy"), &previous), LGW_OK);
    assert_true(previous >= before && previous > 0);
    sh_reply_free(&r);

    /* Read right after: the counter restarted from zero, so it is below the previous value. */
    sh_read(&s, "sim1", "meter-0", "energy", &r);
    assert_int_equal(r.code, LGW_REPLY_SUCCESS);
    double now = -1;
    assert_int_equal(lgw_value_get_double(lgw_value_struct_get(r.output, "energy"), &now), LGW_OK);
    assert_true(now >= 0 && now < previous);
    sh_reply_free(&r);

    /* An unknown service is a parameter error. */
    sh_invoke(&s, "sim1", "meter-0", "self_destruct", &r);
    assert_int_not_equal(r.code, LGW_REPLY_SUCCESS);
    sh_reply_free(&r);

    sh_stop(&s, inst);
    sh_close(&s);
}

/* over_temperature fires once per crossing, with the temperature as output. */
static void test_over_temperature(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    /* Two instances at once: one hot, one cool. */
    lgw_instance_t *hot = sh_start(&s, "hot",
                                   "  thermometer = { count = 2; interval_ms = 5; base = 40.0; noise = 0.1;"
                                   " threshold = 30.0; };\n");
    lgw_instance_t *cool = sh_start(&s, "cool",
                                    "  thermometer = { count = 2; interval_ms = 5; base = 20.0; noise = 0.1;"
                                    " threshold = 30.0; prefix = \"c-\"; };\n");
    int two = 2, ten = 10;
    sh_run_until(&s, events_at_least, &two);
    sh_run_until(&s, all_props_at_least, &ten);
    /* Still above the threshold: no repeated events; the cool ones never fired. */
    assert_int_equal(s.events, 2);
    assert_int_equal(sh_dev(&s, "hot", "thermo-0")->events, 1);
    assert_int_equal(sh_dev(&s, "hot", "thermo-1")->events, 1);
    assert_true(sh_dev(&s, "hot", "thermo-0")->last_event_value > 30.0);
    assert_int_equal(sh_dev(&s, "cool", "c-0")->events, 0);
    assert_int_equal(sh_dev(&s, "cool", "c-1")->events, 0);

    /* Stopping one instance leaves the other running. */
    sh_stop(&s, hot);
    want_t more = { "cool", "c-0", sh_dev(&s, "cool", "c-0")->props + 5 };
    sh_run_until(&s, dev_props_at_least, &more);
    sh_stop(&s, cool);
    sh_close(&s);
}

static bool flapped(sh_t *s, void *arg)
{
    (void)arg;
    /* 4 devices came online at start; more than that means some came back. */
    return s->offline >= 4 && s->online >= 8;
}

/* Flapping takes devices offline and back online. */
static void test_flapping(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    lgw_instance_t *inst = sh_start(&s, "sim1",
                                    "  seed = 3;\n"
                                    "  flapping = { probability = 0.3; recovery = 0.5; interval_ms = 5; };\n"
                                    "  light = { count = 4; interval_ms = 5; };\n");
    sh_run_until(&s, flapped, NULL);
    sh_stop(&s, inst);
    sh_close(&s);
}

static bool both_flapped(sh_t *s, void *arg)
{
    size_t need = *(size_t *)arg;
    return strlen(sh_trail(s, "a")) >= need && strlen(sh_trail(s, "b")) >= need;
}

/* The same seed gives the same flapping: runs are reproducible. */
static void test_flapping_seeded(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    /* Lights draw no random numbers for their values, so flapping is the generator's only user. */
    const char *settings = "  seed = 11;\n"
                           "  flapping = { probability = 0.2; recovery = 0.4; interval_ms = 5; };\n"
                           "  light = { count = 5; interval_ms = 1000; };\n";
    lgw_instance_t *a = sh_start(&s, "a", settings);
    lgw_instance_t *b = sh_start(&s, "b", settings);
    size_t need = 200;
    sh_run_until(&s, both_flapped, &need);
    assert_true(strstr(sh_trail(&s, "a"), "-") != NULL);
    assert_memory_equal(sh_trail(&s, "a"), sh_trail(&s, "b"), need);
    sh_stop(&s, a);
    sh_stop(&s, b);
    sh_close(&s);
}

/* Both lights of instance sim2 went offline. */
static bool sim2_offline(sh_t *s, void *arg)
{
    (void)arg;
    sh_dev_t *l0 = sh_dev(s, "sim2", "light-0"), *l1 = sh_dev(s, "sim2", "light-1");
    return l0 && l1 && l0->offline > 0 && l1->offline > 0;
}

/* Requests to an offline device, unknown points and read-only points fail cleanly. */
static void test_request_errors(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    lgw_instance_t *inst = sh_start(&s, "sim1", "  thermometer = { count = 1; interval_ms = 1000; };\n"
                                                "  light = { count = 1; interval_ms = 1000; };\n");
    int two = 2;
    sh_run_until(&s, added_at_least, &two);
    sh_reply_t r;

    sh_read(&s, "sim1", "light-0", "colour", &r);
    assert_int_equal(r.code, LGW_REPLY_PARAM_ERROR);
    sh_reply_free(&r);

    lgw_value_t *v = lgw_value_new_struct();
    lgw_value_struct_set(v, "temperature", lgw_value_new_float(5.0f));
    sh_write(&s, "sim1", "thermo-0", v, &r);
    assert_int_not_equal(r.code, LGW_REPLY_SUCCESS);
    sh_reply_free(&r);

    sh_invoke(&s, "sim1", "light-0", "reset_energy", &r);
    assert_int_not_equal(r.code, LGW_REPLY_SUCCESS);
    sh_reply_free(&r);
    sh_stop(&s, inst);

    /* Everything goes offline at the first flapping tick and never comes back. */
    inst = sh_start(&s, "sim2", "  flapping = { probability = 1.0; recovery = 0.0; interval_ms = 5; };\n"
                                "  light = { count = 2; interval_ms = 5; };\n");
    sh_run_until(&s, sim2_offline, NULL);
    v = lgw_value_new_struct();
    lgw_value_struct_set(v, "power", lgw_value_new_bool(true));
    sh_write(&s, "sim2", "light-0", v, &r);
    assert_int_not_equal(r.code, LGW_REPLY_SUCCESS);
    sh_reply_free(&r);
    /* Offline devices do not report. */
    int frozen = s.props;
    sh_run_for(&s, 50);
    assert_int_equal(s.props, frozen);
    sh_stop(&s, inst);
    sh_close(&s);
}

static bool props_at_least(sh_t *s, void *arg)
{
    return s->props >= *(int *)arg;
}

/* Counts the devices the hub holds a `power` value for. */
static bool count_powered(const gw_hub_device_t *dev, void *arg)
{
    if (gw_hub_value(dev, "power"))
        ++*(size_t *)arg;
    return true;
}

/* A group bigger than one timer's slice: every device, on every slice, reports. */
static void test_big_group(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    s.totals_only = true;
    lgw_instance_t *inst = sh_start(&s, "big", "  light = { count = 4500; interval_ms = 30; };\n");
    int n = 4500, reports = 3 * 4500;
    sh_run_until(&s, added_at_least, &n);
    sh_run_until(&s, props_at_least, &reports);
    size_t powered = 0;
    gw_hub_foreach(s.host.hub, count_powered, &powered);
    assert_int_equal(powered, 4500);
    assert_int_equal(s.online, 4500);
    sh_stop(&s, inst);
    sh_close(&s);
}

static bool seen_again(sh_t *s, void *arg)
{
    (void)arg;
    sh_dev_t *d = sh_dev(s, "sim1", "thermo-0");
    return d && d->added >= 2 && gw_hub_find(s->host.hub, "sim1", "thermo-0") != NULL;
}

/* A removed device stops reporting until a discovery scan finds it again. */
static void test_remove(void **state)
{
    (void)state;
    sh_t s;
    sh_open(&s);
    lgw_instance_t *inst = sh_start(&s, "sim1", "  discovery_interval_ms = 5;\n"
                                                "  thermometer = { count = 2; interval_ms = 5; };\n");
    int three = 3;
    sh_run_until(&s, all_props_at_least, &three);

    sh_reply_t r;
    sh_remove(&s, "sim1", "thermo-0", &r);
    assert_int_equal(r.code, LGW_REPLY_SUCCESS);
    sh_reply_free(&r);
    sh_run_for(&s, 20); /* reports already queued before the removal drain */
    int frozen = sh_dev(&s, "sim1", "thermo-0")->props;
    want_t more = { "sim1", "thermo-1", sh_dev(&s, "sim1", "thermo-1")->props + 10 };
    sh_run_until(&s, dev_props_at_least, &more);
    assert_int_equal(sh_dev(&s, "sim1", "thermo-0")->props, frozen);
    assert_null(gw_hub_find(s.host.hub, "sim1", "thermo-0"));

    /* Requests to it fail now. */
    sh_read(&s, "sim1", "thermo-0", "temperature", &r);
    assert_int_not_equal(r.code, LGW_REPLY_SUCCESS);
    sh_reply_free(&r);

    /* Discovery brings it back, and it reports again. */
    assert_int_equal(gw_hub_discovery(s.host.hub, "sim1", true), LGW_OK);
    sh_run_until(&s, seen_again, NULL);
    want_t again = { "sim1", "thermo-0", frozen + 3 };
    sh_run_until(&s, dev_props_at_least, &again);
    assert_int_equal(sh_dev(&s, "sim1", "thermo-1")->added, 1); /* never removed: not re-added */

    sh_stop(&s, inst);
    sh_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_light_write),
        cmocka_unit_test(test_reset_energy),
        cmocka_unit_test(test_over_temperature),
        cmocka_unit_test(test_flapping),
        cmocka_unit_test(test_flapping_seeded),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_big_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
