/* fdgraph.h: builds the cgraph picture of one or several fd-graph models (render and compare). */
#ifndef POOLTRACE_VIZ_FDGRAPH_H
#define POOLTRACE_VIZ_FDGRAPH_H

#include "viz/model.h"

#include <graphviz/cgraph.h>
#include <stdbool.h>

/* How fds that are not the run's own pipes (a tty, a file, the caller's pipes) are drawn. */
enum viz_foreign {
	VIZ_FOREIGN_COMPACT, /* one grey row per process listing them, no edges */
	VIZ_FOREIGN_FULL,    /* one row and one edge each */
	VIZ_FOREIGN_NONE,    /* not drawn */
};

/* Past max_workers workers, only the first and last `keep` are drawn in full. */
struct viz_fdgraph_opts {
	int max_workers;
	int keep;
	enum viz_foreign foreign;
};

#define VIZ_DEFAULT_MAX_WORKERS 12
#define VIZ_DEFAULT_KEEP 3
/*
 * The most --max-workers may draw in full: dot's layout grows much faster
 * than the boxes (a naive hang drawn whole: 60 workers 8-13 s, 100 workers
 * 7-20 s, 300 workers not done after 10 min), so asking for more draws this
 * many and says so (viz_cmdopts_layout_note).
 */
#define VIZ_LAYOUT_MAX_WORKERS 100

/* Whether worker `index` (< 0: not a worker) of a pool of `workers` is drawn in full. */
bool viz_fdgraph_worker_shown(const struct viz_fdgraph_opts *o, int workers, long long index);

/* A pipe as render draws it, named <prefix>pipe<id>, class pipe, with ports w and r for its ends. */
Agnode_t *viz_fdgraph_pipe_node(Agraph_t *g, const char *prefix, const struct viz_pipe *p);

/* One model, captioned, with a legend. Free with agclose. */
Agraph_t *viz_fdgraph_new(const struct viz_model *m, const struct viz_fdgraph_opts *o);

/* Several models side by side, one captioned panel each, one legend. */
Agraph_t *viz_fdgraph_compare(const struct viz_model *models, size_t n, const struct viz_fdgraph_opts *o);

#endif
