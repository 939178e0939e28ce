/* grafana.c: the Grafana alerting connector. Grafana's alerting (8 and later) sends the
 * Alertmanager webhook body (version "1") with a few fields of its own: that is
 * connector_alert_group's card (alertmanager.c), with Grafana's silence, dashboard and panel
 * links, panel images and values. Legacy alerting (Grafana 7 and older, or 8 with it chosen)
 * sends one rule's state (ruleName, state alerting|ok|no_data|pending|paused, evalMatches,
 * imageUrl, ruleUrl): a card per state change, in the rule's thread. Both name their events
 * alike: firing, resolved, no_data (and legacy pending, paused).
 *
 * No signature: the URL secret authenticates (Grafana's optional basic auth or authorization
 * header is not needed). Not for: the bodies of Grafana's Teams, Slack or Discord contact
 * points, which go to the Incoming Webhook. */
#include "connectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATCHES_MAX 10     /* evalMatches shown before "and N more" */
#define TAGS_MAX 10        /* rule tags shown */
#define NAME_CHARS 100     /* a rule name, a metric, a tag */
#define MESSAGE_CHARS 2000 /* the rule's message */

static const char *const events[] = {"firing", "resolved", "no_data", "pending", "paused", NULL};

const struct connector_type connector_grafana;

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false, NULL, NULL, NULL, 0, 128},
    {"image", "Image", "image", false, false, NULL, NULL, NULL, 0, 0},
    {"labels", "Labels shown", "list", false, false,
     "Labels shown on the card (those all alerts of a group share)", NULL,
     "[\"severity\", \"instance\", \"job\"]", 0, 0},
    {"events", "Notifications", "events", false, false,
     "Which notifications to post (none chosen: all); pending and paused come from legacy "
     "alerting only",
     events, "[]", 0, 0},
};

/* A legacy rule state: its event name, its word on the card and its colour. */
static const struct {
    const char *state, *event, *word, *colour;
} states[] = {
    {"alerting", "firing", "FIRING", "D13438"},  {"ok", "resolved", "RESOLVED", "2DC72D"},
    {"no_data", "no_data", "NO DATA", "888888"}, {"pending", "pending", "PENDING", "FFB900"},
    {"paused", "paused", "PAUSED", "888888"},
};

/* Payload text, clipped to its first line of max_chars and markdown-escaped; caller frees. */
static char *esc_line(const char *text, size_t max_chars)
{
    char *c = connector_first_line(text, max_chars);
    char *e = connector_md_escape(c);
    free(c);
    return e;
}

/* Payload text of several lines, clipped to max_chars and markdown-escaped; caller frees. */
static char *esc_text(const char *text, size_t max_chars)
{
    size_t n = strlen(text);
    while (n && strchr(" \t\r\n", text[n - 1]))
        n--;
    char *c = connector_clip(text, n, max_chars);
    char *e = connector_md_escape(c);
    free(c);
    return e;
}

/* An evalMatch's value as markdown-escaped text ("97.5", "no value"); caller frees. */
static char *match_value(json_t *v, size_t max_chars)
{
    char text[64];
    if (json_is_string(v))
        return esc_line(json_string_value(v), max_chars);
    if (json_is_integer(v))
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(text, sizeof text, "%.15g", json_real_value(v));
    else
        snprintf(text, sizeof text, "no value");
    return esc_line(text, max_chars);
}

/* "metric {tag=value, ...}" of an evalMatch, markdown-escaped; caller frees. */
static char *match_name(json_t *m, size_t max_chars)
{
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_append(&b, "", 0);
    const char *metric = connector_jstr(m, "metric");
    buf_printf(&b, "%s", metric && *metric ? metric : "value");
    json_t *tags = json_object_get(m, "tags");
    if (json_is_object(tags) && json_object_size(tags)) {
        const char *key;
        json_t *value;
        size_t k = 0;
        buf_printf(&b, " {");
        json_object_foreach(tags, key, value)
        {
            if (json_is_string(value))
                buf_printf(&b, "%s%s=%s", k++ ? ", " : "", key, json_string_value(value));
        }
        buf_printf(&b, "}");
    }
    char *e = esc_line(b.data, max_chars);
    buf_release(&b);
    return e;
}

static void add_fact(json_t *facts, size_t max, char *name, char *value)
{
    if (json_array_size(facts) < max)
        json_array_append_new(facts, json_pack("{s:s, s:s}", "name", name, "value", value));
    free(name);
    free(value);
}

/* At most `want` characters of one payload text, fewer when the card limits' max_text could not
 * take it escaped (escaping at most doubles a text). */
static size_t budget(const struct card_limits *lim, size_t want)
{
    size_t room = lim->max_text > 32 ? (lim->max_text - 16) / 2 : 1;
    return want < room ? want : room;
}

