#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "build/copy-internal.h"

char *path_clean_rooted(const char *p)
{
        size_t len = strlen(p);
        char *out = xmalloc(len + 1);
        size_t o = 0;
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--; /* the separator before the dropped component */
                } else if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p += n;
                if (*p == '/')
                        p++;
        }
        out[o] = 0;
        return out;
}

char *path_join(const char *a, const char *b)
{
        if (!*a)
                return xstrdup(b);
        if (!*b)
                return xstrdup(a);
        return xasprintf("%s/%s", a, b);
}

const char *path_base(const char *p)
{
        const char *slash = strrchr(p, '/');
        return slash ? slash + 1 : p;
}

/* The state of one resolution: DONE is real (no symlinks) and CUR is an O_PATH fd of it;
 * TODO holds what is left, components separated by '/'. */
struct resolver {
        int root;
        const struct build_copy_source *src;
        char *done;
        char *todo;
        int cur;
        int hops;
        unsigned missing; /* trailing components of DONE that do not exist */
        struct stat st;   /* lstat of DONE's last component (st_mode 0 if missing) */
};

static int reopen_done(struct resolver *r)
{
        safe_close(r->cur);
        r->cur = archive_open_in_root(r->root, r->done, O_PATH | O_DIRECTORY, false);
        if (r->cur < 0)
                return r->cur;
        return fstat(r->cur, &r->st) < 0 ? -errno : 0;
}

static void done_pop(struct resolver *r)
{
        char *slash = strrchr(r->done, '/');
        if (slash)
                *slash = 0;
        else
                r->done[0] = 0;
}

static void done_push(struct resolver *r, const char *c)
{
        char *n = path_join(r->done, c);
        free(r->done);
        r->done = n;
}

/* "..": drop the last real (or missing) component; never above the root. */
static int step_up(struct resolver *r)
{
        if (!*r->done)
                return 0;
        done_pop(r);
        if (r->missing > 0) {
                if (--r->missing > 0)
                        return 0;
        }
        return reopen_done(r);
}

/* Replace the symlink C (in CUR) by its target at the front of TODO. */
static int step_link(struct resolver *r, const char *c)
{
        if (++r->hops > COPY_MAX_LINK_HOPS)
                return -ELOOP;
        char target[COPY_MAX_PATH + 1];
        ssize_t n = readlinkat(r->cur, c, target, sizeof(target));
        if (n < 0)
                return -errno;
        if (n == 0 || n > COPY_MAX_PATH)
                return n == 0 ? -ENOENT : -ENAMETOOLONG;
        target[n] = 0;
        char *todo = *r->todo ? xasprintf("%s/%s", target, r->todo) : xstrdup(target);
        free(r->todo);
        r->todo = todo;
        if (strlen(todo) > 4 * COPY_MAX_PATH)
                return -ENAMETOOLONG;
        if (target[0] == '/') {
                r->done[0] = 0;
                return reopen_done(r);
        }
        return 0;
}

/* Whether the source's exclude callback hides C (just stat'ed into ST) below DONE. */
static bool hidden(struct resolver *r, const char *c, const struct stat *st)
{
        if (!r->src || !r->src->exclude)
                return false;
        _cleanup_free_ char *p = path_join(r->done, c);
        bool dir = S_ISDIR(st->st_mode), skip = false;
        if (!r->src->exclude(r->src->exclude_data, p, dir, &skip))
                return false;
        /* an excluded dir with possible exceptions inside still exists as far as it matters */
        return !dir || skip;
}

static int step(struct resolver *r, const char *c, bool last, bool allow_missing)
{
        if (r->missing > 0) {
                done_push(r, c);
                r->missing++;
                return 0;
        }
        struct stat st;
        if (fstatat(r->cur, c, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT || !allow_missing)
                        return -errno;
                done_push(r, c);
                r->missing = 1;
                r->st.st_mode = 0;
                return 0;
        }
        if (hidden(r, c, &st))
                return -ENOENT;
        if (S_ISLNK(st.st_mode) && !(last && r->src && r->src->keep_source_links))
                return step_link(r, c);
        if (!last && !S_ISDIR(st.st_mode))
                return -ENOTDIR;
        done_push(r, c);
        r->st = st;
        if (last)
                return 0;
        int fd = openat(r->cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        safe_close(r->cur);
        r->cur = fd;
        return 0;
}

/* Take the next component off TODO into C (a buffer of COPY_MAX_PATH + 1). */
static int next_component(struct resolver *r, char *c)
{
        char *p = r->todo;
        while (*p == '/')
                p++;
        size_t n = strcspn(p, "/");
        if (n > COPY_MAX_PATH)
                return -ENAMETOOLONG;
        memcpy(c, p, n);
        c[n] = 0;
        p += n;
        while (*p == '/')
                p++;
        memmove(r->todo, p, strlen(p) + 1);
        return 0;
}

static int resolve_loop(struct resolver *r, bool allow_missing)
{
        char c[COPY_MAX_PATH + 1];
        while (*r->todo) {
                int k = next_component(r, c);
                if (k < 0)
                        return k;
                if (!*c || streq(c, "."))
                        continue;
                if (streq(c, ".."))
                        k = step_up(r);
                else
                        k = step(r, c, !*r->todo, allow_missing);
                if (k < 0)
                        return k;
                if (strlen(r->done) > COPY_MAX_PATH)
                        return -ENAMETOOLONG;
        }
        return 0;
}

int path_resolve(int root, const char *path, const struct build_copy_source *src,
                 bool allow_missing, char **ret, struct stat *ret_st)
{
        struct resolver r = {
                .root = root, .src = src, .done = xstrdup(""), .todo = xstrdup(path), .cur = -1
        };
        int k = reopen_done(&r);
        if (k >= 0)
                k = resolve_loop(&r, allow_missing);
        safe_close(r.cur);
        free(r.todo);
        if (k < 0) {
                free(r.done);
                return k;
        }
        if (ret_st)
                *ret_st = r.st;
        *ret = r.done;
        return 0;
}
