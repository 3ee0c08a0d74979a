/*
 * Internals shared by the gw_cloud source files (not for other components).
 * Everything here is owned by the loop thread except `q_*` (the queue Paho's
 * threads fill under q_mutex), `pub_*` (the publisher thread's queue and
 * locks, cloud_publish.c; `client` and `gen` change only under
 * pub_client_mutex) and the atomic counters.
 */
#ifndef LINKGW_CORE_CLOUD_INTERNAL_H
#define LINKGW_CORE_CLOUD_INTERNAL_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdatomic.h>

#include "alink_auth.h"
#include "cloud.h"

#define CLOUD_LOG "cloud"
#define CLOUD_SECRET_MAX 128
#define CLOUD_REGISTER_TIMEOUT_MS 15000

/* What Paho's threads hand to the loop. */
typedef enum cloud_ev_type {
    EV_CONNECTED,      /* CONNACK accepted */
    EV_CONNECT_FAILED, /* code + message */
    EV_LOST,           /* connection lost */
    EV_MESSAGE,        /* topic + payload */
    EV_SUBSCRIBED,     /* SUBACK (code: 0 ok, else failure) */
    EV_DISCONNECTED,   /* our DISCONNECT completed (or failed) */
} cloud_ev_type_t;

typedef struct cloud_ev {
    struct cloud_ev *next;
    cloud_ev_type_t type;
    unsigned gen; /* Paho client generation; stale events are dropped */
    int code;
    char *text;   /* failure message / topic */
    char *payload;
    size_t len;
} cloud_ev_t;

/* A message on its way to Paho (cloud_publish.c). */
typedef struct cloud_out cloud_out_t;
#define CLOUD_PUB_LAT_N 1024 /* handoff latencies kept for percentiles */

typedef struct cloud_listener {
    struct cloud_listener *next;
    gw_cloud_state_fn fn;
    void *data;
} cloud_listener_t;

typedef struct cloud_handler {
    struct cloud_handler *next;
    char *filter;
    gw_cloud_handler_fn fn;
    void *data;
} cloud_handler_t;

typedef struct cloud_sub {
    struct cloud_sub *next;
    char *filter;
    int qos;
} cloud_sub_t;

typedef struct cloud_pending {
    struct cloud_pending *next;
    char id[12];
    char *reply_topic;
    uint64_t deadline; /* uv_now() ms */
    gw_cloud_reply_fn fn;
    void *data;
} cloud_pending_t;

struct gw_cloud {
    uv_loop_t *loop;
    gw_cloud_config_t cfg;
    gw_cloud_secret_store_t store;
    bool have_store;
    char secret[CLOUD_SECRET_MAX]; /* device secret in use (config or store) */

    gw_cloud_state_t state;
    bool started, closing, registering;
    bool reg_leaving; /* registration session disconnecting (done, or given up) */
    const char *reg_leave_retry; /* after leaving: NULL = connect, else retry later for this reason */
    bool connect_inflight; /* MQTTAsync_connect issued, no answer yet */
    bool close_wait;       /* closing: waiting for Paho to finish connect/disconnect */
    bool close_done;
    MQTTAsync client;
    char *client_id;  /* MQTT client id of `client` */
    void *ctx_list;   /* cloud_ctx_t list (cloud_session.c) */
    uint64_t created_ns;
    unsigned gen;
    unsigned backoff_min_ms, backoff_max_ms, attempt;

    uv_async_t async;
    uv_timer_t retry_timer;   /* reconnect backoff */
    uv_timer_t request_timer; /* request timeouts, register timeout */
    uv_timer_t self_timer;    /* the gateway's own property report */
    int open_handles;
    gw_cloud_closed_fn closed_fn;
    void *closed_data;

    pthread_mutex_t q_mutex;
    cloud_ev_t *q_head, *q_tail;

