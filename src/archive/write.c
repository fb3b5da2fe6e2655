/* archive_layer_write: a layer dir as a tar stream, overlay markers turned into .wh. entries. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive/archive-internal.h"
#include "archive/archive.h"
#include "basic/util.h"

#define WRITE_MAX_DEPTH 256

struct hardlink {
        dev_t dev;
        ino_t ino;
        char *path;
};

struct writer {
        struct archive *a;
        struct st_writer *out;
        struct archive_write_stats stats;
        struct hardlink *links;
        size_t n_links;
        char *buf;
        int64_t epoch;             /* mtimes above it are clamped to it (tar and dir); < 0: none */
        struct archive_crcs *crcs; /* set: the CRC of every file read goes there */
};

static la_ssize_t write_cb(struct archive *a, void *u, const void *buf, size_t n)
{
        struct writer *w = u;
        int r = st_writer_write(w->out, buf, n);
        if (r < 0) {
                archive_set_error(a, -r, "%s", st_error_msg(w->out->err));
                return -1;
        }
        return (la_ssize_t)n;
}

static int tar_fail(struct writer *w, const char *path, struct st_error **err)
{
        if (w->out->err)
                return st_error_take(&w->out->err, -EIO, err);
        return st_error_set(err, -EIO, "write layer entry '%s': %s", path,
                            archive_error_string(w->a));
}

static bool is_whiteout(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dirfd)
{
        char v[2] = { 0 };
        ssize_t n = fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof(v));
        return n == 1 && v[0] == 'y';
}

/* Copy the xattrs of NAME in DIRFD (except overlay's own) into E. */
static void add_xattrs(int dirfd, const char *name, struct archive_entry *e)
{
        _cleanup_free_ char *path = xasprintf("/proc/self/fd/%d/%s", dirfd, name);
        char list[4096];
        ssize_t n = llistxattr(path, list, sizeof(list));
        for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1) {
                const char *k = list + off;
                if (startswith(k, "trusted.overlay."))
                        continue;
                char val[65536];
                ssize_t vn = lgetxattr(path, k, val, sizeof(val));
                if (vn >= 0)
                        archive_entry_xattr_add_entry(e, k, val, (size_t)vn);
        }
}

/* With an epoch, ST's mtime above it becomes the epoch, in ST and on NAME in DIRFD (so the
 * layer dir keeps matching its tar: the tree digest has file mtimes). */
static int clamp_mtime(struct writer *w, int dirfd, const char *name, const char *path,
                       struct stat *st, struct st_error **err)
{
        if (w->epoch < 0 || st->st_mtim.tv_sec < w->epoch ||
            (st->st_mtim.tv_sec == w->epoch && st->st_mtim.tv_nsec == 0))
                return 0;
        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = w->epoch } };
        if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return st_error_set_errno(err, -errno, "set the mtime of '%s'", path);
        st->st_mtim = ts[1];
        return 0;
}

static int write_plain_entry(struct writer *w, const char *path, const struct stat *st,
                             struct st_error **err)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        int r = archive_write_header(w->a, e);
        archive_entry_free(e);
        return r == ARCHIVE_OK ? 0 : tar_fail(w, path, err);
}

/* The earlier path of the same inode, for hardlinks; records PATH when first seen. */
static const char *hardlink_target(struct writer *w, const struct stat *st, const char *path)
{
        if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
                return NULL;
        for (size_t i = 0; i < w->n_links; i++)
                if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
                        return w->links[i].path;
        w->links = xrealloc(w->links, sizeof(*w->links) * (w->n_links + 1));
        w->links[w->n_links++] = (struct hardlink){ st->st_dev, st->st_ino, xstrdup(path) };
        return NULL;
}

static int copy_data(struct writer *w, int dirfd, const char *name, const char *path,
                     const struct stat *st, struct st_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", path);
        uint32_t crc = 0;
        uint64_t total = 0;
        for (;;) {
                ssize_t n = read(fd, w->buf, 256 * 1024);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return st_error_set_errno(err, -errno, "read '%s'", path);
                if (n == 0)
                        break;
                if (archive_write_data(w->a, w->buf, (size_t)n) != n)
                        return tar_fail(w, path, err);
                if (w->crcs)
                        crc = libdeflate_crc32(crc, w->buf, (size_t)n);
                total += (uint64_t)n;
        }
        archive_crcs_put(w->crcs, st->st_dev, st->st_ino, total, crc,
                         total == (uint64_t)st->st_size);
        return 0;
}

