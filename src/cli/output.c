#include "cli/output.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/format.h"
#include "basic/util.h"
#include "image/manifest.h"
#include "json/json.h"
#include "json/template.h"

void cli_print_table(char **rows)
{
        _cleanup_table_ struct table *t = table_new();
        STRV_FOREACH(r, rows)
                table_add_line(t, *r);
        _cleanup_free_ char *out = table_render(t);
        fputs(out, stdout);
}

int cli_print_formatted(const char *format, json_t **items, size_t n,
                        const char *(*header)(const char *field), struct st_error **err)
{
        if (streq(format, "json")) {
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *s = json_dump_compact(items[i]);
                        puts(s);
                }
                return 0;
        }
        bool table = false;
        _cleanup_free_ char *text = template_docker_prepare(format, &table);
        _cleanup_template_ struct template *t = NULL;
        int r = template_parse(text, &t, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **rows = NULL;
        if (table)
                strv_consume(&rows, template_table_header(text, header) ?: xstrdup(""));
        for (size_t i = 0; i < n && r >= 0; i++) {
                char *line = NULL;
                r = template_render(t, items[i], &line, err);
                if (r >= 0)
                        strv_consume(&rows, line);
        }
        if (r < 0)
                return r;
        if (table)
                cli_print_table(rows);
        else
                STRV_FOREACH(l, rows)
                        puts(*l);
        return 0;
}

int cli_image_config(struct store *s, const struct store_image *img, struct image_config **ret,
                     struct st_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = store_blob_read(s, img->id, IMAGE_CONFIG_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        return image_config_parse(buf, len, ret, err);
}

char *cli_time_go(int64_t sec)
{
        time_t t = (time_t)sec;
        struct tm tm;
        char buf[64];
        if (!gmtime_r(&t, &tm))
                return xstrdup("");
        strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
        return xstrdup(buf);
}

const char *cli_image_header(const char *field)
{
        static const struct {
                const char *field, *header;
        } names[] = {
                { "ID", "IMAGE ID" },
                { "CreatedSince", "CREATED" },
                { "CreatedAt", "CREATED AT" },
                { "CreatedBy", "CREATED BY" },
                { "VirtualSize", "VIRTUAL SIZE" },
                { "SharedSize", "SHARED SIZE" },
                { "UniqueSize", "UNIQUE SIZE" },
        };

        static char upper[128];
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(field, names[i].field))
                        return names[i].header;
        size_t i = 0;
        for (; field[i] && i < sizeof(upper) - 1; i++)
                upper[i] = (char)toupper((unsigned char)field[i]);
        upper[i] = 0;
        return upper;
}
