/* render_html.c: a canonical card as an HTML fragment for e-mail (the group mailbox's HTML part):
 * one framed <table> with the theme colour as its left border, the sender and "via" line, the
 * body (texts through cmark-gfm, facts as a two-column table, images, columns side by side,
 * tables) and link actions as buttons. Mail clients drop <style> and classes, so every style is
 * inline, and every style is one of the fixed strings below: nothing the payload says becomes a
 * style, an attribute name or markup. Every string from the card is escaped here, every address
 * filtered here (links http/https/mailto, images http/https), whatever the adapters did before.
 *
 * Markdown is parsed by cmark-gfm (tables, strikethrough, autolinks) and its tree rendered by this
 * file, never by cmark's HTML renderer: raw HTML in a text is shown as text (as the web client's
 * markdown-it does; only Teams' <at> mention tags go, the name stays), links with other schemes
 * keep only their label, markdown images become a link to the image (no remote content but the
 * card's own Image elements).
 *
 * Not for: the mail's document, headers or plain-text part (cards_render_text); the web client
 * renders cards itself (web/src/card.jsx). */
#include "cards_int.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HTML_MAX_OUTPUT (16u << 20)   /* past this the card is replaced by a note */
#define HTML_MAX_DEPTH 64             /* element nesting rendered */
#define HTML_MAX_SIDE_BY_SIDE 2       /* nested column sets shown as columns; deeper ones stack */
#define MD_MAX_NEST 16                /* markdown quotes/lists shown as such; deeper ones flatten */
#define MD_MAX_TABLE_CELLS (1u << 16) /* past this bound a text's tables stay text (md_parse) */

/* The palette: Teams' light theme, as the web client's host config (web/src/card.jsx). */
#define C_TEXT "#242424"
#define C_SUBTLE "#616161"
#define C_LINE "#E0E0E0"
#define C_LINK "#5B5FC7"
#define C_CODE_BG "#F5F5F5"

#define FONT "font-family:Segoe UI,Helvetica Neue,Arial,sans-serif;"
#define TD_FONT FONT "font-size:14px;line-height:20px;color:" C_TEXT ";"
#define TABLE_ATTRS "cellpadding=\"0\" cellspacing=\"0\" border=\"0\""
#define LAYOUT_TABLE "<table role=\"presentation\" width=\"100%\" " TABLE_ATTRS
#define BLOCK_GAP "margin:0 0 8px 0;"
#define NOTE_STYLE "font-size:12px;line-height:16px;color:" C_SUBTLE ";"
#define LINK_STYLE "color:" C_LINK ";text-decoration:underline;"
#define MONO "font-family:Consolas,Menlo,Courier New,monospace;"
#define CODE_STYLE MONO "font-size:13px;background-color:" C_CODE_BG ";"
#define CELL_STYLE "vertical-align:top;padding:4px 8px 0 8px;border:1px solid " C_LINE ";" TD_FONT
#define BUTTON_STYLE                                                                               \
    "display:inline-block;padding:6px 12px;margin:0 8px 4px 0;border:1px solid " C_LINK ";"        \
    "border-radius:4px;background-color:#FFFFFF;color:" C_LINK ";text-decoration:none;"            \
    "font-weight:bold;" FONT "font-size:14px;line-height:20px;"

struct html {
    struct buf out;
    bool overflow;    /* an append went past HTML_MAX_OUTPUT */
    int side_by_side; /* column sets being shown as columns around the current element */
};

/* ---- output: trusted markup, escaped text, filtered addresses ---- */

/* Appends n bytes; after the first that do not fit, nothing more (the output is a prefix). */
static void put_n(struct html *h, const char *s, size_t n)
{
    if (n && !h->overflow && buf_append(&h->out, s, n))
        h->overflow = true;
}

static void put(struct html *h, const char *markup)
{
    put_n(h, markup, strlen(markup));
}

/* Text from the card: & < > " ' escaped, control characters dropped, newlines as <br> when
 * `breaks` (else kept: inside <pre> and attribute values). */
static void put_text_n(struct html *h, const char *s, size_t n, bool breaks)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\n':
            rep = breaks ? "<br>" : NULL;
            break;
        case '\t':
            rep = NULL;
            break;
        default:
            rep = c < 0x20 || c == 0x7F ? "" : NULL;
            break;
        }
        if (!rep)
            continue;
        put_n(h, s + start, i - start);
        put(h, rep);
        start = i + 1;
    }
    put_n(h, s + start, n - start);
}

static void put_text(struct html *h, const char *s)
{
    if (s)
        put_text_n(h, s, strlen(s), true);
}

