/* Values printed the way Go prints them: fmt's %v and Sprintf verbs, encoding/json, strconv's
 * Quote and shortest float formatting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/banned.h"
#include "basic/util.h"
#include "json/template-internal.h"

size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *ret)
{
        static const struct {
                unsigned char mask, lead;
                uint32_t min;
        } seq[] = { { 0x80, 0x00, 0 },
                    { 0xe0, 0xc0, 0x80 },
                    { 0xf0, 0xe0, 0x800 },
                    { 0xf8, 0xf0, 0x10000 } };

        for (size_t len = 1; len <= 4; len++) {
                if ((p[0] & seq[len - 1].mask) != seq[len - 1].lead)
                        continue;
                if (len > n)
                        return 0;
                uint32_t c = p[0] & (uint32_t)(0x7f >> (len == 1 ? 0 : len));
                for (size_t k = 1; k < len; k++) {
                        if ((p[k] & 0xc0) != 0x80)
                                return 0;
                        c = (c << 6) | (p[k] & 0x3f);
                }
                if (c < seq[len - 1].min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
                        return 0;
                *ret = c;
                return len;
        }
        return 0;
}

size_t tmpl_utf8_encode(uint32_t c, char out[static 4])
{
        if (c < 0x80) {
                out[0] = (char)c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char)(0xc0 | (c >> 6));
                out[1] = (char)(0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char)(0xe0 | (c >> 12));
                out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
                out[2] = (char)(0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char)(0xf0 | (c >> 18));
        out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[3] = (char)(0x80 | (c & 0x3f));
        return 4;
}

/* The shortest decimal digits that read back as D (like strconv's shortest mode): *digits
 * holds them without a point, *exp the decimal exponent of the first digit. */
static void shortest_digits(double d, char digits[static 20], int *exp)
{
        char buf[40];
        size_t n = 0;

        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*e", prec - 1, fabs(d));
                if (strtod(buf, NULL) == fabs(d))
                        break;
        }
        for (const char *p = buf; *p && *p != 'e'; p++)
                if (*p != '.')
                        digits[n++] = *p;
        while (n > 1 && digits[n - 1] == '0')
                n--;
        digits[n] = '\0';
        *exp = (int)strtol(strchr(buf, 'e') + 1, NULL, 10);
}

static int put_exponent_form(struct tmpl_state *s, struct tbuf *b, const char *digits, int exp,
                             bool pad_exp)
{
        char tail[16];
        int r = tbuf_put(s, b, digits, 1);

        if (r >= 0 && digits[1])
                r = tbuf_putc(s, b, '.');
        if (r >= 0)
                r = tbuf_puts(s, b, digits + 1);
        snprintf(tail, sizeof(tail), pad_exp ? "e%+03d" : "e%+d", exp);
        return r < 0 ? r : tbuf_puts(s, b, tail);
}

static int put_fixed_form(struct tmpl_state *s, struct tbuf *b, const char *digits, int exp)
{
        int nd = (int)strlen(digits), r = 0;

        if (exp < 0) {
                r = tbuf_puts(s, b, "0.");
                for (int i = 0; r >= 0 && i < -exp - 1; i++)
                        r = tbuf_putc(s, b, '0');
                return r < 0 ? r : tbuf_puts(s, b, digits);
        }
        for (int i = 0; r >= 0 && i <= exp; i++)
                r = tbuf_putc(s, b, i < nd ? digits[i] : '0');
        if (r >= 0 && nd > exp + 1)
                r = tbuf_putc(s, b, '.');
        return r < 0 ? r : tbuf_puts(s, b, nd > exp + 1 ? digits + exp + 1 : "");
}

