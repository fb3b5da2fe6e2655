#include "cli/output.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/format.h"
#include "basic/util.h"
#include "json/json.h"
#include "json/template.h"

void cli_print_table(char **rows)
{
        size_t ncols = 1;
        STRV_FOREACH(r, rows)
        {
                size_t k = 1;
                for (const char *p = *r; *p; p++)
                        k += *p == '\t';
                ncols = MAX(ncols, k);
        }
        struct table *t = table_new(ncols);
        STRV_FOREACH(r, rows)
        {
                _cleanup_free_ char *copy = xstrdup(*r);
                const char **cells = xcalloc(ncols, sizeof(char *));
                char *p = copy;
                for (size_t i = 0; i < ncols; i++) {
                        cells[i] = p ? p : "";
                        char *tab = p ? strchr(p, '\t') : NULL;
                        if (tab)
                                *tab = 0;
                        p = tab ? tab + 1 : NULL;
                }
                table_add_row(t, cells);
                free(cells);
        }
        _cleanup_free_ char *out = table_render(t);
        table_free(t);
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
        const char *rest = format;
        bool table = template_is_table(format, &rest);
        struct template *t = NULL;
        int r = template_parse(rest, &t, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **rows = NULL;
        if (table)
                strv_consume(&rows, template_table_header(rest, header));
        for (size_t i = 0; i < n && r >= 0; i++) {
                char *line = NULL;
                r = template_render(t, items[i], &line, err);
                if (r >= 0)
                        strv_consume(&rows, line);
        }
        template_free(t);
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
                { "ID", "IMAGE ID" },         { "CreatedSince", "CREATED" },
                { "CreatedAt", "CREATED AT" }, { "CreatedBy", "CREATED BY" },
                { "VirtualSize", "VIRTUAL SIZE" }, { "SharedSize", "SHARED SIZE" },
                { "UniqueSize", "UNIQUE SIZE" },
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(field, names[i].field))
                        return names[i].header;
        return NULL; /* the template module upper-cases the field name */
}
