/* cards_test.c: the pieces of src/cards/ the golden fixtures do not pin down one by one: dialect
 * detection by shape, colours, the URL filters, Slack mrkdwn conversion, the plain-text renderer
 * on a hand-built card, the sender override, limits, and every fixture input run through every
 * adapter (leaks and crashes show under ASan). Usage: cards_test <fixtures dir>. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "cards/cards_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *fixtures_dir;

static json_t *parse(const char *text)
{
    int err = 0;
    char msg[160];
    json_t *j = json_parse_object(text, strlen(text), JSON_MAX_DEPTH, &err, msg);
    if (!j)
        fail_msg("bad test JSON %s: %s", text, msg);
    return j;
}

/* ---- detection ---- */

static void detect_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        enum card_dialect d;
    } cases[] = {
        {"{\"@type\":\"MessageCard\",\"text\":\"x\"}", CARD_MESSAGECARD},
        {"{\"type\":\"MessageCard\",\"text\":\"x\"}", CARD_MESSAGECARD}, /* Alertmanager */
        {"{\"@type\":\"messagecard\",\"text\":\"x\"}", CARD_MESSAGECARD},
        {"{\"@type\":\"MessageCard\",\"type\":\"message\",\"attachments\":[]}", CARD_MESSAGECARD},
        {"{\"summary\":\"s\"}", CARD_MESSAGECARD},
        {"{\"sections\":[],\"text\":\"x\"}", CARD_MESSAGECARD},
        {"{\"themeColor\":\"0076D7\",\"text\":\"x\"}", CARD_MESSAGECARD},
        {"{\"potentialAction\":[],\"text\":\"x\"}", CARD_MESSAGECARD},
        {"{\"@context\":\"https://schema.org/extensions\",\"text\":\"x\"}", CARD_MESSAGECARD},
        {"{\"type\":\"message\",\"attachments\":[]}", CARD_ADAPTIVE},
        {"{\"type\":\"Message\",\"attachments\":[{}]}", CARD_ADAPTIVE},
        {"{\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card.adaptive\"}]}",
         CARD_ADAPTIVE},
        {"{\"attachments\":[{\"contentType\":\"APPLICATION/VND.MICROSOFT.CARD.HERO\"}]}",
         CARD_ADAPTIVE},
        {"{\"text\":\"x\",\"attachments\":[{\"color\":\"good\"}]}", CARD_SLACK},
        {"{\"blocks\":[]}", CARD_SLACK},
        {"{\"text\":\"x\",\"username\":\"u\"}", CARD_SLACK},
        {"{\"text\":\"x\",\"icon_emoji\":\":ghost:\"}", CARD_SLACK},
        {"{\"text\":\"x\",\"icon_url\":\"https://a/b.png\"}", CARD_SLACK},
        {"{\"text\":\"x\",\"mrkdwn\":true}", CARD_SLACK},
        {"{\"text\":\"x\",\"thread_ts\":\"1.2\"}", CARD_SLACK},
        {"{\"text\":\"x\",\"channel\":\"#ops\"}", CARD_SLACK},
        {"{\"content\":\"x\"}", CARD_DISCORD},
        {"{\"embeds\":[]}", CARD_DISCORD},
        {"{\"tts\":false}", CARD_DISCORD},
        {"{\"avatar_url\":\"https://a/b.png\",\"username\":\"u\"}", CARD_DISCORD},
        {"{\"content\":\"x\",\"username\":\"u\"}", CARD_DISCORD}, /* discord keys win */
        {"{\"text\":\"x\"}", CARD_TEXT},
        {"{}", CARD_TEXT},
        {"{\"type\":\"AdaptiveCard\",\"body\":[]}", CARD_TEXT}, /* unwrapped by the caller */
        {"{\"@type\":42,\"text\":\"x\"}", CARD_TEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *p = parse(cases[i].json);
        enum card_dialect d = cards_detect(p);
        if (d != cases[i].d)
            fail_msg("%s: detected %s, expected %s", cases[i].json, card_dialect_name(d),
                     card_dialect_name(cases[i].d));
        json_decref(p);
    }
}

