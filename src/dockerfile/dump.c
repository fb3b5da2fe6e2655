/* The s-expression dump of BuildKit's parser tests (Node.Dump): one line per instruction, the
 * keyword lower-cased, the flags as Go prints a []string with %q, then every argument quoted
 * as Go's strconv.Quote does. strata adds the heredoc contents after the arguments (BuildKit's
 * dump leaves them out). */
#include <ctype.h>
#include <string.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"

static void quote(struct sbuf *b, const char *s)
{
        df_sbuf_putc(b, ' ');
        df_go_quote_append(b, s, strlen(s));
}

static void dump_flags(struct sbuf *b, const struct dockerfile_instruction *i)
{
        struct sbuf f = { 0 };
        if (i->n_flags == 0)
                return;
        df_sbuf_puts(b, " [");
        for (size_t k = 0; k < i->n_flags; k++) {
                f.len = 0;
                df_sbuf_puts(&f, "--");
                df_sbuf_puts(&f, i->flags[k].name);
                if (i->flags[k].value) {
                        df_sbuf_putc(&f, '=');
                        df_sbuf_puts(&f, i->flags[k].value);
                }
                if (k > 0)
                        df_sbuf_putc(b, ' ');
                df_go_quote_append(b, f.s, f.len);
        }
        df_sbuf_putc(b, ']');
        df_sbuf_release(&f);
}

static void dump_pairs(struct sbuf *b, const struct dockerfile_instruction *i)
{
        struct sbuf w = { 0 };
        for (size_t k = 0; k < i->n_pairs; k++) {
                const struct dockerfile_pair *pr = &i->pairs[k];
                if (i->kind != DOCKERFILE_ARG) {
                        quote(b, pr->key);
                        quote(b, pr->value);
                        quote(b, pr->legacy ? "" : "=");
                        continue;
                }
                w.len = 0;
                df_sbuf_puts(&w, pr->key);
                if (pr->value) {
                        df_sbuf_putc(&w, '=');
                        df_sbuf_puts(&w, pr->value);
                }
                quote(b, df_sbuf_cstr(&w));
        }
        df_sbuf_release(&w);
}

static void dump_instruction(struct sbuf *b, const struct dockerfile_instruction *i)
{
        for (const char *c = i->keyword; *c; c++)
                df_sbuf_putc(b, (char)tolower((unsigned char)*c));
        dump_flags(b, i);
        dump_pairs(b, i);
        for (size_t k = 0; k < i->n_args; k++)
                quote(b, i->args[k]);
        if (i->trigger) {
                df_sbuf_puts(b, " (");
                dump_instruction(b, i->trigger);
                df_sbuf_putc(b, ')');
        }
        for (size_t k = 0; k < i->n_heredocs; k++)
                quote(b, i->heredocs[k].content);
}

char *dockerfile_dump(const struct dockerfile *df)
{
        struct sbuf b = { 0 };
        for (size_t k = 0; k < df->n_instructions; k++) {
                df_sbuf_putc(&b, '(');
                dump_instruction(&b, &df->instructions[k]);
                df_sbuf_puts(&b, ")\n");
        }
        return b.s ? b.s : xstrdup("");
}
