/* egress: every outbound connection the server makes (feeds, later card action targets, image
 * checks) goes through here: one guard that parses the URL, resolves the host once, refuses
 * loopback, private, link-local, metadata and other non-public addresses unless an
 * administrator allowed them, and pins the checked address for the connection; and one fetcher
 * (libcurl) that connects only to that pinned address, follows redirects itself (re-checking
 * every hop), and caps bytes and time.
 *
 * A policy belongs to one feature (the feed poller has its own): an allow-list entry given for
 * one fetcher never widens another (GitLab CVE-2021-22175).
 *
 * Not for: deciding when to fetch (the poller in core/), parsing what was fetched (feeds are
 * parsed by connectors/rss.c). Thread-safe: any number of threads may check and fetch at once
 * (the policy is only read). */
#ifndef SB_EGRESS_H
#define SB_EGRESS_H

#include "../base/base.h"

#define EGRESS_MAX_URL 4096                         /* bytes of a URL, as given and normalised */
#define EGRESS_MAX_HOST 253                         /* bytes of a host name */
#define EGRESS_MAX_ADDRS 32                         /* addresses a resolver hook may return */
#define EGRESS_MAX_REDIRECTS 3                      /* redirects followed by egress_fetch */
#define EGRESS_DEFAULT_MAX_BYTES (2u * 1024 * 1024) /* body cap when the request says 0 */
#define EGRESS_DEFAULT_TIMEOUT_MS 20000             /* whole fetch, redirects included */
#define EGRESS_DEFAULT_CONNECT_TIMEOUT_MS 5000      /* one TCP (+TLS) connect */
#define EGRESS_USER_AGENT "Switchboard/0.1 (+feed fetcher)"

/* An IP address: family AF_INET (bytes[0..3]) or AF_INET6 (bytes[0..15]), network order. */
struct egress_addr {
    int family;
    unsigned char bytes[16];
};

/* One allow-list entry: a network (family != 0) or a host:port pair (family == 0). */
struct egress_allow {
    struct egress_addr net;         /* the network's first address */
    unsigned prefix;                /* its prefix length (32 or 128 for one address) */
    char host[EGRESS_MAX_HOST + 1]; /* lower case, no trailing dot; "" for a network */
    unsigned port;
};

/* A resolver hook (tests, fuzzing): writes at most `max` addresses of `host` (a lower-case name,
 * never a literal address) into out and returns how many (0: no such name), or -1 when the
 * lookup failed. */
typedef int (*egress_resolver)(void *ctx, const char *host, struct egress_addr *out, size_t max);

/* What one fetcher may reach beyond the public internet. A zeroed policy is the strict default:
 * public addresses only, names resolved by the system resolver. */
struct egress_policy {
    struct egress_allow *allow; /* owned: add with egress_policy_allow, free with _release */
    size_t n_allow;
    bool no_resolve;         /* refuse host names, accept literal addresses only (fuzzing) */
    egress_resolver resolve; /* NULL: getaddrinfo (all its addresses) */
    void *resolve_ctx;
};

/* Adds one allow-list entry to p: a network "10.1.0.0/16", "fd00::/8", one address
 * "192.168.1.5", "::1" (a /32 or /128), or "host:port" ("intranet.example:8443",
 * "[::1]:8080", "127.0.0.1:8080"). A network lets every address in it through; a host:port
 * lets that host name (or literal) on that port through whatever it resolves to, including
 * local-only names (localhost, *.internal). 0, or -ERR_INVALID_FIELD with msg set. */
int egress_policy_allow(struct egress_policy *p, const char *entry, char msg[160]);
/* Adds every entry of a list separated by commas and/or white space (a configuration option's
 * value; NULL or "" adds nothing). 0, or -ERR_INVALID_FIELD with msg naming the bad entry (the
 * entries before it stay added). */
int egress_policy_allow_list(struct egress_policy *p, const char *list, char msg[160]);
/* Frees the allow-list; the policy is then the strict default again. */
void egress_policy_release(struct egress_policy *p);

/* A checked URL: what to connect to. */
struct egress_target {
    char url[EGRESS_MAX_URL + 1]; /* normalised, host canonical (what egress_fetch requests) */
    bool https;
    char host[EGRESS_MAX_HOST + 1]; /* lower-case name, dotted IPv4 or IPv6 (no brackets) */
    bool host_is_literal;           /* the host is an address: no name was resolved */
    unsigned port;                  /* 1-65535, the scheme's default when the URL has none */
    struct egress_addr addr;        /* the one checked address to connect to (pin) */
    char addr_text[64];             /* the same, as text ("93.184.216.34", "2001:db8::1") */
};

