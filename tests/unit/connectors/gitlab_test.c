/* gitlab_test.c: the gitlab connector's signature check and what the golden fixtures do not pin
 * down (src/connectors/gitlab.c). */
#include "conntest.h"

#include <string.h>

/* verify with an X-Gitlab-Token header of `given` (NULL: none). */
static int verify(const char *given, const char *secret, char msg[160])
{
    const char *headers[] = {"X-Gitlab-Token", given, NULL};
    return ct_verify("gitlab", headers, "{}", secret, msg);
}

static void token_good(void **state)
{
    (void)state;
    char msg[160];
    assert_int_equal(verify("It's a Secret to Everybody", "It's a Secret to Everybody", msg), 0);
}

static void token_wrong_missing_or_unset(void **state)
{
    (void)state;
    char msg[160];
    const char *secret = "It's a Secret to Everybody";
    assert_int_equal(verify("It's a Secret to everybody", secret, msg), -ERR_UNAUTHORIZED);
    assert_non_null(strstr(msg, "does not match"));
    assert_int_equal(verify("It's a Secret", secret, msg), -ERR_UNAUTHORIZED); /* a prefix */
    assert_int_equal(verify("It's a Secret to Everybody ", secret, msg), -ERR_UNAUTHORIZED);
    assert_int_equal(verify(NULL, secret, msg), -ERR_UNAUTHORIZED);
    assert_non_null(strstr(msg, "missing"));
    assert_int_equal(verify("", secret, msg), -ERR_UNAUTHORIZED);
    /* a connector without a secret accepts no token, not even an empty one */
    assert_int_equal(verify("anything", NULL, msg), -ERR_UNAUTHORIZED);
    assert_int_equal(verify("", "", msg), -ERR_UNAUTHORIZED);
}

static void settings_schema(void **state)
{
    (void)state;
    const struct connector_type *t = ct_type("gitlab");
    assert_int_equal(t->kind, CONNECTOR_PUSH);
    const struct connector_setting *s = connectors_secret_setting(t);
    assert_non_null(s);
    assert_string_equal(s->type, "secret");
    json_t *out = ct_settings("gitlab", NULL);
    assert_int_equal(json_array_size(json_object_get(out, "events")), 0); /* all */
    assert_string_equal(json_string_value(json_object_get(out, "branches")), "");
    json_decref(out);
    json_decref(ct_settings("gitlab",
                            "{\"events\": [\"job\", \"wiki_page\"], \"branches\": \"release/*\"}"));
    assert_non_null(strstr(t->setup, "{url}"));
    assert_non_null(strstr(t->setup, "{secret}"));
}

/* translate with an X-Gitlab-Event header of `event_header` (NULL: none). */
static int translate(const char *event_header, const char *json, struct connector_result *out,
                     char msg[160])
{
    const char *headers[] = {"X-Gitlab-Event", event_header, NULL};
    return ct_translate("gitlab", headers, json, NULL, out, msg);
}

#define PROJECT                                                                                    \
    "\"project\":{\"path_with_namespace\":\"g/p\",\"web_url\":\"https://gl.example/g/p\"}"

/* An MR's own events and the notes on it share one thread; a failed job and its pipeline too,
 * also when the job event (older GitLab) names the project only by its homepage. */
static void related_events_share_threads(void **state)
{
    (void)state;
    struct connector_result a, b;
    char msg[160];
    assert_int_equal(translate("Merge Request Hook",
                               "{\"object_kind\":\"merge_request\"," PROJECT
                               ",\"object_attributes\":{\"iid\":12,\"action\":\"open\"}}",
                               &a, msg),
                     0);
    assert_int_equal(translate("Note Hook",
                               "{\"object_kind\":\"note\"," PROJECT
                               ",\"object_attributes\":{\"note\":\"ok\",\"noteable_type\":"
                               "\"MergeRequest\"},\"merge_request\":{\"iid\":12}}",
                               &b, msg),
                     0);
    assert_string_equal(a.thread_key, "mr:g/p!12");
    assert_string_equal(b.thread_key, a.thread_key);
    card_release(&a.card);
    card_release(&b.card);
    assert_int_equal(translate("Pipeline Hook",
                               "{\"object_kind\":\"pipeline\"," PROJECT
                               ",\"object_attributes\":{\"id\":31,\"status\":\"failed\"}}",
                               &a, msg),
                     0);
    assert_int_equal(translate("Job Hook",
                               "{\"object_kind\":\"build\",\"build_id\":5,\"build_status\":"
                               "\"failed\",\"pipeline_id\":31,\"repository\":{\"homepage\":"
                               "\"https://gl.example/g/p\"}}",
                               &b, msg),
                     0);
    assert_string_equal(a.thread_key, "pipeline:g/p#31");
    assert_true(a.update_root); /* the root shows the pipeline's latest outcome */
    assert_string_equal(b.thread_key, a.thread_key);
    assert_false(b.update_root);
    card_release(&a.card);
    card_release(&b.card);
}

