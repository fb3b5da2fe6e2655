/* strata start, stop, kill, restart, wait, rm, ps, logs and the `container` verb group. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/format.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "json/json.h"
#include "runtime/container.h"
#include "runtime/logfile.h"

static int no_flags(int opt, const char *arg, void *u)
{
        (void)opt, (void)arg, (void)u;
        return -1;
}

/* Look up NAME; prints the error and returns < 0 if missing. */
static int lookup(struct cli *c, const char *name, struct store_container **ret)
{
        _cleanup_error_ struct st_error *err = NULL;
        if (store_container_lookup(c->store, name, ret, &err) < 0) {
                (void)cli_fail(err);
                return -1;
        }
        return 0;
}

/* ----- start, stop, kill, restart, wait, rm ----- */

struct start_flags {
        bool attach, interactive;
};

static int start_flag(int opt, const char *arg, void *u)
{
        struct start_flags *f = u;
        (void)arg;
        if (opt == 'a')
                f->attach = true;
        else if (opt == 'i')
                f->interactive = true;
        else
                return -1;
        return 0;
}

int verb_start(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "attach", no_argument, NULL, 'a' },
                { "interactive", no_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        struct start_flags f = { 0 };
        int ret = EXIT_OK;
        int i = cli_parse_flags("start", argc, argv, "ai", opts, start_flag, &f, 1, &ret);
        if (i < 0)
                return ret;
        if ((f.attach || f.interactive) && argc - i > 1)
                return cli_usage_error("start", "you cannot start and attach multiple containers"
                                                " at once");
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        for (; i < argc; i++) {
                _cleanup_store_container_ struct store_container *ct = NULL;
                if (lookup(c, argv[i], &ct) < 0) {
                        ret = EXIT_FAIL;
                        continue;
                }
                if (f.attach || f.interactive)
                        return cli_run_attached(c, ct, f.interactive);
                _cleanup_error_ struct st_error *err = NULL;
                if (cli_start_detached(c, ct, &err) < 0)
                        ret = cli_fail(err);
                else
                        puts(argv[i]);
        }
        return ret;
}

static int time_flag(int opt, const char *arg, void *u)
{
        if (opt != 't' || parse_int(arg, u) < 0)
                return -1;
        return 0;
}

static const struct option time_opts[] = {
        { "time", required_argument, NULL, 't' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'H' },
        {},
};

/* stop, and restart (stop, then start detached). */
static int stop_or_restart(struct cli *c, const char *verb, int argc, char **argv)
{
        int timeout = -1, ret = EXIT_OK;
        int i = cli_parse_flags(verb, argc, argv, "t:", time_opts, time_flag, &timeout, 1, &ret);
        if (i < 0)
                return ret;
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        for (; i < argc; i++) {
                _cleanup_store_container_ struct store_container *ct = NULL;
                _cleanup_error_ struct st_error *err = NULL;
                if (lookup(c, argv[i], &ct) < 0) {
                        ret = EXIT_FAIL;
                        continue;
                }
                int r = runtime_container_stop(&h, ct, timeout, &err);
                if (r >= 0 && streq(verb, "restart"))
                        r = cli_start_detached(c, ct, &err);
                if (r < 0)
                        ret = cli_fail(err);
                else
                        puts(argv[i]);
        }
        return ret;
}

int verb_stop(struct cli *c, int argc, char **argv)
{
        return stop_or_restart(c, "stop", argc, argv);
}

int verb_restart(struct cli *c, int argc, char **argv)
{
        return stop_or_restart(c, "restart", argc, argv);
}

static int signal_flag(int opt, const char *arg, void *u)
{
        if (opt != 's')
                return -1;
        *(const char **)u = arg;
        return 0;
}

int verb_kill(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "signal", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        const char *sig_name = "KILL";
        int ret = EXIT_OK, sig;
        int i = cli_parse_flags("kill", argc, argv, "s:", opts, signal_flag, &sig_name, 1, &ret);
        if (i < 0)
                return ret;
        if (runtime_signal_parse(sig_name, &sig) < 0)
                return cli_usage_error("kill", "invalid signal: %s", sig_name);
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        for (; i < argc; i++) {
                _cleanup_store_container_ struct store_container *ct = NULL;
                _cleanup_error_ struct st_error *err = NULL;
                if (lookup(c, argv[i], &ct) < 0)
                        ret = EXIT_FAIL;
                else if (runtime_container_kill(&h, ct, sig, &err) < 0)
                        ret = cli_fail(err);
                else
                        puts(argv[i]);
        }
        return ret;
}

int verb_wait(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'H' }, {} };
        int ret = EXIT_OK;
        int i = cli_parse_flags("wait", argc, argv, "", opts, no_flags, NULL, 1, &ret);
        if (i < 0)
                return ret;
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        for (; i < argc; i++) {
                _cleanup_error_ struct st_error *err = NULL;
                int code = 0;
                if (runtime_container_wait(&h, argv[i], &code, &err) < 0)
                        ret = cli_fail(err);
                else
                        printf("%d\n", code);
        }
        return ret;
}

struct rm_flags {
        bool force, volumes;
};

static int rm_flag(int opt, const char *arg, void *u)
{
        struct rm_flags *f = u;
        (void)arg;
        if (opt == 'f')
                f->force = true;
        else if (opt == 'v')
                f->volumes = true; /* anonymous volumes live in the container's dir: always */
        else
                return -1;
        return 0;
}

int verb_rm(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { "volumes", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        struct rm_flags f = { 0 };
        int ret = EXIT_OK;
        int i = cli_parse_flags("rm", argc, argv, "fv", opts, rm_flag, &f, 1, &ret);
        if (i < 0)
                return ret;
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        for (; i < argc; i++) {
                _cleanup_store_container_ struct store_container *ct = NULL;
                _cleanup_error_ struct st_error *err = NULL;
                if (lookup(c, argv[i], &ct) < 0)
                        ret = EXIT_FAIL;
                else if (runtime_container_remove(&h, ct, f.force, &err) < 0)
                        ret = cli_fail(err);
                else
                        puts(argv[i]);
        }
        return ret;
}
