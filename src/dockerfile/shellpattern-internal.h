/* The wildcard patterns of ${VAR#pat} ${VAR%pat} ${VAR/pat/repl} (this folder only). BuildKit
 * turns them into Go regular expressions ('*' is .* or .*?, '?' is ., so neither matches a
 * newline) and takes the leftmost-first match; this computes the same match directly, in time
 * proportional to pattern length times value length, charged against *BUDGET. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/* ${V#p} (GREEDY: ${V##p}): VALUE without its shortest (longest) prefix matching PATTERN, in
 * *RET (caller frees). ST_E_PARSE for a bad escape in PATTERN, ST_E_TOO_BIG when *BUDGET runs
 * out. */
int shell_trim_prefix(const char *pattern, const char *value, bool greedy, uint64_t *budget,
                      char **ret, struct st_error **err);

/* ${V%p} (GREEDY: ${V%%p}): VALUE without its shortest (longest) suffix matching PATTERN. Like
 * BuildKit, which reverses the string, invalid UTF-8 in VALUE comes back as U+FFFD. */
int shell_trim_suffix(const char *pattern, const char *value, bool greedy, uint64_t *budget,
                      char **ret, struct st_error **err);

/* ${V/p/r} (ALL: ${V//p/r}): VALUE with the first (every) match of PATTERN replaced by REPL.
 * With ALL, "$0" in REPL stands for the match and other "$name" for nothing, as Go's
 * Regexp.ReplaceAllString does. The result may not exceed MAX bytes (ST_E_TOO_BIG). */
int shell_replace(const char *pattern, const char *repl, const char *value, bool all, size_t max,
                  uint64_t *budget, char **ret, struct st_error **err);
