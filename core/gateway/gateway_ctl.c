/*
 * The control socket served on the loop (gateway_ctl.h): one JSON request
 * line in, one JSON answer line out, per connection.
 */
#include "gateway_ctl.h"
#include "data.h"
#include "gateway.h"
#include "log.h"
#include "store/cred_csv.h"
#include "subdev_mgr.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTL_MAX_REQUEST (8u * 1024 * 1024)
#define CTL_MAX_CONNS 16

typedef struct ctl_conn {
    uv_pipe_t pipe;
    gw_ctl_t *ctl;
    char *buf;
    size_t len, cap;
    bool answered;
    struct ctl_conn *next;
} ctl_conn_t;

struct gw_ctl {
    uv_pipe_t server;
    gw_gateway_t *gw;
    char *path;
    ctl_conn_t *conns;
    size_t nconns;
    bool closing;
    void (*done)(void *);
    void *done_data;
};

/* ---- requests ------------------------------------------------------------------- */

typedef struct csv_errs {
    json_t *arr;
} csv_errs_t;

static void on_csv_error(void *ud, const char *message)
{
    json_array_append_new(((csv_errs_t *)ud)->arr, json_string(message));
}

static json_t *fail(const char *msg)
{
    return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static json_t *handle(gw_ctl_t *ctl, json_t *req)
{
    gw_subdev_t *sd = gw_gateway_subdev(ctl->gw);
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    if (!json_is_object(req) || !cmd)
        return fail("request must be a JSON object with a string \"cmd\"");
    if (strcmp(cmd, "status") == 0) {
        json_t *st = gw_subdev_status_json(sd);
        gw_cloud_t *c = gw_gateway_cloud(ctl->gw);
        json_object_set_new(st, "gateway", json_pack("{s:s,s:s}", "productKey", gw_cloud_product_key(c),
                                                      "deviceName", gw_cloud_device_name(c)));
        json_object_set_new(st, "store", json_string(gw_store_db_path(gw_gateway_store(ctl->gw))));
        gw_data_t *dl = gw_data_current(); /* the data layer, when its module is loaded */
        if (dl)
            json_object_set_new(st, "data", gw_data_status_json(dl));
        return json_pack("{s:b,s:o}", "ok", 1, "status", st);
    }
    if (strcmp(cmd, "devices") == 0)
        return json_pack("{s:b,s:o}", "ok", 1, "devices", gw_subdev_devices_json(sd));
    if (strcmp(cmd, "plugins") == 0)
        return json_pack("{s:b,s:o}", "ok", 1, "plugins", gw_subdev_plugins_json(sd));
    if (strcmp(cmd, "delete") == 0) {
        const char *dev = json_string_value(json_object_get(req, "device"));
        char err[200];
        if (!dev)
            return fail("delete needs a string \"device\"");
        if (gw_subdev_delete_local(sd, dev, err, sizeof err) != 0)
            return fail(err);
        return json_pack("{s:b}", "ok", 1);
    }
    if (strcmp(cmd, "credentials-import") == 0) {
        const char *name = json_string_value(json_object_get(req, "name"));
        json_t *csv = json_object_get(req, "csv");
        if (!name || !json_is_string(csv))
            return fail("credentials-import needs strings \"name\" and \"csv\"");
        csv_errs_t ce = {json_array()};
        gw_csv_import_result_t res = {0};
        int rc = gw_store_cred_import_csv(gw_gateway_store(ctl->gw), name, json_string_value(csv),
                                          json_string_length(csv), &res, on_csv_error, &ce);
        if (rc != GW_STORE_OK) {
            json_t *r = json_pack("{s:b,s:s,s:o}", "ok", 0, "error",
                                  rc == GW_STORE_EINVAL ? "invalid CSV: nothing imported" : gw_store_rc_str(rc),
                                  "problems", ce.arr);
            return r;
        }
        json_decref(ce.arr);
        gw_subdev_credentials_changed(sd);
        GW_INFO("gateway", "credentials imported from %s: %zu added, %zu replaced, %zu unchanged", name, res.added,
                res.replaced, res.unchanged);
        return json_pack("{s:b,s:{s:I,s:I,s:I,s:I}}", "ok", 1, "imported", "rows", (json_int_t)res.rows, "added",
                         (json_int_t)res.added, "replaced", (json_int_t)res.replaced, "unchanged",
                         (json_int_t)res.unchanged);
    }
    return fail("unknown command (status, devices, plugins, delete, credentials-import)");
}

/* ---- connections ------------------------------------------------------------------ */

static void maybe_done(gw_ctl_t *ctl);

static void conn_closed(uv_handle_t *h)
{
    ctl_conn_t *c = h->data;
    gw_ctl_t *ctl = c->ctl;
    for (ctl_conn_t **pp = &ctl->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    ctl->nconns--;
    free(c->buf);
    free(c);
    maybe_done(ctl);
}

static void conn_close(ctl_conn_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->pipe))
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

typedef struct wreq {
    uv_write_t w;
    char *text;
} wreq_t;

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    wreq_t *r = (wreq_t *)w;
    ctl_conn_t *c = w->handle->data;
    free(r->text);
    free(r);
    conn_close(c);
}

