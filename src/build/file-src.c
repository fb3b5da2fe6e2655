/* COPY/ADD sources the builder writes itself before copying them: a heredoc (`COPY <<EOF /d`)
 * and a URL of ADD (downloaded through the caller's hook, --checksum verified). Each is one file
 * alone in its own dir of the store's tmp dir, so that build_copy takes it from there with the
 * step's --chown, --chmod and destination rules. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "build/build-internal.h"

#define UNNAMED "__unnamed__"

bool build_is_url(const char *s)
{
        return startswith(s, "http://") || startswith(s, "https://");
}

bool build_is_git_source(const char *s)
{
        if (startswith(s, "git://") || startswith(s, "git@") || startswith(s, "ssh://"))
                return true;
        if (!build_is_url(s))
                return false;
        size_t n = strcspn(s, "?#");
        return n >= 4 && memcmp(s + n - 4, ".git", 4) == 0;
}

char *build_url_for_message(const char *url)
{
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        size_t auth = strcspn(p, "/?#");
        const char *at = memchr(p, '@', auth);
        const char *host = at ? at + 1 : p;
        return xasprintf("%.*s%.*s", (int)(p - url), url, (int)strcspn(host, "?#"), host);
}

char *build_url_redacted(const char *url)
{
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        size_t auth = strcspn(p, "/?#");
        const char *at = memchr(p, '@', auth);
        if (!at)
                return xstrdup(url);
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t keep = colon ? (size_t)(colon - p) + 1 : 0; /* the user, when there is a password */
        return xasprintf("%.*sxxxxx%s", (int)(p - url + keep), url, at);
}

static int unhex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

char *build_url_file_name(const char *url)
{
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        p += strcspn(p, "/?#"); /* the path starts after the authority */
        size_t n = strcspn(p, "?#");
        while (n > 0 && p[n - 1] == '/')
                n--;
        size_t start = n;
        while (start > 0 && p[start - 1] != '/')
                start--;
        _cleanup_free_ char *name = xmalloc(n - start + 1);
        size_t k = 0;
        for (size_t i = start; i < n; i++) {
                int hi, lo;
                if (p[i] == '%' && i + 2 < n && (hi = unhex(p[i + 1])) >= 0 &&
                    (lo = unhex(p[i + 2])) >= 0) {
                        name[k++] = (char)(hi * 16 + lo);
                        i += 2;
                } else
                        name[k++] = p[i];
        }
        name[k] = 0;
        /* path.Base's "." and "/" give BuildKit's "__unnamed__"; a decoded NUL, '/' or ".."
         * could not name one file either */
        if (k == 0 || strlen(name) != k || strchr(name, '/') || streq(name, ".") ||
            streq(name, ".."))
                return xstrdup(UNNAMED);
        return TAKE_PTR(name);
}

static int make_dir(struct builder *b, const char *prefix, struct build_file_src *f,
                    struct st_error **err)
{
        int r = store_tmp_mkdir(b->s, prefix, &f->dir, err);
        if (r < 0)
                return r;
        f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (f->dir_fd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", f->dir);
        return 0;
}

/* Create F's file (empty, MODE exactly) in its dir: an fd, or <0 with *err set. */
static int create_file(struct build_file_src *f, mode_t mode, struct st_error **err)
{
        int fd = openat(f->dir_fd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        mode);
        if (fd < 0)
                return st_error_set_errno(err, -errno, "create '%s/%s'", f->dir, f->name);
        if (fchmod(fd, mode) < 0) {
                int r = st_error_set_errno(err, -errno, "chmod '%s/%s'", f->dir, f->name);
                safe_close(fd);
                return r;
        }
        return fd;
}

static const char *lookup_cb(void *userdata, const char *name)
{
        return build_state_lookup(userdata, name);
}

int build_file_src_heredoc(struct builder *b, const struct build_state *st,
                           const struct dockerfile_heredoc *h, struct build_file_src *f,
                           struct st_error **err)
{
        *f = (struct build_file_src){ .dir_fd = -1, .name = xstrdup(h->name) };
        _cleanup_free_ char *text = dockerfile_heredoc_text(h);
        _cleanup_free_ char *data = NULL;
        int r = 0;
        if (h->expand)
                r = dockerfile_expand_heredoc(text, lookup_cb, (void *)st, &data, err);
        else
                data = TAKE_PTR(text);
        if (r >= 0 &&
            (!*f->name || strchr(f->name, '/') || streq(f->name, ".") || streq(f->name, "..")))
                r = st_error_set(err, ST_E_PARSE, "invalid heredoc name '%s'", f->name);
        if (r >= 0)
                r = make_dir(b, "heredoc", f, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = create_file(f, 0644, err);
        if (fd < 0)
                return fd;
        r = write_full(fd, data, strlen(data));
        if (r < 0)
                return st_error_set_errno(err, r, "write '%s/%s'", f->dir, f->name);
        f->ready = true;
        return 0;
}

void build_file_src_url(const char *url, const char *checksum, struct build_file_src *f)
{
        *f = (struct build_file_src){
                .dir_fd = -1,
                .url = xstrdup(url),
                .name = build_url_file_name(url),
                .checksum = checksum,
        };
}

int build_file_src_fetch(struct builder *b, struct build_file_src *f, struct st_error **err)
{
        if (f->ready)
                return 0;
        int r = make_dir(b, "add-url", f, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = create_file(f, 0600, err);
        if (fd < 0)
                return fd;
        struct build_download d = { .last_modified = -1 };
        r = build_download_url(b, f->url, fd, &d, err);
        if (r < 0)
                return r;
        if (f->checksum && !streq(f->checksum, d.digest)) {
                _cleanup_free_ char *u = build_url_for_message(f->url);
                return st_error_set(err, ST_E_DIGEST_MISMATCH,
                                    "ADD %s: checksum mismatch: expected %s, got %s", u,
                                    f->checksum, d.digest);
        }
        if (d.last_modified >= 0) {
                struct timespec ts[2] = { { .tv_sec = (time_t)d.last_modified },
                                          { .tv_sec = (time_t)d.last_modified } };
                if (futimens(fd, ts) < 0)
                        return st_error_set_errno(err, -errno, "set the time of '%s'", f->name);
        }
        f->ready = true;
        return 0;
}

void build_file_src_release(struct build_file_src *f)
{
        safe_close(f->dir_fd);
        if (f->dir)
                (void)rm_rf_at(AT_FDCWD, f->dir);
        free(f->dir);
        free(f->url);
        free(f->name);
        *f = (struct build_file_src){ .dir_fd = -1 };
}
