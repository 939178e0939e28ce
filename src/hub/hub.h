/* hub: fan-out of committed events to live streams (Server-Sent Events framing).
 *
 * The store publishes each committed batch to hub_publish(). The hub formats every event's SSE
 * frame once into a ring of recent frames, marks the teams and users it concerns, and a publisher
 * thread wakes the waiting streams of those teams and users, at most once per tick (the tick grows
 * with the number of streams woken, so a busy hub coalesces instead of writing each event to
 * thousands of sockets separately). A stream's reader copies every pending frame it may read in one
 * go; a stream further behind than the ring (or resuming from an old Last-Event-ID) catches up from
 * the store first. A live stream that falls behind the ring is ended: it resumes by Last-Event-ID.
 *
 * The hub knows nothing of the HTTP library: the caller gives it suspend/resume callbacks for a
 * stream's connection. Not for: authentication, routing (api/, http/). */
#ifndef SB_HUB_H
#define SB_HUB_H

#include "../store/store.h"

struct hub;
struct hub_stream;

struct hub_io {
    /* Called with the hub's lock held from inside hub_stream_read(), when the stream has nothing
     * to send: the connection must stop asking for data until resume() is called. */
    void (*suspend)(void *conn);
    /* Called from the hub's publisher or heartbeat thread: the connection may ask again. */
    void (*resume)(void *conn);
    /* Whether the client has closed its end (checked when a heartbeat is due, so a client that
     * went away is noticed within one heartbeat). May be NULL. */
    bool (*peer_closed)(void *conn);
    /* The connection's socket, watched for hang-ups while the stream waits. May be NULL. */
    int (*fd)(void *conn);
};

struct hub_config {
    unsigned heartbeat_ms; /* a quiet stream gets ": hb" this often */
    size_t ring_frames;    /* recent frames kept in memory (0 = default 8192) */
    size_t ring_bytes;     /* and at most this many bytes of them (0 = default 64 MiB) */
};

/* Creates the hub and its publisher and heartbeat threads; registers with the store. */
struct hub *hub_new(struct store *st, const struct hub_io *io, const struct hub_config *cfg);
/* Ends every stream (their next read returns -1) and stops the threads. */
void hub_shutdown(struct hub *h);
/* Frees the hub; every stream must be closed. hub_free(NULL) does nothing. */
void hub_free(struct hub *h);

/* The store's publisher callback (store_publish_fn). */
void hub_publish(void *hub, const struct store_event *events, size_t n);

/* Opens a stream for user, starting after `last_event_id` (-1 = from the next event committed). */
struct hub_stream *hub_stream_open(struct hub *h, int64_t user_id, int64_t last_event_id,
                                   void *conn);
/* Fills out with up to max bytes: > 0 bytes written; 0 = nothing now and the stream has been
 * suspended through io->suspend; -1 = end the stream (too slow, or shutting down). */
long hub_stream_read(struct hub_stream *s, char *out, size_t max);
/* Forgets the stream (its connection is gone). hub_stream_close(NULL) does nothing. */
void hub_stream_close(struct hub_stream *s);

/* Formats one SSE frame ("id: ..\nevent: ..\ndata: ..\n\n") into a new string; *len set. Data
 * must be one line (compact JSON is). The caller frees. */
char *hub_frame_format(const struct store_event *ev, size_t *len);

struct hub_stats {
    uint64_t streams, waiting, published, wakeups;
};
void hub_get_stats(struct hub *h, struct hub_stats *out);

#endif
