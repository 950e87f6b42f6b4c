/* leakmatrix.h: a model's leaked write ends as one table, holders down and pipes across, in bands. */
#ifndef POOLTRACE_VIZ_LEAKMATRIX_H
#define POOLTRACE_VIZ_LEAKMATRIX_H

#include "viz/model.h"

#include <graphviz/cgraph.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many bands of holders (rows) and of pipes (columns): the table stays slide-sized. */
#define VIZ_LEAKMATRIX_MAX_ROWS 16
#define VIZ_LEAKMATRIX_MAX_COLS 40

/* A run of consecutive holders (indexes into m->procs) or pipes (into m->pipes, by pipe_id). */
struct viz_leakmatrix_band {
	size_t first, count; /* into the matrix's holders[] or pipes[] */
	bool same;           /* its members hold (are held) alike: every cell of it is all or nothing */
};

/*
 * Invariants: holders[] are the indexes into m->procs of the processes that
 * hold at least one leaked write end, in m's order (a pool's workers by
 * index, a program's in fork order); pipes[] the indexes into m->pipes of
 * the pipes at least one is held of, by pipe_id (creation order). rows and
 * cols partition them into consecutive bands; holds[r * ncols + c] is the
 * number of leaked fds the holders of band r have on the pipes of band c,
 * pairs[...] the number of (holder, pipe) pairs with at least one. total is
 * the sum of holds: every fd of m marked leaked.
 */
struct viz_leakmatrix {
	size_t *holders, nholders;
	size_t *pipes, npipes;
	struct viz_leakmatrix_band *rows, *cols;
	size_t nrows, ncols;
	int64_t *holds, *pairs;
	int64_t total;
};

/*
 * Fills x from m: consecutive holders that hold the same pipes are one
 * band, and consecutive pipes held by the same holders one band; when
 * there are still more than max_rows (max_cols) bands, the holders (pipes)
 * are cut into that many bands of about equal size instead. x is empty
 * (total 0) when m has no leaked write end. Free with viz_leakmatrix_release.
 */
void viz_leakmatrix_init(struct viz_leakmatrix *x, const struct viz_model *m, size_t max_rows, size_t max_cols);
void viz_leakmatrix_release(struct viz_leakmatrix *x);

/*
 * x drawn as one plaintext node <prefix>leakmatrix (class leak-matrix) in g:
 * an HTML-like table with a row per band of holders (named, with how many
 * leaked write ends they hold), a cell per band of pipes, shaded by the
 * share of its pairs that hold one.
 */
Agnode_t *viz_leakmatrix_node(Agraph_t *g, const char *prefix, const struct viz_model *m,
			      const struct viz_leakmatrix *x);

#endif
