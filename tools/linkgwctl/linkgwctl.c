/*
 * linkgwctl — talks to a running linkgw over its control socket
 * (core/gateway/gateway_ctl.h: one JSON request line, one JSON answer line).
 *
 *   linkgwctl [-s SOCKET | -c linkgw.conf] [--json] COMMAND
 *     status                    link state, list sizes, counters, platform limits hit
 *     devices                   every sub-device: lists, online, session, product, last seen
 *     plugins                   running plugin instances
 *     delete DEVICE             local delete (INSTANCE/DEVICE_ID or PRODUCTKEY/DEVICENAME)
 *     credentials import FILE   the console's batch-add CSV (ProductKey,DeviceName,DeviceSecret)
 *
 * The socket: -s, else $LINKGW_CTL_SOCKET, else from -c (gateway.control_socket,
 * or <state_dir>/linkgw.sock), else /var/lib/linkgw/linkgw.sock.
 * Exit status: 0 done, 1 refused by the daemon, 2 usage, 3 daemon unreachable.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libconfig.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CSV (32u * 1024 * 1024)

static void usage(void)
{
    fputs("usage: linkgwctl [-s SOCKET | -c linkgw.conf] [--json] COMMAND\n"
          "  status | devices | plugins\n"
          "  delete DEVICE                (INSTANCE/DEVICE_ID or PRODUCTKEY/DEVICENAME)\n"
          "  credentials import FILE.csv  (console batch-add CSV)\n"
          "exit status: 0 done, 1 refused, 2 usage, 3 daemon unreachable\n",
          stderr);
}

/* Socket path from the daemon's main configuration file. */
static char *socket_from_conf(const char *path)
{
    config_t cfg;
    config_init(&cfg);
    char *out = NULL;
    if (config_read_file(&cfg, path) != CONFIG_TRUE) {
        fprintf(stderr, "linkgwctl: %s:%d: %s\n", path, config_error_line(&cfg), config_error_text(&cfg));
        config_destroy(&cfg);
        return NULL;
    }
    const char *sock = NULL, *state = "/var/lib/linkgw";
    config_lookup_string(&cfg, "gateway.control_socket", &sock);
    config_lookup_string(&cfg, "state_dir", &state);
    char *copy = strdup(path);
    const char *dir = copy ? dirname(copy) : ".";
    int rc;
    if (sock)
        rc = sock[0] == '/' ? asprintf(&out, "%s", sock) : asprintf(&out, "%s/%s", dir, sock);
    else
        rc = state[0] == '/' ? asprintf(&out, "%s/linkgw.sock", state) : asprintf(&out, "%s/%s/linkgw.sock", dir, state);
    if (rc < 0)
        out = NULL;
    free(copy);
    config_destroy(&cfg);
    return out;
}

