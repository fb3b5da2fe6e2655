/* Evaluation of a parsed template: control flow, pipelines, variables, field chains. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "basic/banned.h"
#include "basic/util.h"
#include "json/template-internal.h"

int tmpl_fail(struct tmpl_state *s, const char *fmt, ...)
{
        unsigned line = 1, col = 1;
        va_list ap;

        va_start(ap, fmt);
        _cleanup_free_ char *m = xvasprintf(fmt, ap);
        va_end(ap);
        if (s->at)
                tmpl_position(s->t->source, s->at->pos, &line, &col);
        return st_error_set(s->err, -EINVAL, "template: %u:%u: executing at <%s>: %s", line, col,
                            s->at && s->at->text ? s->at->text : "", m);
}

int tbuf_put(struct tmpl_state *s, struct tbuf *b, const char *p, size_t n)
{
        if (n > TEMPLATE_MAX_OUTPUT - b->n)
                return st_error_set(s->err, ST_E_TOO_BIG, "template: output exceeds %u bytes",
                                    TEMPLATE_MAX_OUTPUT);
        if (b->n + n + 1 > b->cap) {
                b->cap = MAX(b->n + n + 1, b->cap * 2);
                b->p = xrealloc(b->p, b->cap);
        }
        memcpy(b->p + b->n, p, n);
        b->n += n;
        b->p[b->n] = '\0';
        return 0;
}

int tbuf_puts(struct tmpl_state *s, struct tbuf *b, const char *p)
{
        return tbuf_put(s, b, p, strlen(p));
}

int tbuf_putc(struct tmpl_state *s, struct tbuf *b, char c)
{
        return tbuf_put(s, b, &c, 1);
}

json_t *tbuf_steal_string(struct tbuf *b)
{
        json_t *j = json_stringn_nocheck(b->p ? b->p : "", b->n);
        free(b->p);
        *b = (struct tbuf){ 0 };
        return j;
}

static int step(struct tmpl_state *s)
{
        if (++s->steps > TEMPLATE_MAX_STEPS)
                return st_error_set(s->err, ST_E_TOO_BIG, "template: evaluation exceeds %u steps",
                                    TEMPLATE_MAX_STEPS);
        return 0;
}

static void var_push(struct tmpl_state *s, const char *name, json_t *value)
{
        if (s->n_vars == s->cap_vars) {
                s->cap_vars = MAX(8u, s->cap_vars * 2);
                s->vars = xrealloc(s->vars, s->cap_vars * sizeof(*s->vars));
        }
        s->vars[s->n_vars++] = (struct tmpl_var){ name, json_incref(value) };
}

static void vars_pop(struct tmpl_state *s, size_t mark)
{
        while (s->n_vars > mark)
                json_decref(s->vars[--s->n_vars].value);
}

static struct tmpl_var *var_find(struct tmpl_state *s, const char *name)
{
        for (size_t i = s->n_vars; i > 0; i--)
                if (streq(s->vars[i - 1].name, name))
                        return &s->vars[i - 1];
        return NULL;
}

static void var_set(struct tmpl_var *v, json_t *value)
{
        json_incref(value);
        json_decref(v->value);
        v->value = value;
}

/* Key NAME of the object RECV (borrowed), or in a header the root's column title. */
static json_t *object_field(struct tmpl_state *s, json_t *recv, const char *name)
{
        json_t *v = json_object_get(recv, name);
        const char *h = NULL;

        if (!v && s->header_fn && recv == s->root && (h = s->header_fn(name))) {
                v = json_string_nocheck(h);
                json_object_set_new_nocheck(recv, name, v);
        }
        return v;
}

/* Field NAME of RECV (a reference this consumes; NULL = no value) into *ret. HAS_ARGS: the
 * command gives it arguments, which only a missing receiver shrugs off (Go's order). */
