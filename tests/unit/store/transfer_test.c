/* transfer_test.c: store_export and store_import (src/store/transfer.c): a store with a row in
 * every table goes SQLite -> stream -> SQLite and comes back the same stream; every table of the
 * schema is in the stream; bad streams and used databases are refused with nothing written; and,
 * when SB_TEST_PG holds a superuser URI (tests/pg/cluster.sh), the same store goes SQLite ->
 * PostgreSQL -> SQLite, and the PostgreSQL store takes new rows after the imported ones. */
#include "../testutil.h"

#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A PNG-ish image with the bytes that trip up text handling: NUL, 0xff, quotes. */
static const unsigned char image[] = {0x89, 'P', 'N', 'G', 0, 0, 0xff, '"', '\\', '\n', 0, 7};

/* Tables of the schema that the stream does not carry (transfer.c says why). */
static const char *const transient[] = {"rate_buckets"};

static const char *pg_uri;

struct fixture {
    char *dir; /* the source store's data directory */
    struct store *st;
    char *stream; /* its export */
    int64_t last_seq;
};

/* ---- helpers ---- */

static int export_text(const struct store_options *o, char **text, char *err, size_t len)
{
    size_t n = 0;
    FILE *out = open_memstream(text, &n);
    assert_non_null(out);
    int rc = store_export(o, out, err, len);
    fclose(out);
    return rc;
}

static char *export_or_fail(const struct store_options *o)
{
    char *text = NULL, err[512] = "";
    int rc = export_text(o, &text, err, sizeof err);
    if (rc)
        fail_msg("store_export: %d: %s", rc, err);
    return text;
}

static int import_text(const struct store_options *o, const char *text, char *err, size_t len)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(in);
    err[0] = '\0';
    int rc = store_import(o, in, err, len);
    fclose(in);
    return rc;
}

static void import_or_fail(const struct store_options *o, const char *text)
{
    char err[512];
    int rc = import_text(o, text, err, sizeof err);
    if (rc)
        fail_msg("store_import: %d: %s", rc, err);
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The stream without the header's backend and with each table's rows sorted (PostgreSQL may
 * order text keys by another collation than SQLite's). Caller frees. */
static char *normalized(const char *stream)
{
    char *copy = xstrdup(stream), *save = NULL;
    size_t n = 0, alloc = 64;
    char **lines = xmalloc(alloc * sizeof *lines);
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (n == alloc)
            lines = xrealloc(lines, (alloc *= 2) * sizeof *lines);
        lines[n++] = l;
    }
    assert_true(n > 0);
    json_t *head = json_loads(lines[0], 0, NULL);
    assert_non_null(head);
    assert_int_equal(json_object_del(head, "backend"), 0);
    char *head_text = json_dumps(head, JSON_COMPACT);
    json_decref(head);
    lines[0] = head_text;
    for (size_t i = 1; i < n;) {
        size_t j = i;
        while (j < n && lines[j][0] == '[')
            j++;
        qsort(lines + i, j - i, sizeof *lines, cmp_lines);
        i = j > i ? j : i + 1;
    }
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    for (size_t i = 0; i < n; i++) {
        buf_append(&b, lines[i], strlen(lines[i]));
        buf_append(&b, "\n", 1);
    }
    free(head_text);
    free(lines);
    free(copy);
    return b.data;
}

static void assert_same_data(const char *a, const char *b)
{
    char *na = normalized(a), *nb = normalized(b);
    assert_string_equal(na, nb);
    free(na);
    free(nb);
}

/* The tables of the stream with their row counts: {"users": 3, ...}. */
static json_t *stream_tables(const char *stream)
{
    json_t *out = json_object();
    char table[64] = "";
    for (const char *l = stream; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        json_t *v = json_loadb(l, len, 0, NULL);
        assert_non_null(v);
        const char *name = json_string_value(json_object_get(v, "table"));
        if (name) {
            assert_null(json_object_get(out, name)); /* once each */
            json_object_set_new(out, name, json_integer(0));
            snprintf(table, sizeof table, "%s", name);
        } else if (json_is_array(v)) {
            assert_true(table[0]);
            json_int_t rows = json_integer_value(json_object_get(out, table));
            json_object_set_new(out, table, json_integer(rows + 1));
        }
        json_decref(v);
        l += len + (nl != NULL);
    }
    return out;
}

/* A copy of stream with line line_no replaced by line (NULL: left out). Caller frees. */
static char *with_line_replaced(const char *stream, int line_no, const char *line)
{
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    int no = 1;
    for (const char *l = stream; *l; no++) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
        if (no != line_no)
            buf_append(&b, l, len);
        else if (line)
            buf_printf(&b, "%s\n", line);
        l += len;
    }
    return b.data;
}

