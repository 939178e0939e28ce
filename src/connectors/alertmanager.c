/* alertmanager.c: the Prometheus Alertmanager connector, and the alert-group card it shares with
 * Grafana's unified alerting (connector_alert_group). Alertmanager POSTs one notification per
 * alert group to a webhook_configs receiver (body version "4"): the group's status, groupKey,
 * the labels and annotations its alerts share, and the alerts (at most max_alerts of them;
 * truncatedAlerts counts the rest). The card names the alerts and where they fire, is coloured
 * by severity (green when resolved), shows the chosen labels as facts, lists the alerts of a
 * group, and links to the rule, the runbook and a silence. Every notification of a group shares
 * a thread; the resolved one replaces the state of the group's first card.
 *
 * No signature: the URL secret authenticates (Alertmanager can add basic auth or a bearer token,
 * which the URL secret makes unnecessary). Not for: the bodies of Alertmanager's msteams and
 * discord notifiers, which are MessageCards and Discord messages for the Incoming Webhook. */
#include "connectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TITLE_NAMES_MAX 2      /* alert names in a title before "and N more" */
#define LINES_MAX 10           /* alerts listed on a group's card before "and N more" */
#define LINE_LABELS_MAX 4      /* labels that tell an alert of a group apart, per line */
#define SOURCES_MAX 3          /* distinct rule (generatorURL) links */
#define IMAGES_MAX 5           /* Grafana's panel images */
#define NAME_CHARS 80          /* an alert name, a label value in a title or a list line */
#define SUMMARY_CHARS 300      /* the summary annotation */
#define DESCRIPTION_CHARS 2000 /* the description annotation */
#define VALUE_CHARS 300        /* a fact's value */
#define LINE_TEXT_CHARS 160    /* the summary of one alert in a group's list */
#define SILENCE_URL_MAX 2048   /* longer silence links are left out */

static const char *const events[] = {"firing", "resolved", NULL};

const struct connector_type connector_alertmanager;

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false, NULL, NULL, NULL, 0, 128},
    {"image", "Image", "image", false, false, NULL, NULL, NULL, 0, 0},
    {"labels", "Labels shown", "list", false, false,
     "Labels shown on the card (those all alerts of a group share)", NULL,
     "[\"severity\", \"instance\", \"job\"]", 0, 0},
    {"events", "Notifications", "events", false, false,
     "Which notifications to post (none chosen: all)", events, "[]", 0, 0},
};

/* ---- text helpers ---- */

/* The first max_chars characters of text (all its lines), blanks around it trimmed, an
 * ellipsis when cut; caller frees. */
static char *clip(const char *text, size_t max_chars)
{
    if (!text)
        text = "";
    while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
        text++;
    size_t n = strlen(text);
    while (n && strchr(" \t\r\n", text[n - 1]))
        n--;
    return connector_clip(text, n, max_chars);
}

/* Payload text clipped to max_chars and markdown-escaped; caller frees. */
static char *esc(const char *text, size_t max_chars)
{
    char *c = clip(text, max_chars);
    char *e = connector_md_escape(c);
    free(c);
    return e;
}

/* The first line of payload text, clipped and markdown-escaped; caller frees. */
static char *esc_line(const char *text, size_t max_chars)
{
    char *c = connector_first_line(text ? text + strspn(text, " \t\r\n") : "", max_chars);
    char *e = connector_md_escape(c);
    free(c);
    return e;
}

/* "2024-05-02T10:15:03.123Z" as "2024-05-02 10:15:03 UTC" (an offset kept as "+02:00"), into
 * out; "" for Go's zero time (an alert still firing) and anything else. Only digits and fixed
 * punctuation come out, so the result is safe in markdown as it is. */
