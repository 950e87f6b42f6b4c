/* leakmatrix.c: a model's leaked write ends as one table, holders down and pipes across, in bands.
 *
 * Past a few hundred leaked write ends the picture cannot draw them as
 * edges (dot laid out the 1770 of a 60-worker hang in 90 s) and a large
 * pool's middle workers are collapsed into one box, so the leaks' shape was
 * lost: the staircase of a naive pool, where worker k holds the write end
 * of every pipe made before its fork. The matrix keeps that shape in one
 * node of bounded size (at most VIZ_LEAKMATRIX_MAX_ROWS by _MAX_COLS cells,
 * whatever the run's size, so the layout costs nothing), and its numbers
 * are exact: a cell's shade is the share of its (holder, pipe) pairs that
 * hold a leaked write end, and each row says how many it holds.
 */
#include "viz/leakmatrix.h"

#include "viz/output.h"
#include "base/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIZ_LM_CELL "18"   /* a cell's side in points: a 40-column matrix is 720 pt wide */
#define VIZ_LM_EMPTY "#eeeeee"
#define VIZ_LM_HEAD 8      /* at most this many labels over the columns */

/* A holder's leaked fds on one pipe: a sparse row of the full matrix. */
struct viz_lm_entry {
	size_t col;
	int64_t holds;
};

/* m->pipes by pipe_id, for bsearch. */
struct viz_lm_key {
	int64_t pipe_id;
	size_t index;
};

static int viz_lm_key_cmp(const void *a, const void *b)
{
	const struct viz_lm_key *x = a, *y = b;

	return (x->pipe_id > y->pipe_id) - (x->pipe_id < y->pipe_id);
}

static int viz_lm_entry_cmp(const void *a, const void *b)
{
	const struct viz_lm_entry *x = a, *y = b;

	return (x->col > y->col) - (x->col < y->col);
}

/* The place of pipe_id in keys[0..n), sorted; SIZE_MAX when absent. */
static size_t viz_lm_find(const struct viz_lm_key *keys, size_t n, int64_t pipe_id)
{
	struct viz_lm_key k = { pipe_id, 0 };
	const struct viz_lm_key *hit = n ? bsearch(&k, keys, n, sizeof(*keys), viz_lm_key_cmp) : NULL;

	return hit ? (size_t)(hit - keys) : SIZE_MAX;
}

/*
 * Bands over n members, of which starts[i] says whether member i begins a
 * new group (differs from the one before): one band per group when there
 * are at most max groups, else bands of one size (the last one may be
 * shorter), at most max of them: with sizes that differ, the steps of a
 * staircase did too. band_of[i] gets member i's band. Returns the bands,
 * their count in *nbands.
 */
static struct viz_leakmatrix_band *viz_lm_bands(const bool *starts, size_t n, size_t max, size_t *band_of,
						size_t *nbands)
{
	struct viz_leakmatrix_band *bands;
	size_t groups = 0, per, nb;

	for (size_t i = 0; i < n; i++)
		groups += starts[i];
	per = groups > max ? (n + max - 1) / max : 0;
	nb = per ? (n + per - 1) / per : groups;
	bands = xcalloc(nb + 1, sizeof(*bands));
	for (size_t i = 0, b = 0; i < n; i++) {
		bool next = i && (per ? i % per == 0 : starts[i]);

		b += next;
		if (!i || next) {
			bands[b].first = i;
			bands[b].same = true;
		} else if (starts[i]) {
			bands[b].same = false; /* cut across groups: its cells may be partly held */
		}
		bands[b].count++;
		band_of[i] = b;
	}
	*nbands = nb;
	return bands;
}

/*
 * The full matrix, sparse: entries[row_start[r] .. row_start[r + 1]) are
 * holder r's pipes, by column; col_rows[col_start[c] .. col_start[c + 1])
 * the holders of column c, by row.
 */
struct viz_lm_sparse {
	struct viz_lm_entry *entries;
	size_t n, *row_start, *col_start, *col_rows;
};

/* Fills x->holders and x->pipes; col_of[place in keys] becomes the pipe's column (SIZE_MAX: none). Returns the leaked fds. */
static size_t viz_lm_members(struct viz_leakmatrix *x, const struct viz_model *m, const struct viz_lm_key *keys,
			     size_t *col_of)
{
	size_t nleaked = 0;

	x->holders = xcalloc(m->nprocs + 1, sizeof(*x->holders));
	x->pipes = xcalloc(m->npipes + 1, sizeof(*x->pipes));
	for (size_t at = 0; at < m->npipes; at++)
		col_of[at] = SIZE_MAX;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];
		bool holds = false;

		for (size_t j = 0; j < p->nfds; j++) {
			size_t at = p->fds[j].leaked ? viz_lm_find(keys, m->npipes, p->fds[j].pipe_id) : SIZE_MAX;

			if (at == SIZE_MAX)
				continue;
			col_of[at] = 0;
			nleaked++;
			holds = true;
		}
		if (holds)
			x->holders[x->nholders++] = i;
	}
	for (size_t at = 0; at < m->npipes; at++)
		if (col_of[at] != SIZE_MAX) {
			col_of[at] = x->npipes;
			x->pipes[x->npipes++] = keys[at].index;
		}
	return nleaked;
}

