#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive/archive-internal.h"
#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/util.h"

#define READ_BUFSZ   (128 * 1024)
#define MAX_PATH_LEN 4096
#define WH_PREFIX    ".wh."
#define WH_META      ".wh..wh."
#define WH_OPAQUE    ".wh..wh..opq"
#define XATTR_OPAQUE "trusted.overlay.opaque"

DEFINE_CLEANUP_FUNC(struct archive *, archive_read_free)

struct dir_time {
        char *path;
        struct timespec ts[2];
        size_t seq;
};

struct apply_ctx {
        struct archive *a;
        struct st_reader *tar;
        int root;
        struct archive_apply_opts opts;
        struct archive_apply_stats stats;
        unsigned char *buf;
        struct dir_time *dirs;
        size_t n_dirs, alloc_dirs;
};

/* One entry being applied: its raw name (for messages) and where it goes. */
struct entry {
        struct archive_entry *e;
        const struct archive_apply_opts *opts;
        const char *name;
        char *path;       /* cleaned, "" = the root */
        const char *base; /* last component of path (points into it) */
        char *dir;        /* path without its last component */
        int parent;       /* fd of dir, once opened */
};

static la_ssize_t read_cb(struct archive *a, void *userdata, const void **buf)
{
        struct apply_ctx *c = userdata;
        ssize_t k = st_reader_read(c->tar, c->buf, READ_BUFSZ);
        if (k < 0) {
                archive_set_error(a, EIO, "read failed");
                return -1;
        }
        *buf = c->buf;
        return k;
}

/* The error for a failed libarchive call: the reader's own, else ST_E_PARSE "tar: ...". */
static int la_error(struct apply_ctx *c, struct st_error **err)
{
        if (c->tar->err)
                return st_error_take(&c->tar->err, c->tar->err->code, err);
        if (archive_errno(c->a) == ENOMEM)
                return st_error_set(err, -ENOMEM, "tar: out of memory");
        const char *m = archive_error_string(c->a);
        return st_error_set(err, ST_E_PARSE, "tar: %s", m ? m : "unreadable archive");
}

static int entry_errno(const struct entry *en, int r, const char *what, struct st_error **err)
{
        if (r == -ELOOP || r == -EXDEV)
                return st_error_set(err, ST_E_UNSAFE, "layer entry '%s': %s: %s", en->name, what,
                                    strerror(-r));
        return st_error_set_errno(err, r, "layer entry '%s': %s", en->name, what);
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
        ts[0] = ts[1];
        if (archive_entry_atime_is_set(e)) {
                ts[0].tv_sec = archive_entry_atime(e);
                ts[0].tv_nsec = archive_entry_atime_nsec(e);
        }
}

static int entry_owner(const struct entry *en, uid_t *uid, gid_t *gid, struct st_error **err)
{
        if (en->opts->set_owner) {
                *uid = en->opts->uid;
                *gid = en->opts->gid;
                return 0;
        }
        la_int64_t u = archive_entry_uid(en->e), g = archive_entry_gid(en->e);
        if (u < 0 || u >= UINT32_MAX || g < 0 || g >= UINT32_MAX)
                return st_error_set(err, ST_E_PARSE, "layer entry '%s': invalid owner %lld:%lld",
                                    en->name, (long long)u, (long long)g);
        *uid = (uid_t)u;
        *gid = (gid_t)g;
        return 0;
}

/* Set the entry's xattrs on FD, or (FD < 0) on the node BASE in the directory PARENT without
 * following it. Best effort: only errors that mean the disk is failing are returned.
 * trusted.overlay.* is never taken from a tar: overlay markers come from .wh. entries only. */
static int set_xattrs(struct archive_entry *e, int fd, int parent, const char *base)
{
        _cleanup_free_ char *proc = NULL;
        const char *name;
        const void *value;
        size_t size;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (startswith(name, "trusted.overlay."))
                        continue;
                if (fd < 0 && !proc)
                        proc = xasprintf("/proc/self/fd/%d/%s", parent, base);
                int r = fd >= 0 ? fsetxattr(fd, name, value, size, 0)
                                : lsetxattr(proc, name, value, size, 0);
                if (r < 0 && (errno == ENOSPC || errno == EDQUOT || errno == EIO))
                        return -errno;
        }
        return 0;
}

