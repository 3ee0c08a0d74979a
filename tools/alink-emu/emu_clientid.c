/* emu_clientid.c — tolerant parser of Alink MQTT client ids (see emu_clientid.h). */
#include "emu_clientid.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool copy(char *dst, size_t dstsz, const char *src, size_t len)
{
    if (len >= dstsz) return false;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return true;
}

bool emu_cid_parse(const char *id, emu_cid_t *out)
{
    memset(out, 0, sizeof *out);
    if (!id) return false;
    const char *bar = strchr(id, '|');
    if (!bar) return copy(out->base, sizeof out->base, id, strlen(id));
    if (!copy(out->base, sizeof out->base, id, (size_t)(bar - id))) return false;
    const char *p = bar + 1;
    const char *end = strchr(p, '|');
    if (!end) return false;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        const char *eq = memchr(p, '=', (size_t)(item_end - p));
        if (eq) {
            size_t klen = (size_t)(eq - p), vlen = (size_t)(item_end - eq - 1);
            const char *v = eq + 1;
            char key[32];
            if (klen < sizeof key) {
                memcpy(key, p, klen);
                key[klen] = '\0';
                bool ok = true;
                if (!strcasecmp(key, "securemode")) ok = copy(out->securemode, sizeof out->securemode, v, vlen);
                else if (!strcasecmp(key, "signmethod")) ok = copy(out->signmethod, sizeof out->signmethod, v, vlen);
                else if (!strcasecmp(key, "timestamp")) {
                    ok = copy(out->timestamp, sizeof out->timestamp, v, vlen);
                    out->has_timestamp = ok;
                } else if (!strcasecmp(key, "authType")) ok = copy(out->auth_type, sizeof out->auth_type, v, vlen);
                else if (!strcasecmp(key, "random")) ok = copy(out->random, sizeof out->random, v, vlen);
                else if (!strcasecmp(key, "instanceId")) ok = copy(out->instance_id, sizeof out->instance_id, v, vlen);
                else if (!strcasecmp(key, "_ss")) out->ss = vlen == 1 && v[0] == '1';
                else if (!strcasecmp(key, "ext")) {
                    char num[12];
                    if (copy(num, sizeof num, v, vlen)) out->ext = atoi(num);
                }
                if (!ok) return false;
            }
        }
        p = item_end + 1;
    }
    return true;
}