/* The shapes cards_detect does not see alone: a bare card and a bot-style attachment wrapper. */
static void unwrapped_adaptive_shapes(void **state)
{
    (void)state;
    static const char *const shapes[] = {
        "{\"type\":\"AdaptiveCard\",\"body\":[{\"type\":\"TextBlock\",\"text\":\"hi\"}]}",
        "{\"contentType\":\"application/vnd.microsoft.card.adaptive\",\"content\":"
        "{\"type\":\"AdaptiveCard\",\"body\":[{\"type\":\"TextBlock\",\"text\":\"hi\"}]}}",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        json_t *p = parse(shapes[i]);
        json_t *copy = json_deep_copy(p);
        struct card c;
        char msg[160];
        assert_int_equal(cards_from_payload(p, CARD_AUTO, NULL, &c, msg), 0);
        assert_int_equal(c.dialect, CARD_ADAPTIVE);
        assert_string_equal(c.fallback, "hi");
        assert_true(json_equal(p, copy)); /* the payload is only read */
        card_release(&c);
        json_decref(copy);
        json_decref(p);
    }
}

static void dialect_names(void **state)
{
    (void)state;
    assert_string_equal(card_dialect_name(CARD_AUTO), "auto");
    assert_string_equal(card_dialect_name(CARD_MESSAGECARD), "messagecard");
    assert_string_equal(card_dialect_name(CARD_ADAPTIVE), "adaptive");
    assert_string_equal(card_dialect_name(CARD_TEXT), "text");
    assert_string_equal(card_dialect_name(CARD_SLACK), "slack");
    assert_string_equal(card_dialect_name(CARD_DISCORD), "discord");
    assert_string_equal(card_dialect_name((enum card_dialect)(CARD_DISCORD + 1)), "unknown");
}

/* ---- colours and URLs ---- */

static void colors(void **state)
{
    (void)state;
    static const struct {
        const char *json; /* the value, as JSON */
        const char *out;  /* NULL: refused */
    } cases[] = {
        {"\"0076D7\"", "#0076D7"},
        {"\"#0076d7\"", "#0076D7"},
        {"\"#abc\"", "#AABBCC"},
        {"\"f0a\"", "#FF00AA"},
        {"\"good\"", "#2EB67D"},
        {"\"WARNING\"", "#ECB22E"},
        {"\"danger\"", "#E01E5A"},
        {"5814783", "#58B9FF"},
        {"0", "#000000"},
        {"16777215", "#FFFFFF"},
        {"16777216", NULL},
        {"-1", NULL},
        {"\"\"", NULL},
        {"\"#\"", NULL},
        {"\"#12345\"", NULL},
        {"\"#1234567\"", NULL},
        {"\"#ggg\"", NULL},
        {"\"0x12ab\"", NULL},
        {"\"blue\"", NULL},
        {"\" good\"", NULL},
        {"1.5", NULL},
        {"null", NULL},
        {"true", NULL},
        {"[\"good\"]", NULL},
        {"\"#12 456\"", NULL},
        {"\"12345g\"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t e;
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, &e);
        assert_non_null(v);
        char out[8] = "unset";
        bool ok = cards_color(v, out);
        if (ok != (cases[i].out != NULL))
            fail_msg("cards_color(%s) returned %d", cases[i].json, ok);
        if (ok)
            assert_string_equal(out, cases[i].out);
        json_decref(v);
    }
    assert_false(cards_color(NULL, (char[8]){0}));
}

