/*
 * The KNX plugin against a real knxd on its dummy bus, loaded by the real host
 * (core: loader, timers, watches, workers, hub).
 *
 * Each test starts its own knxd on a private unix socket (and, for the ip:
 * URL test, a free loopback TCP port), loads plugins-out/knx.so as instance
 * "knx", and records what the plugin reports through a hub consumer. A
 * libeibclient group-socket client plays the rest of the bus: it records
 * every telegram the plugin sends and answers read requests for the
 * addresses a test configures, like a KNX actuator would. knxtool sends the
 * telegrams the plugin must receive.
 *
 * Everything observable is logged as one line per event, e.g.
 *   "add light-1 dimmer", "online light-1 1", "value light-1 power true",
 *   "bus write 1/1/1 0081", "bus read 1/1/2 0000", "done 200"
 * and the tests wait (bounded, without fixed sleeps) for lines to appear.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cfgdoc.h"
#include "host.h"
#include "hub.h"
#include "instance.h"
#include "report.h"
#include "knx_addr.h"
#include "knxd_harness.h"

/* Upper bound of every wait for a line that must appear: a safety net only (a passing
 * run never waits for it), generous for a loaded 2-core CI machine. */
#define WAIT_MS 30000

typedef struct responder {
    uint16_t ga;
    uint8_t apdu[16];
    size_t len;
    bool on;
} responder_t;

typedef struct h {
    knxd_t knxd;
    uv_loop_t loop;
    uv_timer_t tick;
    gw_host_t host;
    gw_errors_t errs;
    gw_cfgdoc_t doc;
    bool doc_loaded;
    lgw_instance_t *inst;
    bool stopped;
    knx_client_t *bus;
    responder_t resp[8];
    size_t n_resp;
    char **lines;
    size_t n_lines;
} h_t;

/* ---- event log ---------------------------------------------------------------- */

static void logline(h_t *h, const char *fmt, ...) LGW_PRINTF(2, 3);
static void logline(h_t *h, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    h->lines = realloc(h->lines, (h->n_lines + 1) * sizeof *h->lines);
    h->lines[h->n_lines++] = strdup(buf);
}

static bool has_line(h_t *h, size_t from, const char *line)
{
    for (size_t i = from; i < h->n_lines; i++)
        if (strcmp(h->lines[i], line) == 0)
            return true;
    return false;
}

