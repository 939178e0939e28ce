/* slack.c: Slack incoming-webhook payloads -> canonical card: text (mrkdwn), legacy attachments
 * (color, pretext, author, title/title_link, text, fields, image, thumb, footer, ts) and Block Kit
 * (section with text/fields/accessory image, header, context, divider, image, actions). Also the
 * mrkdwn -> markdown conversion. username / icon_url become the sender shown (the connector stays
 * the author). */
#include "cards_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void convert(struct buf *out, const char *s, size_t len, struct buf *notes);

/* One <...> token of mrkdwn: links, mentions and specials. */
static void convert_angle(struct buf *out, const char *tok, size_t len, struct buf *notes)
{
    char *t = xstrndup(tok, len);
    char *bar = strchr(t, '|');
    const char *label = bar ? bar + 1 : NULL;
    if (bar)
        *bar = '\0';
    if (t[0] == '@' || t[0] == '#') { /* <@U123|name>, <#C123|general> */
        buf_printf(out, "%c%s", t[0], label ? label : t + 1);
    } else if (t[0] == '!') { /* <!here>, <!channel>, <!subteam^ID|@team> */
        if (label)
            buf_printf(out, "%s", label);
        else
            buf_printf(out, "@%s", t + 1);
    } else if (cards_url_is_link(t)) {
        if (label) {
            buf_append(out, "[", 1);
            convert(out, label, strlen(label), notes);
            buf_printf(out, "](%s)", t);
        } else {
            buf_printf(out, "<%s>", t);
        }
    } else {
        buf_printf(out, "%s", label ? label : t);
        if (strchr(t, ':') && notes) /* an address of a scheme that is not allowed */
            buf_printf(notes, "%s%s (link not shown: unsupported address)", notes->len ? "\n" : "",
                       label ? label : t);
    }
    free(t);
}

/* Converts s[0..len) into out. */
static void convert(struct buf *out, const char *s, size_t len, struct buf *notes)
{
    const char *p = s, *end = s + len;
    while (p < end) {
        if (*p == '`') { /* code: copied verbatim up to its closing fence, if it has one */
            size_t fence = (size_t)(end - p) >= 3 && !strncmp(p, "```", 3) ? 3 : 1;
            const char *close = NULL;
            for (const char *q = p + fence; q + fence <= end && !close; q++)
                if (!strncmp(q, fence == 3 ? "```" : "`", fence))
                    close = q;
            if (close) {
                buf_append(out, p, (size_t)(close + fence - p));
                p = close + fence;
                continue;
            }
            buf_append(out, p++, 1);
            continue;
        }
        if (*p == '<') {
            const char *gt = memchr(p, '>', (size_t)(end - p));
            if (gt) {
                convert_angle(out, p + 1, (size_t)(gt - p - 1), notes);
                p = gt + 1;
                continue;
            }
        }
        if (*p == '&') {
            static const struct {
                const char *ent, *ch;
            } ents[] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
            bool done = false;
            for (size_t i = 0; i < 3 && !done; i++) {
                size_t n = strlen(ents[i].ent);
                if ((size_t)(end - p) >= n && !strncmp(p, ents[i].ent, n)) {
                    buf_append(out, ents[i].ch, 1);
                    p += n;
                    done = true;
                }
            }
            if (done)
                continue;
        }
        if (*p == '*' || *p == '~') { /* *bold* -> **bold**, ~strike~ -> ~~strike~~ */
            const char *close = memchr(p + 1, *p, (size_t)(end - p - 1));
            if (close && close > p + 1 && p[1] != ' ' && close[-1] != ' ' &&
                !memchr(p, '\n', (size_t)(close - p))) {
                buf_append(out, p, 1);
                buf_append(out, p, 1);
                convert(out, p + 1, (size_t)(close - p - 1), notes);
                buf_append(out, p, 1);
                buf_append(out, p, 1);
                p = close + 1;
                continue;
            }
        }
        buf_append(out, p++, 1);
    }
}

char *slack_mrkdwn_to_markdown(const char *s)
{
    return slack_mrkdwn_to_markdown_noting(s, NULL);
}

char *slack_mrkdwn_to_markdown_noting(const char *s, struct buf *notes)
{
    struct buf out;
    buf_init(&out, strlen(s) * 3 + 16);
    buf_append(&out, "", 0);
    convert(&out, s, strlen(s), notes);
    return out.data;
}

