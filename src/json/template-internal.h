/* Shared by template*.c only: the parse tree, evaluation state, builtins and Go-style value
 * printing. */
#pragma once

#include <stdint.h>

#include "json/template.h"

enum node_kind {
        NODE_LIST,   /* kids: TEXT, ACTION, IF, WITH, RANGE */
        NODE_TEXT,   /* text */
        NODE_ACTION, /* pipe */
        NODE_IF,     /* pipe, list, else_list */
        NODE_WITH,
        NODE_RANGE,
        NODE_PIPE,  /* kids: CMD; decl, n_decl, assign */
        NODE_CMD,   /* kids: operands */
        NODE_FIELD, /* .A.B: fields */
        NODE_VAR,   /* $x.A: text "$x", fields */
        NODE_CHAIN, /* (pipeline).A: pipe, fields */
        NODE_DOT,
        NODE_FUNC,  /* text, func */
        NODE_CONST, /* value */
        NODE_NIL,
};

struct tmpl_state;

/* A builtin: ARGS[0..N) are new references (NULL = no value) owned by the caller; on success
 * *ret is a new reference or NULL. Errors through tmpl_fail. */
typedef int (*tmpl_func_fn)(struct tmpl_state *s, json_t **args, size_t n, json_t **ret);

struct tmpl_func {
        const char *name;
        int min_args;
        int max_args;            /* -1: variadic */
        tmpl_func_fn fn;         /* NULL for and/or, evaluated lazily by the executor */
        bool header_passthrough; /* docker's HeaderFunctions return the first argument */
};

struct node {
        enum node_kind kind;
        size_t pos; /* byte offset in the template, for messages */
        char *text; /* TEXT content; VAR and FUNC name; CMD source for messages */
        char **fields;
        json_t *value;
        const struct tmpl_func *func;
        struct node **kids;
        size_t n_kids;
        struct node *pipe, *list, *else_list;
        char *decl[2];
        size_t n_decl;
        bool assign;
};

struct template
{
        char *source;
        struct node *root;
};

struct tbuf {
        char *p;
        size_t n, cap;
};

struct tmpl_var {
        const char *name; /* borrowed from the tree */
        json_t *value;
};

struct tmpl_state {
        const struct template *t;
        struct tbuf out;
        struct tmpl_var *vars;
        size_t n_vars, cap_vars;
        const struct node *at; /* node being evaluated, for messages */
        uint64_t steps;
        template_header_fn header_fn;
        json_t *root;
        struct st_error **err;
};

/* Run T against DOT; with HEADER_FN, as a table header (see template_table_header). *ret gets
 * the output even on failure: what was written before the error. */
int tmpl_execute(const struct template *t, json_t *dot, template_header_fn header_fn, char **ret,
                 struct st_error **err);

/* The builtin named NAME, or NULL. */
const struct tmpl_func *tmpl_func_lookup(const char *name, size_t len);

/* Fail evaluation at s->at with a formatted message; returns -EINVAL. */
int tmpl_fail(struct tmpl_state *s, const char *fmt, ...) _printf_(2, 3);

/* Line and 1-based column of byte POS of TEXT. */
void tmpl_position(const char *text, size_t pos, unsigned *ret_line, unsigned *ret_col);

/* Append N bytes to B, failing with ST_E_TOO_BIG past TEMPLATE_MAX_OUTPUT. */
int tbuf_put(struct tmpl_state *s, struct tbuf *b, const char *p, size_t n);
int tbuf_puts(struct tmpl_state *s, struct tbuf *b, const char *p);
int tbuf_putc(struct tmpl_state *s, struct tbuf *b, char c);
/* The contents as a new JSON string; B is emptied. */
json_t *tbuf_steal_string(struct tbuf *b);

/* json_typeof that maps NULL (no value) to JSON_NULL. */
static inline json_type tmpl_typeof(const json_t *v)
{
        return v ? json_typeof(v) : JSON_NULL;
}

/* Go's truthiness of V (NULL = no value). */
bool tmpl_truth(const json_t *v);

/* Go's name for the type V would have in a map[string]interface{} from JSON. */
const char *tmpl_type_name(const json_t *v);

/* Append V as fmt's %v prints it (NULL: "<nil>"). */
int tmpl_print_value(struct tmpl_state *s, struct tbuf *b, const json_t *v);

/* Append V as encoding/json encodes it (SetEscapeHTML(false), sorted keys, no newline). */
int tmpl_print_json(struct tmpl_state *s, struct tbuf *b, const json_t *v);

/* Append S[0..N) quoted like strconv.Quote. */
int tmpl_print_quoted(struct tmpl_state *s, struct tbuf *b, const char *p, size_t n);

/* Append fmt.Sprintf(FORMAT, ARGS...) for the verbs v s d q x X f and flags - 0 width .prec. */
int tmpl_printf(struct tmpl_state *s, struct tbuf *b, const char *format, size_t flen,
                json_t **args, size_t n);

/* Encode the code point C as UTF-8 into OUT; its length. */
size_t tmpl_utf8_encode(uint32_t c, char out[static 4]);

/* Decode one UTF-8 sequence of P[0..N) (N > 0) into *ret; its length, or 0 if invalid. */
size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *ret);
