/* .dockerignore: the input is the file. Must not crash, hang or leak; a directory that can be
 * skipped is excluded and so is everything below it; match and skip agree on errors. */
#include <stdint.h>
#include <stdlib.h>

#include "basic/util.h"
#include "dockerfile/ignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
        "a",          "a/b",         "a/b/c.go",
        "docs",       "docs/x.md",   "docs/sub/y.md",
        ".git",       ".git/config", "node_modules/x/y",
        "src/main.c", "foo",         "Foo.txt",
        "x\ny",       "é/ü",         "[a]",
        "a b/c",
};

static void check_path(const struct dockerfile_ignore *m, const char *path)
{
        _cleanup_error_ struct st_error *e = NULL;
        bool excluded = false;
        int r = dockerfile_ignore_match(m, path, &excluded, &e);
        bool skip = dockerfile_ignore_can_skip_dir(m, path);

        if (r < 0) {
                if (r != ST_E_PARSE || !e || skip)
                        abort();
                return;
        }
        if (skip && !excluded)
                abort();
        if (!skip)
                return;
        _cleanup_free_ char *below = xasprintf("%s/zz", path);
        if (dockerfile_ignore_match(m, below, &excluded, NULL) < 0 || !excluded ||
            !dockerfile_ignore_can_skip_dir(m, below))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
        _cleanup_error_ struct st_error *e = NULL;

        if (size > 65536)
                return 0;
        int r = dockerfile_ignore_parse((const char *)data, size, &m, &e);
        if (r < 0) {
                if (!e || m)
                        abort();
                return 0;
        }
        for (char *const *p = dockerfile_ignore_patterns(m); *p; p++)
                if (!**p)
                        abort();
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                check_path(m, paths[i]);
        return 0;
}
