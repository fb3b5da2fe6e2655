/* The builder: parse, plan, build the needed stages in order, commit the target as an image. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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

enum stage_status { STAGE_TODO, STAGE_RUNNING, STAGE_DONE, STAGE_FAILED };

struct build_shared {
        pthread_mutex_t lock; /* status, next_id, failed, and reading a finished stage's state */
        pthread_cond_t changed;
        /* the caller's callbacks, each called by one thread at a time; apart, so that a long
         * pull or download in one stage does not hold up the progress of the others */
        pthread_mutex_t progress_lock, pull_lock, download_lock;
        enum stage_status *status;
        unsigned next_id;   /* the last "#N" given */
        atomic_bool failed; /* a stage failed: the others stop at their next step */
};

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

static void emit_event(struct builder *b, const struct build_event *ev)
{
        pthread_mutex_lock(&b->sh->progress_lock);
        b->o->progress(b->o->progress_data, ev);
        pthread_mutex_unlock(&b->sh->progress_lock);
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
        emit_event(b, &ev);
}

int build_download_url(struct builder *b, const char *url, int fd, struct build_download *ret,
                       struct st_error **err)
{
        if (!b->o->download)
                return st_error_set(err, ST_E_UNSUPPORTED, "ADD of a URL is not supported here");
        pthread_mutex_lock(&b->sh->download_lock);
        int r = b->o->download(b->o->download_data, url, fd, ret, err);
        pthread_mutex_unlock(&b->sh->download_lock);
        return r;
}

static int ensure_image(struct builder *b, const char *name, struct st_error **err)
{
        if (!b->o->ensure_image)
                return 0;
        pthread_mutex_lock(&b->sh->pull_lock);
        int r = b->o->ensure_image(b->o->ensure_data, name, err);
        pthread_mutex_unlock(&b->sh->pull_lock);
        return r;
}

