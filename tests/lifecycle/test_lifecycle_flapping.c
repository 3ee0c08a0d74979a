/*
 * Online/offline flapping and lost sessions, end to end:
 *   - sim devices flap for a few seconds: every login respects the platform's
 *     5-per-minute rule (the emulator records login times and would answer
 *     429), and once the flapping stops the daemon's sessions, the emulator's
 *     sessions and the devices' online state agree;
 *   - a 520 on /ext/error (sub-device without session) makes the daemon log
 *     that sub-device in again.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lc_harness.h"

#define KEYS "models = { thermometer = { product_key = \"" LC_SUB_PK "\"; }; };\nsubdevice = { register = true; };"
#define WAIT_MS 30000

static lc_t T;

static int teardown(void **s)
{
    (void)s;
    lc_teardown(&T);
    return 0;
}

/* Daemon, emulator and access network agree for every device. */
static bool settled(lc_t *t, void *arg)
{
    int want = (int)(intptr_t)arg;
    json_t *r = lc_ctl(t, NULL, "devices", NULL);
    json_t *st = lc_emu(t);
    bool ok = r && st;
    int online = 0;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(r, "devices"), i, d) {
        const char *dn = json_string_value(json_object_get(d, "deviceName"));
        bool on = json_is_true(json_object_get(d, "online"));
        bool li = json_is_true(json_object_get(d, "logged_in"));
        online += on;
        if (!dn || on != li || li != lc_emu_online(st, dn))
            ok = false;
    }
    json_decref(r);
    json_decref(st);
    return ok && online == want;
}

static void t_flapping(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 4, NULL), 0);
    assert_int_equal(lc_write_instance(&T,
                                       "seed = 7; flapping = { probability = 0.3; recovery = 0.7; interval_ms = 250; };\n"
                                       "thermometer = { count = 4; interval_ms = 3600000; };",
                                       KEYS),
                     0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, lc_pred_synced, NULL, WAIT_MS));
    usleep(3000 * 1000);
    /* stop the flapping: the instance restarts with every device online */
    assert_int_equal(lc_write_instance(&T, "thermometer = { count = 4; interval_ms = 3600000; };", KEYS), 0);
    lc_gw_reload(&T);
    assert_true(lc_wait(&T, settled, (void *)(intptr_t)4, 90000));

    /* the platform's per-device login rule held throughout: the emulator answers 429 otherwise */
    assert_int_equal(lc_counter(&T, "throttled"), 0);
    json_t *st = lc_emu(&T);
    const char *k;
    json_t *dev;
    size_t logins = 0;
    json_object_foreach(json_object_get(st, "devices"), k, dev) logins += json_array_size(json_object_get(dev, "loginTimes"));
    json_decref(st);
    assert_true(logins > 4); /* it did flap */
    assert_true(lc_counter(&T, "logouts") >= 1);
    assert_int_equal(lc_gw_stop(&T), 0);
}

static bool relogged(lc_t *t, void *arg)
{
    (void)arg;
    return lc_counter(t, "relogins_520") == 1 && lc_counter(t, "logins") == 4;
}

static void t_session_lost_520(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 3, NULL), 0);
    assert_int_equal(lc_write_instance(&T, "thermometer = { count = 3; interval_ms = 3600000; };", KEYS), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)3, WAIT_MS));
    /* the platform's error channel says thermo-1 has no session (as after a data post without one) */
    int connack = -1;
    emu_client_t *adm = emu_client_connect(&T.b, "lc-admin", "emu-admin", "emu-admin", 60, false, &connack);
    assert_non_null(adm);
    emu_client_pub(adm, "/ext/error/" LC_GW_PK "/" LC_GW_DN,
                   "{\"id\":\"9\",\"code\":520,\"message\":\"device session error\",\"data\":{\"productKey\":\"" LC_SUB_PK
                   "\",\"deviceName\":\"thermo-1\"}}");
    /* garbage on the same channel is ignored */
    emu_client_pub(adm, "/ext/error/" LC_GW_PK "/" LC_GW_DN, "not json");
    emu_client_pub(adm, "/ext/error/" LC_GW_PK "/" LC_GW_DN, "{\"code\":\"520\",\"data\":[]}");
    assert_true(emu_client_sub(adm, "lc/flush") >= 0); /* SUBACK: the broker has processed the publishes */
    emu_client_close(adm);
    assert_true(lc_wait(&T, relogged, NULL, WAIT_MS));
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)3, WAIT_MS));
    assert_int_equal(lc_gw_stop(&T), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(t_session_lost_520, teardown),
        cmocka_unit_test_teardown(t_flapping, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
