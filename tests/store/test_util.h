/*
 * Helpers shared by the gw_store tests: scratch directories, file inspection, cmocka glue.
 */
#ifndef LINKGW_TESTS_STORE_UTIL_H
#define LINKGW_TESTS_STORE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store/store.h"

/** A fresh directory under $TMPDIR (or /tmp); malloc'ed path. */
char *tu_mkdtemp(void);
/** Removes a directory tree (best effort). */
void tu_rmrf(const char *path);
/** dir + "/" + name, malloc'ed. */
char *tu_path(const char *dir, const char *name);
/** Permission bits of @p path, or -1 if it does not exist. */
int tu_mode(const char *path);
/** True if the file contains @p needle. */
bool tu_file_contains(const char *path, const void *needle, size_t n);
/** Opens the store in @p dir with @p opts, failing the test on error. */
gw_store_t *tu_open(const char *dir, const gw_store_options_t *opts);
/** Runs one SQL statement on the database file directly (to tamper with it). */
void tu_sql(const char *db_path, const char *sql);
/** Runs a query returning one integer. */
long long tu_sql_int(const char *db_path, const char *sql);
/** Flips the lowest bit of byte @p offset of a blob column in the row matching @p where. */
void tu_flip_blob_bit(const char *db_path, const char *table, const char *col, const char *where, int offset);

#define TU_OK(expr)                                                                                  \
    do {                                                                                             \
        int tu_rc_ = (expr);                                                                         \
        if (tu_rc_ != GW_STORE_OK)                                                                   \
            fail_msg("%s -> %d (%s)", #expr, tu_rc_, gw_store_rc_str(tu_rc_));                       \
    } while (0)

#endif
