/* accounts_test.c: usernames, user creation, tokens, sessions, CSRF tokens and logins with
 * their throttling (src/core/accounts.c), on a real store. */
#include "../testutil.h"

#include "core/core.h"

#include <stdlib.h>
#include <string.h>

struct fx {
    char *dir;
    struct store *st;
    struct core *core;
    int64_t alice;
};

static int fx_setup(void **state)
{
    assert_int_equal(base_crypto_init(), 0);
    struct fx *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir_new();
    f->st = tu_store_open(f->dir);
    f->core = core_new(f->st);
    assert_non_null(f->core);
    struct store_write w;
    assert_int_equal(core_user_create(f->core, "alice", "s3cret pass", false, &w), 0);
    f->alice = tu_commit(f->st, &w, 0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    core_free(f->core);
    store_close(f->st);
    tu_tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static void username_rules(void **state)
{
    (void)state;
    assert_true(core_username_valid("a"));
    assert_true(core_username_valid("Alice.B_c-9"));
    char max[66];
    memset(max, 'x', 64);
    max[64] = '\0';
    assert_true(core_username_valid(max));
    max[64] = 'x';
    max[65] = '\0';
    assert_false(core_username_valid(max));
    static const char *const bad[] = {"", "a b", "a/b", "a@b", "\xc3\xa9", "a\n", "a:b", "a+b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (core_username_valid(bad[i]))
            fail_msg("accepted username '%s'", bad[i]);
}

static void user_create_validates(void **state)
{
    struct fx *f = *state;
    struct store_write w;
    assert_int_equal(core_user_create(f->core, "bad name", "pw", false, &w), -ERR_INVALID_FIELD);
    assert_int_equal(core_user_create(f->core, "bob", "", false, &w), -ERR_INVALID_FIELD);
    char *long_pw = malloc(CORE_PASSWORD_MAX + 2);
    memset(long_pw, 'p', CORE_PASSWORD_MAX + 1);
    long_pw[CORE_PASSWORD_MAX + 1] = '\0';
    assert_int_equal(core_user_create(f->core, "bob", long_pw, false, &w), -ERR_INVALID_FIELD);
    long_pw[CORE_PASSWORD_MAX] = '\0';
    assert_int_equal(core_user_create(f->core, "bob", long_pw, true, &w), 0);
    assert_int_equal(w.op, STORE_USER_CREATE);
    assert_true(w.flag);
    assert_int_equal(strncmp(w.secret, "$argon2id$", 10), 0); /* never the password itself */
    tu_commit(f->st, &w, 0);
    struct store_user u;
    assert_int_equal(core_login(f->core, "bob", long_pw, "10.0.0.9", &u, &(unsigned){0}), 0);
    assert_true(u.is_admin);
    free(long_pw);
    assert_int_equal(core_user_create(f->core, "ALICE", "pw", false, &w), 0);
    tu_commit(f->st, &w, -ERR_CONFLICT);
}

static void login_checks_password(void **state)
{
    struct fx *f = *state;
    struct store_user u = {0};
    unsigned retry = 0;
    assert_int_equal(core_login(f->core, "alice", "s3cret pass", "10.0.0.1", &u, &retry), 0);
    assert_int_equal(u.id, f->alice);
    assert_string_equal(u.username, "alice");
    assert_int_equal(core_login(f->core, "ALICE", "s3cret pass", "10.0.0.1", &u, &retry), 0);
    assert_int_equal(core_login(f->core, "alice", "s3cret pasS", "10.0.0.1", &u, &retry),
                     -ERR_INVALID_CREDENTIALS);
    assert_int_equal(core_login(f->core, "alice", "", "10.0.0.1", &u, &retry),
                     -ERR_INVALID_CREDENTIALS);
    assert_int_equal(core_login(f->core, "nobody", "s3cret pass", "10.0.0.1", &u, &retry),
                     -ERR_INVALID_CREDENTIALS);
}

static void login_throttled_after_failures(void **state)
{
    struct fx *f = *state;
    struct store_user u;
    unsigned retry = 0;
    for (int i = 0; i < CORE_LOGIN_FAILURES; i++)
        assert_int_equal(core_login(f->core, "alice", "wrong", "10.0.0.2", &u, &retry),
                         -ERR_INVALID_CREDENTIALS);
    /* even the right password is refused now, from any address */
    assert_int_equal(core_login(f->core, "alice", "s3cret pass", "10.0.0.3", &u, &retry),
                     -ERR_TOO_MANY_REQUESTS);
    assert_in_range(retry, 1, CORE_LOGIN_WINDOW_S);
    /* and the address is refused for other names */
    struct store_write w;
    assert_int_equal(core_user_create(f->core, "bob", "bobpass", false, &w), 0);
    tu_commit(f->st, &w, 0);
    retry = 0;
    assert_int_equal(core_login(f->core, "bob", "bobpass", "10.0.0.2", &u, &retry),
                     -ERR_TOO_MANY_REQUESTS);
    assert_true(retry > 0);
    /* another name from another address is fine */
    assert_int_equal(core_login(f->core, "bob", "bobpass", "10.0.0.4", &u, &retry), 0);
    /* unknown users count too */
    for (int i = 0; i < CORE_LOGIN_FAILURES; i++)
        assert_int_equal(core_login(f->core, "ghost", "x", "10.0.0.5", &u, &retry),
                         -ERR_INVALID_CREDENTIALS);
    assert_int_equal(core_login(f->core, "ghost", "x", "10.0.0.6", &u, &retry),
                     -ERR_TOO_MANY_REQUESTS);
}

static void success_clears_user_failures(void **state)
{
    struct fx *f = *state;
    struct store_user u;
    unsigned retry = 0;
    for (int i = 0; i < CORE_LOGIN_FAILURES - 1; i++)
        assert_int_equal(core_login(f->core, "alice", "wrong", "10.1.0.1", &u, &retry),
                         -ERR_INVALID_CREDENTIALS);
    assert_int_equal(core_login(f->core, "alice", "s3cret pass", "10.1.0.2", &u, &retry), 0);
    /* the count for alice started over: one more failure does not lock her out */
    assert_int_equal(core_login(f->core, "alice", "wrong", "10.1.0.3", &u, &retry),
                     -ERR_INVALID_CREDENTIALS);
    assert_int_equal(core_login(f->core, "alice", "s3cret pass", "10.1.0.4", &u, &retry), 0);
}

static void tokens_and_sessions(void **state)
{
    struct fx *f = *state;
    char token[64], session[64];
    struct store_write w;
    core_token_create(f->core, f->alice, "ci", token, &w);
    assert_int_equal(strlen(token), 43);
    assert_string_not_equal(w.secret, token); /* stored hashed */
    tu_commit(f->st, &w, 0);
    struct store_user u = {0};
    assert_int_equal(core_auth_bearer(f->core, token, &u), 0);
    assert_int_equal(u.id, f->alice);
    assert_int_equal(core_auth_bearer(f->core, "", &u), -ERR_UNAUTHORIZED);
    assert_int_equal(core_auth_bearer(f->core, "nope", &u), -ERR_UNAUTHORIZED);
    assert_int_equal(core_auth_session(f->core, token, &u), -ERR_UNAUTHORIZED);
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(core_auth_bearer(f->core, big, &u), -ERR_UNAUTHORIZED);

    core_session_create(f->core, f->alice, session, &w);
    assert_int_equal(w.op, STORE_SESSION_CREATE);
    assert_true(w.expires > time_now_ms() + (int64_t)(CORE_SESSION_DAYS - 1) * 86400 * 1000);
    tu_commit(f->st, &w, 0);
    assert_int_equal(core_auth_session(f->core, session, &u), 0);
    assert_int_equal(u.id, f->alice);
    assert_int_equal(core_auth_bearer(f->core, session, &u), -ERR_UNAUTHORIZED);

    char c1[65], c2[65], c3[65];
    core_csrf_token(session, c1);
    core_csrf_token(session, c2);
    core_csrf_token(token, c3);
    assert_string_equal(c1, c2);
    assert_string_not_equal(c1, c3);
    assert_int_equal(strlen(c1), 64);

    core_session_delete(f->core, session, &w);
    tu_commit(f->st, &w, 0);
    assert_int_equal(core_auth_session(f->core, session, &u), -ERR_UNAUTHORIZED);
    assert_int_equal(core_auth_bearer(f->core, token, &u), 0); /* tokens stay */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(username_rules),
        cmocka_unit_test_setup_teardown(user_create_validates, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(login_checks_password, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(login_throttled_after_failures, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(success_clears_user_failures, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(tokens_and_sessions, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
