#include "json/template.h"

#include <errno.h>
#include <stdlib.h>

#include "basic/banned.h"
#include "basic/util.h"
#include "json/template-internal.h"

enum tok_kind {
        T_END, /* }} or " -}}" */
        T_EOF,
        T_FIELD,
        T_DOT,
        T_VAR,
        T_IDENT,
        T_STRING,
        T_RAW,
        T_CHAR,
        T_NUMBER,
        T_PIPE,
        T_LPAREN,
        T_RPAREN,
        T_DECLARE,
        T_ASSIGN,
        T_COMMA,
};

struct token {
        enum tok_kind kind;
        size_t pos, len;
        bool space; /* whitespace before it */
        bool trim;  /* T_END was " -}}" */
};

enum stop {
        STOP_EOF,
        STOP_END,
        STOP_ELSE,
};

struct parser {
        const char *s;
        size_t pos;
        char **vars; /* variables in scope, innermost last */
        size_t n_vars;
        unsigned depth;
        bool trim_next; /* the last action ended with " -}}" */
        struct st_error **err;
};

static const char *const keywords[] = { "if",     "else",     "end",   "range", "with",
                                        "define", "template", "block", "break", "continue",
                                        "true",   "false",    "nil" };

void tmpl_position(const char *text, size_t pos, unsigned *ret_line, unsigned *ret_col)
{
        unsigned line = 1;
        size_t start = 0;

        for (size_t i = 0; i < pos && text[i]; i++)
                if (text[i] == '\n') {
                        line++;
                        start = i + 1;
                }
        *ret_line = line;
        *ret_col = (unsigned)(pos - start + 1);
}

static int perr_code(struct parser *p, int code, size_t pos, const char *fmt, ...) _printf_(4, 5);

static int perr_code(struct parser *p, int code, size_t pos, const char *fmt, ...)
{
        unsigned line, col;
        va_list ap;

        va_start(ap, fmt);
        _cleanup_free_ char *m = xvasprintf(fmt, ap);
        va_end(ap);
        tmpl_position(p->s, pos, &line, &col);
        return st_error_set(p->err, code, "template: %u:%u: %s", line, col, m);
}

#define perr(p, pos, ...) perr_code(p, ST_E_PARSE, pos, __VA_ARGS__)

static struct node *node_new(enum node_kind kind, size_t pos)
{
        struct node *n = xcalloc(1, sizeof(*n));
        n->kind = kind;
        n->pos = pos;
        return n;
}

static struct node *node_free(struct node *n)
{
        if (!n)
                return NULL;
        for (size_t i = 0; i < n->n_kids; i++)
                node_free(n->kids[i]);
        free(n->kids);
        free(n->text);
        strv_free(n->fields);
        json_decref(n->value);
        node_free(n->pipe);
        node_free(n->list);
        node_free(n->else_list);
        free(n->decl[0]);
        free(n->decl[1]);
        free(n);
        return NULL;
}

static void node_freep(struct node **n)
{
        node_free(*n);
}

#define _cleanup_node_ _cleanup_(node_freep)

static void node_push(struct node *parent, struct node *kid)
{
        parent->kids = xrealloc(parent->kids, (parent->n_kids + 1) * sizeof(struct node *));
        parent->kids[parent->n_kids++] = kid;
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (unsigned char)c >= 0x80;
}

static bool is_ident_char(char c)
{
        return is_ident_start(c) || is_digit(c);
}

static bool tok_is(const struct parser *p, const struct token *t, const char *word)
{
        return t->kind == T_IDENT && t->len == strlen(word) &&
               memcmp(p->s + t->pos, word, t->len) == 0;
}

/* End of a quoted literal starting at I (the quote); 0 if unterminated. */
static size_t quoted_end(const char *s, size_t i, bool multiline)
{
        char q = s[i++];

        for (; s[i] && s[i] != q; i++) {
                if (q != '`' && s[i] == '\\' && s[i + 1])
                        i++;
                if (!multiline && s[i] == '\n')
                        return 0;
        }
        return s[i] == q ? i + 1 : 0;
}

