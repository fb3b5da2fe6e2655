/* COPY/ADD internals shared by the files of src/build (copy only). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "basic/error.h"
#include "build/copy.h"

#define COPY_MAX_ENTRIES   10000000u /* per COPY/ADD step, excluded entries walked included */
#define COPY_MAX_DEPTH     1024u     /* directory levels below a source */
#define COPY_MAX_LINK_HOPS 40        /* symlinks followed resolving one path, as Linux */
#define COPY_MAX_PATH      4096      /* bytes in a path below a root */

/* Tests: lower the limits; 0 restores a default. */
void build_copy_set_limits(uint64_t max_entries, unsigned max_depth);
uint64_t copy_max_entries(void);
unsigned copy_max_depth(void);

/* ----- match.c: wildcards ----- */

/* True if S has an unescaped '*', '?' or '[' (BuildKit's containsWildcards). */
bool match_has_wildcards(const char *s);

/* 0 if PAT is a well-formed pattern (classes closed, no trailing '\'), else -EINVAL. */
int match_check(const char *pat);

/* Go's filepath.Match of the well-formed PAT against one path component NAME. */
bool match_name(const char *pat, const char *name);

/* A .dockerignore-style pattern list (moby/patternmatcher): '*' and '?' stay inside a
 * component, '**' spans any number of them, a leading '!' makes an exception, later patterns
 * win, and a pattern matching a parent directory matches everything below it. */
struct patterns;

/* Compile LIST (NULL or empty: *ret = NULL, which matches nothing); ST_E_PARSE for a bad one. */
int patterns_new(char *const *list, struct patterns **ret, struct st_error **err);
/* Free P; NULL-safe; returns NULL. */
struct patterns *patterns_free(struct patterns *p);
/* True if the cleaned relative PATH (or a parent) matches, exceptions applied. */
bool patterns_match(const struct patterns *p, const char *path);
/* True if P has '!' exceptions (an excluded directory must still be walked). */
bool patterns_has_exceptions(const struct patterns *p);
/* True if something strictly below the directory DIR could match one of P's exceptions (with
 * EXCEPTIONS) or plain patterns (without): whether a filtered-out directory must be walked. */
bool patterns_may_match_below(const struct patterns *p, const char *dir, bool exceptions);

/* ----- path.c: paths inside a root ----- */

/* P read as an absolute path and cleaned like Go's path.Clean ('..' stops at the root),
 * returned relative without a leading '/' ("" = the root); caller frees. */
char *path_clean_rooted(const char *p);

/* "A/B", or the other one when one is ""; caller frees. */
char *path_join(const char *a, const char *b);

/* The last component of the cleaned relative P (borrowed; "" for the root). */
const char *path_base(const char *p);

/* Resolve the cleaned relative PATH inside ROOT the way RESOLVE_IN_ROOT would, into the real
 * path *RET (no symlink left in it; caller frees) and, if RET_ST, the final lstat (st_mode 0
 * when missing). Every symlink is replaced by its target, the last one too: absolute targets
 * restart at ROOT, '..' stops there. A missing component: with ALLOW_MISSING the rest is taken
 * literally, else -ENOENT. SRC (may be NULL) adds its exclude callback: a path it excludes
 * does not exist. -ENOTDIR where a non-directory would need to be traversed, -ELOOP after
 * COPY_MAX_LINK_HOPS links, -ENAMETOOLONG past COPY_MAX_PATH. */
int path_resolve(int root, const char *path, const struct build_copy_source *src,
                 bool allow_missing, char **ret, struct stat *ret_st);

/* ----- chmod.c ----- */

struct chmod_cmd;

/* --chmod, parsed: octal (mode >= 0), symbolic (cmds), or none. */
struct chmod_spec {
        int64_t mode;
        struct chmod_cmd *cmds;
        size_t n_cmds;
};

/* Parse MODE (-1 = none) or MODE_STR (NULL = none) into *C; ST_E_PARSE when invalid. */
int chmod_spec_init(struct chmod_spec *c, int64_t mode, const char *mode_str,
                    struct st_error **err);
/* Free what chmod_spec_init allocated. */
void chmod_spec_release(struct chmod_spec *c);
/* The permission bits (07777) an entry of ST_MODE gets. */
mode_t chmod_spec_apply(const struct chmod_spec *c, mode_t st_mode);
/* The mode of directories a copy creates for its destination: the octal --chmod or 0755. */
mode_t chmod_spec_dir_mode(const struct chmod_spec *c);

/* ----- plan.c: sources to jobs ----- */

enum job_kind {
        JOB_TREE,  /* a directory: its contents go into dest */
        JOB_ENTRY, /* anything else: lands as dest, or dest/NAME */
};

struct copy_job {
        enum job_kind kind;
        char *src;                /* real path below the source root ("" = the root) */
        char *name;               /* the name it lands under (base name of the source) */
        struct stat st;           /* lstat of src */
        struct patterns *include; /* --parents: what of the tree is copied; NULL = all */
};

