#include "basic/util.h"
#include "image/reference.h"
#include "tap.h"

#define D64 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct {
        const char *in, *domain, *path, *tag, *digest, *full, *familiar;
} good[] = {
        { "busybox", "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest", "busybox:latest" },
        { "busybox:1.36", "docker.io", "library/busybox", "1.36", NULL,
          "docker.io/library/busybox:1.36", "busybox:1.36" },
        { "user/x", "docker.io", "user/x", "latest", NULL, "docker.io/user/x:latest",
          "user/x:latest" },
        { "localhost/x", "localhost", "x", "latest", NULL, "localhost/x:latest",
          "localhost/x:latest" },
        { "localhost:5000/a/b:1.0", "localhost:5000", "a/b", "1.0", NULL, "localhost:5000/a/b:1.0",
          "localhost:5000/a/b:1.0" },
        { "[::1]:5000/x", "[::1]:5000", "x", "latest", NULL, "[::1]:5000/x:latest",
          "[::1]:5000/x:latest" },
        { "example.com/x@" D64, "example.com", "x", NULL, D64, "example.com/x@" D64,
          "example.com/x@" D64 },
        { "name:tag@" D64, "docker.io", "library/name", "tag", D64,
          "docker.io/library/name:tag@" D64, "name:tag@" D64 },
        { "docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest", "busybox:latest" },
        { "index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest", "busybox:latest" },
        { "docker.io/library/a/b", "docker.io", "library/a/b", "latest", NULL,
          "docker.io/library/a/b:latest", "library/a/b:latest" },
        { "Example.COM/a-b__c.d---e/f_g:TAG_1.x-y", "Example.COM", "a-b__c.d---e/f_g", "TAG_1.x-y",
          NULL, "Example.COM/a-b__c.d---e/f_g:TAG_1.x-y",
          "Example.COM/a-b__c.d---e/f_g:TAG_1.x-y" },
        { "localhost", "docker.io", "library/localhost", "latest", NULL,
          "docker.io/library/localhost:latest", "localhost:latest" },
        { "localhost:5000", "docker.io", "library/localhost", "5000", NULL,
          "docker.io/library/localhost:5000", "localhost:5000" },
        { "127.0.0.1:5000/x/y", "127.0.0.1:5000", "x/y", "latest", NULL,
          "127.0.0.1:5000/x/y:latest", "127.0.0.1:5000/x/y:latest" },
        { "[fe80::1]/x", "[fe80::1]", "x", "latest", NULL, "[fe80::1]/x:latest",
          "[fe80::1]/x:latest" },
};

TEST(normalize)
{
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_image_ref_ struct image_ref *r = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                printf("# %s\n", good[i].in);
                ASSERT_OK_E(image_ref_parse(good[i].in, &r, &e), e);
                ASSERT_STREQ(r->domain, good[i].domain);
                ASSERT_STREQ(r->path, good[i].path);
                ASSERT_TRUE(streq_ptr(r->tag, good[i].tag));
                ASSERT_TRUE(streq_ptr(r->digest, good[i].digest));
                _cleanup_free_ char *full = image_ref_string(r);
                _cleanup_free_ char *fam = image_ref_familiar_string(r);
                ASSERT_STREQ(full, good[i].full);
                ASSERT_STREQ(fam, good[i].familiar);
        }
}

