/*
 * Integration tests of the Modbus plugin: the real plugin .so, loaded by the
 * real core (mbh.c: loader, instance life cycle, loop, workers, device hub),
 * polling tools/modbus-sim over TCP and over a socat pty pair (RTU). Writes,
 * services and removal go through the hub's downlink, as the cloud's would.
 *
 * Covered: every type/order through the wire, declared model types, writes
 * round trip (checked in the simulator with an independent libmodbus
 * client), parameter errors, a service as a sequence of writes, a dead slave
 * beside live ones, a slave that vanishes and returns, RTU, discovery by
 * FC 43/14 and by identification register, and config errors with file:line.
 * Nothing asserts on timing: waits are "until X happens, or fail after 10 s".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mbh.h"
#include "simproc.h"

#define WAIT_MS 30000 /* safety net for what must happen; a passing run never waits it */

typedef struct fixture {
    simproc_t sim, socat;
    mbh_plugin_t *p;
    char dir[64];        /* temp dir: script and control file */
    char script[128], control[128];
    modbus_t *client;    /* independent checker */
} fixture_t;

static const char *SCRIPT =
    "units 1-3\n"
    "holding 0 raw 0xFFFE 0xABCD 0xE979 0x42F6 0xA4F8 0xEB32 0x0064 0x0008 0x4142 0x4344 0x0000 0x0000\n"
    "input 0 raw 0xEFCD 0xAB89 0x6745 0x2301\n"
    "coil 5 const 1\n"
    "discrete 2 const 1\n"
    "input 10 counter 0 1\n";

/* The register map of SCRIPT; %s = bus part, %s = devices. */
#define CONF \
    "settings = {\n" \
    "  %s\n" \
    "  response_timeout_ms = 500; max_failures = 2; probe_min_ms = 100; probe_max_ms = 300;\n" \
    "  reconnect_min_ms = 50; reconnect_max_ms = 200;\n" \
    "  models = ( {\n" \
    "    name = \"meter\"; address_base = 0; interval_ms = 50;\n" \
    "    groups = ( { name = \"slow\"; interval_ms = 200; } );\n" \
    "    points = (\n" \
    "      { name = \"i16\"; table = \"holding\"; address = 0; type = \"int16\"; access = \"rw\"; },\n" \
    "      { name = \"u16\"; table = \"holding\"; address = 1; type = \"uint16\"; },\n" \
    "      { name = \"f32\"; table = \"holding\"; address = 2; type = \"float32\"; order = \"CDAB\"; access = \"rw\"; },\n" \
    "      { name = \"i32\"; table = \"holding\"; address = 4; type = \"int32\"; order = \"BADC\"; },\n" \
    "      { name = \"scaled\"; table = \"holding\"; address = 6; type = \"int16\"; scale = 0.1; offset = -5.0; access = \"rw\"; },\n" \
    "      { name = \"flag\"; table = \"holding\"; address = 7; type = \"bit\"; bit = 3; access = \"rw\"; },\n" \
    "      { name = \"label\"; table = \"holding\"; address = 8; type = \"string\"; length = 4; access = \"rw\"; },\n" \
    "      { name = \"u64\"; table = \"input\"; address = 0; type = \"uint64\"; order = \"DCBA\"; },\n" \
    "      { name = \"relay\"; table = \"coil\"; address = 5; access = \"rw\"; },\n" \
    "      { name = \"door\"; table = \"discrete\"; address = 2; },\n" \
    "      { name = \"count\"; table = \"input\"; address = 10; type = \"uint16\"; group = \"slow\"; }\n" \
    "    );\n" \
    "    services = ( { name = \"reset\"; writes = ( { point = \"i16\"; value = 0; },\n" \
    "                                                { point = \"relay\"; input = \"on\"; } ); } );\n" \
    "  } );\n" \
    "  devices = ( %s );\n" \
    "};\n"

