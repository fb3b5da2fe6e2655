/* WWW-Authenticate parsing: the forms registries send, RFC 7235's corners, and the caps. */
#include "basic/util.h"
#include "registry/auth.h"
#include "tap.h"

static int parse(const char *v, struct registry_challenge **l, size_t *n)
{
        _cleanup_error_ struct st_error *e = NULL;
        int r = registry_challenges_parse(v, l, n, &e);
        if (r < 0)
                printf("# %s: %s\n", v, st_error_msg(e));
        return r;
}

TEST(docker_hub_bearer)
{
        struct registry_challenge *l = NULL;
        size_t n = 0;
        ASSERT_OK(
                parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\""
                      ",scope=\"repository:library/busybox:pull\"",
                      &l, &n));
        ASSERT_EQ(n, 1);
        ASSERT_STREQ(l[0].scheme, "bearer");
        ASSERT_STREQ(registry_challenge_param(&l[0], "realm"), "https://auth.docker.io/token");
        ASSERT_STREQ(registry_challenge_param(&l[0], "Service"), "registry.docker.io");
        ASSERT_STREQ(registry_challenge_param(&l[0], "scope"), "repository:library/busybox:pull");
        ASSERT_TRUE(registry_challenge_param(&l[0], "error") == NULL);
        registry_challenges_free(l, n);
}

TEST(basic_and_several)
{
        struct registry_challenge *l = NULL;
        size_t n = 0;
        ASSERT_OK(parse("Basic realm=\"Registry Realm\"", &l, &n));
        ASSERT_EQ(n, 1);
        ASSERT_STREQ(l[0].scheme, "basic");
        ASSERT_STREQ(registry_challenge_param(&l[0], "realm"), "Registry Realm");
        registry_challenges_free(l, n);
        ASSERT_OK(parse("Basic realm=a, Bearer realm=\"https://x/t\", error=\"insufficient_scope\","
                        " Negotiate",
                        &l, &n));
        ASSERT_EQ(n, 3);
        ASSERT_STREQ(registry_challenge_param(&l[0], "realm"), "a");
        ASSERT_STREQ(registry_challenge_param(&l[1], "error"), "insufficient_scope");
        ASSERT_STREQ(l[2].scheme, "negotiate");
        ASSERT_TRUE(registry_challenge_find(l, n, "BEARER") == &l[1]);
        ASSERT_TRUE(registry_challenge_find(l, n, "digest") == NULL);
        registry_challenges_free(l, n);
}

TEST(quoting_and_spacing)
{
        struct registry_challenge *l = NULL;
        size_t n = 0;
        ASSERT_OK(parse(" ,Bearer  realm = \"a\\\"b\\\\c, d\" ,, service=x ,", &l, &n));
        ASSERT_EQ(n, 1);
        ASSERT_STREQ(registry_challenge_param(&l[0], "realm"), "a\"b\\c, d");
        ASSERT_STREQ(registry_challenge_param(&l[0], "service"), "x");
        registry_challenges_free(l, n);
        ASSERT_OK(parse("Negotiate abc+/d==, Basic", &l, &n));
        ASSERT_EQ(n, 2);
        ASSERT_STREQ(l[0].token68, "abc+/d==");
        ASSERT_TRUE(l[1].params == NULL && l[1].token68 == NULL);
        registry_challenges_free(l, n);
        ASSERT_OK(parse("", &l, &n));
        ASSERT_EQ(n, 0);
        registry_challenges_free(l, n);
}

TEST(malformed)
{
        static const char *const bad[] = {
                "Bearer realm=\"unterminated",
                "Bearer realm=\"ctl\x01\"",
                "Bearer realm=\"x\" junk",
                "=x",
                "Bearer realm=a b",
                "Bearer realm=\"a\",, ,x=\"",
                "Bearer\x01",
                "Negotiate abc==x",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct registry_challenge *l = (void *)1;
                size_t n = 99;
                _cleanup_error_ struct st_error *e = NULL;
                printf("# %s\n", bad[i]);
                ASSERT_ERR(registry_challenges_parse(bad[i], &l, &n, &e), ST_E_PARSE);
                ASSERT_TRUE(l == (void *)1 && n == 99); /* untouched on failure */
        }
}

TEST(caps)
{
        _cleanup_free_ char *long_value = xmalloc(REGISTRY_HEADER_MAX + 2);
        memset(long_value, 'a', REGISTRY_HEADER_MAX + 1);
        long_value[REGISTRY_HEADER_MAX + 1] = 0;
        struct registry_challenge *l = NULL;
        size_t n = 0;
        _cleanup_error_ struct st_error *e1 = NULL, *e2 = NULL, *e3 = NULL;
        ASSERT_ERR(registry_challenges_parse(long_value, &l, &n, &e1), ST_E_TOO_BIG);
        _cleanup_free_ char *many = xstrdup("B");
        for (int i = 0; i < REGISTRY_CHALLENGES_MAX; i++) {
                char *next = xasprintf("%s, B", many);
                free(many);
                many = next;
        }
        ASSERT_ERR(registry_challenges_parse(many, &l, &n, &e2), ST_E_TOO_BIG);
        _cleanup_free_ char *params = xstrdup("Bearer a=1");
        for (int i = 0; i < REGISTRY_PARAMS_MAX; i++) {
                char *next = xasprintf("%s,a=1", params);
                free(params);
                params = next;
        }
        ASSERT_ERR(registry_challenges_parse(params, &l, &n, &e3), ST_E_TOO_BIG);
}
