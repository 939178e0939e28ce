/* golden_test.c: the card adapters against reviewed fixtures (src/cards/). Every input
 * tests/fixtures/cards/<dialect>/<name>.json is converted with cards_from_payload(CARD_AUTO) and
 * compared with what was reviewed beside it:
 *   <name>.card.json  the canonical card, pretty-printed with sorted keys (json_dumps INDENT(2));
 *   <name>.txt        the fallback text, followed by one newline;
 *   <name>.error.txt  instead of both, for a refused payload: "<card_error number> <message>".
 * The dialect detected must be the directory's name. One cmocka test per fixture.
 *
 * Usage: golden_test <fixtures dir>. With SWITCHBOARD_UPDATE_GOLDEN=1 the expected files are
 * (re)written from what the code produces instead (any other value: only the fixtures whose
 * "<dialect>/<name>" contains it); the result must then be READ and reviewed like code, and a
 * wrong output is a bug to fix in src/cards, never a file to commit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "cards/cards.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char *dialect; /* the directory's name */
    char *name;    /* "<dialect>/<name>" */
    char *base;    /* full path without ".json" */
};

static const char *update_filter; /* SWITCHBOARD_UPDATE_GOLDEN, or NULL */

/* The whole file, NUL-terminated; NULL when it does not exist. The caller frees. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = 0, alloc = 4096;
    char *data = malloc(alloc);
    size_t got;
    while ((got = fread(data + n, 1, alloc - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == alloc)
            data = realloc(data, alloc *= 2);
    }
    fclose(f);
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

static void spew(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write '%s': %s", path, strerror(errno));
    fputs(text, f);
    fputs("\n", f);
    if (fclose(f))
        fail_msg("cannot write '%s': %s", path, strerror(errno));
}

static char *path_with(const char *base, const char *suffix)
{
    size_t n = strlen(base) + strlen(suffix) + 1;
    char *p = malloc(n);
    snprintf(p, n, "%s%s", base, suffix);
    return p;
}

/* Drops one trailing newline (the files end with one, the texts need not). */
static void chomp(char *s)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == '\n')
        s[n - 1] = '\0';
}

static bool is_update(const struct fixture *fx)
{
    if (!update_filter || !*update_filter)
        return false;
    return !strcmp(update_filter, "1") || strstr(fx->name, update_filter);
}

/* Compares with the expected file (printing both when they differ), or rewrites it in update
 * mode. False on a difference; the caller fails the test once it has freed what it holds. */
static bool expect_file(const struct fixture *fx, const char *suffix, const char *actual)
{
    char *path = path_with(fx->base, suffix);
    if (is_update(fx)) {
        spew(path, actual);
        free(path);
        return true;
    }
    char *expected = slurp(path, NULL);
    bool same = false;
    if (!expected) {
        print_error("%s: '%s' is missing (run with SWITCHBOARD_UPDATE_GOLDEN=%s, then review it)\n",
                    fx->name, path, fx->name);
    } else {
        chomp(expected);
        same = !strcmp(expected, actual);
        if (!same)
            print_error("%s: %s differs\n--- expected\n%s\n--- actual\n%s\n", fx->name, suffix,
                        expected, actual);
    }
    free(expected);
    free(path);
    return same;
}

static void remove_file(const struct fixture *fx, const char *suffix)
{
    char *path = path_with(fx->base, suffix);
    unlink(path);
    free(path);
}

