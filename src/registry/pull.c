/* registry_pull: manifest (index -> platform) -> config -> the missing layers, in parallel, each
 * streamed from the socket through store_layer_create -> the image recorded.
 *
 * Layers download and extract in parallel on worker threads, each with its own store handle
 * (SQLite connections are per thread) and its own curl transfer; they are committed bottom up,
 * because a layer row names its parent: store_layer_create's before_commit hook makes layer i
 * wait until layer i-1 is in. Workers take layers in order, so the layer someone waits for is
 * always being worked on. */
#include <errno.h>
#include <stdio.h>

#include "basic/log.h"
#include "basic/util.h"
#include "image/config.h"
#include "registry/protocol.h"
#include "registry/registry-internal.h"

enum layer_state { LAYER_PENDING, LAYER_COMMITTED, LAYER_FAILED };

struct pull_layer {
        const struct image_descriptor *desc;
        const char *diff_id;
        char short_id[13];
        bool present;    /* layer and blob in the store: nothing to do */
        bool local_blob; /* the blob is in the store, the layer is not: extract from it */
        enum layer_state state;
        struct store_layer_result res;
};

struct pull_job {
        struct registry_client *c;
        const char *root;
        struct pull_layer *layers;
        size_t n;
        size_t next; /* the next layer for a worker to take */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool failed;
        struct st_error *err; /* the first failure */
        unsigned fetched;
        registry_progress_fn progress;
        void *userdata;
        pthread_mutex_t progress_lock;
};

struct layer_ctx {
        struct pull_job *job;
        size_t index;
};

static void emit(struct pull_job *j, enum registry_event_type type, const char *id,
                 const char *text, uint64_t current, uint64_t total)
{
        if (!j->progress)
                return;
        struct registry_event ev = { type, id, text, current, total };
        pthread_mutex_lock(&j->progress_lock);
        j->progress(&ev, j->userdata);
        pthread_mutex_unlock(&j->progress_lock);
}

static void on_bytes(void *userdata, uint64_t got)
{
        struct layer_ctx *lc = userdata;
        struct pull_layer *l = &lc->job->layers[lc->index];
        emit(lc->job, REGISTRY_EVENT_PROGRESS, l->short_id, NULL, got, (uint64_t)l->desc->size);
}

/* before_commit: wait until the layer below is committed. */
static int wait_below(void *userdata, struct st_error **err)
{
        struct layer_ctx *lc = userdata;
        struct pull_job *j = lc->job;
        emit(j, REGISTRY_EVENT_VERIFYING, j->layers[lc->index].short_id, NULL, 0, 0);
        pthread_mutex_lock(&j->lock);
        while (lc->index > 0 && j->layers[lc->index - 1].state == LAYER_PENDING && !j->failed)
                pthread_cond_wait(&j->cond, &j->lock);
        bool ok =
                !j->failed && (lc->index == 0 || j->layers[lc->index - 1].state == LAYER_COMMITTED);
        pthread_mutex_unlock(&j->lock);
        if (!ok)
                return st_error_set(err, -ECANCELED, "cancelled: another layer failed");
        return 0;
}

static void job_fail(struct pull_job *j, struct st_error *e)
{
        pthread_mutex_lock(&j->lock);
        if (!j->failed) {
                j->failed = true;
                j->err = e;
                e = NULL;
        }
        atomic_store(&j->c->cancelled, true);
        pthread_cond_broadcast(&j->cond);
        pthread_mutex_unlock(&j->lock);
        st_error_free(e);
}

static void set_state(struct pull_job *j, size_t i, enum layer_state state)
{
        pthread_mutex_lock(&j->lock);
        j->layers[i].state = state;
        if (state == LAYER_COMMITTED && !j->layers[i].local_blob)
                j->fetched++;
        pthread_cond_broadcast(&j->cond);
        pthread_mutex_unlock(&j->lock);
}

/* The partial download a killed pull left of DIGEST, locked for us: NULL if another pull is
 * writing it or it cannot be had (then we just do without). */
