/* emu_harness.h — test harness for alink-emu: start/stop a real mosquitto with the plugin
 * (via `alink-emu broker`) on a free loopback port with a private state dir, run CLI
 * commands, and drive MQTT device clients (libmosquitto, threaded loop, message queue). */
#ifndef EMU_HARNESS_H
#define EMU_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

/* Upper bound of every wait for something that must happen (a reply, a delivery, a
 * CONNACK/SUBACK): only a safety net, a passing run never waits for it; generous for a
 * loaded 2-core CI machine running the ASan build. Waits for what must NOT happen stay
 * short and explicit. */
#define EMU_WAIT_MS 30000

typedef struct {
    char dir[256];        /* temp dir: registry, state/, tls/ */
    char state_dir[300];
    char registry[300];
    char cafile[300];
    int port, tls_port;
    pid_t pid;
} emu_broker_t;

/** True when something accepts TCP connections on 127.0.0.1:@p port. */
bool emu_port_open(int port);
/**
 * True when the mosquitto log @p path, from byte @p from on, says the broker
 * is running: it prints that only once every listener is open, so a foreign
 * process holding the port (our broker then exits) is never taken for ours.
 * The broker must run with -v (the line is at information level).
 */
bool emu_log_says_running(const char *path, long from);
/** Size of file @p path (0 if absent): where a restarted broker's log lines begin. */
long emu_file_size(const char *path);
/**
 * Starts `linkgw -c @p conf` (binary @p bin) as a child that dies with the
 * caller (PR_SET_PDEATHSIG, SIGKILL), stdout and stderr appended to @p log
 * (0600), in directory @p cwd (NULL: unchanged). Its pid, or -1.
 */
pid_t emu_spawn_linkgw(const char *bin, const char *conf, const char *log, const char *cwd);

/* Start a broker with the registry text (JSON) written to dir/registry.json; with tls a
 * test CA is generated and a TLS listener opened too. Returns 0 on success. */
int emu_broker_start(emu_broker_t *b, const char *registry_json, bool tls);
/* Stop (SIGTERM, wait) and start again on the same state dir (new free ports). */
int emu_broker_restart(emu_broker_t *b);
/* Start the stopped broker again on the same ports and state dir (a gateway configured with
 * the port reconnects to it), retrying while the old socket lingers. b->dir (broker.log),
 * b->registry, b->state_dir and b->port must be set; TLS when b->cafile is. 0 on success. */
int emu_broker_start_again(emu_broker_t *b);
/* Kill the broker with SIGKILL (a crash: nothing saved on the way out) and start it
 * again on the same state dir. */
int emu_broker_crash_restart(emu_broker_t *b);
/* Stop the broker; returns 0 when it exited cleanly (exit status 0: under the sanitizer
 * build this also means the plugin leaked nothing and hit no error). */
int emu_broker_stop(emu_broker_t *b);
/* Brokers that exited badly so far; test mains add it to their result, since cmocka
 * does not count a failed group teardown. */
extern int emu_harness_failures;
/* Stop the broker and remove the temp dir; returns emu_broker_stop's verdict. */
int emu_broker_cleanup(emu_broker_t *b);

/* Run `alink-emu -p PORT <args>`; stdout into *out (malloc'd, may be NULL). Returns the
 * exit status. args is a shell-free argv, NULL-terminated. */
int emu_cli(const emu_broker_t *b, char **out, const char *const *args);
/* The whole platform state (alink-emu state), or NULL. */
json_t *emu_state(const emu_broker_t *b);

typedef struct emu_client emu_client_t;

/* Connect with explicit MQTT credentials; *connack gets the CONNACK code (0 = accepted).
 * Returns NULL when refused (after recording the code). */
emu_client_t *emu_client_connect(const emu_broker_t *b, const char *client_id, const char *user, const char *pass,
                                 int keepalive, bool tls, int *connack);
/* Connect as device pk/dn with secret ds the LinkSDK way (hmacsha256, clientId "pk.dn",
 * timestamp 2524608000000); extra is appended inside the |…| block (e.g. "_ss=1,ext=1"). */
emu_client_t *emu_device_connect(const emu_broker_t *b, const char *pk, const char *dn, const char *ds,
                                 const char *extra, int *connack);
/* SUBSCRIBE and wait for SUBACK; returns the granted QoS (128 = refused), -1 on timeout. */
int emu_client_sub(emu_client_t *c, const char *filter);
void emu_client_pub(emu_client_t *c, const char *topic, const char *payload);
/* Wait for a message on exactly `topic` (earlier unmatched messages stay queued);
 * returns its parsed JSON (a JSON string if not JSON) or NULL after timeout_ms. */
json_t *emu_client_wait(emu_client_t *c, const char *topic, int timeout_ms);
/* Like emu_client_wait for the first message whose topic starts with prefix; the topic
 * is copied into topic_out. */
json_t *emu_client_wait_prefix(emu_client_t *c, const char *prefix, int timeout_ms, char *topic_out, size_t outsz);
/* Publish payload on topic and wait for topic + "_reply". */
json_t *emu_client_request(emu_client_t *c, const char *topic, const char *payload, int timeout_ms);
/* Whether the connection is still up. */
bool emu_client_connected(emu_client_t *c);
void emu_client_close(emu_client_t *c);

/* Sub-device sign (hmacSha256, LinkSDK content) as upper-case hex into out[65]. */
void emu_sub_sign(const char *pk, const char *dn, const char *ds, const char *ts, char out[65]);
/* JSON helpers for assertions */
int emu_code(const json_t *reply);

#endif
