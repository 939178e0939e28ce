/* golden_test.c: every connector type's translator against reviewed fixtures (src/connectors/).
 * An input tests/fixtures/connectors/<type>/<name>.json is the body a service sends; beside it:
 *   <name>.headers        optional: the request headers, one "Name: value" per line (e.g.
 *                         "X-GitHub-Event: push");
 *   <name>.settings.json  optional: the connector's settings (defaults filled in as on Save);
 *   <name>.result.json    expected: {"outcome","event","branch","thread_key","update_root",
 *                         "reason","wanted","card"} pretty-printed with sorted keys ("wanted"
 *                         is the settings' verdict, "card" the canonical card when posted);
 *   <name>.txt            expected for a posted card: its fallback text;
 *   <name>.error.txt      instead of both, for a refused body: "<card_error number> <message>".
 * One cmocka test per fixture. Usage: golden_test <fixtures dir>; SWITCHBOARD_UPDATE_GOLDEN as in
 * golden.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "connectors/connectors.h"
#include "golden.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct headers {
    char *text; /* the .headers file, or NULL */
};

static const char *header(void *ctx, const char *name)
{
    struct headers *h = ctx;
    if (!h->text)
        return NULL;
    size_t n = strlen(name);
    /* lines "Name: value"; values are returned up to the end of their line in a static copy */
    static char value[4096];
    for (const char *line = h->text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > n && line[n] == ':' && !strncasecmp(line, name, n)) {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)(len - (size_t)(v - line)), v);
            return value;
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

static void golden(void **state)
{
    const struct fixture *fx = *state;
    const struct connector_type *t = connectors_find(fx->group);
    if (!t)
        fail_msg("%s: no connector type '%s'", fx->name, fx->group);
    char *path = golden_path(fx->base, ".json");
    size_t len;
    char *body = golden_slurp(path, &len);
    free(path);
    assert_non_null(body);
    int err = 0;
    char msg[160] = "";
    json_t *payload = json_parse_object(body, len, 64, &err, msg);
    if (!payload)
        fail_msg("%s: the input does not parse: %s", fx->name, msg);
    path = golden_path(fx->base, ".headers");
    struct headers h = {golden_slurp(path, NULL)};
    free(path);
    path = golden_path(fx->base, ".settings.json");
    char *settings_text = golden_slurp(path, NULL);
    free(path);
    json_t *given = settings_text ? json_loads(settings_text, 0, NULL) : NULL;
    free(settings_text);
    json_t *settings = connectors_settings_check(t, given, NULL, msg);
    if (!settings)
        fail_msg("%s: the settings are refused: %s", fx->name, msg);
    json_decref(given);

    struct connector_request req = {
        .payload = payload,
        .forced = CARD_AUTO,
        .limits = &card_default_limits,
        .header = header,
        .header_ctx = &h,
        .body = body,
        .body_len = len,
        .settings = settings,
        .secret = "It's a Secret to Everybody",
        .callback_url = "https://switchboard.example/webhook/1/secret",
    };
    struct connector_result r;
    memset(&r, 0, sizeof r);
    int rc = t->translate(&req, &r, msg);
    bool update = golden_is_update(fx), expect_error = golden_has(fx, ".error.txt"), ok = true;
    if (rc) {
        assert_null(r.card.json);
        char line[200];
        snprintf(line, sizeof line, "%d %s", rc, msg);
        if (!update && !expect_error) {
            print_error("%s: refused (%s), expected a result\n", fx->name, line);
            ok = false;
        } else {
            ok = golden_expect(fx, ".error.txt", line);
        }
        if (update) {
            golden_remove(fx, ".result.json");
            golden_remove(fx, ".txt");
        }
    } else {
        char reason[160] = "";
        bool wanted = connectors_wanted(t, settings, &r, reason);
        json_t *res =
            json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:b}", "outcome",
                      r.outcome == CONNECTOR_POST ? "post" : "ignored", "event", r.event, "branch",
                      r.branch, "thread_key", r.thread_key, "update_root", r.update_root, "reason",
                      r.outcome == CONNECTOR_IGNORED ? r.reason : reason, "wanted", wanted);
        if (r.outcome == CONNECTOR_POST) {
            assert_non_null(r.card.json);
            json_t *env = json_object_get(r.card.json, "envelope");
            /* a service's cards name the service; the Incoming Webhook's name their dialect */
            if (strcmp(t->id, "incoming_webhook") &&
                strcmp(json_string_value(json_object_get(env, "dialect")), t->id)) {
                print_error("%s: the envelope's dialect is not '%s'\n", fx->name, t->id);
                ok = false;
            }
            json_object_set(res, "card", r.card.json);
        }
        char *dump = json_dumps(res, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!update && expect_error) {
            print_error("%s: accepted, expected a refusal:\n%s\n", fx->name, dump);
            ok = false;
        } else {
            ok = golden_expect(fx, ".result.json", dump) && ok;
            if (r.outcome == CONNECTOR_POST)
                ok = golden_expect(fx, ".txt", r.card.fallback) && ok;
            else if (update)
                golden_remove(fx, ".txt");
        }
        if (update)
            golden_remove(fx, ".error.txt");
        free(dump);
        json_decref(res);
        card_release(&r.card);
    }
    json_decref(settings);
    json_decref(payload);
    free(h.text);
    free(body);
    assert_true(ok);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    static const char *const skip[] = {".result.json", ".settings.json", ".card.json", NULL};
    return golden_run("connectors/golden", argv[1], skip, golden);
}
