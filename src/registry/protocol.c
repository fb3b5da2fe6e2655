/* Registry error bodies and platforms. */
#include "registry/protocol.h"

#include <stdio.h>

#include "basic/util.h"
#include "json/json.h"

#define MAX_ERRORS      4
#define MAX_MESSAGE_LEN 300

/* A copy of S (at most MAX bytes) with control characters turned into spaces: what a server
 * sends must not move the user's cursor. */
static char *sanitize(const char *s, size_t max)
{
        size_t n = strnlen(s, max);
        char *r = xstrndup(s, n);
        for (char *p = r; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = ' ';
        return r;
}

/* "MANIFEST_UNKNOWN" -> "manifest unknown" (distribution's errcode.Error()). */
static char *code_words(const char *code)
{
        char *r = sanitize(code, 64);
        for (char *p = r; *p; p++)
                *p = *p == '_' ? ' ' : (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
        return r;
}

static int code_of(const char *code, long status)
{
        static const struct {
                const char *name;
                int code;
        } map[] = {
                { "MANIFEST_UNKNOWN", ST_E_MANIFEST_UNKNOWN },
                { "NAME_UNKNOWN", ST_E_NOT_FOUND },
                { "BLOB_UNKNOWN", ST_E_NOT_FOUND },
                { "UNAUTHORIZED", ST_E_UNAUTHORIZED },
                { "DENIED", ST_E_DENIED },
        };

        for (size_t i = 0; code && i < ELEMENTSOF(map); i++)
                if (streq(code, map[i].name))
                        return map[i].code;
        return status == 401   ? ST_E_UNAUTHORIZED
               : status == 403 ? ST_E_DENIED
               : status == 404 ? ST_E_NOT_FOUND
                               : ST_E_HTTP;
}

/* The errors array of a JSON body as one message; NULL if BUF holds none. *ret_code gets the
 * first error's code. */
static char *json_errors(const char *buf, size_t len, long status, int *ret_code)
{
        _cleanup_json_ json_t *j = NULL;
        if (!buf || json_parse(buf, len, REGISTRY_ERROR_BODY_MAX, "error", &j, NULL) < 0)
                return NULL;
        json_t *errors = json_object_get(j, "errors"), *e;
        char *msg = NULL;
        size_t n = 0;
        JSON_ARRAY_FOREACH(i, e, errors) {
                const char *code = json_get_str(e, "code"), *m = json_get_str(e, "message");
                if (!code || n >= MAX_ERRORS)
                        continue;
                if (n++ == 0)
                        *ret_code = code_of(code, status);
                _cleanup_free_ char *words = code_words(code);
                _cleanup_free_ char *text = sanitize(m ?: "", MAX_MESSAGE_LEN);
                char *part = *text ? xasprintf("%s: %s", words, text) : xstrdup(words);
                char *joined = msg ? xasprintf("%s; %s", msg, part) : xstrdup(part);
                free(part);
                free(msg);
                msg = joined;
        }
        return msg;
}

static const char *reason(long status)
{
        switch (status) {
        case 400:
                return "Bad Request";
        case 401:
                return "Unauthorized";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 413:
                return "Payload Too Large";
        case 416:
                return "Range Not Satisfiable";
        case 429:
                return "Too Many Requests";
        case 500:
                return "Internal Server Error";
        case 502:
                return "Bad Gateway";
        case 503:
                return "Service Unavailable";
        case 504:
                return "Gateway Timeout";
        default:
                return NULL;
        }
}

int registry_error_from_response(long status, const char *buf, size_t len, struct st_error **err)
{
        int code = code_of(NULL, status);
        _cleanup_free_ char *msg = json_errors(buf, len, status, &code);
        if (msg)
                return st_error_set(err, code, "%s", msg);
        if (status == 401)
                return st_error_set(err, code, "unauthorized: authentication required");
        const char *why = reason(status);
        if (why)
                return st_error_set(err, code, "unexpected HTTP status %ld (%s)", status, why);
        return st_error_set(err, code, "unexpected HTTP status %ld", status);
}

static void copy_field(char *dst, size_t size, const char *s, size_t n)
{
        snprintf(dst, size, "%.*s", (int)MIN(n, size - 1), s);
        for (char *p = dst; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
}

static void normalize(struct registry_platform *p)
{
        static const struct {
                const char *from, *arch, *variant;
        } arch_alias[] = {
                { "x86_64", "amd64", NULL },  { "x86-64", "amd64", NULL },
                { "aarch64", "arm64", NULL }, { "armhf", "arm", "v7" },
                { "armel", "arm", "v6" },     { "i386", "386", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(arch_alias); i++)
                if (streq(p->arch, arch_alias[i].from)) {
                        snprintf(p->arch, sizeof(p->arch), "%s", arch_alias[i].arch);
                        if (arch_alias[i].variant && !p->variant[0])
                                snprintf(p->variant, sizeof(p->variant), "%s",
                                         arch_alias[i].variant);
                }
        if (p->variant[0] >= '0' && p->variant[0] <= '9') {
                char v[sizeof(p->variant)];
                snprintf(v, sizeof(v), "v%.30s", p->variant);
                memcpy(p->variant, v, sizeof(v));
        }
}

static bool field_ok(const char *s, size_t n)
{
        if (n == 0 || n >= 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
                        return false;
        return true;
}

int registry_platform_parse(const char *s, struct registry_platform *ret, struct st_error **err)
{
        struct registry_platform p = { .os = "linux" };
        _cleanup_strv_ char **parts = NULL;
        for (const char *c = s;; c++) {
                size_t n = strcspn(c, "/");
                if (!field_ok(c, n) || strv_length(parts) == 3)
                        return st_error_set(err, ST_E_USAGE, "invalid platform '%.100s'", s);
                strv_consume(&parts, xstrndup(c, n));
                c += n;
                if (*c == 0)
                        break;
        }
        size_t n = strv_length(parts);
        char **arch = n == 1 ? &parts[0] : &parts[1];
        if (n > 1)
                copy_field(p.os, sizeof(p.os), parts[0], strlen(parts[0]));
        copy_field(p.arch, sizeof(p.arch), *arch, strlen(*arch));
        if (n == 3)
                copy_field(p.variant, sizeof(p.variant), parts[2], strlen(parts[2]));
        normalize(&p);
        *ret = p;
        return 0;
}

char *registry_platform_string(const struct registry_platform *p)
{
        if (p->variant[0])
                return xasprintf("%s/%s/%s", p->os, p->arch, p->variant);
        return xasprintf("%s/%s", p->os, p->arch);
}

static const char *default_variant(const char *arch)
{
        return streq(arch, "arm64") ? "v8" : streq(arch, "arm") ? "v7" : "";
}

bool registry_platform_matches(const struct registry_platform *p, const struct image_platform *d)
{
        if (!d || !d->os || !d->architecture)
                return false;
        struct registry_platform q = { 0 };
        copy_field(q.os, sizeof(q.os), d->os, strlen(d->os));
        copy_field(q.arch, sizeof(q.arch), d->architecture, strlen(d->architecture));
        if (d->variant)
                copy_field(q.variant, sizeof(q.variant), d->variant, strlen(d->variant));
        normalize(&q);
        if (!streq(p->os, q.os) || !streq(p->arch, q.arch))
                return false;
        const char *want = p->variant[0] ? p->variant : default_variant(p->arch);
        const char *have = q.variant[0] ? q.variant : default_variant(q.arch);
        return streq(want, have);
}

const struct image_descriptor *registry_platform_select(const struct image_index *idx,
                                                        const struct registry_platform *p)
{
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const struct image_descriptor *d = &idx->manifests[i];
                const char *ref_type = json_get_str(d->annotations, "vnd.docker.reference.type");
                if (ref_type && streq(ref_type, "attestation-manifest"))
                        continue;
                if (d->platform && d->platform->os && streq(d->platform->os, "unknown"))
                        continue;
                if (registry_platform_matches(p, d->platform))
                        return d;
        }
        return NULL;
}
