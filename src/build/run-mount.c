/* RUN --mount: cache, bind, tmpfs and secret mounts, given to the RUN's throw-away container as
 * binds and tmpfs. None of them lands in the layer; secrets never enter the key. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "build/build-internal.h"
#include "build/copy-internal.h"
#include "json/json.h"

#define SECRET_MAX (500 * 1024)

enum mount_type { MOUNT_BIND, MOUNT_CACHE, MOUNT_TMPFS, MOUNT_SECRET };

struct run_mount {
        enum mount_type type;
        char *target, *source, *from, *id, *sharing, *env, *size;
        bool rw, required;
        int64_t uid, gid, mode;
};

static void run_mount_release(struct run_mount *m)
{
        free(m->target);
        free(m->source);
        free(m->from);
        free(m->id);
        free(m->sharing);
        free(m->env);
        free(m->size);
}

void build_mounts_release(struct build_mounts *m)
{
        for (size_t i = 0; i < m->n; i++)
                run_mount_release(&m->list[i]);
        free(m->list);
        STRV_FOREACH(d, m->overlays)
                build_unmount_state(*d, false);
        STRV_FOREACH(d, m->tmp_dirs)
                (void)rm_rf_at(AT_FDCWD, *d);
        for (size_t i = 0; i < m->n_locks; i++)
                safe_close(m->locks[i]);
        free(m->locks);
        strv_free(m->key_parts);
        strv_free(m->binds);
        strv_free(m->tmpfs);
        strv_free(m->env);
        strv_free(m->targets);
        strv_free(m->tmp_dirs);
        strv_free(m->overlays);
        *m = (struct build_mounts){ 0 };
}

/* ----- parsing ----- */

