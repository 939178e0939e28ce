/* idset.c: a sorted array of ids with binary search: small sets looked up far more often than
 * changed (the teams a live stream may read, a user's teams at some point in time). */
#include "base.h"

#include <stdlib.h>
#include <string.h>

static size_t find(const struct idset *s, int64_t id, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < s->n && s->v[lo] == id;
    return lo;
}

bool idset_add(struct idset *s, int64_t id)
{
    bool found;
    size_t at = find(s, id, &found);
    if (found)
        return false;
    if (s->n == s->alloc)
        s->v = xrealloc(s->v, (s->alloc = s->alloc ? s->alloc * 2 : 8) * sizeof *s->v);
    memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof *s->v);
    s->v[at] = id;
    s->n++;
    return true;
}

bool idset_del(struct idset *s, int64_t id)
{
    bool found;
    size_t at = find(s, id, &found);
    if (!found)
        return false;
    memmove(&s->v[at], &s->v[at + 1], (s->n - at - 1) * sizeof *s->v);
    s->n--;
    return true;
}

bool idset_has(const struct idset *s, int64_t id)
{
    bool found;
    find(s, id, &found);
    return found;
}

void idset_release(struct idset *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}