static const char *DEVS3 = "{ id = \"m1\"; model = \"meter\"; unit = 1; }, { id = \"m2\"; model = \"meter\"; unit = 2; },"
                           " { id = \"m3\"; model = \"meter\"; unit = 3; timeout_ms = 100; }";

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/mbtest.XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->script, sizeof f->script, "%s/script", f->dir);
    snprintf(f->control, sizeof f->control, "%s/control", f->dir);
    FILE *s = fopen(f->script, "w");
    fputs(SCRIPT, s);
    fclose(s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (!f)
        return 0;
    mbh_unload(f->p);
    if (f->client) {
        modbus_close(f->client);
        modbus_free(f->client);
    }
    simproc_stop(&f->sim);
    simproc_stop(&f->socat);
    unlink(f->script);
    unlink(f->control);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Starts the TCP simulator for units @p units, loads the plugin with @p devs. */
static void start_tcp(fixture_t *f, const char *units, const char *devs)
{
    const char *args[] = {"--tcp", "127.0.0.1:0", "--units", units, "--script", f->script, "--control", f->control, NULL};
    assert_int_equal(simproc_start_sim(&f->sim, args), 0);
    char bus[128], conf[8192];
    snprintf(bus, sizeof bus, "transport = \"tcp\"; host = \"127.0.0.1\"; port = %d;", f->sim.port);
    snprintf(conf, sizeof conf, CONF, bus, devs);
    f->p = mbh_load("modbus", "mbtest");
    assert_non_null(f->p);
    int rc = mbh_create(f->p, "mbtest.conf", conf);
    for (size_t i = 0; i < f->p->errs.n; i++)
        print_message("%s\n", f->p->errs.msgs[i]);
    assert_int_equal(rc, LGW_OK);
    assert_int_equal(mbh_start(f->p), LGW_OK);
    f->client = modbus_new_tcp("127.0.0.1", f->sim.port);
    assert_int_equal(modbus_connect(f->client), 0);
}

static bool is_online(void *dev) { return mbh_online(dev) == 1; }
static bool went_offline(void *dev) { return mbh_offline_count(dev) > 0; }

typedef struct { const char *dev; long n; } count_wait_t;
static bool reports_reach(void *arg)
{
    count_wait_t *w = arg;
    return mbh_reports(w->dev) >= w->n;
}

static int64_t last_int(const char *dev, const char *pt)
{
    lgw_value_t *v = mbh_last(dev, pt);
    int64_t i = INT64_MIN;
    assert_non_null(v);
    assert_int_equal(lgw_value_get_int(v, &i), LGW_OK);
    lgw_value_free(v);
    return i;
}

static double last_double(const char *dev, const char *pt, lgw_type_t want)
{
    lgw_value_t *v = mbh_last(dev, pt);
    double d = NAN;
    assert_non_null(v);
    assert_int_equal(lgw_value_type(v), want);
    assert_int_equal(lgw_value_get_double(v, &d), LGW_OK);
    lgw_value_free(v);
    return d;
}

static void write_control(fixture_t *f, const char *text)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->control);
    FILE *c = fopen(tmp, "w");
    fputs(text, c);
    fclose(c);
    rename(tmp, f->control); /* atomic: the simulator never sees half a file */
}

static void test_polling_types(void **state)
{
    fixture_t *f = *state;
    start_tcp(f, "1-3", "{ id = \"m1\"; model = \"meter\"; unit = 1; }");
    assert_true(mbh_run_until(is_online, "m1", WAIT_MS));
    count_wait_t w = {"m1", 3};
    assert_true(mbh_run_until(reports_reach, &w, WAIT_MS));
    assert_string_equal(mbh_model("m1"), "meter");
    assert_int_equal(last_int("m1", "i16"), -2);
    assert_int_equal(last_int("m1", "u16"), 0xABCD);
    assert_true(last_double("m1", "f32", LGW_TYPE_FLOAT) == (double)123.456f);
    assert_int_equal(last_int("m1", "i32"), -123456789);
    assert_true(fabs(last_double("m1", "scaled", LGW_TYPE_DOUBLE) - 5.0) < 1e-9);
    assert_int_equal(last_int("m1", "flag"), 1);
    assert_int_equal(last_int("m1", "u64"), 0x0123456789ABCDEFLL);
    assert_int_equal(last_int("m1", "relay"), 1);
    assert_int_equal(last_int("m1", "door"), 1);
    lgw_value_t *v = mbh_last("m1", "label");
    const char *s;
    assert_int_equal(lgw_value_get_text(v, &s, NULL), LGW_OK);
    assert_string_equal(s, "ABCD");
    lgw_value_free(v);
    /* the counter advances with every read of the slow group */
    int64_t c0 = last_int("m1", "count");
    w.n = mbh_reports("m1") + 10;
    assert_true(mbh_run_until(reports_reach, &w, WAIT_MS));
    assert_true(last_int("m1", "count") > c0);
    /* declared model: types after scale/offset, access */
    int acc = 0;
    assert_int_equal(mbh_model_point(f->p, "meter", "scaled", &acc), LGW_TYPE_DOUBLE);
    assert_int_equal(acc, LGW_ACCESS_RW);
    assert_int_equal(mbh_model_point(f->p, "meter", "f32", NULL), LGW_TYPE_FLOAT);
    assert_int_equal(mbh_model_point(f->p, "meter", "i16", NULL), LGW_TYPE_INT);
    assert_int_equal(mbh_model_point(f->p, "meter", "flag", NULL), LGW_TYPE_BOOL);
    assert_int_equal(mbh_model_point(f->p, "meter", "label", NULL), LGW_TYPE_TEXT);
    assert_int_equal(mbh_model_point(f->p, "meter", "u16", &acc), LGW_TYPE_INT);
    assert_int_equal(acc, LGW_ACCESS_READ);
}

