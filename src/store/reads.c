/* reads.c: the store's reads. Each runs on the calling thread over a read connection leased
 * from the pool for the duration of the call (struct lease, given back on every return). */
#include "store_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lease {
    struct store *st;
    struct db *db;
};

static void lease_end(struct lease *l)
{
    if (l->db)
        store_reader_put(l->st, l->db);
}

/* Declares `c`, a read connection of st held until the enclosing block ends; returns `fail`
 * when there is none (PostgreSQL cannot be reached). */
#define READ_CONN(c, st, fail)                                                                     \
    __attribute__((cleanup(lease_end))) struct lease c##_lease = {(st), store_reader_get(st)};     \
    struct db *c = c##_lease.db;                                                                   \
    if (!c)                                                                                        \
    return fail

/* ---- reads ---- */

static int read_user(struct db_stmt *s, struct store_user *out, char pw_hash[128])
{
    int rc = db_step(s);
    if (rc != DB_ROW) {
        db_reset(s);
        return rc == DB_DONE ? -ERR_NOT_FOUND : rc;
    }
    out->id = db_int64(s, 0);
    snprintf(out->username, sizeof out->username, "%s", db_text(s, 1));
    out->is_admin = (int)db_int64(s, 2) != 0;
    if (pw_hash)
        snprintf(pw_hash, 128, "%s", db_text(s, 3));
    db_reset(s);
    return 0;
}

int store_auth_token(struct store *st, const char *token_hash, struct store_user *out)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_AUTH_TOKEN);
    db_bind_text(s, 1, token_hash);
    int rc = read_user(s, out, NULL);
    return rc == -ERR_NOT_FOUND ? -ERR_UNAUTHORIZED : rc; /* a database error stays one (503) */
}

int store_auth_session(struct store *st, const char *token_hash, int64_t now_ms,
                       struct store_user *out)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_AUTH_SESSION);
    db_bind_text(s, 1, token_hash);
    db_bind_int64(s, 2, now_ms);
    int rc = read_user(s, out, NULL);
    return rc == -ERR_NOT_FOUND ? -ERR_UNAUTHORIZED : rc;
}

int store_user_by_name(struct store *st, const char *username, struct store_user *out,
                       char pw_hash[128])
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_USER_BY_NAME);
    db_bind_text(s, 1, username);
    int rc = read_user(s, out, pw_hash);
    return rc == -ERR_NOT_FOUND ? -ERR_USER_NOT_FOUND : rc;
}

int store_user_by_id(struct store *st, int64_t id, struct store_user *out)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_USER_BY_ID);
    db_bind_int64(s, 1, id);
    int rc = read_user(s, out, NULL);
    return rc == -ERR_NOT_FOUND ? -ERR_USER_NOT_FOUND : rc;
}

enum store_role store_member_role(struct store *st, int64_t team_id, int64_t user_id)
{
    READ_CONN(c, st, STORE_ROLE_NONE);
    struct db_stmt *s = db_stmt(c, SQL_ROLE);
    db_bind_int64(s, 1, team_id);
    db_bind_int64(s, 2, user_id);
    enum store_role role = STORE_ROLE_NONE;
    if (db_step(s) == DB_ROW)
        role = strcmp(db_text(s, 0), "owner") ? STORE_ROLE_MEMBER : STORE_ROLE_OWNER;
    db_reset(s);
    return role;
}

int store_message_channel(struct store *st, int64_t message_id, int64_t *channel_id)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_MESSAGE_THREAD_OF);
    db_bind_int64(s, 1, message_id);
    return db_int64_of(s, channel_id); /* column 0 is the channel */
}

int store_channel_team(struct store *st, int64_t channel_id, int64_t *team_id)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_CHANNEL_TEAM);
    db_bind_int64(s, 1, channel_id);
    return db_int64_of(s, team_id);
}

/* Runs s and collects each row through `row` into a new array. */
static json_t *collect(struct db_stmt *s, json_t *(*row)(struct db_stmt *))
{
    json_t *a = json_array();
    while (db_step(s) == DB_ROW)
        json_array_append_new(a, row(s));
    db_reset(s);
    return a;
}

