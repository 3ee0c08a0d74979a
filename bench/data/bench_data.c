/*
 * bench_data: the data path end to end, in one bounded run (prints numbers,
 * asserts nothing).
 *
 *  1. Uplink: the real linkgw daemon with N sim power meters (2 points each,
 *     both change on every report) reporting every I ms, mapped to a TSL
 *     product, connected to a real broker running the Alink emulator. After
 *     every sub-device logged in, a window of D seconds is measured: values
 *     acknowledged by the platform per second (from the daemon's totals, with
 *     the window's share estimated from reports) and the daemon's CPU time
 *     per value in the window (/proc/<pid>/stat utime+stime; includes the sim
 *     plugin generating the values and the hub), split by thread name (the
 *     loop "linkgw", "cloud-publish", Paho's two), and the broker's CPU; the
 *     same load without a cloud section first gives the sim + hub share. At
 *     close the daemon logs the cloud's publish handoff (queued → accepted by
 *     Paho), printed too. 1000 devices every 20 ms = 100,000 values/s.
 *  2. Beside it, in the same run and against the same broker: a bare Paho
 *     MQTT async client publishing pack/post messages of the same size
 *     (QoS 1, PUBACKs counted) — the transport baseline.
 *  3. Downlink: R property sets from a console client ($emu/request, one at
 *     a time) → gateway → sim write → reply; round trip p50/p99.
 *
 * Usage: bench_data [devices=1000] [interval_ms=20] [seconds=10] [sets=200] ["data settings"]
 * The last argument is added to the daemon's `data { … }` group, e.g. "wal = false;" to
 * measure the write-ahead log's share (it is on by default).
 * Needs LINKGW_BIN and LINKGW_TEST_PLUGIN_DIR (set by `make bench-data` or by hand).
 */
#include <MQTTAsync.h>
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data_fixture.h"
#include "emu_sign.h"
#include "bench_proc.h"

/* CPU seconds per thread name of @p pid (the loop is "linkgw"; Paho's, the sim's and
 * the host pool's threads carry their own names). */
#define MAX_THREAD_KINDS 16
typedef struct {
    int n;
    char name[MAX_THREAD_KINDS][20];
    double cpu[MAX_THREAD_KINDS];
    int count[MAX_THREAD_KINDS];
} thread_cpu_t;

