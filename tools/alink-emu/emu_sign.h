/* emu_sign.h — Alink signature helpers (HMAC-MD5/SHA1/SHA256 as hex) shared by the
 * alink-emu mosquitto plugin and its tests; implemented over core/alink (gw_alink).
 * Pure functions, no broker calls. */
#ifndef EMU_SIGN_H
#define EMU_SIGN_H

#include <stdbool.h>
#include <stddef.h>

/* Hash algorithm named by an Alink sign method. */
typedef enum { EMU_HMAC_NONE = 0, EMU_HMAC_MD5, EMU_HMAC_SHA1, EMU_HMAC_SHA256 } emu_hmac_t;

/* Map a sign method as devices spell it ("hmacsha256", "hmacSha256", "HmacMD5" …, compared
 * case-insensitively) to an algorithm; EMU_HMAC_NONE when unknown (also the unverified
 * plain "Sha256") or NULL. */
emu_hmac_t emu_hmac_from_name(const char *name);

/* Compute hex(HMAC_alg(key, msg)) in UPPER case into out (needs 65 bytes).
 * Returns false when alg is NONE or OpenSSL fails. */
bool emu_hmac_hex(emu_hmac_t alg, const char *key, const char *msg, char out[65]);

/* Case-insensitive comparison of two hex digests (devices send either case). */
bool emu_hex_equal(const char *a, const char *b);

/* Build the Alink sign content "clientId<c>deviceName<d>productKey<p>timestamp<t>" into
 * out (size outsz), skipping every NULL part; with clean_session != NULL the legacy form
 * "cleanSession<v>…" is produced. Returns false if it does not fit. */
bool emu_sign_content(char *out, size_t outsz, const char *clean_session, const char *client_id,
                      const char *dn, const char *pk, const char *timestamp);

/* Verify `sign` = HMAC(method, secret, content built from the parts). */
bool emu_sign_check(const char *method, const char *secret, const char *client_id, const char *dn,
                    const char *pk, const char *timestamp, const char *sign);

#endif
