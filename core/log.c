/* Leveled logging to stderr; see log.h. */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic int g_level = LGW_LOG_INFO;

void gw_log_set_level(lgw_log_level_t level) { atomic_store(&g_level, (int)level); }
lgw_log_level_t gw_log_get_level(void) { return (lgw_log_level_t)atomic_load(&g_level); }
bool gw_log_enabled(lgw_log_level_t level) { return (int)level <= atomic_load(&g_level); }

int gw_log_level_parse(const char *name)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void gw_logv(lgw_log_level_t level, const char *component, const char *fmt, va_list ap)
{
    static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    static const int syslog_prio[] = {3, 4, 6, 7};
    if (!gw_log_enabled(level))
        return;
    int lv = (int)level < 0 ? 0 : (int)level > 3 ? 3 : (int)level;
    char line[2048];
    int n = 0;
    if (getenv("JOURNAL_STREAM"))
        n = snprintf(line, sizeof line, "<%d>", syslog_prio[lv]);
    n += snprintf(line + n, sizeof line - (size_t)n, "%s %s: ", tags[lv], component ? component : "linkgw");
    if (n < (int)sizeof line) {
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        n = m < 0 ? n : (n + m >= (int)sizeof line - 1 ? (int)sizeof line - 2 : n + m);
    } else {
        n = (int)sizeof line - 2;
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void gw_log(lgw_log_level_t level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_logv(level, component, fmt, ap);
    va_end(ap);
}
