/* timeline.c: builds a sequence diagram of one run: a lane per process, fd events in order.
 *
 * Lanes are columns: a header node per process at the top, and each lane's
 * events chained below it with heavy, grey edges that keep the column
 * straight. An invisible edge from every event to the next one in seq order
 * gives each event its own rank, so time reads downwards across lanes.
 */
#include "timeline.h"

#include "output.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Events of a drawn lane that concern a worker not drawn: counted, not drawn. */
static const char *const viz_fold_kinds[] = { "pipe", "fork", "close", "dup2", "kill", "reap" };
#define VIZ_FOLD_KINDS (sizeof(viz_fold_kinds) / sizeof(viz_fold_kinds[0]))

struct viz_lane {
	int pid;
	int worker_index;  /* -1: pool parent, -2: pooltrace, -3: a process of a recorded program */
	char program[32];  /* -3: what it runs */
	Agnode_t *last;    /* the lane's latest node */
	long writes, reads, tasks;
	long inherited, inherited_pipes, inherited_write, inherited_foreign;
	bool born;         /* its inheritance summary was drawn */
	Agnode_t *fold;    /* the open run of events about workers not drawn, if any */
	long folded[VIZ_FOLD_KINDS];
};

struct viz_timeline {
	Agraph_t *g;
	struct viz_lane *lanes;
	size_t nlanes, lanes_cap;
	Agnode_t *prev;    /* the previous event in seq order, any lane */
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

static void viz_lane_edge(struct viz_timeline *t, struct viz_lane *l, Agnode_t *n)
{
	Agedge_t *e = agedge(t->g, l->last, n, NULL, 1);

	viz_set(e, "class", "lifeline");
	viz_set(e, "color", "#cccccc");
	viz_set(e, "arrowhead", "none");
	viz_set(e, "weight", "100");
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
	memset(l->folded, 0, sizeof(l->folded));
	l->fold = NULL;
}

/* A new event node in lane l, ranked below the previous event of the run. */
/* seq < 0: a summary drawn beside an event rather than an event itself. */
static Agnode_t *viz_event(struct viz_timeline *t, struct viz_lane *l, long long seq, const char *kind,
			   const char *text)
{
	char name[64], cls[64];
	struct { char *s; size_t len, cap; } b = { 0 };
	Agnode_t *n;

	viz_fold_close(t, l);
	if (seq >= 0)
		snprintf(name, sizeof(name), "e%lld", seq);
	else
		snprintf(name, sizeof(name), "s%u", ++t->synthetic);
	n = agnode(t->g, name, 1);
	snprintf(cls, sizeof(cls), "event %s", kind);
	viz_set(n, "class", cls);
	viz_set(n, "shape", "box");
	viz_set(n, "style", "rounded,filled");
	viz_set(n, "fillcolor", !strcmp(kind, "hang") || !strcmp(kind, "kill") ? "#fde2e2" :
				!strcmp(kind, "read_zero") || !strcmp(kind, "exit") ? "#e2f5e4" :
				"#f5f5f5");
	viz_set(n, "fontsize", "9");
	if (seq >= 0)
		viz_buf_printf(&b.s, &b.len, &b.cap, "<FONT POINT-SIZE=\"8\" COLOR=\"#888888\">%lld</FONT> ", seq);
	viz_html_escape(&b.s, &b.len, &b.cap, text);
	viz_set_html_label(n, b.s);
	free(b.s);
	if (t->prev) {
		Agedge_t *e = agedge(t->g, t->prev, n, NULL, 1);

		viz_set(e, "style", "invis");
		viz_set(e, "weight", "0");
	}
	t->prev = n;
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
		Agnode_t *n = viz_event(t, l, -1, "folded", "");

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
	viz_set(e, "constraint", "false");
	viz_set(e, "penwidth", "1.5");
}

/* Appends a lane, growing the array as needed. */
static void viz_add_lane(struct viz_timeline *t, struct viz_lane lane)
{
	if (t->nlanes == t->lanes_cap)
		t->lanes = xrealloc(t->lanes, (t->lanes_cap = t->lanes_cap ? t->lanes_cap * 2 : 16) * sizeof(*t->lanes));
	t->lanes[t->nlanes++] = lane;
}

/* One lane per drawn process, then pooltrace's own. 0 or -EIO. */
static int viz_load_lanes(struct store *st, int64_t run, struct viz_timeline *t)
{
	char *sql = sqlite3_mprintf(
		/* The per-task counts in one pass: their events are packed in
		 * io_chunks, and a correlated count per lane would unpack them all
		 * once per lane. */
		"WITH io AS (SELECT pid, sum(kind = 'write') AS w, sum(kind = 'read') AS r, sum(kind = 'task') AS t"
		    "            FROM events WHERE run_id = ?1 AND kind IN ('write', 'read', 'task') GROUP BY pid)"
		    " SELECT p.pid, coalesce(p.worker_index, CASE WHEN p.role = 'parent' THEN -1 ELSE -3 END),"
		    " coalesce(io.w, 0), coalesce(io.r, 0), coalesce(io.t, 0),"
		    " (SELECT count(*) FROM holds h WHERE h.run_id = p.run_id AND h.pid = p.pid AND h.from_kind = 'inherit'),"
		    " (SELECT count(*) FROM holds h WHERE h.run_id = p.run_id AND h.pid = p.pid AND h.from_kind = 'inherit'"
		    "  AND h.pipe_id IS NOT NULL),"
		    " (SELECT count(*) FROM holds h WHERE h.run_id = p.run_id AND h.pid = p.pid AND h.from_kind = 'inherit'"
		    "  AND h.pipe_id IS NOT NULL AND h.pipe_end = 'write'),"
		    " (SELECT count(*) FROM holds h WHERE h.run_id = p.run_id AND h.pid = p.pid AND h.from_kind = 'inherit'"
		    "  AND h.is_foreign), %s"
		    " FROM processes p LEFT JOIN io USING (pid) WHERE p.run_id = ?1"
		    " ORDER BY p.role = 'worker', p.worker_index, p.fork_seq", t->v5 ? "p.program" : "NULL");
	sqlite3_stmt *s;
	int64_t supervisor;
	int rc;

	if (!sql)
		die("out of memory");
	s = store_prepare(st, sql);
	sqlite3_free(sql);
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, run);
	while ((rc = store_step(st, s)) == 1) {
		int index = sqlite3_column_int(s, 1);
		const char *prog = viz_col_text(s, 9), *base = strrchr(prog, '/');
		struct viz_lane lane = {
			.pid = sqlite3_column_int(s, 0), .worker_index = index,
			.writes = sqlite3_column_int64(s, 2), .reads = sqlite3_column_int64(s, 3),
			.tasks = sqlite3_column_int64(s, 4), .inherited = sqlite3_column_int64(s, 5),
			.inherited_pipes = sqlite3_column_int64(s, 6), .inherited_write = sqlite3_column_int64(s, 7),
			.inherited_foreign = sqlite3_column_int64(s, 8),
		};

		if (!viz_fdgraph_worker_shown(t->o, t->workers, index))
			continue;
		snprintf(lane.program, sizeof(lane.program), "%s", *prog ? (base ? base + 1 : prog) : "process");
		viz_add_lane(t, lane);
	}
	sqlite3_finalize(s);
	if (rc < 0 || store_int(st, "SELECT supervisor_pid FROM runs WHERE id = ?1", run, 0, &supervisor) < 0)
		return -EIO;
	viz_add_lane(t, (struct viz_lane){ .pid = (int)supervisor, .worker_index = -2 });
	return 0;
}

