/* Manifests over HTTP: GET with every media type strata reads, verified; PUT; tag lists. */
#include <stdio.h>
#include <strings.h>

#include "basic/util.h"
#include "json/json.h"
#include "registry/registry-internal.h"

#define TAGS_PAGE     1000
#define TAGS_BODY_MAX (4 * 1024 * 1024)

void fetched_manifest_release(struct fetched_manifest *m)
{
        free(m->buf);
        free(m->media_type);
        *m = (struct fetched_manifest){ 0 };
}

/* "application/json; charset=utf-8" -> "application/json"; caller frees. */
static char *base_type(const char *ct)
{
        if (!ct)
                return NULL;
        size_t n = strcspn(ct, ";");
        while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
                n--;
        return xstrndup(ct, n);
}

/* The media type of M: the document's, which must agree with a specific Content-Type. */
static int check_media_type(struct fetched_manifest *m, const char *content_type,
                            struct st_error **err)
{
        _cleanup_free_ char *ct = base_type(content_type);
        const char *doc = image_manifest_sniff_media_type(m->buf, m->len);
        bool generic = !ct || !*ct || streq(ct, "application/json") ||
                       streq(ct, "application/octet-stream") || streq(ct, "text/plain");
        if (!doc && generic)
                return st_error_set(err, ST_E_UNSUPPORTED,
                                    "the registry sent a manifest of unknown type");
        if (doc && !generic && !streq(doc, ct))
                return st_error_set(err, ST_E_PARSE,
                                    "the registry sent Content-Type '%.100s' for a manifest of"
                                    " type '%s'",
                                    ct, doc);
        m->media_type = xstrdup(doc ?: ct);
        return 0;
}

static int verify(struct fetched_manifest *m, const char *reference, const char *header,
                  struct st_error **err)
{
        digest_buf(m->buf, m->len, m->digest);
        if (digest_is_valid(reference) && !streq(reference, m->digest))
                return st_error_set(err, ST_E_DIGEST_MISMATCH,
                                    "manifest %s from the registry hashes to %s", reference,
                                    m->digest);
        if (header && digest_is_valid(header) && !streq(header, m->digest))
                return st_error_set(err, ST_E_DIGEST_MISMATCH,
                                    "the registry says manifest '%s' is %s, but it hashes to %s",
                                    reference, header, m->digest);
        return 0;
}

int manifest_get(struct registry_client *c, const char *reference, struct fetched_manifest *ret,
                 struct st_error **err)
{
        _cleanup_free_ char *path = xasprintf("/v2/%s/manifests/%s", c->repository, reference);
        struct http_req req = { .method = "GET",
                                .url = path,
                                .accept = MANIFEST_ACCEPT,
                                .follow = true,
                                .cap = IMAGE_MANIFEST_MAX,
                                .body_fd = -1 };
        struct http_resp resp = { 0 };
        struct fetched_manifest m = { 0 };
        int r = http_do(c, c->easy, &req, &resp, err);
        if (r >= 0 && resp.status != 200)
                r = http_error(&resp, err);
        if (r >= 0) {
                m.buf = resp.body ?: xstrdup("");
                m.len = resp.len;
                resp.body = NULL;
                r = check_media_type(&m, resp.hdr.content_type, err);
        }
        if (r >= 0)
                r = verify(&m, reference, resp.hdr.digest, err);
        http_resp_release(&resp);
        if (r < 0) {
                fetched_manifest_release(&m);
                return r;
        }
        *ret = m;
        return 0;
}

