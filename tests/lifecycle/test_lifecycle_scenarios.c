/*
 * The seed's scenarios ("Logic for connecting sub-devices on a gateway") end
 * to end: the real linkgw with the sim plugin against alink-emu.
 *   - power-on: register once (secret persisted, encrypted), topo/add, login;
 *     power-on again with the persisted lists: only batch_login, no register;
 *   - a sub-device deleted in the cloud while the gateway was off;
 *   - a local delete while the cloud link is down (RemovedDevList), and one
 *     while it is up;
 *   - new sub-devices while offline, then the connection; a new one while
 *     connected;
 *   - disable / enable / delete from the cloud while connected;
 *   - pre-provisioned secrets (`linkgwctl credentials import`) with a device
 *     name mapping table;
 *   - --check-config reports bad gateway keys with file:line.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lc_harness.h"

#define SIM3 "thermometer = { count = 3; interval_ms = 3600000; };"
#define KEYS "models = { thermometer = { product_key = \"" LC_SUB_PK "\"; }; };\nsubdevice = { register = true; };"
#define WAIT_MS 30000

static lc_t T;

static int teardown(void **s)
{
    (void)s;
    lc_teardown(&T);
    return 0;
}

static void start3(void)
{
    assert_int_equal(lc_setup(&T, 3, NULL), 0);
    assert_int_equal(lc_write_instance(&T, SIM3, KEYS), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)3, WAIT_MS));
}

/* True when none of the files of @p dir contains @p needle. */
static bool dir_lacks(const char *dir, const char *needle)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "grep -rqa -- '%s' '%s'", needle, dir);
    int rc = system(cmd);
    return WIFEXITED(rc) && WEXITSTATUS(rc) == 1;
}

static void t_power_on_register_once(void **s)
{
    (void)s;
    start3();
    json_t *st = lc_emu(&T);
    char secret[64] = "";
    for (int i = 0; i < 3; i++) {
        char dn[16], key[64];
        snprintf(dn, sizeof dn, "thermo-%d", i);
        snprintf(key, sizeof key, LC_SUB_PK "/%s", dn);
        assert_string_equal(lc_emu_gateway(st, dn), LC_GW_PK "/" LC_GW_DN);
        assert_true(lc_emu_online(st, dn));
        json_t *d = json_object_get(json_object_get(st, "devices"), key);
        assert_true(json_is_true(json_object_get(d, "secretIssued")));
        if (i == 0)
            snprintf(secret, sizeof secret, "%s", json_string_value(json_object_get(d, "deviceSecret")));
    }
    json_decref(st);
    assert_int_equal(lc_counter(&T, "registered"), 3);
    assert_int_equal(lc_counter(&T, "topo_added"), 3);
    assert_int_equal(lc_list_size(&T, "LocalTopoList"), 3);
    /* the secret is at rest only encrypted */
    assert_true(strlen(secret) > 8);
    assert_true(dir_lacks(T.state, secret));

    /* power off: the platform sets the sub-devices offline */
    assert_int_equal(lc_gw_stop(&T), 0);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)0, WAIT_MS));

    /* power on with the persisted lists: batch_login only, the secrets are not requested again */
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)3, WAIT_MS));
    assert_int_equal(lc_counter(&T, "registered"), 0);
    assert_int_equal(lc_counter(&T, "topo_added"), 0);
    assert_int_equal(lc_counter(&T, "logins"), 3);
    for (int i = 0; i < 3; i++) {
        char dn[16];
        snprintf(dn, sizeof dn, "thermo-%d", i);
        json_t *d = lc_device(&T, dn);
        assert_non_null(d);
        assert_true(lc_in_list(d, "LocalTopoList") && lc_in_list(d, "LocalDevList"));
        assert_true(json_is_true(json_object_get(d, "logged_in")));
        assert_null(json_object_get(d, "register_refused"));
        json_decref(d);
    }
    assert_int_equal(lc_gw_stop(&T), 0);
}

