/* Pieces shared by the parser's files (src/dockerfile only): an arena, growable buffers and
 * vectors, UTF-8 and whitespace helpers that behave as Go's, and the parser state. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "dockerfile/dockerfile.h"

/* arena.c: a bump allocator; everything in a struct dockerfile lives in one. */
struct dockerfile_arena *df_arena_new(void);
void df_arena_free(struct dockerfile_arena *a);
/* N zeroed bytes, aligned for any type, owned by A. */
void *df_arena_alloc(struct dockerfile_arena *a, size_t n);
/* A NUL-terminated copy of N bytes of S, owned by A. */
char *df_arena_strndup(struct dockerfile_arena *a, const char *s, size_t n);
/* A copy of N bytes of P (NULL if N is 0), owned by A. */
void *df_arena_memdup(struct dockerfile_arena *a, const void *p, size_t n);

/* A growable byte buffer; s is NUL-terminated whenever len > 0 or after df_sbuf_cstr. */
struct sbuf {
        char *s;
        size_t len, cap;
};

void df_sbuf_grow(struct sbuf *b, size_t extra);
void df_sbuf_put(struct sbuf *b, const char *s, size_t n);
void df_sbuf_puts(struct sbuf *b, const char *s);
void df_sbuf_printf(struct sbuf *b, const char *fmt, ...) _printf_(2, 3);
/* Append R encoded as UTF-8 (invalid code points as U+FFFD, as Go's WriteRune). */
void df_sbuf_rune(struct sbuf *b, int32_t r);
/* The contents as a C string (borrowed; valid until the next change). */
const char *df_sbuf_cstr(struct sbuf *b);
/* Free the storage; the buffer is empty and reusable afterwards. */
void df_sbuf_release(struct sbuf *b);

static inline void df_sbuf_putc(struct sbuf *b, char c)
{
        if (b->len + 2 > b->cap)
                df_sbuf_grow(b, 1);
        b->s[b->len++] = c;
        b->s[b->len] = 0;
}

/* A growable array of fixed-size elements. */
struct vec {
        void *p;
        size_t n, cap;
};

/* A new zeroed element of SIZE bytes at the end of V. */
void *df_vec_push(struct vec *v, size_t size);
/* Copy the N elements of V (SIZE bytes each) into A; NULL if empty. */
void *df_vec_to_arena(const struct vec *v, size_t size, struct dockerfile_arena *a);

/* text.c: UTF-8 as Go's unicode/utf8 decodes it, whitespace as Go's unicode.IsSpace. */
#define RUNE_ERROR 0xFFFD
/* The code point at S (N > 0 bytes available) and its width; -1 with width 1 if invalid. */
int32_t df_utf8_decode(const char *s, size_t n, size_t *ret_width);
/* Go's unicode.IsSpace. */
bool df_rune_is_space(int32_t r);
/* The width of a unicode.IsSpace character at S, or 0. */
size_t df_uspace_at(const char *s, size_t n);
/* The width of a unicode.IsSpace character ending at S + N, or 0. */
size_t df_uspace_before(const char *s, size_t n);
/* Go's strings.TrimSpace on [*s, *s + *n). */
void df_trim_uspace(const char **s, size_t *n);

