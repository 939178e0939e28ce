/* fuzz_card_auto.c: cards_from_payload on arbitrary JSON (src/cards/), the dialect detected by
 * shape. Checks: a refusal is one of the card errors with a message; an accepted payload gives
 * an envelope and a content object, a fallback that is valid UTF-8 and the same as the
 * envelope's, only allowed URLs (links http/https/mailto, images http/https/data:image) and an
 * unchanged payload; the plain-text and terminal renderers (no control character from the card
 * reaches a terminal) and card_set_sender are safe on the result.
 * fuzz_card_slack.c and fuzz_card_discord.c include this file with the dialect forced. */
#include "fuzz.h"

#include "cards/cards.h"

#include <ctype.h>
#include <string.h>

#ifndef CARD_FUZZ_DIALECT
#define CARD_FUZZ_DIALECT CARD_AUTO
#endif

static bool is_utf8(const char *s)
{
    json_t *j = json_string(s);
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

/* Every URL a renderer would use passes the filter its use calls for: an Image's url, an
 * Action.OpenUrl's or a TextRun's url, a Media element's poster and its sources' urls, a
 * backgroundImage and an iconUrl. A url under an element type no renderer knows is not shown and
 * not checked. `in` is the member name the node is the value of (or an element of). */
static void check_urls(json_t *node, const char *in, int depth)
{
    FUZZ_CHECK(depth < 4096);
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v)
        {
            check_urls(v, in, depth + 1);
        }
        return;
    }
    if (!json_is_object(node))
        return;
    const char *type = json_string_value(json_object_get(node, "type"));
    const char *key;
    json_t *v;
    json_object_foreach(node, key, v)
    {
        const char *s = json_string_value(v);
        if (s && !strcmp(key, "url")) {
            if ((type && !strcmp(type, "Image")) || !strcmp(in, "backgroundImage"))
                FUZZ_CHECK(cards_url_is_image(s));
            else if ((type && (!strcmp(type, "Action.OpenUrl") || !strcmp(type, "TextRun"))) ||
                     !strcmp(in, "sources"))
                FUZZ_CHECK(cards_url_is_link(s));
        } else if (s && (!strcmp(key, "iconUrl") || !strcmp(key, "backgroundImage") ||
                         (!strcmp(key, "poster") && type && !strcmp(type, "Media")))) {
            FUZZ_CHECK(cards_url_is_image(s));
        } else {
            check_urls(v, key, depth + 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *payload = json_loadb((const char *)data, size, 0, &jerr);
    if (!payload)
        return 0;
    json_t *copy = json_deep_copy(payload);
    struct card card;
    char msg[160];
    memset(msg, 'X', sizeof msg);
    int rc = cards_from_payload(payload, CARD_FUZZ_DIALECT, NULL, &card, msg);
    FUZZ_CHECK(json_equal(payload, copy)); /* the payload is only read */
    json_decref(copy);
    FUZZ_CHECK(memchr(msg, '\0', sizeof msg) != NULL);
    if (rc) {
        FUZZ_CHECK(rc == CARD_ERR_EMPTY || rc == CARD_ERR_INVALID || rc == CARD_ERR_LIMIT);
        FUZZ_CHECK(msg[0] != '\0' && is_utf8(msg));
        FUZZ_CHECK(card.json == NULL && card.fallback == NULL);
        json_decref(payload);
        return 0;
    }
    FUZZ_CHECK(msg[0] == '\0');
    if (CARD_FUZZ_DIALECT != CARD_AUTO)
        FUZZ_CHECK(card.dialect == CARD_FUZZ_DIALECT);
    json_t *env = json_object_get(card.json, "envelope");
    json_t *content = json_object_get(card.json, "content");
    FUZZ_CHECK(json_is_object(env) && json_is_object(content));
    FUZZ_CHECK(!strcmp(json_string_value(json_object_get(content, "type")), "AdaptiveCard"));
    FUZZ_CHECK(json_is_array(json_object_get(content, "body")));
    FUZZ_CHECK(card.fallback != NULL && is_utf8(card.fallback));
    const char *fallback = json_string_value(json_object_get(env, "fallback"));
    FUZZ_CHECK(fallback && !strcmp(fallback, card.fallback));
    FUZZ_CHECK(!strcmp(json_string_value(json_object_get(env, "dialect")),
                       card_dialect_name(card.dialect)));
    json_t *summary = json_object_get(env, "summary");
    FUZZ_CHECK(json_is_string(summary) || json_is_null(summary));
    json_t *theme = json_object_get(env, "themeColor");
    FUZZ_CHECK(json_is_null(theme) || (json_is_string(theme) && json_string_length(theme) == 7 &&
                                       json_string_value(theme)[0] == '#'));
    const char *image = json_string_value(json_object_get(json_object_get(env, "sender"), "image"));
    FUZZ_CHECK(!image || cards_url_is_image(image));
    check_urls(content, "content", 0);

    char *text = cards_render_text(card.json);
    FUZZ_CHECK(text != NULL && is_utf8(text));
    free(text);
    /* the terminal rendering: nothing from the card reaches a terminal as a control character;
     * the only escapes are the renderer's own SGR colour codes ("ESC [ digits ; ... m") */
    for (int colour = 0; colour < 2; colour++) {
        char *term = cards_render_term(card.json, colour);
        FUZZ_CHECK(term != NULL && is_utf8(term));
        for (const unsigned char *p = (const unsigned char *)term; *p; p++) {
            if (*p == 0x1B) {
                FUZZ_CHECK(colour && p[1] == '[');
                p += 2;
                while (isdigit(*p) || *p == ';')
                    p++;
                FUZZ_CHECK(*p == 'm');
            } else {
                FUZZ_CHECK(*p >= 0x20 || *p == '\n');
                FUZZ_CHECK(!(p[0] == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0)); /* C1 controls */
            }
        }
        free(term);
    }
    char *dump = json_dumps(card.json, JSON_COMPACT);
    FUZZ_CHECK(dump != NULL);
    free(dump);
    card_set_sender(&card, "fuzz connector", "https://img.example.org/c.png");
    card_release(&card);
    json_decref(payload);
    return 0;
}
