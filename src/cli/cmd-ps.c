/* strata ps, strata logs, and the `container` verb group. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/format.h"
#include "basic/log.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "json/json.h"
#include "runtime/container.h"
#include "runtime/logfile.h"

#define COMMAND_TRUNC  20
#define FOLLOW_POLL_MS 100

/* Go's strconv.Quote for the ASCII cases: quotes, backslashes, control characters. */
static char *go_quote(const char *s)
{
        char *out = xmalloc(strlen(s) * 4 + 3);
        size_t o = 0;
        out[o++] = '"';
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        out[o++] = '\\', out[o++] = (char)*p;
                } else if (*p == '\n') {
                        out[o++] = '\\', out[o++] = 'n';
                } else if (*p == '\t') {
                        out[o++] = '\\', out[o++] = 't';
                } else if (*p < 0x20 || *p == 0x7f) {
                        o += (size_t)snprintf(out + o, 5, "\\x%02x", *p);
                } else {
                        out[o++] = (char)*p;
                }
        }
        out[o++] = '"';
        out[o] = 0;
        return out;
}

/* "Path Args…", Docker's Ellipsis to COMMAND_TRUNC characters unless NO_TRUNC, quoted. */
static char *command_column(const json_t *cfg, bool no_trunc)
{
        _cleanup_free_ char *cmd = xstrdup(json_get_str(cfg, "Path") ?: "");
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, json_object_get(cfg, "Args")) {
                char *n = xasprintf("%s %s", cmd, json_string_value(v) ?: "");
                free(cmd);
                cmd = n;
        }
        if (!no_trunc && strlen(cmd) > COMMAND_TRUNC) {
                char *n = xasprintf("%.*s…", COMMAND_TRUNC - 1, cmd);
                free(cmd);
                cmd = n;
        }
        return go_quote(cmd);
}

static char *status_column(const struct store_container *ct, int64_t now)
{
        if (ct->state == STORE_CONTAINER_RUNNING) {
                _cleanup_free_ char *d = format_duration_human(now - ct->started_at / 1000000000);
                return xasprintf("Up %s", d);
        }
        if (ct->state == STORE_CONTAINER_EXITED) {
                _cleanup_free_ char *ago = format_time_ago(ct->finished_at / 1000000000, now);
                return xasprintf("Exited (%d) %s", ct->exit_code, ago);
        }
        return xstrdup("Created");
}

/* One `ps` row as the JSON object that --format templates see. */
static json_t *ps_row(const struct store_container *ct, bool no_trunc)
{
        int64_t now = (int64_t)time(NULL);
        _cleanup_json_ json_t *cfg = runtime_container_config(ct);
        _cleanup_free_ char *id = no_trunc ? xstrdup(ct->id) : xstrndup(ct->id, 12);
        _cleanup_free_ char *cmd = command_column(cfg, no_trunc);
        _cleanup_free_ char *at = cli_time_go(ct->created / 1000000000);
        _cleanup_free_ char *since = format_time_ago(ct->created / 1000000000, now);
        _cleanup_free_ char *status = status_column(ct, now);
        const char *net = json_get_str(json_object_get(cfg, "HostConfig"), "NetworkMode");
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                         "Command", cmd, "CreatedAt", at, "ID", id, "Image", ct->image_name,
                         "Labels", "", "LocalVolumes", "0", "Mounts", "", "Names", ct->name,
                         "Networks", net ? net : "", "Ports", "", "RunningFor", since, "State",
                         store_container_state_to_string(ct->state), "Status", status);
}

static const char *ps_header(const char *field)
{
        static const struct {
                const char *field, *header;
        } names[] = {
                { "ID", "CONTAINER ID" },
                { "RunningFor", "CREATED" },
                { "CreatedAt", "CREATED AT" },
                { "LocalVolumes", "LOCAL VOLUMES" },
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(field, names[i].field))
                        return names[i].header;
        return cli_image_header(field);
}

struct ps_flags {
        bool all, quiet, no_trunc;
        const char *format;
};

static int ps_flag(int opt, const char *arg, void *u)
{
        struct ps_flags *f = u;
        if (opt == 'a')
                f->all = true;
        else if (opt == 'q')
                f->quiet = true;
        else if (opt == 'n')
                f->no_trunc = true;
        else if (opt == 'F')
                f->format = arg;
        else
                return -1;
        return 0;
}

static int ps_print(json_t **rows, size_t n, const struct ps_flags *f, struct st_error **err)
{
        if (f->quiet) {
                for (size_t i = 0; i < n; i++)
                        puts(json_get_str(rows[i], "ID"));
                return 0;
        }
        return cli_print_formatted(f->format ? f->format
                                             : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t"
                                               "{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t"
                                               "{{.Names}}",
                                   rows, n, ps_header, err);
}