    cloud_listener_t *listeners;
    cloud_handler_t *handlers;
    cloud_sub_t *subs;
    cloud_pending_t *pending;
    uint32_t next_id;
    uint64_t register_deadline;
    char reg_random[24]; /* registration nonce */

    int64_t ntp_offset_ms;
    bool ntp_synced;
    int64_t ntp_sent_ms;

    unsigned self_interval_ms;
    gw_cloud_count_fn self_count;
    void *self_count_data;

    gw_cloud_stats_t stats; /* loop-thread counters */
    atomic_uint_fast64_t acked;

    /* the publisher thread (cloud_publish.c); pub_head/tail/stop/busy/lat under pub_q_mutex */
    pthread_t pub_thread;
    bool pub_running, pub_stop, pub_busy;
    pthread_mutex_t pub_q_mutex;
    pthread_mutex_t pub_client_mutex; /* held by the publisher across Paho calls; by the loop to change client/gen */
    pthread_cond_t pub_cond, pub_idle;
    cloud_out_t *pub_head, *pub_tail;
    uint32_t pub_lat_us[CLOUD_PUB_LAT_N];
    size_t pub_lat_n;
    atomic_uint_fast64_t pub_failed;
};

/* cloud_config.c */
int cloud_config_copy(gw_cloud_config_t *dst, const gw_cloud_config_t *src);

/* cloud_session.c */
void cloud_set_state(gw_cloud_t *c, gw_cloud_state_t s);
bool cloud_is_connected(const gw_cloud_t *c);
int cloud_qos_for(const char *topic);
int cloud_send(gw_cloud_t *c, const char *topic, const void *payload, size_t len);

/* cloud_publish.c: the publisher thread */
/* Starts it (0), or -1: then cloud_send() calls Paho itself. */
int cloud_publisher_start(gw_cloud_t *c);
/* Hands a copy of the message to the thread (LGW_OK / LGW_ENOMEM). Loop thread. */
/* Queues a message for the publisher thread: @p buf shared (a reference is taken) when not NULL,
 * else a copy of @p payload. */
int cloud_publisher_send(gw_cloud_t *c, const char *topic, const void *payload, gw_cloud_buf_t *buf, size_t len,
                         int qos);
/* Waits until everything queued has been handed to Paho (or dropped as stale). */
void cloud_publisher_flush(gw_cloud_t *c);
/* Stops and joins the thread; what is still queued is dropped. */
void cloud_publisher_stop(gw_cloud_t *c);
/* Around every change of c->client / c->gen on the loop thread. */
void cloud_client_lock(gw_cloud_t *c);
void cloud_client_unlock(gw_cloud_t *c);
/* cloud_send() → accepted by Paho, over the last 1024 messages, in µs. */
void cloud_publisher_latency(gw_cloud_t *c, uint32_t *p50, uint32_t *p99);
int cloud_subscribe_add(gw_cloud_t *c, const char *filter);
void cloud_register_timeout(gw_cloud_t *c);

/* cloud_request.c */
bool cloud_request_on_reply(gw_cloud_t *c, const char *topic, const char *payload, size_t len);
void cloud_request_fail_all(gw_cloud_t *c, int status);
void cloud_request_arm_timer(gw_cloud_t *c);
void cloud_request_timer_cb(uv_timer_t *t);
bool cloud_request_is_reply_topic(const char *topic);

/* cloud_dispatch.c */
void cloud_dispatch(gw_cloud_t *c, const char *topic, const char *payload, size_t len);
void cloud_handlers_free(gw_cloud_t *c);

/* cloud_ntp.c */
void cloud_ntp_request(gw_cloud_t *c);
bool cloud_ntp_on_message(gw_cloud_t *c, const char *topic, const char *payload, size_t len);

/* cloud_self.c */
void cloud_self_on_state(gw_cloud_t *c);

/* misc */
int64_t cloud_realtime_ms(void);
json_t *cloud_json_id_string(json_t *v, char *buf, size_t cap); /* id → string in buf; NULL if invalid */

#endif
