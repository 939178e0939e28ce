/* store: the one storage interface, backend-neutral (SQLite, or PostgreSQL for several nodes).
 *
 * Writes are operations (struct store_write) handed to the store's single writer thread, which
 * applies whatever is queued in one transaction (group commit: one fsync per batch) and calls each
 * operation's done() only after the batch committed. Operations enforce their own invariants inside
 * the transaction (membership, last owner), so a check made earlier by a reader cannot be raced.
 * Every committed change that readers may follow live produces events with a global sequence
 * number; the publisher set with store_set_publisher() receives them after commit, in order.
 *
 * Reads run on the calling thread through a per-thread read connection and return jansson
 * objects (new references, the caller decrefs) or fill small structs.
 *
 * Not for: permissions (core/), HTTP (http/, api/), fan-out (hub/). */
#ifndef SB_STORE_H
#define SB_STORE_H

#include "../base/base.h"

struct store;

struct store_options {
    const char *data_dir; /* created when absent; holds the SQLite file when database is unset */
    const char *database; /* NULL or "": SQLite in data_dir; else a postgres:// URI */
    unsigned pool;        /* read connections at most (0: 8) */
    bool migrate;         /* apply missing migrations (else refuse an older schema) */
};
/* Opens the database (SQLite: creating it), checks (and applies) migrations, and starts the
 * writer. A schema newer than this binary knows is refused. Returns NULL and fills errmsg on
 * failure. On PostgreSQL several processes (nodes) may open the same database: their writes
 * take turns and every node publishes every node's events, in sequence order. */
struct store *store_open_at(const struct store_options *o, char *errmsg, size_t errlen);
/* Records the fingerprint of the key that seals signing secrets when the database has none;
 * 0, or -ERR_CONFLICT (errmsg says what to do) when it was sealed with another key. */
int store_key_check(struct store *st, const char *fingerprint, char *errmsg, size_t errlen);
/* The schema version this binary knows (and a store it opened has). */
int store_schema_version(void);
/* store_open_at for SQLite in data_dir, migrating. */
struct store *store_open(const char *data_dir, char *errmsg, size_t errlen);
/* Finishes every queued write (committing it), stops the writer, checkpoints and closes.
 * store_close(NULL) does nothing. */
void store_close(struct store *st);

/* ---- events ---- */
struct store_event {
    int64_t seq;      /* global, increasing in commit order, no holes */
    int64_t team_id;  /* members of this team may read it */
    int64_t user_id;  /* and this user too (the subject of a membership change), or 0 */
    const char *kind; /* "message.created", "member.added", ... (static string) */
    char *data;       /* JSON text, owned by the event */
};
typedef void store_publish_fn(void *arg, const struct store_event *events, size_t n);
/* Sets who receives committed events (called on the writer thread; must not block for long). */
void store_set_publisher(struct store *st, store_publish_fn *fn, void *arg);
/* Sequence of the last event committed by any node, which on PostgreSQL the published one may
 * trail (a new live stream starts after it, so it never gets an event acknowledged before it
 * connected). */
int64_t store_head_seq(struct store *st);
/* The period of an "hourly" digest (a daily one is 24 of them); default an hour. */
void store_set_digest_unit(struct store *st, int64_t ms);
/* Sequence of the last event published (0 when none): on SQLite the last committed; on
 * PostgreSQL the follower's, which may trail a commit that just returned by a moment. */
int64_t store_last_seq(struct store *st);

