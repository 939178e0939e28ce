/* testutil.h: what the unit tests that need a real store share: a temporary data directory, a
 * store opened in it, and one-call helpers that commit the writes a test needs as its setting.
 * Not for: assertions about the store itself (the tests under store/ make those). */
#ifndef SB_TESTUTIL_H
#define SB_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "store/store.h"

/* A new empty directory under $TMPDIR (or /tmp); the caller frees the path (tu_tmpdir_remove). */
char *tu_tmpdir_new(void);
/* Removes the directory and everything in it, then frees path. */
void tu_tmpdir_remove(char *path);

/* Opens a store in dir; fails the test when it cannot. */
struct store *tu_store_open(const char *dir);

/* The usual fixture: a store in a fresh directory. tu_store_setup/teardown are cmocka setup and
 * teardown functions; *state points at a struct tu_store. */
struct tu_store {
    char *dir;
    struct store *st;
};
int tu_store_setup(void **state);
int tu_store_teardown(void **state);

/* Commits a write and fails the test unless it returns `expect`; releases it. Returns w.id. */
int64_t tu_commit(struct store *st, struct store_write *w, int expect);
/* A user with a placeholder password hash (no argon2id: fast). Returns its id. */
int64_t tu_user(struct store *st, const char *name);
/* A team created by actor; *general gets the id of its "general" channel when not NULL. */
int64_t tu_team(struct store *st, int64_t actor, const char *name, int64_t *general);
/* Adds user to team as role, by actor; returns the store's rc. */
int tu_member_add(struct store *st, int64_t actor, int64_t team, int64_t user, const char *role);
/* Posts text to channel as actor; returns the message id (fails the test on error). */
int64_t tu_message(struct store *st, int64_t actor, int64_t channel, const char *text);

#endif
