/* Helpers for the cloud tests; see test_util.h. */
#include "test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <mosquitto.h>
#include <netinet/in.h>
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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int tu_mkdtemp(char *out, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, cap, "%s/linkgw-cloud-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(out) ? 0 : -1;
}

void tu_rmtree(const char *dir)
{
    if (!dir || !*dir || strncmp(dir, "/", 1) != 0 || !strstr(dir, "linkgw-cloud-"))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

int tu_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0
        || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Whether mosquitto's log, from byte @p from on, says the broker is running: it prints
 * that only once every listener is open, so a free port that someone else took in the
 * meantime (our mosquitto then exits) is never mistaken for our broker accepting. */
static bool log_says_running(const char *path, long from)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool running = false;
    char line[512];
    if (fseek(f, from, SEEK_SET) == 0)
        while (!running && fgets(line, sizeof line, f))
            running = strstr(line, "mosquitto version") && strstr(line, " running");
    fclose(f);
    return running;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static int broker_spawn(tu_broker_t *b)
{
    char log[300];
    snprintf(log, sizeof log, "%s/mosquitto.log", b->dir);
    long log_from = file_size(log); /* the log is appended to across restarts */
    FILE *f = fopen(b->conf, "w");
    if (!f)
        return -1;
    /* as root, mosquitto would drop to user "mosquitto", who cannot read our 0700 scratch dir */
    fprintf(f, "%sallow_anonymous true\npersistence false\nlog_dest file %s/mosquitto.log\nlog_type all\n%s\n"
               "listener %d 127.0.0.1\n%s\n",
            geteuid() == 0 ? "user root\n" : "", b->dir, b->global, b->port, b->extra);
    fclose(f);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        /* An ASan-built plugin (tools/alink-emu) only loads when the runtime is preloaded;
         * the broker's own leaks at exit are not what these tests check. */
        const char *preload = getenv("TU_BROKER_PRELOAD");
        if (preload && *preload) {
            setenv("LD_PRELOAD", preload, 1);
            setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
        }
        execlp("mosquitto", "mosquitto", "-c", b->conf, (char *)NULL);
        _exit(127);
    }
    b->pid = pid;
    for (int i = 0; i < 3000; i++) { /* up to 30 s: a safety net only */
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            b->pid = 0;
            return -1; /* exited: port taken or bad config */
        }
        if (log_says_running(log, log_from) && port_accepts(b->port))
            return 0;
        sleep_ms(10);
    }
    tu_broker_stop(b);
    return -1;
}

int tu_broker_start(tu_broker_t *b)
{
    if (!b->dir[0] && tu_mkdtemp(b->dir, sizeof b->dir) != 0)
        return -1;
    snprintf(b->conf, sizeof b->conf, "%s/mosquitto.conf", b->dir);
    bool fixed = b->port != 0;
    /* A fixed port (a restart on the same address) may be held for a while, e.g. as the
     * local port of some other process's outgoing connection: keep trying for 30 s. */
    for (int attempt = 0; attempt < (fixed ? 300 : 20); attempt++) {
        if (!fixed)
            b->port = tu_free_port();
        if (broker_spawn(b) == 0)
            return 0;
        sleep_ms(fixed ? 100 : 10);
    }
    fprintf(stderr, "mosquitto did not start (see %s/mosquitto.log)\n", b->dir);
    return -1;
}

void tu_broker_stop(tu_broker_t *b)
{
    if (b->pid <= 0)
        return;
    kill(b->pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
            b->pid = 0;
            return;
        }
        sleep_ms(10);
    }
    kill(b->pid, SIGKILL);
    waitpid(b->pid, NULL, 0);
    b->pid = 0;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0) ? 0 : -1;
}

int tu_make_certs(const char *d)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && "
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=linkgw-test-ca "
             "2>/dev/null && "
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 "
             "-subj /CN=linkgw-other-ca 2>/dev/null && "
             "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost "
             "2>/dev/null && "
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
             "-extfile san.ext 2>/dev/null",
             d);
    return run(cmd);
}

/* ------------------------------------------------------- fake platform */

static void fake_record(tu_fake_t *f, const char *topic, const char *payload)
{
    pthread_mutex_lock(&f->mu);
    if (f->nrec < TU_MAX_RECS) {
        f->recs[f->nrec].topic = strdup(topic);
        f->recs[f->nrec].payload = strdup(payload);
        f->nrec++;
    }
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void fake_answer(tu_fake_t *f, const char *topic, const char *payload)
{
    size_t tl = strlen(topic);
    json_t *root = json_loads(payload, 0, NULL);
    char out[1024], rtopic[512];
    if (!f->answer_posts) {
        json_decref(root);
        return;
    }
    if (strncmp(topic, "/ext/ntp/", 9) == 0 && tl > 8 && strcmp(topic + tl - 8, "/request") == 0) {
        json_t *ds = json_object_get(root, "deviceSendTime");
        int64_t srv = now_ms() + f->ntp_offset_ms;
        snprintf(rtopic, sizeof rtopic, "%.*sresponse", (int)(tl - 7), topic);
        snprintf(out, sizeof out, "{\"deviceSendTime\":\"%s\",\"serverRecvTime\":\"%lld\",\"serverSendTime\":\"%lld\"}",
                 json_string_value(ds) ? json_string_value(ds) : "0", (long long)srv, (long long)srv);
        mosquitto_publish(f->m, NULL, rtopic, (int)strlen(out), out, 0, false);
    } else if (f->answer_posts && strncmp(topic, "/sys/", 5) == 0 && tl > 20
               && strcmp(topic + tl - 20, "/event/property/post") == 0 && json_is_object(root)) {
        json_t *params = json_object_get(root, "params");
        const char *id = json_string_value(json_object_get(root, "id"));
        if (!json_object_get(params, "slow") && id) {
            bool fail = json_object_get(params, "fail") != NULL;
            snprintf(rtopic, sizeof rtopic, "%s_reply", topic);
            snprintf(out, sizeof out, "{\"id\":\"%s\",\"code\":%d,\"data\":{},\"message\":\"%s\"}", id,
                     fail ? 6106 : 200, fail ? "map size must less than 200" : "success");
            mosquitto_publish(f->m, NULL, rtopic, (int)strlen(out), out, 1, false);
        }
    }
    json_decref(root);
}

static void fake_on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m;
    tu_fake_t *f = ud;
    char *payload = strndup(msg->payload ? msg->payload : "", (size_t)msg->payloadlen);
    fake_record(f, msg->topic, payload);
    fake_answer(f, msg->topic, payload);
    free(payload);
}