static int write_entry(struct writer *w, int dirfd, const char *name, const char *path,
                       const struct stat *st, struct st_error **err)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_copy_stat(e, st);
        /* never in a PAX header (some libarchive versions write them with xattrs or long
         * names): they change on every read of the file, and the tar must not */
        archive_entry_unset_atime(e);
        archive_entry_unset_ctime(e);
        archive_entry_unset_birthtime(e);
        archive_entry_set_pathname(e, path);
        archive_entry_set_uname(e, NULL);
        archive_entry_set_gname(e, NULL);
        const char *link = hardlink_target(w, st, path);
        char target[4097];
        if (link) {
                archive_entry_set_hardlink(e, link);
                archive_entry_set_size(e, 0);
        } else if (S_ISLNK(st->st_mode)) {
                ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
                if (n < 0) {
                        archive_entry_free(e);
                        return st_error_set_errno(err, -errno, "read link '%s'", path);
                }
                target[n] = 0;
                archive_entry_set_symlink(e, target);
        }
        add_xattrs(dirfd, name, e);
        int r = archive_write_header(w->a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                return tar_fail(w, path, err);
        w->stats.entries++;
        if (!S_ISREG(st->st_mode) || link)
                return 0;
        w->stats.bytes += (uint64_t)st->st_size;
        return copy_data(w, dirfd, name, path, st, err);
}

static int walk(struct writer *w, int dirfd, const char *prefix, int depth, struct st_error **err);

static int write_child(struct writer *w, int dirfd, const char *name, const char *prefix, int depth,
                       struct st_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s%s", prefix, name);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return st_error_set_errno(err, -errno, "stat '%s'", path);
        int r = clamp_mtime(w, dirfd, name, path, &st, err);
        if (r < 0)
                return r;
        if (is_whiteout(&st)) {
                _cleanup_free_ char *wh = xasprintf("%s.wh.%s", prefix, name);
                return write_plain_entry(w, wh, &st, err);
        }
        if (!S_ISDIR(st.st_mode))
                return write_entry(w, dirfd, name, path, &st, err);
        _cleanup_free_ char *dpath = xasprintf("%s/", path);
        r = write_entry(w, dirfd, name, dpath, &st, err);
        if (r < 0)
                return r;
        _cleanup_close_ int sub =
                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
                return st_error_set_errno(err, -errno, "open '%s'", path);
        if (is_opaque(sub)) {
                _cleanup_free_ char *opq = xasprintf("%s.wh..wh..opq", dpath);
                r = write_plain_entry(w, opq, &st, err);
                if (r < 0)
                        return r;
        }
        return walk(w, sub, dpath, depth + 1, err);
}

static int walk(struct writer *w, int dirfd, const char *prefix, int depth, struct st_error **err)
{
        if (depth > WRITE_MAX_DEPTH)
                return st_error_set(err, ST_E_TOO_BIG, "layer dir nested deeper than %d",
                                    WRITE_MAX_DEPTH);
        _cleanup_strv_ char **names = NULL;
        int r = archive_list_sorted(dirfd, &names);
        if (r < 0)
                return st_error_set_errno(err, r, "list '%s'", *prefix ? prefix : ".");
        STRV_FOREACH(n, names) {
                r = write_child(w, dirfd, *n, prefix, depth, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int archive_layer_write(int dirfd, struct st_writer *out, struct archive_write_stats *ret_stats,
                        struct st_error **err)
{
        return archive_layer_write_clamped(dirfd, -1, NULL, out, ret_stats, err);
}

int archive_layer_write_clamped(int dirfd, int64_t epoch, struct archive_crcs *crcs,
                                struct st_writer *out, struct archive_write_stats *ret_stats,
                                struct st_error **err)
{
        struct writer w = { .out = out, .buf = xmalloc(256 * 1024), .epoch = epoch, .crcs = crcs };
        w.a = archive_write_new();
        archive_write_set_format_pax_restricted(w.a);
        archive_write_set_bytes_in_last_block(w.a, 1);
        int r = 0;
        if (archive_write_open2(w.a, &w, NULL, write_cb, NULL, NULL) != ARCHIVE_OK)
                r = tar_fail(&w, ".", err);
        if (r >= 0)
                r = walk(&w, dirfd, "", 0, err);
        if (r >= 0 && archive_write_close(w.a) != ARCHIVE_OK)
                r = tar_fail(&w, ".", err);
        archive_write_free(w.a);
        for (size_t i = 0; i < w.n_links; i++)
                free(w.links[i].path);
        free(w.links);
        free(w.buf);
        if (r >= 0 && ret_stats)
                *ret_stats = w.stats;
        return r;
}
