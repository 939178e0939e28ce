/* render_html_test.c: cards_render_html (src/cards/render_html.c), the e-mail rendering of a card.
 * The XSS table: hostile payloads of every dialect go through cards_from_payload and the
 * renderer, and hostile canonical cards (as no adapter makes them) straight into the renderer;
 * every output must keep to the allow-list of html_check.h (tags, attributes, http/https/mailto
 * hrefs, http/https srcs, no event handlers, only the renderer's own styles) and still show the
 * sender's text, escaped. Then the layout on a hand-built card, markdown, the limits, and
 * rendering from several threads at once (cmark-gfm's global tables). */
#define _GNU_SOURCE /* strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "cards/cards.h"
#include "html_check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j)
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    return j;
}

/* Renders the card, checks the allow-list; the caller frees the HTML. */
static char *render_checked(const json_t *card, const char *name)
{
    char *html = cards_render_html(card);
    assert_non_null(html);
    char why[400];
    if (!html_check(html, why, sizeof why))
        fail_msg("%s: %s\n--- html\n%s", name, why, html);
    return html;
}

/* Every string of `visible` (NULL-terminated) is in the text a reader sees, every one of `raw`
 * in the HTML; no string of `absent` is anywhere in the HTML (case-insensitive). */
static void expect_text(const char *name, const char *html, const char *const *visible,
                        const char *const *raw, const char *const *absent)
{
    char *text = html_visible_text(html);
    for (const char *const *v = visible; v && *v; v++)
        if (!strstr(text, *v))
            fail_msg("%s: \"%s\" is not shown\n--- text\n%s\n--- html\n%s", name, *v, text, html);
    for (const char *const *r = raw; r && *r; r++)
        if (!strstr(html, *r))
            fail_msg("%s: \"%s\" is not in the HTML\n--- html\n%s", name, *r, html);
    for (const char *const *a = absent; a && *a; a++)
        if (strcasestr(html, *a))
            fail_msg("%s: \"%s\" is in the HTML\n--- html\n%s", name, *a, html);
    free(text);
}

/* Strings no output may hold: markup that would run or load something, and attribute values
 * with other schemes (text may show "javascript:" or "onerror=", escaped; html_check makes sure
 * no attribute holds them). */
#define DANGER                                                                                     \
    "<script", "<iframe", "<object", "<embed", "<form", "<input", "<svg", "<style", "<math",       \
        "<link", "<meta", "<base", "=\"javascript", "=\"vbscript", "=\"data:", "=\" "

struct xss_case {
    const char *name;
    const char *payload;
    const char *visible[10]; /* shown to the reader */
    const char *raw[4];      /* in the HTML as written here */
};

