/*
 * gw_cloud NTP: at every connect the gateway asks the platform for its time
 * on /ext/ntp/<pk>/<dn>/request and corrects its clock from the response:
 * platform time at receipt = (serverRecv + serverSend + deviceRecv - deviceSend) / 2.
 */
#include "cloud_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void cloud_ntp_request(gw_cloud_t *c)
{
    char topic[256], body[64];
    snprintf(topic, sizeof topic, "/ext/ntp/%s/%s/request", c->cfg.product_key, c->cfg.device_name);
    c->ntp_sent_ms = cloud_realtime_ms();
    snprintf(body, sizeof body, "{\"deviceSendTime\":\"%" PRId64 "\"}", c->ntp_sent_ms);
    if (cloud_send(c, topic, body, strlen(body)) != LGW_OK)
        GW_WARN(CLOUD_LOG, "NTP request not sent");
}

/* Latest time accepted from a response: 9999-12-31T23:59:59.999Z. The bound
 * keeps the sums below far from overflowing whatever the payload says. */
#define NTP_MAX_MS INT64_C(253402300799999)

/* A time field: number or decimal string, 1..NTP_MAX_MS. */
static bool get_ms(json_t *root, const char *key, int64_t *out)
{
    json_t *v = json_object_get(root, key);
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
    } else if (json_is_string(v)) {
        char *end;
        const char *s = json_string_value(v);
        long long n = strtoll(s, &end, 10);
        if (end == s || *end)
            return false;
        *out = n;
    } else {
        return false;
    }
    return *out > 0 && *out <= NTP_MAX_MS;
}

bool cloud_ntp_on_message(gw_cloud_t *c, const char *topic, const char *payload, size_t len)
{
    char want[256];
    snprintf(want, sizeof want, "/ext/ntp/%s/%s/response", c->cfg.product_key, c->cfg.device_name);
    if (strcmp(topic, want) != 0)
        return false;
    int64_t recv_ms = cloud_realtime_ms();
    json_error_t jerr;
    json_t *root = json_loadb(payload, len, 0, &jerr);
    int64_t ds, sr, ss;
    if (!json_is_object(root) || !get_ms(root, "deviceSendTime", &ds) || !get_ms(root, "serverRecvTime", &sr)
        || !get_ms(root, "serverSendTime", &ss)) {
        c->stats.malformed++;
        GW_WARN(CLOUD_LOG, "malformed NTP response (%zu bytes): ignored", len);
        json_decref(root);
        return true;
    }
    json_decref(root);
    if (ds != c->ntp_sent_ms)
        GW_DEBUG(CLOUD_LOG, "NTP response for an older request; using it anyway");
    int64_t now_platform = (sr + ss + recv_ms - ds) / 2;
    c->ntp_offset_ms = now_platform - recv_ms;
    c->ntp_synced = true;
    GW_INFO(CLOUD_LOG, "time synchronised with the platform (offset %" PRId64 " ms, round trip %" PRId64 " ms)",
            c->ntp_offset_ms, recv_ms - ds);
    return true;
}

int64_t gw_cloud_time_ms(const gw_cloud_t *c)
{
    return cloud_realtime_ms() + (c && c->ntp_synced ? c->ntp_offset_ms : 0);
}

bool gw_cloud_time_synced(const gw_cloud_t *c)
{
    return c && c->ntp_synced;
}
