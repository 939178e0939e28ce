/* adaptive.c: the Adaptive Card message envelope -> canonical card.
 *   {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
 *                                     "content":{AdaptiveCard}}]}
 * The card is kept as sent, except: every URL is checked (links http/https/mailto, images
 * http/https/data:image; others are removed and named in the fallback), submit-like actions are
 * kept but disabled (incoming webhooks cannot submit), and msTeams is spelled msteams. Several
 * attachments become one card, one container each. */
#include "cards_int.h"

#include <string.h>
#include <strings.h>

#define ADAPTIVE_TYPE "application/vnd.microsoft.card.adaptive"

static void sanitize(struct builder *b, json_t *node, int depth);

/* Whether an element must go because an address it would show or open is not allowed; notes
 * what is dropped in the fallback. */
static bool unsafe_element(struct builder *b, json_t *o)
{
    const char *type = jstr(o, "type");
    if (!type)
        type = ""; /* no renderer shows it, but its sources are still checked below */
    if (!strcmp(type, "Image")) {
        const char *url = jstr(o, "url");
        if (url && !cards_url_is_image(url)) {
            builder_note(b, "(image not shown: unsupported address)");
            return true;
        }
    } else if (!strcmp(type, "Action.OpenUrl")) {
        const char *url = jstr(o, "url");
        if (url && !cards_url_is_link(url)) {
            const char *title = jstr(o, "title");
            builder_note(b, "%s (link not shown: unsupported address)", title ? title : "link");
            return true;
        }
    }
    if (!strcmp(type, "Media") || json_object_get(o, "sources")) { /* sources are links anywhere */
        const char *poster = jstr(o, "poster");
        bool bad = poster && !cards_url_is_image(poster);
        size_t i;
        json_t *src;
        json_array_foreach(json_object_get(o, "sources"), i, src)
        {
            const char *url = jstr(src, "url");
            bad |= url && !cards_url_is_link(url);
        }
        if (bad) {
            builder_note(b, "(media not shown: unsupported address)");
            return true;
        }
    }
    return false;
}

/* Removes obj[key] when it is a URL that `allowed` refuses. */
static void check_url(struct builder *b, json_t *obj, const char *key,
                      bool (*allowed)(const char *url))
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || allowed(json_string_value(v)))
        return;
    builder_note(b, "(%s removed: unsupported address)", key);
    json_object_del(obj, key);
}

static void sanitize_object(struct builder *b, json_t *o, int depth)
{
    if (++b->elements > b->lim->max_elements) {
        builder_fail(b, CARD_ERR_LIMIT, "the card has more than %zu elements",
                     b->lim->max_elements);
        return;
    }
    const char *type = jstr(o, "type");
    if (type && !strcmp(type, "TextRun"))
        check_url(b, o, "url", cards_url_is_link);
    check_url(b, o, "iconUrl", cards_url_is_image);
    json_t *bg = json_object_get(o, "backgroundImage");
    if (json_is_string(bg) && !cards_url_is_image(json_string_value(bg)))
        json_object_del(o, "backgroundImage");
    else if (json_is_object(bg))
        check_url(b, bg, "url", cards_url_is_image);
    if (type && (!strcmp(type, "Action.Submit") || !strcmp(type, "Action.Execute"))) {
        json_object_set_new(o, "isEnabled", json_false());
        json_object_set_new(o, "tooltip",
                            json_string("This action cannot be run from Switchboard yet"));
    }
    if (type && !strcmp(type, "TextBlock")) {
        const char *text = jstr(o, "text");
        if (text)
            builder_text_ok(b, "a TextBlock", text);
    }
    json_t *teams = jget_ci(o, "msteams");
    if (teams && !json_object_get(o, "msteams")) {
        json_incref(teams);
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(o, tmp, k, v)
        {
            if (!strcasecmp(k, "msteams"))
                json_object_del(o, k);
        }
        json_object_set_new(o, "msteams", teams);
    }
    /* an element held by a property (selectAction, or one no renderer knows) goes like one in
     * a list when its address is not allowed */
    const char *k;
    json_t *v;
    void *it;
    json_object_foreach_safe(o, it, k, v)
    {
        if (json_is_object(v) && unsafe_element(b, v))
            json_object_del(o, k);
        else if (json_is_object(v) || json_is_array(v))
            sanitize(b, v, depth + 1);
    }
}

static void sanitize(struct builder *b, json_t *node, int depth)
{
    if (b->err || depth > JSON_MAX_DEPTH * 2)
        return;
    if (json_is_object(node)) {
        sanitize_object(b, node, depth);
    } else if (json_is_array(node)) {
        for (size_t i = 0; i < json_array_size(node);) {
            json_t *v = json_array_get(node, i);
            if (json_is_object(v) && unsafe_element(b, v)) {
                json_array_remove(node, i); /* the whole element: nothing half-shown */
                continue;
            }
            if (json_is_object(v) || json_is_array(v))
                sanitize(b, v, depth + 1);
            i++;
        }
    }
}

int adapt_adaptive(struct builder *b, json_t *p)
{
    json_t *atts = json_object_get(p, "attachments");
    if (!json_is_array(atts) || !json_array_size(atts))
        return builder_fail(b, CARD_ERR_INVALID, "'attachments' must hold an Adaptive Card");
    if (!builder_count_ok(b, "attachments", json_array_size(atts), b->lim->max_sections))
        return b->err;
    size_t n = json_array_size(atts), i;
    json_t *att;
    json_array_foreach(atts, i, att)
    {
        const char *ct = jstr(att, "contentType");
        json_t *content = json_object_get(att, "content");
        if (!ct || strcasecmp(ct, ADAPTIVE_TYPE)) {
            builder_note(b, "(an attachment of type %s is not shown)", ct ? ct : "unknown");
            continue;
        }
        if (!json_is_object(content))
            return builder_fail(b, CARD_ERR_INVALID,
                                "an Adaptive Card attachment has no 'content'");
        const char *type = jstr(content, "type");
        if (type && strcmp(type, "AdaptiveCard"))
            return builder_fail(b, CARD_ERR_INVALID, "'content' must be an AdaptiveCard");
        json_t *card = json_deep_copy(content);
        sanitize(b, card, 0);
        /* the card itself cannot go the way an element does: its own media addresses go */
        if (unsafe_element(b, card)) {
            json_object_del(card, "sources");
            json_object_del(card, "poster");
        }
        json_t *body = json_object_get(card, "body"), *actions = json_object_get(card, "actions");
        if (n == 1) { /* the card as sent: keep its own properties (msteams, version ...) */
            json_object_set(card, "body", json_is_array(body) ? body : b->body);
            json_object_set(card, "actions", json_is_array(actions) ? actions : b->actions);
            json_decref(b->body);
            json_decref(b->actions);
            b->body = json_incref(json_object_get(card, "body"));
            b->actions = json_incref(json_object_get(card, "actions"));
            json_object_set_new(card, "type", json_string("AdaptiveCard"));
            b->adaptive_root = card;
            break;
        }
        json_t *c = ac_container(json_array_size(b->body) > 0);
        if (json_is_array(body))
            json_array_extend(ac_items(c), body);
        json_array_append_new(b->body, c);
        if (json_is_array(actions))
            json_array_extend(b->actions, actions);
        json_decref(card);
    }
    if (!json_array_size(b->body) && !json_array_size(b->actions) && !b->err)
        return builder_fail(b, CARD_ERR_EMPTY, "the Adaptive Card is empty");
    return b->err;
}
