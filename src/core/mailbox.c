/* mailbox.c: the team's group mailbox. A team owner turns it on (for all channels or chosen
 * ones); each member chooses off, each card, or an hourly or daily digest, and needs an e-mail
 * address. The mails themselves are queued by the store in the same transaction as the card
 * (so a card is never acknowledged without its mails being durable, and mail never delays the
 * webhook's answer); one mailer thread sends what is due through the SMTP relay, retries with
 * backoff, and records failures in the connector's delivery log. Each mail has a text and an
 * HTML part rendered from the canonical card, List-Id and one-click List-Unsubscribe headers,
 * and a link back to the message. */
#include "core_int.h"

#include "../egress/egress.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAIL_BATCH 50
#define MAIL_GIVE_UP_ATTEMPTS 16
#define MAIL_BACKOFF_MAX_MS (3600LL * 1000)
#define EMAIL_MAX 254
#define APPEND(b, lit) buf_append((b), lit, sizeof lit - 1)

/* ---- settings ---- */

int core_mailbox_get(struct core *c, const struct store_user *who, int64_t team, json_t **out)
{
    if (store_member_role(c->store, team, who->id) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    *out = store_mailbox(c->store, team, who->id);
    if (!*out)
        return -ERR_NOT_FOUND;
    json_object_set_new(*out, "smtp", json_boolean(c->mail_enabled));
    return 0;
}

int core_mailbox_set(struct core *c, const struct store_user *who, int64_t team, bool enabled,
                     json_t *channels, struct store_write *w, char msg[160])
{
    enum store_role role = store_member_role(c->store, team, who->id);
    if (role == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    if (role != STORE_ROLE_OWNER)
        return -ERR_FORBIDDEN;
    json_t *ids = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(channels, i, v)
    {
        int64_t ch, ch_team;
        ch = json_is_integer(v) ? json_integer_value(v) : 0;
        if (ch <= 0 || store_channel_team(c->store, ch, &ch_team) || ch_team != team) {
            snprintf(msg, 160, "'channels' must list channels of this team");
            json_decref(ids);
            return -ERR_INVALID_FIELD;
        }
        json_array_append_new(ids, json_integer(ch));
    }
    memset(w, 0, sizeof *w);
    w->op = STORE_MAILBOX_SET;
    w->actor = who->id;
    w->team_id = team;
    w->flag = enabled;
    w->text = w->owned = json_dump_compact(ids);
    json_decref(ids);
    return 0;
}

int core_mailbox_mode(struct core *c, const struct store_user *who, int64_t team, const char *mode,
                      struct store_write *w)
{
    static const char *const modes[] = {"off", "each", "hourly", "daily"};
    const char *m = NULL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (mode && !strcmp(mode, modes[i]))
            m = modes[i];
    if (!m)
        return -ERR_INVALID_FIELD;
    if (store_member_role(c->store, team, who->id) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    memset(w, 0, sizeof *w);
    w->op = STORE_MAILBOX_MODE;
    w->actor = who->id;
    w->team_id = team;
    w->role = m;
    return 0;
}

/* A plausible address: local@domain, printable ASCII without blanks, brackets or quotes (the
 * relay has the last word; this keeps headers and SMTP commands well-formed). */
static bool email_ok(const char *e)
{
    size_t n = strlen(e);
    const char *at = strchr(e, '@');
    if (!n || n > EMAIL_MAX || !at || at == e || !at[1] || strchr(at + 1, '@') ||
        !strchr(at + 1, '.'))
        return false;
    for (const unsigned char *p = (const unsigned char *)e; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F || strchr("<>()[]\\,;:\"", *p))
            return false;
    return true;
}

int core_user_email(struct core *c, const struct store_user *who, const char *email,
                    struct store_write *w)
{
    (void)c;
    if (email && !email_ok(email))
        return -ERR_INVALID_FIELD;
    memset(w, 0, sizeof *w);
    w->op = STORE_USER_EMAIL;
    w->actor = who->id;
    w->text = email;
    return 0;
}

/* "<team>.<user>.<mac>": the one-click unsubscribe link's token. */
static void unsubscribe_token(struct core *c, int64_t team, int64_t user, char out[128])
{
    char key[65], msg[64], mac[65];
    sodium_bin2hex(key, sizeof key, c->seal_key, sizeof c->seal_key);
    snprintf(msg, sizeof msg, "unsubscribe:%lld:%lld", (long long)team, (long long)user);
    secret_derive(key, msg, mac);
    sodium_memzero(key, sizeof key);
    snprintf(out, 128, "%lld.%lld.%.32s", (long long)team, (long long)user, mac);
}

int core_mailbox_unsubscribe(struct core *c, const char *token, struct store_write *w)
{
    long long team, user;
    char expect[128];
    if (!token || sscanf(token, "%lld.%lld.", &team, &user) != 2 || team <= 0 || user <= 0)
        return -ERR_NOT_FOUND;
    unsubscribe_token(c, team, user, expect);
    if (strlen(token) >= sizeof expect || !secret_equal(token, expect))
        return -ERR_NOT_FOUND;
    memset(w, 0, sizeof *w);
    w->op = STORE_MAILBOX_MODE;
    w->actor = user;
    w->team_id = team;
    w->role = "off";
    return 0;
}

/* ---- the mailer ---- */

struct mailer {
    struct core *core;
    struct core_mail_config cfg;
    char host[256]; /* of the public URL: List-Id, Message-ID */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    int64_t last_user, last_team; /* the digest sent last in this pass */
};

/* An RFC 2047 encoded-word when text is not plain printable ASCII; CR and LF never pass. */
static void header_text(struct buf *b, const char *text)
{
    bool plain = true;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        plain &= *p >= 0x20 && *p < 0x7F;
    if (plain) {
        buf_append(b, text, strlen(text));
        return;
    }
    /* one encoded-word per at most 45 bytes (whole characters), folded */
    const char *p = text;
    bool first = true;
    while (*p) {
        size_t n = 0;
        while (p[n] && n < 45) {
            size_t k = 1;
            while (p[n + k] && ((unsigned char)p[n + k] & 0xC0) == 0x80)
                k++;
            if (n + k > 45 && n)
                break;
            n += k;
        }
        char clean[64], enc[96];
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            clean[m++] = p[i] == '\r' || p[i] == '\n' ? ' ' : p[i];
        sodium_bin2base64(enc, sizeof enc, (const unsigned char *)clean, m,
                          sodium_base64_VARIANT_ORIGINAL);
        buf_printf(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
        first = false;
        p += n;
    }
}

/* A body part in base64, lines of 76. */
static void base64_part(struct buf *b, const char *type, const char *text)
{
    buf_printf(b, "Content-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
               type);
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += 57) {
        size_t n = len - off < 57 ? len - off : 57;
        char line[80];
        sodium_bin2base64(line, sizeof line, (const unsigned char *)text + off, n,
                          sodium_base64_VARIANT_ORIGINAL);
        buf_printf(b, "%s\r\n", line);
    }
}

static void html_escape(struct buf *b, const char *s)
{
    char *e = cards_html_escape(s);
    buf_append(b, e, strlen(e));
    free(e);
}

/* One card of a mail: its plain text and its HTML, with the link back to it. */
struct part {
    struct buf text, html;
};

static void add_card(struct mailer *m, struct part *p, const char *card_json, const char *fallback,
                     int64_t channel, int64_t message)
{
    json_t *card = json_loads(card_json && *card_json ? card_json : "null", 0, NULL);
    char link[512];
    snprintf(link, sizeof link, "%s/channels/%lld#message-%lld", m->cfg.public_url,
             (long long)channel, (long long)message);
    char *text = card ? cards_render_text(card) : NULL;
    const char *t = text ? text : fallback;
    buf_append(&p->text, t, strlen(t));
    buf_printf(&p->text, "\n\nOpen in Switchboard: %s\n", link);
    char *html = card ? cards_render_html(card) : NULL;
    APPEND(&p->html, "<div style=\"margin:0 0 16px 0\">");
    if (html) {
        buf_append(&p->html, html, strlen(html));
    } else {
        APPEND(&p->html, "<p style=\"white-space:pre-wrap\">");
        html_escape(&p->html, fallback);
        APPEND(&p->html, "</p>");
    }
    APPEND(&p->html, "<p style=\"font:13px sans-serif;margin:8px 0 0 0\"><a href=\"");
    html_escape(&p->html, link);
    APPEND(&p->html, "\">Open in Switchboard</a></p></div>");
    free(text);
    free(html);
    json_decref(card);
}

/* The whole message (caller frees). */
static char *compose(struct mailer *m, const struct store_mail_row *r, const char *subject,
                     struct part *p)
{
    char token[128], unsub[512], date[64], boundary[40];
    unsubscribe_token(m->core, r->team_id, r->user_id, token);
    snprintf(unsub, sizeof unsub, "%s/mailbox/unsubscribe/%s", m->cfg.public_url, token);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(boundary, sizeof boundary, "sb-%s", hex);

    buf_printf(&p->text,
               "\n-- \nYou get these mails from the group mailbox of %s.\n"
               "Unsubscribe: %s\n",
               r->team, unsub);
    struct buf html;
    buf_init(&html, SIZE_MAX / 2);
    APPEND(&html, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
    html_escape(&html, subject);
    APPEND(&html, "</title></head><body style=\"margin:0;padding:16px\">");
    buf_append(&html, p->html.data ? p->html.data : "", p->html.len);
    APPEND(&html, "<p style=\"font:12px sans-serif;color:#666\">You get these mails from the "
                  "group mailbox of ");
    html_escape(&html, r->team);
    APPEND(&html, ". <a href=\"");
    html_escape(&html, unsub);
    APPEND(&html, "\">Unsubscribe</a></p></body></html>");
    buf_append(&html, "", 1) /* NUL-terminated */;
    buf_append(&p->text, "", 1) /* NUL-terminated */;

    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_printf(&b, "From: %s\r\nTo: <%s>\r\nSubject: ", m->cfg.from, r->email);
    header_text(&b, subject);
    buf_printf(&b,
               "\r\nDate: %s\r\nMessage-ID: <sb.%lld.%lld.%s@%s>\r\nMIME-Version: 1.0\r\n"
               "List-Id: ",
               date, (long long)r->message_id, (long long)r->user_id, hex, m->host);
    header_text(&b, r->team);
    buf_printf(&b,
               " <team-%lld.%s>\r\nList-Unsubscribe: <%s>\r\n"
               "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
               "Auto-Submitted: auto-generated\r\nX-Switchboard-Message: %lld\r\n"
               "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n--%s\r\n",
               (long long)r->team_id, m->host, unsub, (long long)r->message_id, boundary, boundary);
    base64_part(&b, "text/plain", p->text.data);
    buf_printf(&b, "\r\n--%s\r\n", boundary);
    base64_part(&b, "text/html", html.data);
    buf_printf(&b, "\r\n--%s--\r\n", boundary);
    buf_append(&b, "", 1) /* NUL-terminated */;
    buf_release(&html);
    return b.data;
}

static void record(struct mailer *m, const struct store_mail_row *r, int64_t queue_id, int rc,
                   const char *err)
{
    struct core *c = m->core;
    struct store_write w;
    memset(&w, 0, sizeof w);
    w.op = STORE_MAIL_RESULT;
    w.id = queue_id;
    w.status = rc ? 1 : 0;
    char why[320] = "";
    if (rc) {
        int64_t wait = (int64_t)m->cfg.retry_s * 1000 << (r->attempts < 12 ? r->attempts : 12);
        if (wait > MAIL_BACKOFF_MAX_MS)
            wait = MAIL_BACKOFF_MAX_MS;
        bool give_up = rc == -ERR_BAD_REQUEST || r->attempts + 1 >= MAIL_GIVE_UP_ATTEMPTS;
        w.expires = give_up ? 0 : time_now_ms() + wait;
        snprintf(why, sizeof why, "mail to %s: %s (%s)", r->email, err,
                 give_up ? "given up" : "will retry");
        w.error = why;
        if (r->connector_id)
            core_delivery_log(c, r->connector_id, "mail", 0, "mail_failed", why, 0, NULL);
    }
    store_write_wait(c->store, &w);
    store_write_release(&w);
}

static void send_one(struct mailer *m, const struct store_mail_row *r, const char *subject,
                     struct part *p, const int64_t *ids, size_t n)
{
    char *msg = compose(m, r, subject, p);
    char err[160];
    struct egress_smtp relay = {m->cfg.smtp_url, m->cfg.smtp_tls};
    int rc = egress_smtp_send(&relay, m->cfg.from_addr, r->email, msg, strlen(msg), err);
    if (rc)
        log_error("mailbox: %s", err);
    for (size_t i = 0; i < n; i++)
        record(m, r, ids[i], rc, err);
    free(msg);
}

struct digest {
    struct mailer *m;
    struct part p;
    int64_t *ids;
    size_t n;
};

static void digest_row(void *arg, const struct store_mail_row *r)
{
    struct digest *d = arg;
    d->ids = xrealloc(d->ids, (d->n + 1) * sizeof *d->ids);
    d->ids[d->n++] = r->id;
    buf_printf(&d->p.text, "#%s\n", r->channel);
    add_card(d->m, &d->p, r->card, r->text, r->channel_id, r->message_id);
    APPEND(&d->p.text, "\n");
}

static void due_row(void *arg, const struct store_mail_row *r)
{
    struct mailer *m = arg;
    struct part p;
    buf_init(&p.text, SIZE_MAX / 2);
    buf_init(&p.html, SIZE_MAX / 2);
    char subject[400];
    if (!r->digest) {
        json_t *card = json_loads(r->card && *r->card ? r->card : "null", 0, NULL);
        const char *summary =
            json_string_value(json_object_get(json_object_get(card, "envelope"), "summary"));
        char *line = xstrdup(summary && *summary ? summary : r->text);
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(subject, sizeof subject, "[%s #%s] %.300s", r->team, r->channel, line);
        free(line);
        json_decref(card);
        add_card(m, &p, r->card, r->text, r->channel_id, r->message_id);
        send_one(m, r, subject, &p, &r->id, 1);
    } else if (r->user_id != m->last_user || r->team_id != m->last_team) {
        /* the first due row of a digest: everything queued for it goes in one mail */
        m->last_user = r->user_id;
        m->last_team = r->team_id;
        struct digest d = {.m = m};
        buf_init(&d.p.text, SIZE_MAX / 2);
        buf_init(&d.p.html, SIZE_MAX / 2);
        store_mail_digest(m->core->store, r->user_id, r->team_id, digest_row, &d);
        snprintf(subject, sizeof subject, "[%s] %zu card%s (%s digest)", r->team, d.n,
                 d.n == 1 ? "" : "s", !strcmp(r->mode, "daily") ? "daily" : "hourly");
        if (d.n)
            send_one(m, r, subject, &d.p, d.ids, d.n);
        free(d.ids);
        buf_release(&d.p.text);
        buf_release(&d.p.html);
    }
    buf_release(&p.text);
    buf_release(&p.html);
}

static void *mailer_main(void *arg)
{
    struct mailer *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        pthread_mutex_unlock(&m->lock);
        m->last_user = m->last_team = 0;
        if (store_leader(m->core->store)) /* else another node sends the mail */
            store_mail_due(m->core->store, time_now_ms(), MAIL_BATCH, due_row, m);
        pthread_mutex_lock(&m->lock);
        if (m->stop)
            break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&m->wake, &m->lock, &until);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

struct mailer *core_mailer_start(struct core *c, const struct core_mail_config *cfg, char msg[160])
{
    struct mailer *m = xcalloc(1, sizeof *m);
    m->core = c;
    m->cfg = *cfg;
    if (!m->cfg.retry_s)
        m->cfg.retry_s = 30;
    /* the host of the public URL names the lists and the messages */
    const char *h = strstr(cfg->public_url, "://");
    h = h ? h + 3 : cfg->public_url;
    size_t n = strcspn(h, ":/");
    snprintf(m->host, sizeof m->host, "%.*s", (int)(n < 200 ? n : 200), h);
    if (!m->host[0])
        snprintf(m->host, sizeof m->host, "localhost");
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    if (pthread_create(&m->thread, NULL, mailer_main, m)) {
        snprintf(msg, 160, "cannot start the mailer");
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->wake);
        free(m);
        return NULL;
    }
    c->mail_enabled = true;
    return m;
}

void core_mailer_stop(struct mailer *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    m->core->mail_enabled = false;
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->wake);
    free(m);
}
