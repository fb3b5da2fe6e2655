/* One instruction's text into a struct dockerfile_instruction, as BuildKit's parser package
 * does it (splitCommand, extractBuilderFlags and the per-instruction line parsers): the
 * keyword, the flags, then the arguments in the form the instruction takes. Checks that need
 * only the parsed instruction (argument counts, flag names) are in check.c. */
#include <strings.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"

#define ONBUILD_NEST_MAX 2 /* ONBUILD ONBUILD is an error; deeper nesting is not parsed */

static const char *const kind_names[_DOCKERFILE_KIND_MAX] = {
        [DOCKERFILE_ADD] = "ADD",
        [DOCKERFILE_ARG] = "ARG",
        [DOCKERFILE_CMD] = "CMD",
        [DOCKERFILE_COPY] = "COPY",
        [DOCKERFILE_ENTRYPOINT] = "ENTRYPOINT",
        [DOCKERFILE_ENV] = "ENV",
        [DOCKERFILE_EXPOSE] = "EXPOSE",
        [DOCKERFILE_FROM] = "FROM",
        [DOCKERFILE_HEALTHCHECK] = "HEALTHCHECK",
        [DOCKERFILE_LABEL] = "LABEL",
        [DOCKERFILE_MAINTAINER] = "MAINTAINER",
        [DOCKERFILE_ONBUILD] = "ONBUILD",
        [DOCKERFILE_RUN] = "RUN",
        [DOCKERFILE_SHELL] = "SHELL",
        [DOCKERFILE_STOPSIGNAL] = "STOPSIGNAL",
        [DOCKERFILE_USER] = "USER",
        [DOCKERFILE_VOLUME] = "VOLUME",
        [DOCKERFILE_WORKDIR] = "WORKDIR",
};

const char *dockerfile_kind_to_string(enum dockerfile_kind k)
{
        return k >= 0 && k < _DOCKERFILE_KIND_MAX ? kind_names[k] : NULL;
}

static enum dockerfile_kind kind_from_span(const char *s, size_t n)
{
        if (n < 3 || n > 11) /* "ADD" to "HEALTHCHECK" */
                return _DOCKERFILE_KIND_INVALID;
        for (int k = 0; k < _DOCKERFILE_KIND_MAX; k++)
                if ((kind_names[k][0] | 0x20) == (s[0] | 0x20) && strlen(kind_names[k]) == n &&
                    strncasecmp(kind_names[k], s, n) == 0)
                        return (enum dockerfile_kind)k;
        return _DOCKERFILE_KIND_INVALID;
}

enum dockerfile_kind dockerfile_kind_from_string(const char *s)
{
        return kind_from_span(s, strlen(s));
}

/* Where the parts of an instruction's text are (offsets into p->text). */
struct split {
        size_t from, to; /* the whole text */
        size_t kw, kw_end;
        size_t a, b; /* the arguments, after the flags, trimmed */
};

/* Go's unicode.IsSpace of a single byte, as extractBuilderFlags tests it (ASCII only here:
 * BuildKit also splits on bytes 0x85 and 0xA0, which cuts UTF-8 characters in two). */
static bool is_byte_space(char c)
{
        return c == ' ' || (c >= '\t' && c <= '\r');
}

/* One flag word from POS: quotes removed, the escape character escaping the next byte. */
static size_t flag_word(const struct parser *p, size_t pos, size_t to, struct sbuf *w)
{
        const char *s = p->text.s;
        char quote = 0;
        for (; pos < to; pos++) {
                char c = s[pos];
                if (!quote && is_byte_space(c))
                        break;
                if (!quote && (c == '\'' || c == '"')) {
                        quote = c;
                        continue;
                }
                if (quote && c == quote) {
                        quote = 0;
                        continue;
                }
                if (c == p->escape) {
                        if (pos + 1 == to) {
                                quote = 0;
                                continue;
                        }
                        c = s[++pos];
                }
                df_sbuf_putc(w, c);
        }
        return pos;
}

