/*
 * Store-and-forward journal: order, paging, acknowledgement, statistics, the byte budget with
 * drop-oldest and its persistent counter, sequence numbers never reused, batches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/journal.h"
#include "test_util.h"

typedef struct {
    char *base, *dir;
    gw_store_t *st;
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    fx->base = tu_mkdtemp();
    fx->dir = tu_path(fx->base, "state");
    gw_store_options_t o = {.sync_normal = true};
    fx->st = tu_open(fx->dir, &o);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    gw_store_close(fx->st);
    tu_rmrf(fx->base);
    free(fx->dir), free(fx->base);
    free(fx);
    return 0;
}

/** Appends property "temp" = i with timestamp 1700000000000 + i; returns its seq. */
static uint64_t put(gw_store_t *st, int i)
{
    char val[32];
    snprintf(val, sizeof val, "%d.5", i);
    gw_journal_rec_t r = {"a1PK", "dev1", GW_JOURNAL_PROPERTY, "temp", val, 1700000000000LL + i};
    uint64_t seq = 0;
    TU_OK(gw_journal_append(st, &r, &seq));
    return seq;
}

static void test_append_read_order(void **state)
{
    fx_t *fx = *state;
    gw_journal_entry_t *e = (gw_journal_entry_t *)1;
    size_t n = 9;
    TU_OK(gw_journal_read(fx->st, 0, 10, &e, &n));
    assert_int_equal(n, 0);
    assert_null(e);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(put(fx->st, i), i);
    gw_journal_rec_t ev = {"a1PK", "dev2", GW_JOURNAL_EVENT, "alarm", "{\"level\":2,\"msg\":\"h\\u00e9\"}", 42};
    uint64_t seq = 0;
    TU_OK(gw_journal_append(fx->st, &ev, &seq));
    assert_int_equal(seq, 6);

    TU_OK(gw_journal_read(fx->st, 0, 100, &e, &n));
    assert_int_equal(n, 6);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(e[i].seq, i + 1);
        assert_string_equal(e[i].pk, "a1PK");
        assert_string_equal(e[i].dn, "dev1");
        assert_int_equal(e[i].kind, GW_JOURNAL_PROPERTY);
        assert_string_equal(e[i].identifier, "temp");
        char want[32];
        snprintf(want, sizeof want, "%zu.5", i + 1);
        assert_string_equal(e[i].value_json, want);
        assert_true(e[i].ts_ms == 1700000000000LL + (int64_t)i + 1);
    }
    assert_int_equal(e[5].kind, GW_JOURNAL_EVENT);
    assert_string_equal(e[5].dn, "dev2");
    assert_string_equal(e[5].value_json, "{\"level\":2,\"msg\":\"h\\u00e9\"}");
    assert_true(e[5].ts_ms == 42);
    gw_journal_entries_free(e, n);

    /* paging for pipelined drains */
    TU_OK(gw_journal_read(fx->st, 0, 2, &e, &n));
    assert_int_equal(n, 2);
    assert_int_equal(e[1].seq, 2);
    gw_journal_entries_free(e, n);
    TU_OK(gw_journal_read(fx->st, 2, 3, &e, &n));
    assert_int_equal(n, 3);
    assert_int_equal(e[0].seq, 3);
    assert_int_equal(e[2].seq, 5);
    gw_journal_entries_free(e, n);
    TU_OK(gw_journal_read(fx->st, 6, 3, &e, &n));
    assert_int_equal(n, 0);
    TU_OK(gw_journal_read(fx->st, 0, 0, &e, &n));
    assert_int_equal(n, 0);
}

static void test_validation(void **state)
{
    fx_t *fx = *state;
    gw_journal_rec_t r = {"a1PK", "dev1", GW_JOURNAL_PROPERTY, "temp", "1", 1};
    r.pk = "a/b";
    assert_int_equal(gw_journal_append(fx->st, &r, NULL), GW_STORE_EINVAL);
    r.pk = "a1PK", r.kind = (gw_journal_kind_t)3;
    assert_int_equal(gw_journal_append(fx->st, &r, NULL), GW_STORE_EINVAL);
    r.kind = GW_JOURNAL_EVENT, r.identifier = "";
    assert_int_equal(gw_journal_append(fx->st, &r, NULL), GW_STORE_EINVAL);
    r.identifier = "x", r.value_json = "";
    assert_int_equal(gw_journal_append(fx->st, &r, NULL), GW_STORE_EINVAL);
    r.value_json = NULL;
    assert_int_equal(gw_journal_append(fx->st, &r, NULL), GW_STORE_EINVAL);
    char *big = malloc(GW_JOURNAL_VALUE_MAX + 2);
    memset(big, '1', GW_JOURNAL_VALUE_MAX + 1);
    big[GW_JOURNAL_VALUE_MAX + 1] = '\0';
    r.value_json = big;
    assert_int_equal(gw_journal_append(fx->st, &r, NULL), GW_STORE_EINVAL);
    free(big);
    assert_int_equal(gw_journal_append(fx->st, NULL, NULL), GW_STORE_EINVAL);
    gw_journal_stats_t s;
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 0);
    assert_int_equal(s.last_seq, 0);
}

