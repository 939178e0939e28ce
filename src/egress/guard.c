/* guard.c: the egress guard. Parses a URL with libcurl's own URL parser (so the host checked is
 * the host curl would connect to), resolves the host once and refuses it when any of its
 * addresses is not public, unless the policy's allow-list lets it through; the address checked
 * is the one to pin. Also the allow-list itself. Not for: connecting (fetch.c). */
#include "egress.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- addresses ---- */

static uint32_t v4_at(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool v4_in(uint32_t a, uint32_t net, unsigned prefix)
{
    uint32_t mask = prefix ? 0xFFFFFFFFu << (32 - prefix) : 0;
    return (a & mask) == net;
}

/* The special-purpose IPv4 blocks (IANA registry) that a server-side fetch must not reach. */
static const struct {
    uint32_t net;
    unsigned prefix;
    const char *why;
} v4_blocked[] = {
    {0x00000000, 8, "unspecified (0.0.0.0/8)"},
    {0x0A000000, 8, "private network (10.0.0.0/8)"},
    {0x64400000, 10, "shared address space (100.64.0.0/10)"},
    {0x7F000000, 8, "loopback"},
    {0xA9FE0000, 16, "link-local (169.254.0.0/16, cloud metadata)"},
    {0xAC100000, 12, "private network (172.16.0.0/12)"},
    {0xC0000000, 24, "IETF protocol assignment (192.0.0.0/24)"},
    {0xC0000200, 24, "documentation (192.0.2.0/24)"},
    {0xC0586300, 24, "6to4 relay anycast (192.88.99.0/24)"},
    {0xC0A80000, 16, "private network (192.168.0.0/16)"},
    {0xC6120000, 15, "benchmarking (198.18.0.0/15)"},
    {0xC6336400, 24, "documentation (198.51.100.0/24)"},
    {0xCB007100, 24, "documentation (203.0.113.0/24)"},
    {0xE0000000, 4, "multicast"},
    {0xFFFFFFFF, 32, "broadcast"},
    {0xF0000000, 4, "reserved (240.0.0.0/4)"},
};

static const char *v4_refusal(uint32_t a)
{
    for (size_t i = 0; i < sizeof v4_blocked / sizeof v4_blocked[0]; i++)
        if (v4_in(a, v4_blocked[i].net, v4_blocked[i].prefix))
            return v4_blocked[i].why;
    return NULL;
}

static bool v6_prefix(const unsigned char *b, const unsigned char *net, unsigned bits)
{
    for (unsigned i = 0; i < bits / 8; i++)
        if (b[i] != net[i])
            return false;
    unsigned rest = bits % 8;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (b[bits / 8] & mask) == (net[bits / 8] & mask);
}

const char *egress_addr_refusal(const struct egress_addr *a)
{
    if (a->family == AF_INET)
        return v4_refusal(v4_at(a->bytes));
    if (a->family != AF_INET6)
        return "not an IP address";
    static const unsigned char zero[16], loopback[16] = {[15] = 1},
                                         mapped[12] = {[10] = 0xFF, [11] = 0xFF},
                                         nat64[12] = {0x00, 0x64, 0xFF, 0x9B};
    const unsigned char *b = a->bytes;
    if (!memcmp(b, zero, 16))
        return "unspecified (::)";
    if (!memcmp(b, loopback, 16))
        return "loopback";
    /* forms that carry an IPv4 address are judged by it */
    if (!memcmp(b, mapped, 12) || !memcmp(b, nat64, 12))
        return v4_refusal(v4_at(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: 2002:AABB:CCDD::/48 */
        return v4_refusal(v4_at(b + 2));
    if ((b[0] & 0xFE) == 0xFC)
        return "private network (unique local, fc00::/7)";
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
        return "link-local (fe80::/10)";
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0)
        return "site-local (fec0::/10)";
    if (b[0] == 0xFF)
        return "multicast";
    if ((b[0] & 0xE0) != 0x20) /* IPv4-compatible ::/96, 64:ff9b:1::/48, 100::/64 and others */
        return "reserved (outside global unicast 2000::/3)";
    static const struct {
        unsigned char net[4];
        unsigned bits;
        const char *why;
    } v6_blocked[] = {
        {{0x20, 0x01, 0x00, 0x00}, 32, "Teredo tunnel (2001::/32)"},
        {{0x20, 0x01, 0x00, 0x00}, 23, "IETF protocol assignment (2001::/23)"},
        {{0x20, 0x01, 0x0D, 0xB8}, 32, "documentation (2001:db8::/32)"},
        {{0x3F, 0xFF, 0x00, 0x00}, 20, "documentation (3fff::/20)"},
    };
    for (size_t i = 0; i < sizeof v6_blocked / sizeof v6_blocked[0]; i++)
        if (v6_prefix(b, v6_blocked[i].net, v6_blocked[i].bits))
            return v6_blocked[i].why;
    return NULL;
}

void egress_addr_format(const struct egress_addr *a, char out[64])
{
    if (!inet_ntop(a->family, a->bytes, out, 64))
        snprintf(out, 64, "?");
}

/* Parses a literal address (dotted IPv4 or IPv6 without brackets). */
static bool addr_parse(const char *s, struct egress_addr *a)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, s, a->bytes) == 1) {
        a->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, a->bytes) == 1) {
        a->family = AF_INET6;
        return true;
    }
    return false;
}