static lgw_value_t *one(const char *name, lgw_value_t *v)
{
    lgw_value_t *s = lgw_value_new_struct();
    lgw_value_struct_set(s, name, v);
    return s;
}

static uint16_t sim_reg(fixture_t *f, int unit, int addr)
{
    uint16_t r = 0;
    modbus_set_slave(f->client, unit);
    assert_int_equal(modbus_read_registers(f->client, addr, 1, &r), 1);
    return r;
}

static void test_writes(void **state)
{
    fixture_t *f = *state;
    char msg[256];
    start_tcp(f, "1-3", "{ id = \"m2\"; model = \"meter\"; unit = 2; }");
    assert_true(mbh_run_until(is_online, "m2", WAIT_MS));

    assert_int_equal(mbh_request(f->p, "m2", NULL, one("i16", lgw_value_new_int(1234)), msg, sizeof msg), 200);
    assert_int_equal(sim_reg(f, 2, 0), 1234);
    /* float32 CDAB: -1.5f = 0xBFC00000 → registers 0x0000, 0xBFC0 */
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("f32", lgw_value_new_double(-1.5)), msg, sizeof msg), 200);
    assert_int_equal(sim_reg(f, 2, 2), 0x0000);
    assert_int_equal(sim_reg(f, 2, 3), 0xBFC0);
    /* inverse scale/offset: (7.5 + 5) / 0.1 = 125 */
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("scaled", lgw_value_new_double(7.5)), msg, sizeof msg), 200);
    assert_int_equal(sim_reg(f, 2, 6), 125);
    /* bit 3 of 0x0008 cleared by read-modify-write, the other bits kept */
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("flag", lgw_value_new_bool(false)), msg, sizeof msg), 200);
    assert_int_equal(sim_reg(f, 2, 7), 0x0000);
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("label", lgw_value_new_text("Hi")), msg, sizeof msg), 200);
    assert_int_equal(sim_reg(f, 2, 8), 0x4869);
    assert_int_equal(sim_reg(f, 2, 9), 0x0000);
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("relay", lgw_value_new_bool(false)), msg, sizeof msg), 200);
    uint8_t bit = 1;
    assert_int_equal(modbus_read_bits(f->client, 5, 1, &bit), 1);
    assert_int_equal(bit, 0);

    /* the new values come back through polling */
    count_wait_t w = {"m2", mbh_reports("m2") + 3};
    assert_true(mbh_run_until(reports_reach, &w, WAIT_MS));
    assert_int_equal(last_int("m2", "i16"), 1234);
    assert_true(last_double("m2", "f32", LGW_TYPE_FLOAT) == -1.5);
    assert_true(fabs(last_double("m2", "scaled", LGW_TYPE_DOUBLE) - 7.5) < 1e-9);
    assert_int_equal(last_int("m2", "relay"), 0);

    /* parameter errors are refused before anything is sent */
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("i16", lgw_value_new_int(40000)), msg, sizeof msg), 460);
    assert_non_null(strstr(msg, "out of range"));
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("u16", lgw_value_new_int(1)), msg, sizeof msg), 460);
    assert_non_null(strstr(msg, "read-only"));
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("nope", lgw_value_new_int(1)), msg, sizeof msg), 460);
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("label", lgw_value_new_text("too long!")), msg, sizeof msg), 460);
    assert_int_equal(sim_reg(f, 2, 0), 1234);

    /* a service is a sequence of writes */
    lgw_value_t *in = one("on", lgw_value_new_bool(true));
    assert_int_equal(mbh_request(f->p, "m2", "reset", in, msg, sizeof msg), 200);
    assert_int_equal(sim_reg(f, 2, 0), 0);
    assert_int_equal(modbus_read_bits(f->client, 5, 1, &bit), 1);
    assert_int_equal(bit, 1);
    assert_int_equal(mbh_request(f->p, "m2", "reset", lgw_value_new_struct(), msg, sizeof msg), 460);
}

