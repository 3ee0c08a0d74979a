/*
 * The sub-device lifecycle manager: the device table (LocalDevList as seen
 * from the hub joined with LocalTopoList from the store), hub events, the
 * seed's local delete, the subdev.h API for the data layer, and the JSON
 * views for linkgwctl. What is said to the platform is in subdev_cloud.c.
 */
#include "subdev_internal.h"
#include "gateway_conf.h"
#include "instance.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t sd_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the table -------------------------------------------------------------------- */

static char *make_lkey(const char *instance, const char *device_id)
{
    char *k = NULL;
    if (asprintf(&k, "%s\n%s", instance, device_id) < 0)
        return NULL;
    return k;
}

static sd_dev_t *find_local(gw_subdev_t *m, const char *instance, const char *device_id)
{
    char *k = make_lkey(instance, device_id);
    sd_dev_t *d = k ? gw_strmap_get(&m->by_local, k) : NULL;
    free(k);
    return d;
}

sd_dev_t *sd_find_cloud(gw_subdev_t *m, const char *pk, const char *dn)
{
    char k[2 * GW_STORE_NAME_MAX + 2];
    if (!pk || !dn || snprintf(k, sizeof k, "%s/%s", pk, dn) >= (int)sizeof k)
        return NULL;
    return gw_strmap_get(&m->by_cloud, k);
}

static void dev_free(sd_dev_t *d)
{
    free(d->lkey);
    free(d->instance);
    free(d->device_id);
    free(d->model);
    free(d);
}

static sd_dev_t *dev_new(gw_subdev_t *m, const char *instance, const char *device_id, const char *model)
{
    sd_dev_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->lkey = make_lkey(instance, device_id);
    d->instance = strdup(instance);
    d->device_id = strdup(device_id);
    d->model = strdup(model ? model : "");
    if (!d->lkey || !d->instance || !d->device_id || !d->model || gw_strmap_put(&m->by_local, d->lkey, d) != 0) {
        dev_free(d);
        return NULL;
    }
    gw_list_push_back(&m->devs, &d->link);
    m->ndevs++;
    return d;
}

/* Gives @p d the cloud identity pk/dn (false when another device holds it). */
static bool dev_set_identity(gw_subdev_t *m, sd_dev_t *d, const char *pk, const char *dn)
{
    char k[sizeof d->ckey];
    snprintf(k, sizeof k, "%s/%s", pk, dn);
    sd_dev_t *other = gw_strmap_get(&m->by_cloud, k);
    if (other && other != d) {
        GW_ERROR("subdev", "%s/%s and %s/%s both map to the cloud device %s: the second gets no identity",
                 other->instance, other->device_id, d->instance, d->device_id, k);
        return false;
    }
    if (d->ckey[0])
        gw_strmap_remove(&m->by_cloud, d->ckey);
    snprintf(d->pk, sizeof d->pk, "%s", pk);
    snprintf(d->dn, sizeof d->dn, "%s", dn);
    memcpy(d->ckey, k, sizeof k);
    if (gw_strmap_put(&m->by_cloud, d->ckey, d) != 0) {
        d->ckey[0] = 0;
        return false;
    }
    return true;
}

void sd_maybe_drop(gw_subdev_t *m, sd_dev_t *d)
{
    if (d->present || d->proxied || d->inflight)
        return;
    if (d->logged_in)
        sd_set_logged_in(m, d, false);
    if (d->ckey[0])
        gw_strmap_remove(&m->by_cloud, d->ckey);
    gw_strmap_remove(&m->by_local, d->lkey);
    gw_list_remove(&d->link);
    m->ndevs--;
    dev_free(d);
}

void sd_set_logged_in(gw_subdev_t *m, sd_dev_t *d, bool on)
{
    if (d->logged_in == on)
        return;
    d->logged_in = on;
    char pk[GW_STORE_NAME_MAX], dn[GW_STORE_NAME_MAX];
    memcpy(pk, d->pk, sizeof pk); /* listeners may change the table */
    memcpy(dn, d->dn, sizeof dn);
    for (size_t i = 0; i < m->nlisteners; i++)
        if (m->listeners[i].fn)
            m->listeners[i].fn(m->listeners[i].data, pk, dn, on);
}

