/* The exec form: BuildKit calls Go's json.Unmarshal into []interface{} on the arguments, so
 * "valid JSON" means exactly what Go's decoder accepts (any bytes >= 0x80 in strings, invalid
 * UTF-8 and lone surrogates becoming U+FFFD, nesting up to 10000), and a valid array that holds
 * anything but strings is an error rather than the shell form. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"

#define JSON_MAX_DEPTH 10000

struct scan {
        const char *s;
        size_t n, i;
        struct json_fail *fail;
        bool overflow; /* a number beyond float64: Go's decoder fails, so not the exec form */
};

static int scan_fail(struct scan *sc, const char *what)
{
        sc->fail->off = sc->i;
        if (sc->i >= sc->n)
                snprintf(sc->fail->what, sizeof(sc->fail->what), "unexpected end of JSON input");
        else if ((unsigned char)sc->s[sc->i] >= 0x20 && (unsigned char)sc->s[sc->i] < 0x7F)
                snprintf(sc->fail->what, sizeof(sc->fail->what), "invalid character '%c' %s",
                         sc->s[sc->i], what);
        else
                snprintf(sc->fail->what, sizeof(sc->fail->what), "invalid character 0x%02x %s",
                         (unsigned char)sc->s[sc->i], what);
        return -1;
}

static void skip_ws(struct scan *sc)
{
        while (sc->i < sc->n && strchr(" \t\r\n", sc->s[sc->i]) && sc->s[sc->i])
                sc->i++;
}

static bool is_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string starting at the opening quote. */
static int scan_string(struct scan *sc)
{
        for (sc->i++; sc->i < sc->n; sc->i++) {
                unsigned char c = (unsigned char)sc->s[sc->i];
                if (c == '"') {
                        sc->i++;
                        return 0;
                }
                if (c < 0x20)
                        return scan_fail(sc, "in string literal");
                if (c != '\\')
                        continue;
                if (++sc->i >= sc->n)
                        break;
                if (strchr("\"\\/bfnrt", sc->s[sc->i]) && sc->s[sc->i])
                        continue;
                if (sc->s[sc->i] != 'u')
                        return scan_fail(sc, "in string escape code");
                for (int k = 0; k < 4; k++)
                        if (++sc->i >= sc->n || !is_hex(sc->s[sc->i]))
                                return scan_fail(sc, "in \\u hexadecimal character escape");
        }
        sc->i = sc->n;
        snprintf(sc->fail->what, sizeof(sc->fail->what), "unterminated string");
        sc->fail->off = sc->n;
        return -1;
}

