/* store_layer_from_dir: a diff dir becomes a layer; the dir moves, nothing is extracted. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "compress/compress.h"
#include "image/manifest.h"
#include "store/store-internal.h"

static const char *layer_media_type(enum compress_type type)
{
        switch (type) {
        case COMPRESS_GZIP:
                return MEDIA_TYPE_OCI_LAYER_GZIP;
        case COMPRESS_ZSTD:
                return MEDIA_TYPE_OCI_LAYER_ZSTD;
        default:
                return MEDIA_TYPE_OCI_LAYER;
        }
}

/* Write DIRFD as tar → diffID → compressor → blob file at TMP; fills RES's digests and sizes. */
static int write_blob(int dirfd, int blob_fd, enum compress_type type, int level, int64_t epoch,
                      struct archive_crcs *crcs, struct store_layer_result *res,
                      struct st_error **err)
{
        struct st_writer *file = st_fd_writer_new_writeback(blob_fd);
        struct st_writer *blob = digest_writer_new(file);
        struct st_writer *gz = compress_writer_new(type, level, blob);
        struct st_writer *tar = digest_writer_new(gz);
        struct archive_write_stats stats = { 0 };
        int r = archive_layer_write_clamped(dirfd, epoch, crcs, tar, &stats, err);
        if (r >= 0) {
                r = st_writer_close(gz);
                if (r < 0)
                        st_error_take(&gz->err, r, err);
        }
        if (r >= 0) {
                digest_writer_final(tar, res->diff_id);
                digest_writer_final(blob, res->digest);
                res->blob_size = blob->total;
                res->size = stats.bytes;
                snprintf(res->media_type, sizeof(res->media_type), "%s", layer_media_type(type));
        }
        st_writer_free(tar);
        st_writer_free(gz);
        st_writer_free(blob);
        st_writer_free(file);
        return r;
}

#define REMOVE_LATER_MIN (64 * 1024 * 1024) /* below, a removal is quick enough to wait for */

/* Move DIR to STAGING/diff and commit it as the layer RES->chain_id. */
static int move_and_commit(struct store *s, const char *dir, const char *parent,
                           const struct archive_crcs *crcs, struct store_layer_result *res,
                           struct st_error **err)
{
        _cleanup_store_layer_ struct store_layer *have = NULL;
        if (store_layer_get(s, res->chain_id, &have, NULL) >= 0) {
                /* stored already (a --no-cache rebuild, an identical step): no tree digest to
                 * compute, and a big copy goes away without the caller waiting for it */
                if (res->size >= REMOVE_LATER_MIN)
                        store_remove_later(s, dir);
                else
                        (void)rm_rf_at(AT_FDCWD, dir);
                return 0;
        }
        _cleanup_free_ char *staging = NULL;
        int r = store_tmp_mkdir(s, "layer", &staging, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *diff = xasprintf("%s/diff", staging);
        if (rename(dir, diff) < 0) {
                r = st_error_set_errno(err, -errno, "move '%s' into the layer store", dir);
                (void)rm_rf_at(AT_FDCWD, staging);
                return r;
        }
        char tree[DIGEST_STR_LEN + 1];
        _cleanup_close_ int dfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = dfd < 0 ? st_error_set_errno(err, -errno, "open '%s'", diff)
                    : archive_tree_digest_crcs(dfd, crcs, tree, err);
        struct store_layer l = {
                .chain_id = res->chain_id,
                .diff_id = res->diff_id,
                .parent = (char *)parent,
                .size = res->size,
                .tree_digest = tree,
        };
        if (r >= 0)
                r = store_layer_commit(s, staging, &l, err);
        if (r < 0)
                (void)rm_rf_at(AT_FDCWD, staging);
        return r;
}

int store_layer_from_dir(struct store *s, const char *dir, const char *parent,
                         enum compress_type type, int level, struct store_layer_result *ret,
                         struct st_error **err)
{
        return store_layer_from_dir_clamped(s, dir, parent, type, level, -1, ret, err);
}

int store_layer_from_dir_clamped(struct store *s, const char *dir, const char *parent,
                                 enum compress_type type, int level, int64_t epoch,
                                 struct store_layer_result *ret, struct st_error **err)
{
        if (type < 0 || type >= _COMPRESS_MAX) {
                (void)rm_rf_at(AT_FDCWD, dir);
                return st_error_set(err, ST_E_UNSUPPORTED, "unknown layer compression %d",
                                    (int)type);
        }
        struct store_layer_result res = { 0 };
        _cleanup_close_ int blob_fd = -1;
        _cleanup_free_ char *blob_tmp = NULL;
        /* the tar writer reads every file: the tree digest takes their CRCs from it */
        _cleanup_(archive_crcs_freep) struct archive_crcs *crcs = archive_crcs_new();
        int r = store_lock(s, false, err);
        if (r >= 0)
                r = store_tmp_file(s, "blob", &blob_fd, &blob_tmp, err);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r >= 0 && dfd < 0)
                r = st_error_set_errno(err, -errno, "open '%s'", dir);
        if (r >= 0)
                r = write_blob(dfd, blob_fd, type, level, epoch, crcs, &res, err);
        if (r >= 0) {
                store_chain_id(parent, res.diff_id, res.chain_id);
                r = store_blob_commit(s, blob_tmp, res.digest, err);
                if (r >= 0)
                        blob_tmp = mfree_str(blob_tmp);
        }
        if (r >= 0)
                r = store_layer_blob_record(s, res.digest, res.diff_id, res.media_type,
                                            res.blob_size, err);
        if (r >= 0)
                r = move_and_commit(s, dir, parent, crcs, &res, err);
        if (blob_tmp)
                (void)unlink(blob_tmp);
        if (r < 0) {
                (void)rm_rf_at(AT_FDCWD, dir);
                return r;
        }
        *ret = res;
        return 0;
}
