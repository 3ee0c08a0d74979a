/*
 * Test stand-in for the host's loop, timers, workers, devices, reports and
 * requests (see fakehost.h). Each fh_* function below is exported under its
 * lgw_* name as a weak alias, so the real core's implementation replaces it
 * as soon as it exists.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fakehost.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WEAK(name) __attribute__((weak, alias("fh_" #name)))

struct lgw_driver {
    lgw_create_cb create;
    lgw_start_cb start;
    lgw_stop_cb stop;
    lgw_destroy_cb destroy;
    lgw_discovery_cb discovery;
    lgw_write_cb write;
    lgw_read_cb read;
    lgw_invoke_cb invoke;
    lgw_remove_cb remove;
};
struct lgw_instance { char name[64]; };

/* ---- time, log ---------------------------------------------------------- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t fh_monotonic_ms(void) { return mono_ms(); }
int64_t fh_time_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
const char *fh_instance_name(const lgw_instance_t *inst) { return inst ? inst->name : "?"; }
bool fh_log_enabled(lgw_log_level_t level) { return getenv("FH_VERBOSE") || level <= LGW_LOG_WARN; }
void fh_logv(const lgw_instance_t *inst, lgw_log_level_t level, const char *fmt, va_list ap)
{
    if (!fh_log_enabled(level))
        return;
    static const char *const lv[] = {"error", "warn", "info", "debug"};
    fprintf(stderr, "[%s] %s: ", lv[level & 3], inst ? inst->name : "-");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}
void fh_log(const lgw_instance_t *inst, lgw_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fh_logv(inst, level, fmt, ap);
    va_end(ap);
}
const char *fh_strerror(int r) { return r == 0 ? "success" : "error"; }

uint64_t lgw_monotonic_ms(void) WEAK(monotonic_ms);
int64_t lgw_time_ms(void) WEAK(time_ms);
const char *lgw_instance_name(const lgw_instance_t *inst) WEAK(instance_name);
bool lgw_log_enabled(lgw_log_level_t level) WEAK(log_enabled);
void lgw_logv(const lgw_instance_t *inst, lgw_log_level_t level, const char *fmt, va_list ap) WEAK(logv);
void lgw_log(const lgw_instance_t *inst, lgw_log_level_t level, const char *fmt, ...) WEAK(log);
const char *lgw_strerror(int r) WEAK(strerror);

/* ---- driver registration -------------------------------------------------- */

void fh_driver_set_info(lgw_driver_t *d, const char *v, const char *desc) { (void)d; (void)v; (void)desc; }
void fh_driver_set_create(lgw_driver_t *d, lgw_create_cb cb) { d->create = cb; }
void fh_driver_set_start(lgw_driver_t *d, lgw_start_cb cb) { d->start = cb; }
void fh_driver_set_stop(lgw_driver_t *d, lgw_stop_cb cb) { d->stop = cb; }
void fh_driver_set_destroy(lgw_driver_t *d, lgw_destroy_cb cb) { d->destroy = cb; }
void fh_driver_set_discovery(lgw_driver_t *d, lgw_discovery_cb cb) { d->discovery = cb; }
void fh_driver_set_write(lgw_driver_t *d, lgw_write_cb cb) { d->write = cb; }
void fh_driver_set_read(lgw_driver_t *d, lgw_read_cb cb) { d->read = cb; }
void fh_driver_set_invoke(lgw_driver_t *d, lgw_invoke_cb cb) { d->invoke = cb; }
void fh_driver_set_remove(lgw_driver_t *d, lgw_remove_cb cb) { d->remove = cb; }
void lgw_driver_set_info(lgw_driver_t *d, const char *v, const char *desc) WEAK(driver_set_info);
void lgw_driver_set_create(lgw_driver_t *d, lgw_create_cb cb) WEAK(driver_set_create);
void lgw_driver_set_start(lgw_driver_t *d, lgw_start_cb cb) WEAK(driver_set_start);
void lgw_driver_set_stop(lgw_driver_t *d, lgw_stop_cb cb) WEAK(driver_set_stop);
void lgw_driver_set_destroy(lgw_driver_t *d, lgw_destroy_cb cb) WEAK(driver_set_destroy);
void lgw_driver_set_discovery(lgw_driver_t *d, lgw_discovery_cb cb) WEAK(driver_set_discovery);
void lgw_driver_set_write(lgw_driver_t *d, lgw_write_cb cb) WEAK(driver_set_write);
void lgw_driver_set_read(lgw_driver_t *d, lgw_read_cb cb) WEAK(driver_set_read);
void lgw_driver_set_invoke(lgw_driver_t *d, lgw_invoke_cb cb) WEAK(driver_set_invoke);
void lgw_driver_set_remove(lgw_driver_t *d, lgw_remove_cb cb) WEAK(driver_set_remove);