static bool has_prefix(h_t *h, size_t from, const char *prefix)
{
    for (size_t i = from; i < h->n_lines; i++)
        if (strncmp(h->lines[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

static void dump(h_t *h)
{
    for (size_t i = 0; i < h->n_lines; i++)
        print_message("  [%zu] %s\n", i, h->lines[i]);
}

/* ---- hub consumer --------------------------------------------------------------- */

static void c_added(void *data, const gw_hub_device_t *dev)
{
    logline(data, "add %s %s", dev->device_id, dev->model);
}

static void c_online(void *data, const gw_hub_device_t *dev, bool online)
{
    logline(data, "online %s %d", dev->device_id, online ? 1 : 0);
}

static void c_properties(void *data, const gw_hub_device_t *dev, const lgw_report_t *r)
{
    for (size_t i = 0; i < gw_report_count(r); i++) {
        const char *name;
        const lgw_value_t *v = gw_report_at(r, i, &name);
        char json[256];
        lgw_value_to_string(v, json, sizeof json);
        logline(data, "value %s %s %s", dev->device_id, name, json);
    }
}

static const gw_hub_consumer_t consumer = {
    .device_added = c_added,
    .device_online = c_online,
    .properties = c_properties,
};

static void on_done(void *data, int code, const char *message, const lgw_value_t *output)
{
    char json[256] = "";
    if (output && lgw_value_count(output) > 0)
        lgw_value_to_string(output, json, sizeof json);
    logline(data, "done %d%s%s%s%s", code, message ? " " : "", message ? message : "", json[0] ? " " : "", json);
}

/* ---- the bus side ------------------------------------------------------------------ */

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = '\0';
}

/* Drains telegrams seen by the test client, logs them and answers reads. */
static void pump_bus(h_t *h)
{
    uint16_t src, dst;
    uint8_t apdu[64];
    size_t len;
    while (h->bus && knx_client_recv(h->bus, 0, &src, &dst, apdu, &len)) {
        char ga[KNX_ADDR_STR], x[130];
        int apci = len >= 2 ? ((apdu[0] & 3) << 2) | (apdu[1] >> 6) : -1;
        knx_ga_format(dst, ga, sizeof ga);
        hex(apdu, len, x);
        logline(h, "bus %s %s %s", apci == 0 ? "read" : apci == 1 ? "response" : apci == 2 ? "write" : "other", ga,
                x);
        for (size_t i = 0; apci == 0 && i < h->n_resp; i++)
            if (h->resp[i].on && h->resp[i].ga == dst)
                knx_client_send(h->bus, dst, h->resp[i].apdu, h->resp[i].len);
    }
}

static void respond(h_t *h, const char *ga, const uint8_t *apdu, size_t len)
{
    responder_t *r = &h->resp[h->n_resp++];
    assert_true(knx_ga_parse(ga, &r->ga));
    memcpy(r->apdu, apdu, len);
    r->len = len;
    r->on = true;
}

static void tick_cb(uv_timer_t *t) { (void)t; }

/* Runs the loop (and the bus pump) once, for at most ~10 ms. */
static void run_once(h_t *h)
{
    uv_timer_start(&h->tick, tick_cb, 10, 0);
    uv_run(&h->loop, UV_RUN_ONCE);
    pump_bus(h);
}

/* Runs until @p line appeared at or after index @p from; false after WAIT_MS. */
static bool wait_line(h_t *h, size_t from, const char *line)
{
    uint64_t deadline = uv_hrtime() / 1000000 + WAIT_MS;
    while (!has_line(h, from, line)) {
        if (uv_hrtime() / 1000000 > deadline) {
            print_message("timed out waiting for '%s'; log:\n", line);
            dump(h);
            return false;
        }
        run_once(h);
    }
    return true;
}

static bool wait_prefix(h_t *h, size_t from, const char *prefix)
{
    uint64_t deadline = uv_hrtime() / 1000000 + WAIT_MS;
    while (!has_prefix(h, from, prefix)) {
        if (uv_hrtime() / 1000000 > deadline) {
            print_message("timed out waiting for '%s…'; log:\n", prefix);
            dump(h);
            return false;
        }
        run_once(h);
    }
    return true;
}

/* ---- fixture ---------------------------------------------------------------------------- */

static const char *const DEVICES =
    "  devices = (\n"
    "    { id = \"light-1\"; model = \"dimmer\";\n"
    "      points = (\n"
    "        { name = \"power\"; dpt = \"1.001\"; write = \"1/1/1\"; state = \"1/1/2\"; },\n"
    "        { name = \"level\"; dpt = \"5.001\"; write = \"1/1/3\"; state = \"1/1/4\"; read_on_start = false; },\n"
    "        { name = \"scene\"; dpt = \"17.001\"; write = \"1/1/5\"; access = \"w\"; }\n"
    "      ); },\n"
    "    { id = \"sensor-1\"; model = \"sensor\";\n"
    "      points = (\n"
    "        { name = \"temp\"; dpt = \"9.001\"; state = \"3/0/1\"; listen = [ \"3/1/1\" ]; poll_ms = 200; },\n"
    "        { name = \"label\"; dpt = \"16.001\"; listen = \"3/0/2\"; },\n"
    "        { name = \"color\"; dpt = \"232.600\"; write = \"3/0/3\"; }\n"
    "      ); }\n"
    "  );\n";

static int setup_common(void **state, bool tcp)
{
    h_t *h = calloc(1, sizeof *h);
    *state = h;
    if (!knxd_start(&h->knxd, tcp))
        return -1;
    h->bus = knx_client_open(h->knxd.url);
    if (!h->bus)
        return -1;
    uv_loop_init(&h->loop);
    uv_timer_init(&h->loop, &h->tick);
    if (gw_host_init(&h->host, &h->loop) != LGW_OK)
        return -1;
    gw_hub_set_consumer(h->host.hub, &consumer, h);
    return 0;
}

static int setup(void **state) { return setup_common(state, false); }
static int setup_tcp(void **state) { return setup_common(state, true); }

/* Loads and starts instance "knx" with @p url and extra top-level settings. */
static void start_plugin(h_t *h, const char *url, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text,
             "settings = {\n  url = \"%s\";\n  reconnect_min_ms = 50;\n  reconnect_max_ms = 400;\n"
             "  read_timeout_ms = 1000;\n  read_rate = 200;\n%s%s};\n",
             url, extra ? extra : "", DEVICES);
    assert_int_equal(gw_cfgdoc_load_string(&h->doc, "knx.conf", text, &h->errs), LGW_OK);
    h->doc_loaded = true;
    char path[512];
    const char *dir = getenv("LINKGW_TEST_PLUGIN_DIR");
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/knx.so", dir);
    h->inst = gw_instance_load(&h->host, "knx", path, &h->errs, "knx.conf", 1);
    if (!h->inst) {
        for (size_t i = 0; i < h->errs.n; i++)
            print_error("%s\n", h->errs.msgs[i]);
        fail_msg("cannot load %s", path);
    }
    const lgw_config_t *settings = lgw_config_child(gw_cfgdoc_root(&h->doc), "settings");
    if (gw_instance_create(h->inst, &h->doc, settings) != LGW_OK) {
        for (size_t i = 0; i < h->errs.n; i++)
            print_error("%s\n", h->errs.msgs[i]);
        fail_msg("create failed");
    }
    assert_int_equal(gw_instance_start(h->inst), LGW_OK);
}

static void on_stopped(lgw_instance_t *inst, void *data)
{
    (void)inst;
    ((h_t *)data)->stopped = true;
}

static int teardown(void **state)
{
    h_t *h = *state;
    if (h->inst) {
        gw_instance_stop(h->inst, on_stopped, h);
        for (int i = 0; i < 500 && !h->stopped; i++)
            run_once(h);
        h->inst = NULL;
    }
    if (h->host.hub) {
        gw_host_close(&h->host);
        uv_close((uv_handle_t *)&h->tick, NULL);
        uv_run(&h->loop, UV_RUN_DEFAULT);
        uv_loop_close(&h->loop);
    }
    if (h->doc_loaded)
        gw_cfgdoc_free(&h->doc);
    gw_errors_free(&h->errs);
    knx_client_close(h->bus);
    knxd_cleanup(&h->knxd);
    for (size_t i = 0; i < h->n_lines; i++)
        free(h->lines[i]);
    free(h->lines);
    free(h);
    return 0;
}

/* ---- tests -------------------------------------------------------------------------------- */

/* knxtool writes on the bus → point values of the right type, device online. */
static void test_rx(void **state)
{
    h_t *h = *state;
    start_plugin(h, h->knxd.url, NULL);
    assert_true(wait_line(h, 0, "add light-1 dimmer"));
    assert_true(wait_line(h, 0, "add sensor-1 sensor"));
    assert_true(wait_line(h, 0, "bus read 1/1/2 0000")); /* connected: reads on start went out */

    size_t mark = h->n_lines;
    assert_int_equal(knxtool("groupswrite", h->knxd.url, "1/1/2", "1", NULL), 0);
    assert_true(wait_line(h, mark, "value light-1 power true"));
    assert_true(wait_line(h, mark, "online light-1 1"));
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "1/1/4", "80", NULL), 0);
    assert_true(wait_line(h, mark, "value light-1 level 50.2"));
    /* a listen address, 9.001 */
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "3/1/1", "0c", "1a", NULL), 0);
    assert_true(wait_line(h, mark, "value sensor-1 temp 21"));
    assert_true(wait_line(h, mark, "online sensor-1 1"));
    /* 0x7FFF is "invalid data": not reported; the next valid value is */
    mark = h->n_lines;
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "3/0/1", "7f", "ff", NULL), 0);
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "3/0/1", "8a", "24", NULL), 0);
    assert_true(wait_line(h, mark, "value sensor-1 temp -30"));
    assert_false(has_prefix(h, mark, "value sensor-1 temp 6"));
    /* 16.001 text in ISO 8859-1 arrives as UTF-8; 232.600 as a struct */
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "3/0/2", "4b", "fc", "63", "68", "65", NULL), 0);
    assert_true(wait_line(h, mark, "value sensor-1 label \"K\xC3\xBC" "che\""));
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "3/0/3", "ff", "80", "00", NULL), 0);
    assert_true(wait_line(h, mark, "value sensor-1 color {\"Red\":255,\"Green\":128,\"Blue\":0}"));
}

