/* messagecard.c: Teams/Office 365 MessageCard -> canonical card.
 * title, text, summary, themeColor; sections with title, activity (image, title, subtitle, text),
 * text, facts, images, heroImage, startGroup and the markdown flag (false: the text is HTML, which
 * is reduced to plain text); potentialAction of OpenUri, HttpPOST, ActionCard, InvokeAddInCommand
 * and schema.org ViewAction. Teams' "type":"MessageCard" without "@" is accepted like "@type". */
#include "cards_int.h"

#include <string.h>
#include <strings.h>

/* The value of attribute `name` in the tag starting at `tag` (up to `end`), copied; or NULL. */
static char *tag_attr(const char *tag, const char *end, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = tag; p + n + 1 < end; p++) {
        if (strncasecmp(p, name, n) || p[n] != '=' || (p > tag && p[-1] != ' '))
            continue;
        const char *v = p + n + 1;
        char quote = *v == '"' || *v == '\'' ? *v++ : 0;
        const char *stop = v;
        while (stop < end && (quote ? *stop != quote : *stop != ' '))
            stop++;
        return xstrndup(v, (size_t)(stop - v));
    }
    return NULL;
}

/* HTML (markdown:false sections) to the card's markdown: tags dropped except links, which become
 * [label](url) (or a note when the address is not allowed), common entities decoded, <br>/<p>/<li>
 * become line breaks. A '<' that opens no tag is text. Caller frees. */
static char *html_to_text(struct builder *b, const char *s)
{
    struct buf out;
    buf_init(&out, strlen(s) * 2 + 16);
    buf_append(&out, "", 0);
    static const struct {
        const char *ent, *ch;
    } ents[] = {{"&amp;", "&"},   {"&lt;", "<"},  {"&gt;", ">"},
                {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}};
    char *href = NULL;
    size_t label_at = 0;
    while (*s) {
        const char *end = *s == '<' ? strchr(s, '>') : NULL;
        if (end) {
            if (!strncasecmp(s, "<a ", 3) && !href) {
                href = tag_attr(s, end, "href");
                label_at = out.len;
            } else if (!strncasecmp(s, "</a", 3) && href) {
                if (cards_url_is_link(href)) {
                    char *label = xstrdup(out.data + label_at);
                    out.len = label_at;
                    out.data[out.len] = '\0';
                    buf_printf(&out, "[%s](%s)", label, href);
                    free(label);
                } else {
                    builder_note(b, "%s (link not shown: unsupported address)",
                                 out.data + label_at);
                }
                free(href);
                href = NULL;
            } else if (!strncasecmp(s, "<br", 3) || !strncasecmp(s, "<li", 3) ||
                       (!strncasecmp(s, "<p", 2) && out.len) || !strncasecmp(s, "</p", 3)) {
                buf_append(&out, "\n", 1);
            }
            s = end + 1;
            continue;
        }
        bool matched = false;
        for (size_t i = 0; *s == '&' && i < sizeof ents / sizeof ents[0]; i++) {
            size_t n = strlen(ents[i].ent);
            if (!strncasecmp(s, ents[i].ent, n)) {
                buf_append(&out, ents[i].ch, strlen(ents[i].ch));
                s += n;
                matched = true;
                break;
            }
        }
        if (!matched)
            buf_append(&out, s++, 1);
    }
    free(href);
    return out.data;
}

/* A text of the card: markdown as sent, or HTML reduced to text when markdown is off. */
static void add_text(struct builder *b, json_t *to, const char *what, const char *text,
                     bool markdown, const char *size, const char *weight, bool subtle)
{
    if (!text || !*text || !builder_text_ok(b, what, text))
        return;
    if (markdown) {
        builder_add(b, to, ac_text(text, size, weight, subtle));
        return;
    }
    char *plain = html_to_text(b, text);
    builder_add(b, to, ac_text(plain, size, weight, subtle));
    free(plain);
}

static void add_facts(struct builder *b, json_t *to, json_t *facts)
{
    if (!json_is_array(facts) || !json_array_size(facts) ||
        !builder_count_ok(b, "facts", json_array_size(facts), b->lim->max_facts))
        return;
    json_t *set = ac_fact_set();
    size_t i;
    json_t *f;
    json_array_foreach(facts, i, f)
    {
        const char *name = jstr(f, "name"), *value = jstr(f, "value");
        if ((name || value) && !builder_fact(b, set, "a fact", name, value))
            break;
    }
    builder_add(b, to, set);
}

