/*
 * store_bench: what journaling costs per value and how fast the journal drains.
 *
 *   store_bench [--quick] [DIR]
 *
 * Creates a scratch store under DIR (default $TMPDIR or /tmp), then measures, for
 * synchronous=FULL (the default), NORMAL, and FULL with journal_sync_normal:
 *   - single appends: one transaction (one fsync under FULL) per value, µs/value;
 *   - batched appends: gw_journal_batch_begin + gw_store_batch_commit around 10 and 100 values;
 *   - drain: read the oldest 50 (a history/post worth) + ack them by range, entries/s.
 * Then the write-ahead log of accepted values (store/wal.h), in the same directory:
 *   - append of a typical value (a double of pk/dn/property), ns/value;
 *   - append + one resolve record per 1,000 values + release_below (the data layer's pattern:
 *     one generation per timer tick), ns/value, through many segment recyclings;
 *   - the same with an msync every 5,000 values (`wal_sync`: one per tick at 100,000 values/s);
 *   - recovery: scanning a log of unresolved values, values/s.
 * Bounded run (a few seconds; --quick: well under one). Prints numbers, asserts nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/journal.h"
#include "store/wal.h"
#include "bench_proc.h"

static int rm_one(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    remove(p);
    return 0;
}

static void die(gw_store_t *st, const char *what, int rc)
{
    fprintf(stderr, "store_bench: %s: %s (%s)\n", what, gw_store_rc_str(rc), st ? gw_store_errmsg(st) : "");
    exit(1);
}

/** A typical property value of a sub-device. */
static gw_journal_rec_t rec(int i, char val[32])
{
    snprintf(val, 32, "%d.%d", 20 + i % 10, i % 7);
    gw_journal_rec_t r = {"a1BenchPK01", "sensor-0042", GW_JOURNAL_PROPERTY, "Temperature", val,
                          1700000000000LL + i};
    return r;
}

/** Appends @p n values in batches of @p batch (1 = no batch); returns µs per value. */
static double append_cost(gw_store_t *st, int n, int batch)
{
    char val[32];
    double t0 = bench_now_s();
    for (int i = 0; i < n; i += batch) {
        int rc;
        if (batch > 1 && (rc = gw_journal_batch_begin(st)) != GW_STORE_OK)
            die(st, "batch_begin", rc);
        for (int j = i; j < i + batch && j < n; j++) {
            gw_journal_rec_t r = rec(j, val);
            if ((rc = gw_journal_append(st, &r, NULL)) != GW_STORE_OK)
                die(st, "append", rc);
        }
        if (batch > 1 && (rc = gw_store_batch_commit(st)) != GW_STORE_OK)
            die(st, "batch_commit", rc);
    }
    return (bench_now_s() - t0) * 1e6 / n;
}

/** Drains the whole journal 50 at a time (read + ack_range); returns entries/s. */
static double drain_rate(gw_store_t *st, uint64_t *drained)
{
    double t0 = bench_now_s();
    uint64_t total = 0;
    for (;;) {
        gw_journal_entry_t *e = NULL;
        size_t n = 0;
        int rc = gw_journal_read(st, 0, 50, &e, &n);
        if (rc != GW_STORE_OK)
            die(st, "read", rc);
        if (!n)
            break;
        size_t removed = 0;
        rc = gw_journal_ack_range(st, e[0].seq, e[n - 1].seq, &removed);
        gw_journal_entries_free(e, n);
        if (rc != GW_STORE_OK)
            die(st, "ack", rc);
        total += removed;
    }
    *drained = total;
    return (double)total / (bench_now_s() - t0);
}

