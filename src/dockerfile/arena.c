/* Memory for the parser: one arena per tree (a 10,000-line file is a few hundred thousand
 * small strings; freeing them is a walk over a few chunks), plus growable buffers. */
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include "basic/util.h"
#include "dockerfile/dockerfile-internal.h"

#define CHUNK_SIZE  (64u << 10)
#define ALIGN       alignof(max_align_t)
#define ALIGN_UP(n) (((n) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

struct chunk {
        struct chunk *next;
        size_t used, size;
        alignas(max_align_t) unsigned char data[];
};

struct dockerfile_arena {
        struct chunk *head;
};

struct dockerfile_arena *df_arena_new(void)
{
        return xcalloc(1, sizeof(struct dockerfile_arena));
}

void df_arena_free(struct dockerfile_arena *a)
{
        if (!a)
                return;
        for (struct chunk *c = a->head, *next; c; c = next) {
                next = c->next;
                free(c);
        }
        free(a);
}

static struct chunk *chunk_new(size_t size)
{
        struct chunk *c = xmalloc(sizeof(struct chunk) + size);
        c->next = NULL;
        c->used = 0;
        c->size = size;
        return c;
}

/* N bytes, not cleared. */
static void *arena_alloc_raw(struct dockerfile_arena *a, size_t n)
{
        n = ALIGN_UP(n ? n : 1);
        struct chunk *c = a->head;
        if (c && c->size - c->used >= n) {
                void *p = c->data + c->used;
                c->used += n;
                return p;
        }
        if (n > CHUNK_SIZE / 4) {
                /* a big one gets its own chunk, behind the current one */
                struct chunk *big = chunk_new(n);
                big->used = n;
                big->next = c ? c->next : NULL;
                if (c)
                        c->next = big;
                else
                        a->head = big;
                return big->data;
        }
        c = chunk_new(CHUNK_SIZE);
        c->next = a->head;
        a->head = c;
        c->used = n;
        return c->data;
}

void *df_arena_alloc(struct dockerfile_arena *a, size_t n)
{
        return memset(arena_alloc_raw(a, n), 0, n ? n : 1);
}

char *df_arena_strndup(struct dockerfile_arena *a, const char *s, size_t n)
{
        char *p = arena_alloc_raw(a, n + 1);
        if (n)
                memcpy(p, s, n);
        p[n] = 0;
        return p;
}

void *df_arena_memdup(struct dockerfile_arena *a, const void *p, size_t n)
{
        return n ? memcpy(arena_alloc_raw(a, n), p, n) : NULL;
}

void df_sbuf_grow(struct sbuf *b, size_t extra)
{
        size_t need = b->len + extra + 1;
        if (need <= b->cap)
                return;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
                cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
}

void df_sbuf_put(struct sbuf *b, const char *s, size_t n)
{
        df_sbuf_grow(b, n);
        if (n)
                memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
}

void df_sbuf_puts(struct sbuf *b, const char *s)
{
        df_sbuf_put(b, s, strlen(s));
}

void df_sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n <= 0)
                return;
        df_sbuf_grow(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}

void df_sbuf_rune(struct sbuf *b, int32_t r)
{
        char u[4];
        if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000))
                r = RUNE_ERROR;
        if (r < 0x80) {
                df_sbuf_putc(b, (char)r);
                return;
        }
        if (r < 0x800) {
                u[0] = (char)(0xC0 | (r >> 6));
                u[1] = (char)(0x80 | (r & 0x3F));
                df_sbuf_put(b, u, 2);
        } else if (r < 0x10000) {
                u[0] = (char)(0xE0 | (r >> 12));
                u[1] = (char)(0x80 | ((r >> 6) & 0x3F));
                u[2] = (char)(0x80 | (r & 0x3F));
                df_sbuf_put(b, u, 3);
        } else {
                u[0] = (char)(0xF0 | (r >> 18));
                u[1] = (char)(0x80 | ((r >> 12) & 0x3F));
                u[2] = (char)(0x80 | ((r >> 6) & 0x3F));
                u[3] = (char)(0x80 | (r & 0x3F));
                df_sbuf_put(b, u, 4);
        }
}

const char *df_sbuf_cstr(struct sbuf *b)
{
        df_sbuf_grow(b, 0);
        b->s[b->len] = 0;
        return b->s;
}

void df_sbuf_release(struct sbuf *b)
{
        free(b->s);
        *b = (struct sbuf){ 0 };
}

void *df_vec_push(struct vec *v, size_t size)
{
        if (v->n == v->cap) {
                v->cap = v->cap ? v->cap * 2 : 8;
                v->p = xrealloc(v->p, v->cap * size);
        }
        void *e = (char *)v->p + v->n++ * size;
        return memset(e, 0, size);
}

void *df_vec_to_arena(const struct vec *v, size_t size, struct dockerfile_arena *a)
{
        return df_arena_memdup(a, v->p, v->n * size);
}
