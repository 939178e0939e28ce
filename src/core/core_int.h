/* core_int.h: the core's state, shared by its files. */
#ifndef SB_CORE_INT_H
#define SB_CORE_INT_H

#include "core.h"

#include <stdlib.h>

struct core {
    struct store *store;
    struct throttle *logins;
    char dummy_hash[128]; /* verified against for unknown users: same time as a real check */
};

#endif
