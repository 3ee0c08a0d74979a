/*
 * OTA end to end: the gateway's cloud session against the platform emulator
 * (tools/alink-emu in a real mosquitto on a free port), tasks pushed with the
 * emulator's CLI (`alink-emu ota push`), images served over HTTPS with a test
 * CA made by tools/alink-emu/gen-test-ca.sh — by `openssl s_server -WWW` or by
 * the tests' own server (https_server.c) where cuts and Range are needed —
 * and sub-devices behind two test plugins (one with the ABI 1.1 ota callback,
 * one built for ABI 1.0). What the platform saw is read back from the
 * emulator's state (`alink-emu state`): versions, last progress, finished
 * tasks.
 *
 * argv: alink_emu.so, registry.example.json, the alink-emu CLI.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "alink_sign.h"
#include "cloud.h"
#include "https_server.h"
#include "ota.h"
#include "test_util.h"

#define GW_PK "a1TestPK01"
#define GW_DN "gw01"
#define GW_DS "0123456789abcdef0123456789abcdef"
#define SUB_PK "a1SubPK001"
#define SUB1_DS "fedcba9876543210fedcba9876543210"
#define SUB2_DS "00112233445566778899aabbccddeeff"

static const char *g_plugin, *g_registry, *g_cli;

typedef struct fx {
    th_t t;
    tu_broker_t broker;
    char certs[300];
    gw_cloud_t *cloud;
    gw_ota_t *ota;
    gw_ota_config_t cfg;
    bool cloud_closed;
    bool logged_in[2];
    int logins;
    hs_t hs;
    pid_t s_server;
    int s_port;
    lgw_instance_t *inst[2];
} fx_t;

/* ------------------------------------------------------------ helpers */

static unsigned char *image(size_t n, char first)
{
    unsigned char *b = malloc(n);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 31 + i / 251);
    b[0] = (unsigned char)first;
    return b;
}

