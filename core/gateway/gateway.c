/*
 * The gateway composition (gateway.h) and the `gateway` core module that
 * creates it when linkgw.conf has a `cloud` section.
 */
#include "gateway.h"
#include "cloud_secret_db.h"
#include "gateway_conf.h"
#include "gateway_ctl.h"
#include "log.h"
#include "module.h"
#include "ota.h"
#include "subdev_mgr.h"
#include "topics.h"
#include "topics_conf.h"

#include <stdlib.h>
#include <string.h>

struct gw_gateway {
    uv_loop_t *loop;
    gw_hub_t *hub;
    gw_store_t *store;
    gw_cloud_t *cloud;
    gw_subdev_t *subdev;
    gw_ota_t *ota;          /* firmware upgrades (core/ota) */
    gw_ctl_t *ctl;
    gw_topics_t *topics; /* custom topics and raw data (topics.h) */
    void (*done)(void *data);
    void *done_data;
};

static gw_gateway_t *g_current;

/* ---- composition ------------------------------------------------------------------ */

int gw_gateway_new(uv_loop_t *loop, gw_hub_t *hub, const gw_gateway_options_t *opts, gw_gateway_t **out)
{
    *out = NULL;
    if (!loop || !hub || !opts || !opts->state_dir || !opts->cloud)
        return LGW_EINVAL;
    gw_gateway_t *gw = calloc(1, sizeof *gw);
    if (!gw)
        return LGW_ENOMEM;
    gw->loop = loop;
    gw->hub = hub;
    gw_store_options_t so = {.integrity_check = true, .sync_normal = opts->store_sync_normal,
                             .journal_sync_normal = true};
    char err[256] = "";
    int rc = gw_store_open(opts->state_dir, &so, &gw->store, err, sizeof err);
    if (rc != GW_STORE_OK) {
        GW_ERROR("gateway", "cannot open the store in %s: %s (%s)", opts->state_dir, err, gw_store_rc_str(rc));
        free(gw);
        return LGW_EIO;
    }
    gw_cloud_secret_store_t ss = gw_cloud_secret_store_db(gw->store); /* the gateway's own DeviceSecret */
    gw->cloud = gw_cloud_new(loop, opts->cloud, &ss);
    if (!gw->cloud) {
        GW_ERROR("gateway", "cannot create the cloud session");
        gw_store_close(gw->store);
        free(gw);
        return LGW_EINVAL;
    }
    gw->subdev = gw_subdev_new(loop, hub, gw->cloud, gw->store, opts->login_rate ? opts->login_rate : 200);
    if (!gw->subdev) {
        gw_cloud_close(gw->cloud, NULL, NULL); /* completes on the loop */
        gw_store_close(gw->store);
        free(gw);
        return LGW_ENOMEM;
    }
    /* OTA: the `ota` section (or defaults), images under <state_dir>/ota unless configured */
    gw_ota_config_t oc;
    const gw_ota_config_t *ocur = gw_ota_conf_current();
    if (ocur)
        oc = *ocur;
    else
        gw_ota_config_init(&oc);
    char *odir = NULL;
    if (!oc.dir && asprintf(&odir, "%s/ota", opts->state_dir) > 0)
        oc.dir = odir;
    gw_ota_devices_t devs = gw_ota_subdev_devices(gw->subdev);
    gw->ota = gw_ota_new(loop, &oc, gw->cloud, hub, &devs);
    free(odir);
    if (gw->ota)
        gw_subdev_add_listener(gw->subdev, gw_ota_on_session, gw->ota);
    else
        GW_ERROR("gateway", "cannot create the OTA manager: running without firmware upgrades");
    gw->topics = gw_topics_new(loop, hub, gw->cloud, gw->subdev);
    if (!gw->topics)
        GW_WARN("gateway", "running without custom topics and raw data (out of memory)");
    if (opts->control_socket) {
        gw->ctl = gw_ctl_new(loop, gw, opts->control_socket, opts->control_mode ? opts->control_mode : 0600);
        if (!gw->ctl)
            GW_WARN("gateway", "running without a control socket");
    }
    *out = gw;
    g_current = gw;
    return LGW_OK;
}

