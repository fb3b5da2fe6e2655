/* COPY and ADD: sources from the context (minus .dockerignore) or a stage, copied into the
 * stage's overlay; the upper dir becomes the layer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "build/build-internal.h"
#include "build/copy.h"
#include "json/json.h"
#include "runtime/spec.h"

#define ETC_FILE_MAX (4 * 1024 * 1024)

struct copy_step {
        char **words;
        struct build_copy_req req;
        struct build_copy_source src;
        char *from_dir;  /* the --from stage's mount, or NULL */
        char *from_desc; /* "stage 'builder'" or "image 'alpine'", for messages */
        int from_fd;
        char *created_by;
        char key[DIGEST_STR_LEN + 1];
};

static void copy_step_release(struct copy_step *cs)
{
        strv_free(cs->words);
        strv_free(cs->req.exclude_patterns);
        safe_close(cs->from_fd);
        if (cs->from_dir)
                build_unmount_state(cs->from_dir, false);
        free(cs->from_dir);
        free(cs->from_desc);
        free(cs->created_by);
}

static bool exclude_cb(void *userdata, const char *relpath, bool is_dir, bool *ret_skip_dir)
{
        const struct dockerfile_ignore *ig = userdata;
        bool excluded = false;
        if (dockerfile_ignore_match(ig, relpath, &excluded, NULL) < 0)
                return false;
        if (excluded && is_dir)
                *ret_skip_dir = dockerfile_ignore_can_skip_dir(ig, relpath);
        return excluded;
}

void build_copy_source_init_context(struct builder *b, struct build_copy_source *src)
{
        if (b->context_real) {
                src->content_hash = build_stat_cache_hash;
                src->content_hash_data = &b->stat_cache;
        }
        if (b->ignore) {
                src->exclude = exclude_cb;
                src->exclude_data = b->ignore;
        }
}

/* The text of /etc/NAME in ST's rootfs: from the topmost layer that has it. */
static char *etc_file(struct builder *b, const struct build_state *st, const char *name)
{
        for (size_t i = st->n_layers; i-- > 0;) {
                _cleanup_free_ char *d = store_layer_diff_path(b->s, st->layers[i].chain_id);
                _cleanup_close_ int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                _cleanup_close_ int f =
                        fd < 0 ? -1 : archive_open_in_root(fd, name, O_RDONLY | O_NONBLOCK, false);
                char *buf = NULL;
                size_t len = 0;
                if (f >= 0 && read_full_fd(f, ETC_FILE_MAX, &buf, &len) >= 0)
                        return buf;
        }
        return NULL;
}

static int resolve_chown(struct builder *b, const struct build_state *st, const char *spec,
                         struct build_copy_req *req, struct st_error **err)
{
        _cleanup_free_ char *passwd = etc_file(b, st, "etc/passwd");
        _cleanup_free_ char *group = etc_file(b, st, "etc/group");
        struct runtime_user u = { 0 };
        int r = runtime_user_resolve(spec, passwd, group, &u, err);
        if (r < 0)
                return r;
        req->uid = u.uid;
        req->gid = u.gid;
        if (!strchr(spec, ':') && strspn(spec, "0123456789") == strlen(spec))
                req->gid = u.uid; /* "--chown=10" is 10:10, as BuildKit does */
        runtime_user_release(&u);
        return 0;
}

static int flag_value(struct builder *b, struct build_state *st,
                      const struct dockerfile_instruction *in, const char *name, char **ret,
                      struct st_error **err)
{
        const struct dockerfile_flag *f = dockerfile_instruction_flag(in, name);
        *ret = NULL;
        return f ? build_expand(b, st, f->value ?: "", ret, err) : 0;
}

static int setup_from(struct builder *b, const char *from, struct copy_step *cs,
                      struct st_error **err)
{
        const struct build_state *st = NULL;
        struct build_state owned = { 0 };
        int r = build_from_ref(b, from, &st, &owned, err);
        if (r >= 0)
                r = build_mount_state(b, st, &cs->from_dir, err);
        build_state_release(&owned);
        if (r < 0)
                return r;
        _cleanup_free_ char *merged = xasprintf("%s/merged", cs->from_dir);
        cs->from_fd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cs->from_fd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", merged);
        cs->src.root_fd = cs->from_fd;
        cs->src.keep_owner = true;
        bool stage = false;
        for (size_t i = 0; i < b->plan->n_stages; i++)
                stage = stage ||
                        (b->plan->stages[i].name && !strcasecmp(b->plan->stages[i].name, from));
        stage = stage || from[strspn(from, "0123456789")] == 0;
        cs->from_desc = xasprintf("%s '%s'", stage ? "stage" : "image", from);
        cs->src.desc = cs->from_desc;
        return 0;
}

static int setup_mode(const char *chmod, struct copy_step *cs, struct st_error **err)
{
        if (!chmod)
                return 0;
        int r = build_chmod_parse(chmod, &cs->req.mode, err);
        if (r > 0)
                cs->req.mode_str = chmod;
        return r < 0 ? r : 0;
}

