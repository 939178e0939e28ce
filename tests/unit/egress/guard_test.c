/* guard_test.c: the egress guard (src/egress/guard.c): the SSRF table (every form of a local,
 * private or metadata address is refused, with a message), the allow-list, the resolver hook
 * (a name with one private address among public ones is refused) and the target it fills.
 * Nothing here needs the network: literal addresses, /etc/hosts' localhost and the hook. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "egress/egress.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

/* Refused by the strict policy, before any name is looked up. */
static const char *const refused[] = {
    /* loopback, in every spelling */
    "http://127.0.0.1/",
    "http://127.0.0.2:8080/feed",
    "http://127.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://%31%32%37.0.0.1/",
    "http://127.0.0.1./",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[2002:7f00:1::1]/",
    "http://[::127.0.0.1]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://foo.localhost:8080/",
    /* unspecified */
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    /* private, shared, link-local and metadata */
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[2002:a00:1::1]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://metadata.goog/",
    "http://instance-data/",
    "http://printer.local/",
    "http://nas.home.arpa/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fec0::1]/",
    /* multicast, broadcast, reserved, special and documentation */
    "http://224.0.0.1/",
    "http://239.255.255.250:1900/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://192.0.0.8/",
    "http://198.18.0.1/",
    "http://198.19.255.1/",
    "http://192.0.2.1/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
    "http://[2001::1]/",
    "http://[100::1]/",
    "http://[64:ff9b:1::1]/",
    /* URL tricks */
    "http://example.com@127.0.0.1/",
    "http://93.184.216.34@127.0.0.1/",
    "http://user:password@93.184.216.34/",
    "http://:password@93.184.216.34/",
    "http://127.0.0.1:80@93.184.216.34/",
    "http://127\xE3\x80\x82"
    "0\xE3\x80\x82"
    "0\xE3\x80\x82"
    "1/",
    "http://m\xC3\xBCller.example/",
    "http:\\\\127.0.0.1/",
    "http://a b/",
    "http://93.184.216.34/\r\nHost: 127.0.0.1",
    "http://93.184.216.34:99999/",
    "http://93.184.216.34:65536/",
    "http://93.184.216.34:0/",
    "http://93.184.216.34:-1/",
    "http://a..b/",
    "http:///",
    "http://",
    "http:",
    "//93.184.216.34/",
    "93.184.216.34",
    "",
    /* other schemes */
    "ftp://93.184.216.34/",
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "dict://127.0.0.1:11211/stat",
    "ldap://93.184.216.34/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ws://93.184.216.34/",
};

static void refused_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        struct egress_target t;
        memset(&t, 'x', sizeof t);
        char msg[160] = "";
        int rc = egress_check_url(refused[i], NULL, &t, msg);
        if (rc == 0 || !msg[0])
            fail_msg("'%s' was not refused with a message (rc %d)", refused[i], rc);
        assert_true(rc == -ERR_FORBIDDEN || rc == -ERR_INVALID_FIELD);
        assert_string_equal(t.host, ""); /* nothing to connect to */
        assert_int_equal(t.addr.family, 0);
    }
}

