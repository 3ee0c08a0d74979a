/*
 * The knxd connection (see knx_link.h): connect on the host's thread pool,
 * receive on an fd watch, reconnect with exponential backoff forever.
 */
#include "knx_link.h"

#include <eibclient.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* How long a send or the group-socket handshake may block before the link is
 * declared broken. */
#define KNX_SEND_TIMEOUT_MS 200
#define KNX_OPEN_TIMEOUT_MS 5000
/* How long a TCP connect to an ip: URL may take (the kernel's own limit is
 * about two minutes, which would hold a pool thread that long). */
#define KNX_CONNECT_TIMEOUT_MS 3000
/* Telegrams handled per readiness callback before yielding to the loop (the
 * watch is level-triggered, so the rest is read on the next iteration). */
#define KNX_RX_BUDGET 256

typedef enum link_state {
    LINK_IDLE,       /* not started, or stopped */
    LINK_WAITING,    /* waiting for the retry timer */
    LINK_CONNECTING, /* a connect job is on the pool */
    LINK_UP          /* group socket open, watch running */
} link_state_t;

struct knx_link {
    lgw_instance_t *inst;
    char *url;
    uint32_t min_ms, max_ms, backoff_ms;
    knx_link_events_t ev;
    void *data;

    link_state_t state;
    EIBConnection *con;
    lgw_watch_t *watch;
    lgw_timer_t *retry;
    unsigned gen;        /* bumped on every disconnect, to notice it from inside callbacks */
    unsigned failures;   /* failed attempts in the current outage */
    unsigned attempt;    /* id of the connect job whose result is wanted */
};

/* One connection attempt: filled on a pool thread, read by its after callback. */
typedef struct connect_job {
    knx_link_t *link;
    char *url;
    unsigned attempt;
    EIBConnection *con;
    int err;
    const char *step;
} connect_job_t;

/* ---- SIGPIPE: a write to a socket knxd closed must not kill the daemon ---- */

/* Blocks SIGPIPE for the calling thread; restore with sigpipe_restore(). */
static void sigpipe_block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