static int parse_bool(const char *v, bool *ret)
{
        if (!v || streq(v, "true") || streq(v, "1"))
                *ret = true;
        else if (streq(v, "false") || streq(v, "0"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

static int parse_num(const char *v, int base, int64_t *ret)
{
        char *end = NULL;
        errno = 0;
        long long n = v ? strtoll(v, &end, base) : -1;
        if (!v || !*v || *end || errno || n < 0)
                return -EINVAL;
        *ret = n;
        return 0;
}

static int parse_type(const char *v, enum mount_type *ret)
{
        static const char *const names[] = { "bind", "cache", "tmpfs", "secret" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(v ?: "", names[i])) {
                        *ret = (enum mount_type)i;
                        return 0;
                }
        return -EINVAL;
}

static int set_field(struct run_mount *m, const char *k, const char *v)
{
        char **s = streq(k, "target") || streq(k, "dst") || streq(k, "destination") ? &m->target
                   : streq(k, "source") || streq(k, "src")                          ? &m->source
                   : streq(k, "from")                                               ? &m->from
                   : streq(k, "id")                                                 ? &m->id
                   : streq(k, "sharing")                                            ? &m->sharing
                   : streq(k, "env")                                                ? &m->env
                   : streq(k, "size")                                               ? &m->size
                                                                                    : NULL;
        if (s) {
                free(*s);
                *s = xstrdup(v ?: "");
                return 0;
        }
        bool ro = false;
        if (streq(k, "type"))
                return parse_type(v, &m->type);
        if (streq(k, "rw") || streq(k, "readwrite"))
                return parse_bool(v, &m->rw);
        if (streq(k, "ro") || streq(k, "readonly")) {
                int r = parse_bool(v, &ro);
                m->rw = !ro;
                return r;
        }
        if (streq(k, "required"))
                return parse_bool(v, &m->required);
        if (streq(k, "uid") || streq(k, "gid"))
                return parse_num(v, 10, streq(k, "uid") ? &m->uid : &m->gid);
        if (streq(k, "mode"))
                return parse_num(v, 8, &m->mode);
        return -EINVAL;
}

static int check_mount(struct run_mount *m, const char *workdir, const char *text,
                       struct st_error **err)
{
        if (m->type == MOUNT_SECRET && !m->id && m->target)
                m->id = xstrdup(path_base(m->target));
        if (m->type == MOUNT_SECRET && !m->id)
                return st_error_set(err, ST_E_PARSE, "--mount=%s: a secret needs an id", text);
        if (m->type == MOUNT_SECRET && !m->target && !m->env)
                m->target = xasprintf("/run/secrets/%s", m->id);
        if (!m->target && !(m->type == MOUNT_SECRET && m->env))
                return st_error_set(err, ST_E_PARSE, "--mount=%s: target is required", text);
        if (m->target && m->target[0] != '/') {
                char *t = xasprintf("%s/%s", workdir ?: "", m->target);
                free(m->target);
                m->target = t;
        }
        if (m->target) {
                _cleanup_free_ char *c = path_clean_rooted(m->target);
                free(m->target);
                m->target = xasprintf("/%s", c);
                if (streq(m->target, "/") || strchr(m->target, ':'))
                        return st_error_set(err, ST_E_PARSE, "--mount=%s: bad target", text);
        }
        const char *sh = m->sharing ?: "shared";
        if (!streq(sh, "shared") && !streq(sh, "private") && !streq(sh, "locked"))
                return st_error_set(err, ST_E_PARSE, "--mount=%s: unknown sharing '%s'", text, sh);
        return 0;
}

static int parse_mount(const char *text, const char *workdir, struct run_mount *m,
                       struct st_error **err)
{
        *m = (struct run_mount){ .uid = -1, .gid = -1, .mode = -1 };
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *kv = xstrndup(p, n);
                char *eq = strchr(kv, '=');
                if (eq)
                        *eq++ = 0;
                if (n && set_field(m, kv, eq) < 0)
                        return st_error_set(err, ST_E_PARSE, "--mount=%s: bad option '%s'", text,
                                            kv);
                p += n + (p[n] == ',');
        }
        return check_mount(m, workdir, text, err);
}

/* ----- the key ----- */

static int bind_context_digest(struct builder *b, const struct run_mount *m, char *ret,
                               struct st_error **err)
{
        struct build_copy_source src = { .root_fd = b->context_fd, .desc = "context" };
        build_copy_source_init_context(b, &src);
        char *sources[] = { m->source ?: (char *)".", NULL };
        struct build_copy_req req = {
                .sources = sources, .dest = "/mnt/", .uid = -1, .gid = -1, .mode = -1
        };
        int r = build_copy_digest(&src, &req, ret, err);
        build_stat_cache_flush(&b->stat_cache);
        return r;
}

static int key_part(struct builder *b, const struct run_mount *m, char **ret, struct st_error **err)
{
        static const char *const types[] = { "bind", "cache", "tmpfs", "secret" };
        char digest[2 * DIGEST_STR_LEN + 2] = "";
        if (m->type == MOUNT_BIND && m->from) {
                const struct build_state *from = NULL;
                struct build_state owned = { 0 };
                int r = build_from_ref(b, m->from, &from, &owned, err);
                /* the stage's key, and its top layer: a stage rebuilt by --no-cache-filter
                 * keeps its key but may have other content */
                if (r >= 0)
                        snprintf(digest, sizeof(digest), "%s%s%s", from->key,
                                 from->n_layers ? " " : "",
                                 from->n_layers ? from->layers[from->n_layers - 1].chain_id : "");
                build_state_release(&owned);
                if (r < 0)
                        return r;
        } else if (m->type == MOUNT_BIND) {
                int r = bind_context_digest(b, m, digest, err);
                if (r < 0)
                        return r;
        }
        *ret = xasprintf("mount=%s target=%s source=%s from=%s id=%s sharing=%s env=%s size=%s "
                         "rw=%d required=%d uid=%lld gid=%lld mode=%llo %s",
                         types[m->type], m->target ?: "", m->source ?: "", m->from ?: "",
                         m->id ?: "", m->sharing ?: "", m->env ?: "", m->size ?: "", m->rw,
                         m->required, (long long)m->uid, (long long)m->gid, (long long)m->mode,
                         digest);
        return 0;
}

int build_mounts_parse(struct builder *b, struct build_state *st,
                       const struct dockerfile_instruction *in, struct build_mounts *m,
                       struct st_error **err)
{
        const char *wd = json_get_str(image_config_container(st->cfg), "WorkingDir");
        for (size_t i = 0; i < in->n_flags; i++) {
                if (!streq(in->flags[i].name, "mount"))
                        continue;
                _cleanup_free_ char *text = NULL;
                int r = build_expand(b, st, in->flags[i].value ?: "", &text, err);
                if (r < 0)
                        return r;
                m->list = xrealloc(m->list, (m->n + 1) * sizeof(*m->list));
                r = parse_mount(text, wd, &m->list[m->n], err);
                m->n++;
                char *part = NULL;
                if (r >= 0)
                        r = key_part(b, &m->list[m->n - 1], &part, err);
                if (r < 0)
                        return r;
                strv_consume(&m->key_parts, part);
        }
        return 0;
}

/* ----- the sources ----- */

static void add_bind(struct build_mounts *ms, const char *host, const struct run_mount *m, bool ro)
{
        strv_consume(&ms->binds, xasprintf("%s:%s%s", host, m->target, ro ? ":ro" : ""));
        strv_push(&ms->targets, m->target);
}

static int mkdir_owned(const char *path, const struct run_mount *m, mode_t def,
                       struct st_error **err)
{
        if (mkdir(path, m->mode >= 0 ? (mode_t)m->mode : def) < 0) {
                if (errno == EEXIST)
                        return 0;
                return st_error_set_errno(err, -errno, "create '%s'", path);
        }
        if (m->mode >= 0)
                (void)chmod(path, (mode_t)m->mode);
        if ((m->uid >= 0 || m->gid >= 0) &&
            chown(path, m->uid >= 0 ? (uid_t)m->uid : 0, m->gid >= 0 ? (gid_t)m->gid : 0) < 0)
                return st_error_set_errno(err, -errno, "chown '%s'", path);
        return 0;
}

static int lock_dir(struct build_mounts *ms, const char *dir, bool wait)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                int e = -errno;
                safe_close(fd);
                return e;
        }
        ms->locks = xrealloc(ms->locks, (ms->n_locks + 1) * sizeof(int));
        ms->locks[ms->n_locks++] = fd;
        return 0;
}

