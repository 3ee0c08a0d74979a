/*
 * bench_modbus_gateway: the Modbus data path end to end, simulator →
 * linkgw → broker, beside a bare libmodbus polling loop against the same
 * simulator in the same run (issue 7, item 9). Prints numbers; asserts only
 * that values arrived and the daemon stopped cleanly (exit 1 when a phase
 * delivered nothing or linkgw's exit status on SIGTERM was not 0, which under
 * the sanitizer build includes leaks).
 *
 *   bench_modbus_gateway [SLAVES[,SLAVES…]] [SECONDS] [WARMUP] [bus|buses|both] [plain|tls|both]
 *                        defaults: 10,50  10  3  both  plain
 *
 * Two layouts of the same N slaves, as sites have them: "bus" = one Modbus
 * TCP endpoint with N unit ids (a TCP→RTU gateway or a daisy chain): one
 * plugin instance, one connection, one bus worker; "buses" = N Modbus TCP
 * devices: N conf.d instances, N connections, N workers (all served by the
 * one simulator process, which accepts up to 64 clients).
 *
 * For each slave count N and layout, with fresh processes:
 *  1. mosquitto with the alink-emu plugin on a free port (tests/emu harness),
 *     registry: a gateway and a sub-device product whose TSL has 100 int
 *     properties R0…R99, devices mb-1…mb-N whitelisted (dynamic registration);
 *     tools/modbus-sim on a free port serving units 1…N, 100 holding
 *     registers each, --every-read-changes (every register a request reads is
 *     incremented, so every value changes on every poll and report-on-change
 *     suppresses nothing).
 *  2. The bare loop (once per slave count): this program re-executed as
 *     `--bare` (a process of its own, so its RSS means something): one
 *     libmodbus connection, every slave's block of 100 registers read in
 *     turn every 100 ms, for SECONDS.
 *     Prints values/s, CPU µs per value, peak and current RSS, and the share
 *     of values that differed from the previous read of the same register.
 *  3. The real daemon ($LINKGW_BIN, plugins from $LINKGW_TEST_PLUGIN_DIR,
 *     simulator $MODBUS_SIM; defaults: this build tree; BENCH_KEEP=1 keeps
 *     its directory) with the conf.d Modbus instance(s) polling the
 *     same slaves every 100 ms, mapped to the TSL product (mapping,
 *     validation, report on change, pack/post to the broker, replies from the
 *     emulator). Once every sub-device is logged in and values are acked,
 *     WARMUP seconds pass, then a window of SECONDS is measured from the
 *     daemon's own counters (`status` on its control socket: data.reported,
 *     data.acked, …) and /proc/<pid>: values/s reported by the plugin
 *     ("polled"), values/s acknowledged by the platform, daemon CPU
 *     (utime+stime) per polled value, VmHWM and VmRSS. The broker's and the
 *     simulator's CPU in the same window are printed too: on a 2-core host
 *     they compete with the daemon, and when the platform side cannot keep up
 *     the table says so (acked < polled) instead of hiding it. Where the
 *     daemon's resident memory is (anonymous vs library pages, the biggest
 *     mappings, PSS) is printed so the RSS figure can be read.
 *
 * The cloud link (fifth argument): "plain" = MQTT over TCP (cloud.tls =
 * false, as the first versions of this bench ran), "tls" = what a
 * production gateway runs: the broker gets a TLS listener with a throw-away
 * CA and server certificate (tools/alink-emu/gen-test-ca.sh through
 * emu_broker_start), the daemon connects to it with cloud.tls = true,
 * cloud.ca_file = that CA and verification on; "both" runs every row in both
 * modes. An SSL_CTX costs the daemon more library pages than an HMAC alone,
 * so the plain figure is the flattering one.
 *
 * The memory floor: per cloud-link mode, the same daemon and configuration
 * with 1 slave on one bus (100 points), measured like every other row (after
 * the warm-up, at the end of the window; the 1-slave bus row itself when the
 * slave list has 1 and the layout includes "bus", else an extra run first).
 * Its RSS is mostly code pages of the executable and the libraries (OpenSSL,
 * libc, SQLite, …) that any configuration has, so a second table prints,
 * for every other row, the RSS and RssAnon above the floor and the bytes per
 * point above it: (RSS_N - RSS_floor) / (N×100 - 100).
 *
 * The targets printed beside the figures: ≤ 3 µs of daemon CPU per value and
 * ≤ 10 MB RSS at 50 slaves × 100 registers every 100 ms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <modbus/modbus.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emu_harness.h"
#include "bench_proc.h"

#define GW_PK "a1MbBenchG"
#define GW_DN "mbbench-gw"
#define GW_DS "MbBenchGwSecret00000000000000001"
#define SUB_PK "a1MbBenchS"
#define REGS 100
#define PERIOD_MS 100
#define MAX_SLAVES 247
#define TARGET_US 3.0
#define TARGET_MB 10.0

/* ---- small helpers ------------------------------------------------------------------- */