static int eval_field(struct tmpl_state *s, json_t *recv, const char *name, bool has_args,
                      json_t **ret)
{
        int r = 0;

        if (!recv)
                *ret = NULL; /* a missing key's fields are missing too */
        else if (json_is_object(recv) && has_args)
                r = tmpl_fail(s, "%s is not a method but has arguments", name);
        else if (json_is_object(recv))
                *ret = json_incref(object_field(s, recv, name));
        else if (json_is_null(recv))
                r = tmpl_fail(s, "nil pointer evaluating interface {}.%s", name);
        else
                r = tmpl_fail(s, "can't evaluate field %s in type %s", name,
                              recv == s->root ? tmpl_type_name(recv) : "interface {}");
        json_decref(recv);
        return r;
}

static int eval_fields(struct tmpl_state *s, const struct node *n, json_t *recv, bool has_args,
                       json_t **ret)
{
        STRV_FOREACH(f, n->fields) {
                int r = eval_field(s, recv, *f, has_args && !f[1], &recv);
                if (r < 0)
                        return r;
        }
        *ret = recv;
        return 0;
}

static int eval_pipe(struct tmpl_state *s, const struct node *pipe, json_t *dot, json_t **ret);
static int call_func(struct tmpl_state *s, const struct node *fn, struct node *const *argv,
                     size_t argc, json_t *dot, json_t **final, json_t **ret);

/* An operand's value: a new reference, or NULL for no value. HAS_ARGS: see eval_field. */
static int eval_operand(struct tmpl_state *s, const struct node *n, json_t *dot, bool has_args,
                        json_t **ret)
{
        json_t *v = NULL;
        int r = step(s);

        if (r < 0)
                return r;
        switch (n->kind) {
        case NODE_FIELD:
                return eval_fields(s, n, json_incref(dot), has_args, ret);
        case NODE_VAR:
                v = var_find(s, n->text)->value;
                return eval_fields(s, n, json_incref(v), has_args, ret);
        case NODE_CHAIN:
                r = eval_pipe(s, n->pipe, dot, &v);
                return r < 0 ? r : eval_fields(s, n, v, has_args, ret);
        case NODE_DOT:
                *ret = json_incref(dot);
                return 0;
        case NODE_CONST:
                *ret = json_incref(n->value);
                return 0;
        case NODE_NIL:
                *ret = json_null();
                return 0;
        case NODE_FUNC:
                return call_func(s, n, NULL, 0, dot, NULL, ret);
        default:
                abort(); /* the parser makes no other operands */
        }
}

static int eval_arg(struct tmpl_state *s, const struct node *n, json_t *dot, json_t **ret)
{
        return eval_operand(s, n, dot, false, ret);
}

static void decref_all(json_t **args, size_t n)
{
        for (size_t i = 0; i < n; i++)
                json_decref(args[i]);
        free(args);
}

/* and/or: evaluate left to right, stop at the first argument that decides. */
static int call_andor(struct tmpl_state *s, bool is_and, struct node *const *argv, size_t argc,
                      json_t *dot, json_t **final, json_t **ret)
{
        size_t total = argc + (final ? 1 : 0);

        for (size_t i = 0; i < total; i++) {
                json_t *v = NULL;
                int r = i < argc ? eval_arg(s, argv[i], dot, &v) : 0;
                if (r < 0)
                        return r;
                if (i == argc)
                        v = json_incref(*final);
                if (tmpl_truth(v) != is_and || i + 1 == total) {
                        *ret = v;
                        return 0;
                }
                json_decref(v);
        }
        abort(); /* min_args keeps total >= 1 */
}

static int check_arity(struct tmpl_state *s, const struct tmpl_func *f, size_t total)
{
        if (f->max_args >= 0 && f->min_args != f->max_args &&
            (total < (size_t)f->min_args || total > (size_t)f->max_args))
                return tmpl_fail(s, "wrong number of args for %s: want %d or %d got %zu", f->name,
                                 f->min_args, f->max_args, total);
        if (f->max_args >= 0 && total != (size_t)f->max_args)
                return tmpl_fail(s, "wrong number of args for %s: want %d got %zu", f->name,
                                 f->max_args, total);
        if (total < (size_t)f->min_args)
                return tmpl_fail(s, "wrong number of args for %s: want at least %d got %zu",
                                 f->name, f->min_args, total);
        return 0;
}

