/* WWW-Authenticate: parsing must not crash or leak, a parse must be well formed (lower-case
 * non-empty schemes, key/value pairs, caps kept), and printing the challenges back in canonical
 * form (quoted values) must parse to the same challenges. */
#include <stdint.h>
#include <stdlib.h>

#include "basic/util.h"
#include "registry/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *quote(const char *s)
{
        char *out = xmalloc(strlen(s) * 2 + 3), *p = out;
        *p++ = '"';
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        *p++ = '\\';
                *p++ = *s;
        }
        *p++ = '"';
        *p = 0;
        return out;
}

/* The canonical text of L[0..N); caller frees. */
static char *print(const struct registry_challenge *l, size_t n)
{
        char *out = xstrdup("");
        for (size_t i = 0; i < n; i++) {
                char *next = xasprintf("%s%s%s", out, i ? ", " : "", l[i].scheme);
                free(out);
                out = next;
                if (l[i].token68) {
                        next = xasprintf("%s %s", out, l[i].token68);
                        free(out);
                        out = next;
                }
                for (char **p = l[i].params; p && p[0]; p += 2) {
                        _cleanup_free_ char *q = quote(p[1]);
                        next = xasprintf("%s%s%s=%s", out, p == l[i].params ? " " : ", ", p[0], q);
                        free(out);
                        out = next;
                }
        }
        return out;
}

static void check_shape(const struct registry_challenge *l, size_t n)
{
        if (n > REGISTRY_CHALLENGES_MAX)
                abort();
        for (size_t i = 0; i < n; i++) {
                size_t np = strv_length(l[i].params);
                if (!l[i].scheme[0] || np % 2 || np / 2 > REGISTRY_PARAMS_MAX ||
                    (l[i].token68 && l[i].params))
                        abort();
                for (const char *s = l[i].scheme; *s; s++)
                        if (*s >= 'A' && *s <= 'Z')
                                abort();
                for (char **p = l[i].params; p && p[0]; p += 2)
                        if (registry_challenge_param(&l[i], p[0]) == NULL)
                                abort();
        }
}

static bool same(const struct registry_challenge *a, size_t na, const struct registry_challenge *b,
                 size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++) {
                if (!streq(a[i].scheme, b[i].scheme) || !streq_ptr(a[i].token68, b[i].token68) ||
                    strv_length(a[i].params) != strv_length(b[i].params))
                        return false;
                for (size_t k = 0; a[i].params && a[i].params[k]; k++)
                        if (!streq(a[i].params[k], b[i].params[k]))
                                return false;
        }
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 2 * REGISTRY_HEADER_MAX)
                return 0;
        _cleanup_free_ char *s = xstrndup((const char *)data, size);
        struct registry_challenge *l = NULL, *again = NULL;
        size_t n = 0, n2 = 0;
        _cleanup_error_ struct st_error *err = NULL;
        if (registry_challenges_parse(s, &l, &n, &err) < 0) {
                if (!err || l)
                        abort();
                return 0;
        }
        check_shape(l, n);
        _cleanup_free_ char *text = print(l, n);
        if (strlen(text) <= REGISTRY_HEADER_MAX) {
                if (registry_challenges_parse(text, &again, &n2, NULL) < 0 ||
                    !same(l, n, again, n2))
                        abort();
                registry_challenges_free(again, n2);
        }
        registry_challenges_free(l, n);
        return 0;
}
