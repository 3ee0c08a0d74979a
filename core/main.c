/*
 * linkgw — the gateway daemon's entry point: command line only; the daemon
 * itself is daemon.c.
 */
#include "daemon.h"
#include "memtrim.h"
#include "log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_CONFIG "/etc/linkgw/linkgw.conf"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: linkgw [-c FILE] [--check-config]\n"
            "IoT gateway host: runs protocol plugins (conf.d instances) and forwards their\n"
            "sub-devices to Alibaba Cloud IoT Platform. Runs in the foreground, logs to stderr.\n"
            "\n"
            "  -c, --config FILE   main configuration file (default " DEFAULT_CONFIG ")\n"
            "      --check-config  validate the main file, every conf.d file and every enabled\n"
            "                      instance (plugins are loaded and their create is run), print\n"
            "                      each error as 'file:line: message', then exit\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n"
            "\n"
            "Signals: SIGTERM/SIGINT stop gracefully; SIGHUP re-reads conf.d and starts, stops or\n"
            "restarts only the instances whose files were added, removed or changed (a changed\n"
            "file that is invalid is reported and the running instance is kept).\n"
            "\n"
            "Exit status:\n"
            "  0  clean shutdown, or configuration OK (--check-config)\n"
            "  1  configuration errors\n"
            "  2  invalid command line\n"
            "  3  runtime failure (event loop, signals)\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    (void)gw_malloc_policy(); /* before any thread: see memtrim.h */
    const char *config = DEFAULT_CONFIG;
    int check = 0, c;
    while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'C': check = 1; break;
        case 'V': printf("linkgw %s (plugin ABI %d.%d)\n", LINKGW_VERSION, LGW_ABI_MAJOR, LGW_ABI_MINOR); return 0;
        case 'h': usage(stdout); return 0;
        default: fprintf(stderr, "Try 'linkgw --help'.\n"); return GW_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "linkgw: unexpected argument '%s'\nTry 'linkgw --help'.\n", argv[optind]);
        return GW_EXIT_USAGE;
    }
    if (check)
        return gw_daemon_check(config, stdout, stderr);
    return gw_daemon_run(config);
}
