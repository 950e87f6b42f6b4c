/* timeline.c: builds a sequence diagram of one run: a lane per process, fd events in order.
 *
 * The diagram is a grid placed here, not by a layout engine: lane i is a
 * column, and every node of a process sits at exactly its header's x, one
 * row per event in seq order, so time reads downwards and lanes stay straight
 * whatever the arrows between them (dot bent lanes to shorten those).
 * Graphviz's "nop" engine keeps these positions and only draws the edges.
 * An arrow between lanes (fork, reap, kill) is horizontal: it starts at the
 * event and ends in the other lane on the same row.
 */
#include "viz/timeline.h"

#include "viz/event_text.h"
#include "viz/model.h"
#include "viz/output.h"
#include "store/store.h"
#include "base/sbuf.h"
#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Events of a drawn lane that concern a worker not drawn: counted, not drawn. */
static const char *const viz_fold_kinds[] = { "pipe", "fork", "close", "dup2", "kill", "reap" };
#define VIZ_FOLD_KINDS (sizeof(viz_fold_kinds) / sizeof(viz_fold_kinds[0]))

/* The grid, in points: a row per event; lanes as wide as their widest label
 * (estimated generously from 9 pt Helvetica), this far apart. */
#define VIZ_ROW_PT 30.0
#define VIZ_LANE_GAP_PT 28.0
#define VIZ_EVENT_CHAR_PT 5.4
#define VIZ_HEAD_CHAR_PT 8.0

/* Whose lane it is: the pool's roles, pooltrace itself, or any program's process. */
enum viz_lane_kind { VIZ_LANE_WORKER, VIZ_LANE_PARENT, VIZ_LANE_POOLTRACE, VIZ_LANE_PROCESS };

struct viz_lane {
	int pid;
	enum viz_lane_kind kind;
	int worker_index;  /* VIZ_LANE_WORKER: its index */
	char program[32];  /* VIZ_LANE_PROCESS: what it runs */
	Agnode_t *last;    /* the lane's latest node */
	long writes, reads, tasks;
	long inherited, inherited_pipes, inherited_write, inherited_foreign, inherited_sockets;
	Agedge_t *lifeline; /* the lifeline's latest segment */
	Agnode_t *fold;    /* the open run of events about workers not drawn, if any */
	long folded[VIZ_FOLD_KINDS];
	Agnode_t *hang;    /* its hang event, if the run deadlocked */
	double width;      /* the widest label in the lane, points */
};

/* A node and its cell in the grid. */
struct viz_cell {
	Agnode_t *n;
	size_t lane;
	unsigned row;
};

struct viz_timeline {
	Agraph_t *g;
	struct viz_lane *lanes;
	size_t nlanes, lanes_cap;
	struct viz_cell *cells;
	size_t ncells, cells_cap;
	unsigned row;      /* the last row used */
	struct viz_model waits; /* the run's wait-for graph, drawn after its hang events */
	const struct viz_fdgraph_opts *o;
	int workers;
	bool v5;           /* the file has schema 5's columns (program, command) */
	unsigned synthetic;
};

static struct viz_lane *viz_lane(struct viz_timeline *t, int pid)
{
	for (size_t i = 0; i < t->nlanes; i++)
		if (t->lanes[i].pid == pid)
			return &t->lanes[i];
	return NULL;
}

/* The width in points of a label of `chars` characters at `per_char` points each. */
static double viz_label_pt(const char *text, double per_char)
{
	size_t chars = 0;

	for (const unsigned char *c = (const unsigned char *)text; *c; c++)
		chars += (*c & 0xc0) != 0x80; /* count characters, not UTF-8 bytes */
	return (double)chars * per_char + 18.0;
}

/* Puts n in lane l's column at row, widening the lane to fit width points. */
static void viz_place(struct viz_timeline *t, struct viz_lane *l, Agnode_t *n, unsigned row, double width)
{
	ALLOC_GROW(t->cells, t->ncells + 1, t->cells_cap, 64);
	t->cells[t->ncells++] = (struct viz_cell){ n, (size_t)(l - t->lanes), row };
	if (width > l->width)
		l->width = width;
}

/* Extends lane l's lifeline down to n. */
static void viz_lane_edge(struct viz_timeline *t, struct viz_lane *l, Agnode_t *n)
{
	Agedge_t *e = agedge(t->g, l->last, n, NULL, 1);

	viz_set(e, "class", "lifeline");
	viz_set(e, "color", "#bbbbbb");
	viz_set(e, "arrowhead", "none");
	l->lifeline = e;
	l->last = n;
}