static json_t *first(struct db_stmt *s, json_t *(*row)(struct db_stmt *))
{
    json_t *j = db_step(s) == DB_ROW ? row(s) : NULL;
    db_reset(s);
    return j;
}

json_t *store_teams_of_user(struct store *st, int64_t user_id)
{
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, SQL_TEAMS_OF_USER);
    db_bind_int64(s, 1, user_id);
    return collect(s, row_team);
}

json_t *store_team_get(struct store *st, int64_t team_id, int64_t user_id)
{
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, SQL_TEAM_OF_USER);
    db_bind_int64(s, 1, user_id);
    db_bind_int64(s, 2, team_id);
    return first(s, row_team);
}

json_t *store_members(struct store *st, int64_t team_id)
{
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, SQL_MEMBERS);
    db_bind_int64(s, 1, team_id);
    return collect(s, row_member);
}

json_t *store_channels(struct store *st, int64_t team_id)
{
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, SQL_CHANNELS);
    db_bind_int64(s, 1, team_id);
    return collect(s, row_channel);
}

json_t *store_channel_get(struct store *st, int64_t channel_id)
{
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, SQL_CHANNEL_GET);
    db_bind_int64(s, 1, channel_id);
    return first(s, row_channel);
}

json_t *store_messages(struct store *st, int64_t channel_id, int64_t thread, int64_t before,
                       int64_t after, int limit, bool *has_more)
{
    bool forward = after >= 0;
    enum sql_id q = thread ? (forward ? SQL_THREAD_AFTER : SQL_THREAD_BEFORE)
                           : (forward ? SQL_MESSAGES_AFTER : SQL_MESSAGES_BEFORE);
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, q);
    if (thread)
        db_bind_int64(s, 4, thread);
    db_bind_int64(s, 1, channel_id);
    db_bind_int64(s, 2, forward ? after : (before > 0 ? before : INT64_MAX));
    db_bind_int64(s, 3, limit + 1); /* one more than asked tells whether there is more */
    json_t *a = collect(s, row_message);
    *has_more = json_array_size(a) > (size_t)limit;
    if (*has_more)
        json_array_remove(a, (size_t)limit);
    if (forward) { /* fetched oldest first; the API answers newest first */
        size_t n = json_array_size(a);
        for (size_t i = 0; i < n / 2; i++) {
            json_t *x = json_incref(json_array_get(a, i));
            json_array_set(a, i, json_array_get(a, n - 1 - i));
            json_array_set_new(a, n - 1 - i, x);
        }
    }
    return a;
}

static bool is_join(const char *kind)
{
    return !strcmp(kind, "member.added") || !strcmp(kind, "team.created");
}

/* The user's teams just after `at` (now when at < 0), and in *touched (when not NULL) every team
 * they joined or left after it. */
static void teams_at(struct db *c, int64_t user_id, int64_t at, struct idset *set,
                     struct idset *touched)
{
    struct db_stmt *s = db_stmt(c, SQL_USER_TEAM_IDS);
    db_bind_int64(s, 1, user_id);
    while (db_step(s) == DB_ROW)
        idset_add(set, db_int64(s, 0));
    db_reset(s);
    if (at < 0)
        return;
    s = db_stmt(c, SQL_MEMBERSHIP_AFTER); /* newest first: undo them one by one */
    db_bind_int64(s, 1, user_id);
    db_bind_int64(s, 2, at);
    while (db_step(s) == DB_ROW) {
        int64_t team = db_int64(s, 1);
        if (is_join(db_text(s, 2)))
            idset_del(set, team);
        else
            idset_add(set, team);
        if (touched)
            idset_add(touched, team);
    }
    db_reset(s);
}

int64_t *store_user_team_ids(struct store *st, int64_t user_id, int64_t at, size_t *n)
{
    struct idset set = {0};
    *n = 0;
    READ_CONN(c, st, xcalloc(1, sizeof(int64_t)));
    teams_at(c, user_id, at, &set, NULL);
    *n = set.n;
    return set.v ? set.v : xmalloc(sizeof(int64_t)); /* the caller frees the array */
}

