/* rss.c: the RSS/Atom feed connector: its settings, the feed parser (RSS 2.0 and 0.9x, RSS 1.0
 * and 0.90 (RDF), Atom 1.0 and 0.3) and the card of one item. Pure: the server fetches the feed
 * (egress/) and the poller (core/feeds.c) decides what is new; this file only reads bytes.
 *
 * Feeds are untrusted XML: libxml2 reads them without network access, without loading a DTD
 * and without substituting entities (an entity reference stays a node that is never expanded
 * here: no XXE, no billion laughs), within libxml2's default size and depth limits. Every
 * string that comes out is valid UTF-8 with blanks collapsed and control characters dropped;
 * HTML (RSS descriptions, Atom type="html") is reduced to its text with libxml2's HTML parser. */
#include "connectors.h"

#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_RSS10 "http://purl.org/rss/1.0/"
#define NS_RSS090 "http://my.netscape.com/rdf/simple/0.9/"
#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_ATOM03 "http://purl.org/atom/ns#"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"

#define TITLE_MAX_CHARS 300
#define AUTHOR_MAX_CHARS 200
#define LINK_MAX_BYTES 2048
#define RAW_SHORT (16 * 1024) /* bytes of source text read for a title, link, id, date */
#define RAW_LONG (256 * 1024) /* bytes of source text read for a summary */

/* ---- the connector type ---- */

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false, NULL, NULL, NULL, 0, 128},
    {"image", "Image", "image", false, false, NULL, NULL, NULL, 0, 0},
    {"url", "Feed URL", "url", true, false, "an RSS or Atom feed", NULL, NULL, 0, 2048},
    {"interval", "Check every (minutes)", "number", false, false, NULL, NULL, "15", 5, 1440},
};

/* Pulled: nothing is ever posted to a feed connector. */
static int translate(const struct connector_request *req, struct connector_result *out,
                     char msg[160])
{
    (void)req;
    (void)msg;
    return connector_ignore(out, "feeds are fetched by the server; nothing is posted to them");
}

const struct connector_type connector_rss;
const struct connector_type connector_rss = {
    .id = "rss",
    .name = "RSS/Atom feed",
    .description = "New items of an RSS or Atom feed in this channel.",
    .icon = "rss",
    .kind = CONNECTOR_PULLED,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .setup = "There is nothing to paste anywhere: the server fetches the feed itself at the "
             "interval you chose and posts each new item to this channel as a card. Feeds on "
             "private or local networks are refused unless the server's administrator allowed "
             "their addresses.",
    .translate = translate,
};

/* ---- text ---- */

/* Decodes one UTF-8 character at s (n bytes left): its code point and length, or U+FFFD and 1
 * for an invalid sequence (overlong, surrogate, past U+10FFFF, cut). */
static unsigned utf8_next(const unsigned char *s, size_t n, size_t *len)
{
    unsigned c = s[0];
    size_t need = c < 0x80                ? 1
                  : c >= 0xC2 && c < 0xE0 ? 2
                  : c >= 0xE0 && c < 0xF0 ? 3
                  : c >= 0xF0 && c < 0xF5 ? 4
                                          : 0;
    *len = 1;
    if (need == 1)
        return c;
    if (!need || n < need)
        return 0xFFFD;
    unsigned cp = c & (0xFF >> (need + 1));
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFD;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0xFFFD;
    *len = need;
    return cp;
}

