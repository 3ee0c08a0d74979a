/*
 * Fuzz target: the gateway's downstream dispatch (core/cloud/cloud_dispatch.c
 * and the NTP answer it is tried after), without a broker: a gw_cloud_t that
 * never connects, with handlers on the filters the daemon uses, receives
 * arbitrary topic + payload exactly as the session's message event hands them
 * over. Input: "<topic>\n<payload>".
 * Checks the documented guarantees handlers rely on: a message of a kind that
 * has a reply reaches a handler only with a JSON object root and an id;
 * topic levels are never NULL where the kind promises them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud.h"
#include "cloud_internal.h"
#include "fuzz_util.h"
#include "log.h"

static uv_loop_t g_loop;
static gw_cloud_t *g_cloud;
static unsigned long g_handled;

static void handler(gw_cloud_t *c, const gw_cloud_msg_t *m, void *data)
{
    (void)data;
    g_handled++;
    if (!m->topic || !m->payload || m->payload[m->len] != '\0')
        abort();
    if (m->reply_topic && (!json_is_object(m->root) || !m->id))
        abort(); /* dispatch answers those with 460 itself */
    switch (m->kind) {
    case GW_CLOUD_MSG_SERVICE:
    case GW_CLOUD_MSG_RRPC_EXT:
        if (!m->service || !m->product_key || !m->device_name)
            abort();
        break;
    case GW_CLOUD_MSG_RRPC_SYS:
        if (!m->rrpc_id)
            abort();
        break;
    case GW_CLOUD_MSG_PROPERTY_SET:
        if (!json_is_object(m->params))
            abort();
        break;
    case GW_CLOUD_MSG_PROPERTY_GET:
        if (!json_is_array(m->params))
            abort();
        break;
    default:
        break;
    }
    size_t n = strlen(m->topic) + (m->method ? strlen(m->method) : 0) + (m->product_key ? strlen(m->product_key) : 0)
               + (m->device_name ? strlen(m->device_name) : 0) + (m->rrpc_id ? strlen(m->rrpc_id) : 0);
    (void)n;
    if (m->reply_topic)
        gw_cloud_reply_to(c, m->reply_topic, m->id, 200, m->params, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    gw_log_set_level(LGW_LOG_ERROR); /* dispatch warns about every malformed message */
    uv_loop_init(&g_loop);
    gw_cloud_config_t cfg;
    gw_cloud_config_init(&cfg);
    cfg.host = (char *)"127.0.0.1";
    cfg.port = 1883;
    cfg.product_key = (char *)"a1tmc66UyDK";
    cfg.device_name = (char *)"subdev_basic_demo";
    cfg.device_secret = (char *)"awAlkVEzZm40nk4EbMfcUVRwDnnClVVu";
    g_cloud = gw_cloud_new(&g_loop, &cfg, NULL);
    if (!g_cloud)
        abort();
    static const char *const filters[] = {
        "/sys/+/+/thing/service/#",          "/ext/rrpc/+/sys/+/+/thing/service/+",
        "/sys/+/+/rrpc/request/+",           "/sys/a1tmc66UyDK/subdev_basic_demo/thing/topo/change",
        "/sys/+/+/thing/disable",            "/sys/+/+/thing/enable",
        "/sys/+/+/thing/delete",             "/sys/+/+/thing/topo/add/notify",
        "/ext/session/+/+/combine/logout_reply",
    };
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (gw_cloud_on(g_cloud, filters[i], handler, NULL) != LGW_OK)
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_fields_t f;
    if (fz_split(data, size, 2, &f) != 0)
        return 0;
    const char *topic = f.f[0];
    if (!cloud_ntp_on_message(g_cloud, topic, f.f[1], f.len[1]))
        cloud_dispatch(g_cloud, topic, f.f[1], f.len[1]);
    (void)gw_cloud_topic_match(f.f[0], f.f[1]);
    (void)gw_cloud_topic_match(f.f[1], f.f[0]);
    fz_fields_free(&f);
    return 0;
}
