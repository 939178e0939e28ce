/* grafana_test.c: what the golden fixtures do not pin down for the Grafana connector
 * (src/connectors/grafana.c): thread keys of unified (per alert group) and legacy (per rule)
 * notifications, the root card replaced only when resolved/ok, legacy states as events, no-data
 * alerts, image addresses filtered, refused bodies. */
#include "conntest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run {
    int rc;
    char msg[160];
    struct connector_result r;
};

/* Translates payload (stolen) with the type's default settings. */
static void translate(json_t *payload, struct run *run)
{
    run->rc = ct_translate_json("grafana", payload, NULL, NULL, &run->r, run->msg);
}

/* A legacy notification of rule 7 "CPU" in that state. */
static json_t *legacy(const char *state)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:[{s:f, s:s}]}", "state", state, "ruleId", 7,
                     "ruleName", "CPU", "ruleUrl", "https://grafana.example/d/x?viewPanel=2",
                     "message", "cpu high", "evalMatches", "value", 97.5, "metric", "cpu");
}

/* A unified notification of one alert. */
static json_t *unified(const char *status, const char *alertname, const char *image)
{
    json_t *a = json_pack("{s:s, s:{s:s, s:s}, s:{}, s:s, s:s, s:s}", "status", status, "labels",
                          "alertname", alertname, "rulename", "Queue depth", "annotations",
                          "startsAt", "2024-05-02T10:00:00Z", "endsAt", "0001-01-01T00:00:00Z",
                          "silenceURL", "https://grafana.example/alerting/silence/new?x=1");
    if (image)
        json_object_set_new(a, "imageURL", json_string(image));
    return json_pack("{s:s, s:s, s:i, s:s, s:[o], s:{}, s:{}, s:s}", "version", "1", "status",
                     status, "orgId", 1, "groupKey", "{}/{}:{alertname=\"x\"}", "alerts", a,
                     "commonLabels", "commonAnnotations", "externalURL",
                     "https://grafana.example/");
}

static const char *theme(const struct run *run)
{
    return json_string_value(
        json_object_get(json_object_get(run->r.card.json, "envelope"), "themeColor"));
}

static void type_is_in_the_catalog_without_signature(void **state)
{
    (void)state;
    const struct connector_type *t = ct_type("grafana");
    assert_non_null(t);
    assert_int_equal(t->kind, CONNECTOR_PUSH);
    assert_null(t->verify);
    assert_non_null(strstr(t->setup, "Contact points"));
    assert_non_null(strstr(t->setup, "Webhook"));
    assert_non_null(strstr(t->setup, "{url}"));
}

