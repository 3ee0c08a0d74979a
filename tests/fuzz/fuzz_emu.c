/*
 * Fuzz target: the alink-emu mosquitto plugin (tools/alink-emu), driven the
 * way mosquitto drives it, through a stub broker (the mosquitto_* functions
 * the plugin calls are defined below). Each input is a script in the format of
 * tests/emu/data/capture-replay.txt, one command per line:
 *   CONNECT <keepalive> <clientId> <username> <password>   (becomes the current client)
 *   SUB <filter>                     subscribe ACL check of the current client
 *   PUB <topic> <payload>            publish ACL check, then the message
 *   MSG <topic> <payload>            the message without the ACL check
 *   ADMIN <payload>                  a console request on $emu/request
 *   TICK | DISCONNECT | CLIENT <n>   tick; drop the current client; switch to client n
 * Unknown lines are ignored. Every input starts from a fresh plugin loaded
 * with the capture's registry and no state directory, and ends with every
 * client disconnected and the plugin cleaned up, so leaks show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "fuzz_util.h"

#define MAX_CLIENTS 4
#define MAX_LINES 64

/* ---- stub broker ------------------------------------------------------------- */

struct mosquitto { /* what mosquitto_client_*() report about a client */
    char *id;
    int keepalive;
    bool connected;
};
static struct mosquitto g_clients[MAX_CLIENTS + 1]; /* [MAX_CLIENTS] = the console */
static MOSQ_FUNC_generic_callback g_cb[MOSQ_EVT_DISCONNECT + 1];
static unsigned long g_published;

