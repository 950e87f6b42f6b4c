/* perfetto.c: one run as Trace Event Format JSON, for Perfetto's UI (ui.perfetto.dev) and chrome://tracing.
 *
 * Read in three passes, each one query in order, written as it is read, so
 * that a run of half a million holds is never held in memory as JSON:
 *   1. the run and its processes (names for the tracks);
 *   2. the events in seq order: an instant each, a flow per fork, and what
 *      the slices of pass 3 need (each seq's time, each process's first and
 *      last moment, the blocked intervals), then the process and blocked
 *      slices and the track names;
 *   3. fd_holds ordered by pipe, holder and seq: a slice each, on a track
 *      per holder of each pipe.
 * Perfetto sorts events by time itself, so their order in the file is free.
 * Text from the trace (a program's name, an fd's detail) goes through
 * json_write_str: any bytes give valid JSON.
 */
#include "viz/perfetto.h"

#include "store/store.h"
#include "base/json.h"
#include "base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct pf_proc {
	int pid;
	char *name;            /* the track's name: "parent", "worker 3", a program's base name */
	int64_t first_ns;      /* its first event, or the first fork it made (its slice starts there) */
	int64_t end_ns;        /* its reap or kill, when ended */
	int64_t last_act_ns;   /* its last event that is its own act (not pooltrace's evidence about it) */
	bool seen, ended, acted;
	long open_block;       /* its blocked intervals not yet over: index into pf.blocks, -1 for none */
};

/* A blocked interval: from the process's last act before the evidence to its next act, kill or reap. */
struct pf_block {
	size_t proc;
	int64_t start_ns, end_ns;
	bool hang;   /* a `hang` event (a deadlock, or snapshot's blocked thread), else `blocked` */
	const char *until; /* what ended it: NULL while open */
	char *args;  /* the evidence event's args, as JSON */
	long next;   /* the next open block of the same process */
};

struct pf {
	struct store *st;
	int64_t run, t0, t_end;
	FILE *out;
	bool any;                /* an event was written: the next needs a comma */
	struct pf_proc *procs;
	size_t nprocs, cap;
	struct inomap by_pid;    /* pid -> index + 1 into procs */
	struct pf_block *blocks;
	size_t nblocks, bcap;
	int64_t *seqs, *ts;      /* every event's seq and time, in seq order */
	size_t nseqs, scap;
	int schema;
};

/* Microseconds since the run's start, to the nanosecond: "-12.345". */
static void pf_ts(FILE *out, int64_t ns)
{
	uint64_t d = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
	char frac[4] = { (char)('0' + d / 100 % 10), (char)('0' + d / 10 % 10), (char)('0' + d % 10), 0 };

	if (ns < 0)
		fputc('-', out);
	json_write_int(out, (int64_t)(d / 1000));
	fputc('.', out);
	fputs(frac, out);
}

/* Starts the next element of traceEvents. */
static FILE *pf_event(struct pf *p)
{
	fputs(p->any ? ",\n" : "\n", p->out);
	p->any = true;
	return p->out;
}

/* A pid as the map's key, never 0 (the map's empty slot), even for a hand-edited pid 0. */
static uint64_t pf_pid_key(int pid)
{
	return (uint64_t)(uint32_t)pid | (uint64_t)1 << 40;
}

static struct pf_proc *pf_proc(struct pf *p, int pid)
{
	int64_t i = inomap_get(&p->by_pid, pf_pid_key(pid));

	if (i)
		return &p->procs[i - 1];
	ALLOC_GROW(p->procs, p->nprocs + 1, p->cap, 64);
	p->procs[p->nprocs] = (struct pf_proc){ .pid = pid, .open_block = -1 };
	inomap_put(&p->by_pid, pf_pid_key(pid), (int64_t)++p->nprocs);
	return &p->procs[p->nprocs - 1];
}