static void viz_headers(struct viz_timeline *t, int64_t run, const char *strategy, const char *outcome)
{
	Agraph_t *top = agsubg(t->g, "lane_heads", 1);
	Agnode_t *prev = NULL;
	char name[32], label[128];

	viz_set(top, "rank", "same");
	for (size_t i = 0; i < t->nlanes; i++) {
		struct viz_lane *l = &t->lanes[i];
		Agnode_t *n;

		snprintf(name, sizeof(name), "lane%d", l->pid);
		n = agnode(top, name, 1);
		if (l->worker_index == -2)
			snprintf(label, sizeof(label), "pooltrace\npid %d", l->pid);
		else if (l->worker_index == -1)
			snprintf(label, sizeof(label), "pool parent\npid %d", l->pid);
		else if (l->worker_index == -3)
			snprintf(label, sizeof(label), "%s\npid %d", l->program, l->pid);
		else
			snprintf(label, sizeof(label), "worker %d\npid %d", l->worker_index, l->pid);
		viz_set(n, "label", label);
		viz_set(n, "class", "lane");
		/* Same group: dot keeps the lane's chain of nodes in one straight column. */
		snprintf(label, sizeof(label), "g%d", l->pid);
		agsafeset(n, "group", label, "");
		viz_set(n, "shape", "box");
		viz_set(n, "style", "filled");
		viz_set(n, "fillcolor", "#e8eef8");
		l->last = n;
		if (prev) {
			/* Keeps lanes in order, left to right. */
			Agedge_t *e = agedge(top, prev, n, NULL, 1);

			viz_set(e, "style", "invis");
		}
		prev = n;
	}
	{
		struct { char *s; size_t len, cap; } b = { 0 };

		viz_buf_printf(&b.s, &b.len, &b.cap, "<B>timeline</B> · run %lld · ", (long long)run);
		viz_html_escape(&b.s, &b.len, &b.cap, strategy);
		viz_buf_printf(&b.s, &b.len, &b.cap, " · outcome: ");
		viz_html_escape(&b.s, &b.len, &b.cap, outcome);
		viz_set_html_label(t->g, b.s);
		free(b.s);
	}
}

