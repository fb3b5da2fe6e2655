/* Resolving a reference as pull does: the manifest it names (an index to the platform's
 * manifest), then the verified config; and registry_image_fetch, which stops there. */
#include <errno.h>

#include "basic/util.h"
#include "image/config.h"
#include "registry/protocol.h"
#include "registry/registry-internal.h"

void registry_resolved_release(struct registry_resolved *r)
{
        fetched_manifest_release(&r->top);
        fetched_manifest_release(&r->manifest);
        image_manifest_free(r->m);
        free(r->config);
        image_config_free(r->cfg);
}

static int from_index(struct registry_client *c, struct registry_resolved *res,
                      const struct registry_platform *p, struct st_error **err)
{
        _cleanup_index_ struct image_index *idx = NULL;
        int r = image_index_parse(res->top.buf, res->top.len, res->top.media_type, &idx, err);
        if (r < 0)
                return r;
        const struct image_descriptor *d = registry_platform_select(idx, p);
        if (!d) {
                _cleanup_free_ char *ps = registry_platform_string(p);
                return st_error_set(err, ST_E_MANIFEST_UNKNOWN,
                                    "no matching manifest for %s in the manifest list entries", ps);
        }
        if (image_media_type_is_index(d->media_type))
                return st_error_set(err, ST_E_UNSUPPORTED,
                                    "nested manifest lists are not"
                                    " supported");
        r = manifest_get(c, d->digest, &res->manifest, err);
        if (r >= 0 && (int64_t)res->manifest.len != d->size)
                r = st_error_set(err, ST_E_DIGEST_MISMATCH, "manifest %s is %zu bytes, not %lld",
                                 d->digest, res->manifest.len, (long long)d->size);
        return r;
}

static int check_config(const struct registry_resolved *res, const struct registry_platform *p,
                        bool strict, struct st_error **err)
{
        if (strv_length(res->cfg->diff_ids) != res->m->n_layers)
                return st_error_set(err, ST_E_PARSE,
                                    "the manifest has %zu layers but the config lists %zu diff IDs",
                                    res->m->n_layers, strv_length(res->cfg->diff_ids));
        for (size_t i = 0; i < res->m->n_layers; i++)
                if (!image_media_type_is_layer(res->m->layers[i].media_type))
                        return st_error_set(err, ST_E_UNSUPPORTED,
                                            "layer %zu has media type '%.100s', not a layer", i,
                                            res->m->layers[i].media_type);
        struct image_platform have = { .os = res->cfg->os,
                                       .architecture = res->cfg->architecture,
                                       .variant = res->cfg->variant };
        if (strict && !registry_platform_matches(p, &have)) {
                _cleanup_free_ char *ps = registry_platform_string(p);
                return st_error_set(err, ST_E_MANIFEST_UNKNOWN,
                                    "image is for %s/%s, not the requested %s", res->cfg->os ?: "?",
                                    res->cfg->architecture ?: "?", ps);
        }
        return 0;
}

/* The config: the store's copy if it has one (read verified), else the registry's. */
static int fetch_config(struct registry_client *c, struct store *s, struct registry_resolved *res,
                        struct st_error **err)
{
        const struct image_descriptor *d = &res->m->config;
        if (s && store_blob_exists(s, d->digest) &&
            store_blob_read(s, d->digest, IMAGE_CONFIG_MAX, &res->config, &res->config_len, NULL) >=
                    0)
                return 0;
        return blob_fetch(c, d->digest, d->size, IMAGE_CONFIG_MAX, &res->config, &res->config_len,
                          err);
}

int registry_resolve(struct registry_client *c, struct store *s, const struct image_ref *ref,
                     const struct registry_platform *p, bool strict, struct registry_resolved *res,
                     struct st_error **err)
{
        int r = manifest_get(c, ref->digest ?: ref->tag, &res->top, err);
        if (r >= 0 && image_media_type_is_index(res->top.media_type))
                r = from_index(c, res, p, err);
        else if (r >= 0) {
                res->manifest = res->top;
                res->manifest.buf = xstrdup(res->top.buf);
                res->manifest.media_type = xstrdup(res->top.media_type);
        }
        if (r >= 0)
                r = image_manifest_parse(res->manifest.buf, res->manifest.len,
                                         res->manifest.media_type, &res->m, err);
        if (r >= 0)
                r = fetch_config(c, s, res, err);
        if (r >= 0)
                r = image_config_parse(res->config, res->config_len, &res->cfg, err);
        if (r >= 0)
                r = check_config(res, p, strict, err);
        return r;
}

int registry_image_fetch(struct registry_ctx *ctx, const struct image_ref *ref,
                         const char *platform, struct registry_remote_image *ret,
                         struct st_error **err)
{
        struct registry_platform p;
        int r = registry_platform_parse(platform ?: "linux/amd64", &p, err);
        _cleanup_client_ struct registry_client *c = NULL;
        struct registry_resolved res = { 0 };
        if (r >= 0)
                r = client_new(ctx, ref->domain, ref->path, "pull", &c, err);
        if (r >= 0)
                r = registry_resolve(c, NULL, ref, &p, platform != NULL, &res, err);
        if (r >= 0) {
                struct registry_remote_image img = { 0 };
                memcpy(img.digest, res.top.digest, sizeof(img.digest));
                memcpy(img.manifest_digest, res.manifest.digest, sizeof(img.manifest_digest));
                img.manifest_media_type = TAKE_PTR(res.manifest.media_type);
                img.manifest = TAKE_PTR(res.manifest.buf);
                img.manifest_len = res.manifest.len;
                img.config = TAKE_PTR(res.config);
                img.config_len = res.config_len;
                for (size_t i = 0; i < res.m->n_layers; i++)
                        img.layers_size += (uint64_t)res.m->layers[i].size;
                *ret = img;
        }
        registry_resolved_release(&res);
        return r;
}

void registry_remote_image_release(struct registry_remote_image *img)
{
        free(img->manifest);
        free(img->manifest_media_type);
        free(img->config);
        *img = (struct registry_remote_image){ 0 };
}
