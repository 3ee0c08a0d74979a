/* Helpers of the sim plugin tests; see sim_harness.h. */
#include "sim_harness.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the recording consumer ----------------------------------------------- */

sh_dev_t *sh_dev(sh_t *s, const char *instance, const char *id)
{
    for (size_t i = 0; i < s->ndevs; i++)
        if (strcmp(s->devs[i].instance, instance) == 0 && strcmp(s->devs[i].id, id) == 0)
            return &s->devs[i];
    return NULL;
}

/* The record of @p dev, created on first sight. */
static sh_dev_t *rec_dev(sh_t *s, const gw_hub_device_t *dev)
{
    sh_dev_t *d = sh_dev(s, dev->instance, dev->device_id);
    if (d)
        return d;
    assert_true(s->ndevs < SH_MAX_DEVICES);
    d = &s->devs[s->ndevs++];
    memset(d, 0, sizeof *d);
    snprintf(d->instance, sizeof d->instance, "%s", dev->instance);
    snprintf(d->id, sizeof d->id, "%s", dev->device_id);
    return d;
}

static void on_started(void *data, const char *instance)
{
    (void)instance;
    ((sh_t *)data)->started++;
}

static void on_stopped(void *data, const char *instance)
{
    (void)instance;
    ((sh_t *)data)->stopped++;
}

static void on_added(void *data, const gw_hub_device_t *dev)
{
    sh_t *s = data;
    s->added++;
    if (!s->totals_only)
        rec_dev(s, dev)->added++;
}

const char *sh_trail(sh_t *s, const char *instance)
{
    for (size_t i = 0; i < 4; i++)
        if (strcmp(s->trails[i].instance, instance) == 0)
            return s->trails[i].text;
    return "";
}

/* Appends "<id><+|->" to the trail of the device's instance (while there is room). */
static void trail_add(sh_t *s, const gw_hub_device_t *dev, bool online)
{
    sh_trail_t *t = NULL;
    for (size_t i = 0; i < 4 && !t; i++)
        if (strcmp(s->trails[i].instance, dev->instance) == 0 || s->trails[i].instance[0] == '\0')
            t = &s->trails[i];
    assert_non_null(t);
    snprintf(t->instance, sizeof t->instance, "%s", dev->instance);
    size_t len = strlen(t->text);
    if (len + strlen(dev->device_id) + 2 < sizeof t->text)
        snprintf(t->text + len, sizeof t->text - len, "%s%c", dev->device_id, online ? '+' : '-');
}

static void on_online(void *data, const gw_hub_device_t *dev, bool online)
{
    sh_t *s = data;
    if (s->totals_only) {
        *(online ? &s->online : &s->offline) += 1;
        return;
    }
    sh_dev_t *d = rec_dev(s, dev);
    trail_add(s, dev, online);
    if (online) {
        s->online++;
        d->online++;
    } else {
        s->offline++;
        d->offline++;
    }
}

static void on_props(void *data, const gw_hub_device_t *dev, const lgw_report_t *r)
{
    (void)r;
    sh_t *s = data;
    s->props++;
    if (!s->totals_only)
        rec_dev(s, dev)->props++;
}

static void on_event(void *data, const gw_hub_device_t *dev, const lgw_report_t *r)
{
    sh_t *s = data;
    sh_dev_t *d = rec_dev(s, dev);
    assert_string_equal(gw_report_event(r), "over_temperature");
    for (size_t i = 0; i < gw_report_count(r); i++) {
        const char *name;
        const lgw_value_t *v = gw_report_at(r, i, &name);
        if (strcmp(name, "temperature") == 0)
            assert_int_equal(lgw_value_get_double(v, &d->last_event_value), LGW_OK);
    }
    s->events++;
    d->events++;
}

static const gw_hub_consumer_t recorder = {
    .instance_started = on_started,
    .instance_stopped = on_stopped,
    .device_added = on_added,
    .device_online = on_online,
    .properties = on_props,
    .event = on_event,
};

/* ---- host and loop ----------------------------------------------------------- */

void sh_open(sh_t *s)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(uv_loop_init(&s->loop), 0);
    assert_int_equal(gw_host_init(&s->host, &s->loop), LGW_OK);
    assert_int_equal(gw_hub_add_consumer(s->host.hub, &recorder, s), LGW_OK);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void sh_close(sh_t *s)
{
    gw_host_close(&s->host);
    uv_walk(&s->loop, close_walk, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&s->loop), 0);
}

static void on_guard(uv_timer_t *h)
{
    *(bool *)h->data = true;
}

void sh_run_until(sh_t *s, bool (*cond)(sh_t *s, void *arg), void *arg)
{
    bool expired = false;
    uv_timer_t guard;
    uv_timer_init(&s->loop, &guard);
    guard.data = &expired;
    uv_timer_start(&guard, on_guard, 20000, 0);
    while (!cond(s, arg) && !expired)
        uv_run(&s->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&s->loop, UV_RUN_NOWAIT);
    if (expired)
        fail_msg("condition not met within 20 s");
}

