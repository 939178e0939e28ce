/* html_check.h: the allow-list that cards_render_html's output must satisfy, as a small scanner
 * that reads the HTML the way a browser's tokenizer would. Shared by the unit tests
 * (render_html_test.c, html_golden_test.c) and the fuzz target (tests/fuzz/fuzz_card_html.c).
 *
 * html_check() holds when:
 *   - every tag is one of HTML_TAGS, lower case, written <name attr="value" ...> or </name>, and
 *     the tags nest (br, hr and img are void; every other tag is closed, in order);
 *   - every attribute is allowed for its tag (HTML_ATTRS), double-quoted, and none starts "on";
 *   - every href is http:, https: or mailto: (literally, so no entity can hide another scheme);
 *     every src is http: or https:; an <a> has an href, an <img> a src and an alt;
 *   - every style is a list of "property:value;" with the property in HTML_STYLE_PROPS and the
 *     value made of letters, digits, blanks and # % . , - only (no url(), no expression(), no
 *     quotes, no entities): only the renderer's own styles fit;
 *   - fixed attributes have their fixed values (role, cellpadding, width...);
 *   - text and attribute values hold no raw < > " ' and no control character but newline and
 *     tab, and & only in &amp; &lt; &gt; &quot; &#39;.
 * html_visible_text() returns what a reader sees: the text between the tags with the entities
 * decoded and <br> as a newline. Both are test code: plain loops, no caps but memory. */
#ifndef SB_TEST_HTML_CHECK_H
#define SB_TEST_HTML_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTML_TAGS                                                                                  \
    " table tr td th p div span a img br hr strong em del code pre blockquote ul ol li "
#define HTML_VOID " br hr img "
#define HTML_STYLE_PROPS                                                                           \
    " margin padding border border-left border-top border-collapse border-radius color"            \
    " background-color font-family font-size font-weight line-height text-decoration text-align"   \
    " vertical-align white-space display max-width height "

/* Attributes allowed per tag ("*": every tag). */
static const struct {
    const char *tag, *attrs;
} HTML_ATTRS[] = {
    {"*", " style "},           {"a", " href "},
    {"img", " src alt width "}, {"table", " role width cellpadding cellspacing border "},
    {"td", " valign width "},   {"ol", " start "},
};

/* Whether word (n bytes) is one of the blank-separated words of list. */
static inline bool html_in_list(const char *list, const char *word, size_t n)
{
    for (const char *p = list; (p = strstr(p, " ")) && p[1]; p++)
        if (!strncmp(p + 1, word, n) && p[1 + n] == ' ')
            return true;
    return false;
}

static inline bool html_fail(char *why, size_t cap, const char *html, const char *at,
                             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static inline bool html_fail(char *why, size_t cap, const char *html, const char *at,
                             const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(why, cap, "at byte %zu: %s (near \"%.60s\")", (size_t)(at - html), msg, at);
    return false;
}

/* The length of the character reference at s ('&'), or 0 when it is not one of the five. */
static inline size_t html_entity(const char *s)
{
    static const char *const ok[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strncmp(s, ok[i], strlen(ok[i])))
            return strlen(ok[i]);
    return 0;
}

/* Text or an attribute value from s up to stop (exclusive): no raw markup characters. */
static inline bool html_check_chars(const char *html, const char *s, const char *stop, char *why,
                                    size_t cap)
{
    for (const char *p = s; p < stop; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '&') {
            size_t n = html_entity(p);
            if (!n)
                return html_fail(why, cap, html, p, "a bare '&' or an unexpected entity");
            p += n - 1;
        } else if (c == '<' || c == '>' || c == '"' || c == '\'') {
            return html_fail(why, cap, html, p, "a raw '%c'", c);
        } else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
            return html_fail(why, cap, html, p, "control character 0x%02X", c);
        }
    }
    return true;
}