static void url_filters(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        bool link, image;
    } cases[] = {
        {"https://example.org/a", true, true},
        {"http://example.org/a", true, true},
        {"HTTPS://EXAMPLE.ORG/", true, true},
        {"HtTp://x", true, true},
        {"mailto:ops@example.org", true, false},
        {"MAILTO:ops@example.org", true, false},
        {"javascript:alert(1)", false, false},
        {"JavaScript:alert(1)", false, false},
        {"vbscript:msgbox", false, false},
        {"ftp://files.example.org/a.png", false, false},
        {"file:///etc/passwd", false, false},
        {"data:image/png;base64,iVBORw0KGgo=", false, true},
        {"DATA:IMAGE/GIF;base64,R0lGOD", false, true},
        {"data:text/html,<script>alert(1)</script>", false, false},
        {"data:text/html;base64,PHNjcmlwdD4=", false, false},
        {"data:image", false, false},
        {"data:,image/png", false, false},
        {" https://example.org", false, false}, /* no trimming */
        {"https", false, false},
        {"httpsx://example.org", false, false},
        {"//example.org/a", false, false},
        {"/relative", false, false},
        {"", false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cards_url_is_link(cases[i].url) != cases[i].link)
            fail_msg("cards_url_is_link(\"%s\") != %d", cases[i].url, cases[i].link);
        if (cards_url_is_image(cases[i].url) != cases[i].image)
            fail_msg("cards_url_is_image(\"%s\") != %d", cases[i].url, cases[i].image);
    }
    assert_false(cards_url_is_link(NULL));
    assert_false(cards_url_is_image(NULL));
}

/* ---- Slack mrkdwn ---- */

struct conv {
    const char *in, *out;
};

static void check_mrkdwn(const struct conv *cases, size_t n)
{
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        char *md = slack_mrkdwn_to_markdown(cases[i].in);
        if (strcmp(md, cases[i].out)) {
            print_error("mrkdwn [%s] -> [%s], expected [%s]\n", cases[i].in, md, cases[i].out);
            wrong++;
        }
        free(md);
    }
    assert_int_equal(wrong, 0);
}

static void mrkdwn_conversion(void **state)
{
    (void)state;
    static const struct conv cases[] = {
        {"", ""},
        {"plain words", "plain words"},
        {"*bold* and _italic_", "**bold** and _italic_"},
        {"~gone~", "~~gone~~"},
        {"*a* *b*", "**a** **b**"},
        /* not emphasis: unterminated, spaced, empty, across lines */
        {"*bold", "*bold"},
        {"5 * 3 = 15", "5 * 3 = 15"},
        {"* not bold *", "* not bold *"},
        {"**", "**"},
        {"~~", "~~"},
        {"*a\nb*", "*a\nb*"},
        /* code spans and blocks are copied verbatim */
        {"`*x*` and *y*", "`*x*` and **y**"},
        {"```\n*x* <@U1> &amp;\n``` *y*", "```\n*x* <@U1> &amp;\n``` **y**"},
        {"`<https://x|y>`", "`<https://x|y>`"},
        /* entities: the three Slack escapes, decoded once; others kept */
        {"Q&amp;A &lt;b&gt;", "Q&A <b>"},
        {"&amp;lt;", "&lt;"},
        {"&quot;x&quot; &#39; &nbsp;", "&quot;x&quot; &#39; &nbsp;"},
        {"& alone &amp", "& alone &amp"},
        /* links, mentions, specials */
        {"<https://example.org|the site>", "[the site](https://example.org)"},
        {"<https://example.org>", "<https://example.org>"},
        {"<mailto:ops@example.org|mail us>", "[mail us](mailto:ops@example.org)"},
        {"<javascript:alert(1)|click>", "click"},
        {"<@U024BE7LH>", "@U024BE7LH"},
        {"<@U024BE7LH|bob>", "@bob"},
        {"<#C123|general>", "#general"},
        {"<!here> <!channel> <!everyone>", "@here @channel @everyone"},
        {"<!subteam^S0614TZR7|@oncall>", "@oncall"},
        {"a < b", "a < b"},
        {"<", "<"},
        {"<>", ""},
        {"x <@U1|a|b> y", "x @a|b y"},
    };
    check_mrkdwn(cases, sizeof cases / sizeof cases[0]);
}

