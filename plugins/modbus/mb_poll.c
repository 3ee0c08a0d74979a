/*
 * Polling, offline detection, writes and services of the Modbus plugin.
 * Loop thread, except the *_work functions which run on the bus worker.
 *
 * Polling: one repeating timer per polling group of a model (mb_tick_t); on
 * each tick every device of that model gets its group's poll job submitted
 * to the bus worker, unless the previous one is still running (an overrun is
 * counted instead of queueing work without bound). The job runs the
 * precomputed coalesced requests; its `after` callback decodes the registers
 * and reports one batch per device and tick.
 *
 * Offline detection (per slave, never per bus): a poll whose requests got no
 * reply is a failure; max_failures consecutive failures take a device
 * offline. An offline device is only probed — one request, no earlier than
 * its backoff (probe_min_ms doubling up to probe_max_ms) — so a dead slave
 * costs the bus one response timeout per probe, not per tick. The first
 * answer (data or a Modbus exception: the slave is alive) brings it online.
 */
#define _GNU_SOURCE
#include "mb_plugin.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- devices ------------------------------------------------------------- */

static void job_free(mb_job_t *j)
{
    if (!j)
        return;
    free(j->blk_err);
    free(j->regs);
    free(j->bits);
    free(j->ops);
    free(j);
}

void mb_device_free(mb_device_t *d)
{
    if (!d)
        return;
    if (d->jobs)
        for (size_t g = 0; g < d->model->ngroups; g++)
            job_free(d->jobs[g]);
    free(d->jobs);
    free(d->id);
    free(d);
}

mb_device_t *mb_device_find(mb_inst_t *mi, const char *id)
{
    for (mb_device_t *d = mi->devices; d; d = d->next)
        if (strcmp(d->id, id) == 0)
            return d;
    return NULL;
}

int mb_device_attach(mb_inst_t *mi, mb_device_t *d)
{
    mb_model_t *m = d->model;
    d->jobs = calloc(m->ngroups, sizeof *d->jobs);
    if (!d->jobs)
        return LGW_ENOMEM;
    for (size_t g = 0; g < m->ngroups; g++) {
        const mb_group_t *grp = &m->groups[g];
        if (grp->nblocks == 0)
            continue;
        mb_job_t *j = calloc(1, sizeof *j);
        if (!j)
            return LGW_ENOMEM;
        d->jobs[g] = j;
        j->kind = MB_JOB_POLL;
        j->mi = mi;
        j->dev = d;
        j->group = (unsigned)g;
        j->blk_err = calloc(grp->nblocks, sizeof *j->blk_err);
        j->regs = calloc(grp->reg_total + 1, sizeof *j->regs);
        j->bits = calloc(grp->bit_total + 1, sizeof *j->bits);
        if (!j->blk_err || !j->regs || !j->bits)
            return LGW_ENOMEM;
    }
    d->state = MB_DEV_UNKNOWN;
    d->probe_backoff_ms = mi->probe_min_ms;
    return lgw_device_add(mi->inst, d->id, m->name);
}

/* Success or failure of one poll of @p d: the offline state machine. */
static void device_result(mb_inst_t *mi, mb_device_t *d, bool ok, int err)
{
    uint64_t now = lgw_monotonic_ms();
    if (ok) {
        d->fails = 0;
        d->probe_backoff_ms = mi->probe_min_ms;
        if (d->state != MB_DEV_ONLINE) {
            lgw_log(mi->inst, LGW_LOG_INFO, "device %s (unit %d) online", d->id, d->unit);
            d->state = MB_DEV_ONLINE;
            lgw_device_set_online(mi->inst, d->id, true);
        }
        return;
    }
    if (d->state == MB_DEV_OFFLINE) {
        /* a failed probe: back off further */
        d->next_probe_ms = now + d->probe_backoff_ms;
        d->probe_backoff_ms = d->probe_backoff_ms * 2 > mi->probe_max_ms ? mi->probe_max_ms : d->probe_backoff_ms * 2;
        return;
    }
    if (++d->fails >= mi->max_failures) {
        lgw_log(mi->inst, LGW_LOG_WARN, "device %s (unit %d) offline after %u failures (%s)", d->id, d->unit,
                d->fails, modbus_strerror(err));
        d->state = MB_DEV_OFFLINE;
        d->probe_backoff_ms = mi->probe_min_ms;
        d->next_probe_ms = now + d->probe_backoff_ms;
        lgw_device_set_online(mi->inst, d->id, false);
    }
}

