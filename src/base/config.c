/* config.c: the `serve` options from one table (options.def): defaults, then environment, then
 * command line; --help is generated from the same table. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct option_row {
    const char *name, *env, *def, *help;
    size_t offset;
} options[] = {
#define OPT(field, name, env, def, help) {name, env, def, help, offsetof(struct config, raw.field)},
#include "options.def"
#undef OPT
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static const char **option_slot(struct config *cfg, const struct option_row *o)
{
    return (const char **)((char *)cfg + o->offset);
}

void config_print_help(const char *prog, const char *summary)
{
    printf("usage: %s [options]\n%s\n\noptions:\n", prog, summary);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s VALUE", options[i].name);
        printf("  %-26s %s\n  %-26s (env %s, default %s)\n", left, options[i].help, "",
               options[i].env, options[i].def);
    }
    printf("  %-26s %s\n", "--help", "show this text");
}

static int to_unsigned(const char *name, const char *s, unsigned long min, unsigned long max,
                       unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
        fprintf(stderr, "invalid --%s '%s': expected a number from %lu to %lu\n", name, s, min,
                max);
        return -1;
    }
    *out = v;
    return 0;
}

int config_parse(struct config *cfg, int argc, char **argv, const char *prog)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *env = getenv(options[i].env);
        *option_slot(cfg, &options[i]) = env && *env ? env : options[i].def;
    }
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            config_print_help(prog, "Runs the Switchboard server.");
            return 1;
        }
        const struct option_row *o = NULL;
        const char *value = NULL;
        for (size_t i = 0; i < N_OPTIONS && !o; i++) {
            size_t n = strlen(options[i].name);
            if (strncmp(arg, "--", 2) || strncmp(arg + 2, options[i].name, n))
                continue;
            if (arg[2 + n] == '=')
                value = arg + 3 + n, o = &options[i];
            else if (arg[2 + n] == '\0')
                o = &options[i];
        }
        if (!o) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, arg);
            return -1;
        }
        if (!value) {
            if (a + 1 >= argc) {
                fprintf(stderr, "%s: option '--%s' needs a value\n", prog, o->name);
                return -1;
            }
            value = argv[++a];
        }
        *option_slot(cfg, o) = value;
    }
    unsigned long v;
    cfg->data = cfg->raw.data;
    cfg->listen = cfg->raw.listen;
    cfg->database = cfg->raw.database;
    if (*cfg->database && strncmp(cfg->database, "postgres://", 11) &&
        strncmp(cfg->database, "postgresql://", 13)) {
        fprintf(stderr, "--database must be empty (SQLite) or a postgres:// URI\n");
        return -1;
    }
    if (to_unsigned("db-pool", cfg->raw.db_pool, 1, 1000, &v))
        return -1;
    cfg->db_pool = (unsigned)v;
    if (to_unsigned("heartbeat", cfg->raw.heartbeat, 1, 3600, &v))
        return -1;
    cfg->heartbeat_s = (unsigned)v;
    if (to_unsigned("max-per-ip", cfg->raw.max_per_ip, 1, 1000000, &v))
        return -1;
    cfg->max_per_ip = (unsigned)v;
    if (to_unsigned("max-connections", cfg->raw.max_connections, 16, 1000000, &v))
        return -1;
    cfg->max_connections = (unsigned)v;
    if (to_unsigned("max-body", cfg->raw.max_body, 1024, 64UL << 20, &v))
        return -1;
    cfg->max_body = v;
    if (to_unsigned("threads", cfg->raw.threads, 0, 256, &v))
        return -1;
    cfg->threads = (unsigned)v;
    if (to_unsigned("event-window", cfg->raw.event_window, 4, 1u << 20, &v))
        return -1;
    cfg->event_window = (unsigned)v;
    if (to_unsigned("webhook-max-body", cfg->raw.webhook_max_body, 1024, 16UL << 20, &v))
        return -1;
    cfg->webhook_max_body = v;
    if (to_unsigned("webhook-rate", cfg->raw.webhook_rate, 1, 1000000, &v))
        return -1;
    cfg->webhook_rate = (unsigned)v;
    if (to_unsigned("webhook-burst", cfg->raw.webhook_burst, 1, 1000000, &v))
        return -1;
    cfg->webhook_burst = (unsigned)v;
    if (to_unsigned("service-max-body", cfg->raw.service_max_body, 1024, 64UL << 20, &v))
        return -1;
    cfg->service_max_body = v;
    if (to_unsigned("feed-tick", cfg->raw.feed_tick, 1, 3600, &v))
        return -1;
    cfg->feed_tick_s = (unsigned)v;
    if (to_unsigned("mail-retry", cfg->raw.mail_retry, 1, 86400, &v))
        return -1;
    cfg->mail_retry_s = (unsigned)v;
    if (to_unsigned("mail-digest-unit", cfg->raw.mail_digest_unit, 1, 86400, &v))
        return -1;
    cfg->mail_digest_unit_s = (unsigned)v;
    if (strcmp(cfg->raw.smtp_tls, "try") && strcmp(cfg->raw.smtp_tls, "require") &&
        strcmp(cfg->raw.smtp_tls, "none")) {
        fprintf(stderr, "--smtp-tls must be try, require or none\n");
        return -1;
    }
    if (*cfg->raw.smtp && strncmp(cfg->raw.smtp, "smtp://", 7) &&
        strncmp(cfg->raw.smtp, "smtps://", 8)) {
        fprintf(stderr, "--smtp must be an smtp:// or smtps:// URL\n");
        return -1;
    }
    cfg->public_url = cfg->raw.public_url;
    cfg->web = cfg->raw.web;
    cfg->secret_key = cfg->raw.secret_key;
    cfg->egress_allow = cfg->raw.egress_allow;
    return 0;
}
