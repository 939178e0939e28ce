/* replay.c: a main() for the fuzz targets when they are not built with libFuzzer: runs
 * LLVMFuzzerTestOneInput once on every file named on the command line or found (not
 * recursively) in a directory named there, so every build, sanitizers included, re-runs the
 * corpus. Each input is in a buffer of exactly its size, so reading past it is caught by ASan. */
#define _DEFAULT_SOURCE
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    size_t size = 0, alloc = 4096;
    uint8_t *data = malloc(alloc);
    size_t n;
    while ((n = fread(data + size, 1, alloc - size, f)) > 0) {
        size += n;
        if (size == alloc)
            data = realloc(data, alloc *= 2);
    }
    fclose(f);
    uint8_t *exact = malloc(size ? size : 1);
    memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir, in name order; the count run, or -1. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, alloc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == alloc)
            names = realloc(names, (alloc = alloc ? alloc * 2 : 64) * sizeof *names);
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    int count = 0, rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]))
                rc = -1;
            else
                count++;
        }
        free(names[i]);
    }
    free(names);
    return rc ? rc : count;
}

int main(int argc, char **argv)
{
    int total = 0, failed = 0;
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0); /* the empty input, always */
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st)) {
            fprintf(stderr, "cannot open '%s': %s\n", argv[i], strerror(errno));
            failed = 1;
            continue;
        }
        int n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) ? -1 : 1;
        if (n < 0)
            failed = 1;
        else
            total += n;
    }
    printf("%d inputs replayed\n", total);
    return failed;
}