static void answer(ctl_conn_t *c, json_t *resp)
{
    c->answered = true;
    uv_read_stop((uv_stream_t *)&c->pipe);
    char *text = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
    json_decref(resp);
    wreq_t *r = calloc(1, sizeof *r);
    char *line = NULL;
    if (!text || !r || asprintf(&line, "%s\n", text) < 0) {
        free(text);
        free(r);
        conn_close(c);
        return;
    }
    free(text);
    r->text = line;
    uv_buf_t b = uv_buf_init(line, (unsigned)strlen(line));
    if (uv_write(&r->w, (uv_stream_t *)&c->pipe, &b, 1, on_written) != 0) {
        free(line);
        free(r);
        conn_close(c);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    ctl_conn_t *c = h->data;
    /* requests are one short line: start small, double while a long one arrives */
    if (c->cap - c->len < 4096) {
        size_t ncap = c->cap ? c->cap * 2 : 8192;
        if (ncap > CTL_MAX_REQUEST + 2 * 65536)
            ncap = CTL_MAX_REQUEST + 2 * 65536; /* enough to notice "too large" in on_read */
        char *nb = ncap > c->cap ? realloc(c->buf, ncap) : NULL;
        if (!nb) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->buf = nb;
        c->cap = ncap;
    }
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    ctl_conn_t *c = s->data;
    if (c->answered)
        return;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    char *nl = memchr(c->buf, '\n', c->len);
    if (!nl) {
        if (c->len > CTL_MAX_REQUEST)
            answer(c, fail("request too large"));
        return;
    }
    json_error_t jerr;
    json_t *req = json_loadb(c->buf, (size_t)(nl - c->buf), JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        answer(c, fail("request is not valid JSON"));
        return;
    }
    json_t *resp = handle(c->ctl, req);
    json_decref(req);
    answer(c, resp);
}

static void on_connection(uv_stream_t *server, int status)
{
    gw_ctl_t *ctl = server->data;
    if (status < 0 || ctl->closing)
        return;
    ctl_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->ctl = ctl;
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->next = ctl->conns;
    ctl->conns = c;
    ctl->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        conn_close(c);
        return;
    }
    if (ctl->nconns > CTL_MAX_CONNS) {
        answer(c, fail("too many control connections"));
        return;
    }
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* ---- life cycle -------------------------------------------------------------------- */

static void server_closed(uv_handle_t *h)
{
    gw_ctl_t *ctl = h->data;
    ctl->server.data = NULL; /* marks the server closed */
    maybe_done(ctl);
}

static void maybe_done(gw_ctl_t *ctl)
{
    if (!ctl->closing || ctl->nconns || ctl->server.data)
        return;
    void (*done)(void *) = ctl->done;
    void *dd = ctl->done_data;
    free(ctl->path);
    free(ctl);
    if (done)
        done(dd);
}

gw_ctl_t *gw_ctl_new(uv_loop_t *loop, gw_gateway_t *gw, const char *path, unsigned mode)
{
    gw_ctl_t *ctl = calloc(1, sizeof *ctl);
    if (!ctl || !(ctl->path = strdup(path))) {
        free(ctl);
        return NULL;
    }
    ctl->gw = gw;
    uv_pipe_init(loop, &ctl->server, 0);
    ctl->server.data = ctl;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    mode_t old = umask(0177);
    int rc = uv_pipe_bind(&ctl->server, path);
    umask(old);
    if (rc == 0 && chmod(path, mode) != 0)
        rc = -errno;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&ctl->server, 8, on_connection);
    if (rc != 0) {
        GW_ERROR("gateway", "control socket %s: %s", path, uv_strerror(rc));
        ctl->closing = true; /* freed once the handle closed */
        uv_close((uv_handle_t *)&ctl->server, server_closed);
        return NULL;
    }
    GW_INFO("gateway", "control socket %s (mode %04o)", path, mode);
    return ctl;
}

void gw_ctl_close(gw_ctl_t *ctl, void (*done)(void *data), void *data)
{
    ctl->closing = true;
    ctl->done = done;
    ctl->done_data = data;
    unlink(ctl->path);
    for (ctl_conn_t *c = ctl->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&ctl->server, server_closed);
}
