/*
 * The OTA manager (see ota.h): version reports, upgrade tasks from the cloud,
 * one job per (device, module) from download through verification to the
 * install, and the progress the platform sees.
 */
#include "ota.h"
#include "instance.h"
#include "list.h"
#include "log.h"
#include "ota_fetch.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OTA_VERSION_MAX 64
#define OTA_MODULE_MAX 64

typedef enum job_state { JOB_DOWNLOAD, JOB_INSTALL } job_state_t;

typedef struct job {
    gw_list_t link;          /* in ota->jobs while active */
    gw_ota_t *ota;           /* NULL once the manager is gone (a sub-device install still pending) */
    job_state_t state;
    char *pk, *dn, *module;  /* module NULL = default */
    char *version, *url, *sign, *path;
    int64_t size;
    bool gateway;
    char *instance, *device_id; /* sub-device jobs */
    bool superseded;         /* a newer task replaced it: end silently */
    int sent_step;           /* last positive progress sent */
    gw_ota_fetch_t fetch;
    uv_async_t wake;
    uv_process_t proc;
    int open_handles;
    bool finished;
} job_t;

struct gw_ota {
    uv_loop_t *loop;
    gw_ota_config_t cfg;
    gw_cloud_t *cloud;
    gw_hub_t *hub;
    gw_ota_devices_t devs;
    bool has_devs, started;
    gw_list_t jobs;
    uint64_t next_id;
    gw_ota_stats_t stats;
};

/* ------------------------------------------------------------- helpers */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static bool same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

/* Publishes {"id","params"} on @p prefix/pk/dn. */
static void publish(gw_ota_t *ota, const char *prefix, const char *pk, const char *dn, json_t *params)
{
    char topic[256], id[24];
    snprintf(topic, sizeof topic, "%s/%s/%s", prefix, pk, dn);
    snprintf(id, sizeof id, "%llu", (unsigned long long)++ota->next_id);
    json_t *msg = json_pack("{s:s,s:o}", "id", id, "params", params);
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    int rc = text ? gw_cloud_publish(ota->cloud, topic, text, strlen(text)) : LGW_ENOMEM;
    if (rc != LGW_OK)
        GW_DEBUG("ota", "%s not sent: %s", topic, lgw_strerror(rc));
    free(text);
}

static void send_progress(gw_ota_t *ota, const char *pk, const char *dn, const char *module, int step,
                          const char *desc)
{
    char s[8];
    snprintf(s, sizeof s, "%d", step);
    json_t *p = json_pack("{s:s,s:s}", "step", s, "desc", desc ? desc : "");
    if (p && module)
        json_object_set_new(p, "module", json_string(module));
    if (!p)
        return;
    publish(ota, "/ota/device/progress", pk, dn, p);
    ota->stats.last_step = step;
    snprintf(ota->stats.last_desc, sizeof ota->stats.last_desc, "%s", desc ? desc : "");
    snprintf(ota->stats.last_device, sizeof ota->stats.last_device, "%s/%s", pk, dn);
    if (step < 0)
        GW_WARN("ota", "%s/%s%s%s: upgrade failed (step %d): %s", pk, dn, module ? " module " : "",
                module ? module : "", step, desc ? desc : "");
    else
        GW_DEBUG("ota", "%s/%s: step %d %s", pk, dn, step, desc ? desc : "");
}

static void inform(gw_ota_t *ota, const char *pk, const char *dn, const char *version, const char *module)
{
    json_t *p = json_pack("{s:s}", "version", version);
    if (p && module)
        json_object_set_new(p, "module", json_string(module));
    if (!p)
        return;
    publish(ota, "/ota/device/inform", pk, dn, p);
    ota->stats.informs++;
    GW_INFO("ota", "%s/%s reports firmware %s", pk, dn, version);
}

