/*
 * sim — the simulator driver: internal data structures shared by its files.
 *
 * The sim plugin drives no real network: it pretends to. Each instance owns a
 * few *groups* of virtual devices, one group per model (thermometer, light,
 * power_meter). A group is polled by ONE repeating timer per slice of at most
 * SIM_SLICE_MAX devices (so a group of 2,000 devices has one timer, never one
 * per device); the slices' timers are staggered over the interval so that a
 * huge group does not post all its reports in one loop turn. The cost of a
 * device is a few bytes of state and a few hundred nanoseconds per report —
 * the sim runs thousands of devices at high rates for the benchmarks.
 *
 * Map of the files (read them in this order to learn how to write a driver):
 *   sim_plugin.c        registration and lifecycle (create/start/stop/destroy)
 *   sim_config.c        reading and validating the conf.d settings
 *   sim_group.c         polling groups: device ids, timers, periodic reports
 *   sim_requests.c      write / read / invoke / remove and their async replies
 *   sim_discovery.c     discovery scans and random online/offline flapping
 *   sim_thermometer.c   \
 *   sim_light.c          > one file per device model (sim_model.h)
 *   sim_power_meter.c   /
 *   sim_rng.h           the seeded random generator (reproducible runs)
 *   sim_trace.c         test-only trace of the values handed to the host
 *
 * Threading: every function of the plugin runs on the host's loop thread
 * (callbacks and timers), so nothing here needs a lock. There is no global
 * state: everything hangs off `struct sim`, one per instance.
 */
#ifndef LINKGW_SIM_H
#define LINKGW_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linkgw/linkgw.h>

#include "sim_rng.h"

/** Longest id prefix accepted in the settings (ids are prefix + index). */
#define SIM_PREFIX_MAX 24
/** Most devices one timer reports per tick (bigger groups get several staggered timers). */
#define SIM_SLICE_MAX 2000
/** Room for an id: prefix, up to 10 digits of index, NUL. */
#define SIM_ID_MAX (SIM_PREFIX_MAX + 11)

/* Device flags (struct sim_device.flags). */
#define SIM_DEV_PRESENT 0x01 /**< reported to the host with lgw_device_add() */
#define SIM_DEV_ONLINE 0x02  /**< reported online */
#define SIM_DEV_HOT 0x04     /**< thermometer: above its threshold (event sent) */

/**
 * State of one virtual device. Deliberately tiny (24 bytes): its id lives in
 * the group's id table and its model's parameters in the group.
 */
struct sim_device {
    uint8_t flags; /**< SIM_DEV_* */
    union {
        struct {
            float temperature; /**< °C */
            float humidity;    /**< %RH */
        } thermo;
        struct {
            bool power;         /**< switched on */
            uint8_t brightness; /**< 0..100 */
        } light;
        struct {
            double watts; /**< current power, W */
            double kwh;   /**< energy counter, kWh */
        } meter;
    } s;
};

/** Model-specific settings (which member is used depends on the model). */
union sim_params {
    struct {
        double base;      /**< temperature the noise hovers around, °C */
        double noise;     /**< amplitude of the random walk, °C */
        double humidity;  /**< humidity the noise hovers around, %RH */
        double threshold; /**< over_temperature fires when crossed upwards */
    } thermo;
    struct {
        bool power;          /**< initial switch state */
        int64_t brightness;  /**< initial brightness */
    } light;
    struct {
        double watts; /**< average power drawn, W */
        double noise; /**< amplitude of the power noise, W */
    } meter;
};

struct sim;
struct sim_model;

/** Settings of one group (= one model) as read from conf.d. */
struct sim_group_conf {
    int64_t count;                    /**< number of devices */
    int64_t interval_ms;              /**< report interval */
    char prefix[SIM_PREFIX_MAX + 1];  /**< device ids are prefix + index */
    union sim_params params;          /**< model-specific settings */
    const lgw_config_t *prefix_node;  /**< for errors; valid during create only */
};

struct sim_group;

/** Devices [begin, end) of a group and the one timer that reports them. */
struct sim_slice {
    struct sim_group *group;  /**< back pointer (the timer callback gets the slice) */
    size_t begin, end;
    lgw_timer_t *timer;       /**< fires every conf.interval_ms */
    uint64_t last_tick_ms;    /**< monotonic time of the previous tick */
    char *trace_buf;          /**< trace lines of the last tick, written at the next (sim_trace.c) */
    size_t trace_len, trace_cap;
};

/** A polling group: the devices of one model, reported every conf.interval_ms. */
struct sim_group {
    struct sim *sim;                /**< back pointer */
    const struct sim_model *model;  /**< behaviour of the devices */
    struct sim_group_conf conf;
    struct sim_device *devs;        /**< conf.count devices */
    char *ids;                      /**< conf.count ids, SIM_ID_MAX bytes apart */
    struct sim_slice *slices;       /**< ceil(count / SIM_SLICE_MAX) slices */
    size_t nslices;
};

/** How devices come into existence. */
enum sim_appear {
    SIM_APPEAR_START = 0,     /**< all devices are added at start */
    SIM_APPEAR_DISCOVERY = 1  /**< devices are only found by a discovery scan */
};

