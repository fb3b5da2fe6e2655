/* The context's stat cache: an unchanged file costs a stat and a lookup, not a read. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/util.h"
#include "build/build.h"
#include "store/store.h"

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
        if (ns(&now) - changed >= BUILD_STAT_CACHE_RACY_NS)
                (void)store_stat_cache_put(c->s, path, st, d, NULL); /* only an optimization */
        memcpy(ret_digest, d, sizeof(d));
        return 0;
}
