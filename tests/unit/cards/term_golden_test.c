/* term_golden_test.c: the terminal renderer (src/cards/render_term.c) against reviewed files.
 * Every card fixture tests/fixtures/cards/<dialect>/<name>.json (the inputs of golden_test.c) is
 * converted with cards_from_payload(CARD_AUTO) and rendered with cards_render_term:
 *   <name>.term.txt         without colour;
 *   <name>.term-colour.txt  with colour, the escape sequences written as they are.
 * Refused payloads (those with <name>.error.txt) have no card and are skipped. Beside the files,
 * every rendering must be free of control characters but newlines (and, with colour, of escape
 * sequences other than SGR ones).
 *
 * Usage: term_golden_test <fixtures dir>; SWITCHBOARD_UPDATE_GOLDEN as in golden.h (READ the
 * result: a wrong rendering is a bug to fix in render_term.c, never a file to commit). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "cards/cards.h"
#include "golden.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether s holds no control character but '\n' and, when sgr is allowed, "ESC [ digits/; m". */
static bool only_safe_controls(const char *s, bool sgr)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n')
            continue;
        if (*p == 0x1b && sgr && p[1] == '[') {
            const unsigned char *q = p + 2;
            while ((*q >= '0' && *q <= '9') || *q == ';')
                q++;
            if (*q != 'm')
                return false;
            p = q;
            continue;
        }
        if (*p < 0x20 || *p == 0x7f)
            return false;
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) /* a C1 control in UTF-8 */
            return false;
    }
    return true;
}

static void term_golden(void **state)
{
    const struct fixture *fx = *state;
    if (golden_has(fx, ".error.txt"))
        skip();
    char msg[160];
    json_t *payload = golden_input(fx);

    struct card card;
    if (cards_from_payload(payload, CARD_AUTO, NULL, &card, msg))
        fail_msg("%s: refused (%s) but has no .error.txt", fx->name, msg);
    char *plain = cards_render_term(card.json, false);
    char *colour = cards_render_term(card.json, true);
    bool ok = true;
    if (!only_safe_controls(plain, false)) {
        print_error("%s: control characters in the plain rendering\n", fx->name);
        ok = false;
    }
    if (!only_safe_controls(colour, true)) {
        print_error("%s: escapes other than SGR in the colour rendering\n", fx->name);
        ok = false;
    }
    ok = golden_expect(fx, ".term.txt", plain) && ok;
    ok = golden_expect(fx, ".term-colour.txt", colour) && ok;
    free(plain);
    free(colour);
    card_release(&card);
    json_decref(payload);
    assert_true(ok);
}

/* Text a sender controls cannot reach the terminal as escape sequences: ESC, CSI (C1), OSC,
 * carriage returns and bidi overrides come out visible, in every place a card has text. */
static void hostile_text(void **state)
{
    (void)state;
    static const char payload_text[] =
        "{\"@type\":\"MessageCard\",\"themeColor\":\"FF0000\","
        "\"title\":\"\\u001b[2J\\u001b]0;pwned\\u0007title\","
        "\"text\":\"red \\u001b[31mRED\\u001b[0m and \\u009b31mcsi\\r\\nover\\rwrite "
        "\\u202egnp.exe\","
        "\"sections\":[{\"facts\":[{\"name\":\"k\\u001b[1m\",\"value\":\"v\\u001b[5m\"}]}],"
        "\"potentialAction\":[{\"@type\":\"OpenUri\",\"name\":\"Go\\u001b[8m\","
        "\"targets\":[{\"os\":\"default\",\"uri\":\"https://example.org/\\u001b[0m\"}]}]}";
    int err = 0;
    char msg[160];
    json_t *payload =
        json_parse_object(payload_text, strlen(payload_text), JSON_MAX_DEPTH, &err, msg);
    assert_non_null(payload);
    struct card card;
    assert_int_equal(cards_from_payload(payload, CARD_AUTO, NULL, &card, msg), 0);
    char *plain = cards_render_term(card.json, false);
    char *colour = cards_render_term(card.json, true);
    assert_true(only_safe_controls(plain, false));
    assert_true(only_safe_controls(colour, true));
    assert_non_null(strstr(plain, "^[[31mRED^[[0m"));
    assert_non_null(strstr(plain, "^[]0;pwned^Gtitle"));
    assert_non_null(strstr(plain, "^[[31mcsi"));
    assert_non_null(strstr(plain, "over^Mwrite"));
    assert_non_null(strstr(plain, "<U+202E>gnp.exe"));
    assert_non_null(strstr(plain, "k^[[1m:"));
    assert_non_null(strstr(plain, "[Go^[[8m]"));
    /* colour only adds SGR sequences: the theme bar, bold title */
    assert_non_null(strstr(colour, "\x1b[38;2;255;0;0m"));
    free(plain);
    free(colour);
    card_release(&card);
    json_decref(payload);

    char *t = cards_render_term_text("a \x1b[31m **b** [x](https://e.org/) `**c**`", false);
    assert_string_equal(t, "a ^[[31m b x <https://e.org/> `**c**`");
    free(t);
    /* an unclosed "__" inside bold text does not hide a later pair */
    t = cards_render_term_text("**a __b** c __d__ [x **y** z](https://e.org/a_(b)) **", false);
    assert_string_equal(t, "a __b c d x y z <https://e.org/a_(b)> **");
    free(t);
    t = cards_render_term_text("line one\r\n\r\nline three\n", false);
    assert_string_equal(t, "line one\n\nline three");
    free(t);
    t = cards_render_term_text("**b**", true);
    assert_string_equal(t, "\x1b[1mb\x1b[0m");
    free(t);
    t = cards_term_clean("evil\x1b]52;c;aGk=\x07\nname\xc2\x9b");
    assert_string_equal(t, "evil^[]52;c;aGk=^G^Jname^[[");
    free(t);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    static const struct CMUnitTest unit[] = {cmocka_unit_test(hostile_text)};
    int rc = cmocka_run_group_tests_name("cards/term", unit, NULL, NULL);
    static const char *const skip[] = {".card.json", NULL};
    return golden_run("cards/term_golden", argv[1], skip, term_golden) || rc;
}