/* An address as an attribute value: characters a URL may hold as they are (& and ' as entities),
 * everything else (blanks, quotes, <>, controls, non-ASCII) percent-encoded. */
static void put_url(struct html *h, const char *url)
{
    static const char safe[] = "-_.~!*();:@=+$,/?#[]%";
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        char tmp[8];
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr(safe, *p))
            put_n(h, (const char *)p, 1);
        else if (*p == '&')
            put(h, "&amp;");
        else if (*p == '\'')
            put(h, "&#39;");
        else {
            snprintf(tmp, sizeof tmp, "%%%02X", *p);
            put(h, tmp);
        }
    }
}

static bool has_prefix(const char *s, const char *prefix)
{
    return s && !strncasecmp(s, prefix, strlen(prefix));
}

/* Addresses this renderer links to and loads: its own check, whatever the card says. */
static bool is_link(const char *url)
{
    return has_prefix(url, "http:") || has_prefix(url, "https:") || has_prefix(url, "mailto:");
}

static bool is_image(const char *url)
{
    return has_prefix(url, "http:") || has_prefix(url, "https:");
}

/* <tag style="style"> (<tag> when style is empty); tag and style are this file's own strings. */
static void open_styled(struct html *h, const char *tag, const char *style)
{
    put(h, "<");
    put(h, tag);
    if (*style) {
        put(h, " style=\"");
        put(h, style);
        put(h, "\"");
    }
    put(h, ">");
}

/* <a href="url" style="style">; the caller checked the url with is_link. */
static void open_link(struct html *h, const char *url, const char *style)
{
    put(h, "<a href=\"");
    put_url(h, url);
    put(h, "\" style=\"");
    put(h, style);
    put(h, "\">");
}

/* ---- markdown (cmark-gfm's tree, rendered here) ---- */

/* cmark-gfm registers its extensions in a global list, and (up to 0.29.0.gfm.6 at least) turns
 * the extensions' special characters on and off in global tables around every inline parse: one
 * parse at a time. */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t md_lock = PTHREAD_MUTEX_INITIALIZER;

static void md_register(void)
{
    cmark_gfm_core_extensions_ensure_registered();
}

/* Whether the tables of a text stay small. cmark-gfm (0.29.0.gfm.6) fills every row of a table
 * up to its header's width, so a wide header over many short lines makes millions of cells from
 * a few kilobytes (and cmark aborts when memory runs out). A table has at most (the most '|' on
 * a line + 1) columns and one row per line; the same bound as markdown-it's. */
static bool md_tables_ok(const char *text)
{
    size_t lines = 1, pipes = 0, most = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '|') {
            pipes++;
        } else if (*p == '\n' || (*p == '\r' && p[1] != '\n')) {
            lines++;
            most = pipes > most ? pipes : most;
            pipes = 0;
        }
    }
    most = pipes > most ? pipes : most;
    return (most + 1) * lines <= MD_MAX_TABLE_CELLS;
}

/* The document tree of a text (cmark_node_free it). */
static cmark_node *md_parse(const char *text)
{
    static const char *const extensions[] = {"table", "strikethrough", "autolink"};
    bool tables = md_tables_ok(text);
    pthread_once(&md_once, md_register);
    pthread_mutex_lock(&md_lock);
    cmark_parser *p = cmark_parser_new(CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8);
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++) {
        if (!tables && !strcmp(extensions[i], "table"))
            continue;
        cmark_syntax_extension *ext = cmark_find_syntax_extension(extensions[i]);
        if (ext)
            cmark_parser_attach_syntax_extension(p, ext);
    }
    cmark_parser_feed(p, text, strlen(text));
    cmark_node *doc = cmark_parser_finish(p);
    cmark_parser_free(p);
    pthread_mutex_unlock(&md_lock);
    return doc;
}

struct md {
    bool bare;        /* paragraphs without <p>, top-level blocks apart by <br> (fact cells) */
    int nest;         /* quotes, lists and items entered */
    cmark_node *link; /* the node whose <a> is open, or NULL */
    int cell;         /* index of the next cell in a table row */
    bool header_row;  /* the row being rendered is a table's header */
    uint8_t *align;   /* the current table's column alignments ('l', 'c', 'r' or 0) */
    uint16_t columns; /* ... and their number */
};

static bool md_paragraph_is_bare(const struct md *m, cmark_node *n)
{
    cmark_node *parent = cmark_node_parent(n);
    if (m->bare && cmark_node_get_type(parent) == CMARK_NODE_DOCUMENT)
        return true;
    if (cmark_node_get_type(parent) != CMARK_NODE_ITEM)
        return false;
    return cmark_node_get_list_tight(cmark_node_parent(parent)); /* cmark's tight lists */
}