static struct store_partial *open_partial(struct store *ws, const char *digest)
{
        struct store_partial *p = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        if (store_partial_open(ws, digest, &p, &e) < 0)
                log_debug("%s, not resuming", st_error_msg(e));
        return p;
}

/* The layer's bytes: the blob already in the store, or a stream from the registry (after what
 * *ret_partial holds of it). */
static int open_source(struct pull_job *j, struct store *ws, struct layer_ctx *lc,
                       struct st_reader **ret, int *ret_fd, char **ret_path,
                       struct store_partial **ret_partial, struct st_error **err)
{
        const struct image_descriptor *d = j->layers[lc->index].desc;
        if (!j->layers[lc->index].local_blob) {
                *ret_partial = open_partial(ws, d->digest);
                return blob_resume_reader_new(j->c, *ret_partial, d->digest, (uint64_t)d->size,
                                              on_bytes, lc, ret, err);
        }
        int r = store_blob_open(ws, d->digest, ret_fd, err);
        if (r < 0)
                return r;
        *ret = st_fd_reader_new(*ret_fd);
        *ret_path = store_blob_path(ws, d->digest);
        return 0;
}

/* Keep the partial download for the next pull only if this one stopped on the network (or was
 * cancelled): after a success it is of no use, and after a digest mismatch or a bad stream
 * it is wrong (or suspect). */
static bool keep_partial(struct st_reader *in, int r, const struct st_error *e)
{
        return r < 0 && st_error_code(e) != ST_E_DIGEST_MISMATCH &&
               (blob_resume_reader_failed(in) || r == -ECANCELED);
}

static int pull_layer(struct pull_job *j, struct store *ws, size_t i, struct st_error **err)
{
        struct pull_layer *l = &j->layers[i];
        struct layer_ctx lc = { j, i };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *path = NULL;
        struct st_reader *in = NULL;
        struct store_partial *partial = NULL;
        int r = open_source(j, ws, &lc, &in, &fd, &path, &partial, err);
        if (r < 0) {
                store_partial_close(partial, false);
                return r;
        }
        struct store_layer_source src = {
                .in = in,
                .parent = i > 0 ? j->layers[i - 1].res.chain_id : NULL,
                .expected_digest = l->desc->digest,
                .expected_diff_id = l->diff_id,
                .media_type = l->desc->media_type,
                .keep_blob = true,
                .in_path = path,
                .before_commit = wait_below,
                .userdata = &lc,
        };
        r = store_layer_create(ws, &src, &l->res, err);
        if (r >= 0 && l->res.blob_size != (uint64_t)l->desc->size)
                r = st_error_set(err, ST_E_DIGEST_MISMATCH, "layer is %llu bytes, not %lld",
                                 (unsigned long long)l->res.blob_size, (long long)l->desc->size);
        bool keep = partial && keep_partial(in, r, r < 0 ? *err : NULL);
        if (r < 0 && partial && !keep && blob_resume_reader_replayed(in) > 0)
                (void)st_error_wrap(err, "resumed from a partial download of %llu bytes, removed",
                                    (unsigned long long)blob_resume_reader_replayed(in));
        store_partial_close(partial, !keep);
        st_reader_free(in);
        set_state(j, i, r < 0 ? LAYER_FAILED : LAYER_COMMITTED);
        if (r < 0)
                return st_error_wrap(err, "layer %s", l->desc->digest);
        emit(j, REGISTRY_EVENT_DONE, l->short_id, NULL, 0, 0);
        return 0;
}

/* The next layer to fetch, or -1 when there is none (or the job failed). */
static ssize_t take_next(struct pull_job *j)
{
        ssize_t i = -1;
        pthread_mutex_lock(&j->lock);
        while (!j->failed && j->next < j->n && j->layers[j->next].present)
                j->next++;
        if (!j->failed && j->next < j->n)
                i = (ssize_t)j->next++;
        pthread_mutex_unlock(&j->lock);
        return i;
}