/** mode 0: FULL; 1: NORMAL; 2: FULL with journal_sync_normal. */
static void run(const char *base, int mode, int quick)
{
    static const char *const names[] = {"FULL", "NORMAL", "FULL+JN"};
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/mode%d", base, mode) >= (int)sizeof dir) {
        fprintf(stderr, "store_bench: path too long\n");
        exit(1);
    }
    int sync_normal = mode != 0; /* single appends are cheap in modes 1 and 2: do more of them */
    gw_store_options_t o = {.sync_normal = mode == 1, .journal_sync_normal = mode == 2,
                            .journal_max_bytes = 256u * 1024 * 1024};
    gw_store_t *st = NULL;
    char err[256];
    int rc = gw_store_open(dir, &o, &st, err, sizeof err);
    if (rc != GW_STORE_OK) {
        fprintf(stderr, "store_bench: open %s: %s\n", dir, err);
        exit(1);
    }
    const char *name = names[mode];
    int n_single = quick ? 50 : (sync_normal ? 5000 : 500);
    int n_batch = quick ? 500 : 50000;
    printf("%-7s single append          %9.1f us/value  (%d values, one transaction each)\n", name,
           append_cost(st, n_single, 1), n_single);
    printf("%-7s batched append x10     %9.1f us/value  (%d values)\n", name, append_cost(st, n_batch / 5, 10),
           n_batch / 5);
    printf("%-7s batched append x100    %9.1f us/value  (%d values)\n", name, append_cost(st, n_batch, 100),
           n_batch);
    uint64_t drained = 0;
    double rate = drain_rate(st, &drained);
    printf("%-7s drain read 50 + ack    %9.0f entries/s (%llu entries)\n", name, rate, (unsigned long long)drained);
    gw_store_close(st);
}

static int count_value(void *arg, const gw_wal_value_t *v)
{
    (void)v;
    ++*(uint64_t *)arg;
    return 0;
}

/** Write-ahead log: ns per value for append (+ resolve, + msync) and the recovery scan rate. */
static void wal_bench(const char *base, int quick)
{
    char dir[4200], err[256];
    snprintf(dir, sizeof dir, "%.4090s/wal", base);
    for (int mode = 0; mode < 3; mode++) {
        /* without resolution the log fills: mode 0 appends what fits in the budget (~28 MiB) */
        int n = quick ? 20000 : mode == 0 ? 400000 : 2000000;
        gw_wal_t *w = NULL;
        gw_wal_options_t o = {0}; /* the daemon's defaults: 32 MiB in 4 MiB segments */
        if (gw_wal_open(dir, &o, &w, err, sizeof err) != GW_WAL_OK) {
            fprintf(stderr, "store_bench: wal: %s\n", err);
            exit(1);
        }
        uint64_t first = gw_wal_next_seq(w), full = 0;
        double t0 = bench_now_s();
        for (int i = 0; i < n; i++) {
            gw_wal_value_t v = {.pk = "a1BenchPK01", .dn = "sensor-0042", .id = "Temperature",
                                .time_ms = 1700000000000LL + i, .vtype = GW_WAL_V_DOUBLE};
            v.num.d = 20.0 + i * 1e-3;
            if (gw_wal_append(w, &v) != GW_WAL_OK)
                full++;
            if (mode >= 1 && i % 1000 == 999) {
                gw_wal_resolve(w, first, v.seq);
                first = v.seq + 1;
                gw_wal_release_below(w, first);
            }
            if (mode == 2 && i % 5000 == 4999)
                gw_wal_sync(w);
        }
        double dt = bench_now_s() - t0;
        gw_wal_stats_t st;
        gw_wal_stats(w, &st);
        static const char *const what[] = {"append", "append+resolve/1000", "append+resolve+msync/5000"};
        printf("WAL     %-26s %7.0f ns/value  (%d values, %llu refused full, %llu segment(s) left)\n", what[mode],
               dt * 1e9 / n, n, (unsigned long long)full, (unsigned long long)st.segments);
        gw_wal_close(w, mode != 0); /* mode 0 leaves its (unresolved) log for the recovery scan */
        if (mode == 0) {
            uint64_t got = 0;
            gw_wal_report_t rep;
            t0 = bench_now_s();
            gw_wal_recover(dir, count_value, &got, &rep);
            dt = bench_now_s() - t0;
            printf("WAL     recovery scan              %7.0f values/s (%llu values in %llu segment(s))\n",
                   (double)got / dt, (unsigned long long)got, (unsigned long long)rep.segments);
        }
    }
}

int main(int argc, char **argv)
{
    int quick = 0;
    const char *where = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: store_bench [--quick] [DIR]\n");
            return 2;
        } else
            where = argv[i];
    }
    if (!where)
        where = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char base[4096];
    snprintf(base, sizeof base, "%s/linkgw-store-bench-XXXXXX", where);
    if (!mkdtemp(base)) {
        perror(base);
        return 1;
    }
    printf("gw_store journal benchmark in %s%s\n", base, quick ? " (quick)" : "");
    for (int mode = 0; mode < 3; mode++)
        run(base, mode, quick);
    printf("FULL+JN = synchronous=FULL with the journal_sync_normal option (journal commits at NORMAL)\n");
    wal_bench(base, quick);
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
