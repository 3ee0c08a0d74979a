/*
 * Custom topics in-process (issue 12): the `topics` declarations (main file
 * and conf.d, errors with file:line, class matching with wildcards), the
 * suffix syntax, lgw_publish()'s refusals through the real sink of
 * core/gateway/topics.c (a cloud session that is not connected), from the
 * loop thread and from another thread, and gw_hub_message() requests with
 * reply bytes through the sim plugin.
 */
#include <pthread.h>
#include <string.h>

#include "harness.h"
#include "cloud.h"
#include "conf.h"
#include "message.h"
#include "topics.h"
#include "topics_conf.h"

#define GW_PK "a1GwPK0001"

static void t_suffix(void **s)
{
    (void)s;
    assert_true(gw_message_suffix_ok("raw"));
    assert_true(gw_message_suffix_ok("user/update"));
    assert_true(gw_message_suffix_ok("user/a/b-c_d"));
    assert_false(gw_message_suffix_ok("user/"));
    assert_false(gw_message_suffix_ok("user//x"));
    assert_false(gw_message_suffix_ok("user/x/"));
    assert_false(gw_message_suffix_ok("user/+"));
    assert_false(gw_message_suffix_ok("user/#"));
    assert_false(gw_message_suffix_ok("user/a b"));
    assert_false(gw_message_suffix_ok("thing/event/property/post"));
    assert_false(gw_message_suffix_ok("raw_reply"));
    assert_null(gw_topics_class_invalid("user/cmd/+"));
    assert_null(gw_topics_class_invalid("user/#"));
    assert_non_null(gw_topics_class_invalid("user/#/x"));
    assert_non_null(gw_topics_class_invalid("sys/x"));
    assert_non_null(gw_topics_class_invalid("user/a.b"));
}

static th_t T;

static void t_conf(void **s)
{
    (void)s;
    th_open(&T);
    gw_errors_t errs = {0};
    gw_main_conf_t mc;
    /* errors carry file:line */
    const char *bad = th_write(&T, "bad.conf",
                               "topics = {\n"
                               "  products = ( { product_key = \"a1X\";\n"
                               "    classes = ( { topic = \"sys/x\"; direction = \"publish\"; },\n"
                               "                { topic = \"user/y\"; direction = \"sideways\"; },\n"
                               "                { topic = \"user/z\"; direction = \"both\"; bogus = 1; } ); } );\n"
                               "  gateway_instance = 5;\n"
                               "};\n");
    assert_int_not_equal(gw_main_conf_load(&mc, bad, &errs), LGW_OK);
    gw_main_conf_free(&mc);
    assert_true(th_has_error(&errs, "bad.conf:3: topic class 'sys/x' must start with \"user/\""));
    assert_true(th_has_error(&errs, "bad.conf:4:"));
    assert_true(th_has_error(&errs, "bad.conf:5:"));
    assert_true(th_has_error(&errs, "bad.conf:6:"));
    assert_false(gw_topics_conf_allows("a1X", "user/z", GW_TOPIC_UP)); /* nothing of a broken file is used */
    gw_errors_free(&errs);

    const char *good = th_write(&T, "good.conf",
                                "topics = { gateway_instance = \"sim\";\n"
                                "  products = ( { product_key = \"" GW_PK "\";\n"
                                "    classes = ( { topic = \"user/update\"; direction = \"publish\"; },\n"
                                "                { topic = \"user/long/#\"; direction = \"publish\"; },\n"
                                "                { topic = \"user/get\"; direction = \"subscribe\"; },\n"
                                "                { topic = \"user/cmd/+\"; direction = \"both\"; } ); } );\n"
                                "};\n");
    assert_int_equal(gw_main_conf_load(&mc, good, &errs), LGW_OK);
    gw_main_conf_free(&mc);
    assert_int_equal(errs.n, 0);
    assert_true(gw_topics_conf_allows(GW_PK, "user/update", GW_TOPIC_UP));
    assert_false(gw_topics_conf_allows(GW_PK, "user/update", GW_TOPIC_DOWN));
    assert_true(gw_topics_conf_allows(GW_PK, "user/get", GW_TOPIC_DOWN));
    assert_false(gw_topics_conf_allows(GW_PK, "user/get", GW_TOPIC_UP));
    assert_true(gw_topics_conf_allows(GW_PK, "user/cmd/7", GW_TOPIC_UP));
    assert_true(gw_topics_conf_allows(GW_PK, "user/cmd/7", GW_TOPIC_DOWN));
    assert_false(gw_topics_conf_allows(GW_PK, "user/cmd/7/8", GW_TOPIC_DOWN));
    assert_true(gw_topics_conf_allows(GW_PK, "user/long/a/b", GW_TOPIC_UP));
    assert_false(gw_topics_conf_allows(GW_PK, "raw", GW_TOPIC_UP));
    assert_false(gw_topics_conf_allows("a1Other", "user/update", GW_TOPIC_UP));
    char gi[32];
    assert_true(gw_topics_conf_gateway_instance(gi, sizeof gi));
    assert_string_equal(gi, "sim");

    /* a conf.d file adds a raw product; its errors carry file:line too */
    const char *inst = th_write(&T, "sim.conf",
                                "plugin = \"sim\";\n"
                                "topics = { products = ( { product_key = \"a1SubPK001\"; raw = true;\n"
                                "  classes = ( { topic = \"user/up\"; direction = \"publish\"; } ); } ); };\n");
    gw_inst_conf_t ic;
    assert_int_equal(gw_inst_conf_load(&ic, inst, TEST_PLUGIN_DIR, &errs), LGW_OK);
    gw_inst_conf_free(&ic);
    assert_true(gw_topics_conf_allows("a1SubPK001", "raw", GW_TOPIC_UP));
    assert_true(gw_topics_conf_allows("a1SubPK001", "user/up", GW_TOPIC_UP));
    const char *inst_bad = th_write(&T, "sim2.conf", "plugin = \"sim\";\ntopics = { products = ( { raw = 1; } ); };\n");
    assert_int_not_equal(gw_inst_conf_load(&ic, inst_bad, TEST_PLUGIN_DIR, &errs), LGW_OK);
    gw_inst_conf_free(&ic);
    assert_true(th_has_error(&errs, "sim2.conf:2:"));
    gw_errors_free(&errs);
}

