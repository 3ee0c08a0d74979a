/*
 * The `data` core module: joins the data layer (data.h) to the daemon. It
 * starts after the gateway module and attaches to the gateway it created
 * (no gateway = no `cloud` section = nothing to do), and it owns the
 * optional main-file group
 *
 *   data = {
 *     flush_ms = 50;             # batching window of the uplink (1..1000)
 *     flush_values = 4000;       # flush early once this many values wait (1..1000000)
 *     ack_timeout_ms = 10000;    # post without reply → values go back to the hold (100..600000)
 *     max_inflight = 256;        # posts waiting for a reply; beyond, values wait then go to the journal (1..100000)
 *     rrpc_timeout_ms = 7500;    # sync services answered by then (100..7900)
 *     invalid_log_s = 60;        # an invalid point is logged at most this often per device (1..86400)
 *     journal = true;            # store-and-forward in the state database
 *     journal_max_mib = 16;      # journal budget, drop-oldest beyond it (1..65536)
 *     drain_rate = 1000;         # journal entries per second through history/post (1..100000)
 *     stats_interval_s = 0;      # log the counters every N s (0: only at shutdown)
 *     wal = true;                # write-ahead log of accepted values (with the journal only)
 *     wal_max_mib = 32;          # its disk budget (1..4096)
 *     wal_sync = false;          # msync it every tick: power-loss safe, but blocks the loop
 *   };
 */
#include <string.h>

#include "data_internal.h"
#include "gateway.h"
#include "module.h"

static gw_data_options_t g_opts;
static gw_data_t *g_data;

static int data_section(const lgw_config_t *s, void *unused)
{
    (void)unused;
    gw_data_options_init(&g_opts);
    if (!s)
        return 0;
    static const char *const keys[] = {"flush_ms", "flush_values", "ack_timeout_ms", "max_inflight", "rrpc_timeout_ms",
                                       "invalid_log_s", "journal", "journal_max_mib", "drain_rate",
                                       "stats_interval_s", "wal", "wal_max_mib", "wal_sync", NULL};
    lgw_config_check_keys(s, keys);
    int64_t v;
    if (lgw_config_get_int_range(s, "flush_ms", &v, 1, 1000) == LGW_OK)
        g_opts.flush_ms = (unsigned)v;
    if (lgw_config_get_int_range(s, "flush_values", &v, 1, 1000000) == LGW_OK)
        g_opts.flush_values = (unsigned)v;
    if (lgw_config_get_int_range(s, "ack_timeout_ms", &v, 100, 600000) == LGW_OK)
        g_opts.ack_timeout_ms = (unsigned)v;
    if (lgw_config_get_int_range(s, "max_inflight", &v, 1, 100000) == LGW_OK)
        g_opts.max_inflight = (unsigned)v;
    if (lgw_config_get_int_range(s, "rrpc_timeout_ms", &v, 100, 7900) == LGW_OK)
        g_opts.rrpc_timeout_ms = (unsigned)v;
    if (lgw_config_get_int_range(s, "invalid_log_s", &v, 1, 86400) == LGW_OK)
        g_opts.invalid_log_s = (unsigned)v;
    if (lgw_config_get_int_range(s, "journal_max_mib", &v, 1, 65536) == LGW_OK)
        g_opts.journal_max_bytes = (uint64_t)v << 20;
    if (lgw_config_get_int_range(s, "drain_rate", &v, 1, 100000) == LGW_OK)
        g_opts.drain_rate = (unsigned)v;
    if (lgw_config_get_int_range(s, "stats_interval_s", &v, 0, 86400) == LGW_OK)
        g_opts.stats_interval_s = (unsigned)v;
    if (lgw_config_get_int_range(s, "wal_max_mib", &v, 1, 4096) == LGW_OK)
        g_opts.wal_max_bytes = (uint64_t)v << 20;
    lgw_config_get_bool(s, "journal", &g_opts.journal);
    lgw_config_get_bool(s, "wal", &g_opts.wal);
    lgw_config_get_bool(s, "wal_sync", &g_opts.wal_sync);
    return 0;
}

static int data_init(void)
{
    gw_data_options_init(&g_opts);
    return gw_conf_register_section("data", data_section, NULL);
}

static const gw_tsl_model_map_t *map_lookup(void *data, const char *instance, const char *model)
{
    return gw_gateway_model_map(data, instance, model);
}

static int data_start(gw_host_t *host, const gw_main_conf_t *mc)
{
    (void)host;
    (void)mc;
    gw_gateway_t *gw = gw_gateway_current();
    if (!gw)
        return LGW_OK;
    gw_data_deps_t deps = {
        .loop = gw_gateway_loop(gw),
        .hub = gw_gateway_hub(gw),
        .cloud = gw_gateway_cloud(gw),
        .subdev = gw_gateway_subdev(gw),
        .store = gw_gateway_store(gw),
        .map = map_lookup,
        .map_data = gw,
    };
    g_data = gw_data_new(&deps, &g_opts);
    return g_data ? LGW_OK : LGW_ENOMEM;
}

static void data_stop(gw_host_t *host, void (*done)(void *arg), void *arg)
{
    (void)host;
    gw_data_t *d = g_data;
    g_data = NULL;
    gw_data_close(d, done, arg);
}

GW_MODULE(data, GW_GATEWAY_MODULE_PRIORITY + 10, data_init, data_start, data_stop)
