/* Cache keys and history texts: pure string work. */
#include <string.h>

#include "basic/util.h"
#include "build/build-internal.h"
#include "dockerfile/dockerfile.h"

void build_cache_key(const char *parent, char *const *parts, char *ret)
{
        struct digest_ctx *c = digest_ctx_new();
        digest_ctx_update(c, parent ? parent : "", parent ? strlen(parent) : 0);
        STRV_FOREACH(p, (char **)parts) {
                digest_ctx_update(c, "\0", 1);
                digest_ctx_update(c, *p, strlen(*p));
        }
        digest_ctx_final(c, ret);
        digest_ctx_free(c);
}

static char *join(char *const *l, const char *sep, char *(*fmt)(const char *))
{
        char *out = xstrdup("");
        STRV_FOREACH(p, (char **)l) {
                char *e = fmt ? fmt(*p) : xstrdup(*p);
                char *n = xasprintf("%s%s%s", out, p == l ? "" : sep, e);
                free(e);
                free(out);
                out = n;
        }
        return out;
}

char *build_run_created_by(char *const *argv, char *const *args)
{
        _cleanup_free_ char *cmd = join(argv, " ", NULL);
        if (strv_length(args) == 0)
                return xasprintf("RUN %s # buildkit", cmd);
        _cleanup_free_ char *a = join(args, " ", NULL);
        return xasprintf("RUN |%zu %s %s # buildkit", strv_length(args), a, cmd);
}

char *build_go_quote_strv(char *const *l)
{
        _cleanup_free_ char *s = join(l, " ", dockerfile_go_quote);
        return xasprintf("[%s]", s);
}

char *build_go_strv(char *const *l)
{
        _cleanup_free_ char *s = join(l, " ", NULL);
        return xasprintf("[%s]", s);
}

int build_strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}
