/* Output helpers shared by the listing verbs: --format (json, table, Go templates), tables,
 * and the image facts every listing needs. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/config.h"
#include "store/store.h"

/* Print N items with FORMAT: "json" (one compact JSON object per line), "table TEMPLATE"
 * (a header row from HEADER and aligned columns), or a Go template (one line per item). */
int cli_print_formatted(const char *format, json_t **items, size_t n,
                        const char *(*header)(const char *field), struct st_error **err);

/* Print ROWS (each a tab-separated line) as Docker's aligned table. */
void cli_print_table(char **rows);

/* Read and parse IMG's config from the store; caller frees. */
int cli_image_config(struct store *s, const struct store_image *img, struct image_config **ret,
                     struct st_error **err);

/* The `inspect` object of an image with config CFG, ID, TAGS and REPO_DIGESTS (full names,
 * shown familiar), SIZE, and GRAPH_DRIVER (taken; NULL: none, for a remote image). A new
 * reference. */
json_t *cli_image_inspect_json(const struct image_config *cfg, const char *id, char **tags,
                               char **repo_digests, int64_t size, json_t *graph_driver);

/* Go's time.String() form of SEC in UTC: "2026-11-27 21:08:58 +0000 UTC"; caller frees. */
char *cli_time_go(int64_t sec);

/* Upper-case header of a template field: ".Repository" -> "REPOSITORY", "CreatedSince" ->
 * "CREATED", "ID" -> "IMAGE ID" (Docker's names for the image listings); the result may be
 * a static buffer overwritten by the next call. */
const char *cli_image_header(const char *field);
