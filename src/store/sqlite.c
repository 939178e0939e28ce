/* sqlite.c: the SQLite backend's connections and reads. Every connection runs in WAL mode with
 * synchronous=FULL and foreign keys on; automatic checkpoints are off (the checkpointer in
 * writer.c runs them beside the commit path). Reads use one connection per thread. */
#include "store_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sql_text_of[SQL__COUNT] = {
#define SQL(id, text) [SQL_##id] = text,
#include "statements.def"
#undef SQL
};

int conn_open(struct conn *c, const char *path, char *errmsg, size_t errlen)
{
    memset(c, 0, sizeof *c);
    int rc = sqlite3_open_v2(
        path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errmsg, errlen, "cannot open '%s': %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(c->db, 10000);
    rc = sqlite3_exec(c->db,
                      "PRAGMA journal_mode = WAL;"
                      "PRAGMA synchronous = FULL;"
                      "PRAGMA foreign_keys = ON;"
                      "PRAGMA wal_autocheckpoint = 0;"
                      "PRAGMA journal_size_limit = 67108864;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errmsg, errlen, "cannot set up '%s': %s", path, sqlite3_errmsg(c->db));
        goto fail;
    }
    return 0;
fail:
    sqlite3_close(c->db);
    c->db = NULL;
    return -ERR_INTERNAL;
}

void conn_close(struct conn *c)
{
    for (int i = 0; i < SQL__COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
    memset(c, 0, sizeof *c);
}

sqlite3_stmt *conn_stmt(struct conn *c, enum sql_id id)
{
    sqlite3_stmt *s = c->stmt[id];
    if (!s) {
        if (sqlite3_prepare_v3(c->db, sql_text_of[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
            SQLITE_OK) {
            log_error("cannot prepare '%s': %s", sql_text_of[id], sqlite3_errmsg(c->db));
            BUG_ON(1); /* statements are constants: failing to prepare one is a bug */
        }
        c->stmt[id] = s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static void reader_free(void *p)
{
    struct conn *c = p;
    conn_close(c);
    free(c);
}

struct conn *store_reader(struct store *st)
{
    struct conn *c = pthread_getspecific(st->reader_key);
    if (c)
        return c;
    c = xcalloc(1, sizeof *c);
    char err[256];
    if (conn_open(c, st->path, err, sizeof err) != 0) {
        log_error("%s", err);
        BUG_ON(1); /* the writer opened the same file moments ago */
    }
    pthread_setspecific(st->reader_key, c);
    return c;
}

void store_reader_destroy_key(struct store *st)
{
    struct conn *c = pthread_getspecific(st->reader_key);
    if (c) {
        pthread_setspecific(st->reader_key, NULL);
        reader_free(c);
    }
    pthread_key_delete(st->reader_key);
}

int store_reader_create_key(struct store *st)
{
    return pthread_key_create(&st->reader_key, reader_free) ? -ERR_INTERNAL : 0;
}

int sql_int64(sqlite3_stmt *s, int64_t *out)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return 0;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? -ERR_NOT_FOUND : -ERR_INTERNAL;
}

const char *sql_text(sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    return t ? t : "";
}

/* ---- reads ---- */

static int read_user(sqlite3_stmt *s, struct store_user *out, char pw_hash[128])
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? -ERR_NOT_FOUND : -ERR_INTERNAL;
    }
    out->id = sqlite3_column_int64(s, 0);
    snprintf(out->username, sizeof out->username, "%s", sql_text(s, 1));
    out->is_admin = sqlite3_column_int(s, 2) != 0;
    if (pw_hash)
        snprintf(pw_hash, 128, "%s", sql_text(s, 3));
    sqlite3_reset(s);
    return 0;
}

int store_auth_token(struct store *st, const char *token_hash, struct store_user *out)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_AUTH_TOKEN);
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    return read_user(s, out, NULL) ? -ERR_UNAUTHORIZED : 0;
}

int store_auth_session(struct store *st, const char *token_hash, int64_t now_ms,
                       struct store_user *out)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_AUTH_SESSION);
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_ms);
    return read_user(s, out, NULL) ? -ERR_UNAUTHORIZED : 0;
}

int store_user_by_name(struct store *st, const char *username, struct store_user *out,
                       char pw_hash[128])
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_USER_BY_NAME);
    sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
    int rc = read_user(s, out, pw_hash);
    return rc == -ERR_NOT_FOUND ? -ERR_USER_NOT_FOUND : rc;
}

