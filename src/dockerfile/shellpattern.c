#include <sys/types.h>

#include "basic/util.h"
#include "dockerfile/runes-internal.h"
#include "dockerfile/shellpattern-internal.h"

#define NO_MATCH ((ssize_t)-1)

enum tok_kind {
        TOK_LIT,  /* one given rune */
        TOK_ANY,  /* '?': any rune but a newline */
        TOK_STAR, /* '*': any run of runes without a newline */
};

struct tok {
        enum tok_kind kind;
        int32_t r;
};

struct pattern {
        struct tok *toks;
        size_t n;
        bool greedy;
};

struct outbuf {
        char *s;
        size_t len, cap, max;
};

static int out_put(struct outbuf *b, const char *s, size_t n, struct st_error **err)
{
        if (n > b->max - b->len)
                return st_error_set(err, ST_E_TOO_BIG, "substitution result exceeds %zu bytes",
                                    b->max);
        if (b->len + n + 1 > b->cap) {
                b->cap = MAX(b->cap * 2, b->len + n + 1);
                b->s = xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
        return 0;
}

static char *rune_str(int32_t r, char buf[static 5])
{
        buf[rune_encode(r, buf)] = 0;
        return buf;
}

/* BuildKit's convertShellPatternToRegex: '\' escapes '*', '?' and '\'; before '}' or '/' it is
 * dropped (those had to be escaped inside ${}); before anything else it is an error. */
static int compile(const int32_t *p, size_t n, bool greedy, const char *text, struct pattern *ret,
                   struct st_error **err)
{
        _cleanup_free_ struct tok *t = xcalloc(n + 1, sizeof(*t));
        size_t k = 0;
        char tmp[5];

        for (size_t i = (n > 0 && p[0] == RUNE_BOM); i < n; i++) {
                int32_t c = p[i], nx = i + 1 < n ? p[i + 1] : RUNE_EOF;
                if (c == '*' || c == '?') {
                        t[k++] = (struct tok){ c == '*' ? TOK_STAR : TOK_ANY, 0 };
                        continue;
                }
                if (c == '\\') {
                        if (nx == '}' || nx == '/')
                                continue;
                        if (nx != '*' && nx != '?' && nx != '\\')
                                return st_error_set(err, ST_E_PARSE,
                                                    "invalid pattern (%s) in substitution: "
                                                    "invalid escape '\\%s'",
                                                    text, rune_str(nx, tmp));
                        c = nx;
                        i++;
                }
                t[k++] = (struct tok){ TOK_LIT, c };
        }
        *ret = (struct pattern){ TAKE_PTR(t), k, greedy };
        return 0;
}

static ssize_t step(const struct tok *t, bool greedy, const int32_t *v, size_t nv, size_t s,
                    const ssize_t *cur, const ssize_t *next)
{
        bool any = s < nv && v[s] != '\n';

        switch (t->kind) {
        case TOK_LIT:
                return s < nv && v[s] == t->r ? next[s + 1] : NO_MATCH;
        case TOK_ANY:
                return any ? next[s + 1] : NO_MATCH;
        case TOK_STAR:
        default:
                if (greedy)
                        return any && cur[s + 1] != NO_MATCH ? cur[s + 1] : next[s];
                if (next[s] != NO_MATCH)
                        return next[s];
                return any ? cur[s + 1] : NO_MATCH;
        }
}

/* row[s]: where the leftmost-first (backtracking-order) match of P that starts at rune S of V
 * ends, or NO_MATCH. Computed token by token from the back, two rows at a time. */
static int match_row(const struct pattern *p, const int32_t *v, size_t nv, uint64_t *budget,
                     ssize_t **ret, struct st_error **err)
{
        uint64_t cost = (uint64_t)(p->n + 1) * (nv + 1);
        if (cost > *budget)
                return st_error_set(err, ST_E_TOO_BIG,
                                    "pattern of %zu characters too costly on a value of %zu "
                                    "characters",
                                    p->n, nv);
        *budget -= cost;

        _cleanup_free_ ssize_t *cur = xcalloc(nv + 1, sizeof(ssize_t));
        ssize_t *next = xcalloc(nv + 1, sizeof(ssize_t));
        for (size_t s = 0; s <= nv; s++)
                next[s] = (ssize_t)s;
        for (size_t k = p->n; k-- > 0;) {
                for (size_t s = nv + 1; s-- > 0;)
                        cur[s] = step(&p->toks[k], p->greedy, v, nv, s, cur, next);
                ssize_t *x = cur;
                cur = next;
                next = x;
        }
        *ret = next;
        return 0;
}

int shell_trim_prefix(const char *pattern, const char *value, bool greedy, uint64_t *budget,
                      char **ret, struct st_error **err)
{
        _cleanup_free_ int32_t *pr = NULL, *vr = NULL;
        _cleanup_free_ size_t *off = NULL;
        _cleanup_free_ ssize_t *row = NULL;
        struct pattern p = {};
        size_t np, nv;
        int r;

        runes_decode(pattern, strlen(pattern), false, &pr, &np, NULL);
        r = compile(pr, np, greedy, pattern, &p, err);
        if (r < 0)
                return r;
        runes_decode(value, strlen(value), false, &vr, &nv, &off);
        r = match_row(&p, vr, nv, budget, &row, err);
        free(p.toks);
        if (r < 0)
                return r;
        *ret = xstrdup(value + (row[0] != NO_MATCH ? off[row[0]] : 0));
        return 0;
}

/* BuildKit's reversePattern: reverse the runes, but keep each "\x" pair in order. */
static void reverse_pattern(const int32_t *p, size_t n, int32_t *out)
{
        for (size_t i = 0; i < n;) {
                size_t o = n - 1 - i;
                if (p[i] == '\\' && i != n - 1) {
                        out[o - 1] = '\\';
                        out[o] = p[i + 1];
                        i += 2;
                } else
                        out[o] = p[i++];
        }
}

static void reverse_runes(int32_t *r, size_t n)
{
        for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
                int32_t x = r[i];
                r[i] = r[j - 1];
                r[j - 1] = x;
        }
}

