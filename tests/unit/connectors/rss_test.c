/* rss_test.c: the feed connector (src/connectors/rss.c): RSS 2.0, Atom and RSS 1.0 samples (our
 * own), the id fallbacks, HTML summaries reduced to text, dates, what hostile XML gets (entity
 * expansion, external entities, DTDs, depth, size), invalid and non-feed documents, the card of
 * an item and the connector type's settings. */
#define _GNU_SOURCE
#include "conntest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char rss2[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
    "     xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n"
    "     xmlns:atom=\"http://www.w3.org/2005/Atom\">\n"
    "<channel>\n"
    "  <title>Harbour Works \n  Log</title>\n"
    "  <link>https://harbour.example/log/</link>\n"
    "  <atom:link href=\"https://harbour.example/log/feed.xml\" rel=\"self\"/>\n"
    "  <description>Notes from the harbour</description>\n"
    "  <item>\n"
    "    <title>Crane 4 back in service</title>\n"
    "    <link>https://harbour.example/log/crane-4</link>\n"
    "    <guid isPermaLink=\"false\">harbour-log-0042</guid>\n"
    "    <pubDate>Tue, 07 May 2024 09:15:00 +0200</pubDate>\n"
    "    <dc:creator>Ines Moreau</dc:creator>\n"
    "    <author>ines@harbour.example (Ines Moreau)</author>\n"
    "    <description>&lt;p&gt;The &lt;b&gt;crane&lt;/b&gt; is fixed &amp;amp; tested.&lt;/p&gt;"
    "&lt;script&gt;alert(\"x\")&lt;/script&gt;&lt;style&gt;p{color:red}&lt;/style&gt;"
    "&lt;p&gt;Load lim&lt;i&gt;its&lt;/i&gt; apply.&lt;/p&gt;</description>\n"
    "    <content:encoded>&lt;p&gt;The long version.&lt;/p&gt;</content:encoded>\n"
    "  </item>\n"
    "  <item>\n"
    "    <title>Tide tables for June</title>\n"
    "    <link> /log/tides-june </link>\n"
    "    <pubDate>Mon, 6 May 2024 18:00:00 GMT</pubDate>\n"
    "    <description><![CDATA[<p>Tables&nbsp;are <a href=\"/t\">up</a>.</p>]]></description>\n"
    "    <author>office@harbour.example (Harbour Office)</author>\n"
    "  </item>\n"
    "  <item>\n"
    "    <title>Quay closed</title>\n"
    "    <pubDate>Sun, 05 May 24 07:00 EST</pubDate>\n"
    "  </item>\n"
    "  <item>\n"
    "    <guid>https://harbour.example/log/p/7</guid>\n"
    "    <content:encoded>Only &lt;em&gt;content&lt;/em&gt; here.</content:encoded>\n"
    "  </item>\n"
    "  <item><category>nothing to show</category></item>\n"
    "</channel>\n"
    "</rss>\n";