/* Payloads as senders post them: every dialect, every trick. */
static const struct xss_case payload_cases[] = {
    {"messagecard/script in text",
     "{\"@type\":\"MessageCard\",\"summary\":\"s\",\"title\":\"<script>alert(1)</script>Deploy\","
     "\"text\":\"before <script>alert(document.cookie)</script> after\"}",
     {"<script>alert(1)</script>Deploy", "before <script>alert(document.cookie)</script> after"},
     {NULL}},
    {"messagecard/img onerror",
     "{\"@type\":\"MessageCard\",\"text\":\"<img src=x onerror=alert(1)> hi\","
     "\"sections\":[{\"activityTitle\":\"<img src=x onerror=alert(2)>\","
     "\"activityImage\":\"javascript:alert(3)\"}]}",
     {"<img src=x onerror=alert(1)> hi", "<img src=x onerror=alert(2)>"},
     {NULL}},
    {"messagecard/markdown links",
     "{\"@type\":\"MessageCard\",\"text\":\"[a](javascript:alert(1)) [b](javascript&#58;alert(2)) "
     "[c](JaVaScRiPt:alert(3)) [d](vbscript:msgbox(4)) [e](data:text/html,<script>5</script>) "
     "[f](%6Aavascript:alert(6)) <javascript:alert(7)> [ok](https://ok.example.org/x?a=1&b=2)\"}",
     {"a b c d e f javascript:alert(7) ok"},
     {"<a href=\"https://ok.example.org/x?a=1&amp;b=2\""}},
    {"messagecard/reference links",
     "{\"@type\":\"MessageCard\",\"text\":\"[x][bad] and [y][good]\\n\\n[bad]: "
     "javascript:alert(1)\\n[good]: https://good.example.org/\"}",
     {"[x][bad] and y"},
     {"<a href=\"https://good.example.org/\""}},
    {"messagecard/actions and facts",
     "{\"@type\":\"MessageCard\",\"text\":\"t\",\"sections\":[{\"facts\":[{\"name\":\"\\\"><"
     "script>alert(1)</script>\",\"value\":\"<svg onload=alert(2)>\"}],\"images\":[{\"image\":"
     "\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\",\"title\":\"\\\" onload=\\\"x\"}],"
     "\"heroImage\":{\"image\":\"https://img.example.org/h.png\\\" onerror=\\\"alert(1)\"}}],"
     "\"potentialAction\":[{\"@type\":\"OpenUri\",\"name\":\"Go\",\"targets\":[{\"os\":\"default\","
     "\"uri\":\"javascript:alert(1)\"}]},{\"@type\":\"HttpPOST\",\"name\":\"<b>Approve</b>\","
     "\"target\":\"https://x.example.org\"}]}",
     {"\"><script>alert(1)</script>", "<svg onload=alert(2)>", "[image: \" onload=\"x]",
      "Not available by e-mail: <b>Approve</b>"},
     {"<img src=\"https://img.example.org/h.png%22%20onerror=%22alert(1)\""}},
    {"messagecard/html section",
     "{\"@type\":\"MessageCard\",\"summary\":\"s\",\"sections\":[{\"markdown\":false,\"text\":"
     "\"<a href=\\\"javascript:alert(1)\\\">click</a> <svg onload=alert(2)>x</svg> "
     "<iframe src=\\\"https://evil.example\\\"></iframe>y &lt;b&gt;\"}]}",
     {"click", "x", "y <b>"},
     {NULL}},
    {"messagecard/style injection",
     "{\"@type\":\"MessageCard\",\"text\":\"t\",\"themeColor\":\"red;background:url(https://evil."
     "example/x)\",\"sections\":[{\"title\":\"<style>*{display:none}</style>shown\","
     "\"text\":\"<div style=\\\"position:fixed\\\">box</div>\"}]}",
     {"<style>*{display:none}</style>shown", "<div style=\"position:fixed\">box</div>"},
     {NULL}},
    {"adaptive/hostile elements",
     "{\"type\":\"message\",\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card."
     "adaptive\",\"content\":{\"type\":\"AdaptiveCard\",\"body\":["
     "{\"type\":\"TextBlock\",\"text\":\"<div onclick=alert(1)>raw block</div>\","
     "\"color\":\"red;background:url(x)\",\"size\":\"x\\\" onmouseover=\\\"alert(1)\"},"
     "{\"type\":\"Image\",\"url\":\"javascript:alert(1)\",\"altText\":\"gone\"},"
     "{\"type\":\"Image\",\"url\":\"https://img.example.org/a.png\",\"altText\":\"\\\"><script>"
     "alert(1)</script>\"},"
     "{\"type\":\"Image\",\"url\":\"data:image/png;base64,iVBORw0KGgo=\",\"altText\":\"pixel\"},"
     "{\"type\":\"RichTextBlock\",\"inlines\":[{\"type\":\"TextRun\",\"text\":\"run<i>\","
     "\"selectAction\":{\"type\":\"Action.OpenUrl\",\"url\":\"vbscript:msgbox(1)\"}}]},"
     "{\"type\":\"Container\",\"style\":\"emphasis\\\" onclick=\\\"x\",\"items\":["
     "{\"type\":\"TextBlock\",\"text\":\"in container\"}]},"
     "{\"type\":\"Media\",\"poster\":\"javascript:x\",\"sources\":[{\"url\":\"javascript:y\"}]},"
     "{\"type\":\"Input.Text\",\"id\":\"i\",\"label\":\"<b>Reason</b>\"},"
     "{\"type\":\"Table\",\"rows\":[{\"type\":\"TableRow\",\"cells\":[{\"type\":\"TableCell\","
     "\"items\":[{\"type\":\"TextBlock\",\"text\":\"<iframe src=x>cell\"}]}]}]}],"
     "\"actions\":[{\"type\":\"Action.OpenUrl\",\"title\":\"js\",\"url\":\" javascript:alert(1)\"},"
     "{\"type\":\"Action.OpenUrl\",\"title\":\"<u>ok</u>\",\"url\":\"https://ok.example.org/\\\"><"
     "script>\"},{\"type\":\"Action.Submit\",\"title\":\"<script>go</script>\"},"
     "{\"type\":\"Action.ShowCard\",\"title\":\"More\",\"card\":{\"type\":\"AdaptiveCard\","
     "\"body\":[{\"type\":\"TextBlock\",\"text\":\"hidden\"}]}}]}}]}",
     {"<div onclick=alert(1)>raw block</div>", "[image: pixel]", "run<i>", "in container",
      "[form field: <b>Reason</b>]", "<iframe src=x>cell", "<u>ok</u>",
      "Not available by e-mail: <script>go</script>, More"},
     {"alt=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"",
      "href=\"https://ok.example.org/%22%3E%3Cscript%3E\""}},
    {"adaptive/markdown raw html and autolinks",
     "{\"type\":\"AdaptiveCard\",\"body\":[{\"type\":\"TextBlock\",\"text\":\"<script>\\nalert(1)"
     "\\n</script>\\n\\n<!-- comment -->\\n\\nx <a href=\\\"javascript:alert(1)\\\">y</a> "
     "<javascript:alert(2)> <vbscript:z> www.example.org <mailto:a@example.org> "
     "![t](https://tracker.example/p.gif)\"}]}",
     {"<script>\nalert(1)\n</script>", "<!-- comment -->",
      "x <a href=\"javascript:alert(1)\">y</a>", "javascript:alert(2) vbscript:z www.example.org",
      "[image: t]"},
     {"<a href=\"http://www.example.org\"", "<a href=\"mailto:a@example.org\"",
      "<a href=\"https://tracker.example/p.gif\""}},
    {"slack/links and attachments",
     "{\"text\":\"<javascript:alert(1)|click me> <https://ok.example.org|fine> "
     "<data:text/html,x|data>\",\"attachments\":[{\"title\":\"<script>t</script>\","
     "\"title_link\":\"javascript:alert(1)\",\"image_url\":\"data:image/png;base64,AAAA\","
     "\"fields\":[{\"title\":\"<img src=x onerror=alert(1)>\",\"value\":\"v\"}],"
     "\"color\":\"#ff0000\\\";x:\\\"\"}]}",
     {"click me fine data", "<script>t</script>", "<img src=x onerror=alert(1)>", "[image]"},
     {"<a href=\"https://ok.example.org\""}},
    {"slack/blocks",
     "{\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"*bold* "
     "<javascript:x|bad>\"},\"accessory\":{\"type\":\"button\",\"text\":{\"type\":\"plain_text\","
     "\"text\":\"<b>Btn</b>\"},\"url\":\"javascript:alert(1)\"}},{\"type\":\"image\",\"image_url\":"
     "\"https://img.example.org/x.png\\\"onerror=\\\"alert(1)\",\"alt_text\":\"' onload='x\"}]}",
     {"bold bad"},
     {"<strong>bold</strong>", "src=\"https://img.example.org/x.png%22onerror=%22alert(1)\"",
      "alt=\"&#39; onload=&#39;x\""}},
    {"slack/sender override",
     "{\"text\":\"hi\",\"username\":\"<b onmouseover=alert(1)>Evil</b>\",\"icon_url\":"
     "\"javascript:alert(1)\"}",
     {"<b onmouseover=alert(1)>Evil</b> via Hook \"<script>\" & co", "hi"},
     {NULL}},
    {"discord/content and embeds",
     "{\"content\":\"**hi** [x](javascript:alert(1)) <iframe src=//evil.example>\","
     "\"username\":\"<svg onload=alert(1)>\",\"embeds\":[{\"title\":\"<style>t</style>\","
     "\"url\":\"javascript:alert(1)\",\"description\":\"data:text/html,<script>alert(1)</script>\","
     "\"image\":{\"url\":\"data:image/png;base64,AAAA\"},\"thumbnail\":{\"url\":\"https://img."
     "example.org/t.png\"},\"author\":{\"name\":\"<object data=x>\",\"url\":\"vbscript:x\"},"
     "\"footer\":{\"text\":\"f<embed>\",\"icon_url\":\"javascript:x\"},\"fields\":[{\"name\":"
     "\"<form action=x>\",\"value\":\"<input name=p>\"}]}]}",
     {"hi x <iframe src=//evil.example>", "<svg onload=alert(1)>", "<style>t</style>",
      "data:text/html,<script>alert(1)</script>", "<object data=x>", "<form action=x>",
      "<input name=p>", "f<embed>", "[image]"},
     {"src=\"https://img.example.org/t.png\""}},
    {"text/quotes and unicode",
     "{\"text\":\"<script>alert('x')</script> & \\\"quotes\\\" 'single'\\n\\nnext "
     "\\u202ejavascript:alert(1) "
     "[fw](\\uff4a\\uff41\\uff56\\uff41\\uff53\\uff43\\uff52\\uff49\\uff50\\uff54:alert(1)) "
     "[zw](java\\u200bscript:alert(1)) [nl](java\\nscript:alert(1)) \\u0001ctl "
     "[rtl](https://ok.example.org/\\u202egnp.exe)\"}",
     {"<script>alert('x')</script> & \"quotes\" 'single'",
      "next \u202ejavascript:alert(1) fw zw nl ctl rtl"},
     {"href=\"https://ok.example.org/%E2%80%AEgnp.exe\""}},
};

