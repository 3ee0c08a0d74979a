/*
 * gw_cloud against a real mosquitto on a free loopback port, with a scripted
 * fake platform (tests/cloud/test_util.c) on the other side: connect,
 * subscribe, QoS 1 requests matched by id, platform error codes, timeouts,
 * NTP, downstream dispatch (both RRPC forms, malformed → 460), broker restart
 * (reconnect + resubscribe, no duplicates), refused credentials (backoff, no
 * busy loop), TLS with a test CA and a wrong CA refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloud.h"
#include "log.h"
#include "test_util.h"

#define PK "a1TestGwPK"
#define DN "gw01"
#define DS "0123456789abcdef0123456789abcdef"
#define SYS "/sys/" PK "/" DN
/* Upper bound of every wait for something that must happen: only a safety net
 * (a passing run never waits for it), generous for a loaded 2-core CI machine. */
#define WAIT_MS 30000

typedef struct fixture {
    uv_loop_t loop;
    tu_broker_t broker;
    tu_fake_t fake;
    bool fake_on;
    gw_cloud_t *cloud;
    gw_cloud_state_t states[64];
    int nstates;
    bool closed;
    /* request completions */
    int status[16];
    int code[16];
    char message[16][64];
    int ndone;
    /* downstream */
    int handled;
    gw_cloud_msg_kind_t last_kind;
    char last_service[64];
    char last_params[256];
    bool reply_from_handler;
} fixture_t;

static void on_state(gw_cloud_t *c, gw_cloud_state_t s, void *data)
{
    (void)c;
    fixture_t *f = data;
    if (f->nstates < 64)
        f->states[f->nstates++] = s;
}

static void on_closed(void *data)
{
    ((fixture_t *)data)->closed = true;
}

static bool is_connected(void *arg)
{
    fixture_t *f = arg;
    return gw_cloud_state(f->cloud) == GW_CLOUD_CONNECTED;
}

static void base_config(gw_cloud_config_t *cfg, int port)
{
    gw_cloud_config_init(cfg);
    cfg->host = strdup("127.0.0.1");
    cfg->port = port;
    cfg->tls = false;
    cfg->product_key = strdup(PK);
    cfg->device_name = strdup(DN);
    cfg->device_secret = strdup(DS);
}

static fixture_t *fixture_new(const char *broker_global, bool fake)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    uv_loop_init(&f->loop);
    if (broker_global)
        snprintf(f->broker.global, sizeof f->broker.global, "%s", broker_global);
    assert_int_equal(tu_broker_start(&f->broker), 0);
    if (fake) {
        assert_int_equal(tu_fake_start(&f->fake, f->broker.port), 0);
        f->fake_on = true;
    }
    return f;
}

static void cloud_create(fixture_t *f, gw_cloud_config_t *cfg)
{
    f->cloud = gw_cloud_new(&f->loop, cfg, NULL);
    gw_cloud_config_free(cfg);
    assert_non_null(f->cloud);
    assert_int_equal(gw_cloud_add_state_listener(f->cloud, on_state, f), LGW_OK);
}

static void fixture_free(fixture_t *f)
{
    if (f->cloud) {
        gw_cloud_close(f->cloud, on_closed, f);
        f->cloud = NULL;
        uv_run(&f->loop, UV_RUN_DEFAULT);
        assert_true(f->closed);
    }
    if (f->fake_on)
        tu_fake_stop(&f->fake);
    tu_broker_stop(&f->broker);
    tu_rmtree(f->broker.dir);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

static void on_reply(gw_cloud_t *c, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)c;
    fixture_t *f = data;
    int i = f->ndone++;
    f->status[i] = status;
    f->code[i] = r ? r->code : -1;
    snprintf(f->message[i], sizeof f->message[i], "%s", r && r->message ? r->message : "");
}

/* The outcome of one request, whatever order the completions come in. */
typedef struct slot {
    fixture_t *f;
    bool done;
    int order; /* 1 = first completion */
    int status, code;
    char message[64];
} slot_t;

static void on_reply_slot(gw_cloud_t *c, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)c;
    slot_t *s = data;
    s->done = true;
    s->order = ++s->f->ndone;
    s->status = status;
    s->code = r ? r->code : -1;
    snprintf(s->message, sizeof s->message, "%s", r && r->message ? r->message : "");
}

