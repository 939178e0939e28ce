/* builder.c: the shared pieces of every adapter: Adaptive Card elements, limits, URL filters
 * and the notes that make sure nothing a sender said is silently dropped. */
#define _GNU_SOURCE /* memrchr */
#include "cards_int.h"

#include <ctype.h>
#include <stdint.h>
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

void builder_linked_text(struct builder *b, json_t *to, const char *what, const char *text,
                         const char *url, const char *size, const char *weight, bool subtle)
{
    if (!text || !*text || !builder_text_ok(b, what, text))
        return;
    if (!url || !*url) {
        builder_add(b, to, ac_text(text, size, weight, subtle));
        return;
    }
    if (!cards_url_is_link(url)) {
        builder_note(b, "%s (link not shown: unsupported address)", text);
        builder_add(b, to, ac_text(text, size, weight, subtle));
        return;
    }
    struct buf t;
    buf_init(&t, SIZE_MAX / 2);
    buf_printf(&t, "[%s](%s)", text, url);
    builder_add(b, to, ac_text(t.data, size, weight, subtle));
    buf_release(&t);
}

bool builder_fact(struct builder *b, json_t *set, const char *what, const char *title,
                  const char *value)
{
    char name_what[64], value_what[64];
    snprintf(name_what, sizeof name_what, "%s name", what);
    snprintf(value_what, sizeof value_what, "%s value", what);
    if ((title && !builder_text_ok(b, name_what, title)) ||
        (value && !builder_text_ok(b, value_what, value)))
        return false;
    ac_fact_add(set, title ? title : "", value ? value : "");
    return true;
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

/* Whether a markdown link destination is one a card may show: no scheme (relative), or http,
 * https, mailto. Entities, escapes and blanks inside the scheme (tricks that renderers decode
 * into "javascript:") count as unsafe. */
static bool md_destination_ok(const char *url, size_t len)
{
    size_t start = 0;
    while (start < len && (url[start] == ' ' || url[start] == '<'))
        start++;
    const char *colon = memchr(url + start, ':', len - start);
    if (!colon) {
        /* no literal ":": a relative link, unless an entity or escape before the path could
         * decode to one ("javascript&#58;x", "javascript&colon;x", "javascript%3ax") */
        size_t path = strcspn(url + start, "/?#");
        for (size_t k = start; k < len && k < start + path; k++)
            if (url[k] == '&' || url[k] == '%' || url[k] == '\\')
                return false;
        return true;
    }
    size_t n = (size_t)(colon - url) - start;
    bool tricks = false, relative = false;
    for (size_t k = 0; k < n; k++) {
        char c = url[start + k];
        tricks |= c == '&' || c == '%' || c == '\\';
        relative |= c == '/' || c == '?' || c == '#';
    }
    if (relative && !tricks)
        return true; /* "a/b:c" is a path, not a scheme */
    char scheme[16];
    if (n == 0 || n >= sizeof scheme)
        return false;
    for (size_t k = 0; k < n; k++) {
        char c = url[start + k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
        scheme[k] = (char)(c | 0x20);
    }
    scheme[n] = '\0';
    return !strcmp(scheme, "http") || !strcmp(scheme, "https") || !strcmp(scheme, "mailto");
}

/* Markdown text with the links whose destination is not allowed turned into their plain label
 * (inline [label](dest), autolinks <scheme:...>, and [ref]: dest definitions). Returns a new
 * string, or NULL when nothing changed. */
static char *md_safe_links(struct builder *b, const char *s)
{
    struct buf out;
    buf_init(&out, strlen(s) + 1);
    buf_append(&out, "", 0);
    bool changed = false;
    const char *p = s;
    while (*p) {
        if (p[0] == '\\' && p[1]) { /* an escaped character starts and ends nothing */
            buf_append(&out, p, 2);
            p += 2;
            continue;
        }
        if (p[0] == ']' && p[1] == '(') { /* an inline link: find its label and destination */
            const char *dest = p + 2, *q = dest;
            int depth = 1;
            while (*q && depth) {
                if (*q == '\\' && q[1])
                    q++;
                else if (*q == '(')
                    depth++;
                else if (*q == ')')
                    depth--;
                if (depth)
                    q++;
            }
            if (*q == ')' && !md_destination_ok(dest, (size_t)(q - dest))) {
                /* drop the "[" that opened the label, keep the label, drop "](dest)" */
                char *open = out.len ? out.data + out.len : NULL;
                do /* the last "[" that is not escaped */
                    open =
                        open > out.data ? memrchr(out.data, '[', (size_t)(open - out.data)) : NULL;
                while (open && open > out.data && open[-1] == '\\');
                if (open) {
                    memmove(open, open + 1, out.len - (size_t)(open - out.data));
                    out.len--;
                    builder_note(b, "%s (link not shown: unsupported address)", open);
                }
                p = q + 1;
                changed = true;
                continue;
            }
        }
        if (*p == '<') { /* an autolink */
            const char *end = strchr(p, '>'), *colon = strchr(p, ':');
            if (end && colon && colon < end && !memchr(p + 1, ' ', (size_t)(end - p - 1)) &&
                !md_destination_ok(p + 1, (size_t)(end - p - 1))) {
                buf_append(&out, p + 1, (size_t)(end - p - 1)); /* as text, not a link */
                p = end + 1;
                changed = true;
                continue;
            }
        }
        if (*p == '[' && (p == s || p[-1] == '\n')) { /* [ref]: destination */
            const char *close = strstr(p, "]:");
            const char *eol = strchr(p, '\n');
            if (close && (!eol || close < eol)) {
                const char *dest = close + 2;
                while (*dest == ' ')
                    dest++;
                size_t len = eol ? (size_t)(eol - dest) : strlen(dest);
                if (!md_destination_ok(dest, len)) {
                    p = eol ? eol + 1 : dest + len;
                    changed = true;
                    builder_note(b, "(a link reference not shown: unsupported address)");
                    continue;
                }
            }
        }
        buf_append(&out, p++, 1);
    }
    if (!changed) {
        buf_release(&out);
        return NULL;
    }
    return out.data;
}

static void safe_string(struct builder *b, json_t *obj, const char *key)
{
    const char *s = jstr(obj, key);
    char *safe = s ? md_safe_links(b, s) : NULL;
    if (safe) {
        json_object_set_new(obj, key, json_string(safe));
        free(safe);
    }
}

void builder_safe_markdown(struct builder *b, json_t *node, int depth)
{
    if (depth > 128)
        return;
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v)
        {
            builder_safe_markdown(b, v, depth + 1);
        }
        return;
    }
    if (!json_is_object(node))
        return;
    const char *type = jstr(node, "type");
    if (type && (!strcmp(type, "TextBlock") || !strcmp(type, "TextRun")))
        safe_string(b, node, "text");
    if (json_object_get(node, "title") && json_object_get(node, "value")) /* a fact */
    {
        safe_string(b, node, "title");
        safe_string(b, node, "value");
    }
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v)
    {
        if (json_is_object(v) || json_is_array(v))
            builder_safe_markdown(b, v, depth + 1);
    }
}
