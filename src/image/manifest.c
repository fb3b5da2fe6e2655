/* Manifests and indexes: strict parsing into structs, with the parsed JSON kept in `raw` so
 * that writing back keeps fields strata does not model (subject, urls, data, ...). */
#include "image/manifest.h"

#include <string.h>

#include "basic/util.h"
#include "digest/digest.h"
#include "json/json.h"

static const char *const layer_types[] = {
        MEDIA_TYPE_OCI_LAYER,
        MEDIA_TYPE_OCI_LAYER_GZIP,
        MEDIA_TYPE_OCI_LAYER_ZSTD,
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        MEDIA_TYPE_OCI_LAYER_ND_GZIP,
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        MEDIA_TYPE_DOCKER_LAYER,
        MEDIA_TYPE_DOCKER_LAYER_GZIP,
        MEDIA_TYPE_DOCKER_LAYER_FOREIGN,
};

bool image_media_type_is_layer(const char *mt)
{
        for (size_t i = 0; mt && i < ELEMENTSOF(layer_types); i++)
                if (streq(mt, layer_types[i]))
                        return true;
        return false;
}

bool image_media_type_is_index(const char *mt)
{
        return mt && (streq(mt, MEDIA_TYPE_OCI_INDEX) || streq(mt, MEDIA_TYPE_DOCKER_LIST));
}

static bool media_type_is_manifest(const char *mt)
{
        return mt && (streq(mt, MEDIA_TYPE_OCI_MANIFEST) || streq(mt, MEDIA_TYPE_DOCKER_MANIFEST));
}

/* KEY of OBJ as a string: absent is fine unless REQUIRED; present must be a string. */
static int get_str(const json_t *obj, const char *key, bool required, const char *where, char **ret,
                   struct st_error **err)
{
        json_t *v = json_object_get(obj, key);
        if (!v && !required) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return st_error_set(err, ST_E_PARSE, "%s: '%s' %s", where, key,
                                    v ? "must be a string" : "is missing");
        *ret = xstrdup(json_string_value(v));
        return 0;
}

/* Annotations: absent, or an object of strings; *ret gets a new reference or NULL. */
static int get_annotations(const json_t *obj, const char *where, json_t **ret,
                           struct st_error **err)
{
        json_t *a = json_object_get(obj, "annotations"), *v;
        const char *k;
        *ret = NULL;
        if (!a)
                return 0;
        if (!json_is_object(a))
                return st_error_set(err, ST_E_PARSE, "%s: 'annotations' must be an object", where);
        json_object_foreach(a, k, v) if (!json_is_string(v)) return st_error_set(
                err, ST_E_PARSE, "%s: annotation '%.100s' must be a string", where, k);
        *ret = json_incref(a);
        return 0;
}

static int check_strv(const json_t *obj, const char *key, const char *where, struct st_error **err)
{
        json_t *a = json_object_get(obj, key), *v;
        if (!a)
                return 0;
        if (!json_is_array(a))
                return st_error_set(err, ST_E_PARSE, "%s: '%s' must be an array", where, key);
        JSON_ARRAY_FOREACH(i, v, a)
                if (!json_is_string(v))
                        return st_error_set(err, ST_E_PARSE, "%s: '%s' must hold strings", where,
                                            key);
        return 0;
}

static void platform_free(struct image_platform *p)
{
        if (!p)
                return;
        free(p->architecture);
        free(p->os);
        free(p->variant);
        free(p->os_version);
        free(p);
}

DEFINE_CLEANUP_FUNC(struct image_platform *, platform_free)