static void log_removed(void *data, int code, const char *message, const lgw_value_t *output)
{
    (void)output;
    char *what = data;
    if (code != 0 && code != 200)
        GW_WARN("subdev", "%s: the plugin could not remove it from the access network: %d %s", what, code,
                message ? message : "");
    else
        GW_INFO("subdev", "%s removed from the access network", what);
    free(what);
}

/* Asks the plugin to remove @p d from the access network (the hub forgets it at once). */
static void remove_from_network(gw_subdev_t *m, sd_dev_t *d)
{
    if (!d->present)
        return;
    char *what = NULL;
    if (asprintf(&what, "%s/%s", d->instance, d->device_id) < 0)
        what = NULL;
    d->present = false;
    d->online = false;
    gw_hub_remove(m->hub, d->instance, d->device_id, log_removed, what);
}

/* Tells the deletion listeners (after the session ended): nothing of @p d can be posted any more. */
static void notify_deleted(gw_subdev_t *m, const sd_dev_t *d)
{
    if (!d->pk[0] || !d->dn[0])
        return;
    char pk[GW_STORE_NAME_MAX], dn[GW_STORE_NAME_MAX];
    memcpy(pk, d->pk, sizeof pk); /* listeners may change the table */
    memcpy(dn, d->dn, sizeof dn);
    for (size_t i = 0; i < m->nlisteners; i++)
        if (m->listeners[i].deleted)
            m->listeners[i].deleted(m->listeners[i].data, pk, dn);
}

void sd_cloud_deleted(gw_subdev_t *m, sd_dev_t *d, const char *why)
{
    GW_INFO("subdev", "%s (%s/%s) was deleted in the cloud (%s): removing it", d->ckey, d->instance, d->device_id,
            why);
    if (d->proxied) {
        int rc = gw_store_topo_remove(m->store, d->pk, d->dn);
        if (rc < 0)
            GW_ERROR("subdev", "LocalTopoList: cannot remove %s: %s", d->ckey, gw_store_errmsg(m->store));
        d->proxied = false;
    }
    bool in_removed = false;
    if (gw_store_removed_has(m->store, d->pk, d->dn, &in_removed) == GW_STORE_OK && in_removed)
        gw_store_removed_delete(m->store, d->pk, d->dn);
    sd_set_logged_in(m, d, false);
    notify_deleted(m, d);
    remove_from_network(m, d);
    m->stats.cloud_deleted++;
    m->add_paused_until = 0; /* room in the topology again */
    sd_maybe_drop(m, d);
}

/* The seed's local delete: RemovedDevList first (if proxied), then off the access network. */
static void local_delete(gw_subdev_t *m, sd_dev_t *d, bool remove_network)
{
    if (d->proxied) {
        int rc = gw_store_topo_move_to_removed(m->store, d->pk, d->dn);
        if (rc < 0)
            GW_ERROR("subdev", "RemovedDevList: cannot record %s: %s", d->ckey, gw_store_errmsg(m->store));
        d->proxied = false;
        GW_INFO("subdev", "%s/%s (%s) deleted locally: %s", d->instance, d->device_id, d->ckey,
                m->connected ? "telling the platform now" : "the platform is told on the next connection");
    } else {
        GW_INFO("subdev", "%s/%s deleted locally (never proxied)", d->instance, d->device_id);
    }
    sd_set_logged_in(m, d, false); /* topo/delete ends the session */
    notify_deleted(m, d);
    if (remove_network)
        remove_from_network(m, d);
    d->present = false;
    d->online = false;
    m->stats.local_deleted++;
    m->add_paused_until = 0;
    sd_maybe_drop(m, d);
    sd_kick(m);
}

/* ---- hub consumer ---------------------------------------------------------------------- */

