/* The Dockerfile parser: a buffer in, a tree of instructions (or one positioned error) out,
 * reading Dockerfiles exactly as BuildKit's Dockerfile frontend (syntax 1.x) does. Pure: no I/O,
 * no printing, and no variable expansion; every string keeps the raw text (quotes, escapes,
 * `$VAR`) for the expansion and build-plan steps. docs/dockerfile.md has the rules.
 *
 * Usage:
 *
 *     struct dockerfile *df = NULL;
 *     if (dockerfile_parse("Dockerfile", buf, len, &df, &err) < 0)
 *             ...           err->msg is "Dockerfile:12:5: unknown instruction: FROMM"
 *     for (size_t i = 0; i < df->n_instructions; i++)
 *             ...           df->instructions[i].kind, .args, .flags, .pairs, .heredocs
 *     dockerfile_free(df);
 *
 * Memory: every string and array reachable from a struct dockerfile is owned by it and freed
 * by dockerfile_free; callers never free them one by one.
 *
 * Positions: lines count from 1; columns count characters (UTF-8 code points) from 1. */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/* Hard caps on untrusted input; beyond them dockerfile_parse fails with ST_E_TOO_BIG. */
#define DOCKERFILE_SIZE_MAX         (8u << 20) /* bytes in the whole file */
#define DOCKERFILE_LINE_MAX         65535      /* bytes in one physical line (BuildKit's cap) */
#define DOCKERFILE_INSTRUCTIONS_MAX 100000     /* instructions, ONBUILD triggers included */
#define DOCKERFILE_HEREDOCS_MAX     10000      /* heredocs in the whole file */

/* The instructions, in the order of Docker's reference. */
enum dockerfile_kind {
        DOCKERFILE_ADD,
        DOCKERFILE_ARG,
        DOCKERFILE_CMD,
        DOCKERFILE_COPY,
        DOCKERFILE_ENTRYPOINT,
        DOCKERFILE_ENV,
        DOCKERFILE_EXPOSE,
        DOCKERFILE_FROM,
        DOCKERFILE_HEALTHCHECK,
        DOCKERFILE_LABEL,
        DOCKERFILE_MAINTAINER,
        DOCKERFILE_ONBUILD,
        DOCKERFILE_RUN,
        DOCKERFILE_SHELL,
        DOCKERFILE_STOPSIGNAL,
        DOCKERFILE_USER,
        DOCKERFILE_VOLUME,
        DOCKERFILE_WORKDIR,
        _DOCKERFILE_KIND_MAX,
        _DOCKERFILE_KIND_INVALID = -EINVAL,
};

/* A flag before the arguments: "--from=build" is { "from", "build" }, a bare "--link" is
 * { "link", NULL }. Quotes and escapes in the word are removed, as BuildKit does. */
struct dockerfile_flag {
        char *name;
        char *value;
        unsigned line, column;
};

/* A key and value of ENV or LABEL, or an ARG name and its default. Raw text: `ENV A="x y"`
 * gives the value "\"x y\"", quotes included. */
struct dockerfile_pair {
        char *key;
        char *value; /* NULL only for an ARG without a default */
        bool legacy; /* ENV/LABEL in the legacy "key value" form (no '=') */
};

/* A here-document of RUN, COPY or ADD: `<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`. */
struct dockerfile_heredoc {
        char *name;    /* the delimiter, quotes removed: "EOF" */
        char *content; /* the lines up to the delimiter, each with its newline, as written */
        unsigned fd;   /* "3<<EOF" gives 3; 0 when no number was written */
        bool expand;   /* false if any part of the delimiter was quoted: no expansion */
        bool chomp;    /* "<<-": leading tabs are stripped (dockerfile_heredoc_text does it) */
};

/* One instruction. What args holds depends on the kind:
 *   RUN CMD ENTRYPOINT SHELL   exec form: one string per JSON element; shell form: one string,
 *                              the rest of the line (none for a bare "CMD")
 *   HEALTHCHECK                args[0] is the type as written ("CMD", "NONE"); then as RUN
 *   COPY ADD VOLUME            exec form: the JSON elements; otherwise the whitespace-separated
 *                              words (COPY/ADD: sources, then the destination)
 *   FROM                       image [AS name];  EXPOSE: the ports as written
 *   USER WORKDIR STOPSIGNAL
 *   MAINTAINER                 one string: the rest of the line
 *   ENV LABEL ARG              none; see pairs
 *   ONBUILD                    none; see trigger */
