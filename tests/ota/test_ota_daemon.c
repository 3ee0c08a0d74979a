/*
 * OTA in the real daemon: `linkgw` with an `ota` section and the sim plugin,
 * against alink-emu (the lifecycle tests' harness), images from the tests'
 * HTTPS server with a CA made by tools/alink-emu/gen-test-ca.sh.
 *   - the gateway reports its configured version after connecting;
 *   - a sub-device task reaches the sim through the ABI 1.1 callback, the
 *     sim reports the new version and the platform closes the task;
 *   - a gateway task runs the operator's install command;
 *   - the daemon stops cleanly (no leak under ASan);
 *   - --check-config reports bad `ota` settings with file:line.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "https_server.h"
#include "lc_harness.h"

#define SIM1 "thermometer = { count = 1; interval_ms = 3600000; };"
#define KEYS "models = { thermometer = { product_key = \"" LC_SUB_PK "\"; }; };\nsubdevice = { register = true; };"
#define WAIT_MS 30000

static lc_t T;
static hs_t S;
static unsigned char *g_img;

static int teardown(void **s)
{
    (void)s;
    hs_stop(&S);
    memset(&S, 0, sizeof S);
    lc_teardown(&T);
    free(g_img);
    g_img = NULL;
    return 0;
}

/* The emulator's ota object of @p key (new reference) or NULL. */
static json_t *emu_ota(const char *key)
{
    json_t *st = lc_emu(&T);
    json_t *o = json_incref(json_object_get(json_object_get(json_object_get(st, "devices"), key), "ota"));
    json_decref(st);
    return o;
}

typedef struct expect {
    const char *key, *version;
    int step;
    bool done;
} expect_t;

static bool emu_has(lc_t *t, void *arg)
{
    (void)t;
    expect_t *e = arg;
    json_t *o = emu_ota(e->key);
    const char *v = json_string_value(json_object_get(json_object_get(o, "versions"), "default"));
    const char *s = json_string_value(json_object_get(json_object_get(json_object_get(o, "progress"), "params"), "step"));
    bool ok = (!e->version || (v && !strcmp(v, e->version))) && (!e->step || (s && atoi(s) == e->step)) &&
              (!e->done || json_is_object(json_object_get(o, "lastUpgrade")));
    json_decref(o);
    return ok;
}

static bool file_exists(lc_t *t, void *arg)
{
    (void)t;
    return access(arg, F_OK) == 0;
}

static void md5_hex(const void *p, size_t n, char out[33])
{
    unsigned char md[16];
    unsigned len = 0;
    EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
    for (unsigned i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void t_daemon_ota(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 1, NULL), 0);
    char certs[400], cmd[1200], conf[2048], marker[400];
    snprintf(certs, sizeof certs, "%s/certs", T.dir);
    snprintf(cmd, sizeof cmd, "sh '%s' '%s'", OTA_GEN_CA, certs);
    assert_int_equal(system(cmd), 0);
    snprintf(marker, sizeof marker, "%s/installed", T.dir);
    snprintf(conf, sizeof conf,
             "ota = {\n  version = \"1.0.0\";\n  ca_file = \"%s/ca.pem\";\n  retry_delay_ms = 100;\n"
             "  install_command = \"printf '%%s %%s' \\\"$2\\\" \\\"$(wc -c < \\\"$1\\\")\\\" > '%s'\";\n};\n",
             certs, marker);
    assert_int_equal(lc_append_conf(&T, conf), 0);
    assert_int_equal(lc_write_instance(&T, SIM1, KEYS), 0);

    size_t n = 40000;
    g_img = malloc(n);
    assert_non_null(g_img);
    for (size_t i = 0; i < n; i++)
        g_img[i] = (unsigned char)(i * 7);
    char sign[33], cert[500], key[500], url[200], size[24], port[16];
    md5_hex(g_img, n, sign);
    S.body = g_img;
    S.len = n;
    snprintf(cert, sizeof cert, "%s/server.pem", certs);
    snprintf(key, sizeof key, "%s/server.key", certs);
    assert_int_equal(hs_start(&S, cert, key), 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/image.bin", S.port);
    snprintf(size, sizeof size, "%zu", n);
    (void)port;

    assert_int_equal(lc_gw_start(&T), 0);
    assert_true(lc_wait(&T, lc_pred_sessions, (void *)(intptr_t)1, WAIT_MS));
    expect_t e = {LC_GW_PK "/" LC_GW_DN, "1.0.0", 0, false};
    assert_true(lc_wait(&T, emu_has, &e, WAIT_MS));

    /* sub-device: downloaded, verified, installed by the sim, new version reported, task closed */
    assert_int_equal(lc_emu_cmd(&T, "ota", "push", LC_SUB_PK, "thermo-0", "--url", url, "--version", "2.0", "--size", size,
                                "--sign", sign, "--sign-method", "Md5", NULL),
                     0);
    e = (expect_t){LC_SUB_PK "/thermo-0", "2.0", 100, true};
    assert_true(lc_wait(&T, emu_has, &e, WAIT_MS));

    /* gateway: the install command gets the verified image */
    assert_int_equal(lc_emu_cmd(&T, "ota", "push", LC_GW_PK, LC_GW_DN, "--url", url, "--version", "1.1.0", "--size", size,
                                "--sign", sign, "--sign-method", "Md5", NULL),
                     0);
    assert_true(lc_wait(&T, file_exists, marker, WAIT_MS));
    e = (expect_t){LC_GW_PK "/" LC_GW_DN, NULL, 100, false};
    assert_true(lc_wait(&T, emu_has, &e, WAIT_MS));
    FILE *f = fopen(marker, "r");
    assert_non_null(f);
    char got[64] = "";
    assert_non_null(fgets(got, sizeof got, f));
    fclose(f);
    char want[64];
    snprintf(want, sizeof want, "1.1.0 %zu", n);
    assert_string_equal(got, want);
    assert_int_equal(hs_requests(&S), 2);

    assert_int_equal(lc_gw_stop(&T), 0); /* clean exit (and no leaks under ASan) */
}

static void t_check_config(void **s)
{
    (void)s;
    assert_int_equal(lc_setup(&T, 1, NULL), 0);
    assert_int_equal(lc_append_conf(&T, "ota = {\n  max_size = -5;\n  colour = \"red\";\n};\n"), 0);
    assert_int_equal(lc_write_instance(&T, SIM1, KEYS), 0);
    char cmd[600], *out = NULL;
    size_t len = 0;
    snprintf(cmd, sizeof cmd, "%s -c %s --check-config 2>&1", LC_LINKGW, T.conf);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_true(getdelim(&out, &len, 0, p) > 0);
    int st = pclose(p);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    char line[64];
    FILE *c = fopen(T.conf, "r"); /* find the line numbers of the two bad settings */
    assert_non_null(c);
    int ln = 0, max_line = 0, colour_line = 0;
    char buf[512];
    while (fgets(buf, sizeof buf, c)) {
        ln++;
        if (strstr(buf, "max_size = -5"))
            max_line = ln;
        if (strstr(buf, "colour"))
            colour_line = ln;
    }
    fclose(c);
    snprintf(line, sizeof line, "linkgw.conf:%d: setting 'ota.max_size' must be between", max_line);
    assert_non_null(strstr(out, line));
    snprintf(line, sizeof line, "linkgw.conf:%d: unknown setting 'ota.colour'", colour_line);
    assert_non_null(strstr(out, line));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(t_daemon_ota, teardown),
        cmocka_unit_test_teardown(t_check_config, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