/* ---- polling ------------------------------------------------------------- */

static void poll_work(void *data)
{
    mb_job_t *j = data;
    mb_bus_t *b = &j->mi->bus;
    const mb_group_t *g = &j->dev->model->groups[j->group];
    j->hard_err = 0;
    j->answered = false;
    for (size_t i = 0; i < g->nblocks; i++)
        j->blk_err[i] = ECANCELED;
    if (mb_bus_begin(b, j->dev->unit, j->dev->timeout_ms) != 0) {
        j->hard_err = errno ? errno : EIO;
        return;
    }
    j->t_ms = lgw_time_ms();
    size_t nb = j->probe ? 1 : g->nblocks;
    for (size_t i = 0; i < nb; i++) {
        const mb_block_t *blk = &g->blocks[i];
        int e = mb_bus_read_block(b, blk, j->regs + g->block_off[i], j->bits + g->block_off[i]);
        j->blk_err[i] = e;
        if (e == 0 || mb_err_is_exception(e)) {
            j->answered = true;
            continue;
        }
        /* no answer: do not spend more timeouts on this slave this cycle */
        j->hard_err = e;
        mb_bus_failed(b, e);
        break;
    }
}

/* Decodes point @p p from its block's buffer and adds it to @p r. */
static void report_point(mb_inst_t *mi, lgw_report_t *r, const mb_point_t *p, const uint16_t *regs,
                         const uint8_t *bits)
{
    mb_num_t num;
    switch (p->type) {
    case MB_T_BOOL: lgw_report_add_bool(r, p->name, bits[0] != 0); return;
    case MB_T_BIT: lgw_report_add_bool(r, p->name, mb_get_bit(regs[0], p->bit)); return;
    case MB_T_STRING: {
        char s[2 * MB_MAX_REGS + 1];
        mb_decode_string(p->order, regs, p->regs, s);
        lgw_report_add_text(r, p->name, s);
        return;
    }
    default: break;
    }
    mb_decode_num(p->type, p->order, regs, &num);
    if (p->out_type == LGW_TYPE_INT) {
        if (num.kind == MB_NUM_UINT) {
            if (num.u > (uint64_t)INT64_MAX) {
                lgw_log(mi->inst, LGW_LOG_DEBUG, "%s: %llu does not fit a signed 64-bit value; skipped", p->name,
                        (unsigned long long)num.u);
                return;
            }
            lgw_report_add_int(r, p->name, (int64_t)num.u);
        } else {
            lgw_report_add_int(r, p->name, num.i);
        }
        return;
    }
    double v = num.kind == MB_NUM_FLOAT ? num.f : num.kind == MB_NUM_INT ? (double)num.i : (double)num.u;
    v = v * p->scale + p->offset;
    if (p->out_type == LGW_TYPE_FLOAT)
        lgw_report_add_float(r, p->name, (float)v);
    else
        lgw_report_add_double(r, p->name, v);
}

