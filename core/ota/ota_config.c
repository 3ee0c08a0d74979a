/*
 * The `ota { ... }` group of linkgw.conf: defaults, validation with
 * "file:line: message" errors (docs/ota.md lists the settings).
 */
#include "ota.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void gw_ota_config_init(gw_ota_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_size = 64LL * 1024 * 1024;
    cfg->retries = 5;
    cfg->retry_delay_ms = 2000;
    cfg->stall_timeout_s = 60;
    cfg->install_timeout_s = 1800;
}

void gw_ota_config_free(gw_ota_config_t *cfg)
{
    free(cfg->version);
    free(cfg->version_file);
    free(cfg->install_command);
    free(cfg->dir);
    free(cfg->ca_file);
    gw_ota_config_init(cfg);
}

typedef struct parse_ctx {
    gw_ota_config_error_fn err;
    void *data;
    int errors;
} parse_ctx_t;

static void report(parse_ctx_t *p, const config_setting_t *s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(parse_ctx_t *p, const config_setting_t *s, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *file = s ? config_setting_source_file(s) : NULL;
    int line = s ? (int)config_setting_source_line(s) : 0;
    p->errors++;
    if (p->err)
        p->err(p->data, s, file, line, msg);
    else
        GW_ERROR("ota", "%s:%d: %s", file ? file : "(config)", line, msg);
}

static void get_string(parse_ctx_t *p, const config_setting_t *s, char **out)
{
    const char *v = config_setting_get_string(s);
    if (config_setting_type(s) != CONFIG_TYPE_STRING || !v || !*v) {
        report(p, s, "setting 'ota.%s' must be a non-empty string", config_setting_name(s));
        return;
    }
    free(*out);
    *out = strdup(v);
}

static bool get_int(parse_ctx_t *p, const config_setting_t *s, long long min, long long max, long long *out)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        report(p, s, "setting 'ota.%s' must be an integer", config_setting_name(s));
        return false;
    }
    long long v = config_setting_get_int64(s);
    if (v < min || v > max) {
        report(p, s, "setting 'ota.%s' must be between %lld and %lld", config_setting_name(s), min, max);
        return false;
    }
    *out = v;
    return true;
}

int gw_ota_config_parse(const config_setting_t *group, const char *state_dir, gw_ota_config_t *cfg,
                        gw_ota_config_error_fn err, void *data)
{
    gw_ota_config_init(cfg);
    parse_ctx_t p = {err, data, 0};
    if (group && !config_setting_is_group(group)) {
        report(&p, group, "'ota' must be a group { ... }");
        return p.errors;
    }
    unsigned n = group ? (unsigned)config_setting_length(group) : 0;
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, i);
        const char *name = config_setting_name(s);
        long long v;
        if (!strcmp(name, "version"))
            get_string(&p, s, &cfg->version);
        else if (!strcmp(name, "version_file"))
            get_string(&p, s, &cfg->version_file);
        else if (!strcmp(name, "install_command"))
            get_string(&p, s, &cfg->install_command);
        else if (!strcmp(name, "dir"))
            get_string(&p, s, &cfg->dir);
        else if (!strcmp(name, "ca_file")) {
            get_string(&p, s, &cfg->ca_file);
            if (cfg->ca_file && access(cfg->ca_file, R_OK) != 0)
                report(&p, s, "ota.ca_file '%s' is not readable", cfg->ca_file);
        } else if (!strcmp(name, "max_size")) {
            if (get_int(&p, s, 1, 4LL * 1024 * 1024 * 1024, &v))
                cfg->max_size = v;
        } else if (!strcmp(name, "retries")) {
            if (get_int(&p, s, 0, 100, &v))
                cfg->retries = (unsigned)v;
        } else if (!strcmp(name, "retry_delay_ms")) {
            if (get_int(&p, s, 0, 600000, &v))
                cfg->retry_delay_ms = (unsigned)v;
        } else if (!strcmp(name, "stall_timeout_s")) {
            if (get_int(&p, s, 1, 3600, &v))
                cfg->stall_timeout_s = (unsigned)v;
        } else if (!strcmp(name, "install_timeout_s")) {
            if (get_int(&p, s, 1, 86400, &v))
                cfg->install_timeout_s = (unsigned)v;
        } else {
            report(&p, s, "unknown setting 'ota.%s'", name);
        }
    }
    if (cfg->version && cfg->version_file)
        report(&p, group, "set either ota.version or ota.version_file, not both");
    if (!cfg->dir && state_dir && asprintf(&cfg->dir, "%s/ota", state_dir) < 0) {
        cfg->dir = NULL;
        report(&p, group, "out of memory");
    }
    if (p.errors)
        gw_ota_config_free(cfg);
    return p.errors;
}
