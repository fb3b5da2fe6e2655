#include <fcntl.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "image/manifest.h"
#include "json/json.h"
#include "tap.h"

#define HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DG  "sha256:" HEX

static char *golden(const char *name, size_t *ret_len)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", IMAGE_TEST_DATA, name);
        char *buf = NULL;
        if (read_full_file_at(AT_FDCWD, path, 1 << 20, &buf, ret_len) < 0)
                return NULL;
        return buf;
}

TEST(docker_manifest)
{
        size_t len;
        _cleanup_free_ char *buf = golden("docker-manifest.json", &len);
        _cleanup_manifest_ struct image_manifest *m = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_TRUE(buf);
        ASSERT_OK_E(image_manifest_parse(buf, len, MEDIA_TYPE_DOCKER_MANIFEST, &m, &e), e);
        ASSERT_STREQ(m->media_type, MEDIA_TYPE_DOCKER_MANIFEST);
        ASSERT_STREQ(m->config.media_type, MEDIA_TYPE_DOCKER_CONFIG);
        ASSERT_EQ(m->config.size, 1472);
        ASSERT_EQ(m->n_layers, 2);
        ASSERT_EQ(m->layers[0].size, 3408729);
        ASSERT_TRUE(image_media_type_is_layer(m->layers[1].media_type));
        ASSERT_TRUE(m->annotations == NULL);
        /* foreign layer urls survive a rewrite */
        _cleanup_free_ char *out = image_manifest_write(m);
        ASSERT_TRUE(strstr(out, "\"urls\":[\"https://mcr.microsoft.com/v2/windows/blobs/"));
}

TEST(oci_manifest)
{
        size_t len;
        _cleanup_free_ char *buf = golden("oci-manifest.json", &len);
        _cleanup_manifest_ struct image_manifest *m = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(
                image_manifest_parse(buf, len, MEDIA_TYPE_OCI_MANIFEST "; charset=utf-8", &m, &e),
                e);
        ASSERT_EQ(m->schema_version, 2);
        ASSERT_EQ(m->n_layers, 2);
        ASSERT_STREQ(m->layers[1].media_type, MEDIA_TYPE_OCI_LAYER_ZSTD);
        ASSERT_STREQ(json_get_str(m->layers[1].annotations, "org.opencontainers.image.title"),
                     "layer2.tar.zst");
        ASSERT_STREQ(json_get_str(m->annotations, "org.opencontainers.image.base.name"),
                     "docker.io/library/alpine:3.19");
}

TEST(docker_list)
{
        size_t len;
        _cleanup_free_ char *buf = golden("docker-list.json", &len);
        _cleanup_index_ struct image_index *x = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(image_index_parse(buf, len, MEDIA_TYPE_DOCKER_LIST, &x, &e), e);
        ASSERT_EQ(x->n_manifests, 4);
        ASSERT_STREQ(x->manifests[1].platform->architecture, "arm");
        ASSERT_STREQ(x->manifests[1].platform->variant, "v7");
        ASSERT_TRUE(x->manifests[0].platform->variant == NULL);
        ASSERT_STREQ(x->manifests[3].platform->os, "windows");
        ASSERT_STREQ(x->manifests[3].platform->os_version, "10.0.20348.2227");
        ASSERT_TRUE(image_media_type_is_index(x->media_type));
}

TEST(oci_index)
{
        size_t len;
        _cleanup_free_ char *buf = golden("oci-index.json", &len);
        _cleanup_index_ struct image_index *x = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(image_index_parse(buf, len, NULL, &x, &e), e);
        ASSERT_EQ(x->n_manifests, 3);
        ASSERT_STREQ(x->manifests[2].platform->os, "unknown");
        ASSERT_STREQ(json_get_str(x->manifests[2].annotations, "vnd.docker.reference.type"),
                     "attestation-manifest");
        ASSERT_STREQ(json_get_str(x->annotations, "org.opencontainers.image.ref.name"), "1.0");
}

