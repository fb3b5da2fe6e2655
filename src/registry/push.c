/* registry_push: each blob the registry lacks is mounted from a repository known to hold it, or
 * uploaded as the store holds it, in parallel; then the manifest, as it was built or pulled. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "basic/util.h"
#include "digest/digest.h"
#include "image/config.h"
#include "registry/registry-internal.h"

struct push_item {
        const char *digest;
        uint64_t size;
        char short_id[13];
        char **sources; /* other repositories of the registry known to hold it */
        bool quiet;     /* the config: no events, as docker shows none */

        enum { PUSH_EXISTED = 1, PUSH_MOUNTED, PUSH_UPLOADED } outcome;
};

struct push_job {
        struct registry_client *c;
        const struct store *s;
        struct push_item *items;
        size_t n, next;
        pthread_mutex_t lock;
        bool failed;
        struct st_error *err;
        registry_progress_fn progress;
        void *userdata;
};

struct item_ctx {
        struct push_job *job;
        struct push_item *item;
};

static void emit(struct push_job *j, const struct push_item *it, enum registry_event_type type,
                 const char *text, uint64_t current)
{
        if (!j->progress || it->quiet)
                return;
        struct registry_event ev = { type, it->short_id, text, current, it->size };
        pthread_mutex_lock(&j->lock);
        j->progress(&ev, j->userdata);
        pthread_mutex_unlock(&j->lock);
}

static void on_sent(void *userdata, uint64_t sent)
{
        struct item_ctx *ic = userdata;
        emit(ic->job, ic->item, REGISTRY_EVENT_PROGRESS, NULL, sent);
}

static int upload(struct push_job *j, CURL *h, struct push_item *it, struct st_error **err)
{
        _cleanup_close_ int fd = -1;
        int r = store_blob_open(j->s, it->digest, &fd, err);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return st_error_set_errno(err, -errno, "stat blob %s", it->digest);
        if ((uint64_t)st.st_size != it->size)
                return st_error_set(err, ST_E_CORRUPT,
                                    "blob %s in the store is %lld bytes, its"
                                    " descriptor says %llu",
                                    it->digest, (long long)st.st_size,
                                    (unsigned long long)it->size);
        struct item_ctx ic = { j, it };
        r = blob_upload(j->c, h, it->digest, fd, it->size, on_sent, &ic, err);
        if (r < 0)
                return r;
        it->outcome = PUSH_UPLOADED;
        emit(j, it, REGISTRY_EVENT_DONE, NULL, it->size);
        return 0;
}

static int push_item(struct push_job *j, CURL *h, struct push_item *it, struct st_error **err)
{
        int r = blob_exists(j->c, h, it->digest, err);
        if (r < 0)
                return r;
        if (r > 0) {
                it->outcome = PUSH_EXISTED;
                emit(j, it, REGISTRY_EVENT_EXISTS, NULL, 0);
                return 0;
        }
        STRV_FOREACH(from, it->sources) {
                r = blob_mount(j->c, h, it->digest, *from, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        it->outcome = PUSH_MOUNTED;
                        emit(j, it, REGISTRY_EVENT_MOUNTED, *from, 0);
                        return 0;
                }
        }
        return upload(j, h, it, err);
}

static struct push_item *take_next(struct push_job *j)
{
        struct push_item *it = NULL;
        pthread_mutex_lock(&j->lock);
        if (!j->failed && j->next < j->n)
                it = &j->items[j->next++];
        pthread_mutex_unlock(&j->lock);
        return it;
}

static void job_fail(struct push_job *j, struct st_error *e)
{
        pthread_mutex_lock(&j->lock);
        if (!j->failed) {
                j->failed = true;
                j->err = TAKE_PTR(e);
        }
        atomic_store(&j->c->cancelled, true);
        pthread_mutex_unlock(&j->lock);
        st_error_free(e);
}

static void *worker(void *userdata)
{
        struct push_job *j = userdata;
        CURL *h = http_easy_new();
        for (struct push_item *it; (it = take_next(j));) {
                struct st_error *e = NULL;
                if (push_item(j, h, it, &e) < 0) {
                        st_error_wrap(&e, "blob %s", it->digest);
                        job_fail(j, e);
                        break;
                }
        }
        curl_easy_cleanup(h);
        return NULL;
}

