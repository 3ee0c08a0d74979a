/*
 * A minimal but complete test plugin for the core tests. Settings:
 *   devices      int  (default 1)   devices "dev0".."devN-1" of model "thing"
 *   interval_ms  int  (default 0)   periodic report of {"n": counter} per device
 *   thread_reports int (default 0)  reports sent from a plugin-owned thread at start
 *   write_delay_ms int (default 0)  writes complete after this delay (-1: never)
 *   fail_start   bool               start returns LGW_EIO
 *   label        string             only echoed in the start log line
 *   block_file   string             start submits a pool job that runs until this
 *                                   file exists (so a stop must wait for it)
 * Services: "echo" returns its input as output; "busy" completes with
 * LGW_EBUSY (an lgw_result_t, not a reply code). Writes store nothing.
 */
#include <linkgw/linkgw.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct pending_write {
    lgw_request_t *req;
    lgw_timer_t *timer;
    struct tg *tg;
    struct pending_write *next;
} pending_write_t;

typedef struct tg {
    lgw_instance_t *inst;
    int64_t devices, interval_ms, thread_reports, write_delay_ms;
    bool fail_start;
    char label[64];
    char block_file[256];
    lgw_timer_t *timer;
    int64_t counter;
    pthread_t thread;
    bool thread_started;
    pending_write_t *writes;
} tg_t;

static int tg_create(lgw_instance_t *inst, const lgw_config_t *s, void **data)
{
    static const char *const keys[] = {"devices", "interval_ms", "thread_reports", "write_delay_ms",
                                       "fail_start", "label", "block_file", NULL};
    tg_t *tg = calloc(1, sizeof *tg);
    if (!tg)
        return LGW_ENOMEM;
    tg->inst = inst;
    tg->devices = 1;
    lgw_config_check_keys(s, keys);
    lgw_config_get_int_range(s, "devices", &tg->devices, 0, 10000);
    lgw_config_get_int_range(s, "interval_ms", &tg->interval_ms, 0, 3600000);
    lgw_config_get_int_range(s, "thread_reports", &tg->thread_reports, 0, 10000000);
    lgw_config_get_int_range(s, "write_delay_ms", &tg->write_delay_ms, -1, 3600000);
    lgw_config_get_bool(s, "fail_start", &tg->fail_start);
    const char *label = "";
    lgw_config_get_string(s, "label", &label);
    snprintf(tg->label, sizeof tg->label, "%s", label);
    const char *block = "";
    lgw_config_get_string(s, "block_file", &block);
    snprintf(tg->block_file, sizeof tg->block_file, "%s", block);
    *data = tg;
    return lgw_config_error_count(s) ? LGW_EINVAL : LGW_OK;
}

static void on_tick(lgw_timer_t *t, void *data)
{
    (void)t;
    tg_t *tg = data;
    tg->counter++;
    for (int64_t i = 0; i < tg->devices; i++) {
        char id[32];
        snprintf(id, sizeof id, "dev%lld", (long long)i);
        lgw_report_t *r = lgw_report_new(tg->inst, id);
        lgw_report_add_int(r, "n", tg->counter);
        lgw_report_commit(r);
    }
}

/* Plugin-owned thread: a burst of reports of dev0, numbered 1..N. */
static void *reporter(void *arg)
{
    tg_t *tg = arg;
    for (int64_t k = 1; k <= tg->thread_reports; k++) {
        lgw_report_t *r = lgw_report_new(tg->inst, "dev0");
        lgw_report_add_int(r, "seq", k);
        lgw_report_add_text(r, "note", "from a thread");
        lgw_report_commit(r);
    }
    lgw_device_set_online(tg->inst, "dev0", false);
    return NULL;
}

/* Pool job: waits (up to 60 s) for the block file to appear. Logs once it
 * runs, so a test can tell a running job from one still queued (a queued job
 * is cancelled by stop instead of being waited for). */
static void block_work(void *data)
{
    tg_t *tg = data;
    lgw_log(tg->inst, LGW_LOG_INFO, "block job running");
    for (int i = 0; i < 6000 && access(tg->block_file, F_OK) != 0; i++)
        usleep(10000);
}

static void block_after(void *data, int status)
{
    tg_t *tg = data;
    lgw_log(tg->inst, LGW_LOG_INFO, "block job finished (%s)", status == LGW_OK ? "ran" : "cancelled");
}

