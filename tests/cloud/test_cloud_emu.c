/*
 * gw_cloud against the real platform emulator (tools/alink-emu, a mosquitto
 * plugin) on a free loopback port: Alink CONNECT authentication (good and
 * bad secret), NTP, a property post answered by the platform, dynamic
 * registration that happens once across restarts (secret persisted before
 * use), and malformed downstream messages (injected through the emulator's
 * admin connection) answered with 460 while the session stays up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cloud.h"
#include "log.h"
#include "test_util.h"

/* Upper bound of every wait for something that must happen: only a safety net
 * (a passing run never waits for it), generous for a loaded 2-core CI machine. */
#define WAIT_MS 30000

#define PK "a1TestPK01"
#define GW1 "gw01"
#define GW1_DS "0123456789abcdef0123456789abcdef"
#define GW2 "gw02" /* pre-registered, no secret: dynamic registration */
#define PS "GwProductSecret1"

static const char *g_plugin;   /* argv[1]: alink_emu.so */
static const char *g_registry; /* argv[2]: registry.example.json */

typedef struct emu_fx {
    uv_loop_t loop;
    tu_broker_t broker;
    tu_fake_t admin;
    bool admin_on;
    gw_cloud_t *cloud;
    bool closed;
    int status, code, ndone, handled;
    gw_cloud_msg_kind_t last_kind;
} emu_fx_t;

static void start_emulator(emu_fx_t *f)
{
    assert_int_equal(tu_mkdtemp(f->broker.dir, sizeof f->broker.dir), 0);
    /* the example registry, with dynamic registration on for the gateway product and gw02 pre-registered */
    json_error_t jerr;
    json_t *reg = json_load_file(g_registry, 0, &jerr);
    assert_non_null(reg);
    json_t *prod = json_array_get(json_object_get(reg, "products"), 0);
    assert_string_equal(json_string_value(json_object_get(prod, "productKey")), PK);
    json_object_set_new(prod, "dynamicRegistration", json_true());
    json_array_append_new(json_object_get(reg, "devices"), json_pack("{s:s,s:s}", "productKey", PK, "deviceName", GW2));
    char path[300], state[300];
    snprintf(path, sizeof path, "%s/registry.json", f->broker.dir);
    assert_int_equal(json_dump_file(reg, path, JSON_INDENT(1)), 0);
    json_decref(reg);
    snprintf(state, sizeof state, "%s/state", f->broker.dir);
    assert_int_equal(mkdir(state, 0700), 0);
    snprintf(f->broker.global, sizeof f->broker.global, "plugin %s\nplugin_opt_registry %s\nplugin_opt_state_dir %s\n",
             g_plugin, path, state);
    assert_int_equal(tu_broker_start(&f->broker), 0);
}

static emu_fx_t *fx_new(void)
{
    emu_fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    uv_loop_init(&f->loop);
    start_emulator(f);
    assert_int_equal(tu_fake_start_as(&f->admin, f->broker.port, "emu-admin", "emu-admin"), 0);
    f->admin_on = true;
    return f;
}

static void on_closed(void *data)
{
    ((emu_fx_t *)data)->closed = true;
}

static void close_cloud(emu_fx_t *f)
{
    if (!f->cloud)
        return;
    f->closed = false;
    gw_cloud_close(f->cloud, on_closed, f);
    f->cloud = NULL;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->closed);
}

static void fx_free(emu_fx_t *f)
{
    close_cloud(f);
    if (f->admin_on)
        tu_fake_stop(&f->admin);
    tu_broker_stop(&f->broker);
    tu_rmtree(f->broker.dir);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

static gw_cloud_t *make_cloud(emu_fx_t *f, const char *dn, const char *ds, const gw_cloud_secret_store_t *store)
{
    gw_cloud_config_t cfg;
    gw_cloud_config_init(&cfg);
    cfg.host = strdup("127.0.0.1");
    cfg.port = f->broker.port;
    cfg.tls = false;
    cfg.product_key = strdup(PK);
    cfg.device_name = strdup(dn);
    if (ds)
        cfg.device_secret = strdup(ds);
    else
        cfg.product_secret = strdup(PS);
    gw_cloud_t *c = gw_cloud_new(&f->loop, &cfg, store);
    gw_cloud_config_free(&cfg);
    assert_non_null(c);
    return c;
}

static bool connected_synced(void *arg)
{
    emu_fx_t *f = arg;
    return gw_cloud_state(f->cloud) == GW_CLOUD_CONNECTED && gw_cloud_time_synced(f->cloud);
}

static void on_reply(gw_cloud_t *c, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)c;
    emu_fx_t *f = data;
    f->status = status;
    f->code = r ? r->code : -1;
    f->ndone++;
}

