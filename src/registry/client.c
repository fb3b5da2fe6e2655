/* The registry context and per-repository clients: TLS material from certs.d, the ping that
 * picks the scheme and learns the auth challenge, Basic and Bearer authorization with tokens
 * cached per realm, service and scope for the life of the context. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "json/json.h"
#include "registry/registry-internal.h"

#define TOKENS_MAX         64
#define TOKEN_MIN_LIFETIME 60 /* seconds, as the token spec says when expires_in is smaller */
#define TOKEN_MARGIN       10 /* seconds before expiry a token is renewed */
#define CERT_FILE_MAX      (1024 * 1024)
#define CERT_FILES_MAX     64
#define DEFAULT_CA_FILE    "/etc/ssl/certs/ca-certificates.crt"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                abort();
}

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int registry_ctx_new(const struct registry_ctx_opts *o, struct registry_ctx **ret,
                     struct st_error **err)
{
        int r = registry_curl_load(err);
        if (r < 0)
                return r;
        pthread_once(&curl_once, curl_init);
        const char *dir = o->config_dir ?: "/etc/strata";
        _cleanup_free_ char *conf_path = xasprintf("%s/registries.conf", dir);
        struct registry_conf *conf = NULL;
        r = registry_conf_load(conf_path, &conf, err);
        if (r < 0)
                return r;
        struct registry_ctx *ctx = xcalloc(1, sizeof(*ctx));
        ctx->conf = conf;
        strv_consume(&ctx->cert_roots, xasprintf("%s/certs.d", dir));
        strv_push(&ctx->cert_roots, o->docker_certs ?: "/etc/docker/certs.d");
        ctx->auth_file = xstrdup(o->auth_file);
        ctx->tls_verify = o->tls_verify;
        ctx->trace = o->trace;
        ctx->trace_userdata = o->trace_userdata;
        pthread_mutex_init(&ctx->lock, NULL);
        pthread_mutex_init(&ctx->trace_lock, NULL);
        *ret = ctx;
        return 0;
}

static void token_release(struct token *t)
{
        free(t->key);
        if (t->value)
                explicit_bzero(t->value, strlen(t->value));
        free(t->value);
}

struct registry_ctx *registry_ctx_free(struct registry_ctx *ctx)
{
        if (!ctx)
                return NULL;
        registry_conf_free(ctx->conf);
        strv_free(ctx->cert_roots);
        free(ctx->auth_file);
        for (size_t i = 0; i < ctx->n_tokens; i++)
                token_release(&ctx->tokens[i]);
        free(ctx->tokens);
        pthread_mutex_destroy(&ctx->lock);
        pthread_mutex_destroy(&ctx->trace_lock);
        free(ctx);
        return NULL;
}

void client_trace(struct registry_ctx *ctx, const char *fmt, ...)
{
        if (!ctx->trace)
                return;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *line = xvasprintf(fmt, ap);
        va_end(ap);
        pthread_mutex_lock(&ctx->trace_lock);
        ctx->trace(line, ctx->trace_userdata);
        pthread_mutex_unlock(&ctx->trace_lock);
}

/* ----- TLS material ----- */

static void append_file(char **buf, size_t *len, const char *path, size_t cap)
{
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        if (read_full_file_at(AT_FDCWD, path, cap, &data, &n) < 0)
                return;
        *buf = xrealloc(*buf, *len + n + 2);
        memcpy(*buf + *len, data, n);
        *len += n;
        (*buf)[(*len)++] = '\n';
        (*buf)[*len] = 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in DIR (at most CERT_FILES_MAX); NULL if none or unreadable. */
static char **list_dir(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        char **l = NULL;
        struct dirent *de;
        while (d && (de = readdir(d)) && strv_length(l) < CERT_FILES_MAX)
                if (de->d_name[0] != '.')
                        strv_push(&l, de->d_name);
        if (l)
                qsort(l, strv_length(l), sizeof(*l), cmp_str);
        return l;
}

/* certs.d as Docker reads it: *.crt are CAs (added to the system's), NAME.cert + NAME.key a
 * client certificate. */
static void load_cert_dir(struct registry_client *c, const char *dir, char **pem, size_t *len)
{
        _cleanup_strv_ char **names = list_dir(dir);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
                if (endswith(*n, ".crt"))
                        append_file(pem, len, path, CERT_FILE_MAX);
                else if (endswith(*n, ".cert") && !c->client_cert) {
                        char *key = xasprintf("%.*s.key", (int)(strlen(path) - 5), path);
                        if (access(key, R_OK) == 0) {
                                c->client_cert = TAKE_PTR(path);
                                c->client_key = key;
                        } else
                                free(key);
                }
        }
}

