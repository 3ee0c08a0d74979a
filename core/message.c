/* lgw_publish() and the message sink; see message.h. */
#include "message.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "instance.h"
#include "log.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static gw_message_sink_t g_sink;
static void *g_sink_data;
static bool g_has_sink;

void gw_message_set_sink(const gw_message_sink_t *sink, void *data)
{
    pthread_mutex_lock(&g_lock);
    g_has_sink = sink != NULL;
    if (sink)
        g_sink = *sink;
    else
        memset(&g_sink, 0, sizeof g_sink);
    g_sink_data = sink ? data : NULL;
    pthread_mutex_unlock(&g_lock);
}

bool gw_message_suffix_ok(const char *suffix)
{
    if (!suffix)
        return false;
    if (strcmp(suffix, "raw") == 0)
        return true;
    if (strncmp(suffix, "user/", 5) != 0 || strlen(suffix) > LGW_TOPIC_MAX)
        return false;
    const char *p = suffix + 5;
    if (!*p)
        return false;
    for (const char *lv = p; *lv;) { /* each level non-empty */
        const char *end = strchr(lv, '/');
        size_t n = end ? (size_t)(end - lv) : strlen(lv);
        if (n == 0)
            return false;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)lv[i];
            if (ch <= ' ' || ch >= 0x7f || ch == '+' || ch == '#')
                return false;
        }
        if (!end)
            break;
        lv = end + 1;
        if (!*lv)
            return false; /* trailing '/' */
    }
    return true;
}

/* A message on its way to the loop thread. */
typedef struct pub_msg {
    gw_xmsg_t x;
    lgw_instance_t *inst; /* referenced */
    char *device_id;      /* NULL = the gateway */
    char *suffix;
    size_t len;
    unsigned char payload[];
} pub_msg_t;

static void pub_deliver(gw_xmsg_t *m)
{
    pub_msg_t *p = (pub_msg_t *)m;
    if (gw_instance_state(p->inst) != GW_INST_DEAD) {
        pthread_mutex_lock(&g_lock);
        if (g_has_sink && g_sink.publish)
            g_sink.publish(g_sink_data, p->inst->name, p->device_id, p->suffix, p->payload, p->len);
        pthread_mutex_unlock(&g_lock);
    }
    gw_instance_unref(p->inst);
    free(p->device_id);
    free(p->suffix);
    free(p);
}

LGW_HOST_API int lgw_publish(lgw_instance_t *inst, const char *device_id, const char *topic_suffix,
                             const void *payload, size_t len)
{
    if (!inst || !topic_suffix || (!payload && len) || (device_id && (!*device_id || strlen(device_id) > 256)))
        return LGW_EINVAL;
    if (len > LGW_MESSAGE_MAX)
        return LGW_ERANGE;
    if (!gw_message_suffix_ok(topic_suffix))
        return strlen(topic_suffix) > LGW_TOPIC_MAX ? LGW_ERANGE : LGW_EINVAL;
    if (!gw_instance_accepts(inst))
        return LGW_ESTATE;
    bool on_loop = pthread_equal(pthread_self(), inst->host->loop_thread);
    pthread_mutex_lock(&g_lock);
    int rc = !g_has_sink                 ? LGW_ENOTSUP
             : on_loop && g_sink.check   ? g_sink.check(g_sink_data, inst->name, device_id, topic_suffix, len)
             : !on_loop && g_sink.precheck ? g_sink.precheck(g_sink_data, topic_suffix)
                                         : LGW_OK;
    pthread_mutex_unlock(&g_lock);
    if (rc != LGW_OK)
        return rc;
    pub_msg_t *p = malloc(sizeof *p + (len ? len : 1));
    if (!p)
        return LGW_ENOMEM;
    memset(p, 0, sizeof *p);
    p->device_id = device_id ? strdup(device_id) : NULL;
    p->suffix = strdup(topic_suffix);
    if ((device_id && !p->device_id) || !p->suffix) {
        free(p->device_id);
        free(p->suffix);
        free(p);
        return LGW_ENOMEM;
    }
    if (len)
        memcpy(p->payload, payload, len);
    p->len = len;
    gw_instance_ref(inst);
    p->inst = inst;
    p->x.deliver = pub_deliver;
    gw_xq_post(inst->host, &p->x);
    return LGW_OK;
}