static size_t number_end(const char *s, size_t i)
{
        if (s[i] == '+' || s[i] == '-')
                i++;
        for (; s[i]; i++) {
                char c = s[i], prev = s[i - 1];
                bool exp_sign = (c == '+' || c == '-') &&
                                (prev == 'e' || prev == 'E' || prev == 'p' || prev == 'P');
                if (!is_ident_char(c) && c != '.' && !exp_sign)
                        break;
        }
        return i;
}

static size_t lex_other(const char *s, size_t i, enum tok_kind *kind)
{
        char c = s[i];

        if (c == '"' || c == '`' || c == '\'') {
                *kind = c == '"' ? T_STRING : c == '`' ? T_RAW : T_CHAR;
                return quoted_end(s, i, c == '`');
        }
        if (is_digit(c) || ((c == '+' || c == '-' || c == '.') &&
                            (is_digit(s[i + 1]) || (c != '.' && s[i + 1] == '.')))) {
                *kind = T_NUMBER;
                return number_end(s, i);
        }
        if (is_ident_start(c)) {
                *kind = T_IDENT;
                while (is_ident_char(s[i]))
                        i++;
                return i;
        }
        return 0;
}

static size_t lex_punct(const char *s, size_t i, bool space, struct token *t)
{
        static const struct {
                const char *text;
                enum tok_kind kind;
        } table[] = {
                { "}}", T_END },  { "|", T_PIPE },     { "(", T_LPAREN }, { ")", T_RPAREN },
                { ",", T_COMMA }, { ":=", T_DECLARE }, { "=", T_ASSIGN },
        };

        if (space && startswith(s + i, "-}}")) {
                t->kind = T_END;
                t->trim = true;
                return i + 3;
        }
        for (size_t k = 0; k < ELEMENTSOF(table); k++)
                if (startswith(s + i, table[k].text)) {
                        t->kind = table[k].kind;
                        return i + strlen(table[k].text);
                }
        return 0;
}

static int lex(struct parser *p, struct token *t)
{
        const char *s = p->s;
        size_t i = p->pos, end;

        *t = (struct token){ .kind = T_EOF };
        for (; is_space(s[i]); i++)
                t->space = true;
        t->pos = i;
        if (s[i] == '\0')
                end = i;
        else if ((end = lex_punct(s, i, t->space, t)) > 0)
                ;
        else if (s[i] == '.' && is_ident_start(s[i + 1])) {
                t->kind = T_FIELD;
                for (end = i + 1; is_ident_char(s[end]); end++)
                        ;
        } else if (s[i] == '.' && !is_digit(s[i + 1])) {
                t->kind = T_DOT;
                end = i + 1;
        } else if (s[i] == '$') {
                t->kind = T_VAR;
                for (end = i + 1; is_ident_char(s[end]); end++)
                        ;
        } else if ((end = lex_other(s, i, &t->kind)) == 0)
                return s[i] == '"' || s[i] == '`' || s[i] == '\''
                               ? perr(p, i, "unterminated quoted string")
                               : perr(p, i, "unrecognized character in action: '%c'", s[i]);
        t->len = end - i;
        p->pos = end;
        return 0;
}

