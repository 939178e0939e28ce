/* db_test.c: the store's SQL layer (src/store/db.h) on both backends: the same cases run on
 * SQLite (a file in a temporary directory) and, when SB_TEST_PG holds a connection URI (see
 * tests/pg/cluster.sh), on PostgreSQL; then the PostgreSQL-only parts: parameter conversion,
 * LISTEN/NOTIFY, reconnection and connection errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "store/db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The backend the current group runs on, and where. */
static enum db_backend backend;
static const char *pg_uri;

struct fixture {
    char *dir;    /* SQLite: the temporary directory */
    char *target; /* what db_open gets */
    char schema[64];
    struct db *db;
};

/* Opens a connection to the fixture's database or fails the test. */
static struct db *open_or_fail(const char *target)
{
    struct db *db = NULL;
    char err[512] = "";
    int rc = db_open(&db, target, err, sizeof err);
    if (rc)
        fail_msg("db_open: %d: %s", rc, err);
    assert_non_null(db);
    return db;
}

/* Each case gets a fresh database: a new SQLite file, or a schema of its own in PostgreSQL (runs
 * of the test may share the cluster), holding the table t. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    if (backend == DB_SQLITE) {
        const char *tmp = getenv("TMPDIR");
        char tmpl[4096];
        snprintf(tmpl, sizeof tmpl, "%s/sbdb.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(tmpl));
        f->dir = strdup(tmpl);
        f->target = malloc(strlen(tmpl) + 16);
        assert_non_null(f->target);
        sprintf(f->target, "%s/test.db", tmpl);
        f->db = open_or_fail(f->target);
        assert_int_equal(db_backend(f->db), DB_SQLITE);
        assert_int_equal(db_exec(f->db, "CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER, "
                                        "s TEXT, b BLOB, u TEXT UNIQUE)"),
                         0);
    } else {
        static int seq;
        f->target = strdup(pg_uri);
        f->db = open_or_fail(f->target);
        assert_int_equal(db_backend(f->db), DB_POSTGRES);
        snprintf(f->schema, sizeof f->schema, "sbtest_%ld_%d", (long)getpid(), ++seq);
        char sql[512];
        snprintf(sql, sizeof sql,
                 "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s; SET search_path = %s;"
                 "CREATE TABLE t(id BIGSERIAL PRIMARY KEY, n BIGINT, s TEXT, b BYTEA, "
                 "u TEXT UNIQUE)",
                 f->schema, f->schema, f->schema);
        assert_int_equal(db_exec(f->db, sql), 0);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    if (backend == DB_SQLITE) {
        const char *suffix[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
            char path[4200];
            snprintf(path, sizeof path, "%s%s", f->target, suffix[i]);
            unlink(path);
        }
        rmdir(f->dir);
    }
    if (backend == DB_POSTGRES) { /* on a new connection: a failed case may have left anything */
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", f->schema);
        struct db *db = open_or_fail(f->target);
        assert_int_equal(db_exec(db, sql), 0);
        db_close(db);
    }
    free(f->dir);
    free(f->target);
    free(f);
    return 0;
}

/* Inserts one row of t through a one-off statement and returns its id (RETURNING). */
static int64_t insert_row(struct db *db, const int64_t *n, const char *s, const void *b,
                          size_t blen)
{
    struct db_stmt *st = db_adhoc(db, "INSERT INTO t(n, s, b) VALUES(?1, ?2, ?3) RETURNING id");
    assert_non_null(st);
    if (n)
        db_bind_int64(st, 1, *n);
    db_bind_text(st, 2, s);
    db_bind_blob(st, 3, b, blen);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t id = db_int64(st, 0);
    assert_int_equal(db_step(st), DB_DONE);
    db_adhoc_free(st);
    return id;
}

static int64_t count_rows(struct db *db, const char *where)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM t %s", where);
    struct db_stmt *st = db_adhoc(db, sql);
    assert_non_null(st);
    int64_t n = -1;
    assert_int_equal(db_int64_of(st, &n), 0);
    db_adhoc_free(st);
    return n;
}

/* ---- both backends ---- */

