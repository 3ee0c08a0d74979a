/*
 * The real `linkgw` binary: --check-config (exact file:line errors), SIGHUP
 * reload (only added/changed/removed instances are touched, invalid changes
 * keep the old instance), SIGTERM graceful exit with code 0. Under the ASan
 * build a leak at shutdown would make the exit code non-zero.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t g_pid = -1;

typedef struct proc {
    pid_t pid;
    int fd;          /* its stderr+stdout */
    char *log;
    size_t len, cap;
} proc_t;

static const char *bin(void)
{
    const char *b = getenv("LINKGW_BIN");
    assert_non_null(b);
    return b;
}

static void spawn(proc_t *p, char *const argv[])
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    memset(p, 0, sizeof *p);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execv(bin(), argv);
        _exit(127);
    }
    g_pid = p->pid;
    close(fds[1]);
    p->fd = fds[0];
    fcntl(p->fd, F_SETFL, O_NONBLOCK);
}

/* Reads what is available (waiting up to @p ms). Returns false at EOF. */
static bool pump(proc_t *p, int ms)
{
    struct pollfd pf = {p->fd, POLLIN, 0};
    if (poll(&pf, 1, ms) <= 0)
        return true;
    char buf[4096];
    ssize_t n = read(p->fd, buf, sizeof buf);
    if (n == 0)
        return false;
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    if (p->len + (size_t)n + 1 > p->cap) {
        p->cap = (p->len + (size_t)n + 1) * 2;
        p->log = realloc(p->log, p->cap);
        assert_non_null(p->log);
    }
    memcpy(p->log + p->len, buf, (size_t)n);
    p->len += (size_t)n;
    p->log[p->len] = '\0';
    return true;
}

/* Waits (up to 30 s) until @p needle appears in the log after @p from. */
static void wait_for(proc_t *p, size_t from, const char *needle)
{
    time_t end = time(NULL) + 30;
    while (time(NULL) < end) {
        if (p->log && p->len > from && strstr(p->log + from, needle))
            return;
        if (!pump(p, 200))
            break;
    }
    fprintf(stderr, "---- daemon output ----\n%s\n---- end ----\n", p->log ? p->log : "");
    fail_msg("'%s' not seen in the daemon's output (above)", needle);
}

static int finish(proc_t *p)
{
    while (pump(p, 1000))
        ;
    int st = 0;
    assert_int_equal(waitpid(p->pid, &st, 0), p->pid);
    g_pid = -1;
    close(p->fd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool contains(const proc_t *p, size_t from, const char *needle)
{
    return p->log && p->len > from && strstr(p->log + from, needle) != NULL;
}

static void kill_child(void)
{
    if (g_pid > 0) {
        kill(g_pid, SIGKILL);
        waitpid(g_pid, NULL, 0);
        g_pid = -1;
    }
}

static int teardown(void **state)
{
    (void)state;
    kill_child();
    return 0;
}

static void write_main(th_t *t)
{
    char text[1024];
    mkdir(strcat(strcpy(text, t->dir), "/conf.d"), 0700);
    snprintf(text, sizeof text,
             "log_level = \"info\";\nconf_dir = \"conf.d\";\nplugin_dir = \"%s\";\nstate_dir = \"state\";\n",
             TEST_PLUGIN_DIR);
    th_write(t, "linkgw.conf", text);
}

static const char *inst_conf(const char *label)
{
    static char text[256];
    snprintf(text, sizeof text, "plugin = \"test_good\";\nsettings = {\n  label = \"%s\";\n};\n", label);
    return text;
}

/* A datagram socket standing in for systemd's NOTIFY_SOCKET. */
static int notify_socket(th_t *t)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    char path[300];
    snprintf(path, sizeof path, "%s/notify", t->dir);
    assert_true(strlen(path) < sizeof a.sun_path);
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    setenv("NOTIFY_SOCKET", a.sun_path, 1);
    return fd;
}

/* Waits (up to 30 s) for the datagram @p want. */
static void expect_notify(int fd, const char *want)
{
    char buf[256];
    for (int i = 0; i < 30; i++) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 1000) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        assert_true(n >= 0);
        buf[n] = '\0';
        if (strcmp(buf, want) == 0)
            return;
    }
    fail_msg("notification '%s' not received", want);
}

/* Reads every queued notification; true if one equals @p want. */
static bool drain_notify(int fd, const char *want)
{
    char buf[256];
    bool seen = false;
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) >= 0) {
        buf[n] = '\0';
        seen = seen || strcmp(buf, want) == 0;
    }
    return seen;
}

