/* testutil.c: temporary directories and store fixtures for the unit tests (testutil.h). */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tmpdir_new(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/sbunit.XXXXXX", base && *base ? base : "/tmp");
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return xstrdup(dir);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void tu_tmpdir_remove(char *path)
{
    if (!path)
        return;
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

struct store *tu_store_open(const char *dir)
{
    char err[256] = "";
    struct store *st = store_open(dir, err, sizeof err);
    if (!st)
        fail_msg("store_open(%s): %s", dir, err);
    return st;
}

int64_t tu_commit(struct store *st, struct store_write *w, int expect)
{
    int rc = store_write_wait(st, w);
    if (rc != expect)
        fail_msg("write op %d: rc %d (%s), expected %d (%s)", (int)w->op, rc, err_code(rc), expect,
                 err_code(expect));
    int64_t id = w->id;
    store_write_release(w);
    return id;
}

int64_t tu_user(struct store *st, const char *name)
{
    struct store_write w = {.op = STORE_USER_CREATE, .name = name, .secret = "x"};
    return tu_commit(st, &w, 0);
}

int64_t tu_team(struct store *st, int64_t actor, const char *name, int64_t *general)
{
    struct store_write w = {.op = STORE_TEAM_CREATE, .actor = actor, .name = name};
    assert_int_equal(store_write_wait(st, &w), 0);
    assert_int_equal(w.n_events, 2);
    if (general) {
        /* the channel.created event's data is the Channel */
        json_t *ch = json_loads(w.events[1].data, 0, NULL);
        assert_non_null(ch);
        *general = json_integer_value(json_object_get(ch, "id"));
        json_decref(ch);
    }
    int64_t team = w.id;
    store_write_release(&w);
    return team;
}

int tu_member_add(struct store *st, int64_t actor, int64_t team, int64_t user, const char *role)
{
    struct store_write w = {
        .op = STORE_MEMBER_ADD, .actor = actor, .team_id = team, .user_id = user, .role = role};
    int rc = store_write_wait(st, &w);
    store_write_release(&w);
    return rc;
}

int64_t tu_message(struct store *st, int64_t actor, int64_t channel, const char *text)
{
    struct store_write w = {
        .op = STORE_MESSAGE_CREATE, .actor = actor, .channel_id = channel, .text = text};
    return tu_commit(st, &w, 0);
}

int tu_store_setup(void **state)
{
    struct tu_store *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir_new();
    f->st = tu_store_open(f->dir);
    *state = f;
    return 0;
}

int tu_store_teardown(void **state)
{
    struct tu_store *f = *state;
    store_close(f->st);
    tu_tmpdir_remove(f->dir);
    free(f);
    return 0;
}
