/* conntest.c: the connector unit tests' shared requests and contract checks (conntest.h). */
#include "conntest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct connector_type *ct_type(const char *id)
{
    const struct connector_type *t = connectors_find(id);
    if (!t)
        fail_msg("no connector type '%s'", id);
    return t;
}

/* settings_json parsed (NULL for NULL); fails the test when it is not JSON. */
static json_t *parse_settings(const char *settings_json)
{
    json_t *given = settings_json ? json_loads(settings_json, 0, NULL) : NULL;
    if (settings_json && !given)
        fail_msg("settings %s: not JSON", settings_json);
    return given;
}

json_t *ct_settings(const char *type, const char *settings_json)
{
    json_t *given = parse_settings(settings_json);
    char msg[160] = "";
    json_t *settings = connectors_settings_check(ct_type(type), given, NULL, msg);
    if (!settings)
        fail_msg("settings %s refused: %s", settings_json ? settings_json : "(defaults)", msg);
    json_decref(given);
    return settings;
}

void ct_settings_refused(const char *type, const char *settings_json)
{
    json_t *given = parse_settings(settings_json);
    char msg[160] = "";
    json_t *settings = connectors_settings_check(ct_type(type), given, NULL, msg);
    if (settings || !msg[0])
        fail_msg("settings %s were accepted", settings_json ? settings_json : "(defaults)");
    json_decref(given);
}

const char *ct_header(void *ctx, const char *name)
{
    const char *const *h = ctx;
    for (; h && h[0]; h += 2)
        if (!strcasecmp(h[0], name))
            return h[1];
    return NULL;
}

struct connector_request ct_request(const char *const *headers, const char *body,
                                    const char *secret)
{
    struct connector_request req = {
        .header = ct_header,
        .header_ctx = (void *)headers,
        .body = body ? body : "",
        .body_len = body ? strlen(body) : 0,
        .secret = secret,
    };
    return req;
}

int ct_verify_request(const char *type, const struct connector_request *req, char msg[160])
{
    const struct connector_type *t = ct_type(type);
    assert_non_null(t->verify);
    memset(msg, 'X', 160); /* a success, too, leaves a (empty) message */
    int rc = t->verify(req, msg);
    assert_non_null(memchr(msg, '\0', 160));
    if (rc) {
        assert_int_equal(rc, -ERR_UNAUTHORIZED);
        assert_true(msg[0] != '\0'); /* a refusal always says why */
    } else {
        assert_string_equal(msg, "");
    }
    return rc;
}

int ct_verify(const char *type, const char *const *headers, const char *body, const char *secret,
              char msg[160])
{
    struct connector_request req = ct_request(headers, body, secret);
    return ct_verify_request(type, &req, msg);
}

/* Runs translate on req (payload, body and headers set) with the checked settings and the
 * contract checks of ct_translate. */
static int translate_checked(const char *type, struct connector_request *req,
                             const char *settings_json, struct connector_result *out, char msg[160])
{
    const struct connector_type *t = ct_type(type);
    json_t *settings = ct_settings(type, settings_json);
    req->settings = settings;
    if (!req->limits)
        req->limits = &card_default_limits;
    memset(out, 0, sizeof *out);
    memset(msg, 'X', 160);
    msg[0] = '\0';
    int rc = t->translate(req, out, msg);
    json_decref(settings);
    req->settings = NULL;
    if (rc) {
        assert_non_null(memchr(msg, '\0', 160));
        assert_true(msg[0] != '\0'); /* a refusal always says why */
        assert_null(out->card.json);
    } else {
        assert_string_equal(msg, "");
        if (out->outcome == CONNECTOR_POST) {
            assert_non_null(out->card.json);
            assert_non_null(out->card.fallback);
        } else {
            assert_int_equal(out->outcome, CONNECTOR_IGNORED);
            assert_true(out->reason[0] != '\0');
            assert_null(out->card.json);
        }
    }
    assert_non_null(memchr(out->event, '\0', sizeof out->event));
    assert_non_null(memchr(out->branch, '\0', sizeof out->branch));
    assert_non_null(memchr(out->thread_key, '\0', sizeof out->thread_key));
    assert_non_null(memchr(out->reason, '\0', sizeof out->reason));
    return rc;
}

int ct_translate(const char *type, const char *const *headers, const char *body,
                 const char *settings_json, struct connector_result *out, char msg[160])
{
    json_t *payload = body ? json_loads(body, 0, NULL) : NULL;
    if (body && !payload)
        fail_msg("not JSON: %s", body);
    struct connector_request req = ct_request(headers, body, NULL);
    req.payload = payload;
    int rc = translate_checked(type, &req, settings_json, out, msg);
    json_decref(payload);
    return rc;
}

int ct_translate_json(const char *type, json_t *payload, const char *settings_json,
                      const struct card_limits *lim, struct connector_result *out, char msg[160])
{
    char *body = json_dumps(payload, JSON_COMPACT);
    assert_non_null(body);
    struct connector_request req = ct_request(NULL, body, NULL);
    req.payload = payload;
    req.limits = lim;
    int rc = translate_checked(type, &req, settings_json, out, msg);
    free(body);
    json_decref(payload);
    return rc;
}
