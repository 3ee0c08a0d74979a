/* emu_harness.c — see emu_harness.h. Paths of the CLI, the plugin and the CA script come
 * from compile definitions (EMU_CLI, EMU_PLUGIN, EMU_GENCA, EMU_PRELOAD). */
#include "emu_harness.h"
#include "emu_sign.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

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
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len)) { close(fd); return -1; }
    close(fd);
    return ntohs(a.sin_port);
}

bool emu_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)port)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* Whether the broker log, from byte @p from on, says mosquitto is running: it prints
 * that only once every listener is open, so a free port that another process took in
 * the meantime (our broker then exits) is never mistaken for our broker accepting. */
bool emu_log_says_running(const char *path, long from)
{
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool running = false;
    char line[1024];
    if (fseek(f, from, SEEK_SET) == 0)
        while (!running && fgets(line, sizeof line, f))
            running = strstr(line, "mosquitto version") && strstr(line, " running");
    fclose(f);
    return running;
}

long emu_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/*
 * Starts the broker process on b->port (and b->tls_port with TLS). @p pick:
 * choose new free ports before each attempt; else the ports stay (a gateway
 * configured with them reconnects) and an attempt that fails, e.g. while the
 * old socket lingers, is retried after @p retry_ms.
 */
static int spawn_broker_on(emu_broker_t *b, bool pick, int attempts, int retry_ms)
{
    for (int attempt = 0; attempt < attempts; attempt++) {
        if (attempt && retry_ms)
            usleep((useconds_t)retry_ms * 1000);
        char port[16], tls_port[16], cert[320], key[320], log[320];
        if (pick) {
            b->port = free_port();
            b->tls_port = b->cafile[0] ? free_port() : -1;
        }
        snprintf(port, sizeof port, "%d", b->port);
        snprintf(tls_port, sizeof tls_port, "%d", b->tls_port);
        snprintf(cert, sizeof cert, "%s/tls/server.pem", b->dir);
        snprintf(key, sizeof key, "%s/tls/server.key", b->dir);
        snprintf(log, sizeof log, "%s/broker.log", b->dir);
        long log_from = emu_file_size(log);                /* appended to across restarts */
        pid_t pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);          /* never outlive a crashed test */
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); close(fd); }
            if (EMU_PRELOAD[0]) {
                setenv("LD_PRELOAD", EMU_PRELOAD, 1);
                setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1", 1);
                setenv("LSAN_OPTIONS", "suppressions=" EMU_LSAN_SUPP, 1);       /* mosquitto's own exit leaks */
            }
            if (b->cafile[0])
                execl(EMU_CLI, EMU_CLI, "broker", "--port", port, "--tls-port", tls_port, "--cert", cert, "--key", key, "--plugin",
                      EMU_PLUGIN, "--registry", b->registry, "--state-dir", b->state_dir, "-v", (char *)NULL);
            else
                execl(EMU_CLI, EMU_CLI, "broker", "--port", port, "--plugin", EMU_PLUGIN, "--registry", b->registry, "--state-dir",
                      b->state_dir, "-v", (char *)NULL);
            _exit(127);
        }
        b->pid = pid;
        long long deadline = mono_ms() + EMU_WAIT_MS;
        int status;
        while (mono_ms() < deadline) {
            if (waitpid(pid, &status, WNOHANG) == pid) { b->pid = 0; break; }   /* e.g. port taken: retry */
            if (emu_log_says_running(log, log_from) && emu_port_open(b->port) && (!b->cafile[0] || emu_port_open(b->tls_port)))
                return 0;
            usleep(20000);
        }
        if (b->pid) { kill(pid, SIGKILL); waitpid(pid, &status, 0); b->pid = 0; }
        fprintf(stderr, "harness: broker did not start on port %d (attempt %d), see %s\n", b->port, attempt + 1, log);
    }
    return -1;
}