/* Legacy alerting: one rule's new state. */
static int translate_legacy(const struct connector_request *req, struct connector_result *out,
                            char msg[160])
{
    json_t *p = req->payload;
    const struct card_limits *lim = req->limits ? req->limits : &card_default_limits;
    const char *state = connector_jstr(p, "state");
    if (!state) {
        snprintf(msg, 160, "not a Grafana alert notification: 'state' is missing");
        return CARD_ERR_INVALID;
    }
    size_t s = 0;
    while (s < sizeof states / sizeof states[0] && strcmp(states[s].state, state))
        s++;
    if (s == sizeof states / sizeof states[0]) {
        char *c = connector_first_line(state, 40);
        connector_ignore(out, "Grafana alert state '%s' is not shown", c);
        free(c);
        return 0;
    }
    const char *rule = connector_jstr(p, "ruleName");
    if (!rule || !*rule)
        rule = connector_jstr(p, "title");
    size_t name_chars = budget(lim, NAME_CHARS);
    char *name = esc_line(rule && *rule ? rule : "Grafana alert", name_chars);
    char *plain_name = connector_first_line(rule && *rule ? rule : "Grafana alert", name_chars);
    struct buf title, plain;
    buf_init(&title, SIZE_MAX / 2);
    buf_init(&plain, SIZE_MAX / 2);
    buf_printf(&title, "%s: %s", states[s].word, name);
    buf_printf(&plain, "%s: %s", states[s].word, plain_name);
    free(name);
    free(plain_name);

    json_t *facts = json_array();
    json_t *matches = json_object_get(p, "evalMatches");
    size_t i, n_matches = 0;
    json_t *m;
    json_array_foreach(matches, i, m)
    {
        if (!json_is_object(m))
            continue;
        if (n_matches++ < MATCHES_MAX)
            add_fact(facts, lim->max_facts, match_name(m, name_chars),
                     match_value(json_object_get(m, "value"), name_chars));
    }
    if (n_matches > MATCHES_MAX) {
        char more[64];
        snprintf(more, sizeof more, "and %zu more", n_matches - MATCHES_MAX);
        add_fact(facts, lim->max_facts, xstrdup("Matches"), xstrdup(more));
    }
    json_t *tags = json_object_get(p, "tags");
    const char *key;
    json_t *value;
    size_t n_tags = 0;
    json_object_foreach(tags, key, value)
    {
        if (json_is_string(value) && n_tags++ < TAGS_MAX)
            add_fact(facts, lim->max_facts, esc_line(key, name_chars),
                     esc_line(json_string_value(value), name_chars));
    }

    json_t *sections = json_array();
    if (json_array_size(facts))
        json_array_append_new(sections, json_pack("{s:o}", "facts", facts));
    else
        json_decref(facts);
    const char *image = connector_jstr(p, "imageUrl");
    if (image && *image && lim->max_images)
        json_array_append_new(sections, json_pack("{s:{s:s, s:s}}", "heroImage", "image", image,
                                                  "title", plain.data));
    while (json_array_size(sections) > lim->max_sections)
        json_array_remove(sections, json_array_size(sections) - 1);
    json_t *actions = json_array();
    const char *url = connector_jstr(p, "ruleUrl");
    if (url && *url && lim->max_actions)
        json_array_append_new(actions,
                              json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "@type", "OpenUri", "name",
                                        "Open in Grafana", "targets", "os", "default", "uri", url));
    json_t *mc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "@type", "MessageCard", "summary",
                           plain.data, "title", title.data, "themeColor", states[s].colour,
                           "sections", sections, "potentialAction", actions);
    const char *message = connector_jstr(p, "message");
    if (message && *message) {
        char *e = esc_text(message, budget(lim, MESSAGE_CHARS));
        json_object_set_new(mc, "text", json_string(e));
        free(e);
    }
    buf_release(&title);
    buf_release(&plain);

    CONNECTOR_SET(out->event, "%s", states[s].event);
    out->update_root = !strcmp(state, "ok");
    json_t *id = json_object_get(p, "ruleId");
    if (json_is_integer(id) && json_integer_value(id) > 0) {
        CONNECTOR_SET(out->thread_key, "rule:%lld", (long long)json_integer_value(id));
    } else if ((rule = connector_jstr(p, "ruleName")) && *rule) {
        if (strlen("rule:") + strlen(rule) < sizeof out->thread_key) {
            CONNECTOR_SET(out->thread_key, "rule:%s", rule);
        } else {
            char hex[65];
            bytes_hash(rule, strlen(rule), hex);
            CONNECTOR_SET(out->thread_key, "rule:%s", hex);
        }
    }
    return connector_card(&connector_grafana, mc, lim, out, msg);
}

static int translate(const struct connector_request *req, struct connector_result *out,
                     char msg[160])
{
    json_t *p = req->payload;
    if (json_is_array(json_object_get(p, "alerts")))
        return connector_alert_group(&connector_grafana, req, true, out, msg);
    if (connector_jstr(p, "ruleName") || connector_jstr(p, "state") ||
        json_object_get(p, "evalMatches"))
        return translate_legacy(req, out, msg);
    snprintf(msg, 160,
             "not a Grafana alert notification: expected 'alerts' (Grafana alerting) or "
             "'ruleName' and 'state' (legacy alerting)");
    return CARD_ERR_INVALID;
}

const struct connector_type connector_grafana = {
    .id = "grafana",
    .name = "Grafana",
    .description = "Alerts from Grafana: one card per alert group (or legacy alert rule), later "
                   "notifications in its thread, green when resolved.",
    .icon = "grafana",
    .kind = CONNECTOR_PUSH,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .setup = "1. In Grafana, open **Alerting → Contact points** and choose **+ Add contact "
             "point** (**New contact point** in Grafana 8 and 9).\n"
             "2. Give it a name, choose the integration **Webhook** and paste this URL: {url}\n"
             "3. Leave the method POST and the authentication empty (the URL is the secret); "
             "keep **Disable resolved message** unchecked.\n"
             "4. **Test** it, then **Save contact point**, and use the contact point in a "
             "notification policy (**Alerting → Notification policies**) or in an alert rule.\n\n"
             "Legacy alerting (Grafana 7 and older): **Alerting → Notification channels → New "
             "channel**, type **webhook**, URL {url}, method POST; check **Send reminders** only "
             "if you want repeats.",
    .translate = translate,
};