/* A lone backtick (a typo, an apostrophe) opens no code span in Slack: what follows is still
 * formatted. Likewise a backtick inside a ``` block does not end the block. */
static void mrkdwn_unmatched_backticks(void **state)
{
    (void)state;
    static const struct conv cases[] = {
        {"don`t panic, *it works*", "don`t panic, **it works**"},
        {"```a ` b``` *c*", "```a ` b``` **c**"},
    };
    check_mrkdwn(cases, sizeof cases / sizeof cases[0]);
}

/* ---- plain-text rendering ---- */

static void render_hand_built_card(void **state)
{
    (void)state;
    json_t *card = parse(
        "{\"envelope\":{},\"content\":{\"type\":\"AdaptiveCard\",\"body\":["
        "{\"type\":\"TextBlock\",\"text\":\"Title\"},"
        "{\"type\":\"TextBlock\",\"text\":\"\"},"
        "{\"type\":\"TextBlock\"},"
        "{\"text\":\"no type\"},"
        "{\"type\":\"Image\",\"url\":\"https://x/y.png\"},"
        "{\"type\":\"FactSet\",\"facts\":[{\"title\":\"k\",\"value\":\"v\"},{\"value\":\"lone\"},"
        "{\"title\":\"\",\"value\":\"empty title\"}]},"
        "{\"type\":\"RichTextBlock\",\"inlines\":[\"plain \",{\"type\":\"TextRun\",\"text\":"
        "\"run\"}]},"
        "{\"type\":\"ColumnSet\",\"columns\":[{\"type\":\"Column\",\"items\":[{\"type\":"
        "\"TextBlock\",\"text\":\"col1\"}]},{\"type\":\"Column\",\"items\":[{\"type\":"
        "\"TextBlock\",\"text\":\"col2\"}]}]},"
        "{\"type\":\"Container\",\"items\":[{\"type\":\"TextBlock\",\"text\":\"inside\"}]},"
        "{\"type\":\"Table\",\"rows\":[{\"cells\":[{\"items\":[{\"type\":\"TextBlock\","
        "\"text\":\"cell\"}]}]}]},"
        "{\"type\":\"ActionSet\",\"actions\":[{\"type\":\"Action.OpenUrl\",\"title\":\"Inline\","
        "\"url\":\"https://x/inline\"}]}],"
        "\"actions\":["
        "{\"type\":\"Action.OpenUrl\",\"title\":\"Open\",\"url\":\"https://x/open\"},"
        "{\"type\":\"Action.OpenUrl\",\"url\":\"https://x/untitled\"},"
        "{\"type\":\"Action.Submit\",\"title\":\"Send\"},"
        "{\"type\":\"Action.ToggleVisibility\"},"
        "{\"title\":\"no type\"},"
        "{\"type\":\"Action.ShowCard\",\"title\":\"More\",\"card\":{\"body\":[{\"type\":"
        "\"TextBlock\",\"text\":\"hidden\"}],\"actions\":[{\"type\":\"Action.OpenUrl\","
        "\"title\":\"Deep\",\"url\":\"https://x/deep\"}]}}]}}");
    char *text = cards_render_text(card);
    assert_string_equal(text, "Title\n"
                              "k: v\n"
                              "lone\n"
                              "empty title\n"
                              "plain run\n"
                              "col1\n"
                              "col2\n"
                              "inside\n"
                              "cell\n"
                              "Inline <https://x/inline>\n"
                              "Open <https://x/open>\n"
                              "Open <https://x/untitled>\n"
                              "[Send]\n"
                              "[Action.ToggleVisibility]\n"
                              "[More]\n"
                              "hidden\n"
                              "Deep <https://x/deep>");
    free(text);
    json_decref(card);

    /* nothing to render: an empty string, not NULL */
    json_t *empty = parse("{}");
    text = cards_render_text(empty);
    assert_string_equal(text, "");
    free(text);
    json_decref(empty);
}

