/* The device hub; see hub.h. Loop thread only. */
#include "hub.h"
#include "instance.h"
#include "log.h"
#include "report.h"
#include "request.h"
#include "strmap.h"
#include "value_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CONSUMERS 8
#define UNKNOWN_WARN_LIMIT 10

struct gw_hub_inst {
    lgw_instance_t *inst;
    gw_strmap_t devices;    /* device id -> gw_hub_device_t */
    unsigned unknown_warned;
    unsigned values_warned;
    gw_list_t link;         /* in hub->insts */
};

typedef struct consumer {
    const gw_hub_consumer_t *c;
    void *data;
} consumer_t;

struct gw_hub {
    gw_host_t *host;
    gw_list_t insts;
    /* point names of the devices' last values, interned once for every instance: instances of
     * one driver name their points alike (50 Modbus buses with the same register map: 100
     * names, not 5,000) */
    gw_hub_names_t names;
    consumer_t consumers[MAX_CONSUMERS];
    size_t nconsumers;
    gw_reqs_t reqs;
};

/* ---- the built-in log consumer ------------------------------------------ */

/* Renders a report's values as one JSON object into @p buf. */
static void report_json(const lgw_report_t *r, char *buf, size_t size)
{
    size_t len = 0;
    len += (size_t)snprintf(buf, size, "{");
    for (size_t i = 0; i < gw_report_count(r) && len < size; i++) {
        const char *name;
        const lgw_value_t *v = gw_report_at(r, i, &name);
        len += (size_t)snprintf(buf + len, size - len, "%s\"%s\":", i ? "," : "", name);
        if (len < size)
            len += lgw_value_to_string(v, buf + len, size - len);
    }
    if (len < size)
        snprintf(buf + len, size - len, "}");
    else if (size > 4)
        strcpy(buf + size - 4, "...");
}

static void log_added(void *d, const gw_hub_device_t *dev)
{
    (void)d;
    GW_INFO("hub", "device added: %s/%s (model %s)", dev->instance, dev->device_id, dev->model);
}

static void log_online(void *d, const gw_hub_device_t *dev, bool online)
{
    (void)d;
    GW_INFO("hub", "device %s/%s is %s", dev->instance, dev->device_id, online ? "online" : "offline");
}

static void log_gone(void *d, const gw_hub_device_t *dev)
{
    (void)d;
    GW_INFO("hub", "device %s/%s is gone", dev->instance, dev->device_id);
}

static void log_firmware(void *d, const gw_hub_device_t *dev, const char *version)
{
    (void)d;
    GW_INFO("hub", "device %s/%s firmware %s", dev->instance, dev->device_id, version);
}

static void log_props(void *d, const gw_hub_device_t *dev, const lgw_report_t *r)
{
    (void)d;
    if (!gw_log_enabled(LGW_LOG_INFO))
        return;
    char buf[1536];
    report_json(r, buf, sizeof buf);
    GW_INFO("hub", "would forward %s/%s properties: %s", dev->instance, dev->device_id, buf);
}

static void log_event(void *d, const gw_hub_device_t *dev, const lgw_report_t *r)
{
    (void)d;
    char buf[1536];
    report_json(r, buf, sizeof buf);
    GW_INFO("hub", "would forward %s/%s event %s: %s", dev->instance, dev->device_id, gw_report_event(r), buf);
}

static const gw_hub_consumer_t g_log_consumer = {
    .device_added = log_added,
    .device_online = log_online,
    .device_gone = log_gone,
    .device_firmware = log_firmware,
    .properties = log_props,
    .event = log_event,
};

/* Calls member @p fn of every consumer (or the log consumer). */
#define NOTIFY(hub, fn, ...)                                                         \
    do {                                                                             \
        if ((hub)->nconsumers == 0) {                                                \
            if (g_log_consumer.fn)                                                   \
                g_log_consumer.fn(NULL, __VA_ARGS__);                                \
        }                                                                            \
        for (size_t i_ = 0; i_ < (hub)->nconsumers; i_++)                            \
            if ((hub)->consumers[i_].c->fn)                                          \
                (hub)->consumers[i_].c->fn((hub)->consumers[i_].data, __VA_ARGS__);  \
    } while (0)

