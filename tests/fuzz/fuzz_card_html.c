/* fuzz_card_html.c: cards_render_html (src/cards/) on arbitrary JSON, two ways: the card that
 * cards_from_payload (CARD_AUTO) makes of it, with a sender and "via" line, and the JSON itself
 * taken as a card's content ({"envelope": its "envelope", "content": the input}), so that no
 * adapter filters what the renderer sees. Checks: the output is valid UTF-8 and keeps to the
 * allow-list of tests/unit/cards/html_check.h (tags, attributes, http/https/mailto hrefs,
 * http/https srcs, no event handlers, only the renderer's own styles, every tag closed). */
#include "fuzz.h"

#include "../unit/cards/html_check.h"
#include "cards/cards.h"

#include <string.h>

static void check(const json_t *card)
{
    char *html = cards_render_html(card);
    FUZZ_CHECK(html != NULL);
    json_t *utf8 = json_string(html);
    FUZZ_CHECK(utf8 != NULL);
    json_decref(utf8);
    char why[400];
    if (!html_check(html, why, sizeof why)) {
        fprintf(stderr, "html_check: %s\n", why);
        FUZZ_CHECK(!"the HTML keeps to the allow-list");
    }
    free(html);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *payload = json_loadb((const char *)data, size, 0, &jerr);
    if (!payload)
        return 0;
    struct card card;
    char msg[160];
    if (!cards_from_payload(payload, CARD_AUTO, NULL, &card, msg)) {
        card_set_sender(&card, "fuzz <connector> & \"co\"", NULL);
        check(card.json);
        card_release(&card);
    }
    json_t *raw = json_pack("{s:O*, s:O}", "envelope", json_object_get(payload, "envelope"),
                            "content", payload);
    check(raw);
    json_decref(raw);
    json_decref(payload);
    return 0;
}