/* Text of a Slack text object or string: mrkdwn converted unless it is plain_text. */
static void add_mrkdwn(struct builder *b, json_t *to, const char *what, json_t *t, const char *size,
                       const char *weight, bool subtle)
{
    const char *text = json_is_string(t) ? json_string_value(t) : jstr(t, "text");
    if (!text || !*text || !builder_text_ok(b, what, text))
        return;
    const char *type = jstr(t, "type");
    if (type && !strcmp(type, "plain_text")) {
        builder_add(b, to, ac_text(text, size, weight, subtle));
        return;
    }
    char *md = slack_mrkdwn_to_markdown_noting(text, &b->notes);
    builder_add(b, to, ac_text(md, size, weight, subtle));
    free(md);
}

static void add_attachment(struct builder *b, json_t *a, bool separator)
{
    if (!json_is_object(a))
        return;
    json_t *c = ac_container(separator);
    json_t *items = ac_items(c);
    char color[8];
    if (cards_color(json_object_get(a, "color"), color)) {
        if (!b->theme[0])
            memcpy(b->theme, color, sizeof color);
        json_object_set_new(c, "style", json_string("emphasis"));
    }
    add_mrkdwn(b, items, "pretext", json_object_get(a, "pretext"), NULL, NULL, false);
    builder_linked_text(b, items, "an attachment author", jstr(a, "author_name"),
                        jstr(a, "author_link"), "Small", NULL, true);
    builder_linked_text(b, items, "an attachment title", jstr(a, "title"), jstr(a, "title_link"),
                        "Medium", "Bolder", false);
    add_mrkdwn(b, items, "an attachment text", json_object_get(a, "text"), NULL, NULL, false);
    json_t *fields = json_object_get(a, "fields");
    if (json_is_array(fields) && json_array_size(fields) &&
        builder_count_ok(b, "fields", json_array_size(fields), b->lim->max_facts)) {
        json_t *set = ac_fact_set();
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f)
        {
            const char *v = jstr(f, "value");
            char *md = slack_mrkdwn_to_markdown_noting(v ? v : "", &b->notes);
            bool ok = builder_fact(b, set, "a field", jstr(f, "title"), md);
            free(md);
            if (!ok)
                break;
        }
        builder_add(b, items, set);
    }
    builder_add(b, items, ac_image(b, jstr(a, "image_url"), NULL, "Stretch"));
    builder_add(b, items, ac_image(b, jstr(a, "thumb_url"), NULL, "Small"));
    const char *footer = jstr(a, "footer");
    json_t *ts = json_object_get(a, "ts");
    char when[32] = "";
    double secs = json_is_number(ts) ? json_number_value(ts)
                  : json_is_string(ts) && *json_string_value(ts)
                      ? strtod(json_string_value(ts), NULL)
                      : -1;
    if (secs >= 0 && secs < 1e11) /* epoch seconds; anything else is not a time */
        time_format_rfc3339((int64_t)(secs * 1000), when);
    if (footer && !builder_text_ok(b, "a footer", footer))
        footer = NULL;
    if (footer || *when) {
        struct buf line;
        buf_init(&line, SIZE_MAX / 2);
        buf_printf(&line, "%s%s%s", footer ? footer : "", footer && *when ? " | " : "", when);
        builder_add(b, items, ac_text(line.data, "Small", NULL, true));
        buf_release(&line);
    }
    const char *fallback = jstr(a, "fallback");
    if (!json_array_size(items) && fallback)
        builder_add(b, items, ac_text(fallback, NULL, NULL, false));
    if (json_array_size(items))
        builder_add(b, b->body, c);
    else
        json_decref(c);
}