/* The number of the first line of stream that starts with prefix (1-based), or 0. */
static int line_of(const char *stream, const char *prefix)
{
    int no = 1;
    for (const char *l = stream; *l; no++) {
        if (!strncmp(l, prefix, strlen(prefix)))
            return no;
        const char *nl = strchr(l, '\n');
        if (!nl)
            break;
        l = nl + 1;
    }
    return 0;
}

/* ---- the source store: a row in every table ---- */

static int64_t commit(struct store *st, struct store_write *w)
{
    return tu_commit(st, w, 0);
}

static void populate(struct store *st)
{
    int64_t alice = tu_user(st, "alice"), bob = tu_user(st, "Bob");
    struct store_write w = {.op = STORE_USER_CREATE, .name = "root", .secret = "h", .flag = true};
    commit(st, &w);
    w = (struct store_write){
        .op = STORE_TOKEN_CREATE, .user_id = alice, .secret = "tokenhash", .name = "ci"};
    commit(st, &w);
    w = (struct store_write){.op = STORE_SESSION_CREATE,
                             .user_id = bob,
                             .secret = "sessionhash",
                             .expires = time_now_ms() + 3600000};
    commit(st, &w);
    int64_t general;
    int64_t team = tu_team(st, alice, "Ops \"team\" ✓", &general);
    assert_int_equal(tu_member_add(st, alice, team, bob, "member"), 0);
    w = (struct store_write){
        .op = STORE_CHANNEL_CREATE, .actor = alice, .team_id = team, .name = "Alerts"};
    int64_t alerts = commit(st, &w);
    int64_t root = tu_message(st, alice, general, "héllo ✓ \"quoted\"\nsecond line\t\\");
    w = (struct store_write){.op = STORE_MESSAGE_CREATE,
                             .actor = bob,
                             .channel_id = general,
                             .text = "a reply",
                             .thread = root};
    commit(st, &w);
    tu_message(st, bob, alerts, "");

    /* the group mailbox: alice gets each card by mail */
    w = (struct store_write){.op = STORE_USER_EMAIL, .actor = alice, .text = "alice@example.com"};
    commit(st, &w);
    w = (struct store_write){
        .op = STORE_MAILBOX_SET, .actor = alice, .team_id = team, .flag = true, .text = "[]"};
    commit(st, &w);
    w = (struct store_write){
        .op = STORE_MAILBOX_MODE, .actor = alice, .team_id = team, .role = "each"};
    commit(st, &w);

    /* a connector with an image, a sealed signing secret and settings */
    w = (struct store_write){.op = STORE_CONNECTOR_CREATE,
                             .actor = alice,
                             .channel_id = alerts,
                             .kind = "incoming_webhook",
                             .name = "Deploys",
                             .blob = image,
                             .blob_len = sizeof image,
                             .content_type = "image/png",
                             .secret = "urlsecrethash",
                             .text = "{\"events\":[\"push\"]}",
                             .sealed = "sealed:abc"};
    int64_t connector = commit(st, &w);
    /* cards: one that opens a thread (with an Idempotency-Key), one that joins it */
    for (int i = 0; i < 2; i++) {
        w = (struct store_write){.op = STORE_WEBHOOK_POST,
                                 .connector_id = connector,
                                 .text = i ? "resolved" : "firing",
                                 .card = "{\"type\":\"card\",\"title\":\"Disk ✓\"}",
                                 .dialect = "messagecard",
                                 .status = 200,
                                 .size = 42,
                                 .body = "{\"text\":\"x\"}",
                                 .outcome = "posted",
                                 .key = i ? NULL : "key-1",
                                 .reply = "{\"ok\":true}",
                                 .thread_key = "alert-1"};
        commit(st, &w);
    }
    w = (struct store_write){.op = STORE_DELIVERY_LOG,
                             .connector_id = connector,
                             .dialect = "unknown",
                             .status = 400,
                             .error = "not a card",
                             .size = 3,
                             .outcome = "refused"};
    commit(st, &w);
    /* feeds */
    w = (struct store_write){.op = STORE_FEED_STATE,
                             .name = "https://example.com/feed.xml",
                             .etag = "\"e1\"",
                             .expires = time_now_ms() + 60000,
                             .status = 1,
                             .error = "timeout"};
    commit(st, &w);
    w = (struct store_write){
        .op = STORE_FEED_ITEM, .connector_id = connector, .key = "itemhash", .flag = true};
    commit(st, &w);
    char err[256];
    assert_int_equal(store_key_check(st, "00112233445566778899aabbccddeeff", err, sizeof err), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir_new();
    f->st = tu_store_open(f->dir);
    populate(f->st);
    f->last_seq = store_last_seq(f->st);
    /* exported while the store is open, as from a running server */
    struct store_options o = {.data_dir = f->dir};
    f->stream = export_or_fail(&o);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    tu_tmpdir_remove(f->dir);
    free(f->stream);
    free(f);
    return 0;
}

/* ---- cases ---- */

static void stream_has_every_table_of_the_schema(void **state)
{
    struct fixture *f = *state;
    char target[4096];
    snprintf(target, sizeof target, "%s/switchboard.db", f->dir);
    struct db *db;
    char err[256];
    assert_int_equal(db_open(&db, target, err, sizeof err), 0);
    struct db_stmt *s = db_adhoc(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                     "substr(name, 1, 7) <> 'sqlite_' ORDER BY name");
    assert_non_null(s);
    json_t *tables = stream_tables(f->stream);
    size_t in_schema = 0;
    while (db_step(s) == DB_ROW) {
        const char *name = db_text(s, 0);
        bool skipped = false;
        for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
            skipped |= !strcmp(transient[i], name);
        if (skipped)
            continue;
        in_schema++;
        json_t *rows = json_object_get(tables, name);
        if (!rows)
            fail_msg("table %s of the schema is not in the export", name);
        /* populate() gives every table a row: each kind of row makes the trip */
        if (json_integer_value(rows) < 1)
            fail_msg("table %s has no row in the test's store (extend populate())", name);
    }
    db_adhoc_free(s);
    db_close(db);
    assert_int_equal(json_object_size(tables), in_schema);
    json_decref(tables);

    /* the first line and the last */
    assert_int_equal(strncmp(f->stream, "{\"switchboard_export\":1,\"schema\":", 33), 0);
    assert_non_null(strstr(f->stream, "\"backend\":\"sqlite\"}\n"));
    assert_non_null(strstr(f->stream, "\n{\"end\":true,\"rows\":"));
    /* bytes as base64, NULL as null */
    assert_non_null(strstr(f->stream, "{\"base64\":\"iVBORwAA/yJcCgAH\"}"));
    assert_non_null(strstr(f->stream, ",null,"));
}

static void sqlite_round_trip(void **state)
{
    struct fixture *f = *state;
    char *dir = tu_tmpdir_new(), sub[4096];
    snprintf(sub, sizeof sub, "%s/new/data", dir); /* created by the import */
    struct store_options o = {.data_dir = sub};
    import_or_fail(&o, f->stream);
    char *again = export_or_fail(&o);
    assert_string_equal(again, f->stream);
    free(again);

    /* the imported store carries on where the old one stopped */
    struct store *st = tu_store_open(sub);
    assert_int_equal(store_last_seq(st), f->last_seq);
    struct store_user u;
    char pw[128];
    assert_int_equal(store_user_by_name(st, "bob", &u, pw), 0);
    assert_string_equal(u.username, "Bob");
    struct store_connector_auth auth;
    assert_int_equal(store_connector_auth(st, 1, &auth), 0);
    assert_string_equal(auth.secret_hash, "urlsecrethash");
    assert_string_equal(auth.sealed, "sealed:abc");
    void *bytes;
    size_t len;
    char type[32];
    assert_int_equal(store_image_get(st, auth.image_hash, &bytes, &len, type), 0);
    assert_int_equal(len, sizeof image);
    assert_memory_equal(bytes, image, sizeof image);
    free(bytes);
    int64_t carol = tu_user(st, "carol");
    assert_int_equal(carol, 4);
    int64_t id = tu_message(st, u.id, 1, "after the move");
    assert_int_equal(id, f->last_seq + 1);
    store_close(st);
    tu_tmpdir_remove(dir);
}

/* Each bad stream is refused with its line, and leaves the database empty: the good stream then
 * imports into the same directory. */
static void bad_streams_are_refused_and_write_nothing(void **state)
{
    struct fixture *f = *state;
    char schema_line[128];
    snprintf(schema_line, sizeof schema_line,
             "{\"switchboard_export\":1,\"schema\":%d,\"backend\":\"sqlite\"}",
             store_schema_version() + 1);
    int users = line_of(f->stream, "{\"table\":\"users\"");
    int end = line_of(f->stream, "{\"end\":");
    int images = line_of(f->stream, "{\"table\":\"images\"");
    int sessions = line_of(f->stream, "{\"table\":\"sessions\"");
    assert_true(users == 2 && end > images && images > sessions);
    char line[64];
    const struct {
        int line;
        const char *with; /* NULL: the line is left out */
        const char *says;
    } cases[] = {
        {1, "", "line 1:"},
        {1, "{\"hello\":1}", "not the start of a switchboard export"},
        {1, schema_line, "schema version"},
        {end, NULL, "without its end line"},
        {end, "{\"end\":true,\"rows\":1}", "counts 1 rows"},
        {users + 1, "[1,\"alice\",\"h\",\"yes\",1,null]",
         "column is_admin of users takes an integer"},
        {users + 1, "[1,\"alice\",\"h\",0,1]", "5 values for the 6 columns"},
        {users + 1, "[1,\"alice\",\"h\",0,1,null", "line 3:"},
        {images + 1, "[1,\"h\",\"image/png\",{\"base64\":\"!!\"},1]", "takes {\"base64\""},
        {sessions, "{\"table\":\"teams\",\"columns\":[\"id\"]}",
         "table 'teams' where sessions comes"},
        {users, "{\"table\":\"users\",\"columns\":[\"id\",\"nick\"]}", "2 columns in the stream"},
        {users + 1, "[1,\"alice\",\"h\",0,1,null]\n[1,\"alice2\",\"h\",0,1,null]",
         "cannot insert into users"},
        {users + 1, "[1,\"alice\",\"h\",0,1,null]\n{\"team\":1}", "neither a table"},
    };
    char *dir = tu_tmpdir_new();
    struct store_options o = {.data_dir = dir};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *bad = with_line_replaced(f->stream, cases[i].line, cases[i].with);
        char err[512];
        int rc = import_text(&o, bad, err, sizeof err);
        if (rc != -ERR_BAD_REQUEST && rc != -ERR_CONFLICT)
            fail_msg("case %zu: rc %d (%s)", i, rc, err);
        if (!strstr(err, cases[i].says))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].says);
        free(bad);
    }
    /* a wrong line is named by its number */
    snprintf(line, sizeof line, "line %d:", users + 1);
    char *bad = with_line_replaced(f->stream, users + 1, "[1,2,3,4,5,6]"), err[512];
    assert_int_equal(import_text(&o, bad, err, sizeof err), -ERR_BAD_REQUEST);
    assert_non_null(strstr(err, line));
    free(bad);
    /* something after the end line */
    struct buf more;
    buf_init(&more, SIZE_MAX / 2);
    buf_printf(&more, "%s[1]\n", f->stream);
    assert_int_equal(import_text(&o, more.data, err, sizeof err), -ERR_BAD_REQUEST);
    assert_non_null(strstr(err, "after the end line"));
    buf_release(&more);
    assert_int_equal(import_text(&o, "", err, sizeof err), -ERR_BAD_REQUEST);
    assert_non_null(strstr(err, "empty"));

    import_or_fail(&o, f->stream);
    char *again = export_or_fail(&o);
    assert_string_equal(again, f->stream);
    free(again);
    tu_tmpdir_remove(dir);
}

