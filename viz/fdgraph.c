/* fdgraph.c: builds the cgraph picture of one or several fd-graph models (render and compare).
 *
 * Each process is a cluster (class "process") holding its fd table as an
 * HTML-like table, one row per open fd. Each pool pipe is one node (class
 * "pipe") with a write port and a read port. An edge runs from every fd row
 * to the pipe end it refers to: blue into the write end, green out of the
 * read end (arrow at the reader), red and bold when the hold is a leaked
 * write end; foreign fds are grey and dashed, to a node naming what they
 * are. Edges carry the classes fd, read-end, write-end, leak and foreign,
 * which SVG keeps, so pages can style them and tests can count them.
 * (Graphviz 2.43 drops CLASS on table cells, hence classes on edges.)
 */
#include "viz/fdgraph.h"

#include "viz/leakmatrix.h"
#include "viz/output.h"
#include "base/sbuf.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIZ_BLUE "#1f5fbf"
#define VIZ_GREEN "#2a9d3a"
#define VIZ_PURPLE "#7b3fa0"
#define VIZ_ROW 4        /* processes per row below the pipes... */
#define VIZ_ROW_MANY 3   /* ...and past VIZ_ROW_MANY * 2 of them: 8 workers in 3 rows stay within 2:1 */
#define VIZ_MAX_WAITS 120 /* more wait-for edges than this are counted, not drawn */
#define VIZ_MAX_GONE 6    /* a recorded program's processes gone by the moment: more are one box */
#define VIZ_MIN_OWN 3     /* pipes of a process's own (a runtime's self-pipes): this many are one row */

static const struct viz_pipe *viz_pipe_of(const struct viz_model *m, int64_t pipe_id)
{
	for (size_t i = 0; i < m->npipes; i++)
		if (m->pipes[i].pipe_id == pipe_id)
			return &m->pipes[i];
	return NULL;
}

bool viz_fdgraph_worker_shown(const struct viz_fdgraph_opts *o, int workers, long long index)
{
	if (index < 0 || workers <= o->max_workers)
		return true;
	return index < o->keep || index >= workers - o->keep;
}

static bool viz_worker_shown(const struct viz_model *m, int index, const struct viz_fdgraph_opts *o)
{
	return viz_fdgraph_worker_shown(o, m->workers, index);
}

/* A pool's worker by its index; a recorded program's process unless viz_model_cut cut it. */
static bool viz_proc_shown(const struct viz_model *m, const struct viz_proc *p, const struct viz_fdgraph_opts *o)
{
	return m->pool ? viz_worker_shown(m, p->worker_index, o) : !p->cut;
}

/* A pool's pipe with the worker it was made for; a recorded program's unless cut. */
static bool viz_pipe_entry_shown(const struct viz_model *m, const struct viz_pipe *p, const struct viz_fdgraph_opts *o)
{
	return m->pool ? viz_worker_shown(m, p->channel, o) : !p->cut;
}

/* A pipe is drawn when the worker it was made for is drawn. */
static bool viz_pipe_shown(const struct viz_model *m, int64_t pipe_id, const struct viz_fdgraph_opts *o)
{
	const struct viz_pipe *p = viz_pipe_of(m, pipe_id);

	return p && viz_pipe_entry_shown(m, p, o);
}

static void viz_name(char *buf, size_t len, const char *prefix, const char *kind, long long id)
{
	snprintf(buf, len, "%s%s%lld", prefix, kind, id);
}

static bool viz_proc_shown(const struct viz_model *m, const struct viz_proc *p, const struct viz_fdgraph_opts *o);
static bool viz_folded(const struct viz_model *m, const struct viz_proc *p, size_t gone);
static size_t viz_count_gone(const struct viz_model *m);

/*
 * How many leaked write-end edges the picture would draw: one per leaked fd
 * of a process drawn in full, on a pipe drawn. Past VIZ_MAX_LEAK_EDGES they
 * are not drawn (each red row still names its pipe) and the caption says
 * so: dot's layout of the 1770 of a 60-worker hang took 90 s.
 */
#define VIZ_MAX_LEAK_EDGES 300

static size_t viz_leak_edges(const struct viz_model *m, const struct viz_fdgraph_opts *o)
{
	size_t n = 0, gone = viz_count_gone(m);

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];
		bool top = p->parent || (!m->pool && i == 0);

		if (!top && (viz_folded(m, p, gone) || !viz_proc_shown(m, p, o)))
			continue;
		for (size_t j = 0; j < p->nfds; j++)
			n += p->fds[j].leaked && p->fds[j].pipe_id && viz_pipe_shown(m, p->fds[j].pipe_id, o);
	}
	return n;
}

static void viz_caption(struct sbuf *b, const struct viz_model *m, const struct viz_fdgraph_opts *o)
{
	size_t leak_edges = viz_leak_edges(m, o);

	sbuf_printf(b, "<B>");
	if (m->pool) {
		viz_html_escape(b, m->strategy);
		sbuf_printf(b, "</B> · run %lld · %d workers · ", (long long)m->run_id,
			    m->workers);
	} else {
		/* A recorded program: its command line names it. */
		viz_label_append_head(b,
				      m->command[0] ? viz_command_short(m->command) : "recorded program", 48);
		sbuf_printf(b, "</B> · run %lld · %zu process%s · ", (long long)m->run_id,
			    m->nprocs, m->nprocs == 1 ? "" : "es");
	}
	viz_html_escape(b, m->moment);
	sbuf_printf(b, " · outcome: <B>");
	viz_html_escape(b, m->outcome[0] ? m->outcome : "unfinished");
	sbuf_printf(b, "</B><BR/>");
	sbuf_printf(b,
		    "<FONT COLOR=\"" VIZ_RED "\">leaked write ends held: %lld</FONT>"
		    " · EOF blockers: %lld now, %lld in the run",
		    (long long)m->leaked_now, (long long)m->blockers_now, (long long)m->blockers_run);
	if (m->shutdown[0]) {
		/* What sets one strategy apart from another. */
		sbuf_printf(b, "<BR/><FONT POINT-SIZE=\"11\">parent ");
		viz_html_escape(b, m->shutdown);
		if (m->sibling_closes)
			sbuf_printf(b, " · workers close %lld write ends of other workers' pipes",
				    (long long)m->sibling_closes);
		sbuf_printf(b, "</FONT>");
	}
	if (m->cut_procs || m->cut_pipes)
		/* What the picture leaves out, so nobody reads it as the whole run: the counts above are the views'. */
		sbuf_printf(b,
			    "<BR/>cut: %zu of %zu processes and %zu pipes not drawn, counted in one box"
			    " (past --max-workers %d processes below the first, only the first and last %d are drawn;"
			    " past %d pipes, the first and last %d)",
			    m->cut_procs, m->nprocs, m->cut_pipes, m->cut_max, m->cut_keep, 2 * m->cut_max, m->cut_max);
	if (leak_edges > VIZ_MAX_LEAK_EDGES)
		sbuf_printf(b,
			    "<BR/><FONT COLOR=\"" VIZ_RED "\">%zu leaked write-end edges not drawn (past %d, a layout"
			    " takes minutes): each red row names its pipe, the leak matrix shows them all</FONT>",
			    leak_edges, VIZ_MAX_LEAK_EDGES);
	if (m->incomplete[0]) {
		/* Never taken for the whole truth: say what the trace misses. */
		sbuf_printf(b, "<BR/><FONT COLOR=\"" VIZ_RED "\">incomplete: ");
		viz_html_escape(b, m->incomplete);
		sbuf_printf(b, "</FONT>");
	}
}

