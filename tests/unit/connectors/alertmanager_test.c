/* alertmanager_test.c: what the golden fixtures do not pin down for the Alertmanager connector
 * (src/connectors/alertmanager.c): one thread per alert group across its firing and resolved
 * notifications, long group keys hashed (whole, stably), the root card replaced only when
 * resolved, colours by severity, escaping, card limits, and refused bodies. */
#include "conntest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One alert: {"status", "labels": {alertname, instance, severity}, "annotations": {summary}}. */
static json_t *alert(const char *status, const char *name, const char *instance,
                     const char *severity)
{
    json_t *a = json_pack("{s:s, s:{s:s, s:s}, s:{s:s}, s:s, s:s, s:s}", "status", status, "labels",
                          "alertname", name, "instance", instance, "annotations", "summary",
                          "something is wrong", "startsAt", "2024-05-02T10:00:00Z", "endsAt",
                          "0001-01-01T00:00:00Z", "generatorURL",
                          "http://prometheus:9090/graph?g0.expr=up");
    if (severity)
        json_object_set_new(json_object_get(a, "labels"), "severity", json_string(severity));
    return a;
}

/* A version 4 notification of group_key with the alerts (stolen). */
static json_t *notification(const char *status, const char *group_key, json_t *alerts)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:{}, s:{}, s:{}, s:s}", "version", "4", "status",
                     status, "receiver", "switchboard", "groupKey", group_key, "alerts", alerts,
                     "groupLabels", "commonLabels", "commonAnnotations", "externalURL",
                     "http://alertmanager:9093");
}

/* A notification of group "{}:{}" with the one alert a (stolen). */
static json_t *group_of(const char *status, json_t *a)
{
    return notification(status, "{}:{}", json_pack("[o]", a));
}

struct run {
    int rc;
    char msg[160];
    struct connector_result r;
};

/* Translates payload (stolen) with the type's default settings, or `settings` when given. */
static void translate(const char *type, json_t *payload, const char *settings_json,
                      const struct card_limits *lim, struct run *run)
{
    run->rc = ct_translate_json(type, payload, settings_json, lim, &run->r, run->msg);
}

static const char *theme(const struct run *run)
{
    return json_string_value(
        json_object_get(json_object_get(run->r.card.json, "envelope"), "themeColor"));
}

static const char *title(const struct run *run)
{
    json_t *body = json_object_get(json_object_get(run->r.card.json, "content"), "body");
    return json_string_value(json_object_get(json_array_get(body, 0), "text"));
}

static void type_is_in_the_catalog_without_signature(void **state)
{
    (void)state;
    const struct connector_type *t = ct_type("alertmanager");
    assert_non_null(t);
    assert_int_equal(t->kind, CONNECTOR_PUSH);
    assert_null(t->verify); /* the URL secret authenticates */
    assert_null(connectors_secret_setting(t));
    assert_non_null(strstr(t->setup, "webhook_configs"));
    assert_non_null(strstr(t->setup, "'{url}'"));
    assert_non_null(strstr(t->setup, "send_resolved: true"));
    json_t *s = ct_settings("alertmanager", NULL);
    assert_int_equal(json_array_size(json_object_get(s, "labels")), 3);
    assert_int_equal(json_array_size(json_object_get(s, "events")), 0);
    json_decref(s);
    ct_settings_refused("alertmanager", "{\"events\": [\"pending\"]}");
}

static void firing_and_resolved_share_the_group_thread(void **state)
{
    (void)state;
    const char *key = "{}/{severity=\"critical\"}:{alertname=\"HighCPU\"}";
    struct run fire, resolve, other;
    translate("alertmanager",
              notification("firing", key, json_pack("[o]", alert("firing", "HighCPU", "h3", NULL))),
              NULL, NULL, &fire);
    translate(
        "alertmanager",
        notification("resolved", key, json_pack("[o]", alert("resolved", "HighCPU", "h3", NULL))),
        NULL, NULL, &resolve);
    translate("alertmanager",
              notification("firing", "{}:{alertname=\"DiskFull\"}",
                           json_pack("[o]", alert("firing", "DiskFull", "h3", NULL))),
              NULL, NULL, &other);
    assert_int_equal(fire.rc, 0);
    assert_int_equal(resolve.rc, 0);
    assert_int_equal(fire.r.outcome, CONNECTOR_POST);
    assert_int_equal(resolve.r.outcome, CONNECTOR_POST);
    assert_string_equal(fire.r.thread_key,
                        "group:{}/{severity=\"critical\"}:{alertname=\"HighCPU\"}");
    assert_string_equal(fire.r.thread_key, resolve.r.thread_key);
    assert_string_not_equal(fire.r.thread_key, other.r.thread_key);
    assert_string_equal(fire.r.event, "firing");
    assert_string_equal(resolve.r.event, "resolved");
    /* only the resolved notification replaces the root card's state */
    assert_false(fire.r.update_root);
    assert_true(resolve.r.update_root);
    card_release(&fire.r.card);
    card_release(&resolve.r.card);
    card_release(&other.r.card);
}