/* ---- loop: timers and completions ------------------------------------------ */

struct lgw_timer {
    lgw_timer_cb cb;
    void *data;
    uint64_t due, repeat;
    bool active, dead;
    struct lgw_timer *next;
};
static lgw_timer_t *g_timers;
static int g_wake[2] = {-1, -1};

typedef struct fh_job {
    lgw_work_fn work;
    lgw_after_fn after;
    void *data;
    struct lgw_worker *w;
    struct fh_job *next;
} fh_job_t;

struct lgw_worker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fh_job_t *head, *tail;
    bool stop;
    size_t pending;
};

static pthread_mutex_t g_done_mu = PTHREAD_MUTEX_INITIALIZER;
static fh_job_t *g_done_head, *g_done_tail;

lgw_timer_t *fh_timer_new(lgw_instance_t *inst, lgw_timer_cb cb, void *data)
{
    (void)inst;
    lgw_timer_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cb = cb;
    t->data = data;
    t->next = g_timers;
    g_timers = t;
    return t;
}
int fh_timer_start(lgw_timer_t *t, uint64_t timeout, uint64_t repeat)
{
    t->due = mono_ms() + timeout;
    t->repeat = repeat;
    t->active = true;
    return LGW_OK;
}
void fh_timer_stop(lgw_timer_t *t) { t->active = false; }
void fh_timer_free(lgw_timer_t *t)
{
    if (t) {
        t->active = false;
        t->dead = true;
    }
}
lgw_timer_t *lgw_timer_new(lgw_instance_t *inst, lgw_timer_cb cb, void *data) WEAK(timer_new);
int lgw_timer_start(lgw_timer_t *t, uint64_t timeout, uint64_t repeat) WEAK(timer_start);
void lgw_timer_stop(lgw_timer_t *t) WEAK(timer_stop);
void lgw_timer_free(lgw_timer_t *t) WEAK(timer_free);

static void reap_timers(void)
{
    for (lgw_timer_t **pp = &g_timers; *pp;) {
        if ((*pp)->dead) {
            lgw_timer_t *t = *pp;
            *pp = t->next;
            free(t);
        } else {
            pp = &(*pp)->next;
        }
    }
}

/* Runs the `after` of every finished job (of worker @p only, or all). */
static void run_completions(struct lgw_worker *only)
{
    pthread_mutex_lock(&g_done_mu);
    fh_job_t *list = g_done_head, *mine = NULL, **mt = &mine;
    g_done_head = g_done_tail = NULL;
    for (fh_job_t *j = list; j;) {
        fh_job_t *n = j->next;
        j->next = NULL;
        if (!only || j->w == only) {
            *mt = j;
            mt = &j->next;
        } else { /* someone else's: keep it queued */
            if (g_done_tail)
                g_done_tail->next = j;
            else
                g_done_head = j;
            g_done_tail = j;
        }
        j = n;
    }
    pthread_mutex_unlock(&g_done_mu);
    for (fh_job_t *j = mine; j;) {
        fh_job_t *n = j->next;
        j->w->pending--;
        if (j->after)
            j->after(j->data, LGW_OK);
        free(j);
        j = n;
    }
}

