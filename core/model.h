/*
 * Device models declared by plugins (host.h "Device models"): the points,
 * services and events of a kind of device, per instance. The TSL layer reads
 * them with gw_model_find() to check conf.d mappings and convert values.
 */
#ifndef LINKGW_CORE_MODEL_H
#define LINKGW_CORE_MODEL_H

#include <linkgw/host.h>
#include "list.h"

typedef struct gw_model_point {
    char *name;
    lgw_type_t type;
    int access; /* LGW_ACCESS_* */
} gw_model_point_t;

struct lgw_model {
    lgw_instance_t *inst;
    char *name;
    gw_model_point_t *points;
    size_t npoints;
    char **services;
    size_t nservices;
    char **events;
    size_t nevents;
    gw_list_t link; /* in inst->models once committed */
};

/** The committed model @p name of @p inst, or NULL. Loop thread. */
const lgw_model_t *gw_model_find(const lgw_instance_t *inst, const char *name);
/** Point @p name of @p m, or NULL. */
const gw_model_point_t *gw_model_point(const lgw_model_t *m, const char *name);

#endif