/** Instance-wide settings. */
struct sim_conf {
    uint64_t seed;                 /**< seed of the random generator */
    enum sim_appear appear;
    int64_t discovery_interval_ms; /**< a scan finds a batch this often */
    int64_t discovery_batch;       /**< devices found per discovery tick */
    int64_t latency_ms;            /**< delay before requests complete */
    double flap_probability;       /**< online -> offline, per device and flap tick (0 = off) */
    double flap_recovery;          /**< offline -> online, per device and flap tick */
    int64_t flap_interval_ms;
    char *trace_file;              /**< test only: trace of reported values (sim_trace.c), NULL = off */
};

/** A completed request waiting for its reply (see sim_requests.c). */
struct sim_reply;

/** One instance of the sim plugin (one conf.d file). */
struct sim {
    lgw_instance_t *inst;
    struct sim_conf conf;
    struct sim_rng rng;
    struct sim_group *groups; /**< one per model with count > 0 */
    size_t ngroups;
    bool running;             /**< between start and stop */
    bool started_before;      /**< start ran once already (a restart re-announces) */

    /* discovery (sim_discovery.c) */
    lgw_timer_t *discovery_timer;
    size_t scan_group, scan_index; /**< where the running scan continues */
    /* flapping (sim_discovery.c) */
    lgw_timer_t *flap_timer;
    /* replies (sim_requests.c) */
    lgw_timer_t *reply_timer;
    struct sim_reply *replies, *replies_tail;
    /* firmware installs in progress (sim_ota.c) */
    struct sim_install *installs;
    /* test-only trace (sim_trace.c) */
    FILE *trace;
    struct sim_slice *trace_slice; /**< the slice whose tick is running */
};

/* ---- sim_config.c ------------------------------------------------------ */

/**
 * Reads and validates @p settings into @p sim->conf and allocates the groups
 * (without devices). Every problem is recorded with lgw_config_error() at the
 * offending file:line; returns LGW_OK, LGW_EINVAL (errors recorded) or
 * LGW_ENOMEM.
 */
int sim_config_read(struct sim *sim, const lgw_config_t *settings);
/** Declares every model the sim knows to the host (lgw_model_*). */
int sim_models_declare(lgw_instance_t *inst);

/* ---- sim_group.c ------------------------------------------------------- */

/** Allocates and initialises the devices and ids of @p g. LGW_OK or LGW_ENOMEM. */
int sim_group_init(struct sim_group *g);
/** Frees what sim_group_init() and sim_group_start() allocated. */
void sim_group_free(struct sim_group *g);
/** Creates and starts the group's report timers (one per slice, staggered). */
int sim_group_start(struct sim_group *g);
/** Stops the group's report timers (they may be started again). */
void sim_group_stop(struct sim_group *g);
/** Id of device @p i of @p g. */
static inline const char *sim_group_id(const struct sim_group *g, size_t i)
{
    return g->ids + i * SIM_ID_MAX;
}
/**
 * Finds the device called @p id. Returns it and stores its group in @p *group,
 * or returns NULL. O(number of groups): ids are prefix + index.
 */
struct sim_device *sim_find(struct sim *sim, const char *id, struct sim_group **group);
/**
 * Reports device @p i of @p g to the host (lgw_device_add) and online; clears
 * nothing else. Used at start and by discovery.
 */
void sim_device_appear(struct sim_group *g, size_t i);

/* ---- sim_requests.c ---------------------------------------------------- */

int sim_write(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *values);
int sim_read(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *names);
int sim_invoke(void *data, lgw_request_t *req, const char *device_id, const char *service,
               const lgw_value_t *input);
int sim_remove(void *data, lgw_request_t *req, const char *device_id);
/** Custom topics and raw data (sim_messages.c): echoes what arrives. */
int sim_message(void *data, lgw_request_t *req, const char *device_id, const char *suffix, const void *payload,
                size_t len);
/** Creates the reply timer. */
int sim_replies_init(struct sim *sim);
/** Completes every queued reply now (used by stop). */
void sim_replies_flush(struct sim *sim);
/** Flushes and frees the reply timer. */
void sim_replies_free(struct sim *sim);

/* ---- sim_ota.c --------------------------------------------------------- */

struct sim_install;
/** The ota callback (ABI 1.1): a timed, simulated install. */
int sim_ota(void *data, lgw_request_t *req, const char *device_id, const char *version, const char *image_path,
            const char *module);
/** Completes (as failed) and frees every install in progress (used by stop). */
void sim_ota_stop(struct sim *sim);

/* ---- sim_discovery.c --------------------------------------------------- */

int sim_discovery(void *data, bool enable);
/** Creates the discovery and flapping timers; starts flapping if configured. */
int sim_discovery_start(struct sim *sim);
/** Stops both timers. */
void sim_discovery_stop(struct sim *sim);
/** Frees both timers. */
void sim_discovery_free(struct sim *sim);

/* ---- sim_trace.c (test only) --------------------------------------------- */

/** Opens conf.trace_file for appending, if set (start). */
void sim_trace_open(struct sim *sim);
/** Writes what every slice still buffers and closes the file (stop). */
void sim_trace_close(struct sim *sim);
/** Buffers one handed-over value of the running slice tick. */
void sim_trace_value(struct sim *sim, const char *id, const char *point, int64_t time_ms, double v);
/** Writes and flushes the lines buffered by @p sl (its previous tick). */
void sim_trace_flush(struct sim *sim, struct sim_slice *sl);

#endif /* LINKGW_SIM_H */
