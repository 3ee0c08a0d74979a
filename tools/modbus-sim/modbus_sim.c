/*
 * modbus-sim: a Modbus TCP / RTU slave simulator on libmodbus, for the
 * Modbus plugin's tests, the demo and the benchmark.
 *
 *   modbus-sim (--tcp HOST:PORT | --rtu DEVICE [--baud N] [--parity N|E|O])
 *              [--units LIST] [--size N] [--script FILE] [--control FILE]
 *              [--every-read-changes] [--ident VENDOR,PRODUCT,REVISION] [--no-ident]
 *
 * Many unit ids share one endpoint; each has its own four tables of --size
 * entries (default 1000). With --tcp and port 0 the kernel picks a free port;
 * readiness is announced on stdout as "PORT <n>" (TCP) or "READY" (RTU).
 *
 * Script (--script), one rule per line, applying to the units of the last
 * "units" line (all units before any):
 *   units 1-5,7
 *   holding|input|coil|discrete ADDR[-LAST] const V
 *   holding|input ADDR[-LAST] counter START STEP   (advances on every read)
 *   holding|input ADDR[-LAST] sine AMPLITUDE OFFSET PERIOD_MS
 *   holding|input|coil|discrete ADDR[-LAST] random MIN MAX
 *   holding|input ADDR raw W1 W2 ...               (consecutive registers)
 *   ident VENDOR PRODUCT REVISION    |   noident
 * const and raw only set initial values (clients may overwrite them);
 * counter, sine and random registers are recomputed whenever a request reads
 * them. --every-read-changes increments every
 * register a request reads (so each read returns new values).
 *
 * Control file (--control), re-read when it changes or on SIGHUP:
 *   dead LIST          the units never answer
 *   slow LIST MS       the units answer after MS milliseconds
 * Units not listed answer normally; an empty file revives everyone.
 *
 * Requests go through modbus_reply(); FC 43/14 (Read Device Identification),
 * which libmodbus 3.1.6 lacks, is answered here. Frames are cut by this
 * program (not modbus_receive(), which in RTU mode only accepts one unit id).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <modbus/modbus.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "mb_crc.h"

enum { T_COIL, T_DISCRETE, T_INPUT, T_HOLDING };
enum { F_CONST, F_COUNTER, F_SINE, F_RANDOM };

typedef struct rule {
    int table, first, last, fn;
    double a, b, c;
    uint64_t reads;
    struct rule *next;
} rule_t;

typedef struct unit {
    bool exists;
    bool dead;
    int slow_ms;
    bool ident;
    char vendor[64], product[64], revision[64];
    modbus_mapping_t *map;
    rule_t *rules;
} unit_t;

static unit_t g_units[256];
static int g_size = 1000;
static bool g_every_read;
static const char *g_control;
static volatile sig_atomic_t g_stop, g_reload;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_reload = 1;
    else
        g_stop = 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Parses "1-5,7" into @p set; returns false on syntax errors. */
static bool parse_list(const char *s, bool set[256])
{
    memset(set, 0, 256);
    char *copy = strdup(s), *save = NULL;
    bool ok = true;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        long a = strtol(tok, &end, 10), b = a;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        if (*end || a < 0 || b > 255 || a > b) {
            ok = false;
            break;
        }
        for (long i = a; i <= b; i++)
            set[i] = true;
    }
    free(copy);
    return ok;
}