static int parse_platform(const json_t *j, struct image_platform **ret, struct st_error **err)
{
        const char *w = "platform";
        if (!json_is_object(j))
                return st_error_set(err, ST_E_PARSE, "platform must be an object");
        _cleanup_(platform_freep) struct image_platform *p = xcalloc(1, sizeof(*p));
        int r;
        if ((r = get_str(j, "architecture", true, w, &p->architecture, err)) < 0 ||
            (r = get_str(j, "os", true, w, &p->os, err)) < 0 ||
            (r = get_str(j, "variant", false, w, &p->variant, err)) < 0 ||
            (r = get_str(j, "os.version", false, w, &p->os_version, err)) < 0 ||
            (r = check_strv(j, "os.features", w, err)) < 0 ||
            (r = check_strv(j, "features", w, err)) < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

static int parse_size(const json_t *obj, const char *where, int64_t *ret, struct st_error **err)
{
        json_t *v = json_object_get(obj, "size");
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return st_error_set(err, ST_E_PARSE, "%s: 'size' must be a non-negative integer",
                                    where);
        *ret = json_integer_value(v);
        return 0;
}

static int parse_descriptor(const json_t *j, const char *where, struct image_descriptor *ret,
                            struct st_error **err)
{
        struct image_descriptor d = { 0 };
        int r;
        if (!json_is_object(j))
                return st_error_set(err, ST_E_PARSE, "%s must be an object", where);
        if ((r = get_str(j, "mediaType", true, where, &d.media_type, err)) < 0 ||
            (r = get_str(j, "digest", true, where, &d.digest, err)) < 0)
                goto fail;
        if (!digest_is_valid(d.digest)) {
                r = st_error_set(err, ST_E_PARSE, "%s: invalid digest '%.100s'", where, d.digest);
                goto fail;
        }
        if ((r = parse_size(j, where, &d.size, err)) < 0 ||
            (r = get_annotations(j, where, &d.annotations, err)) < 0 ||
            (r = get_str(j, "artifactType", false, where, &d.artifact_type, err)) < 0 ||
            (r = check_strv(j, "urls", where, err)) < 0)
                goto fail;
        json_t *p = json_object_get(j, "platform");
        if (p && (r = parse_platform(p, &d.platform, err)) < 0)
                goto fail;
        d.raw = json_deep_copy(j);
        *ret = d;
        return 0;
fail:
        image_descriptor_release(&d);
        return r;
}

static struct image_platform *platform_copy(const struct image_platform *p)
{
        if (!p)
                return NULL;
        struct image_platform *c = xcalloc(1, sizeof(*c));
        c->architecture = xstrdup(p->architecture);
        c->os = xstrdup(p->os);
        c->variant = xstrdup(p->variant);
        c->os_version = xstrdup(p->os_version);
        return c;
}

void image_descriptor_copy(struct image_descriptor *dst, const struct image_descriptor *src)
{
        dst->media_type = xstrdup(src->media_type);
        dst->digest = xstrdup(src->digest);
        dst->size = src->size;
        dst->annotations = src->annotations ? json_deep_copy(src->annotations) : NULL;
        dst->platform = platform_copy(src->platform);
        dst->artifact_type = xstrdup(src->artifact_type);
        dst->raw = src->raw ? json_deep_copy(src->raw) : NULL;
}

void image_descriptor_release(struct image_descriptor *d)
{
        free(d->media_type);
        free(d->digest);
        json_decref(d->annotations);
        platform_free(d->platform);
        free(d->artifact_type);
        json_decref(d->raw);
        *d = (struct image_descriptor){ 0 };
}

static void descriptors_free(struct image_descriptor *d, size_t n)
{
        for (size_t i = 0; i < n; i++)
                image_descriptor_release(&d[i]);
        free(d);
}

/* The array at KEY of J as descriptors; errors name the element ("layers[3]"). */
static int parse_descriptors(const json_t *j, const char *key, struct image_descriptor **ret,
                             size_t *ret_n, struct st_error **err)
{
        json_t *a = json_object_get(j, key), *v;
        if (!json_is_array(a))
                return st_error_set(err, ST_E_PARSE, "'%s' %s", key,
                                    a ? "must be an array" : "is missing");
        size_t n = json_array_size(a);
        struct image_descriptor *d = xcalloc(n ? n : 1, sizeof(*d));
        JSON_ARRAY_FOREACH(i, v, a) {
                _cleanup_free_ char *where = xasprintf("%s[%zu]", key, i);
                int r = parse_descriptor(v, where, &d[i], err);
                if (r < 0) {
                        descriptors_free(d, i);
                        return r;
                }
        }
        *ret = d;
        *ret_n = n;
        return 0;
}

/* Strip parameters ("; charset=utf-8") and surrounding blanks from a Content-Type. */
static char *content_type_base(const char *ct)
{
        ct += strspn(ct, " \t");
        size_t n = strcspn(ct, ";");
        while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
                n--;
        return xstrndup(ct, n);
}

/* The common head of both documents: object, schemaVersion 2, mediaType of the right family,
 * agreeing with CONTENT_TYPE. DEFAULT_MT is implied by a missing mediaType (OCI). */
static int parse_head(const json_t *j, const char *content_type, const char *default_mt,
                      bool (*mt_ok)(const char *), char **ret_mt, struct st_error **err)
{
        if (!json_is_object(j))
                return st_error_set(err, ST_E_PARSE, "document must be a JSON object");
        json_t *sv = json_object_get(j, "schemaVersion");
        if (!json_is_integer(sv) || json_integer_value(sv) != 2)
                return st_error_set(err, ST_E_PARSE, "'schemaVersion' must be 2");
        _cleanup_free_ char *mt = NULL;
        int r = get_str(j, "mediaType", false, "document", &mt, err);
        if (r < 0)
                return r;
        if (mt && !mt_ok(mt))
                return st_error_set(err, ST_E_PARSE, "unexpected mediaType '%.200s'", mt);
        if (content_type) {
                _cleanup_free_ char *base = content_type_base(content_type);
                if (!streq(base, mt ? mt : default_mt))
                        return st_error_set(err, ST_E_PARSE,
                                            "content type '%.200s' does not match mediaType '%s'",
                                            base, mt ? mt : default_mt);
        }
        *ret_mt = TAKE_PTR(mt);
        return 0;
}

static int check_subject(const json_t *j, struct st_error **err)
{
        json_t *s = json_object_get(j, "subject");
        struct image_descriptor d;
        if (!s)
                return 0;
        int r = parse_descriptor(s, "subject", &d, err);
        if (r < 0)
                return r;
        image_descriptor_release(&d);
        return 0;
}

static int parse_manifest_json(json_t *j, const char *content_type, struct image_manifest *m,
                               struct st_error **err)
{
        int r = parse_head(j, content_type, MEDIA_TYPE_OCI_MANIFEST, media_type_is_manifest,
                           &m->media_type, err);
        if (r < 0)
                return r;
        m->schema_version = 2;
        if (!json_object_get(j, "config"))
                return st_error_set(err, ST_E_PARSE, "'config' is missing");
        if ((r = parse_descriptor(json_object_get(j, "config"), "config", &m->config, err)) < 0 ||
            (r = parse_descriptors(j, "layers", &m->layers, &m->n_layers, err)) < 0 ||
            (r = get_annotations(j, "manifest", &m->annotations, err)) < 0 ||
            (r = check_subject(j, err)) < 0)
                return r;
        json_t *at = json_object_get(j, "artifactType");
        if (at && !json_is_string(at))
                return st_error_set(err, ST_E_PARSE, "'artifactType' must be a string");
        return 0;
}

int image_manifest_parse(const char *buf, size_t len, const char *content_type,
                         struct image_manifest **ret, struct st_error **err)
{
        _cleanup_json_ json_t *j = NULL;
        int r = json_parse(buf, len, IMAGE_MANIFEST_MAX, "manifest", &j, err);
        if (r < 0)
                return r;
        _cleanup_manifest_ struct image_manifest *m = xcalloc(1, sizeof(*m));
        r = parse_manifest_json(j, content_type, m, err);
        if (r < 0) {
                st_error_wrap(err, "invalid manifest");
                return r;
        }
        m->raw = TAKE_PTR(j);
        *ret = TAKE_PTR(m);
        return 0;
}

struct image_manifest *image_manifest_free(struct image_manifest *m)
{
        if (!m)
                return NULL;
        free(m->media_type);
        image_descriptor_release(&m->config);
        descriptors_free(m->layers, m->n_layers);
        json_decref(m->annotations);
        json_decref(m->raw);
        free(m);
        return NULL;
}

static void set_or_del(json_t *o, const char *key, json_t *v)
{
        if (v)
                json_object_set_new(o, key, v);
        else
                json_object_del(o, key);
}

static json_t *platform_to_json(const struct image_platform *p, json_t *old)
{
        json_t *o = json_is_object(old) ? json_deep_copy(old) : json_object();
        json_set_str(o, "architecture", p->architecture);
        json_set_str(o, "os", p->os);
        set_or_del(o, "os.version", p->os_version ? json_string(p->os_version) : NULL);
        set_or_del(o, "variant", p->variant ? json_string(p->variant) : NULL);
        return o;
}

static json_t *descriptor_to_json(const struct image_descriptor *d)
{
        json_t *o = json_is_object(d->raw) ? json_deep_copy(d->raw) : json_object();
        json_set_str(o, "mediaType", d->media_type);
        json_set_str(o, "digest", d->digest);
        json_object_set_new(o, "size", json_integer(d->size));
        set_or_del(o, "annotations", d->annotations ? json_deep_copy(d->annotations) : NULL);
        set_or_del(o, "artifactType", d->artifact_type ? json_string(d->artifact_type) : NULL);
        json_t *old = json_object_get(o, "platform");
        set_or_del(o, "platform", d->platform ? platform_to_json(d->platform, old) : NULL);
        return o;
}

static json_t *descriptors_to_json(const struct image_descriptor *d, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, descriptor_to_json(&d[i]));
        return a;
}

/* A copy of RAW (or a fresh object) with schemaVersion and mediaType set first. */
static json_t *head_to_json(const json_t *raw, int schema_version, const char *media_type)
{
        json_t *o = json_is_object(raw) ? json_deep_copy(raw) : json_object();
        json_object_set_new(o, "schemaVersion", json_integer(schema_version));
        set_or_del(o, "mediaType", media_type ? json_string(media_type) : NULL);
        return o;
}

char *image_manifest_write(const struct image_manifest *m)
{
        _cleanup_json_ json_t *o = head_to_json(m->raw, m->schema_version, m->media_type);
        json_object_set_new(o, "config", descriptor_to_json(&m->config));
        json_object_set_new(o, "layers", descriptors_to_json(m->layers, m->n_layers));
        set_or_del(o, "annotations", m->annotations ? json_deep_copy(m->annotations) : NULL);
        return json_dump_compact(o);
}

static int parse_index_json(json_t *j, const char *content_type, struct image_index *x,
                            struct st_error **err)
{
        int r = parse_head(j, content_type, MEDIA_TYPE_OCI_INDEX, image_media_type_is_index,
                           &x->media_type, err);
        if (r < 0)
                return r;
        x->schema_version = 2;
        if ((r = parse_descriptors(j, "manifests", &x->manifests, &x->n_manifests, err)) < 0 ||
            (r = get_annotations(j, "index", &x->annotations, err)) < 0 ||
            (r = check_subject(j, err)) < 0)
                return r;
        return 0;
}

int image_index_parse(const char *buf, size_t len, const char *content_type,
                      struct image_index **ret, struct st_error **err)
{
        _cleanup_json_ json_t *j = NULL;
        int r = json_parse(buf, len, IMAGE_MANIFEST_MAX, "index", &j, err);
        if (r < 0)
                return r;
        _cleanup_index_ struct image_index *x = xcalloc(1, sizeof(*x));
        r = parse_index_json(j, content_type, x, err);
        if (r < 0) {
                st_error_wrap(err, "invalid index");
                return r;
        }
        x->raw = TAKE_PTR(j);
        *ret = TAKE_PTR(x);
        return 0;
}

struct image_index *image_index_free(struct image_index *x)
{
        if (!x)
                return NULL;
        free(x->media_type);
        descriptors_free(x->manifests, x->n_manifests);
        json_decref(x->annotations);
        json_decref(x->raw);
        free(x);
        return NULL;
}

char *image_index_write(const struct image_index *x)
{
        _cleanup_json_ json_t *o = head_to_json(x->raw, x->schema_version, x->media_type);
        json_object_set_new(o, "manifests", descriptors_to_json(x->manifests, x->n_manifests));
        set_or_del(o, "annotations", x->annotations ? json_deep_copy(x->annotations) : NULL);
        return json_dump_compact(o);
}

static const char *const known_types[] = {
        MEDIA_TYPE_OCI_MANIFEST,
        MEDIA_TYPE_OCI_INDEX,
        MEDIA_TYPE_DOCKER_MANIFEST,
        MEDIA_TYPE_DOCKER_LIST,
};

const char *image_manifest_sniff_media_type(const char *buf, size_t len)
{
        _cleanup_json_ json_t *j = NULL;
        if (json_parse(buf, len, IMAGE_MANIFEST_MAX, "manifest", &j, NULL) < 0 ||
            !json_is_object(j))
                return NULL;
        const char *mt = json_get_str(j, "mediaType");
        if (mt) {
                for (size_t i = 0; i < ELEMENTSOF(known_types); i++)
                        if (streq(mt, known_types[i]))
                                return known_types[i];
                return NULL;
        }
        if (json_object_get(j, "manifests"))
                return MEDIA_TYPE_OCI_INDEX;
        if (json_object_get(j, "layers") || json_object_get(j, "config"))
                return MEDIA_TYPE_OCI_MANIFEST;
        return NULL;
}