static void test_reload(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    int nfd = notify_socket(&t);
    write_main(&t);
    th_write(&t, "conf.d/a.conf", inst_conf("a1"));
    th_write(&t, "conf.d/b.conf", inst_conf("b1"));
    th_write(&t, "conf.d/c.conf", inst_conf("c1"));
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/linkgw.conf", t.dir);
    char *argv[] = {"linkgw", "-c", cfg, NULL};
    proc_t p;
    spawn(&p, argv);
    unsetenv("NOTIFY_SOCKET");
    wait_for(&p, 0, "INFO linkgw: running");
    expect_notify(nfd, "READY=1");
    assert_true(contains(&p, 0, "plugin a: test plugin started (label 'a1')"));
    assert_true(contains(&p, 0, "plugin b: test plugin started (label 'b1')"));
    assert_true(contains(&p, 0, "plugin c: test plugin started (label 'c1')"));
    wait_for(&p, 0, "INFO hub: device added: a/dev0 (model thing)");

    wait_for(&p, 0, "INFO hub: device added: c/dev0 (model thing)");

    /* a rewritten unchanged, b changed, c removed, d added */
    size_t mark = p.len;
    th_write(&t, "conf.d/a.conf", inst_conf("a1"));
    th_write(&t, "conf.d/b.conf", inst_conf("b2"));
    char path[600];
    snprintf(path, sizeof path, "%s/conf.d/c.conf", t.dir);
    assert_int_equal(unlink(path), 0);
    th_write(&t, "conf.d/d.conf", inst_conf("d1"));
    kill(p.pid, SIGHUP);
    wait_for(&p, mark, "INFO linkgw: reload done");
    wait_for(&p, mark, "plugin b: test plugin started (label 'b2')");
    assert_true(contains(&p, mark, "instance 'b' changed: restarting it"));
    assert_true(contains(&p, mark, "plugin b: instance stopped"));
    assert_true(contains(&p, mark, "instance 'c' removed: stopping it"));
    assert_true(contains(&p, mark, "plugin c: instance stopped"));
    assert_true(contains(&p, mark, "instance 'd' added: starting it"));
    assert_true(contains(&p, mark, "plugin d: test plugin started (label 'd1')"));
    assert_false(contains(&p, mark, "plugin a:"));
    assert_false(contains(&p, mark, "instance 'a'"));

    /* an invalid change keeps the running instance */
    mark = p.len;
    th_write(&t, "conf.d/b.conf", "plugin = \"test_good\";\nsettings = {\n  bogus = 1;\n};\n");
    kill(p.pid, SIGHUP);
    wait_for(&p, mark, "INFO linkgw: reload done");
    snprintf(path, sizeof path, "ERROR config: %s/conf.d/b.conf:3: unknown setting 'bogus'", t.dir);
    assert_true(contains(&p, mark, path));
    assert_true(contains(&p, mark, "instance 'b': new configuration is invalid; keeping the running instance"));
    assert_false(contains(&p, mark, "plugin b: instance stopped"));

    /* so does a syntax error; disabling stops */
    mark = p.len;
    th_write(&t, "conf.d/b.conf", "plugin = \"test_good\"\nsettings = ;\n");
    th_write(&t, "conf.d/d.conf", "plugin = \"test_good\";\nenabled = false;\n");
    kill(p.pid, SIGHUP);
    wait_for(&p, mark, "INFO linkgw: reload done");
    assert_true(contains(&p, mark, "keeping the running instance"));
    assert_false(contains(&p, mark, "plugin b: instance stopped"));
    assert_true(contains(&p, mark, "instance 'd' disabled: stopping it"));
    assert_true(contains(&p, mark, "plugin d: instance stopped"));

    /* a restart that must wait for the old instance's running pool job */
    char block[600], text[900];
    snprintf(block, sizeof block, "%s/release", t.dir);
    snprintf(text, sizeof text, "plugin = \"test_good\";\nsettings = { label = \"e1\"; block_file = \"%s\"; };\n",
             block);
    mark = p.len;
    th_write(&t, "conf.d/e.conf", text);
    kill(p.pid, SIGHUP);
    wait_for(&p, mark, "plugin e: test plugin started (label 'e1')");
    wait_for(&p, mark, "INFO linkgw: reload done");
    /* the job must be running, not merely queued on a busy pool: a queued one is cancelled */
    wait_for(&p, mark, "plugin e: block job running");
    mark = p.len;
    snprintf(text, sizeof text, "plugin = \"test_good\";\nsettings = { label = \"e2\"; block_file = \"%s\"; };\n",
             block);
    th_write(&t, "conf.d/e.conf", text);
    kill(p.pid, SIGHUP);
    wait_for(&p, mark, "INFO linkgw: reload done");
    assert_true(contains(&p, mark, "instance 'e' changed: restarting it"));
    assert_false(contains(&p, mark, "plugin e: instance stopped")); /* waiting for the job */
    assert_false(contains(&p, mark, "label 'e2'"));
    mark = p.len;
    snprintf(text, sizeof text, "plugin = \"test_good\";\nsettings = { label = \"e3\"; block_file = \"%s\"; };\n",
             block);
    th_write(&t, "conf.d/e.conf", text);
    kill(p.pid, SIGHUP);
    wait_for(&p, mark, "INFO linkgw: reload done");
    assert_true(contains(&p, mark, "instance 'e' is still restarting; its new change is applied at the next SIGHUP"));
    th_write(&t, "release", "");
    wait_for(&p, mark, "plugin e: test plugin started (label 'e2')");
    assert_true(contains(&p, mark, "plugin e: block job finished (ran)"));
    mark = p.len;
    kill(p.pid, SIGHUP);
    wait_for(&p, mark, "plugin e: test plugin started (label 'e3')");

    assert_true(drain_notify(nfd, "RELOADING=1")); /* the daemon never blocks on a full queue */
    mark = p.len;
    kill(p.pid, SIGTERM);
    int rc = finish(&p);
    if (rc != 0)
        fail_msg("exit code %d; output:\n%s", rc, p.log + mark);
    assert_true(contains(&p, mark, "plugin a: instance stopped"));
    assert_true(contains(&p, mark, "plugin b: instance stopped"));
    assert_true(contains(&p, mark, "INFO linkgw: stopped"));
    expect_notify(nfd, "STOPPING=1");
    close(nfd);
    free(p.log);
    th_close(&t);
}

