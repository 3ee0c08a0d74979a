/*
 * sim — the test-only trace of reported values (setting `trace_file`, off by
 * default). Tests of the host's "nothing accepted is lost" promise (issue 9)
 * need to know exactly which values the plugin handed over; the trace lists
 * every power_meter value the host has taken, one line each:
 *
 *   <device_id> <point> <time_ms> <value, %.17g>
 *
 * lgw_report_commit() only queues a report for the loop thread (host.h: the
 * cross-thread queue); the host takes it off that queue in the same loop
 * iteration, before the loop runs timers again. So the lines of one slice
 * tick are kept in memory and written (and fflush'ed) at the start of that
 * slice's next tick — by then the host has taken the reports — and at stop.
 * A kill -9 loses the lines of the last tick, never lists a value the host
 * had not taken. Not for production: it costs a formatted line per value.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_model.h"

void sim_trace_open(struct sim *sim)
{
    if (!sim->conf.trace_file || sim->trace)
        return;
    sim->trace = fopen(sim->conf.trace_file, "a");
    if (!sim->trace)
        lgw_log(sim->inst, LGW_LOG_ERROR, "cannot open trace_file %s", sim->conf.trace_file);
}

void sim_trace_close(struct sim *sim)
{
    for (size_t k = 0; k < sim->ngroups; k++)
        for (size_t s = 0; s < sim->groups[k].nslices; s++)
            sim_trace_flush(sim, &sim->groups[k].slices[s]);
    if (sim->trace)
        fclose(sim->trace);
    sim->trace = NULL;
}

void sim_trace_value(struct sim *sim, const char *id, const char *point, int64_t time_ms, double v)
{
    struct sim_slice *sl = sim->trace_slice;
    if (!sim->trace || !sl)
        return;
    char line[160];
    int n = snprintf(line, sizeof line, "%s %s %" PRId64 " %.17g\n", id, point, time_ms, v);
    if (n <= 0 || (size_t)n >= sizeof line)
        return;
    if (sl->trace_len + (size_t)n > sl->trace_cap) {
        size_t cap = sl->trace_cap ? sl->trace_cap * 2 : 4096;
        while (cap < sl->trace_len + (size_t)n)
            cap *= 2;
        char *nb = realloc(sl->trace_buf, cap);
        if (!nb)
            return;
        sl->trace_buf = nb;
        sl->trace_cap = cap;
    }
    memcpy(sl->trace_buf + sl->trace_len, line, (size_t)n);
    sl->trace_len += (size_t)n;
}

void sim_trace_flush(struct sim *sim, struct sim_slice *sl)
{
    if (sim->trace && sl->trace_len) {
        fwrite(sl->trace_buf, 1, sl->trace_len, sim->trace);
        fflush(sim->trace);
    }
    sl->trace_len = 0;
}
