/* core: the domain operations and their rules: who may see and do what with teams, members,
 * channels and messages; accounts, sessions and login throttling.
 *
 * Reads answer at once. A write is prepared here (checked and filled into a struct store_write
 * that the caller owns) and then committed with core_submit(); the store re-checks membership
 * and ownership inside the transaction. Non-members get -ERR_NOT_FOUND, never -ERR_FORBIDDEN, so
 * nobody learns that a team they are not in exists.
 *
 * Not for: HTTP (api/), storage details (store/), live delivery (hub/). */
#ifndef SB_CORE_H
#define SB_CORE_H

#include "../connectors/connectors.h"
#include "../store/store.h"

#define CORE_NAME_MAX 80 /* team and channel names, characters */
#define CORE_USERNAME_MAX 64
#define CORE_PASSWORD_MAX 1024 /* bytes */
#define CORE_TEXT_MAX 16000    /* message text, characters */
#define CORE_PAGE_MAX 200
#define CORE_PAGE_DEFAULT 50
#define CORE_SESSION_DAYS 30
#define CORE_LOGIN_FAILURES 5 /* failures in the window before logins are refused */
#define CORE_LOGIN_WINDOW_S 900
#define CORE_IMAGE_MAX (256 * 1024) /* connector images, bytes */
#define CORE_DELIVERY_BODY_MAX 4096 /* request bodies kept in the delivery log */
#define CORE_IDEMPOTENCY_KEY_MAX 200

struct core;
struct core_config {
    double webhook_rate;  /* sustained requests per second per webhook */
    double webhook_burst; /* bucket size */
    const struct card_limits *card_limits;
    const unsigned char *seal_key; /* 32 bytes, for signing secrets at rest (core_new: random) */
};
struct core *core_new(struct store *st);
/* Settings that have defaults in core_new (rate 10/s, burst 20, card_default_limits). */
void core_configure(struct core *c, const struct core_config *cfg);
void core_free(struct core *c);
struct store *core_store(struct core *c);

/* ---- accounts ---- */
/* Username rules: 1..64 characters of [A-Za-z0-9._-], not all digits (ids are). */
bool core_username_valid(const char *name);
/* Prepares a user creation (hashes the password: slow, ~0.1 s). */
int core_user_create(struct core *c, const char *username, const char *password, bool is_admin,
                     struct store_write *w);
/* Prepares an API token for user; token receives the secret (shown once). */
void core_token_create(struct core *c, int64_t user_id, const char *label, char token[64],
                       struct store_write *w);
int core_auth_bearer(struct core *c, const char *token, struct store_user *out);
int core_auth_session(struct core *c, const char *session_token, struct store_user *out);
/* Checks a login (slow: argon2id; run it off the HTTP workers). 0; -ERR_INVALID_CREDENTIALS;
 * -ERR_TOO_MANY_REQUESTS with *retry_after_s set when this username or address failed
 * CORE_LOGIN_FAILURES times within the window. */
int core_login(struct core *c, const char *username, const char *password, const char *ip,
               struct store_user *out, unsigned *retry_after_s);
/* Prepares a new session for user; token receives the cookie value. */
void core_session_create(struct core *c, int64_t user_id, char token[64], struct store_write *w);
void core_session_delete(struct core *c, const char *session_token, struct store_write *w);
/* The CSRF token that goes with a session (derived, not stored). */
void core_csrf_token(const char *session_token, char out[65]);

/* ---- teams, members, channels, messages ---- */
json_t *core_teams(struct core *c, const struct store_user *who);
int core_team_get(struct core *c, const struct store_user *who, int64_t team, json_t **out);
int core_team_create(struct core *c, const struct store_user *who, const char *name,
                     struct store_write *w);
int core_members(struct core *c, const struct store_user *who, int64_t team, json_t **out);
/* role: "member" or "owner". */
int core_member_add(struct core *c, const struct store_user *who, int64_t team,
                    const char *username, const char *role, struct store_write *w);
/* user: an id or a username. */
int core_member_remove(struct core *c, const struct store_user *who, int64_t team, const char *user,
                       struct store_write *w);
int core_channels(struct core *c, const struct store_user *who, int64_t team, json_t **out);
int core_channel_create(struct core *c, const struct store_user *who, int64_t team,
                        const char *name, struct store_write *w);
