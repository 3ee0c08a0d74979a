/*
 * Internals of the KNX plugin shared by its files: the instance state and the
 * functions one part calls in another. Not part of any public interface.
 *
 *   knx_plugin.c  entry points, lifecycle, rx dispatch, property writes
 *   knx_reads.c   the read table, paced read queue, poll groups, property
 *                 reads, online/offline bookkeeping
 *   knx_values.c  conversions between codec values and SDK values
 *   knx_learn.c   learn mode: unclaimed group addresses
 *
 * Everything here runs on the host's loop thread.
 */
#ifndef KNX_PLUGIN_H
#define KNX_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linkgw/linkgw.h>

#include "knx_apdu.h"
#include "knx_conf.h"
#include "knx_dpt.h"
#include "knx_link.h"

/* Device-defined reply codes (LGW_REPLY_DEVICE_MIN..MAX). */
#define KNX_REPLY_BUS_DOWN 100001     /* knxd is not connected */
#define KNX_REPLY_SEND_FAILED 100002  /* knxd connection broke while sending */
#define KNX_REPLY_NO_ANSWER 100003    /* a read request got no answer in time */

#define KNX_LEARNED_MODEL "knx_learned"

/* One distinct read address and the devices that must answer a read to it. */
typedef struct knx_read {
    uint16_t ga;
    knx_device_t **devs;
    size_t n_devs;
    bool queued;           /* waiting in the send queue */
} knx_read_t;

/* Reads queued together: on connect (poll_ms 0) or every poll_ms. */
typedef struct knx_read_group {
    struct knx *k;
    uint32_t poll_ms;
    size_t *reads;         /* indices into knx_t.reads, distinct */
    size_t n_reads;
    lgw_timer_t *timer;
} knx_read_group_t;

/* A property read request waiting for the bus to answer. */
typedef struct knx_pread {
    struct knx_pread *next;
    lgw_request_t *req;
    knx_point_t **pts;
    bool *got;
    size_t n, n_got;
    uint64_t deadline;     /* monotonic ms */
} knx_pread_t;

/* One (group address → point) binding; sorted by address, then device, then point. */
typedef struct knx_ref {
    uint16_t ga;
    knx_point_t *pt;
} knx_ref_t;

typedef struct knx {
    lgw_instance_t *inst;
    knx_settings_t cfg;
    knx_ref_t *refs;
    size_t n_refs;
    knx_read_t *reads;
    size_t n_reads;
    knx_read_group_t on_connect;
    knx_read_group_t *polls;
    size_t n_polls;
    /* read requests go out paced (read_rate per second) from this ring of read indices */
    size_t *queue;
    size_t q_head, q_len;
    lgw_timer_t *pace_timer;
    bool pacing;
    knx_pread_t *preads;         /* property read requests in progress */
    knx_link_t *link;
    lgw_timer_t *offline_timer;
    bool running;
    /* learn mode */
    bool learning;
    uint8_t seen[65536 / 8];     /* unclaimed addresses already logged */
    uint8_t reported[65536 / 8]; /* unclaimed addresses reported as devices in this scan */
    uint32_t n_reported;
    bool learn_full_logged;
} knx_t;

/* ---- knx_values.c ------------------------------------------------------------ */

/** New SDK value for @p v (NULL when out of memory); 232.600 becomes { Red, Green, Blue }. */
lgw_value_t *knx_to_value(const knx_val_t *v);
/** Adds @p v under @p name to report @p r with the SDK type of its kind. */
int knx_report_add(lgw_report_t *r, const char *name, const knx_val_t *v);
/** Converts an SDK value into a codec value. Returns a KNX_DPT_E* code. */
int knx_from_value(const lgw_value_t *v, knx_val_t *out);
/** Decodes the payload of @p a for @p dpt (small DPTs take the 6-bit value). KNX_DPT_E* code. */
int knx_decode_apdu(knx_dpt_t dpt, const knx_apdu_t *a, knx_val_t *out);

/* ---- knx_reads.c -------------------------------------------------------------- */

/** Reports @p dev online/offline (and logs why) when that changes. */
void knx_set_online(knx_t *k, knx_device_t *dev, bool online, const char *why);
/** A telegram from (or for) @p dev arrived: it answers, so it is online. */
void knx_device_heard(knx_t *k, knx_device_t *dev, uint16_t src);
/** Timer: devices whose reads went unanswered go offline; overdue property reads fail. */
void knx_on_offline_tick(lgw_timer_t *timer, void *data);
/** Timer: sends the next queued read. */
void knx_on_pace(lgw_timer_t *timer, void *data);
/** Timer of a poll group: queues its reads. */
void knx_on_poll(lgw_timer_t *timer, void *data);
/** Queues read entry @p idx unless already queued; follow with knx_pace_start(). */
void knx_queue_read(knx_t *k, size_t idx);
/** Starts sending the queue if it is idle. */
void knx_pace_start(knx_t *k);
/** Queues every read of @p g and starts sending. */
void knx_queue_reads(knx_t *k, knx_read_group_t *g);
/** Empties the queue (the link went down or the instance stops). */
void knx_clear_queue(knx_t *k);
/** Index of the read entry of @p pt's read address (created on first use, @p pt's device added), or -1. */
long knx_read_index(knx_t *k, knx_point_t *pt);
/** Adds @p pt's read to @p g (each address once). LGW_OK or LGW_ENOMEM. */
int knx_group_add(knx_t *k, knx_read_group_t *g, knx_point_t *pt);
/** Frees a read group's timer and table. */
void knx_group_free(knx_read_group_t *g);
/** Hands the decoded value of @p pt to the property reads waiting for it. */
void knx_preads_offer(knx_t *k, knx_point_t *pt, const knx_val_t *v);
/** Completes every pending property read with @p code and @p msg. */
void knx_preads_fail_all(knx_t *k, int code, const char *msg);
/** The lgw_read_cb: property reads become GroupValue_Read requests. */
int knx_read_request(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *names);

/* ---- knx_learn.c --------------------------------------------------------------- */

/** "read", "response" or "write". */
const char *knx_apci_name(knx_apci_t apci);
/** Payload of @p a in hex ("" for reads; the 6-bit value for small telegrams). */
void knx_payload_hex(const knx_apdu_t *a, char *buf, size_t size);
/** A telegram to an address no point claims: log it once, report it while learning. */
void knx_learn(knx_t *k, uint16_t src, uint16_t dst, const knx_apdu_t *a);

#endif /* KNX_PLUGIN_H */
