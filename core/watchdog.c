/* systemd watchdog keep-alive on the daemon's loop; see watchdog.h. */
#include "watchdog.h"
#include "log.h"
#include "notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Strict decimal parse: digits only, no sign, no overflow, > 0. */
static bool parse_positive(const char *s, unsigned long long *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0)
        return false;
    *out = v;
    return true;
}

uint64_t gw_watchdog_interval_ms(const char *usec, const char *pid, pid_t self)
{
    unsigned long long us, p;
    if (!parse_positive(usec, &us))
        return 0;
    if (pid && *pid) {
        if (!parse_positive(pid, &p) || p != (unsigned long long)self)
            return 0;
    }
    uint64_t ms = us / 2 / 1000;
    return ms ? ms : 1;
}

static void on_ping(uv_timer_t *t)
{
    (void)t;
    gw_notify("WATCHDOG=1");
}

uint64_t gw_watchdog_start(gw_watchdog_t *wd, uv_loop_t *loop)
{
    memset(wd, 0, sizeof *wd);
    const char *usec = getenv("WATCHDOG_USEC");
    if (!usec)
        return 0;
    uint64_t ms = gw_watchdog_interval_ms(usec, getenv("WATCHDOG_PID"), getpid());
    if (ms == 0) {
        GW_DEBUG("linkgw", "WATCHDOG_USEC='%s' is not for this process; no watchdog pings", usec);
        return 0;
    }
    if (uv_timer_init(loop, &wd->timer) != 0)
        return 0;
    wd->started = true;
    if (uv_timer_start(&wd->timer, on_ping, ms, ms) != 0) {
        GW_WARN("linkgw", "cannot start the watchdog timer");
        gw_watchdog_stop(wd);
        return 0;
    }
    uv_unref((uv_handle_t *)&wd->timer);
    wd->period_ms = ms;
    GW_INFO("linkgw", "systemd watchdog: WATCHDOG=1 every %llu ms", (unsigned long long)ms);
    return ms;
}

void gw_watchdog_stop(gw_watchdog_t *wd)
{
    if (!wd->started)
        return;
    wd->started = false;
    wd->period_ms = 0;
    if (!uv_is_closing((uv_handle_t *)&wd->timer))
        uv_close((uv_handle_t *)&wd->timer, NULL);
}
