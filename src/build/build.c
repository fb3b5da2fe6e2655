/* The builder: parse, plan, build the needed stages in order, commit the target as an image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "build/build-internal.h"
#include "image/manifest.h"
#include "json/json.h"
#include "runtime/container.h"

#define IGNORE_FILE_MAX DOCKERFILE_IGNORE_MAX_SIZE

double build_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *build_time_now(const struct builder *b)
{
        return b->epoch_time ? xstrdup(b->epoch_time) : image_time_now();
}

void build_emit(struct builder *b, enum build_event_kind kind, const char *text)
{
        if (!b->o->progress)
                return;
        struct build_event ev = {
                .kind = kind,
                .id = b->step_id,
                .text = text,
                .elapsed = build_now() - b->step_start,
        };
        b->o->progress(b->o->progress_data, &ev);
}

void build_step_begin(struct builder *b, const char *name)
{
        b->step_id = ++b->next_id;
        b->step_start = build_now();
        b->step_no++;
        _cleanup_free_ char *label =
                b->stage_label
                        ? xasprintf("[%s %zu/%zu] %s", b->stage_label, b->step_no, b->n_steps, name)
                        : xasprintf("[%zu/%zu] %s", b->step_no, b->n_steps, name);
        if (!b->o->progress)
                return;
        struct build_event ev = { .kind = BUILD_EVENT_STEP, .id = b->step_id, .name = label };
        b->o->progress(b->o->progress_data, &ev);
}

static void warn(struct builder *b, const char *text)
{
        build_emit(b, BUILD_EVENT_WARNING, text);
}

/* ----- the state of a stage ----- */

static const char *kv_lookup(char *const *l, const char *name)
{
        size_t n = strlen(name);
        for (char *const *p = l; p && *p; p++)
                if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
                        return *p + n + 1;
        return NULL;
}

char **build_state_env(const struct build_state *st)
{
        char **env = NULL;
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, json_object_get(image_config_container(st->cfg), "Env"))
                if (json_is_string(v))
                        strv_push(&env, json_string_value(v));
        return env;
}

const char *build_state_lookup(const struct build_state *st, const char *name)
{
        size_t n = strlen(name);
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, json_object_get(image_config_container(st->cfg), "Env")) {
                const char *e = json_string_value(v);
                if (e && strncmp(e, name, n) == 0 && e[n] == '=')
                        return e + n + 1;
        }
        return kv_lookup(st->args, name);
}

static const char *lookup_cb(void *userdata, const char *name)
{
        return build_state_lookup(userdata, name);
}

int build_expand(const struct builder *b, const struct build_state *st, const char *word,
                 char **ret, struct st_error **err)
{
        return dockerfile_expand_word(word, b->df->escape, lookup_cb, (void *)st, ret, NULL, err);
}

void build_state_add_layer(struct build_state *st, const struct store_layer_result *l,
                           const char *created, const char *created_by)
{
        st->layers = xrealloc(st->layers, (st->n_layers + 1) * sizeof(*st->layers));
        st->layers[st->n_layers++] = *l;
        image_config_add_history(st->cfg, l->diff_id, created, created_by, NULL,
                                 "buildkit.dockerfile.v0", false);
}

void build_state_release(struct build_state *st)
{
        image_config_free(st->cfg);
        free(st->layers);
        strv_free(st->args);
}

static int state_copy(const struct build_state *from, struct build_state *to, struct st_error **err)
{
        _cleanup_free_ char *text = image_config_write(from->cfg);
        int r = image_config_parse(text, strlen(text), &to->cfg, err);
        if (r < 0)
                return r;
        to->layers = xcalloc(from->n_layers + 1, sizeof(*to->layers));
        memcpy(to->layers, from->layers, from->n_layers * sizeof(*to->layers));
        to->n_layers = from->n_layers;
        memcpy(to->key, from->key, sizeof(to->key));
        return 0;
}

/* ----- FROM ----- */

static void set_default_path(struct build_state *st)
{
        json_t *c = image_config_container(st->cfg);
        if (!json_object_get(c, "Env"))
                json_object_set_new(c, "Env", json_array());
        json_t *env = json_object_get(c, "Env");
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, env)
                if (startswith(json_string_value(v) ?: "", "PATH="))
                        return;
        json_array_append_new(
                env,
                json_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
}