static void add_images(struct builder *b, json_t *to, json_t *images)
{
    if (!json_is_array(images) || !json_array_size(images) ||
        !builder_count_ok(b, "images", json_array_size(images), b->lim->max_images))
        return;
    json_t *set = json_pack("{s:s, s:[]}", "type", "ImageSet", "images");
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img)
    {
        json_t *el = ac_image(b, jstr(img, "image"), jstr(img, "title"), NULL);
        if (el)
            builder_add(b, json_object_get(set, "images"), el);
    }
    if (json_array_size(json_object_get(set, "images")))
        builder_add(b, to, set);
    else
        json_decref(set);
}

static json_t *convert_action(struct builder *b, json_t *a, int depth);

/* The first OpenUri target for the default OS (or the first of any). */
static const char *open_uri_target(json_t *a)
{
    json_t *targets = json_object_get(a, "targets");
    const char *first = NULL;
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t)
    {
        const char *uri = jstr(t, "uri");
        if (!uri)
            continue;
        const char *os = jstr(t, "os");
        if (!os || !strcasecmp(os, "default"))
            return uri;
        if (!first)
            first = uri;
    }
    return first;
}

static json_t *action_card(struct builder *b, json_t *a, int depth)
{
    json_t *card = json_pack("{s:s, s:s, s:[], s:[]}", "type", "AdaptiveCard", "version", "1.5",
                             "body", "actions");
    json_t *body = json_object_get(card, "body");
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(a, "inputs"), i, in)
    {
        const char *type = jstr(in, "@type");
        const char *id = jstr(in, "id");
        json_t *el;
        if (type && !strcmp(type, "DateInput"))
            el = json_pack("{s:s}", "type", "Input.Date");
        else if (type && !strcmp(type, "MultichoiceInput")) {
            el = json_pack("{s:s, s:[]}", "type", "Input.ChoiceSet", "choices");
            size_t k;
            json_t *c;
            json_array_foreach(json_object_get(in, "choices"), k, c)
            {
                const char *d = jstr(c, "display"), *v = jstr(c, "value");
                json_array_append_new(json_object_get(el, "choices"),
                                      json_pack("{s:s, s:s}", "title", d ? d : (v ? v : ""),
                                                "value", v ? v : (d ? d : "")));
            }
            json_t *multi = json_object_get(in, "isMultiSelect");
            if (json_is_true(multi) ||
                (json_is_string(multi) && !strcasecmp(json_string_value(multi), "true")))
                json_object_set_new(el, "isMultiSelect", json_true());
        } else {
            el = json_pack("{s:s}", "type", "Input.Text");
            if (json_is_true(json_object_get(in, "isMultiline")))
                json_object_set_new(el, "isMultiline", json_true());
        }
        json_object_set_new(el, "id", json_string(id ? id : "input"));
        if (jstr(in, "title"))
            json_object_set_new(el, "label", json_string(jstr(in, "title")));
        if (jstr(in, "value"))
            json_object_set_new(el, "value", json_string(jstr(in, "value")));
        builder_add(b, body, el);
    }
    json_t *sub;
    json_array_foreach(json_object_get(a, "actions"), i, sub)
    {
        builder_add(b, json_object_get(card, "actions"), convert_action(b, sub, depth + 1));
    }
    return json_pack("{s:s, s:s, s:o}", "type", "Action.ShowCard", "title",
                     jstr(a, "name") ? jstr(a, "name") : "More", "card", card);
}

static json_t *convert_action(struct builder *b, json_t *a, int depth)
{
    const char *type = jstr(a, "@type");
    if (!type)
        type = jstr(a, "type");
    const char *name = jstr(a, "name");
    if (!type || depth > 2)
        return NULL;
    if (!strcmp(type, "OpenUri"))
        return ac_open_url(b, name, open_uri_target(a));
    if (!strcmp(type, "ViewAction")) {
        json_t *target = json_object_get(a, "target");
        const char *url = json_is_array(target) ? json_string_value(json_array_get(target, 0))
                                                : json_string_value(target);
        return ac_open_url(b, name, url);
    }
    if (!strcmp(type, "HttpPOST")) {
        json_t *details = json_pack("{s:s*}", "target", jstr(a, "target"));
        json_t *v = ac_inert_action(name, "HttpPOST", details);
        json_decref(details);
        return v;
    }
    if (!strcmp(type, "ActionCard") && depth == 0)
        return action_card(b, a, depth);
    if (!strcmp(type, "InvokeAddInCommand"))
        return ac_inert_action(name, "InvokeAddInCommand", NULL);
    builder_note(b, "%s (action of type %s not shown)", name ? name : "action", type);
    return NULL;
}

