/* ingest.c: turns event-log records into rows: events, and the processes, pipes and holds they imply.
 *
 * Each record becomes one `events` row. Alongside, it keeps every pool
 * process's fd table as the events describe it, so that a hold (one fd of one
 * process, from the event that opened it to the event that ended it) is one
 * `holds` row written once and closed with one UPDATE. Nothing here is a
 * model of what the kernel should have done: holds begin only at observed
 * events (pipe, inherit, dup2) and end only at recorded ones.
 */
#include "ingest.h"

#include "evlog.h"
#include "store.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct ingest_proc {
	pid_t pid;            /* 0: empty slot */
	uint64_t fork_seq;    /* inherited holds begin here */
	int64_t *hold_by_fd;  /* holds rowid, 0: fd not held */
	size_t nfds;
	int is_worker;
	int first_read_done;
};

struct ingest_pipe {
	uint64_t inode;       /* 0: empty slot */
	int64_t pipe_id;
};

struct ingest {
	struct store *st;
	int64_t run_id;
	uint64_t count;
	int64_t npipes;
	struct ingest_proc *procs;
	size_t procs_cap, procs_len;
	struct ingest_pipe *pipes;
	size_t pipes_cap, pipes_len;
	sqlite3_stmt *ins_event, *ins_proc, *ins_pipe, *ins_hold, *end_hold;
	sqlite3_stmt *set_first_read, *set_exit, *set_reap, *ins_holder;
};

