/* client.c: the terminal client's side of the API: the saved login (config file, environment),
 * one libcurl easy handle per request, the API's errors as one line, TEAM/CHANNEL lookup.
 *
 * The config file is {"url", "token"} for an API token, or {"url", "session", "csrf_token",
 * "username"} after a password login (the API has no call that makes tokens; see login.c). It
 * holds a secret, so its directory is made 0700 and the file is created 0600 (never widened
 * and narrowed after), and credentials saved for one URL are never sent to another.
 *
 * Not for: the live feed (sse.c), terminal output (term.c), the commands themselves. */
#include "client.h"

#include "../cards/cards.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX (64 * 1024)
#define REPLY_MAX (16u << 20)
#define USER_AGENT "switchboard-cli/0.1"
#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 60L

volatile sig_atomic_t client_interrupted;

static void global_init(void)
{
    static bool done;
    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = true;
    }
}

bool client_is_help(const char *arg)
{
    return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

bool client_is_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return false;
    return true;
}

/* "http(s)://host..." without trailing '/'; NULL when it is not one. The caller frees. */
static char *normalise_url(const char *url)
{
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
        return NULL;
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return NULL;
    if (n <= strlen("https://"))
        return NULL;
    return xstrndup(url, n);
}

/* ---- the config file ---- */

int client_config_path(char *out, size_t len, char *dir, size_t dir_len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg == '/')
        n = snprintf(dir, dir_len, "%s/switchboard", xdg);
    else if (home && *home)
        n = snprintf(dir, dir_len, "%s/.config/switchboard", home);
    else
        return -1;
    if (n < 0 || (size_t)n >= dir_len)
        return -1;
    n = snprintf(out, len, "%s/config.json", dir);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* mkdir -p, new directories 0700. */
static int make_dirs(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int client_config_save(const char *cmd, const char *url, json_t *fields, char *path_out,
                       size_t path_len)
{
    char path[4096], dir[4096], tmp[4200];
    if (client_config_path(path, sizeof path, dir, sizeof dir)) {
        fprintf(stderr, "%s: cannot tell where to save the login: set XDG_CONFIG_HOME or HOME\n",
                cmd);
        return -1;
    }
    struct stat st;
    if (make_dirs(dir) || lstat(dir, &st)) {
        fprintf(stderr, "%s: cannot create '%s': %s\n", cmd, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: '%s' is not a directory\n", cmd, dir);
        return -1;
    }
    if ((st.st_mode & 0777) != 0700 && chmod(dir, 0700)) { /* it was there before, wider */
        fprintf(stderr, "%s: cannot make '%s' private: %s\n", cmd, dir, strerror(errno));
        return -1;
    }
    json_t *doc = json_deep_copy(fields);
    json_object_set_new(doc, "url", json_string(url));
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = fd < 0 ? -1 : 0;
    if (!rc)
        rc = write_all(fd, text, strlen(text));
    if (!rc)
        rc = write_all(fd, "\n", 1);
    if (!rc)
        rc = fsync(fd);
    if (fd >= 0 && close(fd))
        rc = -1;
    if (!rc)
        rc = rename(tmp, path);
    if (rc) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", cmd, path, strerror(errno));
        unlink(tmp);
    }
    free(text);
    if (!rc && path_out)
        snprintf(path_out, path_len, "%s", path);
    return rc;
}

/* The config file's object; NULL when there is none (*err 0) or it is unusable (*err -1, said on
 * stderr). */
static json_t *config_load(const char *cmd, const char *path, int *err)
{
    *err = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return NULL;
        fprintf(stderr, "%s: cannot open '%s': %s\n", cmd, path, strerror(errno));
        *err = -1;
        return NULL;
    }
    struct stat st;
    char *text = NULL;
    json_t *doc = NULL;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX) {
        fprintf(stderr, "%s: '%s' is not a config file\n", cmd, path);
        goto out_close;
    }
    if (st.st_mode & 077)
        fprintf(stderr, "%s: warning: '%s' can be read by others (chmod 600 it)\n", cmd, path);
    text = xmalloc((size_t)st.st_size + 1);
    ssize_t n = read(fd, text, (size_t)st.st_size);
    if (n != st.st_size) {
        fprintf(stderr, "%s: cannot read '%s'\n", cmd, path);
        goto out_free_text;
    }
    json_error_t je;
    doc = json_loadb(text, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        fprintf(stderr, "%s: '%s' is not valid: %s (line %d)\n", cmd, path,
                doc ? "not an object" : je.text, je.line);
        json_decref(doc);
        doc = NULL;
    }
