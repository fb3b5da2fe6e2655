/* strata build: a Dockerfile and a context into an image; strata builder prune. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/format.h"
#include "basic/log.h"
#include "basic/util.h"
#include "build/build.h"
#include "cli/build-tty.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "dockerfile/dockerfile.h"
#include "image/reference.h"
#include "registry/registry.h"
#include "runtime/spec.h"

extern char **environ;

struct build_args {
        struct build_opts o;
        char **tags, **build_args, **labels, **secrets, **no_cache_filter;
        const char *file;
        const char *iidfile;
        const char *compression_level;
        bool quiet;
        const char *progress; /* --progress: auto (NULL), plain, tty, quiet */
        struct build_tty *tty;
        bool pull_always; /* --pull: pull base images even when present */
        struct cli *cli;
        struct registry_ctx *registry; /* for ADD of URLs, made on first use */
        unsigned last_id;
};

static void release(struct build_args *a)
{
        build_tty_free(a->tty);
        strv_free(a->tags);
        strv_free(a->build_args);
        strv_free(a->labels);
        strv_free(a->secrets);
        strv_free(a->no_cache_filter);
        registry_ctx_free(a->registry);
}

static int add_tag(struct build_args *a, const char *name)
{
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        if (image_ref_parse(name, &ref, &err) < 0 || ref->digest)
                return -EINVAL;
        strv_consume(&a->tags, image_ref_string(ref));
        return 0;
}

static int on_flag(int opt, const char *arg, void *userdata)
{
        struct build_args *a = userdata;
        switch (opt) {
        case 't':
                return add_tag(a, arg);
        case 'f':
                a->file = arg;
                return 0;
        case 'b':
                strv_push(&a->build_args, arg);
                return 0;
        case 'T':
                a->o.target = arg;
                return 0;
        case 'n':
                a->o.no_cache = true;
                return 0;
        case 'l':
                strv_push(&a->labels, arg);
                return 0;
        case 'N':
                if (!streq(arg, "host") && !streq(arg, "none") && !streq(arg, "default"))
                        return -EINVAL;
                a->o.network = streq(arg, "default") ? "host" : arg;
                return 0;
        case 'P':
                a->quiet = a->quiet || streq(arg, "quiet");
                a->progress = arg;
                return streq(arg, "auto") || streq(arg, "plain") || streq(arg, "tty") ||
                                       streq(arg, "quiet")
                               ? 0
                               : -EINVAL;
        case 'q':
                a->quiet = true;
                return 0;
        case 'i':
                a->iidfile = arg;
                return 0;
        case 'p':
                return streq(arg, "linux/amd64") || streq(arg, "linux") ? 0 : -EINVAL;
        case 'S':
                if (!startswith(arg, "id=") && !strstr(arg, ",id="))
                        return -EINVAL;
                strv_push(&a->secrets, arg);
                return 0;
        case 'u':
                a->pull_always = true;
                return 0;
        case 'C':
                a->o.compression = arg;
                return 0;
        case 'L':
                a->compression_level = arg;
                return 0;
        case 'E':
                a->o.explain = true;
                return 0;
        case 'A': /* BuildKit's entitlements; RUN has the host's network unless --network none */
                if (streq(arg, "security.insecure"))
                        a->o.allow_insecure = true;
                else if (!streq(arg, "network.host"))
                        return -EINVAL;
                return 0;
        case 'F':
                for (const char *p = arg; *p;) {
                        size_t n = strcspn(p, ",");
                        if (n > 0)
                                strv_consume(&a->no_cache_filter, xstrndup(p, n));
                        p += n + (p[n] == ',');
                }
                return 0;
        default:
                return -EINVAL;
        }
}

/* --compression and --compression-level, checked before anything is read: a usage error. */
static int check_compression(struct build_args *a)
{
        _cleanup_error_ struct st_error *err = NULL;
        enum compress_type t;
        if (a->compression_level) {
                char *end = NULL;
                errno = 0;
                long l = strtol(a->compression_level, &end, 10);
                if (errno != 0 || end == a->compression_level || *end || l < 1 || l > 99) {
                        (void)cli_usage_error("build", "invalid compression level \"%s\"",
                                              a->compression_level);
                        return -EINVAL;
                }
                a->o.compression_level = (int)l;
        }
        if (build_compression_parse(a->o.compression, a->o.compression_level, &t, &err) < 0) {
                (void)cli_usage_error("build", "%s", st_error_msg(err));
                return -EINVAL;
        }
        return 0;
}

