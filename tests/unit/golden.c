/* golden.c: see golden.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "golden.h"

#include "base/base.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *golden_slurp(const char *path, size_t *len)
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

char *golden_path(const char *base, const char *suffix)
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

bool golden_is_update(const struct fixture *fx)
{
    const char *filter = getenv("SWITCHBOARD_UPDATE_GOLDEN");
    if (!filter || !*filter)
        return false;
    return !strcmp(filter, "1") || strstr(fx->name, filter);
}

bool golden_expect(const struct fixture *fx, const char *suffix, const char *actual)
{
    char *path = golden_path(fx->base, suffix);
    if (golden_is_update(fx)) {
        spew(path, actual);
        free(path);
        return true;
    }
    char *expected = golden_slurp(path, NULL);
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

bool golden_has(const struct fixture *fx, const char *suffix)
{
    char *path = golden_path(fx->base, suffix);
    bool has = access(path, F_OK) == 0;
    free(path);
    return has;
}

json_t *golden_input(const struct fixture *fx)
{
    char *path = golden_path(fx->base, ".json");
    size_t len;
    char *text = golden_slurp(path, &len);
    if (!text)
        fail_msg("%s: cannot read '%s'", fx->name, path);
    int err = 0;
    char msg[160];
    json_t *payload = json_parse_object(text, len, JSON_MAX_DEPTH, &err, msg);
    if (!payload)
        fail_msg("%s: the input does not parse: %s", fx->name, msg);
    free(text);
    free(path);
    return payload;
}

void golden_remove(const struct fixture *fx, const char *suffix)
{
    char *path = golden_path(fx->base, suffix);
    unlink(path);
    free(path);
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

static bool is_input(const char *f, const char *const *skip)
{
    if (!ends_with(f, ".json"))
        return false;
    for (const char *const *s = skip; *s; s++)
        if (ends_with(f, *s))
            return false;
    return true;
}

int golden_run(const char *group_name, const char *root, const char *const *skip,
               void (*test)(void **state))
{
    struct fixture *fxs = NULL;
    size_t n = 0, alloc = 0, ngroups;
    char **groups = list_dir(root, &ngroups);
    for (size_t i = 0; i < ngroups; i++) {
        size_t dlen = strlen(root) + strlen(groups[i]) + 2;
        char *dir = malloc(dlen);
        snprintf(dir, dlen, "%s/%s", root, groups[i]);
        struct stat st;
        if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
            free(dir);
            free(groups[i]);
            continue;
        }
        size_t nfiles;
        char **files = list_dir(dir, &nfiles);
        for (size_t k = 0; k < nfiles; k++) {
            const char *f = files[k];
            if (is_input(f, skip)) {
                if (n == alloc)
                    fxs = realloc(fxs, (alloc = alloc ? alloc * 2 : 64) * sizeof *fxs);
                size_t stem = strlen(f) - strlen(".json");
                struct fixture *fx = &fxs[n++];
                fx->group = strdup(groups[i]);
                size_t len = strlen(groups[i]) + stem + 2;
                fx->name = malloc(len);
                snprintf(fx->name, len, "%s/%.*s", groups[i], (int)stem, f);
                len = strlen(dir) + stem + 2;
                fx->base = malloc(len);
                snprintf(fx->base, len, "%s/%.*s", dir, (int)stem, f);
            }
            free(files[k]);
        }
        free(files);
        free(dir);
        free(groups[i]);
    }
    free(groups);
    if (!n) {
        fprintf(stderr, "no fixtures under '%s'\n", root);
        return 1;
    }
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = fxs[i].name;
        tests[i].test_func = test;
        tests[i].initial_state = &fxs[i];
    }
    int rc = _cmocka_run_group_tests(group_name, tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        free(fxs[i].group);
        free(fxs[i].name);
        free(fxs[i].base);
    }
    free(fxs);
    free(tests);
    return rc;
}
