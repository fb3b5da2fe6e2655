/* strata build's live terminal view (--progress=tty); see build-tty.h. */
#include "cli/build-tty.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "basic/util.h"

#define TAIL_LINES 6
#define TICK_NS    100000000L /* at most ten frames a second */

enum step_state { STEP_RUNNING, STEP_DONE, STEP_CACHED, STEP_FAILED };

struct step {
        unsigned id;
        char *name;
        enum step_state state;
        double start, end;
        char *tail[TAIL_LINES]; /* the last output lines, a ring */
        size_t n_tail, next_tail;
};

struct build_tty {
        FILE *f;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_t ticker;
        bool ticking, stop, suspended, finished, dirty;
        double start, end;
        struct step *steps;
        size_t n_steps;
        FILE *log;       /* the whole output of the step LOG_ID (an unlinked file) */
        unsigned log_id; /* 0: none yet */
        size_t drawn;    /* lines of the live region now on the screen, the cursor below */
};

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void term_size(const struct build_tty *t, size_t *cols, size_t *rows)
{
        struct winsize ws = { 0 };
        *cols = 80;
        *rows = 24;
        if (ioctl(fileno(t->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
                *cols = ws.ws_col < 20 ? 20 : ws.ws_col;
                *rows = ws.ws_row < 4 ? 4 : ws.ws_row;
        }
}

/* S without control characters (a tab becomes a space), cut to COLS columns (a UTF-8
 * sequence counts as one); *RET_COLS the columns used. Caller frees. */
static char *fit(const char *s, size_t cols, size_t *ret_cols)
{
        char *out = xmalloc(strlen(s) + 1);
        size_t n = 0, used = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                unsigned char c = *p == '\t' ? ' ' : *p;
                if (c < 0x20 || c == 0x7f)
                        continue;
                bool lead = (c & 0xc0) != 0x80;
                if (lead && used == cols)
                        break;
                used += lead;
                out[n++] = (char)c;
        }
        out[n] = 0;
        *ret_cols = used;
        return out;
}

/* Append "LEFT ... RIGHT" as one line of COLS columns to the strv *LINES. */
static void add_line(char ***lines, const char *left, const char *right, size_t cols)
{
        size_t rn = strlen(right), lc = 0;
        size_t room = cols - 1 > rn + 1 ? cols - 1 - rn - 1 : 1;
        _cleanup_free_ char *l = fit(left, room, &lc);
        size_t pad = cols - 1 - lc > rn ? cols - 1 - lc - rn : 1;
        strv_consume(lines, xasprintf("%s%*s%s", l, (int)pad, "", right));
}

static void step_lines(const struct step *s, double t, bool tails, size_t cols, char ***lines)
{
        static const char *const prefix[] = {
                [STEP_RUNNING] = " => ",
                [STEP_DONE] = " => ",
                [STEP_CACHED] = " => CACHED ",
                [STEP_FAILED] = " => ERROR ",
        };
        double took = s->state == STEP_CACHED    ? 0
                      : s->state == STEP_RUNNING ? t - s->start
                                                 : s->end - s->start;
        _cleanup_free_ char *left = xasprintf("%s%s", prefix[s->state], s->name);
        char right[32];
        snprintf(right, sizeof(right), "%.1fs", took < 0 ? 0 : took);
        add_line(lines, left, right, cols);
        if (!tails || s->state != STEP_RUNNING)
                return;
        for (size_t i = 0; i < s->n_tail; i++) {
                const char *text =
                        s->tail[(s->next_tail + TAIL_LINES - s->n_tail + i) % TAIL_LINES];
                _cleanup_free_ char *line = xasprintf(" => => # %s", text);
                size_t used = 0;
                strv_consume(lines, fit(line, cols - 1, &used));
        }
}

/* The frame's lines; unless FULL, no taller than the terminal (oldest steps left out). */
static char **frame(struct build_tty *t, bool full, size_t cols, size_t rows)
{
        double tm = t->finished ? t->end : now();
        size_t done = 0;
        for (size_t i = 0; i < t->n_steps; i++)
                done += t->steps[i].state != STEP_RUNNING;
        char **body = NULL;
        for (size_t i = 0; i < t->n_steps; i++)
                step_lines(&t->steps[i], tm, !full, cols, &body);
        char **lines = NULL;
        strv_consume(&lines, xasprintf("[+] Building %.1fs (%zu/%zu)%s", tm - t->start, done,
                                       t->n_steps, t->finished ? " FINISHED" : ""));
        size_t n = strv_length(body), skip = !full && n + 1 > rows - 1 ? n + 2 - rows : 0;
        for (size_t i = skip; i < n; i++)
                strv_push(&lines, body[i]);
        strv_free(body);
        return lines;
}

/* Move to the top of the live region and clear it (lock held). */
static void clear_region(struct build_tty *t)
{
        if (t->drawn > 0)
                fprintf(t->f, "\r\033[%zuA\033[J", t->drawn);
        t->drawn = 0;
}

static void draw(struct build_tty *t, bool full)
{
        size_t cols, rows;
        term_size(t, &cols, &rows);
        _cleanup_strv_ char **lines = frame(t, full, cols, rows);
        if (t->drawn > 0)
                fprintf(t->f, "\r\033[%zuA", t->drawn);
        STRV_FOREACH(l, lines)
                fprintf(t->f, "\033[2K%s\n", *l);
        fputs("\033[J", t->f);
        fflush(t->f);
        t->drawn = strv_length(lines);
        t->dirty = false;
}

static bool any_running(const struct build_tty *t)
{
        for (size_t i = 0; i < t->n_steps; i++)
                if (t->steps[i].state == STEP_RUNNING)
                        return true;
        return false;
}

static void *tick(void *userdata)
{
        struct build_tty *t = userdata;
        pthread_mutex_lock(&t->lock);
        while (!t->stop) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_nsec += TICK_NS;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                (void)pthread_cond_timedwait(&t->cond, &t->lock, &ts);
                if (!t->stop && !t->suspended && (t->dirty || any_running(t)))
                        draw(t, false);
        }
        pthread_mutex_unlock(&t->lock);
        return NULL;
}

