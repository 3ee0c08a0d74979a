/*
 * The device hub: LocalDevList and downlink requests (completion, immediate
 * failures, timeout with late completion, instance stop, read from last
 * values, remove).
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

typedef struct answer {
    int calls;
    int code;
    char message[256];
    char output[256];
} answer_t;

static void on_done(void *data, int code, const char *message, const lgw_value_t *output)
{
    answer_t *a = data;
    a->calls++;
    a->code = code;
    snprintf(a->message, sizeof a->message, "%s", message ? message : "");
    lgw_value_to_string(output, a->output, sizeof a->output);
}

static bool answered(void *arg) { return ((answer_t *)arg)->calls > 0; }
static bool two_online(void *arg) { return ((rec_t *)arg)->online >= 2; }

typedef struct fixture {
    th_t t;
    rec_t rec;
    gw_errors_t errs;
    lgw_instance_t *inst;
} fixture_t;

static void setup(fixture_t *f, const char *settings)
{
    memset(f, 0, sizeof *f);
    th_open(&f->t);
    rec_init(&f->rec);
    gw_hub_set_consumer(f->t.host.hub, &rec_consumer, &f->rec);
    f->inst = th_create(&f->t, "hubt", "test_good", settings, &f->errs);
    assert_non_null(f->inst);
    assert_int_equal(gw_instance_start(f->inst), LGW_OK);
    th_run_until(&f->t, two_online, &f->rec);
}

static void teardown(fixture_t *f)
{
    if (f->inst)
        gw_instance_stop(f->inst, NULL, NULL);
    gw_errors_free(&f->errs);
    th_close(&f->t);
}

static lgw_value_t *power(bool on)
{
    lgw_value_t *v = lgw_value_new_struct();
    lgw_value_struct_set(v, "power", lgw_value_new_bool(on));
    return v;
}

static void test_devlist_and_write(void **state)
{
    (void)state;
    fixture_t f;
    setup(&f, "devices = 2; write_delay_ms = 0;");
    gw_hub_t *hub = f.t.host.hub;
    assert_int_equal(gw_hub_device_count(hub), 2);
    const gw_hub_device_t *d = gw_hub_find(hub, "hubt", "dev1");
    assert_non_null(d);
    assert_true(d->online);
    assert_string_equal(d->model, "thing");
    assert_string_equal(d->instance, "hubt");
    assert_null(gw_hub_find(hub, "hubt", "dev9"));
    assert_null(gw_hub_find(hub, "other", "dev1"));

    lgw_value_t *v = power(true);
    answer_t a = {0};
    gw_hub_write(hub, "hubt", "dev0", v, on_done, &a);
    assert_int_equal(a.calls, 0); /* never inside the call */
    th_run_until(&f.t, answered, &a);
    assert_int_equal(a.code, 200);
    assert_string_equal(a.message, "written at once");

    answer_t b = {0};
    lgw_value_t *empty = lgw_value_new_struct();
    gw_hub_write(hub, "hubt", "dev0", empty, on_done, &b); /* plugin refuses: EINVAL */
    th_run_until(&f.t, answered, &b);
    assert_int_equal(b.code, LGW_REPLY_PARAM_ERROR);

    answer_t c = {0};
    gw_hub_write(hub, "hubt", "nodev", v, on_done, &c);
    th_run_until(&f.t, answered, &c);
    assert_int_equal(c.code, 400);
    assert_string_equal(c.message, "unknown device 'nodev' on instance 'hubt'");

    answer_t e = {0};
    gw_hub_write(hub, "noinst", "dev0", v, on_done, &e);
    th_run_until(&f.t, answered, &e);
    assert_int_equal(e.code, 400);
    assert_string_equal(e.message, "no running instance 'noinst'");

    answer_t g = {0};
    lgw_value_t *in = lgw_value_new_struct();
    lgw_value_struct_set(in, "x", lgw_value_new_int(7));
    gw_hub_invoke(hub, "hubt", "dev1", "echo", in, on_done, &g);
    th_run_until(&f.t, answered, &g);
    assert_int_equal(g.code, 200);
    assert_string_equal(g.output, "{\"x\":7}");

    answer_t h = {0};
    gw_hub_invoke(hub, "hubt", "dev1", "nosuch", NULL, on_done, &h);
    th_run_until(&f.t, answered, &h);
    assert_int_equal(h.code, 400);

    answer_t k = {0};
    gw_hub_invoke(hub, "hubt", "dev1", "busy", NULL, on_done, &k);
    th_run_until(&f.t, answered, &k);
    assert_int_equal(k.code, LGW_REPLY_TOO_MANY);
    assert_string_equal(k.message, "busy");

    assert_int_equal(gw_hub_discovery(hub, "hubt", true), LGW_ENOTSUP);

    lgw_value_free(in);
    lgw_value_free(empty);
    lgw_value_free(v);
    teardown(&f);
}

