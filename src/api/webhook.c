/* webhook.c: the incoming-webhook endpoint, POST /webhook/{id}/{secret}[/slack|/discord].
 *
 * A drop-in target for senders written against Microsoft Teams (200 "1", 400 "Summary or Text is
 * required." ...), and with the suffixes for Slack ("ok", "invalid_payload", "no_text") and
 * Discord (204, or the message with ?wait=true; JSON errors with Discord's codes). The answer is
 * sent only after the message is committed. Every request to a known connector is recorded in
 * its delivery log. An Idempotency-Key makes a retry answer the first result. */
#include "api_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* STYLE_SERVICE: a service connector (GitHub, ...): JSON answers ({"ok":true,"message_id"} or
 * {"ok":true,"ignored":"why"}); its errors are text, as the Teams style's. */
enum style { STYLE_TEAMS, STYLE_SLACK, STYLE_DISCORD, STYLE_SERVICE };

#define WEBHOOK_MAX_DEPTH 64 /* Adaptive Cards nest deeper than API bodies */

static const char text_type[] = "text/plain; charset=utf-8";

static void reply_text(struct http_req *r, int status, const char *text)
{
    http_reply_bytes(r, status, text_type, text, strlen(text));
}

static void set_retry_after(struct http_req *r, const char *message)
{
    /* the message of a 429 starts with the seconds to wait */
    char secs[16];
    snprintf(secs, sizeof secs, "%u", message ? (unsigned)strtoul(message, NULL, 10) : 1u);
    http_add_header(r, "Retry-After", secs);
}

void api_webhook_fail_teams(struct http_req *r, int err, const char *message)
{
    char text[320];
    int status = err_status(err);
    switch (-err) {
    case ERR_NOT_FOUND:
        snprintf(text, sizeof text, "Webhook not found.");
        break;
    case ERR_GONE:
        snprintf(text, sizeof text, "This webhook was removed.");
        break;
    case ERR_FORBIDDEN:
        snprintf(text, sizeof text, "This webhook is suspended: %s.", message ? message : "");
        break;
    case ERR_TOO_MANY_REQUESTS:
        set_retry_after(r, message);
        snprintf(text, sizeof text, "Too many requests to this webhook; retry after %s seconds.",
                 message ? message : "1");
        break;
    case ERR_METHOD_NOT_ALLOWED:
        snprintf(text, sizeof text, "Invalid webhook request - GET not supported");
        break;
    default:
        snprintf(text, sizeof text, "%s", message ? message : err_message(err));
    }
    reply_text(r, status, text);
}

void api_webhook_fail_slack(struct http_req *r, int err, const char *message)
{
    const char *text;
    switch (-err) {
    case ERR_NOT_FOUND:
    case ERR_GONE:
        text = "no_service";
        break;
    case ERR_FORBIDDEN:
        text = "action_prohibited";
        break;
    case ERR_TOO_MANY_REQUESTS:
        set_retry_after(r, message);
        text = "rate_limited";
        break;
    case ERR_PAYLOAD_TOO_LARGE:
        text = "request_too_large";
        break;
    case ERR_METHOD_NOT_ALLOWED:
        text = "invalid_method";
        break;
    case ERR_INTERNAL:
    case ERR_UNAVAILABLE:
    case ERR_DB_UNAVAILABLE:
    case ERR_STORAGE_FULL:
        text = "rollup_error";
        break;
    default:
        text = message && !strcmp(message, "no_text") ? "no_text" : "invalid_payload";
    }
    reply_text(r, err_status(err), text);
}

void api_webhook_fail_discord(struct http_req *r, int err, const char *message)
{
    json_t *body;
    switch (-err) {
    case ERR_NOT_FOUND:
    case ERR_GONE:
        body = json_pack("{s:s, s:i}", "message", "Unknown Webhook", "code", 10015);
        break;
    case ERR_FORBIDDEN:
        body = json_pack("{s:s, s:i}", "message", "Missing Permissions: this webhook is suspended",
                         "code", 50013);
        break;
    case ERR_TOO_MANY_REQUESTS:
        set_retry_after(r, message);
        body = json_pack("{s:s, s:f, s:b}", "message", "You are being rate limited.", "retry_after",
                         message ? strtod(message, NULL) : 1.0, "global", 0);
        break;
    case ERR_PAYLOAD_TOO_LARGE:
        body = json_pack("{s:s, s:i}", "message", "Request entity too large", "code", 40005);
        break;
    case ERR_METHOD_NOT_ALLOWED:
        body = json_pack("{s:s, s:i}", "message", "405: Method Not Allowed", "code", 0);
        break;
    default:
        if (message && !strcmp(message, "Cannot send an empty message"))
            body = json_pack("{s:s, s:i}", "message", message, "code", 50006);
        else
            body = json_pack("{s:s, s:i}", "message", message ? message : err_message(err), "code",
                             err_status(err) >= 500 ? 0 : 50035);
    }
    http_reply_json(r, err_status(err), body);
}