/* The body's object_kind decides; the header is used only when there is none. */
static void object_kind_wins_over_header(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("Push Hook",
                               "{\"object_kind\":\"issue\"," PROJECT
                               ",\"object_attributes\":{\"iid\":4,\"action\":\"close\"}}",
                               &r, msg),
                     0);
    assert_string_equal(r.event, "issue");
    card_release(&r.card);
    assert_int_equal(translate("Tag Push Hook", "{\"ref\":\"refs/tags/v1\"," PROJECT "}", &r, msg),
                     0);
    assert_string_equal(r.event, "tag_push");
    card_release(&r.card);
    assert_int_equal(translate(NULL, "{\"ref\":\"refs/tags/v1\"," PROJECT "}", &r, msg),
                     CARD_ERR_INVALID);
    assert_non_null(strstr(msg, "object_kind"));
}

/* At most 10 commits are listed, then how many more there are. */
static void long_push_lists_ten_commits(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_printf(&b, "{\"object_kind\":\"push\",\"ref\":\"refs/heads/main\",\"user_name\":\"A\","
                   "\"total_commits_count\":25," PROJECT ",\"commits\":[");
    for (int i = 0; i < 20; i++)
        buf_printf(&b, "%s{\"id\":\"%040d\",\"message\":\"change %d\"}", i ? "," : "", i, i);
    buf_printf(&b, "]}");
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("Push Hook", b.data, &r, msg), 0);
    assert_non_null(strstr(r.card.fallback, "**A** pushed 25 commits to [main]"));
    assert_non_null(strstr(r.card.fallback, "change 9\n- … and 15 more"));
    assert_null(strstr(r.card.fallback, "change 10"));
    assert_string_equal(r.branch, "main");
    card_release(&r.card);
    buf_release(&b);
}

/* A branch name longer than the result's field is cut on a character boundary. */
static void long_branch_stays_utf8(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_printf(&b, "{\"object_kind\":\"push\",\"ref\":\"refs/heads/x");
    for (int i = 0; i < 200; i++)
        buf_printf(&b, "é");
    buf_printf(&b, "\",\"after\":\"0000000000000000000000000000000000000000\"," PROJECT "}");
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("Push Hook", b.data, &r, msg), 0);
    size_t len = strlen(r.branch);
    assert_true(len < sizeof r.branch);
    assert_int_equal(len % 2, 1); /* "x" and whole two-byte characters */
    json_t *valid = json_string(r.branch);
    assert_non_null(valid); /* jansson refuses invalid UTF-8 */
    json_decref(valid);
    card_release(&r.card);
    buf_release(&b);
}

/* Payload text never becomes markdown: a title's link and emphasis are escaped, and a URL with
 * parentheses and blanks stays one link destination. */
static void payload_text_is_escaped(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("Issue Hook",
                               "{\"object_kind\":\"issue\",\"user\":{\"name\":\"<b>x</b>\"},"
                               "\"project\":{\"path_with_namespace\":\"g/p\"},"
                               "\"object_attributes\":{\"iid\":4,\"action\":\"open\",\"title\":"
                               "\"[a](javascript:b) *c*\",\"url\":\"https://gl.example/a b)c\"}}",
                               &r, msg),
                     0);
    assert_non_null(strstr(r.card.fallback, "**\\<b\\>x\\</b\\>** opened issue "
                                            "[\\#4: \\[a\\](javascript:b) \\*c\\*]"
                                            "(https://gl.example/a%20b%29c) in g/p"));
    card_release(&r.card);
}

static void finished_states_only(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("Pipeline Hook",
                               "{\"object_kind\":\"pipeline\"," PROJECT
                               ",\"object_attributes\":{\"id\":31,\"status\":\"pending\"}}",
                               &r, msg),
                     0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
    assert_string_equal(r.event, "pipeline"); /* the delivery log names it */
    assert_int_equal(translate("Job Hook",
                               "{\"object_kind\":\"build\",\"build_id\":5,\"build_name\":\"t\","
                               "\"build_status\":\"running\"," PROJECT "}",
                               &r, msg),
                     0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
    assert_non_null(strstr(r.reason, "only failed jobs"));
}

/* A header or a name that is not printable text never makes a reason invalid UTF-8 (fuzzing
 * found the first: crash-2b359e0a in the corpus). */
static void reasons_stay_utf8(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("\x8c", "{}", &r, msg), 0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
    json_t *valid = json_string(r.reason);
    assert_non_null(valid);
    json_decref(valid);
    /* "job '%.60s' ...": 59 bytes, then a character of two */
    assert_int_equal(
        translate("Job Hook",
                  "{\"object_kind\":\"build\",\"build_id\":5,\"build_status\":"
                  "\"running\",\"build_name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaaaaaaaa\xc3\xa9\"," PROJECT "}",
                  &r, msg),
        0);
    valid = json_string(r.reason);
    assert_non_null(valid);
    json_decref(valid);
    assert_non_null(strstr(r.reason, "aaaa' is running"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_good),
        cmocka_unit_test(token_wrong_missing_or_unset),
        cmocka_unit_test(settings_schema),
        cmocka_unit_test(related_events_share_threads),
        cmocka_unit_test(object_kind_wins_over_header),
        cmocka_unit_test(long_push_lists_ten_commits),
        cmocka_unit_test(long_branch_stays_utf8),
        cmocka_unit_test(payload_text_is_escaped),
        cmocka_unit_test(finished_states_only),
        cmocka_unit_test(reasons_stay_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
