/*
 * Helpers for the cloud tests: a real mosquitto started on a free loopback
 * port (plain or TLS, with certificates made by the openssl CLI at test
 * time), a scripted "fake platform" client (libmosquitto) that answers Alink
 * requests and injects downstream messages, and a loop driver.
 */
#ifndef LINKGW_TESTS_CLOUD_UTIL_H
#define LINKGW_TESTS_CLOUD_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

/* ------------------------------------------------------------ mosquitto */

typedef struct tu_broker {
    pid_t pid;
    int port;
    char dir[256];    /* scratch dir (config, log, certs) */
    char conf[512];   /* config file path */
    char extra[2048]; /* listener options appended after "listener" */
    char global[2048]; /* options before the listener */
} tu_broker_t;

/** Makes a scratch directory under $TMPDIR; returns 0. */
int tu_mkdtemp(char *out, size_t cap);
/** rm -rf @p dir. */
void tu_rmtree(const char *dir);
/** A loopback TCP port that was free a moment ago. */
int tu_free_port(void);
/** Starts mosquitto on a free port (b->port 0) or b->port; waits until it accepts. 0 or -1. */
int tu_broker_start(tu_broker_t *b);
/** Stops it (SIGTERM, then SIGKILL after 3 s). Idempotent. */
void tu_broker_stop(tu_broker_t *b);

/** Creates in @p dir: ca.pem/ca.key, server.pem/server.key (SAN 127.0.0.1, localhost, signed by ca), other-ca.pem. */
int tu_make_certs(const char *dir);

/* ------------------------------------------------------- fake platform */

#define TU_MAX_RECS 4096

typedef struct tu_rec {
    char *topic;
    char *payload;
} tu_rec_t;

typedef struct tu_fake {
    struct mosquitto *m;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool connected, subscribed;
    int64_t ntp_offset_ms; /* server time = local + this */
    bool answer_posts;     /* play the platform: answer NTP and property/post requests */
    tu_rec_t recs[TU_MAX_RECS];
    int nrec;
} tu_fake_t;

/** Connects a fake platform to 127.0.0.1:@p port, subscribed to /sys/# and /ext/#. */
int tu_fake_start(tu_fake_t *f, int port);
/** Same, logged in as @p user (e.g. the emulator's admin): records only, answers nothing. */
int tu_fake_start_as(tu_fake_t *f, int port, const char *user, const char *pass);
void tu_fake_stop(tu_fake_t *f);
/** Publishes (QoS 1). */
int tu_fake_publish(tu_fake_t *f, const char *topic, const char *payload);
/** Number of recorded messages whose topic equals @p topic and payload contains @p needle (NULL = any). */
int tu_fake_count(tu_fake_t *f, const char *topic, const char *needle);
/** Copy of the last such payload (caller frees) or NULL. */
char *tu_fake_last(tu_fake_t *f, const char *topic, const char *needle);

/* ------------------------------------------------------------ loop */

/** Runs @p loop until @p pred(arg) is true or @p timeout_ms passed. Returns the predicate's last value. */
bool tu_run_until(uv_loop_t *loop, bool (*pred)(void *), void *arg, unsigned timeout_ms);
/** Runs @p loop for @p ms. */
void tu_run_for(uv_loop_t *loop, unsigned ms);

#endif
