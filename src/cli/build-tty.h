/* strata build --progress=tty: BuildKit's compact live view of the build on a terminal. A
 * header with the elapsed time, a line per step (running, done, CACHED, ERROR, with its time),
 * the last lines of the running step's output below it; redrawn in place with ANSI cursor
 * moves at most ten times a second by a ticker thread. The live region never grows taller
 * than the terminal: the oldest finished steps are left out until the final frame. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "build/build.h"

struct build_tty;

/* Start the view on F (a terminal; its size is read from its fd). Caller frees with
 * build_tty_free. */
struct build_tty *build_tty_new(FILE *f);

/* Record EV (a build_progress_fn's event); a warning is printed above the live region. Safe
 * to call from any thread. */
void build_tty_event(struct build_tty *t, const struct build_event *ev);

/* Clear the live region and stop redrawing, so that others may print (a pull); until
 * build_tty_resume. */
void build_tty_suspend(struct build_tty *t);
void build_tty_resume(struct build_tty *t);

/* Stop the ticker and draw the final frame: every step, the header "FINISHED" when OK, else
 * the failing step's whole output between "------" lines, as BuildKit prints it. */
void build_tty_finish(struct build_tty *t, bool ok);

/* Print LINE for good below the final frame (after build_tty_finish) or above the live region. */
void build_tty_print(struct build_tty *t, const char *line);

/* Stop (if build_tty_finish was not called) and free; NULL is fine. */
void build_tty_free(struct build_tty *t);
