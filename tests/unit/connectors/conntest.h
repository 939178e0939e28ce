/* conntest.h: what the connector unit tests share: request headers given as a list, and a type's
 * verify and translate run on a request built from their arguments, with the contracts every
 * type keeps asserted on the way (the message, the result's fields). Not for: what one type
 * does with a request (each <type>_test.c asserts that) or the golden fixtures (golden_test.c). */
#ifndef SB_TEST_CONNTEST_H
#define SB_TEST_CONNTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "connectors/connectors.h"

/* The type with this id; fails the test when there is none. */
const struct connector_type *ct_type(const char *id);

/* The settings connectors_settings_check makes of settings_json (JSON text; NULL: none given, the
 * defaults) for the type; fails the test when it refuses them. The caller json_decref's them. */
json_t *ct_settings(const char *type, const char *settings_json);
/* Fails the test unless connectors_settings_check refuses settings_json and says why. */
void ct_settings_refused(const char *type, const char *settings_json);

/* A connector_request's header callback: ctx is the request's headers, NULL-terminated
 * name/value pairs ({"X-Gitlab-Token", "t", NULL}; a value may be NULL: no such header) or NULL
 * for none; names are matched case-insensitively. */
const char *ct_header(void *ctx, const char *name);

/* A request of these headers (see ct_header), body (NULL: none, "") and secret: what a verify
 * reads (a translate, also payload and settings; a Trello verify, also callback_url). */
struct connector_request ct_request(const char *const *headers, const char *body,
                                    const char *secret);

/* Runs the type's verify on req with the checks every verify keeps: msg ends within its 160
 * bytes, a refusal (-ERR_UNAUTHORIZED, the only one) says why, a success leaves msg "". Returns
 * what verify returned. */
int ct_verify_request(const char *type, const struct connector_request *req, char msg[160]);
/* ct_verify_request on ct_request(headers, body, secret). */
int ct_verify(const char *type, const char *const *headers, const char *body, const char *secret,
              char msg[160]);

/* Runs the type's translate on a request of these headers (see ct_header) and body (JSON text,
 * parsed into the payload; NULL: no body and no payload), with the settings settings_json (NULL:
 * the defaults) after connectors_settings_check (which must accept them) and the default card
 * limits. Checks what every translate keeps: a refusal (a card error) says why in msg and posts
 * no card, a success leaves msg "", a posted result has a card, an ignored one a reason and no
 * card, the result's text fields end within their size. *out is zeroed first; the caller
 * card_release's out->card. Returns what translate returned. */
int ct_translate(const char *type, const char *const *headers, const char *body,
                 const char *settings_json, struct connector_result *out, char msg[160]);
/* The same with a payload (stolen) for a body (its compact JSON text) and card limits `lim`
 * (NULL: the default ones), without headers. */
int ct_translate_json(const char *type, json_t *payload, const char *settings_json,
                      const struct card_limits *lim, struct connector_result *out, char msg[160]);

#endif
