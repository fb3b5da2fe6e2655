/* Text as Go sees it: UTF-8 decoding with Go's rules (an invalid byte is U+FFFD of width 1),
 * unicode.IsSpace, strings.TrimSpace, and strconv.Quote for the dump. */
#include <string.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"

int32_t df_utf8_decode(const char *s, size_t n, size_t *ret_width)
{
        const unsigned char *u = (const unsigned char *)s;
        unsigned char lo = 0x80, hi = 0xBF, c = u[0];
        size_t need;
        int32_t r;
        *ret_width = 1;
        if (c < 0x80)
                return c;
        if (c >= 0xC2 && c <= 0xDF) {
                need = 1;
                r = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
                need = 2;
                r = c & 0x0F;
                lo = c == 0xE0 ? 0xA0 : 0x80;
                hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3;
                r = c & 0x07;
                lo = c == 0xF0 ? 0x90 : 0x80;
                hi = c == 0xF4 ? 0x8F : 0xBF;
        } else
                return -1;
        if (n <= need || u[1] < lo || u[1] > hi)
                return -1;
        r = (r << 6) | (u[1] & 0x3F);
        for (size_t i = 2; i <= need; i++) {
                if ((u[i] & 0xC0) != 0x80)
                        return -1;
                r = (r << 6) | (u[i] & 0x3F);
        }
        *ret_width = need + 1;
        return r;
}

bool df_rune_is_space(int32_t r)
{
        switch (r) {
        case '\t' ... '\r':
        case ' ':
        case 0x85:
        case 0xA0:
        case 0x1680:
        case 0x2000 ... 0x200A:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000:
                return true;
        }
        return false;
}

size_t df_uspace_at(const char *s, size_t n)
{
        size_t w;
        if (n == 0)
                return 0;
        if ((unsigned char)s[0] < 0x80)
                return df_rune_is_space((unsigned char)s[0]) ? 1 : 0;
        return df_rune_is_space(df_utf8_decode(s, n, &w)) ? w : 0;
}

size_t df_uspace_before(const char *s, size_t n)
{
        if (n == 0)
                return 0;
        if ((unsigned char)s[n - 1] < 0x80)
                return df_rune_is_space((unsigned char)s[n - 1]) ? 1 : 0;
        /* all the multi-byte spaces are 2 or 3 bytes long */
        for (size_t w = 2; w <= 3 && w <= n; w++) {
                size_t got;
                int32_t r = df_utf8_decode(s + n - w, w, &got);
                if (got == w)
                        return df_rune_is_space(r) ? w : 0;
        }
        return 0;
}

void df_trim_uspace(const char **s, size_t *n)
{
        size_t w;
        while ((w = df_uspace_at(*s, *n)) > 0) {
                *s += w;
                *n -= w;
        }
        while ((w = df_uspace_before(*s, *n)) > 0)
                *n -= w;
}

size_t df_utf8_count(const char *s, size_t n)
{
        size_t count = 0, w;
        for (size_t i = 0; i < n; i += w, count++)
                (void)df_utf8_decode(s + i, n - i, &w);
        return count;
}

/* Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and U+0020. Exact for
 * ASCII and Latin-1 and for the format, space and private-use ranges; other unassigned code
 * points count as printable (Go's tables follow the Unicode version it was built with). */
static bool rune_is_print(int32_t r)
{
        if (r < 0x80)
                return r >= 0x20 && r < 0x7F;
        switch (r) {
        case 0x80 ... 0xA0:
        case 0xAD:
        case 0x600 ... 0x605:
        case 0x61C:
        case 0x6DD:
        case 0x70F:
        case 0x180E:
        case 0x1680:
        case 0x2000 ... 0x200F:
        case 0x2028 ... 0x202F:
        case 0x205F ... 0x206F:
        case 0x3000:
        case 0xD800 ... 0xF8FF:
        case 0xFEFF:
        case 0xFFF0 ... 0xFFFB:
        case 0x40000 ... 0xDFFFF: /* planes 4 to 13: nothing assigned */
        case 0xE0000 ... 0xE00FF:
        case 0xE01F0 ... 0x10FFFF:
                return false;
        }
        return (r & 0xFFFE) != 0xFFFE; /* U+xFFFE and U+xFFFF are noncharacters */
}

static void quote_rune(struct sbuf *b, int32_t r, const char *raw, size_t width)
{
        static const char hex[] = "0123456789abcdef";
        static const char *const esc[] = {
                ['\a'] = "\\a", ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n",
                ['\r'] = "\\r", ['\t'] = "\\t", ['\v'] = "\\v"
        };
        if (r == '"' || r == '\\') {
                df_sbuf_putc(b, '\\');
                df_sbuf_putc(b, (char)r);
        } else if (rune_is_print(r))
                df_sbuf_put(b, raw, width);
        else if (r < (int32_t)ELEMENTSOF(esc) && esc[r])
                df_sbuf_puts(b, esc[r]);
        else if (r < ' ' || r == 0x7F)
                df_sbuf_printf(b, "\\x%c%c", hex[r >> 4], hex[r & 0xF]);
        else if (r < 0x10000)
                df_sbuf_printf(b, "\\u%04x", (unsigned)r);
        else
                df_sbuf_printf(b, "\\U%08x", (unsigned)r);
}

void df_go_quote_append(struct sbuf *b, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        size_t w;
        df_sbuf_putc(b, '"');
        for (size_t i = 0; i < n; i += w) {
                size_t plain = 0; /* a run of printable ASCII needing no escape, copied at once */
                while (i + plain < n && s[i + plain] >= 0x20 && s[i + plain] < 0x7F &&
                       s[i + plain] != '"' && s[i + plain] != '\\')
                        plain++;
                if (plain > 0) {
                        df_sbuf_put(b, s + i, plain);
                        w = plain;
                        continue;
                }
                int32_t r = df_utf8_decode(s + i, n - i, &w);
                if (r < 0) {
                        unsigned char c = (unsigned char)s[i];
                        df_sbuf_printf(b, "\\x%c%c", hex[c >> 4], hex[c & 0xF]);
                } else
                        quote_rune(b, r, s + i, w);
        }
        df_sbuf_putc(b, '"');
}

char *dockerfile_go_quote(const char *s)
{
        struct sbuf b = { 0 };
        df_go_quote_append(&b, s, strlen(s));
        return b.s;
}