static void digest_hex(const void *p, size_t n, bool sha256, char out[65])
{
    unsigned char md[64];
    unsigned len = 0;
    EVP_Digest(p, n, md, &len, sha256 ? EVP_sha256() : EVP_md5(), NULL);
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Runs the emulator CLI; returns its exit status. */
static int cli(fx_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli(fx_t *f, const char *fmt, ...)
{
    char args[2048], cmd[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "ALINK_EMU_PORT=%d '%s' %s >/dev/null", f->broker.port, g_cli, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The emulator's "ota" object of device @p key ("pk/dn"); caller decrefs. */
static json_t *emu_ota(fx_t *f, const char *key)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ALINK_EMU_PORT=%d '%s' state", f->broker.port, g_cli);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    json_error_t e;
    json_t *root = json_loadf(p, 0, &e);
    pclose(p);
    assert_non_null(root);
    json_t *st = json_object_get(root, "state") ? json_object_get(root, "state") : root;
    json_t *o = json_incref(json_object_get(json_object_get(json_object_get(st, "devices"), key), "ota"));
    json_decref(root);
    return o;
}

static void push(fx_t *f, const char *dn, const char *url, const char *version, size_t size, const char *sign,
                 const char *method)
{
    assert_int_equal(cli(f, "ota push %s %s --url '%s' --version %s --size %zu --sign %s --sign-method %s",
                         strcmp(dn, GW_DN) ? SUB_PK : GW_PK, dn, url, version, size, sign, method),
                     0);
}

/* ------------------------------------------------------------ servers */

static void start_emulator(fx_t *f)
{
    assert_int_equal(tu_mkdtemp(f->broker.dir, sizeof f->broker.dir), 0);
    json_error_t jerr;
    json_t *reg = json_load_file(g_registry, 0, &jerr);
    assert_non_null(reg);
    json_t *devs = json_object_get(reg, "devices");
    size_t i;
    json_t *d;
    json_array_foreach(devs, i, d) {
        if (!strcmp(json_string_value(json_object_get(d, "deviceName")), "sub02"))
            json_object_set_new(d, "deviceSecret", json_string(SUB2_DS));
    }
    json_object_set_new(reg, "topology",
                        json_pack("[{s:s,s:[s,s]}]", "gateway", GW_PK "/" GW_DN, "subDevices", SUB_PK "/sub01",
                                  SUB_PK "/sub02"));
    char path[400], state[400];
    snprintf(path, sizeof path, "%s/registry.json", f->broker.dir);
    assert_int_equal(json_dump_file(reg, path, JSON_INDENT(1)), 0);
    json_decref(reg);
    snprintf(state, sizeof state, "%s/state", f->broker.dir);
    assert_int_equal(mkdir(state, 0700), 0);
    snprintf(f->broker.global, sizeof f->broker.global, "plugin %s\nplugin_opt_registry %s\nplugin_opt_state_dir %s\n",
             g_plugin, path, state);
    assert_int_equal(tu_broker_start(&f->broker), 0);
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* `openssl s_server -WWW` serving the files of @p www on a free port. */
static void start_s_server(fx_t *f, const char *www)
{
    char cert[400], key[400];
    snprintf(cert, sizeof cert, "%s/server.pem", f->certs);
    snprintf(key, sizeof key, "%s/server.key", f->certs);
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = tu_free_port();
        char accept[32];
        snprintf(accept, sizeof accept, "127.0.0.1:%d", port);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            if (chdir(www) != 0)
                _exit(127);
            execlp("openssl", "openssl", "s_server", "-quiet", "-WWW", "-accept", accept, "-cert", cert, "-key", key,
                   (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 100; i++) { /* up to 10 s */
            if (port_open(port)) {
                f->s_server = pid;
                f->s_port = port;
                return;
            }
            if (waitpid(pid, NULL, WNOHANG) == pid)
                break; /* died (port taken meanwhile?): try another */
            usleep(100 * 1000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    fail_msg("openssl s_server did not start");
}

/* ------------------------------------------------------------ sub-device directory stub */

static bool st_identity(void *data, const char *instance, const char *device_id, const char **pk, const char **dn)
{
    (void)data;
    if (strcmp(device_id, "d1") != 0)
        return false;
    *pk = SUB_PK;
    if (!strcmp(instance, "capable"))
        *dn = "sub01";
    else if (!strcmp(instance, "legacy"))
        *dn = "sub02";
    else
        return false;
    return true;
}

static bool st_lookup(void *data, const char *pk, const char *dn, const char **instance, const char **device_id)
{
    (void)data;
    if (strcmp(pk, SUB_PK) != 0)
        return false;
    *device_id = "d1";
    if (!strcmp(dn, "sub01"))
        *instance = "capable";
    else if (!strcmp(dn, "sub02"))
        *instance = "legacy";
    else
        return false;
    return true;
}

static bool st_logged_in(void *data, const char *pk, const char *dn)
{
    fx_t *f = data;
    return !strcmp(pk, SUB_PK) && ((!strcmp(dn, "sub01") && f->logged_in[0]) || (!strcmp(dn, "sub02") && f->logged_in[1]));
}

/* ------------------------------------------------------------ fixture */

static bool is_synced(void *arg)
{
    return gw_cloud_time_synced(((fx_t *)arg)->cloud);
}

static bool is_connected(void *arg)
{
    fx_t *f = arg;
    return gw_cloud_state(f->cloud) == GW_CLOUD_CONNECTED;
}

static void start_cloud(fx_t *f)
{
    gw_cloud_config_t cfg;
    gw_cloud_config_init(&cfg);
    cfg.host = strdup("127.0.0.1");
    cfg.port = f->broker.port;
    cfg.tls = false;
    cfg.product_key = strdup(GW_PK);
    cfg.device_name = strdup(GW_DN);
    cfg.device_secret = strdup(GW_DS);
    f->cloud = gw_cloud_new(&f->t.loop, &cfg, NULL);
    gw_cloud_config_free(&cfg);
    assert_non_null(f->cloud);
    gw_ota_devices_t devs = {st_identity, st_lookup, st_logged_in, f};
    f->ota = gw_ota_new(&f->t.loop, &f->cfg, f->cloud, f->t.host.hub, &devs);
    assert_non_null(f->ota);
    assert_int_equal(gw_ota_start(f->ota), LGW_OK);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    th_run_until(&f->t, is_connected, f);
    /* CONNECTED is set when the SUBSCRIBE is sent, not answered: a task published at once could
     * reach the broker first and be lost. The NTP answer proves the broker has our subscriptions
     * (it handles one client's packets in order: SUBSCRIBE, then the NTP request). */
    th_run_until(&f->t, is_synced, f);
}

static void on_closed(void *data) { ((fx_t *)data)->cloud_closed = true; }

static bool cloud_closed(void *arg) { return ((fx_t *)arg)->cloud_closed; }

/* Closes the cloud first (it cannot unregister the OTA handlers), then the manager: a "restart". */
static void stop_cloud(fx_t *f)
{
    if (!f->cloud)
        return;
    f->cloud_closed = false;
    gw_cloud_close(f->cloud, on_closed, f);
    f->cloud = NULL;
    th_run_until(&f->t, cloud_closed, f);
    gw_ota_free(f->ota);
    f->ota = NULL;
    th_run_for(&f->t, 50);
}

static fx_t *fx_new(void)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    th_open(&f->t);
    start_emulator(f);
    snprintf(f->certs, sizeof f->certs, "%s/certs", f->t.dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh '%s' '%s'", OTA_GEN_CA, f->certs);
    assert_int_equal(system(cmd), 0);

    gw_ota_config_init(&f->cfg);
    assert_true(asprintf(&f->cfg.dir, "%s/ota", f->t.dir) > 0);
    assert_true(asprintf(&f->cfg.ca_file, "%s/ca.pem", f->certs) > 0);
    assert_true(asprintf(&f->cfg.version_file, "%s/version", f->t.dir) > 0);
    assert_true(asprintf(&f->cfg.install_command, "cp \"$1\" '%s/installed.bin' && printf '%%s\\n' \"$2\" > '%s/version'",
                         f->t.dir, f->t.dir) > 0);
    f->cfg.retry_delay_ms = 100;
    f->cfg.retries = 3;
    write_file(f->cfg.version_file, "1.0.0\n", 6);
    return f;
}

static void fx_free(fx_t *f);

static int fx_setup(void **state)
{
    *state = fx_new();
    return 0;
}

/* Runs after every test, also a failed one: no server outlives it. */
static int fx_teardown(void **state)
{
    fx_t *f = *state;
    if (f)
        fx_free(f);
    return 0;
}

static void fx_free(fx_t *f)
{
    stop_cloud(f);
    for (int i = 0; i < 2; i++)
        if (f->inst[i])
            gw_instance_stop(f->inst[i], NULL, NULL);
    hs_stop(&f->hs);
    if (f->s_server > 0) {
        kill(f->s_server, SIGTERM);
        waitpid(f->s_server, NULL, 0);
    }
    tu_broker_stop(&f->broker);
    tu_rmtree(f->broker.dir);
    gw_ota_config_free(&f->cfg);
    th_close(&f->t);
    free(f);
}

typedef struct waitfor {
    fx_t *f;
    uint64_t succeeded, failed;
} waitfor_t;

static bool ota_succeeded(void *arg)
{
    waitfor_t *w = arg;
    gw_ota_stats_t st;
    gw_ota_get_stats(w->f->ota, &st);
    return st.succeeded >= w->succeeded && gw_ota_active(w->f->ota) == 0;
}

static bool ota_failed(void *arg)
{
    waitfor_t *w = arg;
    gw_ota_stats_t st;
    gw_ota_get_stats(w->f->ota, &st);
    return st.failed >= w->failed && gw_ota_active(w->f->ota) == 0;
}

/* Waits until the emulator's view of @p key's OTA matches: last progress step (and, with @p version, the reported one). */
typedef struct emu_wait {
    fx_t *f;
    const char *key;
    int step;
    const char *version;
    bool done;           /* task finished (lastUpgrade set) */
} emu_wait_t;

static bool emu_matches(void *arg)
{
    emu_wait_t *w = arg;
    json_t *o = emu_ota(w->f, w->key);
    const char *s = json_string_value(json_object_get(json_object_get(json_object_get(o, "progress"), "params"), "step"));
    const char *v = json_string_value(json_object_get(json_object_get(o, "versions"), "default"));
    bool ok = (!w->step || (s && atoi(s) == w->step)) && (!w->version || (v && !strcmp(v, w->version))) &&
              (!w->done || json_is_object(json_object_get(o, "lastUpgrade")));
    json_decref(o);
    return ok;
}

static void on_tick(uv_timer_t *t) { (void)t; }

/* Polls the emulator (a CLI process per poll, every 100 ms) until @p ew matches; 20 s at most. */
static void wait_emu(fx_t *f, emu_wait_t *ew)
{
    uv_timer_t tick;
    uv_timer_init(&f->t.loop, &tick);
    uv_timer_start(&tick, on_tick, 100, 100);
    th_run_until(&f->t, emu_matches, ew);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&f->t.loop, UV_RUN_NOWAIT);
}

/* ------------------------------------------------------------ tests */

/* Gateway firmware through s_server: inform, push, download, SHA256, install command, new version after restart. */
static void test_gateway_success(void **state)
{
    fx_t *f = *state;
    char www[400], url[600], sign[65];
    snprintf(www, sizeof www, "%s/www", f->t.dir);
    assert_int_equal(mkdir(www, 0700), 0);
    size_t n = 300 * 1024 + 7;
    unsigned char *img = image(n, 'F');
    char path[500];
    snprintf(path, sizeof path, "%s/fw-2.0.0.bin", www);
    write_file(path, img, n);
    digest_hex(img, n, true, sign);
    start_s_server(f, www);

    start_cloud(f);
    emu_wait_t ew = {f, GW_PK "/" GW_DN, 0, "1.0.0", false};
    wait_emu(f, &ew); /* the version read from version_file was reported */

    snprintf(url, sizeof url, "https://127.0.0.1:%d/fw-2.0.0.bin", f->s_port);
    push(f, GW_DN, url, "2.0.0", n, sign, "SHA256");
    waitfor_t w = {f, 1, 0};
    th_run_until(&f->t, ota_succeeded, &w);
    gw_ota_stats_t st;
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.last_step, 100);

    /* the install command got the verified image, which the host then deleted */
    snprintf(path, sizeof path, "%s/installed.bin", f->t.dir);
    char *got = read_text(path);
    assert_non_null(got);
    assert_memory_equal(got, img, 64);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal((size_t)sb.st_size, n);
    free(got);
    char dl[600];
    snprintf(dl, sizeof dl, "ls '%s/ota' | grep -q .", f->t.dir);
    assert_int_not_equal(system(dl), 0); /* no image left in the download directory */
    ew = (emu_wait_t){f, GW_PK "/" GW_DN, 100, NULL, false};
    wait_emu(f, &ew);

    /* "restart": the new session reports 2.0.0 (written by the install command), which ends the task */
    stop_cloud(f);
    start_cloud(f);
    ew = (emu_wait_t){f, GW_PK "/" GW_DN, 0, "2.0.0", true};
    wait_emu(f, &ew);
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.tasks, 0); /* nothing pending any more: no new download */
    free(img);
}

/* A wrong Md5 is -3; the image is deleted and never installed. */
static void test_bad_sign(void **state)
{
    fx_t *f = *state;
    char www[400], url[600], sign[65], path[500];
    snprintf(www, sizeof www, "%s/www", f->t.dir);
    assert_int_equal(mkdir(www, 0700), 0);
    size_t n = 50000;
    unsigned char *img = image(n, 'F');
    snprintf(path, sizeof path, "%s/fw.bin", www);
    write_file(path, img, n);
    img[100] ^= 1; /* the sign of another image */
    digest_hex(img, n, false, sign);
    start_s_server(f, www);
    start_cloud(f);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/fw.bin", f->s_port);
    push(f, GW_DN, url, "2.0.0", n, sign, "Md5");
    waitfor_t w = {f, 0, 1};
    th_run_until(&f->t, ota_failed, &w);
    gw_ota_stats_t st;
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.last_step, -3);
    assert_non_null(strstr(st.last_desc, "Md5 mismatch"));
    assert_int_equal(st.succeeded, 0);
    emu_wait_t ew = {f, GW_PK "/" GW_DN, -3, NULL, false};
    wait_emu(f, &ew);
    snprintf(path, sizeof path, "%s/installed.bin", f->t.dir);
    assert_int_not_equal(access(path, F_OK), 0);
    char dl[600];
    snprintf(dl, sizeof dl, "ls '%s/ota' | grep -q .", f->t.dir);
    assert_int_not_equal(system(dl), 0);
    free(img);
}

/* The first response is cut half-way: the next attempt asks for the rest with Range and the image verifies. */
static void test_cut_and_resumed(void **state)
{
    fx_t *f = *state;
    size_t n = 200 * 1024;
    unsigned char *img = image(n, 'F');
    char sign[65], cert[400], key[400], url[200];
    digest_hex(img, n, true, sign);
    f->hs.body = img;
    f->hs.len = n;
    f->hs.cut_at = 77777;
    f->hs.cuts = 1;
    snprintf(cert, sizeof cert, "%s/server.pem", f->certs);
    snprintf(key, sizeof key, "%s/server.key", f->certs);
    assert_int_equal(hs_start(&f->hs, cert, key), 0);
    start_cloud(f);
    snprintf(url, sizeof url, "https://localhost:%d/fw.bin?Expires=1&Signature=x", f->hs.port);
    push(f, GW_DN, url, "2.0.0", n, sign, "SHA256");
    waitfor_t w = {f, 1, 0};
    th_run_until(&f->t, ota_succeeded, &w);
    gw_ota_stats_t st;
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.resumed, 1);
    assert_int_equal(hs_requests(&f->hs), 2);
    assert_int_equal(f->hs.range_from[0], -1);
    assert_int_equal(f->hs.range_from[1], 77777); /* the partial file was kept and continued */
    char path[500];
    snprintf(path, sizeof path, "%s/installed.bin", f->t.dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal((size_t)sb.st_size, n);
    free(img);
}

/* With no retries left a cut is -2, but the partial file stays: the task pushed again continues it. */
static void test_resume_next_task(void **state)
{
    fx_t *f = *state;
    f->cfg.retries = 0;
    size_t n = 120000;
    unsigned char *img = image(n, 'F');
    char sign[65], cert[400], key[400], url[200], stale[600];
    digest_hex(img, n, false, sign);
    f->hs.body = img;
    f->hs.len = n;
    f->hs.cut_at = 30000;
    f->hs.cuts = 1;
    snprintf(cert, sizeof cert, "%s/server.pem", f->certs);
    snprintf(key, sizeof key, "%s/server.key", f->certs);
    assert_int_equal(hs_start(&f->hs, cert, key), 0);
    start_cloud(f);
    /* a partial image of an older task of the same device: removed when a new task starts */
    snprintf(stale, sizeof stale, "%s/" GW_PK "_" GW_DN "_default_1.5.0_0123456789abcdef.img", f->cfg.dir);
    write_file(stale, "old", 3);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/fw.bin", f->hs.port);
    push(f, GW_DN, url, "2.0.0", n, sign, "Md5");
    waitfor_t w = {f, 0, 1};
    th_run_until(&f->t, ota_failed, &w);
    gw_ota_stats_t st;
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.last_step, -2);
    assert_int_not_equal(access(stale, F_OK), 0);

    push(f, GW_DN, url, "2.0.0", n, sign, "Md5"); /* what the platform does again on the next connect */
    w = (waitfor_t){f, 1, 0};
    th_run_until(&f->t, ota_succeeded, &w);
    assert_int_equal(hs_requests(&f->hs), 2);
    assert_int_equal(f->hs.range_from[1], 30000);
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.resumed, 1);
    free(img);
}

static bool first_request(void *arg) { return hs_requests(arg) >= 1; }

static bool two_tasks(void *arg)
{
    gw_ota_stats_t st;
    gw_ota_get_stats(((fx_t *)arg)->ota, &st);
    return st.tasks >= 2;
}

/*
 * A new task for a device whose download is still running replaces it (the
 * old one ends silently); the same task pushed again while it runs is ignored.
 */
static void test_superseded(void **state)
{
    fx_t *f = *state;
    size_t n = 80000;
    unsigned char *img = image(n, 'F');
    char sign[65], other[65], cert[400], key[400], url[200];
    digest_hex(img, n, true, sign);
    memset(other, 'a', 64);
    other[64] = '\0';
    f->hs.body = img;
    f->hs.len = n;
    f->hs.stall_at = 10000;
    snprintf(cert, sizeof cert, "%s/server.pem", f->certs);
    snprintf(key, sizeof key, "%s/server.key", f->certs);
    assert_int_equal(hs_start(&f->hs, cert, key), 0);
    start_cloud(f);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/fw.bin", f->hs.port);
    push(f, GW_DN, url, "2.0.0", n, other, "SHA256"); /* its download stalls */
    uv_timer_t tick;
    uv_timer_init(&f->t.loop, &tick);
    uv_timer_start(&tick, on_tick, 50, 50);
    th_run_until(&f->t, first_request, &f->hs);
    push(f, GW_DN, url, "3.0.0", n, sign, "SHA256");
    push(f, GW_DN, url, "3.0.0", n, sign, "SHA256"); /* a repeat: ignored */
    /* The 2.0.0 download stays stalled until the 3.0.0 task replaced it (else
     * it would finish and fail on its sign); the repeat, published after it on
     * the same session, cannot add a task before or after the release. */
    th_run_until(&f->t, two_tasks, f);
    f->hs.release = true;
    waitfor_t w = {f, 1, 0};
    th_run_until(&f->t, ota_succeeded, &w);
    uv_close((uv_handle_t *)&tick, NULL);
    gw_ota_stats_t st;
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.tasks, 2);
    assert_int_equal(st.failed, 0); /* the replaced task reported nothing */
    assert_int_equal(st.succeeded, 1);
    char *v = read_text(f->cfg.version_file);
    assert_non_null(v);
    assert_string_equal(v, "3.0.0\n");
    free(v);
    free(img);
}

