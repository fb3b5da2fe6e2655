/* Heredoc detection as BuildKit does it: the instruction line is split into words by its shell
 * lexer (quotes and escapes kept raw, `$` references rebuilt, `<<` followed by blanks kept with
 * the next word), and each word matching ^(\d*)<<(-?)\s*([^<]*)$ whose rest lexes to exactly
 * one word is a heredoc. A line the lexer rejects (an unterminated quote, a bad `${`) has no
 * heredocs at all. The lexer always uses '\\' here, whatever the escape directive says. */
#include <string.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"

#define LEX_EOF (-2)

struct lex {
        const char *s;
        size_t n, pos;
        bool raw_quotes, raw_escapes;
        struct sbuf wordbuf; /* shared by nested scans, as Go's shellWord.wordsBuffer is */
        size_t tok_start;    /* where the element being added started */
        struct vec words;    /* struct lex_word */
};

struct lex_word {
        char *text; /* malloc'd */
        size_t off;
};

struct words {
        struct sbuf *buf;
        struct vec *out; /* NULL: words not wanted (nested scans) */
        bool in_word;
        size_t start;
};

static int32_t lex_peek(struct lex *l, size_t *ret_width)
{
        size_t w = 0;
        if (l->pos >= l->n) {
                if (ret_width)
                        *ret_width = 0;
                return LEX_EOF;
        }
        int32_t r = df_utf8_decode(l->s + l->pos, l->n - l->pos, &w);
        if (ret_width)
                *ret_width = w;
        return r < 0 ? RUNE_ERROR : r;
}

static int32_t lex_next(struct lex *l)
{
        size_t w;
        int32_t r = lex_peek(l, &w);
        l->pos += w;
        return r;
}

static void words_flush(struct words *w)
{
        if (w->out && w->buf->len > 0) {
                struct lex_word *lw = df_vec_push(w->out, sizeof(struct lex_word));
                lw->text = xstrndup(w->buf->s, w->buf->len);
                lw->off = w->start;
        }
        w->buf->len = 0;
        w->in_word = false;
}

static void words_raw(struct words *w, const char *s, size_t n, size_t at)
{
        if (w->buf->len == 0)
                w->start = at;
        df_sbuf_put(w->buf, s, n);
        w->in_word = true;
}

static void words_raw_rune(struct words *w, int32_t r, size_t at)
{
        if (w->buf->len == 0)
                w->start = at;
        df_sbuf_rune(w->buf, r);
        w->in_word = true;
}

static void words_rune(struct words *w, int32_t r, size_t at)
{
        if (df_rune_is_space(r)) {
                if (w->in_word && w->buf->len != 0)
                        words_flush(w);
        } else
                words_raw_rune(w, r, at);
}

static void words_string(struct words *w, const char *s, size_t n, size_t at)
{
        size_t k;
        for (size_t i = 0; i < n; i += k) {
                int32_t r = df_utf8_decode(s + i, n - i, &k);
                words_rune(w, r < 0 ? RUNE_ERROR : r, at);
        }
}

static int scan_until(struct lex *l, int32_t stop, bool raw_escapes, struct sbuf *result,
                      struct vec *out);

static int single_quote(struct lex *l, struct sbuf *res)
{
        int32_t ch = lex_next(l);
        if (l->raw_quotes)
                df_sbuf_rune(res, ch);
        for (;;) {
                ch = lex_next(l);
                if (ch == LEX_EOF)
                        return -1;
                if (ch == '\'') {
                        if (l->raw_quotes)
                                df_sbuf_rune(res, ch);
                        return 0;
                }
                df_sbuf_rune(res, ch);
        }
}

static int dollar(struct lex *l, struct sbuf *res);