static int table_of(const char *s)
{
    static const char *const names[] = {"coil", "discrete", "input", "holding"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static void set_value(unit_t *u, int table, int addr, double v)
{
    switch (table) {
    case T_COIL: u->map->tab_bits[addr] = v != 0; break;
    case T_DISCRETE: u->map->tab_input_bits[addr] = v != 0; break;
    case T_INPUT: u->map->tab_input_registers[addr] = (uint16_t)(int64_t)v; break;
    default: u->map->tab_registers[addr] = (uint16_t)(int64_t)v; break;
    }
}

/* Recomputes the function registers of @p u in [first, last] of @p table. */
static void run_rules(unit_t *u, int table, int first, int last)
{
    for (rule_t *r = u->rules; r; r = r->next) {
        if (r->table != table || r->last < first || r->first > last)
            continue;
        int lo = r->first > first ? r->first : first, hi = r->last < last ? r->last : last;
        double t = now_ms();
        for (int a = lo; a <= hi; a++) {
            double v;
            switch (r->fn) {
            case F_COUNTER: v = r->a + r->b * (double)r->reads; break;
            case F_SINE: v = r->b + r->a * sin(2 * M_PI * t / r->c); break;
            case F_RANDOM: v = r->a + (double)(random() % ((long)(r->b - r->a) + 1)); break;
            default: v = r->a; break;
            }
            set_value(u, table, a, nearbyint(v));
        }
        r->reads++;
    }
    if (g_every_read && table >= T_INPUT) {
        uint16_t *tab = table == T_INPUT ? u->map->tab_input_registers : u->map->tab_registers;
        for (int a = first; a <= last; a++)
            tab[a]++;
    }
}

static bool add_rule(bool units[256], int table, int first, int last, int fn, double a, double b, double c)
{
    for (int i = 0; i < 256; i++) {
        if (!units[i] || !g_units[i].exists)
            continue;
        if (fn == F_CONST) { /* an initial value: clients may overwrite it */
            for (int k = first; k <= last; k++)
                set_value(&g_units[i], table, k, a);
            continue;
        }
        rule_t *r = calloc(1, sizeof *r);
        if (!r)
            return false;
        *r = (rule_t){table, first, last, fn, a, b, c, 0, g_units[i].rules};
        g_units[i].rules = r;
    }
    return true;
}

static bool load_script(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "modbus-sim: %s: %s\n", path, strerror(errno));
        return false;
    }
    bool units[256];
    memset(units, 1, sizeof units);
    char line[1024];
    int lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *w[64];
        int n = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < 64; tok = strtok_r(NULL, " \t\r\n", &save))
            w[n++] = tok;
        if (n == 0)
            continue;
        if (strcmp(w[0], "units") == 0 && n == 2) {
            ok = parse_list(w[1], units);
        } else if (strcmp(w[0], "ident") == 0 && n == 4) {
            for (int i = 0; i < 256; i++)
                if (units[i]) {
                    g_units[i].ident = true;
                    snprintf(g_units[i].vendor, sizeof g_units[i].vendor, "%s", w[1]);
                    snprintf(g_units[i].product, sizeof g_units[i].product, "%s", w[2]);
                    snprintf(g_units[i].revision, sizeof g_units[i].revision, "%s", w[3]);
                }
        } else if (strcmp(w[0], "noident") == 0 && n == 1) {
            for (int i = 0; i < 256; i++)
                if (units[i])
                    g_units[i].ident = false;
        } else if (n >= 3 && table_of(w[0]) >= 0) {
            int table = table_of(w[0]);
            char *end;
            long first = strtol(w[1], &end, 0), last = first;
            if (*end == '-')
                last = strtol(end + 1, &end, 0);
            if (*end || first < 0 || last < first || last >= g_size) {
                ok = false;
                break;
            }
            double a[3] = {0, 0, 0};
            for (int k = 3; k < n && k < 6; k++)
                a[k - 3] = strtod(w[k], NULL);
            if (strcmp(w[2], "const") == 0 && n == 4)
                ok = add_rule(units, table, (int)first, (int)last, F_CONST, a[0], 0, 0);
            else if (strcmp(w[2], "counter") == 0 && n == 5 && table >= T_INPUT)
                ok = add_rule(units, table, (int)first, (int)last, F_COUNTER, a[0], a[1], 0);
            else if (strcmp(w[2], "sine") == 0 && n == 6 && table >= T_INPUT && a[2] > 0)
                ok = add_rule(units, table, (int)first, (int)last, F_SINE, a[0], a[1], a[2]);
            else if (strcmp(w[2], "random") == 0 && n == 5 && a[1] >= a[0])
                ok = add_rule(units, table, (int)first, (int)last, F_RANDOM, a[0], a[1], 0);
            else if (strcmp(w[2], "raw") == 0 && table >= T_INPUT && first + (n - 3) <= g_size) {
                for (int i = 0; i < 256; i++)
                    if (units[i] && g_units[i].exists)
                        for (int k = 3; k < n; k++)
                            set_value(&g_units[i], table, (int)first + k - 3, (double)strtol(w[k], NULL, 0));
            } else
                ok = false;
        } else {
            ok = false;
        }
    }
    if (!ok)
        fprintf(stderr, "modbus-sim: %s:%d: cannot parse this line\n", path, lineno);
    fclose(f);
    return ok;
}