/*
 * An end of a socketpair: both ways at once, so one colour and an end on
 * either side (w for the processes above, r for those below, as for pipes).
 */
static void viz_socket_label(struct sbuf *b, const struct viz_pipe *p)
{
	sbuf_printf(b,
		    "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\"><TR>"
		    "<TD PORT=\"w\" BGCOLOR=\"#ece2f3\"><FONT COLOR=\"" VIZ_PURPLE "\">⇅</FONT></TD>"
		    "<TD BGCOLOR=\"#f4f4f4\">socket %lld<BR/><FONT POINT-SIZE=\"9\">socket:[%llu]<BR/>"
		    "socketpair with socket %lld</FONT></TD>"
		    "<TD PORT=\"r\" BGCOLOR=\"#ece2f3\"><FONT COLOR=\"" VIZ_PURPLE "\">⇅</FONT></TD></TR></TABLE>",
		    (long long)p->pipe_id, (unsigned long long)p->inode, (long long)p->peer_id);
}

Agnode_t *viz_fdgraph_pipe_node(Agraph_t *g, const char *prefix, const struct viz_pipe *p)
{
	char name[96], inode[32];
	struct sbuf b = { 0 };
	Agnode_t *n;

	viz_name(name, sizeof(name), prefix, "pipe", (long long)p->pipe_id);
	n = agnode(g, name, 1);
	if (p->socket) {
		viz_socket_label(&b, p);
		viz_set(n, "shape", "plaintext");
		viz_set(n, "class", "pipe socket");
		viz_set_html_label(n, b.s);
		sbuf_release(&b);
		return n;
	}
	snprintf(inode, sizeof(inode), "pipe:[%llu]", (unsigned long long)p->inode);
	sbuf_printf(&b,
		    "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\"><TR>"
		    "<TD PORT=\"w\" BGCOLOR=\"#dbe7fb\"><FONT COLOR=\"" VIZ_BLUE "\">write</FONT></TD>"
		    "<TD BGCOLOR=\"#f4f4f4\">pipe %lld", (long long)p->pipe_id);
	if (p->channel >= 0)
		sbuf_printf(&b, " · worker %d", p->channel);
	sbuf_printf(&b, "<BR/><FONT POINT-SIZE=\"9\">");
	viz_html_escape(&b, inode);
	if (p->capacity > 0)
		/* A process is blocked on it: how full it is (empty for a reader, full for a writer). */
		sbuf_printf(&b, "</FONT><BR/><FONT POINT-SIZE=\"9\" COLOR=\"" VIZ_ORANGE
			    "\">%s: %lld of %lld B", p->queued >= p->capacity ? "full" : p->queued ? "queued" : "empty",
			    (long long)p->queued, (long long)p->capacity);
	sbuf_printf(&b,
		    "</FONT></TD><TD PORT=\"r\" BGCOLOR=\"#dcf3df\"><FONT COLOR=\"" VIZ_GREEN
		    "\">read</FONT></TD></TR></TABLE>");
	viz_set(n, "shape", "plaintext");
	viz_set(n, "class", "pipe");
	viz_set_html_label(n, b.s);
	sbuf_release(&b);
	return n;
}

/* Long paths (a job's stdout file) are cut from the left: the end says most. */
static void viz_short_detail(struct sbuf *b, const char *detail)
{
	viz_label_append(b, detail ? detail : "(unknown)", 28);
}

/* What one fd row says about its fd. */
static void viz_fd_row(struct sbuf *b, const struct viz_model *m, const struct viz_fd *f)
{
	const char *color = f->leaked ? VIZ_RED : f->foreign ? VIZ_GREY : "black";
	const struct viz_pipe *p = f->pipe_id ? viz_pipe_of(m, f->pipe_id) : NULL;

	sbuf_printf(b, "<TR><TD ALIGN=\"RIGHT\"><FONT COLOR=\"%s\">%d</FONT></TD>"
		       "<TD PORT=\"f%d\" ALIGN=\"LEFT\"><FONT COLOR=\"%s\">",
		       color, f->fd, f->fd, color);
	if (f->leaked)
		sbuf_printf(b, "<B>");
	if (p && f->socket_end)
		sbuf_printf(b, "socket %lld%s", (long long)f->pipe_id,
			    f->leaked ? " (leaked)" : "");
	else if (p)
		sbuf_printf(b, "pipe %lld %s%s", (long long)f->pipe_id,
			    f->write_end ? "write" : "read", f->leaked ? " (leaked)" : "");
	else if (f->inode)
		sbuf_printf(b, "pipe:[%llu] %s", (unsigned long long)f->inode,
			    f->write_end ? "write" : "read");
	else
		viz_short_detail(b, f->detail);
	if (f->leaked)
		sbuf_printf(b, "</B>");
	sbuf_printf(b, "</FONT></TD></TR>");
}

static Agedge_t *viz_edge(Agraph_t *g, Agnode_t *from, const char *port, Agnode_t *to, const char *to_port)
{
	Agedge_t *e = agedge(g, from, to, NULL, 1);

	viz_set(e, "tailport", port);
	viz_set(e, "headport", to_port);
	return e;
}

/* Where a process's foreign fds point (--foreign full): one muted node inside
 * its own cluster, so those edges stay short and never cross the picture. */
static Agnode_t *viz_foreign_node(Agraph_t *cluster, const char *prefix, int pid, bool pool)
{
	char name[96];
	Agnode_t *n;

	viz_name(name, sizeof(name), prefix, "foreign", pid);
	if ((n = agnode(cluster, name, 0)))
		return n;
	n = agnode(cluster, name, 1);
	viz_set(n, "shape", "note");
	viz_set(n, "class", "foreign");
	viz_set(n, "color", VIZ_GREY);
	viz_set(n, "fontcolor", VIZ_GREY);
	viz_set(n, "fontsize", "9");
	viz_set(n, "label", pool ? "not from\nthe pool" : "from\noutside");
	return n;
}

/* Which fds a row of fd numbers lists: those that are not the run's pipes, or those on a process's own pipes. */
struct viz_fd_set {
	const struct viz_model *m;
	const bool *folded; /* per pipe of m: drawn as a row of its holder's, not as a node; NULL: foreign fds */
};

static bool viz_fd_in(const struct viz_fd_set *set, const struct viz_fd *f)
{
	const struct viz_pipe *p;

	if (!set->folded)
		return !f->pipe_id;
	return f->pipe_id && (p = viz_pipe_of(set->m, f->pipe_id)) && set->folded[p - set->m->pipes];
}

