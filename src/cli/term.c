/* term.c: the terminal client's output: whether to use colour, and messages as lines
 * ("HH:MM author: text", a card's rendering under its header, replies indented under their
 * thread). Every string that came from a server goes through the cards module's terminal
 * renderer or cards_term_clean, so nothing a sender wrote can reach the terminal as a control
 * sequence.
 *
 * Not for: reading the terminal (login.c), talking to the server (client.c). */
#include "client.h"

#include "../cards/cards.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SGR_DIM "\x1b[2m"
#define SGR_BOLD "\x1b[1m"
#define SGR_RESET "\x1b[0m"
#define TEXT_INDENT "      " /* under the text, past "HH:MM " */

bool term_colour_parse(const char *s, enum term_colour *out)
{
    if (!strcmp(s, "auto"))
        *out = TERM_COLOUR_AUTO;
    else if (!strcmp(s, "always"))
        *out = TERM_COLOUR_ALWAYS;
    else if (!strcmp(s, "never"))
        *out = TERM_COLOUR_NEVER;
    else
        return false;
    return true;
}

bool term_colour_on(enum term_colour mode)
{
    if (mode != TERM_COLOUR_AUTO)
        return mode == TERM_COLOUR_ALWAYS;
    const char *no = getenv("NO_COLOR"); /* https://no-color.org: set and not empty */
    return !(no && *no) && isatty(STDOUT_FILENO);
}

/* "HH:MM" in local time of an RFC 3339 UTC time; "--:--" when it is not one. */
static void local_hhmm(const char *created, char out[8])
{
    int y, mo, d, h, mi, s;
    snprintf(out, 8, "--:--");
    if (!created || sscanf(created, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
        return;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    time_t t = timegm(&tm);
    struct tm local;
    if (t != (time_t)-1 && localtime_r(&t, &local))
        strftime(out, 8, "%H:%M", &local);
}

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* Who wrote it, neutralised: a user's name; a connector's (or the sender a card named, with the
 * connector it came through); NULL for the system. The caller frees. */
static char *author_name(json_t *msg)
{
    json_t *a = json_object_get(msg, "author");
    const char *type = str(a, "type");
    if (type && !strcmp(type, "system"))
        return NULL;
    if (type && !strcmp(type, "connector")) {
        json_t *env = json_object_get(json_object_get(msg, "card"), "envelope");
        const char *sender = str(json_object_get(env, "sender"), "name");
        const char *name = sender ? sender : str(a, "name");
        const char *via = json_is_true(json_object_get(env, "senderOverride"))
                              ? (str(env, "via") ? str(env, "via") : str(a, "name"))
                              : NULL;
        size_t n = strlen(name ? name : "connector") + (via ? strlen(via) : 0) + 16;
        char *both = xmalloc(n);
        if (via && strcmp(via, name ? name : ""))
            snprintf(both, n, "%s (via %s)", name ? name : "connector", via);
        else
            snprintf(both, n, "%s", name ? name : "connector");
        char *clean = cards_term_clean(both);
        free(both);
        return clean;
    }
    return cards_term_clean(str(a, "username") ? str(a, "username") : "?");
}

/* Writes text's lines, the first after what is already on the line, the others indented. */
static void lines(FILE *out, const char *text, const char *indent)
{
    if (!*text)
        fputc('\n', out);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        fwrite(p, 1, n, out);
        fputc('\n', out);
        p += n;
        if (!*p)
            break;
        p++;
        fprintf(out, "%s", indent);
    }
}

void term_print_message(FILE *out, json_t *msg, const struct term_message_opts *o)
{
    char hhmm[8];
    local_hhmm(str(msg, "created"), hhmm);
    const char *first = o->reply ? "  \xe2\x86\xb3 " : ""; /* "↳" */
    const char *rest = o->reply ? "    " : "";
    char indent[32];
    snprintf(indent, sizeof indent, "%s%s", rest, TEXT_INDENT);
    char *name = author_name(msg);
    json_t *card = json_object_get(msg, "card");
    const char *updated = o->updated ? " (updated)" : "";
    if (o->colour)
        fprintf(out, "%s" SGR_DIM "%s" SGR_RESET " ", first, hhmm);
    else
        fprintf(out, "%s%s ", first, hhmm);
    if (!name) { /* a notice from the system: "HH:MM * text" */
        char *text = cards_render_term_text(str(msg, "text") ? str(msg, "text") : "", false);
        fprintf(out, "%s* ", o->colour ? SGR_DIM : "");
        lines(out, *text ? text : "(notice)", indent);
        if (o->colour)
            fprintf(out, SGR_RESET);
        free(text);
    } else if (json_is_object(card)) {
        fprintf(out, o->colour ? SGR_BOLD "%s" SGR_RESET "%s:\n" : "%s%s:\n", name, updated);
        char *r = cards_render_term(card, o->colour);
        fprintf(out, "%s", indent);
        lines(out, r, indent);
        free(r);
    } else {
        fprintf(out, o->colour ? SGR_BOLD "%s" SGR_RESET "%s: " : "%s%s: ", name, updated);
        char *text = cards_render_term_text(str(msg, "text") ? str(msg, "text") : "", o->colour);
        lines(out, text, indent);
        free(text);
    }
    free(name);
}

char *term_message_summary(json_t *msg, size_t max_cols)
{
    char *name = author_name(msg);
    char *text = cards_render_term_text(str(msg, "text") ? str(msg, "text") : "", false);
    text[strcspn(text, "\n")] = '\0';
    /* cut at max_cols characters (UTF-8 continuation bytes do not count) */
    size_t cols = 0, i = 0;
    for (; text[i]; i++) {
        if (((unsigned char)text[i] & 0xc0) == 0x80)
            continue;
        if (cols++ == max_cols)
            break;
    }
    bool cut = text[i] != '\0';
    text[i] = '\0';
    size_t n = strlen(text) + (name ? strlen(name) : 1) + 8;
    char *out = xmalloc(n);
    snprintf(out, n, "%s: %s%s", name ? name : "*", text, cut ? "\xe2\x80\xa6" : "");
    free(name);
    free(text);
    return out;
}

void term_print_note(FILE *out, bool colour, const char *indent, const char *text)
{
    fprintf(out, "%s%s\xe2\x94\x86 %s%s\n", indent, colour ? SGR_DIM : "", text,
            colour ? SGR_RESET : ""); /* "┆" */
}