static void test_ack_and_stats(void **state)
{
    fx_t *fx = *state;
    gw_journal_stats_t s;
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 0);
    assert_int_equal(s.bytes, 0);
    assert_true(s.oldest_ts_ms == 0 && s.oldest_age_ms == 0);
    assert_int_equal(s.budget, 16 * 1024 * 1024);

    uint64_t bytes = 0;
    for (int i = 1; i <= 10; i++) {
        char val[32];
        snprintf(val, sizeof val, "%d.5", i);
        gw_journal_rec_t r = {"a1PK", "dev1", GW_JOURNAL_PROPERTY, "temp", val, 0};
        bytes += gw_journal_entry_size(&r);
        put(fx->st, i);
    }
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 10);
    assert_int_equal(s.bytes, bytes);
    assert_true(s.oldest_ts_ms == 1700000000001LL);
    assert_true(s.oldest_age_ms > 0);
    assert_int_equal(s.last_seq, 10);

    uint64_t seqs[] = {1, 2, 3, 99, 2};
    size_t removed = 0;
    TU_OK(gw_journal_ack(fx->st, seqs, 5, &removed));
    assert_int_equal(removed, 3); /* unknown and repeated sequences are ignored */
    TU_OK(gw_journal_ack_range(fx->st, 4, 6, &removed));
    assert_int_equal(removed, 3);
    TU_OK(gw_journal_ack_range(fx->st, 4, 6, &removed));
    assert_int_equal(removed, 0);
    assert_int_equal(gw_journal_ack_range(fx->st, 6, 4, &removed), GW_STORE_EINVAL);
    TU_OK(gw_journal_ack(fx->st, NULL, 0, &removed));
    assert_int_equal(gw_journal_ack(fx->st, NULL, 1, &removed), GW_STORE_EINVAL);

    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 4);
    assert_int_equal(s.acked, 6);
    assert_int_equal(s.dropped, 0);
    assert_true(s.oldest_ts_ms == 1700000000007LL);
    gw_journal_entry_t *e = NULL;
    size_t n = 0;
    TU_OK(gw_journal_read(fx->st, 0, 100, &e, &n));
    assert_int_equal(n, 4);
    assert_int_equal(e[0].seq, 7);
    gw_journal_entries_free(e, n);

    /* ack everything: bytes back to 0, sequences are not reused, even after a reopen */
    TU_OK(gw_journal_ack_range(fx->st, 1, 100, &removed));
    assert_int_equal(removed, 4);
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 0);
    assert_int_equal(s.bytes, 0);
    gw_store_close(fx->st);
    fx->st = tu_open(fx->dir, NULL);
    assert_int_equal(put(fx->st, 11), 11);
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.acked, 10);
    assert_int_equal(s.last_seq, 11);
}

