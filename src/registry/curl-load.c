/* libcurl, loaded on first use.
 *
 * Linking libcurl pulls about thirty shared libraries (TLS, Kerberos, LDAP, SSH, IDN...) into
 * every strata process, and their loading and constructors cost ~5 ms of CPU per command:
 * more than a cached build step or `strata images` itself. So strata does not link it: it
 * defines the libcurl functions it calls here, each forwarding to the real one, resolved with
 * dlopen("libcurl.so.4") the first time a registry (or URL) is touched. Commands that never
 * talk HTTP never load it. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "basic/error.h"
#include "registry/registry.h"

#define CURL_SONAME "libcurl.so.4"

/* every libcurl function strata calls: X(return type, name, parameters, arguments) */
#define CURL_FUNCS(X)                                                                             \
        X(CURLcode, curl_global_init, (long flags), (flags))                                      \
        X(CURL *, curl_easy_init, (void), ())                                                     \
        X(void, curl_easy_cleanup, (CURL * h), (h))                                               \
        X(void, curl_easy_reset, (CURL * h), (h))                                                 \
        X(CURLcode, curl_easy_perform, (CURL * h), (h))                                           \
        X(CURLcode, curl_easy_pause, (CURL * h, int mask), (h, mask))                             \
        X(const char *, curl_easy_strerror, (CURLcode c), (c))                                    \
        X(char *, curl_easy_escape, (CURL * h, const char *s, int n), (h, s, n))                  \
        X(void, curl_free, (void *p), (p))                                                        \
        X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s)) \
        X(void, curl_slist_free_all, (struct curl_slist * l), (l))                                \
        X(CURLU *, curl_url, (void), ())                                                          \
        X(void, curl_url_cleanup, (CURLU * u), (u))                                               \
        X(CURLUcode, curl_url_set, (CURLU * u, CURLUPart w, const char *p, unsigned int f),       \
          (u, w, p, f))                                                                           \
        X(CURLUcode, curl_url_get, (CURLU * u, CURLUPart w, char **p, unsigned int f),            \
          (u, w, p, f))                                                                           \
        X(CURLM *, curl_multi_init, (void), ())                                                   \
        X(CURLMcode, curl_multi_cleanup, (CURLM * m), (m))                                        \
        X(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL * h), (m, h))                        \
        X(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL * h), (m, h))                     \
        X(CURLMcode, curl_multi_perform, (CURLM * m, int *running), (m, running))                 \
        X(CURLMcode, curl_multi_poll,                                                             \
          (CURLM * m, struct curl_waitfd * fds, unsigned int n, int ms, int *ret),                \
          (m, fds, n, ms, ret))                                                                   \
        X(CURLMsg *, curl_multi_info_read, (CURLM * m, int *left), (m, left))                     \
        X(CURLcode, curl_easy_setopt, (CURL * h, CURLoption o, ...), ())                          \
        X(CURLcode, curl_easy_getinfo, (CURL * h, CURLINFO i, ...), ())

static struct {
#define X(ret, name, params, args) ret(*name) params;
        CURL_FUNCS(X)
#undef X
} fn;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

static void load(void)
{
        void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(load_error, sizeof(load_error), "%s", dlerror());
                return;
        }
#define X(ret, name, params, args)                                                                \
        *(void **)&fn.name = dlsym(h, #name);                                                     \
        if (!fn.name) {                                                                           \
                snprintf(load_error, sizeof(load_error), "%s: no symbol %s", CURL_SONAME, #name); \
                memset(&fn, 0, sizeof(fn));                                                       \
                return;                                                                           \
        }
        CURL_FUNCS(X)
#undef X
}

int registry_curl_load(struct st_error **err)
{
        pthread_once(&load_once, load);
        if (!fn.curl_easy_init)
                return st_error_set(err, -ENOPKG, "cannot load libcurl (%s)", load_error);
        return 0;
}

static bool loaded(void)
{
        return registry_curl_load(NULL) >= 0;
}

/* The forwarders. Called when libcurl could not be loaded, each fails as libcurl's own would
 * when out of resources; registry_ctx_new reports the load error before any is called. */
CURLcode curl_global_init(long flags)
{
        return loaded() ? fn.curl_global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
        return loaded() ? fn.curl_easy_init() : NULL;
}

void curl_easy_cleanup(CURL *h)
{
        if (loaded())
                fn.curl_easy_cleanup(h);
}

void curl_easy_reset(CURL *h)
{
        if (loaded())
                fn.curl_easy_reset(h);
}

CURLcode curl_easy_perform(CURL *h)
{
        return loaded() ? fn.curl_easy_perform(h) : CURLE_FAILED_INIT;
}

CURLcode curl_easy_pause(CURL *h, int mask)
{
        return loaded() ? fn.curl_easy_pause(h, mask) : CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode c)
{
        return loaded() ? fn.curl_easy_strerror(c) : "libcurl not loaded";
}

char *curl_easy_escape(CURL *h, const char *s, int n)
{
        return loaded() ? fn.curl_easy_escape(h, s, n) : NULL;
}

void curl_free(void *p)
{
        if (p && loaded())
                fn.curl_free(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
        return loaded() ? fn.curl_slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
        if (l && loaded())
                fn.curl_slist_free_all(l);
}

CURLU *curl_url(void)
{
        return loaded() ? fn.curl_url() : NULL;
}

void curl_url_cleanup(CURLU *u)
{
        if (u && loaded())
                fn.curl_url_cleanup(u);
}

CURLUcode curl_url_set(CURLU *u, CURLUPart w, const char *p, unsigned int f)
{
        return loaded() ? fn.curl_url_set(u, w, p, f) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_get(CURLU *u, CURLUPart w, char **p, unsigned int f)
{
        return loaded() ? fn.curl_url_get(u, w, p, f) : CURLUE_OUT_OF_MEMORY;
}

CURLM *curl_multi_init(void)
{
        return loaded() ? fn.curl_multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
        return loaded() ? fn.curl_multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
        return loaded() ? fn.curl_multi_add_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
        return loaded() ? fn.curl_multi_remove_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
        return loaded() ? fn.curl_multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd *fds, unsigned int n, int ms, int *ret)
{
        return loaded() ? fn.curl_multi_poll(m, fds, n, ms, ret) : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
        return loaded() ? fn.curl_multi_info_read(m, left) : NULL;
}

/* The option's type follows from its number (CURLOPTTYPE_*): a long, a pointer (data, string,
 * list or callback: all passed alike) or a curl_off_t. */
CURLcode curl_easy_setopt(CURL *h, CURLoption o, ...)
{
        if (!loaded())
                return CURLE_FAILED_INIT;
        va_list ap;
        va_start(ap, o);
        CURLcode rc;
        if (o < CURLOPTTYPE_OBJECTPOINT)
                rc = fn.curl_easy_setopt(h, o, va_arg(ap, long));
        else if (o < CURLOPTTYPE_OFF_T)
                rc = fn.curl_easy_setopt(h, o, va_arg(ap, void *));
        else if (o < CURLOPTTYPE_BLOB)
                rc = fn.curl_easy_setopt(h, o, va_arg(ap, curl_off_t));
        else
                rc = fn.curl_easy_setopt(h, o, va_arg(ap, void *));
        va_end(ap);
        return rc;
}

/* Every CURLINFO takes a pointer to where the value goes. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO i, ...)
{
        if (!loaded())
                return CURLE_FAILED_INIT;
        va_list ap;
        va_start(ap, i);
        CURLcode rc = fn.curl_easy_getinfo(h, i, va_arg(ap, void *));
        va_end(ap);
        return rc;
}