/* ---- set-up --------------------------------------------------------------- */

gw_hub_t *gw_hub_new(gw_host_t *host)
{
    gw_hub_t *hub = calloc(1, sizeof *hub);
    if (!hub)
        return NULL;
    hub->host = host;
    gw_list_init(&hub->insts);
    gw_hub_names_init(&hub->names);
    gw_reqs_init(&hub->reqs, host);
    return hub;
}

static void hub_closed(uv_handle_t *h)
{
    gw_hub_t *hub = gw_container_of((gw_reqs_t *)h->data, gw_hub_t, reqs);
    gw_hub_names_free(&hub->names); /* every device (and its names) went with its instance */
    free(hub);
}

void gw_hub_free(gw_hub_t *hub)
{
    if (!hub)
        return;
    gw_list_foreach_safe(node, tmp, &hub->insts)
        gw_hub_instance_stopped(hub, gw_container_of(node, gw_hub_inst_t, link)->inst);
    /* the request timer is inside the hub: free it once libuv let go of it */
    uv_close((uv_handle_t *)&hub->reqs.timer, hub_closed);
}

int gw_hub_add_consumer(gw_hub_t *hub, const gw_hub_consumer_t *c, void *data)
{
    if (!c || hub->nconsumers == MAX_CONSUMERS)
        return LGW_EINVAL;
    hub->consumers[hub->nconsumers++] = (consumer_t){c, data};
    return LGW_OK;
}

void gw_hub_remove_consumer(gw_hub_t *hub, const gw_hub_consumer_t *c, void *data)
{
    for (size_t i = 0; i < hub->nconsumers; i++) {
        if (hub->consumers[i].c == c && hub->consumers[i].data == data) {
            memmove(&hub->consumers[i], &hub->consumers[i + 1], (hub->nconsumers - i - 1) * sizeof(consumer_t));
            hub->nconsumers--;
            return;
        }
    }
}

void gw_hub_set_consumer(gw_hub_t *hub, const gw_hub_consumer_t *c, void *data)
{
    hub->nconsumers = 0;
    if (c)
        gw_hub_add_consumer(hub, c, data);
}

/* ---- the LocalDevList ------------------------------------------------------ */

static gw_hub_inst_t *hub_inst_by_name(gw_hub_t *hub, const char *name)
{
    gw_list_foreach_safe(node, tmp, &hub->insts) {
        gw_hub_inst_t *hi = gw_container_of(node, gw_hub_inst_t, link);
        if (strcmp(hi->inst->name, name) == 0)
            return hi;
    }
    return NULL;
}

lgw_instance_t *gw_hub_instance(gw_hub_t *hub, const char *name)
{
    gw_hub_inst_t *hi = name ? hub_inst_by_name(hub, name) : NULL;
    return hi ? hi->inst : NULL;
}

static void device_free(gw_hub_device_t *dev)
{
    free(dev->device_id);
    free(dev->model);
    free(dev->firmware);
    gw_hub_values_free(&dev->values);
    free(dev);
}

static gw_hub_device_t *lookup(gw_hub_inst_t *hi, const char *id)
{
    return hi ? gw_strmap_get(&hi->devices, id) : NULL;
}

/* The device, or NULL with a (rate-limited) warning when it was never added. */
static gw_hub_device_t *known(lgw_instance_t *inst, const char *id, const char *what)
{
    gw_hub_inst_t *hi = inst->hub;
    if (!hi)
        return NULL; /* not started or already stopped */
    gw_hub_device_t *dev = lookup(hi, id);
    if (!dev && hi->unknown_warned < UNKNOWN_WARN_LIMIT) {
        hi->unknown_warned++;
        GW_WARN(inst->log_comp, "%s for device '%s' that was never added (lgw_device_add); dropped%s", what, id,
                hi->unknown_warned == UNKNOWN_WARN_LIMIT ? " (further such warnings suppressed)" : "");
    }
    return dev;
}

const gw_hub_device_t *gw_hub_find(gw_hub_t *hub, const char *instance, const char *device_id)
{
    gw_hub_inst_t *hi = instance ? hub_inst_by_name(hub, instance) : NULL;
    return device_id ? lookup(hi, device_id) : NULL;
}