/* The fds of p in set, in ranges ("0–2,10"), as the left cell of a row; how many. */
static size_t viz_fd_ranges(struct sbuf *b, const struct viz_proc *p, const struct viz_fd_set *set,
			    const char *color)
{
	size_t shown = 0, count = 0;

	sbuf_printf(b, "<TR><TD ALIGN=\"RIGHT\"><FONT COLOR=\"%s\" POINT-SIZE=\"9\">", color);
	for (size_t i = 0; i < p->nfds; i++) {
		size_t j = i;

		if (!viz_fd_in(set, &p->fds[i]))
			continue;
		/* A run of consecutive fds is written first-last. */
		while (j + 1 < p->nfds && viz_fd_in(set, &p->fds[j + 1]) && p->fds[j + 1].fd == p->fds[j].fd + 1)
			j++;
		if (shown++)
			sbuf_printf(b, ",");
		if (j > i)
			sbuf_printf(b, "%d–%d", p->fds[i].fd, p->fds[j].fd);
		else
			sbuf_printf(b, "%d", p->fds[i].fd);
		count += j - i + 1;
		i = j;
	}
	sbuf_printf(b, "</FONT></TD>");
	return count;
}

/* --foreign compact: the fds that are not the run's pipes, as one grey row ("0-2, 10: 4 fds from outside"). */
static void viz_foreign_row(struct sbuf *b, const struct viz_model *m, const struct viz_proc *p)
{
	struct viz_fd_set set = { m, NULL };
	size_t count = 0;

	for (size_t i = 0; i < p->nfds; i++)
		count += viz_fd_in(&set, &p->fds[i]);
	if (!count)
		return;
	viz_fd_ranges(b, p, &set, VIZ_GREY);
	sbuf_printf(b, "<TD ALIGN=\"LEFT\"><FONT COLOR=\"" VIZ_GREY
					       "\" POINT-SIZE=\"9\">%zu fd%s from outside</FONT></TD></TR>",
		       count, count == 1 ? "" : "s");
}

/*
 * Per pipe of m, whether it is drawn as a row of its holder's rather than
 * as a node: a pipe of its own (both ends held by one process alone, as a
 * runtime's self-pipes are) when that process has VIZ_MIN_OWN or more. A
 * process that has just made a pipe, or two, still shows them as pipes.
 */
static bool *viz_own_folded(const struct viz_model *m)
{
	bool *folded = xcalloc(m->npipes + 1, sizeof(*folded));

	for (size_t i = 0; i < m->nprocs; i++) {
		size_t own = 0;

		for (size_t k = 0; k < m->npipes; k++)
			/* A socketpair is two pipes of m: each counts a half. */
			own += m->pipes[k].own_pid == m->procs[i].pid ? (m->pipes[k].socket ? 1 : 2) : 0;
		if (own < 2 * VIZ_MIN_OWN)
			continue;
		for (size_t k = 0; k < m->npipes; k++)
			folded[k] |= m->pipes[k].own_pid == m->procs[i].pid;
	}
	return folded;
}

/* The fds of p on pipes of its own that are folded, as one row ("4–7,11: 3 pipes only it holds"). */
static void viz_own_row(struct sbuf *b, const struct viz_model *m, const struct viz_proc *p, const bool *folded)
{
	struct viz_fd_set set = { m, folded };
	size_t pipes = 0, sockets = 0;

	for (size_t k = 0; k < m->npipes; k++)
		if (folded[k] && m->pipes[k].own_pid == p->pid)
			*(m->pipes[k].socket ? &sockets : &pipes) += 1;
	if (!pipes && !sockets)
		return;
	viz_fd_ranges(b, p, &set, "black");
	sbuf_printf(b, "<TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\">");
	if (pipes)
		sbuf_printf(b, "%zu pipe%s", pipes, pipes == 1 ? "" : "s");
	if (sockets)
		sbuf_printf(b, "%s%zu socketpair%s", pipes ? ", " : "", sockets / 2,
			    sockets == 2 ? "" : "s");
	sbuf_printf(b, " only it holds</FONT></TD></TR>");
}

/*
 * One process: its cluster, its fd table (node p<pid>), and its edges to
 * pipes (or to the collapsed summary). A process on the top row (the pool
 * parent, or a program's first process) reaches down to the pipes; one on
 * the bottom row is reached from them, so every edge runs between the rows
 * and the arrows still say which way data flows.
 */
