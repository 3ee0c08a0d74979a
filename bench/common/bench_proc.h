/*
 * What every benchmark under bench/ reads about time and processes: a
 * monotonic clock, a process's CPU time and its /proc memory figures. Linux
 * only (procfs). Shared so the benches measure the same way.
 */
#ifndef LINKGW_BENCH_PROC_H
#define LINKGW_BENCH_PROC_H

#include <sys/types.h>

/** Monotonic time in seconds. */
double bench_now_s(void);

/** utime + stime of process @p pid (all its threads) in seconds; -1 when unreadable. */
double bench_proc_cpu(pid_t pid);

/**
 * The "Key: N kB" line @p key of /proc/<pid>/<file> (pid 0 = this process),
 * e.g. ("status", "VmRSS") or ("smaps_rollup", "Pss"), in kB; -1 when absent.
 */
long bench_proc_kb(pid_t pid, const char *file, const char *key);

/** VmRSS of @p pid in kB; -1 when unreadable. */
long bench_rss_kb(pid_t pid);

#endif
