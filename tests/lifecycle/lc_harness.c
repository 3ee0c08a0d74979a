/* Harness of the lifecycle end-to-end tests; see lc_harness.h. */
#define _GNU_SOURCE
#include "lc_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t g_broker;
int lc_topology_cap;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    socklen_t len = sizeof a;
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len)) {
        close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

int lc_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

int lc_use_product(lc_t *t, const char *pk, const char *models_dir, const char *const *device_names)
{
    if (lc_broker_stop(t) != 0)
        return -1;
    char tsl[600], secret[128];
    snprintf(tsl, sizeof tsl, "%s/%s.json", models_dir, pk);
    snprintf(secret, sizeof secret, "%sSecret", pk);
    json_t *devices = json_pack("[{s:s,s:s,s:s}]", "productKey", LC_GW_PK, "deviceName", LC_GW_DN, "deviceSecret",
                                "GwDeviceSecret000000000000000001");
    for (size_t i = 0; device_names && device_names[i]; i++)
        json_array_append_new(devices, json_pack("{s:s,s:s}", "productKey", pk, "deviceName", device_names[i]));
    json_t *reg = json_pack("{s:{s:s,s:s},s:[{s:s,s:s,s:s},{s:s,s:s,s:s,s:b,s:s}],s:o}", "admin", "username",
                            "emu-admin", "password", "emu-admin", "products", "productKey", LC_GW_PK, "productSecret",
                            "GwSecret00000001", "nodeType", "gateway", "productKey", pk, "productSecret", secret,
                            "nodeType", "sub", "dynamicRegistration", 1, "tslFile", tsl, "devices", devices);
    int rc = reg ? json_dump_file(reg, t->b.registry, JSON_INDENT(1)) : -1;
    json_decref(reg);
    if (rc)
        return -1;
    /* linkgw.conf: the TSL models directory of the caller */
    FILE *f = fopen(t->conf, "r");
    if (!f)
        return -1;
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *at = strstr(text, LC_TSL_DIR);
    if (!at)
        return -1;
    char out[4608];
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, models_dir, at + strlen(LC_TSL_DIR));
    if (lc_write_text(t->conf, out))
        return -1;
    return lc_broker_start(t);
}

int lc_setup(lc_t *t, int npre, const char *extra_devices)
{
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/linkgw-lc-XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->b.dir, sizeof t->b.dir, "%s", t->dir);
    snprintf(t->b.state_dir, sizeof t->b.state_dir, "%s/emu", t->dir);
    snprintf(t->b.registry, sizeof t->b.registry, "%s/registry.json", t->dir);
    snprintf(t->conf, sizeof t->conf, "%s/linkgw.conf", t->dir);
    snprintf(t->confd, sizeof t->confd, "%s/conf.d", t->dir);
    snprintf(t->state, sizeof t->state, "%s/state", t->dir);
    if (mkdir(t->confd, 0700) || mkdir(t->b.state_dir, 0700))
        return -1;
    json_t *reg = json_pack("{s:{s:s,s:s},s:[{s:s,s:s,s:s},{s:s,s:s,s:s,s:b}],s:[{s:s,s:s,s:s}]}", "admin", "username",
                            "emu-admin", "password", "emu-admin", "products", "productKey", LC_GW_PK, "productSecret",
                            "GwSecret00000001", "nodeType", "gateway", "productKey", LC_SUB_PK, "productSecret",
                            "ThermoSecret0001", "nodeType", "sub", "dynamicRegistration", 1, "devices", "productKey",
                            LC_GW_PK, "deviceName", LC_GW_DN, "deviceSecret", "GwDeviceSecret000000000000000001");
    if (lc_topology_cap > 0)
        json_object_set_new(reg, "limits", json_pack("{s:i}", "topologyPerGateway", lc_topology_cap));
    json_t *devs = json_object_get(reg, "devices");
    for (int i = 0; i < npre; i++) {
        char dn[32];
        snprintf(dn, sizeof dn, "thermo-%d", i);
        json_array_append_new(devs, json_pack("{s:s,s:s}", "productKey", LC_SUB_PK, "deviceName", dn));
    }
    if (extra_devices) {
        char *txt = NULL;
        if (asprintf(&txt, "[%s]", extra_devices[0] == ',' ? extra_devices + 1 : extra_devices) < 0)
            return -1;
        json_t *more = json_loads(txt, 0, NULL);
        free(txt);
        json_array_extend(devs, more);
        json_decref(more);
    }
    int rc = json_dump_file(reg, t->b.registry, JSON_INDENT(1));
    json_decref(reg);
    if (rc)
        return -1;
    t->b.port = free_port();
    char conf[2048];
    snprintf(conf, sizeof conf,
             "log_level = \"debug\";\nconf_dir = \"conf.d\";\nstate_dir = \"state\";\nplugin_dir = \"%s\";\n"
             "cloud = { host = \"127.0.0.1\"; port = %d; tls = false; product_key = \"%s\"; device_name = \"%s\";\n"
             "          device_secret = \"GwDeviceSecret000000000000000001\"; request_timeout_ms = 5000; };\n"
             "tsl = { models_dir = \"%s\"; };\n",
             LC_PLUGIN_DIR, t->b.port, LC_GW_PK, LC_GW_DN, LC_TSL_DIR);
    if (lc_write_text(t->conf, conf))
        return -1;
    return lc_broker_start(t);
}

