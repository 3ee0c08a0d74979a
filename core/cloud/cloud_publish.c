/*
 * gw_cloud publisher: the one thread that hands outgoing messages to Paho.
 *
 * Why a thread: MQTTAsync_sendMessage() takes Paho's client mutex, which
 * Paho's own send and receive threads hold while they work. On a loaded
 * 2-core host those threads get preempted with the mutex held, and the loop
 * thread then sat in MQTTAsync_sendMessage() for up to 4.4 ms (measured under
 * bench_data at 100,000 values/s: hundreds of calls over 0.5 ms) — every
 * report, downlink and timer of the gateway waited with it. Now the loop only
 * appends a copy to a queue (a short mutex of our own, never held across a
 * Paho call); this thread waits on Paho's mutex instead.
 *
 * Ordering: one queue, one thread — messages reach Paho in publish order.
 * Staleness: each message carries the client generation it was published
 * for; after a reconnect (new client, new generation) older messages are
 * dropped, as Paho itself drops what was queued on a lost connection (the
 * data layer resends what it has not seen acknowledged).
 * Locking: c->client and c->gen change only with pub_client_mutex held (on
 * the loop thread, cloud_session.c); this thread holds it across its Paho
 * calls, so a client is never destroyed under it.
 */
#include "cloud_internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

struct cloud_out {
    struct cloud_out *next;
    unsigned gen;
    int qos;
    uint64_t queued_ns;
    size_t len;
    char *topic;
    gw_cloud_buf_t *buf; /* the payload when shared (gw_cloud_publish_buf), else in data[] */
    char data[];         /* payload (unless shared), then the topic */
};

/* ---- shared payloads ---------------------------------------------------------------- */

struct gw_cloud_buf {
    atomic_uint refs;
    size_t cap;
    char data[];
};

gw_cloud_buf_t *gw_cloud_buf_new(size_t cap)
{
    gw_cloud_buf_t *b = malloc(sizeof *b + cap + 1);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->cap = cap;
    b->data[cap] = '\0';
    return b;
}

char *gw_cloud_buf_data(gw_cloud_buf_t *b)
{
    return b ? b->data : NULL;
}

size_t gw_cloud_buf_cap(const gw_cloud_buf_t *b)
{
    return b ? b->cap : 0;
}