static void load_certs(struct registry_client *c)
{
        char *pem = NULL;
        size_t len = 0;
        STRV_FOREACH(d, c->host->cert_dirs)
                load_cert_dir(c, *d, &pem, &len);
        if (!pem)
                return;
        char *system = NULL;
        if (curl_easy_getinfo(c->easy, CURLINFO_CAINFO, &system) != CURLE_OK || !system)
                system = (char *)DEFAULT_CA_FILE;
        char *all = NULL;
        size_t all_len = 0;
        append_file(&all, &all_len, system, HTTP_CA_FILE_MAX);
        all = xrealloc(all, all_len + len + 1);
        memcpy(all + all_len, pem, len + 1);
        free(pem);
        c->ca_pem = all;
        c->ca_len = all_len + len;
}

/* ----- auth ----- */

static void set_challenges(struct registry_client *c, struct registry_challenge *l, size_t n)
{
        registry_challenges_free(c->challenges, c->n_challenges);
        c->challenges = l;
        c->n_challenges = n;
}

int client_challenge_update(struct registry_client *c, const char *www_authenticate,
                            struct st_error **err)
{
        struct registry_challenge *l = NULL;
        size_t n = 0;
        if (www_authenticate) {
                int r = registry_challenges_parse(www_authenticate, &l, &n, err);
                if (r < 0)
                        return st_error_wrap(err, "'%s'", c->host->host);
        }
        pthread_mutex_lock(&c->ctx->lock);
        if (l)
                set_challenges(c, l, n);
        bool usable = registry_challenge_find(c->challenges, c->n_challenges, "bearer") ||
                      registry_challenge_find(c->challenges, c->n_challenges, "basic");
        pthread_mutex_unlock(&c->ctx->lock);
        return usable;
}

static int load_cred(struct registry_client *c, struct st_error **err)
{
        if (c->cred_loaded)
                return 0;
        int r = registry_cred_load(c->ctx->auth_file, c->host->domain, &c->cred, err);
        if (r < 0)
                return r;
        c->cred_loaded = true;
        return 0;
}

static char *basic_header(const struct registry_cred *cred)
{
        _cleanup_free_ char *plain = xasprintf("%s:%s", cred->username, cred->password);
        size_t n = strlen(plain);
        _cleanup_free_ char *b64 = xmalloc((n + 2) / 3 * 4 + 1);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
        char *h = xasprintf("Authorization: Basic %s", b64);
        explicit_bzero(plain, n);
        explicit_bzero(b64, strlen(b64));
        return h;
}

static struct token *token_find(struct registry_ctx *ctx, const char *key)
{
        for (size_t i = 0; i < ctx->n_tokens; i++)
                if (streq(ctx->tokens[i].key, key))
                        return &ctx->tokens[i];
        return NULL;
}

static void token_put(struct registry_ctx *ctx, const char *key, char *value, uint64_t expires)
{
        struct token *t = token_find(ctx, key);
        if (!t && ctx->n_tokens == TOKENS_MAX) {
                token_release(&ctx->tokens[0]);
                memmove(ctx->tokens, ctx->tokens + 1, sizeof(*t) * (TOKENS_MAX - 1));
                ctx->n_tokens--;
        }
        if (!t) {
                ctx->tokens = xrealloc(ctx->tokens, sizeof(*t) * (ctx->n_tokens + 1));
                t = &ctx->tokens[ctx->n_tokens++];
                *t = (struct token){ .key = xstrdup(key) };
        } else {
                explicit_bzero(t->value, strlen(t->value));
                free(t->value);
        }
        t->value = value;
        t->expires = expires;
}