out_free_text:
    free(text);
out_close:
    close(fd);
    if (!doc)
        *err = -1;
    return doc;
}

static const char *config_str(json_t *cfg, const char *key)
{
    return json_string_value(json_object_get(cfg, key));
}

int client_open_url(struct client *c, const char *cmd, const char *url)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    global_init();
    c->url = normalise_url(url);
    if (!c->url) {
        char *clean = cards_term_clean(url);
        fprintf(stderr, "%s: '%s' is not an http:// or https:// URL\n", cmd, clean);
        free(clean);
        return -1;
    }
    return 0;
}

int client_open(struct client *c, const char *cmd)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    const char *env_url = getenv("SWITCHBOARD_URL"), *env_token = getenv("SWITCHBOARD_TOKEN");
    char path[4096], dir[4096];
    json_t *cfg = NULL;
    int err = 0;
    if (!client_config_path(path, sizeof path, dir, sizeof dir))
        cfg = config_load(cmd, path, &err);
    if (err)
        return -1;
    const char *file_url = config_str(cfg, "url");
    const char *url = env_url && *env_url ? env_url : file_url;
    int rc = -1;
    if (!url) {
        fprintf(stderr,
                "%s: not logged in: run 'switchboard login URL' (or set SWITCHBOARD_URL and "
                "SWITCHBOARD_TOKEN)\n",
                cmd);
        goto out;
    }
    if (client_open_url(c, cmd, url))
        goto out;
    char *saved_url = file_url ? normalise_url(file_url) : NULL;
    bool same = saved_url && !strcmp(saved_url, c->url);
    free(saved_url);
    if (env_token && *env_token) {
        if (!client_is_token(env_token)) {
            fprintf(stderr, "%s: SWITCHBOARD_TOKEN is not a token\n", cmd);
            goto out;
        }
        c->token = xstrdup(env_token);
    } else if (same && config_str(cfg, "token")) {
        c->token = xstrdup(config_str(cfg, "token"));
    } else if (same && config_str(cfg, "session")) {
        c->session = xstrdup(config_str(cfg, "session"));
        c->csrf = config_str(cfg, "csrf_token") ? xstrdup(config_str(cfg, "csrf_token")) : NULL;
    }
    if (!c->token && !c->session) {
        fprintf(stderr, "%s: not logged in to %s: run 'switchboard login %s'\n", cmd, c->url,
                c->url);
        goto out;
    }
    if ((c->token && !client_is_token(c->token)) || (c->session && !client_is_token(c->session)) ||
        (c->csrf && !client_is_token(c->csrf))) {
        fprintf(stderr, "%s: the login in '%s' is damaged: log in again\n", cmd, path);
        goto out;
    }
    rc = 0;
out:
    json_decref(cfg);
    return rc;
}

void client_release(struct client *c)
{
    free(c->url);
    free(c->token);
    free(c->session);
    free(c->csrf);
    memset(c, 0, sizeof *c);
}

/* ---- requests ---- */

struct xfer {
    struct buf body;
    char *cookie;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    return buf_append(&x->body, p, size * n) ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;
    static const char name[] = "set-cookie:", cookie[] = "sb_session=";
    if (len <= sizeof name || strncasecmp(p, name, sizeof name - 1))
        return len;
    const char *v = p + sizeof name - 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    if ((size_t)(end - v) < sizeof cookie || strncmp(v, cookie, sizeof cookie - 1))
        return len;
    v += sizeof cookie - 1;
    const char *e = v;
    while (e < end && *e != ';' && *e != '\r' && *e != '\n')
        e++;
    if (e > v) {
        free(x->cookie);
        x->cookie = xstrndup(v, (size_t)(e - v));
    }
    return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    return client_interrupted ? 1 : 0;
}

