/* Compiles to a small instruction list with relative jumps (so that a repeat can be wrapped
 * around the last piece by inserting in front of it) and runs it as a Thompson NFA. */
#include <ctype.h>
#include <stdint.h>

#include "basic/util.h"
#include "dockerfile/goregex-internal.h"
#include "dockerfile/runes-internal.h"

#define MAX_NESTING 1000 /* Go's regexp/syntax limit */
#define MAX_RUNE    0x10FFFF
#define MAX_PROG    (1u << 20) /* instructions; Go stops near 3 million */

enum op {
        I_RUNE,
        I_CLASS,
        I_ANY_NOT_NL,
        I_BEGIN_TEXT,
        I_END_TEXT,
        I_WORD_BOUNDARY,
        I_NO_WORD_BOUNDARY,
        I_SPLIT, /* to +x and +y */
        I_JMP,   /* to +x */
        I_MATCH,
};

struct inst {
        enum op op;
        int32_t r;  /* I_RUNE */
        size_t cls; /* I_CLASS: index into classes */
        long x, y;  /* relative targets */
};

struct ranges {
        struct rune_range *r;
        size_t n;
};

struct goregex {
        struct inst *prog;
        size_t n, cap;
        struct ranges *classes;
        size_t n_classes;
};

struct parser {
        const char *s;
        size_t i, len;
        struct goregex *re;
        struct st_error **err;
};

static const struct rune_range R_DIGIT[] = { { '0', '9' } };
static const struct rune_range R_SPACE[] = { { '\t', '\n' }, { '\f', '\r' }, { ' ', ' ' } };
static const struct rune_range R_WORD[] = {
        { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' }
};

static const struct {
        const char *name;
        struct rune_range r[4];
        size_t n;
} posix_classes[] = {
        { "alnum", { { '0', '9' }, { 'A', 'Z' }, { 'a', 'z' } }, 3 },
        { "alpha", { { 'A', 'Z' }, { 'a', 'z' } }, 2 },
        { "ascii", { { 0, 0x7F } }, 1 },
        { "blank", { { '\t', '\t' }, { ' ', ' ' } }, 2 },
        { "cntrl", { { 0, 0x1F }, { 0x7F, 0x7F } }, 2 },
        { "digit", { { '0', '9' } }, 1 },
        { "graph", { { '!', '~' } }, 1 },
        { "lower", { { 'a', 'z' } }, 1 },
        { "print", { { ' ', '~' } }, 1 },
        { "punct", { { '!', '/' }, { ':', '@' }, { '[', '`' }, { '{', '~' } }, 4 },
        { "space", { { '\t', '\r' }, { ' ', ' ' } }, 2 },
        { "upper", { { 'A', 'Z' } }, 1 },
        { "word", { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } }, 4 },
        { "xdigit", { { '0', '9' }, { 'A', 'F' }, { 'a', 'f' } }, 3 },
};

static int syntax_error(struct parser *p, const char *what)
{
        return st_error_set(p->err, ST_E_PARSE, "error parsing regexp: %s", what);
}

static int unsupported(struct parser *p, const char *what)
{
        return st_error_set(p->err, ST_E_UNSUPPORTED,
                            "regular expression feature %s is not "
                            "supported in .dockerignore patterns",
                            what);
}

static size_t emit(struct goregex *re, struct inst in)
{
        if (re->n == re->cap) {
                re->cap = MAX(re->cap * 2, (size_t)16);
                re->prog = xrealloc(re->prog, re->cap * sizeof(struct inst));
        }
        re->prog[re->n] = in;
        return re->n++;
}

/* Insert K instructions at AT, moving what follows. */
static void insert(struct goregex *re, size_t at, const struct inst *in, size_t k)
{
        for (size_t j = 0; j < k; j++)
                emit(re, (struct inst){});
        memmove(re->prog + at + k, re->prog + at, (re->n - k - at) * sizeof(struct inst));
        memcpy(re->prog + at, in, k * sizeof(struct inst));
}

