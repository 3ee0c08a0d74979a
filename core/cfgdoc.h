/*
 * Configuration documents and error collection.
 *
 * A gw_cfgdoc_t is one parsed libconfig file (the main linkgw.conf or one
 * conf.d instance file). Its settings are what the SDK calls lgw_config_t:
 * an lgw_config_t * is a libconfig config_setting_t * underneath, so reading
 * the tree allocates nothing; the document wrapper carries the file path and
 * the error list that lgw_config_error() appends to.
 *
 * gw_errors_t collects "file:line: message" strings from every source (the
 * libconfig parser, the core's own checks, module validators, plugins), so
 * `linkgw --check-config` can print all of them and the daemon can log them.
 */
#ifndef LINKGW_CORE_CFGDOC_H
#define LINKGW_CORE_CFGDOC_H

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <linkgw/config.h>

/** A growing list of formatted errors. Zero-initialise; free with gw_errors_free(). */
typedef struct gw_errors {
    char **msgs;
    size_t n, cap;
} gw_errors_t;

/** Appends "file:line: message" ("file: message" when @p line is 0). */
void gw_errors_add(gw_errors_t *e, const char *file, int line, const char *fmt, ...) LGW_PRINTF(4, 5);
void gw_errors_addv(gw_errors_t *e, const char *file, int line, const char *fmt, va_list ap);
/** Logs every error at error level under @p component. */
void gw_errors_log(const gw_errors_t *e, const char *component);
/** Prints every error, one per line, to @p f. */
void gw_errors_print(const gw_errors_t *e, FILE *f);
/** Frees the messages; @p e can be reused. */
void gw_errors_free(gw_errors_t *e);

/** One parsed file. The config_t must stay the first member (see cfgdoc.c). */
typedef struct gw_cfgdoc {
    config_t cfg;
    char *path;
    gw_errors_t *errs;  /* where errors go (not owned) */
    int nerrs;          /* errors recorded for this document */
} gw_cfgdoc_t;

/**
 * Parses @p path into @p doc; errors (unreadable file, syntax error with its
 * line) are appended to @p errs, which also receives every later error
 * recorded against the document. Returns LGW_OK or LGW_EINVAL. In both cases
 * gw_cfgdoc_free() must be called.
 */
int gw_cfgdoc_load(gw_cfgdoc_t *doc, const char *path, gw_errors_t *errs);
/** Like gw_cfgdoc_load() but from a string; @p path only names it in errors. */
int gw_cfgdoc_load_string(gw_cfgdoc_t *doc, const char *path, const char *text, gw_errors_t *errs);
/** Releases the parsed tree. */
void gw_cfgdoc_free(gw_cfgdoc_t *doc);
/** Root group of the document. */
const lgw_config_t *gw_cfgdoc_root(gw_cfgdoc_t *doc);

/**
 * Makes @p doc the document lgw_config_error(NULL, …) reports against on this
 * thread (used while a plugin's create callback runs); NULL to unset.
 */
void gw_cfgdoc_set_current(gw_cfgdoc_t *doc);

/** Records an error against the document @p c belongs to (NULL: current doc). */
void gw_config_errorv(const lgw_config_t *c, const char *fmt, va_list ap);

/** libconfig view of a node. */
static inline config_setting_t *gw_cfg_setting(const lgw_config_t *c) { return (config_setting_t *)c; }
/** SDK view of a libconfig node. */
static inline const lgw_config_t *gw_cfg_node(const config_setting_t *s) { return (const lgw_config_t *)s; }
/** Human name of a node kind ("group", "integer" …). */
const char *gw_config_kind_name(lgw_config_kind_t k);

#endif
