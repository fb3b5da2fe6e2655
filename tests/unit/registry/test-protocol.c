/* Registry error bodies and platform matching. */
#include "basic/util.h"
#include "registry/protocol.h"
#include "tap.h"

static const char *msg_of(long status, const char *body, int *ret_code)
{
        static char buf[1024];
        _cleanup_error_ struct st_error *e = NULL;
        *ret_code = registry_error_from_response(status, body, body ? strlen(body) : 0, &e);
        snprintf(buf, sizeof(buf), "%s", st_error_msg(e));
        return buf;
}

TEST(errors_json)
{
        int code = 0;
        ASSERT_STREQ(msg_of(404,
                            "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":"
                            "\"manifest unknown\",\"detail\":{\"Tag\":\"x\"}}]}",
                            &code),
                     "manifest unknown: manifest unknown");
        ASSERT_EQ(code, ST_E_MANIFEST_UNKNOWN);
        ASSERT_STREQ(msg_of(401,
                            "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":"
                            "\"authentication required\"}]}\n",
                            &code),
                     "unauthorized: authentication required");
        ASSERT_EQ(code, ST_E_UNAUTHORIZED);
        ASSERT_STREQ(msg_of(403,
                            "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"no\"},"
                            "{\"code\":\"NAME_UNKNOWN\"}]}",
                            &code),
                     "denied: no; name unknown");
        ASSERT_EQ(code, ST_E_DENIED);
        ASSERT_STREQ(msg_of(404,
                            "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":"
                            "\"a\\u001b[31mb\\nc\"}]}",
                            &code),
                     "blob unknown: a [31mb c");
        ASSERT_EQ(code, ST_E_NOT_FOUND);
        ASSERT_STREQ(msg_of(429,
                            "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow"
                            " down\"}]}",
                            &code),
                     "toomanyrequests: slow down");
        ASSERT_EQ(code, ST_E_HTTP);
}

TEST(errors_other)
{
        int code = 0;
        ASSERT_STREQ(msg_of(502, "<html>bad gateway</html>", &code),
                     "unexpected HTTP status 502 (Bad Gateway)");
        ASSERT_EQ(code, ST_E_HTTP);
        ASSERT_STREQ(msg_of(401, NULL, &code), "unauthorized: authentication required");
        ASSERT_EQ(code, ST_E_UNAUTHORIZED);
        ASSERT_STREQ(msg_of(404, "", &code), "unexpected HTTP status 404 (Not Found)");
        ASSERT_EQ(code, ST_E_NOT_FOUND);
        ASSERT_STREQ(msg_of(418, "{\"errors\":\"x\"}", &code), "unexpected HTTP status 418");
        ASSERT_STREQ(msg_of(400, "{\"errors\":[{\"message\":\"no code\"}]}", &code),
                     "unexpected HTTP status 400 (Bad Request)");
        _cleanup_free_ char *huge = xmalloc(5000);
        memset(huge, 'x', 4999);
        huge[4999] = 0;
        _cleanup_free_ char *body =
                xasprintf("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"%s\"}]}", huge);
        ASSERT_TRUE(strlen(msg_of(403, body, &code)) < 400);
}

static void check_platform(const char *in, const char *os, const char *arch, const char *variant)
{
        struct registry_platform p;
        _cleanup_error_ struct st_error *e = NULL;
        printf("# %s\n", in);
        ASSERT_OK_E(registry_platform_parse(in, &p, &e), e);
        ASSERT_STREQ(p.os, os);
        ASSERT_STREQ(p.arch, arch);
        ASSERT_STREQ(p.variant, variant);
}

TEST(platform_parse)
{
        check_platform("linux/amd64", "linux", "amd64", "");
        check_platform("arm64", "linux", "arm64", "");
        check_platform("Linux/x86_64", "linux", "amd64", "");
        check_platform("linux/aarch64/8", "linux", "arm64", "v8");
        check_platform("linux/armhf", "linux", "arm", "v7");
        check_platform("linux/arm/v6", "linux", "arm", "v6");
        check_platform("windows/amd64", "windows", "amd64", "");
        static const char *const bad[] = { "", "/", "linux/", "a/b/c/d", "linux/am d64", "x//y" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct registry_platform p;
                _cleanup_error_ struct st_error *e = NULL;
                ASSERT_ERR(registry_platform_parse(bad[i], &p, &e), ST_E_USAGE);
        }
}

TEST(platform_select)
{
        static const char index[] =
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                "\"manifests\":["
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
                "\"sha256:1111111111111111111111111111111111111111111111111111111111111111\","
                "\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
                "\"variant\":\"v6\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
                "\"sha256:2222222222222222222222222222222222222222222222222222222222222222\","
                "\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
                "\"variant\":\"v7\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
                "\"sha256:3333333333333333333333333333333333333333333333333333333333333333\","
                "\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\","
                "\"variant\":\"v8\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
                "\"sha256:4444444444444444444444444444444444444444444444444444444444444444\","
                "\"size\":1,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
                "\"sha256:5555555555555555555555555555555555555555555555555555555555555555\","
                "\"size\":1,\"annotations\":{\"vnd.docker.reference.type\":"
                "\"attestation-manifest\"},\"platform\":{\"os\":\"linux\","
                "\"architecture\":\"amd64\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
                "\"sha256:6666666666666666666666666666666666666666666666666666666666666666\","
                "\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
        _cleanup_index_ struct image_index *idx = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(image_index_parse(index, strlen(index), NULL, &idx, &e), e);

        static const struct {
                const char *platform;
                char digit; /* 0: none */
        } cases[] = {
                { "linux/amd64", '6' }, { "linux/arm64", '3' },   { "linux/arm64/v8", '3' },
                { "linux/arm", '2' },   { "linux/arm/v6", '1' },  { "linux/arm64/v9", 0 },
                { "linux/s390x", 0 },   { "unknown/unknown", 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct registry_platform p;
                ASSERT_OK(registry_platform_parse(cases[i].platform, &p, NULL));
                const struct image_descriptor *d = registry_platform_select(idx, &p);
                printf("# %s\n", cases[i].platform);
                if (!cases[i].digit)
                        ASSERT_TRUE(d == NULL);
                else
                        ASSERT_TRUE(d && d->digest[7] == cases[i].digit);
        }
}