static void test_budget_drop_oldest(void **state)
{
    fx_t *fx = *state;
    gw_journal_rec_t probe = {"a1PK", "dev1", GW_JOURNAL_PROPERTY, "temp", "10.5", 0};
    uint64_t one = gw_journal_entry_size(&probe); /* values 10..99 all have this size */
    TU_OK(gw_journal_set_budget(fx->st, one * 10));
    for (int i = 10; i < 35; i++)
        put(fx->st, i); /* seq 1..25 */
    gw_journal_stats_t s;
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 10);
    assert_int_equal(s.dropped, 15);
    assert_int_equal(s.bytes, one * 10);
    assert_true(s.bytes <= s.budget);
    gw_journal_entry_t *e = NULL;
    size_t n = 0;
    TU_OK(gw_journal_read(fx->st, 0, 100, &e, &n));
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(e[i].seq, 16 + i); /* the newest ten, contiguous */
    assert_string_equal(e[0].value_json, "25.5");
    gw_journal_entries_free(e, n);

    /* an in-flight entry dropped before its ack: the ack is harmless */
    uint64_t inflight = 16;
    put(fx->st, 35); /* drops seq 16 */
    size_t removed = 9;
    TU_OK(gw_journal_ack(fx->st, &inflight, 1, &removed));
    assert_int_equal(removed, 0);

    /* shrinking the budget drops at once */
    TU_OK(gw_journal_set_budget(fx->st, one * 4));
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 4);
    assert_int_equal(s.dropped, 22);
    assert_int_equal(gw_journal_set_budget(fx->st, 0), GW_STORE_EINVAL);

    /* an entry larger than the whole budget is refused and drops nothing */
    char big[200];
    memset(big, '7', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    gw_journal_rec_t r = {"a1PK", "dev1", GW_JOURNAL_PROPERTY, "temp", big, 1};
    assert_int_equal(gw_journal_append(fx->st, &r, NULL), GW_STORE_EINVAL);
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 4);

    /* the dropped counter is persistent; the budget comes from the options at open */
    gw_store_close(fx->st);
    gw_store_options_t o = {.journal_max_bytes = one * 2};
    fx->st = tu_open(fx->dir, &o);
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.dropped, 22);
    assert_int_equal(s.budget, one * 2);
    assert_int_equal(s.depth, 4); /* enforced at the next append, not at open */
    put(fx->st, 36);
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 2);
    assert_int_equal(s.dropped, 25);
    assert_int_equal(s.last_seq, 27);
}

static void test_batch(void **state)
{
    fx_t *fx = *state;
    TU_OK(gw_store_batch_begin(fx->st));
    for (int i = 0; i < 100; i++)
        put(fx->st, i);
    /* an invalid append inside the batch fails alone */
    gw_journal_rec_t bad = {"a1PK", "dev1", GW_JOURNAL_PROPERTY, "", "1", 1};
    assert_int_equal(gw_journal_append(fx->st, &bad, NULL), GW_STORE_EINVAL);
    TU_OK(gw_store_batch_rollback(fx->st));
    gw_journal_stats_t s;
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 0);

    TU_OK(gw_store_batch_begin(fx->st));
    for (int i = 0; i < 100; i++)
        put(fx->st, i);
    TU_OK(gw_store_batch_commit(fx->st));
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 100);
    gw_journal_entry_t *e = NULL;
    size_t n = 0;
    TU_OK(gw_journal_read(fx->st, 0, 1000, &e, &n));
    assert_int_equal(n, 100);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(e[i].seq, e[i - 1].seq + 1);
    gw_journal_entries_free(e, n);
    /* drop-oldest inside a batch works on the batch's own entries too */
    gw_journal_rec_t probe = {"a1PK", "dev1", GW_JOURNAL_PROPERTY, "temp", "10.5", 0};
    TU_OK(gw_journal_set_budget(fx->st, gw_journal_entry_size(&probe) * 5));
    TU_OK(gw_store_batch_begin(fx->st));
    for (int i = 10; i < 30; i++)
        put(fx->st, i);
    TU_OK(gw_store_batch_commit(fx->st));
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 5);
    assert_int_equal(s.dropped, 115);
}

static void test_journal_sync_normal_and_journal_batches(void **state)
{
    fx_t *fx = *state;
    gw_store_close(fx->st);
    gw_store_options_t o = {.journal_sync_normal = true};
    fx->st = tu_open(fx->dir, &o);
    assert_int_equal(put(fx->st, 1), 1);
    TU_OK(gw_store_kv_set(fx->st, "after", "relaxed append")); /* back to FULL, still works */
    TU_OK(gw_journal_batch_begin(fx->st));
    assert_int_equal(gw_journal_batch_begin(fx->st), GW_STORE_ESTATE);
    assert_int_equal(gw_store_batch_begin(fx->st), GW_STORE_ESTATE);
    for (int i = 2; i <= 50; i++)
        put(fx->st, i);
    /* a journal batch refuses everything else, without spoiling the batch */
    assert_int_equal(gw_store_kv_set(fx->st, "k", "v"), GW_STORE_ESTATE);
    assert_int_equal(gw_store_cred_put(fx->st, "a1PK", "d", "s", GW_CRED_IMPORTED), GW_STORE_ESTATE);
    gw_journal_entry_t *e = NULL;
    size_t n = 0, removed = 0;
    TU_OK(gw_journal_read(fx->st, 0, 5, &e, &n));
    TU_OK(gw_journal_ack_range(fx->st, e[0].seq, e[n - 1].seq, &removed));
    assert_int_equal(removed, 5);
    gw_journal_entries_free(e, n);
    TU_OK(gw_store_batch_commit(fx->st));
    TU_OK(gw_store_kv_set(fx->st, "k", "v"));
    TU_OK(gw_journal_batch_begin(fx->st));
    put(fx->st, 51);
    TU_OK(gw_store_batch_rollback(fx->st));
    TU_OK(gw_store_cred_put(fx->st, "a1PK", "d", "s", GW_CRED_IMPORTED));
    gw_store_close(fx->st);
    fx->st = tu_open(fx->dir, &o);
    gw_journal_stats_t s;
    TU_OK(gw_journal_stats(fx->st, &s));
    assert_int_equal(s.depth, 45);
    assert_int_equal(s.acked, 5);
    assert_int_equal(s.last_seq, 50);
    bool has = false;
    TU_OK(gw_store_cred_has(fx->st, "a1PK", "d", &has));
    assert_true(has);
}

