/*
 * bench_cloud: uplink throughput of the cloud link. Starts a broker on a
 * free loopback port (the alink-emu plugin when its path is given, else a
 * plain mosquitto), then sends the same number of QoS 1 Alink property posts
 * (a) through gw_cloud (JSON envelope, ids, loop thread) and (b) through a
 * bare Paho async client, each with at most WINDOW unacknowledged messages,
 * and prints both rates and their ratio. Bounded: N messages, 20 s cap per run.
 *
 * usage: bench_cloud [alink_emu.so registry.json] [messages]
 */
#include <MQTTAsync.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alink_auth.h"
#include "cloud.h"
#include "log.h"
#include "test_util.h"
#include "bench_proc.h"

#define PK "a1TestPK01"
#define DN "gw01"
#define DS "0123456789abcdef0123456789abcdef"
#define TOPIC "/sys/" PK "/" DN "/thing/event/property/post"
#define WINDOW 500
#define CAP_S 20.0

/* ---------------------------------------------------------- via gw_cloud */

typedef struct run {
    gw_cloud_t *c;
    long n, sent;
    double t0, t1;
    bool failed;
} run_t;

static void pump(uv_timer_t *t)
{
    run_t *r = t->data;
    gw_cloud_stats_t st;
    gw_cloud_get_stats(r->c, &st);
    while (r->sent < r->n && (long)(r->sent - (long)st.acked) < WINDOW) {
        json_t *p = json_pack("{s:f, s:I}", "Temperature", 23.5, "Seq", (json_int_t)r->sent);
        int rc = gw_cloud_request(r->c, TOPIC, "thing.event.property.post", p, 0, NULL, NULL, NULL);
        json_decref(p);
        if (rc != LGW_OK) {
            r->failed = true;
            return;
        }
        r->sent++;
    }
}

static bool finished(void *arg)
{
    run_t *r = arg;
    gw_cloud_stats_t st;
    gw_cloud_get_stats(r->c, &st);
    return r->failed || (long)st.acked >= r->n || bench_now_s() - r->t0 > CAP_S;
}

static bool connected(void *arg)
{
    return gw_cloud_state(((run_t *)arg)->c) == GW_CLOUD_CONNECTED;
}

static void closed_cb(void *data)
{
    *(bool *)data = true;
}

static long bench_gw_cloud(int port, long n, double *secs)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gw_cloud_config_t cfg;
    gw_cloud_config_init(&cfg);
    cfg.host = strdup("127.0.0.1");
    cfg.port = port;
    cfg.tls = false;
    cfg.product_key = strdup(PK);
    cfg.device_name = strdup(DN);
    cfg.device_secret = strdup(DS);
    run_t r = {.n = n};
    r.c = gw_cloud_new(&loop, &cfg, NULL);
    gw_cloud_config_free(&cfg);
    long acked = -1;
    if (r.c && gw_cloud_start(r.c) == LGW_OK && tu_run_until(&loop, connected, &r, 10000)) {
        tu_run_for(&loop, 200); /* let SUBACK / NTP settle */
        gw_cloud_stats_t st0;
        gw_cloud_get_stats(r.c, &st0);
        uv_timer_t t;
        uv_timer_init(&loop, &t);
        t.data = &r;
        r.t0 = bench_now_s();
        uv_timer_start(&t, pump, 0, 1);
        tu_run_until(&loop, finished, &r, (unsigned)(CAP_S * 1000) + 1000);
        r.t1 = bench_now_s();
        uv_close((uv_handle_t *)&t, NULL);
        gw_cloud_stats_t st;
        gw_cloud_get_stats(r.c, &st);
        acked = (long)(st.acked - st0.acked);
        *secs = r.t1 - r.t0;
    }
    bool closed = false;
    if (r.c) {
        gw_cloud_close(r.c, closed_cb, &closed);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop);
    return acked;
}

/* ------------------------------------------------------- bare Paho async */

static atomic_long g_acked;
static atomic_int g_conn; /* 0 pending, 1 ok, -1 failed */

static void bare_ok(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx, (void)d;
    atomic_store(&g_conn, 1);
}

static void bare_fail(void *ctx, MQTTAsync_failureData *d)
{
    (void)ctx, (void)d;
    atomic_store(&g_conn, -1);
}

static void bare_delivered(void *ctx, MQTTAsync_token tok)
{
    (void)ctx, (void)tok;
    atomic_fetch_add(&g_acked, 1);
}