static void add_flag(struct parser *p, const struct sbuf *w, size_t at, struct vec *flags)
{
        struct dockerfile_flag *f = df_vec_push(flags, sizeof(*f));
        const char *eq = memchr(w->s, '=', w->len);
        size_t name_end = eq ? (size_t)(eq - w->s) : w->len;
        f->name = df_arena_strndup(p->arena, w->s + 2, name_end - 2);
        if (eq)
                f->value = df_arena_strndup(p->arena, eq + 1, w->len - name_end - 1);
        df_parser_position(p, at, &f->line, &f->column);
}

/* BuildKit's extractBuilderFlags: leading "--words" are flags; "--" alone ends them. Returns
 * where the arguments start. */
static size_t extract_flags(struct parser *p, size_t pos, size_t to, struct vec *flags)
{
        const char *s = p->text.s;
        struct sbuf w = { 0 };
        for (;;) {
                while (pos < to && is_byte_space(s[pos]))
                        pos++;
                if (pos == to || s[pos] != '-' || pos + 1 == to || s[pos + 1] != '-')
                        break;
                size_t start = pos;
                w.len = 0;
                pos = flag_word(p, pos, to, &w);
                if (w.len == 2)
                        break; /* "--": the rest are arguments */
                add_flag(p, &w, start, flags);
        }
        df_sbuf_release(&w);
        return pos;
}

static void trim_span(const char *s, size_t *a, size_t *b)
{
        const char *t = s + *a;
        size_t n = *b - *a;
        df_trim_uspace(&t, &n);
        *a = (size_t)(t - s);
        *b = *a + n;
}

static void push_arg(struct parser *p, struct vec *args, const char *s, size_t n)
{
        *(char **)df_vec_push(args, sizeof(char *)) = df_arena_strndup(p->arena, s, n);
}

/* parseStringsWhitespaceDelimited: words separated by runs of [\t\v\f\r ]. */
static void split_words(struct parser *p, size_t a, size_t b, struct vec *args)
{
        const char *s = p->text.s;
        while (a < b) {
                size_t e = a;
                while (e < b && !is_word_sep(s[e]))
                        e++;
                push_arg(p, args, s + a, e - a);
                for (a = e; a < b && is_word_sep(s[a]);)
                        a++;
        }
}

/* Warn about arguments that were clearly meant as JSON but are not valid: `["a" "b"]`. */
static void warn_bad_json(struct parser *p, const struct dockerfile_instruction *i, size_t a,
                          size_t b, const struct json_fail *fail)
{
        const char *s = p->text.s;
        bool opens = b - a >= 2 && s[a] == '[' && (s[a + 1] == '"' || s[a + 1] == '\'');
        bool closes = b - a >= 2 && s[b - 1] == ']' && (s[b - 2] == '"' || s[b - 2] == '\'');
        unsigned line, col;
        if (!fail->looks_json || (!opens && !closes))
                return;
        df_parser_position(p, a + fail->off, &line, &col);
        df_parser_warn(p, "InvalidJSONArgs", i->line,
                       "%s arguments are not a valid JSON array (%s at %u:%u); read as %s",
                       kind_names[i->kind], fail->what, line, col,
                       i->kind == DOCKERFILE_COPY || i->kind == DOCKERFILE_ADD ||
                                       i->kind == DOCKERFILE_VOLUME
                               ? "whitespace-separated words"
                               : "a shell command");
}