static int load_layers(struct builder *b, const struct store_image *img, struct build_state *st,
                       struct st_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct image_manifest *m = NULL;
        int r = store_blob_read(b->s, img->manifest_digest, 4 << 20, &buf, &len, err);
        if (r >= 0)
                r = image_manifest_parse(buf, len, NULL, &m, err);
        if (r < 0)
                return r;
        size_t n = strv_length(img->chain_ids);
        if (m->n_layers != n || strv_length(st->cfg->diff_ids) != n) {
                image_manifest_free(m);
                return st_error_set(err, ST_E_CORRUPT, "image %s: layers do not match", img->id);
        }
        st->layers = xcalloc(n + 1, sizeof(*st->layers));
        for (size_t i = 0; i < n; i++) {
                struct store_layer_result *l = &st->layers[i];
                snprintf(l->chain_id, sizeof(l->chain_id), "%s", img->chain_ids[i]);
                snprintf(l->diff_id, sizeof(l->diff_id), "%s", st->cfg->diff_ids[i]);
                snprintf(l->digest, sizeof(l->digest), "%s", m->layers[i].digest);
                snprintf(l->media_type, sizeof(l->media_type), "%s", m->layers[i].media_type);
                l->blob_size = (uint64_t)m->layers[i].size;
        }
        st->n_layers = n;
        image_manifest_free(m);
        return 0;
}

int build_state_from_image(struct builder *b, const char *name, struct build_state *st,
                           struct st_error **err)
{
        _cleanup_store_image_ struct store_image *img = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = b->o->ensure_image ? b->o->ensure_image(b->o->ensure_data, name, err) : 0;
        if (r >= 0)
                r = store_image_lookup(b->s, name, &img, err);
        if (r == ST_E_NOT_FOUND) {
                st_error_free(TAKE_PTR(*err));
                return st_error_set(err, ST_E_NOT_FOUND,
                                    "failed to resolve source metadata for %s: pull access "
                                    "denied, repository does not exist or may require "
                                    "authorization",
                                    name);
        }
        if (r >= 0)
                r = store_blob_read(b->s, img->id, 8 << 20, &buf, &len, err);
        if (r >= 0)
                r = image_config_parse(buf, len, &st->cfg, err);
        if (r >= 0)
                r = load_layers(b, img, st, err);
        if (r < 0)
                return r;
        char *parts[] = { (char *)"from", img->id, NULL };
        build_cache_key(NULL, parts, st->key);
        return 0;
}

int build_from_ref(struct builder *b, const char *name, const struct build_state **ret,
                   struct build_state *owned, struct st_error **err)
{
        int idx = dockerfile_plan_stage_lookup(b->plan, name);
        if (idx >= 0) {
                *ret = &b->states[idx];
                return 0;
        }
        int r = build_state_from_image(b, name, owned, err);
        if (r < 0)
                return r;
        *ret = owned;
        return 0;
}

static int from_scratch(struct builder *b, struct build_state *st)
{
        _cleanup_free_ char *now = build_time_now(b);
        st->cfg = image_config_new(now);
        char *parts[] = { (char *)"scratch", NULL };
        build_cache_key(NULL, parts, st->key);
        return 0;
}

static int build_stage(struct builder *b, size_t idx, struct st_error **err);

static size_t count_steps(const struct builder *b, const struct dockerfile_plan_stage *ps)
{
        size_t n = 1;
        for (size_t i = ps->first; i < ps->end; i++) {
                enum dockerfile_kind k = b->df->instructions[i].kind;
                n += k == DOCKERFILE_RUN || k == DOCKERFILE_COPY || k == DOCKERFILE_ADD ||
                     k == DOCKERFILE_WORKDIR;
        }
        return n;
}

static int stage_from(struct builder *b, const struct dockerfile_plan_stage *ps,
                      struct build_state *st, struct st_error **err)
{
        int r;
        _cleanup_free_ char *what = xasprintf("FROM %s", ps->base);
        if (ps->base_stage >= 0) {
                r = state_copy(&b->states[ps->base_stage], st, err);
        } else if (streq(ps->base, "scratch")) {
                r = from_scratch(b, st);
        } else {
                build_step_begin(b, what);
                r = build_state_from_image(b, ps->base, st, err);
                if (r >= 0)
                        build_emit(b, BUILD_EVENT_DONE, NULL);
        }
        if (r < 0)
                return r;
        if (ps->base_stage >= 0 || streq(ps->base, "scratch"))
                b->step_no = 1;
        if (b->epoch_time && ps->base_stage < 0) {
                /* clamped mtimes and history times: never a layer or image built without it */
                _cleanup_free_ char *part = xasprintf("source-date-epoch=%s", b->epoch_time);
                char *parts[] = { part, NULL };
                char key[DIGEST_STR_LEN + 1];
                build_cache_key(st->key, parts, key);
                memcpy(st->key, key, sizeof(key));
        }
        set_default_path(st);
        return 0;
}