static const char atom[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"https://notes.example/\">\n"
    "  <title type=\"html\">Field &lt;em&gt;Notes&lt;/em&gt;</title>\n"
    "  <link rel=\"self\" href=\"/feed.atom\"/>\n"
    "  <link href=\"https://notes.example/\"/>\n"
    "  <id>urn:uuid:6a3e2c1f-0d52-4c4e-9a43-1b2f1d7a9e10</id>\n"
    "  <updated>2024-05-02T10:00:00Z</updated>\n"
    "  <author><name>R. Okafor</name></author>\n"
    "  <entry>\n"
    "    <id>tag:notes.example,2024:1</id>\n"
    "    <title>Moss survey</title>\n"
    "    <link rel=\"edit\" href=\"/edit/1\"/>\n"
    "    <link rel=\"alternate\" type=\"text/html\" href=\"entries/moss\"/>\n"
    "    <published>2024-04-30T22:10:05.250+02:00</published>\n"
    "    <updated>2024-05-01T08:00:00Z</updated>\n"
    "    <summary type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Forty "
    "<em>species</em> found.</p><script>bad()</script><p>More soon.</p></div></summary>\n"
    "  </entry>\n"
    "  <entry>\n"
    "    <title type=\"text\">A &lt;b&gt; is not bold</title>\n"
    "    <link href=\"https://elsewhere.example/x\"/>\n"
    "    <updated>2024-05-02T10:00:00Z</updated>\n"
    "    <content type=\"html\">&lt;p&gt;Full &lt;i&gt;text&lt;/i&gt;&lt;/p&gt;</content>\n"
    "    <author><name>Guest</name></author>\n"
    "  </entry>\n"
    "</feed>\n";

static const char rdf[] =
    "<?xml version=\"1.0\"?>\n"
    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
    "         xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
    "  <channel rdf:about=\"https://birds.example/\">\n"
    "    <title>Bird Count</title>\n"
    "    <link>https://birds.example/</link>\n"
    "    <description>Weekly counts</description>\n"
    "    <items><rdf:Seq><rdf:li rdf:resource=\"https://birds.example/c/1\"/></rdf:Seq></items>\n"
    "  </channel>\n"
    "  <item rdf:about=\"https://birds.example/c/1\">\n"
    "    <title>Heron seen</title>\n"
    "    <link>https://birds.example/c/1?from=rss</link>\n"
    "    <description>Grey heron at the &lt;i&gt;north&lt;/i&gt; pond.</description>\n"
    "    <dc:date>2024-03-15</dc:date>\n"
    "    <dc:creator>Ana</dc:creator>\n"
    "  </item>\n"
    "</rdf:RDF>\n";

static void parse_ok(const char *text, struct feed *f)
{
    char msg[160] = "";
    int rc = feed_parse(text, strlen(text), f, msg);
    if (rc)
        fail_msg("feed_parse: %d %s", rc, msg);
}

static void rss2_sample(void **state)
{
    (void)state;
    struct feed f;
    parse_ok(rss2, &f);
    assert_string_equal(f.title, "Harbour Works Log");
    assert_string_equal(f.link, "https://harbour.example/log/");
    assert_int_equal(f.n_items, 4); /* the one with nothing to show is left out */

    struct feed_item *it = &f.items[0];
    assert_string_equal(it->id, "harbour-log-0042");
    assert_string_equal(it->title, "Crane 4 back in service");
    assert_string_equal(it->link, "https://harbour.example/log/crane-4");
    /* the description, not content:encoded; tags stripped, script and style dropped */
    assert_string_equal(it->summary, "The crane is fixed & tested. Load limits apply.");
    assert_string_equal(it->author, "Ines Moreau");    /* dc:creator before the e-mail address */
    assert_int_equal(it->published_ms, 1715066100000); /* 2024-05-07T07:15:00Z */

    it = &f.items[1];
    assert_string_equal(it->link, "https://harbour.example/log/tides-june"); /* resolved */
    assert_string_equal(it->id, "https://harbour.example/log/tides-june");   /* no guid: link */
    assert_string_equal(it->summary, "Tables are up."); /* &nbsp; decoded, a blank */
    assert_string_equal(it->author, "office@harbour.example (Harbour Office)");
    assert_int_equal(it->published_ms, 1715018400000);

    it = &f.items[2]; /* neither guid nor link: title and date */
    assert_string_equal(it->id, "Quay closed\nSun, 05 May 24 07:00 EST");
    assert_null(it->link);
    assert_null(it->summary);
    assert_int_equal(it->published_ms, 1714910400000);

    it = &f.items[3]; /* a permalink guid is the link too */
    assert_string_equal(it->id, "https://harbour.example/log/p/7");
    assert_string_equal(it->link, "https://harbour.example/log/p/7");
    assert_null(it->title);
    assert_string_equal(it->summary, "Only content here.");
    assert_int_equal(it->published_ms, 0);
    feed_release(&f);
    assert_null(f.items);
    assert_int_equal(f.n_items, 0);
}

static void atom_sample(void **state)
{
    (void)state;
    struct feed f;
    parse_ok(atom, &f);
    assert_string_equal(f.title, "Field Notes");
    assert_string_equal(f.link, "https://notes.example/");
    assert_int_equal(f.n_items, 2);
    struct feed_item *it = &f.items[0];
    assert_string_equal(it->id, "tag:notes.example,2024:1");
    assert_string_equal(it->title, "Moss survey");
    assert_string_equal(it->link, "https://notes.example/entries/moss"); /* xml:base */
    assert_string_equal(it->summary, "Forty species found. More soon.");
    assert_string_equal(it->author, "R. Okafor"); /* the feed's author */
    assert_int_equal(it->published_ms, 1714507805250);
    it = &f.items[1];
    assert_string_equal(it->id, "https://elsewhere.example/x");
    assert_string_equal(it->title, "A <b> is not bold"); /* type="text" stays as written */
    assert_string_equal(it->summary, "Full text");
    assert_string_equal(it->author, "Guest");
    assert_int_equal(it->published_ms, 1714644000000); /* updated, when not published */
    feed_release(&f);
}

static void rdf_sample(void **state)
{
    (void)state;
    struct feed f;
    parse_ok(rdf, &f);
    assert_string_equal(f.title, "Bird Count");
    assert_int_equal(f.n_items, 1);
    assert_string_equal(f.items[0].id, "https://birds.example/c/1"); /* rdf:about */
    assert_string_equal(f.items[0].link, "https://birds.example/c/1?from=rss");
    assert_string_equal(f.items[0].summary, "Grey heron at the north pond.");
    assert_string_equal(f.items[0].author, "Ana");
    assert_int_equal(f.items[0].published_ms, 1710460800000);
    feed_release(&f);
}

/* An RSS document of one item made of `inner`. */
static int parse_item(const char *inner, struct feed *f, char msg[160])
{
    char *doc;
    assert_true(asprintf(&doc,
                         "<rss version=\"2.0\"><channel><title>T</title>"
                         "<link>https://x.example/</link><item>%s</item></channel></rss>",
                         inner) > 0);
    int rc = feed_parse(doc, strlen(doc), f, msg);
    free(doc);
    return rc;
}

static const struct feed_item *one_item(const char *inner, struct feed *f)
{
    char msg[160];
    int rc = parse_item(inner, f, msg);
    if (rc)
        fail_msg("%s: %s", inner, msg);
    assert_int_equal(f->n_items, 1);
    return &f->items[0];
}

/* Parses the one item made of `inner` and checks its id (`id`, NULL: not checked; when hashed, `id`
 * is the prefix of a hash in 64 hex digits) and its link (NULL: none). */
static void expect_item(const char *inner, const char *id, bool hashed, const char *link)
{
    struct feed f;
    const struct feed_item *it = one_item(inner, &f);
    if (id && hashed)
        assert_true(!strncmp(it->id, id, strlen(id)) && strlen(it->id) == strlen(id) + 64);
    else if (id)
        assert_string_equal(it->id, id);
    if (link)
        assert_string_equal(it->link, link);
    else
        assert_null(it->link);
    feed_release(&f);
}

static void ids(void **state)
{
    (void)state;
    static const struct {
        const char *inner, *id;
        bool hashed;
        const char *link;
    } cases[] = {
        /* the link, not the guid */
        {"<guid> g-1 </guid><link>https://x.example/a</link><title>t</title>", "g-1", false,
         "https://x.example/a"},
        {"<link>https://x.example/a</link><title>t</title>", "https://x.example/a", false,
         "https://x.example/a"},
        {"<title>t</title>", "t\n", false, NULL},
        {"<description>just words</description>", "summary:", true, NULL},
        {"<guid isPermaLink=\"false\">not-a-link</guid><title>t</title>", "not-a-link", false,
         NULL},
        /* a permalink guid that is not http(s) is no link */
        {"<guid>javascript:alert(1)</guid><title>t</title>", "javascript:alert(1)", false, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_item(cases[i].inner, cases[i].id, cases[i].hashed, cases[i].link);
    /* a long guid becomes its hash */
    char inner[2200] = "<title>t</title><guid>";
    memset(inner + strlen(inner), 'g', 1500);
    strcpy(inner + strlen(inner) - 0, "</guid>");
    struct feed f;
    const struct feed_item *it = one_item(inner, &f);
    assert_true(!strncmp(it->id, "blake2b:", 8) && strlen(it->id) == 8 + 64);
    feed_release(&f);
}

static void html_summaries(void **state)
{
    (void)state;
    struct feed f;
    const struct feed_item *it;
    it = one_item("<title>t</title><description>&lt;div&gt;&lt;script&gt;document.cookie"
                  "&lt;/script&gt;Caf&amp;eacute; &amp;amp; cr&amp;#xE8;me &amp;lt;b&amp;gt;"
                  "&lt;img src=x onerror=alert(1)&gt;&lt;/div&gt;&lt;!-- hidden --&gt;"
                  "&lt;noscript&gt;n&lt;/noscript&gt;&lt;iframe src=\"//evil\"&gt;i&lt;/iframe&gt;"
                  "</description>",
                  &f);
    assert_string_equal(it->summary, "Caf\xC3\xA9 & cr\xC3\xA8me <b>");
    feed_release(&f);
    /* unclosed tags, stray brackets */
    it = one_item("<title>t</title><description><![CDATA[a < b and <p>c <b>d]]></description>", &f);
    assert_non_null(it->summary);
    assert_null(strstr(it->summary, "<p>"));
    assert_non_null(strstr(it->summary, "c d"));
    feed_release(&f);
    /* long text is cut at 1000 characters with an ellipsis, on a character boundary */
    char inner[8000] = "<title>t</title><description>";
    for (int i = 0; i < 1200; i++)
        strcat(inner, "\xC3\xA9"); /* é */
    strcat(inner, "</description>");
    it = one_item(inner, &f);
    assert_int_equal(utf8_length(it->summary), FEED_SUMMARY_MAX);
    assert_string_equal(it->summary + strlen(it->summary) - 3, "\xE2\x80\xA6");
    feed_release(&f);
    /* control and bidi characters do not survive; blanks collapse */
    it = one_item("<title>a&#9;&#10;b&#x202E;c&#x85;d</title>", &f);
    assert_string_equal(it->title, "a bc d");
    feed_release(&f);
}

static int64_t published(const char *date)
{
    struct feed f;
    char inner[512], msg[160];
    snprintf(inner, sizeof inner, "<title>t</title><pubDate>%s</pubDate>", date);
    assert_int_equal(parse_item(inner, &f, msg), 0);
    int64_t ms = f.items[0].published_ms;
    feed_release(&f);
    return ms;
}

static void dates(void **state)
{
    (void)state;
    const int64_t at = 1715073300000; /* 2024-05-07T09:15:00Z */
    assert_int_equal(published("Tue, 07 May 2024 09:15:00 GMT"), at);
    assert_int_equal(published("Tue, 07 May 2024 09:15:00 +0000"), at);
    assert_int_equal(published("Tue, 07 May 2024 11:15:00 +0200"), at);
    assert_int_equal(published("Tue, 07 May 2024 11:15:00 +02:00"), at);
    assert_int_equal(published("Tue, 07 May 2024 02:15:00 PDT"), at);
    assert_int_equal(published("Tue, 07 May 2024 04:15:00 EST"), at);
    assert_int_equal(published("7 May 2024 09:15 UT"), at);
    assert_int_equal(published("Tuesday, 07-May-24 09:15:00 UTC"), at);
    assert_int_equal(published("Tue, 07 May 2024 09:15:00"), at); /* no zone: UTC */
    assert_int_equal(published("  Tue,  7 may 2024 09:15:00 gmt "), at);
    assert_int_equal(published("2024-05-07T09:15:00Z"), at);
    assert_int_equal(published("2024-05-07t09:15:00z"), at);
    assert_int_equal(published("2024-05-07T14:45:00+05:30"), at);
    assert_int_equal(published("2024-05-07T09:15Z"), at);
    assert_int_equal(published("2024-05-07 09:15:00"), at);
    assert_int_equal(published("2024-05-07T09:15:00.123456Z"), at + 123);
    assert_int_equal(published("29 Feb 2024 00:00:00 GMT"), 1709164800000);
    static const char *const bad[] = {
        "",
        "yesterday",
        "32 May 2024 10:00 GMT",
        "Tue, 07 May 2024 25:00:00 GMT",
        "Tue, 07 Foo 2024 09:15:00 GMT",
        "29 Feb 2023 00:00:00 GMT",
        "2024-02-30T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:00:00Z",
        "Tue, 07 May 2024 09:15:00 XYZ",
        "2024-05-07T09:15:00+99:00",
        "2024-05-07T09:15:00Z trailing",
        "10000-01-01T00:00:00Z",
        "Tue, 07 May 999 09:15:00 GMT",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (published(bad[i]))
            fail_msg("'%s' was read as a date", bad[i]);
}

static bool feed_contains(const struct feed *f, const char *needle)
{
    if ((f->title && strstr(f->title, needle)) || (f->link && strstr(f->link, needle)))
        return true;
    for (size_t i = 0; i < f->n_items; i++) {
        const struct feed_item *it = &f->items[i];
        const char *s[] = {it->id, it->title, it->link, it->summary, it->author};
        for (size_t k = 0; k < 5; k++)
            if (s[k] && strstr(s[k], needle))
                return true;
    }
    return false;
}

/* Billion laughs: entities are never expanded (libxml2 may also refuse the document). */
static void entity_expansion(void **state)
{
    (void)state;
    char doc[4096] = "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY lol0 \"lol\">\n";
    for (int i = 1; i < 10; i++) {
        char line[256];
        snprintf(line, sizeof line, "<!ENTITY lol%d \"", i);
        strcat(doc, line);
        for (int k = 0; k < 10; k++) {
            snprintf(line, sizeof line, "&lol%d;", i - 1);
            strcat(doc, line);
        }
        strcat(doc, "\">\n");
    }
    strcat(doc, "]>\n<rss version=\"2.0\"><channel><title>&lol9;</title><item><title>a&lol9;b"
                "</title><description>&lol9;</description><guid>g&lol9;</guid></item>"
                "</channel></rss>");
    struct feed f;
    char msg[160] = "";
    int64_t start = time_mono_ms();
    int rc = feed_parse(doc, strlen(doc), &f, msg);
    assert_true(time_mono_ms() - start < 2000);
    if (rc) {
        assert_int_equal(rc, CARD_ERR_INVALID);
        assert_true(msg[0] != '\0');
    } else {
        assert_false(feed_contains(&f, "lol"));
        feed_release(&f);
    }
    /* an internal entity is left out, not expanded */
    static const char small[] = "<!DOCTYPE rss [<!ENTITY co \"Harbour Co\">]><rss><channel>"
                                "<item><title>by &co; today</title></item></channel></rss>";
    assert_int_equal(feed_parse(small, strlen(small), &f, msg), 0);
    assert_string_equal(f.items[0].title, "by today");
    feed_release(&f);
}

/* XXE: external entities, external parameter entities and external DTDs are never loaded. */
static void external_entities(void **state)
{
    (void)state;
    char path[] = "/tmp/rss_test_secret_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char secret[] = "TOP-SECRET-7f3a";
    assert_int_equal(write(fd, secret, strlen(secret)), (ssize_t)strlen(secret));
    close(fd);
    char dtd[] = "/tmp/rss_test_dtd_XXXXXX";
    fd = mkstemp(dtd);
    assert_true(fd >= 0);
    char text[512];
    snprintf(text, sizeof text, "<!ENTITY leak SYSTEM \"file://%s\">", path);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    const char *docs[] = {
        "<!DOCTYPE rss [<!ENTITY x SYSTEM \"file://@F@\">]><rss><channel><title>t&x;</title>"
        "<item><title>a &x; b</title><description>&x;</description><guid>&x;</guid></item>"
        "</channel></rss>",
        "<!DOCTYPE rss [<!ENTITY % p SYSTEM \"file://@F@\"> %p;]><rss><channel><item>"
        "<title>t</title></item></channel></rss>",
        "<!DOCTYPE rss SYSTEM \"file://@F@\"><rss><channel><item><title>t&leak;</title>"
        "</item></channel></rss>",
        "<!DOCTYPE rss [<!ENTITY x SYSTEM \"http://169.254.169.254/@F@\">]><rss><channel><item>"
        "<title>&x;</title></item></channel></rss>",
        "<?xml-stylesheet href=\"file://@F@\"?><rss><channel><item><title>t</title></item>"
        "</channel></rss>",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char doc[1024];
        const char *at = strstr(docs[i], "@F@");
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - docs[i]), docs[i], i == 2 ? dtd : path,
                 at + 3);
        struct feed f;
        char msg[160] = "";
        int rc = feed_parse(doc, strlen(doc), &f, msg);
        assert_null(strstr(msg, secret));
        if (!rc) {
            assert_false(feed_contains(&f, secret));
            feed_release(&f);
        }
    }
    unlink(path);
    unlink(dtd);
}

static void refused_documents(void **state)
{
    (void)state;
    struct feed f;
    char msg[160];
    static const struct {
        const char *doc;
        int rc;
        const char *says;
    } cases[] = {
        {"", CARD_ERR_EMPTY, "empty"},
        {"<rss><channel><title>t</channel></rss>", CARD_ERR_INVALID, "not well-formed XML"},
        {"not xml at all", CARD_ERR_INVALID, "line 1"},
        {"<rss><channel></channel></rss><rss/>", CARD_ERR_INVALID, "not well-formed"},
        {"<rss><channel><title>&undefined;</title></channel></rss>", CARD_ERR_INVALID,
         "not well-formed"},
        {"<html><body><p>hello</p></body></html>", CARD_ERR_INVALID,
         "not an RSS or Atom feed (the document is <html>)"},
        {"<feed><title>no namespace</title></feed>", CARD_ERR_INVALID, "not an RSS or Atom"},
        {"<rss version=\"2.0\"><item><title>t</title></item></rss>", CARD_ERR_INVALID,
         "no <channel>"},
        {"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><channel><title>\xC3\x28</title>"
         "</channel></rss>",
         CARD_ERR_INVALID, "not well-formed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg[0] = '\0';
        int rc = feed_parse(cases[i].doc, strlen(cases[i].doc), &f, msg);
        if (rc != cases[i].rc || !strstr(msg, cases[i].says))
            fail_msg("'%s': %d '%s'", cases[i].doc, rc, msg);
        assert_null(f.items);
        assert_null(f.title);
    }
    assert_int_equal(feed_parse(NULL, 0, &f, msg), CARD_ERR_EMPTY);
    /* over the size cap: refused before parsing */
    assert_int_equal(feed_parse("<rss/>", FEED_PARSE_MAX_BYTES + 1, &f, msg), CARD_ERR_LIMIT);

    /* deeper than libxml2's limit (256) */
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_printf(&b, "<rss><channel><item><title>t</title><description>");
    for (int i = 0; i < 3000; i++)
        buf_printf(&b, "<a>");
    for (int i = 0; i < 3000; i++)
        buf_printf(&b, "</a>");
    buf_printf(&b, "</description></item></channel></rss>");
    assert_int_equal(feed_parse(b.data, b.len, &f, msg), CARD_ERR_INVALID);
    buf_release(&b);

    /* deep HTML inside a description is text to the XML parser: walked without recursion */
    buf_init(&b, SIZE_MAX / 2);
    buf_printf(&b, "<rss><channel><item><title>t</title><description>");
    for (int i = 0; i < 20000; i++)
        buf_printf(&b, "&lt;div&gt;");
    buf_printf(&b, "deep</description></item></channel></rss>");
    assert_int_equal(feed_parse(b.data, b.len, &f, msg), 0);
    feed_release(&f);
    buf_release(&b);
}

/* RSS 0.91 with Netscape's DTD (not loaded): its HTML entities are the characters they name. */
static void legacy_rss091(void **state)
{
    (void)state;
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
        "<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\"\n"
        "  \"http://my.netscape.com/publish/formats/rss-0.91.dtd\">\n"
        "<rss version=\"0.91\"><channel><title>Old &amp; gold</title>"
        "<link>http://old.example/</link>"
        "<item><title>Caf&eacute; &#8220;Anker&#8221; "
        "opens</title><link>http://old.example/1</link>"
        "<description>Nice&nbsp;place &mdash; &unknownentity;see you</description></item>"
        "</channel></rss>";
    struct feed f;
    parse_ok(doc, &f);
    assert_string_equal(f.title, "Old & gold");
    assert_string_equal(f.items[0].title, "Caf\xC3\xA9 \xE2\x80\x9C"
                                          "Anker\xE2\x80\x9D opens");
    assert_string_equal(f.items[0].summary, "Nice place \xE2\x80\x94 see you");
    feed_release(&f);
}

static void encodings_and_caps(void **state)
{
    (void)state;
    struct feed f;
    static const char latin1[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel>"
                                 "<item><title>Caf\xE9</title></item></channel></rss>";
    parse_ok(latin1, &f);
    assert_string_equal(f.items[0].title, "Caf\xC3\xA9");
    feed_release(&f);

    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_printf(&b, "<rss><channel>");
    for (int i = 0; i < 250; i++)
        buf_printf(&b, "<item><guid>g%d</guid><title>t</title></item>", i);
    buf_printf(&b, "</channel></rss>");
    char msg[160];
    assert_int_equal(feed_parse(b.data, b.len, &f, msg), 0);
    assert_int_equal(f.n_items, FEED_PARSE_MAX_ITEMS);
    assert_string_equal(f.items[199].id, "g199");
    feed_release(&f);
    buf_release(&b);

    /* links: only http(s), percent-encoded where needed, relative ones resolved */
    static const char *const links[][2] = {
        {"javascript:alert(1)", NULL},
        {"data:text/html,x", NULL},
        {"HTTPS://x.example/a b/\xC3\xA9\"&lt;", "HTTPS://x.example/a%20b/%C3%A9%22%3C"},
        {"//cdn.example/p", "https://cdn.example/p"},
        {"http:///nohost", NULL},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        char inner[256];
        snprintf(inner, sizeof inner, "<title>t</title><link>%s</link>", links[i][0]);
        expect_item(inner, NULL, false, links[i][1]);
    }
}

/* Whether the card's content (JSON text) holds `text` as connector_md_escape writes it. */
static bool has_escaped(const char *json, const char *text)
{
    char *md = connector_md_escape(text);
    json_t *j = json_string(md);
    char *quoted = json_dumps(j, JSON_ENCODE_ANY);
    quoted[strlen(quoted) - 1] = '\0';
    bool found = strstr(json, quoted + 1) != NULL;
    free(quoted);
    json_decref(j);
    free(md);
    return found;
}

/* The card's content (what is rendered as markdown), as JSON text. */
static char *card_text(const struct connector_result *r)
{
    return json_dumps(json_object_get(r->card.json, "content"), JSON_COMPACT);
}

static void item_card(void **state)
{
    (void)state;
    struct feed f;
    parse_ok(rss2, &f);
    struct connector_result r;
    char msg[160];
    assert_int_equal(feed_item_card(&f, &f.items[0], &card_default_limits, &r, msg), 0);
    assert_int_equal(r.outcome, CONNECTOR_POST);
    json_t *env = json_object_get(r.card.json, "envelope");
    assert_string_equal(json_string_value(json_object_get(env, "dialect")), "rss");
    assert_string_equal(json_string_value(json_object_get(env, "summary")),
                        "Crane 4 back in service");
    char *json = card_text(&r);
    assert_non_null(strstr(json, "[Crane 4 back in service](https://harbour.example/log/crane-4)"));
    assert_true(has_escaped(json, "Harbour Works Log"));
    assert_true(has_escaped(json, "Ines Moreau"));
    assert_true(has_escaped(json, "2024-05-07 07:15 UTC"));
    assert_true(has_escaped(json, "The crane is fixed & tested. Load limits apply."));
    assert_non_null(strstr(json, "\"Action.OpenUrl\""));
    free(json);
    char *text = cards_render_text(r.card.json);
    assert_non_null(strstr(text, "Crane 4 back in service"));
    free(text);
    card_release(&r.card);

    /* an item without a title is named by its summary; without a link its title is plain */
    assert_int_equal(feed_item_card(&f, &f.items[3], &card_default_limits, &r, msg), 0);
    json = card_text(&r);
    assert_non_null(strstr(json, "Only content here"));
    free(json);
    card_release(&r.card);
    assert_int_equal(feed_item_card(NULL, &f.items[2], &card_default_limits, &r, msg), 0);
    json = card_text(&r);
    assert_non_null(strstr(json, "Quay closed"));
    assert_null(strstr(json, "OpenUrl"));
    free(json);
    card_release(&r.card);
    feed_release(&f);

    /* markdown in feed text is shown as written, never as markup or links */
    const struct feed_item *it =
        one_item("<title>*bold* [x](javascript:alert(1)) &lt;b&gt;</title>"
                 "<link>https://x.example/a(b)</link>"
                 "<description>_em_ [y](https://evil.example) `code`</description>",
                 &f);
    assert_int_equal(feed_item_card(&f, it, &card_default_limits, &r, msg), 0);
    json = card_text(&r);
    assert_null(strstr(json, "[x](javascript"));
    assert_null(strstr(json, "[y](https://evil"));
    assert_true(has_escaped(json, "*bold* [x](javascript:alert(1)) <b>"));
    assert_true(has_escaped(json, "_em_ [y](https://evil.example) `code`"));
    assert_non_null(strstr(json, "(https://x.example/a%28b%29)"));
    free(json);
    card_release(&r.card);
    feed_release(&f);
}

static void connector_type(void **state)
{
    (void)state;
    const struct connector_type *t = ct_type("rss");
    assert_non_null(t);
    assert_int_equal(t->kind, CONNECTOR_PULLED);
    assert_non_null(t->setup);
    assert_null(strstr(t->setup, "{url}"));
    json_t *s = ct_settings("rss", "{\"url\": \"https://harbour.example/log/feed.xml\"}");
    assert_int_equal(json_integer_value(json_object_get(s, "interval")), 15);
    json_decref(s);
    static const char *const bad[] = {
        "{}",
        "{\"url\": \"ftp://x.example/feed\"}",
        "{\"url\": \"\"}",
        "{\"url\": \"https://x.example/\", \"interval\": 4}",
        "{\"url\": \"https://x.example/\", \"interval\": 1441}",
        "{\"url\": \"https://x.example/\", \"interval\": \"15\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ct_settings_refused("rss", bad[i]);
    /* nothing is posted to a feed */
    struct connector_result r;
    char msg[160];
    assert_int_equal(ct_translate("rss", NULL, NULL, "{\"url\": \"https://x.example/\"}", &r, msg),
                     0);
    assert_int_equal(r.outcome, CONNECTOR_IGNORED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rss2_sample),        cmocka_unit_test(atom_sample),
        cmocka_unit_test(rdf_sample),         cmocka_unit_test(ids),
        cmocka_unit_test(html_summaries),     cmocka_unit_test(dates),
        cmocka_unit_test(entity_expansion),   cmocka_unit_test(external_entities),
        cmocka_unit_test(refused_documents),  cmocka_unit_test(legacy_rss091),
        cmocka_unit_test(encodings_and_caps), cmocka_unit_test(item_card),
        cmocka_unit_test(connector_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
