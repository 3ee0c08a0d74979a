/*
 * Report throughput of the core: plugin-owned threads commit property
 * reports (10 int/double values each) to one instance; the loop drains them
 * through the hub to a counting consumer. Prints values per second.
 * Usage: bench_core_reports [threads] [reports per thread]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cfgdoc.h"
#include "host.h"
#include "hub.h"
#include "instance.h"
#include "report.h"

static long g_values;
static _Atomic long g_refused;

static void count(void *d, const gw_hub_device_t *dev, const lgw_report_t *r)
{
    (void)d;
    (void)dev;
    g_values += (long)gw_report_count(r);
}

static const gw_hub_consumer_t counter = {.properties = count};

typedef struct job {
    lgw_instance_t *inst;
    long reports;
} job_t;

static void *produce(void *arg)
{
    job_t *j = arg;
    static const char *const names[10] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    for (long k = 0; k < j->reports; k++) {
        lgw_report_t *r = lgw_report_new(j->inst, "dev0");
        for (int v = 0; v < 10; v++) {
            if (v & 1)
                lgw_report_add_double(r, names[v], (double)k * 0.5);
            else
                lgw_report_add_int(r, names[v], k);
        }
        if (lgw_report_commit(r) == LGW_EBUSY)
            g_refused++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    long per = argc > 2 ? atol(argv[2]) : 100000;
    if (threads < 1 || threads > 64 || per < 1)
        return 2;
    uv_loop_t loop;
    gw_host_t host;
    uv_loop_init(&loop);
    gw_host_init(&host, &loop);
    gw_hub_set_consumer(host.hub, &counter, NULL);
    gw_errors_t errs = {0};
    gw_cfgdoc_t doc;
    gw_cfgdoc_load_string(&doc, "bench.conf", "settings = { devices = 1; };", &errs);
    lgw_instance_t *inst = gw_instance_load(&host, "bench", TEST_GOOD_PLUGIN, &errs, "bench.conf", 1);
    if (!inst || gw_instance_create(inst, &doc, lgw_config_child(gw_cfgdoc_root(&doc), "settings")) != LGW_OK ||
        gw_instance_start(inst) != LGW_OK) {
        gw_errors_print(&errs, stderr);
        return 1;
    }
    gw_cfgdoc_free(&doc);
    uv_run(&loop, UV_RUN_NOWAIT); /* device added */
    pthread_t th[64];
    job_t job = {inst, per};
    uint64_t t0 = lgw_monotonic_ms();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, produce, &job);
    while (g_values + g_refused * 10 < threads * per * 10)
        uv_run(&loop, UV_RUN_ONCE);
    uint64_t ms = lgw_monotonic_ms() - t0;
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    printf("%ld values in %ld reports from %d thread(s): %llu ms, %.0f values/s (%ld reports refused: "
           "queue full)\n", g_values, g_values / 10, threads, (unsigned long long)ms,
           ms ? g_values * 1000.0 / (double)ms : 0.0, (long)g_refused);
    gw_instance_stop(inst, NULL, NULL);
    gw_host_close(&host);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    gw_errors_free(&errs);
    return 0;
}
