/* sse.c: the client end of GET /api/v1/events: one libcurl transfer driven through the multi
 * interface (so a caller can do other requests between pumps and notice Ctrl-C), and a parser
 * of the Server-Sent Events format (lines ending in LF, CRLF or CR; "event", "data", "id"
 * fields; comments; a blank line dispatches) into a queue of events. The id of the last event
 * seen is kept for resuming with Last-Event-ID.
 *
 * Not for: what the events mean (tail.c), reconnecting (the caller decides; sse_error says
 * whether retrying can help). */
#include "client.h"

#include "../cards/cards.h"

#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (4u << 20) /* one line, and one event's data */
#define ERROR_BODY_MAX 4096
#define QUIET_MAX_MS 90000 /* heartbeats come every 25 s: 90 s of silence is a dead stream */

struct sse {
    struct client *c;
    CURLM *multi;
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    long status;   /* the answer's status, 0 until known */
    bool live;     /* a 200 answer's body has started */
    bool ended;    /* the transfer is over */
    bool retry;    /* whether retrying can help */
    char why[256]; /* why it ended */
    struct buf errbody;
    int64_t last_byte_ms;
    /* the parser */
    struct buf line;
    bool line_too_long;
    bool skip_lf; /* the previous byte was CR: a LF now ends no second line */
    struct buf data;
    bool has_data, broken;
    char type[64];
    int64_t last_id; /* the stream's last event id, -1 none */
    /* parsed events, first at head */
    struct sse_event *q;
    size_t head, n, alloc;
};

static void enqueue(struct sse *s)
{
    if (s->head && s->head == s->n) {
        s->head = s->n = 0;
    }
    if (s->n == s->alloc)
        s->q = xrealloc(s->q, (s->alloc = s->alloc ? s->alloc * 2 : 16) * sizeof *s->q);
    struct sse_event *ev = &s->q[s->n++];
    ev->id = s->last_id > 0 ? s->last_id : 0;
    ev->type = xstrdup(*s->type ? s->type : "message");
    ev->data = xstrdup(s->data.data ? s->data.data : "");
}

static void dispatch(struct sse *s)
{
    if (s->has_data && !s->broken)
        enqueue(s);
    s->data.len = 0;
    if (s->data.data)
        s->data.data[0] = '\0';
    s->has_data = s->broken = false;
    s->type[0] = '\0';
}

static void field(struct sse *s, const char *line, size_t len)
{
    if (!len) {
        dispatch(s);
        return;
    }
    if (line[0] == ':') /* a comment: the welcome, heartbeats */
        return;
    const char *colon = memchr(line, ':', len);
    size_t name_len = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t value_len = (size_t)(line + len - value);
    if (value_len && *value == ' ')
        value++, value_len--;
    if (name_len == 5 && !memcmp(line, "event", 5)) {
        snprintf(s->type, sizeof s->type, "%.*s", (int)value_len, value);
    } else if (name_len == 4 && !memcmp(line, "data", 4)) {
        if ((s->has_data && buf_append(&s->data, "\n", 1)) ||
            buf_append(&s->data, value, value_len))
            s->broken = true;
        s->has_data = true;
    } else if (name_len == 2 && !memcmp(line, "id", 2)) {
        char id[24];
        int64_t v;
        snprintf(id, sizeof id, "%.*s", (int)value_len, value);
        if (value_len < sizeof id && parse_id(id, &v))
            s->last_id = v;
    }
}

static void end_line(struct sse *s)
{
    if (!s->line_too_long)
        field(s, s->line.data ? s->line.data : "", s->line.len);
    else
        s->broken = true; /* the event lost a line: it is not shown */
    s->line.len = 0;
    s->line_too_long = false;
}

static void parse(struct sse *s, const char *p, size_t n)
{
    while (n) {
        if (s->skip_lf) {
            s->skip_lf = false;
            if (*p == '\n') {
                p++, n--;
                continue;
            }
        }
        size_t k = 0;
        while (k < n && p[k] != '\n' && p[k] != '\r')
            k++;
        if (!s->line_too_long && buf_append(&s->line, p, k))
            s->line_too_long = true;
        if (k == n)
            return;
        s->skip_lf = p[k] == '\r';
        end_line(s);
        p += k + 1;
        n -= k + 1;
    }
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct sse *s = arg;
    size_t len = size * n;
    s->last_byte_ms = time_mono_ms();
    if (!s->status)
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200) {
        if (s->errbody.len + len <= ERROR_BODY_MAX)
            buf_append(&s->errbody, p, len);
        return len;
    }
    s->live = true;
    parse(s, p, len);
    return len;
}

