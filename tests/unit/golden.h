/* golden.h: reviewed-fixture tests shared by cards/golden and connectors/golden. A fixture is an
 * input file <dir>/<group>/<name>.json with expected files beside it; with
 * SWITCHBOARD_UPDATE_GOLDEN=1 (or a value contained in "<group>/<name>") the expected files are
 * rewritten from what the code produces instead, to be READ and reviewed like code. */
#ifndef SB_TEST_GOLDEN_H
#define SB_TEST_GOLDEN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct fixture {
    char *group; /* the directory's name (a dialect, a connector type) */
    char *name;  /* "<group>/<name>" */
    char *base;  /* full path without ".json" */
};

/* The whole file, NUL-terminated; NULL when it does not exist. The caller frees. */
char *golden_slurp(const char *path, size_t *len);
/* base + suffix; the caller frees. */
char *golden_path(const char *base, const char *suffix);
/* Whether this fixture's expected files are being rewritten. */
bool golden_is_update(const struct fixture *fx);
/* Compares with the expected file <base><suffix> (printing both when they differ), or rewrites
 * it in update mode. False on a difference. */
bool golden_expect(const struct fixture *fx, const char *suffix, const char *actual);
/* Whether the expected file <base><suffix> exists. */
bool golden_has(const struct fixture *fx, const char *suffix);
void golden_remove(const struct fixture *fx, const char *suffix);
/* The fixture's input <base>.json parsed as an object (json_parse_object, JSON_MAX_DEPTH); the
 * test fails when it does not parse. The caller decrefs. */

json_t *golden_input(const struct fixture *fx);
/* Runs test once per fixture found under dir/<group>/ (inputs: names ending in ".json" but in
 * none of the `skip` suffixes, a NULL-terminated list); returns the cmocka result, or 1 when
 * there is none. */
int golden_run(const char *group_name, const char *dir, const char *const *skip,
               void (*test)(void **state));

#endif