/* Gives the lane's open fold node its label (exact counts per kind) and closes it. */
static void viz_fold_close(struct viz_timeline *t, struct viz_lane *l)
{
	char text[256];
	int len;

	if (!l->fold)
		return;
	/* Six kinds with counts below 2^31 fit easily: nothing is truncated. */
	len = snprintf(text, sizeof(text), "workers %d … %d (not drawn):", t->o->keep, t->workers - t->o->keep - 1);
	for (size_t k = 0; k < VIZ_FOLD_KINDS; k++)
		if (l->folded[k])
			len += snprintf(text + len, sizeof(text) - (size_t)len, "%s %ld %s", text[len - 1] == ':' ? "" : ",",
					l->folded[k], viz_fold_kinds[k]);
	viz_set(l->fold, "label", text);
	if (viz_label_pt(text, VIZ_EVENT_CHAR_PT) > l->width)
		l->width = viz_label_pt(text, VIZ_EVENT_CHAR_PT);
	memset(l->folded, 0, sizeof(l->folded));
	l->fold = NULL;
}

/*
 * A new event node in lane l: on a row of its own, or `beside` the previous
 * event (the far end of an arrow). seq < 0: a summary rather than an event.
 */
static Agnode_t *viz_event(struct viz_timeline *t, struct viz_lane *l, long long seq, const char *kind,
			   const char *text, bool beside)
{
	char name[64], cls[96];
	struct sbuf b = { 0 };
	Agnode_t *n;

	viz_fold_close(t, l);
	if (seq >= 0)
		snprintf(name, sizeof(name), "ev%lld", seq);
	else
		snprintf(name, sizeof(name), "s%u", ++t->synthetic);
	n = agnode(t->g, name, 1);
	snprintf(cls, sizeof(cls), "event %s pid-%d", kind, l->pid);
	viz_set(n, "class", cls);
	viz_set(n, "shape", "box");
	viz_set(n, "style", "rounded,filled");
	viz_set(n, "fillcolor", !strcmp(kind, "hang") || !strcmp(kind, "kill") ? "#fde2e2" :
				!strcmp(kind, "read_zero") || !strcmp(kind, "exit") ? "#e2f5e4" :
				"#f5f5f5");
	viz_set(n, "fontsize", "9");
	if (seq >= 0)
		sbuf_printf(&b, "<FONT POINT-SIZE=\"8\" COLOR=\"#888888\">%lld</FONT> ", seq);
	viz_html_escape(&b, text);
	viz_set_html_label(n, b.s);
	sbuf_release(&b);
	snprintf(name, sizeof(name), "%lld %s", seq, text);
	viz_place(t, l, n, beside ? t->row : ++t->row, viz_label_pt(name, VIZ_EVENT_CHAR_PT));
	viz_lane_edge(t, l, n);
	return n;
}

/* Where an arrow from the latest row ends in lane l: a dot on l's lifeline. */
static Agnode_t *viz_arrow_end(struct viz_timeline *t, struct viz_lane *l)
{
	char name[32];
	Agnode_t *n;

	snprintf(name, sizeof(name), "s%u", ++t->synthetic);
	n = agnode(t->g, name, 1);
	viz_set(n, "class", "arrow-end");
	viz_set(n, "shape", "point");
	viz_set(n, "width", "0.06");
	viz_set(n, "label", "");
	viz_place(t, l, n, t->row, 0);
	viz_lane_edge(t, l, n);
	return n;
}

/*
 * Counts an event of lane l that concerns a worker not drawn (its pipe, fork,
 * kill, reap) in the lane's open fold node instead of drawing it, and returns
 * true; false for a kind that is always drawn. Otherwise
 * the parent and pooltrace lanes alone hold a few events per worker, and
 * Graphviz's layout time grows with the square of that (a 300-worker timeline
 * took 24 s, a 1000-worker one did not finish).
 */
static bool viz_fold(struct viz_timeline *t, struct viz_lane *l, const char *kind)
{
	size_t k = 0;

	while (k < VIZ_FOLD_KINDS && strcmp(viz_fold_kinds[k], kind))
		k++;
	if (k == VIZ_FOLD_KINDS)
		return false; /* a hang or exit is always drawn */
	if (!l->fold) {
		Agnode_t *n = viz_event(t, l, -1, "folded", "", false);

		viz_set(n, "style", "rounded,dashed");
		l->fold = n;
	}
	l->folded[k]++;
	return true;
}

