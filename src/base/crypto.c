/* crypto.c: random tokens, hashes of stored secrets, CSRF derivation and password hashing, all
 * through libsodium. Not for: signature schemes of particular services (connectors own those). */
#include "base.h"

#include <sodium.h>
#include <string.h>

int base_crypto_init(void)
{
    return sodium_init() < 0 ? -ERR_INTERNAL : 0;
}

void token_generate(char out[64])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, 64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

static void hash_hex(const unsigned char *key, size_t keylen, const char *msg, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)msg, strlen(msg), key, keylen);
    sodium_bin2hex(out, 65, h, sizeof h);
}

void secret_hash(const char *secret, char out[65])
{
    hash_hex(NULL, 0, secret, out);
}

void bytes_hash(const void *data, size_t len, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, data, len, NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

void secret_derive(const char *key, const char *msg, char out[65])
{
    unsigned char k[32];
    /* keys of any length: hash first, so the keyed hash always gets a full-size key */
    crypto_generichash(k, sizeof k, (const unsigned char *)key, strlen(key), NULL, 0);
    hash_hex(k, sizeof k, msg, out);
    sodium_memzero(k, sizeof k);
}

bool secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return sodium_memcmp(a, b, la) == 0;
}

int password_hash(const char *password, char out[128])
{
    BUG_ON(crypto_pwhash_STRBYTES > 128);
    if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return -ERR_INTERNAL;
    return 0;
}

bool password_verify(const char *stored, const char *password)
{
    return crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
}
