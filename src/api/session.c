/* session.c: authentication of every request, and the browser session (login, whoami, logout).
 * Bearer tokens need no CSRF header; a cookie-authenticated write needs X-CSRF-Token, which a
 * cross-site form cannot send. */
#include "api_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COOKIE "sb_session"

static bool is_safe_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD");
}

int api_authenticate(struct http_req *r)
{
    struct api *api = api_of(r);
    struct api_req *a = api_req(r);
    const char *auth = http_header(r, "Authorization");
    int rc;
    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7))
            return http_fail(r, -ERR_UNAUTHORIZED, "use 'Authorization: Bearer <token>'");
        const char *token = auth + 7;
        while (*token == ' ')
            token++;
        rc = core_auth_bearer(api->core, token, &a->user);
    } else {
        const char *cookie = http_cookie(r, COOKIE);
        if (!cookie || strlen(cookie) >= sizeof a->session)
            rc = -ERR_UNAUTHORIZED;
        else
            rc = core_auth_session(api->core, cookie, &a->user);
        if (!rc) {
            a->via_cookie = true;
            snprintf(a->session, sizeof a->session, "%s", cookie);
            if (!is_safe_method(r->method)) {
                char expected[65];
                const char *sent = http_header(r, "X-CSRF-Token");
                core_csrf_token(cookie, expected);
                if (!sent || !secret_equal(sent, expected))
                    return -ERR_CSRF_FAILED;
            }
        }
    }
    if (rc) {
        http_add_header(r, "WWW-Authenticate", "Bearer");
        return rc;
    }
    a->authenticated = true;
    return 0;
}

static json_t *session_json(struct http_req *r, const struct store_user *u, const char *session)
{
    char csrf[65], email[256];
    if (session)
        core_csrf_token(session, csrf);
    json_t *user = api_user_json(u);
    store_user_email(core_store(api_of(r)->core), u->id, email);
    json_object_set_new(user, "email", email[0] ? json_string(email) : json_null());
    return json_pack("{s:o, s:o}", "user", user, "csrf_token",
                     session ? json_string(csrf) : json_null());
}

static void login_created(struct store_write *w)
{
    http_resume(w->arg);
}

/* On a jobs thread: the password check, then the session's commit. */
static void login_job(void *arg)
{
    struct http_req *r = arg;
    struct api *api = api_of(r);
    struct api_req *a = api_req(r);
    const char *username = json_string_value(json_object_get(r->json, "username"));
    const char *password = json_string_value(json_object_get(r->json, "password"));
    a->rc = core_login(api->core, username, password, r->ip, &a->user, &a->retry_after);
    if (a->rc == 0) {
        core_session_create(api->core, a->user.id, a->token, &a->w);
        a->w.done = login_created;
        a->w.arg = r;
        a->rc = core_submit(api->core, &a->w);
        if (a->rc == 0)
            return;
    }
    http_resume(r);
}

static void login_resumed(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int rc = a->rc ? a->rc : a->w.rc;
    if (rc) {
        if (rc == -ERR_TOO_MANY_REQUESTS) {
            char secs[16];
            snprintf(secs, sizeof secs, "%u", a->retry_after);
            http_add_header(r, "Retry-After", secs);
        }
        http_reply_error(r, rc, NULL);
        return;
    }
    char cookie[160];
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
             a->token, CORE_SESSION_DAYS * 86400);
    http_add_header(r, "Set-Cookie", cookie);
    http_reply_json(r, 200, session_json(r, &a->user, a->token));
}

int api_session_create(struct http_req *r)
{
    const char *username, *password;
    char msg[160];
    int rc;
    if ((rc = json_get_string(r->json, "username", true, 1, CORE_USERNAME_MAX, true, &username,
                              msg)) ||
        (rc = json_get_string(r->json, "password", true, 1, CORE_PASSWORD_MAX, false, &password,
                              msg)))
        return http_fail(r, rc, "%s", msg);
    http_suspend(r, login_resumed);
    jobs_submit(api_of(r)->jobs, login_job, r);
    return 0;
}

int api_session_get(struct http_req *r)
{
    struct api_req *a = api_req(r);
    return http_reply_json(r, 200, session_json(r, &a->user, a->via_cookie ? a->session : NULL));
}

static void logout_finish(struct http_req *r)
{
    http_add_header(r, "Set-Cookie", COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    http_reply_empty(r, 204);
}

int api_session_delete(struct http_req *r)
{
    struct api_req *a = api_req(r);
    if (!a->via_cookie) { /* a bearer token has no session to end */
        logout_finish(r);
        return 0;
    }
    core_session_delete(api_of(r)->core, a->session, &a->w);
    return api_commit(r, logout_finish);
}
