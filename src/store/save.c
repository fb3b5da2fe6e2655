/* store_save: images to a tar that is an OCI layout and a docker-archive at once. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/util.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "json/json.h"
#include "store/store-internal.h"

struct save_ctx {
        struct store *s;
        struct archive *a;
        struct st_writer *out;
        struct st_error *out_err;
        char **written; /* blob digests already in the tar */
        json_t *index;  /* index.json manifests array */
        json_t *docker; /* manifest.json */
};

static la_ssize_t write_cb(struct archive *a, void *u, const void *buf, size_t n)
{
        struct save_ctx *c = u;
        int r = st_writer_write(c->out, buf, n);
        if (r < 0) {
                archive_set_error(a, -r, "%s", st_error_msg(c->out->err));
                return -1;
        }
        return (la_ssize_t)n;
}

static int tar_error(struct save_ctx *c, struct st_error **err)
{
        if (c->out->err)
                return st_error_take(&c->out->err, -EIO, err);
        return st_error_set(err, -EIO, "write archive: %s", archive_error_string(c->a));
}

static int add_header(struct save_ctx *c, const char *name, mode_t type, int64_t size,
                      struct st_error **err)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
        archive_entry_set_mtime(e, 0, 0);
        int r = archive_write_header(c->a, e);
        archive_entry_free(e);
        return r == ARCHIVE_OK ? 0 : tar_error(c, err);
}

static int add_buffer(struct save_ctx *c, const char *name, const char *buf, size_t len,
                      struct st_error **err)
{
        int r = add_header(c, name, AE_IFREG, (int64_t)len, err);
        if (r < 0)
                return r;
        if (archive_write_data(c->a, buf, len) != (la_ssize_t)len)
                return tar_error(c, err);
        return 0;
}

static int add_blob(struct save_ctx *c, const char *digest, struct st_error **err)
{
        if (strv_contains(c->written, digest))
                return 0;
        _cleanup_close_ int fd = -1;
        int r = store_blob_open(c->s, digest, &fd, err);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return st_error_set_errno(err, -errno, "stat blob %s", digest);
        _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(digest));
        r = add_header(c, name, AE_IFREG, st.st_size, err);
        if (r < 0)
                return r;
        char buf[128 * 1024];
        for (int64_t left = st.st_size; left > 0;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return st_error_set_errno(err, n < 0 ? -errno : -EIO, "read blob %s",
                                                  digest);
                if (archive_write_data(c->a, buf, (size_t)n) != n)
                        return tar_error(c, err);
                left -= n;
        }
        strv_push(&c->written, digest);
        return 0;
}

/* Add IMG's blobs and its entries in index.json and manifest.json. */
static int save_image(struct save_ctx *c, const struct store_image *img, const char *tag,
                      struct st_error **err)
{
        if (!img->manifest_digest)
                return st_error_set(err, ST_E_CORRUPT, "image %s has no manifest", img->id);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_manifest_ struct image_manifest *m = NULL;
        int r = store_blob_read(c->s, img->manifest_digest, IMAGE_MANIFEST_MAX, &buf, &len, err);
        if (r >= 0)
                r = image_manifest_parse(buf, len, NULL, &m, err);
        if (r >= 0)
                r = add_blob(c, img->id, err);
        json_t *layers = json_array();
        for (size_t i = 0; r >= 0 && i < m->n_layers; i++) {
                r = add_blob(c, m->layers[i].digest, err);
                json_array_append_new(
                        layers, json_sprintf("blobs/sha256/%s", digest_hex(m->layers[i].digest)));
        }
        if (r >= 0)
                r = add_blob(c, img->manifest_digest, err);
        if (r < 0) {
                json_decref(layers);
                return r;
        }
        json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType",
                                 img->manifest_media_type ?: MEDIA_TYPE_OCI_MANIFEST, "digest",
                                 img->manifest_digest, "size", (json_int_t)len);
        json_t *tags = json_array();
        if (tag) {
                _cleanup_free_ char *fam = image_ref_familiarize(tag);
                _cleanup_image_ref_ struct image_ref *ref = NULL;
                json_array_append_new(tags, json_string(fam));
                if (image_ref_parse(tag, &ref, NULL) >= 0)
                        json_object_set_new(desc, "annotations",
                                            json_pack("{s:s, s:s}", "io.containerd.image.name", tag,
                                                      "org.opencontainers.image.ref.name",
                                                      ref->tag ?: "latest"));
        }
        json_array_append_new(c->index, desc);
        _cleanup_free_ char *cfg = xasprintf("blobs/sha256/%s", digest_hex(img->id));
        json_array_append_new(c->docker, json_pack("{s:s, s:o, s:o}", "Config", cfg, "RepoTags",
                                                   tags, "Layers", layers));
        return 0;
}

/* Resolve NAME to an image and the tag to save it under (NULL when named by ID). */
static int save_name(struct save_ctx *c, const char *name, struct st_error **err)
{
        _cleanup_store_image_ struct store_image *img = NULL;
        int r = store_image_lookup(c->s, name, &img, err);
        if (r < 0)
                return r;
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        _cleanup_free_ char *full = NULL;
        if (image_ref_parse(name, &ref, NULL) >= 0 && !ref->digest)
                full = image_ref_string(ref);
        /* by ID: no tags, as docker save does */
        const char *tag = full && strv_contains(img->tags, full) ? full : NULL;
        return save_image(c, img, tag, err);
}

static int save_all(struct save_ctx *c, char **names, struct st_error **err)
{
        int r = 0;
        STRV_FOREACH(n, names)
                if (r >= 0)
                        r = save_name(c, *n, err);
        if (r < 0)
                return r;
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        r = add_buffer(c, "oci-layout", layout, sizeof(layout) - 1, err);
        json_t *index = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
                                  MEDIA_TYPE_OCI_INDEX, "manifests", c->index);
        _cleanup_free_ char *it = json_dump_compact(index);
        json_decref(index);
        _cleanup_free_ char *mt = json_dump_compact(c->docker);
        if (r >= 0)
                r = add_buffer(c, "index.json", it, strlen(it), err);
        if (r >= 0)
                r = add_buffer(c, "manifest.json", mt, strlen(mt), err);
        if (r >= 0 && archive_write_close(c->a) != ARCHIVE_OK)
                r = tar_error(c, err);
        return r;
}

int store_save(struct store *s, char **names, struct st_writer *out, struct st_error **err)
{
        struct save_ctx c = { .s = s, .out = out, .index = json_array(), .docker = json_array() };
        c.a = archive_write_new();
        archive_write_set_format_pax_restricted(c.a);
        archive_write_set_bytes_in_last_block(c.a, 1);
        int r = store_lock(s, false, err);
        if (r >= 0 && archive_write_open2(c.a, &c, NULL, write_cb, NULL, NULL) != ARCHIVE_OK)
                r = tar_error(&c, err);
        if (r >= 0)
                r = add_header(&c, "blobs", AE_IFDIR, 0, err);
        if (r >= 0)
                r = add_header(&c, "blobs/sha256", AE_IFDIR, 0, err);
        if (r >= 0)
                r = save_all(&c, names, err);
        archive_write_free(c.a);
        json_decref(c.index);
        json_decref(c.docker);
        strv_free(c.written);
        return r;
}
