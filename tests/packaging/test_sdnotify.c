/*
 * The systemd side of the daemon, as linkgw.service (Type=notify,
 * WatchdogSec=) relies on it: gw_notify() datagrams to $NOTIFY_SOCKET (a path
 * or an abstract '@' name) and the gw_watchdog keep-alive timer. The test plays
 * systemd: it creates the datagram socket itself and reads what arrives.
 */
#include "notify.h"
#include "watchdog.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* A receiving datagram socket: NAME starting with '@' is abstract. */
static int make_socket(const char *name)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t len = strlen(name);
    assert_true(len < sizeof a.sun_path);
    memcpy(a.sun_path, name, len);
    if (name[0] == '@')
        a.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '@' ? 0 : 1));
    assert_int_equal(bind(fd, (struct sockaddr *)&a, alen), 0);
    return fd;
}

/* Receives one datagram within @p ms into @p buf; false on timeout. */
static bool recv_one(int fd, char *buf, size_t size, int ms)
{
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, ms) <= 0)
        return false;
    ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

static void abstract_name(char *out, size_t size, const char *what)
{
    snprintf(out, size, "@linkgw-test-sdnotify-%ld-%s-%d", (long)getpid(), what, rand());
}

/* ---- gw_notify --------------------------------------------------------------- */

static void test_notify_path_socket(void **state)
{
    (void)state;
    char dir[] = "/tmp/linkgw-sdnotify-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/notify", dir);
    int fd = make_socket(path);
    setenv("NOTIFY_SOCKET", path, 1);
    gw_notify("READY=1");
    char buf[256];
    assert_true(recv_one(fd, buf, sizeof buf, 5000));
    assert_string_equal(buf, "READY=1");
    unsetenv("NOTIFY_SOCKET");
    close(fd);
    unlink(path);
    rmdir(dir);
}

static void test_notify_abstract_socket(void **state)
{
    (void)state;
    char name[108];
    abstract_name(name, sizeof name, "abs");
    int fd = make_socket(name);
    setenv("NOTIFY_SOCKET", name, 1);
    gw_notify("STOPPING=1");
    gw_notify("RELOADING=1");
    char buf[256];
    assert_true(recv_one(fd, buf, sizeof buf, 5000));
    assert_string_equal(buf, "STOPPING=1");
    assert_true(recv_one(fd, buf, sizeof buf, 5000));
    assert_string_equal(buf, "RELOADING=1");
    unsetenv("NOTIFY_SOCKET");
    close(fd);
}

/* Unset, relative, over-long or dangling addresses are ignored, never fatal. */
static void test_notify_bad_addresses(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    gw_notify("READY=1");
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    gw_notify("READY=1");
    setenv("NOTIFY_SOCKET", "", 1);
    gw_notify("READY=1");
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = '\0';
    setenv("NOTIFY_SOCKET", longname, 1);
    gw_notify("READY=1");
    setenv("NOTIFY_SOCKET", "/nonexistent/linkgw/notify", 1);
    gw_notify("READY=1");
    setenv("NOTIFY_SOCKET", "@linkgw-test-nobody-listens", 1);
    gw_notify(NULL);
    gw_notify("READY=1");
    unsetenv("NOTIFY_SOCKET");
}

/* ---- watchdog ---------------------------------------------------------------- */

static void test_watchdog_interval(void **state)
{
    (void)state;
    pid_t me = getpid();
    char mine[32], other[32];
    snprintf(mine, sizeof mine, "%ld", (long)me);
    snprintf(other, sizeof other, "%ld", (long)me + 1);
    assert_int_equal(gw_watchdog_interval_ms("30000000", NULL, me), 15000);
    assert_int_equal(gw_watchdog_interval_ms("30000000", "", me), 15000);
    assert_int_equal(gw_watchdog_interval_ms("30000000", mine, me), 15000);
    assert_int_equal(gw_watchdog_interval_ms("30000000", other, me), 0);
    assert_int_equal(gw_watchdog_interval_ms("1000", NULL, me), 1); /* 0.5 ms → 1 ms */
    assert_int_equal(gw_watchdog_interval_ms("1", NULL, me), 1);
    assert_int_equal(gw_watchdog_interval_ms(NULL, NULL, me), 0);
    assert_int_equal(gw_watchdog_interval_ms("", NULL, me), 0);
    assert_int_equal(gw_watchdog_interval_ms("0", NULL, me), 0);
    assert_int_equal(gw_watchdog_interval_ms("-5", NULL, me), 0);
    assert_int_equal(gw_watchdog_interval_ms("+5", NULL, me), 0);
    assert_int_equal(gw_watchdog_interval_ms(" 5", NULL, me), 0);
    assert_int_equal(gw_watchdog_interval_ms("5s", NULL, me), 0);
    assert_int_equal(gw_watchdog_interval_ms("99999999999999999999999", NULL, me), 0);
    assert_int_equal(gw_watchdog_interval_ms("30000000", "abc", me), 0);
}

typedef struct {
    int fd;
    int pings;
    bool other;           /* a datagram that is not WATCHDOG=1 */
    uv_poll_t poll;
    uv_timer_t guard;
    gw_watchdog_t *wd;
} ping_ctx_t;

static void ping_done(ping_ctx_t *c)
{
    uv_poll_stop(&c->poll);
    uv_close((uv_handle_t *)&c->poll, NULL);
    uv_close((uv_handle_t *)&c->guard, NULL);
    gw_watchdog_stop(c->wd);
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    ping_ctx_t *c = p->data;
    char buf[64];
    ssize_t n;
    while ((n = recv(c->fd, buf, sizeof buf - 1, MSG_DONTWAIT)) >= 0) {
        buf[n] = '\0';
        if (strcmp(buf, "WATCHDOG=1") == 0)
            c->pings++;
        else
            c->other = true;
    }
    if (c->pings >= 3 && !uv_is_closing((uv_handle_t *)&c->poll))
        ping_done(c);
}