int store_user_by_id(struct store *st, int64_t id, struct store_user *out)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_USER_BY_ID);
    sqlite3_bind_int64(s, 1, id);
    int rc = read_user(s, out, NULL);
    return rc == -ERR_NOT_FOUND ? -ERR_USER_NOT_FOUND : rc;
}

enum store_role store_member_role(struct store *st, int64_t team_id, int64_t user_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_ROLE);
    sqlite3_bind_int64(s, 1, team_id);
    sqlite3_bind_int64(s, 2, user_id);
    enum store_role role = STORE_ROLE_NONE;
    if (sqlite3_step(s) == SQLITE_ROW)
        role = strcmp(sql_text(s, 0), "owner") ? STORE_ROLE_MEMBER : STORE_ROLE_OWNER;
    sqlite3_reset(s);
    return role;
}

int store_message_channel(struct store *st, int64_t message_id, int64_t *channel_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_MESSAGE_THREAD_OF);
    sqlite3_bind_int64(s, 1, message_id);
    return sql_int64(s, channel_id); /* column 0 is the channel */
}

int store_channel_team(struct store *st, int64_t channel_id, int64_t *team_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_CHANNEL_TEAM);
    sqlite3_bind_int64(s, 1, channel_id);
    return sql_int64(s, team_id);
}

/* Runs s and collects each row through `row` into a new array. */
static json_t *collect(sqlite3_stmt *s, json_t *(*row)(sqlite3_stmt *))
{
    json_t *a = json_array();
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(a, row(s));
    sqlite3_reset(s);
    return a;
}

static json_t *first(sqlite3_stmt *s, json_t *(*row)(sqlite3_stmt *))
{
    json_t *j = sqlite3_step(s) == SQLITE_ROW ? row(s) : NULL;
    sqlite3_reset(s);
    return j;
}

json_t *store_teams_of_user(struct store *st, int64_t user_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_TEAMS_OF_USER);
    sqlite3_bind_int64(s, 1, user_id);
    return collect(s, row_team);
}

json_t *store_team_get(struct store *st, int64_t team_id, int64_t user_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_TEAM_OF_USER);
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, team_id);
    return first(s, row_team);
}

json_t *store_members(struct store *st, int64_t team_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_MEMBERS);
    sqlite3_bind_int64(s, 1, team_id);
    return collect(s, row_member);
}

json_t *store_channels(struct store *st, int64_t team_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_CHANNELS);
    sqlite3_bind_int64(s, 1, team_id);
    return collect(s, row_channel);
}

json_t *store_channel_get(struct store *st, int64_t channel_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_CHANNEL_GET);
    sqlite3_bind_int64(s, 1, channel_id);
    return first(s, row_channel);
}

