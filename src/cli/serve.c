/* serve.c: `switchboard serve`: opens the store, starts the hub and the HTTP server, and on
 * SIGINT/SIGTERM shuts down in the order that loses no acknowledged write and leaves no request
 * waiting on a commit: stop accepting, let requests in flight get their commit and answer, end
 * live streams, stop the HTTP threads (which closes their read connections), close the store. */
#include "cli.h"

#include <sodium.h>

#include "../api/api.h"
#include "../egress/egress.h"
#include "../hub/hub.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 5000

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The web client's directory: --web, else web/dist beside the directory the binary was built
 * in (build/switchboard -> web/dist), when it exists. NULL when there is none. */
static const char *web_dir(const struct config *cfg, char *buf, size_t len)
{
    if (cfg->web && *cfg->web)
        return cfg->web;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    char guess[4200];
    snprintf(guess, sizeof guess, "%s/../web/dist", exe);
    struct stat sb;
    if (stat(guess, &sb) || !S_ISDIR(sb.st_mode) || !realpath(guess, exe))
        return NULL;
    snprintf(buf, len, "%s", exe);
    return buf;
}

int cli_serve(int argc, char **argv)
{
    struct config cfg;
    int rc = config_parse(&cfg, argc, argv, "switchboard serve");
    if (rc)
        return rc > 0 ? 0 : 2;
    if (base_crypto_init()) {
        fprintf(stderr, "switchboard: cannot initialise libsodium\n");
        return 1;
    }
    raise_fd_limit();
    /* signals are taken by sigwait() below, never by the other threads */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* past a file size limit a write fails (503), it does not kill */

    char err[512];
    struct store_options so = {
        .data_dir = cfg.data, .database = cfg.database, .pool = cfg.db_pool, .migrate = true};
    struct store *st = store_open_at(&so, err, sizeof err);
    if (!st) {
        fprintf(stderr, "switchboard: %s\n", err);
        return 1;
    }
    struct api api = {.core = core_new(st),
                      .jobs = jobs_new(1),
                      .public_url = cfg.public_url,
                      .max_hook_body = cfg.webhook_max_body};
    unsigned char seal_key[32];
    char key_path[4200];
    snprintf(key_path, sizeof key_path, "%s", cfg.secret_key);
    if (!*cfg.secret_key)
        snprintf(key_path, sizeof key_path, "%s/secret.key", cfg.data);
    if (seal_key_load(key_path, seal_key)) {
        fprintf(stderr, "switchboard: cannot read or create the secret key '%s'\n", key_path);
        store_close(st);
        return 1;
    }
    char fingerprint[33];
    seal_key_fingerprint(seal_key, fingerprint);
    if (store_key_check(st, fingerprint, err, sizeof err)) {
        fprintf(stderr, "switchboard: %s ('%s')\n", err, key_path);
        sodium_memzero(seal_key, sizeof seal_key);
        store_close(st);
        return 1;
    }
    struct core_config cc = {
        .webhook_rate = cfg.webhook_rate, .webhook_burst = cfg.webhook_burst, .seal_key = seal_key};
    core_configure(api.core, &cc);
    sodium_memzero(seal_key, sizeof seal_key);
    struct hub_io io = {http_conn_suspend, http_conn_resume, http_conn_peer_closed, http_conn_fd};
    char web_buf[4200];
    const char *web = web_dir(&cfg, web_buf, sizeof web_buf);
    struct http_static *web_files = NULL;
    if (web && !(web_files = http_static_load(web, err, sizeof err))) {
        fprintf(stderr, "switchboard: %s\n", err);
        store_close(st);
        return 1;
    }
    struct hub_config hc = {.heartbeat_ms = cfg.heartbeat_s * 1000,
                            .ring_frames = cfg.event_window};
    api.hub = hub_new(st, &io, &hc);
    struct http_config http = {
        .listen = cfg.listen,
        .threads = cfg.threads,
        .max_connections = cfg.max_connections,
        .max_per_ip = cfg.max_per_ip,
        .max_body = cfg.max_body,
        .max_upload = 1024 * 1024,
        .max_hook_body = cfg.webhook_max_body > cfg.service_max_body ? cfg.webhook_max_body
                                                                     : cfg.service_max_body,
        .routes = api_routes,
        .n_routes = api_n_routes,
        .authenticate = api_authenticate,
        .ctx = &api,
        .web = web_files,
    };
    struct http_server *srv = http_server_start(&http, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "switchboard: %s\n", err);
        rc = 1;
        goto out_store;
    }
    char msg[160] = "";
    struct feeds *feeds = core_feeds_start(api.core, cfg.egress_allow, cfg.feed_tick_s, msg);
    if (!feeds) {
        fprintf(stderr, "switchboard: --egress-allow: %s\n", msg);
        rc = 1;
        http_server_stop(srv);
        goto out_store;
    }
    store_set_digest_unit(st, (int64_t)cfg.mail_digest_unit_s * 1000);
    struct mailer *mailer = NULL;
    char public_buf[512], from_buf[600], from_addr[400];
    if (*cfg.raw.smtp) {
        snprintf(public_buf, sizeof public_buf, "%s", cfg.public_url);
        if (!*public_buf)
            snprintf(public_buf, sizeof public_buf, "http://%s", cfg.listen);
        size_t n = strlen(public_buf);
        while (n && public_buf[n - 1] == '/')
            public_buf[--n] = '\0';
        const char *h = strstr(public_buf, "://");
        h = h ? h + 3 : public_buf;
        if (*cfg.raw.mail_from) {
            snprintf(from_buf, sizeof from_buf, "%s", cfg.raw.mail_from);
            const char *lt = strchr(cfg.raw.mail_from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
            if (lt && gt)
                snprintf(from_addr, sizeof from_addr, "%.*s", (int)(gt - lt - 1), lt + 1);
            else
                snprintf(from_addr, sizeof from_addr, "%s", cfg.raw.mail_from);
        } else {
            snprintf(from_addr, sizeof from_addr, "switchboard@%.*s", (int)strcspn(h, ":/"), h);
            snprintf(from_buf, sizeof from_buf, "Switchboard <%s>", from_addr);
        }
        struct core_mail_config mc = {
            .smtp_url = cfg.raw.smtp,
            .smtp_tls = !strcmp(cfg.raw.smtp_tls, "require") ? EGRESS_SMTP_TLS_REQUIRE
                        : !strcmp(cfg.raw.smtp_tls, "none")  ? EGRESS_SMTP_TLS_NONE
                                                             : EGRESS_SMTP_TLS_TRY,
            .from = from_buf,
            .from_addr = from_addr,
            .public_url = public_buf,
            .retry_s = cfg.mail_retry_s,
        };
        if (!(mailer = core_mailer_start(api.core, &mc, msg))) {
            fprintf(stderr, "switchboard: %s\n", msg);
            core_feeds_stop(feeds);
            rc = 1;
            http_server_stop(srv);
            goto out_store;
        }
    }
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen);
    log_info("switchboard: listening on http://%s:%u (data in %s%s%s)", host, http_server_port(srv),
             cfg.data, web ? ", web client from " : ", no web client", web ? web : "");

    int sig;
    sigwait(&stop, &sig);
    log_info("switchboard: %s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_server_quiesce(srv, SHUTDOWN_GRACE_MS);
    core_feeds_stop(feeds);   /* a fetch under way finishes and commits what it found */
    core_mailer_stop(mailer); /* a mail being sent finishes; the rest stays queued */
    hub_shutdown(api.hub);
    jobs_free(api.jobs); /* logins in progress finish and submit their sessions */
    store_flush(st);     /* every submitted write committed, its request resumed */
    http_server_drain(srv, SHUTDOWN_GRACE_MS);
    http_server_stop(srv);
    store_close(st);
    hub_free(api.hub);
    core_free(api.core);
    http_static_free(web_files);
    log_info("switchboard: stopped");
    return 0;
out_store:
    jobs_free(api.jobs);
    store_close(st);
    hub_free(api.hub);
    core_free(api.core);
    http_static_free(web_files);
    return rc;
}