/* Checks url against the policy and fills out. Refused: anything but http and https; a user
 * name or password in the URL; port 0; IPv6 zone ids; non-ASCII host names (give the xn--
 * form); local-only and cloud metadata names (localhost, *.localhost, *.local, *.internal
 * incl. metadata.google.internal, *.home.arpa, metadata, metadata.goog, instance-data); and a
 * host of which ANY resolved address is not public (egress_addr_refusal). Numeric IPv4 forms
 * (2130706433, 0177.0.0.1, 0x7f.1, 127.1) are read as the address they denote. The allow-list
 * lifts these refusals (egress_policy_allow). Resolving is done here, once, so the answer is
 * the one checked and the one pinned.
 *
 * Returns 0; -ERR_INVALID_FIELD (not a usable http(s) URL), -ERR_FORBIDDEN (the address or name
 * is not allowed) or -ERR_NOT_FOUND (the name does not resolve), with msg set for the owner of
 * the URL (it names the host, never a resolved private address). */
int egress_check_url(const char *url, const struct egress_policy *p, struct egress_target *out,
                     char msg[160]);

/* Why an address is not public ("loopback", "private network", "link-local (cloud metadata)",
 * ...), or NULL when it is a public unicast address. IPv6 forms that embed an IPv4 address
 * (::ffff:a.b.c.d, 64:ff9b::a.b.c.d, 2002:aabb:ccdd::) are judged by that address; the rest of
 * IPv6 must be global unicast (2000::/3) outside its special blocks (Teredo, documentation...).
 * The allow-list is not consulted. */
const char *egress_addr_refusal(const struct egress_addr *a);
/* The address as text into out. */
void egress_addr_format(const struct egress_addr *a, char out[64]);

/* Calls curl_global_init once for the process. egress_fetch calls it too, but a program that
 * starts threads should call it first, from main(). 0, or -ERR_INTERNAL. */
int egress_init(void);

struct egress_request {
    const char *etag;          /* a previous ETag: sent as If-None-Match; NULL none */
    const char *last_modified; /* a previous Last-Modified, as received: If-Modified-Since */
    const char *accept;        /* the Accept header; NULL: any type */
    const char *what;          /* noun for messages ("feed", "image"); NULL: "response" */
    size_t max_bytes;          /* decoded body cap; 0: EGRESS_DEFAULT_MAX_BYTES */
    long timeout_ms;           /* whole fetch incl. resolving and redirects; 0: the default */
    long connect_timeout_ms;   /* one connect; 0: the default */
};

struct egress_response {
    long status; /* the last HTTP status received; 0 when none arrived */
    char *body;  /* 2xx: the decoded body, NUL-terminated (not counted); else NULL */
    size_t body_len;
    char *etag;          /* the final response's ETag (2xx and 304), or NULL */
    char *last_modified; /* its Last-Modified, or NULL */
    char *content_type;  /* its Content-Type, or NULL */
    char *url;           /* the URL of the final response (after redirects), or NULL */
    unsigned redirects;  /* redirects followed (a refused one is not counted) */
    char error[160];     /* what failed, when egress_fetch did not return 0 ("" otherwise) */
};

/* GETs url through the guard: checks it (egress_check_url), connects only to the checked
 * address (CURLOPT_RESOLVE, and a socket callback that refuses any other), http and https only,
 * no proxy from the environment, no cookies or .netrc, gzip/deflate accepted; redirects (301,
 * 302, 303, 307, 308) are followed here, at most EGRESS_MAX_REDIRECTS, each Location checked
 * again; the decoded body is capped at req->max_bytes and the whole fetch at req->timeout_ms.
 * Header values from req (etag, last_modified, accept) must be one printable ASCII line, or
 * they are not sent. Bodies of non-2xx responses are not kept, nor shown (they might come from
 * an internal service; only the status is).
 *
 * Returns 0 for a 2xx response (body set) or 304 Not Modified (body NULL, status 304);
 * otherwise res->error says what failed and the result is egress_check_url's error for the URL
 * or a redirect's Location (also for too many redirects: -ERR_FORBIDDEN), -ERR_PAYLOAD_TOO_LARGE
 * (over max_bytes), or -ERR_UNAVAILABLE (connect, TLS, timeout, or another HTTP status: see
 * res->status). req may be NULL (defaults). res is always filled: egress_response_release it. */
int egress_fetch(const char *url, const struct egress_policy *p, const struct egress_request *req,
                 struct egress_response *res);
void egress_response_release(struct egress_response *res);

/* ---- mail (smtp.c) ---- */
enum egress_smtp_tls {
    EGRESS_SMTP_TLS_TRY = 0, /* STARTTLS when the relay offers it */
    EGRESS_SMTP_TLS_REQUIRE, /* STARTTLS or fail */
    EGRESS_SMTP_TLS_NONE,    /* never (a relay on loopback) */
};
struct egress_smtp {
    const char *url; /* smtp://[user:password@]host[:port] or smtps:// (TLS from the start) */
    enum egress_smtp_tls tls;
};
/* Sends one message (RFC 5322 text, CRLF line ends) from `from` to `to` through the relay: 0;
 * -ERR_BAD_REQUEST when the relay refused it for good (5xx), -ERR_UNAVAILABLE when it may work
 * later (connection, timeout, 4xx), with err set. */
int egress_smtp_send(const struct egress_smtp *relay, const char *from, const char *to,
                     const char *message, size_t len, char err[160]);

#endif
