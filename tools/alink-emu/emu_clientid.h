/* emu_clientid.h — parse an Alink MQTT client id "<clientId>|k=v,k=v,…|" (§1.1 of the
 * protocol notes) tolerantly: keys in any order and case, unknown keys ignored, an empty
 * item or trailing comma allowed, the block optional. */
#ifndef EMU_CLIENTID_H
#define EMU_CLIENTID_H

#include <stdbool.h>

typedef struct {
    char base[129];        /* part before the first '|' (the signed clientId) */
    char securemode[16];
    char signmethod[32];   /* "" when absent */
    char timestamp[32];
    char auth_type[16];    /* "register", "regnwl", "connwl" or "" */
    char random[72];
    char instance_id[64];
    bool has_timestamp;
    bool ss;               /* _ss=1: the platform subscribes for the device */
    int ext;               /* ext bitmap: bit0 = rrpc over /ext/rrpc */
} emu_cid_t;

/* Parse `id` into out. Returns false when the id is unusable (NULL, base too long,
 * unterminated or oversize block, a value too long for its field). */
bool emu_cid_parse(const char *id, emu_cid_t *out);

#endif