struct build_tty *build_tty_new(FILE *f)
{
        struct build_tty *t = xcalloc(1, sizeof(*t));
        t->f = f;
        t->start = now();
        t->dirty = true;
        pthread_mutex_init(&t->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&t->cond, &ca);
        pthread_condattr_destroy(&ca);
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay with the main thread */
        t->ticking = pthread_create(&t->ticker, NULL, tick, t) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return t;
}

static struct step *find_step(struct build_tty *t, unsigned id)
{
        for (size_t i = t->n_steps; i-- > 0;)
                if (t->steps[i].id == id)
                        return &t->steps[i];
        return NULL;
}

static void drop_tail(struct step *s)
{
        for (size_t i = 0; i < TAIL_LINES; i++)
                s->tail[i] = mfree_str(s->tail[i]);
        s->n_tail = s->next_tail = 0;
}

/* An unlinked file for the step's whole output, closed on exec (RUN's container must not get
 * it); NULL if none can be made. */
static FILE *open_log(void)
{
        const char *dir = secure_getenv("TMPDIR") ?: "/tmp";
        int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                _cleanup_free_ char *tmpl = xasprintf("%s/strata-build-XXXXXX", dir);
                fd = mkostemp(tmpl, O_CLOEXEC);
                if (fd >= 0)
                        (void)unlink(tmpl);
        }
        FILE *f = fd >= 0 ? fdopen(fd, "w+") : NULL;
        if (!f && fd >= 0)
                close(fd);
        return f;
}

static void log_line(struct build_tty *t, unsigned id, const char *text)
{
        if (!t->log)
                t->log = open_log();
        if (!t->log)
                return;
        if (t->log_id != id) {
                rewind(t->log);
                (void)ftruncate(fileno(t->log), 0);
                t->log_id = id;
        }
        fprintf(t->log, "%s\n", text);
}

