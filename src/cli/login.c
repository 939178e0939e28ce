/* login.c: `switchboard login URL`: signs in to a server and saves the login for the other
 * client commands (client.c keeps the file).
 *
 * A password login is POST /api/v1/session. The API has no call that makes API tokens (only
 * `switchboard admin create-token` does, next to the database), so what is saved is the session
 * cookie and its CSRF token; sessions last 30 days. --token saves an API token instead, after
 * GET /api/v1/session has shown that it works. The password is read from the terminal with echo
 * off (restored on Ctrl-C too), or from stdin with --password-stdin. */
#include "cli.h"
#include "client.h"

#include "../cards/cards.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define SECRET_MAX 1024
#define CMD "switchboard login"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: switchboard login URL [--user NAME] [--password-stdin]\n"
            "       switchboard login URL --token TOKEN|-\n"
            "\n"
            "Signs in to the Switchboard server at URL and saves the login in\n"
            "$XDG_CONFIG_HOME/switchboard/config.json (~/.config/... by default; the file is\n"
            "private, mode 0600). Asks for the user name and the password (without echo) on the\n"
            "terminal. The server hands out no API tokens to users yet, so a password login keeps\n"
            "the session it opens (30 days).\n"
            "\n"
            "  --user NAME        the user name (else asked)\n"
            "  --password-stdin   read the password from stdin (for scripts)\n"
            "  --token TOKEN      save an API token (from 'switchboard admin create-token')\n"
            "                     instead of signing in; '-' reads it from stdin\n"
            "\n"
            "SWITCHBOARD_URL and SWITCHBOARD_TOKEN override the saved login.\n");
}