static bool done(void *arg)
{
    return ((emu_fx_t *)arg)->ndone > 0;
}

static void test_emu_auth_ntp_post(void **state)
{
    (void)state;
    emu_fx_t *f = fx_new();
    f->cloud = make_cloud(f, GW1, GW1_DS, NULL);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, connected_synced, f, WAIT_MS));
    /* the emulator's clock is the local clock: the correction is small */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t diff = gw_cloud_time_ms(f->cloud) - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    assert_true(diff > -1000 && diff < 1000);

    json_t *p = json_pack("{s:i}", "Uptime", 5);
    assert_int_equal(gw_cloud_request(f->cloud, "/sys/" PK "/" GW1 "/thing/event/property/post",
                                      "thing.event.property.post", p, 20000, on_reply, f, NULL),
                     LGW_OK);
    json_decref(p);
    assert_true(tu_run_until(&f->loop, done, f, WAIT_MS));
    assert_int_equal(f->status, LGW_OK);
    assert_int_equal(f->code, 200);
    close_cloud(f);

    /* a wrong DeviceSecret is refused: no connection, bounded retries */
    f->cloud = make_cloud(f, GW1, "ffffffffffffffffffffffffffffffff", NULL);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    tu_run_for(&f->loop, 2500);
    gw_cloud_stats_t st;
    gw_cloud_get_stats(f->cloud, &st);
    assert_int_equal(st.connects, 0);
    assert_true(st.connect_attempts >= 1 && st.connect_attempts <= 4);
    fx_free(f);
}

static bool connected(void *arg)
{
    emu_fx_t *f = arg;
    return gw_cloud_state(f->cloud) == GW_CLOUD_CONNECTED;
}

static void test_emu_dynamic_registration_once(void **state)
{
    (void)state;
    emu_fx_t *f = fx_new();
    char secret_path[600];
    snprintf(secret_path, sizeof secret_path, "%s/device-secret", f->broker.dir);
    gw_cloud_secret_store_t store = gw_cloud_secret_file_store(secret_path);
    gw_cloud_stats_t st;

    /* first boot: register, persist, then connect with the issued secret */
    f->cloud = make_cloud(f, GW2, NULL, &store);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, connected, f, WAIT_MS));
    gw_cloud_get_stats(f->cloud, &st);
    assert_int_equal(st.registrations, 1);
    assert_int_equal(st.connects, 1);
    struct stat sb;
    assert_int_equal(stat(secret_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    close_cloud(f);

    /* second boot: the stored secret is used, no registration */
    f->cloud = make_cloud(f, GW2, NULL, &store);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, connected, f, WAIT_MS));
    gw_cloud_get_stats(f->cloud, &st);
    assert_int_equal(st.registrations, 0);
    assert_int_equal(st.connect_attempts, 1);
    close_cloud(f);

    /* the platform issues the secret once: with the store lost, registering again is refused */
    char other[640];
    snprintf(other, sizeof other, "%s/lost-secret", f->broker.dir);
    gw_cloud_secret_store_t empty = gw_cloud_secret_file_store(other);
    f->cloud = make_cloud(f, GW2, NULL, &empty);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    tu_run_for(&f->loop, 1500);
    gw_cloud_get_stats(f->cloud, &st);
    assert_int_equal(st.registrations, 0);
    assert_int_equal(st.connects, 0);
    fx_free(f);
}

#ifdef CLOUD_HAVE_DB
#include "cloud_secret_db.h"
#include "store/store.h"

