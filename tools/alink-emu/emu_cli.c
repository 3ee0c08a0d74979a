/* emu_cli.c — `alink-emu`, the console / cloud-API side of the Alink emulator.
 * `alink-emu broker …` writes a mosquitto.conf that loads the plugin and execs mosquitto;
 * every other command connects to that broker with the admin credential, sends one JSON
 * request on "$emu/request" and prints the JSON answer (delivered to this client on
 * "$emu/response"). Exit status: 0 ok, 1 refused/failed, 2 usage, 3 broker unreachable. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mosquitto.h>

typedef struct {
    const char *host, *user, *pass, *cafile;
    int port;
    int timeout_s;
} cli_opts_t;

typedef struct {
    int connack;          /* -1 until CONNACK */
    char cid[40];
    json_t *resp;
} cli_ctx_t;

static void usage(void)
{
    fputs("usage: alink-emu [-H host] [-p port] [-u admin-user] [-P admin-password] [--cafile ca.pem] [-t seconds] COMMAND\n"
          "  broker --port N [--tls-port N --cert F --key F] [--plugin SO] [--registry F] --state-dir D\n"
          "         [--admin-user U --admin-password P] [--mosquitto PATH] [--conf-only] [-v]\n"
          "  ping | state\n"
          "  product add PK [--secret S] [--node-type gateway|device|sub] [--dynreg] [--tsl FILE]\n"
          "  device add PK DN [--secret S] [--disabled]      (no --secret: pre-registered, secret issued by dynreg)\n"
          "  device batch-add PK N [--prefix P] --export FILE.csv\n"
          "  device get|disable|enable|delete|reset PK DN\n"
          "  reset PK DN                                     (like ResetThing: allow registration again)\n"
          "  topo add|delete GWPK/GWDN SUBPK/SUBDN           (or GWPK GWDN SUBPK SUBDN)\n"
          "  prop set PK DN JSON [--timeout-ms N]\n"
          "  service invoke PK DN ID JSON [--sync] [--timeout-ms N]\n"
          "  ota push PK DN --url U --version V --size N --sign HEX --sign-method Md5|SHA256 [--module M]\n"
          "  wait online|offline PK DN [--timeout S]\n"
          "  user publish PK DN user/TOPIC (PAYLOAD | --hex HEX)     (cloud → device on a custom topic)\n"
          "  user rrpc PK DN user/TOPIC (PAYLOAD | --hex HEX)        (synchronous call, 8 s; prints the answer)\n"
          "  raw down PK DN (PAYLOAD | --hex HEX) [--timeout-ms N]   (thing/model/down_raw; prints down_raw_reply)\n"
          "  messages PK DN                                          (custom-topic and raw messages that arrived)\n"
          "environment: ALINK_EMU_HOST, ALINK_EMU_PORT, ALINK_EMU_ADMIN_USER, ALINK_EMU_ADMIN_PASSWORD, ALINK_EMU_CAFILE\n",
          stderr);
}

/* ---- broker ------------------------------------------------------------------------ */

static int parse_port(const char *s)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : -1;
    return s && *s && !*end && v > 0 && v < 65536 ? (int)v : -1;
}

