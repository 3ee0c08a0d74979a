/*
 * skeleton — a minimal, complete linkgw driver to copy when writing your own.
 *
 * It drives one pretend device, a counter: every `interval_ms` it adds `step`
 * to its value and reports it. The cloud can write `step`. Replace the
 * pretend parts (marked "YOUR BUS") with the real I/O of your access network.
 *
 * Build:   make            (uses `pkg-config linkgw-plugin`; see Makefile)
 * Install: make install    (into the plugin directory the SDK names)
 *          and put skeleton.conf into linkgw's conf.d directory.
 *
 * Rules recalled here (sdk/README.md explains them):
 *  - every callback runs on the host's loop thread and must not block;
 *  - no globals: the host may create several instances of this plugin;
 *  - settings are validated in create, errors recorded with file:line;
 *  - every accepted request is completed exactly once with lgw_request_done().
 */
#include <stdlib.h>
#include <string.h>

#include <linkgw/linkgw.h>

/** Everything one instance owns (one conf.d file = one instance). */
struct skel {
    lgw_instance_t *inst;  /* the host's handle, passed to every host call */
    char device_id[64];    /* from the settings */
    int64_t interval_ms;   /* from the settings */
    int64_t step;          /* writable point */
    int64_t value;         /* reported point */
    lgw_timer_t *timer;    /* ONE timer polls the whole bus */
};

/* ---- timer: poll the device and report ---------------------------------- */

static void skel_poll(lgw_timer_t *timer, void *data)
{
    struct skel *s = data;
    (void)timer;
    s->value += s->step; /* YOUR BUS: read the device instead */

    lgw_report_t *r = lgw_report_new(s->inst, s->device_id);
    if (r) {
        lgw_report_add_int(r, "value", s->value);
        lgw_report_add_int(r, "step", s->step);
        lgw_report_commit(r); /* frees the report */
    }
}

/* ---- lifecycle ---------------------------------------------------------- */

static int skel_create(lgw_instance_t *inst, const lgw_config_t *settings, void **data)
{
    static const char *const keys[] = { "device_id", "interval_ms", "step", NULL };
    const char *device_id = "skeleton-1"; /* defaults first, then the settings */
    int64_t interval_ms = 1000, step = 1;

    lgw_config_check_keys(settings, keys); /* unknown keys are errors */
    if (lgw_config_get_string(settings, "device_id", &device_id) == LGW_OK &&
        (device_id[0] == '\0' || strlen(device_id) >= 64))
        lgw_config_error(lgw_config_child(settings, "device_id"), "device_id must be 1..63 characters");
    lgw_config_get_int_range(settings, "interval_ms", &interval_ms, 10, 3600000);
    lgw_config_get_int_range(settings, "step", &step, -1000, 1000);
    if (lgw_config_error_count(settings) > 0)
        return LGW_EINVAL; /* the host prints the file:line errors */

    struct skel *s = calloc(1, sizeof *s);
    if (!s)
        return LGW_ENOMEM;
    s->inst = inst;
    strcpy(s->device_id, device_id); /* settings are borrowed: copy them */
    s->interval_ms = interval_ms;
    s->step = step;

    /* Declare what the device has, so the host can check the TSL mapping. */
    lgw_model_t *m = lgw_model_new(inst, "counter");
    if (m) {
        lgw_model_add_point(m, "value", LGW_TYPE_INT, LGW_ACCESS_READ);
        lgw_model_add_point(m, "step", LGW_TYPE_INT, LGW_ACCESS_RW);
        lgw_model_commit(m);
    }
    *data = s;
    return LGW_OK;
}

static int skel_start(void *data)
{
    struct skel *s = data;
    if (!s->timer)
        s->timer = lgw_timer_new(s->inst, skel_poll, s);
    if (!s->timer)
        return LGW_ENOMEM;
    /* YOUR BUS: open it here (non-blocking); retry failures, do not fail start. */
    lgw_device_add(s->inst, s->device_id, "counter");
    lgw_device_set_online(s->inst, s->device_id, true);
    lgw_log(s->inst, LGW_LOG_INFO, "polling %s every %lld ms", s->device_id, (long long)s->interval_ms);
    return lgw_timer_start(s->timer, (uint64_t)s->interval_ms, (uint64_t)s->interval_ms);
}

static void skel_stop(void *data)
{
    struct skel *s = data;
    lgw_timer_stop(s->timer); /* no reports after stop returns */
}

static void skel_destroy(void *data)
{
    struct skel *s = data;
    lgw_timer_free(s->timer); /* NULL-safe: create-only instances (--check-config) */
    free(s);
}

/* ---- requests ----------------------------------------------------------- */

static int skel_write(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *values)
{
    struct skel *s = data;
    if (strcmp(device_id, s->device_id) != 0)
        return LGW_ENOENT; /* fails the request at once */

    int64_t step = s->step;
    const lgw_value_t *v = lgw_value_struct_get(values, "step");
    if (lgw_value_count(values) != 1 || lgw_value_get_int(v, &step) != LGW_OK || step < -1000 || step > 1000) {
        lgw_request_done(req, LGW_REPLY_PARAM_ERROR, "only 'step' (-1000..1000) is writable");
        return LGW_OK;
    }
    s->step = step; /* YOUR BUS: send the write; complete when the device answers */
    lgw_request_done(req, LGW_REPLY_SUCCESS, NULL);
    return LGW_OK;
}

/* ---- the two exported symbols -------------------------------------------- */

LGW_PLUGIN_DEFINE_ABI()

LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv)
{
    lgw_driver_set_info(drv, "0.1.0", "skeleton driver: one counter device");
    lgw_driver_set_create(drv, skel_create);
    lgw_driver_set_start(drv, skel_start);
    lgw_driver_set_stop(drv, skel_stop);
    lgw_driver_set_destroy(drv, skel_destroy);
    lgw_driver_set_write(drv, skel_write);
    return LGW_OK;
}