/* parseMaybeJSON (LIST false: the shell form is one string) and parseMaybeJSONToList. */
static int maybe_json(struct parser *p, struct dockerfile_instruction *i, size_t a, size_t b,
                      bool list, struct vec *args)
{
        struct json_fail fail;
        char **ex = NULL;
        size_t n = 0;
        if (a == b)
                return 0;
        int r = df_exec_form_parse(p->text.s + a, b - a, p->arena, &ex, &n, &fail);
        if (r == EXEC_NOT_STRINGS)
                return df_parser_error_at(
                        p, a,
                        "when using JSON array syntax, arrays must be comprised of strings only");
        if (r == EXEC_NUL)
                return df_parser_error_at(p, a, "JSON strings with \\u0000 are not supported");
        if (r == EXEC_OK) {
                i->exec_form = true;
                for (size_t k = 0; k < n; k++)
                        *(char **)df_vec_push(args, sizeof(char *)) = ex[k];
                return 0;
        }
        warn_bad_json(p, i, a, b, &fail);
        if (list)
                split_words(p, a, b, args);
        else
                push_arg(p, args, p->text.s + a, b - a);
        return 0;
}

struct word {
        char *text;
        size_t off;
};

/* BuildKit's parseWords: words split at Unicode spaces, quotes and escapes kept in the word
 * (the escape character protects quotes and spaces; not inside single quotes). */
static void parse_words(struct parser *p, size_t a, size_t b, struct vec *out)
{
        const char *s = p->text.s;
        struct sbuf w = { 0 };
        int32_t quote = 0;
        bool in_word = false, blank_ok = false;
        size_t start = a, width;
        for (size_t pos = a; pos < b; pos += width) {
                int32_t ch = (unsigned char)s[pos] < 0x80
                                     ? (width = 1, s[pos])
                                     : df_utf8_decode(s + pos, b - pos, &width);
                ch = ch < 0 ? RUNE_ERROR : ch;
                if (!in_word && df_rune_is_space(ch))
                        continue;
                if (!in_word) {
                        in_word = true;
                        start = pos;
                }
                if (!quote && df_rune_is_space(ch)) {
                        if (blank_ok || w.len > 0)
                                *(struct word *)df_vec_push(out, sizeof(struct word)) =
                                        (struct word){ df_arena_strndup(p->arena, w.s, w.len),
                                                       start };
                        w.len = 0;
                        in_word = blank_ok = false;
                        continue;
                }
                if (!quote && (ch == '\'' || ch == '"')) {
                        quote = ch;
                        blank_ok = true;
                } else if (quote && ch == quote) {
                        quote = 0;
                        df_sbuf_rune(&w, ch);
                        continue;
                }
                if (ch == p->escape && quote != '\'') {
                        if (pos + width == b) {
                                quote = 0;
                                continue;
                        }
                        df_sbuf_rune(&w, ch);
                        pos += width;
                        ch = df_utf8_decode(s + pos, b - pos, &width);
                        ch = ch < 0 ? RUNE_ERROR : ch;
                }
                df_sbuf_rune(&w, ch);
        }
        if (in_word && (blank_ok || w.len > 0))
                *(struct word *)df_vec_push(out, sizeof(struct word)) =
                        (struct word){ df_arena_strndup(p->arena, w.s ? w.s : "", w.len), start };
        df_sbuf_release(&w);
}

static void push_pair(struct parser *p, struct vec *pairs, const char *k, size_t kn, const char *v,
                      size_t vn, bool legacy)
{
        struct dockerfile_pair *pr = df_vec_push(pairs, sizeof(*pr));
        pr->key = df_arena_strndup(p->arena, k, kn);
        pr->value = v ? df_arena_strndup(p->arena, v, vn) : NULL;
        pr->legacy = legacy;
}

/* ENV/LABEL "key value": the key is the first word, the value the rest, raw. */
static int name_val_legacy(struct parser *p, struct dockerfile_instruction *i, size_t a, size_t b,
                           struct vec *pairs)
{
        const char *s = p->text.s;
        size_t k = a, v;
        while (k < b && !is_word_sep(s[k]))
                k++;
        if (k == b)
                return df_parser_error(p, i->line, i->column, ST_E_PARSE,
                                       "%s must have two arguments", kind_names[i->kind]);
        for (v = k; v < b && is_word_sep(s[v]);)
                v++;
        push_pair(p, pairs, s + a, k - a, s + v, b - v, true);
        return 0;
}