/* True when the file at @p path contains @p needle anywhere. */
static bool file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    size_t n = strlen(needle), cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (size_t r; (r = fread(buf + len, 1, cap - len, fp)) > 0;) {
        len += r;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(fp);
    bool found = false;
    for (size_t i = 0; i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

/* The production path: the DeviceSecret sealed in the SQLite store, once across restarts. */
static void test_emu_dynamic_registration_db(void **state)
{
    (void)state;
    emu_fx_t *f = fx_new();
    char dir[300];
    snprintf(dir, sizeof dir, "%s/gw-state", f->broker.dir);
    gw_store_t *st = NULL;
    char err[200];
    assert_int_equal(gw_store_open(dir, NULL, &st, err, sizeof err), GW_STORE_OK);
    gw_cloud_secret_store_t store = gw_cloud_secret_store_db(st);
    f->cloud = make_cloud(f, GW2, NULL, &store);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, connected, f, WAIT_MS));
    gw_cloud_stats_t stats;
    gw_cloud_get_stats(f->cloud, &stats);
    assert_int_equal(stats.registrations, 1);
    close_cloud(f);
    char pk[GW_STORE_NAME_MAX], dn[GW_STORE_NAME_MAX], secret[GW_STORE_SECRET_MAX];
    assert_int_equal(gw_store_gateway_get(st, pk, dn, secret), GW_STORE_OK);
    assert_string_equal(pk, PK);
    assert_string_equal(dn, GW2);
    gw_store_close(st);
    /* encrypted at rest: the secret appears in no file of the state directory */
    static const char *const files[] = {"linkgw.db", "linkgw.db-wal", "store.key"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_false(file_contains(path, secret));
    }
    memset(secret, 0, sizeof secret);

    /* restart: reopen the store, connect with the stored secret, no registration */
    assert_int_equal(gw_store_open(dir, NULL, &st, err, sizeof err), GW_STORE_OK);
    store = gw_cloud_secret_store_db(st);
    f->cloud = make_cloud(f, GW2, NULL, &store);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, connected, f, WAIT_MS));
    gw_cloud_get_stats(f->cloud, &stats);
    assert_int_equal(stats.registrations, 0);
    assert_int_equal(stats.connect_attempts, 1);
    close_cloud(f);
    gw_store_close(st);
    fx_free(f);
}
#endif

static void on_down(gw_cloud_t *c, const gw_cloud_msg_t *m, void *data)
{
    emu_fx_t *f = data;
    f->handled++;
    f->last_kind = m->kind;
    gw_cloud_reply_to(c, m->reply_topic, m->id, 200, NULL, NULL);
}

typedef struct wait_msg {
    emu_fx_t *f;
    const char *topic, *needle;
} wait_msg_t;

static bool admin_saw(void *arg)
{
    wait_msg_t *w = arg;
    return tu_fake_count(&w->f->admin, w->topic, w->needle) > 0;
}