/* Fills the identity of a device that has none yet, from the configuration. */
static void resolve_identity(gw_subdev_t *m, sd_dev_t *d)
{
    if (d->ckey[0])
        return;
    const char *pk = gw_gwconf_product_key(d->instance, d->model);
    char dn[GW_STORE_NAME_MAX];
    if (!pk) {
        GW_DEBUG("subdev", "%s/%s: model '%s' has no product_key in the instance's `models`: not proxied",
                 d->instance, d->device_id, d->model);
        return;
    }
    if (!gw_gwconf_device_name(d->instance, d->device_id, dn, sizeof dn)) {
        GW_WARN("subdev", "%s/%s: no valid DeviceName (map it in `subdevice.device_names`): not proxied",
                d->instance, d->device_id);
        return;
    }
    if (!dev_set_identity(m, d, pk, dn))
        return;
    bool has = false;
    if (gw_store_cred_has(m->store, pk, dn, &has) != GW_STORE_OK)
        GW_ERROR("subdev", "credentials: %s", gw_store_errmsg(m->store));
    d->has_cred = has;
}

static void on_device_added(void *data, const gw_hub_device_t *dev)
{
    gw_subdev_t *m = data;
    sd_dev_t *d = find_local(m, dev->instance, dev->device_id);
    if (!d && !(d = dev_new(m, dev->instance, dev->device_id, dev->model))) {
        GW_ERROR("subdev", "out of memory");
        return;
    }
    if (dev->model && strcmp(d->model, dev->model) != 0 && !d->proxied) {
        char *nm = strdup(dev->model);
        if (nm) {
            free(d->model);
            d->model = nm;
            if (d->ckey[0]) {
                gw_strmap_remove(&m->by_cloud, d->ckey);
                d->ckey[0] = 0;
            }
        }
    }
    d->present = true;
    d->online = dev->online;
    d->last_seen_ms = dev->last_seen_ms;
    resolve_identity(m, d);
    sd_kick(m);
}

static void on_device_online(void *data, const gw_hub_device_t *dev, bool online)
{
    gw_subdev_t *m = data;
    sd_dev_t *d = find_local(m, dev->instance, dev->device_id);
    if (!d) {
        on_device_added(data, dev);
        return;
    }
    d->present = true;
    d->online = online;
    d->last_seen_ms = dev->last_seen_ms;
    sd_kick(m);
}

static void on_device_gone(void *data, const gw_hub_device_t *dev)
{
    gw_subdev_t *m = data;
    sd_dev_t *d = find_local(m, dev->instance, dev->device_id);
    if (d)
        local_delete(m, d, false);
}

static void on_instance_started(void *data, const char *instance)
{
    gw_subdev_t *m = data;
    for (size_t i = 0; i < m->ninstances; i++)
        if (strcmp(m->instances[i], instance) == 0)
            return;
    char **l = realloc(m->instances, (m->ninstances + 1) * sizeof *l);
    if (!l)
        return;
    m->instances = l;
    if ((l[m->ninstances] = strdup(instance)))
        m->ninstances++;
}

static void on_instance_stopped(void *data, const char *instance)
{
    gw_subdev_t *m = data;
    for (size_t i = 0; i < m->ninstances; i++) {
        if (strcmp(m->instances[i], instance) == 0) {
            free(m->instances[i]);
            m->instances[i] = m->instances[--m->ninstances];
            break;
        }
    }
    gw_list_foreach_safe(node, tmp, &m->devs) {
        sd_dev_t *d = gw_container_of(node, sd_dev_t, link);
        if (strcmp(d->instance, instance) != 0)
            continue;
        d->present = false;
        d->online = false;
        sd_maybe_drop(m, d);
    }
    sd_kick(m);
}

static const gw_hub_consumer_t CONSUMER = {
    .instance_started = on_instance_started,
    .instance_stopped = on_instance_stopped,
    .device_added = on_device_added,
    .device_online = on_device_online,
    .device_gone = on_device_gone,
};

static bool adopt_existing(const gw_hub_device_t *dev, void *data)
{
    on_device_added(data, dev);
    return true;
}

/* ---- life cycle --------------------------------------------------------------------------- */

static int load_topo(gw_subdev_t *m)
{
    gw_topo_entry_t *list = NULL;
    size_t n = 0;
    int rc = gw_store_topo_list(m->store, &list, &n);
    if (rc != GW_STORE_OK) {
        GW_ERROR("subdev", "cannot read LocalTopoList: %s", gw_store_errmsg(m->store));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        gw_topo_entry_t *e = &list[i];
        sd_dev_t *d = dev_new(m, e->plugin, e->device_id, e->model);
        if (!d || !dev_set_identity(m, d, e->pk, e->dn)) {
            GW_ERROR("subdev", "LocalTopoList row %s/%s not loaded", e->pk, e->dn);
            continue;
        }
        d->proxied = true;
        d->has_cred = true;
    }
    gw_store_topo_free(list, n);
    GW_INFO("subdev", "LocalTopoList: %zu sub-device(s)", n);
    return 0;
}

