/* emu_state.c — the emulated platform's state: products, devices, topologies, property
 * values and history, events, pending downstream requests. Kept as one jansson tree so
 * that persistence (state.json) and the console's `state` dump are the same data. */
#include "emu.h"
#include "emu_tsl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

emu_t g_emu;

long long emu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void emu_next_id(char out[24])
{
    json_int_t seq = json_integer_value(json_object_get(g_emu.state, "seq"));
    if (seq <= 0) seq = 1000;
    json_object_set_new(g_emu.state, "seq", json_integer(seq + 1));
    snprintf(out, 24, "%lld", (long long)seq);
    emu_mark_dirty();
}

void emu_audit(const char *event, const char *who, const char *detail)
{
    emu_log(3 /* notice */, "alink-emu: %s: %s: %s", event, who ? who : "-", detail ? detail : "");
    if (!g_emu.audit) return;
    json_array_append_new(g_emu.audit, json_pack("{s:s,s:s,s:s,s:I}", "event", event, "who", who ? who : "",
                                                 "detail", detail ? detail : "", "time", (json_int_t)emu_now_ms()));
    while (json_array_size(g_emu.audit) > 500) json_array_remove(g_emu.audit, 0);
}

void emu_key(char out[EMU_KEY_MAX], const char *pk, const char *dn)
{
    snprintf(out, EMU_KEY_MAX, "%s/%s", pk ? pk : "", dn ? dn : "");
}

json_t *emu_product(const char *pk)
{
    return pk ? json_object_get(json_object_get(g_emu.state, "products"), pk) : NULL;
}

json_t *emu_device_by_key(const char *key)
{
    return key ? json_object_get(json_object_get(g_emu.state, "devices"), key) : NULL;
}

json_t *emu_device(const char *pk, const char *dn)
{
    char key[EMU_KEY_MAX];
    if (!pk || !dn) return NULL;
    emu_key(key, pk, dn);
    return emu_device_by_key(key);
}

bool emu_is_gateway(const json_t *dev)
{
    const json_t *p = emu_product(json_string_value(json_object_get(dev, "productKey")));
    const char *nt = json_string_value(json_object_get(p, "nodeType"));
    return nt && !strcmp(nt, "gateway");
}

json_t *emu_topo_of(json_t *gw)
{
    json_t *t = json_object_get(gw, "topology");
    if (!json_is_object(t)) {
        t = json_object();
        json_object_set_new(gw, "topology", t);
    }
    return t;
}

json_t *emu_session(const char *key)
{
    return key ? json_object_get(g_emu.sessions, key) : NULL;
}

void emu_mark_dirty(void) { g_emu.dirty = true; }

void emu_random_alnum(char *out, size_t len)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char buf[256];
    if (len > sizeof buf) len = sizeof buf;
    if (RAND_bytes(buf, (int)len) != 1) {
        for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)rand();
    }
    for (size_t i = 0; i < len; i++) out[i] = alpha[buf[i] % (sizeof alpha - 1)];
    out[len] = '\0';
}

static bool valid_name(const char *s, size_t min, size_t max, const char *extra)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max) return false;
    for (; *s; s++) if (!isalnum((unsigned char)*s) && !strchr(extra, *s)) return false;
    return true;
}

