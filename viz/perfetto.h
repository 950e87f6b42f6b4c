/* perfetto.h: one run as Trace Event Format JSON, for Perfetto's UI (ui.perfetto.dev) and chrome://tracing. */
#ifndef POOLTRACE_VIZ_PERFETTO_H
#define POOLTRACE_VIZ_PERFETTO_H

#include <stdint.h>
#include <stdio.h>

struct store;

/*
 * The tracks a pipe's holds are drawn on: a pipe is a "process" of its own
 * with this pid plus its pipe_id, and each holder of it (a pid and fd) a
 * "thread" of it, tid this plus a count. Real pids stay below 2^22.
 */
#define VIZ_PERFETTO_PIPE_PID 1000000000
#define VIZ_PERFETTO_HOLD_TID 1500000000

/*
 * Writes run as one JSON object {"displayTimeUnit", "otherData" (the run's
 * facts), "traceEvents"} to out, timestamps in microseconds since the run's
 * start (runs.started_ns, CLOCK_MONOTONIC, or its first event when that is
 * earlier), to the nanosecond:
 *   - M events naming a process and thread track per process (its role or
 *     program), one for pooltrace (kills and reaps of orphans), and one
 *     process track per pipe, with a thread per holder;
 *   - per process an X slice (cat "process") from its first event to its
 *     reap (or the end of the run), so that flows have a slice to bind to;
 *   - per event an instant (ph "i", cat "event", name its kind) on its
 *     process's track, every non-NULL column in args;
 *   - per `hang` or `blocked` event an X slice (cat "blocked") on the
 *     process's track, from its last event before the evidence to its next
 *     one, or its kill or reap, or the end of the run;
 *   - per fd_holds row an X slice (cat "hold") on its pipe's track, from
 *     from_seq's moment to to_seq's, or the end of the run when it never
 *     ended; args.leaked says it is one of leaked_write_ends;
 *   - per fork a flow (ph "s" on the parent, "f" on the child, cat "fork",
 *     id the fork's seq).
 * Returns 0; -EINVAL (no such run, or one without events) or -EIO (a read
 * failed), with an error printed. Write errors are left in out (ferror), for
 * the caller; once out has one, the rest is skipped.
 */
int viz_perfetto_write(struct store *st, int64_t run, FILE *out);

#endif