static void legacy_states_are_events_and_share_the_rule_thread(void **state)
{
    (void)state;
    static const struct {
        const char *state, *event, *colour;
        bool update_root;
    } cases[] = {
        {"alerting", "firing", "#D13438", false}, {"ok", "resolved", "#2DC72D", true},
        {"no_data", "no_data", "#888888", false}, {"pending", "pending", "#FFB900", false},
        {"paused", "paused", "#888888", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run run;
        translate(legacy(cases[i].state), &run);
        assert_int_equal(run.rc, 0);
        assert_int_equal(run.r.outcome, CONNECTOR_POST);
        assert_string_equal(run.r.event, cases[i].event);
        assert_string_equal(run.r.thread_key, "rule:7");
        assert_string_equal(theme(&run), cases[i].colour);
        if (run.r.update_root != cases[i].update_root)
            fail_msg("state %s: update_root %d", cases[i].state, run.r.update_root);
        card_release(&run.r.card);
    }
    /* an unknown state is acknowledged, not refused */
    struct run run;
    translate(legacy("exploded"), &run);
    assert_int_equal(run.rc, 0);
    assert_int_equal(run.r.outcome, CONNECTOR_IGNORED);
    assert_non_null(strstr(run.r.reason, "exploded"));
}

static void legacy_thread_by_rule_name_without_id(void **state)
{
    (void)state;
    json_t *p = legacy("alerting");
    json_object_set_new(p, "ruleId", json_integer(0)); /* Grafana's test notification */
    struct run run;
    translate(p, &run);
    assert_string_equal(run.r.thread_key, "rule:CPU");
    card_release(&run.r.card);
    char name[300];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    p = legacy("alerting");
    json_object_del(p, "ruleId");
    json_object_set_new(p, "ruleName", json_string(name));
    translate(p, &run);
    assert_int_equal(strlen(run.r.thread_key), strlen("rule:") + 64);
    card_release(&run.r.card);
}

static void unified_group_thread_and_resolution(void **state)
{
    (void)state;
    struct run fire, resolve;
    translate(unified("firing", "HighCPU", NULL), &fire);
    translate(unified("resolved", "HighCPU", NULL), &resolve);
    assert_int_equal(fire.rc, 0);
    assert_int_equal(resolve.rc, 0);
    assert_string_equal(fire.r.thread_key, "group:{}/{}:{alertname=\"x\"}");
    assert_string_equal(fire.r.thread_key, resolve.r.thread_key);
    assert_false(fire.r.update_root);
    assert_true(resolve.r.update_root);
    assert_string_equal(fire.r.event, "firing");
    assert_string_equal(resolve.r.event, "resolved");
    /* Grafana's silence link while firing, none once resolved */
    assert_non_null(strstr(fire.r.card.fallback, "Silence <https://grafana.example/alerting/"));
    assert_null(strstr(resolve.r.card.fallback, "Silence"));
    card_release(&fire.r.card);
    card_release(&resolve.r.card);
}

static void unified_silence_link_without_grafanas_own(void **state)
{
    (void)state;
    json_t *p = unified("firing", "HighCPU", NULL);
    json_object_del(json_array_get(json_object_get(p, "alerts"), 0), "silenceURL");
    json_object_set_new(p, "commonLabels", json_pack("{s:s}", "alertname", "High CPU"));
    struct run run;
    translate(p, &run);
    assert_int_equal(run.rc, 0);
    assert_non_null(strstr(run.r.card.fallback,
                           "Silence <https://grafana.example/alerting/silence/new?"
                           "alertmanager=grafana&matcher=alertname%3DHigh%20CPU>"));
    card_release(&run.r.card);
}

static void unified_no_data_is_its_own_event(void **state)
{
    (void)state;
    struct run run;
    translate(unified("firing", "DatasourceNoData", NULL), &run);
    assert_int_equal(run.rc, 0);
    assert_string_equal(run.r.event, "no_data");
    assert_string_equal(theme(&run), "#888888");
    assert_non_null(strstr(run.r.card.fallback, "NO DATA: Queue depth"));
    card_release(&run.r.card);
    translate(unified("resolved", "DatasourceNoData", NULL), &run);
    assert_string_equal(run.r.event, "resolved");
    card_release(&run.r.card);
}

static char *content_dump(const struct run *run)
{
    return json_dumps(json_object_get(run->r.card.json, "content"), 0);
}

static void image_addresses_are_filtered(void **state)
{
    (void)state;
    struct run run;
    translate(unified("firing", "HighCPU", "https://grafana.example/img/a.png"), &run);
    char *dump = content_dump(&run);
    assert_non_null(strstr(dump, "\"url\": \"https://grafana.example/img/a.png\""));
    free(dump);
    card_release(&run.r.card);
    translate(unified("firing", "HighCPU", "javascript:alert(1)"), &run);
    assert_int_equal(run.rc, 0);
    dump = content_dump(&run);
    assert_null(strstr(dump, "javascript:"));
    free(dump);
    assert_non_null(strstr(run.r.card.fallback, "image not shown"));
    card_release(&run.r.card);
}

static void refused_bodies_say_why(void **state)
{
    (void)state;
    struct run run;
    translate(json_pack("{s:s}", "object_kind", "push"), &run);
    assert_int_equal(run.rc, CARD_ERR_INVALID);
    assert_non_null(strstr(run.msg, "Grafana"));
    translate(json_pack("{s:s, s:[]}", "status", "bogus", "alerts"), &run);
    assert_int_equal(run.rc, CARD_ERR_INVALID);
    assert_non_null(strstr(run.msg, "status"));
    translate(json_pack("{s:s}", "ruleName", "x"), &run);
    assert_int_equal(run.rc, CARD_ERR_INVALID);
    assert_non_null(strstr(run.msg, "state"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_is_in_the_catalog_without_signature),
        cmocka_unit_test(legacy_states_are_events_and_share_the_rule_thread),
        cmocka_unit_test(legacy_thread_by_rule_name_without_id),
        cmocka_unit_test(unified_group_thread_and_resolution),
        cmocka_unit_test(unified_silence_link_without_grafanas_own),
        cmocka_unit_test(unified_no_data_is_its_own_event),
        cmocka_unit_test(image_addresses_are_filtered),
        cmocka_unit_test(refused_bodies_say_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
