/*
 * Unit tests of the write-ahead log (core/store/wal.{c,h}): append and
 * recover every value type, resolve ranges, recycling of the oldest segments,
 * the disk budget (full, then free again), a torn tail, a CRC mismatch,
 * garbage after the last record, a crash while old segments are deleted, and
 * the file modes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/wal.h"

#define GOT_MAX 200000

/* What the recovery callback saw (copies). */
typedef struct rec {
    uint64_t seq;
    bool event;
    char pk[64], dn[64], id[64], text[64];
    int64_t time_ms;
    gw_wal_vtype_t vtype;
    int64_t i;
    double d;
} rec_t;

typedef struct got {
    size_t n;
    rec_t *r;
    size_t stop_after; /* callback returns 7 after this many (0 = never) */
} got_t;

static int collect(void *arg, const gw_wal_value_t *v)
{
    got_t *g = arg;
    if (g->n < GOT_MAX) {
        rec_t *r = &g->r[g->n];
        r->seq = v->seq;
        r->event = v->event;
        snprintf(r->pk, sizeof r->pk, "%.*s", v->pk_len, v->pk);
        snprintf(r->dn, sizeof r->dn, "%.*s", v->dn_len, v->dn);
        snprintf(r->id, sizeof r->id, "%.*s", v->id_len, v->id);
        snprintf(r->text, sizeof r->text, "%.*s", (int)v->text_len, v->text);
        r->time_ms = v->time_ms;
        r->vtype = v->vtype;
        if (v->vtype == GW_WAL_V_INT)
            r->i = v->num.i;
        if (v->vtype == GW_WAL_V_DOUBLE)
            r->d = v->num.d;
    }
    g->n++;
    return g->stop_after && g->n >= g->stop_after ? 7 : 0;
}

typedef struct fx {
    char dir[64], wal[96];
    got_t got;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/linkgw-wal-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->wal, sizeof f->wal, "%s/wal", f->dir);
    f->got.r = calloc(GOT_MAX, sizeof *f->got.r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    DIR *d = opendir(f->wal);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", f->wal, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(f->wal);
    rmdir(f->dir);
    free(f->got.r);
    free(f);
    return 0;
}

static gw_wal_t *open_wal(fx_t *f, uint64_t max, uint32_t seg)
{
    char err[256];
    gw_wal_options_t o = {.max_bytes = max, .segment_bytes = seg};
    gw_wal_t *w = NULL;
    int rc = gw_wal_open(f->wal, &o, &w, err, sizeof err);
    if (rc != GW_WAL_OK)
        fail_msg("gw_wal_open: %s", err);
    return w;
}

static int put_double(gw_wal_t *w, double v, int64_t t, uint64_t *seq)
{
    gw_wal_value_t x = {.pk = "a1DMeter", .dn = "meter-0", .id = "Power", .time_ms = t, .vtype = GW_WAL_V_DOUBLE};
    x.num.d = v;
    int rc = gw_wal_append(w, &x);
    if (seq)
        *seq = x.seq;
    return rc;
}

static int recover(fx_t *f, gw_wal_report_t *rep)
{
    f->got.n = 0;
    return gw_wal_recover(f->wal, collect, &f->got, rep);
}

/* Segment files in the directory; @p newest receives the path of the last one. */
static int segments(fx_t *f, char *newest, size_t cap)
{
    DIR *d = opendir(f->wal);
    struct dirent *e;
    char best[256] = "";
    int n = 0;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".seg")) {
            n++;
            if (strcmp(e->d_name, best) > 0)
                snprintf(best, sizeof best, "%s", e->d_name);
        }
    if (d)
        closedir(d);
    if (newest)
        snprintf(newest, cap, "%s/%.32s", f->wal, best);
    return n;
}

/* Offset just past the last record of segment @p path (records: u32 length first). */
static long used_end(const char *path, long *last_start)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    long off = 16, prev = -1;
    for (;;) {
        uint32_t len = 0;
        fseek(fp, off, SEEK_SET);
        if (fread(&len, 4, 1, fp) != 1 || len == 0)
            break;
        prev = off;
        off += len;
    }
    fclose(fp);
    if (last_start)
        *last_start = prev;
    return off;
}

static void patch(const char *path, long off, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, off), (ssize_t)n);
    close(fd);
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(gw_wal_crc32c(0, "123456789", 9), 0xE3069283u); /* the standard check value */
    uint32_t c = gw_wal_crc32c(0, "1234", 4);
    assert_int_equal(gw_wal_crc32c(c, "56789", 5), 0xE3069283u);
    char big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = (char)(i * 7);
    uint32_t whole = gw_wal_crc32c(0, big, 1000), parts = gw_wal_crc32c(gw_wal_crc32c(0, big, 333), big + 333, 667);
    assert_int_equal(whole, parts);
}