/* ---- writes ---- */
enum store_op {
    STORE_USER_CREATE,    /* name, secret = password hash, flag = is_admin -> id */
    STORE_TOKEN_CREATE,   /* user_id, secret = token hash, name = label -> id */
    STORE_SESSION_CREATE, /* user_id, secret = token hash, expires -> id */
    STORE_SESSION_DELETE, /* secret = token hash */
    STORE_TEAM_CREATE,    /* actor, name -> id, result = Team; also channel "general" */
    STORE_MEMBER_ADD,     /* actor, team_id, user_id, role -> result = Member */
    STORE_MEMBER_REMOVE,  /* actor, team_id, user_id */
    STORE_CHANNEL_CREATE, /* actor, team_id, name -> id, result = Channel */
    STORE_MESSAGE_CREATE, /* actor, channel_id, text, thread (0: none) -> id, result = Message */
    /* connectors: the connector is connector_id; images are blob/blob_len/content_type */
    STORE_CONNECTOR_CREATE,   /* actor, channel_id, kind, name, image, secret (URL secret's
                                 hash), text = settings JSON, sealed (signing secret or NULL)
                                 -> id, result = Connector */
    STORE_CONNECTOR_UPDATE,   /* actor, connector_id; any of name, image, text = settings,
                                 sealed -> result = Connector */
    STORE_CONNECTOR_ROTATE,   /* actor, connector_id, secret (a new URL secret's hash) or sealed
                                 (a new signing secret) -> result = Connector */
    STORE_CONNECTOR_DELETE,   /* actor, connector_id */
    STORE_CONNECTOR_TAKEOVER, /* actor, connector_id (must be suspended) -> result = Connector */
    STORE_WEBHOOK_POST,       /* connector_id, text = fallback, card, delivery fields, key + reply,
                                 thread_key + update_root -> id (result = Message only when
                                 flag), root_id; or replayed */
    STORE_DELIVERY_LOG,       /* connector_id, delivery fields, outcome ("refused", "ignored") */
    /* the group mailbox */
    STORE_MAILBOX_SET,  /* actor (a team owner), team_id, flag = enabled, text = channel ids
                           (JSON array) */
    STORE_MAILBOX_MODE, /* actor (a member), team_id, role = "off", "each", "hourly",
                           "daily" (not "off" without an e-mail address) */
    STORE_USER_EMAIL,   /* actor, text = address or NULL */
    STORE_MAIL_RESULT,  /* id = queue row, status = 0 sent / else failed: error, expires =
                           next attempt (0: give up) */
    /* feeds */
    STORE_FEED_STATE, /* name = feed URL, etag, last_modified (NULL: keep), expires =
                         next fetch (ms), status = consecutive failures, error = the
                         last one or NULL */
    STORE_FEED_CHECK, /* name = feed URL: due now */
    STORE_FEED_ITEM,  /* connector_id, key = item hash; unless flag (only remember it):
                         text = fallback, card, dialect -> id; replayed when the connector
                         had seen the item already */
};

struct store_write {
    enum store_op op;
    /* inputs (borrowed; must stay valid until done() runs) */
    int64_t actor;
    int64_t team_id, channel_id, user_id;
    const char *name;
    const char *text;
    const char *secret;
    const char *role;
    bool flag;
    int64_t expires;
    void *owned;  /* an input buffer the write owns: freed by store_write_release */
    void *owned2; /* and another (a connector's settings text, its sealed secret) */
    void *owned3;
    int64_t connector_id;
    int64_t thread;   /* a message of the thread to reply in, or 0 */
    const char *kind; /* connector type */
    const void *blob; /* image bytes, or NULL */
    size_t blob_len;
    const char *content_type; /* of the image */
    const char *card;         /* canonical card JSON text */
    const char *key;          /* Idempotency-Key, or NULL */
    const char *reply;        /* the answer to keep with the key */
    const char *dialect;      /* delivery log fields */
    int status;
    const char *error;
    size_t size;
    const char *body;       /* the request body when small enough to keep, else NULL */
    const char *outcome;    /* delivery log: "posted", "ignored", "refused" */
    const char *sealed;     /* a sealed signing secret */
    const char *thread_key; /* related events share a thread (connector_threads) */
    bool update_root;       /* and this one replaces the card of the thread's first message */
    const char *etag, *last_modified; /* feed state */
    bool replayed;                    /* result: the key was seen; replay_* hold the first answer */
    int replay_status;
    char *replay_body; /* owned */
    /* results, valid in done() and after */
    int rc;                     /* 0 or -ERR_x */
    int64_t id;                 /* the new row's id */
    int64_t root_id;            /* the thread a webhook post joined, or 0 */
    json_t *result;             /* the created object, owned by the write (store_write_release) */
    struct store_event *events; /* in seq order, owned */
    size_t n_events, alloc_events;
    /* completion: runs on the writer thread after the batch committed (or failed); must not
     * block. May be NULL for store_write_wait(). */
    void (*done)(struct store_write *w);
    void *arg;
    /* private to the store */
    struct store_write *next;
    void *waiter;
};

