/* client.h: what the terminal client's commands (login, channels, post, tail, webhook) share:
 * the saved login, calls to the server's public HTTP API over libcurl and its errors as one-line
 * messages, TEAM/CHANNEL names, the live feed (sse.c) and terminal output (term.c).
 *
 * The client talks to the server only through the documented API (docs/api.md); it links no
 * server module but base/ (JSON, buffers) and cards/ (the terminal renderer). */
#ifndef SB_CLI_CLIENT_H
#define SB_CLI_CLIENT_H

#include "../base/base.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>

/* ---- the login: $XDG_CONFIG_HOME/switchboard/config.json, environment over the file ---- */

struct client {
    const char *cmd; /* "switchboard tail": the start of every message */
    char *url;       /* the server's base URL, without a trailing '/' */
    char *token;     /* a bearer API token, or NULL */
    char *session;   /* or a session cookie (sb_session) ... */
    char *csrf;      /* ... and its X-CSRF-Token for writes */
};

/* Fills c from SWITCHBOARD_URL / SWITCHBOARD_TOKEN and the config file (the file's credentials
 * only for the file's own URL). 0, or -1 with a message on stderr (not logged in, unreadable
 * file). client_release in either case. */
int client_open(struct client *c, const char *cmd);
/* A client for url (normalised: scheme required, trailing '/' dropped) without credentials; 0
 * or -1 with a message. */
int client_open_url(struct client *c, const char *cmd, const char *url);
void client_release(struct client *c);
/* The config file's path into out: 0, or -1 when neither XDG_CONFIG_HOME nor HOME is set. */
int client_config_path(char *out, size_t len, char *dir, size_t dir_len);
/* Writes the config file {url, ...fields} (the directory made 0700, the file created 0600 and
 * renamed into place). 0 or -1 with a message on stderr. `fields` is only read. */
int client_config_save(const char *cmd, const char *url, json_t *fields, char *path_out,
                       size_t path_len);

/* ---- calls to the API ---- */

/* Set from a signal handler to abandon transfers in flight (Ctrl-C in `tail`). */
extern volatile sig_atomic_t client_interrupted;

struct client_reply {
    long status;     /* HTTP status, 0 when no answer came */
    json_t *json;    /* the body parsed, or NULL (empty or not JSON) */
    char *cookie;    /* the sb_session cookie the answer set, or NULL */
    char error[256]; /* when status is not 2xx: one line saying why (neutralised) */
};

/* One request: method path (from the base URL; a query may follow) with an optional JSON body.
 * Returns 0 when the answer is 2xx, else -1 (reply->error says why). client_reply_release in
 * either case. */
int client_request(struct client *c, const char *method, const char *path, json_t *body,
                   struct client_reply *reply);
void client_reply_release(struct client_reply *r);
/* client_request for commands: on a 2xx, 0 with *out the parsed body (NULL for none; the caller
 * decrefs); else prints "<cmd>: <why>" and returns -1 (quietly when interrupted). */
int client_call(struct client *c, const char *method, const char *path, json_t *body, json_t **out);
/* Headers for a request: credentials (and the CSRF token for a session's writes) appended to
 * list; returns the new list. */
struct curl_slist *client_auth_headers(struct client *c, struct curl_slist *list, bool write);
/* A libcurl handle for the base URL + path with the options every call shares (only http and
 * https, no redirects, connect and total timeouts, the user agent, aborted when
 * client_interrupted is set, errors into errbuf); NULL when libcurl cannot make one. */
CURL *client_easy(struct client *c, const char *path, char errbuf[CURL_ERROR_SIZE]);

/* ---- names ---- */

struct client_channel {
    int64_t id;
    char *team;    /* the team's name as the server has it (not neutralised) */
    char *channel; /* the channel's */
};
/* Finds "TEAM/CHANNEL" (TEAM a name or an id; names may hold '/': every split is tried) among
 * the caller's teams. 0, or -1 with a message. client_channel_release in either case. */
int client_find_channel(struct client *c, const char *arg, struct client_channel *out);
void client_channel_release(struct client_channel *ch);

/* ---- small helpers ---- */

/* Reads all of f up to max bytes into a NUL-terminated string (the caller frees); NULL with a
 * message when it is longer or unreadable. */
char *client_read_all(FILE *f, size_t max, const char *cmd, const char *what);
/* Whether argv[i] is --help or -h. */
bool client_is_help(const char *arg);
/* Whether s can be a token or cookie in a header: printable ASCII, no spaces, not empty. */
bool client_is_token(const char *s);

/* ---- the live feed (sse.c): GET /api/v1/events over libcurl's multi interface ---- */

struct sse_event {
    int64_t id; /* the event's id (0 when it had none) */
    char *type; /* "message.created"... */
    char *data; /* the data lines joined by '\n' */
};

struct sse; /* one connection */

/* Opens the stream, resuming after last_id (-1: from now). NULL only on allocation failure. */
struct sse *sse_open(struct client *c, int64_t last_id);
/* Moves the transfer along for up to timeout_ms. Returns 1 while the stream is open, 0 once it
 * has ended (sse_error says why). */
int sse_pump(struct sse *s, int timeout_ms);
/* Whether the server has answered 200 and the stream has started. */
bool sse_is_live(const struct sse *s);
/* The next parsed event into ev (sse_event_release it); false when none is waiting. */
bool sse_next(struct sse *s, struct sse_event *ev);
void sse_event_release(struct sse_event *ev);
/* The last event id the server gave (-1 when none yet): where to resume. */
int64_t sse_last_id(const struct sse *s);
/* Why the stream ended (one line), and whether retrying can help (false: 401, 403, 404...). */
const char *sse_error(const struct sse *s, bool *retry);
/* Milliseconds since the stream last received a byte. */
int64_t sse_quiet_ms(const struct sse *s);
void sse_close(struct sse *s);

/* ---- terminal output (term.c) ---- */

enum term_colour { TERM_COLOUR_AUTO, TERM_COLOUR_ALWAYS, TERM_COLOUR_NEVER };
/* Parses "always" | "never" | "auto"; false on anything else. */
bool term_colour_parse(const char *s, enum term_colour *out);
/* Whether to write colour to stdout: always, never, or auto = stdout is a terminal and NO_COLOR
 * is unset or empty. */
bool term_colour_on(enum term_colour mode);

struct term_message_opts {
    bool colour;
    bool reply;   /* indent it under its thread's root */
    bool updated; /* a message.updated: its card was replaced */
};
/* Prints one Message (the API's JSON) to out: "HH:MM author: text", a card's rendering below
 * its header, every string from the server neutralised. */
void term_print_message(FILE *out, json_t *msg, const struct term_message_opts *o);
/* A one-line summary of a message for a thread's context ("alice: first line"), at most
 * max_cols characters, neutralised; the caller frees. */
char *term_message_summary(json_t *msg, size_t max_cols);
/* Prints a dim note line (thread context, "earlier replies") with the given indent. */
void term_print_note(FILE *out, bool colour, const char *indent, const char *text);

#endif