static void test_append_recover_types(void **state)
{
    fx_t *f = *state;
    gw_wal_t *w = open_wal(f, 0, 0);
    gw_wal_value_t v[7] = {
        {.pk = "pk", .dn = "dn", .id = "A", .vtype = GW_WAL_V_NULL, .time_ms = 1},
        {.pk = "pk", .dn = "dn", .id = "B", .vtype = GW_WAL_V_FALSE, .time_ms = 2},
        {.pk = "pk", .dn = "dn", .id = "C", .vtype = GW_WAL_V_TRUE, .time_ms = 3},
        {.pk = "pk", .dn = "dn", .id = "D", .vtype = GW_WAL_V_INT, .time_ms = 4, .num.i = -42},
        {.pk = "pk", .dn = "dn", .id = "E", .vtype = GW_WAL_V_DOUBLE, .time_ms = 5, .num.d = 0.1},
        {.pk = "pk", .dn = "dn", .id = "F", .vtype = GW_WAL_V_STRING, .time_ms = 6, .text = "h\xc3\xa9llo", .text_len = 6},
        {.pk = "pk2", .dn = "dn2", .id = "G", .event = true, .vtype = GW_WAL_V_JSON, .time_ms = 1795777784208,
         .text = "{\"T\":1}", .text_len = 7},
    };
    for (int i = 0; i < 7; i++) {
        assert_int_equal(gw_wal_append(w, &v[i]), GW_WAL_OK);
        assert_int_equal(v[i].seq, (uint64_t)i + 1);
    }
    gw_wal_value_t bad = {.pk = "", .dn = "dn", .id = "X", .vtype = GW_WAL_V_NULL};
    assert_int_equal(gw_wal_append(w, &bad), GW_WAL_EINVAL);
    bad.pk = "pk";
    bad.vtype = (gw_wal_vtype_t)99;
    assert_int_equal(gw_wal_append(w, &bad), GW_WAL_EINVAL);
    assert_int_equal(gw_wal_next_seq(w), 8);
    gw_wal_stats_t st;
    gw_wal_stats(w, &st);
    assert_int_equal(st.appended, 7);
    assert_int_equal(st.segments, 1);
    gw_wal_close(w, false); /* a crash: the segment stays */

    gw_wal_report_t rep;
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(rep.segments, 1);
    assert_int_equal(rep.values, 7);
    assert_int_equal(rep.recovered, 7);
    assert_int_equal(rep.torn, 0);
    assert_int_equal(rep.max_seq, 7);
    assert_int_equal(f->got.n, 7);
    rec_t *r = f->got.r;
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r[i].seq, (uint64_t)i + 1);
        assert_int_equal(r[i].vtype, v[i].vtype);
        assert_int_equal(r[i].time_ms, v[i].time_ms);
        assert_string_equal(r[i].id, v[i].id);
        assert_string_equal(r[i].pk, v[i].pk);
        assert_string_equal(r[i].dn, v[i].dn);
    }
    assert_int_equal(r[3].i, -42);
    assert_true(r[4].d == 0.1);
    assert_string_equal(r[5].text, "h\xc3\xa9llo");
    assert_true(r[6].event);
    assert_false(r[5].event);
    assert_string_equal(r[6].text, "{\"T\":1}");

    /* the callback can stop the scan with its own result */
    f->got.stop_after = 3;
    assert_int_equal(recover(f, &rep), 7);
    assert_int_equal(f->got.n, 3);
    f->got.stop_after = 0;

    /* opening deletes the old segments and starts after them */
    w = open_wal(f, 0, 0);
    assert_int_equal(segments(f, NULL, 0), 1);
    gw_wal_close(w, true);
    assert_int_equal(segments(f, NULL, 0), 0);
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 0);
}