static void viz_describe(sqlite3_stmt *s, const char *kind, char *buf, size_t len)
{
	int fd = sqlite3_column_int(s, 3), fd2 = sqlite3_column_int(s, 4);
	long long pipe = sqlite3_column_int64(s, 5);
	const char *end = (const char *)sqlite3_column_text(s, 6);
	int other = sqlite3_column_int(s, 7);
	long long arg = sqlite3_column_int64(s, 8);
	const char *detail = (const char *)sqlite3_column_text(s, 10);
	char what[64] = "";

	if (sqlite3_column_type(s, 5) != SQLITE_NULL)
		snprintf(what, sizeof(what), " (pipe %lld %s)", pipe, end ? end : "");
	if (!strcmp(kind, "pipe"))
		snprintf(buf, len, "pipe → %d, %d (pipe %lld)", fd, fd2, pipe);
	else if (!strcmp(kind, "close"))
		snprintf(buf, len, "close %d%s", fd, what);
	else if (!strcmp(kind, "close_range"))
		snprintf(buf, len, "close_range %d..%s", fd, fd2 == 2147483647 ? "max" : "");
	else if (!strcmp(kind, "dup2"))
		snprintf(buf, len, "dup2 %d → %d%s", fd2, fd, what);
	else if (!strcmp(kind, "read_zero"))
		snprintf(buf, len, "read fd %d = 0: EOF", fd);
	else if (!strcmp(kind, "exit"))
		snprintf(buf, len, "exit %lld", arg);
	else if (!strcmp(kind, "reap"))
		snprintf(buf, len, "reap %d: %s", other,
			 sqlite3_column_type(s, 9) != SQLITE_NULL ? "killed" : "exited");
	else if (!strcmp(kind, "kill"))
		snprintf(buf, len, "kill %d (SIGKILL)", other);
	else if (!strcmp(kind, "hang"))
		snprintf(buf, len, "hang: %s", detail ? detail : "");
	else if (!strcmp(kind, "overflow"))
		snprintf(buf, len, "log full: %lld events lost", arg);
	else
		snprintf(buf, len, "%s", kind);
}