/* A backlog fills the page cache; gw_store_release_memory gives it back and the store reads on. */
static void test_release_memory(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(gw_store_release_memory(NULL), 0);
    TU_OK(gw_journal_batch_begin(fx->st));
    for (int i = 1; i <= 3000; i++)
        put(fx->st, i);
    TU_OK(gw_store_batch_commit(fx->st));
    gw_journal_entry_t *e = NULL;
    size_t n = 0;
    TU_OK(gw_journal_read(fx->st, 0, 1000, &e, &n));
    assert_int_equal(n, 1000);
    gw_journal_entries_free(e, n);
    size_t freed = gw_store_release_memory(fx->st);
    assert_true(freed > 64 * 1024); /* ~3000 rows of ~60 bytes: dozens of 4 KiB pages were cached */
    assert_int_equal(gw_store_release_memory(fx->st), 0); /* nothing left to give */
    TU_OK(gw_journal_read(fx->st, 2000, 10, &e, &n));
    assert_int_equal(n, 10);
    assert_int_equal(e[0].seq, 2001);
    gw_journal_entries_free(e, n);
}

/* Forgetting a device deletes its entries only, keeps the totals exact and counts them dropped. */
static void test_forget_device(void **state)
{
    fx_t *fx = *state;
    size_t removed = 99;
    assert_int_equal(gw_journal_forget_device(fx->st, "", "dev1", &removed), GW_STORE_EINVAL);
    assert_int_equal(removed, 0);
    for (int i = 1; i <= 4; i++)
        put(fx->st, i); /* a1PK/dev1 */
    gw_journal_rec_t other = {"a1PK", "dev2", GW_JOURNAL_PROPERTY, "temp", "7", 5};
    TU_OK(gw_journal_append(fx->st, &other, NULL));
    gw_journal_rec_t same_dn = {"b2PK", "dev1", GW_JOURNAL_EVENT, "alarm", "{}", 6};
    TU_OK(gw_journal_append(fx->st, &same_dn, NULL));
    gw_journal_stats_t before;
    TU_OK(gw_journal_stats(fx->st, &before));
    assert_int_equal(before.depth, 6);

    TU_OK(gw_journal_forget_device(fx->st, "a1PK", "dev1", &removed));
    assert_int_equal(removed, 4);
    TU_OK(gw_journal_forget_device(fx->st, "a1PK", "dev1", &removed));
    assert_int_equal(removed, 0);

    gw_journal_stats_t after;
    TU_OK(gw_journal_stats(fx->st, &after));
    assert_int_equal(after.depth, 2);
    assert_int_equal(after.dropped, before.dropped + 4);
    assert_true(after.bytes < before.bytes);
    gw_journal_entry_t *e = NULL;
    size_t n = 0;
    TU_OK(gw_journal_read(fx->st, 0, 10, &e, &n));
    assert_int_equal(n, 2);
    assert_string_equal(e[0].dn, "dev2");
    assert_string_equal(e[1].pk, "b2PK");
    gw_journal_entries_free(e, n);
}

/* Entries given up (gw_journal_drop) count as dropped, never as acked. */
static void test_drop_counts_dropped(void **state)
{
    fx_t *fx = *state;
    uint64_t a = put(fx->st, 1), b = put(fx->st, 2);
    put(fx->st, 3);
    gw_journal_stats_t before, after;
    TU_OK(gw_journal_stats(fx->st, &before));
    uint64_t seqs[] = {a, b, 999};
    size_t removed = 0;
    TU_OK(gw_journal_drop(fx->st, seqs, 3, &removed));
    assert_int_equal(removed, 2);
    TU_OK(gw_journal_stats(fx->st, &after));
    assert_int_equal(after.depth, 1);
    assert_int_equal(after.dropped, before.dropped + 2);
    assert_int_equal(after.acked, before.acked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_read_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_and_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_drop_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_sync_normal_and_journal_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_counts_dropped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
