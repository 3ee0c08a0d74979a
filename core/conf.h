/*
 * The daemon's configuration: the main file (linkgw.conf, libconfig) and the
 * conf.d instance files, with a registry through which core modules validate
 * their own parts.
 *
 * Main file keys owned by the core: log_level, conf_dir, state_dir,
 * plugin_dir, request_timeout_ms. Every other top-level key must be a group
 * claimed by a module with gw_conf_register_section() (e.g. "cloud", "store",
 * "tsl"); anything else is an error "file:line: unknown setting 'x'".
 *
 * conf.d files (one plugin instance each) own: plugin, enabled, settings.
 * Modules claim further keys with gw_conf_register_instance_key() (e.g.
 * "models" for the TSL mapping). Relative paths in the main file are relative
 * to the directory of the main file.
 *
 * Validators record errors with lgw_config_error() (config.h) on the nodes
 * they are given, so every error carries file and line.
 */
#ifndef LINKGW_CORE_CONF_H
#define LINKGW_CORE_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <linkgw/config.h>

#include "cfgdoc.h"

/**
 * Validates (and, if the module wants, stores) the main-file group @p section
 * (NULL when the file has none: apply defaults). Called on every load of the
 * main file, including `--check-config`. Record errors with
 * lgw_config_error(); the return value is informational.
 */
typedef int (*gw_conf_section_fn)(const lgw_config_t *section, void *data);

/**
 * Validates the conf.d key @p setting of instance @p instance (never called
 * when the key is absent). Called whenever the file is read: start-up, every
 * SIGHUP that finds the file changed, `--check-config`.
 */
typedef int (*gw_conf_key_fn)(const char *instance, const lgw_config_t *setting, void *data);

/** Claims the main-file top-level group @p name. LGW_EINVAL if taken or reserved. */
int gw_conf_register_section(const char *name, gw_conf_section_fn fn, void *data);
/** Claims the conf.d top-level key @p name. LGW_EINVAL if taken or reserved. */
int gw_conf_register_instance_key(const char *name, gw_conf_key_fn fn, void *data);
/** Forgets every registration (tests). */
void gw_conf_registry_clear(void);

/** The main file, parsed. */
typedef struct gw_main_conf {
    char *path;
    lgw_log_level_t log_level;
    char *conf_dir, *state_dir, *plugin_dir; /* absolute or as given */
    uint64_t request_timeout_ms;
} gw_main_conf_t;

/**
 * Loads and validates the main file @p path (errors appended to @p errs) and
 * runs the registered section validators. Returns LGW_OK when no error was
 * recorded. @p mc is filled with defaults first and must be freed with
 * gw_main_conf_free() in every case.
 */
int gw_main_conf_load(gw_main_conf_t *mc, const char *path, gw_errors_t *errs);
void gw_main_conf_free(gw_main_conf_t *mc);

/** One conf.d file, parsed. */
typedef struct gw_inst_conf {
    char *name;         /* file name without .conf */
    char *path;
    uint64_t hash;      /* of the file's content */
    bool enabled;
    char *plugin_path;  /* resolved .so path */
    int plugin_line;    /* line of the `plugin` setting */
    gw_cfgdoc_t doc;    /* kept for the plugin's create */
    const lgw_config_t *settings; /* the `settings` group (an empty one if absent) */
} gw_inst_conf_t;

/**
 * Reads the conf.d file @p path: parse, check keys and types, resolve the
 * plugin against @p plugin_dir, run registered key validators. Returns
 * LGW_OK when no error was recorded for the file. Free with
 * gw_inst_conf_free() in every case.
 */
int gw_inst_conf_load(gw_inst_conf_t *ic, const char *path, const char *plugin_dir, gw_errors_t *errs);
void gw_inst_conf_free(gw_inst_conf_t *ic);

/**
 * Lists the `*.conf` files of @p dir, sorted by name, as absolute-or-given
 * paths in a NULL-terminated array (free with gw_confd_list_free()). An
 * unreadable directory is an error in @p errs (NULL returned).
 */
char **gw_confd_list(const char *dir, gw_errors_t *errs);
void gw_confd_list_free(char **list);

/** FNV-1a 64 of @p len bytes. */
uint64_t gw_hash64(const void *data, size_t len);

#endif
