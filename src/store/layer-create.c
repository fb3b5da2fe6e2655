#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "compress/compress.h"
#include "image/manifest.h"
#include "store/store-internal.h"

#define DEFAULT_MAX_LAYER_BYTES (64ULL << 30) /* 64 GiB of tar per layer */

static uint64_t max_layer_bytes;

void store_set_max_layer_bytes(uint64_t bytes)
{
        max_layer_bytes = bytes;
}

uint64_t store_max_layer_bytes(void)
{
        return max_layer_bytes ? max_layer_bytes : DEFAULT_MAX_LAYER_BYTES;
}

/* Every stage of the one-pass pipeline, so they can be freed together. */
struct pipeline {
        struct st_reader *in_digest; /* hashes the bytes as given */
        struct st_writer *raw_file;  /* keep_blob: the given bytes to the blob file */
        struct st_reader *raw_tee;
        struct st_reader *decompress;
        struct st_reader *tar_digest; /* hashes the uncompressed tar: the diff ID */
        struct st_writer *blob_file;  /* recompress: gzip -> digest -> file */
        struct st_writer *blob_digest;
        struct st_writer *gzip;
        struct st_reader *tar_tee;
        struct st_reader *ahead; /* runs everything above on a thread of its own */
        struct st_reader *tar;   /* what the extractor reads */
        int blob_fd;
        char *blob_tmp;
        char *staging;
        struct archive_crcs *crcs; /* the CRCs the extraction computed, for the tree digest */
};

static void pipeline_release(struct pipeline *p)
{
        st_reader_free(p->ahead);
        st_reader_free(p->tar_tee);
        st_writer_free(p->gzip);
        st_writer_free(p->blob_digest);
        st_writer_free(p->blob_file);
        st_reader_free(p->tar_digest);
        st_reader_free(p->decompress);
        st_reader_free(p->raw_tee);
        st_writer_free(p->raw_file);
        st_reader_free(p->in_digest);
        safe_close(p->blob_fd);
        archive_crcs_free(p->crcs);
        if (p->blob_tmp)
                (void)unlink(p->blob_tmp);
        free(p->blob_tmp);
        if (p->staging)
                (void)rm_rf_at(AT_FDCWD, p->staging);
        free(p->staging);
}

static int pipeline_build(struct store *s, const struct store_layer_source *src, struct pipeline *p,
                          struct st_error **err)
{
        p->in_digest = digest_reader_new(src->in);
        struct st_reader *cur = p->in_digest;
        bool link_in = src->keep_blob && src->in_path;
        if ((src->keep_blob && !link_in) || src->recompress) {
                int r = store_tmp_file(s, "blob", &p->blob_fd, &p->blob_tmp, err);
                if (r < 0)
                        return r;
                p->blob_file = st_fd_writer_new_writeback(p->blob_fd);
        }
        if (src->keep_blob && !link_in) {
                p->raw_tee = st_tee_reader_new(cur, p->blob_file);
                cur = p->raw_tee;
        }
        uint64_t max = src->max_bytes ? src->max_bytes : store_max_layer_bytes();
        int r = decompress_reader_new(cur, max, &p->decompress, err);
        if (r < 0)
                return r;
        p->tar_digest = digest_reader_new(p->decompress);
        p->tar = p->tar_digest;
        if (src->recompress && !src->keep_blob) {
                p->blob_digest = digest_writer_new(p->blob_file);
                p->gzip = compress_writer_new(COMPRESS_GZIP, 0, p->blob_digest);
                p->tar_tee = st_tee_reader_new(p->tar_digest, p->gzip);
                p->tar = p->tar_tee;
        }
        /* input, hashes and decompression on one core, extraction on the other */
        p->ahead = st_readahead_reader_new(p->tar);
        p->tar = p->ahead;
        return store_tmp_mkdir(s, "layer", &p->staging, err);
}

/* Read what the extractor left (tar padding, trailing blocks) so the digests cover it all. */
static int drain(struct st_reader *r, struct st_error **err)
{
        char buf[64 * 1024];
        for (;;) {
                ssize_t n = st_reader_read(r, buf, sizeof(buf));
                if (n < 0)
                        return st_error_take(&r->err, (int)n, err);
                if (n == 0)
                        return 0;
        }
}

static int run_extract(struct pipeline *p, const struct store_layer_source *src,
                       struct store_layer_result *res, struct st_error **err)
{
        _cleanup_free_ char *diff = xasprintf("%s/diff", p->staging);
        if (mkdir(diff, 0755) < 0)
                return st_error_set_errno(err, -errno, "create '%s'", diff);
        _cleanup_close_ int dfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", diff);
        if (!p->crcs)
                p->crcs = archive_crcs_new();
        struct archive_apply_opts o = { .max_bytes = src->max_bytes ?: store_max_layer_bytes(),
                                        .crcs = p->crcs };
        struct archive_apply_stats stats = { 0 };
        int r = archive_layer_apply(p->tar, dfd, &o, &stats, err);
        if (r < 0)
                return r;
        r = drain(p->tar, err);
        if (r < 0)
                return st_error_wrap(err, "read layer");
        st_readahead_reader_stop(p->ahead); /* the chain below is ours again */
        if (p->gzip) {
                r = st_writer_close(p->gzip);
                if (r < 0)
                        return st_error_take(&p->gzip->err, r, err);
        }
        res->size = stats.bytes;
        return 0;
}

