#include "runtime/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/format.h"
#include "basic/util.h"
#include "json/json.h"

#define PARTIAL_MAX (16 * 1024)

struct runtime_log {
        int fd;
        char partial[2][PARTIAL_MAX]; /* per stream: output not yet ended by a newline */
        size_t len[2];
};

int runtime_log_open(const char *path, struct runtime_log **ret, struct st_error **err)
{
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return st_error_set_errno(err, -errno, "open log '%s'", path);
        struct runtime_log *l = xcalloc(1, sizeof(*l));
        l->fd = fd;
        *ret = l;
        return 0;
}

/* Length of the valid UTF-8 sequence at P (N bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
        size_t len = p[0] < 0x80             ? 1
                     : (p[0] & 0xe0) == 0xc0 ? 2
                     : (p[0] & 0xf0) == 0xe0 ? 3
                     : (p[0] & 0xf8) == 0xf0 ? 4
                                             : 0;
        if (len == 0 || len > n || (len == 2 && p[0] < 0xc2) || (len == 4 && p[0] > 0xf4))
                return 0;
        for (size_t i = 1; i < len; i++)
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
        if (len == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
                return 0; /* overlong, surrogates */
        if (len == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
                return 0;
        return len;
}

/* BUF as the body of a JSON string (Go's encoding/json escaping for the common cases). */
static char *json_escape(const char *buf, size_t n)
{
        char *out = xmalloc(n * 6 + 1);
        size_t o = 0;
        const unsigned char *p = (const unsigned char *)buf;
        for (size_t i = 0; i < n;) {
                unsigned char c = p[i];
                size_t len = utf8_len(p + i, n - i);
                if (len == 0) {
                        o += (size_t)snprintf(out + o, 7, "\\ufffd");
                        i++;
                } else if (len > 1) {
                        memcpy(out + o, p + i, len);
                        o += len;
                        i += len;
                } else {
                        if (c == '"' || c == '\\') {
                                out[o++] = '\\';
                                out[o++] = (char)c;
                        } else if (c == '\n') {
                                out[o++] = '\\', out[o++] = 'n';
                        } else if (c == '\r') {
                                out[o++] = '\\', out[o++] = 'r';
                        } else if (c == '\t') {
                                out[o++] = '\\', out[o++] = 't';
                        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                                o += (size_t)snprintf(out + o, 7, "\\u%04x", c);
                        } else {
                                out[o++] = (char)c;
                        }
                        i++;
                }
        }
        out[o] = 0;
        return out;
}

char *runtime_log_entry(enum runtime_stream stream, const char *buf, size_t n, int64_t sec,
                        long nsec)
{
        _cleanup_free_ char *body = json_escape(buf, n);
        _cleanup_free_ char *t = format_time_rfc3339(sec, nsec);
        return xasprintf("{\"log\":\"%s\",\"stream\":\"%s\",\"time\":\"%s\"}\n", body,
                         stream == RUNTIME_STDERR ? "stderr" : "stdout", t);
}

static void emit(struct runtime_log *l, enum runtime_stream stream, const char *buf, size_t n)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        _cleanup_free_ char *e = runtime_log_entry(stream, buf, n, ts.tv_sec, ts.tv_nsec);
        (void)write_full(l->fd, e, strlen(e));
}

void runtime_log_write(struct runtime_log *l, enum runtime_stream stream, const char *buf, size_t n)
{
        int s = stream == RUNTIME_STDERR;
        while (n > 0) {
                const char *nl = memchr(buf, '\n', n);
                size_t take = nl ? (size_t)(nl - buf) + 1 : n;
                size_t room = PARTIAL_MAX - l->len[s];
                if (take > room)
                        take = room;
                memcpy(l->partial[s] + l->len[s], buf, take);
                l->len[s] += take;
                buf += take;
                n -= take;
                if (l->partial[s][l->len[s] - 1] == '\n' || l->len[s] == PARTIAL_MAX) {
                        emit(l, stream, l->partial[s], l->len[s]);
                        l->len[s] = 0;
                }
        }
}

void runtime_log_flush(struct runtime_log *l)
{
        for (int s = 0; s < 2; s++)
                if (l->len[s]) {
                        emit(l, s ? RUNTIME_STDERR : RUNTIME_STDOUT, l->partial[s], l->len[s]);
                        l->len[s] = 0;
                }
}

struct runtime_log *runtime_log_close(struct runtime_log *l)
{
        if (!l)
                return NULL;
        runtime_log_flush(l);
        safe_close(l->fd);
        free(l);
        return NULL;
}

int runtime_log_parse(const char *line, struct runtime_log_record *ret, struct st_error **err)
{
        _cleanup_json_ json_t *j = json_loads(line, JSON_ALLOW_NUL, NULL);
        json_t *log = json_object_get(j, "log");
        const char *stream = json_get_str(j, "stream"), *t = json_get_str(j, "time");
        if (!json_is_string(log) || !stream || !t)
                return st_error_set(err, ST_E_PARSE, "not a log entry");
        size_t n = json_string_length(log);
        struct runtime_log_record r = {
                .stream = streq(stream, "stderr") ? RUNTIME_STDERR : RUNTIME_STDOUT,
                .text = xmalloc(n + 1),
                .len = n,
                .time = xstrdup(t),
        };
        memcpy(r.text, json_string_value(log), n);
        r.text[n] = 0;
        *ret = r;
        return 0;
}

void runtime_log_record_release(struct runtime_log_record *r)
{
        free(r->text);
        free(r->time);
        *r = (struct runtime_log_record){ 0 };
}