/* D as fmt's %v (JSON false) or encoding/json (JSON true) prints a float64. */
static int put_float(struct tmpl_state *s, struct tbuf *b, double d, bool json)
{
        char digits[20];
        int exp, r = 0;

        if (isnan(d) || isinf(d))
                return tbuf_puts(s, b, isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
        if (d == 0)
                return tbuf_puts(s, b, signbit(d) ? "-0" : "0");
        shortest_digits(d, digits, &exp);
        if (d < 0)
                r = tbuf_putc(s, b, '-');
        if (r < 0)
                return r;
        /* %v is %g with the shortest digits, which switches to %e from exponent 6 on */
        bool e_form = json ? (fabs(d) < 1e-6 || fabs(d) >= 1e21) : (exp < -4 || exp >= 6);
        if (e_form)
                return put_exponent_form(s, b, digits, exp, !json);
        return put_fixed_form(s, b, digits, exp);
}

static int print_value_rec(struct tmpl_state *s, struct tbuf *b, const json_t *v);

static int print_array(struct tmpl_state *s, struct tbuf *b, const json_t *v)
{
        json_t *e;
        int r = tbuf_putc(s, b, '[');

        JSON_ARRAY_FOREACH(i, e, v) {
                if (r >= 0 && i > 0)
                        r = tbuf_putc(s, b, ' ');
                if (r >= 0)
                        r = print_value_rec(s, b, e);
        }
        return r < 0 ? r : tbuf_putc(s, b, ']');
}

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of OBJ sorted bytewise (Go sorts map keys when printing); caller frees the array. */
static const char **sorted_keys(const json_t *obj, size_t *ret_n)
{
        size_t n = json_object_size(obj), i = 0;
        const char **keys = xcalloc(n + 1, sizeof(char *));
        const char *k;
        json_t *v;

        json_object_foreach((json_t *)obj, k, v) keys[i++] = k;
        qsort(keys, n, sizeof(char *), cmp_keys);
        *ret_n = n;
        return keys;
}

static int print_object(struct tmpl_state *s, struct tbuf *b, const json_t *v)
{
        size_t n;
        _cleanup_free_ const char **keys = sorted_keys(v, &n);
        int r = tbuf_puts(s, b, "map[");

        for (size_t i = 0; i < n && r >= 0; i++) {
                if (i > 0)
                        r = tbuf_putc(s, b, ' ');
                if (r >= 0)
                        r = tbuf_puts(s, b, keys[i]);
                if (r >= 0)
                        r = tbuf_putc(s, b, ':');
                if (r >= 0)
                        r = print_value_rec(s, b, json_object_get(v, keys[i]));
        }
        return r < 0 ? r : tbuf_putc(s, b, ']');
}

static int print_value_rec(struct tmpl_state *s, struct tbuf *b, const json_t *v)
{
        char num[32];

        switch (tmpl_typeof(v)) {
        case JSON_STRING:
                return tbuf_put(s, b, json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return tbuf_puts(s, b, num);
        case JSON_REAL:
                return put_float(s, b, json_real_value(v), false);
        case JSON_TRUE:
                return tbuf_puts(s, b, "true");
        case JSON_FALSE:
                return tbuf_puts(s, b, "false");
        case JSON_ARRAY:
                return print_array(s, b, v);
        case JSON_OBJECT:
                return print_object(s, b, v);
        default:
                return tbuf_puts(s, b, "<nil>");
        }
}

int tmpl_print_value(struct tmpl_state *s, struct tbuf *b, const json_t *v)
{
        return print_value_rec(s, b, v);
}

/* A JSON string as encoding/json writes it with SetEscapeHTML(false). */
static int put_json_string(struct tmpl_state *s, struct tbuf *b, const char *p, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        static const char short_esc[] = "\"\"\\\\\bb\ff\nn\rr\tt";
        int r = tbuf_putc(s, b, '"');

        for (size_t i = 0; i < n && r >= 0;) {
                unsigned char c = (unsigned char)p[i];
                uint32_t cp;
                const char *e = c != 0 ? memchr(short_esc, c, sizeof(short_esc) - 1) : NULL;
                if (e && (e - short_esc) % 2 == 0) {
                        char esc[2] = { '\\', e[1] };
                        r = tbuf_put(s, b, esc, 2);
                        i++;
                } else if (c < 0x20) {
                        char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };
                        r = tbuf_put(s, b, esc, 6);
                        i++;
                } else if (c < 0x80) {
                        r = tbuf_putc(s, b, (char)c);
                        i++;
                } else {
                        size_t k = utf8_decode((const unsigned char *)p + i, n - i, &cp);
                        if (k == 0)
                                r = tbuf_puts(s, b, "\\ufffd");
                        else if (cp == 0x2028 || cp == 0x2029)
                                r = tbuf_puts(s, b, cp == 0x2028 ? "\\u2028" : "\\u2029");
                        else
                                r = tbuf_put(s, b, p + i, k);
                        i += MAX(k, (size_t)1);
                }
        }
        return r < 0 ? r : tbuf_putc(s, b, '"');
}

static int put_json_object(struct tmpl_state *s, struct tbuf *b, const json_t *v)
{
        size_t n;
        _cleanup_free_ const char **keys = sorted_keys(v, &n);
        int r = tbuf_putc(s, b, '{');

        for (size_t i = 0; i < n && r >= 0; i++) {
                if (i > 0)
                        r = tbuf_putc(s, b, ',');
                if (r >= 0)
                        r = put_json_string(s, b, keys[i], strlen(keys[i]));
                if (r >= 0)
                        r = tbuf_putc(s, b, ':');
                if (r >= 0)
                        r = tmpl_print_json(s, b, json_object_get(v, keys[i]));
        }
        return r < 0 ? r : tbuf_putc(s, b, '}');
}

int tmpl_print_json(struct tmpl_state *s, struct tbuf *b, const json_t *v)
{
        json_t *e;
        int r;

        switch (tmpl_typeof(v)) {
        case JSON_STRING:
                return put_json_string(s, b, json_string_value(v), json_string_length(v));
        case JSON_REAL:
                return put_float(s, b, json_real_value(v), true);
        case JSON_ARRAY:
                r = tbuf_putc(s, b, '[');
                JSON_ARRAY_FOREACH(i, e, v) {
                        if (r >= 0 && i > 0)
                                r = tbuf_putc(s, b, ',');
                        if (r >= 0)
                                r = tmpl_print_json(s, b, e);
                }
                return r < 0 ? r : tbuf_putc(s, b, ']');
        case JSON_OBJECT:
                return put_json_object(s, b, v);
        case JSON_INTEGER:
        case JSON_TRUE:
        case JSON_FALSE:
                return print_value_rec(s, b, v);
        default:
                return tbuf_puts(s, b, "null");
        }
}

/* unicode.IsPrint, approximately: controls, C1 controls, soft hyphen, line and paragraph
 * separators and the BOM are not printable. */
static bool is_printable(uint32_t c)
{
        if (c < 0x20 || (c >= 0x7f && c < 0xa0))
                return false;
        return c != 0xad && c != 0x2028 && c != 0x2029 && c != 0xfeff;
}

static int put_escaped_rune(struct tmpl_state *s, struct tbuf *b, uint32_t c)
{
        static const char simple[] = "\aa\bb\ff\nn\rr\tt\vv";
        char esc[16];
        const char *e = c > 0 && c < 0x80 ? memchr(simple, (int)c, sizeof(simple) - 1) : NULL;

        if (e && (e - simple) % 2 == 0)
                snprintf(esc, sizeof(esc), "\\%c", e[1]);
        else if (c < 0x80)
                snprintf(esc, sizeof(esc), "\\x%02x", c);
        else if (c < 0x10000)
                snprintf(esc, sizeof(esc), "\\u%04x", c);
        else
                snprintf(esc, sizeof(esc), "\\U%08x", c);
        return tbuf_puts(s, b, esc);
}

int tmpl_print_quoted(struct tmpl_state *s, struct tbuf *b, const char *p, size_t n)
{
        int r = tbuf_putc(s, b, '"');

        for (size_t i = 0; i < n && r >= 0;) {
                uint32_t c;
                size_t k = utf8_decode((const unsigned char *)p + i, n - i, &c);
                if (k == 0) {
                        char esc[8];
                        snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)p[i]);
                        r = tbuf_puts(s, b, esc);
                        k = 1;
                } else if (c == '"' || c == '\\') {
                        char esc[2] = { '\\', (char)c };
                        r = tbuf_put(s, b, esc, 2);
                } else if (is_printable(c))
                        r = tbuf_put(s, b, p + i, k);
                else
                        r = put_escaped_rune(s, b, c);
                i += k;
        }
        return r < 0 ? r : tbuf_putc(s, b, '"');
}

