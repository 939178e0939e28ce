/* schema.c: the numbered schema migrations of the SQLite backend. PRAGMA user_version holds the
 * number applied; each migration runs in its own transaction. A database newer than this binary
 * is refused rather than guessed at. */
#include "store_int.h"

#include <stdio.h>

static const char *const migrations[] = {
    /* 1: accounts, teams, channels, messages, events */
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  password_hash TEXT,"
    "  is_admin INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE api_tokens("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  name TEXT,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE sessions("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  created INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL);"
    "CREATE TABLE teams("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  created_by INTEGER REFERENCES users(id));"
    "CREATE TABLE team_members("
    "  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  role TEXT NOT NULL CHECK (role IN ('owner', 'member')),"
    "  joined INTEGER NOT NULL,"
    "  PRIMARY KEY (team_id, user_id)) WITHOUT ROWID;"
    "CREATE INDEX team_members_by_user ON team_members(user_id, team_id);"
    "CREATE TABLE channels("
    "  id INTEGER PRIMARY KEY,"
    "  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL COLLATE NOCASE,"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (team_id, name));"
    /* events: the global sequence every live stream follows; never deleted, so seq has no holes */
    "CREATE TABLE events("
    "  seq INTEGER PRIMARY KEY,"
    "  team_id INTEGER NOT NULL,"
    "  user_id INTEGER,"
    "  kind TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  created INTEGER NOT NULL);"
    /* messages: id = the seq of the message.created event */
    "CREATE TABLE messages("
    "  id INTEGER PRIMARY KEY,"
    "  channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,"
    "  author_user_id INTEGER REFERENCES users(id),"
    "  connector_id INTEGER,"
    "  created INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  card TEXT,"
    "  thread_root INTEGER REFERENCES messages(id),"
    "  edited INTEGER,"
    "  deleted INTEGER);"
    "CREATE INDEX messages_by_channel ON messages(channel_id, id);",

    /* 2: connectors, their images, delivery log and idempotency keys */
    "CREATE TABLE images("
    "  id INTEGER PRIMARY KEY,"
    "  hash TEXT NOT NULL UNIQUE,"
    "  content_type TEXT NOT NULL,"
    "  bytes BLOB NOT NULL,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE connectors("
    "  id INTEGER PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,"
    "  owner_id INTEGER NOT NULL REFERENCES users(id),"
    "  name TEXT NOT NULL,"
    "  image_id INTEGER REFERENCES images(id),"
    "  settings TEXT NOT NULL DEFAULT '{}',"
    "  secret_hash TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'deleted')),"
    "  state_reason TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE INDEX connectors_by_channel ON connectors(channel_id);"
    "CREATE INDEX connectors_by_owner ON connectors(owner_id);"
    /* the last 200 requests per connector; bodies over 4 KB are not kept */
    "CREATE TABLE deliveries("
    "  id INTEGER PRIMARY KEY,"
    "  connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,"
    "  created INTEGER NOT NULL,"
    "  dialect TEXT,"
    "  status INTEGER NOT NULL,"
    "  error TEXT,"
    "  size INTEGER NOT NULL,"
    "  message_id INTEGER,"
    "  body TEXT);"
    "CREATE INDEX deliveries_by_connector ON deliveries(connector_id, id);"
    /* a retried POST with the same Idempotency-Key gets the first answer (kept 24 h) */
    "CREATE TABLE idempotency("
    "  connector_id INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  reply TEXT NOT NULL,"
    "  message_id INTEGER,"
    "  PRIMARY KEY (connector_id, key)) WITHOUT ROWID;"
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
    "  connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  root_id INTEGER NOT NULL REFERENCES messages(id),"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (connector_id, key)) WITHOUT ROWID;"
    "CREATE TABLE feeds("
    "  url TEXT PRIMARY KEY,"
    "  etag TEXT,"
    "  last_modified TEXT,"
    "  last_fetch INTEGER,"
    "  next_fetch INTEGER NOT NULL DEFAULT 0,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT) WITHOUT ROWID;"
    "CREATE TABLE feed_items("
    "  connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,"
    "  item_hash TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (connector_id, item_hash)) WITHOUT ROWID;",

    /* 4: the group mailbox: a team's choice, each member's, and the queue of mails to send (a
     * row per card and recipient, written in the card's own transaction) */
    "ALTER TABLE users ADD COLUMN email TEXT;"
    "CREATE TABLE team_mailbox("
    "  team_id INTEGER PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,"
    "  enabled INTEGER NOT NULL,"
    "  channels TEXT NOT NULL DEFAULT '[]');"
    "CREATE TABLE mailbox_members("
    "  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  mode TEXT NOT NULL CHECK (mode IN ('off', 'each', 'hourly', 'daily')),"
    "  PRIMARY KEY (team_id, user_id)) WITHOUT ROWID;"
    "CREATE TABLE mail_queue("
    "  id INTEGER PRIMARY KEY,"
    "  team_id INTEGER NOT NULL,"
    "  user_id INTEGER NOT NULL,"
    "  message_id INTEGER NOT NULL,"
    "  connector_id INTEGER,"
    "  digest INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  next_attempt INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  sent INTEGER);"
    "CREATE INDEX mail_queue_due ON mail_queue(next_attempt) WHERE sent IS NULL;",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int store_migrate(struct conn *c, char *errmsg, size_t errlen)
{
    sqlite3_stmt *s;
    int version = 0;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (version > N_MIGRATIONS) {
        snprintf(errmsg, errlen,
                 "database schema version %d is newer than this switchboard knows (%d)", version,
                 N_MIGRATIONS);
        return -1;
    }
    for (int v = version; v < N_MIGRATIONS; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(c->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(c->db, bump, NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(errmsg, errlen, "cannot apply migration %d: %s", v + 1, sqlite3_errmsg(c->db));
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            goto fail;
    }
    return 0;
fail:
    snprintf(errmsg, errlen, "cannot read the schema version: %s", sqlite3_errmsg(c->db));
    return -1;
}