TEST(sniff)
{
        static const char *const table[][2] = {
                { "docker-manifest.json", MEDIA_TYPE_DOCKER_MANIFEST },
                { "oci-manifest.json", MEDIA_TYPE_OCI_MANIFEST },
                { "docker-list.json", MEDIA_TYPE_DOCKER_LIST },
                { "oci-index.json", MEDIA_TYPE_OCI_INDEX },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                size_t len;
                _cleanup_free_ char *buf = golden(table[i][0], &len);
                ASSERT_STREQ(image_manifest_sniff_media_type(buf, len), table[i][1]);
        }
        const char *no_mt = "{\"schemaVersion\":2,\"manifests\":[]}";
        ASSERT_STREQ(image_manifest_sniff_media_type(no_mt, strlen(no_mt)), MEDIA_TYPE_OCI_INDEX);
        const char *other = "{\"mediaType\":\"text/plain\"}";
        ASSERT_TRUE(image_manifest_sniff_media_type(other, strlen(other)) == NULL);
        ASSERT_TRUE(image_manifest_sniff_media_type("[", 1) == NULL);
}

/* A minimal OCI manifest with HEAD replacing the top-level fields and LAYER the one layer. */
static int parse_variant(const char *head, const char *layer, struct st_error **err)
{
        _cleanup_free_ char *doc =
                xasprintf("{%s,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":2},"
                          "\"layers\":[%s]}",
                          head, MEDIA_TYPE_OCI_CONFIG, DG, layer);
        _cleanup_manifest_ struct image_manifest *m = NULL;
        return image_manifest_parse(doc, strlen(doc), NULL, &m, err);
}

#define GOOD_HEAD "\"schemaVersion\":2"

