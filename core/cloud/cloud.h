/*
 * gw_cloud — the gateway's own Alink session with the Alibaba Cloud IoT
 * platform (or tools/alink-emu), over Paho MQTT C async + OpenSSL.
 *
 * Threading: every gw_cloud_* function must be called on the thread running
 * the uv_loop_t given to gw_cloud_new() (the "loop thread"), and every
 * callback below is invoked on that thread. Paho's own threads never touch
 * gw_cloud state: what they deliver is queued under a mutex and handed to the
 * loop with a uv_async_t.
 *
 * Lifecycle:
 *   gw_cloud_config_init / gw_cloud_config_parse   fill a gw_cloud_config_t
 *   gw_cloud_new(loop, cfg, store)                 copies cfg; nothing happens yet
 *   gw_cloud_add_state_listener / gw_cloud_on      before or after start
 *   gw_cloud_start                                 registers (if needed), connects,
 *                                                  reconnects forever with backoff
 *   gw_cloud_request / gw_cloud_publish / gw_cloud_reply_to   while CONNECTED
 *   gw_cloud_close(c, done, data)                  fails pending requests
 *                                                  (LGW_ECANCELED) at once, sends
 *                                                  DISCONNECT (or lets an in-flight
 *                                                  connect finish; ≤ 15 s), frees c,
 *                                                  then calls done (loop must run)
 *
 * Connection state is an event: listeners see every transition.
 * Requests: Alink ids are decimal strings from a per-session counter; replies
 * on "<topic>_reply" are matched by id; each request has a timeout; when the
 * connection drops, pending requests fail with LGW_EIO at once.
 * QoS (cloud_qos_for()): 0 for /ext/session/... and /ext/ntp/... (platform
 * requirement), for posts (/thing/event/.../post) and for the subscriptions to
 * replies (delivery is proven by the Alink reply); 1 elsewhere.
 */
#ifndef LINKGW_CORE_CLOUD_H
#define LINKGW_CORE_CLOUD_H

#include <jansson.h>
#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <linkgw/common.h>

#include "alink_sign.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ config */

/** Settings of the `cloud { ... }` group. Strings are owned (heap) copies. */
typedef struct gw_cloud_config {
    char *host;                       /**< required */
    int port;                         /**< required, 1..65535 */
    bool tls;                         /**< default true (securemode 2); false = plain TCP (securemode 3) */
    char *ca_file;                    /**< PEM bundle; NULL = system trust store */
    bool verify;                      /**< verify server certificate + host name; default true */
    char *product_key;                /**< required */
    char *device_name;                /**< required */
    char *device_secret;              /**< either this ... */
    char *product_secret;             /**< ... or this (dynamic registration, needs a secret store) */
    gw_alink_sign_method_t sign_method; /**< default hmacsha256 */
    int keepalive;                    /**< seconds, 30..1200, default 300 */
    char *client_id;                  /**< part before '|'; NULL = "<pk>.<dn>" */
    int register_securemode;          /**< `register_securemode`: 2 (default) or -2 (new instances) */
    char *instance_id;                /**< `instance_id`, sent when registering with securemode -2 */
    int request_timeout_ms;           /**< `request_timeout_ms`: default reply timeout, default 10000 */
} gw_cloud_config_t;

/** Fills @p cfg with the defaults (all strings NULL). */
void gw_cloud_config_init(gw_cloud_config_t *cfg);
/** Frees the strings of @p cfg and re-initialises it. */
void gw_cloud_config_free(gw_cloud_config_t *cfg);

/**
 * Receives one validation error about @p node (the offending setting, or the
 * group itself for a missing setting; NULL when there is no group at all).
 * @p file may be NULL (config parsed from a string).
 */
typedef void (*gw_cloud_config_error_fn)(void *data, const config_setting_t *node, const char *file, int line,
                                         const char *message);

/**
 * Reads and validates the `cloud` group @p group into @p cfg (which it first
 * initialises). Every problem is reported through @p err (NULL = log
 * "file:line: message" at ERROR level): unknown settings, wrong types, missing
 * required settings, ports/keepalive out of range, unknown sign_method,
 * neither/both secrets, an unreadable ca_file. Returns the number of errors
 * (0 = @p cfg is usable; otherwise it has been freed).
 */
int gw_cloud_config_parse(const config_setting_t *group, gw_cloud_config_t *cfg, gw_cloud_config_error_fn err,
                          void *data);

/* ------------------------------------------------------------ secret store */

/**
 * Where a dynamically registered DeviceSecret is kept. Both callbacks run on
 * the loop thread and may block briefly (a local file / SQLite write).
 *  - load: copy the secret of (pk, dn) into @p out (cap @p cap); return 0 if
 *    found, 1 if none is stored, -1 on error.
 *  - save: store it durably (it is used only after save returned 0); -1 on error.
 */
