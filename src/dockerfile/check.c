/* The checks BuildKit's instructions package makes on each parsed instruction (argument
 * counts, the flags each instruction takes, HEALTHCHECK options, stage names), in file order,
 * and the rule that only ARG may come before the first FROM. Errors point at the keyword, or
 * at the flag at fault. */
#include <ctype.h>
#include <strings.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"

enum flag_type {
        FLAG_BOOL,
        FLAG_STRING,
        FLAG_STRINGS, /* may be repeated */
};

struct flag_spec {
        const char *name;
        enum flag_type type;
};

static const struct flag_spec no_flags[] = { { NULL, 0 } };

static const struct flag_spec add_flags[] = {
        { "chown", FLAG_STRING },    { "chmod", FLAG_STRING },
        { "link", FLAG_BOOL },       { "keep-git-dir", FLAG_BOOL },
        { "checksum", FLAG_STRING }, { "unpack", FLAG_BOOL },
        { "exclude", FLAG_STRINGS }, { NULL, 0 },
};

static const struct flag_spec copy_flags[] = {
        { "chown", FLAG_STRING },
        { "from", FLAG_STRING },
        { "chmod", FLAG_STRING },
        { "link", FLAG_BOOL },
        { "exclude", FLAG_STRINGS },
        { "parents", FLAG_BOOL },
        { NULL, 0 },
};

static const struct flag_spec from_flags[] = { { "platform", FLAG_STRING }, { NULL, 0 } };

static const struct flag_spec run_flags[] = {
        { "mount", FLAG_STRINGS },
        { "network", FLAG_STRING },
        { "security", FLAG_STRING },
        { "device", FLAG_STRINGS },
        { NULL, 0 },
};

static const struct flag_spec health_flags[] = {
        { "interval", FLAG_STRING },     { "timeout", FLAG_STRING },
        { "start-period", FLAG_STRING }, { "start-interval", FLAG_STRING },
        { "retries", FLAG_STRING },      { NULL, 0 },
};

#define ierr(p, i, ...) df_parser_error(p, (i)->line, (i)->column, ST_E_PARSE, __VA_ARGS__)
#define ferr(p, f, ...) df_parser_error(p, (f)->line, (f)->column, ST_E_PARSE, __VA_ARGS__)

static int check_flag(struct parser *p, const struct dockerfile_instruction *i, size_t k,
                      const struct flag_spec *spec)
{
        const struct dockerfile_flag *f = &i->flags[k];
        while (spec->name && !streq(spec->name, f->name))
                spec++;
        if (!spec->name)
                return ferr(p, f, "unknown flag: --%s", f->name);
        for (size_t j = 0; j < k && spec->type != FLAG_STRINGS; j++)
                if (streq(i->flags[j].name, f->name))
                        return ferr(p, f, "duplicate flag specified: --%s", f->name);
        if (spec->type != FLAG_BOOL && !f->value)
                return ferr(p, f, "missing a value on flag: --%s", f->name);
        if (spec->type == FLAG_BOOL && f->value && !*f->value)
                return ferr(p, f, "missing a value on flag: --%s", f->name);
        if (spec->type == FLAG_BOOL && f->value && strcasecmp(f->value, "true") != 0 &&
            strcasecmp(f->value, "false") != 0)
                return ferr(p, f, "expecting boolean value for flag --%s, not: %s", f->name,
                            f->value);
        return 0;
}

