/* OCI image manifest / index and Docker manifest v2 schema 2 / manifest list: strict parsing
 * with size caps, and writing. Unknown fields are kept in `raw` for read-modify-write. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

#define MEDIA_TYPE_OCI_MANIFEST         "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_OCI_INDEX            "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_OCI_CONFIG           "application/vnd.oci.image.config.v1+json"
#define MEDIA_TYPE_OCI_LAYER            "application/vnd.oci.image.layer.v1.tar"
#define MEDIA_TYPE_OCI_LAYER_GZIP       "application/vnd.oci.image.layer.v1.tar+gzip"
#define MEDIA_TYPE_OCI_LAYER_ZSTD       "application/vnd.oci.image.layer.v1.tar+zstd"
#define MEDIA_TYPE_OCI_LAYER_ND_GZIP    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define MEDIA_TYPE_DOCKER_MANIFEST      "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_TYPE_DOCKER_LIST          "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_TYPE_DOCKER_CONFIG        "application/vnd.docker.container.image.v1+json"
#define MEDIA_TYPE_DOCKER_LAYER         "application/vnd.docker.image.rootfs.diff.tar"
#define MEDIA_TYPE_DOCKER_LAYER_GZIP    "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MEDIA_TYPE_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

#define IMAGE_MANIFEST_MAX (4u * 1024 * 1024) /* cap on a manifest or index */
#define IMAGE_CONFIG_MAX   (8u * 1024 * 1024) /* cap on an image config */

struct image_platform {
        char *architecture; /* "amd64" */
        char *os;           /* "linux" */
        char *variant;      /* "v8" or NULL */
        char *os_version;   /* or NULL */
};

struct image_descriptor {
        char *media_type;
        char *digest;                    /* validated "sha256:…" */
        int64_t size;                    /* >= 0 */
        json_t *annotations;             /* object or NULL (owned reference) */
        struct image_platform *platform; /* NULL if absent */
        char *artifact_type;             /* or NULL */
        json_t *raw; /* the parsed object (owned reference) or NULL; writing starts from it, so
                      * urls, data and unknown keys survive */
};

struct image_manifest {
        int schema_version; /* 2 */
        char *media_type;   /* as given in the document, or NULL if absent (OCI allows) */
        struct image_descriptor config;
        struct image_descriptor *layers;
        size_t n_layers;
        json_t *annotations; /* or NULL */
        json_t *raw;         /* the whole parsed document (owned reference) */
};

struct image_index {
        int schema_version;
        char *media_type;
        struct image_descriptor *manifests;
        size_t n_manifests;
        json_t *annotations;
        json_t *raw;
};

/* True for the media types of layers strata can apply (tar, tar+gzip, tar+zstd, docker's). */
bool image_media_type_is_layer(const char *mt);

/* True if MT is a manifest list / index media type (OCI or Docker). */
bool image_media_type_is_index(const char *mt);

/* Parse a manifest (OCI or Docker v2s2) of LEN bytes. If CONTENT_TYPE is non-NULL it must
 * agree with the document's mediaType. Rejects > IMAGE_MANIFEST_MAX, wrong types, missing or
 * invalid fields (digests, sizes). Caller frees *ret with image_manifest_free. */
int image_manifest_parse(const char *buf, size_t len, const char *content_type,
                         struct image_manifest **ret, struct st_error **err);

/* Free M; NULL-safe; returns NULL. */
struct image_manifest *image_manifest_free(struct image_manifest *m);

/* Serialize M (from its fields; raw's unknown keys kept) as compact JSON; caller frees. */
char *image_manifest_write(const struct image_manifest *m);

/* M rewritten as a MEDIA_TYPE manifest (MEDIA_TYPE_OCI_MANIFEST or MEDIA_TYPE_DOCKER_MANIFEST):
 * the manifest, config and layer media types of the other format are mapped (Docker's gzip and
 * tar layers to OCI's and back), blobs and digests are untouched (no recompression), and going
 * to Docker's format keeps only the fields it has (no annotations, subject, artifactType).
 * ST_E_UNSUPPORTED for a blob the target format cannot name (a zstd layer in a Docker
 * manifest). *ret (caller frees) is compact JSON. */
int image_manifest_convert(const struct image_manifest *m, const char *media_type, char **ret,
                           size_t *ret_len, struct st_error **err);

/* Parse an index or Docker manifest list; same rules as image_manifest_parse.
 * Caller frees *ret with image_index_free. */
int image_index_parse(const char *buf, size_t len, const char *content_type,
                      struct image_index **ret, struct st_error **err);

/* Free I; NULL-safe; returns NULL. */
struct image_index *image_index_free(struct image_index *i);

/* Serialize I as compact JSON; caller frees. */
char *image_index_write(const struct image_index *i);

/* Peek at BUF's mediaType (or infer: "manifests" -> index, "layers" -> manifest); returns a
 * static string or NULL. */
const char *image_manifest_sniff_media_type(const char *buf, size_t len);

/* Deep-copy SRC into DST (DST's old contents are not freed). */
void image_descriptor_copy(struct image_descriptor *dst, const struct image_descriptor *src);

/* Release the fields of D (not D itself). */
void image_descriptor_release(struct image_descriptor *d);

DEFINE_CLEANUP_FUNC(struct image_manifest *, image_manifest_free)
DEFINE_CLEANUP_FUNC(struct image_index *, image_index_free)
#define _cleanup_manifest_ _cleanup_(image_manifest_freep)
#define _cleanup_index_    _cleanup_(image_index_freep)
