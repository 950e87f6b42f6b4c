/* event_text.h: one event in words ("close 4 (pipe 1 write)"), the same in the timeline and the report. */
#ifndef POOLTRACE_VIZ_EVENT_TEXT_H
#define POOLTRACE_VIZ_EVENT_TEXT_H

#include <stddef.h>

struct sqlite3_stmt;

/* The columns viz_event_text reads, first in a SELECT from the events view. */
#define VIZ_EVENT_COLUMNS "seq, pid, kind, fd, fd2, pipe_id, pipe_end, other_pid, arg, signal, detail, result"

/* Describes the current row of s (selected with VIZ_EVENT_COLUMNS first) into buf. */
void viz_event_text(struct sqlite3_stmt *s, char *buf, size_t len);

#endif
