/* Device model declaration (host.h "Device models"); see model.h. */
#include "model.h"
#include "instance.h"

#include <stdlib.h>
#include <string.h>

LGW_HOST_API lgw_model_t *lgw_model_new(lgw_instance_t *inst, const char *name)
{
    if (!inst || !name || !*name || !gw_host_check_loop(inst->host, __func__))
        return NULL;
    lgw_model_t *m = calloc(1, sizeof *m);
    if (!m || !(m->name = strdup(name))) {
        free(m);
        return NULL;
    }
    m->inst = inst;
    gw_list_init(&m->link);
    return m;
}

static bool has_name(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

const gw_model_point_t *gw_model_point(const lgw_model_t *m, const char *name)
{
    for (size_t i = 0; m && name && i < m->npoints; i++)
        if (strcmp(m->points[i].name, name) == 0)
            return &m->points[i];
    return NULL;
}

LGW_HOST_API int lgw_model_add_point(lgw_model_t *m, const char *name, lgw_type_t type, int access)
{
    if (!m || !name || !*name || type < LGW_TYPE_BOOL || type > LGW_TYPE_ARRAY ||
        !(access & LGW_ACCESS_RW) || (access & ~LGW_ACCESS_RW))
        return LGW_EINVAL;
    if (gw_model_point(m, name))
        return LGW_EINVAL;
    gw_model_point_t *p = realloc(m->points, (m->npoints + 1) * sizeof *p);
    if (!p)
        return LGW_ENOMEM;
    m->points = p;
    if (!(p[m->npoints].name = strdup(name)))
        return LGW_ENOMEM;
    p[m->npoints].type = type;
    p[m->npoints].access = access;
    m->npoints++;
    return LGW_OK;
}

static int add_name(char ***names, size_t *n, const char *name)
{
    if (!name || !*name || has_name(*names, *n, name))
        return LGW_EINVAL;
    char **v = realloc(*names, (*n + 1) * sizeof *v);
    if (!v)
        return LGW_ENOMEM;
    *names = v;
    if (!(v[*n] = strdup(name)))
        return LGW_ENOMEM;
    (*n)++;
    return LGW_OK;
}

LGW_HOST_API int lgw_model_add_service(lgw_model_t *m, const char *name)
{
    return m ? add_name(&m->services, &m->nservices, name) : LGW_EINVAL;
}

LGW_HOST_API int lgw_model_add_event(lgw_model_t *m, const char *name)
{
    return m ? add_name(&m->events, &m->nevents, name) : LGW_EINVAL;
}

LGW_HOST_API void lgw_model_discard(lgw_model_t *m)
{
    if (!m)
        return;
    gw_list_remove(&m->link);
    for (size_t i = 0; i < m->npoints; i++)
        free(m->points[i].name);
    for (size_t i = 0; i < m->nservices; i++)
        free(m->services[i]);
    for (size_t i = 0; i < m->nevents; i++)
        free(m->events[i]);
    free(m->points);
    free(m->services);
    free(m->events);
    free(m->name);
    free(m);
}

const lgw_model_t *gw_model_find(const lgw_instance_t *inst, const char *name)
{
    if (!inst || !name)
        return NULL;
    gw_list_foreach_safe(node, tmp, &inst->models) {
        lgw_model_t *m = gw_container_of(node, lgw_model_t, link);
        if (strcmp(m->name, name) == 0)
            return m;
    }
    return NULL;
}

LGW_HOST_API int lgw_model_commit(lgw_model_t *m)
{
    if (!m)
        return LGW_EINVAL;
    lgw_model_t *old = (lgw_model_t *)gw_model_find(m->inst, m->name);
    if (old)
        lgw_model_discard(old);
    gw_list_push_back(&m->inst->models, &m->link);
    return LGW_OK;
}

void gw_models_free_all(lgw_instance_t *inst)
{
    gw_list_foreach_safe(node, tmp, &inst->models)
        lgw_model_discard(gw_container_of(node, lgw_model_t, link));
}
