#include "basic/format.h"
#include "basic/util.h"
#include "tap.h"

TEST(bytes_docker)
{
        static const struct {
                uint64_t n;
                const char *want;
        } cases[] = {
                { 0, "0B" },
                { 1, "1B" },
                { 123, "123B" },
                { 999, "999B" },
                { 1000, "1kB" },
                { 1001, "1kB" },
                { 1230, "1.23kB" },
                { 1234, "1.23kB" },
                { 1235, "1.24kB" }, /* 1.235 is not exact in binary: above the tie */
                { 1125, "1.12kB" }, /* exact tie: to even */
                { 12345, "12.3kB" },
                { 123456, "123kB" },
                { 999499, "999kB" },
                { 999500, "1e+03kB" }, /* docker prints this too */
                { 1000000, "1MB" },
                { 1234567, "1.23MB" },
                { 4200000, "4.2MB" },
                { 12300000, "12.3MB" },
                { 123000000, "123MB" },
                { 1230000000, "1.23GB" },
                { 7812345678, "7.81GB" },
                { UINT64_C(1000000000000), "1TB" },
                { UINT64_C(1000000000000000000), "1EB" },
                { UINT64_MAX, "18.4EB" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = format_bytes_docker(cases[i].n);
                ASSERT_STREQ(s, cases[i].want);
        }
}

TEST(time_ago)
{
        static const struct {
                int64_t d;
                const char *want;
        } cases[] = {
                { -5, "Less than a second ago" },
                { 0, "Less than a second ago" },
                { 1, "1 second ago" },
                { 2, "2 seconds ago" },
                { 59, "59 seconds ago" },
                { 60, "About a minute ago" },
                { 119, "About a minute ago" },
                { 120, "2 minutes ago" },
                { 3599, "59 minutes ago" },
                { 3600, "About an hour ago" },
                { 5399, "About an hour ago" },
                { 5400, "2 hours ago" }, /* rounded to the hour */
                { 47 * 3600 + 1799, "47 hours ago" },
                { 47 * 3600 + 1800, "2 days ago" },
                { 13 * 86400, "13 days ago" },
                { 14 * 86400 - 1801, "13 days ago" },
                { 14 * 86400, "2 weeks ago" },
                { 59 * 86400, "8 weeks ago" },
                { 60 * 86400, "2 months ago" },
                { 729 * 86400, "24 months ago" },
                { 730 * 86400, "2 years ago" },
                { INT64_C(10) * 365 * 86400 + 86400, "10 years ago" },
        };

        const int64_t now = 1800000000;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = format_time_ago(now - cases[i].d, now);
                ASSERT_STREQ(s, cases[i].want);
        }
        /* Go's Duration saturates at ~292 years */
        _cleanup_free_ char *far = format_time_ago(INT64_MIN, INT64_MAX);
        ASSERT_STREQ(far, "292 years ago");
}

TEST(rfc3339)
{
        static const struct {
                int64_t sec;
                long nsec;
                const char *want;
        } cases[] = {
                { 0, 0, "1970-01-01T00:00:00Z" },
                { 1795813738, 123456789, "2026-11-27T21:08:58.123456789Z" },
                { 1795813738, 120000000, "2026-11-27T21:08:58.12Z" },
                { 1795813738, 1, "2026-11-27T21:08:58.000000001Z" },
                { 1795813738, 1500000000, "2026-11-27T21:08:59.5Z" },
                { 0, -1, "1969-12-31T23:59:59.999999999Z" },
                { 253402300799, 0, "9999-12-31T23:59:59Z" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = format_time_rfc3339(cases[i].sec, cases[i].nsec);
                ASSERT_STREQ(s, cases[i].want);
        }
}

TEST(table_docker_images)
{
        _cleanup_table_ struct table *t = table_new();
        const char *h[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
        const char *r1[] = { "alpine", "3.19", "05455a08881e", "2 weeks ago", "7.38MB" };
        const char *r2[] = { "registry.example.com/team/app", "latest", "a1b2c3d4e5f6",
                             "About an hour ago", "123MB" };

        table_add_row(t, h, 5);
        table_add_row(t, r1, 5);
        table_add_row(t, r2, 5);
        _cleanup_free_ char *s = table_render(t);
        ASSERT_STREQ(
                s,
                "REPOSITORY                      TAG       IMAGE ID       CREATED             SIZE\n"
                "alpine                          3.19      05455a08881e   2 weeks ago         7.38MB\n"
                "registry.example.com/team/app   latest    a1b2c3d4e5f6   About an hour ago   123MB\n");
}

TEST(table_lines_and_blocks)
{
        _cleanup_table_ struct table *t = table_new();

        /* a line with fewer cells ends the column block: widths restart after it */
        table_add_line(t, "a\tbbbbbbbbbbbbbbbb\tc\nxx\ty");
        table_add_line(t, "no tabs here");
        table_add_line(t, "é\tz");
        table_add_line(t, "trailing\t");
        _cleanup_free_ char *s = table_render(t);
        ASSERT_STREQ(s, "a         bbbbbbbbbbbbbbbb   c\n"
                        "xx        y\n"
                        "no tabs here\n"
                        "é          z\n"
                        "trailing   \n");
        _cleanup_table_ struct table *e = table_new();
        _cleanup_free_ char *es = table_render(e);
        ASSERT_STREQ(es, "");
}