struct sse *sse_open(struct client *c, int64_t last_id)
{
    struct sse *s = xcalloc(1, sizeof *s);
    s->c = c;
    s->last_id = last_id;
    buf_init(&s->line, LINE_MAX_BYTES);
    buf_init(&s->data, LINE_MAX_BYTES);
    buf_init(&s->errbody, ERROR_BODY_MAX);
    s->last_byte_ms = time_mono_ms();
    s->easy = client_easy(c, "/api/v1/events", s->errbuf);
    s->multi = curl_multi_init();
    if (!s->easy || !s->multi) {
        sse_close(s);
        return NULL;
    }
    s->headers = curl_slist_append(NULL, "Accept: text/event-stream");
    s->headers = curl_slist_append(s->headers, "Cache-Control: no-cache");
    s->headers = client_auth_headers(c, s->headers, false);
    if (last_id >= 0) {
        char h[64];
        snprintf(h, sizeof h, "Last-Event-ID: %lld", (long long)last_id);
        s->headers = curl_slist_append(s->headers, h);
    }
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, 0L); /* a stream lasts; silence is watched instead */
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    curl_multi_add_handle(s->multi, s->easy);
    return s;
}

/* Sets why the stream ended and whether retrying can help. */
static void finish(struct sse *s, CURLcode rc)
{
    s->ended = true;
    s->retry = true;
    if (rc != CURLE_OK && !s->status) {
        char *why = cards_term_clean(*s->errbuf ? s->errbuf : curl_easy_strerror(rc));
        snprintf(s->why, sizeof s->why, "cannot reach %s: %s", s->c->url, why);
        free(why);
        return;
    }
    if (!s->status)
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status == 200) {
        snprintf(s->why, sizeof s->why, "%s",
                 rc == CURLE_OK ? "the server ended the stream" : "the connection broke");
        return;
    }
    json_error_t je;
    json_t *doc = json_loadb(s->errbody.data ? s->errbody.data : "", s->errbody.len, 0, &je);
    const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
    char *m = cards_term_clean(msg ? msg : "");
    snprintf(s->why, sizeof s->why, "the live feed answered HTTP %ld%s%s", s->status,
             *m ? ": " : "", m);
    free(m);
    json_decref(doc);
    /* a refusal stays a refusal; an overloaded or restarting server may come back */
    s->retry = s->status == 429 || s->status >= 500;
}

int sse_pump(struct sse *s, int timeout_ms)
{
    if (s->ended)
        return 0;
    int running = 0;
    curl_multi_perform(s->multi, &running);
    if (running) {
        curl_multi_poll(s->multi, NULL, 0, timeout_ms, NULL);
        curl_multi_perform(s->multi, &running);
    }
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(s->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            finish(s, m->data.result);
    if (!s->ended && sse_quiet_ms(s) > QUIET_MAX_MS) {
        s->ended = true;
        s->retry = true;
        snprintf(s->why, sizeof s->why, "nothing from the server for %d s", QUIET_MAX_MS / 1000);
    }
    return !s->ended;
}

bool sse_is_live(const struct sse *s)
{
    return s->live;
}

bool sse_next(struct sse *s, struct sse_event *ev)
{
    if (s->head == s->n)
        return false;
    *ev = s->q[s->head++];
    return true;
}

void sse_event_release(struct sse_event *ev)
{
    free(ev->type);
    free(ev->data);
    ev->type = ev->data = NULL;
}

int64_t sse_last_id(const struct sse *s)
{
    return s->last_id;
}

const char *sse_error(const struct sse *s, bool *retry)
{
    *retry = s->retry;
    return s->why;
}

int64_t sse_quiet_ms(const struct sse *s)
{
    return time_mono_ms() - s->last_byte_ms;
}

void sse_close(struct sse *s)
{
    if (!s)
        return;
    if (s->multi && s->easy)
        curl_multi_remove_handle(s->multi, s->easy);
    if (s->easy)
        curl_easy_cleanup(s->easy);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    curl_slist_free_all(s->headers);
    for (size_t i = s->head; i < s->n; i++)
        sse_event_release(&s->q[i]);
    free(s->q);
    buf_release(&s->line);
    buf_release(&s->data);
    buf_release(&s->errbody);
    free(s);
}
