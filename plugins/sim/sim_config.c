/*
 * sim — reading and validating the instance's conf.d settings.
 *
 * This file shows how a driver validates its settings with config.h: preset
 * defaults, read each key with a typed getter (a wrong type is recorded at the
 * key's file:line by the getter itself), check ranges, refuse unknown keys,
 * and finally count the errors. The host prints them as `file:line: message`
 * (also for `linkgw --check-config`) and does not start the instance.
 *
 * Settings (all optional):
 *
 *   settings = {
 *     seed = 42;                      # random seed (default: from the instance name)
 *     appear = "start";               # "start" or "discovery"
 *     discovery_interval_ms = 100;    # a discovery scan finds ...
 *     discovery_batch = 10;           # ... this many devices per interval
 *     latency_ms = 0;                 # delay before requests complete
 *     flapping = { probability = 0.01; recovery = 0.5; interval_ms = 1000; };
 *     thermometer = { count = 10; interval_ms = 1000; prefix = "thermo-";
 *                     base = 21.0; noise = 0.3; humidity = 45.0; threshold = 30.0; };
 *     light       = { count = 4;  interval_ms = 5000; prefix = "light-";
 *                     power = false; brightness = 100; };
 *     power_meter = { count = 2;  interval_ms = 1000; prefix = "meter-";
 *                     watts = 500.0; noise = 20.0; };
 *     trace_file = "/tmp/x.trace";    # TEST ONLY: list every power_meter value handed over (sim_trace.c)
 *   };
 *
 * A model whose group is absent (or has count = 0) has no devices.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_model.h"

/** Every model the sim knows, in the order their groups are kept. */
static const struct sim_model *const sim_models[] = { &sim_thermometer, &sim_light, &sim_power_meter };
#define SIM_NMODELS (sizeof sim_models / sizeof sim_models[0])

/** Longest list of keys one model group may hold (common + model-specific + NULL). */
#define SIM_MAX_KEYS 16

static const char *const top_keys[] = {
    "seed", "appear", "discovery_interval_ms", "discovery_batch", "latency_ms", "flapping",
    "thermometer", "light", "power_meter", "trace_file", NULL,
};
static const char *const group_keys[] = { "count", "interval_ms", "prefix", NULL };
static const char *const flap_keys[] = { "probability", "recovery", "interval_ms", NULL };
static const char *const appear_choices[] = { "start", "discovery", NULL };

