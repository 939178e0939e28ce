/* error.c: lookups into the one error table (errors.def). */
#include "base.h"

static const struct {
    int status;
    const char *code;
    const char *message;
} errors[] = {
    [ERR_NONE] = {200, "ok", "ok"},
#define ERR(name, status, code, msg) [ERR_##name] = {status, code, msg},
#include "errors.def"
#undef ERR
};

static int err_index(int e)
{
    if (e < 0)
        e = e < -ERR__COUNT ? ERR__COUNT : -e; /* no -INT_MIN */
    return e < ERR__COUNT ? e : ERR_INTERNAL;
}

int err_status(int e)
{
    return errors[err_index(e)].status;
}

const char *err_code(int e)
{
    return errors[err_index(e)].code;
}

const char *err_message(int e)
{
    return errors[err_index(e)].message;
}