int lc_append_conf(lc_t *t, const char *text)
{
    FILE *f = fopen(t->conf, "a");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

int lc_write_instance(lc_t *t, const char *sim_settings, const char *keys)
{
    char path[400], *text = NULL;
    snprintf(path, sizeof path, "%s/sim.conf", t->confd);
    if (asprintf(&text, "plugin = \"sim\";\nsettings = { %s };\n%s\n", sim_settings, keys ? keys : "") < 0)
        return -1;
    int rc = lc_write_text(path, text);
    free(text);
    return rc;
}

int lc_broker_start(lc_t *t)
{
    int rc = emu_broker_start_again(&t->b); /* t->b.port: the port linkgw.conf names */
    g_broker = t->b.pid;
    return rc;
}

static int stop_child(pid_t *pidp, int sig, int timeout_ms)
{
    int status;
    if (*pidp <= 0)
        return 0;
    kill(*pidp, sig);
    long long deadline = mono_ms() + timeout_ms;
    while (mono_ms() < deadline) {
        if (waitpid(*pidp, &status, WNOHANG) == *pidp) {
            *pidp = 0;
            if (WIFEXITED(status))
                return WEXITSTATUS(status);
            return sig == SIGKILL && WIFSIGNALED(status) ? 0 : -1;
        }
        usleep(20000);
    }
    kill(*pidp, SIGKILL);
    waitpid(*pidp, &status, 0);
    *pidp = 0;
    return -1;
}

int lc_broker_stop(lc_t *t)
{
    int rc = stop_child(&t->b.pid, SIGTERM, 10000);
    g_broker = 0;
    return rc;
}

int lc_gw_start(lc_t *t)
{
    char log[400];
    snprintf(log, sizeof log, "%s/linkgw.log", t->dir);
    pid_t pid = emu_spawn_linkgw(LC_LINKGW, t->conf, log, t->dir);
    if (pid < 0)
        return -1;
    t->gw_pid = pid;
    /* ready once the control socket answers */
    long long deadline = mono_ms() + 15000;
    while (mono_ms() < deadline) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            t->gw_pid = 0;
            fprintf(stderr, "lc: linkgw exited at start (status 0x%x), see %s\n", st, log);
            return -1;
        }
        json_t *s = lc_status(t);
        if (s) {
            json_decref(s);
            return 0;
        }
        usleep(50000);
    }
    return -1;
}

int lc_gw_stop(lc_t *t) { return stop_child(&t->gw_pid, SIGTERM, 20000); }

void lc_gw_kill(lc_t *t) { stop_child(&t->gw_pid, SIGKILL, 5000); }

void lc_gw_reload(lc_t *t)
{
    if (t->gw_pid > 0)
        kill(t->gw_pid, SIGHUP);
}

void lc_teardown(lc_t *t)
{
    if (t->gw_pid > 0)
        stop_child(&t->gw_pid, SIGTERM, 20000);
    if (t->b.pid > 0)
        lc_broker_stop(t);
    if (!t->dir[0])
        return;
    if (getenv("LC_KEEP")) {
        fprintf(stderr, "lc: kept %s\n", t->dir);
        return;
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "lc: cannot remove %s\n", t->dir);
    t->dir[0] = 0;
}