static int double_quote(struct lex *l, struct sbuf *res)
{
        int32_t ch = lex_next(l);
        if (l->raw_quotes)
                df_sbuf_rune(res, ch);
        for (;;) {
                ch = lex_peek(l, NULL);
                if (ch == LEX_EOF)
                        return -1;
                if (ch == '"') {
                        lex_next(l);
                        if (l->raw_quotes)
                                df_sbuf_rune(res, ch);
                        return 0;
                }
                if (ch == '$') {
                        if (dollar(l, res) < 0)
                                return -1;
                        continue;
                }
                ch = lex_next(l);
                if (ch == '\\') {
                        if (l->raw_escapes)
                                df_sbuf_rune(res, ch);
                        int32_t nx = lex_peek(l, NULL);
                        if (nx == LEX_EOF)
                                continue;
                        if (nx == '"' || nx == '$' || nx == '\\')
                                ch = lex_next(l);
                }
                df_sbuf_rune(res, ch);
        }
}

static bool is_special_param(int32_t c)
{
        return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
               c == '0';
}

/* Go's unicode.IsLetter / IsDigit, closely enough for names: ASCII exactly; beyond ASCII,
 * everything but Latin-1 punctuation and U+FFFD counts as a letter. */
static bool is_name_rune(int32_t c)
{
        if (c < 0x80)
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_';
        if (c < 0xC0)
                return c == 0xAA || c == 0xB5 || c == 0xBA;
        return c != 0xD7 && c != 0xF7 && c != RUNE_ERROR && !df_rune_is_space(c);
}

static void name(struct lex *l, struct sbuf *out)
{
        int32_t c = lex_peek(l, NULL);
        if (c >= '0' && c <= '9') {
                while ((c = lex_peek(l, NULL)) >= '0' && c <= '9')
                        df_sbuf_rune(out, lex_next(l));
                return;
        }
        if (c != LEX_EOF && is_special_param(c)) {
                df_sbuf_rune(out, lex_next(l));
                return;
        }
        while ((c = lex_peek(l, NULL)) != LEX_EOF && is_name_rune(c))
                df_sbuf_rune(out, lex_next(l));
}

/* ${name/pattern/replacement} and ${name//pattern/replacement}, rebuilt as one slash. */
static int dollar_replace(struct lex *l, struct sbuf *res, const char *nm)
{
        struct sbuf pat = { 0 }, rep = { 0 };
        if (lex_peek(l, NULL) == '/')
                lex_next(l);
        int r = scan_until(l, '/', true, &pat, NULL);
        if (r >= 0)
                r = scan_until(l, '}', true, &rep, NULL);
        if (r >= 0)
                df_sbuf_printf(res, "${%s/%s/%s}", nm, df_sbuf_cstr(&pat), df_sbuf_cstr(&rep));
        df_sbuf_release(&pat);
        df_sbuf_release(&rep);
        return r;
}

/* ${name<op>word}: with no variables set, it stays as written (word lexed). */
static int dollar_modifier(struct lex *l, struct sbuf *res, const char *nm, int32_t op)
{
        struct sbuf chs = { 0 }, word = { 0 };
        bool null_is_unset = op == ':';
        df_sbuf_rune(&chs, op);
        if (null_is_unset) {
                op = lex_next(l);
                df_sbuf_rune(&chs, op);
        }
        bool raw = op == '#' || op == '%';
        int r = null_is_unset && raw ? -1 : scan_until(l, '}', raw, &word, NULL);
        if (r >= 0)
                df_sbuf_printf(res, "${%s%s%s}", nm, df_sbuf_cstr(&chs), df_sbuf_cstr(&word));
        df_sbuf_release(&chs);
        df_sbuf_release(&word);
        return r;
}