static void values_round_trip(void **state)
{
    struct fixture *f = *state;
    static const unsigned char blob[] = {0, 1, 0, 0xff, '\'', '\\', 0, 'x', 0};
    const char *utf8 = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x93\xa3";
    const char *quotes = "it's \"quoted\" 'twice'; -- not a comment ?1 $1";
    const int64_t big = ((int64_t)1 << 41) + 7, neg = -12345, max = INT64_MAX, min = INT64_MIN,
                  zero = 0;

    int64_t ids[7];
    ids[0] = insert_row(f->db, &big, utf8, blob, sizeof blob);
    ids[1] = insert_row(f->db, &neg, quotes, "", 0); /* an empty blob is not NULL */
    ids[2] = insert_row(f->db, NULL, NULL, NULL, 0); /* all NULL */
    ids[3] = insert_row(f->db, &max, "", NULL, 0);
    ids[4] = insert_row(f->db, &min, "min", NULL, 0);
    ids[5] = insert_row(f->db, &zero, "0", NULL, 0);
    ids[6] = insert_row(f->db, &big, utf8, blob, 3);
    for (int i = 1; i < 7; i++)
        assert_true(ids[i] > ids[i - 1]);

    struct db_stmt *st = db_adhoc(f->db, "SELECT id, n, s, b FROM t WHERE id = ?1");
    assert_non_null(st);
    size_t len = 99;

    db_bind_int64(st, 1, ids[0]);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_int64(st, 0), ids[0]);
    assert_false(db_null(st, 1));
    assert_true(db_int64(st, 1) == big);
    assert_string_equal(db_text(st, 2), utf8);
    const unsigned char *got = db_blob(st, 3, &len);
    assert_int_equal(len, sizeof blob);
    assert_memory_equal(got, blob, sizeof blob);
    assert_ptr_equal(db_blob(st, 3, &len), got); /* the same value until the next step */
    assert_int_equal(db_step(st), DB_DONE);
    db_reset(st);

    db_bind_int64(st, 1, ids[1]);
    assert_int_equal(db_step(st), DB_ROW);
    assert_true(db_int64(st, 1) == neg);
    assert_string_equal(db_text(st, 2), quotes);
    if (backend == DB_POSTGRES) { /* SQLite reads an empty blob as NULL */
        assert_false(db_null(st, 3));
        db_blob(st, 3, &len);
        assert_int_equal(len, 0);
    }
    db_reset(st);

    db_bind_int64(st, 1, ids[2]);
    assert_int_equal(db_step(st), DB_ROW);
    for (int col = 1; col <= 3; col++)
        assert_true(db_null(st, col));
    assert_int_equal(db_int64(st, 1), 0);
    assert_null(db_text_null(st, 2));
    assert_string_equal(db_text(st, 2), "");
    assert_null(db_blob(st, 3, &len));
    assert_int_equal(len, 0);
    db_reset(st);

    db_bind_int64(st, 1, ids[3]);
    assert_int_equal(db_step(st), DB_ROW);
    assert_true(db_int64(st, 1) == INT64_MAX);
    assert_non_null(db_text_null(st, 2)); /* empty text is not NULL */
    assert_string_equal(db_text_null(st, 2), "");
    db_reset(st);

    db_bind_int64(st, 1, ids[4]);
    assert_int_equal(db_step(st), DB_ROW);
    assert_true(db_int64(st, 1) == INT64_MIN);
    db_reset(st);

    db_bind_int64(st, 1, ids[6]);
    assert_int_equal(db_step(st), DB_ROW);
    got = db_blob(st, 3, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(got, blob, 3);
    db_adhoc_free(st);

    /* parameters in a WHERE clause, text with quotes included */
    st = db_adhoc(f->db, "SELECT id FROM t WHERE s = ?2 AND n = ?1");
    assert_non_null(st);
    db_bind_int64(st, 1, neg);
    db_bind_text(st, 2, quotes);
    int64_t id = 0;
    assert_int_equal(db_int64_of(st, &id), 0);
    assert_int_equal(id, ids[1]);
    db_bind_text(st, 2, "nothing like it");
    assert_int_equal(db_int64_of(st, &id), -ERR_NOT_FOUND);
    db_adhoc_free(st);
}