/* Wrap the piece from AT to the end in the repeat OP ('*', '+' or '?'). */
static void wrap(struct goregex *re, size_t at, char op)
{
        long len = (long)(re->n - at);

        if (op == '+') {
                emit(re, (struct inst){ .op = I_SPLIT, .x = -len, .y = 1 });
                return;
        }
        struct inst split = { .op = I_SPLIT, .x = 1, .y = len + 1 + (op == '*') };
        insert(re, at, &split, 1);
        if (op == '*')
                emit(re, (struct inst){ .op = I_JMP, .x = -(len + 1) });
}

static void ranges_add(struct ranges *c, uint32_t lo, uint32_t hi)
{
        c->r = xrealloc(c->r, (c->n + 1) * sizeof(struct rune_range));
        c->r[c->n++] = (struct rune_range){ lo, hi };
}

static int cmp_range(const void *a, const void *b)
{
        const struct rune_range *x = a, *y = b;
        return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge C; with NEGATE, replace it by its complement in 0..MAX_RUNE. */
static void ranges_finish(struct ranges *c, bool negate)
{
        struct ranges out = {};
        uint32_t next = 0;

        qsort(c->r, c->n, sizeof(struct rune_range), cmp_range);
        for (size_t i = 0; i < c->n; i++) {
                if (out.n > 0 && c->r[i].lo <= out.r[out.n - 1].hi + 1)
                        out.r[out.n - 1].hi = MAX(out.r[out.n - 1].hi, c->r[i].hi);
                else
                        ranges_add(&out, c->r[i].lo, c->r[i].hi);
        }
        free(c->r);
        *c = out;
        if (!negate)
                return;
        out = (struct ranges){};
        for (size_t i = 0; i < c->n; i++) {
                if (c->r[i].lo > next)
                        ranges_add(&out, next, c->r[i].lo - 1);
                next = c->r[i].hi + 1;
        }
        if (next <= MAX_RUNE)
                ranges_add(&out, next, MAX_RUNE);
        free(c->r);
        *c = out;
}

static void ranges_add_set(struct ranges *c, const struct rune_range *r, size_t n, bool negate)
{
        struct ranges set = {};

        for (size_t i = 0; i < n; i++)
                ranges_add(&set, r[i].lo, r[i].hi);
        ranges_finish(&set, negate);
        for (size_t i = 0; i < set.n; i++)
                ranges_add(c, set.r[i].lo, set.r[i].hi);
        free(set.r);
}

static int32_t cur_rune(const struct parser *p, size_t *ret_width)
{
        return rune_decode(p->s + p->i, p->len - p->i, ret_width);
}

/* \d \D \s \S \w \W at the cursor: add to C and return true. */
static bool perl_class(struct parser *p, struct ranges *c)
{
        const struct rune_range *set;
        size_t n;

        if (p->len - p->i < 2 || p->s[p->i] != '\\')
                return false;
        switch (p->s[p->i + 1] | 0x20) {
        case 'd':
                set = R_DIGIT, n = ELEMENTSOF(R_DIGIT);
                break;
        case 's':
                set = R_SPACE, n = ELEMENTSOF(R_SPACE);
                break;
        case 'w':
                set = R_WORD, n = ELEMENTSOF(R_WORD);
                break;
        default:
                return false;
        }
        ranges_add_set(c, set, n, p->s[p->i + 1] < 'a');
        p->i += 2;
        return true;
}

static int octal(struct parser *p, int32_t c, int32_t *ret)
{
        int32_t r = c - '0';

        for (int k = 1; k < 3 && p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '7'; k++)
                r = r * 8 + (p->s[p->i++] - '0');
        *ret = r;
        return 0;
}

static int unhex(int32_t c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                return (c | 0x20) - 'a' + 10;
        return -1;
}

static int hex(struct parser *p, int32_t *ret)
{
        size_t w;

        if (p->i >= p->len)
                return syntax_error(p, "invalid escape sequence");
        int32_t c = cur_rune(p, &w);
        p->i += w;
        if (c != '{') {
                if (p->i >= p->len)
                        return syntax_error(p, "invalid escape sequence");
                int32_t d = cur_rune(p, &w);
                p->i += w;
                if (unhex(c) < 0 || unhex(d) < 0)
                        return syntax_error(p, "invalid escape sequence");
                *ret = unhex(c) * 16 + unhex(d);
                return 0;
        }
        int32_t r = 0;
        size_t nhex = 0;
        for (;;) {
                if (p->i >= p->len)
                        return syntax_error(p, "invalid escape sequence");
                c = cur_rune(p, &w);
                p->i += w;
                if (c == '}')
                        break;
                if (unhex(c) < 0 || (r = r * 16 + unhex(c)) > MAX_RUNE)
                        return syntax_error(p, "invalid escape sequence");
                nhex++;
        }
        if (nhex == 0)
                return syntax_error(p, "invalid escape sequence");
        *ret = r;
        return 0;
}

/* Go's parseEscape, the cursor on the '\'. */
static int escape(struct parser *p, int32_t *ret)
{
        static const char cesc[] = "a\af\fn\nr\rt\tv\v";
        size_t w;

        p->i++;
        if (p->i >= p->len)
                return syntax_error(p, "trailing backslash at end of expression");
        int32_t c = cur_rune(p, &w);
        p->i += w;
        if (c < 0x80 && !isalnum(c)) {
                *ret = c;
                return 0;
        }
        if (c == '0' ||
            (c >= '1' && c <= '7' && p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '7'))
                return octal(p, c, ret);
        if (c == 'x')
                return hex(p, ret);
        for (size_t k = 0; c < 0x80 && cesc[k]; k += 2)
                if (cesc[k] == c) {
                        *ret = (unsigned char)cesc[k + 1];
                        return 0;
                }
        return syntax_error(p, "invalid escape sequence");
}

static int class_char(struct parser *p, int32_t *ret)
{
        size_t w;

        if (p->i >= p->len)
                return syntax_error(p, "missing closing ]");
        if (p->s[p->i] == '\\')
                return escape(p, ret);
        *ret = cur_rune(p, &w);
        p->i += w;
        return 0;
}

/* [:name:] or [:^name:] at the cursor: 1 if added to C, 0 if not a POSIX class here. */
static int posix_class(struct parser *p, struct ranges *c)
{
        if (p->len - p->i <= 2 || p->s[p->i] != '[' || p->s[p->i + 1] != ':')
                return 0;
        const char *end = memmem(p->s + p->i + 2, p->len - p->i - 2, ":]", 2);
        if (!end)
                return 0;
        const char *name = p->s + p->i + 2;
        size_t n = (size_t)(end - name);
        bool neg = n > 0 && name[0] == '^';
        for (size_t k = 0; k < ELEMENTSOF(posix_classes); k++)
                if (strlen(posix_classes[k].name) == n - neg &&
                    memcmp(posix_classes[k].name, name + neg, n - neg) == 0) {
                        ranges_add_set(c, posix_classes[k].r, posix_classes[k].n, neg);
                        p->i = (size_t)(end - p->s) + 2;
                        return 1;
                }
        return syntax_error(p, "invalid character class range");
}

static int class_item(struct parser *p, struct ranges *c)
{
        int32_t lo, hi;
        int r = posix_class(p, c);

        if (r != 0)
                return r;
        if (p->len - p->i >= 2 && p->s[p->i] == '\\' && (p->s[p->i + 1] | 0x20) == 'p')
                return unsupported(p, "\\p");
        if (perl_class(p, c))
                return 0;
        r = class_char(p, &lo);
        if (r < 0)
                return r;
        hi = lo;
        if (p->len - p->i >= 2 && p->s[p->i] == '-' && p->s[p->i + 1] != ']') {
                p->i++;
                r = class_char(p, &hi);
                if (r < 0)
                        return r;
                if (hi < lo)
                        return syntax_error(p, "invalid character class range");
        }
        ranges_add(c, (uint32_t)lo, (uint32_t)hi);
        return 0;
}

static int parse_class(struct parser *p)
{
        struct ranges c = {};
        bool negate = false, first = true;
        int r = 0;

        p->i++;
        if (p->i < p->len && p->s[p->i] == '^') {
                negate = true;
                p->i++;
        }
        while (r >= 0 && (p->i >= p->len || p->s[p->i] != ']' || first)) {
                first = false;
                r = class_item(p, &c);
        }
        if (r < 0) {
                free(c.r);
                return r;
        }
        p->i++;
        ranges_finish(&c, negate);
        struct goregex *re = p->re;
        re->classes = xrealloc(re->classes, (re->n_classes + 1) * sizeof(struct ranges));
        re->classes[re->n_classes] = c;
        emit(re, (struct inst){ .op = I_CLASS, .cls = re->n_classes++ });
        return 0;
}

static void emit_class_set(struct goregex *re, struct ranges *c)
{
        ranges_finish(c, false);
        re->classes = xrealloc(re->classes, (re->n_classes + 1) * sizeof(struct ranges));
        re->classes[re->n_classes] = *c;
        emit(re, (struct inst){ .op = I_CLASS, .cls = re->n_classes++ });
}

/* \Q...\E: literals; *RET_LAST is where the last one starts (unchanged if there is none). */
static void quoted(struct parser *p, size_t *ret_last)
{
        const char *end = memmem(p->s + p->i, p->len - p->i, "\\E", 2);
        size_t stop = end ? (size_t)(end - p->s) : p->len, w;

        while (p->i < stop) {
                *ret_last = emit(p->re, (struct inst){ .op = I_RUNE, .r = cur_rune(p, &w) });
                p->i += w;
        }
        p->i = end ? stop + 2 : stop;
}

/* A backslash sequence outside a class. */
static int escape_atom(struct parser *p, size_t *ret_last)
{
        static const struct {
                char c;
                enum op op;
        } asserts[] = { { 'A', I_BEGIN_TEXT },
                        { 'z', I_END_TEXT },
                        { 'b', I_WORD_BOUNDARY },
                        { 'B', I_NO_WORD_BOUNDARY } };

        char c = p->i + 1 < p->len ? p->s[p->i + 1] : 0;
        struct ranges set = {};
        int32_t r;

        for (size_t k = 0; k < ELEMENTSOF(asserts); k++)
                if (c == asserts[k].c) {
                        p->i += 2;
                        *ret_last = emit(p->re, (struct inst){ .op = asserts[k].op });
                        return 0;
                }
        if (c == 'C')
                return syntax_error(p, "invalid escape sequence");
        if (c == 'Q') {
                p->i += 2;
                quoted(p, ret_last);
                return 0;
        }
        if (c == 'p' || c == 'P')
                return unsupported(p, "\\p");
        *ret_last = p->re->n;
        if (perl_class(p, &set)) {
                emit_class_set(p->re, &set);
                return 0;
        }
        int e = escape(p, &r);
        if (e < 0)
                return e;
        emit(p->re, (struct inst){ .op = I_RUNE, .r = r });
        return 0;
}

static int parse_atom(struct parser *p, size_t *ret_last)
{
        size_t w;
        char c = p->s[p->i];

        if (c == '\\')
                return escape_atom(p, ret_last);
        *ret_last = p->re->n;
        switch (c) {
        case '[':
                return parse_class(p);
        case '.':
                p->i++;
                emit(p->re, (struct inst){ .op = I_ANY_NOT_NL });
                return 0;
        case '^':
        case '$':
                p->i++;
                emit(p->re, (struct inst){ .op = c == '^' ? I_BEGIN_TEXT : I_END_TEXT });
                return 0;
        default:
                emit(p->re, (struct inst){ .op = I_RUNE, .r = cur_rune(p, &w) });
                p->i += w;
                return 0;
        }
}

static int parse_alt(struct parser *p, unsigned depth, unsigned *ret_w);

static int parse_group(struct parser *p, unsigned depth, unsigned *ret_w)
{
        int r;

        p->i++;
        if (p->i < p->len && p->s[p->i] == '?')
                return unsupported(p, "'(?'");
        if (depth >= MAX_NESTING)
                return syntax_error(p, "expression nests too deeply");
        r = parse_alt(p, depth + 1, ret_w);
        if (r < 0)
                return r;
        if (p->i >= p->len)
                return syntax_error(p, "missing closing )");
        p->i++;
        return 0;
}

/* Go's parseInt: digits without a leading zero; -1 when too big. */
static bool parse_count(struct parser *p, long *ret)
{
        long n = 0;

        if (p->i >= p->len || !isdigit((unsigned char)p->s[p->i]))
                return false;
        if (p->s[p->i] == '0' && p->i + 1 < p->len && isdigit((unsigned char)p->s[p->i + 1]))
                return false;
        for (; p->i < p->len && isdigit((unsigned char)p->s[p->i]); p->i++)
                n = n < 0 || n >= 100000000 ? -1 : n * 10 + (p->s[p->i] - '0');
        *ret = n;
        return true;
}

/* Go's parseRepeat: {n}, {n,} (max -1) or {n,m}; false (cursor unchanged) if not one. */
static bool parse_braces(struct parser *p, long *ret_min, long *ret_max)
{
        size_t save = p->i;
        long min, max;

        p->i++;
        if (!parse_count(p, &min) || p->i >= p->len)
                goto no;
        max = min;
        if (p->s[p->i] == ',') {
                p->i++;
                if (p->i >= p->len)
                        goto no;
                if (p->s[p->i] == '}')
                        max = -1;
                else if (!parse_count(p, &max))
                        goto no;
                else if (max < 0)
                        min = -1;
        }
        if (p->i >= p->len || p->s[p->i] != '}')
                goto no;
        p->i++;
        *ret_min = min;
        *ret_max = max;
        return true;
no:
        p->i = save;
        return false;
}

/* The piece from AT to the end, repeated MIN to MAX (-1: unbounded) times. */
static int expand_repeat(struct parser *p, size_t at, long min, long max)
{
        struct goregex *re = p->re;
        size_t len = re->n - at;
        long extra = max < 0 ? 1 : max - min;

        if (at + (uint64_t)len * (uint64_t)(min + extra) > MAX_PROG)
                return unsupported(p, "repeat this large");
        _cleanup_free_ struct inst *f = xmalloc((len + 1) * sizeof(struct inst));
        memcpy(f, re->prog + at, len * sizeof(struct inst));
        re->n = at;
        for (long k = 0; k < min + extra; k++) {
                size_t start = re->n;
                for (size_t j = 0; j < len; j++)
                        emit(re, f[j]);
                if (k >= min)
                        wrap(re, start, max < 0 ? '*' : '?');
        }
        return 0;
}

/* A repeat operator at the cursor, applied to the piece at LAST (weight *W, Go's count of
 * nested {n,m} copies, which may not exceed 1000). */
static int parse_repeat(struct parser *p, size_t last, bool last_repeat, unsigned *w)
{
        char op = p->s[p->i];
        long min = 0, max = 0;

        if (op == '{') {
                if (!parse_braces(p, &min, &max))
                        return 1;
                if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max))
                        return syntax_error(p, "invalid repeat count");
        } else
                p->i++;
        if (p->i < p->len && p->s[p->i] == '?')
                p->i++;
        if (last_repeat)
                return syntax_error(p, "invalid nested repetition operator");
        if (last == SIZE_MAX)
                return syntax_error(p, "missing argument to repetition operator");
        if (op != '{') {
                wrap(p->re, last, op);
                return 0;
        }
        long m = max < 0 ? min : max;
        if ((min >= 2 || max >= 2) && m > 0 && (unsigned long)m * *w > 1000)
                return syntax_error(p, "invalid repeat count");
        *w = m == 0 ? 1 : (unsigned)m * *w;
        return expand_repeat(p, last, min, max);
}