typedef struct gw_cloud_secret_store {
    int (*load)(void *data, const char *product_key, const char *device_name, char *out, size_t cap);
    int (*save)(void *data, const char *product_key, const char *device_name, const char *secret);
    void *data;
} gw_cloud_secret_store_t;

/**
 * A simple store in one file (mode 0600, written to a temp file, fsync'd and
 * renamed over the old one). Plain text: it is for tests and development; the
 * daemon uses the encrypted SQLite store. @p path is borrowed and must outlive
 * the store.
 */
gw_cloud_secret_store_t gw_cloud_secret_file_store(const char *path);

/* --------------------------------------------------------------- session */

typedef struct gw_cloud gw_cloud_t;

/** Connection states, in the order a healthy start walks through them. */
typedef enum gw_cloud_state {
    GW_CLOUD_IDLE = 0,        /**< created, not started */
    GW_CLOUD_REGISTERING = 1, /**< dynamic registration session in progress */
    GW_CLOUD_CONNECTING = 2,  /**< MQTT connect (or subscribe) in progress */
    GW_CLOUD_CONNECTED = 3,   /**< CONNACK ok and subscriptions sent: requests may flow */
    GW_CLOUD_WAITING = 4,     /**< disconnected; a reconnect is scheduled (backoff) */
    GW_CLOUD_CLOSED = 5       /**< gw_cloud_close() was called */
} gw_cloud_state_t;

/** Name of a state ("connected", ...). */
const char *gw_cloud_state_name(gw_cloud_state_t s);

/** Counters, for tests and metrics. */
typedef struct gw_cloud_stats {
    uint64_t connect_attempts;  /**< MQTT CONNECTs tried (registration included) */
    uint64_t connects;          /**< successful CONNACKs of the normal session */
    uint64_t registrations;     /**< DeviceSecrets obtained and saved */
    uint64_t subscriptions;     /**< distinct filters in the subscription set */
    uint64_t subscribe_calls;   /**< SUBSCRIBE packets sent (all filters of one connect = 1) */
    uint64_t published;         /**< messages handed to Paho */
    uint64_t acked;             /**< QoS 1 messages acknowledged by the broker */
    uint64_t received;          /**< messages received */
    uint64_t malformed;         /**< downstream messages rejected as malformed */
    uint64_t requests_pending;  /**< requests waiting for a reply */
    uint64_t request_timeouts;  /**< requests that timed out */
} gw_cloud_stats_t;

/**
 * Creates a session on @p loop with a copy of @p cfg. @p store is copied and
 * needed only for dynamic registration (cfg without device_secret).
 * Returns NULL on bad arguments / out of memory / Paho refusing the URI.
 */
gw_cloud_t *gw_cloud_new(uv_loop_t *loop, const gw_cloud_config_t *cfg, const gw_cloud_secret_store_t *store);

/** Starts connecting (see the lifecycle above). LGW_OK, LGW_ESTATE if already started, LGW_EINVAL. */
int gw_cloud_start(gw_cloud_t *c);

/** Called with each state change. */
typedef void (*gw_cloud_state_fn)(gw_cloud_t *c, gw_cloud_state_t state, void *data);

/** Adds a state listener (called in registration order). LGW_OK or LGW_ENOMEM. */
int gw_cloud_add_state_listener(gw_cloud_t *c, gw_cloud_state_fn fn, void *data);

/** Current state. */
gw_cloud_state_t gw_cloud_state(const gw_cloud_t *c);

/** The gateway's ProductKey / DeviceName (for building topics). */
const char *gw_cloud_product_key(const gw_cloud_t *c);
const char *gw_cloud_device_name(const gw_cloud_t *c);

/** Copies the counters. */
void gw_cloud_get_stats(const gw_cloud_t *c, gw_cloud_stats_t *out);

/**
 * Publish handoff over the last 1024 messages, in µs: from gw_cloud_publish()
 * (or a request/reply) queuing the message to Paho's client accepting it on
 * the publisher thread. 0, 0 before the first message. Loop thread.
 */
void gw_cloud_publish_latency(gw_cloud_t *c, uint32_t *p50_us, uint32_t *p99_us);

/** Overrides the reconnect backoff (default 1000 .. 60000 ms; jitter: each delay in [d/2, d]). */
void gw_cloud_set_backoff(gw_cloud_t *c, unsigned min_ms, unsigned max_ms);

/** Done callback of gw_cloud_close(); @p c is already freed. */
typedef void (*gw_cloud_closed_fn)(void *data);

/** Closes the session; see the lifecycle above. Safe in any state, also from callbacks. */
void gw_cloud_close(gw_cloud_t *c, gw_cloud_closed_fn done, void *data);