static int tty_fd = -1;
static struct termios saved_tty;
static struct sigaction saved_actions[4];
static const int restore_on[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/* Ctrl-C while the echo is off: the terminal gets its echo back, then the signal does what it
 * would have done. */
static void restore_echo(int sig)
{
    tcsetattr(tty_fd, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void echo(bool on)
{
    if (on) {
        tcsetattr(tty_fd, TCSAFLUSH, &saved_tty);
        for (int i = 0; i < 4; i++)
            sigaction(restore_on[i], &saved_actions[i], NULL);
        return;
    }
    struct sigaction sa = {.sa_handler = restore_echo};
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 4; i++)
        sigaction(restore_on[i], &sa, &saved_actions[i]);
    struct termios t = saved_tty;
    t.c_lflag &= ~(tcflag_t)ECHO;
    t.c_lflag |= ECHONL;
    tcsetattr(tty_fd, TCSAFLUSH, &t);
}

/* One line from the terminal into out (echo off for a secret). 0, or -1 at end of input or
 * when the line is longer than out. */
static int ask(const char *prompt, bool secret, char *out, size_t len)
{
    if (secret) { /* off before the prompt: nothing typed after it is echoed */
        if (tcgetattr(tty_fd, &saved_tty))
            return -1;
        echo(false);
    }
    if (write(tty_fd, prompt, strlen(prompt)) < 0) {
        if (secret)
            echo(true);
        return -1;
    }
    size_t n = 0;
    int rc = -1;
    bool too_long = false;
    for (;;) {
        char ch;
        ssize_t r = read(tty_fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (ch == '\n' || ch == '\r') {
            rc = too_long ? -1 : 0;
            break;
        }
        if (n + 1 < len)
            out[n++] = ch;
        else
            too_long = true;
    }
    out[n] = '\0';
    if (secret)
        echo(true);
    return rc;
}

/* A secret from stdin without its line end (a token: without any trailing blank); NULL (said
 * why) when empty or too long. */
static char *secret_from_stdin(const char *what, bool trim_blanks)
{
    char *s = client_read_all(stdin, SECRET_MAX, CMD, what);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
                 (trim_blanks && (s[n - 1] == ' ' || s[n - 1] == '\t'))))
        s[--n] = '\0';
    if (!n) {
        fprintf(stderr, CMD ": empty %s on stdin\n", what);
        free(s);
        return NULL;
    }
    return s;
}

static void print_done(const char *url, const char *user, const char *how, const char *path)
{
    char *u = cards_term_clean(user ? user : "?");
    printf("logged in to %s as %s (%s); saved in %s\n", url, u, how, path);
    free(u);
}

static int login_token(struct client *c, const char *arg)
{
    char *token = !strcmp(arg, "-") ? secret_from_stdin("token", true) : xstrdup(arg);
    if (!token)
        return 1;
    int rc = 1;
    if (!client_is_token(token)) {
        fprintf(stderr, CMD ": that is not an API token\n");
        goto out;
    }
    c->token = xstrdup(token);
    json_t *session;
    if (client_call(c, "GET", "/api/v1/session", NULL, &session))
        goto out;
    const char *user =
        json_string_value(json_object_get(json_object_get(session, "user"), "username"));
    char path[4096];
    json_t *fields = json_pack("{s:s}", "token", token);
    if (!client_config_save(CMD, c->url, fields, path, sizeof path)) {
        print_done(c->url, user, "API token", path);
        rc = 0;
    }
    json_decref(fields);
    json_decref(session);
out:
    free(token);
    return rc;
}

static int login_password(struct client *c, const char *user, bool password_stdin)
{
    char name[256], typed[SECRET_MAX + 1];
    char *password = NULL;
    int rc = 1;
    if (!user || !password_stdin) {
        tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (tty_fd < 0) {
            fprintf(stderr, CMD ": no terminal to ask on: give --user NAME --password-stdin, or "
                                "--token\n");
            return 1;
        }
    }
    if (!user) {
        if (ask("username: ", false, name, sizeof name) || !*name) {
            fprintf(stderr, CMD ": no user name\n");
            goto out;
        }
        user = name;
    }
    if (password_stdin) {
        password = secret_from_stdin("password", false);
    } else if (!ask("password: ", true, typed, sizeof typed) && *typed) {
        password = xstrdup(typed);
    } else {
        fprintf(stderr, CMD ": no password\n");
    }
    explicit_bzero(typed, sizeof typed);
    if (!password)
        goto out;

    json_t *body = json_pack("{s:s, s:s}", "username", user, "password", password);
    explicit_bzero(password, strlen(password));
    if (!body) {
        fprintf(stderr, CMD ": the user name or password is not UTF-8 text\n");
        goto out;
    }
    struct client_reply r;
    int failed = client_request(c, "POST", "/api/v1/session", body, &r);
    json_decref(body);
    const char *csrf = json_string_value(json_object_get(r.json, "csrf_token"));
    if (failed) {
        fprintf(stderr, CMD ": %s\n", r.error);
    } else if (!client_is_token(r.cookie) || !client_is_token(csrf)) {
        fprintf(stderr, CMD ": the server answered without a usable session\n");
    } else {
        char path[4096];
        json_t *fields =
            json_pack("{s:s, s:s, s:s}", "session", r.cookie, "csrf_token", csrf, "username", user);
        if (!client_config_save(CMD, c->url, fields, path, sizeof path)) {
            print_done(c->url, user, "a session for 30 days", path);
            rc = 0;
        }
        json_decref(fields);
    }
    client_reply_release(&r);
out:
    free(password);
    if (tty_fd >= 0)
        close(tty_fd);
    tty_fd = -1;
    return rc;
}

int cli_login(int argc, char **argv)
{
    const char *url = NULL, *user = NULL, *token = NULL;
    bool password_stdin = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (client_is_help(a)) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "--user") || !strcmp(a, "--username")) && i + 1 < argc) {
            user = argv[++i];
        } else if (!strncmp(a, "--user=", 7)) {
            user = a + 7;
        } else if (!strcmp(a, "--password-stdin")) {
            password_stdin = true;
        } else if (!strcmp(a, "--token") && i + 1 < argc) {
            token = argv[++i];
        } else if (!strncmp(a, "--token=", 8)) {
            token = a + 8;
        } else if (a[0] != '-' && !url) {
            url = a;
        } else {
            fprintf(stderr, CMD ": unexpected '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!url || (token && (password_stdin || user))) {
        usage(stderr);
        return 2;
    }
    struct client c;
    int rc = 1;
    if (!client_open_url(&c, CMD, url))
        rc = token ? login_token(&c, token) : login_password(&c, user, password_stdin);
    client_release(&c);
    return rc;
}