static bool cloud_deleted_1(lc_t *t, void *arg)
{
    (void)arg;
    return lc_counter(t, "cloud_deleted") == 1;
}

static void t_cloud_delete_while_off(void **s)
{
    (void)s;
    start3();
    assert_int_equal(lc_gw_stop(&T), 0);
    assert_int_equal(lc_emu_cmd(&T, "topo", "delete", LC_GW_PK "/" LC_GW_DN, LC_SUB_PK "/thermo-1", NULL), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, cloud_deleted_1, NULL, WAIT_MS));
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)2, WAIT_MS));
    /* out of LocalTopoList and off the access network (the sim forgets it) */
    json_t *d = lc_device(&T, "thermo-1");
    assert_null(d);
    assert_int_equal(lc_list_size(&T, "LocalTopoList"), 2);
    assert_int_equal(lc_list_size(&T, "LocalDevList"), 2);
    json_t *st = lc_emu(&T);
    assert_string_equal(lc_emu_gateway(st, "thermo-1"), "");
    assert_false(lc_emu_online(st, "thermo-1"));
    assert_true(lc_emu_online(st, "thermo-0") && lc_emu_online(st, "thermo-2"));
    json_decref(st);
    assert_int_equal(lc_gw_stop(&T), 0);
}

static bool link_down(lc_t *t, void *arg)
{
    (void)arg;
    json_t *s = lc_status(t);
    bool down = s && strcmp(json_string_value(json_object_get(s, "cloud")), "connected") != 0;
    json_decref(s);
    return down;
}

static bool removed_empty(lc_t *t, void *arg)
{
    (void)arg;
    return lc_list_size(t, "RemovedDevList") == 0;
}

static bool emu_unbound(lc_t *t, void *arg)
{
    json_t *st = lc_emu(t);
    bool ok = st && strcmp(lc_emu_gateway(st, arg), "") == 0;
    json_decref(st);
    return ok;
}

static void t_local_delete(void **s)
{
    (void)s;
    start3();
    /* link up: topo/delete at once */
    int rc = -1;
    json_t *r = lc_ctl(&T, &rc, "delete", "sim/thermo-0", NULL);
    assert_int_equal(rc, 0);
    json_decref(r);
    assert_true(lc_wait(&T, emu_unbound, "thermo-0", WAIT_MS));
    assert_true(lc_wait(&T, removed_empty, NULL, WAIT_MS));
    assert_null(lc_device(&T, "thermo-0"));

    /* link down: recorded in RemovedDevList, sent on the next connection */
    assert_int_equal(lc_broker_stop(&T), 0);
    assert_true(lc_wait(&T, link_down, NULL, WAIT_MS));
    r = lc_ctl(&T, &rc, "delete", LC_SUB_PK "/thermo-2", NULL); /* by cloud name this time */
    assert_int_equal(rc, 0);
    json_decref(r);
    assert_int_equal(lc_list_size(&T, "RemovedDevList"), 1);
    assert_int_equal(lc_list_size(&T, "LocalTopoList"), 1);
    json_t *d = lc_device(&T, "thermo-2");
    assert_non_null(d);
    assert_true(lc_in_list(d, "RemovedDevList"));
    assert_false(lc_in_list(d, "LocalDevList") || lc_in_list(d, "LocalTopoList"));
    json_decref(d);
    /* a bad request is refused clearly */
    r = lc_ctl(&T, &rc, "delete", "sim/no-such-device", NULL);
    assert_int_equal(rc, 1);
    assert_false(json_is_true(json_object_get(r, "ok")));
    json_decref(r);

    assert_int_equal(lc_broker_start(&T), 0);
    assert_true(lc_wait(&T, removed_empty, NULL, WAIT_MS));
    assert_true(lc_wait(&T, emu_unbound, "thermo-2", WAIT_MS));
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)1, WAIT_MS));
    json_t *st = lc_emu(&T);
    assert_true(lc_emu_online(st, "thermo-1"));
    json_decref(st);
    assert_int_equal(lc_gw_stop(&T), 0);
}

