#include <stdio.h>
#include <string.h>

#include "basic/util.h"
#include "build/build-internal.h"
#include "json/json.h"
#include "tap.h"

static json_t *parse(const char *text)
{
        json_t *j = NULL;
        if (json_parse(text, strlen(text), 1 << 20, "test", &j, NULL) < 0)
                return NULL;
        return j;
}

static char *joined(char **l)
{
        char *out = xstrdup("");
        STRV_FOREACH(p, l) {
                char *n = xasprintf("%s%s\n", out, *p);
                free(out);
                out = n;
        }
        return out;
}

static char *diff(const char *prev, const char *cur, const char *last, bool ran)
{
        _cleanup_json_ json_t *p = prev ? parse(prev) : NULL;
        _cleanup_json_ json_t *c = parse(cur);
        _cleanup_strv_ char **l = build_explain_diff(p, c, last, ran);
        return joined(l);
}

TEST(no_earlier_build)
{
        _cleanup_free_ char *s = diff(NULL, "{\"parent\":\"k\"}", NULL, false);
        ASSERT_STREQ(s, "no earlier build of this step\n");
}

TEST(args_env_user_and_config_steps)
{
        _cleanup_free_ char *s = diff(
                "{\"parent\":\"a\",\"args\":[\"V=1\",\"GONE=x\"],\"env\":[\"E=x\"],\"user\":\"\","
                "\"trail\":[\"ENV E=x\",\"LABEL a=1\",\"EXPOSE map[80/tcp:{}]\"],\"text\":\"RUN x\"}",
                "{\"parent\":\"b\",\"args\":[\"V=2\",\"NEW\"],\"env\":[\"E=y\"],\"user\":\"app\","
                "\"trail\":[\"ENV E=y\",\"LABEL a=2\",\"EXPOSE map[80/tcp:{}]\"],\"text\":\"RUN x\"}",
                "[2/3] RUN y", false);
        ASSERT_STREQ(s, "build arg V changed: '1' -> '2'\n"
                        "build arg NEW changed: (unset) -> (no value)\n"
                        "build arg GONE changed: 'x' -> (unset)\n"
                        "env E changed: 'x' -> 'y'\n"
                        "user changed: '' -> 'app'\n"
                        "earlier instruction changed: 'LABEL a=1' -> 'LABEL a=2'\n");
}

TEST(parent_rebuilt_and_instruction)
{
        _cleanup_free_ char *s =
                diff("{\"parent\":\"a\",\"text\":\"RUN one\"}",
                     "{\"parent\":\"b\",\"text\":\"RUN uno\"}", "[2/3] COPY x /", true);
        ASSERT_STREQ(s, "parent step [2/3] COPY x / was rebuilt\n"
                        "instruction changed: 'RUN one' -> 'RUN uno'\n");
        _cleanup_free_ char *t =
                diff("{\"parent\":\"a\"}", "{\"parent\":\"b\"}", "[2/3] COPY x /", false);
        ASSERT_STREQ(t, "parent step [2/3] COPY x / used another cache entry\n");
        _cleanup_free_ char *u = diff("{\"parent\":\"a\",\"compression\":\"gzip:0\"}",
                                      "{\"parent\":\"a\",\"compression\":\"zstd:0\"}", NULL, false);
        ASSERT_STREQ(u, "compression changed: 'gzip:0' -> 'zstd:0'\n");
        _cleanup_free_ char *v = diff("{\"parent\":\"a\"}", "{\"parent\":\"a\"}", NULL, false);
        ASSERT_STREQ(v, "its inputs changed\n");
}

TEST(files_by_kind_of_change)
{
        _cleanup_free_ char *s =
                diff("{\"parent\":\"a\",\"files\":[[\"a\",\"100000 644 0:0\",\"11\"],"
                     "[\"b\",\"100000 644 0:0\",\"22\"],[\"c\",\"120000 777 0:0\",\"33\"],"
                     "[\"d\",\"100000 644 0:0\",\"44\"],[\"gone\",\"100000 644 0:0\",\"55\"],"
                     "[\"t\",\"100000 644 0:0\",\"66\"]],\"nfiles\":6}",
                     "{\"parent\":\"a\",\"files\":[[\"a\",\"100000 644 0:0\",\"1x\"],"
                     "[\"b\",\"100000 755 0:0\",\"22\"],[\"c\",\"120000 777 0:0\",\"3x\"],"
                     "[\"d\",\"100000 644 1:2\",\"44\"],[\"new\",\"100000 644 0:0\",\"77\"],"
                     "[\"t\",\"40000 755 0:0\",\"66\"]],\"nfiles\":6}",
                     NULL, false);
        ASSERT_STREQ(s, "file 'a' changed: content\n"
                        "file 'b' changed: mode 644 -> 755\n"
                        "file 'c' changed: link target\n"
                        "file 'd' changed: owner 0:0 -> 1:2\n"
                        "file 'gone' removed\n"
                        "file 'new' added\n"
                        "file 't' changed: type\n");
}

TEST(files_capped)
{
        _cleanup_json_ json_t *p = json_pack("{s:s}", "parent", "a");
        _cleanup_json_ json_t *c = json_pack("{s:s}", "parent", "a");
        char digest[DIGEST_STR_LEN + 1];
        for (int i = 0; i < 15; i++) {
                char name[16];
                snprintf(name, sizeof(name), "f%02d", i);
                snprintf(digest, sizeof(digest), "sha256:%03d%061d", i, 0);
                build_inputs_add_file(p, name, "100000 644 0:0", digest);
                snprintf(digest, sizeof(digest), "sha256:%03d%061d", i + 100, 0);
                build_inputs_add_file(c, name, "100000 644 0:0", digest);
        }
        _cleanup_strv_ char **l = build_explain_diff(p, c, NULL, false);
        ASSERT_EQ(strv_length(l), (size_t)BUILD_EXPLAIN_FILES_MAX + 1);
        ASSERT_STREQ(l[0], "file 'f00' changed: content");
        ASSERT_STREQ(l[BUILD_EXPLAIN_FILES_MAX], "and 5 more files changed");
}

TEST(file_list_bounded)
{
        _cleanup_json_ json_t *p = json_object();
        _cleanup_json_ json_t *c = json_object();
        const char *d0 = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        const char *d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        for (int i = 0; i <= BUILD_INPUTS_FILES_MAX; i++) {
                char name[16];
                snprintf(name, sizeof(name), "f%05d", i);
                build_inputs_add_file(p, name, "100000 644 0:0", d0);
                build_inputs_add_file(c, name, "100000 644 0:0",
                                      i == BUILD_INPUTS_FILES_MAX ? d1 : d0);
        }
        ASSERT_EQ(json_array_size(json_object_get(c, "files")), (size_t)BUILD_INPUTS_FILES_MAX);
        ASSERT_EQ(json_integer_value(json_object_get(c, "nfiles")),
                  (json_int_t)BUILD_INPUTS_FILES_MAX + 1);
        _cleanup_strv_ char **l = build_explain_diff(p, c, NULL, false);
        ASSERT_EQ(strv_length(l), (size_t)1);
        ASSERT_STREQ(l[0], "a file not listed in the record changed (over 4096 files, or a path "
                           "over 512 bytes)");
}

TEST(shared_lines)
{
        ASSERT_TRUE(build_explain_shared("build arg V changed: '1' -> '2'"));
        ASSERT_TRUE(build_explain_shared("env E changed: 'x' -> 'y'"));
        ASSERT_TRUE(!build_explain_shared("file 'a' changed: content"));
        ASSERT_TRUE(!build_explain_shared("instruction changed: 'a' -> 'b'"));
}