/* Quotes, lists and items past MD_MAX_NEST show their content without their own markup. */
static bool md_nest(struct md *m, bool enter)
{
    if (enter)
        return ++m->nest <= MD_MAX_NEST;
    return m->nest-- <= MD_MAX_NEST;
}

/* The nodes of the table, strikethrough and autolink extensions (autolinks are plain links). */
static void md_extension_node(struct html *h, struct md *m, cmark_node *n, bool enter)
{
    const char *type = cmark_node_get_type_string(n);
    if (!strcmp(type, "strikethrough")) {
        put(h, enter ? "<del>" : "</del>");
    } else if (!strcmp(type, "table")) {
        if (enter) {
            m->align = cmark_gfm_extensions_get_table_alignments(n);
            m->columns = cmark_gfm_extensions_get_table_columns(n);
            put(h, "<table " TABLE_ATTRS " style=\"border-collapse:collapse;" BLOCK_GAP "\">\n");
        } else {
            m->align = NULL;
            m->columns = 0;
            put(h, "</table>\n");
        }
    } else if (!strcmp(type, "table_header") || !strcmp(type, "table_row")) {
        m->cell = 0;
        m->header_row = cmark_gfm_extensions_get_table_row_is_header(n);
        put(h, enter ? "<tr>" : "</tr>\n");
    } else if (!strcmp(type, "table_cell")) {
        if (!enter) {
            put(h, m->header_row ? "</th>" : "</td>");
            return;
        }
        uint8_t a = m->align && m->cell < m->columns ? m->align[m->cell] : 0;
        m->cell++;
        put(h, m->header_row ? "<th style=\"font-weight:bold;" : "<td style=\"");
        put(h, a == 'c'   ? "text-align:center;"
               : a == 'r' ? "text-align:right;"
                          : "text-align:left;");
        put(h, "padding:4px 8px;border:1px solid " C_LINE ";" TD_FONT "\">");
    }
}

/* A leaf's text ("" when it has none). */
static const char *md_literal(cmark_node *n)
{
    const char *s = cmark_node_get_literal(n);
    return s ? s : "";
}