/* A sequence up to '|' or ')' (left for the caller) or the end; *RET_W its weight. */
static int parse_seq(struct parser *p, unsigned depth, unsigned *ret_w)
{
        size_t last = SIZE_MAX;
        unsigned w = 1, last_w = 1;
        bool last_repeat = false;
        int r = 0;

        while (r >= 0 && p->i < p->len) {
                char c = p->s[p->i];
                if (c == '|' || c == ')')
                        break;
                if (c == '*' || c == '+' || c == '?' || c == '{') {
                        r = parse_repeat(p, last, last_repeat, &last_w);
                        if (r == 0) {
                                last_repeat = true;
                                w = MAX(w, last_w);
                                continue;
                        }
                        if (r < 0)
                                break;
                        r = 0; /* a literal '{' */
                }
                last_w = 1;
                if (c == '(') {
                        last = p->re->n;
                        r = parse_group(p, depth, &last_w);
                } else
                        r = parse_atom(p, &last);
                w = MAX(w, last_w);
                last_repeat = false;
        }
        if (r >= 0 && p->i < p->len && p->s[p->i] == ')' && depth == 0)
                return syntax_error(p, "unexpected )");
        *ret_w = w;
        return r;
}

/* Lay out the K alternatives that follow each other from START (ENDS[i]: where the i-th ends)
 * as SPLIT to it or on; the alternative; JMP to the end. */
