/* Cache keys and history texts: pure string work. */
#include <errno.h>
#include <stdlib.h>
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

int build_source_date_epoch(char *const *build_args, char *const *envp, int64_t *ret,
                            struct st_error **err)
{
        static const char name[] = "SOURCE_DATE_EPOCH";
        const size_t n = sizeof(name) - 1;
        const char *v = NULL;
        for (char *const *e = envp; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        v = *e + n + 1;
        const char *env = v;
        for (char *const *a = build_args; a && *a; a++)
                if (strncmp(*a, name, n) == 0 && ((*a)[n] == '=' || !(*a)[n]))
                        v = (*a)[n] ? *a + n + 1 : env;
        if (!v || !*v)
                return 0;
        char *end = NULL;
        errno = 0;
        long long sec = strtoll(v, &end, 10);
        if (errno != 0 || *end || sec < 0 || !(*v >= '0' && *v <= '9') || sec > 253402300799LL)
                return st_error_set(err, ST_E_USAGE, "invalid SOURCE_DATE_EPOCH \"%s\"", v);
        *ret = sec;
        return 1;
}

int build_compression_parse(const char *name, int level, enum compress_type *ret,
                            struct st_error **err)
{
        enum compress_type t = name ? compress_type_from_string(name) : COMPRESS_GZIP;
        if (t < 0)
                return st_error_set(err, ST_E_USAGE,
                                    "invalid compression \"%s\": expected gzip, zstd or none",
                                    name);
        int max = t == COMPRESS_GZIP ? 9 : t == COMPRESS_ZSTD ? 19 : 0;
        if (level != 0 && (level < 1 || level > max)) {
                if (max == 0)
                        return st_error_set(err, ST_E_USAGE,
                                            "--compression-level does not apply to compression %s",
                                            compress_type_to_string(t));
                return st_error_set(err, ST_E_USAGE,
                                    "invalid compression level %d for %s: expected 1-%d", level,
                                    compress_type_to_string(t), max);
        }
        *ret = t;
        return 0;
}

void build_layer_key(const char *key, enum compress_type type, int level, char *ret)
{
        /* gzip at its default level keeps the keys recorded before --compression existed */
        int def = type == COMPRESS_GZIP ? 6 : type == COMPRESS_ZSTD ? 3 : 0;
        if (level == 0)
                level = def;
        if (type == COMPRESS_GZIP && level == def) {
                memcpy(ret, key, DIGEST_STR_LEN + 1);
                return;
        }
        _cleanup_free_ char *part =
                xasprintf("compression=%s:%d", compress_type_to_string(type), level);
        char *parts[] = { part, NULL };
        build_cache_key(key, parts, ret);
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