static void format_time(const char *iso, char out[40])
{
    out[0] = '\0';
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (!iso || strlen(iso) < sizeof shape - 1 || !strncmp(iso, "0001-", 5))
        return;
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? iso[i] < '0' || iso[i] > '9' : iso[i] != shape[i])
            return;
    const char *zone = iso + sizeof shape - 1;
    if (*zone == '.')
        for (zone++; *zone >= '0' && *zone <= '9'; zone++)
            ;
    const char *tz;
    if (!strcmp(zone, "Z"))
        tz = "UTC";
    else if ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 6 && zone[3] == ':' &&
             strspn(zone + 1, "0123456789") == 2 && strspn(zone + 4, "0123456789") == 2)
        tz = zone;
    else
        return;
    snprintf(out, 40, "%.10s %.8s %s", iso, iso + 11, tz);
}

/* Appends s to b percent-encoded (all but RFC 3986's unreserved characters): 0, or nonzero
 * when b's cap cut it. */
static int url_encode(struct buf *b, const char *s)
{
    int err = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            err |= buf_append(b, p, 1);
        else
            err |= buf_printf(b, "%%%02X", *p) < 0;
    }
    return err;
}

/* ---- the alerts of a notification ---- */

struct alert_view {
    json_t *p;          /* the payload */
    json_t *alerts;     /* its alerts that are objects, in order (owned) */
    const char *status; /* the group's: "firing" or "resolved" */
    bool firing;        /* the group's status is firing */
    size_t n_firing, n_resolved;
    json_int_t truncated; /* alerts Alertmanager left out (max_alerts) */
    json_t *labels;       /* one alert: its labels; a group: the common labels */
    json_t *annotations;  /* likewise */
    json_t *common;       /* commonLabels */
};

static bool alert_firing(const struct alert_view *v, json_t *a)
{
    const char *s = connector_jstr(a, "status");
    return s ? !strcmp(s, "firing") : v->firing; /* an alert without status shares the group's */
}

/* An annotation of the alert, or the common one. */
static const char *annotation(const struct alert_view *v, const char *name)
{
    const char *s = connector_jstr(v->annotations, name);
    if ((!s || !*s) && v->annotations != json_object_get(v->p, "commonAnnotations"))
        s = connector_jpath(v->p, "commonAnnotations", name, NULL);
    return s && *s ? s : NULL;
}

/* The label that best says where the alerts of the group's status fire: one alert's, or a
 * value all of them share; or NULL. */
static const char *where_label(const struct alert_view *v)
{
    static const char *const names[] = {"instance",   "host",        "hostname",  "node",
                                        "deployment", "statefulset", "daemonset", "pod",
                                        "container",  "service",     "job"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const char *s = connector_jstr(v->labels, names[k]);
        if (s && *s)
            return s;
        if (json_array_size(v->alerts) < 2 || v->truncated)
            continue; /* one alert, or some not sent: only the common labels tell */
        bool same = true;
        size_t i;
        json_t *a;
        json_array_foreach(v->alerts, i, a)
        {
            if (alert_firing(v, a) != v->firing)
                continue;
            const char *t = connector_jpath(a, "labels", names[k], NULL);
            same = same && t && *t && (!s || !strcmp(s, t));
            s = t;
        }
        if (same && s)
            return s;
    }
    return NULL;
}

/* Severity of a label value: 3 critical, 2 warning, 1 info, 0 unknown. */
static int severity_rank(const char *s)
{
    static const char *const ranks[][10] = {
        {"info", "informational", "notice", "low", "none", "debug", "p4", "p5", NULL},
        {"warning", "warn", "medium", "average", "minor", "p3", NULL},
        {"critical", "crit", "error", "err", "page", "high", "major", "fatal", "emergency", NULL},
    };
    for (int r = 0; s && r < 3; r++)
        for (size_t i = 0; ranks[r][i]; i++)
            if (!strcasecmp(s, ranks[r][i]))
                return r + 1;
    return 0;
}

/* The card's colour: the most severe firing alert's (critical red, warning orange, info blue,
 * no known severity dark red), green when resolved, grey for no data. */