/* The token service URL: REALM with service and one scope parameter per scope. */
static char *token_url(CURL *h, const char *realm, const char *service, const char *scope)
{
        _cleanup_free_ char *url = xasprintf("%s%c", realm, strchr(realm, '?') ? '&' : '?');
        if (service) {
                char *e = curl_easy_escape(h, service, 0);
                char *next = xasprintf("%sservice=%s", url, e);
                curl_free(e);
                free(url);
                url = next;
        }
        _cleanup_free_ char *scopes = xstrdup(scope);
        for (char *s = scopes, *sp; s && *s; s = sp) {
                sp = strchr(s, ' ');
                if (sp)
                        *sp++ = 0;
                char *e = curl_easy_escape(h, s, 0);
                char *next = xasprintf("%s%sscope=%s", url, service ? "&" : "", e);
                curl_free(e);
                free(url);
                url = next;
                service = "";
        }
        return TAKE_PTR(url);
}

static bool token_ok(const char *t)
{
        size_t n = strlen(t);
        if (n == 0 || n > HTTP_TOKEN_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f)
                        return false;
        return true;
}

/* The token and its lifetime from a token service's JSON answer. */
static int token_parse(const struct http_resp *resp, const char *realm, char **ret,
                       uint64_t *ret_seconds, struct st_error **err)
{
        _cleanup_json_ json_t *j = NULL;
        /* no parse message: it could quote the token */
        if (json_parse(resp->body ?: "", resp->len, HTTP_TOKEN_BODY_MAX, "token", &j, NULL) < 0)
                return st_error_set(err, ST_E_PARSE, "token service '%s' sent malformed JSON",
                                    realm);
        const char *t = json_get_str(j, "token");
        if (!t || !*t)
                t = json_get_str(j, "access_token");
        if (!t || !token_ok(t))
                return st_error_set(err, ST_E_PARSE, "token service '%s' sent no usable token",
                                    realm);
        json_t *exp = json_object_get(j, "expires_in");
        json_int_t secs = json_is_integer(exp) ? json_integer_value(exp) : 0;
        *ret_seconds = (uint64_t)MAX(secs, (json_int_t)TOKEN_MIN_LIFETIME);
        *ret = xstrdup(t);
        return 0;
}

static int token_refused(struct registry_client *c, const struct http_resp *resp, const char *realm,
                         struct st_error **err)
{
        if ((resp->status == 401 || resp->status == 403) && registry_cred_is_set(&c->cred))
                return st_error_set(err, ST_E_UNAUTHORIZED,
                                    "unauthorized: incorrect username or password");
        http_error(resp, err);
        return st_error_wrap(err, "token service '%s'", realm);
}

/* May credentials go to REALM? Not over plain http to another machine. */
static int realm_check(struct registry_client *c, const char *realm, bool with_cred,
                       struct st_error **err)
{
        bool https = startswith(realm, "https://");
        if (!https && !startswith(realm, "http://"))
                return st_error_set(err, ST_E_HTTP, "token realm '%.200s' is not an http(s) URL",
                                    realm);
        if (https || !with_cred || c->host->tls == REGISTRY_TLS_INSECURE)
                return 0;
        const char *p = startswith(realm, "http://");
        _cleanup_free_ char *authority = xstrndup(p, strcspn(p, "/?#"));
        if (registry_host_is_loopback(authority) || http_same_origin(realm, c->base))
                return 0;
        return st_error_set(err, ST_E_HTTP,
                            "refusing to send credentials to token realm '%.200s' over plain http",
                            realm);
}

/* The OAuth2 form that trades the identity token for an access token; caller wipes, frees. */
static char *refresh_form(CURL *h, const char *identity_token, const char *service,
                          const char *scope)
{
        char *rt = curl_easy_escape(h, identity_token, 0);
        char *sv = curl_easy_escape(h, service ?: "", 0);
        char *sc = curl_easy_escape(h, scope, 0);
        char *form = xasprintf("grant_type=refresh_token&client_id=strata&service=%s&scope=%s"
                               "&refresh_token=%s",
                               sv, sc, rt);
        explicit_bzero(rt, strlen(rt));
        curl_free(rt);
        curl_free(sv);
        curl_free(sc);
        return form;
}

static void wipe_free(char *s)
{
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
}

