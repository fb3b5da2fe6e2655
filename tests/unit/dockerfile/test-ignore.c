#include "basic/util.h"
#include "dockerfile/ignore.h"
#include "tap.h"

static const struct {
        const char *file, *path;
        bool excluded;
} cases[] = {
        { "**/*.go", "a.go", true },
        { "**/*.go", "x/y/a.go", true },
        { "**/*.go", "a.go/b", true },
        { "**/*.go", "a.txt", false },
        { "*.go\n!important.go", "important.go", false },
        { "*.go\n!important.go", "x.go", true },
        { "*.go\n!important.go", "sub/x.go", false },
        { "docs/**/*.md", "docs/a.md", true },
        { "docs/**/*.md", "docs/x/y/a.md", true },
        { "docs/**/*.md", "a.md", false },
        { "docs/**/*.md", "docs/a.txt", false },
        { "[a-c]?.txt", "ax.txt", true },
        { "[a-c]?.txt", "dx.txt", false },
        { "[a-c]?.txt", "a.txt", false },
        { "[^a]*", "b", true },
        { "[^a]*", "abc", false },
        { ".git", ".git", true },
        { ".git", ".git/config", true },
        { ".git", "a/.git", false },
        { "*/temp*", "a/temp1", true },
        { "*/temp*", "a/b/temp", false },
        { "*/temp*", "temp", false },
        { "temp?", "temp1", true },
        { "temp?", "temp", false },
        { "temp?", "temp12", false },
        { "*", "anything/below", true },
        { "**", "a/b/c", true },
        { "dir/**", "dir", false },
        { "dir/**", "dir/x", true },
        { "**/foo", "foo", true },
        { "**/foo", "a/b/foo", true },
        { "**/foo", "afoo", false },
        { "**foo", "afoo", true }, /* patternmatcher's suffix test */
        { "foo**", "foobar/x", true },
        /* exceptions below an excluded directory */
        { "dir\n!dir/keep", "dir", true },
        { "dir\n!dir/keep", "dir/keep", false },
        { "dir\n!dir/keep", "dir/keep/x", false },
        { "dir\n!dir/keep", "dir/other", true },
        { "dir/*\n!dir/*.md", "dir/a.md", false },
        { "dir/*\n!dir/*.md", "dir/a.txt", true },
        /* last match wins */
        { "*.md\n!README*.md\nREADME-secret.md", "README.md", false },
        { "*.md\n!README*.md\nREADME-secret.md", "README-secret.md", true },
        { "!a\na", "a", true },
        { "a\n!a", "a", false },
        /* BuildKit carries each pattern's result for a directory down to what is below it,
         * except for patterns it skipped there: a repeated "a" does not reach a/b */
        { "a\n!a/b\na", "a/b", false },
        { "a\n!a/b\na", "a/c", true },
        /* reading: comments, blanks, slashes, cleaning, CRLF, BOM */
        { "# comment\n\n   \nfoo", "foo", true },
        { "#foo", "#foo", false },
        { " #foo", "#foo", true },
        { "/foo", "foo", true },
        { "foo/", "foo/x", true },
        { "./foo/../bar//", "bar", true },
        { "  spaced  ", "spaced", true },
        { "! keep\n*", "keep", true },
        { "*\n! keep", "keep", false },
        { "a\r\nb\r\n", "b", true },
        { "\xef\xbb\xbf"
          "a",
          "a", true },
        { "\\*", "*", true },
        { "\\*", "x", false },
        { "a\\?", "a?", true },
        { "a.b", "axb", false },
        { "a+b", "a+b", true },
        { "(x)", "(x)", true },
        { "x|y", "y", false }, /* exact match: only "x|y" itself */
        { "x|y*", "y", true }, /* '|' reaches the regexp as an operator (see ignore.c) */
        { "*.{go,md}", "a.go", false },
        { "", "a", false },
};

TEST(match)
{
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                bool excluded = !cases[i].excluded;
                printf("# '%s' '%s'\n", cases[i].file, cases[i].path);
                ASSERT_OK_E(dockerfile_ignore_parse(cases[i].file, strlen(cases[i].file), &m, &e),
                            e);
                ASSERT_OK_E(dockerfile_ignore_match(m, cases[i].path, &excluded, &e), e);
                ASSERT_EQ(excluded, cases[i].excluded);
        }
}

static const struct {
        const char *file, *dir;
        bool skip;
} skips[] = {
        { "dir", "dir", true },
        { "dir", "other", false },
        { "dir", "dir/sub", true },
        { "dir\n!dir/keep", "dir", false },
        { "dir\n!dir/keep", "dir/keep", false },
        { "dir\n!other", "dir", true },
        { "dir\n!*.md", "dir", false },
        { "dir\n!dir/sub/**", "dir", false },
        { "dir\n!dir/sub/**", "dir/other", true },
        { "dir\n!dir/sub/*", "dir/other", true },
        { "dir\n!d?r/x", "dir", false },
        { "**/node_modules", "a/node_modules", true },
        { "*.go\n!important.go", "x.go", true },
        { "*\n!src", "src", false },
        { "*\n!src", "docs", true },
};