static void *worker(void *userdata)
{
        struct pull_job *j = userdata;
        struct store *ws = NULL;
        struct st_error *e = NULL;
        if (store_open(j->root, &ws, &e) < 0) {
                job_fail(j, e);
                return NULL;
        }
        for (ssize_t i; (i = take_next(j)) >= 0;)
                if (pull_layer(j, ws, (size_t)i, &e) < 0) {
                        job_fail(j, e);
                        e = NULL;
                        break;
                }
        store_close(ws);
        return NULL;
}

static int run_workers(struct pull_job *j, unsigned max, struct st_error **err)
{
        size_t todo = 0;
        for (size_t i = 0; i < j->n; i++)
                todo += !j->layers[i].present;
        unsigned n = (unsigned)MIN((size_t)max, todo);
        pthread_t *t = xcalloc(n + 1, sizeof(*t));
        unsigned started = 0;
        for (; started < n; started++)
                if (pthread_create(&t[started], NULL, worker, j) != 0)
                        break;
        if (started == 0 && n > 0)
                worker(j); /* no threads to be had: do it here */
        for (unsigned i = 0; i < started; i++)
                pthread_join(t[i], NULL);
        free(t);
        if (j->failed)
                return st_error_take(&j->err, -EIO, err);
        return 0;
}

/* ----- the plan and the record ----- */

static struct pull_layer *plan(struct store *s, const struct registry_resolved *res)
{
        size_t n = res->m->n_layers;
        struct pull_layer *l = xcalloc(n + 1, sizeof(*l));
        for (size_t i = 0; i < n; i++) {
                const struct image_descriptor *d = &res->m->layers[i];
                l[i].desc = d;
                l[i].diff_id = res->cfg->diff_ids[i];
                snprintf(l[i].short_id, sizeof(l[i].short_id), "%.12s", digest_hex(d->digest));
                store_chain_id(i ? l[i - 1].res.chain_id : NULL, l[i].diff_id, l[i].res.chain_id);
                _cleanup_store_layer_ struct store_layer *have = NULL;
                bool blob = store_blob_exists(s, d->digest);
                l[i].present = blob && store_layer_get(s, l[i].res.chain_id, &have, NULL) >= 0;
                l[i].local_blob = blob && !l[i].present;
                l[i].state = l[i].present ? LAYER_COMMITTED : LAYER_PENDING;
                if (l[i].present) {
                        memcpy(l[i].res.diff_id, l[i].diff_id, DIGEST_STR_LEN + 1);
                        memcpy(l[i].res.digest, d->digest, DIGEST_STR_LEN + 1);
                        snprintf(l[i].res.media_type, sizeof(l[i].res.media_type), "%s",
                                 d->media_type);
                        l[i].res.blob_size = (uint64_t)d->size;
                }
        }
        return l;
}

static int record(struct store *s, const struct image_ref *ref, const struct registry_resolved *res,
                  const struct pull_layer *layers, char *ret_id, struct st_error **err)
{
        _cleanup_free_ char *repo = image_ref_repository(ref);
        _cleanup_strv_ char **tags = NULL, **digests = NULL;
        if (ref->tag && !ref->digest)
                strv_consume(&tags, image_ref_string(ref));
        strv_consume(&digests, xasprintf("%s@%s", repo, res->top.digest));
        _cleanup_free_ struct store_layer_result *r = xcalloc(res->m->n_layers + 1, sizeof(*r));
        for (size_t i = 0; i < res->m->n_layers; i++)
                r[i] = layers[i].res;
        struct store_pulled_image img = {
                .config = res->config,
                .config_len = res->config_len,
                .created = res->cfg->created,
                .manifest = res->manifest.buf,
                .manifest_len = res->manifest.len,
                .manifest_media_type = res->manifest.media_type,
                .layers = r,
                .n_layers = res->m->n_layers,
                .tags = tags,
                .repo_digests = digests,
        };
        int q = store_image_commit_pulled(s, &img, ret_id, err);
        if (q < 0)
                return q;
        /* where the blobs are, for mounts on push: a hint, so failures do not matter */
        for (size_t i = 0; i < res->m->n_layers; i++)
                (void)store_blob_source_add(s, r[i].digest, ref->domain, ref->path, NULL);
        (void)store_blob_source_add(s, res->m->config.digest, ref->domain, ref->path, NULL);
        return 0;
}