gw_subdev_t *gw_subdev_new(uv_loop_t *loop, gw_hub_t *hub, gw_cloud_t *cloud, gw_store_t *store, unsigned login_rate)
{
    gw_subdev_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->loop = loop;
    m->hub = hub;
    m->cloud = cloud;
    m->store = store;
    m->login_rate = login_rate && login_rate <= 200 ? login_rate : 200;
    gw_list_init(&m->devs);
    gw_strmap_init(&m->by_local);
    gw_strmap_init(&m->by_cloud);
    uv_timer_init(loop, &m->kick_timer);
    uv_timer_init(loop, &m->retry_timer);
    m->kick_timer.data = m->retry_timer.data = m;
    m->handles_open = 2;
    if (load_topo(m) != 0 || sd_cloud_attach(m) != 0 || gw_hub_add_consumer(hub, &CONSUMER, m) != LGW_OK) {
        m->cloud = NULL;
        gw_subdev_close(m, NULL, NULL);
        return NULL;
    }
    /* devices the hub already knows (instances started before us) */
    gw_hub_foreach(hub, adopt_existing, m);
    return m;
}

static void handle_closed(uv_handle_t *h)
{
    gw_subdev_t *m = h->data;
    if (--m->handles_open > 0)
        return;
    gw_list_foreach_safe(node, tmp, &m->devs)
        dev_free(gw_container_of(node, sd_dev_t, link));
    gw_strmap_free(&m->by_local);
    gw_strmap_free(&m->by_cloud);
    free(m->listeners);
    for (size_t i = 0; i < m->ninstances; i++)
        free(m->instances[i]);
    free(m->instances);
    void (*done)(void *) = m->close_done;
    void *dd = m->close_data;
    free(m);
    if (done)
        done(dd);
}

void gw_subdev_detach(gw_subdev_t *m)
{
    if (!m || m->closing)
        return;
    m->closing = true;
    m->cloud = NULL;
    gw_hub_remove_consumer(m->hub, &CONSUMER, m);
}

void gw_subdev_close(gw_subdev_t *m, void (*done)(void *data), void *data)
{
    if (!m) {
        if (done)
            done(data);
        return;
    }
    gw_subdev_detach(m);
    m->close_done = done;
    m->close_data = data;
    uv_close((uv_handle_t *)&m->kick_timer, handle_closed);
    uv_close((uv_handle_t *)&m->retry_timer, handle_closed);
}

/* ---- subdev.h ----------------------------------------------------------------------------- */

bool gw_subdev_identity(gw_subdev_t *m, const char *instance, const char *device_id, const char **pk, const char **dn)
{
    sd_dev_t *d = m && instance && device_id ? find_local(m, instance, device_id) : NULL;
    if (!d || !d->ckey[0] || !(d->has_cred || d->proxied))
        return false;
    if (pk)
        *pk = d->pk;
    if (dn)
        *dn = d->dn;
    return true;
}

bool gw_subdev_identity_pending(gw_subdev_t *m, const char *instance, const char *device_id, const char **pk,
                                const char **dn)
{
    sd_dev_t *d = m && instance && device_id ? find_local(m, instance, device_id) : NULL;
    if (!d || !d->ckey[0] || d->has_cred || d->proxied || d->no_secret || d->disabled)
        return false;
    if (pk)
        *pk = d->pk;
    if (dn)
        *dn = d->dn;
    return true;
}

bool gw_subdev_lookup(gw_subdev_t *m, const char *pk, const char *dn, const char **instance, const char **device_id)
{
    sd_dev_t *d = m ? sd_find_cloud(m, pk, dn) : NULL;
    if (!d)
        return false;
    if (instance)
        *instance = d->instance;
    if (device_id)
        *device_id = d->device_id;
    return true;
}

