/* store_load: OCI layouts and docker-archives into the store, every byte verified. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "compress/compress.h"
#include "image/config.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "json/json.h"
#include "store/store-internal.h"

#define LOAD_MAX_ENTRIES 200000
#define LOAD_MAX_JSON    (16u * 1024 * 1024)
#define LOAD_MAX_DEPTH   4 /* nested indexes */

struct load_ctx {
        struct store *s;
        char *dir; /* the unpacked archive in staging */
        int dir_fd;
        struct store_loaded *out;
        size_t n_out;
};

void store_loaded_free(struct store_loaded *l, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(l[i].id);
                strv_free(l[i].tags);
        }
        free(l);
}

/* Open PATH inside the unpacked archive; never leaves it, whatever links it holds. */
static int open_in(struct load_ctx *c, const char *path, int *ret_fd, struct st_error **err)
{
        /* RESOLVE_IN_ROOT would read "../x" as the archive's own "x": say what is wrong */
        _cleanup_free_ char *clean = NULL;
        if (archive_path_clean(path, &clean) < 0 || !*clean)
                return st_error_set(err, ST_E_UNSAFE, "archive member '%s' is outside the archive",
                                    path);
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        int fd = (int)syscall(SYS_openat2, c->dir_fd, path, &how, sizeof(how));
        if (fd < 0)
                return st_error_set_errno(err, -errno, "archive member '%s'", path);
        *ret_fd = fd;
        return 0;
}

static int read_member(struct load_ctx *c, const char *path, size_t cap, char **ret,
                       size_t *ret_len, struct st_error **err)
{
        _cleanup_close_ int fd = -1;
        int r = open_in(c, path, &fd, err);
        if (r < 0)
                return r;
        r = read_full_fd(fd, cap, ret, ret_len);
        if (r == -EFBIG)
                return st_error_set(err, ST_E_TOO_BIG, "archive member '%s' is too large", path);
        if (r < 0)
                return st_error_set_errno(err, r, "read archive member '%s'", path);
        return 0;
}

