/*
 * Parser of the console's "Batch Add" credentials CSV and its import into the credential table.
 * The accepted dialect and every rejection are described in cred_csv.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cred_csv.h"
#include "store_internal.h"

#define MAX_ERRORS 50

enum { COL_PK, COL_DN, COL_SECRET, NCOLS };
static const char *const col_names[NCOLS] = {"ProductKey", "DeviceName", "DeviceSecret"};

/* ------------------------------------------------------------------ error reporting */

typedef struct {
    const char *name;
    gw_csv_error_cb cb;
    void *ud;
    int count;
} errs_t;

static void report(errs_t *e, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(errs_t *e, int line, const char *fmt, ...)
{
    e->count++;
    if (!e->cb || e->count > MAX_ERRORS + 1)
        return;
    char msg[512];
    if (e->count == MAX_ERRORS + 1) {
        snprintf(msg, sizeof msg, "%s: too many errors, stopped reporting", e->name);
    } else {
        int n = line > 0 ? snprintf(msg, sizeof msg, "%s:%d: ", e->name, line)
                         : snprintf(msg, sizeof msg, "%s: ", e->name);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    e->cb(e->ud, msg);
}

/** A printable, bounded copy of untrusted text for a message (never used for secrets). */
static const char *shown(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 4 < cap; i++)
        buf[i] = ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) ? '?' : s[i];
    if (s[i])
        buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
    buf[i] = '\0';
    return buf;
}

/* ------------------------------------------------------------------ tokenizer */

typedef struct {
    char **f;      /* fields, each malloc'ed */
    size_t n, cap;
    bool quoted_any;
} record_t;

static void record_clear(record_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        OPENSSL_cleanse(r->f[i], strlen(r->f[i]));
        free(r->f[i]);
    }
    r->n = 0;
    r->quoted_any = false;
}

typedef struct {
    const char *p, *end;
    int line; /* current line number, 1-based */
} cursor_t;

/** Appends a field (copy of buf[0..len)) to @p r. */
static int add_field(record_t *r, const char *buf, size_t len)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 8;
        char **nf = realloc(r->f, ncap * sizeof *nf);
        if (!nf)
            return -1;
        r->f = nf;
        r->cap = ncap;
    }
    char *s = malloc(len + 1);
    if (!s)
        return -1;
    memcpy(s, buf, len);
    s[len] = '\0';
    r->f[r->n++] = s;
    return 0;
}

/** Consumes an end of line (CRLF, LF or CR) at the cursor if there is one. */
static bool eat_eol(cursor_t *c)
{
    if (c->p < c->end && *c->p == '\r') {
        c->p++;
        if (c->p < c->end && *c->p == '\n')
            c->p++;
        c->line++;
        return true;
    }
    if (c->p < c->end && *c->p == '\n') {
        c->p++;
        c->line++;
        return true;
    }
    return false;
}

/**
 * Reads one record. Returns 1 with the record, 0 at end of input, -1 on a syntax error (reported;
 * the cursor skips to the next line), -2 out of memory. *start receives the record's first line.
 */
static int next_record(cursor_t *c, record_t *r, int *start, errs_t *errs, char **scratch, size_t *scap)
{
    record_clear(r);
    if (c->p >= c->end)
        return 0;
    *start = c->line;
    for (;;) {
        size_t len = 0;
        while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
            c->p++;
        if (c->p < c->end && *c->p == '"') {
            r->quoted_any = true;
            int qline = c->line;
            c->p++;
            for (;;) {
                if (c->p >= c->end) {
                    report(errs, qline, "unterminated quoted field");
                    return -1;
                }
                char ch = *c->p;
                if (ch == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        c->p += 2;
                    } else {
                        c->p++;
                        break;
                    }
                } else {
                    if (ch == '\n' || (ch == '\r' && !(c->p + 1 < c->end && c->p[1] == '\n')))
                        c->line++;
                    c->p++;
                }
                if (len + 1 >= *scap) {
                    size_t ncap = *scap * 2;
                    char *ns = realloc(*scratch, ncap);
                    if (!ns)
                        return -2;
                    *scratch = ns;
                    *scap = ncap;
                }
                (*scratch)[len++] = ch;
            }
            while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
                c->p++;
            if (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n') {
                report(errs, c->line, "unexpected text after a closing quote");
                while (c->p < c->end && !eat_eol(c))
                    c->p++;
                return -1;
            }
        } else {
            const char *b = c->p;
            while (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n')
                c->p++;
            const char *e = c->p;
            while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            len = (size_t)(e - b);
            if (len + 1 > *scap) {
                char *ns = realloc(*scratch, len + 1);
                if (!ns)
                    return -2;
                *scratch = ns;
                *scap = len + 1;
            }
            memcpy(*scratch, b, len);
        }
        if (add_field(r, *scratch, len) != 0)
            return -2;
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        eat_eol(c);
        return 1;
    }
}