/* True if the image is there already and REF (if a tag) points at it. */
static bool up_to_date(struct store *s, const struct image_ref *ref, const char *id)
{
        _cleanup_store_image_ struct store_image *img = NULL;
        if (store_image_lookup(s, id, &img, NULL) < 0)
                return false;
        _cleanup_free_ char *full = image_ref_string(ref);
        return !ref->tag || ref->digest || strv_contains(img->tags, full);
}

static void announce(const struct registry_pull_opts *o, const struct image_ref *ref)
{
        if (!o->progress)
                return;
        _cleanup_free_ char *text =
                xasprintf("%s: Pulling from %s", ref->digest ?: ref->tag, ref->path);
        struct registry_event ev = { .type = REGISTRY_EVENT_PULLING, .text = text };
        o->progress(&ev, o->userdata);
}

static int pull_resolved(struct registry_client *c, struct store *s, const struct image_ref *ref,
                         const struct registry_resolved *res, const struct registry_pull_opts *o,
                         struct registry_pull_result *ret, struct st_error **err)
{
        struct pull_job j = { .c = c,
                              .root = store_root(s),
                              .n = res->m->n_layers,
                              .progress = o->progress,
                              .userdata = o->userdata };
        j.layers = plan(s, res);
        pthread_mutex_init(&j.lock, NULL);
        pthread_cond_init(&j.cond, NULL);
        pthread_mutex_init(&j.progress_lock, NULL);
        bool was_current = up_to_date(s, ref, res->m->config.digest);
        for (size_t i = 0; i < j.n; i++)
                emit(&j, j.layers[i].present ? REGISTRY_EVENT_EXISTS : REGISTRY_EVENT_QUEUED,
                     j.layers[i].short_id, NULL, 0, (uint64_t)j.layers[i].desc->size);
        unsigned max = o->max_parallel ?: REGISTRY_DEFAULT_DOWNLOADS;
        int r = run_workers(&j, MIN(max, (unsigned)REGISTRY_MAX_PARALLEL), err);
        char id[DIGEST_STR_LEN + 1];
        if (r >= 0)
                r = record(s, ref, res, j.layers, id, err);
        if (r >= 0) {
                memcpy(ret->id, id, sizeof(id));
                memcpy(ret->digest, res->top.digest, sizeof(ret->digest));
                ret->layers_fetched = j.fetched;
                ret->downloaded = !was_current || j.fetched > 0;
        }
        pthread_mutex_destroy(&j.lock);
        pthread_cond_destroy(&j.cond);
        pthread_mutex_destroy(&j.progress_lock);
        free(j.layers);
        return r;
}

int registry_pull(struct registry_ctx *ctx, struct store *s, const struct image_ref *ref,
                  const struct registry_pull_opts *o, struct registry_pull_result *ret,
                  struct st_error **err)
{
        struct registry_platform p;
        int r = registry_platform_parse(o->platform ?: "linux/amd64", &p, err);
        _cleanup_client_ struct registry_client *c = NULL;
        struct registry_resolved res = { 0 };
        if (r >= 0)
                r = store_lock(s, false, err);
        if (r >= 0)
                r = client_new(ctx, ref->domain, ref->path, "pull", &c, err);
        if (r >= 0) {
                announce(o, ref);
                r = registry_resolve(c, s, ref, &p, o->platform != NULL, &res, err);
        }
        if (r >= 0)
                r = pull_resolved(c, s, ref, &res, o, ret, err);
        registry_resolved_release(&res);
        return r;
}