static void md_node(struct html *h, struct md *m, cmark_node *n, bool enter)
{
    cmark_node *parent = cmark_node_parent(n);
    if (enter && m->bare && cmark_node_get_type(parent) == CMARK_NODE_DOCUMENT &&
        cmark_node_previous(n))
        put(h, "<br>");
    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_DOCUMENT:
        break;
    case CMARK_NODE_PARAGRAPH:
        if (!md_paragraph_is_bare(m, n))
            put(h, enter ? "<p style=\"" BLOCK_GAP "\">" : "</p>\n");
        break;
    case CMARK_NODE_HEADING: {
        int level = cmark_node_get_heading_level(n);
        if (!enter)
            put(h, "</p>\n");
        else if (level == 1)
            put(h, "<p style=\"" BLOCK_GAP "font-weight:bold;font-size:18px;line-height:24px;\">");
        else if (level == 2)
            put(h, "<p style=\"" BLOCK_GAP "font-weight:bold;font-size:16px;line-height:22px;\">");
        else
            put(h, "<p style=\"" BLOCK_GAP "font-weight:bold;\">");
        break;
    }
    case CMARK_NODE_BLOCK_QUOTE:
        if (md_nest(m, enter))
            put(h, enter ? "<blockquote style=\"" BLOCK_GAP "padding:0 0 0 12px;border-left:3px "
                           "solid " C_LINE ";color:" C_SUBTLE ";\">\n"
                         : "</blockquote>\n");
        break;
    case CMARK_NODE_LIST: {
        bool ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
        if (!md_nest(m, enter))
            break;
        if (!enter) {
            put(h, ordered ? "</ol>\n" : "</ul>\n");
            break;
        }
        put(h, ordered ? "<ol" : "<ul");
        int start = cmark_node_get_list_start(n);
        if (ordered && start != 1 && start >= 0) {
            char num[32];
            snprintf(num, sizeof num, " start=\"%d\"", start);
            put(h, num);
        }
        put(h, " style=\"" BLOCK_GAP "padding:0 0 0 24px;\">\n");
        break;
    }
    case CMARK_NODE_ITEM:
        if (md_nest(m, enter))
            put(h, enter ? "<li>" : "</li>\n");
        else if (!enter)
            put(h, "<br>");
        break;
    case CMARK_NODE_CODE_BLOCK:
        put(h, "<pre style=\"" BLOCK_GAP "padding:8px;" CODE_STYLE "white-space:pre-wrap;\">");
        put_text_n(h, md_literal(n), strlen(md_literal(n)), false);
        put(h, "</pre>\n");
        break;
    case CMARK_NODE_HTML_BLOCK: { /* shown as the text it is */
        const char *lit = md_literal(n);
        size_t len = strlen(lit);
        while (len && lit[len - 1] == '\n')
            len--;
        bool bare = m->bare && cmark_node_get_type(parent) == CMARK_NODE_DOCUMENT;
        if (!bare)
            put(h, "<p style=\"" BLOCK_GAP "\">");
        put_text_n(h, lit, len, true);
        if (!bare)
            put(h, "</p>\n");
        break;
    }
    case CMARK_NODE_THEMATIC_BREAK:
        put(h, "<hr style=\"border:0;border-top:1px solid " C_LINE ";height:0;" BLOCK_GAP "\">\n");
        break;
    case CMARK_NODE_HTML_INLINE: /* raw HTML: shown as text, but for Teams' mention tags */
        if (strcasecmp(md_literal(n), "<at>") && strcasecmp(md_literal(n), "</at>"))
            put_text(h, md_literal(n));
        break;
    case CMARK_NODE_TEXT:
        put_text(h, md_literal(n));
        break;
    case CMARK_NODE_SOFTBREAK:
    case CMARK_NODE_LINEBREAK:
        put(h, "<br>");
        break;
    case CMARK_NODE_CODE:
        put(h, "<code style=\"" CODE_STYLE "padding:0 2px;\">");
        put_text(h, md_literal(n));
        put(h, "</code>");
        break;
    case CMARK_NODE_EMPH:
        put(h, enter ? "<em>" : "</em>");
        break;
    case CMARK_NODE_STRONG:
        put(h, enter ? "<strong>" : "</strong>");
        break;
    case CMARK_NODE_LINK:
    case CMARK_NODE_IMAGE: {
        const char *url = cmark_node_get_url(n);
        bool image = cmark_node_get_type(n) == CMARK_NODE_IMAGE;
        if (enter && !m->link && (image ? is_image(url) : is_link(url))) {
            m->link = n;
            open_link(h, url, LINK_STYLE);
        }
        if (enter && image)
            put(h, cmark_node_first_child(n) ? "[image: " : "[image");
        else if (enter && !cmark_node_first_child(n)) /* no label: the address is the label */
            put_text(h, url);
        if (!enter && image)
            put(h, "]");
        if (!enter && m->link == n) {
            put(h, "</a>");
            m->link = NULL;
        }
        break;
    }
    default:
        if (cmark_node_get_syntax_extension(n))
            md_extension_node(h, m, n, enter);
        break;
    }
}

/* Renders markdown text; bare: for a table cell (no paragraph margins). */
static void put_markdown(struct html *h, const char *text, bool bare)
{
    cmark_node *doc = md_parse(text);
    cmark_iter *it = cmark_iter_new(doc);
    struct md m = {.bare = bare};
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
        md_node(h, &m, cmark_iter_get_node(it), ev == CMARK_EVENT_ENTER);
    cmark_iter_free(it);
    cmark_node_free(doc);
}

/* ---- card elements ---- */

