/* render_term.c: a canonical card for a terminal (the terminal client's `tail`): every line
 * starts with a bar ("┃", in the card's theme colour when colour is on); titles and other bolder
 * texts are bold, subtle texts dim; separated sections are set apart by an empty bar line; facts
 * are aligned "name: value"; markdown links read "text <url>", open-URL actions "[Title] <url>";
 * a ShowCard action's card follows it, indented. Avatars (images of style Person) and inputs
 * are left out: a terminal can show neither.
 *
 * Everything the card says is text from a stranger, so every control character and escape
 * sequence in it is made visible (caret notation: ESC is "^[", the C1 CSI is "^[["; bidi
 * overrides are "<U+202E>") before it reaches the terminal: the only escape sequences in the
 * output are the SGR ones written here, and only when colour is on.
 *
 * Not for: plain-text fallbacks and notifications (render_text.c), e-mail (render_html.c). */
#include "cards_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 64     /* nested containers, columns, show-cards */
#define MAX_INLINE 8     /* nested markdown spans (bold inside a link inside bold...) */
#define SCAN_WINDOW 4096 /* bytes searched for a closing delimiter */
#define FACT_ALIGN_MAX 24

enum style {
    ST_BOLD = 1,
    ST_DIM = 2,
    ST_UNDERLINE = 4,
};

struct term {
    struct buf out;
    bool colour;
    const char *bar; /* written at the start of every line ("" for none) */
    unsigned indent; /* spaces after the bar (the card of a ShowCard, a fact's value) */
    unsigned style;  /* enum style bits in force */
    bool in_line;    /* the current line has been started (bar written) */
    bool last_blank; /* the last finished line was empty */
    size_t lines;    /* lines finished */
};

/* ---- neutralising: the only way text from the card reaches the output ---- */

/* The length of the UTF-8 sequence at s (at most n bytes) and its code point; 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

static bool is_bidi_control(unsigned cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Appends n bytes of s with every control character made visible; returns the columns added
 * (one per code point: good enough for alignment of facts). A newline is made visible too:
 * callers split lines themselves. */
static size_t put_clean(struct buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t cols = 0, i = 0;
    while (i < n) {
        unsigned cp;
        size_t len = utf8_decode(p + i, n - i, &cp);
        if (!len) {
            buf_append(out, "\xef\xbf\xbd", 3); /* U+FFFD for a byte that is not UTF-8 */
            i++, cols++;
            continue;
        }
        char tmp[16];
        if (cp == '\t') {
            buf_append(out, " ", 1);
            cols++;
        } else if (cp < 0x20 || cp == 0x7f) {
            tmp[0] = '^', tmp[1] = cp == 0x7f ? '?' : (char)(cp + 0x40);
            buf_append(out, tmp, 2);
            cols += 2;
        } else if (cp >= 0x80 && cp <= 0x9f) { /* C1: shown as its 7-bit form, ESC + letter */
            tmp[0] = '^', tmp[1] = '[', tmp[2] = (char)(cp - 0x40);
            buf_append(out, tmp, 3);
            cols += 3;
        } else if (is_bidi_control(cp)) {
            int k = snprintf(tmp, sizeof tmp, "<U+%04X>", cp);
            buf_append(out, tmp, (size_t)k);
            cols += (size_t)k;
        } else {
            buf_append(out, p + i, len);
            cols++;
        }
        i += len;
    }
    return cols;
}

char *cards_term_clean(const char *s)
{
    struct buf out;
    buf_init(&out, 1 << 22);
    buf_append(&out, "", 0);
    if (s)
        put_clean(&out, s, strlen(s));
    return out.data;
}

/* ---- lines, bars and styles ---- */

/* Switches the SGR state from `from` to `to`: a reset only when something goes off. */
static void sgr(struct term *t, unsigned from, unsigned to)
{
    if (!t->colour || from == to)
        return;
    if (from & ~to) {
        buf_append(&t->out, "\x1b[0m", 4);
        from = 0;
    }
    unsigned on = to & ~from;
    if (on & ST_BOLD)
        buf_append(&t->out, "\x1b[1m", 4);
    if (on & ST_DIM)
        buf_append(&t->out, "\x1b[2m", 4);
    if (on & ST_UNDERLINE)
        buf_append(&t->out, "\x1b[4m", 4);
}

