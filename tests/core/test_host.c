/*
 * Host services offered to plugins: timers, fd watches, the shared pool,
 * dedicated workers (order, cancellation), reports from a plugin-owned
 * thread, and late reports after stop.
 */
#include "harness.h"

#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <unistd.h>

/* ---- timers ---------------------------------------------------------------- */

typedef struct tctx {
    int fired;
    int stop_after;
    lgw_timer_t *t;
} tctx_t;

static void on_timer(lgw_timer_t *t, void *data)
{
    tctx_t *c = data;
    c->fired++;
    if (c->fired == c->stop_after) {
        lgw_timer_free(t); /* freeing inside its own callback */
        c->t = NULL;
    }
}

static bool timer_done(void *arg) { return ((tctx_t *)arg)->t == NULL; }
static bool fired_once(void *arg) { return ((tctx_t *)arg)->fired >= 1; }

static void test_timers(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&t, "t", "test_good", "", &errs);
    assert_non_null(inst);

    tctx_t rep = {0, 5, NULL};
    rep.t = lgw_timer_new(inst, on_timer, &rep);
    assert_int_equal(lgw_timer_start(rep.t, 1, 2), LGW_OK);
    th_run_until(&t, timer_done, &rep);
    assert_int_equal(rep.fired, 5);

    tctx_t one = {0, 0, NULL};
    one.t = lgw_timer_new(inst, on_timer, &one);
    lgw_timer_start(one.t, 1, 0);
    th_run_until(&t, fired_once, &one);
    th_run_for(&t, 20);
    assert_int_equal(one.fired, 1); /* one-shot */
    lgw_timer_start(one.t, 1, 0);   /* restartable */
    lgw_timer_stop(one.t);
    th_run_for(&t, 20);
    assert_int_equal(one.fired, 1); /* stopped before expiry */
    /* one.t left for the host to free at destroy (warned) */
    gw_instance_destroy(inst);
    gw_errors_free(&errs);
    th_close(&t);
}

/* ---- watches --------------------------------------------------------------- */

typedef struct wctx {
    int fd;
    int events;
    char got[16];
} wctx_t;

static void on_watch(lgw_watch_t *w, int fd, int events, void *data)
{
    wctx_t *c = data;
    c->events |= events;
    if (events & LGW_WATCH_READ) {
        ssize_t n = read(fd, c->got, sizeof c->got - 1);
        if (n > 0)
            c->got[n] = '\0';
        lgw_watch_free(w);
    }
}

static bool got_data(void *arg) { return ((wctx_t *)arg)->got[0] != '\0'; }

static void test_watch(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&t, "w", "test_good", "", &errs);
    int p[2];
    assert_int_equal(pipe(p), 0);
    wctx_t c = {p[0], 0, {0}};
    lgw_watch_t *w = lgw_watch_new(inst, p[0], on_watch, &c);
    assert_non_null(w);
    assert_int_equal(lgw_watch_start(w, LGW_WATCH_READ), LGW_OK);
    assert_int_equal(write(p[1], "hello", 5), 5);
    th_run_until(&t, got_data, &c);
    assert_string_equal(c.got, "hello");
    assert_true(c.events & LGW_WATCH_READ);
    close(p[0]);
    close(p[1]);
    gw_instance_destroy(inst);
    gw_errors_free(&errs);
    th_close(&t);
}

/* ---- pool and workers --------------------------------------------------------- */

#define NJOBS 50

typedef struct jobs {
    pthread_mutex_t mu;
    int ran[NJOBS * 2];
    int nran;
    int after_status[NJOBS];
    int nafter;
    int after_order[NJOBS];
    pthread_t worker_thread[NJOBS];
} jobs_t;

typedef struct job {
    jobs_t *j;
    int idx;
    sem_t *started, *release;
} job_t;

static void job_work(void *data)
{
    job_t *jb = data;
    if (jb->started) {
        sem_post(jb->started);
        sem_wait(jb->release);
    }
    pthread_mutex_lock(&jb->j->mu);
    jb->j->ran[jb->j->nran++] = jb->idx;
    jb->j->worker_thread[jb->idx] = pthread_self();
    pthread_mutex_unlock(&jb->j->mu);
}

static void job_after(void *data, int status)
{
    job_t *jb = data;
    jb->j->after_status[jb->idx] = status;
    jb->j->after_order[jb->j->nafter++] = jb->idx;
}

static bool all_after(void *arg) { return ((jobs_t *)arg)->nafter == NJOBS; }