bool emu_product_add(const json_t *spec, const char *base_dir, char *err, size_t errsz)
{
    const char *pk = json_string_value(json_object_get(spec, "productKey"));
    const char *ps = json_string_value(json_object_get(spec, "productSecret"));
    const char *nt = json_string_value(json_object_get(spec, "nodeType"));
    const json_t *dyn = json_object_get(spec, "dynamicRegistration");
    const json_t *tsl = json_object_get(spec, "tsl");
    const char *tsl_file = json_string_value(json_object_get(spec, "tslFile"));
    json_t *loaded = NULL;

    if (!json_is_object(spec)) { snprintf(err, errsz, "product must be an object"); return false; }
    if (!valid_name(pk, 1, 64, "")) { snprintf(err, errsz, "productKey must be 1-64 letters/digits"); return false; }
    if (emu_product(pk)) { snprintf(err, errsz, "product %s already exists", pk); return false; }
    if (ps && strlen(ps) > 128) { snprintf(err, errsz, "productSecret too long"); return false; }
    if (!nt) nt = "device";
    if (strcmp(nt, "gateway") && strcmp(nt, "device") && strcmp(nt, "sub")) {
        snprintf(err, errsz, "nodeType must be gateway, device or sub");
        return false;
    }
    if (dyn && !json_is_boolean(dyn)) { snprintf(err, errsz, "dynamicRegistration must be true/false"); return false; }
    if (tsl && !json_is_object(tsl) && !json_is_null(tsl)) { snprintf(err, errsz, "tsl must be an object"); return false; }
    if (tsl_file) {
        char path[4096];
        json_error_t je;
        if (tsl_file[0] == '/' || !base_dir) snprintf(path, sizeof path, "%s", tsl_file);
        else snprintf(path, sizeof path, "%s/%s", base_dir, tsl_file);
        loaded = json_load_file(path, 0, &je);
        if (!json_is_object(loaded)) {
            snprintf(err, errsz, "%s:%d: %s", path, je.line, loaded ? "TSL must be an object" : je.text);
            json_decref(loaded);
            return false;
        }
        tsl = loaded;
    }
    if (!emu_custom_product(spec, NULL, err, errsz) || !emu_tsl_set(pk, json_is_object(tsl) ? tsl : NULL, err, errsz)) {
        json_decref(loaded);
        return false;
    }
    json_t *p = json_pack("{s:s,s:s,s:s,s:b}", "productKey", pk, "productSecret", ps ? ps : "", "nodeType", nt,
                          "dynamicRegistration", json_is_true(dyn));
    if (json_is_object(tsl)) json_object_set(p, "tsl", (json_t *)tsl);
    json_decref(loaded);
    emu_custom_product(spec, p, err, errsz);   /* validated above */
    json_object_set_new(json_object_get(g_emu.state, "products"), pk, p);
    emu_mark_dirty();
    return true;
}

bool emu_device_add(const json_t *spec, char *err, size_t errsz)
{
    const char *pk = json_string_value(json_object_get(spec, "productKey"));
    const char *dn = json_string_value(json_object_get(spec, "deviceName"));
    const json_t *ds = json_object_get(spec, "deviceSecret");
    const json_t *en = json_object_get(spec, "enabled");
    char key[EMU_KEY_MAX];

    if (!json_is_object(spec)) { snprintf(err, errsz, "device must be an object"); return false; }
    if (!emu_product(pk)) { snprintf(err, errsz, "unknown productKey %s", pk ? pk : "(missing)"); return false; }
    if (!valid_name(dn, 4, 32, "-_@.:")) {
        snprintf(err, errsz, "deviceName must be 4-32 of letters, digits, -_@.:");
        return false;
    }
    if (emu_device(pk, dn)) { snprintf(err, errsz, "device %s/%s already exists", pk, dn); return false; }
    if (ds && !json_is_null(ds) && (!json_is_string(ds) || !*json_string_value(ds) || strlen(json_string_value(ds)) > 128)) {
        snprintf(err, errsz, "deviceSecret must be a non-empty string");
        return false;
    }
    if (en && !json_is_boolean(en)) { snprintf(err, errsz, "enabled must be true/false"); return false; }
    json_t *d = json_pack("{s:s,s:s,s:O,s:b,s:b,s:b,s:n,s:{},s:{},s:[],s:{},s:{s:{},s:n}}", "productKey", pk,
                          "deviceName", dn, "deviceSecret", ds && json_is_string(ds) ? ds : json_null(),
                          "enabled", en ? json_is_true(en) : 1, "secretIssued", 0, "activated", 0, "gateway",
                          "properties", "history", "events", "tags", "ota", "versions", "task");
    emu_key(key, pk, dn);
    json_object_set_new(json_object_get(g_emu.state, "devices"), key, d);
    json_object_del(json_object_get(g_emu.state, "deleted"), key);
    emu_mark_dirty();
    return true;
}

void emu_topo_unbind(const char *sub_key)
{
    json_t *sub = emu_device_by_key(sub_key);
    const char *gw_key = json_string_value(json_object_get(sub, "gateway"));
    if (gw_key) {
        json_t *gw = emu_device_by_key(gw_key);
        if (gw) json_object_del(emu_topo_of(gw), sub_key);
    }
    if (sub) json_object_set_new(sub, "gateway", json_null());
    emu_mark_dirty();
}

void emu_topo_bind(const char *gw_key, const char *sub_key)
{
    json_t *sub = emu_device_by_key(sub_key), *gw = emu_device_by_key(gw_key);
    if (!sub || !gw) return;
    const char *old = json_string_value(json_object_get(sub, "gateway"));
    if (old && strcmp(old, gw_key)) emu_topo_unbind(sub_key);
    json_object_set_new(emu_topo_of(gw), sub_key, json_true());
    json_object_set_new(sub, "gateway", json_string(gw_key));
    emu_mark_dirty();
}