static int cmd_broker(int argc, char **argv)
{
    static const struct option lo[] = {
        {"port", required_argument, 0, 'p'}, {"tls-port", required_argument, 0, 'T'}, {"cert", required_argument, 0, 'c'},
        {"key", required_argument, 0, 'k'}, {"plugin", required_argument, 0, 'l'}, {"registry", required_argument, 0, 'r'},
        {"state-dir", required_argument, 0, 's'}, {"admin-user", required_argument, 0, 'U'},
        {"admin-password", required_argument, 0, 'W'}, {"mosquitto", required_argument, 0, 'm'},
        {"bind", required_argument, 0, 'b'}, {"conf-only", no_argument, 0, 'C'}, {"verbose", no_argument, 0, 'v'}, {0, 0, 0, 0}};
    int port = -1, tls_port = -1, o;
    const char *cert = NULL, *key = NULL, *plugin = NULL, *registry = NULL, *state_dir = NULL, *au = NULL, *ap = NULL;
    const char *mosq = "mosquitto", *bind = "127.0.0.1";
    bool conf_only = false, verbose = false;
    optind = 1;
    while ((o = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
        switch (o) {
        case 'p': port = parse_port(optarg); if (port < 0) { fprintf(stderr, "alink-emu: bad --port %s\n", optarg); return 2; } break;
        case 'T': tls_port = parse_port(optarg); if (tls_port < 0) { fprintf(stderr, "alink-emu: bad --tls-port %s\n", optarg); return 2; } break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'l': plugin = optarg; break;
        case 'r': registry = optarg; break;
        case 's': state_dir = optarg; break;
        case 'U': au = optarg; break;
        case 'W': ap = optarg; break;
        case 'm': mosq = optarg; break;
        case 'b': bind = optarg; break;
        case 'C': conf_only = true; break;
        case 'v': verbose = true; break;
        default: usage(); return 2;
        }
    }
    char default_plugin[4096];
    if (!plugin) {                                /* default: alink_emu.so beside this executable */
        ssize_t n = readlink("/proc/self/exe", default_plugin, sizeof default_plugin - 32);
        if (n > 0) {
            default_plugin[n] = '\0';
            char *slash = strrchr(default_plugin, '/');
            if (slash) {
                strcpy(slash + 1, "alink_emu.so");
                if (access(default_plugin, R_OK) == 0) plugin = default_plugin;
            }
        }
        if (!plugin && access(EMU_INSTALLED_PLUGIN, R_OK) == 0) plugin = EMU_INSTALLED_PLUGIN;
    }
    if (port < 0 && tls_port < 0) { fprintf(stderr, "alink-emu broker: --port or --tls-port is required\n"); return 2; }
    if (!plugin || !state_dir) { fprintf(stderr, "alink-emu broker: --plugin and --state-dir are required\n"); return 2; }
    if (tls_port > 0 && (!cert || !key)) { fprintf(stderr, "alink-emu broker: --tls-port needs --cert and --key\n"); return 2; }
    if ((au == NULL) != (ap == NULL)) { fprintf(stderr, "alink-emu broker: give both --admin-user and --admin-password\n"); return 2; }
    if (access(plugin, R_OK)) { fprintf(stderr, "alink-emu broker: %s: %s\n", plugin, strerror(errno)); return 2; }
    if (registry && access(registry, R_OK)) { fprintf(stderr, "alink-emu broker: %s: %s\n", registry, strerror(errno)); return 2; }
    if (mkdir(state_dir, 0700) && errno != EEXIST) { fprintf(stderr, "alink-emu broker: %s: %s\n", state_dir, strerror(errno)); return 2; }
    for (const char *const *s = (const char *const[]){plugin, registry, state_dir, cert, key, au, ap, NULL}; *s; s++) {
        if (strpbrk(*s, "\n\r")) { fprintf(stderr, "alink-emu broker: arguments must not contain newlines\n"); return 2; }
    }
    char conf[4096];
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", state_dir);
    FILE *f = fopen(conf, "w");
    if (!f) { fprintf(stderr, "alink-emu broker: %s: %s\n", conf, strerror(errno)); return 2; }
    fchmod(fileno(f), 0600);
    /* set_tcp_nodelay: without it Nagle holds a small reply behind an unacknowledged
     * segment until the client's delayed ACK (~40 ms per round trip) */
    fprintf(f, "# generated by alink-emu broker\nper_listener_settings false\nallow_anonymous false\npersistence false\n"
               "set_tcp_nodelay true\n"
               "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n%s"
               "plugin %s\nplugin_opt_state_dir %s\n",
            verbose ? "log_type information\nlog_type debug\n" : "", plugin, state_dir);
    struct passwd *pw = getpwuid(geteuid());   /* as root mosquitto would switch to "mosquitto" */
    if (pw && pw->pw_name && !strpbrk(pw->pw_name, "\n\r")) fprintf(f, "user %s\n", pw->pw_name);
    if (registry) fprintf(f, "plugin_opt_registry %s\n", registry);
    if (au) fprintf(f, "plugin_opt_admin_user %s\nplugin_opt_admin_password %s\n", au, ap);
    if (port > 0) fprintf(f, "listener %d %s\n", port, bind);
    if (tls_port > 0) fprintf(f, "listener %d %s\ncertfile %s\nkeyfile %s\n", tls_port, bind, cert, key);
    if (fclose(f)) { fprintf(stderr, "alink-emu broker: %s: write failed\n", conf); return 2; }
    if (conf_only) { printf("%s\n", conf); return 0; }
    fflush(NULL);
    execlp(mosq, mosq, "-c", conf, (char *)NULL);
    fprintf(stderr, "alink-emu broker: cannot run %s: %s\n", mosq, strerror(errno));
    return 3;
}

/* ---- admin client ------------------------------------------------------------------ */

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    ((cli_ctx_t *)ud)->connack = rc;
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    cli_ctx_t *ctx = ud;
    json_error_t je;
    (void)m;
    if (!msg->topic || strcmp(msg->topic, "$emu/response") || ctx->resp) return;
    json_t *j = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, &je);
    const char *cid = json_string_value(json_object_get(j, "cid"));
    if (cid && !strcmp(cid, ctx->cid)) ctx->resp = j;
    else json_decref(j);
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send `req` (stolen) and return the answer, or NULL (message on stderr). */
static json_t *call(const cli_opts_t *o, json_t *req, int extra_wait_s)
{
    cli_ctx_t ctx = {.connack = -1};
    char client_id[64];
    json_t *out = NULL;
    snprintf(client_id, sizeof client_id, "alink-emu-cli-%d-%lld", (int)getpid(), mono_ms());
    snprintf(ctx.cid, sizeof ctx.cid, "%d-%lld", (int)getpid(), mono_ms());
    json_object_set_new(req, "cid", json_string(ctx.cid));
    struct mosquitto *m = mosquitto_new(client_id, true, &ctx);
    if (!m) { json_decref(req); return NULL; }
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_message_callback_set(m, on_message);
    mosquitto_username_pw_set(m, o->user, o->pass);
    if (o->cafile && mosquitto_tls_set(m, o->cafile, NULL, NULL, NULL, NULL) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "alink-emu: cannot use CA file %s\n", o->cafile);
        goto done;
    }
    if (mosquitto_connect(m, o->host, o->port, 60) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "alink-emu: cannot reach broker %s:%d\n", o->host, o->port);
        goto done;
    }
    long long deadline = mono_ms() + (long long)(o->timeout_s + extra_wait_s) * 1000;
    while (ctx.connack < 0 && mono_ms() < deadline)
        if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS) break;
    if (ctx.connack != 0) {
        fprintf(stderr, "alink-emu: broker refused the admin login (%d)\n", ctx.connack);
        goto done;
    }
    char *text = json_dumps(req, JSON_COMPACT);
    int rc = text ? mosquitto_publish(m, NULL, "$emu/request", (int)strlen(text), text, 1, false) : MOSQ_ERR_NOMEM;
    free(text);
    if (rc != MOSQ_ERR_SUCCESS) { fprintf(stderr, "alink-emu: publish failed\n"); goto done; }
    while (!ctx.resp && mono_ms() < deadline)
        if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS) break;
    if (!ctx.resp) fprintf(stderr, "alink-emu: no answer from the emulator\n");
    out = ctx.resp;
    mosquitto_disconnect(m);
