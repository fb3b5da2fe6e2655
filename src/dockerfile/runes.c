#include "basic/util.h"
#include "dockerfile/runes-internal.h"
#include "dockerfile/unicode-tables.h"

static bool is_cont(unsigned char c)
{
        return c >= 0x80 && c <= 0xBF;
}

/* The valid range of the second byte of a multi-byte sequence led by C (Go's acceptRanges). */
static void second_range(unsigned char c, unsigned char *lo, unsigned char *hi)
{
        *lo = 0x80;
        *hi = 0xBF;
        if (c == 0xE0)
                *lo = 0xA0;
        else if (c == 0xED)
                *hi = 0x9F;
        else if (c == 0xF0)
                *lo = 0x90;
        else if (c == 0xF4)
                *hi = 0x8F;
}

int32_t rune_decode(const char *s, size_t len, size_t *ret_width)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t n = 0;
        int32_t r;

        *ret_width = 1;
        if (u[0] < 0x80)
                return u[0];
        if (u[0] >= 0xC2 && u[0] <= 0xDF) {
                n = 2;
                r = u[0] & 0x1F;
        } else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
                n = 3;
                r = u[0] & 0x0F;
        } else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
                n = 4;
                r = u[0] & 0x07;
        } else
                return RUNE_ERROR;
        if (len < 2)
                return RUNE_ERROR;
        unsigned char lo, hi;
        second_range(u[0], &lo, &hi);
        if (u[1] < lo || u[1] > hi)
                return RUNE_ERROR;
        for (size_t i = 1; i < n; i++) {
                if (i >= len || !is_cont(u[i]))
                        return RUNE_ERROR;
                r = (r << 6) | (u[i] & 0x3F);
        }
        *ret_width = n;
        return r;
}

size_t rune_encode(int32_t r, char *out)
{
        unsigned char *u = (unsigned char *)out;

        if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
                r = RUNE_ERROR;
        if (r < 0x80) {
                u[0] = (unsigned char)r;
                return 1;
        }
        if (r < 0x800) {
                u[0] = (unsigned char)(0xC0 | (r >> 6));
                u[1] = (unsigned char)(0x80 | (r & 0x3F));
                return 2;
        }
        if (r < 0x10000) {
                u[0] = (unsigned char)(0xE0 | (r >> 12));
                u[1] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
                u[2] = (unsigned char)(0x80 | (r & 0x3F));
                return 3;
        }
        u[0] = (unsigned char)(0xF0 | (r >> 18));
        u[1] = (unsigned char)(0x80 | ((r >> 12) & 0x3F));
        u[2] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
        u[3] = (unsigned char)(0x80 | (r & 0x3F));
        return 4;
}

bool rune_is_space(int32_t r)
{
        switch (r) {
        case '\t':
        case '\n':
        case '\v':
        case '\f':
        case '\r':
        case ' ':
        case 0x85:
        case 0xA0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000:
                return true;
        default:
                return r >= 0x2000 && r <= 0x200A;
        }
}

static bool in_table(const struct rune_range *t, size_t n, int32_t r)
{
        size_t lo = 0, hi = n;

        if (r < 0)
                return false;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if ((uint32_t)r < t[mid].lo)
                        hi = mid;
                else if ((uint32_t)r > t[mid].hi)
                        lo = mid + 1;
                else
                        return true;
        }
        return false;
}

bool rune_is_letter(int32_t r)
{
        if (r < 0x80)
                return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
        return in_table(unicode_letter, ELEMENTSOF(unicode_letter), r);
}

bool rune_is_digit(int32_t r)
{
        if (r < 0x80)
                return r >= '0' && r <= '9';
        return in_table(unicode_digit, ELEMENTSOF(unicode_digit), r);
}

void runes_decode(const char *s, size_t len, bool skip_bom, int32_t **ret, size_t *ret_n,
                  size_t **ret_offsets)
{
        int32_t *r = xcalloc(len + 1, sizeof(int32_t));
        size_t *off = ret_offsets ? xcalloc(len + 1, sizeof(size_t)) : NULL;
        size_t n = 0, i = 0;

        while (i < len) {
                size_t w;
                int32_t c = rune_decode(s + i, len - i, &w);
                if (!(skip_bom && i == 0 && c == RUNE_BOM)) {
                        if (off)
                                off[n] = i;
                        r[n++] = c;
                }
                i += w;
        }
        if (off) {
                off[n] = len;
                *ret_offsets = off;
        }
        *ret = r;
        *ret_n = n;
}