static void xss_payloads(void **state)
{
    (void)state;
    static const char *const absent[] = {DANGER, NULL};
    for (size_t i = 0; i < sizeof payload_cases / sizeof payload_cases[0]; i++) {
        const struct xss_case *c = &payload_cases[i];
        json_t *payload = parse(c->payload);
        struct card card;
        char msg[160];
        int rc = cards_from_payload(payload, CARD_AUTO, NULL, &card, msg);
        if (rc)
            fail_msg("%s: refused: %s", c->name, msg);
        card_set_sender(&card, "Hook \"<script>\" & co", NULL);
        char *html = render_checked(card.json, c->name);
        expect_text(c->name, html, c->visible, c->raw, absent);
        free(html);
        card_release(&card);
        json_decref(payload);
    }
}

/* Canonical cards no adapter makes: the renderer must hold the line on its own. */
static const struct xss_case card_cases[] = {
    {"card/envelope",
     "{\"envelope\":{\"themeColor\":\"#000000;background-image:url(https://evil.example/x)\","
     "\"sender\":{\"name\":\"<script>alert(1)</script>\",\"image\":\"javascript:x\"},"
     "\"via\":\"\\\"><img src=x onerror=alert(1)>\"},\"content\":{\"body\":[]}}",
     {"<script>alert(1)</script>", "via \"><img src=x onerror=alert(1)>"},
     {NULL}},
    {"card/unfiltered urls",
     "{\"envelope\":{},\"content\":{\"body\":["
     "{\"type\":\"Image\",\"url\":\"javascript:alert(1)\",\"altText\":\"a\"},"
     "{\"type\":\"Image\",\"url\":\"data:image/svg+xml,<svg onload=alert(1)>\"},"
     "{\"type\":\"Image\",\"url\":\"https://x.example/\\\" onerror=\\\"alert(1)\\\" x=\\\"\","
     "\"selectAction\":{\"type\":\"Action.OpenUrl\",\"url\":\"javascript:alert(2)\"}},"
     "{\"type\":\"ImageSet\",\"images\":[{\"type\":\"Image\",\"url\":\"vbscript:x\"},"
     "{\"type\":\"Image\",\"url\":\"//evil.example/x.png\"}]},"
     "{\"type\":\"RichTextBlock\",\"inlines\":[{\"type\":\"TextRun\",\"text\":\"r\",\"url\":"
     "\"javascript:alert(1)\"},\"<plain>\"]},"
     "{\"type\":\"Media\",\"poster\":\"data:image/png;base64,AA\",\"altText\":\"clip\","
     "\"sources\":[{\"url\":\"data:video/mp4;base64,AA\"}]},"
     "{\"type\":\"TextBlock\",\"text\":\"[x](javascript:alert(1)) [y](data:text/html,z) "
     "[rel](/relative/path) [proto](//evil.example/)\"}],"
     "\"actions\":[{\"type\":\"Action.OpenUrl\",\"title\":\"t\",\"url\":\"data:text/"
     "html,<script>\"},"
     "{\"type\":\"Action.OpenUrl\",\"url\":\"JAVASCRIPT:alert(1)\"},"
     "{\"type\":\"Action.ToggleVisibility\",\"title\":\"Toggle\"}]}}",
     {"[image: a]", "[image]", "r<plain>", "[media: clip]", "x y rel proto",
      "Not available by e-mail: t, OpenUrl, Toggle"},
     {"src=\"https://x.example/%22%20onerror=%22alert(1)%22%20x=%22\""}},
    {"card/style and attribute injection",
     "{\"envelope\":{\"themeColor\":\"#12345G\"},\"content\":{\"body\":["
     "{\"type\":\"TextBlock\",\"text\":\"t\",\"size\":\"large;background:url(x)\",\"weight\":"
     "\"bolder\\\" onclick=\\\"x\",\"color\":\"attention\\\" style=\\\"x\",\"horizontalAlignment\":"
     "\"center;position:fixed\",\"style\":\"x\"},"
     "{\"type\":\"Container\",\"style\":\"good;background:url(x)\",\"items\":[]},"
     "{\"type\":\"ColumnSet\",\"columns\":[{\"type\":\"Column\",\"width\":\"1px\\\" "
     "onclick=\\\"x\","
     "\"items\":[{\"type\":\"TextBlock\",\"text\":\"c1\"}]},{\"type\":\"Column\",\"width\":"
     "\"auto\",\"items\":[{\"type\":\"TextBlock\",\"text\":\"c2\"}]}]},"
     "{\"type\":\"Image\",\"url\":\"https://img.example.org/i.png\",\"size\":\"100\\\" "
     "onload=\\\"x\","
     "\"width\":\"1px;background:url(x)\",\"style\":\"person\\\" x=\\\"\"},"
     "{\"type\":\"FactSet\",\"facts\":[{\"title\":\"<object>\",\"value\":\"<embed src=x>\"}]}]}}",
     {"t", "c1", "c2", "<object>", "<embed src=x>"},
     {NULL}},
    {"card/newlines in attributes", /* found by fuzz_card_html: alt is no place for <br> */
     "{\"content\":{\"body\":[{\"type\":\"Media\",\"poster\":\"https://i.example/p.png\","
     "\"altText\":\"two\\nlines\"},{\"type\":\"Image\",\"url\":\"https://i.example/q.png\","
     "\"altText\":\"a\\nb\"}]}}",
     {"[media: two\nlines]"},
     {"alt=\"two\nlines\"", "alt=\"a\nb\""}},
    {"card/unknown types and fallbacks",
     "{\"content\":{\"body\":[{\"type\":\"Script\",\"text\":\"<script>hidden</script>\"},"
     "{\"type\":\"Chart.Pie\",\"fallback\":{\"type\":\"TextBlock\",\"text\":\"<b>fallback</b>\"}},"
     "{\"type\":\"TextBlock\",\"text\":\"invisible\",\"isVisible\":false},"
     "{\"type\":\"TextBlock\",\"text\":12},{\"type\":[1]},42,\"str\",null]}}",
     {"<b>fallback</b>"},
     {NULL}},
};