/* Nesting deeper than the renderer follows: no crash, the shallow part rendered. */
static void render_deep_nesting(void **state)
{
    (void)state;
    json_t *root = parse("{\"content\":{\"body\":[]}}");
    json_t *items = json_object_get(json_object_get(root, "content"), "body");
    for (int i = 0; i < 200; i++) {
        json_t *c = json_pack("{s:s, s:[]}", "type", "Container", "items");
        json_array_append_new(items, json_pack("{s:s, s:s}", "type", "TextBlock", "text", "t"));
        json_array_append_new(items, c);
        items = json_object_get(c, "items");
    }
    char *text = cards_render_text(root);
    assert_true(strlen(text) > 0 && strlen(text) < 200 * 2);
    assert_string_equal(text + strlen(text) - 2, "\nt");
    free(text);
    json_decref(root);
}

/* ---- the sender ---- */

static void convert(const char *payload, enum card_dialect forced, struct card *c)
{
    json_t *p = parse(payload);
    char msg[160];
    int rc = cards_from_payload(p, forced, NULL, c, msg);
    if (rc)
        fail_msg("%s: refused: %d %s", payload, rc, msg);
    json_decref(p);
}

/* Media addresses on the card's own object are checked like an element's (found by
 * fuzz_card_adaptive: a root-level "sources" kept a javascript: URL in the stored card). */
static void root_media_addresses(void **state)
{
    (void)state;
    struct card c;
    convert("{\"type\":\"message\",\"attachments\":[{\"contentType\":"
            "\"application/vnd.microsoft.card.adaptive\",\"content\":{\"type\":\"AdaptiveCard\","
            "\"sources\":[{\"url\":\"javascript:fetch(1)\"}],\"poster\":\"javascript:x\","
            "\"body\":[{\"type\":\"TextBlock\",\"text\":\"hi\"}]}}]}",
            CARD_AUTO, &c);
    char *dump = json_dumps(c.json, JSON_COMPACT);
    assert_null(strstr(dump, "javascript"));
    assert_non_null(strstr(dump, "\"hi\""));
    free(dump);
    card_release(&c);
    convert("{\"type\":\"message\",\"attachments\":[{\"contentType\":"
            "\"application/vnd.microsoft.card.adaptive\",\"content\":{\"type\":\"AdaptiveCard\","
            "\"sources\":[{\"url\":\"https://media.example.org/a.mp4\"}],"
            "\"body\":[{\"type\":\"TextBlock\",\"text\":\"hi\"}]}}]}",
            CARD_AUTO, &c);
    dump = json_dumps(c.json, JSON_COMPACT);
    assert_non_null(strstr(dump, "https://media.example.org/a.mp4")); /* a good one stays */
    free(dump);
    card_release(&c);
}

static json_t *sender_of(struct card *c)
{
    return json_object_get(json_object_get(c->json, "envelope"), "sender");
}

static void set_sender_plain(void **state)
{
    (void)state;
    struct card c;
    convert("{\"text\":\"hello\"}", CARD_AUTO, &c);
    json_t *env = json_object_get(c.json, "envelope");
    assert_true(json_is_null(json_object_get(sender_of(&c), "name")));
    card_set_sender(&c, "Build bot", "https://img.example.org/bot.png");
    assert_string_equal(json_string_value(json_object_get(sender_of(&c), "name")), "Build bot");
    assert_string_equal(json_string_value(json_object_get(sender_of(&c), "image")),
                        "https://img.example.org/bot.png");
    assert_null(json_object_get(env, "via"));
    assert_null(json_object_get(env, "senderOverride"));
    card_set_sender(&c, "Other", NULL);
    assert_string_equal(json_string_value(json_object_get(sender_of(&c), "name")), "Other");
    assert_true(json_is_null(json_object_get(sender_of(&c), "image")));
    card_release(&c);
    assert_null(c.json);
    assert_null(c.fallback);
}

