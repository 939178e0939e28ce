/* events.c: GET /api/v1/events, the live feed as Server-Sent Events (the hub does the work). */
#include "api_int.h"

#include "../hub/hub.h"

#include <string.h>

static long events_read(void *arg, char *buf, size_t max)
{
    return hub_stream_read(arg, buf, max);
}

static void events_close(void *arg)
{
    hub_stream_close(arg);
}

/* Last-Event-ID: a non-negative sequence number; -1 when absent. */
static int last_event_id(struct http_req *r, int64_t *out)
{
    const char *v = http_header(r, "Last-Event-ID");
    if (!v)
        v = http_query(r, "last_event_id");
    *out = -1;
    if (!v)
        return 0;
    if (!strcmp(v, "0")) {
        *out = 0;
        return 0;
    }
    if (!parse_id(v, out))
        return http_fail(r, -ERR_BAD_REQUEST, "Last-Event-ID must be an event id");
    return 0;
}

int api_events(struct http_req *r)
{
    int64_t last;
    int rc = last_event_id(r, &last);
    if (rc)
        return rc;
    struct hub_stream *s = hub_stream_open(api_of(r)->hub, api_req(r)->user.id, last, r->conn);
    return http_stream(r, events_read, events_close, s);
}
