/*
 * Leveled logging of the daemon and everything inside it.
 *
 * One line per message on stderr, "LEVEL component: message", which journald
 * stores with the right priority thanks to the "<N>" prefix when stderr is the
 * journal (JOURNAL_STREAM set). Thread-safe: each line is written with one
 * write(2). Never log secrets.
 */
#ifndef LINKGW_CORE_LOG_H
#define LINKGW_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <linkgw/common.h>

/** Sets the most verbose level printed (default LGW_LOG_INFO). */
void gw_log_set_level(lgw_log_level_t level);
/** Current level. */
lgw_log_level_t gw_log_get_level(void);
/** Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int gw_log_level_parse(const char *name);
/** True when @p level is printed. */
bool gw_log_enabled(lgw_log_level_t level);
/** Logs one line for @p component (e.g. "cloud", "plugin sim1"). */
void gw_log(lgw_log_level_t level, const char *component, const char *fmt, ...) LGW_PRINTF(3, 4);
void gw_logv(lgw_log_level_t level, const char *component, const char *fmt, va_list ap);

#define GW_ERROR(comp, ...) gw_log(LGW_LOG_ERROR, comp, __VA_ARGS__)
#define GW_WARN(comp, ...) gw_log(LGW_LOG_WARN, comp, __VA_ARGS__)
#define GW_INFO(comp, ...) gw_log(LGW_LOG_INFO, comp, __VA_ARGS__)
#define GW_DEBUG(comp, ...) \
    do { if (gw_log_enabled(LGW_LOG_DEBUG)) gw_log(LGW_LOG_DEBUG, comp, __VA_ARGS__); } while (0)

#endif