int core_channel_get(struct core *c, const struct store_user *who, int64_t channel, json_t **out);
/* Newest first; before 0 = unset, after -1 = unset (0 = from the first); limit
 * 1..CORE_PAGE_MAX. */
int core_messages(struct core *c, const struct store_user *who, int64_t channel, int64_t thread,
                  int64_t before, int64_t after, int limit, json_t **out);
/* thread: a message of the channel to reply to (0: a top-level message); a reply to a reply
 * joins its root's thread. -ERR_INVALID_FIELD when thread is not a message of the channel. */
int core_message_post(struct core *c, const struct store_user *who, int64_t channel,
                      const char *text, int64_t thread, struct store_write *w);

/* ---- connectors ---- */
/* Image bytes checked by content: PNG, JPEG, GIF or WebP, at most CORE_IMAGE_MAX. Returns the
 * content type, or NULL. */
const char *core_image_type(const void *data, size_t len);
/* Decodes an image given as a data: URL or plain base64 into *out (caller frees). 0, or
 * -ERR_INVALID_FIELD with msg set. */
int core_image_decode(const char *text, void **out, size_t *len, const char **content_type,
                      char msg[160]);

/* A stored image by its content hash (public: images are named by content). */
int core_image_get(struct core *c, const char *hash, void **bytes, size_t *len,
                   char content_type[32]);
/* What a client gives to create or change a connector. */
struct core_connector_fields {
    const char *name; /* NULL: unchanged (required to create) */
    const void *image;
    size_t image_len;
    const char *image_type; /* image NULL: unchanged / none */
    json_t *settings;       /* the type's settings (connectors_settings_check), NULL: none */
    const char *password;   /* a "password" setting's value (Trello's app secret), NULL: none */
};
/* Prepares a connector on channel. url_secret receives the URL's secret and signing the
 * signing secret of a type that generates one ("" otherwise), both shown once. -ERR_NOT_FOUND
 * (channel), or -ERR_INVALID_FIELD with msg set. */
int core_connector_create(struct core *c, const struct store_user *who, int64_t channel,
                          const char *type, const struct core_connector_fields *f,
                          char url_secret[64], char signing[64], struct store_write *w,
                          char msg[160]);
int core_connectors(struct core *c, const struct store_user *who, int64_t channel, json_t **out);
int core_connector_get(struct core *c, const struct store_user *who, int64_t id, json_t **out);
/* Changes what f gives (settings: the keys given replace theirs). -ERR_INVALID_FIELD with msg
 * set when a value is invalid. */
int core_connector_update(struct core *c, const struct store_user *who, int64_t id,
                          const struct core_connector_fields *f, struct store_write *w,
                          char msg[160]);
/* A new URL secret (the old URL stops working). */
int core_connector_rotate(struct core *c, const struct store_user *who, int64_t id, char secret[64],
                          struct store_write *w);
/* A new generated signing secret; -ERR_CONFLICT when the type has none to generate. */
int core_connector_rotate_signing(struct core *c, const struct store_user *who, int64_t id,
                                  char signing[64], struct store_write *w);
int core_connector_delete(struct core *c, const struct store_user *who, int64_t id,
                          struct store_write *w);
int core_connector_takeover(struct core *c, const struct store_user *who, int64_t id,
                            struct store_write *w);
int core_deliveries(struct core *c, const struct store_user *who, int64_t id, json_t **out);

/* The webhook path. Checks a request's connector and secret: 0 (active); -ERR_NOT_FOUND for an
 * unknown id or a wrong secret alike (constant-time); -ERR_GONE deleted; -ERR_FORBIDDEN
 * suspended (out->reason says why). */
int core_webhook_check(struct core *c, int64_t id, const char *secret,
                       struct store_connector_auth *out);
/* Takes one request from the connector's token bucket: 0, or the seconds to wait. */
unsigned core_webhook_admit(struct core *c, int64_t id);
/* Checks a request's signature and translates it through the connector's type. The caller fills
 * req's payload, forced, header, body and callback_url; the core adds the limits, the settings
 * and the signing secret. 0 with out filled (an event the settings do not select becomes
 * CONNECTOR_IGNORED); -ERR_UNAUTHORIZED (signature) or -ERR_BAD_REQUEST with msg set. */