static int setup_cache(struct builder *b, struct build_mounts *ms, const struct run_mount *m,
                       struct st_error **err)
{
        _cleanup_free_ char *base = store_cache_mounts_dir(b->s);
        char sum[DIGEST_STR_LEN + 1];
        const char *id = m->id ?: m->target;
        digest_buf(id, strlen(id), sum);
        _cleanup_free_ char *dir = xasprintf("%s/%s", base, sum + strlen("sha256:"));
        int r = mkdir_p_at(AT_FDCWD, base, 0700);
        if (r < 0)
                return st_error_set_errno(err, r, "create '%s'", base);
        r = mkdir_owned(dir, m, 0755, err);
        if (r < 0)
                return r;
        const char *sh = m->sharing ?: "shared";
        if (!streq(sh, "shared")) {
                r = lock_dir(ms, dir, streq(sh, "locked"));
                if (r == -EWOULDBLOCK) { /* private and in use: a fresh one */
                        free(dir);
                        dir = NULL;
                        r = store_tmp_mkdir(b->s, "cache", &dir, err);
                        if (r < 0)
                                return r;
                        strv_push(&ms->tmp_dirs, dir);
                } else if (r < 0)
                        return st_error_set_errno(err, r, "lock '%s'", dir);
        }
        add_bind(ms, dir, m, false);
        return 0;
}

static int setup_bind(struct builder *b, struct build_mounts *ms, const struct run_mount *m,
                      struct st_error **err)
{
        _cleanup_free_ char *root = NULL;
        if (m->from || m->rw || !b->o->context) {
                const struct build_state *from = NULL;
                struct build_state owned = { 0 }, empty = { 0 };
                int r = m->from ? build_from_ref(b, m->from, &from, &owned, err) : 0;
                if (!m->from && b->o->context) /* rw: the context under an overlay */
                        r = build_mount_context(b, &root, err);
                else if (r >= 0)
                        r = build_mount_state(b, from ?: &empty, &root, err);
                build_state_release(&owned);
                if (r < 0)
                        return r;
                strv_push(&ms->overlays, root);
                char *merged = xasprintf("%s/merged", root);
                free(root);
                root = merged;
        } else
                root = xstrdup(b->o->context);
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *clean = path_clean_rooted(m->source ?: ".");
        _cleanup_free_ char *real = NULL;
        int r = fd < 0 ? -errno : path_resolve(fd, clean, NULL, false, &real, NULL);
        if (r < 0)
                return st_error_set_errno(err, r, "--mount source '%s'", m->source ?: ".");
        _cleanup_free_ char *host = *real ? xasprintf("%s/%s", root, real) : xstrdup(root);
        if (strchr(host, ':'))
                return st_error_set(err, -EINVAL, "--mount source path '%s' has a ':'", host);
        add_bind(ms, host, m, !m->rw);
        return 0;
}