int manifest_put(struct registry_client *c, const char *reference, const char *buf, size_t len,
                 const char *media_type, struct st_error **err)
{
        _cleanup_free_ char *path = xasprintf("/v2/%s/manifests/%s", c->repository, reference);
        struct http_req req = { .method = "PUT",
                                .url = path,
                                .content_type = media_type,
                                .body = buf,
                                .body_len = len,
                                .body_fd = -1 };
        struct http_resp resp = { 0 };
        int r = http_do(c, c->easy, &req, &resp, err);
        if (r >= 0 && resp.status != 201 && resp.status != 200)
                r = http_error(&resp, err);
        char d[DIGEST_STR_LEN + 1];
        digest_buf(buf, len, d);
        if (r >= 0 && resp.hdr.digest && !streq(resp.hdr.digest, d))
                r = st_error_set(err, ST_E_DIGEST_MISMATCH,
                                 "the registry stored the manifest as %.80s, not %s",
                                 resp.hdr.digest, d);
        http_resp_release(&resp);
        return r;
}

/* The next page of a Link header: <url>; rel="next"; NULL if none; caller frees. */
static char *next_link(const char *base, const char *link)
{
        if (!link || !strcasestr(link, "rel=\"next\""))
                return NULL;
        const char *lt = strchr(link, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        if (!gt)
                return NULL;
        _cleanup_free_ char *target = xstrndup(lt + 1, (size_t)(gt - lt - 1));
        return http_resolve(base, target);
}

static int tags_page(struct registry_client *c, const char *url, char ***tags, char **ret_next,
                     struct st_error **err)
{
        struct http_req req = {
                .method = "GET", .url = url, .follow = true, .cap = TAGS_BODY_MAX, .body_fd = -1
        };
        struct http_resp resp = { 0 };
        _cleanup_json_ json_t *j = NULL;
        int r = http_do(c, c->easy, &req, &resp, err);
        if (r >= 0 && resp.status != 200)
                r = http_error(&resp, err);
        if (r >= 0)
                r = json_parse(resp.body ?: "", resp.len, TAGS_BODY_MAX, "tag list", &j, err);
        json_t *l = json_object_get(j, "tags"), *t;
        JSON_ARRAY_FOREACH(i, t, l) {
                if (r < 0 || !json_is_string(t))
                        continue;
                if (strv_length(*tags) >= REGISTRY_TAGS_MAX)
                        r = st_error_set(err, ST_E_TOO_BIG, "more than %d tags", REGISTRY_TAGS_MAX);
                else if (image_ref_tag_is_valid(json_string_value(t)))
                        strv_push(tags, json_string_value(t));
        }
        *ret_next = r >= 0 ? next_link(resp.url, resp.hdr.link) : NULL;
        http_resp_release(&resp);
        return r;
}

int registry_list_tags(struct registry_ctx *ctx, const struct image_ref *ref, char ***ret,
                       struct st_error **err)
{
        _cleanup_client_ struct registry_client *c = NULL;
        int r = client_new(ctx, ref->domain, ref->path, "pull", &c, err);
        _cleanup_strv_ char **tags = NULL;
        _cleanup_free_ char *url = xasprintf("/v2/%s/tags/list?n=%d", ref->path, TAGS_PAGE);
        for (unsigned page = 0; r >= 0 && url; page++) {
                char *next = NULL;
                r = tags_page(c, url, &tags, &next, err);
                free(url);
                url = page < REGISTRY_TAGS_MAX / 10 ? next : mfree_str(next);
        }
        if (r < 0)
                return st_error_wrap(err, "list tags of '%s/%s'", ref->domain, ref->path);
        *ret = TAKE_PTR(tags);
        return 0;
}

int registry_manifest_fetch(struct registry_ctx *ctx, const struct image_ref *ref, char **ret,
                            size_t *ret_len, char **ret_media_type, struct st_error **err)
{
        _cleanup_client_ struct registry_client *c = NULL;
        struct fetched_manifest m = { 0 };
        int r = client_new(ctx, ref->domain, ref->path, "pull", &c, err);
        if (r >= 0)
                r = manifest_get(c, ref->digest ?: ref->tag, &m, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m.buf);
        *ret_len = m.len;
        if (ret_media_type)
                *ret_media_type = TAKE_PTR(m.media_type);
        fetched_manifest_release(&m);
        return 0;
}
