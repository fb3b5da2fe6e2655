/* Docker's reference grammar (distribution/reference), written as a hand-rolled scanner:
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] component ( "/" component )*
 *   domain    := ( dns-name | "[" ipv6 "]" ) [ ":" port ]
 *   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * Normalization follows ParseNormalizedNamed: a first component that is not a domain means
 * docker.io, and a one-component docker.io path gets "library/". */
#include "image/reference.h"

#include <ctype.h>
#include <string.h>

#include "basic/util.h"
#include "digest/digest.h"

#define DEFAULT_DOMAIN  "docker.io"
#define LEGACY_DOMAIN   "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define NAME_MAX_LEN    255
#define TAG_MAX_LEN     128

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_word(char c)
{
        return isascii((unsigned char)c) && (isalnum((unsigned char)c) || c == '_');
}

static bool is_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One path component of N bytes at S. */
static bool component_is_valid(const char *s, size_t n)
{
        size_t i = 0;
        for (;;) {
                if (i >= n || !is_lower_alnum(s[i]))
                        return false;
                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == n)
                        return true;
                size_t sep = i;
                while (i < n && !is_lower_alnum(s[i]))
                        i++;
                size_t len = i - sep;
                bool dashes = strspn(s + sep, "-") >= len;
                if (!(len == 1 && strchr("._", s[sep])) &&
                    !(len == 2 && !strncmp(s + sep, "__", 2)) && !dashes)
                        return false;
        }
}

/* A "/"-separated path of N bytes. */
static bool path_is_valid(const char *s, size_t n)
{
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '/')
                        continue;
                if (!component_is_valid(s + start, i - start))
                        return false;
                start = i + 1;
        }
        return true;
}

/* One DNS label: [A-Za-z0-9] or [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]. */
static bool label_is_valid(const char *s, size_t n)
{
        if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isascii((unsigned char)s[i]) || !(isalnum((unsigned char)s[i]) || s[i] == '-'))
                        return false;
        return true;
}

static bool host_is_valid(const char *s, size_t n)
{
        if (n >= 2 && s[0] == '[') {
                if (s[n - 1] != ']' || n == 2)
                        return false;
                for (size_t i = 1; i < n - 1; i++)
                        if (!is_hex(s[i]) && s[i] != ':')
                                return false;
                return true;
        }
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '.')
                        continue;
                if (!label_is_valid(s + start, i - start))
                        return false;
                start = i + 1;
        }
        return true;
}

/* host[:port] */
static bool domain_is_valid(const char *s)
{
        size_t n = strlen(s);
        const char *colon = s[0] == '[' ? strchr(s, ']') : s;
        colon = colon ? strchr(colon, ':') : NULL;
        if (!colon)
                return host_is_valid(s, n);
        const char *port = colon + 1;
        if (!*port || strspn(port, "0123456789") != strlen(port))
                return false;
        return host_is_valid(s, colon - s);
}

