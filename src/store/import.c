#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/util.h"
#include "image/config.h"
#include "image/manifest.h"
#include "store/store-internal.h"

static int build_config(const struct store_import_opts *o, const struct store_layer_result *l,
                        struct image_config **ret, struct st_error **err)
{
        _cleanup_free_ char *now = image_time_now();
        _cleanup_config_ struct image_config *c = image_config_new(now);
        _cleanup_free_ char *comment =
                o->message ? xstrdup(o->message)
                           : xasprintf("Imported from %s", o->source ? o->source : "-");
        image_config_add_history(c, l->diff_id, now, "", NULL, comment, false);
        STRV_FOREACH(ch, o->changes) {
                int r = image_config_apply_change(c, *ch, err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

/* An OCI manifest for a config and its layers, stored as a blob; digest into RET. */
static int put_manifest(struct store *s, const char *config_digest, size_t config_size,
                        const struct store_layer_result *layers, size_t n, char *ret,
                        struct st_error **err)
{
        struct image_manifest m = {
                .schema_version = 2,
                .media_type = (char *)MEDIA_TYPE_OCI_MANIFEST,
                .config = { .media_type = (char *)MEDIA_TYPE_OCI_CONFIG,
                            .digest = (char *)config_digest,
                            .size = (int64_t)config_size },
                .n_layers = n,
        };
        _cleanup_free_ struct image_descriptor *d = xcalloc(n, sizeof(*d));
        for (size_t i = 0; i < n; i++)
                d[i] = (struct image_descriptor){ .media_type = (char *)layers[i].media_type,
                                                  .digest = (char *)layers[i].digest,
                                                  .size = (int64_t)layers[i].blob_size };
        m.layers = d;
        _cleanup_free_ char *text = image_manifest_write(&m);
        return store_blob_put(s, text, strlen(text), ret, err);
}

int store_import(struct store *s, struct st_reader *in, const struct store_import_opts *o,
                 char *ret_id, struct st_error **err)
{
        struct store_layer_source src = { .in = in, .recompress = true };
        struct store_layer_result layer;
        int r = store_layer_create(s, &src, &layer, err);
        if (r < 0)
                return r;
        _cleanup_config_ struct image_config *c = NULL;
        r = build_config(o, &layer, &c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *cfg = image_config_write(c);
        char id[DIGEST_STR_LEN + 1], manifest[DIGEST_STR_LEN + 1];
        r = store_blob_put(s, cfg, strlen(cfg), id, err);
        if (r >= 0)
                r = put_manifest(s, id, strlen(cfg), &layer, 1, manifest, err);
        if (r < 0)
                return r;
        int64_t created = 0;
        (void)image_time_parse(c->created, &created);
        char *chain[] = { layer.chain_id, NULL };
        char *blobs[] = { id, manifest, layer.digest, NULL };
        struct store_image_new img = {
                .id = id,
                .manifest_digest = manifest,
                .manifest_media_type = MEDIA_TYPE_OCI_MANIFEST,
                .created = created,
                .chain_ids = chain,
                .blobs = blobs,
                .tags = o->tags,
        };
        r = store_image_add(s, &img, err);
        if (r < 0)
                return r;
        memcpy(ret_id, id, sizeof(id));
        return 0;
}
