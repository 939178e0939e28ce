/* base: what every other module stands on: the error table, logging, capped buffers, time,
 * random tokens, hashing of secrets, JSON helpers over jansson and the options table.
 * Nothing here knows about HTTP, storage or the domain. */
#ifndef SB_BASE_H
#define SB_BASE_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors (errors.def) ---- */
enum err {
    ERR_NONE = 0,
#define ERR(name, status, code, msg) ERR_##name,
#include "errors.def"
#undef ERR
    ERR__COUNT
};

/* HTTP status, machine code and default message of an error; `e` may be negative (-ERR_X). */
int err_status(int e);
const char *err_code(int e);
const char *err_message(int e);

/* ---- logging (stderr, one line per call, never secrets) ---- */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- always-on invariant check: a broken invariant is a bug, not bad input ---- */
#define BUG_ON(cond)                                                                               \
    do {                                                                                           \
        if (cond)                                                                                  \
            base_bug(__FILE__, __LINE__, #cond);                                                   \
    } while (0)
_Noreturn void base_bug(const char *file, int line, const char *what);

/* ---- allocation that cannot return NULL (aborts on exhaustion) ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* ---- capped byte buffer: grows up to `cap`, never beyond ---- */
struct buf {
    char *data; /* NUL-terminated after every append */
    size_t len;
    size_t alloc;
    size_t cap; /* hard maximum of len */
};
void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
/* Appends n bytes; returns 0, or -ERR_PAYLOAD_TOO_LARGE (and appends nothing) past the cap. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- time ---- */
int64_t time_now_ms(void);  /* wall clock, ms since the epoch */
int64_t time_mono_ms(void); /* monotonic clock, ms */
/* Formats ms since the epoch as RFC 3339 UTC with milliseconds into out (>= 25 bytes). */
void time_format_rfc3339(int64_t ms, char out[32]);

/* ---- random tokens and secret hashing (libsodium) ---- */
int base_crypto_init(void);
/* 32 random bytes as base64url without padding (43 chars) into out (>= 44 bytes). */
void token_generate(char out[64]);
/* Hash of a high-entropy secret (BLAKE2b-256, hex) for storage and lookup; out >= 65 bytes. */
void secret_hash(const char *secret, char out[65]);
/* Hash of arbitrary bytes (BLAKE2b-256, hex), e.g. to name stored images by content. */
void bytes_hash(const void *data, size_t len, char out[65]);
/* Keyed derivation: hex BLAKE2b-256 of `msg` keyed by `key`; used for CSRF tokens. */
void secret_derive(const char *key, const char *msg, char out[65]);
/* Constant-time string comparison. */
bool secret_equal(const char *a, const char *b);
/* argon2id password hash (libsodium's interactive limits); returns 0 or -ERR_INTERNAL. */
int password_hash(const char *password, char out[128]);
bool password_verify(const char *stored, const char *password);
/* HMAC-SHA256 of data keyed by key (a C string), as lowercase hex (GitHub's signatures). */
void hmac_sha256_hex(const char *key, const void *data, size_t len, char out[65]);
/* HMAC-SHA1 of data followed by data2, keyed by key, as standard base64 (Trello's). */
void hmac_sha1_base64(const char *key, const void *data, size_t len, const void *data2, size_t len2,
                      char out[32]);
/* Secrets the server must read back (signing secrets) are sealed (XSalsa20-Poly1305) with a key
 * kept in a file beside the database, not in it: a copied database alone does not reveal them.
 * seal_key_load reads the key, creating the file (mode 0600) when absent: 0 or -ERR_INTERNAL. */
int seal_key_load(const char *path, unsigned char key[32]);
/* A fingerprint of the key (hex of a keyed hash; it tells nothing about the key). */
void seal_key_fingerprint(const unsigned char key[32], char out[33]);
/* base64(nonce | box); caller frees. */
char *seal_text(const unsigned char key[32], const char *plain);
/* The plain text, or NULL when the box was not sealed with this key; caller frees. */
char *unseal_text(const unsigned char key[32], const char *sealed);

/* ---- JSON ---- */
#define JSON_MAX_DEPTH 32
/* Parses a JSON object from untrusted bytes: rejects invalid UTF-8, NUL, duplicate keys, trailing
 * garbage, nesting deeper than max_depth and anything but an object at the top. On error returns
 * NULL, sets *err to -ERR_INVALID_JSON or -ERR_BAD_REQUEST and writes a message into msg. The
 * caller owns the result (json_decref). */
json_t *json_parse_object(const char *data, size_t len, int max_depth, int *err, char msg[160]);
/* Deepest nesting of arrays/objects in a JSON text, counting only outside strings; stops early
 * once the depth passes `stop` and returns it. Pure byte scan, safe on any input. */
int json_nesting_depth(const char *data, size_t len, int stop);
/* Field getters for request bodies: 0 when present and valid; -ERR_INVALID_FIELD with msg set
 * otherwise. Strings are checked for length in characters (UTF-8 code points) and, when
 * `single_line`, for control characters. *out points into `obj` (borrowed). */
int json_get_string(json_t *obj, const char *key, bool required, size_t min_chars, size_t max_chars,
                    bool single_line, const char **out, char msg[160]);
/* Count of UTF-8 code points in a valid UTF-8 string. */
size_t utf8_length(const char *s);
/* Serialises compactly; caller frees. */
char *json_dump_compact(const json_t *j);

/* ---- parsing helpers ---- */
/* Parses a whole decimal id in [1, INT64_MAX]; returns false on anything else. */
bool parse_id(const char *s, int64_t *out);

/* ---- a sorted set of ids (team ids of a user, and the like) ---- */
struct idset {
    int64_t *v; /* ascending */
    size_t n, alloc;
};
/* Adds id (nothing when present); returns whether it was added. */
bool idset_add(struct idset *s, int64_t id);
/* Removes id; returns whether it was there. */
bool idset_del(struct idset *s, int64_t id);
bool idset_has(const struct idset *s, int64_t id);
void idset_release(struct idset *s);

/* ---- a small pool of threads for slow work kept off the HTTP workers (password hashing) ---- */
struct jobs;
struct jobs *jobs_new(unsigned threads);
/* Runs fn(arg) on a pool thread, in submission order per thread. */
void jobs_submit(struct jobs *j, void (*fn)(void *arg), void *arg);
/* Runs what is queued, then stops the threads. jobs_free(NULL) does nothing. */
void jobs_free(struct jobs *j);

/* ---- the options table (options.def) ---- */
struct config {
    struct {
#define OPT(field, name, env, def, help) const char *field;
#include "options.def"
#undef OPT
    } raw; /* as given */
    /* converted values */
    const char *data, *listen;
    const char *database; /* "" = SQLite in data */
    unsigned db_pool;
    unsigned heartbeat_s;
    unsigned max_per_ip;
    unsigned max_connections;
    size_t max_body;
    unsigned threads;
    unsigned event_window;
    size_t webhook_max_body, service_max_body;
    unsigned webhook_rate, webhook_burst;
    const char *public_url;
    const char *web;
    const char *secret_key;   /* "" = <data>/secret.key */
    const char *egress_allow; /* comma-separated CIDRs, "" = none */
    unsigned feed_tick_s;
    unsigned mail_retry_s, mail_digest_unit_s;
};
/* Fills cfg from defaults, then environment, then argv (--name VALUE or --name=VALUE).
 * Returns 0, 1 when --help was printed, or -1 with a message on stderr. */
int config_parse(struct config *cfg, int argc, char **argv, const char *prog);
void config_print_help(const char *prog, const char *summary);

#endif
