/* Declared custom topic classes and raw products; see topics_conf.h. */
#include "topics_conf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linkgw/config.h>

#include "cloud.h"
#include "conf.h"

typedef struct tp_class {
    char *topic;
    int dir;
} tp_class_t;

/* One product block of one file. */
typedef struct tp_decl {
    struct tp_decl *next;
    char *origin; /* NULL: the main file; else the conf.d instance name */
    char *pk;
    bool raw;
    size_t n;
    tp_class_t *cls;
} tp_decl_t;

static struct {
    pthread_mutex_t lock;
    tp_decl_t *decls;
    char *gateway_instance;
    void (*listener)(void *data);
    void *listener_data;
} G = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void decl_free(tp_decl_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->cls[i].topic);
    free(d->cls);
    free(d->origin);
    free(d->pk);
    free(d);
}

static void list_free(tp_decl_t *d)
{
    while (d) {
        tp_decl_t *n = d->next;
        decl_free(d);
        d = n;
    }
}

const char *gw_topics_class_invalid(const char *topic)
{
    if (!topic || strncmp(topic, "user/", 5) != 0)
        return "must start with \"user/\"";
    if (strlen(topic) > 100)
        return "is longer than 100 characters";
    for (const char *lv = topic + 5;;) {
        const char *end = strchr(lv, '/');
        size_t n = end ? (size_t)(end - lv) : strlen(lv);
        if (n == 0)
            return "has an empty level";
        if (n == 1 && (lv[0] == '+' || lv[0] == '#')) {
            if (lv[0] == '#' && end)
                return "has '#' before its last level";
        } else {
            for (size_t i = 0; i < n; i++) {
                char ch = lv[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'
                      || ch == '-'))
                    return "may only hold letters, digits, '_', '-' and whole-level '+' or '#'";
            }
        }
        if (!end)
            return NULL;
        lv = end + 1;
    }
}

static bool pk_valid(const char *pk)
{
    size_t n = strlen(pk);
    if (n == 0 || n > 64)
        return false;
    for (const char *p = pk; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'
              || *p == '-'))
            return false;
    return true;
}

/*
 * Parses the `products` list of @p group into a new list (errors recorded on
 * the nodes). Returns the number of errors; *out gets the list (also on error:
 * the caller frees it).
 */
static int parse_products(const lgw_config_t *group, const char *origin, tp_decl_t **out)
{
    *out = NULL;
    int errs = 0;
    const lgw_config_t *prods = lgw_config_child(group, "products");
    if (!prods)
        return 0;
    if (lgw_config_kind(prods) != LGW_CFG_LIST) {
        lgw_config_error(prods, "'products' must be a list of groups ( { product_key = …; classes = (…); }, … )");
        return 1;
    }
    tp_decl_t **tail = out;
    static const char *const pkeys[] = {"product_key", "raw", "classes", NULL};
    static const char *const ckeys[] = {"topic", "direction", NULL};
    static const char *const dirs[] = {"publish", "subscribe", "both", NULL};
    for (size_t i = 0; i < lgw_config_count(prods); i++) {
        const lgw_config_t *p = lgw_config_at(prods, i);
        if (lgw_config_kind(p) != LGW_CFG_GROUP) {
            lgw_config_error(p, "each entry of 'products' must be a group");
            errs++;
            continue;
        }
        errs += lgw_config_check_keys(p, pkeys);
        const char *pk = NULL;
        bool raw = false;
        if (lgw_config_require(p, "product_key") != LGW_OK || lgw_config_get_string(p, "product_key", &pk) != LGW_OK) {
            errs++;
            continue;
        }
        if (!pk_valid(pk)) {
            lgw_config_error(lgw_config_child(p, "product_key"), "product_key '%s' is not a valid ProductKey", pk);
            errs++;
            continue;
        }
        if (lgw_config_get_bool(p, "raw", &raw) == LGW_ETYPE)
            errs++;
        for (tp_decl_t *d = *out; d; d = d->next)
            if (strcmp(d->pk, pk) == 0) {
                lgw_config_error(p, "product '%s' is declared twice in this file", pk);
                errs++;
            }
        tp_decl_t *d = calloc(1, sizeof *d);
        if (!d || !(d->pk = strdup(pk)) || (origin && !(d->origin = strdup(origin)))) {
            if (d)
                decl_free(d);
            lgw_config_error(p, "out of memory");
            return errs + 1;
        }
        d->raw = raw;
        *tail = d;
        tail = &d->next;
        const lgw_config_t *cls = lgw_config_child(p, "classes");
        if (!cls)
            continue;
        if (lgw_config_kind(cls) != LGW_CFG_LIST) {
            lgw_config_error(cls, "'classes' must be a list of groups ( { topic = \"user/…\"; direction = …; }, … )");
            errs++;
            continue;
        }
        d->cls = calloc(lgw_config_count(cls) + 1, sizeof *d->cls);
        if (!d->cls) {
            lgw_config_error(cls, "out of memory");
            return errs + 1;
        }
        for (size_t k = 0; k < lgw_config_count(cls); k++) {
            const lgw_config_t *c = lgw_config_at(cls, k);
            if (lgw_config_kind(c) != LGW_CFG_GROUP) {
                lgw_config_error(c, "each class must be a group { topic = \"user/…\"; direction = \"publish\"; }");
                errs++;
                continue;
            }
            errs += lgw_config_check_keys(c, ckeys);
            const char *topic = NULL;
            int dir = -1;
            if (lgw_config_require(c, "topic") != LGW_OK || lgw_config_get_string(c, "topic", &topic) != LGW_OK
                || lgw_config_require(c, "direction") != LGW_OK
                || lgw_config_get_choice(c, "direction", dirs, &dir) != LGW_OK) {
                errs++;
                continue;
            }
            const char *why = gw_topics_class_invalid(topic);
            if (why) {
                lgw_config_error(lgw_config_child(c, "topic"), "topic class '%s' %s", topic, why);
                errs++;
                continue;
            }
            bool dup = false;
            for (size_t j = 0; j < d->n; j++)
                dup |= strcmp(d->cls[j].topic, topic) == 0;
            if (dup) {
                lgw_config_error(c, "topic class '%s' is declared twice for product '%s'", topic, pk);
                errs++;
                continue;
            }
            if (!(d->cls[d->n].topic = strdup(topic))) {
                lgw_config_error(c, "out of memory");
                return errs + 1;
            }
            d->cls[d->n++].dir = dir == 0 ? GW_TOPIC_UP : dir == 1 ? GW_TOPIC_DOWN : GW_TOPIC_UP | GW_TOPIC_DOWN;
        }
    }
    return errs;
}

