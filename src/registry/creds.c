/* Credentials in Docker's config.json: auths (base64 "user:password"), credHelpers and
 * credsStore through docker-credential-NAME helpers (get/store/erase on stdin/stdout). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "json/json.h"
#include "registry/auth.h"
#include "registry/host.h"

#define HELPER_OUTPUT_MAX (64 * 1024)
#define HELPER_PREFIX     "docker-credential-"

extern char **environ;

static void wipe_free(char *s)
{
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
}

void registry_cred_release(struct registry_cred *c)
{
        wipe_free(c->username);
        wipe_free(c->password);
        wipe_free(c->identity_token);
        *c = (struct registry_cred){ 0 };
}

bool registry_cred_is_set(const struct registry_cred *c)
{
        return (c->username && c->password) || c->identity_token;
}

char *registry_auth_key(const char *domain)
{
        if (streq(domain, "docker.io") || streq(domain, "index.docker.io") ||
            streq(domain, REGISTRY_DOCKER_HOST))
                return xstrdup(REGISTRY_DOCKER_INDEX);
        return xstrdup(domain);
}

/* Docker's ConvertToHostname: drop the scheme and any path. */
static char *key_hostname(const char *key)
{
        const char *k = startswith(key, "https://") ?: startswith(key, "http://") ?: key;
        return xstrndup(k, strcspn(k, "/"));
}

static bool key_matches(const char *key, const char *domain)
{
        _cleanup_free_ char *h = key_hostname(key), *want = registry_auth_key(domain);
        if (streq(key, want) || streq(h, domain))
                return true;
        return streq(want, REGISTRY_DOCKER_INDEX) &&
               (streq(h, "index.docker.io") || streq(h, "docker.io") ||
                streq(h, REGISTRY_DOCKER_HOST));
}

/* The value of OBJ's member whose key matches DOMAIN, exact key first (borrowed). */
static json_t *lookup(json_t *obj, const char *domain)
{
        _cleanup_free_ char *want = registry_auth_key(domain);
        json_t *v = json_object_get(obj, want);
        const char *k;
        if (v)
                return v;
        json_object_foreach(obj, k, v) if (key_matches(k, domain)) return v;
        return NULL;
}

static int decode_auth(const char *b64, struct registry_cred *ret, struct st_error **err)
{
        size_t n = strlen(b64);
        if (n == 0)
                return 0;
        if (n % 4 != 0 || n > 64 * 1024)
                return st_error_set(err, ST_E_PARSE, "malformed 'auth' value");
        _cleanup_free_ unsigned char *out = xmalloc(n / 4 * 3 + 1);
        int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
        if (len < 0)
                return st_error_set(err, ST_E_PARSE, "malformed 'auth' value");
        for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
                len--;
        out[len] = 0;
        char *colon = memchr(out, ':', (size_t)len);
        if (!colon || strlen((char *)out) != (size_t)len) {
                explicit_bzero(out, (size_t)len);
                return st_error_set(err, ST_E_PARSE, "malformed 'auth' value");
        }
        ret->username = xstrndup((char *)out, (size_t)(colon - (char *)out));
        ret->password = xstrdup(colon + 1);
        explicit_bzero(out, (size_t)len);
        return 0;
}

static int entry_cred(json_t *e, struct registry_cred *ret, struct st_error **err)
{
        if (!json_is_object(e))
                return st_error_set(err, ST_E_PARSE, "an 'auths' entry is not an object");
        const char *auth = json_get_str(e, "auth"), *tok = json_get_str(e, "identitytoken");
        struct registry_cred c = { 0 };
        int r = auth ? decode_auth(auth, &c, err) : 0;
        if (r < 0)
                return r;
        if (!c.username && json_get_str(e, "username") && json_get_str(e, "password")) {
                c.username = xstrdup(json_get_str(e, "username"));
                c.password = xstrdup(json_get_str(e, "password"));
        }
        if (tok && *tok)
                c.identity_token = xstrdup(tok);
        *ret = c;
        return 0;
}