/* --------------------------------------------------------------- time */

/** Platform time in ms since the epoch: local clock corrected by the last NTP exchange. */
int64_t gw_cloud_time_ms(const gw_cloud_t *c);
/** True once an NTP response has been applied in this process. */
bool gw_cloud_time_synced(const gw_cloud_t *c);

/* ------------------------------------------------------------ requests */

/** A reply to a request (all pointers valid during the callback only). */
typedef struct gw_cloud_reply {
    const char *id;       /**< the request id */
    int code;             /**< platform code: 200 = success */
    const char *message;  /**< platform message, or NULL */
    json_t *data;         /**< the `data` member, or NULL */
} gw_cloud_reply_t;

/**
 * Completion of a request. @p status is LGW_OK when a reply arrived (then see
 * reply->code: the platform's own error codes are surfaced there unchanged),
 * LGW_ETIMEDOUT, LGW_EIO (connection lost before the reply), LGW_ECANCELED
 * (session closed) or LGW_EINVAL (reply without an integer code); @p reply is
 * NULL unless status is LGW_OK.
 */
typedef void (*gw_cloud_reply_fn)(gw_cloud_t *c, int status, const gw_cloud_reply_t *reply, void *data);

/**
 * Sends an Alink request {"id","version":"1.0","params","sys":{"ack":..},"method"}
 * on @p topic. @p params is borrowed (NULL = {}); @p method may be NULL (the
 * platform does not need it). With @p fn the request asks for a reply
 * (sys.ack 1), subscribes "<topic>_reply" (with '+' for the pk/dn levels) on
 * first use, and completes exactly once; without @p fn it asks for none
 * (sys.ack 0). @p timeout_ms 0 = the configured default. The assigned id is
 * copied to @p id_out (cap ≥ 12) when not NULL.
 * Returns LGW_OK, LGW_ESTATE (not connected: nothing sent, fn not called),
 * LGW_EINVAL, LGW_ENOMEM or LGW_EIO (Paho refused it; fn not called).
 * Nothing is buffered while disconnected: callers that must not lose data
 * keep their own journal and resend on GW_CLOUD_CONNECTED.
 */
int gw_cloud_request(gw_cloud_t *c, const char *topic, const char *method, json_t *params, unsigned timeout_ms,
                     gw_cloud_reply_fn fn, void *data, char *id_out);

/** Publishes raw bytes on @p topic with the QoS rule above. LGW_OK / LGW_ESTATE / LGW_EINVAL / LGW_EIO. */
int gw_cloud_publish(gw_cloud_t *c, const char *topic, const void *payload, size_t len);

/*
 * Shared payloads. gw_cloud_publish() copies the payload, because the message waits in the
 * publisher's queue (cloud_publish.c) after the call returns. A producer that keeps the text
 * anyway (the data layer keeps each post until its reply, to requeue its values if it fails)
 * can build it in a gw_cloud_buf_t instead and publish that: the queue takes a reference, not a
 * copy, and the buffer is freed when the last holder releases it. References may be released
 * on any thread.
 */
typedef struct gw_cloud_buf gw_cloud_buf_t;

/** A buffer of @p cap bytes (plus a NUL after them) with one reference; NULL when out of memory. */
gw_cloud_buf_t *gw_cloud_buf_new(size_t cap);
/** Its bytes (writable until published). NULL for NULL. */
char *gw_cloud_buf_data(gw_cloud_buf_t *b);
/** Its capacity in bytes, as passed to gw_cloud_buf_new(). 0 for NULL. */
size_t gw_cloud_buf_cap(const gw_cloud_buf_t *b);
/** Takes one more reference; returns @p b. NULL is accepted. */
gw_cloud_buf_t *gw_cloud_buf_ref(gw_cloud_buf_t *b);
/** Drops one reference, freeing the buffer with the last one. NULL is accepted. */
void gw_cloud_buf_release(gw_cloud_buf_t *b);

/** gw_cloud_publish() of the first @p len bytes of @p buf, which is shared rather than copied: the
 *  caller keeps its own reference and must not change the bytes afterwards. LGW_EINVAL if @p len
 *  exceeds the capacity. */
int gw_cloud_publish_buf(gw_cloud_t *c, const char *topic, gw_cloud_buf_t *buf, size_t len);

/* ------------------------------------------------------------ downstream */

