/* A tiny TAP harness: TEST(name) { ... } functions, ASSERT_* macros that print both values, a
 * fresh temporary directory per test (tap_tmpdir), and main() that runs them all. */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_test {
        const char *name;
        void (*fn)(void);
        struct tap_test *next;
};

extern struct tap_test *tap_tests;
extern int tap_failed_current;
extern char tap_tmpdir[];

void tap_register(struct tap_test *t);

#define TEST(n)                                                    \
        static void test_##n(void);                                \
        static struct tap_test tap_t_##n = { #n, test_##n, NULL }; \
        __attribute__((constructor)) static void tap_reg_##n(void) \
        {                                                          \
                tap_register(&tap_t_##n);                          \
        }                                                          \
        static void test_##n(void)

#define TAP_FAIL(...)                                      \
        do {                                               \
                printf("#   %s:%d: ", __FILE__, __LINE__); \
                printf(__VA_ARGS__);                       \
                printf("\n");                              \
                tap_failed_current = 1;                    \
                return;                                    \
        } while (0)

#define ASSERT_TRUE(x)                                     \
        do {                                               \
                if (!(x))                                  \
                        TAP_FAIL("expected true: %s", #x); \
        } while (0)

#define ASSERT_EQ(a, b)                                                     \
        do {                                                                \
                long long _a = (long long)(a), _b = (long long)(b);         \
                if (_a != _b)                                               \
                        TAP_FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b); \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                 \
        do {                                                                               \
                const char *_a = (a), *_b = (b);                                           \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                     \
                        TAP_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", \
                                 _b ? _b : "(null)");                                      \
        } while (0)

/* r >= 0; on failure prints the st_error message if E is non-NULL. */
#define ASSERT_OK_E(r, e)                                                          \
        do {                                                                       \
                int _r = (r);                                                      \
                if (_r < 0)                                                        \
                        TAP_FAIL("%s failed: %d %s", #r, _r, (e) ? (e)->msg : ""); \
        } while (0)

#define ASSERT_OK(r) ASSERT_OK_E(r, (struct { const char *msg; } *)NULL)

/* r == CODE (a negative error code). */
#define ASSERT_ERR(r, code)                                                    \
        do {                                                                   \
                int _r = (r), _c = (code);                                     \
                if (_r != _c)                                                  \
                        TAP_FAIL("%s: expected error %d, got %d", #r, _c, _r); \
        } while (0)