static void test_check_config(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    write_main(&t);
    th_write(&t, "conf.d/good.conf", inst_conf("g"));
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/linkgw.conf", t.dir);
    char *argv[] = {"linkgw", "-c", cfg, "--check-config", NULL};
    proc_t p;
    spawn(&p, argv);
    assert_int_equal(finish(&p), 0);
    assert_true(contains(&p, 0, "configuration OK"));
    free(p.log);

    th_write(&t, "conf.d/bad1.conf", "plugin = \"test_good\";\nsettings = {\n  label = 5;\n};\n");
    th_write(&t, "conf.d/bad2.conf", "plugin = \"test_good\";\ncolour = 1;\n");
    th_write(&t, "conf.d/bad3.conf", "plugin = \"test_abi_major\";\n");
    th_write(&t, "conf.d/off.conf", "plugin = \"does_not_exist\";\nenabled = false;\n");
    spawn(&p, argv);
    assert_int_equal(finish(&p), 1);
    char want[700];
    snprintf(want, sizeof want, "%s/conf.d/bad1.conf:3: setting 'label' must be a string, not an integer\n", t.dir);
    assert_true(contains(&p, 0, want));
    snprintf(want, sizeof want, "%s/conf.d/bad2.conf:2: unknown setting 'colour'\n", t.dir);
    assert_true(contains(&p, 0, want));
    snprintf(want, sizeof want, "%s/conf.d/bad3.conf:1: refusing plugin %s/test_abi_major.so: plugin was built "
             "for ABI 2.0 but this host implements ABI 1.1", t.dir, TEST_PLUGIN_DIR);
    assert_true(contains(&p, 0, want));
    assert_false(contains(&p, 0, "does_not_exist")); /* disabled: not loaded */
    assert_false(contains(&p, 0, "configuration OK"));
    free(p.log);
    th_close(&t);
}

static void test_cli(void **state)
{
    (void)state;
    proc_t p;
    char *v[] = {"linkgw", "--version", NULL};
    spawn(&p, v);
    assert_int_equal(finish(&p), 0);
    assert_true(contains(&p, 0, "linkgw "));
    free(p.log);
    char *bad[] = {"linkgw", "--frobnicate", NULL};
    spawn(&p, bad);
    assert_int_equal(finish(&p), 2);
    free(p.log);
    char *missing[] = {"linkgw", "-c", "/nonexistent/linkgw.conf", NULL};
    spawn(&p, missing);
    assert_int_equal(finish(&p), 1);
    assert_true(contains(&p, 0, "/nonexistent/linkgw.conf: cannot read file"));
    free(p.log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cli, teardown),
        cmocka_unit_test_teardown(test_check_config, teardown),
        cmocka_unit_test_teardown(test_reload, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