static void loop_once(int max_wait_ms)
{
    uint64_t now = mono_ms();
    int wait = max_wait_ms;
    for (lgw_timer_t *t = g_timers; t; t = t->next)
        if (t->active && !t->dead) {
            int64_t d = (int64_t)(t->due - now);
            if (d < 0)
                d = 0;
            if (d < wait)
                wait = (int)d;
        }
    struct pollfd p = {.fd = g_wake[0], .events = POLLIN};
    if (poll(&p, 1, wait) > 0) {
        char buf[256];
        while (read(g_wake[0], buf, sizeof buf) > 0) {
        }
    }
    run_completions(NULL);
    now = mono_ms();
    for (lgw_timer_t *t = g_timers; t; t = t->next) {
        if (!t->active || t->dead || t->due > now)
            continue;
        if (t->repeat) {
            t->due += t->repeat;
            if (t->due < now) /* fell behind: no burst */
                t->due = now + t->repeat;
        } else {
            t->active = false;
        }
        t->cb(t, t->data);
    }
    reap_timers();
}

void fh_run(int ms)
{
    uint64_t end = mono_ms() + (uint64_t)ms;
    for (uint64_t now = mono_ms(); now < end; now = mono_ms())
        loop_once((int)(end - now));
}

bool fh_run_until(bool (*pred)(void *), void *arg, int timeout_ms)
{
    uint64_t end = mono_ms() + (uint64_t)timeout_ms;
    while (!pred(arg)) {
        uint64_t now = mono_ms();
        if (now >= end)
            return pred(arg);
        loop_once((int)(end - now < 20 ? end - now : 20));
    }
    return true;
}

/* ---- workers ------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct lgw_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->head)
            break;
        fh_job_t *j = w->head;
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        j->work(j->data);
        j->next = NULL;
        pthread_mutex_lock(&g_done_mu);
        if (g_done_tail)
            g_done_tail->next = j;
        else
            g_done_head = j;
        g_done_tail = j;
        pthread_mutex_unlock(&g_done_mu);
        if (write(g_wake[1], "x", 1) < 0) {
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

lgw_worker_t *fh_worker_new(lgw_instance_t *inst, const char *name)
{
    (void)inst;
    (void)name;
    struct lgw_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
        free(w);
        return NULL;
    }
    return w;
}
int fh_worker_submit(lgw_worker_t *w, lgw_work_fn work, lgw_after_fn after, void *data)
{
    fh_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return LGW_ENOMEM;
    *j = (fh_job_t){work, after, data, w, NULL};
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->pending++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return LGW_OK;
}
size_t fh_worker_pending(const lgw_worker_t *w) { return w->pending; }
void fh_worker_free(lgw_worker_t *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    fh_job_t *queued = w->head;
    w->head = w->tail = NULL;
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (fh_job_t *j = queued; j;) {
        fh_job_t *n = j->next;
        w->pending--;
        if (j->after)
            j->after(j->data, LGW_ECANCELED);
        free(j);
        j = n;
    }
    pthread_join(w->th, NULL);
    run_completions(w);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
lgw_worker_t *lgw_worker_new(lgw_instance_t *inst, const char *name) WEAK(worker_new);
int lgw_worker_submit(lgw_worker_t *w, lgw_work_fn work, lgw_after_fn after, void *data) WEAK(worker_submit);
size_t lgw_worker_pending(const lgw_worker_t *w) WEAK(worker_pending);
void lgw_worker_free(lgw_worker_t *w) WEAK(worker_free);

/* ---- models, devices, reports --------------------------------------------- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

struct lgw_model {
    char name[64];
    lgw_value_t *points; /* struct: name → int (type * 10 + access) */
    struct lgw_model *next;
};
static struct lgw_model *g_models;

typedef struct fh_dev {
    char id[128], model[64], fw[64];
    int online; /* 0/1 */
    int offline_count;
    long reports;
    lgw_value_t *last;
    struct fh_dev *next;
} fh_dev_t;
static fh_dev_t *g_devs;