void build_step_begin(struct builder *b, const char *name)
{
        pthread_mutex_lock(&b->sh->lock);
        b->step_id = ++b->sh->next_id;
        pthread_mutex_unlock(&b->sh->lock);
        b->step_start = build_now();
        b->step_no++;
        free(b->step_label);
        b->step_label = b->stage_label ? xasprintf("[%s %zu/%zu] %s", b->stage_label, b->step_no,
                                                   b->n_steps, name)
                                       : xasprintf("[%zu/%zu] %s", b->step_no, b->n_steps, name);
        if (!b->o->progress)
                return;
        struct build_event ev = { .kind = BUILD_EVENT_STEP,
                                  .id = b->step_id,
                                  .name = b->step_label };
        emit_event(b, &ev);
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
        free(st->base);
        strv_free(st->trail);
        free(st->last_step);
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
        to->base = from->base ? xstrdup(from->base) : NULL;
        to->trail = strv_copy(from->trail);
        to->last_step = from->last_step ? xstrdup(from->last_step) : NULL;
        to->last_ran = from->last_ran;
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
        int r = ensure_image(b, name, err);
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
        st->base = xasprintf("%s (%.19s)", name, img->id); /* "sha256:" and 12 digits */
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
        st->base = xstrdup("scratch");
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
                pthread_mutex_lock(&b->sh->lock);
                r = state_copy(&b->states[ps->base_stage], st, err);
                pthread_mutex_unlock(&b->sh->lock);
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

/* The identity of the next step in step records: the Dockerfile, the stage, WHAT and N. */
static void set_step_ident(struct builder *b, const char *what, size_t n)
{
        const struct dockerfile_plan_stage *ps = &b->plan->stages[b->stage];
        free(b->step_ident);
        b->step_ident = ps->name ? xasprintf("%s\t%s\t%s%zu", b->df_ident, ps->name, what, n)
                                 : xasprintf("%s\t%zu\t%s%zu", b->df_ident, b->stage, what, n);
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
                        set_step_ident(b, "onbuild", i * 1000 + k);
                        int r = build_step_config(b, st, &df->instructions[k], err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Run stage IDX's own instructions (its dependencies are built). */
static int run_stage(struct builder *b, size_t idx, struct st_error **err)
{
        struct build_state *st = &b->states[idx];
        const struct dockerfile_plan_stage *ps = &b->plan->stages[idx];
        _cleanup_free_ char *label = b->plan->n_stages == 1 ? NULL
                                     : ps->name             ? xstrdup(ps->name)
                                                            : xasprintf("stage-%zu", idx);
        b->stage_label = label;
        b->stage = idx;
        b->step_no = 0;
        b->n_steps = count_steps(b, ps);
        int r = stage_from(b, ps, st, err);
        if (r >= 0)
                r = run_onbuild(b, st, err);
        for (size_t i = ps->first; r >= 0 && i < ps->end; i++) {
                set_step_ident(b, "", i - ps->first);
                if (b->sh->failed) /* another stage failed: stop here */
                        r = st_error_set(err, -ECANCELED, "canceled: another stage failed");
                else
                        r = build_step_config(b, st, &b->df->instructions[i], err);
        }
        b->step_ident = mfree_str(b->step_ident);
        b->stage_label = NULL;
        if (r < 0)
                return r;
        st->done = true;
        return 0;
}

/* 1 if stage IDX is built, 0 if the caller is now building it, <0 if it failed (waits while
 * another thread builds it). */
static int claim(struct builder *b, size_t idx, struct st_error **err)
{
        struct build_shared *sh = b->sh;
        pthread_mutex_lock(&sh->lock);
        while (sh->status[idx] == STAGE_RUNNING)
                pthread_cond_wait(&sh->changed, &sh->lock);
        enum stage_status s = sh->status[idx];
        if (s == STAGE_TODO && !sh->failed)
                sh->status[idx] = STAGE_RUNNING;
        bool failed = sh->failed;
        pthread_mutex_unlock(&sh->lock);
        if (s == STAGE_DONE)
                return 1;
        if (s == STAGE_FAILED || failed)
                return st_error_set(err, -ECANCELED, "canceled: another stage failed");
        return 0;
}

static void finish(struct builder *b, size_t idx, bool ok)
{
        struct build_shared *sh = b->sh;
        pthread_mutex_lock(&sh->lock);
        sh->status[idx] = ok ? STAGE_DONE : STAGE_FAILED;
        if (!ok)
                sh->failed = true;
        pthread_cond_broadcast(&sh->changed);
        pthread_mutex_unlock(&sh->lock);
}

struct worker {
        const struct builder *parent;
        size_t idx;
        pthread_t thread;
        bool started;
        int r;
        struct st_error *err;
        struct build_use *uses; /* the thread's cache uses, handed to the parent */
        size_t n_uses;
};

/* A thread building one stage with its own copy of the builder and its own store handle
 * (SQLite connections are per thread). */
static void *worker_main(void *userdata)
{
        struct worker *w = userdata;
        struct builder tb = *w->parent;
        tb.stage_label = NULL;
        tb.step_id = 0;
        tb.step_no = tb.n_steps = 0;
        /* the step in progress, its record and the cache uses are the thread's own */
        tb.step_ident = tb.step_label = NULL;
        tb.pending = NULL;
        tb.explained = strv_copy(w->parent->explained); /* the parent waits: nobody writes it */
        tb.uses = NULL;
        tb.n_uses = 0;
        tb.s = NULL;
        w->r = store_open(store_root(w->parent->s), &tb.s, &w->err);
        if (w->r >= 0) {
                tb.stat_cache.s = tb.s;
                w->r = build_stage(&tb, w->idx, &w->err);
                build_stat_cache_flush(&tb.stat_cache);
        } else {
                pthread_mutex_lock(&tb.sh->lock);
                tb.sh->failed = true;
                pthread_mutex_unlock(&tb.sh->lock);
        }
        store_close(tb.s);
        free(tb.step_ident);
        free(tb.step_label);
        json_decref(tb.pending);
        strv_free(tb.explained);
        w->uses = tb.uses;
        w->n_uses = tb.n_uses;
        return NULL;
}

/* Move the cache uses of W (a joined worker) to B's, which are recorded at the end. */
static void take_uses(struct builder *b, struct worker *w)
{
        if (w->n_uses == 0)
                return;
        b->uses = xrealloc(b->uses, (b->n_uses + w->n_uses) * sizeof(*b->uses));
        memcpy(b->uses + b->n_uses, w->uses, w->n_uses * sizeof(*b->uses));
        b->n_uses += w->n_uses;
        free(w->uses);
        w->uses = NULL;
        w->n_uses = 0;
}

/* Join the workers and take their cache uses into B; the first real error of the workers (a
 * cancellation only if there is nothing else). */
static int join_workers(struct builder *b, struct worker *w, size_t n, struct st_error **err)
{
        int r = 0;
        struct st_error *first = NULL;
        for (size_t i = 0; i < n; i++) {
                if (w[i].started)
                        pthread_join(w[i].thread, NULL);
                take_uses(b, &w[i]);
                if (w[i].r >= 0)
                        continue;
                if (!first || (r == -ECANCELED && w[i].r != -ECANCELED)) {
                        st_error_free(first);
                        first = TAKE_PTR(w[i].err);
                        r = w[i].r;
                }
                st_error_free(w[i].err);
        }
        if (r < 0)
                return st_error_take(&first, r, err);
        return 0;
}

/* Build the stages in LIST: in this thread when there is one, else one thread each. */
static int build_list(struct builder *b, const size_t *list, size_t n, struct st_error **err)
{
        if (n == 1)
                return build_stage(b, list[0], err);
        _cleanup_free_ struct worker *w = xcalloc(n, sizeof(*w));
        for (size_t i = 0; i < n; i++) {
                w[i] = (struct worker){ .parent = b, .idx = list[i] };
                int e = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
                w[i].started = e == 0;
                if (e != 0) {
                        w[i].r = st_error_set_errno(&w[i].err, -e, "start a build thread");
                        pthread_mutex_lock(&b->sh->lock); /* stops the others */
                        b->sh->failed = true;
                        pthread_mutex_unlock(&b->sh->lock);
                }
        }
        return join_workers(b, w, n, err);
}

static int build_stage(struct builder *b, size_t idx, struct st_error **err)
{
        int r = claim(b, idx, err);
        if (r != 0)
                return r < 0 ? r : 0;
        const struct dockerfile_plan_stage *ps = &b->plan->stages[idx];
        _cleanup_free_ size_t *list = xcalloc(ps->n_deps + 1, sizeof(size_t));
        size_t n = 0;
        for (size_t i = 0; i < ps->n_deps; i++)
                if (ps->deps[i] != (size_t)ps->base_stage)
                        list[n++] = ps->deps[i];
        if (ps->base_stage >= 0)
                list[n++] = (size_t)ps->base_stage;
        r = n ? build_list(b, list, n, err) : 0;
        if (r >= 0)
                r = run_stage(b, idx, err);
        finish(b, idx, r >= 0);
        return r;
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

/* Whether the image ID is made of ST's layers (a stage may have been rebuilt with
 * --no-cache-filter since it was cached, its key unchanged). */
static bool same_layers(struct builder *b, const struct build_state *st, const char *id)
{
        _cleanup_store_image_ struct store_image *img = NULL;
        if (store_image_lookup(b->s, id, &img, NULL) < 0 ||
            strv_length(img->chain_ids) != st->n_layers)
                return false;
        for (size_t i = 0; i < st->n_layers; i++)
                if (!streq(img->chain_ids[i], st->layers[i].chain_id))
                        return false;
        return true;
}

/* --no-cache-filter: the stages it names (a name, or an index), else ST_E_PARSE. */
static int no_cache_stages(struct builder *b, struct st_error **err)
{
        if (!b->o->no_cache_filter)
                return 0;
        b->no_cache_stages = xcalloc(b->plan->n_stages, sizeof(bool));
        STRV_FOREACH(f, b->o->no_cache_filter) {
                int idx = dockerfile_plan_stage_lookup(b->plan, *f);
                if (idx < 0)
                        return st_error_set(err, ST_E_PARSE,
                                            "no-cache-filter stage \"%s\" could not be found", *f);
                b->no_cache_stages[idx] = true;
        }
        return 0;
}

/* RUN --security=insecure in a stage the target needs, without --allow security.insecure:
 * refused before anything runs, as BuildKit checks entitlements before it solves. */
static int check_entitlements(struct builder *b, struct st_error **err)
{
        for (size_t s = 0; s < b->plan->n_stages && !b->o->allow_insecure; s++) {
                const struct dockerfile_plan_stage *ps = &b->plan->stages[s];
                for (size_t k = ps->first; ps->needed && k < ps->end; k++) {
                        const struct dockerfile_instruction *in = &b->df->instructions[k];
                        const struct dockerfile_flag *f =
                                in->kind == DOCKERFILE_RUN
                                        ? dockerfile_instruction_flag(in, "security")
                                        : NULL;
                        if (f && streq(f->value ?: "", "insecure"))
                                return st_error_set(
                                        err, ST_E_DENIED,
                                        "%s:%u: RUN --security=insecure: granting entitlement "
                                        "security.insecure is not allowed (pass --allow "
                                        "security.insecure to strata build)",
                                        b->df->filename, in->line);
                }
        }
        return 0;
}

/* The Dockerfile's identity in step records: its absolute path, else (stdin) the context's. */
static void set_df_ident(struct builder *b)
{
        char *real = b->o->dockerfile_path ? realpath(b->o->dockerfile_path, NULL) : NULL;
        b->df_ident = real ?: xasprintf("stdin:%s", b->context_real ?: "-");
}

static int commit_image(struct builder *b, struct build_state *st, char *ret_id,
                        struct st_error **err)
{
        char key[DIGEST_STR_LEN + 1];
        _cleanup_strv_ char **parts = strv_copy(b->o->labels);
        strv_push(&parts, "image");
        build_cache_key(st->key, parts, key);
        struct store_cache_entry e = { 0 };
        b->stage = b->plan->target;
        int r = build_cache_off(b) ? 0 : store_build_cache_get(b->s, key, &e, err);
        if (r < 0)
                return r;
        if (r > 0 && same_layers(b, st, e.image_id)) {
                if (build_use_stale(e.used))
                        build_use_add(b, key, NULL);
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
        if (r >= 0)
                r = no_cache_stages(b, err);
        if (r >= 0)
                r = check_entitlements(b, err);
        if (r < 0)
                return r;
        set_df_ident(b);
        b->states = xcalloc(b->plan->n_stages, sizeof(*b->states));
        b->sh->status = xcalloc(b->plan->n_stages, sizeof(*b->sh->status));
        r = build_stage(b, b->plan->target, err);
        if (r >= 0)
                r = commit_image(b, &b->states[b->plan->target], ret_id, err);
        if (r >= 0)
                warn_unused(b);
        return r;
}

/* Record the build's cache uses (last-used times, step records) in one transaction; a
 * failure only loses that bookkeeping. */
static void record_uses(struct builder *b)
{
        struct store_build_use *u = xcalloc(b->n_uses + 1, sizeof(*u));
        for (size_t i = 0; i < b->n_uses; i++)
                u[i] = (struct store_build_use){ b->uses[i].key, b->uses[i].step,
                                                 b->uses[i].inputs };
        (void)store_build_cache_use(b->s, u, b->n_uses, NULL);
        free(u);
        for (size_t i = 0; i < b->n_uses; i++) {
                free(b->uses[i].key);
                free(b->uses[i].step);
                free(b->uses[i].inputs);
        }
        free(b->uses);
}

int build_image(struct store *s, const struct build_opts *o, char *ret_id, struct st_error **err)
{
        struct build_shared sh = { .lock = PTHREAD_MUTEX_INITIALIZER,
                                   .changed = PTHREAD_COND_INITIALIZER,
                                   .progress_lock = PTHREAD_MUTEX_INITIALIZER,
                                   .pull_lock = PTHREAD_MUTEX_INITIALIZER,
                                   .download_lock = PTHREAD_MUTEX_INITIALIZER };
        struct builder b = { .s = s, .o = o, .context_fd = -1, .epoch = -1, .sh = &sh };
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
        r = store_lock(s, false, err); /* no gc while the build's layers are in use */
        if (r >= 0)
                r = run(&b, id, err);
        build_stat_cache_flush(&b.stat_cache);
        record_uses(&b);
        for (size_t i = 0; b.states && i < b.plan->n_stages; i++)
                build_state_release(&b.states[i]);
        free(b.states);
        free(sh.status);
        safe_close(b.context_fd);
        free(b.context_real);
        free(b.epoch_time);
        dockerfile_ignore_free(b.ignore);
        dockerfile_plan_free(b.plan);
        dockerfile_free(b.df);
        free(b.no_cache_stages);
        strv_free(b.explained);
        free(b.df_ident);
        free(b.step_ident);
        free(b.step_label);
        json_decref(b.pending);
        if (r < 0)
                return r;
        memcpy(ret_id, id, sizeof(id));
        return 0;
}
