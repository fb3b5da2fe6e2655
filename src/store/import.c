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

char *store_oci_manifest(const char *config_digest, size_t config_size,
                         const struct store_layer_result *layers, size_t n)
{
        struct image_manifest m = {
                .schema_version = 2,
                .media_type = (char *)MEDIA_TYPE_OCI_MANIFEST,
                .config = { .media_type = (char *)MEDIA_TYPE_OCI_CONFIG,
                            .digest = (char *)config_digest,
                            .size = (int64_t)config_size },
                .n_layers = n,
        };
        _cleanup_free_ struct image_descriptor *d = xcalloc(n + 1, sizeof(*d));
        for (size_t i = 0; i < n; i++)
                d[i] = (struct image_descriptor){ .media_type = (char *)layers[i].media_type,
                                                  .digest = (char *)layers[i].digest,
                                                  .size = (int64_t)layers[i].blob_size };
        m.layers = d;
        return image_manifest_write(&m);
}

int store_image_commit(struct store *s, const char *cfg, size_t cfg_len, const char *created,
                       const char *man, size_t man_len, const char *man_type,
                       const struct store_layer_result *layers, size_t n, char **tags, char *ret_id,
                       struct st_error **err)
{
        char id[DIGEST_STR_LEN + 1], man_digest[DIGEST_STR_LEN + 1];
        _cleanup_free_ char *own_man = NULL;
        int r = store_blob_put(s, cfg, cfg_len, id, err);
        if (r < 0)
                return r;
        if (!man) {
                man = own_man = store_oci_manifest(id, cfg_len, layers, n);
                man_len = strlen(man);
                man_type = MEDIA_TYPE_OCI_MANIFEST;
        }
        r = store_blob_put(s, man, man_len, man_digest, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **chain = NULL, **blobs = NULL;
        strv_push(&blobs, id);
        strv_push(&blobs, man_digest);
        for (size_t i = 0; i < n; i++) {
                strv_push(&chain, layers[i].chain_id);
                strv_push(&blobs, layers[i].digest);
        }
        int64_t t = 0;
        if (created)
                (void)image_time_parse(created, &t);
        struct store_image_new img = {
                .id = id,
                .manifest_digest = man_digest,
                .manifest_media_type = man_type,
                .created = t,
                .chain_ids = chain,
                .blobs = blobs,
                .tags = tags,
        };
        r = store_image_add(s, &img, err);
        if (r < 0)
                return r;
        memcpy(ret_id, id, sizeof(id));
        return 0;
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
        return store_image_commit(s, cfg, strlen(cfg), c->created, NULL, 0, NULL, &layer, 1,
                                  o->tags, ret_id, err);
}