/** A record of only empty unquoted fields: a blank line, or ",,," from a spreadsheet. */
static bool record_blank(const record_t *r)
{
    if (r->quoted_any)
        return false;
    for (size_t i = 0; i < r->n; i++)
        if (r->f[i][0])
            return false;
    return true;
}

/** Header name comparison: case-insensitive, ignoring ' ', '_' and '-'. */
static bool header_is(const char *field, const char *want)
{
    const char *a = field, *b = want;
    for (;;) {
        while (*a == ' ' || *a == '_' || *a == '-')
            a++;
        if (!*a || !*b)
            return !*a && !*b;
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
        a++, b++;
    }
}

/* ------------------------------------------------------------------ parse */

typedef struct {
    char *pk, *dn, *secret;
    int line;
    size_t order;
    bool dup; /* identical repeat of an earlier row: not delivered */
} row_t;

static void rows_free(row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].pk);
        free(rows[i].dn);
        if (rows[i].secret) {
            OPENSSL_cleanse(rows[i].secret, strlen(rows[i].secret));
            free(rows[i].secret);
        }
    }
    free(rows);
}

static int row_cmp(const void *a, const void *b)
{
    const row_t *x = *(row_t *const *)a, *y = *(row_t *const *)b;
    int c = strcmp(x->pk, y->pk);
    if (!c)
        c = strcmp(x->dn, y->dn);
    if (!c)
        c = x->order < y->order ? -1 : x->order > y->order;
    return c;
}

/** Flags repeats: identical ones are skipped, conflicting ones reported. */
static int check_duplicates(row_t *rows, size_t n, errs_t *errs)
{
    if (n < 2)
        return 0;
    row_t **idx = malloc(n * sizeof *idx);
    if (!idx)
        return -1;
    for (size_t i = 0; i < n; i++)
        idx[i] = &rows[i];
    qsort(idx, n, sizeof *idx, row_cmp);
    size_t head = 0; /* first occurrence of the current pk/dn (sorted by file order within it) */
    for (size_t i = 1; i < n; i++) {
        row_t *first = idx[head], *cur = idx[i];
        if (strcmp(first->pk, cur->pk) != 0 || strcmp(first->dn, cur->dn) != 0) {
            head = i;
            continue;
        }
        cur->dup = true;
        if (strcmp(first->secret, cur->secret) != 0)
            report(errs, cur->line, "%s/%s is listed again with a different DeviceSecret (first at line %d)",
                   cur->pk, cur->dn, first->line);
    }
    free(idx);
    return 0;
}

