/* strata login, strata logout. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "registry/auth.h"

#define SECRET_MAX (64 * 1024)

struct login_args {
        const char *username, *password;
        bool password_stdin;
        int tls_verify;
};

enum { OPT_PASSWORD_STDIN = 0x100, OPT_TLS_VERIFY };

/* The registry domain of a login argument: "https://host/v1/" -> "host"; caller frees. */
static char *server_domain(const char *arg)
{
        if (!arg || !*arg)
                return xstrdup("docker.io");
        const char *s = startswith(arg, "https://") ?: startswith(arg, "http://") ?: arg;
        char *d = xstrndup(s, strcspn(s, "/"));
        if (streq(d, "index.docker.io") || streq(d, "registry-1.docker.io")) {
                free(d);
                d = xstrdup("docker.io");
        }
        return d;
}

static void strip_newline(char *s)
{
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
                s[--n] = 0;
}

/* A line from the terminal after PROMPT, echo off for secrets; caller frees. */
static char *prompt(const char *text, bool secret)
{
        fputs(text, stderr);
        fflush(stderr);
        struct termios old, quiet;
        bool restore = secret && tcgetattr(STDIN_FILENO, &old) == 0;
        if (restore) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t)ECHO;
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        char buf[1024];
        char *got = fgets(buf, sizeof(buf), stdin);
        if (restore) {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        if (!got)
                return NULL;
        strip_newline(buf);
        char *r = xstrdup(buf);
        explicit_bzero(buf, sizeof(buf));
        return r;
}

static int read_stdin_secret(char **ret, struct st_error **err)
{
        char *buf = NULL;
        size_t len = 0;
        int r = read_full_fd(STDIN_FILENO, SECRET_MAX, &buf, &len);
        if (r < 0)
                return st_error_set_errno(err, r, "read the password from stdin");
        strip_newline(buf);
        *ret = buf;
        return 0;
}

static bool stop(int *ret_exit, int code)
{
        *ret_exit = code;
        return false;
}

static bool parse_args(int argc, char **argv, struct login_args *a, int *ret_exit)
{
        static const struct option opts[] = {
                { "username", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'p' },
                { "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
                { "tls-verify", optional_argument, NULL, OPT_TLS_VERIFY },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int o;
        while ((o = getopt_long(argc, argv, "u:p:h", opts, NULL)) >= 0) {
                if (o == 'u')
                        a->username = optarg;
                else if (o == 'p')
                        a->password = optarg;
                else if (o == OPT_PASSWORD_STDIN)
                        a->password_stdin = true;
                else if (o == OPT_TLS_VERIFY &&
                         cli_parse_tls_verify("login", optarg, &a->tls_verify) < 0)
                        return stop(ret_exit, EXIT_USAGE);
                else if (o == 'h')
                        return stop(ret_exit, cli_help_flags("login", "u:p:h", opts));
                else if (o == '?')
                        return stop(ret_exit, cli_usage_error("login", "invalid option"));
        }
        if (argc - optind > 1)
                return stop(ret_exit, cli_usage_error("login", "\"login\" requires at most 1"
                                                               " argument"));
        if (a->password && a->password_stdin)
                return stop(ret_exit, cli_usage_error("login", "--password and --password-stdin"
                                                               " are mutually exclusive"));
        if (a->password_stdin && !a->username)
                return stop(ret_exit, cli_usage_error("login", "Must provide --username with"
                                                               " --password-stdin"));
        return true;
}

/* Username and password from the flags, stdin, or the terminal. */
static int credentials(const struct login_args *a, char **user, char **pass, struct st_error **err)
{
        bool tty = isatty(STDIN_FILENO);
        *user = a->username ? xstrdup(a->username) : tty ? prompt("Username: ", false) : NULL;
        if (!*user || !**user)
                return st_error_set(err, ST_E_USAGE,
                                    "Cannot perform an interactive login from a"
                                    " non TTY device");
        if (a->password_stdin)
                return read_stdin_secret(pass, err);
        if (a->password) {
                fputs("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
                      stderr);
                *pass = xstrdup(a->password);
                return 0;
        }
        *pass = tty ? prompt("Password: ", true) : NULL;
        if (!*pass || !**pass)
                return st_error_set(err, ST_E_USAGE, "Error: Password Required");
        return 0;
}

static void wipe(char *s)
{
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
}

int verb_login(struct cli *c, int argc, char **argv)
{
        (void)c;
        struct login_args a = { .tls_verify = -1 };
        int ex = EXIT_OK;
        if (!parse_args(argc, argv, &a, &ex))
                return ex;
        _cleanup_free_ char *domain = server_domain(argv[optind]);
        _cleanup_error_ struct st_error *err = NULL;
        char *user = NULL, *pass = NULL;
        _cleanup_registry_ctx_ struct registry_ctx *ctx = NULL;
        signal(SIGPIPE, SIG_IGN);
        int r = credentials(&a, &user, &pass, &err);
        if (r >= 0)
                r = cli_registry_ctx(a.tls_verify, &ctx, &err);
        if (r >= 0)
                r = registry_login(ctx, domain, user, pass, &err);
        wipe(user);
        wipe(pass);
        if (r < 0)
                return cli_fail(err);
        puts("Login Succeeded");
        return EXIT_OK;
}

int verb_logout(struct cli *c, int argc, char **argv)
{
        (void)c;
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        int o;
        while ((o = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                if (o == 'h')
                        return cli_help("logout");
                return cli_usage_error("logout", "invalid option");
        }
        if (argc - optind > 1)
                return cli_usage_error("logout", "\"logout\" requires at most 1 argument");
        _cleanup_free_ char *domain = server_domain(argv[optind]);
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_registry_ctx_ struct registry_ctx *ctx = NULL;
        int r = cli_registry_ctx(-1, &ctx, &err);
        if (r >= 0)
                r = registry_logout(ctx, domain, &err);
        if (r < 0)
                return cli_fail(err);
        _cleanup_free_ char *key = registry_auth_key(domain);
        if (r == 0)
                printf("Not logged in to %s\n", key);
        else
                printf("Removing login credentials for %s\n", key);
        return EXIT_OK;
}
