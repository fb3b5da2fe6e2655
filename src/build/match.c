/* Two wildcard dialects over one matcher: Go's filepath.Match for COPY sources, one path
 * component at a time, and moby/patternmatcher (the .dockerignore rules) for --exclude and
 * --parents, over whole paths with '**'. patternmatcher compiles to a Go regexp; the
 * differences from that are in docs/build-copy.md. */
#include <errno.h>
#include <string.h>

#include "basic/util.h"
#include "build/copy-internal.h"

struct pattern {
        char *pat;
        bool exception;
};

struct patterns {
        struct pattern *v;
        size_t n;
        bool has_exceptions;
};

/* One UTF-8 rune at S (never past its NUL) and its length; invalid bytes are U+FFFD, 1 byte. */
static uint32_t rune(const char *s, size_t *len)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t n = u[0] < 0x80   ? 1
                   : u[0] < 0xc2 ? 0
                   : u[0] < 0xe0 ? 2
                   : u[0] < 0xf0 ? 3
                   : u[0] < 0xf5 ? 4
                                 : 0;
        uint32_t r = n == 1   ? u[0]
                     : n == 2 ? (u[0] & 0x1fu)
                     : n == 3 ? (u[0] & 0x0fu)
                              : (u[0] & 7u);
        for (size_t i = 1; i < n; i++) {
                if ((u[i] & 0xc0) != 0x80) {
                        n = 0;
                        break;
                }
                r = r << 6 | (u[i] & 0x3fu);
        }
        if (n == 0) {
                *len = 1;
                return 0xfffd;
        }
        *len = n;
        return r;
}

bool match_has_wildcards(const char *s)
{
        for (; *s; s++) {
                if (*s == '\\' && s[1])
                        s++;
                else if (*s == '*' || *s == '?' || *s == '[')
                        return true;
        }
        return false;
}

/* A class member at *PP (Go's getEsc): NULL-safe checks are match_check's job. */
static uint32_t class_char(const char **pp)
{
        const char *p = *pp;
        if (*p == '\\')
                p++;
        size_t n;
        uint32_t r = rune(p, &n);
        *pp = p + n;
        return r;
}

/* Match the rune R against the class at *PP ('[' ... ']'), moving *PP past it. */
static bool class_match(const char **pp, uint32_t r)
{
        const char *p = *pp + 1;
        bool neg = *p == '^', match = false;
        if (neg)
                p++;
        for (int n = 0;; n++) {
                if (*p == ']' && n > 0) {
                        p++;
                        break;
                }
                uint32_t lo = class_char(&p), hi = lo;
                if (*p == '-') {
                        p++;
                        hi = class_char(&p);
                }
                if (lo <= r && r <= hi)
                        match = true;
        }
        *pp = p;
        return match != neg;
}

static bool match_at(const char *p, const char *s, bool paths);

/* patternmatcher's "**": what follows (after an optional '/') matches here or after any '/'. */
static bool match_dstar(const char *q, const char *s)
{
        if (*q == '/')
                q++;
        if (!*q)
                return true;
        if (match_at(q, s, true))
                return true;
        for (; *s; s++)
                if (*s == '/' && match_at(q, s + 1, true))
                        return true;
        return false;
}

/* Match the well-formed P against all of S. PATHS: patternmatcher's '**'. '*', '?' and
 * classes never match '/'. */
static bool match_at(const char *p, const char *s, bool paths)
{
        for (;;) {
                size_t n;
                switch (*p) {
                case 0:
                        return !*s;
                case '*':
                        if (paths && p[1] == '*')
                                return match_dstar(p + 2, s);
                        while (*p == '*' && !(paths && p[1] == '*'))
                                p++;
                        for (;; s++) {
                                if (match_at(p, s, paths))
                                        return true;
                                if (!*s || *s == '/')
                                        return false;
                        }
                case '?':
                        if (!*s || *s == '/')
                                return false;
                        rune(s, &n);
                        s += n;
                        p++;
                        break;
                case '[':
                        if (!*s || *s == '/' || !class_match(&p, rune(s, &n)))
                                return false;
                        s += n;
                        break;
                case '\\':
                        if (!p[1] || p[1] != *s)
                                return false;
                        p += 2;
                        s++;
                        break;
                default:
                        if (*p != *s)
                                return false;
                        p++;
                        s++;
                }
        }
}

/* Check one class member (Go's getEsc) at *PP. */
static int check_class_char(const char **pp)
{
        const char *p = *pp;
        if (!*p || *p == '-' || *p == ']')
                return -EINVAL;
        if (*p == '\\' && !*++p)
                return -EINVAL;
        size_t n;
        if (rune(p, &n) == 0xfffd && n == 1)
                return -EINVAL;
        p += n;
        if (!*p)
                return -EINVAL;
        *pp = p;
        return 0;
}

