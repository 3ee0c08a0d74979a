/*
 * Store-and-forward journal (table journal, totals in journal_meta kept by triggers).
 * See journal.h for the contracts.
 */
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "store_internal.h"

#define ENTRY_OVERHEAD 48

uint64_t gw_journal_entry_size(const gw_journal_rec_t *r)
{
    return ENTRY_OVERHEAD + strlen(r->pk) + strlen(r->dn) + strlen(r->identifier) + strlen(r->value_json);
}

static int rec_valid(gw_store_t *st, const gw_journal_rec_t *r)
{
    if (!r || !gw_store_name_valid(r->pk) || !gw_store_name_valid(r->dn))
        return st_fail(st, GW_STORE_EINVAL, "journal entry: invalid ProductKey or DeviceName");
    if (r->kind != GW_JOURNAL_PROPERTY && r->kind != GW_JOURNAL_EVENT)
        return st_fail(st, GW_STORE_EINVAL, "journal entry: invalid kind");
    if (!st_text_valid(r->identifier, GW_STORE_TEXT_MAX))
        return st_fail(st, GW_STORE_EINVAL, "journal entry: invalid identifier");
    if (!r->value_json || !*r->value_json || strlen(r->value_json) > GW_JOURNAL_VALUE_MAX)
        return st_fail(st, GW_STORE_EINVAL, "journal entry %s: value missing or larger than %d bytes",
                       r->identifier, GW_JOURNAL_VALUE_MAX);
    return GW_STORE_OK;
}

static int read_meta(gw_store_t *st, uint64_t *bytes, uint64_t *depth, uint64_t *dropped, uint64_t *acked)
{
    sqlite3_stmt *s = st_stmt(st, "SELECT bytes, depth, dropped, acked FROM journal_meta WHERE id = 1");
    if (!s)
        return GW_STORE_EIO;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *bytes = (uint64_t)sqlite3_column_int64(s, 0);
        if (depth)
            *depth = (uint64_t)sqlite3_column_int64(s, 1);
        if (dropped)
            *dropped = (uint64_t)sqlite3_column_int64(s, 2);
        if (acked)
            *acked = (uint64_t)sqlite3_column_int64(s, 3);
    }
    sqlite3_reset(s);
    return r == SQLITE_ROW ? GW_STORE_OK : st_sqlfail(st, "read journal totals");
}

/** Inside a transaction: adds @p n to one of journal_meta's running counters (@p sql). */
static int add_counter(gw_store_t *st, const char *sql, uint64_t n, const char *what)
{
    sqlite3_stmt *s = st_stmt(st, sql);
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_int64(s, 1, (int64_t)n);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GW_STORE_OK : st_sqlfail(st, what);
}

static int add_dropped(gw_store_t *st, uint64_t n, const char *what)
{
    return add_counter(st, "UPDATE journal_meta SET dropped = dropped + ?1 WHERE id = 1", n, what);
}

/** Inside a transaction: deletes the oldest entries until @p need bytes are freed (or the journal
 *  is empty), and counts them as dropped. */
static int drop_oldest(gw_store_t *st, uint64_t need)
{
    sqlite3_stmt *s = st_stmt(st, "SELECT seq, size FROM journal ORDER BY seq");
    if (!s)
        return GW_STORE_EIO;
    uint64_t freed = 0, n = 0;
    int64_t last = -1;
    int r;
    while (freed < need && (r = sqlite3_step(s)) == SQLITE_ROW) {
        last = sqlite3_column_int64(s, 0);
        freed += (uint64_t)sqlite3_column_int64(s, 1);
        n++;
    }
    sqlite3_reset(s);
    if (last < 0)
        return GW_STORE_OK;
    s = st_stmt(st, "DELETE FROM journal WHERE seq <= ?1");
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_int64(s, 1, last);
    r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        return st_sqlfail(st, "drop oldest journal entries");
    return add_dropped(st, n, "count dropped entries");
}

/** Inside a transaction: makes room for @p incoming more bytes under the budget. */
static int enforce_budget(gw_store_t *st, uint64_t incoming)
{
    uint64_t bytes = 0;
    int rc = read_meta(st, &bytes, NULL, NULL, NULL);
    if (rc != GW_STORE_OK)
        return rc;
    if (bytes + incoming <= st->journal_budget)
        return GW_STORE_OK;
    return drop_oldest(st, bytes + incoming - st->journal_budget);
}

