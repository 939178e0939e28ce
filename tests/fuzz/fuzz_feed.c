/* fuzz_feed.c: the feed parser and the item card (src/connectors/rss.c) on arbitrary bytes.
 * Checks: a refusal is a card error with a message and leaves nothing behind; a parsed feed
 * has at most FEED_PARSE_MAX_ITEMS items, every string valid UTF-8 with no control character
 * (the id may hold the newline between title and date), ids non-empty and at most FEED_ID_MAX
 * bytes, titles and summaries within their lengths, links absolute http(s), dates not
 * negative, and something to show in every item; every item's card is a posted AdaptiveCard
 * of dialect "rss" with a UTF-8 fallback, or a card error with a message. */
#include "fuzz.h"

#include "connectors/connectors.h"

#include <string.h>
#include <strings.h>

static bool is_utf8(const char *s)
{
    json_t *j = json_string(s);
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

/* NULL, or valid UTF-8 of at most max_chars characters, without control characters (but
 * `allowed`), not blank at either end. */
static bool clean(const char *s, size_t max_chars, char allowed)
{
    if (!s)
        return true;
    if (!*s || !is_utf8(s) || utf8_length(s) > max_chars)
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if ((*c < 0x20 && *c != (unsigned char)allowed) || *c == 0x7F)
            return false;
    return s[0] != ' ' && s[strlen(s) - 1] != ' ';
}

static bool is_link(const char *s)
{
    return !s || ((!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8)) &&
                  strlen(s) <= 2048 && !strpbrk(s, " \"<>\\"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed f;
    char msg[160];
    memset(msg, 'X', sizeof msg);
    int rc = feed_parse((const char *)data, size, &f, msg);
    if (rc) {
        FUZZ_CHECK(rc == CARD_ERR_EMPTY || rc == CARD_ERR_INVALID || rc == CARD_ERR_LIMIT);
        FUZZ_CHECK(memchr(msg, '\0', sizeof msg) && msg[0] && is_utf8(msg));
        FUZZ_CHECK(!f.items && !f.n_items && !f.title && !f.link);
        return 0;
    }
    FUZZ_CHECK(f.n_items <= FEED_PARSE_MAX_ITEMS);
    FUZZ_CHECK(clean(f.title, 300, 0) && is_link(f.link));
    for (size_t i = 0; i < f.n_items; i++) {
        const struct feed_item *it = &f.items[i];
        FUZZ_CHECK(it->id && *it->id && strlen(it->id) <= FEED_ID_MAX);
        FUZZ_CHECK(clean(it->id, SIZE_MAX, '\n'));
        FUZZ_CHECK(clean(it->title, 300, 0));
        FUZZ_CHECK(clean(it->summary, FEED_SUMMARY_MAX, 0));
        FUZZ_CHECK(clean(it->author, 200, 0));
        FUZZ_CHECK(is_link(it->link));
        FUZZ_CHECK(it->published_ms >= 0);
        FUZZ_CHECK(it->title || it->link || it->summary);

        struct connector_result r;
        memset(&r, 'X', sizeof r);
        memset(msg, 'X', sizeof msg);
        int c = feed_item_card(i % 2 ? &f : NULL, it, &card_default_limits, &r, msg);
        if (c) {
            FUZZ_CHECK(c == CARD_ERR_EMPTY || c == CARD_ERR_INVALID || c == CARD_ERR_LIMIT);
            FUZZ_CHECK(memchr(msg, '\0', sizeof msg) && msg[0] && is_utf8(msg));
            FUZZ_CHECK(r.card.json == NULL);
            continue;
        }
        FUZZ_CHECK(r.outcome == CONNECTOR_POST);
        json_t *env = json_object_get(r.card.json, "envelope");
        json_t *content = json_object_get(r.card.json, "content");
        FUZZ_CHECK(json_is_object(env) && json_is_object(content));
        FUZZ_CHECK(!strcmp(json_string_value(json_object_get(content, "type")), "AdaptiveCard"));
        FUZZ_CHECK(!strcmp(json_string_value(json_object_get(env, "dialect")), "rss"));
        FUZZ_CHECK(r.card.fallback && is_utf8(r.card.fallback));
        FUZZ_CHECK(!r.event[0] && !r.thread_key[0] && !r.branch[0]);
        char *text = cards_render_text(r.card.json);
        FUZZ_CHECK(text && is_utf8(text));
        free(text);
        card_release(&r.card);
    }
    feed_release(&f);
    FUZZ_CHECK(!f.items && !f.n_items && !f.title && !f.link);
    return 0;
}
