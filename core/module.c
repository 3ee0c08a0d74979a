/* Core module registry and sequencing; see module.h. */
#include "module.h"
#include "log.h"

#include <linkgw/host.h>

#include <stdlib.h>

static gw_module_t *g_modules; /* sorted by priority */
static bool g_inited;

void gw_module_register(gw_module_t *m)
{
    gw_module_t **p = &g_modules;
    while (*p && (*p)->priority <= m->priority)
        p = &(*p)->next;
    m->next = *p;
    *p = m;
}

int gw_modules_init(void)
{
    if (g_inited)
        return LGW_OK;
    g_inited = true;
    for (gw_module_t *m = g_modules; m; m = m->next) {
        int rc = m->init ? m->init() : LGW_OK;
        if (rc != LGW_OK) {
            GW_ERROR("linkgw", "module %s failed to initialise: %s", m->name, lgw_strerror(rc));
            return rc;
        }
    }
    return LGW_OK;
}

/* Stop sequencing: modules [0, count) stopped from the last to the first. */
typedef struct stop_seq {
    gw_host_t *host;
    gw_module_t **list;
    size_t left;
    void (*done)(void *);
    void *arg;
} stop_seq_t;

static size_t g_started; /* modules started, in registry order */

static void stop_next(void *arg)
{
    stop_seq_t *s = arg;
    while (s->left > 0) {
        gw_module_t *m = s->list[--s->left];
        if (m->stop) {
            GW_DEBUG("linkgw", "stopping module %s", m->name);
            m->stop(s->host, stop_next, s); /* continues from its done */
            return;
        }
    }
    void (*done)(void *) = s->done;
    void *darg = s->arg;
    free(s->list);
    free(s);
    if (done)
        done(darg);
}

static void stop_first(gw_host_t *host, size_t count, void (*done)(void *), void *arg)
{
    stop_seq_t *s = calloc(1, sizeof *s);
    gw_module_t **list = count ? calloc(count, sizeof *list) : NULL;
    if (!s || (count && !list)) {
        GW_ERROR("linkgw", "out of memory stopping modules");
        abort();
    }
    size_t i = 0;
    for (gw_module_t *m = g_modules; m && i < count; m = m->next)
        list[i++] = m;
    *s = (stop_seq_t){host, list, i, done, arg};
    g_started = 0;
    stop_next(s);
}

int gw_modules_start(gw_host_t *host, const gw_main_conf_t *mc)
{
    g_started = 0;
    for (gw_module_t *m = g_modules; m; m = m->next) {
        int rc = m->start ? m->start(host, mc) : LGW_OK;
        if (rc != LGW_OK) {
            GW_ERROR("linkgw", "module %s failed to start: %s", m->name, lgw_strerror(rc));
            return rc;
        }
        g_started++;
    }
    return LGW_OK;
}

void gw_modules_stop(gw_host_t *host, void (*done)(void *), void *arg)
{
    stop_first(host, g_started, done, arg);
}