lgw_model_t *fh_model_new(lgw_instance_t *inst, const char *name)
{
    (void)inst;
    struct lgw_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    snprintf(m->name, sizeof m->name, "%s", name);
    m->points = lgw_value_new_struct();
    return m;
}
int fh_model_add_point(lgw_model_t *m, const char *name, lgw_type_t type, int access)
{
    return lgw_value_struct_set(m->points, name, lgw_value_new_int((int64_t)type * 10 + access));
}
int fh_model_add_service(lgw_model_t *m, const char *name) { (void)m; (void)name; return LGW_OK; }
int fh_model_add_event(lgw_model_t *m, const char *name) { (void)m; (void)name; return LGW_OK; }
int fh_model_commit(lgw_model_t *m)
{
    pthread_mutex_lock(&g_mu);
    m->next = g_models;
    g_models = m;
    pthread_mutex_unlock(&g_mu);
    return LGW_OK;
}
void fh_model_discard(lgw_model_t *m)
{
    if (m) {
        lgw_value_free(m->points);
        free(m);
    }
}
lgw_model_t *lgw_model_new(lgw_instance_t *inst, const char *name) WEAK(model_new);
int lgw_model_add_point(lgw_model_t *m, const char *name, lgw_type_t type, int access) WEAK(model_add_point);
int lgw_model_add_service(lgw_model_t *m, const char *name) WEAK(model_add_service);
int lgw_model_add_event(lgw_model_t *m, const char *name) WEAK(model_add_event);
int lgw_model_commit(lgw_model_t *m) WEAK(model_commit);
void lgw_model_discard(lgw_model_t *m) WEAK(model_discard);

static fh_dev_t *dev_find(const char *id)
{
    for (fh_dev_t *d = g_devs; d; d = d->next)
        if (strcmp(d->id, id) == 0)
            return d;
    return NULL;
}

int fh_device_add(lgw_instance_t *inst, const char *id, const char *model)
{
    (void)inst;
    pthread_mutex_lock(&g_mu);
    fh_dev_t *d = dev_find(id);
    if (!d && (d = calloc(1, sizeof *d))) {
        snprintf(d->id, sizeof d->id, "%s", id);
        d->last = lgw_value_new_struct();
        d->next = g_devs;
        g_devs = d;
    }
    if (d)
        snprintf(d->model, sizeof d->model, "%s", model);
    pthread_mutex_unlock(&g_mu);
    return d ? LGW_OK : LGW_ENOMEM;
}
int fh_device_set_online(lgw_instance_t *inst, const char *id, bool online)
{
    (void)inst;
    pthread_mutex_lock(&g_mu);
    fh_dev_t *d = dev_find(id);
    if (d) {
        if (!online)
            d->offline_count++;
        d->online = online;
    }
    pthread_mutex_unlock(&g_mu);
    return d ? LGW_OK : LGW_ENOENT;
}
int fh_device_gone(lgw_instance_t *inst, const char *id) { (void)inst; (void)id; return LGW_OK; }
int fh_device_set_firmware(lgw_instance_t *inst, const char *id, const char *v)
{
    (void)inst;
    pthread_mutex_lock(&g_mu);
    fh_dev_t *d = dev_find(id);
    if (d)
        snprintf(d->fw, sizeof d->fw, "%s", v);
    pthread_mutex_unlock(&g_mu);
    return d ? LGW_OK : LGW_ENOENT;
}
int lgw_device_add(lgw_instance_t *inst, const char *id, const char *model) WEAK(device_add);
int lgw_device_set_online(lgw_instance_t *inst, const char *id, bool online) WEAK(device_set_online);
int lgw_device_gone(lgw_instance_t *inst, const char *id) WEAK(device_gone);
int lgw_device_set_firmware(lgw_instance_t *inst, const char *id, const char *v) WEAK(device_set_firmware);

struct lgw_report {
    char dev[128];
    lgw_value_t *vals;
    long n;
};
static bool g_sink;
static long g_sink_values, g_sink_reports;

