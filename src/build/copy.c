/* build_copy: where each job lands (dest resolved inside the destination root), then its
 * entries through the walk, or an ADD archive through the layer extractor. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "build/copy-internal.h"

static int dest_dir_error(struct copier *c, const char *path, int r, struct st_error **err)
{
        _cleanup_free_ char *shown = copy_plan_image_path(path, "");
        if (r == -ENOTDIR || r == -ELOOP || r == -EEXIST)
                return st_error_set(err, -ENOTDIR, "%s failed: cannot copy to non-directory: %s",
                                    c->p->verb, shown);
        return st_error_set_errno(err, r, "%s failed: mkdir '%s'", c->p->verb, shown);
}

/* Open the component NAME of the directory CUR, creating it as a dir made for dest. */
static int open_or_make(struct copier *c, int cur, const char *name)
{
        int fd = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT)
                return fd < 0 ? -errno : fd;
        if (mkdirat(cur, name, 0700) < 0)
                return -errno;
        fd = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        uid_t uid = c->p->chown ? c->p->uid : 0;
        gid_t gid = c->p->chown ? c->p->gid : 0;
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, c->dir_mode) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        c->stats.entries++;
        return fd;
}

int copy_open_dest_dir(struct copier *c, const char *path, struct st_error **err)
{
        _cleanup_close_ int cur = openat(c->dst_root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return dest_dir_error(c, "", -errno, err);
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p, *slash; *s; s = slash ? slash + 1 : s + strlen(s)) {
                slash = strchr(s, '/');
                if (slash)
                        *slash = 0;
                int fd = open_or_make(c, cur, s);
                if (fd < 0)
                        return dest_dir_error(c, p, fd, err);
                safe_close(cur);
                cur = fd;
                if (slash)
                        *slash = '/';
        }
        return TAKE_FD(cur);
}

/* Point C at the destination directory BASE for a job. */
static int set_base(struct copier *c, const char *base, struct st_error **err)
{
        int fd = copy_open_dest_dir(c, base, err);
        if (fd < 0)
                return fd;
        safe_close(c->base_fd);
        c->base_fd = fd;
        free(c->base);
        c->base = xstrdup(base);
        c->pdir_fd = safe_close(c->pdir_fd);
        c->pdir = mfree_str(c->pdir);
        inode_map_clear(&c->inodes);
        return 0;
}

/* The destination of this job: dest resolved inside the root (symlinks in the image followed
 * as if it were '/'), a missing tail as written. */
static int resolve_dest(struct copier *c, char **ret, struct stat *ret_st, struct st_error **err)
{
        int r = path_resolve(c->dst_root, c->p->dest, NULL, true, ret, ret_st);
        if (r == -ENOTDIR)
                return dest_dir_error(c, c->p->dest, r, err);
        if (r < 0) {
                _cleanup_free_ char *shown = copy_plan_image_path(c->p->dest, "");
                return st_error_set_errno(err, r, "%s failed: resolve '%s'", c->p->verb, shown);
        }
        return 0;
}

/* A directory's contents into dest; dest's times become the source dir's, as BuildKit. */
static int run_tree(struct copier *c, const struct copy_job *job, const char *dest,
                    struct st_error **err)
{
        int r = set_base(c, dest, err);
        if (r < 0)
                return r;
        r = walk_job(c->p, job, copy_write_entry, c, err);
        if (r < 0)
                return r;
        struct timespec ts[2] = { job->st.st_atim, job->st.st_mtim };
        if (futimens(c->base_fd, ts) < 0)
                return dest_dir_error(c, dest, -errno, err);
        return 0;
}

/* ADD: a tar among the sources is extracted into dest (always a directory then). 1 if it
 * was one, 0 if the file is to be copied as is. */
static int run_archive(struct copier *c, const struct copy_job *job, const char *dest,
                       struct st_error **err)
{
        _cleanup_close_ int fd =
                archive_open_in_root(c->p->source->root_fd, job->src, O_RDONLY | O_NOFOLLOW, false);
        if (fd < 0)
                return st_error_set_errno(err, fd, "%s failed: open '%s'", c->p->verb, job->src);
        int r = add_is_archive(fd, job->src, err);
        if (r <= 0)
                return r;
        c->dir_mode = 0755;
        r = set_base(c, dest, err);
        if (r < 0)
                return r;
        uint64_t n = 0;
        r = add_extract(c->p, fd, c->base_fd, job->src, &n, err);
        if (r < 0)
                return r;
        c->stats.archives++;
        c->stats.entries += n;
        return 1;
}

/* A single non-directory: into dest/ (dest ending in '/' or an existing dir), else as dest. */
static int run_entry(struct copier *c, const struct copy_job *job, const char *dest,
                     const struct stat *dst_st, struct st_error **err)
{
        const char *name = job->name;
        _cleanup_free_ char *base = NULL;
        if (c->p->dest_is_dir || S_ISDIR(dst_st->st_mode)) {
                base = xstrdup(dest);
        } else {
                name = path_base(dest);
                base = xstrndup(dest, name > dest ? (size_t)(name - dest - 1) : 0);
        }
        int r = set_base(c, base, err);
        if (r < 0)
                return r;
        struct walk_entry e = {
                .dirfd = -1, .name = name, .src = job->src, .rel = name, .st = &job->st
        };
        return copy_write_entry(c, &e, err);
}

static int run_job(struct copier *c, const struct copy_job *job, struct st_error **err)
{
        _cleanup_free_ char *dest = NULL;
        struct stat st;
        int r = resolve_dest(c, &dest, &st, err);
        if (r < 0)
                return r;
        c->dir_mode = chmod_spec_dir_mode(&c->p->chmod);
        if (job->kind == JOB_TREE)
                return run_tree(c, job, dest, err);
        if (c->p->req->add && S_ISREG(job->st.st_mode)) {
                r = run_archive(c, job, dest, err);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return run_entry(c, job, dest, &st, err);
}

int build_copy(const struct build_copy_source *src, int dst_root_fd,
               const struct build_copy_req *req, struct build_copy_stats *ret_stats,
               struct st_error **err)
{
        struct copy_plan p;
        int r = copy_plan_init(&p, src, req, err);
        if (r < 0)
                return r;
        struct copier c = { .p = &p, .dst_root = dst_root_fd, .base_fd = -1, .pdir_fd = -1 };
        c.stats.sources = p.n_jobs;
        for (size_t i = 0; r >= 0 && i < p.n_jobs; i++)
                r = run_job(&c, &p.jobs[i], err);
        safe_close(c.base_fd);
        safe_close(c.pdir_fd);
        free(c.base);
        free(c.pdir);
        inode_map_clear(&c.inodes);
        copy_plan_release(&p);
        if (r < 0)
                return r;
        if (ret_stats)
                *ret_stats = c.stats;
        return 0;
}
