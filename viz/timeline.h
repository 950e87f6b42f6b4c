/* timeline.h: builds a sequence diagram of one run: a lane per process, fd events in order. */
#ifndef POOLTRACE_VIZ_TIMELINE_H
#define POOLTRACE_VIZ_TIMELINE_H

#include "viz/fdgraph.h"

#include <graphviz/cgraph.h>
#include <stdint.h>

struct store;

/*
 * Loads run_id's fd events and builds the diagram: one lane per process (and
 * one for pooltrace itself, which reaps orphans and kills), events top to
 * bottom in seq order, inheritance summarised per process, per-task I/O
 * summarised per lane, fork and reap drawn as arrows between lanes. Past
 * o->max_workers workers only the first and last o->keep get lanes. Returns 0
 * with *out set (free it with agclose); -EINVAL for an unknown run, -EIO when
 * the database could not be read, with an error printed.
 */
int viz_timeline_new(struct store *st, int64_t run_id, const struct viz_fdgraph_opts *o, Agraph_t **out);

#endif
