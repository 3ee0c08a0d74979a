/* Test host for the Modbus plugin on the real core; see mbh.h. */
#include "mbh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "host.h"
#include "hub.h"
#include "instance.h"
#include "model.h"
#include "report.h"

static uv_loop_t g_loop;
static gw_host_t g_host;
static bool g_init;

typedef struct rec_dev {
    char id[128], model[64], fw[64];
    bool added, online;
    int offline_count;
    long reports;
    lgw_value_t *last;
    struct rec_dev *next;
} rec_dev_t;
static rec_dev_t *g_devs;
static bool g_sink;
static long g_sink_values, g_sink_reports;

static rec_dev_t *dev_get(const char *id, bool create)
{
    for (rec_dev_t *d = g_devs; d; d = d->next)
        if (strcmp(d->id, id) == 0)
            return d;
    if (!create)
        return NULL;
    rec_dev_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    snprintf(d->id, sizeof d->id, "%s", id);
    d->last = lgw_value_new_struct();
    d->next = g_devs;
    g_devs = d;
    return d;
}

static void c_added(void *data, const gw_hub_device_t *dev)
{
    (void)data;
    rec_dev_t *d = dev_get(dev->device_id, true);
    if (d) {
        d->added = true;
        snprintf(d->model, sizeof d->model, "%s", dev->model ? dev->model : "");
    }
}
static void c_online(void *data, const gw_hub_device_t *dev, bool online)
{
    (void)data;
    rec_dev_t *d = dev_get(dev->device_id, true);
    if (!d)
        return;
    if (!online)
        d->offline_count++;
    d->online = online;
}
static void c_firmware(void *data, const gw_hub_device_t *dev, const char *version)
{
    (void)data;
    rec_dev_t *d = dev_get(dev->device_id, true);
    if (d)
        snprintf(d->fw, sizeof d->fw, "%s", version);
}
static void c_props(void *data, const gw_hub_device_t *dev, const lgw_report_t *r)
{
    (void)data;
    if (g_sink) {
        g_sink_values += (long)gw_report_count(r);
        g_sink_reports++;
        return;
    }
    rec_dev_t *d = dev_get(dev->device_id, true);
    if (!d)
        return;
    d->reports++;
    for (size_t i = 0; i < gw_report_count(r); i++) {
        const char *name;
        const lgw_value_t *v = gw_report_at(r, i, &name);
        lgw_value_struct_set(d->last, name, lgw_value_copy(v));
    }
}
static const gw_hub_consumer_t g_consumer = {
    .device_added = c_added,
    .device_online = c_online,
    .device_firmware = c_firmware,
    .properties = c_props,
};

static void init(void)
{
    if (g_init)
        return;
    if (uv_loop_init(&g_loop) != 0 || gw_host_init(&g_host, &g_loop) != LGW_OK) {
        fprintf(stderr, "mbh: cannot initialise the host\n");
        abort();
    }
    gw_hub_add_consumer(g_host.hub, &g_consumer, NULL);
    g_init = true;
}