/* ---- lgw_publish through the sink -------------------------------------------------- */

typedef struct thread_arg {
    lgw_instance_t *inst;
    int rc_bad, rc_good;
} thread_arg_t;

static void *publisher(void *arg)
{
    thread_arg_t *a = arg;
    a->rc_bad = lgw_publish(a->inst, NULL, "user/nope", "x", 1);
    a->rc_good = lgw_publish(a->inst, NULL, "user/update", "x", 1); /* refused later, on the loop */
    return NULL;
}

typedef struct answer {
    bool done;
    int code;
    char reply[64];
    size_t len;
} answer_t;

static void on_answer(void *data, int code, const char *message, const void *reply, size_t len)
{
    (void)message;
    answer_t *a = data;
    a->done = true;
    a->code = code;
    a->len = len;
    if (reply && len < sizeof a->reply)
        memcpy(a->reply, reply, len);
}

static bool answered(void *arg) { return ((answer_t *)arg)->done; }

static bool devices_known(void *arg)
{
    return gw_hub_device_count(arg) > 0;
}

static bool old_known(void *arg)
{
    return gw_hub_find(arg, "old", "old-0") != NULL;
}

static void closed(void *data) { *(bool *)data = true; }
static bool is_true(void *arg) { return *(bool *)arg; }