static void add_actions(struct builder *b, json_t *to, json_t *actions)
{
    if (!json_is_array(actions) || !json_array_size(actions) ||
        !builder_count_ok(b, "actions", json_array_size(actions), b->lim->max_actions))
        return;
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        builder_add(b, to, convert_action(b, a, 0));
    }
}

static void add_activity(struct builder *b, json_t *to, json_t *s, bool md)
{
    const char *image = jstr(s, "activityImage"), *title = jstr(s, "activityTitle");
    const char *subtitle = jstr(s, "activitySubtitle"), *text = jstr(s, "activityText");
    if (!image && !title && !subtitle && !text)
        return;
    json_t *texts = json_pack("{s:s, s:s, s:[]}", "type", "Column", "width", "stretch", "items");
    add_text(b, json_object_get(texts, "items"), "activityTitle", title, md, NULL, "Bolder", false);
    add_text(b, json_object_get(texts, "items"), "activitySubtitle", subtitle, md, "Small", NULL,
             true);
    add_text(b, json_object_get(texts, "items"), "activityText", text, md, NULL, NULL, false);
    json_t *cols = json_pack("{s:s, s:[]}", "type", "ColumnSet", "columns");
    json_t *img = ac_image(b, image, title, "Small");
    if (img) {
        const char *kind = jstr(s, "activityImageType");
        if (!kind || strcasecmp(kind, "article"))
            json_object_set_new(img, "style", json_string("Person"));
        json_array_append_new(
            json_object_get(cols, "columns"),
            json_pack("{s:s, s:s, s:[o]}", "type", "Column", "width", "auto", "items", img));
    }
    json_array_append_new(json_object_get(cols, "columns"), texts);
    builder_add(b, to, cols);
}

static void add_section(struct builder *b, json_t *s, bool first)
{
    if (!json_is_object(s))
        return;
    json_t *md_flag = json_object_get(s, "markdown");
    bool md = !json_is_false(md_flag);
    json_t *c = ac_container(!first || json_is_true(json_object_get(s, "startGroup")));
    json_t *items = ac_items(c);
    add_text(b, items, "a section title", jstr(s, "title"), md, "Medium", "Bolder", false);
    add_activity(b, items, s, md);
    json_t *hero = json_object_get(s, "heroImage");
    if (json_is_object(hero))
        builder_add(b, items, ac_image(b, jstr(hero, "image"), jstr(hero, "title"), "Stretch"));
    add_text(b, items, "a section text", jstr(s, "text"), md, NULL, NULL, false);
    add_facts(b, items, json_object_get(s, "facts"));
    add_images(b, items, json_object_get(s, "images"));
    json_t *actions = json_object_get(s, "potentialAction");
    if (json_is_array(actions) && json_array_size(actions)) {
        json_t *set = json_pack("{s:s, s:[]}", "type", "ActionSet", "actions");
        add_actions(b, json_object_get(set, "actions"), actions);
        if (json_array_size(json_object_get(set, "actions")))
            builder_add(b, items, set);
        else
            json_decref(set); /* every action was dropped (and noted) */
    }
    if (json_array_size(items))
        builder_add(b, b->body, c);
    else
        json_decref(c);
}

int adapt_messagecard(struct builder *b, json_t *p)
{
    const char *summary = jstr(p, "summary"), *text = jstr(p, "text");
    if ((!summary || !*summary) && (!text || !*text))
        return builder_fail(b, CARD_ERR_EMPTY, "Summary or Text is required.");
    b->summary = summary;
    cards_color(json_object_get(p, "themeColor"), b->theme);
    add_text(b, b->body, "the title", jstr(p, "title"), true, "Large", "Bolder", false);
    add_text(b, b->body, "the text", text, true, NULL, NULL, false);
    json_t *sections = json_object_get(p, "sections");
    if (json_is_array(sections) &&
        builder_count_ok(b, "sections", json_array_size(sections), b->lim->max_sections)) {
        size_t i;
        json_t *s;
        json_array_foreach(sections, i, s)
        {
            add_section(b, s, i == 0 && !json_array_size(b->body));
        }
    }
    add_actions(b, b->actions, json_object_get(p, "potentialAction"));
    return b->err;
}

int adapt_text(struct builder *b, json_t *p)
{
    const char *text = jstr(p, "text");
    if (!text || !*text)
        return builder_fail(b, CARD_ERR_EMPTY, "Summary or Text is required.");
    add_text(b, b->body, "the text", text, true, NULL, NULL, false);
    return b->err;
}