static void add_block(struct builder *b, json_t *blk)
{
    const char *type = jstr(blk, "type");
    if (!type)
        return;
    if (!strcmp(type, "header")) {
        add_mrkdwn(b, b->body, "a header", json_object_get(blk, "text"), "Large", "Bolder", false);
    } else if (!strcmp(type, "section")) {
        json_t *c = ac_container(false);
        add_mrkdwn(b, ac_items(c), "a section", json_object_get(blk, "text"), NULL, NULL, false);
        json_t *fields = json_object_get(blk, "fields");
        if (json_is_array(fields) &&
            builder_count_ok(b, "fields", json_array_size(fields), b->lim->max_facts)) {
            size_t i;
            json_t *f;
            json_array_foreach(fields, i, f)
            {
                add_mrkdwn(b, ac_items(c), "a field", f, NULL, NULL, false);
            }
        }
        json_t *acc = json_object_get(blk, "accessory");
        const char *acc_type = jstr(acc, "type");
        if (acc_type && !strcmp(acc_type, "image"))
            builder_add(b, ac_items(c),
                        ac_image(b, jstr(acc, "image_url"), jstr(acc, "alt_text"), "Small"));
        else if (acc_type && !strcmp(acc_type, "button")) {
            json_t *label = json_object_get(acc, "text");
            const char *title = json_is_object(label) ? jstr(label, "text") : NULL;
            const char *url = jstr(acc, "url");
            builder_add(b, b->actions,
                        url ? ac_open_url(b, title, url) : ac_inert_action(title, "button", NULL));
        }
        builder_add(b, b->body, c);
    } else if (!strcmp(type, "context")) {
        size_t i;
        json_t *el;
        json_array_foreach(json_object_get(blk, "elements"), i, el)
        {
            const char *t = jstr(el, "type");
            if (t && !strcmp(t, "image"))
                builder_add(b, b->body,
                            ac_image(b, jstr(el, "image_url"), jstr(el, "alt_text"), "Small"));
            else
                add_mrkdwn(b, b->body, "a context element", el, "Small", NULL, true);
        }
    } else if (!strcmp(type, "divider")) {
        builder_add(b, b->body,
                    json_pack("{s:s, s:[], s:b}", "type", "Container", "items", "separator", 1));
    } else if (!strcmp(type, "image")) {
        json_t *title = json_object_get(blk, "title");
        if (title)
            add_mrkdwn(b, b->body, "an image title", title, NULL, "Bolder", false);
        builder_add(b, b->body,
                    ac_image(b, jstr(blk, "image_url"), jstr(blk, "alt_text"), "Stretch"));
    } else if (!strcmp(type, "actions")) {
        size_t i;
        json_t *el;
        json_array_foreach(json_object_get(blk, "elements"), i, el)
        {
            json_t *label = json_object_get(el, "text");
            const char *title = json_is_object(label) ? jstr(label, "text") : NULL;
            const char *url = jstr(el, "url");
            builder_add(b, b->actions,
                        url ? ac_open_url(b, title, url) : ac_inert_action(title, "button", NULL));
        }
    } else {
        builder_note(b, "(a %s block is not shown)", type);
    }
}

int adapt_slack(struct builder *b, json_t *p)
{
    json_t *text = json_object_get(p, "text");
    json_t *blocks = json_object_get(p, "blocks"), *atts = json_object_get(p, "attachments");
    bool has_blocks = json_is_array(blocks) && json_array_size(blocks);
    bool has_atts = json_is_array(atts) && json_array_size(atts);
    if ((!json_is_string(text) || !*json_string_value(text)) && !has_blocks && !has_atts)
        return builder_fail(b, CARD_ERR_EMPTY, "no_text");
    b->sender_name = jstr(p, "username");
    b->sender_image = jstr(p, "icon_url");
    if (json_is_false(json_object_get(p, "mrkdwn")) && json_is_string(text)) {
        if (builder_text_ok(b, "the text", json_string_value(text)))
            builder_add(b, b->body, ac_text(json_string_value(text), NULL, NULL, false));
    } else if (has_blocks) /* with blocks, text is the notification fallback */
        b->summary = jstr(p, "text");
    else
        add_mrkdwn(b, b->body, "the text", text, NULL, NULL, false);
    if (has_blocks &&
        builder_count_ok(b, "blocks", json_array_size(blocks), b->lim->max_sections)) {
        size_t i;
        json_t *blk;
        json_array_foreach(blocks, i, blk)
        {
            add_block(b, blk);
        }
    }
    if (has_atts &&
        builder_count_ok(b, "attachments", json_array_size(atts), b->lim->max_sections)) {
        size_t i;
        json_t *a;
        json_array_foreach(atts, i, a)
        {
            add_attachment(b, a, json_array_size(b->body) > 0);
        }
    }
    return b->err;
}
