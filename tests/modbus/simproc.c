/* Child processes for the Modbus integration tests (see simproc.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "simproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *simproc_sim_path(void)
{
    const char *p = getenv("MODBUS_SIM");
    return p ? p : "modbus-sim";
}

/* Spawns argv with stdout (to_stdout) or stderr piped; returns the read end. */
static int spawn(simproc_t *sp, char *const *argv, bool pipe_stderr)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], pipe_stderr ? 2 : 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    sp->pid = pid;
    return fds[0];
}

/* Reads lines from @p fd for up to @p ms, calling @p line for each until it returns true. */
static bool read_lines(int fd, int ms, bool (*line)(simproc_t *, const char *), simproc_t *sp)
{
    char buf[4096];
    size_t n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= ms)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(ms - el)) <= 0)
            continue;
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r <= 0)
            return false;
        n += (size_t)r;
        buf[n] = '\0';
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            if (line(sp, buf))
                return true;
            size_t used = (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, n - used + 1);
            n -= used;
        }
        if (n >= sizeof buf - 1)
            n = 0;
    }
}

static bool sim_line(simproc_t *sp, const char *l)
{
    if (sscanf(l, "PORT %d", &sp->port) == 1)
        return true;
    return strcmp(l, "READY") == 0;
}

int simproc_start_sim(simproc_t *sp, const char *const *args)
{
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)simproc_sim_path();
    for (int i = 0; args[i] && n < 63; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    int fd = spawn(sp, argv, false);
    if (fd < 0)
        return -1;
    bool ok = read_lines(fd, 30000, sim_line, sp);
    close(fd); /* the simulator prints nothing more on stdout */
    if (!ok)
        simproc_stop(sp);
    return ok ? 0 : -1;
}

static bool socat_line(simproc_t *sp, const char *l)
{
    const char *p = strstr(l, "PTY is ");
    if (p) {
        int i = sp->pty[0][0] ? 1 : 0;
        snprintf(sp->pty[i], sizeof sp->pty[i], "%s", p + 7);
    }
    return strstr(l, "starting data transfer loop") != NULL && sp->pty[1][0];
}

int simproc_start_socat(simproc_t *sp)
{
    char *argv[] = {"socat", "-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0", NULL};
    int fd = spawn(sp, argv, true);
    if (fd < 0)
        return -1;
    bool ok = read_lines(fd, 30000, socat_line, sp);
    sp->errfd = fd; /* kept open so later diagnostics never hit a closed pipe */
    if (!ok)
        simproc_stop(sp);
    return ok ? 0 : -1;
}

void simproc_stop(simproc_t *sp)
{
    if (sp->errfd > 0) {
        close(sp->errfd);
        sp->errfd = 0;
    }
    if (sp->pid <= 0)
        return;
    kill(sp->pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(sp->pid, NULL, WNOHANG) == sp->pid) {
            sp->pid = 0;
            return;
        }
        usleep(10000);
    }
    kill(sp->pid, SIGKILL);
    waitpid(sp->pid, NULL, 0);
    sp->pid = 0;
}