static void test_dead_slave_beside_live(void **state)
{
    fixture_t *f = *state;
    /* unit 3 is configured but the simulator does not have it: it never answers */
    start_tcp(f, "1-2", DEVS3);
    assert_true(mbh_run_until(is_online, "m1", WAIT_MS));
    assert_true(mbh_run_until(is_online, "m2", WAIT_MS));
    /* (m3 is never online, so the hub, which forwards changes only, shows no
     * offline event for it; going offline is covered by test_vanish_and_return) */
    /* the live ones keep reporting and stay online while m3 times out and is probed */
    count_wait_t w1 = {"m1", mbh_reports("m1") + 20}, w2 = {"m2", mbh_reports("m2") + 20};
    assert_true(mbh_run_until(reports_reach, &w1, WAIT_MS));
    assert_true(mbh_run_until(reports_reach, &w2, WAIT_MS));
    assert_int_equal(mbh_offline_count("m1"), 0);
    assert_int_equal(mbh_offline_count("m2"), 0);
    assert_int_equal(mbh_reports("m3"), 0);
    assert_int_equal(mbh_online("m3"), 0);

    /* removing a device stops its polling; the others carry on */
    assert_int_equal(mbh_remove(f->p, "m2"), 200);
    mbh_run(150); /* let a poll already on the bus finish */
    long m2 = mbh_reports("m2");
    w1.n = mbh_reports("m1") + 10;
    assert_true(mbh_run_until(reports_reach, &w1, WAIT_MS));
    assert_int_equal(mbh_reports("m2"), m2);
    assert_int_equal(mbh_remove(f->p, "m2"), LGW_REPLY_REQUEST_ERROR); /* unknown now */
}

static void test_vanish_and_return(void **state)
{
    fixture_t *f = *state;
    start_tcp(f, "1-3", DEVS3);
    assert_true(mbh_run_until(is_online, "m2", WAIT_MS));
    write_control(f, "dead 2\n");
    assert_true(mbh_run_until(went_offline, "m2", WAIT_MS));
    assert_int_equal(mbh_online("m2"), 0);
    long before = mbh_reports("m2");
    count_wait_t w1 = {"m1", mbh_reports("m1") + 10};
    assert_true(mbh_run_until(reports_reach, &w1, WAIT_MS));
    assert_int_equal(mbh_online("m1"), 1);
    write_control(f, "");
    assert_true(mbh_run_until(is_online, "m2", WAIT_MS));
    count_wait_t w2 = {"m2", before + 3};
    assert_true(mbh_run_until(reports_reach, &w2, WAIT_MS));
    assert_int_equal(mbh_offline_count("m1"), 0);
}