static void lay_out_alternatives(struct goregex *re, size_t start, const size_t *ends, size_t k)
{
        size_t total = re->n - start + 2 * (k - 1), end = start + total;
        _cleanup_free_ struct inst *alts = xmalloc((re->n - start + 1) * sizeof(struct inst));

        memcpy(alts, re->prog + start, (re->n - start) * sizeof(struct inst));
        re->n = start;
        for (size_t i = 0, from = start; i < k; from = ends[i++]) {
                size_t len = ends[i] - from;
                if (i + 1 < k)
                        emit(re, (struct inst){ .op = I_SPLIT, .x = 1, .y = (long)len + 2 });
                for (size_t j = 0; j < len; j++)
                        emit(re, alts[from - start + j]);
                if (i + 1 < k)
                        emit(re, (struct inst){ .op = I_JMP, .x = (long)(end - re->n) });
        }
}

static int parse_alt(struct parser *p, unsigned depth, unsigned *ret_w)
{
        _cleanup_free_ size_t *ends = NULL;
        size_t start = p->re->n, k = 0, cap = 0;
        unsigned w = 1, ws = 1;
        int r = 0;

        for (;;) {
                r = parse_seq(p, depth, &ws);
                if (r < 0)
                        return r;
                w = MAX(w, ws);
                if (k == cap) {
                        cap = MAX(cap * 2, (size_t)4);
                        ends = xrealloc(ends, cap * sizeof(size_t));
                }
                ends[k++] = p->re->n;
                if (p->i >= p->len || p->s[p->i] != '|')
                        break;
                p->i++;
        }
        if (p->re->n + 2 * k > MAX_PROG)
                return unsupported(p, "expressions this large");
        if (k > 1)
                lay_out_alternatives(p->re, start, ends, k);
        *ret_w = w;
        return 0;
}