static void poll_after(void *data, int status)
{
    mb_job_t *j = data;
    mb_device_t *d = j->dev;
    mb_inst_t *mi = j->mi;
    j->busy = false;
    d->refs--;
    if (d->removed) {
        if (d->refs == 0)
            mb_device_free(d);
        return;
    }
    if (status != LGW_OK || !mi->running)
        return;
    const mb_model_t *m = d->model;
    const mb_group_t *g = &m->groups[j->group];
    lgw_report_t *r = NULL;
    for (size_t i = 0; i < g->nblocks; i++) {
        const mb_block_t *blk = &g->blocks[i];
        int e = j->blk_err[i];
        if (e != 0) {
            if (mb_err_is_exception(e) && !j->exc_logged) {
                j->exc_logged = true;
                lgw_log(mi->inst, LGW_LOG_WARN, "device %s: %s %u..%u: %s (check the register map)", d->id,
                        mb_table_names[blk->table], blk->address, blk->address + blk->count - 1,
                        modbus_strerror(e));
            }
            continue;
        }
        if (!r) {
            r = lgw_report_new(mi->inst, d->id);
            if (!r)
                break;
            lgw_report_set_time(r, j->t_ms);
        }
        for (uint32_t k = blk->first; k < blk->first + blk->n; k++) {
            const mb_span_t *s = &g->spans[k];
            uint32_t rel = (uint32_t)(s->address - blk->address) + g->block_off[i];
            report_point(mi, r, &m->points[s->point], j->regs + rel, j->bits + rel);
        }
    }
    if (r)
        lgw_report_commit(r);
    device_result(mi, d, j->hard_err == 0 && j->answered, j->hard_err);
}

static void tick_cb(lgw_timer_t *timer, void *data)
{
    (void)timer;
    mb_tick_t *tk = data;
    mb_inst_t *mi = tk->mi;
    uint64_t now = lgw_monotonic_ms();
    for (mb_device_t *d = mi->devices; d; d = d->next) {
        if (d->model != tk->model || d->removed || !d->jobs)
            continue;
        mb_job_t *j = d->jobs[tk->group];
        if (!j)
            continue;
        if (j->busy) {
            mi->overruns++;
            continue;
        }
        if (d->state == MB_DEV_OFFLINE) {
            if (now < d->next_probe_ms)
                continue;
            j->probe = true;
            d->next_probe_ms = UINT64_MAX; /* until this probe's result */
        } else {
            j->probe = false;
        }
        if (lgw_worker_submit(mi->worker, poll_work, poll_after, j) == LGW_OK) {
            j->busy = true;
            d->refs++;
        }
    }
}

int mb_poll_start(mb_inst_t *mi)
{
    unsigned n = 0;
    for (size_t i = 0; i < mi->nmodels; i++) {
        mb_model_t *m = &mi->models[i];
        for (unsigned g = 0; g < m->ngroups; g++) {
            if (m->groups[g].nblocks == 0)
                continue;
            mb_tick_t *tk = calloc(1, sizeof *tk);
            if (!tk)
                return LGW_ENOMEM;
            tk->mi = mi;
            tk->model = m;
            tk->group = g;
            m->groups[g].tick = tk;
            tk->timer = lgw_timer_new(mi->inst, tick_cb, tk);
            if (!tk->timer)
                return LGW_ENOMEM;
            /* stagger the first polls a little so groups do not all fire at once */
            lgw_timer_start(tk->timer, 1 + (n++ % 50), m->groups[g].interval_ms);
        }
    }
    return LGW_OK;
}

void mb_poll_stop(mb_inst_t *mi)
{
    for (size_t i = 0; i < mi->nmodels; i++) {
        mb_model_t *m = &mi->models[i];
        for (unsigned g = 0; g < m->ngroups; g++) {
            mb_tick_t *tk = m->groups[g].tick;
            if (!tk)
                continue;
            lgw_timer_free(tk->timer);
            free(tk);
            m->groups[g].tick = NULL;
        }
    }
}

/* ---- writes and services --------------------------------------------------- */

/* Device error codes (LGW_REPLY_DEVICE_MIN + …) for failed writes. */
#define MB_REPLY_TIMEOUT (LGW_REPLY_DEVICE_MIN + 100)
#define MB_REPLY_IO (LGW_REPLY_DEVICE_MIN + 101)

/*
 * Converts @p v for point @p p into a write operation (inverse scale/offset,
 * byte/word order). Returns 0, or -1 with a reason in @p msg.
 */
