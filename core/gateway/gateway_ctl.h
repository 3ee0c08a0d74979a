/*
 * The control socket (`linkgwctl`): a Unix stream socket served on the loop.
 * Protocol: the client sends one JSON object terminated by '\n'
 * ({"cmd":"status"|"devices"|"plugins"|"delete"|"credentials-import", …}) and
 * receives one JSON object terminated by '\n' ({"ok":true,…} or
 * {"ok":false,"error":"…"}), then the server closes the connection. Requests
 * are bounded (8 MiB), validated, and answered without blocking the loop
 * beyond the store calls they imply.
 */
#ifndef GW_GATEWAY_CTL_H
#define GW_GATEWAY_CTL_H

#include <uv.h>

typedef struct gw_gateway gw_gateway_t;
typedef struct gw_ctl gw_ctl_t;

/**
 * Listens on @p path (an existing socket file there is replaced; the file gets
 * @p mode, 0600 or 0660). NULL on failure (logged).
 */
gw_ctl_t *gw_ctl_new(uv_loop_t *loop, gw_gateway_t *gw, const char *path, unsigned mode);
/** Closes the listener and every connection, unlinks the socket, frees, then calls @p done. */
void gw_ctl_close(gw_ctl_t *ctl, void (*done)(void *data), void *data);

#endif