CURL *client_easy(struct client *c, const char *path, char errbuf[CURL_ERROR_SIZE])
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    size_t n = strlen(c->url) + strlen(path) + 1;
    char *url = xmalloc(n);
    snprintf(url, n, "%s%s", c->url, path);
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    free(url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    return h;
}

struct curl_slist *client_auth_headers(struct client *c, struct curl_slist *list, bool write)
{
    char line[1024];
    if (c->token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", c->token);
        list = curl_slist_append(list, line);
    } else if (c->session) {
        snprintf(line, sizeof line, "Cookie: sb_session=%s", c->session);
        list = curl_slist_append(list, line);
        if (write && c->csrf) {
            snprintf(line, sizeof line, "X-CSRF-Token: %s", c->csrf);
            list = curl_slist_append(list, line);
        }
    }
    return list;
}

/* One line about a failed request into r->error. */
static void describe(struct client *c, struct client_reply *r, CURLcode rc, const char *errbuf,
                     const char *body)
{
    if (client_interrupted) {
        snprintf(r->error, sizeof r->error, "interrupted");
        return;
    }
    if (rc != CURLE_OK) {
        char *why = cards_term_clean(*errbuf ? errbuf : curl_easy_strerror(rc));
        snprintf(r->error, sizeof r->error, "cannot reach %s: %s", c->url, why);
        free(why);
        return;
    }
    json_t *err = json_object_get(r->json, "error");
    const char *msg = json_string_value(json_object_get(err, "message"));
    const char *code = json_string_value(json_object_get(err, "code"));
    if (msg) {
        char *m = cards_term_clean(msg), *k = cards_term_clean(code ? code : "");
        snprintf(r->error, sizeof r->error, "%s (%s%s%ld)", m, k, *k ? ", HTTP " : "HTTP ",
                 r->status);
        free(m);
        free(k);
        return;
    }
    /* not the API's error shape (a proxy, a plain answer): the status and the body's start */
    char first[120] = "";
    if (body)
        snprintf(first, sizeof first, "%.*s", (int)strcspn(body, "\r\n"), body);
    char *f = cards_term_clean(first);
    snprintf(r->error, sizeof r->error, "the server answered HTTP %ld%s%s", r->status,
             *f ? ": " : "", f);
    free(f);
}

int client_request(struct client *c, const char *method, const char *path, json_t *body,
                   struct client_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    char errbuf[CURL_ERROR_SIZE];
    CURL *h = client_easy(c, path, errbuf);
    if (!h) {
        snprintf(reply->error, sizeof reply->error, "cannot start a request (libcurl)");
        return -1;
    }
    struct xfer x = {.cookie = NULL};
    buf_init(&x.body, REPLY_MAX);
    buf_append(&x.body, "", 0);
    bool write = strcmp(method, "GET") && strcmp(method, "HEAD");
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    headers = client_auth_headers(c, headers, write);
    char *payload = NULL;
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    } else if (write) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply->status);
    if (rc == CURLE_WRITE_ERROR)
        snprintf(errbuf, CURL_ERROR_SIZE, "the answer is larger than %u bytes", REPLY_MAX);
    if (rc == CURLE_OK && x.body.len) {
        json_error_t je;
        reply->json = json_loadb(x.body.data, x.body.len, 0, &je);
    }
    reply->cookie = x.cookie;
    int result = rc == CURLE_OK && reply->status >= 200 && reply->status < 300 ? 0 : -1;
    if (result)
        describe(c, reply, rc, errbuf, x.body.data);
    buf_release(&x.body);
    curl_slist_free_all(headers);
    free(payload);
    curl_easy_cleanup(h);
    return result;
}