static int value_to_op(const mb_model_t *m, const mb_point_t *p, const lgw_value_t *v, mb_wop_t *op,
                       char *msg, size_t cap)
{
    memset(op, 0, sizeof *op);
    op->table = (uint8_t)p->table;
    op->address = p->address;
    op->n = p->regs;
    op->multiple = m->write_multiple;
    if (!p->writable) {
        snprintf(msg, cap, "point '%s' is read-only", p->name);
        return -1;
    }
    int64_t iv;
    double dv;
    int rc;
    switch (p->type) {
    case MB_T_BOOL:
    case MB_T_BIT:
        if (lgw_value_get_int(v, &iv) != LGW_OK || (iv != 0 && iv != 1)) {
            snprintf(msg, cap, "point '%s' needs a bool", p->name);
            return -1;
        }
        op->on = iv != 0;
        op->bit_rmw = p->type == MB_T_BIT;
        op->bit = p->bit;
        op->n = 1;
        return 0;
    case MB_T_STRING: {
        const char *s;
        if (lgw_value_get_text(v, &s, NULL) != LGW_OK) {
            snprintf(msg, cap, "point '%s' needs text", p->name);
            return -1;
        }
        if (mb_encode_string(p->order, s, p->regs, op->regs) != 0) {
            snprintf(msg, cap, "text for '%s' longer than %u characters", p->name, 2u * p->regs);
            return -1;
        }
        op->multiple = true;
        return 0;
    }
    default: break;
    }
    if (!p->scaled && p->type != MB_T_FLOAT32 && p->type != MB_T_FLOAT64 &&
        lgw_value_get_int(v, &iv) == LGW_OK) {
        rc = mb_encode_int(p->type, p->order, iv, op->regs);
    } else if (lgw_value_get_double(v, &dv) == LGW_OK) {
        rc = mb_encode_double(p->type, p->order, (dv - p->offset) / p->scale, op->regs);
    } else {
        snprintf(msg, cap, "point '%s' needs a number", p->name);
        return -1;
    }
    if (rc != 0) {
        snprintf(msg, cap, "value for '%s' is out of range for %s", p->name, mb_type_names[p->type]);
        return -1;
    }
    if (op->n > 1)
        op->multiple = true;
    return 0;
}

static void write_work(void *data)
{
    mb_job_t *j = data;
    mb_bus_t *b = &j->mi->bus;
    j->err = 0;
    if (mb_bus_begin(b, j->dev->unit, j->dev->timeout_ms) != 0) {
        j->err = errno ? errno : EIO;
        return;
    }
    for (size_t i = 0; i < j->nops; i++) {
        int e = mb_bus_write(b, &j->ops[i]);
        if (e) {
            j->err = e;
            mb_bus_failed(b, e);
            return;
        }
    }
}

static void write_after(void *data, int status)
{
    mb_job_t *j = data;
    mb_device_t *d = j->dev;
    d->refs--;
    if (status != LGW_OK) {
        lgw_request_done(j->req, MB_REPLY_IO, "cancelled: the instance is stopping");
    } else if (j->err == 0) {
        lgw_request_done(j->req, LGW_REPLY_SUCCESS, NULL);
    } else {
        char msg[160];
        int code = mb_err_is_exception(j->err) ? LGW_REPLY_DEVICE_MIN + (j->err - MODBUS_ENOBASE)
                   : j->err == ETIMEDOUT       ? MB_REPLY_TIMEOUT
                                               : MB_REPLY_IO;
        snprintf(msg, sizeof msg, "write to %s (unit %d) failed: %s", d->id, d->unit, modbus_strerror(j->err));
        lgw_log(j->mi->inst, LGW_LOG_WARN, "%s", msg);
        lgw_request_done(j->req, code, msg);
    }
    if (d->removed && d->refs == 0)
        mb_device_free(d);
    job_free(j);
}

