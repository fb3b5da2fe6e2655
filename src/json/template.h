/* A subset of Go's text/template, evaluated against a JSON value, for docker's --format:
 *
 *   text {{.Field.Chain}} {{$var.Field}} {{.}} {{$}} {{"string"}} {{`raw`}} {{'c'}} {{42}}
 *   {{- trim -}}   comments (slash-star ... star-slash)   {{.X | json}}   {{(len .X)}}
 *   {{printf "%s:%d" .A .B}}   {{$x := P}}   {{$x = P}}
 *   {{if P}}..{{else if P}}..{{else}}..{{end}}   {{with P}}..{{else}}..{{end}}
 *   {{range P}}..{{else}}..{{end}}   {{range $i, $e := P}}..{{end}}
 *
 * Functions: docker's json split join title lower upper pad truncate, and Go's len index print
 * printf println eq ne lt le gt ge and or not. printf knows the verbs v s d q x X f e E g G t
 * with flags, width and precision, and Go's %!verb(type=value) forms.
 *
 * Values follow Go for a map[string]interface{} decoded from JSON, with JSON integers as Go
 * ints: a missing key or a null prints "<no value>" (a nil inside a slice or map "<nil>"),
 * arrays print as "[a b]", objects as "map[k:v]" with sorted keys, truthiness is Go's, json
 * encodes like encoding/json (sorted keys, no HTML escaping, no newline). Deviations, for what
 * docker prints from its typed structs: len of null is 0, join of null is "", index of null is
 * null, eq/lt compare integers with floats; \b and \f in json are Go 1.22's short escapes.
 *
 * Errors say "template: LINE:COL: ..." with 1-based columns; parse errors have code ST_E_PARSE,
 * execution errors -EINVAL, and exceeding a cap (nesting, output size, work) ST_E_TOO_BIG. */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "json/json.h"

#define TEMPLATE_MAX_DEPTH  64                  /* nested blocks and parentheses */
#define TEMPLATE_MAX_OUTPUT (16u * 1024 * 1024) /* bytes of output, and of any value */
#define TEMPLATE_MAX_STEPS  (16u * 1024 * 1024) /* evaluation steps per render */

struct template;

/* Maps a top-level field name used in a table format (e.g. "Repository") to its column header
 * ("REPOSITORY"), or NULL if it has none. */
typedef const char *(*template_header_fn)(const char *field);

/* Parse TEXT; *ret is owned by the caller (template_free). */
int template_parse(const char *text, struct template **ret, struct st_error **err);

/* Render T with DOT (borrowed; may be NULL for "no value") as the data; *ret is a NUL-terminated
 * string owned by the caller. */
int template_render(const struct template *t, json_t *dot, char **ret, struct st_error **err);

/* Free T; NULL-safe; returns NULL. */
struct template *template_free(struct template *t);

static inline void template_freep(struct template **t)
{
        template_free(*t);
}

#define _cleanup_template_ _cleanup_(template_freep)

/* True if FORMAT is a docker "table" format; *ret_rest (if given) then points past "table" and
 * any spaces after it (borrowed from FORMAT). */
bool template_is_table(const char *format, const char **ret_rest);

/* FORMAT as the docker CLI prepares it before parsing: a "table" prefix removed (reported in
 * *ret_table, if given), surrounding spaces trimmed, and the two-character sequences "\t" and
 * "\n" turned into a tab and a newline; caller frees. */
char *template_docker_prepare(const char *format, bool *ret_table);

/* The header row of a table format: FORMAT_REST rendered like docker does, with each top-level
 * field replaced by FN(field) ("<no value>" when FN returns NULL) and docker's json, split,
 * join, title, lower, upper, pad and truncate passing their first argument through. Tabs are
 * kept for the table layout. Render errors end the header early, like docker. NULL if
 * FORMAT_REST does not parse; caller frees. */
char *template_table_header(const char *format_rest, template_header_fn fn);