static void pf_touch(struct pf_proc *pr, int64_t ns)
{
	if (!pr->seen || ns < pr->first_ns)
		pr->first_ns = ns;
	pr->seen = true;
}

/* Ends every open blocked interval of pr at ns, because of until. */
static void pf_unblock(struct pf *p, struct pf_proc *pr, int64_t ns, const char *until)
{
	for (long b = pr->open_block; b >= 0; b = p->blocks[b].next) {
		p->blocks[b].end_ns = ns;
		p->blocks[b].until = until;
	}
	pr->open_block = -1;
}

/* A track name from a recorded program: its base name (a path's last part). */
static char *pf_program_name(const char *program)
{
	const char *slash = program ? strrchr(program, '/') : NULL;

	return xstrdup(slash && slash[1] ? slash + 1 : program && *program ? program : "process");
}

/* Pass 1: the run's header and facts, and every process's name. */
static int pf_run(struct pf *p)
{
	sqlite3_stmt *s;
	int64_t supervisor = 0, first;
	int rc;

	s = store_prepare(p->st, "SELECT started_ns, coalesce(ended_ns, started_ns), supervisor_pid, started_at, "
				 "coalesce(outcome, 'unfinished'), strategy, workers FROM runs WHERE id = ?1");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, p->run);
	if ((rc = store_step(p->st, s)) == 1) {
		p->t0 = sqlite3_column_int64(s, 0);
		p->t_end = sqlite3_column_int64(s, 1);
		supervisor = sqlite3_column_int64(s, 2);
		fprintf(p->out, "{\"displayTimeUnit\": \"ns\",\n\"otherData\": {\"run\": %" PRId64 ", \"started_at\": ", p->run);
		json_write_str(p->out, (const char *)sqlite3_column_text(s, 3));
		fputs(", \"outcome\": ", p->out);
		json_write_str(p->out, (const char *)sqlite3_column_text(s, 4));
		fputs(", \"strategy\": ", p->out);
		json_write_str(p->out, (const char *)sqlite3_column_text(s, 5));
		fputs(", \"workers\": ", p->out);
		if (sqlite3_column_type(s, 6) == SQLITE_NULL)
			fputs("null", p->out);
		else
			json_write_int(p->out, sqlite3_column_int64(s, 6));
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	if (rc == 0)
		return error("no run %lld", (long long)p->run), -EINVAL;
	if (p->schema >= 5) {
		s = store_prepare(p->st, "SELECT source, command FROM runs WHERE id = ?1");
		if (!s)
			return -EIO;
		sqlite3_bind_int64(s, 1, p->run);
		if ((rc = store_step(p->st, s)) == 1) {
			fputs(", \"source\": ", p->out);
			json_write_str(p->out, (const char *)sqlite3_column_text(s, 0));
			fputs(", \"command\": ", p->out);
			json_write_str(p->out, (const char *)sqlite3_column_text(s, 1));
		}
		sqlite3_finalize(s);
		if (rc < 0)
			return -EIO;
	}
	fputs("},\n\"traceEvents\": [", p->out);
	/* Time 0 is the run's start, or its first event when that came first
	 * (the pool's first events can precede the runs row's clock reading). */
	if (store_int(p->st,
		      p->schema >= 7 ? "SELECT min((SELECT min(ts_ns) FROM event_rows WHERE run_id = ?1),"
				       " coalesce((SELECT min(first_ts_ns) FROM io_chunks WHERE run_id = ?1), 9223372036854775807))"
				     : "SELECT min(ts_ns) FROM events WHERE run_id = ?1",
		      p->run, p->t0, &first) < 0)
		return -EIO;
	if (first < p->t0)
		p->t0 = first;

	if (supervisor > 0)
		pf_proc(p, (int)supervisor)->name = xstrdup("pooltrace");
	/* A recorded process that did not exec runs its parent's program: named after the nearest ancestor that did. */
	s = store_preparef(p->st,
			   "WITH RECURSIVE named (pid, up, program, depth) AS ("
			   " SELECT pid, ppid, %s, 0 FROM processes WHERE run_id = ?1"
			   " UNION ALL SELECT n.pid, q.ppid, q.program, n.depth + 1 FROM named n"
			   " JOIN processes q ON q.run_id = ?1 AND q.pid = n.up WHERE n.program IS NULL AND n.depth < 64)"
			   " SELECT pr.pid, pr.role, pr.worker_index,"
			   " (SELECT program FROM named n WHERE n.pid = pr.pid AND n.program IS NOT NULL ORDER BY depth LIMIT 1)"
			   " FROM processes pr WHERE pr.run_id = ?1 ORDER BY pr.pid",
			   p->schema >= 5 ? "program" : "NULL");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, p->run);
	while ((rc = store_step(p->st, s)) == 1) {
		struct pf_proc *pr = pf_proc(p, sqlite3_column_int(s, 0));
		const char *role = (const char *)sqlite3_column_text(s, 1);
		char buf[32];

		free(pr->name);
		if (role && !strcmp(role, "parent")) {
			pr->name = xstrdup("parent");
		} else if (role && !strcmp(role, "worker") && sqlite3_column_type(s, 2) != SQLITE_NULL) {
			snprintf(buf, sizeof(buf), "worker %d", sqlite3_column_int(s, 2));
			pr->name = xstrdup(buf);
		} else {
			pr->name = pf_program_name((const char *)sqlite3_column_text(s, 3));
		}
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

/* Whether an event's column goes into its args: not run_id, ts_ns, pid and kind, which the event itself says. */
static bool pf_arg_column(const char *name)
{
	return strcmp(name, "run_id") && strcmp(name, "ts_ns") && strcmp(name, "pid") && strcmp(name, "kind");
}

/* The event's columns that args holds (skip[c] false), the NULL ones left out. */
static void pf_args(FILE *out, sqlite3_stmt *s, const bool *skip)
{
	bool first = true;

	fputc('{', out);
	for (int c = 0; c < sqlite3_column_count(s); c++) {
		int type = sqlite3_column_type(s, c);

		if (type == SQLITE_NULL || skip[c])
			continue;
		fputs(first ? "\"" : ", \"", out);
		fputs(sqlite3_column_name(s, c), out);
		fputs("\": ", out);
		first = false;
		if (type == SQLITE_INTEGER)
			json_write_int(out, sqlite3_column_int64(s, c));
		else if (type == SQLITE_FLOAT)
			json_write_real(out, sqlite3_column_double(s, c));
		else
			json_write_strn(out, (const char *)sqlite3_column_text(s, c), (size_t)sqlite3_column_bytes(s, c));
	}
	fputc('}', out);
}

static int pf_column(sqlite3_stmt *s, const char *name)
{
	for (int c = 0; c < sqlite3_column_count(s); c++)
		if (!strcmp(sqlite3_column_name(s, c), name))
			return c;
	return -1;
}

/* A blocked interval begins at an evidence event (hang, blocked) about pr. */
static void pf_block_open(struct pf *p, struct pf_proc *pr, sqlite3_stmt *s, const bool *skip, bool hang)
{
	struct pf_block *b;
	size_t len;
	FILE *args;

	ALLOC_GROW(p->blocks, p->nblocks + 1, p->bcap, 64);
	b = &p->blocks[p->nblocks];
	*b = (struct pf_block){ .proc = (size_t)(pr - p->procs), .start_ns = pr->acted ? pr->last_act_ns : pr->first_ns,
				.end_ns = -1, .hang = hang, .next = pr->open_block };
	if (!(args = open_memstream(&b->args, &len)))
		die("out of memory");
	pf_args(args, s, skip);
	fclose(args);
	pr->open_block = (long)p->nblocks++;
}

/* Pass 2: the events. */
static int pf_events(struct pf *p)
{
	sqlite3_stmt *s = store_prepare(p->st, "SELECT * FROM events WHERE run_id = ?1 ORDER BY seq");
	int c_seq, c_ts, c_pid, c_kind, c_other, rc;
	bool skip[64] = { 0 };

	if (!s)
		return -EIO;
	for (int c = 0; c < sqlite3_column_count(s) && c < 64; c++)
		skip[c] = !pf_arg_column(sqlite3_column_name(s, c));
	if (sqlite3_column_count(s) > 64) {
		sqlite3_finalize(s);
		return error("%s: its events view has more columns than pooltrace knows", store_path(p->st)), -EIO;
	}
	sqlite3_bind_int64(s, 1, p->run);
	c_seq = pf_column(s, "seq");
	c_ts = pf_column(s, "ts_ns");
	c_pid = pf_column(s, "pid");
	c_kind = pf_column(s, "kind");
	c_other = pf_column(s, "other_pid");
	if (c_seq < 0 || c_ts < 0 || c_pid < 0 || c_kind < 0 || c_other < 0) {
		sqlite3_finalize(s);
		return error("%s: its events view lacks a column pooltrace needs", store_path(p->st)), -EIO;
	}
	while (!ferror(p->out) && (rc = store_step(p->st, s)) == 1) {
		int64_t seq = sqlite3_column_int64(s, c_seq), ns = sqlite3_column_int64(s, c_ts);
		const char *kind = (const char *)sqlite3_column_text(s, c_kind);
		/* A hand-edited trace can hold anything; a reader must not crash on it. */
		if (!kind)
			kind = "";
		int pid = sqlite3_column_int(s, c_pid), other = sqlite3_column_int(s, c_other);
		bool has_other = sqlite3_column_type(s, c_other) != SQLITE_NULL && other > 0;
		struct pf_proc *pr = pf_proc(p, pid);
		bool evidence = !strcmp(kind, "hang") || !strcmp(kind, "blocked");
		FILE *out;

		if (p->nseqs == p->scap) {
			p->scap = p->scap ? p->scap * 2 : 4096;
			p->seqs = xrealloc(p->seqs, p->scap * sizeof(*p->seqs));
			p->ts = xrealloc(p->ts, p->scap * sizeof(*p->ts));
		}
		p->seqs[p->nseqs] = seq;
		p->ts[p->nseqs++] = ns;
		if (ns > p->t_end)
			p->t_end = ns;
		pf_touch(pr, ns);
		if (evidence) {
			pf_block_open(p, pr, s, skip, kind[0] == 'h');
		} else {
			pf_unblock(p, pr, ns, "its next event");
			pr->last_act_ns = ns;
			pr->acted = true;
		}
		if (has_other && (!strcmp(kind, "reap") || !strcmp(kind, "kill"))) {
			struct pf_proc *target = pf_proc(p, other);

			pf_unblock(p, target, ns, kind[0] == 'k' ? "its kill" : "its reap");
			pf_touch(target, ns);
			if (!target->ended || ns > target->end_ns)
				target->end_ns = ns;
			target->ended = true;
		}
		if (has_other && !strcmp(kind, "fork")) {
			/* The fork is recorded by the child; other_pid is its parent. */
			pf_touch(pf_proc(p, other), ns);
			out = pf_event(p);
			fprintf(out, "{\"ph\": \"s\", \"cat\": \"fork\", \"name\": \"fork\", \"id\": %" PRId64
				     ", \"pid\": %d, \"tid\": %d, \"ts\": ", seq, other, other);
			pf_ts(out, ns - p->t0);
			fputc('}', out);
			out = pf_event(p);
			fprintf(out, "{\"ph\": \"f\", \"bp\": \"e\", \"cat\": \"fork\", \"name\": \"fork\", \"id\": %" PRId64
				     ", \"pid\": %d, \"tid\": %d, \"ts\": ", seq, pid, pid);
			pf_ts(out, ns - p->t0);
			fputc('}', out);
		}
		out = pf_event(p);
		/* "I", not "i": the format reads both alike (Perfetto does), but Chrome DevTools, the viewer at hand in a
		 * browser, drops every "i" (measured: 128 of 128 on a 4-worker run, none with "I"). */
		fputs("{\"ph\": \"I\", \"s\": \"t\", \"cat\": \"event\", \"name\": ", out);
		json_write_str(out, kind);
		fputs(", \"pid\": ", out);
		json_write_int(out, pid);
		fputs(", \"tid\": ", out);
		json_write_int(out, pid);
		fputs(", \"ts\": ", out);
		pf_ts(out, ns - p->t0);
		fputs(", \"args\": ", out);
		pf_args(out, s, skip);
		fputc('}', out);
	}
	sqlite3_finalize(s);
	if (ferror(p->out))
		return 0;
	if (rc < 0)
		return -EIO;
	if (!p->nseqs)
		return error("run %lld recorded no events: nothing to export", (long long)p->run), -EINVAL;
	return 0;
}

/* A complete slice's common head: {"ph": "X", "cat": cat, "name": name, "pid", "tid", "ts", "dur", then args. */
static FILE *pf_slice(struct pf *p, const char *cat, const char *name, int64_t pid, int64_t tid, int64_t from_ns,
		      int64_t to_ns)
{
	FILE *out = pf_event(p);

	fputs("{\"ph\": \"X\", \"cat\": \"", out);
	fputs(cat, out);
	fputs("\", \"name\": ", out);
	json_write_str(out, name);
	fputs(", \"pid\": ", out);
	json_write_int(out, pid);
	fputs(", \"tid\": ", out);
	json_write_int(out, tid);
	fputs(", \"ts\": ", out);
	pf_ts(out, from_ns - p->t0);
	fputs(", \"dur\": ", out);
	pf_ts(out, to_ns > from_ns ? to_ns - from_ns : 0);
	return out;
}

/* An M event naming (or ordering) a track. */
static void pf_meta(struct pf *p, const char *what, int64_t pid, int64_t tid, const char *name, long sort_index)
{
	FILE *out = pf_event(p);

	fprintf(out, "{\"ph\": \"M\", \"name\": \"%s\", \"pid\": %" PRId64 ", \"tid\": %" PRId64 ", \"ts\": 0, \"args\": {",
		what, pid, tid);
	if (name) {
		fputs("\"name\": ", out);
		json_write_str(out, name);
	} else {
		fprintf(out, "\"sort_index\": %ld", sort_index);
	}
	fputs("}}", out);
}

/* The end of pass 2: every process's tracks and slice, and the blocked intervals. */
static void pf_processes(struct pf *p)
{
	for (size_t i = 0; i < p->nprocs && !ferror(p->out); i++) {
		struct pf_proc *pr = &p->procs[i];
		char buf[32];
		FILE *out;

		if (!pr->name) {
			snprintf(buf, sizeof(buf), "pid %d", pr->pid);
			pr->name = xstrdup(buf);
		}
		pf_meta(p, "process_name", pr->pid, pr->pid, pr->name, 0);
		pf_meta(p, "process_sort_index", pr->pid, pr->pid, NULL, (long)i);
		pf_meta(p, "thread_name", pr->pid, pr->pid, pr->name, 0);
		if (!pr->seen)
			continue;
		out = pf_slice(p, "process", pr->name, pr->pid, pr->pid, pr->first_ns, pr->ended ? pr->end_ns : p->t_end);
		fprintf(out, ", \"args\": {\"pid\": %d, \"reaped\": %s}}", pr->pid, pr->ended ? "true" : "false");
	}
	for (size_t i = 0; i < p->nblocks && !ferror(p->out); i++) {
		const struct pf_block *b = &p->blocks[i];
		const struct pf_proc *pr = &p->procs[b->proc];
		FILE *out = pf_slice(p, "blocked", b->hang ? "blocked (hang)" : "blocked", pr->pid, pr->pid, b->start_ns,
				     b->until ? b->end_ns : p->t_end);

		fprintf(out, ", \"args\": {\"until\": \"%s\", \"evidence\": %s}}", b->until ? b->until : "the end of the run",
			b->args);
	}
}

/* The time of event seq: the last event at or before it (every hold's seqs are events of the run). */
static int64_t pf_seq_ns(const struct pf *p, int64_t seq)
{
	size_t lo = 0, hi = p->nseqs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->seqs[mid] <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? p->ts[lo - 1] : p->t0;
}

/* A leaked write end, as leaked_write_ends names it. */
struct pf_leak {
	int64_t pipe_id, pid, fd;
};

static int pf_leak_cmp(const void *a, const void *b)
{
	const struct pf_leak *x = a, *y = b;

	if (x->pipe_id != y->pipe_id)
		return x->pipe_id < y->pipe_id ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/*
 * The run's leaked_write_ends, sorted, into *out (free it). Read once and
 * looked up, because asking the view per hold (a correlated EXISTS) cost
 * 0.6 s of the 1000-worker run's 500k holds, reading it 0.15 s.
 */
static int pf_leaks(struct pf *p, struct pf_leak **out, size_t *n)
{
	sqlite3_stmt *s = store_prepare(p->st, "SELECT pipe_id, pid, fd FROM leaked_write_ends WHERE run_id = ?1");
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, p->run);
	while ((rc = store_step(p->st, s)) == 1) {
		ALLOC_GROW(*out, *n + 1, cap, 256);
		(*out)[(*n)++] = (struct pf_leak){ sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
						   sqlite3_column_int64(s, 2) };
	}
	sqlite3_finalize(s);
	if (*n)
		qsort(*out, *n, sizeof(**out), pf_leak_cmp);
	return rc < 0 ? -EIO : 0;
}

/* A pipe's track name, "pipe 3 (inode 12345)" or "socket end 4 (inode 12346)", into buf. */
static int pf_pipe_name(struct pf *p, sqlite3_stmt *s, int64_t pipe, char *buf, size_t len)
{
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, p->run);
	sqlite3_bind_int64(s, 2, pipe);
	snprintf(buf, len, "pipe %lld", (long long)pipe);
	if ((rc = store_step(p->st, s)) == 1)
		snprintf(buf, len, "%s %lld (inode %lld)",
			 sqlite3_column_text(s, 0) && !strcmp((const char *)sqlite3_column_text(s, 0), "socket") ? "socket end"
													  : "pipe",
			 (long long)pipe,
			 (long long)sqlite3_column_int64(s, 1));
	return rc < 0 ? -EIO : 0;
}

