/* html_golden_test.c: the e-mail rendering of every card fixture (src/cards/render_html.c). Every
 * input tests/fixtures/cards/<dialect>/<name>.json that makes a card (those with a
 * <name>.error.txt are refused and skipped) is converted with cards_from_payload(CARD_AUTO), given
 * the sender "Fixture connector" (card_set_sender, so an override shows its "via" line) and
 * rendered with cards_render_html; the HTML must keep to the allow-list of html_check.h and be
 * what was reviewed in <name>.html.
 *
 * Usage: html_golden_test <fixtures dir>. With SWITCHBOARD_UPDATE_GOLDEN=1 (or a value contained
 * in "<dialect>/<name>") the .html files are (re)written instead, to be READ and reviewed like
 * code (open them in a browser, too). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "cards/cards.h"
#include "golden.h"
#include "html_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void html_golden(void **state)
{
    const struct fixture *fx = *state;
    char msg[160];
    json_t *payload = golden_input(fx);

    struct card card;
    int rc = cards_from_payload(payload, CARD_AUTO, NULL, &card, msg);
    json_decref(payload);
    if (rc) {
        if (!golden_has(fx, ".error.txt"))
            fail_msg("%s: refused (%s), expected a card", fx->name, msg);
        if (golden_is_update(fx))
            golden_remove(fx, ".html");
        return;
    }
    card_set_sender(&card, "Fixture connector", NULL);
    char *html = cards_render_html(card.json);
    char why[400];
    bool ok = html_check(html, why, sizeof why);
    if (!ok)
        print_error("%s: %s\n", fx->name, why);
    ok = golden_expect(fx, ".html", html) && ok;
    free(html);
    card_release(&card);
    assert_true(ok);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    static const char *const skip[] = {".card.json", NULL};
    return golden_run("cards/html_golden", argv[1], skip, html_golden);
}