/* Starts the current line when nothing is on it yet: bar, indent, the styles in force. */
static void begin(struct term *t)
{
    if (t->in_line)
        return;
    t->in_line = true;
    if (*t->bar)
        buf_printf(&t->out, "%s ", t->bar);
    for (unsigned i = 0; i < t->indent; i++)
        buf_append(&t->out, " ", 1);
    sgr(t, 0, t->style);
}

/* Ends the current line; an empty one is the bar alone (no trailing blank). */
static void newline(struct term *t)
{
    if (t->in_line) {
        if (t->colour && t->style)
            buf_append(&t->out, "\x1b[0m", 4);
        t->last_blank = false;
    } else {
        buf_printf(&t->out, "%s", t->bar);
        t->last_blank = true;
    }
    buf_append(&t->out, "\n", 1);
    t->in_line = false;
    t->lines++;
}

/* Starts a new block (a text, a fact, an action) on a line of its own. */
static void block(struct term *t)
{
    if (t->in_line)
        newline(t);
}

/* An empty bar line between sections (none at the top, none twice). */
static void separator(struct term *t)
{
    block(t);
    if (t->lines && !t->last_blank)
        newline(t);
}

static void set_style(struct term *t, unsigned style)
{
    if (t->in_line)
        sgr(t, t->style, style);
    t->style = style;
}

/* Plain text (no markdown): split at newlines, neutralised. Returns the columns of the last
 * line. */
static size_t text(struct term *t, const char *s, size_t n)
{
    size_t cols = 0;
    while (n) {
        const char *nl = memchr(s, '\n', n);
        size_t len = nl ? (size_t)(nl - s) : n;
        if (len && s[len - 1] == '\r') /* CRLF ends a line like LF */
            len--;
        if (len) {
            begin(t);
            cols += put_clean(&t->out, s, len);
        }
        if (!nl)
            break;
        newline(t);
        cols = 0;
        n -= (size_t)(nl - s) + 1;
        s = nl + 1;
    }
    return cols;
}

static void text_z(struct term *t, const char *s)
{
    if (s)
        text(t, s, strlen(s));
}

/* ---- the markdown subset cards use: links, bold, code spans, escapes, Teams mentions ---- */

static bool is_punct(char c)
{
    return c > 0x20 && c < 0x7f &&
           !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The index of the ']' closing the '[' at s[0] (nesting and escapes respected), or 0. */
static size_t match_bracket(const char *s, size_t n, char open, char close)
{
    int depth = 0;
    for (size_t i = 0; i < n && i < SCAN_WINDOW; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            i++;
        } else if (s[i] == open) {
            depth++;
        } else if (s[i] == close && --depth == 0) {
            return i;
        }
    }
    return 0;
}

struct inline_state {
    size_t no_close[2]; /* "**" and "__": no closer at or after this offset (a cache) */
    size_t total;       /* the whole text's length */
};

static void inline_md(struct term *t, const char *s, size_t n, int depth, struct inline_state *st,
                      size_t base);

/* The closing "**"/"__" of the run opened at s[0] (after its 2 bytes), or 0. */
static size_t match_emphasis(const char *s, size_t n, struct inline_state *st, size_t at)
{
    int kind = s[0] == '*' ? 0 : 1;
    if (st->no_close[kind] <= at)
        return 0;
    for (size_t i = 2; i + 1 < n && i < SCAN_WINDOW; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] != s[0] || s[i + 1] != s[0])
            continue;
        if (i == 2 || is_space(s[i - 1]))
            continue;
        if (kind == 1 && i + 2 < n && is_alnum(s[i + 2]))
            continue;
        return i;
    }
    if (n <= SCAN_WINDOW && at + n == st->total) /* searched to the very end of the text */
        st->no_close[kind] = at;
    return 0;
}