/* Over ota.max_size: -2 before any byte is fetched; a server sending more than the task's size: -2 too. */
static void test_too_large(void **state)
{
    fx_t *f = *state;
    f->cfg.max_size = 100000;
    size_t n = 150000;
    unsigned char *img = image(n, 'F');
    char sign[65], cert[400], key[400], url[200];
    digest_hex(img, n, true, sign);
    f->hs.body = img;
    f->hs.len = n;
    snprintf(cert, sizeof cert, "%s/server.pem", f->certs);
    snprintf(key, sizeof key, "%s/server.key", f->certs);
    assert_int_equal(hs_start(&f->hs, cert, key), 0);
    start_cloud(f);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/fw.bin", f->hs.port);
    push(f, GW_DN, url, "2.0.0", n, sign, "SHA256");
    waitfor_t w = {f, 0, 1};
    th_run_until(&f->t, ota_failed, &w);
    gw_ota_stats_t st;
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.last_step, -2);
    assert_non_null(strstr(st.last_desc, "exceeds the limit"));
    assert_int_equal(hs_requests(&f->hs), 0);
    emu_wait_t ew = {f, GW_PK "/" GW_DN, -2, NULL, false};
    wait_emu(f, &ew);

    /* the task says 90000 bytes (under the cap) but the server sends 150000 */
    push(f, GW_DN, url, "2.0.1", 90000, sign, "SHA256");
    w.failed = 2;
    th_run_until(&f->t, ota_failed, &w);
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.last_step, -2);
    assert_non_null(strstr(st.last_desc, "more than the task's size"));
    assert_int_equal(hs_requests(&f->hs), 1); /* not retried */
    assert_int_equal(st.succeeded, 0);
    free(img);
}

