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
#include "fdgraph.h"

#include "output.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIZ_BLUE "#1f5fbf"
#define VIZ_GREEN "#2a9d3a"
#define VIZ_RED "#d62728"
#define VIZ_GREY "#9a9a9a"

struct viz_buf {
	char *s;
	size_t len, cap;
};

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

/* A pipe is drawn when the worker it was made for is drawn. */
static bool viz_pipe_shown(const struct viz_model *m, int64_t pipe_id, const struct viz_fdgraph_opts *o)
{
	const struct viz_pipe *p = viz_pipe_of(m, pipe_id);

	return p && viz_worker_shown(m, p->channel, o);
}

static void viz_name(char *buf, size_t len, const char *prefix, const char *kind, long long id)
{
	snprintf(buf, len, "%s%s%lld", prefix, kind, id);
}

static void viz_caption(struct viz_buf *b, const struct viz_model *m)
{
	viz_buf_printf(&b->s, &b->len, &b->cap, "<B>");
	if (m->strategy[0]) {
		viz_html_escape(&b->s, &b->len, &b->cap, m->strategy);
		viz_buf_printf(&b->s, &b->len, &b->cap, "</B> · run %lld · %d workers · ", (long long)m->run_id,
			       m->workers);
	} else {
		/* A recorded program: its command line names it. */
		viz_label_append(&b->s, &b->len, &b->cap, m->command[0] ? m->command : "recorded program", 60);
		viz_buf_printf(&b->s, &b->len, &b->cap, "</B> · run %lld · %zu processes · ", (long long)m->run_id,
			       m->nprocs);
	}
	viz_html_escape(&b->s, &b->len, &b->cap, m->moment);
	viz_buf_printf(&b->s, &b->len, &b->cap, " · outcome: <B>");
	viz_html_escape(&b->s, &b->len, &b->cap, m->outcome[0] ? m->outcome : "unfinished");
	viz_buf_printf(&b->s, &b->len, &b->cap, "</B><BR/>");
	viz_buf_printf(&b->s, &b->len, &b->cap,
		       "<FONT COLOR=\"" VIZ_RED "\">leaked write ends held: %lld</FONT>"
		       " · EOF blockers: %lld now, %lld in the run",
		       (long long)m->leaked_now, (long long)m->blockers_now, (long long)m->blockers_run);
}

static Agnode_t *viz_pipe_node(Agraph_t *g, const char *prefix, const struct viz_pipe *p)
{
	char name[96], inode[32];
	struct viz_buf b = { 0 };
	Agnode_t *n;

	viz_name(name, sizeof(name), prefix, "pipe", (long long)p->pipe_id);
	n = agnode(g, name, 1);
	snprintf(inode, sizeof(inode), "pipe:[%llu]", (unsigned long long)p->inode);
	viz_buf_printf(&b.s, &b.len, &b.cap,
		       "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\"><TR>"
		       "<TD PORT=\"w\" BGCOLOR=\"#dbe7fb\"><FONT COLOR=\"" VIZ_BLUE "\">write</FONT></TD>"
		       "<TD BGCOLOR=\"#f4f4f4\">pipe %lld", (long long)p->pipe_id);
	if (p->channel >= 0)
		viz_buf_printf(&b.s, &b.len, &b.cap, " · for worker %d", p->channel);
	viz_buf_printf(&b.s, &b.len, &b.cap, "<BR/><FONT POINT-SIZE=\"9\">");
	viz_html_escape(&b.s, &b.len, &b.cap, inode);
	viz_buf_printf(&b.s, &b.len, &b.cap,
		       "</FONT></TD><TD PORT=\"r\" BGCOLOR=\"#dcf3df\"><FONT COLOR=\"" VIZ_GREEN
		       "\">read</FONT></TD></TR></TABLE>");
	viz_set(n, "shape", "plaintext");
	viz_set(n, "class", "pipe");
	viz_set_html_label(n, b.s);
	free(b.s);
	return n;
}

/* Long paths (a job's stdout file) are cut from the left: the end says most. */
static void viz_short_detail(struct viz_buf *b, const char *detail)
{
	viz_label_append(&b->s, &b->len, &b->cap, detail ? detail : "(unknown)", 28);
}