static void set_sender_keeps_override(void **state)
{
    (void)state;
    /* Slack username without an icon: the connector's image fills the gap */
    struct card c;
    convert("{\"text\":\"hi\",\"username\":\"Deploy Bot\"}", CARD_AUTO, &c);
    card_set_sender(&c, "Slack connector", "https://img.example.org/conn.png");
    json_t *env = json_object_get(c.json, "envelope");
    assert_true(json_is_true(json_object_get(env, "senderOverride")));
    assert_string_equal(json_string_value(json_object_get(sender_of(&c), "name")), "Deploy Bot");
    assert_string_equal(json_string_value(json_object_get(env, "via")), "Slack connector");
    assert_string_equal(json_string_value(json_object_get(sender_of(&c), "image")),
                        "https://img.example.org/conn.png");
    card_release(&c);

    /* Discord avatar_url: kept */
    convert("{\"content\":\"hi\",\"username\":\"Ops\",\"avatar_url\":\"https://a.example/o.png\"}",
            CARD_AUTO, &c);
    card_set_sender(&c, "Discord connector", "https://img.example.org/conn.png");
    env = json_object_get(c.json, "envelope");
    assert_string_equal(json_string_value(json_object_get(sender_of(&c), "name")), "Ops");
    assert_string_equal(json_string_value(json_object_get(sender_of(&c), "image")),
                        "https://a.example/o.png");
    assert_string_equal(json_string_value(json_object_get(env, "via")), "Discord connector");
    card_release(&c);

    /* an avatar the filter refuses is not shown; the override itself stays */
    convert("{\"content\":\"hi\",\"username\":\"Ops\",\"avatar_url\":\"javascript:alert(1)\"}",
            CARD_AUTO, &c);
    assert_true(json_is_null(json_object_get(sender_of(&c), "image")));
    card_set_sender(&c, "Discord connector", NULL);
    assert_true(json_is_null(json_object_get(sender_of(&c), "image")));
    assert_string_equal(json_string_value(json_object_get(sender_of(&c), "name")), "Ops");
    card_release(&c);
}

/* ---- limits, refusals, the summary ---- */

static int convert_err(const char *payload, enum card_dialect forced, const struct card_limits *lim,
                       char msg[160])
{
    json_t *p = parse(payload);
    struct card c;
    int rc = cards_from_payload(p, forced, lim, &c, msg);
    if (!rc)
        card_release(&c);
    else
        assert_null(c.json);
    json_decref(p);
    return rc;
}

/* Markdown link destinations that hide their scheme behind an entity or an escape are not
 * links, and the label stays as text. */
static void hidden_schemes_in_markdown_links(void **state)
{
    (void)state;
    static const char *const hidden[] = {"javascript&#58;alert(2)", "javascript&colon;alert(2)",
                                         "javascript%3Aalert(2)", "java&#115;cript&#58;x"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        char payload[200];
        snprintf(payload, sizeof payload, "{\"text\":\"see [b](%s) and [ok](a/b&c)\"}", hidden[i]);
        struct card c;
        convert(payload, CARD_AUTO, &c);
        char *dump = json_dumps(json_object_get(c.json, "content"), 0);
        assert_null(strstr(dump, hidden[i]));
        assert_non_null(strstr(dump, "see b and [ok](a/b&c)"));
        free(dump);
        card_release(&c);
    }
}