static void test_slow_slave_beside_live(void **state)
{
    fixture_t *f = *state;
    /* m2 answers after 300 ms but waits only 100 ms: its late replies (wrong
     * transaction id) must not be taken for m1's, and m1 — patient enough for
     * the simulator, which is single-threaded — must never go offline */
    start_tcp(f, "1-3",
              "{ id = \"m1\"; model = \"meter\"; unit = 1; timeout_ms = 2000; },"
              " { id = \"m2\"; model = \"meter\"; unit = 2; timeout_ms = 100; }");
    assert_true(mbh_run_until(is_online, "m1", WAIT_MS));
    assert_true(mbh_run_until(is_online, "m2", WAIT_MS));
    write_control(f, "slow 2 300\n");
    assert_true(mbh_run_until(went_offline, "m2", WAIT_MS));
    count_wait_t w = {"m1", mbh_reports("m1") + 20};
    assert_true(mbh_run_until(reports_reach, &w, WAIT_MS));
    assert_int_equal(last_int("m1", "i16"), -2); /* m1's own data, not m2's late reply */
    assert_int_equal(mbh_offline_count("m1"), 0);
    write_control(f, "");
    assert_true(mbh_run_until(is_online, "m2", WAIT_MS));
    assert_int_equal(mbh_offline_count("m1"), 0);
}

static bool sim_restarted_online(void *arg) { return mbh_online(arg) == 1; }

static void test_link_lost_and_reconnect(void **state)
{
    fixture_t *f = *state;
    start_tcp(f, "1-3", "{ id = \"m1\"; model = \"meter\"; unit = 1; }");
    assert_true(mbh_run_until(is_online, "m1", WAIT_MS));
    int port = f->sim.port;
    simproc_stop(&f->sim); /* the whole endpoint goes away */
    assert_true(mbh_run_until(went_offline, "m1", WAIT_MS));
    /* …and comes back on the same port: the plugin reconnects by itself */
    char portarg[32];
    snprintf(portarg, sizeof portarg, "127.0.0.1:%d", port);
    const char *args[] = {"--tcp", portarg, "--units", "1-3", "--script", f->script, NULL};
    if (simproc_start_sim(&f->sim, args) != 0)
        skip(); /* someone else took the port meanwhile */
    assert_true(mbh_run_until(sim_restarted_online, "m1", WAIT_MS));
}

static void test_rtu(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(simproc_start_socat(&f->socat), 0);
    const char *args[] = {"--rtu", f->socat.pty[0], "--baud", "115200", "--units", "1-2", "--script", f->script,
                          "--control", f->control, NULL};
    assert_int_equal(simproc_start_sim(&f->sim, args), 0);
    char bus[256], conf[8192];
    snprintf(bus, sizeof bus, "transport = \"rtu\"; device = \"%s\"; baud = 115200; parity = \"none\";",
             f->socat.pty[1]);
    snprintf(conf, sizeof conf, CONF, bus, DEVS3);
    f->p = mbh_load("modbus", "mbrtu");
    assert_non_null(f->p);
    assert_int_equal(mbh_create(f->p, "mbrtu.conf", conf), LGW_OK);
    assert_int_equal(mbh_start(f->p), LGW_OK);
    assert_true(mbh_run_until(is_online, "m1", WAIT_MS));
    assert_true(mbh_run_until(is_online, "m2", WAIT_MS));
    count_wait_t w = {"m1", mbh_reports("m1") + 20}; /* while absent m3 times out beside them */
    assert_true(mbh_run_until(reports_reach, &w, WAIT_MS));
    assert_int_equal(last_int("m1", "i32"), -123456789);
    assert_int_equal(last_int("m2", "u64"), 0x0123456789ABCDEFLL);
    char msg[256];
    assert_int_equal(mbh_request(f->p, "m2", NULL, one("i16", lgw_value_new_int(-77)), msg, sizeof msg), 200);
    w = (count_wait_t){"m2", mbh_reports("m2") + 3};
    assert_true(mbh_run_until(reports_reach, &w, WAIT_MS));
    assert_int_equal(last_int("m2", "i16"), -77);
    assert_int_equal(mbh_offline_count("m1"), 0);
    assert_int_equal(mbh_online("m3"), 0);
    assert_int_equal(mbh_reports("m3"), 0);
    /* a slave vanishing on the serial line and coming back */
    write_control(f, "dead 2\n");
    assert_true(mbh_run_until(went_offline, "m2", WAIT_MS));
    w = (count_wait_t){"m1", mbh_reports("m1") + 10};
    assert_true(mbh_run_until(reports_reach, &w, WAIT_MS));
    write_control(f, "");
    assert_true(mbh_run_until(is_online, "m2", WAIT_MS));
    assert_int_equal(mbh_offline_count("m1"), 0);
}