/* Queues w for the writer; w->done runs later on the writer thread. Returns 0, or
 * -ERR_UNAVAILABLE (done is not called) once the store is closing. */
int store_submit(struct store *st, struct store_write *w);
/* Blocks until every write submitted so far has committed and had its done() called. */
void store_flush(struct store *st);
/* Submits and blocks the calling thread until committed; returns w->rc. For the CLI and tests,
 * never for HTTP worker threads. */
int store_write_wait(struct store *st, struct store_write *w);
/* Frees what w holds (result, event data, owned input). */
void store_write_release(struct store_write *w);

/* ---- reads ---- */
struct store_user {
    int64_t id;
    char username[128];
    bool is_admin;
};
enum store_role { STORE_ROLE_NONE = 0, STORE_ROLE_MEMBER, STORE_ROLE_OWNER };

/* Resolves a token (by its hash) to its user: 0, or -ERR_UNAUTHORIZED. */
int store_auth_token(struct store *st, const char *token_hash, struct store_user *out);
/* Resolves an unexpired session (by its hash) to its user: 0, or -ERR_UNAUTHORIZED. */
int store_auth_session(struct store *st, const char *token_hash, int64_t now_ms,
                       struct store_user *out);
/* Finds a user by name (case-insensitive); fills the stored password hash when pw_hash != NULL.
 * 0, or -ERR_USER_NOT_FOUND. */
int store_user_by_name(struct store *st, const char *username, struct store_user *out,
                       char pw_hash[128]);
int store_user_by_id(struct store *st, int64_t id, struct store_user *out);
/* Role of user in team (STORE_ROLE_NONE when not a member or no such team). */
enum store_role store_member_role(struct store *st, int64_t team_id, int64_t user_id);
/* Channel of a message: 0, or -ERR_NOT_FOUND. */
int store_message_channel(struct store *st, int64_t message_id, int64_t *channel_id);
/* Team of a channel: 0, or -ERR_NOT_FOUND. */
int store_channel_team(struct store *st, int64_t channel_id, int64_t *team_id);

json_t *store_teams_of_user(struct store *st, int64_t user_id);             /* [Team] */
json_t *store_team_get(struct store *st, int64_t team_id, int64_t user_id); /* Team or NULL */
json_t *store_members(struct store *st, int64_t team_id);                   /* [Member] */
json_t *store_channels(struct store *st, int64_t team_id);                  /* [Channel] */
json_t *store_channel_get(struct store *st, int64_t channel_id);            /* Channel or NULL */
/* Messages of a channel, newest first (see docs/api.md for the cursor rules); before 0 = unset,
 * after -1 = unset (after 0 = from the first message). thread 0: the channel's top-level
 * messages; else the replies under that root. Sets *has_more. */
json_t *store_messages(struct store *st, int64_t channel_id, int64_t thread, int64_t before,
                       int64_t after, int limit, bool *has_more);

/* Ids of the teams a user belonged to just after event `at` (at < 0: now), ascending; *n set;
 * caller frees. */
int64_t *store_user_team_ids(struct store *st, int64_t user_id, int64_t at, size_t *n);
/* The events after `after` that the user would have received live: those of the teams they
 * belonged to at the time (following their joins and departures in order) and those about them.
 * Looks at no more than `limit` events that might concern the user, calls fn for the ones that
 * do, in sequence order, and sets *scanned_to to the last sequence looked at (after, when none).
 * Returns how many were looked at (< limit: nothing more up to now), or a negative error. */
typedef void store_event_fn(void *arg, const struct store_event *ev);
int store_events_after(struct store *st, int64_t user_id, int64_t after, int limit,
                       store_event_fn *fn, void *arg, int64_t *scanned_to);

/* What the webhook endpoint needs to check a request. */
enum store_connector_state {
    STORE_CONNECTOR_ACTIVE,
    STORE_CONNECTOR_SUSPENDED,
    STORE_CONNECTOR_DELETED
};
struct store_connector_auth {
    char secret_hash[65];
    enum store_connector_state state;
    char reason[256];
    int64_t channel_id, team_id;
    char name[128];
    char image_hash[65]; /* "" when none */
    char type[32];
    char settings[8192]; /* JSON object */
    char sealed[512];    /* the sealed signing secret, "" when none */
};
/* 0, or -ERR_NOT_FOUND. */
int store_connector_auth(struct store *st, int64_t id, struct store_connector_auth *out);
/* Team and owner of a connector that was not deleted: 0, or -ERR_NOT_FOUND. */
int store_connector_team(struct store *st, int64_t id, int64_t *team_id, int64_t *owner_id,
                         enum store_connector_state *state);
