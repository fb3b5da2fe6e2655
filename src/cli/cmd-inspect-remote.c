/* strata inspect --remote: a registry image shown as `strata inspect` shows a local one, from
 * its manifest and config alone (no layer is fetched, nothing is stored). */
#include "basic/util.h"
#include "cli/output.h"
#include "cli/remote.h"
#include "digest/digest.h"
#include "image/reference.h"

int cli_inspect_remote(struct registry_ctx *ctx, const char *name, const char *platform,
                       json_t **ret, struct st_error **err)
{
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        struct registry_remote_image img = { 0 };
        _cleanup_config_ struct image_config *cfg = NULL;
        int r = image_ref_parse(name, &ref, err);
        if (r >= 0)
                r = registry_image_fetch(ctx, ref, platform, &img, err);
        if (r >= 0)
                r = image_config_parse(img.config, img.config_len, &cfg, err);
        if (r < 0) {
                registry_remote_image_release(&img);
                return st_error_wrap(err, "inspect '%s'", name);
        }
        char id[DIGEST_STR_LEN + 1];
        digest_buf(img.config, img.config_len, id);
        _cleanup_strv_ char **tags = NULL, **digests = NULL;
        if (ref->tag && !ref->digest)
                strv_consume(&tags, image_ref_string(ref));
        _cleanup_free_ char *repo = image_ref_repository(ref);
        strv_consume(&digests, xasprintf("%s@%s", repo, img.digest));
        *ret = cli_image_inspect_json(cfg, id, tags, digests, (int64_t)img.layers_size, NULL);
        registry_remote_image_release(&img);
        return 0;
}