bool gw_subdev_logged_in(gw_subdev_t *m, const char *pk, const char *dn)
{
    sd_dev_t *d = m ? sd_find_cloud(m, pk, dn) : NULL;
    return d && d->logged_in;
}

void gw_subdev_session_lost(gw_subdev_t *m, const char *pk, const char *dn)
{
    sd_dev_t *d = m ? sd_find_cloud(m, pk, dn) : NULL;
    if (!d)
        return;
    GW_INFO("subdev", "%s has no session on the platform (520): logging it in again", d->ckey);
    m->stats.relogins_520++;
    sd_set_logged_in(m, d, false);
    sd_kick(m);
}

static int add_listener(gw_subdev_t *m, sd_listener_t one)
{
    sd_listener_t *l = realloc(m->listeners, (m->nlisteners + 1) * sizeof *l);
    if (!l)
        return -1;
    m->listeners = l;
    l[m->nlisteners++] = one;
    return 0;
}

int gw_subdev_add_listener(gw_subdev_t *m, gw_subdev_session_fn fn, void *data)
{
    return m && fn ? add_listener(m, (sd_listener_t){.fn = fn, .data = data}) : -1;
}

int gw_subdev_add_deleted_listener(gw_subdev_t *m, gw_subdev_deleted_fn fn, void *data)
{
    return m && fn ? add_listener(m, (sd_listener_t){.deleted = fn, .data = data}) : -1;
}

/* ---- control ---------------------------------------------------------------------------------- */

int gw_subdev_delete_local(gw_subdev_t *m, const char *spec, char *err, size_t cap)
{
    const char *slash = spec ? strchr(spec, '/') : NULL;
    if (!slash || slash == spec || !slash[1] || strlen(spec) > 300) {
        snprintf(err, cap, "expected INSTANCE/DEVICE_ID or PRODUCTKEY/DEVICENAME");
        return -1;
    }
    char left[301];
    snprintf(left, sizeof left, "%.*s", (int)(slash - spec), spec);
    sd_dev_t *d = find_local(m, left, slash + 1);
    if (!d)
        d = sd_find_cloud(m, left, slash + 1);
    if (!d) {
        snprintf(err, cap, "no sub-device '%s'", spec);
        return -1;
    }
    local_delete(m, d, true);
    return 0;
}

void gw_subdev_credentials_changed(gw_subdev_t *m)
{
    gw_list_foreach_safe(node, tmp, &m->devs) {
        sd_dev_t *d = gw_container_of(node, sd_dev_t, link);
        if (!d->ckey[0] || d->has_cred)
            continue;
        bool has = false;
        if (gw_store_cred_has(m->store, d->pk, d->dn, &has) == GW_STORE_OK && has) {
            d->has_cred = true;
            d->no_secret = 0;
            d->retry_at = 0;
        }
    }
    sd_kick(m);
}

json_t *gw_subdev_status_json(gw_subdev_t *m)
{
    size_t present = 0, online = 0, proxied = 0, logged = 0, removed = 0;
    gw_list_foreach_safe(node, tmp, &m->devs) {
        sd_dev_t *d = gw_container_of(node, sd_dev_t, link);
        present += d->present;
        online += d->present && d->online;
        proxied += d->proxied;
        logged += d->logged_in;
    }
    gw_removed_entry_t *rl = NULL;
    if (gw_store_removed_list(m->store, &rl, &removed) != GW_STORE_OK)
        removed = 0;
    free(rl);
    size_t creds = 0;
    gw_store_cred_count(m->store, &creds);
    json_t *j = json_pack("{s:s,s:b,s:{s:I,s:I,s:I,s:I,s:I},s:I}", "cloud",
                          m->cloud ? gw_cloud_state_name(gw_cloud_state(m->cloud)) : "closed", "synced", m->synced,
                          "lists", "LocalDevList", (json_int_t)present, "online", (json_int_t)online, "LocalTopoList",
                          (json_int_t)proxied, "RemovedDevList", (json_int_t)removed, "logged_in", (json_int_t)logged,
                          "credentials", (json_int_t)creds);
    json_t *s = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "connects", (json_int_t)m->stats.connects,
                          "throttled", (json_int_t)m->stats.throttled,
                          "removed_sent", (json_int_t)m->stats.removed_sent,
                          "syncs", (json_int_t)m->stats.syncs, "registered", (json_int_t)m->stats.registered,
                          "topo_added", (json_int_t)m->stats.topo_added, "logins", (json_int_t)m->stats.logins,
                          "login_batches", (json_int_t)m->stats.login_batches, "logouts",
                          (json_int_t)m->stats.logouts, "cloud_deleted", (json_int_t)m->stats.cloud_deleted,
                          "local_deleted", (json_int_t)m->stats.local_deleted, "relogins_520",
                          (json_int_t)m->stats.relogins_520);
    json_object_set_new(j, "counters", s);
    if (m->stats.last_cap_code)
        json_object_set_new(j, "last_platform_limit",
                            json_pack("{s:i,s:s,s:I}", "code", m->stats.last_cap_code, "message",
                                      m->stats.last_cap_msg, "at_ms", (json_int_t)m->stats.last_cap_ms));
    return j;
}