static const char *env_lookup(char *const *envp, const char *k)
{
        size_t n = strlen(k);
        for (char *const *p = envp; p && *p; p++)
                if (strncmp(*p, k, n) == 0 && (*p)[n] == '=')
                        return *p + n + 1;
        return NULL;
}

static int secret_value(struct builder *b, const char *id, char **ret, size_t *ret_len,
                        struct st_error **err)
{
        STRV_FOREACH(s, b->o->secrets) {
                _cleanup_free_ char *sid = NULL, *src = NULL, *env = NULL;
                for (const char *p = *s; *p;) {
                        size_t n = strcspn(p, ",");
                        char **dst = startswith(p, "id=")                                ? &sid
                                     : startswith(p, "src=") || startswith(p, "source=") ? &src
                                     : startswith(p, "env=")                             ? &env
                                                                                         : NULL;
                        if (dst) {
                                free(*dst);
                                *dst = xstrndup(strchr(p, '=') + 1, n - (strchr(p, '=') + 1 - p));
                        }
                        p += n + (p[n] == ',');
                }
                if (!sid || !streq(sid, id))
                        continue;
                const char *v = env || !src ? env_lookup(b->o->envp, env ?: sid) : NULL;
                if (v) {
                        *ret = xstrdup(v);
                        *ret_len = strlen(v);
                        return 1;
                }
                if (!src)
                        return 0;
                int r = read_full_file_at(AT_FDCWD, src, SECRET_MAX, ret, ret_len);
                if (r < 0)
                        return st_error_set_errno(err, r, "secret '%s': read '%s'", id, src);
                return 1;
        }
        return 0;
}

static int setup_secret(struct builder *b, struct build_mounts *ms, const struct run_mount *m,
                        struct st_error **err)
{
        _cleanup_free_ char *val = NULL;
        size_t len = 0;
        int r = secret_value(b, m->id, &val, &len, err);
        if (r < 0)
                return r;
        if (r == 0)
                return m->required ? st_error_set(err, ST_E_NOT_FOUND,
                                                  "secret %s: not provided (--secret id=%s,...)",
                                                  m->id, m->id)
                                   : 0;
        if (m->env)
                strv_consume(&ms->env, xasprintf("%s=%.*s", m->env, (int)len, val));
        if (!m->target)
                return 0;
        _cleanup_free_ char *dir = NULL;
        r = store_tmp_mkdir(b->s, "secret", &dir, err);
        if (r < 0)
                return r;
        strv_push(&ms->tmp_dirs, dir);
        _cleanup_free_ char *path = xasprintf("%s/secret", dir);
        r = write_file_atomic_at(AT_FDCWD, path, val, len, m->mode >= 0 ? (mode_t)m->mode : 0400);
        if (r >= 0 && (m->uid >= 0 || m->gid >= 0) &&
            chown(path, m->uid >= 0 ? (uid_t)m->uid : 0, m->gid >= 0 ? (gid_t)m->gid : 0) < 0)
                r = -errno;
        if (r < 0)
                return st_error_set_errno(err, r, "secret '%s'", m->id);
        add_bind(ms, path, m, true);
        return 0;
}

int build_mounts_setup(struct builder *b, struct build_state *st, struct build_mounts *ms,
                       struct st_error **err)
{
        (void)st;
        int r = 0;
        for (size_t i = 0; r >= 0 && i < ms->n; i++) {
                const struct run_mount *m = &ms->list[i];
                switch (m->type) {
                case MOUNT_CACHE:
                        r = setup_cache(b, ms, m, err);
                        break;
                case MOUNT_BIND:
                        r = setup_bind(b, ms, m, err);
                        break;
                case MOUNT_TMPFS:
                        strv_consume(&ms->tmpfs,
                                     m->size ? xasprintf("%s:size=%s", m->target, m->size)
                                             : xstrdup(m->target));
                        strv_push(&ms->targets, m->target);
                        break;
                case MOUNT_SECRET:
                        r = setup_secret(b, ms, m, err);
                        break;
                }
        }
        return r;
}