/* ---- the allow-list ---- */

static bool in_net(const struct egress_addr *a, const struct egress_allow *e)
{
    if (!e->net.family)
        return false;
    if (a->family == e->net.family)
        return a->family == AF_INET ? v4_in(v4_at(a->bytes), v4_at(e->net.bytes), e->prefix)
                                    : v6_prefix(a->bytes, e->net.bytes, e->prefix);
    /* ::ffff:a.b.c.d is the IPv4 address a.b.c.d for an IPv4 network */
    static const unsigned char mapped[12] = {[10] = 0xFF, [11] = 0xFF};
    if (a->family == AF_INET6 && e->net.family == AF_INET && !memcmp(a->bytes, mapped, 12))
        return v4_in(v4_at(a->bytes + 12), v4_at(e->net.bytes), e->prefix);
    return false;
}

static bool net_allowed(const struct egress_policy *p, const struct egress_addr *a)
{
    for (size_t i = 0; i < p->n_allow; i++)
        if (in_net(a, &p->allow[i]))
            return true;
    return false;
}

static bool has_nets(const struct egress_policy *p)
{
    for (size_t i = 0; i < p->n_allow; i++)
        if (p->allow[i].net.family)
            return true;
    return false;
}

static bool host_port_allowed(const struct egress_policy *p, const char *host, unsigned port)
{
    for (size_t i = 0; i < p->n_allow; i++)
        if (!p->allow[i].net.family && p->allow[i].port == port && !strcmp(p->allow[i].host, host))
            return true;
    return false;
}

/* A host name as DNS has it: labels of [a-z0-9_-], 1-63 bytes each, lower-cased in place, one
 * trailing dot removed. False when it is not one. */
static bool name_canonical(char *host)
{
    size_t n = strlen(host);
    if (n && host[n - 1] == '.')
        host[--n] = '\0';
    if (!n || n > EGRESS_MAX_HOST)
        return false;
    size_t label = 0;
    for (char *c = host; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
        if (*c == '.') {
            if (!label)
                return false;
            label = 0;
        } else if ((isalnum((unsigned char)*c) || *c == '-' || *c == '_') && ++label <= 63) {
            continue;
        } else {
            return false;
        }
    }
    return label > 0;
}

/* A literal IPv4 address in any form inet_aton reads (127.1, 0x7f.1, 2130706433, 0177.0.0.1):
 * resolvers read these as that address, so the guard does too. */
static bool v4_numeric(const char *host, struct egress_addr *a)
{
    struct in_addr in;
    if (!inet_aton(host, &in))
        return false;
    memset(a, 0, sizeof *a);
    a->family = AF_INET;
    memcpy(a->bytes, &in, 4);
    return true;
}

