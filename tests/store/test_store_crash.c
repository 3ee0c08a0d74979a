/*
 * kill -9 consistency of gw_store.
 *
 * A child process runs a deterministic stream of operations on the store (topology adds, moves to
 * RemovedDevList, removed-list clears, topology removals, credential puts, batched journal
 * appends under a small byte budget, acks of the oldest entries). After operation i it records
 * "ops" = i in the kv table, in a separate transaction. The parent SIGKILLs it at a random moment,
 * reopens the store with the integrity check, and replays the same stream on an in-memory model:
 * the database must equal the model after exactly `ops` or `ops + 1` operations (the last one may
 * have committed before its counter) — never anything in between. Several rounds continue the
 * same database, cycling through synchronous=FULL, NORMAL, and FULL with journal_sync_normal; the
 * first round is killed during open.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/journal.h"
#include "test_util.h"

#define NDEV 24
#define BUDGET 6000
#define ROUNDS 8
#define PK "a1CrashPK"
#define STREAM_SEED 0x5eed1234abcdULL

/* ------------------------------------------------------------------ the operation stream */

static uint64_t mix(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + i * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

typedef enum { OP_TOPO_ADD, OP_MOVE_REMOVED, OP_REMOVED_DELETE, OP_TOPO_REMOVE, OP_CRED_PUT, OP_APPEND,
               OP_ACK } op_kind_t;

typedef struct {
    op_kind_t kind;
    int dev;     /* device index */
    int count;   /* journal entries to append / ack */
} op_t;

static op_t op_of(uint64_t i)
{
    uint64_t r = mix(STREAM_SEED, i);
    unsigned k = (unsigned)(r % 100);
    op_t op = {OP_ACK, (int)((r >> 8) % NDEV), 0};
    if (k < 30)
        op.kind = OP_TOPO_ADD;
    else if (k < 45)
        op.kind = OP_MOVE_REMOVED;
    else if (k < 55)
        op.kind = OP_REMOVED_DELETE;
    else if (k < 60)
        op.kind = OP_TOPO_REMOVE;
    else if (k < 65)
        op.kind = OP_CRED_PUT;
    else if (k < 90)
        op.kind = OP_APPEND, op.count = 1 + (int)((r >> 16) % 20);
    else
        op.kind = OP_ACK, op.count = 1 + (int)((r >> 24) % 15);
    return op;
}

static void dev_name(char *buf, size_t cap, int d) { snprintf(buf, cap, "dev%02d", d); }

static void secret_of(char *buf, size_t cap, const op_t *op, uint64_t i)
{
    snprintf(buf, cap, "%s%d-%" PRIu64, op->kind == OP_CRED_PUT ? "r" : "s", op->dev, i);
}

/** The j-th journal record of operation i (strings in @p dn / @p val). */
static gw_journal_rec_t rec_of(const op_t *op, uint64_t i, int j, char dn[16], char val[48])
{
    dev_name(dn, 16, (op->dev + j) % NDEV);
    snprintf(val, 48, "{\"v\":%" PRIu64 "}", i * 100 + (uint64_t)j);
    gw_journal_rec_t r = {PK, dn, (j % 3) ? GW_JOURNAL_PROPERTY : GW_JOURNAL_EVENT, "temp", val,
                          1700000000000LL + (int64_t)i};
    return r;
}

/* ------------------------------------------------------------------ the model */

typedef struct {
    bool topo, removed, cred;
    char secret[48];
} mdev_t;

typedef struct {
    uint64_t seq, size;
    char value[48];
} mentry_t;

typedef struct {
    mdev_t dev[NDEV];
    mentry_t *j;
    size_t head, tail, cap; /* live entries j[head..tail) */
    uint64_t next_seq, bytes, dropped, acked;
} model_t;

static void model_init(model_t *m)
{
    memset(m, 0, sizeof *m);
    m->next_seq = 1;
}

static void model_apply(model_t *m, uint64_t i)
{
    op_t op = op_of(i);
    mdev_t *d = &m->dev[op.dev];
    switch (op.kind) {
    case OP_TOPO_ADD:
        d->cred = d->topo = true;
        d->removed = false;
        secret_of(d->secret, sizeof d->secret, &op, i);
        break;
    case OP_MOVE_REMOVED:
        if (d->topo)
            d->topo = false, d->removed = true;
        break;
    case OP_REMOVED_DELETE:
        d->removed = false;
        break;
    case OP_TOPO_REMOVE:
        d->topo = false;
        break;
    case OP_CRED_PUT:
        d->cred = true;
        secret_of(d->secret, sizeof d->secret, &op, i);
        break;
    case OP_APPEND:
        for (int j = 0; j < op.count; j++) {
            char dn[16], val[48];
            gw_journal_rec_t r = rec_of(&op, i, j, dn, val);
            uint64_t size = gw_journal_entry_size(&r);
            if (m->bytes + size > BUDGET) {
                uint64_t need = m->bytes + size - BUDGET, freed = 0;
                while (freed < need && m->head < m->tail) {
                    freed += m->j[m->head].size;
                    m->bytes -= m->j[m->head].size;
                    m->head++;
                    m->dropped++;
                }
            }
            if (m->tail == m->cap) {
                m->cap = m->cap ? m->cap * 2 : 1024;
                m->j = realloc(m->j, m->cap * sizeof *m->j);
            }
            mentry_t *e = &m->j[m->tail++];
            e->seq = m->next_seq++;
            e->size = size;
            snprintf(e->value, sizeof e->value, "%s", val);
            m->bytes += size;
        }
        break;
    case OP_ACK:
        for (int k = 0; k < op.count && m->head < m->tail; k++) {
            m->bytes -= m->j[m->head].size;
            m->head++;
            m->acked++;
        }
        break;
    }
}

/* ------------------------------------------------------------------ the child */

/** Journal appends go through gw_journal_batch_begin (true) or gw_store_batch_begin (false). */
static bool journal_batches;

static int store_apply(gw_store_t *st, uint64_t i)
{
    op_t op = op_of(i);
    char dn[16], sec[48];
    dev_name(dn, sizeof dn, op.dev);
    int rc = GW_STORE_OK;
    switch (op.kind) {
    case OP_TOPO_ADD: {
        gw_topo_entry_t e;
        memset(&e, 0, sizeof e);
        snprintf(e.pk, sizeof e.pk, PK);
        snprintf(e.dn, sizeof e.dn, "%s", dn);
        snprintf(e.plugin, sizeof e.plugin, "sim1");
        snprintf(e.device_id, sizeof e.device_id, "id%02d", op.dev);
        snprintf(e.model, sizeof e.model, "thermo");
        secret_of(sec, sizeof sec, &op, i);
        rc = gw_store_topo_add(st, &e, sec, GW_CRED_REGISTERED);
        break;
    }
    case OP_MOVE_REMOVED:
        rc = gw_store_topo_move_to_removed(st, PK, dn);
        break;
    case OP_REMOVED_DELETE:
        rc = gw_store_removed_delete(st, PK, dn);
        break;
    case OP_TOPO_REMOVE:
        rc = gw_store_topo_remove(st, PK, dn);
        break;
    case OP_CRED_PUT:
        secret_of(sec, sizeof sec, &op, i);
        rc = gw_store_cred_put(st, PK, dn, sec, GW_CRED_REGISTERED);
        break;
    case OP_APPEND:
        if ((rc = (journal_batches ? gw_journal_batch_begin(st) : gw_store_batch_begin(st))) != GW_STORE_OK)
            return rc;
        for (int j = 0; j < op.count && rc == GW_STORE_OK; j++) {
            char jdn[16], val[48];
            gw_journal_rec_t r = rec_of(&op, i, j, jdn, val);
            rc = gw_journal_append(st, &r, NULL);
        }
        if (rc == GW_STORE_OK)
            rc = gw_store_batch_commit(st);
        break;
    case OP_ACK: {
        gw_journal_entry_t *e = NULL;
        size_t n = 0;
        rc = gw_journal_read(st, 0, (size_t)op.count, &e, &n);
        if (rc == GW_STORE_OK && n) {
            uint64_t seqs[16];
            for (size_t k = 0; k < n; k++)
                seqs[k] = e[k].seq;
            rc = gw_journal_ack(st, seqs, n, NULL);
        }
        gw_journal_entries_free(e, n);
        break;
    }
    }
    return rc == GW_STORE_NOTFOUND ? GW_STORE_OK : rc;
}

/** Round r's synchronous settings: FULL, NORMAL, FULL with journal commits at NORMAL. */
static gw_store_options_t mode_of(int round)
{
    gw_store_options_t o = {.sync_normal = round % 3 == 1, .journal_sync_normal = round % 3 == 2,
                            .journal_max_bytes = BUDGET};
    return o;
}

static const char *const mode_names[] = {"synchronous=FULL", "synchronous=NORMAL", "FULL, journal NORMAL"};

static void child(const char *dir, int round, int ready_fd)
{
    gw_store_options_t o = mode_of(round);
    journal_batches = o.journal_sync_normal;
    gw_store_t *st = NULL;
    char err[256];
    if (gw_store_open(dir, &o, &st, err, sizeof err) != GW_STORE_OK) {
        fprintf(stderr, "child: open: %s\n", err);
        _exit(2);
    }
    int64_t done = 0;
    if (gw_store_kv_get_i64(st, "ops", &done) == GW_STORE_EINVAL)
        _exit(2);
    if (ready_fd >= 0) {
        char c = 'r';
        if (write(ready_fd, &c, 1) != 1)
            _exit(2);
    }
    for (uint64_t i = (uint64_t)done + 1; i < 10000000; i++) {
        if (store_apply(st, i) != GW_STORE_OK || gw_store_kv_set_i64(st, "ops", (int64_t)i) != GW_STORE_OK) {
            fprintf(stderr, "child: op %" PRIu64 ": %s\n", i, gw_store_errmsg(st));
            _exit(3);
        }
    }
    _exit(0);
}

/* ------------------------------------------------------------------ the check */

/** Compares the store with the model; returns NULL if equal, else a description. */
static const char *compare(gw_store_t *st, const model_t *m, char *why, size_t cap)
{
    size_t ntopo = 0, nremoved = 0;
    for (int d = 0; d < NDEV; d++) {
        char dn[16], sec[GW_STORE_SECRET_MAX];
        dev_name(dn, sizeof dn, d);
        const mdev_t *md = &m->dev[d];
        gw_topo_entry_t e;
        int rc = gw_store_topo_get(st, PK, dn, &e);
        if (rc != (md->topo ? GW_STORE_OK : GW_STORE_NOTFOUND))
            return snprintf(why, cap, "%s: topo_get %d, model topo=%d", dn, rc, md->topo), why;
        if (md->topo) {
            ntopo++;
            char id[16];
            snprintf(id, sizeof id, "id%02d", d);
            if (strcmp(e.secret, md->secret) != 0 || strcmp(e.device_id, id) != 0)
                return snprintf(why, cap, "%s: topo row differs", dn), why;
        }
        bool has = false;
        if (gw_store_removed_has(st, PK, dn, &has) != GW_STORE_OK || has != md->removed)
            return snprintf(why, cap, "%s: removed=%d, model %d", dn, has, md->removed), why;
        nremoved += has;
        if (md->topo && md->removed)
            return snprintf(why, cap, "%s: model in both lists", dn), why;
        rc = gw_store_cred_get(st, PK, dn, sec, NULL);
        if (rc != (md->cred ? GW_STORE_OK : GW_STORE_NOTFOUND))
            return snprintf(why, cap, "%s: cred_get %d, model cred=%d", dn, rc, md->cred), why;
        if (md->cred && strcmp(sec, md->secret) != 0)
            return snprintf(why, cap, "%s: secret differs", dn), why;
    }
    size_t n = 0;
    gw_removed_entry_t *rl = NULL;
    if (gw_store_topo_count(st, &n) != GW_STORE_OK || n != ntopo)
        return snprintf(why, cap, "topology has %zu rows, model %zu", n, ntopo), why;
    if (gw_store_removed_list(st, &rl, &n) != GW_STORE_OK || n != nremoved)
        return free(rl), snprintf(why, cap, "removed list has %zu rows, model %zu", n, nremoved), why;
    free(rl);

    gw_journal_stats_t s;
    if (gw_journal_stats(st, &s) != GW_STORE_OK)
        return snprintf(why, cap, "stats: %s", gw_store_errmsg(st)), why;
    size_t depth = m->tail - m->head;
    if (s.depth != depth || s.bytes != m->bytes || s.dropped != m->dropped || s.acked != m->acked ||
        s.last_seq != m->next_seq - 1)
        return snprintf(why, cap,
                        "journal depth %" PRIu64 "/%zu bytes %" PRIu64 "/%" PRIu64 " dropped %" PRIu64 "/%" PRIu64
                        " acked %" PRIu64 "/%" PRIu64 " last %" PRIu64 "/%" PRIu64,
                        s.depth, depth, s.bytes, m->bytes, s.dropped, m->dropped, s.acked, m->acked, s.last_seq,
                        m->next_seq - 1),
               why;
    gw_journal_entry_t *e = NULL;
    if (gw_journal_read(st, 0, depth + 10, &e, &n) != GW_STORE_OK || n != depth)
        return gw_journal_entries_free(e, n), snprintf(why, cap, "journal read %zu entries, model %zu", n, depth),
               why;
    const char *bad = NULL;
    for (size_t k = 0; k < n && !bad; k++) {
        const mentry_t *me = &m->j[m->head + k];
        if (e[k].seq != me->seq || strcmp(e[k].value_json, me->value) != 0) {
            snprintf(why, cap, "journal entry %zu: seq %" PRIu64 " %s, model %" PRIu64 " %s", k, e[k].seq,
                     e[k].value_json, me->seq, me->value);
            bad = why;
        } else if (e[k].seq != s.dropped + s.acked + 1 + k) {
            /* contiguous after the dropped and acked ones (acks always take the oldest here) */
            snprintf(why, cap, "journal sequence gap at %" PRIu64, e[k].seq);
            bad = why;
        }
    }
    gw_journal_entries_free(e, n);
    return bad;
}

static void test_kill9_rounds(void **state)
{
    (void)state;
    char *base = tu_mkdtemp();
    char *dir = tu_path(base, "state");
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    print_message("kill seed %u\n", seed);
    srand(seed);
    int64_t committed = 0;
    int checked_rounds = 0;

    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(dir, round, fds[1]);
        }
        close(fds[1]);
        if (round == 0) {
            /* kill during open, schema creation or key creation */
            usleep((useconds_t)(rand() % 20000));
        } else {
            char c;
            ssize_t r;
            while ((r = read(fds[0], &c, 1)) < 0 && errno == EINTR)
                ;
            assert_int_equal(r, 1); /* 0 = the child died before it was ready */
            usleep((useconds_t)(rand() % 250000));
        }
        close(fds[0]);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("round %d: child ended by itself (status %d) instead of being killed", round, status);

        char *db = tu_path(dir, "linkgw.db");
        if (round == 0 && tu_mode(db) == -1) { /* killed before the database existed */
            free(db);
            continue;
        }
        free(db);
        gw_store_options_t o = {.integrity_check = true, .journal_max_bytes = BUDGET};
        gw_store_t *st = NULL;
        char err[256];
        int rc = gw_store_open(dir, &o, &st, err, sizeof err);
        if (rc != GW_STORE_OK)
            fail_msg("round %d: reopen: %d %s", round, rc, err);
        int64_t ops = 0;
        rc = gw_store_kv_get_i64(st, "ops", &ops);
        assert_true(rc == GW_STORE_OK || rc == GW_STORE_NOTFOUND);
        assert_true(ops >= committed);

        model_t m;
        model_init(&m);
        for (int64_t i = 1; i <= ops; i++)
            model_apply(&m, (uint64_t)i);
        char why1[300], why2[300];
        const char *d1 = compare(st, &m, why1, sizeof why1);
        int64_t actual = ops;
        if (d1) {
            model_apply(&m, (uint64_t)ops + 1);
            const char *d2 = compare(st, &m, why2, sizeof why2);
            if (d2)
                fail_msg("round %d after op %" PRId64 ": state matches neither op %" PRId64 " (%s) nor op %" PRId64
                         " (%s)",
                         round, ops, ops, d1, ops + 1, d2);
            actual = ops + 1;
        }
        free(m.j);
        /* record what really committed, so the next child continues the stream from there */
        TU_OK(gw_store_kv_set_i64(st, "ops", actual));
        print_message("round %d: %s, killed after %" PRId64 " ops (%+" PRId64 "), state consistent\n", round,
                      mode_names[round % 3], actual, actual - committed);
        committed = actual;
        gw_store_close(st);
        checked_rounds++;
    }
    assert_true(checked_rounds >= ROUNDS - 1);
    assert_true(committed > 0);
    tu_rmrf(base);
    free(dir);
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_rounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