static int spawn_broker(emu_broker_t *b)
{
    return spawn_broker_on(b, true, 5, 0);
}

int emu_broker_start_again(emu_broker_t *b)
{
    return spawn_broker_on(b, false, 50, 100);
}

int emu_broker_start(emu_broker_t *b, const char *registry_json, bool tls)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "/tmp/alink-emu-test-XXXXXX");
    if (!mkdtemp(b->dir)) return -1;
    snprintf(b->state_dir, sizeof b->state_dir, "%s/state", b->dir);
    snprintf(b->registry, sizeof b->registry, "%s/registry.json", b->dir);
    FILE *f = fopen(b->registry, "w");
    if (!f) return -1;
    fputs(registry_json, f);
    fclose(f);
    if (tls) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "%s %s/tls", EMU_GENCA, b->dir);
        if (system(cmd) != 0) return -1;
        snprintf(b->cafile, sizeof b->cafile, "%s/tls/ca.pem", b->dir);
    }
    return spawn_broker(b);
}

int emu_broker_stop(emu_broker_t *b)
{
    int status;
    if (b->pid <= 0) return 0;
    kill(b->pid, SIGTERM);
    long long deadline = mono_ms() + EMU_WAIT_MS;
    while (mono_ms() < deadline) {
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            b->pid = 0;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
            fprintf(stderr, "harness: broker exited badly (status 0x%x), see %s/broker.log\n", status, b->dir);
            return -1;
        }
        usleep(20000);
    }
    kill(b->pid, SIGKILL);
    waitpid(b->pid, &status, 0);
    b->pid = 0;
    fprintf(stderr, "harness: broker did not stop on SIGTERM\n");
    return -1;
}

int emu_broker_restart(emu_broker_t *b)
{
    if (emu_broker_stop(b)) return -1;
    return spawn_broker(b);
}

int emu_broker_crash_restart(emu_broker_t *b)
{
    int status;
    if (b->pid > 0) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, &status, 0);
        b->pid = 0;
    }
    return spawn_broker(b);
}

int emu_harness_failures;

int emu_broker_cleanup(emu_broker_t *b)
{
    char cmd[400];
    int rc = emu_broker_stop(b);
    if (rc) emu_harness_failures++;
    if (!b->dir[0]) return rc;
    if (getenv("EMU_KEEP") || rc) { fprintf(stderr, "harness: kept %s\n", b->dir); return rc; }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->dir);
    if (system(cmd) != 0) fprintf(stderr, "harness: cannot remove %s\n", b->dir);
    return rc;
}