/* "Key: N kB" from /proc/<pid>/status (pid 0 = self); -1 when absent. */
static long proc_kb(pid_t pid, const char *key)
{
    return bench_proc_kb(pid, "status", key);
}

/*
 * Where the resident memory of @p pid is: /proc/<pid>/smaps summed per
 * mapping (anonymous memory together; libraries by file name), the biggest
 * printed as one line, so an RSS figure can be read as "heap + stacks" vs
 * "shared library pages" (the latter shared with other processes using them).
 */
static void print_rss_breakdown(pid_t pid)
{
    char path[64], line[512], cur[128] = "anon";
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    enum { MAXM = 64 };
    struct {
        char name[128];
        long kb;
    } m[MAXM];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        int off = 0;
        long kb;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &lo, &hi, perms, &off) == 3 && off > 0) {
            char *name = line + off;
            name += strspn(name, " ");
            name[strcspn(name, "\n")] = '\0';
            const char *base = strrchr(name, '/');
            base = base ? base + 1 : name;
            /* heap, stacks and anonymous mappings (thread stacks, malloc arenas) are one "anon" bucket */
            snprintf(cur, sizeof cur, "%s", *name == '/' ? base : "anon");
            continue;
        }
        if (sscanf(line, "Rss: %ld kB", &kb) != 1 || kb == 0)
            continue;
        int i = 0;
        while (i < n && strcmp(m[i].name, cur) != 0)
            i++;
        if (i == n && n < MAXM) {
            snprintf(m[n].name, sizeof m[n].name, "%s", cur);
            m[n++].kb = 0;
        }
        if (i < n)
            m[i].kb += kb;
    }
    fclose(f);
    printf("  linkgw RSS by mapping:");
    for (int k = 0; k < 8 && k < n; k++) {
        int best = k;
        for (int i = k + 1; i < n; i++)
            if (m[i].kb > m[best].kb)
                best = i;
        if (best != k) {
            char tn[128];
            long tk = m[k].kb;
            memcpy(tn, m[k].name, sizeof tn);
            memcpy(m[k].name, m[best].name, sizeof tn);
            m[k].kb = m[best].kb;
            memcpy(m[best].name, tn, sizeof tn);
            m[best].kb = tk;
        }
        printf("%s %s %ld kB", k ? "," : "", m[k].name, m[k].kb);
    }
    long rest = 0;
    for (int i = 8; i < n; i++)
        rest += m[i].kb;
    printf(", other %ld kB\n", rest);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* SIGTERM @p pid, wait up to @p ms, then SIGKILL; the exit status (128+sig when killed), -1 when forced. */