int store_events_after(struct store *st, int64_t user_id, int64_t after, int limit,
                       store_event_fn *fn, void *arg, int64_t *scanned_to)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct idset set = {0}, candidates = {0};
    *scanned_to = after;
    teams_at(c, user_id, after, &set, &candidates);
    for (size_t i = 0; i < set.n; i++)
        idset_add(&candidates, set.v[i]);
    struct buf teams;
    buf_init(&teams, 1 << 24);
    buf_append(&teams, "[", 1);
    for (size_t i = 0; i < candidates.n; i++)
        buf_printf(&teams, "%s%lld", i ? "," : "", (long long)candidates.v[i]);
    buf_append(&teams, "]", 1);
    struct db_stmt *s = db_stmt(c, SQL_EVENTS_AFTER);
    db_bind_int64(s, 1, after);
    db_bind_int64(s, 2, user_id);
    db_bind_text(s, 3, teams.data);
    db_bind_int64(s, 4, limit);
    int count = 0, rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct store_event ev = {
            .seq = db_int64(s, 0),
            .team_id = db_int64(s, 1),
            .user_id = db_int64(s, 2),
            .kind = store_event_kind(db_text(s, 3)),
            .data = (char *)db_text(s, 4),
        };
        bool about_me = ev.user_id == user_id;
        if (about_me || idset_has(&set, ev.team_id))
            fn(arg, &ev);
        if (about_me && is_join(ev.kind)) /* follow them, as a live stream would */
            idset_add(&set, ev.team_id);
        else if (about_me && !strcmp(ev.kind, "member.removed"))
            idset_del(&set, ev.team_id);
        *scanned_to = ev.seq;
        count++;
    }
    db_reset(s);
    buf_release(&teams);
    idset_release(&set);
    idset_release(&candidates);
    return rc >= 0 ? count : rc;
}

/* ---- connectors ---- */

int store_connector_auth(struct store *st, int64_t id, struct store_connector_auth *out)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_CONNECTOR_AUTH);
    db_bind_int64(s, 1, id);
    int rc = db_step(s);
    if (rc != DB_ROW) {
        db_reset(s);
        return rc == DB_DONE ? -ERR_NOT_FOUND : rc;
    }
    snprintf(out->secret_hash, sizeof out->secret_hash, "%s", db_text(s, 0));
    const char *state = db_text(s, 1);
    out->state = !strcmp(state, "active")      ? STORE_CONNECTOR_ACTIVE
                 : !strcmp(state, "suspended") ? STORE_CONNECTOR_SUSPENDED
                                               : STORE_CONNECTOR_DELETED;
    snprintf(out->reason, sizeof out->reason, "%s", db_text(s, 2));
    out->channel_id = db_int64(s, 3);
    snprintf(out->name, sizeof out->name, "%s", db_text(s, 4));
    snprintf(out->image_hash, sizeof out->image_hash, "%s", db_text(s, 5));
    snprintf(out->type, sizeof out->type, "%s", db_text(s, 6));
    out->team_id = db_int64(s, 7);
    snprintf(out->settings, sizeof out->settings, "%s", db_text(s, 8));
    snprintf(out->sealed, sizeof out->sealed, "%s", db_text(s, 9));
    db_reset(s);
    return 0;
}

int store_connector_team(struct store *st, int64_t id, int64_t *team_id, int64_t *owner_id,
                         enum store_connector_state *state)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_CONNECTOR_STATE);
    db_bind_int64(s, 1, id);
    int rc = -ERR_NOT_FOUND;
    if (db_step(s) == DB_ROW && strcmp(db_text(s, 0), "deleted")) {
        *state =
            strcmp(db_text(s, 0), "active") ? STORE_CONNECTOR_SUSPENDED : STORE_CONNECTOR_ACTIVE;
        *team_id = db_int64(s, 2);
        *owner_id = db_int64(s, 3);
        rc = 0;
    }
    db_reset(s);
    return rc;
}

