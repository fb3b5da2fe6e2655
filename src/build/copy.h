/* COPY and ADD: copy files from a source tree (the build context, or a stage's root with --from)
 * into a container root by Docker's rules, and hash what a copy would bring in, for the step's
 * cache key. Pure filesystem work: the Dockerfile, variables, .dockerignore and --chown names
 * are the caller's. The rules and the edge cases are in docs/build-copy.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "basic/error.h"

/* Decides what of the source is excluded (.dockerignore). RELPATH is '/'-separated, relative to
 * the source root, cleaned, never "" (the root is never asked about). Return true to exclude.
 * Set *ret_skip_dir for an excluded directory when nothing below it can be re-included (no
 * exception pattern reaches inside): its subtree is then not even read. An excluded directory
 * without *ret_skip_dir is walked and created only if something inside is kept. */
typedef bool (*build_exclude_fn)(void *userdata, const char *relpath, bool is_dir,
                                 bool *ret_skip_dir);

/* Optional, for build_copy_digest: the "sha256:<hex>" of the regular file RELPATH (below the
 * source root; ST its lstat, FD open on it for reading) into RET_DIGEST (DIGEST_STR_LEN + 1),
 * e.g. from a stat cache keyed on device, inode, size, mtime and ctime, so that an unchanged
 * file is not read again; on a miss, digest_fd(FD, ...). 0, or <0 with *err set. */
typedef int (*build_hash_fn)(void *userdata, const char *relpath, const struct stat *st, int fd,
                             char *ret_digest, struct st_error **err);

struct build_copy_source {
        int root_fd;              /* the source root directory */
        const char *desc;         /* "context" or "stage 'builder'", for messages; NULL = context */
        build_exclude_fn exclude; /* NULL: nothing excluded */
        void *exclude_data;
        bool keep_owner;            /* --from: keep uid/gid; context: files become 0:0 */
        build_hash_fn content_hash; /* NULL: build_copy_digest reads every file */
        void *content_hash_data;
        bool keep_source_links; /* a source path that is a symlink is copied as the link, not
                                   followed (docker cp without -L); COPY follows it */
};

struct build_copy_req {
        char **sources;          /* already expanded, relative to the source root (a leading '/'
                                    means the root; '..' stops at the root). Go filepath.Match
                                    wildcards per path component: '*', '?', '[a-z]', '[^a]', '\' */
        const char *dest;        /* a trailing '/' (or "." / "..") means "a directory" */
        const char *workdir;     /* absolute; NULL or "/" if none; relative dests start here */
        int64_t uid, gid;        /* --chown resolved by the caller; -1 = not given. With only one
                                    given, a missing gid is the uid, a missing uid is 0 */
        int64_t mode;            /* --chmod in octal (<= 07777); -1 = not given */
        const char *mode_str;    /* --chmod in chmod(1) symbolic form ("u+x,go-w"), applied to
                                    each source mode; NULL = not given. See build_chmod_parse */
        bool add;                /* ADD: a source file that is a tar (plain, gzip or zstd) is
                                    extracted into dest; bzip2/xz fail as unsupported */
        char **exclude_patterns; /* --exclude: .dockerignore syntax ('**', '!'), matched against
                                    the path as it lands below dest */
        bool parents;            /* --parents: keep the sources' parent dirs ("a/./b/c" keeps
                                    "b/c"); sources are then .dockerignore-style patterns */
};

struct build_copy_stats {
        uint64_t sources;  /* top-level source matches */
        uint64_t entries;  /* files, dirs, links and nodes written (archive entries included) */
        uint64_t bytes;    /* regular file bytes written */
        uint64_t archives; /* ADD archives extracted */
};

/* Copy REQ's sources from SRC into the root DST_ROOT_FD (the container's merged root): every
 * destination path resolves inside DST_ROOT_FD, symlinks in the image as if it were '/'. Fails
 * with ST_E_NOT_FOUND (Docker's "file not found in build context..." message) for a missing
 * source, -EINVAL for several sources to a dest without a trailing '/', -ENOTDIR when an
 * existing non-directory is where a directory must go, ST_E_TOO_BIG past the entry or depth
 * limit, ST_E_PARSE for a bad pattern or mode. On failure what was copied so far stays (the
 * caller throws the upper dir away). ret_stats may be NULL. */
int build_copy(const struct build_copy_source *src, int dst_root_fd,
               const struct build_copy_req *req, struct build_copy_stats *ret_stats,
               struct st_error **err);

/* The cache key input of a COPY/ADD step into RET_DIGEST (DIGEST_STR_LEN + 1 bytes): the
 * request (dest, workdir, chown, chmod, flags, patterns) and, in copy order, every entry
 * build_copy would copy: its path below dest, type, mode after --chmod, owner as it will land,
 * size, content sha256, link target, device numbers, hardlink sharing. Not mtimes, not the
 * host's owners of context files, nothing excluded. Reads every file unless SRC has a
 * content_hash. */
int build_copy_digest(const struct build_copy_source *src, const struct build_copy_req *req,
                      char *ret_digest, struct st_error **err);

/* Told by build_copy_digest_entries about each entry: SRC its path below the source root,
 * META "TYPE MODE UID:GID" as it will land (octal type bits and mode), DIGEST a digest of the
 * rest of what the key takes from it (size and content, link target, device, hardlink). */
typedef void (*build_copy_entry_fn)(void *userdata, const char *src, const char *meta,
                                    const char *digest);

/* build_copy_digest, also calling ENTRY (may be NULL) for every entry in copy order, so that a
 * caller can say which file changed. */
int build_copy_digest_entries(const struct build_copy_source *src, const struct build_copy_req *req,
                              build_copy_entry_fn entry, void *userdata, char *ret_digest,
                              struct st_error **err);

/* Parse a --chmod value S as BuildKit does: an octal number up to 07777 sets *RET_MODE and
 * returns 0; a valid chmod(1) symbolic mode ("u+x", "go=u-w", "+X") leaves *RET_MODE at -1
 * and returns 1 (pass S as mode_str); anything else is ST_E_PARSE. */
int build_chmod_parse(const char *s, int64_t *ret_mode, struct st_error **err);