/* TLS verification is on: an image server whose certificate is not from ota.ca_file is -2. */
static void test_untrusted_server(void **state)
{
    fx_t *f = *state;
    char other[400], cmd[1024], cert[500], key[500], url[200], sign[65];
    snprintf(other, sizeof other, "%s/other", f->t.dir);
    snprintf(cmd, sizeof cmd, "sh '%s' '%s'", OTA_GEN_CA, other);
    assert_int_equal(system(cmd), 0);
    size_t n = 1000;
    unsigned char *img = image(n, 'F');
    digest_hex(img, n, true, sign);
    f->hs.body = img;
    f->hs.len = n;
    snprintf(cert, sizeof cert, "%s/server.pem", other);
    snprintf(key, sizeof key, "%s/server.key", other);
    assert_int_equal(hs_start(&f->hs, cert, key), 0);
    start_cloud(f);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/fw.bin", f->hs.port);
    push(f, GW_DN, url, "2.0.0", n, sign, "SHA256");
    waitfor_t w = {f, 0, 1};
    th_run_until(&f->t, ota_failed, &w);
    gw_ota_stats_t st;
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.last_step, -2);
    assert_int_equal(st.succeeded, 0);
    free(img);
}

/* Malformed pushes (injected through the emulator's admin connection) are refused with -1/-2, never a crash. */
static void test_malformed_tasks(void **state)
{
    fx_t *f = *state;
    start_cloud(f);
    tu_fake_t admin;
    assert_int_equal(tu_fake_start_as(&admin, f->broker.port, "emu-admin", "emu-admin"), 0);
    const char *t = "/ota/device/upgrade/" GW_PK "/" GW_DN;
#define TASK(fields) "{\"code\":\"1000\",\"id\":1,\"message\":\"success\",\"data\":{" fields "}}"
#define OKF "\"version\":\"2\",\"size\":10,\"signMethod\":\"Md5\""
#define MD5 "\"sign\":\"0123456789abcdef0123456789abcdef\""
    const char *refused[] = {
        TASK(OKF ",\"url\":\"https://127.0.0.1:1/x\",\"sign\":\"zz\""),                     /* -1 sign */
        TASK("\"version\":\"2\",\"size\":-5,\"signMethod\":\"Md5\",\"url\":\"https://h/x\"," MD5), /* -1 size */
        TASK("\"version\":\"2\",\"size\":10,\"signMethod\":\"crc\",\"url\":\"https://h/x\"," MD5), /* -1 method */
        TASK(OKF ",\"url\":\"http://127.0.0.1:1/x\"," MD5),                                     /* -2 not https */
        TASK(OKF ",\"url\":\"https://h/x\",\"module\":\"../../etc\"," MD5),                   /* -1 module */
        TASK(OKF "," MD5),                                                                      /* -1 no url */
    };
    const char *ignored[] = {"garbage", "{\"code\":\"1000\",\"data\":[]}", "[]", TASK(OKF ",\"url\":1")};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        assert_int_equal(tu_fake_publish(&admin, t, ignored[i]), 0);
    /* not a device of this gateway */
    assert_int_equal(tu_fake_publish(&admin, "/ota/device/upgrade/" GW_PK "/ghost",
                                     TASK(OKF ",\"url\":\"https://h/x\"," MD5)), 0);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(tu_fake_publish(&admin, t, refused[i]), 0);
    /* every refusal plus "url":1; then exactly that many (nothing counted twice) */
    waitfor_t w = {f, 0, sizeof refused / sizeof refused[0] + 1};
    th_run_until(&f->t, ota_failed, &w);
    gw_ota_stats_t st;
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.failed, sizeof refused / sizeof refused[0] + 1); /* "url":1 is a missing url too */
    assert_int_equal(st.tasks, 0);
    assert_int_equal(st.last_step, -1);
    assert_non_null(strstr(st.last_desc, "url missing"));
    assert_int_equal(gw_cloud_state(f->cloud), GW_CLOUD_CONNECTED);
    tu_fake_stop(&admin);