gw_cloud_buf_t *gw_cloud_buf_ref(gw_cloud_buf_t *b)
{
    if (b)
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void gw_cloud_buf_release(gw_cloud_buf_t *b)
{
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        free(b);
}

static void out_free(cloud_out_t *m)
{
    gw_cloud_buf_release(m->buf);
    free(m);
}

/* Handoff times (cloud_send() → Paho's acceptance) of one batch, recorded under one lock. */
typedef struct lat_batch {
    size_t n;
    uint32_t us[64];
} lat_batch_t;

static void lat_flush(gw_cloud_t *c, lat_batch_t *b)
{
    if (!b->n)
        return;
    pthread_mutex_lock(&c->pub_q_mutex);
    for (size_t i = 0; i < b->n; i++)
        c->pub_lat_us[c->pub_lat_n++ % CLOUD_PUB_LAT_N] = b->us[i];
    pthread_mutex_unlock(&c->pub_q_mutex);
    b->n = 0;
}

static void lat_add(gw_cloud_t *c, lat_batch_t *b, uint64_t queued_ns)
{
    uint64_t us = (uv_hrtime() - queued_ns) / 1000;
    b->us[b->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    if (b->n == sizeof b->us / sizeof b->us[0])
        lat_flush(c, b);
}

static void *publisher(void *arg)
{
    gw_cloud_t *c = arg;
    bool warned = false;
    unsigned warned_gen = 0;
    for (;;) {
        pthread_mutex_lock(&c->pub_q_mutex);
        while (!c->pub_head && !c->pub_stop)
            pthread_cond_wait(&c->pub_cond, &c->pub_q_mutex);
        cloud_out_t *m = c->pub_head;
        c->pub_head = c->pub_tail = NULL;
        bool stop = c->pub_stop;
        c->pub_busy = m != NULL;
        pthread_mutex_unlock(&c->pub_q_mutex);
        if (!m && stop)
            return NULL;
        lat_batch_t lat = {0};
        pthread_mutex_lock(&c->pub_client_mutex);
        while (m) {
            cloud_out_t *next = m->next;
            if (!stop && c->client && m->gen == c->gen) {
                MQTTAsync_message msg = MQTTAsync_message_initializer;
                msg.payload = m->buf ? m->buf->data : m->data;
                msg.payloadlen = (int)m->len;
                msg.qos = m->qos;
                int rc = MQTTAsync_sendMessage(c->client, m->topic, &msg, NULL);
                if (rc == MQTTASYNC_SUCCESS) {
                    lat_add(c, &lat, m->queued_ns);
                } else {
                    atomic_fetch_add(&c->pub_failed, 1);
                    if (!warned || warned_gen != m->gen) /* once per connection */
                        GW_WARN(CLOUD_LOG, "publish %s: %s (later messages of this connection: counted only)",
                                m->topic, MQTTAsync_strerror(rc));
                    warned = true;
                    warned_gen = m->gen;
                }
            }
            out_free(m); /* Paho copied the payload */
            m = next;
        }
        pthread_mutex_unlock(&c->pub_client_mutex);
        lat_flush(c, &lat);
        pthread_mutex_lock(&c->pub_q_mutex);
        c->pub_busy = false;
        if (!c->pub_head)
            pthread_cond_broadcast(&c->pub_idle);
        pthread_mutex_unlock(&c->pub_q_mutex);
    }
}

void cloud_publisher_flush(gw_cloud_t *c)
{
    if (!c->pub_running)
        return;
    pthread_mutex_lock(&c->pub_q_mutex);
    while (c->pub_head || c->pub_busy)
        pthread_cond_wait(&c->pub_idle, &c->pub_q_mutex);
    pthread_mutex_unlock(&c->pub_q_mutex);
}

int cloud_publisher_start(gw_cloud_t *c)
{
    pthread_mutex_init(&c->pub_q_mutex, NULL);
    pthread_mutex_init(&c->pub_client_mutex, NULL);
    pthread_cond_init(&c->pub_cond, NULL);
    pthread_cond_init(&c->pub_idle, NULL);
    if (pthread_create(&c->pub_thread, NULL, publisher, c) != 0) {
        pthread_cond_destroy(&c->pub_idle);
        pthread_cond_destroy(&c->pub_cond);
        pthread_mutex_destroy(&c->pub_client_mutex);
        pthread_mutex_destroy(&c->pub_q_mutex);
        return -1;
    }
    pthread_setname_np(c->pub_thread, "cloud-publish");
    c->pub_running = true;
    return 0;
}

void cloud_publisher_stop(gw_cloud_t *c)
{
    if (!c->pub_running)
        return;
    pthread_mutex_lock(&c->pub_q_mutex);
    c->pub_stop = true;
    pthread_cond_signal(&c->pub_cond);
    pthread_mutex_unlock(&c->pub_q_mutex);
    pthread_join(c->pub_thread, NULL);
    c->pub_running = false;
    for (cloud_out_t *m = c->pub_head, *n; m; m = n) {
        n = m->next;
        out_free(m);
    }
    c->pub_head = c->pub_tail = NULL;
    pthread_cond_destroy(&c->pub_idle);
    pthread_cond_destroy(&c->pub_cond);
    pthread_mutex_destroy(&c->pub_client_mutex);
    pthread_mutex_destroy(&c->pub_q_mutex);
}

void cloud_client_lock(gw_cloud_t *c)
{
    if (c->pub_running)
        pthread_mutex_lock(&c->pub_client_mutex);
}

void cloud_client_unlock(gw_cloud_t *c)
{
    if (c->pub_running)
        pthread_mutex_unlock(&c->pub_client_mutex);
}

int cloud_publisher_send(gw_cloud_t *c, const char *topic, const void *payload, gw_cloud_buf_t *buf, size_t len,
                         int qos)
{
    size_t tlen = strlen(topic), inline_len = buf ? 0 : len;
    cloud_out_t *m = malloc(sizeof *m + inline_len + tlen + 1);
    if (!m)
        return LGW_ENOMEM;
    m->next = NULL;
    m->gen = c->gen;
    m->qos = qos;
    m->len = len;
    m->queued_ns = uv_hrtime();
    m->buf = gw_cloud_buf_ref(buf);
    if (inline_len)
        memcpy(m->data, payload, inline_len);
    m->topic = m->data + inline_len;
    memcpy(m->topic, topic, tlen + 1);
    pthread_mutex_lock(&c->pub_q_mutex);
    bool idle = !c->pub_head;
    if (c->pub_tail)
        c->pub_tail->next = m;
    else
        c->pub_head = m;
    c->pub_tail = m;
    if (idle)
        pthread_cond_signal(&c->pub_cond);
    pthread_mutex_unlock(&c->pub_q_mutex);
    return LGW_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void cloud_publisher_latency(gw_cloud_t *c, uint32_t *p50, uint32_t *p99)
{
    uint32_t tmp[CLOUD_PUB_LAT_N];
    *p50 = *p99 = 0;
    if (!c->pub_running)
        return;
    pthread_mutex_lock(&c->pub_q_mutex);
    size_t n = c->pub_lat_n < CLOUD_PUB_LAT_N ? c->pub_lat_n : CLOUD_PUB_LAT_N;
    memcpy(tmp, c->pub_lat_us, n * sizeof *tmp);
    pthread_mutex_unlock(&c->pub_q_mutex);
    if (!n)
        return;
    qsort(tmp, n, sizeof *tmp, cmp_u32);
    *p50 = tmp[n / 2];
    *p99 = tmp[n * 99 / 100 < n ? n * 99 / 100 : n - 1];
}

void gw_cloud_publish_latency(gw_cloud_t *c, uint32_t *p50_us, uint32_t *p99_us)
{
    *p50_us = *p99_us = 0;
    if (c)
        cloud_publisher_latency(c, p50_us, p99_us);
}