static bool n_done(void *arg)
{
    fixture_t *f = arg;
    return f->ndone >= 3;
}

static bool ntp_synced(void *arg)
{
    return gw_cloud_time_synced(((fixture_t *)arg)->cloud);
}

static unsigned count_subdevices(void *data)
{
    (void)data;
    return 7;
}

typedef struct wait_post {
    fixture_t *f;
    int n;
} wait_post_t;

static bool self_posts(void *arg)
{
    wait_post_t *w = arg;
    return tu_fake_count(&w->f->fake, SYS "/thing/event/property/post", "\"SubDeviceCount\":7") >= w->n;
}

/* Connect, NTP, QoS 1 requests: success, platform error surfaced, timeout;
 * the gateway's own report; pending requests cancelled by close. */
static void test_connect_request_reply(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL, true);
    gw_cloud_config_t cfg;
    base_config(&cfg, f->broker.port);
    cloud_create(f, &cfg);
    assert_int_equal(gw_cloud_state(f->cloud), GW_CLOUD_IDLE);
    /* not connected: nothing sent */
    assert_int_equal(gw_cloud_request(f->cloud, SYS "/thing/event/property/post", NULL, NULL, 0, on_reply, f, NULL),
                     LGW_ESTATE);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_ESTATE);
    assert_true(tu_run_until(&f->loop, is_connected, f, WAIT_MS));
    assert_int_equal(f->states[0], GW_CLOUD_CONNECTING);
    assert_int_equal(f->states[1], GW_CLOUD_CONNECTED);

    /* NTP: the fake platform runs 5 s ahead */
    assert_true(tu_run_until(&f->loop, ntp_synced, f, WAIT_MS));
    int64_t skew = gw_cloud_time_ms(f->cloud) - (int64_t)uv_hrtime() / 1000000; /* unused: monotonic */
    (void)skew;
    char *ntp = tu_fake_last(&f->fake, "/ext/ntp/" PK "/" DN "/request", "deviceSendTime");
    assert_non_null(ntp);
    free(ntp);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t local = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t diff = gw_cloud_time_ms(f->cloud) - local;
    assert_true(diff > 4000 && diff < 6000);

    json_t *ok = json_pack("{s:f}", "Temperature", 23.5);
    json_t *bad = json_pack("{s:i}", "fail", 1);
    json_t *slow = json_pack("{s:i}", "slow", 1);
    char id1[12], id2[12], id3[12];
    slot_t s1 = {.f = f}, s2 = {.f = f}, s3 = {.f = f};
    assert_int_equal(gw_cloud_request(f->cloud, SYS "/thing/event/property/post", "thing.event.property.post", ok, 0,
                                      on_reply_slot, &s1, id1),
                     LGW_OK);
    assert_int_equal(gw_cloud_request(f->cloud, SYS "/thing/event/property/post", NULL, bad, 0, on_reply_slot, &s2, id2),
                     LGW_OK);
    assert_int_equal(gw_cloud_request(f->cloud, SYS "/thing/event/property/post", NULL, slow, 300, on_reply_slot, &s3,
                                      id3),
                     LGW_OK);
    json_decref(ok);
    json_decref(bad);
    json_decref(slow);
    assert_string_not_equal(id1, id2);
    assert_string_not_equal(id2, id3);
    assert_true(tu_run_until(&f->loop, n_done, f, WAIT_MS));
    /* each reply reaches its own request, in the order the platform sent them; the
     * unanswered one times out (when, relative to the others, depends on the load) */
    assert_true(s1.done && s2.done && s3.done);
    assert_int_equal(s1.status, LGW_OK);
    assert_int_equal(s1.code, 200);
    assert_int_equal(s2.status, LGW_OK);
    assert_int_equal(s2.code, 6106);
    assert_string_equal(s2.message, "map size must less than 200");
    assert_true(s1.order < s2.order);
    assert_int_equal(s3.status, LGW_ETIMEDOUT);

    /* what went on the wire: Alink envelope, string id, sys.ack, method */
    char want[64];
    snprintf(want, sizeof want, "\"id\":\"%s\"", id1);
    char *wire = tu_fake_last(&f->fake, SYS "/thing/event/property/post", want);
    assert_non_null(wire);
    assert_non_null(strstr(wire, "\"version\":\"1.0\""));
    assert_non_null(strstr(wire, "\"sys\":{\"ack\":1}"));
    assert_non_null(strstr(wire, "\"method\":\"thing.event.property.post\""));
    free(wire);

    gw_cloud_stats_t st;
    gw_cloud_get_stats(f->cloud, &st);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.request_timeouts, 1);
    assert_int_equal(st.requests_pending, 0);

    /* the gateway's own property report, sub-device count from a callback */
    assert_int_equal(gw_cloud_self_report(f->cloud, 100, count_subdevices, NULL), LGW_OK);
    wait_post_t w = {f, 2};
    assert_true(tu_run_until(&f->loop, self_posts, &w, WAIT_MS));
    char *self = tu_fake_last(&f->fake, SYS "/thing/event/property/post", "\"SubDeviceCount\":7");
    assert_non_null(self);
    assert_non_null(strstr(self, "\"Uptime\":"));
    assert_non_null(strstr(self, "\"MemoryRssKiB\":"));
    free(self);
    assert_int_equal(gw_cloud_self_report(f->cloud, 0, NULL, NULL), LGW_OK);

    /* closing fails what is still pending with LGW_ECANCELED */
    json_t *slow2 = json_pack("{s:i}", "slow", 1);
    f->ndone = 0;
    assert_int_equal(gw_cloud_request(f->cloud, SYS "/thing/event/property/post", NULL, slow2, 0, on_reply, f, NULL),
                     LGW_OK);
    json_decref(slow2);
    gw_cloud_close(f->cloud, on_closed, f);
    f->cloud = NULL;
    assert_int_equal(f->ndone, 1);
    assert_int_equal(f->status[0], LGW_ECANCELED);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->closed);
    fixture_free(f);
}

