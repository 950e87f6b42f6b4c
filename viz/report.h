/* report.h: one self-contained HTML file that steps through a run: the fd graph at each event, the events beside it. */
#ifndef POOLTRACE_VIZ_REPORT_H
#define POOLTRACE_VIZ_REPORT_H

#include "viz/fdgraph.h"

#include <stddef.h>
#include <stdint.h>

struct store;

/*
 * Builds the report of run_id into *html (*len bytes; free with free()).
 * Past o->max_workers workers only the first and last o->keep are drawn.
 * Returns 0; -EINVAL for an unknown run or one with no events, -EIO when the
 * database could not be read, -1 when Graphviz failed; an error is printed.
 */
int viz_report_html(struct store *st, int64_t run_id, const struct viz_fdgraph_opts *o, char **html, size_t *len);

#endif