static void test_pool(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&t, "p", "test_good", "", &errs);
    static jobs_t j;
    memset(&j, 0, sizeof j);
    pthread_mutex_init(&j.mu, NULL);
    static job_t jb[NJOBS];
    for (int i = 0; i < NJOBS; i++) {
        jb[i] = (job_t){&j, i, NULL, NULL};
        for (int k = 0; k < NJOBS; k++)
            j.after_status[k] = 99;
        assert_int_equal(lgw_work_submit(inst, job_work, job_after, &jb[i]), LGW_OK);
    }
    th_run_until(&t, all_after, &j);
    assert_int_equal(j.nran, NJOBS);
    for (int i = 0; i < NJOBS; i++)
        assert_int_equal(j.after_status[i], LGW_OK);
    gw_instance_destroy(inst);
    gw_errors_free(&errs);
    th_close(&t);
}

static void test_worker_order(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&t, "wo", "test_good", "", &errs);
    static jobs_t j;
    memset(&j, 0, sizeof j);
    pthread_mutex_init(&j.mu, NULL);
    static job_t jb[NJOBS];
    lgw_worker_t *w = lgw_worker_new(inst, "test-serial-worker-name");
    assert_non_null(w);
    for (int i = 0; i < NJOBS; i++) {
        jb[i] = (job_t){&j, i, NULL, NULL};
        assert_int_equal(lgw_worker_submit(w, job_work, job_after, &jb[i]), LGW_OK);
    }
    assert_true(lgw_worker_pending(w) > 0);
    th_run_until(&t, all_after, &j);
    assert_int_equal(lgw_worker_pending(w), 0);
    for (int i = 0; i < NJOBS; i++) {
        assert_int_equal(j.ran[i], i);          /* ran in submission order */
        assert_int_equal(j.after_order[i], i);  /* afters in the same order */
        assert_int_equal(j.after_status[i], LGW_OK);
        assert_true(pthread_equal(j.worker_thread[i], j.worker_thread[0])); /* one thread */
    }
    lgw_worker_free(w);
    gw_instance_destroy(inst);
    gw_errors_free(&errs);
    th_close(&t);
}

static void *release_later(void *arg)
{
    usleep(100 * 1000);
    sem_post(arg);
    return NULL;
}

static void test_worker_cancel(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&t, "wc", "test_good", "", &errs);
    static jobs_t j;
    memset(&j, 0, sizeof j);
    pthread_mutex_init(&j.mu, NULL);
    static job_t jb[NJOBS];
    sem_t started, release;
    sem_init(&started, 0, 0);
    sem_init(&release, 0, 0);
    lgw_worker_t *w = lgw_worker_new(inst, "cancel");
    jb[0] = (job_t){&j, 0, &started, &release};
    lgw_worker_submit(w, job_work, job_after, &jb[0]);
    sem_wait(&started); /* job 0 is running and blocked */
    for (int i = 1; i < NJOBS; i++) {
        jb[i] = (job_t){&j, i, NULL, NULL};
        lgw_worker_submit(w, job_work, job_after, &jb[i]);
    }
    pthread_t th;
    pthread_create(&th, NULL, release_later, &release);
    lgw_worker_free(w); /* waits for job 0, cancels the queued ones; every after ran before it returns */
    pthread_join(th, NULL);
    assert_int_equal(j.nafter, NJOBS);
    assert_int_equal(j.after_status[0], LGW_OK);
    /* jobs that ran form a prefix (in order), the rest were cancelled */
    int k = 0;
    while (k < NJOBS && j.after_status[k] == LGW_OK)
        k++;
    for (int i = k; i < NJOBS; i++)
        assert_int_equal(j.after_status[i], LGW_ECANCELED);
    assert_int_equal(j.nran, k);
    print_message("worker free: %d job(s) ran, %d cancelled\n", k, NJOBS - k);
    sem_destroy(&started);
    sem_destroy(&release);
    gw_instance_destroy(inst);
    gw_errors_free(&errs);
    th_close(&t);
}

/* ---- reports from a plugin-owned thread ------------------------------------------ */

static bool thread_done(void *arg) { return ((rec_t *)arg)->offline >= 1; }
static bool thread_done_or_online(void *arg) { return ((rec_t *)arg)->online >= 2; }