/* Reads go out on connect to the state addresses of read_on_start points; answers become values. */
static void test_read_on_start(void **state)
{
    h_t *h = *state;
    respond(h, "1/1/2", (const uint8_t[]){ 0x00, 0x41 }, 2);
    start_plugin(h, h->knxd.url, NULL);
    assert_true(wait_line(h, 0, "bus read 1/1/2 0000"));
    assert_true(wait_line(h, 0, "bus read 3/0/1 0000"));
    assert_true(wait_line(h, 0, "value light-1 power true"));
    assert_true(wait_line(h, 0, "online light-1 1"));
    /* level has read_on_start = false and no polling; temp is polled every 200 ms */
    size_t mark = h->n_lines;
    assert_true(wait_line(h, mark, "bus read 3/0/1 0000"));
    assert_false(has_line(h, 0, "bus read 1/1/4 0000"));
}

/* Property writes become GroupValue_Write telegrams with the encoded DPT. */
static void test_tx(void **state)
{
    h_t *h = *state;
    start_plugin(h, h->knxd.url, NULL);
    assert_true(wait_line(h, 0, "bus read 1/1/2 0000"));

    size_t mark = h->n_lines;
    lgw_value_t *v = lgw_value_new_struct();
    lgw_value_struct_set(v, "power", lgw_value_new_bool(true));
    lgw_value_struct_set(v, "level", lgw_value_new_double(100.0));
    lgw_value_struct_set(v, "scene", lgw_value_new_int(5));
    gw_hub_write(h->host.hub, "knx", "light-1", v, on_done, h);
    lgw_value_free(v);
    assert_true(wait_line(h, mark, "done 200"));
    assert_true(wait_line(h, mark, "bus write 1/1/1 0081"));
    assert_true(wait_line(h, mark, "bus write 1/1/3 0080ff"));
    assert_true(wait_line(h, mark, "bus write 1/1/5 008005"));
    /* power and level have state addresses: no optimistic report */
    assert_false(has_prefix(h, mark, "value light-1"));

    /* 232.600 from a struct; no state address, so the written value is reported */
    mark = h->n_lines;
    v = lgw_value_new_struct();
    lgw_value_t *rgb = lgw_value_new_struct();
    lgw_value_struct_set(rgb, "Red", lgw_value_new_int(1));
    lgw_value_struct_set(rgb, "Green", lgw_value_new_int(2));
    lgw_value_struct_set(rgb, "Blue", lgw_value_new_int(3));
    lgw_value_struct_set(v, "color", rgb);
    gw_hub_write(h->host.hub, "knx", "sensor-1", v, on_done, h);
    lgw_value_free(v);
    assert_true(wait_line(h, mark, "done 200"));
    assert_true(wait_line(h, mark, "bus write 3/0/3 0080010203"));
    assert_true(wait_line(h, mark, "value sensor-1 color {\"Red\":1,\"Green\":2,\"Blue\":3}"));

    /* bad values fail the whole request before anything is sent */
    mark = h->n_lines;
    v = lgw_value_new_struct();
    lgw_value_struct_set(v, "power", lgw_value_new_bool(false));
    lgw_value_struct_set(v, "level", lgw_value_new_double(101.0));
    gw_hub_write(h->host.hub, "knx", "light-1", v, on_done, h);
    lgw_value_free(v);
    assert_true(wait_line(h, mark,
                          "done 460 point 'level' (DPT 5.001): value out of range for the datapoint type"));
    v = lgw_value_new_struct();
    lgw_value_struct_set(v, "temp", lgw_value_new_double(20.0));
    gw_hub_write(h->host.hub, "knx", "sensor-1", v, on_done, h);
    lgw_value_free(v);
    assert_true(wait_line(h, mark, "done 460 point 'temp' is read-only"));
    v = lgw_value_new_struct();
    lgw_value_struct_set(v, "nope", lgw_value_new_int(1));
    gw_hub_write(h->host.hub, "knx", "light-1", v, on_done, h);
    lgw_value_free(v);
    assert_true(wait_line(h, mark, "done 460 device light-1 has no point 'nope'"));
    /* a round trip through the bus proves nothing else went out meanwhile */
    assert_int_equal(knxtool("groupswrite", h->knxd.url, "1/1/2", "0", NULL), 0);
    assert_true(wait_line(h, mark, "value light-1 power false"));
    assert_false(has_prefix(h, mark, "bus write 1/1/1 "));
    assert_false(has_prefix(h, mark, "bus write 1/1/3 "));
    assert_false(has_prefix(h, mark, "bus write 3/0/"));
}

