/*
 * sim — custom topics and raw data (ABI 1.1, lgw_message_cb): an echo, so the
 * gateway's byte paths can be tried end to end without real devices.
 *
 *   custom topic "user/…" (no request)  → the same bytes are published on
 *                                         "user/update" (the console's default
 *                                         publish class) for the same device;
 *   custom-topic RRPC (request)         → answered with the same bytes;
 *   "raw" (down_raw, request)           → answered with the same bytes on
 *                                         down_raw_reply, and the bytes are
 *                                         sent again as up_raw;
 *   "raw_reply" (answer to our up_raw)  → published on "user/update",
 *                                         prefixed with "raw_reply:".
 * A publish the host refuses (undeclared class, oversize, no session) is only
 * logged: that is what a real driver would do too.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* Publishes and logs a refusal. */
static void publish(struct sim *sim, const char *device_id, const char *suffix, const void *payload, size_t len)
{
    int rc = lgw_publish(sim->inst, device_id, suffix, payload, len);
    if (rc != LGW_OK)
        lgw_log(sim->inst, LGW_LOG_WARN, "publish of %zu bytes on %s for %s refused: %s", len, suffix,
                device_id ? device_id : "the gateway", lgw_strerror(rc));
}

int sim_message(void *data, lgw_request_t *req, const char *device_id, const char *suffix, const void *payload,
                size_t len)
{
    struct sim *sim = data;
    struct sim_group *g;
    if (device_id && !sim_find(sim, device_id, &g))
        return LGW_ENOENT;
    lgw_log(sim->inst, LGW_LOG_INFO, "%zu bytes on %s for %s%s", len, suffix, device_id ? device_id : "the gateway",
            req ? " (answer expected)" : "");
    if (strcmp(suffix, "raw") == 0) {
        if (!req)
            return LGW_EINVAL;
        int rc = lgw_request_reply_bytes(req, payload, len);
        lgw_request_done(req, rc == LGW_OK ? LGW_REPLY_SUCCESS : rc, NULL);
        publish(sim, device_id, "raw", payload, len);
        return LGW_OK;
    }
    if (strcmp(suffix, "raw_reply") == 0) {
        char *buf = malloc(len + 10);
        if (!buf)
            return LGW_ENOMEM;
        memcpy(buf, "raw_reply:", 10);
        if (len)
            memcpy(buf + 10, payload, len);
        publish(sim, device_id, "user/update", buf, len + 10);
        free(buf);
        return LGW_OK;
    }
    if (strncmp(suffix, "user/", 5) != 0)
        return LGW_ENOTSUP;
    if (req) { /* RRPC: the caller waits for these bytes */
        int rc = lgw_request_reply_bytes(req, payload, len);
        lgw_request_done(req, rc == LGW_OK ? LGW_REPLY_SUCCESS : rc, NULL);
        return LGW_OK;
    }
    publish(sim, device_id, "user/update", payload, len);
    return LGW_OK;
}