/* What one fd row says about its fd. */
static void viz_fd_row(struct viz_buf *b, const struct viz_model *m, const struct viz_fd *f)
{
	const char *color = f->leaked ? VIZ_RED : f->foreign ? VIZ_GREY : "black";
	const struct viz_pipe *p = f->pipe_id ? viz_pipe_of(m, f->pipe_id) : NULL;

	viz_buf_printf(&b->s, &b->len, &b->cap, "<TR><TD ALIGN=\"RIGHT\"><FONT COLOR=\"%s\">%d</FONT></TD>"
						"<TD PORT=\"f%d\" ALIGN=\"LEFT\"><FONT COLOR=\"%s\">",
		       color, f->fd, f->fd, color);
	if (f->leaked)
		viz_buf_printf(&b->s, &b->len, &b->cap, "<B>");
	if (p)
		viz_buf_printf(&b->s, &b->len, &b->cap, "pipe %lld %s%s", (long long)f->pipe_id,
			       f->write_end ? "write" : "read", f->leaked ? " (leaked)" : "");
	else if (f->inode)
		viz_buf_printf(&b->s, &b->len, &b->cap, "pipe:[%llu] %s", (unsigned long long)f->inode,
			       f->write_end ? "write" : "read");
	else
		viz_short_detail(b, f->detail);
	if (f->leaked)
		viz_buf_printf(&b->s, &b->len, &b->cap, "</B>");
	viz_buf_printf(&b->s, &b->len, &b->cap, "</FONT></TD></TR>");
}

static Agedge_t *viz_edge(Agraph_t *g, Agnode_t *from, const char *port, Agnode_t *to, const char *to_port)
{
	Agedge_t *e = agedge(g, from, to, NULL, 1);

	viz_set(e, "tailport", port);
	viz_set(e, "headport", to_port);
	return e;
}

/* Where a process's foreign fds point: one muted node inside its own cluster,
 * so those edges stay short and never cross the picture. */
static Agnode_t *viz_foreign_node(Agraph_t *cluster, const char *prefix, int pid)
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
	viz_set(n, "label", "not from\nthe pool");
	return n;
}