/* Each holder's row of sp: its columns in order, one entry per pipe with its count of leaked fds; then the transpose. */
static void viz_lm_sparse_init(struct viz_lm_sparse *sp, const struct viz_leakmatrix *x, const struct viz_model *m,
			       const struct viz_lm_key *keys, const size_t *col_of, size_t nleaked)
{
	size_t n = 0, *fill;

	sp->entries = xcalloc(nleaked + 1, sizeof(*sp->entries));
	sp->row_start = xcalloc(x->nholders + 1, sizeof(*sp->row_start));
	for (size_t r = 0; r < x->nholders; r++) {
		const struct viz_proc *p = &m->procs[x->holders[r]];
		size_t from = n, kept = n;

		sp->row_start[r] = n;
		for (size_t j = 0; j < p->nfds; j++) {
			size_t at = p->fds[j].leaked ? viz_lm_find(keys, m->npipes, p->fds[j].pipe_id) : SIZE_MAX;

			if (at != SIZE_MAX)
				sp->entries[n++] = (struct viz_lm_entry){ col_of[at], 1 };
		}
		if (n > from)
			qsort(sp->entries + from, n - from, sizeof(*sp->entries), viz_lm_entry_cmp);
		/* Two fds on one pipe (a dup) are one pair, two holds. */
		for (size_t j = from; j < n; j++) {
			if (kept > from && sp->entries[kept - 1].col == sp->entries[j].col)
				sp->entries[kept - 1].holds += sp->entries[j].holds;
			else
				sp->entries[kept++] = sp->entries[j];
		}
		n = kept;
	}
	sp->row_start[x->nholders] = sp->n = n;
	sp->col_start = xcalloc(x->npipes + 1, sizeof(*sp->col_start));
	sp->col_rows = xcalloc(n + 1, sizeof(*sp->col_rows));
	fill = xcalloc(x->npipes + 1, sizeof(*fill));
	for (size_t e = 0; e < n; e++)
		sp->col_start[sp->entries[e].col + 1]++;
	for (size_t c = 0; c < x->npipes; c++)
		sp->col_start[c + 1] += sp->col_start[c];
	for (size_t r = 0; r < x->nholders; r++)
		for (size_t e = sp->row_start[r]; e < sp->row_start[r + 1]; e++)
			sp->col_rows[sp->col_start[sp->entries[e].col] + fill[sp->entries[e].col]++] = r;
	free(fill);
}

static void viz_lm_sparse_release(struct viz_lm_sparse *sp)
{
	free(sp->entries);
	free(sp->row_start);
	free(sp->col_start);
	free(sp->col_rows);
}

/* starts[i] for i < n: whether line i (a row of entries, or a column of col_rows) differs from line i - 1. */
static void viz_lm_starts(bool *starts, size_t n, const size_t *start, const struct viz_lm_entry *entries,
			  const size_t *rows)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = start[i + 1] - start[i];

		starts[i] = !i || len != start[i] - start[i - 1];
		for (size_t k = 0; !starts[i] && k < len; k++)
			starts[i] = entries ? entries[start[i] + k].col != entries[start[i - 1] + k].col
					    : rows[start[i] + k] != rows[start[i - 1] + k];
	}
}

