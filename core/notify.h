/*
 * systemd readiness notification (Type=notify units) without libsystemd:
 * one datagram to $NOTIFY_SOCKET. A no-op when the variable is unset.
 */
#ifndef LINKGW_CORE_NOTIFY_H
#define LINKGW_CORE_NOTIFY_H

/** Sends @p state (e.g. "READY=1", "RELOADING=1", "STOPPING=1"). Errors are ignored. */
void gw_notify(const char *state);

#endif