/* The gateway's own version into @p out (cap OTA_VERSION_MAX + 1); false if unknown. */
static bool gateway_version(gw_ota_t *ota, char *out, size_t cap)
{
    if (ota->cfg.version) {
        snprintf(out, cap, "%s", ota->cfg.version);
        return true;
    }
    if (!ota->cfg.version_file) { /* nothing configured: the daemon's own version */
        snprintf(out, cap, "%s", LINKGW_VERSION);
        return true;
    }
    FILE *f = fopen(ota->cfg.version_file, "re");
    if (!f) {
        GW_WARN("ota", "cannot read ota.version_file %s: %s", ota->cfg.version_file, strerror(errno));
        return false;
    }
    bool ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    if (ok) {
        out[strcspn(out, "\r\n")] = '\0';
        size_t n = strlen(out);
        while (n > 0 && isspace((unsigned char)out[n - 1]))
            out[--n] = '\0';
        ok = n > 0;
    }
    if (!ok)
        GW_WARN("ota", "ota.version_file %s has no version on its first line", ota->cfg.version_file);
    return ok;
}

/* True for strings made only of [A-Za-z0-9._-] (module names become file name parts). */
static bool safe_name(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
            return false;
    return true;
}

/* -------------------------------------------------------------- jobs */

static void job_free(job_t *j)
{
    free(j->pk);
    free(j->dn);
    free(j->module);
    free(j->version);
    free(j->url);
    free(j->sign);
    free(j->path);
    free(j->instance);
    free(j->device_id);
    free(j);
}

static void job_handle_closed(uv_handle_t *h)
{
    job_t *j = h->data;
    if (--j->open_handles == 0 && j->finished)
        job_free(j);
}

/* Ends a job: out of the list, handles closed, freed when they are. */
static void job_end(job_t *j)
{
    gw_list_remove(&j->link);
    j->finished = true;
    if (j->open_handles == 0)
        job_free(j);
}

static void close_handle(job_t *j, uv_handle_t *h)
{
    if (!uv_is_closing(h)) {
        h->data = j;
        uv_close(h, job_handle_closed);
    }
}

static void job_fail(job_t *j, int step, const char *desc)
{
    gw_ota_t *ota = j->ota;
    if (ota && !j->superseded) {
        send_progress(ota, j->pk, j->dn, j->module, step, desc);
        ota->stats.failed++;
    }
}

static void job_succeeded(job_t *j, const char *desc)
{
    gw_ota_t *ota = j->ota;
    if (ota) {
        send_progress(ota, j->pk, j->dn, j->module, 100, desc);
        ota->stats.succeeded++;
    }
}

/* ---- install: sub-device through its plugin */

static void on_sub_progress(void *data, int percent, const char *message)
{
    job_t *j = data;
    int step = 90 + (percent * 10 + 99) / 100; /* 1..100 → 91..100 */
    if (step > 99)
        step = 99; /* 100 is sent when the plugin reports success */
    if (j->ota && step > j->sent_step) {
        j->sent_step = step;
        send_progress(j->ota, j->pk, j->dn, j->module, step, message ? message : "installing");
    }
}

static void on_sub_done(void *data, int code, const char *message, const lgw_value_t *output)
{
    (void)output;
    job_t *j = data;
    unlink(j->path);
    if (code == LGW_REPLY_SUCCESS) {
        GW_INFO("ota", "%s/%s: firmware %s installed by the plugin of instance '%s'", j->pk, j->dn, j->version,
                j->instance);
        job_succeeded(j, "installed");
    } else {
        char desc[200];
        snprintf(desc, sizeof desc, "install failed: %s", message ? message : "error");
        job_fail(j, -4, desc);
    }
    job_end(j); /* also when the manager is gone: nothing else refers to it then */
}

/* ---- install: the gateway through the operator's command */

static void on_proc_exit(uv_process_t *p, int64_t status, int sig)
{
    job_t *j = p->data;
    unlink(j->path);
    if (status == 0 && sig == 0) {
        GW_INFO("ota", "gateway firmware %s installed; the new version is reported after the restart", j->version);
        job_succeeded(j, "installed; the new version is reported after restart");
    } else {
        char desc[120];
        if (sig)
            snprintf(desc, sizeof desc, "install command killed by signal %d", sig);
        else
            snprintf(desc, sizeof desc, "install command exited with status %lld", (long long)status);
        job_fail(j, -4, desc);
    }
    close_handle(j, (uv_handle_t *)&j->proc);
    job_end(j);
}

