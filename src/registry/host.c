/* Registry hosts: aliases, the TLS policy, certs.d lookup, and registries.conf. */
#include "registry/host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/util.h"

#define CONF_MAX_ENTRIES 1024

struct conf_entry {
        char *location;
        bool insecure;
};

struct registry_conf {
        struct conf_entry *entries;
        size_t n;
};

struct conf_parser {
        struct registry_conf *c;
        const char *path;
        unsigned line;
        bool in_registry; /* inside a [[registry]] table */
        bool in_array;    /* skipping a multi-line array value */
};

struct registry_conf *registry_conf_free(struct registry_conf *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n; i++)
                free(c->entries[i].location);
        free(c->entries);
        free(c);
        return NULL;
}

static char *strip(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n > 0 && strchr(" \t\r", s[n - 1]))
                s[--n] = 0;
        return s;
}

/* A TOML basic ("…", with escapes) or literal ('…') string at V; the rest may only be a
 * comment. */
static int conf_string(struct conf_parser *p, const char *v, char **ret, struct st_error **err)
{
        char q = v[0];
        _cleanup_free_ char *out = xmalloc(strlen(v) + 1);
        size_t n = 0, i = 1;
        for (; v[i] && v[i] != q; i++) {
                char ch = v[i];
                if (q == '"' && ch == '\\') {
                        ch = v[++i];
                        ch = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch;
                        if (!ch || !strchr("\"\\\n\t", ch)) /* NUL: ends the text */
                                break;
                }
                out[n++] = ch;
        }
        const char *rest = v[i] ? v + i + 1 : v + i;
        rest += strspn(rest, " \t");
        if (v[i] != q || (*rest && *rest != '#'))
                return st_error_set(err, ST_E_PARSE, "%s:%u: malformed string", p->path, p->line);
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int conf_bool(struct conf_parser *p, const char *v, bool *ret, struct st_error **err)
{
        size_t n = strcspn(v, " \t#");
        if (n == 4 && !strncmp(v, "true", 4))
                *ret = true;
        else if (n == 5 && !strncmp(v, "false", 5))
                *ret = false;
        else
                return st_error_set(err, ST_E_PARSE, "%s:%u: expected true or false", p->path,
                                    p->line);
        return 0;
}

static int conf_key(struct conf_parser *p, const char *key, const char *v, struct st_error **err)
{
        if (v[0] == '[' && !strchr(v, ']'))
                p->in_array = true;
        if (!p->in_registry)
                return 0;
        struct conf_entry *e = &p->c->entries[p->c->n - 1];
        if (streq(key, "location")) {
                if (v[0] != '"' && v[0] != '\'')
                        return st_error_set(err, ST_E_PARSE, "%s:%u: location must be a string",
                                            p->path, p->line);
                char *loc = NULL;
                int r = conf_string(p, v, &loc, err);
                if (r < 0)
                        return r; /* e->location stays as it was, freed once by the caller */
                free(e->location);
                e->location = loc;
                return 0;
        }
        if (streq(key, "insecure"))
                return conf_bool(p, v, &e->insecure, err);
        return 0;
}

static int conf_table(struct conf_parser *p, const char *l, struct st_error **err)
{
        p->in_registry = streq(l, "[[registry]]");
        if (!p->in_registry)
                return 0;
        if (p->c->n >= CONF_MAX_ENTRIES)
                return st_error_set(err, ST_E_TOO_BIG, "%s:%u: more than %d registries", p->path,
                                    p->line, CONF_MAX_ENTRIES);
        p->c->entries = xrealloc(p->c->entries, sizeof(*p->c->entries) * (p->c->n + 1));
        p->c->entries[p->c->n++] = (struct conf_entry){ 0 };
        return 0;
}

static int conf_line(struct conf_parser *p, char *line, struct st_error **err)
{
        char *l = strip(line);
        if (p->in_array) {
                p->in_array = !strchr(l, ']');
                return 0;
        }
        if (*l == 0 || *l == '#')
                return 0;
        if (*l == '[')
                return conf_table(p, l, err);
        char *eq = strchr(l, '=');
        if (!eq)
                return st_error_set(err, ST_E_PARSE, "%s:%u: expected 'key = value'", p->path,
                                    p->line);
        *eq = 0;
        char *key = strip(l), *v = strip(eq + 1);
        if (key[0] == '"' || key[0] == '\'') { /* quoted key */
                size_t n = strlen(key);
                if (n >= 2 && key[n - 1] == key[0]) {
                        key[n - 1] = 0;
                        key++;
                }
        }
        return conf_key(p, key, v, err);
}

int registry_conf_parse(const char *buf, size_t len, const char *path, struct registry_conf **ret,
                        struct st_error **err)
{
        if (len > REGISTRY_CONF_MAX)
                return st_error_set(err, ST_E_TOO_BIG, "%s is larger than %d bytes", path,
                                    REGISTRY_CONF_MAX);
        _cleanup_free_ char *text = xstrndup(buf, len);
        if (strlen(text) != len)
                return st_error_set(err, ST_E_PARSE, "%s: contains a NUL byte", path);
        struct registry_conf *c = xcalloc(1, sizeof(*c));
        struct conf_parser p = { .c = c, .path = path };
        int r = 0;
        for (char *l = text, *nl; l && r >= 0; l = nl) {
                nl = strchr(l, '\n');
                if (nl)
                        *nl++ = 0;
                p.line++;
                r = conf_line(&p, l, err);
        }
        if (r < 0) {
                registry_conf_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int registry_conf_load(const char *path, struct registry_conf **ret, struct st_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_full_file_at(AT_FDCWD, path, REGISTRY_CONF_MAX, &buf, &len);
        if (r == -ENOENT) {
                *ret = xcalloc(1, sizeof(**ret));
                return 0;
        }
        if (r == -EFBIG)
                return st_error_set(err, ST_E_TOO_BIG, "%s is larger than %d bytes", path,
                                    REGISTRY_CONF_MAX);
        if (r < 0)
                return st_error_set_errno(err, r, "read '%s'", path);
        return registry_conf_parse(buf, len, path, ret, err);
}

static bool is_docker_hub(const char *domain)
{
        return streq(domain, "docker.io") || streq(domain, "index.docker.io") ||
               streq(domain, REGISTRY_DOCKER_HOST);
}

bool registry_conf_is_insecure(const struct registry_conf *c, const char *domain)
{
        for (size_t i = 0; c && i < c->n; i++) {
                const char *loc = c->entries[i].location;
                if (!loc || !c->entries[i].insecure)
                        continue;
                if (streq(loc, domain) || (is_docker_hub(loc) && is_docker_hub(domain)))
                        return true;
        }
        return false;
}

/* The host part of DOMAIN without port and brackets; caller frees. */
static char *host_part(const char *domain)
{
        if (domain[0] == '[') {
                const char *end = strchr(domain, ']');
                return end ? xstrndup(domain + 1, (size_t)(end - domain - 1)) : xstrdup(domain);
        }
        const char *colon = strchr(domain, ':');
        return colon ? xstrndup(domain, (size_t)(colon - domain)) : xstrdup(domain);
}

bool registry_host_is_loopback(const char *domain)
{
        _cleanup_free_ char *h = host_part(domain);
        struct in_addr a4;
        struct in6_addr a6;
        if (streq(h, "localhost"))
                return true;
        if (inet_pton(AF_INET, h, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (inet_pton(AF_INET6, h, &a6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&a6);
        return false;
}

struct registry_host *registry_host_free(struct registry_host *h)
{
        if (!h)
                return NULL;
        free(h->domain);
        free(h->host);
        strv_free(h->cert_dirs);
        free(h);
        return NULL;
}

static void add_cert_dir(struct registry_host *h, const char *root, const char *name)
{
        _cleanup_free_ char *d = xasprintf("%s/%s", root, name);
        struct stat st;
        if (stat(d, &st) == 0 && S_ISDIR(st.st_mode) && !strv_contains(h->cert_dirs, d))
                strv_push(&h->cert_dirs, d);
}

int registry_host_resolve(const struct registry_conf *conf, int tls_verify, char **cert_roots,
                          const char *domain, struct registry_host **ret, struct st_error **err)
{
        if (!*domain || strpbrk(domain, "/?#@ \t\r\n"))
                return st_error_set(err, ST_E_PARSE, "invalid registry host '%.200s'", domain);
        struct registry_host *h = xcalloc(1, sizeof(*h));
        h->domain = xstrdup(is_docker_hub(domain) ? "docker.io" : domain);
        h->host = xstrdup(is_docker_hub(domain) ? REGISTRY_DOCKER_HOST : domain);
        if (tls_verify == 0 || (tls_verify < 0 && registry_conf_is_insecure(conf, h->domain)))
                h->tls = REGISTRY_TLS_INSECURE;
        else if (tls_verify < 0 && registry_host_is_loopback(h->host))
                h->tls = REGISTRY_TLS_LOOPBACK;
        else
                h->tls = REGISTRY_TLS_VERIFY;
        STRV_FOREACH(root, cert_roots) {
                add_cert_dir(h, *root, h->host);
                add_cert_dir(h, *root, h->domain);
        }
        *ret = h;
        return 0;
}