static Agnode_t *viz_process(Agraph_t *g, Agraph_t *panel, const struct viz_model *m, const struct viz_proc *p,
			     const char *prefix, const struct viz_fdgraph_opts *o, Agnode_t **pipe_nodes,
			     const bool *folded, Agnode_t *summary, bool top, bool no_leak_edges)
{
	char name[96], port[32];
	struct sbuf b = { 0 }, lbl = { 0 };
	long hidden = 0, hidden_leaked = 0;
	bool pool = m->pool;
	Agraph_t *cl;
	Agnode_t *t;

	/* Graphviz draws a subgraph as a box only if its name starts with "cluster". */
	snprintf(name, sizeof(name), "cluster_%sp%d", prefix, p->pid);
	cl = agsubg(panel, name, 1);
	if (p->parent) {
		sbuf_printf(&lbl, "<B>pool parent</B> · pid %d", p->pid);
	} else if (p->worker_index >= 0) {
		sbuf_printf(&lbl, "<B>worker %d</B> · pid %d", p->worker_index, p->pid);
	} else {
		/* Any program's process: what it runs (a fork that did not exec runs its parent's). */
		sbuf_printf(&lbl, "<B>");
		viz_label_append(&lbl, p->program[0] ? p->program : "process", 24);
		sbuf_printf(&lbl, "</B> · pid %d", p->pid);
	}
	if (!p->alive)
		sbuf_printf(&lbl, "<BR/>%s", p->status);
	if (p->blocked[0]) {
		/* The call on one line, how full its pipe is on the next: the box stays narrow. */
		char call[sizeof(p->blocked)];
		const char *fill = strstr(p->blocked, " · ");

		snprintf(call, sizeof(call), "%.*s", fill ? (int)(fill - p->blocked) : (int)sizeof(call) - 1, p->blocked);
		sbuf_printf(&lbl, "<BR/><FONT COLOR=\"" VIZ_ORANGE "\">blocked: ");
		viz_label_append(&lbl, call, 32);
		if (fill) {
			sbuf_printf(&lbl, "<BR/>");
			viz_label_append(&lbl, fill + strlen(" · "), 32);
		}
		if (p->where[0]) {
			/* record --stacks: the line of the program's the call was made from. */
			sbuf_printf(&lbl, "<BR/>at ");
			viz_label_append_head(&lbl, p->where, 48);
		}
		sbuf_printf(&lbl, "</FONT>");
	}
	if (p->nthreads) {
		/* Its other threads, one line each: in a process whose threads wait for each other, the cycle. */
		int drawn = 0;

		sbuf_printf(&lbl, "<FONT COLOR=\"" VIZ_ORANGE "\">");
		for (const char *line = p->threads; *line && drawn < 4; line += strcspn(line, "\n") + 1, drawn++) {
			char one[sizeof(p->threads)];

			snprintf(one, sizeof(one), "%.*s", (int)strcspn(line, "\n"), line);
			sbuf_printf(&lbl, "<BR/>");
			viz_label_append_head(&lbl, one, 40);
		}
		if (p->nthreads > drawn)
			sbuf_printf(&lbl, "<BR/>%d more threads blocked", p->nthreads - drawn);
		sbuf_printf(&lbl, "</FONT>");
	}
	viz_set_html_label(cl, lbl.s);
	bool blocked = p->blocked[0] || p->nthreads;

	viz_set(cl, "class", !p->alive ? "process exited" : blocked ? "process blocked" : "process");
	viz_set(cl, "style", p->alive ? "rounded" : "rounded,dashed");
	viz_set(cl, "color", !p->alive ? "#bbbbbb" : blocked ? VIZ_ORANGE : "#555555");
	viz_set(cl, "fontcolor", p->alive ? "black" : "#aaaaaa");
	sbuf_release(&lbl);

	viz_name(name, sizeof(name), prefix, "p", p->pid);
	t = agnode(cl, name, 1);
	viz_set(t, "shape", "plaintext");
	viz_set(t, "class", "fd-table");
	sbuf_printf(&b,
		    "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"3\">"
		    "<TR><TD><FONT POINT-SIZE=\"9\">fd</FONT></TD><TD><FONT POINT-SIZE=\"9\">refers to</FONT></TD></TR>");
	if (!p->alive)
		sbuf_printf(&b, "<TR><TD COLSPAN=\"2\"><FONT COLOR=\"#aaaaaa\">"
				"(gone: its fds were released)</FONT></TD></TR>");
	else if (!p->nfds)
		sbuf_printf(&b, "<TR><TD COLSPAN=\"2\">(no fds)</TD></TR>");
	for (size_t i = 0; i < p->nfds; i++) {
		const struct viz_fd *f = &p->fds[i];
		const struct viz_pipe *pp = f->pipe_id ? viz_pipe_of(m, f->pipe_id) : NULL;

		if (pp && folded[pp - m->pipes])
			continue;
		/* viz_pipe_shown, with the pipe already found. */
		if (f->pipe_id && !(pp && viz_pipe_entry_shown(m, pp, o))) {
			hidden++;
			hidden_leaked += f->leaked;
			continue;
		}
		if (f->pipe_id || o->foreign == VIZ_FOREIGN_FULL)
			viz_fd_row(&b, m, f);
	}
	viz_own_row(&b, m, p, folded);
	if (o->foreign == VIZ_FOREIGN_COMPACT)
		viz_foreign_row(&b, m, p);
	if (hidden)
		sbuf_printf(&b,
			    "<TR><TD>…</TD><TD PORT=\"more\" ALIGN=\"LEFT\"><FONT COLOR=\"%s\">"
			    "%ld fds on collapsed %s pipes (%ld leaked)</FONT></TD></TR>",
			    hidden_leaked ? VIZ_RED : "black", hidden, pool ? "workers'" : "processes'", hidden_leaked);
	sbuf_printf(&b, "</TABLE>");
	viz_set_html_label(t, b.s);
	sbuf_release(&b);

	for (size_t i = 0; i < p->nfds; i++) {
		const struct viz_fd *f = &p->fds[i];
		Agedge_t *e;

		snprintf(port, sizeof(port), "f%d:e", f->fd);
		if (f->leaked && no_leak_edges)
			continue; /* too many to lay out: the row says it (see viz_leak_edges) */
		if (f->pipe_id && viz_pipe_shown(m, f->pipe_id, o)) {
			const struct viz_pipe *pp = viz_pipe_of(m, f->pipe_id);
			Agnode_t *pn = pipe_nodes[pp - m->pipes];

			if (!pn)
				continue; /* folded into the own-pipes row */

			/* The arrow shows the data: into a write end, out of a read end. */
			if (top) {
				e = viz_edge(g, t, port, pn, f->write_end ? "w:n" : "r:n");
				if (!f->write_end)
					viz_set(e, "dir", "back");
			} else {
				e = viz_edge(g, pn, f->write_end ? "w:s" : "r:s", t, port);
				if (f->write_end)
					viz_set(e, "dir", "back");
			}
			if (f->socket_end) {
				/* Data goes both ways through a socket's end. */
				viz_set(e, "dir", "both");
				viz_set(e, "class", f->leaked ? "fd socket-end leak" : "fd socket-end");
				viz_set(e, "color", f->leaked ? VIZ_RED : VIZ_PURPLE);
				if (f->leaked)
					viz_set(e, "penwidth", "3");
			} else if (f->write_end) {
				viz_set(e, "class", f->leaked ? "fd write-end leak" : "fd write-end");
				viz_set(e, "color", f->leaked ? VIZ_RED : VIZ_BLUE);
				if (f->leaked)
					viz_set(e, "penwidth", "3");
			} else {
				viz_set(e, "class", "fd read-end");
				viz_set(e, "color", VIZ_GREEN);
				if (!top)
					viz_set(e, "weight", "10"); /* a reader right under its pipe */
			}
		} else if (!f->pipe_id && o->foreign == VIZ_FOREIGN_FULL) {
			e = viz_edge(g, t, port, viz_foreign_node(cl, prefix, p->pid, pool), "n");
			viz_set(e, "class", "fd foreign");
			viz_set(e, "color", VIZ_GREY);
			viz_set(e, "style", "dashed");
			viz_set(e, "arrowhead", "none");
		}
	}
	if (hidden && summary) {
		Agedge_t *e = viz_edge(g, t, "more:e", summary, "n");

		viz_set(e, "class", hidden_leaked ? "collapsed leak" : "collapsed");
		viz_set(e, "color", hidden_leaked ? VIZ_RED : VIZ_GREY);
		viz_set(e, "style", "dotted");
		viz_set(e, "constraint", "false");
	}
	return t;
}

/* The collapsed middle of a large pool: one node with exact counts. */
static Agnode_t *viz_summary(Agraph_t *panel, const struct viz_model *m, const char *prefix,
			     const struct viz_fdgraph_opts *o)
{
	long procs = 0, fds = 0, leaked = 0, pipes = 0, gone = 0;
	struct sbuf b = { 0 };
	char name[96];
	Agnode_t *n;

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];

		if (viz_proc_shown(m, p, o))
			continue;
		procs++;
		gone += !p->alive;
		fds += (long)p->nfds;
		for (size_t j = 0; j < p->nfds; j++)
			leaked += p->fds[j].leaked;
	}
	for (size_t i = 0; i < m->npipes; i++)
		pipes += !viz_pipe_entry_shown(m, &m->pipes[i], o);
	viz_name(name, sizeof(name), prefix, "collapsed", 0);
	n = agnode(panel, name, 1);
	viz_set(n, "shape", "box");
	viz_set(n, "style", "rounded,dashed");
	viz_set(n, "class", "summary");
	if (m->pool)
		sbuf_printf(&b, "<B>workers %d … %d collapsed</B><BR/>", o->keep,
			    m->workers - o->keep - 1);
	else
		/* Counted from 1 below the first process, in fork order, as the caption says. */
		sbuf_printf(&b, "<B>processes %d … %zu in fork order collapsed</B><BR/>",
			    o->keep + 1, m->nprocs - 1 - (size_t)o->keep);
	sbuf_printf(&b,
		    "%ld processes (%ld gone) · %ld pipes<BR/>"
		    "%ld fds held · <FONT COLOR=\"" VIZ_RED "\">%ld leaked write ends</FONT>",
		    procs, gone, pipes, fds, leaked);
	viz_set_html_label(n, b.s);
	sbuf_release(&b);
	return n;
}