static void on_guard(uv_timer_t *t)
{
    ping_done(t->data); /* the assertion on the count reports it */
}

static void test_watchdog_pings_from_the_loop(void **state)
{
    (void)state;
    char name[108];
    abstract_name(name, sizeof name, "wd");
    int fd = make_socket(name);
    setenv("NOTIFY_SOCKET", name, 1);
    setenv("WATCHDOG_USEC", "20000", 1); /* a ping every 10 ms */
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);

    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    gw_watchdog_t wd;
    assert_int_equal(gw_watchdog_start(&wd, &loop), 10);
    ping_ctx_t c = {.fd = fd, .wd = &wd};
    assert_int_equal(uv_poll_init(&loop, &c.poll, fd), 0);
    c.poll.data = &c;
    assert_int_equal(uv_poll_start(&c.poll, UV_READABLE, on_readable), 0);
    uv_timer_init(&loop, &c.guard);
    c.guard.data = &c;
    uv_timer_start(&c.guard, on_guard, 20000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_true(c.pings >= 3);
    assert_false(c.other);

    /* The timer is unreferenced: alone it does not keep a loop running. */
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(gw_watchdog_start(&wd, &loop), 10);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    gw_watchdog_stop(&wd);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);

    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    close(fd);
}

/* A watchdog meant for another process (WATCHDOG_PID) or none: no timer. */
static void test_watchdog_not_for_us(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    gw_watchdog_t wd;
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(gw_watchdog_start(&wd, &loop), 0);
    setenv("WATCHDOG_USEC", "20000", 1);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(gw_watchdog_start(&wd, &loop), 0);
    setenv("WATCHDOG_USEC", "garbage", 1);
    unsetenv("WATCHDOG_PID");
    assert_int_equal(gw_watchdog_start(&wd, &loop), 0);
    gw_watchdog_stop(&wd); /* no-op */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    unsetenv("WATCHDOG_USEC");
}

/* ---- the daemon -------------------------------------------------------------- */

/* Waits up to 30 s for the datagram @p want, skipping WATCHDOG=1 pings; fails
 * on any other datagram first. */
static void expect_state(int fd, const char *want)
{
    char buf[256];
    for (int i = 0; i < 300; i++) {
        if (!recv_one(fd, buf, sizeof buf, 100))
            continue;
        if (strcmp(buf, want) == 0)
            return;
        if (strcmp(buf, "WATCHDOG=1") == 0)
            continue;
        fail_msg("expected '%s', received '%s'", want, buf);
    }
    fail_msg("'%s' not received", want);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* linkgw as systemd runs it: READY=1 once started, WATCHDOG=1 at half of
 * WATCHDOG_USEC (WATCHDOG_PID = its own pid), RELOADING=1 then READY=1 around
 * SIGHUP, STOPPING=1 on SIGTERM, exit 0. */
static void test_daemon_speaks_sd_notify(void **state)
{
    (void)state;
    const char *bin = getenv("LINKGW_BIN");
    if (!bin)
        skip();
    char dir[] = "/tmp/linkgw-sdnotify-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cfg[256], confd[256], stdir[256], log[256], text[1024];
    snprintf(cfg, sizeof cfg, "%s/linkgw.conf", dir);
    snprintf(confd, sizeof confd, "%s/conf.d", dir);
    snprintf(stdir, sizeof stdir, "%s/state", dir);
    snprintf(log, sizeof log, "%s/daemon.log", dir);
    assert_int_equal(mkdir(confd, 0700), 0);
    assert_int_equal(mkdir(stdir, 0700), 0);
    snprintf(text, sizeof text, "conf_dir = \"%s\";\nstate_dir = \"%s\";\n", confd, stdir);
    write_file(cfg, text);

    char name[108];
    abstract_name(name, sizeof name, "daemon");
    int fd = make_socket(name);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char self[32];
        snprintf(self, sizeof self, "%ld", (long)getpid()); /* exec keeps the pid */
        setenv("NOTIFY_SOCKET", name, 1);
        setenv("WATCHDOG_USEC", "100000", 1);
        setenv("WATCHDOG_PID", self, 1);
        FILE *out = freopen(log, "w", stderr);
        (void)out;
        dup2(2, 1);
        execl(bin, "linkgw", "-c", cfg, (char *)NULL);
        _exit(127);
    }
    expect_state(fd, "READY=1");
    expect_state(fd, "WATCHDOG=1");
    expect_state(fd, "WATCHDOG=1");
    assert_int_equal(kill(pid, SIGHUP), 0);
    expect_state(fd, "RELOADING=1");
    expect_state(fd, "READY=1");
    assert_int_equal(kill(pid, SIGTERM), 0);
    expect_state(fd, "STOPPING=1");
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        FILE *f = fopen(log, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
            fputs(line, stderr);
        if (f)
            fclose(f);
        fail_msg("linkgw exited with status %d", status);
    }
    close(fd);
    unlink(cfg);
    unlink(log);
    rmdir(confd);
    rmdir(stdir);
    rmdir(dir);
}

int main(void)
{
    srand((unsigned)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_path_socket),
        cmocka_unit_test(test_notify_abstract_socket),
        cmocka_unit_test(test_notify_bad_addresses),
        cmocka_unit_test(test_watchdog_interval),
        cmocka_unit_test(test_watchdog_pings_from_the_loop),
        cmocka_unit_test(test_watchdog_not_for_us),
        cmocka_unit_test(test_daemon_speaks_sd_notify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