/* A markdown link at s[0] ("[text](url)"): renders "text <url>" and returns the bytes used, or
 * 0 when s does not start a link. */
static size_t link(struct term *t, const char *s, size_t n, int depth, struct inline_state *st,
                   size_t at)
{
    size_t close = match_bracket(s, n, '[', ']');
    if (!close || close + 1 >= n || s[close + 1] != '(')
        return 0;
    size_t end = match_bracket(s + close + 1, n - close - 1, '(', ')');
    if (!end)
        return 0;
    const char *url = s + close + 2;
    size_t url_len = end - 1;
    while (url_len && is_space(*url))
        url++, url_len--;
    size_t k = 0;
    while (k < url_len && !is_space(url[k])) /* a title after the destination is dropped */
        k++;
    url_len = k;
    if (url_len >= 2 && url[0] == '<' && url[url_len - 1] == '>')
        url++, url_len -= 2;
    const char *label = s + 1;
    size_t label_len = close - 1;
    bool same = label_len == url_len && !memcmp(label, url, url_len);
    if (!same && label_len) {
        inline_md(t, label, label_len, depth + 1, st, at + 1);
        text(t, " ", 1);
    }
    unsigned saved = t->style;
    text(t, "<", 1);
    set_style(t, saved | ST_UNDERLINE);
    text(t, url, url_len);
    set_style(t, saved);
    text(t, ">", 1);
    return close + 1 + end + 1;
}

/* Markdown of a card text, rendered inline with the styles in force. `base` is s's offset in
 * the whole text (for the emphasis cache). */
static void inline_md(struct term *t, const char *s, size_t n, int depth, struct inline_state *st,
                      size_t base)
{
    if (depth > MAX_INLINE) {
        text(t, s, n);
        return;
    }
    size_t i = 0, plain = 0; /* s[plain..i) is pending plain text */
    while (i < n) {
        char c = s[i];
        size_t used = 0;
        if (c == '\\' && i + 1 < n && is_punct(s[i + 1])) {
            text(t, s + plain, i - plain);
            text(t, s + i + 1, 1);
            used = 2;
        } else if (c == '[') {
            text(t, s + plain, i - plain);
            used = link(t, s + i, n - i, depth, st, base + i);
            if (!used) {
                text(t, "[", 1);
                used = 1;
            }
        } else if ((c == '*' || c == '_') && i + 1 < n && s[i + 1] == c && i + 2 < n &&
                   !is_space(s[i + 2]) && !(c == '_' && i && is_alnum(s[i - 1]))) {
            size_t close = match_emphasis(s + i, n - i, st, base + i);
            text(t, s + plain, i - plain);
            if (close) {
                unsigned saved = t->style;
                set_style(t, saved | ST_BOLD);
                inline_md(t, s + i + 2, close - 2, depth + 1, st, base + i + 2);
                set_style(t, saved);
                used = close + 2;
            } else {
                text(t, s + i, 2);
                used = 2;
            }
        } else if (c == '`') {
            size_t run = 1;
            while (i + run < n && s[i + run] == '`')
                run++;
            size_t j = i + run, close = 0;
            for (; j + run <= n && j < i + SCAN_WINDOW; j++) {
                if (s[j] != '`')
                    continue;
                size_t r = 0;
                while (j + r < n && s[j + r] == '`')
                    r++;
                if (r == run) {
                    close = j;
                    break;
                }
                j += r - 1;
            }
            if (close) { /* code: as written, backticks kept, nothing inside interpreted */
                text(t, s + plain, i - plain);
                text(t, s + i, close + run - i);
                used = close + run - i;
            } else {
                i += run;
                continue;
            }
        } else if (c == '<' && n - i >= 4 && !strncasecmp(s + i, "<at>", 4)) {
            text(t, s + plain, i - plain); /* a Teams mention: "<at>Lee</at>" reads "@Lee" */
            text(t, "@", 1);
            used = 4;
        } else if (c == '<' && n - i >= 5 && !strncasecmp(s + i, "</at>", 5)) {
            text(t, s + plain, i - plain);
            used = 5;
        } else {
            i++;
            continue;
        }
        i += used;
        plain = i;
    }
    text(t, s + plain, n - plain);
}