struct fmt_spec {
        bool minus, plus, zero, sharp, space;
        int width, prec; /* -1: not given */
        char verb;
};

/* Rune count, as fmt pads by runes. */
static size_t rune_count(const char *p, size_t n)
{
        size_t c = 0;

        for (size_t i = 0; i < n; i++)
                if (((unsigned char)p[i] & 0xc0) != 0x80)
                        c++;
        return c;
}

static int put_padded(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp,
                      const char *p, size_t n, bool numeric)
{
        size_t w = rune_count(p, n),
               fill = sp->width > 0 && (size_t)sp->width > w ? (size_t)sp->width - w : 0;
        bool zeros = sp->zero && !sp->minus && numeric;
        int r = 0;

        if (zeros && n > 0 && (p[0] == '-' || p[0] == '+')) {
                r = tbuf_put(s, b, p++, 1);
                n--;
        }
        for (size_t i = 0; i < fill && !sp->minus && r >= 0; i++)
                r = tbuf_putc(s, b, zeros ? '0' : ' ');
        if (r >= 0)
                r = tbuf_put(s, b, p, n);
        for (size_t i = 0; i < fill && sp->minus && r >= 0; i++)
                r = tbuf_putc(s, b, ' ');
        return r;
}

static int put_verb(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp,
                    const json_t *v);

