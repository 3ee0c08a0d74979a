/*
 * Cold start to N sub-devices online (default 2,000): a fresh state dir, N
 * pre-registered sub-devices without secrets on the emulator, a sim instance
 * announcing N thermometers; the clock runs from the daemon's exec until the
 * daemon reports N sub-devices logged in, then the emulator's sessions are
 * checked. Printed beside the floor the platform's limits allow: with at
 * most 200 logins in any second per gateway, the last of N logins cannot be
 * sent earlier than (ceil(N / 200) - 1) s after the first (register and
 * topo/add have only batch-size limits, ≤ 30, and cost round trips). Then the daemon's
 * RSS with N sub-devices, and the same for a warm restart (lists persisted:
 * batch_login only).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lc_harness.h"
#include "bench_proc.h"

static bool all_logged_in(lc_t *t, void *arg)
{
    return lc_list_size(t, "logged_in") >= (long long)(intptr_t)arg;
}

static int run(lc_t *t, int n, const char *label)
{
    double t0 = bench_now_s();
    if (lc_gw_start(t) != 0) {
        fprintf(stderr, "bench: linkgw did not start\n");
        return -1;
    }
    if (!lc_wait(t, all_logged_in, (void *)(intptr_t)n, 600000)) {
        fprintf(stderr, "bench: not all %d sub-devices online after 600 s (%lld)\n", n, lc_list_size(t, "logged_in"));
        return -1;
    }
    double el = bench_now_s() - t0;
    int sessions = lc_emu_sessions(t);
    printf("%-11s %5d sub-devices online in %7.2f s   (platform floor: %d s: <= 200 logins in any second)   "
           "emulator sessions %d, registered %lld, topo_added %lld, login batches %lld, RSS %ld KiB\n",
           label, n, el, (n + 199) / 200 - 1, sessions, lc_counter(t, "registered"), lc_counter(t, "topo_added"),
           lc_counter(t, "login_batches"), bench_rss_kb(t->gw_pid));
    return sessions == n ? 0 : -1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    if (n < 1 || n > 2000) {
        fprintf(stderr, "usage: bench_lifecycle [N ≤ 2000]\n");
        return 2;
    }
    lc_t t;
    if (lc_setup(&t, n, NULL) != 0) {
        fprintf(stderr, "bench: setup failed\n");
        lc_teardown(&t);
        return 1;
    }
    char sim[200];
    snprintf(sim, sizeof sim, "thermometer = { count = %d; interval_ms = 3600000; };", n);
    lc_write_instance(&t, sim, "models = { thermometer = { product_key = \"" LC_SUB_PK "\"; }; };\n"
                               "subdevice = { register = true; };");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sed -i 's/^log_level = \"debug\"/log_level = \"info\"/' '%s'", t.conf);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: log level left at debug\n");
    int rc = run(&t, n, "cold start");
    if (rc == 0 && lc_gw_stop(&t) == 0) {
        usleep(500000);
        rc = run(&t, n, "warm start");
    }
    lc_teardown(&t);
    return rc ? 1 : 0;
}