int gw_cred_csv_parse(const char *name, const char *data, size_t len, gw_csv_row_cb on_row, void *row_ud,
                      gw_csv_error_cb on_error, void *err_ud)
{
    errs_t errs = {name ? name : "<csv>", on_error, err_ud, 0};
    if (!data && len)
        return GW_STORE_EINVAL;
    if (len > GW_CSV_MAX_BYTES) {
        report(&errs, 0, "file larger than %u bytes", GW_CSV_MAX_BYTES);
        return GW_STORE_EINVAL;
    }
    cursor_t c = {data, data + len, 1};
    if (len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
        (unsigned char)data[2] == 0xBF)
        c.p += 3;

    record_t r = {0};
    size_t scap = 256;
    char *scratch = malloc(scap);
    row_t *rows = NULL;
    size_t nrows = 0, rcap = 0;
    int col[NCOLS] = {-1, -1, -1};
    bool have_header = false;
    int rc = GW_STORE_OK, start = 0, k;
    if (!scratch)
        rc = GW_STORE_ENOMEM;

    while (rc == GW_STORE_OK && (k = next_record(&c, &r, &start, &errs, &scratch, &scap)) != 0) {
        if (k == -2) {
            rc = GW_STORE_ENOMEM;
            break;
        }
        if (k == -1 || record_blank(&r))
            continue;
        if (!have_header) {
            have_header = true;
            for (size_t i = 0; i < r.n; i++)
                for (int j = 0; j < NCOLS; j++)
                    if (header_is(r.f[i], col_names[j])) {
                        if (col[j] >= 0)
                            report(&errs, start, "column %s appears twice in the header", col_names[j]);
                        col[j] = (int)i;
                    }
            for (int j = 0; j < NCOLS; j++)
                if (col[j] < 0)
                    report(&errs, start, "header has no %s column (expected a header row naming "
                           "ProductKey, DeviceName and DeviceSecret)", col_names[j]);
            if (errs.count)
                break; /* rows cannot be interpreted without the header */
            continue;
        }
        size_t need = 0;
        for (int j = 0; j < NCOLS; j++)
            if ((size_t)col[j] + 1 > need)
                need = (size_t)col[j] + 1;
        if (r.n < need) {
            report(&errs, start, "%zu field%s, the header needs at least %zu", r.n, r.n == 1 ? "" : "s", need);
            continue;
        }
        const char *pk = r.f[col[COL_PK]], *dn = r.f[col[COL_DN]], *sec = r.f[col[COL_SECRET]];
        char b1[80], b2[80];
        bool bad = false;
        if (!*pk)
            report(&errs, start, "empty ProductKey"), bad = true;
        else if (!gw_store_name_valid(pk))
            report(&errs, start, "invalid ProductKey \"%s\" (1..64 of A-Z a-z 0-9 _ . : @ -)",
                   shown(pk, b1, sizeof b1)), bad = true;
        if (!*dn)
            report(&errs, start, "empty DeviceName"), bad = true;
        else if (!gw_store_name_valid(dn))
            report(&errs, start, "invalid DeviceName \"%s\" (1..64 of A-Z a-z 0-9 _ . : @ -)",
                   shown(dn, b2, sizeof b2)), bad = true;
        if (!*sec)
            report(&errs, start, "empty DeviceSecret"), bad = true;
        else if (!gw_store_secret_valid(sec))
            report(&errs, start, "invalid DeviceSecret (1..128 printable characters, no spaces)"), bad = true;
        if (bad)
            continue;
        if (nrows == rcap) {
            size_t ncap = rcap ? rcap * 2 : 64;
            row_t *nr = realloc(rows, ncap * sizeof *nr);
            if (!nr) {
                rc = GW_STORE_ENOMEM;
                break;
            }
            rows = nr;
            rcap = ncap;
        }
        row_t *w = &rows[nrows];
        memset(w, 0, sizeof *w);
        w->pk = strdup(pk);
        w->dn = strdup(dn);
        w->secret = strdup(sec);
        w->line = start;
        w->order = nrows;
        nrows++;
        if (!w->pk || !w->dn || !w->secret)
            rc = GW_STORE_ENOMEM;
    }
    if (rc == GW_STORE_OK && !have_header && !errs.count)
        report(&errs, 0, "empty file (expected a header row naming ProductKey, DeviceName and DeviceSecret)");
    if (rc == GW_STORE_OK && check_duplicates(rows, nrows, &errs) != 0)
        rc = GW_STORE_ENOMEM;

    int delivered = 0;
    if (rc == GW_STORE_OK && errs.count)
        rc = GW_STORE_EINVAL;
    for (size_t i = 0; rc == GW_STORE_OK && i < nrows; i++) {
        if (rows[i].dup)
            continue;
        if (on_row && on_row(row_ud, rows[i].line, rows[i].pk, rows[i].dn, rows[i].secret) != 0)
            rc = GW_STORE_EIO;
        else
            delivered++;
    }
    record_clear(&r);
    free(r.f);
    if (scratch) {
        OPENSSL_cleanse(scratch, scap);
        free(scratch);
    }
    rows_free(rows, nrows);
    return rc == GW_STORE_OK ? delivered : rc;
}