static bool scan_digits(struct scan *sc)
{
        size_t start = sc->i;
        while (sc->i < sc->n && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')
                sc->i++;
        return sc->i > start;
}

/* Go decodes numbers into float64 and fails on those that round to infinity. (In the C
 * locale: JSON's decimal point is '.' whatever the caller's locale says.) */
static void check_float(struct scan *sc, size_t start)
{
        _cleanup_free_ char *lit = xstrndup(sc->s + start, sc->i - start);
        locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        if (!c)
                return;
        errno = 0;
        double d = strtod_l(lit, NULL, c);
        bool range = errno == ERANGE;
        freelocale(c);
        if (range && (d == HUGE_VAL || d == -HUGE_VAL))
                sc->overflow = true;
}

static int scan_number(struct scan *sc)
{
        size_t start = sc->i;
        if (sc->s[sc->i] == '-')
                sc->i++;
        if (sc->i < sc->n && sc->s[sc->i] == '0')
                sc->i++;
        else if (!scan_digits(sc))
                return scan_fail(sc, "in numeric literal");
        if (sc->i < sc->n && sc->s[sc->i] == '.') {
                sc->i++;
                if (!scan_digits(sc))
                        return scan_fail(sc, "after decimal point in numeric literal");
        }
        if (sc->i < sc->n && (sc->s[sc->i] == 'e' || sc->s[sc->i] == 'E')) {
                sc->i++;
                if (sc->i < sc->n && (sc->s[sc->i] == '+' || sc->s[sc->i] == '-'))
                        sc->i++;
                if (!scan_digits(sc))
                        return scan_fail(sc, "in exponent of numeric literal");
                check_float(sc, start);
        } else if (sc->i - start > 300)
                check_float(sc, start);
        return 0;
}

static int scan_literal(struct scan *sc)
{
        static const char *const lits[] = { "true", "false", "null" };
        for (size_t k = 0; k < ELEMENTSOF(lits); k++) {
                size_t len = strlen(lits[k]);
                if (sc->s[sc->i] != lits[k][0])
                        continue;
                for (size_t j = 0; j < len; j++, sc->i++)
                        if (sc->i >= sc->n || sc->s[sc->i] != lits[k][j])
                                return scan_fail(sc, "in literal");
                return 0;
        }
        return scan_fail(sc, "looking for beginning of value");
}

/* A scalar value, or the opening of a container (pushed on STACK). */
static int scan_value(struct scan *sc, char *stack, size_t *depth)
{
        skip_ws(sc);
        if (sc->i >= sc->n)
                return scan_fail(sc, "");
        char c = sc->s[sc->i];
        if (c == '[' || c == '{') {
                if (*depth >= JSON_MAX_DEPTH) {
                        sc->fail->off = sc->i;
                        snprintf(sc->fail->what, sizeof(sc->fail->what), "exceeded max depth");
                        return -1;
                }
                stack[(*depth)++] = c;
                sc->i++;
                return 1;
        }
        if (c == '"')
                return scan_string(sc);
        if (c == '-' || (c >= '0' && c <= '9'))
                return scan_number(sc);
        return scan_literal(sc);
}

/* An object key and its colon. */
static int scan_key(struct scan *sc)
{
        skip_ws(sc);
        if (sc->i >= sc->n || sc->s[sc->i] != '"')
                return scan_fail(sc, "looking for beginning of object key string");
        if (scan_string(sc) < 0)
                return -1;
        skip_ws(sc);
        if (sc->i >= sc->n || sc->s[sc->i] != ':')
                return scan_fail(sc, "after object key");
        sc->i++;
        return 0;
}

/* After a value: ',' or the closing of containers. 1: another value follows, 0: done. */
static int scan_after(struct scan *sc, char *stack, size_t *depth)
{
        for (;;) {
                if (*depth == 0)
                        return 0;
                skip_ws(sc);
                char open = stack[*depth - 1];
                if (sc->i < sc->n && sc->s[sc->i] == ',') {
                        sc->i++;
                        return open == '{' ? (scan_key(sc) < 0 ? -1 : 1) : 1;
                }
                if (sc->i < sc->n && sc->s[sc->i] == (open == '[' ? ']' : '}')) {
                        sc->i++;
                        (*depth)--;
                        continue;
                }
                return scan_fail(sc, open == '[' ? "after array element"
                                                 : "after object key:value pair");
        }
}

/* An empty container right after its opening, or the first key of an object. */
static int scan_opened(struct scan *sc, char *stack, size_t *depth)
{
        skip_ws(sc);
        char open = stack[*depth - 1];
        if (sc->i < sc->n && sc->s[sc->i] == (open == '[' ? ']' : '}')) {
                sc->i++;
                (*depth)--;
                return scan_after(sc, stack, depth);
        }
        if (open == '{' && scan_key(sc) < 0)
                return -1;
        return 1;
}

/* Validate one JSON value followed by nothing but whitespace. */
static int scan_document(struct scan *sc)
{
        char small[64], *stack = small;
        _cleanup_free_ char *big = NULL;
        size_t depth = 0, opens = 0;
        for (size_t k = 0; k < sc->n; k++)
                opens += sc->s[k] == '[' || sc->s[k] == '{';
        if (opens > sizeof(small)) /* the depth never exceeds the openings */
                stack = big = xmalloc(MIN(opens, (size_t)JSON_MAX_DEPTH));
        for (;;) {
                int r = scan_value(sc, stack, &depth);
                if (r < 0)
                        return -1;
                r = r == 1 ? scan_opened(sc, stack, &depth) : scan_after(sc, stack, &depth);
                if (r < 0)
                        return -1;
                if (r == 0)
                        break;
        }
        skip_ws(sc);
        return sc->i == sc->n ? 0 : scan_fail(sc, "after top-level value");
}

static int hex4(const char *s, size_t n)
{
        int v = 0;
        if (n < 6 || s[0] != '\\' || s[1] != 'u')
                return -1;
        for (int k = 2; k < 6; k++) {
                char c = s[k];
                v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        return v;
}

/* A \u escape at S (and a second one for a surrogate pair); returns the bytes consumed. */
static size_t decode_u(const char *s, size_t n, int32_t *ret)
{
        int32_t r = hex4(s, n);
        if (r >= 0xD800 && r < 0xE000) {
                int32_t r2 = hex4(s + 6, n - 6);
                if (r < 0xDC00 && r2 >= 0xDC00 && r2 < 0xE000) {
                        *ret = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
                        return 12;
                }
                r = RUNE_ERROR;
        }
        *ret = r;
        return 6;
}

/* Decode the (valid) string at S[0] == '"' into B; returns its length in S, 0 for \u0000. */
static size_t decode_string(const char *s, size_t n, struct sbuf *b)
{
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        size_t i = 1, w;
        while (s[i] != '"') {
                if (s[i] == '\\' && s[i + 1] != 'u') {
                        df_sbuf_putc(b, to[strchr(from, s[i + 1]) - from]);
                        i += 2;
                } else if (s[i] == '\\') {
                        int32_t r;
                        i += decode_u(s + i, n - i, &r);
                        if (r == 0)
                                return 0;
                        df_sbuf_rune(b, r);
                } else {
                        int32_t r = df_utf8_decode(s + i, n - i, &w);
                        if (r < 0)
                                df_sbuf_rune(b, RUNE_ERROR);
                        else
                                df_sbuf_put(b, s + i, w);
                        i += w;
                }
        }
        return i + 1;
}

/* The elements of the (valid) array S; EXEC_NOT_STRINGS if one is not a string. */
static int decode_array(const char *s, size_t n, struct dockerfile_arena *a, struct vec *out)
{
        struct scan sc = { .s = s, .n = n, .i = 1 };
        struct sbuf b = { 0 };
        int r = EXEC_OK;
        for (skip_ws(&sc); sc.s[sc.i] != ']'; skip_ws(&sc)) {
                if (sc.s[sc.i] != '"') {
                        r = EXEC_NOT_STRINGS;
                        break;
                }
                b.len = 0;
                size_t used = decode_string(s + sc.i, n - sc.i, &b);
                if (used == 0) {
                        r = EXEC_NUL;
                        break;
                }
                *(char **)df_vec_push(out, sizeof(char *)) =
                        df_arena_strndup(a, b.s ? b.s : "", b.len);
                sc.i += used;
                skip_ws(&sc);
                if (sc.s[sc.i] == ',')
                        sc.i++;
        }
        df_sbuf_release(&b);
        return r;
}

int df_exec_form_parse(const char *s, size_t n, struct dockerfile_arena *a, char ***ret_args,
                       size_t *ret_n, struct json_fail *fail)
{
        size_t w, lead = 0;
        while ((w = df_uspace_at(s + lead, n - lead)) > 0)
                lead += w;
        *fail = (struct json_fail){ .off = lead };
        if (lead >= n || s[lead] != '[') {
                snprintf(fail->what, sizeof(fail->what), "not a JSON array");
                return EXEC_NOT_JSON;
        }
        fail->looks_json = true;
        struct scan sc = { .s = s + lead, .n = n - lead, .fail = fail };
        if (scan_document(&sc) < 0 || sc.overflow) {
                if (sc.overflow) {
                        snprintf(fail->what, sizeof(fail->what), "number out of range");
                        fail->off = 0;
                }
                fail->off += lead;
                return EXEC_NOT_JSON;
        }
        struct vec out = { 0 };
        int r = decode_array(s + lead, n - lead, a, &out);
        if (r == EXEC_OK) {
                *(char **)df_vec_push(&out, sizeof(char *)) = NULL;
                *ret_args = df_vec_to_arena(&out, sizeof(char *), a);
                *ret_n = out.n - 1;
        }
        free(out.p);
        return r;
}