/* Pass 3: a slice per pipe fd hold, on its pipe's track, one thread per holder (pid and fd). */
static int pf_holds(struct pf *p)
{
	sqlite3_stmt *s = store_prepare(p->st, "SELECT pipe_id, pid, fd, pipe_end, from_seq, to_seq FROM fd_holds"
					       " WHERE run_id = ?1 ORDER BY pipe_id, pid, fd, from_seq");
	sqlite3_stmt *pipe_s = store_preparef(p->st, "SELECT %s, inode FROM pipes WHERE run_id = ?1 AND pipe_id = ?2",
					      p->schema >= 6 ? "kind" : "'pipe'");
	int64_t last_pipe = -1, last_pid = -1, last_fd = -1, tid = VIZ_PERFETTO_HOLD_TID - 1;
	struct pf_leak *leaks = NULL;
	size_t nleaks = 0;
	int rc = -EIO;

	if (!s || !pipe_s || pf_leaks(p, &leaks, &nleaks) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, p->run);
	while (!ferror(p->out) && (rc = store_step(p->st, s)) == 1) {
		struct pf_leak key = { sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2) };
		const char *end = (const char *)sqlite3_column_text(s, 3);
		bool open = sqlite3_column_type(s, 5) == SQLITE_NULL;
		bool leaked = nleaks && bsearch(&key, leaks, nleaks, sizeof(*leaks), pf_leak_cmp);
		int64_t from = pf_seq_ns(p, sqlite3_column_int64(s, 4));
		int64_t to = open ? p->t_end : pf_seq_ns(p, sqlite3_column_int64(s, 5));
		int64_t ppid = VIZ_PERFETTO_PIPE_PID + key.pipe_id;
		char name[160];
		FILE *out;

		if (key.pipe_id != last_pipe) {
			if (pf_pipe_name(p, pipe_s, key.pipe_id, name, sizeof(name)) < 0) {
				rc = -1;
				break;
			}
			pf_meta(p, "process_name", ppid, ppid, name, 0);
			pf_meta(p, "process_sort_index", ppid, ppid, NULL, (long)(p->nprocs + (size_t)key.pipe_id));
			last_pid = -1;
		}
		if (key.pipe_id != last_pipe || key.pid != last_pid || key.fd != last_fd) {
			struct pf_proc *pr = pf_proc(p, (int)key.pid);

			snprintf(name, sizeof(name), "%s (pid %lld) fd %lld", pr->name ? pr->name : "process",
				 (long long)key.pid, (long long)key.fd);
			pf_meta(p, "thread_name", ppid, ++tid, name, 0);
		}
		last_pipe = key.pipe_id, last_pid = key.pid, last_fd = key.fd;
		snprintf(name, sizeof(name), "%s end%s", end ? end : "?", leaked ? " (leaked)" : "");
		out = pf_slice(p, "hold", name, ppid, tid, from, to);
		fputs(leaked ? ", \"cname\": \"terrible\", \"args\": {\"pid\": " : ", \"args\": {\"pid\": ", out);
		json_write_int(out, key.pid);
		fputs(", \"fd\": ", out);
		json_write_int(out, key.fd);
		fputs(", \"pipe_id\": ", out);
		json_write_int(out, key.pipe_id);
		fputs(", \"pipe_end\": ", out);
		json_write_str(out, end);
		fputs(", \"from_seq\": ", out);
		json_write_int(out, sqlite3_column_int64(s, 4));
		fputs(", \"to_seq\": ", out);
		if (open)
			fputs("null", out);
		else
			json_write_int(out, sqlite3_column_int64(s, 5));
		fputs(leaked ? ", \"leaked\": true" : ", \"leaked\": false", out);
		fputs(open ? ", \"until_end\": true}}" : ", \"until_end\": false}}", out);
	}
	rc = !ferror(p->out) && rc < 0 ? -EIO : 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(pipe_s);
	free(leaks);
	return rc;
}

int viz_perfetto_write(struct store *st, int64_t run, FILE *out)
{
	struct pf p = { .st = st, .run = run, .out = out };
	int64_t schema;
	int rc;

	if ((rc = store_check_run(st, run)) < 0)
		return rc;
	if (store_int(st, "SELECT user_version FROM pragma_user_version WHERE ?1", 1, 0, &schema) < 0)
		return -EIO;
	p.schema = (int)schema;
	if ((rc = pf_run(&p)) == 0 && (rc = pf_events(&p)) == 0) {
		pf_processes(&p);
		rc = pf_holds(&p);
	}
	if (rc == 0)
		fputs("\n]}\n", out);
	for (size_t i = 0; i < p.nprocs; i++)
		free(p.procs[i].name);
	for (size_t i = 0; i < p.nblocks; i++)
		free(p.blocks[i].args);
	free(p.procs);
	free(p.blocks);
	free(p.seqs);
	free(p.ts);
	inomap_release(&p.by_pid);
	return rc;
}