static void threads_cpu(pid_t pid, thread_cpu_t *out)
{
    char path[320];
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    struct dirent *e;
    while (dir && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char buf[1024];
        snprintf(path, sizeof path, "/proc/%d/task/%s/stat", (int)pid, e->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        if (!open || !close || sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
            continue;
        *close = '\0';
        int k = 0;
        while (k < out->n && strcmp(out->name[k], open + 1))
            k++;
        if (k == out->n) {
            if (out->n == MAX_THREAD_KINDS)
                continue;
            snprintf(out->name[out->n++], sizeof out->name[0], "%s", open + 1);
        }
        out->cpu[k] += (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
        out->count[k]++;
    }
    if (dir)
        closedir(dir);
}

static long long status_logged_in(df_t *f)
{
    json_t *st = df_ctl(f, "{\"cmd\":\"status\"}");
    json_t *v = json_object_get(json_object_get(json_object_get(st, "status"), "lists"), "logged_in");
    long long n = json_is_integer(v) ? json_integer_value(v) : -1;
    json_decref(st);
    return n;
}

/* "key=value" from the daemon's last "data: totals:" line. */
static long long totals(df_t *f, const char *key)
{
    FILE *fp = fopen(f->log, "r");
    char line[4096], last[4096] = "";
    while (fp && fgets(line, sizeof line, fp))
        if (strstr(line, "totals: reported="))
            snprintf(last, sizeof last, "%s", line);
    if (fp)
        fclose(fp);
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    char *p = strstr(last, pat);
    if (!p && !strncmp(key, "reported", 8))
        p = strstr(last, "reported=") - 1;
    return p ? atoll(strchr(p, '=') + 1) : -1;
}

/* ---- bare Paho baseline ------------------------------------------------------------- */

typedef struct bare {
    volatile long acked, failed;
    volatile int connected;
} bare_t;

static void bare_on_connect(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    ((bare_t *)ctx)->connected = 1;
}
static void bare_on_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    ((bare_t *)ctx)->connected = -1;
}
static void bare_on_sent(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    __atomic_add_fetch(&((bare_t *)ctx)->acked, 1, __ATOMIC_RELAXED);
}
static void bare_on_fail(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    __atomic_add_fetch(&((bare_t *)ctx)->failed, 1, __ATOMIC_RELAXED);
}
static int bare_on_message(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)len;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

/* Publishes @p n pack/post messages of @p values values each; prints msg/s and values/s. */
static void bare_paho(df_t *f, const char *pk, const char *dn, const char *ds, long n, int values)
{
    char uri[64], cid[256], user[128], content[512], pass[65];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", f->b.port);
    snprintf(cid, sizeof cid, "%s.%s|securemode=3,signmethod=hmacsha256,timestamp=2524608000000|", pk, dn);
    snprintf(user, sizeof user, "%s&%s", dn, pk);
    char cidsign[128];
    snprintf(cidsign, sizeof cidsign, "%s.%s", pk, dn);
    emu_sign_content(content, sizeof content, NULL, cidsign, dn, pk, "2524608000000");
    emu_hmac_hex(EMU_HMAC_SHA256, ds, content, pass);
    MQTTAsync c;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.maxBufferedMessages = 100000;
    if (MQTTAsync_createWithOptions(&c, uri, cid, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co) != MQTTASYNC_SUCCESS)
        return;
    bare_t b = {0};
    MQTTAsync_setCallbacks(c, &b, NULL, bare_on_message, NULL);
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.keepAliveInterval = 60;
    o.cleansession = 1;
    o.username = user;
    o.password = pass;
    o.maxInflight = 1000;
    o.onSuccess = bare_on_connect;
    o.onFailure = bare_on_connect_fail;
    o.context = &b;
    MQTTAsync_connect(c, &o);
    for (int i = 0; i < 500 && !b.connected; i++)
        usleep(10000);
    if (b.connected != 1) {
        printf("bare Paho: could not connect\n");
        MQTTAsync_destroy(&c);
        return;
    }
    /* a pack/post of 20 sub-devices carrying `values` values, like the gateway's */
    json_t *subs = json_array();
    for (int d = 0; d < 20; d++) {
        json_t *props = json_object();
        for (int v = 0; v < values / 20; v++) {
            char id[16];
            snprintf(id, sizeof id, "P%d", v);
            json_object_set_new(props, id, json_pack("{s:f,s:I}", "value", 1234.5678 + v, "time", (json_int_t)1795777784208));
        }
        char sdn[32];
        snprintf(sdn, sizeof sdn, "bare-%d", d);
        json_array_append_new(subs, json_pack("{s{ssss}so}", "identity", "productKey", "a1DMeter", "deviceName", sdn,
                                              "properties", props));
    }
    json_t *msg = json_pack("{sssss{so}s{si}ss}", "id", "1", "version", "1.0", "params", "subDevices", subs, "sys", "ack", 0,
                            "method", "thing.event.property.pack.post");
    char *payload = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    char topic[200];
    snprintf(topic, sizeof topic, "/sys/%s/%s/thing/event/property/pack/post", pk, dn);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = bare_on_sent;
    ro.onFailure = bare_on_fail;
    ro.context = &b;
    double t0 = bench_now_s();
    long sent = 0;
    while (sent < n) {
        if (sent - b.acked - b.failed > 900) { /* stay inside the in-flight window */
            usleep(200);
            continue;
        }
        if (MQTTAsync_send(c, topic, (int)strlen(payload), payload, 1, 0, &ro) == MQTTASYNC_SUCCESS)
            sent++;
        else
            usleep(200);
    }
    while (b.acked + b.failed < n && bench_now_s() - t0 < 60)
        usleep(1000);
    double dt = bench_now_s() - t0;
    printf("bare Paho async QoS 1: %ld msgs of %zu bytes (%d values) in %.2f s: %.0f msg/s, %.0f values/s (%ld failed)\n", n,
           strlen(payload), values, dt, (double)b.acked / dt, (double)b.acked * values / dt, b.failed);
    free(payload);
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(c, &d);
    usleep(100000);
    MQTTAsync_destroy(&c);
}

/* ---- downlink round trip ----------------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void downlink(df_t *f, int n, const char *what, const char *params_fmt, int want)
{
    int connack = -1;
    emu_client_t *adm = emu_client_connect(&f->b, "bench-console", "emu-admin", "emu-admin", 60, false, &connack);
    if (!adm || emu_client_sub(adm, "$emu/response") < 0) {
        printf("downlink: console client failed (connack %d)\n", connack);
        if (adm)
            emu_client_close(adm);
        return;
    }
    double *rtt = calloc((size_t)n, sizeof *rtt);
    int ok = 0, bad = 0, timeouts = 0;
    for (int i = 0; i < n; i++) {
        char req[300];
        snprintf(req, sizeof req,
                 "{\"cmd\":\"prop.set\",\"cid\":\"b%d\",\"productKey\":\"a1DLight\",\"deviceName\":\"light-0\","
                 "\"params\":{\"%s\":%d}}",
                 i, params_fmt, i % 10);
        double t0 = bench_now_s();
        emu_client_pub(adm, "$emu/request", req);
        json_t *r = emu_client_wait(adm, "$emu/response", 10000);
        double dt = bench_now_s() - t0;
        if (!r && ++timeouts >= 3) {
            printf("  downlink: 3 requests unanswered, giving up (broker overloaded?)\n");
            break;
        }
        json_t *code = json_object_get(r, "code");
        if (json_is_integer(code) && json_integer_value(code) == want)
            rtt[ok++] = dt * 1000.0;
        else if (bad++ == 0) {
            char *t = json_dumps(r, JSON_COMPACT);
            printf("  first failure: %s\n", t ? t : "(no answer)");
            free(t);
        }
        json_decref(r);
    }
    qsort(rtt, (size_t)ok, sizeof *rtt, cmp_d);
    if (ok)
        printf("downlink %s round trip: %d ok, %d failed; p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", what, ok, bad, rtt[ok / 2], rtt[(int)(ok * 0.99) < ok ? (int)(ok * 0.99) : ok - 1], rtt[ok - 1]);
    else
        printf("downlink: no successful property set (%d failed)\n", bad);
    free(rtt);
    emu_client_close(adm);
}

/*
 * The same property set published by a console client straight on the
 * device's downstream topic (the admin may publish anywhere) and its answer
 * read from set_reply: only broker hops, no emulator-generated messages
 * (mosquitto delivers those on its next loop wake-up, adding up to ~100 ms).
 */
static void downlink_direct(df_t *f, int n)
{
    int connack = -1;
    emu_client_t *adm = emu_client_connect(&f->b, "bench-direct", "emu-admin", "emu-admin", 60, false, &connack);
    const char *rt = "/sys/a1DLight/light-0/thing/service/property/set_reply";
    if (!adm || emu_client_sub(adm, rt) < 0) {
        if (adm)
            emu_client_close(adm);
        return;
    }
    double *rtt = calloc((size_t)n, sizeof *rtt);
    int ok = 0, timeouts = 0;
    for (int i = 0; i < n; i++) {
        char req[300];
        snprintf(req, sizeof req, "{\"id\":\"%d\",\"version\":\"1.0\",\"params\":{\"Brightness\":%d},"
                 "\"method\":\"thing.service.property.set\"}", 900000 + i, i % 100);
        double t0 = bench_now_s();
        emu_client_pub(adm, "/sys/a1DLight/light-0/thing/service/property/set", req);
        json_t *r = emu_client_wait(adm, rt, 10000);
        double dt = bench_now_s() - t0;
        if (!r && ++timeouts >= 3)
            break;
        if (json_integer_value(json_object_get(r, "code")) == 200)
            rtt[ok++] = dt * 1000.0;
        json_decref(r);
    }
    qsort(rtt, (size_t)ok, sizeof *rtt, cmp_d);
    if (ok)
        printf("downlink property set, direct (client → broker → gateway → sim write → reply → broker → client): "
               "%d/%d ok; p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
               ok, n, rtt[ok / 2], rtt[(int)(ok * 0.99) < ok ? (int)(ok * 0.99) : ok - 1], rtt[ok - 1]);
    free(rtt);
    emu_client_close(adm);
}

int main(int argc, char **argv)
{
    int devices = argc > 1 ? atoi(argv[1]) : 1000;
    int interval = argc > 2 ? atoi(argv[2]) : 20;
    int seconds = argc > 3 ? atoi(argv[3]) : 10;
    int sets = argc > 4 ? atoi(argv[4]) : 200;
    const char *data_extra = argc > 5 ? argv[5] : "";
    if (devices < 1 || devices > 20000 || interval < 1 || seconds < 1 || seconds > 120 || sets < 0) {
        fprintf(stderr, "usage: bench_data [devices 1..20000] [interval_ms] [seconds 1..120] [sets] [\"data settings\"]\n");
        return 2;
    }
    if (!getenv("LINKGW_BIN") || !getenv("LINKGW_TEST_PLUGIN_DIR")) {
        fprintf(stderr, "bench_data: set LINKGW_BIN and LINKGW_TEST_PLUGIN_DIR\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    df_t f;
    json_t *extra = json_array();
    for (int i = 0; i < devices; i++) {
        char dn[32];
        snprintf(dn, sizeof dn, "bmeter-%d", i);
        json_array_append_new(extra, json_pack("{ssss}", "productKey", "a1DMeter", "deviceName", dn));
    }
    json_array_append_new(extra, json_pack("{ssssss}", "productKey", DF_GW_PK, "deviceName", "gw-bare", "deviceSecret",
                                           "bare0123456789abcdef0123456789ab"));
    if (df_start_broker_ex(&f, extra) != 0) {
        fprintf(stderr, "bench_data: broker did not start\n");
        return 1;
    }
    char conf[2048];
    snprintf(conf, sizeof conf,
             "plugin = \"sim\";\n"
             "settings = { power_meter = { count = %d; interval_ms = %d; prefix = \"bmeter-\"; watts = 500.0; noise = 50.0; };\n"
             "             light = { count = 1; interval_ms = 1000; }; };\n"
             "subdevice = { register = true; };\n"
             "models = {\n"
             "  power_meter = { product_key = \"a1DMeter\";\n"
             "    points = ( { point = \"power\"; property = \"Power\"; }, { point = \"energy\"; property = \"Energy\"; } ); };\n"
             "  light = { product_key = \"a1DLight\";\n"
             "    points = ( { point = \"power\"; property = \"PowerSwitch\"; }, { point = \"brightness\"; property = \"Brightness\"; } ); };\n"
             "};\n",
             devices, interval);
    df_conf_t confs[] = {{"bench", conf}};
    /* 0. the same daemon and sim load without a cloud section: plugin + hub only */
    f.no_cloud = true;
    snprintf(f.log_level, sizeof f.log_level, "warn");
    double base_cpu = -1;
    if (df_start_gateway(&f, "gateway = { login_rate = 200; };", confs, 1) == 0) {
        sleep(2);
        double b0 = bench_proc_cpu(f.gw), bt0 = bench_now_s();
        sleep((unsigned)seconds);
        base_cpu = (bench_proc_cpu(f.gw) - b0) / (bench_now_s() - bt0);
        df_stop_gateway(&f);
    }
    f.no_cloud = false;
    snprintf(f.log_level, sizeof f.log_level, "info");
    char main_extra[512];
    snprintf(main_extra, sizeof main_extra, "gateway = { login_rate = 200; };\ndata = { stats_interval_s = 1; %s };",
             data_extra);
    if (df_start_gateway(&f, main_extra, confs, 1) != 0) {
        fprintf(stderr, "bench_data: linkgw did not start\n");
        df_cleanup(&f);
        return 1;
    }
    printf("bench_data: %d sim power meters every %d ms (%.0f values/s offered), window %d s, data { %s }\n", devices,
           interval, devices * 2 * 1000.0 / interval, seconds, data_extra);
    double t0 = bench_now_s();
    long long in = -1;
    while (bench_now_s() - t0 < 60 && (in = status_logged_in(&f)) < devices + 1)
        usleep(200000);
    double t_login = bench_now_s();
    printf("logins: %lld sub-devices logged in after %.1f s\n", in, t_login - t0);
    /* while the uplink runs: a set the gateway refuses itself (no plugin), then real writes */
    downlink(&f, sets, "refused set (console → emulator → gateway, 6320 → console)", "Ghost", 6320);
    downlink_direct(&f, sets);
    downlink(&f, sets, "property set (console → emulator → gateway → sim write → reply → console)", "Brightness", 200);
    thread_cpu_t th0, th1;
    threads_cpu(f.gw, &th0);
    double c0 = bench_proc_cpu(f.gw), w0 = bench_now_s(), bc0 = bench_proc_cpu(f.b.pid);
    long long a0 = totals(&f, "acked");
    sleep((unsigned)seconds);
    double c1 = bench_proc_cpu(f.gw), w1 = bench_now_s(), bc1 = bench_proc_cpu(f.b.pid);
    long long a1 = totals(&f, "acked");
    threads_cpu(f.gw, &th1);
    int rc = df_stop_gateway(&f);
    double t_stop = bench_now_s();
    long long rep = totals(&f, "reported"), acked = totals(&f, "acked"), posts = totals(&f, "posts"),
              sent = totals(&f, "sent");
    double offered = devices * 2 * 1000.0 / interval;
    /* acked values in the window, from the per-second counter lines */
    double rate = (double)(a1 - a0) / (w1 - w0);
    (void)t_stop;
    printf("uplink: whole run: reported %lld values, sent %lld in %lld posts (%.1f values/post), acked %lld\n", rep,
           sent, posts, posts > 0 ? (double)sent / posts : 0, acked);
    printf("uplink window: %.0f values/s acknowledged by the platform (offered %.0f/s)\n", rate, offered);
    printf("write-ahead log at shutdown: %lld segment(s) (0: off), %lld value(s) not logged because it was full\n",
           totals(&f, "wal_segments"), totals(&f, "wal_full"));
    printf("downlink inside the gateway (request arrival on the loop → reply queued for Paho): p50 %lld µs, p99 %lld µs\n",
           totals(&f, "downlink_p50_us"), totals(&f, "downlink_p99_us"));
    printf("uplink: daemon CPU %.2f s in a %.1f s window = %.2f µs per value at %.0f values/s "
           "(sim plugin + hub + data layer + Paho)\n",
           c1 - c0, w1 - w0, rate > 0 ? (c1 - c0) * 1e6 / (rate * (w1 - w0)) : 0, rate);
    for (int k = 0; rate > 0 && k < th1.n; k++) {
        double before = 0;
        for (int j = 0; j < th0.n; j++)
            if (!strcmp(th0.name[j], th1.name[k]))
                before = th0.cpu[j];
        printf("  thread %-16s x%-2d %.2f µs per value\n", th1.name[k], th1.count[k],
               (th1.cpu[k] - before) * 1e6 / (rate * (w1 - w0)));
    }
    printf("broker (mosquitto + emulator plugin): %.0f %% of a core in the window\n", (bc1 - bc0) * 100 / (w1 - w0));
    if (base_cpu >= 0 && rate > 0)
        printf("uplink: without the cloud section the same load costs %.1f %% of a core (sim + hub); the data layer "
               "+ cloud link add %.2f µs per value\n",
               base_cpu * 100, ((c1 - c0) / (w1 - w0) - base_cpu) * 1e6 / rate);
    /* the cloud's own figure, logged when it closes: cloud_send() → accepted by Paho's client */
    FILE *lf = fopen(f.log, "r");
    char line[1024];
    while (lf && fgets(line, sizeof line, lf)) {
        char *h = strstr(line, "publish handoff");
        if (h)
            printf("cloud: %s", h);
    }
    if (lf)
        fclose(lf);
    char keep[600];
    snprintf(keep, sizeof keep, "cp %s /tmp/bench_data_linkgw.%d.log", f.log, (int)getpid());
    if (system(keep) == 0)
        printf("daemon log kept in /tmp/bench_data_linkgw.%d.log\n", (int)getpid());
    if (rc != 0)
        printf("linkgw exit status %d\n", rc);
    /* the transport baseline, same broker, same run, gateway stopped */
    bare_paho(&f, DF_GW_PK, "gw-bare", "bare0123456789abcdef0123456789ab", 20000,
              posts > 0 && sent >= 30 * posts ? (int)((double)sent / (double)posts / 20 + 0.5) * 20 : 20);
    df_cleanup(&f);
    return 0;
}