#undef TASK
#undef OKF
#undef MD5
}

/* ---- sub-devices */

static void on_login(gw_cloud_t *c, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)c;
    fx_t *f = data;
    assert_int_equal(status, LGW_OK);
    assert_int_equal(r->code, 200);
    f->logins++;
}

static bool two_logins(void *arg) { return ((fx_t *)arg)->logins == 2; }

/* Logs the sub-devices in (the lifecycle's job in the daemon) and tells the OTA manager. */
static void login_subdevices(fx_t *f)
{
    const char *dns[2] = {"sub01", "sub02"}, *secrets[2] = {SUB1_DS, SUB2_DS};
    for (int i = 0; i < 2; i++) {
        char cid[64], sign[GW_ALINK_HEX_MAX];
        snprintf(cid, sizeof cid, "%s.%s", SUB_PK, dns[i]);
        assert_true(gw_alink_device_sign(GW_ALINK_HMAC_SHA256, secrets[i], cid, dns[i], SUB_PK, "1700000000000", sign) > 0);
        json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "productKey", SUB_PK, "deviceName", dns[i], "clientId", cid,
                              "timestamp", "1700000000000", "signMethod", "hmacSha256", "sign", sign, "cleanSession",
                              "true");
        assert_int_equal(gw_cloud_request(f->cloud, "/ext/session/" GW_PK "/" GW_DN "/combine/login", "combine.login",
                                          p, 5000, on_login, f, NULL),
                         LGW_OK);
        json_decref(p);
    }
    th_run_until(&f->t, two_logins, f);
    for (int i = 0; i < 2; i++) {
        f->logged_in[i] = true;
        gw_ota_on_session(f->ota, SUB_PK, dns[i], true);
    }
}