static char *encode_runes(const int32_t *r, size_t n)
{
        char *s = xmalloc(4 * n + 1), *q = s;
        for (size_t i = 0; i < n; i++)
                q += rune_encode(r[i], q);
        *q = 0;
        return s;
}

int shell_trim_suffix(const char *pattern, const char *value, bool greedy, uint64_t *budget,
                      char **ret, struct st_error **err)
{
        _cleanup_free_ int32_t *pr = NULL, *rev = NULL, *vr = NULL;
        _cleanup_free_ ssize_t *row = NULL;
        _cleanup_free_ char *revtext = NULL;
        struct pattern p = {};
        size_t np, nv;
        int r;

        runes_decode(pattern, strlen(pattern), false, &pr, &np, NULL);
        rev = xcalloc(np + 1, sizeof(int32_t));
        reverse_pattern(pr, np, rev);
        revtext = encode_runes(rev, np);
        r = compile(rev, np, greedy, revtext, &p, err);
        if (r < 0)
                return r;
        runes_decode(value, strlen(value), false, &vr, &nv, NULL);
        reverse_runes(vr, nv);
        r = match_row(&p, vr, nv, budget, &row, err);
        free(p.toks);
        if (r < 0)
                return r;
        size_t cut = row[0] != NO_MATCH ? (size_t)row[0] : 0;
        reverse_runes(vr, nv);
        *ret = encode_runes(vr, nv - cut);
        return 0;
}

/* A Go template name after '$': letters, digits, '_' (one rune at a time). */
static size_t template_name(const char *s)
{
        size_t i = 0, w;
        while (s[i]) {
                int32_t c = rune_decode(s + i, strnlen(s + i, 4), &w);
                if (!rune_is_letter(c) && !rune_is_digit(c) && c != '_')
                        break;
                i += w;
        }
        return i;
}

/* Go's Regexp.expand for a pattern without groups: "$$" is '$', "$0" and "${0}" the match,
 * any other well-formed "$name" or "${name}" nothing, and a malformed one a literal '$'. */
