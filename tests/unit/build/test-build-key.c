#include <string.h>

#include "basic/util.h"
#include "build/build-internal.h"
#include "build/build.h"
#include "tap.h"

TEST(cache_key_depends_on_parent_and_parts)
{
        char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1], c[DIGEST_STR_LEN + 1];
        char *p1[] = { (char *)"RUN x", (char *)"A=1", NULL };
        char *p2[] = { (char *)"RUN x", (char *)"A=2", NULL };
        build_cache_key(NULL, p1, a);
        build_cache_key(NULL, p1, b);
        ASSERT_STREQ(a, b);
        build_cache_key(NULL, p2, c);
        ASSERT_EQ(strcmp(a, c) != 0, 1);
        build_cache_key(a, p1, c);
        ASSERT_EQ(strcmp(a, c) != 0, 1);
        ASSERT_EQ(strncmp(a, "sha256:", 7), 0);
}

TEST(cache_key_separates_parts)
{
        char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1];
        char *p1[] = { (char *)"ab", (char *)"c", NULL };
        char *p2[] = { (char *)"a", (char *)"bc", NULL };
        build_cache_key(NULL, p1, a);
        build_cache_key(NULL, p2, b);
        ASSERT_EQ(strcmp(a, b) != 0, 1);
}

TEST(run_created_by)
{
        char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)"make all", NULL };
        char *args[] = { (char *)"A=1", (char *)"B=x y", NULL };
        _cleanup_free_ char *s1 = build_run_created_by(argv, NULL);
        ASSERT_STREQ(s1, "RUN /bin/sh -c make all # buildkit");
        _cleanup_free_ char *s2 = build_run_created_by(argv, args);
        ASSERT_STREQ(s2, "RUN |2 A=1 B=x y /bin/sh -c make all # buildkit");
}

TEST(go_strv_forms)
{
        char *l[] = { (char *)"sh", (char *)"-c", (char *)"echo \"hi\"", NULL };
        _cleanup_free_ char *q = build_go_quote_strv(l);
        ASSERT_STREQ(q, "[\"sh\" \"-c\" \"echo \\\"hi\\\"\"]");
        _cleanup_free_ char *v = build_go_strv(l);
        ASSERT_STREQ(v, "[sh -c echo \"hi\"]");
        char *none[] = { NULL };
        _cleanup_free_ char *e = build_go_strv(none);
        ASSERT_STREQ(e, "[]");
}

TEST(compression_parse_checks_levels)
{
        enum compress_type t = _COMPRESS_INVALID;
        ASSERT_OK(build_compression_parse(NULL, 0, &t, NULL));
        ASSERT_EQ(t, COMPRESS_GZIP);
        ASSERT_OK(build_compression_parse("zstd", 19, &t, NULL));
        ASSERT_EQ(t, COMPRESS_ZSTD);
        ASSERT_OK(build_compression_parse("gzip", 1, &t, NULL));
        ASSERT_OK(build_compression_parse("none", 0, &t, NULL));
        ASSERT_EQ(t, COMPRESS_NONE);
        ASSERT_ERR(build_compression_parse("gzip", 10, &t, NULL), ST_E_USAGE);
        ASSERT_ERR(build_compression_parse("zstd", 20, &t, NULL), ST_E_USAGE);
        ASSERT_ERR(build_compression_parse("zstd", -1, &t, NULL), ST_E_USAGE);
        ASSERT_ERR(build_compression_parse("none", 1, &t, NULL), ST_E_USAGE);
        ASSERT_ERR(build_compression_parse("xz", 0, &t, NULL), ST_E_USAGE);
}

TEST(layer_key_mixes_in_the_compression)
{
        char k[DIGEST_STR_LEN + 1], a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1];
        char *p[] = { (char *)"RUN x", NULL };
        build_cache_key(NULL, p, k);
        build_layer_key(k, COMPRESS_GZIP, 0, a);
        ASSERT_STREQ(a, k); /* the keys from before --compression stay valid */
        build_layer_key(k, COMPRESS_GZIP, 6, a);
        ASSERT_STREQ(a, k);
        build_layer_key(k, COMPRESS_GZIP, 9, a);
        ASSERT_TRUE(!streq(a, k));
        build_layer_key(k, COMPRESS_ZSTD, 0, a);
        build_layer_key(k, COMPRESS_ZSTD, 3, b);
        ASSERT_STREQ(a, b);
        ASSERT_TRUE(!streq(a, k));
        build_layer_key(k, COMPRESS_NONE, 0, b);
        ASSERT_TRUE(!streq(a, b) && !streq(b, k));
}