static void xss_canonical_cards(void **state)
{
    (void)state;
    static const char *const absent[] = {DANGER, "hidden", "invisible", NULL};
    for (size_t i = 0; i < sizeof card_cases / sizeof card_cases[0]; i++) {
        const struct xss_case *c = &card_cases[i];
        json_t *card = parse(c->payload);
        char *html = render_checked(card, c->name);
        expect_text(c->name, html, c->visible, c->raw, absent);
        free(html);
        json_decref(card);
    }
}

/* The checker itself: what it must refuse. */
static void checker_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "<script>x</script>",
        "<p onclick=\"x\">a</p>",
        "<a href=\"javascript:x\">a</a>",
        "<a href=\"&#106;avascript:x\">a</a>",
        "<a>a</a>",
        "<img src=\"data:image/png;base64,AA\" alt=\"a\">",
        "<img src=\"https://x/\">",
        "<p style=\"background:url(x);\">a</p>",
        "<p style=\"color:red\">a</p>",
        "<p style=\"position:fixed;\">a</p>",
        "<p>a &nbsp; b</p>",
        "<p>a > b</p>",
        "<p>it's</p>",
        "<p>a",
        "<p>a</div>",
        "<P>a</P>",
        "<p class=\"x\">a</p>",
        "<p style='color:red;'>a</p>",
        "<!-- x -->",
        "<iframe></iframe>",
        "<table role=\"main\"></table>",
        "a\x01",
    };
    char why[400];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (html_check(bad[i], why, sizeof why))
            fail_msg("the checker accepts %s", bad[i]);
    assert_true(html_check("<p style=\"color:#242424;\">a &amp; b<br></p>", why, sizeof why));
}

