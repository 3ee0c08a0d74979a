/*
 * Internal data structures of the Modbus plugin, shared by its files:
 *   mb_config.c  settings (conf.d) → models, devices, bus parameters;
 *   mb_bus.c     the libmodbus side, run only on the bus worker thread;
 *   mb_poll.c    polling, offline detection, writes and services (loop thread);
 *   mb_scan.c    discovery (unit-id scan, FC 43/14 or an id register);
 *   mb_plugin.c  the SDK entry points.
 *
 * Threading: everything here belongs to the loop thread except mb_bus_t and
 * the buffers of a job while it runs on the worker (see mb_job_t). Models and
 * the immutable parts of devices (id, unit, timeout, model) never change after
 * they are created, so the worker may read them.
 */
#ifndef MB_PLUGIN_H
#define MB_PLUGIN_H

#include <linkgw/linkgw.h>
#include <modbus/modbus.h>

#include "mb_codec.h"
#include "mb_plan.h"

#define MB_MAX_REGS 125   /* registers per read request */
#define MB_MAX_BITS 2000  /* bits per read request */

/** One point of a register map. */
typedef struct mb_point {
    char *name;
    mb_table_t table;
    uint16_t address;   /* 0-based protocol address */
    mb_type_t type;
    mb_order_t order;
    uint8_t bit;        /* MB_T_BIT only */
    uint16_t regs;      /* registers (or bits) occupied */
    double scale, offset;
    bool scaled;        /* scale != 1 or offset != 0 */
    bool writable;
    unsigned group;     /* index into the model's groups */
    lgw_type_t out_type;/* type reported (after scale/offset) */
} mb_point_t;

/** A polling group of a model: its interval and its precomputed requests. */
typedef struct mb_group {
    char *name;
    uint32_t interval_ms;
    mb_span_t *spans;     /* sorted; span.point indexes the model's points */
    size_t nspans;
    mb_block_t *blocks;
    size_t nblocks;
    uint32_t *block_off;  /* offset of each block in the job's reg or bit buffer */
    uint32_t reg_total, bit_total;
    struct mb_tick *tick; /* runtime: its timer */
} mb_group_t;

/** One step of a service: write a constant or an input argument to a point. */
typedef struct mb_step {
    unsigned point;
    char *arg;            /* input argument name, or NULL */
    lgw_value_t *value;   /* constant, when arg is NULL */
} mb_step_t;

typedef struct mb_service {
    char *name;
    mb_step_t *steps;
    size_t nsteps;
} mb_service_t;

/** A device model = a register map. */
typedef struct mb_model {
    char *name;
    mb_point_t *points;
    size_t npoints;
    mb_group_t *groups;
    size_t ngroups;
    mb_service_t *services;
    size_t nservices;
    bool write_multiple;  /* always FC 15/16, never FC 5/6 */
    char *ident_vendor;   /* discovery: FC 43/14 VendorName to match, or NULL */
    char *ident_product;  /* discovery: FC 43/14 ProductCode to match, or NULL */
    bool has_id_value;    /* discovery: value of the identification register */
    int64_t id_value;
} mb_model_t;

enum mb_dev_state { MB_DEV_UNKNOWN = 0, MB_DEV_ONLINE, MB_DEV_OFFLINE };

struct mb_job;

/** A slave on the bus. */
typedef struct mb_device {
    char *id;
    mb_model_t *model;
    int unit;
    uint32_t timeout_ms;      /* response timeout */
    /* loop thread only: */
    enum mb_dev_state state;
    unsigned fails;           /* consecutive failed polls */
    uint64_t next_probe_ms;   /* offline: when the next probe may go out */
    uint32_t probe_backoff_ms;
    struct mb_job **jobs;     /* one reusable poll job per group */
    unsigned refs;            /* jobs in flight referencing it */
    bool removed;
    struct mb_device *next;
} mb_device_t;

/** Discovery settings. */
typedef struct mb_scan_cfg {
    bool enabled;             /* a discovery group was configured */
    int first, last;
    uint32_t timeout_ms;
    char *id_prefix;
    bool use_fc43;
    bool has_id_reg;
    mb_table_t id_table;
    uint16_t id_address;
    mb_type_t id_type;
    mb_order_t id_order;
} mb_scan_cfg_t;

/** Bus parameters and connection state; the state is worker-thread only. */
typedef struct mb_bus {
    bool rtu;
    char *host;               /* TCP */
    int port;
    char *device;             /* RTU */
    int baud, data_bits, stop_bits;
    char parity;              /* 'N', 'E', 'O' */
    bool rs485;
    uint32_t connect_timeout_ms, response_timeout_ms, byte_timeout_ms;
    uint32_t reconnect_min_ms, reconnect_max_ms;
    /* worker thread only: */
    lgw_instance_t *inst;
    modbus_t *ctx;
    bool connected;
    uint64_t next_connect_ms;
    uint32_t backoff_ms;
    uint16_t tid;             /* our own TCP transaction ids */
    int unit;                 /* selected by mb_bus_begin() */
    uint32_t timeout_ms;      /* response timeout of the selected unit */
} mb_bus_t;

/** The plugin instance. */
typedef struct mb_inst {
    lgw_instance_t *inst;
    mb_bus_t bus;
    unsigned max_failures;
    uint32_t probe_min_ms, probe_max_ms;
    mb_plan_limits_t limits;
    mb_model_t *models;
    size_t nmodels;
    mb_device_t *devices;
    mb_scan_cfg_t scan;
    /* runtime (loop thread) */
    lgw_worker_t *worker;
    bool running;
    bool scanning;
    int scan_next;
    bool scan_busy;
    uint64_t overruns;        /* ticks skipped because the previous poll was still running */
} mb_inst_t;

