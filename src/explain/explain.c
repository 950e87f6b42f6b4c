/* explain.c: reads a stored run and works out its diagnosis: the wait-for cycles (one per separate deadlock), the leaked write ends by pipe, whom they blocked, and which rules fit.
 *
 * Any source (pool, record, snapshot, attach) and any size: a 1000-worker naive run
 * has half a million leaked write ends and as many wait-for edges, so every
 * table is read with one set query (no query per row), in the order its key
 * gives, and grouped here: sorted arrays and binary search, O(n log n).
 *
 * Invariants once explain_load returns 0: procs sorted by pid; hangs by
 * seq, each with its holders[holder0 .. holder0 + nholders); leaks sorted
 * by pipe, then by their holder's fork order, then fd; groups by pipe, each
 * a range of leaks; nleaks and nblockers are the counts of the
 * leaked_write_ends and eof_blockers views for the run; cycles are
 * disjoint, one per strongly connected part of the wait-for graph of two or
 * more processes.
 */
#include "explain/explain.h"

#include "store/store.h"
#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static char *explain_col_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? xstrdup((const char *)t) : NULL;
}

static int64_t explain_col_int(sqlite3_stmt *s, int col, int64_t def)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? def : sqlite3_column_int64(s, col);
}

static int explain_cmp_proc_pid(const void *a, const void *b)
{
	const struct explain_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

const struct explain_proc *explain_proc_find(const struct explain *x, int pid)
{
	struct explain_proc key = { .pid = pid };

	return x->nprocs ? bsearch(&key, x->procs, x->nprocs, sizeof(key), explain_cmp_proc_pid) : NULL;
}

static int explain_rank(const struct explain *x, int pid)
{
	const struct explain_proc *p = explain_proc_find(x, pid);

	return p ? p->rank : (int)x->nprocs + (pid & 0xffffff);
}

/* Prepares sql with ?1 bound to the run; NULL with the error printed. */
static sqlite3_stmt *explain_query(struct store *st, int64_t run, const char *sql)
{
	sqlite3_stmt *s = store_prepare(st, sql);

	if (s)
		sqlite3_bind_int64(s, 1, run);
	return s;
}

/* ---- the run and its processes ---- */

static int explain_load_run(struct store *st, struct explain *x)
{
	sqlite3_stmt *s = explain_query(st, x->run,
		"SELECT source, command, strategy, workers, tasks, outcome, exit_status, io_events, started_ns,"
		" ended_ns, incomplete, failure, supervisor_pid FROM runs WHERE id = ?1");
	int rc;

	if (!s)
		return -EIO;
	rc = store_step(st, s);
	if (rc == 1) {
		x->source = explain_col_text(s, 0);
		x->command = explain_col_text(s, 1);
		x->strategy = explain_col_text(s, 2);
		x->workers = explain_col_int(s, 3, -1);
		x->tasks = explain_col_int(s, 4, -1);
		x->outcome = explain_col_text(s, 5);
		x->exit_status = explain_col_int(s, 6, -1);
		x->io_events = explain_col_int(s, 7, 0) != 0;
		x->started_ns = explain_col_int(s, 8, 0);
		x->ended_ns = explain_col_int(s, 9, -1);
		x->incomplete = explain_col_text(s, 10);
		x->failure = explain_col_text(s, 11);
		x->supervisor_pid = (int)explain_col_int(s, 12, 0);
	} else if (rc == 0) {
		error("%s: no run %lld", store_path(st), (long long)x->run);
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : rc == 0 ? -EINVAL : 0;
}

static int explain_load_procs(struct store *st, struct explain *x)
{
	sqlite3_stmt *s = explain_query(st, x->run,
		"SELECT pid, role, worker_index, program, ppid, fork_seq, reap_seq FROM processes"
		" WHERE run_id = ?1 ORDER BY fork_seq, pid");
	size_t cap = 0;
	int rc;

	if (!s)
		return -EIO;
	while ((rc = store_step(st, s)) == 1) {
		struct explain_proc *p;
		const char *role = (const char *)sqlite3_column_text(s, 1);
		char *prog = explain_col_text(s, 3);

		ALLOC_GROW(x->procs, x->nprocs + 1, cap, 64);
		p = &x->procs[x->nprocs];
		memset(p, 0, sizeof(*p));
		p->pid = (int)sqlite3_column_int64(s, 0);
		p->role = role && !strcmp(role, "parent") ? EXPLAIN_PARENT
			  : role && !strcmp(role, "worker") ? EXPLAIN_WORKER : EXPLAIN_PROCESS;
		p->worker = (int)explain_col_int(s, 2, -1);
		if (prog) {
			const char *slash = strrchr(prog, '/');

			p->program = xstrdup(slash && slash[1] ? slash + 1 : prog);
			free(prog);
		}
		p->ppid = (int)explain_col_int(s, 4, 0);
		p->fork_seq = explain_col_int(s, 5, -1);
		p->reap_seq = explain_col_int(s, 6, -1);
		p->rank = (int)x->nprocs;
		p->hang = -1;
		x->nprocs++;
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	if (x->nprocs)
		qsort(x->procs, x->nprocs, sizeof(*x->procs), explain_cmp_proc_pid);
	/* A process that never exec'd runs its parent's program. */
	for (size_t i = 0; i < x->nprocs; i++) {
		const struct explain_proc *a = &x->procs[i];

		for (int depth = 0; !x->procs[i].program && depth < 64; depth++) {
			if (!(a = explain_proc_find(x, a->ppid)) || a == &x->procs[i])
				break;
			if (a->program)
				x->procs[i].program = xstrdup(a->program);
		}
	}
	return 0;
}

/* ---- the deadlock's evidence: hang events and the holders of what would wake them ---- */

static int explain_cmp_holder(const void *a, const void *b)
{
	const struct explain_holder *x = a, *y = b;

	if (x->seq != y->seq)
		return (x->seq > y->seq) - (x->seq < y->seq);
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void explain_hang_call(const char *detail, char *call, size_t len)
{
	const char *p = detail ? strstr(detail, "syscall=") : NULL;
	size_t n;

	call[0] = '\0';
	if (!p)
		return;
	p += 8;
	n = strcspn(p, " ");
	if (n >= len)
		n = len - 1;
	memcpy(call, p, n);
	call[n] = '\0';
}

static int explain_load_hangs(struct store *st, struct explain *x)
{
	sqlite3_stmt *s = explain_query(st, x->run,
		"SELECT seq, pid, fd, pipe_id, pipe_end, other_pid, result, arg, detail"
		" FROM event_rows INDEXED BY event_rows_hangs WHERE run_id = ?1 AND kind = 'hang' ORDER BY seq");
	size_t cap = 0, h = 0;
	int rc;

	if (!s)
		return -EIO;
	while ((rc = store_step(st, s)) == 1) {
		struct explain_hang *e;
		const char *end = (const char *)sqlite3_column_text(s, 4);
		struct explain_proc *p;

		ALLOC_GROW(x->hangs, x->nhangs + 1, cap, 64);
		e = &x->hangs[x->nhangs];
		memset(e, 0, sizeof(*e));
		e->seq = sqlite3_column_int64(s, 0);
		e->pid = (int)sqlite3_column_int64(s, 1);
		e->fd = (int)explain_col_int(s, 2, -1);
		e->pipe_id = explain_col_int(s, 3, -1);
		e->end = !end ? 0 : !strcmp(end, "read") ? 'r' : !strcmp(end, "write") ? 'w' : !strcmp(end, "socket") ? 's' : 0;
		e->child_wait = sqlite3_column_type(s, 5) != SQLITE_NULL;
		e->other_pid = (int)explain_col_int(s, 5, 0);
		e->queued = explain_col_int(s, 6, -1);
		e->capacity = explain_col_int(s, 7, -1);
		explain_hang_call((const char *)sqlite3_column_text(s, 8), e->call, sizeof(e->call));
		{
			const char *d = (const char *)sqlite3_column_text(s, 8), *t;

			if (d && !strncmp(d, "tid=", 4))
				e->tid = atoi(d + 4);
			if (d && (t = strstr(d, "joins=")))
				e->joins = atoi(t + 6);
		}
		if ((p = (struct explain_proc *)explain_proc_find(x, e->pid)) && p->hang < 0)
			p->hang = (int64_t)x->nhangs;
		x->nhangs++;
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;

	s = explain_query(st, x->run, "SELECT seq, holder_pid, holder_fd FROM hang_holders WHERE run_id = ?1");
	cap = 0;
	if (!s)
		return -EIO;
	while ((rc = store_step(st, s)) == 1) {
		ALLOC_GROW(x->holders, x->nholders + 1, cap, 64);
		x->holders[x->nholders++] = (struct explain_holder){
			.seq = sqlite3_column_int64(s, 0),
			.pid = (int)sqlite3_column_int64(s, 1),
			.fd = (int)sqlite3_column_int64(s, 2),
		};
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	if (x->nholders)
		qsort(x->holders, x->nholders, sizeof(*x->holders), explain_cmp_holder);
	for (size_t i = 0; i < x->nhangs; i++) {
		while (h < x->nholders && x->holders[h].seq < x->hangs[i].seq)
			h++;
		x->hangs[i].holder0 = h;
		while (h < x->nholders && x->holders[h].seq == x->hangs[i].seq)
			h++;
		x->hangs[i].nholders = h - x->hangs[i].holder0;
	}
	return 0;
}

/* Whether hang event h waits for process pid (a holder of the end that would wake it, or the child it waits for). */
bool explain_waits_for(const struct explain *x, const struct explain_hang *h, const struct explain_proc *v)
{
	if (v->pid == h->pid)
		return false;
	if (h->child_wait) {
		if (h->other_pid > 0)
			return v->pid == h->other_pid;
		return v->ppid == h->pid && v->fork_seq < h->seq && (v->reap_seq < 0 || v->reap_seq > h->seq);
	}
	for (size_t i = h->holder0; i < h->holder0 + h->nholders; i++)
		if (x->holders[i].pid == v->pid)
			return true;
	return false;
}

/*
 * The strongly connected parts of a graph (Tarjan's, with its own stack
 * instead of recursion: a chain of a thousand waits is as deep). comp[v]
 * gets v's part; the number of parts is returned.
 */
static size_t explain_scc(size_t n, const size_t *start, const int *adj, int *comp)
{
	int *index = xmalloc(n * sizeof(*index)), *low = xmalloc(n * sizeof(*low));
	int *stack = xmalloc(n * sizeof(*stack)), *calls = xmalloc(n * sizeof(*calls));
	size_t *next = xmalloc(n * sizeof(*next)), nstack = 0, ncomp = 0;
	bool *on = xcalloc(n, sizeof(*on));
	int idx = 0;

	for (size_t i = 0; i < n; i++)
		index[i] = -1;
	for (size_t r = 0; r < n; r++) {
		size_t ncalls = 0;

		if (index[r] >= 0)
			continue;
		index[r] = low[r] = idx++;
		stack[nstack++] = (int)r;
		on[r] = true;
		next[r] = start[r];
		calls[ncalls++] = (int)r;
		while (ncalls) {
			int v = calls[ncalls - 1];

			if (next[v] < start[v + 1]) {
				int w = adj[next[v]++];

				if (index[w] < 0) {
					index[w] = low[w] = idx++;
					stack[nstack++] = w;
					on[w] = true;
					next[w] = start[w];
					calls[ncalls++] = w;
				} else if (on[w] && index[w] < low[v])
					low[v] = index[w];
				continue;
			}
			ncalls--;
			if (low[v] == index[v]) {
				int w;

				do {
					w = stack[--nstack];
					on[w] = false;
					comp[w] = (int)ncomp;
				} while (w != v);
				ncomp++;
			}
			if (ncalls && low[v] < low[calls[ncalls - 1]])
				low[calls[ncalls - 1]] = low[v];
		}
	}
	free(index);
	free(low);
	free(stack);
	free(calls);
	free(next);
	free(on);
	return ncomp;
}

/*
 * The wait-for graph of processes (as the wait_for view has it), and one
 * cycle for each of its strongly connected parts of two or more: each part
 * is a deadlock of its own, as no way of waits leads from one part to
 * another and back (two hung pools in one program, or a snapshot of two hung
 * trees). Each cycle is the shortest way
 * round through its part's earliest-forked process (breadth-first within the
 * part), and the cycles go in the order of those processes, so the first is
 * the one a single cycle was before.
 */
static void explain_find_cycle(struct explain *x)
{
	size_t n = x->nprocs, nedges = 0, *start, *fill = NULL, ncomp, ncycles = 0;
	int *adj = NULL, *parent, *queue, *byrank, *comp, *size;
	bool *told;

	if (!n || !x->nhangs)
		return;
	start = xcalloc(n + 1, sizeof(*start));
	/* Edges of every hang event of each process (its threads), by proc index. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t hi = 0; hi < x->nhangs; hi++) {
			const struct explain_hang *h = &x->hangs[hi];
			const struct explain_proc *u = explain_proc_find(x, h->pid);
			size_t ui;

			if (!u)
				continue;
			ui = (size_t)(u - x->procs);
			if (h->child_wait) {
				for (size_t v = 0; v < n; v++)
					if (explain_waits_for(x, h, &x->procs[v])) {
						if (pass)
							adj[fill[ui]++] = (int)v;
						else
							start[ui + 1]++, nedges++;
					}
				continue;
			}
			for (size_t k = h->holder0; k < h->holder0 + h->nholders; k++) {
				const struct explain_proc *v = explain_proc_find(x, x->holders[k].pid);

				if (!v || v == u)
					continue;
				if (pass)
					adj[fill[ui]++] = (int)(v - x->procs);
				else
					start[ui + 1]++, nedges++;
			}
		}
		if (!pass) {
			for (size_t i = 0; i < n; i++)
				start[i + 1] += start[i];
			adj = xmalloc((nedges + 1) * sizeof(*adj));
			fill = xmalloc((n + 1) * sizeof(*fill));
			memcpy(fill, start, (n + 1) * sizeof(*fill));
		}
	}
	comp = xmalloc(n * sizeof(*comp));
	ncomp = explain_scc(n, start, adj, comp);
	size = xcalloc(ncomp, sizeof(*size));
	told = xcalloc(ncomp, sizeof(*told));
	for (size_t i = 0; i < n; i++)
		size[comp[i]]++;
	for (size_t c = 0; c < ncomp; c++)
		ncycles += size[c] >= 2;
	/* Self-edges are left out above, so a part of one process is never a cycle. */
	if (ncycles)
		x->cycles = xcalloc(ncycles, sizeof(*x->cycles));
	parent = xmalloc(n * sizeof(*parent));
	queue = xmalloc(n * sizeof(*queue));
	byrank = xmalloc(n * sizeof(*byrank));
	for (size_t i = 0; i < n; i++) {
		byrank[x->procs[i].rank] = (int)i;
		parent[i] = -2;
	}
	for (size_t r = 0; r < n && x->ncycles < ncycles; r++) {
		int s = byrank[r], c = comp[s], qh = 0, qt = 0, last = -1;
		struct explain_cycle *cy;

		if (size[c] < 2 || told[c])
			continue;
		told[c] = true;
		parent[s] = -1;
		queue[qt++] = s;
		while (qh < qt && last < 0) {
			int u = queue[qh++];

			for (size_t e = start[u]; e < start[u + 1]; e++) {
				int v = adj[e];

				if (v == s) {
					last = u;
					break;
				}
				/* A way back to s never leaves its part: the rest is not searched. */
				if (parent[v] == -2 && comp[v] == c) {
					parent[v] = u;
					queue[qt++] = v;
				}
			}
		}
		assert(last >= 0); /* s is in a part of two or more, so some way leads back to it */
		cy = &x->cycles[x->ncycles++];
		for (int v = last; v >= 0; v = parent[v])
			cy->n++;
		cy->procs = xmalloc(cy->n * sizeof(*cy->procs));
		{
			size_t k = cy->n;

			for (int v = last; v >= 0; v = parent[v])
				cy->procs[--k] = v;
		}
		for (int q = 0; q < qt; q++)
			parent[queue[q]] = -2;
	}
	free(start);
	free(fill);
	free(adj);
	free(parent);
	free(queue);
	free(byrank);
	free(comp);
	free(size);
	free(told);
}

/* ---- leaked write ends, grouped by pipe ---- */

struct explain_exec { int pid; int64_t seq; };

static int explain_cmp_exec(const void *a, const void *b)
{
	const struct explain_exec *x = a, *y = b;

	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* By pipe, then the holder's fork order (ctx: the explain, for the ranks), then fd. */
static int explain_cmp_leak(const void *a, const void *b, void *ctx)
{
	const struct explain_leak *x = a, *y = b;
	int rx, ry;

	if (x->pipe_id != y->pipe_id)
		return (x->pipe_id > y->pipe_id) - (x->pipe_id < y->pipe_id);
	rx = explain_rank(ctx, x->pid);
	ry = explain_rank(ctx, y->pid);
	if (rx != ry)
		return (rx > ry) - (rx < ry);
	if (x->fd != y->fd)
		return (x->fd > y->fd) - (x->fd < y->fd);
	return (x->from_seq > y->from_seq) - (x->from_seq < y->from_seq);
}

static int explain_load_leaks(struct store *st, struct explain *x)
{
	/* leaked_write_ends' own condition, with the hold's window beside it. */
	sqlite3_stmt *s = explain_query(st, x->run,
		"SELECT pipe_id, pid, fd, from_seq, to_seq FROM holds"
		" WHERE run_id = ?1 AND pipe_id IS NOT NULL AND from_kind = 'inherit' AND touched_seq IS NULL"
		" AND (pipe_end = 'write' OR (pipe_end = 'socket' AND ?2))");
	struct explain_exec *execs = NULL;
	size_t cap = 0, nexecs = 0;
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int(s, 2, x->io_events);
	while ((rc = store_step(st, s)) == 1) {
		ALLOC_GROW(x->leaks, x->nleaks + 1, cap, 64);
		x->leaks[x->nleaks++] = (struct explain_leak){
			.pipe_id = sqlite3_column_int64(s, 0),
			.pid = (int)sqlite3_column_int64(s, 1),
			.fd = (int)sqlite3_column_int64(s, 2),
			.from_seq = sqlite3_column_int64(s, 3),
			.to_seq = explain_col_int(s, 4, -1),
			.exec_seq = -1,
		};
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;

	/* The execs, to tell which leaks survived one, and pooltrace's first kill. */
	s = explain_query(st, x->run, "SELECT pid, seq, kind FROM event_rows WHERE run_id = ?1 AND kind IN ('exec', 'kill')");
	cap = 0;
	x->killed_seq = -1;
	if (!s)
		return -EIO;
	while ((rc = store_step(st, s)) == 1) {
		int64_t seq = sqlite3_column_int64(s, 1);

		if (!strcmp((const char *)sqlite3_column_text(s, 2), "kill")) {
			if (x->killed_seq < 0 || seq < x->killed_seq)
				x->killed_seq = seq;
			continue;
		}
		ALLOC_GROW(execs, nexecs + 1, cap, 64);
		execs[nexecs++] = (struct explain_exec){ (int)sqlite3_column_int64(s, 0), seq };
	}
	sqlite3_finalize(s);
	if (rc < 0) {
		free(execs);
		return -EIO;
	}
	if (nexecs) {
		qsort(execs, nexecs, sizeof(*execs), explain_cmp_exec);
		for (size_t i = 0; i < x->nleaks; i++) {
			struct explain_leak *l = &x->leaks[i];
			size_t lo = 0, hi = nexecs;

			/* The first exec of its holder after the hold began. */
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;

				if (execs[mid].pid < l->pid || (execs[mid].pid == l->pid && execs[mid].seq <= l->from_seq))
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < nexecs && execs[lo].pid == l->pid && (l->to_seq < 0 || execs[lo].seq < l->to_seq))
				l->exec_seq = execs[lo].seq;
		}
	}
	free(execs);
	if (x->nleaks)
		qsort_r(x->leaks, x->nleaks, sizeof(*x->leaks), explain_cmp_leak, x);
	return 0;
}

/* The run's socketpair ends and their peers, so a socket's leak and wait are worded as such. */
static int explain_load_peers(struct store *st, struct explain *x)
{
	sqlite3_stmt *s = explain_query(st, x->run,
		"SELECT pipe_id, peer_id FROM pipes WHERE run_id = ?1 AND kind = 'socket' ORDER BY pipe_id");
	size_t cap = 0;
	int rc;

	if (!s)
		return -EIO;
	while ((rc = store_step(st, s)) == 1) {
		ALLOC_GROW(x->peers, x->npeers + 1, cap, 64);
		x->peers[x->npeers++] = (struct explain_peer){ sqlite3_column_int64(s, 0), explain_col_int(s, 1, -1) };
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

int64_t explain_peer_of(const struct explain *x, int64_t pipe_id)
{
	for (size_t lo = 0, hi = x->npeers; lo < hi;) {
		size_t mid = (lo + hi) / 2;

		if (x->peers[mid].pipe_id < pipe_id)
			lo = mid + 1;
		else if (x->peers[mid].pipe_id > pipe_id)
			hi = mid;
		else
			return x->peers[mid].peer_id;
	}
	return -1;
}

static int explain_group_pipes(struct store *st, struct explain *x)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	for (size_t i = 0; i < x->nleaks;) {
		struct explain_group *g;
		size_t j = i;

		ALLOC_GROW(x->groups, x->ngroups + 1, cap, 64);
		g = &x->groups[x->ngroups++];
		memset(g, 0, sizeof(*g));
		g->pipe_id = x->leaks[i].pipe_id;
		g->peer_id = explain_peer_of(x, g->pipe_id);
		g->leak0 = i;
		g->close_seq = -1;
		g->creator = 0;
		g->created_seq = -1;
		for (; j < x->nleaks && x->leaks[j].pipe_id == g->pipe_id; j++)
			g->survived_exec += x->leaks[j].exec_seq >= 0;
		g->nleaks = j - i;
		i = j;
	}
	if (!x->ngroups)
		return 0;
	s = explain_query(st, x->run, "SELECT pipe_id, created_by, created_seq FROM pipes WHERE run_id = ?1 ORDER BY pipe_id");
	if (!s)
		return -EIO;
	for (size_t g = 0; (rc = store_step(st, s)) == 1;) {
		int64_t id = sqlite3_column_int64(s, 0);

		while (g < x->ngroups && x->groups[g].pipe_id < id)
			g++;
		if (g < x->ngroups && x->groups[g].pipe_id == id) {
			x->groups[g].creator = (int)sqlite3_column_int64(s, 1);
			x->groups[g].created_seq = sqlite3_column_int64(s, 2);
		}
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

static struct explain_group *explain_group_find(struct explain *x, int64_t pipe_id)
{
	size_t lo = 0, hi = x->ngroups;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (x->groups[mid].pipe_id < pipe_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->ngroups && x->groups[lo].pipe_id == pipe_id ? &x->groups[lo] : NULL;
}

/* The leak of group g held by pid on fd over seq, or NULL. */
static struct explain_leak *explain_leak_find(struct explain *x, const struct explain_group *g, int pid, int fd, int64_t seq)
{
	int rank = explain_rank(x, pid);
	size_t lo = g->leak0, hi = g->leak0 + g->nleaks;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct explain_leak *l = &x->leaks[mid];
		int r = explain_rank(x, l->pid);

		if (r < rank || (r == rank && l->fd < fd))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < g->leak0 + g->nleaks && x->leaks[lo].pid == pid && x->leaks[lo].fd == fd; lo++)
		if (x->leaks[lo].from_seq < seq && (x->leaks[lo].to_seq < 0 || x->leaks[lo].to_seq > seq))
			return &x->leaks[lo];
	return NULL;
}

/*
 * The readers a group's first give-up left waiting, from sql's rows (the
 * group's pipe_id, a holder's pid, its hold's from_seq and to_seq): the
 * first few holders then that do not also hold a leak of it. 0 or -EIO.
 */
static int explain_load_readers(struct store *st, struct explain *x, const char *sql)
{
	sqlite3_stmt *s = explain_query(st, x->run, sql);
	int rc;

	if (!s)
		return -EIO;
	while ((rc = store_step(st, s)) == 1) {
		struct explain_group *g = explain_group_find(x, sqlite3_column_int64(s, 0));
		int pid = (int)sqlite3_column_int64(s, 1);
		int64_t from = sqlite3_column_int64(s, 2), to = explain_col_int(s, 3, -1);
		bool seen = false;

		if (!g || g->close_seq < 0 || from > g->close_seq || (to >= 0 && to <= g->close_seq))
			continue;
		/* A holder of a leaked write end that also holds the read end is not kept waiting: it keeps. */
		for (size_t k = g->leak0; k < g->leak0 + g->nleaks && !seen; k++)
			seen = x->leaks[k].pid == pid;
		for (size_t k = 0; k < g->nreaders; k++)
			seen |= g->readers[k] == pid;
		if (!seen && g->nreaders < sizeof(g->readers) / sizeof(g->readers[0]))
			g->readers[g->nreaders++] = pid;
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

/*
 * eof_blockers, by pipe: how many, the first give-up they held off, who gave
 * it up, the readers kept from EOF, and for how long (the times of the
 * give-ups and the releases read in one query of the seqs, as a JSON array).
 */
static int explain_load_blockers(struct store *st, struct explain *x)
{
	sqlite3_stmt *s = explain_query(st, x->run, "SELECT pipe_id, pid, fd, close_seq FROM eof_blockers WHERE run_id = ?1");
	int64_t *end_seq = NULL;
	size_t len = 0, cap = 0;
	char *seqs = NULL;
	int rc;

	if (!s)
		return -EIO;
	if (x->ngroups)
		end_seq = xcalloc(x->ngroups, sizeof(*end_seq));
	while ((rc = store_step(st, s)) == 1) {
		int64_t pipe = sqlite3_column_int64(s, 0), close_seq = sqlite3_column_int64(s, 3);
		int pid = (int)sqlite3_column_int64(s, 1), fd = (int)sqlite3_column_int64(s, 2);
		struct explain_group *g = explain_group_find(x, pipe);
		const struct explain_leak *l;
		size_t gi;

		x->nblockers++;
		if (!g)
			continue; /* cannot be: every blocker is an untouched inherited write end */
		gi = (size_t)(g - x->groups);
		g->nblockers++;
		if (g->close_seq < 0 || close_seq < g->close_seq)
			g->close_seq = close_seq;
		l = explain_leak_find(x, g, pid, fd, close_seq);
		if (!l || l->to_seq < 0 || (x->killed_seq >= 0 && l->to_seq >= x->killed_seq))
			g->until_end = true;
		else if (l->to_seq > end_seq[gi])
			end_seq[gi] = l->to_seq;
	}
	sqlite3_finalize(s);
	if (rc < 0) {
		free(end_seq);
		return -EIO;
	}
	if (!x->nblockers) {
		free(end_seq);
		return 0;
	}

	/* The times of every give-up and release, and who gave up. */
	seqs = xmalloc(cap = 64);
	seqs[len++] = '[';
	for (size_t i = 0; i < x->ngroups; i++) {
		if (x->groups[i].close_seq < 0)
			continue;
		while (len + 48 > cap)
			seqs = xrealloc(seqs, cap *= 2);
		len += (size_t)sprintf(seqs + len, "%s%lld,%lld", len > 1 ? "," : "", (long long)x->groups[i].close_seq,
				       (long long)(end_seq[i] > 0 ? end_seq[i] : x->groups[i].close_seq));
	}
	seqs[len++] = ']';
	seqs[len] = '\0';
	s = explain_query(st, x->run,
		"SELECT seq, ts_ns, pid FROM event_rows WHERE run_id = ?1 AND seq IN (SELECT value FROM json_each(?2))"
		" ORDER BY seq");
	if (!s) {
		free(end_seq);
		free(seqs);
		return -EIO;
	}
	sqlite3_bind_text(s, 2, seqs, -1, SQLITE_STATIC);
	{
		struct { int64_t seq, ts; int pid; } *ts = NULL;
		size_t nts = 0, tcap = 0;

		while ((rc = store_step(st, s)) == 1) {
			ALLOC_GROW(ts, nts + 1, tcap, 64);
			ts[nts].seq = sqlite3_column_int64(s, 0);
			ts[nts].ts = sqlite3_column_int64(s, 1);
			ts[nts].pid = (int)sqlite3_column_int64(s, 2);
			nts++;
		}
		for (size_t i = 0; rc == 0 && i < x->ngroups; i++) {
			struct explain_group *g = &x->groups[i];
			int64_t t0 = -1, t1 = -1;

			if (g->close_seq < 0)
				continue;
			for (size_t lo = 0, hi = nts; lo < hi;) {
				size_t mid = (lo + hi) / 2;

				if (ts[mid].seq < g->close_seq)
					lo = mid + 1;
				else if (ts[mid].seq > g->close_seq)
					hi = mid;
				else {
					t0 = ts[mid].ts;
					g->closed_by = ts[mid].pid;
					break;
				}
			}
			for (size_t lo = 0, hi = nts; end_seq[i] > 0 && lo < hi;) {
				size_t mid = (lo + hi) / 2;

				if (ts[mid].seq < end_seq[i])
					lo = mid + 1;
				else if (ts[mid].seq > end_seq[i])
					hi = mid;
				else {
					t1 = ts[mid].ts;
					break;
				}
			}
			if (g->until_end)
				t1 = x->ended_ns;
			g->blocked_ns = t0 >= 0 && t1 >= t0 ? t1 - t0 : -1;
		}
		free(ts);
	}
	sqlite3_finalize(s);
	free(seqs);
	free(end_seq);
	if (rc < 0)
		return -EIO;

	/*
	 * The readers each give-up left waiting: holders of the read end then
	 * (of a socketpair end, the holders of its peer, as eof_holders has it).
	 */
	if ((rc = explain_load_readers(st, x, "SELECT pipe_id, pid, from_seq, to_seq FROM holds INDEXED BY holds_read_ends"
					     " WHERE run_id = ?1 AND pipe_end = 'read' ORDER BY pipe_id, from_seq")) < 0)
		return rc;
	if (!x->npeers)
		return 0;
	return explain_load_readers(st, x, "SELECT p.peer_id, h.pid, h.from_seq, h.to_seq FROM holds h INDEXED BY holds_socket_ends"
					   " JOIN pipes p ON p.run_id = h.run_id AND p.pipe_id = h.pipe_id"
					   " WHERE h.run_id = ?1 AND h.pipe_end = 'socket' AND p.peer_id IS NOT NULL"
					   " ORDER BY p.peer_id, h.from_seq");
}

/*
 * Stretches of pipes whose holders make a staircase: pipe k held by one
 * process fewer than pipe k-1, the same last one, each a run of processes
 * in fork order. The naive pool is one: worker i holds pipes 1..i.
 */
static void explain_find_stairs(struct explain *x)
{
	size_t cap = 0;

	for (size_t i = 0; i < x->ngroups;) {
		size_t j = i + 1;
		const struct explain_group *g = &x->groups[i];
		int first = explain_rank(x, x->leaks[g->leak0].pid);
		int last = explain_rank(x, x->leaks[g->leak0 + g->nleaks - 1].pid);
		size_t total = g->nleaks;

		/* A staircase is told in pipes: socketpair ends are told one by one. */
		if ((size_t)(last - first + 1) != g->nleaks || g->peer_id >= 0) {
			i++;
			continue;
		}
		for (; j < x->ngroups; j++) {
			const struct explain_group *h = &x->groups[j];
			int f = explain_rank(x, x->leaks[h->leak0].pid);
			int l = explain_rank(x, x->leaks[h->leak0 + h->nleaks - 1].pid);

			if (h->pipe_id != x->groups[j - 1].pipe_id + 1 || h->peer_id >= 0 || l != last || f != first + (int)(j - i) ||
			    (size_t)(l - f + 1) != h->nleaks)
				break;
			total += h->nleaks;
		}
		if (j - i >= 2) {
			ALLOC_GROW(x->stairs, x->nstairs + 1, cap, 64);
			x->stairs[x->nstairs++] = (struct explain_stair){
				.group0 = i, .ngroups = j - i, .nleaks = total,
				.first_holder = x->leaks[g->leak0].pid,
				.last_holder = x->leaks[g->leak0 + g->nleaks - 1].pid,
			};
		}
		i = j;
	}
}

/* ---- the rules ---- */

static void explain_fix_add(struct explain *x, const char *rule, const char *pattern, const char *fix)
{
	if (x->nfixes < sizeof(x->fixes) / sizeof(x->fixes[0]))
		x->fixes[x->nfixes++] = (struct explain_fix){ rule, pattern, fix };
}

static const struct explain_hang *explain_hang_of(const struct explain *x, size_t proc, const struct explain_proc *next)
{
	const struct explain_proc *p = &x->procs[proc];

	if (p->hang < 0)
		return NULL;
	for (size_t h = (size_t)p->hang; h < x->nhangs; h++)
		if (x->hangs[h].pid == p->pid && (!next || explain_waits_for(x, &x->hangs[h], next)))
			return &x->hangs[h];
	return &x->hangs[p->hang];
}

static void explain_rules(struct explain *x)
{
	size_t exec_leaks = 0, eof_waits = 0, eof_cycles = 0;
	bool read_first = false, both_full = false;
	const char *eof_on;

	for (size_t i = 0; i < x->ngroups; i++)
		exec_leaks += x->groups[i].survived_exec;
	/* Each cycle is a deadlock of its own: a rule fits when it fits one of them. */
	for (size_t c = 0; c < x->ncycles; c++) {
		const struct explain_cycle *cy = &x->cycles[c];
		size_t writers = 0, eof_before = eof_waits;

		for (size_t i = 0; i < cy->n; i++) {
			const struct explain_proc *u = &x->procs[cy->procs[i]];
			const struct explain_proc *v = &x->procs[cy->procs[(i + 1) % cy->n]];
			const struct explain_hang *hu = explain_hang_of(x, (size_t)cy->procs[i], v);
			const struct explain_hang *hv = explain_hang_of(x, (size_t)cy->procs[(i + 1) % cy->n], u);

			if (hu && hu->end == 'w')
				writers++;
			if (hu && hu->end == 'r')
				eof_waits++;
			/* u waits for its child v, which waits for room in a pipe u holds the read end of. */
			if (hu && hu->child_wait && hv && hv->end == 'w' && explain_waits_for(x, hv, u))
				read_first = true;
		}
		both_full |= cy->n >= 2 && writers == cy->n;
		eof_cycles += eof_waits > eof_before;
	}
	if (read_first)
		explain_fix_add(x, "read-first",
				"the parent waits for a child before it reads the child's output: the child blocks writing to a"
				" full pipe that only the parent reads",
				"read first, as Python's communicate() does: read the child's output to EOF (poll over several"
				" pipes), then wait for the child");
	if (both_full)
		explain_fix_add(x, "reader-thread",
				"both sides wait on full pipes: each blocks writing to a pipe that only the other would read",
				"never block writing while the other side does: a reader thread, or poll (select) over both pipes"
				" with non-blocking writes");
	if (x->nleaks && !x->nblockers && x->outcome && !strcmp(x->outcome, "ok"))
		explain_fix_add(x, "accidental-order",
				"the leak is present but harmless: every process holding a leaked write end let it go before"
				" that pipe's last writer closed it, so no reader waited for EOF on its account. The close"
				" order works by accident",
				"another order (close each pipe and wait in the order of creation), or one worker that outlives"
				" its turn, hangs: close what the children inherited as well (close_range(3, ~0U, 0) after dup2)");
	/* One process whose threads wait for each other (a join of a reader its own write end holds back), or
	 * that waits for itself alone: no cycle between processes, or one beside them (a snapshot of two trees). */
	if (x->outcome && !strcmp(x->outcome, "deadlock")) {
		for (size_t i = 0; i < x->nhangs && !x->self_deadlock; i++) {
			const struct explain_hang *j = &x->hangs[i];

			for (size_t k = 0; j->joins && k < x->nhangs; k++) {
				const struct explain_hang *r = &x->hangs[k];
				bool own = r->nholders > 0;

				if (r->pid != j->pid || r->tid != j->joins || r->end != 'r')
					continue;
				for (size_t h = r->holder0; h < r->holder0 + r->nholders; h++)
					own &= x->holders[h].pid == r->pid;
				if (own)
					x->self_deadlock = j->pid;
			}
		}
		if (x->self_deadlock)
			explain_fix_add(x, "close-before-join",
					"a thread joins a worker thread before it closes the write end of the pipe that worker reads:"
					" the worker waits for EOF that only the joining thread's process can give",
					"close every write end first, then join (each worker reads EOF and returns)");
		/* Or one that waits for itself alone: every holder of the end that would wake it is its own
		 * (a read of a pipe whose only write end it holds). The wait_for view has no such self-edge. */
		for (size_t i = 0; i < x->nhangs && !x->self_deadlock; i++) {
			const struct explain_hang *h = &x->hangs[i];
			bool own = (h->end == 'r' || h->end == 'w') && h->nholders > 0;

			for (size_t k = h->holder0; own && k < h->holder0 + h->nholders; k++)
				own = x->holders[k].pid == h->pid;
			if (own)
				x->self_deadlock = h->pid;
		}
	}
	if (x->nleaks > exec_leaks)
		explain_fix_add(x, "close-inherited",
				"children never close what they inherited: each keeps the write ends of the pipes made before it,"
				" and a reader sees EOF only when every holder has closed",
				"in the child, after dup2, close everything else: close_range(3, ~0U, 0), or close the inherited"
				" fds one by one (the parent keeps its own)");
	/* Which cycles have such a reader: one cycle is "the cycle"; of several, each, one or some. */
#define EXPLAIN_EOF_READER " waits for EOF on a pipe whose write end other processes of the tree still hold (how they" \
			   " got it is before the trace: the usual way is a fork whose child never closes what it inherited)"
	eof_on = x->ncycles == 1 ? "a reader on the cycle" EXPLAIN_EOF_READER
		 : eof_cycles == x->ncycles ? "on each cycle, a reader" EXPLAIN_EOF_READER
		 : eof_cycles == 1 ? "on one of the cycles, a reader" EXPLAIN_EOF_READER
		 : "on some of the cycles, a reader" EXPLAIN_EOF_READER;
#undef EXPLAIN_EOF_READER
	if (!x->nleaks && eof_waits && x->source && (!strcmp(x->source, "snapshot") || !strcmp(x->source, "attach")))
		/* A snapshot's fds (an attach's, at the attach) were found, not seen inherited: the cycle says what the leak would have. */
		explain_fix_add(x, "close-inherited", eof_on,
				"in the child, after dup2, close everything else: close_range(3, ~0U, 0), or close the inherited"
				" fds one by one; record the program (pooltrace record) to see where each end came from");
	if (exec_leaks)
		explain_fix_add(x, "cloexec",
				"processes that exec keep the write ends they inherited: the pipes were made without O_CLOEXEC",
				"make the pipes with pipe2(O_CLOEXEC) and dup2 only what the program needs, or start it with"
				" posix_spawn and file actions (adddup2, addclose)");
}

/*
 * Why a leak did no harm: for the first leaking pipe, its last leaked
 * holder let go before the pipe's maker closed its own write end (or, when
 * the maker never used one, the last other user).
 */
static int explain_load_accident(struct store *st, struct explain *x)
{
	const struct explain_group *g = &x->groups[0];
	sqlite3_stmt *s = explain_query(st, x->run,
		"SELECT pid, to_seq FROM holds WHERE run_id = ?1 AND pipe_id = ?2 AND pipe_end = 'write'"
		" AND touched_seq IS NOT NULL ORDER BY pid = ?3 DESC, to_seq DESC LIMIT 1");
	int rc;

	x->accident.pipe_id = g->pipe_id;
	x->accident.release_seq = -1;
	for (size_t i = g->leak0; i < g->leak0 + g->nleaks; i++)
		if (x->leaks[i].to_seq > x->accident.release_seq) {
			x->accident.release_seq = x->leaks[i].to_seq;
			x->accident.holder = x->leaks[i].pid;
		}
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 2, g->pipe_id);
	/* The close order is its maker's: its own give-up (a worker that closes its inherited copy late is not the order). */
	sqlite3_bind_int(s, 3, g->creator);
	x->accident.close_seq = -1;
	if ((rc = store_step(st, s)) == 1) {
		x->accident.closer = (int)explain_col_int(s, 0, 0);
		x->accident.close_seq = explain_col_int(s, 1, -1);
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

/* ---- where (record --stacks) ---- */

static int explain_cmp_where(const void *a, const void *b)
{
	const struct explain_where *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

const struct explain_where *explain_where_at(const struct explain *x, int64_t seq)
{
	struct explain_where key = { .seq = seq };

	return x->nwheres ? bsearch(&key, x->wheres, x->nwheres, sizeof(key), explain_cmp_where) : NULL;
}

/* The text after the last '/', as a new string; NULL for NULL. */
static char *explain_basename(const unsigned char *t)
{
	const char *s = (const char *)t, *slash;

	if (!s)
		return NULL;
	slash = strrchr(s, '/');
	return xstrdup(slash ? slash + 1 : s);
}

/* A demangled name without its parameter list (and a trailing const): ProcessPool::ProcessPool. */
static char *explain_function(const unsigned char *t)
{
	return t ? function_short_name(xstrdup((const char *)t)) : NULL;
}

/*
 * Each event's stack by its own frame, in one query (the frames of stacks
 * with no own frame: the innermost). A run without --stacks has no rows.
 */
static int explain_load_stacks(struct store *st, struct explain *x)
{
	sqlite3_stmt *s = explain_query(st, x->run,
					"SELECT e.seq, f.file, f.line, f.function, f.module, f.module_offset"
					" FROM event_stacks e JOIN stacks k ON k.run_id = e.run_id AND k.stack_id = e.stack_id"
					" JOIN stack_frames f ON f.run_id = k.run_id AND f.stack_id = k.stack_id"
					"  AND f.frame = coalesce(k.own_frame, 0)"
					" WHERE e.run_id = ?1 ORDER BY e.seq");
	size_t cap = 0;
	int rc;

	if (!s)
		return -EIO;
	while ((rc = store_step(st, s)) == 1) {
		struct explain_where *w;

		ALLOC_GROW(x->wheres, x->nwheres + 1, cap, 64);
		w = &x->wheres[x->nwheres++];
		w->seq = sqlite3_column_int64(s, 0);
		w->file = explain_basename(sqlite3_column_text(s, 1));
		w->line = (int)explain_col_int(s, 2, 0);
		w->function = explain_function(sqlite3_column_text(s, 3));
		w->module = explain_basename(sqlite3_column_text(s, 4));
		w->offset = sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

/* ---- the whole ---- */

int explain_load(struct store *st, int64_t run, struct explain *x)
{
	int64_t version;
	int rc;

	memset(x, 0, sizeof(*x));
	x->run = run;
	x->killed_seq = -1;
	if (store_int(st, "PRAGMA user_version", 0, 0, &version) < 0)
		return -EIO;
	if (version < STORE_SCHEMA_VERSION) {
		error("%s: written by an older pooltrace (schema %lld): explain reads schema %d (a `pooltrace run --db` on it upgrades it)",
		      store_path(st), (long long)version, STORE_SCHEMA_VERSION);
		return -EINVAL;
	}
	if ((rc = explain_load_run(st, x)) < 0 || (rc = explain_load_procs(st, x)) < 0 ||
	    (rc = explain_load_hangs(st, x)) < 0 || (rc = explain_load_leaks(st, x)) < 0 ||
	    (rc = explain_load_peers(st, x)) < 0 ||
	    (rc = explain_group_pipes(st, x)) < 0 || (rc = explain_load_blockers(st, x)) < 0 ||
	    (rc = explain_load_stacks(st, x)) < 0)
		return rc;
	explain_find_cycle(x);
	explain_find_stairs(x);
	explain_rules(x);
	for (size_t i = 0; i < x->nfixes; i++)
		if (!strcmp(x->fixes[i].rule, "accidental-order"))
			return explain_load_accident(st, x);
	return 0;
}

void explain_release(struct explain *x)
{
	for (size_t i = 0; i < x->nprocs; i++)
		free(x->procs[i].program);
	free(x->procs);
	free(x->hangs);
	free(x->holders);
	for (size_t i = 0; i < x->ncycles; i++)
		free(x->cycles[i].procs);
	free(x->cycles);
	free(x->peers);
	free(x->leaks);
	free(x->groups);
	free(x->stairs);
	for (size_t i = 0; i < x->nwheres; i++) {
		free(x->wheres[i].file);
		free(x->wheres[i].function);
		free(x->wheres[i].module);
	}
	free(x->wheres);
	free(x->source);
	free(x->command);
	free(x->strategy);
	free(x->outcome);
	free(x->incomplete);
	free(x->failure);
	memset(x, 0, sizeof(*x));
}
