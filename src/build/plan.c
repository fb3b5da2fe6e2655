/* From a request to a list of jobs: wildcards expanded against the source, explicit sources
 * resolved through symlinks inside the source root, excluded paths gone. Shared by the copy
 * and the digest, so that both see the same entries. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "build/copy-internal.h"

static uint64_t max_entries_override;
static unsigned max_depth_override;

void build_copy_set_limits(uint64_t max_entries, unsigned max_depth)
{
        max_entries_override = max_entries;
        max_depth_override = max_depth;
}

uint64_t copy_max_entries(void)
{
        return max_entries_override ? max_entries_override : COPY_MAX_ENTRIES;
}

unsigned copy_max_depth(void)
{
        return max_depth_override ? max_depth_override : COPY_MAX_DEPTH;
}

int copy_plan_count(struct copy_plan *p, struct st_error **err)
{
        if (++p->entries <= copy_max_entries())
                return 0;
        return st_error_set(err, ST_E_TOO_BIG, "%s failed: more than %" PRIu64 " entries", p->verb,
                            copy_max_entries());
}

void copy_plan_owner(const struct copy_plan *p, const struct stat *st, uid_t *uid, gid_t *gid)
{
        *uid = p->chown ? p->uid : p->source->keep_owner ? st->st_uid : 0;
        *gid = p->chown ? p->gid : p->source->keep_owner ? st->st_gid : 0;
}

char *copy_plan_image_path(const char *base, const char *rel)
{
        _cleanup_free_ char *j = path_join(base, rel);
        return xasprintf("/%s", j);
}

static int not_found(const struct copy_plan *p, const char *path, struct st_error **err)
{
        const char *desc = p->source->desc;
        if (!desc || streq(desc, "context"))
                return st_error_set(err, ST_E_NOT_FOUND,
                                    "%s failed: file not found in build context or excluded by "
                                    ".dockerignore: stat %s: file does not exist",
                                    p->verb, path);
        return st_error_set(err, ST_E_NOT_FOUND,
                            "%s failed: file not found in %s: stat %s: file does not exist",
                            p->verb, desc, path);
}

static int source_error(const struct copy_plan *p, const char *path, int r, struct st_error **err)
{
        if (r == -ENOENT || r == -ENOTDIR)
                return not_found(p, path, err);
        if (r == -ENAMETOOLONG)
                return st_error_set(err, ST_E_TOO_BIG, "%s failed: '%s': path too long", p->verb,
                                    path);
        return st_error_set_errno(err, r, "%s failed: '%s'", p->verb, path);
}

static void add_job(struct copy_plan *p, char *src, const char *name, const struct stat *st,
                    struct patterns *include)
{
        p->jobs = xrealloc(p->jobs, (p->n_jobs + 1) * sizeof(*p->jobs));
        p->jobs[p->n_jobs++] = (struct copy_job){
                .kind = S_ISDIR(st->st_mode) ? JOB_TREE : JOB_ENTRY,
                .src = src,
                .name = xstrdup(name),
                .st = *st,
                .include = include,
        };
}

/* A source PATH (as given, cleaned) found at the relative MATCH: follow it, add its job. */
static int add_match(struct copy_plan *p, const char *path, const char *match,
                     struct st_error **err)
{
        char *real;
        struct stat st;
        int r = path_resolve(p->source->root_fd, match, p->source, false, &real, &st);
        if (r < 0)
                return source_error(p, path, r, err);
        const char *name = path_base(match);
        /* --exclude matches what lands below dest: for a file, its name there */
        if (!S_ISDIR(st.st_mode) && patterns_match(p->exclude, name)) {
                free(real);
                return 0;
        }
        add_job(p, real, name, &st, NULL);
        return 0;
}

/* Whether the walk of a source directory would skip NAME (just lstat'ed into ST). */
static bool glob_hidden(const struct copy_plan *p, const char *path, const struct stat *st)
{
        const struct build_copy_source *s = p->source;
        bool skip = false, dir = S_ISDIR(st->st_mode);
        if (!s->exclude || !s->exclude(s->exclude_data, path, dir, &skip))
                return false;
        return !dir || skip;
}

