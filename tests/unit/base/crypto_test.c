/* crypto_test.c: tokens, secret hashes, keyed derivation, constant-time comparison and password
 * hashing (src/base/crypto.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "base/base.h"

#include <string.h>

static int init(void **state)
{
    (void)state;
    return base_crypto_init();
}

static bool all_in(const char *s, const char *set)
{
    return strspn(s, set) == strlen(s);
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hex[] = "0123456789abcdef";

static void tokens_are_random_base64url(void **state)
{
    (void)state;
    char a[64], b[64];
    memset(a, 'Z', sizeof a);
    token_generate(a);
    token_generate(b);
    assert_int_equal(strlen(a), 43);
    assert_int_equal(strlen(b), 43);
    assert_true(all_in(a, b64url));
    assert_true(all_in(b, b64url));
    assert_string_not_equal(a, b);
}

static void secret_hash_is_blake2b_hex(void **state)
{
    (void)state;
    char h1[65], h2[65], h3[65];
    secret_hash("abc", h1);
    secret_hash("abc", h2);
    secret_hash("abd", h3);
    assert_int_equal(strlen(h1), 64);
    assert_true(all_in(h1, hex));
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    /* BLAKE2b with a 32-byte digest, no key */
    assert_string_equal(h1, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    secret_hash("", h1);
    assert_string_equal(h1, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

static void secret_derive_is_keyed(void **state)
{
    (void)state;
    char d1[65], d2[65], d3[65], d4[65], plain[65];
    secret_derive("key one", "msg", d1);
    secret_derive("key one", "msg", d2);
    secret_derive("key two", "msg", d3);
    secret_derive("key one", "msh", d4);
    secret_hash("msg", plain);
    assert_int_equal(strlen(d1), 64);
    assert_true(all_in(d1, hex));
    assert_string_equal(d1, d2);
    assert_string_not_equal(d1, d3);
    assert_string_not_equal(d1, d4);
    assert_string_not_equal(d1, plain);
    /* keys of any length work, including longer than BLAKE2b's key limit */
    char longkey[200];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    secret_derive(longkey, "msg", d2);
    assert_int_equal(strlen(d2), 64);
    secret_derive("", "msg", d3);
    assert_int_equal(strlen(d3), 64);
    assert_string_not_equal(d2, d3);
}

static void secret_equal_compares(void **state)
{
    (void)state;
    assert_true(secret_equal("abc", "abc"));
    assert_true(secret_equal("", ""));
    assert_false(secret_equal("abc", "abd"));
    assert_false(secret_equal("abc", "abcd"));
    assert_false(secret_equal("abcd", "abc"));
    assert_false(secret_equal("", "a"));
}

static void password_round_trip(void **state)
{
    (void)state;
    char h1[128], h2[128];
    assert_int_equal(password_hash("correct horse", h1), 0);
    assert_int_equal(password_hash("correct horse", h2), 0);
    assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
    assert_string_not_equal(h1, h2); /* salted */
    assert_true(password_verify(h1, "correct horse"));
    assert_true(password_verify(h2, "correct horse"));
    assert_false(password_verify(h1, "correct horsf"));
    assert_false(password_verify(h1, ""));
    assert_false(password_verify("not a hash", "correct horse"));
    assert_false(password_verify("", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokens_are_random_base64url), cmocka_unit_test(secret_hash_is_blake2b_hex),
        cmocka_unit_test(secret_derive_is_keyed),      cmocka_unit_test(secret_equal_compares),
        cmocka_unit_test(password_round_trip),
    };
    return cmocka_run_group_tests(tests, init, NULL);
}
