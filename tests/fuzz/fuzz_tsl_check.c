/*
 * Fuzz target: every validator of core/tsl/tsl_validate.h, the JSON ⇄ value
 * conversions of tsl_convert.h and the downlink conversions of a `models`
 * mapping (tsl_map.h), fed with one arbitrary JSON document (what the cloud
 * or a device could send) against the test models of tests/tsl/data.
 *
 * Invariant checked besides memory safety: a value accepted by
 * gw_tsl_value_from_json() converts back with gw_tsl_value_to_json() (the
 * uplink must be able to report anything the downlink accepted).
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "tsl_convert.h"
#include "tsl_map.h"
#include "tsl_validate.h"

static gw_tsl_models_t *g_set;
static const gw_tsl_model_t *g_thermo, *g_switch;
static config_t g_cfg;
static gw_tsl_mapping_t *g_map;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[1024];
    g_set = gw_tsl_models_new();
    if (!g_set || gw_tsl_models_load_dir(g_set, FUZZ_TSL_DATA "/models", err, sizeof err) != 0) {
        fprintf(stderr, "cannot load the test models: %s\n", err);
        abort();
    }
    g_thermo = gw_tsl_models_find(g_set, "a1ThermoPK");
    g_switch = gw_tsl_models_find(g_set, "a1SwitchPK");
    config_init(&g_cfg);
    int n = 0;
    if (!g_thermo || !g_switch || !config_read_file(&g_cfg, FUZZ_TSL_DATA "/map/good.conf")
        || !(g_map = gw_tsl_mapping_parse(config_lookup(&g_cfg, "models"), g_set, NULL, NULL, &n))) {
        fprintf(stderr, "cannot load the test mapping\n");
        abort();
    }
    return 0;
}

/* JSON → value → JSON for data type @p t; the way back must succeed. */
static void round_trip(const gw_tsl_datatype_t *t, const json_t *j, unsigned flags)
{
    gw_tsl_err_t err;
    lgw_value_t *v = NULL;
    if (gw_tsl_value_from_json(t, j, "x", flags, &v, &err) != 0) {
        if (!err.msg[0])
            abort();
        return;
    }
    json_t *back = NULL;
    int rc = gw_tsl_value_to_json(t, v, "x", flags | GW_TSL_NO_STEP, &back, &err);
    if (rc != 0 && rc != 460) { /* 460 = out of memory */
        char *txt = json_dumps(j, JSON_ENCODE_ANY);
        fprintf(stderr, "accepted %s as %s but cannot convert it back: %d %s\n", txt ? txt : "?",
                gw_tsl_type_name(t->type), rc, err.msg);
        free(txt);
        abort();
    }
    json_decref(back);
    lgw_value_free(v);
}

static void check_model(const gw_tsl_model_t *m, const json_t *root, unsigned flags)
{
    gw_tsl_err_t err;
    gw_tsl_check_property_post(m, root, flags, &err);
    gw_tsl_check_property_set(m, root, flags, &err);
    gw_tsl_check_property_get(m, root, &err);
    for (size_t i = 0; i < m->n_events; i++) {
        gw_tsl_check_event_post(m, m->events[i].identifier, root, flags, &err);
        gw_tsl_check_event_output(m, m->events[i].identifier, root, flags, &err);
    }
    for (size_t i = 0; i < m->n_services; i++) {
        gw_tsl_check_service_input(m, m->services[i].identifier, root, flags, &err);
        gw_tsl_check_service_output(m, m->services[i].identifier, root, flags, &err);
    }
    gw_tsl_check_event_post(m, "NoSuchEvent", root, flags, &err);
    gw_tsl_check_service_input(m, "NoSuchService", root, flags, &err);
    for (size_t i = 0; i < m->n_properties; i++) {
        const gw_tsl_property_t *p = &m->properties[i];
        gw_tsl_check_value(&p->type, root, p->identifier, flags, &err);
        round_trip(&p->type, root, flags);
        /* the member of the same name, as in a property set */
        const json_t *v = json_object_get(root, p->identifier);
        if (v) {
            const json_t *value = NULL;
            int64_t t;
            gw_tsl_post_entry(p, v, &value, &t, &err);
            round_trip(&p->type, v, flags);
            if (value && value != v)
                round_trip(&p->type, value, flags);
        }
    }
}

static void check_mapping(const json_t *root, unsigned flags)
{
    gw_tsl_err_t err;
    lgw_value_t *out = NULL;
    for (size_t k = 0; k < g_map->n_models; k++) {
        const gw_tsl_model_map_t *mm = &g_map->models[k];
        if (gw_tsl_map_property_set(mm, root, flags, &out, &err) == 0)
            lgw_value_free(out);
        out = NULL;
        if (gw_tsl_map_property_get(mm, root, &out, &err) == 0)
            lgw_value_free(out);
        out = NULL;
        for (size_t i = 0; i < mm->n_services; i++) {
            if (gw_tsl_map_service_input(&mm->services[i], root, flags, &out, &err) == 0)
                lgw_value_free(out);
            out = NULL;
        }
        for (size_t i = 0; i < mm->n_points; i++) {
            const gw_tsl_point_map_t *pm = &mm->points[i];
            const json_t *v = json_object_get(root, pm->prop ? pm->prop->identifier : "");
            if (gw_tsl_point_from_json(pm, v ? v : root, flags, &out, &err) == 0) {
                json_t *back = NULL;
                if (gw_tsl_point_to_json(pm, out, &back, &err) == 0)
                    json_decref(back);
                lgw_value_free(out);
            }
            out = NULL;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return 0;
    static const unsigned flag_sets[] = { 0, GW_TSL_STRICT | GW_TSL_NO_STEP };
    for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
        check_model(g_thermo, root, flag_sets[f]);
        check_model(g_switch, root, flag_sets[f]);
        gw_tsl_err_t err;
        gw_tsl_check_pack_post(g_set, g_thermo, root, flag_sets[f], &err);
        gw_tsl_check_pack_post(g_set, NULL, root, flag_sets[f], &err);
        check_mapping(root, flag_sets[f]);
    }
    json_decref(root);
    return 0;
}
