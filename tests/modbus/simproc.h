/*
 * Child processes for the Modbus integration tests: tools/modbus-sim on a
 * free loopback port (announced on its stdout) and socat pty pairs for RTU.
 * Readiness is awaited by reading the child's announcement, never by sleeping.
 */
#ifndef SIMPROC_H
#define SIMPROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct simproc {
    pid_t pid;
    int port;          /* TCP simulator */
    char pty[2][128];  /* socat: the two ends */
    int errfd;         /* socat: its stderr pipe (0 = none) */
} simproc_t;

/**
 * Starts modbus-sim with @p args (NULL-terminated, after the program name)
 * and waits (5 s max) for its "PORT n" or "READY" line. Returns 0 or -1.
 */
int simproc_start_sim(simproc_t *sp, const char *const *args);
/** Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and reads both pty paths. */
int simproc_start_socat(simproc_t *sp);
/** SIGTERM, then SIGKILL after 2 s; reaps. Safe on a zeroed or stopped simproc. */
void simproc_stop(simproc_t *sp);
/** Path of the simulator binary ($MODBUS_SIM or next to the test). */
const char *simproc_sim_path(void);

#endif