/* Property reads become GroupValue_Read; the answers complete the request. */
static void test_read(void **state)
{
    h_t *h = *state;
    respond(h, "1/1/2", (const uint8_t[]){ 0x00, 0x41 }, 2);
    respond(h, "3/0/1", (const uint8_t[]){ 0x00, 0x40, 0x0c, 0x1a }, 4);
    start_plugin(h, h->knxd.url, NULL);
    assert_true(wait_line(h, 0, "online light-1 1"));

    size_t mark = h->n_lines;
    lgw_value_t *names = lgw_value_new_array();
    lgw_value_array_append(names, lgw_value_new_text("power"));
    gw_hub_read(h->host.hub, "knx", "light-1", names, on_done, h);
    lgw_value_free(names);
    assert_true(wait_line(h, mark, "bus read 1/1/2 0000"));
    assert_true(wait_line(h, mark, "done 200 {\"power\":true}"));

    mark = h->n_lines;
    names = lgw_value_new_array();
    lgw_value_array_append(names, lgw_value_new_text("temp"));
    lgw_value_array_append(names, lgw_value_new_text("color"));
    gw_hub_read(h->host.hub, "knx", "sensor-1", names, on_done, h);
    lgw_value_free(names);
    /* temp answers, color (3/0/3) does not: the request fails after read_timeout_ms
     * (the host passes on what was read) */
    assert_true(wait_line(h, mark, "bus read 3/0/3 0000"));
    assert_true(wait_line(h, mark, "done 100003 no answer from the bus for point 'color' within 1000 ms {\"temp\":21}"));

    mark = h->n_lines;
    names = lgw_value_new_array();
    lgw_value_array_append(names, lgw_value_new_text("scene"));
    gw_hub_read(h->host.hub, "knx", "light-1", names, on_done, h);
    lgw_value_free(names);
    assert_true(wait_line(h, mark, "done 460 point 'scene' cannot be read from the bus (no read access or no state "
                                   "or write address)"));
}

