/*
 * sim — requests from the host: write, read, invoke, remove, and how they
 * complete asynchronously.
 *
 * The pattern a driver follows for every request:
 *   1. check what can be checked at once; return a negative lgw_result_t to
 *      fail the request immediately (the host then completes it itself):
 *      LGW_ENOENT for an unknown device, LGW_EIO for one that does not answer;
 *   2. otherwise return LGW_OK and complete the request exactly once, later,
 *      with lgw_request_done() (a reply code and optional message), after
 *      adding any output with lgw_request_add_output().
 *
 * A real driver completes when the device acknowledges. The sim applies the
 * request at once, then queues the reply; ONE instance-wide one-shot timer
 * (`latency_ms` after the first queued reply) completes every queued request
 * and reports the new state back, the way a device confirms a command.
 * Requests still queued at stop are completed then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_model.h"

/** A request whose outcome is known, waiting for the reply timer. */
struct sim_reply {
    struct sim_reply *next;
    lgw_request_t *req;
    int code;                 /**< LGW_REPLY_* */
    struct sim_group *group;  /**< when set: report device `index` back on success */
    size_t index;
    char msg[112];            /**< message for errors ("" = none) */
};

/* Completes every queued reply; reports state back only while running. */
static void replies_complete(struct sim *sim)
{
    struct sim_reply *r = sim->replies;
    sim->replies = sim->replies_tail = NULL;
    while (r) {
        struct sim_reply *next = r->next;
        lgw_request_done(r->req, r->code, r->msg[0] ? r->msg : NULL);
        if (sim->running && r->group && r->code == LGW_REPLY_SUCCESS) {
            struct sim_device *d = &r->group->devs[r->index];
            if (d->flags & SIM_DEV_ONLINE)
                r->group->model->report(r->group, d, sim_group_id(r->group, r->index));
        }
        free(r);
        r = next;
    }
}

static void reply_tick(lgw_timer_t *timer, void *data)
{
    (void)timer;
    replies_complete(data);
}

/* Queues @p r and makes sure the reply timer will fire. */
static void reply_queue(struct sim *sim, struct sim_reply *r)
{
    bool idle = sim->replies == NULL;
    if (sim->replies_tail)
        sim->replies_tail->next = r;
    else
        sim->replies = r;
    sim->replies_tail = r;
    if (idle)
        lgw_timer_start(sim->reply_timer, (uint64_t)sim->conf.latency_ms, 0);
}

/*
 * Finds the device a request is for and allocates its reply. Returns LGW_OK,
 * or the negative code the request callback returns to fail it at once.
 */
static int request_begin(struct sim *sim, const char *device_id, struct sim_group **g, struct sim_device **d,
                         struct sim_reply **reply)
{
    if (!sim->running)
        return LGW_ESTATE;
    *d = sim_find(sim, device_id, g);
    if (!*d || !((*d)->flags & SIM_DEV_PRESENT))
        return LGW_ENOENT;
    if (!((*d)->flags & SIM_DEV_ONLINE))
        return LGW_EIO; /* it does not answer right now */
    *reply = calloc(1, sizeof **reply);
    return *reply ? LGW_OK : LGW_ENOMEM;
}

int sim_write(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *values)
{
    struct sim *sim = data;
    struct sim_group *g;
    struct sim_device *d;
    struct sim_reply *r;
    int rc = request_begin(sim, device_id, &g, &d, &r);
    if (rc != LGW_OK)
        return rc;

    r->req = req;
    if (g->model->write) {
        r->code = g->model->write(g, d, values, r->msg, sizeof r->msg);
    } else {
        r->code = LGW_REPLY_PARAM_ERROR;
        snprintf(r->msg, sizeof r->msg, "%s has no writable property", g->model->name);
    }
    r->group = g;
    r->index = (size_t)(d - g->devs);
    reply_queue(sim, r);
    return LGW_OK;
}

int sim_read(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *names)
{
    struct sim *sim = data;
    struct sim_group *g;
    struct sim_device *d;
    struct sim_reply *r;
    int rc = request_begin(sim, device_id, &g, &d, &r);
    if (rc != LGW_OK)
        return rc;

    r->req = req;
    r->code = LGW_REPLY_SUCCESS;
    for (size_t i = 0; i < lgw_value_count(names); i++) {
        const char *name = NULL;
        lgw_value_t *v = NULL;
        if (lgw_value_get_text(lgw_value_array_at(names, i), &name, NULL) == LGW_OK)
            v = g->model->read(g, d, name);
        if (!v) {
            r->code = LGW_REPLY_PARAM_ERROR;
            snprintf(r->msg, sizeof r->msg, "%s has no property '%s'", g->model->name, name ? name : "?");
            break;
        }
        lgw_request_add_output(req, name, v);
    }
    reply_queue(sim, r);
    return LGW_OK;
}

int sim_invoke(void *data, lgw_request_t *req, const char *device_id, const char *service,
               const lgw_value_t *input)
{
    struct sim *sim = data;
    struct sim_group *g;
    struct sim_device *d;
    struct sim_reply *r;
    int rc = request_begin(sim, device_id, &g, &d, &r);
    if (rc != LGW_OK)
        return rc;

    r->req = req;
    if (g->model->invoke) {
        r->code = g->model->invoke(g, d, req, service, input, r->msg, sizeof r->msg);
    } else {
        r->code = LGW_REPLY_PARAM_ERROR;
        snprintf(r->msg, sizeof r->msg, "%s has no service '%s'", g->model->name, service);
    }
    r->group = g; /* a service may change state (reset_energy): report it back */
    r->index = (size_t)(d - g->devs);
    reply_queue(sim, r);
    return LGW_OK;
}

/*
 * Removal forgets the device: it stops reporting and only a discovery scan
 * finds it again (like an unpaired Zigbee device that is re-paired). No
 * lgw_device_gone(): the host asked, so it already knows.
 */
int sim_remove(void *data, lgw_request_t *req, const char *device_id)
{
    struct sim *sim = data;
    struct sim_group *g;
    struct sim_device *d;
    if (!sim->running)
        return LGW_ESTATE;
    d = sim_find(sim, device_id, &g);
    if (!d || !(d->flags & SIM_DEV_PRESENT))
        return LGW_ENOENT;
    struct sim_reply *r = calloc(1, sizeof *r);
    if (!r)
        return LGW_ENOMEM;
    d->flags = 0;
    r->req = req;
    r->code = LGW_REPLY_SUCCESS;
    reply_queue(sim, r);
    lgw_log(sim->inst, LGW_LOG_INFO, "removed %s", device_id);
    return LGW_OK;
}

int sim_replies_init(struct sim *sim)
{
    if (sim->reply_timer)
        return LGW_OK; /* restarted instance */
    sim->reply_timer = lgw_timer_new(sim->inst, reply_tick, sim);
    return sim->reply_timer ? LGW_OK : LGW_ENOMEM;
}

void sim_replies_flush(struct sim *sim)
{
    if (sim->reply_timer)
        lgw_timer_stop(sim->reply_timer);
    replies_complete(sim);
}

void sim_replies_free(struct sim *sim)
{
    sim_replies_flush(sim);
    lgw_timer_free(sim->reply_timer);
    sim->reply_timer = NULL;
}