static void viz_arrow(struct viz_timeline *t, Agnode_t *from, Agnode_t *to, const char *cls, const char *color)
{
	Agedge_t *e;

	if (!from || !to || from == to)
		return;
	e = agedge(t->g, from, to, NULL, 1);
	viz_set(e, "class", cls);
	viz_set(e, "color", color);
	viz_set(e, "penwidth", "1.5");
}

/* Appends a lane, growing the array as needed. */
static void viz_add_lane(struct viz_timeline *t, struct viz_lane lane)
{
	ALLOC_GROW(t->lanes, t->nlanes + 1, t->lanes_cap, 16);
	t->lanes[t->nlanes++] = lane;
}

/*
 * What a lane's process was born with: fds, pipe ends (write ends),
 * foreign fds and socket ends, from its own range of the holds key. Asked
 * only for the lanes drawn: one correlated count per column and process
 * read a 1000-worker run's half million holds five times (0.4 s).
 */
static int viz_lane_inherited(struct store *st, sqlite3_stmt *s, int64_t run, struct viz_lane *l)
{
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, run);
	sqlite3_bind_int64(s, 2, l->pid);
	if ((rc = store_step(st, s)) == 1) {
		l->inherited = sqlite3_column_int64(s, 0);
		l->inherited_pipes = sqlite3_column_int64(s, 1);
		l->inherited_write = sqlite3_column_int64(s, 2);
		l->inherited_foreign = sqlite3_column_int64(s, 3);
		l->inherited_sockets = sqlite3_column_int64(s, 4);
	}
	return rc == 1 ? 0 : -EIO;
}

/* One lane per drawn process, then pooltrace's own. 0 or -EIO. */
static int viz_load_lanes(struct store *st, int64_t run, struct viz_timeline *t)
{
	sqlite3_stmt *s = store_preparef(st,
		/* The per-task counts in one pass: their events are packed in
		 * io_chunks, and a correlated count per lane would unpack them all
		 * once per lane. */
		"WITH io AS (SELECT pid, sum(kind = 'write') AS w, sum(kind = 'read') AS r, sum(kind = 'task') AS t"
		    "            FROM events WHERE run_id = ?1 AND kind IN ('write', 'read', 'task') GROUP BY pid)"
		    " SELECT p.pid, p.worker_index, p.role = 'parent',"
		    " coalesce(io.w, 0), coalesce(io.r, 0), coalesce(io.t, 0), %s"
		    " FROM processes p LEFT JOIN io USING (pid) WHERE p.run_id = ?1"
		    " ORDER BY p.role = 'worker', p.worker_index, p.fork_seq", t->v5 ? "p.program" : "NULL");
	sqlite3_stmt *born = store_prepare(st,
		"SELECT count(*), coalesce(sum(pipe_id IS NOT NULL AND pipe_end <> 'socket'), 0),"
		" coalesce(sum(pipe_id IS NOT NULL AND pipe_end = 'write'), 0),"
		" coalesce(sum(CASE WHEN is_foreign THEN 1 ELSE 0 END), 0),"
		" coalesce(sum(pipe_end = 'socket'), 0)"
		" FROM holds WHERE run_id = ?1 AND pid = ?2 AND from_kind = 'inherit'");
	int64_t supervisor;
	int rc = -1;

	if (!s || !born)
		goto out;
	sqlite3_bind_int64(s, 1, run);
	while ((rc = store_step(st, s)) == 1) {
		bool worker = sqlite3_column_type(s, 1) != SQLITE_NULL;
		int index = worker ? sqlite3_column_int(s, 1) : -1;
		const char *prog = viz_col_text(s, 6), *base = strrchr(prog, '/');
		struct viz_lane lane = {
			.pid = sqlite3_column_int(s, 0), .worker_index = index,
			.kind = worker ? VIZ_LANE_WORKER : sqlite3_column_int(s, 2) ? VIZ_LANE_PARENT : VIZ_LANE_PROCESS,
			.writes = sqlite3_column_int64(s, 3), .reads = sqlite3_column_int64(s, 4),
			.tasks = sqlite3_column_int64(s, 5),
		};

		if (!viz_fdgraph_worker_shown(t->o, t->workers, index))
			continue;
		if (viz_lane_inherited(st, born, run, &lane) < 0) {
			rc = -1;
			break;
		}
		snprintf(lane.program, sizeof(lane.program), "%s", *prog ? (base ? base + 1 : prog) : "process");
		viz_add_lane(t, lane);
	}
out:
	sqlite3_finalize(s);
	sqlite3_finalize(born);
	if (rc < 0 || store_int(st, "SELECT supervisor_pid FROM runs WHERE id = ?1", run, 0, &supervisor) < 0)
		return -EIO;
	viz_add_lane(t, (struct viz_lane){ .pid = (int)supervisor, .kind = VIZ_LANE_POOLTRACE, .worker_index = -1 });
	return 0;
}

