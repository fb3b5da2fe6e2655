/* The loop that runs while a container does: output to the log (and the terminal when
 * attached), input to the container, signals forwarded, children reaped. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "runtime/logfile.h"
#include "runtime/runtime-internal.h"

#define DRAIN_MS 2000 /* after the container exits, how long its output may take to end */
#define BUF_SIZE (64 * 1024)

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

int runtime_io_block_signals(bool forward, sigset_t *old)
{
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        for (size_t i = 0; forward && i < ELEMENTSOF(forwarded); i++)
                sigaddset(&set, forwarded[i]);
        if (sigprocmask(SIG_BLOCK, &set, old) < 0)
                return -errno;
        int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd < 0) {
                int r = -errno;
                (void)sigprocmask(SIG_SETMASK, old, NULL);
                return r;
        }
        return fd;
}

int runtime_reap(pid_t pid)
{
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct loop {
        struct runtime_io *io;
        bool exited;
        int status;
        int sigints; /* SIGINT/SIGTERM forwarded so far */
        char in[BUF_SIZE];
        size_t in_len, in_off;
};

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only our own child: other threads may be running containers too (strata build's parallel
 * stages), and their children, or a helper a thread waits for by PID, are not ours to reap. */
static void reap(struct loop *l)
{
        int st;
        if (l->exited || waitpid(l->io->pid, &st, WNOHANG) != l->io->pid)
                return;
        l->exited = true;
        l->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A pidfd that polls readable when PID exits, or -1 (old kernel): SIGCHLD is process-wide,
 * and with several loops in threads another thread's signalfd may take it. */
int runtime_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd >= 0)
                (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd < 0 ? -1 : fd;
#else
        (void)pid;
        return -1;
#endif
}

static void resize(struct runtime_io *io)
{
        struct winsize ws;
        int from = io->attach_out >= 0 ? io->attach_out : io->in_fd;
        if (io->tty && from >= 0 && ioctl(from, TIOCGWINSZ, &ws) == 0)
                (void)ioctl(io->out_r, TIOCSWINSZ, &ws);
}

static void on_signal(struct loop *l, int sigfd)
{
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                int sig = (int)si.ssi_signo;
                if (sig == SIGCHLD) {
                        reap(l);
                } else if (sig == SIGWINCH) {
                        resize(l->io);
                } else if (!l->exited) {
                        if (sig == SIGINT || sig == SIGTERM)
                                l->sigints++;
                        bool force = l->sigints >= 3;
                        (void)kill(l->io->pid, force ? SIGKILL : sig);
                }
        }
        reap(l); /* a SIGCHLD may have merged with one already read */
}

/* Close FD (-1 after); with a tty, the master is both output and input. */
static void close_stream(struct runtime_io *io, int *fd)
{
        if (io->tty && *fd == io->in_w)
                io->in_w = -1;
        *fd = safe_close(*fd);
}

static void on_output(struct loop *l, int *fd, enum runtime_stream stream)
{
        struct runtime_io *io = l->io;
        char buf[BUF_SIZE];
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) { /* EOF, or EIO from a pty master whose slave is closed */
                close_stream(io, fd);
                return;
        }
        if (io->log)
                runtime_log_write(io->log, stream, buf, (size_t)n);
        int *to = stream == RUNTIME_STDERR ? &io->attach_err : &io->attach_out;
        if (*to >= 0 && write_full(*to, buf, (size_t)n) < 0) {
                /* our reader went away (`strata run … | head -1`): so does the container's, as
                 * if it wrote to the pipe itself; its next write gets EPIPE/SIGPIPE */
                *to = -1;
                close_stream(io, fd);
        }
}

static void on_input(struct loop *l)
{
        struct runtime_io *io = l->io;
        ssize_t n = read(io->in_fd, l->in, sizeof(l->in));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                io->in_fd = -1; /* not ours to close */
                if (!io->tty)
                        io->in_w = safe_close(io->in_w); /* EOF for the container */
                return;
        }
        l->in_len = (size_t)n;
        l->in_off = 0;
}

static void on_writable(struct loop *l)
{
        struct runtime_io *io = l->io;
        ssize_t n = write(io->in_w, l->in + l->in_off, l->in_len - l->in_off);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n < 0) { /* the container closed its stdin */
                l->in_len = l->in_off = 0;
                io->in_fd = -1;
                if (!io->tty)
                        io->in_w = safe_close(io->in_w);
                return;
        }
        l->in_off += (size_t)n;
        if (l->in_off == l->in_len)
                l->in_len = l->in_off = 0;
}

enum { P_SIG, P_EXIT, P_OUT, P_ERR, P_IN, P_INW, P_MAX };

static int build_poll(struct loop *l, int sigfd, int pidfd, struct pollfd *p)
{
        struct runtime_io *io = l->io;
        bool pending = l->in_len > l->in_off;
        p[P_SIG] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
        p[P_EXIT] = (struct pollfd){ .fd = l->exited ? -1 : pidfd, .events = POLLIN };
        p[P_OUT] = (struct pollfd){ .fd = io->out_r, .events = POLLIN };
        p[P_ERR] = (struct pollfd){ .fd = io->err_r, .events = POLLIN };
        p[P_IN] = (struct pollfd){ .fd = !l->exited && !pending && io->in_w >= 0 ? io->in_fd : -1,
                                   .events = POLLIN };
        p[P_INW] =
                (struct pollfd){ .fd = !l->exited && pending ? io->in_w : -1, .events = POLLOUT };
        return P_MAX;
}

int runtime_io_loop(struct runtime_io *io, int sigfd, int *ret_status)
{
        struct loop *l = xcalloc(1, sizeof(*l));
        l->io = io;
        if (io->in_w >= 0)
                (void)fcntl(io->in_w, F_SETFL, fcntl(io->in_w, F_GETFL) | O_NONBLOCK);
        resize(io);
        int pidfd = runtime_pidfd_open(io->pid);
        reap(l);
        int64_t deadline = 0;
        while (!l->exited || io->out_r >= 0 || io->err_r >= 0) {
                if (l->exited && !deadline)
                        deadline = mono_ms() + DRAIN_MS;
                int timeout = deadline ? (int)MAX(deadline - mono_ms(), 0) : -1;
                struct pollfd p[P_MAX];
                int n = poll(p, (nfds_t)build_poll(l, sigfd, pidfd, p), timeout);
                if (n < 0 && errno != EINTR)
                        break;
                if (n == 0 && deadline)
                        break; /* something in the container keeps its output open */
                if (n <= 0)
                        continue;
                if (p[P_SIG].revents)
                        on_signal(l, sigfd);
                if (p[P_EXIT].revents)
                        reap(l);
                if (p[P_OUT].revents && io->out_r >= 0)
                        on_output(l, &io->out_r, RUNTIME_STDOUT);
                if (p[P_ERR].revents && io->err_r >= 0)
                        on_output(l, &io->err_r, RUNTIME_STDERR);
                if (p[P_IN].revents && io->in_fd >= 0)
                        on_input(l);
                if (p[P_INW].revents && io->in_w >= 0)
                        on_writable(l);
        }
        if (io->log)
                runtime_log_flush(io->log);
        if (!l->exited) /* only on a poll failure: wait for it the plain way */
                l->status = runtime_reap(io->pid);
        safe_close(pidfd);
        *ret_status = l->status;
        free(l);
        return 0;
}
