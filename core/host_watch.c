/*
 * File-descriptor watches for plugins (host.h "File-descriptor watches")
 * over uv_poll_t. Errors and hang-ups are reported as LGW_WATCH_ERROR.
 */
#include "instance.h"
#include "log.h"

#include <stdlib.h>

struct lgw_watch {
    uv_poll_t h;
    lgw_instance_t *inst;
    int fd;
    lgw_watch_cb cb;
    void *data;
    bool closing;
    gw_list_t link; /* in inst->watches */
};

static void on_close(uv_handle_t *h) { free(h->data); }

static void on_poll(uv_poll_t *h, int status, int events)
{
    lgw_watch_t *w = h->data;
    int ev = 0;
    if (status < 0)
        ev |= LGW_WATCH_ERROR;
    if (events & UV_READABLE)
        ev |= LGW_WATCH_READ;
    if (events & UV_WRITABLE)
        ev |= LGW_WATCH_WRITE;
    if (events & UV_DISCONNECT)
        ev |= LGW_WATCH_ERROR;
    w->cb(w, w->fd, ev, w->data);
}

LGW_HOST_API lgw_watch_t *lgw_watch_new(lgw_instance_t *inst, int fd, lgw_watch_cb cb, void *data)
{
    if (!inst || fd < 0 || !cb || !gw_host_check_loop(inst->host, __func__))
        return NULL;
    lgw_watch_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    int rc = uv_poll_init(inst->host->loop, &w->h, fd);
    if (rc != 0) {
        GW_WARN(inst->log_comp, "cannot watch fd %d: %s", fd, uv_strerror(rc));
        free(w);
        return NULL;
    }
    w->h.data = w;
    w->inst = inst;
    w->fd = fd;
    w->cb = cb;
    w->data = data;
    gw_list_push_back(&inst->watches, &w->link);
    return w;
}

LGW_HOST_API int lgw_watch_start(lgw_watch_t *w, int events)
{
    if (!w || w->closing || !(events & (LGW_WATCH_READ | LGW_WATCH_WRITE)))
        return LGW_EINVAL;
    if (!gw_host_check_loop(w->inst->host, __func__))
        return LGW_ESTATE;
    int uvev = ((events & LGW_WATCH_READ) ? UV_READABLE | UV_DISCONNECT : 0) |
               ((events & LGW_WATCH_WRITE) ? UV_WRITABLE : 0);
    return uv_poll_start(&w->h, uvev, on_poll) == 0 ? LGW_OK : LGW_EIO;
}

LGW_HOST_API void lgw_watch_stop(lgw_watch_t *w)
{
    if (w && !w->closing && gw_host_check_loop(w->inst->host, __func__))
        uv_poll_stop(&w->h);
}

LGW_HOST_API void lgw_watch_free(lgw_watch_t *w)
{
    if (!w || w->closing || !gw_host_check_loop(w->inst->host, __func__))
        return;
    w->closing = true;
    gw_list_remove(&w->link);
    uv_poll_stop(&w->h);
    uv_close((uv_handle_t *)&w->h, on_close);
}

void gw_watches_free_all(lgw_instance_t *inst)
{
    size_t n = 0;
    gw_list_foreach_safe(node, tmp, &inst->watches) {
        lgw_watch_free(gw_container_of(node, lgw_watch_t, link));
        n++;
    }
    if (n)
        GW_WARN(inst->log_comp, "%zu watch(es) not freed by the plugin; freed by the host", n);
}