static const char *jstr_c(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jis(const json_t *o, const char *key, const char *value)
{
    const char *s = jstr_c(o, key);
    return s && !strcasecmp(s, value);
}

/* Appends css to style (a string in cap bytes), cutting it rather than overflowing. */
static void style_add(char *style, size_t cap, const char *css)
{
    size_t len = strlen(style);
    snprintf(style + len, cap - len, "%s", css);
}

/* Styles for an Adaptive Card text's enumerations (size, weight, colour, isSubtle, fontType,
 * horizontalAlignment), chosen from fixed strings; appended to style (cap bytes, 256 hold them
 * all). */
static void text_style(const json_t *el, char *style, size_t cap)
{
    static const struct {
        const char *name, *css;
    } sizes[] = {{"small", "font-size:12px;line-height:16px;"},
                 {"medium", "font-size:16px;line-height:22px;"},
                 {"large", "font-size:18px;line-height:24px;"},
                 {"extraLarge", "font-size:24px;line-height:30px;"}},
      colors[] = {{"dark", "color:#252424;"},
                  {"accent", "color:#5B5FC7;"},
                  {"good", "color:#0E700E;"},
                  {"warning", "color:#835B00;"},
                  {"attention", "color:#C4314B;"}},
      subtle[] = {{"dark", "color:#484644;"},
                  {"accent", "color:#6264A7;"},
                  {"good", "color:#1A8A1A;"},
                  {"warning", "color:#A87400;"},
                  {"attention", "color:#D13438;"}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (jis(el, "size", sizes[i].name))
            style_add(style, cap, sizes[i].css);
    if (jis(el, "weight", "bolder") || jis(el, "style", "heading"))
        style_add(style, cap, "font-weight:bold;");
    else if (jis(el, "weight", "lighter"))
        style_add(style, cap, "font-weight:300;");
    bool is_subtle = json_is_true(json_object_get(el, "isSubtle"));
    const char *color = is_subtle ? "color:" C_SUBTLE ";" : NULL;
    for (size_t i = 0; i < sizeof colors / sizeof colors[0]; i++)
        if (jis(el, "color", colors[i].name))
            color = is_subtle ? subtle[i].css : colors[i].css;
    if (color)
        style_add(style, cap, color);
    if (jis(el, "fontType", "monospace"))
        style_add(style, cap, MONO);
    if (jis(el, "horizontalAlignment", "center"))
        style_add(style, cap, "text-align:center;");
    else if (jis(el, "horizontalAlignment", "right"))
        style_add(style, cap, "text-align:right;");
}

static void render_items(struct html *h, const json_t *items, int depth);
static void render_actions(struct html *h, const json_t *actions);

static void render_text_block(struct html *h, const json_t *el)
{
    const char *text = jstr_c(el, "text");
    if (!text || !*text)
        return;
    char style[256] = "";
    text_style(el, style, sizeof style);
    open_styled(h, "div", style);
    put_markdown(h, text, false);
    put(h, "</div>\n");
}

/* The http(s)/mailto address an element opens: a TextRun's or Image's selectAction (OpenUrl),
 * or a url of its own; NULL when there is none or it is not allowed. */
static const char *select_url(const json_t *el, bool own_url)
{
    const json_t *sel = json_object_get(el, "selectAction");
    const char *url = NULL;
    if (jis(sel, "type", "Action.OpenUrl"))
        url = jstr_c(sel, "url");
    else if (own_url)
        url = jstr_c(el, "url");
    return is_link(url) ? url : NULL;
}

/* RichTextBlock: its inlines (strings, TextRuns) as styled text; not markdown. */
static void render_rich_text(struct html *h, const json_t *el)
{
    char style[256] = BLOCK_GAP;
    text_style(el, style, sizeof style);
    put(h, "<p style=\"");
    put(h, style);
    put(h, "\">");
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(el, "inlines"), i, in)
    {
        if (json_is_string(in)) {
            put_text(h, json_string_value(in));
            continue;
        }
        const char *text = jstr_c(in, "text");
        if (!text)
            continue;
        const char *url = select_url(in, true);
        char run[256] = "";
        text_style(in, run, sizeof run);
        if (json_is_true(json_object_get(in, "underline")))
            style_add(run, sizeof run, "text-decoration:underline;");
        if (url)
            open_link(h, url, LINK_STYLE);
        open_styled(h, "span", run);
        bool italic = json_is_true(json_object_get(in, "italic"));
        bool strike = json_is_true(json_object_get(in, "strikethrough"));
        put(h, italic ? "<em>" : "");
        put(h, strike ? "<del>" : "");
        put_text(h, text);
        put(h, strike ? "</del>" : "");
        put(h, italic ? "</em>" : "");
        put(h, "</span>");
        if (url)
            put(h, "</a>");
    }
    put(h, "</p>\n");
}

static void render_fact_set(struct html *h, const json_t *el)
{
    const json_t *facts = json_object_get(el, "facts");
    if (!json_array_size(facts))
        return;
    put(h, "<table role=\"presentation\" " TABLE_ATTRS
           " style=\"border-collapse:collapse;" BLOCK_GAP "\">\n");
    size_t i;
    json_t *f;
    json_array_foreach(facts, i, f)
    {
        const char *title = jstr_c(f, "title"), *value = jstr_c(f, "value");
        put(h, "<tr><td valign=\"top\" style=\"vertical-align:top;padding:0 16px 4px 0;"
               "max-width:160px;font-weight:bold;" TD_FONT "\">");
        put_markdown(h, title ? title : "", true);
        put(h,
            "</td><td valign=\"top\" style=\"vertical-align:top;padding:0 0 4px 0;" TD_FONT "\">");
        put_markdown(h, value ? value : "", true);
        put(h, "</td></tr>\n");
    }
    put(h, "</table>\n");
}

/* An image: <img> for http(s) (in a link when it opens one), a "[image]" note for anything else
 * (data: images are blocked by many mail clients, other addresses are not loaded). `size` is the
 * Adaptive Card size when the element has none; `in_row`: one of an ImageSet's, side by side. */
static void render_image(struct html *h, const json_t *el, const char *size, bool in_row)
{
    const char *url = jstr_c(el, "url"), *alt = jstr_c(el, "altText");
    if (!url)
        return;
    if (!is_image(url)) {
        put(h,
            in_row ? "<span style=\"" NOTE_STYLE "\">" : "<p style=\"" BLOCK_GAP NOTE_STYLE "\">");
        put(h, "[image");
        if (alt && *alt) {
            put(h, ": ");
            put_text(h, alt);
        }
        put(h, in_row ? "]</span>\n" : "]</p>\n");
        return;
    }
    if (jstr_c(el, "size"))
        size = jstr_c(el, "size");
    const char *width = !size                                     ? NULL
                        : !strcasecmp(size, "small")              ? "32"
                        : !strcasecmp(size, "medium")             ? "52"
                        : !strcasecmp(size, "large")              ? "100"
                        : !strcasecmp(size, "stretch") && !in_row ? "100%"
                                                                  : NULL;
    const char *link = select_url(el, false);
    if (!in_row)
        put(h, "<div style=\"" BLOCK_GAP "\">");
    if (link)
        open_link(h, link, "text-decoration:none;");
    put(h, "<img src=\"");
    put_url(h, url);
    put(h, "\" alt=\"");
    alt = alt && *alt ? alt : "image";
    put_text_n(h, alt, strlen(alt), false); /* an attribute: newlines stay newlines */
    put(h, "\"");
    if (width) {
        put(h, " width=\"");
        put(h, width);
        put(h, "\"");
    }
    put(h, " style=\"border:0;height:auto;max-width:100%;");
    put(h, in_row ? "display:inline-block;margin:0 4px 4px 0;" : "display:block;");
    if (jis(el, "style", "person"))
        put(h, "border-radius:50%;");
    put(h, "\">");
    if (link)
        put(h, "</a>");
    put(h, in_row ? "\n" : "</div>\n");
}

static void render_image_set(struct html *h, const json_t *el)
{
    const json_t *images = json_object_get(el, "images");
    if (!json_array_size(images))
        return;
    const char *size = jstr_c(el, "imageSize");
    put(h, "<div style=\"" BLOCK_GAP "\">\n");
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img)
    {
        render_image(h, img, size ? size : "medium", true);
    }
    put(h, "</div>\n");
}

