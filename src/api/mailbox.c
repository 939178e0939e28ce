/* mailbox.c: a team's group mailbox (/api/v1/teams/{team}/mailbox, .../mailbox/me), the caller's
 * e-mail address (/api/v1/me), and the one-click unsubscribe link of the mails
 * (/mailbox/unsubscribe/{token}: public, the token is the authority). */
#include "api_int.h"

#include <stdio.h>
#include <string.h>

static void finish_mailbox(struct http_req *r)
{
    json_t *out;
    struct api_req *a = api_req(r);
    if (core_mailbox_get(api_of(r)->core, &a->user, a->w.team_id, &out))
        out = json_object();
    http_reply_json(r, 200, out);
}

int api_mailbox_get(struct http_req *r)
{
    int64_t team;
    json_t *out;
    int rc = api_path_id(r, 0, &team);
    if (rc || (rc = core_mailbox_get(api_of(r)->core, &api_req(r)->user, team, &out)))
        return rc;
    return http_reply_json(r, 200, out);
}

int api_mailbox_put(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t team;
    char msg[160];
    int rc = api_path_id(r, 0, &team);
    if (rc)
        return rc;
    json_t *enabled = json_object_get(r->json, "enabled");
    json_t *channels = json_object_get(r->json, "channels");
    if (!json_is_boolean(enabled))
        return http_fail(r, -ERR_INVALID_FIELD, "'enabled' must be true or false");
    if (channels && !json_is_array(channels) && !json_is_null(channels))
        return http_fail(r, -ERR_INVALID_FIELD, "'channels' must be a list of channel ids");
    rc = core_mailbox_set(api_of(r)->core, &a->user, team, json_is_true(enabled), channels, &a->w,
                          msg);
    if (rc == -ERR_INVALID_FIELD)
        return http_fail(r, rc, "%s", msg);
    if (rc)
        return rc;
    return api_commit(r, finish_mailbox);
}

int api_mailbox_me(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t team;
    int rc = api_path_id(r, 0, &team);
    if (rc)
        return rc;
    const char *mode = json_string_value(json_object_get(r->json, "mode"));
    rc = core_mailbox_mode(api_of(r)->core, &a->user, team, mode, &a->w);
    if (rc == -ERR_INVALID_FIELD)
        return http_fail(r, rc, "'mode' must be off, each, hourly or daily");
    if (rc)
        return rc;
    return api_commit(r, finish_mailbox);
}

/* The mode refused at commit: no e-mail address (the store's check, inside the transaction). */
void api_mailbox_fail(struct http_req *r, int err, const char *message)
{
    if (err == -ERR_INVALID_FIELD && !message)
        message = "set an e-mail address first (PATCH /api/v1/me {\"email\"})";
    http_reply_error(r, err, message);
}

static void finish_me(struct http_req *r)
{
    struct api_req *a = api_req(r);
    char email[256];
    store_user_email(core_store(api_of(r)->core), a->user.id, email);
    json_t *u = api_user_json(&a->user);
    json_object_set_new(u, "email", email[0] ? json_string(email) : json_null());
    http_reply_json(r, 200, u);
}

int api_me_update(struct http_req *r)
{
    struct api_req *a = api_req(r);
    json_t *email = json_object_get(r->json, "email");
    if (!email || (!json_is_null(email) && !json_is_string(email)))
        return http_fail(r, -ERR_INVALID_FIELD, "give 'email' (an address, or null to remove it)");
    int rc = core_user_email(api_of(r)->core, &a->user, json_string_value(email), &a->w);
    if (rc == -ERR_INVALID_FIELD)
        return http_fail(r, rc, "'email' must be an e-mail address (at most 254 characters)");
    if (rc)
        return rc;
    return api_commit(r, finish_me);
}

static const char page_type[] = "text/html; charset=utf-8";

int api_unsubscribe_page(struct http_req *r)
{
    /* a page with a button: mail scanners follow GET links, so only a POST unsubscribes */
    char html[1024];
    const char *token = http_param(r, 0);
    if (strspn(token, "0123456789.abcdef") != strlen(token))
        return -ERR_NOT_FOUND;
    snprintf(html, sizeof html,
             "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Unsubscribe</title>"
             "</head><body><form method=\"post\" action=\"/mailbox/unsubscribe/%s\">"
             "<p>Stop the group mailbox's mails to you for this team?</p>"
             "<button type=\"submit\">Unsubscribe</button></form></body></html>",
             token);
    http_add_header(r, "Content-Security-Policy", "default-src 'none'; form-action 'self'");
    return http_reply_bytes(r, 200, page_type, html, strlen(html));
}

static void finish_unsubscribed(struct http_req *r)
{
    static const char done[] = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>"
                               "Unsubscribed</title></head><body><p>You will get no more mails "
                               "from this team's group mailbox.</p></body></html>";
    http_add_header(r, "Content-Security-Policy", "default-src 'none'");
    http_reply_bytes(r, 200, page_type, done, strlen(done));
}

int api_unsubscribe(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int rc = core_mailbox_unsubscribe(api_of(r)->core, http_param(r, 0), &a->w);
    if (rc)
        return rc;
    return api_commit(r, finish_unsubscribed);
}
