/*
 * sim — the `light` model: a switchable, dimmable lamp.
 *
 * Points:  power (bool, read-write), brightness (int 0..100, read-write)
 * Settings: power (bool, initial state, default false), brightness (initial,
 *          default 100)
 *
 * A write takes effect at once and the new state is reported back when the
 * request completes (sim_requests.c), as a real lamp confirms a command.
 */
#include <stdio.h>
#include <string.h>

#include "sim_model.h"

static const char *const light_keys[] = { "power", "brightness", NULL };

static void light_defaults(union sim_params *p)
{
    p->light.power = false;
    p->light.brightness = 100;
}

static void light_configure(const lgw_config_t *group, union sim_params *p)
{
    lgw_config_get_bool(group, "power", &p->light.power);
    lgw_config_get_int_range(group, "brightness", &p->light.brightness, 0, 100);
}

static int light_declare(lgw_instance_t *inst)
{
    lgw_model_t *m = lgw_model_new(inst, sim_light.name);
    if (!m)
        return LGW_ENOMEM;
    int rc = lgw_model_add_point(m, "power", LGW_TYPE_BOOL, LGW_ACCESS_RW);
    if (rc == LGW_OK)
        rc = lgw_model_add_point(m, "brightness", LGW_TYPE_INT, LGW_ACCESS_RW);
    if (rc != LGW_OK) {
        lgw_model_discard(m);
        return rc;
    }
    return lgw_model_commit(m);
}

static void light_init(struct sim_group *g, struct sim_device *d)
{
    d->s.light.power = g->conf.params.light.power;
    d->s.light.brightness = (uint8_t)g->conf.params.light.brightness;
}

static void light_advance(struct sim_group *g, struct sim_device *d, const char *id, double dt_s)
{
    /* A lamp changes only when told to. */
    (void)g, (void)d, (void)id, (void)dt_s;
}

static void light_report(struct sim_group *g, const struct sim_device *d, const char *id)
{
    lgw_report_t *r = lgw_report_new(g->sim->inst, id);
    if (!r)
        return;
    lgw_report_add_bool(r, "power", d->s.light.power);
    lgw_report_add_int(r, "brightness", d->s.light.brightness);
    lgw_report_commit(r);
}

/*
 * The host has already converted the values to the declared types; we still
 * check them, because a driver must never trust its input. Everything is
 * validated before anything changes, so a bad write has no effect at all.
 */
static int light_write(struct sim_group *g, struct sim_device *d, const lgw_value_t *values, char *msg,
                       size_t msg_size)
{
    (void)g;
    bool power = d->s.light.power;
    int64_t brightness = d->s.light.brightness;
    size_t n = lgw_value_count(values);

    if (n == 0) {
        snprintf(msg, msg_size, "no property to write");
        return LGW_REPLY_PARAM_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL;
        const lgw_value_t *v = lgw_value_struct_at(values, i, &name);
        if (name && strcmp(name, "power") == 0) {
            int64_t as_int;
            if (lgw_value_get_bool(v, &power) != LGW_OK) {
                if (lgw_value_get_int(v, &as_int) != LGW_OK || (as_int != 0 && as_int != 1)) {
                    snprintf(msg, msg_size, "power must be a bool");
                    return LGW_REPLY_PARAM_ERROR;
                }
                power = as_int == 1;
            }
        } else if (name && strcmp(name, "brightness") == 0) {
            if (lgw_value_get_int(v, &brightness) != LGW_OK || brightness < 0 || brightness > 100) {
                snprintf(msg, msg_size, "brightness must be an int 0..100");
                return LGW_REPLY_PARAM_ERROR;
            }
        } else {
            snprintf(msg, msg_size, "light has no writable property '%s'", name ? name : "?");
            return LGW_REPLY_PARAM_ERROR;
        }
    }
    d->s.light.power = power;
    d->s.light.brightness = (uint8_t)brightness;
    return LGW_REPLY_SUCCESS;
}

static lgw_value_t *light_read(struct sim_group *g, const struct sim_device *d, const char *point)
{
    (void)g;
    if (strcmp(point, "power") == 0)
        return lgw_value_new_bool(d->s.light.power);
    if (strcmp(point, "brightness") == 0)
        return lgw_value_new_int(d->s.light.brightness);
    return NULL;
}

const struct sim_model sim_light = {
    .name = "light",
    .default_prefix = "light-",
    .keys = light_keys,
    .defaults = light_defaults,
    .configure = light_configure,
    .declare = light_declare,
    .init = light_init,
    .advance = light_advance,
    .report = light_report,
    .write = light_write,
    .read = light_read,
    .invoke = NULL,
};