/* ------------------------------------------------------------ downstream */

static void on_down(gw_cloud_t *c, const gw_cloud_msg_t *m, void *data)
{
    fixture_t *f = data;
    f->handled++;
    f->last_kind = m->kind;
    snprintf(f->last_service, sizeof f->last_service, "%s", m->service ? m->service : "");
    char *p = m->params ? json_dumps(m->params, JSON_COMPACT) : NULL;
    snprintf(f->last_params, sizeof f->last_params, "%s", p ? p : "");
    free(p);
    if (m->reply_topic && f->reply_from_handler) {
        json_t *data_out = json_pack("{s:i}", "Result", 1);
        assert_int_equal(gw_cloud_reply_to(c, m->reply_topic, m->id, 200, data_out, NULL), LGW_OK);
        json_decref(data_out);
    }
}

typedef struct wait_msg {
    fixture_t *f;
    const char *topic;
    const char *needle;
    int n;
} wait_msg_t;

static bool fake_got(void *arg)
{
    wait_msg_t *w = arg;
    return tu_fake_count(&w->f->fake, w->topic, w->needle) >= w->n;
}

static void expect_fake(fixture_t *f, const char *topic, const char *needle)
{
    wait_msg_t w = {f, topic, needle, 1};
    if (!tu_run_until(&f->loop, fake_got, &w, WAIT_MS))
        fail_msg("no message on %s containing %s", topic, needle ? needle : "(any)");
}

static bool handled_n(void *arg)
{
    fixture_t *f = arg;
    return f->handled >= f->ndone; /* ndone reused as "expected handled" */
}

static void expect_handled(fixture_t *f, int n)
{
    f->ndone = n;
    assert_true(tu_run_until(&f->loop, handled_n, f, WAIT_MS));
}