json_t *gw_subdev_devices_json(gw_subdev_t *m)
{
    json_t *arr = json_array();
    gw_list_foreach_safe(node, tmp, &m->devs) {
        sd_dev_t *d = gw_container_of(node, sd_dev_t, link);
        json_t *lists = json_array();
        if (d->present)
            json_array_append_new(lists, json_string("LocalDevList"));
        if (d->proxied)
            json_array_append_new(lists, json_string("LocalTopoList"));
        const gw_hub_device_t *hd = d->present ? gw_hub_find(m->hub, d->instance, d->device_id) : NULL;
        int64_t seen = hd ? hd->last_seen_ms : d->last_seen_ms;
        json_t *e = json_pack("{s:s,s:s,s:s,s:o,s:b,s:b,s:b,s:b,s:I}", "instance", d->instance, "device_id",
                              d->device_id, "model", d->model, "lists", lists, "online", d->present && d->online,
                              "logged_in", d->logged_in, "disabled", d->disabled, "has_secret", d->has_cred,
                              "last_seen_ms", (json_int_t)seen);
        if (d->ckey[0]) {
            json_object_set_new(e, "productKey", json_string(d->pk));
            json_object_set_new(e, "deviceName", json_string(d->dn));
        }
        if (d->last_code)
            json_object_set_new(e, "last_error", json_integer(d->last_code));
        if (d->no_secret)
            json_object_set_new(e, "register_refused", json_integer(d->no_secret));
        json_array_append_new(arr, e);
    }
    gw_removed_entry_t *rl = NULL;
    size_t n = 0;
    if (gw_store_removed_list(m->store, &rl, &n) == GW_STORE_OK) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:[s],s:b,s:I}", "instance", rl[i].plugin,
                                                 "device_id", rl[i].device_id, "productKey", rl[i].pk, "deviceName",
                                                 rl[i].dn, "lists", "RemovedDevList", "online", 0, "removed_ms",
                                                 (json_int_t)rl[i].removed_ms));
        free(rl);
    }
    return arr;
}

typedef struct count_ctx {
    const char *instance;
    size_t devices, online;
} count_ctx_t;

static bool count_dev(const gw_hub_device_t *dev, void *data)
{
    count_ctx_t *c = data;
    if (strcmp(dev->instance, c->instance) == 0) {
        c->devices++;
        c->online += dev->online;
    }
    return true;
}

json_t *gw_subdev_plugins_json(gw_subdev_t *m)
{
    static const char *const states[] = {"loaded", "created", "running", "stopping", "stopped", "dead"};
    json_t *arr = json_array();
    for (size_t i = 0; i < m->ninstances; i++) {
        lgw_instance_t *inst = gw_hub_instance(m->hub, m->instances[i]);
        count_ctx_t c = {m->instances[i], 0, 0};
        gw_hub_foreach(m->hub, count_dev, &c);
        int st = inst ? (int)gw_instance_state(inst) : -1;
        const char *path = inst && inst->plugin_path ? inst->plugin_path : "";
        const char *base = strrchr(path, '/');
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I,s:I}", "instance", m->instances[i], "plugin",
                                             base ? base + 1 : path, "state",
                                             st >= 0 && st < 6 ? states[st] : "unknown", "devices",
                                             (json_int_t)c.devices, "online", (json_int_t)c.online));
    }
    return arr;
}