void sh_run_for(sh_t *s, uint64_t ms)
{
    bool expired = false;
    uv_timer_t guard;
    uv_timer_init(&s->loop, &guard);
    guard.data = &expired;
    uv_timer_start(&guard, on_guard, ms, 0);
    while (!expired)
        uv_run(&s->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&s->loop, UV_RUN_NOWAIT);
}

/* ---- instances --------------------------------------------------------------- */

lgw_instance_t *sh_create(sh_t *s, const char *name, const char *settings, gw_errors_t *errs)
{
    const char *dir = getenv("LINKGW_TEST_PLUGIN_DIR");
    assert_non_null(dir);
    char plugin[512], text[4096];
    snprintf(plugin, sizeof plugin, "%s/sim.so", dir);
    snprintf(text, sizeof text, "plugin = \"sim\";\nsettings = {\n%s\n};\n", settings);

    gw_cfgdoc_t doc;
    assert_int_equal(gw_cfgdoc_load_string(&doc, "sim-test.conf", text, errs), LGW_OK);
    lgw_instance_t *inst = gw_instance_load(&s->host, name, plugin, errs, "sim-test.conf", 1);
    assert_non_null(inst);
    if (gw_instance_create(inst, &doc, lgw_config_child(gw_cfgdoc_root(&doc), "settings")) != LGW_OK) {
        gw_instance_destroy(inst);
        inst = NULL;
    }
    gw_cfgdoc_free(&doc);
    return inst;
}

lgw_instance_t *sh_start(sh_t *s, const char *name, const char *settings)
{
    gw_errors_t errs = { 0 };
    lgw_instance_t *inst = sh_create(s, name, settings, &errs);
    for (size_t i = 0; i < errs.n; i++)
        print_error("unexpected config error: %s\n", errs.msgs[i]);
    assert_int_equal(errs.n, 0);
    gw_errors_free(&errs);
    assert_non_null(inst);
    assert_int_equal(gw_instance_start(inst), LGW_OK);
    return inst;
}

static void on_inst_stopped(lgw_instance_t *inst, void *data)
{
    (void)inst;
    *(bool *)data = true;
}

static bool flag_set(sh_t *s, void *arg)
{
    (void)s;
    return *(bool *)arg;
}

void sh_stop(sh_t *s, lgw_instance_t *inst)
{
    bool done = false;
    gw_instance_stop(inst, on_inst_stopped, &done);
    sh_run_until(s, flag_set, &done);
}

/* ---- hub views ----------------------------------------------------------------- */

const lgw_value_t *sh_value(sh_t *s, const char *instance, const char *id, const char *point)
{
    const gw_hub_device_t *dev = gw_hub_find(s->host.hub, instance, id);
    return gw_hub_value(dev, point);
}

double sh_number(sh_t *s, const char *instance, const char *id, const char *point)
{
    double d = 0;
    const lgw_value_t *v = sh_value(s, instance, id, point);
    assert_non_null(v);
    assert_int_equal(lgw_value_get_double(v, &d), LGW_OK);
    return d;
}

/* ---- downlink ------------------------------------------------------------------ */

static void on_reply(void *data, int code, const char *message, const lgw_value_t *output)
{
    sh_reply_t *r = data;
    r->done = true;
    r->code = code;
    snprintf(r->message, sizeof r->message, "%s", message ? message : "");
    r->output = lgw_value_copy(output);
}

static bool reply_done(sh_t *s, void *arg)
{
    (void)s;
    return ((sh_reply_t *)arg)->done;
}

void sh_reply_free(sh_reply_t *r)
{
    lgw_value_free(r->output);
    memset(r, 0, sizeof *r);
}

void sh_write(sh_t *s, const char *instance, const char *id, lgw_value_t *values, sh_reply_t *r)
{
    memset(r, 0, sizeof *r);
    gw_hub_write(s->host.hub, instance, id, values, on_reply, r);
    lgw_value_free(values);
    sh_run_until(s, reply_done, r);
}

void sh_read(sh_t *s, const char *instance, const char *id, const char *point, sh_reply_t *r)
{
    memset(r, 0, sizeof *r);
    lgw_value_t *names = lgw_value_new_array();
    assert_int_equal(lgw_value_array_append(names, lgw_value_new_text(point)), LGW_OK);
    gw_hub_read(s->host.hub, instance, id, names, on_reply, r);
    lgw_value_free(names);
    sh_run_until(s, reply_done, r);
}

void sh_invoke(sh_t *s, const char *instance, const char *id, const char *service, sh_reply_t *r)
{
    memset(r, 0, sizeof *r);
    lgw_value_t *input = lgw_value_new_struct();
    gw_hub_invoke(s->host.hub, instance, id, service, input, on_reply, r);
    lgw_value_free(input);
    sh_run_until(s, reply_done, r);
}

void sh_remove(sh_t *s, const char *instance, const char *id, sh_reply_t *r)
{
    memset(r, 0, sizeof *r);
    gw_hub_remove(s->host.hub, instance, id, on_reply, r);
    sh_run_until(s, reply_done, r);
}

bool sh_has_error(const gw_errors_t *errs, const char *needle)
{
    for (size_t i = 0; i < errs->n; i++)
        if (strstr(errs->msgs[i], needle))
            return true;
    return false;
}
