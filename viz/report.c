/* report.c: one self-contained HTML file that steps through a run: the fd graph at each event, the events beside it.
 *
 * The graph is laid out once, by dot, with every process, pipe and pipe fd
 * hold the run ever had (of the workers drawn), so that nothing moves between
 * steps; viz/report.js then shows at each step only what is alive. Each hold
 * is one edge with id h<k>, classes "fd write" or "fd read"; its [from_seq,
 * to_seq) window travels in a JSON block beside the SVG. No file or network
 * is referred to: the SVG, the script and the style are inlined.
 */
#include "viz/report.h"

#include "viz/event_text.h"
#include "viz/fdgraph.h"
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

static const char viz_report_js[] =
#include "report_js.inc"
	;
static const char viz_report_css[] =
#include "report_css.inc"
	;

#define sbuf_printf(b, ...) sbuf_printf((b), __VA_ARGS__)

/* A process drawn in the report. */
struct viz_rproc {
	int pid;
	char name[64];          /* "worker 0", "pool parent", a program's name */
	int64_t from, to, exit; /* shown from fork (0: from the start) until reaped (0: never); exit seq or 0 */
	Agnode_t *node;
};

struct viz_report {
	struct store *st;
	int64_t run;
	const struct viz_fdgraph_opts *o;
	struct viz_model m;     /* the run's own facts, for the title */
	Agraph_t *g;
	Agraph_t *pipes_row, *bottom_row;
	struct viz_rproc *procs;
	size_t nprocs, procs_cap;
	int64_t *shown_pipes;   /* pipe ids drawn, in creation order */
	size_t npipes, pipes_cap;
	struct sbuf json;    /* the holds' windows and the processes' */
	size_t nholds;
	/* A recorded program past o->max_workers processes below its first, or
	 * 2 * o->max_workers pipes: how many of each are left out (as render's
	 * viz_model_cut: dot took minutes over a 300-deep chain's 90k holds). */
	int64_t below, npipes_run;
	size_t cut_procs, cut_pipes;
};

static struct viz_rproc *viz_rproc(struct viz_report *r, int pid)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	return NULL;
}

static bool viz_pipe_drawn(const struct viz_report *r, int64_t pipe_id)
{
	for (size_t i = 0; i < r->npipes; i++)
		if (r->shown_pipes[i] == pipe_id)
			return true;
	return false;
}