/** Timer data of one polling group. */
typedef struct mb_tick {
    mb_inst_t *mi;
    mb_model_t *model;
    unsigned group;
    lgw_timer_t *timer;
} mb_tick_t;

/** One write operation of a write request or service (FC 5/6/15/16). */
typedef struct mb_wop {
    uint8_t table;        /* MB_TABLE_COIL or MB_TABLE_HOLDING */
    uint16_t address;
    uint16_t n;           /* registers (1 for a coil) */
    bool multiple;        /* FC 15/16 even for one item */
    bool bit_rmw;         /* read-modify-write of one bit of a register */
    uint8_t bit;
    bool on;              /* coil or bit value */
    uint16_t regs[MB_MAX_REGS];
} mb_wop_t;

enum mb_job_kind { MB_JOB_POLL, MB_JOB_WRITE, MB_JOB_SCAN };

/**
 * A unit of work for the bus worker. The worker thread only touches the
 * fields marked (w) while the job runs; the loop thread owns everything else
 * and reads the results in the job's `after` callback.
 */
typedef struct mb_job {
    enum mb_job_kind kind;
    mb_inst_t *mi;
    mb_device_t *dev;
    /* poll */
    unsigned group;
    bool probe;           /* offline device: one request only */
    bool busy;            /* submitted, `after` not yet run */
    bool exc_logged;
    int64_t t_ms;         /* (w) sample time */
    int hard_err;         /* (w) first error that is not an exception, or 0 */
    bool answered;        /* (w) at least one reply (data or exception) */
    int *blk_err;         /* (w) per block: 0, an errno, or ECANCELED if not tried */
    uint16_t *regs;       /* (w) */
    uint8_t *bits;        /* (w) */
    /* write */
    lgw_request_t *req;
    mb_wop_t *ops;
    size_t nops;
    int err;              /* (w) */
    /* scan */
    int unit;
    int ident_err;        /* (w) */
    char vendor[64], product[64], revision[64]; /* (w) */
    int id_err;           /* (w) */
    int64_t id_value;     /* (w) */
} mb_job_t;

/* ---- mb_config.c ---- */

/**
 * Reads and validates @p settings into @p mi (already zeroed, mi->inst set).
 * Errors are recorded with file:line through lgw_config_error(); returns
 * LGW_OK or LGW_EINVAL when any error was recorded (then mb_config_free()).
 */
int mb_config_read(mb_inst_t *mi, const lgw_config_t *settings);
/** Frees everything mb_config_read() allocated (also after a failure). */
void mb_config_free(mb_inst_t *mi);
/** Computes a group's requests; also used for devices found by discovery. */
int mb_group_plan(mb_model_t *m, unsigned g, const mb_plan_limits_t *lim);
/** Model named @p name, or NULL. */
mb_model_t *mb_model_find(mb_inst_t *mi, const char *name);
/** Point named @p name of @p m, or -1. */
int mb_point_find(const mb_model_t *m, const char *name);
/** Declares every model to the host (lgw_model_*). */
int mb_models_declare(mb_inst_t *mi);

/* ---- mb_bus.c (worker thread) ---- */

/** Creates the libmodbus context (no I/O). Loop thread, at start. */
int mb_bus_open(mb_bus_t *b);
/** Closes and frees the context. Only once the worker is joined. */
void mb_bus_close(mb_bus_t *b);
/**
 * Connects if needed (respecting the reconnect backoff), selects @p unit and
 * sets the response timeout. Returns 0, or -1 with errno set.
 */
int mb_bus_begin(mb_bus_t *b, int unit, uint32_t timeout_ms);
/**
 * Recovers from a failed request with error @p err: a Modbus exception needs
 * nothing; a timeout or garbled frame flushes the input (the link stays up,
 * so one dead slave never resets the others); a broken connection closes it
 * (reconnect with backoff on the next request).
 */
void mb_bus_failed(mb_bus_t *b, int err);
/** True if @p err is a Modbus exception reply (the slave answered). */
bool mb_err_is_exception(int err);
/** Reads one block into @p regs or @p bits. Returns 0 or the errno. */
int mb_bus_read_block(mb_bus_t *b, const mb_block_t *blk, uint16_t *regs, uint8_t *bits);
/** Performs one write operation on the selected unit. Returns 0 or the errno. */
int mb_bus_write(mb_bus_t *b, const struct mb_wop *op);
/**
 * FC 43/14 Read Device Identification (basic, objects 0..2) for the unit
 * selected with mb_bus_begin(). Fills @p vendor, @p product, @p revision
 * (each of @p cap bytes, printable ASCII). Returns 0 or an errno.
 */
int mb_bus_read_ident(mb_bus_t *b, int unit, uint32_t timeout_ms, char *vendor, char *product,
                      char *revision, size_t cap);

/* ---- mb_poll.c (loop thread) ---- */

int mb_poll_start(mb_inst_t *mi);
void mb_poll_stop(mb_inst_t *mi);
/** Creates a device's jobs and reports it to the host; used at start and by discovery. */
int mb_device_attach(mb_inst_t *mi, mb_device_t *d);
/** Frees a device (no job may reference it). */
void mb_device_free(mb_device_t *d);
int mb_write(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *values);
int mb_invoke(void *data, lgw_request_t *req, const char *device_id, const char *service,
              const lgw_value_t *input);
int mb_remove(void *data, lgw_request_t *req, const char *device_id);
mb_device_t *mb_device_find(mb_inst_t *mi, const char *id);

/* ---- mb_scan.c (loop thread) ---- */

int mb_discovery(void *data, bool enable);

#endif /* MB_PLUGIN_H */