static void firing_group_with_resolved_alerts_does_not_update_the_root(void **state)
{
    (void)state;
    struct run run;
    translate("alertmanager",
              notification("firing", "{}:{}",
                           json_pack("[o, o]", alert("resolved", "A", "h1", "critical"),
                                     alert("firing", "A", "h2", "warning"))),
              NULL, NULL, &run);
    assert_int_equal(run.rc, 0);
    assert_false(run.r.update_root);
    assert_string_equal(run.r.event, "firing");
    /* the resolved critical alert does not colour the card: the firing one is a warning */
    assert_string_equal(theme(&run), "#F7630C");
    assert_string_equal(title(&run), "FIRING: A on h2");
    card_release(&run.r.card);
}

static void long_group_key_is_hashed_whole_and_stably(void **state)
{
    (void)state;
    char key[400], key2[400];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    memcpy(key2, key, sizeof key);
    key2[sizeof key2 - 2] = 'z'; /* differs only at the end, past anything a cut would keep */
    struct run a, b, c;
    translate("alertmanager",
              notification("firing", key, json_pack("[o]", alert("firing", "A", "h", NULL))), NULL,
              NULL, &a);
    translate("alertmanager",
              notification("resolved", key, json_pack("[o]", alert("resolved", "A", "h", NULL))),
              NULL, NULL, &b);
    translate("alertmanager",
              notification("firing", key2, json_pack("[o]", alert("firing", "A", "h", NULL))), NULL,
              NULL, &c);
    assert_int_equal(a.rc, 0);
    assert_int_equal(strlen(a.r.thread_key), strlen("group:") + 64);
    assert_memory_equal(a.r.thread_key, "group:", 6);
    assert_string_equal(a.r.thread_key, b.r.thread_key);
    assert_string_not_equal(a.r.thread_key, c.r.thread_key);
    card_release(&a.r.card);
    card_release(&b.r.card);
    card_release(&c.r.card);

    /* the longest key that fits is kept as it is */
    char fits[160];
    memset(fits, 'f', sizeof fits - 1 - 6);
    fits[sizeof fits - 1 - 6] = '\0';
    translate("alertmanager",
              notification("firing", fits, json_pack("[o]", alert("firing", "A", "h", NULL))), NULL,
              NULL, &a);
    assert_int_equal(strlen(a.r.thread_key), 159);
    assert_string_equal(a.r.thread_key + 6, fits);
    card_release(&a.r.card);
}

