/* catalog.c: the table of connector types, its JSON for GET /api/v1/connector-types, and the
 * checks every type's settings go through (one schema language for all of them). */
#include "connectors.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#define CONNECTOR(var) extern const struct connector_type var;
#include "catalog.def"
#undef CONNECTOR

static const struct connector_type *const catalog[] = {
#define CONNECTOR(var) &var,
#include "catalog.def"
#undef CONNECTOR
};

#define N_TYPES (sizeof catalog / sizeof catalog[0])
#define LIST_MAX 50 /* items of an "events" or "list" setting */
#define TEXT_MAX_DEFAULT 2048

const struct connector_type *connectors_find(const char *id)
{
    for (size_t i = 0; id && i < N_TYPES; i++)
        if (!strcmp(catalog[i]->id, id))
            return catalog[i];
    return NULL;
}

const struct connector_setting *connectors_secret_setting(const struct connector_type *t)
{
    for (size_t k = 0; t && k < t->n_settings; k++)
        if (t->settings[k].secret)
            return &t->settings[k];
    return NULL;
}

static json_t *setting_json(const struct connector_setting *s)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:b}", "name", s->name, "label", s->label, "type",
                          s->type, "required", s->required, "secret", s->secret);
    if (s->help)
        json_object_set_new(j, "help", json_string(s->help));
    if (s->options) {
        json_t *o = json_array();
        for (const char *const *p = s->options; *p; p++)
            json_array_append_new(o, json_string(*p));
        json_object_set_new(j, "options", o);
    }
    if (s->def)
        json_object_set_new(j, "default", json_loads(s->def, JSON_DECODE_ANY, NULL));
    if (s->min || s->max) {
        json_object_set_new(j, "min", json_integer(s->min));
        json_object_set_new(j, "max", json_integer(s->max));
    }
    return j;
}

json_t *connectors_catalog_json(void)
{
    json_t *types = json_array();
    for (size_t i = 0; i < N_TYPES; i++) {
        const struct connector_type *t = catalog[i];
        json_t *settings = json_array();
        for (size_t k = 0; k < t->n_settings; k++)
            json_array_append_new(settings, setting_json(&t->settings[k]));
        json_array_append_new(types,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:o}", "id", t->id, "name",
                                        t->name, "description", t->description, "icon", t->icon,
                                        "kind", t->kind == CONNECTOR_PULLED ? "pulled" : "push",
                                        "setup", t->setup, "settings", settings));
    }
    return types;
}

static bool is_option(const struct connector_setting *s, const char *v)
{
    for (const char *const *p = s->options; p && *p; p++)
        if (!strcmp(*p, v))
            return true;
    return false;
}

static bool single_line(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return false;
    return true;
}

/* Checks one value; the value to store (new reference) or NULL with msg set. */
static json_t *check_value(const struct connector_setting *s, json_t *v, char msg[160])
{
    long max = s->max ? s->max : TEXT_MAX_DEFAULT;
    if (!strcmp(s->type, "number")) {
        if (!json_is_integer(v) || json_integer_value(v) < s->min ||
            json_integer_value(v) > s->max) {
            snprintf(msg, 160, "'%s' must be a whole number from %ld to %ld", s->name, s->min,
                     s->max);
            return NULL;
        }
        return json_incref(v);
    }
    if (!strcmp(s->type, "events") || !strcmp(s->type, "list")) {
        if (!json_is_array(v) || json_array_size(v) > LIST_MAX) {
            snprintf(msg, 160, "'%s' must be a list of at most %d names", s->name, LIST_MAX);
            return NULL;
        }
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            const char *name = json_string_value(e);
            bool ok = name && *name && strlen(name) <= 128 && single_line(name) &&
                      (strcmp(s->type, "events") || is_option(s, name));
            if (!ok) {
                snprintf(msg, 160, "'%s' has an item that is not %s", s->name,
                         strcmp(s->type, "events") ? "a name of 1 to 128 characters"
                                                   : "one of its options");
                return NULL;
            }
        }
        return json_incref(v);
    }
    /* "string", "url", "pattern" */
    const char *text = json_string_value(v);
    if (!text || utf8_length(text) > (size_t)max || !single_line(text) || (s->required && !*text)) {
        snprintf(msg, 160, "'%s' must be %stext on one line of at most %ld characters", s->name,
                 s->required ? "non-empty " : "", max);
        return NULL;
    }
    if (!strcmp(s->type, "url") && *text && strncmp(text, "http://", 7) &&
        strncmp(text, "https://", 8)) {
        snprintf(msg, 160, "'%s' must be an http:// or https:// URL", s->name);
        return NULL;
    }
    return json_incref(v);
}

json_t *connectors_settings_check(const struct connector_type *t, json_t *in, const json_t *old,
                                  char msg[160])
{
    if (in && !json_is_object(in)) {
        snprintf(msg, 160, "'settings' must be an object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < t->n_settings; k++)
            known |= !strcmp(t->settings[k].name, key);
        /* name and image are the connector's own fields, secrets are never settings */
        if (!known || !strcmp(key, "name") || !strcmp(key, "image")) {
            snprintf(msg, 160, "'settings' has no field '%.60s' for %s", key, t->name);
            return NULL;
        }
    }
    json_t *out = json_object();
    for (size_t k = 0; k < t->n_settings; k++) {
        const struct connector_setting *s = &t->settings[k];
        if (s->secret || !strcmp(s->type, "image") || !strcmp(s->name, "name"))
            continue;
        json_t *given = json_object_get(in, s->name);
        json_t *value = NULL;
        if (given && !json_is_null(given)) {
            value = check_value(s, given, msg);
            if (!value) {
                json_decref(out);
                return NULL;
            }
        } else if (old && json_object_get(old, s->name)) {
            value = json_incref(json_object_get(old, s->name));
        } else if (s->def) {
            value = json_loads(s->def, JSON_DECODE_ANY, NULL);
        } else if (s->required) {
            snprintf(msg, 160, "'%s' is required for %s", s->name, t->name);
            json_decref(out);
            return NULL;
        }
        if (value)
            json_object_set_new(out, s->name, value);
    }
    return out;
}

bool connectors_wanted(const struct connector_type *t, const json_t *settings,
                       const struct connector_result *r, char reason[160])
{
    for (size_t k = 0; k < t->n_settings; k++) {
        const struct connector_setting *s = &t->settings[k];
        json_t *v = json_object_get(settings, s->name);
        if (!strcmp(s->type, "events") && r->event[0] && json_array_size(v)) {
            bool found = false;
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) found |= !strcmp(json_string_value(e), r->event);
            if (!found) {
                snprintf(reason, 160, "the '%s' events are not selected in the settings", r->event);
                return false;
            }
        }
        const char *pattern = json_string_value(v);
        if (!strcmp(s->type, "pattern") && r->branch[0] && pattern && *pattern &&
            fnmatch(pattern, r->branch, 0) != 0) {
            snprintf(reason, 160, "branch '%.60s' does not match '%.60s'", r->branch, pattern);
            return false;
        }
    }
    return true;
}
