/*
 * Plugin loading and ABI negotiation: a good plugin loads and runs while
 * deliberately incompatible ones are refused with clear messages.
 */
#include "harness.h"

#include <string.h>

static bool has_devices(void *arg)
{
    rec_t *r = arg;
    return r->online >= 2;
}

static void test_negotiation(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    rec_t rec;
    rec_init(&rec);
    gw_hub_set_consumer(t.host.hub, &rec_consumer, &rec);
    gw_errors_t errs = {0};

    lgw_instance_t *good = th_create(&t, "good", "test_good", "devices = 2;", &errs);
    assert_non_null(good);
    assert_int_equal(errs.n, 0);
    assert_int_equal(gw_instance_start(good), LGW_OK);

    assert_null(th_create(&t, "major", "test_abi_major", "", &errs));
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.msgs[0], "test_abi_major.so"));
    assert_non_null(strstr(errs.msgs[0], "built for ABI 2.0 but this host implements ABI 1.1"));
    assert_true(strncmp(errs.msgs[0], "test.conf:1: ", 13) == 0);

    assert_null(th_create(&t, "minor", "test_abi_minor", "", &errs));
    assert_int_equal(errs.n, 2);
    assert_non_null(strstr(errs.msgs[1], "test_abi_minor.so"));
    assert_non_null(strstr(errs.msgs[1], "needs ABI 1.2 but this host implements ABI 1.1"));

    /* a plugin built for ABI 1.0 (before lgw_driver_set_ota) still loads and runs in this 1.1 host */
    lgw_instance_t *old = th_create(&t, "old", "test_abi_old", "", &errs);
    assert_non_null(old);
    assert_int_equal(errs.n, 2);
    assert_int_equal(old->drv.abi, LGW_ABI_ENCODE(1, 0));
    assert_null(old->drv.ota);
    assert_int_equal(gw_instance_start(old), LGW_OK);
    gw_instance_stop(old, NULL, NULL);

    assert_null(th_create(&t, "noreg", "test_no_register", "", &errs));
    assert_int_equal(errs.n, 3);
    assert_non_null(strstr(errs.msgs[2], "test_no_register.so is not a linkgw plugin: it does not export "
                                         "lgw_plugin_register()"));

    assert_null(th_create(&t, "nostop", "test_no_stop", "", &errs));
    assert_int_equal(errs.n, 4);
    assert_non_null(strstr(errs.msgs[3], "did not register the required 'stop' callback"));

    assert_null(th_create(&t, "missing", "no_such_plugin", "", &errs));
    assert_int_equal(errs.n, 5);
    assert_non_null(strstr(errs.msgs[4], "no_such_plugin.so: No such file or directory"));

    assert_null(th_create(&t, "undef", "test_undefined", "", &errs)); /* RTLD_NOW: fails at load */
    assert_int_equal(errs.n, 6);
    assert_non_null(strstr(errs.msgs[5], "cannot load plugin"));
    assert_non_null(strstr(errs.msgs[5], "undefined symbol: lgw_future_function"));

    /* the good instance kept running through all of that */
    th_run_until(&t, has_devices, &rec);
    assert_int_equal(rec.added, 2);
    assert_int_equal(gw_hub_device_count(t.host.hub), 2);
    gw_instance_stop(good, NULL, NULL);
    assert_int_equal(rec.offline, 2);
    assert_int_equal(rec.stopped, 2); /* "old" and "good" */
    gw_errors_free(&errs);
    th_close(&t);
}

static void test_plugin_config_errors(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    assert_null(th_create(&t, "g", "test_good", "devices = 1;\nbogus = 2;\ndevices_x = \"a\";\n"
                                                "write_delay_ms = \"x\";", &errs));
    assert_int_equal(errs.n, 3);
    assert_string_equal(errs.msgs[0], "test.conf:3: unknown setting 'bogus'");
    assert_string_equal(errs.msgs[1], "test.conf:4: unknown setting 'devices_x'");
    assert_string_equal(errs.msgs[2], "test.conf:5: setting 'write_delay_ms' must be an integer, not a string");
    gw_errors_free(&errs);
    th_close(&t);
}

static void test_start_failure(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&t, "f", "test_good", "fail_start = true;", &errs);
    assert_non_null(inst);
    assert_int_equal(gw_instance_start(inst), LGW_EIO); /* destroyed by the host */
    assert_true(gw_list_empty(&t.host.instances));
    gw_errors_free(&errs);
    th_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_plugin_config_errors),
        cmocka_unit_test(test_start_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