/* The regexp class [\t\v\f\r ] that BuildKit splits words on. */
static inline bool is_word_sep(char c)
{
        return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Characters (code points, invalid bytes one each) in N bytes of S. */
size_t df_utf8_count(const char *s, size_t n);
/* Append S (N bytes) quoted as Go's strconv.Quote. */
void df_go_quote_append(struct sbuf *b, const char *s, size_t n);

/* json-array.c: the exec form, as Go's encoding/json decodes a []interface{}. */
enum {
        EXEC_NOT_JSON = 0,     /* not valid JSON: the text is the shell form */
        EXEC_OK = 1,           /* a JSON array of strings */
        EXEC_NOT_STRINGS = -1, /* valid JSON but not an array of strings: an error */
        EXEC_NUL = -2,         /* a string holds \u0000, which strata cannot represent */
};

struct json_fail {
        size_t off;      /* where the JSON stopped being valid, from the text's start */
        char what[80];   /* "unterminated string", "invalid character 'x'", ... */
        bool looks_json; /* the text starts with '[' */
};

int df_exec_form_parse(const char *s, size_t n, struct dockerfile_arena *a, char ***ret_args,
                       size_t *ret_n, struct json_fail *fail);

/* heredoc.c: BuildKit's heredoc detection. */
struct heredoc_word {
        char *name; /* malloc'd */
        unsigned fd;
        bool chomp, expand;
        size_t off; /* where the word starts in the line */
};

/* The heredocs that LINE (N bytes) announces, in order; *ret is a malloc'd array of *ret_n
 * (names malloc'd too; free with df_heredoc_words_free). Returns < 0 with *ret_msg (malloc'd)
 * when a heredoc word does not lex. */
int df_heredocs_from_line(const char *line, size_t n, struct heredoc_word **ret, size_t *ret_n,
                          char **ret_msg);
/* 1 if WORD is a heredoc word (fills *ret, name malloc'd), 0 if not, < 0 if it does not lex. */
int df_heredoc_parse_word(const char *word, size_t n, struct heredoc_word *ret);
void df_heredoc_words_free(struct heredoc_word *w, size_t n);

/* The parser's state (parse.c, instr.c, check.c, lint.c). */
struct segment {
        size_t off;             /* where the piece starts in the joined text */
        const char *src;        /* where it starts in the input */
        const char *line_start; /* the start of its physical line */
        unsigned line;
};

struct parser {
        const char *filename;
        const char *buf, *end, *next; /* the input and the start of the next physical line */
        unsigned line;                /* physical lines read */
        char escape;
        bool directives_done;
        struct dockerfile *df;
        struct dockerfile_arena *arena;
        struct sbuf text;    /* the instruction being parsed, continuations joined */
        struct vec segments; /* struct segment: where each piece of text came from */
        unsigned start_line; /* the instruction's first line */
        size_t n_heredocs;   /* in the whole file */
        size_t n_instructions;
        struct vec instructions; /* struct dockerfile_instruction */
        struct vec directives;   /* struct dockerfile_directive */
        struct vec warnings;     /* struct dockerfile_warning */
        char **check_skip;       /* "# check=skip=" rules (malloc'd strv) */
        bool check_skip_all;
        struct st_error **err;
};

/* Line and column of offset OFF of the joined text. */
void df_parser_position(const struct parser *p, size_t off, unsigned *ret_line, unsigned *ret_col);
/* Set *p->err to CODE with "FILE:LINE:COL: message"; returns CODE. */
int df_parser_error(struct parser *p, unsigned line, unsigned col, int code, const char *fmt, ...)
        _printf_(5, 6);
/* df_parser_error at offset OFF of the joined text. */
int df_parser_error_at(struct parser *p, size_t off, const char *fmt, ...) _printf_(3, 4);
/* Record a warning of RULE at LINE. */
void df_parser_warn(struct parser *p, const char *rule, unsigned line, const char *fmt, ...)
        _printf_(4, 5);

/* instr.c: the text [from, to) of p->text as one instruction (BuildKit's newNodeFromLine);
 * DEPTH counts ONBUILD nesting. Unknown keywords get kind _DOCKERFILE_KIND_INVALID. */
int df_instruction_parse(struct parser *p, size_t from, size_t to, unsigned depth,
                         struct dockerfile_instruction *i);
/* True if I (or its ONBUILD trigger) takes heredocs: RUN, COPY, ADD in shell form. */
bool df_instruction_takes_heredocs(const struct dockerfile_instruction *i);

/* parse.c: dockerfile_parse; FULL false leaves out check.c and lint.c, which is what BuildKit's
 * parser package alone does (for differential tests against it). */
int df_parse(const char *filename, const char *buf, size_t len, bool full, struct dockerfile **ret,
             struct st_error **err);

/* check.c: the checks of BuildKit's instructions package, in file order. */
int df_check(struct parser *p);

/* lint.c: the warnings that need the whole file (stages, casing). */
void df_lint(struct parser *p);