/* Owner, mode (after the owner: chown clears setuid), xattrs and times on the open FD. */
static int set_meta_fd(const struct entry *en, int fd, bool times, struct st_error **err)
{
        uid_t uid;
        gid_t gid;
        int r = entry_owner(en, &uid, &gid, err);
        if (r < 0)
                return r;
        if (fchown(fd, uid, gid) < 0)
                return entry_errno(en, -errno, "chown", err);
        if (fchmod(fd, archive_entry_perm(en->e)) < 0)
                return entry_errno(en, -errno, "chmod", err);
        r = set_xattrs(en->e, fd, -1, NULL);
        if (r < 0)
                return entry_errno(en, r, "set xattrs", err);
        struct timespec ts[2];
        entry_times(en->e, ts);
        if (times && futimens(fd, ts) < 0)
                return entry_errno(en, -errno, "set times", err);
        return 0;
}

/* The same for a node that cannot be opened (symlink, device, fifo): by name, never followed. */
static int set_meta_at(const struct entry *en, bool is_link, struct st_error **err)
{
        uid_t uid;
        gid_t gid;
        int r = entry_owner(en, &uid, &gid, err);
        if (r < 0)
                return r;
        if (fchownat(en->parent, en->base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return entry_errno(en, -errno, "chown", err);
        /* a device or fifo we just created under this name: chmod cannot follow anything */
        if (!is_link && fchmodat(en->parent, en->base, archive_entry_perm(en->e), 0) < 0)
                return entry_errno(en, -errno, "chmod", err);
        r = set_xattrs(en->e, -1, en->parent, en->base);
        if (r < 0)
                return entry_errno(en, r, "set xattrs", err);
        struct timespec ts[2];
        entry_times(en->e, ts);
        if (utimensat(en->parent, en->base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return entry_errno(en, -errno, "set times", err);
        return 0;
}

static int pwrite_full(int fd, const char *p, size_t len, off_t off)
{
        while (len > 0) {
                ssize_t n = pwrite(fd, p, len, off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                p += n;
                len -= (size_t)n;
                off += n;
        }
        return 0;
}

/* Stream the entry's data into FD block by block (sparse holes stay holes), then set the size.
 * With opts.crcs, the CRC of the content is computed on the way (what the tree digest reads
 * otherwise) and recorded, unless the data came with holes. */
static int write_data(struct apply_ctx *c, const struct entry *en, int fd, struct st_error **err)
{
        la_int64_t size = archive_entry_size(en->e);
        uint32_t crc = 0;
        uint64_t dense = 0; /* the data written without a hole before it */
        struct stat st;
        bool crcs = c->opts.crcs && fstat(fd, &st) == 0;
        if (crcs) /* until the file is complete, nothing is known of its inode (number) */
                archive_crcs_put(c->opts.crcs, st.st_dev, st.st_ino, 0, 0, false);
        for (;;) {
                const void *block;
                size_t len;
                la_int64_t off;
                int r = archive_read_data_block(c->a, &block, &len, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        /* the transport under the tar failed (a network error): that is the
                         * error, not this entry, which only happened to be read then; the
                         * content's own errors (corrupt, too big) still name the entry */
                        bool below = c->tar->err != NULL;
                        int k = la_error(c, err);
                        bool transport = below && k != ST_E_PARSE && k != ST_E_TOO_BIG &&
                                         k != ST_E_DIGEST_MISMATCH && k != -ENOMEM;
                        return transport ? k : st_error_wrap(err, "layer entry '%s'", en->name);
                }
                if (off < 0 || (uint64_t)off + len > (uint64_t)size)
                        return st_error_set(err, ST_E_PARSE,
                                            "layer entry '%s': data beyond the file size",
                                            en->name);
                r = pwrite_full(fd, block, len, off);
                if (r < 0)
                        return entry_errno(en, r, "write", err);
                if (crcs && (uint64_t)off == dense) {
                        crc = libdeflate_crc32(crc, block, len);
                        dense += len;
                }
        }
        if (ftruncate(fd, size) < 0)
                return entry_errno(en, -errno, "truncate", err);
        if (crcs)
                archive_crcs_put(c->opts.crcs, st.st_dev, st.st_ino, (uint64_t)size, crc,
                                 dense == (uint64_t)size);
        return 0;
}

static int create_file(struct apply_ctx *c, const struct entry *en, struct st_error **err)
{
        la_int64_t size = archive_entry_size(en->e);
        if (size < 0)
                return st_error_set(err, ST_E_PARSE, "layer entry '%s': invalid size", en->name);
        if (c->opts.max_bytes && c->stats.bytes + (uint64_t)size > c->opts.max_bytes)
                return st_error_set(err, ST_E_TOO_BIG,
                                    "layer entry '%s': layer content exceeds the limit of %" PRIu64
                                    " bytes",
                                    en->name, c->opts.max_bytes);
        c->stats.bytes += (uint64_t)size;
        _cleanup_close_ int fd = openat(en->parent, en->base,
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return entry_errno(en, -errno, "create", err);
        int r = write_data(c, en, fd, err);
        if (r < 0)
                return r;
        return set_meta_fd(en, fd, true, err);
}

static void defer_dir_time(struct apply_ctx *c, const struct entry *en)
{
        if (c->n_dirs == c->alloc_dirs) {
                c->alloc_dirs = c->alloc_dirs ? c->alloc_dirs * 2 : 64;
                c->dirs = xrealloc(c->dirs, c->alloc_dirs * sizeof(*c->dirs));
        }
        struct dir_time *d = &c->dirs[c->n_dirs];
        d->path = xstrdup(en->path);
        entry_times(en->e, d->ts);
        d->seq = c->n_dirs++;
}

/* A directory: created if missing, merged (metadata only) over an existing one. */
static int create_dir(struct apply_ctx *c, const struct entry *en, bool exists,
                      struct st_error **err)
{
        if (!exists && mkdirat(en->parent, en->base, 0700) < 0)
                return entry_errno(en, -errno, "mkdir", err);
        _cleanup_close_ int fd =
                openat(en->parent, en->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return entry_errno(en, -errno, "open", err);
        int r = set_meta_fd(en, fd, false, err);
        if (r < 0)
                return r;
        defer_dir_time(c, en);
        return 0;
}

static int create_symlink(const struct entry *en, struct st_error **err)
{
        const char *target = archive_entry_symlink(en->e);
        if (!target || !*target)
                return st_error_set(err, ST_E_PARSE, "layer entry '%s': empty symlink target",
                                    en->name);
        if (strlen(target) >= MAX_PATH_LEN)
                return st_error_set(err, ST_E_PARSE,
                                    "layer entry '%s': symlink target of %zu bytes (limit %d)",
                                    en->name, strlen(target), MAX_PATH_LEN - 1);
        if (symlinkat(target, en->parent, en->base) < 0)
                return entry_errno(en, -errno, "symlink", err);
        return set_meta_at(en, true, err);
}

static int create_node(const struct entry *en, mode_t type, struct st_error **err)
{
        dev_t dev = type == S_IFIFO ? 0 : archive_entry_rdev(en->e);
        if (mknodat(en->parent, en->base, type | 0600, dev) < 0) {
                /* no CAP_MKNOD (a user namespace): skipped, as Docker and Podman do */
                if (errno == EPERM && type != S_IFIFO) {
                        log_debug("layer entry '%s': cannot create a device here, skipped",
                                  en->name);
                        return 0;
                }
                return entry_errno(en, -errno, "mknod", err);
        }
        return set_meta_at(en, false, err);
}

/* Resolve a hardlink's target inside the root to an O_PATH fd of an existing non-directory. */
static int open_link_target(struct apply_ctx *c, const struct entry *en, struct st_error **err)
{
        const char *target = archive_entry_hardlink(en->e);
        _cleanup_free_ char *t = NULL;
        int r = strlen(target) >= MAX_PATH_LEN ? -ENAMETOOLONG : archive_path_clean(target, &t);
        if (r < 0 || !*t)
                return st_error_set(err, ST_E_UNSAFE,
                                    "layer entry '%s': hardlink target '%.256s' is outside the "
                                    "layer root",
                                    en->name, target);
        int fd = archive_open_in_root(c->root, t, O_PATH | O_NOFOLLOW, true);
        if (fd < 0)
                return st_error_set(err, ST_E_UNSAFE,
                                    "layer entry '%s': hardlink target '%.256s' is not in the "
                                    "layer: %s",
                                    en->name, target, strerror(-fd));
        struct stat st;
        if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
                safe_close(fd);
                return st_error_set(err, ST_E_UNSAFE,
                                    "layer entry '%s': hardlink target '%.256s' is a directory",
                                    en->name, target);
        }
        return fd;
}

static int create_hardlink(const struct entry *en, int target, struct st_error **err)
{
        if (linkat(target, "", en->parent, en->base, AT_EMPTY_PATH) == 0)
                return 0;
        /* without CAP_DAC_READ_SEARCH: link through the fd's /proc entry instead */
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", target);
        if (linkat(AT_FDCWD, proc, en->parent, en->base, AT_SYMLINK_FOLLOW) < 0)
                return entry_errno(en, -errno, "link", err);
        return 0;
}

/* Remove what is at the entry's place unless both are directories; *ret_dir tells which. */
static int clear_place(const struct entry *en, bool want_dir, bool *ret_dir, struct st_error **err)
{
        struct stat st;
        *ret_dir = false;
        if (fstatat(en->parent, en->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : entry_errno(en, -errno, "stat", err);
        if (want_dir && S_ISDIR(st.st_mode)) {
                *ret_dir = true;
                return 0;
        }
        int r = rm_rf_at(en->parent, en->base);
        if (r < 0)
                return entry_errno(en, r, "remove the existing entry", err);
        return 0;
}

static int create_entry(struct apply_ctx *c, const struct entry *en, struct st_error **err)
{
        mode_t type = archive_entry_filetype(en->e);
        bool exists;
        _cleanup_close_ int target = -1;
        if (archive_entry_hardlink(en->e)) {
                target = open_link_target(c, en, err);
                if (target < 0)
                        return target;
        }
        int r = clear_place(en, type == AE_IFDIR && target < 0, &exists, err);
        if (r < 0)
                return r;
        if (target >= 0)
                return create_hardlink(en, target, err);
        switch (type) {
        case AE_IFREG:
                return create_file(c, en, err);
        case AE_IFDIR:
                return create_dir(c, en, exists, err);
        case AE_IFLNK:
                return create_symlink(en, err);
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
                return create_node(en, type, err);
        default:
                return st_error_set(err, ST_E_UNSUPPORTED,
                                    "layer entry '%s': unsupported file type 0%o", en->name,
                                    (unsigned)type);
        }
}

/* ".wh..wh..opq" marks its directory opaque; ".wh.NAME" becomes a 0/0 char device NAME. */
static int apply_whiteout(const struct entry *en, struct st_error **err)
{
        if (streq(en->base, WH_OPAQUE)) {
                if (fsetxattr(en->parent, XATTR_OPAQUE, "y", 1, 0) < 0)
                        return entry_errno(en, -errno, "set " XATTR_OPAQUE, err);
                return 0;
        }
        const char *name = en->base + strlen(WH_PREFIX);
        if (!*name || streq(name, ".") || streq(name, ".."))
                return st_error_set(err, ST_E_UNSAFE, "layer entry '%s': invalid whiteout",
                                    en->name);
        int r = rm_rf_at(en->parent, name);
        if (r < 0)
                return entry_errno(en, r, "remove the whited-out entry", err);
        if (mknodat(en->parent, name, S_IFCHR, makedev(0, 0)) < 0)
                return entry_errno(en, -errno, "mknod whiteout", err);
        uid_t uid;
        gid_t gid;
        r = entry_owner(en, &uid, &gid, err);
        if (r < 0)
                return r;
        if (fchownat(en->parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return entry_errno(en, -errno, "chown whiteout", err);
        return 0;
}

/* The root itself ("./"): only a directory entry may describe it, and only its metadata. */
static int apply_root(struct apply_ctx *c, const struct entry *en, struct st_error **err)
{
        if (archive_entry_filetype(en->e) != AE_IFDIR || archive_entry_hardlink(en->e))
                return st_error_set(err, ST_E_UNSAFE,
                                    "layer entry '%s' would replace the layer root", en->name);
        if (c->opts.keep_root_meta)
                return 0;
        _cleanup_close_ int fd = openat(c->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return entry_errno(en, -errno, "open", err);
        int r = set_meta_fd(en, fd, false, err);
        if (r < 0)
                return r;
        defer_dir_time(c, en);
        return 0;
}

/* Check the name and split it into en->path, en->dir, en->base. */
static int entry_place(struct entry *en, struct st_error **err)
{
        size_t len = strlen(en->name);
        if (len >= MAX_PATH_LEN)
                return st_error_set(err, ST_E_UNSAFE,
                                    "layer entry '%.64s...' has a name of %zu bytes (limit %d)",
                                    en->name, len, MAX_PATH_LEN - 1);
        int r = archive_path_clean(en->name, &en->path);
        if (r == -EPERM)
                return st_error_set(err, ST_E_UNSAFE, "layer entry '%s' has an absolute path",
                                    en->name);
        if (r < 0)
                return st_error_set(err, ST_E_UNSAFE, "layer entry '%s' escapes the layer root",
                                    en->name);
        char *slash = strrchr(en->path, '/');
        en->dir = slash ? xstrndup(en->path, (size_t)(slash - en->path)) : xstrdup("");
        en->base = slash ? slash + 1 : en->path;
        return 0;
}

static int apply_entry(struct apply_ctx *c, struct archive_entry *e, struct st_error **err)
{
        struct entry en = {
                .e = e, .opts = &c->opts, .name = archive_entry_pathname(e), .parent = -1
        };
        if (!en.name)
                return st_error_set(err, ST_E_PARSE, "tar: entry without a name");
        if (c->opts.max_entries && c->stats.entries >= c->opts.max_entries)
                return st_error_set(err, ST_E_TOO_BIG, "layer has more than %" PRIu64 " entries",
                                    c->opts.max_entries);
        c->stats.entries++;
        int r = entry_place(&en, err);
        bool wh = r >= 0 && !c->opts.no_whiteouts && startswith(en.base, WH_PREFIX);
        bool aufs = r >= 0 && !c->opts.no_whiteouts && startswith(en.path, WH_META) &&
                    !streq(en.path, WH_OPAQUE);
        if (r < 0 || aufs)
                goto out; /* error, or aufs metadata (".wh..wh.plnk/..."): skipped like Docker */
        if (!*en.path) {
                r = apply_root(c, &en, err);
                goto out;
        }
        en.parent = archive_open_dir_create(c->root, en.dir);
        if (en.parent < 0) {
                r = entry_errno(&en, en.parent, "open parent directory", err);
                goto out;
        }
        r = wh ? apply_whiteout(&en, err) : create_entry(c, &en, err);
out:
        safe_close(en.parent);
        free(en.path);
        free(en.dir);
        return r;
}

static int cmp_dir_time(const void *a, const void *b)
{
        const struct dir_time *x = a, *y = b;
        size_t dx = 0, dy = 0;
        for (const char *p = x->path; *p; p++)
                dx += *p == '/';
        for (const char *p = y->path; *p; p++)
                dy += *p == '/';
        dx += *x->path != 0; /* the root ("") sorts last */
        dy += *y->path != 0;
        if (dx != dy)
                return dx > dy ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Directory times last, deepest first, since creating children changed them. A path that no
 * longer leads to a directory without symlinks (replaced later) is skipped. */
static int apply_dir_times(struct apply_ctx *c, struct st_error **err)
{
        if (c->n_dirs > 0)
                qsort(c->dirs, c->n_dirs, sizeof(*c->dirs), cmp_dir_time);
        for (size_t i = 0; i < c->n_dirs; i++) {
                const char *p = c->dirs[i].path;
                _cleanup_close_ int fd = archive_open_in_root(
                        c->root, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, false);
                if (fd < 0)
                        continue;
                if (futimens(fd, c->dirs[i].ts) < 0)
                        return st_error_set_errno(err, -errno, "layer entry '%s': set times",
                                                  *p ? p : ".");
        }
        return 0;
}

/* Read what follows the end-of-archive marker, so a hashing reader below sees every byte. */
static int drain(struct apply_ctx *c, struct st_error **err)
{
        for (;;) {
                ssize_t k = st_reader_read(c->tar, c->buf, READ_BUFSZ);
                if (k < 0)
                        return st_error_take(&c->tar->err, (int)k, err);
                if (k == 0)
                        return 0;
        }
}

static int apply_all(struct apply_ctx *c, struct st_error **err)
{
        archive_read_support_format_tar(c->a);
        archive_read_support_format_empty(c->a);
        archive_read_support_filter_none(c->a);
        if (archive_read_open(c->a, c, NULL, read_cb, NULL) != ARCHIVE_OK)
                return la_error(c, err);
        for (;;) {
                struct archive_entry *e;
                int r = archive_read_next_header(c->a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return la_error(c, err);
                r = apply_entry(c, e, err);
                if (r < 0)
                        return r;
        }
        int r = apply_dir_times(c, err);
        if (r < 0)
                return r;
        return drain(c, err);
}

int archive_layer_apply(struct st_reader *tar, int dirfd, const struct archive_apply_opts *opts,
                        struct archive_apply_stats *ret_stats, struct st_error **err)
{
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        if (!a)
                return st_error_set(err, -ENOMEM, "tar: out of memory");
        _cleanup_free_ unsigned char *buf = xmalloc(READ_BUFSZ);
        struct apply_ctx c = { .a = a, .tar = tar, .root = dirfd, .buf = buf };
        if (opts)
                c.opts = *opts;
        int r = apply_all(&c, err);
        for (size_t i = 0; i < c.n_dirs; i++)
                free(c.dirs[i].path);
        free(c.dirs);
        if (r < 0)
                return r;
        if (ret_stats)
                *ret_stats = c.stats;
        return 0;
}