/* Match the components COMPS[I..] below the real directory DIR (as Go's filepath.Walk does
 * in BuildKit: intermediate symlinks are not entered; a final symlink is followed later). */
static int glob(struct copy_plan *p, const char *raw, const char *dir, char **comps, size_t i,
                struct st_error **err)
{
        _cleanup_close_ int fd = archive_open_in_root(p->source->root_fd, dir,
                                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW, false);
        if (fd == -ENOTDIR || fd == -ENOENT)
                return 0;
        if (fd < 0)
                return source_error(p, raw, fd, err);
        _cleanup_strv_ char **names = NULL;
        int r = copy_list_sorted(fd, &names);
        if (r < 0)
                return source_error(p, raw, r, err);
        STRV_FOREACH(n, names) {
                struct stat st;
                if (!match_name(comps[i], *n) || fstatat(fd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                r = copy_plan_count(p, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *child = path_join(dir, *n);
                if (glob_hidden(p, child, &st))
                        continue;
                if (comps[i + 1] && S_ISDIR(st.st_mode))
                        r = glob(p, raw, child, comps, i + 1, err);
                else if (!comps[i + 1])
                        r = add_match(p, child, child, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static char **split_path(const char *clean)
{
        char **v = NULL;
        _cleanup_free_ char *c = xstrdup(clean);
        for (char *s = c, *e; *s; s = e ? e + 1 : s + strlen(s)) {
                e = strchr(s, '/');
                if (e)
                        *e = 0;
                strv_push(&v, s);
        }
        return v;
}

/* Expand the cleaned source PATH (RAW as given): a literal path or a wildcard. */
static int expand(struct copy_plan *p, const char *raw, const char *path, struct st_error **err)
{
        _cleanup_strv_ char **comps = split_path(path);
        size_t w = 0;
        while (comps && comps[w] && !match_has_wildcards(comps[w]))
                w++;
        if (!comps || !comps[w])
                return add_match(p, path, path, err);
        for (size_t i = w; comps[i]; i++)
                if (match_check(comps[i]) < 0)
                        return st_error_set(err, ST_E_PARSE, "%s failed: bad pattern '%s'", p->verb,
                                            raw);
        _cleanup_free_ char *prefix = NULL;
        for (size_t i = 0; i < w; i++) {
                char *n = path_join(prefix ? prefix : "", comps[i]);
                free(prefix);
                prefix = n;
        }
        char *real = NULL;
        struct stat st;
        int r = path_resolve(p->source->root_fd, prefix ? prefix : "", p->source, false, &real,
                             &st);
        if (r < 0)
                return source_error(p, path, r, err);
        r = S_ISDIR(st.st_mode) ? glob(p, path, real, comps, w, err) : 0;
        free(real);
        return r;
}

/* --parents: the part after "/./" (or all of it) is kept below dest, as a pattern. */
static int expand_parents(struct copy_plan *p, const char *raw, struct st_error **err)
{
        const char *cut = strstr(raw, "/./");
        _cleanup_free_ char *pivot_raw = cut ? xstrndup(raw, (size_t)(cut - raw)) : xstrdup("");
        _cleanup_free_ char *pivot = path_clean_rooted(pivot_raw);
        _cleanup_free_ char *pattern = path_clean_rooted(cut ? cut + 3 : raw);
        if (match_has_wildcards(pivot))
                return st_error_set(err, ST_E_UNSUPPORTED,
                                    "%s --parents: wildcards before '/./' are not supported: '%s'",
                                    p->verb, raw);
        char *real;
        struct stat st;
        int r = path_resolve(p->source->root_fd, pivot, p->source, false, &real, &st);
        if (r < 0)
                return source_error(p, pivot, r, err);
        _cleanup_free_ char *freeme = real;
        if (!S_ISDIR(st.st_mode))
                return st_error_set(err, -ENOTDIR, "%s --parents: '%s' is not a directory", p->verb,
                                    pivot);
        struct patterns *include = NULL;
        char *list[] = { pattern, NULL };
        if (*pattern) {
                r = patterns_new(list, &include, err);
                if (r < 0)
                        return r;
        }
        add_job(p, TAKE_PTR(freeme), path_base(pivot), &st, include);
        if (match_has_wildcards(pattern) || !*pattern)
                return 0;
        /* a literal path must exist (BuildKit's requiredPaths) */
        _cleanup_free_ char *full = path_join(p->jobs[p->n_jobs - 1].src, pattern);
        _cleanup_free_ char *dir = xstrndup(full, strlen(full) - strlen(path_base(full)));
        _cleanup_close_ int fd =
                archive_open_in_root(p->source->root_fd, dir, O_PATH | O_DIRECTORY, false);
        if (fd < 0 || fstatat(fd, path_base(full), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            glob_hidden(p, full, &st))
                return not_found(p, cut ? pattern : raw, err);
        return 0;
}

static bool dest_names_dir(const char *dest)
{
        const char *base = path_base(dest);
        return !*dest || endswith(dest, "/") || streq(base, ".") || streq(base, "..");
}

static int plan_owner(struct copy_plan *p, const struct build_copy_req *req, struct st_error **err)
{
        if (req->uid < 0 && req->gid < 0)
                return 0;
        if (req->uid >= UINT32_MAX || req->gid >= UINT32_MAX || req->uid < -1 || req->gid < -1)
                return st_error_set(err, ST_E_PARSE, "%s --chown: invalid owner %lld:%lld", p->verb,
                                    (long long)req->uid, (long long)req->gid);
        p->chown = true;
        p->uid = req->uid >= 0 ? (uid_t)req->uid : 0;
        p->gid = req->gid >= 0 ? (gid_t)req->gid : (gid_t)p->uid;
        return 0;
}

static int plan_request(struct copy_plan *p, const struct build_copy_req *req,
                        struct st_error **err)
{
        if (!req->sources || !req->sources[0] || !req->dest)
                return st_error_set(err, -EINVAL, "%s requires at least two arguments", p->verb);
        const char *wd = req->workdir ? req->workdir : "/";
        _cleanup_free_ char *full =
                req->dest[0] == '/' ? xstrdup(req->dest) : xasprintf("%s/%s", wd, req->dest);
        p->dest = path_clean_rooted(full);
        p->dest_is_dir = req->parents || dest_names_dir(req->dest);
        int r = plan_owner(p, req, err);
        if (r < 0)
                return r;
        r = chmod_spec_init(&p->chmod, req->mode, req->mode_str, err);
        if (r < 0)
                return r;
        r = patterns_new(req->exclude_patterns, &p->exclude, err);
        if (r < 0)
                return st_error_wrap(err, "%s --exclude", p->verb);
        return 0;
}

int copy_plan_init(struct copy_plan *p, const struct build_copy_source *src,
                   const struct build_copy_req *req, struct st_error **err)
{
        *p = (struct copy_plan){ .source = src, .req = req, .verb = req->add ? "ADD" : "COPY" };
        int r = plan_request(p, req, err);
        STRV_FOREACH(s, r < 0 ? NULL : req->sources) {
                _cleanup_free_ char *clean = path_clean_rooted(*s);
                r = req->parents ? expand_parents(p, *s, err) : expand(p, *s, clean, err);
                if (r < 0)
                        break;
        }
        if (r >= 0 && !req->parents && p->n_jobs > 1 && !p->dest_is_dir)
                r = st_error_set(err, -EINVAL,
                                 "When using %s with more than one source file, the destination "
                                 "must be a directory and end with a /",
                                 p->verb);
        if (r < 0)
                copy_plan_release(p);
        return r;
}

void copy_plan_release(struct copy_plan *p)
{
        for (size_t i = 0; i < p->n_jobs; i++) {
                free(p->jobs[i].src);
                free(p->jobs[i].name);
                patterns_free(p->jobs[i].include);
        }
        free(p->jobs);
        p->jobs = NULL;
        p->n_jobs = 0;
        p->dest = mfree_str(p->dest);
        p->exclude = patterns_free(p->exclude);
        chmod_spec_release(&p->chmod);
}