/* No answer to reads within read_timeout_ms → offline; the next telegram → online. */
static void test_offline(void **state)
{
    h_t *h = *state;
    respond(h, "3/0/1", (const uint8_t[]){ 0x00, 0x40, 0x0c, 0x1a }, 4);
    start_plugin(h, h->knxd.url, NULL);
    assert_true(wait_line(h, 0, "value sensor-1 temp 21"));
    assert_true(wait_line(h, 0, "online sensor-1 1"));
    h->resp[0].on = false; /* the sensor stops answering its polls */
    size_t mark = h->n_lines;
    assert_true(wait_line(h, mark, "online sensor-1 0"));
    mark = h->n_lines;
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "3/1/1", "0c", "65", NULL), 0);
    assert_true(wait_line(h, mark, "value sensor-1 temp 22.5"));
    assert_true(wait_line(h, mark, "online sensor-1 1"));
}

/* knxd goes away and comes back: devices offline meanwhile, reconnect, reads again, rx works. */
static void test_reconnect(void **state)
{
    h_t *h = *state;
    respond(h, "1/1/2", (const uint8_t[]){ 0x00, 0x41 }, 2);
    start_plugin(h, h->knxd.url, NULL);
    assert_true(wait_line(h, 0, "online light-1 1"));

    size_t mark = h->n_lines;
    knx_client_close(h->bus);
    h->bus = NULL;
    knxd_stop(&h->knxd);
    assert_true(wait_line(h, mark, "online light-1 0"));
    /* let the plugin fail a few connection attempts (backoff 50 → 400 ms) */
    for (int i = 0; i < 30; i++)
        run_once(h);

    assert_true(knxd_start(&h->knxd, false));
    h->bus = knx_client_open(h->knxd.url);
    assert_non_null(h->bus);
    mark = h->n_lines;
    assert_true(wait_line(h, mark, "bus read 1/1/2 0000"));
    assert_true(wait_line(h, mark, "online light-1 1"));
    assert_int_equal(knxtool("groupswrite", h->knxd.url, "1/1/2", "0", NULL), 0);
    assert_true(wait_line(h, mark, "value light-1 power false"));
}