void fh_set_sink(bool on) { g_sink = on; }
void fh_sink_counts(long *values, long *reports)
{
    pthread_mutex_lock(&g_mu);
    *values = g_sink_values;
    *reports = g_sink_reports;
    pthread_mutex_unlock(&g_mu);
}
#define SINK(r) do { if (g_sink) { (r)->n++; return LGW_OK; } } while (0)
lgw_report_t *fh_report_new(lgw_instance_t *inst, const char *dev)
{
    (void)inst;
    lgw_report_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->dev, sizeof r->dev, "%s", dev);
    r->vals = g_sink ? NULL : lgw_value_new_struct();
    return r;
}
lgw_report_t *fh_event_new(lgw_instance_t *inst, const char *dev, const char *ev)
{
    (void)ev;
    return fh_report_new(inst, dev);
}
void fh_report_set_time(lgw_report_t *r, int64_t t) { (void)r; (void)t; }
int fh_report_add_value(lgw_report_t *r, const char *n, lgw_value_t *v) { return lgw_value_struct_set(r->vals, n, v); }
int fh_report_add_bool(lgw_report_t *r, const char *n, bool v) { SINK(r); return fh_report_add_value(r, n, lgw_value_new_bool(v)); }
int fh_report_add_int(lgw_report_t *r, const char *n, int64_t v) { SINK(r); return fh_report_add_value(r, n, lgw_value_new_int(v)); }
int fh_report_add_float(lgw_report_t *r, const char *n, float v) { SINK(r); return fh_report_add_value(r, n, lgw_value_new_float(v)); }
int fh_report_add_double(lgw_report_t *r, const char *n, double v) { SINK(r); return fh_report_add_value(r, n, lgw_value_new_double(v)); }
int fh_report_add_text(lgw_report_t *r, const char *n, const char *v) { SINK(r); return fh_report_add_value(r, n, lgw_value_new_text(v)); }
int fh_report_add_enum(lgw_report_t *r, const char *n, int32_t v) { SINK(r); return fh_report_add_value(r, n, lgw_value_new_enum(v)); }
int fh_report_add_date(lgw_report_t *r, const char *n, int64_t v) { SINK(r); return fh_report_add_value(r, n, lgw_value_new_date(v)); }
void fh_report_discard(lgw_report_t *r)
{
    if (r) {
        lgw_value_free(r->vals);
        free(r);
    }
}
int fh_report_commit(lgw_report_t *r)
{
    pthread_mutex_lock(&g_mu);
    if (g_sink) {
        g_sink_values += r->n;
        g_sink_reports++;
        pthread_mutex_unlock(&g_mu);
        fh_report_discard(r);
        return LGW_OK;
    }
    fh_dev_t *d = dev_find(r->dev);
    if (d) {
        d->reports++;
        for (size_t i = 0; i < lgw_value_count(r->vals); i++) {
            const char *name;
            const lgw_value_t *v = lgw_value_struct_at(r->vals, i, &name);
            lgw_value_struct_set(d->last, name, lgw_value_copy(v));
        }
    } else {
        fprintf(stderr, "fakehost: report for unknown device %s\n", r->dev);
    }
    pthread_mutex_unlock(&g_mu);
    fh_report_discard(r);
    return LGW_OK;
}
lgw_report_t *lgw_report_new(lgw_instance_t *inst, const char *dev) WEAK(report_new);
lgw_report_t *lgw_event_new(lgw_instance_t *inst, const char *dev, const char *ev) WEAK(event_new);
void lgw_report_set_time(lgw_report_t *r, int64_t t) WEAK(report_set_time);
int lgw_report_add_value(lgw_report_t *r, const char *n, lgw_value_t *v) WEAK(report_add_value);
int lgw_report_add_bool(lgw_report_t *r, const char *n, bool v) WEAK(report_add_bool);
int lgw_report_add_int(lgw_report_t *r, const char *n, int64_t v) WEAK(report_add_int);
int lgw_report_add_float(lgw_report_t *r, const char *n, float v) WEAK(report_add_float);
int lgw_report_add_double(lgw_report_t *r, const char *n, double v) WEAK(report_add_double);
int lgw_report_add_text(lgw_report_t *r, const char *n, const char *v) WEAK(report_add_text);
int lgw_report_add_enum(lgw_report_t *r, const char *n, int32_t v) WEAK(report_add_enum);
int lgw_report_add_date(lgw_report_t *r, const char *n, int64_t v) WEAK(report_add_date);
int lgw_report_commit(lgw_report_t *r) WEAK(report_commit);
void lgw_report_discard(lgw_report_t *r) WEAK(report_discard);