static int put_template(struct outbuf *b, const char *t, const char *m, size_t mlen,
                        struct st_error **err)
{
        int r = 0;

        while (r >= 0 && *t) {
                const char *d = strchr(t, '$');
                if (!d)
                        return out_put(b, t, strlen(t), err);
                r = out_put(b, t, (size_t)(d - t), err);
                t = d + 1;
                if (r < 0 || *t == '$') {
                        r = r < 0 ? r : out_put(b, "$", 1, err);
                        t++;
                        continue;
                }
                bool brace = *t == '{';
                size_t n = template_name(t + brace);
                if (n == 0 || (brace && t[1 + n] != '}')) {
                        r = out_put(b, "$", 1, err);
                        continue;
                }
                if (n == 1 && t[brace] == '0')
                        r = out_put(b, m, mlen, err);
                t += brace + n + brace;
        }
        return r;
}

static ssize_t find_from(const ssize_t *row, size_t nv, size_t from, size_t *ret_start)
{
        for (size_t s = from; s <= nv; s++)
                if (row[s] != NO_MATCH) {
                        *ret_start = s;
                        return row[s];
                }
        return NO_MATCH;
}

/* Go's Regexp.replaceAll loop: no replacement for an empty match right after a match, and the
 * search always moves on by at least one rune. Positions are rune indexes into OFF. */
static int replace_all(const ssize_t *row, const size_t *off, size_t nv, const char *value,
                       const char *repl, struct outbuf *b, uint64_t *budget, struct st_error **err)
{
        size_t last = 0, pos = 0, start, cost = strlen(repl) + 1;
        ssize_t end;
        int r = 0;

        while (r >= 0 && pos <= nv && (end = find_from(row, nv, pos, &start)) != NO_MATCH) {
                size_t e = (size_t)end;
                if (cost > *budget)
                        return st_error_set(err, ST_E_TOO_BIG,
                                            "too many replacements of %zu characters", cost - 1);
                *budget -= cost;
                r = out_put(b, value + off[last], off[start] - off[last], err);
                if (r >= 0 && (e > last || start == 0))
                        r = put_template(b, repl, value + off[start], off[e] - off[start], err);
                last = e;
                pos = pos + 1 > e ? pos + 1 : e;
        }
        if (r < 0)
                return r;
        return out_put(b, value + off[last], strlen(value + off[last]), err);
}

static int replace_first(const ssize_t *row, const size_t *off, size_t nv, const char *value,
                         const char *repl, struct outbuf *b, struct st_error **err)
{
        size_t start;
        ssize_t end = find_from(row, nv, 0, &start);
        int r;

        if (end == NO_MATCH)
                return out_put(b, value, strlen(value), err);
        r = out_put(b, value, off[start], err);
        if (r >= 0)
                r = out_put(b, repl, strlen(repl), err);
        if (r >= 0)
                r = out_put(b, value + off[end], strlen(value + off[end]), err);
        return r;
}

int shell_replace(const char *pattern, const char *repl, const char *value, bool all, size_t max,
                  uint64_t *budget, char **ret, struct st_error **err)
{
        _cleanup_free_ int32_t *pr = NULL, *vr = NULL;
        _cleanup_free_ size_t *off = NULL;
        _cleanup_free_ ssize_t *row = NULL;
        struct outbuf b = { .max = max };
        struct pattern p = {};
        size_t np, nv;
        int r;

        runes_decode(pattern, strlen(pattern), false, &pr, &np, NULL);
        r = compile(pr, np, true, pattern, &p, err);
        if (r < 0)
                return r;
        runes_decode(value, strlen(value), false, &vr, &nv, &off);
        r = match_row(&p, vr, nv, budget, &row, err);
        free(p.toks);
        if (r < 0)
                return r;
        r = all ? replace_all(row, off, nv, value, repl, &b, budget, err)
                : replace_first(row, off, nv, value, repl, &b, err);
        if (r < 0) {
                free(b.s);
                return r;
        }
        *ret = b.s ? b.s : xstrdup("");
        return 0;
}