static void conflict_then_savepoint_keeps_connection(void **state)
{
    struct fixture *f = *state;
    struct db_stmt *ins = db_adhoc(f->db, "INSERT INTO t(u) VALUES(?1)");
    assert_non_null(ins);

    assert_int_equal(db_exec(f->db, "BEGIN"), 0);
    db_bind_text(ins, 1, "dup");
    assert_int_equal(db_run(ins), 0);
    assert_int_equal(db_run(db_stmt(f->db, SQL_SAVEPOINT)), 0);
    assert_int_equal(db_run(ins), -ERR_CONFLICT); /* bindings stay over the reset */
    assert_int_equal(db_run(db_stmt(f->db, SQL_ROLLBACK_TO)), 0);
    db_bind_text(ins, 1, "other");
    assert_int_equal(db_run(ins), 0);
    assert_int_equal(db_run(db_stmt(f->db, SQL_RELEASE)), 0);
    assert_int_equal(db_run(db_stmt(f->db, SQL_COMMIT)), 0);
    assert_int_equal(count_rows(f->db, "WHERE u IN ('dup', 'other')"), 2);

    /* statements prepared in a transaction that is rolled back are still usable */
    assert_int_equal(db_exec(f->db, "BEGIN"), 0);
    assert_int_equal(db_run(db_stmt(f->db, SQL_SAVEPOINT)), 0);
    db_bind_text(ins, 1, "rolled back");
    assert_int_equal(db_run(ins), 0);
    assert_int_equal(db_run(db_stmt(f->db, SQL_ROLLBACK)), 0);
    assert_int_equal(db_exec(f->db, "BEGIN"), 0);
    assert_int_equal(db_run(db_stmt(f->db, SQL_SAVEPOINT)), 0);
    assert_int_equal(db_run(ins), 0);
    assert_int_equal(db_run(db_stmt(f->db, SQL_RELEASE)), 0);
    assert_int_equal(db_run(db_stmt(f->db, SQL_COMMIT)), 0);
    assert_int_equal(count_rows(f->db, "WHERE u = 'rolled back'"), 1);
    db_adhoc_free(ins);

    /* a script's conflict maps the same way, and leaves nothing behind */
    assert_int_equal(db_exec(f->db, "INSERT INTO t(u) VALUES('dup')"), -ERR_CONFLICT);
    assert_int_equal(count_rows(f->db, "WHERE u = 'dup'"), 1);
    assert_true(strlen(db_errmsg(f->db)) > 0);
    assert_true(db_alive(f->db));
}

static void columns_kinds_and_names(void **state)
{
    struct fixture *f = *state;
    const int64_t seven = 7;
    insert_row(f->db, &seven, "seven", "\0\1", 2);
    insert_row(f->db, NULL, NULL, NULL, 0);

    struct db_stmt *st = db_adhoc(f->db, "SELECT id, n, s, b, NULL AS z FROM t ORDER BY id");
    assert_non_null(st);
    assert_int_equal(db_columns(st), 5); /* known before the first step too */
    assert_string_equal(db_column_name(st, 2), "s");
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_columns(st), 5);
    const char *names[] = {"id", "n", "s", "b", "z"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(db_column_name(st, i), names[i]);
    assert_int_equal(db_column_kind(st, 0), 'i');
    assert_int_equal(db_column_kind(st, 1), 'i');
    assert_int_equal(db_column_kind(st, 2), 't');
    assert_int_equal(db_column_kind(st, 3), 'b');
    assert_int_equal(db_column_kind(st, 4), 'n');
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_column_kind(st, 0), 'i');
    for (int i = 1; i < 5; i++)
        assert_int_equal(db_column_kind(st, i), 'n');
    assert_int_equal(db_step(st), DB_DONE);
    db_adhoc_free(st);
}

