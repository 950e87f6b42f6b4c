/* explain_out.c: a run's diagnosis written out: in words for a terminal (a screenful whatever the run's size), or as one JSON object with the same facts.
 *
 * Text from the trace (a command line, a program's name) is the program's
 * own and may hold anything: in words a control character or a byte that is
 * not UTF-8 is written \xNN; in JSON a control character is \u00NN and a
 * byte that is not UTF-8 is U+FFFD. Write errors are found once, at the end
 * (ferror after fflush), so a full disk costs one failed flush per buffer,
 * never a loop.
 */
#include "explain/explain.h"

#include "base/json.h"
#include "base/sbuf.h"
#include "base/where.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* How many of a list the words name before "and N more". */
enum { EXPLAIN_LIST_MAX = 6, EXPLAIN_GROUPS_MAX = 6 };

/* ---- a growing string (base/sbuf.h) ---- */

/* Text from the trace, safe for a terminal (text_safe): control characters and bytes that are not UTF-8 as \xNN. */
static void sb_safe(struct sbuf *b, const char *t)
{
	size_t need = text_safe(NULL, 0, t);

	sbuf_grow(b, need);
	b->len += text_safe(b->s + b->len, need + 1, t);
}

/* ---- naming processes ---- */

static void explain_name(const struct explain *x, int pid, struct sbuf *b)
{
	const struct explain_proc *p = explain_proc_find(x, pid);

	if (p && p->role == EXPLAIN_PARENT)
		sbuf_printf(b, "the parent (pid %d)", pid);
	else if (p && p->role == EXPLAIN_WORKER && p->worker >= 0)
		sbuf_printf(b, "worker %d (pid %d)", p->worker, pid);
	else if (p && p->program) {
		sbuf_printf(b, "process %d (", pid);
		sb_safe(b, p->program);
		sbuf_printf(b, ")");
	} else
		sbuf_printf(b, "process %d", pid);
}

/* "1-3, 5, 9" from sorted numbers, the first EXPLAIN_LIST_MAX stretches, then "and N more". */
static void sb_ranges(struct sbuf *b, const int *v, size_t n)
{
	size_t shown = 0, i = 0;

	while (i < n) {
		size_t j = i;

		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		if (shown == EXPLAIN_LIST_MAX) {
			sbuf_printf(b, " and %zu more", n - i);
			return;
		}
		sbuf_printf(b, "%s%d", shown ? ", " : "", v[i]);
		if (j > i)
			sbuf_printf(b, "%s%d", j == i + 1 ? ", " : "-", v[j]);
		shown++;
		i = j + 1;
	}
}

static int explain_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * A set of processes in words: "workers 1-3 (pids 4287-4289)", "the parent
 * (pid 4285) and worker 2 (pid 4288)", "processes 4476, 4483 (bash)".
 */
static void explain_name_set(const struct explain *x, const int *pids, size_t n, struct sbuf *b)
{
	int *workers = xmalloc((n + 1) * sizeof(int)), *wpids = xmalloc((n + 1) * sizeof(int));
	int *others = xmalloc((n + 1) * sizeof(int));
	size_t nw = 0, no = 0, parts = 0;
	const char *prog = NULL;
	bool one_prog = true;

	for (size_t i = 0; i < n; i++) {
		const struct explain_proc *p = explain_proc_find(x, pids[i]);

		if (p && p->role == EXPLAIN_PARENT) {
			explain_name(x, pids[i], b);
			parts++;
		} else if (p && p->role == EXPLAIN_WORKER && p->worker >= 0) {
			workers[nw] = p->worker;
			wpids[nw++] = pids[i];
		} else {
			others[no++] = pids[i];
			if (!p || !p->program || (prog && strcmp(prog, p->program)))
				one_prog = false;
			else
				prog = p->program;
		}
	}
	if (nw == 1) {
		sbuf_printf(b, "%s", parts++ ? " and " : "");
		explain_name(x, wpids[0], b);
	} else if (nw) {
		qsort(workers, nw, sizeof(int), explain_cmp_int);
		qsort(wpids, nw, sizeof(int), explain_cmp_int);
		sbuf_printf(b, "%sworkers ", parts++ ? " and " : "");
		sb_ranges(b, workers, nw);
		sbuf_printf(b, " (pids ");
		sb_ranges(b, wpids, nw);
		sbuf_printf(b, ")");
	}
	if (no == 1) {
		sbuf_printf(b, "%s", parts++ ? " and " : "");
		explain_name(x, others[0], b);
	} else if (no) {
		qsort(others, no, sizeof(int), explain_cmp_int);
		sbuf_printf(b, "%sprocesses ", parts++ ? " and " : "");
		sb_ranges(b, others, no);
		if (one_prog && prog) {
			sbuf_printf(b, " (");
			sb_safe(b, prog);
			sbuf_printf(b, ")");
		}
	}
	free(workers);
	free(wpids);
	free(others);
}

static int explain_cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* "fd 4" or "fds 4-6" of a set of fds. */
static void sb_fds(struct sbuf *b, int *fds, size_t n)
{
	size_t k = 0;

	qsort(fds, n, sizeof(int), explain_cmp_int);
	for (size_t i = 0; i < n; i++)
		if (!k || fds[k - 1] != fds[i])
			fds[k++] = fds[i];
	sbuf_printf(b, "fd%s ", k == 1 ? "" : "s");
	sb_ranges(b, fds, k);
}

/* "seq 11, 14, 17 and 996 more" */
static void sb_seqs(struct sbuf *b, const int64_t *seqs, size_t n)
{
	sbuf_printf(b, "seq ");
	for (size_t i = 0; i < n && i < 3; i++)
		sbuf_printf(b, "%s%lld", i ? ", " : "", (long long)seqs[i]);
	if (n > 3)
		sbuf_printf(b, " and %zu more", n - 3);
}

static void sb_duration(struct sbuf *b, int64_t ns)
{
	if (ns < 0)
		sbuf_printf(b, "an unknown time");
	else if (ns < 10000000)
		sbuf_printf(b, "%.1f ms", (double)ns / 1e6);
	else
		sbuf_printf(b, "%.2f s", (double)ns / 1e9);
}

