/* progress.h: one line of progress on stderr for a long command, only when stderr is a terminal. */
#ifndef POOLTRACE_PROGRESS_H
#define POOLTRACE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A line redrawn in place ("\r", erase to the end) at most every 200 ms,
 * and erased by progress_done, so the lines a command prints after it (its
 * summary) come out as they would without it. Off unless stderr is a
 * terminal, and off with POOLTRACE_PROGRESS=0: a pipe, a file or a CI log
 * gets nothing but the command's own lines.
 */
struct progress {
	bool on;
	bool shown;        /* a line is on the screen */
	uint64_t last_ns;  /* when it was last drawn */
};

void progress_init(struct progress *p);
/* Redraws the line ("pooltrace: " and the text) if 200 ms have passed since the last one, or now when asked. */
void progress_show(struct progress *p, bool now, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Erases the line, if one is shown. Safe to call more than once. */
void progress_done(struct progress *p);
/*
 * Erases the line shown now, whoever shows it, before another line goes to
 * stderr (error() calls it), so that line does not run into it; the next
 * progress_show draws it again.
 */
void progress_interrupt(void);

#endif
