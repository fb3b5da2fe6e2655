#include <string.h>

#include "basic/util.h"
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
