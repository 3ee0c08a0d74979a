/*
 * Modbus polling benchmark (issue 7): values per second, CPU time per value
 * and resident memory of the Modbus plugin at 10 and 50 slaves x 100 INT16
 * holding registers polled every 100 ms, every value changing on every read
 * (modbus-sim --every-read-changes), beside a bare libmodbus polling loop
 * against the same simulator in the same run. Prints numbers; asserts
 * nothing. Bounded: `bench_modbus [seconds per phase, default 10]`.
 *
 * The plugin runs in the real core (tests/modbus/mbh.c: loader, loop,
 * workers, cross-thread queue, device hub) with a hub consumer that counts
 * values instead of forwarding them: the cloud path (TSL mapping, MQTT to
 * the broker) is not part of these figures yet.
 */
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mbh.h"
#include "simproc.h"
#include "bench_proc.h"

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* VmRSS of this process in kB. */
static int run_gateway(int slaves, int port, int secs)
{
    size_t cap = 4096 + (size_t)slaves * 80 + 100 * 100;
    char *conf = malloc(cap);
    size_t n = (size_t)snprintf(conf, cap,
                                "settings = {\n transport = \"tcp\"; host = \"127.0.0.1\"; port = %d;\n"
                                " response_timeout_ms = 1000;\n"
                                " models = ( { name = \"m\"; address_base = 0; interval_ms = 100; points = (\n",
                                port);
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(conf + n, cap - n, "%s{ name = \"r%d\"; table = \"holding\"; address = %d; type = \"int16\"; }\n",
                              i ? "," : "", i, i);
    n += (size_t)snprintf(conf + n, cap - n, " ); } );\n devices = (\n");
    for (int u = 1; u <= slaves; u++)
        n += (size_t)snprintf(conf + n, cap - n, "%s{ id = \"d%d\"; model = \"m\"; unit = %d; }\n", u > 1 ? "," : "", u, u);
    snprintf(conf + n, cap - n, " );\n};\n");

    mbh_set_sink(true);
    mbh_plugin_t *p = mbh_load("modbus", "bench");
    if (!p || mbh_create(p, "bench.conf", conf) != LGW_OK || mbh_start(p) != LGW_OK) {
        fprintf(stderr, "bench: cannot start the plugin\n");
        free(conf);
        mbh_unload(p);
        return -1;
    }
    free(conf);
    mbh_run(1000); /* connect, first polls */
    long v0, r0, v1, r1;
    mbh_sink_counts(&v0, &r0);
    double c0 = cpu_s(), t0 = bench_now_s();
    mbh_run(secs * 1000);
    double c1 = cpu_s(), t1 = bench_now_s();
    mbh_sink_counts(&v1, &r1);
    long rss = bench_rss_kb(0);
    mbh_unload(p);
    mbh_set_sink(false);
    double vals = (double)(v1 - v0);
    printf("  gateway  %2d slaves: %9.0f values/s (expected %6d), %6.2f us CPU/value, RSS %ld kB\n", slaves,
           vals / (t1 - t0), slaves * 1000, vals > 0 ? (c1 - c0) * 1e6 / vals : 0.0, rss);
    return 0;
}

/* The bare loop: one connection, every slave read in turn every 100 ms. */
static int run_bare(int slaves, int port, int secs)
{
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    if (!ctx || modbus_connect(ctx) != 0) {
        fprintf(stderr, "bench: bare loop cannot connect\n");
        if (ctx)
            modbus_free(ctx);
        return -1;
    }
    uint16_t regs[100];
    long values = 0, sum = 0;
    double c0 = cpu_s(), t0 = bench_now_s(), next = t0;
    while (bench_now_s() - t0 < secs) {
        for (int u = 1; u <= slaves; u++) {
            modbus_set_slave(ctx, u);
            if (modbus_read_registers(ctx, 0, 100, regs) == 100) {
                for (int i = 0; i < 100; i++)
                    sum += (int16_t)regs[i];
                values += 100;
            }
        }
        next += 0.1;
        double d = next - bench_now_s();
        if (d > 0)
            usleep((useconds_t)(d * 1e6));
    }
    double c1 = cpu_s(), t1 = bench_now_s();
    printf("  bare     %2d slaves: %9.0f values/s (expected %6d), %6.2f us CPU/value (checksum %ld)\n", slaves,
           values / (t1 - t0), slaves * 1000, values ? (c1 - c0) * 1e6 / (double)values : 0.0, sum & 0xff);
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 10;
    if (secs < 1 || secs > 600) {
        fprintf(stderr, "usage: bench_modbus [seconds per phase, 1..600]\n");
        return 2;
    }
    setenv("LINKGW_TEST_PLUGIN_DIR", BENCH_PLUGIN_DIR, 0); /* in-tree defaults */
    setenv("MODBUS_SIM", BENCH_SIM, 0);
    printf("Modbus polling, 100 INT16 holding registers per slave every 100 ms, %d s per phase\n", secs);
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        int slaves = k ? 50 : 10;
        char units[16];
        snprintf(units, sizeof units, "1-%d", slaves);
        simproc_t sim = {0};
        const char *args[] = {"--tcp", "127.0.0.1:0", "--units", units, "--size", "100", "--every-read-changes", NULL};
        if (simproc_start_sim(&sim, args) != 0) {
            fprintf(stderr, "bench: cannot start %s\n", simproc_sim_path());
            return 1;
        }
        rc = run_gateway(slaves, sim.port, secs);
        if (rc == 0)
            rc = run_bare(slaves, sim.port, secs);
        simproc_stop(&sim);
    }
    mbh_shutdown();
    return rc ? 1 : 0;
}
