/*
 * Declared custom topic classes and raw products (the `topics` group of
 * linkgw.conf and the `topics` key of conf.d files), process-wide like the
 * conf registry. See docs/custom-topics.md for the syntax.
 *
 *   topics = {
 *     gateway_instance = "sim";        # main file only: receives the gateway's own messages
 *     products = (
 *       { product_key = "a1SubPK001";
 *         raw = true;                  # up_raw / down_raw allowed (default false)
 *         classes = ( { topic = "user/update"; direction = "publish"; },     # device → cloud
 *                     { topic = "user/get";    direction = "subscribe"; },   # cloud → device
 *                     { topic = "user/cmd/+";  direction = "both"; } ); }
 *     );
 *   };
 *
 * Declarations of the main file and of every conf.d file add up: a topic is
 * allowed in a direction when any declaration of its product allows it. A
 * conf.d file that is re-read replaces its own declarations (only when it
 * has no errors). The table is guarded by a mutex: queries work from any
 * thread.
 */
#ifndef GW_GATEWAY_TOPICS_CONF_H
#define GW_GATEWAY_TOPICS_CONF_H

#include <stdbool.h>
#include <stddef.h>

/** Directions, from the device's point of view. */
#define GW_TOPIC_UP 1    /* "publish": device → cloud */
#define GW_TOPIC_DOWN 2  /* "subscribe": cloud → device */

/** Registers the main-file section and the conf.d key "topics" (module init). */
int gw_topics_conf_register(void);

/**
 * True when product @p pk may use @p suffix ("user/…", or "raw") in direction
 * @p dir (GW_TOPIC_UP or GW_TOPIC_DOWN). Class wildcards '+' and '#' match
 * like MQTT filters.
 */
bool gw_topics_conf_allows(const char *pk, const char *suffix, int dir);
/** True when some declared product may publish @p suffix. */
bool gw_topics_conf_any_publish(const char *suffix);
/** The main file's gateway_instance into @p out; false when none. */
bool gw_topics_conf_gateway_instance(char *out, size_t cap);

/**
 * Calls @p fn with every MQTT filter the gateway must subscribe for the
 * current declarations (custom classes cloud → device, their RRPC forms, raw
 * topics), possibly with repeats.
 */
void gw_topics_conf_filters(void (*fn)(void *data, const char *filter), void *data);

/** Called (loop thread) after declarations changed; one listener. NULL removes it. */
void gw_topics_conf_set_listener(void (*fn)(void *data), void *data);

/** Validates a class pattern ("user/…" with '+'/'#'); NULL when fine, else why not. */
const char *gw_topics_class_invalid(const char *topic);

/** Forgets every declaration (tests, exit). */
void gw_topics_conf_clear(void);

#endif