static bool topo_size(lc_t *t, void *arg)
{
    return lc_list_size(t, "LocalTopoList") == (long long)(intptr_t)arg;
}

static void t_new_devices_offline_then_connect(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 3, NULL), 0);
    assert_int_equal(lc_broker_stop(&T), 0); /* the cloud is unreachable at power-on */
    assert_int_equal(lc_write_instance(&T, "thermometer = { count = 2; interval_ms = 3600000; };", KEYS), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_int_equal(lc_list_size(&T, "LocalDevList"), 2);
    assert_int_equal(lc_list_size(&T, "LocalTopoList"), 0);
    json_t *d = lc_device(&T, "thermo-0");
    assert_non_null(d);
    assert_true(lc_in_list(d, "LocalDevList"));
    assert_false(lc_in_list(d, "LocalTopoList"));
    json_decref(d);

    assert_int_equal(lc_broker_start(&T), 0);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)2, WAIT_MS));
    assert_true(lc_wait(&T, topo_size, (void *)(intptr_t)2, WAIT_MS));

    /* a new sub-device while connected (conf.d changed: the instance restarts with 3 devices) */
    assert_int_equal(lc_write_instance(&T, SIM3, KEYS), 0);
    lc_gw_reload(&T);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)3, WAIT_MS));
    assert_true(lc_wait(&T, topo_size, (void *)(intptr_t)3, WAIT_MS));
    assert_int_equal(lc_gw_stop(&T), 0);
}

static bool dev_flag(lc_t *t, const char *dn, const char *flag)
{
    json_t *d = lc_device(t, dn);
    bool v = json_is_true(json_object_get(d, flag));
    json_decref(d);
    return v;
}

static bool disabled0(lc_t *t, void *arg)
{
    (void)arg;
    json_t *st = lc_emu(t);
    bool off = st && !lc_emu_online(st, "thermo-0");
    json_decref(st);
    return off && dev_flag(t, "thermo-0", "disabled") && !dev_flag(t, "thermo-0", "logged_in");
}

static bool enabled0(lc_t *t, void *arg)
{
    (void)arg;
    json_t *st = lc_emu(t);
    bool on = st && lc_emu_online(st, "thermo-0");
    json_decref(st);
    return on && !dev_flag(t, "thermo-0", "disabled") && dev_flag(t, "thermo-0", "logged_in");
}

static void t_cloud_disable_enable_delete(void **s)
{
    (void)s;
    start3();
    assert_int_equal(lc_emu_cmd(&T, "device", "disable", LC_SUB_PK, "thermo-0", NULL), 0);
    assert_true(lc_wait(&T, disabled0, NULL, WAIT_MS));
    /* idempotent: a second disable changes nothing */
    assert_int_equal(lc_emu_cmd(&T, "device", "disable", LC_SUB_PK, "thermo-0", NULL), 0);
    assert_int_equal(lc_emu_cmd(&T, "device", "enable", LC_SUB_PK, "thermo-0", NULL), 0);
    assert_true(lc_wait(&T, enabled0, NULL, WAIT_MS));
    /* deleted from the gateway's topology in the console while connected */
    assert_int_equal(lc_emu_cmd(&T, "topo", "delete", LC_GW_PK "/" LC_GW_DN, LC_SUB_PK "/thermo-1", NULL), 0);
    assert_true(lc_wait(&T, cloud_deleted_1, NULL, WAIT_MS));
    assert_null(lc_device(&T, "thermo-1"));
    assert_int_equal(lc_list_size(&T, "LocalTopoList"), 2);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)2, WAIT_MS));
    assert_int_equal(lc_gw_stop(&T), 0);
}

static bool kitchen_online(lc_t *t, void *arg)
{
    (void)arg;
    json_t *st = lc_emu(t);
    bool on = st && lc_emu_online(st, "kitchen-0");
    json_decref(st);
    return on;
}