static void test_subdevices(void **state)
{
    fx_t *f = *state;
    gw_errors_t errs = {0};
    char seen[400], settings[600];
    snprintf(seen, sizeof seen, "%s/seen", f->t.dir);
    snprintf(settings, sizeof settings, "seen_file = \"%s\";", seen);
    f->inst[0] = th_create(&f->t, "capable", "ota_capable", settings, &errs);
    f->inst[1] = th_create(&f->t, "legacy", "ota_legacy", "", &errs);
    assert_int_equal(errs.n, 0);
    assert_non_null(f->inst[0]);
    assert_non_null(f->inst[1]);
    assert_int_equal(gw_instance_start(f->inst[0]), LGW_OK);
    assert_int_equal(gw_instance_start(f->inst[1]), LGW_OK);
    start_cloud(f);
    login_subdevices(f);
    /* versions reported on login (the plugins said 1.0) */
    emu_wait_t ew = {f, SUB_PK "/sub01", 0, "1.0", false};
    wait_emu(f, &ew);
    ew.key = SUB_PK "/sub02";
    wait_emu(f, &ew);

    size_t n = 64 * 1024;
    unsigned char *img = image(n, 'S');
    char sign[65], cert[400], key[400], url[200];
    digest_hex(img, n, false, sign);
    f->hs.body = img;
    f->hs.len = n;
    snprintf(cert, sizeof cert, "%s/server.pem", f->certs);
    snprintf(key, sizeof key, "%s/server.key", f->certs);
    assert_int_equal(hs_start(&f->hs, cert, key), 0);
    snprintf(url, sizeof url, "https://localhost:%d/sub.bin", f->hs.port);

    /* the ABI 1.0 plugin: "not supported" (-1) before anything is downloaded */
    push(f, "sub02", url, "2.0", n, sign, "Md5");
    waitfor_t w = {f, 0, 1};
    th_run_until(&f->t, ota_failed, &w);
    gw_ota_stats_t st;
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.last_step, -1);
    assert_non_null(strstr(st.last_desc, "not supported"));
    assert_string_equal(st.last_device, SUB_PK "/sub02");
    assert_int_equal(hs_requests(&f->hs), 0);
    ew = (emu_wait_t){f, SUB_PK "/sub02", -1, NULL, false};
    wait_emu(f, &ew);

    /* the ABI 1.1 plugin installs it, reports 2.0, and the platform closes the task */
    push(f, "sub01", url, "2.0", n, sign, "Md5");
    w = (waitfor_t){f, 1, 0};
    th_run_until(&f->t, ota_succeeded, &w);
    ew = (emu_wait_t){f, SUB_PK "/sub01", 100, "2.0", true};
    wait_emu(f, &ew);
    char *s = read_text(seen);
    assert_non_null(s);
    char expect[64];
    snprintf(expect, sizeof expect, "2.0 %zu -\n", n);
    assert_string_equal(s, expect);
    free(s);
    const gw_hub_device_t *d = gw_hub_find(f->t.host.hub, "capable", "d1");
    assert_non_null(d);
    assert_string_equal(d->firmware, "2.0");

    /* an image the device rejects: -4 with the plugin's message */
    img[0] = 'X';
    digest_hex(img, n, false, sign);
    push(f, "sub01", url, "3.0", n, sign, "Md5");
    w = (waitfor_t){f, 0, 2};
    th_run_until(&f->t, ota_failed, &w);
    gw_ota_get_stats(f->ota, &st);
    assert_int_equal(st.last_step, -4);
    assert_non_null(strstr(st.last_desc, "rejected the image"));
    char dl[600];
    snprintf(dl, sizeof dl, "ls '%s/ota' | grep -q .", f->t.dir);
    assert_int_not_equal(system(dl), 0); /* images deleted after the plugin answered */
    free(img);
}