/** Kinds of downstream messages, derived from the topic. */
typedef enum gw_cloud_msg_kind {
    GW_CLOUD_MSG_OTHER = 0,
    GW_CLOUD_MSG_PROPERTY_SET,  /**< /sys/pk/dn/thing/service/property/set */
    GW_CLOUD_MSG_PROPERTY_GET,  /**< /sys/pk/dn/thing/service/property/get */
    GW_CLOUD_MSG_SERVICE,       /**< /sys/pk/dn/thing/service/{id} (async) */
    GW_CLOUD_MSG_RRPC_EXT,      /**< /ext/rrpc/{mid}/sys/pk/dn/thing/service/{id} (sync) */
    GW_CLOUD_MSG_RRPC_SYS,      /**< /sys/pk/dn/rrpc/request/{mid} (sync) */
    GW_CLOUD_MSG_TOPO_CHANGE,   /**< /sys/pk/dn/thing/topo/change */
    GW_CLOUD_MSG_TOPO_NOTIFY,   /**< /sys/pk/dn/thing/topo/add/notify */
    GW_CLOUD_MSG_DISABLE,       /**< /sys/pk/dn/thing/disable */
    GW_CLOUD_MSG_ENABLE,        /**< /sys/pk/dn/thing/enable */
    GW_CLOUD_MSG_DELETE,        /**< /sys/pk/dn/thing/delete */
    GW_CLOUD_MSG_EXT_ERROR      /**< /ext/error/pk/dn */
} gw_cloud_msg_kind_t;

/**
 * One downstream message, already validated: for kinds that have a reply the
 * payload is a JSON object with an id (string or number) — anything else was
 * answered with 460 and counted as malformed before handlers run. Valid during
 * the handler call only; copy reply_topic and id to answer later.
 */
typedef struct gw_cloud_msg {
    gw_cloud_msg_kind_t kind;
    const char *topic;
    const char *payload;     /**< raw bytes, NUL-terminated */
    size_t len;
    json_t *root;            /**< parsed object, or NULL (e.g. non-JSON /ext/error) */
    const char *id;          /**< Alink id as a string, or NULL */
    const char *method;      /**< or NULL */
    json_t *params;          /**< or NULL */
    const char *product_key; /**< pk/dn levels of the topic (the device addressed) */
    const char *device_name;
    const char *service;     /**< service identifier (SERVICE, RRPC_EXT), else NULL */
    const char *rrpc_id;     /**< RRPC message id (RRPC_*), else NULL */
    const char *reply_topic; /**< where the answer goes, or NULL when the protocol has none */
} gw_cloud_msg_t;

/** A downstream handler. */
typedef void (*gw_cloud_handler_fn)(gw_cloud_t *c, const gw_cloud_msg_t *msg, void *data);

/**
 * Routes messages whose topic matches the MQTT filter @p filter (with + and #)
 * to @p fn, and adds the filter to the subscription set (subscribed now if
 * connected, and again after every reconnect; each filter once). Handlers are
 * tried in registration order; the first match wins. A request-kind message no
 * handler takes is answered with code 400. Topics ending in "_reply" that match
 * no pending request (e.g. the platform's asynchronous 427 kick on
 * /ext/session/.../combine/logout_reply) only reach handlers whose filter itself
 * contains "_reply". Returns LGW_OK / LGW_EINVAL / LGW_ENOMEM.
 * Typical filters: "/sys/+/+/thing/service/#", "/ext/rrpc/+/sys/+/+/thing/service/+",
 * "/sys/+/+/rrpc/request/+", "/sys/<pk>/<dn>/thing/topo/change", "/sys/+/+/thing/disable",
 * "/ext/error/<pk>/<dn>".
 */
int gw_cloud_on(gw_cloud_t *c, const char *filter, gw_cloud_handler_fn fn, void *data);

/**
 * Answers a downstream request: publishes {"id","code","data","message"} on
 * @p reply_topic (from gw_cloud_msg_t). @p data is borrowed (NULL = {}),
 * @p message may be NULL ("success" for 200). LGW_OK / LGW_ESTATE / LGW_EINVAL / LGW_EIO.
 */
int gw_cloud_reply_to(gw_cloud_t *c, const char *reply_topic, const char *id, int code, json_t *data,
                      const char *message);

/* ------------------------------------------------ the gateway as a device */

/** Supplies the number of sub-devices for the gateway's own report. */
typedef unsigned (*gw_cloud_count_fn)(void *data);

/**
 * Posts the gateway's own properties every @p interval_ms while connected
 * (and once right after each connect) on /sys/<pk>/<dn>/thing/event/property/post:
 * {"Uptime": s, "MemoryRssKiB": n, "SubDeviceCount": n}. @p count may be NULL.
 * interval_ms 0 stops it. LGW_OK / LGW_EINVAL.
 */
int gw_cloud_self_report(gw_cloud_t *c, unsigned interval_ms, gw_cloud_count_fn count, void *data);

/* ------------------------------------------------------------- helpers */

/** True when @p topic matches the MQTT filter @p filter. */
bool gw_cloud_topic_match(const char *filter, const char *topic);

#ifdef __cplusplus
}
#endif
#endif
