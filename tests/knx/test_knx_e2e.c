/*
 * The KNX plugin end to end through the platform emulator (issue 8, item 6):
 * knxd on its dummy bus (knxd_harness), the real `linkgw` with a cloud
 * section, the TSL model of tests/knx/data_e2e/models and a conf.d KNX
 * instance whose `models` map points to TSL properties, against mosquitto +
 * alink-emu (tests/lifecycle/lc_harness). Assertions read the emulator's
 * state and what a group-socket client sees on the bus, never log text:
 *   - the room is registered and topo-added at once; it is logged in with
 *     its first telegram (the plugin knows a KNX device is there only when
 *     it hears from it: this room has no read-on-start address);
 *   - `knxtool groupwrite` of a DPT 9.001 value reaches the platform as the
 *     Temperature property (positive and negative values). The first one,
 *     heard before the login completed, is journaled and goes up as history
 *     (thing.event.property.history.post), which the emulator keeps in the
 *     property's history but not as its latest value — so, once logged in,
 *     the gateway reports the device's last values again and 21.5 becomes
 *     the latest value without another telegram; the next ones are the
 *     latest value;
 *   - `alink-emu prop set` of the DPT 1.001 LightSwitch answers 200 and puts
 *     a GroupValue_Write with the encoded value on the bus.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "knxd_harness.h"
#include "lc_harness.h"

#define PK "a1DemoKnx"
#define DN "knx-room1"
#define WAIT_MS 45000
#define GA(m, i, s) ((uint16_t)(((m) << 11) | ((i) << 8) | (s)))

static lc_t T;
static knxd_t K;
static knx_client_t *C;

static int teardown(void **s)
{
    (void)s;
    if (C)
        knx_client_close(C);
    C = NULL;
    lc_teardown(&T);
    knxd_cleanup(&K);
    return 0;
}


typedef struct expect {
    bool online;
    const char *id; /* property to check, or NULL */
    double value;
    bool history;   /* look for the value in the property's history, not its latest value */
} expect_t;

static bool same(json_t *v, double want) { return json_is_number(v) && fabs(json_number_value(v) - want) < 1e-6; }

static bool pred_expect(lc_t *t, void *arg)
{
    const expect_t *e = arg;
    json_t *st = lc_emu(t);
    const char *key = PK "/" DN;
    const char *via =
        json_string_value(json_object_get(json_object_get(json_object_get(st, "sessions"), key), "via"));
    bool ok = (via && strcmp(via, LC_GW_PK "/" LC_GW_DN) == 0) == e->online;
    if (ok && e->id) {
        json_t *dev = json_object_get(json_object_get(st, "devices"), key);
        if (e->history) {
            size_t i;
            json_t *h;
            ok = false;
            json_array_foreach(json_object_get(json_object_get(dev, "history"), e->id), i, h) ok |= same(json_object_get(h, "value"), e->value);
        } else {
            ok = same(json_object_get(json_object_get(json_object_get(dev, "properties"), e->id), "value"), e->value);
        }
    }
    json_decref(st);
    return ok;
}

/* True when the emulator's knx-room1 has a secret and the test gateway as its topology parent. */
static bool pred_topo(lc_t *t, void *arg)
{
    (void)arg;
    json_t *st = lc_emu(t);
    json_t *dev = json_object_get(json_object_get(st, "devices"), PK "/" DN);
    const char *gw = json_string_value(json_object_get(dev, "gateway"));
    bool ok = gw && strcmp(gw, LC_GW_PK "/" LC_GW_DN) == 0;
    json_decref(st);
    return ok;
}

/* knxtool groupwrite of @p celsius as a DPT 9.001 2-byte float to 3/0/1; its exit status. */
static int send_temperature(double celsius)
{
    long m = lround(celsius * 100.0);
    int e = 0;
    while (m < -2048 || m > 2047) {
        m /= 2;
        e++;
    }
    unsigned raw = (m < 0 ? 0x8000u : 0u) | ((unsigned)e << 11) | ((unsigned)m & 0x7FFu);
    char hi[8], lo[8];
    snprintf(hi, sizeof hi, "%02x", raw >> 8);
    snprintf(lo, sizeof lo, "%02x", raw & 0xFF);
    return knxtool("groupwrite", K.url, "3/0/1", hi, lo, NULL);
}

