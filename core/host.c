/*
 * The host object and its cross-thread queue (host.h), plus the small host
 * API functions of host.h "Instances, logging, time".
 */
#include "host.h"
#include "hub.h"
#include "instance.h"
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static void xq_async_cb(uv_async_t *a) { gw_xq_drain(a->data); }

int gw_host_init(gw_host_t *host, uv_loop_t *loop)
{
    host->loop = loop;
    host->loop_thread = pthread_self();
    host->request_timeout_ms = 10000;
    gw_list_init(&host->instances);
    host->xq_head = host->xq_tail = NULL;
    host->xq_reports = 0;
    host->xq_report_limit = 100000;
    host->xq_dropped = 0;
    host->xq_warned_ms = 0;
    pthread_mutex_init(&host->xq_lock, NULL);
    int rc = uv_async_init(loop, &host->xq_async, xq_async_cb);
    if (rc != 0) {
        pthread_mutex_destroy(&host->xq_lock);
        return LGW_EIO;
    }
    host->xq_async.data = host;
    host->hub = gw_hub_new(host);
    if (!host->hub) {
        uv_close((uv_handle_t *)&host->xq_async, NULL);
        pthread_mutex_destroy(&host->xq_lock);
        return LGW_ENOMEM;
    }
    return LGW_OK;
}

void gw_host_close(gw_host_t *host)
{
    gw_xq_drain(host);
    gw_hub_free(host->hub);
    host->hub = NULL;
    uv_close((uv_handle_t *)&host->xq_async, NULL);
    pthread_mutex_destroy(&host->xq_lock);
}

bool gw_host_check_loop(const gw_host_t *host, const char *fn)
{
    if (pthread_equal(pthread_self(), host->loop_thread))
        return true;
    GW_ERROR("plugin", "%s() called outside the loop thread; refused (see host.h threading rules)", fn);
    return false;
}

/* Appends @p m; xq_lock held. */
static void xq_append(gw_host_t *host, gw_xmsg_t *m)
{
    m->next = NULL;
    if (host->xq_tail)
        host->xq_tail->next = m;
    else
        host->xq_head = m;
    host->xq_tail = m;
}

bool gw_xq_post_report(gw_host_t *host, gw_xmsg_t *m)
{
    pthread_mutex_lock(&host->xq_lock);
    if (host->xq_reports >= host->xq_report_limit) {
        host->xq_dropped++;
        pthread_mutex_unlock(&host->xq_lock);
        uv_async_send(&host->xq_async); /* the drain logs the drops */
        return false;
    }
    host->xq_reports++;
    xq_append(host, m);
    pthread_mutex_unlock(&host->xq_lock);
    uv_async_send(&host->xq_async);
    return true;
}

void gw_xq_report_done(gw_host_t *host)
{
    pthread_mutex_lock(&host->xq_lock);
    host->xq_reports--;
    pthread_mutex_unlock(&host->xq_lock);
}

void gw_xq_post(gw_host_t *host, gw_xmsg_t *m)
{
    m->next = NULL;
    pthread_mutex_lock(&host->xq_lock);
    if (host->xq_tail)
        host->xq_tail->next = m;
    else
        host->xq_head = m;
    host->xq_tail = m;
    pthread_mutex_unlock(&host->xq_lock);
    uv_async_send(&host->xq_async);
}

void gw_xq_drain(gw_host_t *host)
{
    for (;;) {
        pthread_mutex_lock(&host->xq_lock);
        gw_xmsg_t *m = host->xq_head;
        host->xq_head = host->xq_tail = NULL;
        uint64_t dropped = host->xq_dropped, now = dropped ? lgw_monotonic_ms() : 0;
        bool warn = dropped && (host->xq_warned_ms == 0 || now - host->xq_warned_ms >= 10000);
        if (warn) /* at most one warning per 10 s, with the count since the last one */
            host->xq_dropped = 0;
        pthread_mutex_unlock(&host->xq_lock);
        if (warn) {
            host->xq_warned_ms = now;
            GW_WARN("linkgw", "%llu report(s) refused: more than %zu were waiting for the event loop",
                    (unsigned long long)dropped, host->xq_report_limit);
        }
        if (!m)
            return;
        while (m) {
            gw_xmsg_t *next = m->next;
            m->deliver(m);
            m = next;
        }
    }
}

/* ---- host.h: instances, logging, time ---------------------------------- */

LGW_HOST_API const char *lgw_instance_name(const lgw_instance_t *inst) { return inst ? inst->name : NULL; }

LGW_HOST_API void lgw_logv(const lgw_instance_t *inst, lgw_log_level_t level, const char *fmt, va_list ap)
{
    gw_logv(level, inst ? inst->log_comp : "plugin", fmt, ap);
}

LGW_HOST_API void lgw_log(const lgw_instance_t *inst, lgw_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lgw_logv(inst, level, fmt, ap);
    va_end(ap);
}

LGW_HOST_API bool lgw_log_enabled(lgw_log_level_t level) { return gw_log_enabled(level); }

/* Correction of the local clock learnt from the cloud (ms), see gw_time_set_offset(). */
static _Atomic int64_t g_time_offset_ms;

void gw_time_set_offset(int64_t offset_ms) { atomic_store(&g_time_offset_ms, offset_ms); }

LGW_HOST_API int64_t lgw_time_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&g_time_offset_ms);
}

LGW_HOST_API uint64_t lgw_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

LGW_HOST_API const char *lgw_strerror(int result)
{
    switch (result) {
    case LGW_OK: return "success";
    case LGW_EINVAL: return "invalid argument";
    case LGW_ENOMEM: return "out of memory";
    case LGW_ENOENT: return "no such item";
    case LGW_ETYPE: return "wrong type";
    case LGW_ESTATE: return "not allowed in the current state";
    case LGW_ENOTSUP: return "not supported";
    case LGW_ECANCELED: return "cancelled";
    case LGW_ETIMEDOUT: return "timed out";
    case LGW_EIO: return "I/O error";
    case LGW_EBUSY: return "busy";
    case LGW_ERANGE: return "out of range";
    default: return "unknown error";
    }
}
