/*
 * bench_tsl: how fast the TSL layer is on its own, single thread:
 *   1. validation of property-post params (10 properties of mixed types);
 *   2. uplink conversion point value → TSL JSON through a conf.d mapping;
 *   3. pack/post batching of values from many sub-devices (queue + take);
 *   4. the number text of the pack/post renderer (gw_tsl_num_fmt_real) beside
 *      the snprintf %.15g/%.17g + strtod it replaced, on grid values (0.01
 *      steps) and on full-precision doubles (a noisy 500 W sensor).
 * Prints values per second and ns per value; run it by hand:
 *   build/rel/bench/tsl/bench_tsl [seconds-per-part, default 1]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tsl_convert.h"
#include "tsl_internal.h"
#include "tsl_map.h"
#include "tsl_uplink.h"
#include "tsl_validate.h"
#include "bench_proc.h"

static void report(const char *what, double values, double secs)
{
    printf("%-44s %12.0f values/s  %8.1f ns/value\n", what, values / secs, secs * 1e9 / values);
}

static void count_bytes(void *ctx, const char *params, size_t len)
{
    (void)params;
    *(size_t *)ctx += len;
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 1.0;
    char err_s[512];
    gw_tsl_models_t *set = gw_tsl_models_new();
    if (gw_tsl_models_load_dir(set, TSL_TEST_DATA "/models", err_s, sizeof err_s) != 0) {
        fprintf(stderr, "%s", err_s);
        return 1;
    }
    const gw_tsl_model_t *m = gw_tsl_models_find(set, "a1ThermoPK");

    /* 1. validation */
    json_t *params = json_loads("{\"Temperature\":{\"value\":23.6,\"time\":1524448722000},\"Humidity\":55.55,"
                                "\"Setpoint\":20,\"Counter\":-7,\"Mode\":5,\"PowerSwitch\":1,\"Label\":\"abc\","
                                "\"LastSeen\":\"1524448722000\",\"Color\":{\"R\":1,\"G\":2,\"B\":3},"
                                "\"Samples\":[1.5,2.5,3.5]}",
                                0, NULL);
    gw_tsl_err_t err;
    double t0 = bench_now_s(), t;
    long n = 0;
    do {
        for (int i = 0; i < 1000; i++)
            if (gw_tsl_check_property_post(m, params, 0, &err) != 0) {
                fprintf(stderr, "unexpected: %s\n", err.msg);
                return 1;
            }
        n += 1000;
    } while ((t = bench_now_s() - t0) < budget);
    report("validate property post (10 props)", (double)n * 10, t);
    json_decref(params);

    /* 2. point → JSON with scale/offset and with a value map */
    config_t cfg;
    config_init(&cfg);
    if (!config_read_file(&cfg, TSL_TEST_DATA "/map/good.conf")) {
        fprintf(stderr, "good.conf: %s\n", config_error_text(&cfg));
        return 1;
    }
    gw_tsl_mapping_t *map = gw_tsl_mapping_parse(config_lookup(&cfg, "models"), set, NULL, NULL, NULL);
    const gw_tsl_model_map_t *mm = gw_tsl_mapping_model(map, "thermometer");
    const gw_tsl_point_map_t *pt = gw_tsl_map_point(mm, "temperature"), *pmode = gw_tsl_map_point(mm, "mode");
    lgw_value_t *raw = lgw_value_new_int(636), *mode = lgw_value_new_text("eco");
    t0 = bench_now_s();
    n = 0;
    do {
        for (int i = 0; i < 1000; i++) {
            json_t *j;
            if (gw_tsl_point_to_json(pt, raw, &j, &err) || (json_decref(j), 0) ||
                gw_tsl_point_to_json(pmode, mode, &j, &err)) {
                fprintf(stderr, "unexpected: %s\n", err.msg);
                return 1;
            }
            json_decref(j);
        }
        n += 2000;
    } while ((t = bench_now_s() - t0) < budget);
    report("point -> TSL JSON (scale; map)", (double)n, t);
    lgw_value_free(raw);
    lgw_value_free(mode);

    /* 3. pack/post: 2,000 devices x 10 properties per round, tree (take + dump) and text (flush) */
    gw_tsl_pack_t *pack = gw_tsl_pack_new();
    static const char *const ids[] = { "P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9" };
    static char dn[2000][16];
    for (int d = 0; d < 2000; d++)
        snprintf(dn[d], sizeof dn[d], "dev-%d", d);
    for (int text = 0; text < 2; text++) {
        t0 = bench_now_s();
        n = 0;
        long msgs = 0;
        size_t bytes = 0;
        do {
            for (int d = 0; d < 2000; d++) {
                gw_tsl_pack_dev_t *dev = gw_tsl_pack_device(pack, "a1ThermoPK", dn[d]);
                for (int k = 0; k < 10; k++)
                    gw_tsl_pack_add_property(dev, ids[k], json_real(20.5 + k), 1524448722000LL);
            }
            if (text) {
                msgs += gw_tsl_pack_flush(pack, count_bytes, &bytes);
            } else {
                json_t *out = gw_tsl_pack_take(pack);
                msgs += (long)json_array_size(out);
                for (size_t i = 0; i < json_array_size(out); i++) {
                    char *s = json_dumps(json_array_get(out, i), JSON_COMPACT | JSON_REAL_PRECISION(15));
                    bytes += strlen(s);
                    free(s);
                }
                json_decref(out);
            }
            n += 20000;
        } while ((t = bench_now_s() - t0) < budget);
        report(text ? "pack/post queue + flush (text)" : "pack/post queue + take + json_dumps", (double)n, t);
        printf("  (%ld messages, %.1f values and %.0f bytes per message)\n", msgs, (double)n / (double)msgs,
               (double)bytes / (double)msgs);
    }
    gw_tsl_pack_free(pack);

    /* 4. number text */
    enum { NV = 4096 };
    static double vals[2][NV];
    uint64_t r = 88172645463325252ULL;
    for (int i = 0; i < NV; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double u = (double)(r >> 11) / 9007199254740992.0;
        vals[0][i] = gw_tsl_num_snap(-40 + 165 * u, 0, 0.01);
        vals[1][i] = 500 + 50 * (2 * u - 1);
    }
    static const char *const kinds[] = { "grid 0.01", "full precision" };
    for (int k = 0; k < 2; k++)
        for (int old = 0; old < 2; old++) {
            char b[40];
            size_t sink = 0;
            t0 = bench_now_s();
            n = 0;
            do {
                for (int i = 0; i < NV; i++) {
                    if (old) {
                        int len = snprintf(b, sizeof b, "%.15g", vals[k][i]);
                        if (strtod(b, NULL) != vals[k][i])
                            len = snprintf(b, sizeof b, "%.17g", vals[k][i]);
                        sink += (size_t)len;
                    } else {
                        sink += gw_tsl_num_fmt_real(vals[k][i], b);
                    }
                }
                n += NV;
            } while ((t = bench_now_s() - t0) < budget / 2);
            char what[64];
            snprintf(what, sizeof what, "number text, %s (%s)", kinds[k], old ? "snprintf+strtod" : "fmt_real");
            report(what, (double)n, t);
            if (sink == 1)
                printf("%zu\n", sink); /* keeps the loop */
        }
    gw_tsl_mapping_free(map);
    config_destroy(&cfg);
    gw_tsl_models_free(set);
    return 0;
}