/* ---- requests -------------------------------------------------------------- */

struct lgw_request {
    bool done;
    int code;
    char msg[256];
};
int fh_request_add_output(lgw_request_t *req, const char *n, lgw_value_t *v)
{
    (void)req;
    (void)n;
    lgw_value_free(v);
    return LGW_OK;
}
void fh_request_done(lgw_request_t *req, int code, const char *msg)
{
    req->code = code;
    snprintf(req->msg, sizeof req->msg, "%s", msg ? msg : "");
    __atomic_store_n(&req->done, true, __ATOMIC_RELEASE);
    if (write(g_wake[1], "x", 1) < 0) {
    }
}
int lgw_request_add_output(lgw_request_t *req, const char *n, lgw_value_t *v) WEAK(request_add_output);
void lgw_request_done(lgw_request_t *req, int code, const char *msg) WEAK(request_done);

static bool req_done(void *arg) { return __atomic_load_n(&((lgw_request_t *)arg)->done, __ATOMIC_ACQUIRE); }

int fh_request(fh_plugin_t *p, const char *dev, const char *service, lgw_value_t *values, char *msg, size_t cap)
{
    lgw_request_t req = {0};
    int rc = service ? (p->drv->invoke ? p->drv->invoke(p->data, &req, dev, service, values) : LGW_ENOTSUP)
                     : (p->drv->write ? p->drv->write(p->data, &req, dev, values) : LGW_ENOTSUP);
    lgw_value_free(values);
    if (rc != LGW_OK)
        return rc;
    fh_run_until(req_done, &req, 10000);
    if (msg)
        snprintf(msg, cap, "%s", req.msg);
    return req.done ? req.code : LGW_ETIMEDOUT;
}

/* ---- observations -------------------------------------------------------- */

lgw_value_t *fh_last(const char *dev, const char *point)
{
    pthread_mutex_lock(&g_mu);
    fh_dev_t *d = dev_find(dev);
    lgw_value_t *v = d ? lgw_value_copy(lgw_value_struct_get(d->last, point)) : NULL;
    pthread_mutex_unlock(&g_mu);
    return v;
}
#define OBS(type, name, expr, none)                                                                          \
    type name(const char *dev)                                                                              \
    {                                                                                                       \
        pthread_mutex_lock(&g_mu);                                                                          \
        fh_dev_t *d = dev_find(dev);                                                                        \
        type r = d ? (expr) : (none);                                                                       \
        pthread_mutex_unlock(&g_mu);                                                                        \
        return r;                                                                                           \
    }
OBS(long, fh_reports, d->reports, 0)
OBS(int, fh_online, d->online, -1)
OBS(const char *, fh_model, d->model, NULL)
OBS(const char *, fh_firmware, d->fw[0] ? d->fw : NULL, NULL)
OBS(int, fh_offline_count, d->offline_count, 0)

lgw_type_t fh_model_point(const char *model, const char *point, int *access)
{
    lgw_type_t t = 0;
    pthread_mutex_lock(&g_mu);
    for (struct lgw_model *m = g_models; m; m = m->next) {
        if (strcmp(m->name, model) != 0)
            continue;
        int64_t v;
        if (lgw_value_get_int(lgw_value_struct_get(m->points, point), &v) == LGW_OK) {
            t = (lgw_type_t)(v / 10);
            if (access)
                *access = (int)(v % 10);
        }
        break;
    }
    pthread_mutex_unlock(&g_mu);
    return t;
}