static void fake_on_connect(struct mosquitto *m, void *ud, int rc)
{
    tu_fake_t *f = ud;
    if (rc == 0) {
        int mid;
        const char *subs[] = {"/sys/#", "/ext/#", "$emu/response"};
        /* $emu/response: the alink-emu console's answers (only when logged in as its admin) */
        mosquitto_subscribe_multiple(m, &mid, f->answer_posts ? 2 : 3, (char *const *)subs, 1, 0, NULL);
    }
    pthread_mutex_lock(&f->mu);
    f->connected = rc == 0;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void fake_on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted)
{
    (void)m, (void)mid, (void)n, (void)granted;
    tu_fake_t *f = ud;
    pthread_mutex_lock(&f->mu);
    f->subscribed = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

int tu_fake_start(tu_fake_t *f, int port)
{
    return tu_fake_start_as(f, port, NULL, NULL);
}

int tu_fake_start_as(tu_fake_t *f, int port, const char *user, const char *pass)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->answer_posts = user == NULL;
    f->ntp_offset_ms = 5000;
    mosquitto_lib_init();
    char id[64];
    snprintf(id, sizeof id, "fake-platform-%d", (int)getpid());
    f->m = mosquitto_new(id, true, f);
    if (!f->m)
        return -1;
    mosquitto_connect_callback_set(f->m, fake_on_connect);
    mosquitto_message_callback_set(f->m, fake_on_message);
    mosquitto_subscribe_callback_set(f->m, fake_on_subscribe);
    if (user)
        mosquitto_username_pw_set(f->m, user, pass);
    if (mosquitto_connect(f->m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS || mosquitto_loop_start(f->m) != 0)
        return -1;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30; /* a safety net: SUBACK normally comes within milliseconds */
    pthread_mutex_lock(&f->mu);
    while (!f->subscribed && pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0) {
    }
    bool ok = f->subscribed;
    pthread_mutex_unlock(&f->mu);
    return ok ? 0 : -1;
}

void tu_fake_stop(tu_fake_t *f)
{
    if (f->m) {
        mosquitto_disconnect(f->m);
        mosquitto_loop_stop(f->m, true);
        mosquitto_destroy(f->m);
        f->m = NULL;
    }
    for (int i = 0; i < f->nrec; i++) {
        free(f->recs[i].topic);
        free(f->recs[i].payload);
    }
    f->nrec = 0;
    mosquitto_lib_cleanup();
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

int tu_fake_publish(tu_fake_t *f, const char *topic, const char *payload)
{
    return mosquitto_publish(f->m, NULL, topic, (int)strlen(payload), payload, 1, false) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

int tu_fake_count(tu_fake_t *f, const char *topic, const char *needle)
{
    int n = 0;
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->nrec; i++)
        if (strcmp(f->recs[i].topic, topic) == 0 && (!needle || strstr(f->recs[i].payload, needle)))
            n++;
    pthread_mutex_unlock(&f->mu);
    return n;
}

char *tu_fake_last(tu_fake_t *f, const char *topic, const char *needle)
{
    char *out = NULL;
    pthread_mutex_lock(&f->mu);
    for (int i = f->nrec - 1; i >= 0 && !out; i--)
        if (strcmp(f->recs[i].topic, topic) == 0 && (!needle || strstr(f->recs[i].payload, needle)))
            out = strdup(f->recs[i].payload);
    pthread_mutex_unlock(&f->mu);
    return out;
}

/* ------------------------------------------------------------ loop */

static void tick(uv_timer_t *t)
{
    (void)t;
}

bool tu_run_until(uv_loop_t *loop, bool (*pred)(void *), void *arg, unsigned timeout_ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, tick, 5, 5);
    uint64_t end = uv_hrtime() + (uint64_t)timeout_ms * 1000000ULL;
    bool ok = pred ? pred(arg) : false;
    while (!ok && uv_hrtime() < end) {
        uv_run(loop, UV_RUN_ONCE);
        ok = pred ? pred(arg) : false;
    }
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

void tu_run_for(uv_loop_t *loop, unsigned ms)
{
    tu_run_until(loop, NULL, NULL, ms);
}