static void t_credentials_import_and_name_map(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 0, ",{\"productKey\":\"" LC_SUB_PK "\",\"deviceName\":\"kitchen-0\","
                                     "\"deviceSecret\":\"KitchenSecret000000000000000001\"}"), 0);
    assert_int_equal(lc_write_instance(&T, "thermometer = { count = 2; interval_ms = 3600000; };",
                                       "models = { thermometer = { product_key = \"" LC_SUB_PK "\"; }; };\n"
                                       "subdevice = { register = false; device_names = ( (\"thermo-0\", \"kitchen-0\") ); };"),
                     0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, lc_pred_synced, NULL, WAIT_MS));
    json_t *d = lc_device(&T, "kitchen-0");
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "device_id")), "thermo-0");
    assert_false(json_is_true(json_object_get(d, "has_secret")));
    json_decref(d);
    assert_int_equal(lc_emu_sessions(&T), 0);

    char csv[400];
    snprintf(csv, sizeof csv, "%s/creds.csv", T.dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fputs("ProductKey,DeviceName,DeviceSecret\r\n" LC_SUB_PK ",kitchen-0,KitchenSecret000000000000000001\r\n", f);
    fclose(f);
    int rc = -1;
    json_t *r = lc_ctl(&T, &rc, "credentials", "import", csv, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "imported"), "added")), 1);
    json_decref(r);
    assert_true(lc_wait(&T, kitchen_online, NULL, WAIT_MS));
    assert_int_equal(lc_emu_sessions(&T), 1); /* thermo-1: no secret, registration not allowed */

    /* a broken CSV imports nothing and says why */
    f = fopen(csv, "w");
    assert_non_null(f);
    fputs("ProductKey,DeviceName\n" LC_SUB_PK ",x\n", f);
    fclose(f);
    r = lc_ctl(&T, &rc, "credentials", "import", csv, NULL);
    assert_int_equal(rc, 1);
    assert_true(json_array_size(json_object_get(r, "problems")) >= 1);
    json_decref(r);
    assert_int_equal(lc_gw_stop(&T), 0);
}

static bool cap_reported(lc_t *t, void *arg)
{
    json_t *st = lc_status(t);
    bool ok = json_integer_value(json_object_get(json_object_get(st, "last_platform_limit"), "code")) ==
              (json_int_t)(intptr_t)arg;
    json_decref(st);
    return ok;
}

/* The platform's topology cap (6400): as many as fit are added, the rest wait and it is reported. */
static void t_topology_cap(void **s)
{
    (void)s;
    lc_topology_cap = 2;
    int rc = lc_setup(&T, 3, NULL);
    lc_topology_cap = 0;
    assert_int_equal(rc, 0);
    assert_int_equal(lc_write_instance(&T, SIM3, KEYS), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, topo_size, (void *)(intptr_t)2, WAIT_MS));
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)2, WAIT_MS));
    assert_true(lc_wait(&T, cap_reported, (void *)(intptr_t)6400, WAIT_MS));
    assert_int_equal(lc_list_size(&T, "LocalDevList"), 3);
    /* room again: a device deleted locally frees a place, the third one gets in */
    json_t *d = lc_device(&T, "thermo-0");
    const char *victim = d && lc_in_list(d, "LocalTopoList") ? "sim/thermo-0" : "sim/thermo-1";
    json_decref(d);
    json_decref(lc_ctl(&T, &rc, "delete", victim, NULL));
    assert_int_equal(rc, 0);
    assert_true(lc_wait(&T, removed_empty, NULL, WAIT_MS));
    assert_true(lc_wait(&T, topo_size, (void *)(intptr_t)2, WAIT_MS));
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)2, WAIT_MS));
    assert_int_equal(lc_list_size(&T, "LocalDevList"), 2);
    assert_int_equal(lc_gw_stop(&T), 0);
}

