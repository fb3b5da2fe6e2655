/* The walk of one job's source directory: depth first, names sorted, filters applied, one fd
 * held at a time (deep trees do not run out of descriptors), symlinks never followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "build/copy-internal.h"

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int copy_list_sorted(int fd, char ***ret)
{
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        _cleanup_strv_ char **l = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n + 2 > alloc) {
                        alloc = alloc ? alloc * 2 : 16;
                        l = xrealloc(l, alloc * sizeof(char *));
                }
                l[n++] = xstrdup(de->d_name);
                l[n] = NULL;
        }
        if (errno)
                return -errno;
        if (l)
                qsort(l, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}

int walk_open(int root, const struct walk_entry *e, int flags)
{
        if (e->dirfd < 0)
                return archive_open_in_root(root, e->src, flags | O_NOFOLLOW, false);
        int fd = openat(e->dirfd, e->name, flags | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int walk_open_file(int root, const struct walk_entry *e)
{
        /* O_NONBLOCK: a file swapped for a fifo meanwhile must not hang the build */
        int fd = walk_open(root, e, O_RDONLY | O_NONBLOCK);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
                safe_close(fd);
                return -ESTALE;
        }
        return fd;
}

/* A directory filtered out that may still hold kept entries: handed on before the first. */
struct pending {
        char *src, *rel;
        struct stat st;
        bool emitted;
};

struct walker {
        struct copy_plan *p;
        const struct copy_job *job;
        walk_fn fn;
        void *userdata;
        struct pending *pend;
        size_t n_pend, alloc_pend;
};

enum verdict {
        KEEP,
        PEND, /* a directory to walk, kept only if something inside is */
        SKIP,
};

static enum verdict judge(const struct walker *w, const char *src, const char *rel, bool dir)
{
        const struct build_copy_source *s = w->p->source;
        enum verdict v = KEEP;
        bool skip = false;
        if (s->exclude && s->exclude(s->exclude_data, src, dir, &skip)) {
                if (!dir || skip)
                        return SKIP;
                v = PEND;
        }
        if (patterns_match(w->p->exclude, rel)) {
                if (!dir || !patterns_may_match_below(w->p->exclude, rel, true))
                        return SKIP;
                v = PEND;
        }
        if (w->job->include && !patterns_match(w->job->include, rel)) {
                if (!dir || !patterns_may_match_below(w->job->include, rel, false))
                        return SKIP;
                v = PEND;
        }
        return v;
}

static int emit(struct walker *w, int dirfd, const char *name, const char *src, const char *rel,
                const struct stat *st, bool leave, struct st_error **err)
{
        struct walk_entry e = {
                .dirfd = dirfd, .name = name, .src = src, .rel = rel, .st = st, .leave = leave
        };
        return w->fn(w->userdata, &e, err);
}