static void colour_follows_the_most_severe_firing_alert(void **state)
{
    (void)state;
    static const struct {
        const char *severity, *colour;
    } cases[] = {
        {"critical", "#D13438"}, {"CRITICAL", "#D13438"}, {"page", "#D13438"},
        {"warning", "#F7630C"},  {"info", "#0078D4"},     {"none", "#0078D4"},
        {"whatever", "#8C1A1A"}, {NULL, "#8C1A1A"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run run;
        translate("alertmanager", group_of("firing", alert("firing", "A", "h", cases[i].severity)),
                  NULL, NULL, &run);
        assert_int_equal(run.rc, 0);
        if (strcmp(theme(&run), cases[i].colour))
            fail_msg("severity %s: %s, expected %s", cases[i].severity, theme(&run),
                     cases[i].colour);
        card_release(&run.r.card);
    }
    struct run run;
    translate("alertmanager",
              notification("firing", "{}:{}",
                           json_pack("[o, o, o]", alert("firing", "A", "h1", "info"),
                                     alert("firing", "A", "h2", "critical"),
                                     alert("firing", "A", "h3", "warning"))),
              NULL, NULL, &run);
    assert_string_equal(theme(&run), "#D13438");
    assert_string_equal(title(&run), "FIRING (3): A");
    card_release(&run.r.card);
    translate("alertmanager", group_of("resolved", alert("resolved", "A", "h", "critical")), NULL,
              NULL, &run);
    assert_string_equal(theme(&run), "#2DC72D");
    card_release(&run.r.card);
}

static void payload_text_is_escaped(void **state)
{
    (void)state;
    json_t *a = alert("firing", "<b>x</b>", "[h](javascript:alert(1))", "critical");
    json_object_set_new(json_object_get(a, "annotations"), "description",
                        json_string("<script>alert(1)</script> *bold* `code`"));
    struct run run;
    translate("alertmanager", group_of("firing", a), NULL, NULL, &run);
    assert_int_equal(run.rc, 0);
    char *dump = json_dumps(json_object_get(run.r.card.json, "content"), 0);
    assert_null(strstr(dump, "<script>"));
    assert_null(strstr(dump, "<b>"));
    assert_null(strstr(dump, "[h](javascript")); /* the brackets are escaped: text, no link */
    assert_non_null(strstr(dump, "\\\\[h\\\\](javascript"));
    assert_non_null(strstr(dump, "\\\\<script\\\\>"));
    assert_non_null(strstr(dump, "\\\\*bold\\\\*"));
    free(dump);
    /* the summary is plain text (no markdown there) */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(run.r.card.json, "envelope"), "summary")),
        "FIRING: <b>x</b> on [h](javascript:alert(1))");
    card_release(&run.r.card);
}

static void chosen_labels_become_facts(void **state)
{
    (void)state;
    json_t *a = alert("firing", "A", "h", "critical");
    json_object_set_new(json_object_get(a, "labels"), "team", json_string("db_ops"));
    struct run run;
    translate("alertmanager", group_of("firing", a), "{\"labels\": [\"team\", \"absent\"]}", NULL,
              &run);
    assert_int_equal(run.rc, 0);
    assert_non_null(strstr(run.r.card.fallback, "team: db\\_ops"));
    assert_null(strstr(run.r.card.fallback, "severity:"));
    assert_null(strstr(run.r.card.fallback, "absent"));
    card_release(&run.r.card);
}

static void small_limits_shorten_the_card_rather_than_fail_it(void **state)
{
    (void)state;
    json_t *alerts = json_array();
    char *long_text = xmalloc(5001);
    memset(long_text, 'x', 5000);
    long_text[5000] = '\0';
    for (int i = 0; i < 30; i++) {
        char host[16];
        snprintf(host, sizeof host, "host-%d", i);
        json_t *a = alert("firing", "A", host, "warning");
        json_object_set_new(json_object_get(a, "annotations"), "description",
                            json_string(long_text));
        json_array_append_new(alerts, a);
    }
    free(long_text);
    json_t *p = notification("firing", "{}:{}", alerts);
    json_object_set_new(json_object_get(p, "commonAnnotations"), "description", json_string("d"));
    struct card_limits lim = {.max_sections = 1,
                              .max_facts = 1,
                              .max_images = 1,
                              .max_actions = 1,
                              .max_text = 200,
                              .max_elements = 50};
    struct run run;
    translate("alertmanager", p, "{\"labels\": [\"alertname\", \"severity\"]}", &lim, &run);
    if (run.rc)
        fail_msg("refused: %s", run.msg);
    assert_int_equal(run.r.outcome, CONNECTOR_POST);
    card_release(&run.r.card);
}

static void refused_bodies_say_why(void **state)
{
    (void)state;
    struct run run;
    translate("alertmanager", json_pack("{s:s}", "text", "hello"), NULL, NULL, &run);
    assert_int_equal(run.rc, CARD_ERR_INVALID);
    assert_non_null(strstr(run.msg, "alerts"));
    translate("alertmanager",
              json_pack("{s:s, s:s, s:[]}", "version", "3", "status", "firing", "alerts"), NULL,
              NULL, &run);
    assert_int_equal(run.rc, CARD_ERR_INVALID);
    assert_non_null(strstr(run.msg, "version 3"));
    translate("alertmanager", notification("pending", "{}:{}", json_array()), NULL, NULL, &run);
    assert_int_equal(run.rc, CARD_ERR_INVALID);
    assert_non_null(strstr(run.msg, "status"));
    json_t *g = notification("firing", "{}:{}", json_array());
    json_object_set_new(g, "orgId", json_integer(1));
    translate("alertmanager", g, NULL, NULL, &run);
    assert_int_equal(run.rc, CARD_ERR_INVALID);
    assert_non_null(strstr(run.msg, "Grafana"));
    /* well-formed but nothing to show: acknowledged, not refused */
    translate("alertmanager", notification("firing", "{}:{}", json_pack("[i, s]", 1, "x")), NULL,
              NULL, &run);
    assert_int_equal(run.rc, 0);
    assert_int_equal(run.r.outcome, CONNECTOR_IGNORED);
    assert_true(run.r.reason[0] != '\0');
    assert_null(run.r.card.json);
}

