/*
 * The daemon (daemon.h): start-up, SIGHUP reload of conf.d, graceful
 * shutdown, and the --check-config dry run.
 *
 * Reload policy (SIGHUP): conf.d is re-read and each file is compared by a
 * hash of its content with what is running.
 *   - new file, valid and enabled          → instance loaded, created, started
 *   - file removed, or now `enabled=false` → instance stopped
 *   - file changed, valid                  → new instance created first; only
 *                                            when that succeeds is the old one
 *                                            stopped and the new one started
 *   - file changed, invalid (syntax, keys, plugin load or plugin create
 *     errors)                              → errors logged, the OLD instance
 *                                            keeps running unchanged
 *   - file unchanged                       → untouched
 * The main file is read only at start-up.
 */
#include "daemon.h"
#include "conf.h"
#include "hub.h"
#include "instance.h"
#include "log.h"
#include "module.h"
#include "notify.h"
#include "watchdog.h"
#include "memtrim.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* One conf.d file known to the daemon. */
typedef struct entry {
    char *name;
    uint64_t hash;         /* content the running instance was made from */
    lgw_instance_t *inst;  /* running instance (or the one about to start), or NULL */
    bool restarting;       /* old instance still stopping; inst starts when it is gone */
    bool seen;             /* reload bookkeeping */
    gw_list_t link;
} entry_t;

typedef struct daemon {
    uv_loop_t loop;
    gw_host_t host;
    gw_main_conf_t conf;
    gw_list_t entries;
    uv_signal_t sig_term, sig_int, sig_hup;
    gw_watchdog_t watchdog; /* systemd WatchdogSec= pings; closed by close_walk */
    gw_memtrim_t memtrim;   /* free heap pages back to the kernel; closed by close_walk */
    bool shutting_down;
    bool closed;           /* modules stopping / host closed */
    int exit_code;
    size_t stopping;       /* instances whose stop has not completed */
} daemon_t;