int gw_journal_append(gw_store_t *st, const gw_journal_rec_t *rec, uint64_t *seq_out)
{
    st_clear_err(st);
    int rc = rec_valid(st, rec);
    if (rc != GW_STORE_OK)
        return rc;
    uint64_t size = gw_journal_entry_size(rec);
    if (size > st->journal_budget)
        return st_fail(st, GW_STORE_EINVAL, "journal entry %s (%llu bytes) is larger than the whole budget",
                       rec->identifier, (unsigned long long)size);
    if ((rc = st_tx_begin_journal(st)) != GW_STORE_OK)
        return rc;
    if ((rc = enforce_budget(st, size)) != GW_STORE_OK)
        return st_tx_end(st, rc);
    sqlite3_stmt *s = st_stmt(st, "INSERT INTO journal(pk, dn, kind, ident, value, ts_ms, size) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, rec->pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, rec->dn, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, (int)rec->kind);
    sqlite3_bind_text(s, 4, rec->identifier, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, rec->value_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, rec->ts_ms);
    sqlite3_bind_int64(s, 7, (int64_t)size);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        return st_tx_end(st, st_sqlfail(st, "append to journal"));
    uint64_t seq = (uint64_t)sqlite3_last_insert_rowid(st->db);
    rc = st_tx_end(st, GW_STORE_OK);
    if (rc == GW_STORE_OK && seq_out)
        *seq_out = seq;
    return rc;
}

void gw_journal_entries_free(gw_journal_entry_t *e, size_t n)
{
    if (!e)
        return;
    for (size_t i = 0; i < n; i++)
        free(e[i].value_json);
    free(e);
}

int gw_journal_read(gw_store_t *st, uint64_t after_seq, size_t max, gw_journal_entry_t **out, size_t *count)
{
    st_clear_err(st);
    *out = NULL;
    *count = 0;
    if (max == 0)
        return GW_STORE_OK;
    sqlite3_stmt *s = st_stmt(st, "SELECT seq, pk, dn, kind, ident, value, ts_ms FROM journal "
                                  "WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    if (!s)
        return GW_STORE_EIO;
    sqlite3_bind_int64(s, 1, (int64_t)after_seq);
    sqlite3_bind_int64(s, 2, (int64_t)(max > INT64_MAX ? INT64_MAX : max));
    gw_journal_entry_t *arr = NULL;
    size_t n = 0, cap = 0;
    int rc = GW_STORE_OK, r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : (max < 64 ? max : 64);
            gw_journal_entry_t *na = realloc(arr, ncap * sizeof *na);
            if (!na) {
                rc = st_fail(st, GW_STORE_ENOMEM, "out of memory");
                break;
            }
            arr = na;
            cap = ncap;
        }
        gw_journal_entry_t *e = &arr[n];
        memset(e, 0, sizeof *e);
        e->seq = (uint64_t)sqlite3_column_int64(s, 0);
        st_copy_col(e->pk, sizeof e->pk, s, 1);
        st_copy_col(e->dn, sizeof e->dn, s, 2);
        e->kind = (gw_journal_kind_t)sqlite3_column_int(s, 3);
        st_copy_col(e->identifier, sizeof e->identifier, s, 4);
        const char *v = (const char *)sqlite3_column_text(s, 5);
        e->value_json = strdup(v ? v : "");
        e->ts_ms = sqlite3_column_int64(s, 6);
        if (!e->value_json) {
            rc = st_fail(st, GW_STORE_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    if (rc == GW_STORE_OK && r != SQLITE_DONE)
        rc = st_sqlfail(st, "read journal");
    sqlite3_reset(s);
    if (rc != GW_STORE_OK) {
        gw_journal_entries_free(arr, n);
        return rc;
    }
    *out = arr;
    *count = n;
    return GW_STORE_OK;
}

static int add_acked(gw_store_t *st, size_t n)
{
    return add_counter(st, "UPDATE journal_meta SET acked = acked + ?1 WHERE id = 1", n, "count acked entries");
}

/* Deletes the listed entries in one transaction and counts them as acked or as dropped. */
static int delete_seqs(gw_store_t *st, const uint64_t *seqs, size_t n, size_t *removed, bool dropped)
{
    st_clear_err(st);
    if (removed)
        *removed = 0;
    if (n && !seqs)
        return st_fail(st, GW_STORE_EINVAL, "no sequence numbers");
    int rc = st_tx_begin_journal(st);
    if (rc != GW_STORE_OK)
        return rc;
    size_t done = 0;
    for (size_t i = 0; i < n && rc == GW_STORE_OK; i++) {
        sqlite3_stmt *s = st_stmt(st, "DELETE FROM journal WHERE seq = ?1");
        if (!s) {
            rc = GW_STORE_EIO;
            break;
        }
        sqlite3_bind_int64(s, 1, (int64_t)seqs[i]);
        int r = sqlite3_step(s);
        sqlite3_reset(s);
        if (r != SQLITE_DONE)
            rc = st_sqlfail(st, dropped ? "drop journal entry" : "acknowledge journal entry");
        else
            done += (size_t)sqlite3_changes(st->db);
    }
    if (rc == GW_STORE_OK && done)
        rc = dropped ? add_dropped(st, done, "count dropped entries") : add_acked(st, done);
    rc = st_tx_end(st, rc);
    if (rc == GW_STORE_OK && removed)
        *removed = done;
    return rc;
}

int gw_journal_ack(gw_store_t *st, const uint64_t *seqs, size_t n, size_t *removed)
{
    return delete_seqs(st, seqs, n, removed, false);
}

int gw_journal_drop(gw_store_t *st, const uint64_t *seqs, size_t n, size_t *removed)
{
    return delete_seqs(st, seqs, n, removed, true);
}

int gw_journal_forget_device(gw_store_t *st, const char *pk, const char *dn, size_t *removed)
{
    st_clear_err(st);
    if (removed)
        *removed = 0;
    int rc = st_check_names(st, pk, dn);
    if (rc != GW_STORE_OK || (rc = st_tx_begin_journal(st)) != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "DELETE FROM journal WHERE pk = ?1 AND dn = ?2");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_text(s, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dn, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    size_t done = 0;
    if (r != SQLITE_DONE)
        rc = st_sqlfail(st, "forget journal entries of a device");
    else
        done = (size_t)sqlite3_changes(st->db);
    if (rc == GW_STORE_OK && done)
        rc = add_dropped(st, done, "count forgotten entries");
    rc = st_tx_end(st, rc);
    if (rc == GW_STORE_OK && removed)
        *removed = done;
    return rc;
}

int gw_journal_ack_range(gw_store_t *st, uint64_t first, uint64_t last, size_t *removed)
{
    st_clear_err(st);
    if (removed)
        *removed = 0;
    if (first > last)
        return st_fail(st, GW_STORE_EINVAL, "empty sequence range");
    int rc = st_tx_begin_journal(st);
    if (rc != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "DELETE FROM journal WHERE seq BETWEEN ?1 AND ?2");
    if (!s)
        return st_tx_end(st, GW_STORE_EIO);
    sqlite3_bind_int64(s, 1, (int64_t)first);
    sqlite3_bind_int64(s, 2, (int64_t)last);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    size_t done = 0;
    if (r != SQLITE_DONE)
        rc = st_sqlfail(st, "acknowledge journal entries");
    else
        done = (size_t)sqlite3_changes(st->db);
    if (rc == GW_STORE_OK && done)
        rc = add_acked(st, done);
    rc = st_tx_end(st, rc);
    if (rc == GW_STORE_OK && removed)
        *removed = done;
    return rc;
}

int gw_journal_stats(gw_store_t *st, gw_journal_stats_t *out)
{
    st_clear_err(st);
    memset(out, 0, sizeof *out);
    out->budget = st->journal_budget;
    int rc = read_meta(st, &out->bytes, &out->depth, &out->dropped, &out->acked);
    if (rc != GW_STORE_OK)
        return rc;
    sqlite3_stmt *s = st_stmt(st, "SELECT ts_ms FROM journal ORDER BY seq LIMIT 1");
    if (!s)
        return GW_STORE_EIO;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        out->oldest_ts_ms = sqlite3_column_int64(s, 0);
        int64_t age = gw_store_now_ms() - out->oldest_ts_ms;
        out->oldest_age_ms = age > 0 ? age : 0;
    }
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return st_sqlfail(st, "read oldest journal entry");
    s = st_stmt(st, "SELECT seq FROM sqlite_sequence WHERE name = 'journal'");
    if (!s)
        return GW_STORE_EIO;
    r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        out->last_seq = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return st_sqlfail(st, "read last journal sequence");
    return GW_STORE_OK;
}

int gw_journal_set_budget(gw_store_t *st, uint64_t max_bytes)
{
    st_clear_err(st);
    if (max_bytes == 0 || max_bytes > (uint64_t)INT64_MAX)
        return st_fail(st, GW_STORE_EINVAL, "journal budget must be positive");
    uint64_t old = st->journal_budget;
    st->journal_budget = max_bytes;
    int rc = st_tx_begin_journal(st);
    if (rc == GW_STORE_OK)
        rc = st_tx_end(st, enforce_budget(st, 0));
    if (rc != GW_STORE_OK)
        st->journal_budget = old;
    return rc;
}