static void markdown(struct term *t, const char *s)
{
    if (!s)
        return;
    struct inline_state st = {{(size_t)-1, (size_t)-1}, strlen(s)};
    inline_md(t, s, st.total, 0, &st, 0);
}

/* ---- elements ---- */

static bool is_hidden(json_t *el)
{
    return json_is_false(json_object_get(el, "isVisible"));
}

static bool str_is(const char *s, const char *want)
{
    return s && !strcasecmp(s, want);
}

static unsigned text_style(json_t *el)
{
    unsigned st = 0;
    const char *size = jstr(el, "size");
    if (str_is(jstr(el, "weight"), "bolder") || str_is(size, "large") || str_is(size, "extraLarge"))
        st |= ST_BOLD;
    if (json_is_true(json_object_get(el, "isSubtle")))
        st |= ST_DIM;
    return st;
}

static void text_block(struct term *t, json_t *el)
{
    const char *s = jstr(el, "text");
    if (!s || !*s)
        return;
    block(t);
    unsigned saved = t->style;
    set_style(t, saved | text_style(el));
    markdown(t, s);
    set_style(t, saved);
}

/* RichTextBlock: text runs are not markdown; a run with an open-URL action reads "text <url>". */
static void rich_text(struct term *t, json_t *el)
{
    size_t i;
    json_t *in;
    bool started = false;
    json_array_foreach(json_object_get(el, "inlines"), i, in)
    {
        const char *s = json_is_string(in) ? json_string_value(in) : jstr(in, "text");
        if (!s)
            continue;
        if (!started)
            block(t);
        started = true;
        unsigned saved = t->style;
        set_style(t, saved | (json_is_object(in) ? text_style(in) : 0));
        text_z(t, s);
        set_style(t, saved);
        json_t *act = json_object_get(in, "selectAction");
        const char *url = jstr(act, "url");
        if (str_is(jstr(act, "type"), "Action.OpenUrl") && url && cards_url_is_link(url)) {
            text(t, " <", 2);
            text_z(t, url);
            text(t, ">", 1);
        }
    }
}

/* Columns of the rendered title (as put_clean counts them). */
static size_t title_cols(const char *s)
{
    struct buf tmp;
    buf_init(&tmp, 1 << 16);
    size_t cols = s ? put_clean(&tmp, s, strlen(s)) : 0;
    buf_release(&tmp);
    return cols;
}

static void fact_set(struct term *t, json_t *el)
{
    json_t *facts = json_object_get(el, "facts");
    size_t i, width = 0;
    json_t *f;
    json_array_foreach(facts, i, f)
    {
        size_t w = title_cols(jstr(f, "title"));
        if (w <= FACT_ALIGN_MAX && w > width)
            width = w;
    }
    json_array_foreach(facts, i, f)
    {
        const char *title = jstr(f, "title"), *value = jstr(f, "value");
        block(t);
        size_t w = 0;
        if (title && *title) {
            unsigned saved = t->style;
            set_style(t, saved | ST_BOLD);
            w = text(t, title, strlen(title));
            text(t, ":", 1);
            set_style(t, saved);
            w++;
            if (value && *value) {
                for (; w < width + 1; w++)
                    buf_append(&t->out, " ", 1);
                text(t, " ", 1);
            }
        }
        unsigned indent = t->indent;
        t->indent += (unsigned)(title && *title ? width + 2 : 0);
        markdown(t, value);
        t->indent = indent;
    }
}