int viz_timeline_new(struct store *st, int64_t run, const struct viz_fdgraph_opts *o, Agraph_t **out)
{
	struct viz_timeline t = { .o = o };
	char strategy[96] = "", outcome[16] = "", text[160];
	sqlite3_stmt *s;
	int rc;

	int64_t any;

	*out = NULL;
	if ((rc = store_check_run(st, run)) < 0)
		return rc;
	if (store_int(st, "SELECT 1 FROM events WHERE run_id = ?1 AND kind NOT IN ('write', 'read', 'task') LIMIT 1",
		      run, 0, &any) < 0)
		return -EIO;
	if (!any)
		return error("run %lld recorded no events: nothing to draw", (long long)run), -EINVAL;
	if (store_int(st, "SELECT user_version >= 5 FROM pragma_user_version WHERE ?1", 1, 0, &any) < 0)
		return -EIO;
	t.v5 = any;
	s = store_prepare(st, t.v5 ? "SELECT coalesce(strategy, command, 'recorded program'), coalesce(workers, 0),"
				     " coalesce(outcome, 'unfinished') FROM runs WHERE id = ?1"
				   : "SELECT strategy, workers, coalesce(outcome, 'unfinished') FROM runs WHERE id = ?1");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, run);
	if ((rc = store_step(st, s)) == 1) {
		snprintf(strategy, sizeof(strategy), "%s", viz_col_text(s, 0));
		t.workers = sqlite3_column_int(s, 1);
		snprintf(outcome, sizeof(outcome), "%s", viz_col_text(s, 2));
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	t.g = agopen("timeline", Agdirected, NULL);
	viz_set(t.g, "rankdir", "TB");
	viz_set(t.g, "labelloc", "t");
	viz_set(t.g, "fontname", "Helvetica");
	viz_set(t.g, "nodesep", "0.2");
	viz_set(t.g, "ranksep", "0.15");
	agattr(t.g, AGNODE, "fontname", "Helvetica");
	if (viz_load_lanes(st, run, &t) < 0)
		goto fail;
	viz_headers(&t, run, strategy, outcome);
	s = store_prepare(st, "SELECT seq, pid, kind, fd, fd2, pipe_id, pipe_end, other_pid, arg, signal, detail,"
			      " (SELECT channel FROM pipes p WHERE p.run_id = e.run_id AND p.pipe_id = e.pipe_id)"
			      " FROM events e WHERE run_id = ?1 AND kind NOT IN ('write', 'read', 'task', 'inherit')"
			      " ORDER BY seq");
	if (!s)
		goto fail;
	sqlite3_bind_int64(s, 1, run);
	while ((rc = store_step(st, s)) == 1) {
		long long seq = sqlite3_column_int64(s, 0);
		const char *kind = viz_col_text(s, 2);
		struct viz_lane *l = viz_lane(&t, sqlite3_column_int(s, 1));
		struct viz_lane *other = viz_lane(&t, sqlite3_column_int(s, 7));
		/* About a worker not drawn: its pipe, or (kill, reap) the worker itself. */
		bool hidden = (sqlite3_column_type(s, 11) != SQLITE_NULL && !viz_fdgraph_worker_shown(o, t.workers, sqlite3_column_int64(s, 11))) ||
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
			if (l->worker_index == -3)
				snprintf(text, sizeof(text), "fork → pid %d", l->pid);
			else
				snprintf(text, sizeof(text), "fork → %s %d", l->worker_index >= 0 ? "worker" : "pool parent",
					 l->worker_index >= 0 ? l->worker_index : l->pid);
			n = viz_event(&t, other, seq, kind, text);
			snprintf(text, sizeof(text), "born with %ld fds: %ld pool pipe ends (%ld write), %ld foreign",
				 l->inherited, l->inherited_pipes, l->inherited_write, l->inherited_foreign);
			viz_arrow(&t, n, viz_event(&t, l, -1, "inherit", text), "fork", "#1f5fbf");
			continue;
		}
		if (!l)
			continue; /* a collapsed worker's own event */
		if (!strcmp(kind, "close") && l->worker_index == -1 && l->writes &&
		    sqlite3_column_type(s, 6) != SQLITE_NULL && !strcmp(viz_col_text(s, 6), "write")) {
			/* The first shutdown close follows the whole dispatch: say so once. */
			char done[64];

			snprintf(done, sizeof(done), "dispatch: %ld task writes", l->writes);
			viz_event(&t, l, -1, "write", done);
			l->writes = 0;
		}
		if (hidden && viz_fold(&t, l, kind))
			continue;
		viz_describe(s, kind, text, sizeof(text));
		if (!strcmp(kind, "read_zero") && l->reads) {
			snprintf(text + strlen(text), sizeof(text) - strlen(text), " (after %ld reads, %ld tasks)",
				 l->reads, l->tasks);
		}
		n = viz_event(&t, l, seq, kind, text);
		if (!strcmp(kind, "reap") || !strcmp(kind, "kill"))
			viz_arrow(&t, n, other ? other->last : NULL, kind,
				  !strcmp(kind, "kill") ? "#d62728" : "#555555");
	}
	sqlite3_finalize(s);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < t.nlanes; i++)
		viz_fold_close(&t, &t.lanes[i]);
	if (t.workers > o->max_workers) {
		Agnode_t *n = agnode(t.g, "collapsed_note", 1);

		snprintf(text, sizeof(text), "workers %d … %d are not drawn (%d workers; --max-workers %d)", o->keep,
			 t.workers - o->keep - 1, t.workers, o->max_workers);
		viz_set(n, "label", text);
		viz_set(n, "class", "summary");
		viz_set(n, "shape", "note");
	}
	free(t.lanes);
	*out = t.g;
	return 0;
fail:
	agclose(t.g);
	free(t.lanes);
	return -EIO;
}
