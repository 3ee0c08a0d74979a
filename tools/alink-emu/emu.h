/* emu.h — internals of the alink-emu mosquitto plugin: the platform state (a jansson
 * tree, persisted to <state_dir>/state.json), the live MQTT connections, topic
 * classification, and the entry points of the protocol and console (admin) handlers.
 * Everything runs on mosquitto's single main thread. */
#ifndef EMU_H
#define EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define EMU_ADMIN_REQUEST_TOPIC "$emu/request"
#define EMU_ADMIN_RESPONSE_TOPIC "$emu/response"
#define EMU_KEY_MAX 132

/* ---- connections ---------------------------------------------------------------- */
typedef enum { EMU_CONN_DEVICE, EMU_CONN_REGISTER, EMU_CONN_ADMIN } emu_conn_kind_t;

typedef struct emu_conn {
    struct emu_conn *next;
    const void *client;          /* the broker's struct mosquitto *, compared only */
    char *client_id;
    char pk[65], dn[65], key[EMU_KEY_MAX];
    emu_conn_kind_t kind;
    bool ss;                     /* _ss=1: deliver without SUBSCRIBE */
    int ext;                     /* clientId ext bitmap (bit0: RRPC over /ext/rrpc) */
} emu_conn_t;

/* ---- global emulator ------------------------------------------------------------- */
typedef struct {
    json_t *state;               /* persisted: version, seq, products, devices, pending */
    json_t *sessions;            /* runtime: key -> {clientId, via, since} */
    json_t *audit;               /* runtime: bounded list of refusals (auth, ACL, protocol) */
    json_t *outbox;              /* deferred publishes/kicks, flushed on the next tick */
    json_t *grants;              /* runtime: "clientId topic" -> expiry ms of a one-time read grant */
    emu_conn_t *conns;
    char *state_path;
    char *admin_user, *admin_pass;
    bool dirty;
    long long last_save_ms, last_save_cost_ms;
    int topo_cap, online_cap;
    size_t history_max, events_max;
} emu_t;

extern emu_t g_emu;

/* ---- time, ids, logging ---------------------------------------------------------- */
long long emu_now_ms(void);
/* Next platform message id as a decimal string (persisted counter). */
void emu_next_id(char out[24]);
void emu_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log a refusal and append it to the runtime audit list shown by `alink-emu state`. */
void emu_audit(const char *event, const char *who, const char *detail);

/* ---- state (emu_state.c) --------------------------------------------------------- */
void emu_key(char out[EMU_KEY_MAX], const char *pk, const char *dn);
json_t *emu_product(const char *pk);
json_t *emu_device(const char *pk, const char *dn);
json_t *emu_device_by_key(const char *key);
bool emu_is_gateway(const json_t *dev);
/* Sub-device key set of a gateway device (created on demand). */
json_t *emu_topo_of(json_t *gw);
/* Session of a device: its entry in g_emu.sessions, or NULL when offline. */
json_t *emu_session(const char *key);
void emu_mark_dirty(void);
/* Random secret of `len` alphanumerics into out (len+1 bytes). */
void emu_random_alnum(char *out, size_t len);

/* Validate and add a product / device described by `spec` (console API and registry).
 * On error returns false with a message in err. `base_dir` resolves "tslFile". */
bool emu_product_add(const json_t *spec, const char *base_dir, char *err, size_t errsz);
bool emu_device_add(const json_t *spec, char *err, size_t errsz);
/* Bind sub-device `sub_key` to gateway `gw_key` (moving it from any previous gateway). */
void emu_topo_bind(const char *gw_key, const char *sub_key);
void emu_topo_unbind(const char *sub_key);

/* Load <state_dir>/state.json if present, then merge the registry file (entries already
 * in the state win). Errors are "file:line: message". */
bool emu_load(const char *registry, const char *state_dir, char *err, size_t errsz);
/* Write the state atomically (temp file, fsync, rename, 0600) when dirty, at most every
 * 300 ms (longer when saving is slow) unless force; the history goes to its journal. */
void emu_save(bool force);
void emu_free(void);

/* ---- history journal (emu_history.c) ---------------------------------------------- */
/* Reads <state_dir>/history.jsonl into the devices' "history" (only when state.json
 * existed: the journal belongs to it), then rewrites it compacted. False when the
 * journal cannot be written. Call after the state and the registry are loaded. */
bool emu_history_load(const char *state_dir, bool state_existed);
/* An entry was appended to device `key`'s history of `id` and `evicted` old ones dropped. */
void emu_history_appended(const char *key, const char *id, const json_t *value, json_int_t time, size_t evicted);
/* Entries left the history other than by eviction (a device was deleted): compact next. */
void emu_history_forget(void);
/* Writes the buffered lines (append + fdatasync), or compacts when due. */
bool emu_history_flush(void);
/**
 * Replaces @p path with @p len bytes of @p buf durably: a temp file beside it
 * (0600), fsync, rename, fsync of the directory. False (errno set, the temp
 * file removed) on failure; the old file is then untouched.
 */
bool emu_write_atomic(const char *path, const void *buf, size_t len);
/* Takes every device's "history" out of the state tree (for saving state.json without
 * it) and puts it back; attach consumes what detach returned. */
json_t *emu_history_detach(void);
void emu_history_attach(json_t *saved);
void emu_history_free(void);

/* ---- topics (emu_topic.c) -------------------------------------------------------- */
typedef enum {
    EMU_T_OTHER = 0, EMU_T_SYS, EMU_T_SESSION, EMU_T_NTP, EMU_T_ERROR, EMU_T_OTA,
    EMU_T_RRPC, EMU_T_USER, EMU_T_REGISTER, EMU_T_ADMIN
} emu_tclass_t;

