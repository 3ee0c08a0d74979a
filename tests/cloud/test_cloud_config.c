/*
 * gw_cloud configuration: defaults, every validation error reported as
 * file:line, and the file-backed secret store (0600, atomic replace,
 * identity check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cloud.h"
#include "test_util.h"

typedef struct errs {
    char text[16][256];
    int n;
} errs_t;

static void collect(void *data, const config_setting_t *node, const char *file, int line, const char *message)
{
    (void)node;
    errs_t *e = data;
    if (e->n < 16)
        snprintf(e->text[e->n++], sizeof e->text[0], "%s:%d: %s", file ? strrchr(file, '/') + 1 : "-", line, message);
}

static char g_dir[256];

/* Parses @p text (a whole config file) and returns the error count. */
static int parse(const char *text, gw_cloud_config_t *cfg, errs_t *e)
{
    char path[300];
    snprintf(path, sizeof path, "%s/linkgw.conf", g_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    config_t c;
    config_init(&c);
    assert_int_equal(config_read_file(&c, path), CONFIG_TRUE);
    memset(e, 0, sizeof *e);
    int n = gw_cloud_config_parse(config_lookup(&c, "cloud"), cfg, collect, e);
    config_destroy(&c);
    return n;
}

static int setup(void **state)
{
    (void)state;
    return tu_mkdtemp(g_dir, sizeof g_dir);
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    gw_cloud_config_t cfg;
    errs_t e;
    assert_int_equal(parse("cloud = {\n host = \"a1b.iot-as-mqtt.cn-shanghai.aliyuncs.com\";\n port = 8883;\n"
                           " product_key = \"a1TestPK01\";\n device_name = \"gw01\";\n"
                           " device_secret = \"0123456789abcdef\";\n};\n",
                           &cfg, &e),
                     0);
    assert_true(cfg.tls);
    assert_true(cfg.verify);
    assert_int_equal(cfg.keepalive, 300);
    assert_int_equal(cfg.sign_method, GW_ALINK_HMAC_SHA256);
    assert_null(cfg.ca_file);
    assert_null(cfg.client_id);
    assert_int_equal(cfg.port, 8883);
    assert_string_equal(cfg.device_secret, "0123456789abcdef");
    gw_cloud_config_free(&cfg);

    assert_int_equal(parse("cloud = { host = \"h\"; port = 1883; tls = false; product_key = \"pk\";"
                           " device_name = \"dn\"; product_secret = \"ps\"; sign_method = \"hmacSha1\"; keepalive = 30;"
                           " client_id = \"AA:BB:CC\"; register_securemode = -2; instance_id = \"iot-1\"; };\n",
                           &cfg, &e),
                     0);
    assert_false(cfg.tls);
    assert_int_equal(cfg.sign_method, GW_ALINK_HMAC_SHA1);
    assert_int_equal(cfg.keepalive, 30);
    assert_int_equal(cfg.register_securemode, -2);
    assert_string_equal(cfg.client_id, "AA:BB:CC");
    assert_null(cfg.device_secret);
    gw_cloud_config_free(&cfg);
}

static void test_errors_have_file_and_line(void **state)
{
    (void)state;
    gw_cloud_config_t cfg;
    errs_t e;
    int n = parse("# linkgw\n"
                  "cloud = {\n"
                  "  host = \"h\";\n"
                  "  port = 70000;\n"
                  "  keepalive = 20;\n"
                  "  sign_method = \"sha512\";\n"
                  "  tls = \"yes\";\n"
                  "  colour = 1;\n"
                  "  device_name = \"a|b\";\n"
                  "  ca_file = \"/nonexistent/ca.pem\";\n"
                  "};\n",
                  &cfg, &e);
    assert_int_equal(n, e.n);
    const char *want[] = {
        "linkgw.conf:4: cloud.port must be 1..65535, not 70000",
        "linkgw.conf:5: cloud.keepalive must be 30..1200 seconds (platform limit), not 20",
        "linkgw.conf:6: cloud.sign_method must be hmacmd5, hmacsha1 or hmacsha256, not 'sha512'",
        "linkgw.conf:7: cloud.tls must be true or false",
        "linkgw.conf:8: cloud: unknown setting 'colour'",
        "linkgw.conf:9: cloud.device_name must be 1..64 printable characters without spaces or |&,=/+#",
        "linkgw.conf:10: cloud.ca_file '/nonexistent/ca.pem' is not readable",
        "linkgw.conf:2: cloud.product_key is required",
        "linkgw.conf:2: cloud: set device_secret, or product_secret for dynamic registration",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        bool found = false;
        for (int j = 0; j < e.n; j++)
            found |= strcmp(e.text[j], want[i]) == 0;
        if (!found) {
            for (int j = 0; j < e.n; j++)
                fprintf(stderr, "got: %s\n", e.text[j]);
            fail_msg("missing error: %s", want[i]);
        }
    }
    /* cfg was freed: no leak, strings NULL */
    assert_null(cfg.host);

    n = parse("cloud = { host = \"h\"; port = 1; product_key = \"pk\"; device_name = \"dn\";\n"
              " device_secret = \"x\"; product_secret = \"y\"; };\n",
              &cfg, &e);
    assert_int_equal(n, 1);
    assert_string_equal(e.text[0], "linkgw.conf:1: cloud: set device_secret or product_secret, not both");

    n = parse("cloud = 5;\n", &cfg, &e);
    assert_int_equal(n, 1);
    assert_string_equal(e.text[0], "linkgw.conf:1: 'cloud' must be a group { ... }");
    n = parse("other = 5;\n", &cfg, &e);
    assert_int_equal(n, 1);
}

static void test_secret_file_store(void **state)
{
    (void)state;
    char path[300], out[128];
    snprintf(path, sizeof path, "%s/secret", g_dir);
    gw_cloud_secret_store_t s = gw_cloud_secret_file_store(path);
    assert_int_equal(s.load(s.data, "pk", "dn", out, sizeof out), 1); /* nothing stored */
    assert_int_equal(s.save(s.data, "pk", "dn", "S3cr3t"), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0); /* renamed away */
    assert_int_equal(s.load(s.data, "pk", "dn", out, sizeof out), 0);
    assert_string_equal(out, "S3cr3t");
    assert_int_equal(s.load(s.data, "pk", "other", out, sizeof out), 1); /* another identity */
    assert_int_equal(s.load(s.data, "pk", "dn", out, 3), -1);            /* does not fit */
    assert_int_equal(s.save(s.data, "pk", "dn", "N3w"), 0);
    assert_int_equal(s.load(s.data, "pk", "dn", out, sizeof out), 0);
    assert_string_equal(out, "N3w");
    FILE *f = fopen(path, "w");
    fputs("garbage\n", f);
    fclose(f);
    assert_int_equal(s.load(s.data, "pk", "dn", out, sizeof out), -1); /* corrupt: an error, never "absent" */
    gw_cloud_secret_store_t bad = gw_cloud_secret_file_store("/nonexistent-dir/secret");
    assert_int_equal(bad.save(bad.data, "pk", "dn", "x"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors_have_file_and_line),
        cmocka_unit_test(test_secret_file_store),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
