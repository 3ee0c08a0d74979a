/*
 * gw_cloud configuration: the `cloud { ... }` libconfig group, its defaults
 * and its validation (errors as "file:line: message").
 */
#include "cloud_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void gw_cloud_config_init(gw_cloud_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->tls = true;
    cfg->verify = true;
    cfg->sign_method = GW_ALINK_HMAC_SHA256;
    cfg->keepalive = 300;
    cfg->register_securemode = GW_ALINK_SECUREMODE_TLS;
    cfg->request_timeout_ms = 10000;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void gw_cloud_config_free(gw_cloud_config_t *cfg)
{
    free(cfg->host);
    free(cfg->ca_file);
    free(cfg->product_key);
    free(cfg->device_name);
    wipe_free(cfg->device_secret);
    wipe_free(cfg->product_secret);
    free(cfg->client_id);
    free(cfg->instance_id);
    gw_cloud_config_init(cfg);
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    return (src && !(*dst = strdup(src))) ? -1 : 0;
}

int cloud_config_copy(gw_cloud_config_t *dst, const gw_cloud_config_t *src)
{
    *dst = *src;
    int rc = 0;
    rc |= dup_opt(&dst->host, src->host);
    rc |= dup_opt(&dst->ca_file, src->ca_file);
    rc |= dup_opt(&dst->product_key, src->product_key);
    rc |= dup_opt(&dst->device_name, src->device_name);
    rc |= dup_opt(&dst->device_secret, src->device_secret);
    rc |= dup_opt(&dst->product_secret, src->product_secret);
    rc |= dup_opt(&dst->client_id, src->client_id);
    rc |= dup_opt(&dst->instance_id, src->instance_id);
    if (dst->request_timeout_ms <= 0)
        dst->request_timeout_ms = 10000;
    if (dst->register_securemode != GW_ALINK_SECUREMODE_NEW_INSTANCE)
        dst->register_securemode = GW_ALINK_SECUREMODE_TLS;
    return rc ? -1 : 0;
}

typedef struct parse_ctx {
    gw_cloud_config_error_fn err;
    void *data;
    int errors;
} parse_ctx_t;

static void report(parse_ctx_t *p, const config_setting_t *s, const char *fmt, ...) LGW_PRINTF(3, 4);

static void report(parse_ctx_t *p, const config_setting_t *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *file = config_setting_source_file(s);
    int line = (int)config_setting_source_line(s);
    p->errors++;
    if (p->err)
        p->err(p->data, s, file, line, msg);
    else
        gw_log(LGW_LOG_ERROR, "config", "%s:%d: %s", file ? file : "<config>", line, msg);
}

enum kind { K_STR, K_INT, K_BOOL };

static const struct {
    const char *name;
    enum kind kind;
} k_keys[] = {
    {"host", K_STR},           {"port", K_INT},           {"tls", K_BOOL},
    {"ca_file", K_STR},        {"verify", K_BOOL},        {"product_key", K_STR},
    {"device_name", K_STR},    {"device_secret", K_STR},  {"product_secret", K_STR},
    {"sign_method", K_STR},    {"keepalive", K_INT},      {"client_id", K_STR},
    {"register_securemode", K_INT}, {"instance_id", K_STR}, {"request_timeout_ms", K_INT},
};

/* A value that goes into the MQTT client id block or user name. */
static bool ident_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch >= 0x7f || strchr("|&,=/+#", ch))
            return false;
    }
    return true;
}