/* Is the body JSON (by Content-Type)? Slack also sends forms with payload=. */
static bool is_json(const char *ct)
{
    if (!ct)
        return true;
    size_t n = strcspn(ct, "; ");
    return (n == 16 && !strncasecmp(ct, "application/json", 16)) ||
           (n > 5 && !strncasecmp(ct + n - 5, "+json", 5)) ||
           (n == 10 && !strncasecmp(ct, "text/plain", 10));
}

static bool is_form(const char *ct)
{
    return ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33);
}

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The url-decoded value of `payload=` in a form body (caller frees), or NULL. */
static char *form_payload(const char *body, size_t len)
{
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop - p > 8 && !memcmp(p, "payload=", 8)) {
            char *out = xmalloc((size_t)(stop - p));
            size_t n = 0;
            for (const char *q = p + 8; q < stop; q++) {
                if (*q == '+')
                    out[n++] = ' ';
                else if (*q == '%' && q + 2 < stop && hex(q[1]) >= 0 && hex(q[2]) >= 0) {
                    out[n++] = (char)(hex(q[1]) * 16 + hex(q[2]));
                    q += 2;
                } else
                    out[n++] = *q;
            }
            out[n] = '\0';
            return out;
        }
        p = stop + 1;
    }
    return NULL;
}

/* A refused request of a known connector: logged, then answered in the route's style. */
static int refuse(struct http_req *r, int64_t connector, const char *dialect, int err,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refuse(struct http_req *r, int64_t connector, const char *dialect, int err,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error_message, sizeof r->error_message, fmt, ap);
    va_end(ap);
    core_delivery_log(api_of(r)->core, connector, dialect, err_status(err), "refused",
                      r->error_message, r->body.len, r->body.len ? r->body.data : NULL);
    return err;
}

static const char *success_reply(int style)
{
    return style == STYLE_TEAMS ? "1" : style == STYLE_SLACK ? "ok" : "";
}

static void webhook_answer(struct http_req *r)
{
    struct api_req *a = api_req(r);
    if (a->style == STYLE_SERVICE) {
        json_t *m = json_pack("{s:b, s:I}", "ok", 1, "message_id", (json_int_t)a->w.id);
        if (a->w.root_id)
            json_object_set_new(m, "thread", json_integer(a->w.root_id));
        http_reply_json(r, 200, m);
        return;
    }
    if (a->w.replayed && a->style != STYLE_DISCORD) {
        reply_text(r, a->w.replay_status, a->w.replay_body);
        return;
    }
    if (a->style == STYLE_DISCORD) {
        if (!a->wait) {
            http_reply_empty(r, 204);
            return;
        }
        json_t *m = a->w.result ? json_incref(a->w.result) : NULL;
        if (!m) /* a replay: the message the first request made */
            m = json_pack("{s:I}", "id", (json_int_t)a->w.id);
        http_reply_json(r, 200, m);
        return;
    }
    reply_text(r, 200, success_reply(a->style));
}

static const char *header_of(void *ctx, const char *name)
{
    return http_header(ctx, name);
}

/* The URL this request was sent to, as the service was given it (Trello signs it). */
static void callback_url(struct http_req *r, char *out, size_t len)
{
    char base[256];
    api_base_url(r, base, sizeof base);
    snprintf(out, len, "%s%s", base, r->url);
}

/* A request to a service connector (GitHub, GitLab, ...) that posted nothing: 200 and why. */
static int ignored(struct http_req *r, int64_t id, const char *dialect, const char *reason)
{
    core_delivery_log(api_of(r)->core, id, dialect, 200, "ignored", reason, r->body.len,
                      r->body.len ? r->body.data : NULL);
    return http_reply_json(r, 200, json_pack("{s:b, s:s}", "ok", 1, "ignored", reason));
}