/* Queues @p j (ops filled) or completes the request with an error. */
static int submit_write(mb_inst_t *mi, mb_job_t *j)
{
    j->kind = MB_JOB_WRITE;
    j->mi = mi;
    if (!mi->running || lgw_worker_submit(mi->worker, write_work, write_after, j) != LGW_OK) {
        lgw_request_done(j->req, LGW_REPLY_TOO_MANY, "bus not running");
        job_free(j);
        return LGW_OK;
    }
    j->dev->refs++;
    return LGW_OK;
}

static mb_job_t *new_write_job(mb_device_t *d, lgw_request_t *req, size_t nops)
{
    mb_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->ops = calloc(nops ? nops : 1, sizeof *j->ops);
    if (!j->ops) {
        free(j);
        return NULL;
    }
    j->dev = d;
    j->req = req;
    return j;
}

int mb_write(void *data, lgw_request_t *req, const char *device_id, const lgw_value_t *values)
{
    mb_inst_t *mi = data;
    mb_device_t *d = mb_device_find(mi, device_id);
    if (!d)
        return LGW_ENOENT;
    size_t n = lgw_value_count(values);
    mb_job_t *j = new_write_job(d, req, n);
    if (!j)
        return LGW_ENOMEM;
    char msg[160];
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL;
        const lgw_value_t *v = lgw_value_struct_at(values, i, &name);
        int pi = name ? mb_point_find(d->model, name) : -1;
        if (pi < 0) {
            snprintf(msg, sizeof msg, "device %s has no point '%s'", d->id, name ? name : "?");
            goto bad;
        }
        if (value_to_op(d->model, &d->model->points[pi], v, &j->ops[j->nops], msg, sizeof msg) != 0)
            goto bad;
        j->nops++;
    }
    return submit_write(mi, j);
bad:
    lgw_request_done(req, LGW_REPLY_PARAM_ERROR, msg);
    job_free(j);
    return LGW_OK;
}

int mb_invoke(void *data, lgw_request_t *req, const char *device_id, const char *service,
              const lgw_value_t *input)
{
    mb_inst_t *mi = data;
    mb_device_t *d = mb_device_find(mi, device_id);
    if (!d)
        return LGW_ENOENT;
    const mb_service_t *s = NULL;
    for (size_t i = 0; i < d->model->nservices; i++)
        if (strcmp(d->model->services[i].name, service) == 0)
            s = &d->model->services[i];
    if (!s)
        return LGW_ENOENT;
    mb_job_t *j = new_write_job(d, req, s->nsteps);
    if (!j)
        return LGW_ENOMEM;
    char msg[160];
    for (size_t i = 0; i < s->nsteps; i++) {
        const mb_step_t *st = &s->steps[i];
        const lgw_value_t *v = st->value;
        if (st->arg) {
            v = lgw_value_struct_get(input, st->arg);
            if (!v) {
                snprintf(msg, sizeof msg, "service %s needs input '%s'", service, st->arg);
                goto bad;
            }
        }
        if (value_to_op(d->model, &d->model->points[st->point], v, &j->ops[j->nops], msg, sizeof msg) != 0)
            goto bad;
        j->nops++;
    }
    return submit_write(mi, j);
bad:
    lgw_request_done(req, LGW_REPLY_PARAM_ERROR, msg);
    job_free(j);
    return LGW_OK;
}

int mb_remove(void *data, lgw_request_t *req, const char *device_id)
{
    mb_inst_t *mi = data;
    for (mb_device_t **pp = &mi->devices; *pp; pp = &(*pp)->next) {
        mb_device_t *d = *pp;
        if (strcmp(d->id, device_id) != 0)
            continue;
        *pp = d->next;
        d->removed = true;
        lgw_log(mi->inst, LGW_LOG_INFO, "device %s (unit %d) removed; no longer polled", d->id, d->unit);
        if (d->refs == 0)
            mb_device_free(d);
        lgw_request_done(req, LGW_REPLY_SUCCESS, NULL);
        return LGW_OK;
    }
    return LGW_ENOENT;
}