/* The layout on a card like the MessageCard adapter makes. */
static void layout(void **state)
{
    (void)state;
    json_t *card = parse(
        "{\"envelope\":{\"themeColor\":\"#0076D7\",\"sender\":{\"name\":\"CI\"},\"via\":"
        "\"Deploys\"},"
        "\"content\":{\"body\":["
        "{\"type\":\"TextBlock\",\"text\":\"Release "
        "4.2\",\"size\":\"Large\",\"weight\":\"Bolder\"},"
        "{\"type\":\"Container\",\"separator\":true,\"items\":["
        "{\"type\":\"ColumnSet\",\"columns\":[{\"type\":\"Column\",\"width\":\"auto\",\"items\":"
        "[{\"type\":\"Image\",\"url\":\"https://img.example.org/a.png\",\"size\":\"Small\","
        "\"style\":\"Person\",\"altText\":\"Ann\"}]},{\"type\":\"Column\",\"width\":\"stretch\","
        "\"items\":[{\"type\":\"TextBlock\",\"text\":\"Ann\",\"weight\":\"Bolder\"}]}]},"
        "{\"type\":\"FactSet\",\"facts\":[{\"title\":\"Env\",\"value\":\"**prod**\"}]},"
        "{\"type\":\"Image\",\"url\":\"data:image/png;base64,AAAA\",\"altText\":\"chart\"},"
        "{\"type\":\"ActionSet\",\"actions\":[{\"type\":\"Action.OpenUrl\",\"title\":\"Logs\","
        "\"url\":\"https://ci.example.org/logs?a=1&b=2\"}]}]}],"
        "\"actions\":[{\"type\":\"Action.OpenUrl\",\"title\":\"Open\",\"url\":"
        "\"https://ci.example.org/r/42\"},{\"type\":\"Action.Submit\",\"title\":\"Approve\"},"
        "{\"type\":\"Action.ShowCard\",\"title\":\"Comment\",\"card\":{\"body\":[]}}]}}");
    char *html = render_checked(card, "layout");
    static const char *const has[] = {
        "border-left:4px solid #0076D7;",
        "<strong style=\"font-size:14px;color:#242424;\">CI</strong> via Deploys</p>",
        "<div style=\"font-size:18px;line-height:24px;font-weight:bold;\"><p style=\"margin:0 0 "
        "8px 0;\">Release 4.2</p>",
        "<hr style=",
        "<td valign=\"top\" width=\"1%\"",
        "<img src=\"https://img.example.org/a.png\" alt=\"Ann\" width=\"32\"",
        "border-radius:50%;",
        ">Env</td><td valign=\"top\"",
        "<strong>prod</strong></td></tr>",
        ">[image: chart]</p>",
        "<a href=\"https://ci.example.org/logs?a=1&amp;b=2\" style=\"display:inline-block;",
        ">Logs</a>",
        "<a href=\"https://ci.example.org/r/42\"",
        ">Not available by e-mail: Approve, Comment</p>",
    };
    for (size_t i = 0; i < sizeof has / sizeof has[0]; i++)
        if (!strstr(html, has[i]))
            fail_msg("layout: \"%s\" missing\n--- html\n%s", has[i], html);
    assert_true(!strncmp(html, "<table role=\"presentation\"", 26));
    assert_true(strlen(html) > 8 && !strcmp(html + strlen(html) - 8, "</table>"));
    free(html);
    json_decref(card);
}

