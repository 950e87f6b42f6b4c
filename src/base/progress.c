/*
 * progress.c: a progress line for run and render of big runs (a 1000-worker
 * pool takes seconds to start, drain and count; its picture seconds to lay
 * out), so a person at a terminal sees what pooltrace is doing and that it
 * is not stuck. Written with one write(2) each time: a line is never split
 * by another writer's output, and nothing is buffered past the call.
 */
#include "base/progress.h"

#include "base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROGRESS_EVERY_NS 200000000ULL

/* The line on the screen, if any (one command shows one at a time). */
static struct progress *progress_shown;

void progress_init(struct progress *p)
{
	const char *env = getenv("POOLTRACE_PROGRESS");

	*p = (struct progress){ .on = isatty(STDERR_FILENO) == 1 && !(env && !strcmp(env, "0")) };
}

void progress_show(struct progress *p, bool now, const char *fmt, ...)
{
	char line[160];
	int n, head;
	va_list ap;
	uint64_t t;

	if (!p->on)
		return;
	t = now_ns();
	if (!now && p->shown && t - p->last_ns < PROGRESS_EVERY_NS)
		return;
	/* "\r" back to the start, the text, then erase what a longer line left. */
	head = snprintf(line, sizeof(line), "\rpooltrace: ");
	va_start(ap, fmt);
	n = vsnprintf(line + head, sizeof(line) - (size_t)head - 4, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = head + (n < (int)sizeof(line) - head - 4 ? n : (int)sizeof(line) - head - 5);
	memcpy(line + n, "\033[K", 3);
	n += 3;
	if (write(STDERR_FILENO, line, (size_t)n) == n) {
		p->shown = true;
		p->last_ns = t;
		progress_shown = p;
	}
}

void progress_done(struct progress *p)
{
	if (!p->on || !p->shown)
		return;
	if (write(STDERR_FILENO, "\r\033[K", 4) == 4)
		p->shown = false;
	if (progress_shown == p)
		progress_shown = NULL;
}

void progress_interrupt(void)
{
	if (progress_shown)
		progress_done(progress_shown);
}