static bool four_found(void *arg)
{
    (void)arg;
    return mbh_model("unit1") && mbh_model("unit2") && mbh_model("unit3") && mbh_model("unit4");
}

/* Scans units 1..6 of a simulator where 1-2 answer FC 43/14 and 3-4 only have
 * an identification register, over TCP or (rtu) a socat pty pair. */
static void run_discovery(fixture_t *f, bool rtu)
{
    FILE *s = fopen(f->script, "w");
    fputs("units 1-2\nident ACME M100 2.1\nunits 3-4\nnoident\nholding 100 const 4660\n", s);
    fclose(s);
    char bus[256];
    if (rtu) {
        assert_int_equal(simproc_start_socat(&f->socat), 0);
        const char *args[] = {"--rtu", f->socat.pty[0], "--baud", "38400", "--parity", "E", "--units", "1-4",
                              "--script", f->script, NULL};
        assert_int_equal(simproc_start_sim(&f->sim, args), 0);
        snprintf(bus, sizeof bus, "transport = \"rtu\"; device = \"%s\"; baud = 38400; parity = \"even\";",
                 f->socat.pty[1]);
    } else {
        const char *args[] = {"--tcp", "127.0.0.1:0", "--units", "1-4", "--script", f->script, NULL};
        assert_int_equal(simproc_start_sim(&f->sim, args), 0);
        snprintf(bus, sizeof bus, "transport = \"tcp\"; host = \"127.0.0.1\"; port = %d;", f->sim.port);
    }
    char conf[4096];
    snprintf(conf, sizeof conf,
             "settings = {\n %s response_timeout_ms = 200;\n"
             " models = (\n"
             "  { name = \"acme\"; address_base = 1; ident_vendor = \"ACME\"; ident_product = \"M100\";\n"
             "    points = ( { name = \"v\"; table = \"holding\"; address = 1; type = \"uint16\"; } ); },\n"
             "  { name = \"other\"; address_base = 0; id_value = 4660; interval_ms = 100;\n"
             "    points = ( { name = \"id\"; table = \"holding\"; address = 100; type = \"uint16\"; } ); }\n"
             " );\n"
             " discovery = { first = 1; last = 6; timeout_ms = 100;\n"
             "   id_register = { table = \"holding\"; address = 100; address_base = 0; }; };\n"
             "};\n",
             bus);
    f->p = mbh_load("modbus", "mbdisc");
    assert_non_null(f->p);
    assert_int_equal(mbh_create(f->p, "mbdisc.conf", conf), LGW_OK);
    assert_int_equal(mbh_start(f->p), LGW_OK);
    assert_int_equal(mbh_discovery(f->p, true), LGW_OK);
    assert_true(mbh_run_until(four_found, NULL, WAIT_MS));
    assert_string_equal(mbh_model("unit1"), "acme");
    assert_string_equal(mbh_model("unit2"), "acme");
    assert_string_equal(mbh_model("unit3"), "other");
    assert_string_equal(mbh_model("unit4"), "other");
    assert_string_equal(mbh_firmware("unit1"), "2.1");
    assert_int_equal(mbh_online("unit5"), -1);
    /* found devices are polled */
    assert_true(mbh_run_until(is_online, "unit3", WAIT_MS));
    assert_int_equal(last_int("unit3", "id"), 4660);
}

static void test_discovery(void **state) { run_discovery(*state, false); }
static void test_discovery_rtu(void **state) { run_discovery(*state, true); }

/* ---- config errors: file:line ------------------------------------------------ */

typedef struct bad_conf {
    const char *text;
    const char *expect; /* substring of one error, including "file:line:" */
} bad_conf_t;