static void limits_and_refusals(void **state)
{
    (void)state;
    char msg[160];
    struct card_limits lim = card_default_limits;
    lim.max_actions = 1;
    assert_int_equal(convert_err("{\"summary\":\"s\",\"potentialAction\":["
                                 "{\"@type\":\"OpenUri\",\"name\":\"a\"},"
                                 "{\"@type\":\"OpenUri\",\"name\":\"b\"}]}",
                                 CARD_AUTO, &lim, msg),
                     CARD_ERR_LIMIT);
    assert_string_equal(msg, "too many actions: 2 (at most 1)");

    lim = card_default_limits;
    lim.max_elements = 3;
    assert_int_equal(convert_err("{\"@type\":\"MessageCard\",\"text\":\"a\",\"sections\":["
                                 "{\"text\":\"b\"},{\"text\":\"c\"},{\"text\":\"d\"}]}",
                                 CARD_AUTO, &lim, msg),
                     CARD_ERR_LIMIT);
    assert_string_equal(msg, "the card has more than 3 elements");

    lim = card_default_limits;
    lim.max_text = 4;
    assert_int_equal(
        convert_err("{\"text\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", CARD_AUTO, &lim, msg),
        0); /* 4 characters, 8 bytes: within */
    assert_int_equal(convert_err("{\"text\":\"12345\"}", CARD_AUTO, &lim, msg), CARD_ERR_LIMIT);
    assert_string_equal(msg, "the text is longer than 4 characters");

    lim = card_default_limits;
    lim.max_images = 1;
    assert_int_equal(
        convert_err("{\"summary\":\"s\",\"sections\":[{\"images\":["
                    "{\"image\":\"https://a/1.png\"},{\"image\":\"https://a/2.png\"}]}]}",
                    CARD_AUTO, &lim, msg),
        CARD_ERR_LIMIT);
    assert_string_equal(msg, "too many images: 2 (at most 1)");

    lim = card_default_limits;
    lim.max_sections = 1;
    assert_int_equal(
        convert_err("{\"embeds\":[{\"title\":\"a\"},{\"title\":\"b\"}]}", CARD_AUTO, &lim, msg),
        CARD_ERR_LIMIT);
    assert_string_equal(msg, "too many embeds: 2 (at most 1)");
    assert_int_equal(convert_err("{\"blocks\":[{\"type\":\"divider\"},{\"type\":\"divider\"}]}",
                                 CARD_AUTO, &lim, msg),
                     CARD_ERR_LIMIT);
    assert_string_equal(msg, "too many blocks: 2 (at most 1)");

    /* refusals */
    json_t *arr = json_array();
    struct card c;
    assert_int_equal(cards_from_payload(arr, CARD_AUTO, NULL, &c, msg), CARD_ERR_INVALID);
    assert_string_equal(msg, "the payload must be a JSON object");
    json_decref(arr);
    assert_int_equal(convert_err("{}", CARD_AUTO, NULL, msg), CARD_ERR_EMPTY);
    assert_string_equal(msg, "Summary or Text is required.");
    assert_int_equal(convert_err("{\"text\":\"x\"}", CARD_DISCORD, NULL, msg), CARD_ERR_EMPTY);
    assert_string_equal(msg, "Cannot send an empty message");
    assert_int_equal(convert_err("{\"content\":\"x\"}", CARD_SLACK, NULL, msg), CARD_ERR_EMPTY);
    assert_string_equal(msg, "no_text");
    assert_int_equal(convert_err("{\"type\":\"message\",\"attachments\":[{\"contentType\":"
                                 "\"application/vnd.microsoft.card.adaptive\"}]}",
                                 CARD_AUTO, NULL, msg),
                     CARD_ERR_INVALID);
    assert_string_equal(msg, "an Adaptive Card attachment has no 'content'");
    assert_int_equal(convert_err("{\"type\":\"message\",\"attachments\":[{\"contentType\":"
                                 "\"application/vnd.microsoft.card.adaptive\",\"content\":"
                                 "{\"type\":\"HeroCard\"}}]}",
                                 CARD_AUTO, NULL, msg),
                     CARD_ERR_INVALID);
    assert_string_equal(msg, "'content' must be an AdaptiveCard");
    assert_int_equal(convert_err("{\"type\":\"message\",\"attachments\":[{\"contentType\":"
                                 "\"application/vnd.microsoft.card.adaptive\",\"content\":"
                                 "{\"type\":\"AdaptiveCard\",\"body\":[]}}]}",
                                 CARD_AUTO, NULL, msg),
                     CARD_ERR_EMPTY);
    assert_string_equal(msg, "the Adaptive Card is empty");
}

/* The summary derived from the fallback: its first line, at most 120 characters, never a cut
 * UTF-8 sequence. */
