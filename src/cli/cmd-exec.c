/* strata exec: run a command in a running container. */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "basic/util.h"
#include "cli/cli.h"
#include "runtime/container.h"

struct exec_args {
        struct runtime_exec_options o;
        char **env;
};

static int exec_flag(int opt, const char *arg, void *u)
{
        struct exec_args *a = u;
        switch (opt) {
        case 'i':
                a->o.interactive = true;
                break;
        case 't':
                a->o.tty = true;
                break;
        case 'd':
                a->o.detach = true;
                break;
        case 'u':
                a->o.user = arg;
                break;
        case 'w':
                a->o.workdir = arg;
                break;
        case 'e':
                strv_push(&a->env, arg);
                break;
        case 0x100:
                a->o.privileged = true;
                break;
        default:
                return -1;
        }
        return 0;
}

int verb_exec(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "interactive", no_argument, NULL, 'i' },
                { "tty", no_argument, NULL, 't' },
                { "detach", no_argument, NULL, 'd' },
                { "user", required_argument, NULL, 'u' },
                { "workdir", required_argument, NULL, 'w' },
                { "env", required_argument, NULL, 'e' },
                { "privileged", no_argument, NULL, 0x100 },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        struct exec_args a = { 0 };
        int ret = EXIT_OK;
        int i = cli_parse_flags("exec", argc, argv, "+itdu:w:e:", opts, exec_flag, &a, 2, &ret);
        _cleanup_strv_ char **env = a.env, **cmd = NULL;
        if (i < 0)
                return ret;
        if (a.o.workdir && a.o.workdir[0] != '/')
                return cli_usage_error("exec",
                                       "the working directory '%s' is invalid, it needs"
                                       " to be an absolute path",
                                       a.o.workdir);
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        _cleanup_store_container_ struct store_container *ct = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        if (store_container_lookup(c->store, argv[i], &ct, &err) < 0)
                return cli_fail(err);
        for (int k = i + 1; k < argc; k++)
                strv_push(&cmd, argv[k]);
        extern char **environ;
        a.o.cmd = cmd;
        a.o.env = env;
        a.o.host_env = environ;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        struct runtime_attach at = { .in_fd = STDIN_FILENO,
                                     .out_fd = STDOUT_FILENO,
                                     .err_fd = STDERR_FILENO };
        int status = 0;
        if (runtime_container_exec(&h, ct, &a.o, &at, &status, &err) < 0)
                return st_error_code(err) == ST_E_NOT_RUNNING ? cli_fail(err)
                                                              : cli_run_exit_code(err);
        return status;
}
