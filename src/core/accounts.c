/* accounts.c: users, API tokens, sessions, logins. Tokens and sessions are random 256-bit
 * secrets stored only as hashes; passwords as argon2id strings. */
#include "core_int.h"

#include <stdio.h>
#include <string.h>

bool core_username_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > CORE_USERNAME_MAX || strspn(name, "0123456789") == n)
        return false; /* all digits would read as a user id in URLs */
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

int core_user_create(struct core *c, const char *username, const char *password, bool is_admin,
                     struct store_write *w)
{
    (void)c;
    if (!core_username_valid(username))
        return -ERR_INVALID_FIELD;
    if (!*password || strlen(password) > CORE_PASSWORD_MAX)
        return -ERR_INVALID_FIELD;
    memset(w, 0, sizeof *w);
    w->op = STORE_USER_CREATE;
    w->name = username;
    w->flag = is_admin;
    char *hash = xmalloc(128);
    if (password_hash(password, hash)) {
        free(hash);
        return -ERR_INTERNAL;
    }
    w->secret = hash;
    w->owned = hash;
    return 0;
}

void core_token_create(struct core *c, int64_t user_id, const char *label, char token[64],
                       struct store_write *w)
{
    (void)c;
    char *hash = xmalloc(65);
    token_generate(token);
    secret_hash(token, hash);
    memset(w, 0, sizeof *w);
    w->op = STORE_TOKEN_CREATE;
    w->user_id = user_id;
    w->name = label;
    w->secret = hash;
    w->owned = hash;
}

int core_auth_bearer(struct core *c, const char *token, struct store_user *out)
{
    char hash[65];
    if (!*token || strlen(token) > 256)
        return -ERR_UNAUTHORIZED;
    secret_hash(token, hash);
    return store_auth_token(c->store, hash, out);
}

int core_auth_session(struct core *c, const char *session_token, struct store_user *out)
{
    char hash[65];
    if (!*session_token || strlen(session_token) > 256)
        return -ERR_UNAUTHORIZED;
    secret_hash(session_token, hash);
    return store_auth_session(c->store, hash, time_now_ms(), out);
}

int core_login(struct core *c, const char *username, const char *password, const char *ip,
               struct store_user *out, unsigned *retry_after_s)
{
    char user_key[96], ip_key[96];
    int64_t now = time_now_ms();
    snprintf(user_key, sizeof user_key, "u:%.80s", username);
    snprintf(ip_key, sizeof ip_key, "a:%.80s", ip);
    unsigned wait_user = throttle_check(c->logins, user_key, now);
    unsigned wait_ip = throttle_check(c->logins, ip_key, now);
    if (wait_user || wait_ip) {
        *retry_after_s = wait_user > wait_ip ? wait_user : wait_ip;
        return -ERR_TOO_MANY_REQUESTS;
    }
    char stored[128];
    int rc = store_user_by_name(c->store, username, out, stored);
    if (rc && rc != -ERR_USER_NOT_FOUND)
        return rc; /* the database is away: 503, and no mark against the user */
    bool known = rc == 0 && stored[0];
    /* verify even for unknown users, so the time taken does not tell which names exist */
    bool ok = password_verify(known ? stored : c->dummy_hash, password) && known;
    if (!ok) {
        throttle_fail(c->logins, user_key, now);
        throttle_fail(c->logins, ip_key, now);
        return -ERR_INVALID_CREDENTIALS;
    }
    throttle_clear(c->logins, user_key);
    return 0;
}

void core_session_create(struct core *c, int64_t user_id, char token[64], struct store_write *w)
{
    core_token_create(c, user_id, NULL, token, w);
    w->op = STORE_SESSION_CREATE;
    w->expires = time_now_ms() + (int64_t)CORE_SESSION_DAYS * 86400 * 1000;
}

void core_session_delete(struct core *c, const char *session_token, struct store_write *w)
{
    (void)c;
    char *hash = xmalloc(65);
    secret_hash(session_token, hash);
    memset(w, 0, sizeof *w);
    w->op = STORE_SESSION_DELETE;
    w->secret = hash;
    w->owned = hash;
}

void core_csrf_token(const char *session_token, char out[65])
{
    secret_derive(session_token, "switchboard csrf v1", out);
}
