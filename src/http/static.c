/* static.c: the web client's files, loaded into memory at start-up from one directory (the
 * bundle esbuild writes) and served with caching and a strict Content-Security-Policy. Files
 * under assets/ carry a content hash in their names: cached for a year. index.html is never
 * cached and is also the answer for any other GET of a page path (the client routes itself). */
#include "http_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILES 512
#define MAX_FILE_BYTES (16u << 20)

/* No inline script, no eval; styles only from the bundle (set through the CSSOM by the card
 * renderer, which CSP allows); images also from https (card images) and data: (uploads). */
const char http_csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                        "img-src 'self' https: http: data:; connect-src 'self'; "
                        "font-src 'self'; object-src 'none'; base-uri 'none'; "
                        "frame-ancestors 'none'; form-action 'self'";

struct static_file {
    char *path; /* "/index.html", "/assets/app-3F2A.js" */
    char *type;
    void *bytes;
    size_t len;
    char etag[24];
};

struct http_static {
    struct static_file files[MAX_FILES];
    size_t n;
};

static const char *type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".json", "application/json"},
                 {".webmanifest", "application/manifest+json"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"},
                 {".ico", "image/x-icon"},
                 {".woff2", "font/woff2"},
                 {".map", "application/json"},
                 {".txt", "text/plain; charset=utf-8"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

static int load_file(struct http_static *st, const char *full, const char *rel)
{
    if (st->n == MAX_FILES)
        return -1;
    FILE *f = fopen(full, "rb");
    if (!f)
        return -1;
    struct static_file *sf = &st->files[st->n];
    struct stat sb;
    if (fstat(fileno(f), &sb) || sb.st_size > MAX_FILE_BYTES) {
        fclose(f);
        return -1;
    }
    sf->len = (size_t)sb.st_size;
    sf->bytes = xmalloc(sf->len ? sf->len : 1);
    if (fread(sf->bytes, 1, sf->len, f) != sf->len) {
        fclose(f);
        free(sf->bytes);
        return -1;
    }
    fclose(f);
    sf->path = xstrdup(rel);
    sf->type = xstrdup(type_of(rel));
    char hash[65];
    bytes_hash(sf->bytes, sf->len, hash);
    snprintf(sf->etag, sizeof sf->etag, "\"%.16s\"", hash);
    st->n++;
    return 0;
}

static int load_dir(struct http_static *st, const char *root, const char *rel, int depth)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s", root, rel);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) && !rc) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096], full[4096];
        snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name);
        snprintf(full, sizeof full, "%s%s", root, sub);
        struct stat sb;
        if (stat(full, &sb))
            continue;
        if (S_ISDIR(sb.st_mode) && depth < 4)
            rc = load_dir(st, root, sub, depth + 1);
        else if (S_ISREG(sb.st_mode))
            rc = load_file(st, full, sub);
    }
    closedir(d);
    return rc;
}

struct http_static *http_static_load(const char *dir, char *errmsg, size_t errlen)
{
    struct http_static *st = xcalloc(1, sizeof *st);
    if (load_dir(st, dir, "", 0)) {
        snprintf(errmsg, errlen, "cannot load the web client from '%s': %s", dir,
                 errno ? strerror(errno) : "too many or too large files");
        http_static_free(st);
        return NULL;
    }
    return st;
}

void http_static_free(struct http_static *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++) {
        free(st->files[i].path);
        free(st->files[i].type);
        free(st->files[i].bytes);
    }
    free(st);
}

static const struct static_file *find(const struct http_static *st, const char *path)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->files[i].path, path))
            return &st->files[i];
    return NULL;
}

bool http_static_serve(const struct http_static *st, struct http_req *r)
{
    if (!st || (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")))
        return false;
    const struct static_file *f = find(st, r->url);
    bool page = false;
    if (!f && (!strncmp(r->url, "/api/", 5) || !strncmp(r->url, "/webhook/", 9) ||
               !strncmp(r->url, "/assets/", 8)))
        return false; /* a missing file or an unknown API path: a real 404 */
    if (!f) {         /* a page path of the client (no "..", no file name): the client routes it */
        const char *last = strrchr(r->url, '/');
        if (strstr(r->url, "..") || strchr(last ? last : r->url, '.') || strchr(r->url, '%'))
            return false;
        f = find(st, "/index.html");
        page = true;
    }
    if (!f)
        return false;
    if (!strcmp(f->path, "/index.html") || page) {
        http_add_header(r, "Cache-Control", "no-cache");
        http_add_header(r, "Content-Security-Policy", http_csp);
        http_add_header(r, "X-Frame-Options", "DENY");
        http_add_header(r, "Referrer-Policy", "same-origin");
    } else if (!strncmp(f->path, "/assets/", 8)) {
        http_add_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    } else {
        http_add_header(r, "Cache-Control", "no-cache");
    }
    http_add_header(r, "ETag", f->etag);
    const char *inm = http_header(r, "If-None-Match");
    if (inm && !strcmp(inm, f->etag))
        http_reply_empty(r, 304);
    else
        http_reply_bytes(r, 200, f->type, f->bytes, f->len);
    return true;
}