void fh_reset(void)
{
    pthread_mutex_lock(&g_mu);
    while (g_devs) {
        fh_dev_t *d = g_devs;
        g_devs = d->next;
        lgw_value_free(d->last);
        free(d);
    }
    while (g_models) {
        struct lgw_model *m = g_models;
        g_models = m->next;
        fh_model_discard(m);
    }
    pthread_mutex_unlock(&g_mu);
    reap_timers();
}

/* ---- plugins --------------------------------------------------------------- */

bool fh_available(const char **why)
{
    /* the stand-in is in charge only if every loop-bound function is ours */
    if ((void *)lgw_timer_new != (void *)fh_timer_new || (void *)lgw_worker_new != (void *)fh_worker_new ||
        (void *)lgw_report_commit != (void *)fh_report_commit || (void *)lgw_request_done != (void *)fh_request_done ||
        (void *)lgw_device_add != (void *)fh_device_add) {
        if (why)
            *why = "the core now implements the host API: port these tests to the core's test host";
        return false;
    }
    if (g_wake[0] < 0 && pipe2(g_wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        if (why)
            *why = "pipe2 failed";
        return false;
    }
    return true;
}

fh_plugin_t *fh_load(const char *name, const char *instance_name)
{
    const char *dir = getenv("LINKGW_TEST_PLUGIN_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", dir ? dir : ".", name);
    fh_plugin_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl) {
        fprintf(stderr, "fakehost: %s\n", dlerror());
        free(p);
        return NULL;
    }
    int (*abi)(const int *, int) = (int (*)(const int *, int))dlsym(p->dl, "lgw_plugin_abi");
    int (*reg)(lgw_driver_t *) = (int (*)(lgw_driver_t *))dlsym(p->dl, "lgw_plugin_register");
    const int mine = LGW_ABI_VERSION;
    p->drv = calloc(1, sizeof *p->drv);
    p->inst = calloc(1, sizeof *p->inst);
    if (!abi || !reg || !p->drv || !p->inst || LGW_ABI_MAJOR_OF(abi(&mine, 1)) != LGW_ABI_MAJOR ||
        reg(p->drv) != LGW_OK) {
        fh_unload(p);
        return NULL;
    }
    snprintf(p->inst->name, sizeof p->inst->name, "%s", instance_name);
    return p;
}

int fh_create(fh_plugin_t *p, const char *path, const char *text)
{
    int rc = gw_cfgdoc_load_string(&p->doc, path, text, &p->errs);
    if (rc != LGW_OK)
        return rc;
    config_setting_t *s = config_lookup(&p->doc.cfg, "settings");
    gw_cfgdoc_set_current(&p->doc);
    rc = p->drv->create(p->inst, s ? gw_cfg_node(s) : gw_cfgdoc_root(&p->doc), &p->data);
    gw_cfgdoc_set_current(NULL);
    p->created = rc == LGW_OK;
    return rc;
}

int fh_start(fh_plugin_t *p)
{
    int rc = p->drv->start(p->data);
    p->started = true;
    return rc;
}

void fh_unload(fh_plugin_t *p)
{
    if (!p)
        return;
    if (p->started)
        p->drv->stop(p->data);
    if (p->created)
        p->drv->destroy(p->data);
    gw_cfgdoc_free(&p->doc);
    gw_errors_free(&p->errs);
    if (p->dl)
        dlclose(p->dl);
    free(p->drv);
    free(p->inst);
    free(p);
    fh_reset();
}

int fh_discovery(fh_plugin_t *p, bool enable)
{
    return p->drv->discovery ? p->drv->discovery(p->data, enable) : LGW_ENOTSUP;
}

int fh_remove(fh_plugin_t *p, const char *dev)
{
    lgw_request_t req = {0};
    int rc = p->drv->remove ? p->drv->remove(p->data, &req, dev) : LGW_ENOTSUP;
    if (rc != LGW_OK)
        return rc;
    fh_run_until(req_done, &req, 10000);
    return req.done ? req.code : LGW_ETIMEDOUT;
}
