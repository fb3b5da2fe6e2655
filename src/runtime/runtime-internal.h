/* Internals of src/runtime shared between its files. */
#pragma once

#include <jansson.h>
#include <stdint.h>

/* A JSON array of the strings of L (json null for NULL); a new reference. */
json_t *runtime_strv_to_json(char *const *l);

/* The string elements of the JSON array A (NULL if none); caller frees. */
char **runtime_json_to_strv(const json_t *a);

/* "nofile=1024[:2048]" into its name (caller frees), soft and hard limits. -ENOENT for an
 * unknown name, -ERANGE if soft > hard, -EINVAL if malformed. */
int runtime_ulimit_parse(const char *s, char **ret_name, int64_t *ret_soft, int64_t *ret_hard);

/* qsort comparator for char * elements. */
int runtime_strcmp_ptr(const void *a, const void *b);
