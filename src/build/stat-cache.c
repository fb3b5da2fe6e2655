/* The context's stat cache: an unchanged file costs a stat and a lookup, not a read. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/util.h"
#include "build/build.h"
#include "store/store.h"

#define STAT_CACHE_BATCH 512 /* records kept in memory at most before they are written */

static int64_t ns(const struct timespec *t)
{
        return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

int build_stat_cache_hash(void *userdata, const char *relpath, const struct stat *st, int fd,
                          char *ret_digest, struct st_error **err)
{
        struct build_stat_cache *c = userdata;
        _cleanup_free_ char *path = xasprintf("%s/%s", c->root, relpath);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int r = store_stat_cache_get(c->s, path, st, ret_digest, NULL);
        if (r > 0) {
                c->hits++;
                return 0;
        }
        char d[DIGEST_STR_LEN + 1];
        r = digest_fd(fd, d, NULL, err);
        if (r < 0)
                return r;
        c->reads++;
        int64_t changed = ns(&st->st_ctim) > ns(&st->st_mtim) ? ns(&st->st_ctim) : ns(&st->st_mtim);
        if (ns(&now) - changed >= BUILD_STAT_CACHE_RACY_NS) { /* only an optimization */
                if (c->n_pending == STAT_CACHE_BATCH)
                        build_stat_cache_flush(c);
                if (!c->pending)
                        c->pending = xcalloc(STAT_CACHE_BATCH, sizeof(*c->pending));
                struct store_stat_entry *e = &c->pending[c->n_pending++];
                e->path = TAKE_PTR(path);
                e->st = *st;
                memcpy(e->digest, d, sizeof(d));
        }
        memcpy(ret_digest, d, sizeof(d));
        return 0;
}

void build_stat_cache_flush(struct build_stat_cache *c)
{
        (void)store_stat_cache_put(c->s, c->pending, c->n_pending, NULL);
        for (size_t i = 0; i < c->n_pending; i++)
                free(c->pending[i].path);
        free(c->pending);
        c->pending = NULL;
        c->n_pending = 0;
}
