/* Reading follows moby/patternmatcher/ignorefile.ReadAll, patterns follow
 * patternmatcher.New and Pattern.compile (a pattern becomes an exact, prefix or suffix string
 * test, or a Go regexp), and matching follows fsutil's filtered walk, which calls
 * MatchesUsingParentResults with the parent directory's per-pattern results. */
#include "dockerfile/ignore.h"

#include "basic/util.h"
#include "dockerfile/goregex-internal.h"
#include "dockerfile/runes-internal.h"

#define MAX_LINE 65536 /* bufio.Scanner's default token limit */

enum match_type {
        MATCH_EXACT,
        MATCH_PREFIX, /* "x**": starts with x */
        MATCH_SUFFIX, /* "**x": ends with x */
        MATCH_REGEXP,
};

struct pattern {
        char *text; /* cleaned, without the '!' */
        bool exclusion;
        enum match_type type;
        struct goregex *re; /* MATCH_REGEXP, unless bad */
        bool bad;           /* MATCH_REGEXP that Go's regexp rejects: matching it fails */
        unsigned line;
};

struct dockerfile_ignore {
        char **lines; /* the patterns as read */
        struct pattern *p;
        size_t n;
        bool exclusions;
        bool only_prefix_exceptions; /* no '!' pattern has wildcards (fsutil's skip rule) */
};

/* Go's strings.TrimSpace on [*s, *s + *n). */
static void trim_space(const char **s, size_t *n)
{
        size_t i = 0, end = 0, w;

        while (i < *n && rune_is_space(rune_decode(*s + i, *n - i, &w)))
                i += w;
        for (size_t j = i; j < *n; j += w)
                if (!rune_is_space(rune_decode(*s + j, *n - j, &w)))
                        end = j + w;
        *s += i;
        *n = end > i ? end - i : 0;
}

static bool is_sep_or_end(const char *p, size_t i, size_t n)
{
        return i == n || p[i] == '/';
}

/* Go's filepath.Clean (Unix) of the N bytes at P; caller frees. */
static char *path_clean(const char *p, size_t n)
{
        char *out = xmalloc(n + 2);
        bool rooted = n > 0 && p[0] == '/';
        size_t w = 0, r = 0, dotdot = 0;

        if (rooted)
                out[w++] = '/', r = dotdot = 1;
        while (r < n) {
                if (p[r] == '/')
                        r++;
                else if (p[r] == '.' && is_sep_or_end(p, r + 1, n))
                        r++;
                else if (p[r] == '.' && r + 1 < n && p[r + 1] == '.' &&
                         is_sep_or_end(p, r + 2, n)) {
                        r += 2;
                        if (w > dotdot) {
                                w--;
                                while (w > dotdot && out[w] != '/')
                                        w--;
                        } else if (!rooted) {
                                if (w > 0)
                                        out[w++] = '/';
                                out[w++] = '.';
                                out[w++] = '.';
                                dotdot = w;
                        }
                } else {
                        if ((rooted && w != 1) || (!rooted && w != 0))
                                out[w++] = '/';
                        while (r < n && p[r] != '/')
                                out[w++] = p[r++];
                }
        }
        if (w == 0)
                out[w++] = '.';
        out[w] = 0;
        return out;
}

/* One line as ReadAll turns it into a pattern, or NULL for a comment or blank line. */
static char *read_pattern(const char *s, size_t n)
{
        bool invert;

        if (n > 0 && s[0] == '#')
                return NULL;
        trim_space(&s, &n);
        if (n == 0)
                return NULL;
        invert = s[0] == '!';
        if (invert) {
                s++, n--;
                trim_space(&s, &n);
        }
        _cleanup_free_ char *p = n > 0 ? path_clean(s, n) : xstrdup("");
        const char *q = strlen(p) > 1 && p[0] == '/' ? p + 1 : p;
        return xasprintf("%s%s", invert ? "!" : "", q);
}

/* ReadAll: lines split at '\n' with a trailing '\r' dropped, a UTF-8 BOM dropped from the
 * first. *RET_LINENO gets each pattern's line number. */
static int read_all(const char *buf, size_t len, char ***ret, unsigned **ret_lineno,
                    struct st_error **err)
{
        _cleanup_strv_ char **lines = xcalloc(1, sizeof(char *));
        _cleanup_free_ unsigned *lineno = NULL;
        size_t n = 0, cap = 0;