static void install(job_t *j)
{
    gw_ota_t *ota = j->ota;
    j->state = JOB_INSTALL;
    j->sent_step = 91;
    send_progress(ota, j->pk, j->dn, j->module, 91, "installing");
    if (!j->gateway) {
        gw_hub_ota(ota->hub, j->instance, j->device_id, j->version, j->path, j->module,
                   (uint64_t)ota->cfg.install_timeout_s * 1000, on_sub_progress, on_sub_done, j);
        return;
    }
    char *args[] = {"/bin/sh", "-c", ota->cfg.install_command, "linkgw-ota", j->path, j->version,
                    j->module ? j->module : "", NULL};
    uv_process_options_t o = {0};
    o.file = args[0];
    o.args = args;
    o.exit_cb = on_proc_exit;
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = 1},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    o.stdio = stdio;
    o.stdio_count = 3;
    j->proc.data = j;
    int rc = uv_spawn(ota->loop, &j->proc, &o);
    if (rc != 0) {
        char desc[160];
        snprintf(desc, sizeof desc, "cannot run the install command: %s", uv_strerror(rc));
        unlink(j->path);
        job_fail(j, -4, desc);
        j->open_handles++;
        close_handle(j, (uv_handle_t *)&j->proc); /* libuv requires closing a failed spawn */
        job_end(j);
        return;
    }
    j->open_handles++;
    GW_INFO("ota", "gateway firmware %s: running the install command (pid %d)", j->version, j->proc.pid);
}

/* ---- download */

static void on_wake(uv_async_t *a)
{
    job_t *j = a->data;
    gw_ota_t *ota = j->ota;
    if (!atomic_load(&j->fetch.finished)) {
        long long got = atomic_load(&j->fetch.got);
        int step = 1 + (int)(got * 89 / (j->size > 0 ? j->size : 1));
        if (!j->superseded && (step >= j->sent_step + 10 || (step == 90 && j->sent_step < 90))) {
            j->sent_step = step;
            send_progress(ota, j->pk, j->dn, j->module, step, "downloading");
        }
        return;
    }
    gw_ota_fetch_join(&j->fetch);
    close_handle(j, (uv_handle_t *)&j->wake);
    ota->stats.resumed += atomic_load(&j->fetch.resumed);
    if (j->superseded) {
        job_end(j);
        return;
    }
    if (j->fetch.step != 0) {
        job_fail(j, j->fetch.step, j->fetch.desc);
        job_end(j);
        return;
    }
    GW_INFO("ota", "%s/%s: firmware %s downloaded and verified (%lld bytes)", j->pk, j->dn, j->version,
            (long long)j->size);
    install(j);
}