/* The builder's ensure_image hook: pull a base image that is missing (or every time with
 * --pull), as docker build does. */
static int ensure_image(void *userdata, const char *name, struct st_error **err)
{
        struct build_args *a = userdata;
        if (a->tty)
                build_tty_suspend(a->tty); /* the pull prints its own progress */
        int r = cli_image_ensure(a->cli, name, a->pull_always ? "always" : "missing", err);
        if (a->tty)
                build_tty_resume(a->tty);
        return r;
}

/* --progress tty, or auto with stderr on a terminal (not TERM=dumb): the live view. */
static bool want_tty(const struct build_args *a)
{
        if (a->quiet)
                return false;
        if (a->progress && streq(a->progress, "tty"))
                return true;
        const char *term = getenv("TERM");
        return (!a->progress || streq(a->progress, "auto")) && isatty(STDERR_FILENO) &&
               !secure_getenv("STRATA_NO_TTY") && !(term && streq(term, "dumb"));
}

/* The builder's download hook (ADD of a URL), through the registry code's HTTP stack. */
static int download(void *userdata, const char *url, int fd, struct build_download *ret,
                    struct st_error **err)
{
        struct build_args *a = userdata;
        if (!a->registry) {
                int r = cli_registry_ctx(-1, &a->registry, err);
                if (r < 0)
                        return r;
        }
        struct registry_download d;
        int r = registry_download(a->registry, url, fd, &d, err);
        if (r < 0)
                return r;
        memcpy(ret->digest, d.digest, sizeof(ret->digest));
        ret->size = d.size;
        ret->last_modified = d.last_modified;
        return 0;
}

static void progress(void *userdata, const struct build_event *ev)
{
        struct build_args *a = userdata;
        if (a->tty) {
                build_tty_event(a->tty, ev);
                return;
        }
        if (ev->kind == BUILD_EVENT_WARNING) {
                fprintf(stderr, "%s\n", ev->text);
                return;
        }
        if (a->quiet)
                return;
        a->last_id = MAX(a->last_id, ev->id); /* stages may interleave */
        switch (ev->kind) {
        case BUILD_EVENT_STEP:
                fprintf(stderr, "#%u %s\n", ev->id, ev->name);
                break;
        case BUILD_EVENT_CACHED:
                fprintf(stderr, "#%u CACHED\n", ev->id);
                break;
        case BUILD_EVENT_OUTPUT:
                fprintf(stderr, "#%u %.3f %s\n", ev->id, ev->elapsed, ev->text);
                break;
        case BUILD_EVENT_DONE:
                fprintf(stderr, "#%u DONE %.1fs\n", ev->id, ev->elapsed);
                break;
        case BUILD_EVENT_ERROR:
                fprintf(stderr, "#%u ERROR\n", ev->id);
                break;
        case BUILD_EVENT_EXPLAIN:
                fprintf(stderr, "#%u cache miss: %s\n", ev->id, ev->text);
                break;
        default:
                break;
        }
        fflush(stderr);
}