/* A blob of the OCI layout, read whole and verified against DIGEST. */
static int read_blob(struct load_ctx *c, const char *digest, size_t cap, char **ret,
                     size_t *ret_len, struct st_error **err)
{
        int r = digest_check(digest, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = xasprintf("blobs/sha256/%s", digest_hex(digest));
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        r = read_member(c, path, cap, &buf, &len, err);
        if (r < 0)
                return r;
        char got[DIGEST_STR_LEN + 1];
        digest_buf(buf, len, got);
        if (!streq(got, digest))
                return st_error_set(err, ST_E_DIGEST_MISMATCH,
                                    "blob %s in the archive hashes to %s", digest, got);
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int unpack(struct load_ctx *c, struct st_reader *in, struct st_error **err)
{
        int r = store_tmp_mkdir(c->s, "load", &c->dir, err);
        if (r < 0)
                return r;
        c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->dir_fd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", c->dir);
        struct st_reader *plain = NULL;
        r = decompress_reader_new(in, store_max_layer_bytes(), &plain, err);
        if (r < 0)
                return r;
        struct archive_apply_opts o = { .no_whiteouts = true,
                                        .max_entries = LOAD_MAX_ENTRIES,
                                        .max_bytes = store_max_layer_bytes() };
        r = archive_layer_apply(plain, c->dir_fd, &o, NULL, err);
        st_reader_free(plain);
        if (r < 0)
                return st_error_wrap(err, "read archive");
        return 0;
}

/* Layers in FILES (paths inside the archive) for CFG: stored, verified against its diff IDs. */
struct layer_in {
        const char *path;
        const char *digest;     /* expected blob digest (OCI), or NULL (docker-archive) */
        const char *media_type; /* or NULL */
        int64_t size;           /* expected size, or -1 */
};

static int load_layers(struct load_ctx *c, const struct image_config *cfg,
                       const struct layer_in *layers, size_t n, struct store_layer_result *res,
                       struct st_error **err)
{
        if (n != strv_length(cfg->diff_ids))
                return st_error_set(err, ST_E_PARSE,
                                    "image has %zu layers but its config lists %zu diff IDs", n,
                                    strv_length(cfg->diff_ids));
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int fd = -1;
                int r = open_in(c, layers[i].path, &fd, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *abs = xasprintf("/proc/self/fd/%d", fd);
                _cleanup_free_ char *real = realpath(abs, NULL);
                struct st_reader *rd = st_fd_reader_new(fd);
                struct store_layer_source src = {
                        .in = rd,
                        .parent = i ? res[i - 1].chain_id : NULL,
                        .expected_digest = layers[i].digest,
                        .expected_diff_id = cfg->diff_ids[i],
                        .media_type = layers[i].media_type,
                        .keep_blob = true,
                        .in_path = real,
                };
                r = store_layer_create(c->s, &src, &res[i], err);
                st_reader_free(rd);
                if (r < 0)
                        return st_error_wrap(err, "layer '%s'", layers[i].path);
                if (layers[i].size >= 0 && res[i].blob_size != (uint64_t)layers[i].size)
                        return st_error_set(err, ST_E_DIGEST_MISMATCH,
                                            "layer '%s' is %llu bytes, its descriptor says %lld",
                                            layers[i].path, (unsigned long long)res[i].blob_size,
                                            (long long)layers[i].size);
        }
        return 0;
}

static void add_loaded(struct load_ctx *c, const char *id, char **tags)
{
        c->out = xrealloc(c->out, sizeof(*c->out) * (c->n_out + 1));
        c->out[c->n_out++] = (struct store_loaded){ .id = xstrdup(id), .tags = strv_copy(tags) };
}

/* Record an image whose config (CFG_BUF) and manifest (MAN_BUF, or NULL to make one) are
 * verified and whose layers RES[0..N) are stored. */
static int record(struct load_ctx *c, const char *cfg_buf, size_t cfg_len,
                  const struct image_config *cfg, const char *man_buf, size_t man_len,
                  const char *man_type, const struct store_layer_result *res, size_t n, char **tags,
                  struct st_error **err)
{
        char id[DIGEST_STR_LEN + 1];
        int r = store_image_commit(c->s, cfg_buf, cfg_len, cfg->created, man_buf, man_len, man_type,
                                   res, n, tags, id, err);
        if (r >= 0)
                add_loaded(c, id, tags);
        return r;
}

static bool platform_ok(const struct image_platform *p)
{
        return !p || ((!p->os || streq(p->os, "linux")) &&
                      (!p->architecture || streq(p->architecture, "amd64")));
}

/* Tags named by a descriptor's annotations (containerd's full name, or an OCI ref.name that is
 * a whole reference); a new strv, possibly NULL. */
static char **annotation_tags(json_t *annotations)
{
        const char *name = json_get_str(annotations, "io.containerd.image.name");
        const char *ref_name = json_get_str(annotations, "org.opencontainers.image.ref.name");
        if (!name && ref_name && (strchr(ref_name, ':') || strchr(ref_name, '/')))
                name = ref_name;
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        if (!name || image_ref_parse(name, &ref, NULL) < 0 || ref->digest)
                return NULL;
        char **l = NULL;
        strv_consume(&l, image_ref_string(ref));
        return l;
}

static int oci_manifest(struct load_ctx *c, const struct image_descriptor *d, char **tags,
                        struct st_error **err)
{
        _cleanup_free_ char *mbuf = NULL, *cbuf = NULL;
        size_t mlen = 0, clen = 0;
        _cleanup_manifest_ struct image_manifest *m = NULL;
        _cleanup_config_ struct image_config *cfg = NULL;
        int r = read_blob(c, d->digest, IMAGE_MANIFEST_MAX, &mbuf, &mlen, err);
        if (r >= 0 && (int64_t)mlen != d->size)
                r = st_error_set(err, ST_E_DIGEST_MISMATCH, "manifest %s is %zu bytes, not %lld",
                                 d->digest, mlen, (long long)d->size);
        if (r >= 0)
                r = image_manifest_parse(mbuf, mlen, NULL, &m, err);
        if (r >= 0)
                r = read_blob(c, m->config.digest, IMAGE_CONFIG_MAX, &cbuf, &clen, err);
        if (r >= 0)
                r = image_config_parse(cbuf, clen, &cfg, err);
        if (r < 0)
                return r;
        _cleanup_free_ struct layer_in *in = xcalloc(m->n_layers + 1, sizeof(*in));
        _cleanup_strv_ char **paths = NULL;
        for (size_t i = 0; i < m->n_layers; i++) {
                strv_consume(&paths, xasprintf("blobs/sha256/%s", digest_hex(m->layers[i].digest)));
                in[i] = (struct layer_in){ .path = paths[i],
                                           .digest = m->layers[i].digest,
                                           .media_type = m->layers[i].media_type,
                                           .size = m->layers[i].size };
        }
        _cleanup_free_ struct store_layer_result *res = xcalloc(m->n_layers + 1, sizeof(*res));
        r = load_layers(c, cfg, in, m->n_layers, res, err);
        if (r < 0)
                return r;
        const char *mt = m->media_type ?: d->media_type ?: MEDIA_TYPE_OCI_MANIFEST;
        return record(c, cbuf, clen, cfg, mbuf, mlen, mt, res, m->n_layers, tags, err);
}

static int oci_index(struct load_ctx *c, const char *buf, size_t len, char **parent_tags, int depth,
                     struct st_error **err)
{
        if (depth > LOAD_MAX_DEPTH)
                return st_error_set(err, ST_E_PARSE, "indexes nested more than %d deep",
                                    LOAD_MAX_DEPTH);
        _cleanup_index_ struct image_index *idx = NULL;
        int r = image_index_parse(buf, len, NULL, &idx, err);
        if (r < 0)
                return st_error_wrap(err, "index");
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const struct image_descriptor *d = &idx->manifests[i];
                const char *ref_type = json_get_str(d->annotations, "vnd.docker.reference.type");
                if ((ref_type && streq(ref_type, "attestation-manifest")) ||
                    !platform_ok(d->platform))
                        continue;
                _cleanup_strv_ char **tags = annotation_tags(d->annotations);
                char **use = tags ?: parent_tags;
                if (image_media_type_is_index(d->media_type)) {
                        _cleanup_free_ char *sub = NULL;
                        size_t sublen = 0;
                        r = read_blob(c, d->digest, IMAGE_MANIFEST_MAX, &sub, &sublen, err);
                        if (r >= 0)
                                r = oci_index(c, sub, sublen, use, depth + 1, err);
                } else
                        r = oci_manifest(c, d, use, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_oci(struct load_ctx *c, struct st_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_member(c, "index.json", IMAGE_MANIFEST_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        return oci_index(c, buf, len, NULL, 0, err);
}

static int docker_tags(json_t *repo_tags, char ***ret, struct st_error **err)
{
        _cleanup_strv_ char **tags = NULL;
        json_t *t;
        if (repo_tags && !json_is_array(repo_tags) && !json_is_null(repo_tags))
                return st_error_set(err, ST_E_PARSE, "manifest.json: RepoTags is not an array");
        JSON_ARRAY_FOREACH(i, t, repo_tags) {
                _cleanup_image_ref_ struct image_ref *ref = NULL;
                if (!json_is_string(t))
                        return st_error_set(err, ST_E_PARSE, "manifest.json: bad RepoTags");
                int r = image_ref_parse(json_string_value(t), &ref, err);
                if (r < 0)
                        return st_error_wrap(err, "manifest.json");
                strv_consume(&tags, image_ref_string(ref));
        }
        *ret = TAKE_PTR(tags);
        return 0;
}

static int docker_entry(struct load_ctx *c, json_t *e, struct st_error **err)
{
        const char *cfg_path = json_get_str(e, "Config");
        json_t *layers = json_object_get(e, "Layers");
        if (!cfg_path || !json_is_array(layers))
                return st_error_set(err, ST_E_PARSE,
                                    "manifest.json: entry without Config or Layers");
        _cleanup_strv_ char **tags = NULL;
        int r = docker_tags(json_object_get(e, "RepoTags"), &tags, err);
        _cleanup_free_ char *cbuf = NULL;
        size_t clen = 0, n = json_array_size(layers);
        _cleanup_config_ struct image_config *cfg = NULL;
        if (r >= 0)
                r = read_member(c, cfg_path, IMAGE_CONFIG_MAX, &cbuf, &clen, err);
        if (r >= 0)
                r = image_config_parse(cbuf, clen, &cfg, err);
        if (r < 0)
                return r;
        _cleanup_free_ struct layer_in *in = xcalloc(n + 1, sizeof(*in));
        json_t *l;
        JSON_ARRAY_FOREACH(i, l, layers) {
                if (!json_is_string(l))
                        return st_error_set(err, ST_E_PARSE, "manifest.json: bad Layers");
                in[i] = (struct layer_in){ .path = json_string_value(l), .size = -1 };
        }
        _cleanup_free_ struct store_layer_result *res = xcalloc(n + 1, sizeof(*res));
        r = load_layers(c, cfg, in, n, res, err);
        if (r < 0)
                return r;
        return record(c, cbuf, clen, cfg, NULL, 0, NULL, res, n, tags, err);
}

static int load_docker(struct load_ctx *c, struct st_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_member(c, "manifest.json", LOAD_MAX_JSON, &buf, &len, err);
        _cleanup_json_ json_t *j = NULL;
        if (r >= 0)
                r = json_parse(buf, len, LOAD_MAX_JSON, "manifest.json", &j, err);
        if (r < 0)
                return r;
        if (!json_is_array(j))
                return st_error_set(err, ST_E_PARSE, "manifest.json is not an array");
        json_t *e;
        JSON_ARRAY_FOREACH(i, e, j) {
                r = docker_entry(c, e, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_load(struct store *s, struct st_reader *in, struct store_loaded **ret, size_t *ret_n,
               struct st_error **err)
{
        struct load_ctx c = { .s = s, .dir_fd = -1 };
        int r = store_lock(s, false, err);
        if (r >= 0)
                r = unpack(&c, in, err);
        if (r >= 0) {
                if (faccessat(c.dir_fd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        r = load_oci(&c, err);
                else if (faccessat(c.dir_fd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        r = load_docker(&c, err);
                else
                        r = st_error_set(err, ST_E_PARSE,
                                         "archive is neither an OCI layout (index.json) nor a"
                                         " docker-archive (manifest.json)");
        }
        if (r >= 0 && c.n_out == 0)
                r = st_error_set(err, ST_E_PARSE, "archive holds no image");
        safe_close(c.dir_fd);
        if (c.dir)
                (void)rm_rf_at(AT_FDCWD, c.dir);
        free(c.dir);
        if (r < 0) {
                store_loaded_free(c.out, c.n_out);
                return r;
        }
        *ret = c.out;
        *ret_n = c.n_out;
        return 0;
}