/* Discards a SIGPIPE raised while blocked (after EPIPE) and restores the mask. */
static void sigpipe_restore(const sigset_t *old, bool got_epipe)
{
    if (got_epipe) {
        sigset_t set;
        struct timespec zero = { 0, 0 };
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        while (sigtimedwait(&set, NULL, &zero) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static void set_timeout(int fd, int opt, int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

/* ---- connecting ------------------------------------------------------------ */

static void schedule_retry(knx_link_t *link);

/*
 * For "ip:HOST[:PORT]" URLs: a TCP connect bounded by KNX_CONNECT_TIMEOUT_MS,
 * so an unreachable host fails in seconds instead of the kernel's minutes.
 * Returns 0 when the port accepts connections, else an errno value.
 */
static int probe_tcp(const char *url)
{
    char host[256], port[16] = "6720";
    const char *hp = url + 3;
    const char *colon = strrchr(hp, ':');
    size_t hl = colon ? (size_t)(colon - hp) : strlen(hp);
    if (hl == 0 || hl >= sizeof host)
        return EINVAL;
    memcpy(host, hp, hl);
    host[hl] = '\0';
    if (colon)
        snprintf(port, sizeof port, "%s", colon + 1);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return EHOSTUNREACH;
    int err = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
        if (err == EINPROGRESS) {
            struct pollfd p = { fd, POLLOUT, 0 };
            socklen_t len = sizeof err;
            if (poll(&p, 1, KNX_CONNECT_TIMEOUT_MS) != 1)
                err = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
        }
        close(fd);
        if (err == 0)
            break;
    }
    freeaddrinfo(res);
    return err;
}

/* Pool thread: the blocking part of connecting. */
static void connect_work(void *data)
{
    connect_job_t *job = data;
    sigset_t old;
    job->step = "connect";
    if (strncmp(job->url, "ip:", 3) == 0 && (job->err = probe_tcp(job->url)) != 0)
        return;
    EIBConnection *con = EIBSocketURL(job->url);
    if (!con) {
        job->err = errno;
        return;
    }
    int fd = EIB_Poll_FD(con);
    set_timeout(fd, SO_SNDTIMEO, KNX_SEND_TIMEOUT_MS);
    set_timeout(fd, SO_RCVTIMEO, KNX_OPEN_TIMEOUT_MS);
    job->step = "open group socket";
    sigpipe_block(&old);
    int r = EIBOpen_GroupSocket(con, 0);
    int e = errno;
    sigpipe_restore(&old, r == -1 && e == EPIPE);
    if (r == -1) {
        job->err = e;
        EIBClose(con);
        return;
    }
    job->con = con;
}

static void on_readable(lgw_watch_t *watch, int fd, int events, void *data);

/*
 * Loop thread: a connect job finished, or was cancelled because the instance
 * stops. The host runs this before the plugin's destroy, so the link is
 * still there; a result nobody waits for any more is closed.
 */
static void connect_after(void *data, int status)
{
    connect_job_t *job = data;
    knx_link_t *link = job->link;
    EIBConnection *con = job->con;
    bool wanted = status == LGW_OK && link->state == LINK_CONNECTING && job->attempt == link->attempt;
    int err = job->err;
    const char *step = job->step;
    free(job->url);
    free(job);
    if (!wanted) {
        if (con)
            EIBClose(con);
        return;
    }
    if (!con) {
        link->failures++;
        lgw_log(link->inst, link->failures == 1 ? LGW_LOG_WARN : LGW_LOG_DEBUG,
                "knxd at %s: %s failed: %s; retrying in %u ms", link->url, step, strerror(err),
                (unsigned)link->backoff_ms);
        schedule_retry(link);
        return;
    }
    link->watch = lgw_watch_new(link->inst, EIB_Poll_FD(con), on_readable, link);
    if (!link->watch || lgw_watch_start(link->watch, LGW_WATCH_READ) != LGW_OK) {
        lgw_log(link->inst, LGW_LOG_ERROR, "knxd at %s: cannot watch the connection; retrying", link->url);
        lgw_watch_free(link->watch);
        link->watch = NULL;
        EIBClose(con);
        schedule_retry(link);
        return;
    }
    link->con = con;
    link->state = LINK_UP;
    if (link->failures > 0)
        lgw_log(link->inst, LGW_LOG_INFO, "connected to knxd at %s after %u failed attempts", link->url,
                link->failures);
    else
        lgw_log(link->inst, LGW_LOG_INFO, "connected to knxd at %s", link->url);
    link->failures = 0;
    link->backoff_ms = link->min_ms;
    if (link->ev.up)
        link->ev.up(link->data);
}

static void start_connect(knx_link_t *link)
{
    connect_job_t *job = calloc(1, sizeof *job);
    link->state = LINK_CONNECTING;
    if (job) {
        job->link = link;
        job->url = strdup(link->url);
        job->attempt = ++link->attempt;
    }
    if (!job || !job->url || lgw_work_submit(link->inst, connect_work, connect_after, job) != LGW_OK) {
        if (job)
            free(job->url);
        free(job);
        lgw_log(link->inst, LGW_LOG_ERROR, "knxd at %s: cannot queue a connection attempt; retrying", link->url);
        schedule_retry(link);
    }
}

static void on_retry(lgw_timer_t *timer, void *data)
{
    (void)timer;
    knx_link_t *link = data;
    if (link->state == LINK_WAITING)
        start_connect(link);
}

/* Waits backoff_ms, then connects; the next wait doubles (up to max_ms). */
static void schedule_retry(knx_link_t *link)
{
    link->state = LINK_WAITING;
    uint32_t delay = link->backoff_ms;
    link->backoff_ms = link->backoff_ms > link->max_ms / 2 ? link->max_ms : link->backoff_ms * 2;
    lgw_timer_start(link->retry, delay, 0);
}

/* Closes the connection (if any) without events. */
static void disconnect(knx_link_t *link)
{
    if (link->watch) {
        lgw_watch_free(link->watch);
        link->watch = NULL;
    }
    if (link->con) {
        EIBClose(link->con);
        link->con = NULL;
    }
    link->gen++;
}

/* The connection broke: close it, tell the owner, reconnect soon. */
static void lost(knx_link_t *link, int err)
{
    lgw_log(link->inst, LGW_LOG_WARN, "connection to knxd at %s lost: %s; reconnecting", link->url,
            err ? strerror(err) : "closed");
    disconnect(link);
    link->backoff_ms = link->min_ms;
    schedule_retry(link);
    if (link->ev.down)
        link->ev.down(link->data);
}

/* ---- receiving ------------------------------------------------------------ */

static void on_readable(lgw_watch_t *watch, int fd, int events, void *data)
{
    (void)watch;
    (void)fd;
    (void)events;
    knx_link_t *link = data;
    unsigned gen = link->gen;
    int idle = 0;
    /* EIB_Poll_Complete reads at most one step (length header or body) per
     * call and never blocks; it returns 1 once a whole packet is buffered.
     * Two zero answers in a row mean nothing more is readable now. */
    for (int handled = 0; handled < KNX_RX_BUDGET && idle < 2;) {
        int r = EIB_Poll_Complete(link->con);
        if (r < 0) {
            lost(link, errno);
            return;
        }
        if (r == 0) {
            idle++;
            continue;
        }
        idle = 0;
        handled++;
        uint8_t buf[256];
        eibaddr_t src = 0, dst = 0;
        int len = EIBGetGroup_Src(link->con, sizeof buf, buf, &src, &dst);
        if (len < 0) {
            lost(link, errno);
            return;
        }
        if (link->ev.telegram)
            link->ev.telegram(link->data, src, dst, buf, (size_t)len > sizeof buf ? sizeof buf : (size_t)len);
        if (link->gen != gen || link->state != LINK_UP)
            return; /* the owner sent, the send failed and the link went down */
    }
}

/* ---- public --------------------------------------------------------------- */

knx_link_t *knx_link_new(lgw_instance_t *inst, const char *url, uint32_t min_ms, uint32_t max_ms,
                         const knx_link_events_t *ev, void *data)
{
    knx_link_t *link = calloc(1, sizeof *link);
    if (!link)
        return NULL;
    link->inst = inst;
    link->url = strdup(url);
    link->min_ms = min_ms ? min_ms : 1;
    link->max_ms = max_ms < link->min_ms ? link->min_ms : max_ms;
    link->backoff_ms = link->min_ms;
    link->ev = *ev;
    link->data = data;
    link->state = LINK_IDLE;
    if (!link->url) {
        free(link);
        return NULL;
    }
    return link;
}

int knx_link_start(knx_link_t *link)
{
    if (link->state != LINK_IDLE)
        return LGW_OK;
    if (!link->retry)
        link->retry = lgw_timer_new(link->inst, on_retry, link);
    if (!link->retry)
        return LGW_ENOMEM;
    link->backoff_ms = link->min_ms;
    link->failures = 0;
    start_connect(link);
    return LGW_OK;
}

void knx_link_stop(knx_link_t *link)
{
    if (!link)
        return;
    link->state = LINK_IDLE; /* a connect job still running is not waited for: its after closes it */
    if (link->retry) {
        lgw_timer_free(link->retry);
        link->retry = NULL;
    }
    disconnect(link);
}

void knx_link_free(knx_link_t *link)
{
    if (!link)
        return;
    knx_link_stop(link);
    free(link->url);
    free(link);
}

bool knx_link_is_up(const knx_link_t *link)
{
    return link && link->state == LINK_UP;
}

int knx_link_send(knx_link_t *link, uint16_t dst, const uint8_t *apdu, size_t len)
{
    if (!knx_link_is_up(link))
        return LGW_ESTATE;
    sigset_t old;
    sigpipe_block(&old);
    int r = EIBSendGroup(link->con, dst, (int)len, apdu);
    int e = errno;
    sigpipe_restore(&old, r == -1 && e == EPIPE);
    if (r == -1) {
        lost(link, e);
        return LGW_EIO;
    }
    return LGW_OK;
}