int egress_policy_allow(struct egress_policy *p, const char *entry, char msg[160])
{
    struct egress_allow e;
    memset(&e, 0, sizeof e);
    char text[EGRESS_MAX_HOST + 16];
    size_t n = entry ? strlen(entry) : 0;
    if (!n || n >= sizeof text) {
        snprintf(msg, 160, "an allow-list entry must be 1 to %zu characters", sizeof text - 1);
        return -ERR_INVALID_FIELD;
    }
    memcpy(text, entry, n + 1);
    char *slash = strchr(text, '/');
    if (slash) {
        *slash = '\0';
        char *end;
        unsigned long prefix = strtoul(slash + 1, &end, 10);
        if (!addr_parse(text, &e.net) || !isdigit((unsigned char)slash[1]) || *end ||
            prefix > (e.net.family == AF_INET ? 32u : 128u))
            goto bad;
        e.prefix = (unsigned)prefix;
        for (unsigned bit = e.prefix; bit < (e.net.family == AF_INET ? 32u : 128u); bit++)
            e.net.bytes[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
    } else if (addr_parse(text, &e.net)) {
        e.prefix = e.net.family == AF_INET ? 32 : 128;
    } else {
        char *colon = strrchr(text, ':');
        if (!colon || colon == text)
            goto bad;
        *colon = '\0';
        char *end;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (!isdigit((unsigned char)colon[1]) || *end || port < 1 || port > 65535)
            goto bad;
        e.port = (unsigned)port;
        struct egress_addr a;
        size_t hl = strlen(text);
        if (text[0] == '[' && text[hl - 1] == ']') {
            text[hl - 1] = '\0';
            if (!addr_parse(text + 1, &a) || a.family != AF_INET6)
                goto bad;
            egress_addr_format(&a, e.host);
        } else if (v4_numeric(text, &a)) {
            egress_addr_format(&a, e.host);
        } else if (name_canonical(text)) {
            snprintf(e.host, sizeof e.host, "%s", text);
        } else {
            goto bad;
        }
    }
    p->allow = xrealloc(p->allow, (p->n_allow + 1) * sizeof *p->allow);
    p->allow[p->n_allow++] = e;
    return 0;
bad:
    snprintf(msg, 160,
             "'%.60s' is not a network (10.0.0.0/8), an address (192.168.1.5) or host:port", entry);
    return -ERR_INVALID_FIELD;
}

int egress_policy_allow_list(struct egress_policy *p, const char *list, char msg[160])
{
    const char *sep = ", \t\r\n";
    for (const char *s = list ? list : ""; *s;) {
        s += strspn(s, sep);
        size_t n = strcspn(s, sep);
        if (!n)
            break;
        char *entry = xstrndup(s, n);
        int rc = egress_policy_allow(p, entry, msg);
        free(entry);
        if (rc)
            return rc;
        s += n;
    }
    return 0;
}

void egress_policy_release(struct egress_policy *p)
{
    free(p->allow);
    p->allow = NULL;
    p->n_allow = 0;
}

/* ---- names ---- */

/* Names that only mean something inside the server's own network or cloud: never resolved for
 * a fetch unless allowed (RFC 6761 .localhost, RFC 6762 .local, ICANN's .internal, RFC 8375
 * .home.arpa, and the metadata services' names). */
static bool is_local_name(const char *host)
{
    static const char *const exact[] = {"localhost", "localhost.localdomain", "metadata",
                                        "metadata.goog", "instance-data"};
    static const char *const suffix[] = {".localhost", ".local", ".internal", ".home.arpa",
                                         ".localdomain"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcmp(host, exact[i]))
            return true;
    size_t n = strlen(host);
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        size_t k = strlen(suffix[i]);
        if (n > k && !strcmp(host + n - k, suffix[i]))
            return true;
        if (!strcmp(host, suffix[i] + 1))
            return true;
    }
    return false;
}

/* Every address of host (a canonical name): *out (caller frees) and the count; 0 or an error
 * with msg set. */