done:
    mosquitto_destroy(m);
    json_decref(req);
    return out;
}

/* Print the answer; exit status 0 when ok (and, with check_code, the device said 200). */
static int finish(json_t *resp, const char *field, bool check_code)
{
    if (!resp) return 3;
    int rc = json_is_true(json_object_get(resp, "ok")) ? 0 : 1;
    if (rc) fprintf(stderr, "alink-emu: %s\n", json_string_value(json_object_get(resp, "error")) ?
                                                 json_string_value(json_object_get(resp, "error")) : "failed");
    json_t *what = field ? json_object_get(resp, field) : resp;
    if (!rc && check_code && json_integer_value(json_object_get(resp, "code")) != 200) rc = 1;
    if (what && (!rc || check_code)) {
        char *text = json_dumps(what, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (text) printf("%s\n", text);
        free(text);
    }
    json_decref(resp);
    return rc;
}

static json_t *parse_json_arg(const char *s)
{
    json_error_t je;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
    if (!j) fprintf(stderr, "alink-emu: invalid JSON argument: %s (column %d)\n", je.text, je.column);
    return j;
}

/* "pk/dn" or two separate words; advances *i. */
static bool key_arg(int argc, char **argv, int *i, char *out, size_t outsz)
{
    if (*i >= argc) return false;
    if (strchr(argv[*i], '/')) { snprintf(out, outsz, "%s", argv[(*i)++]); return true; }
    if (*i + 1 >= argc) return false;
    snprintf(out, outsz, "%s/%s", argv[*i], argv[*i + 1]);
    *i += 2;
    return true;
}

static int cmd_batch_add(const cli_opts_t *o, int argc, char **argv)
{
    const char *export = NULL, *prefix = NULL;
    if (argc < 4) { usage(); return 2; }
    char *end;
    long n = strtol(argv[3], &end, 10);
    if (*end || n < 1 || n > 10000) { fprintf(stderr, "alink-emu: N must be 1..10000\n"); return 2; }
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--export") && i + 1 < argc) export = argv[++i];
        else if (!strcmp(argv[i], "--prefix") && i + 1 < argc) prefix = argv[++i];
        else { usage(); return 2; }
    }
    if (!export) { fprintf(stderr, "alink-emu: --export FILE.csv is required\n"); return 2; }
    json_t *req = json_pack("{s:s,s:s,s:i}", "cmd", "device.batchAdd", "productKey", argv[2], "count", (int)n);
    if (prefix) json_object_set_new(req, "prefix", json_string(prefix));
    json_t *resp = call(o, req, 0);
    if (!resp) return 3;
    if (!json_is_true(json_object_get(resp, "ok"))) return finish(resp, NULL, false);
    int fd = open(export, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) { fprintf(stderr, "alink-emu: %s: %s\n", export, strerror(errno)); json_decref(resp); return 1; }
    fprintf(f, "ProductKey,DeviceName,DeviceSecret\n");
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(resp, "devices"), i, d)
        fprintf(f, "%s,%s,%s\n", json_string_value(json_object_get(d, "productKey")), json_string_value(json_object_get(d, "deviceName")),
                json_string_value(json_object_get(d, "deviceSecret")));
    if (fclose(f)) { fprintf(stderr, "alink-emu: %s: write failed\n", export); json_decref(resp); return 1; }
    printf("%zu devices written to %s\n", json_array_size(json_object_get(resp, "devices")), export);
    json_decref(resp);
    return 0;
}