typedef struct {
    bool (*fn)(const gw_hub_device_t *, void *);
    void *data;
    bool go_on;
} foreach_ctx_t;

static bool foreach_dev(const char *key, void *value, void *data)
{
    (void)key;
    foreach_ctx_t *ctx = data;
    ctx->go_on = ctx->fn(value, ctx->data);
    return ctx->go_on;
}

void gw_hub_foreach(gw_hub_t *hub, bool (*fn)(const gw_hub_device_t *, void *), void *data)
{
    foreach_ctx_t ctx = {fn, data, true};
    gw_list_foreach_safe(node, tmp, &hub->insts) {
        gw_strmap_foreach(&gw_container_of(node, gw_hub_inst_t, link)->devices, foreach_dev, &ctx);
        if (!ctx.go_on)
            return;
    }
}

const lgw_value_t *gw_hub_value(const gw_hub_device_t *dev, const char *name)
{
    return dev ? gw_hub_values_get(&dev->values, name) : NULL;
}

size_t gw_hub_value_count(const gw_hub_device_t *dev) { return dev ? gw_hub_values_count(&dev->values) : 0; }

const lgw_value_t *gw_hub_value_at(const gw_hub_device_t *dev, size_t i, const char **name)
{
    return dev ? gw_hub_values_at(&dev->values, i, name) : NULL;
}

size_t gw_hub_device_count(gw_hub_t *hub)
{
    size_t n = 0;
    gw_list_foreach_safe(node, tmp, &hub->insts)
        n += gw_container_of(node, gw_hub_inst_t, link)->devices.count;
    return n;
}

void gw_hub_instance_started(gw_hub_t *hub, lgw_instance_t *inst)
{
    gw_hub_inst_t *hi = calloc(1, sizeof *hi);
    if (!hi) {
        GW_ERROR(inst->log_comp, "out of memory registering with the hub");
        return;
    }
    hi->inst = inst;
    gw_strmap_init(&hi->devices);
    gw_list_push_back(&hub->insts, &hi->link);
    inst->hub = hi;
    NOTIFY(hub, instance_started, inst->name);
}

static bool offline_dev(const char *key, void *value, void *data)
{
    (void)key;
    gw_hub_device_t *dev = value;
    if (dev->online) {
        dev->online = false;
        NOTIFY((gw_hub_t *)data, device_online, dev, false);
    }
    return true;
}

static bool free_dev(const char *key, void *value, void *data)
{
    (void)key;
    (void)data;
    device_free(value);
    return true;
}

void gw_hub_instance_stopped(gw_hub_t *hub, lgw_instance_t *inst)
{
    gw_hub_inst_t *hi = inst->hub;
    if (!hi)
        return;
    gw_strmap_foreach(&hi->devices, offline_dev, hub);
    gw_strmap_foreach(&hi->devices, free_dev, NULL);
    gw_strmap_free(&hi->devices);
    gw_list_remove(&hi->link);
    inst->hub = NULL;
    free(hi);
    NOTIFY(hub, instance_stopped, inst->name);
}

void gw_hub_device_added(gw_hub_t *hub, lgw_instance_t *inst, const char *id, const char *model)
{
    gw_hub_inst_t *hi = inst->hub;
    if (!hi)
        return;
    gw_hub_device_t *dev = lookup(hi, id);
    if (dev) {
        if (strcmp(dev->model, model) == 0)
            return; /* reported again: harmless */
        char *m = strdup(model);
        if (!m)
            return;
        free(dev->model);
        dev->model = m;
        NOTIFY(hub, device_added, dev);
        return;
    }
    dev = calloc(1, sizeof *dev);
    if (dev)
        gw_hub_values_init(&dev->values, &hub->names);
    if (!dev || !(dev->device_id = strdup(id)) || !(dev->model = strdup(model)) ||
        gw_strmap_put(&hi->devices, dev->device_id, dev) != 0) {
        if (dev)
            device_free(dev);
        GW_ERROR(inst->log_comp, "out of memory adding device '%s'", id);
        return;
    }
    dev->inst = inst;
    dev->instance = inst->name;
    NOTIFY(hub, device_added, dev);
}