int emu_cli(const emu_broker_t *b, char **out, const char *const *args)
{
    int pfd[2], status = -1;
    char port[16];
    const char *argv[64];
    int n = 0;
    snprintf(port, sizeof port, "%d", b->port);
    argv[n++] = EMU_CLI;
    argv[n++] = "-p";
    argv[n++] = port;
    for (; args && *args && n < 62; args++) argv[n++] = *args;
    argv[n] = NULL;
    if (out) *out = NULL;
    if (pipe(pfd)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execv(EMU_CLI, (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while (buf && (r = read(pfd[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (cap - len < 2048) { cap *= 2; buf = realloc(buf, cap); }
    }
    close(pfd[0]);
    if (buf) buf[len] = '\0';
    waitpid(pid, &status, 0);
    if (out) *out = buf; else free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

json_t *emu_state(const emu_broker_t *b)
{
    char *out = NULL;
    json_error_t je;
    const char *args[] = {"state", NULL};
    if (emu_cli(b, &out, args) != 0) { free(out); return NULL; }
    json_t *j = out ? json_loads(out, 0, &je) : NULL;
    free(out);
    return j;
}

/* ---- MQTT client ------------------------------------------------------------------- */

typedef struct msg {
    struct msg *next;
    char *topic;
    char *payload;
} msg_t;

struct emu_client {
    struct mosquitto *m;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int connack;          /* -1 pending */
    int granted;          /* -1 pending */
    bool connected;
    msg_t *head, *tail;
};

static void c_on_connect(struct mosquitto *m, void *ud, int rc)
{
    emu_client_t *c = ud;
    pthread_mutex_lock(&c->mu);
    c->connack = rc;
    c->connected = rc == 0;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (rc) mosquitto_disconnect(m);
}

static void c_on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    emu_client_t *c = ud;
    (void)m;
    (void)rc;
    pthread_mutex_lock(&c->mu);
    c->connected = false;
    if (c->connack < 0) c->connack = 256;         /* closed before CONNACK */
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void c_on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted)
{
    emu_client_t *c = ud;
    (void)m;
    (void)mid;
    pthread_mutex_lock(&c->mu);
    c->granted = n > 0 ? granted[0] : 128;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void c_on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    emu_client_t *c = ud;
    (void)m;
    msg_t *e = calloc(1, sizeof *e);
    if (!e) return;
    e->topic = strdup(msg->topic);
    e->payload = malloc((size_t)msg->payloadlen + 1);
    if (e->payload) {
        memcpy(e->payload, msg->payload, (size_t)msg->payloadlen);
        e->payload[msg->payloadlen] = '\0';
    }
    pthread_mutex_lock(&c->mu);
    if (c->tail) c->tail->next = e; else c->head = e;
    c->tail = e;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void wait_cond(emu_client_t *c, int *field, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    pthread_mutex_lock(&c->mu);
    while (*field < 0 && pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0) {}
    pthread_mutex_unlock(&c->mu);
}

emu_client_t *emu_client_connect(const emu_broker_t *b, const char *client_id, const char *user, const char *pass,
                                 int keepalive, bool tls, int *connack)
{
    emu_client_t *c = calloc(1, sizeof *c);
    *connack = -1;
    if (!c) return NULL;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->connack = -1;
    c->granted = -1;
    c->m = mosquitto_new(client_id, true, c);
    if (!c->m) goto fail;
    mosquitto_connect_callback_set(c->m, c_on_connect);
    mosquitto_disconnect_callback_set(c->m, c_on_disconnect);
    mosquitto_subscribe_callback_set(c->m, c_on_subscribe);
    mosquitto_message_callback_set(c->m, c_on_message);
    mosquitto_username_pw_set(c->m, user, pass);
    if (tls && mosquitto_tls_set(c->m, b->cafile, NULL, NULL, NULL, NULL) != MOSQ_ERR_SUCCESS) goto fail;
    if (mosquitto_connect(c->m, "127.0.0.1", tls ? b->tls_port : b->port, keepalive) != MOSQ_ERR_SUCCESS) goto fail;
    if (mosquitto_loop_start(c->m) != MOSQ_ERR_SUCCESS) goto fail;
    wait_cond(c, &c->connack, EMU_WAIT_MS);
    *connack = c->connack;
    if (c->connack == 0) return c;
    emu_client_close(c);
    return NULL;
fail:
    if (c->m) mosquitto_destroy(c->m);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
    return NULL;
}

emu_client_t *emu_device_connect(const emu_broker_t *b, const char *pk, const char *dn, const char *ds, const char *extra, int *connack)
{
    char client_id[300], user[200], content[400], pass[65];
    snprintf(client_id, sizeof client_id, "%s.%s|timestamp=2524608000000,securemode=3,signmethod=hmacsha256%s%s|", pk, dn,
             extra && *extra ? "," : "", extra ? extra : "");
    snprintf(user, sizeof user, "%s&%s", dn, pk);
    snprintf(content, sizeof content, "clientId%s.%sdeviceName%sproductKey%stimestamp2524608000000", pk, dn, dn, pk);
    emu_hmac_hex(EMU_HMAC_SHA256, ds, content, pass);
    return emu_client_connect(b, client_id, user, pass, 60, false, connack);
}

int emu_client_sub(emu_client_t *c, const char *filter)
{
    pthread_mutex_lock(&c->mu);
    c->granted = -1;
    pthread_mutex_unlock(&c->mu);
    if (mosquitto_subscribe(c->m, NULL, filter, 0) != MOSQ_ERR_SUCCESS) return -1;
    wait_cond(c, &c->granted, EMU_WAIT_MS);
    return c->granted;
}

void emu_client_pub(emu_client_t *c, const char *topic, const char *payload)
{
    mosquitto_publish(c->m, NULL, topic, (int)strlen(payload), payload, 0, false);
}

static json_t *wait_match(emu_client_t *c, const char *topic, bool prefix, int timeout_ms, char *topic_out, size_t outsz);

json_t *emu_client_wait(emu_client_t *c, const char *topic, int timeout_ms)
{
    return wait_match(c, topic, false, timeout_ms, NULL, 0);
}

json_t *emu_client_wait_prefix(emu_client_t *c, const char *prefix, int timeout_ms, char *topic_out, size_t outsz)
{
    return wait_match(c, prefix, true, timeout_ms, topic_out, outsz);
}

static json_t *wait_match(emu_client_t *c, const char *topic, bool prefix, int timeout_ms, char *topic_out, size_t outsz)
{
    long long deadline = mono_ms() + timeout_ms;
    json_t *out = NULL;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        msg_t *prev = NULL;
        for (msg_t *e = c->head; e; prev = e, e = e->next) {
            if (prefix ? strncmp(e->topic, topic, strlen(topic)) : strcmp(e->topic, topic)) continue;
            if (topic_out) snprintf(topic_out, outsz, "%s", e->topic);
            if (prev) prev->next = e->next; else c->head = e->next;
            if (c->tail == e) c->tail = prev;
            json_error_t je;
            out = json_loads(e->payload ? e->payload : "", 0, &je);
            if (!out) out = json_string(e->payload ? e->payload : "");
            free(e->topic);
            free(e->payload);
            free(e);
            pthread_mutex_unlock(&c->mu);
            return out;
        }
        long long left = deadline - mono_ms();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long ns = ts.tv_nsec + (left < 50 ? left : 50) * 1000000LL;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

json_t *emu_client_request(emu_client_t *c, const char *topic, const char *payload, int timeout_ms)
{
    char reply[512];
    snprintf(reply, sizeof reply, "%s_reply", topic);
    emu_client_pub(c, topic, payload);
    return emu_client_wait(c, reply, timeout_ms);
}

bool emu_client_connected(emu_client_t *c)
{
    pthread_mutex_lock(&c->mu);
    bool up = c->connected;
    pthread_mutex_unlock(&c->mu);
    return up;
}

void emu_client_close(emu_client_t *c)
{
    if (!c) return;
    mosquitto_disconnect(c->m);
    mosquitto_loop_stop(c->m, true);
    mosquitto_destroy(c->m);
    while (c->head) {
        msg_t *e = c->head;
        c->head = e->next;
        free(e->topic);
        free(e->payload);
        free(e);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

void emu_sub_sign(const char *pk, const char *dn, const char *ds, const char *ts, char out[65])
{
    char content[400];
    snprintf(content, sizeof content, "clientId%s.%sdeviceName%sproductKey%stimestamp%s", pk, dn, dn, pk, ts);
    emu_hmac_hex(EMU_HMAC_SHA256, ds, content, out);
}

int emu_code(const json_t *reply)
{
    json_t *c = json_object_get(reply, "code");
    return json_is_integer(c) ? (int)json_integer_value(c) : -1;
}

pid_t emu_spawn_linkgw(const char *bin, const char *conf, const char *log, const char *cwd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    if (cwd && chdir(cwd) != 0)
        _exit(126);
    execl(bin, bin, "-c", conf, (char *)NULL);
    _exit(127);
}
