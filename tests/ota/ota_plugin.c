/*
 * Test plugin of the OTA tests: one device "d1" (model "thing") running
 * firmware "1.0". Built twice (tests/ota/CMakeLists.txt):
 *   ota_capable  ABI 1.1 with an ota callback: it reads the image, writes
 *                "<version> <size> <module or ->" to the file named by the
 *                setting `seen_file`, reports progress 50, and 50 ms later
 *                completes and reports the new version — unless the image
 *                starts with 'X', which it rejects (LGW_REPLY_DEVICE_MIN).
 *   ota_legacy   built for ABI 1.0 (answers LGW_ABI_ENCODE(1,0)) and has no
 *                ota callback: the host must answer "not supported".
 */
#include <linkgw/linkgw.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct op {
    lgw_instance_t *inst;
    lgw_timer_t *timer;
    lgw_request_t *req;     /* install in progress */
    char version[64];
    bool fail;
    char seen_file[256];
} op_t;

#ifdef OTA_LEGACY
LGW_PLUGIN_EXPORT int lgw_plugin_abi(const int *v, int n)
{
    (void)v;
    (void)n;
    return LGW_ABI_ENCODE(1, 0);
}
#else
LGW_PLUGIN_DEFINE_ABI()
#endif

static int op_create(lgw_instance_t *inst, const lgw_config_t *s, void **data)
{
    static const char *const keys[] = {"seen_file", NULL};
    op_t *op = calloc(1, sizeof *op);
    if (!op)
        return LGW_ENOMEM;
    op->inst = inst;
    lgw_config_check_keys(s, keys);
    const char *seen = "";
    lgw_config_get_string(s, "seen_file", &seen);
    snprintf(op->seen_file, sizeof op->seen_file, "%s", seen);
    *data = op;
    lgw_model_t *m = lgw_model_new(inst, "thing");
    lgw_model_add_point(m, "n", LGW_TYPE_INT, LGW_ACCESS_READ);
    lgw_model_commit(m);
    return lgw_config_error_count(s) ? LGW_EINVAL : LGW_OK;
}

static void on_timer(lgw_timer_t *t, void *data)
{
    (void)t;
    op_t *op = data;
    if (!op->req)
        return;
    lgw_request_t *req = op->req;
    op->req = NULL;
    if (op->fail) {
        lgw_request_done(req, LGW_REPLY_DEVICE_MIN, "the device rejected the image");
        return;
    }
    lgw_request_done(req, LGW_REPLY_SUCCESS, NULL);
    lgw_device_set_firmware(op->inst, "d1", op->version);
}

#ifndef OTA_LEGACY
static int op_ota(void *data, lgw_request_t *req, const char *device_id, const char *version, const char *image_path,
                  const char *module)
{
    (void)module;
    op_t *op = data;
    if (strcmp(device_id, "d1") != 0)
        return LGW_ENOENT;
    if (op->req)
        return LGW_EBUSY;
    FILE *f = fopen(image_path, "rb");
    if (!f)
        return LGW_EIO;
    char head[16] = "";
    size_t n = fread(head, 1, sizeof head - 1, f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    head[n] = '\0';
    if (op->seen_file[0]) {
        FILE *s = fopen(op->seen_file, "w");
        if (s) {
            fprintf(s, "%s %ld %s\n", version, size, module ? module : "-");
            fclose(s);
        }
    }
    op->fail = head[0] == 'X';
    snprintf(op->version, sizeof op->version, "%s", version);
    op->req = req;
    lgw_request_progress(req, 50, "flashing");
    lgw_timer_start(op->timer, 50, 0);
    return LGW_OK;
}
#endif

static int op_start(void *data)
{
    op_t *op = data;
    op->timer = lgw_timer_new(op->inst, on_timer, op);
    lgw_device_add(op->inst, "d1", "thing");
    lgw_device_set_online(op->inst, "d1", true);
    lgw_device_set_firmware(op->inst, "d1", "1.0");
    return op->timer ? LGW_OK : LGW_ENOMEM;
}

static void op_stop(void *data)
{
    op_t *op = data;
    if (op->req) {
        lgw_request_done(op->req, LGW_REPLY_REQUEST_ERROR, "stopped");
        op->req = NULL;
    }
    lgw_timer_stop(op->timer);
}

static void op_destroy(void *data)
{
    op_t *op = data;
    lgw_timer_free(op->timer);
    free(op);
}

LGW_PLUGIN_EXPORT int lgw_plugin_register(lgw_driver_t *drv)
{
    lgw_driver_set_info(drv, "1.0.0", "OTA test plugin");
    lgw_driver_set_create(drv, op_create);
    lgw_driver_set_start(drv, op_start);
    lgw_driver_set_stop(drv, op_stop);
    lgw_driver_set_destroy(drv, op_destroy);
#ifndef OTA_LEGACY
    lgw_driver_set_ota(drv, op_ota);
#endif
    return LGW_OK;
}
