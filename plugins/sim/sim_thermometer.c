/*
 * sim — the `thermometer` model: temperature and humidity with noise, and the
 * `over_temperature` event.
 *
 * Points:  temperature (float, °C, read-only), humidity (float, %RH, read-only)
 * Events:  over_temperature { temperature (float) } — raised when the
 *          temperature crosses the group's `threshold` upwards; it re-arms
 *          once the temperature is back at or below the threshold.
 * Settings: base (°C, default 21), noise (°C, default 0.3), humidity (%RH,
 *          default 45), threshold (°C, default 30).
 *
 * The values follow a mean-reverting random walk: each step keeps 80% of the
 * distance to the base and adds uniform noise of ±noise (±3·noise for the
 * humidity, in %RH), so they wander plausibly but never drift away: the
 * temperature stays within base ± 5·noise.
 */
#include <string.h>

#include "sim_model.h"

static const char *const thermo_keys[] = { "base", "noise", "humidity", "threshold", NULL };

static void thermo_defaults(union sim_params *p)
{
    p->thermo.base = 21.0;
    p->thermo.noise = 0.3;
    p->thermo.humidity = 45.0;
    p->thermo.threshold = 30.0;
}

static void thermo_configure(const lgw_config_t *group, union sim_params *p)
{
    lgw_config_get_double(group, "base", &p->thermo.base);
    lgw_config_get_double(group, "threshold", &p->thermo.threshold);
    if (lgw_config_get_double(group, "noise", &p->thermo.noise) == LGW_OK && p->thermo.noise < 0)
        lgw_config_error(lgw_config_child(group, "noise"), "setting 'noise' must be >= 0");
    if (lgw_config_get_double(group, "humidity", &p->thermo.humidity) == LGW_OK &&
        (p->thermo.humidity < 0 || p->thermo.humidity > 100))
        lgw_config_error(lgw_config_child(group, "humidity"), "setting 'humidity' must be between 0 and 100");
}

static int thermo_declare(lgw_instance_t *inst)
{
    lgw_model_t *m = lgw_model_new(inst, sim_thermometer.name);
    if (!m)
        return LGW_ENOMEM;
    int rc = lgw_model_add_point(m, "temperature", LGW_TYPE_FLOAT, LGW_ACCESS_READ);
    if (rc == LGW_OK)
        rc = lgw_model_add_point(m, "humidity", LGW_TYPE_FLOAT, LGW_ACCESS_READ);
    if (rc == LGW_OK)
        rc = lgw_model_add_event(m, "over_temperature");
    if (rc != LGW_OK) {
        lgw_model_discard(m);
        return rc;
    }
    return lgw_model_commit(m);
}

static void thermo_init(struct sim_group *g, struct sim_device *d)
{
    d->s.thermo.temperature = (float)g->conf.params.thermo.base;
    d->s.thermo.humidity = (float)g->conf.params.thermo.humidity;
}

/* One step of the mean-reverting walk of @p v around @p base. */
static double walk(struct sim_rng *rng, double v, double base, double noise)
{
    return base + 0.8 * (v - base) + noise * sim_rng_signed(rng);
}

static void thermo_advance(struct sim_group *g, struct sim_device *d, const char *id, double dt_s)
{
    const union sim_params *p = &g->conf.params;
    struct sim_rng *rng = &g->sim->rng;
    (void)dt_s; /* the walk is per sample, not per second */

    double t = walk(rng, d->s.thermo.temperature, p->thermo.base, p->thermo.noise);
    double h = walk(rng, d->s.thermo.humidity, p->thermo.humidity, p->thermo.noise * 3);
    h = h < 0 ? 0 : h > 100 ? 100 : h;
    d->s.thermo.temperature = (float)t;
    d->s.thermo.humidity = (float)h;

    /* Edge-triggered event: once per crossing, like a real alarm contact. */
    bool hot = t > p->thermo.threshold;
    if (hot && !(d->flags & SIM_DEV_HOT)) {
        lgw_report_t *ev = lgw_event_new(g->sim->inst, id, "over_temperature");
        if (ev) {
            lgw_report_add_float(ev, "temperature", (float)t);
            lgw_report_commit(ev);
        }
    }
    d->flags = (uint8_t)(hot ? d->flags | SIM_DEV_HOT : d->flags & ~SIM_DEV_HOT);
}

static void thermo_report(struct sim_group *g, const struct sim_device *d, const char *id)
{
    lgw_report_t *r = lgw_report_new(g->sim->inst, id);
    if (!r)
        return;
    lgw_report_add_float(r, "temperature", d->s.thermo.temperature);
    lgw_report_add_float(r, "humidity", d->s.thermo.humidity);
    lgw_report_commit(r);
}

static lgw_value_t *thermo_read(struct sim_group *g, const struct sim_device *d, const char *point)
{
    (void)g;
    if (strcmp(point, "temperature") == 0)
        return lgw_value_new_float(d->s.thermo.temperature);
    if (strcmp(point, "humidity") == 0)
        return lgw_value_new_float(d->s.thermo.humidity);
    return NULL;
}

const struct sim_model sim_thermometer = {
    .name = "thermometer",
    .default_prefix = "thermo-",
    .keys = thermo_keys,
    .defaults = thermo_defaults,
    .configure = thermo_configure,
    .declare = thermo_declare,
    .init = thermo_init,
    .advance = thermo_advance,
    .report = thermo_report,
    .write = NULL, /* read-only sensor */
    .read = thermo_read,
    .invoke = NULL,
};