/* One process: its cluster, its fd table, and its edges to pipes (or to the collapsed summary). */
static void viz_process(Agraph_t *g, Agraph_t *panel, const struct viz_model *m, const struct viz_proc *p,
			const char *prefix, const struct viz_fdgraph_opts *o, Agnode_t **pipe_nodes,
			Agnode_t *summary)
{
	char name[96], port[32];
	struct viz_buf b = { 0 }, lbl = { 0 };
	long hidden = 0, hidden_leaked = 0;
	Agraph_t *cl;
	Agnode_t *t;

	/* Graphviz draws a subgraph as a box only if its name starts with "cluster". */
	snprintf(name, sizeof(name), "cluster_%sp%d", prefix, p->pid);
	cl = agsubg(panel, name, 1);
	if (p->parent) {
		viz_buf_printf(&lbl.s, &lbl.len, &lbl.cap, "<B>pool parent</B> · pid %d", p->pid);
	} else if (p->worker_index >= 0) {
		viz_buf_printf(&lbl.s, &lbl.len, &lbl.cap, "<B>worker %d</B> · pid %d", p->worker_index, p->pid);
	} else {
		/* Any program's process: what it runs (a fork that did not exec runs its parent's). */
		viz_buf_printf(&lbl.s, &lbl.len, &lbl.cap, "<B>");
		viz_label_append(&lbl.s, &lbl.len, &lbl.cap, p->program[0] ? p->program : "process", 24);
		viz_buf_printf(&lbl.s, &lbl.len, &lbl.cap, "</B> · pid %d", p->pid);
	}
	if (!p->alive)
		viz_buf_printf(&lbl.s, &lbl.len, &lbl.cap, "<BR/>%s", p->status);
	viz_set_html_label(cl, lbl.s);
	viz_set(cl, "class", p->alive ? "process" : "process exited");
	viz_set(cl, "style", p->alive ? "rounded" : "rounded,dashed");
	viz_set(cl, "color", p->alive ? "#555555" : "#bbbbbb");
	viz_set(cl, "fontcolor", p->alive ? "black" : "#aaaaaa");
	free(lbl.s);

	viz_name(name, sizeof(name), prefix, "fds", p->pid);
	t = agnode(cl, name, 1);
	viz_set(t, "shape", "plaintext");
	viz_set(t, "class", "fd-table");
	viz_buf_printf(&b.s, &b.len, &b.cap,
		       "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"3\">"
		       "<TR><TD><FONT POINT-SIZE=\"9\">fd</FONT></TD><TD><FONT POINT-SIZE=\"9\">refers to</FONT></TD></TR>");
	if (!p->alive)
		viz_buf_printf(&b.s, &b.len, &b.cap, "<TR><TD COLSPAN=\"2\"><FONT COLOR=\"#aaaaaa\">"
						     "(gone: its fds were released)</FONT></TD></TR>");
	else if (!p->nfds)
		viz_buf_printf(&b.s, &b.len, &b.cap, "<TR><TD COLSPAN=\"2\">(no fds)</TD></TR>");
	for (size_t i = 0; i < p->nfds; i++) {
		const struct viz_fd *f = &p->fds[i];

		if (f->pipe_id && !viz_pipe_shown(m, f->pipe_id, o)) {
			hidden++;
			hidden_leaked += f->leaked;
			continue;
		}
		viz_fd_row(&b, m, f);
	}
	if (hidden)
		viz_buf_printf(&b.s, &b.len, &b.cap,
			       "<TR><TD>…</TD><TD PORT=\"more\" ALIGN=\"LEFT\"><FONT COLOR=\"%s\">"
			       "%ld fds on collapsed workers' pipes (%ld leaked)</FONT></TD></TR>",
			       hidden_leaked ? VIZ_RED : "black", hidden, hidden_leaked);
	viz_buf_printf(&b.s, &b.len, &b.cap, "</TABLE>");
	viz_set_html_label(t, b.s);
	free(b.s);

	for (size_t i = 0; i < p->nfds; i++) {
		const struct viz_fd *f = &p->fds[i];
		Agedge_t *e;

		snprintf(port, sizeof(port), "f%d:e", f->fd);
		if (f->pipe_id && viz_pipe_shown(m, f->pipe_id, o)) {
			const struct viz_pipe *pp = viz_pipe_of(m, f->pipe_id);
			Agnode_t *pn = pipe_nodes[pp - m->pipes];

			e = viz_edge(g, t, port, pn, f->write_end ? "w:n" : "r:n");
			if (f->write_end) {
				viz_set(e, "class", f->leaked ? "fd write-end leak" : "fd write-end");
				viz_set(e, "color", f->leaked ? VIZ_RED : VIZ_BLUE);
				if (f->leaked)
					viz_set(e, "penwidth", "3");
			} else {
				/* Data flows out of the read end into the reader. */
				viz_set(e, "dir", "back");
				viz_set(e, "class", "fd read-end");
				viz_set(e, "color", VIZ_GREEN);
			}
		} else if (!f->pipe_id) {
			e = viz_edge(g, t, port, viz_foreign_node(cl, prefix, p->pid), "n");
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
	}
}

/* The collapsed middle of a large pool: one node with exact counts. */
static Agnode_t *viz_summary(Agraph_t *panel, const struct viz_model *m, const char *prefix,
			     const struct viz_fdgraph_opts *o)
{
	long procs = 0, fds = 0, leaked = 0, pipes = 0, gone = 0;
	struct viz_buf b = { 0 };
	char name[96];
	Agnode_t *n;

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];

		if (viz_worker_shown(m, p->worker_index, o))
			continue;
		procs++;
		gone += !p->alive;
		fds += (long)p->nfds;
		for (size_t j = 0; j < p->nfds; j++)
			leaked += p->fds[j].leaked;
	}
	for (size_t i = 0; i < m->npipes; i++)
		pipes += !viz_worker_shown(m, m->pipes[i].channel, o);
	viz_name(name, sizeof(name), prefix, "collapsed", 0);
	n = agnode(panel, name, 1);
	viz_set(n, "shape", "box");
	viz_set(n, "style", "rounded,dashed");
	viz_set(n, "class", "summary");
	viz_buf_printf(&b.s, &b.len, &b.cap,
		       "<B>workers %d … %d collapsed</B><BR/>%ld processes (%ld gone) · %ld pipes<BR/>"
		       "%ld fds held · <FONT COLOR=\"" VIZ_RED "\">%ld leaked write ends</FONT>",
		       o->keep, m->workers - o->keep - 1, procs, gone, pipes, fds, leaked);
	viz_set_html_label(n, b.s);
	free(b.s);
	return n;
}

