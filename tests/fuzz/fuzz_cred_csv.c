/*
 * Fuzz target: the console's device-credential CSV (core/store/cred_csv.h).
 * Input: the file's bytes. Checks besides memory safety: the parser either
 * delivers exactly the number of rows it returns, or refuses with at least
 * one "<file>:<line>: message" and delivers nothing; a row callback that
 * asks to stop ends the parse with GW_STORE_EIO.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "store/cred_csv.h"

typedef struct {
    int rows, errors;
} ctx_t;

static int on_row(void *ud, int line, const char *pk, const char *dn, const char *secret)
{
    ctx_t *c = ud;
    if (line < 1 || !pk || !*pk || !dn || !*dn || !secret || !*secret)
        abort();
    c->rows++;
    return 0;
}

static int stop_row(void *ud, int line, const char *pk, const char *dn, const char *secret)
{
    (void)ud;
    (void)line;
    (void)pk;
    (void)dn;
    (void)secret;
    return 1;
}

static void on_error(void *ud, const char *message)
{
    ctx_t *c = ud;
    if (!message || strncmp(message, "fuzz.csv", 8) != 0)
        abort(); /* every message names the file */
    c->errors++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctx_t c = { 0 };
    int rc = gw_cred_csv_parse("fuzz.csv", (const char *)data, size, on_row, &c, on_error, &c);
    if (rc >= 0 && (rc != c.rows || c.errors))
        abort();
    if (rc < 0 && c.rows)
        abort(); /* a refused file delivers nothing */
    if (rc == GW_STORE_EINVAL && !c.errors)
        abort();
    /* again without callbacks, and with a row callback that stops at once */
    int rc2 = gw_cred_csv_parse("fuzz.csv", (const char *)data, size, NULL, NULL, NULL, NULL);
    if (rc2 != rc)
        abort();
    if (rc > 0 && gw_cred_csv_parse("fuzz.csv", (const char *)data, size, stop_row, NULL, NULL, NULL) != GW_STORE_EIO)
        abort();
    return 0;
}
