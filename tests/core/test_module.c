/* Core module registry: priorities, init/start/stop order, asynchronous stop. */
#include "harness.h"
#include "module.h"

#include <string.h>

static char g_trace[256];
static void trace(const char *s) { strcat(g_trace, s); }

static int a_init(void) { trace("ia "); return LGW_OK; }
static int a_start(gw_host_t *h, const gw_main_conf_t *mc) { (void)h; (void)mc; trace("sa "); return LGW_OK; }
static void a_stop(gw_host_t *h, void (*done)(void *), void *arg) { (void)h; trace("pa "); done(arg); }

static int b_init(void) { trace("ib "); return LGW_OK; }
static int b_start(gw_host_t *h, const gw_main_conf_t *mc) { (void)h; (void)mc; trace("sb "); return LGW_OK; }

/* b stops asynchronously: done from a timer callback */
static uv_timer_t g_timer;
static void (*g_done)(void *);
static void *g_arg;
static void b_later(uv_timer_t *t)
{
    trace("pb-done ");
    uv_close((uv_handle_t *)t, NULL);
    g_done(g_arg);
}
static void b_stop(gw_host_t *h, void (*done)(void *), void *arg)
{
    trace("pb ");
    g_done = done;
    g_arg = arg;
    uv_timer_init(h->loop, &g_timer);
    uv_timer_start(&g_timer, b_later, 1, 0);
}

GW_MODULE(test_b, 200, b_init, b_start, b_stop)
GW_MODULE(test_a, 100, a_init, a_start, a_stop)

static void all_done(void *arg) { *(bool *)arg = true; }
static bool is_true(void *arg) { return *(bool *)arg; }

static void test_order(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    assert_int_equal(gw_modules_init(), LGW_OK);
    assert_int_equal(gw_modules_init(), LGW_OK); /* once only */
    gw_main_conf_t mc;
    memset(&mc, 0, sizeof mc);
    assert_int_equal(gw_modules_start(&t.host, &mc), LGW_OK);
    bool done = false;
    gw_modules_stop(&t.host, all_done, &done);
    assert_false(done); /* b is still stopping */
    th_run_until(&t, is_true, &done);
    assert_string_equal(g_trace, "ia ib sa sb pb pb-done pa ");
    th_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_order)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