/* Ask the token service of challenge CH for a token for SCOPE: GET with Basic credentials (or
 * anonymously), or the OAuth2 refresh-token POST when an identity token is all we have. */
static int token_fetch(struct registry_client *c, CURL *h, const struct registry_challenge *ch,
                       const char *scope, char **ret, uint64_t *ret_seconds, struct st_error **err)
{
        const char *realm = registry_challenge_param(ch, "realm");
        const char *service = registry_challenge_param(ch, "service");
        if (!realm)
                return st_error_set(err, ST_E_HTTP,
                                    "'%s' asks for a bearer token but names no realm",
                                    c->host->host);
        int r = realm_check(c, realm, registry_cred_is_set(&c->cred), err);
        if (r < 0)
                return r;
        bool basic = c->cred.username && c->cred.password;
        _cleanup_free_ char *url = token_url(h, realm, service, scope);
        char *auth = basic ? basic_header(&c->cred) : NULL;
        char *form = !basic && c->cred.identity_token
                             ? refresh_form(h, c->cred.identity_token, service, scope)
                             : NULL;
        struct http_req req = { .method = form ? "POST" : "GET",
                                .url = form ? realm : url,
                                .anonymous = true,
                                .follow = !form,
                                .authorization = auth,
                                .content_type = form ? "application/x-www-form-urlencoded" : NULL,
                                .body = form,
                                .body_len = form ? strlen(form) : 0,
                                .cap = HTTP_TOKEN_BODY_MAX,
                                .body_fd = -1 };
        struct http_resp resp = { 0 };
        r = http_do(c, h, &req, &resp, err);
        wipe_free(auth);
        wipe_free(form);
        if (r >= 0 && resp.status != 200)
                r = token_refused(c, &resp, realm, err);
        if (r >= 0)
                r = token_parse(&resp, realm, ret, ret_seconds, err);
        if (resp.body)
                explicit_bzero(resp.body, resp.len);
        http_resp_release(&resp);
        return r;
}

static int bearer_header(struct registry_client *c, CURL *h, const struct registry_challenge *ch,
                         const char *scope, bool refresh, char **ret, struct st_error **err)
{
        _cleanup_free_ char *key =
                xasprintf("%s %s %s", registry_challenge_param(ch, "realm") ?: "",
                          registry_challenge_param(ch, "service") ?: "", scope);
        struct token *t = token_find(c->ctx, key);
        uint64_t now = now_usec();
        if (t && !refresh && t->expires > now + TOKEN_MARGIN * 1000000ULL) {
                *ret = xasprintf("Authorization: Bearer %s", t->value);
                return 0;
        }
        char *value = NULL;
        uint64_t secs = 0;
        int r = token_fetch(c, h, ch, scope, &value, &secs, err);
        if (r < 0)
                return r;
        token_put(c->ctx, key, value, now + secs * 1000000ULL);
        *ret = xasprintf("Authorization: Bearer %s", value);
        return 0;
}

static int auth_header_locked(struct registry_client *c, CURL *h, const char *scope, bool refresh,
                              char **ret, struct st_error **err)
{
        const struct registry_challenge *bearer =
                registry_challenge_find(c->challenges, c->n_challenges, "bearer");
        const struct registry_challenge *basic =
                registry_challenge_find(c->challenges, c->n_challenges, "basic");
        *ret = NULL;
        if (!bearer && !basic)
                return 0;
        int r = load_cred(c, err);
        if (r < 0)
                return r;
        if (bearer)
                return bearer_header(c, h, bearer, scope, refresh, ret, err);
        if (c->cred.username && c->cred.password)
                *ret = basic_header(&c->cred);
        return 0;
}

int client_auth_header(struct registry_client *c, CURL *h, const char *scope, bool refresh,
                       char **ret, struct st_error **err)
{
        CURL *own = h ? NULL : http_easy_new();
        pthread_mutex_lock(&c->ctx->lock);
        int r = auth_header_locked(c, h ?: own, scope ?: c->scope, refresh, ret, err);
        pthread_mutex_unlock(&c->ctx->lock);
        if (own)
                curl_easy_cleanup(own);
        return r;
}

/* ----- the ping ----- */