int gw_cloud_config_parse(const config_setting_t *group, gw_cloud_config_t *cfg, gw_cloud_config_error_fn err,
                          void *data)
{
    parse_ctx_t p = {err, data, 0};
    gw_cloud_config_init(cfg);
    if (!group || !config_setting_is_group(group)) {
        if (group)
            report(&p, group, "'cloud' must be a group { ... }");
        else if (err)
            err(data, NULL, NULL, 0, "missing 'cloud' group"), p.errors++;
        else
            GW_ERROR("config", "missing 'cloud' group"), p.errors++;
        return p.errors;
    }
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        size_t k = 0;
        while (k < sizeof k_keys / sizeof k_keys[0] && strcmp(k_keys[k].name, name) != 0)
            k++;
        if (k == sizeof k_keys / sizeof k_keys[0]) {
            report(&p, s, "cloud: unknown setting '%s'", name);
            continue;
        }
        int type = config_setting_type(s);
        if (k_keys[k].kind == K_STR && type != CONFIG_TYPE_STRING) {
            report(&p, s, "cloud.%s must be a string", name);
            continue;
        }
        if (k_keys[k].kind == K_INT && type != CONFIG_TYPE_INT) {
            report(&p, s, "cloud.%s must be an integer", name);
            continue;
        }
        if (k_keys[k].kind == K_BOOL && type != CONFIG_TYPE_BOOL) {
            report(&p, s, "cloud.%s must be true or false", name);
            continue;
        }
        const char *sv = k_keys[k].kind == K_STR ? config_setting_get_string(s) : NULL;
        int iv = k_keys[k].kind == K_INT ? config_setting_get_int(s) : 0;
        bool bv = k_keys[k].kind == K_BOOL ? config_setting_get_bool(s) : false;
        if (strcmp(name, "host") == 0) {
            if (!*sv || strlen(sv) > 253 || strpbrk(sv, " /:@"))
                report(&p, s, "cloud.host must be a host name or IPv4 address");
            else
                cfg->host = strdup(sv);
        } else if (strcmp(name, "port") == 0) {
            if (iv < 1 || iv > 65535)
                report(&p, s, "cloud.port must be 1..65535, not %d", iv);
            else
                cfg->port = iv;
        } else if (strcmp(name, "tls") == 0) {
            cfg->tls = bv;
        } else if (strcmp(name, "verify") == 0) {
            cfg->verify = bv;
        } else if (strcmp(name, "ca_file") == 0) {
            if (access(sv, R_OK) != 0)
                report(&p, s, "cloud.ca_file '%s' is not readable", sv);
            else
                cfg->ca_file = strdup(sv);
        } else if (strcmp(name, "product_key") == 0 || strcmp(name, "device_name") == 0
                   || strcmp(name, "client_id") == 0 || strcmp(name, "instance_id") == 0) {
            if (!ident_ok(sv, 64))
                report(&p, s, "cloud.%s must be 1..64 printable characters without spaces or |&,=/+#", name);
            else if (name[0] == 'p')
                cfg->product_key = strdup(sv);
            else if (name[0] == 'd')
                cfg->device_name = strdup(sv);
            else if (name[0] == 'c')
                cfg->client_id = strdup(sv);
            else
                cfg->instance_id = strdup(sv);
        } else if (strcmp(name, "device_secret") == 0 || strcmp(name, "product_secret") == 0) {
            if (!*sv || strlen(sv) >= CLOUD_SECRET_MAX || strpbrk(sv, " \t\r\n"))
                report(&p, s, "cloud.%s must be 1..%d characters without spaces", name, CLOUD_SECRET_MAX - 1);
            else if (name[0] == 'd')
                cfg->device_secret = strdup(sv);
            else
                cfg->product_secret = strdup(sv);
        } else if (strcmp(name, "sign_method") == 0) {
            if (gw_alink_sign_method_parse(sv, &cfg->sign_method) != 0)
                report(&p, s, "cloud.sign_method must be hmacmd5, hmacsha1 or hmacsha256, not '%s'", sv);
        } else if (strcmp(name, "keepalive") == 0) {
            if (iv < 30 || iv > 1200)
                report(&p, s, "cloud.keepalive must be 30..1200 seconds (platform limit), not %d", iv);
            else
                cfg->keepalive = iv;
        } else if (strcmp(name, "register_securemode") == 0) {
            if (iv != 2 && iv != -2)
                report(&p, s, "cloud.register_securemode must be 2 or -2, not %d", iv);
            else
                cfg->register_securemode = iv;
        } else if (strcmp(name, "request_timeout_ms") == 0) {
            if (iv < 100 || iv > 600000)
                report(&p, s, "cloud.request_timeout_ms must be 100..600000, not %d", iv);
            else
                cfg->request_timeout_ms = iv;
        }
    }
    static const char *const required[] = {"host", "port", "product_key", "device_name"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!config_setting_get_member(group, required[i]))
            report(&p, group, "cloud.%s is required", required[i]);
    bool ds = config_setting_get_member(group, "device_secret") != NULL;
    bool ps = config_setting_get_member(group, "product_secret") != NULL;
    if (!ds && !ps)
        report(&p, group, "cloud: set device_secret, or product_secret for dynamic registration");
    else if (ds && ps)
        report(&p, group, "cloud: set device_secret or product_secret, not both");
    if (!cfg->tls && config_setting_get_member(group, "ca_file"))
        report(&p, config_setting_get_member(group, "ca_file"), "cloud.ca_file given but tls = false");
    if (cfg->register_securemode == -2 && ps && !cfg->instance_id)
        report(&p, group, "cloud.register_securemode = -2 needs cloud.instance_id");
    if (p.errors)
        gw_cloud_config_free(cfg);
    else if (!cfg->tls)
        GW_WARN("config", "cloud: tls = false: credentials and data travel in clear text (securemode 3)");
    else if (!cfg->verify)
        GW_WARN("config", "cloud: verify = false: the server certificate is NOT checked");
    return p.errors;
}