static bool merge_registry(const char *registry, char *err, size_t errsz)
{
    json_error_t je;
    json_t *reg = json_load_file(registry, JSON_REJECT_DUPLICATES, &je);
    char dir[4096], msg[512];
    size_t i;
    json_t *it;
    bool ok = false;

    if (!reg) { snprintf(err, errsz, "%s:%d: %s", registry, je.line, je.text); return false; }
    if (!json_is_object(reg)) { snprintf(err, errsz, "%s:1: registry must be a JSON object", registry); goto out; }
    snprintf(dir, sizeof dir, "%s", registry);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0'; else snprintf(dir, sizeof dir, ".");

    json_t *admin = json_object_get(reg, "admin");
    if (admin) {
        const char *u = json_string_value(json_object_get(admin, "username"));
        const char *p = json_string_value(json_object_get(admin, "password"));
        if (!u || !p || !*u || !*p || strchr(u, '&')) {
            snprintf(err, errsz, "%s: admin: needs non-empty username (without '&') and password", registry);
            goto out;
        }
        if (!g_emu.admin_user) g_emu.admin_user = strdup(u);
        if (!g_emu.admin_pass) g_emu.admin_pass = strdup(p);
    }
    const json_t *lim = json_object_get(reg, "limits");
    if (json_is_integer(json_object_get(lim, "topologyPerGateway")))
        g_emu.topo_cap = (int)json_integer_value(json_object_get(lim, "topologyPerGateway"));
    const json_t *hl = json_object_get(lim, "historyPerProperty");
    if (hl) {
        if (!json_is_integer(hl) || json_integer_value(hl) < 1 || json_integer_value(hl) > 1000000) {
            snprintf(err, errsz, "%s: limits.historyPerProperty must be an integer 1..1000000", registry);
            goto out;
        }
        g_emu.history_max = (size_t)json_integer_value(hl);
    }
    json_array_foreach(json_object_get(reg, "products"), i, it) {
        if (emu_product(json_string_value(json_object_get(it, "productKey")))) continue;
        if (!emu_product_add(it, dir, msg, sizeof msg)) {
            snprintf(err, errsz, "%s: products[%zu]: %s", registry, i, msg);
            goto out;
        }
    }
    json_array_foreach(json_object_get(reg, "devices"), i, it) {
        char key[EMU_KEY_MAX];
        emu_key(key, json_string_value(json_object_get(it, "productKey")), json_string_value(json_object_get(it, "deviceName")));
        if (emu_device_by_key(key) || json_object_get(json_object_get(g_emu.state, "deleted"), key)) continue;
        if (!emu_device_add(it, msg, sizeof msg)) {
            snprintf(err, errsz, "%s: devices[%zu]: %s", registry, i, msg);
            goto out;
        }
    }
    json_array_foreach(json_object_get(reg, "topology"), i, it) {
        const char *gw = json_string_value(json_object_get(it, "gateway"));
        size_t j;
        json_t *s;
        json_t *deleted = json_object_get(g_emu.state, "deleted");
        if (gw && json_object_get(deleted, gw)) continue;
        if (!emu_device_by_key(gw)) {
            snprintf(err, errsz, "%s: topology[%zu]: unknown gateway \"%s\" (use \"pk/dn\")", registry, i, gw ? gw : "");
            goto out;
        }
        json_array_foreach(json_object_get(it, "subDevices"), j, s) {
            const char *sk = json_string_value(s);
            json_t *sub = emu_device_by_key(sk);
            if (sk && json_object_get(deleted, sk)) continue;
            if (!sub) {
                snprintf(err, errsz, "%s: topology[%zu]: unknown sub-device \"%s\"", registry, i, sk ? sk : "");
                goto out;
            }
            if (json_is_null(json_object_get(sub, "gateway"))) emu_topo_bind(gw, sk);
        }
    }
    ok = true;
out:
    json_decref(reg);
    return ok;
}