/* user publish|rrpc PK DN TOPIC (PAYLOAD | --hex HEX); raw down PK DN (PAYLOAD | --hex HEX) [--timeout-ms N] */
static int cmd_bytes(const cli_opts_t *o, int argc, char **argv)
{
    bool raw = !strcmp(argv[0], "raw");
    int first = raw ? 4 : 5, tmo = 10000;
    if (argc < first + 1) { usage(); return 2; }
    const char *cmd = raw ? "raw.down" : !strcmp(argv[1], "rrpc") ? "user.rrpc" : "user.publish";
    json_t *req = json_pack("{s:s,s:s,s:s}", "cmd", cmd, "productKey", argv[2], "deviceName", argv[3]);
    if (!raw) json_object_set_new(req, "topic", json_string(argv[4]));
    bool have = false;
    for (int k = first; k < argc; k++) {
        if (!strcmp(argv[k], "--hex") && k + 1 < argc && !have) { json_object_set_new(req, "hex", json_string(argv[++k])); have = true; }
        else if (!strcmp(argv[k], "--timeout-ms") && k + 1 < argc && raw) tmo = atoi(argv[++k]);
        else if (argv[k][0] != '-' && !have) { json_object_set_new(req, "payload", json_string(argv[k])); have = true; }
        else { json_decref(req); usage(); return 2; }
    }
    if (!have || tmo <= 0) { json_decref(req); usage(); return 2; }
    json_object_set_new(req, "timeout", json_integer(tmo));
    bool waits = strcmp(cmd, "user.publish") != 0;
    return finish(call(o, req, waits ? (raw ? tmo / 1000 : 8) + 1 : 0), waits ? "reply" : NULL, waits);
}

