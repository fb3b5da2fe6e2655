/* strata cp: copy between a container's rootfs and the host with Docker's path rules. The
 * copying is build_copy's (COPY --from's code): every container path resolves inside the
 * rootfs, symlinks in it as if it were '/', and nothing below the destination is followed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/stream.h"
#include "basic/util.h"
#include "build/copy.h"
#include "cli/cli.h"
#include "compress/compress.h"
#include "runtime/container.h"
#include "store/store.h"

struct cp_args {
        bool archive, follow;
};

static int cp_flag(int opt, const char *arg, void *u)
{
        struct cp_args *a = u;
        (void)arg;
        if (opt == 'a')
                a->archive = true;
        else if (opt == 'L')
                a->follow = true;
        else if (opt != 'q')
                return -1;
        return 0;
}

/* NAME with build_copy's wildcard characters escaped; caller frees. */
static char *escape(const char *name)
{
        char *out = xmalloc(strlen(name) * 2 + 1), *o = out;
        for (const char *p = name; *p; p++) {
                if (strchr("*?[]\\", *p))
                        *o++ = '\\';
                *o++ = *p;
        }
        *o = 0;
        return out;
}

static bool ends_with_dot(const char *p)
{
        size_t n = strlen(p);
        return streq(p, ".") || (n >= 2 && streq(p + n - 2, "/."));
}

static bool ends_with_slash(const char *p)
{
        size_t n = strlen(p);
        return n && p[n - 1] == '/';
}

/* What is at PATH below ROOT: 0 missing, 1 a directory, 2 something else (a symlink itself
 * unless FOLLOW). */
static int path_kind(int root, const char *path, bool follow)
{
        _cleanup_free_ char *clean = NULL;
        while (*path == '/')
                path++;
        if (archive_path_clean(path, &clean) < 0)
                return 0;
        _cleanup_close_ int fd =
                archive_open_in_root(root, clean, O_PATH | (follow ? 0 : O_NOFOLLOW), true);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return 0;
        return S_ISDIR(st.st_mode) ? 1 : 2;
}

/* What is at a destination (symlinks followed). */
static int dest_kind(int root, const char *path)
{
        return path_kind(root, path, true);
}

/* Whether a source path is followed when it is a symlink: with -L, or when it ends in '/' or
 * "/." (it must then be a directory), as docker cp does. */
static bool follow_source(const char *path, bool follow)
{
        return follow || ends_with_slash(path) || ends_with_dot(path);
}

/* The dest of build_copy for a source (SRC_DIR, copied as its contents if CONTENTS, else as
 * NAME) going to DEST (of kind KIND), by docker cp's rules; caller frees. NULL with *ret_msg. */
static char *cp_dest(bool src_dir, bool contents, const char *name, const char *dest, int kind,
                     const char **ret_msg)
{
        if (!src_dir) {
                if (kind == 1)
                        return xasprintf("%s/", dest);
                if (kind == 0 && ends_with_slash(dest)) {
                        *ret_msg = "no such directory";
                        return NULL;
                }
                return xstrdup(dest);
        }
        if (kind == 2) {
                *ret_msg = "cannot copy a directory to a file";
                return NULL;
        }
        if (kind == 1 && !contents)
                return xasprintf("%s/%s/", dest, name);
        return xasprintf("%s/", dest);
}

struct cp_side {
        int root;     /* the source root */
        char *source; /* relative to it, escaped ("/" for the root itself) */
        char *name;   /* the base name of the source */
        bool dir;
        bool contents;   /* SRC ended in "/." */
        bool keep_links; /* a symlink source is copied as the link */
};

static void cp_side_release(struct cp_side *s)
{
        safe_close(s->root);
        free(s->source);
        free(s->name);
}

/* PATH with its last component's symlink left alone: its parent's real path and its name;
 * caller frees. NULL with errno set. */
static char *realpath_parent(const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path), *copy2 = xstrdup(path);
        _cleanup_free_ char *dir = realpath(dirname(copy), NULL);
        const char *base = basename(copy2);
        if (!dir)
                return NULL;
        return streq(dir, "/") ? xasprintf("/%s", base) : xasprintf("%s/%s", dir, base);
}