static bool got_n(void *arg)
{
    const gw_hub_device_t *d = arg;
    return gw_hub_value(d, "n") != NULL;
}

static void test_read_from_last_values_and_remove(void **state)
{
    (void)state;
    fixture_t f;
    setup(&f, "devices = 2; interval_ms = 5;");
    gw_hub_t *hub = f.t.host.hub;
    th_run_until(&f.t, got_n, (void *)gw_hub_find(hub, "hubt", "dev0"));
    lgw_value_t *names = lgw_value_new_array();
    lgw_value_array_append(names, lgw_value_new_text("n"));
    lgw_value_array_append(names, lgw_value_new_text("unknown"));
    answer_t a = {0};
    gw_hub_read(hub, "hubt", "dev0", names, on_done, &a);
    th_run_until(&f.t, answered, &a);
    assert_int_equal(a.code, 200);
    assert_non_null(strstr(a.output, "{\"n\":"));
    assert_null(strstr(a.output, "unknown"));
    lgw_value_free(names);

    answer_t r = {0};
    gw_hub_remove(hub, "hubt", "dev1", on_done, &r);
    assert_null(gw_hub_find(hub, "hubt", "dev1")); /* forgotten at once */
    th_run_until(&f.t, answered, &r);
    assert_int_equal(r.code, 200);
    assert_int_equal(gw_hub_device_count(hub), 1);
    teardown(&f);
}

static void test_timeout_and_late_completion(void **state)
{
    (void)state;
    fixture_t f;
    setup(&f, "devices = 2; write_delay_ms = 300;");
    f.t.host.request_timeout_ms = 50;
    lgw_value_t *v = power(false);
    answer_t a = {0};
    gw_hub_write(f.t.host.hub, "hubt", "dev0", v, on_done, &a);
    th_run_until(&f.t, answered, &a);
    assert_int_equal(a.code, 400);
    assert_non_null(strstr(a.message, "timed out after 50 ms"));
    th_run_for(&f.t, 500); /* the plugin completes late: ignored */
    assert_int_equal(a.calls, 1);
    lgw_value_free(v);
    teardown(&f);
}

static void test_stop_answers_pending(void **state)
{
    (void)state;
    fixture_t f;
    setup(&f, "devices = 2; write_delay_ms = -1;"); /* never completes */
    lgw_value_t *v = power(true);
    answer_t a = {0}, b = {0};
    gw_hub_write(f.t.host.hub, "hubt", "dev0", v, on_done, &a);
    gw_hub_write(f.t.host.hub, "hubt", "dev1", v, on_done, &b);
    th_run_for(&f.t, 20);
    assert_int_equal(a.calls, 0);
    gw_instance_stop(f.inst, NULL, NULL);
    f.inst = NULL;
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(a.code, 400);
    assert_non_null(strstr(a.message, "instance 'hubt' stopped"));
    assert_int_equal(f.rec.offline, 2);
    assert_int_equal(gw_hub_device_count(f.t.host.hub), 0);
    lgw_value_free(v);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devlist_and_write),
        cmocka_unit_test(test_read_from_last_values_and_remove),
        cmocka_unit_test(test_timeout_and_late_completion),
        cmocka_unit_test(test_stop_answers_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
