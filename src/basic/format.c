#include "basic/format.h"

#include <inttypes.h>
#include <time.h>

#include "basic/banned.h"
#include "basic/util.h"

/* docker's tabwriter.NewWriter(out, 10, 1, 3, ' ', 0) */
#define TABLE_MIN_WIDTH 10
#define TABLE_PADDING   3

/* Go's time.Duration saturates at 2^63-1 ns; whole seconds of that. */
#define MAX_DURATION_SEC INT64_C(9223372036)

char *format_bytes_docker(uint64_t n)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
        double size = (double)n;
        size_t i = 0;

        while (size >= 1000.0 && i < ELEMENTSOF(units) - 1) {
                size /= 1000.0;
                i++;
        }
        /* C's %.3g and Go's %.3g agree: exact decimal, ties to even, trailing zeros dropped */
        return xasprintf("%.3g%s", size, units[i]);
}

char *format_duration_human(int64_t secs)
{
        if (secs < 1)
                return xstrdup("Less than a second");
        if (secs == 1)
                return xstrdup("1 second");
        if (secs < 60)
                return xasprintf("%" PRId64 " seconds", secs);
        int64_t minutes = secs / 60;
        if (minutes == 1)
                return xstrdup("About a minute");
        if (minutes < 60)
                return xasprintf("%" PRId64 " minutes", minutes);
        int64_t hours = (secs + 1800) / 3600; /* d.Round(time.Hour) */
        if (hours == 1)
                return xstrdup("About an hour");
        if (hours < 48)
                return xasprintf("%" PRId64 " hours", hours);
        if (hours < 24 * 7 * 2)
                return xasprintf("%" PRId64 " days", hours / 24);
        if (hours < 24 * 30 * 2)
                return xasprintf("%" PRId64 " weeks", hours / 24 / 7);
        if (hours < 24 * 365 * 2)
                return xasprintf("%" PRId64 " months", hours / 24 / 30);
        return xasprintf("%" PRId64 " years", secs / 3600 / 24 / 365);
}

char *format_time_ago(int64_t then, int64_t now)
{
        int64_t d;

        if (__builtin_sub_overflow(now, then, &d))
                d = now > then ? INT64_MAX : INT64_MIN;
        d = MIN(d, MAX_DURATION_SEC);
        _cleanup_free_ char *h = format_duration_human(d);
        return xasprintf("%s ago", h);
}

/* ".123" for 123000000 ns: Go's .999999999 layout drops trailing zeros and an empty fraction. */
static void format_fraction(long nsec, char out[static 11])
{
        out[0] = '\0';
        if (nsec == 0)
                return;
        snprintf(out, 11, ".%09ld", nsec);
        size_t n = strlen(out);
        while (out[n - 1] == '0')
                out[--n] = '\0';
}

char *format_time_rfc3339(int64_t sec, long nsec)
{
        struct tm tm;
        char frac[11];

        if (__builtin_add_overflow(sec, nsec / 1000000000L, &sec))
                return xstrdup("<invalid time>");
        nsec %= 1000000000L;
        if (nsec < 0) {
                nsec += 1000000000L;
                sec--;
        }
        time_t t = (time_t)sec;
        if (!gmtime_r(&t, &tm))
                return xstrdup("<invalid time>");
        format_fraction(nsec, frac);
        long year = (long)tm.tm_year + 1900;
        return xasprintf("%s%04ld-%02d-%02dT%02d:%02d:%02d%sZ", year < 0 ? "-" : "",
                         year < 0 ? -year : year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, frac);
}

struct table_line {
        char **cells;
        size_t n_cells;
};

struct table {
        struct table_line *lines;
        size_t n_lines;
        size_t max_cells;
};

struct table *table_new(void)
{
        return xcalloc(1, sizeof(struct table));
}

static struct table_line *table_push(struct table *t)
{
        t->lines = xrealloc(t->lines, (t->n_lines + 1) * sizeof(*t->lines));
        struct table_line *l = &t->lines[t->n_lines++];
        *l = (struct table_line){ 0 };
        return l;
}

static void line_push(struct table *t, struct table_line *l, char *cell)
{
        l->cells = xrealloc(l->cells, (l->n_cells + 1) * sizeof(char *));
        l->cells[l->n_cells++] = cell;
        t->max_cells = MAX(t->max_cells, l->n_cells);
}

void table_add_row(struct table *t, const char *const *cells, size_t n_cells)
{
        struct table_line *l = table_push(t);
        for (size_t i = 0; i < n_cells; i++)
                line_push(t, l, xstrdup(cells[i]));
}

void table_add_line(struct table *t, const char *line)
{
        struct table_line *l = table_push(t);
        for (;;) {
                size_t n = strcspn(line, "\t\n");
                line_push(t, l, xstrndup(line, n));
                line += n;
                if (*line == '\0')
                        return;
                if (*line++ == '\n')
                        l = table_push(t);
        }
}

struct table *table_free(struct table *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_lines; i++) {
                for (size_t j = 0; j < t->lines[i].n_cells; j++)
                        free(t->lines[i].cells[j]);
                free(t->lines[i].cells);
        }
        free(t->lines);
        free(t);
        return NULL;
}

/* Width as Go's tabwriter counts it: UTF-8 runes (each stray byte counts as one). */
static size_t text_width(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        n++;
        return n;
}

struct layout {
        const struct table *t;
        size_t *widths; /* width of each open column block, by column */
        FILE *out;
};

static void write_lines(struct layout *lo, size_t n_widths, size_t line0, size_t line1)
{
        for (size_t i = line0; i < line1; i++) {
                const struct table_line *l = &lo->t->lines[i];
                for (size_t j = 0; j < l->n_cells; j++) {
                        fputs(l->cells[j], lo->out);
                        if (j >= n_widths)
                                continue;
                        for (size_t w = text_width(l->cells[j]); w < lo->widths[j]; w++)
                                fputc(' ', lo->out);
                }
                fputc('\n', lo->out);
        }
}

/* Go's tabwriter format(): a column block is a run of lines that all have a cell in COLUMN
 * followed by another cell; its width holds for that run only. */
static void format_block(struct layout *lo, size_t column, size_t line0, size_t line1)
{
        for (size_t l = line0; l < line1; l++) {
                if (column + 1 >= lo->t->lines[l].n_cells)
                        continue;
                write_lines(lo, column, line0, l);
                line0 = l;
                size_t width = TABLE_MIN_WIDTH;
                for (; l < line1 && column + 1 < lo->t->lines[l].n_cells; l++)
                        width = MAX(width,
                                    text_width(lo->t->lines[l].cells[column]) + TABLE_PADDING);
                lo->widths[column] = width;
                format_block(lo, column + 1, line0, l);
                line0 = l;
        }
        write_lines(lo, column, line0, line1);
}

char *table_render(const struct table *t)
{
        char *buf = NULL;
        size_t size = 0;
        _cleanup_free_ size_t *widths = xcalloc(t->max_cells + 1, sizeof(size_t));
        struct layout lo = { .t = t, .widths = widths, .out = open_memstream(&buf, &size) };

        if (!lo.out)
                abort(); /* only fails on OOM, which aborts everywhere else too */
        format_block(&lo, 0, 0, t->n_lines);
        if (fclose(lo.out) != 0)
                abort();
        return buf;
}