/* Call FN with the operands ARGV and, in a pipeline, the previous command's value *FINAL. */
static int call_func(struct tmpl_state *s, const struct node *fn, struct node *const *argv,
                     size_t argc, json_t *dot, json_t **final, json_t **ret)
{
        const struct tmpl_func *f = fn->func;
        const struct node *at = s->at;
        size_t total = argc + (final ? 1 : 0);
        int r = check_arity(s, f, total);

        if (r < 0)
                return r;
        if (!f->fn)
                return call_andor(s, streq(f->name, "and"), argv, argc, dot, final, ret);
        json_t **args = xcalloc(total + 1, sizeof(json_t *));
        for (size_t i = 0; i < argc && r >= 0; i++)
                r = eval_arg(s, argv[i], dot, &args[i]);
        if (final)
                args[argc] = json_incref(*final);
        s->at = at;
        if (r >= 0 && s->header_fn && f->header_passthrough)
                *ret = json_incref(args[0]);
        else if (r >= 0)
                r = f->fn(s, args, total, ret);
        decref_all(args, total);
        return r;
}

static int eval_cmd(struct tmpl_state *s, const struct node *cmd, json_t *dot, json_t **final,
                    json_t **ret)
{
        const struct node *first = cmd->kids[0];

        s->at = cmd;
        if (first->kind == NODE_FUNC)
                return call_func(s, first, cmd->kids + 1, cmd->n_kids - 1, dot, final, ret);
        if ((cmd->n_kids > 1 || final) && !first->fields)
                return tmpl_fail(s, "can't give argument to non-function %s", cmd->text);
        return eval_operand(s, first, dot, cmd->n_kids > 1 || final, ret);
}

/* The pipeline's value; its declarations are pushed (or assigned) in the current scope. */
static int eval_pipe(struct tmpl_state *s, const struct node *pipe, json_t *dot, json_t **ret)
{
        json_t *v = NULL;

        for (size_t i = 0; i < pipe->n_kids; i++) {
                json_t *nv = NULL;
                int r = eval_cmd(s, pipe->kids[i], dot, i > 0 ? &v : NULL, &nv);
                json_decref(v);
                if (r < 0)
                        return r;
                if (json_is_null(nv)) { /* Go: an interface{} holding nil becomes no value */
                        json_decref(nv);
                        nv = NULL;
                }
                v = nv;
        }
        for (size_t i = 0; i < pipe->n_decl; i++) {
                if (pipe->assign)
                        var_set(var_find(s, pipe->decl[i]), v);
                else
                        var_push(s, pipe->decl[i], v);
        }
        *ret = v;
        return 0;
}

static int exec_list(struct tmpl_state *s, const struct node *list, json_t *dot);

static int exec_if(struct tmpl_state *s, const struct node *n, json_t *dot)
{
        size_t mark = s->n_vars;
        _cleanup_json_ json_t *v = NULL;
        int r = eval_pipe(s, n->pipe, dot, &v);

        if (r >= 0 && tmpl_truth(v))
                r = exec_list(s, n->list, n->kind == NODE_WITH ? v : dot);
        else if (r >= 0 && n->else_list)
                r = exec_list(s, n->else_list, dot);
        vars_pop(s, mark);
        return r;
}

