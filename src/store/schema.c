/* schema.c: the numbered schema migrations, one description for both backends: the few words
 * whose spelling differs ({id}, {int}, {blob}, {nocase}, ...) are written as placeholders and
 * spelled out per dialect when a migration runs. SQLite keeps the number applied in PRAGMA
 * user_version, PostgreSQL in the table schema_version; each migration runs in its own
 * transaction. A database newer than this binary is refused rather than guessed at. */
#include "store_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {
    /* 1: accounts, teams, channels, messages, events */
    "{citext}"
    "CREATE TABLE users("
    "  id {id},"
    "  username {nocase} NOT NULL UNIQUE,"
    "  password_hash TEXT,"
    "  is_admin {int} NOT NULL DEFAULT 0,"
    "  created {int} NOT NULL);"
    "CREATE TABLE api_tokens("
    "  id {id},"
    "  user_id {int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  name TEXT,"
    "  created {int} NOT NULL);"
    "CREATE TABLE sessions("
    "  id {id},"
    "  user_id {int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  created {int} NOT NULL,"
    "  expires {int} NOT NULL);"
    "CREATE TABLE teams("
    "  id {id},"
    "  name TEXT NOT NULL,"
    "  created {int} NOT NULL,"
    "  created_by {int} REFERENCES users(id));"
    "CREATE TABLE team_members("
    "  team_id {int} NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
    "  user_id {int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  role TEXT NOT NULL CHECK (role IN ('owner', 'member')),"
    "  joined {int} NOT NULL,"
    "  PRIMARY KEY (team_id, user_id)){norowid};"
    "CREATE INDEX team_members_by_user ON team_members(user_id, team_id);"
    "CREATE TABLE channels("
    "  id {id},"
    "  team_id {int} NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
    "  name {nocase} NOT NULL,"
    "  created {int} NOT NULL,"
    "  UNIQUE (team_id, name));"
    /* events: the global sequence every live stream follows; never deleted, so seq has no holes */
    "CREATE TABLE events("
    "  seq {int} PRIMARY KEY,"
    "  team_id {int} NOT NULL,"
    "  user_id {int},"
    "  kind TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  created {int} NOT NULL);"
    /* messages: id = the seq of the message.created event */
    "CREATE TABLE messages("
    "  id {int} PRIMARY KEY,"
    "  channel_id {int} NOT NULL REFERENCES channels(id) ON DELETE CASCADE,"
    "  author_user_id {int} REFERENCES users(id),"
    "  connector_id {int},"
    "  created {int} NOT NULL,"
    "  text TEXT NOT NULL,"
    "  card TEXT,"
    "  thread_root {int} REFERENCES messages(id),"
    "  edited {int},"
    "  deleted {int});"
    "CREATE INDEX messages_by_channel ON messages(channel_id, id);",

    /* 2: connectors, their images, delivery log and idempotency keys */
    "CREATE TABLE images("
    "  id {id},"
    "  hash TEXT NOT NULL UNIQUE,"
    "  content_type TEXT NOT NULL,"
    "  bytes {blob} NOT NULL,"
    "  created {int} NOT NULL);"
    "CREATE TABLE connectors("
    "  id {id},"
    "  type TEXT NOT NULL,"
    "  channel_id {int} NOT NULL REFERENCES channels(id) ON DELETE CASCADE,"
    "  owner_id {int} NOT NULL REFERENCES users(id),"
    "  name TEXT NOT NULL,"
    "  image_id {int} REFERENCES images(id),"
    "  settings TEXT NOT NULL DEFAULT '{}',"
    "  secret_hash TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'deleted')),"
    "  state_reason TEXT,"
    "  created {int} NOT NULL,"
    "  updated {int} NOT NULL);"
    "CREATE INDEX connectors_by_channel ON connectors(channel_id);"
    "CREATE INDEX connectors_by_owner ON connectors(owner_id);"
    /* the last 200 requests per connector; bodies over 4 KB are not kept */
    "CREATE TABLE deliveries("
    "  id {id},"
    "  connector_id {int} NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,"
    "  created {int} NOT NULL,"
    "  dialect TEXT,"
    "  status {int} NOT NULL,"
    "  error TEXT,"
    "  size {int} NOT NULL,"
    "  message_id {int},"
    "  body TEXT);"
    "CREATE INDEX deliveries_by_connector ON deliveries(connector_id, id);"
    /* a retried POST with the same Idempotency-Key gets the first answer (kept 24 h) */
    "CREATE TABLE idempotency("
    "  connector_id {int} NOT NULL,"
    "  key TEXT NOT NULL,"
    "  created {int} NOT NULL,"
    "  status {int} NOT NULL,"
    "  reply TEXT NOT NULL,"
    "  message_id {int},"
    "  PRIMARY KEY (connector_id, key)){norowid};"
    "CREATE INDEX idempotency_by_age ON idempotency(created);"
    /* the membership history of a user, for resuming live streams as they were */
    "CREATE INDEX events_by_user ON events(user_id, seq) WHERE user_id IS NOT NULL;"
    /* replies, listed under their root */
    "CREATE INDEX messages_by_thread ON messages(thread_root, id) WHERE thread_root IS NOT NULL;",

    /* 3: service connectors: signing secrets (sealed), related events in threads, the outcome of
     * each delivery, and feeds (one fetch state per URL, the items each connector has seen) */
    "ALTER TABLE connectors ADD COLUMN sealed_secret TEXT;"
    "ALTER TABLE deliveries ADD COLUMN outcome TEXT;"
    "CREATE TABLE connector_threads("
    "  connector_id {int} NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  root_id {int} NOT NULL REFERENCES messages(id),"
    "  created {int} NOT NULL,"
    "  PRIMARY KEY (connector_id, key)){norowid};"
    "CREATE TABLE feeds("
    "  url TEXT PRIMARY KEY,"
    "  etag TEXT,"
    "  last_modified TEXT,"
    "  last_fetch {int},"
    "  next_fetch {int} NOT NULL DEFAULT 0,"
    "  failures {int} NOT NULL DEFAULT 0,"
    "  last_error TEXT){norowid};"
    "CREATE TABLE feed_items("
    "  connector_id {int} NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,"
    "  item_hash TEXT NOT NULL,"
    "  created {int} NOT NULL,"
    "  PRIMARY KEY (connector_id, item_hash)){norowid};",

    /* 4: the group mailbox: a team's choice, each member's, and the queue of mails to send (a
     * row per card and recipient, written in the card's own transaction) */
    "ALTER TABLE users ADD COLUMN email TEXT;"
    "CREATE TABLE team_mailbox("
    "  team_id {int} PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,"
    "  enabled {int} NOT NULL,"
    "  channels TEXT NOT NULL DEFAULT '[]');"
    "CREATE TABLE mailbox_members("
    "  team_id {int} NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
    "  user_id {int} NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  mode TEXT NOT NULL CHECK (mode IN ('off', 'each', 'hourly', 'daily')),"
    "  PRIMARY KEY (team_id, user_id)){norowid};"
    "CREATE TABLE mail_queue("
    "  id {id},"
    "  team_id {int} NOT NULL,"
    "  user_id {int} NOT NULL,"
    "  message_id {int} NOT NULL,"
    "  connector_id {int},"
    "  digest {int} NOT NULL,"
    "  created {int} NOT NULL,"
    "  next_attempt {int} NOT NULL,"
    "  attempts {int} NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  sent {int});"
    "CREATE INDEX mail_queue_due ON mail_queue(next_attempt) WHERE sent IS NULL;",

    /* 5: the last sequence number given out: each batch reads and advances it in its own
     * transaction, so on PostgreSQL the nodes' batches take turns on its row */
    "CREATE TABLE seq_counter("
    "  id {int} PRIMARY KEY,"
    "  v {int} NOT NULL);"
    "INSERT INTO seq_counter(id, v) SELECT 1, coalesce(max(seq), 0) FROM events;",

    /* 6: token buckets shared by the nodes of a PostgreSQL deployment (webhook rate limits);
     * unlogged there: a bucket lost in a crash only refills */
    "CREATE {unlogged} TABLE rate_buckets("
    "  key {int} PRIMARY KEY,"
    "  tokens DOUBLE PRECISION NOT NULL,"
    "  last_ms {int} NOT NULL);",

    /* 7: facts about the deployment, e.g. the fingerprint of the key that seals connectors'
     * signing secrets, so a node started with another key is refused */
    "CREATE TABLE meta("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL){norowid};",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* The words of the schema description that differ between the dialects. */