/* "%!d(string=x)": a verb that does not fit the operand, which prints as %v with the flags. */
static int put_bad_verb(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp,
                        const json_t *v)
{
        char head[4] = { '%', '!', sp->verb, '(' };
        struct fmt_spec as_v = *sp;
        int r = tbuf_put(s, b, head, 4);

        as_v.verb = 'v';
        if (r >= 0 && (!v || json_is_null(v)))
                r = tbuf_puts(s, b, "<nil>");
        else if (r >= 0) {
                r = tbuf_puts(s, b, tmpl_type_name(v));
                if (r >= 0)
                        r = tbuf_putc(s, b, '=');
                if (r >= 0)
                        r = put_verb(s, b, &as_v, v);
        }
        return r < 0 ? r : tbuf_putc(s, b, ')');
}

/* strconv.QuoteRune for %q of an integer: 'x', escaped when not printable. */
static int put_quoted_rune(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp,
                           json_int_t i)
{
        uint32_t c = i < 0 || i > 0x10ffff || (i >= 0xd800 && i < 0xe000) ? 0xfffd : (uint32_t)i;
        struct tbuf t = { 0 };
        char enc[4];
        int r = tbuf_putc(s, &t, '\'');

        if (r >= 0 && (c == '\'' || c == '\\')) {
                char esc[2] = { '\\', (char)c };
                r = tbuf_put(s, &t, esc, 2);
        } else if (r >= 0 && is_printable(c))
                r = tbuf_put(s, &t, enc, tmpl_utf8_encode(c, enc));
        else if (r >= 0)
                r = put_escaped_rune(s, &t, c);
        if (r >= 0)
                r = tbuf_putc(s, &t, '\'');
        if (r >= 0)
                r = put_padded(s, b, sp, t.p, t.n, false);
        free(t.p);
        return r;
}

static void format_int(const struct fmt_spec *sp, json_int_t i, char out[static 32])
{
        unsigned long long mag = i < 0 ? (unsigned long long)-(i + 1) + 1 : (unsigned long long)i;
        const char *sign = i < 0 ? "-" : sp->plus ? "+" : "";
        const char *prefix = sp->sharp ? (sp->verb == 'X' ? "0X" : "0x") : "";

        /* Go prints -ff for negative hex, not the two's complement */
        if (sp->verb == 'd')
                snprintf(out, 32, "%s%llu", sign, mag);
        else if (sp->verb == 'x')
                snprintf(out, 32, "%s%s%llx", sign, prefix, mag);
        else
                snprintf(out, 32, "%s%s%llX", sign, prefix, mag);
}