static void test_downstream_dispatch(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL, true);
    gw_cloud_config_t cfg;
    base_config(&cfg, f->broker.port);
    cloud_create(f, &cfg);
    f->reply_from_handler = true;
    assert_int_equal(gw_cloud_on(f->cloud, "/sys/+/+/thing/service/#", on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_on(f->cloud, "/ext/rrpc/+/sys/+/+/thing/service/+", on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_on(f->cloud, "/sys/+/+/rrpc/request/+", on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_on(f->cloud, SYS "/thing/topo/change", on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_on(f->cloud, "/ext/error/" PK "/" DN, on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_on(f->cloud, "/sys/+/+/thing/disable", NULL, f), LGW_EINVAL);
    /* subscribed but without a handler of its own: answered 400 */
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, is_connected, f, WAIT_MS));
    /* Subscribed: the NTP request follows the SUBSCRIBE of the whole set on the same
     * connection, and its answer arrives on one of those filters. */
    assert_true(tu_run_until(&f->loop, ntp_synced, f, WAIT_MS));

    /* property set on a sub-device topic */
    tu_fake_publish(&f->fake, "/sys/a1SubPK/sub01/thing/service/property/set",
                    "{\"id\":\"41\",\"version\":\"1.0\",\"params\":{\"PowerSwitch\":1},\"method\":\"thing.service.property.set\"}");
    expect_handled(f, 1);
    assert_int_equal(f->last_kind, GW_CLOUD_MSG_PROPERTY_SET);
    assert_string_equal(f->last_params, "{\"PowerSwitch\":1}");
    expect_fake(f, "/sys/a1SubPK/sub01/thing/service/property/set_reply", "\"id\":\"41\",\"code\":200");

    /* async service, numeric id accepted and echoed as a string */
    tu_fake_publish(&f->fake, SYS "/thing/service/Reboot", "{\"id\":42,\"params\":{\"delay\":1}}");
    expect_handled(f, 2);
    assert_int_equal(f->last_kind, GW_CLOUD_MSG_SERVICE);
    assert_string_equal(f->last_service, "Reboot");
    expect_fake(f, SYS "/thing/service/Reboot_reply", "\"id\":\"42\"");

    /* RRPC, /ext/rrpc form: answer on the same topic (our echo is not taken for a request) */
    tu_fake_publish(&f->fake, "/ext/rrpc/777/sys/a1SubPK/sub01/thing/service/Calibrate",
                    "{\"id\":\"43\",\"version\":\"1.0\",\"params\":{\"Offset\":0.5},\"method\":\"thing.service.Calibrate\"}");
    expect_handled(f, 3);
    assert_int_equal(f->last_kind, GW_CLOUD_MSG_RRPC_EXT);
    assert_string_equal(f->last_service, "Calibrate");
    expect_fake(f, "/ext/rrpc/777/sys/a1SubPK/sub01/thing/service/Calibrate", "\"code\":200");

    /* RRPC, /sys/.../rrpc/request form: answer on rrpc/response */
    tu_fake_publish(&f->fake, SYS "/rrpc/request/888",
                    "{\"id\":\"44\",\"params\":{},\"method\":\"thing.service.Calibrate\"}");
    expect_handled(f, 4);
    assert_int_equal(f->last_kind, GW_CLOUD_MSG_RRPC_SYS);
    expect_fake(f, SYS "/rrpc/response/888", "\"id\":\"44\",\"code\":200");

    /* topo/change */
    tu_fake_publish(&f->fake, SYS "/thing/topo/change",
                    "{\"id\":\"45\",\"version\":\"1.0\",\"params\":{\"status\":8,\"subList\":[{\"productKey\":\"a1SubPK\","
                    "\"deviceName\":\"sub01\"}]},\"method\":\"thing.topo.change\"}");
    expect_handled(f, 5);
    assert_int_equal(f->last_kind, GW_CLOUD_MSG_TOPO_CHANGE);
    expect_fake(f, SYS "/thing/topo/change_reply", "\"id\":\"45\",\"code\":200");

    /* /ext/error: no reply */
    tu_fake_publish(&f->fake, "/ext/error/" PK "/" DN,
                    "{\"id\":\"9\",\"code\":520,\"message\":\"device session error\",\"data\":{\"productKey\":\"a1SubPK\","
                    "\"deviceName\":\"sub01\"}}");
    expect_handled(f, 6);
    assert_int_equal(f->last_kind, GW_CLOUD_MSG_EXT_ERROR);

    /* malformed requests: answered 460, handlers never see them, no crash */
    gw_cloud_stats_t st;
    static const struct {
        const char *topic, *payload, *reply, *needle;
    } bad[] = {
        {SYS "/thing/service/property/set", "not json at all", SYS "/thing/service/property/set_reply",
         "\"id\":\"0\",\"code\":460"},
        {SYS "/thing/service/property/set", "{\"id\":\"50\",\"params\":[1,2]}", SYS "/thing/service/property/set_reply",
         "\"id\":\"50\",\"code\":460"},
        {SYS "/thing/service/property/set", "{\"params\":{}}", SYS "/thing/service/property/set_reply",
         "\"id\":\"0\",\"code\":460"},
        {SYS "/thing/service/property/get", "{\"id\":\"51\",\"params\":{}}", SYS "/thing/service/property/get_reply",
         "\"id\":\"51\",\"code\":460"},
        {SYS "/thing/service/Reboot", "[1,2,3]", SYS "/thing/service/Reboot_reply", "\"code\":460"},
        {SYS "/thing/service/Reboot", "{\"id\":\"-4\",\"params\":{}}", SYS "/thing/service/Reboot_reply",
         "\"id\":\"0\",\"code\":460"},
        {SYS "/thing/topo/change", "{\"id\":\"52\",\"params\":{\"status\":\"x\"}}", SYS "/thing/topo/change_reply",
         "\"id\":\"52\",\"code\":460"},
        {SYS "/rrpc/request/999", "\xff\xfe", SYS "/rrpc/response/999", "\"code\":460"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_fake_publish(&f->fake, bad[i].topic, bad[i].payload);
        expect_fake(f, bad[i].reply, bad[i].needle);
    }
    gw_cloud_get_stats(f->cloud, &st);
    assert_int_equal(st.malformed, sizeof bad / sizeof bad[0]);
    assert_int_equal(f->handled, 6);

    /* /ext/error that is not JSON: logged, no crash */
    tu_fake_publish(&f->fake, "/ext/error/" PK "/" DN, "garbage");
    expect_handled(f, 7);
    fixture_free(f);
}

/* ----------------------------------------------------- publisher thread */

#define N_ORDERED 1500
#define ORDER_TOPIC SYS "/thing/event/Sequence/post"

/*
 * Publishes go through the cloud's publisher thread: they reach the broker in
 * publish order, and what was published before gw_cloud_close() still goes
 * out (close waits for the queue before its DISCONNECT).
 */
static void test_publish_order_and_close(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL, true);
    gw_cloud_config_t cfg;
    base_config(&cfg, f->broker.port);
    cloud_create(f, &cfg);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, is_connected, f, WAIT_MS));
    for (int i = 0; i < N_ORDERED; i++) {
        char p[64];
        int n = snprintf(p, sizeof p, "{\"seq\":%d}", i);
        assert_int_equal(gw_cloud_publish(f->cloud, ORDER_TOPIC, p, (size_t)n), LGW_OK);
    }
    gw_cloud_stats_t st;
    gw_cloud_get_stats(f->cloud, &st);
    assert_true(st.published >= N_ORDERED);
    /* once something went through, the handoff figures exist */
    uint32_t p50 = 0, p99 = 0;
    for (int i = 0; i < WAIT_MS / 10 && tu_fake_count(&f->fake, ORDER_TOPIC, NULL) < 1; i++)
        usleep(10000);
    gw_cloud_publish_latency(f->cloud, &p50, &p99);
    assert_true(p99 >= p50);
    gw_cloud_close(f->cloud, on_closed, f);
    f->cloud = NULL;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->closed);
    for (int i = 0; i < WAIT_MS / 10 && tu_fake_count(&f->fake, ORDER_TOPIC, NULL) < N_ORDERED; i++)
        usleep(10000);
    assert_int_equal(tu_fake_count(&f->fake, ORDER_TOPIC, NULL), N_ORDERED);
    int next = 0;
    pthread_mutex_lock(&f->fake.mu);
    for (int i = 0; i < f->fake.nrec; i++) {
        if (strcmp(f->fake.recs[i].topic, ORDER_TOPIC) != 0)
            continue;
        char want[32];
        snprintf(want, sizeof want, "{\"seq\":%d}", next++);
        if (strcmp(f->fake.recs[i].payload, want) != 0) {
            pthread_mutex_unlock(&f->fake.mu);
            fail_msg("message %d out of order: %s", next - 1, f->fake.recs[i].payload);
        }
    }
    pthread_mutex_unlock(&f->fake.mu);
    assert_int_equal(next, N_ORDERED);
    fixture_free(f);
}