int goregex_compile(const char *re, struct goregex **ret, struct st_error **err)
{
        struct goregex *g = xcalloc(1, sizeof(*g));
        struct parser p = { .s = re, .len = strlen(re), .re = g, .err = err };
        unsigned w = 1;
        int r = parse_alt(&p, 0, &w);

        if (r < 0) {
                goregex_free(g);
                return r;
        }
        emit(g, (struct inst){ .op = I_MATCH });
        *ret = g;
        return 0;
}

struct goregex *goregex_free(struct goregex *re)
{
        if (!re)
                return NULL;
        for (size_t i = 0; i < re->n_classes; i++)
                free(re->classes[i].r);
        free(re->classes);
        free(re->prog);
        free(re);
        return NULL;
}

/* Matching. */

struct run {
        const struct goregex *re;
        const int32_t *t;
        size_t n;
        unsigned *mark;
        size_t *stack;
};

static bool is_word(int32_t c)
{
        return c >= 0 && c < 0x80 && (isalnum(c) || c == '_');
}

static bool assert_holds(const struct run *m, enum op op, size_t pos)
{
        bool before = pos > 0 && is_word(m->t[pos - 1]);
        bool after = pos < m->n && is_word(m->t[pos]);

        switch (op) {
        case I_BEGIN_TEXT:
                return pos == 0;
        case I_END_TEXT:
                return pos == m->n;
        case I_WORD_BOUNDARY:
                return before != after;
        default:
                return before == after;
        }
}