/*
 * Whether p is one of a recorded program's processes folded into the "gone"
 * box: gone by the moment, holding nothing, and one of more than
 * VIZ_MAX_GONE such (a shell script or make starts hundreds).
 */
static bool viz_folded(const struct viz_model *m, const struct viz_proc *p, size_t gone)
{
	return !m->pool && gone > VIZ_MAX_GONE && !p->alive && p->nfds == 0 && p != &m->procs[0];
}

static size_t viz_count_gone(const struct viz_model *m)
{
	size_t gone = 0;

	for (size_t i = 1; !m->pool && i < m->nprocs; i++)
		gone += !m->procs[i].alive && m->procs[i].nfds == 0;
	return gone;
}

/* The folded processes: one box with their count and their programs, most frequent first. */
static Agnode_t *viz_gone_summary(Agraph_t *panel, const struct viz_model *m, const char *prefix, size_t gone)
{
	struct { const char *program; size_t n; } *progs = xcalloc(gone, sizeof(*progs));
	size_t nprogs = 0;
	struct sbuf b = { 0 };
	char name[96];
	Agnode_t *n;

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];
		size_t j = 0;

		if (!viz_folded(m, p, gone))
			continue;
		while (j < nprogs && strcmp(progs[j].program, p->program))
			j++;
		if (j == nprogs)
			progs[nprogs++].program = p->program;
		progs[j].n++;
	}
	/* Most frequent first; a few, then "…". */
	for (size_t i = 1; i < nprogs; i++)
		for (size_t j = i; j > 0 && progs[j].n > progs[j - 1].n; j--) {
			__typeof__(*progs) t = progs[j];

			progs[j] = progs[j - 1];
			progs[j - 1] = t;
		}
	sbuf_printf(&b, "<B>%zu processes gone</B><BR/><FONT COLOR=\"#888888\">", gone);
	for (size_t i = 0; i < nprogs && i < 4; i++) {
		sbuf_printf(&b, "%s", i ? " · " : "");
		viz_html_escape(&b, progs[i].program[0] ? progs[i].program : "?");
		sbuf_printf(&b, " ×%zu", progs[i].n);
	}
	sbuf_printf(&b, "%s<BR/>their fds were released</FONT>", nprogs > 4 ? " · …" : "");
	viz_name(name, sizeof(name), prefix, "gone", 0);
	n = agnode(panel, name, 1);
	viz_set(n, "shape", "box");
	viz_set(n, "style", "rounded,dashed");
	viz_set(n, "color", "#aaaaaa");
	viz_set(n, "class", "gone-summary");
	viz_set_html_label(n, b.s);
	sbuf_release(&b);
	free(progs);
	return n;
}

/* Whether p holds the read end of pipe_id (or that socketpair end) at the moment. */
static bool viz_reads(const struct viz_proc *p, int64_t pipe_id)
{
	for (size_t i = 0; i < p->nfds; i++)
		if (p->fds[i].pipe_id == pipe_id && !p->fds[i].write_end)
			return true;
	return false;
}

/*
 * An edge only for the layout, not drawn: `to` at least minlen ranks below
 * `from` (minlen 0: on one row, `to` right of `from`), pulled toward it with
 * weight (0: it ranks or orders, and pulls nothing sideways).
 */
static void viz_invisible(Agraph_t *g, Agnode_t *from, Agnode_t *to, const char *minlen, const char *weight)
{
	Agedge_t *e = agedge(g, from, to, NULL, 1);

	viz_set(e, "style", "invis");
	viz_set(e, "minlen", minlen);
	viz_set(e, "weight", weight);
}

/* Whether pid is drawn above the pipes: the pool parent, or a recorded program's first process. */
static bool viz_is_top(const struct viz_model *m, int pid)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid == pid)
			return m->procs[i].parent || (!m->pool && i == 0);
	return false;
}

/* The wait-for panel's node of pid: made on first use, named as the process is in its title. */
/* A box of the wait-for panel: orange and bold on the deadlock; dashed for the processes not drawn (a group). */
static void viz_wait_style(Agnode_t *n, const char *label, bool cycle, bool group)
{
	viz_set(n, "label", label);
	viz_set(n, "shape", "box");
	viz_set(n, "style", group ? "rounded,dashed" : "rounded");
	viz_set(n, "class", group ? (cycle ? "waits-node waits-group cycle" : "waits-node waits-group")
				  : cycle ? "waits-node cycle" : "waits-node");
	viz_set(n, "color", cycle ? VIZ_ORANGE : VIZ_GREY);
	viz_set(n, "penwidth", cycle ? "2" : "1");
}

static Agnode_t *viz_wait_node(Agraph_t *box, const struct viz_model *m, const char *prefix, int pid)
{
	char name[96], label[224], why[64] = "";
	Agnode_t *n;
	bool cycle = false;

	viz_name(name, sizeof(name), prefix, "w", pid);
	if ((n = agnode(box, name, 0)))
		return n;
	n = agnode(box, name, 1);
	label[0] = '\0';
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];

		if (p->pid != pid)
			continue;
		if (p->parent)
			snprintf(label, sizeof(label), "parent\npid %d", pid);
		else if (p->worker_index >= 0)
			snprintf(label, sizeof(label), "worker %d\npid %d", p->worker_index, pid);
		else
			snprintf(label, sizeof(label), "%s\npid %d", p->program[0] ? p->program : "process", pid);
	}
	if (!label[0])
		snprintf(label, sizeof(label), "pid %d", pid);
	/* On the deadlock when any of its waits, or a wait for it, is. */
	for (size_t i = 0; i < m->nwaits && !cycle; i++)
		cycle = m->waits[i].cycle && (m->waits[i].pid == pid || m->waits[i].waits_for == pid);
	/* Why it waits: every wait of one process is on one thing (its child, or one pipe). */
	for (size_t i = 0; i < m->nwaits && !why[0]; i++)
		if (m->waits[i].pid == pid)
			snprintf(why, sizeof(why), m->waits[i].pipe_id ? "\non %s %lld" : "\nin wait4",
				 m->waits[i].socket ? "socket" : "pipe", (long long)m->waits[i].pipe_id);
	snprintf(label + strlen(label), sizeof(label) - strlen(label), "%s", why);
	viz_wait_style(n, label, cycle, false);
	return n;
}

/*
 * The wait-for graph at a deadlock, in a panel of its own beside the legend:
 * a small box per blocked process (named as in its title) and an edge from
 * each to each process it waits for, labelled with why (wait4, or the pipe
 * whose other end it holds); the edges on a cycle (the deadlock itself)
 * bold and orange. Drawn between the fd tables, the same edges crossed the
 * processes' titles and each other, and the cycle could not be read.
 * Returns the panel's first node (NULL: no waits drawn), which the caller
 * ranks beside the legend.
 */
/*
 * The processes not drawn (collapsed workers, cut processes) as one box of
 * the wait-for panel, for the bundles of waits to and from them: "workers
 * 3–996, 994 not drawn", orange when a bundle is on the deadlock.
 */
