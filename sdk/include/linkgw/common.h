/*
 * linkgw plugin SDK — common definitions.
 *
 * Copyright (c) the linkgw developers. Licensed under the MIT license.
 *
 * This header is included by every other SDK header. It holds the ABI version,
 * the symbol visibility macros, the result codes and the opaque handle types.
 *
 * ABI rule (as libuv states it): the same ABI *major* version means binary
 * compatibility. A plugin built against headers of ABI 1.x loads into every
 * host that implements ABI 1.y with y >= x. Minor versions only ever *add*
 * functions and callback setters; no struct layout is ever exposed, so none
 * can change.
 */
#ifndef LINKGW_COMMON_H
#define LINKGW_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ABI major version these headers describe. */
#define LGW_ABI_MAJOR 1
/** ABI minor version these headers describe. */
#define LGW_ABI_MINOR 1
/** Encodes an ABI version as one int: major * 1000 + minor. */
#define LGW_ABI_ENCODE(major, minor) ((major) * 1000 + (minor))
/** Major part of an encoded ABI version. */
#define LGW_ABI_MAJOR_OF(v) ((v) / 1000)
/** Minor part of an encoded ABI version. */
#define LGW_ABI_MINOR_OF(v) ((v) % 1000)
/** The ABI version these headers describe, encoded. */
#define LGW_ABI_VERSION LGW_ABI_ENCODE(LGW_ABI_MAJOR, LGW_ABI_MINOR)

/*
 * Symbol visibility. Plugins are best built with -fvisibility=hidden; the
 * functions the host looks up (see plugin.h) are marked LGW_PLUGIN_EXPORT.
 * LGW_HOST_API marks the functions the host offers (see host.h).
 */
#if defined(__GNUC__) || defined(__clang__)
#  define LGW_PLUGIN_EXPORT __attribute__((visibility("default")))
#  define LGW_HOST_API __attribute__((visibility("default")))
#  define LGW_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#  define LGW_PLUGIN_EXPORT
#  define LGW_HOST_API
#  define LGW_PRINTF(fmt_idx, arg_idx)
#endif

/**
 * Result codes of SDK functions. Success is LGW_OK (zero); every error is
 * negative. lgw_strerror() names them.
 */
typedef enum lgw_result {
    LGW_OK = 0,            /**< success */
    LGW_EINVAL = -1,       /**< an argument is invalid (NULL, out of range, malformed) */
    LGW_ENOMEM = -2,       /**< out of memory */
    LGW_ENOENT = -3,       /**< no such item (setting, device, member …) */
    LGW_ETYPE = -4,        /**< the item exists but has another type */
    LGW_ESTATE = -5,       /**< not allowed in the current state (e.g. instance stopping) */
    LGW_ENOTSUP = -6,      /**< operation not supported (by this host or plugin) */
    LGW_ECANCELED = -7,    /**< work was cancelled before it ran */
    LGW_ETIMEDOUT = -8,    /**< the operation timed out */
    LGW_EIO = -9,          /**< I/O error on the access network */
    LGW_EBUSY = -10,       /**< resource busy; try again later */
    LGW_ERANGE = -11       /**< a value is outside its allowed range */
} lgw_result_t;

/** Log levels, from most to least severe. */
typedef enum lgw_log_level {
    LGW_LOG_ERROR = 0,
    LGW_LOG_WARN = 1,
    LGW_LOG_INFO = 2,
    LGW_LOG_DEBUG = 3
} lgw_log_level_t;

/**
 * Reply codes a plugin gives when it completes a request from the cloud
 * (lgw_request_done()). They are the platform's device-side codes: 200 success,
 * 400 request error, 460 parameter error, 429 busy, and 100000–110000 for
 * errors the device defines itself.
 */
#define LGW_REPLY_SUCCESS 200
#define LGW_REPLY_REQUEST_ERROR 400
#define LGW_REPLY_TOO_MANY 429
#define LGW_REPLY_PARAM_ERROR 460
#define LGW_REPLY_DEVICE_MIN 100000
#define LGW_REPLY_DEVICE_MAX 110000

/** One loaded plugin instance (one conf.d file). Owned by the host. */
typedef struct lgw_instance lgw_instance_t;
/** What a plugin registers about itself at load time. Owned by the host. */
typedef struct lgw_driver lgw_driver_t;
/** A request from the host to the plugin, completed asynchronously. */
typedef struct lgw_request lgw_request_t;
/** A typed value (TSL data types). */
typedef struct lgw_value lgw_value_t;
/** A batch of property values or one event being reported. */
typedef struct lgw_report lgw_report_t;
/** A device model being declared by a plugin. */
typedef struct lgw_model lgw_model_t;
/** A node of the instance's settings (a libconfig setting underneath). */
typedef struct lgw_config lgw_config_t;
/** A one-shot or repeating timer on the host's event loop. */
typedef struct lgw_timer lgw_timer_t;
/** A file descriptor watched for readiness on the host's event loop. */
typedef struct lgw_watch lgw_watch_t;
/** A dedicated worker thread that runs jobs one after another. */
typedef struct lgw_worker lgw_worker_t;

#ifdef __cplusplus
}
#endif
#endif /* LINKGW_COMMON_H */