enum { EMU_DIR_UP = 1, EMU_DIR_DOWN = 2, EMU_DIR_BOTH = 3 };

typedef struct {
    emu_tclass_t cls;
    char pk[65], dn[65];
    char rest[256];      /* SYS/RRPC: path after /pk/dn/ ; SESSION: op ; NTP: request|response ; OTA: op */
    char mid[32];        /* RRPC message id */
    bool wild_owner;     /* filter: pk or dn is a wildcard */
    bool user;           /* RRPC on a custom topic (rest = "user/…") */
} emu_topic_t;

/* Classify a topic (or, with is_filter, a subscription filter). */
bool emu_topic_parse(const char *topic, bool is_filter, emu_topic_t *t);
/* Which way a classified topic flows (EMU_DIR_*), 0 when unknown. */
int emu_topic_dir(const emu_topic_t *t);
/* True when a /sys rest path is a platform-to-device request (service, topo/change …). */
bool emu_rest_is_downstream(const char *rest);

/* ---- connections (emu_plugin.c) -------------------------------------------------- */
emu_conn_t *emu_conn_by_client(const void *client);
emu_conn_t *emu_conn_by_key(const char *key);
emu_conn_t *emu_conn_by_client_id(const char *client_id);
/* Connection that carries traffic for device `key` (itself, or its gateway for a
 * logged-in sub-device); NULL when the device is offline. */
emu_conn_t *emu_route(const char *key);

/* ---- output (emu_plugin.c) ------------------------------------------------------- */
/* Publish `payload` (stolen) on `topic` towards connection c: directly when the device
 * asked for server-side subscription (_ss=1), else to its subscriptions. */
void emu_send(const emu_conn_t *c, const char *topic, json_t *payload, int qos);
/* Same, deferred to the next tick (for clients still inside CONNECT). */
void emu_send_later(const char *client_id, bool direct, const char *topic, json_t *payload, int qos);
/* Disconnect a client on the next tick (never from inside a callback). */
void emu_kick_later(const char *client_id);
/* Sends @p payload to gateway connection @p c on @p topic, a topic of one of its
 * sub-devices that is about to leave its topology (thing/delete): the read
 * permission is granted now, at send time, because mosquitto checks it only
 * when it delivers, after the caller has removed the sub-device. The grant is
 * used up by that delivery, or expires after a few seconds. */
void emu_send_farewell(const emu_conn_t *c, const char *topic, json_t *payload, int qos);

/* ---- protocol (emu_proto.c) ------------------------------------------------------ */
/* Handle a message published by device connection c. Returns true when the message must
 * be dropped by the broker (consumed, or refused with a reply). */
bool emu_proto_message(emu_conn_t *c, const char *topic, const void *payload, size_t len);
/* A device or gateway came online / went offline (connection level). */
void emu_proto_online(emu_conn_t *c);
void emu_proto_offline(emu_conn_t *c);
/* End the session of sub-device `key` (logout, topo delete, disable …). */
void emu_end_session(const char *key);
/* Connection c was allowed a subscription: re-send pending OTA tasks it now covers
 * (after the SUBSCRIBE is in place, i.e. on the next tick). */
void emu_proto_subscribed(emu_conn_t *c, const char *filter);
/* Deliver the pending OTA task of device `key`, if any and the device is online. */
void emu_ota_deliver(const char *key);
/* Build {"id","code","data","message"} */
json_t *emu_reply_body(const char *id, int code, json_t *data, const char *message);
const char *emu_code_message(int code);

/* ---- custom topics and raw data (emu_custom.c) ------------------------------------ */
#define EMU_MESSAGE_MAX (1024 * 1024)   /* platform payload limit (protocol notes §1.3) */
#define EMU_TOPIC_MAX 128               /* platform topic limit */
/* Validate a product's "topics" (custom topic classes) and "dataFormat"; normalised
 * copies are put into prod. False with err on bad input. */
bool emu_custom_product(const json_t *spec, json_t *prod, char *err, size_t errsz);
/* ACL for custom topics, custom RRPC and raw topics: NULL when allowed, else why not. */
const char *emu_custom_acl(const emu_topic_t *t, int access, size_t payloadlen, const char *topic);
/* A device published on a custom / raw / custom-RRPC topic: store, answer, resolve
 * pending console requests. Returns true when handled (the message is consumed). */
bool emu_custom_message(emu_conn_t *c, const emu_topic_t *t, const char *topic, const void *payload, size_t len);
/* Console commands user.publish, user.rrpc, raw.down, messages; NULL when answered later. */
json_t *emu_custom_admin(const char *cmd, const json_t *req, const emu_conn_t *admin, const char *cid);
/* Publish raw bytes towards connection c (like emu_send). */
void emu_send_bytes(const emu_conn_t *c, const char *topic, const void *payload, size_t len, int qos);

/* ---- console / admin (emu_admin.c) ----------------------------------------------- */
void emu_admin_message(emu_conn_t *c, const void *payload, size_t len);
/* A device answered a downstream request: resolve the pending entry `id`. */
bool emu_pending_resolve(const char *id, const char *key, const json_t *reply);
/* Expire pending requests past their deadline. */
void emu_pending_tick(long long now);
/* Add a pending downstream request answered to admin client `admin` with `cid`. */
void emu_pending_add(const char *id, const char *key, const char *kind, const char *admin, const char *cid,
                     long long timeout_ms);
void emu_admin_respond(const char *client_id, const char *cid, json_t *body);

#endif
