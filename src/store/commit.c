/* `commit`: a directory (a container's upper dir) becomes a new layer on top of an image's,
 * and a new image records it. The directory is copied, not moved: it is written once as a tar
 * stream into the staging dir, and that tar is applied into a new layer dir the way a pulled
 * layer is (diff ID, gzip blob). The container keeps its upper dir as it was. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "image/config.h"
#include "image/manifest.h"
#include "json/json.h"
#include "store/store-internal.h"

/* The tar of DIR (whiteouts as .wh. entries) in a staged file; caller unlinks *ret_path. */
static int write_tar(struct store *s, const char *dir, int *ret_fd, char **ret_path,
                     struct st_error **err)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", dir);
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *path = NULL;
        int r = store_tmp_file(s, "commit", &fd, &path, err);
        if (r < 0)
                return r;
        _cleanup_writer_ struct st_writer *w = st_fd_writer_new(fd);
        r = archive_layer_write(dfd, w, NULL, err);
        if (r >= 0 && (r = st_writer_close(w)) < 0)
                r = st_error_set_errno(err, r, "write '%s'", path);
        if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = st_error_set_errno(err, -errno, "seek '%s'", path);
        if (r < 0) {
                (void)unlink(path);
                return r;
        }
        *ret_fd = TAKE_FD(fd);
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* The new layer from O->dir on top of PARENT (NULL: none) into *ret. */
static int make_layer(struct store *s, const char *dir, const char *parent,
                      struct store_layer_result *ret, struct st_error **err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *path = NULL;
        int r = write_tar(s, dir, &fd, &path, err);
        if (r < 0)
                return r;
        _cleanup_reader_ struct st_reader *in = st_fd_reader_new(fd);
        struct store_layer_source src = { .in = in, .parent = parent, .recompress = true };
        r = store_layer_create(s, &src, ret, err);
        (void)unlink(path);
        return r;
}

/* The layers of image IMG as results (chain ID, diff ID, blob) from its manifest and CFG. */
static int base_layers(struct store *s, const struct store_image *img,
                       const struct image_config *cfg, struct store_layer_result **ret,
                       size_t *ret_n, struct st_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, n = strv_length(img->chain_ids);
        int r = store_blob_read(s, img->manifest_digest, IMAGE_MANIFEST_MAX, &buf, &len, err);
        _cleanup_manifest_ struct image_manifest *m = NULL;
        if (r >= 0)
                r = image_manifest_parse(buf, len, NULL, &m, err);
        if (r < 0)
                return r;
        if (m->n_layers != n || strv_length(cfg->diff_ids) != n)
                return st_error_set(err, ST_E_CORRUPT, "image %s: layers do not match", img->id);
        struct store_layer_result *l = xcalloc(n + 1, sizeof(*l));
        for (size_t i = 0; i < n; i++) {
                snprintf(l[i].chain_id, sizeof(l[i].chain_id), "%s", img->chain_ids[i]);
                snprintf(l[i].diff_id, sizeof(l[i].diff_id), "%s", cfg->diff_ids[i]);
                snprintf(l[i].digest, sizeof(l[i].digest), "%s", m->layers[i].digest);
                snprintf(l[i].media_type, sizeof(l[i].media_type), "%s", m->layers[i].media_type);
                l[i].blob_size = (uint64_t)m->layers[i].size;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* The container's settings (O->config) over the image's, then the changes, then history. */
static int make_config(struct image_config *c, const struct store_commit_opts *o,
                       const struct store_layer_result *layer, struct st_error **err)
{
        static const char *const keys[] = { "User",       "ExposedPorts", "Env",         "Cmd",
                                            "Entrypoint", "WorkingDir",   "Volumes",     "Labels",
                                            "StopSignal", "OnBuild",      "Healthcheck", "Shell" };
        _cleanup_json_ json_t *run = o->config ? json_loads(o->config, 0, NULL) : NULL;
        json_t *dst = image_config_container(c);
        for (size_t i = 0; run && i < ELEMENTSOF(keys); i++) {
                json_t *v = json_object_get(run, keys[i]);
                if (v)
                        json_object_set(dst, keys[i], v);
        }
        STRV_FOREACH(ch, o->changes) {
                int r = image_config_apply_change(c, *ch, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *now = image_time_now();
        free(c->created);
        c->created = xstrdup(now);
        if (o->author) {
                free(c->author);
                c->author = xstrdup(o->author);
        }
        image_config_add_history(c, layer->diff_id, now, o->created_by ? o->created_by : "",
                                 o->author, o->comment, false);
        return 0;
}

int store_commit(struct store *s, const struct store_commit_opts *o, char *ret_id,
                 struct st_error **err)
{
        int r = store_lock(s, false, err);
        _cleanup_store_image_ struct store_image *img = NULL;
        if (r >= 0)
                r = store_image_lookup(s, o->image_id, &img, err);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        if (r >= 0)
                r = store_blob_read(s, img->id, IMAGE_CONFIG_MAX, &buf, &len, err);
        _cleanup_config_ struct image_config *cfg = NULL;
        if (r >= 0)
                r = image_config_parse(buf, len, &cfg, err);
        _cleanup_free_ struct store_layer_result *layers = NULL;
        size_t n = 0;
        if (r >= 0)
                r = base_layers(s, img, cfg, &layers, &n, err);
        if (r >= 0)
                r = make_layer(s, o->dir, n ? layers[n - 1].chain_id : NULL, &layers[n], err);
        if (r >= 0)
                r = make_config(cfg, o, &layers[n], err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = image_config_write(cfg);
        return store_image_commit(s, text, strlen(text), cfg->created, NULL, 0, NULL, layers, n + 1,
                                  o->tags, ret_id, err);
}