/* No sender yet, no theme, nothing at all: still a frame. */
static void defaults(void **state)
{
    (void)state;
    char *html = render_checked(NULL, "NULL");
    assert_non_null(strstr(html, ">Connector</strong></p>"));
    assert_non_null(strstr(html, "border-left:4px solid #E0E0E0;"));
    free(html);
    json_t *card = parse("[1,2]");
    html = render_checked(card, "array");
    free(html);
    json_decref(card);
}

static void markdown(void **state)
{
    (void)state;
    json_t *card =
        json_pack("{s:{s:[{s:s, s:s}]}}", "content", "body", "type", "TextBlock", "text",
                  "# Head\n\nSome *em*, **strong**, ~~gone~~, `code <x>` and\nsoft break.\n\n"
                  "3. three\n4. four\n\n- a\n- b\n\n> quoted\n\n```\nif (a < b) {}\n```\n\n"
                  "| h1 | h2 |\n|:--|--:|\n| c1 | c2 |\n\n---\n\n[label](https://x.example/a b)\n"
                  "[](https://empty.example/)");
    char *html = render_checked(card, "markdown");
    static const char *const has[] = {
        "font-weight:bold;font-size:18px;line-height:24px;\">Head</p>",
        "<em>em</em>",
        "<strong>strong</strong>",
        "<del>gone</del>",
        ">code &lt;x&gt;</code>",
        "and<br>soft break.",
        "<ol start=\"3\" style=",
        "<li>three</li>",
        "<li>a</li>",
        "<blockquote style=",
        "white-space:pre-wrap;\">if (a &lt; b) {}\n</pre>",
        "<th style=\"font-weight:bold;text-align:left;",
        "<td style=\"text-align:right;",
        "<hr style=",
        ">https://empty.example/</a>",
    };
    for (size_t i = 0; i < sizeof has / sizeof has[0]; i++)
        if (!strstr(html, has[i]))
            fail_msg("markdown: \"%s\" missing\n--- html\n%s", has[i], html);
    free(html);
    json_decref(card);
}