json_t *store_connector_get(struct store *st, int64_t id)
{
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, SQL_CONNECTOR_GET);
    db_bind_int64(s, 1, id);
    return first(s, row_connector);
}

json_t *store_connectors(struct store *st, int64_t channel_id)
{
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, SQL_CONNECTORS_OF_CHANNEL);
    db_bind_int64(s, 1, channel_id);
    return collect(s, row_connector);
}

json_t *store_deliveries(struct store *st, int64_t connector_id, int limit)
{
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, SQL_DELIVERIES);
    db_bind_int64(s, 1, connector_id);
    db_bind_int64(s, 2, limit);
    return collect(s, row_delivery);
}

json_t *store_mailbox(struct store *st, int64_t team_id, int64_t user_id)
{
    READ_CONN(c, st, NULL);
    struct db_stmt *s = db_stmt(c, SQL_MAILBOX_GET);
    db_bind_int64(s, 1, team_id);
    db_bind_int64(s, 2, user_id);
    json_t *out = NULL;
    if (db_step(s) == DB_ROW) {
        json_t *channels = json_loads(db_null(s, 1) ? "[]" : db_text(s, 1), 0, NULL);
        const char *mode = db_null(s, 2) ? "off" : db_text(s, 2);
        out = json_pack("{s:b, s:o, s:{s:s}, s:o}", "enabled", (int)db_int64(s, 0), "channels",
                        channels ? channels : json_array(), "me", "mode", mode, "email",
                        db_null(s, 3) ? json_null() : json_string(db_text(s, 3)));
    }
    db_reset(s);
    return out;
}

void store_user_email(struct store *st, int64_t user_id, char out[256])
{
    out[0] = '\0';
    READ_CONN(c, st, );
    struct db_stmt *s = db_stmt(c, SQL_USER_EMAIL_GET);
    db_bind_int64(s, 1, user_id);
    out[0] = '\0';
    if (db_step(s) == DB_ROW)
        snprintf(out, 256, "%s", db_text(s, 0));
    db_reset(s);
}

int store_mail_due(struct store *st, int64_t now, int limit, store_mail_fn *fn, void *arg)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_MAIL_DUE);
    db_bind_int64(s, 1, now);
    db_bind_int64(s, 2, limit);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct store_mail_row row = {
            .id = db_int64(s, 0),
            .team_id = db_int64(s, 1),
            .user_id = db_int64(s, 2),
            .message_id = db_int64(s, 3),
            .connector_id = db_int64(s, 4),
            .digest = (int)db_int64(s, 5) != 0,
            .attempts = (int)db_int64(s, 6),
            .email = db_text(s, 7),
            .username = db_text(s, 8),
            .team = db_text(s, 9),
            .channel = db_text(s, 10),
            .card = db_text(s, 11),
            .text = db_text(s, 12),
            .channel_id = db_int64(s, 13),
            .created = db_int64(s, 14),
            .mode = db_null(s, 15) ? "off" : db_text(s, 15),
        };
        fn(arg, &row);
    }
    db_reset(s);
    return rc == DB_DONE ? 0 : rc;
}

int store_mail_digest(struct store *st, int64_t user_id, int64_t team_id, store_mail_fn *fn,
                      void *arg)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_MAIL_DIGEST_ROWS);
    db_bind_int64(s, 1, user_id);
    db_bind_int64(s, 2, team_id);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct store_mail_row row = {
            .id = db_int64(s, 0),
            .card = db_text(s, 1),
            .text = db_text(s, 2),
            .channel_id = db_int64(s, 3),
            .channel = db_text(s, 4),
            .message_id = db_int64(s, 5),
            .user_id = user_id,
            .team_id = team_id,
            .digest = true,
        };
        fn(arg, &row);
    }
    db_reset(s);
    return rc == DB_DONE ? 0 : rc;
}