/* BuildKit's parseNameVal, for ENV and LABEL. */
static int name_val(struct parser *p, struct dockerfile_instruction *i, size_t a, size_t b,
                    struct vec *pairs)
{
        struct vec words = { 0 };
        parse_words(p, a, b, &words);
        struct word *w = words.p;
        int r = 0;
        if (words.n > 0 && !strchr(w[0].text, '='))
                r = name_val_legacy(p, i, a, b, pairs);
        for (size_t k = 0; k < words.n && r >= 0 && strchr(w[0].text, '='); k++) {
                const char *eq = strchr(w[k].text, '=');
                if (!eq) {
                        _cleanup_free_ char *q = dockerfile_go_quote(w[k].text);
                        r = df_parser_error_at(p, w[k].off,
                                               "Syntax error - can't find = in %s. Must be of the "
                                               "form: name=value",
                                               q);
                        break;
                }
                push_pair(p, pairs, w[k].text, (size_t)(eq - w[k].text), eq + 1, strlen(eq + 1),
                          false);
        }
        free(words.p);
        return r;
}

/* ARG: words, each "name" or "name=default". */
static void name_or_name_val(struct parser *p, size_t a, size_t b, struct vec *pairs)
{
        struct vec words = { 0 };
        parse_words(p, a, b, &words);
        struct word *w = words.p;
        for (size_t k = 0; k < words.n; k++) {
                const char *eq = strchr(w[k].text, '=');
                size_t kn = eq ? (size_t)(eq - w[k].text) : strlen(w[k].text);
                push_pair(p, pairs, w[k].text, kn, eq ? eq + 1 : NULL, eq ? strlen(eq + 1) : 0,
                          false);
        }
        free(words.p);
}

/* HEALTHCHECK: the type word, then the command as for CMD. */
static int health(struct parser *p, struct dockerfile_instruction *i, size_t a, size_t b,
                  struct vec *args)
{
        const char *s = p->text.s;
        size_t sep = a;
        if (a == b)
                return 0;
        while (sep < b && !is_byte_space(s[sep]))
                sep++;
        push_arg(p, args, s + a, sep - a);
        while (sep < b && is_byte_space(s[sep]))
                sep++;
        return maybe_json(p, i, sep, b, false, args);
}

/* ONBUILD: the rest of the line is an instruction of its own. Its original text is what
 * BuildKit keeps for the image config: the parent's text after "ONBUILD" and blanks. */
static int onbuild(struct parser *p, struct dockerfile_instruction *i, const struct split *sp,
                   unsigned depth)
{
        if (sp->a == sp->b || depth >= ONBUILD_NEST_MAX)
                return 0;
        i->trigger = df_arena_alloc(p->arena, sizeof(*i->trigger));
        int r = df_instruction_parse(p, sp->a, sp->b, depth + 1, i->trigger);
        if (r < 0)
                return r;
        size_t o = sp->kw_end;
        while (o < sp->to && strchr("\t\n\f\r ", p->text.s[o]) && p->text.s[o])
                o++;
        i->trigger->original = df_arena_strndup(p->arena, p->text.s + o, sp->to - o);
        return 0;
}