static int put_real(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp, double d)
{
        int prec = sp->prec < 0 ? 6 : MIN(sp->prec, 400);
        char out[1024];
        size_t off = sp->plus && !signbit(d) ? 1 : 0;

        out[0] = '+';
        if ((sp->verb == 'g' || sp->verb == 'G') && sp->prec < 0) {
                /* %g without a precision is the shortest form, as %v prints it */
                struct tbuf t = { 0 };
                int r = tbuf_put(s, &t, out, off);
                if (r >= 0)
                        r = put_float(s, &t, d, false);
                if (r >= 0)
                        r = put_padded(s, b, sp, t.p, t.n, true);
                free(t.p);
                return r;
        }
        if (sp->verb == 'f')
                snprintf(out + off, sizeof(out) - off, "%.*f", prec, d);
        else if (sp->verb == 'e')
                snprintf(out + off, sizeof(out) - off, "%.*e", prec, d);
        else if (sp->verb == 'E')
                snprintf(out + off, sizeof(out) - off, "%.*E", prec, d);
        else if (sp->verb == 'g')
                snprintf(out + off, sizeof(out) - off, "%.*g", prec, d);
        else
                snprintf(out + off, sizeof(out) - off, "%.*G", prec, d);
        return put_padded(s, b, sp, out, strlen(out), true);
}

static int put_c_number(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp,
                        const json_t *v)
{
        char out[32];

        if (!json_is_integer(v))
                return put_real(s, b, sp, json_real_value(v));
        format_int(sp, json_integer_value(v), out);
        return put_padded(s, b, sp, out, strlen(out), true);
}

/* Inside a slice or map a nil prints as "<nil>" whatever the verb. */
static int put_verb_elem(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp,
                         const json_t *v)
{
        if (json_is_null(v))
                return put_padded(s, b, sp, "<nil>", 5, false);
        return put_verb(s, b, sp, v);
}

/* Go applies the verb to each element of a slice or map. */
static int put_verb_container(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp,
                              const json_t *v)
{
        json_t *e;
        int r = tbuf_puts(s, b, json_is_array(v) ? "[" : "map[");

        if (json_is_array(v)) {
                JSON_ARRAY_FOREACH(i, e, v) {
                        if (r >= 0 && i > 0)
                                r = tbuf_putc(s, b, ' ');
                        if (r >= 0)
                                r = put_verb_elem(s, b, sp, e);
                }
                return r < 0 ? r : tbuf_putc(s, b, ']');
        }
        size_t n;
        _cleanup_free_ const char **keys = sorted_keys(v, &n);
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_json_ json_t *k = json_string_nocheck(keys[i]);
                r = i > 0 ? tbuf_putc(s, b, ' ') : 0;
                if (r >= 0)
                        r = put_verb(s, b, sp, k);
                if (r >= 0)
                        r = tbuf_putc(s, b, ':');
                if (r >= 0)
                        r = put_verb_elem(s, b, sp, json_object_get(v, keys[i]));
        }
        return r < 0 ? r : tbuf_putc(s, b, ']');
}

static int put_string_verb(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp,
                           const json_t *v)
{
        const char *p = json_string_value(v);
        size_t n = json_string_length(v);
        struct tbuf t = { 0 };
        int r = tbuf_put(s, &t, "", 0);

        if (sp->prec >= 0) /* precision counts runes */
                for (size_t i = 0, runes = 0; i < n; i++)
                        if (((unsigned char)p[i] & 0xc0) != 0x80 && runes++ == (size_t)sp->prec) {
                                n = i;
                                break;
                        }
        if (sp->verb == 'q')
                r = tmpl_print_quoted(s, &t, p, n);
        else if (sp->verb == 'x' || sp->verb == 'X') {
                const char *digits = sp->verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
                for (size_t i = 0; i < n && r >= 0; i++) {
                        char h[2] = { digits[(unsigned char)p[i] >> 4], digits[p[i] & 0xf] };
                        r = tbuf_put(s, &t, h, 2);
                }
        } else
                r = tbuf_put(s, &t, p, n);
        if (r >= 0)
                r = put_padded(s, b, sp, t.p, t.n, false);
        free(t.p);
        return r;
}