json_t *store_messages(struct store *st, int64_t channel_id, int64_t thread, int64_t before,
                       int64_t after, int limit, bool *has_more)
{
    bool forward = after >= 0;
    enum sql_id q = thread ? (forward ? SQL_THREAD_AFTER : SQL_THREAD_BEFORE)
                           : (forward ? SQL_MESSAGES_AFTER : SQL_MESSAGES_BEFORE);
    sqlite3_stmt *s = conn_stmt(store_reader(st), q);
    if (thread)
        sqlite3_bind_int64(s, 4, thread);
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_int64(s, 2, forward ? after : (before > 0 ? before : INT64_MAX));
    sqlite3_bind_int(s, 3, limit + 1); /* one more than asked tells whether there is more */
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
static void teams_at(struct conn *c, int64_t user_id, int64_t at, struct idset *set,
                     struct idset *touched)
{
    sqlite3_stmt *s = conn_stmt(c, SQL_USER_TEAM_IDS);
    sqlite3_bind_int64(s, 1, user_id);
    while (sqlite3_step(s) == SQLITE_ROW)
        idset_add(set, sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    if (at < 0)
        return;
    s = conn_stmt(c, SQL_MEMBERSHIP_AFTER); /* newest first: undo them one by one */
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, at);
    while (sqlite3_step(s) == SQLITE_ROW) {
        int64_t team = sqlite3_column_int64(s, 1);
        if (is_join(sql_text(s, 2)))
            idset_del(set, team);
        else
            idset_add(set, team);
        if (touched)
            idset_add(touched, team);
    }
    sqlite3_reset(s);
}

int64_t *store_user_team_ids(struct store *st, int64_t user_id, int64_t at, size_t *n)
{
    struct idset set = {0};
    teams_at(store_reader(st), user_id, at, &set, NULL);
    *n = set.n;
    return set.v ? set.v : xmalloc(sizeof(int64_t)); /* the caller frees the array */
}

int store_events_after(struct store *st, int64_t user_id, int64_t after, int limit,
                       store_event_fn *fn, void *arg, int64_t *scanned_to)
{
    static const char *const kinds[] = {
        "team.created",    "channel.created",   "member.added",      "member.removed",
        "message.created", "connector.created", "connector.updated", "connector.deleted"};
    struct conn *c = store_reader(st);
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
    sqlite3_stmt *s = conn_stmt(c, SQL_EVENTS_AFTER);
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int64(s, 2, user_id);
    sqlite3_bind_text(s, 3, teams.data, (int)teams.len, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, limit);
    int count = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_event ev = {
            .seq = sqlite3_column_int64(s, 0),
            .team_id = sqlite3_column_int64(s, 1),
            .user_id = sqlite3_column_int64(s, 2),
            .kind = "unknown",
            .data = (char *)sql_text(s, 4),
        };
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (!strcmp(kinds[i], sql_text(s, 3)))
                ev.kind = kinds[i];
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
    sqlite3_reset(s);
    buf_release(&teams);
    idset_release(&set);
    idset_release(&candidates);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? count : -ERR_INTERNAL;
}

/* ---- connectors ---- */

int store_connector_auth(struct store *st, int64_t id, struct store_connector_auth *out)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_CONNECTOR_AUTH);
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return -ERR_NOT_FOUND;
    }
    snprintf(out->secret_hash, sizeof out->secret_hash, "%s", sql_text(s, 0));
    const char *state = sql_text(s, 1);
    out->state = !strcmp(state, "active")      ? STORE_CONNECTOR_ACTIVE
                 : !strcmp(state, "suspended") ? STORE_CONNECTOR_SUSPENDED
                                               : STORE_CONNECTOR_DELETED;
    snprintf(out->reason, sizeof out->reason, "%s", sql_text(s, 2));
    out->channel_id = sqlite3_column_int64(s, 3);
    snprintf(out->name, sizeof out->name, "%s", sql_text(s, 4));
    snprintf(out->image_hash, sizeof out->image_hash, "%s", sql_text(s, 5));
    snprintf(out->type, sizeof out->type, "%s", sql_text(s, 6));
    out->team_id = sqlite3_column_int64(s, 7);
    snprintf(out->settings, sizeof out->settings, "%s", sql_text(s, 8));
    snprintf(out->sealed, sizeof out->sealed, "%s", sql_text(s, 9));
    sqlite3_reset(s);
    return 0;
}

int store_connector_team(struct store *st, int64_t id, int64_t *team_id, int64_t *owner_id,
                         enum store_connector_state *state)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_CONNECTOR_STATE);
    sqlite3_bind_int64(s, 1, id);
    int rc = -ERR_NOT_FOUND;
    if (sqlite3_step(s) == SQLITE_ROW && strcmp(sql_text(s, 0), "deleted")) {
        *state =
            strcmp(sql_text(s, 0), "active") ? STORE_CONNECTOR_SUSPENDED : STORE_CONNECTOR_ACTIVE;
        *team_id = sqlite3_column_int64(s, 2);
        *owner_id = sqlite3_column_int64(s, 3);
        rc = 0;
    }
    sqlite3_reset(s);
    return rc;
}

json_t *store_connector_get(struct store *st, int64_t id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_CONNECTOR_GET);
    sqlite3_bind_int64(s, 1, id);
    return first(s, row_connector);
}

json_t *store_connectors(struct store *st, int64_t channel_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_CONNECTORS_OF_CHANNEL);
    sqlite3_bind_int64(s, 1, channel_id);
    return collect(s, row_connector);
}

json_t *store_deliveries(struct store *st, int64_t connector_id, int limit)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_DELIVERIES);
    sqlite3_bind_int64(s, 1, connector_id);
    sqlite3_bind_int(s, 2, limit);
    return collect(s, row_delivery);
}

