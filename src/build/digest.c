/* build_copy_digest: one record per entry the copy would write, in the copy's order, from
 * the same plan and walk, so that the key and the copy cannot disagree on what is included. */
#include "digest/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "build/copy-internal.h"

struct hasher {
        struct copy_plan *p;
        struct digest_ctx *d;
        struct inode_map inodes;
        build_copy_entry_fn entry; /* optional: told each entry's own digest */
        void *entry_data;
        struct digest_ctx *e;   /* the current entry's content part, while ENTRY is set */
        const char *entry_name; /* what ENTRY calls the current top-level source, or NULL */
};

static void update(struct hasher *h, const void *p, size_t n)
{
        digest_ctx_update(h->d, p, n);
        if (h->e)
                digest_ctx_update(h->e, p, n);
}

static void feed(struct hasher *h, const char *s)
{
        update(h, s, strlen(s) + 1); /* NUL-separated: unambiguous */
}

static void feed_fmt(struct hasher *h, const char *fmt, ...) _printf_(2, 3);

static void feed_fmt(struct hasher *h, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *s = xvasprintf(fmt, ap);
        va_end(ap);
        feed(h, s);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The xattrs the copy would carry over, sorted by name. */
static void feed_xattrs(struct hasher *h, int fd)
{
        ssize_t n = fd < 0 ? -1 : flistxattr(fd, NULL, 0);
        if (n <= 0)
                return;
        _cleanup_free_ char *names = xmalloc((size_t)n);
        n = flistxattr(fd, names, (size_t)n);
        _cleanup_free_ char **v = NULL;
        size_t k = 0;
        for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
                if (startswith(names + i, "trusted.overlay."))
                        continue;
                v = xrealloc(v, (k + 1) * sizeof(*v));
                v[k++] = names + i;
        }
        if (k > 0)
                qsort(v, k, sizeof(*v), cmp_str);
        for (size_t i = 0; i < k; i++) {
                ssize_t vn = fgetxattr(fd, v[i], NULL, 0);
                _cleanup_free_ char *val = xmalloc(vn > 0 ? (size_t)vn : 1);
                vn = vn > 0 ? fgetxattr(fd, v[i], val, (size_t)vn) : vn;
                feed_fmt(h, "x %s %zd", v[i], vn);
                if (vn > 0)
                        update(h, val, (size_t)vn);
        }
}

static int feed_file(struct hasher *h, const struct walk_entry *e, struct st_error **err)
{
        const char *first = inode_map_add(&h->inodes, e->st, e->rel);
        if (first) {
                feed_fmt(h, "hardlink %s", first);
                return 0;
        }
        _cleanup_close_ int fd = walk_open_file(h->p->source->root_fd, e);
        if (fd < 0)
                return st_error_set_errno(err, fd, "%s failed: open '%s'", h->p->verb, e->src);
        const struct build_copy_source *s = h->p->source;
        char sum[DIGEST_STR_LEN + 1];
        int r = s->content_hash ? s->content_hash(s->content_hash_data, e->src, e->st, fd, sum, err)
                                : digest_fd(fd, sum, NULL, err);
        if (r < 0)
                return st_error_wrap(err, "%s failed: '%s'", h->p->verb, e->src);
        if (!digest_is_valid(sum))
                return st_error_set(err, -EINVAL, "%s failed: '%s': bad content digest", h->p->verb,
                                    e->src);
        feed_fmt(h, "%lld %s", (long long)e->st->st_size, sum);
        feed_xattrs(h, fd);
        return 0;
}

static int feed_symlink(struct hasher *h, const struct walk_entry *e, struct st_error **err)
{
        _cleanup_close_ int fd = walk_open(h->p->source->root_fd, e, O_PATH);
        char target[COPY_MAX_PATH + 1];
        ssize_t n = fd < 0 ? fd : readlinkat(fd, "", target, sizeof(target));
        if (n < 0 || n > COPY_MAX_PATH)
                return st_error_set_errno(err, n < 0 ? (fd < 0 ? fd : -errno) : -ENAMETOOLONG,
                                          "%s failed: readlink '%s'", h->p->verb, e->src);
        target[n] = 0;
        feed(h, target);
        return 0;
}

