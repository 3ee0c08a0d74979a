/* emu_topic.c — classification of Alink topics (and subscription filters): which device
 * owns a topic and in which direction it flows. Used by the ACL and the dispatcher. */
#include "emu.h"

#include <stdio.h>
#include <string.h>

#define MAX_SEGS 24

static int split(char *buf, char *segs[MAX_SEGS])
{
    int n = 0;
    char *p = buf;
    segs[n++] = p;
    while ((p = strchr(p, '/')) != NULL) {
        *p++ = '\0';
        if (n == MAX_SEGS) return -1;
        segs[n++] = p;
    }
    return n;
}

static bool set_owner(emu_topic_t *t, const char *pk, const char *dn, bool is_filter)
{
    if (!*pk || !*dn || strlen(pk) >= sizeof t->pk || strlen(dn) >= sizeof t->dn) return false;
    if (is_filter && (!strcmp(pk, "+") || !strcmp(dn, "+") || !strcmp(pk, "#") || !strcmp(dn, "#"))) t->wild_owner = true;
    snprintf(t->pk, sizeof t->pk, "%s", pk);
    snprintf(t->dn, sizeof t->dn, "%s", dn);
    return true;
}

static void join(char *out, size_t outsz, char **segs, int from, int n)
{
    size_t pos = 0;
    out[0] = '\0';
    for (int i = from; i < n; i++) {
        int w = snprintf(out + pos, outsz - pos, "%s%s", i > from ? "/" : "", segs[i]);
        if (w < 0 || (size_t)w >= outsz - pos) { out[0] = '\0'; return; }
        pos += (size_t)w;
    }
}

bool emu_topic_parse(const char *topic, bool is_filter, emu_topic_t *t)
{
    char buf[512];
    char *s[MAX_SEGS];
    memset(t, 0, sizeof *t);
    if (!topic || strlen(topic) >= sizeof buf) return false;
    if (!strcmp(topic, EMU_ADMIN_REQUEST_TOPIC) || !strncmp(topic, "$emu/", 5)) { t->cls = EMU_T_ADMIN; return true; }
    snprintf(buf, sizeof buf, "%s", topic);
    int n = split(buf, s);
    if (n < 3 || s[0][0]) return false;          /* Alink topics start with '/' */
    if (!strcmp(s[1], "sys") && n >= 5) {
        if (!set_owner(t, s[2], s[3], is_filter)) return false;
        join(t->rest, sizeof t->rest, s, 4, n);
        t->cls = EMU_T_SYS;
        return true;
    }
    if (!strcmp(s[1], "ext") && n >= 3) {
        if (!strcmp(s[2], "session") && n == 7 && !strcmp(s[5], "combine")) {
            if (!set_owner(t, s[3], s[4], is_filter)) return false;
            snprintf(t->rest, sizeof t->rest, "%s", s[6]);
            t->cls = EMU_T_SESSION;
            return true;
        }
        if (!strcmp(s[2], "ntp") && n == 6) {
            if (!set_owner(t, s[3], s[4], is_filter)) return false;
            snprintf(t->rest, sizeof t->rest, "%s", s[5]);
            t->cls = EMU_T_NTP;
            return true;
        }
        if (!strcmp(s[2], "error") && n == 5) {
            if (!set_owner(t, s[3], s[4], is_filter)) return false;
            t->cls = EMU_T_ERROR;
            return true;
        }
        if (!strcmp(s[2], "rrpc") && n >= 8 && !strcmp(s[4], "sys")) {
            if (strlen(s[3]) >= sizeof t->mid || !set_owner(t, s[5], s[6], is_filter)) return false;
            snprintf(t->mid, sizeof t->mid, "%s", s[3]);
            join(t->rest, sizeof t->rest, s, 7, n);
            t->cls = EMU_T_RRPC;
            return true;
        }
        /* custom-topic RRPC: /ext/rrpc/{mid}/{pk}/{dn}/user/… and the literal
         * "/ext/rrpc/${messageId}/${topic}" form with "//" before pk */
        if (!strcmp(s[2], "rrpc") && n >= 8) {
            int b = s[4][0] ? 4 : 5;
            if (n < b + 4 || strcmp(s[b + 2], "user") || strlen(s[3]) >= sizeof t->mid || !s[3][0]) return false;
            if (!set_owner(t, s[b], s[b + 1], is_filter)) return false;
            snprintf(t->mid, sizeof t->mid, "%s", s[3]);
            join(t->rest, sizeof t->rest, s, b + 2, n);
            t->cls = EMU_T_RRPC;
            t->user = true;
            return true;
        }
        if ((!strcmp(s[2], "register") || !strcmp(s[2], "regnwl")) && n == 3) {
            t->cls = EMU_T_REGISTER;
            return true;
        }
        return false;
    }
    if (!strcmp(s[1], "ota") && n == 6 && !strcmp(s[2], "device")) {
        if (!set_owner(t, s[4], s[5], is_filter)) return false;
        snprintf(t->rest, sizeof t->rest, "%s", s[3]);
        t->cls = EMU_T_OTA;
        return true;
    }
    if (n >= 4 && !strcmp(s[3], "user")) {
        if (!set_owner(t, s[1], s[2], is_filter)) return false;
        join(t->rest, sizeof t->rest, s, 3, n);
        t->cls = EMU_T_USER;
        return true;
    }
    return false;
}

bool emu_rest_is_downstream(const char *rest)
{
    static const char *const exact[] = {
        "thing/topo/change", "thing/topo/add/notify", "thing/disable", "thing/enable", "thing/delete",
        "thing/model/down_raw", "thing/config/push", "thing/gateway/permit", NULL};
    if (!strncmp(rest, "thing/service/", 14)) return true;
    if (!strncmp(rest, "rrpc/request/", 13)) return true;
    for (int i = 0; exact[i]; i++) if (!strcmp(rest, exact[i])) return true;
    return false;
}

static int sys_dir(const char *rest)
{
    size_t n = strlen(rest);
    if (!strncmp(rest, "rrpc/response/", 14)) return EMU_DIR_UP;
    if (n > 6 && !strcmp(rest + n - 6, "_reply")) {
        char base[256];
        snprintf(base, sizeof base, "%.*s", (int)(n - 6), rest);
        return emu_rest_is_downstream(base) ? EMU_DIR_UP : EMU_DIR_DOWN;
    }
    if (!strcmp(rest, "#") || strchr(rest, '+') || strchr(rest, '#')) return EMU_DIR_BOTH;
    return emu_rest_is_downstream(rest) ? EMU_DIR_DOWN : EMU_DIR_UP;
}

int emu_topic_dir(const emu_topic_t *t)
{
    size_t n = strlen(t->rest);
    switch (t->cls) {
    case EMU_T_SYS: return sys_dir(t->rest);
    case EMU_T_SESSION: return n > 6 && !strcmp(t->rest + n - 6, "_reply") ? EMU_DIR_DOWN : EMU_DIR_UP;
    case EMU_T_NTP: return !strcmp(t->rest, "request") ? EMU_DIR_UP : EMU_DIR_DOWN;
    case EMU_T_ERROR: return EMU_DIR_DOWN;
    case EMU_T_OTA: return !strcmp(t->rest, "upgrade") ? EMU_DIR_DOWN : EMU_DIR_UP;
    case EMU_T_RRPC: case EMU_T_USER: return EMU_DIR_BOTH;
    case EMU_T_REGISTER: return EMU_DIR_DOWN;
    default: return 0;
    }
}
