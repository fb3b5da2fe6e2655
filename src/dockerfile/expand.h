/* Docker's word expansion: the rules BuildKit's shell lexer (frontend/dockerfile/shell) applies
 * to the arguments of ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR ONBUILD and
 * to flag values. Pure: variables come from a callback, nothing is read or written elsewhere.
 *
 * Supported: $VAR and ${VAR}; ${VAR:-word} ${VAR-word} ${VAR:+word} ${VAR+word} ${VAR:?msg}
 * ${VAR?msg}; ${VAR#pat} ${VAR##pat} ${VAR%pat} ${VAR%%pat} ${VAR/pat/repl} ${VAR//pat/repl}
 * with * and ? wildcards; words nested in words; single quotes (literal), double quotes
 * (expanded), the Dockerfile's escape character; special parameters ($1, $@, $#, ...) are looked
 * up like any name. docs/dockerfile-expansion.md has the details and the deviations. */
#pragma once

#include "basic/error.h"

/* Largest input word, and largest result, in bytes: beyond it ST_E_TOO_BIG. */
#define DOCKERFILE_EXPAND_MAX_SIZE (1024 * 1024)
/* Deepest nesting of ${...} inside ${...}: beyond it ST_E_TOO_BIG. */
#define DOCKERFILE_EXPAND_MAX_DEPTH 100

/* The value of variable NAME, or NULL when it is unset (an empty string is set: ${V-x} keeps it,
 * ${V:-x} does not). The string is borrowed and must stay valid until the expansion returns. */
typedef const char *(*dockerfile_lookup_fn)(void *userdata, const char *name);

/* Expand WORD as BuildKit's ProcessWord: variables substituted, quotes and escapes removed,
 * whitespace kept. ESCAPE is the Dockerfile's escape character ('\\' or '`'). On success *RET is
 * the result (caller frees) and, if RET_USED is non-NULL, *RET_USED a sorted strv of every name
 * that was looked up, set or not (caller frees; NULL when there was none). Errors: ST_E_PARSE
 * for bad syntax and for ${VAR?msg}, ST_E_TOO_BIG past the caps above. */
int dockerfile_expand_word(const char *word, char escape, dockerfile_lookup_fn lookup,
                           void *userdata, char **ret, char ***ret_used, struct st_error **err);

/* Expand TEXT as BuildKit's ProcessWords: as dockerfile_expand_word, then split into fields at
 * unquoted, unescaped whitespace, also inside variable values ("$A" keeps a value whole, $A
 * splits it). *RET is a strv of the non-empty fields (caller frees; an empty strv, not NULL,
 * when there is none); RET_USED as above. */
int dockerfile_expand_words(const char *text, char escape, dockerfile_lookup_fn lookup,
                            void *userdata, char ***ret, char ***ret_used, struct st_error **err);

/* Expand the content of a COPY/ADD heredoc as BuildKit does (ProcessWord with
 * SkipProcessQuotes and '\\' as the escape, whatever the Dockerfile's): variables substituted,
 * quotes kept as written, backslash escapes removed. Caller frees *RET. */
int dockerfile_expand_heredoc(const char *text, dockerfile_lookup_fn lookup, void *userdata,
                              char **ret, struct st_error **err);