static int dollar(struct lex *l, struct sbuf *res)
{
        struct sbuf nm = { 0 };
        int r = 0;
        lex_next(l);
        if (lex_peek(l, NULL) != '{') {
                name(l, &nm);
                df_sbuf_putc(res, '$');
                df_sbuf_put(res, nm.s, nm.len);
                df_sbuf_release(&nm);
                return 0;
        }
        lex_next(l);
        int32_t c = lex_peek(l, NULL);
        if (c == LEX_EOF || c == '{' || c == '}' || c == ':')
                return -1;
        name(l, &nm);
        c = lex_next(l);
        if (c == '}')
                df_sbuf_printf(res, "${%s}", df_sbuf_cstr(&nm));
        else if (c == ':' || c == '+' || c == '-' || c == '?' || c == '#' || c == '%')
                r = dollar_modifier(l, res, df_sbuf_cstr(&nm), c);
        else if (c == '/')
                r = dollar_replace(l, res, df_sbuf_cstr(&nm));
        else
                r = -1;
        df_sbuf_release(&nm);
        return r;
}

/* "<<" and the blanks after it stay with the next word; a lone '<' is just a character. */
static void possible_heredoc(struct lex *l, struct sbuf *res)
{
        int32_t c;
        lex_next(l);
        if (lex_peek(l, NULL) != '<') {
                df_sbuf_putc(res, '<');
                return;
        }
        lex_next(l);
        df_sbuf_puts(res, "<<");
        while ((c = lex_peek(l, NULL)) == '\t' || c == '\r' || c == ' ')
                df_sbuf_rune(res, lex_next(l));
}

/* One special element ($, <, quotes) into RESULT and the words. */
static int special(struct lex *l, int32_t ch, struct sbuf *result, struct words *w)
{
        struct sbuf tmp = { 0 };
        size_t at = l->tok_start; /* nested scans move tok_start */
        int r = 0;
        if (ch == '$')
                r = dollar(l, &tmp);
        else if (ch == '<')
                possible_heredoc(l, &tmp);
        else if (ch == '\'')
                r = single_quote(l, &tmp);
        else
                r = double_quote(l, &tmp);
        if (r >= 0) {
                df_sbuf_put(result, tmp.s, tmp.len);
                if (ch == '$')
                        words_string(w, tmp.s, tmp.len, at);
                else if (tmp.len > 0)
                        words_raw(w, tmp.s, tmp.len, at);
                else
                        w->in_word = true;
        }
        df_sbuf_release(&tmp);
        return r;
}

/* Go's shellWord.processStopOn: scan to STOP (LEX_EOF: the end), collecting words into OUT. */
static int scan_until(struct lex *l, int32_t stop, bool raw_escapes, struct sbuf *result,
                      struct vec *out)
{
        struct words w = { .buf = &l->wordbuf, .out = out };
        bool saved = l->raw_escapes;
        int32_t ch;
        int r = -1;
        l->wordbuf.len = 0;
        l->raw_escapes = raw_escapes;
        while ((ch = lex_peek(l, NULL)) != LEX_EOF) {
                l->tok_start = l->pos;
                if (stop != LEX_EOF && ch == stop) {
                        lex_next(l);
                        r = 0;
                        goto done;
                }
                if (ch == '$' || ch == '<' || ch == '\'' || ch == '"') {
                        if (special(l, ch, result, &w) < 0)
                                goto done;
                        continue;
                }
                ch = lex_next(l);
                if (ch == '\\') {
                        if (l->raw_escapes) {
                                words_raw_rune(&w, ch, l->tok_start);
                                df_sbuf_rune(result, ch);
                        }
                        ch = lex_next(l);
                        if (ch == LEX_EOF)
                                break;
                        words_raw_rune(&w, ch, l->tok_start);
                } else
                        words_rune(&w, ch, l->tok_start);
                df_sbuf_rune(result, ch);
        }
        r = stop == LEX_EOF ? 0 : -1;
done:
        if (r >= 0)
                words_flush(&w);
        l->raw_escapes = saved;
        return r;
}

static void lex_words_free(struct vec *v)
{
        struct lex_word *w = v->p;
        for (size_t i = 0; i < v->n; i++)
                free(w[i].text);
        free(v->p);
        *v = (struct vec){ 0 };
}

