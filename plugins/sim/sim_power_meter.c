/*
 * sim — the `power_meter` model: power with noise and an energy counter.
 *
 * Points:   power (double, W, read-only), energy (double, kWh, read-only)
 * Services: reset_energy () -> { previous_energy (double, kWh) } — zeroes
 *           the counter and returns the value it had.
 * Settings: watts (average power, W, default 500), noise (±W, default 20)
 *
 * The counter integrates the power over the real time between two reports,
 * so it grows by watts * interval whatever the report interval is.
 */
#include <stdio.h>
#include <string.h>

#include "sim_model.h"

static const char *const meter_keys[] = { "watts", "noise", NULL };

static void meter_defaults(union sim_params *p)
{
    p->meter.watts = 500.0;
    p->meter.noise = 20.0;
}

static void meter_configure(const lgw_config_t *group, union sim_params *p)
{
    if (lgw_config_get_double(group, "watts", &p->meter.watts) == LGW_OK && p->meter.watts < 0)
        lgw_config_error(lgw_config_child(group, "watts"), "setting 'watts' must be >= 0");
    if (lgw_config_get_double(group, "noise", &p->meter.noise) == LGW_OK && p->meter.noise < 0)
        lgw_config_error(lgw_config_child(group, "noise"), "setting 'noise' must be >= 0");
}

static int meter_declare(lgw_instance_t *inst)
{
    lgw_model_t *m = lgw_model_new(inst, sim_power_meter.name);
    if (!m)
        return LGW_ENOMEM;
    int rc = lgw_model_add_point(m, "power", LGW_TYPE_DOUBLE, LGW_ACCESS_READ);
    if (rc == LGW_OK)
        rc = lgw_model_add_point(m, "energy", LGW_TYPE_DOUBLE, LGW_ACCESS_READ);
    if (rc == LGW_OK)
        rc = lgw_model_add_service(m, "reset_energy");
    if (rc != LGW_OK) {
        lgw_model_discard(m);
        return rc;
    }
    return lgw_model_commit(m);
}

static void meter_init(struct sim_group *g, struct sim_device *d)
{
    d->s.meter.watts = g->conf.params.meter.watts;
    d->s.meter.kwh = 0.0;
}

static void meter_advance(struct sim_group *g, struct sim_device *d, const char *id, double dt_s)
{
    (void)id;
    const union sim_params *p = &g->conf.params;
    double w = p->meter.watts + p->meter.noise * sim_rng_signed(&g->sim->rng);
    d->s.meter.watts = w < 0 ? 0 : w;
    d->s.meter.kwh += d->s.meter.watts * dt_s / 3.6e6; /* W·s -> kWh */
}

static void meter_report(struct sim_group *g, const struct sim_device *d, const char *id)
{
    lgw_report_t *r = lgw_report_new(g->sim->inst, id);
    if (!r)
        return;
    int64_t t = 0;
    if (g->sim->trace) { /* test only (sim_trace.c): the time the trace lists is the report's */
        t = lgw_time_ms();
        lgw_report_set_time(r, t);
    }
    lgw_report_add_double(r, "power", d->s.meter.watts);
    lgw_report_add_double(r, "energy", d->s.meter.kwh);
    if (lgw_report_commit(r) == LGW_OK && g->sim->trace) {
        sim_trace_value(g->sim, id, "power", t, d->s.meter.watts);
        sim_trace_value(g->sim, id, "energy", t, d->s.meter.kwh);
    }
}

static lgw_value_t *meter_read(struct sim_group *g, const struct sim_device *d, const char *point)
{
    (void)g;
    if (strcmp(point, "power") == 0)
        return lgw_value_new_double(d->s.meter.watts);
    if (strcmp(point, "energy") == 0)
        return lgw_value_new_double(d->s.meter.kwh);
    return NULL;
}

/* The service has no input arguments; any given are ignored. */
static int meter_invoke(struct sim_group *g, struct sim_device *d, lgw_request_t *req, const char *service,
                        const lgw_value_t *input, char *msg, size_t msg_size)
{
    (void)g, (void)input;
    if (strcmp(service, "reset_energy") != 0) {
        snprintf(msg, msg_size, "power_meter has no service '%s'", service);
        return LGW_REPLY_PARAM_ERROR;
    }
    lgw_value_t *previous = lgw_value_new_double(d->s.meter.kwh);
    if (!previous || lgw_request_add_output(req, "previous_energy", previous) != LGW_OK) {
        snprintf(msg, msg_size, "out of memory");
        return LGW_REPLY_REQUEST_ERROR;
    }
    d->s.meter.kwh = 0.0;
    return LGW_REPLY_SUCCESS;
}

const struct sim_model sim_power_meter = {
    .name = "power_meter",
    .default_prefix = "meter-",
    .keys = meter_keys,
    .defaults = meter_defaults,
    .configure = meter_configure,
    .declare = meter_declare,
    .init = meter_init,
    .advance = meter_advance,
    .report = meter_report,
    .write = NULL,
    .read = meter_read,
    .invoke = meter_invoke,
};