struct dockerfile_instruction {
        enum dockerfile_kind kind;
        char *keyword;         /* as written: "run", "Copy" */
        char *original;        /* the text, continuation lines joined (BuildKit's Original) */
        unsigned line, column; /* where the keyword starts */
        unsigned end_line;     /* the last line, continuations and heredoc bodies included */
        struct dockerfile_flag *flags;
        size_t n_flags;
        bool exec_form; /* the arguments were a JSON array of strings */
        char **args;    /* NULL-terminated */
        size_t n_args;
        struct dockerfile_pair *pairs;
        size_t n_pairs;
        struct dockerfile_heredoc *heredocs;
        size_t n_heredocs;
        struct dockerfile_instruction *trigger; /* ONBUILD: the wrapped instruction */
};

/* A parser directive from the top of the file: "# syntax=docker/dockerfile:1". */
struct dockerfile_directive {
        char *name; /* lower case: "syntax", "escape" or "check" */
        char *value;
        unsigned line;
};

/* A warning Docker prints for a valid Dockerfile; RULE is BuildKit's check name. */
struct dockerfile_warning {
        const char *rule; /* "MaintainerDeprecated", "JSONArgsRecommended", ... (static) */
        char *message;    /* "MAINTAINER is deprecated, use LABEL" */
        unsigned line;
};

struct dockerfile_arena;

/* A parsed Dockerfile. */
struct dockerfile {
        char *filename; /* as given to dockerfile_parse, for messages */
        char escape;    /* the escape character: '\\' or '`' */
        struct dockerfile_directive *directives;
        size_t n_directives;
        struct dockerfile_instruction *instructions;
        size_t n_instructions;
        struct dockerfile_warning *warnings; /* minus those "# check=skip=..." turns off */
        size_t n_warnings;
        bool check_error; /* "# check=error=true": the build must fail if there are warnings */
        struct dockerfile_arena *arena;
};

/* Parse LEN bytes of BUF (not NUL-terminated; at most DOCKERFILE_SIZE_MAX). FILENAME only names
 * the file in messages. On success *ret is a new tree the caller frees with dockerfile_free;
 * warnings are in it. Errors are ST_E_PARSE (or ST_E_TOO_BIG for a cap), and the message
 * starts with "FILENAME:LINE:COLUMN: " and says what is wrong. */
int dockerfile_parse(const char *filename, const char *buf, size_t len, struct dockerfile **ret,
                     struct st_error **err);

/* Free DF and everything in it; NULL-safe; returns NULL. */
struct dockerfile *dockerfile_free(struct dockerfile *df);

/* The s-expression dump of Docker's parser tests, one line per instruction:
 * `(copy ["--from=build"] "/out" "/usr/bin/")`; ENV/LABEL as key, value, separator triples;
 * ONBUILD nests its trigger; heredoc contents follow the arguments. Caller frees. */
char *dockerfile_dump(const struct dockerfile *df);

/* The tree as JSON (file, escape, directives, instructions with line ranges, warnings), for
 * tools; docs/dockerfile.md shows its shape. A new reference the caller owns. */
json_t *dockerfile_to_json(const struct dockerfile *df);

/* "RUN" for DOCKERFILE_RUN; NULL if out of range. Static. */
const char *dockerfile_kind_to_string(enum dockerfile_kind k);

/* The kind named S in any case ("run", "Run"); _DOCKERFILE_KIND_INVALID if none. */
enum dockerfile_kind dockerfile_kind_from_string(const char *s);

/* The last flag of I named NAME ("from"), or NULL (borrowed from I). */
const struct dockerfile_flag *dockerfile_instruction_flag(const struct dockerfile_instruction *i,
                                                          const char *name);

/* H's content as the build uses it: leading tabs stripped from every line for "<<-";
 * caller frees. */
char *dockerfile_heredoc_text(const struct dockerfile_heredoc *h);

/* Parse a Go duration ("1m30s", "1.5h", "300ms", "0") into nanoseconds, as Go's
 * time.ParseDuration; -EINVAL if malformed, -ERANGE if it overflows. */
int dockerfile_parse_duration(const char *s, int64_t *ret_ns);

/* S quoted as Go's strconv.Quote (and fmt's %q) does: "\"a\\tb\"", invalid UTF-8 bytes as
 * \xNN, non-printable characters as \uNNNN; caller frees. */
char *dockerfile_go_quote(const char *s);

DEFINE_CLEANUP_FUNC(struct dockerfile *, dockerfile_free)
#define _cleanup_dockerfile_ _cleanup_(dockerfile_freep)