static int parse_args(struct parser *p, struct dockerfile_instruction *i, const struct split *sp,
                      unsigned depth, struct vec *args, struct vec *pairs)
{
        switch (i->kind) {
        case DOCKERFILE_ADD:
        case DOCKERFILE_COPY:
        case DOCKERFILE_VOLUME:
                return maybe_json(p, i, sp->a, sp->b, true, args);
        case DOCKERFILE_CMD:
        case DOCKERFILE_ENTRYPOINT:
        case DOCKERFILE_RUN:
        case DOCKERFILE_SHELL:
                return maybe_json(p, i, sp->a, sp->b, false, args);
        case DOCKERFILE_HEALTHCHECK:
                return health(p, i, sp->a, sp->b, args);
        case DOCKERFILE_ENV:
        case DOCKERFILE_LABEL:
                return name_val(p, i, sp->a, sp->b, pairs);
        case DOCKERFILE_ARG:
                name_or_name_val(p, sp->a, sp->b, pairs);
                return 0;
        case DOCKERFILE_EXPOSE:
        case DOCKERFILE_FROM:
                split_words(p, sp->a, sp->b, args);
                return 0;
        case DOCKERFILE_MAINTAINER:
        case DOCKERFILE_STOPSIGNAL:
        case DOCKERFILE_USER:
        case DOCKERFILE_WORKDIR:
                if (sp->a < sp->b)
                        push_arg(p, args, p->text.s + sp->a, sp->b - sp->a);
                return 0;
        case DOCKERFILE_ONBUILD:
                return onbuild(p, i, sp, depth);
        default:
                return 0; /* unknown: check.c reports it */
        }
}

/* BuildKit's splitCommand: trim, the keyword up to the first blank, flags, arguments. */
static void split_command(struct parser *p, struct split *sp, struct vec *flags)
{
        const char *s = p->text.s;
        size_t a = sp->from, b = sp->to, rest;
        trim_span(s, &a, &b);
        sp->kw = a;
        for (sp->kw_end = a; sp->kw_end < b && !is_word_sep(s[sp->kw_end]);)
                sp->kw_end++;
        for (rest = sp->kw_end; rest < b && is_word_sep(s[rest]);)
                rest++;
        sp->a = rest < b ? extract_flags(p, rest, b, flags) : b;
        sp->b = b;
        trim_span(s, &sp->a, &sp->b);
}

static void finish(struct parser *p, struct dockerfile_instruction *i, struct vec *flags,
                   struct vec *args, struct vec *pairs)
{
        i->n_flags = flags->n;
        i->flags = df_vec_to_arena(flags, sizeof(struct dockerfile_flag), p->arena);
        i->n_args = args->n;
        *(char **)df_vec_push(args, sizeof(char *)) = NULL;
        i->args = df_vec_to_arena(args, sizeof(char *), p->arena);
        i->n_pairs = pairs->n;
        i->pairs = df_vec_to_arena(pairs, sizeof(struct dockerfile_pair), p->arena);
}

int df_instruction_parse(struct parser *p, size_t from, size_t to, unsigned depth,
                         struct dockerfile_instruction *i)
{
        struct split sp = { .from = from, .to = to };
        struct vec flags = { 0 }, args = { 0 }, pairs = { 0 };
        if (++p->n_instructions > DOCKERFILE_INSTRUCTIONS_MAX) {
                unsigned line, col;
                df_parser_position(p, from, &line, &col);
                return df_parser_error(p, line, col, ST_E_TOO_BIG, "more than %u instructions",
                                       DOCKERFILE_INSTRUCTIONS_MAX);
        }
        split_command(p, &sp, &flags);
        i->keyword = df_arena_strndup(p->arena, p->text.s + sp.kw, sp.kw_end - sp.kw);
        i->kind = kind_from_span(p->text.s + sp.kw, sp.kw_end - sp.kw);
        i->original = df_arena_strndup(p->arena, p->text.s + from, to - from);
        df_parser_position(p, sp.kw, &i->line, &i->column);
        int r = parse_args(p, i, &sp, depth, &args, &pairs);
        if (r >= 0)
                finish(p, i, &flags, &args, &pairs);
        free(flags.p);
        free(args.p);
        free(pairs.p);
        return r;
}

bool df_instruction_takes_heredocs(const struct dockerfile_instruction *i)
{
        if (i->kind == DOCKERFILE_ONBUILD && i->trigger)
                i = i->trigger;
        return (i->kind == DOCKERFILE_RUN || i->kind == DOCKERFILE_COPY ||
                i->kind == DOCKERFILE_ADD) &&
               !i->exec_form;
}