/* Adds one model's processes and pipes to panel (the root graph or a cluster). */
static void viz_panel(Agraph_t *g, Agraph_t *panel, const struct viz_model *m, const char *prefix,
		      const struct viz_fdgraph_opts *o)
{
	Agnode_t **pipe_nodes = xcalloc(m->npipes ? m->npipes : 1, sizeof(*pipe_nodes));
	Agnode_t *summary = NULL;

	Agnode_t *prev = NULL;
	char name[96];
	Agraph_t *row;

	/* Pipes in one row, by channel, left to right: the eye finds pipe k of worker k. */
	viz_name(name, sizeof(name), prefix, "pipes", 0);
	row = agsubg(panel, name, 1);
	viz_set(row, "rank", "same");
	if (m->workers > o->max_workers)
		summary = viz_summary(panel, m, prefix, o);
	for (size_t i = 0; i < m->npipes; i++) {
		if (!viz_worker_shown(m, m->pipes[i].channel, o))
			continue;
		pipe_nodes[i] = viz_pipe_node(row, prefix, &m->pipes[i]);
		if (prev) {
			Agedge_t *e = agedge(g, prev, pipe_nodes[i], NULL, 1);

			viz_set(e, "style", "invis");
		}
		prev = pipe_nodes[i];
	}
	for (size_t i = 0; i < m->nprocs; i++)
		if (viz_worker_shown(m, m->procs[i].worker_index, o))
			viz_process(g, panel, m, &m->procs[i], prefix, o, pipe_nodes, summary);
	free(pipe_nodes);
}

/* The legend; pool says whether to speak of the pool's workers or of any program's processes. */
static void viz_legend(Agraph_t *g, bool pool)
{
	Agnode_t *n = agnode(g, "legend", 1);
	char html[2048];

	viz_set(n, "shape", "plaintext");
	viz_set(n, "class", "legend");
	snprintf(html, sizeof(html),
		 "<TABLE BORDER=\"1\" COLOR=\"#cccccc\" CELLBORDER=\"0\" CELLSPACING=\"2\" CELLPADDING=\"2\">"
		 "<TR><TD COLSPAN=\"2\"><B>legend</B></TD></TR>"
		 "<TR><TD><FONT COLOR=\"" VIZ_BLUE "\">━━▶</FONT></TD><TD ALIGN=\"LEFT\">fd holds a pipe's write end</TD></TR>"
		 "<TR><TD><FONT COLOR=\"" VIZ_GREEN "\">◀━━</FONT></TD><TD ALIGN=\"LEFT\">fd holds a pipe's read end</TD></TR>"
		 "<TR><TD><FONT COLOR=\"" VIZ_RED "\"><B>━━▶</B></FONT></TD><TD ALIGN=\"LEFT\">leaked write end: keeps another %s from EOF</TD></TR>"
		 "<TR><TD><FONT COLOR=\"" VIZ_GREY "\">- - -</FONT></TD><TD ALIGN=\"LEFT\">grey row: foreign fd, not created by the %s</TD></TR>"
		 "<TR><TD><FONT COLOR=\"#aaaaaa\">╌╌</FONT></TD><TD ALIGN=\"LEFT\">dashed box: process already gone</TD></TR>"
		 "</TABLE>",
		 pool ? "worker" : "process", pool ? "pool" : "program");
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
	agattr(g, AGNODE, "fontname", "Helvetica");
	agattr(g, AGNODE, "fontsize", "11");
	agattr(g, AGEDGE, "arrowsize", "0.7");
	return g;
}

Agraph_t *viz_fdgraph_new(const struct viz_model *m, const struct viz_fdgraph_opts *o)
{
	Agraph_t *g = viz_graph_new();
	struct viz_buf b = { 0 };

	viz_caption(&b, m);
	viz_set_html_label(g, b.s);
	free(b.s);
	viz_panel(g, g, m, "", o);
	viz_legend(g, m->strategy[0] != '\0');
	return g;
}

Agraph_t *viz_fdgraph_compare(const struct viz_model *models, size_t n, const struct viz_fdgraph_opts *o)
{
	Agraph_t *g = viz_graph_new();

	viz_set_html_label(g, "<B>pooltrace compare</B>: the same moment of each run, side by side");
	for (size_t i = 0; i < n; i++) {
		char prefix[32], name[48];
		struct viz_buf b = { 0 };
		Agraph_t *panel;

		snprintf(prefix, sizeof(prefix), "r%lld_", (long long)models[i].run_id);
		snprintf(name, sizeof(name), "cluster_run%lld", (long long)models[i].run_id);
		panel = agsubg(g, name, 1);
		viz_caption(&b, &models[i]);
		viz_set_html_label(panel, b.s);
		viz_set(panel, "class", "panel");
		viz_set(panel, "style", "rounded");
		viz_set(panel, "color", "#cccccc");
		free(b.s);
		viz_panel(g, panel, &models[i], prefix, o);
	}
	viz_legend(g, n > 0 && models[0].strategy[0] != '\0');
	return g;
}
