/* github_test.c: the github connector's signature check and what the golden fixtures do not pin
 * down (src/connectors/github.c): the settings schema, the setup text, refusals, cuts of long
 * payload text, and that every event family the translator names is one the settings offer. */
#include "conntest.h"

#include <stdio.h>
#include <string.h>

/* GitHub's documented example ("Validating webhook deliveries"). */
#define DOC_SECRET "It's a Secret to Everybody"
#define DOC_BODY "Hello, World!"
#define DOC_SIGNATURE "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

/* verify with an X-Hub-Signature-256 header of `signature` (NULL: none). Not ct_verify: GitHub's
 * verify leaves msg as it was on a success (the other types clear it), which ct_verify refuses. */
static int verify_with(const char *secret, const char *body, const char *signature, char msg[160])
{
    const char *headers[] = {"X-Hub-Signature-256", signature, NULL};
    struct connector_request req = ct_request(headers, body, secret);
    memset(msg, 0, 160);
    return ct_type("github")->verify(&req, msg);
}

static void signature_documented_example_passes(void **state)
{
    (void)state;
    char msg[160];
    assert_int_equal(verify_with(DOC_SECRET, DOC_BODY, DOC_SIGNATURE, msg), 0);
    /* hex in capitals is the same signature */
    char upper[80];
    snprintf(upper, sizeof upper, "%s", DOC_SIGNATURE);
    for (char *p = upper + 7; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 32);
    assert_int_equal(verify_with(DOC_SECRET, DOC_BODY, upper, msg), 0);
}

