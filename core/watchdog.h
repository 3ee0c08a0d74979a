/*
 * systemd watchdog keep-alive (WatchdogSec= in linkgw.service): when the
 * service manager asks this process for pings ($WATCHDOG_USEC, and
 * $WATCHDOG_PID naming us if set), a libuv timer on the daemon's loop sends
 * "WATCHDOG=1" through gw_notify() every half period. The pings come from the
 * event loop itself, so a loop stuck in a callback stops them and systemd
 * restarts the daemon (Restart=on-failure). No libsystemd needed.
 */
#ifndef LINKGW_CORE_WATCHDOG_H
#define LINKGW_CORE_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

typedef struct gw_watchdog {
    uv_timer_t timer;
    bool started;       /* timer initialised (must be closed) */
    uint64_t period_ms; /* ping interval; 0 = no watchdog */
} gw_watchdog_t;

/**
 * The ping interval in milliseconds asked for by the environment values
 * @p usec ($WATCHDOG_USEC) and @p pid ($WATCHDOG_PID, may be NULL) for
 * process @p self: half of usec, at least 1 ms. 0 when there is no watchdog
 * for us: usec unset, not a positive decimal number, or pid set but not @p self.
 */
uint64_t gw_watchdog_interval_ms(const char *usec, const char *pid, pid_t self);

/**
 * Starts pinging on @p loop if the environment asks for it (see above) and
 * returns the interval in ms (0: nothing started). The timer is unreferenced:
 * it never keeps the loop alive, so the daemon's shutdown is unchanged; it is
 * closed by gw_watchdog_stop() or by a uv_walk() closing every handle.
 */
uint64_t gw_watchdog_start(gw_watchdog_t *wd, uv_loop_t *loop);

/** Stops and closes the timer (no-op if none was started). */
void gw_watchdog_stop(gw_watchdog_t *wd);

#endif