/* One range iteration: bind $k/$v (or the single variable) and run the body. */
static int range_once(struct tmpl_state *s, const struct node *n, json_t *key, json_t *elem)
{
        const struct node *pipe = n->pipe;
        size_t mark = s->n_vars;
        _cleanup_json_ json_t *k = key;
        int r = step(s);

        if (r < 0)
                return r;
        if (pipe->n_decl > 0) {
                struct tmpl_var *ve = pipe->assign ? var_find(s, pipe->decl[pipe->n_decl - 1])
                                                   : &s->vars[s->n_vars - 1];
                var_set(ve, elem);
        }
        if (pipe->n_decl > 1) {
                struct tmpl_var *vk =
                        pipe->assign ? var_find(s, pipe->decl[0]) : &s->vars[s->n_vars - 2];
                var_set(vk, k);
        }
        r = exec_list(s, n->list, elem);
        vars_pop(s, mark);
        return r;
}

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int range_object(struct tmpl_state *s, const struct node *n, json_t *obj)
{
        size_t count = json_object_size(obj), i = 0;
        _cleanup_free_ const char **keys = xcalloc(count + 1, sizeof(char *));
        const char *key;
        json_t *v;
        int r = 0;

        json_object_foreach(obj, key, v) keys[i++] = key;
        qsort(keys, count, sizeof(char *), cmp_keys);
        for (i = 0; i < count && r >= 0; i++)
                r = range_once(s, n, json_string_nocheck(keys[i]), json_object_get(obj, keys[i]));
        return r;
}

static int exec_range(struct tmpl_state *s, const struct node *n, json_t *dot)
{
        size_t mark = s->n_vars, count = 0;
        _cleanup_json_ json_t *v = NULL;
        int r = eval_pipe(s, n->pipe, dot, &v);

        s->at = n->pipe->kids[0];
        if (r < 0 || !v)
                ; /* no value (null included) iterates zero times */
        else if (json_is_array(v)) {
                count = json_array_size(v);
                for (size_t i = 0; i < count && r >= 0; i++)
                        r = range_once(s, n, json_integer((json_int_t)i), json_array_get(v, i));
        } else if (json_is_object(v)) {
                count = json_object_size(v);
                r = range_object(s, n, v);
        } else {
                struct tbuf b = { 0 };
                r = tmpl_print_value(s, &b, v);
                if (r >= 0)
                        r = tmpl_fail(s, "range can't iterate over %s", b.p);
                free(b.p);
        }
        if (r >= 0 && count == 0 && n->else_list)
                r = exec_list(s, n->else_list, dot);
        vars_pop(s, mark);
        return r;
}

static int exec_action(struct tmpl_state *s, const struct node *n, json_t *dot)
{
        _cleanup_json_ json_t *v = NULL;
        int r = eval_pipe(s, n->pipe, dot, &v);

        if (r < 0 || n->pipe->n_decl > 0)
                return r;
        if (!v)
                return tbuf_puts(s, &s->out, "<no value>");
        return tmpl_print_value(s, &s->out, v);
}

static int exec_list(struct tmpl_state *s, const struct node *list, json_t *dot)
{
        int r = 0;

        for (size_t i = 0; i < list->n_kids && r >= 0; i++) {
                const struct node *n = list->kids[i];
                if ((r = step(s)) < 0)
                        break;
                if (n->kind == NODE_TEXT)
                        r = tbuf_puts(s, &s->out, n->text);
                else if (n->kind == NODE_ACTION)
                        r = exec_action(s, n, dot);
                else if (n->kind == NODE_RANGE)
                        r = exec_range(s, n, dot);
                else
                        r = exec_if(s, n, dot);
        }
        return r;
}

int tmpl_execute(const struct template *t, json_t *dot, template_header_fn header_fn, char **ret,
                 struct st_error **err)
{
        struct tmpl_state s = { .t = t, .header_fn = header_fn, .root = dot, .err = err };
        int r;

        var_push(&s, "$", dot);
        r = exec_list(&s, t->root, dot);
        vars_pop(&s, 0);
        free(s.vars);
        *ret = s.out.p ? s.out.p : xstrdup("");
        return r;
}

int template_render(const struct template *t, json_t *dot, char **ret, struct st_error **err)
{
        char *out = NULL;
        int r = tmpl_execute(t, dot, NULL, &out, err);

        if (r < 0) {
                free(out);
                return r;
        }
        *ret = out;
        return 0;
}