        for (size_t start = 0, line = 1; start < len; line++) {
                const char *nl = memchr(buf + start, '\n', len - start);
                size_t end = nl ? (size_t)(nl - buf) : len, l = end - start;
                const char *s = buf + start;
                if (l >= MAX_LINE)
                        return st_error_set(err, ST_E_TOO_BIG, "line %zu: longer than %d bytes",
                                            line, MAX_LINE - 1);
                start = nl ? end + 1 : len;
                if (l > 0 && s[l - 1] == '\r')
                        l--;
                if (line == 1 && l >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
                        s += 3, l -= 3;
                if (l > 0 && s[0] != '#' && memchr(s, 0, l))
                        return st_error_set(err, ST_E_UNSUPPORTED, "line %zu: NUL byte in pattern",
                                            line);
                char *p = read_pattern(s, l);
                if (!p)
                        continue;
                if (n + 2 > cap) {
                        cap = MAX(cap * 2, (size_t)16);
                        lines = xrealloc(lines, cap * sizeof(char *));
                        lineno = xrealloc(lineno, cap * sizeof(unsigned));
                }
                lineno[n] = (unsigned)line;
                lines[n++] = p;
                lines[n] = NULL;
        }
        *ret = TAKE_PTR(lines);
        *ret_lineno = TAKE_PTR(lineno);
        return 0;
}

/* filepath.getEsc: one class character (or "\x"); false on a syntax error. */
static bool glob_esc(const char **c, size_t *n)
{
        size_t w;

        if (*n == 0 || **c == '-' || **c == ']')
                return false;
        if (**c == '\\') {
                (*c)++, (*n)--;
                if (*n == 0)
                        return false;
        }
        int32_t r = rune_decode(*c, *n, &w);
        if (r == RUNE_ERROR && w == 1)
                return false;
        *c += w, *n -= w;
        return *n > 0;
}

static bool glob_class_valid(const char **c, size_t *n)
{
        size_t nrange = 0;

        (*c)++, (*n)--;
        if (*n > 0 && **c == '^')
                (*c)++, (*n)--;
        for (;;) {
                if (*n > 0 && **c == ']' && nrange > 0) {
                        (*c)++, (*n)--;
                        return true;
                }
                if (!glob_esc(c, n))
                        return false;
                if (**c == '-') {
                        (*c)++, (*n)--;
                        if (!glob_esc(c, n))
                                return false;
                }
                nrange++;
        }
}

/* The syntax checks of filepath.matchChunk. */
static bool glob_chunk_valid(const char *c, size_t n)
{
        while (n > 0) {
                if (*c == '[') {
                        if (!glob_class_valid(&c, &n))
                                return false;
                        continue;
                }
                if (*c == '\\') {
                        c++, n--;
                        if (n == 0)
                                return false;
                }
                c++, n--;
        }
        return true;
}

/* Would filepath.Match(P, ".") report ErrBadPattern? It checks every chunk (scanChunk). */
static bool glob_valid(const char *p)
{
        while (*p) {
                bool inrange = false;
                size_t i;
                while (*p == '*')
                        p++;
                for (i = 0; p[i]; i++) {
                        if (p[i] == '\\' && p[i + 1])
                                i++;
                        else if (p[i] == '[')
                                inrange = true;
                        else if (p[i] == ']')
                                inrange = false;
                        else if (p[i] == '*' && !inrange)
                                break;
                }
                if (!glob_chunk_valid(p, i))
                        return false;
                p += i;
        }
        return true;
}

struct text {
        char *s;
        size_t len, cap;
};

static void append(struct text *t, const char *add)
{
        size_t n = strlen(add);

        if (t->len + n + 1 > t->cap) {
                t->cap = MAX(t->cap * 2, t->len + n + 1);
                t->s = xrealloc(t->s, t->cap);
        }
        memcpy(t->s + t->len, add, n + 1);
        t->len += n;
}

static void append_rune(struct text *t, int32_t r)
{
        char tmp[5];
        tmp[rune_encode(r, tmp)] = 0;
        append(t, tmp);
}

/* The "**" token at *K (past the first '*'): Pattern.compile's rules. */
static void double_star(const int32_t *r, size_t n, size_t *k, size_t i, struct text *re,
                        enum match_type *type)
{
        (*k)++;
        if (*k < n && r[*k] == '/')
                (*k)++;
        if (*k == n) {
                if (*type == MATCH_EXACT)
                        *type = MATCH_PREFIX;
                else {
                        append(re, ".*");
                        *type = MATCH_REGEXP;
                }
        } else {
                append(re, "(.*/)?");
                *type = MATCH_REGEXP;
        }
        if (i == 0)
                *type = MATCH_SUFFIX;
}

/* Pattern.compile: the regexp text for P and its match type. */
static char *pattern_regexp(const char *p, enum match_type *ret_type)
{
        _cleanup_free_ int32_t *r = NULL;
        enum match_type type = MATCH_EXACT;
        struct text re = {};
        size_t n;

        append(&re, "^");
        runes_decode(p, strlen(p), true, &r, &n, NULL);
        for (size_t i = 0, k = 0; k < n; i++) {
                int32_t c = r[k++];
                if (c == '*' && k < n && r[k] == '*')
                        double_star(r, n, &k, i, &re, &type);
                else if (c == '*' || c == '?') {
                        append(&re, c == '*' ? "[^/]*" : "[^/]");
                        type = MATCH_REGEXP;
                } else if (c > 0 && c < 0x80 && strchr(".+()$", c)) {
                        /* patternmatcher means to escape ".+()|{}$", but its bitmap loses the
                         * bits of '|', '{' and '}': those reach the regexp as operators */
                        append(&re, "\\");
                        append_rune(&re, c);
                } else if (c == '\\') {
                        append(&re, "\\");
                        if (k < n) {
                                append_rune(&re, r[k++]);
                                type = MATCH_REGEXP;
                        }
                } else {
                        append_rune(&re, c);
                        if (c == '[' || c == ']')
                                type = MATCH_REGEXP;
                }
        }
        if (type == MATCH_REGEXP)
                append(&re, "$");
        *ret_type = type;
        return re.s;
}

static int pattern_init(struct pattern *pt, const char *line, unsigned lineno,
                        struct st_error **err)
{
        const char *s = line;
        size_t n = strlen(line);