static void alert_without_status_takes_the_groups(void **state)
{
    (void)state;
    json_t *a = alert("firing", "A", "h", "warning");
    json_object_del(a, "status");
    struct run run;
    translate("alertmanager", group_of("resolved", a), NULL, NULL, &run);
    assert_int_equal(run.rc, 0);
    assert_string_equal(title(&run), "RESOLVED: A on h");
    assert_true(run.r.update_root);
    card_release(&run.r.card);
}

static void silence_link_quotes_label_values(void **state)
{
    (void)state;
    json_t *p = group_of("firing", alert("firing", "A", "h", NULL));
    json_object_set_new(p, "commonLabels",
                        json_pack("{s:s, s:s}", "alertname", "A", "path", "C:\\dir \"x\""));
    struct run run;
    translate("alertmanager", p, NULL, NULL, &run);
    assert_int_equal(run.rc, 0);
    /* {alertname="A", path="C:\\dir \"x\""} percent-encoded */
    assert_non_null(strstr(run.r.card.fallback,
                           "Silence <http://alertmanager:9093/#/silences/new?filter="
                           "%7Balertname%3D%22A%22%2C%20path%3D%22C%3A%5C%5Cdir%20%5C%22x%5C%22%22"
                           "%7D>"));
    card_release(&run.r.card);
}

static void silence_link_too_long_is_left_out_not_cut(void **state)
{
    (void)state;
    char *value = xmalloc(3001);
    memset(value, 'v', 3000);
    value[3000] = '\0';
    json_t *p = group_of("firing", alert("firing", "A", "h", NULL));
    json_object_set_new(p, "commonLabels", json_pack("{s:s, s:s}", "alertname", "A", "big", value));
    free(value);
    struct run run;
    translate("alertmanager", p, NULL, NULL, &run);
    assert_int_equal(run.rc, 0);
    assert_null(strstr(run.r.card.fallback, "Silence"));
    assert_non_null(strstr(run.r.card.fallback, "Source <http://prometheus:9090/"));
    card_release(&run.r.card);
}

static void runbook_prose_is_not_a_link(void **state)
{
    (void)state;
    json_t *a = alert("firing", "A", "h", NULL);
    json_object_set_new(json_object_get(a, "annotations"), "runbook",
                        json_string("ask the on-call DBA"));
    struct run run;
    translate("alertmanager", group_of("resolved", a), NULL, NULL, &run);
    assert_int_equal(run.rc, 0);
    assert_null(strstr(run.r.card.fallback, "Runbook"));
    card_release(&run.r.card);
    a = alert("firing", "A", "h", NULL);
    json_object_set_new(json_object_get(a, "annotations"), "runbook",
                        json_string("https://wiki.example/a"));
    translate("alertmanager", group_of("resolved", a), NULL, NULL, &run);
    assert_non_null(strstr(run.r.card.fallback, "Runbook <https://wiki.example/a>"));
    card_release(&run.r.card);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_is_in_the_catalog_without_signature),
        cmocka_unit_test(firing_and_resolved_share_the_group_thread),
        cmocka_unit_test(firing_group_with_resolved_alerts_does_not_update_the_root),
        cmocka_unit_test(long_group_key_is_hashed_whole_and_stably),
        cmocka_unit_test(colour_follows_the_most_severe_firing_alert),
        cmocka_unit_test(payload_text_is_escaped),
        cmocka_unit_test(chosen_labels_become_facts),
        cmocka_unit_test(small_limits_shorten_the_card_rather_than_fail_it),
        cmocka_unit_test(refused_bodies_say_why),
        cmocka_unit_test(alert_without_status_takes_the_groups),
        cmocka_unit_test(silence_link_quotes_label_values),
        cmocka_unit_test(silence_link_too_long_is_left_out_not_cut),
        cmocka_unit_test(runbook_prose_is_not_a_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