/* Runs argv, stdout into *out. */
static int run(char *const argv[], char **out)
{
    int pfd[2], status = -1;
    if (pipe(pfd))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0)
            dup2(dn, 2);
        close(pfd[0]);
        close(pfd[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while (buf && (r = read(pfd[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (cap - len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    close(pfd[0]);
    if (buf)
        buf[len] = 0;
    waitpid(pid, &status, 0);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

json_t *lc_ctl(lc_t *t, int *rc, ...)
{
    char *argv[16];
    int n = 0;
    argv[n++] = (char *)LC_LINKGWCTL;
    argv[n++] = (char *)"-c";
    argv[n++] = t->conf;
    argv[n++] = (char *)"--json";
    va_list ap;
    va_start(ap, rc);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 15)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    char *out = NULL;
    int r = run(argv, &out);
    if (rc)
        *rc = r;
    json_t *j = out && *out ? json_loads(out, 0, NULL) : NULL;
    free(out);
    return j;
}

json_t *lc_emu(lc_t *t)
{
    json_t *j = emu_state(&t->b);
    json_t *s = json_object_get(j, "state");
    if (s) {
        json_incref(s);
        json_decref(j);
        return s;
    }
    return j;
}

int lc_emu_cmd(lc_t *t, ...)
{
    const char *args[16];
    int n = 0;
    va_list ap;
    va_start(ap, t);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 15)
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    char *out = NULL;
    int rc = emu_cli(&t->b, &out, args);
    free(out);
    return rc;
}

bool lc_wait(lc_t *t, bool (*pred)(lc_t *t, void *arg), void *arg, int timeout_ms)
{
    long long deadline = mono_ms() + timeout_ms;
    do {
        if (pred(t, arg))
            return true;
        usleep(100000);
    } while (mono_ms() < deadline);
    return pred(t, arg);
}

bool lc_emu_online(json_t *st, const char *dn)
{
    char key[128];
    snprintf(key, sizeof key, "%s/%s", LC_SUB_PK, dn);
    const char *via = json_string_value(json_object_get(json_object_get(json_object_get(st, "sessions"), key), "via"));
    return via && strcmp(via, LC_GW_PK "/" LC_GW_DN) == 0;
}

const char *lc_emu_gateway(json_t *st, const char *dn)
{
    char key[128];
    snprintf(key, sizeof key, "%s/%s", LC_SUB_PK, dn);
    const char *gw = json_string_value(json_object_get(json_object_get(json_object_get(st, "devices"), key), "gateway"));
    return gw ? gw : "";
}

int lc_emu_sessions(lc_t *t)
{
    json_t *st = lc_emu(t);
    if (!st)
        return -1;
    int n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(st, "sessions"), k, v) {
        const char *via = json_string_value(json_object_get(v, "via"));
        if (strncmp(k, LC_SUB_PK "/", strlen(LC_SUB_PK) + 1) == 0 && via && strcmp(via, LC_GW_PK "/" LC_GW_DN) == 0)
            n++;
    }
    json_decref(st);
    return n;
}

json_t *lc_status(lc_t *t)
{
    json_t *r = lc_ctl(t, NULL, "status", NULL);
    json_t *s = json_incref(json_object_get(r, "status"));
    json_decref(r);
    return s;
}

long long lc_list_size(lc_t *t, const char *name)
{
    json_t *s = lc_status(t);
    json_t *v = json_object_get(json_object_get(s, "lists"), name);
    long long n = json_is_integer(v) ? json_integer_value(v) : -1;
    json_decref(s);
    return n;
}

long long lc_counter(lc_t *t, const char *name)
{
    json_t *s = lc_status(t);
    json_t *v = json_object_get(json_object_get(s, "counters"), name);
    long long n = json_is_integer(v) ? json_integer_value(v) : -1;
    json_decref(s);
    return n;
}

json_t *lc_device(lc_t *t, const char *dn)
{
    json_t *r = lc_ctl(t, NULL, "devices", NULL);
    size_t i;
    json_t *d, *found = NULL;
    json_array_foreach(json_object_get(r, "devices"), i, d) {
        const char *x = json_string_value(json_object_get(d, "deviceName"));
        if (x && strcmp(x, dn) == 0) {
            found = json_incref(d);
            break;
        }
    }
    json_decref(r);
    return found;
}

bool lc_in_list(json_t *dev, const char *list)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(dev, "lists"), i, l) if (json_string_value(l) && !strcmp(json_string_value(l), list)) return true;
    return false;
}

bool lc_pred_sessions(lc_t *t, void *arg) { return lc_emu_sessions(t) == (int)(intptr_t)arg; }

bool lc_pred_synced(lc_t *t, void *arg)
{
    (void)arg;
    json_t *s = lc_status(t);
    bool ok = s && json_is_true(json_object_get(s, "synced"));
    json_decref(s);
    return ok;
}