        trim_space(&s, &n);
        _cleanup_free_ char *p = path_clean(s, n);
        pt->line = lineno;
        if (p[0] == '!') {
                if (!p[1])
                        return st_error_set(err, ST_E_PARSE,
                                            "line %u: illegal exclusion pattern: \"!\"", lineno);
                pt->exclusion = true;
        }
        pt->text = xstrdup(p + pt->exclusion);
        if (!glob_valid(pt->text))
                return st_error_set(err, ST_E_PARSE, "line %u: syntax error in pattern '%s'",
                                    lineno, pt->text);
        _cleanup_free_ char *re = pattern_regexp(pt->text, &pt->type);
        if (pt->type != MATCH_REGEXP)
                return 0;
        _cleanup_error_ struct st_error *e = NULL;
        int r = goregex_compile(re, &pt->re, &e);
        if (r == ST_E_UNSUPPORTED)
                return st_error_set(err, r, "line %u: %s", lineno, st_error_msg(e));
        pt->bad = r < 0;
        return 0;
}

/* fsutil's patternWithoutTrailingGlob. */
static char *without_trailing_glob(const char *p)
{
        size_t n = strlen(p);

        if (n >= 3 && streq(p + n - 3, "/**"))
                n -= 3;
        if (n >= 2 && strncmp(p + n - 2, "/*", 2) == 0)
                n -= 2;
        return xstrndup(p, n);
}

static void note_exceptions(struct dockerfile_ignore *m)
{
        m->only_prefix_exceptions = true;
        for (size_t i = 0; i < m->n; i++) {
                if (!m->p[i].exclusion)
                        continue;
                m->exclusions = true;
                _cleanup_free_ char *t = without_trailing_glob(m->p[i].text);
                if (strpbrk(t, "*[]?^\\"))
                        m->only_prefix_exceptions = false;
        }
}

int dockerfile_ignore_parse(const char *buf, size_t len, struct dockerfile_ignore **ret,
                            struct st_error **err)
{
        _cleanup_dockerfile_ignore_ struct dockerfile_ignore *m = NULL;
        _cleanup_free_ unsigned *lineno = NULL;
        int r;

        if (len > DOCKERFILE_IGNORE_MAX_SIZE)
                return st_error_set(err, ST_E_TOO_BIG, "ignore file of %zu bytes exceeds %d bytes",
                                    len, DOCKERFILE_IGNORE_MAX_SIZE);
        m = xcalloc(1, sizeof(*m));
        r = read_all(buf, len, &m->lines, &lineno, err);
        if (r < 0)
                return r;
        m->p = xcalloc(strv_length(m->lines) + 1, sizeof(struct pattern));
        for (size_t i = 0; m->lines[i]; i++) {
                r = pattern_init(&m->p[m->n++], m->lines[i], lineno[i], err);
                if (r < 0)
                        return r;
        }
        note_exceptions(m);
        *ret = TAKE_PTR(m);
        return 0;
}

/* Pattern.match. */
static int pattern_match(const struct pattern *pt, const char *path, bool *ret,
                         struct st_error **err)
{
        size_t n = strlen(pt->text);