static int check_class(const char **pp)
{
        const char *p = *pp + 1;
        if (*p == '^')
                p++;
        for (int n = 0;; n++) {
                if (*p == ']' && n > 0) {
                        *pp = p + 1;
                        return 0;
                }
                if (check_class_char(&p) < 0)
                        return -EINVAL;
                if (*p == '-') {
                        p++;
                        if (check_class_char(&p) < 0)
                                return -EINVAL;
                }
        }
}

int match_check(const char *pat)
{
        for (const char *p = pat; *p;) {
                if (*p == '\\') {
                        if (!p[1])
                                return -EINVAL;
                        p += 2;
                } else if (*p == '[') {
                        if (check_class(&p) < 0)
                                return -EINVAL;
                } else {
                        p++;
                }
        }
        return 0;
}

bool match_name(const char *pat, const char *name)
{
        return match_at(pat, name, false);
}

struct patterns *patterns_free(struct patterns *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n; i++)
                free(p->v[i].pat);
        free(p->v);
        free(p);
        return NULL;
}

static void patterns_freep(struct patterns **p)
{
        patterns_free(*p);
}

/* Trim, take the '!' off, clean (a leading '/' means the same as none). */
static int pattern_add(struct patterns *ps, const char *raw, struct st_error **err)
{
        const char *b = raw + strspn(raw, " \t\r\n");
        size_t len = strlen(b);
        while (len > 0 && strchr(" \t\r\n", b[len - 1]))
                len--;
        if (len == 0)
                return 0;
        _cleanup_free_ char *t = xstrndup(b, len);
        bool exception = t[0] == '!';
        if (exception && !t[1])
                return st_error_set(err, ST_E_PARSE, "illegal exclusion pattern: \"!\"");
        char *clean = path_clean_rooted(t + exception);
        if (!*clean || match_check(clean) < 0) {
                bool empty = !*clean;
                free(clean);
                if (empty) /* "." or "/": matches no path below the root */
                        return 0;
                return st_error_set(err, ST_E_PARSE,
                                    "invalid pattern '%s': syntax error in "
                                    "pattern",
                                    raw);
        }
        ps->v = xrealloc(ps->v, (ps->n + 1) * sizeof(*ps->v));
        ps->v[ps->n++] = (struct pattern){ .pat = clean, .exception = exception };
        ps->has_exceptions |= exception;
        return 0;
}

int patterns_new(char *const *list, struct patterns **ret, struct st_error **err)
{
        _cleanup_(patterns_freep) struct patterns *ps = xcalloc(1, sizeof(*ps));
        for (char *const *l = list; l && *l; l++) {
                int r = pattern_add(ps, *l, err);
                if (r < 0)
                        return r;
        }
        *ret = ps->n > 0 ? TAKE_PTR(ps) : NULL;
        return 0;
}

/* PAT matches PATH or one of its parent directories. */
static bool match_or_parent(const char *pat, char *path)
{
        if (match_at(pat, path, true))
                return true;
        for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                bool m = match_at(pat, path, true);
                *s = '/';
                if (m)
                        return true;
        }
        return false;
}

bool patterns_match(const struct patterns *p, const char *path)
{
        if (!p)
                return false;
        _cleanup_free_ char *buf = xstrdup(path);
        bool matched = false;
        for (size_t i = 0; i < p->n; i++) {
                if (p->v[i].exception != matched)
                        continue;
                if (match_or_parent(p->v[i].pat, buf))
                        matched = !p->v[i].exception;
        }
        return matched;
}

bool patterns_has_exceptions(const struct patterns *p)
{
        return p && p->has_exceptions;
}

/* Could PAT match something strictly below DIR? Compared component by component; a '**'
 * anywhere on the way says yes. */
static bool may_match_below(const char *pat, const char *dir)
{
        _cleanup_free_ char *pc = xstrdup(pat), *dc = xstrdup(dir);
        char *ps = pc, *ds = dc;
        while (*ds) {
                char *pe = strchr(ps, '/'), *de = strchr(ds, '/');
                if (pe)
                        *pe = 0;
                if (de)
                        *de = 0;
                if (strstr(ps, "**") || match_check(ps) < 0) /* "[/]" split in two */
                        return true;
                if (!pe || !match_name(ps, ds))
                        return false;
                ps = pe + 1;
                ds = de ? de + 1 : ds + strlen(ds);
        }
        return true;
}

bool patterns_may_match_below(const struct patterns *p, const char *dir, bool exceptions)
{
        for (size_t i = 0; p && i < p->n; i++)
                if (p->v[i].exception == exceptions && may_match_below(p->v[i].pat, dir))
                        return true;
        return false;
}
