/* connector_target.c: one connector type's signature check and translator on arbitrary requests
 * (src/connectors/<type>.c). The input's first line is the value every request header has (the
 * event name: X-GitHub-Event, X-Gitlab-Event, ...), the rest is the body. Checks: verify answers
 * 0 or -ERR_UNAUTHORIZED with a message; translate on a JSON body refuses with a card error and
 * a message, or gives a posted card (AdaptiveCard content, a valid UTF-8 fallback equal to the
 * envelope's, the type's id as its dialect) or an ignored result with a reason; result strings
 * are NUL-terminated; the payload is only read. fuzz_conn_<type>.c define CONNECTOR_FUZZ_TYPE
 * and include this file (named so that run.sh does not take it for a target). */
#include "fuzz.h"

#include "connectors/connectors.h"

#include <string.h>

#ifndef CONNECTOR_FUZZ_TYPE
#error "define CONNECTOR_FUZZ_TYPE"
#endif

static char header_value[256];

static const char *header(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return header_value;
}

static bool is_utf8(const char *s)
{
    json_t *j = json_string(s);
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct connector_type *t = connectors_find(CONNECTOR_FUZZ_TYPE);
    FUZZ_CHECK(t != NULL);
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - data) : 0;
    if (hlen >= sizeof header_value)
        hlen = sizeof header_value - 1;
    memcpy(header_value, data, hlen);
    header_value[hlen] = '\0';
    const char *body = nl ? (const char *)nl + 1 : (const char *)data;
    size_t len = nl ? size - (size_t)(nl + 1 - data) : size;

    char msg[160];
    json_t *settings = connectors_settings_check(t, NULL, NULL, msg);
    FUZZ_CHECK(settings != NULL);
    json_error_t jerr;
    json_t *payload = json_loadb(body, len, 0, &jerr);
    struct connector_request req = {
        .payload = payload,
        .forced = CARD_AUTO,
        .limits = &card_default_limits,
        .header = header,
        .body = body,
        .body_len = len,
        .settings = settings,
        .secret = "fuzz secret",
        .callback_url = "https://switchboard.example/webhook/1/x",
    };
    if (t->verify) {
        memset(msg, 'X', sizeof msg);
        int v = t->verify(&req, msg);
        FUZZ_CHECK(v == 0 || v == -ERR_UNAUTHORIZED);
        FUZZ_CHECK(memchr(msg, '\0', sizeof msg) != NULL);
    }
    if (!payload || !json_is_object(payload)) {
        json_decref(payload);
        json_decref(settings);
        return 0;
    }
    json_t *copy = json_deep_copy(payload);
    struct connector_result r;
    memset(&r, 0, sizeof r);
    memset(msg, 'X', sizeof msg);
    int rc = t->translate(&req, &r, msg);
    FUZZ_CHECK(json_equal(payload, copy));
    json_decref(copy);
    if (rc) {
        FUZZ_CHECK(rc == CARD_ERR_EMPTY || rc == CARD_ERR_INVALID || rc == CARD_ERR_LIMIT);
        FUZZ_CHECK(memchr(msg, '\0', sizeof msg) && msg[0] && is_utf8(msg));
        FUZZ_CHECK(r.card.json == NULL);
    } else if (r.outcome == CONNECTOR_POST) {
        json_t *env = json_object_get(r.card.json, "envelope");
        json_t *content = json_object_get(r.card.json, "content");
        FUZZ_CHECK(json_is_object(env) && json_is_object(content));
        FUZZ_CHECK(!strcmp(json_string_value(json_object_get(content, "type")), "AdaptiveCard"));
        FUZZ_CHECK(r.card.fallback && is_utf8(r.card.fallback));
        FUZZ_CHECK(!strcmp(json_string_value(json_object_get(env, "fallback")), r.card.fallback));
        FUZZ_CHECK(!strcmp(json_string_value(json_object_get(env, "dialect")), t->id) ||
                   !strcmp(t->id, "incoming_webhook"));
        char *text = cards_render_text(r.card.json);
        FUZZ_CHECK(text && is_utf8(text));
        free(text);
    } else {
        FUZZ_CHECK(r.outcome == CONNECTOR_IGNORED);
        FUZZ_CHECK(memchr(r.reason, '\0', sizeof r.reason) && r.reason[0] && is_utf8(r.reason));
        FUZZ_CHECK(r.card.json == NULL);
    }
    FUZZ_CHECK(memchr(r.event, '\0', sizeof r.event) && is_utf8(r.event));
    FUZZ_CHECK(memchr(r.branch, '\0', sizeof r.branch) && is_utf8(r.branch));
    FUZZ_CHECK(memchr(r.thread_key, '\0', sizeof r.thread_key) && is_utf8(r.thread_key));
    char reason[160];
    (void)connectors_wanted(t, settings, &r, reason);
    card_release(&r.card);
    json_decref(payload);
    json_decref(settings);
    return 0;
}