static int run_workers(struct push_job *j, unsigned max, struct st_error **err)
{
        unsigned n = (unsigned)MIN((size_t)max, j->n);
        pthread_t *t = xcalloc(n + 1, sizeof(*t));
        unsigned started = 0;
        for (; started < n; started++)
                if (pthread_create(&t[started], NULL, worker, j) != 0)
                        break;
        if (started == 0 && n > 0)
                worker(j);
        for (unsigned i = 0; i < started; i++)
                pthread_join(t[i], NULL);
        free(t);
        if (j->failed)
                return st_error_take(&j->err, -EIO, err);
        return 0;
}

/* ----- what to push ----- */

struct local_image {
        struct store_image *img;
        char *manifest;
        size_t manifest_len;
        struct image_manifest *m;
        struct image_config *cfg; /* or NULL: only for the short IDs */
        /* what is PUT: the stored manifest, or its conversion (push --format) */
        char *out;
        size_t out_len;
        const char *out_media_type;
        char out_digest[DIGEST_STR_LEN + 1];
};

static void local_release(struct local_image *l)
{
        store_image_free(l->img);
        free(l->manifest);
        image_manifest_free(l->m);
        image_config_free(l->cfg);
        free(l->out);
}

/* The manifest to PUT: as stored, or converted to MEDIA_TYPE (NULL: as stored) when the image
 * was built or pulled in the other format. */
static int output_manifest(struct local_image *l, const char *media_type, struct st_error **err)
{
        const char *mt = l->img->manifest_media_type ?: l->m->media_type ?: MEDIA_TYPE_OCI_MANIFEST;
        if (!media_type || streq(media_type, mt)) {
                l->out = xstrndup(l->manifest, l->manifest_len);
                l->out_len = l->manifest_len;
                l->out_media_type = mt;
                memcpy(l->out_digest, l->img->manifest_digest, sizeof(l->out_digest));
                return 0;
        }
        int r = image_manifest_convert(l->m, media_type, &l->out, &l->out_len, err);
        if (r < 0)
                return r;
        l->out_media_type = media_type;
        digest_buf(l->out, l->out_len, l->out_digest);
        return 0;
}