/* Writes one sentence from b with its first letter in capitals, then empties b. */
static void explain_sentence(FILE *out, struct sbuf *b, const char *indent)
{
	if (!b->len)
		return;
	b->s[0] = (char)toupper((unsigned char)b->s[0]);
	fprintf(out, "%s%s\n", indent, b->s);
	b->len = 0;
	b->s[0] = '\0';
}

/* ---- the outcome ---- */

static void explain_say_outcome(const struct explain *x, FILE *out, struct sbuf *b)
{
	const char *outcome = x->outcome ? x->outcome : "unfinished (pooltrace was killed, or the run is going on)";

	sbuf_printf(b, "run %lld", (long long)x->run);
	if (x->source && !strcmp(x->source, "pool")) {
		sbuf_printf(b, " (the built-in pool: %s, %lld workers, %lld tasks)", x->strategy ? x->strategy : "scenario",
			  (long long)x->workers, (long long)x->tasks);
	} else if (x->command) {
		sbuf_printf(b, " (%s: ", x->source ? x->source : "?");
		sb_safe(b, x->command);
		sbuf_printf(b, ")");
	}
	sbuf_printf(b, ": %s", outcome);
	if (x->exit_status >= 0)
		sbuf_printf(b, ", status %lld", (long long)x->exit_status);
	if (x->outcome && !strcmp(x->outcome, "deadlock")) {
		if (x->source && !strcmp(x->source, "snapshot"))
			sbuf_printf(b, ": the processes below could never move again when /proc was read");
		else if (x->source && !strcmp(x->source, "attach"))
			sbuf_printf(b, ": every thread was blocked, with nothing recorded between two checks; pooltrace was"
				     " attached, and %s", x->killed_seq >= 0 ? "killed the program (--kill-on-deadlock)"
									: "left the program as it was");
		else
			sbuf_printf(b, ": every thread was blocked, with nothing recorded between two checks, so pooltrace"
				     " killed the program");
		if (x->ended_ns > x->started_ns && (!x->source || strcmp(x->source, "snapshot"))) {
			sbuf_printf(b, " (%.2f s after the start)", (double)(x->ended_ns - x->started_ns) / 1e9);
		}
	} else if (x->failure) {
		sbuf_printf(b, ": ");
		sb_safe(b, x->failure);
	}
	fprintf(out, "%s\n", b->s);
	b->len = 0;
	if (x->incomplete) {
		sbuf_printf(b, "  (incomplete: ");
		sb_safe(b, x->incomplete);
		fprintf(out, "%s)\n", b->s);
		b->len = 0;
	}
}

/* ---- the cycle ---- */

static const struct explain_group *explain_group_of(const struct explain *x, int64_t pipe_id)
{
	for (size_t lo = 0, hi = x->ngroups; lo < hi;) {
		size_t mid = (lo + hi) / 2;

		if (x->groups[mid].pipe_id < pipe_id)
			lo = mid + 1;
		else if (x->groups[mid].pipe_id > pipe_id)
			hi = mid;
		else
			return &x->groups[mid];
	}
	return NULL;
}

/* Whether pid holds a leaked write end of pipe_id (inherited, never used). */
static const struct explain_leak *explain_leak_of(const struct explain *x, int64_t pipe_id, int pid)
{
	const struct explain_group *g = explain_group_of(x, pipe_id);

	if (!g)
		return NULL;
	for (size_t i = g->leak0; i < g->leak0 + g->nleaks; i++)
		if (x->leaks[i].pid == pid)
			return &x->leaks[i];
	return NULL;
}

/* The hang event of cycle member i that waits for member i+1 (its first, else). */
static const struct explain_hang *explain_step_hang(const struct explain *x, const struct explain_cycle *cy, size_t i)
{
	const struct explain_proc *p = &x->procs[cy->procs[i % cy->n]];
	const struct explain_proc *next = &x->procs[cy->procs[(i + 1) % cy->n]];
	const struct explain_hang *first = NULL;

	if (p->hang < 0)
		return NULL;
	for (size_t h = (size_t)p->hang; h < x->nhangs; h++) {
		const struct explain_hang *e = &x->hangs[h];

		if (e->pid != p->pid)
			continue;
		if (!first)
			first = e;
		if (e->child_wait ? (e->other_pid > 0 ? e->other_pid == next->pid : next->ppid == p->pid) : 0)
			return e;
		for (size_t k = e->holder0; !e->child_wait && k < e->holder0 + e->nholders; k++)
			if (x->holders[k].pid == next->pid)
				return e;
	}
	return first;
}

static const char *explain_call(const struct explain_hang *h, const char *def)
{
	return h->call[0] ? h->call : def;
}

/* "waits in read(fd 0) for EOF on pipe 1" */
static void explain_say_wait(const struct explain *x, const struct explain_hang *h, struct sbuf *b, bool eof)
{
	(void)x;
	if (h->end == 'w') {
		sbuf_printf(b, " waits in %s(fd %d) for room in pipe %lld", explain_call(h, "write"), h->fd, (long long)h->pipe_id);
		if (h->queued >= 0 && h->capacity > 0 && h->queued >= h->capacity)
			sbuf_printf(b, ", which is full (%lld of %lld bytes)", (long long)h->queued, (long long)h->capacity);
	} else if (h->end == 'r')
		sbuf_printf(b, " waits in %s(fd %d) for %s on pipe %lld", explain_call(h, "read"), h->fd, eof ? "EOF" : "data or EOF",
			  (long long)h->pipe_id);
	else if (h->pipe_id >= 0)
		sbuf_printf(b, " waits in %s(fd %d) on a socketpair (end %lld)", explain_call(h, "recv"), h->fd, (long long)h->pipe_id);
	else
		sbuf_printf(b, " waits in %s on %zu pipe fd%s", explain_call(h, "poll"), h->nholders, h->nholders == 1 ? "" : "s");
}

/* The holders of h other than its own process, sorted by fork order in pids[], their fds in fds[]. */
static size_t explain_hang_holders(const struct explain *x, const struct explain_hang *h, int *pids, int *fds)
{
	size_t n = 0;

	for (size_t k = h->holder0; k < h->holder0 + h->nholders; k++)
		if (x->holders[k].pid != h->pid) {
			pids[n] = x->holders[k].pid;
			fds[n++] = x->holders[k].fd;
		}
	return n;
}

static void sb_where(struct sbuf *b, const struct explain_where *w);
static bool explain_same_where(const struct explain_where *a, const struct explain_where *b);

