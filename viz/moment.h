/* moment.h: which event a named moment of a run is (render's and compare's --at). */
#ifndef POOLTRACE_VIZ_MOMENT_H
#define POOLTRACE_VIZ_MOMENT_H

#include <stdint.h>

struct store;

/*
 * The moment drawn when none is asked for: shutdown where it comes once the
 * busiest stretch began (a pool's, every worker up), else the hang (a
 * deadlock found), else busiest (every stage of a pipeline up), else the end
 * (a run with no process). NULL when the database could not be read (error
 * printed).
 */
const char *viz_default_moment(struct store *st, int64_t run_id);

/*
 * Resolves moment (a name, or a seq in 1..last) for run to a seq in *seq.
 * 0; -EINVAL (no such moment in this run; one error line printed) or -EIO.
 */
int viz_moment_seq(struct store *st, int64_t run, const char *moment, int64_t last, int64_t *seq);

/* The run's first hang event (-1: none) in *seq. 0 or -EIO. */
int viz_hang_seq(struct store *st, int64_t run, int64_t *seq);

/* The moments that have names, for --help and messages. */
#define VIZ_MOMENTS "spawned, shutdown, blocked, hang, busiest, end, or an event seq number"

#endif