/* FNV-1a of the instance name: two instances get different, stable seeds. */
static uint64_t seed_from_name(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

/* Reads a double member that must lie in [min, max]; records an error otherwise. */
static void get_double_range(const lgw_config_t *c, const char *name, double *out, double min, double max)
{
    if (lgw_config_get_double(c, name, out) == LGW_OK && (*out < min || *out > max))
        lgw_config_error(lgw_config_child(c, name), "setting '%s' must be between %g and %g, not %g", name, min,
                         max, *out);
}

/*
 * Device ids become cloud device names, so prefixes stay within the
 * characters Alibaba Cloud accepts there.
 */
static bool prefix_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SIM_PREFIX_MAX)
        return false;
    for (; *s; s++) {
        char ch = *s;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  strchr("-_.:@", ch) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

static void read_flapping(struct sim_conf *conf, const lgw_config_t *settings)
{
    const lgw_config_t *f = lgw_config_child(settings, "flapping");
    if (!f)
        return;
    if (lgw_config_kind(f) != LGW_CFG_GROUP) {
        lgw_config_error(f, "setting 'flapping' must be a group { probability = …; interval_ms = …; }");
        return;
    }
    lgw_config_check_keys(f, flap_keys);
    lgw_config_require(f, "probability");
    get_double_range(f, "probability", &conf->flap_probability, 0.0, 1.0);
    get_double_range(f, "recovery", &conf->flap_recovery, 0.0, 1.0);
    lgw_config_get_int_range(f, "interval_ms", &conf->flap_interval_ms, 1, 86400000);
}

/* Reads the group of @p model into @p gc; returns false if the group is absent or wrong. */
static bool read_group(const struct sim_model *model, const lgw_config_t *settings, struct sim_group_conf *gc)
{
    memset(gc, 0, sizeof *gc);
    gc->count = 1;
    gc->interval_ms = 1000;
    strcpy(gc->prefix, model->default_prefix);
    model->defaults(&gc->params);

    const lgw_config_t *g = lgw_config_child(settings, model->name);
    if (!g)
        return false;
    if (lgw_config_kind(g) != LGW_CFG_GROUP) {
        lgw_config_error(g, "setting '%s' must be a group { count = …; interval_ms = …; }", model->name);
        return false;
    }

    /* Allowed keys: the common ones followed by the model's own. */
    const char *keys[SIM_MAX_KEYS];
    size_t n = 0;
    for (size_t i = 0; group_keys[i] && n < SIM_MAX_KEYS - 1; i++)
        keys[n++] = group_keys[i];
    for (size_t i = 0; model->keys[i] && n < SIM_MAX_KEYS - 1; i++)
        keys[n++] = model->keys[i];
    keys[n] = NULL;
    lgw_config_check_keys(g, keys);

    lgw_config_get_int_range(g, "count", &gc->count, 0, 1000000);
    lgw_config_get_int_range(g, "interval_ms", &gc->interval_ms, 1, 86400000);
    const char *prefix = NULL;
    if (lgw_config_get_string(g, "prefix", &prefix) == LGW_OK) {
        gc->prefix_node = lgw_config_child(g, "prefix");
        if (prefix_ok(prefix))
            strcpy(gc->prefix, prefix);
        else
            lgw_config_error(gc->prefix_node,
                             "setting 'prefix' must be 1 to %d characters of A-Z a-z 0-9 - _ . : @", SIM_PREFIX_MAX);
    } else {
        gc->prefix_node = g;
    }
    model->configure(g, &gc->params);
    return true;
}

/*
 * Ids are prefix + index, and sim_find() recognises an id by its prefix, so
 * no prefix may start another one ("t" and "t1" would make "t10" ambiguous).
 */
static void check_prefixes(const struct sim *sim)
{
    for (size_t a = 0; a < sim->ngroups; a++)
        for (size_t b = 0; b < sim->ngroups; b++) {
            const struct sim_group_conf *ga = &sim->groups[a].conf, *gb = &sim->groups[b].conf;
            if (a != b && strncmp(gb->prefix, ga->prefix, strlen(ga->prefix)) == 0 &&
                (strlen(ga->prefix) < strlen(gb->prefix) || a < b))
                lgw_config_error(gb->prefix_node, "prefix '%s' of %s clashes with prefix '%s' of %s",
                                 gb->prefix, sim->groups[b].model->name, ga->prefix,
                                 sim->groups[a].model->name);
        }
}

int sim_config_read(struct sim *sim, const lgw_config_t *settings)
{
    struct sim_conf *conf = &sim->conf;

    /* 1. defaults */
    conf->seed = seed_from_name(lgw_instance_name(sim->inst));
    conf->appear = SIM_APPEAR_START;
    conf->discovery_interval_ms = 100;
    conf->discovery_batch = 10;
    conf->latency_ms = 0;
    conf->flap_probability = 0.0;
    conf->flap_recovery = 0.5;
    conf->flap_interval_ms = 1000;

    /* 2. instance-wide keys */
    lgw_config_check_keys(settings, top_keys);
    int64_t seed;
    if (lgw_config_get_int(settings, "seed", &seed) == LGW_OK)
        conf->seed = (uint64_t)seed;
    int appear = 0;
    if (lgw_config_get_choice(settings, "appear", appear_choices, &appear) == LGW_OK)
        conf->appear = (enum sim_appear)appear;
    lgw_config_get_int_range(settings, "discovery_interval_ms", &conf->discovery_interval_ms, 1, 3600000);
    lgw_config_get_int_range(settings, "discovery_batch", &conf->discovery_batch, 1, 1000000);
    lgw_config_get_int_range(settings, "latency_ms", &conf->latency_ms, 0, 60000);
    read_flapping(conf, settings);
    const char *trace = NULL;
    if (lgw_config_get_string(settings, "trace_file", &trace) == LGW_OK) {
        if (!*trace)
            lgw_config_error(lgw_config_child(settings, "trace_file"), "setting 'trace_file' must not be empty");
        else if (!(conf->trace_file = strdup(trace)))
            return LGW_ENOMEM;
    }

    /* 3. one group per model that has devices */
    sim->groups = calloc(SIM_NMODELS, sizeof *sim->groups);
    if (!sim->groups)
        return LGW_ENOMEM;
    for (size_t i = 0; i < SIM_NMODELS; i++) {
        struct sim_group *g = &sim->groups[sim->ngroups];
        if (read_group(sim_models[i], settings, &g->conf) && g->conf.count > 0) {
            g->sim = sim;
            g->model = sim_models[i];
            sim->ngroups++;
        }
    }
    check_prefixes(sim);

    /* 4. the verdict: any error recorded above (by us or the getters) fails create */
    return lgw_config_error_count(settings) > 0 ? LGW_EINVAL : LGW_OK;
}

/** Declares every model to the host (whether or not it has devices here). */
int sim_models_declare(lgw_instance_t *inst)
{
    for (size_t i = 0; i < SIM_NMODELS; i++) {
        int rc = sim_models[i]->declare(inst);
        if (rc != LGW_OK)
            return rc;
    }
    return LGW_OK;
}
