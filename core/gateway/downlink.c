/*
 * Downlink: the platform's requests to sub-devices, through the TSL mapping
 * to the device hub and back.
 *
 *   property set   /sys/{pk}/{dn}/thing/service/property/set
 *                  → gw_tsl_map_property_set (TSL check: 460 / 63xx / 6320
 *                  never reach a plugin) → gw_hub_write → reply with the
 *                  plugin's code (200 on success)
 *   property get   …/thing/service/property/get → gw_hub_read (the plugin's
 *                  read, or the hub's last values) → {id: value}
 *   async service  …/thing/service/{id} → gw_hub_invoke → {id}_reply with
 *                  the service's outputData
 *   sync service   /ext/rrpc/{mid}/sys/{pk}/{dn}/thing/service/{id} (answered
 *                  on the same topic) and /sys/{pk}/{dn}/rrpc/request/{mid}
 *                  (method thing.service.{id}; answered on rrpc/response/{mid}),
 *                  answered within rrpc_timeout_ms (400 "timed out" if the
 *                  plugin is slower; its late answer is dropped)
 * Unknown sub-devices, unmapped identifiers and bad values are refused with
 * the platform's codes before any plugin call.
 */
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

static void reply(gw_cloud_t *c, const char *topic, const char *id, int code, json_t *data, const char *msg)
{
    if (gw_cloud_reply_to(c, topic, id, code, data, msg) != LGW_OK)
        GW_WARN(DATA_LOG, "cannot answer %s (id %s, code %d): link down", topic, id, code);
}

static void record(gw_data_t *d, uint64_t t0_ns)
{
    uint64_t us = (uv_hrtime() - t0_ns) / 1000;
    d->lat_us[d->lat_n++ % (sizeof d->lat_us / sizeof *d->lat_us)] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void data_downlink_latency(gw_data_t *d, uint32_t *p50, uint32_t *p99)
{
    size_t n = d->lat_n < 1024 ? d->lat_n : 1024;
    uint32_t tmp[1024];
    *p50 = *p99 = 0;
    if (!n)
        return;
    memcpy(tmp, d->lat_us, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_u32);
    *p50 = tmp[n / 2];
    *p99 = tmp[n * 99 / 100 < n ? n * 99 / 100 : n - 1];
}

static void call_free(data_call_t *k)
{
    free(k->reply_topic);
    free(k->instance);
    free(k->model);
    free(k->tsl_service);
    free(k);
}

/* Builds {id: value} of a property get from the plugin's point values. */
static json_t *get_data(const gw_tsl_model_map_t *mm, const lgw_value_t *output)
{
    json_t *data = json_object();
    size_t n = lgw_value_count(output);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        const lgw_value_t *v = lgw_value_struct_at(output, i, &name);
        const gw_tsl_point_map_t *pm = name ? gw_tsl_map_point(mm, name) : NULL;
        json_t *j = NULL;
        gw_tsl_err_t err;
        if (pm && gw_tsl_point_to_json(pm, v, &j, &err) == 0)
            json_object_set_new(data, pm->prop->identifier, j);
    }
    return data;
}

static void on_done(void *data, int code, const char *message, const lgw_value_t *output)
{
    data_call_t *k = data;
    gw_data_t *d = k->d;
    if (!d || k->answered) {
        call_free(k);
        return;
    }
    gw_list_remove(&k->link);
    const gw_tsl_model_map_t *mm = d->deps.map(d->deps.map_data, k->instance, k->model);
    json_t *out = NULL;
    if (code == 200 && !mm) {
        code = 400;
        message = "mapping removed while the request ran";
    } else if (code == 200 && k->kind == GW_CLOUD_MSG_PROPERTY_GET) {
        out = get_data(mm, output);
    } else if (code == 200 && k->tsl_service) {
        const gw_tsl_service_map_t *sm = gw_tsl_map_service_tsl(mm, k->tsl_service);
        gw_tsl_err_t err;
        if (!sm || gw_tsl_map_service_output(sm, output, &out, &err) != 0) {
            GW_WARN(DATA_LOG, "%s/%s: output of service %s does not fit the TSL: %s", k->instance, k->model,
                    k->tsl_service, sm ? err.msg : "service no longer mapped");
            code = 400;
            message = "device returned an invalid output";
            out = NULL;
        }
    }
    reply(d->deps.cloud, k->reply_topic, k->id, code, out, code == 200 ? NULL : message);
    record(d, k->t0_ns);
    json_decref(out);
    call_free(k);
}

static void refuse(gw_data_t *d, const gw_cloud_msg_t *m, int code, const char *msg, uint64_t t0_ns)
{
    d->st.downlink_refused++;
    GW_INFO(DATA_LOG, "refused %s: code %d, %s", m->topic, code, msg);
    reply(d->deps.cloud, m->reply_topic, m->id, code, NULL, msg);
    record(d, t0_ns);
}

