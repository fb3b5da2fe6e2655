/* The functions a template can call: docker's (templates.basicFunctions) and Go's builtins. */
#include <errno.h>
#include <stdlib.h>

#include "basic/banned.h"
#include "basic/util.h"
#include "json/template-internal.h"

bool tmpl_truth(const json_t *v)
{
        switch (tmpl_typeof(v)) {
        case JSON_STRING:
                return json_string_length(v) > 0;
        case JSON_ARRAY:
                return json_array_size(v) > 0;
        case JSON_OBJECT:
                return json_object_size(v) > 0;
        case JSON_INTEGER:
                return json_integer_value(v) != 0;
        case JSON_REAL:
                return json_real_value(v) != 0;
        case JSON_TRUE:
                return true;
        default:
                return false; /* false, null, and no value (NULL) */
        }
}

const char *tmpl_type_name(const json_t *v)
{
        if (!v)
                return "<invalid>";
        switch (tmpl_typeof(v)) {
        case JSON_STRING:
                return "string";
        case JSON_ARRAY:
                return "[]interface {}";
        case JSON_OBJECT:
                return "map[string]interface {}";
        case JSON_INTEGER:
                return "int";
        case JSON_REAL:
                return "float64";
        case JSON_TRUE:
        case JSON_FALSE:
                return "bool";
        default:
                return "interface {}";
        }
}

/* Go's validateType for a parameter of type WANT ("string", "int"). */
static int wrong_type(struct tmpl_state *s, const json_t *v, const char *want)
{
        if (!v)
                return tmpl_fail(s, "invalid value; expected %s", want);
        return tmpl_fail(s, "wrong type for value; expected %s; got %s", want, tmpl_type_name(v));
}

static int arg_str(struct tmpl_state *s, const json_t *v, const char **ret, size_t *ret_len)
{
        if (!json_is_string(v))
                return wrong_type(s, v, "string");
        *ret = json_string_value(v);
        *ret_len = json_string_length(v);
        return 0;
}

static int arg_int(struct tmpl_state *s, const json_t *v, json_int_t *ret)
{
        if (!json_is_integer(v))
                return wrong_type(s, v, "int");
        *ret = json_integer_value(v);
        return 0;
}

static int fn_json(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        struct tbuf b = { 0 };
        int r = tmpl_print_json(s, &b, args[0]);

        (void)n;
        if (r < 0) {
                free(b.p);
                return r;
        }
        *ret = tbuf_steal_string(&b);
        return 0;
}

/* A pair range of a case table: upper-case code points FIRST..LAST map to lower case by adding
 * DELTA; with STEP 2 they alternate upper/lower (Latin Extended-A, Cyrillic). */
struct case_range {
        uint32_t first, last;
        int32_t delta;
        uint8_t step;
};

/* Upper → lower for the scripts handled: Latin-1, Latin Extended-A, Greek, Cyrillic. */
static const struct case_range case_ranges[] = {
        { 'A', 'Z', 32, 1 },     { 0xc0, 0xd6, 32, 1 },   { 0xd8, 0xde, 32, 1 },
        { 0x100, 0x12e, 1, 2 },  { 0x132, 0x136, 1, 2 },  { 0x139, 0x147, 1, 2 },
        { 0x14a, 0x176, 1, 2 },  { 0x179, 0x17d, 1, 2 },  { 0x386, 0x386, 38, 1 },
        { 0x388, 0x38a, 37, 1 }, { 0x38c, 0x38c, 64, 1 }, { 0x38e, 0x38f, 63, 1 },
        { 0x391, 0x3a1, 32, 1 }, { 0x3a3, 0x3ab, 32, 1 }, { 0x400, 0x40f, 80, 1 },
        { 0x410, 0x42f, 32, 1 }, { 0x460, 0x480, 1, 2 },  { 0x48a, 0x4be, 1, 2 },
};

