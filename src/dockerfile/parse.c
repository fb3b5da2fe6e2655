/* The line level of the parser, as BuildKit's parser.Parse: parser directives at the top,
 * comments, continuation lines joined into one instruction text, heredoc bodies; then the
 * checks and warnings. */
#include <string.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"

void df_parser_position(const struct parser *p, size_t off, unsigned *ret_line, unsigned *ret_col)
{
        const struct segment *sg = p->segments.p;
        size_t k = p->segments.n;
        while (k > 1 && sg[k - 1].off > off)
                k--;
        if (k == 0) {
                *ret_line = p->start_line;
                *ret_col = 1;
                return;
        }
        const char *src = sg[k - 1].src + (off - sg[k - 1].off);
        *ret_line = sg[k - 1].line;
        *ret_col = (unsigned)df_utf8_count(sg[k - 1].line_start,
                                           (size_t)(src - sg[k - 1].line_start)) +
                   1;
}

int df_parser_error(struct parser *p, unsigned line, unsigned col, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        return st_error_set(p->err, code, "%s:%u:%u: %s", p->filename, line, col, msg);
}

int df_parser_error_at(struct parser *p, size_t off, const char *fmt, ...)
{
        unsigned line, col;
        va_list ap;
        df_parser_position(p, off, &line, &col);
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        return df_parser_error(p, line, col, ST_E_PARSE, "%s", msg);
}

void df_parser_warn(struct parser *p, const char *rule, unsigned line, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        struct dockerfile_warning *w = df_vec_push(&p->warnings, sizeof(*w));
        w->rule = rule;
        w->message = df_arena_strndup(p->arena, msg, strlen(msg));
        w->line = line;
}

/* The next physical line without its '\n' (and line 1 without a byte-order mark); 0 at the
 * end of the input. */