/* Sends @p req, returns the parsed answer or NULL (message printed). */
static json_t *call(const char *path, json_t *req, int *exit_code)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) {
        fprintf(stderr, "linkgwctl: socket path too long: %s\n", path);
        *exit_code = 2;
        return NULL;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "linkgwctl: cannot reach the daemon at %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        *exit_code = 3;
        return NULL;
    }
    char *text = json_dumps(req, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0, off = 0;
    bool ok = text != NULL;
    while (ok && off <= len) {
        const char *p = off < len ? text + off : "\n";
        size_t n = off < len ? len - off : 1;
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            ok = false;
        else
            off += (size_t)w;
    }
    free(text);
    size_t cap = 65536, got = 0;
    char *buf = malloc(cap);
    while (ok && buf) {
        if (cap - got < 4096) {
            char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + got, cap - got - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    json_t *resp = NULL;
    if (ok && buf && got) {
        buf[got] = 0;
        resp = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
    }
    free(buf);
    if (!resp) {
        fprintf(stderr, "linkgwctl: no valid answer from the daemon\n");
        *exit_code = 3;
    }
    return resp;
}

static void fmt_time(int64_t ms, char *out, size_t cap)
{
    if (ms <= 0) {
        snprintf(out, cap, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *s_or(json_t *o, const char *k, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : dflt;
}

static void print_status(json_t *st)
{
    json_t *gw = json_object_get(st, "gateway"), *l = json_object_get(st, "lists");
    printf("gateway        %s/%s\n", s_or(gw, "productKey", "?"), s_or(gw, "deviceName", "?"));
    printf("cloud          %s%s\n", s_or(st, "cloud", "?"), json_is_true(json_object_get(st, "synced")) ? " (synced)" : "");
    printf("LocalDevList   %lld connected, %lld online\n", (long long)json_integer_value(json_object_get(l, "LocalDevList")),
           (long long)json_integer_value(json_object_get(l, "online")));
    printf("LocalTopoList  %lld\n", (long long)json_integer_value(json_object_get(l, "LocalTopoList")));
    printf("RemovedDevList %lld\n", (long long)json_integer_value(json_object_get(l, "RemovedDevList")));
    printf("logged in      %lld\n", (long long)json_integer_value(json_object_get(l, "logged_in")));
    printf("credentials    %lld\n", (long long)json_integer_value(json_object_get(st, "credentials")));
    printf("store          %s\n", s_or(st, "store", "?"));
    json_t *cap = json_object_get(st, "last_platform_limit");
    if (cap) {
        char t[32];
        fmt_time(json_integer_value(json_object_get(cap, "at_ms")), t, sizeof t);
        printf("LIMIT          code %lld at %s: %s\n", (long long)json_integer_value(json_object_get(cap, "code")), t,
               s_or(cap, "message", ""));
    }
    json_t *data = json_object_get(st, "data"), *j = json_object_get(data, "journal");
    if (data) {
        printf("uplink         sent=%lld acked=%lld rejected=%lld invalid=%lld oversize=%lld\n",
               (long long)json_integer_value(json_object_get(data, "sent")),
               (long long)json_integer_value(json_object_get(data, "acked")),
               (long long)json_integer_value(json_object_get(data, "rejected")),
               (long long)json_integer_value(json_object_get(data, "invalid")),
               (long long)json_integer_value(json_object_get(data, "oversize")));
        printf("journal        depth=%lld bytes=%lld oldest_age_ms=%lld dropped=%lld\n",
               (long long)json_integer_value(json_object_get(j, "depth")),
               (long long)json_integer_value(json_object_get(j, "bytes")),
               (long long)json_integer_value(json_object_get(j, "oldest_age_ms")),
               (long long)json_integer_value(json_object_get(j, "dropped")));
        json_t *w = json_object_get(data, "wal");
        if (json_is_true(json_object_get(w, "enabled")))
            printf("wal            segments=%lld bytes=%lld pending=%lld recovered=%lld full=%lld\n",
                   (long long)json_integer_value(json_object_get(w, "segments")),
                   (long long)json_integer_value(json_object_get(w, "bytes")),
                   (long long)json_integer_value(json_object_get(w, "pending")),
                   (long long)json_integer_value(json_object_get(w, "recovered")),
                   (long long)json_integer_value(json_object_get(w, "full")));
        else if (w)
            printf("wal            off\n");
    }
    const char *k;
    json_t *v;
    printf("counters      ");
    json_object_foreach(json_object_get(st, "counters"), k, v) printf(" %s=%lld", k, (long long)json_integer_value(v));
    printf("\n");
}

static void print_devices(json_t *arr)
{
    printf("%-28s %-32s %-28s %-7s %-9s %s\n", "INSTANCE/DEVICE", "PRODUCTKEY/DEVICENAME", "LISTS", "ONLINE", "SESSION",
           "LAST SEEN / NOTE");
    size_t i;
    json_t *d;
    json_array_foreach(arr, i, d) {
        char local[300], cloud[160], lists[80] = "", t[32];
        snprintf(local, sizeof local, "%s/%s", s_or(d, "instance", ""), s_or(d, "device_id", ""));
        if (json_object_get(d, "productKey"))
            snprintf(cloud, sizeof cloud, "%s/%s", s_or(d, "productKey", ""), s_or(d, "deviceName", ""));
        else
            snprintf(cloud, sizeof cloud, "(no identity)");
        size_t j;
        json_t *l;
        json_array_foreach(json_object_get(d, "lists"), j, l) {
            if (j)
                strncat(lists, ",", sizeof lists - strlen(lists) - 1);
            const char *s = json_string_value(l);
            strncat(lists, !s ? "?" : !strcmp(s, "LocalDevList") ? "dev" : !strcmp(s, "LocalTopoList") ? "topo" : "removed",
                    sizeof lists - strlen(lists) - 1);
        }
        fmt_time(json_integer_value(json_object_get(d, "last_seen_ms")), t, sizeof t);
        printf("%-28s %-32s %-28s %-7s %-9s %s", local, cloud, lists,
               json_is_true(json_object_get(d, "online")) ? "online" : "offline",
               json_is_true(json_object_get(d, "logged_in")) ? "yes" : "no", t);
        if (json_is_true(json_object_get(d, "disabled")))
            printf(" disabled");
        if (json_object_get(d, "last_error"))
            printf(" error=%lld", (long long)json_integer_value(json_object_get(d, "last_error")));
        if (json_object_get(d, "register_refused"))
            printf(" register-refused=%lld", (long long)json_integer_value(json_object_get(d, "register_refused")));
        printf("\n");
    }
}

static void print_plugins(json_t *arr)
{
    printf("%-20s %-20s %-10s %8s %8s\n", "INSTANCE", "PLUGIN", "STATE", "DEVICES", "ONLINE");
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p)
        printf("%-20s %-20s %-10s %8lld %8lld\n", s_or(p, "instance", ""), s_or(p, "plugin", ""), s_or(p, "state", ""),
               (long long)json_integer_value(json_object_get(p, "devices")),
               (long long)json_integer_value(json_object_get(p, "online")));
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "linkgwctl: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *nb = cap < MAX_CSV ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                fprintf(stderr, "linkgwctl: %s: larger than %u bytes\n", path, MAX_CSV);
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    if (buf && ferror(f)) {
        fprintf(stderr, "linkgwctl: %s: read error\n", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"socket", required_argument, 0, 's'}, {"config", required_argument, 0, 'c'},
                                       {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    signal(SIGPIPE, SIG_IGN); /* a closed socket is an error return, not a death */
    const char *sock = getenv("LINKGW_CTL_SOCKET"), *conf = NULL;
    bool as_json = false;
    int o;
    while ((o = getopt_long(argc, argv, "+s:c:jh", lo, NULL)) != -1) {
        switch (o) {
        case 's': sock = optarg; break;
        case 'c': conf = optarg; break;
        case 'j': as_json = true; break;
        case 'h': usage(); return 0;
        default: usage(); return 2;
        }
    }
    /* --json may also follow the command */
    int nargs = 0;
    char *args[8];
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (nargs < 8)
            args[nargs++] = argv[i];
        else {
            usage();
            return 2;
        }
    }
    if (nargs == 0) {
        usage();
        return 2;
    }
    char *sock_alloc = NULL;
    if (conf && !(sock = sock_alloc = socket_from_conf(conf)))
        return 2;
    if (!sock)
        sock = "/var/lib/linkgw/linkgw.sock";

    json_t *req = NULL;
    const char *cmd = args[0];
    if ((!strcmp(cmd, "status") || !strcmp(cmd, "devices") || !strcmp(cmd, "plugins")) && nargs == 1) {
        req = json_pack("{s:s}", "cmd", cmd);
    } else if (!strcmp(cmd, "delete") && nargs == 2 && strchr(args[1], '/')) {
        req = json_pack("{s:s,s:s}", "cmd", "delete", "device", args[1]);
    } else if (!strcmp(cmd, "credentials") && nargs == 3 && !strcmp(args[1], "import")) {
        size_t len = 0;
        char *csv = read_file(args[2], &len);
        if (!csv) {
            free(sock_alloc);
            return 1;
        }
        json_t *text = json_stringn(csv, len);
        free(csv);
        if (!text) {
            fprintf(stderr, "linkgwctl: %s: not UTF-8 text\n", args[2]);
            free(sock_alloc);
            return 1;
        }
        char *copy = strdup(args[2]);
        req = json_pack("{s:s,s:s,s:o}", "cmd", "credentials-import", "name", copy ? basename(copy) : "csv", "csv", text);
        free(copy);
    } else {
        usage();
        free(sock_alloc);
        return 2;
    }
    int rc = 0;
    json_t *resp = call(sock, req, &rc);
    json_decref(req);
    free(sock_alloc);
    if (!resp)
        return rc;
    bool ok = json_is_true(json_object_get(resp, "ok"));
    if (as_json) {
        json_dumpf(resp, stdout, JSON_INDENT(1));
        putchar('\n');
    } else if (!ok) {
        fprintf(stderr, "linkgwctl: %s\n", s_or(resp, "error", "refused"));
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(resp, "problems"), i, p) fprintf(stderr, "  %s\n", json_string_value(p));
    } else if (!strcmp(cmd, "status")) {
        print_status(json_object_get(resp, "status"));
    } else if (!strcmp(cmd, "devices")) {
        print_devices(json_object_get(resp, "devices"));
    } else if (!strcmp(cmd, "plugins")) {
        print_plugins(json_object_get(resp, "plugins"));
    } else if (!strcmp(cmd, "delete")) {
        printf("deleted %s\n", args[1]);
    } else {
        json_t *im = json_object_get(resp, "imported");
        printf("imported %lld row(s): %lld added, %lld replaced, %lld unchanged\n",
               (long long)json_integer_value(json_object_get(im, "rows")),
               (long long)json_integer_value(json_object_get(im, "added")),
               (long long)json_integer_value(json_object_get(im, "replaced")),
               (long long)json_integer_value(json_object_get(im, "unchanged")));
    }
    json_decref(resp);
    return ok ? 0 : 1;
}