static void test_modes(void **state)
{
    fx_t *f = *state;
    gw_wal_t *w = open_wal(f, 0, 0);
    struct stat st;
    assert_int_equal(stat(f->wal, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char seg[300];
    assert_int_equal(segments(f, seg, sizeof seg), 1);
    assert_int_equal(stat(seg, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    gw_wal_close(w, true);
}

static void test_resolve(void **state)
{
    fx_t *f = *state;
    gw_wal_t *w = open_wal(f, 0, 0);
    for (int i = 1; i <= 10; i++)
        assert_int_equal(put_double(w, i, 1000 + i, NULL), GW_WAL_OK);
    assert_int_equal(gw_wal_resolve(w, 3, 5), GW_WAL_OK);
    assert_int_equal(gw_wal_resolve(w, 8, 10), GW_WAL_OK);
    assert_int_equal(gw_wal_resolve(w, 5, 4), GW_WAL_EINVAL);
    assert_int_equal(gw_wal_resolve(w, 2, 2), GW_WAL_OK);
    gw_wal_close(w, false);
    gw_wal_report_t rep;
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(rep.values, 10);
    assert_int_equal(rep.resolved, 7); /* 2..5 and 8..10 */
    assert_int_equal(f->got.n, 3);
    uint64_t want[] = {1, 6, 7};
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->got.r[i].seq, want[i]);
    assert_true(f->got.r[1].d == 6.0);
}

/* Many values through small segments, resolved as they go: the oldest segments are recycled. */
static void test_recycle(void **state)
{
    fx_t *f = *state;
    gw_wal_t *w = open_wal(f, 256 * 1024, 64 * 1024); /* 4 segments of 64 KiB */
    uint64_t first = 0, seq = 0;
    int max_segs = 0;
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(put_double(w, i, i, &seq), GW_WAL_OK);
        if (!first)
            first = seq;
        if (i % 100 == 99) { /* a "generation" of 100 values resolved */
            assert_int_equal(gw_wal_resolve(w, first, seq), GW_WAL_OK);
            gw_wal_release_below(w, seq + 1);
            first = 0;
        }
        int n = segments(f, NULL, 0);
        if (n > max_segs)
            max_segs = n;
    }
    gw_wal_stats_t st;
    gw_wal_stats(w, &st);
    assert_int_equal(st.full, 0);
    assert_true(max_segs <= 4);
    assert_true(st.segments <= 2);
    gw_wal_close(w, false);
    /* everything was resolved: nothing to recover */
    gw_wal_report_t rep;
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 0);
    assert_int_equal(rep.torn, 0);
}

/* Unresolved values pin their segments: the budget fills, appends fail and are counted;
 * resolving frees the oldest segments and appends work again. Unresolved values survive. */
static void test_full(void **state)
{
    fx_t *f = *state;
    gw_wal_t *w = open_wal(f, 128 * 1024, 64 * 1024); /* 2 segments */
    uint64_t seq = 0, last_ok = 0;
    int ok = 0, full = 0;
    for (int i = 0; i < 10000; i++) {
        int rc = put_double(w, i, i, &seq);
        if (rc == GW_WAL_OK) {
            ok++;
            last_ok = seq;
        } else {
            assert_int_equal(rc, GW_WAL_FULL);
            full++;
        }
    }
    assert_true(ok > 1000);
    assert_true(full > 0);
    assert_int_equal(segments(f, NULL, 0), 2);
    gw_wal_stats_t st;
    gw_wal_stats(w, &st);
    assert_int_equal(st.full, (uint64_t)full);
    assert_int_equal(st.appended, (uint64_t)ok);
    assert_true(st.bytes <= 128 * 1024);
    /* resolve records still fit (the reserve) */
    assert_int_equal(gw_wal_resolve(w, 1, last_ok / 2), GW_WAL_OK);
    /* half resolved: the first segment still holds unresolved values */
    gw_wal_release_below(w, last_ok / 2 + 1);
    gw_wal_close(w, false);
    gw_wal_report_t rep;
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, last_ok - last_ok / 2);
    assert_int_equal(f->got.r[0].seq, last_ok / 2 + 1);

    /* now resolve everything: the space comes back */
    w = open_wal(f, 128 * 1024, 64 * 1024);
    for (int i = 0; i < 3000; i++)
        put_double(w, i, i, &seq);
    gw_wal_stats(w, &st);
    uint64_t full_before = st.full;
    assert_true(full_before > 0);
    assert_int_equal(gw_wal_resolve(w, 1, gw_wal_next_seq(w) - 1), GW_WAL_OK);
    gw_wal_release_below(w, gw_wal_next_seq(w));
    assert_int_equal(put_double(w, 1, 1, &seq), GW_WAL_OK);
    gw_wal_close(w, false);
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 1);
    assert_int_equal(f->got.r[0].seq, seq);
}