static const char *colour(const struct alert_view *v, bool no_data)
{
    if (!v->firing)
        return "2DC72D";
    if (no_data)
        return "888888";
    int rank = severity_rank(connector_jstr(v->common, "severity"));
    size_t i;
    json_t *a;
    json_array_foreach(v->alerts, i, a)
    {
        int r = severity_rank(connector_jpath(a, "labels", "severity", NULL));
        if (alert_firing(v, a) && r > rank)
            rank = r;
    }
    static const char *const colours[] = {"8C1A1A", "0078D4", "F7630C", "D13438"};
    return colours[rank];
}

/* The name of an alert by its labels: its alertname, or for Grafana's alerts about a rule's
 * query (no data, an error) the rule's name. */
static const char *alert_name(json_t *labels)
{
    const char *name = connector_jstr(labels, "alertname"),
               *rule = connector_jstr(labels, "rulename");
    if (name && (!strcmp(name, "DatasourceNoData") || !strcmp(name, "DatasourceError")) && rule &&
        *rule)
        return rule;
    return name;
}

/* The alert names for the title: the common one, or the first few distinct ones ("A, B and 2
 * more"), those of the group's status first; markdown-escaped into esc_out, plain into
 * plain_out. */
static void alert_names(const struct alert_view *v, struct buf *esc_out, struct buf *plain_out)
{
    const char *common = alert_name(v->common);
    json_t *names = json_object(); /* a set, in order */
    if (common && *common)
        json_object_set_new(names, common, json_null());
    for (int pass = 0; pass < 2 && !json_object_size(names); pass++) {
        size_t i;
        json_t *a;
        json_array_foreach(v->alerts, i, a)
        {
            const char *name = alert_name(json_object_get(a, "labels"));
            if (name && *name && alert_firing(v, a) == (pass == 0 ? v->firing : !v->firing))
                json_object_set_new(names, name, json_null());
        }
    }
    size_t n = json_object_size(names), k = 0;
    if (!n) {
        buf_printf(plain_out, "alerts");
        buf_printf(esc_out, "alerts");
    }
    const char *name;
    json_t *unused;
    json_object_foreach(names, name, unused)
    {
        if (k == TITLE_NAMES_MAX)
            break;
        char *c = clip(name, NAME_CHARS), *e = connector_md_escape(c);
        const char *sep = k == 0 ? "" : (k + 1 == n ? " and " : ", ");
        buf_printf(plain_out, "%s%s", sep, c);
        buf_printf(esc_out, "%s%s", sep, e);
        free(c);
        free(e);
        k++;
    }
    if (n > k) {
        buf_printf(plain_out, " and %zu more", n - k);
        buf_printf(esc_out, " and %zu more", n - k);
    }
    json_decref(names);
}

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One line of a group's list: the alert's status when the group is mixed, the labels that tell
 * it apart from the others, and its summary unless the group shares it. */
static void alert_line(const struct alert_view *v, json_t *a, json_t *shared, bool mixed,
                       struct buf *out)
{
    buf_printf(out, "- ");
    if (mixed)
        buf_printf(out, "**%s** ", alert_firing(v, a) ? "FIRING" : "RESOLVED");
    json_t *labels = json_object_get(a, "labels");
    size_t n = json_is_object(labels) ? json_object_size(labels) : 0, k = 0, shown = 0;
    const char **keys = xcalloc(n + 1, sizeof *keys);
    const char *key;
    json_t *value;
    json_object_foreach(labels, key, value)
    {
        if (json_is_string(value) && !json_object_get(shared, key))
            keys[k++] = key;
    }
    qsort(keys, k, sizeof *keys, compare_str);
    for (size_t i = 0; i < k && shown < LINE_LABELS_MAX; i++, shown++) {
        char *name = esc(keys[i], NAME_CHARS);
        char *val = esc(connector_jstr(labels, keys[i]), NAME_CHARS);
        buf_printf(out, "%s%s=%s", shown ? ", " : "", name, val);
        free(name);
        free(val);
    }
    if (k > shown)
        buf_printf(out, ", …");
    free(keys);
    if (!shown) {
        char *name = esc(connector_jstr(labels, "alertname"), NAME_CHARS);
        buf_printf(out, "%s", *name ? name : "(no labels)");
        free(name);
    }
    const char *text = NULL;
    static const char *const names[] = {"summary", "description", "message"};
    for (size_t i = 0; !text && i < sizeof names / sizeof names[0]; i++) {
        const char *s = connector_jpath(a, "annotations", names[i], NULL);
        const char *c = connector_jpath(v->p, "commonAnnotations", names[i], NULL);
        if (s && *s && (!c || strcmp(c, s)))
            text = s;
    }
    if (text) {
        char *e = esc_line(text, LINE_TEXT_CHARS);
        buf_printf(out, ": %s", e);
        free(e);
    }
    buf_printf(out, "\n");
}

