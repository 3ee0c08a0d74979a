/* emu_tsl.c — product thing models for the emulator, over core/tsl (see emu_tsl.h). */
#include "emu_tsl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsl_model.h"
#include "tsl_validate.h"

typedef struct model_entry {
    struct model_entry *next;
    char *pk;
    gw_tsl_model_t *model;
} model_entry_t;

static model_entry_t *g_models;

static model_entry_t *find(const char *pk)
{
    for (model_entry_t *e = g_models; e; e = e->next) if (pk && !strcmp(e->pk, pk)) return e;
    return NULL;
}

static const gw_tsl_model_t *model(const char *pk)
{
    model_entry_t *e = find(pk);
    return e ? e->model : NULL;
}

bool emu_tsl_has(const char *pk) { return model(pk) != NULL; }

bool emu_tsl_set(const char *pk, const json_t *tsl, char *err, size_t errsz)
{
    gw_tsl_model_t *m = NULL;
    if (!pk) return false;
    if (tsl && !json_is_null(tsl)) {
        char src[96];
        snprintf(src, sizeof src, "tsl of %s", pk);
        m = gw_tsl_model_parse(tsl, src, err, errsz);
        if (!m) return false;
    }
    model_entry_t *e = find(pk);
    if (!e && m) {
        e = calloc(1, sizeof *e);
        if (!e || !(e->pk = strdup(pk))) {
            free(e);
            gw_tsl_model_free(m);
            snprintf(err, errsz, "out of memory");
            return false;
        }
        e->next = g_models;
        g_models = e;
    }
    if (e) {
        gw_tsl_model_free(e->model);
        e->model = m;
    }
    return true;
}

void emu_tsl_clear(void)
{
    while (g_models) {
        model_entry_t *e = g_models;
        g_models = e->next;
        gw_tsl_model_free(e->model);
        free(e->pk);
        free(e);
    }
}

int emu_tsl_prop_entry(const char *pk, const char *id, const json_t *entry, const json_t **value, long long *time)
{
    const gw_tsl_model_t *m = model(pk);
    const gw_tsl_property_t *p = m ? gw_tsl_model_property(m, id) : NULL;
    int64_t t = -1;
    int code = gw_tsl_post_entry(p, entry, value, &t, NULL);
    if (code) return code;
    if (t >= 0) *time = (long long)t;
    if (!m) return 0;
    if (!p) return 6320;
    return gw_tsl_check_property(m, id, *value, 0, NULL);
}

int emu_tsl_event_output(const char *pk, const char *id, const json_t *value)
{
    const gw_tsl_model_t *m = model(pk);
    if (!json_is_object(value)) return 460;
    return m ? gw_tsl_check_event_output(m, id, value, 0, NULL) : 0;
}

int emu_tsl_service_input(const char *pk, const char *id, const json_t *params, char *msg, size_t msgsz)
{
    const gw_tsl_model_t *m = model(pk);
    gw_tsl_err_t err;
    if (!m) return 0;
    int code = gw_tsl_check_service_input(m, id, params, 0, &err);
    if (code) snprintf(msg, msgsz, "%d: %s", code, err.msg);
    return code;
}

int emu_tsl_property_set(const char *pk, const json_t *params, char *msg, size_t msgsz)
{
    const gw_tsl_model_t *m = model(pk);
    gw_tsl_err_t err;
    if (!m) return 0;
    int code = gw_tsl_check_property_set(m, params, 0, &err);
    if (code) snprintf(msg, msgsz, "%d: %s", code, err.msg);
    return code;
}