/* Add PC and everything reachable from it without reading a rune to LIST (generation GEN). */
static void add_thread(struct run *m, size_t *list, size_t *n, size_t pc, size_t pos, unsigned gen)
{
        size_t sp = 0;

        m->stack[sp++] = pc;
        while (sp > 0) {
                pc = m->stack[--sp];
                if (m->mark[pc] == gen)
                        continue;
                m->mark[pc] = gen;
                const struct inst *in = &m->re->prog[pc];
                switch (in->op) {
                case I_JMP:
                        m->stack[sp++] = pc + in->x;
                        break;
                case I_SPLIT:
                        m->stack[sp++] = pc + in->y;
                        m->stack[sp++] = pc + in->x;
                        break;
                case I_BEGIN_TEXT:
                case I_END_TEXT:
                case I_WORD_BOUNDARY:
                case I_NO_WORD_BOUNDARY:
                        if (assert_holds(m, in->op, pos))
                                m->stack[sp++] = pc + 1;
                        break;
                default:
                        list[(*n)++] = pc;
                }
        }
}

static bool in_class(const struct ranges *c, int32_t r)
{
        for (size_t i = 0; i < c->n; i++)
                if ((uint32_t)r >= c->r[i].lo && (uint32_t)r <= c->r[i].hi)
                        return true;
        return false;
}