json_t *store_connector_get(struct store *st, int64_t id);      /* Connector or NULL */
json_t *store_connectors(struct store *st, int64_t channel_id); /* [Connector] */
json_t *store_deliveries(struct store *st, int64_t connector_id, int limit);
/* The active feed connectors, ordered by feed URL: calls fn once per connector. */
struct store_feed_row {
    int64_t connector_id;
    const char *url;
    int interval_min;
    const char *etag, *last_modified; /* NULL when none */
    int64_t next_fetch;               /* ms; 0 = now */
    int failures;
    int64_t seen; /* items this connector has seen (0: never fetched for it) */
};
typedef void store_feed_fn(void *arg, const struct store_feed_row *row);
int store_feeds(struct store *st, store_feed_fn *fn, void *arg);
/* The group mailbox of a team as the caller sees it: {"enabled","channels","me":{"mode"},
 * "email"}. */
json_t *store_mailbox(struct store *st, int64_t team_id, int64_t user_id);
/* The user's e-mail address into out ("" when none). */
void store_user_email(struct store *st, int64_t user_id, char out[256]);
/* Mails due at now: calls fn per queue row (rows of one user and team together). */
struct store_mail_row {
    int64_t id, team_id, user_id, message_id, connector_id, channel_id, created;
    bool digest;
    int attempts;
    const char *email, *username, *team, *channel, *card, *text, *mode;
};
typedef void store_mail_fn(void *arg, const struct store_mail_row *row);
int store_mail_due(struct store *st, int64_t now, int limit, store_mail_fn *fn, void *arg);
/* The unsent digest rows of a user in a team, oldest first (at most 200). */
int store_mail_digest(struct store *st, int64_t user_id, int64_t team_id, store_mail_fn *fn,
                      void *arg);
/* An image by its hash: 0 with *bytes (caller frees), *len and content_type; or -ERR_NOT_FOUND. */
int store_image_get(struct store *st, const char *hash, void **bytes, size_t *len,
                    char content_type[32]);

/* Whether other processes write to the same database at the same time (PostgreSQL: other nodes),
 * so that limits kept in memory must be kept in the database instead. */
bool store_shared(struct store *st);
/* A token from the shared bucket `key` (rate per second, burst): 0 when taken, else the seconds
 * until one is there. Admits when the database cannot be reached (the write will answer then). */
unsigned store_rate_take(struct store *st, int64_t key, double rate, double burst, int64_t now_ms);

/* Whether this process runs the background jobs (feed polling, the mailer): always on SQLite; on
 * PostgreSQL one node at a time (another takes over within seconds when it goes away). */
bool store_leader(struct store *st);

/* Counters for tests and benchmarks. */
struct store_stats {
    uint64_t commits, writes;
};
void store_get_stats(struct store *st, struct store_stats *out);

/* ---- moving a deployment between databases (transfer.c) ---- */
#include <stdio.h> /* FILE */
/* Writes every row of the database o names (as store_open_at picks it; never created here) to
 * out as a stream of JSON lines (the format is in transfer.c), all from one snapshot, so a
 * server may keep running; transient state (rate limits) stays behind. The database must have
 * this binary's schema version. 0, or -ERR_x with a message in err; out may then hold part of a
 * stream (which an import refuses). */
int store_export(const struct store_options *o, FILE *out, char *err, size_t len);
/* Reads a stream of store_export into the database o names, which must hold no data (a new one
 * is created and migrated), in one transaction: 0, or -ERR_x with a message in err (naming the
 * line of bad input: -ERR_BAD_REQUEST; a database in use: -ERR_CONFLICT), and then no row was
 * written (a new database keeps its schema). The stream's schema version must be this binary's.
 * The secret key that seals the connectors' signing secrets is no part of the stream: it stays
 * in the old data directory. */
int store_import(const struct store_options *o, FILE *in, char *err, size_t len);

#endif