/* The last record torn by the kill: every record before it is recovered. */
static void test_torn_tail(void **state)
{
    fx_t *f = *state;
    gw_wal_t *w = open_wal(f, 0, 0);
    for (int i = 1; i <= 50; i++)
        put_double(w, i, i, NULL);
    gw_wal_close(w, false);
    char seg[300];
    segments(f, seg, sizeof seg);
    long last;
    long end = used_end(seg, &last);
    assert_true(last > 0 && end > last);
    /* the last record half written: its second half is still zeros */
    char zeros[64] = {0};
    patch(seg, last + (end - last) / 2, zeros, (size_t)(end - last) - (size_t)(end - last) / 2);
    gw_wal_report_t rep;
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(rep.torn, 1);
    assert_int_equal(f->got.n, 49);
    assert_int_equal(f->got.r[48].seq, 49);
    /* truncated in the middle of the record instead */
    assert_int_equal(truncate(seg, last + 12), 0);
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 49);
    /* truncated inside the header */
    assert_int_equal(truncate(seg, 10), 0);
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 0);
    assert_int_equal(rep.torn, 1);
}

/* A flipped byte in the middle: the scan of that segment stops before it. */
static void test_crc_mismatch(void **state)
{
    fx_t *f = *state;
    gw_wal_t *w = open_wal(f, 0, 0);
    for (int i = 1; i <= 20; i++)
        put_double(w, i, i, NULL);
    gw_wal_close(w, false);
    char seg[300];
    segments(f, seg, sizeof seg);
    /* records of this shape are 64 bytes: record 11 starts at 16 + 10 * 64; flip a byte of its time */
    long rec11 = 16 + 10 * 64;
    unsigned char b;
    FILE *fp = fopen(seg, "rb");
    fseek(fp, rec11 + 24, SEEK_SET);
    assert_int_equal(fread(&b, 1, 1, fp), 1);
    fclose(fp);
    b ^= 0x10;
    patch(seg, rec11 + 24, &b, 1);
    gw_wal_report_t rep;
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(rep.torn, 1);
    assert_int_equal(f->got.n, 10);
    /* a bad length (not a multiple of 8, or past the end) ends it too */
    b ^= 0x10;
    patch(seg, rec11 + 24, &b, 1);
    uint32_t len = 61;
    patch(seg, rec11, &len, 4);
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 10);
    len = 0x7ffffff8;
    patch(seg, rec11, &len, 4);
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 10);
    /* a wrong magic: the segment is skipped, counted */
    patch(seg, 0, "XXXXXXXX", 8);
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 0);
    assert_int_equal(rep.torn, 1);
}

/* Garbage after the last record (not zeros): the records before it are all there. */
static void test_garbage_tail(void **state)
{
    fx_t *f = *state;
    gw_wal_t *w = open_wal(f, 0, 0);
    for (int i = 1; i <= 30; i++)
        put_double(w, i, i, NULL);
    gw_wal_close(w, false);
    char seg[300];
    segments(f, seg, sizeof seg);
    long end = used_end(seg, NULL);
    unsigned char junk[256];
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(rand() | 1);
    patch(seg, end, junk, sizeof junk);
    gw_wal_report_t rep;
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 30);
    assert_int_equal(rep.torn, 1);
    /* and a random record-looking length followed by junk */
    uint32_t len = 64;
    patch(seg, end, &len, 4);
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(f->got.n, 30);
}

/* Values spread over several segments, some resolved by records in later segments. */
static void test_multi_segment_recover(void **state)
{
    fx_t *f = *state;
    gw_wal_t *w = open_wal(f, 1024 * 1024, 64 * 1024);
    uint64_t seq;
    for (int i = 1; i <= 3000; i++) /* ~190 KiB of records: 4 segments */
        assert_int_equal(put_double(w, i, i, &seq), GW_WAL_OK);
    assert_int_equal(gw_wal_resolve(w, 1, 1500), GW_WAL_OK);
    assert_int_equal(gw_wal_resolve(w, 2001, 2999), GW_WAL_OK);
    assert_true(segments(f, NULL, 0) >= 3);
    gw_wal_close(w, false);
    gw_wal_report_t rep;
    assert_int_equal(recover(f, &rep), GW_WAL_OK);
    assert_int_equal(rep.values, 3000);
    assert_int_equal(f->got.n, 501);
    assert_int_equal(f->got.r[0].seq, 1501);
    assert_int_equal(f->got.r[499].seq, 2000);
    assert_int_equal(f->got.r[500].seq, 3000);
    assert_true(f->got.r[500].d == 3000.0);
    /* the next log continues the seqs when asked to, and its numbering after the old files */
    char err[256];
    gw_wal_options_t o = {.first_seq = rep.max_seq + 1};
    gw_wal_t *w2 = NULL;
    assert_int_equal(gw_wal_open(f->wal, &o, &w2, err, sizeof err), GW_WAL_OK);
    assert_int_equal(put_double(w2, 1, 1, &seq), GW_WAL_OK);
    assert_int_equal(seq, 3001);
    assert_int_equal(segments(f, NULL, 0), 1);
    gw_wal_close(w2, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test_setup_teardown(test_append_recover_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_segment_recover, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