static const struct {
        const char *in, *msg;
} bad[] = {
        { "", "invalid reference format" },
        { "Busybox", "invalid reference format: repository name (library/Busybox) must be "
                     "lowercase" },
        { "docker.io/User/x", "invalid reference format: repository name (User/x) must be "
                              "lowercase" },
        { "a::b", "invalid reference format: invalid tag ':b'" },
        { "busybox:", "invalid reference format: invalid tag ''" },
        { "busybox:-x", "invalid reference format: invalid tag '-x'" },
        { "x@sha256:abc", "invalid reference format" },
        { "x@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852", "invalid "
                                                                                   "checksum "
                                                                                   "digest "
                                                                                   "length" },
        { "x@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
          "invalid checksum digest format" },
        { "x@md5:e3b0c44298fc1c149afbf4c8996fb924", "unsupported digest algorithm" },
        { "-leading", "invalid reference format" },
        { "a//b", "invalid reference format" },
        { "a/", "invalid reference format" },
        { "/a", "invalid reference format" },
        { "a..b", "invalid reference format" },
        { "a___b", "invalid reference format" },
        { "a_", "invalid reference format" },
        { "-x.com/a", "invalid reference format" },
        { "x.com:/a", "invalid reference format" },
        { "x.com:50a/a", "invalid reference format" },
        { "[]/a", "invalid reference format" },
        { "[::1/a", "invalid reference format" },
        { "a b", "invalid reference format" },
        { "a@b@c", "invalid reference format" },
        { "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          "invalid repository name (e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852"
          "b855), cannot specify 64-byte hexadecimal strings" },
};

TEST(invalid)
{
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_image_ref_ struct image_ref *r = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                printf("# '%s'\n", bad[i].in);
                ASSERT_ERR(image_ref_parse(bad[i].in, &r, &e), ST_E_PARSE);
                ASSERT_TRUE(r == NULL);
                ASSERT_STREQ(st_error_msg(e), bad[i].msg);
        }
}

static char *repeat(char c, size_t n)
{
        char *s = xmalloc(n + 1);
        memset(s, c, n);
        s[n] = 0;
        return s;
}

TEST(lengths)
{
        _cleanup_free_ char *t128 = repeat('t', 128), *t129 = repeat('t', 129);
        _cleanup_free_ char *ok = xasprintf("x:%s", t128), *long_tag = xasprintf("x:%s", t129);
        _cleanup_image_ref_ struct image_ref *r = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(image_ref_parse(ok, &r, &e), e);
        ASSERT_ERR(image_ref_parse(long_tag, &r, &e), ST_E_PARSE);
        st_error_free(e);
        e = NULL;
        /* the path (library/ + name) may have 255 characters, not 256 */
        _cleanup_free_ char *n247 = repeat('a', 247), *n248 = repeat('a', 248);
        image_ref_free(r);
        r = NULL;
        ASSERT_OK_E(image_ref_parse(n247, &r, &e), e);
        ASSERT_EQ(strlen(r->path), 255);
        ASSERT_ERR(image_ref_parse(n248, &r, &e), ST_E_PARSE);
        ASSERT_STREQ(st_error_msg(e), "invalid reference format: repository name must not be "
                                      "more than 255 characters");
}

TEST(parse_name_no_default_tag)
{
        _cleanup_image_ref_ struct image_ref *r = NULL;
        ASSERT_OK(image_ref_parse_name("busybox", &r, NULL));
        ASSERT_TRUE(r->tag == NULL);
        _cleanup_free_ char *s = image_ref_string(r), *repo = image_ref_repository(r);
        ASSERT_STREQ(s, "docker.io/library/busybox");
        ASSERT_STREQ(repo, "docker.io/library/busybox");
}

TEST(familiar)
{
        static const char *const table[][2] = {
                { "docker.io/library/busybox:latest", "busybox:latest" },
                { "docker.io/user/x:1", "user/x:1" },
                { "localhost:5000/x:1", "localhost:5000/x:1" },
                { "quay.io/library/x:1", "quay.io/library/x:1" },
                { "not a ref", "not a ref" },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *f = image_ref_familiarize(table[i][0]);
                ASSERT_STREQ(f, table[i][1]);
        }
        _cleanup_image_ref_ struct image_ref *r = NULL;
        ASSERT_OK(image_ref_parse("docker.io/library/busybox:1", &r, NULL));
        _cleanup_free_ char *repo = image_ref_familiar_repository(r);
        ASSERT_STREQ(repo, "busybox");
}

TEST(tag_valid)
{
        ASSERT_TRUE(image_ref_tag_is_valid("latest"));
        ASSERT_TRUE(image_ref_tag_is_valid("_x.Y-1"));
        ASSERT_TRUE(!image_ref_tag_is_valid(""));
        ASSERT_TRUE(!image_ref_tag_is_valid(".x"));
        ASSERT_TRUE(!image_ref_tag_is_valid("a/b"));
        ASSERT_TRUE(!image_ref_tag_is_valid("é"));
}
