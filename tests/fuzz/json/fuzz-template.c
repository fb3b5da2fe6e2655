/* Parse the input as a --format template and render it against a fixed image-like document,
 * then as a table header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "json/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char doc[] =
        "{\"Id\":\"sha256:0123\",\"RepoTags\":[\"a:1\",\"b:2\"],\"Size\":12345,\"Ratio\":0.25,"
        "\"Created\":\"2024-01-01T00:00:00Z\",\"Null\":null,\"T\":true,\"F\":false,\"E\":\"\","
        "\"Config\":{\"Env\":[\"A=1\"],\"Cmd\":[\"sh\",\"-c\"],\"Labels\":{\"k\":\"v\",\"x\":\"\"},"
        "\"Entrypoint\":null,\"ExposedPorts\":{\"80/tcp\":{}}},"
        "\"Layers\":[{\"Size\":1,\"Digest\":\"d1\"},{\"Size\":2.5e30,\"Digest\":\"\\u00e9\\n\"}],"
        "\"Nested\":[[1,[2,[3]]],{}],\"Big\":-9223372036854775807}";

static const char *header(const char *field)
{
        return strlen(field) % 2 ? "ODD" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static json_t *dot;
        _cleanup_free_ char *text = xstrndup((const char *)data, size);
        _cleanup_template_ struct template *t = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_free_ char *out = NULL, *h = NULL, *prep = NULL;
        bool table = false;

        if (size > 4096)
                return 0;
        if (!dot)
                dot = json_loads(doc, 0, NULL);
        if (template_parse(text, &t, &e) < 0)
                return 0;
        if (template_render(t, dot, &out, &e) >= 0 && strlen(out) > TEMPLATE_MAX_OUTPUT)
                abort();
        prep = template_docker_prepare(text, &table);
        h = template_table_header(prep, header);
        return 0;
}
