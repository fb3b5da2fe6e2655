/* What pull and push record about registries: blob sources for cross-repository mounts, repo
 * digests, and images committed from a registry's manifest and config. */
#include <time.h>

#include "basic/util.h"
#include "image/config.h"
#include "store/store-internal.h"

#define MAX_SOURCES 8

int store_blob_source_add(struct store *s, const char *digest, const char *registry,
                          const char *repository, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "INSERT OR REPLACE INTO blob_sources (digest, registry, repository,"
                           " added) VALUES (?, ?, ?, ?)",
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, digest);
        db_bind_text(st, 2, registry);
        db_bind_text(st, 3, repository);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
        return db_step_done(s, st, err);
}

int store_blob_sources(struct store *s, const char *digest, const char *registry, char ***ret,
                       struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "SELECT repository FROM blob_sources WHERE digest = ? AND registry = ?"
                           " ORDER BY added DESC, repository LIMIT " STRINGIFY(MAX_SOURCES),
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, digest);
        db_bind_text(st, 2, registry);
        _cleanup_strv_ char **l = NULL;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                strv_consume(&l, db_column_strdup(st, 0) ?: xstrdup(""));
        if (rc != SQLITE_DONE)
                return db_error(s, rc, "query blob sources", err);
        *ret = TAKE_PTR(l);
        return 0;
}

int store_repo_digest_add(struct store *s, const char *name, const char *id, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s, "INSERT OR IGNORE INTO repo_digests (name, image_id) VALUES (?, ?)",
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, name);
        db_bind_text(st, 2, id);
        return db_step_done(s, st, err);
}

int store_image_commit_pulled(struct store *s, const struct store_pulled_image *img, char *ret_id,
                              struct st_error **err)
{
        char id[DIGEST_STR_LEN + 1], man_digest[DIGEST_STR_LEN + 1];
        int r = store_blob_put(s, img->config, img->config_len, id, err);
        if (r >= 0)
                r = store_blob_put(s, img->manifest, img->manifest_len, man_digest, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **chain = NULL, **blobs = NULL;
        strv_push(&blobs, id);
        strv_push(&blobs, man_digest);
        for (size_t i = 0; i < img->n_layers; i++) {
                strv_push(&chain, img->layers[i].chain_id);
                strv_push(&blobs, img->layers[i].digest);
        }
        int64_t t = 0;
        if (img->created)
                (void)image_time_parse(img->created, &t);
        struct store_image_new n = {
                .id = id,
                .manifest_digest = man_digest,
                .manifest_media_type = img->manifest_media_type,
                .created = t,
                .chain_ids = chain,
                .blobs = blobs,
                .tags = img->tags,
                .repo_digests = img->repo_digests,
        };
        r = store_image_add(s, &n, err);
        if (r < 0)
                return r;
        memcpy(ret_id, id, sizeof(id));
        return 0;
}