/* record --stacks: ", at cxxpool.cpp:66 in ProcessPool::work", where h's thread was blocked; nothing without a stack. */
static void explain_say_at(const struct explain *x, const struct explain_hang *h, struct sbuf *b)
{
	const struct explain_where *w = explain_where_at(x, h->seq);

	if (w) {
		sbuf_printf(b, ", at ");
		sb_where(b, w);
	}
}

/* One cycle's steps, each sentence after indent. */
static void explain_say_cycle(const struct explain *x, const struct explain_cycle *cy, FILE *out, struct sbuf *b,
			      const char *indent)
{
	size_t n = cy->n, maxh = 1;
	const struct explain_proc *start;
	const struct explain_hang *start_hang;
	int *pids, *fds;
	int64_t *seqs;

	if (!n)
		return;
	for (size_t i = 0; i < x->nhangs; i++)
		if (x->hangs[i].nholders > maxh)
			maxh = x->hangs[i].nholders;
	pids = xmalloc((maxh + x->nprocs + 1) * sizeof(int));
	fds = xmalloc((maxh + x->nprocs + 1) * sizeof(int));
	seqs = xmalloc((maxh + x->nprocs + 1) * sizeof(int64_t));
	start = &x->procs[cy->procs[0]];
	start_hang = explain_step_hang(x, cy, 0);
	for (size_t i = 0; i < n;) {
		const struct explain_proc *p = &x->procs[cy->procs[i]];
		const struct explain_proc *next = &x->procs[cy->procs[(i + 1) % n]];
		const struct explain_hang *h = explain_step_hang(x, cy, i);
		size_t nh, leaked = 0;
		int64_t peer;

		explain_name(x, p->pid, b);
		if (!h) {
			sbuf_printf(b, " is blocked");
			explain_sentence(out, b, indent);
			i++;
			continue;
		}
		if (h->child_wait) {
			sbuf_printf(b, " waits in %s for ", explain_call(h, "wait4"));
			if (h->other_pid <= 0)
				sbuf_printf(b, "any child, ");
			explain_name(x, next->pid, b);
			if (h->other_pid <= 0)
				sbuf_printf(b, " among them");
			explain_say_at(x, h, b);
			sbuf_printf(b, ".");
			explain_sentence(out, b, indent);
			i++;
			continue;
		}
		nh = explain_hang_holders(x, h, pids, fds);
		/* A socketpair end's holders hold its peer, the way into it: their leaks are of the peer. */
		peer = h->end == 's' && h->pipe_id >= 0 ? explain_peer_of(x, h->pipe_id) : -1;
		for (size_t k = 0; k < nh; k++) {
			const struct explain_leak *l = h->end == 's' ? (peer >= 0 ? explain_leak_of(x, peer, pids[k]) : NULL)
					  : h->pipe_id >= 0 ? explain_leak_of(x, h->pipe_id, pids[k]) : NULL;

			if (l)
				seqs[leaked++] = l->from_seq;
		}
		/* Only leaked ends keep it waiting: no data will come, it waits for the EOF they hold back. */
		explain_say_wait(x, h, b, nh && leaked == nh);
		explain_say_at(x, h, b);
		sbuf_printf(b, ".");
		explain_sentence(out, b, indent);
		if (h->end == 's' && peer >= 0)
			sbuf_printf(b, "its other end, socketpair end %lld, is still held by ", (long long)peer);
		else if (h->end == 's')
			sbuf_printf(b, "its other end is still held by ");
		else if (h->pipe_id >= 0)
			sbuf_printf(b, "pipe %lld's %s end is %s by ", (long long)h->pipe_id, h->end == 'w' ? "read" : "write",
				  h->end == 'w' && nh == 1 ? "held only" : "still held");
		else
			sbuf_printf(b, "their other ends are held by ");
		explain_name_set(x, pids, nh, b);
		sbuf_printf(b, ", on ");
		sb_fds(b, fds, nh);
		if (leaked == nh && nh)
			sbuf_printf(b, ", which inherited it at fork (");
		else if (leaked)
			sbuf_printf(b, "; %zu of them inherited it at fork (", leaked);
		if (leaked) {
			qsort(seqs, leaked, sizeof(*seqs), explain_cmp_int64);
			sb_seqs(b, seqs, leaked);
			sbuf_printf(b, ") and never used it");
		}
		/* The next one holds the end: say how it in turn waits, as a group when the holders wait alike. */
		if (nh > 1 && next != start) {
			const struct explain_proc *after = &x->procs[cy->procs[(i + 2) % n]];
			size_t alike = 0, held = 0, npipes = 0;
			int *pipes = xmalloc(nh * sizeof(int));
			/* --stacks: the place they all block in, when it is one. */
			const struct explain_where *where = NULL;
			bool one_where = true;

			for (size_t k = 0; k < nh; k++) {
				const struct explain_proc *q = explain_proc_find(x, pids[k]);
				const struct explain_hang *qh = q && q->hang >= 0 ? &x->hangs[q->hang] : NULL;

				if (qh && !qh->child_wait && qh->end == 'r' && qh->pipe_id >= 0) {
					alike++;
					const struct explain_where *w = explain_where_at(x, qh->seq);

					pipes[npipes++] = (int)qh->pipe_id;
					held += explain_waits_for(x, qh, after);
					if (!w || (where && !explain_same_where(where, w)))
						one_where = false;
					where = w;
				}
			}
			if (alike == nh) {
				qsort(pipes, npipes, sizeof(int), explain_cmp_int);
				sbuf_printf(b, ". They wait for EOF on their own pipes (");
				sb_ranges(b, pipes, npipes);
				sbuf_printf(b, ")");
				if (one_where && where) {
					sbuf_printf(b, ", all at ");
					sb_where(b, where);
				}
				sbuf_printf(b, ", whose write ends ");
				if (held < alike)
					sbuf_printf(b, "(%zu of them) ", held);
				explain_name(x, after->pid, b);
				sbuf_printf(b, " holds");
				if (after == start && start_hang && start_hang->child_wait)
					sbuf_printf(b, " until %s returns", explain_call(start_hang, "wait4"));
				sbuf_printf(b, ".");
				explain_sentence(out, b, indent);
				free(pipes);
				i += 2;
				continue;
			}
			free(pipes);
		}
		if (next == start && start_hang && start_hang->child_wait && h->end == 'w')
			sbuf_printf(b, ", which waits in %s for it instead of reading", explain_call(start_hang, "wait4"));
		sbuf_printf(b, ".");
		explain_sentence(out, b, indent);
		i++;
	}
	free(pids);
	free(fds);
	free(seqs);
}

