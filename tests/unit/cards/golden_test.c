/* golden_test.c: the card adapters against reviewed fixtures (src/cards/). Every input
 * tests/fixtures/cards/<dialect>/<name>.json is converted with cards_from_payload(CARD_AUTO) and
 * compared with what was reviewed beside it:
 *   <name>.card.json  the canonical card, pretty-printed with sorted keys (json_dumps INDENT(2));
 *   <name>.txt        the fallback text, followed by one newline;
 *   <name>.error.txt  instead of both, for a refused payload: "<card_error number> <message>".
 * The dialect detected must be the directory's name. One cmocka test per fixture.
 *
 * Usage: golden_test <fixtures dir>. With SWITCHBOARD_UPDATE_GOLDEN=1 the expected files are
 * (re)written from what the code produces instead (any other value: only the fixtures whose
 * "<dialect>/<name>" contains it); the result must then be READ and reviewed like code, and a
 * wrong output is a bug to fix in src/cards, never a file to commit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "cards/cards.h"
#include "golden.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void golden(void **state)
{
    const struct fixture *fx = *state;
    char msg[160];
    json_t *payload = golden_input(fx);

    struct card card;
    int rc = cards_from_payload(payload, CARD_AUTO, NULL, &card, msg);
    bool expect_error = golden_has(fx, ".error.txt");
    bool update = golden_is_update(fx);
    bool ok = true;

    if (rc) {
        assert_null(card.json);
        char line[200];
        snprintf(line, sizeof line, "%d %s", rc, msg);
        /* a refused payload's shape is still the directory's dialect */
        const char *shape = card_dialect_name(cards_detect(payload));
        if (strcmp(shape, fx->group)) {
            print_error("%s: detected as %s\n", fx->name, shape);
            ok = false;
        }
        if (!update && !expect_error) {
            print_error("%s: refused (%s), expected a card\n", fx->name, line);
            ok = false;
        } else {
            ok = golden_expect(fx, ".error.txt", line) && ok;
        }
        if (update) {
            golden_remove(fx, ".card.json");
            golden_remove(fx, ".txt");
        }
    } else {
        char *dump = json_dumps(card.json, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_t *env = json_object_get(card.json, "envelope");
        if (strcmp(card_dialect_name(card.dialect), fx->group) ||
            strcmp(json_string_value(json_object_get(env, "dialect")), fx->group)) {
            print_error("%s: detected as %s\n", fx->name, card_dialect_name(card.dialect));
            ok = false;
        }
        /* the envelope's fallback is the card's fallback */
        if (strcmp(json_string_value(json_object_get(env, "fallback")), card.fallback)) {
            print_error("%s: the envelope's fallback is not the card's\n", fx->name);
            ok = false;
        }
        if (!update && expect_error) {
            print_error("%s: accepted, expected a refusal; the card:\n%s\n", fx->name, dump);
            ok = false;
        } else {
            ok = golden_expect(fx, ".card.json", dump) && ok;
            ok = golden_expect(fx, ".txt", card.fallback) && ok;
        }
        if (update)
            golden_remove(fx, ".error.txt");
        free(dump);
        card_release(&card);
    }
    json_decref(payload);
    assert_true(ok);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    static const char *const skip[] = {".card.json", NULL};
    return golden_run("cards/golden", argv[1], skip, golden);
}