/* The labels every alert of the group has, with the same value (the common labels as the
 * alerts show them; when only one was sent, the common labels Alertmanager names); a new object
 * of names. */
static json_t *shared_labels(const struct alert_view *v)
{
    json_t *shared = json_object();
    json_t *first = json_object_get(json_array_get(v->alerts, 0), "labels");
    if (json_array_size(v->alerts) < 2)
        first = v->common;
    const char *key;
    json_t *value;
    json_object_foreach(first, key, value)
    {
        const char *s = json_string_value(value);
        size_t i;
        json_t *a;
        json_array_foreach(v->alerts, i, a)
        {
            const char *t = connector_jpath(a, "labels", key, NULL);
            if (!s || !t || strcmp(s, t))
                break;
        }
        if (i == json_array_size(v->alerts))
            json_object_set_new(shared, key, json_true());
    }
    return shared;
}

/* The list of a group's alerts: those of the group's status first, at most LINES_MAX. */
static char *alert_list(const struct alert_view *v)
{
    json_t *shared = shared_labels(v);
    struct buf out;
    buf_init(&out, SIZE_MAX / 2);
    buf_append(&out, "", 0);
    bool mixed = v->n_firing && v->n_resolved;
    size_t listed = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t i;
        json_t *a;
        json_array_foreach(v->alerts, i, a)
        {
            if (alert_firing(v, a) != (pass == 0 ? v->firing : !v->firing))
                continue;
            if (listed++ < LINES_MAX)
                alert_line(v, a, shared, mixed, &out);
        }
    }
    json_int_t more = (json_int_t)(listed > LINES_MAX ? listed - LINES_MAX : 0) + v->truncated;
    if (more)
        buf_printf(&out, "- and %lld more\n", (long long)more);
    while (out.len && out.data[out.len - 1] == '\n')
        out.data[--out.len] = '\0';
    json_decref(shared);
    return out.data;
}

/* An OpenUri action (the cards layer drops, and notes, addresses that are not links). */
static void add_link(json_t *actions, size_t max, const char *name, const char *url)
{
    if (url && *url && json_array_size(actions) < max)
        json_array_append_new(actions,
                              json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "@type", "OpenUri", "name",
                                        name, "targets", "os", "default", "uri", url));
}

/* A link that silences the group: Alertmanager's silence form with a matcher per common label;
 * for Grafana its own silence page (for one alert, the link Grafana made). NULL when there is
 * no base address, no label, or the link would be too long; caller frees. */