/*
 * Every cycle: one is told as it always was; more are each a deadlock of
 * their own, told in turn (past EXPLAIN_GROUPS_MAX, the first 3 and where
 * the rest start: --json has them all).
 */
static void explain_say_cycles(const struct explain *x, FILE *out, struct sbuf *b)
{
	static const char *const nth[EXPLAIN_GROUPS_MAX] = { "first", "second", "third", "fourth", "fifth", "sixth" };
	size_t told = x->ncycles > EXPLAIN_GROUPS_MAX ? 3 : x->ncycles;

	if (x->ncycles == 1) {
		fprintf(out, "why it hung: a cycle of %zu process%s, each waiting for the next:\n", x->cycles[0].n,
			x->cycles[0].n == 1 ? "" : "es");
		explain_say_cycle(x, &x->cycles[0], out, b, "  ");
		return;
	}
	fprintf(out, "why it hung: %zu separate cycles of waits, each a deadlock of its own:\n", x->ncycles);
	for (size_t c = 0; c < told; c++) {
		fprintf(out, "  the %s, a cycle of %zu processes, each waiting for the next:\n", nth[c], x->cycles[c].n);
		explain_say_cycle(x, &x->cycles[c], out, b, "    ");
	}
	if (told < x->ncycles) {
		int *pids = xmalloc((x->ncycles - told) * sizeof(int));

		for (size_t c = told; c < x->ncycles; c++)
			pids[c - told] = x->procs[x->cycles[c].procs[0]].pid;
		sbuf_printf(b, "  ... and %zu more cycles, through ", x->ncycles - told);
		explain_name_set(x, pids, x->ncycles - told, b);
		fprintf(out, "%s; --json has each\n", b->s);
		b->len = 0;
		free(pids);
	}
}

/* One process whose threads wait for each other: each blocked thread, the first few. */
static void explain_say_threads(const struct explain *x, int pid, FILE *out, struct sbuf *b)
{
	size_t said = 0, total = 0, waits = 0;
	/* Beside the cycles between processes: a deadlock of its own, after them. */
	const char *head = x->ncycles ? "and beside them" : "why it hung";

	for (size_t i = 0; i < x->nhangs; i++)
		waits += x->hangs[i].pid == pid;
	explain_name(x, pid, b);
	if (waits == 1)
		fprintf(out, "%s: %s waits for itself alone (no other process takes part):\n", head, b->s);
	else
		fprintf(out, "%s: %s is deadlocked by its own threads, each waiting for another:\n", head, b->s);
	b->len = 0;
	/* The joins first, then the threads they wait for. */
	for (size_t pass = 0, i = 0; pass < 2; i = 0, pass++)
	for (; i < x->nhangs; i++) {
		const struct explain_hang *h = &x->hangs[i];
		int *fds;
		size_t nh = 0;

		if (h->pid != pid || (pass == 0) != (h->joins != 0))
			continue;
		if (total++ >= EXPLAIN_LIST_MAX)
			continue;
		said++;
		if (h->tid)
			sbuf_printf(b, "thread %d", h->tid);
		else
			sbuf_printf(b, "the main thread");
		if (h->joins) {
			sbuf_printf(b, " waits in pthread_join for thread %d", h->joins);
			explain_say_at(x, h, b);
			sbuf_printf(b, ".");
			explain_sentence(out, b, "  ");
			continue;
		}
		explain_say_wait(x, h, b, true);
		explain_say_at(x, h, b);
		fds = xmalloc((h->nholders + 1) * sizeof(int));
		for (size_t k = h->holder0; k < h->holder0 + h->nholders; k++)
			if (x->holders[k].pid == pid)
				fds[nh++] = x->holders[k].fd;
		if (nh) {
			sbuf_printf(b, ", whose %s end only its own process holds (", h->end == 'w' ? "read" : "write");
			sb_fds(b, fds, nh);
			sbuf_printf(b, ")");
		}
		free(fds);
		sbuf_printf(b, ".");
		explain_sentence(out, b, "  ");
	}
	if (total > said)
		fprintf(out, "  ... and %zu more threads\n", total - said);
}

/* ---- the leaks, by pipe ---- */

/* The holders of group g as pids, in fork order, into pids[]; their fds into fds[], fork seqs into seqs[]. */
static size_t explain_group_holders(const struct explain *x, const struct explain_group *g, int *pids, int *fds, int64_t *seqs)
{
	for (size_t i = 0; i < g->nleaks; i++) {
		const struct explain_leak *l = &x->leaks[g->leak0 + i];

		pids[i] = l->pid;
		fds[i] = l->fd;
		seqs[i] = l->from_seq;
	}
	return g->nleaks;
}

/* record --stacks: a call's place, "cxxpool.cpp:24 in ProcessPool::ProcessPool" (no -g: "ProcessPool::ProcessPool in cxxpool+0x1770"). */
static void sb_where(struct sbuf *b, const struct explain_where *w)
{
	where_words(b, w->file, w->line, w->function, w->module, w->offset);
}

/*
 * What a group leaks: "pipe 1's write end", or for a socketpair "socketpair
 * end 1" (each end is the way into its peer, so it is its peer's write end).
 */
static void explain_say_end(const struct explain_group *g, struct sbuf *b)
{
	if (g->peer_id >= 0)
		sbuf_printf(b, "socketpair end %lld", (long long)g->pipe_id);
	else
		sbuf_printf(b, "pipe %lld's write end", (long long)g->pipe_id);
}

static bool explain_same_where(const struct explain_where *a, const struct explain_where *b)
{
	return !strcmp(a->module ? a->module : "", b->module ? b->module : "") && a->offset == b->offset;
}

/*
 * record --stacks: where the forks that handed a pipe's write end on were
 * called, and where the pipe was made, after explain_say_group's line:
 * "forked at cxxpool.cpp:24 in ProcessPool::ProcessPool while holding pipe
 * 1's write end (fd 4), created at cxxpool.cpp:22". Nothing without stacks.
 */