static int hex_value(char c)
{
        if (is_digit(c))
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Parse N digits in BASE at S into *ret; false if one is not a digit. */
static bool parse_digits(const char *s, int n, int base, uint32_t *ret)
{
        uint32_t v = 0;

        for (int k = 0; k < n; k++) {
                int d = hex_value(s[k]);
                if (d < 0 || d >= base)
                        return false;
                v = v * (uint32_t)base + (uint32_t)d;
        }
        *ret = v;
        return true;
}

/* One escape after the backslash at S; appends to OUT, returns bytes consumed or 0. */
static size_t unescape_one(const char *s, char quote, char *out, size_t *ret_n)
{
        static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\";
        uint32_t c;

        for (size_t k = 0; simple[k]; k += 2)
                if (s[0] == simple[k]) {
                        out[0] = simple[k + 1];
                        *ret_n = 1;
                        return 1;
                }
        if (s[0] == quote) {
                out[0] = quote;
                *ret_n = 1;
                return 1;
        }
        if (is_digit(s[0]) && parse_digits(s, 3, 8, &c) && c <= 255) {
                out[0] = (char)c;
                *ret_n = 1;
                return 3;
        }
        if (s[0] == 'x' && parse_digits(s + 1, 2, 16, &c)) {
                out[0] = (char)c;
                *ret_n = 1;
                return 3;
        }
        int len = s[0] == 'u' ? 4 : s[0] == 'U' ? 8 : 0;
        if (len == 0 || !parse_digits(s + 1, len, 16, &c) || c > 0x10ffff ||
            (c >= 0xd800 && c < 0xe000))
                return 0;
        *ret_n = tmpl_utf8_encode(c, out);
        return (size_t)len + 1;
}

/* The value of a "..." or '...' literal at T; *ret is NUL-terminated, *ret_len its length. */
static int unquote(struct parser *p, const struct token *t, char **ret, size_t *ret_len)
{
        const char *s = p->s + t->pos;
        char quote = s[0];
        _cleanup_free_ char *out = xmalloc(t->len);
        size_t n = 0;

        for (size_t i = 1; i < t->len - 1;) {
                if (s[i] != '\\') {
                        out[n++] = s[i++];
                        continue;
                }
                size_t used, produced;
                used = unescape_one(s + i + 1, quote, out + n, &produced);
                if (used == 0)
                        return perr(p, t->pos + i, "invalid escape in quoted string");
                i += used + 1;
                n += produced;
        }
        out[n] = '\0';
        *ret_len = n;
        *ret = TAKE_PTR(out);
        return 0;
}

static int parse_char(struct parser *p, const struct token *t, json_t **ret)
{
        _cleanup_free_ char *s = NULL;
        size_t n;
        uint32_t c = 0;
        int r = unquote(p, t, &s, &n);

        if (r < 0)
                return r;
        if (n == 0 || utf8_decode((const unsigned char *)s, n, &c) != n) {
                if (n == 1)
                        c = (unsigned char)s[0];
                else
                        return perr(p, t->pos, "malformed character constant: %.*s", (int)t->len,
                                    p->s + t->pos);
        }
        *ret = json_integer(c);
        return 0;
}

static int parse_number(struct parser *p, const struct token *t, json_t **ret)
{
        _cleanup_free_ char *s = xstrndup(p->s + t->pos, t->len);
        bool hex = strstr(s, "0x") || strstr(s, "0X");
        char *end = NULL;

        errno = 0;
        if (!strchr(s, '_') && !hex && strpbrk(s, ".eE")) {
                double d = strtod(s, &end);
                if (*end == '\0' && errno == 0) {
                        *ret = json_real(d);
                        return 0;
                }
        } else if (!strchr(s, '_')) {
                long long v = strtoll(s, &end, 0);
                if (*end == '\0' && errno == 0) {
                        *ret = json_integer(v);
                        return 0;
                }
        }
        return perr(p, t->pos, "bad number syntax: \"%s\"", s);
}

static bool var_known(const struct parser *p, const char *name, size_t len)
{
        for (size_t i = p->n_vars; i > 0; i--)
                if (strlen(p->vars[i - 1]) == len && memcmp(p->vars[i - 1], name, len) == 0)
                        return true;
        return false;
}

static void vars_push(struct parser *p, const char *name)
{
        p->vars = xrealloc(p->vars, (p->n_vars + 2) * sizeof(char *));
        p->vars[p->n_vars++] = xstrdup(name);
        p->vars[p->n_vars] = NULL;
}

static void vars_pop(struct parser *p, size_t mark)
{
        while (p->n_vars > mark) {
                free(p->vars[--p->n_vars]);
                p->vars[p->n_vars] = NULL;
        }
}

static int parse_pipeline(struct parser *p, size_t max_decl, enum tok_kind end, const char *what,
                          struct node **ret);

static int parse_ident(struct parser *p, const struct token *t, struct node **ret)
{
        const char *name = p->s + t->pos;
        const struct tmpl_func *f;

        if (tok_is(p, t, "true") || tok_is(p, t, "false")) {
                *ret = node_new(NODE_CONST, t->pos);
                (*ret)->value = json_boolean(tok_is(p, t, "true"));
                return 0;
        }
        if (tok_is(p, t, "nil")) {
                *ret = node_new(NODE_NIL, t->pos);
                return 0;
        }
        for (size_t k = 0; k < ELEMENTSOF(keywords); k++)
                if (tok_is(p, t, keywords[k]))
                        return perr(p, t->pos, "unexpected <%s> in command", keywords[k]);
        f = tmpl_func_lookup(name, t->len);
        if (!f)
                return perr(p, t->pos, "function \"%.*s\" not defined", (int)t->len, name);
        *ret = node_new(NODE_FUNC, t->pos);
        (*ret)->func = f;
        (*ret)->text = xstrndup(name, t->len);
        return 0;
}

static int parse_string(struct parser *p, const struct token *t, struct node **ret)
{
        _cleanup_free_ char *s = NULL;
        size_t n = t->len - 2;
        int r = 0;

        if (t->kind == T_RAW)
                s = xstrndup(p->s + t->pos + 1, n);
        else
                r = unquote(p, t, &s, &n);
        if (r < 0)
                return r;
        *ret = node_new(NODE_CONST, t->pos);
        (*ret)->value = json_stringn_nocheck(s, n);
        return 0;
}

static int parse_term(struct parser *p, const struct token *t, struct node **ret)
{
        _cleanup_node_ struct node *n = NULL;
        int r = 0;

        switch (t->kind) {
        case T_FIELD:
                n = node_new(NODE_FIELD, t->pos);
                strv_consume(&n->fields, xstrndup(p->s + t->pos + 1, t->len - 1));
                break;
        case T_VAR:
                if (!var_known(p, p->s + t->pos, t->len))
                        return perr(p, t->pos, "undefined variable \"%.*s\"", (int)t->len,
                                    p->s + t->pos);
                n = node_new(NODE_VAR, t->pos);
                n->text = xstrndup(p->s + t->pos, t->len);
                break;
        case T_DOT:
                n = node_new(NODE_DOT, t->pos);
                break;
        case T_IDENT:
                r = parse_ident(p, t, &n);
                break;
        case T_STRING:
        case T_RAW:
                r = parse_string(p, t, &n);
                break;
        case T_CHAR:
        case T_NUMBER:
                n = node_new(NODE_CONST, t->pos);
                r = t->kind == T_CHAR ? parse_char(p, t, &n->value) : parse_number(p, t, &n->value);
                break;
        case T_LPAREN:
                if (++p->depth > TEMPLATE_MAX_DEPTH)
                        return perr_code(p, ST_E_TOO_BIG, t->pos, "nesting too deep");
                n = node_new(NODE_CHAIN, t->pos);
                r = parse_pipeline(p, 1, T_RPAREN, "parenthesized pipeline", &n->pipe);
                p->depth--;
                break;
        default:
                return perr(p, t->pos, "unexpected \"%.*s\" in operand", (int)t->len,
                            p->s + t->pos);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(n);
        return 0;
}

/* A term followed by .Field.Chain written without spaces. */
static int parse_operand(struct parser *p, struct node **ret)
{
        _cleanup_node_ struct node *n = NULL;
        struct token t;
        int r = lex(p, &t);

        if (r >= 0)
                r = parse_term(p, &t, &n);
        while (r >= 0) {
                size_t save = p->pos;
                r = lex(p, &t);
                if (r < 0 || t.kind != T_FIELD || t.space) {
                        p->pos = save;
                        break;
                }
                if (n->kind != NODE_FIELD && n->kind != NODE_VAR && n->kind != NODE_CHAIN)
                        return perr(p, t.pos, "unexpected . after term");
                strv_consume(&n->fields, xstrndup(p->s + t.pos + 1, t.len - 1));
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(n);
        return 0;
}

static int bad_end(struct parser *p, const struct token *t, enum tok_kind end)
{
        if (t->kind == T_EOF)
                return perr(p, t->pos, end == T_END ? "unclosed action" : "unclosed left paren");
        if (t->kind == T_END)
                return perr(p, t->pos, "unclosed left paren");
        if (t->kind == T_RPAREN)
                return perr(p, t->pos, "unexpected right paren");
        return perr(p, t->pos, "unexpected \"%.*s\" in operand", (int)t->len, p->s + t->pos);
}

/* Operands up to '|' or END; *ret_term says which ended it; *ret is NULL if there were none. */
static int parse_command(struct parser *p, enum tok_kind end, struct node **ret,
                         enum tok_kind *ret_term)
{
        _cleanup_node_ struct node *cmd = node_new(NODE_CMD, p->pos);
        size_t start = 0, stop = 0;
        struct token t;

        for (;;) {
                size_t save = p->pos;
                int r = lex(p, &t);
                if (r < 0)
                        return r;
                if (t.kind == T_PIPE || t.kind == end)
                        break;
                if (t.kind == T_EOF || t.kind == T_END || t.kind == T_RPAREN ||
                    (cmd->n_kids > 0 && !t.space))
                        return bad_end(p, &t, end);
                if (cmd->n_kids == 0)
                        start = cmd->pos = t.pos;
                p->pos = save;
                struct node *op = NULL;
                r = parse_operand(p, &op);
                if (r < 0)
                        return r;
                node_push(cmd, op);
                stop = p->pos;
        }
        *ret_term = t.kind;
        if (cmd->n_kids == 0) {
                *ret = NULL;
                return 0;
        }
        if (t.kind == T_END)
                p->trim_next = t.trim;
        cmd->text = xstrndup(p->s + start, stop - start);
        *ret = TAKE_PTR(cmd);
        return 0;
}

static int parse_decl_var(struct parser *p, struct node *pipe, const struct token *t)
{
        if (pipe->assign && !var_known(p, p->s + t->pos, t->len))
                return perr(p, t->pos, "undefined variable \"%.*s\"", (int)t->len, p->s + t->pos);
        pipe->decl[pipe->n_decl++] = xstrndup(p->s + t->pos, t->len);
        return 0;
}

/* "$x :=", "$x =", and for range "$k, $v :="; leaves the position alone if there is none. */
static int parse_decl(struct parser *p, struct node *pipe, size_t max_decl, const char *what)
{
        size_t save = p->pos;
        struct token a, b, c, d;
        int r;

        if ((r = lex(p, &a)) < 0 || a.kind != T_VAR || (r = lex(p, &b)) < 0) {
                p->pos = save;
                return MIN(r, 0);
        }
        if (b.kind == T_COMMA) {
                if ((r = lex(p, &c)) < 0 || (r = lex(p, &d)) < 0)
                        return r;
                if (max_decl < 2 || d.kind == T_COMMA)
                        return perr(p, a.pos, "too many declarations in %s", what);
                if (c.kind != T_VAR || (d.kind != T_DECLARE && d.kind != T_ASSIGN))
                        return perr(p, c.pos, "range can only initialize variables");
                pipe->assign = d.kind == T_ASSIGN;
                r = parse_decl_var(p, pipe, &a);
                return r < 0 ? r : parse_decl_var(p, pipe, &c);
        }
        if (b.kind == T_DECLARE || b.kind == T_ASSIGN) {
                pipe->assign = b.kind == T_ASSIGN;
                return parse_decl_var(p, pipe, &a);
        }
        p->pos = save;
        return 0;
}

static int check_pipeline(struct parser *p, const struct node *pipe)
{
        const struct node *first = pipe->kids[0]->kids[0];

        if (first->kind == NODE_NIL)
                return perr(p, first->pos, "nil is not a command");
        for (size_t i = 1; i < pipe->n_kids; i++) {
                enum node_kind k = pipe->kids[i]->kids[0]->kind;
                if (k == NODE_CONST || k == NODE_DOT || k == NODE_NIL)
                        return perr(p, pipe->kids[i]->pos,
                                    "non executable command in pipeline stage %zu", i + 1);
        }
        return 0;
}

static int parse_pipeline(struct parser *p, size_t max_decl, enum tok_kind end, const char *what,
                          struct node **ret)
{
        _cleanup_node_ struct node *pipe = node_new(NODE_PIPE, p->pos);
        enum tok_kind term = T_PIPE;
        int r = parse_decl(p, pipe, max_decl, what);

        while (r >= 0 && term == T_PIPE) {
                struct node *cmd = NULL;
                size_t at = p->pos;
                r = parse_command(p, end, &cmd, &term);
                if (r >= 0 && !cmd)
                        return perr(p, at, "missing value for %s",
                                    pipe->n_kids == 0 ? what : "command");
                if (r >= 0)
                        node_push(pipe, cmd);
        }
        if (r >= 0)
                r = check_pipeline(p, pipe);
        if (r < 0)
                return r;
        for (size_t i = 0; i < pipe->n_decl && !pipe->assign; i++)
                vars_push(p, pipe->decl[i]);
        *ret = TAKE_PTR(pipe);
        return 0;
}

static int parse_list(struct parser *p, struct node **ret, enum stop *ret_stop, size_t *ret_pos);

static int expect_end(struct parser *p, const char *what)
{
        struct token t;
        int r = lex(p, &t);

        if (r < 0)
                return r;
        if (t.kind != T_END)
                return perr(p, t.pos, "unexpected \"%.*s\" in %s", (int)t.len, p->s + t.pos, what);
        p->trim_next = t.trim;
        return 0;
}

static const char *control_word(enum node_kind kind)
{
        return kind == NODE_IF ? "if" : kind == NODE_WITH ? "with" : "range";
}

/* After {{else}}: "else if"/"else with" chains nest a block sharing the final {{end}}. */
static int parse_else(struct parser *p, struct node *n);

/* {{if|with|range PIPELINE}} LIST [{{else}} LIST] {{end}}, the keyword already read. */
static int parse_control(struct parser *p, enum node_kind kind, size_t pos, struct node **ret)
{
        _cleanup_node_ struct node *n = node_new(kind, pos);
        size_t mark = p->n_vars, stop_pos;
        enum stop stop;
        int r;

        if (++p->depth > TEMPLATE_MAX_DEPTH)
                return perr_code(p, ST_E_TOO_BIG, pos, "nesting too deep");
        r = parse_pipeline(p, kind == NODE_RANGE ? 2 : 1, T_END, control_word(kind), &n->pipe);
        if (r >= 0)
                r = parse_list(p, &n->list, &stop, &stop_pos);
        if (r >= 0 && stop == STOP_EOF)
                r = perr(p, stop_pos, "unexpected EOF");
        if (r >= 0 && stop == STOP_ELSE)
                r = parse_else(p, n);
        vars_pop(p, mark);
        p->depth--;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(n);
        return 0;
}

static int parse_else(struct parser *p, struct node *n)
{
        size_t save = p->pos, stop_pos;
        struct token t;
        enum stop stop;
        int r = lex(p, &t);

        if (r < 0)
                return r;
        if (n->kind != NODE_RANGE && tok_is(p, &t, control_word(n->kind))) {
                struct node *nested = NULL;
                n->else_list = node_new(NODE_LIST, t.pos);
                r = parse_control(p, n->kind, t.pos, &nested);
                if (r >= 0)
                        node_push(n->else_list, nested);
                return r;
        }
        p->pos = save;
        r = expect_end(p, "else");
        if (r >= 0)
                r = parse_list(p, &n->else_list, &stop, &stop_pos);
        if (r >= 0 && stop != STOP_END)
                r = perr(p, stop_pos, "expected end; found %s",
                         stop == STOP_EOF ? "EOF" : "{{else}}");
        return r;
}

/* A comment action, the position at its opening slash-star. */
static int parse_comment(struct parser *p)
{
        const char *s = p->s + p->pos;
        const char *end = strstr(s + 2, "*/");

        if (!end)
                return perr(p, p->pos, "unclosed comment");
        end += 2;
        if (startswith(end, "}}"))
                p->trim_next = false;
        else if (startswith(end, " -}}"))
                p->trim_next = true;
        else
                return perr(p, (size_t)(end - p->s), "comment ends before closing delimiter");
        p->pos = (size_t)(end - p->s) + (p->trim_next ? 4 : 2);
        return 0;
}

/* One action, the position after "{{" (and a trim marker); 1 if it was {{else}} or {{end}}. */
static int parse_action(struct parser *p, struct node *list, enum stop *ret_stop)
{
        static const enum node_kind controls[] = { NODE_IF, NODE_WITH, NODE_RANGE };

        size_t save = p->pos;
        struct node *n = NULL;
        struct token t;
        int r;

        if (startswith(p->s + p->pos, "/*"))
                return parse_comment(p);
        if ((r = lex(p, &t)) < 0)
                return r;
        for (size_t k = 0; k < ELEMENTSOF(controls); k++)
                if (tok_is(p, &t, control_word(controls[k]))) {
                        r = parse_control(p, controls[k], t.pos, &n);
                        goto done;
                }
        if (tok_is(p, &t, "else")) {
                *ret_stop = STOP_ELSE;
                return 1;
        }
        if (tok_is(p, &t, "end")) {
                *ret_stop = STOP_END;
                r = expect_end(p, "end");
                return r < 0 ? r : 1;
        }
        p->pos = save;
        n = node_new(NODE_ACTION, t.pos);
        r = parse_pipeline(p, 1, T_END, "command", &n->pipe);
done:
        if (r < 0)
                return node_free(n), r;
        node_push(list, n);
        return 0;
}

static void add_text(struct parser *p, struct node *list, size_t start, size_t end, bool rtrim)
{
        if (p->trim_next)
                while (start < end && is_space(p->s[start]))
                        start++;
        if (rtrim)
                while (end > start && is_space(p->s[end - 1]))
                        end--;
        if (end == start)
                return;
        struct node *n = node_new(NODE_TEXT, start);
        n->text = xstrndup(p->s + start, end - start);
        node_push(list, n);
}

/* Text and actions up to EOF, {{else}} or {{end}}; *ret_pos is where that was. */
static int parse_list(struct parser *p, struct node **ret, enum stop *ret_stop, size_t *ret_pos)
{
        _cleanup_node_ struct node *list = node_new(NODE_LIST, p->pos);
        int r = 0;

        while (r == 0) {
                const char *open = strstr(p->s + p->pos, "{{");
                size_t end = open ? (size_t)(open - p->s) : p->pos + strlen(p->s + p->pos);
                bool ltrim = open && open[2] == '-' && is_space(open[3]);

                add_text(p, list, p->pos, end, ltrim);
                p->trim_next = false;
                *ret_pos = end;
                if (!open) {
                        *ret_stop = STOP_EOF;
                        p->pos = end;
                        break;
                }
                p->pos = end + (ltrim ? 4 : 2);
                r = parse_action(p, list, ret_stop);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        return 0;
}

int template_parse(const char *text, struct template **ret, struct st_error **err)
{
        struct parser p = { .s = text, .err = err };
        _cleanup_node_ struct node *root = NULL;
        enum stop stop;
        size_t stop_pos;

        vars_push(&p, "$");
        int r = parse_list(&p, &root, &stop, &stop_pos);
        vars_pop(&p, 0);
        free(p.vars);
        if (r < 0)
                return r;
        if (stop != STOP_EOF)
                return perr(&p, stop_pos, "unexpected {{%s}}", stop == STOP_END ? "end" : "else");
        struct template *t = xmalloc(sizeof(*t));
        t->source = xstrdup(text);
        t->root = TAKE_PTR(root);
        *ret = t;
        return 0;
}

struct template *template_free(struct template *t)
{
        if (!t)
                return NULL;
        node_free(t->root);
        free(t->source);
        free(t);
        return NULL;
}

bool template_is_table(const char *format, const char **ret_rest)
{
        const char *rest = startswith(format, "table");

        if (!rest)
                return false;
        if (ret_rest)
                *ret_rest = rest + strspn(rest, " ");
        return true;
}

char *template_docker_prepare(const char *format, bool *ret_table)
{
        const char *rest = format;
        bool table = template_is_table(format, &rest);

        rest += strspn(rest, " ");
        size_t len = strlen(rest);
        char *out = xmalloc(len + 1), *o = out;
        while (len > 0 && rest[len - 1] == ' ')
                len--;
        for (size_t i = 0; i < len; i++) {
                if (rest[i] == '\\' && i + 1 < len && (rest[i + 1] == 't' || rest[i + 1] == 'n'))
                        *o++ = rest[++i] == 't' ? '\t' : '\n';
                else
                        *o++ = rest[i];
        }
        *o = '\0';
        if (ret_table)
                *ret_table = table;
        return out;
}

char *template_table_header(const char *format_rest, template_header_fn fn)
{
        _cleanup_template_ struct template *t = NULL;
        _cleanup_json_ json_t *dot = json_object();
        char *out = NULL;

        if (template_parse(format_rest, &t, NULL) < 0)
                return NULL;
        (void)tmpl_execute(t, dot, fn, &out, NULL);
        return out;
}