static char *silence_link(const struct alert_view *v, bool grafana)
{
    const char *made = connector_jstr(json_array_get(v->alerts, 0), "silenceURL");
    if (grafana && json_array_size(v->alerts) == 1 && !v->truncated && made && *made)
        return xstrdup(made);
    const char *base = connector_jstr(v->p, "externalURL");
    if (!base || !*base || !json_is_object(v->common) || !json_object_size(v->common))
        return NULL;
    size_t base_len = strlen(base);
    while (base_len && base[base_len - 1] == '/')
        base_len--;
    struct buf b;
    buf_init(&b, SILENCE_URL_MAX);
    const char *key;
    json_t *value;
    int err = buf_append(&b, base, base_len);
    if (grafana) {
        err |= buf_printf(&b, "/alerting/silence/new?alertmanager=grafana") < 0;
        json_object_foreach(v->common, key, value)
        {
            if (!json_is_string(value))
                continue;
            struct buf m;
            buf_init(&m, SIZE_MAX / 2);
            buf_printf(&m, "%s=%s", key, json_string_value(value));
            err |= buf_printf(&b, "&matcher=") < 0;
            err |= url_encode(&b, m.data);
            buf_release(&m);
        }
    } else {
        /* {name="value", ...}: Alertmanager's matcher syntax, quotes and backslashes escaped */
        struct buf m;
        buf_init(&m, SIZE_MAX / 2);
        buf_printf(&m, "{");
        json_object_foreach(v->common, key, value)
        {
            if (!json_is_string(value))
                continue;
            buf_printf(&m, "%s%s=\"", m.len > 1 ? ", " : "", key);
            for (const char *s = json_string_value(value); *s; s++)
                if (*s == '"' || *s == '\\')
                    buf_printf(&m, "\\%c", *s);
                else if (*s == '\n')
                    buf_printf(&m, "\\n");
                else
                    buf_append(&m, s, 1);
            buf_printf(&m, "\"");
        }
        buf_printf(&m, "}");
        err |= buf_printf(&b, "/#/silences/new?filter=") < 0;
        err |= url_encode(&b, m.data);
        buf_release(&m);
    }
    if (err) { /* cut off by the cap: such a link would silence the wrong alerts */
        buf_release(&b);
        return NULL;
    }
    return b.data;
}

/* The first `max` distinct non-empty string members `key` of the alerts, in order. */
static size_t distinct(const struct alert_view *v, const char *key, const char **out, size_t max)
{
    size_t n = 0, i;
    json_t *a;
    json_array_foreach(v->alerts, i, a)
    {
        const char *s = connector_jstr(a, key);
        bool dup = !s || !*s;
        for (size_t k = 0; !dup && k < n; k++)
            dup = !strcmp(out[k], s);
        if (!dup && n < max)
            out[n++] = s;
    }
    return n;
}

static void add_fact(json_t *facts, size_t max, const char *name, char *value)
{
    if (value && *value && json_array_size(facts) < max)
        json_array_append_new(facts, json_pack("{s:s, s:s}", "name", name, "value", value));
    free(value);
}

/* The label names the settings choose (the default when they have none); new reference. */
static json_t *shown_labels(const struct connector_request *req)
{
    json_t *l = json_object_get(req->settings, "labels");
    if (json_is_array(l))
        return json_incref(l);
    return json_loads(settings[2].def, 0, NULL);
}

/* Grafana's values of one alert: its values map ("A=24.5, C=1"), or its valueString (which
 * repeats the series' labels); markdown-escaped, caller frees; or NULL. */
static char *grafana_value(json_t *a)
{
    json_t *values = json_object_get(a, "values");
    struct buf b;
    buf_init(&b, 64 * 1024);
    const char *key;
    json_t *value;
    json_object_foreach(values, key, value)
    {
        if (json_is_number(value))
            buf_printf(&b, "%s%s=%.15g", b.len ? ", " : "", key, json_number_value(value));
    }
    const char *s = connector_jstr(a, "valueString");
    char *e = b.len ? esc(b.data, VALUE_CHARS) : s && *s ? esc(s, VALUE_CHARS) : NULL;
    buf_release(&b);
    return e;
}

/* Clips the string member `key` of obj to max characters. */
static void fit_member(json_t *obj, const char *key, size_t max)
{
    const char *s = connector_jstr(obj, key);
    if (s && utf8_length(s) > max) {
        char *c = clip(s, max ? max - 1 : 0);
        json_object_set_new(obj, key, json_string(c));
        free(c);
    }
}

/* Clips every text of a MessageCard to the card limits' max_text, so that a long description
 * under small limits shortens the card rather than failing it. */