static void explain_say_group_where(const struct explain *x, const struct explain_group *g, FILE *out, struct sbuf *b,
				    int *fds, const int64_t *seqs, size_t n)
{
	const struct explain_where *made = explain_where_at(x, g->created_seq), *places[4];
	size_t nplaces = 0, more = 0;

	for (size_t i = 0; i < n; i++) {
		const struct explain_where *w = explain_where_at(x, seqs[i]);
		size_t k = 0;

		if (!w)
			continue;
		while (k < nplaces && !explain_same_where(places[k], w))
			k++;
		if (k < nplaces)
			continue;
		if (nplaces < 4)
			places[nplaces++] = w;
		else
			more++;
	}
	if (!nplaces && !made)
		return;
	sbuf_printf(b, "    ");
	if (nplaces) {
		sbuf_printf(b, "forked at ");
		for (size_t k = 0; k < nplaces; k++) {
			sbuf_printf(b, "%s", k ? (k + 1 == nplaces && !more ? " and at " : ", at ") : "");
			sb_where(b, places[k]);
		}
		if (more)
			sbuf_printf(b, " and %zu more places", more);
		sbuf_printf(b, " while holding ");
		explain_say_end(g, b);
		sbuf_printf(b, " (");
		sb_fds(b, fds, n);
		sbuf_printf(b, ")%s", made ? ", " : "");
	}
	if (made) {
		sbuf_printf(b, "%s at ", nplaces ? "created" : g->peer_id >= 0 ? "socketpair made" : "pipe made");
		sb_where(b, made);
	}
	fprintf(out, "%s\n", b->s);
	b->len = 0;
}

static void explain_say_group(const struct explain *x, const struct explain_group *g, FILE *out, struct sbuf *b,
			      int *pids, int *fds, int64_t *seqs)
{
	size_t n = explain_group_holders(x, g, pids, fds, seqs);

	sbuf_printf(b, "  ");
	explain_say_end(g, b);
	sbuf_printf(b, " (");
	sb_fds(b, fds, n);
	if (g->peer_id >= 0)
		sbuf_printf(b, "), the way into end %lld, in ", (long long)g->peer_id);
	else
		sbuf_printf(b, "), in ");
	explain_name_set(x, pids, n, b);
	sbuf_printf(b, ": made by ");
	if (g->creator)
		explain_name(x, g->creator, b);
	else
		sbuf_printf(b, "an unknown process");
	sbuf_printf(b, " at seq %lld, handed on by fork (", (long long)g->created_seq);
	qsort(seqs, n, sizeof(*seqs), explain_cmp_int64);
	sb_seqs(b, seqs, n);
	sbuf_printf(b, ")");
	if (g->survived_exec) {
		int64_t first = -1;

		for (size_t i = g->leak0; i < g->leak0 + g->nleaks; i++)
			if (x->leaks[i].exec_seq >= 0 && (first < 0 || x->leaks[i].exec_seq < first))
				first = x->leaks[i].exec_seq;
		if (g->nleaks == 1)
			sbuf_printf(b, ", kept across exec (seq %lld)", (long long)first);
		else
			sbuf_printf(b, ", kept across exec by %s%zu of them (the first at seq %lld)",
				  g->survived_exec == g->nleaks ? "all " : "", g->survived_exec, (long long)first);
	}
	sbuf_printf(b, ", never used");
	fprintf(out, "%s\n", b->s);
	b->len = 0;
	explain_say_group_where(x, g, out, b, fds, seqs, n);
}

static void explain_stair_pids(const struct explain *x, const struct explain_stair *s, int *pids, size_t *n)
{
	const struct explain_proc *first = explain_proc_find(x, s->first_holder), *last = explain_proc_find(x, s->last_holder);
	int lo = first ? first->rank : 0, hi = last ? last->rank : -1;

	*n = 0;
	for (size_t i = 0; i < x->nprocs; i++)
		if (x->procs[i].rank >= lo && x->procs[i].rank <= hi)
			pids[(*n)++] = x->procs[i].pid;
	/* explain_name_set sorts what it names; the pids are in pid order here. */
}

static void explain_say_stair(const struct explain *x, const struct explain_stair *s, FILE *out, struct sbuf *b, int *pids)
{
	size_t n;
	const struct explain_group *g0 = &x->groups[s->group0], *g1 = &x->groups[s->group0 + s->ngroups - 1];

	explain_stair_pids(x, s, pids, &n);
	sbuf_printf(b, "  ");
	explain_name_set(x, pids, n, b);
	sbuf_printf(b, " each hold the write ends of all earlier pipes (pipes %lld-%lld): %zu leaked write ends",
		  (long long)g0->pipe_id, (long long)g1->pipe_id, s->nleaks);
	fprintf(out, "%s\n", b->s);
	b->len = 0;
}