static Agnode_t *viz_wait_group_node(Agraph_t *box, const struct viz_model *m, const char *prefix)
{
	char name[96], label[128];
	size_t hidden = 0;
	int lo = -1, hi = -1;
	bool cycle = false;
	Agnode_t *n;

	viz_name(name, sizeof(name), prefix, "w", VIZ_WAIT_GROUP);
	if ((n = agnode(box, name, 0)))
		return n;
	for (size_t i = 0; i < m->nwaits; i++)
		cycle |= m->waits[i].bundled && m->waits[i].cycle;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];
		char pname[96];

		viz_name(pname, sizeof(pname), prefix, "p", p->pid);
		if (agnode(agroot(box), pname, 0))
			continue;
		hidden++;
		if (p->worker_index >= 0) {
			lo = lo < 0 || p->worker_index < lo ? p->worker_index : lo;
			hi = p->worker_index > hi ? p->worker_index : hi;
		}
	}
	if (m->pool && lo >= 0)
		snprintf(label, sizeof(label), "workers %d–%d\n%zu not drawn", lo, hi, hidden);
	else
		snprintf(label, sizeof(label), "%zu process%s\nnot drawn", hidden, hidden == 1 ? "" : "es");
	n = agnode(box, name, 1);
	viz_wait_style(n, label, cycle, true);
	return n;
}

static Agnode_t *viz_waits(Agraph_t *g, Agraph_t *panel, const struct viz_model *m, const char *prefix)
{
	size_t shown = 0, nbundles = 0;
	char name[96];
	Agraph_t *box;
	Agnode_t *first = NULL, *last = NULL;
	bool group_placed = false;

	for (size_t i = 0; i < m->nwaits; i++) {
		viz_name(name, sizeof(name), prefix, "p", m->waits[i].pid);
		if (agnode(g, name, 0)) {
			viz_name(name, sizeof(name), prefix, "p", m->waits[i].waits_for);
			shown += agnode(g, name, 0) != NULL;
		}
	}
	for (size_t i = 0; i < m->nwaits; i++)
		nbundles += m->waits[i].bundled > 0;
	if (!shown)
		return NULL;
	if (shown > VIZ_MAX_WAITS) {
		/* Thousands of edges make a picture nobody reads and a layout of minutes. */
		Agnode_t *n;

		viz_name(name, sizeof(name), prefix, "waits", 0);
		n = agnode(panel, name, 1);
		viz_set(n, "shape", "note");
		viz_set(n, "class", "waits-note");
		viz_set(n, "color", VIZ_ORANGE);
		snprintf(name, sizeof(name), "%zu waits-for edges:\ntoo many to draw;\nSELECT * FROM wait_for", shown);
		viz_set(n, "label", name);
		return n;
	}
	/* "cluster" first, or Graphviz draws no box (compare's prefix goes after it, as for processes). */
	snprintf(name, sizeof(name), "cluster_%swaits", prefix);
	box = agsubg(panel, name, 1);
	viz_set(box, "class", "waits-panel");
	viz_set(box, "label", "waits for (who can wake whom)");
	viz_set(box, "labeljust", "l");
	viz_set(box, "style", "rounded");
	viz_set(box, "color", "#cccccc");
	viz_set(box, "rank", "same");
	viz_set(box, "labelloc", "b"); /* the arcs go over the row: the label under it */
	/* In the order of the processes' boxes (the parent first), left to right;
	 * those not drawn as one box where the first of them would be. */
	for (size_t i = 0; i < m->nprocs; i++) {
		char pname[96];

		viz_name(pname, sizeof(pname), prefix, "p", m->procs[i].pid);
		if (nbundles && !group_placed && !agnode(g, pname, 0)) {
			Agnode_t *n = viz_wait_group_node(box, m, prefix);

			if (first && !agedge(g, last, n, NULL, 0))
				viz_invisible(g, last, n, "1", "100");
			if (!first)
				first = n;
			last = n;
			group_placed = true;
			continue;
		}
		for (size_t j = 0; j < m->nwaits; j++) {
			const struct viz_wait *w = &m->waits[j];
			char from[96], to[96];
			Agnode_t *n;

			viz_name(from, sizeof(from), prefix, "p", w->pid);
			viz_name(to, sizeof(to), prefix, "p", w->waits_for);
			if ((w->pid != m->procs[i].pid && w->waits_for != m->procs[i].pid) || !agnode(g, from, 0) ||
			    !agnode(g, to, 0))
				continue;
			n = viz_wait_node(box, m, prefix, m->procs[i].pid);
			if (first && n != first && !agedge(g, last, n, NULL, 0))
				viz_invisible(g, last, n, "1", "100");
			if (!first)
				first = n;
			last = n;
			break;
		}
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < m->nwaits; i++) {
			const struct viz_wait *w = &m->waits[i];
			char from[96], to[96];
			Agnode_t *a, *b;
			Agedge_t *e;

			if (w->cycle != (pass == 1))
				continue;
			viz_name(from, sizeof(from), prefix, "p", w->pid);
			viz_name(to, sizeof(to), prefix, "p", w->waits_for);
			if (w->bundled && group_placed) {
				/* A bundle: its drawn end must be in the row too. */
				if (!agnode(g, w->pid == VIZ_WAIT_GROUP ? to : from, 0))
					continue;
				a = w->pid == VIZ_WAIT_GROUP ? viz_wait_group_node(box, m, prefix) : viz_wait_node(box, m, prefix, w->pid);
				b = w->waits_for == VIZ_WAIT_GROUP ? viz_wait_group_node(box, m, prefix)
								   : viz_wait_node(box, m, prefix, w->waits_for);
			} else if (w->bundled || !agnode(g, from, 0) || !agnode(g, to, 0)) {
				continue; /* a collapsed worker */
			} else {
				a = viz_wait_node(box, m, prefix, w->pid);
				b = viz_wait_node(box, m, prefix, w->waits_for);
			}
			/* No label: dot lays out labelled edges in a row badly (and may crash); the node says why. */
			e = agedge(g, a, b, NULL, 1);
			viz_set(e, "constraint", "false"); /* the row keeps the boxes' order */
			viz_set(e, "class", w->bundled ? (w->cycle ? "waits-for bundle cycle" : "waits-for bundle")
						       : w->cycle ? "waits-for cycle" : "waits-for");
			viz_set(e, "color", w->cycle ? VIZ_ORANGE : VIZ_GREY);
			viz_set(e, "penwidth", w->cycle ? "2" : "1");
			viz_set(e, "style", w->cycle ? "solid" : "dashed");
		}
	return first;
}

/*
 * Past VIZ_MAX_LEAK_EDGES leaked write ends held at the moment, the picture
 * does not show them all as edges (too many to lay out, or held by
 * collapsed workers) and cannot show their shape: the leak matrix shows
 * every one, in a node of bounded size. NULL when there are fewer.
 */
static Agnode_t *viz_leak_matrix(Agraph_t *panel, const struct viz_model *m, const char *prefix)
{
	struct viz_leakmatrix x;
	Agnode_t *n = NULL;

	if (m->leaked_now <= VIZ_MAX_LEAK_EDGES)
		return NULL;
	viz_leakmatrix_init(&x, m, VIZ_LEAKMATRIX_MAX_ROWS, VIZ_LEAKMATRIX_MAX_COLS);
	if (x.total)
		n = viz_leakmatrix_node(panel, prefix, m, &x);
	viz_leakmatrix_release(&x);
	return n;
}

