/* Partial downloads: ROOT/partial/<hex>, the first bytes of a blob a pull did not finish.
 *
 * A pull appends what it receives to the blob's partial file and the next pull feeds those
 * bytes through the pipeline again before it asks the registry for the rest. The file is
 * flocked by the process that writes it, so two pulls never append to the same one, and gc
 * knows which are in use. Its content is not trusted: the blob's digest, checked at the end
 * as always, decides. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/stream.h"
#include "basic/util.h"
#include "store/store-internal.h"

#define PARTIAL_DIR        "partial"
#define PARTIAL_SYNC_EVERY (8 * 1024 * 1024)

struct store_partial {
        int dir_fd;
        int fd;
        char *name; /* the digest's hex */
        uint64_t size;
        uint64_t unsynced; /* bytes appended since the last fdatasync */
        uint64_t started;  /* of those, the ones whose writeback was started */
};

/* Lock FD's file, and make sure it is still the one at NAME (not unlinked by its last
 * owner meanwhile). 1 if ours, 0 if another process holds it or it went away. */
static int lock_current(int dir_fd, const char *name, int fd)
{
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 0 : -errno;
        struct stat a, b;
        if (fstat(fd, &a) < 0)
                return -errno;
        if (fstatat(dir_fd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino ||
            a.st_dev != b.st_dev)
                return 0;
        return 1;
}

int store_partial_open(struct store *s, const char *digest, struct store_partial **ret,
                       struct st_error **err)
{
        if (!digest_is_valid(digest))
                return st_error_set(err, -EINVAL, "'%s' is not a digest", digest);
        int r = mkdir_p_at(s->root_fd, PARTIAL_DIR, 0700);
        if (r < 0)
                return st_error_set_errno(err, r, "create '%s/%s'", s->root, PARTIAL_DIR);
        _cleanup_close_ int dfd =
                openat(s->root_fd, PARTIAL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return st_error_set_errno(err, -errno, "open '%s/%s'", s->root, PARTIAL_DIR);
        const char *name = digest_hex(digest);
        _cleanup_close_ int fd =
                openat(dfd, name, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return st_error_set_errno(err, -errno, "open partial download '%s'", name);
        r = lock_current(dfd, name, fd);
        if (r < 0)
                return st_error_set_errno(err, r, "lock partial download '%s'", name);
        if (r == 0) {
                *ret = NULL; /* another pull has it */
                return 0;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return st_error_set_errno(err, -errno, "stat partial download '%s'", name);
        struct store_partial *p = xcalloc(1, sizeof(*p));
        p->dir_fd = TAKE_FD(dfd);
        p->fd = TAKE_FD(fd);
        p->name = xstrdup(name);
        p->size = (uint64_t)st.st_size;
        *ret = p;
        return 1;
}

uint64_t store_partial_size(const struct store_partial *p)
{
        return p->size;
}

int store_partial_fd(const struct store_partial *p)
{
        return p->fd;
}

int store_partial_truncate(struct store_partial *p, struct st_error **err)
{
        if (ftruncate(p->fd, 0) < 0)
                return st_error_set_errno(err, -errno, "truncate partial download '%s'", p->name);
        p->size = 0;
        p->unsynced = p->started = 0;
        return 0;
}

int store_partial_append(struct store_partial *p, const void *buf, size_t n, struct st_error **err)
{
        int r = write_full(p->fd, buf, n);
        if (r < 0)
                return st_error_set_errno(err, r, "write partial download '%s'", p->name);
        p->size += n;
        p->unsynced += n;
        if (p->unsynced - p->started >= PARTIAL_SYNC_EVERY) {
                /* written back while the download goes on; synced for good at the close */
                st_start_writeback(p->fd, p->size - (p->unsynced - p->started),
                                   p->unsynced - p->started);
                p->started = p->unsynced;
        }
        return 0;
}

struct store_partial *store_partial_close(struct store_partial *p, bool remove)
{
        if (!p)
                return NULL;
        if (remove || p->size == 0)
                (void)unlinkat(p->dir_fd, p->name, 0); /* still locked: nobody appends */
        else if (p->unsynced > 0)
                (void)fdatasync(p->fd);
        safe_close(p->fd);
        safe_close(p->dir_fd);
        free(p->name);
        free(p);
        return NULL;
}

/* gc: a partial nobody holds that has not grown for STORE_PARTIAL_MAX_AGE is stale. */
static int gc_partial(struct store *s, const char *name, void *u)
{
        struct store_gc_stats *stats = u;
        _cleanup_close_ int dfd =
                openat(s->root_fd, PARTIAL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return 0;
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || lock_current(dfd, name, fd) <= 0 || fstat(fd, &st) < 0)
                return 0;
        if (time(NULL) - st.st_mtime < STORE_PARTIAL_MAX_AGE)
                return 0;
        log_debug("removing stale partial download partial/%s", name);
        if (unlinkat(dfd, name, 0) == 0) {
                stats->partials_removed++;
                stats->bytes_freed += (uint64_t)st.st_size;
        }
        return 0;
}

int store_partial_gc(struct store *s, struct store_gc_stats *stats)
{
        int r = store_for_each_entry(s, PARTIAL_DIR, gc_partial, stats);
        return r == -ENOENT ? 0 : r;
}
