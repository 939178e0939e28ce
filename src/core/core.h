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

struct core;
struct core *core_new(struct store *st);
void core_free(struct core *c);
struct store *core_store(struct core *c);

/* ---- accounts ---- */
/* Username rules: 1..64 characters of [A-Za-z0-9._-]. */
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
int core_messages(struct core *c, const struct store_user *who, int64_t channel, int64_t before,
                  int64_t after, int limit, json_t **out);
int core_message_post(struct core *c, const struct store_user *who, int64_t channel,
                      const char *text, struct store_write *w);

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