        switch (pt->type) {
        case MATCH_EXACT:
                *ret = streq(path, pt->text);
                return 0;
        case MATCH_PREFIX:
                *ret = strncmp(path, pt->text, n - 2) == 0;
                return 0;
        case MATCH_SUFFIX:
                *ret = endswith(path, pt->text + 2) ||
                       (pt->text[2] == '/' && streq(path, pt->text + 3));
                return 0;
        default:
                if (pt->bad)
                        return st_error_set(err, ST_E_PARSE,
                                            "line %u: syntax error in pattern '%s'", pt->line,
                                            pt->text);
                *ret = goregex_match(pt->re, path);
                return 0;
        }
}

/* MatchesUsingParentResults: PATH's result, with PARENT the per-pattern results of its
 * directory (NULL at the top), CUR filled with PATH's own. */
static int match_level(const struct dockerfile_ignore *m, const char *path, const bool *parent,
                       bool *cur, bool *ret, struct st_error **err)
{
        bool matched = false;

        for (size_t i = 0; i < m->n; i++) {
                const struct pattern *pt = &m->p[i];
                bool match = parent && parent[i];
                cur[i] = false;
                if (!match) {
                        /* skipped: an inclusion once matched, an exception before */
                        if (pt->exclusion != matched)
                                continue;
                        int r = pattern_match(pt, path, &match, err);
                        if (r < 0)
                                return r;
                }
                cur[i] = match;
                if (match)
                        matched = !pt->exclusion;
        }
        *ret = matched;
        return 0;
}

/* fsutil's test for not descending into the excluded directory DIR. */
static bool skippable(const struct dockerfile_ignore *m, const char *dir)
{
        if (!m->only_prefix_exceptions)
                return false;
        if (!m->exclusions)
                return true;
        _cleanup_free_ char *dirslash = xasprintf("%s/", dir);
        for (size_t i = 0; i < m->n; i++) {
                if (!m->p[i].exclusion)
                        continue;
                _cleanup_free_ char *t = without_trailing_glob(m->p[i].text);
                _cleanup_free_ char *ts = xasprintf("%s/", t);
                if (startswith(ts, dirslash))
                        return false;
        }
        return true;
}

static bool relpath_valid(const char *p)
{
        if (!*p || p[0] == '/' || streq(p, "..") || startswith(p, "../"))
                return false;
        _cleanup_free_ char *c = path_clean(p, strlen(p));
        return streq(c, p) && !streq(p, ".");
}

/* Walk down RELPATH as BuildKit's walker does. *RET_EXCLUDED: RELPATH's result; *RET_SKIP:
 * whether RELPATH, or a directory above it, is excluded and skipped. */
static int walk(const struct dockerfile_ignore *m, const char *relpath, bool *ret_excluded,
                bool *ret_skip, struct st_error **err)
{
        _cleanup_free_ bool *parent = xcalloc(m->n + 1, sizeof(bool));
        _cleanup_free_ bool *cur = xcalloc(m->n + 1, sizeof(bool));
        _cleanup_free_ char *path = xstrdup(relpath);
        bool excluded = false;
        char *slash = path;
        int r;

        if (!relpath_valid(relpath))
                return st_error_set(err, -EINVAL, "invalid context path '%s'", relpath);
        for (bool top = true;; top = false) {
                slash = strchr(slash, '/');
                if (slash)
                        *slash = 0;
                r = match_level(m, path, top ? NULL : parent, cur, &excluded, err);
                if (r < 0)
                        return r;
                bool skip = excluded && skippable(m, path);
                if (!slash || skip) {
                        *ret_excluded = excluded || skip;
                        *ret_skip = skip;
                        return 0;
                }
                *slash++ = '/';
                memcpy(parent, cur, m->n * sizeof(bool));
        }
}

int dockerfile_ignore_match(const struct dockerfile_ignore *m, const char *relpath,
                            bool *ret_excluded, struct st_error **err)
{
        bool excluded, skip;
        int r = walk(m, relpath, &excluded, &skip, err);

        if (r < 0)
                return r;
        *ret_excluded = excluded;
        return 0;
}

bool dockerfile_ignore_can_skip_dir(const struct dockerfile_ignore *m, const char *reldir)
{
        bool excluded, skip;

        return walk(m, reldir, &excluded, &skip, NULL) >= 0 && skip;
}

char *const *dockerfile_ignore_patterns(const struct dockerfile_ignore *m)
{
        return m->lines;
}

char *dockerfile_ignore_file_for(const char *dockerfile_path)
{
        return xasprintf("%s.dockerignore", dockerfile_path);
}

struct dockerfile_ignore *dockerfile_ignore_free(struct dockerfile_ignore *m)
{
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n; i++) {
                free(m->p[i].text);
                goregex_free(m->p[i].re);
        }
        free(m->p);
        strv_free(m->lines);
        free(m);
        return NULL;
}
