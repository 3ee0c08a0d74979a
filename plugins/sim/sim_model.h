/*
 * sim — the interface every simulated device model implements.
 *
 * A model is a constant table of functions (no state: the state of a device
 * is its struct sim_device, the settings of its group are in struct
 * sim_group). Adding a model means writing one sim_<model>.c file with such a
 * table and listing it in sim_models[] (sim_config.c).
 *
 * All functions run on the loop thread.
 */
#ifndef LINKGW_SIM_MODEL_H
#define LINKGW_SIM_MODEL_H

#include "sim.h"

struct sim_model {
    /** Model name: the settings group of conf.d and the name declared to the host. */
    const char *name;
    /** Id prefix used when the settings give none. */
    const char *default_prefix;
    /** Settings keys of this model besides count, interval_ms and prefix (NULL-terminated). */
    const char *const *keys;

    /** Fills @p p with the defaults of the model-specific settings. */
    void (*defaults)(union sim_params *p);
    /**
     * Reads the model-specific settings of @p group into @p p, recording
     * file:line errors with the config.h functions.
     */
    void (*configure)(const lgw_config_t *group, union sim_params *p);
    /** Declares the model (points, services, events) to the host. */
    int (*declare)(lgw_instance_t *inst);

    /** Sets the initial state of a new device. */
    void (*init)(struct sim_group *g, struct sim_device *d);
    /**
     * Advances the simulation of device @p d (called @p dt_s seconds after
     * the previous call) and raises events if needed. Reports nothing else.
     */
    void (*advance)(struct sim_group *g, struct sim_device *d, const char *id, double dt_s);
    /** Reports every point of @p d in one report. */
    void (*report)(struct sim_group *g, const struct sim_device *d, const char *id);

    /**
     * Applies a property write: @p values is a struct of point name -> value.
     * Validates everything first and changes nothing on error. Returns a
     * reply code (LGW_REPLY_SUCCESS, LGW_REPLY_PARAM_ERROR …) and, on error,
     * a message in @p msg (@p msg_size bytes). NULL = model has no writable points.
     */
    int (*write)(struct sim_group *g, struct sim_device *d, const lgw_value_t *values, char *msg,
                 size_t msg_size);
    /** Current value of point @p point, or NULL if the model has no such point. */
    lgw_value_t *(*read)(struct sim_group *g, const struct sim_device *d, const char *point);
    /**
     * Runs service @p service with @p input; adds output arguments to @p req
     * with lgw_request_add_output(). Returns a reply code like write; NULL =
     * model has no services.
     */
    int (*invoke)(struct sim_group *g, struct sim_device *d, lgw_request_t *req, const char *service,
                  const lgw_value_t *input, char *msg, size_t msg_size);
};

/** The models, defined in sim_<model>.c. */
extern const struct sim_model sim_thermometer;
extern const struct sim_model sim_light;
extern const struct sim_model sim_power_meter;

#endif /* LINKGW_SIM_MODEL_H */
