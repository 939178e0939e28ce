/* hub_int.h: the hub's internals shared by its files: the frame ring and the subscriber index. */
#ifndef SB_HUB_INT_H
#define SB_HUB_INT_H

#include "hub.h"

/* One published event, formatted once, immutable while in the ring. */
struct frame {
    int64_t seq, team_id, user_id;
    bool membership; /* team.created, member.*: changes what its subject may read */
    bool added;
    size_t len;
    char *text;
};

/* The recent frames, oldest evicted first; seqs in the ring are consecutive. */
struct ring {
    struct frame *slots;
    size_t cap; /* slots */
    size_t max_bytes;
    size_t count, bytes;
    int64_t lo; /* seq of the oldest frame held (lo > hi when empty) */
    int64_t hi; /* seq of the newest frame published */
};
void ring_init(struct ring *r, size_t cap, size_t max_bytes, int64_t last_seq);
void ring_release(struct ring *r);
/* Appends the frame for ev (ev->seq must be hi + 1), evicting the oldest as needed. */
void ring_push(struct ring *r, const struct store_event *ev);
/* The frame with this seq, or NULL when it is not held. */
const struct frame *ring_get(const struct ring *r, int64_t seq);
/* Fills a frame's routing fields from an event (no text). */
void frame_route(struct frame *f, const struct store_event *ev);

/* int64 key -> set of streams, for waking only the streams an event concerns (by team, by user,
 * by stream id). A key goes when its last stream does. */
struct index_slot {
    int64_t key; /* 0 = empty */
    struct hub_stream **v;
    uint32_t n, alloc;
};
struct index {
    struct index_slot *slots;
    size_t cap, used;
};
void index_init(struct index *ix);
void index_release(struct index *ix);
void index_add(struct index *ix, int64_t key, struct hub_stream *s);
void index_remove(struct index *ix, int64_t key, struct hub_stream *s);
/* The streams under key (NULL and *n = 0 when none). */
struct hub_stream **index_get(struct index *ix, int64_t key, uint32_t *n);

#endif
