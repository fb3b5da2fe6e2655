/* Scope-bound cleanup helpers (systemd style): _cleanup_free_, TAKE_PTR, TAKE_FD. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Define a NULL-safe pointer cleanup function NAME##p for type TYPE freed by FN. */
#define DEFINE_CLEANUP_FUNC(type, fn)     \
        static inline void fn##p(type *p) \
        {                                 \
                if (*p)                   \
                        fn(*p);           \
        }

static inline void freep(void *p)
{
        free(*(void **)p);
}

/* Close an fd if it is valid, preserving errno. Returns -1 so callers can reset with it. */
static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}

static inline void closep(int *fd)
{
        safe_close(*fd);
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

#define TAKE_PTR(p)                     \
        ({                              \
                __typeof__(p) _p = (p); \
                (p) = NULL;             \
                _p;                     \
        })

#define TAKE_FD(fd)             \
        ({                      \
                int _fd = (fd); \
                (fd) = -1;      \
                _fd;            \
        })