static void viz_headers(struct viz_timeline *t, int64_t run, const char *strategy, const char *outcome,
			const char *incomplete)
{
	char name[32], label[128];

	for (size_t i = 0; i < t->nlanes; i++) {
		struct viz_lane *l = &t->lanes[i];
		Agnode_t *n;

		snprintf(name, sizeof(name), "lane%d", l->pid);
		n = agnode(t->g, name, 1);
		if (l->kind == VIZ_LANE_POOLTRACE)
			snprintf(label, sizeof(label), "pooltrace\npid %d", l->pid);
		else if (l->kind == VIZ_LANE_PARENT)
			snprintf(label, sizeof(label), "pool parent\npid %d", l->pid);
		else if (l->kind == VIZ_LANE_PROCESS)
			snprintf(label, sizeof(label), "%s\npid %d", l->program, l->pid);
		else
			snprintf(label, sizeof(label), "worker %d\npid %d", l->worker_index, l->pid);
		viz_set(n, "label", label);
		viz_set(n, "class", "lane");
		viz_set(n, "shape", "box");
		viz_set(n, "style", "filled");
		viz_set(n, "fillcolor", "#e8eef8");
		/* The longer of the two lines sets the width. */
		*strchr(label, '\n') = '\0';
		viz_place(t, l, n, 0, viz_label_pt(strlen(label) > strlen(name) ? label : name, VIZ_HEAD_CHAR_PT));
		l->last = n;
	}
	{
		struct sbuf b = { 0 };

		sbuf_printf(&b, "<B>timeline</B> · run %lld · ", (long long)run);
		viz_label_append_head(&b, strategy, 80); /* a long command line is cut at its end */
		sbuf_printf(&b, " · outcome: ");
		viz_html_escape(&b, outcome);
		if (*incomplete) {
			/* Never taken for the whole truth (runs.incomplete). */
			sbuf_printf(&b, "<BR/><FONT COLOR=\"" VIZ_RED "\">incomplete: ");
			viz_html_escape(&b, incomplete);
			sbuf_printf(&b, "</FONT>");
		}
		viz_set_html_label(t->g, b.s);
		sbuf_release(&b);
	}
}

/*
 * The deadlock's wait-for graph, as render --at hang draws it, told the way a
 * sequence diagram tells messages: right after the hang events, one row per
 * edge, a horizontal arrow of class waits-for from the blocked process's lane
 * to the lane of the process it waits for, class cycle on the deadlock
 * itself. (Drawn from hang event to hang event, the edges of a pool's
 * staircase of hang events fell on one line.) Edges to lanes not drawn are
 * left out.
 */
static void viz_timeline_waits(struct viz_timeline *t)
{
	for (size_t i = 0; i < t->waits.nwaits; i++) {
		const struct viz_wait *w = &t->waits.waits[i];
		struct viz_lane *a = viz_lane(t, w->pid), *b = viz_lane(t, w->waits_for);
		char label[64];
		Agnode_t *from;
		Agedge_t *e;

		if (!a || !b || a == b)
			continue;
		t->row++;
		from = viz_arrow_end(t, a);
		e = agedge(t->g, from, viz_arrow_end(t, b), NULL, 1);
		viz_set(e, "class", w->cycle ? "waits-for cycle" : "waits-for");
		viz_set(e, "color", w->cycle ? VIZ_ORANGE : VIZ_GREY);
		viz_set(e, "penwidth", w->cycle ? "2" : "1");
		viz_set(e, "style", w->cycle ? "solid" : "dashed");
		if (w->pipe_id)
			/* The other end: the write end for a reader, the read end for a writer, the peer of a socket. */
			snprintf(label, sizeof(label), "waits for (%s %lld)", w->socket ? "socket" : "pipe",
				 (long long)w->pipe_id);
		else
			snprintf(label, sizeof(label), "waits for (wait4)");
		viz_set(e, "label", label);
		viz_set(e, "fontsize", "8");
		viz_set(e, "fontcolor", w->cycle ? VIZ_ORANGE : VIZ_GREY);
	}
	t->waits.nwaits = 0; /* drawn once */
}