static int resolve(const struct egress_policy *p, const char *host, struct egress_addr **out,
                   size_t *n, char msg[160])
{
    *out = NULL;
    *n = 0;
    if (p->resolve) {
        struct egress_addr *v = xcalloc(EGRESS_MAX_ADDRS, sizeof *v);
        int k = p->resolve(p->resolve_ctx, host, v, EGRESS_MAX_ADDRS);
        if (k <= 0) {
            free(v);
            snprintf(msg, 160, "cannot resolve '%s'%s", host, k < 0 ? " (lookup failed)" : "");
            return -ERR_NOT_FOUND;
        }
        *out = v;
        *n = (size_t)k > EGRESS_MAX_ADDRS ? EGRESS_MAX_ADDRS : (size_t)k;
        return 0;
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc) {
        snprintf(msg, 160, "cannot resolve '%s'%s", host,
                 rc == EAI_AGAIN ? " (temporary failure)" : "");
        return -ERR_NOT_FOUND;
    }
    size_t count = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        count++;
    struct egress_addr *v = xcalloc(count, sizeof *v);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        struct egress_addr *a = &v[*n];
        if (ai->ai_family == AF_INET) {
            a->family = AF_INET;
            memcpy(a->bytes, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6) {
            a->family = AF_INET6;
            memcpy(a->bytes, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        ++*n;
    }
    freeaddrinfo(res);
    if (!*n) {
        free(v);
        snprintf(msg, 160, "cannot resolve '%s' (no IP address)", host);
        return -ERR_NOT_FOUND;
    }
    *out = v;
    return 0;
}

/* ---- the check ---- */

/* Checks the parts of a parsed URL; fills everything of out but url. */
static int check_parts(CURLU *u, const struct egress_policy *p, struct egress_target *out,
                       char msg[160])
{
    char *scheme = NULL, *user = NULL, *password = NULL, *options = NULL, *host = NULL,
         *zone = NULL, *port = NULL;
    int rc = -ERR_INVALID_FIELD;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (!scheme || (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
        snprintf(msg, 160, "'%.20s' URLs are not fetched: only http and https",
                 scheme ? scheme : "?");
        goto out;
    }
    out->https = !strcmp(scheme, "https");
    curl_url_get(u, CURLUPART_USER, &user, 0);
    curl_url_get(u, CURLUPART_PASSWORD, &password, 0);
    curl_url_get(u, CURLUPART_OPTIONS, &options, 0);
    if (user || password || options) {
        snprintf(msg, 160, "a user name or password in the URL is not allowed");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) || !host || !*host) {
        snprintf(msg, 160, "the URL has no host");
        goto out;
    }
    if (!curl_url_get(u, CURLUPART_ZONEID, &zone, 0) && zone) {
        snprintf(msg, 160, "IPv6 zone ids are not allowed in the URL");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    char *end = NULL;
    unsigned long pn = port ? strtoul(port, &end, 10) : 0;
    if (!port || *end || pn < 1 || pn > 65535) {
        snprintf(msg, 160, "the port must be 1 to 65535");
        goto out;
    }
    out->port = (unsigned)pn;

    /* the host: an IPv6 literal, an IPv4 literal in any of its forms, or a name */
    struct egress_addr literal;
    size_t hl = strlen(host);
    if (host[0] == '[') {
        if (hl < 3 || host[hl - 1] != ']' || hl - 2 > EGRESS_MAX_HOST)
            goto bad_host;
        host[hl - 1] = '\0';
        if (!addr_parse(host + 1, &literal) || literal.family != AF_INET6)
            goto bad_host;
        out->host_is_literal = true;
    } else if (hl > EGRESS_MAX_HOST + 1) {
        goto bad_host;
    } else {
        for (const unsigned char *c = (const unsigned char *)host; *c; c++) {
            if (*c >= 0x80) {
                snprintf(msg, 160,
                         "the host name is not ASCII: give its xn-- (punycode) form instead");
                goto out;
            }
        }
        if (!name_canonical(host))
            goto bad_host;
        out->host_is_literal = v4_numeric(host, &literal);
    }
    if (out->host_is_literal)
        egress_addr_format(&literal, out->host);
    else
        snprintf(out->host, sizeof out->host, "%s", host);

    rc = -ERR_FORBIDDEN;
    bool host_ok = host_port_allowed(p, out->host, out->port);
    if (out->host_is_literal) {
        const char *why = egress_addr_refusal(&literal);
        if (why && !host_ok && !net_allowed(p, &literal)) {
            snprintf(msg, 160, "%.64s is not a public address (%s); it is not fetched", out->host,
                     why);
            goto out;
        }
        out->addr = literal;
    } else {
        bool local = is_local_name(out->host);
        if (local && !host_ok && !has_nets(p)) {
            snprintf(msg, 160, "'%.80s' is a local-only or cloud metadata name; it is not fetched",
                     out->host);
            goto out;
        }
        if (p->no_resolve) {
            snprintf(msg, 160, "'%.80s' is a name and this fetcher only accepts addresses",
                     out->host);
            goto out;
        }
        struct egress_addr *addrs;
        size_t n;
        rc = resolve(p, out->host, &addrs, &n, msg);
        if (rc)
            goto out;
        rc = -ERR_FORBIDDEN;
        for (size_t i = 0; i < n && !host_ok; i++) {
            const char *why = egress_addr_refusal(&addrs[i]);
            if (local && !net_allowed(p, &addrs[i])) {
                snprintf(msg, 160,
                         "'%.80s' is a local-only or cloud metadata name; it is not fetched",
                         out->host);
                free(addrs);
                goto out;
            }
            if (why && !net_allowed(p, &addrs[i])) {
                snprintf(msg, 160,
                         "'%.64s' resolves to an address that is not public (%s); it is not "
                         "fetched",
                         out->host, why);
                free(addrs);
                goto out;
            }
        }
        out->addr = addrs[0];
        free(addrs);
    }
    egress_addr_format(&out->addr, out->addr_text);
    rc = 0;
    goto out;
bad_host:
    snprintf(msg, 160, "the URL's host is not a valid name or address");
out:
    curl_free(scheme);
    curl_free(user);
    curl_free(password);
    curl_free(options);
    curl_free(host);
    curl_free(zone);
    curl_free(port);
    return rc;
}

int egress_check_url(const char *url, const struct egress_policy *p, struct egress_target *out,
                     char msg[160])
{
    static const struct egress_policy strict;
    if (!p)
        p = &strict;
    memset(out, 0, sizeof *out);
    msg[0] = '\0';
    size_t n = url ? strlen(url) : 0;
    if (!n) {
        snprintf(msg, 160, "the URL is empty");
        return -ERR_INVALID_FIELD;
    }
    if (n > EGRESS_MAX_URL) {
        snprintf(msg, 160, "the URL is longer than %d bytes", EGRESS_MAX_URL);
        return -ERR_INVALID_FIELD;
    }
    for (const unsigned char *c = (const unsigned char *)url; *c; c++) {
        if (*c <= 0x20 || *c == 0x7F) {
            snprintf(msg, 160, "the URL contains spaces or control characters");
            return -ERR_INVALID_FIELD;
        }
    }
    CURLU *u = curl_url();
    if (!u)
        base_bug(__FILE__, __LINE__, "out of memory");
    int rc = -ERR_INVALID_FIELD;
    CURLUcode cu = curl_url_set(u, CURLUPART_URL, url, 0);
    if (cu == CURLUE_UNSUPPORTED_SCHEME || cu == CURLUE_BAD_SCHEME) {
        snprintf(msg, 160, "only http and https URLs are fetched");
        goto out;
    }
    if (cu) {
        snprintf(msg, 160, "not a valid URL (%s)", curl_url_strerror(cu));
        goto out;
    }
    rc = check_parts(u, p, out, msg);
    if (rc)
        goto out;
    /* the URL to request names the host exactly as checked */
    char host[EGRESS_MAX_HOST + 3];
    snprintf(host, sizeof host, strchr(out->host, ':') ? "[%s]" : "%s", out->host);
    char *norm = NULL;
    if (curl_url_set(u, CURLUPART_HOST, host, 0) || curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) ||
        curl_url_get(u, CURLUPART_URL, &norm, 0) || strlen(norm) > EGRESS_MAX_URL) {
        curl_free(norm);
        snprintf(msg, 160, "not a valid URL (cannot normalise it)");
        rc = -ERR_INVALID_FIELD;
        goto out;
    }
    snprintf(out->url, sizeof out->url, "%s", norm);
    curl_free(norm);
out:
    curl_url_cleanup(u);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}