/* An invisible point in a pipes row: what orders and ranks hang on. */
static Agnode_t *viz_anchor(Agraph_t *row, const char *prefix, size_t band)
{
	char name[96];
	Agnode_t *n;

	viz_name(name, sizeof(name), prefix, "anchor", (long long)band);
	n = agnode(row, name, 1);
	viz_set(n, "style", "invis");
	viz_set(n, "shape", "point");
	viz_set(n, "width", "0");
	viz_set(n, "label", "");
	viz_set(n, "ordering", "out"); /* what it ranks stays in the order given */
	return n;
}

/*
 * Adds one model to panel (the root graph or a cluster). The top process
 * (pool parent, or a program's first process) stands above everything; the
 * others follow in a fixed order (workers by index, or fork order) in bands
 * of at most VIZ_ROW (VIZ_ROW_MANY for more than six), each band a row of the pipes made for its processes
 * with the processes right under them, so the picture stays slide-shaped.
 * The order is the same at every moment and in every panel, so pictures
 * can be compared by eye.
 */
static Agnode_t *viz_panel(Agraph_t *g, Agraph_t *panel, const struct viz_model *m, const char *prefix,
			   const struct viz_fdgraph_opts *o)
{
	Agnode_t **pipe_nodes = xcalloc(m->npipes ? m->npipes : 1, sizeof(*pipe_nodes));
	bool *folded = viz_own_folded(m);
	Agnode_t *summary = NULL, **anchors, **last_in_row, **bottom, *last_anchor, *waits, *matrix, *top_node = NULL;
	/* Per process of m: its place among the bottom ones (SIZE_MAX: top or collapsed). */
	size_t *place = xcalloc(m->nprocs + 1, sizeof(*place)), nbottom = 0, bands, per_band, row_max;
	size_t gone = viz_count_gone(m);
	bool summary_placed = false, gone_placed = false, no_leak_edges = viz_leak_edges(m, o) > VIZ_MAX_LEAK_EDGES;

	/* Where each process goes: the summary (or the gone box) stands where the first it folds would. */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];

		place[i] = SIZE_MAX;
		if (p->parent || (!m->pool && i == 0))
			continue;
		if (viz_folded(m, p, gone)) {
			if (!gone_placed)
				gone_placed = true, place[m->nprocs] = nbottom++;
		} else if (viz_proc_shown(m, p, o)) {
			place[i] = nbottom++;
		} else if (!summary_placed) {
			summary_placed = true, place[m->nprocs] = nbottom++;
		}
	}
	row_max = nbottom > VIZ_ROW_MANY * 2 ? VIZ_ROW_MANY : VIZ_ROW;
	bands = nbottom ? (nbottom + row_max - 1) / row_max : 1;
	per_band = nbottom ? (nbottom + bands - 1) / bands : 1;
	anchors = xcalloc(bands, sizeof(*anchors));
	last_in_row = xcalloc(bands, sizeof(*last_in_row));
	bottom = xcalloc(nbottom + 1, sizeof(*bottom));
	for (size_t b = 0; b < bands; b++) {
		char name[96];
		Agraph_t *row;

		viz_name(name, sizeof(name), prefix, "pipes", (long long)b);
		row = agsubg(panel, name, 1);
		viz_set(row, "rank", "same");
		anchors[b] = last_in_row[b] = viz_anchor(row, prefix, b);
	}
	/*
	 * Each pipe in the band of the worker it was made for; any program's, in
	 * the band of the first process below the top that reads it (else the
	 * first band), so that a long pipeline's pipes do not all stand in one row.
	 */
	for (size_t i = 0; i < m->npipes; i++) {
		size_t band = 0;
		char name[96];

		if (!viz_pipe_entry_shown(m, &m->pipes[i], o) || folded[i])
			continue;
		for (size_t j = 0; j < m->nprocs; j++)
			if (m->pipes[i].channel >= 0 && m->procs[j].worker_index == m->pipes[i].channel &&
			    place[j] != SIZE_MAX)
				band = place[j] / per_band;
		for (size_t j = m->nprocs; m->pipes[i].channel < 0 && j-- > 0;)
			if (place[j] != SIZE_MAX && viz_reads(&m->procs[j], m->pipes[i].pipe_id))
				band = place[j] / per_band;
		viz_name(name, sizeof(name), prefix, "pipes", (long long)band);
		pipe_nodes[i] = viz_fdgraph_pipe_node(agsubg(panel, name, 0), prefix, &m->pipes[i]);
		/* A flat edge keeps its order only with some weight. */
		viz_invisible(g, last_in_row[band], pipe_nodes[i], "0", "1");
		last_in_row[band] = pipe_nodes[i];
	}
	/* The two ends of a socketpair, side by side (consecutive ids), joined. */
	for (size_t i = 0; i + 1 < m->npipes; i++)
		if (m->pipes[i].socket && m->pipes[i + 1].pipe_id == m->pipes[i].peer_id && pipe_nodes[i] &&
		    pipe_nodes[i + 1]) {
			Agedge_t *e = agedge(g, pipe_nodes[i], pipe_nodes[i + 1], NULL, 1);

			viz_set(e, "class", "socketpair");
			viz_set(e, "dir", "none");
			viz_set(e, "style", "dashed");
			viz_set(e, "penwidth", "2");
			viz_set(e, "color", VIZ_PURPLE);
		}
	if (summary_placed)
		bottom[place[m->nprocs]] = summary = viz_summary(panel, m, prefix, o);
	else if (gone_placed)
		bottom[place[m->nprocs]] = viz_gone_summary(panel, m, prefix, gone);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];
		bool top = viz_is_top(m, p->pid);
		Agnode_t *t;

		if (!top && place[i] == SIZE_MAX)
			continue;
		t = viz_process(g, panel, m, p, prefix, o, pipe_nodes, folded, summary, top, no_leak_edges);
		if (top) {
			viz_invisible(g, t, anchors[0], "1", "0");
			top_node = t;
			continue;
		}
		bottom[place[i]] = t;
		/* A worker stands under the pipe made for it, even when gone and holding nothing. */
		for (size_t j = 0; j < m->npipes; j++)
			if (pipe_nodes[j] && p->worker_index >= 0 && m->pipes[j].channel == p->worker_index)
				viz_invisible(g, pipe_nodes[j], t, "1", "10");
	}
	for (size_t i = 0; i < nbottom; i++) {
		size_t band = i / per_band;

		viz_invisible(g, anchors[band], bottom[i], "1", "0");
		/* Straight under the one a band above: columns, not a drift to one side. */
		if (band)
			viz_invisible(g, bottom[i - per_band], bottom[i], "1", "50");
		/* Left to right by index: heavier than a pipe row's order, which may give way. */
		if (i % per_band)
			viz_invisible(g, bottom[i - 1], bottom[i], "0", "5");
		if (band + 1 < bands)
			viz_invisible(g, bottom[i], anchors[band + 1], "1", "0");
	}
	last_anchor = anchors[bands - 1];
	if ((waits = viz_waits(g, panel, m, prefix)))
		/* Below the processes, beside the legend (which hangs on the same anchor). */
		viz_invisible(g, last_anchor, waits, "2", "0");
	if ((matrix = viz_leak_matrix(panel, m, prefix))) {
		/* Beside the top process, left of it, where there is room and where a reader looks first. */
		viz_invisible(g, matrix, anchors[0], "1", "0");
		if (top_node)
			viz_invisible(g, matrix, top_node, "0", "5");
	}
	free(place);
	free(anchors);
	free(last_in_row);
	free(bottom);
	free(pipe_nodes);
	free(folded);
	return last_anchor;
}

