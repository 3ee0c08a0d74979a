/*
 * Running blocking work off the loop (host.h): the shared pool
 * (uv_queue_work) and dedicated serial workers.
 *
 * Pool jobs are tracked per instance: stopping an instance cancels the jobs
 * that have not started (their `after` gets LGW_ECANCELED) and waits for the
 * running ones before the plugin's destroy is called.
 *
 * A worker is one pthread with a FIFO of jobs under a mutex. Finished jobs go
 * to a "done" FIFO and a uv_async wakes the loop, which runs their `after`
 * callbacks in submission order.
 */
#include "instance.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* ---- shared pool ------------------------------------------------------- */

typedef struct pool_job {
    uv_work_t req;
    lgw_instance_t *inst;
    lgw_work_fn work;
    lgw_after_fn after;
    void *data;
    gw_list_t link; /* in inst->jobs */
} pool_job_t;

static void pool_work(uv_work_t *req)
{
    pool_job_t *j = req->data;
    j->work(j->data);
}

static void pool_after(uv_work_t *req, int status)
{
    pool_job_t *j = req->data;
    lgw_instance_t *inst = j->inst;
    gw_list_remove(&j->link);
    if (j->after)
        j->after(j->data, status == UV_ECANCELED ? LGW_ECANCELED : LGW_OK);
    free(j);
    gw_instance_job_finished(inst);
}

LGW_HOST_API int lgw_work_submit(lgw_instance_t *inst, lgw_work_fn work, lgw_after_fn after, void *data)
{
    if (!inst || !work)
        return LGW_EINVAL;
    if (!gw_host_check_loop(inst->host, __func__))
        return LGW_ESTATE;
    if (!gw_instance_accepts(inst))
        return LGW_ESTATE;
    pool_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return LGW_ENOMEM;
    j->req.data = j;
    j->inst = inst;
    j->work = work;
    j->after = after;
    j->data = data;
    if (uv_queue_work(inst->host->loop, &j->req, pool_work, pool_after) != 0) {
        free(j);
        return LGW_EIO;
    }
    gw_list_push_back(&inst->jobs, &j->link);
    inst->njobs++;
    return LGW_OK;
}

void gw_jobs_cancel_all(lgw_instance_t *inst)
{
    gw_list_foreach_safe(node, tmp, &inst->jobs)
        uv_cancel((uv_req_t *)&gw_container_of(node, pool_job_t, link)->req);
}

/* ---- dedicated workers ------------------------------------------------- */

typedef struct wjob {
    struct wjob *next;
    lgw_work_fn work;
    lgw_after_fn after;
    void *data;
} wjob_t;

typedef struct wqueue {
    wjob_t *head, *tail;
} wqueue_t;

static void wq_push(wqueue_t *q, wjob_t *j)
{
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
}

static wjob_t *wq_take_all(wqueue_t *q)
{
    wjob_t *j = q->head;
    q->head = q->tail = NULL;
    return j;
}

struct lgw_worker {
    lgw_instance_t *inst;
    char name[32];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wqueue_t todo, done;   /* under mu */
    bool quit;             /* under mu */
    size_t pending;        /* loop thread: submitted, after not yet run */
    uv_async_t async;
    gw_list_t link;        /* in inst->workers */
};

static void *worker_main(void *arg)
{
    lgw_worker_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->todo.head && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->quit)
            break;
        wjob_t *j = w->todo.head;
        w->todo.head = j->next;
        if (!w->todo.head)
            w->todo.tail = NULL;
        pthread_mutex_unlock(&w->mu);
        j->work(j->data);
        pthread_mutex_lock(&w->mu);
        wq_push(&w->done, j);
        uv_async_send(&w->async);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Runs the `after` of every job in list @p j with @p status and frees them. */
static void run_afters(lgw_worker_t *w, wjob_t *j, int status)
{
    while (j) {
        wjob_t *next = j->next;
        w->pending--;
        if (j->after)
            j->after(j->data, status);
        free(j);
        j = next;
    }
}

static void worker_async(uv_async_t *a)
{
    lgw_worker_t *w = a->data;
    pthread_mutex_lock(&w->mu);
    wjob_t *done = wq_take_all(&w->done);
    pthread_mutex_unlock(&w->mu);
    run_afters(w, done, LGW_OK);
}

static void worker_closed(uv_handle_t *h) { free(h->data); }

LGW_HOST_API lgw_worker_t *lgw_worker_new(lgw_instance_t *inst, const char *name)
{
    if (!inst || !gw_host_check_loop(inst->host, __func__))
        return NULL;
    lgw_worker_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->inst = inst;
    snprintf(w->name, sizeof w->name, "%s", name ? name : "worker");
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (uv_async_init(inst->host->loop, &w->async, worker_async) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    w->async.data = w;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        GW_ERROR(inst->log_comp, "cannot start worker thread '%s'", w->name);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        uv_close((uv_handle_t *)&w->async, worker_closed);
        return NULL;
    }
    char tname[16]; /* the kernel's limit, NUL included */
    memcpy(tname, w->name, sizeof tname - 1);
    tname[sizeof tname - 1] = '\0';
    pthread_setname_np(w->thread, tname);
    gw_list_push_back(&inst->workers, &w->link);
    return w;
}

LGW_HOST_API int lgw_worker_submit(lgw_worker_t *w, lgw_work_fn work, lgw_after_fn after, void *data)
{
    if (!w || !work)
        return LGW_EINVAL;
    if (!gw_host_check_loop(w->inst->host, __func__))
        return LGW_ESTATE;
    wjob_t *j = calloc(1, sizeof *j);
    if (!j)
        return LGW_ENOMEM;
    j->work = work;
    j->after = after;
    j->data = data;
    pthread_mutex_lock(&w->mu);
    wq_push(&w->todo, j);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    w->pending++;
    return LGW_OK;
}

LGW_HOST_API size_t lgw_worker_pending(const lgw_worker_t *w) { return w ? w->pending : 0; }

LGW_HOST_API void lgw_worker_free(lgw_worker_t *w)
{
    if (!w || !gw_host_check_loop(w->inst->host, __func__))
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    wjob_t *cancelled = wq_take_all(&w->todo);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);   /* waits for the running job */
    run_afters(w, wq_take_all(&w->done), LGW_OK);
    run_afters(w, cancelled, LGW_ECANCELED);
    gw_list_remove(&w->link);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    uv_close((uv_handle_t *)&w->async, worker_closed);
}

void gw_workers_free_all(lgw_instance_t *inst)
{
    size_t n = 0;
    gw_list_foreach_safe(node, tmp, &inst->workers) {
        lgw_worker_free(gw_container_of(node, lgw_worker_t, link));
        n++;
    }
    if (n)
        GW_WARN(inst->log_comp, "%zu worker(s) not freed by the plugin; freed by the host", n);
}