static void test_emu_malformed_downstream(void **state)
{
    (void)state;
    emu_fx_t *f = fx_new();
    f->cloud = make_cloud(f, GW1, GW1_DS, NULL);
    const char *set = "/sys/" PK "/" GW1 "/thing/service/property/set";
    assert_int_equal(gw_cloud_on(f->cloud, set, on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_on(f->cloud, "/sys/" PK "/" GW1 "/thing/service/+", on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, connected_synced, f, WAIT_MS));

    static const struct {
        const char *topic, *payload, *needle;
    } bad[] = {
        {"/sys/" PK "/" GW1 "/thing/service/property/set", "{{{{", "\"code\":460"},
        {"/sys/" PK "/" GW1 "/thing/service/property/set", "{\"id\":\"77\",\"params\":\"x\"}", "\"id\":\"77\",\"code\":460"},
        {"/sys/" PK "/" GW1 "/thing/service/Reboot", "{\"id\":\"x1\",\"params\":{}}", "\"code\":460"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char reply[300];
        snprintf(reply, sizeof reply, "%s_reply", bad[i].topic);
        assert_int_equal(tu_fake_publish(&f->admin, bad[i].topic, bad[i].payload), 0);
        wait_msg_t w = {f, reply, bad[i].needle};
        assert_true(tu_run_until(&f->loop, admin_saw, &w, WAIT_MS));
    }
    /* still connected and serving: a well-formed request reaches the handler */
    assert_int_equal(tu_fake_publish(&f->admin, set, "{\"id\":\"78\",\"version\":\"1.0\",\"params\":{\"a\":1}}"), 0);
    wait_msg_t w = {f, "/sys/" PK "/" GW1 "/thing/service/property/set_reply", "\"id\":\"78\",\"code\":200"};
    assert_true(tu_run_until(&f->loop, admin_saw, &w, WAIT_MS));
    assert_int_equal(f->handled, 1);
    gw_cloud_stats_t st;
    gw_cloud_get_stats(f->cloud, &st);
    assert_int_equal(st.malformed, 3);
    assert_int_equal(st.connects, 1);
    assert_int_equal(gw_cloud_state(f->cloud), GW_CLOUD_CONNECTED);
    fx_free(f);
}

/* Console-driven downstream traffic: sync service (RRPC, /ext/rrpc form since the
 * gateway sets ext bit0), async service and property set, answered by handlers. */
static void test_emu_console_services(void **state)
{
    (void)state;
    emu_fx_t *f = fx_new();
    f->cloud = make_cloud(f, GW1, GW1_DS, NULL);
    assert_int_equal(gw_cloud_on(f->cloud, "/ext/rrpc/+/sys/+/+/thing/service/+", on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_on(f->cloud, "/sys/" PK "/" GW1 "/thing/service/#", on_down, f), LGW_OK);
    assert_int_equal(gw_cloud_start(f->cloud), LGW_OK);
    assert_true(tu_run_until(&f->loop, connected_synced, f, WAIT_MS));
    static const struct {
        const char *request, *cid;
        gw_cloud_msg_kind_t kind;
    } cmds[] = {
        {"{\"cmd\":\"service.invoke\",\"cid\":\"c1\",\"productKey\":\"" PK "\",\"deviceName\":\"" GW1 "\","
         "\"identifier\":\"Calibrate\",\"params\":{\"Offset\":1},\"sync\":true}",
         "\"cid\":\"c1\"", GW_CLOUD_MSG_RRPC_EXT},
        {"{\"cmd\":\"service.invoke\",\"cid\":\"c2\",\"productKey\":\"" PK "\",\"deviceName\":\"" GW1 "\","
         "\"identifier\":\"Reboot\",\"params\":{}}",
         "\"cid\":\"c2\"", GW_CLOUD_MSG_SERVICE},
        {"{\"cmd\":\"prop.set\",\"cid\":\"c3\",\"productKey\":\"" PK "\",\"deviceName\":\"" GW1 "\","
         "\"params\":{\"Mode\":1}}",
         "\"cid\":\"c3\"", GW_CLOUD_MSG_PROPERTY_SET},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        assert_int_equal(tu_fake_publish(&f->admin, "$emu/request", cmds[i].request), 0);
        wait_msg_t w = {f, "$emu/response", cmds[i].cid};
        assert_true(tu_run_until(&f->loop, admin_saw, &w, WAIT_MS));
        char *resp = tu_fake_last(&f->admin, "$emu/response", cmds[i].cid);
        assert_non_null(resp);
        if (!strstr(resp, "\"code\":200"))
            fail_msg("console answer: %s", resp);
        free(resp);
        assert_int_equal(f->last_kind, cmds[i].kind);
    }
    assert_int_equal(f->handled, 3);
    fx_free(f);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s alink_emu.so registry.json\n", argv[0]);
        return 2;
    }
    g_plugin = argv[1];
    g_registry = argv[2];
    gw_log_set_level(getenv("CLOUD_TEST_DEBUG") ? LGW_LOG_DEBUG : LGW_LOG_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_auth_ntp_post),
        cmocka_unit_test(test_emu_dynamic_registration_once),
        cmocka_unit_test(test_emu_malformed_downstream),
        cmocka_unit_test(test_emu_console_services),
#ifdef CLOUD_HAVE_DB
        cmocka_unit_test(test_emu_dynamic_registration_db),
#endif
    };
    if (getenv("CLOUD_TEST_FILTER"))
        cmocka_set_test_filter(getenv("CLOUD_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