static int bare_arrived(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    (void)ctx, (void)len;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static long bench_bare(int port, long n, double *secs)
{
    gw_alink_connect_params_t p = {.product_key = PK, .device_name = DN, .device_secret = DS,
                                   .securemode = GW_ALINK_SECUREMODE_TCP, .sign_method = GW_ALINK_HMAC_SHA256,
                                   .version = "bench", .ext = 1};
    gw_alink_mqtt_cred_t cred;
    if (gw_alink_connect_cred(&p, &cred) != 0)
        return -1;
    char uri[64];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", port);
    MQTTAsync cl;
    if (MQTTAsync_create(&cl, uri, cred.client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS)
        return -1;
    MQTTAsync_setCallbacks(cl, NULL, NULL, bare_arrived, bare_delivered);
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.keepAliveInterval = 300;
    o.cleansession = 1;
    o.username = cred.username;
    o.password = cred.password;
    o.onSuccess = bare_ok;
    o.onFailure = bare_fail;
    long acked = -1;
    if (MQTTAsync_connect(cl, &o) == MQTTASYNC_SUCCESS) {
        double until = bench_now_s() + 10;
        while (atomic_load(&g_conn) == 0 && bench_now_s() < until)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    if (atomic_load(&g_conn) == 1) {
        double t0 = bench_now_s();
        long sent = 0;
        char payload[256];
        while (atomic_load(&g_acked) < n && bench_now_s() - t0 < CAP_S) {
            while (sent < n && sent - atomic_load(&g_acked) < WINDOW) {
                int len = snprintf(payload, sizeof payload,
                                   "{\"id\":\"%ld\",\"version\":\"1.0\",\"params\":{\"Temperature\":23.5,\"Seq\":%ld},"
                                   "\"sys\":{\"ack\":0},\"method\":\"thing.event.property.post\"}",
                                   sent + 1, sent);
                MQTTAsync_message m = MQTTAsync_message_initializer;
                m.payload = payload;
                m.payloadlen = len;
                m.qos = 1;
                if (MQTTAsync_sendMessage(cl, TOPIC, &m, NULL) != MQTTASYNC_SUCCESS)
                    break;
                sent++;
            }
            nanosleep(&(struct timespec){0, 1000000}, NULL);
        }
        *secs = bench_now_s() - t0;
        acked = atomic_load(&g_acked);
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 500;
        MQTTAsync_disconnect(cl, &d);
        nanosleep(&(struct timespec){0, 600000000}, NULL);
    }
    MQTTAsync_destroy(&cl);
    return acked;
}

int main(int argc, char **argv)
{
    const char *plugin = argc >= 3 ? argv[1] : NULL, *registry = argc >= 3 ? argv[2] : NULL;
    long n = argc == 2 ? atol(argv[1]) : argc >= 4 ? atol(argv[3]) : 50000;
    if (n <= 0)
        n = 50000;
    gw_log_set_level(LGW_LOG_WARN);
    tu_broker_t b = {0};
    if (tu_mkdtemp(b.dir, sizeof b.dir) != 0)
        return 1;
    if (plugin) {
        char state[300];
        snprintf(state, sizeof state, "%s/state", b.dir);
        mkdir(state, 0700);
        snprintf(b.global, sizeof b.global, "plugin %s\nplugin_opt_registry %s\nplugin_opt_state_dir %s\n", plugin,
                 registry, state);
    }
    if (tu_broker_start(&b) != 0) {
        fprintf(stderr, "bench_cloud: broker did not start\n");
        tu_rmtree(b.dir);
        return 1;
    }
    printf("bench_cloud: %ld QoS 1 property posts to %s on 127.0.0.1:%d, window %d\n", n,
           plugin ? "alink-emu (mosquitto plugin)" : "plain mosquitto", b.port, WINDOW);
    double s1 = 0, s2 = 0;
    long a1 = bench_gw_cloud(b.port, n, &s1);
    long a2 = bench_bare(b.port, n, &s2);
    tu_broker_stop(&b);
    tu_rmtree(b.dir);
    if (a1 <= 0 || a2 <= 0 || s1 <= 0 || s2 <= 0) {
        fprintf(stderr, "bench_cloud: a run failed (gw_cloud acked %ld, bare acked %ld)\n", a1, a2);
        return 1;
    }
    double r1 = a1 / s1, r2 = a2 / s2;
    printf("  gw_cloud : %7ld acked in %6.3f s = %9.0f msg/s\n", a1, s1, r1);
    printf("  bare Paho: %7ld acked in %6.3f s = %9.0f msg/s\n", a2, s2, r2);
    printf("  ratio gw_cloud / bare = %.2f\n", r1 / r2);
    return 0;
}