void gw_hub_device_online(gw_hub_t *hub, lgw_instance_t *inst, const char *id, bool online)
{
    gw_hub_device_t *dev = known(inst, id, online ? "online" : "offline");
    if (!dev)
        return;
    dev->last_seen_ms = lgw_time_ms();
    if (dev->online == online)
        return;
    dev->online = online;
    NOTIFY(hub, device_online, dev, online);
}

void gw_hub_device_gone(gw_hub_t *hub, lgw_instance_t *inst, const char *id)
{
    gw_hub_device_t *dev = known(inst, id, "gone");
    if (!dev)
        return;
    NOTIFY(hub, device_gone, dev);
    gw_strmap_remove(&inst->hub->devices, id);
    device_free(dev);
}

void gw_hub_device_firmware(gw_hub_t *hub, lgw_instance_t *inst, const char *id, const char *version)
{
    gw_hub_device_t *dev = known(inst, id, "firmware");
    if (!dev)
        return;
    char *v = strdup(version);
    if (!v)
        return;
    free(dev->firmware);
    dev->firmware = v;
    NOTIFY(hub, device_firmware, dev, version);
}

void gw_hub_report(gw_hub_t *hub, lgw_instance_t *inst, const lgw_report_t *r)
{
    const char *event = gw_report_event(r);
    gw_hub_device_t *dev = known(inst, gw_report_device(r), event ? "event" : "property report");
    if (!dev)
        return;
    dev->last_seen_ms = gw_report_time(r);
    if (event) {
        NOTIFY(hub, event, dev, r);
        return;
    }
    size_t n = gw_report_count(r);
    if (gw_hub_values_count(&dev->values) == 0)
        gw_hub_values_reserve(&dev->values, n); /* the first report usually names every point: fit it exactly */
    for (size_t i = 0; i < n; i++) {
        const char *name;
        const lgw_value_t *v = gw_report_at(r, i, &name);
        int rc = gw_hub_values_put(&dev->values, name, v);
        if (rc != LGW_OK && inst->hub->values_warned < UNKNOWN_WARN_LIMIT) {
            inst->hub->values_warned++;
            GW_WARN(inst->log_comp, "device '%s': last value of '%s' not kept (%s)%s", dev->device_id, name,
                    rc == LGW_ERANGE ? "too many points" : "out of memory",
                    inst->hub->values_warned == UNKNOWN_WARN_LIMIT ? " (further such warnings suppressed)" : "");
        }
    }
    NOTIFY(hub, properties, dev, r);
}

/* ---- downlink --------------------------------------------------------------- */

/* Reply code for a plugin callback's immediate failure. */
static int code_of(int rc)
{
    switch (rc) {
    case LGW_EINVAL:
    case LGW_ETYPE:
    case LGW_ERANGE:
    case LGW_ENOENT: return LGW_REPLY_PARAM_ERROR;
    case LGW_EBUSY: return LGW_REPLY_TOO_MANY;
    default: return LGW_REPLY_REQUEST_ERROR;
    }
}

/*
 * Common start of a downlink request: finds instance and device, creates the
 * request. Returns NULL when the request was already failed (it will be
 * answered on the next loop turn) or could not be created.
 */
static lgw_request_t *begin(gw_hub_t *hub, const char *instance, const char *device_id, const char *what,
                            gw_hub_done_fn done, void *data, gw_hub_device_t **devp)
{
    gw_hub_inst_t *hi = instance ? hub_inst_by_name(hub, instance) : NULL;
    lgw_request_t *req = gw_request_new(&hub->reqs, hi ? hi->inst : NULL, device_id, what, done, data);
    if (!req) {
        GW_ERROR("hub", "out of memory for a %s request", what);
        return NULL;
    }
    char msg[200];
    if (!hi) {
        snprintf(msg, sizeof msg, "no running instance '%s'", instance ? instance : "(null)");
        gw_request_finish(req, LGW_REPLY_REQUEST_ERROR, msg);
        return NULL;
    }
    gw_hub_device_t *dev = device_id ? lookup(hi, device_id) : NULL;
    if (!dev) {
        snprintf(msg, sizeof msg, "unknown device '%s' on instance '%s'", device_id ? device_id : "(null)",
                 instance);
        gw_request_finish(req, LGW_REPLY_REQUEST_ERROR, msg);
        return NULL;
    }
    if (devp)
        *devp = dev;
    return req;
}