/* `alink-emu prop set PK DN JSON`: 0 when the device's reply carried code 200. */
static int prop_set(const char *json)
{
    const char *args[] = {"prop", "set", PK, DN, json, "--timeout-ms", "15000", NULL};
    char *out = NULL;
    int rc = emu_cli(&T.b, &out, args);
    json_t *reply = out ? json_loads(out, 0, NULL) : NULL;
    if (rc == 0 && json_integer_value(json_object_get(reply, "code")) != 200)
        rc = -1;
    if (rc)
        fprintf(stderr, "prop set %s: rc %d, %s\n", json, rc, out ? out : "(no output)");
    json_decref(reply);
    free(out);
    return rc;
}

/*
 * Waits for a GroupValue_Write to @p dst on the bus and returns its 6-bit
 * short value (DPT 1.x), or -1 when none came within WAIT_MS. Other
 * telegrams are skipped.
 */
static int wait_write(uint16_t dst_want)
{
    for (int i = 0; i < WAIT_MS / 100; i++) {
        uint16_t src, dst;
        uint8_t apdu[64];
        size_t len = sizeof apdu;
        while (knx_client_recv(C, 100, &src, &dst, apdu, &len)) {
            int apci = len >= 2 ? ((apdu[0] & 3) << 2) | (apdu[1] >> 6) : -1;
            if (dst == dst_want && apci == 2 && len == 2)
                return apdu[1] & 0x3F;
            len = sizeof apdu;
        }
    }
    return -1;
}

static void t_knx_e2e(void **s)
{
    (void)s;
    assert_true(knxd_start(&K, false));
    assert_int_equal(lc_setup(&T, 0, NULL), 0);
    assert_int_equal(lc_use_product(&T, PK, E2E_MODELS, (const char *const[]){DN, NULL}), 0);

    char conf[2048], path[400];
    snprintf(conf, sizeof conf,
             "plugin = \"knx\";\n"
             "settings = {\n"
             "  url = \"%s\";\n"
             "  devices = ( { id = \"" DN "\"; model = \"room\";\n"
             "    points = (\n"
             "      { name = \"temperature\"; dpt = \"9.001\"; state = \"3/0/1\"; read_on_start = false; },\n"
             "      { name = \"light\"; dpt = \"1.001\"; write = \"1/1/1\"; read_on_start = false; }\n"
             "    ); } );\n"
             "};\n"
             "models = { room = { product_key = \"" PK "\";\n"
             "  points = ( { point = \"temperature\"; property = \"Temperature\"; },\n"
             "             { point = \"light\"; property = \"LightSwitch\"; } ); }; };\n"
             "subdevice = { register = true; };\n",
             K.url);
    snprintf(path, sizeof path, "%s/knx.conf", T.confd);
    assert_int_equal(lc_write_text(path, conf), 0);
    assert_int_equal(lc_gw_start(&T), 0);

    /* registered and topo-added under the gateway, not yet online */
    assert_true(lc_wait(&T, pred_topo, NULL, WAIT_MS));
    expect_t quiet = {false, NULL, 0, false};
    assert_true(pred_expect(&T, &quiet));

    /* rx: DPT 9.001 from the bus → logged in, Temperature on the platform */
    assert_int_equal(send_temperature(21.5), 0);
    expect_t t1 = {true, "Temperature", 21.5, true};
    assert_true(lc_wait(&T, pred_expect, &t1, WAIT_MS));
    /* ... and, re-reported once the login completed, the latest value, though the room says nothing more */
    expect_t t1_latest = {true, "Temperature", 21.5, false};
    assert_true(lc_wait(&T, pred_expect, &t1_latest, WAIT_MS));
    assert_int_equal(send_temperature(-5.0), 0);
    expect_t t2 = {true, "Temperature", -5.0, false};
    assert_true(lc_wait(&T, pred_expect, &t2, WAIT_MS));

    /* tx: LightSwitch set → GroupValue_Write 1/1/1 = on, then off; replies 200 */
    C = knx_client_open(K.url);
    assert_non_null(C);
    assert_int_equal(prop_set("{\"LightSwitch\":1}"), 0);
    assert_int_equal(wait_write(GA(1, 1, 1)), 1);
    assert_int_equal(prop_set("{\"LightSwitch\":0}"), 0);
    assert_int_equal(wait_write(GA(1, 1, 1)), 0);

    /* a clean stop (under ASan: no leaks) */
    assert_int_equal(lc_gw_stop(&T), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(t_knx_e2e, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