static int cmd_wait(const cli_opts_t *o, int argc, char **argv)
{
    int timeout = 10;
    if (argc < 4 || (strcmp(argv[1], "online") && strcmp(argv[1], "offline"))) { usage(); return 2; }
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = atoi(argv[++i]);
        else { usage(); return 2; }
    }
    bool want = !strcmp(argv[1], "online");
    long long deadline = mono_ms() + (long long)timeout * 1000;
    char key[140];
    snprintf(key, sizeof key, "%s/%s", argv[2], argv[3]);
    do {
        json_t *resp = call(o, json_pack("{s:s}", "cmd", "state"), 0);
        if (!resp) return 3;
        bool online = json_object_get(json_object_get(json_object_get(resp, "state"), "sessions"), key) != NULL;
        json_decref(resp);
        if (online == want) return 0;
        usleep(100000);
    } while (mono_ms() < deadline);
    fprintf(stderr, "alink-emu: %s did not become %s within %d s\n", key, argv[1], timeout);
    return 1;
}

int main(int argc, char **argv)
{
    cli_opts_t o = {.host = getenv("ALINK_EMU_HOST") ? getenv("ALINK_EMU_HOST") : "127.0.0.1",
                    .user = getenv("ALINK_EMU_ADMIN_USER") ? getenv("ALINK_EMU_ADMIN_USER") : "emu-admin",
                    .pass = getenv("ALINK_EMU_ADMIN_PASSWORD") ? getenv("ALINK_EMU_ADMIN_PASSWORD") : "emu-admin",
                    .cafile = getenv("ALINK_EMU_CAFILE"),
                    .port = getenv("ALINK_EMU_PORT") ? parse_port(getenv("ALINK_EMU_PORT")) : 1883,
                    .timeout_s = 15};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        if (!v) { usage(); return 2; }
        if (!strcmp(a, "-H") || !strcmp(a, "--host")) o.host = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--port")) o.port = parse_port(v);
        else if (!strcmp(a, "-u") || !strcmp(a, "--user")) o.user = v;
        else if (!strcmp(a, "-P") || !strcmp(a, "--password")) o.pass = v;
        else if (!strcmp(a, "--cafile")) o.cafile = v;
        else if (!strcmp(a, "-t") || !strcmp(a, "--timeout")) o.timeout_s = atoi(v);
        else { usage(); return 2; }
        i++;
    }
    if (o.port < 0 || o.timeout_s <= 0) { fprintf(stderr, "alink-emu: bad port or timeout\n"); return 2; }
    if (i >= argc) { usage(); return 2; }
    argc -= i;
    argv += i;
    const char *c0 = argv[0], *c1 = argc > 1 ? argv[1] : "";
    if (!strcmp(c0, "broker")) return cmd_broker(argc, argv);

    mosquitto_lib_init();
    int rc = 2;
    if (!strcmp(c0, "ping") || !strcmp(c0, "state")) {
        rc = finish(call(&o, json_pack("{s:s}", "cmd", c0), 0), !strcmp(c0, "state") ? "state" : NULL, false);
    } else if (!strcmp(c0, "product") && !strcmp(c1, "add") && argc >= 3) {
        json_t *p = json_pack("{s:s,s:s}", "productKey", argv[2], "nodeType", "device");
        rc = 0;
        for (int k = 3; k < argc && !rc; k++) {
            if (!strcmp(argv[k], "--secret") && k + 1 < argc) json_object_set_new(p, "productSecret", json_string(argv[++k]));
            else if (!strcmp(argv[k], "--node-type") && k + 1 < argc) json_object_set_new(p, "nodeType", json_string(argv[++k]));
            else if (!strcmp(argv[k], "--dynreg")) json_object_set_new(p, "dynamicRegistration", json_true());
            else if (!strcmp(argv[k], "--tsl") && k + 1 < argc) {
                json_error_t je;
                json_t *tsl = json_load_file(argv[++k], 0, &je);
                if (!tsl) { fprintf(stderr, "%s:%d: %s\n", argv[k], je.line, je.text); rc = 2; }
                else json_object_set_new(p, "tsl", tsl);
            } else { usage(); rc = 2; }
        }
        if (!json_object_get(p, "productSecret")) {
            char s[17];
            const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            srand((unsigned)(mono_ms() ^ getpid()));
            for (int k = 0; k < 16; k++) s[k] = al[rand() % 62];
            s[16] = '\0';
            json_object_set_new(p, "productSecret", json_string(s));
        }
        if (!rc) rc = finish(call(&o, json_pack("{s:s,s:O}", "cmd", "product.add", "product", p), 0), NULL, false);
        json_decref(p);
    } else if (!strcmp(c0, "device") && !strcmp(c1, "add") && argc >= 4) {
        json_t *d = json_pack("{s:s,s:s}", "productKey", argv[2], "deviceName", argv[3]);
        rc = 0;
        for (int k = 4; k < argc && !rc; k++) {
            if (!strcmp(argv[k], "--secret") && k + 1 < argc) json_object_set_new(d, "deviceSecret", json_string(argv[++k]));
            else if (!strcmp(argv[k], "--disabled")) json_object_set_new(d, "enabled", json_false());
            else { usage(); rc = 2; }
        }
        if (!rc) rc = finish(call(&o, json_pack("{s:s,s:O}", "cmd", "device.add", "device", d), 0), NULL, false);
        json_decref(d);
    } else if (!strcmp(c0, "device") && !strcmp(c1, "batch-add")) {
        rc = cmd_batch_add(&o, argc, argv);
    } else if ((!strcmp(c0, "device") && argc == 4 &&
                (!strcmp(c1, "get") || !strcmp(c1, "disable") || !strcmp(c1, "enable") || !strcmp(c1, "delete") || !strcmp(c1, "reset"))) ||
               (!strcmp(c0, "reset") && argc == 3)) {
        const char *what = !strcmp(c0, "reset") ? "reset" : c1;
        const char *pk = !strcmp(c0, "reset") ? argv[1] : argv[2], *dn = !strcmp(c0, "reset") ? argv[2] : argv[3];
        char cmd[32];
        snprintf(cmd, sizeof cmd, "device.%s", what);
        rc = finish(call(&o, json_pack("{s:s,s:s,s:s}", "cmd", cmd, "productKey", pk, "deviceName", dn), 0), NULL, false);
    } else if (!strcmp(c0, "topo") && (!strcmp(c1, "add") || !strcmp(c1, "delete"))) {
        char gw[140], sub[140];
        int k = 2;
        if (!key_arg(argc, argv, &k, gw, sizeof gw) || !key_arg(argc, argv, &k, sub, sizeof sub) || k != argc) { usage(); rc = 2; }
        else rc = finish(call(&o, json_pack("{s:s,s:s,s:s}", "cmd", !strcmp(c1, "add") ? "topo.add" : "topo.delete", "gateway", gw,
                                            "sub", sub), 0), NULL, false);
    } else if (!strcmp(c0, "prop") && !strcmp(c1, "set") && argc >= 5) {
        json_t *params = parse_json_arg(argv[4]);
        int tmo = 10000;
        for (int k = 5; k < argc; k++) {
            if (!strcmp(argv[k], "--timeout-ms") && k + 1 < argc) tmo = atoi(argv[++k]);
            else { json_decref(params); params = NULL; usage(); }
        }
        if (params)
            rc = finish(call(&o, json_pack("{s:s,s:s,s:s,s:o,s:i}", "cmd", "prop.set", "productKey", argv[2], "deviceName", argv[3],
                                           "params", params, "timeout", tmo), tmo / 1000 + 1), "reply", true);
    } else if (!strcmp(c0, "service") && !strcmp(c1, "invoke") && argc >= 6) {
        json_t *params = parse_json_arg(argv[5]);
        int tmo = 10000;
        bool sync = false;
        for (int k = 6; k < argc; k++) {
            if (!strcmp(argv[k], "--timeout-ms") && k + 1 < argc) tmo = atoi(argv[++k]);
            else if (!strcmp(argv[k], "--sync")) sync = true;
            else { json_decref(params); params = NULL; usage(); }
        }
        if (params)
            rc = finish(call(&o, json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:i}", "cmd", "service.invoke", "productKey", argv[2], "deviceName",
                                           argv[3], "identifier", argv[4], "params", params, "sync", sync, "timeout", tmo),
                             (sync ? 8 : tmo / 1000) + 1), "reply", true);
    } else if (!strcmp(c0, "ota") && !strcmp(c1, "push") && argc >= 4) {
        json_t *req = json_pack("{s:s,s:s,s:s}", "cmd", "ota.push", "productKey", argv[2], "deviceName", argv[3]);
        rc = 0;
        for (int k = 4; k < argc && !rc; k++) {
            const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
            if (!v) { usage(); rc = 2; break; }
            if (!strcmp(a, "--url")) json_object_set_new(req, "url", json_string(v));
            else if (!strcmp(a, "--version")) json_object_set_new(req, "version", json_string(v));
            else if (!strcmp(a, "--size")) json_object_set_new(req, "size", json_integer(atoll(v)));
            else if (!strcmp(a, "--sign")) json_object_set_new(req, "sign", json_string(v));
            else if (!strcmp(a, "--sign-method")) json_object_set_new(req, "signMethod", json_string(v));
            else if (!strcmp(a, "--module")) json_object_set_new(req, "module", json_string(v));
            else { usage(); rc = 2; break; }
            k++;
        }
        if (!rc) rc = finish(call(&o, req, 0), NULL, false);
        else json_decref(req);
    } else if ((!strcmp(c0, "user") && (!strcmp(c1, "publish") || !strcmp(c1, "rrpc"))) || (!strcmp(c0, "raw") && !strcmp(c1, "down"))) {
        rc = cmd_bytes(&o, argc, argv);
    } else if (!strcmp(c0, "messages") && argc == 3) {
        rc = finish(call(&o, json_pack("{s:s,s:s,s:s}", "cmd", "messages", "productKey", argv[1], "deviceName", argv[2]), 0),
                    "messages", false);
    } else if (!strcmp(c0, "wait")) {
        rc = cmd_wait(&o, argc, argv);
    } else {
        usage();
    }
    mosquitto_lib_cleanup();
    return rc;
}