int registry_auth_parse(const char *buf, size_t len, const char *domain, struct registry_cred *ret,
                        char **ret_helper, struct st_error **err)
{
        _cleanup_json_ json_t *j = NULL;
        struct registry_cred c = { 0 };
        /* jansson's messages quote the text near the error: it could be a secret */
        if (len > 0 && json_parse(buf, len, REGISTRY_AUTH_FILE_MAX, "config.json", &j, NULL) < 0)
                return st_error_set(err, ST_E_PARSE, "config.json is not valid JSON");
        if (len > 0 && !json_is_object(j))
                return st_error_set(err, ST_E_PARSE, "config.json is not a JSON object");
        json_t *helper = lookup(json_object_get(j, "credHelpers"), domain);
        const char *store = json_get_str(j, "credsStore");
        const char *name = json_is_string(helper) && *json_string_value(helper)
                                   ? json_string_value(helper)
                           : store && *store ? store
                                             : NULL;
        json_t *e = name ? NULL : lookup(json_object_get(j, "auths"), domain);
        int r = e ? entry_cred(e, &c, err) : 0;
        if (r < 0)
                return r;
        *ret = c;
        *ret_helper = xstrdup(name);
        return 0;
}

/* ----- credential helpers ----- */

static bool helper_name_ok(const char *name)
{
        return *name && strlen(name) < 64 && !strpbrk(name, "/ \t\n") && name[0] != '.';
}

/* The absolute path of docker-credential-NAME on PATH, or NULL; caller frees. */
static char *helper_find(const char *name)
{
        const char *path = secure_getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *dirs = xstrdup(path);
        for (char *d = dirs, *next; d; d = next) {
                next = strchr(d, ':');
                if (next)
                        *next++ = 0;
                _cleanup_free_ char *p = xasprintf("%s/" HELPER_PREFIX "%s", *d ? d : ".", name);
                if (access(p, X_OK) == 0)
                        return TAKE_PTR(p);
        }
        return NULL;
}

struct helper_run {
        int status;
        char *out;
        size_t len;
};

