/* config_test.c: the serve options: defaults, environment, command line, ranges, --help
 * (src/base/config.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "base/base.h"

#include <stdlib.h>
#include <string.h>

static const char *const envs[] = {
    "SWITCHBOARD_DATA",       "SWITCHBOARD_LISTEN",          "SWITCHBOARD_HEARTBEAT",
    "SWITCHBOARD_MAX_PER_IP", "SWITCHBOARD_MAX_CONNECTIONS", "SWITCHBOARD_MAX_BODY",
    "SWITCHBOARD_THREADS",    "SWITCHBOARD_EVENT_WINDOW",
};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++)
        unsetenv(envs[i]);
    return 0;
}

#define PARSE(cfg, ...)                                                                            \
    ({                                                                                             \
        char *argv_[] = {__VA_ARGS__};                                                             \
        config_parse((cfg), (int)(sizeof argv_ / sizeof argv_[0]), argv_, "test");                 \
    })

static void defaults(void **state)
{
    (void)state;
    struct config cfg;
    assert_int_equal(config_parse(&cfg, 0, NULL, "test"), 0);
    assert_string_equal(cfg.data, "./switchboard-data");
    assert_string_equal(cfg.listen, "127.0.0.1:8080");
    assert_int_equal(cfg.heartbeat_s, 25);
    assert_int_equal(cfg.max_per_ip, 256);
    assert_int_equal(cfg.max_connections, 16384);
    assert_int_equal(cfg.max_body, 65536);
    assert_int_equal(cfg.threads, 0);
    assert_int_equal(cfg.event_window, 8192);
}

static void env_then_argv(void **state)
{
    (void)state;
    struct config cfg;
    setenv("SWITCHBOARD_HEARTBEAT", "30", 1);
    setenv("SWITCHBOARD_LISTEN", "0.0.0.0:9000", 1);
    setenv("SWITCHBOARD_THREADS", "", 1); /* empty: the default applies */
    assert_int_equal(config_parse(&cfg, 0, NULL, "test"), 0);
    assert_int_equal(cfg.heartbeat_s, 30);
    assert_string_equal(cfg.listen, "0.0.0.0:9000");
    assert_int_equal(cfg.threads, 0);

    assert_int_equal(PARSE(&cfg, "--heartbeat", "40"), 0);
    assert_int_equal(cfg.heartbeat_s, 40);
    assert_string_equal(cfg.listen, "0.0.0.0:9000"); /* untouched by argv: env still applies */

    assert_int_equal(PARSE(&cfg, "--heartbeat=41", "--listen=[::1]:1"), 0);
    assert_int_equal(cfg.heartbeat_s, 41);
    assert_string_equal(cfg.listen, "[::1]:1");
    assert_string_equal(cfg.raw.heartbeat, "41");

    /* the last of repeated options wins */
    assert_int_equal(PARSE(&cfg, "--threads", "3", "--threads=7"), 0);
    assert_int_equal(cfg.threads, 7);

    /* an out-of-range environment value is an error too */
    setenv("SWITCHBOARD_MAX_BODY", "10", 1);
    assert_int_equal(config_parse(&cfg, 0, NULL, "test"), -1);
    clear_env(NULL);
}

static void all_options_by_name(void **state)
{
    (void)state;
    struct config cfg;
    assert_int_equal(PARSE(&cfg, "--data", "/d", "--listen", "1.2.3.4:5", "--heartbeat", "1",
                           "--max-per-ip", "1000000", "--max-connections", "16", "--max-body",
                           "67108864", "--threads", "256"),
                     0);
    assert_string_equal(cfg.data, "/d");
    assert_string_equal(cfg.listen, "1.2.3.4:5");
    assert_int_equal(cfg.heartbeat_s, 1);
    assert_int_equal(cfg.max_per_ip, 1000000);
    assert_int_equal(cfg.max_connections, 16);
    assert_int_equal(cfg.max_body, 64u << 20);
    assert_int_equal(cfg.threads, 256);
    assert_int_equal(PARSE(&cfg, "--event-window", "4"), 0);
    assert_int_equal(cfg.event_window, 4);
    assert_int_equal(PARSE(&cfg, "--event-window=1048576"), 0);
    assert_int_equal(cfg.event_window, 1u << 20);
    assert_int_equal(PARSE(&cfg, "--heartbeat", "3600", "--max-body", "1024"), 0);
    assert_int_equal(cfg.heartbeat_s, 3600);
    assert_int_equal(cfg.max_body, 1024);
}

static void errors(void **state)
{
    (void)state;
    struct config cfg;
    assert_int_equal(PARSE(&cfg, "--nope"), -1);
    assert_int_equal(PARSE(&cfg, "--data-dir", "x"), -1); /* a longer name is not a prefix match */
    assert_int_equal(PARSE(&cfg, "data", "x"), -1);
    assert_int_equal(PARSE(&cfg, "--"), -1);
    assert_int_equal(PARSE(&cfg, "--heartbeat"), -1); /* needs a value */
    assert_int_equal(PARSE(&cfg, "--heartbeat", "0"), -1);
    assert_int_equal(PARSE(&cfg, "--heartbeat", "3601"), -1);
    assert_int_equal(PARSE(&cfg, "--heartbeat", "-1"), -1);
    assert_int_equal(PARSE(&cfg, "--heartbeat", "abc"), -1);
    assert_int_equal(PARSE(&cfg, "--heartbeat", "5s"), -1);
    assert_int_equal(PARSE(&cfg, "--heartbeat="), -1);
    assert_int_equal(PARSE(&cfg, "--heartbeat", "99999999999999999999999"), -1);
    assert_int_equal(PARSE(&cfg, "--max-connections", "15"), -1);
    assert_int_equal(PARSE(&cfg, "--max-body", "1023"), -1);
    assert_int_equal(PARSE(&cfg, "--max-body", "67108865"), -1);
    assert_int_equal(PARSE(&cfg, "--max-per-ip", "0"), -1);
    assert_int_equal(PARSE(&cfg, "--threads", "257"), -1);
    assert_int_equal(PARSE(&cfg, "--event-window", "3"), -1);
    assert_int_equal(PARSE(&cfg, "--event-window", "1048577"), -1);
}

static void help(void **state)
{
    (void)state;
    struct config cfg;
    assert_int_equal(PARSE(&cfg, "--help"), 1);
    assert_int_equal(PARSE(&cfg, "-h"), 1);
    assert_int_equal(PARSE(&cfg, "--heartbeat", "5", "--help"), 1);
    /* --help as the value of an option is that option's value, not a request for help */
    assert_int_equal(PARSE(&cfg, "--data", "--help"), 0);
    assert_string_equal(cfg.data, "--help");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults, clear_env),
        cmocka_unit_test_setup(env_then_argv, clear_env),
        cmocka_unit_test_setup(all_options_by_name, clear_env),
        cmocka_unit_test_setup(errors, clear_env),
        cmocka_unit_test_setup(help, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
