/* data_fixture.c — see data_fixture.h. */
#include "data_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const k_models[][2] = {
    {"thermo.json", "a1DThermo"}, {"light.json", "a1DLight"}, {"meter.json", "a1DMeter"}, {"meter_sync.json", "a1DMeterS"},
};

/* Sub-devices pre-registered (no secret: issued by thing/sub/register). */
static const char *const k_subs[][2] = {
    {"a1DThermo", "thermo-0"}, {"a1DThermo", "thermo-1"}, {"a1DLight", "light-0"},
    {"a1DMeter", "meter-0"},   {"a1DMeterS", "smeter-0"},
};

long long df_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return;
    fputs(text, fp);
    fclose(fp);
}

int df_start_broker(df_t *f)
{
    return df_start_broker_ex(f, NULL);
}

int df_start_broker_ex(df_t *f, json_t *extra_devices)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/linkgw-data-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[400];
    snprintf(path, sizeof path, "%s/models", f->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/conf.d", f->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/state", f->dir);
    mkdir(path, 0700);
    snprintf(f->log, sizeof f->log, "%s/linkgw.log", f->dir);
    snprintf(f->sock, sizeof f->sock, "%s/state/linkgw.sock", f->dir);

    json_t *products = json_array(), *devices = json_array();
    json_array_append_new(products, json_pack("{s:s,s:s,s:s,s:b}", "productKey", DF_GW_PK, "productSecret", "GwProductSecretX",
                                              "nodeType", "gateway", "dynamicRegistration", 0));
    for (size_t i = 0; i < sizeof k_models / sizeof *k_models; i++) {
        /* the gateway gets models/X.json; the emulator models/emu/X.json, a looser copy, so
         * that the console lets through what the gateway itself must refuse */
        char src[600];
        snprintf(src, sizeof src, "%s/%s", DATA_MODELS_DIR, k_models[i][0]);
        json_error_t je;
        json_t *tsl = json_load_file(src, 0, &je);
        if (!tsl) {
            fprintf(stderr, "fixture: %s: %s\n", src, je.text);
            return -1;
        }
        snprintf(path, sizeof path, "%s/models/%s", f->dir, k_models[i][0]);
        json_dump_file(tsl, path, JSON_INDENT(1));
        json_decref(tsl);
        snprintf(src, sizeof src, "%s/emu/%s", DATA_MODELS_DIR, k_models[i][0]);
        if (!(tsl = json_load_file(src, 0, &je))) {
            fprintf(stderr, "fixture: %s: %s\n", src, je.text);
            return -1;
        }
        json_array_append_new(products, json_pack("{s:s,s:s,s:s,s:b,s:o}", "productKey", k_models[i][1], "productSecret",
                                                  "SubProductSecret", "nodeType", "sub", "dynamicRegistration", 1,
                                                  "tsl", tsl));
    }
    json_array_append_new(devices, json_pack("{s:s,s:s,s:s}", "productKey", DF_GW_PK, "deviceName", DF_GW_DN,
                                             "deviceSecret", DF_GW_DS));
    for (size_t i = 0; i < sizeof k_subs / sizeof *k_subs; i++)
        json_array_append_new(devices, json_pack("{s:s,s:s}", "productKey", k_subs[i][0], "deviceName", k_subs[i][1]));
    if (extra_devices)
        json_array_extend(devices, extra_devices);
    json_decref(extra_devices);
    /* every arrival of a property stays in the emulator's history, so checks of a span
     * after a long outage and drain never mistake the emulator's eviction for loss */
    json_t *reg = json_pack("{s:{s:s,s:s},s:{s:i},s:o,s:o}", "admin", "username", "emu-admin", "password",
                            "emu-admin", "limits", "historyPerProperty", 100000, "products", products, "devices",
                            devices);
    char *text = json_dumps(reg, JSON_INDENT(1));
    json_decref(reg);
    int rc = emu_broker_start(&f->b, text, false);
    free(text);
    return rc;
}

static int spawn_gateway(df_t *f)
{
    char conf[400];
    snprintf(conf, sizeof conf, "%s/linkgw.conf", f->dir);
    const char *bin = getenv("LINKGW_BIN");
    if (!bin)
        return -1;
    pid_t pid = emu_spawn_linkgw(bin, conf, f->log, NULL);
    if (pid < 0)
        return -1;
    f->gw = pid;
    return 0;
}