int store_feeds(struct store *st, store_feed_fn *fn, void *arg)
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_FEEDS_DUE);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct store_feed_row row = {
            .connector_id = db_int64(s, 0),
            .url = db_text(s, 1),
            .interval_min = (int)db_int64(s, 2),
            .etag = db_text_null(s, 3),
            .last_modified = db_text_null(s, 4),
            .next_fetch = db_int64(s, 5),
            .failures = (int)db_int64(s, 6),
            .seen = db_int64(s, 7),
        };
        if (*row.url)
            fn(arg, &row);
    }
    db_reset(s);
    return rc == DB_DONE ? 0 : rc;
}

int store_image_get(struct store *st, const char *hash, void **bytes, size_t *len,
                    char content_type[32])
{
    READ_CONN(c, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(c, SQL_IMAGE_GET);
    db_bind_text(s, 1, hash);
    int rc = -ERR_NOT_FOUND;
    if (db_step(s) == DB_ROW) {
        snprintf(content_type, 32, "%s", db_text(s, 0));
        const void *p = db_blob(s, 1, len);
        *bytes = xmalloc(*len ? *len : 1);
        memcpy(*bytes, p, *len);
        rc = 0;
    }
    db_reset(s);
    return rc;
}

/* ---- shared limits ---- */

int64_t store_head_seq(struct store *st)
{
    int64_t published = store_last_seq(st), head = 0;
    if (st->backend == DB_SQLITE)
        return published; /* one writer, which publishes as it commits */
    READ_CONN(c, st, published);
    if (db_int64_of(db_stmt(c, SQL_SEQ_HEAD), &head) || head < published)
        head = published;
    return head;
}

bool store_leader(struct store *st)
{
    return st->backend == DB_SQLITE || atomic_load(&st->leader);
}

bool store_shared(struct store *st)
{
    return st->backend == DB_POSTGRES;
}

unsigned store_rate_take(struct store *st, int64_t key, double rate, double burst, int64_t now_ms)
{
    READ_CONN(c, st, 0);
    char r[32], b[32];
    snprintf(r, sizeof r, "%.6f", rate);
    snprintf(b, sizeof b, "%.6f", burst);
    struct db_stmt *s = db_stmt(c, SQL_RATE_TAKE);
    db_bind_int64(s, 1, key);
    db_bind_text(s, 2, r);
    db_bind_text(s, 3, b);
    db_bind_int64(s, 4, now_ms);
    int rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE)
        return 0; /* taken (or no database: the write answers) */
    s = db_stmt(c, SQL_RATE_LEVEL);
    db_bind_int64(s, 1, key);
    db_bind_text(s, 2, r);
    db_bind_text(s, 3, b);
    db_bind_int64(s, 4, now_ms);
    int64_t missing = 0; /* thousandths of a token */
    if (db_int64_of(s, &missing) || missing <= 0)
        return 1;
    return (unsigned)((double)missing / 1000.0 / rate) + 1;
}

/* The sealing key's fingerprint: recorded when the database has none, else compared. */
int store_key_check(struct store *st, const char *fingerprint, char *errmsg, size_t errlen)
{
    READ_CONN(db, st, -ERR_DB_UNAVAILABLE);
    struct db_stmt *s = db_stmt(db, SQL_META_CLAIM);
    db_bind_text(s, 1, "seal_key_fingerprint");
    db_bind_text(s, 2, fingerprint);
    int rc = db_run(s);
    s = db_stmt(db, SQL_META_GET);
    db_bind_text(s, 1, "seal_key_fingerprint");
    if (!rc && (rc = db_step(s)) == DB_ROW && strcmp(db_text(s, 0), fingerprint)) {
        snprintf(errmsg, errlen,
                 "the secret key (fingerprint %s) is not the one this database's signing secrets "
                 "were sealed with (fingerprint %s): every node needs the same secret.key; copy "
                 "it from the first node or point --secret-key at it",
                 fingerprint, db_text(s, 0));
        rc = -ERR_CONFLICT;
    } else if (rc < 0) {
        snprintf(errmsg, errlen, "cannot check the secret key: %s", db_errmsg(db));
    }
    db_reset(s);
    return rc < 0 ? rc : 0;
}
