/* crypto.c: random tokens, hashes of stored secrets, CSRF derivation, password hashing, the
 * HMACs services sign webhooks with, and sealing of secrets kept at rest, through libsodium
 * (OpenSSL only for SHA-1, which libsodium lacks). Which header carries which MAC is the
 * connectors' business. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

void hmac_sha256_hex(const char *key, const void *data, size_t len, char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, data, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

void hmac_sha1_base64(const char *key, const void *data, size_t len, const void *data2, size_t len2,
                      char out[32])
{
    /* libsodium has no SHA-1; Trello's scheme needs it, so this one comes from OpenSSL */
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t n = 0;
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    BUG_ON(!hmac);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
    BUG_ON(!ctx);
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    BUG_ON(!EVP_MAC_init(ctx, (const unsigned char *)key, strlen(key), params));
    EVP_MAC_update(ctx, data, len);
    EVP_MAC_update(ctx, data2, len2);
    EVP_MAC_final(ctx, mac, &n, sizeof mac);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    sodium_bin2base64(out, 32, mac, n, sodium_base64_VARIANT_ORIGINAL);
}

int seal_key_load(const char *path, unsigned char key[32])
{
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t n = fread(key, 1, 32, f);
        fclose(f);
        return n == 32 ? 0 : -ERR_INTERNAL;
    }
    if (errno != ENOENT)
        return -ERR_INTERNAL;
    randombytes_buf(key, 32);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -ERR_INTERNAL;
    ssize_t w = write(fd, key, 32);
    int rc = w == 32 && fsync(fd) == 0 ? 0 : -ERR_INTERNAL;
    close(fd);
    return rc;
}

char *seal_text(const unsigned char key[32], const char *plain)
{
    size_t n = strlen(plain), clen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    unsigned char *c = xmalloc(clen);
    randombytes_buf(c, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(c + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, c, key);
    size_t b64 = sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_ORIGINAL);
    char *out = xmalloc(b64);
    sodium_bin2base64(out, b64, c, clen, sodium_base64_VARIANT_ORIGINAL);
    free(c);
    return out;
}

char *unseal_text(const unsigned char key[32], const char *sealed)
{
    size_t len = strlen(sealed), n;
    unsigned char *c = xmalloc(len + 1);
    if (sodium_base642bin(c, len, sealed, len, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) ||
        n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        free(c);
        return NULL;
    }
    size_t plen = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *plain = xmalloc(plen + 1);
    if (crypto_secretbox_open_easy((unsigned char *)plain, c + crypto_secretbox_NONCEBYTES,
                                   n - crypto_secretbox_NONCEBYTES, c, key)) {
        free(c);
        free(plain);
        return NULL;
    }
    plain[plen] = '\0';
    free(c);
    return plain;
}

void seal_key_fingerprint(const unsigned char key[32], char out[33])
{
    static const char label[] = "switchboard: fingerprint of the sealing key";
    unsigned char h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)label, sizeof label - 1, key, 32);
    sodium_bin2hex(out, 33, h, sizeof h);
}