static entry_t *find_entry(daemon_t *d, const char *name)
{
    gw_list_foreach_safe(node, tmp, &d->entries) {
        entry_t *e = gw_container_of(node, entry_t, link);
        if (strcmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

static void entry_free(entry_t *e)
{
    gw_list_remove(&e->link);
    free(e->name);
    free(e);
}

/*
 * Loads and creates the instance of @p ic. Errors go to @p errs. Returns the
 * created (not started) instance or NULL.
 */
static lgw_instance_t *make_instance(gw_host_t *host, gw_inst_conf_t *ic, gw_errors_t *errs)
{
    lgw_instance_t *inst = gw_instance_load(host, ic->name, ic->plugin_path, errs, ic->path, ic->plugin_line);
    if (!inst)
        return NULL;
    if (gw_instance_create(inst, &ic->doc, ic->settings) != LGW_OK) {
        gw_instance_destroy(inst);
        return NULL;
    }
    return inst;
}

/* ---- stopping, with an optional follow-up ---------------------------------- */

typedef struct stop_ctx {
    daemon_t *d;
    lgw_instance_t *next; /* started once the old one is gone (restart), or NULL */
    entry_t *entry;
} stop_ctx_t;

static void maybe_finish_shutdown(daemon_t *d);

static void on_stopped(lgw_instance_t *old, void *data)
{
    (void)old;
    stop_ctx_t *c = data;
    daemon_t *d = c->d;
    d->stopping--;
    if (c->next) {
        c->entry->restarting = false;
        if (d->shutting_down) {
            gw_instance_destroy(c->next);
            c->entry->inst = NULL;
        } else if (gw_instance_start(c->next) == LGW_OK) {
            c->entry->inst = c->next;
        } else {
            c->entry->inst = NULL; /* start failed: logged; instance already destroyed */
        }
    }
    free(c);
    maybe_finish_shutdown(d);
}

/* Stops @p inst; then starts @p next (for @p e) if given. */
static void stop_instance(daemon_t *d, lgw_instance_t *inst, lgw_instance_t *next, entry_t *e)
{
    stop_ctx_t *c = calloc(1, sizeof *c);
    if (!c) {
        GW_ERROR("linkgw", "out of memory stopping an instance");
        abort();
    }
    c->d = d;
    c->next = next;
    c->entry = e;
    if (next)
        e->restarting = true;
    d->stopping++;
    gw_instance_stop(inst, on_stopped, c);
}

/* ---- conf.d scan (start-up and SIGHUP) -------------------------------------- */

static void apply_file(daemon_t *d, const char *path)
{
    gw_errors_t errs = {0};
    gw_inst_conf_t ic;
    int rc = gw_inst_conf_load(&ic, path, d->conf.plugin_dir, &errs);
    entry_t *e = ic.name ? find_entry(d, ic.name) : NULL;
    if (e && e->seen) {
        /* impossible with one directory, but keep names unique */
        gw_inst_conf_free(&ic);
        gw_errors_free(&errs);
        return;
    }
    if (e && e->restarting) {
        /* the previous restart is still waiting for the old instance's jobs */
        if (e->hash != ic.hash)
            GW_WARN("linkgw", "instance '%s' is still restarting; its new change is applied at the next SIGHUP",
                    e->name);
        e->seen = true;
        gw_inst_conf_free(&ic);
        gw_errors_free(&errs);
        return;
    }
    if (e && e->hash == ic.hash && rc == LGW_OK && (e->inst || !ic.enabled)) {
        e->seen = true; /* unchanged (running, or still disabled) */
        gw_inst_conf_free(&ic);
        gw_errors_free(&errs);
        return;
    }
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e || !(e->name = strdup(ic.name ? ic.name : "?"))) {
            free(e);
            gw_inst_conf_free(&ic);
            gw_errors_free(&errs);
            return;
        }
        gw_list_push_back(&d->entries, &e->link);
    }
    e->seen = true;
    if (e->inst && e->hash == ic.hash && rc != LGW_OK) {
        /* unchanged but now failing validation (a module's rules changed?): keep it */
        gw_inst_conf_free(&ic);
        gw_errors_free(&errs);
        return;
    }

    lgw_instance_t *inst = NULL;
    if (rc == LGW_OK && ic.enabled)
        inst = make_instance(&d->host, &ic, &errs);
    if (errs.n) {
        gw_errors_log(&errs, "config");
        if (e->inst)
            GW_ERROR("linkgw", "instance '%s': new configuration is invalid; keeping the running instance",
                     e->name);
        else
            GW_ERROR("linkgw", "instance '%s' not started: invalid configuration", e->name);
    } else if (!ic.enabled) {
        if (e->inst) {
            GW_INFO("linkgw", "instance '%s' disabled: stopping it", e->name);
            stop_instance(d, e->inst, NULL, e);
            e->inst = NULL;
        } else {
            GW_INFO("linkgw", "instance '%s' is disabled", e->name);
        }
        e->hash = ic.hash;
    } else if (inst) {
        e->hash = ic.hash;
        if (e->inst) {
            GW_INFO("linkgw", "instance '%s' changed: restarting it", e->name);
            lgw_instance_t *old = e->inst;
            e->inst = inst; /* provisional; on_stopped confirms */
            stop_instance(d, old, inst, e);
        } else {
            GW_INFO("linkgw", "instance '%s' added: starting it", e->name);
            e->inst = gw_instance_start(inst) == LGW_OK ? inst : NULL;
        }
    }
    gw_inst_conf_free(&ic);
    gw_errors_free(&errs);
}

static void scan_confd(daemon_t *d)
{
    gw_errors_t errs = {0};
    char **files = gw_confd_list(d->conf.conf_dir, &errs);
    if (!files) {
        gw_errors_log(&errs, "config");
        gw_errors_free(&errs);
        GW_ERROR("linkgw", "conf.d not read; running instances are kept");
        return;
    }
    gw_list_foreach_safe(node, tmp, &d->entries)
        gw_container_of(node, entry_t, link)->seen = false;
    for (size_t i = 0; files[i]; i++)
        apply_file(d, files[i]);
    gw_list_foreach_safe(node, tmp, &d->entries) {
        entry_t *e = gw_container_of(node, entry_t, link);
        if (e->seen)
            continue;
        if (e->restarting) { /* on_stopped still needs the entry */
            GW_WARN("linkgw", "instance '%s' is still restarting; its removal is applied at the next SIGHUP",
                    e->name);
            continue;
        }
        if (e->inst) {
            GW_INFO("linkgw", "instance '%s' removed: stopping it", e->name);
            stop_instance(d, e->inst, NULL, e);
        }
        entry_free(e);
    }
    gw_confd_list_free(files);
    gw_errors_free(&errs);
}

/* ---- shutdown ----------------------------------------------------------------- */

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Last step of shutdown, once every module stopped. */
static void modules_stopped(void *arg)
{
    daemon_t *d = arg;
    gw_host_close(&d->host);
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    uv_close((uv_handle_t *)&d->sig_int, NULL);
    uv_close((uv_handle_t *)&d->sig_hup, NULL);
}

/* Once no instance is stopping any more: stop the modules, then close. */
static void maybe_finish_shutdown(daemon_t *d)
{
    if (!d->shutting_down || d->stopping > 0 || d->closed)
        return;
    d->closed = true;
    gw_list_foreach_safe(node, tmp, &d->entries)
        entry_free(gw_container_of(node, entry_t, link));
    gw_modules_stop(&d->host, modules_stopped, d);
}

static void begin_shutdown(daemon_t *d)
{
    if (d->shutting_down)
        return;
    d->shutting_down = true;
    GW_INFO("linkgw", "shutting down");
    gw_notify("STOPPING=1");
    d->stopping++; /* hold: stops may complete synchronously inside the loop below */
    gw_list_foreach_safe(node, tmp, &d->entries) {
        entry_t *e = gw_container_of(node, entry_t, link);
        lgw_instance_t *inst = e->inst;
        e->inst = NULL;
        if (inst && gw_instance_state(inst) == GW_INST_RUNNING)
            stop_instance(d, inst, NULL, e);
        /* else: a restart in progress; on_stopped destroys the new one */
    }
    d->stopping--;
    maybe_finish_shutdown(d);
}

static void on_signal(uv_signal_t *s, int signum)
{
    daemon_t *d = s->data;
    if (signum == SIGHUP) {
        if (d->shutting_down)
            return;
        GW_INFO("linkgw", "SIGHUP: reloading %s", d->conf.conf_dir);
        gw_notify("RELOADING=1");
        scan_confd(d);
        gw_notify("READY=1");
        GW_INFO("linkgw", "reload done");
    } else {
        begin_shutdown(d);
    }
}

int gw_daemon_run(const char *config_path)
{
    static daemon_t dd; /* one daemon per process */
    daemon_t *d = &dd;
    memset(d, 0, sizeof *d);
    gw_list_init(&d->entries);
    if (gw_modules_init() != LGW_OK)
        return GW_EXIT_RUNTIME;
    gw_errors_t errs = {0};
    if (gw_main_conf_load(&d->conf, config_path, &errs) != LGW_OK) {
        gw_errors_log(&errs, "config");
        gw_errors_free(&errs);
        gw_main_conf_free(&d->conf);
        return GW_EXIT_CONFIG;
    }
    gw_errors_free(&errs);
    gw_log_set_level(d->conf.log_level);
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&d->loop) != 0 || gw_host_init(&d->host, &d->loop) != LGW_OK) {
        GW_ERROR("linkgw", "cannot initialise the event loop");
        gw_main_conf_free(&d->conf);
        return GW_EXIT_RUNTIME;
    }
    d->host.request_timeout_ms = d->conf.request_timeout_ms;
    uv_signal_t *sigs[] = {&d->sig_term, &d->sig_int, &d->sig_hup};
    int signums[] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&d->loop, sigs[i]);
        sigs[i]->data = d;
        if (uv_signal_start(sigs[i], on_signal, signums[i]) != 0) {
            GW_ERROR("linkgw", "cannot handle signal %d", signums[i]);
            return GW_EXIT_RUNTIME;
        }
    }
    GW_INFO("linkgw", "linkgw %s starting (config %s, conf.d %s)", LINKGW_VERSION, config_path,
            d->conf.conf_dir);
    gw_watchdog_start(&d->watchdog, &d->loop);
    gw_memtrim_start(&d->memtrim, &d->loop);
    if (gw_modules_start(&d->host, &d->conf) != LGW_OK) {
        d->exit_code = GW_EXIT_RUNTIME;
        begin_shutdown(d);
    } else {
        scan_confd(d);
        GW_INFO("linkgw", "running");
        gw_notify("READY=1");
    }
    uv_run(&d->loop, UV_RUN_DEFAULT);
    uv_walk(&d->loop, close_walk, NULL);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&d->loop);
    if (rc != 0)
        GW_WARN("linkgw", "event loop closed with handles left: %s", uv_strerror(rc));
    gw_main_conf_free(&d->conf);
    GW_INFO("linkgw", "stopped");
    return d->exit_code;
}

