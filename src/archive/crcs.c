/* The CRC-32 of each regular file's content, learnt while the file was written (extraction) or
 * read (the tar writer), so that the tree digest that follows need not read it all again. */
#include <stdlib.h>

#include "archive/archive-internal.h"
#include "archive/archive.h"
#include "basic/util.h"

struct crc_slot {
        dev_t dev;
        ino_t ino; /* 0: free */
        uint64_t size;
        uint32_t crc;
};

struct archive_crcs {
        struct crc_slot *slots;
        size_t cap, n; /* cap: a power of 2, kept at least twice n */
};

struct archive_crcs *archive_crcs_new(void)
{
        struct archive_crcs *c = xmalloc(sizeof(*c));
        c->cap = 1024;
        c->n = 0;
        c->slots = xcalloc(c->cap, sizeof(*c->slots));
        return c;
}

void archive_crcs_free(struct archive_crcs *c)
{
        if (!c)
                return;
        free(c->slots);
        free(c);
}

static size_t slot_of(const struct archive_crcs *c, dev_t dev, ino_t ino)
{
        uint64_t h = ((uint64_t)ino ^ ((uint64_t)dev << 32)) * 0x9e3779b97f4a7c15ull;
        size_t i = (size_t)(h >> 20) & (c->cap - 1);
        while (c->slots[i].ino && (c->slots[i].ino != ino || c->slots[i].dev != dev))
                i = (i + 1) & (c->cap - 1);
        return i;
}

static void grow(struct archive_crcs *c)
{
        struct crc_slot *old = c->slots;
        size_t old_cap = c->cap;
        c->cap *= 2;
        c->slots = xcalloc(c->cap, sizeof(*c->slots));
        for (size_t i = 0; i < old_cap; i++)
                if (old[i].ino)
                        c->slots[slot_of(c, old[i].dev, old[i].ino)] = old[i];
        free(old);
}

void archive_crcs_put(struct archive_crcs *c, dev_t dev, ino_t ino, uint64_t size, uint32_t crc,
                      bool known)
{
        if (!c || !ino)
                return;
        if (2 * (c->n + 1) > c->cap)
                grow(c);
        size_t i = slot_of(c, dev, ino);
        if (!c->slots[i].ino)
                c->n++;
        /* an unknown one still replaces what a file with the inode's number had before */
        c->slots[i] = (struct crc_slot){
                .dev = dev, .ino = ino, .size = known ? size : UINT64_MAX, .crc = crc
        };
}

bool archive_crcs_get(const struct archive_crcs *c, dev_t dev, ino_t ino, uint64_t size,
                      uint32_t *ret_crc)
{
        if (!c || !ino)
                return false;
        const struct crc_slot *s = &c->slots[slot_of(c, dev, ino)];
        if (!s->ino || s->size != size || size == UINT64_MAX)
                return false;
        *ret_crc = s->crc;
        return true;
}