static bool consumes(const struct goregex *re, const struct inst *in, int32_t c)
{
        switch (in->op) {
        case I_RUNE:
                return in->r == c;
        case I_CLASS:
                return in_class(&re->classes[in->cls], c);
        case I_ANY_NOT_NL:
                return c != '\n';
        default:
                return false;
        }
}

static bool simulate(struct run *m, size_t *cur, size_t *nxt)
{
        size_t nc = 0, nn;
        unsigned gen = 1;

        for (size_t pos = 0;; pos++, gen++) {
                add_thread(m, cur, &nc, 0, pos, gen);
                for (size_t k = 0; k < nc; k++)
                        if (m->re->prog[cur[k]].op == I_MATCH)
                                return true;
                if (pos == m->n)
                        return false;
                nn = 0;
                for (size_t k = 0; k < nc; k++)
                        if (consumes(m->re, &m->re->prog[cur[k]], m->t[pos]))
                                add_thread(m, nxt, &nn, cur[k] + 1, pos + 1, gen + 1);
                size_t *x = cur;
                cur = nxt;
                nxt = x;
                nc = nn;
        }
}

bool goregex_match(const struct goregex *re, const char *text)
{
        _cleanup_free_ int32_t *t = NULL;
        _cleanup_free_ unsigned *mark = xcalloc(re->n, sizeof(unsigned));
        _cleanup_free_ size_t *stack = xcalloc(2 * re->n + 2, sizeof(size_t));
        _cleanup_free_ size_t *cur = xcalloc(re->n, sizeof(size_t));
        _cleanup_free_ size_t *nxt = xcalloc(re->n, sizeof(size_t));
        struct run m = { .re = re, .mark = mark, .stack = stack };

        runes_decode(text, strlen(text), false, &t, &m.n, NULL);
        m.t = t;
        return simulate(&m, cur, nxt);
}
