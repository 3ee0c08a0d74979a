/*
 * Sealing of secrets at rest: AES-256-GCM (OpenSSL EVP), a fresh random 12-byte nonce per seal, a
 * 16-byte tag, and associated data naming the row the secret belongs to, so that a ciphertext
 * copied into another row (or another table) fails authentication.
 *
 * Blob layout: version (1 byte, GW_SEAL_VERSION) | nonce (12) | ciphertext (n) | tag (16).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "store_internal.h"

size_t st_aad(unsigned char *buf, size_t cap, const char *table, const char *pk, const char *dn)
{
    const char *parts[] = {"linkgw-store", table, pk, dn};
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t l = strlen(parts[i]) + 1; /* with its NUL separator */
        if (n + l > cap)
            return 0;
        memcpy(buf + n, parts[i], l);
        n += l;
    }
    return n;
}

int st_seal(const unsigned char key[GW_STORE_KEY_LEN], const unsigned char *aad, size_t aadlen,
            const unsigned char *pt, size_t ptlen, unsigned char *out)
{
    unsigned char *nonce = out + 1, *ct = out + 1 + GW_SEAL_NONCE, *tag = ct + ptlen;
    out[0] = GW_SEAL_VERSION;
    if (RAND_bytes(nonce, GW_SEAL_NONCE) != 1)
        return -1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        return -1;
    int len = 0, ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
                      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GW_SEAL_NONCE, NULL) == 1 &&
                      EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
                      EVP_EncryptUpdate(c, NULL, &len, aad, (int)aadlen) == 1 &&
                      EVP_EncryptUpdate(c, ct, &len, pt, (int)ptlen) == 1 &&
                      EVP_EncryptFinal_ex(c, ct + len, &len) == 1 &&
                      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GW_SEAL_TAG, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int st_unseal(const unsigned char key[GW_STORE_KEY_LEN], const unsigned char *aad, size_t aadlen,
              const unsigned char *in, size_t inlen, unsigned char *pt, size_t *ptlen)
{
    if (inlen < GW_SEAL_OVERHEAD || in[0] != GW_SEAL_VERSION)
        return -1;
    size_t n = inlen - GW_SEAL_OVERHEAD;
    const unsigned char *nonce = in + 1, *ct = in + 1 + GW_SEAL_NONCE, *tag = ct + n;
    unsigned char tagcopy[GW_SEAL_TAG];
    memcpy(tagcopy, tag, sizeof tagcopy);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        return -1;
    int len = 0, ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
                      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GW_SEAL_NONCE, NULL) == 1 &&
                      EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
                      EVP_DecryptUpdate(c, NULL, &len, aad, (int)aadlen) == 1 &&
                      EVP_DecryptUpdate(c, pt, &len, ct, (int)n) == 1 &&
                      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GW_SEAL_TAG, tagcopy) == 1 &&
                      EVP_DecryptFinal_ex(c, pt + len, &len) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        OPENSSL_cleanse(pt, n);
        return -1;
    }
    *ptlen = n;
    return 0;
}
