/* fuzz_egress_url.c: the egress guard (src/egress/guard.c) on arbitrary URLs, with no DNS and no
 * network: each input is checked under three policies: strict with literal addresses only,
 * strict with a resolver hook that answers every name from a table of public and non-public
 * addresses (picked by a hash of the name), and the hook with an allow-list. Checks: an
 * accepted URL is http(s) with no user name, a non-empty host and a port; re-parsing the URL to
 * fetch gives the host that was checked, and checking it again gives the same target; the pinned
 * address is public by an oracle written here (not the guard's own table), or allowed by the
 * allow-list; a refusal is one of the documented errors with a message; names are never looked
 * up when the policy says so. The input is also read as an allow-list entry. */
#include "fuzz.h"

#include "egress/egress.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <string.h>
#include <sys/socket.h>

static const char *const answers[] = {
    "93.184.216.34",    "2606:2800:220:1:248:1893:25c8:1946",
    "127.0.0.1",        "10.1.2.3",
    "169.254.169.254",  "::1",
    "::ffff:127.0.0.1", "64:ff9b::a00:1",
    "fd00::1",          "8.8.4.4",
    "100.64.1.1",       "192.168.0.10",
    "0.0.0.0",          "fe80::1",
    "2002:c0a8:1::1",   "1.1.1.1",
};
#define N_ANSWERS (sizeof answers / sizeof answers[0])

static int hook_calls;

static int fake_resolve(void *ctx, const char *host, struct egress_addr *out, size_t max)
{
    (void)ctx;
    hook_calls++;
    FUZZ_CHECK(host && *host && max >= 3);
    unsigned h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)host; *c; c++)
        h = (h ^ *c) * 16777619u;
    size_t n = h % 4; /* 0: no such name */
    for (size_t i = 0; i < n; i++) {
        const char *a = answers[(h >> (4 + 4 * i)) % N_ANSWERS];
        memset(&out[i], 0, sizeof out[i]);
        out[i].family = strchr(a, ':') ? AF_INET6 : AF_INET;
        FUZZ_CHECK(inet_pton(out[i].family, a, out[i].bytes) == 1);
    }
    return h % 17 == 0 ? -1 : (int)n;
}

/* Public by an oracle independent of guard.c's tables: the ranges the guard must refuse. */
static bool v4_local(const unsigned char *b)
{
    return b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
           (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 100 && (b[1] & 0xC0) == 64) || b[0] >= 224 ||
           (b[0] == 192 && b[1] == 0 && b[2] == 0) || (b[0] == 198 && (b[1] & 0xFE) == 18);
}

static bool is_local(const struct egress_addr *a)
{
    const unsigned char *b = a->bytes;
    if (a->family == AF_INET)
        return v4_local(b);
    FUZZ_CHECK(a->family == AF_INET6);
    static const unsigned char mapped[12] = {[10] = 0xFF, [11] = 0xFF},
                               nat64[12] = {0, 0x64, 0xFF, 0x9B};
    if (!memcmp(b, mapped, 12) || !memcmp(b, nat64, 12))
        return v4_local(b + 12);
    if (b[0] == 0x20 && b[1] == 0x02)
        return v4_local(b + 2);
    return (b[0] & 0xE0) != 0x20; /* ::, ::1, fc00::/7, fe80::/10, ff00::/8 are all outside */
}

static bool is_utf8(const char *s)
{
    json_t *j = json_string(s);
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

static void check(const char *url, const struct egress_policy *p, bool allow_listed)
{
    struct egress_target t;
    char msg[160];
    memset(msg, 'X', sizeof msg);
    int calls = hook_calls;
    int rc = egress_check_url(url, p, &t, msg);
    FUZZ_CHECK(memchr(msg, '\0', sizeof msg) != NULL);
    if (p->no_resolve)
        FUZZ_CHECK(hook_calls == calls);
    if (rc) {
        FUZZ_CHECK(rc == -ERR_INVALID_FIELD || rc == -ERR_FORBIDDEN || rc == -ERR_NOT_FOUND);
        FUZZ_CHECK(msg[0] && is_utf8(msg));
        FUZZ_CHECK(!t.host[0] && !t.url[0] && !t.addr.family);
        return;
    }
    FUZZ_CHECK(!strncmp(t.url, t.https ? "https://" : "http://", t.https ? 8 : 7));
    FUZZ_CHECK(strlen(t.url) <= EGRESS_MAX_URL && !strchr(t.url, '#'));
    FUZZ_CHECK(t.host[0] && t.port >= 1 && t.port <= 65535);
    FUZZ_CHECK(t.addr.family == AF_INET || t.addr.family == AF_INET6);
    if (p->no_resolve)
        FUZZ_CHECK(t.host_is_literal);
    if (t.host_is_literal)
        FUZZ_CHECK(!strcmp(t.host, t.addr_text));
    if (!allow_listed) {
        FUZZ_CHECK(!is_local(&t.addr));
        FUZZ_CHECK(egress_addr_refusal(&t.addr) == NULL);
    }
    /* what curl will request names the checked host, port and no user */
    CURLU *u = curl_url();
    FUZZ_CHECK(u && curl_url_set(u, CURLUPART_URL, t.url, 0) == CURLUE_OK);
    char *host = NULL, *port = NULL, *user = NULL;
    FUZZ_CHECK(curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK);
    FUZZ_CHECK(curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK);
    FUZZ_CHECK(curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK || !user);
    char expect[EGRESS_MAX_HOST + 3];
    snprintf(expect, sizeof expect, strchr(t.host, ':') ? "[%s]" : "%s", t.host);
    FUZZ_CHECK(!strcmp(host, expect));
    FUZZ_CHECK((unsigned)atoi(port) == t.port);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(u);
    /* checking the URL to fetch again gives the same target */
    struct egress_target again;
    FUZZ_CHECK(egress_check_url(t.url, p, &again, msg) == 0);
    FUZZ_CHECK(!strcmp(again.url, t.url) && !strcmp(again.host, t.host) && again.port == t.port &&
               !memcmp(&again.addr, &t.addr, sizeof t.addr));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct egress_policy literal_only = {.no_resolve = true};
    static struct egress_policy hooked = {.resolve = fake_resolve};
    static struct egress_policy allowing = {.resolve = fake_resolve};
    if (!allowing.n_allow) {
        char msg[160];
        FUZZ_CHECK(egress_policy_allow_list(
                       &allowing, "10.0.0.0/8, fd00::/8, 127.0.0.1, localhost:8080, [::1]:9000",
                       msg) == 0);
    }
    char *url = malloc(size + 1);
    memcpy(url, data, size);
    url[size] = '\0';
    check(url, &literal_only, false);
    check(url, &hooked, false);
    check(url, &allowing, true);

    /* the same bytes as an allow-list entry */
    struct egress_policy p = {0};
    char msg[160];
    memset(msg, 'X', sizeof msg);
    int rc = egress_policy_allow(&p, url, msg);
    if (rc) {
        FUZZ_CHECK(rc == -ERR_INVALID_FIELD && memchr(msg, '\0', sizeof msg) && msg[0]);
        FUZZ_CHECK(p.n_allow == 0);
    } else {
        const struct egress_allow *e = &p.allow[0];
        FUZZ_CHECK(p.n_allow == 1);
        if (e->net.family)
            FUZZ_CHECK(e->prefix <= (e->net.family == AF_INET ? 32u : 128u) && !e->host[0]);
        else
            FUZZ_CHECK(e->host[0] && e->port >= 1 && e->port <= 65535);
    }
    egress_policy_release(&p);
    free(url);
    return 0;
}
