/*
 * gw_cloud_secret_store_t over the encrypted SQLite store (see cloud_secret_db.h).
 */
#include "cloud_secret_db.h"

#include <string.h>

#include "cloud_internal.h"
#include "log.h"
#include "store/store.h"

static int db_load(void *data, const char *pk, const char *dn, char *out, size_t cap)
{
    char spk[GW_STORE_NAME_MAX], sdn[GW_STORE_NAME_MAX], secret[GW_STORE_SECRET_MAX];
    int rc = gw_store_gateway_get(data, spk, sdn, secret);
    if (rc == GW_STORE_NOTFOUND)
        return 1;
    if (rc != GW_STORE_OK) {
        GW_ERROR(CLOUD_LOG, "cannot read the gateway secret from the store: %s", gw_store_rc_str(rc));
        return -1;
    }
    int result;
    if (strcmp(spk, pk) != 0 || strcmp(sdn, dn) != 0) {
        GW_WARN(CLOUD_LOG, "the store holds the secret of %s/%s, not %s/%s; ignoring it", spk, sdn, pk, dn);
        result = 1;
    } else if (strlen(secret) >= cap) {
        result = -1;
    } else {
        memcpy(out, secret, strlen(secret) + 1);
        result = 0;
    }
    memset(secret, 0, sizeof secret);
    return result;
}

static int db_save(void *data, const char *pk, const char *dn, const char *secret)
{
    int rc = gw_store_gateway_set(data, pk, dn, secret);
    if (rc != GW_STORE_OK) {
        GW_ERROR(CLOUD_LOG, "cannot store the gateway secret: %s", gw_store_rc_str(rc));
        return -1;
    }
    return 0;
}

gw_cloud_secret_store_t gw_cloud_secret_store_db(struct gw_store *st)
{
    gw_cloud_secret_store_t s = {db_load, db_save, st};
    return s;
}