static void used_database_is_refused(void **state)
{
    struct fixture *f = *state;
    struct store_options o = {.data_dir = f->dir};
    char err[512];
    assert_int_equal(import_text(&o, f->stream, err, sizeof err), -ERR_CONFLICT);
    assert_non_null(strstr(err, "not empty"));
    char *again = export_or_fail(&o);
    assert_string_equal(again, f->stream);
    free(again);
}

static void export_needs_a_database(void **state)
{
    (void)state;
    char *dir = tu_tmpdir_new(), sub[4096], *text = NULL, err[512];
    snprintf(sub, sizeof sub, "%s/none", dir);
    struct store_options o = {.data_dir = sub};
    assert_int_equal(export_text(&o, &text, err, sizeof err), -ERR_NOT_FOUND);
    assert_non_null(strstr(err, "switchboard.db"));
    assert_int_equal(access(sub, F_OK), -1); /* not created */
    free(text);
    tu_tmpdir_remove(dir);
}

/* ---- PostgreSQL ---- */

/* pg_uri with its database replaced by name (into out). */
static void pg_uri_for(const char *name, char *out, size_t n)
{
    const char *host = strstr(pg_uri, "://");
    assert_non_null(host);
    const char *slash = strchr(host + 3, '/'), *query = strchr(host + 3, '?');
    size_t base = slash && (!query || slash < query) ? (size_t)(slash - pg_uri)
                  : query                            ? (size_t)(query - pg_uri)
                                                     : strlen(pg_uri);
    snprintf(out, n, "%.*s/%s%s", (int)base, pg_uri, name, query ? query : "");
}