bool emu_load(const char *registry, const char *state_dir, char *err, size_t errsz)
{
    char path[4096];
    json_error_t je;
    bool state_existed = false;

    g_emu.sessions = json_object();
    g_emu.audit = json_array();
    g_emu.outbox = json_array();
    g_emu.grants = json_object();
    if (!g_emu.topo_cap) g_emu.topo_cap = 2000;
    if (!g_emu.online_cap) g_emu.online_cap = 2000;
    if (!g_emu.history_max) g_emu.history_max = 100;
    if (!g_emu.events_max) g_emu.events_max = 200;
    g_emu.state = NULL;
    if (state_dir) {
        if (mkdir(state_dir, 0700) && errno != EEXIST) {
            snprintf(err, errsz, "%s: cannot create state dir: %s", state_dir, strerror(errno));
            return false;
        }
        snprintf(path, sizeof path, "%s/state.json", state_dir);
        g_emu.state_path = strdup(path);
        state_existed = access(path, F_OK) == 0;
        if (state_existed) {
            g_emu.state = json_load_file(path, 0, &je);
            if (!json_is_object(g_emu.state) || !json_is_object(json_object_get(g_emu.state, "devices")) ||
                !json_is_object(json_object_get(g_emu.state, "products"))) {
                snprintf(err, errsz, "%s:%d: %s", path, je.line, g_emu.state ? "not an emulator state" : je.text);
                json_decref(g_emu.state);
                g_emu.state = NULL;
                return false;
            }
        }
    }
    if (!g_emu.state)
        g_emu.state = json_pack("{s:i,s:i,s:{},s:{},s:{},s:{}}", "version", 1, "seq", 1000, "products", "devices", "pending",
                              "deleted");
    if (!json_is_object(json_object_get(g_emu.state, "pending")))
        json_object_set_new(g_emu.state, "pending", json_object());
    if (!json_is_object(json_object_get(g_emu.state, "deleted")))       /* keys the console deleted: not re-added from the registry */
        json_object_set_new(g_emu.state, "deleted", json_object());
    const char *pk;
    json_t *prod;
    json_object_foreach(json_object_get(g_emu.state, "products"), pk, prod) {
        char msg[512];
        if (!emu_tsl_set(pk, json_object_get(prod, "tsl"), msg, sizeof msg)) {
            snprintf(err, errsz, "%s: %s", g_emu.state_path, msg);
            return false;
        }
    }
    if (registry && !merge_registry(registry, err, errsz)) return false;
    if (!g_emu.admin_user) g_emu.admin_user = strdup("emu-admin");
    if (!g_emu.admin_pass) g_emu.admin_pass = strdup("emu-admin");
    if (state_dir && !emu_history_load(state_dir, state_existed)) {
        snprintf(err, errsz, "%s/history.jsonl: cannot write: %s", state_dir, strerror(errno));
        return false;
    }
    emu_save(true);
    return true;
}

void emu_save(bool force)
{
    long long now = emu_now_ms();
    if (!g_emu.state_path || !g_emu.state) return;
    if (!g_emu.dirty && !force) return;
    /* at most every 300 ms, and never more than ~5 % of the time: a large state (thousands
     * of devices) must not keep the broker from answering */
    if (!force && now - g_emu.last_save_ms < 300 + 20 * g_emu.last_save_cost_ms) return;
    if (!emu_history_flush())
        emu_log(4 /* warning */, "alink-emu: cannot write the history journal: %s", strerror(errno));
    json_t *hist = emu_history_detach();   /* the history lives in history.jsonl */
    char *text = json_dumps(g_emu.state, JSON_INDENT(1) | JSON_SORT_KEYS);
    emu_history_attach(hist);
    if (!text) return;
    bool ok = emu_write_atomic(g_emu.state_path, text, strlen(text));
    free(text);
    if (!ok) {
        emu_log(4 /* warning */, "alink-emu: cannot write %s: %s", g_emu.state_path, strerror(errno));
        return;
    }
    g_emu.dirty = false;
    g_emu.last_save_ms = emu_now_ms();
    g_emu.last_save_cost_ms = g_emu.last_save_ms - now;
}

bool emu_write_atomic(const char *path, const void *buf, size_t len)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) { errno = ENAMETOOLONG; return false; }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    size_t off = 0;
    while (ok && off < len) {
        ssize_t n = write(fd, (const char *)buf + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false; else off += (size_t)n;
    }
    if (ok && fsync(fd)) ok = false;
    if (fd >= 0 && close(fd)) ok = false;
    if (ok && rename(tmp, path)) ok = false;
    if (!ok) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return false;
    }
    char dir[4200];                                /* make the rename itself durable */
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) { fsync(dfd); close(dfd); }
    }
    return true;
}

void emu_free(void)
{
    emu_tsl_clear();
    emu_history_free();
    json_decref(g_emu.state);
    json_decref(g_emu.sessions);
    json_decref(g_emu.audit);
    json_decref(g_emu.outbox);
    json_decref(g_emu.grants);
    free(g_emu.state_path);
    free(g_emu.admin_user);
    free(g_emu.admin_pass);
    while (g_emu.conns) {
        emu_conn_t *c = g_emu.conns;
        g_emu.conns = c->next;
        free(c->client_id);
        free(c);
    }
    memset(&g_emu, 0, sizeof g_emu);
}