/* --------------------------------------------------------- broker restart */

static bool connects_2(void *arg)
{
    fixture_t *f = arg;
    gw_cloud_stats_t st;
    gw_cloud_get_stats(f->cloud, &st);
    return st.connects >= 2 && gw_cloud_state(f->cloud) == GW_CLOUD_CONNECTED;
}

static bool one_done(void *arg)
{
    return ((fixture_t *)arg)->ndone >= 1;
}

static bool two_done(void *arg)
{
    return ((fixture_t *)arg)->ndone >= 2;
}

static void test_broker_restart(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL, false);
    gw_cloud_config_t cfg;
    base_config(&cfg, f->broker.port);
    cloud_create(f, &cfg);
    assert_int_equal(gw_cloud_on(f->cloud, "/sys/+/+/thing/service/#", on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, is_connected, f, WAIT_MS));
    gw_cloud_stats_t before;
    gw_cloud_get_stats(f->cloud, &before);

    /* a request in flight when the broker goes away fails at once with LGW_EIO */
    assert_int_equal(gw_cloud_request(f->cloud, SYS "/thing/event/property/post", NULL, NULL, 60000, on_reply, f, NULL),
                     LGW_OK);
    tu_broker_stop(&f->broker);
    assert_true(tu_run_until(&f->loop, one_done, f, WAIT_MS));
    assert_int_equal(f->status[0], LGW_EIO);
    assert_int_equal(gw_cloud_state(f->cloud), GW_CLOUD_WAITING);
    assert_int_equal(gw_cloud_request(f->cloud, SYS "/thing/event/property/post", NULL, NULL, 0, on_reply, f, NULL),
                     LGW_ESTATE);

    assert_int_equal(tu_broker_start(&f->broker), 0); /* same port */
    assert_true(tu_run_until(&f->loop, connects_2, f, WAIT_MS));
    assert_int_equal(tu_fake_start(&f->fake, f->broker.port), 0);
    f->fake_on = true;
    /* Resubscribed: a request's reply arrives on the post_reply filter, which is
     * part of the set subscribed again at the reconnect. */
    assert_int_equal(gw_cloud_request(f->cloud, SYS "/thing/event/property/post", NULL, NULL, 0, on_reply, f, NULL),
                     LGW_OK);
    assert_true(tu_run_until(&f->loop, two_done, f, WAIT_MS));
    assert_int_equal(f->status[1], LGW_OK);
    assert_int_equal(f->code[1], 200);

    gw_cloud_stats_t after;
    gw_cloud_get_stats(f->cloud, &after);
    /* the subscription set is the same size: resubscribed, not duplicated */
    assert_int_equal(after.subscriptions, before.subscriptions + 1 /* the post_reply filter */);
    /* one SUBSCRIBE for the set at each connect + one for the on-demand reply filter */
    assert_int_equal(after.subscribe_calls, 3);

    /* resubscribed: a downstream message arrives exactly once */
    tu_fake_publish(&f->fake, SYS "/thing/service/property/set", "{\"id\":\"7\",\"params\":{\"a\":1}}");
    expect_handled(f, 1);
    tu_run_for(&f->loop, 300);
    assert_int_equal(f->handled, 1);

    /* state events: connecting, connected, waiting, (connecting, waiting)*, connecting, connected */
    assert_int_equal(f->states[0], GW_CLOUD_CONNECTING);
    assert_int_equal(f->states[1], GW_CLOUD_CONNECTED);
    assert_int_equal(f->states[2], GW_CLOUD_WAITING);
    assert_int_equal(f->states[f->nstates - 1], GW_CLOUD_CONNECTED);
    int connected = 0;
    for (int i = 0; i < f->nstates; i++)
        connected += f->states[i] == GW_CLOUD_CONNECTED;
    assert_int_equal(connected, 2);
    fixture_free(f);
}

