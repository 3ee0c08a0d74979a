/*
 * A tiny HTTPS file server for the OTA tests, on a thread of the test process
 * (OpenSSL, port 0 = a free loopback port with no race). It serves one
 * in-memory file on any path, honours "Range: bytes=N-" (206) and can cut the
 * first responses after a given offset or pause one until told, which
 * `openssl s_server -WWW` cannot.
 * Every request's range start is recorded for the assertions.
 */
#ifndef LINKGW_TESTS_OTA_HTTPS_SERVER_H
#define LINKGW_TESTS_OTA_HTTPS_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define HS_MAX_REQS 32

typedef struct hs {
    int port;
    /* behaviour: set before hs_start */
    const unsigned char *body;
    size_t len;
    size_t cut_at;      /* absolute offset where a cut response stops (0 = never cut) */
    int cuts;           /* how many responses are cut */
    size_t stall_at;    /* the first response pauses at this offset until `release` (0 = never) */
    volatile bool release;
    /* recorded (read under mu) */
    pthread_mutex_t mu;
    int nreq;
    long range_from[HS_MAX_REQS]; /* -1: no Range header */
    /* internal */
    void *ctx;
    int lfd;
    pthread_t th;
    volatile bool stop;
} hs_t;

/** Starts serving with @p cert / @p key (PEM files). 0 or -1. */
int hs_start(hs_t *s, const char *cert, const char *key);
/** Stops the thread and frees everything. */
void hs_stop(hs_t *s);
/** Number of requests served so far. */
int hs_requests(hs_t *s);

#endif