/* (Re)reads the control file; a missing file means "everyone alive". */
static void load_control(void)
{
    for (int i = 0; i < 256; i++) {
        g_units[i].dead = false;
        g_units[i].slow_ms = 0;
    }
    FILE *f = fopen(g_control, "r");
    if (!f)
        return;
    char line[512], what[16], list[400];
    int ms;
    while (fgets(line, sizeof line, f)) {
        bool set[256];
        int n = sscanf(line, "%15s %399s %d", what, list, &ms);
        if (n < 2 || !parse_list(list, set))
            continue;
        for (int i = 0; i < 256; i++) {
            if (!set[i])
                continue;
            if (strcmp(what, "dead") == 0)
                g_units[i].dead = true;
            else if (strcmp(what, "slow") == 0 && n == 3)
                g_units[i].slow_ms = ms;
        }
    }
    fclose(f);
}

static void check_control(void)
{
    static struct timespec last_mtime;
    static off_t last_size = -1;
    if (!g_control)
        return;
    struct stat st;
    bool exists = stat(g_control, &st) == 0;
    off_t size = exists ? st.st_size : -2;
    if (g_reload || size != last_size || (exists && (st.st_mtim.tv_sec != last_mtime.tv_sec ||
                                                     st.st_mtim.tv_nsec != last_mtime.tv_nsec))) {
        g_reload = 0;
        last_size = size;
        if (exists)
            last_mtime = st.st_mtim;
        load_control();
    }
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Sends PDU @p pdu as the answer to the request in @p req (header @p hdr bytes). */
static void send_pdu(int fd, bool rtu, const uint8_t *req, const uint8_t *pdu, size_t len)
{
    uint8_t out[300];
    size_t n = 0;
    if (rtu) {
        out[n++] = req[0];
        memcpy(out + n, pdu, len);
        n += len;
        uint16_t crc = mb_crc16(out, n);
        out[n++] = (uint8_t)crc;
        out[n++] = (uint8_t)(crc >> 8);
    } else {
        memcpy(out, req, 4); /* transaction and protocol id */
        out[4] = (uint8_t)((len + 1) >> 8);
        out[5] = (uint8_t)(len + 1);
        out[6] = req[6];
        memcpy(out + 7, pdu, len);
        n = 7 + len;
    }
    write_all(fd, out, n);
}

/* Answers FC 43/14 with the basic identification objects 0..2. */
static void reply_ident(int fd, bool rtu, const uint8_t *req, unit_t *u)
{
    uint8_t pdu[256];
    size_t n = 0;
    if (!u->ident) {
        pdu[0] = 0x2B | 0x80;
        pdu[1] = MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
        send_pdu(fd, rtu, req, pdu, 2);
        return;
    }
    const char *obj[3] = {u->vendor, u->product, u->revision};
    pdu[n++] = 0x2B;
    pdu[n++] = 0x0E;
    pdu[n++] = 0x01; /* basic */
    pdu[n++] = 0x01; /* conformity: basic, stream access */
    pdu[n++] = 0x00; /* no more follows */
    pdu[n++] = 0x00;
    pdu[n++] = 3;
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(obj[i]);
        pdu[n++] = (uint8_t)i;
        pdu[n++] = (uint8_t)len;
        memcpy(pdu + n, obj[i], len);
        n += len;
    }
    send_pdu(fd, rtu, req, pdu, n);
}