/* Handles a plugin callback's return value (or its absence: @p has_cb false). */
static void dispatched(lgw_request_t *req, bool has_cb, int rc, const char *what, const char *instance)
{
    char msg[200];
    if (!has_cb) {
        snprintf(msg, sizeof msg, "%s is not supported by the plugin of instance '%s'", what, instance);
        gw_request_finish(req, LGW_REPLY_REQUEST_ERROR, msg);
    } else if (rc < 0) {
        snprintf(msg, sizeof msg, "%s refused by the plugin: %s", what, lgw_strerror(rc));
        gw_request_finish(req, code_of(rc), msg);
    }
}

void gw_hub_write(gw_hub_t *hub, const char *instance, const char *device_id, const lgw_value_t *values,
                  gw_hub_done_fn done, void *data)
{
    lgw_request_t *req = begin(hub, instance, device_id, "write", done, data, NULL);
    if (!req)
        return;
    if (lgw_value_type(values) != LGW_TYPE_STRUCT) {
        gw_request_finish(req, LGW_REPLY_PARAM_ERROR, "write values must be a struct");
        return;
    }
    lgw_instance_t *inst = gw_hub_instance(hub, instance);
    int rc = inst->drv.write ? inst->drv.write(inst->data, req, device_id, values) : 0;
    dispatched(req, inst->drv.write != NULL, rc, "write", instance);
}

void gw_hub_read(gw_hub_t *hub, const char *instance, const char *device_id, const lgw_value_t *names,
                 gw_hub_done_fn done, void *data)
{
    gw_hub_device_t *dev = NULL;
    lgw_request_t *req = begin(hub, instance, device_id, "read", done, data, &dev);
    if (!req)
        return;
    if (lgw_value_type(names) != LGW_TYPE_ARRAY) {
        gw_request_finish(req, LGW_REPLY_PARAM_ERROR, "read names must be an array of text");
        return;
    }
    lgw_instance_t *inst = dev->inst;
    if (inst->drv.read) {
        int rc = inst->drv.read(inst->data, req, device_id, names);
        dispatched(req, true, rc, "read", instance);
        return;
    }
    /* No read callback: answer from the last reported values. */
    for (size_t i = 0; i < lgw_value_count(names); i++) {
        const char *n;
        if (lgw_value_get_text(lgw_value_array_at(names, i), &n, NULL) != LGW_OK)
            continue;
        const lgw_value_t *v = gw_hub_values_get(&dev->values, n);
        if (v)
            lgw_request_add_output(req, n, lgw_value_copy(v));
    }
    gw_request_finish(req, LGW_REPLY_SUCCESS, NULL);
}

void gw_hub_invoke(gw_hub_t *hub, const char *instance, const char *device_id, const char *service,
                   const lgw_value_t *input, gw_hub_done_fn done, void *data)
{
    char what[96];
    snprintf(what, sizeof what, "service %s", service ? service : "(null)");
    gw_hub_device_t *dev = NULL;
    lgw_request_t *req = begin(hub, instance, device_id, what, done, data, &dev);
    if (!req)
        return;
    if (!service || !*service || (input && lgw_value_type(input) != LGW_TYPE_STRUCT)) {
        gw_request_finish(req, LGW_REPLY_PARAM_ERROR, "service name missing or input not a struct");
        return;
    }
    lgw_value_t *empty = input ? NULL : lgw_value_new_struct();
    lgw_instance_t *inst = dev->inst;
    int rc = inst->drv.invoke ? inst->drv.invoke(inst->data, req, device_id, service, input ? input : empty) : 0;
    lgw_value_free(empty);
    dispatched(req, inst->drv.invoke != NULL, rc, what, instance);
}

