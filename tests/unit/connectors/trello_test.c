/* trello_test.c: the trello connector's signature check and what the golden fixtures do not pin
 * down (src/connectors/trello.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "connectors/connectors.h"

#include <string.h>

/* A known vector, computed apart from the code under test:
 *   printf '%s' '<BODY><URL>' | openssl dgst -sha1 -hmac '<SECRET>' -binary | base64 */
#define SECRET "b5f3c0ffee1234567890abcdef"
#define BODY "{\"action\":{\"type\":\"commentCard\",\"data\":{\"text\":\"hi\"}}}"
#define URL "https://switchboard.example/webhook/7/Zm9vYmFy"
#define SIGNATURE "Nj8Cau1bngnj5jpBDaUKFb/sA1o="

static const char *signature; /* what the X-Trello-Webhook header holds, or NULL */

static const char *header(void *ctx, const char *name)
{
    (void)ctx;
    return !strcmp(name, "X-Trello-Webhook") ? signature : NULL;
}

static struct connector_request request(const char *body, const char *secret, const char *url)
{
    struct connector_request req = {
        .limits = &card_default_limits,
        .header = header,
        .body = body,
        .body_len = strlen(body),
        .secret = secret,
        .callback_url = url,
    };
    return req;
}

static int verify(const struct connector_request *req, char msg[160])
{
    const struct connector_type *t = connectors_find("trello");
    memset(msg, 'X', 160); /* a success, too, leaves a (empty) message */
    int rc = t->verify(req, msg);
    assert_non_null(memchr(msg, '\0', 160));
    if (rc)
        assert_true(msg[0] != '\0'); /* a refusal always says why */
    else
        assert_string_equal(msg, "");
    return rc;
}

static void signature_good(void **state)
{
    (void)state;
    char msg[160];
    signature = SIGNATURE;
    struct connector_request req = request(BODY, SECRET, URL);
    assert_int_equal(verify(&req, msg), 0);
}

static void signature_wrong_or_missing(void **state)
{
    (void)state;
    char msg[160];
    struct connector_request req = request(BODY, SECRET, URL);
    signature = "Nj8Cau1bngnj5jpBDaUKFb/sA1p="; /* one character off */
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
    assert_non_null(strstr(msg, "does not match"));
    signature = "";
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
    signature = NULL;
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
    assert_non_null(strstr(msg, "missing"));
    signature = "not base64 at all!";
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
}

/* The signature covers the body, the callback URL and the secret: changing any one fails. */
static void signature_covers_body_url_and_secret(void **state)
{
    (void)state;
    char msg[160];
    signature = SIGNATURE;
    struct connector_request req = request(BODY " ", SECRET, URL);
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
    req = request(BODY, SECRET, URL "/");
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
    req = request(BODY, SECRET "x", URL);
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
    /* the signature is over body + URL, not over the body alone */
    req = request(BODY URL, SECRET, "");
    assert_int_equal(verify(&req, msg), 0);
}

static void no_secret_or_url_refuses(void **state)
{
    (void)state;
    char msg[160];
    signature = SIGNATURE;
    struct connector_request req = request(BODY, NULL, URL);
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
    assert_non_null(strstr(msg, "secret"));
    req = request(BODY, "", URL);
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
    req = request(BODY, SECRET, NULL);
    assert_int_equal(verify(&req, msg), -ERR_UNAUTHORIZED);
}

static void settings_schema(void **state)
{
    (void)state;
    const struct connector_type *t = connectors_find("trello");
    const struct connector_setting *s = connectors_secret_setting(t);
    assert_non_null(s);
    assert_string_equal(s->name, "secret");
    assert_string_equal(s->type, "password"); /* entered by the user, not generated */
    assert_true(s->secret);
    char msg[160];
    json_t *in = json_pack("{s:[s]}", "events", "commentCard");
    json_t *out = connectors_settings_check(t, in, NULL, msg);
    assert_non_null(out);
    assert_null(json_object_get(out, "secret")); /* never stored with the settings */
    json_decref(out);
    json_decref(in);
    in = json_pack("{s:[s]}", "events", "makeCoffee");
    assert_null(connectors_settings_check(t, in, NULL, msg));
    json_decref(in);
    assert_non_null(strstr(t->setup, "{url}"));
    assert_non_null(strstr(t->setup, "curl"));
}

/* Translates a payload given as JSON text; returns the card error. */
static int translate(const char *json, struct connector_result *out, char msg[160])
{
    const struct connector_type *t = connectors_find("trello");
    json_t *payload = json_loads(json, 0, NULL);
    assert_non_null(payload);
    json_t *settings = connectors_settings_check(t, NULL, NULL, msg);
    struct connector_request req = request(json, SECRET, URL);
    req.payload = payload;
    req.settings = settings;
    memset(out, 0, sizeof *out);
    int rc = t->translate(&req, out, msg);
    json_decref(settings);
    json_decref(payload);
    return rc;
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