/* ---- gw_hub_ota() and the plugins' side, without a cloud */

typedef struct hub_ota {
    int done, code, progress[8], nprogress;
    char message[200];
} hub_ota_t;

static void on_hub_progress(void *data, int percent, const char *message)
{
    hub_ota_t *h = data;
    assert_non_null(message);
    if (h->nprogress < 8)
        h->progress[h->nprogress++] = percent;
}

static void on_hub_done(void *data, int code, const char *message, const lgw_value_t *output)
{
    (void)output;
    hub_ota_t *h = data;
    h->done++;
    h->code = code;
    snprintf(h->message, sizeof h->message, "%s", message ? message : "");
}

static bool hub_done(void *arg) { return ((hub_ota_t *)arg)->done > 0; }

static bool has_firmware(void *arg)
{
    th_t *t = arg;
    const gw_hub_device_t *d = gw_hub_find(t->host.hub, "sim", "light-0");
    return d && d->firmware && !strcmp(d->firmware, "2.0");
}

/* The sim installs in steps with progress and reports the version; an ABI 1.0 plugin is "not supported". */
static void test_hub_ota(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    lgw_instance_t *sim = th_create(&t, "sim", "sim", "light = { count = 1; interval_ms = 600000; };", &errs);
    lgw_instance_t *legacy = th_create(&t, "legacy", "ota_legacy", "", &errs);
    assert_int_equal(errs.n, 0);
    assert_int_equal(gw_instance_start(sim), LGW_OK);
    assert_int_equal(gw_instance_start(legacy), LGW_OK);
    th_run_for(&t, 50);
    const char *img = th_write(&t, "image.bin", "firmware");

    hub_ota_t h = {0};
    gw_hub_ota(t.host.hub, "sim", "light-0", "2.0", img, NULL, 60000, on_hub_progress, on_hub_done, &h);
    th_run_until(&t, hub_done, &h);
    assert_int_equal(h.code, LGW_REPLY_SUCCESS);
    assert_int_equal(h.nprogress, 3);
    assert_int_equal(h.progress[0], 25);
    assert_int_equal(h.progress[1], 50);
    assert_int_equal(h.progress[2], 75);
    th_run_until(&t, has_firmware, &t);

    h = (hub_ota_t){0};
    gw_hub_ota(t.host.hub, "legacy", "d1", "2.0", img, NULL, 60000, on_hub_progress, on_hub_done, &h);
    th_run_until(&t, hub_done, &h);
    assert_int_equal(h.code, LGW_REPLY_REQUEST_ERROR);
    assert_non_null(strstr(h.message, "not supported"));
    assert_int_equal(h.nprogress, 0);

    /* an install still running when the instance stops is answered, exactly once */
    h = (hub_ota_t){0};
    gw_hub_ota(t.host.hub, "sim", "light-0", "3.0", img, NULL, 60000, on_hub_progress, on_hub_done, &h);
    gw_instance_stop(sim, NULL, NULL);
    th_run_until(&t, hub_done, &h);
    assert_int_equal(h.code, LGW_REPLY_REQUEST_ERROR);
    th_run_for(&t, 50);
    assert_int_equal(h.done, 1);
    gw_instance_stop(legacy, NULL, NULL);
    gw_errors_free(&errs);
    th_close(&t);
}