int mosquitto_callback_register(mosquitto_plugin_id_t *id, int event, MOSQ_FUNC_generic_callback cb,
                                const void *event_data, void *userdata)
{
    (void)id;
    (void)event_data;
    (void)userdata;
    if (event < 0 || event > MOSQ_EVT_DISCONNECT || g_cb[event])
        return MOSQ_ERR_ALREADY_EXISTS;
    g_cb[event] = cb;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_callback_unregister(mosquitto_plugin_id_t *id, int event, MOSQ_FUNC_generic_callback cb,
                                  const void *event_data)
{
    (void)id;
    (void)event_data;
    if (event < 0 || event > MOSQ_EVT_DISCONNECT || g_cb[event] != cb)
        return MOSQ_ERR_NOT_FOUND;
    g_cb[event] = NULL;
    return MOSQ_ERR_SUCCESS;
}

void mosquitto_log_printf(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

const char *mosquitto_client_id(const struct mosquitto *client)
{
    return client ? client->id : NULL;
}

int mosquitto_client_keepalive(const struct mosquitto *client)
{
    return client ? client->keepalive : 0;
}

int mosquitto_kick_client_by_clientid(const char *clientid, bool with_will)
{
    (void)clientid;
    (void)with_will;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_broker_publish_copy(const char *clientid, const char *topic, int payloadlen, const void *payload,
                                  int qos, bool retain, mosquitto_property *properties)
{
    (void)clientid;
    (void)qos;
    (void)retain;
    (void)properties;
    if (!topic || payloadlen < 0 || (payloadlen && !payload))
        abort(); /* what the real broker would refuse */
    g_published++;
    return MOSQ_ERR_SUCCESS;
}

/* ---- driving the plugin ------------------------------------------------------- */

static void disconnect(struct mosquitto *cl)
{
    if (!cl->connected)
        return;
    struct mosquitto_evt_disconnect ed = { .client = cl };
    g_cb[MOSQ_EVT_DISCONNECT](MOSQ_EVT_DISCONNECT, &ed, NULL);
    cl->connected = false;
}

static void tick(void)
{
    struct mosquitto_evt_tick ed = { 0 };
    g_cb[MOSQ_EVT_TICK](MOSQ_EVT_TICK, &ed, NULL);
}

static int acl(struct mosquitto *cl, int access, const char *topic, const char *payload, size_t len)
{
    struct mosquitto_evt_acl_check ed = {
        .client = cl, .topic = topic, .payload = payload, .access = access, .payloadlen = (uint32_t)len,
    };
    return g_cb[MOSQ_EVT_ACL_CHECK](MOSQ_EVT_ACL_CHECK, &ed, NULL);
}

static void message(struct mosquitto *cl, char *topic, char *payload, size_t len)
{
    struct mosquitto_evt_message ed = {
        .client = cl, .topic = topic, .payload = payload, .payloadlen = (uint32_t)len, .qos = 1,
    };
    g_cb[MOSQ_EVT_MESSAGE](MOSQ_EVT_MESSAGE, &ed, NULL);
}

static void connect_client(struct mosquitto *cl, char *args)
{
    disconnect(cl);
    char *save = NULL;
    char *ka = strtok_r(args, " ", &save), *id = strtok_r(NULL, " ", &save);
    char *user = strtok_r(NULL, " ", &save), *pass = strtok_r(NULL, "", &save);
    free(cl->id);
    cl->id = strdup(id ? id : "");
    cl->keepalive = ka ? atoi(ka) : 0;
    struct mosquitto_evt_basic_auth ed = { .client = cl, .username = user, .password = pass };
    cl->connected = g_cb[MOSQ_EVT_BASIC_AUTH](MOSQ_EVT_BASIC_AUTH, &ed, NULL) == MOSQ_ERR_SUCCESS;
}

/* Splits "<topic> <payload>" in place. */
static char *payload_of(char *args, size_t *len)
{
    char *sp = strchr(args, ' ');
    if (!sp) {
        *len = 0;
        return args + strlen(args);
    }
    *sp = '\0';
    *len = strlen(sp + 1);
    return sp + 1;
}

static void run_line(char *line, struct mosquitto **cur)
{
    struct mosquitto *cl = *cur;
    char *args = strchr(line, ' ');
    if (args)
        *args++ = '\0';
    else
        args = line + strlen(line);
    size_t len;
    if (!strcmp(line, "CONNECT")) {
        connect_client(cl, args);
    } else if (!strcmp(line, "CLIENT")) {
        *cur = &g_clients[(unsigned)atoi(args) % MAX_CLIENTS];
    } else if (!strcmp(line, "DISCONNECT")) {
        disconnect(cl);
    } else if (!strcmp(line, "TICK")) {
        tick();
    } else if (!cl->connected) {
        return;
    } else if (!strcmp(line, "SUB")) {
        acl(cl, MOSQ_ACL_SUBSCRIBE, args, NULL, 0);
        acl(cl, MOSQ_ACL_READ, args, "{}", 2);
    } else if (!strcmp(line, "PUB") || !strcmp(line, "MSG")) {
        char *payload = payload_of(args, &len);
        if (line[0] == 'M' || acl(cl, MOSQ_ACL_WRITE, args, payload, len) == MOSQ_ERR_SUCCESS)
            message(cl, args, payload, len);
    } else if (!strcmp(line, "ADMIN")) {
        struct mosquitto *admin = &g_clients[MAX_CLIENTS];
        if (!admin->connected) {
            char creds[] = "60 console emu-admin emu-admin";
            connect_client(admin, creds);
        }
        char topic[] = "$emu/request";
        message(admin, topic, args, strlen(args));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strndup(data, size);
    if (!text)
        return 0;
    struct mosquitto_opt opts[] = {
        { .key = (char *)"registry", .value = (char *)FUZZ_EMU_REGISTRY },
        { .key = (char *)"admin_user", .value = (char *)"emu-admin" },
        { .key = (char *)"admin_password", .value = (char *)"emu-admin" },
    };
    void *ud = NULL;
    static int pid_storage;
    if (mosquitto_plugin_init((mosquitto_plugin_id_t *)&pid_storage, &ud, opts, 3) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "the emulator does not load %s\n", FUZZ_EMU_REGISTRY);
        abort();
    }
    struct mosquitto *cur = &g_clients[0];
    char *save = NULL;
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line && n < MAX_LINES; line = strtok_r(NULL, "\n", &save), n++) {
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[l - 1] = '\0';
        run_line(line, &cur);
    }
    tick();
    for (int i = 0; i <= MAX_CLIENTS; i++) {
        disconnect(&g_clients[i]);
        free(g_clients[i].id);
        g_clients[i].id = NULL;
    }
    tick();
    mosquitto_plugin_cleanup(ud, opts, 3);
    for (int e = 0; e <= MOSQ_EVT_DISCONNECT; e++)
        if (g_cb[e])
            abort(); /* cleanup must unregister everything */
    free(text);
    return 0;
}