static void signature_mismatch_refused(void **state)
{
    (void)state;
    char msg[160];
    /* one digit changed */
    assert_int_equal(
        verify_with(DOC_SECRET, DOC_BODY,
                    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18", msg),
        -ERR_UNAUTHORIZED);
    assert_string_equal(msg, "X-Hub-Signature-256 does not match the secret");
    /* another secret, another body */
    assert_int_equal(verify_with("It's a secret to everybody", DOC_BODY, DOC_SIGNATURE, msg),
                     -ERR_UNAUTHORIZED);
    assert_int_equal(verify_with(DOC_SECRET, "Hello, World?", DOC_SIGNATURE, msg),
                     -ERR_UNAUTHORIZED);
    assert_int_equal(verify_with(DOC_SECRET, "", DOC_SIGNATURE, msg), -ERR_UNAUTHORIZED);
}

static void signature_missing_refused(void **state)
{
    (void)state;
    char msg[160];
    assert_int_equal(verify_with(DOC_SECRET, DOC_BODY, NULL, msg), -ERR_UNAUTHORIZED);
    assert_string_equal(msg, "X-Hub-Signature-256 is missing");
    assert_int_equal(verify_with(DOC_SECRET, DOC_BODY, "", msg), -ERR_UNAUTHORIZED);
    assert_string_equal(msg, "X-Hub-Signature-256 is missing");
}

static void signature_of_another_shape_refused(void **state)
{
    (void)state;
    char msg[160];
    static const char *const bad[] = {
        /* GitHub's older SHA-1 header value: not accepted in place of SHA-256 */
        "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59",
        "sha1=",
        "sha256=",
        /* the right digits without their prefix, or behind another */
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "sha512=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        /* one digit short, one too many, blanks around */
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e170",
        " sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17 ",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17,sha256=0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(verify_with(DOC_SECRET, DOC_BODY, bad[i], msg), -ERR_UNAUTHORIZED);
        assert_non_null(strstr(msg, "X-Hub-Signature-256"));
    }
}

static void signature_without_secret_refused(void **state)
{
    (void)state;
    char msg[160], sig[80], hex[65];
    /* even a signature made with an empty key does not pass when there is no secret */
    hmac_sha256_hex("", DOC_BODY, strlen(DOC_BODY), hex);
    snprintf(sig, sizeof sig, "sha256=%s", hex);
    assert_int_equal(verify_with(NULL, DOC_BODY, sig, msg), -ERR_UNAUTHORIZED);
    assert_true(msg[0]);
    assert_int_equal(verify_with("", DOC_BODY, sig, msg), -ERR_UNAUTHORIZED);
    assert_int_equal(verify_with(NULL, DOC_BODY, DOC_SIGNATURE, msg), -ERR_UNAUTHORIZED);
}

/* A form body: the signature covers the bytes received, not the decoded payload. */
static void signature_covers_the_raw_form_body(void **state)
{
    (void)state;
    const char *form = "payload=%7B%22zen%22%3A%22Keep+it+simple.%22%7D";
    const char *json = "{\"zen\":\"Keep it simple.\"}";
    char msg[160], sig[80], hex[65];
    hmac_sha256_hex(DOC_SECRET, form, strlen(form), hex);
    snprintf(sig, sizeof sig, "sha256=%s", hex);
    assert_int_equal(verify_with(DOC_SECRET, form, sig, msg), 0);
    hmac_sha256_hex(DOC_SECRET, json, strlen(json), hex);
    snprintf(sig, sizeof sig, "sha256=%s", hex);
    assert_int_equal(verify_with(DOC_SECRET, form, sig, msg), -ERR_UNAUTHORIZED);
}

static void settings_schema(void **state)
{
    (void)state;
    const struct connector_type *t = ct_type("github");
    assert_non_null(t);
    assert_int_equal(t->kind, CONNECTOR_PUSH);
    const struct connector_setting *secret = connectors_secret_setting(t);
    assert_non_null(secret);
    assert_string_equal(secret->name, "secret");
    assert_string_equal(secret->type, "secret");
    assert_non_null(strstr(secret->help, "X-Hub-Signature-256"));
    assert_non_null(strstr(t->setup, "{url}"));
    assert_non_null(strstr(t->setup, "{secret}"));
    assert_non_null(strstr(t->setup, "application/json"));
    assert_non_null(strstr(t->setup, "Add webhook"));

    json_t *s = ct_settings("github", NULL);
    assert_true(json_is_array(json_object_get(s, "events")));
    assert_int_equal(json_array_size(json_object_get(s, "events")), 0);
    assert_null(json_object_get(s, "secret")); /* never a stored setting */
    json_decref(s);

    json_decref(ct_settings(
        "github", "{\"events\": [\"push\", \"workflow_run\"], \"branches\": \"release/*\"}"));
    /* the ping is always shown, so not an option */
    ct_settings_refused("github", "{\"events\": [\"ping\"]}");
    s = ct_settings("github", "{\"secret\": \"mine\"}"); /* generated by the server, never stored */
    assert_null(json_object_get(s, "secret"));
    json_decref(s);
}

/* Runs the translator on a payload (JSON text, or NULL for none) with an X-GitHub-Event header
 * of `event` (NULL: none) and the default settings. */
static int run(const char *event, const char *json, struct connector_result *r, char msg[160])
{
    const char *headers[] = {"X-GitHub-Event", event, NULL};
    return ct_translate("github", headers, json, NULL, r, msg);
}

static void event_header_missing_refused(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(run(NULL, "{\"zen\":\"x\"}", &r, msg), CARD_ERR_INVALID);
    assert_string_equal(msg, "X-GitHub-Event is missing");
    assert_null(r.card.json);
    assert_int_equal(run("", "{\"zen\":\"x\"}", &r, msg), CARD_ERR_INVALID);
    assert_int_equal(run("ping", NULL, &r, msg), CARD_ERR_INVALID); /* no payload at all */
}

/* Every event family a posted result names is one the "events" setting offers (or "" for the
 * ping), so that the filter can select it. */
static void every_event_is_an_option(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"push", "{\"ref\":\"refs/heads/main\",\"commits\":[]}"},
        {"pull_request", "{\"action\":\"opened\",\"pull_request\":{\"number\":1}}"},
        {"pull_request_review",
         "{\"action\":\"submitted\",\"review\":{},\"pull_request\":{\"number\":1}}"},
        {"pull_request_review_comment",
         "{\"action\":\"created\",\"comment\":{},\"pull_request\":{\"number\":1}}"},
        {"issues", "{\"action\":\"opened\",\"issue\":{\"number\":1}}"},
        {"issue_comment", "{\"action\":\"created\",\"comment\":{},\"issue\":{\"number\":1}}"},
        {"commit_comment", "{\"action\":\"created\",\"comment\":{}}"},
        {"discussion", "{\"action\":\"created\",\"discussion\":{\"number\":1}}"},
        {"discussion_comment",
         "{\"action\":\"created\",\"comment\":{},\"discussion\":{\"number\":1}}"},
        {"release", "{\"action\":\"published\",\"release\":{\"tag_name\":\"v1\"}}"},
        {"workflow_run",
         "{\"action\":\"completed\",\"workflow_run\":{\"id\":1,\"conclusion\":\"success\"}}"},
        {"workflow_job",
         "{\"action\":\"completed\",\"workflow_job\":{\"run_id\":1,\"conclusion\":\"failure\"}}"},
        {"deployment_status", "{\"deployment_status\":{\"state\":\"success\"}}"},
        {"create", "{\"ref\":\"x\",\"ref_type\":\"branch\"}"},
        {"delete", "{\"ref\":\"x\",\"ref_type\":\"tag\"}"},
        {"fork", "{\"forkee\":{}}"},
        {"star", "{\"action\":\"created\"}"},
        {"watch", "{\"action\":\"started\"}"},
        {"public", "{}"},
        {"ping", "{}"},
    };
    const struct connector_type *t = ct_type("github");
    const struct connector_setting *events = NULL;
    for (size_t k = 0; k < t->n_settings; k++)
        if (!strcmp(t->settings[k].type, "events"))
            events = &t->settings[k];
    assert_non_null(events);
    size_t n_options = 0;
    for (const char *const *o = events->options; *o; o++)
        n_options++;
    assert_int_equal(n_options, sizeof cases / sizeof cases[0] - 1); /* all but the ping */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct connector_result r;
        char msg[160];
        int rc = run(cases[i][0], cases[i][1], &r, msg);
        if (rc || r.outcome != CONNECTOR_POST)
            fail_msg("%s: not posted (%d %s %s)", cases[i][0], rc, msg, r.reason);
        bool found = !strcmp(cases[i][0], "ping") && !r.event[0];
        for (const char *const *o = events->options; *o && !found; o++)
            found = !strcmp(*o, r.event) && !strcmp(r.event, cases[i][0]);
        if (!found)
            fail_msg("%s: event '%s' is not an option", cases[i][0], r.event);
        /* with every other family selected, this one is dropped (the ping never is) */
        json_t *others = json_array();
        for (const char *const *o = events->options; *o; o++)
            if (strcmp(*o, cases[i][0]))
                json_array_append_new(others, json_string(*o));
        json_t *settings = json_pack("{s:o}", "events", others);
        char reason[160];
        assert_int_equal(connectors_wanted(t, settings, &r, reason), !strcmp(cases[i][0], "ping"));
        json_decref(settings);
        card_release(&r.card);
    }
}

