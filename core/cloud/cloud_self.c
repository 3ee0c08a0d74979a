/*
 * gw_cloud: the gateway as a device. Periodically posts its own properties
 * (Uptime in s, MemoryRssKiB, SubDeviceCount) on its own property/post topic.
 * No TSL is required on the gateway side; the product on the platform should
 * define these three identifiers.
 */
#include "cloud_internal.h"

#include <stdio.h>
#include <unistd.h>

#include "log.h"

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, rss = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &size, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void post_reply(gw_cloud_t *c, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)c;
    (void)data;
    if (status != LGW_OK)
        GW_DEBUG(CLOUD_LOG, "gateway property report: no reply (%d)", status);
    else if (r->code != 200)
        GW_DEBUG(CLOUD_LOG, "gateway property report rejected: %d", r->code);
}

static void post_now(gw_cloud_t *c)
{
    char topic[256];
    snprintf(topic, sizeof topic, "/sys/%s/%s/thing/event/property/post", c->cfg.product_key, c->cfg.device_name);
    json_t *params = json_pack("{s:I, s:I, s:I}", "Uptime", (json_int_t)((uv_hrtime() - c->created_ns) / 1000000000ULL),
                               "MemoryRssKiB", (json_int_t)rss_kib(), "SubDeviceCount",
                               (json_int_t)(c->self_count ? c->self_count(c->self_count_data) : 0));
    if (params)
        gw_cloud_request(c, topic, "thing.event.property.post", params, 0, post_reply, NULL, NULL);
    json_decref(params);
}

static void self_timer_cb(uv_timer_t *t)
{
    gw_cloud_t *c = t->data;
    if (cloud_is_connected(c))
        post_now(c);
}

void cloud_self_on_state(gw_cloud_t *c)
{
    if (!c->self_interval_ms || !cloud_is_connected(c)) {
        uv_timer_stop(&c->self_timer);
        return;
    }
    uv_timer_start(&c->self_timer, self_timer_cb, 0, c->self_interval_ms);
}

int gw_cloud_self_report(gw_cloud_t *c, unsigned interval_ms, gw_cloud_count_fn count, void *data)
{
    if (!c || c->closing)
        return LGW_EINVAL;
    c->self_interval_ms = interval_ms;
    c->self_count = count;
    c->self_count_data = data;
    cloud_self_on_state(c);
    return LGW_OK;
}