static void many_rows_and_reset_mid_iteration(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(db_exec(f->db, "BEGIN"), 0);
    for (int64_t i = 0; i < 50; i++) {
        char s[16];
        snprintf(s, sizeof s, "row %" PRId64, i);
        insert_row(f->db, &i, s, NULL, 0);
    }
    assert_int_equal(db_exec(f->db, "COMMIT"), 0);

    struct db_stmt *st = db_adhoc(f->db, "SELECT n, s FROM t WHERE n >= ?1 ORDER BY n");
    assert_non_null(st);
    db_bind_int64(st, 1, 10);
    int rows = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        assert_int_equal(db_int64(st, 0), 10 + rows);
        char want[16];
        snprintf(want, sizeof want, "row %d", 10 + rows);
        assert_string_equal(db_text(st, 1), want);
        rows++;
    }
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(rows, 40);

    /* a reset in the middle starts over with the same bindings */
    db_reset(st);
    for (int i = 0; i < 3; i++)
        assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_int64(st, 0), 12);
    db_reset(st);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_int64(st, 0), 10);
    db_reset(st);
    db_bind_int64(st, 1, 48);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_int64(st, 0), 48);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_int64(st, 0), 49);
    assert_int_equal(db_step(st), DB_DONE);
    db_adhoc_free(st);

    /* a statement with no rows */
    st = db_adhoc(f->db, "SELECT n FROM t WHERE n < 0");
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_DONE);
    assert_true(db_null(st, 0));
    db_adhoc_free(st);
}

static void bad_statements(void **state)
{
    struct fixture *f = *state;
    assert_null(db_adhoc(f->db, "SELEC nothing"));
    assert_null(db_adhoc(f->db, "SELECT * FROM no_such_table"));
    assert_int_not_equal(db_exec(f->db, "CREATE TABLE"), 0);
    assert_true(db_alive(f->db));
    assert_int_equal(count_rows(f->db, ""), 0);
}

/* ---- PostgreSQL only ---- */

static void pg_parameter_conversion(void **state)
{
    struct fixture *f = *state;
    struct db_stmt *st = db_adhoc(f->db, "SELECT '?1' AS \"?2\", ?1 AS v, E'\\'?1' AS e, "
                                         "$$ ?3 $$ AS d, $q$ ?3 $q$ AS dq /* ?4 /* ?5 */ ?6 */, "
                                         "'it''s ?1' AS s -- ?7\n, ?1::text || '?' AS w");
    assert_non_null(st);
    db_bind_text(st, 1, "x");
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_columns(st), 7);
    assert_string_equal(db_column_name(st, 0), "?2");
    assert_string_equal(db_text(st, 0), "?1");
    assert_string_equal(db_text(st, 1), "x");
    assert_string_equal(db_text(st, 2), "'?1");
    assert_string_equal(db_text(st, 3), " ?3 ");
    assert_string_equal(db_text(st, 4), " ?3 ");
    assert_string_equal(db_text(st, 5), "it's ?1");
    assert_string_equal(db_text(st, 6), "x?");
    db_adhoc_free(st);

    /* $N is accepted too, and a parameter the text skips is taken as text */
    st = db_adhoc(f->db, "SELECT ?3::bigint + $1::bigint");
    assert_non_null(st);
    db_bind_int64(st, 1, 40);
    db_bind_int64(st, 3, 2);
    int64_t v = 0;
    assert_int_equal(db_int64_of(st, &v), 0);
    assert_int_equal(v, 42);
    db_adhoc_free(st);

    assert_null(db_adhoc(f->db, "SELECT ?17"));
    assert_null(db_adhoc(f->db, "SELECT ?0"));

    /* booleans read as integers */
    st = db_adhoc(f->db, "SELECT 1 = 1, 1 = 2");
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_int64(st, 0), 1);
    assert_int_equal(db_int64(st, 1), 0);
    assert_int_equal(db_column_kind(st, 0), 'i');
    db_adhoc_free(st);
}