int verb_ps(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },      { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'n' }, { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'H' },     {},
        };
        struct ps_flags f = { 0 };
        int ret = EXIT_OK;
        if (cli_parse_flags("ps", argc, argv, "aq", opts, ps_flag, &f, 0, &ret) < 0)
                return ret;
        if (optind < argc)
                return cli_usage_error("ps", "\"ps\" accepts no arguments");
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        _cleanup_error_ struct st_error *err = NULL;
        struct store_container **l = NULL;
        size_t n = 0, k = 0;
        if (store_container_list(c->store, &l, &n, &err) < 0)
                return cli_fail(err);
        json_t **rows = xcalloc(n + 1, sizeof(json_t *));
        for (size_t i = 0; i < n; i++) {
                (void)runtime_container_refresh(&h, l[i], NULL);
                if (f.all || l[i]->state == STORE_CONTAINER_RUNNING)
                        rows[k++] = ps_row(l[i], f.no_trunc);
        }
        store_container_list_free(l, n);
        int r = ps_print(rows, k, &f, &err);
        for (size_t i = 0; i < k; i++)
                json_decref(rows[i]);
        free(rows);
        return r < 0 ? cli_fail(err) : EXIT_OK;
}

/* ----- logs ----- */

struct logs_flags {
        bool follow, timestamps;
        long tail; /* -1: all */
};

static int logs_flag(int opt, const char *arg, void *u)
{
        struct logs_flags *f = u;
        int n;
        if (opt == 'f')
                f->follow = true;
        else if (opt == 't')
                f->timestamps = true;
        else if (opt == 'n' && streq(arg, "all"))
                f->tail = -1;
        else if (opt == 'n' && parse_int(arg, &n) >= 0)
                f->tail = n < 0 ? -1 : n;
        else
                return -1;
        return 0;
}

static void print_entry(const char *line, const struct logs_flags *f)
{
        struct runtime_log_record rec;
        if (runtime_log_parse(line, &rec, NULL) < 0)
                return;
        FILE *out = rec.stream == RUNTIME_STDERR ? stderr : stdout;
        if (f->timestamps)
                fprintf(out, "%s ", rec.time);
        fwrite(rec.text, 1, rec.len, out);
        fflush(out);
        runtime_log_record_release(&rec);
}

/* Print the complete lines of F from its current position; the tail first if asked. Returns
 * whether any line was printed. */
static bool print_lines(FILE *in, const struct logs_flags *f, char ***tail_ring)
{
        char *line = NULL;
        size_t cap = 0;
        bool any = false;
        ssize_t n;
        long pos = ftell(in);
        while ((n = getline(&line, &cap, in)) > 0) {
                if (line[n - 1] != '\n') { /* a line being written: read it next time */
                        (void)fseek(in, pos, SEEK_SET);
                        break;
                }
                pos = ftell(in);
                any = true;
                if (tail_ring)
                        strv_push(tail_ring, line);
                else
                        print_entry(line, f);
        }
        clearerr(in);
        free(line);
        return any;
}

static void print_tail(char **lines, const struct logs_flags *f)
{
        size_t n = strv_length(lines);
        size_t from = f->tail < 0 || (size_t)f->tail >= n ? 0 : n - (size_t)f->tail;
        for (size_t i = from; i < n; i++)
                print_entry(lines[i], f);
}

static bool still_running(struct runtime_host *h, const char *id)
{
        _cleanup_store_container_ struct store_container *ct = NULL;
        if (store_container_lookup(h->store, id, &ct, NULL) < 0)
                return false;
        (void)runtime_container_refresh(h, ct, NULL);
        return ct->state == STORE_CONTAINER_RUNNING;
}

static int show_logs(struct cli *c, const struct store_container *ct, const struct logs_flags *f)
{
        struct runtime_host h;
        cli_runtime_host(c, &h);
        _cleanup_free_ char *path = runtime_container_log_path(&h, ct);
        _cleanup_fclose_ FILE *in = fopen(path, "re");
        if (!in && errno != ENOENT) {
                log_error_errno(-errno, "open '%s': %m", path);
                return EXIT_FAIL;
        }
        if (in) {
                _cleanup_strv_ char **lines = NULL;
                (void)print_lines(in, f, f->tail >= 0 ? &lines : NULL);
                print_tail(lines, f);
        }
        while (f->follow) {
                bool running = still_running(&h, ct->id);
                if (!in)
                        in = fopen(path, "re");
                bool any = in && print_lines(in, f, NULL);
                if (!running && !any)
                        break;
                if (!any) {
                        struct timespec ts = { 0, FOLLOW_POLL_MS * 1000000L };
                        nanosleep(&ts, NULL);
                }
        }
        return EXIT_OK;
}

int verb_logs(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "follow", no_argument, NULL, 'f' },
                { "timestamps", no_argument, NULL, 't' },
                { "tail", required_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        struct logs_flags f = { .tail = -1 };
        int ret = EXIT_OK;
        int i = cli_parse_flags("logs", argc, argv, "ftn:", opts, logs_flag, &f, 1, &ret);
        if (i < 0)
                return ret;
        if (argc - i != 1)
                return cli_usage_error("logs", "\"logs\" requires exactly 1 argument");
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        _cleanup_store_container_ struct store_container *ct = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        if (store_container_lookup(c->store, argv[i], &ct, &err) < 0)
                return cli_fail(err);
        return show_logs(c, ct, &f);
}