static const struct {
    const char *word, *sqlite, *postgres;
} dialect[] = {
    {"{id}", "INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
    {"{int}", "INTEGER", "BIGINT"},
    {"{blob}", "BLOB", "BYTEA"},
    {"{nocase}", "TEXT COLLATE NOCASE", "CITEXT"}, /* names compare without regard to case */
    {"{norowid}", " WITHOUT ROWID", ""},
    {"{citext}", "", "CREATE EXTENSION IF NOT EXISTS citext;"},
    {"{unlogged}", "", "UNLOGGED"},
};

/* Migration v (from 1) in the backend's dialect; caller frees. */
static char *migration_text(enum db_backend backend, int v)
{
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    for (const char *p = migrations[v - 1]; *p;) {
        size_t i = 0, n = sizeof dialect / sizeof dialect[0];
        if (*p == '{')
            while (i < n && strncmp(p, dialect[i].word, strlen(dialect[i].word)))
                i++;
        if (*p != '{' || i == n) {
            buf_append(&b, p++, 1);
            continue;
        }
        const char *with = backend == DB_POSTGRES ? dialect[i].postgres : dialect[i].sqlite;
        buf_append(&b, with, strlen(with));
        p += strlen(dialect[i].word);
    }
    return b.data;
}

int store_schema_version(void)
{
    return N_MIGRATIONS;
}

/* The version applied: SQLite keeps it in PRAGMA user_version, PostgreSQL in a table. */
static int schema_version(struct db *db, int *version)
{
    bool pg = db_backend(db) == DB_POSTGRES;
    if (pg && db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version(v BIGINT NOT NULL)"))
        return -1;
    struct db_stmt *s =
        db_adhoc(db, pg ? "SELECT coalesce(max(v), 0) FROM schema_version" : "PRAGMA user_version");
    int64_t v = 0;
    int rc = s ? db_int64_of(s, &v) : -ERR_INTERNAL;
    db_adhoc_free(s);
    *version = (int)v;
    return rc ? -1 : 0;
}

int store_migrate(struct db *db, bool apply, char *errmsg, size_t errlen)
{
    bool pg = db_backend(db) == DB_POSTGRES;
    /* nodes starting together on one PostgreSQL database migrate one after the other */
    if (pg && db_exec(db, "SELECT pg_advisory_lock(2147483001)")) {
        snprintf(errmsg, errlen, "cannot lock the schema: %s", db_errmsg(db));
        return -1;
    }
    int version, rc = -1;
    if (schema_version(db, &version)) {
        snprintf(errmsg, errlen, "cannot read the schema version: %s", db_errmsg(db));
        goto out;
    }
    if (version > N_MIGRATIONS) {
        snprintf(errmsg, errlen,
                 "database schema version %d is newer than this switchboard knows (%d)", version,
                 N_MIGRATIONS);
        goto out;
    }
    if (version < N_MIGRATIONS && !apply) {
        snprintf(errmsg, errlen,
                 "database schema version %d is older than this switchboard's (%d): run "
                 "'switchboard admin migrate'",
                 version, N_MIGRATIONS);
        goto out;
    }
    for (int v = version + 1; v <= N_MIGRATIONS; v++) {
        char bump[96];
        if (pg)
            snprintf(bump, sizeof bump,
                     "DELETE FROM schema_version; INSERT INTO schema_version "
                     "VALUES(%d)",
                     v);
        else
            snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v);
        char *text = migration_text(db_backend(db), v);
        bool ok = !db_exec(db, pg ? "BEGIN" : "BEGIN IMMEDIATE") && !db_exec(db, text) &&
                  !db_exec(db, bump);
        free(text);
        if (!ok) {
            snprintf(errmsg, errlen, "cannot apply migration %d: %s", v, db_errmsg(db));
            db_exec(db, "ROLLBACK");
            goto out;
        }
        if (db_exec(db, "COMMIT")) {
            snprintf(errmsg, errlen, "cannot commit migration %d: %s", v, db_errmsg(db));
            goto out;
        }
    }
    rc = 0;
out:
    if (pg)
        db_exec(db, "SELECT pg_advisory_unlock(2147483001)");
    return rc;
}
