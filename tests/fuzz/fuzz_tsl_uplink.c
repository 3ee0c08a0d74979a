/*
 * Fuzz target: the uplink direction of the TSL layer — what a plugin reports
 * (any lgw_value_t tree) turned into Alink JSON: gw_tsl_value_to_json() for
 * every property of the test models, and the mapping's gw_tsl_point_to_json(),
 * gw_tsl_map_service_output() and gw_tsl_map_event_output() (tests/tsl/data).
 * Input: a value tree in a small byte encoding (see build()).
 * Invariant: JSON these functions produce (documented as validated) passes
 * the validators of tsl_validate.h for the same data type.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tsl_convert.h"
#include "tsl_map.h"
#include "tsl_validate.h"

static gw_tsl_models_t *g_set;
static config_t g_cfg;
static gw_tsl_mapping_t *g_map;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[1024];
    int n = 0;
    g_set = gw_tsl_models_new();
    config_init(&g_cfg);
    if (!g_set || gw_tsl_models_load_dir(g_set, FUZZ_TSL_DATA "/models", err, sizeof err) != 0
        || !config_read_file(&g_cfg, FUZZ_TSL_DATA "/map/good.conf")
        || !(g_map = gw_tsl_mapping_parse(config_lookup(&g_cfg, "models"), g_set, NULL, NULL, &n))) {
        fprintf(stderr, "cannot load the test models and mapping\n");
        abort();
    }
    return 0;
}

typedef struct {
    const uint8_t *p;
    size_t n;
} rd_t;

static uint8_t byte(rd_t *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static uint64_t bytes(rd_t *r, size_t k)
{
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
        v = v << 8 | byte(r);
    return v;
}

/* Names a struct member may get: the test models' identifiers, the mapping's
 * plugin-side names, and junk. */
static const char *const names[] = {
    "R", "G", "B", "Id", "On", "Temperature", "Level", "Offset", "Result", "temperature", "offset", "result",
    "value", "", "x",
};

/* One value: a type byte, then its payload (ints/dates 8 bytes, doubles 8,
 * floats 4, text 1 length byte + bytes, struct/array 1 count byte + members). */
static lgw_value_t *build(rd_t *r, int depth)
{
    uint8_t t = byte(r);
    switch (t % 10) {
    case 1: return lgw_value_new_bool(byte(r) & 1);
    case 2: return lgw_value_new_int((int64_t)bytes(r, 8));
    case 3: {
        uint32_t u = (uint32_t)bytes(r, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        return lgw_value_new_float(f);
    }
    case 4: {
        uint64_t u = bytes(r, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        return lgw_value_new_double(d);
    }
    case 5: {
        size_t len = byte(r);
        if (len > r->n)
            len = r->n;
        lgw_value_t *v = lgw_value_new_text_n((const char *)r->p, len);
        r->p += len;
        r->n -= len;
        return v;
    }
    case 6: return lgw_value_new_enum((int32_t)bytes(r, 4));
    case 7: return lgw_value_new_date((int64_t)bytes(r, 8));
    case 8:
    case 9: {
        bool st = t % 10 == 8;
        lgw_value_t *v = st ? lgw_value_new_struct() : lgw_value_new_array();
        size_t count = byte(r) % 8;
        for (size_t i = 0; v && i < count && depth < 4; i++) {
            const char *name = names[byte(r) % (sizeof names / sizeof names[0])];
            lgw_value_t *m = build(r, depth + 1);
            if (!m)
                continue;
            if ((st ? lgw_value_struct_set(v, name, m) : lgw_value_array_append(v, m)) != LGW_OK)
                lgw_value_free(m); /* e.g. a duplicate member name */
        }
        return v;
    }
    default: return NULL; /* "no value" (NULL) is a legal input to the map functions */
    }
}

static void check_out(const gw_tsl_datatype_t *t, json_t *out, const char *what)
{
    gw_tsl_err_t err;
    if (gw_tsl_check_value(t, out, "x", GW_TSL_NO_STEP, &err) != 0) {
        char *txt = json_dumps(out, JSON_ENCODE_ANY);
        fprintf(stderr, "%s produced %s, which its own type refuses: %s\n", what, txt ? txt : "?", err.msg);
        free(txt);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_t r = { data, size };
    lgw_value_t *v = build(&r, 0);
    gw_tsl_err_t err;
    json_t *out = NULL;
    for (size_t k = 0; k < gw_tsl_models_count(g_set); k++) {
        const gw_tsl_model_t *m = gw_tsl_models_at(g_set, k);
        for (size_t i = 0; v && i < m->n_properties; i++) {
            const gw_tsl_datatype_t *t = &m->properties[i].type;
            if (gw_tsl_value_to_json(t, v, "x", GW_TSL_NO_STEP, &out, &err) == 0) {
                check_out(t, out, "gw_tsl_value_to_json");
                json_decref(out);
            }
            out = NULL;
        }
    }
    for (size_t k = 0; k < g_map->n_models; k++) {
        const gw_tsl_model_map_t *mm = &g_map->models[k];
        for (size_t i = 0; v && i < mm->n_points; i++) {
            if (gw_tsl_point_to_json(&mm->points[i], v, &out, &err) == 0) {
                check_out(&mm->points[i].prop->type, out, "gw_tsl_point_to_json");
                json_decref(out);
            }
            out = NULL;
        }
        for (size_t i = 0; i < mm->n_services; i++) {
            if (gw_tsl_map_service_output(&mm->services[i], v, &out, &err) == 0) {
                gw_tsl_err_t e2;
                if (gw_tsl_check_service_output(mm->tsl, mm->services[i].svc->identifier, out, GW_TSL_NO_STEP, &e2))
                    abort();
                json_decref(out);
            }
            out = NULL;
        }
        for (size_t i = 0; i < mm->n_events; i++) {
            if (gw_tsl_map_event_output(&mm->events[i], v, &out, &err) == 0) {
                gw_tsl_err_t e2;
                if (gw_tsl_check_event_output(mm->tsl, mm->events[i].ev->identifier, out, GW_TSL_NO_STEP, &e2))
                    abort();
                json_decref(out);
            }
            out = NULL;
        }
    }
    lgw_value_free(v);
    return 0;
}
