/*
 * The KNX plugin's settings: the knxd connection and the device models
 * (devices grouping points, each point a DPT and its group addresses), read
 * from the instance's conf.d `settings` group with the SDK's config.h API.
 * Every mistake is recorded as `file:line: message`; unknown keys are refused.
 *
 *   settings = {
 *     url = "local:/run/knx";          # or "ip:HOST[:PORT]" (knxd -i, port 6720)
 *     reconnect_min_ms = 500;          # first retry after a lost connection
 *     reconnect_max_ms = 30000;        # backoff doubles up to this
 *     read_timeout_ms = 10000;         # no answer to a read within this → device offline
 *     read_rate = 20;                  # read requests sent per second at most
 *     learn = false;                   # report unclaimed group addresses (see README.md)
 *     learn_max = 256;                 # at most this many learned addresses
 *     devices = (
 *       { id = "kitchen-light"; model = "knx_dimmer"; address = "1.1.5";   # address optional
 *         points = (
 *           { name = "power"; dpt = "1.001"; write = "1/1/1"; state = "1/1/2"; },
 *           { name = "level"; dpt = "5.001"; write = "1/1/3"; state = "1/1/4"; poll_ms = 60000; },
 *           { name = "temp";  dpt = "9.001"; state = "3/0/1"; listen = [ "3/0/9" ]; access = "r"; }
 *         ); }
 *     );
 *   };
 *
 * Point keys: name (required, [A-Za-z0-9_], ≤ 64 chars), dpt (required, see
 * knx_dpt.h), write (group address telegrams are sent to), state (status
 * address read requests go to; default: the write address), listen (more
 * addresses whose telegrams update the point: a string or a list of
 * strings), read_on_start (default: true when the point is readable and has a
 * state or write address), poll_ms (0 = never, else ≥ 100), access ("r", "w",
 * "rw"; default "rw" with a write address, else "r").
 */
#ifndef KNX_CONF_H
#define KNX_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <linkgw/linkgw.h>

#include "knx_dpt.h"

struct knx_device;

/** One point: one value of a device, bound to group addresses. */
typedef struct knx_point {
    char *name;
    knx_dpt_t dpt;
    lgw_type_t type;     /* the SDK type its values are reported with */
    int access;          /* LGW_ACCESS_* */
    uint16_t write_ga;   /* 0 = none */
    uint16_t read_ga;    /* where read requests go: state, else write; 0 = none */
    uint16_t *listen;    /* every address that updates the point (write, state, listen) */
    size_t n_listen;
    bool read_on_start;
    uint32_t poll_ms;    /* 0 = not polled */
    bool optimistic;     /* no state address: a successful write is reported as the new value */
    struct knx_device *dev;
    long read_idx;       /* runtime (knx_plugin.c): its entry in the read table, -1 = none */
} knx_point_t;

/** One configured device: a model and its points. */
typedef struct knx_device {
    char *id;
    char *model;
    uint16_t ia;         /* individual address, when has_ia */
    bool has_ia;
    knx_point_t *points;
    size_t n_points;
    /* runtime state, owned by knx_plugin.c */
    bool online;
    uint64_t awaiting_since; /* monotonic ms of the oldest unanswered read; 0 = none */
} knx_device_t;

/** All settings of one instance. */
typedef struct knx_settings {
    char *url;
    uint32_t reconnect_min_ms;
    uint32_t reconnect_max_ms;
    uint32_t read_timeout_ms;
    uint32_t read_rate;
    bool learn;
    uint32_t learn_max;
    knx_device_t *devices;
    size_t n_devices;
} knx_settings_t;

/**
 * Reads @p settings into @p out (zeroed first). Returns LGW_OK, LGW_EINVAL
 * when errors were recorded (each at its file:line), or LGW_ENOMEM. On error
 * @p out is freed again; on success free it with knx_settings_free().
 */
int knx_settings_load(const lgw_config_t *settings, knx_settings_t *out);

/** Frees everything knx_settings_load() allocated. */
void knx_settings_free(knx_settings_t *s);

/** The SDK type a value of @p dpt is reported with. */
lgw_type_t knx_dpt_lgw_type(knx_dpt_t dpt);

/** Device @p id, or NULL. */
knx_device_t *knx_settings_find_device(const knx_settings_t *s, const char *id);

/** Point @p name of @p dev, or NULL. */
knx_point_t *knx_device_find_point(const knx_device_t *dev, const char *name);

#endif /* KNX_CONF_H */
