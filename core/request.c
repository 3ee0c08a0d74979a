/* Downlink requests and timeouts; see request.h and hub.h "Downlink". */
#include "request.h"
#include "instance.h"
#include "log.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct lgw_request {
    gw_xmsg_t x;            /* first: completion travels as a message */
    gw_reqs_t *rq;
    lgw_instance_t *inst;   /* NULL for host-failed requests */
    char *device_id, *what;
    lgw_value_t *output;    /* struct */
    int code;
    char *message;
    gw_hub_done_fn done;
    gw_hub_progress_fn progress; /* or NULL */
    gw_hub_bytes_done_fn bytes_done; /* message requests (ABI 1.1), else NULL */
    void *reply;            /* lgw_request_reply_bytes(), owned */
    size_t reply_len;
    void *data;
    uint64_t serial;        /* names it in progress messages (which may outlive it) */
    bool answered;
    _Atomic bool completed; /* lgw_request_done() called: the message is queued or delivered */
    uint64_t deadline;      /* loop time, ms */
    gw_list_t pending_link; /* in rq->pending while unanswered */
    gw_list_t inst_link;    /* in inst->requests until freed */
};

static void on_timer(uv_timer_t *t);

/* (Re)arms the timer for the earliest deadline, or stops it. */
static void arm(gw_reqs_t *rq)
{
    if (gw_list_empty(&rq->pending)) {
        uv_timer_stop(&rq->timer);
        return;
    }
    lgw_request_t *first = gw_container_of(rq->pending.next, lgw_request_t, pending_link);
    uint64_t now = uv_now(rq->host->loop);
    uv_timer_start(&rq->timer, on_timer, first->deadline > now ? first->deadline - now : 0, 0);
}

/* Delivers the answer once; the reply bytes only when the plugin completed it (@p completed). */
static void answer_ex(lgw_request_t *req, int code, const char *message, bool completed)
{
    if (req->answered)
        return;
    req->answered = true;
    gw_list_remove(&req->pending_link);
    if (req->bytes_done)
        req->bytes_done(req->data, code, message, completed ? req->reply : NULL, completed ? req->reply_len : 0);
    else
        req->done(req->data, code, message, req->output);
}

static void answer(lgw_request_t *req, int code, const char *message)
{
    answer_ex(req, code, message, false);
}

static void req_free(lgw_request_t *req)
{
    gw_list_remove(&req->pending_link);
    gw_list_remove(&req->inst_link);
    lgw_value_free(req->output);
    free(req->device_id);
    free(req->what);
    free(req->message);
    free(req->reply);
    free(req);
}

/* Answers every request whose deadline passed. */
static void on_timer(uv_timer_t *t)
{
    gw_reqs_t *rq = t->data;
    uint64_t now = uv_now(rq->host->loop);
    while (!gw_list_empty(&rq->pending)) {
        lgw_request_t *req = gw_container_of(rq->pending.next, lgw_request_t, pending_link);
        if (req->deadline > now)
            break;
        char msg[128];
        snprintf(msg, sizeof msg, "%s of device '%s' timed out after %llu ms", req->what, req->device_id,
                 (unsigned long long)rq->host->request_timeout_ms);
        GW_WARN(req->inst ? req->inst->log_comp : "hub", "%s", msg);
        answer(req, LGW_REPLY_REQUEST_ERROR, msg);
    }
    arm(rq);
}

void gw_reqs_init(gw_reqs_t *rq, gw_host_t *host)
{
    rq->host = host;
    gw_list_init(&rq->pending);
    uv_timer_init(host->loop, &rq->timer);
    rq->timer.data = rq;
}

lgw_request_t *gw_request_new(gw_reqs_t *rq, lgw_instance_t *inst, const char *device_id, const char *what,
                              gw_hub_done_fn done, void *data)
{
    lgw_request_t *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->device_id = strdup(device_id ? device_id : "");
    req->what = strdup(what ? what : "request");
    req->output = lgw_value_new_struct();
    if (!req->device_id || !req->what || !req->output) {
        lgw_value_free(req->output);
        free(req->device_id);
        free(req->what);
        free(req);
        return NULL;
    }
    static uint64_t next_serial; /* loop thread only */
    req->serial = ++next_serial;
    req->rq = rq;
    req->inst = inst;
    req->done = done;
    req->data = data;
    gw_list_init(&req->inst_link);
    gw_list_init(&req->pending_link);
    if (inst)
        gw_list_push_back(&inst->requests, &req->inst_link);
    uv_update_time(rq->host->loop);
    req->deadline = uv_now(rq->host->loop) + rq->host->request_timeout_ms;
    bool was_empty = gw_list_empty(&rq->pending);
    gw_list_push_back(&rq->pending, &req->pending_link);
    if (was_empty)
        arm(rq);
    return req;
}

lgw_value_t *gw_request_output(lgw_request_t *req) { return req ? req->output : NULL; }

void gw_request_set_timeout(lgw_request_t *req, uint64_t timeout_ms)
{
    if (!req || req->answered)
        return;
    gw_reqs_t *rq = req->rq;
    gw_list_remove(&req->pending_link);
    req->deadline = uv_now(rq->host->loop) + timeout_ms;
    gw_list_t *at = &rq->pending; /* keep deadline order: before the first later deadline */
    for (gw_list_t *n = rq->pending.next; n != &rq->pending; n = n->next) {
        if (gw_container_of(n, lgw_request_t, pending_link)->deadline > req->deadline) {
            at = n;
            break;
        }
    }
    gw_list_push_back(at, &req->pending_link);
    arm(rq);
}