/* ---- --check-config ------------------------------------------------------------- */

int gw_daemon_check(const char *config_path, FILE *out, FILE *err)
{
    gw_errors_t errs = {0};
    gw_main_conf_t mc;
    if (gw_modules_init() != LGW_OK)
        return GW_EXIT_RUNTIME;
    gw_main_conf_load(&mc, config_path, &errs);
    if (errs.n == 0) {
        uv_loop_t loop;
        gw_host_t host;
        uv_loop_init(&loop);
        gw_host_init(&host, &loop);
        char **files = gw_confd_list(mc.conf_dir, &errs);
        for (size_t i = 0; files && files[i]; i++) {
            gw_inst_conf_t ic;
            if (gw_inst_conf_load(&ic, files[i], mc.plugin_dir, &errs) == LGW_OK && ic.enabled) {
                lgw_instance_t *inst = make_instance(&host, &ic, &errs);
                if (inst)
                    gw_instance_destroy(inst);
            }
            gw_inst_conf_free(&ic);
        }
        gw_confd_list_free(files);
        uv_run(&loop, UV_RUN_NOWAIT);
        gw_host_close(&host);
        uv_walk(&loop, close_walk, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    gw_main_conf_free(&mc);
    gw_errors_print(&errs, err);
    int rc = errs.n ? GW_EXIT_CONFIG : GW_EXIT_OK;
    if (rc == GW_EXIT_OK)
        fprintf(out, "configuration OK\n");
    else
        fprintf(err, "%zu error(s) in the configuration\n", errs.n);
    gw_errors_free(&errs);
    return rc;
}
