/* index.c: an open-addressing map from a team or user id to the streams subscribed to it. */
#include "hub_int.h"

#include <stdlib.h>
#include <string.h>

void index_init(struct index *ix)
{
    ix->cap = 64;
    ix->used = 0;
    ix->slots = xcalloc(ix->cap, sizeof *ix->slots);
}

void index_release(struct index *ix)
{
    for (size_t i = 0; i < ix->cap; i++)
        free(ix->slots[i].v);
    free(ix->slots);
    memset(ix, 0, sizeof *ix);
}

static size_t hash64(int64_t key)
{
    uint64_t x = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(x ^ (x >> 29));
}

static struct index_slot *find(struct index *ix, int64_t key, bool create)
{
    size_t mask = ix->cap - 1;
    for (size_t i = hash64(key) & mask;; i = (i + 1) & mask) {
        struct index_slot *s = &ix->slots[i];
        if (s->key == key)
            return s;
        if (s->key == 0) {
            if (!create)
                return NULL;
            s->key = key;
            ix->used++;
            return s;
        }
    }
}

static void grow(struct index *ix)
{
    struct index old = *ix;
    ix->cap *= 2;
    ix->used = 0;
    ix->slots = xcalloc(ix->cap, sizeof *ix->slots);
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            *find(ix, old.slots[i].key, true) = old.slots[i];
    free(old.slots);
}

void index_add(struct index *ix, int64_t key, struct hub_stream *s)
{
    BUG_ON(key == 0);
    if ((ix->used + 1) * 2 > ix->cap)
        grow(ix);
    struct index_slot *slot = find(ix, key, true);
    if (slot->n == slot->alloc) {
        slot->alloc = slot->alloc ? slot->alloc * 2 : 4;
        slot->v = xrealloc(slot->v, slot->alloc * sizeof *slot->v);
    }
    slot->v[slot->n++] = s;
}

/* Empties slot i and shifts back the entries after it that probed past it (linear probing's
 * deletion without tombstones), so a key that is gone costs nothing: stream ids never repeat. */
static void erase_slot(struct index *ix, size_t i)
{
    size_t mask = ix->cap - 1;
    free(ix->slots[i].v);
    memset(&ix->slots[i], 0, sizeof ix->slots[i]);
    ix->used--;
    for (size_t j = (i + 1) & mask; ix->slots[j].key; j = (j + 1) & mask) {
        size_t home = hash64(ix->slots[j].key) & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        ix->slots[i] = ix->slots[j];
        memset(&ix->slots[j], 0, sizeof ix->slots[j]);
        i = j;
    }
}

void index_remove(struct index *ix, int64_t key, struct hub_stream *s)
{
    struct index_slot *slot = find(ix, key, false);
    if (!slot)
        return;
    for (uint32_t i = 0; i < slot->n; i++)
        if (slot->v[i] == s) {
            slot->v[i] = slot->v[--slot->n];
            break;
        }
    if (!slot->n)
        erase_slot(ix, (size_t)(slot - ix->slots));
}

struct hub_stream **index_get(struct index *ix, int64_t key, uint32_t *n)
{
    struct index_slot *slot = find(ix, key, false);
    *n = slot ? slot->n : 0;
    return slot ? slot->v : NULL;
}