static int webhook_post(struct http_req *r, int style)
{
    struct api *api = api_of(r);
    struct api_req *a = api_req(r);
    int64_t id;
    struct store_connector_auth conn;
    if (!parse_id(http_param(r, 0), &id))
        return -ERR_NOT_FOUND;
    int rc = core_webhook_check(api->core, id, http_param(r, 1), &conn);
    if (rc == -ERR_NOT_FOUND || rc == -ERR_DB_UNAVAILABLE || rc == -ERR_INTERNAL)
        return rc; /* nothing to log against: it may not exist, or the database is away */
    bool service = strcmp(conn.type, "incoming_webhook") != 0;
    if (service && style != STYLE_TEAMS)
        return -ERR_NOT_FOUND; /* the /slack and /discord forms are the Incoming Webhook's */
    a->style = service ? STYLE_SERVICE : style;
    const char *dialect = service                  ? conn.type
                          : style == STYLE_SLACK   ? "slack"
                          : style == STYLE_DISCORD ? "discord"
                                                   : NULL;
    if (rc == -ERR_FORBIDDEN)
        return refuse(r, id, dialect, rc, "%s", conn.reason);
    if (rc)
        return refuse(r, id, dialect, rc, "this webhook was removed");
    if (!service && r->body.len > api->max_hook_body)
        return refuse(r, id, dialect, -ERR_PAYLOAD_TOO_LARGE, "the body is larger than %zu bytes",
                      api->max_hook_body);
    unsigned wait = core_webhook_admit(api->core, id);
    if (wait)
        return refuse(r, id, dialect, -ERR_TOO_MANY_REQUESTS, "%u", wait);

    const char *ct = http_header(r, "Content-Type");
    char *form = NULL;
    const char *text = r->body.data ? r->body.data : "";
    size_t len = r->body.len;
    if (is_form(ct) && style != STYLE_DISCORD) {
        form = form_payload(text, len);
        if (!form)
            return refuse(r, id, dialect, -ERR_BAD_REQUEST, "a form body needs a payload= field");
        text = form;
        len = strlen(form);
    } else if (!is_json(ct)) {
        return refuse(r, id, dialect, -ERR_UNSUPPORTED_MEDIA_TYPE,
                      "Send the payload as application/json.");
    }
    if (!len) {
        free(form);
        return refuse(r, id, dialect, -ERR_BAD_REQUEST, "The payload is empty.");
    }
    char msg[160];
    json_t *payload = json_parse_object(text, len, WEBHOOK_MAX_DEPTH, &rc, msg);
    free(form);
    if (!payload)
        return refuse(r, id, dialect, rc, "%s", msg);
    char url[600];
    callback_url(r, url, sizeof url);
    struct connector_request req = {
        .payload = payload,
        .forced = style == STYLE_SLACK     ? CARD_SLACK
                  : style == STYLE_DISCORD ? CARD_DISCORD
                                           : CARD_AUTO,
        .header = header_of,
        .header_ctx = r,
        .body = r->body.data ? r->body.data : "",
        .body_len = r->body.len,
        .callback_url = url,
    };
    rc = core_webhook_translate(api->core, &conn, &req, &a->res, msg);
    json_decref(payload);
    if (rc)
        return refuse(r, id, dialect, rc, "%s", msg);
    if (a->res.outcome == CONNECTOR_IGNORED)
        return ignored(r, id, dialect, a->res.reason);
    if (!service)
        dialect = card_dialect_name(a->res.card.dialect);

    const char *key = http_header(r, "Idempotency-Key");
    const struct connector_type *type = connectors_find(conn.type);
    if (!key && type && type->delivery_header) /* a redelivery posts nothing twice */
        key = http_header(r, type->delivery_header);
    if (key && (!*key || strlen(key) > CORE_IDEMPOTENCY_KEY_MAX))
        return refuse(r, id, dialect, -ERR_BAD_REQUEST,
                      "Idempotency-Key must have 1 to %d "
                      "characters",
                      CORE_IDEMPOTENCY_KEY_MAX);
    char image[128];
    snprintf(image, sizeof image, "/api/v1/images/%s", conn.image_hash);
    card_set_sender(&a->res.card, conn.name, conn.image_hash[0] ? image : NULL);
    a->card_json = json_dump_compact(a->res.card.json);
    const char *q = http_query(r, "wait");
    a->wait = q && (!strcmp(q, "true") || !strcmp(q, "1"));
    core_webhook_post(api->core, id, &a->res, a->card_json, dialect, r->body.len,
                      r->body.len ? r->body.data : NULL, key, service ? "" : success_reply(style),
                      &a->w);
    a->w.flag = a->wait && style == STYLE_DISCORD; /* the answer carries the message */
    return api_commit(r, webhook_answer);
}

int api_webhook_teams(struct http_req *r)
{
    return webhook_post(r, STYLE_TEAMS);
}

int api_webhook_slack(struct http_req *r)
{
    return webhook_post(r, STYLE_SLACK);
}

int api_webhook_discord(struct http_req *r)
{
    return webhook_post(r, STYLE_DISCORD);
}

int api_webhook_get(struct http_req *r)
{
    /* HEAD on a live URL answers 200: Trello checks a callback URL so before it creates its
     * webhook, and uptime checkers do the same */
    struct store_connector_auth conn;
    int64_t id;
    if (!strcmp(r->method, "HEAD") && parse_id(http_param(r, 0), &id) &&
        !core_webhook_check(api_of(r)->core, id, http_param(r, 1), &conn))
        return http_reply_empty(r, 200);
    http_add_header(r, "Allow", "HEAD, POST");
    return -ERR_METHOD_NOT_ALLOWED;
}
