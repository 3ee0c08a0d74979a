/*
 * Internals shared by the gw_store source files: the handle, the statement cache, transaction
 * helpers, error reporting, schema migrations, the key file and the secret sealing.
 * Not installed, not included outside core/store/.
 */
#ifndef LINKGW_CORE_STORE_INTERNAL_H
#define LINKGW_CORE_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

#define GW_STORE_KEY_LEN 32
#define GW_STORE_STMT_CACHE 128

struct gw_store {
    sqlite3 *db;
    unsigned char key[GW_STORE_KEY_LEN];
    char *dir;
    char *db_path;
    char *key_path;
    bool in_batch;
    bool sync_normal;          /* the store's synchronous setting is NORMAL */
    bool journal_sync_normal;  /* option: journal transactions commit with NORMAL */
    bool relaxed_now;          /* the current transaction switched to NORMAL */
    bool batch_journal;        /* the open batch came from gw_journal_batch_begin */
    uint64_t journal_budget;
    char err[256];
    struct {
        const char *sql;   /* identity: the string literal's address */
        sqlite3_stmt *stmt;
    } cache[GW_STORE_STMT_CACHE];
    int ncache;
};

/* ---- errors (store_open.c) ---- */
/** Records a message in st->err and returns @p rc. */
int st_fail(gw_store_t *st, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Records "<what>: <sqlite message>" and returns GW_STORE_EIO. */
int st_sqlfail(gw_store_t *st, const char *what);
/** Checks @p pk and @p dn are valid names (GW_STORE_EINVAL with a message otherwise). */
int st_check_names(gw_store_t *st, const char *pk, const char *dn);
/**
 * Runs @p sql (a SELECT with ?1 = pk, ?2 = dn) and sets @p *has to whether it
 * returned a row; @p what names the read in the error message.
 */
int st_pkdn_exists(gw_store_t *st, const char *sql, const char *pk, const char *dn, const char *what, bool *has);
/** Clears st->err at the start of a public call. */
void st_clear_err(gw_store_t *st);

/* ---- statements and transactions (store_open.c) ---- */
/** A cached prepared statement for the literal @p sql, reset and with cleared bindings; NULL on
 *  error (st->err set). Callers sqlite3_reset() it when done so no read transaction lingers. */
sqlite3_stmt *st_stmt(gw_store_t *st, const char *sql);
/** Runs a statement without result rows through the cache. */
int st_exec(gw_store_t *st, const char *sql);
/** Starts a mutation: BEGIN IMMEDIATE, or SAVEPOINT inside a batch (ESTATE inside a journal
 *  batch: those hold journal operations only). */
int st_tx_begin(gw_store_t *st);
/** Same for a journal mutation: with the journal_sync_normal option and outside a batch, the
 *  transaction commits with synchronous=NORMAL. */
int st_tx_begin_journal(gw_store_t *st);
/** Ends it: commit/release if @p rc >= 0, roll back otherwise. Returns @p rc, or GW_STORE_EIO if
 *  the commit itself failed (then everything was rolled back). */
int st_tx_end(gw_store_t *st, int rc);

/* ---- schema (schema.c) ---- */
#define GW_STORE_SCHEMA_VERSION 1
/** Brings the schema to GW_STORE_SCHEMA_VERSION, one transaction per step. */
int st_migrate(gw_store_t *st);

/* ---- key file (keyfile.c) ---- */
/** Loads st->key from st->key_path, creating it when @p may_create and it does not exist.
 *  Sets *created. */
int st_key_load_or_create(gw_store_t *st, bool may_create, bool *created);

/* ---- sealing (seal.c) ---- */
#define GW_SEAL_VERSION 1
#define GW_SEAL_NONCE 12
#define GW_SEAL_TAG 16
#define GW_SEAL_OVERHEAD (1 + GW_SEAL_NONCE + GW_SEAL_TAG)
/** Builds the associated data "linkgw-store\0<table>\0<pk>\0<dn>" into @p buf; returns its length
 *  or 0 if it does not fit. */
size_t st_aad(unsigned char *buf, size_t cap, const char *table, const char *pk, const char *dn);
/** Encrypts @p pt (ptlen bytes) into @p out (ptlen + GW_SEAL_OVERHEAD bytes): version byte, random
 *  nonce, ciphertext, tag. Returns 0 or -1 (RNG or cipher failure). */
int st_seal(const unsigned char key[GW_STORE_KEY_LEN], const unsigned char *aad, size_t aadlen,
            const unsigned char *pt, size_t ptlen, unsigned char *out);
/** Decrypts and authenticates; @p pt has room for inlen - GW_SEAL_OVERHEAD bytes. Returns 0, or
 *  -1 if the blob is malformed or does not authenticate (the plaintext buffer is wiped). */
int st_unseal(const unsigned char key[GW_STORE_KEY_LEN], const unsigned char *aad, size_t aadlen,
              const unsigned char *in, size_t inlen, unsigned char *pt, size_t *ptlen);

/* ---- secrets in rows (cred.c) ---- */
/** Binds the sealed @p secret for row (table, pk, dn) to parameter @p idx of @p stmt (copied). */
int st_bind_secret(gw_store_t *st, sqlite3_stmt *stmt, int idx, const char *table, const char *pk,
                   const char *dn, const char *secret);
/** Decrypts column @p col of the current row of @p stmt, sealed for (table, pk, dn). */
int st_column_secret(gw_store_t *st, sqlite3_stmt *stmt, int col, const char *table, const char *pk,
                     const char *dn, char out[GW_STORE_SECRET_MAX]);
/** Upsert of a credential inside the caller's transaction. */
int st_cred_put_locked(gw_store_t *st, const char *pk, const char *dn, const char *secret,
                       gw_cred_source_t source);

/* ---- small helpers ---- */
/** 1..max-1 chars, none a control character (< 0x20 or 0x7f). */
bool st_text_valid(const char *s, size_t max);
/** Copies column text into a fixed buffer (truncating, always NUL-terminated). */
void st_copy_col(char *dst, size_t cap, sqlite3_stmt *stmt, int col);

#endif
