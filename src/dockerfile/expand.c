/* The structure follows BuildKit's shell lexer (lex.go): one function per construct, each
 * reading runes from a shared cursor, so that every quirk of the order in which it consumes
 * input carries over. */
#include "dockerfile/expand.h"

#include <stdarg.h>
#include <stdio.h>

#include "basic/util.h"
#include "dockerfile/runes-internal.h"
#include "dockerfile/shellpattern-internal.h"

/* Work allowed for wildcard matching in one call: pattern length times value length, plus
 * replacement length per replacement, summed. */
#define MATCH_BUDGET (UINT64_C(1) << 26)

struct buf {
        char *s;
        size_t len, cap;
};

/* The fields of ProcessWords: CUR is the field being built. */
struct words {
        struct buf cur;
        bool in_word;
        char **list;
        size_t n, cap;
};

struct lexer {
        const int32_t *in;
        size_t n, pos;
        int32_t escape;
        bool skip_quotes; /* quotes are plain characters (heredoc contents) */
        dockerfile_lookup_fn lookup;
        void *userdata;
        char **names; /* every name looked up, with repeats */
        size_t n_names, cap_names;
        unsigned depth;
        uint64_t budget;
        struct st_error *e; /* the error, before the caller's context is added */
};

static void buf_free(struct buf *b)
{
        free(b->s);
}

#define _cleanup_buf_ _cleanup_(buf_free)

static const char *buf_str(const struct buf *b)
{
        return b->s ? b->s : "";
}

static _printf_(3, 4) int fail(struct lexer *lx, int code, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        st_error_free(lx->e);
        lx->e = NULL;
        return st_error_set(&lx->e, code, "%s", msg);
}