static int helper_io(int fd, const char *input, struct helper_run *run)
{
        size_t n = strlen(input);
        for (size_t off = 0; off < n;) {
                ssize_t k = send(fd, input + off, n - off, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        break; /* the helper did not read; its answer says why */
                off += (size_t)k;
        }
        (void)shutdown(fd, SHUT_WR);
        int r = read_full_fd(fd, HELPER_OUTPUT_MAX, &run->out, &run->len);
        return r;
}

/* Run docker-credential-NAME VERB with INPUT on stdin; its stdout and exit status in *run. */
static int helper_exec(const char *exe, const char *verb, const char *input, struct helper_run *run,
                       struct st_error **err)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return st_error_set_errno(err, -errno, "socketpair");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, sv[1], STDOUT_FILENO);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        char *argv[] = { (char *)exe, (char *)verb, NULL };
        pid_t pid;
        int r = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        safe_close(sv[1]);
        if (r != 0) {
                safe_close(sv[0]);
                return st_error_set_errno(err, -r, "run '%s'", exe);
        }
        r = helper_io(sv[0], input, run);
        safe_close(sv[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        run->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        if (r < 0)
                return st_error_set_errno(err, r, "read from '%s'", exe);
        return 0;
}

static bool helper_not_found(const struct helper_run *run)
{
        return run->out && strcasestr(run->out, "credentials not found");
}

static int helper_failed(const char *name, const char *verb, const struct helper_run *run,
                         struct st_error **err)
{
        /* its first line, which for errors is the helper's message, never a secret */
        size_t n = run->out ? MIN(strcspn(run->out, "\n"), (size_t)200) : 0;
        _cleanup_free_ char *line = xstrndup(run->out ?: "", n);
        for (char *p = line; *p; p++)
                if ((unsigned char)*p < 0x20)
                        *p = ' ';
        return st_error_set(err, ST_E_UNAUTHORIZED,
                            "credential helper '" HELPER_PREFIX "%s %s' failed (exit %d)%s%s", name,
                            verb, run->status, *line ? ": " : "", line);
}

static int helper_get(const char *name, const char *key, struct registry_cred *ret,
                      struct st_error **err)
{
        _cleanup_free_ char *exe = helper_find(name);
        if (!exe)
                return 0; /* not installed: anonymous */
        struct helper_run run = { 0 };
        int r = helper_exec(exe, "get", key, &run, err);
        _cleanup_free_ char *out = run.out;
        if (r < 0 || (run.status != 0 && helper_not_found(&run)))
                return r;
        if (run.status != 0)
                return helper_failed(name, "get", &run, err);
        _cleanup_json_ json_t *j = NULL;
        r = json_parse(out, run.len, HELPER_OUTPUT_MAX, "credential helper output", &j, NULL);
        explicit_bzero(out, run.len);
        const char *user = json_get_str(j, "Username"), *secret = json_get_str(j, "Secret");
        if (r < 0 || !user || !secret)
                return st_error_set(err, ST_E_PARSE,
                                    "credential helper '" HELPER_PREFIX "%s' gave malformed output",
                                    name);
        if (streq(user, "<token>"))
                ret->identity_token = xstrdup(secret);
        else {
                ret->username = xstrdup(user);
                ret->password = xstrdup(secret);
        }
        return 0;
}

static int read_config(const char *path, char **ret, size_t *ret_len, struct st_error **err)
{
        int r = read_full_file_at(AT_FDCWD, path, REGISTRY_AUTH_FILE_MAX, ret, ret_len);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        if (r == -EFBIG)
                return st_error_set(err, ST_E_TOO_BIG, "'%s' is larger than %d bytes", path,
                                    REGISTRY_AUTH_FILE_MAX);
        if (r < 0)
                return st_error_set_errno(err, r, "read '%s'", path);
        return 0;
}

int registry_cred_load(const char *path, const char *domain, struct registry_cred *ret,
                       struct st_error **err)
{
        _cleanup_free_ char *buf = NULL, *helper = NULL, *key = registry_auth_key(domain);
        size_t len = 0;
        struct registry_cred c = { 0 };
        int r = path ? read_config(path, &buf, &len, err) : 0;
        if (r >= 0)
                r = registry_auth_parse(buf, len, domain, &c, &helper, err);
        if (buf)
                explicit_bzero(buf, len);
        if (r >= 0 && helper && helper_name_ok(helper))
                r = helper_get(helper, key, &c, err);
        if (r < 0) {
                registry_cred_release(&c);
                return st_error_wrap(err, "credentials for '%s' from '%s'", domain, path);
        }
        *ret = c;
        return 0;
}

/* ----- saving and removing ----- */

static int load_json(const char *path, json_t **ret, struct st_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_config(path, &buf, &len, err);
        if (r < 0)
                return r;
        if (len == 0) {
                *ret = json_object();
                return 0;
        }
        r = json_parse(buf, len, REGISTRY_AUTH_FILE_MAX, path, ret, NULL);
        explicit_bzero(buf, len);
        if (r < 0)
                return st_error_set(err, ST_E_PARSE, "'%s' is not valid JSON", path);
        if (!json_is_object(*ret)) {
                json_decref(*ret);
                return st_error_set(err, ST_E_PARSE, "'%s' is not a JSON object", path);
        }
        return r;
}

static int save_json(const char *path, json_t *j, struct st_error **err)
{
        _cleanup_free_ char *dir =
                xstrndup(path, strrchr(path, '/') ? (size_t)(strrchr(path, '/') - path) : 0);
        if (*dir) {
                int r = mkdir_p_at(AT_FDCWD, dir, 0700);
                if (r < 0)
                        return st_error_set_errno(err, r, "create '%s'", dir);
        }
        char *text = json_dumps(j, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
        size_t len = strlen(text);
        text = xrealloc(text, len + 2);
        memcpy(text + len, "\n", 2);
        int r = write_file_atomic_at(AT_FDCWD, path, text, len + 1, 0600);
        explicit_bzero(text, len);
        free(text);
        if (r < 0)
                return st_error_set_errno(err, r, "write '%s'", path);
        return 0;
}

/* The helper configured for DOMAIN in J, or NULL (borrowed). */
static const char *configured_helper(json_t *j, const char *domain)
{
        json_t *h = lookup(json_object_get(j, "credHelpers"), domain);
        const char *name = json_is_string(h) ? json_string_value(h) : json_get_str(j, "credsStore");
        return name && *name && helper_name_ok(name) ? name : NULL;
}

static int helper_store(const char *name, const char *key, const char *user, const char *pass,
                        struct st_error **err)
{
        _cleanup_free_ char *exe = helper_find(name);
        if (!exe)
                return st_error_set(err, -ENOENT,
                                    "credential helper '" HELPER_PREFIX "%s' is not installed",
                                    name);
        json_t *in =
                json_pack("{s:s, s:s, s:s}", "ServerURL", key, "Username", user, "Secret", pass);
        char *text = json_dumps(in, JSON_COMPACT);
        json_decref(in);
        struct helper_run run = { 0 };
        int r = helper_exec(exe, "store", text, &run, err);
        explicit_bzero(text, strlen(text));
        free(text);
        if (r >= 0 && run.status != 0)
                r = helper_failed(name, "store", &run, err);
        free(run.out);
        return r;
}

static char *encode_auth(const char *user, const char *pass)
{
        _cleanup_free_ char *plain = xasprintf("%s:%s", user, pass);
        size_t n = strlen(plain);
        char *out = xmalloc((n + 2) / 3 * 4 + 1);
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)plain, (int)n);
        explicit_bzero(plain, n);
        return out;
}

