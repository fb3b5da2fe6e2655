/* Manifests and indexes: parsing must not crash, and whatever parses must write out as a
 * document that parses again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void manifest(const char *buf, size_t len)
{
        _cleanup_manifest_ struct image_manifest *m = NULL, *m2 = NULL;
        if (image_manifest_parse(buf, len, NULL, &m, NULL) < 0)
                return;
        _cleanup_free_ char *w = image_manifest_write(m);
        if (image_manifest_parse(w, strlen(w), m->media_type, &m2, NULL) < 0)
                abort();
        _cleanup_free_ char *w2 = image_manifest_write(m2);
        if (!streq(w, w2))
                abort();
}

static void index_(const char *buf, size_t len)
{
        _cleanup_index_ struct image_index *x = NULL, *x2 = NULL;
        if (image_index_parse(buf, len, NULL, &x, NULL) < 0)
                return;
        _cleanup_free_ char *w = image_index_write(x);
        if (image_index_parse(w, strlen(w), x->media_type, &x2, NULL) < 0)
                abort();
        _cleanup_free_ char *w2 = image_index_write(x2);
        if (!streq(w, w2))
                abort();
        for (size_t i = 0; i < x->n_manifests; i++) {
                struct image_descriptor d;
                image_descriptor_copy(&d, &x->manifests[i]);
                image_descriptor_release(&d);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *buf = (const char *)data;
        manifest(buf, size);
        index_(buf, size);
        (void)image_manifest_sniff_media_type(buf, size);
        return 0;
}