TEST(can_skip_dir)
{
        for (size_t i = 0; i < ELEMENTSOF(skips); i++) {
                _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
                printf("# '%s' '%s'\n", skips[i].file, skips[i].dir);
                ASSERT_OK(dockerfile_ignore_parse(skips[i].file, strlen(skips[i].file), &m, NULL));
                ASSERT_EQ(dockerfile_ignore_can_skip_dir(m, skips[i].dir), skips[i].skip);
        }
}

static const struct {
        const char *file;
        int code;
} bad_files[] = {
        { "!", ST_E_PARSE },     { "a\n!\n", ST_E_PARSE },      { "! ", ST_E_PARSE },
        { "!/", ST_E_PARSE },    { "[", ST_E_PARSE },           { "a[", ST_E_PARSE },
        { "[]a]", ST_E_PARSE },  { "[a-]", ST_E_PARSE },        { "x\\", ST_E_PARSE },
        { "a*[\\", ST_E_PARSE }, { "\\pL*", ST_E_UNSUPPORTED },
};

TEST(parse_errors)
{
        for (size_t i = 0; i < ELEMENTSOF(bad_files); i++) {
                _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                printf("# '%s'\n", bad_files[i].file);
                ASSERT_ERR(dockerfile_ignore_parse(bad_files[i].file, strlen(bad_files[i].file), &m,
                                                   &e),
                           bad_files[i].code);
                ASSERT_TRUE(m == NULL);
                ASSERT_TRUE(e && *st_error_msg(e));
        }
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
        ASSERT_ERR(dockerfile_ignore_parse("a\n!", 3, &m, &e), ST_E_PARSE);
        ASSERT_STREQ(st_error_msg(e), "line 2: illegal exclusion pattern: \"!\"");
}

TEST(line_length)
{
        _cleanup_free_ char *buf = xmalloc(70000);
        _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
        /* bufio.Scanner: a line of 64 KiB or more is "token too long" */
        memset(buf, 'a', 70000);
        ASSERT_OK(dockerfile_ignore_parse(buf, 65535, &m, NULL));
        m = dockerfile_ignore_free(m);
        ASSERT_ERR(dockerfile_ignore_parse(buf, 65536, &m, NULL), ST_E_TOO_BIG);
        buf[65535] = '\n';
        ASSERT_OK(dockerfile_ignore_parse(buf, 70000, &m, NULL));
}

TEST(bad_regexp_fails_when_consulted)
{
        /* filepath.Match accepts it, Go's regexp does not ("[^/]*{2}" repeats a repeat) */
        const char *file = "x\n*{2}";
        _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        bool excluded = false;
        ASSERT_OK(dockerfile_ignore_parse(file, strlen(file), &m, NULL));
        /* "x" matches first, then the bad inclusion pattern is skipped, as in BuildKit */
        ASSERT_OK(dockerfile_ignore_match(m, "x", &excluded, NULL));
        ASSERT_TRUE(excluded);
        ASSERT_ERR(dockerfile_ignore_match(m, "y", &excluded, &e), ST_E_PARSE);
}

TEST(relpath_checked)
{
        static const char *const bad[] = { "", "/a", "a/", "..", "../a", "a/../b", ".", "a//b" };
        _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
        bool excluded;
        ASSERT_OK(dockerfile_ignore_parse("a", 1, &m, NULL));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ASSERT_ERR(dockerfile_ignore_match(m, bad[i], &excluded, NULL), -EINVAL);
                ASSERT_TRUE(!dockerfile_ignore_can_skip_dir(m, bad[i]));
        }
}

TEST(patterns_and_file_name)
{
        const char *file = "# c\n/a/\n ! /b/../c \n\n*.md";
        _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
        ASSERT_OK(dockerfile_ignore_parse(file, strlen(file), &m, NULL));
        char *const *p = dockerfile_ignore_patterns(m);
        ASSERT_STREQ(p[0], "a");
        ASSERT_STREQ(p[1], "!c");
        ASSERT_STREQ(p[2], "*.md");
        ASSERT_TRUE(p[3] == NULL);

        _cleanup_free_ char *a = dockerfile_ignore_file_for("Dockerfile");
        _cleanup_free_ char *b = dockerfile_ignore_file_for("build/app.Dockerfile");
        ASSERT_STREQ(a, "Dockerfile.dockerignore");
        ASSERT_STREQ(b, "build/app.Dockerfile.dockerignore");
        ASSERT_TRUE(dockerfile_ignore_free(NULL) == NULL);
}
