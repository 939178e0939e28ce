/* common.c: what the translators share: a MessageCard they assemble becomes the canonical card
 * through the cards module (so URL filtering and limits are the posted cards' own), markdown
 * escaping of payload text, and small JSON and result helpers. */
#include "connectors.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int connector_card(const struct connector_type *t, json_t *mc, const struct card_limits *lim,
                   struct connector_result *out, char msg[160])
{
    int rc = cards_from_payload(mc, CARD_MESSAGECARD, lim, &out->card, msg);
    json_decref(mc);
    if (rc)
        return rc;
    json_object_set_new(json_object_get(out->card.json, "envelope"), "dialect", json_string(t->id));
    out->outcome = CONNECTOR_POST;
    return 0;
}

char *connector_md_escape(const char *text)
{
    if (!text)
        text = "";
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    bool line_start = true; /* only blanks so far on this line */
    for (const char *p = text; *p; p++) {
        char c = *p;
        bool esc = strchr("\\`*_[]<>~|", c) != NULL || (c == '!' && p[1] == '[') || /* an image */
                   (c == '&' && (isalnum((unsigned char)p[1]) || p[1] == '#'));     /* an entity */
        if (line_start && strchr("#-+=", c))
            esc = true; /* a heading, list item or rule */
        if (line_start && isdigit((unsigned char)c)) {
            const char *q = p;
            while (isdigit((unsigned char)*q))
                q++;
            if (*q == '.' || *q == ')') { /* an ordered list: escape its delimiter */
                buf_append(&b, p, (size_t)(q - p));
                buf_append(&b, "\\", 1);
                p = q;
                c = *p;
            }
        }
        if (esc)
            buf_append(&b, "\\", 1);
        buf_append(&b, p, 1);
        line_start = c == '\n' || (line_start && (c == ' ' || c == '\t'));
    }
    buf_append(&b, "", 1);
    return b.data;
}

char *connector_first_line(const char *text, size_t max_chars)
{
    if (!text)
        text = "";
    return connector_clip(text, strcspn(text, "\r\n"), max_chars);
}

char *connector_clip(const char *text, size_t n, size_t max_chars)
{
    size_t bytes = 0, chars = 0;
    while (bytes < n && chars < max_chars) {
        bytes++;
        while (bytes < n && ((unsigned char)text[bytes] & 0xC0) == 0x80)
            bytes++;
        chars++;
    }
    bool cut = bytes < n;
    char *out = xmalloc(bytes + 4);
    memcpy(out, text, bytes);
    if (cut)
        memcpy(out + bytes, "\xE2\x80\xA6", 3); /* … */
    out[bytes + (cut ? 3 : 0)] = '\0';
    return out;
}

const char *connector_jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

const char *connector_jpath(const json_t *obj, ...)
{
    va_list ap;
    va_start(ap, obj);
    const json_t *cur = obj;
    const char *key;
    while (cur && (key = va_arg(ap, const char *)))
        cur = json_object_get(cur, key);
    va_end(ap);
    return json_string_value(cur);
}

/* Drops from s the bytes of UTF-8 characters that a cut left incomplete: the field's size at
 * its end, or a "%.40s" precision anywhere (payload strings are valid UTF-8 before a cut). */
static void utf8_mend(char *s)
{
    unsigned char *r = (unsigned char *)s, *w = r;
    while (*r) {
        size_t need = *r < 0x80    ? 1
                      : *r >= 0xF8 ? 0
                      : *r >= 0xF0 ? 4
                      : *r >= 0xE0 ? 3
                      : *r >= 0xC0 ? 2
                                   : 0;
        size_t k = 1;
        while (need > 1 && k < need && (r[k] & 0xC0) == 0x80)
            k++;
        if (need && k == need) {
            memmove(w, r, need);
            w += need;
        }
        r += need && k == need ? need : k; /* a stray byte, or the start of a cut character */
    }
    *w = '\0';
}

void connector_set(char *field, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(field, size, fmt, ap);
    va_end(ap);
    utf8_mend(field);
}

int connector_ignore(struct connector_result *out, const char *fmt, ...)
{
    out->outcome = CONNECTOR_IGNORED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
    utf8_mend(out->reason);
    return 0;
}

void connector_md_append(struct buf *b, const char *text)
{
    char *e = connector_md_escape(text);
    buf_append(b, e, strlen(e));
    free(e);
}

void connector_md_link(struct buf *b, const char *label, const char *url)
{
    bool link = url && (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7));
    if (link)
        buf_append(b, "[", 1);
    connector_md_append(b, label);
    if (!link)
        return;
    buf_append(b, "](", 2);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= 0x20 || *p == 0x7F || strchr("()<>\\\"`", *p))
            buf_printf(b, "%%%02X", *p);
        else
            buf_append(b, p, 1);
    }
    buf_append(b, ")", 1);
}

void connector_url_part(struct buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            buf_append(b, p, 1);
        else
            buf_printf(b, "%%%02X", *p);
    }
}

char *connector_excerpt(const char *text, size_t max_chars)
{
    if (!text)
        text = "";
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_append(&b, "", 0);
    size_t chars = 0, blank = 0;
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    for (; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            if (*p == '\r' && p[1] == '\n')
                p++;
            blank++;
            continue;
        }
        bool cut = ((unsigned char)*p & 0xC0) != 0x80 && chars++ == max_chars;
        if (blank || cut) /* line ends are written when text follows them: none trail */
            while (b.len && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
                b.data[--b.len] = '\0';
        if (cut) {
            buf_append(&b, "\xE2\x80\xA6", 3); /* … */
            return b.data;
        }
        if (blank)
            buf_append(&b, "\n\n", blank > 1 ? 2 : 1);
        blank = 0;
        buf_append(&b, p, 1);
    }
    while (b.len && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
        b.data[--b.len] = '\0';
    return b.data;
}

/* The plain text of the first line of a connector's markdown: escapes undone, emphasis marks
 * and link destinations dropped (the labels stay). Caller frees. */
static char *md_plain_line(const char *md)
{
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_append(&b, "", 0);
    for (const char *p = md; *p && *p != '\n' && *p != '\r'; p++) {
        if (*p == '\\' && p[1] && p[1] != '\n') {
            buf_append(&b, ++p, 1);
        } else if (*p == '*' || *p == '`' || *p == '[') {
            continue;
        } else if (*p == ']' && p[1] == '(') {
            const char *close = strchr(p, ')');
            if (!close)
                break;
            p = close;
        } else {
            buf_append(&b, p, 1);
        }
    }
    char *line = connector_first_line(b.data, 120);
    buf_release(&b);
    return line;
}

json_t *connector_messagecard(const char *color, const char *text, const char *body, json_t *facts)
{
    char *summary = md_plain_line(text);
    json_t *mc = json_pack("{s:s, s:s, s:s, s:s}", "@type", "MessageCard", "@context",
                           "https://schema.org/extensions", "summary", summary, "text", text);
    free(summary);
    if (color)
        json_object_set_new(mc, "themeColor", json_string(color));
    json_t *section = json_object();
    if (body && *body)
        json_object_set_new(section, "text", json_string(body));
    if (facts && json_array_size(facts))
        json_object_set(section, "facts", facts);
    json_decref(facts);
    if (json_object_size(section))
        json_object_set_new(mc, "sections", json_pack("[o]", section));
    else
        json_decref(section);
    return mc;
}