/* "path\0type mode uid gid\0" then the type's own fields. */
static int hash_entry(void *userdata, const struct walk_entry *e, struct st_error **err)
{
        struct hasher *h = userdata;
        if (e->leave)
                return 0;
        const struct stat *st = e->st;
        uid_t uid;
        gid_t gid;
        copy_plan_owner(h->p, st, &uid, &gid);
        mode_t mode = S_ISLNK(st->st_mode) ? 0777 : chmod_spec_apply(&h->p->chmod, st->st_mode);
        feed(h, e->rel);
        _cleanup_free_ char *meta = xasprintf("%o %o %u:%u", (unsigned)(st->st_mode & S_IFMT),
                                              (unsigned)mode, uid, gid);
        feed_fmt(h, "%o %o %u %u", (unsigned)(st->st_mode & S_IFMT), (unsigned)mode, uid, gid);
        if (h->entry)
                h->e = digest_ctx_new();
        int r = 0;
        if (S_ISREG(st->st_mode)) {
                r = feed_file(h, e, err);
        } else if (S_ISLNK(st->st_mode)) {
                r = feed_symlink(h, e, err);
        } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
                feed_fmt(h, "%u,%u", major(st->st_rdev), minor(st->st_rdev));
        } else if (S_ISDIR(st->st_mode)) {
                _cleanup_close_ int fd =
                        walk_open(h->p->source->root_fd, e, O_RDONLY | O_DIRECTORY);
                feed_xattrs(h, fd);
        }
        if (!h->e)
                return r;
        char sum[DIGEST_STR_LEN + 1];
        digest_ctx_final(h->e, sum);
        digest_ctx_free(h->e);
        h->e = NULL;
        if (r >= 0)
                h->entry(h->entry_data, h->entry_name ?: e->src, meta, sum);
        return r;
}

static void feed_request(struct hasher *h)
{
        const struct copy_plan *p = h->p;
        const struct build_copy_req *req = p->req;
        feed(h, "strata copy v1");
        feed_fmt(h, "%s dest=/%s dir=%d", p->verb, p->dest, p->dest_is_dir);
        feed_fmt(h, "chown=%d %u %u keep=%d", p->chown, p->uid, p->gid, p->source->keep_owner);
        feed_fmt(h, "chmod=%lld %s", (long long)req->mode, req->mode_str ? req->mode_str : "-");
        feed_fmt(h, "parents=%d", req->parents);
        STRV_FOREACH(x, req->exclude_patterns)
                feed_fmt(h, "exclude %s", *x);
}

static int hash_job(struct hasher *h, const struct copy_job *job, struct st_error **err)
{
        inode_map_clear(&h->inodes);
        if (job->kind == JOB_TREE) { /* its own name does not land anywhere */
                feed(h, "job tree");
                feed_fmt(h, "include %d", job->include != NULL);
                return walk_job(h->p, job, hash_entry, h, err);
        }
        feed(h, "job entry");
        struct walk_entry e = {
                .dirfd = -1, .name = job->name, .src = job->src, .rel = job->name, .st = &job->st
        };
        /* its real path, unless it was reached through a symlink: then the name it lands as */
        const char *base = strrchr(job->src, '/');
        h->entry_name = streq(base ? base + 1 : job->src, job->name) ? job->src : job->name;
        int r = hash_entry(h, &e, err);
        h->entry_name = NULL;
        return r;
}

int build_copy_digest(const struct build_copy_source *src, const struct build_copy_req *req,
                      char *ret_digest, struct st_error **err)
{
        return build_copy_digest_entries(src, req, NULL, NULL, ret_digest, err);
}

int build_copy_digest_entries(const struct build_copy_source *src, const struct build_copy_req *req,
                              build_copy_entry_fn entry, void *userdata, char *ret_digest,
                              struct st_error **err)
{
        struct copy_plan p;
        int r = copy_plan_init(&p, src, req, err);
        if (r < 0)
                return r;
        struct hasher h = {
                .p = &p, .d = digest_ctx_new(), .entry = entry, .entry_data = userdata
        };
        feed_request(&h);
        for (size_t i = 0; r >= 0 && i < p.n_jobs; i++)
                r = hash_job(&h, &p.jobs[i], err);
        if (r >= 0)
                digest_ctx_final(h.d, ret_digest);
        inode_map_clear(&h.inodes);
        digest_ctx_free(h.d);
        copy_plan_release(&p);
        return r;
}
