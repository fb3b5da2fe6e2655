#include "tap.h"

#include <ftw.h>
#include <unistd.h>

struct tap_test *tap_tests;
int tap_failed_current;
char tap_tmpdir[4096];

void tap_register(struct tap_test *t)
{
        /* constructors run in reverse order of definition on some toolchains: append */
        struct tap_test **p = &tap_tests;
        while (*p)
                p = &(*p)->next;
        *p = t;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

int main(void)
{
        int n = 0, failed = 0;
        for (struct tap_test *t = tap_tests; t; t = t->next)
                n++;
        printf("1..%d\n", n);
        int i = 0;
        for (struct tap_test *t = tap_tests; t; t = t->next) {
                const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
                snprintf(tap_tmpdir, sizeof(tap_tmpdir), "%s/strata-unit-XXXXXX", base);
                if (!mkdtemp(tap_tmpdir)) {
                        perror("mkdtemp");
                        return 1;
                }
                tap_failed_current = 0;
                t->fn();
                fflush(stdout);
                nftw(tap_tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
                printf("%sok %d - %s\n", tap_failed_current ? "not " : "", ++i, t->name);
                failed += tap_failed_current;
        }
        return failed ? 1 : 0;
}