static void test_thread_reports(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    rec_t rec;
    rec_init(&rec);
    gw_hub_set_consumer(t.host.hub, &rec_consumer, &rec);
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&t, "thr", "test_good", "thread_reports = 5000;", &errs);
    assert_non_null(inst);
    assert_int_equal(gw_instance_start(inst), LGW_OK);
    th_run_until(&t, thread_done, &rec); /* the thread ends with an offline report */
    assert_int_equal(rec.props, 5000);
    assert_int_equal(rec.values, 10000);
    assert_int_equal(rec.last_seq, 5000);
    assert_true(rec.seq_in_order);
    const gw_hub_device_t *dev = gw_hub_find(t.host.hub, "thr", "dev0");
    assert_non_null(dev);
    int64_t seq;
    assert_int_equal(lgw_value_get_int(gw_hub_value(dev, "seq"), &seq), LGW_OK);
    assert_int_equal(seq, 5000);
    const char *note;
    assert_int_equal(lgw_value_get_text(gw_hub_value(dev, "note"), &note, NULL), LGW_OK);
    assert_string_equal(note, "from a thread");

    /* a report still held by the plugin when the instance stops is refused */
    gw_instance_ref(inst);
    lgw_report_t *late = lgw_report_new(inst, "dev0");
    assert_non_null(late);
    lgw_report_add_int(late, "seq", 1);
    gw_instance_stop(inst, NULL, NULL);
    assert_int_equal(lgw_report_commit(late), LGW_ESTATE);
    assert_null(lgw_report_new(inst, "dev0"));
    assert_int_equal(lgw_device_set_online(inst, "dev0", true), LGW_ESTATE);
    gw_instance_unref(inst);
    assert_int_equal(rec.props, 5000);

    /* a full queue refuses reports (LGW_EBUSY) instead of growing without bound */
    inst = th_create(&t, "full", "test_good", "devices = 1;", &errs);
    assert_int_equal(gw_instance_start(inst), LGW_OK);
    th_run_until(&t, thread_done_or_online, &rec);
    t.host.xq_report_limit = 10;
    int ok = 0, busy = 0;
    for (int i = 0; i < 25; i++) {
        lgw_report_t *r = lgw_report_new(inst, "dev0");
        lgw_report_add_int(r, "seq", 5001 + i);
        int rc = lgw_report_commit(r);
        ok += rc == LGW_OK;
        busy += rc == LGW_EBUSY;
    }
    assert_int_equal(ok, 10);
    assert_int_equal(busy, 15);
    gw_xq_drain(&t.host);
    assert_int_equal(rec.props, 5010);
    lgw_report_t *r = lgw_report_new(inst, "dev0"); /* room again */
    lgw_report_add_int(r, "seq", 5011);
    assert_int_equal(lgw_report_commit(r), LGW_OK);
    gw_instance_stop(inst, NULL, NULL);
    assert_int_equal(rec.props, 5011);
    gw_errors_free(&errs);
    th_close(&t);
}

static void test_report_values(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&t, "rv", "test_good", "", &errs);
    /* Many values and long texts overflow the inline arena; ASan checks the memory. */
    lgw_report_t *r = lgw_report_new(inst, "dev0");
    char name[32], text[300];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(lgw_report_add_text(r, name, text), LGW_OK);
    }
    lgw_value_t *s = lgw_value_new_struct();
    lgw_value_struct_set(s, "a", lgw_value_new_int(1));
    assert_int_equal(lgw_report_add_value(r, "st", s), LGW_OK);
    assert_int_equal(lgw_report_add_value(r, "tx", lgw_value_new_text("t")), LGW_OK);
    assert_int_equal(lgw_report_add_int(r, "", 1), LGW_EINVAL);
    lgw_report_set_time(r, 1234);
    lgw_report_discard(r);
    assert_null(lgw_report_new(inst, ""));
    assert_null(lgw_event_new(inst, "dev0", NULL));
    assert_int_equal(lgw_device_add(inst, "bad id", "m"), LGW_EINVAL);
    assert_int_equal(lgw_device_add(inst, "ok", NULL), LGW_EINVAL);
    gw_instance_destroy(inst);
    gw_errors_free(&errs);
    th_close(&t);
}

/* ---- loop-thread-only functions refuse other threads ------------------------- */

static void noop_timer(lgw_timer_t *t, void *d) { (void)t; (void)d; }
static void noop_work(void *d) { (void)d; }

static void *off_loop(void *arg)
{
    lgw_instance_t *inst = arg;
    static int results[4];
    results[0] = lgw_timer_new(inst, noop_timer, NULL) == NULL;
    results[1] = lgw_work_submit(inst, noop_work, NULL, NULL) == LGW_ESTATE;
    results[2] = lgw_worker_new(inst, "x") == NULL;
    results[3] = lgw_model_new(inst, "m") == NULL;
    return results;
}

static void test_loop_thread_guard(void **state)
{
    (void)state;
    th_t t;
    th_open(&t);
    gw_errors_t errs = {0};
    lgw_instance_t *inst = th_create(&t, "lt", "test_good", "", &errs);
    pthread_t th;
    void *res;
    pthread_create(&th, NULL, off_loop, inst);
    pthread_join(th, &res);
    for (int i = 0; i < 4; i++)
        assert_int_equal(((int *)res)[i], 1);
    assert_true(gw_list_empty(&inst->timers));
    gw_instance_destroy(inst);
    gw_errors_free(&errs);
    th_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_watch),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_worker_order),
        cmocka_unit_test(test_worker_cancel),
        cmocka_unit_test(test_thread_reports),
        cmocka_unit_test(test_report_values),
        cmocka_unit_test(test_loop_thread_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