/* Sends raw bytes to the control socket; returns the answer (malloc'd) or NULL. */
static char *ctl_raw(const char *req, size_t len)
{
    char path[400];
    snprintf(path, sizeof path, "%s/linkgw.sock", T.state);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof a.sun_path);
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, req + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    char *buf = calloc(1, 4096);
    size_t got = 0;
    ssize_t r;
    while (buf && got < 4095 && (r = read(fd, buf + got, 4095 - got)) > 0)
        got += (size_t)r;
    close(fd);
    if (!got) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void expect_refused(const char *req)
{
    char *out = ctl_raw(req, strlen(req));
    assert_non_null(out);
    json_t *j = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(j);
    assert_true(json_is_false(json_object_get(j, "ok")));
    assert_non_null(json_string_value(json_object_get(j, "error")));
    json_decref(j);
    free(out);
}

/* The control socket: owner-only, every malformed request refused, the daemon unharmed. */
static void t_control_socket_validation(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 0, NULL), 0);
    assert_int_equal(lc_write_instance(&T, SIM3, KEYS), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    char path[400];
    struct stat st;
    snprintf(path, sizeof path, "%s/linkgw.sock", T.state);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    expect_refused("not json\n");
    expect_refused("[1,2]\n");
    expect_refused("{\"cmd\":5}\n");
    expect_refused("{\"cmd\":\"reboot\"}\n");
    expect_refused("{\"cmd\":\"delete\"}\n");
    expect_refused("{\"cmd\":\"delete\",\"device\":\"no-slash\"}\n");
    expect_refused("{\"cmd\":\"delete\",\"device\":\"/\"}\n");
    expect_refused("{\"cmd\":\"credentials-import\",\"name\":\"x\",\"csv\":1}\n");
    expect_refused("{\"cmd\":\"status\",\"cmd\":\"devices\"}\n");
    /* no newline then EOF: closed without an answer; 9 MiB without newline: refused */
    char *out = ctl_raw("{\"cmd\":", 7);
    free(out);
    size_t big = 9u << 20;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, 'x', big);
    out = ctl_raw(huge, big);
    free(huge);
    if (out) {
        assert_non_null(strstr(out, "too large"));
        free(out);
    }
    json_t *stj = lc_status(&T);
    assert_non_null(stj);
    json_decref(stj);
    assert_int_equal(lc_gw_stop(&T), 0);
}

static void t_check_config_errors(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 0, NULL), 0);
    assert_int_equal(lc_write_instance(&T, SIM3,
                                       "models = { thermometer = { product_key = \"a1NoSuchPK\"; }; };\n"
                                       "subdevice = { register = 1; device_names = ( (\"x\", \"a b\") ); bogus = 1; "
                                       "product_secrets = ( (\"a1ThermoPK\"), (\"bad pk\", \"s\") ); };"),
                     0);
    char path[400];
    snprintf(path, sizeof path, "%s/sim2.conf", T.confd);
    assert_int_equal(lc_write_text(path, "plugin = \"sim\";\n"
                                         "subdevice = { register = true;\n"
                                         "  product_secrets = ( (\"a1ThermoPK\"),\n"
                                         "    (\"bad pk\", \"s\"),\n"
                                         "    (\"a1ThermoPK\", \"Secret\\x01\"),\n"
                                         "    (\"a1Other\", \"OtherSecret1\"), (\"a1Other\", \"OtherSecret2\") ); };\n"),
                     0);
    char cmd[1200], *out = NULL;
    size_t len = 0;
    snprintf(cmd, sizeof cmd, "%s -c %s --check-config 2>&1", LC_LINKGW, T.conf);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_true(getdelim(&out, &len, 0, p) > 0);
    int st = pclose(p);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    assert_non_null(strstr(out, "sim.conf:3:"));   /* unknown ProductKey */
    assert_non_null(strstr(out, "sim.conf:4:"));   /* subdevice problems */
    assert_non_null(strstr(out, "a b"));
    assert_non_null(strstr(out, "product_secrets needs register = true"));
    assert_non_null(strstr(out, "sim2.conf:3: product_secrets entry must be"));
    assert_non_null(strstr(out, "sim2.conf:4: ProductKey 'bad pk'"));
    assert_non_null(strstr(out, "sim2.conf:5: the ProductSecret of a1ThermoPK is not a valid secret"));
    assert_non_null(strstr(out, "sim2.conf:6: product_secrets: 'a1Other' is listed twice"));
    /* no secret in the output (long enough never to match the random temp dir in the paths) */
    assert_null(strstr(out, "OtherSecret1"));
    assert_null(strstr(out, "OtherSecret2"));
    free(out);
}