bool image_ref_tag_is_valid(const char *tag)
{
        size_t n = strlen(tag);
        if (n == 0 || n > TAG_MAX_LEN || !is_word(tag[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
                        return false;
        return true;
}

/* algorithm ":" hex{32,} as in distribution's digest pattern. */
static bool digest_shape_is_valid(const char *s)
{
        const char *colon = strchr(s, ':');
        if (!colon || colon == s || !isalpha((unsigned char)s[0]))
                return false;
        for (const char *p = s; p < colon; p++) {
                bool sep = strchr("-_+.", *p) && *p;
                if (sep && !(p + 1 < colon && isalpha((unsigned char)p[1])))
                        return false;
                if (!sep && !(isascii((unsigned char)*p) && isalnum((unsigned char)*p)))
                        return false;
        }
        size_t hex = strlen(colon + 1);
        for (const char *p = colon + 1; *p; p++)
                if (!is_hex(*p))
                        return false;
        return hex >= 32;
}

static int check_digest(const char *d, struct st_error **err)
{
        if (!digest_shape_is_valid(d))
                return st_error_set(err, ST_E_PARSE, "invalid reference format");
        if (!startswith(d, "sha256:"))
                return st_error_set(err, ST_E_PARSE, "unsupported digest algorithm");
        if (strlen(d) != DIGEST_STR_LEN)
                return st_error_set(err, ST_E_PARSE, "invalid checksum digest length");
        if (!digest_is_valid(d))
                return st_error_set(err, ST_E_PARSE, "invalid checksum digest format");
        return 0;
}

static bool is_hex64(const char *s)
{
        if (strlen(s) != DIGEST_HEX_LEN)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

/* Split S into domain and remainder the way splitDockerDomain does; both owned by the caller. */
static void split_domain(const char *s, char **ret_domain, char **ret_rest)
{
        const char *slash = strchr(s, '/');
        _cleanup_free_ char *first = slash ? xstrndup(s, slash - s) : NULL;
        bool has_upper = false;
        for (const char *p = first; p && *p; p++)
                has_upper |= isupper((unsigned char)*p) != 0;
        if (first && (strpbrk(first, ".:") || streq(first, "localhost") || has_upper)) {
                *ret_domain =
                        streq(first, LEGACY_DOMAIN) ? xstrdup(DEFAULT_DOMAIN) : TAKE_PTR(first);
                s = slash + 1;
        } else
                *ret_domain = xstrdup(DEFAULT_DOMAIN);
        if (streq(*ret_domain, DEFAULT_DOMAIN) && !strchr(s, '/'))
                *ret_rest = xasprintf(OFFICIAL_PREFIX "%s", s);
        else
                *ret_rest = xstrdup(s);
}

static int check_lowercase(const char *rest, struct st_error **err)
{
        size_t n = strcspn(rest, ":@");
        for (size_t i = 0; i < n; i++)
                if (isupper((unsigned char)rest[i]))
                        return st_error_set(err, ST_E_PARSE,
                                            "invalid reference format: repository name (%.*s) "
                                            "must be lowercase",
                                            (int)MIN(n, 300), rest);
        return 0;
}

/* Split REST (path[:tag][@digest]) in place and validate the parts into REF. */
static int parse_rest(char *rest, struct image_ref *ref, struct st_error **err)
{
        char *at = strchr(rest, '@');
        if (at)
                *at++ = 0;
        char *colon = strchr(rest, ':');
        if (colon)
                *colon++ = 0;
        if (!path_is_valid(rest, strlen(rest)))
                return st_error_set(err, ST_E_PARSE, "invalid reference format");
        if (colon && !image_ref_tag_is_valid(colon))
                return st_error_set(err, ST_E_PARSE,
                                    "invalid reference format: invalid tag '%.200s'", colon);
        if (at) {
                int r = check_digest(at, err);
                if (r < 0)
                        return r;
        }
        if (strlen(rest) > NAME_MAX_LEN)
                return st_error_set(err, ST_E_PARSE,
                                    "invalid reference format: repository name must not be more "
                                    "than %d characters",
                                    NAME_MAX_LEN);
        ref->path = xstrdup(rest);
        ref->tag = xstrdup(colon);
        ref->digest = xstrdup(at);
        return 0;
}

static int parse(const char *s, bool default_tag, struct image_ref **ret, struct st_error **err)
{
        if (is_hex64(s))
                return st_error_set(err, ST_E_PARSE,
                                    "invalid repository name (%s), cannot specify 64-byte "
                                    "hexadecimal strings",
                                    s);
        _cleanup_free_ char *domain = NULL, *rest = NULL;
        split_domain(s, &domain, &rest);
        int r = check_lowercase(rest, err);
        if (r < 0)
                return r;
        if (!domain_is_valid(domain))
                return st_error_set(err, ST_E_PARSE, "invalid reference format");
        _cleanup_image_ref_ struct image_ref *ref = xcalloc(1, sizeof(*ref));
        r = parse_rest(rest, ref, err);
        if (r < 0)
                return r;
        ref->domain = TAKE_PTR(domain);
        if (default_tag && !ref->tag && !ref->digest)
                ref->tag = xstrdup("latest");
        *ret = TAKE_PTR(ref);
        return 0;
}

int image_ref_parse(const char *s, struct image_ref **ret, struct st_error **err)
{
        return parse(s, true, ret, err);
}

int image_ref_parse_name(const char *s, struct image_ref **ret, struct st_error **err)
{
        return parse(s, false, ret, err);
}

struct image_ref *image_ref_free(struct image_ref *ref)
{
        if (!ref)
                return NULL;
        free(ref->domain);
        free(ref->path);
        free(ref->tag);
        free(ref->digest);
        free(ref);
        return NULL;
}

static char *join(const char *repo, const struct image_ref *ref)
{
        return xasprintf("%s%s%s%s%s", repo, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                         ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

char *image_ref_repository(const struct image_ref *ref)
{
        return xasprintf("%s/%s", ref->domain, ref->path);
}

char *image_ref_string(const struct image_ref *ref)
{
        _cleanup_free_ char *repo = image_ref_repository(ref);
        return join(repo, ref);
}

char *image_ref_familiar_repository(const struct image_ref *ref)
{
        if (!streq(ref->domain, DEFAULT_DOMAIN))
                return image_ref_repository(ref);
        const char *rest = startswith(ref->path, OFFICIAL_PREFIX);
        if (rest && !strchr(rest, '/'))
                return xstrdup(rest);
        return xstrdup(ref->path);
}

char *image_ref_familiar_string(const struct image_ref *ref)
{
        _cleanup_free_ char *repo = image_ref_familiar_repository(ref);
        return join(repo, ref);
}

char *image_ref_familiarize(const char *s)
{
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        if (image_ref_parse_name(s, &ref, NULL) < 0)
                return xstrdup(s);
        return image_ref_familiar_string(ref);
}