static int read_dockerfile(struct build_args *a, const char *context, char **ret_buf,
                           size_t *ret_len, char **ret_path)
{
        _cleanup_free_ char *path = NULL;
        if (a->file && streq(a->file, "-"))
                return read_full_fd(STDIN_FILENO, DOCKERFILE_SIZE_MAX, ret_buf, ret_len);
        if (!context && !a->file)
                return read_full_fd(STDIN_FILENO, DOCKERFILE_SIZE_MAX, ret_buf, ret_len);
        path = a->file ? xstrdup(a->file) : xasprintf("%s/Dockerfile", context);
        int r = read_full_file_at(AT_FDCWD, path, DOCKERFILE_SIZE_MAX, ret_buf, ret_len);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int write_iidfile(const char *path, const char *id)
{
        int r = write_file_atomic_at(AT_FDCWD, path, id, strlen(id), 0644);
        if (r < 0)
                log_error("write '%s': %s", path, strerror(-r));
        return r;
}

/* The build cache's size limit: STRATA_BUILD_CACHE_MAX ("2GB", "512m", "0": none), else a
 * tenth of the store's file system, as BuildKit's default. -1: no limit. */
static int64_t cache_max(struct cli *c)
{
        const char *v = getenv("STRATA_BUILD_CACHE_MAX");
        int64_t max = 0;
        if (v && runtime_parse_bytes(v, &max) < 0) {
                log_warning("invalid STRATA_BUILD_CACHE_MAX '%s', ignoring", v);
                v = NULL;
        }
        if (v)
                return max > 0 ? max : -1;
        struct statvfs sv;
        if (statvfs(store_root(c->store), &sv) < 0)
                return -1;
        return (int64_t)((uint64_t)sv.f_blocks * sv.f_frsize / 10);
}

/* After a build: evict the least recently used cache entries while the cache's exclusive
 * storage is over its limit, then collect their layers. Failures only warn. */
static void cap_cache(struct cli *c)
{
        _cleanup_error_ struct st_error *err = NULL;
        int64_t max = cache_max(c);
        uint64_t size = 0;
        if (max < 0 || store_build_cache_size(c->store, &size, &err) < 0 || size <= (uint64_t)max)
                return;
        struct store_cache_trim t = { .keep_bytes = max };
        if (store_build_cache_trim(c->store, &t, NULL, &err) < 0 ||
            store_gc(c->store, NULL, &err) < 0)
                log_warning("trim the build cache: %s, ignoring", st_error_msg(err));
}

static void print_tty_result(struct build_args *a, const char *id)
{
        _cleanup_free_ char *w = xasprintf(" => => writing image %s done", id);
        build_tty_print(a->tty, " => exporting to image");
        build_tty_print(a->tty, w);
        STRV_FOREACH(t, a->tags) {
                _cleanup_free_ char *n = xasprintf(" => => naming to %s done", *t);
                build_tty_print(a->tty, n);
        }
}

static int do_build(struct cli *c, struct build_args *a, const char *context)
{
        _cleanup_free_ char *buf = NULL, *path = NULL;
        size_t len = 0;
        int r = read_dockerfile(a, context, &buf, &len, &path);
        if (r == -EFBIG) {
                log_error("failed to read dockerfile: larger than %u bytes",
                          (unsigned)DOCKERFILE_SIZE_MAX);
                return EXIT_FAIL;
        }
        if (r < 0) {
                log_error("failed to read dockerfile: %s", strerror(-r));
                return EXIT_FAIL;
        }
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        const char *slash = path ? strrchr(path, '/') : NULL;
        a->o.context = context;
        a->o.dockerfile_name = path ? (slash ? slash + 1 : path) : "Dockerfile";
        a->o.dockerfile_path = path;
        a->o.dockerfile = buf;
        a->o.dockerfile_len = len;
        /* buildx passes the client's SOURCE_DATE_EPOCH on as the build arg */
        bool has_epoch = false;
        STRV_FOREACH(b, a->build_args)
                has_epoch = has_epoch || streq(*b, "SOURCE_DATE_EPOCH") ||
                            startswith(*b, "SOURCE_DATE_EPOCH=");
        if (!has_epoch && getenv("SOURCE_DATE_EPOCH"))
                strv_push(&a->build_args, "SOURCE_DATE_EPOCH");
        a->o.build_args = a->build_args;
        a->o.envp = environ;
        a->o.labels = a->labels;
        a->o.no_cache_filter = a->no_cache_filter;
        a->o.secrets = a->secrets;
        a->o.tags = a->tags;
        a->o.search_path = getenv("PATH");
        a->o.progress = progress;
        a->o.progress_data = a;
        a->o.ensure_image = ensure_image;
        a->o.ensure_data = a;
        a->o.download = download;
        a->o.download_data = a;
        a->cli = c;
        char id[DIGEST_STR_LEN + 1];
        _cleanup_error_ struct st_error *err = NULL;
        if (want_tty(a))
                a->tty = build_tty_new(stderr);
        r = build_image(c->store, &a->o, id, &err);
        if (a->tty)
                build_tty_finish(a->tty, r >= 0);
        cap_cache(c);
        if (r < 0)
                return cli_fail(err);
        if (a->quiet)
                printf("%s\n", id);
        else if (a->tty)
                print_tty_result(a, id);
        else
                fprintf(stderr, "#%u writing image %s done\n", a->last_id + 1, id);
        STRV_FOREACH(t, a->tags)
                if (!a->quiet && !a->tty)
                        fprintf(stderr, "#%u naming to %s done\n", a->last_id + 1, *t);
        if (a->iidfile && write_iidfile(a->iidfile, id) < 0)
                return EXIT_FAIL;
        return EXIT_OK;
}

int verb_build(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "tag", required_argument, NULL, 't' },
                { "file", required_argument, NULL, 'f' },
                { "build-arg", required_argument, NULL, 'b' },
                { "target", required_argument, NULL, 'T' },
                { "no-cache", no_argument, NULL, 'n' },
                { "label", required_argument, NULL, 'l' },
                { "network", required_argument, NULL, 'N' },
                { "progress", required_argument, NULL, 'P' },
                { "quiet", no_argument, NULL, 'q' },
                { "iidfile", required_argument, NULL, 'i' },
                { "platform", required_argument, NULL, 'p' },
                { "pull", no_argument, NULL, 'u' },
                { "secret", required_argument, NULL, 'S' },
                { "compression", required_argument, NULL, 'C' },
                { "compression-level", required_argument, NULL, 'L' },
                { "explain", no_argument, NULL, 'E' },
                { "no-cache-filter", required_argument, NULL, 'F' },
                { "allow", required_argument, NULL, 'A' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        struct build_args a = { 0 };
        int ex = 0;
        int i = cli_parse_flags("build", argc, argv, "t:f:qH", opts, on_flag, &a, 1, &ex);
        if (i < 0) {
                release(&a);
                return ex;
        }
        if (argc - i != 1) {
                release(&a);
                return cli_usage_error("build", "\"build\" requires exactly 1 argument");
        }
        if (check_compression(&a) < 0) {
                release(&a);
                return EXIT_USAGE;
        }
        const char *context = streq(argv[i], "-") ? NULL : argv[i];
        ex = do_build(c, &a, context);
        release(&a);
        return ex;
}

/* A Go duration ("24h", "1h30m", "90s", "1.5h") in seconds into *RET; -EINVAL if bad. */
static int parse_duration(const char *s, double *ret)
{
        static const struct {
                const char *unit;
                double secs;
        } units[] = { { "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 },
                      { "s", 1 },     { "m", 60 },    { "h", 3600 } };

        double total = 0;
        if (!*s)
                return -EINVAL;
        while (*s) {
                char *end = NULL;
                errno = 0;
                double v = strtod(s, &end);
                if (errno || end == s || !(v >= 0 && v < 1e12) || *s == '+' || *s == '-')
                        return -EINVAL;
                size_t n = strspn(end, "numsh");
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(units) && !ok; i++)
                        if (n == strlen(units[i].unit) && strncmp(end, units[i].unit, n) == 0) {
                                total += v * units[i].secs;
                                ok = true;
                        }
                if (!ok)
                        return -EINVAL;
                s = end + n;
        }
        *ret = total;
        return 0;
}

struct prune_args {
        struct store_cache_trim t;
        bool filtered;
        const char *bad; /* the first bad value, for the message */
};

static int on_prune_flag(int opt, const char *arg, void *userdata)
{
        struct prune_args *a = userdata;
        double secs = 0;
        switch (opt) {
        case 'a': /* every entry is unused by a running build: -a changes nothing */
        case 'f': /* no prompt to skip */
                return 0;
        case 'k':
                a->filtered = true;
                if (runtime_parse_bytes(arg, &a->t.keep_bytes) < 0 && !a->bad)
                        a->bad = arg;
                return 0;
        case 'F':
                if ((!startswith(arg, "until=") || parse_duration(arg + 6, &secs) < 0) && !a->bad)
                        a->bad = arg;
                a->filtered = true;
                a->t.until = (int64_t)time(NULL) - (int64_t)secs;
                return 0;
        default:
                return -EINVAL;
        }
}

int verb_builder(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },
                { "keep-storage", required_argument, NULL, 'k' },
                { "filter", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h")))
                return cli_help_flags("builder", "afH", opts);
        if (argc < 2 || !streq(argv[1], "prune"))
                return cli_usage_error("builder", "usage: strata builder prune [OPTIONS]");
        struct prune_args a = { .t = { .keep_bytes = -1 } };
        int ex = 0;
        if (cli_parse_flags("builder", argc - 1, argv + 1, "afH", opts, on_prune_flag, &a, 0, &ex) <
            0)
                return ex;
        if (a.bad)
                return cli_usage_error("builder",
                                       "invalid value '%s': expected --keep-storage SIZE or"
                                       " --filter until=DURATION",
                                       a.bad);
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        _cleanup_error_ struct st_error *err = NULL;
        uint64_t n = 0;
        struct store_gc_stats stats = { 0 };
        int r = a.filtered ? store_build_cache_trim(c->store, &a.t, &n, &err)
                           : store_build_cache_prune(c->store, &n, &err);
        if (r < 0 || store_gc(c->store, &stats, &err) < 0)
                return cli_fail(err);
        _cleanup_free_ char *freed = format_bytes_docker(stats.bytes_freed);
        printf("Deleted build cache objects: %llu\n", (unsigned long long)n);
        printf("Total reclaimed space: %s\n", freed);
        return EXIT_OK;
}
