/*
 * Import of sub-device credentials from the IoT Platform console's "Batch Add" CSV export.
 *
 * What the file looks like (assumed from the console's device-certificate download and public
 * examples of it; the exact export is not documented): a header row naming the columns, then one
 * device per row, e.g.
 *
 *     ProductKey,DeviceName,DeviceSecret
 *     a1622GZELFq,PzG64uonPrepRRSSe5mO,d38da90ab1f9adc159bd412ab66d3ed4
 *
 * Tolerated: any column order and extra columns (IotId, Nickname, ... are ignored); header names
 * compared case-insensitively ignoring spaces, '_' and '-' ("product_key", "Device Name" match);
 * a UTF-8 byte-order mark; CRLF, LF or CR line ends; RFC 4180 quoting ("a,b", "say ""hi""", line
 * breaks inside quotes); spaces around unquoted fields; blank lines; a final line without newline.
 * Rejected, each reported as "<file>:<line>: <message>" (line of the record's start, 1-based):
 * a missing or duplicated required column, a row with too few fields, an empty or invalid
 * ProductKey/DeviceName/DeviceSecret (the message never contains the secret), an unterminated
 * quote, a device listed twice with different secrets. A file with any bad row imports nothing.
 */
#ifndef LINKGW_CORE_STORE_CRED_CSV_H
#define LINKGW_CORE_STORE_CRED_CSV_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Receives one "<file>:<line>: <message>" line per problem. */
typedef void (*gw_csv_error_cb)(void *ud, const char *message);
/** Receives one valid row (strings valid during the call only). Return 0 to continue, non-zero to
 *  stop the parse with GW_STORE_EIO. */
typedef int (*gw_csv_row_cb)(void *ud, int line, const char *pk, const char *dn, const char *secret);

/** Largest accepted file (bytes). */
#define GW_CSV_MAX_BYTES (32u * 1024 * 1024)

/**
 * Parses CSV text without touching any database.
 * @param name file name used in messages.
 * @param on_row called for each valid row, only when the whole text is valid (first pass
 *               validates everything, second pass delivers), so a bad file delivers no row.
 * @param on_error may be NULL. At most 50 problems are reported, then one "too many errors" line.
 * @return number of rows (>= 0), or GW_STORE_EINVAL (problems reported), ENOMEM, EIO (on_row stop).
 */
int gw_cred_csv_parse(const char *name, const char *data, size_t len, gw_csv_row_cb on_row,
                      void *row_ud, gw_csv_error_cb on_error, void *err_ud);

/** Result of an import. */
typedef struct {
    size_t rows;       /**< valid rows in the file */
    size_t added;      /**< credentials that were not held before */
    size_t replaced;   /**< held before with a different secret, now replaced */
    size_t unchanged;  /**< held before with the same secret */
} gw_csv_import_result_t;

/**
 * Imports CSV text into the credential table (source GW_CRED_IMPORTED), all rows in one
 * transaction: either every row is stored or none.
 * @return OK, EINVAL (problems reported through on_error), ECRYPTO (a held secret did not decrypt
 *         while comparing: nothing imported), EIO, ENOMEM.
 */
int gw_store_cred_import_csv(gw_store_t *st, const char *name, const char *data, size_t len,
                             gw_csv_import_result_t *result, gw_csv_error_cb on_error, void *err_ud);

/** Same, reading @p path (at most GW_CSV_MAX_BYTES); an unreadable file is one "<path>: <errno
 *  text>" message and EIO. */
int gw_store_cred_import_csv_file(gw_store_t *st, const char *path, gw_csv_import_result_t *result,
                                  gw_csv_error_cb on_error, void *err_ud);

#ifdef __cplusplus
}
#endif
#endif