/* Unclaimed group addresses: logged always, reported as learned devices only while learning. */
static void test_learn(void **state)
{
    h_t *h = *state;
    start_plugin(h, h->knxd.url, NULL);
    assert_true(wait_line(h, 0, "bus read 1/1/2 0000"));
    size_t mark = h->n_lines;
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "5/5/5", "12", "34", NULL), 0);
    assert_int_equal(knxtool("groupswrite", h->knxd.url, "1/1/2", "1", NULL), 0);
    assert_true(wait_line(h, mark, "value light-1 power true"));
    assert_false(has_prefix(h, 0, "add ga-"));

    assert_int_equal(gw_hub_discovery(h->host.hub, "knx", true), LGW_OK);
    mark = h->n_lines;
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "5/5/5", "12", "34", NULL), 0);
    assert_true(wait_line(h, mark, "add ga-5-5-5 knx_learned"));
    assert_true(wait_line(h, mark, "online ga-5-5-5 1"));
    assert_true(wait_line(h, mark, "value ga-5-5-5 service \"write\""));
    assert_true(wait_line(h, mark, "value ga-5-5-5 raw \"1234\""));
    assert_true(wait_prefix(h, mark, "value ga-5-5-5 source \"0.0."));
    assert_int_equal(knxtool("groupswrite", h->knxd.url, "2/0/7", "1", NULL), 0);
    assert_true(wait_line(h, mark, "add ga-2-0-7 knx_learned"));
    assert_true(wait_line(h, mark, "value ga-2-0-7 raw \"01\""));

    assert_int_equal(gw_hub_discovery(h->host.hub, "knx", false), LGW_OK);
    mark = h->n_lines;
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "5/5/9", "01", NULL), 0);
    assert_int_equal(knxtool("groupswrite", h->knxd.url, "1/1/2", "0", NULL), 0);
    assert_true(wait_line(h, mark, "value light-1 power false"));
    assert_false(has_prefix(h, mark, "add ga-"));
}

/* knxd not there: writes fail with 100001, devices stay offline, stop works while retrying. */
static void test_not_connected(void **state)
{
    h_t *h = *state;
    char url[160];
    snprintf(url, sizeof url, "local:%s/absent.sock", h->knxd.dir);
    start_plugin(h, url, NULL);
    assert_true(wait_line(h, 0, "add light-1 dimmer"));
    for (int i = 0; i < 20; i++) /* a few failed attempts */
        run_once(h);
    lgw_value_t *v = lgw_value_new_struct();
    lgw_value_struct_set(v, "power", lgw_value_new_bool(true));
    gw_hub_write(h->host.hub, "knx", "light-1", v, on_done, h);
    lgw_value_free(v);
    assert_true(wait_line(h, 0, "done 100001 knxd is not connected"));
    assert_false(has_prefix(h, 0, "online "));
    assert_false(has_prefix(h, 0, "bus "));
}

/* Stopping while a connection attempt is still running (a TEST-NET address that
 * never answers, or fails at once): the stop completes and nothing leaks. */
static void test_stop_while_connecting(void **state)
{
    h_t *h = *state;
    start_plugin(h, "ip:192.0.2.1:6720", NULL);
    assert_true(wait_line(h, 0, "add light-1 dimmer"));
    gw_instance_stop(h->inst, on_stopped, h);
    h->inst = NULL;
    for (int i = 0; i < 600 && !h->stopped; i++) /* at most the 3 s connect limit */
        run_once(h);
    assert_true(h->stopped);
}

/* The ip:HOST:PORT form of the URL (knxd -i on a free loopback port). */
static void test_ip_url(void **state)
{
    h_t *h = *state;
    start_plugin(h, h->knxd.ip_url, NULL);
    assert_true(wait_line(h, 0, "bus read 1/1/2 0000"));
    size_t mark = h->n_lines;
    assert_int_equal(knxtool("groupwrite", h->knxd.url, "1/1/4", "ff", NULL), 0);
    assert_true(wait_line(h, mark, "value light-1 level 100"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_on_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_learn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_connected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_while_connecting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_url, setup_tcp, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
