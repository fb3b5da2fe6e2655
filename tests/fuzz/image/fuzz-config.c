/* Image configs and --change. An input starting with '!' is a list of changes (one a line)
 * applied to a fresh config; anything else is parsed as a config. Whatever parses or changes
 * must write out as a config that parses again and writes the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "image/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(struct image_config *c)
{
        _cleanup_config_ struct image_config *c2 = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_free_ char *w = image_config_write(c);
        if (image_config_parse(w, strlen(w), &c2, &err) < 0)
                abort();
        _cleanup_free_ char *w2 = image_config_write(c2);
        if (!streq(w, w2))
                abort();
}

static void changes(const char *s)
{
        _cleanup_config_ struct image_config *c = image_config_new("2024-01-01T00:00:00Z");
        _cleanup_strv_ char **lines = NULL;
        for (const char *p = s, *nl; *p; p = nl + (*nl != 0)) {
                nl = p + strcspn(p, "\n");
                strv_consume(&lines, xstrndup(p, nl - p));
        }
        STRV_FOREACH(l, lines)
                (void)image_config_apply_change(c, *l, NULL);
        image_config_add_history(
                c, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL,
                "x", NULL, NULL, false);
        check_round_trip(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 0 && data[0] == '!') {
                if (size > 8192)
                        return 0;
                _cleanup_free_ char *s = xstrndup((const char *)data + 1, size - 1);
                changes(s);
                return 0;
        }
        _cleanup_config_ struct image_config *c = NULL;
        if (image_config_parse((const char *)data, size, &c, NULL) < 0)
                return 0;
        (void)image_config_apply_change(c, "ENV FUZZ=1", NULL);
        check_round_trip(c);
        int64_t t;
        if (c->created)
                (void)image_time_parse(c->created, &t);
        return 0;
}