/* Open addressing, linear probing: both tables only grow during a run. */
static size_t ingest_hash(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

static struct ingest_proc *ingest_proc_find(struct ingest *in, pid_t pid, int create)
{
	size_t i;

	if (create && (in->procs_len + 1) * 2 > in->procs_cap) {
		struct ingest_proc *old = in->procs;
		size_t old_cap = in->procs_cap;

		in->procs_cap = old_cap ? old_cap * 2 : 64;
		in->procs = xcalloc(in->procs_cap, sizeof(*in->procs));
		for (size_t j = 0; j < old_cap; j++) {
			if (!old[j].pid)
				continue;
			i = ingest_hash((uint64_t)old[j].pid, in->procs_cap);
			while (in->procs[i].pid)
				i = (i + 1) & (in->procs_cap - 1);
			in->procs[i] = old[j];
		}
		free(old);
	}
	if (!in->procs_cap)
		return NULL;
	for (i = ingest_hash((uint64_t)pid, in->procs_cap); in->procs[i].pid; i = (i + 1) & (in->procs_cap - 1))
		if (in->procs[i].pid == pid)
			return &in->procs[i];
	if (!create)
		return NULL;
	in->procs[i].pid = pid;
	in->procs_len++;
	return &in->procs[i];
}

static int64_t ingest_pipe_lookup(const struct ingest *in, uint64_t inode)
{
	if (!inode || !in->pipes_cap)
		return 0;
	for (size_t i = ingest_hash(inode, in->pipes_cap); in->pipes[i].inode; i = (i + 1) & (in->pipes_cap - 1))
		if (in->pipes[i].inode == inode)
			return in->pipes[i].pipe_id;
	return 0;
}

static void ingest_pipe_add(struct ingest *in, uint64_t inode, int64_t pipe_id)
{
	size_t i;

	if ((in->pipes_len + 1) * 2 > in->pipes_cap) {
		struct ingest_pipe *old = in->pipes;
		size_t old_cap = in->pipes_cap;

		in->pipes_cap = old_cap ? old_cap * 2 : 64;
		in->pipes = xcalloc(in->pipes_cap, sizeof(*in->pipes));
		in->pipes_len = 0;
		for (size_t j = 0; j < old_cap; j++)
			if (old[j].inode)
				ingest_pipe_add(in, old[j].inode, old[j].pipe_id);
		free(old);
	}
	for (i = ingest_hash(inode, in->pipes_cap); in->pipes[i].inode; i = (i + 1) & (in->pipes_cap - 1))
		if (in->pipes[i].inode == inode)
			break;
	if (!in->pipes[i].inode)
		in->pipes_len++;
	in->pipes[i] = (struct ingest_pipe){ inode, pipe_id };
}

struct ingest *ingest_new(struct store *st, int64_t run_id)
{
	struct ingest *in = xcalloc(1, sizeof(*in));

	in->st = st;
	in->run_id = run_id;
	in->ins_event = store_prepare(st, "INSERT INTO events VALUES "
				      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
	in->ins_proc = store_prepare(st, "INSERT OR IGNORE INTO processes (run_id, pid, role, worker_index, ppid, fork_seq)"
				     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	in->ins_pipe = store_prepare(st, "INSERT INTO pipes VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	in->ins_hold = store_prepare(st, "INSERT INTO holds (run_id, pid, fd, pipe_id, pipe_end, inode, is_foreign,"
				     " detail, from_seq, from_kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	in->end_hold = store_prepare(st, "UPDATE holds SET to_seq = ?2, to_kind = ?3 WHERE rowid = ?1");
	in->set_first_read = store_prepare(st, "UPDATE processes SET first_read_seq = ?3 WHERE run_id = ?1 AND pid = ?2");
	in->set_exit = store_prepare(st, "UPDATE processes SET exit_seq = ?3, exit_code = ?4 WHERE run_id = ?1 AND pid = ?2");
	in->set_reap = store_prepare(st, "UPDATE processes SET reap_seq = ?3, reaped_by = ?4,"
				     " exit_code = coalesce(?5, exit_code), term_signal = ?6 WHERE run_id = ?1 AND pid = ?2");
	in->ins_holder = store_prepare(st, "INSERT INTO hang_holders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (!in->ins_event || !in->ins_proc || !in->ins_pipe || !in->ins_hold || !in->end_hold ||
	    !in->set_first_read || !in->set_exit || !in->set_reap || !in->ins_holder)
		die("cannot prepare the trace statements (schema mismatch?)");
	return in;
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	sqlite3_finalize(in->ins_event);
	sqlite3_finalize(in->ins_proc);
	sqlite3_finalize(in->ins_pipe);
	sqlite3_finalize(in->ins_hold);
	sqlite3_finalize(in->end_hold);
	sqlite3_finalize(in->set_first_read);
	sqlite3_finalize(in->set_exit);
	sqlite3_finalize(in->set_reap);
	sqlite3_finalize(in->ins_holder);
	for (size_t i = 0; i < in->procs_cap; i++)
		free(in->procs[i].hold_by_fd);
	free(in->procs);
	free(in->pipes);
	free(in);
}

uint64_t ingest_count(const struct ingest *in)
{
	return in->count;
}

/* Steps a bound statement to completion and resets it. */
static int ingest_step(struct ingest *in, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return error("%s: %s", in->st->path, sqlite3_errmsg(in->st->db));
	return 0;
}

static void ingest_bind_opt(sqlite3_stmt *s, int col, int has, int64_t v)
{
	if (has)
		sqlite3_bind_int64(s, col, v);
	else
		sqlite3_bind_null(s, col);
}

static void ingest_bind_text(sqlite3_stmt *s, int col, const char *t)
{
	if (t && *t)
		sqlite3_bind_text(s, col, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, col);
}

static int ingest_end_hold(struct ingest *in, struct ingest_proc *p, int fd, uint64_t seq, const char *kind)
{
	int64_t rowid;

	if (!p || fd < 0 || (size_t)fd >= p->nfds || !p->hold_by_fd[fd])
		return 0;
	rowid = p->hold_by_fd[fd];
	p->hold_by_fd[fd] = 0;
	sqlite3_bind_int64(in->end_hold, 1, rowid);
	sqlite3_bind_int64(in->end_hold, 2, (int64_t)seq);
	sqlite3_bind_text(in->end_hold, 3, kind, -1, SQLITE_STATIC);
	return ingest_step(in, in->end_hold);
}

static int ingest_end_all(struct ingest *in, struct ingest_proc *p, uint64_t seq, const char *kind)
{
	if (!p)
		return 0;
	for (size_t fd = 0; fd < p->nfds; fd++)
		if (ingest_end_hold(in, p, (int)fd, seq, kind) < 0)
			return -1;
	return 0;
}

static int ingest_open_hold(struct ingest *in, pid_t pid, int fd, uint64_t inode, int end,
			    const char *detail, uint64_t seq, const char *kind)
{
	struct ingest_proc *p = ingest_proc_find(in, pid, 1);
	int64_t pipe_id = ingest_pipe_lookup(in, inode);
	sqlite3_stmt *s = in->ins_hold;

	if (fd < 0)
		return 0;
	if (ingest_end_hold(in, p, fd, seq, kind) < 0)
		return -1;
	if ((size_t)fd >= p->nfds) {
		size_t n = p->nfds ? p->nfds : 16;

		while (n <= (size_t)fd)
			n *= 2;
		p->hold_by_fd = xrealloc(p->hold_by_fd, n * sizeof(*p->hold_by_fd));
		memset(p->hold_by_fd + p->nfds, 0, (n - p->nfds) * sizeof(*p->hold_by_fd));
		p->nfds = n;
	}
	sqlite3_bind_int64(s, 1, in->run_id);
	sqlite3_bind_int64(s, 2, pid);
	sqlite3_bind_int(s, 3, fd);
	ingest_bind_opt(s, 4, pipe_id != 0, pipe_id);
	ingest_bind_text(s, 5, inode ? evlog_end_name(end) : NULL);
	ingest_bind_opt(s, 6, inode != 0, (int64_t)inode);
	sqlite3_bind_int(s, 7, pipe_id == 0);
	ingest_bind_text(s, 8, detail);
	sqlite3_bind_int64(s, 9, (int64_t)seq);
	sqlite3_bind_text(s, 10, kind, -1, SQLITE_STATIC);
	if (ingest_step(in, s) < 0)
		return -1;
	p->hold_by_fd[fd] = sqlite3_last_insert_rowid(in->st->db);
	return 0;
}

static int ingest_pid_update(struct ingest *in, sqlite3_stmt *s, pid_t pid, uint64_t seq)
{
	sqlite3_bind_int64(s, 1, in->run_id);
	sqlite3_bind_int64(s, 2, pid);
	sqlite3_bind_int64(s, 3, (int64_t)seq);
	return ingest_step(in, s);
}

/* Derived rows for one record: processes, pipes, holds. */
static int ingest_derive(struct ingest *in, const struct evlog_record *r, uint64_t seq)
{
	const char *kind = evlog_kind_name(r->kind);
	int ok = !(r->has & HAS_RESULT) || r->result >= 0;
	struct ingest_proc *p;
	sqlite3_stmt *s;

	switch (r->kind) {
	case EV_PIPE:
		if (!ok || !(r->has & HAS_INODE))
			return 0;
		ingest_pipe_add(in, r->inode, ++in->npipes);
		s = in->ins_pipe;
		sqlite3_bind_int64(s, 1, in->run_id);
		sqlite3_bind_int64(s, 2, in->npipes);
		sqlite3_bind_int64(s, 3, (int64_t)r->inode);
		ingest_bind_opt(s, 4, r->has & HAS_ARG, r->arg);
		sqlite3_bind_int64(s, 5, r->pid);
		sqlite3_bind_int64(s, 6, (int64_t)seq);
		sqlite3_bind_int(s, 7, r->fd);
		sqlite3_bind_int(s, 8, r->fd2);
		if (ingest_step(in, s) < 0)
			return -1;
		if (ingest_open_hold(in, r->pid, r->fd, r->inode, END_READ, NULL, seq, kind) < 0)
			return -1;
		return ingest_open_hold(in, r->pid, r->fd2, r->inode, END_WRITE, NULL, seq, kind);
	case EV_FORK:
		if (!ok)
			return 0;
		p = ingest_proc_find(in, r->pid, 1);
		p->is_worker = (r->has & HAS_ARG) != 0;
		p->fork_seq = seq;
		s = in->ins_proc;
		sqlite3_bind_int64(s, 1, in->run_id);
		sqlite3_bind_int64(s, 2, r->pid);
		sqlite3_bind_text(s, 3, p->is_worker ? "worker" : "parent", -1, SQLITE_STATIC);
		ingest_bind_opt(s, 4, r->has & HAS_ARG, r->arg);
		ingest_bind_opt(s, 5, r->has & HAS_OTHER_PID, r->other_pid);
		sqlite3_bind_int64(s, 6, (int64_t)seq);
		return ingest_step(in, s);
	case EV_INHERIT:
		/* Observed after fork, but held since fork copied the fd table. */
		p = ingest_proc_find(in, r->pid, 0);
		return ingest_open_hold(in, r->pid, r->fd, r->has & HAS_INODE ? r->inode : 0, r->pipe_end,
					r->text, p && p->fork_seq ? p->fork_seq : seq, kind);
	case EV_CLOSE:
		return ok ? ingest_end_hold(in, ingest_proc_find(in, r->pid, 0), r->fd, seq, kind) : 0;
	case EV_CLOSE_RANGE:
		p = ingest_proc_find(in, r->pid, 0);
		if (!ok || !p)
			return 0;
		for (size_t fd = (size_t)r->fd; fd < p->nfds && fd <= (size_t)r->fd2; fd++)
			if (ingest_end_hold(in, p, (int)fd, seq, kind) < 0)
				return -1;
		return 0;
	case EV_DUP2:
		if (!ok || r->fd == r->fd2)
			return 0;
		return ingest_open_hold(in, r->pid, r->fd, r->has & HAS_INODE ? r->inode : 0, r->pipe_end,
					NULL, seq, kind);
	case EV_HANG:
		/* Blocked in its very first read(0): the kernel's evidence is the anchor. */
		if (!(r->has & HAS_FD) || r->pipe_end != END_READ)
			return 0;
		/* fall through */
	case EV_READ:
	case EV_READ_ZERO:
		p = ingest_proc_find(in, r->pid, 0);
		if (!p || !p->is_worker || p->first_read_done || r->fd != 0)
			return 0;
		p->first_read_done = 1;
		return ingest_pid_update(in, in->set_first_read, r->pid, seq);
	case EV_EXIT:
		sqlite3_bind_int64(in->set_exit, 4, r->arg);
		if (ingest_pid_update(in, in->set_exit, r->pid, seq) < 0)
			return -1;
		return ingest_end_all(in, ingest_proc_find(in, r->pid, 0), seq, kind);
	case EV_REAP:
		s = in->set_reap;
		sqlite3_bind_int64(s, 4, r->pid);
		ingest_bind_opt(s, 5, r->has & HAS_ARG, r->arg);
		ingest_bind_opt(s, 6, r->has & HAS_SIGNAL, r->signal);
		if (ingest_pid_update(in, s, r->other_pid, seq) < 0)
			return -1;
		/* A process killed by a signal never recorded `exit`: its fds end here. */
		return ingest_end_all(in, ingest_proc_find(in, r->other_pid, 0), seq, kind);
	default:
		return 0;
	}
}

int ingest_records(struct ingest *in, const struct evlog_record *recs, size_t n)
{
	sqlite3_stmt *s = in->ins_event;

	for (size_t i = 0; i < n; i++) {
		const struct evlog_record *r = &recs[i];
		uint64_t seq = r->ready;
		int has = r->has;
		int64_t pipe_id = has & HAS_INODE ? ingest_pipe_lookup(in, r->inode) : 0;

		/* Derive first: a `pipe` event must know its own pipe_id. */
		if (ingest_derive(in, r, seq) < 0)
			return -1;
		if (r->kind == EV_PIPE && (has & HAS_INODE))
			pipe_id = ingest_pipe_lookup(in, r->inode);
		sqlite3_bind_int64(s, 1, in->run_id);
		sqlite3_bind_int64(s, 2, (int64_t)seq);
		sqlite3_bind_int64(s, 3, (int64_t)r->ts_ns);
		sqlite3_bind_int64(s, 4, r->pid);
		sqlite3_bind_text(s, 5, evlog_kind_name(r->kind), -1, SQLITE_STATIC);
		ingest_bind_opt(s, 6, has & HAS_FD, r->fd);
		ingest_bind_opt(s, 7, has & HAS_FD2, r->fd2);
		ingest_bind_opt(s, 8, pipe_id != 0, pipe_id);
		ingest_bind_text(s, 9, has & HAS_INODE ? evlog_end_name(r->pipe_end) : NULL);
		ingest_bind_opt(s, 10, has & HAS_INODE, (int64_t)r->inode);
		ingest_bind_opt(s, 11, has & HAS_OTHER_PID, r->other_pid);
		ingest_bind_opt(s, 12, has & HAS_RESULT, r->result);
		ingest_bind_opt(s, 13, has & HAS_ARG, r->arg);
		ingest_bind_opt(s, 14, has & HAS_SIGNAL, r->signal);
		ingest_bind_opt(s, 15, r->kind == EV_INHERIT, pipe_id == 0);
		ingest_bind_text(s, 16, r->text[0] ? r->text : NULL);
		if (ingest_step(in, s) < 0)
			return -1;
		in->count++;
	}
	return 0;
}

int ingest_hang_holder(struct ingest *in, uint64_t seq, pid_t blocked, uint64_t inode, pid_t holder, int fd)
{
	sqlite3_stmt *s = in->ins_holder;
	int64_t pipe_id = ingest_pipe_lookup(in, inode);

	sqlite3_bind_int64(s, 1, in->run_id);
	sqlite3_bind_int64(s, 2, (int64_t)seq);
	sqlite3_bind_int64(s, 3, blocked);
	ingest_bind_opt(s, 4, pipe_id != 0, pipe_id);
	sqlite3_bind_int64(s, 5, (int64_t)inode);
	sqlite3_bind_int64(s, 6, holder);
	sqlite3_bind_int(s, 7, fd);
	return ingest_step(in, s);
}
