/* render_text.c: a canonical card as plain text: one line (or paragraph) per text, "name: value"
 * per fact, "title <url>" per link action. Used for the fallback text, notifications and the
 * terminal client. Markdown is kept as written (it reads well as text). */
#include "cards_int.h"

#include <string.h>

static void line(struct buf *out, const char *s)
{
    if (!s || !*s)
        return;
    if (out->len && out->data[out->len - 1] != '\n')
        buf_append(out, "\n", 1);
    buf_printf(out, "%s", s);
}

static void render_actions(struct buf *out, json_t *actions, int depth);

static void render_elements(struct buf *out, json_t *items, int depth)
{
    if (depth > 64)
        return;
    size_t i;
    json_t *el;
    json_array_foreach(items, i, el)
    {
        const char *type = jstr(el, "type");
        if (!type)
            continue;
        if (!strcmp(type, "TextBlock")) {
            line(out, jstr(el, "text"));
        } else if (!strcmp(type, "RichTextBlock")) {
            struct buf t;
            buf_init(&t, 1 << 20);
            size_t k;
            json_t *in;
            json_array_foreach(json_object_get(el, "inlines"), k, in)
            {
                const char *s = json_is_string(in) ? json_string_value(in) : jstr(in, "text");
                if (s)
                    buf_printf(&t, "%s", s);
            }
            line(out, t.data);
            buf_release(&t);
        } else if (!strcmp(type, "FactSet")) {
            size_t k;
            json_t *f;
            json_array_foreach(json_object_get(el, "facts"), k, f)
            {
                const char *t = jstr(f, "title"), *v = jstr(f, "value");
                if (out->len && out->data[out->len - 1] != '\n')
                    buf_append(out, "\n", 1);
                buf_printf(out, "%s%s%s", t ? t : "", t && *t ? ": " : "", v ? v : "");
            }
        } else if (!strcmp(type, "ColumnSet")) {
            size_t k;
            json_t *col;
            json_array_foreach(json_object_get(el, "columns"), k, col)
            {
                render_elements(out, json_object_get(col, "items"), depth + 1);
            }
        } else if (!strcmp(type, "Container") || !strcmp(type, "Column")) {
            render_elements(out, json_object_get(el, "items"), depth + 1);
        } else if (!strcmp(type, "ActionSet")) {
            render_actions(out, json_object_get(el, "actions"), depth + 1);
        } else if (!strcmp(type, "Table")) {
            size_t r;
            json_t *row;
            json_array_foreach(json_object_get(el, "rows"), r, row)
            {
                size_t k;
                json_t *cell;
                json_array_foreach(json_object_get(row, "cells"), k, cell)
                {
                    render_elements(out, json_object_get(cell, "items"), depth + 1);
                }
            }
        }
    }
}

static void render_actions(struct buf *out, json_t *actions, int depth)
{
    if (depth > 64)
        return;
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        const char *type = jstr(a, "type"), *title = jstr(a, "title");
        if (!type)
            continue;
        if (out->len && out->data[out->len - 1] != '\n')
            buf_append(out, "\n", 1);
        if (!strcmp(type, "Action.OpenUrl"))
            buf_printf(out, "%s <%s>", title ? title : "Open",
                       jstr(a, "url") ? jstr(a, "url") : "");
        else
            buf_printf(out, "[%s]", title ? title : type);
        if (!strcmp(type, "Action.ShowCard")) {
            json_t *card = json_object_get(a, "card");
            render_elements(out, json_object_get(card, "body"), depth + 1);
            render_actions(out, json_object_get(card, "actions"), depth + 1);
        }
    }
}

char *cards_render_text(const json_t *card)
{
    json_t *content = json_object_get(card, "content");
    struct buf out;
    buf_init(&out, 1 << 22);
    buf_append(&out, "", 0);
    render_elements(&out, json_object_get(content, "body"), 0);
    render_actions(&out, json_object_get(content, "actions"), 0);
    return out.data;
}