static void created_by(struct copy_step *cs, const struct dockerfile_instruction *in,
                       const char *from, const char *chown, const char *chmod)
{
        _cleanup_free_ char *w = NULL;
        STRV_FOREACH(p, cs->words) {
                char *n = w ? xasprintf("%s %s", w, *p) : xstrdup(*p);
                free(w);
                w = n;
        }
        _cleanup_free_ char *f = from ? xasprintf("--from=%s ", from) : xstrdup("");
        _cleanup_free_ char *o = chown ? xasprintf("--chown=%s ", chown) : xstrdup("");
        _cleanup_free_ char *m = chmod ? xasprintf("--chmod=%s ", chmod) : xstrdup("");
        cs->created_by = xasprintf("%s %s%s%s%s # buildkit", dockerfile_kind_to_string(in->kind), f,
                                   o, m, w ?: "");
}

static int copy_prepare(struct builder *b, struct build_state *st,
                        const struct dockerfile_instruction *in, struct copy_step *cs,
                        struct st_error **err)
{
        _cleanup_free_ char *from = NULL, *chown = NULL, *chmod = NULL;
        int r = build_expand_args(b, st, in, &cs->words, err);
        if (r >= 0 && strv_length(cs->words) < 2)
                r = st_error_set(err, ST_E_PARSE, "%s:%u: %s requires at least two arguments",
                                 b->df->filename, in->line, dockerfile_kind_to_string(in->kind));
        if (r >= 0)
                r = flag_value(b, st, in, "from", &from, err);
        if (r >= 0)
                r = flag_value(b, st, in, "chown", &chown, err);
        if (r >= 0)
                r = flag_value(b, st, in, "chmod", &chmod, err);
        if (r < 0)
                return r;
        size_t n = strv_length(cs->words);
        cs->req = (struct build_copy_req){ .sources = cs->words, .uid = -1, .gid = -1, .mode = -1 };
        cs->req.dest = cs->words[n - 1];
        cs->req.workdir = json_get_str(image_config_container(st->cfg), "WorkingDir");
        cs->req.add = in->kind == DOCKERFILE_ADD;
        cs->req.parents = dockerfile_instruction_flag(in, "parents") != NULL;
        for (size_t i = 0; i < in->n_flags; i++)
                if (streq(in->flags[i].name, "exclude") && in->flags[i].value)
                        strv_push(&cs->req.exclude_patterns, in->flags[i].value);
        cs->src = (struct build_copy_source){ .root_fd = b->context_fd, .desc = "context" };
        build_copy_source_init_context(b, &cs->src);
        if (from)
                r = setup_from(b, from, cs, err);
        if (r >= 0 && chown)
                r = resolve_chown(b, st, chown, &cs->req, err);
        if (r >= 0)
                r = setup_mode(chmod, cs, err);
        if (r < 0)
                return r;
        created_by(cs, in, from, chown, chmod);
        char digest[DIGEST_STR_LEN + 1];
        cs->words[n - 1] = NULL; /* sources only */
        r = build_copy_digest(&cs->src, &cs->req, digest, err);
        cs->words[n - 1] = (char *)cs->req.dest;
        if (r < 0)
                return r;
        char *parts[] = { cs->created_by, digest, NULL };
        build_cache_key(st->key, parts, cs->key);
        return 0;
}

static int copy_and_commit(struct builder *b, struct build_state *st, struct copy_step *cs,
                           struct st_error **err)
{
        _cleanup_free_ char *dir = NULL;
        int r = build_mount_state(b, st, &dir, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
        _cleanup_close_ int root = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                r = st_error_set_errno(err, -errno, "open '%s'", merged);
        const char *wd = cs->req.workdir;
        if (r >= 0 && wd && wd[strspn(wd, "/")]) {
                int fd = archive_open_dir_create(root, wd + strspn(wd, "/"));
                if (fd < 0)
                        r = st_error_set_errno(err, fd, "create WORKDIR '%s'", wd);
                safe_close(fd);
        }
        char *dest = cs->words[strv_length(cs->words) - 1];
        cs->words[strv_length(cs->words) - 1] = NULL;
        if (r >= 0)
                r = build_copy(&cs->src, root, &cs->req, NULL, err);
        cs->words[strv_length(cs->words)] = dest;
        root = safe_close(root);
        build_unmount_state(dir, r >= 0);
        if (r < 0)
                return r;
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        r = build_commit_upper(b, st, upper, cs->key, cs->created_by, err);
        (void)rm_rf_at(AT_FDCWD, dir);
        return r;
}

int build_step_copy(struct builder *b, struct build_state *st,
                    const struct dockerfile_instruction *in, struct st_error **err)
{
        struct copy_step cs = { .from_fd = -1 };
        build_step_begin(b, in->original);
        int r = copy_prepare(b, st, in, &cs, err);
        if (r >= 0)
                r = build_cache_try(b, st, cs.key, cs.created_by, err);
        if (r == 0)
                r = copy_and_commit(b, st, &cs, err);
        copy_step_release(&cs);
        if (r != 1)
                build_emit(b, r < 0 ? BUILD_EVENT_ERROR : BUILD_EVENT_DONE, NULL);
        return r;
}