static int next_line(struct parser *p, const char **ret, size_t *ret_n, bool *ret_nl)
{
        if (p->next >= p->end)
                return 0;
        const char *s = p->next, *nl = memchr(s, '\n', (size_t)(p->end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(p->end - s);
        p->line++;
        if (n > DOCKERFILE_LINE_MAX)
                return df_parser_error(p, p->line, 1, ST_E_TOO_BIG,
                                       "line is longer than the maximum of %u bytes",
                                       DOCKERFILE_LINE_MAX);
        p->next = nl ? nl + 1 : p->end;
        if (p->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
                s += 3;
                n -= 3;
        }
        *ret = s;
        *ret_n = n;
        *ret_nl = nl != NULL;
        return 1;
}

static void trim_newline(const char *s, size_t *n)
{
        while (*n > 0 && (s[*n - 1] == '\r' || s[*n - 1] == '\n'))
                (*n)--;
}

static void trim_left(const char **s, size_t *n)
{
        size_t w;
        while ((w = df_uspace_at(*s, *n)) > 0) {
                *s += w;
                *n -= w;
        }
}

static bool is_comment(const char *s, size_t n)
{
        trim_left(&s, &n);
        return n > 0 && s[0] == '#';
}

/* RE2's \s. */
static bool is_re_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* A trailing escape character (not itself escaped), blanks after it allowed, continues the
 * instruction on the next line; it is removed with the blanks. */
static bool trim_continuation(const struct parser *p, const char *s, size_t *n)
{
        size_t m = *n;
        while (m > 0 && (s[m - 1] == ' ' || s[m - 1] == '\t'))
                m--;
        if (m == 0 || s[m - 1] != p->escape || (m >= 2 && s[m - 2] == p->escape))
                return false;
        *n = m - 1;
        return true;
}

static int parse_check_bool(const char *v, bool *ret)
{
        static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
        static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
        for (size_t k = 0; k < ELEMENTSOF(yes); k++) {
                if (streq(v, yes[k]) || streq(v, no[k])) {
                        *ret = streq(v, yes[k]);
                        return 0;
                }
        }
        return -EINVAL;
}

static char *trimmed(const char *s, size_t n)
{
        df_trim_uspace(&s, &n);
        return xstrndup(s, n);
}

/* One "key=value" of "# check=skip=A,B;error=true" (BuildKit's ParseLintOptions). */
static int check_option(struct parser *p, const char *opt, size_t n, unsigned line)
{
        const char *eq = memchr(opt, '=', n);
        _cleanup_free_ char *raw = xstrndup(opt, n);
        if (!eq)
                return df_parser_error(p, line, 1, ST_E_PARSE, "invalid check option \"%s\"", raw);
        _cleanup_free_ char *k = trimmed(opt, (size_t)(eq - opt));
        _cleanup_free_ char *v = trimmed(eq + 1, n - (size_t)(eq + 1 - opt));
        if (streq(k, "skip") && streq(v, "all"))
                p->check_skip_all = true;
        else if (streq(k, "skip")) {
                for (const char *s = v, *c; s; s = c ? c + 1 : NULL) {
                        c = strchr(s, ',');
                        strv_consume(&p->check_skip, trimmed(s, c ? (size_t)(c - s) : strlen(s)));
                }
        } else if (streq(k, "error")) {
                if (parse_check_bool(v, &p->df->check_error) < 0)
                        return df_parser_error(p, line, 1, ST_E_PARSE,
                                               "failed to parse check option \"%s\"", raw);
        } else if (!streq(k, "experimental"))
                return df_parser_error(p, line, 1, ST_E_PARSE, "invalid check option \"%s\"", k);
        return 0;
}

/* "# check=...": which warnings to leave out, and whether they fail the build. */
static int check_directive(struct parser *p)
{
        const struct dockerfile_directive *d = p->directives.p;
        size_t k = 0;
        while (k < p->directives.n && !streq(d[k].name, "check"))
                k++;
        if (k == p->directives.n)
                return 0;
        unsigned line = d[k].line;
        const char *v = d[k].value;
        const char *s = v;
        size_t n = strlen(v);
        df_trim_uspace(&s, &n);
        for (int part = 0; n > 0; part++) {
                const char *semi = part < 2 ? memchr(s, ';', n) : NULL;
                size_t len = semi ? (size_t)(semi - s) : n;
                int r = check_option(p, s, len, line);
                if (r < 0)
                        return r;
                if (!semi)
                        break;
                s = semi + 1;
                n -= len + 1;
        }
        return 0;
}

static int add_directive(struct parser *p, const char *name, const char *v, size_t vn)
{
        struct dockerfile_directive *d = p->directives.p;
        for (size_t k = 0; k < p->directives.n; k++)
                if (streq(d[k].name, name))
                        return df_parser_error(p, p->line, 1, ST_E_PARSE,
                                               "only one %s parser directive can be used", name);
        d = df_vec_push(&p->directives, sizeof(*d));
        d->name = df_arena_strndup(p->arena, name, strlen(name));
        d->value = df_arena_strndup(p->arena, v, vn);
        d->line = p->line;
        if (streq(name, "escape")) {
                if (!streq(d->value, "`") && !streq(d->value, "\\"))
                        return df_parser_error(p, p->line, 1, ST_E_PARSE,
                                               "invalid escape token '%s' does not match ` or \\",
                                               d->value);
                p->escape = d->value[0];
        }
        return 0;
}

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
        return is_alpha(c) || (c >= '0' && c <= '9');
}

/* A line while directives are possible: "# name = value" with a known name is one; anything
 * else ends the directives for good (BuildKit's DirectiveParser, regexp
 * ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ after the '#'). */
static int directive_line(struct parser *p, const char *s, size_t n)
{
        static const char *const known[] = { "syntax", "escape", "check" };
        char name[16];
        size_t k = 0, i, v, end;
        if (p->directives_done)
                return 0;
        p->directives_done = true;
        if (n == 0 || s[0] != '#')
                return 0;
        s++, n--;
        trim_left(&s, &n);
        if (n > 0 && is_alpha(s[0]))
                while (k < n && is_alnum(s[k]))
                        k++;
        for (i = k; i < n && is_re_space(s[i]);)
                i++;
        if (k == 0 || k >= sizeof(name) || i >= n || s[i] != '=')
                return 0;
        for (v = ++i; v < n && is_re_space(s[v]);)
                v++;
        for (end = n; end > v && is_re_space(s[end - 1]);)
                end--;
        if (end == v) {
                if (v == i)
                        return 0; /* (.+?) needs a character */
                v--;              /* only blanks: the lazy group takes the last one */
        }
        for (size_t j = 0; j < k; j++)
                name[j] = (char)(s[j] | 0x20);
        name[k] = 0;
        for (size_t j = 0; j < ELEMENTSOF(known); j++) {
                if (streq(name, known[j])) {
                        p->directives_done = false;
                        return add_directive(p, known[j], s + v, end - v);
                }
        }
        return 0;
}

static void add_piece(struct parser *p, const char *src, size_t n, const char *line_start)
{
        struct segment *sg = df_vec_push(&p->segments, sizeof(*sg));
        sg->off = p->text.len;
        sg->src = src;
        sg->line_start = line_start;
        sg->line = p->line;
        df_sbuf_put(&p->text, src, n);
}

/* Lines after one ending in the escape character: comment lines are dropped, blank ones
 * dropped with a warning, until a line without a continuation (or the end of the file). */
static int continuation_lines(struct parser *p, bool *empty_continuation)
{
        const char *s;
        size_t n;
        bool nl;
        int r;
        while ((r = next_line(p, &s, &n, &nl)) > 0) {
                const char *line_start = s, *t = s;
                size_t tn;
                trim_newline(s, &n);
                if (is_comment(s, n))
                        continue;
                tn = n;
                trim_left(&t, &tn);
                if (tn == 0) {
                        *empty_continuation = true;
                        continue;
                }
                bool more = trim_continuation(p, s, &n);
                add_piece(p, s, n, line_start);
                if (!more)
                        return 0;
        }
        return r;
}

/* The body of heredoc H: lines up to one that is exactly its name (after leading tabs for
 * "<<-"), kept as written, newlines included. */
static int heredoc_body(struct parser *p, const struct heredoc_word *hw,
                        struct dockerfile_heredoc *h)
{
        struct sbuf content = { 0 };
        size_t name_len = strlen(hw->name);
        const char *s;
        size_t n;
        bool nl, done = false;
        int r = 0;
        while (!done && (r = next_line(p, &s, &n, &nl)) > 0) {
                const char *c = s;
                size_t cn = n;
                trim_newline(c, &cn);
                while (hw->chomp && cn > 0 && *c == '\t')
                        c++, cn--;
                done = cn == name_len && memcmp(c, hw->name, cn) == 0;
                if (!done)
                        df_sbuf_put(&content, s, n + nl);
        }
        if (!done && r >= 0)
                r = df_parser_error_at(p, hw->off, "unterminated heredoc '%s'", hw->name);
        if (r >= 0)
                h->content = df_arena_strndup(p->arena, content.s, content.len);
        df_sbuf_release(&content);
        return r < 0 ? r : 0;
}

static int read_heredocs(struct parser *p, struct dockerfile_instruction *i)
{
        struct heredoc_word *hw = NULL;
        size_t nh = 0;
        _cleanup_free_ char *msg = NULL;
        int r = df_heredocs_from_line(p->text.s, p->text.len, &hw, &nh, &msg);
        if (r < 0)
                return df_parser_error_at(p, 0, "%s", msg);
        if (nh > DOCKERFILE_HEREDOCS_MAX - p->n_heredocs)
                r = df_parser_error(p, i->line, i->column, ST_E_TOO_BIG, "more than %u heredocs",
                                    DOCKERFILE_HEREDOCS_MAX);
        p->n_heredocs += nh;
        if (i->kind == DOCKERFILE_ONBUILD)
                i = i->trigger; /* BuildKit keeps them on ONBUILD; they belong to its trigger */
        if (r >= 0 && nh > 0) {
                i->heredocs = df_arena_alloc(p->arena, nh * sizeof(struct dockerfile_heredoc));
                i->n_heredocs = nh;
        }
        for (size_t k = 0; k < nh && r >= 0; k++) {
                struct dockerfile_heredoc *h = &i->heredocs[k];
                h->name = df_arena_strndup(p->arena, hw[k].name, strlen(hw[k].name));
                h->fd = hw[k].fd;
                h->chomp = hw[k].chomp;
                h->expand = hw[k].expand;
                r = heredoc_body(p, &hw[k], h);
        }
        df_heredoc_words_free(hw, nh);
        return r;
}

/* The joined text of one instruction into the tree, with its heredocs. */
static int instruction(struct parser *p, bool empty_continuation)
{
        struct dockerfile_instruction *i =
                df_vec_push(&p->instructions, sizeof(struct dockerfile_instruction));
        int r = df_instruction_parse(p, 0, p->text.len, 0, i);
        if (r < 0)
                return r;
        if (empty_continuation)
                df_parser_warn(p, "NoEmptyContinuation", p->line, "Empty continuation line");
        if (df_instruction_takes_heredocs(i) && memmem(p->text.s, p->text.len, "<<", 2))
                r = read_heredocs(p, i);
        i->end_line = p->line;
        return r;
}

static int parse_lines(struct parser *p)
{
        const char *s;
        size_t n;
        bool nl;
        int r;
        while ((r = next_line(p, &s, &n, &nl)) > 0) {
                const char *line_start = s;
                trim_newline(s, &n);
                trim_left(&s, &n);
                if ((r = directive_line(p, s, n)) < 0)
                        return r;
                if (n > 0 && s[0] == '#')
                        n = 0;
                p->text.len = 0;
                p->segments.n = 0;
                p->start_line = p->line;
                bool more = trim_continuation(p, s, &n), empty_continuation = false;
                if (!more && n == 0)
                        continue;
                add_piece(p, s, n, line_start);
                if (more && (r = continuation_lines(p, &empty_continuation)) < 0)
                        return r;
                if ((r = instruction(p, empty_continuation)) < 0)
                        return r;
        }
        if (r >= 0 && p->instructions.n == 0)
                return df_parser_error(p, p->line ? p->line : 1, 1, ST_E_PARSE,
                                       "file with no instructions");
        return r;
}

static int nul_byte(struct parser *p, const char *nul)
{
        unsigned line = 1;
        const char *ls = p->buf;
        for (const char *c = p->buf; c < nul; c++)
                if (*c == '\n') {
                        line++;
                        ls = c + 1;
                }
        return df_parser_error(p, line, (unsigned)df_utf8_count(ls, (size_t)(nul - ls)) + 1,
                               ST_E_PARSE, "NUL byte in Dockerfile");
}

static bool skipped(const struct parser *p, const char *rule)
{
        return p->check_skip_all || strv_contains(p->check_skip, rule);
}

struct ordered {
        unsigned line;
        size_t seq;
};

static int cmp_ordered(const void *a, const void *b)
{
        const struct ordered *x = a, *y = b;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The warnings that "# check=skip=" leaves, in line order (file order within a line). */
static void keep_warnings(struct parser *p)
{
        struct dockerfile_warning *w = p->warnings.p;
        size_t kept = 0;
        for (size_t k = 0; k < p->warnings.n; k++)
                if (!skipped(p, w[k].rule))
                        w[kept++] = w[k];
        p->warnings.n = kept;
        if (kept < 2)
                return;
        _cleanup_free_ struct ordered *o = xcalloc(kept, sizeof(*o));
        _cleanup_free_ struct dockerfile_warning *copy = xcalloc(kept, sizeof(*copy));
        memcpy(copy, w, kept * sizeof(*w));
        for (size_t k = 0; k < kept; k++)
                o[k] = (struct ordered){ w[k].line, k };
        qsort(o, kept, sizeof(*o), cmp_ordered);
        for (size_t k = 0; k < kept; k++)
                w[k] = copy[o[k].seq];
}

static void fill(struct parser *p, struct dockerfile *df)
{
        df->escape = p->escape;
        df->n_directives = p->directives.n;
        df->directives = df_vec_to_arena(&p->directives, sizeof(*df->directives), p->arena);
        df->n_instructions = p->instructions.n;
        df->instructions = TAKE_PTR(p->instructions.p); /* freed by dockerfile_free */
        df->n_warnings = p->warnings.n;
        df->warnings = df_vec_to_arena(&p->warnings, sizeof(*df->warnings), p->arena);
}

static void parser_release(struct parser *p)
{
        df_sbuf_release(&p->text);
        free(p->segments.p);
        free(p->instructions.p);
        free(p->directives.p);
        free(p->warnings.p);
        strv_free(p->check_skip);
}

int df_parse(const char *filename, const char *buf, size_t len, bool full, struct dockerfile **ret,
             struct st_error **err)
{
        _cleanup_dockerfile_ struct dockerfile *df = xcalloc(1, sizeof(*df));
        df->arena = df_arena_new();
        filename = filename ? filename : "Dockerfile";
        df->filename = df_arena_strndup(df->arena, filename, strlen(filename));
        struct parser p = { .filename = df->filename,
                            .buf = buf,
                            .end = buf + len,
                            .next = buf,
                            .escape = '\\',
                            .df = df,
                            .arena = df->arena,
                            .err = err };
        const char *nul = len ? memchr(buf, 0, len) : NULL;
        int r = 0;
        if (len > DOCKERFILE_SIZE_MAX)
                r = st_error_set(err, ST_E_TOO_BIG, "%s: Dockerfile is larger than %u bytes",
                                 filename, DOCKERFILE_SIZE_MAX);
        else if (nul)
                r = nul_byte(&p, nul);
        if (r >= 0)
                r = parse_lines(&p);
        if (r >= 0 && full)
                r = check_directive(&p);
        if (r >= 0 && full)
                r = df_check(&p);
        if (r >= 0) {
                if (full)
                        df_lint(&p);
                keep_warnings(&p);
                fill(&p, df);
                *ret = TAKE_PTR(df);
        }
        parser_release(&p);
        return r < 0 ? r : 0;
}

int dockerfile_parse(const char *filename, const char *buf, size_t len, struct dockerfile **ret,
                     struct st_error **err)
{
        return df_parse(filename, buf, len, true, ret, err);
}