/* Pins every node to its cell: lane columns left to right, rows downwards. */
static void viz_grid(struct viz_timeline *t)
{
	double *x = xcalloc(t->nlanes, sizeof(*x)), left = 0;
	char pos[64];

	for (size_t i = 0; i < t->nlanes; i++) {
		x[i] = left + t->lanes[i].width / 2;
		left += t->lanes[i].width + VIZ_LANE_GAP_PT;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		const struct viz_cell *c = &t->cells[i];

		assert(c->lane < t->nlanes);
		snprintf(pos, sizeof(pos), "%.1f,%.1f!", x[c->lane], -VIZ_ROW_PT * c->row);
		viz_set(c->n, "pos", pos);
	}
	free(x);
}

int viz_timeline_new(struct store *st, int64_t run, const struct viz_fdgraph_opts *o, Agraph_t **out)
{
	struct viz_timeline t = { .o = o };
	char strategy[256] = "", outcome[16] = "", incomplete[160] = "", text[160];
	sqlite3_stmt *s;
	int rc;
	bool hung = false;
	int64_t any, schema;

	*out = NULL;
	if ((rc = store_check_run(st, run)) < 0)
		return rc;
	if (store_int(st, "SELECT 1 FROM events WHERE run_id = ?1 AND kind NOT IN ('write', 'read', 'task') LIMIT 1",
		      run, 0, &any) < 0)
		return -EIO;
	if (!any)
		return error("run %lld recorded no events: nothing to draw", (long long)run), -EINVAL;
	/* The file's schema version: what the wait-for graph's loader may ask of it. */
	if (store_int(st, "SELECT user_version FROM pragma_user_version WHERE ?1", 1, 0, &schema) < 0)
		return -EIO;
	t.v5 = schema >= 5;
	s = store_preparef(st, t.v5 ? "SELECT coalesce(strategy, command, 'recorded program'), coalesce(workers, 0),"
				      " coalesce(outcome, 'unfinished'), %s FROM runs WHERE id = ?1"
				    : "SELECT strategy, workers, coalesce(outcome, 'unfinished'), %s FROM runs WHERE id = ?1",
			   schema >= 8 ? "incomplete" : "NULL");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, run);
	if ((rc = store_step(st, s)) == 1) {
		/* A recorded program: its command line, without the program's directory. */
		snprintf(strategy, sizeof(strategy), "%s", t.v5 ? viz_command_short(viz_col_text(s, 0)) : viz_col_text(s, 0));
		t.workers = sqlite3_column_int(s, 1);
		snprintf(outcome, sizeof(outcome), "%s", viz_col_text(s, 2));
		snprintf(incomplete, sizeof(incomplete), "%s", viz_col_text(s, 3));
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	t.g = agopen("timeline", Agdirected, NULL);
	/* Positions are set here (viz_grid); the engine only draws the edges. */
	viz_set(t.g, "layout", "nop");
	viz_set(t.g, "splines", "line");
	viz_set(t.g, "labelloc", "t");
	viz_set(t.g, "fontname", "Helvetica");
	agattr(t.g, AGNODE, "fontname", "Helvetica");
	agattr(t.g, AGEDGE, "fontname", "Helvetica");
	if (viz_load_lanes(st, run, &t) < 0)
		goto fail;
	viz_headers(&t, run, strategy, outcome, incomplete);
	t.waits = (struct viz_model){ .run_id = run, .schema = schema };
	{
		/* Only the edges between lanes are drawn (their cycles are the whole graph's). */
		int *pids = xcalloc(t.nlanes + 1, sizeof(*pids));

		for (size_t i = 0; i < t.nlanes; i++)
			pids[i] = t.lanes[i].pid;
		rc = viz_model_load_waits(st, &t.waits, pids, t.nlanes);
		free(pids);
		if (rc < 0)
			goto fail;
	}
	s = store_prepare(st, "SELECT " VIZ_EVENT_COLUMNS ","
			      " (SELECT channel FROM pipes p WHERE p.run_id = e.run_id AND p.pipe_id = e.pipe_id)"
			      " FROM events e WHERE run_id = ?1 AND kind NOT IN ('write', 'read', 'task', 'inherit')"
			      " AND " VIZ_EVENT_SHOWN " ORDER BY seq");
	if (!s)
		goto fail;
	sqlite3_bind_int64(s, 1, run);
	while ((rc = store_step(st, s)) == 1) {
		long long seq = sqlite3_column_int64(s, 0);
		const char *kind = viz_col_text(s, 2);
		struct viz_lane *l = viz_lane(&t, sqlite3_column_int(s, 1));
		struct viz_lane *other = viz_lane(&t, sqlite3_column_int(s, 7));
		/* About a worker not drawn: its pipe, or (kill, reap) the worker itself. */
		bool hidden = (sqlite3_column_type(s, 12) != SQLITE_NULL && !viz_fdgraph_worker_shown(o, t.workers, sqlite3_column_int64(s, 12))) ||
			      (sqlite3_column_type(s, 7) != SQLITE_NULL && !other);
		Agnode_t *n;

		if (!strcmp(kind, "fork")) {
			/* Drawn in the parent's lane, with an arrow to the child's birth. */
			if (!other)
				continue;
			if (!l) {
				viz_fold(&t, other, kind);
				continue;
			}
			if (l->kind == VIZ_LANE_PROCESS)
				snprintf(text, sizeof(text), "fork → pid %d", l->pid);
			else
				snprintf(text, sizeof(text), "fork → %s %d", l->kind == VIZ_LANE_WORKER ? "worker" : "pool parent",
					 l->kind == VIZ_LANE_WORKER ? l->worker_index : l->pid);
			n = viz_event(&t, other, seq, kind, text, false);
			if (l->inherited_sockets)
				snprintf(text, sizeof(text), "born with %ld fds: %ld pipe ends (%ld write), %ld socket ends,"
					 " %ld foreign", l->inherited, l->inherited_pipes, l->inherited_write,
					 l->inherited_sockets, l->inherited_foreign);
			else
				snprintf(text, sizeof(text), "born with %ld fds: %ld pipe ends (%ld write), %ld foreign",
					 l->inherited, l->inherited_pipes, l->inherited_write, l->inherited_foreign);
			viz_arrow(&t, n, viz_event(&t, l, -1, "inherit", text, true), "fork", "#1f5fbf");
			viz_set(l->lifeline, "style", "dotted"); /* not yet born above */
			continue;
		}
		if (strcmp(kind, "hang") && hung)
			viz_timeline_waits(&t); /* right after the last hang event */
		hung |= !strcmp(kind, "hang");
		if (!l)
			continue; /* a collapsed worker's own event */
		if (!strcmp(kind, "close") && l->kind == VIZ_LANE_PARENT && l->writes &&
		    sqlite3_column_type(s, 6) != SQLITE_NULL && !strcmp(viz_col_text(s, 6), "write")) {
			/* The first shutdown close follows the whole dispatch: say so once. */
			char done[64];

			snprintf(done, sizeof(done), "dispatch: %ld task writes", l->writes);
			viz_event(&t, l, -1, "write", done, false);
			l->writes = 0;
		}
		if (hidden && viz_fold(&t, l, kind))
			continue;
		viz_event_text(s, text, sizeof(text));
		if (!strcmp(kind, "read_zero") && l->reads) {
			snprintf(text + strlen(text), sizeof(text) - strlen(text), " (after %ld reads, %ld tasks)",
				 l->reads, l->tasks);
		}
		n = viz_event(&t, l, seq, kind, text, false);
		if (!strcmp(kind, "hang"))
			l->hang = n;
		if ((!strcmp(kind, "reap") || !strcmp(kind, "kill")) && other && other != l)
			viz_arrow(&t, n, viz_arrow_end(&t, other), kind, !strcmp(kind, "kill") ? "#d62728" : "#555555");
	}
	sqlite3_finalize(s);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < t.nlanes; i++)
		viz_fold_close(&t, &t.lanes[i]);
	viz_timeline_waits(&t);
	if (t.workers > o->max_workers) {
		Agnode_t *n = agnode(t.g, "collapsed_note", 1);

		snprintf(text, sizeof(text), "workers %d … %d are not drawn (%d workers; --max-workers %d)", o->keep,
			 t.workers - o->keep - 1, t.workers, o->max_workers);
		viz_set(n, "label", text);
		viz_set(n, "class", "summary");
		viz_set(n, "shape", "note");
		viz_place(&t, &t.lanes[0], n, ++t.row, 0);
	}
	viz_grid(&t);
	free(t.lanes);
	free(t.cells);
	free(t.waits.waits);
	*out = t.g;
	return 0;
fail:
	agclose(t.g);
	free(t.lanes);
	free(t.cells);
	free(t.waits.waits);
	return -EIO;
}