static bool same_origin(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Replaces the declarations of @p origin by @p list (taken), then tells the listener. */
static void replace(const char *origin, tp_decl_t *list, const char *gateway_instance, bool set_gateway)
{
    pthread_mutex_lock(&G.lock);
    tp_decl_t *keep = NULL, **kt = &keep, *drop = NULL;
    for (tp_decl_t *d = G.decls, *n; d; d = n) {
        n = d->next;
        d->next = NULL;
        if (same_origin(d->origin, origin)) {
            d->next = drop;
            drop = d;
        } else {
            *kt = d;
            kt = &d->next;
        }
    }
    *kt = list;
    G.decls = keep;
    if (set_gateway) {
        free(G.gateway_instance);
        G.gateway_instance = gateway_instance ? strdup(gateway_instance) : NULL;
    }
    void (*fn)(void *) = G.listener;
    void *fd = G.listener_data;
    pthread_mutex_unlock(&G.lock);
    list_free(drop);
    if (fn)
        fn(fd);
}

static int main_section(const lgw_config_t *section, void *data)
{
    (void)data;
    if (!section) {
        replace(NULL, NULL, NULL, true);
        return LGW_OK;
    }
    static const char *const keys[] = {"gateway_instance", "products", NULL};
    int errs = lgw_config_check_keys(section, keys);
    const char *gi = NULL;
    if (lgw_config_get_string(section, "gateway_instance", &gi) == LGW_ETYPE)
        errs++;
    tp_decl_t *list = NULL;
    errs += parse_products(section, NULL, &list);
    if (errs) {
        list_free(list);
        return LGW_EINVAL;
    }
    replace(NULL, list, gi, true);
    return LGW_OK;
}

static int instance_key(const char *instance, const lgw_config_t *setting, void *data)
{
    (void)data;
    if (lgw_config_kind(setting) != LGW_CFG_GROUP) {
        lgw_config_error(setting, "'topics' must be a group { products = ( … ); }");
        return LGW_EINVAL;
    }
    static const char *const keys[] = {"products", NULL};
    int errs = lgw_config_check_keys(setting, keys);
    tp_decl_t *list = NULL;
    errs += parse_products(setting, instance, &list);
    if (errs || lgw_config_error_count(setting) > 0) { /* a file with errors keeps the old declarations */
        list_free(list);
        return LGW_EINVAL;
    }
    replace(instance, list, NULL, false);
    return LGW_OK;
}

int gw_topics_conf_register(void)
{
    if (gw_conf_register_section("topics", main_section, NULL) != LGW_OK
        || gw_conf_register_instance_key("topics", instance_key, NULL) != LGW_OK)
        return LGW_EINVAL;
    return LGW_OK;
}

bool gw_topics_conf_allows(const char *pk, const char *suffix, int dir)
{
    if (!pk || !suffix)
        return false;
    bool raw = strcmp(suffix, "raw") == 0, ok = false;
    pthread_mutex_lock(&G.lock);
    for (tp_decl_t *d = G.decls; d && !ok; d = d->next) {
        if (strcmp(d->pk, pk) != 0)
            continue;
        if (raw) {
            ok = d->raw;
            continue;
        }
        for (size_t i = 0; i < d->n && !ok; i++)
            ok = (d->cls[i].dir & dir) && gw_cloud_topic_match(d->cls[i].topic, suffix);
    }
    pthread_mutex_unlock(&G.lock);
    return ok;
}

bool gw_topics_conf_any_publish(const char *suffix)
{
    if (!suffix)
        return false;
    bool raw = strcmp(suffix, "raw") == 0, ok = false;
    pthread_mutex_lock(&G.lock);
    for (tp_decl_t *d = G.decls; d && !ok; d = d->next) {
        if (raw)
            ok = d->raw;
        for (size_t i = 0; i < d->n && !ok && !raw; i++)
            ok = (d->cls[i].dir & GW_TOPIC_UP) && gw_cloud_topic_match(d->cls[i].topic, suffix);
    }
    pthread_mutex_unlock(&G.lock);
    return ok;
}

bool gw_topics_conf_gateway_instance(char *out, size_t cap)
{
    pthread_mutex_lock(&G.lock);
    bool ok = G.gateway_instance && strlen(G.gateway_instance) < cap;
    if (ok)
        memcpy(out, G.gateway_instance, strlen(G.gateway_instance) + 1);
    pthread_mutex_unlock(&G.lock);
    return ok;
}

void gw_topics_conf_filters(void (*fn)(void *data, const char *filter), void *data)
{
    /* filters are collected under the lock and handed out after it (fn may subscribe) */
    size_t cap = 16, n = 0;
    char **f = malloc(cap * sizeof *f);
    pthread_mutex_lock(&G.lock);
    for (tp_decl_t *d = G.decls; d && f; d = d->next) {
        char buf[6][300];
        int k = 0;
        if (d->raw) {
            snprintf(buf[k++], sizeof buf[0], "/sys/%s/+/thing/model/down_raw", d->pk);
            snprintf(buf[k++], sizeof buf[0], "/sys/%s/+/thing/model/up_raw_reply", d->pk);
            snprintf(buf[k++], sizeof buf[0], "/ext/rrpc/+/sys/%s/+/thing/model/down_raw", d->pk);
        }
        for (size_t i = 0; i <= d->n && f; i++) {
            if (i < d->n && (d->cls[i].dir & GW_TOPIC_DOWN)) {
                snprintf(buf[k++], sizeof buf[0], "/%s/+/%s", d->pk, d->cls[i].topic);
                snprintf(buf[k++], sizeof buf[0], "/ext/rrpc/+/%s/+/%s", d->pk, d->cls[i].topic);
                snprintf(buf[k++], sizeof buf[0], "/ext/rrpc/+//%s/+/%s", d->pk, d->cls[i].topic);
            }
            for (int j = 0; j < k && f; j++) {
                if (n == cap) {
                    char **g = realloc(f, 2 * cap * sizeof *f);
                    if (!g) {
                        for (size_t x = 0; x < n; x++)
                            free(f[x]);
                        free(f);
                        f = NULL;
                        break;
                    }
                    f = g;
                    cap *= 2;
                }
                if ((f[n] = strdup(buf[j])) != NULL)
                    n++;
            }
            k = 0;
        }
    }
    pthread_mutex_unlock(&G.lock);
    for (size_t i = 0; f && i < n; i++) {
        fn(data, f[i]);
        free(f[i]);
    }
    free(f);
}

void gw_topics_conf_set_listener(void (*fn)(void *data), void *data)
{
    pthread_mutex_lock(&G.lock);
    G.listener = fn;
    G.listener_data = data;
    pthread_mutex_unlock(&G.lock);
}

void gw_topics_conf_clear(void)
{
    pthread_mutex_lock(&G.lock);
    tp_decl_t *d = G.decls;
    G.decls = NULL;
    free(G.gateway_instance);
    G.gateway_instance = NULL;
    pthread_mutex_unlock(&G.lock);
    list_free(d);
}

__attribute__((destructor)) static void topics_conf_at_exit(void)
{
    gw_topics_conf_clear();
}
