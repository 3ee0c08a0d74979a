/*
 * linkgw plugin SDK — reading an instance's settings.
 *
 * Copyright (c) the linkgw developers. Licensed under the MIT license.
 *
 * Each plugin instance is one file in conf.d. Its `settings` group is handed
 * to the plugin's create callback as a tree of lgw_config_t nodes. The
 * functions here read it and, when something is wrong, record an error with
 * the file and line of the offending setting, exactly as the host does for
 * its own keys. `linkgw --check-config` prints these errors as
 * `file:line: message` and exits non-zero; at start-up or reload an instance
 * whose settings have errors is not started.
 *
 * Nodes are borrowed from the host and valid only during the create callback:
 * copy what you need (strings included) into your instance data.
 *
 * Functions here may only be called from the create callback's thread.
 *
 * Example:
 * @code
 *   int64_t port = 502;                    // default
 *   lgw_config_get_int(settings, "port", &port);   // absent: keeps 502
 *   if (port < 1 || port > 65535)
 *       lgw_config_error(lgw_config_child(settings, "port"), "port must be 1..65535");
 *   static const char *const keys[] = { "host", "port", "devices", NULL };
 *   lgw_config_check_keys(settings, keys);
 *   if (lgw_config_error_count(settings) > 0) return LGW_EINVAL;
 * @endcode
 */
#ifndef LINKGW_CONFIG_H
#define LINKGW_CONFIG_H

#include <stdbool.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Kinds of configuration nodes (libconfig's setting types). */
typedef enum lgw_config_kind {
    LGW_CFG_NONE = 0,
    LGW_CFG_GROUP = 1,  /**< `{ key = value; … }` */
    LGW_CFG_LIST = 2,   /**< `( item, item )` — items may differ in kind */
    LGW_CFG_ARRAY = 3,  /**< `[ scalar, scalar ]` — scalars of one kind */
    LGW_CFG_INT = 4,    /**< integer (int or int64 in libconfig) */
    LGW_CFG_FLOAT = 5,  /**< floating point */
    LGW_CFG_BOOL = 6,   /**< true / false */
    LGW_CFG_STRING = 7  /**< "text" */
} lgw_config_kind_t;

/** Kind of @p c; LGW_CFG_NONE if @p c is NULL. */
LGW_HOST_API lgw_config_kind_t lgw_config_kind(const lgw_config_t *c);

/** Name of @p c inside its group, or NULL for list/array elements and the root. */
LGW_HOST_API const char *lgw_config_name(const lgw_config_t *c);

/** Path of the file @p c was read from. */
LGW_HOST_API const char *lgw_config_file(const lgw_config_t *c);

/** Line of @p c in its file (1-based; 0 if unknown). */
LGW_HOST_API int lgw_config_line(const lgw_config_t *c);

/** Member @p name of group @p c, or NULL if absent (or @p c is not a group). */
LGW_HOST_API const lgw_config_t *lgw_config_child(const lgw_config_t *c, const char *name);

/** Number of members of a group, list or array; 0 for scalars. */
LGW_HOST_API size_t lgw_config_count(const lgw_config_t *c);

/** Member/element @p index of a group, list or array, or NULL. */
LGW_HOST_API const lgw_config_t *lgw_config_at(const lgw_config_t *c, size_t index);

/*
 * Typed getters. Each reads member @p name of group @p c (or @p c itself when
 * @p name is NULL) and returns:
 *   LGW_OK      the value was stored in @p *out;
 *   LGW_ENOENT  no such member; @p *out is left untouched (so preset it to the
 *               default), and no error is recorded;
 *   LGW_ETYPE   the member has another kind; an error naming the expected kind
 *               is recorded at the member's file:line, @p *out untouched.
 */

/** Integer getter. Floats are refused (LGW_ETYPE). */
LGW_HOST_API int lgw_config_get_int(const lgw_config_t *c, const char *name, int64_t *out);
/** Number getter: accepts integers and floats. */
LGW_HOST_API int lgw_config_get_double(const lgw_config_t *c, const char *name, double *out);
/** Boolean getter. */
LGW_HOST_API int lgw_config_get_bool(const lgw_config_t *c, const char *name, bool *out);
/** String getter; @p *out is borrowed (valid during the create callback). */
LGW_HOST_API int lgw_config_get_string(const lgw_config_t *c, const char *name, const char **out);

/**
 * Like lgw_config_get_int(), and also records an error (and returns
 * LGW_ERANGE) when the value lies outside [@p min, @p max].
 */
LGW_HOST_API int lgw_config_get_int_range(const lgw_config_t *c, const char *name, int64_t *out,
                                          int64_t min, int64_t max);

/**
 * Reads a string member that must be one of @p choices (NULL-terminated) and
 * stores its index in @p *index. Records an error listing the choices
 * otherwise (LGW_EINVAL). LGW_ENOENT if absent.
 */
LGW_HOST_API int lgw_config_get_choice(const lgw_config_t *c, const char *name,
                                       const char *const *choices, int *index);

/**
 * Records "missing required setting '<name>'" at @p c's line when group @p c
 * has no member @p name. Returns LGW_OK if present, LGW_ENOENT otherwise.
 */
LGW_HOST_API int lgw_config_require(const lgw_config_t *c, const char *name);

/**
 * Records an error for every member of group @p c whose name is not in
 * @p allowed (a NULL-terminated list), at that member's file:line. Returns the
 * number of unknown members (0 = all known).
 */
LGW_HOST_API int lgw_config_check_keys(const lgw_config_t *c, const char *const *allowed);

/**
 * Records a free-form error at @p c's file:line (printf-style message, no
 * trailing newline). @p c may be NULL: the error is then attached to the
 * instance's file without a line.
 */
LGW_HOST_API void lgw_config_error(const lgw_config_t *c, const char *fmt, ...) LGW_PRINTF(2, 3);

/** Number of errors recorded so far for the file @p c belongs to. */
LGW_HOST_API int lgw_config_error_count(const lgw_config_t *c);

#ifdef __cplusplus
}
#endif
#endif /* LINKGW_CONFIG_H */