static int put_verb(struct tmpl_state *s, struct tbuf *b, const struct fmt_spec *sp,
                    const json_t *v)
{
        char c = sp->verb;

        if (json_is_array(v) || json_is_object(v))
                return put_verb_container(s, b, sp, v);
        if (json_is_string(v) && strchr("vsqxX", c))
                return put_string_verb(s, b, sp, v);
        if (json_is_integer(v) && strchr("dxX", c))
                return put_c_number(s, b, sp, v);
        if (json_is_integer(v) && c == 'q')
                return put_quoted_rune(s, b, sp, json_integer_value(v));
        if (json_is_real(v) && (strchr("feEgG", c) || (c == 'v' && sp->prec >= 0))) {
                struct fmt_spec as_g = *sp;
                as_g.verb = c == 'v' ? 'g' : c;
                return put_c_number(s, b, &as_g, v);
        }
        if (c == 'v' || (json_is_boolean(v) && c == 't')) {
                struct tbuf t = { 0 };
                int r = tbuf_put(s, &t, "", 0);
                if (r >= 0)
                        r = tmpl_print_value(s, &t, v);
                if (r >= 0)
                        r = put_padded(s, b, sp, t.p, t.n, json_is_number(v));
                free(t.p);
                return r;
        }
        return put_bad_verb(s, b, sp, v);
}

/* Flags, width and precision after a '%'; returns the index of the verb (N when a number
 * past 1e6 swallows the rest, as in Go). */
static size_t parse_spec(const char *f, size_t i, size_t n, struct fmt_spec *sp)
{
        *sp = (struct fmt_spec){ .width = -1, .prec = -1 };
        for (; i < n && strchr("+-# 0", f[i]) && f[i]; i++) {
                sp->plus |= f[i] == '+';
                sp->minus |= f[i] == '-';
                sp->sharp |= f[i] == '#';
                sp->zero |= f[i] == '0';
                sp->space |= f[i] == ' ';
        }
        for (; i < n && f[i] >= '0' && f[i] <= '9'; i++) {
                sp->width = MAX(sp->width, 0) * 10 + (f[i] - '0');
                if (sp->width > 1000000)
                        return n;
        }
        if (i + 1 < n && f[i] == '.') {
                sp->prec = 0;
                for (i++; i < n && f[i] >= '0' && f[i] <= '9'; i++) {
                        sp->prec = sp->prec * 10 + (f[i] - '0');
                        if (sp->prec > 1000000)
                                return n;
                }
        }
        return i;
}

static int put_extra(struct tmpl_state *s, struct tbuf *b, json_t **args, size_t n)
{
        int r = tbuf_puts(s, b, "%!(EXTRA ");

        for (size_t i = 0; i < n && r >= 0; i++) {
                if (i > 0)
                        r = tbuf_puts(s, b, ", ");
                if (r >= 0 && args[i] && !json_is_null(args[i])) {
                        r = tbuf_puts(s, b, tmpl_type_name(args[i]));
                        if (r >= 0)
                                r = tbuf_putc(s, b, '=');
                }
                if (r >= 0)
                        r = tmpl_print_value(s, b, args[i]);
        }
        return r < 0 ? r : tbuf_putc(s, b, ')');
}

int tmpl_printf(struct tmpl_state *s, struct tbuf *b, const char *f, size_t flen, json_t **args,
                size_t n)
{
        size_t argi = 0;
        int r = 0;

        for (size_t i = 0; i < flen && r >= 0;) {
                const char *pct = memchr(f + i, '%', flen - i);
                size_t lit = pct ? (size_t)(pct - f) - i : flen - i;
                struct fmt_spec sp;
                r = tbuf_put(s, b, f + i, lit);
                i += lit;
                if (r < 0 || i >= flen)
                        break;
                size_t v = parse_spec(f, i + 1, flen, &sp);
                if (v >= flen) {
                        r = tbuf_puts(s, b, "%!(NOVERB)");
                        break;
                }
                sp.verb = f[v];
                i = v + 1;
                if (sp.verb == '%')
                        r = tbuf_putc(s, b, '%');
                else if (argi >= n) {
                        char miss[16];
                        snprintf(miss, sizeof(miss), "%%!%c(MISSING)", sp.verb);
                        r = tbuf_puts(s, b, miss);
                } else
                        r = put_verb(s, b, &sp, args[argi++]);
        }
        if (r >= 0 && argi < n)
                r = put_extra(s, b, args + argi, n - argi);
        return r;
}
