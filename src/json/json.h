/* Jansson, wrapped: capped strict parsing with positioned errors, canonical output, getters. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/* jansson provides json_decrefp */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Parse LEN bytes of BUF (at most CAP) as one JSON value; WHAT names it in errors.
 * *ret is a new reference owned by the caller. */
int json_parse(const char *buf, size_t len, size_t cap, const char *what, json_t **ret,
               struct st_error **err);

/* Compact JSON text with sorted keys (canonical: stable digests); caller frees. */
char *json_dump_canonical(const json_t *j);

/* Compact JSON text keeping insertion order; caller frees. */
char *json_dump_compact(const json_t *j);

/* Indented JSON text (4 spaces, like docker inspect); caller frees. */
char *json_dump_pretty(const json_t *j);

/* The string at KEY of OBJ, or NULL if absent or not a string (borrowed). */
const char *json_get_str(const json_t *obj, const char *key);

/* Set KEY of OBJ to a new string (NULL value sets JSON null). */
void json_set_str(json_t *obj, const char *key, const char *value);

/* Iterate the elements of a JSON array. */
#define JSON_ARRAY_FOREACH(i, v, arr) \
        for (size_t i = 0; (arr) && i < json_array_size(arr) && ((v) = json_array_get(arr, i)); i++)