/* Configuration errors are reported with file:line. */
typedef struct errs {
    int n;
    char msg[8][200];
} errs_t;

static void on_cfg_err(void *data, const config_setting_t *node, const char *file, int line, const char *message)
{
    (void)node;
    errs_t *e = data;
    if (e->n < 8)
        snprintf(e->msg[e->n], sizeof e->msg[0], "%s:%d: %s", file ? file : "-", line, message);
    e->n++;
}

static void test_config(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    const char *path = th_write(&t, "ota.conf",
                                "ota = {\n  version = \"1\";\n  version_file = \"/x\";\n  max_size = 0;\n  bogus = 1;\n"
                                "  retries = \"3\";\n};\n");
    config_t c;
    config_init(&c);
    assert_int_equal(config_read_file(&c, path), CONFIG_TRUE);
    errs_t e = {0};
    gw_ota_config_t cfg;
    assert_int_equal(gw_ota_config_parse(config_lookup(&c, "ota"), "/var/lib/linkgw", &cfg, on_cfg_err, &e), 4);
    assert_non_null(strstr(e.msg[0], "ota.conf:4: setting 'ota.max_size' must be between 1 and"));
    assert_non_null(strstr(e.msg[1], "ota.conf:5: unknown setting 'ota.bogus'"));
    assert_non_null(strstr(e.msg[2], "ota.conf:6: setting 'ota.retries' must be an integer"));
    assert_non_null(strstr(e.msg[3], "either ota.version or ota.version_file"));
    config_destroy(&c);

    assert_int_equal(gw_ota_config_parse(NULL, "/var/lib/linkgw", &cfg, on_cfg_err, &e), 0);
    assert_string_equal(cfg.dir, "/var/lib/linkgw/ota");
    assert_true(cfg.max_size == 64LL * 1024 * 1024);
    gw_ota_config_free(&cfg);
    th_close(&t);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s alink_emu.so registry.json alink-emu\n", argv[0]);
        return 2;
    }
    g_plugin = argv[1];
    g_registry = argv[2];
    g_cli = argv[3];
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_hub_ota),
        cmocka_unit_test_setup_teardown(test_gateway_success, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_sign, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cut_and_resumed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_resume_next_task, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_superseded, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_too_large, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_untrusted_server, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_tasks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_subdevices, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