/* A ColumnSet: its columns side by side (an "auto" column as narrow as its content), or one
 * below the other when column sets are already nested HTML_MAX_SIDE_BY_SIDE deep. */
static void render_column_set(struct html *h, const json_t *el, int depth)
{
    const json_t *columns = json_object_get(el, "columns");
    size_t n = json_array_size(columns), i;
    json_t *col;
    if (!n)
        return;
    if (h->side_by_side >= HTML_MAX_SIDE_BY_SIDE || n == 1) {
        json_array_foreach(columns, i, col)
        {
            if (!json_is_false(json_object_get(col, "isVisible")))
                render_items(h, json_object_get(col, "items"), depth + 1);
        }
        return;
    }
    h->side_by_side++;
    put(h, LAYOUT_TABLE " style=\"border-collapse:collapse;\"><tr>\n");
    json_array_foreach(columns, i, col)
    {
        if (json_is_false(json_object_get(col, "isVisible")))
            continue;
        put(h, "<td valign=\"top\"");
        if (jis(col, "width", "auto"))
            put(h, " width=\"1%\"");
        put(h, i + 1 < n ? " style=\"vertical-align:top;padding:0 12px 0 0;" TD_FONT "\">\n"
                         : " style=\"vertical-align:top;" TD_FONT "\">\n");
        render_items(h, json_object_get(col, "items"), depth + 1);
        put(h, "</td>\n");
    }
    put(h, "</tr></table>\n");
    h->side_by_side--;
}

/* A Container (or a Column shown alone): its items, in a tinted box for the styles that have
 * one, under a rule when it asks for a separator. */
static void render_container(struct html *h, const json_t *el, int depth)
{
    static const struct {
        const char *name, *color;
    } styles[] = {{"emphasis", "#F5F5F5"},
                  {"good", "#E7F2DA"},
                  {"attention", "#FCF4F6"},
                  {"warning", "#FBF6D9"},
                  {"accent", "#E8EBFA"}};
    const char *bg = NULL;
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++)
        if (jis(el, "style", styles[i].name))
            bg = styles[i].color;
    if (!bg) {
        render_items(h, json_object_get(el, "items"), depth + 1);
        return;
    }
    put(h, LAYOUT_TABLE " style=\"border-collapse:collapse;" BLOCK_GAP "\"><tr><td style=\""
                        "padding:8px 8px 0 8px;background-color:");
    put(h, bg);
    put(h, ";" TD_FONT "\">\n");
    render_items(h, json_object_get(el, "items"), depth + 1);
    put(h, "</td></tr></table>\n");
}