/* Handles one complete request frame @p req of @p len bytes (RTU: with CRC). */
static void handle(modbus_t *ctx, int fd, bool rtu, uint8_t *req, int len)
{
    int hdr = rtu ? 1 : 7;
    int unit_id = req[hdr - 1];
    unit_t *u = &g_units[unit_id];
    if (!u->exists || u->dead || unit_id == 0)
        return; /* silence, like an absent slave */
    if (u->slow_ms > 0)
        usleep((useconds_t)u->slow_ms * 1000);
    int fc = req[hdr];
    if (fc == 0x2B && len >= hdr + 2 && req[hdr + 1] == 0x0E) {
        reply_ident(fd, rtu, req, u);
        return;
    }
    if (len >= hdr + 5 && fc >= 1 && fc <= 4) {
        int addr = req[hdr + 1] << 8 | req[hdr + 2], nb = req[hdr + 3] << 8 | req[hdr + 4];
        int table = fc == 1 ? T_COIL : fc == 2 ? T_DISCRETE : fc == 3 ? T_HOLDING : T_INPUT;
        if (nb > 0 && addr + nb <= g_size)
            run_rules(u, table, addr, addr + nb - 1);
    }
    if (rtu)
        modbus_set_slave(ctx, unit_id);
    else
        modbus_set_socket(ctx, fd);
    modbus_reply(ctx, req, len, u->map);
}

/* Length of the RTU request starting in @p b (have @p n bytes), or 0 if unknown yet. */
static int rtu_frame_len(const uint8_t *b, int n)
{
    if (n < 2)
        return 0;
    switch (b[1]) {
    case 1: case 2: case 3: case 4: case 5: case 6: return 8;
    case 15: case 16: return n >= 7 ? 9 + b[6] : 0;
    case 0x2B: return 7;
    default: return -1;
    }
}

static int serve_rtu(modbus_t *ctx)
{
    int fd = modbus_get_socket(ctx);
    uint8_t buf[512];
    int n = 0;
    printf("READY\n");
    fflush(stdout);
    while (!g_stop) {
        check_control();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, n ? 100 : 50);
        if (rc < 0 && errno != EINTR)
            return 1;
        if (rc <= 0) {
            n = 0; /* silence: drop any partial frame */
            continue;
        }
        ssize_t r = read(fd, buf + n, sizeof buf - (size_t)n);
        if (r <= 0) {
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            usleep(20000); /* pty peer not open yet */
            continue;
        }
        n += (int)r;
        for (;;) {
            int len = rtu_frame_len(buf, n);
            if (len < 0 || len > (int)sizeof buf) {
                n = 0;
                break;
            }
            if (len == 0 || n < len)
                break;
            if (mb_crc16(buf, (size_t)len - 2) == (uint16_t)(buf[len - 2] | buf[len - 1] << 8))
                handle(ctx, fd, true, buf, len);
            else {
                n = 0; /* resynchronise on the next silence */
                break;
            }
            memmove(buf, buf + len, (size_t)(n - len));
            n -= len;
        }
    }
    return 0;
}

