/* RFC 3339 timestamps as image configs carry them (Go's time.RFC3339Nano). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/util.h"
#include "image/config.h"

char *image_time_format(int64_t sec)
{
        time_t t = (time_t)sec;
        struct tm tm;
        char date[64];
        if (!gmtime_r(&t, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm))
                abort();
        return xstrdup(date);
}

char *image_time_now(void)
{
        struct timespec ts;
        struct tm tm;
        char date[64], frac[32] = "";
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        if (!gmtime_r(&ts.tv_sec, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
                abort();
        if (ts.tv_nsec > 0) {
                /* Go trims trailing zeros of the fraction */
                snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
                size_t n = strlen(frac);
                while (frac[n - 1] == '0')
                        frac[--n] = 0;
        }
        return xasprintf("%s%sZ", date, frac);
}

/* N decimal digits at *P into *RET; advances *P. */
static bool digits(const char **p, int n, int *ret)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                char c = (*p)[i];
                if (c < '0' || c > '9')
                        return false;
                v = v * 10 + (c - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

static bool expect(const char **p, const char *set)
{
        if (!**p || !strchr(set, **p))
                return false;
        (*p)++;
        return true;
}

static int days_in_month(int year, int month)
{
        static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        return month == 2 && leap ? 29 : days[month - 1];
}

/* "Z" or "+hh:mm"/"-hh:mm" at P (the whole rest of the string) into seconds east of UTC. */
static bool parse_zone(const char *p, int *ret_off)
{
        int sign = *p == '-' ? -1 : 1, h, m;
        if ((*p == 'Z' || *p == 'z') && p[1] == 0) {
                *ret_off = 0;
                return true;
        }
        if (!expect(&p, "+-") || !digits(&p, 2, &h) || !expect(&p, ":") || !digits(&p, 2, &m) ||
            *p || h > 23 || m > 59)
                return false;
        *ret_off = sign * (h * 3600 + m * 60);
        return true;
}

int image_time_parse(const char *s, int64_t *ret_sec)
{
        struct tm tm = { 0 };
        const char *p = s;
        int off;
        if (!digits(&p, 4, &tm.tm_year) || !expect(&p, "-") || !digits(&p, 2, &tm.tm_mon) ||
            !expect(&p, "-") || !digits(&p, 2, &tm.tm_mday) || !expect(&p, "Tt") ||
            !digits(&p, 2, &tm.tm_hour) || !expect(&p, ":") || !digits(&p, 2, &tm.tm_min) ||
            !expect(&p, ":") || !digits(&p, 2, &tm.tm_sec))
                return -EINVAL;
        if (*p == '.') {
                size_t n = strspn(++p, "0123456789");
                if (n == 0)
                        return -EINVAL;
                p += n;
        }
        if (!parse_zone(p, &off) || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
            tm.tm_mday > days_in_month(tm.tm_year, tm.tm_mon) || tm.tm_hour > 23 ||
            tm.tm_min > 59 || tm.tm_sec > 59)
                return -EINVAL;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *ret_sec = (int64_t)timegm(&tm) - off;
        return 0;
}