/* ONBUILD triggers of the base image, then cleared as Docker does. */
static int run_onbuild(struct builder *b, struct build_state *st, struct st_error **err)
{
        json_t *c = image_config_container(st->cfg);
        _cleanup_json_ json_t *triggers = json_incref(json_object_get(c, "OnBuild"));
        json_object_del(c, "OnBuild");
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, triggers) {
                const char *t = json_string_value(v);
                _cleanup_dockerfile_ struct dockerfile *df = NULL;
                if (!t || dockerfile_parse("ONBUILD", t, strlen(t), &df, err) < 0)
                        return st_error_wrap(err, "ONBUILD trigger");
                for (size_t k = 0; k < df->n_instructions; k++) {
                        int r = build_step_config(b, st, &df->instructions[k], err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int build_stage(struct builder *b, size_t idx, struct st_error **err)
{
        struct build_state *st = &b->states[idx];
        if (st->done)
                return 0;
        const struct dockerfile_plan_stage *ps = &b->plan->stages[idx];
        for (size_t i = 0; i < ps->n_deps; i++)
                if (ps->deps[i] != (size_t)ps->base_stage) {
                        int r = build_stage(b, ps->deps[i], err);
                        if (r < 0)
                                return r;
                }
        if (ps->base_stage >= 0) {
                int r = build_stage(b, (size_t)ps->base_stage, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *label = b->plan->n_stages == 1 ? NULL
                                     : ps->name             ? xstrdup(ps->name)
                                                            : xasprintf("stage-%zu", idx);
        b->stage_label = label;
        b->step_no = 0;
        b->n_steps = count_steps(b, ps);
        int r = stage_from(b, ps, st, err);
        if (r >= 0)
                r = run_onbuild(b, st, err);
        for (size_t i = ps->first; r >= 0 && i < ps->end; i++)
                r = build_step_config(b, st, &b->df->instructions[i], err);
        b->stage_label = NULL;
        if (r < 0)
                return r;
        st->done = true;
        return 0;
}

/* ----- setup ----- */

static int open_context(struct builder *b, struct st_error **err)
{
        if (b->o->context) {
                b->context_fd = open(b->o->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (b->context_fd < 0)
                        return st_error_set_errno(err, -errno, "unable to prepare context: '%s'",
                                                  b->o->context);
                b->context_real = realpath(b->o->context, NULL);
                b->stat_cache = (struct build_stat_cache){ .s = b->s, .root = b->context_real };
        } else {
                _cleanup_free_ char *dir = NULL;
                int r = store_tmp_mkdir(b->s, "build-context", &dir, err);
                if (r < 0)
                        return r;
                b->context_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (b->context_fd < 0)
                        return st_error_set_errno(err, -errno, "open '%s'", dir);
        }
        return 0;
}

static int read_ignore(struct builder *b, struct st_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_free_ char *own =
                b->o->dockerfile_path ? dockerfile_ignore_file_for(b->o->dockerfile_path) : NULL;
        int r = own ? read_full_file_at(AT_FDCWD, own, IGNORE_FILE_MAX, &buf, &len) : -ENOENT;
        if (r == -ENOENT)
                r = read_full_file_at(b->context_fd, DOCKERFILE_IGNORE_DEFAULT_NAME,
                                      IGNORE_FILE_MAX, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return st_error_set_errno(err, r, "read .dockerignore");
        return dockerfile_ignore_parse(buf, len, &b->ignore, err);
}

static void warn_unused(struct builder *b)
{
        if (!b->plan->unused_build_args)
                return;
        _cleanup_free_ char *names = NULL;
        STRV_FOREACH(a, b->plan->unused_build_args) {
                _cleanup_free_ char *k = xstrndup(*a, strcspn(*a, "="));
                char *n = names ? xasprintf("%s %s", names, k) : xstrdup(k);
                free(names);
                names = n;
        }
        _cleanup_free_ char *msg =
                xasprintf("[Warning] One or more build-args [%s] were not consumed", names);
        warn(b, msg);
}

/* ----- the image ----- */

static void apply_labels(struct builder *b, struct build_state *st)
{
        json_t *c = image_config_container(st->cfg);
        STRV_FOREACH(l, b->o->labels) {
                if (!json_is_object(json_object_get(c, "Labels")))
                        json_object_set_new(c, "Labels", json_object());
                _cleanup_free_ char *k = xstrndup(*l, strcspn(*l, "="));
                const char *v = strchr(*l, '=');
                json_object_set_new(json_object_get(c, "Labels"), k, json_string(v ? v + 1 : ""));
        }
}

static int tag_all(struct builder *b, const char *id, struct st_error **err)
{
        STRV_FOREACH(t, b->o->tags) {
                int r = store_tag_set(b->s, *t, id, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int commit_image(struct builder *b, struct build_state *st, char *ret_id,
                        struct st_error **err)
{
        char key[DIGEST_STR_LEN + 1];
        _cleanup_strv_ char **parts = strv_copy(b->o->labels);
        strv_push(&parts, "image");
        build_cache_key(st->key, parts, key);
        struct store_cache_entry e = { 0 };
        int r = b->o->no_cache ? 0 : store_build_cache_get(b->s, key, &e, err);
        if (r < 0)
                return r;
        if (r > 0) {
                memcpy(ret_id, e.image_id, sizeof(e.image_id));
                return tag_all(b, e.image_id, err);
        }
        apply_labels(b, st);
        _cleanup_free_ char *now = build_time_now(b);
        json_set_str(st->cfg->root, "created", now);
        free(st->cfg->created);
        st->cfg->created = xstrdup(now);
        _cleanup_free_ char *cfg = image_config_write(st->cfg);
        char id[DIGEST_STR_LEN + 1];
        r = store_image_create(b->s, cfg, strlen(cfg), now, st->layers, st->n_layers, b->o->tags,
                               id, err);
        if (r < 0)
                return r;
        memcpy(e.image_id, id, sizeof(id));
        (void)store_build_cache_put(b->s, key, &e, NULL, NULL);
        memcpy(ret_id, id, sizeof(id));
        return 0;
}

static int run(struct builder *b, char *ret_id, struct st_error **err)
{
        const struct build_opts *o = b->o;
        struct dockerfile_platform platform = { "linux", "amd64", "" };
        int r = dockerfile_parse(o->dockerfile_name ?: "Dockerfile", o->dockerfile,
                                 o->dockerfile_len, &b->df, err);
        if (r >= 0)
                r = dockerfile_plan_new(b->df, o->build_args, o->envp, o->target, &platform,
                                        &b->plan, err);
        if (r >= 0)
                r = open_context(b, err);
        if (r >= 0)
                r = read_ignore(b, err);
        if (r < 0)
                return r;
        b->states = xcalloc(b->plan->n_stages, sizeof(*b->states));
        r = build_stage(b, b->plan->target, err);
        if (r >= 0)
                r = commit_image(b, &b->states[b->plan->target], ret_id, err);
        if (r >= 0)
                warn_unused(b);
        return r;
}

int build_image(struct store *s, const struct build_opts *o, char *ret_id, struct st_error **err)
{
        struct builder b = { .s = s, .o = o, .context_fd = -1, .epoch = -1 };
        char id[DIGEST_STR_LEN + 1];
        int r = build_compression_parse(o->compression, o->compression_level, &b.compression, err);
        if (r >= 0)
                r = build_source_date_epoch(o->build_args, o->envp, &b.epoch, err);
        if (r < 0)
                return r;
        if (r > 0)
                b.epoch_time = image_time_format(b.epoch);
        /* the RUN containers of builds that were killed: their processes, mounts and layers */
        struct runtime_host h = { .store = s, .search_path = o->search_path };
        (void)runtime_container_reap(&h, BUILD_CONTAINER_IMAGE, NULL);
        r = run(&b, id, err);
        for (size_t i = 0; b.states && i < b.plan->n_stages; i++)
                build_state_release(&b.states[i]);
        free(b.states);
        safe_close(b.context_fd);
        free(b.context_real);
        free(b.epoch_time);
        dockerfile_ignore_free(b.ignore);
        dockerfile_plan_free(b.plan);
        dockerfile_free(b.df);
        if (r < 0)
                return r;
        memcpy(ret_id, id, sizeof(id));
        return 0;
}
