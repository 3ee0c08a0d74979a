/* Parsed configuration files and the error list; see cfgdoc.h. */
#include "cfgdoc.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void gw_errors_addv(gw_errors_t *e, const char *file, int line, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char *s = NULL;
    int n = line > 0 ? asprintf(&s, "%s:%d: %s", file ? file : "?", line, msg)
                     : asprintf(&s, "%s: %s", file ? file : "?", msg);
    if (n < 0)
        return;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        char **m = realloc(e->msgs, cap * sizeof *m);
        if (!m) {
            free(s);
            return;
        }
        e->msgs = m;
        e->cap = cap;
    }
    e->msgs[e->n++] = s;
}

void gw_errors_add(gw_errors_t *e, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_errors_addv(e, file, line, fmt, ap);
    va_end(ap);
}

void gw_errors_log(const gw_errors_t *e, const char *component)
{
    for (size_t i = 0; i < e->n; i++)
        GW_ERROR(component, "%s", e->msgs[i]);
}

void gw_errors_print(const gw_errors_t *e, FILE *f)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(f, "%s\n", e->msgs[i]);
}

void gw_errors_free(gw_errors_t *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->msgs[i]);
    free(e->msgs);
    memset(e, 0, sizeof *e);
}

static void doc_init(gw_cfgdoc_t *doc, const char *path, gw_errors_t *errs)
{
    memset(doc, 0, sizeof *doc);
    config_init(&doc->cfg);
    doc->path = strdup(path ? path : "?");
    doc->errs = errs;
}

static int doc_parse_error(gw_cfgdoc_t *doc)
{
    const char *file = config_error_file(&doc->cfg);
    int line = config_error_line(&doc->cfg);
    const char *text = config_error_text(&doc->cfg);
    if (config_error_type(&doc->cfg) == CONFIG_ERR_FILE_IO)
        gw_errors_add(doc->errs, doc->path, 0, "cannot read file: %s", errno ? strerror(errno) : "I/O error");
    else
        gw_errors_add(doc->errs, file ? file : doc->path, line, "%s", text ? text : "syntax error");
    doc->nerrs++;
    return LGW_EINVAL;
}

int gw_cfgdoc_load(gw_cfgdoc_t *doc, const char *path, gw_errors_t *errs)
{
    doc_init(doc, path, errs);
    /* @include "x" in the file is relative to the file's directory */
    char *copy = strdup(path);
    if (copy) {
        char *slash = strrchr(copy, '/');
        if (slash) {
            *slash = '\0';
            config_set_include_dir(&doc->cfg, *copy ? copy : "/");
        }
        free(copy);
    }
    errno = 0;
    if (config_read_file(&doc->cfg, path) != CONFIG_TRUE)
        return doc_parse_error(doc);
    return LGW_OK;
}

int gw_cfgdoc_load_string(gw_cfgdoc_t *doc, const char *path, const char *text, gw_errors_t *errs)
{
    doc_init(doc, path, errs);
    if (config_read_string(&doc->cfg, text) != CONFIG_TRUE)
        return doc_parse_error(doc);
    return LGW_OK;
}

void gw_cfgdoc_free(gw_cfgdoc_t *doc)
{
    if (!doc)
        return;
    config_destroy(&doc->cfg);
    free(doc->path);
    doc->path = NULL;
}

const lgw_config_t *gw_cfgdoc_root(gw_cfgdoc_t *doc) { return gw_cfg_node(config_root_setting(&doc->cfg)); }

static _Thread_local gw_cfgdoc_t *t_current;

void gw_cfgdoc_set_current(gw_cfgdoc_t *doc) { t_current = doc; }

/* The document a node belongs to: config_t is the first member of gw_cfgdoc_t. */
static gw_cfgdoc_t *doc_of(const lgw_config_t *c)
{
    return c ? (gw_cfgdoc_t *)gw_cfg_setting(c)->config : t_current;
}

void gw_config_errorv(const lgw_config_t *c, const char *fmt, va_list ap)
{
    gw_cfgdoc_t *doc = doc_of(c);
    if (!doc || !doc->errs) {
        gw_logv(LGW_LOG_ERROR, "config", fmt, ap);
        return;
    }
    const char *file = c ? config_setting_source_file(gw_cfg_setting(c)) : NULL;
    int line = c ? (int)config_setting_source_line(gw_cfg_setting(c)) : 0;
    gw_errors_addv(doc->errs, file ? file : doc->path, line, fmt, ap);
    doc->nerrs++;
}

LGW_HOST_API void lgw_config_error(const lgw_config_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_config_errorv(c, fmt, ap);
    va_end(ap);
}

LGW_HOST_API int lgw_config_error_count(const lgw_config_t *c)
{
    gw_cfgdoc_t *doc = doc_of(c);
    return doc ? doc->nerrs : 0;
}