static void refusal_kinds(void **state)
{
    (void)state;
    struct egress_target t;
    char msg[160];
    static const struct {
        const char *url;
        int rc;
        const char *says; /* a part of the message, or NULL */
    } cases[] = {
        {"http://127.0.0.1/", -ERR_FORBIDDEN, "loopback"},
        {"http://169.254.169.254/", -ERR_FORBIDDEN, "metadata"},
        {"http://metadata.google.internal/", -ERR_FORBIDDEN, "metadata"},
        {"http://[::ffff:7f00:1]/", -ERR_FORBIDDEN, "loopback"},
        {"http://2130706433/", -ERR_FORBIDDEN, "127.0.0.1"}, /* read as the address it denotes */
        {"ftp://93.184.216.34/", -ERR_INVALID_FIELD, "only http and https"},
        {"http://example.com@127.0.0.1/", -ERR_INVALID_FIELD, "user name"},
        {"http://a:99999/", -ERR_INVALID_FIELD, NULL},
        {NULL, -ERR_INVALID_FIELD, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg[0] = '\0';
        int rc = egress_check_url(cases[i].url, NULL, &t, msg);
        if (rc != cases[i].rc || (cases[i].says && !strstr(msg, cases[i].says)))
            fail_msg("%s: %d '%s'", cases[i].url ? cases[i].url : "(null)", rc, msg);
    }
    char long_url[EGRESS_MAX_URL + 16];
    memset(long_url, 'a', sizeof long_url - 1);
    memcpy(long_url, "http://93.184.216.34/", 21);
    long_url[sizeof long_url - 1] = '\0';
    assert_int_equal(egress_check_url(long_url, NULL, &t, msg), -ERR_INVALID_FIELD);
    assert_non_null(strstr(msg, "longer"));
}

/* Public literals are accepted without any lookup (there is no network here). */
static void public_literals(void **state)
{
    (void)state;
    struct egress_target t;
    char msg[160] = "";
    assert_int_equal(egress_check_url("http://93.184.216.34/", NULL, &t, msg), 0);
    assert_string_equal(t.host, "93.184.216.34");
    assert_true(t.host_is_literal);
    assert_false(t.https);
    assert_int_equal(t.port, 80);
    assert_string_equal(t.addr_text, "93.184.216.34");
    assert_int_equal(t.addr.family, AF_INET);
    assert_string_equal(t.url, "http://93.184.216.34/");

    assert_int_equal(
        egress_check_url("HTTPS://93.184.216.34:8443/feed.xml?a=1&b=2#top", NULL, &t, msg), 0);
    assert_true(t.https);
    assert_int_equal(t.port, 8443);
    assert_string_equal(t.url, "https://93.184.216.34:8443/feed.xml?a=1&b=2");

    assert_int_equal(egress_check_url("https://93.184.216.34/", NULL, &t, msg), 0);
    assert_int_equal(t.port, 443);

    /* the decimal form of a public address is that address */
    assert_int_equal(egress_check_url("http://1572395042/x", NULL, &t, msg), 0);
    assert_string_equal(t.host, "93.184.216.34");
    assert_string_equal(t.url, "http://93.184.216.34/x");

    assert_int_equal(
        egress_check_url("http://[2606:2800:220:1:248:1893:25c8:1946]:8080/", NULL, &t, msg), 0);
    assert_int_equal(t.addr.family, AF_INET6);
    assert_string_equal(t.host, "2606:2800:220:1:248:1893:25c8:1946");
    assert_string_equal(t.url, "http://[2606:2800:220:1:248:1893:25c8:1946]:8080/");

    /* IPv4 forms inside IPv6 are judged by their IPv4 address */
    assert_int_equal(egress_check_url("http://[::ffff:93.184.216.34]/", NULL, &t, msg), 0);
    assert_int_equal(egress_check_url("http://[64:ff9b::93.184.216.34]/", NULL, &t, msg), 0);
    assert_int_equal(egress_check_url("http://[2002:5db8:d822::1]/", NULL, &t, msg), 0);
}

static void addr_refusal(void **state)
{
    (void)state;
    static const struct {
        const char *addr;
        bool public;
    } cases[] = {
        {"8.8.8.8", true},          {"1.1.1.1", true},          {"172.15.255.255", true},
        {"172.32.0.0", true},       {"100.63.255.255", true},   {"100.128.0.0", true},
        {"169.253.255.255", true},  {"223.255.255.255", true},  {"2a00:1450::1", true},
        {"2001:4860::8888", true},  {"0.1.2.3", false},         {"127.255.255.255", false},
        {"169.254.0.1", false},     {"192.168.255.255", false}, {"::2", false},
        {"::ffff:0:7f00:1", false}, {"fdff::1", false},         {"febf::1", false},
        {"4000::1", false},         {"3fff::1", false},         {"2001:1ff::1", false},
        {"2001:200::1", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct egress_addr a = {0};
        a.family = strchr(cases[i].addr, ':') ? AF_INET6 : AF_INET;
        assert_int_equal(inet_pton(a.family, cases[i].addr, a.bytes), 1);
        const char *why = egress_addr_refusal(&a);
        if ((why == NULL) != cases[i].public)
            fail_msg("%s: %s", cases[i].addr, why ? why : "public");
        char text[64];
        egress_addr_format(&a, text);
        assert_non_null(strchr(text, a.family == AF_INET ? '.' : ':'));
    }
}

static void allow_list(void **state)
{
    (void)state;
    struct egress_policy p = {0};
    struct egress_target t;
    char msg[160];
    assert_int_equal(egress_policy_allow(&p, "127.0.0.1/32", msg), 0);
    assert_int_equal(egress_check_url("http://127.0.0.1:8080/feed", &p, &t, msg), 0);
    assert_string_equal(t.addr_text, "127.0.0.1");
    assert_int_equal(t.port, 8080);
    assert_int_equal(egress_check_url("http://2130706433:8080/", &p, &t, msg), 0);
    assert_int_equal(egress_check_url("http://127.0.0.2/", &p, &t, msg), -ERR_FORBIDDEN);
    assert_int_equal(egress_check_url("http://10.0.0.1/", &p, &t, msg), -ERR_FORBIDDEN);
    /* a network entry does not widen to other schemes or userinfo */
    assert_int_equal(egress_check_url("ftp://127.0.0.1/", &p, &t, msg), -ERR_INVALID_FIELD);
    assert_int_equal(egress_check_url("http://a@127.0.0.1/", &p, &t, msg), -ERR_INVALID_FIELD);
    egress_policy_release(&p);
    assert_int_equal(p.n_allow, 0);
    assert_int_equal(egress_check_url("http://127.0.0.1:8080/feed", &p, &t, msg), -ERR_FORBIDDEN);

    assert_int_equal(egress_policy_allow_list(&p, " 10.0.0.0/8, fd00::/8\t192.168.7.9 ,", msg), 0);
    assert_int_equal(p.n_allow, 3);
    assert_int_equal(egress_check_url("http://10.20.30.40/", &p, &t, msg), 0);
    assert_int_equal(egress_check_url("http://[::ffff:10.20.30.40]/", &p, &t, msg), 0);
    assert_int_equal(egress_check_url("http://[fd12::1]/", &p, &t, msg), 0);
    assert_int_equal(egress_check_url("http://192.168.7.9/", &p, &t, msg), 0);
    assert_int_equal(egress_check_url("http://192.168.7.10/", &p, &t, msg), -ERR_FORBIDDEN);
    assert_int_equal(egress_check_url("http://[fe80::1]/", &p, &t, msg), -ERR_FORBIDDEN);
    assert_int_equal(egress_policy_allow_list(&p, "", msg), 0);
    assert_int_equal(egress_policy_allow_list(&p, NULL, msg), 0);
    assert_int_equal(p.n_allow, 3);
    egress_policy_release(&p);

    /* host:port entries: that host on that port, whatever it resolves to */
    assert_int_equal(egress_policy_allow(&p, "LocalHost.:8080", msg), 0);
    assert_int_equal(egress_policy_allow(&p, "[::1]:9000", msg), 0);
    assert_int_equal(egress_policy_allow(&p, "127.1:7000", msg), 0);
    assert_int_equal(egress_check_url("http://localhost:8080/", &p, &t, msg), 0);
    assert_false(t.host_is_literal);
    assert_string_equal(t.host, "localhost");
    assert_true(!strcmp(t.addr_text, "127.0.0.1") || !strcmp(t.addr_text, "::1")); /* hosts */
    assert_int_equal(egress_check_url("http://localhost:8081/", &p, &t, msg), -ERR_FORBIDDEN);
    assert_int_equal(egress_check_url("http://[::1]:9000/", &p, &t, msg), 0);
    assert_int_equal(egress_check_url("http://[::1]:9001/", &p, &t, msg), -ERR_FORBIDDEN);
    assert_int_equal(egress_check_url("http://127.0.0.1:7000/", &p, &t, msg), 0);
    assert_int_equal(egress_check_url("http://127.0.0.1:7001/", &p, &t, msg), -ERR_FORBIDDEN);
    egress_policy_release(&p);

    static const char *const bad[] = {
        "",           "nonsense", "10.0.0.0/33", "10.0.0.0/",  "1.2.3.4/x",
        "fe80::/129", "host:0",   "host:",       "host:70000", ":80",
        "[::1]",      "[zz]:80",  "a b:80",      "10.0.0.0/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = '\0';
        if (egress_policy_allow(&p, bad[i], msg) != -ERR_INVALID_FIELD || !msg[0])
            fail_msg("allow-list entry '%s' was accepted", bad[i]);
    }
    assert_int_equal(p.n_allow, 0);
    assert_int_equal(egress_policy_allow_list(&p, "10.0.0.0/8,bogus,192.168.0.0/16", msg),
                     -ERR_INVALID_FIELD);
    assert_non_null(strstr(msg, "bogus"));
    egress_policy_release(&p);
}

/* ---- names, through the resolver hook ---- */

static int resolver_calls;
static char resolved_name[256];

static void add(struct egress_addr *a, const char *text)
{
    memset(a, 0, sizeof *a);
    a->family = strchr(text, ':') ? AF_INET6 : AF_INET;
    inet_pton(a->family, text, a->bytes);
}

static int fake_resolve(void *ctx, const char *host, struct egress_addr *out, size_t max)
{
    (void)ctx;
    assert_true(max >= 3);
    resolver_calls++;
    snprintf(resolved_name, sizeof resolved_name, "%s", host);
    if (!strcmp(host, "feed.example")) {
        add(&out[0], "93.184.216.34");
        add(&out[1], "2606:2800:220:1:248:1893:25c8:1946");
        return 2;
    }
    if (!strcmp(host, "mixed.example")) { /* one public, one private answer */
        add(&out[0], "93.184.216.34");
        add(&out[1], "10.0.0.1");
        return 2;
    }
    if (!strcmp(host, "six.example")) {
        add(&out[0], "::1");
        return 1;
    }
    if (!strcmp(host, "mapped.example")) {
        add(&out[0], "::ffff:169.254.169.254");
        return 1;
    }
    if (!strcmp(host, "metadata.google.internal")) {
        add(&out[0], "169.254.169.254");
        return 1;
    }
    if (!strcmp(host, "fail.example"))
        return -1;
    return 0;
}

static void names(void **state)
{
    (void)state;
    struct egress_policy p = {.resolve = fake_resolve};
    struct egress_target t;
    char msg[160];
    assert_int_equal(egress_check_url("https://Feed.Example./rss", &p, &t, msg), 0);
    assert_string_equal(resolved_name, "feed.example");
    assert_string_equal(t.host, "feed.example");
    assert_false(t.host_is_literal);
    assert_string_equal(t.addr_text, "93.184.216.34"); /* the first answer is pinned */
    assert_string_equal(t.url, "https://feed.example/rss");

    assert_int_equal(egress_check_url("http://mixed.example/", &p, &t, msg), -ERR_FORBIDDEN);
    assert_non_null(strstr(msg, "private"));
    assert_null(strstr(msg, "10.0.0.1")); /* the internal address is not shown */
    assert_int_equal(egress_check_url("http://six.example/", &p, &t, msg), -ERR_FORBIDDEN);
    assert_int_equal(egress_check_url("http://mapped.example/", &p, &t, msg), -ERR_FORBIDDEN);
    assert_int_equal(egress_check_url("http://nowhere.example/", &p, &t, msg), -ERR_NOT_FOUND);
    assert_non_null(strstr(msg, "cannot resolve"));
    assert_int_equal(egress_check_url("http://fail.example/", &p, &t, msg), -ERR_NOT_FOUND);

    /* local-only names are refused before any lookup */
    resolver_calls = 0;
    assert_int_equal(egress_check_url("http://metadata.google.internal/", &p, &t, msg),
                     -ERR_FORBIDDEN);
    assert_int_equal(resolver_calls, 0);
    /* and an allowed network only lets them through to addresses in it */
    assert_int_equal(egress_policy_allow(&p, "127.0.0.0/8", msg), 0);
    assert_int_equal(egress_check_url("http://metadata.google.internal/", &p, &t, msg),
                     -ERR_FORBIDDEN);
    assert_int_equal(egress_policy_allow(&p, "mixed.example:80", msg), 0);
    assert_int_equal(egress_check_url("http://mixed.example/", &p, &t, msg), 0);
    assert_int_equal(egress_check_url("http://mixed.example:81/", &p, &t, msg), -ERR_FORBIDDEN);
    egress_policy_release(&p);

    /* no_resolve: literal addresses only */
    struct egress_policy literal_only = {.no_resolve = true, .resolve = fake_resolve};
    resolver_calls = 0;
    assert_int_equal(egress_check_url("http://feed.example/", &literal_only, &t, msg),
                     -ERR_FORBIDDEN);
    assert_int_equal(resolver_calls, 0);
    assert_int_equal(egress_check_url("http://93.184.216.34/", &literal_only, &t, msg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_table),   cmocka_unit_test(refusal_kinds),
        cmocka_unit_test(public_literals), cmocka_unit_test(addr_refusal),
        cmocka_unit_test(allow_list),      cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
