/* Shared helpers of the core tests; see harness.h. */
#include "harness.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void th_open(th_t *t)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    assert_int_equal(gw_host_init(&t->host, &t->loop), LGW_OK);
    snprintf(t->dir, sizeof t->dir, "%s/linkgw-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(t->dir));
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void th_close(th_t *t)
{
    gw_host_close(&t->host);
    uv_walk(&t->loop, close_walk, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&t->loop), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    assert_int_equal(system(cmd), 0);
}

const char *th_write(th_t *t, const char *name, const char *text)
{
    static char paths[4][512];
    static int k;
    char *p = paths[k++ % 4];
    snprintf(p, 512, "%s/%s", t->dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

const char *th_plugin(const char *name)
{
    static char paths[4][512];
    static int k;
    char *p = paths[k++ % 4];
    snprintf(p, 512, "%s/%s.so", TEST_PLUGIN_DIR, name);
    return p;
}

lgw_instance_t *th_create(th_t *t, const char *name, const char *plugin, const char *settings_text,
                          gw_errors_t *errs)
{
    char text[2048];
    snprintf(text, sizeof text, "settings = {\n%s\n};\n", settings_text ? settings_text : "");
    gw_cfgdoc_t doc;
    assert_int_equal(gw_cfgdoc_load_string(&doc, "test.conf", text, errs), LGW_OK);
    lgw_instance_t *inst = gw_instance_load(&t->host, name, th_plugin(plugin), errs, "test.conf", 1);
    if (inst && gw_instance_create(inst, &doc, lgw_config_child(gw_cfgdoc_root(&doc), "settings")) != LGW_OK) {
        gw_instance_destroy(inst);
        inst = NULL;
    }
    gw_cfgdoc_free(&doc);
    return inst;
}

static void on_guard(uv_timer_t *h) { *(bool *)h->data = true; }

void th_run_until(th_t *t, bool (*cond)(void *), void *arg)
{
    bool expired = false;
    uv_timer_t guard;
    uv_timer_init(&t->loop, &guard);
    guard.data = &expired;
    uv_timer_start(&guard, on_guard, 20000, 0);
    while (!cond(arg) && !expired)
        uv_run(&t->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&t->loop, UV_RUN_NOWAIT);
    if (expired)
        fail_msg("condition not met within 20 s");
}

void th_run_for(th_t *t, uint64_t ms)
{
    bool expired = false;
    uv_timer_t guard;
    uv_timer_init(&t->loop, &guard);
    guard.data = &expired;
    uv_timer_start(&guard, on_guard, ms, 0);
    while (!expired)
        uv_run(&t->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&t->loop, UV_RUN_NOWAIT);
}

bool th_has_error(const gw_errors_t *e, const char *needle)
{
    for (size_t i = 0; i < e->n; i++)
        if (strstr(e->msgs[i], needle))
            return true;
    return false;
}

/* ---- recording consumer ------------------------------------------------------ */

void rec_init(rec_t *r)
{
    memset(r, 0, sizeof *r);
    r->seq_in_order = true;
}

static void r_started(void *d, const char *i) { (void)i; ((rec_t *)d)->started++; }
static void r_stopped(void *d, const char *i) { (void)i; ((rec_t *)d)->stopped++; }
static void r_added(void *d, const gw_hub_device_t *dev) { (void)dev; ((rec_t *)d)->added++; }
static void r_online(void *d, const gw_hub_device_t *dev, bool on)
{
    (void)dev;
    if (on)
        ((rec_t *)d)->online++;
    else
        ((rec_t *)d)->offline++;
}
static void r_gone(void *d, const gw_hub_device_t *dev) { (void)dev; ((rec_t *)d)->gone++; }
static void r_fw(void *d, const gw_hub_device_t *dev, const char *v)
{
    (void)dev;
    (void)v;
    ((rec_t *)d)->firmware++;
}
static void r_props(void *d, const gw_hub_device_t *dev, const lgw_report_t *rep)
{
    (void)dev;
    rec_t *r = d;
    r->props++;
    for (size_t i = 0; i < gw_report_count(rep); i++) {
        const char *name;
        const lgw_value_t *v = gw_report_at(rep, i, &name);
        r->values++;
        int64_t seq;
        if (strcmp(name, "seq") == 0 && lgw_value_get_int(v, &seq) == LGW_OK) {
            if (seq != r->last_seq + 1)
                r->seq_in_order = false;
            r->last_seq = seq;
        }
    }
}
static void r_event(void *d, const gw_hub_device_t *dev, const lgw_report_t *rep)
{
    (void)dev;
    (void)rep;
    ((rec_t *)d)->events++;
}

const gw_hub_consumer_t rec_consumer = {
    .instance_started = r_started,
    .instance_stopped = r_stopped,
    .device_added = r_added,
    .device_online = r_online,
    .device_gone = r_gone,
    .device_firmware = r_fw,
    .properties = r_props,
    .event = r_event,
};