json_t *store_mailbox(struct store *st, int64_t team_id, int64_t user_id)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_MAILBOX_GET);
    sqlite3_bind_int64(s, 1, team_id);
    sqlite3_bind_int64(s, 2, user_id);
    json_t *out = NULL;
    if (sqlite3_step(s) == SQLITE_ROW) {
        json_t *channels =
            json_loads(sqlite3_column_type(s, 1) == SQLITE_NULL ? "[]" : sql_text(s, 1), 0, NULL);
        const char *mode = sqlite3_column_type(s, 2) == SQLITE_NULL ? "off" : sql_text(s, 2);
        out = json_pack("{s:b, s:o, s:{s:s}, s:o}", "enabled", sqlite3_column_int(s, 0), "channels",
                        channels ? channels : json_array(), "me", "mode", mode, "email",
                        sqlite3_column_type(s, 3) == SQLITE_NULL ? json_null()
                                                                 : json_string(sql_text(s, 3)));
    }
    sqlite3_reset(s);
    return out;
}

void store_user_email(struct store *st, int64_t user_id, char out[256])
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_USER_EMAIL_GET);
    sqlite3_bind_int64(s, 1, user_id);
    out[0] = '\0';
    if (sqlite3_step(s) == SQLITE_ROW)
        snprintf(out, 256, "%s", sql_text(s, 0));
    sqlite3_reset(s);
}

int store_mail_due(struct store *st, int64_t now, int limit, store_mail_fn *fn, void *arg)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_MAIL_DUE);
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int(s, 2, limit);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_mail_row row = {
            .id = sqlite3_column_int64(s, 0),
            .team_id = sqlite3_column_int64(s, 1),
            .user_id = sqlite3_column_int64(s, 2),
            .message_id = sqlite3_column_int64(s, 3),
            .connector_id = sqlite3_column_int64(s, 4),
            .digest = sqlite3_column_int(s, 5) != 0,
            .attempts = sqlite3_column_int(s, 6),
            .email = sql_text(s, 7),
            .username = sql_text(s, 8),
            .team = sql_text(s, 9),
            .channel = sql_text(s, 10),
            .card = sql_text(s, 11),
            .text = sql_text(s, 12),
            .channel_id = sqlite3_column_int64(s, 13),
            .created = sqlite3_column_int64(s, 14),
            .mode = sqlite3_column_type(s, 15) == SQLITE_NULL ? "off" : sql_text(s, 15),
        };
        fn(arg, &row);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -ERR_INTERNAL;
}

int store_mail_digest(struct store *st, int64_t user_id, int64_t team_id, store_mail_fn *fn,
                      void *arg)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_MAIL_DIGEST_ROWS);
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, team_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_mail_row row = {
            .id = sqlite3_column_int64(s, 0),
            .card = sql_text(s, 1),
            .text = sql_text(s, 2),
            .channel_id = sqlite3_column_int64(s, 3),
            .channel = sql_text(s, 4),
            .message_id = sqlite3_column_int64(s, 5),
            .user_id = user_id,
            .team_id = team_id,
            .digest = true,
        };
        fn(arg, &row);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -ERR_INTERNAL;
}

int store_feeds(struct store *st, store_feed_fn *fn, void *arg)
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_FEEDS_DUE);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_feed_row row = {
            .connector_id = sqlite3_column_int64(s, 0),
            .url = sql_text(s, 1),
            .interval_min = sqlite3_column_int(s, 2),
            .etag = (const char *)sqlite3_column_text(s, 3),
            .last_modified = (const char *)sqlite3_column_text(s, 4),
            .next_fetch = sqlite3_column_int64(s, 5),
            .failures = sqlite3_column_int(s, 6),
            .seen = sqlite3_column_int64(s, 7),
        };
        if (*row.url)
            fn(arg, &row);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -ERR_INTERNAL;
}

int store_image_get(struct store *st, const char *hash, void **bytes, size_t *len,
                    char content_type[32])
{
    sqlite3_stmt *s = conn_stmt(store_reader(st), SQL_IMAGE_GET);
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
    int rc = -ERR_NOT_FOUND;
    if (sqlite3_step(s) == SQLITE_ROW) {
        snprintf(content_type, 32, "%s", sql_text(s, 0));
        *len = (size_t)sqlite3_column_bytes(s, 1);
        *bytes = xmalloc(*len);
        memcpy(*bytes, sqlite3_column_blob(s, 1), *len);
        rc = 0;
    }
    sqlite3_reset(s);
    return rc;
}
