/* WWW-Authenticate (RFC 7235 section 4.1): a comma-separated list of challenges, each an auth
 * scheme followed by a token68 or by comma-separated auth-params. The one ambiguity, whether a
 * token after a comma starts a parameter or the next challenge, is settled by looking for
 * "=" and a value behind it. */
#include <strings.h>

#include "basic/util.h"
#include "registry/auth.h"

struct cur {
        const char *s;
        size_t i;
};

static bool is_tchar(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token68_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("-._~+/", c));
}

static void skip_ows(struct cur *c)
{
        while (c->s[c->i] == ' ' || c->s[c->i] == '\t')
                c->i++;
}

static size_t token_len(const struct cur *c)
{
        size_t n = 0;
        while (is_tchar(c->s[c->i + n]))
                n++;
        return n;
}

static char *lower_dup(const char *s, size_t n)
{
        char *r = xstrndup(s, n);
        for (char *p = r; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        return r;
}

/* True if a "token BWS = BWS value" parameter starts at C (C is not moved). */
static bool at_param(const struct cur *c)
{
        struct cur k = *c;
        size_t n = token_len(&k);
        if (n == 0)
                return false;
        k.i += n;
        skip_ows(&k);
        if (k.s[k.i] != '=')
                return false;
        k.i++;
        skip_ows(&k);
        return k.s[k.i] == '"' || is_tchar(k.s[k.i]);
}

static int parse_quoted(struct cur *c, char **ret, struct st_error **err)
{
        size_t start = ++c->i, n = 0;
        _cleanup_free_ char *out = xmalloc(strlen(c->s + start) + 1);
        for (;;) {
                char ch = c->s[c->i++];
                if (ch == '"')
                        break;
                if (ch == '\\')
                        ch = c->s[c->i++];
                if (ch == 0 || ((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f)
                        return st_error_set(err, ST_E_PARSE,
                                            "WWW-Authenticate: bad quoted string at offset %zu",
                                            start - 1);
                out[n++] = ch;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int parse_value(struct cur *c, char **ret, struct st_error **err)
{
        if (c->s[c->i] == '"')
                return parse_quoted(c, ret, err);
        size_t n = token_len(c);
        if (n == 0)
                return st_error_set(err, ST_E_PARSE,
                                    "WWW-Authenticate: expected a value at offset %zu", c->i);
        *ret = xstrndup(c->s + c->i, n);
        c->i += n;
        return 0;
}

static int parse_param(struct cur *c, struct registry_challenge *ch, size_t *n_params,
                       struct st_error **err)
{
        if (++*n_params > REGISTRY_PARAMS_MAX)
                return st_error_set(err, ST_E_TOO_BIG, "WWW-Authenticate: more than %d parameters",
                                    REGISTRY_PARAMS_MAX);
        size_t n = token_len(c);
        char *key = lower_dup(c->s + c->i, n);
        c->i += n;
        skip_ows(c);
        c->i++; /* '=', checked by at_param */
        skip_ows(c);
        char *value = NULL;
        int r = parse_value(c, &value, err);
        if (r < 0) {
                free(key);
                return r;
        }
        strv_consume(&ch->params, key);
        strv_consume(&ch->params, value);
        return 0;
}

/* Parameters until the end or a comma that starts the next challenge. */
static int parse_params(struct cur *c, struct registry_challenge *ch, struct st_error **err)
{
        size_t n_params = 0;
        for (;;) {
                int r = parse_param(c, ch, &n_params, err);
                if (r < 0)
                        return r;
                skip_ows(c);
                if (c->s[c->i] == 0)
                        return 0;
                if (c->s[c->i] != ',')
                        return st_error_set(err, ST_E_PARSE,
                                            "WWW-Authenticate: expected ',' at offset %zu", c->i);
                struct cur next = *c;
                while (next.s[next.i] == ',' || next.s[next.i] == ' ' || next.s[next.i] == '\t')
                        next.i++;
                if (!at_param(&next))
                        return 0; /* the comma ends this challenge */
                *c = next;
        }
}

static int parse_token68(struct cur *c, struct registry_challenge *ch, struct st_error **err)
{
        size_t start = c->i;
        while (is_token68_char(c->s[c->i]))
                c->i++;
        while (c->s[c->i] == '=')
                c->i++;
        ch->token68 = xstrndup(c->s + start, c->i - start);
        skip_ows(c);
        if (c->s[c->i] != 0 && c->s[c->i] != ',')
                return st_error_set(err, ST_E_PARSE,
                                    "WWW-Authenticate: unexpected character at offset %zu", c->i);
        return 0;
}

static int parse_challenge(struct cur *c, struct registry_challenge *ch, struct st_error **err)
{
        size_t n = token_len(c);
        if (n == 0)
                return st_error_set(err, ST_E_PARSE,
                                    "WWW-Authenticate: expected an auth scheme at offset %zu",
                                    c->i);
        ch->scheme = lower_dup(c->s + c->i, n);
        c->i += n;
        if (c->s[c->i] == 0 || c->s[c->i] == ',')
                return 0;
        if (c->s[c->i] != ' ' && c->s[c->i] != '\t')
                return st_error_set(err, ST_E_PARSE,
                                    "WWW-Authenticate: unexpected character at offset %zu", c->i);
        skip_ows(c);
        if (c->s[c->i] == 0 || c->s[c->i] == ',')
                return 0;
        if (at_param(c))
                return parse_params(c, ch, err);
        if (is_token68_char(c->s[c->i]))
                return parse_token68(c, ch, err);
        return st_error_set(err, ST_E_PARSE, "WWW-Authenticate: unexpected character at offset %zu",
                            c->i);
}

void registry_challenges_free(struct registry_challenge *c, size_t n)
{
        for (size_t i = 0; c && i < n; i++) {
                free(c[i].scheme);
                strv_free(c[i].params);
                free(c[i].token68);
        }
        free(c);
}

int registry_challenges_parse(const char *value, struct registry_challenge **ret, size_t *ret_n,
                              struct st_error **err)
{
        if (strlen(value) > REGISTRY_HEADER_MAX)
                return st_error_set(err, ST_E_TOO_BIG, "WWW-Authenticate is longer than %d bytes",
                                    REGISTRY_HEADER_MAX);
        struct cur c = { .s = value };
        struct registry_challenge *l = NULL;
        size_t n = 0;
        int r = 0;
        for (;;) {
                while (c.s[c.i] == ',' || c.s[c.i] == ' ' || c.s[c.i] == '\t')
                        c.i++;
                if (c.s[c.i] == 0)
                        break;
                if (n == REGISTRY_CHALLENGES_MAX) {
                        r = st_error_set(err, ST_E_TOO_BIG,
                                         "WWW-Authenticate: more than %d challenges",
                                         REGISTRY_CHALLENGES_MAX);
                        break;
                }
                l = xrealloc(l, sizeof(*l) * (n + 1));
                l[n++] = (struct registry_challenge){ 0 };
                r = parse_challenge(&c, &l[n - 1], err);
                if (r < 0)
                        break;
        }
        if (r < 0) {
                registry_challenges_free(l, n);
                return r;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

const char *registry_challenge_param(const struct registry_challenge *c, const char *key)
{
        for (char **p = c->params; p && p[0] && p[1]; p += 2)
                if (strcasecmp(p[0], key) == 0)
                        return p[1];
        return NULL;
}

const struct registry_challenge *registry_challenge_find(const struct registry_challenge *c,
                                                         size_t n, const char *scheme)
{
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(c[i].scheme, scheme) == 0)
                        return &c[i];
        return NULL;
}