/* unicode.ToUpper/ToLower (= ToTitle here) over the ranges above plus their odd cases. */
static uint32_t case_map(uint32_t c, bool upper)
{
        static const uint32_t to_upper[][2] = {
                { 0xff, 0x178 }, { 0xb5, 0x39c }, { 0x17f, 'S' }, { 0x3c2, 0x3a3 }, { 0x131, 'I' },
        };
        static const uint32_t to_lower[][2] = { { 0x178, 0xff }, { 0x130, 'i' } };
        const uint32_t(*extra)[2] = upper ? to_upper : to_lower;
        size_t n_extra = upper ? ELEMENTSOF(to_upper) : ELEMENTSOF(to_lower);

        for (size_t i = 0; i < ELEMENTSOF(case_ranges); i++) {
                const struct case_range *cr = &case_ranges[i];
                uint32_t first = cr->first, last = cr->last, d = (uint32_t)cr->delta;
                if (upper) {
                        first += d;
                        last += d;
                }
                if (c >= first && c <= last && (c - first) % cr->step == 0)
                        return upper ? c - d : c + d;
        }
        for (size_t i = 0; i < n_extra; i++)
                if (c == extra[i][0])
                        return extra[i][1];
        return c;
}

/* strings.Title's isSeparator, for the code points case_map knows. */
static bool is_separator(uint32_t c)
{
        if (c < 0x80)
                return !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') &&
                       c != '_';
        return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
               c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

enum case_op {
        CASE_UPPER,
        CASE_LOWER,
        CASE_TITLE,
};

/* strings.ToUpper/ToLower/Title: rune by rune, invalid bytes becoming U+FFFD as strings.Map
 * makes them (ASCII-only input takes Go's byte-wise fast path, same result). */
static int map_case(struct tmpl_state *s, json_t *arg, enum case_op op, json_t **ret)
{
        const char *p;
        size_t len;
        struct tbuf b = { 0 };
        uint32_t prev = ' ';
        int r = arg_str(s, arg, &p, &len);

        if (r >= 0)
                r = tbuf_put(s, &b, "", 0);
        for (size_t i = 0; i < len && r >= 0;) {
                uint32_t c = 0xfffd, m;
                size_t k = utf8_decode((const unsigned char *)p + i, len - i, &c);
                char enc[4];
                if (op == CASE_TITLE)
                        m = is_separator(prev) ? case_map(c, true) : c;
                else
                        m = case_map(c, op == CASE_UPPER);
                prev = c;
                r = tbuf_put(s, &b, enc, tmpl_utf8_encode(k == 0 ? 0xfffd : m, enc));
                i += MAX(k, (size_t)1);
        }
        if (r < 0) {
                free(b.p);
                return r;
        }
        *ret = tbuf_steal_string(&b);
        return 0;
}

static int fn_upper(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        (void)n;
        return map_case(s, args[0], CASE_UPPER, ret);
}

static int fn_lower(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        (void)n;
        return map_case(s, args[0], CASE_LOWER, ret);
}

static int fn_title(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        (void)n;
        return map_case(s, args[0], CASE_TITLE, ret);
}

/* strings.Split with an empty separator: one element per UTF-8 sequence (or stray byte). */
static json_t *explode(const char *p, size_t len)
{
        json_t *a = json_array();

        while (len > 0) {
                uint32_t c;
                size_t k = MAX(utf8_decode((const unsigned char *)p, len, &c), (size_t)1);
                json_array_append_new(a, json_stringn_nocheck(p, k));
                p += k;
                len -= k;
        }
        return a;
}

static int fn_split(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        const char *p, *sep;
        size_t len, slen;
        int r = arg_str(s, args[0], &p, &len);

        (void)n;
        if (r >= 0)
                r = arg_str(s, args[1], &sep, &slen);
        if (r < 0)
                return r;
        if (slen == 0) {
                *ret = explode(p, len);
                return 0;
        }
        json_t *a = json_array();
        for (;;) {
                const char *hit = memmem(p, len, sep, slen);
                size_t k = hit ? (size_t)(hit - p) : len;
                json_array_append_new(a, json_stringn_nocheck(p, k));
                if (!hit)
                        break;
                p += k + slen;
                len -= k + slen;
        }
        *ret = a;
        return 0;
}

/* strings.Join of a []string; null and no value join to "". */
static int fn_join(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        const char *sep;
        size_t slen;
        struct tbuf b = { 0 };
        json_t *e;
        int r = arg_str(s, args[1], &sep, &slen);

        (void)n;
        if (r < 0)
                return r;
        if (args[0] && !json_is_null(args[0]) && !json_is_array(args[0]))
                return wrong_type(s, args[0], "[]string");
        JSON_ARRAY_FOREACH(i, e, args[0]) {
                if (!json_is_string(e))
                        r = wrong_type(s, args[0], "[]string");
                if (r >= 0 && i > 0)
                        r = tbuf_put(s, &b, sep, slen);
                if (r >= 0)
                        r = tbuf_put(s, &b, json_string_value(e), json_string_length(e));
                if (r < 0)
                        break;
        }
        if (r < 0) {
                free(b.p);
                return r;
        }
        *ret = tbuf_steal_string(&b);
        return 0;
}

static int put_spaces(struct tmpl_state *s, struct tbuf *b, json_int_t n)
{
        int r = 0;

        for (json_int_t i = 0; i < n && r >= 0; i++)
                r = tbuf_putc(s, b, ' ');
        return r;
}

/* docker's pad S PREFIX SUFFIX: spaces around S unless it is empty. */
static int fn_pad(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        const char *p;
        size_t len;
        json_int_t pre = 0, post = 0;
        struct tbuf b = { 0 };
        int r = arg_str(s, args[0], &p, &len);

        (void)n;
        if (r >= 0)
                r = arg_int(s, args[1], &pre);
        if (r >= 0)
                r = arg_int(s, args[2], &post);
        if (r >= 0 && len > 0 && (pre < 0 || post < 0))
                r = tmpl_fail(s, "error calling pad: strings: negative Repeat count");
        if (r >= 0 && len > 0)
                r = put_spaces(s, &b, pre);
        if (r >= 0)
                r = tbuf_put(s, &b, p, len);
        if (r >= 0 && len > 0)
                r = put_spaces(s, &b, post);
        if (r < 0) {
                free(b.p);
                return r;
        }
        *ret = tbuf_steal_string(&b);
        return 0;
}

/* docker's truncate S N: the first N bytes of S. */
static int fn_truncate(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        const char *p;
        size_t len;
        json_int_t max = 0;
        int r = arg_str(s, args[0], &p, &len);

        (void)n;
        if (r >= 0)
                r = arg_int(s, args[1], &max);
        if (r < 0)
                return r;
        if (max >= 0 && len < (uint64_t)max) {
                *ret = json_incref(args[0]);
                return 0;
        }
        if (max < 0)
                return tmpl_fail(s,
                                 "error calling truncate: runtime error: slice bounds out of "
                                 "range [:%lld]",
                                 (long long)max);
        *ret = json_stringn_nocheck(p, (size_t)max);
        return 0;
}

static int fn_len(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        json_t *v = args[0];
        size_t len;

        (void)n;
        if (json_is_string(v))
                len = json_string_length(v);
        else if (json_is_array(v))
                len = json_array_size(v);
        else if (json_is_object(v))
                len = json_object_size(v);
        else if (json_is_null(v))
                len = 0; /* docker's nil slices and maps */
        else if (!v)
                return tmpl_fail(s, "invalid value; expected reflect.Value");
        else
                return tmpl_fail(s, "error calling len: len of type %s", tmpl_type_name(v));
        *ret = json_integer((json_int_t)len);
        return 0;
}

static int index_one(struct tmpl_state *s, json_t *item, json_t *key, json_t **ret)
{
        if (json_is_object(item)) {
                if (!json_is_string(key))
                        return tmpl_fail(s,
                                         "error calling index: value has type %s; should be "
                                         "string",
                                         tmpl_type_name(key));
                /* a missing key gives Go's zero value, a nil any: no value once printed */
                *ret = json_incref(json_object_get(item, json_string_value(key)));
                return 0;
        }
        if (!json_is_array(item) && !json_is_string(item))
                return tmpl_fail(s, "error calling index: can't index item of type %s",
                                 tmpl_type_name(item));
        if (!json_is_integer(key))
                return tmpl_fail(s, "error calling index: cannot index slice/array with type %s",
                                 tmpl_type_name(key));
        json_int_t i = json_integer_value(key);
        size_t len = json_is_array(item) ? json_array_size(item) : json_string_length(item);
        if (i < 0 || (uint64_t)i >= len)
                return tmpl_fail(s, "error calling index: index out of range: %lld", (long long)i);
        *ret = json_is_array(item) ? json_incref(json_array_get(item, (size_t)i))
                                   : json_integer((unsigned char)json_string_value(item)[i]);
        return 0;
}

/* index X K1 K2...: X[K1][K2]...; null indexes to null (docker's nil maps). */
static int fn_index(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        json_t *item = json_incref(args[0]);

        if (!item)
                return tmpl_fail(s, "error calling index: index of untyped nil");
        for (size_t i = 1; i < n; i++) {
                json_t *next = NULL;
                int r;
                if (!item)
                        r = tmpl_fail(s, "error calling index: index of nil pointer");
                else if (json_is_null(item))
                        r = 0, next = json_null();
                else
                        r = index_one(s, item, args[i], &next);
                json_decref(item);
                if (r < 0)
                        return r;
                item = next;
        }
        *ret = item;
        return 0;
}

static int fn_not(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        (void)s;
        (void)n;
        *ret = json_boolean(!tmpl_truth(args[0]));
        return 0;
}

/* fmt.Sprint: a space between operands when neither is a string; Sprintln: always, plus \n. */
static int sprint(struct tmpl_state *s, json_t **args, size_t n, bool ln, json_t **ret)
{
        struct tbuf b = { 0 };
        int r = tbuf_put(s, &b, "", 0);

        for (size_t i = 0; i < n && r >= 0; i++) {
                if (i > 0 && (ln || (!json_is_string(args[i]) && !json_is_string(args[i - 1]))))
                        r = tbuf_putc(s, &b, ' ');
                if (r >= 0)
                        r = tmpl_print_value(s, &b, args[i]);
        }
        if (r >= 0 && ln)
                r = tbuf_putc(s, &b, '\n');
        if (r < 0) {
                free(b.p);
                return r;
        }
        *ret = tbuf_steal_string(&b);
        return 0;
}

static int fn_print(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        return sprint(s, args, n, false, ret);
}

static int fn_println(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        return sprint(s, args, n, true, ret);
}

static int fn_printf(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        const char *f;
        size_t flen;
        struct tbuf b = { 0 };
        int r = arg_str(s, args[0], &f, &flen);

        if (r >= 0)
                r = tbuf_put(s, &b, "", 0);
        if (r >= 0)
                r = tmpl_printf(s, &b, f, flen, args + 1, n - 1);
        if (r < 0) {
                free(b.p);
                return r;
        }
        *ret = tbuf_steal_string(&b);
        return 0;
}

enum cmp_kind {
        CMP_NUMBER,
        CMP_STRING,
        CMP_BOOL,
        CMP_NULL,
        CMP_NONE,
};

static enum cmp_kind cmp_kind(const json_t *v)
{
        if (json_is_number(v))
                return CMP_NUMBER;
        if (json_is_string(v))
                return CMP_STRING;
        if (json_is_boolean(v))
                return CMP_BOOL;
        if (!v || json_is_null(v))
                return CMP_NULL;
        return CMP_NONE;
}

static int compare_strings(const json_t *a, const json_t *b)
{
        size_t la = json_string_length(a), lb = json_string_length(b);
        int c = memcmp(json_string_value(a), json_string_value(b), MIN(la, lb));

        return c != 0 ? (c > 0) - (c < 0) : (la > lb) - (la < lb);
}

/* Compare A and B like Go's eq/lt: -1, 0, 1 in *ret; errors for incomparable types. */
static int compare(struct tmpl_state *s, const json_t *a, const json_t *b, bool ordered, int *ret)
{
        enum cmp_kind ka = cmp_kind(a), kb = cmp_kind(b);

        if (!ordered && (ka == CMP_NULL || kb == CMP_NULL)) {
                *ret = ka != kb; /* nil equals only nil, whatever the other type */
                return 0;
        }
        if (ka == CMP_NONE || kb == CMP_NONE)
                return tmpl_fail(s, "error calling %s: non-comparable type %s",
                                 ordered ? "lt" : "eq", tmpl_type_name(ka == CMP_NONE ? a : b));
        if (ordered && (ka == CMP_BOOL || ka == CMP_NULL))
                return tmpl_fail(s, "error calling lt: invalid type for comparison");
        if (ka != kb)
                return tmpl_fail(s, "error calling %s: incompatible types for comparison",
                                 ordered ? "lt" : "eq");
        if (ka == CMP_NUMBER && json_is_integer(a) && json_is_integer(b))
                *ret = (json_integer_value(a) > json_integer_value(b)) -
                       (json_integer_value(a) < json_integer_value(b));
        else if (ka == CMP_NUMBER)
                *ret = (json_number_value(a) > json_number_value(b)) -
                       (json_number_value(a) < json_number_value(b));
        else if (ka == CMP_STRING)
                *ret = compare_strings(a, b);
        else
                *ret = ka == CMP_BOOL && json_is_true(a) != json_is_true(b);
        return 0;
}

/* eq A B C...: A equals any of B, C... */
static int fn_eq(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        bool eq = false;

        for (size_t i = 1; i < n && !eq; i++) {
                int c, r = compare(s, args[0], args[i], false, &c);
                if (r < 0)
                        return r;
                eq = c == 0;
        }
        *ret = json_boolean(eq);
        return 0;
}

static int fn_ne(struct tmpl_state *s, json_t **args, size_t n, json_t **ret)
{
        int c, r = compare(s, args[0], args[1], false, &c);

        (void)n;
        if (r < 0)
                return r;
        *ret = json_boolean(c != 0);
        return 0;
}

#define DEFINE_ORDER_FN(name, expr)                                                       \
        static int fn_##name(struct tmpl_state *s, json_t **args, size_t n, json_t **ret) \
        {                                                                                 \
                int c, r = compare(s, args[0], args[1], true, &c);                        \
                (void)n;                                                                  \
                if (r < 0)                                                                \
                        return r;                                                         \
                *ret = json_boolean(expr);                                                \
                return 0;                                                                 \
        }

DEFINE_ORDER_FN(lt, c < 0)
DEFINE_ORDER_FN(le, c <= 0)
DEFINE_ORDER_FN(gt, c > 0)
DEFINE_ORDER_FN(ge, c >= 0)

static const struct tmpl_func funcs[] = {
        { "and", 1, -1, NULL, false },
        { "eq", 2, -1, fn_eq, false },
        { "ge", 2, 2, fn_ge, false },
        { "gt", 2, 2, fn_gt, false },
        { "index", 1, -1, fn_index, false },
        { "join", 2, 2, fn_join, true },
        { "json", 1, 1, fn_json, true },
        { "le", 2, 2, fn_le, false },
        { "len", 1, 1, fn_len, false },
        { "lower", 1, 1, fn_lower, true },
        { "lt", 2, 2, fn_lt, false },
        { "ne", 2, 2, fn_ne, false },
        { "not", 1, 1, fn_not, false },
        { "or", 1, -1, NULL, false },
        { "pad", 3, 3, fn_pad, true },
        { "print", 0, -1, fn_print, false },
        { "printf", 1, -1, fn_printf, false },
        { "println", 0, -1, fn_println, false },
        { "split", 2, 2, fn_split, true },
        { "title", 1, 1, fn_title, true },
        { "truncate", 2, 2, fn_truncate, true },
        { "upper", 1, 1, fn_upper, true },
};

const struct tmpl_func *tmpl_func_lookup(const char *name, size_t len)
{
        for (size_t i = 0; i < ELEMENTSOF(funcs); i++)
                if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
                        return &funcs[i];
        return NULL;
}