static void unknown_events_and_actions_ignored(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(run("gollum", "{\"pages\":[]}", &r, msg), 0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
    assert_string_equal(r.reason, "GitHub 'gollum' events are not shown");
    /* a name that is not one of GitHub's is not quoted */
    assert_int_equal(run("PUSH <b>\xC3\xA9", "{}", &r, msg), 0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
    assert_string_equal(r.reason, "GitHub '(unknown)' events are not shown");
    assert_int_equal(
        run("issues", "{\"action\":\"\xE2\x98\x83\",\"issue\":{\"number\":3}}", &r, msg), 0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
    assert_string_equal(r.reason, "GitHub 'issues' events with action '(unknown)' are not shown");
    assert_int_equal(run("pull_request", "{\"pull_request\":{\"number\":3}}", &r, msg), 0);
    assert_string_equal(r.reason, "GitHub 'pull_request' events without an action are not shown");
}

static void missing_object_refused(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(run("issues", "{\"action\":\"opened\",\"issue\":\"7\"}", &r, msg),
                     CARD_ERR_INVALID);
    assert_string_equal(msg, "a GitHub 'issues' event needs 'issue'");
    assert_int_equal(run("push", "{\"ref\":7}", &r, msg), CARD_ERR_INVALID);
    assert_string_equal(msg, "a GitHub 'push' event needs 'ref'");
    assert_null(r.card.json);
}

/* A push of a branch whose name is longer than the result's field: cut whole characters. */
static void long_branch_cut_on_a_character(void **state)
{
    (void)state;
    char name[700] = "";
    for (int i = 0; i < 200; i++)
        strcat(name, "\xC3\xA9"); /* é: 400 bytes */
    char json[1024];
    snprintf(json, sizeof json, "{\"ref\":\"refs/heads/a%s\",\"commits\":[]}", name);
    struct connector_result r;
    char msg[160];
    assert_int_equal(run("push", json, &r, msg), 0);
    assert_int_equal(r.outcome, CONNECTOR_POST);
    size_t n = strlen(r.branch);
    assert_true(n >= sizeof r.branch - 2 && n < sizeof r.branch);
    json_t *valid = json_string(r.branch); /* NULL when not UTF-8 */
    assert_non_null(valid);
    json_decref(valid);
    card_release(&r.card);
}

/* Long titles and bodies are cut; no card is refused for being long. */
static void long_texts_cut(void **state)
{
    (void)state;
    struct buf title, body;
    buf_init(&title, 1 << 20);
    buf_init(&body, 1 << 20);
    for (int i = 0; i < 2000; i++)
        buf_printf(&title, "%s", "[x](javascript:y) ");
    for (int i = 0; i < 3000; i++)
        buf_printf(&body, "line %d *with* markdown\\n", i);
    char *json = xmalloc(title.len + body.len + 200);
    sprintf(json,
            "{\"action\":\"opened\",\"issue\":{\"number\":9,\"title\":\"%s\",\"body\":\"%s\"}}",
            title.data, body.data);
    struct connector_result r;
    char msg[160];
    assert_int_equal(run("issues", json, &r, msg), 0);
    assert_int_equal(r.outcome, CONNECTOR_POST);
    assert_true(strlen(r.card.fallback) < 2500);
    assert_null(strstr(r.card.fallback, "[x](javascript")); /* escaped: text, not links */
    assert_non_null(strstr(r.card.fallback, "\\[x\\](javascript"));
    assert_non_null(strstr(r.card.fallback, "\xE2\x80\xA6")); /* the cut shows */
    card_release(&r.card);
    free(json);
    buf_release(&title);
    buf_release(&body);
}

/* Only http(s) addresses become links; other payload URLs leave their text alone. */
static void only_http_links(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(run("issues",
                         "{\"action\":\"opened\",\"issue\":{\"number\":4,\"title\":\"t\","
                         "\"html_url\":\"javascript:alert(1)\"},\"repository\":{\"full_name\":"
                         "\"o/r\",\"html_url\":\"https://github.com/o/r) [x](javascript:z\"}}",
                         &r, msg),
                     0);
    assert_int_equal(r.outcome, CONNECTOR_POST);
    assert_null(strstr(r.card.fallback, "javascript:alert"));
    assert_non_null(strstr(r.card.fallback, "issue #4: t in "));
    /* the parenthesis inside the repository's address cannot end its link early */
    assert_non_null(strstr(r.card.fallback, "(https://github.com/o/r%29%20[x]%28javascript:z)"));
    assert_string_equal(r.thread_key, "issue:o/r#4");
    card_release(&r.card);
}

/* The branch filter sees a PR's base, a run's head branch, and no branch for tags. */
static void branches_for_the_filter(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(run("push", "{\"ref\":\"refs/tags/v1.0\",\"created\":true}", &r, msg), 0);
    assert_string_equal(r.branch, "");
    card_release(&r.card);
    assert_int_equal(run("pull_request",
                         "{\"action\":\"closed\",\"pull_request\":{\"number\":2,\"merged\":true,"
                         "\"base\":{\"ref\":\"main\"},\"head\":{\"ref\":\"topic\"}},"
                         "\"repository\":{\"full_name\":\"o/r\"}}",
                         &r, msg),
                     0);
    assert_string_equal(r.branch, "main");
    assert_string_equal(r.thread_key, "pr:o/r#2");
    assert_true(r.update_root);
    card_release(&r.card);
    assert_int_equal(
        run("workflow_run",
            "{\"action\":\"completed\",\"workflow_run\":{\"id\":77,\"head_branch\":"
            "\"dev\",\"conclusion\":\"failure\"},\"repository\":{\"full_name\":\"o/r\"}}",
            &r, msg),
        0);
    assert_string_equal(r.branch, "dev");
    assert_string_equal(r.thread_key, "run:o/r#77");
    assert_false(r.update_root);
    card_release(&r.card);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signature_documented_example_passes),
        cmocka_unit_test(signature_mismatch_refused),
        cmocka_unit_test(signature_missing_refused),
        cmocka_unit_test(signature_of_another_shape_refused),
        cmocka_unit_test(signature_without_secret_refused),
        cmocka_unit_test(signature_covers_the_raw_form_body),
        cmocka_unit_test(settings_schema),
        cmocka_unit_test(event_header_missing_refused),
        cmocka_unit_test(every_event_is_an_option),
        cmocka_unit_test(unknown_events_and_actions_ignored),
        cmocka_unit_test(missing_object_refused),
        cmocka_unit_test(long_branch_cut_on_a_character),
        cmocka_unit_test(long_texts_cut),
        cmocka_unit_test(only_http_links),
        cmocka_unit_test(branches_for_the_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