void client_reply_release(struct client_reply *r)
{
    json_decref(r->json);
    free(r->cookie);
    r->json = NULL;
    r->cookie = NULL;
}

int client_call(struct client *c, const char *method, const char *path, json_t *body, json_t **out)
{
    struct client_reply r;
    int rc = client_request(c, method, path, body, &r);
    if (out)
        *out = NULL;
    if (rc) {
        if (!client_interrupted && r.status == 401 && c->session)
            fprintf(stderr, "%s: %s; log in again: switchboard login %s\n", c->cmd, r.error,
                    c->url);
        else if (!client_interrupted)
            fprintf(stderr, "%s: %s\n", c->cmd, r.error);
    } else if (out) {
        *out = r.json;
        r.json = NULL;
    }
    client_reply_release(&r);
    return rc;
}

/* ---- names ---- */

static int find_in_team(struct client *c, json_t *team, const char *name,
                        struct client_channel *out)
{
    char path[96];
    int64_t team_id = json_integer_value(json_object_get(team, "id"));
    snprintf(path, sizeof path, "/api/v1/teams/%lld/channels", (long long)team_id);
    json_t *list;
    if (client_call(c, "GET", path, NULL, &list))
        return -1;
    size_t i;
    json_t *ch;
    int rc = 1;
    json_array_foreach(json_object_get(list, "channels"), i, ch)
    {
        const char *n = json_string_value(json_object_get(ch, "name"));
        if (n && !strcmp(n, name)) {
            out->id = json_integer_value(json_object_get(ch, "id"));
            out->team = xstrdup(json_string_value(json_object_get(team, "name")));
            out->channel = xstrdup(n);
            rc = 0;
            break;
        }
    }
    json_decref(list);
    return rc;
}

int client_find_channel(struct client *c, const char *arg, struct client_channel *out)
{
    memset(out, 0, sizeof *out);
    const char *slash = strchr(arg, '/');
    if (!slash || slash == arg || !slash[1]) {
        char *a = cards_term_clean(arg);
        fprintf(stderr, "%s: '%s' is not TEAM/CHANNEL\n", c->cmd, a);
        free(a);
        return -1;
    }
    json_t *teams;
    if (client_call(c, "GET", "/api/v1/teams", NULL, &teams))
        return -1;
    size_t i;
    json_t *t;
    int rc = 1;
    bool team_seen = false;
    json_array_foreach(json_object_get(teams, "teams"), i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(t, "id")));
        const char *rest = NULL;
        size_t n = name ? strlen(name) : 0;
        if (n && !strncmp(arg, name, n) && arg[n] == '/')
            rest = arg + n + 1;
        else if (!strncmp(arg, id, strlen(id)) && arg[strlen(id)] == '/')
            rest = arg + strlen(id) + 1;
        if (!rest || !*rest)
            continue;
        team_seen = true;
        rc = find_in_team(c, t, rest, out);
        if (rc <= 0)
            break;
    }
    json_decref(teams);
    if (rc > 0) {
        char *a = cards_term_clean(arg);
        if (team_seen)
            fprintf(stderr, "%s: no channel '%s' in your teams\n", c->cmd, a);
        else
            fprintf(stderr, "%s: no team '%.*s' among yours\n", c->cmd, (int)strcspn(a, "/"), a);
        free(a);
    }
    return rc ? -1 : 0;
}

void client_channel_release(struct client_channel *ch)
{
    free(ch->team);
    free(ch->channel);
    memset(ch, 0, sizeof *ch);
}

char *client_read_all(FILE *f, size_t max, const char *cmd, const char *what)
{
    struct buf b;
    buf_init(&b, max);
    buf_append(&b, "", 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_append(&b, chunk, n)) {
            fprintf(stderr, "%s: %s is longer than %zu bytes\n", cmd, what, max);
            buf_release(&b);
            return NULL;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: cannot read %s: %s\n", cmd, what, strerror(errno));
        buf_release(&b);
        return NULL;
    }
    return b.data;
}
