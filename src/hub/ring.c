/* ring.c: the ring of recently published SSE frames, and the frame format. */
#include "hub_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *hub_frame_format(const struct store_event *ev, size_t *len)
{
    size_t n = strlen(ev->data) + strlen(ev->kind) + 64;
    char *text = xmalloc(n);
    int w = snprintf(text, n, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)ev->seq, ev->kind,
                     ev->data);
    BUG_ON(w < 0 || (size_t)w >= n);
    *len = (size_t)w;
    return text;
}

void frame_route(struct frame *f, const struct store_event *ev)
{
    f->seq = ev->seq;
    f->team_id = ev->team_id;
    f->user_id = ev->user_id;
    /* events that change what their subject may read: a team's creator and a new member join
     * it, a removed member leaves it (after receiving the removal) */
    f->added = !strcmp(ev->kind, "member.added") || !strcmp(ev->kind, "team.created");
    f->membership = f->added || !strcmp(ev->kind, "member.removed");
}

void ring_init(struct ring *r, size_t cap, size_t max_bytes, int64_t last_seq)
{
    memset(r, 0, sizeof *r);
    r->slots = xcalloc(cap, sizeof *r->slots);
    r->cap = cap;
    r->max_bytes = max_bytes;
    r->lo = last_seq + 1;
    r->hi = last_seq;
}

void ring_release(struct ring *r)
{
    for (int64_t s = r->lo; s <= r->hi; s++)
        free(r->slots[(size_t)s % r->cap].text);
    free(r->slots);
    memset(r, 0, sizeof *r);
}

static void ring_evict(struct ring *r)
{
    struct frame *f = &r->slots[(size_t)r->lo % r->cap];
    r->bytes -= f->len;
    free(f->text);
    f->text = NULL;
    r->lo++;
    r->count--;
}

void ring_push(struct ring *r, const struct store_event *ev)
{
    BUG_ON(ev->seq != r->hi + 1);
    size_t len;
    char *text = hub_frame_format(ev, &len);
    while (r->count && (r->count == r->cap || r->bytes + len > r->max_bytes))
        ring_evict(r);
    struct frame *f = &r->slots[(size_t)ev->seq % r->cap];
    frame_route(f, ev);
    f->text = text;
    f->len = len;
    r->bytes += len;
    r->count++;
    r->hi = ev->seq;
    if (r->count == 1)
        r->lo = ev->seq;
}

const struct frame *ring_get(const struct ring *r, int64_t seq)
{
    if (seq < r->lo || seq > r->hi)
        return NULL;
    return &r->slots[(size_t)seq % r->cap];
}