static void explain_say_leaks(const struct explain *x, FILE *out, struct sbuf *b)
{
	int *pids, *fds;
	int64_t *seqs;
	size_t cap = x->nprocs + 1, shown = 0, in_stairs = 0, sockets = 0;

	if (!x->nleaks) {
		if (x->source && (!strcmp(x->source, "snapshot") || !strcmp(x->source, "attach")))
			/* Their fds were found, not inherited while pooltrace looked. */
			fprintf(out, "leaked write ends: none seen (fds held when pooltrace %s are not counted: how they"
				     " were inherited is not known)\n", !strcmp(x->source, "attach") ? "attached" : "read /proc");
		else
			fprintf(out, "leaked write ends: none (every inherited write end was used or closed)\n");
		return;
	}
	for (size_t i = 0; i < x->ngroups; i++)
		if (x->groups[i].nleaks + 1 > cap)
			cap = x->groups[i].nleaks + 1;
	pids = xmalloc(cap * sizeof(int));
	fds = xmalloc(cap * sizeof(int));
	seqs = xmalloc(cap * sizeof(int64_t));
	for (size_t i = 0; i < x->ngroups; i++)
		sockets += x->groups[i].peer_id >= 0;
	sbuf_printf(b, "leaked write ends: %zu, of ", x->nleaks);
	if (x->ngroups > sockets)
		sbuf_printf(b, "%zu pipe%s%s", x->ngroups - sockets, x->ngroups - sockets == 1 ? "" : "s", sockets ? " and " : "");
	if (sockets)
		sbuf_printf(b, "%zu socketpair end%s", sockets, sockets == 1 ? "" : "s");
	fprintf(out, "%s (inherited at fork, never used or closed: each can keep %s from EOF)%s\n", b->s,
		!sockets ? "the pipe's reader" : sockets == x->ngroups ? "the reader of its other end"
		: "the pipe's reader (a socketpair end's: the reader of its other end)",
		x->source && !strcmp(x->source, "record") && !x->io_events
			? "; recorded without --io, so an end only written to looks unused" : "");
	b->len = 0;
	for (size_t i = 0; i < x->nstairs; i++)
		in_stairs += x->stairs[i].ngroups;
	if (x->ngroups > EXPLAIN_GROUPS_MAX) {
		for (size_t i = 0; i < x->nstairs; i++)
			explain_say_stair(x, &x->stairs[i], out, b, pids);
		for (size_t i = 0; i < x->ngroups && shown < 3; i++, shown++)
			explain_say_group(x, &x->groups[i], out, b, pids, fds, seqs);
		fprintf(out, "  ... and %zu more %s, %zu leaked write ends in all\n", x->ngroups - shown,
			!sockets ? "pipes' write ends" : sockets == x->ngroups ? "socketpair ends" : "pipes' write ends and socketpair ends",
			x->nleaks);
	} else {
		for (size_t i = 0; i < x->ngroups; i++)
			explain_say_group(x, &x->groups[i], out, b, pids, fds, seqs);
		for (size_t i = 0; i < x->nstairs; i++)
			explain_say_stair(x, &x->stairs[i], out, b, pids);
	}
	free(pids);
	free(fds);
	free(seqs);
}

/* ---- whom they blocked ---- */

static void explain_say_blocked(const struct explain *x, const struct explain_group *g, FILE *out, struct sbuf *b,
				int *pids, int *fds, int64_t *seqs)
{
	size_t n = explain_group_holders(x, g, pids, fds, seqs);

	if (g->peer_id >= 0)
		sbuf_printf(b, "  socketpair end %lld: ", (long long)g->pipe_id);
	else
		sbuf_printf(b, "  pipe %lld: ", (long long)g->pipe_id);
	if (g->nreaders) {
		int readers[4];

		memcpy(readers, g->readers, g->nreaders * sizeof(int));
		explain_name_set(x, readers, g->nreaders, b);
	} else
		sbuf_printf(b, g->peer_id >= 0 ? "the reader" : "its reader");
	if (g->peer_id >= 0)
		sbuf_printf(b, " waited for EOF on end %lld", (long long)g->peer_id);
	else
		sbuf_printf(b, " waited for EOF");
	sbuf_printf(b, " from seq %lld, where ", (long long)g->close_seq);
	if (g->closed_by)
		explain_name(x, g->closed_by, b);
	else
		sbuf_printf(b, "its last user");
	if (g->peer_id >= 0)
		sbuf_printf(b, " let go of end %lld, ", (long long)g->pipe_id);
	else
		sbuf_printf(b, " let go of its write end, ");
	if (g->until_end)
		sbuf_printf(b, "%s (", x->outcome && !strcmp(x->outcome, "deadlock") ? "until the kill" : "to the end of the run");
	else
		sbuf_printf(b, "until the last blocker let go (");
	sb_duration(b, g->blocked_ns);
	sbuf_printf(b, "), held off by ");
	if (g->nblockers == g->nleaks) {
		explain_name_set(x, pids, n, b);
		sbuf_printf(b, ", on ");
		sb_fds(b, fds, n);
	} else
		sbuf_printf(b, "%zu of the %zu holders above", g->nblockers, g->nleaks);
	fprintf(out, "%s\n", b->s);
	b->len = 0;
}

static void explain_say_blockers(const struct explain *x, FILE *out, struct sbuf *b)
{
	size_t npipes = 0, sockets = 0, shown = 0, cap = x->nprocs + 1;
	const struct explain_group *longest = NULL;
	int *pids, *fds;
	int64_t *seqs;

	if (!x->nblockers) {
		fprintf(out, "EOF blockers: none (no reader waited for EOF on a leaked write end)\n");
		return;
	}
	for (size_t i = 0; i < x->ngroups; i++) {
		const struct explain_group *g = &x->groups[i];

		if (!g->nblockers)
			continue;
		npipes++;
		sockets += g->peer_id >= 0;
		if (g->nleaks + 1 > cap)
			cap = g->nleaks + 1;
		if (!longest || g->blocked_ns > longest->blocked_ns)
			longest = g;
	}
	pids = xmalloc(cap * sizeof(int));
	fds = xmalloc(cap * sizeof(int));
	seqs = xmalloc(cap * sizeof(int64_t));
	sbuf_printf(b, "EOF blockers: %zu, at ", x->nblockers);
	if (npipes > sockets)
		sbuf_printf(b, "%zu pipe%s%s", npipes - sockets, npipes - sockets == 1 ? "" : "s", sockets ? " and " : "");
	if (sockets)
		sbuf_printf(b, "%zu socketpair end%s", sockets, sockets == 1 ? "" : "s");
	fprintf(out, "%s (a leaked write end held when the %s last user let go of its own)\n", b->s,
		!sockets ? "pipe's" : sockets == npipes ? "end's" : "pipe's (or end's)");
	b->len = 0;
	for (size_t i = 0; i < x->ngroups && shown < (npipes > EXPLAIN_GROUPS_MAX ? 3 : EXPLAIN_GROUPS_MAX); i++)
		if (x->groups[i].nblockers) {
			explain_say_blocked(x, &x->groups[i], out, b, pids, fds, seqs);
			shown++;
		}
	if (npipes > shown) {
		sbuf_printf(b, "  ... and %zu more %s; the longest wait: %s %lld, ", npipes - shown, sockets ? "pipes or ends" : "pipes",
			  longest->peer_id >= 0 ? "socketpair end" : "pipe", (long long)longest->pipe_id);
		sb_duration(b, longest->blocked_ns);
		fprintf(out, "%s\n", b->s);
		b->len = 0;
	}
	if (x->outcome && !strcmp(x->outcome, "ok")) {
		sbuf_printf(b, "  the run still finished: each reader got EOF once the blockers exited (the longest wait ");
		sb_duration(b, longest->blocked_ns);
		fprintf(out, "%s); a blocker that waits for anything first turns this into a hang\n", b->s);
		b->len = 0;
	}
	free(pids);
	free(fds);
	free(seqs);
}

