/* discord.c: Discord execute-webhook payloads -> canonical card: content (Discord markdown is
 * close to the card's), username and avatar_url as the sender shown, embeds (author, title + url,
 * description, fields, image, thumbnail, footer, timestamp, color). */
#include "cards_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void add_embed(struct builder *b, json_t *e, bool separator)
{
    if (!json_is_object(e))
        return;
    json_t *c = ac_container(separator);
    json_t *items = ac_items(c);
    char color[8];
    if (cards_color(json_object_get(e, "color"), color) && !b->theme[0])
        memcpy(b->theme, color, sizeof color);
    json_t *author = json_object_get(e, "author");
    builder_linked_text(b, items, "an embed author", jstr(author, "name"), jstr(author, "url"),
                        "Small", NULL, true);
    builder_linked_text(b, items, "an embed title", jstr(e, "title"), jstr(e, "url"), "Medium",
                        "Bolder", false);
    const char *desc = jstr(e, "description");
    if (desc && *desc && builder_text_ok(b, "an embed description", desc))
        builder_add(b, items, ac_text(desc, NULL, NULL, false));
    json_t *fields = json_object_get(e, "fields");
    if (json_is_array(fields) && json_array_size(fields) &&
        builder_count_ok(b, "fields", json_array_size(fields), b->lim->max_facts)) {
        json_t *set = ac_fact_set();
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f)
        {
            if (!builder_fact(b, set, "an embed field", jstr(f, "name"), jstr(f, "value")))
                break;
        }
        builder_add(b, items, set);
    }
    builder_add(b, items, ac_image(b, jstr(json_object_get(e, "image"), "url"), NULL, "Stretch"));
    builder_add(b, items, ac_image(b, jstr(json_object_get(e, "thumbnail"), "url"), NULL, "Small"));
    const char *footer = jstr(json_object_get(e, "footer"), "text");
    const char *ts = jstr(e, "timestamp");
    if ((footer && !builder_text_ok(b, "an embed footer", footer)) ||
        (ts && !builder_text_ok(b, "an embed timestamp", ts)))
        footer = ts = NULL; /* the card fails: builder_text_ok recorded why */
    if (footer || ts) {
        struct buf line;
        buf_init(&line, SIZE_MAX / 2);
        buf_printf(&line, "%s%s%s", footer ? footer : "", footer && ts ? " | " : "", ts ? ts : "");
        builder_add(b, items, ac_text(line.data, "Small", NULL, true));
        buf_release(&line);
    }
    if (json_array_size(items))
        builder_add(b, b->body, c);
    else
        json_decref(c);
}

int adapt_discord(struct builder *b, json_t *p)
{
    const char *content = jstr(p, "content");
    json_t *embeds = json_object_get(p, "embeds");
    bool has_embeds = json_is_array(embeds) && json_array_size(embeds);
    if ((!content || !*content) && !has_embeds)
        return builder_fail(b, CARD_ERR_EMPTY, "Cannot send an empty message");
    b->sender_name = jstr(p, "username");
    b->sender_image = jstr(p, "avatar_url");
    if (content && *content && builder_text_ok(b, "content", content))
        builder_add(b, b->body, ac_text(content, NULL, NULL, false));
    if (has_embeds &&
        builder_count_ok(b, "embeds", json_array_size(embeds), b->lim->max_sections)) {
        size_t i;
        json_t *e;
        json_array_foreach(embeds, i, e)
        {
            add_embed(b, e, json_array_size(b->body) > 0);
        }
    }
    return b->err;
}
