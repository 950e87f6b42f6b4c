/* event_text.h: one event in words ("close 4 (pipe 1 write)"), the same in the timeline and the report. */
#ifndef POOLTRACE_VIZ_EVENT_TEXT_H
#define POOLTRACE_VIZ_EVENT_TEXT_H

#include <stddef.h>

struct sqlite3_stmt;

/* The columns viz_event_text reads, first in a SELECT from the events view. */
#define VIZ_EVENT_COLUMNS "seq, pid, kind, fd, fd2, pipe_id, pipe_end, other_pid, arg, signal, detail, result"

/*
 * A condition on the events view (as e) that keeps out closes of fds that
 * held nothing pooltrace followed: a file the program opened itself (its
 * open is not traced) and closed. Programs close dozens (locale files, a
 * library's config); drawn, they hid the pipe events of a recorded pipeline.
 * A close of a pipe, or of an fd from outside, ends a hold and is kept.
 */
#define VIZ_EVENT_SHOWN                                                                                          \
	"NOT (e.kind = 'close' AND e.pipe_id IS NULL AND NOT EXISTS (SELECT 1 FROM holds h"                       \
	" WHERE h.run_id = e.run_id AND h.pid = e.pid AND h.fd = e.fd AND h.to_seq = e.seq))"

/* Describes the current row of s (selected with VIZ_EVENT_COLUMNS first) into buf. */
void viz_event_text(struct sqlite3_stmt *s, char *buf, size_t len);

#endif