/* True when the file @p path contains @p needle (grep -F). */
static bool file_has(const char *path, const char *needle)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "grep -qaF -- '%s' '%s'", needle, path);
    int rc = system(cmd);
    return WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

#define PS_KEYS(secret)                                                                                         \
    "models = { thermometer = { product_key = \"" LC_SUB_PK "\"; }; };\n"                                       \
    "subdevice = { register = true; product_secrets = ( (\"" LC_SUB_PK "\", \"" secret "\") ); };"

/*
 * The seed's product table: a product listed in product_secrets registers its
 * devices with the ProductSecret-signed product_register; the secret obtained
 * is stored (encrypted) and used for topo/add and login; the ProductSecret is
 * never written to the log or the state directory.
 */
static void t_product_secret_register(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 3, NULL), 0);
    assert_int_equal(lc_write_instance(&T, SIM3, PS_KEYS("ThermoSecret0001")), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)3, WAIT_MS));
    assert_int_equal(lc_counter(&T, "registered"), 3);
    json_t *st = lc_emu(&T);
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, LC_SUB_PK "/thermo-%d", i);
        json_t *d = json_object_get(json_object_get(st, "devices"), key);
        assert_true(json_is_true(json_object_get(d, "secretIssued")));
    }
    json_decref(st);
    assert_int_equal(lc_gw_stop(&T), 0);
    char log[400];
    snprintf(log, sizeof log, "%s/linkgw.log", T.dir);
    assert_true(file_has(log, "thing/proxy/provisioning/product_register for 3 sub-device(s)"));
    assert_false(file_has(log, "thing/sub/register for"));
    assert_false(file_has(log, "ThermoSecret0001"));
    assert_true(dir_lacks(T.state, "ThermoSecret0001"));
}

static bool refused_6600(lc_t *t, void *arg)
{
    (void)arg;
    json_t *d = lc_device(t, "thermo-0");
    bool yes = d && json_integer_value(json_object_get(d, "register_refused")) == 6600;
    json_decref(d);
    return yes;
}

/* A wrong ProductSecret: the platform's 6600 is final for the device, said clearly, the secret never logged. */
static void t_product_secret_wrong(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 1, NULL), 0);
    assert_int_equal(lc_write_instance(&T, "thermometer = { count = 1; interval_ms = 3600000; };",
                                       PS_KEYS("NotTheSecret0001")), 0);
    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, refused_6600, NULL, WAIT_MS));
    assert_int_equal(lc_emu_sessions(&T), 0);
    assert_int_equal(lc_counter(&T, "registered"), 0);
    assert_int_equal(lc_gw_stop(&T), 0);
    char log[400];
    snprintf(log, sizeof log, "%s/linkgw.log", T.dir);
    assert_true(file_has(log, "the ProductSecret in product_secrets is wrong"));
    assert_false(file_has(log, "NotTheSecret0001"));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the control socket closes on oversized requests */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(t_power_on_register_once, teardown),
        cmocka_unit_test_teardown(t_cloud_delete_while_off, teardown),
        cmocka_unit_test_teardown(t_local_delete, teardown),
        cmocka_unit_test_teardown(t_new_devices_offline_then_connect, teardown),
        cmocka_unit_test_teardown(t_cloud_disable_enable_delete, teardown),
        cmocka_unit_test_teardown(t_credentials_import_and_name_map, teardown),
        cmocka_unit_test_teardown(t_topology_cap, teardown),
        cmocka_unit_test_teardown(t_control_socket_validation, teardown),
        cmocka_unit_test_teardown(t_check_config_errors, teardown),
        cmocka_unit_test_teardown(t_product_secret_register, teardown),
        cmocka_unit_test_teardown(t_product_secret_wrong, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
