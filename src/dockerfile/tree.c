/* The parsed tree: freeing it, small lookups, and its JSON form for `--json`. */
#include <string.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"
#include "json/json.h"

struct dockerfile *dockerfile_free(struct dockerfile *df)
{
        if (df) {
                free(df->instructions);
                df_arena_free(df->arena);
                free(df);
        }
        return NULL;
}

const struct dockerfile_flag *dockerfile_instruction_flag(const struct dockerfile_instruction *i,
                                                          const char *name)
{
        for (size_t k = i->n_flags; k-- > 0;)
                if (streq(i->flags[k].name, name))
                        return &i->flags[k];
        return NULL;
}

char *dockerfile_heredoc_text(const struct dockerfile_heredoc *h)
{
        struct sbuf b = { 0 };
        const char *s = h->content;
        if (!h->chomp)
                return xstrdup(s);
        while (*s) {
                s += strspn(s, "\t");
                size_t n = strcspn(s, "\n");
                df_sbuf_put(&b, s, n + (s[n] == '\n'));
                s += n + (s[n] == '\n');
        }
        return b.s ? b.s : xstrdup("");
}

/* A JSON string; invalid UTF-8 becomes U+FFFD, as Go's encoder does. */
static json_t *jstr(const char *s)
{
        json_t *j = json_string(s);
        if (j)
                return j;
        struct sbuf b = { 0 };
        size_t n = strlen(s), w;
        for (size_t k = 0; k < n; k += w) {
                int32_t r = df_utf8_decode(s + k, n - k, &w);
                if (r < 0)
                        df_sbuf_rune(&b, RUNE_ERROR);
                else
                        df_sbuf_put(&b, s + k, w);
        }
        j = json_string(df_sbuf_cstr(&b));
        df_sbuf_release(&b);
        return j;
}

static json_t *flags_json(const struct dockerfile_instruction *i)
{
        json_t *a = json_array();
        for (size_t k = 0; k < i->n_flags; k++) {
                const struct dockerfile_flag *f = &i->flags[k];
                json_array_append_new(a, json_pack("{s:o, s:o, s:I, s:I}", "name", jstr(f->name),
                                                   "value", f->value ? jstr(f->value) : json_null(),
                                                   "line", (json_int_t)f->line, "column",
                                                   (json_int_t)f->column));
        }
        return a;
}

static json_t *pairs_json(const struct dockerfile_instruction *i)
{
        json_t *a = json_array();
        for (size_t k = 0; k < i->n_pairs; k++) {
                const struct dockerfile_pair *pr = &i->pairs[k];
                json_t *o = json_pack("{s:o, s:o}", "key", jstr(pr->key), "value",
                                      pr->value ? jstr(pr->value) : json_null());
                if (i->kind != DOCKERFILE_ARG)
                        json_object_set_new(o, "legacy", json_boolean(pr->legacy));
                json_array_append_new(a, o);
        }
        return a;
}

static json_t *heredocs_json(const struct dockerfile_instruction *i)
{
        json_t *a = json_array();
        for (size_t k = 0; k < i->n_heredocs; k++) {
                const struct dockerfile_heredoc *h = &i->heredocs[k];
                json_array_append_new(a, json_pack("{s:o, s:o, s:I, s:b, s:b}", "name",
                                                   jstr(h->name), "content", jstr(h->content), "fd",
                                                   (json_int_t)h->fd, "expand", h->expand, "chomp",
                                                   h->chomp));
        }
        return a;
}

static json_t *instruction_json(const struct dockerfile_instruction *i)
{
        json_t *o = json_pack("{s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:b}", "kind",
                              dockerfile_kind_to_string(i->kind), "keyword", jstr(i->keyword),
                              "line", (json_int_t)i->line, "column", (json_int_t)i->column,
                              "end_line", (json_int_t)i->end_line, "original", jstr(i->original),
                              "flags", flags_json(i), "exec_form", i->exec_form);
        json_t *args = json_array();
        for (size_t k = 0; k < i->n_args; k++)
                json_array_append_new(args, jstr(i->args[k]));
        json_object_set_new(o, "args", args);
        if (i->kind == DOCKERFILE_ENV || i->kind == DOCKERFILE_LABEL || i->kind == DOCKERFILE_ARG)
                json_object_set_new(o, "pairs", pairs_json(i));
        if (i->n_heredocs > 0)
                json_object_set_new(o, "heredocs", heredocs_json(i));
        if (i->trigger)
                json_object_set_new(o, "trigger", instruction_json(i->trigger));
        return o;
}

json_t *dockerfile_to_json(const struct dockerfile *df)
{
        char esc[2] = { df->escape, 0 };
        json_t *dirs = json_array(), *ins = json_array(), *warns = json_array();
        for (size_t k = 0; k < df->n_directives; k++)
                json_array_append_new(dirs,
                                      json_pack("{s:s, s:o, s:I}", "name", df->directives[k].name,
                                                "value", jstr(df->directives[k].value), "line",
                                                (json_int_t)df->directives[k].line));
        for (size_t k = 0; k < df->n_instructions; k++)
                json_array_append_new(ins, instruction_json(&df->instructions[k]));
        for (size_t k = 0; k < df->n_warnings; k++)
                json_array_append_new(warns,
                                      json_pack("{s:s, s:o, s:I}", "rule", df->warnings[k].rule,
                                                "message", jstr(df->warnings[k].message), "line",
                                                (json_int_t)df->warnings[k].line));
        return json_pack("{s:o, s:s, s:o, s:o, s:o, s:b}", "file", jstr(df->filename), "escape",
                         esc, "directives", dirs, "instructions", ins, "warnings", warns,
                         "check_error", df->check_error);
}