/* --------------------------------------------------- refused credentials */

static bool attempts_2(void *arg)
{
    gw_cloud_stats_t st;
    gw_cloud_get_stats(((fixture_t *)arg)->cloud, &st);
    return st.connect_attempts >= 2;
}

static void test_refused_backoff(void **state)
{
    (void)state;
    /* anonymous access off and no password file: every CONNECT is refused */
    fixture_t *f = fixture_new(NULL, false);
    tu_broker_stop(&f->broker);
    snprintf(f->broker.extra, sizeof f->broker.extra, "allow_anonymous false\n");
    assert_int_equal(tu_broker_start(&f->broker), 0);
    gw_cloud_config_t cfg;
    base_config(&cfg, f->broker.port);
    cloud_create(f, &cfg);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    tu_run_for(&f->loop, 3500);
    gw_cloud_stats_t st;
    gw_cloud_get_stats(f->cloud, &st);
    /* backoff 1 s, 2 s, ... (each jittered down to half): at most 5 attempts in 3.5 s (a
     * slow machine only makes fewer) */
    assert_true(st.connect_attempts <= 5);
    assert_int_equal(st.connects, 0);
    assert_true(gw_cloud_state(f->cloud) == GW_CLOUD_WAITING || gw_cloud_state(f->cloud) == GW_CLOUD_CONNECTING);
    /* and it does retry (by now, unless the refusals themselves were slow) */
    assert_true(tu_run_until(&f->loop, attempts_2, f, WAIT_MS));
    gw_cloud_get_stats(f->cloud, &st);
    assert_int_equal(st.connects, 0);
    fixture_free(f);
}