static void derived_summary(void **state)
{
    (void)state;
    char text[400] = "";
    for (int i = 0; i < 130; i++)
        strcat(text, "\xc3\xa9"); /* é */
    char payload[512];
    snprintf(payload, sizeof payload, "{\"text\":\"%s\\nsecond line\"}", text);
    struct card c;
    convert(payload, CARD_AUTO, &c);
    const char *summary =
        json_string_value(json_object_get(json_object_get(c.json, "envelope"), "summary"));
    assert_non_null(summary);
    assert_int_equal(strlen(summary), 240);
    assert_int_equal(utf8_length(summary), 120);
    card_release(&c);

    convert("{\"text\":\"one\\ntwo\"}", CARD_AUTO, &c);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(c.json, "envelope"), "summary")), "one");
    card_release(&c);
}

/* ---- every fixture input through every adapter ---- */

static void run_all_dialects(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open '%s': %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    data[size] = '\0';
    int err;
    char msg[160];
    json_t *p = json_parse_object(data, (size_t)size, JSON_MAX_DEPTH, &err, msg);
    free(data);
    if (!p)
        fail_msg("%s: %s", path, msg);
    json_t *copy = json_deep_copy(p);
    for (int d = CARD_AUTO; d <= CARD_DISCORD; d++) {
        struct card c;
        memset(msg, 'X', sizeof msg);
        int rc = cards_from_payload(p, (enum card_dialect)d, NULL, &c, msg);
        assert_true(rc >= CARD_OK && rc <= CARD_ERR_LIMIT);
        assert_non_null(memchr(msg, '\0', sizeof msg));
        if (rc) {
            assert_true(msg[0] != '\0');
            assert_null(c.json);
            continue;
        }
        if (d != CARD_AUTO)
            assert_int_equal(c.dialect, d);
        json_t *env = json_object_get(c.json, "envelope");
        assert_non_null(json_object_get(c.json, "content"));
        assert_string_equal(json_string_value(json_object_get(env, "fallback")), c.fallback);
        char *again = cards_render_text(c.json);
        assert_non_null(again);
        free(again);
        card_set_sender(&c, "connector", "https://img.example.org/c.png");
        card_release(&c);
    }
    assert_true(json_equal(p, copy)); /* only read */
    json_decref(copy);
    json_decref(p);
}

static void every_fixture_every_dialect(void **state)
{
    (void)state;
    DIR *top = opendir(fixtures_dir);
    if (!top)
        fail_msg("cannot open '%s': %s", fixtures_dir, strerror(errno));
    int count = 0;
    struct dirent *e;
    while ((e = readdir(top))) {
        if (e->d_name[0] == '.')
            continue;
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", fixtures_dir, e->d_name);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *fe;
        while ((fe = readdir(d))) {
            size_t n = strlen(fe->d_name);
            if (n < 5 || strcmp(fe->d_name + n - 5, ".json") ||
                (n >= 10 && !strcmp(fe->d_name + n - 10, ".card.json")))
                continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, fe->d_name);
            run_all_dialects(path);
            count++;
        }
        closedir(d);
    }
    closedir(top);
    assert_true(count >= 30);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    fixtures_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detect_shapes),
        cmocka_unit_test(unwrapped_adaptive_shapes),
        cmocka_unit_test(dialect_names),
        cmocka_unit_test(colors),
        cmocka_unit_test(url_filters),
        cmocka_unit_test(mrkdwn_conversion),
        cmocka_unit_test(mrkdwn_unmatched_backticks),
        cmocka_unit_test(render_hand_built_card),
        cmocka_unit_test(render_deep_nesting),
        cmocka_unit_test(root_media_addresses),
        cmocka_unit_test(set_sender_plain),
        cmocka_unit_test(set_sender_keeps_override),
        cmocka_unit_test(hidden_schemes_in_markdown_links),
        cmocka_unit_test(limits_and_refusals),
        cmocka_unit_test(derived_summary),
        cmocka_unit_test(every_fixture_every_dialect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
