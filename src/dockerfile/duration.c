/* Go's time.ParseDuration, which BuildKit uses for the HEALTHCHECK options: a sign, then one
 * or more decimal numbers each with a unit ("1h30m", "1.5s", "300ms"); "0" alone needs none. */
#include <string.h>

#include "dockerfile/dockerfile.h"

#define LIMIT ((uint64_t)1 << 63)

static const struct {
        const char *name;
        uint64_t ns;
} units[] = {
        { "ns", 1ull },           { "us", 1000ull },
        { "\xc2\xb5s", 1000ull }, /* U+00B5 micro sign */
        { "\xce\xbcs", 1000ull }, /* U+03BC Greek mu */
        { "ms", 1000000ull },     { "s", 1000000000ull },
        { "m", 60000000000ull },  { "h", 3600000000000ull },
};

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Go's leadingInt: digits into *v, -ERANGE past 1<<63. */
static int leading_int(const char **s, uint64_t *v)
{
        uint64_t x = 0;
        for (; is_digit(**s); (*s)++) {
                if (x > LIMIT / 10)
                        return -ERANGE;
                x = x * 10 + (uint64_t)(**s - '0');
                if (x > LIMIT)
                        return -ERANGE;
        }
        *v = x;
        return 0;
}

/* Go's leadingFraction: digits after the point, as F / SCALE; precision beyond 63 bits is
 * dropped. */
static void leading_fraction(const char **s, uint64_t *f, double *scale)
{
        bool overflow = false;
        *f = 0;
        *scale = 1;
        for (; is_digit(**s); (*s)++) {
                if (overflow || *f > (LIMIT - 1) / 10) {
                        overflow = true;
                        continue;
                }
                uint64_t y = *f * 10 + (uint64_t)(**s - '0');
                if (y > LIMIT) {
                        overflow = true;
                        continue;
                }
                *f = y;
                *scale *= 10;
        }
}

static uint64_t unit_of(const char *u, size_t n)
{
        for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
                if (strlen(units[k].name) == n && memcmp(units[k].name, u, n) == 0)
                        return units[k].ns;
        return 0;
}

/* One "<number><unit>" from *S, added to *D. */
static int component(const char **s, uint64_t *d)
{
        uint64_t v, f = 0;
        double scale = 1;
        const char *start = *s;
        if (**s != '.' && !is_digit(**s))
                return -EINVAL;
        if (leading_int(s, &v) < 0)
                return -EINVAL;
        bool pre = *s != start, post = false;
        if (**s == '.') {
                const char *fs = ++*s;
                leading_fraction(s, &f, &scale);
                post = *s != fs;
        }
        if (!pre && !post)
                return -EINVAL;
        size_t n = strcspn(*s, ".0123456789");
        uint64_t unit = unit_of(*s, n);
        *s += n;
        if (unit == 0 || v > LIMIT / unit)
                return -EINVAL;
        v *= unit;
        if (f > 0) {
                v += (uint64_t)((double)f * ((double)unit / scale));
                if (v > LIMIT)
                        return -ERANGE;
        }
        *d += v;
        return *d > LIMIT ? -ERANGE : 0;
}

int dockerfile_parse_duration(const char *s, int64_t *ret_ns)
{
        uint64_t d = 0;
        bool neg = false;
        if (*s == '-' || *s == '+') {
                neg = *s == '-';
                s++;
        }
        if (strcmp(s, "0") == 0) {
                *ret_ns = 0;
                return 0;
        }
        if (!*s)
                return -EINVAL;
        while (*s) {
                int r = component(&s, &d);
                if (r < 0)
                        return r;
        }
        if (!neg && d > LIMIT - 1)
                return -ERANGE;
        *ret_ns = neg ? (int64_t)(0 - d) : (int64_t)d;
        return 0;
}
