/*
 * kill -9 of the daemon mid-sync, then a restart: the persisted lists and the
 * platform end up consistent.
 *   round 1: 60 pre-provisioned sub-devices (credentials CSV), logins paced
 *            at 10/s (gateway.login_rate); the daemon is killed while the
 *            batch logins are under way; after
 *            a restart every device is proxied once, logged in, and
 *            LocalTopoList equals the platform's topology;
 *   round 2: the cloud link is down, 10 devices are deleted locally
 *            (RemovedDevList), the daemon is killed at once; the instance now
 *            has 50 devices; after restart + reconnect the 10 are deleted on
 *            the platform, RemovedDevList is empty, 50 are online;
 *   round 3: killed right after issuing local deletes with the link up; the
 *            restart converges again.
 * The store is checked by the daemon itself at open (integrity_check).
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

#define N 60
#define WAIT_MS 60000

static lc_t T;

static int teardown(void **s)
{
    (void)s;
    lc_teardown(&T);
    return 0;
}

static void secret_of(int i, char out[40])
{
    snprintf(out, 40, "CrashSecret%021d", i);
}

/* Devices of a1ThermoPK bound to the gateway in the emulator. */
static int emu_bound(lc_t *t)
{
    json_t *st = lc_emu(t);
    if (!st)
        return -1;
    int n = 0;
    const char *k;
    json_t *d;
    json_object_foreach(json_object_get(st, "devices"), k, d) {
        const char *gw = json_string_value(json_object_get(d, "gateway"));
        n += gw && strcmp(gw, LC_GW_PK "/" LC_GW_DN) == 0;
    }
    json_decref(st);
    return n;
}

static bool some_online(lc_t *t, void *arg)
{
    (void)arg;
    return lc_emu_sessions(t) >= 5;
}

/* Daemon lists and platform agree: @p n bound, proxied, online; nothing pending. */
static bool consistent(lc_t *t, void *arg)
{
    int n = (int)(intptr_t)arg;
    return lc_list_size(t, "RemovedDevList") == 0 && lc_list_size(t, "LocalTopoList") == n && emu_bound(t) == n &&
           lc_emu_sessions(t) == n;
}

static void write_instance(int count)
{
    char sim[200];
    snprintf(sim, sizeof sim, "thermometer = { count = %d; interval_ms = 3600000; };", count);
    assert_int_equal(lc_write_instance(&T, sim,
                                       "models = { thermometer = { product_key = \"" LC_SUB_PK "\"; }; };\n"
                                       "subdevice = { register = false; };"),
                     0);
}

static void t_kill9_mid_sync(void **s)
{
    (void)s;
    /* registry: 60 devices with secrets; the same secrets in a console CSV */
    size_t cap = N * 160 + 1;
    char *extra = calloc(1, cap), csvpath[400];
    assert_non_null(extra);
    for (int i = 0; i < N; i++) {
        char sec[40], e[200];
        secret_of(i, sec);
        snprintf(e, sizeof e, ",{\"productKey\":\"%s\",\"deviceName\":\"thermo-%d\",\"deviceSecret\":\"%s\"}", LC_SUB_PK, i,
                 sec);
        strcat(extra, e);
    }
    assert_int_equal(lc_setup(&T, 0, extra), 0);
    free(extra);
    snprintf(csvpath, sizeof csvpath, "%s/creds.csv", T.dir);
    FILE *f = fopen(csvpath, "w");
    assert_non_null(f);
    fputs("ProductKey,DeviceName,DeviceSecret\n", f);
    for (int i = 0; i < N; i++) {
        char sec[40];
        secret_of(i, sec);
        fprintf(f, "%s,thermo-%d,%s\n", LC_SUB_PK, i, sec);
    }
    fclose(f);
    write_instance(N);

    /* round 1: killed while the paced logins are under way */
    assert_int_equal(lc_append_conf(&T, "gateway = { login_rate = 10; };\n"), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    int rc = -1;
    json_decref(lc_ctl(&T, &rc, "credentials", "import", csvpath, NULL));
    assert_int_equal(rc, 0);
    assert_true(lc_wait(&T, some_online, NULL, WAIT_MS));
    assert_true(lc_emu_sessions(&T) < N);
    lc_gw_kill(&T);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, consistent, (void *)(intptr_t)N, WAIT_MS));

    /* round 2: local deletes while the link is down, killed at once */
    assert_int_equal(lc_broker_stop(&T), 0);
    for (int i = N - 10; i < N; i++) {
        char dev[64];
        snprintf(dev, sizeof dev, "sim/thermo-%d", i);
        json_decref(lc_ctl(&T, &rc, "delete", dev, NULL));
        assert_int_equal(rc, 0);
    }
    lc_gw_kill(&T);
    write_instance(N - 10); /* they are gone from the access network for good */
    assert_int_equal(lc_broker_start(&T), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, consistent, (void *)(intptr_t)(N - 10), WAIT_MS));
    assert_int_equal(lc_counter(&T, "removed_sent"), 10);

    /* round 3: local deletes with the link up, killed right after */
    for (int i = N - 20; i < N - 10; i++) {
        char dev[64];
        snprintf(dev, sizeof dev, "sim/thermo-%d", i);
        json_decref(lc_ctl(&T, &rc, "delete", dev, NULL));
        assert_int_equal(rc, 0);
    }
    lc_gw_kill(&T);
    write_instance(N - 20);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, consistent, (void *)(intptr_t)(N - 20), WAIT_MS));
    assert_int_equal(lc_gw_stop(&T), 0);
}

static bool registered3(lc_t *t, void *arg)
{
    (void)arg;
    return lc_counter(t, "registered") == 3;
}

/* Secrets from thing/sub/register survive a kill -9 right after they were stored: never requested again. */
static void t_kill9_after_register(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 3, NULL), 0);
    assert_int_equal(lc_write_instance(&T, "thermometer = { count = 3; interval_ms = 3600000; };",
                                       "models = { thermometer = { product_key = \"" LC_SUB_PK "\"; }; };\n"
                                       "subdevice = { register = true; };"),
                     0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, registered3, NULL, WAIT_MS));
    lc_gw_kill(&T);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, consistent, (void *)(intptr_t)3, WAIT_MS));
    assert_int_equal(lc_counter(&T, "registered"), 0);
    json_t *r = lc_ctl(&T, NULL, "devices", NULL);
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(r, "devices"), i, d) {
        assert_true(json_is_true(json_object_get(d, "has_secret")));
        assert_null(json_object_get(d, "register_refused"));
    }
    json_decref(r);
    assert_int_equal(lc_gw_stop(&T), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(t_kill9_after_register, teardown),
        cmocka_unit_test_teardown(t_kill9_mid_sync, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