/* ------------------------------------------------------------------ TLS */

static void tls_fixture(fixture_t **out, const char *ca_name, bool verify)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    uv_loop_init(&f->loop);
    assert_int_equal(tu_mkdtemp(f->broker.dir, sizeof f->broker.dir), 0);
    assert_int_equal(tu_make_certs(f->broker.dir), 0);
    snprintf(f->broker.extra, sizeof f->broker.extra, "cafile %s/ca.pem\ncertfile %s/server.pem\nkeyfile %s/server.key\n",
             f->broker.dir, f->broker.dir, f->broker.dir);
    assert_int_equal(tu_broker_start(&f->broker), 0);
    gw_cloud_config_t cfg;
    base_config(&cfg, f->broker.port);
    cfg.tls = true;
    cfg.verify = verify;
    char ca[600];
    snprintf(ca, sizeof ca, "%s/%s", f->broker.dir, ca_name);
    cfg.ca_file = strdup(ca);
    cloud_create(f, &cfg);
    *out = f;
}

static void test_tls_verified(void **state)
{
    (void)state;
    fixture_t *f;
    tls_fixture(&f, "ca.pem", true);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, is_connected, f, WAIT_MS));
    fixture_free(f);
}

static void test_tls_wrong_ca_refused(void **state)
{
    (void)state;
    fixture_t *f;
    tls_fixture(&f, "other-ca.pem", true);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    tu_run_for(&f->loop, 2500);
    gw_cloud_stats_t st;
    gw_cloud_get_stats(f->cloud, &st);
    assert_int_equal(st.connects, 0);
    assert_true(st.connect_attempts >= 1 && st.connect_attempts <= 4);
    assert_true(gw_cloud_state(f->cloud) == GW_CLOUD_WAITING || gw_cloud_state(f->cloud) == GW_CLOUD_CONNECTING);
    fixture_free(f);
}

int main(void)
{
    gw_log_set_level(getenv("CLOUD_TEST_DEBUG") ? LGW_LOG_DEBUG : LGW_LOG_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_request_reply), cmocka_unit_test(test_downstream_dispatch),
        cmocka_unit_test(test_broker_restart),        cmocka_unit_test(test_refused_backoff),
        cmocka_unit_test(test_tls_verified),          cmocka_unit_test(test_tls_wrong_ca_refused),
        cmocka_unit_test(test_publish_order_and_close),
    };
    if (getenv("CLOUD_TEST_FILTER"))
        cmocka_set_test_filter(getenv("CLOUD_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