/* A Table (Adaptive Cards 1.5): rows of cells holding elements; the first row as a header
 * unless firstRowAsHeader is false. */
static void render_table(struct html *h, const json_t *el, int depth)
{
    const json_t *rows = json_object_get(el, "rows");
    if (!json_array_size(rows))
        return;
    bool header = !json_is_false(json_object_get(el, "firstRowAsHeader"));
    put(h, "<table " TABLE_ATTRS " style=\"border-collapse:collapse;" BLOCK_GAP "\">\n");
    size_t r;
    json_t *row;
    json_array_foreach(rows, r, row)
    {
        bool th = header && r == 0;
        put(h, "<tr>");
        size_t c;
        json_t *cell;
        json_array_foreach(json_object_get(row, "cells"), c, cell)
        {
            put(h, th ? "<th style=\"text-align:left;font-weight:bold;" CELL_STYLE "\">\n"
                      : "<td style=\"" CELL_STYLE "\">\n");
            render_items(h, json_object_get(cell, "items"), depth + 1);
            put(h, th ? "</th>\n" : "</td>\n");
        }
        put(h, "</tr>\n");
    }
    put(h, "</table>\n");
}

/* Media: its poster (http(s)) and a link to its first http(s) source. */
static void render_media(struct html *h, const json_t *el)
{
    const char *poster = jstr_c(el, "poster"), *alt = jstr_c(el, "altText"), *src = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(el, "sources"), i, s)
    {
        if (is_link(jstr_c(s, "url"))) {
            src = jstr_c(s, "url");
            break;
        }
    }
    if (is_image(poster)) {
        json_t *img = json_pack("{s:s, s:s}", "url", poster, "altText", alt ? alt : "media");
        render_image(h, img, "stretch", false);
        json_decref(img);
    }
    put(h, "<p style=\"" BLOCK_GAP "\">");
    if (src)
        open_link(h, src, LINK_STYLE);
    put(h, "[media");
    if (alt && *alt) {
        put(h, ": ");
        put_text(h, alt);
    }
    put(h, "]");
    if (src)
        put(h, "</a>");
    put(h, "</p>\n");
}

/* An input cannot be filled in a mail: a note with its label. */
static void render_input(struct html *h, const json_t *el)
{
    const char *label = jstr_c(el, "label");
    if (!label)
        label = jstr_c(el, "placeholder");
    put(h, "<p style=\"" BLOCK_GAP NOTE_STYLE "\">[form field");
    if (label && *label) {
        put(h, ": ");
        put_text(h, label);
    }
    put(h, "]</p>\n");
}

static void render_element(struct html *h, const json_t *el, int depth)
{
    const char *type = jstr_c(el, "type");
    if (depth > HTML_MAX_DEPTH || !type || json_is_false(json_object_get(el, "isVisible")))
        return;
    if (json_is_true(json_object_get(el, "separator")))
        put(h, "<hr style=\"border:0;border-top:1px solid " C_LINE ";height:0;margin:4px 0 8px "
               "0;\">\n");
    if (!strcmp(type, "TextBlock"))
        render_text_block(h, el);
    else if (!strcmp(type, "RichTextBlock"))
        render_rich_text(h, el);
    else if (!strcmp(type, "FactSet"))
        render_fact_set(h, el);
    else if (!strcmp(type, "Image"))
        render_image(h, el, NULL, false);
    else if (!strcmp(type, "ImageSet"))
        render_image_set(h, el);
    else if (!strcmp(type, "ColumnSet"))
        render_column_set(h, el, depth);
    else if (!strcmp(type, "Container") || !strcmp(type, "Column"))
        render_container(h, el, depth);
    else if (!strcmp(type, "Table"))
        render_table(h, el, depth);
    else if (!strcmp(type, "ActionSet"))
        render_actions(h, json_object_get(el, "actions"));
    else if (!strcmp(type, "Media"))
        render_media(h, el);
    else if (!strncmp(type, "Input.", 6))
        render_input(h, el);
    else if (json_is_object(json_object_get(el, "fallback"))) /* a type we do not know */
        render_element(h, json_object_get(el, "fallback"), depth + 1);
}

static void render_items(struct html *h, const json_t *items, int depth)
{
    size_t i;
    json_t *el;
    json_array_foreach(items, i, el)
    {
        render_element(h, el, depth);
    }
}