static void image(struct term *t, json_t *el)
{
    if (str_is(jstr(el, "style"), "person"))
        return;
    const char *url = jstr(el, "url"), *alt = jstr(el, "altText");
    block(t);
    unsigned saved = t->style;
    set_style(t, saved | ST_DIM);
    text(t, "[image", 6);
    if (alt && *alt) {
        text(t, ": ", 2);
        text_z(t, alt);
    }
    text(t, "]", 1);
    if (url && strncasecmp(url, "data:", 5) && cards_url_is_image(url)) {
        text(t, " <", 2);
        text_z(t, url);
        text(t, ">", 1);
    }
    set_style(t, saved);
}

/* Whether a column set reads well on one line: every column one short one-line text. */
static bool columns_on_one_line(json_t *columns)
{
    size_t i;
    json_t *col;
    if (json_array_size(columns) < 2)
        return false;
    json_array_foreach(columns, i, col)
    {
        json_t *items = json_object_get(col, "items");
        const char *s = jstr(json_array_get(items, 0), "text");
        if (json_array_size(items) != 1 ||
            !str_is(jstr(json_array_get(items, 0), "type"), "TextBlock") || !s || strchr(s, '\n') ||
            strlen(s) > 60)
            return false;
    }
    return true;
}

static void render_actions(struct term *t, json_t *actions, int depth);

static void render_elements(struct term *t, json_t *items, int depth);

static void table(struct term *t, json_t *el, int depth)
{
    bool header = !json_is_false(json_object_get(el, "firstRowAsHeader"));
    size_t r;
    json_t *row;
    json_array_foreach(json_object_get(el, "rows"), r, row)
    {
        block(t);
        unsigned saved = t->style;
        if (!r && header)
            set_style(t, saved | ST_BOLD);
        size_t k;
        json_t *cell;
        json_array_foreach(json_object_get(row, "cells"), k, cell)
        {
            if (k)
                text(t, " | ", 3);
            size_t m;
            json_t *item;
            json_array_foreach(json_object_get(cell, "items"), m, item)
            {
                const char *s = jstr(item, "text");
                if (!s)
                    continue;
                if (m)
                    text(t, " ", 1);
                begin(t);
                /* one line per row: a newline inside a cell reads as a space */
                char *flat = xstrdup(s);
                for (char *p = flat; *p; p++)
                    if (*p == '\n' || *p == '\r')
                        *p = ' ';
                struct inline_state st = {{(size_t)-1, (size_t)-1}, strlen(flat)};
                inline_md(t, flat, st.total, 0, &st, 0);
                free(flat);
            }
        }
        set_style(t, saved);
    }
}

static void render_elements(struct term *t, json_t *items, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    size_t i;
    json_t *el;
    json_array_foreach(items, i, el)
    {
        const char *type = jstr(el, "type");
        if (!type || is_hidden(el))
            continue;
        if (json_is_true(json_object_get(el, "separator")))
            separator(t);
        if (!strcmp(type, "TextBlock")) {
            text_block(t, el);
        } else if (!strcmp(type, "RichTextBlock")) {
            rich_text(t, el);
        } else if (!strcmp(type, "FactSet")) {
            fact_set(t, el);
        } else if (!strcmp(type, "Image")) {
            image(t, el);
        } else if (!strcmp(type, "ImageSet")) {
            size_t k;
            json_t *img;
            json_array_foreach(json_object_get(el, "images"), k, img)
            {
                image(t, img);
            }
        } else if (!strcmp(type, "ColumnSet")) {
            json_t *columns = json_object_get(el, "columns");
            size_t k;
            json_t *col;
            if (columns_on_one_line(columns)) {
                block(t);
                json_array_foreach(columns, k, col)
                {
                    json_t *tb = json_array_get(json_object_get(col, "items"), 0);
                    if (k)
                        text(t, "  ", 2);
                    unsigned saved = t->style;
                    set_style(t, saved | text_style(tb));
                    markdown(t, jstr(tb, "text"));
                    set_style(t, saved);
                }
            } else {
                json_array_foreach(columns, k, col)
                {
                    if (!is_hidden(col))
                        render_elements(t, json_object_get(col, "items"), depth + 1);
                }
            }
        } else if (!strcmp(type, "Container") || !strcmp(type, "Column")) {
            render_elements(t, json_object_get(el, "items"), depth + 1);
        } else if (!strcmp(type, "ActionSet")) {
            render_actions(t, json_object_get(el, "actions"), depth + 1);
        } else if (!strcmp(type, "Table")) {
            table(t, el, depth);
        }
    }
}

