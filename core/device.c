/*
 * Device reports (host.h "Devices"): added, online/offline, gone, firmware.
 * Any thread: each call becomes one message on the host's cross-thread
 * queue, delivered to the hub on the loop thread in call order.
 */
#include "hub.h"
#include "instance.h"

#include <stdlib.h>
#include <string.h>

typedef enum { DEV_ADD, DEV_ONLINE, DEV_GONE, DEV_FIRMWARE } devkind_t;

typedef struct devmsg {
    gw_xmsg_t x;
    lgw_instance_t *inst;
    devkind_t kind;
    bool online;
    const char *arg; /* model or firmware version, in buf */
    char buf[];      /* device id, NUL, arg, NUL */
} devmsg_t;

static void dev_deliver(gw_xmsg_t *m)
{
    devmsg_t *d = (devmsg_t *)m;
    lgw_instance_t *inst = d->inst;
    if (gw_instance_state(inst) != GW_INST_DEAD) {
        gw_hub_t *hub = inst->host->hub;
        switch (d->kind) {
        case DEV_ADD: gw_hub_device_added(hub, inst, d->buf, d->arg); break;
        case DEV_ONLINE: gw_hub_device_online(hub, inst, d->buf, d->online); break;
        case DEV_GONE: gw_hub_device_gone(hub, inst, d->buf); break;
        case DEV_FIRMWARE: gw_hub_device_firmware(hub, inst, d->buf, d->arg); break;
        }
    }
    free(d);
    gw_instance_unref(inst);
}

/* Checks a device id: 1..127 printable bytes. */
static bool valid_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 127)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] < 0x21 || id[i] == 0x7f)
            return false;
    return true;
}

static int post(lgw_instance_t *inst, devkind_t kind, const char *id, const char *arg, bool online)
{
    if (!inst || !valid_id(id))
        return LGW_EINVAL;
    if (!gw_instance_accepts(inst))
        return LGW_ESTATE;
    size_t idlen = strlen(id), arglen = arg ? strlen(arg) : 0;
    devmsg_t *d = malloc(sizeof *d + idlen + arglen + 2);
    if (!d)
        return LGW_ENOMEM;
    d->inst = inst;
    d->kind = kind;
    d->online = online;
    memcpy(d->buf, id, idlen + 1);
    d->arg = NULL;
    if (arg) {
        memcpy(d->buf + idlen + 1, arg, arglen + 1);
        d->arg = d->buf + idlen + 1;
    }
    d->x.deliver = dev_deliver;
    gw_instance_ref(inst);
    gw_xq_post(inst->host, &d->x);
    return LGW_OK;
}

LGW_HOST_API int lgw_device_add(lgw_instance_t *inst, const char *device_id, const char *model)
{
    if (!model || !*model)
        return LGW_EINVAL;
    return post(inst, DEV_ADD, device_id, model, false);
}

LGW_HOST_API int lgw_device_set_online(lgw_instance_t *inst, const char *device_id, bool online)
{
    return post(inst, DEV_ONLINE, device_id, NULL, online);
}

LGW_HOST_API int lgw_device_gone(lgw_instance_t *inst, const char *device_id)
{
    return post(inst, DEV_GONE, device_id, NULL, false);
}

LGW_HOST_API int lgw_device_set_firmware(lgw_instance_t *inst, const char *device_id, const char *version)
{
    if (!version)
        return LGW_EINVAL;
    return post(inst, DEV_FIRMWARE, device_id, version, false);
}
