/*
 * sim — firmware upgrades (the ABI 1.1 ota callback).
 *
 * The host has already downloaded and verified the image; a real driver would
 * now stream it to the device (from a worker: flashing blocks). The sim
 * "installs" it on a timer: four steps of SIM_OTA_STEP_MS, each reported with
 * lgw_request_progress(), then completes the request and reports the new
 * version with lgw_device_set_firmware() — which is what tells the cloud the
 * upgrade worked. The image file belongs to the host (deleted after the
 * request completes), so nothing here keeps its path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_model.h"

#define SIM_OTA_STEP_MS 100

/** One install in progress. */
struct sim_install {
    struct sim_install *next;
    struct sim *sim;
    lgw_request_t *req;       /**< NULL once completed */
    lgw_timer_t *timer;
    int percent;
    char device_id[SIM_ID_MAX];
    char version[64];
};

/* Unlinks and frees @p in (its timer is closed by the host later: safe inside its own callback). */
static void install_free(struct sim_install *in)
{
    struct sim_install **p = &in->sim->installs;
    while (*p && *p != in)
        p = &(*p)->next;
    if (*p)
        *p = in->next;
    lgw_timer_free(in->timer);
    free(in);
}

static void install_tick(lgw_timer_t *timer, void *data)
{
    (void)timer;
    struct sim_install *in = data;
    in->percent += 25;
    if (in->percent < 100) {
        lgw_request_progress(in->req, in->percent, "installing");
        return;
    }
    lgw_request_done(in->req, LGW_REPLY_SUCCESS, NULL);
    lgw_device_set_firmware(in->sim->inst, in->device_id, in->version);
    lgw_log(in->sim->inst, LGW_LOG_INFO, "device %s now runs firmware %s", in->device_id, in->version);
    install_free(in);
}

int sim_ota(void *data, lgw_request_t *req, const char *device_id, const char *version, const char *image_path,
            const char *module)
{
    (void)image_path;
    struct sim *sim = data;
    struct sim_group *g;
    if (!sim->running)
        return LGW_ESTATE;
    struct sim_device *d = sim_find(sim, device_id, &g);
    if (!d || !(d->flags & SIM_DEV_PRESENT))
        return LGW_ENOENT;
    if (!(d->flags & SIM_DEV_ONLINE))
        return LGW_EIO;
    for (struct sim_install *in = sim->installs; in; in = in->next)
        if (!strcmp(in->device_id, device_id))
            return LGW_EBUSY; /* one install per device at a time */
    if (strlen(version) >= sizeof ((struct sim_install *)0)->version)
        return LGW_EINVAL;
    struct sim_install *in = calloc(1, sizeof *in);
    if (!in)
        return LGW_ENOMEM;
    in->sim = sim;
    in->req = req;
    snprintf(in->device_id, sizeof in->device_id, "%s", device_id);
    snprintf(in->version, sizeof in->version, "%s", version);
    in->timer = lgw_timer_new(sim->inst, install_tick, in);
    if (!in->timer || lgw_timer_start(in->timer, SIM_OTA_STEP_MS, SIM_OTA_STEP_MS) != LGW_OK) {
        lgw_timer_free(in->timer);
        free(in);
        return LGW_ENOMEM;
    }
    in->next = sim->installs;
    sim->installs = in;
    lgw_log(sim->inst, LGW_LOG_INFO, "installing firmware %s%s%s on %s", version, module ? " module " : "",
            module ? module : "", device_id);
    return LGW_OK;
}

void sim_ota_stop(struct sim *sim)
{
    while (sim->installs) {
        struct sim_install *in = sim->installs;
        lgw_request_done(in->req, LGW_REPLY_REQUEST_ERROR, "install interrupted: instance stopped");
        install_free(in);
    }
}
