/*
 * Host side of lgw_publish() (ABI 1.1): custom-topic and raw messages a plugin
 * sends for a device. The core only validates what it can without the cloud
 * (arguments, size, instance state) and carries the message to the loop
 * thread through the cross-thread queue; the layer that owns the cloud link
 * (core/gateway/topics.c) registers itself as the *sink* that knows the
 * declared topic classes, the devices' cloud identities and the connection.
 * Without a sink (no `cloud` section) lgw_publish() answers LGW_ENOTSUP.
 */
#ifndef LINKGW_CORE_MESSAGE_H
#define LINKGW_CORE_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

/** What the cloud side implements. */
typedef struct gw_message_sink {
    /**
     * Any thread, called with the sink lock held: could @p suffix be published
     * at all (a publish class of some declared product matches it, or "raw"
     * is declared somewhere)? LGW_OK or LGW_EINVAL.
     */
    int (*precheck)(void *data, const char *suffix);
    /**
     * Loop thread: every check for (instance, device_id or NULL for the
     * gateway, suffix, len), as lgw_publish() documents: LGW_OK, LGW_EINVAL,
     * LGW_ERANGE, LGW_ESTATE.
     */
    int (*check)(void *data, const char *instance, const char *device_id, const char *suffix, size_t len);
    /** Loop thread: checks again and sends; refusals are logged and counted by the sink. */
    void (*publish)(void *data, const char *instance, const char *device_id, const char *suffix,
                    const void *payload, size_t len);
} gw_message_sink_t;

/** Installs @p sink (copied) with @p data, or removes it (NULL). Loop thread. */
void gw_message_set_sink(const gw_message_sink_t *sink, void *data);

/**
 * True when @p suffix is syntactically a topic suffix lgw_publish() accepts:
 * "raw", or "user/" followed by non-empty levels of printable ASCII without
 * '+', '#' or spaces.
 */
bool gw_message_suffix_ok(const char *suffix);

#endif