void viz_leakmatrix_init(struct viz_leakmatrix *x, const struct viz_model *m, size_t max_rows, size_t max_cols)
{
	struct viz_lm_key *keys = xcalloc(m->npipes + 1, sizeof(*keys));
	size_t *col_of = xcalloc(m->npipes + 1, sizeof(*col_of)), nleaked, *row_band, *col_band;
	struct viz_lm_sparse sp;
	bool *starts;

	assert(max_rows > 0 && max_cols > 0);
	memset(x, 0, sizeof(*x));
	for (size_t k = 0; k < m->npipes; k++)
		keys[k] = (struct viz_lm_key){ m->pipes[k].pipe_id, k };
	if (m->npipes)
		qsort(keys, m->npipes, sizeof(*keys), viz_lm_key_cmp);
	nleaked = viz_lm_members(x, m, keys, col_of);
	viz_lm_sparse_init(&sp, x, m, keys, col_of, nleaked);

	starts = xcalloc((x->nholders > x->npipes ? x->nholders : x->npipes) + 1, sizeof(*starts));
	row_band = xcalloc(x->nholders + 1, sizeof(*row_band));
	col_band = xcalloc(x->npipes + 1, sizeof(*col_band));
	viz_lm_starts(starts, x->nholders, sp.row_start, sp.entries, NULL);
	x->rows = viz_lm_bands(starts, x->nholders, max_rows, row_band, &x->nrows);
	viz_lm_starts(starts, x->npipes, sp.col_start, NULL, sp.col_rows);
	x->cols = viz_lm_bands(starts, x->npipes, max_cols, col_band, &x->ncols);

	x->holds = xcalloc(x->nrows * x->ncols + 1, sizeof(*x->holds));
	x->pairs = xcalloc(x->nrows * x->ncols + 1, sizeof(*x->pairs));
	for (size_t r = 0; r < x->nholders; r++)
		for (size_t e = sp.row_start[r]; e < sp.row_start[r + 1]; e++) {
			size_t cell = row_band[r] * x->ncols + col_band[sp.entries[e].col];

			x->holds[cell] += sp.entries[e].holds;
			x->pairs[cell]++;
			x->total += sp.entries[e].holds;
		}
	assert(x->total == (int64_t)nleaked);
	viz_lm_sparse_release(&sp);
	free(keys);
	free(col_of);
	free(starts);
	free(row_band);
	free(col_band);
}

void viz_leakmatrix_release(struct viz_leakmatrix *x)
{
	free(x->holders);
	free(x->pipes);
	free(x->rows);
	free(x->cols);
	free(x->holds);
	free(x->pairs);
	memset(x, 0, sizeof(*x));
}

/* A cell's colour: grey when none of its pairs holds, else from pale to the leak red by their share. */
static void viz_lm_shade(char *buf, size_t len, int64_t pairs, int64_t area)
{
	static const int red[3] = { 0xd6, 0x27, 0x28 }; /* VIZ_RED */
	double t;
	int c[3];

	if (!pairs || area <= 0) {
		snprintf(buf, len, "%s", VIZ_LM_EMPTY);
		return;
	}
	/* A single pair in a cell of a thousand is still seen. */
	t = 0.2 + 0.8 * (double)pairs / (double)area;
	if (t > 1)
		t = 1;
	for (int i = 0; i < 3; i++)
		c[i] = (int)(255 + (red[i] - 255) * t + 0.5);
	snprintf(buf, len, "#%02x%02x%02x", c[0], c[1], c[2]);
}


/* A band of holders, named as the rest of the picture names them: "workers 2–999", "worker 7", "processes 5–40". */
static void viz_lm_holders_label(struct sbuf *sb, const struct viz_model *m,
				 const struct viz_leakmatrix *x, const struct viz_leakmatrix_band *b)
{
	size_t first = x->holders[b->first], last = x->holders[b->first + b->count - 1];
	const struct viz_proc *p = &m->procs[first], *q = &m->procs[last];

	if (b->count == 1 && p->parent)
		sbuf_printf(sb, "pool parent");
	else if (b->count == 1 && p->worker_index >= 0)
		sbuf_printf(sb, "worker %d", p->worker_index);
	else if (b->count == 1) {
		viz_label_append(sb, p->program[0] ? p->program : "process", 16);
		sbuf_printf(sb, " · pid %d", p->pid);
	} else if (p->worker_index >= 0 && q->worker_index >= 0)
		/* Workers come by index: the band is every holder between. */
		sbuf_printf(sb, "workers %d–%d", p->worker_index, q->worker_index);
	else
		/* Counted in fork order from 0, the first process, as the collapsed box counts them. */
		sbuf_printf(sb, "processes %zu–%zu", first, last);
	if (b->count > 1 && b->count != last - first + 1)
		sbuf_printf(sb, " (%zu)", b->count); /* some between hold none */
}

/* A band of pipes by pipe_id: "7", "1–25". */
static void viz_lm_pipes_label(struct sbuf *sb, const struct viz_model *m,
			       const struct viz_leakmatrix *x, size_t first, size_t count)
{
	long long a = (long long)m->pipes[x->pipes[first]].pipe_id;
	long long z = (long long)m->pipes[x->pipes[first + count - 1]].pipe_id;

	if (a == z)
		sbuf_printf(sb, "%lld", a);
	else
		sbuf_printf(sb, "%lld–%lld", a, z);
}