static void golden(void **state)
{
    const struct fixture *fx = *state;
    char *in_path = path_with(fx->base, ".json");
    size_t len;
    char *text = slurp(in_path, &len);
    assert_non_null(text);
    int err = 0;
    char msg[160];
    json_t *payload = json_parse_object(text, len, JSON_MAX_DEPTH, &err, msg);
    if (!payload)
        fail_msg("%s: the input does not parse: %s", fx->name, msg);
    free(text);
    free(in_path);

    struct card card;
    int rc = cards_from_payload(payload, CARD_AUTO, NULL, &card, msg);
    char *err_path = path_with(fx->base, ".error.txt");
    bool expect_error = access(err_path, F_OK) == 0;
    free(err_path);
    bool update = is_update(fx);
    bool ok = true;

    if (rc) {
        assert_null(card.json);
        char line[200];
        snprintf(line, sizeof line, "%d %s", rc, msg);
        /* a refused payload's shape is still the directory's dialect */
        const char *shape = card_dialect_name(cards_detect(payload));
        if (strcmp(shape, fx->dialect)) {
            print_error("%s: detected as %s\n", fx->name, shape);
            ok = false;
        }
        if (!update && !expect_error) {
            print_error("%s: refused (%s), expected a card\n", fx->name, line);
            ok = false;
        } else {
            ok = expect_file(fx, ".error.txt", line) && ok;
        }
        if (update) {
            remove_file(fx, ".card.json");
            remove_file(fx, ".txt");
        }
    } else {
        char *dump = json_dumps(card.json, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_t *env = json_object_get(card.json, "envelope");
        if (strcmp(card_dialect_name(card.dialect), fx->dialect) ||
            strcmp(json_string_value(json_object_get(env, "dialect")), fx->dialect)) {
            print_error("%s: detected as %s\n", fx->name, card_dialect_name(card.dialect));
            ok = false;
        }
        /* the envelope's fallback is the card's fallback */
        if (strcmp(json_string_value(json_object_get(env, "fallback")), card.fallback)) {
            print_error("%s: the envelope's fallback is not the card's\n", fx->name);
            ok = false;
        }
        if (!update && expect_error) {
            print_error("%s: accepted, expected a refusal; the card:\n%s\n", fx->name, dump);
            ok = false;
        } else {
            ok = expect_file(fx, ".card.json", dump) && ok;
            ok = expect_file(fx, ".txt", card.fallback) && ok;
        }
        if (update)
            remove_file(fx, ".error.txt");
        free(dump);
        card_release(&card);
    }
    json_decref(payload);
    assert_true(ok);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in dir (no dot files); *n set. The caller frees each and the array. */
static char **list_dir(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open '%s': %s\n", dir, strerror(errno));
        exit(1);
    }
    char **names = NULL;
    size_t count = 0, alloc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (count == alloc)
            names = realloc(names, (alloc = alloc ? alloc * 2 : 32) * sizeof *names);
        names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, compare_names);
    *n = count;
    return names;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    update_filter = getenv("SWITCHBOARD_UPDATE_GOLDEN");
    struct CMUnitTest *tests = NULL;
    struct fixture *fxs = NULL;
    size_t n = 0, alloc = 0;
    size_t ndialects;
    char **dialects = list_dir(argv[1], &ndialects);
    for (size_t i = 0; i < ndialects; i++) {
        size_t dlen = strlen(argv[1]) + strlen(dialects[i]) + 2;
        char *dir = malloc(dlen);
        snprintf(dir, dlen, "%s/%s", argv[1], dialects[i]);
        struct stat st;
        if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
            free(dir);
            continue;
        }
        size_t nfiles;
        char **files = list_dir(dir, &nfiles);
        for (size_t k = 0; k < nfiles; k++) {
            const char *f = files[k];
            if (ends_with(f, ".json") && !ends_with(f, ".card.json")) {
                if (n == alloc) {
                    alloc = alloc ? alloc * 2 : 64;
                    fxs = realloc(fxs, alloc * sizeof *fxs);
                }
                size_t stem = strlen(f) - strlen(".json");
                struct fixture *fx = &fxs[n++];
                fx->dialect = strdup(dialects[i]);
                size_t len = strlen(dialects[i]) + stem + 2;
                fx->name = malloc(len);
                snprintf(fx->name, len, "%s/%.*s", dialects[i], (int)stem, f);
                len = strlen(dir) + stem + 2;
                fx->base = malloc(len);
                snprintf(fx->base, len, "%s/%.*s", dir, (int)stem, f);
            }
            free(files[k]);
        }
        free(files);
        free(dir);
    }
    for (size_t i = 0; i < ndialects; i++)
        free(dialects[i]);
    free(dialects);
    if (!n) {
        fprintf(stderr, "no fixtures under '%s'\n", argv[1]);
        return 1;
    }
    tests = calloc(n, sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = fxs[i].name;
        tests[i].test_func = golden;
        tests[i].initial_state = &fxs[i];
    }
    int rc = _cmocka_run_group_tests("cards/golden", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        free(fxs[i].dialect);
        free(fxs[i].name);
        free(fxs[i].base);
    }
    free(fxs);
    free(tests);
    return rc;
}
