/* The registry context from the environment, and Docker's pull/push progress display. */
#include "cli/remote.h"

#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "basic/format.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "image/reference.h"

#define BAR_WIDTH 50

static void trace_stderr(const char *line, void *userdata)
{
        (void)userdata;
        fprintf(stderr, "strata: trace: %s\n", line);
}

static bool trace_wanted(const char *component)
{
        const char *t = secure_getenv("STRATA_TRACE");
        if (!t)
                return false;
        for (const char *p = t; *p;) {
                size_t n = strcspn(p, ",");
                if ((n == strlen(component) && !strncmp(p, component, n)) ||
                    (n == 3 && !strncmp(p, "all", 3)))
                        return true;
                p += n + (p[n] == ',');
        }
        return false;
}

static char *auth_file(void)
{
        const char *f = secure_getenv("REGISTRY_AUTH_FILE");
        if (f && *f)
                return xstrdup(f);
        const char *d = secure_getenv("DOCKER_CONFIG");
        if (d && *d)
                return xasprintf("%s/config.json", d);
        const char *home = secure_getenv("HOME");
        struct passwd *pw = home ? NULL : getpwuid(getuid());
        if (!home && pw)
                home = pw->pw_dir;
        return home ? xasprintf("%s/.docker/config.json", home) : NULL;
}

/* STRATA_HTTP_STALL_TIMEOUT: seconds without a byte before a transfer is retried (tests). */
static unsigned stall_timeout(void)
{
        const char *v = secure_getenv("STRATA_HTTP_STALL_TIMEOUT");
        uint64_t n = 0;
        if (v && (parse_u64(v, &n) < 0 || n > 3600))
                n = 0;
        return (unsigned)n;
}

int cli_registry_ctx(int tls_verify, struct registry_ctx **ret, struct st_error **err)
{
        _cleanup_free_ char *auth = auth_file();
        struct registry_ctx_opts o = {
                .stall_timeout = stall_timeout(),
                .config_dir = secure_getenv("STRATA_CONFIG_DIR"),
                .auth_file = auth,
                .tls_verify = tls_verify,
                .trace = trace_wanted("registry") ? trace_stderr : NULL,
        };
        return registry_ctx_new(&o, ret, err);
}

int cli_parse_tls_verify(const char *verb, const char *arg, int *ret)
{
        bool b;
        if (cli_parse_bool(arg, &b) < 0) {
                cli_usage_error(verb, "invalid argument \"%s\" for \"--tls-verify\"", arg);
                return -1;
        }
        *ret = b;
        return 0;
}

int cli_parse_parallel(const char *verb, const char *arg, unsigned *ret)
{
        int n = 0;
        if (parse_int(arg, &n) < 0 || n < 1 || n > REGISTRY_MAX_PARALLEL) {
                cli_usage_error(verb, "invalid concurrency \"%s\" (1 to %d)", arg,
                                REGISTRY_MAX_PARALLEL);
                return -1;
        }
        *ret = (unsigned)n;
        return 0;
}

/* ----- progress ----- */

struct cli_progress {
        FILE *f;
        bool push, quiet, tty;
        char **ids; /* on a terminal: the line of each id, in order */
};

struct cli_progress *cli_progress_new(FILE *f, bool push, bool quiet)
{
        struct cli_progress *p = xcalloc(1, sizeof(*p));
        p->f = f;
        p->push = push;
        p->quiet = quiet;
        p->tty = isatty(fileno(f)) && !secure_getenv("STRATA_NO_TTY");
        return p;
}

void cli_progress_free(struct cli_progress *p)
{
        if (!p)
                return;
        strv_free(p->ids);
        free(p);
}

static char *bar(const struct registry_event *ev, const char *verb)
{
        uint64_t total = ev->total ?: 1;
        size_t n = (size_t)(MIN(ev->current, total) * BAR_WIDTH / total);
        char b[BAR_WIDTH + 1];
        memset(b, ' ', BAR_WIDTH);
        memset(b, '=', n);
        if (n < BAR_WIDTH)
                b[n] = '>';
        b[BAR_WIDTH] = 0;
        _cleanup_free_ char *cur = format_bytes_docker(ev->current);
        _cleanup_free_ char *tot = format_bytes_docker(ev->total);
        return xasprintf("%s [%s] %8s/%s", verb, b, cur, tot);
}