static void on_event(struct build_tty *t, const struct build_event *ev)
{
        struct step *s = ev->kind == BUILD_EVENT_STEP ? NULL : find_step(t, ev->id);
        switch (ev->kind) {
        case BUILD_EVENT_STEP:
                t->steps = xrealloc(t->steps, (t->n_steps + 1) * sizeof(*t->steps));
                t->steps[t->n_steps++] = (struct step){ .id = ev->id,
                                                        .name = xstrdup(ev->name ?: ""),
                                                        .start = now() };
                break;
        case BUILD_EVENT_OUTPUT:
                if (!s)
                        break;
                log_line(t, ev->id, ev->text ?: "");
                free(s->tail[s->next_tail]);
                s->tail[s->next_tail] = xstrdup(ev->text ?: "");
                s->next_tail = (s->next_tail + 1) % TAIL_LINES;
                s->n_tail += s->n_tail < TAIL_LINES;
                break;
        case BUILD_EVENT_CACHED:
        case BUILD_EVENT_DONE:
        case BUILD_EVENT_ERROR:
                if (!s)
                        break;
                s->state = ev->kind == BUILD_EVENT_CACHED ? STEP_CACHED
                           : ev->kind == BUILD_EVENT_DONE ? STEP_DONE
                                                          : STEP_FAILED;
                s->end = now();
                drop_tail(s);
                break;
        default:
                break;
        }
        t->dirty = true;
}

void build_tty_event(struct build_tty *t, const struct build_event *ev)
{
        if (ev->kind == BUILD_EVENT_WARNING) {
                build_tty_print(t, ev->text ?: "");
                return;
        }
        if (ev->kind == BUILD_EVENT_EXPLAIN) { /* above the live view, named by its step */
                pthread_mutex_lock(&t->lock);
                const struct step *s = find_step(t, ev->id);
                _cleanup_free_ char *line =
                        xasprintf(" => %s: cache miss: %s", s ? s->name : "", ev->text ?: "");
                pthread_mutex_unlock(&t->lock);
                build_tty_print(t, line);
                return;
        }
        pthread_mutex_lock(&t->lock);
        if (!t->finished)
                on_event(t, ev);
        pthread_mutex_unlock(&t->lock);
}

void build_tty_suspend(struct build_tty *t)
{
        pthread_mutex_lock(&t->lock);
        clear_region(t);
        fflush(t->f);
        t->suspended = true;
        pthread_mutex_unlock(&t->lock);
}

void build_tty_resume(struct build_tty *t)
{
        pthread_mutex_lock(&t->lock);
        t->suspended = false;
        t->dirty = true;
        pthread_mutex_unlock(&t->lock);
}

void build_tty_print(struct build_tty *t, const char *line)
{
        pthread_mutex_lock(&t->lock);
        clear_region(t);
        fprintf(t->f, "%s\n", line);
        fflush(t->f);
        t->dirty = true;
        pthread_mutex_unlock(&t->lock);
}

static void stop_ticker(struct build_tty *t)
{
        if (!t->ticking)
                return;
        pthread_mutex_lock(&t->lock);
        t->stop = true;
        pthread_cond_signal(&t->cond);
        pthread_mutex_unlock(&t->lock);
        pthread_join(t->ticker, NULL);
        t->ticking = false;
}

/* BuildKit's block with the failing step's output. */
static void print_failure(struct build_tty *t)
{
        const struct step *s = NULL;
        for (size_t i = 0; i < t->n_steps; i++)
                if (t->steps[i].state == STEP_FAILED)
                        s = &t->steps[i];
        if (!s)
                return;
        fprintf(t->f, "------\n > %s:\n", s->name);
        if (t->log && t->log_id == s->id) {
                fflush(t->log);
                rewind(t->log);
                char buf[65536];
                size_t n;
                while ((n = fread(buf, 1, sizeof(buf), t->log)) > 0)
                        fwrite(buf, 1, n, t->f);
        }
        fputs("------\n", t->f);
}

void build_tty_finish(struct build_tty *t, bool ok)
{
        if (t->finished)
                return;
        stop_ticker(t);
        pthread_mutex_lock(&t->lock);
        t->end = now();
        t->finished = ok;
        for (size_t i = 0; i < t->n_steps; i++)
                if (t->steps[i].state == STEP_RUNNING) {
                        t->steps[i].state = ok ? STEP_DONE : STEP_FAILED;
                        t->steps[i].end = t->end;
                }
        draw(t, true);
        if (!ok)
                print_failure(t);
        t->finished = true;
        t->drawn = 0; /* the frame stays */
        fflush(t->f);
        pthread_mutex_unlock(&t->lock);
}

void build_tty_free(struct build_tty *t)
{
        if (!t)
                return;
        stop_ticker(t);
        for (size_t i = 0; i < t->n_steps; i++) {
                free(t->steps[i].name);
                drop_tail(&t->steps[i]);
        }
        free(t->steps);
        if (t->log)
                fclose(t->log);
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->cond);
        free(t);
}