TEST(rejections)
{
        static const struct {
                const char *head, *layer, *msg;
        } table[] = {
                { GOOD_HEAD, "{\"mediaType\":\"x\",\"digest\":\"" DG "\",\"size\":0}", NULL },
                { "\"schemaVersion\":1", "", "invalid manifest: 'schemaVersion' must be 2" },
                { "\"schemaVersion\":\"2\"", "", "invalid manifest: 'schemaVersion' must be 2" },
                { "\"a\":1", "", "invalid manifest: 'schemaVersion' must be 2" },
                { GOOD_HEAD, "{\"mediaType\":\"x\",\"digest\":\"sha256:abc\",\"size\":1}",
                  "invalid manifest: layers[0]: invalid digest 'sha256:abc'" },
                { GOOD_HEAD, "{\"mediaType\":\"x\",\"digest\":\"" DG "\",\"size\":-1}",
                  "invalid manifest: layers[0]: 'size' must be a non-negative integer" },
                { GOOD_HEAD, "{\"mediaType\":\"x\",\"digest\":\"" DG "\",\"size\":1.5}",
                  "invalid manifest: layers[0]: 'size' must be a non-negative integer" },
                { GOOD_HEAD, "{\"digest\":\"" DG "\",\"size\":1}",
                  "invalid manifest: layers[0]: 'mediaType' is missing" },
                { GOOD_HEAD, "{\"mediaType\":7,\"digest\":\"" DG "\",\"size\":1}",
                  "invalid manifest: layers[0]: 'mediaType' must be a string" },
                { GOOD_HEAD,
                  "{\"mediaType\":\"x\",\"digest\":\"" DG "\",\"size\":1,"
                  "\"annotations\":{\"a\":1}}",
                  "invalid manifest: layers[0]: annotation 'a' must be a string" },
                { GOOD_HEAD,
                  "{\"mediaType\":\"x\",\"digest\":\"" DG "\",\"size\":1,"
                  "\"urls\":\"http://x\"}",
                  "invalid manifest: layers[0]: 'urls' must be an array" },
                { GOOD_HEAD,
                  "{\"mediaType\":\"x\",\"digest\":\"" DG "\",\"size\":1,"
                  "\"platform\":{\"os\":\"linux\"}}",
                  "invalid manifest: platform: 'architecture' is missing" },
                { GOOD_HEAD ",\"mediaType\":\"" MEDIA_TYPE_OCI_INDEX "\"", "",
                  "invalid manifest: unexpected mediaType '" MEDIA_TYPE_OCI_INDEX "'" },
                { GOOD_HEAD ",\"annotations\":[]", "",
                  "invalid manifest: manifest: 'annotations' must be an object" },
                { GOOD_HEAD ",\"subject\":{}", "",
                  "invalid manifest: subject: 'mediaType' is missing" },
                { GOOD_HEAD, "1", "invalid manifest: layers[0] must be an object" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_error_ struct st_error *e = NULL;
                printf("# %zu\n", i);
                int r = parse_variant(table[i].head, table[i].layer, &e);
                if (!table[i].msg) {
                        ASSERT_OK_E(r, e);
                        continue;
                }
                ASSERT_ERR(r, ST_E_PARSE);
                ASSERT_STREQ(st_error_msg(e), table[i].msg);
        }
}

TEST(content_type_agreement)
{
        size_t len;
        _cleanup_free_ char *docker = golden("docker-manifest.json", &len);
        _cleanup_manifest_ struct image_manifest *m = NULL;
        _cleanup_index_ struct image_index *x = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_ERR(image_manifest_parse(docker, len, MEDIA_TYPE_OCI_MANIFEST, &m, &e), ST_E_PARSE);
        ASSERT_TRUE(strstr(st_error_msg(e), "does not match"));
        ASSERT_TRUE(m == NULL);
        /* a manifest is not an index, nor the other way round */
        e = st_error_free(e);
        ASSERT_ERR(image_index_parse(docker, len, NULL, &x, &e), ST_E_PARSE);
        size_t ilen;
        _cleanup_free_ char *index = golden("oci-index.json", &ilen);
        ASSERT_ERR(image_manifest_parse(index, ilen, NULL, &m, NULL), ST_E_PARSE);
        ASSERT_ERR(image_index_parse(index, ilen, MEDIA_TYPE_DOCKER_LIST, &x, NULL), ST_E_PARSE);
        /* no mediaType implies OCI */
        const char *bare = "{\"schemaVersion\":2,\"manifests\":[]}";
        ASSERT_OK(image_index_parse(bare, strlen(bare), MEDIA_TYPE_OCI_INDEX, &x, NULL));
        x = image_index_free(x);
        ASSERT_ERR(image_index_parse(bare, strlen(bare), MEDIA_TYPE_DOCKER_LIST, &x, NULL),
                   ST_E_PARSE);
}

TEST(too_big)
{
        size_t n = 5u * 1024 * 1024;
        _cleanup_free_ char *doc = xmalloc(n + 1);
        memset(doc, ' ', n);
        memcpy(doc, "{\"schemaVersion\":2", 18);
        doc[n - 1] = '}';
        doc[n] = 0;
        _cleanup_manifest_ struct image_manifest *m = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_ERR(image_manifest_parse(doc, n, NULL, &m, &e), ST_E_TOO_BIG);
        _cleanup_index_ struct image_index *x = NULL;
        ASSERT_ERR(image_index_parse(doc, n, NULL, &x, NULL), ST_E_TOO_BIG);
        ASSERT_TRUE(image_manifest_sniff_media_type(doc, n) == NULL);
}

/* Parse, write, reparse, write: the second write equals the first. */
TEST(round_trip)
{
        static const char *const files[] = { "docker-manifest.json", "oci-manifest.json" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                size_t len;
                _cleanup_free_ char *buf = golden(files[i], &len);
                _cleanup_manifest_ struct image_manifest *m = NULL, *m2 = NULL;
                ASSERT_OK(image_manifest_parse(buf, len, NULL, &m, NULL));
                _cleanup_free_ char *w1 = image_manifest_write(m);
                ASSERT_OK(image_manifest_parse(w1, strlen(w1), m->media_type, &m2, NULL));
                _cleanup_free_ char *w2 = image_manifest_write(m2);
                ASSERT_STREQ(w1, w2);
                /* written compact in the document's own key order */
                ASSERT_TRUE(!strchr(w1, '\n'));
        }
        size_t len;
        _cleanup_free_ char *buf = golden("oci-manifest.json", &len);
        _cleanup_manifest_ struct image_manifest *m = NULL;
        ASSERT_OK(image_manifest_parse(buf, len, NULL, &m, NULL));
        _cleanup_free_ char *w = image_manifest_write(m);
        ASSERT_TRUE(strstr(w, "\"x-unknown\":{\"kept\":[1,2,3]}"));
        ASSERT_TRUE(!strncmp(w, "{\"schemaVersion\":2,\"mediaType\":", 31));
}

TEST(index_round_trip)
{
        static const char *const files[] = { "docker-list.json", "oci-index.json" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                size_t len;
                _cleanup_free_ char *buf = golden(files[i], &len);
                _cleanup_index_ struct image_index *x = NULL, *x2 = NULL;
                ASSERT_OK(image_index_parse(buf, len, NULL, &x, NULL));
                _cleanup_free_ char *w1 = image_index_write(x);
                ASSERT_OK(image_index_parse(w1, strlen(w1), NULL, &x2, NULL));
                _cleanup_free_ char *w2 = image_index_write(x2);
                ASSERT_STREQ(w1, w2);
                ASSERT_EQ(x2->n_manifests, x->n_manifests);
        }
}

/* Modify fields and write: the document follows the struct. */
TEST(write_from_fields)
{
        size_t len;
        _cleanup_free_ char *buf = golden("oci-manifest.json", &len);
        _cleanup_manifest_ struct image_manifest *m = NULL, *m2 = NULL;
        ASSERT_OK(image_manifest_parse(buf, len, NULL, &m, NULL));
        m->layers = xrealloc(m->layers, (m->n_layers + 1) * sizeof(*m->layers));
        image_descriptor_copy(&m->layers[m->n_layers], &m->layers[0]);
        m->layers[m->n_layers].size = 42;
        m->n_layers++;
        json_decref(m->annotations);
        m->annotations = NULL;
        free(m->config.digest);
        m->config.digest = xstrdup(DG);
        _cleanup_free_ char *w = image_manifest_write(m);
        ASSERT_OK(image_manifest_parse(w, strlen(w), NULL, &m2, NULL));
        ASSERT_EQ(m2->n_layers, 3);
        ASSERT_EQ(m2->layers[2].size, 42);
        ASSERT_STREQ(m2->layers[2].digest, m->layers[0].digest);
        ASSERT_TRUE(m2->annotations == NULL);
        ASSERT_STREQ(m2->config.digest, DG);

        /* a manifest built from nothing */
        struct image_manifest fresh = { .schema_version = 2,
                                        .media_type = (char *)MEDIA_TYPE_OCI_MANIFEST,
                                        .config = m2->config };
        _cleanup_free_ char *w2 = image_manifest_write(&fresh);
        ASSERT_TRUE(!strncmp(w2, "{\"schemaVersion\":2,\"mediaType\":", 31));
        ASSERT_TRUE(strstr(w2, "\"layers\":[]"));
}

TEST(media_types)
{
        ASSERT_TRUE(image_media_type_is_layer(MEDIA_TYPE_OCI_LAYER));
        ASSERT_TRUE(image_media_type_is_layer(MEDIA_TYPE_DOCKER_LAYER_GZIP));
        ASSERT_TRUE(!image_media_type_is_layer(MEDIA_TYPE_OCI_CONFIG));
        ASSERT_TRUE(!image_media_type_is_layer(NULL));
        ASSERT_TRUE(image_media_type_is_index(MEDIA_TYPE_OCI_INDEX));
        ASSERT_TRUE(!image_media_type_is_index(MEDIA_TYPE_OCI_MANIFEST));
}

/* Convert BUF's manifest to MT; *ret (caller frees) parsed back. */
static int convert(const char *buf, size_t len, const char *mt, struct image_manifest **ret,
                   struct st_error **err)
{
        _cleanup_manifest_ struct image_manifest *m = NULL;
        _cleanup_free_ char *out = NULL;
        size_t out_len = 0;
        int r = image_manifest_parse(buf, len, NULL, &m, err);
        if (r >= 0)
                r = image_manifest_convert(m, mt, &out, &out_len, err);
        if (r >= 0)
                r = image_manifest_parse(out, out_len, mt, ret, err);
        return r;
}

TEST(convert_docker_to_oci_and_back)
{
        size_t len;
        _cleanup_free_ char *buf = golden("docker-manifest.json", &len);
        _cleanup_manifest_ struct image_manifest *oci = NULL, *back = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(convert(buf, len, MEDIA_TYPE_OCI_MANIFEST, &oci, &e), e);
        ASSERT_STREQ(oci->config.media_type, MEDIA_TYPE_OCI_CONFIG);
        ASSERT_STREQ(oci->config.digest,
                     "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910");
        ASSERT_STREQ(oci->layers[0].media_type, MEDIA_TYPE_OCI_LAYER_GZIP);
        ASSERT_EQ(oci->layers[0].size, 3408729);
        ASSERT_STREQ(oci->layers[1].media_type, MEDIA_TYPE_OCI_LAYER_ND_GZIP);
        ASSERT_TRUE(json_object_get(oci->layers[1].raw, "urls"));

        _cleanup_free_ char *w = image_manifest_write(oci);
        ASSERT_OK_E(convert(w, strlen(w), MEDIA_TYPE_DOCKER_MANIFEST, &back, &e), e);
        ASSERT_STREQ(back->layers[0].media_type, MEDIA_TYPE_DOCKER_LAYER_GZIP);
        ASSERT_STREQ(back->layers[1].media_type, MEDIA_TYPE_DOCKER_LAYER_FOREIGN);
        ASSERT_STREQ(back->layers[1].digest, oci->layers[1].digest);
}

TEST(convert_oci_to_docker)
{
        size_t len;
        _cleanup_free_ char *buf = golden("oci-manifest.json", &len);
        _cleanup_manifest_ struct image_manifest *m = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        /* layer 2 is zstd: no Docker media type for it */
        ASSERT_ERR(convert(buf, len, MEDIA_TYPE_DOCKER_MANIFEST, &m, &e), ST_E_UNSUPPORTED);
        ASSERT_TRUE(strstr(st_error_msg(e), "layer 2 is zstd-compressed"));
        e = st_error_free(e);

        /* without it: annotations and unknown keys are gone, the rest converted */
        _cleanup_json_ json_t *j = NULL;
        ASSERT_OK_E(json_parse(buf, len, 1 << 20, "test", &j, &e), e);
        json_array_remove(json_object_get(j, "layers"), 1);
        _cleanup_free_ char *one = json_dump_compact(j);
        ASSERT_OK_E(convert(one, strlen(one), MEDIA_TYPE_DOCKER_MANIFEST, &m, &e), e);
        ASSERT_STREQ(m->media_type, MEDIA_TYPE_DOCKER_MANIFEST);
        ASSERT_STREQ(m->config.media_type, MEDIA_TYPE_DOCKER_CONFIG);
        ASSERT_STREQ(m->layers[0].media_type, MEDIA_TYPE_DOCKER_LAYER_GZIP);
        ASSERT_TRUE(!m->annotations);
        ASSERT_TRUE(!json_object_get(m->raw, "x-unknown"));

        /* to OCI, an OCI manifest is unchanged but for its (already right) media types */
        _cleanup_manifest_ struct image_manifest *same = NULL;
        ASSERT_OK_E(convert(buf, len, MEDIA_TYPE_OCI_MANIFEST, &same, &e), e);
        ASSERT_STREQ(same->layers[1].media_type, MEDIA_TYPE_OCI_LAYER_ZSTD);
        ASSERT_TRUE(json_object_get(same->raw, "x-unknown"));
        ASSERT_ERR(convert(buf, len, MEDIA_TYPE_OCI_INDEX, &same, &e), ST_E_UNSUPPORTED);
}