static void pg_admin(const char *sql)
{
    struct db *db;
    char err[512];
    if (db_open(&db, pg_uri, err, sizeof err))
        fail_msg("%s", err);
    if (db_exec(db, sql))
        fail_msg("%s: %s", sql, db_errmsg(db));
    db_close(db);
}

static void postgres_round_trip(void **state)
{
    struct fixture *f = *state;
    if (!pg_uri) {
        printf("transfer_test: SB_TEST_PG is not set: the PostgreSQL half was skipped (set it to "
               "the URI that tests/pg/cluster.sh start DIR prints)\n");
        skip();
    }
    char name[64], uri[1024], sql[256];
    snprintf(name, sizeof name, "sbxfer_%ld", (long)getpid());
    pg_uri_for(name, uri, sizeof uri);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    pg_admin(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    pg_admin(sql);

    char *dir = tu_tmpdir_new();
    struct store_options pg = {.data_dir = dir, .database = uri};
    /* refused streams leave nothing behind here too: one cut short, one failing mid-way (a
     * conflict aborts PostgreSQL's transaction) */
    char err[512];
    char *cut = with_line_replaced(f->stream, line_of(f->stream, "{\"end\":"), NULL);
    assert_int_equal(import_text(&pg, cut, err, sizeof err), -ERR_BAD_REQUEST);
    free(cut);
    int users = line_of(f->stream, "{\"table\":\"users\"");
    char *dup = with_line_replaced(f->stream, users + 2, "[1,\"again\",\"h\",0,1,null]");
    assert_int_equal(import_text(&pg, dup, err, sizeof err), -ERR_CONFLICT);
    assert_non_null(strstr(err, "cannot insert into users"));
    free(dup);
    import_or_fail(&pg, f->stream);
    char *from_pg = export_or_fail(&pg);
    assert_non_null(strstr(from_pg, "\"backend\":\"postgres\"}\n"));
    assert_same_data(from_pg, f->stream);
    assert_int_equal(import_text(&pg, f->stream, err, sizeof err), -ERR_CONFLICT);

    /* the store on PostgreSQL goes on after the imported ids (identity sequences moved) */
    struct store_options open = {.data_dir = dir, .database = uri, .migrate = true};
    struct store *st = store_open_at(&open, err, sizeof err);
    if (!st)
        fail_msg("store_open_at: %s", err);
    assert_int_equal(store_last_seq(st), f->last_seq);
    struct store_user u;
    assert_int_equal(store_user_by_name(st, "BOB", &u, NULL), 0);
    struct store_connector_auth auth;
    assert_int_equal(store_connector_auth(st, 1, &auth), 0);
    assert_string_equal(auth.secret_hash, "urlsecrethash");
    void *bytes;
    size_t len;
    char type[32];
    assert_int_equal(store_image_get(st, auth.image_hash, &bytes, &len, type), 0);
    assert_int_equal(len, sizeof image);
    assert_memory_equal(bytes, image, sizeof image);
    free(bytes);
    assert_int_equal(tu_user(st, "carol"), 4);
    int64_t team = tu_team(st, u.id, "after", NULL);
    assert_int_equal(team, 2);
    store_close(st);

    /* and back: the PostgreSQL export (before those rows) into a new SQLite store */
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/back", dir);
    struct store_options back = {.data_dir = sub};
    import_or_fail(&back, from_pg);
    char *again = export_or_fail(&back);
    assert_same_data(again, f->stream);
    free(again);

    free(from_pg);
    tu_tmpdir_remove(dir);
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", name);
    pg_admin(sql);
}

int main(void)
{
    const char *env = getenv("SB_TEST_PG");
    pg_uri = env && *env ? env : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stream_has_every_table_of_the_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(sqlite_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_streams_are_refused_and_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(used_database_is_refused, setup, teardown),
        cmocka_unit_test(export_needs_a_database),
        cmocka_unit_test_setup_teardown(postgres_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests_name("transfer", tests, NULL, NULL);
}