/* Deep nesting (elements and markdown) and an output past the cap. */
static void limits(void **state)
{
    (void)state;
    json_t *deep = json_pack("{s:s, s:s}", "type", "TextBlock", "text", "bottom");
    for (int i = 0; i < 200; i++)
        deep = json_pack("{s:s, s:[o]}", "type", i % 2 ? "Container" : "Column", "items", deep);
    json_t *card = json_pack("{s:{s:[o]}}", "content", "body", deep);
    char *html = render_checked(card, "deep elements");
    assert_null(strstr(html, "bottom")); /* past the depth shown */
    free(html);
    json_decref(card);

    json_t *cols = json_pack("{s:s, s:s}", "type", "TextBlock", "text", "inner");
    for (int i = 0; i < 10; i++)
        cols = json_pack("{s:s, s:[{s:[o]}, {s:[{s:s, s:s}]}]}", "type", "ColumnSet", "columns",
                         "items", cols, "items", "type", "TextBlock", "text", "side");
    card = json_pack("{s:{s:[o]}}", "content", "body", cols);
    html = render_checked(card, "nested columns");
    assert_non_null(strstr(html, "inner"));
    size_t tables = 0;
    for (const char *p = html; (p = strstr(p, "<table")); p++)
        tables++;
    assert_int_equal(tables, 1 + 2); /* the frame and two levels of columns side by side */
    free(html);
    json_decref(card);

    char *quotes = malloc(20001);
    for (int i = 0; i < 20000; i += 2)
        memcpy(quotes + i, i % 4 ? "- " : "> ", 2);
    quotes[20000] = '\0';
    card =
        json_pack("{s:{s:[{s:s, s:s}]}}", "content", "body", "type", "TextBlock", "text", quotes);
    html = render_checked(card, "deep markdown");
    free(html);
    json_decref(card);
    free(quotes);

    /* a wide table header over many one-cell rows: cmark-gfm would fill 24 million cells */
    struct buf t;
    buf_init(&t, 1 << 20);
    for (int i = 0; i < 4000; i++)
        buf_append(&t, "|a", 2);
    buf_append(&t, "|\n", 2);
    for (int i = 0; i < 4000; i++)
        buf_append(&t, "|-", 2);
    buf_append(&t, "|\n", 2);
    for (int i = 0; i < 6000; i++)
        buf_append(&t, "a\n", 2);
    card =
        json_pack("{s:{s:[{s:s, s:s}]}}", "content", "body", "type", "TextBlock", "text", t.data);
    html = render_checked(card, "table bomb");
    assert_null(strstr(html, "<th")); /* shown as text */
    assert_non_null(strstr(html, "|a|a|a|"));
    free(html);
    json_decref(card);
    buf_release(&t);

    size_t n = 3u << 20; /* 3 MB of '"' are 18 MB of "&quot;", past the 16 MB cap */
    char *big = malloc(n + 1);
    memset(big, '"', n);
    big[n] = '\0';
    card = json_pack("{s:{s:s}, s:{s:[{s:s, s:s}]}}", "envelope", "themeColor", "#2EB67D",
                     "content", "body", "type", "TextBlock", "text", big);
    html = render_checked(card, "too large");
    assert_non_null(strstr(html, "This card is too large to show here."));
    assert_non_null(strstr(html, "#2EB67D"));
    free(html);
    json_decref(card);

    size_t m = 17u << 20; /* a sender's name too large even for the note's frame */
    char *name = malloc(m + 1);
    memset(name, 'a', m);
    name[m] = '\0';
    card = json_pack("{s:{s:{s:s}}}", "envelope", "sender", "name", name);
    free(name);
    html = render_checked(card, "name too large");
    assert_non_null(strstr(html, ">Connector</strong>"));
    assert_non_null(strstr(html, "This card is too large to show here."));
    free(html);
    json_decref(card);
    free(big);
}