/* BuildKit's BFlags.Parse against the flags SPEC allows. */
static int check_flags(struct parser *p, const struct dockerfile_instruction *i,
                       const struct flag_spec *spec)
{
        for (size_t k = 0; k < i->n_flags; k++) {
                int r = check_flag(p, i, k, spec);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ARG, STOPSIGNAL and HEALTHCHECK NONE never look at their flags in BuildKit. */
static void ignored_flags(struct parser *p, const struct dockerfile_instruction *i)
{
        if (i->n_flags > 0)
                df_parser_warn(p, "IgnoredFlags", i->line, "%s does not take flags: --%s, ignoring",
                               dockerfile_kind_to_string(i->kind), i->flags[0].name);
}

static const char *upper(const char *s, char *buf, size_t size)
{
        size_t k = 0;
        for (; s[k] && k + 1 < size; k++)
                buf[k] = (char)toupper((unsigned char)s[k]);
        buf[k] = 0;
        return buf;
}

static int check_pairs(struct parser *p, const struct dockerfile_instruction *i)
{
        const char *name = dockerfile_kind_to_string(i->kind);
        if (i->n_pairs == 0)
                return ierr(p, i, "%s requires at least one argument", name);
        for (size_t k = 0; k < i->n_pairs; k++)
                if (!*i->pairs[k].key)
                        return ierr(p, i, "%s names can not be blank", name);
        return 0;
}

static int check_env_label(struct parser *p, struct dockerfile_instruction *i)
{
        int r = check_flags(p, i, no_flags);
        return r < 0 ? r : check_pairs(p, i);
}

static int check_arg(struct parser *p, struct dockerfile_instruction *i)
{
        ignored_flags(p, i);
        return check_pairs(p, i);
}

static int exactly_one(struct parser *p, struct dockerfile_instruction *i)
{
        if (i->n_args != 1)
                return ierr(p, i, "%s requires exactly one argument",
                            dockerfile_kind_to_string(i->kind));
        return check_flags(p, i, no_flags);
}

static int check_stopsignal(struct parser *p, struct dockerfile_instruction *i)
{
        if (i->n_args != 1)
                return ierr(p, i, "STOPSIGNAL requires exactly one argument");
        ignored_flags(p, i);
        return 0;
}

static int at_least_one(struct parser *p, struct dockerfile_instruction *i)
{
        if (i->n_args == 0)
                return ierr(p, i, "%s requires at least one argument",
                            dockerfile_kind_to_string(i->kind));
        return check_flags(p, i, no_flags);
}

static int check_add_copy(struct parser *p, struct dockerfile_instruction *i)
{
        const char *name = dockerfile_kind_to_string(i->kind);
        struct heredoc_word h;
        if (i->n_args < 2)
                return ierr(p, i,
                            "%s requires at least two arguments, but only one was provided. "
                            "Destination could not be determined",
                            name);
        int r = check_flags(p, i, i->kind == DOCKERFILE_ADD ? add_flags : copy_flags);
        if (r < 0)
                return r;
        const char *dest = i->args[i->n_args - 1];
        if (df_heredoc_parse_word(dest, strlen(dest), &h) > 0) {
                free(h.name);
                return ierr(p, i, "%s cannot accept a heredoc as a destination", name);
        }
        return 0;
}

/* ^[a-z][a-z0-9-_.]*$ on the lower-cased name. */
static bool valid_stage_name(const char *s)
{
        if (!isalpha((unsigned char)*s))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
                        return false;
        return true;
}

static int check_from(struct parser *p, struct dockerfile_instruction *i)
{
        if (i->n_args == 3 && strcasecmp(i->args[1], "as") == 0) {
                if (!valid_stage_name(i->args[2])) {
                        _cleanup_free_ char *q = dockerfile_go_quote(i->args[2]);
                        return ierr(p, i,
                                    "invalid name for build stage: %s, name can't start with a "
                                    "number or contain symbols",
                                    q);
                }
        } else if (i->n_args != 1)
                return ierr(p, i, "FROM requires either one or three arguments");
        return check_flags(p, i, from_flags);
}

static int check_one(struct parser *p, struct dockerfile_instruction *i);

static int check_onbuild(struct parser *p, struct dockerfile_instruction *i)
{
        char kw[16];
        if (!i->trigger)
                return ierr(p, i, "ONBUILD requires at least one argument");
        int r = check_flags(p, i, no_flags);
        if (r < 0)
                return r;
        upper(i->trigger->keyword, kw, sizeof(kw));
        if (streq(kw, "ONBUILD"))
                return ierr(p, i, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (streq(kw, "MAINTAINER") || streq(kw, "FROM"))
                return ierr(p, i, "%s isn't allowed as an ONBUILD trigger", kw);
        return check_one(p, i->trigger);
}

/* The one thing BuildKit checks in --mount before expansion: from= names a stage or image,
 * never a variable ("from=$X" in the middle of a value). */
static int check_mount(struct parser *p, const struct dockerfile_flag *f)
{
        for (const char *field = f->value, *end; field; field = *end ? end + 1 : NULL) {
                end = field + strcspn(field, ",");
                if (strncasecmp(field, "from=", 5) != 0)
                        continue;
                const char *dollar = memchr(field + 5, '$', (size_t)(end - field - 5));
                if (dollar && dollar != end - 1)
                        return ferr(p, f,
                                    "'from' doesn't support variable expansion, define alias "
                                    "stage instead");
        }
        return 0;
}

static int check_run(struct parser *p, struct dockerfile_instruction *i)
{
        int r = check_flags(p, i, run_flags);
        for (size_t k = 0; k < i->n_flags && r >= 0; k++)
                if (streq(i->flags[k].name, "mount"))
                        r = check_mount(p, &i->flags[k]);
        if (r < 0)
                return r;
        const struct dockerfile_flag *net = dockerfile_instruction_flag(i, "network");
        const struct dockerfile_flag *sec = dockerfile_instruction_flag(i, "security");
        if (net && !streq(net->value, "default") && !streq(net->value, "none") &&
            !streq(net->value, "host")) {
                _cleanup_free_ char *q = dockerfile_go_quote(net->value);
                return ferr(p, net, "invalid network mode %s", q);
        }
        if (sec && !streq(sec->value, "sandbox") && !streq(sec->value, "insecure")) {
                _cleanup_free_ char *q = dockerfile_go_quote(sec->value);
                return ferr(p, sec, "security %s is not valid", q);
        }
        if (i->n_args == 0)
                return ierr(p, i, "RUN requires at least one argument");
        return 0;
}

static int check_cmd(struct parser *p, struct dockerfile_instruction *i)
{
        return check_flags(p, i, no_flags);
}

static int check_shell(struct parser *p, struct dockerfile_instruction *i)
{
        int r = check_flags(p, i, no_flags);
        if (r < 0)
                return r;
        if (i->n_args == 0)
                return ierr(p, i, "SHELL requires at least one argument");
        if (!i->exec_form)
                return ierr(p, i, "SHELL requires the arguments to be in JSON form");
        return 0;
}

/* Go's strconv.ParseInt(s, 10, 32). */
static int parse_int32(const char *s, long *ret)
{
        const char *d = s + (*s == '+' || *s == '-');
        long v = 0;
        if (!*d)
                return -EINVAL;
        for (; *d; d++) {
                if (!isdigit((unsigned char)*d))
                        return -EINVAL;
                if (v > 2147483648L)
                        return -ERANGE;
                v = v * 10 + (*d - '0');
        }
        v = *s == '-' ? -v : v;
        if (v > 2147483647L || v < -2147483648L)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int check_durations(struct parser *p, const struct dockerfile_instruction *i)
{
        static const char *const names[] = { "interval", "timeout", "start-period",
                                             "start-interval" };
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                const struct dockerfile_flag *f = dockerfile_instruction_flag(i, names[k]);
                int64_t ns;
                if (!f || !*f->value)
                        continue;
                if (dockerfile_parse_duration(f->value, &ns) < 0) {
                        _cleanup_free_ char *q = dockerfile_go_quote(f->value);
                        return ferr(p, f, "time: invalid duration %s", q);
                }
                if (ns != 0 && ns < 1000000)
                        return ferr(p, f, "Interval \"%s\" cannot be less than 1ms", f->name);
        }
        return 0;
}

static int check_retries(struct parser *p, const struct dockerfile_instruction *i)
{
        const struct dockerfile_flag *f = dockerfile_instruction_flag(i, "retries");
        long v;
        if (!f || !*f->value)
                return 0;
        int r = parse_int32(f->value, &v);
        if (r < 0) {
                _cleanup_free_ char *q = dockerfile_go_quote(f->value);
                return ferr(p, f, "strconv.ParseInt: parsing %s: %s", q,
                            r == -ERANGE ? "value out of range" : "invalid syntax");
        }
        if (v < 0)
                return ferr(p, f, "--retries cannot be negative (%ld)", v);
        return 0;
}

static int check_healthcheck(struct parser *p, struct dockerfile_instruction *i)
{
        char typ[16];
        if (i->n_args == 0)
                return ierr(p, i, "HEALTHCHECK requires at least one argument");
        upper(i->args[0], typ, sizeof(typ));
        if (streq(typ, "NONE")) {
                if (i->n_args != 1)
                        return ierr(p, i, "HEALTHCHECK NONE takes no arguments");
                ignored_flags(p, i);
                return 0;
        }
        int r = check_flags(p, i, health_flags);
        if (r < 0)
                return r;
        if (!streq(typ, "CMD")) {
                _cleanup_free_ char *q = dockerfile_go_quote(i->args[0]);
                for (char *c = q; *c; c++)
                        *c = (char)toupper((unsigned char)*c);
                return ierr(p, i, "Unknown type %s in HEALTHCHECK (try CMD)", q);
        }
        if (i->n_args < 2)
                return ierr(p, i, "Missing command after HEALTHCHECK CMD");
        r = check_durations(p, i);
        return r < 0 ? r : check_retries(p, i);
}

/* A port or range as BuildKit's parsePortRange: N or N-M, 0 <= N <= M <= 65535. */
static bool port_range_ok(const char *s, size_t n, long *ret_count)
{
        const char *dash = memchr(s, '-', n);
        long v[2] = { 0, 0 };
        for (int k = 0; k < 2; k++) {
                const char *a = k == 0 ? s : dash + 1, *b = k == 0 && dash ? dash : s + n;
                a += a < b && *a == '+';
                if (a == b)
                        return false;
                for (; a < b; a++) {
                        if (!isdigit((unsigned char)*a))
                                return false;
                        v[k] = v[k] * 10 + (*a - '0');
                        if (v[k] > 65535)
                                return false;
                }
                if (!dash) {
                        v[1] = v[0];
                        break;
                }
        }
        *ret_count = v[1] - v[0];
        return v[1] >= v[0];
}

/* A literal EXPOSE word, [[ip:]hostport:]port[-port][/proto], as BuildKit checks it after
 * expansion; words that expansion could change are left to the build. */
static int check_port(struct parser *p, const struct dockerfile_instruction *i, const char *w)
{
        const char *colon = strrchr(w, ':'), *port = colon ? colon + 1 : w;
        const char *slash = strchr(port, '/');
        size_t pn = slash ? (size_t)(slash - port) : strlen(port);
        long count, host_count;
        if (strpbrk(w, "$'\"\\`"))
                return 0;
        if (pn == 0)
                return ierr(p, i, "invalid port: \"%s\": no port specified", w);
        if (slash && slash[1] && strcasecmp(slash + 1, "tcp") && strcasecmp(slash + 1, "udp") &&
            strcasecmp(slash + 1, "sctp"))
                return ierr(p, i, "invalid port: \"%s\": invalid proto: %s", w, slash + 1);
        if (!port_range_ok(port, pn, &count))
                return ierr(p, i, "invalid containerPort: %.*s", (int)pn, port);
        const char *host = colon;
        while (host && host > w && host[-1] != ':')
                host--;
        if (!colon || host == colon)
                return 0;
        if (!port_range_ok(host, (size_t)(colon - host), &host_count))
                return ierr(p, i, "invalid hostPort: %.*s", (int)(colon - host), host);
        if (count != host_count && count != 0)
                return ierr(p, i,
                            "invalid ranges specified for container and host Ports: %.*s and %.*s",
                            (int)pn, port, (int)(colon - host), host);
        return 0;
}

static int check_expose(struct parser *p, struct dockerfile_instruction *i)
{
        int r = at_least_one(p, i);
        for (size_t k = 0; k < i->n_args && r >= 0; k++)
                r = check_port(p, i, i->args[k]);
        return r;
}

static int check_volume(struct parser *p, struct dockerfile_instruction *i)
{
        int r = at_least_one(p, i);
        for (size_t k = 0; k < i->n_args && r >= 0; k++) {
                const char *s = i->args[k];
                size_t n = strlen(s);
                df_trim_uspace(&s, &n);
                if (n == 0)
                        r = ierr(p, i, "VOLUME specified can not be an empty string");
        }
        return r;
}

static int check_maintainer(struct parser *p, struct dockerfile_instruction *i)
{
        return exactly_one(p, i);
}

typedef int (*check_fn)(struct parser *p, struct dockerfile_instruction *i);

static const check_fn checks[_DOCKERFILE_KIND_MAX] = {
        [DOCKERFILE_ADD] = check_add_copy,
        [DOCKERFILE_ARG] = check_arg,
        [DOCKERFILE_CMD] = check_cmd,
        [DOCKERFILE_COPY] = check_add_copy,
        [DOCKERFILE_ENTRYPOINT] = check_cmd,
        [DOCKERFILE_ENV] = check_env_label,
        [DOCKERFILE_EXPOSE] = check_expose,
        [DOCKERFILE_FROM] = check_from,
        [DOCKERFILE_HEALTHCHECK] = check_healthcheck,
        [DOCKERFILE_LABEL] = check_env_label,
        [DOCKERFILE_MAINTAINER] = check_maintainer,
        [DOCKERFILE_ONBUILD] = check_onbuild,
        [DOCKERFILE_RUN] = check_run,
        [DOCKERFILE_SHELL] = check_shell,
        [DOCKERFILE_STOPSIGNAL] = check_stopsignal,
        [DOCKERFILE_USER] = exactly_one,
        [DOCKERFILE_VOLUME] = check_volume,
        [DOCKERFILE_WORKDIR] = exactly_one,
};

static int check_one(struct parser *p, struct dockerfile_instruction *i)
{
        if (i->kind < 0 || i->kind >= _DOCKERFILE_KIND_MAX)
                return ierr(p, i, "unknown instruction: %s", i->keyword);
        return checks[i->kind](p, i);
}

int df_check(struct parser *p)
{
        struct dockerfile_instruction *ins = p->instructions.p;
        bool stage = false;
        for (size_t k = 0; k < p->instructions.n; k++) {
                struct dockerfile_instruction *i = &ins[k];
                int r = check_one(p, i);
                if (r < 0)
                        return r;
                if (i->kind == DOCKERFILE_FROM)
                        stage = true;
                else if (!stage && i->kind != DOCKERFILE_ARG)
                        return ierr(p, i,
                                    "no build stage in current context: %s before the first "
                                    "FROM (only ARG may come first)",
                                    i->keyword);
        }
        if (!stage)
                return ierr(p, &ins[0], "dockerfile contains no stages to build: no FROM");
        return 0;
}
