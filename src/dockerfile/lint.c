/* The warnings of BuildKit's build checks that need no build context: deprecated or
 * discouraged forms, instruction and stage-name casing, instructions that override each
 * other. Rule names are BuildKit's, so that "# check=skip=RULE" works as with docker. */
#include <ctype.h>
#include <strings.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"

struct stage {
        bool shell_set; /* a SHELL came before: no JSONArgsRecommended */
        const struct dockerfile_instruction *cmd, *entrypoint, *healthcheck; /* the last ones */
};

static bool all_case(const char *s, int (*conv)(int))
{
        for (; *s; s++)
                if (conv((unsigned char)*s) != (unsigned char)*s)
                        return false;
        return true;
}

/* ConsistentInstructionCasing: the keywords of the stages against the majority. */
static void lint_casing(struct parser *p, const struct dockerfile_instruction *ins, size_t n,
                        size_t first)
{
        size_t lower = 0, upper = 0;
        for (size_t k = first; k < n; k++) {
                if (all_case(ins[k].keyword, tolower))
                        lower++;
                else if (all_case(ins[k].keyword, toupper))
                        upper++;
        }
        bool major_lower = lower > upper;
        for (size_t k = first; k < n; k++) {
                const char *kw = ins[k].keyword;
                if (major_lower && !all_case(kw, tolower))
                        df_parser_warn(p, "ConsistentInstructionCasing", ins[k].line,
                                       "Command '%s' should match the case of the command majority "
                                       "(lowercase)",
                                       kw);
                else if (!major_lower && !all_case(kw, toupper))
                        df_parser_warn(p, "ConsistentInstructionCasing", ins[k].line,
                                       "Command '%s' should match the case of the command majority "
                                       "(uppercase)",
                                       kw);
        }
}

static bool stage_name_seen(const struct vec *names, const char *name)
{
        const char *const *n = names->p;
        for (size_t j = 0; j < names->n; j++)
                if (strcasecmp(n[j], name) == 0)
                        return true;
        return false;
}

static void lint_from(struct parser *p, const struct dockerfile_instruction *i, struct vec *names)
{
        if (i->n_args != 3)
                return;
        const char *as = i->args[1], *name = i->args[2];
        if (!all_case(name, tolower))
                df_parser_warn(p, "StageNameCasing", i->line, "Stage name '%s' should be lowercase",
                               name);
        bool from_lower = all_case(i->keyword, tolower), from_upper = all_case(i->keyword, toupper);
        if ((from_lower && !all_case(as, tolower)) ||
            (!from_lower && from_upper && !all_case(as, toupper)))
                df_parser_warn(p, "FromAsCasing", i->line,
                               "'%s' and '%s' keywords' casing do not match", as, i->keyword);
        if (strcasecmp(name, "scratch") == 0 || strcasecmp(name, "context") == 0)
                df_parser_warn(p, "ReservedStageName", i->line,
                               "Stage name should not use the same name as reserved stage \"%s\"",
                               name);
        if (stage_name_seen(names, name))
                df_parser_warn(p, "DuplicateStageName", i->line,
                               "Duplicate stage name \"%s\", stage names should be unique", name);
        *(const char **)df_vec_push(names, sizeof(char *)) = name;
}

/* MultipleInstructionsDisallowed: reported at the earlier one, which has no effect. */
static void used_once(struct parser *p, const struct dockerfile_instruction **last,
                      const struct dockerfile_instruction *i)
{
        if (*last)
                df_parser_warn(p, "MultipleInstructionsDisallowed", (*last)->line,
                               "Multiple %s instructions should not be used in the same stage "
                               "because only the last one will be used",
                               i->keyword);
        *last = i;
}

static void lint_expose(struct parser *p, const struct dockerfile_instruction *i)
{
        for (size_t k = 0; k < i->n_args; k++) {
                const char *w = i->args[k], *colon = strrchr(w, ':');
                const char *slash = strchr(colon ? colon + 1 : w, '/');
                if (strpbrk(w, "$'\"\\`"))
                        continue;
                if (slash && !all_case(slash + 1, tolower))
                        df_parser_warn(p, "ExposeProtoCasing", i->line,
                                       "Defined protocol '%s' in EXPOSE instruction should be "
                                       "lowercase",
                                       w);
                if (colon && strspn(w, ":") != (size_t)(colon - w) + 1)
                        df_parser_warn(p, "ExposeInvalidFormat", i->line,
                                       "EXPOSE instruction should not define an IP address or "
                                       "host-port mapping, found '%s'",
                                       w);
        }
}

static void lint_instruction(struct parser *p, struct stage *st,
                             const struct dockerfile_instruction *i)
{
        switch (i->kind) {
        case DOCKERFILE_MAINTAINER:
                df_parser_warn(p, "MaintainerDeprecated", i->line,
                               "MAINTAINER is deprecated, use LABEL");
                break;
        case DOCKERFILE_CMD:
        case DOCKERFILE_ENTRYPOINT:
                used_once(p, i->kind == DOCKERFILE_CMD ? &st->cmd : &st->entrypoint, i);
                if (!i->exec_form && !st->shell_set)
                        df_parser_warn(p, "JSONArgsRecommended", i->line,
                                       "JSON arguments recommended for %s to prevent unintended "
                                       "behavior related to OS signals",
                                       i->keyword);
                break;
        case DOCKERFILE_HEALTHCHECK:
                used_once(p, &st->healthcheck, i);
                break;
        case DOCKERFILE_SHELL:
                st->shell_set = true;
                break;
        case DOCKERFILE_ENV:
        case DOCKERFILE_LABEL:
                if (i->n_pairs > 0 && i->pairs[0].legacy)
                        df_parser_warn(p, "LegacyKeyValueFormat", i->line,
                                       "\"%s key=value\" should be used instead of legacy \"%s key "
                                       "value\" format",
                                       i->keyword, i->keyword);
                break;
        case DOCKERFILE_EXPOSE:
                lint_expose(p, i);
                break;
        default:
                break;
        }
}

void df_lint(struct parser *p)
{
        const struct dockerfile_instruction *ins = p->instructions.p;
        size_t n = p->instructions.n, first = n;
        struct stage st = { 0 };
        struct vec names = { 0 };
        for (size_t k = 0; k < n; k++) {
                if (ins[k].kind == DOCKERFILE_FROM) {
                        first = MIN(first, k);
                        st = (struct stage){ 0 };
                        lint_from(p, &ins[k], &names);
                } else
                        lint_instruction(p, &st, &ins[k]);
        }
        free(names.p);
        lint_casing(p, ins, n, first);
}
