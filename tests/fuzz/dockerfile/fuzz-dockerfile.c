/* The Dockerfile parser: any input either parses or fails with a positioned message; a tree
 * dumps, converts to JSON, and frees. A parsed tree's warnings and errors carry a position. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "dockerfile/dockerfile.h"
#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tree(const struct dockerfile *df)
{
        _cleanup_free_ char *dump = dockerfile_dump(df);
        if (df->n_instructions == 0 || !dump || !*dump)
                abort();
        json_t *j = dockerfile_to_json(df);
        _cleanup_free_ char *s = j ? json_dump_compact(j) : NULL;
        if (!s)
                abort();
        json_decref(j);
        for (size_t k = 0; k < df->n_instructions; k++)
                if (df->instructions[k].line == 0 ||
                    df->instructions[k].end_line < df->instructions[k].line)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_dockerfile_ struct dockerfile *df = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        if (dockerfile_parse("Dockerfile", (const char *)data, size, &df, &err) < 0) {
                if (!err || !startswith(err->msg, "Dockerfile:"))
                        abort();
                return 0;
        }
        check_tree(df);
        return 0;
}