static void t_publish(void **s)
{
    (void)s;
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&T, "sim", "sim", "thermometer = { count = 1; interval_ms = 3600000; };", &errs);
    assert_non_null(inst);
    assert_int_equal(lgw_publish(inst, NULL, "user/update", "x", 1), LGW_ENOTSUP); /* no cloud link */

    gw_cloud_config_t cfg;
    gw_cloud_config_init(&cfg);
    cfg.host = strdup("127.0.0.1");
    cfg.port = 1;
    cfg.tls = false;
    cfg.product_key = strdup(GW_PK);
    cfg.device_name = strdup("gw01");
    cfg.device_secret = strdup("secret");
    gw_cloud_t *cloud = gw_cloud_new(&T.loop, &cfg, NULL);
    gw_cloud_config_free(&cfg);
    assert_non_null(cloud);
    gw_topics_t *tp = gw_topics_new(&T.loop, T.host.hub, cloud, NULL);
    assert_non_null(tp);

    static char big[LGW_MESSAGE_MAX + 1];
    assert_int_equal(lgw_publish(inst, NULL, "user/update", big, sizeof big), LGW_ERANGE);
    assert_int_equal(lgw_publish(inst, NULL, "user/update", big, LGW_MESSAGE_MAX), LGW_ESTATE); /* size fine, link down */
    assert_int_equal(lgw_publish(inst, NULL, "user/nope", "x", 1), LGW_EINVAL);
    assert_int_equal(lgw_publish(inst, NULL, "user/get", "x", 1), LGW_EINVAL);     /* subscribe-only */
    assert_int_equal(lgw_publish(inst, NULL, "raw", "x", 1), LGW_EINVAL);          /* not a raw product */
    assert_int_equal(lgw_publish(inst, NULL, "thing/x", "x", 1), LGW_EINVAL);
    assert_int_equal(lgw_publish(inst, NULL, NULL, "x", 1), LGW_EINVAL);
    char longer[160] = "user/long/";
    memset(longer + 10, 'a', 110);
    assert_int_equal(lgw_publish(inst, NULL, longer, "x", 1), LGW_ERANGE);         /* full topic > 128 bytes */
    assert_int_equal(lgw_publish(inst, "thermo-0", "user/update", "x", 1), LGW_ESTATE); /* no cloud identity */
    gw_topics_stats_t st;
    gw_topics_get_stats(tp, &st);
    uint64_t refused = st.refused;

    thread_arg_t a = {inst, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, publisher, &a), 0);
    pthread_join(th, NULL);
    assert_int_equal(a.rc_bad, LGW_EINVAL); /* no product declares it: refused at once */
    assert_int_equal(a.rc_good, LGW_OK);    /* declared somewhere: queued, refused on the loop */
    gw_xq_drain(&T.host);
    gw_topics_get_stats(tp, &st);
    assert_int_equal(st.refused, refused + 1);
    assert_int_equal(st.published, 0);

    /* requests with reply bytes: RRPC-like and down_raw through the sim's echo */
    assert_int_equal(gw_instance_start(inst), LGW_OK);
    th_run_until(&T, devices_known, T.host.hub);
    answer_t rr = {0}, raw = {0}, bad = {0};
    assert_int_equal(gw_hub_message(T.host.hub, "sim", "thermo-0", "user/rpc", "ping", 4, 8000, on_answer, &rr), LGW_OK);
    assert_int_equal(gw_hub_message(T.host.hub, "sim", "thermo-0", "raw", "\x01\x00\x02", 3, 0, on_answer, &raw), LGW_OK);
    assert_int_equal(gw_hub_message(T.host.hub, "sim", "nobody", "raw", "x", 1, 0, on_answer, &bad), LGW_OK);
    assert_false(rr.done); /* never inside the call */
    th_run_until(&T, answered, &rr);
    th_run_until(&T, answered, &raw);
    th_run_until(&T, answered, &bad);
    assert_int_equal(rr.code, LGW_REPLY_SUCCESS);
    assert_int_equal(rr.len, 4);
    assert_memory_equal(rr.reply, "ping", 4);
    assert_int_equal(raw.code, LGW_REPLY_SUCCESS);
    assert_int_equal(raw.len, 3);
    assert_memory_equal(raw.reply, "\x01\x00\x02", 3);
    assert_int_equal(bad.code, LGW_REPLY_REQUEST_ERROR);
    /* no request: the plugin is called at once */
    assert_int_equal(gw_hub_message(T.host.hub, "sim", "thermo-0", "user/cmd", "x", 1, 0, NULL, NULL), LGW_OK);
    assert_int_equal(gw_hub_message(T.host.hub, "sim", "nobody", "user/cmd", "x", 1, 0, NULL, NULL), LGW_ENOENT);

    /* a plugin built for ABI 1.0 loads and never gets messages: no request reaches it */
    gw_errors_t e2 = {0};
    lgw_instance_t *old = gw_instance_load(&T.host, "old", OLD_ABI_PLUGIN, &e2, "old.conf", 1);
    assert_non_null(old);
    assert_int_equal(old->drv.abi, LGW_ABI_ENCODE(1, 0));
    assert_null(old->drv.message);
    gw_cfgdoc_t doc;
    assert_int_equal(gw_cfgdoc_load_string(&doc, "old.conf", "settings = {};\n", &e2), LGW_OK);
    assert_int_equal(gw_instance_create(old, &doc, lgw_config_child(gw_cfgdoc_root(&doc), "settings")), LGW_OK);
    gw_cfgdoc_free(&doc);
    assert_int_equal(gw_instance_start(old), LGW_OK);
    th_run_until(&T, old_known, T.host.hub);
    answer_t na = {0};
    assert_int_equal(gw_hub_message(T.host.hub, "old", "old-0", "user/rpc", "x", 1, 8000, on_answer, &na), LGW_OK);
    th_run_until(&T, answered, &na);
    assert_int_equal(na.code, LGW_REPLY_REQUEST_ERROR);
    assert_int_equal(na.len, 0);
    assert_int_equal(gw_hub_message(T.host.hub, "old", "old-0", "user/cmd", "x", 1, 0, NULL, NULL), LGW_ENOTSUP);
    gw_instance_stop(old, NULL, NULL);
    gw_errors_free(&e2);

    gw_topics_detach(tp);
    assert_int_equal(lgw_publish(inst, NULL, "user/update", "x", 1), LGW_ENOTSUP);
    bool stopped = false, cl = false;
    gw_instance_stop(inst, NULL, NULL);
    gw_cloud_close(cloud, closed, &cl);
    th_run_until(&T, is_true, &cl);
    gw_topics_free(tp);
    (void)stopped;
    gw_errors_free(&errs);
    gw_topics_conf_clear();
    th_close(&T);
}

int main(void)
{
    gw_topics_conf_register();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_suffix),
        cmocka_unit_test(t_conf),
        cmocka_unit_test(t_publish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