static void on_request(gw_cloud_t *c, const gw_cloud_msg_t *m, void *data)
{
    gw_data_t *d = ((data_ref_t *)data)->d;
    uint64_t t0 = uv_hrtime();
    switch (m->kind) {
    case GW_CLOUD_MSG_PROPERTY_SET:
    case GW_CLOUD_MSG_PROPERTY_GET:
    case GW_CLOUD_MSG_SERVICE:
    case GW_CLOUD_MSG_RRPC_EXT:
    case GW_CLOUD_MSG_RRPC_SYS:
        break;
    default:
        return; /* e.g. our own answers coming back */
    }
    if (!m->reply_topic || !m->id || !m->product_key || !m->device_name)
        return;
    if (!d) {
        reply(c, m->reply_topic, m->id, 400, NULL, "gateway shutting down");
        return;
    }
    d->st.downlink++;
    const char *instance, *device_id;
    if (!gw_subdev_lookup(d->deps.subdev, m->product_key, m->device_name, &instance, &device_id)) {
        refuse(d, m, 6100, "device not found", t0);
        return;
    }
    const gw_hub_device_t *hd = gw_hub_find(d->deps.hub, instance, device_id);
    const gw_tsl_model_map_t *mm = hd ? d->deps.map(d->deps.map_data, hd->instance, hd->model) : NULL;
    if (!hd || !mm) {
        refuse(d, m, hd ? 6321 : 400, hd ? "no TSL mapping for the device" : "device not present on its network", t0);
        return;
    }
    gw_tsl_err_t err = {0};
    lgw_value_t *arg = NULL;
    const gw_tsl_service_map_t *sm = NULL;
    const char *service = m->service;
    int rc;
    if (m->kind == GW_CLOUD_MSG_RRPC_SYS) {
        if (!m->method || strncmp(m->method, "thing.service.", 14) || !m->method[14]) {
            refuse(d, m, 460, "RRPC request without a thing.service.{id} method", t0);
            return;
        }
        service = m->method + 14;
    }
    if (m->kind == GW_CLOUD_MSG_PROPERTY_SET) {
        rc = gw_tsl_map_property_set(mm, m->params, 0, &arg, &err);
    } else if (m->kind == GW_CLOUD_MSG_PROPERTY_GET) {
        rc = gw_tsl_map_property_get(mm, m->params, &arg, &err);
    } else {
        sm = service ? gw_tsl_map_service_tsl(mm, service) : NULL;
        if (!sm) {
            refuse(d, m, GW_TSL_E_SERVICE_UNKNOWN, "service not defined for this device", t0);
            return;
        }
        json_t *empty = m->params ? NULL : json_object();
        rc = gw_tsl_map_service_input(sm, m->params ? m->params : empty, 0, &arg, &err);
        json_decref(empty);
    }
    if (rc != 0) {
        lgw_value_free(arg);
        refuse(d, m, rc > 0 ? rc : 400, rc > 0 ? err.msg : "out of memory", t0);
        return;
    }
    data_call_t *k = calloc(1, sizeof *k);
    if (!k || !(k->reply_topic = strdup(m->reply_topic)) || !(k->instance = strdup(instance)) ||
        !(k->model = strdup(hd->model)) || (sm && !(k->tsl_service = strdup(sm->svc->identifier)))) {
        if (k)
            call_free(k);
        lgw_value_free(arg);
        refuse(d, m, 400, "out of memory", t0);
        return;
    }
    k->d = d;
    k->kind = m->kind;
    snprintf(k->id, sizeof k->id, "%s", m->id);
    k->t0_ns = t0;
    k->sync = m->kind == GW_CLOUD_MSG_RRPC_EXT || m->kind == GW_CLOUD_MSG_RRPC_SYS;
    k->deadline = uv_now(d->deps.loop) + d->opt.rrpc_timeout_ms;
    gw_list_init(&k->link);
    gw_list_push_back(&d->calls, &k->link);
    if (m->kind == GW_CLOUD_MSG_PROPERTY_SET)
        gw_hub_write(d->deps.hub, instance, device_id, arg, on_done, k);
    else if (m->kind == GW_CLOUD_MSG_PROPERTY_GET)
        gw_hub_read(d->deps.hub, instance, device_id, arg, on_done, k);
    else
        gw_hub_invoke(d->deps.hub, instance, device_id, sm->service, arg, on_done, k);
    lgw_value_free(arg);
}

int data_downlink_register(gw_data_t *d)
{
    static const char *const filters[] = {
        "/sys/+/+/thing/service/property/set", "/sys/+/+/thing/service/property/get",
        "/sys/+/+/thing/service/+",            "/ext/rrpc/+/sys/+/+/thing/service/+",
        "/sys/+/+/rrpc/request/+",
    };
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
        if (gw_cloud_on(d->deps.cloud, filters[i], on_request, d->ref) != LGW_OK)
            return -1;
    return 0;
}

/* Sync services: the platform gives up after 8 s, so answer first. */
void data_downlink_expire(gw_data_t *d)
{
    uint64_t now = uv_now(d->deps.loop);
    gw_list_foreach_safe(n, tmp, &d->calls) {
        data_call_t *k = gw_container_of(n, data_call_t, link);
        if (!k->sync || now < k->deadline)
            continue;
        gw_list_remove(&k->link);
        k->answered = true; /* freed when the hub's answer comes */
        reply(d->deps.cloud, k->reply_topic, k->id, 400, NULL, "device did not answer in time");
    }
}

void data_downlink_detach(gw_data_t *d)
{
    gw_list_foreach_safe(n, tmp, &d->calls) {
        data_call_t *k = gw_container_of(n, data_call_t, link);
        gw_list_remove(&k->link);
        k->d = NULL;
    }
}
