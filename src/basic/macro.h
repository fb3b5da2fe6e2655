/* Small macros used everywhere: array sizes, min/max, branch hints, defensive checks. */
#pragma once

#include <stddef.h>

#define ELEMENTSOF(a)  (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)      ((a) < (b) ? (a) : (b))
#define MAX(a, b)      ((a) > (b) ? (a) : (b))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_  __attribute__((warn_unused_result))
#define _noreturn_     __attribute__((noreturn))
#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)

/* Defensive checks that are expected to hold: true in practice, but handled if not (sqlite). */
#define ALWAYS(x) (!!(x))
#define NEVER(x)  (!!(x))

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)
