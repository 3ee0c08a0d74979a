/* emu_history.c — persistence of the property history in an append-only journal,
 * <state_dir>/history.jsonl, beside state.json.
 *
 * Why: the history is the only part of the platform state that grows with traffic.
 * Persisting it inside state.json made every save (every 300 ms under load) dump the
 * whole history again — quadratic; at ~20,000 values/s the broker spent its time
 * writing state.json and stopped answering posts within seconds. Now state.json is
 * saved without the "history" members and every stored history entry is appended
 * as one line `["pk/dn","id",value,time]` here, flushed together with state.json.
 *
 * In memory nothing changes: each device keeps its "history" object (the console's
 * `state` shows it). The journal is rewritten from memory (compacted) at load, after
 * a device was deleted, and when it holds more than twice the live entries; so a
 * journal line never outlives its entry by more than one compaction, and the cost
 * per value stays constant. The journal is only trusted together with state.json:
 * without a state.json (fresh start, or a test that removed it) it is discarded. */
#include "emu.h"
#include "tsl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    char *path;
    char *buf;                  /* lines not yet written */
    size_t len, cap;
    bool oom;
    size_t lines;               /* lines in the file (written or buffered) since the last rewrite */
    size_t live;                /* history entries in memory */
    bool rewrite;               /* compact at the next flush */
} H;

static void put(const char *s, size_t n)
{
    if (H.oom) return;
    if (H.len + n + 1 > H.cap) {
        size_t cap = H.cap ? H.cap : 65536;
        while (cap < H.len + n + 1) cap *= 2;
        char *b = realloc(H.buf, cap);
        if (!b) { H.oom = true; return; }
        H.buf = b;
        H.cap = cap;
    }
    memcpy(H.buf + H.len, s, n);
    H.len += n;
}

/* A JSON string literal of s (keys and identifiers are validated names; escaped anyway). */
static void put_str(const char *s)
{
    put("\"", 1);
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') { put("\\", 1); put(p, 1); }
        else if (ch < 0x20) { char e[8]; snprintf(e, sizeof e, "\\u%04x", ch); put(e, 6); }
        else put(p, 1);
    }
    put("\"", 1);
}

static void put_line(const char *key, const char *id, const json_t *value, json_int_t time)
{
    char num[40], *v = NULL;
    size_t vlen;
    /* numbers, the bulk of the history, without printf: the shortest text that reads back exactly */
    if (json_is_real(value)) {
        vlen = gw_tsl_num_fmt_real(json_real_value(value), num);
    } else if (json_is_integer(value)) {
        vlen = gw_tsl_num_fmt_int(json_integer_value(value), num);
    } else {
        if (!(v = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT))) { H.oom = true; return; }
        vlen = strlen(v);
    }
    put("[", 1);
    put_str(key);
    put(",", 1);
    put_str(id);
    put(",", 1);
    put(v ? v : num, vlen);
    put(",", 1);
    vlen = gw_tsl_num_fmt_int(time, num);
    put(num, vlen);
    put("]\n", 2);
    free(v);
    H.lines++;
}

void emu_history_appended(const char *key, const char *id, const json_t *value, json_int_t time, size_t evicted)
{
    H.live = H.live + 1 - evicted;
    if (H.path) put_line(key, id, value, time);
}

void emu_history_forget(void)
{
    H.rewrite = true;
}

static bool write_all(int fd, const char *s, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, s + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += (size_t)n;
    }
    return true;
}

/* The whole in-memory history as journal lines into H.buf (which must be empty). */
static void render_all(void)
{
    const char *key, *id;
    json_t *dev, *list, *e;
    size_t i;
    H.lines = 0;
    H.live = 0;
    json_object_foreach(json_object_get(g_emu.state, "devices"), key, dev) {
        json_object_foreach(json_object_get(dev, "history"), id, list) {
            json_array_foreach(list, i, e) {
                put_line(key, id, json_object_get(e, "value"), json_integer_value(json_object_get(e, "time")));
                H.live++;
            }
        }
    }
}

/* Rewrites the journal from memory (emu_write_atomic: temp file, fsync, rename, directory fsync). */
static bool rewrite(void)
{
    H.len = 0;
    H.oom = false;
    render_all();
    if (H.oom) return false;
    bool ok = emu_write_atomic(H.path, H.buf, H.len);
    H.len = 0;
    H.rewrite = false;
    return ok;
}

bool emu_history_flush(void)
{
    if (!H.path) return true;
    if (H.oom || H.rewrite || H.lines > 2 * H.live + 100000) return rewrite();
    if (!H.len) return true;
    int fd = open(H.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write_all(fd, H.buf, H.len) && fdatasync(fd) == 0;
    if (fd >= 0 && close(fd)) ok = false;
    H.len = 0;
    if (!ok) H.rewrite = true;   /* a partial append: the next flush writes everything again */
    return ok;
}

/* Appends one journal line to the in-memory history (entries of unknown devices are dropped). */
static void replay_line(const char *line, size_t lineno, char *err, size_t errsz)
{
    json_error_t je;
    json_t *a = json_loads(line, JSON_DECODE_ANY, &je);
    const char *key = json_string_value(json_array_get(a, 0)), *id = json_string_value(json_array_get(a, 1));
    json_t *v = json_array_get(a, 2), *t = json_array_get(a, 3);
    if (!json_is_array(a) || json_array_size(a) != 4 || !key || !id || !json_is_integer(t)) {
        /* a torn last line after a crash is expected; report, keep going */
        if (!err[0]) snprintf(err, errsz, "%s:%zu: not a history entry", H.path, lineno);
        json_decref(a);
        return;
    }
    json_t *dev = emu_device_by_key(key);
    if (dev) {
        json_t *hist = json_object_get(dev, "history");
        if (!json_is_object(hist)) { hist = json_object(); json_object_set_new(dev, "history", hist); }
        json_t *list = json_object_get(hist, id);
        if (!json_is_array(list)) { list = json_array(); json_object_set_new(hist, id, list); }
        json_array_append_new(list, json_pack("{s:O,s:O}", "value", v, "time", t));
        while (json_array_size(list) > g_emu.history_max) json_array_remove(list, 0);
    }
    json_decref(a);
}

bool emu_history_load(const char *state_dir, bool state_existed)
{
    char path[4200], err[600] = "";
    snprintf(path, sizeof path, "%s/history.jsonl", state_dir);
    free(H.path);
    H.path = strdup(path);
    if (!H.path) return false;
    FILE *f = state_existed ? fopen(path, "r") : NULL;
    if (f) {
        char *line = NULL;
        size_t cap = 0, lineno = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
            lineno++;
            if (n > 1) replay_line(line, lineno, err, sizeof err);
        }
        free(line);
        fclose(f);
        if (err[0]) emu_log(4, "alink-emu: %s (skipped)", err);
    }
    return rewrite();   /* also drops a journal that came without its state.json */
}

json_t *emu_history_detach(void)
{
    json_t *saved = json_object();
    const char *key;
    json_t *dev;
    json_object_foreach(json_object_get(g_emu.state, "devices"), key, dev) {
        json_t *h = json_object_get(dev, "history");
        if (h) {
            json_object_set(saved, key, h);
            json_object_del(dev, "history");
        }
    }
    return saved;
}

void emu_history_attach(json_t *saved)
{
    const char *key;
    json_t *h;
    json_object_foreach(saved, key, h) {
        json_t *dev = emu_device_by_key(key);
        if (dev) json_object_set(dev, "history", h);
    }
    json_decref(saved);
}

void emu_history_free(void)
{
    free(H.path);
    free(H.buf);
    memset(&H, 0, sizeof H);
}