struct copy_plan {
        const struct build_copy_source *source;
        const struct build_copy_req *req;
        const char *verb; /* "COPY" or "ADD" */
        char *dest;       /* cleaned dest relative to the destination root */
        bool dest_is_dir; /* dest ends in '/' (or ".", ".."), or --parents */
        bool chown;
        uid_t uid;
        gid_t gid;
        struct chmod_spec chmod;
        struct patterns *exclude; /* --exclude */
        struct copy_job *jobs;
        size_t n_jobs;
        uint64_t entries; /* walked so far, against COPY_MAX_ENTRIES */
};

/* Check REQ, expand its sources in SRC and fill *P (released with copy_plan_release). */
int copy_plan_init(struct copy_plan *p, const struct build_copy_source *src,
                   const struct build_copy_req *req, struct st_error **err);
/* Free what copy_plan_init allocated. */
void copy_plan_release(struct copy_plan *p);
/* The owner an entry with ST lands with: --chown, the source's with keep_owner, else 0:0. */
void copy_plan_owner(const struct copy_plan *p, const struct stat *st, uid_t *uid, gid_t *gid);
/* The image path of REL below the dest dir BASE, for messages ("/usr/lib/x"); caller frees. */
char *copy_plan_image_path(const char *base, const char *rel);
/* Count one more entry; ST_E_TOO_BIG past the limit. */
int copy_plan_count(struct copy_plan *p, struct st_error **err);

/* ----- walk.c: a job's tree ----- */

/* The names in the directory FD (not . and ..), sorted bytewise; *ret (NULL when empty) is
 * the caller's. */
int copy_list_sorted(int fd, char ***ret);

/* One entry of a walk, in order: directories before their contents, and again after them
 * (LEAVE) so that their times can be set last. Names sorted bytewise in each directory. */
struct walk_entry {
        int dirfd;        /* the source directory holding it, or -1 (open by SRC then) */
        const char *name; /* its name in dirfd */
        const char *src;  /* its path below the source root */
        const char *rel;  /* its path below the job's source (what lands below dest) */
        const struct stat *st;
        bool leave;
};

typedef int (*walk_fn)(void *userdata, const struct walk_entry *e, struct st_error **err);

/* Walk the contents of JOB's directory through P's filters (the source's exclude callback,
 * --exclude, the --parents include), calling FN for each kept entry. A filtered-out
 * directory that may hold kept entries is walked and handed to FN only before its first
 * kept entry. */
int walk_job(struct copy_plan *p, const struct copy_job *job, walk_fn fn, void *userdata,
             struct st_error **err);

/* Open E's source node with FLAGS (O_NOFOLLOW is added): an fd or -errno. */
int walk_open(int root, const struct walk_entry *e, int flags);

/* Open E's regular file for reading: an fd, or -ESTALE if it is no longer a regular file. */
int walk_open_file(int root, const struct walk_entry *e);

/* The hardlinked regular files met in one job, by (device, inode). */
struct inode_map {
        void *root;
};

/* NULL after noting REL as the first path of ST's inode (or if ST is not a hardlinked
 * regular file), else the first path noted for it (borrowed from M). */
const char *inode_map_add(struct inode_map *m, const struct stat *st, const char *rel);
/* Forget everything. */
void inode_map_clear(struct inode_map *m);

/* ----- copy.c, write.c: the copy ----- */

struct copier {
        struct copy_plan *p;
        int dst_root;
        char *base;  /* the job's destination dir below dst_root (real), for messages */
        int base_fd; /* ... open */
        char *pdir;  /* the last parent dir opened below base, and its fd */
        int pdir_fd;
        mode_t dir_mode; /* of directories made for dest: chmod_spec_dir_mode, 0755 for ADD
                            archives (BuildKit's unpack) */
        struct inode_map inodes;
        struct build_copy_stats stats;
};

/* Write E below C's base: the walk_fn of a copy (E->rel is the path below base). */
int copy_write_entry(void *userdata, const struct walk_entry *e, struct st_error **err);

/* Open (creating what is missing, as dirs made for dest: 0755 or the octal --chmod, owned by
 * --chown or 0:0) the real directory PATH below C's dst_root: an fd, or <0 with *err set. */
int copy_open_dest_dir(struct copier *c, const char *path, struct st_error **err);

/* ----- add.c: ADD archives ----- */

/* 1 if the regular file FD is a tar (plain, gzip or zstd), 0 if not; ST_E_UNSUPPORTED for
 * bzip2/xz (NAME in the message). FD's offset is left anywhere. */
int add_is_archive(int fd, const char *name, struct st_error **err);

/* Extract the archive FD into the directory DIRFD (the resolved dest); hardlinks and symlinks
 * stay inside DIRFD, owners are the tar's or --chown's. */
int add_extract(const struct copy_plan *p, int fd, int dirfd, const char *name,
                uint64_t *ret_entries, struct st_error **err);