void gw_request_set_progress(lgw_request_t *req, gw_hub_progress_fn fn)
{
    if (req)
        req->progress = fn;
}

/* A progress report on its way to the loop; finds its request by serial. */
typedef struct progress_msg {
    gw_xmsg_t x;
    gw_reqs_t *rq;
    uint64_t serial;
    int percent;
    char message[];
} progress_msg_t;

static void progress_deliver(gw_xmsg_t *m)
{
    progress_msg_t *p = (progress_msg_t *)m;
    gw_list_foreach_safe(node, tmp, &p->rq->pending) { /* only unanswered requests are there */
        lgw_request_t *req = gw_container_of(node, lgw_request_t, pending_link);
        if (req->serial == p->serial) {
            if (req->progress)
                req->progress(req->data, p->percent, p->message[0] ? p->message : NULL);
            break;
        }
    }
    free(p);
}

LGW_HOST_API void lgw_request_progress(lgw_request_t *req, int percent, const char *message)
{
    if (!req || percent < 1 || percent > 100 || atomic_load(&req->completed))
        return;
    size_t len = message ? strnlen(message, 255) : 0;
    progress_msg_t *p = malloc(sizeof *p + len + 1);
    if (!p)
        return;
    p->rq = req->rq;
    p->serial = req->serial;
    p->percent = percent;
    memcpy(p->message, message ? message : "", len);
    p->message[len] = '\0';
    p->x.deliver = progress_deliver;
    gw_xq_post(req->rq->host, &p->x);
}

/* Loop thread: the completion message arrived. */
static void req_deliver(gw_xmsg_t *m)
{
    lgw_request_t *req = (lgw_request_t *)m;
    gw_reqs_t *rq = req->rq;
    if (req->answered)
        GW_DEBUG(req->inst ? req->inst->log_comp : "hub", "%s of '%s' completed late (code %d); ignored",
                 req->what, req->device_id, req->code);
    bool head = rq->pending.next == &req->pending_link;
    answer_ex(req, req->code, req->message, true);
    req_free(req);
    if (head)
        arm(rq);
}

void gw_request_set_bytes_done(lgw_request_t *req, gw_hub_bytes_done_fn fn)
{
    if (req)
        req->bytes_done = fn;
}

LGW_HOST_API int lgw_request_reply_bytes(lgw_request_t *req, const void *payload, size_t len)
{
    if (!req || (!payload && len) || !req->bytes_done || atomic_load(&req->completed))
        return LGW_EINVAL;
    if (len > LGW_MESSAGE_MAX)
        return LGW_ERANGE;
    void *copy = malloc(len ? len : 1);
    if (!copy)
        return LGW_ENOMEM;
    if (len)
        memcpy(copy, payload, len);
    free(req->reply); /* only the plugin touches it until lgw_request_done() */
    req->reply = copy;
    req->reply_len = len;
    return LGW_OK;
}

LGW_HOST_API int lgw_request_add_output(lgw_request_t *req, const char *name, lgw_value_t *v)
{
    if (!req || !name || atomic_load(&req->completed)) {
        lgw_value_free(v);
        return LGW_EINVAL;
    }
    return lgw_value_struct_set(req->output, name, v);
}

void gw_request_finish(lgw_request_t *req, int code, const char *message)
{
    lgw_request_done(req, code, message);
}

LGW_HOST_API void lgw_request_done(lgw_request_t *req, int code, const char *message)
{
    if (!req || atomic_exchange(&req->completed, true))
        return;
    if (code < 0) { /* an lgw_result_t instead of a reply code: map it */
        if (!message)
            message = lgw_strerror(code);
        code = code == LGW_EINVAL || code == LGW_ETYPE || code == LGW_ERANGE ? LGW_REPLY_PARAM_ERROR
               : code == LGW_EBUSY                                         ? LGW_REPLY_TOO_MANY
                                                                           : LGW_REPLY_REQUEST_ERROR;
    }
    req->code = code;
    req->message = message ? strdup(message) : NULL;
    req->x.deliver = req_deliver;
    gw_xq_post(req->rq->host, &req->x);
}

void gw_requests_stop(lgw_instance_t *inst)
{
    gw_list_foreach_safe(node, tmp, &inst->requests) {
        lgw_request_t *req = gw_container_of(node, lgw_request_t, inst_link);
        if (!req->answered) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s of device '%s' not completed: instance '%s' stopped", req->what,
                     req->device_id, inst->name);
            answer(req, LGW_REPLY_REQUEST_ERROR, msg);
        }
    }
    if (!gw_list_empty(&inst->requests))
        arm(gw_container_of(inst->requests.next, lgw_request_t, inst_link)->rq);
}

void gw_requests_free_all(lgw_instance_t *inst)
{
    gw_list_foreach_safe(node, tmp, &inst->requests) {
        lgw_request_t *req = gw_container_of(node, lgw_request_t, inst_link);
        if (atomic_load(&req->completed)) {
            /* its completion is still in a batch being delivered (a drain inside a drain): that frees it */
            gw_list_remove(&req->inst_link);
            req->inst = NULL;
            continue;
        }
        GW_DEBUG(inst->log_comp, "%s of '%s' never completed by the plugin", req->what, req->device_id);
        answer(req, LGW_REPLY_REQUEST_ERROR, "instance destroyed");
        req_free(req);
    }
}
