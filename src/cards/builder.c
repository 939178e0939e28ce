/* builder.c: the shared pieces of every adapter: Adaptive Card elements, limits, URL filters
 * and the notes that make sure nothing a sender said is silently dropped. */
#include "cards_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct card_limits card_default_limits = {
    .max_sections = 50,
    .max_facts = 100,
    .max_images = 50,
    .max_actions = 20,
    .max_text = 28 * 1024,
    .max_elements = 2000,
};

int builder_fail(struct builder *b, int err, const char *fmt, ...)
{
    if (b->err)
        return b->err;
    b->err = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->msg, 160, fmt, ap);
    va_end(ap);
    return err;
}

void builder_note(struct builder *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *line = xmalloc((size_t)n + 1); /* whole: a cut could split a UTF-8 character */
    va_start(ap, fmt);
    vsnprintf(line, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_printf(&b->notes, "%s%s", b->notes.len ? "\n" : "", line);
    free(line);
}

void builder_add(struct builder *b, json_t *to, json_t *el)
{
    if (!el)
        return;
    if (++b->elements > b->lim->max_elements) {
        builder_fail(b, CARD_ERR_LIMIT, "the card has more than %zu elements",
                     b->lim->max_elements);
        json_decref(el);
        return;
    }
    json_array_append_new(to, el);
}

bool builder_text_ok(struct builder *b, const char *what, const char *text)
{
    if (utf8_length(text) <= b->lim->max_text)
        return true;
    builder_fail(b, CARD_ERR_LIMIT, "%s is longer than %zu characters", what, b->lim->max_text);
    return false;
}

bool builder_count_ok(struct builder *b, const char *what, size_t n, size_t max)
{
    if (n <= max)
        return true;
    builder_fail(b, CARD_ERR_LIMIT, "too many %s: %zu (at most %zu)", what, n, max);
    return false;
}

const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *jget_ci(json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (!strcasecmp(k, key))
            return v;
    }
    return NULL;
}

json_t *ac_text(const char *text, const char *size, const char *weight, bool subtle)
{
    json_t *t = json_pack("{s:s, s:s, s:b}", "type", "TextBlock", "text", text, "wrap", 1);
    if (size)
        json_object_set_new(t, "size", json_string(size));
    if (weight)
        json_object_set_new(t, "weight", json_string(weight));
    if (subtle)
        json_object_set_new(t, "isSubtle", json_true());
    return t;
}

json_t *ac_fact_set(void)
{
    return json_pack("{s:s, s:[]}", "type", "FactSet", "facts");
}

void ac_fact_add(json_t *set, const char *title, const char *value)
{
    json_array_append_new(json_object_get(set, "facts"),
                          json_pack("{s:s, s:s}", "title", title, "value", value));
}

static bool has_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    return !strncasecmp(url, scheme, n) && url[n] == ':';
}

bool cards_url_is_link(const char *url)
{
    return url &&
           (has_scheme(url, "https") || has_scheme(url, "http") || has_scheme(url, "mailto"));
}

bool cards_url_is_image(const char *url)
{
    return url && (has_scheme(url, "https") || has_scheme(url, "http") ||
                   !strncasecmp(url, "data:image/", 11));
}

json_t *ac_image(struct builder *b, const char *url, const char *alt, const char *size)
{
    if (!url || !*url)
        return NULL;
    if (!cards_url_is_image(url)) {
        builder_note(b, "(image not shown: unsupported address)");
        return NULL;
    }
    json_t *img = json_pack("{s:s, s:s}", "type", "Image", "url", url);
    if (alt && *alt)
        json_object_set_new(img, "altText", json_string(alt));
    if (size)
        json_object_set_new(img, "size", json_string(size));
    return img;
}

json_t *ac_container(bool separator)
{
    json_t *c = json_pack("{s:s, s:[]}", "type", "Container", "items");
    if (separator)
        json_object_set_new(c, "separator", json_true());
    return c;
}

json_t *ac_items(json_t *container)
{
    return json_object_get(container, "items");
}

json_t *ac_open_url(struct builder *b, const char *title, const char *url)
{
    if (!cards_url_is_link(url)) {
        builder_note(b, "%s (link not shown: unsupported address)", title ? title : "action");
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s}", "type", "Action.OpenUrl", "title", title ? title : url,
                     "url", url);
}

json_t *ac_inert_action(const char *title, const char *kind, json_t *details)
{
    json_t *data = json_pack("{s:s}", "kind", kind);
    if (details)
        json_object_set(data, "details", details);
    return json_pack("{s:s, s:s, s:b, s:s, s:{s:o}}", "type", "Action.Submit", "title",
                     title ? title : kind, "isEnabled", 0, "tooltip",
                     "This action cannot be run from Switchboard yet", "data", "switchboard", data);
}

bool cards_color(json_t *v, char out[8])
{
    if (json_is_integer(v)) {
        json_int_t c = json_integer_value(v);
        if (c < 0 || c > 0xFFFFFF)
            return false;
        snprintf(out, 8, "#%06X", (unsigned)c);
        return true;
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    static const struct {
        const char *name, *hex;
    } named[] = {{"good", "#2EB67D"}, {"warning", "#ECB22E"}, {"danger", "#E01E5A"}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (!strcasecmp(s, named[i].name)) {
            snprintf(out, 8, "%s", named[i].hex);
            return true;
        }
    if (*s == '#')
        s++;
    size_t n = strlen(s);
    if (n != 6 && n != 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    if (n == 3)
        snprintf(out, 8, "#%c%c%c%c%c%c", s[0], s[0], s[1], s[1], s[2], s[2]);
    else
        snprintf(out, 8, "#%s", s);
    for (char *p = out; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return true;
}
