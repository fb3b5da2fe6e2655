/* Allocation that aborts on OOM, string and string-vector helpers, number parsing. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"
#include "basic/macro.h"

/* malloc that aborts on OOM; caller frees. */
void *xmalloc(size_t n);
/* calloc that aborts on OOM (and on overflow of n*size); caller frees. */
void *xcalloc(size_t n, size_t size);
/* realloc that aborts on OOM; caller frees. */
void *xrealloc(void *p, size_t n);
/* strdup that aborts on OOM and maps NULL to NULL; caller frees. */
char *xstrdup(const char *s);
/* strndup that aborts on OOM; caller frees. */
char *xstrndup(const char *s, size_t n);
/* Formatted allocation that aborts on OOM; caller frees. */
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
/* va_list variant of xasprintf; caller frees. */
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

/* If S starts with PREFIX, the rest of S (borrowed), else NULL. */
const char *startswith(const char *s, const char *prefix);
/* True if S ends with SUFFIX. */
bool endswith(const char *s, const char *suffix);

/* NULL-terminated string vectors (char **), each string owned by the vector. */
size_t strv_length(char *const *l);
/* Append a copy of S to *L (which may be NULL). */
void strv_push(char ***l, const char *s);
/* Append S to *L, taking ownership of S. */
void strv_consume(char ***l, char *s);
/* The pieces of S between the characters of SEPS, empty ones dropped; caller frees. */
char **strv_split(const char *s, const char *seps);
/* True if L contains S. */
bool strv_contains(char *const *l, const char *s);
/* Deep copy of L (NULL for NULL); caller frees with strv_free. */
char **strv_copy(char *const *l);
/* Free L and its strings; NULL-safe; returns NULL. */
char **strv_free(char **l);

static inline void strv_freep(char ***l)
{
        strv_free(*l);
}

#define _cleanup_strv_     _cleanup_(strv_freep)
#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

/* Parse a decimal unsigned 64-bit number, the whole string; -EINVAL or -ERANGE on error. */
int parse_u64(const char *s, uint64_t *ret);
/* Parse a decimal int, the whole string; -EINVAL or -ERANGE on error. */
int parse_int(const char *s, int *ret);

/* Lower-case hex of LEN bytes into OUT (2*LEN+1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *out);

/* free(P) and return NULL, for 'p = mfree_str(p)'. */
static inline char *mfree_str(char *p)
{
        free(p);
        return NULL;
}