static int ping_at(struct registry_client *c, const char *scheme, struct http_resp *resp,
                   struct st_error **err)
{
        _cleanup_free_ char *url = xasprintf("%s://%s/v2/", scheme, c->host->host);
        struct http_req req = { .method = "GET",
                                .url = url,
                                .anonymous = true,
                                .follow = true,
                                .cap = 64 * 1024,
                                .body_fd = -1 };
        return http_do(c, c->easy, &req, resp, err);
}

static int ping_result(struct registry_client *c, const char *scheme, struct http_resp *resp,
                       struct st_error **err)
{
        if (resp->status == 404)
                return st_error_set(err, ST_E_HTTP,
                                    "'%s' does not serve the registry API (GET /v2/: HTTP 404)",
                                    c->host->host);
        if (http_status_is_transient(resp->status)) {
                http_error(resp, err);
                return st_error_wrap(err, "GET %s://%s/v2/", scheme, c->host->host);
        }
        c->base = xasprintf("%s://%s", scheme, c->host->host);
        if (resp->status != 401)
                return 0;
        int r = client_challenge_update(c, resp->hdr.www_authenticate, err);
        return r < 0 ? r : 0;
}

/* Learn the scheme (https, or http where allowed and the server speaks no TLS) and the auth
 * challenge from GET /v2/. */
static int ping(struct registry_client *c, struct st_error **err)
{
        struct http_resp resp = { 0 };
        _cleanup_error_ struct st_error *tls_err = NULL;
        int r = ping_at(c, "https", &resp, &tls_err);
        if (r >= 0)
                r = ping_result(c, "https", &resp, err);
        CURLcode code = resp.curl_code;
        http_resp_release(&resp);
        if (r >= 0 || !tls_err)
                return r;
        /* plain http only where allowed, and only when the server does not speak TLS at all:
         * a certificate that does not verify is an error, not a reason to go plain */
        bool no_tls = code == CURLE_SSL_CONNECT_ERROR ||
                      (c->host->tls == REGISTRY_TLS_INSECURE && code != CURLE_COULDNT_CONNECT &&
                       code != CURLE_COULDNT_RESOLVE_HOST);
        if (c->host->tls == REGISTRY_TLS_VERIFY || !no_tls)
                return st_error_take(&tls_err, r, err);
        r = ping_at(c, "http", &resp, err);
        if (r >= 0)
                r = ping_result(c, "http", &resp, err);
        http_resp_release(&resp);
        return r;
}

/* ----- clients ----- */

struct registry_client *client_free(struct registry_client *c)
{
        if (!c)
                return NULL;
        registry_host_free(c->host);
        free(c->repository);
        free(c->scope);
        free(c->base);
        free(c->ca_pem);
        free(c->client_cert);
        free(c->client_key);
        registry_cred_release(&c->cred);
        registry_challenges_free(c->challenges, c->n_challenges);
        if (c->easy)
                curl_easy_cleanup(c->easy);
        free(c);
        return NULL;
}

int client_new_direct(struct registry_ctx *ctx, const char *domain, struct registry_client **ret,
                      struct st_error **err)
{
        _cleanup_client_ struct registry_client *c = xcalloc(1, sizeof(*c));
        int r = registry_host_resolve(ctx->conf, 1, ctx->cert_roots, domain, &c->host, err);
        if (r < 0)
                return r;
        c->ctx = ctx;
        c->scope = xstrdup("");
        c->easy = http_easy_new();
        load_certs(c);
        *ret = TAKE_PTR(c);
        return 0;
}

int client_new(struct registry_ctx *ctx, const char *domain, const char *repository,
               const char *actions, struct registry_client **ret, struct st_error **err)
{
        _cleanup_client_ struct registry_client *c = xcalloc(1, sizeof(*c));
        int r = registry_host_resolve(ctx->conf, ctx->tls_verify, ctx->cert_roots, domain, &c->host,
                                      err);
        if (r < 0)
                return r;
        c->ctx = ctx;
        c->repository = xstrdup(repository);
        c->scope = repository ? xasprintf("repository:%s:%s", repository, actions) : xstrdup("");
        c->easy = http_easy_new();
        load_certs(c);
        r = ping(c, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}
