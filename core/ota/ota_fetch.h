/*
 * One firmware download on a thread of its own (libcurl easy interface, the
 * OpenSSL backend), then the sign check of the whole file — nothing here
 * touches the loop except through the uv_async_t given by the owner.
 *
 * The owner (ota.c) fills the request part, calls gw_ota_fetch_start(), reads
 * `got` whenever the async fires for progress, and when `finished` is set
 * joins the thread (gw_ota_fetch_join) and reads the outcome.
 */
#ifndef LINKGW_CORE_OTA_FETCH_H
#define LINKGW_CORE_OTA_FETCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/** Sign algorithms of a task. */
typedef enum gw_ota_sign_method { GW_OTA_MD5 = 0, GW_OTA_SHA256 = 1 } gw_ota_sign_method_t;

typedef struct gw_ota_fetch {
    /* request: set by the owner before start, read-only afterwards */
    const char *url;
    const char *path;           /* destination file (partial content is resumed) */
    const char *ca_file;        /* or NULL */
    int64_t size;               /* exact expected size (already checked against the cap) */
    gw_ota_sign_method_t method;
    const char *sign;           /* hex */
    unsigned retries, retry_delay_ms, stall_timeout_s;
    uv_async_t *wake;           /* sent on progress and once when finished */

    /* live state (any thread) */
    atomic_llong got;           /* bytes in the file so far */
    atomic_bool cancel;         /* set by the owner: stop as soon as possible */
    atomic_bool finished;       /* set by the thread as its last act */
    atomic_uint resumed;        /* attempts that continued with a Range request */

    /* outcome, valid once finished: 0 ok, -2 download failed, -3 sign mismatch */
    int step;
    char desc[160];

    uv_thread_t thread;
    bool started;
} gw_ota_fetch_t;

/** Parses "Md5", "SHA256" or "Sha256" (the spellings the platform uses). 0 or -1. */
int gw_ota_sign_method_parse(const char *s, gw_ota_sign_method_t *out);
/** Hex digits of a sign of @p m: 32 or 64. */
size_t gw_ota_sign_len(gw_ota_sign_method_t m);
/** Digest of the file at @p path as lower-case hex into @p out (65 bytes). 0 or -1 (errno kept). */
int gw_ota_file_digest(const char *path, gw_ota_sign_method_t m, char out[65]);

/**
 * Loads (dlopen) and initialises libcurl once per process; thread-safe, may
 * take milliseconds, so call it off the loop (the download thread does).
 * 0, or -1 with the reason in *@p why (static text) when @p why is not NULL.
 */
int gw_ota_fetch_global_init(const char **why);

/** Starts the download thread. 0 or -1 (nothing started). */
int gw_ota_fetch_start(gw_ota_fetch_t *f);
/** Joins the thread (after `finished`, or after setting `cancel`: returns within about a second). */
void gw_ota_fetch_join(gw_ota_fetch_t *f);

#endif