static int explain_finish(FILE *out)
{
	if (fflush(out) != 0 || ferror(out))
		return errno ? -errno : -EIO;
	return 0;
}

int explain_print_text(const struct explain *x, FILE *out)
{
	struct sbuf b = { 0 };

	sbuf_printf(&b, "%s", "");
	errno = 0;
	explain_say_outcome(x, out, &b);
	if (x->ncycles)
		explain_say_cycles(x, out, &b);
	if (x->self_deadlock)
		explain_say_threads(x, x->self_deadlock, out, &b);
	if (!x->ncycles && !x->self_deadlock && x->outcome && !strcmp(x->outcome, "deadlock"))
		fprintf(out, "why it hung: no cycle of waits is in the evidence stored (%zu hang events)\n", x->nhangs);
	explain_say_leaks(x, out, &b);
	explain_say_blockers(x, out, &b);
	if (!x->nfixes && x->ncycles == 1)
		fprintf(out, "fix: no rule of docs/explain.md fits this cycle: one of its waits has to go\n");
	else if (!x->nfixes && x->ncycles)
		fprintf(out, "fix: no rule of docs/explain.md fits these cycles: one wait of each has to go\n");
	else if (!x->nfixes && x->self_deadlock)
		fprintf(out, "fix: no rule of docs/explain.md fits this wait: the process holds the end that would wake it\n");
	else if (!x->nfixes)
		fprintf(out, "fix: nothing to fix: no wait-for cycle, no leaked write end\n");
	else
		fprintf(out, "fix%s:\n", x->nfixes == 1 ? "" : "es");
	for (size_t i = 0; i < x->nfixes; i++) {
		fprintf(out, "  %zu. [%s] %s.\n", i + 1, x->fixes[i].rule, x->fixes[i].pattern);
		if (!strcmp(x->fixes[i].rule, "accidental-order") && x->accident.close_seq >= 0) {
			sbuf_printf(&b, "     here: pipe %lld's last leaked holder, ", (long long)x->accident.pipe_id);
			explain_name(x, x->accident.holder, &b);
			sbuf_printf(&b, ", let go at seq %lld; ", (long long)x->accident.release_seq);
			explain_name(x, x->accident.closer, &b);
			sbuf_printf(&b, " closed its own write end only later, at seq %lld", (long long)x->accident.close_seq);
			if (x->strategy && !strcmp(x->strategy, "reverse-close"))
				sbuf_printf(&b, " (reverse order: the last worker, which holds every earlier write end, is closed"
					      " and reaped first)");
			fprintf(out, "%s\n", b.s);
			b.len = 0;
		}
		fprintf(out, "     fix: %s.\n", x->fixes[i].fix);
	}
	sbuf_release(&b);
	return explain_finish(out);
}

/* ---- JSON ---- */

static void json_int(FILE *out, int64_t v);

/* record --stacks: a call's place as sb_where words it, or null. */
static void json_where(FILE *out, const struct explain_where *w)
{
	struct sbuf b = { 0 };

	if (!w) {
		fputs("null", out);
		return;
	}
	sb_where(&b, w);
	json_write_str(out, b.s);
	sbuf_release(&b);
}

static void json_int(FILE *out, int64_t v)
{
	if (v < 0)
		fputs("null", out);
	else
		fprintf(out, "%lld", (long long)v);
}

static void json_proc(const struct explain *x, FILE *out, int pid)
{
	const struct explain_proc *p = explain_proc_find(x, pid);
	struct sbuf b = { 0 };

	explain_name(x, pid, &b);
	fprintf(out, "{\"pid\": %d, \"role\": \"%s\", \"worker\": ", pid,
		!p ? "unknown" : p->role == EXPLAIN_PARENT ? "parent" : p->role == EXPLAIN_WORKER ? "worker" : "process");
	json_int(out, p ? p->worker : -1);
	fputs(", \"program\": ", out);
	json_write_str(out, p ? p->program : NULL);
	fputs(", \"name\": ", out);
	json_write_str(out, b.s);
	fputc('}', out);
	sbuf_release(&b);
}

/* The objects of one cycle's steps, each after sep and a comma between (the "cycle" key's, and each of "cycles"). */
static void json_cycle(const struct explain *x, const struct explain_cycle *cy, FILE *out, const char *sep)
{
	for (size_t i = 0; i < cy->n; i++) {
		const struct explain_proc *p = &x->procs[cy->procs[i]];
		const struct explain_hang *h = explain_step_hang(x, cy, i);

		fprintf(out, "%s%s{\"process\": ", i ? "," : "", sep);
		json_proc(x, out, p->pid);
		if (!h) {
			fputs(", \"waits\": null}", out);
			continue;
		}
		fputs(", \"waits\": ", out);
		json_write_str(out, h->child_wait ? "child" : h->end == 'r' ? "eof" : h->end == 'w' ? "room" : h->pipe_id >= 0 ? "socket" : "poll");
		fputs(", \"call\": ", out);
		json_write_str(out, h->call[0] ? h->call : NULL);
		fprintf(out, ", \"seq\": %lld, \"fd\": ", (long long)h->seq);
		json_int(out, h->child_wait ? -1 : h->fd);
		fputs(", \"pipe_id\": ", out);
		json_int(out, h->pipe_id);
		fputs(", \"peer_id\": ", out);
		json_int(out, h->end == 's' && h->pipe_id >= 0 ? explain_peer_of(x, h->pipe_id) : -1);
		fputs(", \"child\": ", out);
		json_int(out, h->child_wait ? h->other_pid : -1);
		fputs(", \"queued\": ", out);
		json_int(out, h->child_wait ? -1 : h->queued);
		fputs(", \"capacity\": ", out);
		json_int(out, h->child_wait ? -1 : h->capacity);
		fputs(", \"at\": ", out);
		json_where(out, explain_where_at(x, h->seq));
		fprintf(out, ", \"next\": %d, \"holders\": [", x->procs[cy->procs[(i + 1) % cy->n]].pid);
		for (size_t k = h->holder0, first = 1; k < h->holder0 + h->nholders; k++)
			if (x->holders[k].pid != h->pid) {
				fprintf(out, "%s{\"pid\": %d, \"fd\": %d}", first ? "" : ", ", x->holders[k].pid, x->holders[k].fd);
				first = 0;
			}
		fputs("]}", out);
	}
}