/* ------------------------------------------------------------------ import */

typedef struct {
    gw_store_t *st;
    gw_csv_import_result_t *res;
    int rc;
} import_ctx_t;

static int import_row(void *ud, int line, const char *pk, const char *dn, const char *secret)
{
    (void)line;
    import_ctx_t *x = ud;
    char old[GW_STORE_SECRET_MAX];
    int rc = gw_store_cred_get(x->st, pk, dn, old, NULL);
    if (rc == GW_STORE_OK && strcmp(old, secret) == 0) {
        x->res->unchanged++;
    } else if (rc == GW_STORE_OK || rc == GW_STORE_NOTFOUND) {
        if (rc == GW_STORE_OK)
            x->res->replaced++;
        else
            x->res->added++;
        rc = st_cred_put_locked(x->st, pk, dn, secret, GW_CRED_IMPORTED);
    }
    OPENSSL_cleanse(old, sizeof old);
    x->res->rows++;
    if (rc != GW_STORE_OK) {
        x->rc = rc;
        return 1;
    }
    return 0;
}

int gw_store_cred_import_csv(gw_store_t *st, const char *name, const char *data, size_t len,
                             gw_csv_import_result_t *result, gw_csv_error_cb on_error, void *err_ud)
{
    st_clear_err(st);
    gw_csv_import_result_t local;
    gw_csv_import_result_t *res = result ? result : &local;
    memset(res, 0, sizeof *res);
    /* Validate first, outside any transaction: a bad file costs no write lock. */
    int rc = gw_cred_csv_parse(name, data, len, NULL, NULL, on_error, err_ud);
    if (rc < 0)
        return rc == GW_STORE_EINVAL ? st_fail(st, rc, "%s: invalid credentials file", name ? name : "<csv>") : rc;
    if ((rc = st_tx_begin(st)) != GW_STORE_OK)
        return rc;
    import_ctx_t x = {st, res, GW_STORE_OK};
    rc = gw_cred_csv_parse(name, data, len, import_row, &x, NULL, NULL);
    if (rc < 0)
        rc = x.rc != GW_STORE_OK ? x.rc : rc;
    else
        rc = GW_STORE_OK;
    rc = st_tx_end(st, rc);
    if (rc != GW_STORE_OK)
        memset(res, 0, sizeof *res);
    return rc;
}

int gw_store_cred_import_csv_file(gw_store_t *st, const char *path, gw_csv_import_result_t *result,
                                  gw_csv_error_cb on_error, void *err_ud)
{
    st_clear_err(st);
    char msg[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (on_error)
            on_error(err_ud, msg);
        return st_fail(st, GW_STORE_EIO, "%s", msg);
    }
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > GW_CSV_MAX_BYTES) {
        close(fd);
        snprintf(msg, sizeof msg, "%s: not a regular file of at most %u bytes", path, GW_CSV_MAX_BYTES);
        if (on_error)
            on_error(err_ud, msg);
        return st_fail(st, GW_STORE_EINVAL, "%s", msg);
    }
    size_t len = (size_t)sb.st_size, got = 0;
    char *buf = malloc(len ? len : 1);
    if (!buf) {
        close(fd);
        return st_fail(st, GW_STORE_ENOMEM, "out of memory");
    }
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    int rc;
    if (got != len) {
        snprintf(msg, sizeof msg, "%s: short read", path);
        if (on_error)
            on_error(err_ud, msg);
        rc = st_fail(st, GW_STORE_EIO, "%s", msg);
    } else {
        rc = gw_store_cred_import_csv(st, path, buf, len, result, on_error, err_ud);
    }
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}