static void forget(void)
{
    while (g_devs) {
        rec_dev_t *d = g_devs;
        g_devs = d->next;
        lgw_value_free(d->last);
        free(d);
    }
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void mbh_shutdown(void)
{
    if (!g_init)
        return;
    forget();
    gw_hub_remove_consumer(g_host.hub, &g_consumer, NULL);
    gw_host_close(&g_host);
    uv_walk(&g_loop, close_walk, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    uv_loop_close(&g_loop);
    g_init = false;
}

/* ---- loop ------------------------------------------------------------------ */

/* A repeating guard: libuv's UV_RUN_ONCE may block in poll after a one-shot
 * timer already fired in the same turn, so the guard ticks every 10 ms and
 * declares the deadline itself. */
typedef struct guard {
    uv_timer_t t;
    uint64_t deadline;
    bool expired;
} guard_t;

static void on_guard(uv_timer_t *h)
{
    guard_t *g = (guard_t *)h;
    if (uv_now(h->loop) >= g->deadline)
        g->expired = true;
}

bool mbh_run_until(bool (*pred)(void *), void *arg, int timeout_ms)
{
    init();
    guard_t g = {.expired = false};
    uv_update_time(&g_loop);
    g.deadline = uv_now(&g_loop) + (uint64_t)timeout_ms;
    uv_timer_init(&g_loop, &g.t);
    uv_timer_start(&g.t, on_guard, timeout_ms < 10 ? (uint64_t)timeout_ms : 10, 10);
    while (!(pred && pred(arg)) && !g.expired)
        uv_run(&g_loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&g.t, NULL);
    uv_run(&g_loop, UV_RUN_NOWAIT);
    return pred ? pred(arg) : true;
}

void mbh_run(int ms) { mbh_run_until(NULL, NULL, ms); }

/* ---- instances ---------------------------------------------------------------- */

mbh_plugin_t *mbh_load(const char *name, const char *instance_name)
{
    init();
    mbh_plugin_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->name, sizeof p->name, "%s", instance_name);
    const char *dir = getenv("LINKGW_TEST_PLUGIN_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", dir ? dir : ".", name);
    p->inst = gw_instance_load(&g_host, instance_name, path, &p->errs, "test.conf", 1);
    if (!p->inst) {
        for (size_t i = 0; i < p->errs.n; i++)
            fprintf(stderr, "mbh: %s\n", p->errs.msgs[i]);
        gw_errors_free(&p->errs);
        free(p);
        return NULL;
    }
    return p;
}

int mbh_create(mbh_plugin_t *p, const char *path, const char *text)
{
    gw_cfgdoc_t doc;
    int rc = gw_cfgdoc_load_string(&doc, path, text, &p->errs);
    if (rc == LGW_OK)
        rc = gw_instance_create(p->inst, &doc, lgw_config_child(gw_cfgdoc_root(&doc), "settings"));
    gw_cfgdoc_free(&doc);
    return rc;
}

int mbh_start(mbh_plugin_t *p)
{
    int rc = gw_instance_start(p->inst);
    if (rc == LGW_OK)
        p->started = true;
    else
        p->inst = NULL; /* the core destroyed it */
    return rc;
}

static void on_stopped(lgw_instance_t *inst, void *data)
{
    (void)inst;
    *(bool *)data = true;
}
static bool flag_set(void *arg) { return *(bool *)arg; }

void mbh_unload(mbh_plugin_t *p)
{
    if (!p)
        return;
    if (p->inst && p->started) {
        bool done = false;
        gw_instance_stop(p->inst, on_stopped, &done);
        mbh_run_until(flag_set, &done, 20000);
    } else if (p->inst) {
        gw_instance_destroy(p->inst);
    }
    mbh_run(1); /* let close callbacks run */
    gw_errors_free(&p->errs);
    free(p);
    forget();
}

/* ---- observations ------------------------------------------------------------ */

lgw_value_t *mbh_last(const char *dev, const char *point)
{
    rec_dev_t *d = dev_get(dev, false);
    return d ? lgw_value_copy(lgw_value_struct_get(d->last, point)) : NULL;
}
long mbh_reports(const char *dev)
{
    rec_dev_t *d = dev_get(dev, false);
    return d ? d->reports : 0;
}
int mbh_online(const char *dev)
{
    rec_dev_t *d = dev_get(dev, false);
    return d && d->added ? d->online : -1;
}
const char *mbh_model(const char *dev)
{
    rec_dev_t *d = dev_get(dev, false);
    return d && d->added ? d->model : NULL;
}
const char *mbh_firmware(const char *dev)
{
    rec_dev_t *d = dev_get(dev, false);
    return d && d->fw[0] ? d->fw : NULL;
}
int mbh_offline_count(const char *dev)
{
    rec_dev_t *d = dev_get(dev, false);
    return d ? d->offline_count : 0;
}
lgw_type_t mbh_model_point(mbh_plugin_t *p, const char *model, const char *point, int *access)
{
    const lgw_model_t *m = gw_model_find(p->inst, model);
    const gw_model_point_t *pt = m ? gw_model_point(m, point) : NULL;
    if (pt && access)
        *access = pt->access;
    return pt ? pt->type : 0;
}
void mbh_set_sink(bool on) { g_sink = on; }
void mbh_sink_counts(long *values, long *reports)
{
    *values = g_sink_values;
    *reports = g_sink_reports;
}

/* ---- downlink -------------------------------------------------------------------- */

typedef struct answer {
    bool done;
    int code;
    char msg[256];
} answer_t;

static void on_done(void *data, int code, const char *message, const lgw_value_t *output)
{
    (void)output;
    answer_t *a = data;
    a->done = true;
    a->code = code;
    snprintf(a->msg, sizeof a->msg, "%s", message ? message : "");
}
static bool answered(void *arg) { return ((answer_t *)arg)->done; }

int mbh_request(mbh_plugin_t *p, const char *dev, const char *service, lgw_value_t *values, char *msg, size_t cap)
{
    answer_t a = {0};
    if (service)
        gw_hub_invoke(g_host.hub, p->name, dev, service, values, on_done, &a);
    else
        gw_hub_write(g_host.hub, p->name, dev, values, on_done, &a);
    lgw_value_free(values);
    mbh_run_until(answered, &a, 20000);
    if (msg)
        snprintf(msg, cap, "%s", a.msg);
    return a.done ? a.code : LGW_ETIMEDOUT;
}

int mbh_remove(mbh_plugin_t *p, const char *dev)
{
    answer_t a = {0};
    gw_hub_remove(g_host.hub, p->name, dev, on_done, &a);
    mbh_run_until(answered, &a, 20000);
    return a.done ? a.code : LGW_ETIMEDOUT;
}

int mbh_discovery(mbh_plugin_t *p, bool enable) { return gw_hub_discovery(g_host.hub, p->name, enable); }