/* The column labels: one per VIZ_LM_HEAD-th of the bands, each naming the pipes under it. */
static void viz_lm_head(struct sbuf *sb, const struct viz_model *m, const struct viz_leakmatrix *x)
{
	size_t per = (x->ncols + VIZ_LM_HEAD - 1) / VIZ_LM_HEAD;

	sbuf_printf(sb, "<TR><TD ALIGN=\"RIGHT\"><FONT POINT-SIZE=\"12\">pipe ids →</FONT></TD>");
	for (size_t c = 0, span; c < x->ncols; c += span) {
		/* A short last label goes with the one before it: squeezed, it ran into "held". */
		span = x->ncols - c < 2 * per ? x->ncols - c : per;
		const struct viz_leakmatrix_band *a = &x->cols[c], *z = &x->cols[c + span - 1];

		sbuf_printf(sb, "<TD COLSPAN=\"%zu\" ALIGN=\"LEFT\"><FONT POINT-SIZE=\"12\">",
			       span);
		viz_lm_pipes_label(sb, m, x, a->first, z->first + z->count - a->first);
		sbuf_printf(sb, "</FONT></TD>");
	}
	sbuf_printf(sb, "<TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"12\">held</FONT></TD></TR>");
}

/* The key under the cells: what each shade means. */
static void viz_lm_key(struct sbuf *sb)
{
	static const struct { int64_t pairs, area; const char *says; } shades[] = {
		{ 1, 1, "every pair holds one" }, { 1, 2, "half" }, { 1, 1000, "a few" }, { 0, 1, "none" },
	};
	char color[16];

	sbuf_printf(sb, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"12\">");
	for (size_t i = 0; i < sizeof(shades) / sizeof(shades[0]); i++) {
		viz_lm_shade(color, sizeof(color), shades[i].pairs, shades[i].area);
		sbuf_printf(sb, "%s<FONT COLOR=\"%s\" POINT-SIZE=\"16\">■</FONT> %s", i ? "   " : "", color,
			       shades[i].says);
	}
	sbuf_printf(sb, "</FONT></TD></TR>");
}

Agnode_t *viz_leakmatrix_node(Agraph_t *g, const char *prefix, const struct viz_model *m,
			      const struct viz_leakmatrix *x)
{
	struct sbuf sb = SBUF_INIT;
	char name[96], color[16];
	bool pool = m->pool;
	Agnode_t *n;

	snprintf(name, sizeof(name), "%sleakmatrix", prefix);
	n = agnode(g, name, 1);
	viz_set(n, "shape", "plaintext");
	viz_set(n, "class", "leak-matrix");
	/*
	 * The cells in a table of their own, in a cell of the outer one: the
	 * title and the key, wider than a few columns, would otherwise widen the
	 * first columns (Graphviz gives a spanning cell's extra width to them).
	 */
	sbuf_printf(&sb,
		       "<TABLE BORDER=\"1\" COLOR=\"#cccccc\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"3\">"
		       "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"18\"><B>leak matrix</B> · <FONT COLOR=\"" VIZ_RED
		       "\">%lld leaked write ends</FONT>: %zu %s hold them on %zu pipes</FONT></TD></TR>"
		       "<TR><TD ALIGN=\"LEFT\" BALIGN=\"LEFT\"><FONT POINT-SIZE=\"12\">a row: %s%s · a column: pipes by id"
		       " (creation order)<BR/>a cell: how many of its (holder, pipe) pairs hold a leaked write end</FONT>"
		       "</TD></TR><TR><TD ALIGN=\"LEFT\">"
		       "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"1\" CELLPADDING=\"1\">",
		       (long long)x->total, x->nholders,
		       pool ? (x->nholders == 1 ? "worker" : "workers") : (x->nholders == 1 ? "process" : "processes"),
		       x->npipes, pool ? "workers by index" : "processes in fork order",
		       x->nrows < x->nholders ? ", alike or side by side" : "");
	viz_lm_head(&sb, m, x);
	for (size_t r = 0; r < x->nrows; r++) {
		int64_t held = 0;

		sbuf_printf(&sb, "<TR><TD ALIGN=\"RIGHT\"><FONT POINT-SIZE=\"14\">");
		viz_lm_holders_label(&sb, m, x, &x->rows[r]);
		sbuf_printf(&sb, "</FONT></TD>");
		for (size_t c = 0; c < x->ncols; c++) {
			size_t cell = r * x->ncols + c;

			viz_lm_shade(color, sizeof(color), x->pairs[cell],
				     (int64_t)(x->rows[r].count * x->cols[c].count));
			sbuf_printf(&sb, "<TD WIDTH=\"" VIZ_LM_CELL "\" HEIGHT=\"" VIZ_LM_CELL
						       "\" BGCOLOR=\"%s\"></TD>", color);
			held += x->holds[cell];
		}
		sbuf_printf(&sb, "<TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"14\">%lld</FONT></TD></TR>",
			       (long long)held);
	}
	sbuf_printf(&sb, "</TABLE></TD></TR>");
	viz_lm_key(&sb);
	sbuf_printf(&sb, "</TABLE>");
	viz_set_html_label(n, sb.s);
	sbuf_release(&sb);
	return n;
}