/* The status text of EV, or NULL if it has none in this mode; caller frees. */
static char *status_text(const struct cli_progress *p, const struct registry_event *ev)
{
        switch (ev->type) {
        case REGISTRY_EVENT_EXISTS:
                return xstrdup(p->push ? "Layer already exists" : "Already exists");
        case REGISTRY_EVENT_QUEUED:
                return xstrdup(p->push ? "Preparing" : "Pulling fs layer");
        case REGISTRY_EVENT_PROGRESS:
                return p->tty ? bar(ev, p->push ? "Pushing" : "Downloading") : NULL;
        case REGISTRY_EVENT_VERIFYING:
                return xstrdup("Download complete");
        case REGISTRY_EVENT_DONE:
                return xstrdup(p->push ? "Pushed" : "Pull complete");
        case REGISTRY_EVENT_MOUNTED:
                return xasprintf("Mounted from %s", ev->text);
        default:
                return NULL;
        }
}

/* Docker's jsonmessage on a terminal: one line per id, rewritten in place. */
static void tty_line(struct cli_progress *p, const char *id, const char *text)
{
        size_t n = strv_length(p->ids), i = 0;
        while (i < n && !streq(p->ids[i], id))
                i++;
        if (i == n) {
                strv_push(&p->ids, id);
                fprintf(p->f, "%s: %s\n", id, text);
                return;
        }
        size_t up = n - i;
        fprintf(p->f, "\033[%zuA\r\033[2K%s: %s\r\033[%zuB", up, id, text, up);
}

void cli_progress_event(const struct registry_event *ev, void *userdata)
{
        struct cli_progress *p = userdata;
        if (p->quiet)
                return;
        if (ev->type == REGISTRY_EVENT_PULLING || ev->type == REGISTRY_EVENT_PUSHING) {
                fprintf(p->f, "%s\n", ev->text);
                p->ids = strv_free(p->ids);
        } else {
                _cleanup_free_ char *text = status_text(p, ev);
                if (text && p->tty)
                        tty_line(p, ev->id, text);
                else if (text)
                        fprintf(p->f, "%s: %s\n", ev->id, text);
        }
        fflush(p->f);
}

/* True if NAME is in the store; false if it is not; < 0 for any other failure. */
static int image_present(struct cli *c, const char *name, struct st_error **err)
{
        _cleanup_store_image_ struct store_image *img = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        int r = store_image_lookup(c->store, name, &img, &e);
        if (r >= 0)
                return 1;
        if (st_error_code(e) == ST_E_NOT_FOUND)
                return 0;
        return st_error_take(&e, r, err);
}

int cli_image_ensure(struct cli *c, const char *name, const char *policy, struct st_error **err)
{
        policy = policy ?: "missing";
        if (streq(policy, "never"))
                return 0;
        if (!streq(policy, "missing") && !streq(policy, "always"))
                return st_error_set(err, ST_E_USAGE,
                                    "invalid pull policy '%s': use always, missing or never",
                                    policy);
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        if (image_ref_parse(name, &ref, NULL) < 0)
                return 0;
        int r;
        if (streq(policy, "missing")) {
                r = image_present(c, name, err);
                if (r != 0)
                        return r < 0 ? r : 0;
                _cleanup_free_ char *fam = image_ref_familiar_string(ref);
                fprintf(stderr, "Unable to find image '%s' locally\n", fam);
        }
        _cleanup_registry_ctx_ struct registry_ctx *ctx = NULL;
        r = cli_registry_ctx(-1, &ctx, err);
        if (r < 0)
                return r;
        struct cli_progress *p = cli_progress_new(stderr, false, false);
        struct registry_pull_opts o = { .progress = cli_progress_event, .userdata = p };
        struct registry_pull_result res;
        r = registry_pull(ctx, c->store, ref, &o, &res, err);
        cli_progress_free(p);
        if (r < 0) {
                st_error_wrap(err, "pull '%s'", name);
                return r;
        }
        fprintf(stderr, "Digest: %s\nStatus: %s for %s\n", res.digest,
                res.downloaded ? "Downloaded newer image" : "Image is up to date", name);
        return 0;
}
