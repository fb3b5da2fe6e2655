/* The subset of Go's regexp syntax (Perl flags) that moby/patternmatcher can generate from a
 * .dockerignore pattern (this folder only): literals and escapes, '.', classes with ranges,
 * negation, POSIX and Perl classes, ^ $ \A \z \b \B, \Q...\E, groups, and the * + ? repeats.
 * Unicode classes (\pL) are not supported. Matching is a boolean search, in time proportional
 * to expression length times text length. */
#pragma once

#include <stdbool.h>

#include "basic/error.h"

struct goregex;

/* Compile RE (UTF-8). On a syntax error Go would report, ST_E_PARSE; on a construct outside the
 * subset, ST_E_UNSUPPORTED. *RET is freed with goregex_free. */
int goregex_compile(const char *re, struct goregex **ret, struct st_error **err);

/* Go's Regexp.MatchString: does RE match anywhere in TEXT. */
bool goregex_match(const struct goregex *re, const char *text);

/* Free RE; NULL-safe; returns NULL. */
struct goregex *goregex_free(struct goregex *re);
