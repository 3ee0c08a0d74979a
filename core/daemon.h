/*
 * The daemon: one libuv loop, the host, the main configuration and the set
 * of conf.d instances, with start-up, SIGHUP reload, graceful shutdown and
 * the --check-config dry run. main.c only parses the command line.
 */
#ifndef LINKGW_CORE_DAEMON_H
#define LINKGW_CORE_DAEMON_H

#include <stdio.h>

/** Exit codes of `linkgw` (documented in --help). */
enum {
    GW_EXIT_OK = 0,       /* clean shutdown / configuration OK */
    GW_EXIT_CONFIG = 1,   /* configuration errors */
    GW_EXIT_USAGE = 2,    /* bad command line */
    GW_EXIT_RUNTIME = 3   /* could not run (event loop, signals …) */
};

/**
 * Validates the main file @p config_path, every conf.d file, and every
 * enabled instance by loading its plugin and running create then destroy.
 * Prints each error as "file:line: message" on @p err and "configuration OK"
 * on @p out when there is none. Returns GW_EXIT_OK or GW_EXIT_CONFIG.
 */
int gw_daemon_check(const char *config_path, FILE *out, FILE *err);

/**
 * Runs the daemon in the foreground until SIGTERM/SIGINT: loads the main
 * file (errors there are fatal: GW_EXIT_CONFIG), starts every valid enabled
 * conf.d instance (invalid ones are logged and skipped), reloads conf.d on
 * SIGHUP. Returns the exit code.
 */
int gw_daemon_run(const char *config_path);

#endif