static void fit_texts(json_t *mc, size_t max)
{
    fit_member(mc, "title", max);
    fit_member(mc, "text", max);
    size_t i, k;
    json_t *s, *f;
    json_array_foreach(json_object_get(mc, "sections"), i, s)
    {
        fit_member(s, "title", max);
        fit_member(s, "text", max);
        json_array_foreach(json_object_get(s, "facts"), k, f)
        {
            fit_member(f, "name", max);
            fit_member(f, "value", max);
        }
    }
}

int connector_alert_group(const struct connector_type *t, const struct connector_request *req,
                          bool grafana, struct connector_result *out, char msg[160])
{
    json_t *p = req->payload;
    json_t *all = json_object_get(p, "alerts");
    const char *status = connector_jstr(p, "status");
    if (!json_is_array(all)) {
        snprintf(msg, 160, "not an alert notification: 'alerts' must be a list of alerts");
        return CARD_ERR_INVALID;
    }
    if (!status || (strcmp(status, "firing") && strcmp(status, "resolved"))) {
        snprintf(msg, 160, "'status' must be \"firing\" or \"resolved\"");
        return CARD_ERR_INVALID;
    }
    const struct card_limits *lim = req->limits ? req->limits : &card_default_limits;
    struct alert_view v = {
        .p = p, .alerts = json_array(), .status = status, .firing = !strcmp(status, "firing")};
    size_t i;
    json_t *a;
    json_array_foreach(all, i, a)
    {
        if (!json_is_object(a))
            continue;
        json_array_append(v.alerts, a);
        if (alert_firing(&v, a))
            v.n_firing++;
        else
            v.n_resolved++;
    }
    size_t n = json_array_size(v.alerts);
    if (!n) {
        json_decref(v.alerts);
        return connector_ignore(out, "the notification has no alerts");
    }
    json_t *truncated = json_object_get(p, "truncatedAlerts");
    v.truncated = json_is_integer(truncated) && json_integer_value(truncated) > 0
                      ? json_integer_value(truncated)
                      : 0;
    v.common = json_object_get(p, "commonLabels");
    json_t *one = n == 1 && !v.truncated ? json_array_get(v.alerts, 0) : NULL; /* else a group */
    v.labels = one ? json_object_get(one, "labels") : v.common;
    v.annotations =
        one ? json_object_get(one, "annotations") : json_object_get(p, "commonAnnotations");

    /* Grafana's no-data alerts: every firing alert is its DatasourceNoData */
    bool no_data = false;
    if (grafana && v.firing) {
        no_data = true;
        json_array_foreach(v.alerts, i, a)
        {
            const char *name = connector_jpath(a, "labels", "alertname", NULL);
            if (alert_firing(&v, a) && (!name || strcmp(name, "DatasourceNoData")))
                no_data = false;
        }
    }

    /* the title: "FIRING (3): HighCPU on host-3" */
    struct buf title, plain;
    buf_init(&title, SIZE_MAX / 2);
    buf_init(&plain, SIZE_MAX / 2);
    const char *word = no_data ? "NO DATA" : v.firing ? "FIRING" : "RESOLVED";
    size_t count = v.firing ? v.n_firing : v.n_resolved;
    if (count > 1 || v.truncated) {
        buf_printf(&title, "%s (%zu%s): ", word, count, v.truncated ? "+" : "");
        buf_printf(&plain, "%s", title.data);
    } else {
        buf_printf(&title, "%s: ", word);
        buf_printf(&plain, "%s: ", word);
    }
    alert_names(&v, &title, &plain);
    const char *where = where_label(&v);
    if (where) {
        char *c = clip(where, NAME_CHARS), *e = connector_md_escape(c);
        buf_printf(&title, " on %s", e);
        buf_printf(&plain, " on %s", c);
        free(c);
        free(e);
    }

    /* the text: summary and description */
    struct buf text;
    buf_init(&text, SIZE_MAX / 2);
    buf_append(&text, "", 0);
    const char *summary = annotation(&v, "summary");
    const char *description = annotation(&v, "description");
    if (!description)
        description = annotation(&v, "message");
    if (summary) {
        char *e = esc(summary, SUMMARY_CHARS);
        buf_printf(&text, "%s", e);
        free(e);
    }
    if (description && (!summary || strcmp(summary, description))) {
        char *e = esc(description, DESCRIPTION_CHARS);
        buf_printf(&text, "%s%s", text.len ? "\n\n" : "", e);
        free(e);
    }

    /* facts: the chosen labels; one alert's value and times */
    json_t *facts = json_array();
    json_t *chosen = shown_labels(req);
    json_t *name;
    json_array_foreach(chosen, i, name)
    {
        const char *label = json_string_value(name);
        const char *value = label ? connector_jstr(v.labels, label) : NULL;
        if (value && *value) {
            char *e = connector_md_escape(label);
            add_fact(facts, lim->max_facts, e, esc(value, VALUE_CHARS));
            free(e);
        }
    }
    json_decref(chosen);
    if (one) {
        if (grafana)
            add_fact(facts, lim->max_facts, "Value", grafana_value(one));
        char when[40];
        format_time(connector_jstr(one, "startsAt"), when);
        add_fact(facts, lim->max_facts, "Started", xstrdup(when));
        if (!alert_firing(&v, one)) {
            format_time(connector_jstr(one, "endsAt"), when);
            add_fact(facts, lim->max_facts, "Ended", xstrdup(when));
        }
    }

    json_t *sections = json_array();
    if (json_array_size(facts))
        json_array_append_new(sections, json_pack("{s:o}", "facts", facts));
    else
        json_decref(facts);
    if (!one) {
        char heading[64];
        if (v.n_firing && v.n_resolved)
            snprintf(heading, sizeof heading, "%zu firing, %zu resolved", v.n_firing, v.n_resolved);
        else
            snprintf(heading, sizeof heading, "%zu %s", n, v.n_firing ? "firing" : "resolved");
        char *list = alert_list(&v);
        json_array_append_new(sections, json_pack("{s:s, s:s}", "title", heading, "text", list));
        free(list);
    }
    if (grafana) {
        const char *images[IMAGES_MAX];
        size_t n_images = distinct(&v, "imageURL", images,
                                   lim->max_images < IMAGES_MAX ? lim->max_images : IMAGES_MAX);
        if (n_images == 1) {
            json_array_append_new(sections, json_pack("{s:{s:s, s:s}}", "heroImage", "image",
                                                      images[0], "title", plain.data));
        } else if (n_images) {
            json_t *list = json_array();
            for (size_t k = 0; k < n_images; k++)
                json_array_append_new(list, json_pack("{s:s}", "image", images[k]));
            json_array_append_new(sections, json_pack("{s:o}", "images", list));
        }
    }
    while (json_array_size(sections) > lim->max_sections)
        json_array_remove(sections, json_array_size(sections) - 1);

    /* links: the rule(s), the runbook, Grafana's dashboard and panel, a silence */
    json_t *actions = json_array();
    const char *sources[SOURCES_MAX];
    size_t n_sources = distinct(&v, "generatorURL", sources, SOURCES_MAX);
    for (size_t k = 0; k < n_sources; k++) {
        char label[16];
        snprintf(label, sizeof label, k ? "Source %zu" : "Source", k + 1);
        add_link(actions, lim->max_actions, label, sources[k]);
    }
    const char *runbook = annotation(&v, "runbook_url");
    if (!runbook && (runbook = annotation(&v, "runbook")) && strncmp(runbook, "https://", 8) &&
        strncmp(runbook, "http://", 7))
        runbook = NULL; /* "runbook" may be prose rather than an address */
    add_link(actions, lim->max_actions, "Runbook", runbook);
    if (grafana) {
        const char *one_url[1];
        if (distinct(&v, "dashboardURL", one_url, 1))
            add_link(actions, lim->max_actions, "Dashboard", one_url[0]);
        if (distinct(&v, "panelURL", one_url, 1))
            add_link(actions, lim->max_actions, "Panel", one_url[0]);
    }
    if (v.firing) {
        char *silence = silence_link(&v, grafana);
        add_link(actions, lim->max_actions, "Silence", silence);
        free(silence);
    }

    json_t *mc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "@type", "MessageCard", "summary",
                           plain.data, "title", title.data, "themeColor", colour(&v, no_data),
                           "sections", sections, "potentialAction", actions);
    if (text.len)
        json_object_set_new(mc, "text", json_string(text.data));
    buf_release(&title);
    buf_release(&plain);
    buf_release(&text);

    CONNECTOR_SET(out->event, "%s", no_data ? "no_data" : status);
    out->update_root = !v.firing;
    const char *key = connector_jstr(p, "groupKey");
    if (key && *key && strlen("group:") + strlen(key) < sizeof out->thread_key) {
        CONNECTOR_SET(out->thread_key, "group:%s", key);
    } else if (key && *key) { /* too long to keep: a stable hash of it */
        char hex[65];
        bytes_hash(key, strlen(key), hex);
        CONNECTOR_SET(out->thread_key, "group:%s", hex);
    }
    json_decref(v.alerts);
    fit_texts(mc, lim->max_text);
    return connector_card(t, mc, lim, out, msg);
}