static int tg_start(void *data)
{
    tg_t *tg = data;
    if (tg->fail_start)
        return LGW_EIO;
    for (int64_t i = 0; i < tg->devices; i++) {
        char id[32];
        snprintf(id, sizeof id, "dev%lld", (long long)i);
        lgw_device_add(tg->inst, id, "thing");
        lgw_device_set_online(tg->inst, id, true);
    }
    lgw_model_t *m = lgw_model_new(tg->inst, "thing");
    lgw_model_add_point(m, "n", LGW_TYPE_INT, LGW_ACCESS_READ);
    lgw_model_add_point(m, "seq", LGW_TYPE_INT, LGW_ACCESS_READ);
    lgw_model_add_point(m, "power", LGW_TYPE_BOOL, LGW_ACCESS_RW);
    lgw_model_add_service(m, "echo");
    lgw_model_commit(m);
    if (tg->interval_ms > 0) {
        tg->timer = lgw_timer_new(tg->inst, on_tick, tg);
        lgw_timer_start(tg->timer, (uint64_t)tg->interval_ms, (uint64_t)tg->interval_ms);
    }
    if (tg->block_file[0])
        lgw_work_submit(tg->inst, block_work, block_after, tg);
    if (tg->thread_reports > 0 && tg->devices > 0)
        tg->thread_started = pthread_create(&tg->thread, NULL, reporter, tg) == 0;
    lgw_log(tg->inst, LGW_LOG_INFO, "test plugin started (label '%s')", tg->label);
    return LGW_OK;
}

static void finish_write(lgw_timer_t *t, void *data)
{
    pending_write_t *w = data;
    tg_t *tg = w->tg;
    for (pending_write_t **p = &tg->writes; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    lgw_request_done(w->req, LGW_REPLY_SUCCESS, NULL);
    lgw_timer_free(t);
    free(w);
}

static void tg_stop(void *data)
{
    tg_t *tg = data;
    if (tg->thread_started) {
        pthread_join(tg->thread, NULL);
        tg->thread_started = false;
    }
    lgw_timer_free(tg->timer);
    tg->timer = NULL;
    while (tg->writes) { /* never_complete writes stay with the host */
        pending_write_t *w = tg->writes;
        tg->writes = w->next;
        lgw_timer_free(w->timer);
        free(w);
    }
}

static void tg_destroy(void *data) { free(data); }

static int tg_write(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *values)
{
    tg_t *tg = data;
    (void)device_id;
    if (!lgw_value_struct_get(values, "power"))
        return LGW_EINVAL;
    if (tg->write_delay_ms < 0)
        return LGW_OK; /* never completed */
    if (tg->write_delay_ms == 0) {
        lgw_request_done(req, LGW_REPLY_SUCCESS, "written at once");
        return LGW_OK;
    }
    pending_write_t *w = calloc(1, sizeof *w);
    w->req = req;
    w->tg = tg;
    w->timer = lgw_timer_new(tg->inst, finish_write, w);
    lgw_timer_start(w->timer, (uint64_t)tg->write_delay_ms, 0);
    w->next = tg->writes;
    tg->writes = w;
    return LGW_OK;
}

static int tg_invoke(void *data, lgw_request_t *req, const char *device_id, const char *service,
                     const lgw_value_t *input)
{
    (void)data;
    (void)device_id;
    if (strcmp(service, "busy") == 0) { /* completes with an lgw_result_t: the host maps it */
        lgw_request_done(req, LGW_EBUSY, NULL);
        return LGW_OK;
    }
    if (strcmp(service, "echo") != 0)
        return LGW_ENOTSUP;
    for (size_t i = 0; i < lgw_value_count(input); i++) {
        const char *name;
        const lgw_value_t *v = lgw_value_struct_at(input, i, &name);
        lgw_request_add_output(req, name, lgw_value_copy(v));
    }
    lgw_request_done(req, LGW_REPLY_SUCCESS, NULL);
    return LGW_OK;
}

static int tg_remove(void *data, lgw_request_t *req, const char *device_id)
{
    (void)data;
    (void)device_id;
    lgw_request_done(req, LGW_REPLY_SUCCESS, NULL);
    return LGW_OK;
}

LGW_PLUGIN_DEFINE_ABI()

LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv)
{
    lgw_driver_set_info(drv, "0.0.1", "core test plugin");
    lgw_driver_set_create(drv, tg_create);
    lgw_driver_set_start(drv, tg_start);
    lgw_driver_set_stop(drv, tg_stop);
    lgw_driver_set_destroy(drv, tg_destroy);
    lgw_driver_set_write(drv, tg_write);
    lgw_driver_set_invoke(drv, tg_invoke);
    lgw_driver_set_remove(drv, tg_remove);
    return LGW_OK;
}