int df_start_gateway(df_t *f, const char *main_extra, const df_conf_t *confs, size_t n)
{
    char path[400], *text = NULL;
    snprintf(path, sizeof path, "%s/linkgw.conf", f->dir);
    if (asprintf(&text,
                 "log_level = \"%s\";\n"
                 "conf_dir = \"conf.d\";\n"
                 "state_dir = \"state\";\n"
                 "plugin_dir = \"%s\";\n"
                 "request_timeout_ms = 5000;\n"
                 "%scloud = { host = \"127.0.0.1\"; port = %d; tls = false; product_key = \"" DF_GW_PK "\";\n"
                 "          device_name = \"" DF_GW_DN "\"; device_secret = \"" DF_GW_DS "\"; keepalive = 30; };\n"
                 "%s"
                 "tsl = { models_dir = \"models\"; };\n"
                 "%s\n",
                 f->log_level[0] ? f->log_level : "info", getenv("LINKGW_TEST_PLUGIN_DIR") ? getenv("LINKGW_TEST_PLUGIN_DIR") : ".",
                 f->no_cloud ? "/*\n" : "", f->b.port, f->no_cloud ? "*/\n" : "",
                 main_extra ? main_extra : "") < 0)
        return -1;
    write_file(path, text);
    free(text);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/conf.d/%s.conf", f->dir, confs[i].name);
        write_file(path, confs[i].text);
    }
    return spawn_gateway(f);
}

int df_restart_gateway(df_t *f)
{
    return spawn_gateway(f);
}

int df_stop_gateway(df_t *f)
{
    if (f->gw <= 0)
        return 0;
    kill(f->gw, SIGTERM);
    long long deadline = df_now_ms() + 15000;
    int status;
    while (df_now_ms() < deadline) {
        if (waitpid(f->gw, &status, WNOHANG) == f->gw) {
            f->gw = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
        usleep(20000);
    }
    df_kill_gateway(f);
    return -1;
}

void df_kill_gateway(df_t *f)
{
    int status;
    if (f->gw <= 0)
        return;
    kill(f->gw, SIGKILL);
    waitpid(f->gw, &status, 0);
    f->gw = 0;
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_rf(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

void df_broker_stop(df_t *f)
{
    emu_broker_stop(&f->b);
}

int df_broker_start_again(df_t *f)
{
    return emu_broker_start_again(&f->b);
}

void df_cleanup(df_t *f)
{
    df_stop_gateway(f);
    emu_broker_stop(&f->b);
    emu_broker_cleanup(&f->b);
    if (f->dir[0])
        rm_rf(f->dir);
}

json_t *df_cli(df_t *f, const char *const *args)
{
    char *out = NULL;
    emu_cli(&f->b, &out, args);
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    free(out);
    return j;
}

json_t *df_device(df_t *f, const char *pk, const char *dn)
{
    json_t *s = emu_state(&f->b);
    char key[200];
    snprintf(key, sizeof key, "%s/%s", pk, dn);
    json_t *root = json_object_get(s, "state") ? json_object_get(s, "state") : s; /* the CLI prints it bare */
    json_t *d = json_incref(json_object_get(json_object_get(root, "devices"), key));
    json_decref(s);
    return d;
}

json_t *df_property(df_t *f, const char *pk, const char *dn, const char *id)
{
    json_t *d = df_device(f, pk, dn);
    json_t *v = json_incref(json_object_get(json_object_get(json_object_get(d, "properties"), id), "value"));
    json_decref(d);
    return v;
}

json_t *df_ctl(df_t *f, const char *request_json)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(f->sock) >= sizeof a.sun_path) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    memcpy(a.sun_path, f->sock, strlen(f->sock) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char buf[1 << 16];
    size_t len = 0;
    if (write(fd, request_json, strlen(request_json)) < 0 || write(fd, "\n", 1) < 0) {
        close(fd);
        return NULL;
    }
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    buf[len] = '\0';
    return json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
}

int df_log_count(df_t *f, const char *needle)
{
    FILE *fp = fopen(f->log, "r");
    if (!fp)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, fp))
        if (strstr(line, needle))
            n++;
    fclose(fp);
    return n;
}

void df_dump_log(df_t *f)
{
    FILE *fp = fopen(f->log, "r");
    if (!fp)
        return;
    char line[4096];
    fprintf(stderr, "---- %s ----\n", f->log);
    while (fgets(line, sizeof line, fp))
        fputs(line, stderr);
    fclose(fp);
}

bool df_wait(df_t *f, bool (*cond)(df_t *f, void *arg), void *arg, int timeout_ms)
{
    long long deadline = df_now_ms() + timeout_ms;
    do {
        if (cond(f, arg))
            return true;
        usleep(100000);
    } while (df_now_ms() < deadline);
    return cond(f, arg);
}