int explain_print_json(const struct explain *x, FILE *out)
{
	errno = 0;
	fprintf(out, "{\n  \"run\": %lld,\n  \"source\": ", (long long)x->run);
	json_write_str(out, x->source);
	fputs(",\n  \"command\": ", out);
	json_write_str(out, x->command);
	fputs(",\n  \"strategy\": ", out);
	json_write_str(out, x->strategy);
	fputs(",\n  \"workers\": ", out);
	json_int(out, x->workers);
	fputs(",\n  \"outcome\": ", out);
	json_write_str(out, x->outcome);
	fputs(",\n  \"exit_status\": ", out);
	json_int(out, x->exit_status);
	fputs(",\n  \"incomplete\": ", out);
	json_write_str(out, x->incomplete);
	fputs(",\n  \"failure\": ", out);
	json_write_str(out, x->failure);
	fprintf(out, ",\n  \"io_events\": %s,\n  \"self_deadlock\": ", x->io_events ? "true" : "false");
	json_int(out, x->self_deadlock ? x->self_deadlock : -1);
	fputs(",\n  \"cycle\": [", out);
	if (x->ncycles)
		json_cycle(x, &x->cycles[0], out, "\n    ");
	fprintf(out, "%s],\n  \"cycles\": [", x->ncycles ? "\n  " : "");
	for (size_t c = 0; c < x->ncycles; c++) {
		fprintf(out, "%s\n    [", c ? "," : "");
		json_cycle(x, &x->cycles[c], out, "\n      ");
		fputs("\n    ]", out);
	}
	fprintf(out, "%s],\n  \"leaked_write_ends\": %zu,\n  \"leak_groups\": [", x->ncycles ? "\n  " : "", x->nleaks);
	for (size_t i = 0; i < x->ngroups; i++) {
		const struct explain_group *g = &x->groups[i];

		fprintf(out, "%s\n    {\"pipe_id\": %lld, \"kind\": \"%s\", \"peer_id\": ", i ? "," : "", (long long)g->pipe_id,
			g->peer_id >= 0 ? "socket" : "pipe");
		json_int(out, g->peer_id);
		fprintf(out, ", \"count\": %zu, \"created_by\": %d, \"created_seq\": %lld, \"survived_exec\": %zu, \"holders\": [",
			g->nleaks, g->creator, (long long)g->created_seq, g->survived_exec);
		for (size_t k = 0; k < g->nleaks; k++) {
			const struct explain_leak *l = &x->leaks[g->leak0 + k];

			fprintf(out, "%s{\"pid\": %d, \"fd\": %d, \"fork_seq\": %lld, \"until_seq\": ", k ? ", " : "", l->pid, l->fd,
				(long long)l->from_seq);
			json_int(out, l->to_seq);
			fputs(", \"exec_seq\": ", out);
			json_int(out, l->exec_seq);
			if (x->nwheres) {
				fputs(", \"forked_at\": ", out);
				json_where(out, explain_where_at(x, l->from_seq));
			}
			fputc('}', out);
		}
		fputs("]", out);
		if (x->nwheres) {
			fputs(", \"created_at\": ", out);
			json_where(out, explain_where_at(x, g->created_seq));
		}
		fputs("}", out);
	}
	fprintf(out, "%s],\n  \"patterns\": [", x->ngroups ? "\n  " : "");
	for (size_t i = 0; i < x->nstairs; i++) {
		const struct explain_stair *s = &x->stairs[i];

		fprintf(out, "%s\n    {\"kind\": \"earlier-pipes\", \"first_pipe\": %lld, \"last_pipe\": %lld, \"count\": %zu,"
			     " \"first_holder\": %d, \"last_holder\": %d}",
			i ? "," : "", (long long)x->groups[s->group0].pipe_id,
			(long long)x->groups[s->group0 + s->ngroups - 1].pipe_id, s->nleaks, s->first_holder, s->last_holder);
	}
	fprintf(out, "%s],\n  \"eof_blockers\": %zu,\n  \"blockers\": [", x->nstairs ? "\n  " : "", x->nblockers);
	for (size_t i = 0, first = 1; i < x->ngroups; i++) {
		const struct explain_group *g = &x->groups[i];

		if (!g->nblockers)
			continue;
		fprintf(out, "%s\n    {\"pipe_id\": %lld, \"kind\": \"%s\", \"peer_id\": ", first ? "" : ",", (long long)g->pipe_id,
			g->peer_id >= 0 ? "socket" : "pipe");
		json_int(out, g->peer_id);
		fprintf(out, ", \"count\": %zu, \"close_seq\": %lld, \"closed_by\": %d, \"readers\": [", g->nblockers,
			(long long)g->close_seq, g->closed_by);
		for (size_t k = 0; k < g->nreaders; k++)
			fprintf(out, "%s%d", k ? ", " : "", g->readers[k]);
		fputs("], \"blocked_ns\": ", out);
		json_int(out, g->blocked_ns);
		fprintf(out, ", \"until\": \"%s\"}", g->until_end ? "end" : "released");
		first = 0;
	}
	fprintf(out, "%s],\n  \"fixes\": [", x->nblockers ? "\n  " : "");
	for (size_t i = 0; i < x->nfixes; i++) {
		fprintf(out, "%s\n    {\"rule\": ", i ? "," : "");
		json_write_str(out, x->fixes[i].rule);
		fputs(", \"pattern\": ", out);
		json_write_str(out, x->fixes[i].pattern);
		fputs(", \"fix\": ", out);
		json_write_str(out, x->fixes[i].fix);
		if (!strcmp(x->fixes[i].rule, "accidental-order") && x->accident.close_seq >= 0)
			fprintf(out, ", \"evidence\": {\"pipe_id\": %lld, \"holder\": %d, \"released_seq\": %lld, \"closer\": %d,"
				     " \"closed_seq\": %lld}",
				(long long)x->accident.pipe_id, x->accident.holder, (long long)x->accident.release_seq,
				x->accident.closer, (long long)x->accident.close_seq);
		fputc('}', out);
	}
	fprintf(out, "%s]\n}\n", x->nfixes ? "\n  " : "");
	return explain_finish(out);
}