static inline bool html_check_style(const char *html, const char *v, size_t n, char *why,
                                    size_t cap)
{
    size_t i = 0;
    while (i < n) {
        size_t colon = i;
        while (colon < n && v[colon] != ':')
            colon++;
        if (colon == n || !html_in_list(HTML_STYLE_PROPS, v + i, colon - i))
            return html_fail(why, cap, html, v + i, "a style property not allowed");
        size_t end = colon + 1;
        while (end < n && v[end] != ';')
            end++;
        if (end == n)
            return html_fail(why, cap, html, v + i, "a style declaration without ';'");
        for (size_t k = colon + 1; k < end; k++) {
            char c = v[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr(" #%.,-", c)))
                return html_fail(why, cap, html, v + k, "a style value character not allowed");
        }
        i = end + 1;
    }
    return true;
}

static inline bool html_all_digits(const char *v, size_t n, bool percent)
{
    if (percent && n && v[n - 1] == '%')
        n--;
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

/* One attribute's value. */
static inline bool html_check_attr(const char *html, const char *tag, size_t tn, const char *name,
                                   size_t nn, const char *v, size_t vn, char *why, size_t cap)
{
#define IS(s) (nn == strlen(s) && !strncmp(name, s, nn))
    if (IS("href")) {
        if (strncasecmp(v, "http:", 5) && strncasecmp(v, "https:", 6) &&
            strncasecmp(v, "mailto:", 7))
            return html_fail(why, cap, html, v, "an href that is not http, https or mailto");
    } else if (IS("src")) {
        if (strncasecmp(v, "http:", 5) && strncasecmp(v, "https:", 6))
            return html_fail(why, cap, html, v, "a src that is not http or https");
    } else if (IS("style")) {
        return html_check_style(html, v, vn, why, cap);
    } else if (IS("role")) {
        if (vn != 12 || strncmp(v, "presentation", 12))
            return html_fail(why, cap, html, v, "role is not presentation");
    } else if (IS("cellpadding") || IS("cellspacing") || IS("border")) {
        if (vn != 1 || *v != '0')
            return html_fail(why, cap, html, v, "a table spacing that is not 0");
    } else if (IS("valign")) {
        if (vn != 3 || strncmp(v, "top", 3))
            return html_fail(why, cap, html, v, "valign is not top");
    } else if (IS("width") || IS("start")) {
        if (!html_all_digits(v, vn, IS("width")))
            return html_fail(why, cap, html, v, "a number expected");
    }
    (void)tag;
    (void)tn;
    return true;
#undef IS
}

/* Whether the output keeps to the allow-list; why (cap bytes) says what failed. */
static inline bool html_check(const char *html, char *why, size_t cap)
{
    struct open_tag {
        const char *name;
        size_t len;
    };
    size_t depth = 0, alloc = 64;
    struct open_tag *open = malloc(alloc * sizeof *open);
    bool ok = true;
    const char *p = html;
    while (ok && *p) {
        const char *lt = strchr(p, '<');
        const char *stop = lt ? lt : p + strlen(p);
        ok = html_check_chars(html, p, stop, why, cap);
        if (!ok || !lt)
            break;
        p = lt + 1;
        bool end = *p == '/';
        if (end)
            p++;
        const char *name = p;
        while (*p >= 'a' && *p <= 'z')
            p++;
        if (*p >= '1' && *p <= '6') /* no h1-h6 today, but a digit would belong to the name */
            p++;
        size_t n = (size_t)(p - name);
        if (!n) {
            ok = html_fail(why, cap, html, lt, "'<' that starts no tag");
            break;
        }
        if (!html_in_list(HTML_TAGS, name, n)) {
            ok = html_fail(why, cap, html, lt, "tag <%.*s> not allowed", (int)n, name);
            break;
        }
        bool is_void = html_in_list(HTML_VOID, name, n);
        if (end) {
            if (*p != '>') {
                ok = html_fail(why, cap, html, lt, "an end tag with more than its name");
            } else if (is_void || !depth || open[depth - 1].len != n ||
                       strncmp(open[depth - 1].name, name, n)) {
                ok = html_fail(why, cap, html, lt, "</%.*s> closes nothing open", (int)n, name);
            } else {
                depth--;
                p++;
            }
            continue;
        }
        bool has_href = false, has_src = false, has_alt = false;
        while (ok && *p == ' ') {
            const char *an = ++p;
            while ((*p >= 'a' && *p <= 'z') || *p == '-')
                p++;
            size_t anl = (size_t)(p - an);
            if (!anl || p[0] != '=' || p[1] != '"') {
                ok = html_fail(why, cap, html, an, "an attribute not written name=\"value\"");
                break;
            }
            if (anl >= 2 && !strncasecmp(an, "on", 2)) {
                ok = html_fail(why, cap, html, an, "an event handler attribute");
                break;
            }
            bool allowed = false;
            for (size_t i = 0; i < sizeof HTML_ATTRS / sizeof HTML_ATTRS[0]; i++)
                if ((!strcmp(HTML_ATTRS[i].tag, "*") ||
                     (strlen(HTML_ATTRS[i].tag) == n && !strncmp(HTML_ATTRS[i].tag, name, n))) &&
                    html_in_list(HTML_ATTRS[i].attrs, an, anl))
                    allowed = true;
            if (!allowed) {
                ok = html_fail(why, cap, html, an, "attribute %.*s not allowed on <%.*s>", (int)anl,
                               an, (int)n, name);
                break;
            }
            const char *v = p + 2, *q = strchr(v, '"');
            if (!q) {
                ok = html_fail(why, cap, html, an, "an unterminated attribute value");
                break;
            }
            ok = html_check_chars(html, v, q, why, cap) &&
                 html_check_attr(html, name, n, an, anl, v, (size_t)(q - v), why, cap);
            has_href |= anl == 4 && !strncmp(an, "href", 4);
            has_src |= anl == 3 && !strncmp(an, "src", 3);
            has_alt |= anl == 3 && !strncmp(an, "alt", 3);
            p = q + 1;
        }
        if (!ok)
            break;
        if (*p != '>') {
            ok = html_fail(why, cap, html, lt, "a tag not closed by '>'");
            break;
        }
        p++;
        if (n == 1 && *name == 'a' && !has_href)
            ok = html_fail(why, cap, html, lt, "<a> without href");
        else if (n == 3 && !strncmp(name, "img", 3) && !(has_src && has_alt))
            ok = html_fail(why, cap, html, lt, "<img> without src or alt");
        if (!is_void) {
            if (depth == alloc) {
                struct open_tag *more = realloc(open, (alloc *= 2) * sizeof *open);
                if (!more)
                    abort();
                open = more;
            }
            open[depth++] = (struct open_tag){name, n};
        }
    }
    if (ok && depth)
        ok = html_fail(why, cap, html, open[depth - 1].name, "<%.*s> never closed",
                       (int)open[depth - 1].len, open[depth - 1].name);
    free(open);
    return ok;
}

/* The text a reader sees (entities decoded, <br> as a newline, tags and attributes left out).
 * The caller frees. */
static inline char *html_visible_text(const char *html)
{
    static const struct {
        const char *ent, *ch;
    } ents[] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
    char *out = malloc(strlen(html) + 1), *o = out;
    for (const char *p = html; *p;) {
        if (*p == '<') {
            if (!strncmp(p, "<br>", 4))
                *o++ = '\n';
            const char *gt = strchr(p, '>');
            p = gt ? gt + 1 : p + strlen(p);
            continue;
        }
        bool matched = false;
        for (size_t i = 0; *p == '&' && i < sizeof ents / sizeof ents[0]; i++)
            if (!strncmp(p, ents[i].ent, strlen(ents[i].ent))) {
                *o++ = *ents[i].ch;
                p += strlen(ents[i].ent);
                matched = true;
                break;
            }
        if (!matched)
            *o++ = *p++;
    }
    *o = '\0';
    return out;
}

#endif