struct thread_arg {
    const json_t *card;
    const char *expected;
    bool same;
};

static void *render_many(void *p)
{
    struct thread_arg *a = p;
    a->same = true;
    for (int i = 0; i < 200; i++) {
        char *html = cards_render_html(a->card);
        a->same &= !strcmp(html, a->expected);
        free(html);
    }
    return NULL;
}

/* cmark-gfm switches its extensions' characters in global tables around each parse. */
static void threads(void **state)
{
    (void)state;
    json_t *card = json_pack("{s:{s:[{s:s, s:s}]}}", "content", "body", "type", "TextBlock", "text",
                             "~~a~~ *b* www.example.org\n\n| x |\n|---|\n| y |");
    char *expected = render_checked(card, "threads");
    assert_non_null(strstr(expected, "<del>a</del>"));
    pthread_t t[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){.card = card, .expected = expected};
        assert_int_equal(pthread_create(&t[i], NULL, render_many, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_true(args[i].same);
    }
    free(expected);
    json_decref(card);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xss_payloads),    cmocka_unit_test(xss_canonical_cards),
        cmocka_unit_test(checker_refuses), cmocka_unit_test(layout),
        cmocka_unit_test(defaults),        cmocka_unit_test(markdown),
        cmocka_unit_test(limits),          cmocka_unit_test(threads),
    };
    return cmocka_run_group_tests_name("cards/render_html", tests, NULL, NULL);
}