/* The processes, top process first, then workers by index / processes in fork order. 0 or -EIO. */
static int viz_report_procs(struct viz_report *r)
{
	sqlite3_stmt *s = store_preparef(r->st, "SELECT pid, role, coalesce(worker_index, -1), %s, coalesce(fork_seq, 0),"
					       " coalesce(reap_seq, 0), coalesce(exit_seq, 0) FROM processes WHERE run_id = ?1"
					       " ORDER BY role = 'worker', worker_index, coalesce(fork_seq, 0), pid",
					 r->m.schema >= 5 ? "coalesce(program, '')" : "''");
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, r->run);
	while ((rc = store_step(r->st, s)) == 1) {
		int index = sqlite3_column_int(s, 2);
		const char *role = viz_col_text(s, 1), *prog = viz_col_text(s, 3), *base = strrchr(prog, '/');
		struct viz_rproc *p;
		char id[32], label[96];

		if (!viz_fdgraph_worker_shown(r->o, r->m.workers, index))
			continue;
		/* A recorded program's k-th process below its first (fork order). */
		if (!r->m.pool && r->nprocs + r->cut_procs > 0 &&
		    !viz_fdgraph_worker_shown(r->o, (int)r->below, (long long)(r->nprocs + r->cut_procs - 1))) {
			r->cut_procs++;
			continue;
		}
		ALLOC_GROW(r->procs, r->nprocs + 1, r->procs_cap, 16);
		p = &r->procs[r->nprocs++];
		*p = (struct viz_rproc){ .pid = sqlite3_column_int(s, 0), .from = sqlite3_column_int64(s, 4),
					 .to = sqlite3_column_int64(s, 5), .exit = sqlite3_column_int64(s, 6) };
		if (!strcmp(role, "parent"))
			snprintf(p->name, sizeof(p->name), "pool parent");
		else if (!strcmp(role, "worker"))
			snprintf(p->name, sizeof(p->name), "worker %d", index);
		else
			snprintf(p->name, sizeof(p->name), "%.40s", *prog ? (base ? base + 1 : prog) : "process");
		snprintf(id, sizeof(id), "p%d", p->pid);
		/* The first is the top process; the others share the bottom row. */
		p->node = agnode(r->nprocs == 1 ? r->g : r->bottom_row, id, 1);
		snprintf(label, sizeof(label), "%s\npid %d", p->name, p->pid);
		viz_set(p->node, "label", label);
		viz_set(p->node, "id", id);
		viz_set(p->node, "class", "process");
		viz_set(p->node, "shape", "box");
		viz_set(p->node, "style", "rounded,filled");
		viz_set(p->node, "fillcolor", "#fafafa");
		sbuf_printf(&r->json, "%s\"%d\":[%lld,%lld,%lld]", r->nprocs == 1 ? "" : ",", p->pid, (long long)p->from,
			    (long long)p->to, (long long)p->exit);
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

/* The pipes of the workers drawn, in one row. 0 or -EIO. */
static int viz_report_pipes(struct viz_report *r)
{
	sqlite3_stmt *s = store_prepare(r->st, "SELECT pipe_id, inode, coalesce(channel, -1) FROM pipes"
					       " WHERE run_id = ?1 ORDER BY pipe_id");
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, r->run);
	while ((rc = store_step(r->st, s)) == 1) {
		struct viz_pipe p = { .pipe_id = sqlite3_column_int64(s, 0), .inode = (uint64_t)sqlite3_column_int64(s, 1),
				      .channel = sqlite3_column_int(s, 2) };

		if (p.channel >= 0 && !viz_fdgraph_worker_shown(r->o, r->m.workers, p.channel))
			continue;
		/* A recorded program's: the first and last max_workers of them. */
		if (!r->m.pool && r->npipes_run > 2 * r->o->max_workers &&
		    r->npipes + r->cut_pipes >= (size_t)r->o->max_workers &&
		    (int64_t)(r->npipes + r->cut_pipes) < r->npipes_run - r->o->max_workers) {
			r->cut_pipes++;
			continue;
		}
		ALLOC_GROW(r->shown_pipes, r->npipes + 1, r->pipes_cap, 16);
		r->shown_pipes[r->npipes++] = p.pipe_id;
		{
			Agnode_t *n = viz_fdgraph_pipe_node(r->pipes_row, "", &p);

			viz_set(n, "id", agnameof(n)); /* pipe<id>: what report.js looks for */
		}
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

/*
 * One edge per fd_holds row between a drawn process and a drawn pipe: from
 * the top process down into the pipe's end, or up from the pipe's end to a
 * process below it (drawn reversed, so every arrow points at the pipe).
 * 0 or -EIO.
 */
static int viz_report_holds(struct viz_report *r)
{
	/*
	 * fd_holds' rows, with leaked_write_ends' rule for the red ones. Only
	 * the drawn processes' (each one range of the key): sorting every hold
	 * of a 1000-worker run by from_seq took 0.4 s, for the 6000 drawn.
	 */
	struct sbuf drawn = { 0 };
	sqlite3_stmt *s;
	int rc;

	for (size_t i = 0; i < r->nprocs; i++)
		sbuf_printf(&drawn, "%s%d", i ? ", " : "", r->procs[i].pid);
	s = store_preparef(r->st, "SELECT pid, fd, pipe_id, pipe_end, from_seq, coalesce(to_seq, 0), %s"
				  " FROM holds WHERE run_id = ?1 AND pipe_id IS NOT NULL AND pid IN (%s)"
				  " ORDER BY from_seq, pid, fd",
			   r->m.schema >= 5 ? "pipe_end = 'write' AND from_kind = 'inherit' AND touched_seq IS NULL" : "0",
			   drawn.s ? drawn.s : "NULL");
	sbuf_release(&drawn);
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, r->run);
	sbuf_printf(&r->json, "},\"holds\":[");
	while ((rc = store_step(r->st, s)) == 1) {
		struct viz_rproc *p = viz_rproc(r, sqlite3_column_int(s, 0));
		int64_t pipe = sqlite3_column_int64(s, 2);
		bool write = !strcmp(viz_col_text(s, 3), "write");
		char name[32], fd[16];
		Agnode_t *pn;
		Agedge_t *e;

		if (!p || !viz_pipe_drawn(r, pipe))
			continue;
		snprintf(name, sizeof(name), "pipe%lld", (long long)pipe);
		pn = agnode(r->g, name, 0);
		assert(pn);
		snprintf(name, sizeof(name), "h%zu", r->nholds);
		snprintf(fd, sizeof(fd), "fd %d", sqlite3_column_int(s, 1));
		if (p == &r->procs[0]) {
			e = agedge(r->g, p->node, pn, name, 1);
			viz_set(e, "headport", write ? "w:n" : "r:n");
			viz_set(e, "taillabel", fd);
		} else {
			e = agedge(r->g, pn, p->node, name, 1);
			viz_set(e, "tailport", write ? "w:s" : "r:s");
			viz_set(e, "dir", "back");
			viz_set(e, "headlabel", fd);
		}
		viz_set(e, "id", name);
		if (sqlite3_column_int(s, 6)) {
			viz_set(e, "class", "fd write leaked");
			viz_set(e, "color", "#d62728");
			viz_set(e, "penwidth", "2.5");
		} else {
			viz_set(e, "class", write ? "fd write" : "fd read");
			viz_set(e, "color", write ? "#1f5fbf" : "#2a9d3a");
		}
		viz_set(e, "fontcolor", agget(e, "color"));
		sbuf_printf(&r->json, "%s[%lld,%lld,%d,%lld]", r->nholds ? "," : "", (long long)sqlite3_column_int64(s, 4),
			    (long long)sqlite3_column_int64(s, 5), p->pid, (long long)pipe);
		r->nholds++;
	}
	sqlite3_finalize(s);
	sbuf_printf(&r->json, "]}");
	return rc < 0 ? -EIO : 0;
}

/*
 * record --stacks: the statement that gives one event's frames, innermost
 * first; NULL when the run has none (a run without --stacks, or a file from
 * before schema 12, pays one lookup). *rc is -EIO on an error.
 */
static sqlite3_stmt *viz_report_stacks(struct viz_report *r, int *rc)
{
	sqlite3_stmt *q;
	int64_t have = 0;

	*rc = 0;
	if (store_int(r->st, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'event_stacks'", 0, 0,
		      &have) < 0 ||
	    (have && store_int(r->st, "SELECT EXISTS (SELECT 1 FROM event_stacks WHERE run_id = ?1)", r->run, 0, &have) < 0)) {
		*rc = -EIO;
		return NULL;
	}
	if (!have)
		return NULL;
	if (!(q = store_prepare(r->st, "SELECT f.frame, f.function, f.file, f.line, f.module, f.module_offset"
				       " FROM event_stacks s JOIN stack_frames f ON f.run_id = s.run_id AND f.stack_id = s.stack_id"
				       " WHERE s.run_id = ?1 AND s.seq = ?2 ORDER BY f.frame")))
		*rc = -EIO;
	else
		sqlite3_bind_int64(q, 1, r->run);
	return q;
}

/* The frames of event seq, one line each, in a block the style shows for the current event only. */
static int viz_report_stack(struct viz_report *r, sqlite3_stmt *q, int64_t seq, struct sbuf *html)
{
	bool any = false;
	int rc;

	sqlite3_bind_int64(q, 2, seq);
	while ((rc = store_step(r->st, q)) == 1) {
		const char *fn = (const char *)sqlite3_column_text(q, 1), *file = (const char *)sqlite3_column_text(q, 2);
		const char *mod = (const char *)sqlite3_column_text(q, 4), *base = mod && strrchr(mod, '/') ? strrchr(mod, '/') + 1 : mod;
		char line[96];

		sbuf_printf(html, "%s#%d ", any ? "\n" : "<pre class=\"stack\">", sqlite3_column_int(q, 0));
		any = true;
		viz_html_escape(html, fn ? fn : "??");
		if (file) {
			sbuf_printf(html, " at ");
			viz_html_escape(html, file);
			snprintf(line, sizeof(line), ":%d", sqlite3_column_int(q, 3));
			sbuf_printf(html, "%s", line);
		}
		sbuf_printf(html, " (");
		viz_html_escape(html, base ? base : "?");
		sbuf_printf(html, "+0x%llx)", (unsigned long long)sqlite3_column_int64(q, 5));
	}
	sqlite3_reset(q);
	if (any)
		sbuf_printf(html, "</pre>");
	return rc < 0 ? -EIO : 0;
}

/*
 * The event list: every event but the per-task ones, inheritance (the fork
 * stands for it) and closes of fds nothing followed (VIZ_EVENT_SHOWN). 0 or
 * -EIO.
 */
static int viz_report_events(struct viz_report *r, struct sbuf *html)
{
	sqlite3_stmt *s = store_prepare(r->st, "SELECT " VIZ_EVENT_COLUMNS " FROM events e WHERE run_id = ?1"
					       " AND kind NOT IN ('write', 'read', 'task', 'inherit') AND " VIZ_EVENT_SHOWN
					       " ORDER BY seq");
	sqlite3_stmt *frames;
	int64_t supervisor;
	int rc;

	if (!s)
		return -EIO;
	frames = viz_report_stacks(r, &rc);
	if (rc < 0 || store_int(r->st, "SELECT supervisor_pid FROM runs WHERE id = ?1", r->run, 0, &supervisor) < 0) {
		sqlite3_finalize(frames);
		sqlite3_finalize(s);
		return -EIO;
	}
	sqlite3_bind_int64(s, 1, r->run);
	sbuf_printf(html, "<ol id=\"events\">\n");
	while ((rc = store_step(r->st, s)) == 1) {
		int pid = sqlite3_column_int(s, 1);
		const struct viz_rproc *p = viz_rproc(r, pid);
		char who[64], text[192];

		viz_event_text(s, text, sizeof(text));
		if (!strcmp(viz_col_text(s, 2), "fork")) {
			/* A fork event is the child's; it reads as the parent's act. */
			const struct viz_rproc *child = p;

			pid = sqlite3_column_int(s, 7);
			p = viz_rproc(r, pid);
			if (child)
				snprintf(text, sizeof(text), "fork → %s (pid %d)", child->name, child->pid);
			else
				snprintf(text, sizeof(text), "fork → pid %d", sqlite3_column_int(s, 1));
		}
		if (p)
			snprintf(who, sizeof(who), "%s", p->name);
		else if (pid == supervisor)
			snprintf(who, sizeof(who), "pooltrace");
		else
			snprintf(who, sizeof(who), "pid %d", pid);
		sbuf_printf(html, "<li value=\"%lld\" data-seq=\"%lld\" data-pid=\"%d\" class=\"%s\">",
			    (long long)sqlite3_column_int64(s, 0), (long long)sqlite3_column_int64(s, 0), pid,
			    viz_col_text(s, 2));
		viz_html_escape(html, who);
		sbuf_printf(html, ": ");
		viz_html_escape(html, text);
		if (frames && viz_report_stack(r, frames, sqlite3_column_int64(s, 0), html) < 0) {
			rc = -1;
			break;
		}
		sbuf_printf(html, "</li>\n");
	}
	sqlite3_finalize(frames);
	sqlite3_finalize(s);
	sbuf_printf(html, "</ol>\n");
	return rc < 0 ? -EIO : 0;
}

static void viz_report_release(struct viz_report *r)
{
	if (r->g)
		agclose(r->g);
	viz_model_release(&r->m);
	free(r->procs);
	free(r->shown_pipes);
	sbuf_release(&r->json);
}

int viz_report_html(struct store *st, int64_t run, const struct viz_fdgraph_opts *o, char **out, size_t *out_len)
{
	struct viz_report r = { .st = st, .run = run, .o = o };
	struct sbuf html = { 0 };
	const char *svg_start;
	char *svg = NULL;
	size_t svg_len;
	int rc;

	*out = NULL;
	*out_len = 0;
	/* The run's facts only: the whole run is drawn, no moment of it is loaded. */
	if ((rc = viz_model_load_run(st, run, &r.m)) < 0)
		return rc;
	r.g = agopen("report", Agdirected, NULL);
	viz_set(r.g, "rankdir", "TB");
	viz_set(r.g, "fontname", "Helvetica");
	viz_set(r.g, "nodesep", "0.3");
	viz_set(r.g, "ranksep", "1.1");
	agattr(r.g, AGNODE, "fontname", "Helvetica");
	agattr(r.g, AGNODE, "fontsize", "11");
	agattr(r.g, AGEDGE, "fontname", "Helvetica");
	agattr(r.g, AGEDGE, "fontsize", "9");
	agattr(r.g, AGEDGE, "arrowsize", "0.7");
	r.pipes_row = agsubg(r.g, "pipes_row", 1);
	viz_set(r.pipes_row, "rank", "same");
	r.bottom_row = agsubg(r.g, "bottom_row", 1);
	viz_set(r.bottom_row, "rank", "max");
	if (store_int(st, "SELECT count(*) - 1 FROM processes WHERE run_id = ?1", run, 0, &r.below) < 0 ||
	    store_int(st, "SELECT count(*) FROM pipes WHERE run_id = ?1", run, 0, &r.npipes_run) < 0) {
		rc = -EIO;
		goto out;
	}
	sbuf_printf(&r.json, "{\"procs\":{");
	if ((rc = viz_report_procs(&r)) < 0 || (rc = viz_report_pipes(&r)) < 0 || (rc = viz_report_holds(&r)) < 0)
		goto out;
	if ((rc = viz_output_data(r.g, "svg", &svg, &svg_len)) < 0)
		goto out;
	/* The picture without its XML prolog and doctype: it is inlined. */
	svg_start = strstr(svg, "<svg");
	assert(svg_start);

	sbuf_printf(&html, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>pooltrace report: run %lld</title>\n"
			   "<style>\n%s</style>\n</head>\n<body>\n<header><h1>pooltrace report · run %lld · ",
		   (long long)run, viz_report_css, (long long)run);
	viz_html_escape(&html, r.m.pool ? r.m.strategy : viz_command_short(r.m.command));
	sbuf_printf(&html, " · outcome: ");
	viz_html_escape(&html, r.m.outcome[0] ? r.m.outcome : "unfinished");
	if (r.m.incomplete[0]) {
		sbuf_printf(&html, " · <span class=\"incomplete\">incomplete: ");
		viz_html_escape(&html, r.m.incomplete);
		sbuf_printf(&html, "</span>");
	}
	if (r.cut_procs || r.cut_pipes)
		sbuf_printf(&html, " · <span class=\"cut\">cut: %zu of %lld processes and %zu of %lld pipes not drawn"
				   " (past --max-workers %d)</span>", r.cut_procs, (long long)r.below + 1, r.cut_pipes,
			   (long long)r.npipes_run, r.o->max_workers);
	sbuf_printf(&html, "</h1><button id=\"prev\" title=\"previous event (←)\">◀ back</button>"
			   "<button id=\"next\" title=\"next event (→)\">forward ▶</button><span id=\"where\"></span>"
			   " · arrow keys step; #seq=N opens event N</header>\n<main>\n<div id=\"graph\">\n");
	sbuf_printf(&html, "%.*s</div>\n", (int)(svg_len - (size_t)(svg_start - svg)), svg_start);
	if ((rc = viz_report_events(&r, &html)) < 0)
		goto out;
	/* JSON inside <script>: nothing in it can close the element (numbers and pid keys only). */
	sbuf_printf(&html, "</main>\n<script type=\"application/json\" id=\"report-data\">%s</script>\n<script>\n%s</script>\n"
			   "</body></html>\n", r.json.s, viz_report_js);
	*out = html.s;
	*out_len = html.len;
	html.s = NULL;
out:
	viz_output_free(svg);
	sbuf_release(&html);
	viz_report_release(&r);
	return rc;
}
