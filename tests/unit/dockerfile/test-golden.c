/* Golden files: tests/data/dockerfile/<case>.Dockerfile and real/<case>.Dockerfile must dump
 * exactly as <case>.dump says (regenerate one with `strata dockerfile parse FILE`). Also a
 * timing, printed as a TAP comment and never asserted: a generated 10,000-line Dockerfile. */
#include <dirent.h>
#include <fcntl.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "dockerfile/dockerfile.h"
#include "tap.h"

/* Compare every *.Dockerfile in DIR with its .dump; returns the number of files checked, or
 * -1 after a mismatch (reported). */
static int check_dir(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0, bad = 0;
        while (d && (de = readdir(d))) {
                if (!endswith(de->d_name, ".Dockerfile"))
                        continue;
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
                _cleanup_free_ char *want_path =
                        xasprintf("%.*s.dump", (int)(strlen(path) - strlen(".Dockerfile")), path);
                _cleanup_free_ char *buf = NULL, *want = NULL, *got = NULL;
                _cleanup_dockerfile_ struct dockerfile *df = NULL;
                _cleanup_error_ struct st_error *err = NULL;
                size_t len;
                if (read_full_file_at(AT_FDCWD, path, DOCKERFILE_SIZE_MAX, &buf, &len) < 0 ||
                    read_full_file_at(AT_FDCWD, want_path, 1 << 24, &want, NULL) < 0) {
                        printf("#   cannot read %s or its .dump\n", path);
                        bad++;
                        continue;
                }
                if (dockerfile_parse(de->d_name, buf, len, &df, &err) < 0)
                        got = xasprintf("error: %s\n", err->msg);
                else
                        got = dockerfile_dump(df);
                if (!streq(got, want)) {
                        printf("#   %s: dump differs; got:\n%s", path, got);
                        bad++;
                }
                n++;
        }
        if (d)
                closedir(d);
        return bad ? -1 : n;
}

TEST(golden_cases)
{
        int n = check_dir(DOCKERFILE_TEST_DATA);
        printf("# %d golden cases\n", n);
        ASSERT_TRUE(n >= 10);
}

TEST(golden_real_world)
{
        int n = check_dir(DOCKERFILE_TEST_DATA "/real");
        printf("# %d real-world Dockerfiles\n", n);
        ASSERT_TRUE(n >= 12);
}

/* A Dockerfile of N lines built from a block that uses every construct. */
static char *generate(size_t lines, size_t *ret_len)
{
        static const char *const block[] = {
                "FROM --platform=$BUILDPLATFORM golang:1.22 AS build",
                "ARG VERSION=dev TARGETOS TARGETARCH",
                "ENV CGO_ENABLED=0 GOFLAGS=\"-trimpath -mod=readonly\" \\",
                "    PATH=/usr/local/go/bin:$PATH",
                "LABEL org.opencontainers.image.title=\"app\" version=${VERSION}",
                "# install the build dependencies",
                "RUN --mount=type=cache,target=/var/cache/apt apt-get update \\",
                "    && apt-get install -y --no-install-recommends \\",
                "       ca-certificates git make \\",
                "    && rm -rf /var/lib/apt/lists/*",
                "COPY --from=deps --chown=1000:1000 [\"go.mod\", \"go.sum\", \"/src/\"]",
                "RUN <<EOF",
                "set -eux",
                "go build -o /out/app ./cmd/app",
                "EOF",
                "WORKDIR /src",
                "EXPOSE 8080/tcp 9090",
                "HEALTHCHECK --interval=30s --timeout=3s CMD [\"/app\", \"health\"]",
                "ONBUILD COPY . /src",
                "CMD [\"/out/app\", \"serve\"]",
        };

        struct {
                char *s;
                size_t len, cap;
        } b = { xmalloc(1 << 20), 0, 1 << 20 };

        for (size_t k = 0; k < lines; k++) {
                const char *l = block[k % ELEMENTSOF(block)];
                size_t n = strlen(l);
                if (b.len + n + 2 > b.cap)
                        b.s = xrealloc(b.s, b.cap *= 2);
                memcpy(b.s + b.len, l, n);
                b.len += n;
                b.s[b.len++] = '\n';
        }
        *ret_len = b.len;
        return b.s;
}

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

TEST(timing_10000_lines)
{
        size_t len;
        _cleanup_free_ char *buf = generate(10000, &len);
        double best = 1e9, best_dump = 1e9;
        size_t n = 0;
        for (int round = 0; round < 20; round++) {
                struct dockerfile *df = NULL;
                double t0 = now_ms();
                ASSERT_OK(dockerfile_parse("Dockerfile", buf, len, &df, NULL));
                double t1 = now_ms();
                free(dockerfile_dump(df));
                double t2 = now_ms();
                best = MIN(best, t1 - t0);
                best_dump = MIN(best_dump, t2 - t1);
                n = df->n_instructions;
                dockerfile_free(df);
        }
        printf("# 10000 lines (%zu bytes, %zu instructions): parse %.2f ms, dump %.2f ms "
               "(best of 20)\n",
               len, n, best, best_dump);
}
