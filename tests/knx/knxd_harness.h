/*
 * Test harness around a real knxd on its dummy bus: start it on a unique unix
 * socket (and optionally a free loopback TCP port), wait until it accepts
 * group-socket clients, stop and restart it; run knxtool; and a group-socket
 * client the tests use as "the rest of the bus" — to watch what the plugin
 * sends and to answer its read requests like a KNX device would.
 */
#ifndef KNXD_HARNESS_H
#define KNXD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct knxd {
    pid_t pid;
    char dir[64];       /* private temporary directory */
    char sock[96];      /* unix socket path */
    char url[128];      /* "local:<sock>" */
    int port;           /* TCP port when started with tcp, else 0 */
    char ip_url[64];    /* "ip:127.0.0.1:<port>" */
    char log[96];       /* knxd's stdout/stderr */
} knxd_t;

/**
 * Starts knxd (`knxd -e 0.0.1 -E 0.0.2:8 -u SOCK [-i PORT] -b dummy:`) and waits
 * until a client can open a group socket (5 s at most). The first start picks
 * the paths (and port); later starts reuse them, so a restart looks to the
 * plugin like the same knxd coming back. Returns false (after stopping it) if
 * knxd did not come up.
 */
bool knxd_start(knxd_t *k, bool tcp);

/** Stops knxd (SIGTERM, then SIGKILL after 3 s) and waits for it. Safe if not running. */
void knxd_stop(knxd_t *k);

/** Stops knxd and removes its directory. */
void knxd_cleanup(knxd_t *k);

/** Runs `knxtool APPLET URL ARGS...` (NULL-terminated) and returns its exit status (-1 on error). */
int knxtool(const char *applet, const char *url, ...);

/** A plain libeibclient group-socket client. */
typedef struct knx_client knx_client_t;

/** Opens a group socket on @p url; NULL on failure. */
knx_client_t *knx_client_open(const char *url);
void knx_client_close(knx_client_t *c);

/**
 * Returns true and the next telegram if one is buffered or arrives within
 * @p timeout_ms (0: do not wait). @p len receives the APDU length.
 */
bool knx_client_recv(knx_client_t *c, int timeout_ms, uint16_t *src, uint16_t *dst, uint8_t *apdu, size_t *len);

/** Sends an APDU to @p dst. Returns true on success. */
bool knx_client_send(knx_client_t *c, uint16_t dst, const uint8_t *apdu, size_t len);

#endif /* KNXD_HARNESS_H */