/* A host source PATH (a symlink copied as the link unless FOLLOW). */
static int host_source(const char *path, bool follow, struct cp_side *ret, struct st_error **err)
{
        struct stat st;
        _cleanup_free_ char *link = follow ? NULL : realpath_parent(path);
        if (link && lstat(link, &st) == 0 && S_ISLNK(st.st_mode)) {
                ret->keep_links = true;
                ret->name = xstrdup(strrchr(link, '/') + 1);
                *strrchr(link, '/') = 0;
                ret->root = open(*link ? link : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ret->source = escape(ret->name);
                if (ret->root < 0)
                        return st_error_set_errno(err, -errno, "open %s", path);
                return 0;
        }
        _cleanup_free_ char *real = realpath(path, NULL);
        if (!real || stat(real, &st) < 0)
                return st_error_set_errno(err, -errno, "lstat %s", path);
        ret->dir = S_ISDIR(st.st_mode);
        ret->contents = ret->dir && ends_with_dot(path);
        ret->name = xstrdup(streq(real, "/") ? "/" : strrchr(real, '/') + 1);
        if (ret->dir) {
                ret->root = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ret->source = xstrdup("/");
        } else {
                *strrchr(real, '/') = 0;
                ret->root = open(*real ? real : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ret->source = escape(ret->name);
        }
        if (ret->root < 0)
                return st_error_set_errno(err, -errno, "open %s", path);
        return 0;
}

/* A container source PATH inside ROOTFS (resolved inside it; a symlink copied as the link
 * unless FOLLOW). */
static int container_source(const char *rootfs, const char *path, const char *ctr, bool follow,
                            struct cp_side *ret, struct st_error **err)
{
        ret->root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ret->root < 0)
                return st_error_set_errno(err, -errno, "open '%s'", rootfs);
        _cleanup_free_ char *clean = NULL;
        const char *rel = path;
        while (*rel == '/')
                rel++;
        ret->keep_links = !follow;
        int kind = archive_path_clean(rel, &clean) < 0 ? 0 : path_kind(ret->root, clean, follow);
        if (kind == 0)
                return st_error_set(err, ST_E_NOT_FOUND,
                                    "Could not find the file %s in container %s", path, ctr);
        ret->dir = kind == 1;
        ret->contents = ret->dir && ends_with_dot(path);
        const char *slash = strrchr(clean, '/');
        ret->name = xstrdup(*clean ? (slash ? slash + 1 : clean) : "/");
        _cleanup_free_ char *esc = escape(clean);
        ret->source = xasprintf("/%s", esc);
        return 0;
}

/* Copy SRC to DEST below the root DST_ROOT (of which DEST is a path). */
static int cp_run(struct cp_side *src, int dst_root, const char *dest, bool archive,
                  struct st_error **err)
{
        const char *msg = NULL;
        _cleanup_free_ char *d =
                cp_dest(src->dir, src->contents, src->name, dest, dest_kind(dst_root, dest), &msg);
        if (!d)
                return st_error_set(err, -EINVAL, "%s: %s", dest, msg);
        char *sources[] = { src->source, NULL };
        struct build_copy_source s = { .root_fd = src->root,
                                       .desc = "source",
                                       .keep_owner = archive,
                                       .keep_source_links = src->keep_links };
        struct build_copy_req req = {
                .sources = sources, .dest = d, .uid = -1, .gid = -1, .mode = -1
        };
        return build_copy(&s, dst_root, &req, NULL, err);
}

/* Split "CONTAINER:PATH" (a container name has no '/', so "./a:b" is a host path). */
static bool split_container(const char *arg, char **ret_ctr, const char **ret_path)
{
        const char *colon = strchr(arg, ':');
        if (!colon || colon == arg || memchr(arg, '/', (size_t)(colon - arg)))
                return false;
        *ret_ctr = xstrndup(arg, (size_t)(colon - arg));
        *ret_path = colon + 1;
        return true;
}

/* The host destination DEST as an absolute path; caller frees. */
static char *host_abs(const char *dest)
{
        if (dest[0] == '/')
                return xstrdup(dest);
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
                return xstrdup(dest);
        return xasprintf("%s/%s", cwd, dest);
}

/* `cp CONTAINER:SRC -`: SRC copied (owners kept) into an empty staging dir as NAME, which is
 * then written to stdout as a tar whose top entry is NAME, as docker cp does. */
static int cp_to_stream(struct cli *c, const char *rootfs, const char *ctr, const char *cpath,
                        const struct cp_args *a, struct st_error **err)
{
        if (isatty(STDOUT_FILENO))
                return st_error_set(err, -EINVAL, "refusing to write a tar archive to a terminal");
        struct cp_side src = { .root = -1 };
        _cleanup_free_ char *tmp = NULL;
        int r = container_source(rootfs, cpath, ctr, follow_source(cpath, a->follow), &src, err);
        if (r >= 0)
                r = store_tmp_mkdir(c->store, "cp", &tmp, err);
        _cleanup_close_ int troot = tmp ? open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (r >= 0 && troot < 0)
                r = st_error_set_errno(err, -errno, "open '%s'", tmp);
        if (r >= 0) {
                _cleanup_free_ char *dest = xasprintf("/%s", streq(src.name, "/") ? "." : src.name);
                src.contents = src.contents || streq(src.name, "/");
                r = cp_run(&src, troot, dest, true, err);
        }
        if (r >= 0) {
                struct st_writer *w = st_fd_writer_new(STDOUT_FILENO);
                r = archive_layer_write(troot, w, NULL, err);
                st_writer_free(w);
        }
        cp_side_release(&src);
        if (tmp)
                (void)rm_rf_at(AT_FDCWD, tmp);
        return r;
}

/* `cp - CONTAINER:DEST`: a tar (plain, gzip or zstd) from stdin extracted into a staging dir,
 * whose contents are then copied into DEST, which must be a directory, owners kept. */
static int cp_from_stream(struct cli *c, int croot, const char *dest, struct st_error **err)
{
        if (path_kind(croot, dest, true) != 1)
                return st_error_set(err, -ENOTDIR, "destination \"%s\" must be a directory", dest);
        _cleanup_free_ char *tmp = NULL;
        int r = store_tmp_mkdir(c->store, "cp", &tmp, err);
        if (r < 0)
                return r;
        struct cp_side src = { .root = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                               .source = xstrdup("/"),
                               .name = xstrdup("/"),
                               .dir = true,
                               .contents = true };
        if (src.root < 0)
                r = st_error_set_errno(err, -errno, "open '%s'", tmp);
        struct st_reader *in = st_fd_reader_new(STDIN_FILENO), *plain = NULL;
        if (r >= 0)
                r = decompress_reader_new(in, store_max_layer_bytes(), &plain, err);
        if (r >= 0) {
                struct archive_apply_opts o = { .no_whiteouts = true, .keep_root_meta = true };
                r = archive_layer_apply(plain, src.root, &o, NULL, err);
        }
        st_reader_free(plain);
        st_reader_free(in);
        if (r >= 0)
                r = cp_run(&src, croot, dest, true, err);
        cp_side_release(&src);
        (void)rm_rf_at(AT_FDCWD, tmp);
        return r;
}

static int cp_container(struct cli *c, const char *ctr, const char *cpath, const char *host,
                        bool out, const struct cp_args *a)
{
        _cleanup_store_container_ struct store_container *ct = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        if (store_container_lookup(c->store, ctr, &ct, &err) < 0)
                return cli_fail(err);
        struct runtime_host h;
        cli_runtime_host(c, &h);
        struct runtime_rootfs fs;
        if (runtime_container_rootfs(&h, ct, &fs, &err) < 0)
                return cli_fail(err);
        struct cp_side src = { .root = -1 };
        int r;
        if (out && streq(host, "-")) {
                r = cp_to_stream(c, fs.path, ctr, cpath, a, &err);
        } else if (!out && streq(host, "-")) {
                _cleanup_close_ int croot = open(fs.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = croot < 0 ? st_error_set_errno(&err, -errno, "open '%s'", fs.path)
                              : cp_from_stream(c, croot, *cpath ? cpath : "/", &err);
        } else if (out) {
                _cleanup_close_ int hroot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                _cleanup_free_ char *dest = host_abs(host);
                r = container_source(fs.path, cpath, ctr, follow_source(cpath, a->follow), &src,
                                     &err);
                if (r >= 0)
                        r = cp_run(&src, hroot, dest, a->archive, &err);
        } else {
                _cleanup_close_ int croot = open(fs.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = host_source(host, follow_source(host, a->follow), &src, &err);
                if (r >= 0)
                        r = croot < 0 ? st_error_set_errno(&err, -errno, "open '%s'", fs.path)
                                      : cp_run(&src, croot, *cpath ? cpath : "/", a->archive, &err);
        }
        cp_side_release(&src);
        runtime_container_rootfs_release(&fs);
        return r < 0 ? cli_fail(err) : EXIT_OK;
}

int verb_cp(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "archive", no_argument, NULL, 'a' },
                { "follow-link", no_argument, NULL, 'L' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        struct cp_args a = { 0 };
        int ret = EXIT_OK;
        int i = cli_parse_flags("cp", argc, argv, "aLq", opts, cp_flag, &a, 2, &ret);
        if (i < 0)
                return ret;
        if (argc - i != 2)
                return cli_usage_error("cp", "\"cp\" requires exactly 2 arguments");
        _cleanup_free_ char *src_ctr = NULL, *dst_ctr = NULL;
        const char *src_path = argv[i], *dst_path = argv[i + 1];
        bool from = split_container(argv[i], &src_ctr, &src_path);
        bool to = split_container(argv[i + 1], &dst_ctr, &dst_path);
        if (from == to)
                return cli_usage_error("cp", from ? "copying between containers is not supported"
                                                  : "must specify at least one container source");
        if (from)
                return cp_container(c, src_ctr, src_path, dst_path, true, &a);
        return cp_container(c, dst_ctr, dst_path, src_path, false, &a);
}