static int64_t elapsed_ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void pg_listen_notify(void **state)
{
    struct fixture *f = *state;
    struct db *other = open_or_fail(f->target);
    char channel[64];
    snprintf(channel, sizeof channel, "sb test %ld", (long)getpid()); /* needs quoting */
    assert_int_equal(db_pg_listen(f->db, channel), 0);
    assert_int_equal(db_pg_listen(f->db, channel), 0); /* twice is once */

    assert_int_equal(db_pg_notify(other, channel, "hello"), 0);
    assert_int_equal(db_pg_wait(f->db, 5000, -1), 1);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(db_pg_wait(f->db, 150, -1), 0); /* consumed: nothing more */
    int64_t ms = elapsed_ms_since(&t0);
    assert_true(ms >= 140 && ms < 2000);

    /* several notifications are taken at once */
    for (int i = 0; i < 3; i++)
        assert_int_equal(db_pg_notify(other, channel, "again"), 0);
    usleep(100 * 1000);
    assert_int_equal(db_pg_wait(f->db, 5000, -1), 1);
    assert_int_equal(db_pg_wait(f->db, 0, -1), 0);

    /* wake_fd ends the wait */
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "w", 1), 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(db_pg_wait(f->db, 5000, p[0]), 0);
    assert_true(elapsed_ms_since(&t0) < 1000);
    /* a notification that is there wins over the wake-up */
    assert_int_equal(db_pg_notify(other, channel, "and"), 0);
    usleep(100 * 1000);
    assert_int_equal(db_pg_wait(f->db, 5000, p[0]), 1);
    close(p[0]);
    close(p[1]);

    /* a notification sent inside a transaction arrives at the commit */
    assert_int_equal(db_exec(other, "BEGIN"), 0);
    assert_int_equal(db_pg_notify(other, channel, "later"), 0);
    assert_int_equal(db_pg_wait(f->db, 200, -1), 0);
    assert_int_equal(db_exec(other, "COMMIT"), 0);
    assert_int_equal(db_pg_wait(f->db, 5000, -1), 1);
    db_close(other);
}

/* The value of a run-time setting of db's session; the caller frees it. */
static char *setting(struct db *db, const char *name)
{
    struct db_stmt *st = db_adhoc(db, "SELECT current_setting(?1)");
    assert_non_null(st);
    db_bind_text(st, 1, name);
    assert_int_equal(db_step(st), DB_ROW);
    char *v = strdup(db_text(st, 0));
    db_adhoc_free(st);
    return v;
}

static void assert_session_settings(struct db *db)
{
    char *v = setting(db, "application_name");
    assert_string_equal(v, "switchboard");
    free(v);
    v = setting(db, "client_min_messages");
    assert_string_equal(v, "warning");
    free(v);
}

/* The server ends the session (as at a failover or restart): the connection reports it, is
 * reconnected by db_alive, prepares its statements again and listens again. */
static void pg_lost_connection_reconnects(void **state)
{
    struct fixture *f = *state;
    struct db *other = open_or_fail(f->target);
    assert_int_equal(db_pg_listen(f->db, "sb_reconnect"), 0);

    assert_session_settings(f->db);
    struct db_stmt *pid = db_adhoc(f->db, "SELECT pg_backend_pid()");
    assert_non_null(pid);
    int64_t backend_pid = 0;
    assert_int_equal(db_int64_of(pid, &backend_pid), 0);
    assert_int_equal(db_exec(f->db, "BEGIN"), 0); /* prepares SAVEPOINT in this session */
    assert_int_equal(db_run(db_stmt(f->db, SQL_SAVEPOINT)), 0);
    assert_int_equal(db_exec(f->db, "ROLLBACK"), 0);

    struct db_stmt *kill = db_adhoc(other, "SELECT pg_terminate_backend(?1::int)");
    assert_non_null(kill);
    db_bind_int64(kill, 1, backend_pid);
    assert_int_equal(db_run(kill), 0);
    db_adhoc_free(kill);

    assert_int_equal(db_pg_wait(f->db, 5000, -1), -ERR_DB_UNAVAILABLE);
    int64_t v;
    assert_int_equal(db_int64_of(pid, &v), -ERR_DB_UNAVAILABLE);
    assert_int_equal(db_exec(f->db, "SELECT 1"), -ERR_DB_UNAVAILABLE);
    assert_true(strlen(db_errmsg(f->db)) > 0);

    assert_true(db_alive(f->db));
    assert_true(db_alive(f->db));              /* nothing to do */
    assert_session_settings(f->db);            /* back with the new session */
    assert_int_equal(db_int64_of(pid, &v), 0); /* prepared again */
    assert_true(v != backend_pid);
    assert_int_equal(db_exec(f->db, "BEGIN"), 0);
    assert_int_equal(db_run(db_stmt(f->db, SQL_SAVEPOINT)), 0);
    assert_int_equal(db_exec(f->db, "ROLLBACK"), 0);
    assert_int_equal(db_pg_notify(other, "sb_reconnect", ""), 0); /* listening again */
    assert_int_equal(db_pg_wait(f->db, 5000, -1), 1);

    /* a statement dropped from the session behind our back is prepared again */
    assert_int_equal(db_exec(f->db, "DEALLOCATE ALL"), 0);
    assert_int_equal(db_int64_of(pid, &v), 0);
    db_adhoc_free(pid);
    db_close(other);
}