void gw_hub_remove(gw_hub_t *hub, const char *instance, const char *device_id, gw_hub_done_fn done, void *data)
{
    gw_hub_device_t *dev = NULL;
    lgw_request_t *req = begin(hub, instance, device_id, "remove", done, data, &dev);
    if (!req)
        return;
    lgw_instance_t *inst = dev->inst;
    char *id = strdup(device_id); /* device_id may be dev->device_id, freed below */
    if (!id) {
        gw_request_finish(req, LGW_REPLY_REQUEST_ERROR, "out of memory");
        return;
    }
    gw_strmap_remove(&inst->hub->devices, dev->device_id); /* forgotten before the plugin is asked */
    device_free(dev);
    int rc = inst->drv.remove ? inst->drv.remove(inst->data, req, id) : 0;
    free(id);
    dispatched(req, inst->drv.remove != NULL, rc, "remove", instance);
}

void gw_hub_ota(gw_hub_t *hub, const char *instance, const char *device_id, const char *version,
                const char *image_path, const char *module, uint64_t timeout_ms, gw_hub_progress_fn progress,
                gw_hub_done_fn done, void *data)
{
    gw_hub_device_t *dev = NULL;
    lgw_request_t *req = begin(hub, instance, device_id, "firmware upgrade", done, data, &dev);
    if (!req)
        return;
    if (timeout_ms)
        gw_request_set_timeout(req, timeout_ms);
    gw_request_set_progress(req, progress);
    if (!version || !*version || !image_path || !*image_path) {
        gw_request_finish(req, LGW_REPLY_PARAM_ERROR, "firmware version or image missing");
        return;
    }
    lgw_instance_t *inst = dev->inst;
    char msg[200];
    if (!inst->drv.ota) {
        snprintf(msg, sizeof msg, "firmware upgrade (OTA) is not supported by the plugin of instance '%s'", instance);
        gw_request_finish(req, LGW_REPLY_REQUEST_ERROR, msg);
        return;
    }
    int rc = inst->drv.ota(inst->data, req, device_id, version, image_path, module);
    dispatched(req, true, rc, "firmware upgrade", instance);
}

int gw_hub_message(gw_hub_t *hub, const char *instance, const char *device_id, const char *suffix,
                   const void *payload, size_t len, uint64_t timeout_ms, gw_hub_bytes_done_fn done, void *data)
{
    gw_hub_inst_t *hi = instance ? hub_inst_by_name(hub, instance) : NULL;
    gw_hub_device_t *dev = hi && device_id ? lookup(hi, device_id) : NULL;
    lgw_instance_t *inst = hi ? hi->inst : NULL;
    char msg[200];
    if (!done) { /* no answer expected: call now */
        if (!suffix || (!payload && len))
            return LGW_EINVAL;
        if (!hi || (device_id && !dev))
            return LGW_ENOENT;
        if (!inst->drv.message)
            return LGW_ENOTSUP;
        return inst->drv.message(inst->data, NULL, device_id, suffix, payload, len);
    }
    char what[96];
    snprintf(what, sizeof what, "message %s", suffix ? suffix : "(null)");
    lgw_request_t *req = gw_request_new(&hub->reqs, inst, device_id ? device_id : "(gateway)", what, NULL, data);
    if (!req) {
        GW_ERROR("hub", "out of memory for a %s request", what);
        return LGW_ENOMEM;
    }
    gw_request_set_bytes_done(req, done);
    if (timeout_ms)
        gw_request_set_timeout(req, timeout_ms);
    if (!hi || (device_id && !dev)) {
        snprintf(msg, sizeof msg, "unknown %s '%s' of instance '%s'", hi ? "device" : "instance",
                 hi ? device_id : (instance ? instance : "(null)"), instance ? instance : "(null)");
        gw_request_finish(req, LGW_REPLY_REQUEST_ERROR, msg);
        return LGW_OK;
    }
    if (!suffix || (!payload && len)) {
        gw_request_finish(req, LGW_REPLY_PARAM_ERROR, "message without topic or payload");
        return LGW_OK;
    }
    int rc = inst->drv.message ? inst->drv.message(inst->data, req, device_id, suffix, payload, len) : 0;
    dispatched(req, inst->drv.message != NULL, rc, what, instance);
    return LGW_OK;
}

int gw_hub_discovery(gw_hub_t *hub, const char *instance, bool enable)
{
    lgw_instance_t *inst = gw_hub_instance(hub, instance);
    if (!inst)
        return LGW_ENOENT;
    if (!inst->drv.discovery)
        return LGW_ENOTSUP;
    return inst->drv.discovery(inst->data, enable);
}