/* Split S into words as shell.Lex.ProcessWords does with no variables set. */
static int lex_words(const char *s, size_t n, bool raw_quotes, bool raw_escapes, struct vec *out)
{
        struct lex l = { .s = s, .n = n, .raw_quotes = raw_quotes, .raw_escapes = raw_escapes };
        struct sbuf result = { 0 };
        int r = scan_until(&l, LEX_EOF, raw_escapes, &result, out);
        df_sbuf_release(&result);
        df_sbuf_release(&l.wordbuf);
        if (r < 0)
                lex_words_free(out);
        return r;
}

static size_t count_quotes(const char *s)
{
        size_t k = 0;
        for (; *s; s++)
                k += *s == '\'' || *s == '"';
        return k;
}

/* Match ^(\d*)<<(-?)\s*([^<]*)$; fills *ret's fd and chomp, and the rest. */
static bool match_heredoc(const char *w, size_t n, struct heredoc_word *ret, const char **rest)
{
        size_t i = 0;
        unsigned long fd = 0;
        bool overflow = false;
        for (; i < n && w[i] >= '0' && w[i] <= '9'; i++) {
                overflow |= fd > (~0ul - 9) / 10;
                fd = fd * 10 + (unsigned long)(w[i] - '0');
        }
        if (n - i < 2 || w[i] != '<' || w[i + 1] != '<')
                return false;
        i += 2;
        ret->chomp = i < n && w[i] == '-';
        i += ret->chomp;
        while (i < n && strchr("\t\n\f\r ", w[i]) && w[i])
                i++;
        if (memchr(w + i, '<', n - i) || i == n)
                return false;
        ret->fd = overflow || fd > 0xFFFFFFFFu ? 0 : (unsigned)fd;
        *rest = w + i;
        return true;
}

int df_heredoc_parse_word(const char *word, size_t n, struct heredoc_word *ret)
{
        struct heredoc_word h = { 0 };
        struct vec plain = { 0 }, raw = { 0 };
        const char *rest;
        if (!match_heredoc(word, n, &h, &rest))
                return 0;
        size_t rn = n - (size_t)(rest - word);
        if (lex_words(rest, rn, false, false, &plain) < 0)
                return -1;
        int r = 0;
        if (plain.n == 1) {
                r = lex_words(rest, rn, true, false, &raw) < 0 || raw.n != 1 ? -1 : 1;
                if (r == 1) {
                        const char *name = ((struct lex_word *)plain.p)[0].text;
                        const char *rawname = ((struct lex_word *)raw.p)[0].text;
                        h.expand = count_quotes(name) == count_quotes(rawname);
                        h.name = xstrdup(name);
                        *ret = h;
                }
        }
        lex_words_free(&plain);
        lex_words_free(&raw);
        return r;
}

void df_heredoc_words_free(struct heredoc_word *w, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(w[i].name);
        free(w);
}

int df_heredocs_from_line(const char *line, size_t n, struct heredoc_word **ret, size_t *ret_n,
                          char **ret_msg)
{
        struct vec words = { 0 }, docs = { 0 };
        *ret = NULL;
        *ret_n = 0;
        if (lex_words(line, n, true, true, &words) < 0)
                return 0; /* BuildKit ignores the lexer's error: no heredocs */
        struct lex_word *lw = words.p;
        int r = 0;
        for (size_t i = 0; i < words.n && r >= 0; i++) {
                struct heredoc_word h;
                r = df_heredoc_parse_word(lw[i].text, strlen(lw[i].text), &h);
                if (r < 0)
                        *ret_msg = xasprintf("failed to process \"%s\"", lw[i].text);
                else if (r > 0) {
                        h.off = lw[i].off;
                        *(struct heredoc_word *)df_vec_push(&docs, sizeof(h)) = h;
                }
        }
        lex_words_free(&words);
        if (r < 0) {
                df_heredoc_words_free(docs.p, docs.n);
                return r;
        }
        *ret = docs.p;
        *ret_n = docs.n;
        return 0;
}