static int put(struct lexer *lx, struct buf *b, const char *s, size_t n)
{
        if (n > DOCKERFILE_EXPAND_MAX_SIZE - b->len)
                return fail(lx, ST_E_TOO_BIG, "expansion exceeds %d bytes",
                            DOCKERFILE_EXPAND_MAX_SIZE);
        if (b->len + n + 1 > b->cap) {
                b->cap = MAX(MAX(b->cap * 2, b->len + n + 1), (size_t)64);
                b->s = xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
        return 0;
}

static int put_str(struct lexer *lx, struct buf *b, const char *s)
{
        return put(lx, b, s, strlen(s));
}

static int put_rune(struct lexer *lx, struct buf *b, int32_t r)
{
        char tmp[4];
        return put(lx, b, tmp, rune_encode(r, tmp));
}

static int32_t peek(const struct lexer *lx)
{
        return lx->pos < lx->n ? lx->in[lx->pos] : RUNE_EOF;
}

static int32_t next(struct lexer *lx)
{
        int32_t c = peek(lx);
        if (c != RUNE_EOF)
                lx->pos++;
        return c;
}

/* words.addRawChar / addRawString: text that never splits a field. */
static int words_raw(struct lexer *lx, struct words *w, const char *s, size_t n)
{
        if (!w)
                return 0;
        w->in_word = true;
        return put(lx, &w->cur, s, n);
}

static int words_raw_rune(struct lexer *lx, struct words *w, int32_t r)
{
        char tmp[4];
        return words_raw(lx, w, tmp, rune_encode(r, tmp));
}

static void words_push(struct words *w)
{
        if (w->n + 2 > w->cap) {
                w->cap = MAX(w->cap * 2, (size_t)8);
                w->list = xrealloc(w->list, w->cap * sizeof(char *));
        }
        w->list[w->n++] = TAKE_PTR(w->cur.s);
        w->list[w->n] = NULL;
        w->cur = (struct buf){};
        w->in_word = false;
}

/* words.addChar: whitespace ends a non-empty field, anything else extends it. */
static int words_char(struct lexer *lx, struct words *w, int32_t r)
{
        if (!w)
                return 0;
        if (!rune_is_space(r))
                return words_raw_rune(lx, w, r);
        if (w->in_word && w->cur.len > 0)
                words_push(w);
        return 0;
}

/* words.addString: the value of $VAR, split at whitespace (invalid UTF-8 becomes U+FFFD). */
static int words_string(struct lexer *lx, struct words *w, const char *s, size_t n)
{
        size_t width;
        int r = 0;

        for (size_t i = 0; w && r >= 0 && i < n; i += width)
                r = words_char(lx, w, rune_decode(s + i, n - i, &width));
        return r;
}

static const char *getenv_name(struct lexer *lx, const char *name)
{
        if (lx->n_names == lx->cap_names) {
                lx->cap_names = MAX(lx->cap_names * 2, (size_t)16);
                lx->names = xrealloc(lx->names, lx->cap_names * sizeof(char *));
        }
        lx->names[lx->n_names++] = xstrdup(name);
        return lx->lookup ? lx->lookup(lx->userdata, name) : NULL;
}

static bool is_special_param(int32_t c)
{
        return c > 0 && c < 0x80 && strchr("@*#?-$!0", c);
}

/* processName: a run of letters, digits and '_'; or a run of digits; or one special
 * parameter character. May be empty. */
static int read_name(struct lexer *lx, struct buf *name)
{
        int r = 0;

        while (r >= 0 && peek(lx) != RUNE_EOF) {
                int32_t c = peek(lx);
                if (name->len == 0 && rune_is_digit(c)) {
                        while (r >= 0 && peek(lx) != RUNE_EOF && rune_is_digit(peek(lx)))
                                r = put_rune(lx, name, next(lx));
                        return r;
                }
                if (name->len == 0 && is_special_param(c))
                        return put_rune(lx, name, next(lx));
                if (!rune_is_letter(c) && !rune_is_digit(c) && c != '_')
                        break;
                r = put_rune(lx, name, next(lx));
        }
        return r;
}

static int stop_on(struct lexer *lx, int32_t stop, bool raw, struct buf *result,
                   struct words *words);
static int dollar(struct lexer *lx, struct buf *out);

static int single_quote(struct lexer *lx, struct buf *out)
{
        next(lx);
        for (;;) {
                int32_t c = next(lx);
                if (c == RUNE_EOF)
                        return fail(lx, ST_E_PARSE,
                                    "unexpected end of statement while looking "
                                    "for matching single-quote");
                if (c == '\'')
                        return 0;
                int r = put_rune(lx, out, c);
                if (r < 0)
                        return r;
        }
}

/* Inside double quotes the escape character only escapes '"', '$' and itself. */
static int double_quote_char(struct lexer *lx, bool raw, struct buf *out)
{
        int32_t c = next(lx);
        int r = 0;

        if (c == lx->escape) {
                if (raw)
                        r = put_rune(lx, out, c);
                int32_t p = peek(lx);
                if (p == RUNE_EOF)
                        return r;
                if (p == '"' || p == '$' || p == lx->escape)
                        c = next(lx);
        }
        return r < 0 ? r : put_rune(lx, out, c);
}

static int double_quote(struct lexer *lx, bool raw, struct buf *out)
{
        int r = 0;

        next(lx);
        while (r >= 0) {
                int32_t c = peek(lx);
                if (c == RUNE_EOF)
                        return fail(lx, ST_E_PARSE,
                                    "unexpected end of statement while looking "
                                    "for matching double-quote");
                if (c == '"') {
                        next(lx);
                        return 0;
                }
                r = c == '$' ? dollar(lx, out) : double_quote_char(lx, raw, out);
        }
        return r;
}

/* processPossibleHeredoc: "<<" and the blanks after it stay together in one field. */
static int possible_heredoc(struct lexer *lx, struct buf *out)
{
        int r;

        next(lx);
        if (peek(lx) != '<')
                return put_str(lx, out, "<");
        next(lx);
        r = put_str(lx, out, "<<");
        while (r >= 0 && (peek(lx) == '\t' || peek(lx) == '\r' || peek(lx) == ' '))
                r = put_rune(lx, out, next(lx));
        return r;
}

static int special(struct lexer *lx, int32_t c, bool raw, struct buf *out)
{
        switch (c) {
        case '$':
                return dollar(lx, out);
        case '<':
                return possible_heredoc(lx, out);
        case '\'':
                return single_quote(lx, out);
        default:
                return double_quote(lx, raw, out);
        }
}

static int plain_char(struct lexer *lx, bool raw, struct buf *result, struct words *words,
                      bool *ret_end)
{
        int32_t c = next(lx);
        int r = 0;

        if (c != lx->escape) {
                r = words_char(lx, words, c);
                return r < 0 ? r : put_rune(lx, result, c);
        }
        if (raw) {
                r = words_raw_rune(lx, words, c);
                r = r < 0 ? r : put_rune(lx, result, c);
        }
        c = next(lx);
        if (r < 0 || c == RUNE_EOF) {
                *ret_end = true;
                return r;
        }
        r = words_raw_rune(lx, words, c);
        return r < 0 ? r : put_rune(lx, result, c);
}

/* processStopOn: read up to STOP (consumed) or the end; with RAW, escape characters are kept
 * (for patterns). WORDS, if non-NULL, collects the fields. */
static int stop_on(struct lexer *lx, int32_t stop, bool raw, struct buf *result,
                   struct words *words)
{
        bool end = false;
        int r = 0;

        while (r >= 0 && !end && peek(lx) != RUNE_EOF) {
                int32_t c = peek(lx);
                if (stop != RUNE_EOF && c == stop) {
                        next(lx);
                        return 0;
                }
                bool quote = (c == '\'' || c == '"') && !lx->skip_quotes;
                if (c != '$' && c != '<' && !quote) {
                        r = plain_char(lx, raw, result, words, &end);
                        continue;
                }
                _cleanup_buf_ struct buf tmp = {};
                r = special(lx, c, raw, &tmp);
                if (r >= 0)
                        r = put(lx, result, buf_str(&tmp), tmp.len);
                if (r >= 0)
                        r = c == '$' ? words_string(lx, words, buf_str(&tmp), tmp.len)
                                     : words_raw(lx, words, buf_str(&tmp), tmp.len);
        }
        if (r < 0)
                return r;
        if (stop != RUNE_EOF) {
                char tmp[5];
                tmp[rune_encode(stop, tmp)] = 0;
                return fail(lx, ST_E_PARSE,
                            "unexpected end of statement while looking for matching %s", tmp);
        }
        return 0;
}

/* A nested word (default, pattern, replacement) up to STOP; at the end of input the error is
 * MISSING instead. */
static int nested(struct lexer *lx, int32_t stop, bool raw, const char *missing, struct buf *out)
{
        int r = stop_on(lx, stop, raw, out, NULL);
        if (r < 0 && r != ST_E_TOO_BIG && peek(lx) == RUNE_EOF)
                return fail(lx, ST_E_PARSE, "%s", missing);
        return r;
}

static int use_default(struct lexer *lx, int32_t op, bool null_is_unset, const char *name,
                       const char *value, const char *word, struct buf *out)
{
        bool unset = !value || (null_is_unset && !*value);

        switch (op) {
        case '-':
                return put_str(lx, out, unset ? word : value);
        case '+':
                return put_str(lx, out, unset ? "" : word);
        default: /* '?' */
                if (!unset)
                        return put_str(lx, out, value);
                return fail(lx, ST_E_PARSE, "%s: %s", name,
                            *word    ? word
                            : !value ? "is not allowed to be unset"
                                     : "is not allowed to be empty");
        }
}

static int trim(struct lexer *lx, int32_t op, const char *value, const char *word, struct buf *out)
{
        _cleanup_free_ char *res = NULL;
        bool greedy = word[0] == op;
        int r;

        if (greedy)
                word++;
        if (op == '%')
                r = shell_trim_suffix(word, value, greedy, &lx->budget, &res, &lx->e);
        else
                r = shell_trim_prefix(word, value, greedy, &lx->budget, &res, &lx->e);
        return r < 0 ? r : put_str(lx, out, res);
}

/* ${name OP word} for the OPs that take a word: - + ? # % (CHS is the modifier as written,
 * for messages). */
static int modifier(struct lexer *lx, const char *name, int32_t op, bool null_is_unset,
                    const char *chs, struct buf *out)
{
        _cleanup_buf_ struct buf word = {};
        bool raw = op == '#' || op == '%';
        int r;

        if (null_is_unset && raw)
                return fail(lx, ST_E_PARSE, "unsupported modifier (%s) in substitution", chs);
        r = nested(lx, '}', raw, "syntax error: missing '}'", &word);
        if (r < 0)
                return r;
        const char *value = getenv_name(lx, name);
        if (op == '-' || op == '+' || op == '?')
                return use_default(lx, op, null_is_unset, name, value, buf_str(&word), out);
        if (raw)
                return trim(lx, op, value ? value : "", buf_str(&word), out);
        return fail(lx, ST_E_PARSE, "unsupported modifier (%s) in substitution", chs);
}

/* ${name/pattern/replacement} and ${name//pattern/replacement}. */
static int substitute(struct lexer *lx, const char *name, struct buf *out)
{
        _cleanup_buf_ struct buf pat = {}, repl = {};
        _cleanup_free_ char *res = NULL;
        bool all = peek(lx) == '/';
        int r;

        if (all)
                next(lx);
        r = nested(lx, '/', true, "syntax error: missing '/' in ${}", &pat);
        if (r >= 0)
                r = nested(lx, '}', true, "syntax error: missing '}'", &repl);
        if (r < 0)
                return r;
        const char *value = getenv_name(lx, name);
        r = shell_replace(buf_str(&pat), buf_str(&repl), value ? value : "", all,
                          DOCKERFILE_EXPAND_MAX_SIZE, &lx->budget, &res, &lx->e);
        return r < 0 ? r : put_str(lx, out, res);
}

/* What follows "${name": '}', or a modifier. */
static int braced_rest(struct lexer *lx, const char *name, struct buf *out)
{
        int32_t c = next(lx);
        char chs[16] = "";
        const char *value;

        switch (c) {
        case '}':
                value = getenv_name(lx, name);
                return put_str(lx, out, value ? value : "");
        case ':':
                c = next(lx);
                chs[0] = ':';
                rune_encode(c, chs + 1);
                return modifier(lx, name, c, true, chs, out);
        case '+':
        case '-':
        case '?':
        case '#':
        case '%':
                chs[0] = (char)c;
                return modifier(lx, name, c, false, chs, out);
        case '/':
                return substitute(lx, name, out);
        case RUNE_EOF:
                return fail(lx, ST_E_PARSE, "syntax error: missing '}'");
        default:
                rune_encode(c, chs);
                return fail(lx, ST_E_PARSE, "unsupported modifier (%s) in substitution", chs);
        }
}

static int braced(struct lexer *lx, struct buf *out)
{
        _cleanup_buf_ struct buf name = {};
        int32_t c;
        int r;

        next(lx);
        c = peek(lx);
        if (c == RUNE_EOF)
                return fail(lx, ST_E_PARSE, "syntax error: missing '}'");
        if (c == '{' || c == '}' || c == ':')
                return fail(lx, ST_E_PARSE, "syntax error: bad substitution");
        r = read_name(lx, &name);
        return r < 0 ? r : braced_rest(lx, buf_str(&name), out);
}

/* processDollar: $name, ${...}, or a lone '$' kept as it is. */
static int dollar(struct lexer *lx, struct buf *out)
{
        _cleanup_buf_ struct buf name = {};
        int r;

        next(lx);
        if (peek(lx) == '{') {
                if (lx->depth >= DOCKERFILE_EXPAND_MAX_DEPTH)
                        return fail(lx, ST_E_TOO_BIG, "substitutions nested more than %d deep",
                                    DOCKERFILE_EXPAND_MAX_DEPTH);
                lx->depth++;
                r = braced(lx, out);
                lx->depth--;
                return r;
        }
        r = read_name(lx, &name);
        if (r < 0)
                return r;
        if (name.len == 0)
                return put_str(lx, out, "$");
        const char *value = getenv_name(lx, name.s);
        return put_str(lx, out, value ? value : "");
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The looked-up names, sorted and without repeats; NULL if none. Takes LX's names. */
static char **take_used(struct lexer *lx)
{
        size_t k = 0;

        if (lx->n_names == 0)
                return NULL;
        qsort(lx->names, lx->n_names, sizeof(char *), cmp_str);
        for (size_t i = 0; i < lx->n_names; i++) {
                if (k > 0 && streq(lx->names[k - 1], lx->names[i]))
                        free(lx->names[i]);
                else
                        lx->names[k++] = lx->names[i];
        }
        lx->names = xrealloc(lx->names, (k + 1) * sizeof(char *));
        lx->names[k] = NULL;
        lx->n_names = 0;
        return TAKE_PTR(lx->names);
}

static void lexer_done(struct lexer *lx)
{
        for (size_t i = 0; i < lx->n_names; i++)
                free(lx->names[i]);
        free(lx->names);
        st_error_free(lx->e);
}

static int run(const char *word, char escape, bool skip_quotes, dockerfile_lookup_fn lookup,
               void *userdata, struct buf *result, struct words *words, char ***ret_used,
               struct st_error **err)
{
        _cleanup_free_ int32_t *in = NULL;
        struct lexer lx = {
                .escape = (unsigned char)escape,
                .skip_quotes = skip_quotes,
                .lookup = lookup,
                .userdata = userdata,
                .budget = MATCH_BUDGET,
        };
        size_t len = strlen(word);
        int r;

        if (len > DOCKERFILE_EXPAND_MAX_SIZE)
                return st_error_set(err, ST_E_TOO_BIG, "word of %zu bytes exceeds %d bytes", len,
                                    DOCKERFILE_EXPAND_MAX_SIZE);
        runes_decode(word, len, true, &in, &lx.n, NULL);
        lx.in = in;
        r = stop_on(&lx, RUNE_EOF, false, result, words);
        if (r < 0) {
                r = st_error_set(err, r, "failed to process '%s': %s", word, st_error_msg(lx.e));
                lexer_done(&lx);
                return r;
        }
        if (ret_used)
                *ret_used = take_used(&lx);
        lexer_done(&lx);
        return 0;
}

int dockerfile_expand_word(const char *word, char escape, dockerfile_lookup_fn lookup,
                           void *userdata, char **ret, char ***ret_used, struct st_error **err)
{
        _cleanup_buf_ struct buf result = {};
        int r = run(word, escape, false, lookup, userdata, &result, NULL, ret_used, err);

        if (r < 0)
                return r;
        *ret = result.s ? TAKE_PTR(result.s) : xstrdup("");
        return 0;
}

int dockerfile_expand_words(const char *text, char escape, dockerfile_lookup_fn lookup,
                            void *userdata, char ***ret, char ***ret_used, struct st_error **err)
{
        _cleanup_buf_ struct buf result = {};
        struct words w = {};
        int r = run(text, escape, false, lookup, userdata, &result, &w, ret_used, err);

        if (r >= 0 && w.cur.len > 0)
                words_push(&w);
        buf_free(&w.cur);
        if (r < 0) {
                strv_free(w.list);
                return r;
        }
        *ret = w.list ? w.list : xcalloc(1, sizeof(char *));
        return 0;
}

int dockerfile_expand_heredoc(const char *text, dockerfile_lookup_fn lookup, void *userdata,
                              char **ret, struct st_error **err)
{
        _cleanup_buf_ struct buf result = {};
        int r = run(text, '\\', true, lookup, userdata, &result, NULL, NULL, err);

        if (r < 0)
                return r;
        *ret = result.s ? TAKE_PTR(result.s) : xstrdup("");
        return 0;
}