int gw_gateway_start(gw_gateway_t *gw)
{
    if (!gw)
        return LGW_EINVAL;
    if (gw->ota && gw_ota_start(gw->ota) != LGW_OK)
        GW_ERROR("gateway", "cannot start the OTA manager");
    int rc = gw_cloud_start(gw->cloud);
    if (rc != LGW_OK)
        GW_ERROR("gateway", "cannot start the cloud session (%d)", rc);
    return rc;
}

/* Close chain: ctl → subdev detached → cloud → subdev → ota → store → done. */
static void closed_subdev(void *data)
{
    gw_gateway_t *gw = data;
    gw_ota_free(gw->ota); /* after the cloud and the manager: both call into it until closed */
    gw_store_close(gw->store);
    void (*done)(void *) = gw->done;
    void *dd = gw->done_data;
    free(gw);
    if (done)
        done(dd);
}

static void closed_cloud(void *data)
{
    gw_gateway_t *gw = data;
    gw_topics_free(gw->topics); /* its cloud handlers are gone now */
    gw_subdev_close(gw->subdev, closed_subdev, gw);
}

static void closed_ctl(void *data)
{
    gw_gateway_t *gw = data;
    gw_subdev_detach(gw->subdev);
    gw_cloud_close(gw->cloud, closed_cloud, gw);
}

void gw_gateway_close(gw_gateway_t *gw, void (*done)(void *data), void *data)
{
    if (!gw) {
        if (done)
            done(data);
        return;
    }
    if (g_current == gw)
        g_current = NULL;
    gw->done = done;
    gw->done_data = data;
    gw_topics_detach(gw->topics);
    if (gw->ctl)
        gw_ctl_close(gw->ctl, closed_ctl, gw);
    else
        closed_ctl(gw);
}

uv_loop_t *gw_gateway_loop(gw_gateway_t *gw) { return gw ? gw->loop : NULL; }
gw_hub_t *gw_gateway_hub(gw_gateway_t *gw) { return gw ? gw->hub : NULL; }
gw_cloud_t *gw_gateway_cloud(gw_gateway_t *gw) { return gw ? gw->cloud : NULL; }
gw_store_t *gw_gateway_store(gw_gateway_t *gw) { return gw ? gw->store : NULL; }
gw_subdev_t *gw_gateway_subdev(gw_gateway_t *gw) { return gw ? gw->subdev : NULL; }
gw_gateway_t *gw_gateway_current(void) { return g_current; }

const gw_tsl_model_map_t *gw_gateway_model_map(gw_gateway_t *gw, const char *instance, const char *model)
{
    (void)gw;
    return gw_gwconf_model_map(instance, model);
}

const gw_tsl_models_t *gw_gateway_tsl_models(gw_gateway_t *gw)
{
    (void)gw;
    return gw_gwconf_tsl_models();
}

/* ---- the core module ------------------------------------------------------------------ */

static int module_init(void) { return gw_gwconf_register() == LGW_OK ? gw_topics_conf_register() : LGW_EINVAL; }

static int module_start(gw_host_t *host, const gw_main_conf_t *mc)
{
    const gw_cloud_config_t *cfg = gw_gwconf_cloud();
    if (!cfg) {
        GW_INFO("gateway", "no 'cloud' section: running without the cloud link");
        return LGW_OK;
    }
    char sock[256];
    gw_gateway_options_t o = {
        .state_dir = mc->state_dir,
        .cloud = cfg,
        .control_socket = gw_gwconf_control_socket(mc->state_dir, sock, sizeof sock),
        .control_mode = gw_gwconf_control_mode(),
        .login_rate = gw_gwconf_login_rate(),
    };
    gw_gateway_t *gw;
    int rc = gw_gateway_new(host->loop, host->hub, &o, &gw);
    if (rc != LGW_OK)
        return rc;
    return gw_gateway_start(gw);
}

static void module_stop(gw_host_t *host, void (*done)(void *arg), void *arg)
{
    (void)host;
    gw_gateway_close(g_current, done, arg);
}

GW_MODULE(gateway, GW_GATEWAY_MODULE_PRIORITY, module_init, module_start, module_stop)