static int verify(struct pipeline *p, const struct store_layer_source *src,
                  struct store_layer_result *res, struct st_error **err)
{
        char in[DIGEST_STR_LEN + 1];
        digest_reader_final(p->in_digest, in);
        digest_reader_final(p->tar_digest, res->diff_id);
        if (src->expected_digest && !streq(in, src->expected_digest))
                return st_error_set(err, ST_E_DIGEST_MISMATCH,
                                    "layer content hashes to %s, expected %s", in,
                                    src->expected_digest);
        if (src->expected_diff_id && !streq(res->diff_id, src->expected_diff_id))
                return st_error_set(err, ST_E_DIGEST_MISMATCH,
                                    "uncompressed layer hashes to %s, expected diff ID %s",
                                    res->diff_id, src->expected_diff_id);
        if (src->keep_blob) {
                memcpy(res->digest, in, sizeof(in));
                res->blob_size = p->in_digest->total;
                enum compress_type t = decompress_reader_type(p->decompress);
                const char *mt = src->media_type      ? src->media_type
                                 : t == COMPRESS_GZIP ? MEDIA_TYPE_OCI_LAYER_GZIP
                                 : t == COMPRESS_ZSTD ? MEDIA_TYPE_OCI_LAYER_ZSTD
                                                      : MEDIA_TYPE_OCI_LAYER;
                snprintf(res->media_type, sizeof(res->media_type), "%s", mt);
        } else if (src->recompress) {
                digest_writer_final(p->blob_digest, res->digest);
                res->blob_size = p->blob_digest->total;
                snprintf(res->media_type, sizeof(res->media_type), "%s", MEDIA_TYPE_OCI_LAYER_GZIP);
        }
        return 0;
}

/* Hardlink the input file to a fresh staging name that store_blob_commit may rename. */
static int link_input(struct store *s, const char *in_path, struct pipeline *p,
                      struct st_error **err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *tmp = NULL;
        int r = store_tmp_file(s, "blob", &fd, &tmp, err);
        if (r < 0)
                return r;
        if (unlink(tmp) < 0 || link(in_path, tmp) < 0)
                return st_error_set_errno(err, -errno, "link '%s'", in_path);
        free(p->blob_tmp);
        p->blob_tmp = TAKE_PTR(tmp);
        return 0;
}

static int commit(struct store *s, struct pipeline *p, const struct store_layer_source *src,
                  struct store_layer_result *res, struct st_error **err)
{
        store_chain_id(src->parent, res->diff_id, res->chain_id);
        int r;
        if (src->before_commit) {
                r = src->before_commit(src->userdata, err);
                if (r < 0)
                        return r;
        }
        if (res->digest[0] && src->in_path && src->keep_blob) {
                r = link_input(s, src->in_path, p, err);
                if (r < 0)
                        return r;
        }
        if (res->digest[0]) {
                r = store_blob_commit(s, p->blob_tmp, res->digest, err);
                if (r < 0)
                        return r;
                p->blob_tmp = mfree_str(p->blob_tmp);
                r = store_layer_blob_record(s, res->digest, res->diff_id, res->media_type,
                                            res->blob_size, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *diff = xasprintf("%s/diff", p->staging);
        _cleanup_close_ int dfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char tree[DIGEST_STR_LEN + 1];
        if (dfd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", diff);
        r = archive_tree_digest_crcs(dfd, p->crcs, tree, err);
        if (r < 0)
                return r;
        struct store_layer l = {
                .chain_id = res->chain_id,
                .diff_id = res->diff_id,
                .parent = (char *)src->parent,
                .size = res->size,
                .tree_digest = tree,
        };
        r = store_layer_commit(s, p->staging, &l, err);
        if (r < 0)
                return r;
        p->staging = mfree_str(p->staging);
        return 0;
}

/* When extraction failed on input that does not match its expected digest, the mismatch is the
 * error to report: read the rest of the input to find out. */
static int blame_digest(struct pipeline *p, const struct store_layer_source *src, int r,
                        struct st_error **err)
{
        if (!src->expected_digest || !p->in_digest)
                return r;
        _cleanup_error_ struct st_error *ignored = NULL;
        st_readahead_reader_stop(p->ahead); /* the chain below is ours again */
        if (drain(p->raw_tee ?: p->in_digest, &ignored) < 0)
                return r;
        char in[DIGEST_STR_LEN + 1];
        digest_reader_final(p->in_digest, in);
        if (streq(in, src->expected_digest))
                return r;
        if (err) {
                *err = st_error_free(*err);
                st_error_set(err, ST_E_DIGEST_MISMATCH, "layer content hashes to %s, expected %s",
                             in, src->expected_digest);
        }
        return ST_E_DIGEST_MISMATCH;
}

int store_layer_create(struct store *s, const struct store_layer_source *src,
                       struct store_layer_result *ret, struct st_error **err)
{
        struct pipeline p = { .blob_fd = -1 };
        struct store_layer_result res = { 0 };
        int r = store_lock(s, false, err);
        if (r >= 0)
                r = pipeline_build(s, src, &p, err);
        if (r >= 0) {
                r = run_extract(&p, src, &res, err);
                if (r < 0)
                        r = blame_digest(&p, src, r, err);
        }
        if (r >= 0)
                r = verify(&p, src, &res, err);
        if (r >= 0)
                r = commit(s, &p, src, &res, err);
        pipeline_release(&p);
        if (r < 0)
                return r;
        *ret = res;
        return 0;
}
