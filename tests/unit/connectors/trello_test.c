/* trello_test.c: the trello connector's signature check and what the golden fixtures do not pin
 * down (src/connectors/trello.c). */
#include "conntest.h"

#include <string.h>

/* A known vector, computed apart from the code under test:
 *   printf '%s' '<BODY><URL>' | openssl dgst -sha1 -hmac '<SECRET>' -binary | base64 */
#define SECRET "b5f3c0ffee1234567890abcdef"
#define BODY "{\"action\":{\"type\":\"commentCard\",\"data\":{\"text\":\"hi\"}}}"
#define URL "https://switchboard.example/webhook/7/Zm9vYmFy"
#define SIGNATURE "Nj8Cau1bngnj5jpBDaUKFb/sA1o="

/* verify on a request of `body`, signed `sig` (X-Trello-Webhook; NULL: none), for a connector of
 * `secret` whose callback URL is `url`. */
static int verify(const char *sig, const char *body, const char *secret, const char *url,
                  char msg[160])
{
    const char *headers[] = {"X-Trello-Webhook", sig, NULL};
    struct connector_request req = ct_request(headers, body, secret);
    req.callback_url = url;
    return ct_verify_request("trello", &req, msg);
}

static void signature_good(void **state)
{
    (void)state;
    char msg[160];
    assert_int_equal(verify(SIGNATURE, BODY, SECRET, URL, msg), 0);
}

static void signature_wrong_or_missing(void **state)
{
    (void)state;
    char msg[160];
    /* one character off */
    assert_int_equal(verify("Nj8Cau1bngnj5jpBDaUKFb/sA1p=", BODY, SECRET, URL, msg),
                     -ERR_UNAUTHORIZED);
    assert_non_null(strstr(msg, "does not match"));
    assert_int_equal(verify("", BODY, SECRET, URL, msg), -ERR_UNAUTHORIZED);
    assert_int_equal(verify(NULL, BODY, SECRET, URL, msg), -ERR_UNAUTHORIZED);
    assert_non_null(strstr(msg, "missing"));
    assert_int_equal(verify("not base64 at all!", BODY, SECRET, URL, msg), -ERR_UNAUTHORIZED);
}

/* The signature covers the body, the callback URL and the secret: changing any one fails. */
static void signature_covers_body_url_and_secret(void **state)
{
    (void)state;
    char msg[160];
    assert_int_equal(verify(SIGNATURE, BODY " ", SECRET, URL, msg), -ERR_UNAUTHORIZED);
    assert_int_equal(verify(SIGNATURE, BODY, SECRET, URL "/", msg), -ERR_UNAUTHORIZED);
    assert_int_equal(verify(SIGNATURE, BODY, SECRET "x", URL, msg), -ERR_UNAUTHORIZED);
    /* the signature is over body + URL, not over the body alone */
    assert_int_equal(verify(SIGNATURE, BODY URL, SECRET, "", msg), 0);
}

static void no_secret_or_url_refuses(void **state)
{
    (void)state;
    char msg[160];
    assert_int_equal(verify(SIGNATURE, BODY, NULL, URL, msg), -ERR_UNAUTHORIZED);
    assert_non_null(strstr(msg, "secret"));
    assert_int_equal(verify(SIGNATURE, BODY, "", URL, msg), -ERR_UNAUTHORIZED);
    assert_int_equal(verify(SIGNATURE, BODY, SECRET, NULL, msg), -ERR_UNAUTHORIZED);
}

static void settings_schema(void **state)
{
    (void)state;
    const struct connector_type *t = ct_type("trello");
    const struct connector_setting *s = connectors_secret_setting(t);
    assert_non_null(s);
    assert_string_equal(s->name, "secret");
    assert_string_equal(s->type, "password"); /* entered by the user, not generated */
    assert_true(s->secret);
    json_t *out = ct_settings("trello", "{\"events\": [\"commentCard\"]}");
    assert_null(json_object_get(out, "secret")); /* never stored with the settings */
    json_decref(out);
    ct_settings_refused("trello", "{\"events\": [\"makeCoffee\"]}");
    assert_non_null(strstr(t->setup, "{url}"));
    assert_non_null(strstr(t->setup, "curl"));
}

/* Translates a payload given as JSON text; returns the card error. */
static int translate(const char *json, struct connector_result *out, char msg[160])
{
    return ct_translate("trello", NULL, json, NULL, out, msg);
}

#define CARD_DATA                                                                                  \
    "\"card\":{\"id\":\"c0ffee\",\"name\":\"Fix login\",\"shortLink\":\"AbC123\"},"                \
    "\"board\":{\"name\":\"Roadmap\",\"shortLink\":\"Rq7bT2xK\"}"

