/* Converting an image manifest between Docker v2 schema 2 and OCI: only media type strings
 * change (and what Docker's format has no field for is dropped); every blob stays as it is, so
 * layers keep their bytes and digests and the config keeps the image ID. */
#include <string.h>

#include "basic/util.h"
#include "image/manifest.h"
#include "json/json.h"

/* Media types that name the same thing in both formats: { OCI, Docker }. */
static const char *const pairs[][2] = {
        { MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST },
        { MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_DOCKER_CONFIG },
        { MEDIA_TYPE_OCI_LAYER, MEDIA_TYPE_DOCKER_LAYER },
        { MEDIA_TYPE_OCI_LAYER_GZIP, MEDIA_TYPE_DOCKER_LAYER_GZIP },
        { MEDIA_TYPE_OCI_LAYER_ND_GZIP, MEDIA_TYPE_DOCKER_LAYER_FOREIGN },
};

/* MT in the format TO_DOCKER says, or NULL if that format has no such media type. */
static const char *map_media_type(const char *mt, bool to_docker)
{
        if (startswith(mt, to_docker ? "application/vnd.docker." : "application/vnd.oci."))
                return mt; /* already there (an OCI zstd layer going to OCI) */
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
                if (streq(mt, pairs[i][0]) || streq(mt, pairs[i][1]))
                        return pairs[i][to_docker];
        return NULL;
}

/* Drop from O every key but KEEP's (Docker v2 schema 2 has no annotations, subject,
 * artifactType or data), keeping the order of the rest. */
static void keep_only(json_t *o, const char *const *keep, size_t n)
{
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(o, tmp, k, v)
        {
                bool known = false;
                for (size_t i = 0; !known && i < n; i++)
                        known = streq(k, keep[i]);
                if (!known)
                        json_object_del(o, k);
        }
}

static const char *const docker_manifest_keys[] = { "schemaVersion", "mediaType", "config",
                                                    "layers" };
static const char *const docker_descriptor_keys[] = { "mediaType", "size", "digest", "urls" };

static int convert_descriptor(json_t *d, const char *mt, bool to_docker, const char *what,
                              struct st_error **err)
{
        const char *to = map_media_type(mt, to_docker);
        if (!to && to_docker && strstr(mt, "zstd"))
                return st_error_set(err, ST_E_UNSUPPORTED,
                                    "%s is zstd-compressed, which a Docker v2 manifest cannot"
                                    " carry; push it with --format oci",
                                    what);
        if (!to)
                return st_error_set(err, ST_E_UNSUPPORTED,
                                    "%s has media type '%.100s', which has"
                                    " no %s equivalent",
                                    what, mt, to_docker ? "Docker v2" : "OCI");
        json_set_str(d, "mediaType", to);
        if (to_docker)
                keep_only(d, docker_descriptor_keys, ELEMENTSOF(docker_descriptor_keys));
        return 0;
}

int image_manifest_convert(const struct image_manifest *m, const char *media_type, char **ret,
                           size_t *ret_len, struct st_error **err)
{
        bool to_docker = streq(media_type, MEDIA_TYPE_DOCKER_MANIFEST);
        if (!to_docker && !streq(media_type, MEDIA_TYPE_OCI_MANIFEST))
                return st_error_set(err, ST_E_UNSUPPORTED, "cannot convert a manifest to '%.100s'",
                                    media_type);
        _cleanup_json_ json_t *o = json_deep_copy(m->raw);
        if (!json_is_object(o))
                return st_error_set(err, ST_E_PARSE, "invalid manifest");
        int r = convert_descriptor(json_object_get(o, "config"), m->config.media_type, to_docker,
                                   "the config", err);
        json_t *layers = json_object_get(o, "layers");
        for (size_t i = 0; r >= 0 && i < m->n_layers; i++) {
                _cleanup_free_ char *what = xasprintf("layer %zu", i + 1);
                r = convert_descriptor(json_array_get(layers, i), m->layers[i].media_type,
                                       to_docker, what, err);
        }
        if (r < 0)
                return r;
        json_set_str(o, "mediaType", media_type);
        if (to_docker)
                keep_only(o, docker_manifest_keys, ELEMENTSOF(docker_manifest_keys));
        char *buf = json_dump_compact(o);
        *ret_len = strlen(buf);
        *ret = buf;
        return 0;
}