/*
 * The legend, under the last row of processes (below: the picture's width
 * is the processes', not theirs plus the legend's); pool says whether to
 * speak of the pool's workers or of any program's processes.
 */
static bool viz_has_sockets(const struct viz_model *m)
{
	for (size_t i = 0; i < m->npipes; i++)
		if (m->pipes[i].socket)
			return true;
	return false;
}

static void viz_legend(Agraph_t *g, Agnode_t *last_anchor, bool pool, bool waits, bool sockets)
{
	Agnode_t *n = agnode(g, "legend", 1);
	char html[3072];

	viz_invisible(g, last_anchor, n, "2", "0");
	viz_set(n, "shape", "plaintext");
	viz_set(n, "class", "legend");
	snprintf(html, sizeof(html),
		 "<TABLE BORDER=\"1\" COLOR=\"#cccccc\" CELLBORDER=\"0\" CELLSPACING=\"2\" CELLPADDING=\"2\">"
		 "<TR><TD COLSPAN=\"2\"><B>legend</B></TD></TR>"
		 "<TR><TD><FONT COLOR=\"" VIZ_BLUE "\">━━▶</FONT></TD><TD ALIGN=\"LEFT\">fd holds a pipe's write end</TD></TR>"
		 "<TR><TD><FONT COLOR=\"" VIZ_GREEN "\">◀━━</FONT></TD><TD ALIGN=\"LEFT\">fd holds a pipe's read end</TD></TR>"
		 "%s"
		 "<TR><TD><FONT COLOR=\"" VIZ_RED "\"><B>━━▶</B></FONT></TD><TD ALIGN=\"LEFT\">leaked write end: keeps another %s from EOF</TD></TR>"
		 "<TR><TD><FONT COLOR=\"" VIZ_GREY "\">- - -</FONT></TD><TD ALIGN=\"LEFT\">grey row: foreign fd, not created by the %s</TD></TR>"
		 "<TR><TD><FONT COLOR=\"#aaaaaa\">╌╌</FONT></TD><TD ALIGN=\"LEFT\">dashed box: process already gone</TD></TR>"
		 "%s</TABLE>",
		 sockets ? "<TR><TD><FONT COLOR=\"" VIZ_PURPLE "\">◀━▶</FONT></TD><TD ALIGN=\"LEFT\">fd holds an end of a"
			   " socketpair (both ways; EOF when its peer's holders all let go)</TD></TR>"
			 : "",
		 pool ? "worker" : "process", pool ? "pool" : "program",
		 waits ? "<TR><TD><FONT COLOR=\"" VIZ_ORANGE "\">▭</FONT></TD><TD ALIGN=\"LEFT\">orange box: blocked when the"
			 " deadlock was found, in the call it names</TD></TR>"
			 "<TR><TD><FONT COLOR=\"" VIZ_ORANGE "\"><B>━━▶</B></FONT></TD><TD ALIGN=\"LEFT\">waits for (its own panel):"
			 " only that process can wake it (on a cycle: the deadlock)</TD></TR>"
			 "<TR><TD><FONT COLOR=\"" VIZ_GREY "\">- -▶</FONT></TD><TD ALIGN=\"LEFT\">waits for, not on a cycle</TD></TR>"
		       : "");
	viz_set_html_label(n, html);
}

static Agraph_t *viz_graph_new(void)
{
	Agraph_t *g = agopen("pooltrace", Agdirected, NULL);

	viz_set(g, "rankdir", "TB");
	viz_set(g, "fontname", "Helvetica");
	viz_set(g, "labelloc", "t");
	viz_set(g, "nodesep", "0.25");
	viz_set(g, "ranksep", "0.9");
	viz_set(g, "newrank", "true"); /* rank the whole graph at once, clusters included: rows stay rows */
	agattr(g, AGNODE, "fontname", "Helvetica");
	agattr(g, AGNODE, "fontsize", "11");
	agattr(g, AGEDGE, "arrowsize", "0.7");
	return g;
}

Agraph_t *viz_fdgraph_new(const struct viz_model *m, const struct viz_fdgraph_opts *o)
{
	Agraph_t *g = viz_graph_new();
	struct sbuf b = { 0 };

	viz_caption(&b, m, o);
	viz_set_html_label(g, b.s);
	sbuf_release(&b);
	viz_legend(g, viz_panel(g, g, m, "", o), m->pool, m->nwaits > 0, viz_has_sockets(m));
	return g;
}

/*
 * Several models, one captioned panel each, in a grid of ceil(sqrt(n))
 * columns (three runs: two over one), so the whole stays slide-shaped; a
 * panel starts below the panel a row above it.
 */
Agraph_t *viz_fdgraph_compare(const struct viz_model *models, size_t n, const struct viz_fdgraph_opts *o)
{
	Agraph_t *g = viz_graph_new();
	Agnode_t **last = xcalloc(n ? n : 1, sizeof(*last)), *lowest = NULL;
	size_t cols = 1;
	bool waits = false, sockets = false;

	while (cols * cols < n)
		cols++;
	viz_set_html_label(g, "<B>pooltrace compare</B>: the same moment of each run");
	for (size_t i = 0; i < n; i++) {
		char prefix[32], name[48];
		struct sbuf b = { 0 };
		Agraph_t *panel;
		Agnode_t *first;

		snprintf(prefix, sizeof(prefix), "r%lld_", (long long)models[i].run_id);
		snprintf(name, sizeof(name), "cluster_run%lld", (long long)models[i].run_id);
		panel = agsubg(g, name, 1);
		viz_caption(&b, &models[i], o);
		viz_set_html_label(panel, b.s);
		viz_set(panel, "class", "panel");
		viz_set(panel, "style", "rounded");
		viz_set(panel, "color", "#cccccc");
		sbuf_release(&b);
		last[i] = viz_panel(g, panel, &models[i], prefix, o);
		waits |= models[i].nwaits > 0;
		sockets |= viz_has_sockets(&models[i]);
		viz_name(name, sizeof(name), prefix, "anchor", 0);
		first = agnode(g, name, 0);
		/* Below: its processes' row, then its top process, then its first pipes row. */
		if (i >= cols)
			viz_invisible(g, last[i - cols], first, "3", "0");
	}
	/* The legend under the panel that reaches lowest: the last one of the first column. */
	if (n)
		lowest = last[((n - 1) / cols) * cols];
	if (lowest)
		viz_legend(g, lowest, n > 0 && models[0].pool, waits, sockets);
	free(last);
	return g;
}