int core_webhook_translate(struct core *c, const struct store_connector_auth *conn,
                           struct connector_request *req, struct connector_result *out,
                           char msg[160]);
/* Prepares the message of an accepted request. The card, body, key, reply and the result's
 * thread key must stay valid until the write is done. */
void core_webhook_post(struct core *c, int64_t connector_id, const struct connector_result *res,
                       const char *card_json, const char *dialect, size_t size, const char *body,
                       const char *key, const char *reply, struct store_write *w);
/* Records a request that posted nothing in the connector's delivery log: outcome "refused" or
 * "ignored" (asynchronously; copies its inputs). */
void core_delivery_log(struct core *c, int64_t connector_id, const char *dialect, int status,
                       const char *outcome, const char *error, size_t size, const char *body);

/* ---- the group mailbox (mailbox.c) ---- */
/* The team's mailbox as the caller sees it (docs/api.md); members only. */
int core_mailbox_get(struct core *c, const struct store_user *who, int64_t team, json_t **out);
/* A team owner turns the mailbox on or off, for all channels ([] or NULL) or the ones listed
 * (ids of this team's channels, else -ERR_INVALID_FIELD with msg). */
int core_mailbox_set(struct core *c, const struct store_user *who, int64_t team, bool enabled,
                     json_t *channels, struct store_write *w, char msg[160]);
/* A member's choice: "off", "each", "hourly", "daily" (-ERR_INVALID_FIELD otherwise; the store
 * refuses anything but "off" without an e-mail address, also -ERR_INVALID_FIELD). */
int core_mailbox_mode(struct core *c, const struct store_user *who, int64_t team, const char *mode,
                      struct store_write *w);
/* Sets (or with NULL removes) the caller's e-mail address; -ERR_INVALID_FIELD when it is not
 * one. */
int core_user_email(struct core *c, const struct store_user *who, const char *email,
                    struct store_write *w);
/* The one-click unsubscribe of a mail's List-Unsubscribe link: -ERR_NOT_FOUND for a token that
 * is not one of ours. */
int core_mailbox_unsubscribe(struct core *c, const char *token, struct store_write *w);

struct core_mail_config {
    const char *smtp_url;   /* smtp://[user:pass@]host[:port] or smtps:// */
    int smtp_tls;           /* enum egress_smtp_tls */
    const char *from;       /* the From header ("Switchboard <sb@example.com>") */
    const char *from_addr;  /* its address, for the envelope */
    const char *public_url; /* links back to messages, unsubscribe links */
    unsigned retry_s;       /* first retry after this, doubling (default 30) */
};
struct mailer;
struct mailer *core_mailer_start(struct core *c, const struct core_mail_config *cfg, char msg[160]);
/* Stops the mailer (a mail being sent finishes first). NULL does nothing. */
void core_mailer_stop(struct mailer *m);

/* ---- feeds (feeds.c) ---- */
/* Starts the feed poller: every tick_s seconds it fetches the feeds that are due, through the
 * egress guard with `allow` (comma-separated CIDRs or host:port) as its allow-list. NULL with
 * msg set when the allow-list is invalid. */
struct feeds;
struct feeds *core_feeds_start(struct core *c, const char *allow, unsigned tick_s, char msg[160]);
/* Stops the poller (a fetch under way finishes first). NULL does nothing. */
void core_feeds_stop(struct feeds *fs);
/* Makes a feed connector's feed due now (its next tick fetches it). -ERR_CONFLICT when the
 * connector is not a feed. */
int core_feed_check_now(struct core *c, const struct store_user *who, int64_t id,
                        struct store_write *w);

/* Commits a prepared write; w->done runs after the commit. */
int core_submit(struct core *c, struct store_write *w);

/* ---- login throttling (exposed for unit tests) ---- */
struct throttle;
struct throttle *throttle_new(size_t slots, unsigned max_failures, unsigned window_s);
void throttle_free(struct throttle *t);
/* Seconds until key may try again (0 = now). */
unsigned throttle_check(struct throttle *t, const char *key, int64_t now_ms);
void throttle_fail(struct throttle *t, const char *key, int64_t now_ms);
void throttle_clear(struct throttle *t, const char *key);

#endif