/* Hand on the pending directories above a kept entry, outermost first. */
static int flush(struct walker *w, struct st_error **err)
{
        for (size_t i = 0; i < w->n_pend; i++) {
                struct pending *pd = &w->pend[i];
                if (pd->emitted)
                        continue;
                pd->emitted = true;
                int r = emit(w, -1, path_base(pd->src), pd->src, pd->rel, &pd->st, false, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void push_pending(struct walker *w, const char *src, const char *rel, const struct stat *st)
{
        if (w->n_pend == w->alloc_pend) {
                w->alloc_pend = w->alloc_pend ? w->alloc_pend * 2 : 8;
                w->pend = xrealloc(w->pend, w->alloc_pend * sizeof(*w->pend));
        }
        w->pend[w->n_pend++] =
                (struct pending){ .src = xstrdup(src), .rel = xstrdup(rel), .st = *st };
}

/* Pop the innermost pending directory; true if it was handed on (so it needs its leave). */
static bool pop_pending(struct walker *w)
{
        struct pending *pd = &w->pend[--w->n_pend];
        bool emitted = pd->emitted;
        free(pd->src);
        free(pd->rel);
        return emitted;
}

static int walk_dir(struct walker *w, const char *src, const char *rel, unsigned depth,
                    struct st_error **err);

/* A subdirectory NAME of the directory at SRC: handed on (or pending), walked, left. */
static int walk_subdir(struct walker *w, int dirfd, const char *name, const char *src,
                       const char *rel, const struct stat *st, enum verdict v, unsigned depth,
                       struct st_error **err)
{
        int r = 0;
        if (v == KEEP) {
                r = flush(w, err);
                if (r >= 0)
                        r = emit(w, dirfd, name, src, rel, st, false, err);
        } else {
                push_pending(w, src, rel, st);
        }
        if (r >= 0)
                r = walk_dir(w, src, rel, depth + 1, err);
        bool left = v == KEEP || pop_pending(w);
        if (r >= 0 && left)
                r = emit(w, -1, name, src, rel, st, true, err);
        return r;
}

static int walk_names(struct walker *w, const char *src, const char *rel, unsigned depth,
                      char **names, struct st_error **err)
{
        _cleanup_close_ int fd = -1;
        STRV_FOREACH(n, names) {
                if (fd < 0)
                        fd = archive_open_in_root(w->p->source->root_fd, src,
                                                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW, false);
                if (fd < 0)
                        return st_error_set_errno(err, fd, "%s failed: open '%s'", w->p->verb, src);
                int r = copy_plan_count(w->p, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *csrc = path_join(src, *n), *crel = path_join(rel, *n);
                struct stat st;
                if (fstatat(fd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return st_error_set_errno(err, -errno, "%s failed: stat '%s'", w->p->verb,
                                                  csrc);
                enum verdict v = judge(w, csrc, crel, S_ISDIR(st.st_mode));
                if (v == SKIP)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        fd = safe_close(fd); /* one fd at a time, whatever the depth */
                        r = walk_subdir(w, -1, *n, csrc, crel, &st, v, depth, err);
                } else {
                        r = flush(w, err);
                        if (r >= 0)
                                r = emit(w, fd, *n, csrc, crel, &st, false, err);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int walk_dir(struct walker *w, const char *src, const char *rel, unsigned depth,
                    struct st_error **err)
{
        if (depth >= copy_max_depth())
                return st_error_set(err, ST_E_TOO_BIG,
                                    "%s failed: '%s' is nested more than %u directories deep",
                                    w->p->verb, src, copy_max_depth());
        _cleanup_strv_ char **names = NULL;
        {
                _cleanup_close_ int fd = archive_open_in_root(
                        w->p->source->root_fd, src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, false);
                if (fd < 0)
                        return st_error_set_errno(err, fd, "%s failed: open '%s'", w->p->verb,
                                                  *src ? src : ".");
                int r = copy_list_sorted(fd, &names);
                if (r < 0)
                        return st_error_set_errno(err, r, "%s failed: list '%s'", w->p->verb,
                                                  *src ? src : ".");
        }
        return walk_names(w, src, rel, depth, names, err);
}

int walk_job(struct copy_plan *p, const struct copy_job *job, walk_fn fn, void *userdata,
             struct st_error **err)
{
        struct walker w = { .p = p, .job = job, .fn = fn, .userdata = userdata };
        int r = walk_dir(&w, job->src, "", 0, err);
        while (w.n_pend > 0)
                pop_pending(&w);
        free(w.pend);
        return r;
}

struct inode_key {
        dev_t dev;
        ino_t ino;
        char *rel;
};

static int cmp_inode(const void *a, const void *b)
{
        const struct inode_key *x = a, *y = b;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

const char *inode_map_add(struct inode_map *m, const struct stat *st, const char *rel)
{
        if (!S_ISREG(st->st_mode) || st->st_nlink < 2)
                return NULL;
        struct inode_key *k = xmalloc(sizeof(*k));
        *k = (struct inode_key){ .dev = st->st_dev, .ino = st->st_ino };
        struct inode_key **found = tsearch(k, &m->root, cmp_inode);
        if (!found)
                abort(); /* out of memory */
        if (*found != k) {
                free(k);
                return (*found)->rel;
        }
        k->rel = xstrdup(rel);
        return NULL;
}

static void free_key(void *p)
{
        struct inode_key *k = p;
        free(k->rel);
        free(k);
}

void inode_map_clear(struct inode_map *m)
{
        tdestroy(m->root, free_key);
        m->root = NULL;
}