static const bad_conf_t BAD[] = {
    {"settings = {\n transport = \"tcp\";\n host = \"h\";\n bogus = 1;\n};\n", "bad.conf:4:"},
    {"settings = {\n transport = \"udp\";\n};\n", "bad.conf:2:"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( {\n  name = \"m\";\n"
     "  points = ( { name = \"a\"; table = \"holding\"; address = 0; type = \"int16\"; } ); } );\n};\n",
     "bad.conf:3: missing required setting 'address_base'"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 0;\n"
     "  points = (\n   { name = \"a\"; table = \"holding\"; address = 0;\n     type = \"bool\"; } ); } );\n};\n",
     "bad.conf:6: type 'bool' is for coils"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 1;\n"
     "  points = (\n   { name = \"a\"; table = \"holding\"; type = \"int16\";\n     address = 0; } ); } );\n};\n",
     "bad.conf:6:"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 0;\n"
     "  points = (\n   { name = \"a\"; table = \"input\"; address = 65535; type = \"float32\"; } ); } );\n};\n",
     "bad.conf:5: point of 2 registers"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 0;\n"
     "  points = (\n   { name = \"a\"; table = \"input\"; address = 1; type = \"int16\"; },\n"
     "   { name = \"a\"; table = \"input\"; address = 2; type = \"int16\"; } ); } );\n};\n",
     "bad.conf:6: duplicate point 'a'"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 0;\n"
     "  points = (\n   { name = \"a\"; table = \"input\"; address = 1; type = \"int16\"; access = \"rw\"; } ); } );\n};\n",
     "bad.conf:5: input points are read-only"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 0;\n"
     "  points = (\n   { name = \"a\"; table = \"holding\"; address = 1; type = \"string\"; length = 2;\n"
     "     scale = 2.0; } ); } );\n};\n",
     "bad.conf:6: scale/offset do not apply"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 0;\n"
     "  points = (\n   { name = \"a\"; table = \"holding\"; address = 1; type = \"string\"; access = \"rw\";\n"
     "     length = 124; } ); } );\n};\n",
     "bad.conf:6: a writable string has at most 123 registers"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n devices = (\n { id = \"d\"; model = \"nope\"; unit = 1; } );\n};\n",
     "bad.conf:4: unknown model 'nope'"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n baud = 9600;\n};\n", "bad.conf:3: 'baud' only applies"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 0;\n"
     "  points = ( { name = \"a\"; table = \"coil\"; address = 1; } ); } );\n"
     " devices = ( { id = \"d\"; model = \"m\";\n   unit = 250; } );\n};\n",
     "bad.conf:6: unit must be 0..247 or 255"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n discovery = { first = 0; };\n};\n", "bad.conf:3:"},
    {"settings = {\n transport = \"rtu\";\n device = \"/dev/null\";\n parity = \"mark\";\n};\n", "bad.conf:4:"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 0;\n"
     "  points = ( { name = \"a\"; table = \"coil\"; address = 1; access = \"rw\"; } );\n"
     "  services = ( { name = \"s\"; writes = ( { point = \"a\"; } ); } ); } );\n};\n",
     "bad.conf:5: a write step needs exactly one of"},
    {"settings = {\n transport = \"tcp\"; host = \"h\";\n models = ( { name = \"m\"; address_base = 0;\n"
     "  points = ( { name = \"a\"; table = \"holding\"; address = 1; type = \"int16\"; group = \"fast\"; } ); } );\n};\n",
     "bad.conf:4: unknown polling group 'fast'"},
};

static void test_config_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        mbh_plugin_t *p = mbh_load("modbus", "bad");
        assert_non_null(p);
        int rc = mbh_create(p, "bad.conf", BAD[i].text);
        bool found = false;
        for (size_t k = 0; k < p->errs.n; k++)
            found |= strstr(p->errs.msgs[k], BAD[i].expect) != NULL;
        if (!found || rc == LGW_OK) {
            print_message("case %zu: expected '%s', rc %d, got:\n", i, BAD[i].expect, rc);
            for (size_t k = 0; k < p->errs.n; k++)
                print_message("  %s\n", p->errs.msgs[k]);
        }
        assert_int_not_equal(rc, LGW_OK);
        assert_true(found);
        mbh_unload(p);
    }
    /* and a good one passes */
    mbh_plugin_t *p = mbh_load("modbus", "good");
    char conf[8192];
    snprintf(conf, sizeof conf, CONF, "transport = \"tcp\"; host = \"127.0.0.1\";", DEVS3);
    assert_int_equal(mbh_create(p, "good.conf", conf), LGW_OK);
    assert_int_equal(p->errs.n, 0);
    mbh_unload(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_polling_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_slave_beside_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vanish_and_return, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_slave_beside_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_lost_and_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rtu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery_rtu, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mbh_shutdown();
    return rc;
}