static void render_actions(struct term *t, json_t *actions, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        const char *type = jstr(a, "type"), *title = jstr(a, "title"), *url = jstr(a, "url");
        if (!type || is_hidden(a) || !strcmp(type, "Action.ToggleVisibility"))
            continue;
        bool open = !strcmp(type, "Action.OpenUrl");
        bool enabled = !json_is_false(json_object_get(a, "isEnabled"));
        block(t);
        unsigned saved = t->style;
        set_style(t, saved | (enabled ? ST_BOLD : ST_DIM));
        text(t, "[", 1);
        text_z(t, title && *title ? title : open ? "Open" : type);
        text(t, "]", 1);
        set_style(t, saved);
        if (open && url && cards_url_is_link(url)) {
            text(t, " <", 2);
            set_style(t, saved | ST_UNDERLINE);
            text_z(t, url);
            set_style(t, saved);
            text(t, ">", 1);
        }
        if (!strcmp(type, "Action.ShowCard")) {
            json_t *card = json_object_get(a, "card");
            t->indent += 2;
            render_elements(t, json_object_get(card, "body"), depth + 1);
            render_actions(t, json_object_get(card, "actions"), depth + 1);
            t->indent -= 2;
        }
    }
}

/* The bar in the theme colour (24-bit SGR), dim without one, "┃" alone without colour. */
static void make_bar(const json_t *card, bool colour, char out[48])
{
    const char *theme = jstr(json_object_get(card, "envelope"), "themeColor");
    unsigned r, g, b;
    if (!colour)
        snprintf(out, 48, "\xe2\x94\x83");
    else if (theme && strlen(theme) == 7 && sscanf(theme, "#%2x%2x%2x", &r, &g, &b) == 3)
        snprintf(out, 48, "\x1b[38;2;%u;%u;%um\xe2\x94\x83\x1b[0m", r, g, b);
    else
        snprintf(out, 48, "\x1b[2m\xe2\x94\x83\x1b[0m");
}

/* Drops trailing empty bar lines and newlines. */
static void trim_end(struct term *t, const char *bar)
{
    size_t blen = strlen(bar);
    for (;;) {
        while (t->out.len && t->out.data[t->out.len - 1] == '\n')
            t->out.len--;
        if (blen && t->out.len >= blen && !memcmp(t->out.data + t->out.len - blen, bar, blen) &&
            (t->out.len == blen || t->out.data[t->out.len - blen - 1] == '\n'))
            t->out.len -= blen;
        else
            break;
    }
    t->out.data[t->out.len] = '\0';
}

static void term_init(struct term *t, bool colour, const char *bar)
{
    memset(t, 0, sizeof *t);
    buf_init(&t->out, 1 << 22);
    buf_append(&t->out, "", 0);
    t->colour = colour;
    t->bar = bar;
}

char *cards_render_term(const json_t *card, bool colour)
{
    char bar[48];
    make_bar(card, colour, bar);
    struct term t;
    term_init(&t, colour, bar);
    json_t *content = json_object_get(card, "content");
    render_elements(&t, json_object_get(content, "body"), 0);
    render_actions(&t, json_object_get(content, "actions"), 0);
    block(&t);
    if (!t.lines) { /* nothing shown: the summary, else the fallback text */
        json_t *env = json_object_get(card, "envelope");
        const char *s = jstr(env, "summary");
        if (!s || !*s)
            s = jstr(env, "fallback");
        text_z(&t, s);
        block(&t);
    }
    trim_end(&t, bar);
    return t.out.data;
}

char *cards_render_term_text(const char *markdown_text, bool colour)
{
    struct term t;
    term_init(&t, colour, "");
    markdown(&t, markdown_text);
    block(&t);
    trim_end(&t, "");
    return t.out.data;
}