/* Alertmanager's body (version "4"); Grafana's (version "1") is pointed to its own type. */
static int translate(const struct connector_request *req, struct connector_result *out,
                     char msg[160])
{
    json_t *p = req->payload;
    json_t *version = json_object_get(p, "version");
    if (json_object_get(p, "orgId") || json_object_get(p, "ruleName")) {
        snprintf(msg, 160, "this is a Grafana alert notification: add a Grafana connector for it");
        return CARD_ERR_INVALID;
    }
    if (version && (!json_is_string(version) || strcmp(json_string_value(version), "4"))) {
        snprintf(msg, 160, "Alertmanager webhook version %s is not supported (version 4 is)",
                 json_is_string(version) && strlen(json_string_value(version)) < 16
                     ? json_string_value(version)
                     : "(unknown)");
        return CARD_ERR_INVALID;
    }
    if (!json_is_array(json_object_get(p, "alerts"))) {
        snprintf(msg, 160,
                 "not an Alertmanager notification: the body needs 'version' \"4\" and a list "
                 "of 'alerts'");
        return CARD_ERR_INVALID;
    }
    return connector_alert_group(&connector_alertmanager, req, false, out, msg);
}

const struct connector_type connector_alertmanager = {
    .id = "alertmanager",
    .name = "Prometheus Alertmanager",
    .description = "Alerts from Prometheus Alertmanager: one card per alert group, its later "
                   "notifications in the card's thread, green when resolved.",
    .icon = "alertmanager",
    .kind = CONNECTOR_PUSH,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .setup = "1. In Alertmanager's configuration (`alertmanager.yml`), add a receiver that posts "
             "to this connector:\n\n"
             "```yaml\n"
             "receivers:\n"
             "  - name: switchboard\n"
             "    webhook_configs:\n"
             "      - url: '{url}'\n"
             "        send_resolved: true\n"
             "```\n\n"
             "2. Route alerts to it: make it the default receiver, or add a route with "
             "`matchers`:\n\n"
             "```yaml\n"
             "route:\n"
             "  receiver: switchboard\n"
             "  group_by: ['alertname', 'instance']\n"
             "```\n\n"
             "3. Reload Alertmanager (`curl -X POST http://localhost:9093/-/reload`, or send it "
             "SIGHUP). Check the configuration first with `amtool check-config "
             "alertmanager.yml`.\n\n"
             "Each alert group becomes one card; later notifications of the group are posted in "
             "its thread, and its card turns green when the group is resolved. Without "
             "`send_resolved: true` no resolved notification is sent.",
    .translate = translate,
};