int registry_cred_save(const char *path, const char *domain, const char *username,
                       const char *password, struct st_error **err)
{
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *key = registry_auth_key(domain);
        int r = load_json(path, &j, err);
        if (r < 0)
                return r;
        json_t *auths = json_object_get(j, "auths");
        if (!json_is_object(auths)) {
                auths = json_object();
                json_object_set_new(j, "auths", auths);
        }
        const char *helper = configured_helper(j, domain);
        if (helper) {
                r = helper_store(helper, key, username, password, err);
                if (r < 0)
                        return r;
                json_object_set_new(auths, key, json_object());
        } else {
                char *b64 = encode_auth(username, password);
                json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64));
                wipe_free(b64);
        }
        return save_json(path, j, err);
}

static int helper_erase(const char *name, const char *key, struct st_error **err)
{
        _cleanup_free_ char *exe = helper_find(name);
        if (!exe)
                return 0;
        struct helper_run run = { 0 };
        int r = helper_exec(exe, "erase", key, &run, err);
        if (r >= 0 && run.status != 0 && !helper_not_found(&run))
                r = helper_failed(name, "erase", &run, err);
        else if (r >= 0)
                r = run.status == 0;
        free(run.out);
        return r;
}

/* Remove every auths key of J matching DOMAIN; returns how many. */
static int remove_keys(json_t *auths, const char *domain)
{
        int n = 0;
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(auths, tmp, k, v)
        {
                (void)v;
                if (key_matches(k, domain)) {
                        json_object_del(auths, k);
                        n++;
                }
        }
        return n;
}

int registry_cred_remove(const char *path, const char *domain, struct st_error **err)
{
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *key = registry_auth_key(domain);
        int r = load_json(path, &j, err);
        if (r < 0)
                return r;
        const char *helper = configured_helper(j, domain);
        int removed = 0;
        if (helper) {
                removed = helper_erase(helper, key, err);
                if (removed < 0)
                        return removed;
        }
        if (json_is_object(json_object_get(j, "auths"))) {
                int n = remove_keys(json_object_get(j, "auths"), domain);
                if (n > 0) {
                        r = save_json(path, j, err);
                        if (r < 0)
                                return r;
                }
                removed += n;
        }
        return removed > 0;
}