static int load_local(struct store *s, const char *name, struct local_image *l,
                      struct st_error **err)
{
        int r = store_image_lookup(s, name, &l->img, err);
        if (r < 0)
                return r;
        if (!l->img->manifest_digest)
                return st_error_set(err, ST_E_CORRUPT, "image %s has no manifest", l->img->id);
        r = store_blob_read(s, l->img->manifest_digest, IMAGE_MANIFEST_MAX, &l->manifest,
                            &l->manifest_len, err);
        if (r >= 0)
                r = image_manifest_parse(l->manifest, l->manifest_len, NULL, &l->m, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *cbuf = NULL;
        size_t clen = 0;
        if (store_blob_read(s, l->img->id, IMAGE_CONFIG_MAX, &cbuf, &clen, NULL) >= 0)
                (void)image_config_parse(cbuf, clen, &l->cfg, NULL);
        return 0;
}

static int plan_item(struct store *s, const struct image_ref *dest, struct push_item *it,
                     const struct image_descriptor *d, const char *short_src, struct st_error **err)
{
        if (!store_blob_exists(s, d->digest))
                return st_error_set(err, ST_E_CORRUPT,
                                    "blob %s of the image is not in the store (see 'strata system"
                                    " check')",
                                    d->digest);
        it->digest = d->digest;
        it->size = (uint64_t)d->size;
        snprintf(it->short_id, sizeof(it->short_id), "%.12s", digest_hex(short_src));
        _cleanup_strv_ char **sources = NULL;
        (void)store_blob_sources(s, d->digest, dest->domain, &sources, NULL);
        STRV_FOREACH(src, sources)
                if (!streq(*src, dest->path))
                        strv_push(&it->sources, *src);
        return 0;
}

static int plan(struct store *s, const struct image_ref *dest, const struct local_image *l,
                struct push_item **ret, size_t *ret_n, struct st_error **err)
{
        size_t n = l->m->n_layers;
        struct push_item *items = xcalloc(n + 1, sizeof(*items));
        bool diff_ids = l->cfg && strv_length(l->cfg->diff_ids) == n;
        int r = 0;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = plan_item(s, dest, &items[i], &l->m->layers[i],
                              diff_ids ? l->cfg->diff_ids[i] : l->m->layers[i].digest, err);
        if (r >= 0)
                r = plan_item(s, dest, &items[n], &l->m->config, l->m->config.digest, err);
        items[n].quiet = true;
        if (r < 0) {
                for (size_t i = 0; i <= n; i++)
                        strv_free(items[i].sources);
                free(items);
                return r;
        }
        *ret = items;
        *ret_n = n + 1;
        return 0;
}

static void remember(struct store *s, const struct image_ref *dest, const struct local_image *l,
                     const char *digest)
{
        (void)store_blob_source_add(s, l->m->config.digest, dest->domain, dest->path, NULL);
        for (size_t i = 0; i < l->m->n_layers; i++)
                (void)store_blob_source_add(s, l->m->layers[i].digest, dest->domain, dest->path,
                                            NULL);
        _cleanup_free_ char *repo = image_ref_repository(dest);
        _cleanup_free_ char *rd = xasprintf("%s@%s", repo, digest);
        (void)store_repo_digest_add(s, rd, l->img->id, NULL);
}

static void tally(const struct push_job *j, struct registry_push_result *ret)
{
        for (size_t i = 0; i < j->n; i++) {
                ret->blobs_uploaded += j->items[i].outcome == PUSH_UPLOADED;
                ret->blobs_mounted += j->items[i].outcome == PUSH_MOUNTED;
                ret->blobs_existing += j->items[i].outcome == PUSH_EXISTED;
        }
}

static void announce(const struct registry_push_opts *o, const struct image_ref *dest)
{
        if (!o->progress)
                return;
        _cleanup_free_ char *repo = image_ref_familiar_repository(dest);
        _cleanup_free_ char *text = xasprintf("The push refers to repository [%s]", repo);
        struct registry_event ev = { .type = REGISTRY_EVENT_PUSHING, .text = text };
        o->progress(&ev, o->userdata);
}

static int push_image(struct registry_client *c, struct store *s, const struct image_ref *dest,
                      const struct local_image *l, const struct registry_push_opts *o,
                      struct registry_push_result *ret, struct st_error **err)
{
        struct push_job j = { .c = c, .s = s, .progress = o->progress, .userdata = o->userdata };
        int r = plan(s, dest, l, &j.items, &j.n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < j.n; i++)
                emit(&j, &j.items[i], REGISTRY_EVENT_QUEUED, NULL, 0);
        pthread_mutex_init(&j.lock, NULL);
        unsigned max = o->max_parallel ?: REGISTRY_DEFAULT_UPLOADS;
        r = run_workers(&j, MIN(max, (unsigned)REGISTRY_MAX_PARALLEL), err);
        if (r >= 0)
                r = manifest_put(c, dest->digest ?: dest->tag, l->out, l->out_len,
                                 l->out_media_type, err);
        if (r >= 0) {
                memcpy(ret->digest, l->out_digest, sizeof(ret->digest));
                ret->size = l->out_len;
                tally(&j, ret);
                remember(s, dest, l, ret->digest);
        }
        for (size_t i = 0; i < j.n; i++)
                strv_free(j.items[i].sources);
        free(j.items);
        pthread_mutex_destroy(&j.lock);
        return r;
}

int registry_push(struct registry_ctx *ctx, struct store *s, const char *local,
                  const struct image_ref *dest, const struct registry_push_opts *o,
                  struct registry_push_result *ret, struct st_error **err)
{
        struct local_image l = { 0 };
        _cleanup_client_ struct registry_client *c = NULL;
        int r = store_lock(s, false, err);
        if (r >= 0)
                r = load_local(s, local, &l, err);
        if (r >= 0)
                r = output_manifest(&l, o->manifest_media_type, err);
        if (r >= 0 && dest->digest && !streq(dest->digest, l.out_digest))
                r = st_error_set(err, ST_E_USAGE, "the image's manifest is %s, not %s",
                                 l.out_digest, dest->digest);
        if (r >= 0) {
                announce(o, dest);
                r = client_new(ctx, dest->domain, dest->path, "pull,push", &c, err);
        }
        struct registry_push_result res = { 0 };
        if (r >= 0)
                r = push_image(c, s, dest, &l, o, &res, err);
        local_release(&l);
        if (r >= 0)
                *ret = res;
        return r;
}