TEST(url_file_name)
{
        static const struct {
                const char *url, *name;
        } cases[] = {
                { "http://h/a/b.tar.gz", "b.tar.gz" },
                { "https://h:8080/dir/file?x=1#frag", "file" },
                { "http://h/dir/", "dir" },
                { "http://h/", "__unnamed__" },
                { "http://h", "__unnamed__" },
                { "http://h?q=/x", "__unnamed__" },
                { "http://user:pw@h/p/%41%20b", "A b" },
                { "http://h/a/%2e%2e", "__unnamed__" },
                { "http://h/a/%00x", "__unnamed__" },
                { "http://h/a%2Fb", "__unnamed__" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *n = build_url_file_name(cases[i].url);
                ASSERT_STREQ(n, cases[i].name);
        }
        _cleanup_free_ char *m = build_url_for_message("https://u:secret@h:1/p?sig=abc");
        ASSERT_STREQ(m, "https://h:1/p");

        static const struct {
                const char *url, *redacted;
        } red[] = {
                { "https://u:secret@h:1/p?q=1", "https://u:xxxxx@h:1/p?q=1" },
                { "https://ghp_token@h/p", "https://xxxxx@h/p" },
                { "https://h/p@x", "https://h/p@x" }, /* an '@' in the path is not user info */
                { "http://h/p", "http://h/p" },
        };

        for (size_t i = 0; i < ELEMENTSOF(red); i++) {
                _cleanup_free_ char *r = build_url_redacted(red[i].url);
                ASSERT_STREQ(r, red[i].redacted);
        }
        ASSERT_EQ(build_is_git_source("https://github.com/x/y.git#main"), 1);
        ASSERT_EQ(build_is_git_source("git@github.com:x/y"), 1);
        ASSERT_EQ(build_is_git_source("https://h/y.tar"), 0);
        ASSERT_EQ(build_is_url("HTTP://h/x"), 0); /* BuildKit's prefix test is case-sensitive */
}

TEST(source_date_epoch_build_arg_wins_over_env)
{
        int64_t t = -1;
        char *env[] = { (char *)"PATH=/bin", (char *)"SOURCE_DATE_EPOCH=100", NULL };
        char *args[] = { (char *)"A=1", (char *)"SOURCE_DATE_EPOCH=200", NULL };
        char *bare[] = { (char *)"SOURCE_DATE_EPOCH", NULL };
        char *empty[] = { (char *)"SOURCE_DATE_EPOCH=", NULL };
        char *bad[] = { (char *)"SOURCE_DATE_EPOCH=12x", NULL };
        char *neg[] = { (char *)"SOURCE_DATE_EPOCH=-5", NULL };
        ASSERT_EQ(build_source_date_epoch(NULL, NULL, &t, NULL), 0);
        ASSERT_EQ(t, -1);
        ASSERT_EQ(build_source_date_epoch(NULL, env, &t, NULL), 1);
        ASSERT_EQ(t, 100);
        ASSERT_EQ(build_source_date_epoch(args, env, &t, NULL), 1);
        ASSERT_EQ(t, 200);
        ASSERT_EQ(build_source_date_epoch(bare, env, &t, NULL), 1);
        ASSERT_EQ(t, 100);
        t = -1;
        ASSERT_EQ(build_source_date_epoch(bare, NULL, &t, NULL), 0);
        ASSERT_EQ(build_source_date_epoch(empty, env, &t, NULL), 0);
        ASSERT_EQ(t, -1);
        ASSERT_ERR(build_source_date_epoch(bad, NULL, &t, NULL), ST_E_USAGE);
        ASSERT_ERR(build_source_date_epoch(neg, NULL, &t, NULL), ST_E_USAGE);
        ASSERT_EQ(t, -1);
}