/* A one-off statement freed inside an aborted transaction is deallocated later. */
static void pg_adhoc_freed_in_failed_transaction(void **state)
{
    struct fixture *f = *state;
    struct db_stmt *ins = db_adhoc(f->db, "INSERT INTO t(u) VALUES('same')");
    assert_non_null(ins);
    assert_int_equal(db_exec(f->db, "BEGIN"), 0);
    assert_int_equal(db_run(ins), 0);
    assert_int_equal(db_run(ins), -ERR_CONFLICT);
    db_adhoc_free(ins);
    assert_int_equal(db_exec(f->db, "ROLLBACK"), 0);

    struct db_stmt *st =
        db_adhoc(f->db, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'a%'");
    assert_non_null(st);
    int64_t n = -1;
    assert_int_equal(db_int64_of(st, &n), 0);
    assert_int_equal(n, 1); /* this one */
    db_adhoc_free(st);
}

static void pg_open_errors_hide_secrets(void **state)
{
    (void)state;
    struct db *db = (struct db *)1;
    char err[512];
    assert_int_equal(db_open(&db, "postgres://sbuser:s3cr3t@127.0.0.1:1/nodb?connect_timeout=5",
                             err, sizeof err),
                     -ERR_DB_UNAVAILABLE);
    assert_null(db);
    assert_non_null(strstr(err, "postgres://127.0.0.1:1/nodb"));
    assert_null(strstr(err, "s3cr3t"));
    assert_null(strstr(err, "sbuser"));

    assert_int_not_equal(
        db_open(&db, "postgresql://u:s3cr3t@localhost/db?password=s3cr3t&bogus=1", err, sizeof err),
        0);
    assert_null(db);
    assert_non_null(strstr(err, "bogus"));
    assert_null(strstr(err, "s3cr3t"));
}

int main(void)
{
    const struct CMUnitTest both[] = {
        cmocka_unit_test_setup_teardown(values_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(conflict_then_savepoint_keeps_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(columns_kinds_and_names, setup, teardown),
        cmocka_unit_test_setup_teardown(many_rows_and_reset_mid_iteration, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_statements, setup, teardown),
    };
    const struct CMUnitTest pg_only[] = {
        cmocka_unit_test_setup_teardown(pg_parameter_conversion, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_listen_notify, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_lost_connection_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_adhoc_freed_in_failed_transaction, setup, teardown),
        cmocka_unit_test(pg_open_errors_hide_secrets),
    };
    backend = DB_SQLITE;
    int failed = cmocka_run_group_tests_name("db on sqlite", both, NULL, NULL);

    pg_uri = getenv("SB_TEST_PG");
    if (!pg_uri || !*pg_uri) {
        printf("db_test: SB_TEST_PG is not set: skipping the PostgreSQL cases (set it to the URI "
               "that tests/pg/cluster.sh start DIR prints)\n");
        return failed;
    }
    backend = DB_POSTGRES;
    failed += cmocka_run_group_tests_name("db on postgres", both, NULL, NULL);
    failed += cmocka_run_group_tests_name("db on postgres only", pg_only, NULL, NULL);
    return failed;
}