static int start_download(job_t *j)
{
    gw_ota_t *ota = j->ota;
    if (uv_async_init(ota->loop, &j->wake, on_wake) != 0)
        return -1;
    j->wake.data = j;
    j->open_handles++;
    gw_ota_fetch_t *f = &j->fetch;
    f->url = j->url;
    f->path = j->path;
    f->ca_file = ota->cfg.ca_file;
    f->size = j->size;
    f->sign = j->sign;
    f->retries = ota->cfg.retries;
    f->retry_delay_ms = ota->cfg.retry_delay_ms;
    f->stall_timeout_s = ota->cfg.stall_timeout_s;
    f->wake = &j->wake;
    if (gw_ota_fetch_start(f) != 0) {
        close_handle(j, (uv_handle_t *)&j->wake);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ tasks */

/* The current (not superseded) job of a device and module, or NULL. */
static job_t *find_job(gw_ota_t *ota, const char *pk, const char *dn, const char *module)
{
    gw_list_foreach_safe(n, tmp, &ota->jobs) {
        job_t *j = gw_container_of(n, job_t, link);
        if (!j->superseded && !strcmp(j->pk, pk) && !strcmp(j->dn, dn) && same(j->module, module))
            return j;
    }
    return NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : NULL;
}

/* Replaces every character but [A-Za-z0-9._-] by '_' (names become file names). */
static void sanitize(char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
            *s = '_';
}

/* The file of a task's image: <dir>/<pk>_<dn>_<module>_<version>_<sign prefix>.img (so a restart resumes it) */
static char *image_path(gw_ota_t *ota, const char *pk, const char *dn, const char *module, const char *version,
                        const char *sign)
{
    char name[256], *path = NULL;
    snprintf(name, sizeof name, "%s_%s_%s_%s_%.16s.img", pk, dn, module ? module : "default", version, sign);
    sanitize(name);
    if (asprintf(&path, "%s/%s", ota->cfg.dir, name) < 0)
        return NULL;
    return path;
}

/* Deletes partial images of older tasks of the same device and module (cancelled on the platform). */
static void remove_stale(gw_ota_t *ota, const job_t *j)
{
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s_%s_%s_", j->pk, j->dn, j->module ? j->module : "default");
    sanitize(prefix);
    const char *mine = strrchr(j->path, '/') + 1;
    DIR *d = opendir(ota->cfg.dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strcmp(e->d_name, mine) != 0 &&
            unlinkat(dirfd(d), e->d_name, 0) == 0)
            GW_DEBUG("ota", "removed the stale image %s", e->d_name);
    }
    closedir(d);
}

/*
 * One upgrade task for @p pk/@p dn (a push's or firmware/get reply's `data`).
 * Validates it, finds the target, and starts a job — or reports why not.
 */
static void handle_task(gw_ota_t *ota, const char *pk, const char *dn, const json_t *data)
{
    bool gateway = !strcmp(pk, gw_cloud_product_key(ota->cloud)) && !strcmp(dn, gw_cloud_device_name(ota->cloud));
    const char *instance = NULL, *device_id = NULL;
    if (!gateway && !(ota->has_devs && ota->devs.lookup(ota->devs.data, pk, dn, &instance, &device_id))) {
        GW_WARN("ota", "upgrade task for %s/%s, which is not a device of this gateway; ignored", pk, dn);
        return;
    }
    const char *module = jstr(data, "module");
    if (module && (strlen(module) > OTA_MODULE_MAX || !safe_name(module))) {
        send_progress(ota, pk, dn, NULL, -1, "invalid task: bad module name");
        ota->stats.failed++;
        return;
    }
    const char *version = jstr(data, "version"), *url = jstr(data, "url"), *sign = jstr(data, "sign");
    const char *sm = jstr(data, "signMethod");
    json_t *jsize = json_object_get(data, "size");
    gw_ota_sign_method_t method = GW_OTA_MD5;
    const char *bad = NULL;
    if (!version || strlen(version) > OTA_VERSION_MAX)
        bad = "invalid task: version missing or too long";
    else if (!url)
        bad = "invalid task: url missing";
    else if (!json_is_integer(jsize) || json_integer_value(jsize) <= 0)
        bad = "invalid task: size must be a positive integer";
    else if (gw_ota_sign_method_parse(sm, &method) != 0)
        bad = "invalid task: signMethod must be Md5 or SHA256";
    else if (!sign || strlen(sign) != gw_ota_sign_len(method) || strspn(sign, "0123456789abcdefABCDEF") != strlen(sign))
        bad = "invalid task: sign is not a hex digest of the signMethod";
    if (bad) {
        send_progress(ota, pk, dn, module, -1, bad);
        ota->stats.failed++;
        return;
    }
    if (strncmp(url, "https://", 8) != 0) {
        send_progress(ota, pk, dn, module, -2, "download refused: the url is not https");
        ota->stats.failed++;
        return;
    }

    job_t *old = find_job(ota, pk, dn, module);
    if (old && !strcmp(old->version, version) && !strcasecmp(old->sign, sign)) {
        GW_DEBUG("ota", "%s/%s: task for %s already in progress", pk, dn, version);
        return;
    }
    if (old && old->state == JOB_INSTALL) {
        GW_WARN("ota", "%s/%s: task for %s ignored while %s is being installed", pk, dn, version, old->version);
        return;
    }

    /* already running that version (e.g. the push repeated after our upgrade): say so again */
    char current[OTA_VERSION_MAX + 1] = "";
    if (gateway && !module && gateway_version(ota, current, sizeof current) && !strcmp(current, version)) {
        inform(ota, pk, dn, current, NULL);
        return;
    }
    const gw_hub_device_t *hdev = !gateway && ota->hub ? gw_hub_find(ota->hub, instance, device_id) : NULL;
    if (hdev && !module && hdev->firmware && !strcmp(hdev->firmware, version)) {
        inform(ota, pk, dn, version, NULL);
        return;
    }

    int64_t size = json_integer_value(jsize);
    if (size > ota->cfg.max_size) {
        char desc[160];
        snprintf(desc, sizeof desc, "image of %lld bytes exceeds the limit of %lld bytes (ota.max_size)",
                 (long long)size, (long long)ota->cfg.max_size);
        send_progress(ota, pk, dn, module, -2, desc);
        ota->stats.failed++;
        return;
    }
    if (gateway && !ota->cfg.install_command) {
        send_progress(ota, pk, dn, module, -1, "gateway upgrades are not enabled (no ota.install_command)");
        ota->stats.failed++;
        return;
    }
    if (!gateway) {
        lgw_instance_t *inst = ota->hub ? gw_hub_instance(ota->hub, instance) : NULL;
        if (!inst || !hdev) {
            send_progress(ota, pk, dn, module, -1, "the device is not present in the gateway now");
            ota->stats.failed++;
            return;
        }
        if (!inst->drv.ota) {
            char desc[160];
            snprintf(desc, sizeof desc, "not supported: the plugin of instance '%s' cannot upgrade firmware", instance);
            send_progress(ota, pk, dn, module, -1, desc);
            ota->stats.failed++;
            return;
        }
    }

    if (old) { /* a different task replaces one still downloading */
        GW_INFO("ota", "%s/%s: task for %s replaces the one for %s", pk, dn, version, old->version);
        old->superseded = true;
        atomic_store(&old->fetch.cancel, true);
    }
    job_t *j = calloc(1, sizeof *j);
    if (!j)
        return;
    gw_list_init(&j->link);
    j->ota = ota;
    j->gateway = gateway;
    j->pk = strdup(pk);
    j->dn = strdup(dn);
    j->module = dup_or_null(module);
    j->version = strdup(version);
    j->url = strdup(url);
    j->sign = strdup(sign);
    j->size = size;
    j->fetch.method = method;
    j->instance = dup_or_null(instance);
    j->device_id = dup_or_null(device_id);
    j->path = image_path(ota, pk, dn, module, version, sign);
    if (!j->pk || !j->dn || !j->version || !j->url || !j->sign || !j->path || (module && !j->module) ||
        (!gateway && (!j->instance || !j->device_id))) {
        job_free(j);
        GW_ERROR("ota", "out of memory for an upgrade task");
        return;
    }
    gw_list_push_back(&ota->jobs, &j->link);
    ota->stats.tasks++;
    GW_INFO("ota", "%s/%s: upgrade to %s (%lld bytes) from the cloud", pk, dn, version, (long long)size);
    remove_stale(ota, j);
    j->sent_step = 1;
    send_progress(ota, pk, dn, module, 1, "downloading");
    if (start_download(j) != 0) {
        job_fail(j, -2, "cannot start the download");
        job_end(j);
    }
}

/* /ota/device/upgrade/{pk}/{dn} */
static void on_upgrade(gw_cloud_t *c, const gw_cloud_msg_t *msg, void *data)
{
    (void)c;
    gw_ota_t *ota = data;
    char pk[128], dn[128];
    const char *rest = msg->topic + strlen("/ota/device/upgrade/");
    const char *slash = strchr(rest, '/');
    if (!slash || (size_t)(slash - rest) >= sizeof pk || strlen(slash + 1) >= sizeof dn || !slash[1] ||
        strchr(slash + 1, '/')) {
        GW_WARN("ota", "malformed upgrade topic %s", msg->topic);
        return;
    }
    snprintf(pk, sizeof pk, "%.*s", (int)(slash - rest), rest);
    snprintf(dn, sizeof dn, "%s", slash + 1);
    json_t *d = json_object_get(msg->root, "data");
    if (!json_is_object(d)) {
        GW_WARN("ota", "upgrade push for %s/%s without a data object; ignored", pk, dn);
        return;
    }
    const char *code = jstr(msg->root, "code");
    if (code && strcmp(code, "1000") != 0) {
        GW_WARN("ota", "upgrade push for %s/%s with code %s; ignored", pk, dn, code);
        return;
    }
    handle_task(ota, pk, dn, d);
}

/* ------------------------------------------------------------ pulls */

typedef struct pull {
    gw_ota_t *ota;
    char pk[128], dn[128];
} pull_t;

static void on_get_reply(gw_cloud_t *c, int status, const gw_cloud_reply_t *r, void *data)
{
    (void)c;
    pull_t *p = data;
    if (status == LGW_OK && r->code == 200 && json_is_object(r->data) && json_object_get(r->data, "url"))
        handle_task(p->ota, p->pk, p->dn, r->data);
    else if (status != LGW_OK || r->code != 200)
        GW_DEBUG("ota", "firmware/get for %s/%s: %s", p->pk, p->dn, status != LGW_OK ? lgw_strerror(status) : "refused");
    free(p);
}

static void pull(gw_ota_t *ota, const char *pk, const char *dn)
{
    pull_t *p = calloc(1, sizeof *p);
    if (!p)
        return;
    p->ota = ota;
    snprintf(p->pk, sizeof p->pk, "%s", pk);
    snprintf(p->dn, sizeof p->dn, "%s", dn);
    char topic[300];
    snprintf(topic, sizeof topic, "/sys/%s/%s/thing/ota/firmware/get", pk, dn);
    json_t *params = json_object();
    if (gw_cloud_request(ota->cloud, topic, "thing.ota.firmware.get", params, 0, on_get_reply, p, NULL) != LGW_OK)
        free(p);
    json_decref(params);
}

/* ------------------------------------------------------------ events */

static void on_state(gw_cloud_t *c, gw_cloud_state_t state, void *data)
{
    (void)c;
    gw_ota_t *ota = data;
    if (state != GW_CLOUD_CONNECTED)
        return;
    char v[OTA_VERSION_MAX + 1];
    const char *pk = gw_cloud_product_key(ota->cloud), *dn = gw_cloud_device_name(ota->cloud);
    if (gateway_version(ota, v, sizeof v))
        inform(ota, pk, dn, v, NULL);
    pull(ota, pk, dn);
}

void gw_ota_on_session(void *data, const char *pk, const char *dn, bool logged_in)
{
    gw_ota_t *ota = data;
    if (!logged_in || !ota->has_devs || gw_cloud_state(ota->cloud) != GW_CLOUD_CONNECTED)
        return;
    const char *instance, *device_id;
    const gw_hub_device_t *dev = NULL;
    if (ota->hub && ota->devs.lookup(ota->devs.data, pk, dn, &instance, &device_id))
        dev = gw_hub_find(ota->hub, instance, device_id);
    if (dev && dev->firmware)
        inform(ota, pk, dn, dev->firmware, NULL);
    /* no firmware/get here: the platform pushes a pending task itself when a device comes online, and a
       pull per login would double the traffic of every mass re-login after a reconnect */
}

static void on_firmware(void *data, const gw_hub_device_t *dev, const char *version)
{
    gw_ota_t *ota = data;
    const char *pk, *dn;
    if (!ota->has_devs || !version || !*version ||
        !ota->devs.identity(ota->devs.data, dev->instance, dev->device_id, &pk, &dn))
        return;
    char spk[128], sdn[128]; /* identity strings may change with the next call */
    snprintf(spk, sizeof spk, "%s", pk);
    snprintf(sdn, sizeof sdn, "%s", dn);
    if (ota->devs.logged_in(ota->devs.data, spk, sdn))
        inform(ota, spk, sdn, version, NULL);
}

static const gw_hub_consumer_t g_consumer = {.device_firmware = on_firmware};

/* ------------------------------------------------------------ lifecycle */

gw_ota_t *gw_ota_new(uv_loop_t *loop, const gw_ota_config_t *cfg, gw_cloud_t *cloud, gw_hub_t *hub,
                     const gw_ota_devices_t *devs)
{
    if (!loop || !cfg || !cloud || !cfg->dir)
        return NULL;
    gw_ota_t *ota = calloc(1, sizeof *ota);
    if (!ota)
        return NULL;
    ota->loop = loop;
    ota->cloud = cloud;
    ota->hub = hub;
    gw_list_init(&ota->jobs);
    if (devs && devs->identity && devs->lookup && devs->logged_in) {
        ota->devs = *devs;
        ota->has_devs = true;
    }
    gw_ota_config_t *c = &ota->cfg;
    *c = *cfg;
    c->version = dup_or_null(cfg->version);
    c->version_file = dup_or_null(cfg->version_file);
    c->install_command = dup_or_null(cfg->install_command);
    c->dir = dup_or_null(cfg->dir);
    c->ca_file = dup_or_null(cfg->ca_file);
    if ((cfg->version && !c->version) || (cfg->version_file && !c->version_file) ||
        (cfg->install_command && !c->install_command) || !c->dir || (cfg->ca_file && !c->ca_file)) {
        gw_ota_config_free(c);
        free(ota);
        return NULL;
    }
    return ota;
}

int gw_ota_start(gw_ota_t *ota)
{
    if (!ota || ota->started)
        return LGW_ESTATE;
    if (mkdir(ota->cfg.dir, 0700) != 0 && errno != EEXIST)
        GW_ERROR("ota", "cannot create the download directory %s: %s", ota->cfg.dir, strerror(errno));
    if (gw_cloud_on(ota->cloud, "/ota/device/upgrade/+/+", on_upgrade, ota) != LGW_OK ||
        gw_cloud_add_state_listener(ota->cloud, on_state, ota) != LGW_OK)
        return LGW_ENOMEM;
    if (ota->hub && gw_hub_add_consumer(ota->hub, &g_consumer, ota) != LGW_OK)
        return LGW_ENOMEM;
    ota->started = true;
    if (gw_cloud_state(ota->cloud) == GW_CLOUD_CONNECTED)
        on_state(ota->cloud, GW_CLOUD_CONNECTED, ota);
    return LGW_OK;
}

void gw_ota_get_stats(const gw_ota_t *ota, gw_ota_stats_t *out) { *out = ota->stats; }

unsigned gw_ota_active(const gw_ota_t *ota)
{
    unsigned n = 0;
    gw_list_foreach_safe(node, tmp, (gw_list_t *)&ota->jobs) {
        (void)node;
        n++;
    }
    return n;
}

void gw_ota_free(gw_ota_t *ota)
{
    if (!ota)
        return;
    if (ota->started && ota->hub)
        gw_hub_remove_consumer(ota->hub, &g_consumer, ota);
    gw_list_foreach_safe(n, tmp, &ota->jobs) {
        job_t *j = gw_container_of(n, job_t, link);
        gw_list_remove(&j->link);
        j->ota = NULL;
        if (j->state == JOB_DOWNLOAD) {
            atomic_store(&j->fetch.cancel, true);
            gw_ota_fetch_join(&j->fetch); /* the transfer notices within about a second */
            close_handle(j, (uv_handle_t *)&j->wake);
            j->finished = true;
        } else if (j->gateway) {
            close_handle(j, (uv_handle_t *)&j->proc); /* the command itself keeps running */
            j->finished = true;
        }
        /* a sub-device install in the hub: on_sub_done frees it */
    }
    gw_ota_config_free(&ota->cfg);
    free(ota);
}