static int stop_child(pid_t pid, int ms)
{
    int status;
    if (pid <= 0)
        return 0;
    kill(pid, SIGTERM);
    for (double t0 = bench_now_s(); bench_now_s() - t0 < ms / 1000.0;) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* ---- the bare loop (child mode) ------------------------------------------------------ */

/*
 * One libmodbus connection to 127.0.0.1:@p port; every 100 ms each slave's
 * 100 holding registers are read in turn, like one bus of the plugin.
 * Prints one line "BARE values compared changed errors cpu_s wall_s hwm_kb rss_kb":
 * values read, of them those that had a previous read of the same register
 * to compare with, of those the ones that differed.
 */
static int bare_main(int port, int slaves, int secs)
{
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    if (!ctx || modbus_connect(ctx) != 0) {
        fprintf(stderr, "bare: cannot connect to port %d: %s\n", port, modbus_strerror(errno));
        if (ctx)
            modbus_free(ctx);
        return 1;
    }
    modbus_set_response_timeout(ctx, 1, 0);
    uint16_t(*prev)[REGS] = calloc((size_t)slaves, sizeof *prev);
    bool *seen = calloc((size_t)slaves, sizeof *seen);
    uint16_t regs[REGS];
    long values = 0, compared = 0, changed = 0, errors = 0;
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = bench_now_s(), next = t0;
    while (bench_now_s() - t0 < secs) {
        for (int u = 0; u < slaves; u++) {
            modbus_set_slave(ctx, u + 1);
            if (modbus_read_registers(ctx, 0, REGS, regs) != REGS) {
                errors++;
                continue;
            }
            values += REGS;
            if (seen[u]) { /* the first read of a slave has nothing to compare with */
                compared += REGS;
                for (int i = 0; i < REGS; i++)
                    changed += regs[i] != prev[u][i];
            }
            memcpy(prev[u], regs, sizeof regs);
            seen[u] = true;
        }
        next += PERIOD_MS / 1000.0;
        double d = next - bench_now_s();
        if (d > 0)
            usleep((useconds_t)(d * 1e6));
    }
    double wall = bench_now_s() - t0;
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
                 (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    printf("BARE %ld %ld %ld %ld %.6f %.6f %ld %ld\n", values, compared, changed, errors, cpu, wall,
           proc_kb(0, "VmHWM"), proc_kb(0, "VmRSS"));
    free(prev);
    free(seen);
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}

/* ---- child processes ----------------------------------------------------------------- */

typedef struct bench {
    int slaves, secs, warmup;
    bool per_device; /* one instance (TCP connection, worker) per slave instead of one bus for all */
    bool tls;        /* cloud link over TLS with the broker's throw-away CA, verification on */
    char dir[64];   /* daemon: linkgw.conf, conf.d/, models/, state/, linkgw.log */
    char sock[100]; /* control socket (fits sun_path) */
    emu_broker_t b;
    pid_t sim, gw;
    int sim_port;
} bench_t;

/* Starts modbus-sim for units 1..N on a free port; waits for its "PORT n" line. */
static int start_sim(bench_t *B)
{
    const char *sim = getenv("MODBUS_SIM");
    char units[32], size[16];
    snprintf(units, sizeof units, "1-%d", B->slaves);
    snprintf(size, sizeof size, "%d", REGS);
    int pfd[2];
    if (pipe(pfd))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl(sim, sim, "--tcp", "127.0.0.1:0", "--units", units, "--size", size, "--every-read-changes",
              (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    B->sim = pid;
    FILE *f = fdopen(pfd[0], "r");
    char line[128];
    int port = 0;
    /* the simulator prints its port once it listens; EOF means it died */
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "PORT %d", &port) == 1)
            break;
    if (f)
        fclose(f); /* the simulator prints nothing more on stdout */
    if (port <= 0) {
        fprintf(stderr, "bench: %s did not start\n", sim);
        return -1;
    }
    B->sim_port = port;
    return 0;
}

/* The TSL of the sub-device product: R0…R99, int within INT16. */
static json_t *bench_tsl(void)
{
    json_t *props = json_array();
    for (int i = 0; i < REGS; i++) {
        char id[16];
        snprintf(id, sizeof id, "R%d", i);
        json_array_append_new(props, json_pack("{s:s,s:s,s:s,s:b,s:{s:s,s:{s:s,s:s,s:s,s:s,s:s}}}", "identifier", id,
                                               "name", id, "accessMode", "r", "required", 0, "dataType", "type", "int",
                                               "specs", "min", "-32768", "max", "32767", "step", "1", "unit", "",
                                               "unitName", ""));
    }
    return json_pack("{s:s,s:{s:s},s:o,s:[],s:[]}", "schema", "https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json",
                     "profile", "productKey", SUB_PK, "properties", props, "events", "services");
}

static int start_broker(bench_t *B)
{
    json_t *devices = json_pack("[{s:s,s:s,s:s}]", "productKey", GW_PK, "deviceName", GW_DN, "deviceSecret", GW_DS);
    for (int u = 1; u <= B->slaves; u++) {
        char dn[32];
        snprintf(dn, sizeof dn, "mb-%d", u);
        json_array_append_new(devices, json_pack("{s:s,s:s}", "productKey", SUB_PK, "deviceName", dn));
    }
    json_t *reg = json_pack("{s:{s:s,s:s},s:{s:i},s:[{s:s,s:s,s:s,s:b},{s:s,s:s,s:s,s:b,s:o}],s:o}", "admin",
                            "username", "emu-admin", "password", "emu-admin", "limits", "historyPerProperty", 10,
                            "products", "productKey", GW_PK, "productSecret", "MbBenchGwProdSec", "nodeType", "gateway",
                            "dynamicRegistration", 0, "productKey", SUB_PK, "productSecret", "MbBenchSubProdSe",
                            "nodeType", "sub", "dynamicRegistration", 1, "tsl", bench_tsl(), "devices", devices);
    char *text = reg ? json_dumps(reg, JSON_INDENT(1)) : NULL;
    json_decref(reg);
    /* with tls the harness generates a throw-away CA + server certificate and opens a TLS listener too */
    int rc = text ? emu_broker_start(&B->b, text, B->tls) : -1;
    free(text);
    return rc;
}

/*
 * conf.d/modbus-FIRST.conf: one Modbus TCP instance (one bus, one
 * connection, one worker) polling units FIRST..LAST of the simulator, each a
 * device "mb-<unit>" with 100 INT16 holding registers every 100 ms, mapped to
 * R0…R99 of the TSL product.
 */
static int write_instance(bench_t *B, int first, int last)
{
    size_t cap = 8192 + (size_t)REGS * 160 + (size_t)(last - first + 1) * 64;
    char *c = malloc(cap), path[300];
    if (!c)
        return -1;
    size_t n = (size_t)snprintf(c, cap,
                                "plugin = \"modbus\";\n"
                                "settings = {\n  transport = \"tcp\"; host = \"127.0.0.1\"; port = %d;\n"
                                "  response_timeout_ms = 1000;\n"
                                "  models = ( { name = \"block\"; address_base = 0; interval_ms = %d; points = (\n",
                                B->sim_port, PERIOD_MS);
    for (int i = 0; i < REGS; i++)
        n += (size_t)snprintf(c + n, cap - n, "    %s{ name = \"r%d\"; table = \"holding\"; address = %d; type = \"int16\"; }\n",
                              i ? "," : " ", i, i);
    n += (size_t)snprintf(c + n, cap - n, "  ); } );\n  devices = (\n");
    for (int u = first; u <= last; u++)
        n += (size_t)snprintf(c + n, cap - n, "    %s{ id = \"mb-%d\"; model = \"block\"; unit = %d; }\n",
                              u > first ? "," : " ", u, u);
    n += (size_t)snprintf(c + n, cap - n, "  );\n};\nmodels = { block = { product_key = \"" SUB_PK "\"; points = (\n");
    for (int i = 0; i < REGS; i++)
        n += (size_t)snprintf(c + n, cap - n, "    %s{ point = \"r%d\"; property = \"R%d\"; }\n", i ? "," : " ", i, i);
    snprintf(c + n, cap - n, "  ); }; };\nsubdevice = { register = true; };\n");
    snprintf(path, sizeof path, "%s/conf.d/modbus-%d.conf", B->dir, first);
    int rc = write_text(path, c);
    free(c);
    return rc;
}

/* linkgw.conf, models/SUB_PK.json and the conf.d Modbus instance(s) in B->dir. */
static int write_gateway_files(bench_t *B, const char *plugin_dir)
{
    char path[300];
    snprintf(path, sizeof path, "%s/conf.d", B->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/models", B->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/state", B->dir);
    mkdir(path, 0700);
    snprintf(B->sock, sizeof B->sock, "%s/state/linkgw.sock", B->dir);

    /* tls: the broker's TLS port, its CA, the server certificate verified (its SAN has 127.0.0.1) */
    char link[400];
    if (B->tls)
        snprintf(link, sizeof link, "port = %d; tls = true; ca_file = \"%s\"; verify = true;", B->b.tls_port,
                 B->b.cafile);
    else
        snprintf(link, sizeof link, "port = %d; tls = false;", B->b.port);
    char *text = NULL;
    if (asprintf(&text,
                 "log_level = \"info\";\nconf_dir = \"conf.d\";\nstate_dir = \"state\";\nplugin_dir = \"%s\";\n"
                 "cloud = { host = \"127.0.0.1\"; %s product_key = \"" GW_PK "\";\n"
                 "          device_name = \"" GW_DN "\"; device_secret = \"" GW_DS "\"; keepalive = 60; };\n"
                 "tsl = { models_dir = \"models\"; };\n",
                 plugin_dir, link) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/linkgw.conf", B->dir);
    int rc = write_text(path, text);
    free(text);

    json_t *tsl = bench_tsl();
    snprintf(path, sizeof path, "%s/models/%s.json", B->dir, SUB_PK);
    rc |= tsl ? json_dump_file(tsl, path, JSON_INDENT(1)) : -1;
    json_decref(tsl);

    /* the Modbus instances: one bus with N units, or N buses (TCP devices) with one unit each */
    if (B->per_device) {
        for (int u = 1; u <= B->slaves && rc == 0; u++)
            rc = write_instance(B, u, u);
    } else
        rc |= write_instance(B, 1, B->slaves);
    return rc ? -1 : 0;
}

static int start_gateway(bench_t *B, const char *bin)
{
    char conf[300], log[300];
    snprintf(conf, sizeof conf, "%s/linkgw.conf", B->dir);
    snprintf(log, sizeof log, "%s/linkgw.log", B->dir);
    pid_t pid = emu_spawn_linkgw(bin, conf, log, B->dir);
    if (pid < 0)
        return -1;
    B->gw = pid;
    return 0;
}

/* `{"cmd":"status"}` on the daemon's control socket; the "status" object (new reference) or NULL. */
static json_t *gw_status(bench_t *B)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", B->sock);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    static const char req[] = "{\"cmd\":\"status\"}\n";
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while (buf && len < cap - 1 && (r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    if (!buf)
        return NULL;
    buf[len] = '\0';
    json_t *j = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
    free(buf);
    json_t *st = json_incref(json_object_get(j, "status"));
    json_decref(j);
    return st;
}

/* status.data.<key> or status.lists.<key> (data first); -1 when absent. */
static long long st_num(json_t *st, const char *group, const char *key)
{
    json_t *v = json_object_get(json_object_get(st, group), key);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* ---- one slave count ----------------------------------------------------------------- */

typedef struct result {
    int slaves;
    bool per_device;
    bool tls;    /* cloud link over TLS */
    bool floor;  /* an extra 1-slave run only for the memory floor (no bare loop) */
    bool bare_ok, gw_ok;
    /* bare loop */
    double bare_vps, bare_us, bare_changed;
    long bare_hwm, bare_rss, bare_errors;
    /* daemon */
    double polled_vps, acked_vps, sent_vps, us_polled, us_acked, broker_pct, sim_pct, daemon_pct;
    long long suppressed, invalid, journaled, unmapped;
    long hwm, rss, rss_max, rss_anon, rss_file;
    double login_s;
    int exit_status;
} result_t;

static void run_bare(bench_t *B, result_t *R)
{
    int pfd[2];
    if (pipe(pfd))
        return;
    char port[16], slaves[16], secs[16];
    snprintf(port, sizeof port, "%d", B->sim_port);
    snprintf(slaves, sizeof slaves, "%d", B->slaves);
    snprintf(secs, sizeof secs, "%d", B->secs);
    double s0 = bench_proc_cpu(B->sim);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl("/proc/self/exe", "bench_modbus_gateway", "--bare", port, slaves, secs, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    FILE *f = fdopen(pfd[0], "r");
    char line[256];
    long values = 0, compared = 0, changed = 0, errors = 0, hwm = 0, rss = 0;
    double cpu = 0, wall = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "BARE %ld %ld %ld %ld %lf %lf %ld %ld", &values, &compared, &changed, &errors, &cpu, &wall, &hwm,
                   &rss) == 8)
            R->bare_ok = values > 0;
    if (f)
        fclose(f);
    int status;
    if (pid > 0)
        waitpid(pid, &status, 0);
    double s1 = bench_proc_cpu(B->sim);
    if (!R->bare_ok)
        return;
    R->bare_vps = values / wall;
    R->bare_us = cpu * 1e6 / (double)values;
    R->bare_changed = compared > 0 ? 100.0 * (double)changed / (double)compared : 0;
    R->bare_hwm = hwm;
    R->bare_rss = rss;
    R->bare_errors = errors;
    printf("  bare libmodbus loop: %.0f values/s, %.2f µs CPU/value, %.1f%% of values changed between reads, "
           "%ld read errors, RSS %ld kB (peak %ld kB); simulator %.1f%% of a core\n",
           R->bare_vps, R->bare_us, R->bare_changed, errors, rss, hwm, (s1 - s0) * 100.0 / wall);
}

/* Waits up to @p secs for every sub-device to be logged in and values acked. */
static bool wait_flowing(bench_t *B, double secs)
{
    for (double t0 = bench_now_s(); bench_now_s() - t0 < secs; usleep(200000)) {
        int status;
        if (waitpid(B->gw, &status, WNOHANG) == B->gw) {
            B->gw = 0;
            fprintf(stderr, "bench: linkgw exited (status 0x%x), see %s/linkgw.log\n", status, B->dir);
            return false;
        }
        json_t *st = gw_status(B);
        bool ok = st && st_num(st, "lists", "logged_in") >= B->slaves && st_num(st, "data", "acked") > 0;
        json_decref(st);
        if (ok)
            return true;
    }
    return false;
}

typedef struct sample {
    double t, gw_cpu, broker_cpu, sim_cpu;
    long long reported, acked, sent, suppressed, invalid, journaled, unmapped;
} sample_t;

static bool take_sample(bench_t *B, sample_t *s)
{
    json_t *st = gw_status(B);
    s->t = bench_now_s();
    s->gw_cpu = bench_proc_cpu(B->gw);
    s->broker_cpu = bench_proc_cpu(B->b.pid);
    s->sim_cpu = bench_proc_cpu(B->sim);
    s->reported = st_num(st, "data", "reported");
    s->acked = st_num(st, "data", "acked");
    s->sent = st_num(st, "data", "sent");
    s->suppressed = st_num(st, "data", "suppressed");
    s->invalid = st_num(st, "data", "invalid");
    s->journaled = st_num(st, "data", "journaled");
    s->unmapped = st_num(st, "data", "unmapped");
    bool answered = st != NULL;
    json_decref(st);
    return answered && s->reported >= 0 && s->acked >= 0 && s->gw_cpu >= 0;
}

static void run_gateway(bench_t *B, result_t *R, const char *bin, const char *plugin_dir)
{
    if (write_gateway_files(B, plugin_dir) != 0 || start_gateway(B, bin) != 0) {
        fprintf(stderr, "bench: cannot write the daemon's files or start %s\n", bin);
        return;
    }
    double t0 = bench_now_s();
    if (!wait_flowing(B, 60 + B->slaves)) {
        fprintf(stderr, "bench: sub-devices not all logged in / no value acked within %d s; see %s/linkgw.log\n",
                60 + B->slaves, B->dir);
        return;
    }
    R->login_s = bench_now_s() - t0;
    sleep((unsigned)B->warmup);
    sample_t a, z;
    if (!take_sample(B, &a)) {
        fprintf(stderr, "bench: no status from the daemon\n");
        return;
    }
    long rss_max = 0;
    for (int i = 0; i < B->secs; i++) {
        sleep(1);
        long r = proc_kb(B->gw, "VmRSS");
        if (r > rss_max)
            rss_max = r;
    }
    if (!take_sample(B, &z)) {
        fprintf(stderr, "bench: no status from the daemon at the end of the window\n");
        return;
    }
    R->hwm = proc_kb(B->gw, "VmHWM");
    R->rss_anon = proc_kb(B->gw, "RssAnon");
    R->rss_file = proc_kb(B->gw, "RssFile");
    R->rss = proc_kb(B->gw, "VmRSS");
    R->rss_max = rss_max;
    double dt = z.t - a.t, cpu = z.gw_cpu - a.gw_cpu;
    double polled = (double)(z.reported - a.reported), acked = (double)(z.acked - a.acked);
    R->polled_vps = polled / dt;
    R->acked_vps = acked / dt;
    R->sent_vps = (double)(z.sent - a.sent) / dt;
    R->us_polled = polled > 0 ? cpu * 1e6 / polled : 0;
    R->us_acked = acked > 0 ? cpu * 1e6 / acked : 0;
    R->daemon_pct = cpu * 100.0 / dt;
    R->broker_pct = (z.broker_cpu - a.broker_cpu) * 100.0 / dt;
    R->sim_pct = (z.sim_cpu - a.sim_cpu) * 100.0 / dt;
    R->suppressed = z.suppressed - a.suppressed;
    R->invalid = z.invalid - a.invalid;
    R->journaled = z.journaled - a.journaled;
    R->unmapped = z.unmapped - a.unmapped;
    R->gw_ok = polled > 0 && acked > 0;
    printf("  linkgw: all %d sub-devices logged in, values acked after %.1f s; window %.1f s after %d s warm-up\n",
           B->slaves, R->login_s, dt, B->warmup);
    printf("  linkgw: %.0f values/s polled (offered %d), %.0f/s sent, %.0f/s acked by the platform; "
           "in the window suppressed %lld, invalid %lld, unmapped %lld, journaled %lld\n",
           R->polled_vps, B->slaves * REGS * 1000 / PERIOD_MS, R->sent_vps, R->acked_vps, R->suppressed, R->invalid,
           R->unmapped, R->journaled);
    printf("  linkgw: CPU %.1f%% of a core = %.2f µs per polled value (%.2f per acked); RSS %ld kB now, "
           "%ld kB max in the window, peak (VmHWM) %ld kB\n",
           R->daemon_pct, R->us_polled, R->us_acked, R->rss, R->rss_max, R->hwm);
    printf("  linkgw: RSS now = %ld kB anonymous (heap, stacks) + %ld kB file-backed (executable and libraries); "
           "PSS (shared pages divided among the processes mapping them) %ld kB\n",
           R->rss_anon, R->rss_file, bench_proc_kb(B->gw, "smaps_rollup", "Pss"));
    print_rss_breakdown(B->gw);
    printf("  same window: broker (mosquitto + alink-emu) %.1f%% of a core, simulator %.1f%% of a core\n",
           R->broker_pct, R->sim_pct);
    if (R->acked_vps < 0.95 * R->polled_vps)
        printf("  NOTE: the platform side acknowledged only %.0f%% of the polled values: the broker/emulator, not the "
               "gateway's polling, limits the end-to-end rate here\n",
               100.0 * R->acked_vps / R->polled_vps);
}

static void cleanup(bench_t *B, result_t *R)
{
    if (B->gw > 0) {
        R->exit_status = stop_child(B->gw, 20000);
        B->gw = 0;
        if (R->exit_status != 0)
            printf("  linkgw exit status %d (see %s/linkgw.log)\n", R->exit_status, B->dir);
    }
    if (B->sim > 0) {
        stop_child(B->sim, 5000);
        B->sim = 0;
    }
    if (B->b.pid > 0 || B->b.dir[0])
        emu_broker_cleanup(&B->b);
    if (B->dir[0] && !getenv("BENCH_KEEP") && R->gw_ok && R->exit_status == 0) {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", B->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench: cannot remove %s\n", B->dir);
    } else if (B->dir[0])
        printf("  kept %s\n", B->dir);
}

static const char *link_name(bool tls)
{
    return tls ? "TLS" : "plain";
}

/*
 * One slave count in one layout and cloud-link mode, with fresh processes;
 * the bare loop only when @p bare. @p floor marks the extra 1-slave run that
 * only provides the memory floor.
 */
static void run_one(int slaves, bool per_device, bool tls, bool floor, bool bare, int secs, int warmup,
                    const char *bin, const char *plugin_dir, result_t *R)
{
    bench_t B = {.slaves = slaves, .secs = secs, .warmup = warmup, .per_device = per_device, .tls = tls};
    memset(R, 0, sizeof *R);
    R->slaves = slaves;
    R->per_device = per_device;
    R->tls = tls;
    R->floor = floor;
    printf("%s%d slaves × %d INT16 holding registers every %d ms (%d values/s offered), %s; cloud link %s\n",
           floor ? "memory floor: " : "", slaves, REGS, PERIOD_MS, slaves * REGS * 1000 / PERIOD_MS,
           per_device ? "one Modbus TCP instance per slave (N connections, N bus workers)"
                      : "one Modbus TCP instance with N unit ids (one connection, one bus worker)",
           tls ? "TLS (cloud.tls = true, throw-away CA, verify = true)" : "plain TCP (cloud.tls = false)");
    snprintf(B.dir, sizeof B.dir, "/tmp/mbbench-XXXXXX");
    if (!mkdtemp(B.dir)) {
        B.dir[0] = 0;
        fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
        return;
    }
    if (start_broker(&B) != 0) {
        fprintf(stderr, "bench: the broker did not start\n");
    } else if (start_sim(&B) == 0) {
        if (bare)
            run_bare(&B, R);
        run_gateway(&B, R, bin, plugin_dir);
    }
    cleanup(&B, R);
}

/* The bare loop's figures of @p src (run once per slave count) into @p dst. */
static void copy_bare(result_t *dst, const result_t *src)
{
    dst->bare_ok = src->bare_ok;
    dst->bare_vps = src->bare_vps;
    dst->bare_us = src->bare_us;
    dst->bare_changed = src->bare_changed;
    dst->bare_hwm = src->bare_hwm;
    dst->bare_rss = src->bare_rss;
    dst->bare_errors = src->bare_errors;
}

static const char *layout_name(const result_t *r)
{
    return r->slaves == 1 ? "1 bus" : r->per_device ? "N buses" : "1 bus, N units";
}

/* The memory floor of cloud-link mode @p tls: its successful 1-slave one-bus row, or NULL. */
static const result_t *find_floor(const result_t *R, int n, bool tls)
{
    for (int i = 0; i < n; i++)
        if (R[i].slaves == 1 && !R[i].per_device && R[i].tls == tls && R[i].gw_ok)
            return &R[i];
    return NULL;
}

static void print_table(const result_t *R, int n)
{
    printf("\n| slaves × 100 regs / 100 ms | layout | cloud link | offered values/s | bare loop values/s | bare µs/value | "
           "linkgw polled values/s | acked values/s | linkgw µs CPU/value | linkgw RSS (peak) | targets |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        const result_t *r = &R[i];
        char bare_vps[32] = "—", bare_us[32] = "—";
        if (r->bare_ok) {
            snprintf(bare_vps, sizeof bare_vps, "%.0f", r->bare_vps);
            snprintf(bare_us, sizeof bare_us, "%.2f", r->bare_us);
        } else if (!r->floor)
            snprintf(bare_vps, sizeof bare_vps, "failed");
        if (!r->gw_ok) {
            printf("| %d%s | %s | %s | %d | %s | %s | failed | failed | — | — | ≤ %.0f µs, ≤ %.0f MB |\n", r->slaves,
                   r->floor ? " (floor)" : "", layout_name(r), link_name(r->tls), r->slaves * REGS * 1000 / PERIOD_MS,
                   bare_vps, bare_us, TARGET_US, TARGET_MB);
            continue;
        }
        bool cpu_ok = r->us_polled <= TARGET_US, mem_ok = r->hwm <= TARGET_MB * 1000;
        printf("| %d%s | %s | %s | %d | %s | %s | %.0f | %.0f%s | %.2f %s | %.1f MB (%.1f MB) %s | ≤ %.0f µs, ≤ %.0f MB |\n",
               r->slaves, r->floor ? " (floor)" : "", layout_name(r), link_name(r->tls),
               r->slaves * REGS * 1000 / PERIOD_MS, bare_vps, bare_us, r->polled_vps, r->acked_vps,
               r->acked_vps < 0.95 * r->polled_vps ? " (platform-bound)" : "", r->us_polled, cpu_ok ? "✓" : "✗",
               r->rss / 1000.0, r->hwm / 1000.0, mem_ok ? "✓" : "✗", TARGET_US, TARGET_MB);
    }
}

/*
 * The second table: every row's RSS, RssAnon and RssFile, and, against the
 * floor of its cloud-link mode, the RSS and RssAnon above it in total and in
 * bytes per point beyond the floor's 100 (kB as /proc counts them, 1024 B).
 */
static void print_floor_table(const result_t *R, int n)
{
    printf("\nMemory above the floor (floor = the same daemon and configuration with 1 slave, %d points, same cloud link; "
           "per point = (RSS_N - RSS_floor) / (N×%d - %d)):\n",
           REGS, REGS, REGS);
    printf("| slaves × 100 regs | layout | cloud link | points | RSS | RssAnon | RssFile | RSS above floor | "
           "RSS per point above floor | RssAnon above floor | RssAnon per point above floor |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        const result_t *r = &R[i], *f = find_floor(R, n, r->tls);
        if (!r->gw_ok)
            continue;
        int points = r->slaves * REGS;
        printf("| %d | %s | %s | %d | %ld kB | %ld kB | %ld kB |", r->slaves, layout_name(r), link_name(r->tls), points,
               r->rss, r->rss_anon, r->rss_file);
        if (r == f)
            printf(" (the floor) | — | — | — |\n");
        else if (!f || points <= REGS)
            printf(" — (no floor) | — | — | — |\n");
        else {
            long d = r->rss - f->rss, da = r->rss_anon - f->rss_anon;
            int dp = points - REGS;
            printf(" %+ld kB | %.0f B | %+ld kB | %.0f B |\n", d, d * 1024.0 / dp, da, da * 1024.0 / dp);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--bare") == 0)
        return bare_main(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    const char *list = argc > 1 ? argv[1] : "10,50";
    int secs = argc > 2 ? atoi(argv[2]) : 10;
    int warmup = argc > 3 ? atoi(argv[3]) : 3;
    const char *layout = argc > 4 ? argv[4] : "both";
    const char *link = argc > 5 ? argv[5] : "plain";
    bool one_bus = !strcmp(layout, "bus") || !strcmp(layout, "both");
    bool buses = !strcmp(layout, "buses") || !strcmp(layout, "both");
    bool modes[2] = {false, false}; /* cloud-link modes in run order: false = plain, true = TLS */
    int n_modes = 0;
    if (!strcmp(link, "plain") || !strcmp(link, "both"))
        modes[n_modes++] = false;
    if (!strcmp(link, "tls") || !strcmp(link, "both"))
        modes[n_modes++] = true;
    int counts[16], n = 0;
    bool has_one = false; /* the 1-slave bus row doubles as the floor */
    char *copy = strdup(list), *save = NULL;
    bool bad = !copy || argc > 6 || !(one_bus || buses) || n_modes == 0;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !bad; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        long v = strtol(tok, &end, 10);
        if (*end || v < 1 || v > MAX_SLAVES || n == 16)
            bad = true;
        else {
            counts[n++] = (int)v;
            has_one |= v == 1;
        }
    }
    free(copy);
    if (bad || n == 0 || secs < 1 || secs > 600 || warmup < 0 || warmup > 600) {
        fprintf(stderr, "usage: bench_modbus_gateway [SLAVES[,SLAVES…] (1..%d, default 10,50)] [SECONDS 1..600, default 10]"
                        " [WARMUP 0..600, default 3] [bus|buses|both, default both] [plain|tls|both, default plain]\n",
                MAX_SLAVES);
        return 2;
    }
    /* the build tree's daemon, plugins and simulator unless the environment names others */
    setenv("LINKGW_BIN", BENCH_LINKGW, 0);
    setenv("LINKGW_TEST_PLUGIN_DIR", BENCH_PLUGIN_DIR, 0);
    setenv("MODBUS_SIM", BENCH_SIM, 0);
    const char *bin = getenv("LINKGW_BIN"), *plugin_dir = getenv("LINKGW_TEST_PLUGIN_DIR");
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("bench_modbus_gateway: %s, plugins %s, simulator %s; window %d s, warm-up %d s; cloud link %s\n", bin,
           plugin_dir, getenv("MODBUS_SIM"), secs, warmup,
           n_modes == 2 ? "plain TCP, then TLS (verify on, throw-away CA)"
           : modes[0]   ? "TLS (cloud.tls = true, verify on, throw-away CA)"
                        : "plain TCP (cloud.tls = false)");
    result_t R[2 * (16 * 2 + 1)];
    int failed = 0, nr = 0, bare_row[16];
    for (int m = 0; m < n_modes; m++) {
        bool tls = modes[m];
        if (!(has_one && one_bus)) { /* the floor needs a run of its own */
            run_one(1, false, tls, true, false, secs, warmup, bin, plugin_dir, &R[nr]);
            failed += !R[nr].gw_ok || R[nr].exit_status != 0;
            nr++;
        }
        for (int i = 0; i < n; i++) {
            int first = nr;
            bool bare = m == 0; /* the bare loop has no cloud link: once per slave count */
            if (one_bus)
                run_one(counts[i], false, tls, false, bare, secs, warmup, bin, plugin_dir, &R[nr++]);
            if (buses && (counts[i] > 1 || !one_bus)) /* one slave: both layouts are the same */
                run_one(counts[i], true, tls, false, bare && !one_bus, secs, warmup, bin, plugin_dir, &R[nr++]);
            if (bare)
                bare_row[i] = first;
            for (int k = first; k < nr; k++) {
                if (k != bare_row[i])
                    copy_bare(&R[k], &R[bare_row[i]]);
                failed += !R[k].bare_ok || !R[k].gw_ok || R[k].exit_status != 0;
            }
        }
    }
    print_table(R, nr);
    printf("CPU per value = daemon utime+stime in the window / values the Modbus plugin reported in it; RSS = daemon "
           "VmRSS at the end of the window (peak VmHWM). Targets: ≤ %.0f µs/value and ≤ %.0f MB at 50 × 100.\n",
           TARGET_US, TARGET_MB);
    print_floor_table(R, nr);
    return failed ? 1 : 0;
}