/* Action.OpenUrl with an allowed address: a link styled as a button. The others (ShowCard,
 * ToggleVisibility, Submit, the disabled HttpPOST...) cannot work in a mail: their titles are
 * listed in a note below the buttons. */
static void render_actions(struct html *h, const json_t *actions)
{
    size_t i, buttons = 0, others = 0;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        const char *title = jstr_c(a, "title"), *url = jstr_c(a, "url");
        if (!jis(a, "type", "Action.OpenUrl") || !is_link(url))
            continue;
        put(h, buttons++ ? "\n" : "<p style=\"margin:4px 0 4px 0;\">");
        open_link(h, url, BUTTON_STYLE);
        put_text(h, title && *title ? title : url);
        put(h, "</a>");
    }
    if (buttons)
        put(h, "</p>\n");
    json_array_foreach(actions, i, a)
    {
        const char *type = jstr_c(a, "type"), *title = jstr_c(a, "title");
        if (!type || (!strcmp(type, "Action.OpenUrl") && is_link(jstr_c(a, "url"))))
            continue;
        if (!title || !*title)
            title = !strncmp(type, "Action.", 7) ? type + 7 : type;
        put(h, others++ ? ", " : "<p style=\"" BLOCK_GAP NOTE_STYLE "\">Not available by e-mail: ");
        put_text(h, title);
    }
    if (others)
        put(h, "</p>\n");
}

/* The frame's left border: the card's theme colour when it is "#RRGGBB", else a grey line. */
static void theme_color(const json_t *env, char out[8])
{
    const char *c = jstr_c(env, "themeColor");
    bool ok = c && strlen(c) == 7 && c[0] == '#';
    for (int i = 1; ok && i < 7; i++)
        ok = strchr("0123456789abcdefABCDEF", c[i]) != NULL;
    snprintf(out, 8, "%s", ok ? c : C_LINE);
}

static void render_card(struct html *h, const json_t *card)
{
    const json_t *env = json_object_get(card, "envelope");
    const json_t *content = json_object_get(card, "content");
    char theme[8];
    theme_color(env, theme);
    put(h, LAYOUT_TABLE " style=\"border-collapse:collapse;max-width:640px;\">\n"
                        "<tr><td style=\"border:1px solid " C_LINE ";border-left:4px solid ");
    put(h, theme);
    put(h, ";background-color:#FFFFFF;padding:12px 16px 4px 16px;" TD_FONT "\">\n");
    const char *name = jstr_c(json_object_get(env, "sender"), "name");
    const char *via = jstr_c(env, "via");
    put(h, "<p style=\"" BLOCK_GAP "font-size:12px;line-height:16px;color:" C_SUBTLE ";\">"
           "<strong style=\"font-size:14px;color:" C_TEXT ";\">");
    put_text(h, name && *name ? name : "Connector");
    put(h, "</strong>");
    if (via && *via) {
        put(h, " via ");
        put_text(h, via);
    }
    put(h, "</p>\n");
    render_items(h, json_object_get(content, "body"), 0);
    render_actions(h, json_object_get(content, "actions"));
    put(h, "</td></tr>\n</table>");
}

/* Renders card into h from the start; false when it did not fit. */
static bool render_whole(struct html *h, const json_t *card)
{
    h->out.len = 0;
    h->out.data[0] = '\0';
    h->overflow = false;
    h->side_by_side = 0;
    render_card(h, card);
    return !h->overflow;
}

char *cards_html_escape(const char *text)
{
    struct html h = {0};
    buf_init(&h.out, HTML_MAX_OUTPUT);
    put_text_n(&h, text, strlen(text), false);
    put_n(&h, "", 1);
    if (h.overflow || !h.out.data) { /* past HTML_MAX_OUTPUT: not for a mail's few lines */
        buf_release(&h.out);
        return xstrdup("");
    }
    return h.out.data;
}

char *cards_render_html(const json_t *card)
{
    struct html h = {0};
    buf_init(&h.out, HTML_MAX_OUTPUT);
    buf_append(&h.out, "", 0);
    if (!render_whole(&h, card)) { /* half a card would leave markup open: a note instead */
        json_t *note = json_pack("{s:O*, s:{s:[{s:s, s:s}]}}", "envelope",
                                 json_object_get(card, "envelope"), "content", "body", "type",
                                 "TextBlock", "text", "This card is too large to show here.");
        if (!render_whole(&h, note)) { /* the envelope alone is too large */
            json_object_del(note, "envelope");
            render_whole(&h, note);
        }
        json_decref(note);
    }
    return h.out.data;
}