static void utf8_put(struct buf *b, unsigned cp)
{
    char s[4];
    size_t n;
    if (cp < 0x80) {
        s[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        s[0] = (char)(0xC0 | cp >> 6);
        s[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        s[0] = (char)(0xE0 | cp >> 12);
        s[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        s[0] = (char)(0xF0 | cp >> 18);
        s[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        s[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        s[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_append(b, s, n);
}

static bool is_blank_cp(unsigned cp)
{
    return cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

/* Bidirectional embeddings, overrides and isolates: dropped, they could make a title read
 * differently from what it is. */
static bool is_bidi_control(unsigned cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* s (n bytes) as one clean line: valid UTF-8 (U+FFFD for what is not), every run of blanks and
 * control characters one space, trimmed, at most max_chars characters (an ellipsis ends a cut
 * one). NULL when nothing is left; caller frees. */
static char *clean_line(const char *s, size_t n, size_t max_chars)
{
    if (!s)
        return NULL;
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t chars = 0, last = 0; /* characters written; where the last one starts */
    bool space = false;
    while (p < end) {
        size_t len;
        unsigned cp = utf8_next(p, (size_t)(end - p), &len);
        p += len;
        if (is_blank_cp(cp)) {
            space = chars > 0;
            continue;
        }
        if (is_bidi_control(cp))
            continue;
        if (chars + (space ? 1 : 0) + 1 > max_chars) {
            /* room for the ellipsis: the last character goes, and a blank before it */
            b.len = chars >= max_chars ? last : b.len;
            while (b.len && b.data[b.len - 1] == ' ')
                b.len--;
            b.data[b.len] = '\0';
            buf_append(&b, "\xE2\x80\xA6", 3); /* … */
            break;
        }
        if (space) {
            buf_append(&b, " ", 1);
            chars++;
            space = false;
        }
        last = b.len;
        utf8_put(&b, cp);
        chars++;
    }
    if (!b.len) {
        buf_release(&b);
        return NULL;
    }
    return b.data;
}

static char *clean(const char *s, size_t max_chars)
{
    return s ? clean_line(s, strlen(s), max_chars) : NULL;
}

/* Appends at most what still fits under b's cap, cut before a UTF-8 character the cap would
 * split. False once b is full. */
static bool append_capped(struct buf *b, const char *s, size_t n)
{
    size_t room = b->cap - b->len;
    bool fits = n <= room;
    if (!fits) {
        n = room;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    buf_append(b, s, n);
    return fits;
}

static bool is_named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcasecmp((const char *)n->name, name);
}

/* Elements whose content is not text a reader sees. */
static bool is_hidden_element(const xmlNode *n)
{
    static const char *const hidden[] = {"script", "style",  "noscript", "template", "head",
                                         "iframe", "object", "svg",      "math",     "title"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        if (is_named(n, hidden[i]))
            return true;
    return false;
}

/* Elements that end a line or a block of text (a blank separates their text from the next). */
static bool is_block_element(const xmlNode *n)
{
    static const char *const blocks[] = {
        "p",      "br",     "div",    "li",         "ul",    "ol",  "dl",      "dt",
        "dd",     "h1",     "h2",     "h3",         "h4",    "h5",  "h6",      "tr",
        "td",     "th",     "table",  "blockquote", "pre",   "hr",  "section", "article",
        "header", "footer", "figure", "figcaption", "aside", "nav", "address", "img"};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        if (is_named(n, blocks[i]))
            return true;
    return false;
}

/* An entity reference: never expanded. But one the document does not declare that is an
 * HTML entity (&eacute; in an RSS 0.91 feed whose DTD is not loaded) is that one character.
 * False once b is full. */
static bool entity_char(const xmlNode *ref, struct buf *b)
{
    if (!ref->name || (ref->doc && xmlGetDocEntity(ref->doc, ref->name)))
        return true;
    const htmlEntityDesc *e = htmlEntityLookup(ref->name);
    if (!e)
        return true;
    struct buf one;
    buf_init(&one, 8);
    utf8_put(&one, e->value);
    bool fits = append_capped(b, one.data, one.len);
    buf_release(&one);
    return fits;
}

/* The text of `el`'s descendants in document order, at most `cap` bytes (caller frees; ""
 * when none). Text and CDATA only: entity references are never followed (entity_char). With
 * `markup`, the content is HTML/XHTML: hidden elements are skipped and block elements are separated
 * by a blank. Iterative: the tree may be deep. */
static char *subtree_text(const xmlNode *el, size_t cap, bool markup)
{
    struct buf b;
    buf_init(&b, cap);
    buf_append(&b, "", 0);
    const xmlNode *cur = el->children;
    while (cur) {
        bool descend = false;
        if (cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE) {
            if (cur->content &&
                !append_capped(&b, (const char *)cur->content, strlen((const char *)cur->content)))
                break;
        } else if (cur->type == XML_ENTITY_REF_NODE) {
            if (!entity_char(cur, &b))
                break;
        } else if (cur->type == XML_ELEMENT_NODE && !(markup && is_hidden_element(cur))) {
            if (markup && b.len && is_block_element(cur) && !append_capped(&b, " ", 1))
                break;
            descend = cur->children != NULL;
        }
        if (descend) {
            cur = cur->children;
            continue;
        }
        while (cur && cur != el && !cur->next) {
            cur = cur->parent;
            if (markup && cur && cur != el && is_block_element(cur) && !append_capped(&b, " ", 1))
                cur = NULL;
        }
        cur = cur && cur != el ? cur->next : NULL;
    }
    return b.data;
}

/* HTML to its visible text: tags dropped, entities decoded, scripts and styles left out. */
static char *html_text(const char *html, size_t cap)
{
    size_t n = strlen(html);
    if (!n)
        return xstrdup("");
    htmlDocPtr doc = htmlReadMemory(html, (int)n, NULL, "UTF-8",
                                    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                        HTML_PARSE_NOIMPLIED);
    if (!doc)
        return xstrdup("");
    char *text = subtree_text((const xmlNode *)doc, cap, true);
    xmlFreeDoc(doc);
    return text;
}

/* ---- XML helpers ---- */

static bool ns_is(const xmlNode *n, const char *ns)
{
    if (!ns)
        return !n->ns || !n->ns->href;
    return n->ns && n->ns->href && !strcmp((const char *)n->ns->href, ns);
}

static bool is_el(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name) && ns_is(n, ns);
}

/* An element of RSS itself: no namespace (2.0, 0.9x) or RSS 1.0's or 0.90's. */
static bool is_rss(const xmlNode *n, const char *name)
{
    return is_el(n, NULL, name) || is_el(n, NS_RSS10, name) || is_el(n, NS_RSS090, name);
}

static bool is_atom(const xmlNode *n, const char *name)
{
    return is_el(n, NS_ATOM, name) || is_el(n, NS_ATOM03, name);
}

/* An attribute's value (text only, entity references not followed), or NULL; caller frees. */
static char *attr(const xmlNode *n, const char *ns, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (strcmp((const char *)a->name, name))
            continue;
        if (ns ? !a->ns || !a->ns->href || strcmp((const char *)a->ns->href, ns) : a->ns != NULL)
            continue;
        return subtree_text((const xmlNode *)a, RAW_SHORT, false);
    }
    return NULL;
}

/* ---- dates ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* ms since the epoch of a broken-down UTC+offset time, or 0 when a field is out of range or
 * the time is not after 1970. */
static int64_t to_ms(int y, int mo, int d, int h, int mi, int s, int ms, int offset_min)
{
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 60 || offset_min < -24 * 60 || offset_min > 24 * 60)
        return 0;
    if (s == 60)
        s = 59; /* a leap second */
    int64_t t = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s;
    t = t * 1000 + ms - (int64_t)offset_min * 60000;
    return t > 0 ? t : 0;
}

/* Reads 1..max digits; -1 when none. */
static int digits(const char **p, int min, int max)
{
    int v = 0, n = 0;
    while (n < max && isdigit((unsigned char)**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n >= min ? v : -1;
}

static void skip_blanks(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
        (*p)++;
}

/* A numeric offset "+hh:mm", "+hhmm", "+hh" into minutes; false when it is none. */
static bool numeric_offset(const char **p, int *minutes)
{
    if (**p != '+' && **p != '-')
        return false;
    int sign = **p == '-' ? -1 : 1;
    (*p)++;
    int h = digits(p, 2, 2);
    if (h < 0)
        return false;
    if (**p == ':')
        (*p)++;
    int m = isdigit((unsigned char)**p) ? digits(p, 2, 2) : 0;
    if (m < 0 || m > 59)
        return false;
    *minutes = sign * (h * 60 + m);
    return true;
}

/* A time of day at *p, "HH:MM" or "HH:MM:SS", into h, mi and sec (0 when absent); *p moves past
 * it. 1 when it has seconds, 0 when not, -1 when it is not a time of day. */
static int time_of_day(const char **p, int *h, int *mi, int *sec)
{
    *sec = 0;
    *h = digits(p, 2, 2);
    if (*h < 0 || *(*p)++ != ':')
        return -1;
    *mi = digits(p, 2, 2);
    if (*mi < 0)
        return -1;
    if (**p != ':')
        return 0;
    (*p)++;
    *sec = digits(p, 2, 2);
    return *sec < 0 ? -1 : 1;
}

/* RFC 3339 / ISO 8601 as feeds use it: "2024-05-01T12:30:00Z", "...T12:30:00.250+02:00",
 * "...T12:30Z", a blank for the T, or a date alone (midnight UTC). */
static int64_t parse_rfc3339(const char *s)
{
    const char *p = s;
    skip_blanks(&p);
    int y = digits(&p, 4, 4);
    if (y < 0 || *p++ != '-')
        return 0;
    int mo = digits(&p, 2, 2);
    if (mo < 0 || *p++ != '-')
        return 0;
    int d = digits(&p, 2, 2);
    if (d < 0)
        return 0;
    int h = 0, mi = 0, sec = 0, ms = 0, off = 0;
    if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
        p++;
        int has_seconds = time_of_day(&p, &h, &mi, &sec);
        if (has_seconds < 0)
            return 0;
        if (has_seconds && (*p == '.' || *p == ',')) {
            p++;
            int scale = 100, n = 0;
            while (isdigit((unsigned char)*p)) {
                ms += n++ < 3 ? (*p - '0') * scale : 0;
                scale /= 10;
                p++;
            }
            if (!n)
                return 0;
        }
        if (*p == 'Z' || *p == 'z')
            p++;
        else if ((*p == '+' || *p == '-') && !numeric_offset(&p, &off))
            return 0;
    }
    skip_blanks(&p);
    return *p ? 0 : to_ms(y, mo, d, h, mi, sec, ms, off);
}

/* RFC 822/1123 as RSS uses it, leniently: "Wed, 01 May 2024 12:30:00 +0200", weekday
 * optional, full month names, two-digit years, no seconds, GMT/UT/UTC/Z or a US zone, or no
 * zone (UTC). */
static int64_t parse_rfc822(const char *s)
{
    const char *p = s;
    skip_blanks(&p);
    if (isalpha((unsigned char)*p)) { /* the weekday */
        while (isalpha((unsigned char)*p))
            p++;
        if (*p == ',')
            p++;
        skip_blanks(&p);
    }
    int d = digits(&p, 1, 2);
    if (d < 0)
        return 0;
    skip_blanks(&p);
    if (*p == '-')
        p++;
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char mon[4] = {0};
    for (int i = 0; i < 3 && isalpha((unsigned char)*p); i++)
        mon[i] = (char)tolower((unsigned char)*p++);
    while (isalpha((unsigned char)*p))
        p++;
    const char *found = strlen(mon) == 3 ? strstr(months, mon) : NULL;
    if (!found || (found - months) % 3)
        return 0;
    int mo = (int)(found - months) / 3 + 1;
    skip_blanks(&p);
    if (*p == '-')
        p++;
    const char *ys = p;
    int y = digits(&p, 2, 4);
    if (y < 0 || p - ys == 3)
        return 0;
    if (p - ys == 2)
        y += y < 50 ? 2000 : 1900;
    skip_blanks(&p);
    int h, mi, sec;
    if (time_of_day(&p, &h, &mi, &sec) < 0)
        return 0;
    skip_blanks(&p);
    int off = 0;
    if (*p == '+' || *p == '-') {
        if (!numeric_offset(&p, &off))
            return 0;
    } else if (isalpha((unsigned char)*p)) {
        static const struct {
            const char *name;
            int minutes;
        } zones[] = {{"GMT", 0},       {"UTC", 0},       {"UT", 0},        {"Z", 0},
                     {"EST", -5 * 60}, {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60},
                     {"MST", -7 * 60}, {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60}};
        const char *z = p;
        while (isalpha((unsigned char)*p))
            p++;
        bool known = false;
        for (size_t i = 0; i < sizeof zones / sizeof zones[0] && !known; i++) {
            if ((size_t)(p - z) == strlen(zones[i].name) &&
                !strncasecmp(z, zones[i].name, (size_t)(p - z))) {
                off = zones[i].minutes;
                known = true;
            }
        }
        if (!known)
            return 0;
    }
    skip_blanks(&p);
    return *p ? 0 : to_ms(y, mo, d, h, mi, sec, 0, off);
}

/* Either format: feeds mix them (dc:date in RSS 2.0, RFC 822 in Atom 0.3 exports). */
static int64_t parse_date(const char *s)
{
    if (!s)
        return 0;
    int64_t t = parse_rfc3339(s);
    return t ? t : parse_rfc822(s);
}

/* ---- links ---- */

static bool has_http_scheme(const char *s)
{
    return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

/* A link as the card may show it: raw resolved against base when relative, http(s) only, at
 * most LINK_MAX_BYTES, blanks and characters URLs may not hold percent-encoded. NULL when it is
 * none of these; caller frees. */
static char *make_link(const char *raw, const char *base)
{
    char *text = clean(raw, LINK_MAX_BYTES);
    if (!text)
        return NULL;
    char *abs = NULL;
    const char *colon = strchr(text, ':');
    bool has_scheme = colon && colon > text;
    for (const char *c = text; has_scheme && c < colon; c++)
        has_scheme = isalnum((unsigned char)*c) || *c == '+' || *c == '-' || *c == '.';
    if (has_scheme) {
        abs = text;
        text = NULL;
    } else if (base && has_http_scheme(base)) {
        xmlChar *r = xmlBuildURI((const xmlChar *)text, (const xmlChar *)base);
        if (r) {
            abs = xstrdup((const char *)r);
            xmlFree(r);
        }
    }
    free(text);
    if (!abs || !has_http_scheme(abs)) {
        free(abs);
        return NULL;
    }
    const char *host = abs + (abs[4] == ':' ? 7 : 8);
    struct buf b;
    buf_init(&b, LINK_MAX_BYTES);
    bool ok = *host && *host != '/' && *host != '?' && *host != '#';
    for (const unsigned char *c = (const unsigned char *)abs; ok && *c; c++) {
        if (*c < 0x20 || *c == 0x7F)
            ok = false;
        else if (*c >= 0x80 || strchr(" \"<>\\^`{|}", *c))
            ok = buf_printf(&b, "%%%02X", *c) == 0;
        else
            ok = buf_append(&b, c, 1) == 0;
    }
    free(abs);
    if (!ok || !b.len) {
        buf_release(&b);
        return NULL;
    }
    return b.data;
}

/* ---- items ---- */

/* What one item's elements say, before cleaning (raw strings owned). */
struct item_src {
    char *guid;     /* guid, rdf:about, Atom id */
    bool permalink; /* RSS: the guid is the item's URL (isPermaLink not "false") */
    char *title;
    bool title_html;
    char *link;
    char *summary;
    bool summary_html;
    char *author;
    char *date;
};

static void item_src_release(struct item_src *s)
{
    free(s->guid);
    free(s->title);
    free(s->link);
    free(s->summary);
    free(s->author);
    free(s->date);
}

/* Keeps the first value seen for a field: raw (owned) into *field unless already set. */
static void keep(char **field, char *raw)
{
    if (!*field && raw && *raw) {
        *field = raw;
        return;
    }
    free(raw);
}

static void feed_add_item(struct feed *f, struct item_src *s, const char *base)
{
    struct feed_item it;
    memset(&it, 0, sizeof it);
    char *title = s->title && s->title_html ? html_text(s->title, RAW_SHORT) : NULL;
    it.title = clean(title ? title : s->title, TITLE_MAX_CHARS);
    free(title);
    char *summary = s->summary && s->summary_html ? html_text(s->summary, RAW_LONG) : NULL;
    it.summary = clean(summary ? summary : s->summary, FEED_SUMMARY_MAX);
    free(summary);
    it.link = make_link(s->link, base);
    if (!it.link && s->permalink)
        it.link = make_link(s->guid, base);
    it.author = clean(s->author, AUTHOR_MAX_CHARS);
    it.published_ms = parse_date(s->date);
    char *date = clean(s->date, 64);
    it.id = clean(s->guid, SIZE_MAX);
    if (!it.id && it.link)
        it.id = xstrdup(it.link);
    if (!it.id && it.title) {
        struct buf b;
        buf_init(&b, SIZE_MAX / 2);
        buf_printf(&b, "%s\n%s", it.title, date ? date : "");
        it.id = b.data;
    }
    if (!it.id && it.summary) {
        char hash[65];
        bytes_hash(it.summary, strlen(it.summary), hash);
        it.id = xmalloc(80);
        snprintf(it.id, 80, "summary:%s", hash);
    }
    free(date);
    if (it.id && strlen(it.id) > FEED_ID_MAX) {
        char hash[65];
        bytes_hash(it.id, strlen(it.id), hash);
        free(it.id);
        it.id = xmalloc(80);
        snprintf(it.id, 80, "blake2b:%s", hash);
    }
    if (!it.id || (!it.title && !it.link && !it.summary)) { /* nothing to show */
        free(it.id);
        free(it.title);
        free(it.link);
        free(it.summary);
        free(it.author);
        return;
    }
    f->items = xrealloc(f->items, (f->n_items + 1) * sizeof *f->items);
    f->items[f->n_items++] = it;
}

static char *text_of(const xmlNode *n, size_t cap)
{
    return subtree_text(n, cap, false);
}

/* An Atom text construct (title, summary, content): its raw text and whether it is HTML. */
static char *atom_text(const xmlNode *n, size_t cap, bool *html)
{
    char *type = attr(n, NULL, "type");
    *html = false;
    char *raw;
    if (type && (!strcasecmp(type, "xhtml") || !strcasecmp(type, "application/xhtml+xml"))) {
        raw = subtree_text(n, cap, true);
    } else {
        raw = text_of(n, cap);
        *html = type && (!strcasecmp(type, "html") || !strcasecmp(type, "text/html"));
    }
    free(type);
    return raw;
}

/* The href of an Atom element's alternate link (rel absent or "alternate"; an HTML one
 * preferred), or NULL; caller frees. */
static char *atom_link(const xmlNode *parent)
{
    char *first = NULL;
    for (const xmlNode *n = parent->children; n; n = n->next) {
        if (!is_atom(n, "link"))
            continue;
        char *rel = attr(n, NULL, "rel"), *type = attr(n, NULL, "type");
        char *href = attr(n, NULL, "href");
        bool alternate = !rel || !strcmp(rel, "alternate");
        bool html = !type || !strcasecmp(type, "text/html");
        free(rel);
        free(type);
        if (!alternate || !href || !*href) {
            free(href);
            continue;
        }
        if (html) {
            free(first);
            return href;
        }
        keep(&first, href);
    }
    return first;
}

/* The base a relative link of node n is resolved against: xml:base, else the feed's link. */
static char *base_of(const xmlNode *n, const char *feed_link)
{
    xmlChar *b = xmlNodeGetBase(n->doc, n);
    char *base = NULL;
    if (b && has_http_scheme((const char *)b))
        base = xstrdup((const char *)b);
    else if (b && feed_link) {
        xmlChar *r = xmlBuildURI(b, (const xmlChar *)feed_link);
        if (r && has_http_scheme((const char *)r))
            base = xstrdup((const char *)r);
        xmlFree(r);
    }
    xmlFree(b);
    return base ? base : feed_link ? xstrdup(feed_link) : NULL;
}

static void atom_entry(struct feed *f, const xmlNode *entry, const char *feed_author)
{
    struct item_src s;
    memset(&s, 0, sizeof s);
    char *published = NULL, *updated = NULL;
    for (const xmlNode *n = entry->children; n; n = n->next) {
        bool html;
        if (is_atom(n, "id")) {
            keep(&s.guid, text_of(n, RAW_SHORT));
        } else if (is_atom(n, "title") && !s.title) {
            s.title = atom_text(n, RAW_SHORT, &html);
            s.title_html = html;
        } else if (is_atom(n, "summary") && !s.summary) {
            s.summary = atom_text(n, RAW_LONG, &html);
            s.summary_html = html;
        } else if (is_atom(n, "content") && !s.summary) {
            char *src = attr(n, NULL, "src");
            if (!src) {
                s.summary = atom_text(n, RAW_LONG, &html);
                s.summary_html = html;
            }
            free(src);
        } else if (is_atom(n, "author")) {
            for (const xmlNode *a = n->children; a; a = a->next)
                if (is_atom(a, "name"))
                    keep(&s.author, text_of(a, RAW_SHORT));
        } else if (is_atom(n, "published") || is_atom(n, "issued")) {
            keep(&published, text_of(n, 256));
        } else if (is_atom(n, "updated") || is_atom(n, "modified")) {
            keep(&updated, text_of(n, 256));
        }
    }
    s.date = published ? published : updated;
    free(published ? updated : NULL);
    if (!s.author && feed_author)
        s.author = xstrdup(feed_author);
    s.link = atom_link(entry);
    char *base = base_of(entry, f->link);
    feed_add_item(f, &s, base);
    free(base);
    item_src_release(&s);
}

static void parse_atom(struct feed *f, const xmlNode *root)
{
    char *feed_link = atom_link(root);
    char *base = base_of(root, NULL);
    f->link = make_link(feed_link, base);
    free(feed_link);
    free(base);
    char *author = NULL;
    for (const xmlNode *n = root->children; n; n = n->next) {
        if (is_atom(n, "title") && !f->title) {
            bool html;
            char *raw = atom_text(n, RAW_SHORT, &html);
            char *text = html ? html_text(raw, RAW_SHORT) : NULL;
            f->title = clean(text ? text : raw, TITLE_MAX_CHARS);
            free(text);
            free(raw);
        } else if (is_atom(n, "author")) {
            for (const xmlNode *a = n->children; a; a = a->next)
                if (is_atom(a, "name"))
                    keep(&author, text_of(a, RAW_SHORT));
        }
    }
    for (const xmlNode *n = root->children; n && f->n_items < FEED_PARSE_MAX_ITEMS; n = n->next)
        if (is_atom(n, "entry"))
            atom_entry(f, n, author);
    free(author);
}

/* One RSS item (2.0, 0.9x and 1.0 share the element names). */
static void rss_item(struct feed *f, const xmlNode *item)
{
    struct item_src s;
    memset(&s, 0, sizeof s);
    char *about = attr(item, NS_RDF, "about");
    char *dc_date = NULL, *creator = NULL, *encoded = NULL;
    for (const xmlNode *n = item->children; n; n = n->next) {
        if (is_rss(n, "guid") && !s.guid) {
            s.guid = text_of(n, RAW_SHORT);
            char *perma = attr(n, NULL, "isPermaLink");
            s.permalink = !perma || strcasecmp(perma, "false");
            free(perma);
        } else if (is_rss(n, "title")) {
            keep(&s.title, text_of(n, RAW_SHORT));
        } else if (is_rss(n, "link")) {
            keep(&s.link, text_of(n, RAW_SHORT));
        } else if (is_rss(n, "description")) {
            keep(&s.summary, text_of(n, RAW_LONG));
        } else if (is_el(n, NS_CONTENT, "encoded")) {
            keep(&encoded, text_of(n, RAW_LONG));
        } else if (is_rss(n, "author")) {
            keep(&s.author, text_of(n, RAW_SHORT));
        } else if (is_el(n, NS_DC, "creator")) {
            keep(&creator, text_of(n, RAW_SHORT));
        } else if (is_rss(n, "pubDate")) {
            keep(&s.date, text_of(n, 256));
        } else if (is_el(n, NS_DC, "date")) {
            keep(&dc_date, text_of(n, 256));
        }
    }
    keep(&s.guid, about);
    keep(&s.summary, encoded);
    keep(&s.date, dc_date);
    if (creator) { /* dc:creator is a name; <author> is an e-mail address */
        free(s.author);
        s.author = creator;
    }
    s.title_html = false;
    s.summary_html = true;
    feed_add_item(f, &s, f->link);
    item_src_release(&s);
}

/* RSS's channel fields: title and link. */
static void rss_channel(struct feed *f, const xmlNode *channel)
{
    for (const xmlNode *n = channel->children; n; n = n->next) {
        if (is_rss(n, "title") && !f->title) {
            char *raw = text_of(n, RAW_SHORT);
            f->title = clean(raw, TITLE_MAX_CHARS);
            free(raw);
        } else if (is_rss(n, "link") && !f->link) {
            char *raw = text_of(n, RAW_SHORT);
            f->link = make_link(raw, NULL);
            free(raw);
        }
    }
}

/* RSS 2.0 and 0.9x: <rss><channel> with the items in the channel (or, in some 0.9x feeds,
 * beside it). RSS 1.0 and 0.90: <rdf:RDF> with <channel> and the items beside it. */
static int parse_rss(struct feed *f, const xmlNode *root, char msg[160])
{
    const xmlNode *channel = NULL;
    for (const xmlNode *n = root->children; n && !channel; n = n->next)
        if (is_rss(n, "channel"))
            channel = n;
    if (!channel) {
        snprintf(msg, 160, "the feed has no <channel>");
        return CARD_ERR_INVALID;
    }
    rss_channel(f, channel);
    const xmlNode *parents[] = {channel, root};
    for (size_t k = 0; k < 2; k++)
        for (const xmlNode *n = parents[k]->children; n && f->n_items < FEED_PARSE_MAX_ITEMS;
             n = n->next)
            if (is_rss(n, "item"))
                rss_item(f, n);
    return 0;
}

/* ---- the feed ---- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

/* libxml2's error message as one printable ASCII line. */
static void xml_error_msg(xmlParserCtxtPtr ctxt, char msg[160])
{
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    char what[100] = "";
    size_t n = 0;
    for (const char *c = e && e->message ? e->message : "unknown error"; *c && n < 99; c++)
        what[n++] = (*c >= 0x20 && *c < 0x7F) ? *c : ' ';
    while (n && what[n - 1] == ' ')
        n--;
    what[n] = '\0';
    snprintf(msg, 160, "the feed is not well-formed XML (line %d: %s)", e ? e->line : 0, what);
}

int feed_parse(const char *body, size_t len, struct feed *out, char msg[160])
{
    memset(out, 0, sizeof *out);
    if (!body || !len) {
        snprintf(msg, 160, "the feed is empty");
        return CARD_ERR_EMPTY;
    }
    if (len > FEED_PARSE_MAX_BYTES) {
        snprintf(msg, 160, "the feed is larger than %u MiB", FEED_PARSE_MAX_BYTES / (1024 * 1024));
        return CARD_ERR_LIMIT;
    }
    pthread_once(&xml_once, xml_init);
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        base_bug(__FILE__, __LINE__, "out of memory");
    /* no XML_PARSE_NOENT (entities stay references), no DTDLOAD/DTDATTR/DTDVALID, no HUGE */
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, body, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                          XML_PARSE_NOCDATA);
    int rc = 0;
    if (!doc) {
        xml_error_msg(ctxt, msg);
        rc = CARD_ERR_INVALID;
        goto out;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (root && (is_el(root, NULL, "rss") || is_el(root, NS_RDF, "RDF"))) {
        rc = parse_rss(out, root, msg);
    } else if (root && is_atom(root, "feed")) {
        parse_atom(out, root);
    } else {
        char name[40];
        snprintf(name, sizeof name, "%s", root ? (const char *)root->name : "");
        for (char *c = name; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7F)
                *c = '?';
        snprintf(msg, 160, "not an RSS or Atom feed (the document is <%s>)", name);
        rc = CARD_ERR_INVALID;
    }
out:
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    if (rc)
        feed_release(out);
    return rc;
}

void feed_release(struct feed *f)
{
    for (size_t i = 0; i < f->n_items; i++) {
        struct feed_item *it = &f->items[i];
        free(it->id);
        free(it->title);
        free(it->link);
        free(it->summary);
        free(it->author);
    }
    free(f->items);
    free(f->title);
    free(f->link);
    memset(f, 0, sizeof *f);
}

/* ---- the card ---- */

static void format_date(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, 32, "?");
        return;
    }
    snprintf(out, 32, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min);
}

int feed_item_card(const struct feed *f, const struct feed_item *it, const struct card_limits *lim,
                   struct connector_result *out, char msg[160])
{
    memset(out, 0, sizeof *out);
    char *fallback = NULL;
    const char *title = it->title;
    if (!title && it->summary)
        title = fallback = connector_first_line(it->summary, 80);
    if (!title)
        title = it->link ? it->link : "New item";
    char *summary_line = connector_first_line(title, 160);
    struct buf head;
    buf_init(&head, SIZE_MAX / 2);
    buf_append(&head, "", 0);
    connector_md_link(&head, title, it->link);
    json_t *mc = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@type", "MessageCard", "@context",
                           "https://schema.org/extensions", "themeColor", "F26522", "summary",
                           summary_line, "title", head.data);
    buf_release(&head);
    free(summary_line);
    free(fallback);

    json_t *section = json_object();
    if (it->author) {
        char *t = connector_md_escape(it->author);
        json_object_set_new(section, "activityTitle", json_string(t));
        free(t);
    }
    if (f && f->title) {
        char *t = connector_md_escape(f->title);
        json_object_set_new(section, "activitySubtitle", json_string(t));
        free(t);
    }
    if (it->published_ms > 0) {
        char when[32], *e;
        format_date(it->published_ms, when);
        e = connector_md_escape(when);
        json_object_set_new(section, "activityText", json_string(e));
        free(e);
    }
    if (it->summary) {
        char *t = connector_md_escape(it->summary);
        json_object_set_new(section, "text", json_string(t));
        free(t);
    }
    if (json_object_size(section))
        json_object_set_new(mc, "sections", json_pack("[o]", section));
    else
        json_decref(section);
    if (it->link)
        json_object_set_new(mc, "potentialAction",
                            json_pack("[{s:s, s:s, s:[{s:s, s:s}]}]", "@type", "OpenUri", "name",
                                      "Open", "targets", "os", "default", "uri", it->link));
    return connector_card(&connector_rss, mc, lim, out, msg);
}
