/* common.c: what the translators share: a MessageCard they assemble becomes the canonical card
 * through the cards module (so URL filtering and limits are the posted cards' own), markdown
 * escaping of payload text, and small JSON and result helpers. */
#include "connectors.h"

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
    json_object_set_new(json_object_get(out->card.json, "envelope"), "dialect",
                        json_string(t->id));
    out->outcome = CONNECTOR_POST;
    return 0;
}

char *connector_md_escape(const char *text)
{
    if (!text)
        text = "";
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    for (const char *p = text; *p; p++) {
        if (strchr("\\`*_{}[]()#+-.!|<>~", *p))
            buf_append(&b, "\\", 1);
        buf_append(&b, p, 1);
    }
    buf_append(&b, "", 1);
    return b.data;
}

char *connector_first_line(const char *text, size_t max_chars)
{
    if (!text)
        text = "";
    size_t n = strcspn(text, "\r\n"), bytes = 0, chars = 0;
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

void connector_set(char *field, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(field, size, fmt, ap);
    va_end(ap);
}

int connector_ignore(struct connector_result *out, const char *fmt, ...)
{
    out->outcome = CONNECTOR_IGNORED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
    return 0;
}
