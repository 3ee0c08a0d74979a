/*
 * knxd test harness (see knxd_harness.h).
 */
#include "knxd_harness.h"

#include <eibclient.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* A loopback TCP port that was free a moment ago. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* fork + exec with stdout/stderr to @p log (or /dev/null); the child dies with us. */
static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execvp(argv[0], argv);
    _exit(127);
}

static bool ready(const char *url)
{
    EIBConnection *c = EIBSocketURL(url);
    if (!c)
        return false;
    bool ok = EIBOpen_GroupSocket(c, 0) == 0;
    EIBClose(c);
    return ok;
}

bool knxd_start(knxd_t *k, bool tcp)
{
    if (!k->dir[0]) {
        snprintf(k->dir, sizeof k->dir, "/tmp/lgw-knx.XXXXXX");
        if (!mkdtemp(k->dir)) {
            k->dir[0] = '\0';
            return false;
        }
        snprintf(k->sock, sizeof k->sock, "%s/knxd.sock", k->dir);
        snprintf(k->url, sizeof k->url, "local:%s", k->sock);
        snprintf(k->log, sizeof k->log, "%s/knxd.log", k->dir);
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        if (tcp && (k->port == 0 || attempt > 0)) {
            k->port = free_port();
            snprintf(k->ip_url, sizeof k->ip_url, "ip:127.0.0.1:%d", k->port);
        }
        char port_arg[32];
        snprintf(port_arg, sizeof port_arg, "--listen-tcp=%d", k->port);
        char *argv[12];
        int n = 0;
        argv[n++] = "knxd";
        argv[n++] = "-e";
        argv[n++] = "0.0.1";
        argv[n++] = "-E";
        argv[n++] = "0.0.2:8";
        argv[n++] = "-u";
        argv[n++] = k->sock;
        if (tcp)
            argv[n++] = port_arg;
        argv[n++] = "-b";
        argv[n++] = "dummy:";
        argv[n] = NULL;
        unlink(k->sock);
        k->pid = spawn(argv, k->log);
        if (k->pid < 0)
            return false;
        uint64_t deadline = now_ms() + 30000; /* a safety net: knxd is normally up in milliseconds */
        while (now_ms() < deadline) {
            int status;
            if (waitpid(k->pid, &status, WNOHANG) == k->pid) {
                k->pid = 0; /* exited: maybe the port was taken meanwhile */
                break;
            }
            if (ready(k->url) && (!tcp || ready(k->ip_url)))
                return true;
            sleep_ms(20);
        }
        knxd_stop(k);
        if (!tcp)
            break;
    }
    fprintf(stderr, "knxd did not start; see %s\n", k->log);
    return false;
}

void knxd_stop(knxd_t *k)
{
    if (k->pid <= 0)
        return;
    kill(k->pid, SIGTERM);
    uint64_t deadline = now_ms() + 3000;
    int status;
    while (waitpid(k->pid, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            kill(k->pid, SIGKILL);
            waitpid(k->pid, &status, 0);
            break;
        }
        sleep_ms(10);
    }
    k->pid = 0;
}

void knxd_cleanup(knxd_t *k)
{
    knxd_stop(k);
    if (k->dir[0]) {
        unlink(k->sock);
        unlink(k->log);
        rmdir(k->dir);
        k->dir[0] = '\0';
    }
}

int knxtool(const char *applet, const char *url, ...)
{
    char *argv[16];
    int n = 0;
    argv[n++] = "knxtool";
    argv[n++] = (char *)applet;
    argv[n++] = (char *)url;
    va_list ap;
    va_start(ap, url);
    const char *a;
    while (n < 15 && (a = va_arg(ap, const char *)) != NULL)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    pid_t pid = spawn(argv, NULL);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct knx_client {
    EIBConnection *con;
};

knx_client_t *knx_client_open(const char *url)
{
    knx_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->con = EIBSocketURL(url);
    if (!c->con || EIBOpen_GroupSocket(c->con, 0) != 0) {
        knx_client_close(c);
        return NULL;
    }
    return c;
}

void knx_client_close(knx_client_t *c)
{
    if (!c)
        return;
    if (c->con)
        EIBClose(c->con);
    free(c);
}

bool knx_client_recv(knx_client_t *c, int timeout_ms, uint16_t *src, uint16_t *dst, uint8_t *apdu, size_t *len)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int r = EIB_Poll_Complete(c->con);
        if (r < 0)
            return false;
        if (r == 1) {
            eibaddr_t s = 0, d = 0;
            uint8_t buf[256];
            int n = EIBGetGroup_Src(c->con, sizeof buf, buf, &s, &d);
            if (n < 0)
                return false;
            *src = s;
            *dst = d;
            *len = (size_t)n > 64 ? 64 : (size_t)n;
            memcpy(apdu, buf, *len);
            return true;
        }
        uint64_t now = now_ms();
        if (now >= deadline) {
            /* one last non-blocking look: a header may have been read above */
            if (EIB_Poll_Complete(c->con) != 1)
                return false;
            continue;
        }
        struct pollfd p = { EIB_Poll_FD(c->con), POLLIN, 0 };
        poll(&p, 1, (int)(deadline - now));
    }
}

bool knx_client_send(knx_client_t *c, uint16_t dst, const uint8_t *apdu, size_t len)
{
    return EIBSendGroup(c->con, dst, (int)len, apdu) >= 0;
}