#define MAX_CLIENTS 64
static int serve_tcp(modbus_t *ctx)
{
    int ls = modbus_tcp_listen(ctx, 16);
    if (ls < 0) {
        fprintf(stderr, "modbus-sim: listen: %s\n", modbus_strerror(errno));
        return 1;
    }
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    printf("PORT %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    struct { int fd; int n; uint8_t buf[600]; } cl[MAX_CLIENTS];
    int ncl = 0;
    while (!g_stop) {
        check_control();
        struct pollfd p[MAX_CLIENTS + 1];
        p[0] = (struct pollfd){.fd = ls, .events = POLLIN};
        for (int i = 0; i < ncl; i++)
            p[i + 1] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
        int rc = poll(p, (nfds_t)ncl + 1, 50);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc <= 0)
            continue;
        for (int i = ncl - 1; i >= 0; i--) {
            if (!(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(cl[i].fd, cl[i].buf + cl[i].n, sizeof cl[i].buf - (size_t)cl[i].n);
            if (r <= 0) {
                close(cl[i].fd);
                cl[i] = cl[--ncl];
                continue;
            }
            cl[i].n += (int)r;
            while (cl[i].n >= 7) {
                int len = 6 + (cl[i].buf[4] << 8 | cl[i].buf[5]);
                if (len < 8 || len > 260) {
                    cl[i].n = 0;
                    break;
                }
                if (cl[i].n < len)
                    break;
                handle(ctx, cl[i].fd, false, cl[i].buf, len);
                memmove(cl[i].buf, cl[i].buf + len, (size_t)(cl[i].n - len));
                cl[i].n -= len;
            }
        }
        if (p[0].revents & POLLIN) {
            int fd = accept(ls, NULL, NULL);
            if (fd >= 0 && ncl < MAX_CLIENTS)
                cl[ncl++].fd = fd, cl[ncl - 1].n = 0;
            else if (fd >= 0)
                close(fd);
        }
    }
    for (int i = 0; i < ncl; i++)
        close(cl[i].fd);
    close(ls);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: modbus-sim (--tcp HOST:PORT | --rtu DEVICE [--baud N] [--parity N|E|O])\n"
                    "                  [--units LIST] [--size N] [--script FILE] [--control FILE]\n"
                    "                  [--every-read-changes] [--ident VENDOR,PRODUCT,REV] [--no-ident]\n");
}

int main(int argc, char **argv)
{
    const char *tcp = NULL, *rtu = NULL, *script = NULL, *units = "1-247";
    const char *ident = "linkgw,modbus-sim,1.0";
    bool no_ident = false;
    int baud = 115200;
    char parity = 'N';
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--every-read-changes") == 0) { g_every_read = true; continue; }
        if (strcmp(a, "--no-ident") == 0) { no_ident = true; continue; }
        if (!v) { usage(); return 2; }
        i++;
        if (strcmp(a, "--tcp") == 0) tcp = v;
        else if (strcmp(a, "--rtu") == 0) rtu = v;
        else if (strcmp(a, "--baud") == 0) baud = atoi(v);
        else if (strcmp(a, "--parity") == 0) parity = v[0];
        else if (strcmp(a, "--units") == 0) units = v;
        else if (strcmp(a, "--size") == 0) g_size = atoi(v);
        else if (strcmp(a, "--script") == 0) script = v;
        else if (strcmp(a, "--control") == 0) g_control = v;
        else if (strcmp(a, "--ident") == 0) ident = v;
        else { usage(); return 2; }
    }
    bool set[256];
    if ((!tcp) == (!rtu) || g_size < 1 || g_size > 65536 || !parse_list(units, set) || baud <= 0 ||
        !strchr("NEO", parity)) {
        usage();
        return 2;
    }
    char iv[64] = "", ip[64] = "", ir[64] = "";
    sscanf(ident, "%63[^,],%63[^,],%63s", iv, ip, ir);
    for (int i = 0; i < 256; i++) {
        if (!set[i])
            continue;
        unit_t *u = &g_units[i];
        u->exists = true;
        u->ident = !no_ident;
        snprintf(u->vendor, sizeof u->vendor, "%s", iv);
        snprintf(u->product, sizeof u->product, "%s", ip);
        snprintf(u->revision, sizeof u->revision, "%s", ir);
        u->map = modbus_mapping_new(g_size, g_size, g_size, g_size);
        if (!u->map) {
            fprintf(stderr, "modbus-sim: out of memory\n");
            return 1;
        }
    }
    if (script && !load_script(script))
        return 2;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    modbus_t *ctx;
    int rc;
    if (tcp) {
        char host[256];
        int port = 0;
        const char *colon = strrchr(tcp, ':');
        if (!colon || (size_t)(colon - tcp) >= sizeof host) { usage(); return 2; }
        memcpy(host, tcp, (size_t)(colon - tcp));
        host[colon - tcp] = '\0';
        port = atoi(colon + 1);
        ctx = modbus_new_tcp(host, port);
        if (!ctx) { fprintf(stderr, "modbus-sim: %s\n", modbus_strerror(errno)); return 1; }
        rc = serve_tcp(ctx);
    } else {
        ctx = modbus_new_rtu(rtu, baud, parity, 8, 1);
        if (!ctx || modbus_connect(ctx) != 0) {
            fprintf(stderr, "modbus-sim: %s: %s\n", rtu, modbus_strerror(errno));
            return 1;
        }
        rc = serve_rtu(ctx);
        modbus_close(ctx);
    }
    modbus_free(ctx);
    for (int i = 0; i < 256; i++) {
        while (g_units[i].rules) {
            rule_t *r = g_units[i].rules;
            g_units[i].rules = r->next;
            free(r);
        }
        if (g_units[i].map)
            modbus_mapping_free(g_units[i].map);
    }
    return rc;
}