/* The actions on one card share a thread, whatever they are. */
static void actions_on_a_card_share_its_thread(void **state)
{
    (void)state;
    static const char *const actions[] = {
        "{\"action\":{\"type\":\"createCard\",\"data\":{" CARD_DATA
        ",\"list\":{\"name\":\"To do\"}}}}",
        "{\"action\":{\"type\":\"commentCard\",\"data\":{" CARD_DATA ",\"text\":\"on it\"}}}",
        "{\"action\":{\"type\":\"updateCard\",\"data\":{" CARD_DATA
        ",\"listBefore\":{\"name\":\"A\"},\"listAfter\":{\"name\":\"B\"},\"old\":{\"idList\":\"1\"}"
        "}}}",
        "{\"action\":{\"type\":\"deleteCard\",\"data\":{\"card\":{\"id\":\"c0ffee\",\"idShort\":4},"
        "\"board\":{\"name\":\"Roadmap\"}}}}",
    };
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        struct connector_result r;
        char msg[160];
        assert_int_equal(translate(actions[i], &r, msg), 0);
        assert_int_equal(r.outcome, CONNECTOR_POST);
        assert_string_equal(r.thread_key, "card:c0ffee");
        assert_string_equal(r.branch, "");
        card_release(&r.card);
    }
}

static void moved_card_names_both_lists(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("{\"action\":{\"type\":\"updateCard\",\"memberCreator\":{"
                               "\"fullName\":\"Alice\"},\"data\":{" CARD_DATA
                               ",\"listBefore\":{\"name\":\"Doing\"},\"listAfter\":{\"name\":"
                               "\"Done\"},\"old\":{\"idList\":\"1\"}}}}",
                               &r, msg),
                     0);
    assert_string_equal(r.event, "updateCard");
    assert_string_equal(r.card.fallback,
                        "**Alice** moved [Fix login](https://trello.com/c/AbC123) from **Doing** "
                        "to **Done** on [Roadmap](https://trello.com/b/Rq7bT2xK)");
    card_release(&r.card);
}

static void uninteresting_actions_are_ignored(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("{\"action\":{\"type\":\"updateCard\",\"data\":{" CARD_DATA
                               ",\"old\":{\"pos\":1}}}}",
                               &r, msg),
                     0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
    assert_null(r.card.json);
    assert_true(r.reason[0] != '\0');
    assert_int_equal(translate("{\"action\":{\"type\":\"voteOnCard\",\"data\":{}}}", &r, msg), 0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
    assert_non_null(strstr(r.reason, "voteOnCard"));
}

static void shapeless_payload_is_refused(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("{\"model\":{}}", &r, msg), CARD_ERR_INVALID);
    assert_non_null(strstr(msg, "action.type"));
    assert_int_equal(translate("{\"action\":{\"type\":\"createCard\",\"data\":[]}}", &r, msg),
                     CARD_ERR_INVALID);
    assert_int_equal(translate("{\"action\":{\"type\":7}}", &r, msg), CARD_ERR_INVALID);
}

/* A short link that is not one stays out of the URL: the card's name is shown without a link. */
static void odd_short_link_is_not_linked(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(translate("{\"action\":{\"type\":\"commentCard\",\"data\":{\"card\":{\"id\":"
                               "\"1\",\"name\":\"x\",\"shortLink\":\"a)b[c\"},\"text\":\"t\"}}}",
                               &r, msg),
                     0);
    assert_null(strstr(r.card.fallback, "trello.com/c/"));
    card_release(&r.card);
}

/* "card '%.60s' ...": a precision that cuts a character in two leaves no piece of it. */
static void reason_cut_stays_utf8(void **state)
{
    (void)state;
    struct connector_result r;
    char msg[160];
    assert_int_equal(
        translate("{\"action\":{\"type\":\"updateCard\",\"data\":{\"card\":{"
                  "\"id\":\"1\",\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaaaaa\xc3\xa9\"},\"old\":{\"pos\":1}}}}",
                  &r, msg),
        0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
    json_t *valid = json_string(r.reason);
    assert_non_null(valid);
    json_decref(valid);
    assert_non_null(strstr(r.reason, "aaaa' was moved"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signature_good),
        cmocka_unit_test(signature_wrong_or_missing),
        cmocka_unit_test(signature_covers_body_url_and_secret),
        cmocka_unit_test(no_secret_or_url_refuses),
        cmocka_unit_test(settings_schema),
        cmocka_unit_test(actions_on_a_card_share_its_thread),
        cmocka_unit_test(moved_card_names_both_lists),
        cmocka_unit_test(uninteresting_actions_are_ignored),
        cmocka_unit_test(shapeless_payload_is_refused),
        cmocka_unit_test(odd_short_link_is_not_linked),
        cmocka_unit_test(reason_cut_stays_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
