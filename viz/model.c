/* model.c: the fd graph of one run at one moment, loaded from the trace database.
 *
 * A moment S is "the state right after event S": a hold is live at S when
 * from_seq <= S and it had not ended by then (to_seq > S or NULL). Which S
 * a named moment is: moment.c.
 */
#include "viz/model.h"
#include "viz/fdgraph.h"
#include "viz/moment.h"
#include "viz/output.h"

#include "store/store.h"
#include "base/sbuf.h"
#include "base/util.h"
#include "base/where.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of schema 5 that older files, read as they are, lack (their runs are all pool runs). */
#define VIZ_V5(m, column) ((m)->schema >= 5 ? column : "NULL")
#define VIZ_V8(m, column) ((m)->schema >= 8 ? column : "NULL")
/* Socketpairs came with schema 6: kind and peer_id of pipes. */
#define VIZ_V6(m, column, otherwise) ((m)->schema >= 6 ? column : otherwise)

const char *viz_col_text(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	return t ? t : "";
}

static char *viz_dup_col(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	return t ? xstrdup(t) : NULL;
}

/* Binds ?1 to the run and ?2 (if the SQL has it) to the moment, then steps s to the end,
 * handing each row to one(m, s). 0 or -EIO (error printed). */
static int viz_each_row(struct store *st, sqlite3_stmt *s, struct viz_model *m,
			void (*one)(struct viz_model *m, sqlite3_stmt *s))
{
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, m->run_id);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, m->seq);
	while ((rc = store_step(st, s)) == 1)
		one(m, s);
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

/*
 * Whether the file has index `name`: a file of the current schema made
 * before one of its indexes was added has it only once a writer has opened
 * it, and a reader must not name an index that is not there.
 */
static bool viz_has_index(struct store *st, const char *name)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1");
	bool has = false;

	if (s) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		has = store_step(st, s) == 1;
		sqlite3_finalize(s);
	}
	return has;
}

static void viz_one_proc(struct viz_model *m, sqlite3_stmt *s)
{
	struct viz_proc *p;

	ALLOC_GROW(m->procs, m->nprocs + 1, m->procs_cap, 16);
	p = &m->procs[m->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = sqlite3_column_int(s, 0);
	p->parent = sqlite3_column_int(s, 1);
	{
		const char *prog = viz_col_text(s, 6), *base = strrchr(prog, '/');

		snprintf(p->program, sizeof(p->program), "%s", base ? base + 1 : prog);
	}
	p->worker_index = sqlite3_column_int(s, 2);
	/* A fork that did not exec runs its parent's program, and so on up: parents come first. */
	for (size_t i = 0; !p->program[0] && i + 1 < m->nprocs; i++)
		if (m->procs[i].pid == sqlite3_column_int(s, 7))
			memcpy(p->program, m->procs[i].program, sizeof(p->program));
	p->alive = sqlite3_column_type(s, 3) == SQLITE_NULL || sqlite3_column_int64(s, 3) > m->seq;
	if (!p->alive && sqlite3_column_type(s, 5) != SQLITE_NULL)
	{
		/* "killed by SIGPIPE (13)": the signal's name says why (a write with no reader left). */
		const char *abbrev = sigabbrev_np(sqlite3_column_int(s, 5));

		if (abbrev)
			snprintf(p->status, sizeof(p->status), "killed by SIG%s (%d)", abbrev, sqlite3_column_int(s, 5));
		else
			snprintf(p->status, sizeof(p->status), "killed by signal %d", sqlite3_column_int(s, 5));
	}
	else if (!p->alive)
		snprintf(p->status, sizeof(p->status), "exited %d", sqlite3_column_int(s, 4));
}

static int viz_load_procs(struct store *st, struct viz_model *m)
{
	return viz_each_row(st, store_preparef(st, "SELECT pid, role = 'parent', coalesce(worker_index, -1),"
				    " coalesce(exit_seq, reap_seq), exit_code, term_signal, %s, %s"
				    " FROM processes WHERE run_id = ?1 AND fork_seq <= ?2"
				    /* Pool: the parent, then workers by index; any program: in fork order. */
				    " ORDER BY role = 'worker', worker_index, fork_seq",
				    VIZ_V5(m, "program"), VIZ_V5(m, "ppid")),
			    m, viz_one_proc);
}

static struct viz_proc *viz_find_proc(struct viz_model *m, int pid)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid == pid)
			return &m->procs[i];
	return NULL;
}

/* A row of viz_load_fds: pid, fd, pipe_id, inode, pipe_end, is_foreign, detail; whether it is leaked. */
static void viz_one_fd(struct viz_model *m, sqlite3_stmt *s, bool write_end, bool socket_end, bool leaked)
{
	int pid = sqlite3_column_int(s, 0);
	struct viz_proc *p = m->last_proc;
	struct viz_fd *f;

	/* Rows come by pid: look a process up once, not once per fd. */
	if (!p || p->pid != pid)
		p = m->last_proc = viz_find_proc(m, pid);
	if (!p || !p->alive)
		return;
	ALLOC_GROW(p->fds, p->nfds + 1, p->cap, 8);
	f = &p->fds[p->nfds++];
	f->fd = sqlite3_column_int(s, 1);
	f->pipe_id = sqlite3_column_int64(s, 2);
	f->inode = (uint64_t)sqlite3_column_int64(s, 3);
	f->write_end = write_end;
	f->foreign = sqlite3_column_int(s, 5);
	f->detail = viz_dup_col(s, 6);
	f->socket_end = socket_end;
	f->leaked = leaked;
	m->leaked_now += f->leaked;
}

static void viz_one_pipe(struct viz_model *m, sqlite3_stmt *s)
{
	ALLOC_GROW(m->pipes, m->npipes + 1, m->pipes_cap, 16);
	m->pipes[m->npipes++] = (struct viz_pipe){ .pipe_id = sqlite3_column_int64(s, 0),
						   .inode = (uint64_t)sqlite3_column_int64(s, 1),
						   .channel = sqlite3_column_int(s, 2),
						   .socket = sqlite3_column_int(s, 3),
						   .peer_id = sqlite3_column_int64(s, 4) };
}

struct viz_pipe_index {
	int64_t pipe_id;
	size_t k; /* its place in m->pipes */
};

static int viz_pipe_index_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct viz_pipe_index *)a)->pipe_id, y = ((const struct viz_pipe_index *)b)->pipe_id;

	return (x > y) - (x < y);
}

/* m->pipes sorted by pipe_id, for viz_pipe_at: m->npipes + 1 entries (free it). */
static struct viz_pipe_index *viz_pipe_index_new(const struct viz_model *m)
{
	struct viz_pipe_index *idx = xcalloc(m->npipes + 1, sizeof(*idx));

	for (size_t k = 0; k < m->npipes; k++)
		idx[k] = (struct viz_pipe_index){ m->pipes[k].pipe_id, k };
	qsort(idx, m->npipes, sizeof(*idx), viz_pipe_index_cmp);
	return idx;
}

/* Where pipe_id is in m->pipes, through idx (sorted by pipe_id); m->npipes if it is not there. */
static size_t viz_pipe_at(const struct viz_model *m, const struct viz_pipe_index *idx, int64_t pipe_id)
{
	struct viz_pipe_index key = { .pipe_id = pipe_id };
	const struct viz_pipe_index *hit = bsearch(&key, idx, m->npipes, sizeof(*idx), viz_pipe_index_cmp);

	return hit ? hit->k : m->npipes;
}

/*
 * The fds held at the moment, and the pipes made by then that a hold live
 * at the moment refers to, from one pass over the run's holds. Each fd is
 * marked leaked by leaked_write_ends' rule, word for word (for schema 5 on;
 * older files, read as they are, have their own view, asked per hold).
 * Before, the view's rows were merged in and the live pipes found by a
 * second pass over the holds: three passes over half a million rows for a
 * 1000-worker run (0.29 s each). 0 or -EIO.
 */
static int viz_load_fds(struct store *st, struct viz_model *m)
{
	sqlite3_stmt *s;
	struct viz_pipe_index *idx;
	bool *live;
	size_t kept = 0;
	int64_t io_events;
	int rc;

	/* The run's own, for the rule's socket ends: a subquery per hold cost 0.1 s. */
	if (store_int(st, "SELECT io_events FROM runs WHERE id = ?1", m->run_id, 0, &io_events) < 0)
		return -EIO;
	rc = viz_each_row(st, store_preparef(st, "SELECT pipe_id, inode, coalesce(channel, -1), %s FROM pipes"
						 " WHERE run_id = ?1 AND created_seq <= ?2 ORDER BY channel, pipe_id",
						 VIZ_V6(m, "kind = 'socket', coalesce(peer_id, 0)", "0, 0")),
			  m, viz_one_pipe);
	if (rc < 0)
		return rc;
	/* Plain columns: each expression SQLite computes per hold costs (0.05 s in all, here). */
	s = store_preparef(st, "SELECT h.pid, h.fd, h.pipe_id, h.inode, h.pipe_end, h.is_foreign, h.detail, %s"
			       " FROM holds h WHERE h.run_id = ?1 AND h.from_seq <= ?2"
			       " AND (h.to_seq IS NULL OR h.to_seq > ?2) ORDER BY h.pid, h.fd",
			   m->schema >= 5 ? "h.from_kind = 'inherit' AND h.touched_seq IS NULL"
					  : "EXISTS (SELECT 1 FROM leaked_write_ends l WHERE l.run_id = h.run_id"
					    " AND l.pid = h.pid AND l.fd = h.fd AND l.pipe_id = h.pipe_id)");
	if (!s)
		return -EIO;
	idx = viz_pipe_index_new(m);
	live = xcalloc(m->npipes + 1, sizeof(*live));
	m->last_proc = NULL;
	sqlite3_bind_int64(s, 1, m->run_id);
	sqlite3_bind_int64(s, 2, m->seq);
	while ((rc = store_step(st, s)) == 1) {
		bool pipe = sqlite3_column_type(s, 2) != SQLITE_NULL;
		int64_t pipe_id = sqlite3_column_int64(s, 2);
		const char *end = viz_col_text(s, 4);
		bool write_end = !strcmp(end, "write"), socket_end = !strcmp(end, "socket");
		/*
		 * leaked_write_ends: pipe_id IS NOT NULL AND from_kind = 'inherit'
		 * AND touched_seq IS NULL AND (pipe_end = 'write' OR (pipe_end =
		 * 'socket' AND the run's io_events)); column 7 is its middle.
		 */
		bool leaked = m->schema >= 5 ? pipe && sqlite3_column_int(s, 7) && (write_end || (socket_end && io_events))
					     : sqlite3_column_int(s, 7);

		/* The next pipe, or the same: a process's pipe fds mostly come in the pipes' order. */
		if (pipe && kept + 1 < m->npipes && m->pipes[kept + 1].pipe_id == pipe_id)
			kept++;
		else if (pipe && (kept == m->npipes || m->pipes[kept].pipe_id != pipe_id))
			kept = viz_pipe_at(m, idx, pipe_id);
		if (pipe)
			live[kept] = true;
		viz_one_fd(m, s, write_end, socket_end, leaked);
	}
	sqlite3_finalize(s);
	kept = 0;
	for (size_t k = 0; k < m->npipes; k++)
		if (live[k])
			m->pipes[kept++] = m->pipes[k];
	m->npipes = kept;
	free(idx);
	free(live);
	return rc < 0 ? -EIO : 0;
}

/* The run's own row: strategy, workers, outcome, and its last event. 0, -EINVAL or -EIO. */
static int viz_load_run(struct store *st, struct viz_model *m)
{
	sqlite3_stmt *s;
	int rc;

	if (store_int(st, "SELECT user_version FROM pragma_user_version WHERE ?1", 1, 0, &m->schema) < 0)
		return -EIO;
	s = store_preparef(st, "SELECT coalesce(strategy, ''), coalesce(workers, 0), coalesce(outcome, ''), %s,"
					    " %s, %s FROM runs WHERE id = ?1",
			   /* Every run ends with lifecycle events (reaps at the least), so
			    * the last of those is the run's last; skipping the per-task
			    * kinds keeps their chunks packed. From schema 7 event_rows is
			    * keyed by (run_id, seq) and holds every other kind: read from
			    * the run's end back, the first row is it (max(seq) read the
			    * run's half million events: 0.24 s for 1000 workers). */
			   m->schema >= 7 ? "(SELECT seq FROM event_rows WHERE run_id = ?1"
					    " AND kind NOT IN ('write', 'read', 'task') ORDER BY seq DESC LIMIT 1)"
					  : "(SELECT max(seq) FROM events WHERE run_id = ?1"
					    " AND kind NOT IN ('write', 'read', 'task'))",
			   VIZ_V5(m, "command"), VIZ_V8(m, "incomplete"));
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, m->run_id);
	rc = store_step(st, s);
	if (rc == 1) {
		snprintf(m->strategy, sizeof(m->strategy), "%s", viz_col_text(s, 0));
		/* Only the pool has a strategy (in every schema): the one place a reader tells the sources apart. */
		m->pool = m->strategy[0] != '\0';
		m->workers = sqlite3_column_int(s, 1);
		snprintf(m->outcome, sizeof(m->outcome), "%s", viz_col_text(s, 2));
		m->last_seq = sqlite3_column_int64(s, 3);
		snprintf(m->command, sizeof(m->command), "%s", viz_col_text(s, 4));
		snprintf(m->incomplete, sizeof(m->incomplete), "%s", viz_col_text(s, 5));
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	if (rc == 0)
		return error("%s: no run %lld", store_path(st), (long long)m->run_id), -EINVAL;
	if (m->last_seq < 1)
		return error("run %lld recorded no events (outcome %s): nothing to draw", (long long)m->run_id,
			     m->outcome[0] ? m->outcome : "none: pooltrace was killed or the run is still going"),
		       -EINVAL;
	return 0;
}

/*
 * EOF blockers of the run, and those still holding on at the moment, from
 * one reading of the view (two cost 0.16 s and 0.14 s for a 1000-worker
 * run). The blockers are few and materialized first: the holds the EXISTS
 * looks at are many, and the planner would otherwise test every hold.
 * 0 or -EIO.
 */
static int viz_load_blockers(struct store *st, struct viz_model *m)
{
	sqlite3_stmt *s;
	int rc;

	s = store_prepare(st, "WITH b AS MATERIALIZED (SELECT run_id, pid, fd, pipe_id, close_seq FROM eof_blockers"
			      " WHERE run_id = ?1)"
			      " SELECT count(*), coalesce(sum(CASE WHEN b.close_seq <= ?2 THEN EXISTS (SELECT 1 FROM holds h"
			      " WHERE h.run_id = b.run_id AND h.pid = b.pid AND h.fd = b.fd AND h.pipe_id = b.pipe_id"
			      " AND h.from_seq <= ?2 AND (h.to_seq IS NULL OR h.to_seq > ?2)) ELSE 0 END), 0) FROM b");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, m->run_id);
	sqlite3_bind_int64(s, 2, m->seq);
	if ((rc = store_step(st, s)) == 1) {
		m->blockers_run = sqlite3_column_int64(s, 0);
		m->blockers_now = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

/*
 * record --stacks: where a hang event's call was made, from the columns
 * col.. (file, line, function, module, module_offset) of its own frame:
 * "cxxpool.cpp:66 in ProcessPool::work", without line info "ProcessPool::work
 * in cxxpool+0x1b2c", as explain words it. Nothing when the columns are NULL.
 */
static void viz_one_where(struct viz_proc *p, sqlite3_stmt *s, int col)
{
	const char *file, *module, *slash;
	struct sbuf text = SBUF_INIT;
	char function[128];
	size_t n;

	if (sqlite3_column_count(s) <= col + 4 || sqlite3_column_type(s, col + 4) == SQLITE_NULL)
		return;
	file = (slash = strrchr(viz_col_text(s, col), '/')) ? slash + 1 : viz_col_text(s, col);
	module = (slash = strrchr(viz_col_text(s, col + 3), '/')) ? slash + 1 : viz_col_text(s, col + 3);
	snprintf(function, sizeof(function), "%s", viz_col_text(s, col + 2));
	where_words(&text, file, sqlite3_column_int(s, col + 1), function_short_name(function), module,
		    sqlite3_column_int64(s, col + 4));
	/* The label cuts it to its width anyway (viz_label_append_head). */
	n = strnlen(text.s, sizeof(p->where) - 1);
	memcpy(p->where, text.s, n);
	p->where[n] = '\0';
	sbuf_release(&text);
}

/*
 * "blocked in read(fd 0) on pipe 1, 0 of 65536 bytes queued", from a hang or
 * blocked event's row (pid, fd, pipe_id, inode, other_pid, detail, result, arg).
 */
static void viz_one_hang(struct viz_model *m, sqlite3_stmt *s)
{
	struct viz_proc *p = viz_find_proc(m, sqlite3_column_int(s, 0)), *child;
	const char *detail = viz_col_text(s, 5), *call = strstr(detail, "syscall="), *fds, *joins;
	char name[24] = "?", text[sizeof(p->blocked)];
	/* A thread other than its process's leader: named in the text (hang.c). */
	long tid = strncmp(detail, "tid=", 4) ? 0 : strtol(detail + 4, NULL, 10);
	int other = sqlite3_column_int(s, 4);
	const char *on = "pipe";

	if (!p || !p->alive)
		return;
	for (size_t i = 0; i < m->npipes; i++)
		if (m->pipes[i].pipe_id == sqlite3_column_int64(s, 2) && m->pipes[i].socket)
			on = "socket";
	if (sqlite3_column_type(s, 6) != SQLITE_NULL && sqlite3_column_type(s, 2) != SQLITE_NULL)
		for (size_t i = 0; i < m->npipes; i++)
			if (m->pipes[i].pipe_id == sqlite3_column_int64(s, 2)) {
				/* How full the pipe is: drawn on the pipe itself too. */
				m->pipes[i].queued = sqlite3_column_int64(s, 6);
				m->pipes[i].capacity = sqlite3_column_int64(s, 7);
			}
	if (call)
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(call + 8, " "), call + 8);
	if (sqlite3_column_type(s, 1) != SQLITE_NULL && sqlite3_column_type(s, 2) != SQLITE_NULL &&
	    sqlite3_column_type(s, 6) != SQLITE_NULL)
		/* How full the pipe was: empty for a blocked reader, full for a blocked writer. */
		snprintf(text, sizeof(text), "%s(fd %d) on pipe %lld · %lld of %lld B queued", name,
			 sqlite3_column_int(s, 1), (long long)sqlite3_column_int64(s, 2),
			 (long long)sqlite3_column_int64(s, 6), (long long)sqlite3_column_int64(s, 7));
	else if (sqlite3_column_type(s, 1) != SQLITE_NULL && sqlite3_column_type(s, 2) != SQLITE_NULL)
		snprintf(text, sizeof(text), "%s(fd %d) on %s %lld", name, sqlite3_column_int(s, 1), on,
			 (long long)sqlite3_column_int64(s, 2));
	else if (sqlite3_column_type(s, 1) != SQLITE_NULL)
		snprintf(text, sizeof(text), "%s(fd %d) on pipe:[%lld]", name, sqlite3_column_int(s, 1),
			 (long long)sqlite3_column_int64(s, 3));
	else if ((joins = strstr(detail, " joins=")))
		/* pthread_join: waits for that thread to exit. */
		snprintf(text, sizeof(text), "join(thread %ld)", strtol(joins + 7, NULL, 10));
	else if (sqlite3_column_type(s, 4) == SQLITE_NULL && (fds = strstr(detail, " fds=")))
		/* poll, select, epoll: the fds it waits on, "poll(fd 5,7)". */
		snprintf(text, sizeof(text), "%s(fd %.*s)", name, (int)strcspn(fds + 5, " "), fds + 5);
	else if (sqlite3_column_type(s, 4) == SQLITE_NULL)
		snprintf(text, sizeof(text), "%s", name);
	else if (other <= 0)
		snprintf(text, sizeof(text), "%s(any child)", name);
	else if ((child = viz_find_proc(m, other)) && child->worker_index >= 0)
		snprintf(text, sizeof(text), "%s(worker %d)", name, child->worker_index);
	else
		snprintf(text, sizeof(text), "%s(pid %d)", name, other);
	if (!tid) {
		memcpy(p->blocked, text, sizeof(p->blocked));
		viz_one_where(p, s, 8);
	} else {
		/* One line per thread, the call only: how full its pipe is shows on the pipe. */
		size_t used = strlen(p->threads);
		const char *fill = strstr(text, " · ");

		if (used + 1 < sizeof(p->threads))
			snprintf(p->threads + used, sizeof(p->threads) - used, "thread %ld: %.*s\n", tid,
				 (int)(fill ? (size_t)(fill - text) : strlen(text)), text);
		if (!strchr(p->threads + used, '\n'))
			p->threads[used] = '\0'; /* did not fit whole: counted, not drawn */
		p->nthreads++;
	}
}

static void viz_one_wait_add(struct viz_model *m, struct viz_wait w)
{
	ALLOC_GROW(m->waits, m->nwaits + 1, m->waits_cap, 16);
	m->waits[m->nwaits++] = w;
}

static void viz_one_wait(struct viz_model *m, sqlite3_stmt *s)
{
	viz_one_wait_add(m, (struct viz_wait){ .pid = sqlite3_column_int(s, 0), .waits_for = sqlite3_column_int(s, 1),
					       .pipe_id = sqlite3_column_int64(s, 2), .socket = sqlite3_column_int(s, 3) });
}

/*
 * The processes a picture of m may draw, cut as it is: a pool's parent and
 * the workers viz_fdgraph_worker_shown names (max, keep); a recorded
 * program's that viz_model_cut left. Their count in *n; free the array.
 */
static int *viz_drawable_pids(const struct viz_model *m, int max, int keep, size_t *n)
{
	const struct viz_fdgraph_opts o = { .max_workers = max, .keep = keep };
	int *pids = xcalloc(m->nprocs + 1, sizeof(*pids));

	*n = 0;
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->pool ? viz_fdgraph_worker_shown(&o, m->workers, m->procs[i].worker_index) : !m->procs[i].cut)
			pids[(*n)++] = m->procs[i].pid;
	return pids;
}

/*
 * From the moment a deadlock was detected on: what each process still alive
 * was blocked in (its hang event), and the wait-for graph (schema 5's view)
 * among the processes that may be drawn, with the edges on a cycle marked.
 * Nothing before that moment.
 */
static int viz_load_hang(struct store *st, struct viz_model *m, int max, int keep)
{
	int64_t first;
	int *pids;
	size_t npids;
	int rc;

	if (viz_hang_seq(st, m->run_id, &first) < 0)
		return -EIO;
	if (first < 0 || m->seq < first)
		return 0;
	/* The hang events through their index (schema 7): SQLite would read the run's events for them.
	 * With stacks (schema 12), each one's own frame: where its call was made. */
	rc = viz_each_row(st, store_preparef(st, "SELECT h.pid, h.fd, h.pipe_id, h.inode, h.other_pid, h.detail, h.result, h.arg%s"
						 " FROM %s%s WHERE h.run_id = ?1 AND h.kind = 'hang' ORDER BY h.seq",
						 m->schema >= 12 ? ", f.file, f.line, f.function, f.module, f.module_offset" : "",
						 m->schema >= 7 ? "event_rows h INDEXED BY event_rows_hangs" : "events h",
						 m->schema >= 12 ? " LEFT JOIN event_stacks e ON e.run_id = h.run_id AND e.seq = h.seq"
								   " LEFT JOIN stacks k ON k.run_id = e.run_id AND k.stack_id = e.stack_id"
								   " LEFT JOIN stack_frames f ON f.run_id = k.run_id AND f.stack_id = k.stack_id"
								   "  AND f.frame = coalesce(k.own_frame, 0)" : ""),
			  m, viz_one_hang);
	if (rc < 0)
		return rc;
	pids = viz_drawable_pids(m, max, keep, &npids);
	rc = viz_model_load_waits(st, m, pids, npids);
	free(pids);
	return rc;
}

/*
 * Before any deadlock: the processes found blocked on a pipe (a `blocked`
 * event) that had not run again by the moment, each with what it was
 * blocked in and how full the pipe was. 0 or -EIO.
 */
static int viz_load_blocked(struct store *st, struct viz_model *m)
{
	/* Through their index where the file has it: else SQLite reads the run's events for them. */
	bool indexed = m->schema >= 11 && viz_has_index(st, "event_rows_blocked");

	return viz_each_row(st, store_preparef(st, "SELECT b.pid, b.fd, b.pipe_id, b.inode, b.other_pid, b.detail, b.result,"
						  " b.arg FROM %s WHERE b.run_id = ?1 AND b.kind = 'blocked'"
						  " AND b.seq <= ?2 AND NOT EXISTS (SELECT 1 FROM events x WHERE"
						  " x.run_id = b.run_id AND x.pid = b.pid AND x.seq > b.seq AND x.seq <= ?2)"
						  " ORDER BY b.seq", indexed ? "event_rows b INDEXED BY event_rows_blocked" : "events b"),
			    m, viz_one_hang);
}

/* The view's edges (all, or those among the pids in `among`, an SQL list), in its order. */
static int viz_load_wait_edges(struct store *st, struct viz_model *m, const char *among)
{
	return viz_each_row(st, store_preparef(st, "SELECT w.pid, w.waits_for, coalesce(w.pipe_id, 0), %s FROM wait_for w"
						   " WHERE w.run_id = ?1%s%s%s%s%s ORDER BY w.seq, w.waits_for",
						   VIZ_V6(m, "coalesce((SELECT p.kind = 'socket' FROM pipes p WHERE p.run_id = w.run_id"
							     " AND p.pipe_id = w.pipe_id), 0)", "0"),
						   among ? " AND w.pid IN (" : "", among ? among : "", among ? ") AND w.waits_for IN (" : "",
						   among ? among : "", among ? ")" : ""),
			    m, viz_one_wait);
}

/* A row of the wait-for graph as stored, between two processes that may be drawn. */
struct viz_raw_wait {
	int64_t seq, pipe_id;
	int pid, waits_for;
	bool child; /* the view's second part: a wait for a child */
};

static int viz_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The view's order (seq, waits_for), then what tells the rows of one edge apart. */
static int viz_raw_wait_cmp(const void *a, const void *b)
{
	const struct viz_raw_wait *x = a, *y = b;

	if (x->seq != y->seq)
		return (x->seq > y->seq) - (x->seq < y->seq);
	if (x->waits_for != y->waits_for)
		return (x->waits_for > y->waits_for) - (x->waits_for < y->waits_for);
	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	if (x->child != y->child)
		return x->child - y->child;
	return (x->pipe_id > y->pipe_id) - (x->pipe_id < y->pipe_id);
}

/*
 * The edges among the sorted pids[0..npids), as the view gives them, from
 * the rows (sorted by viz_raw_wait_cmp) that viz_load_waitgraph kept: one
 * per seq, pid and waits_for, its pipe's kind asked of pipes. Returns 0, 1
 * when the view's answer is not certain from the rows (one edge's rows name
 * different pipes, and the view names any one of them; or two edges share
 * their seq and waits_for, which the view orders as it likes), or -EIO.
 */
static int viz_raw_waits_add(struct store *st, struct viz_model *m, const struct viz_raw_wait *raw, size_t n)
{
	sqlite3_stmt *kind = NULL;
	size_t before = m->nwaits;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const struct viz_raw_wait *r = &raw[i], *prev = i ? &raw[i - 1] : NULL;

		if (prev && prev->seq == r->seq && prev->waits_for == r->waits_for) {
			if (prev->pid != r->pid || prev->child != r->child || prev->pipe_id != r->pipe_id) {
				m->nwaits = before;
				rc = 1;
				break;
			}
			continue; /* the same edge again: another fd of the holder's on the pipe */
		}
		struct viz_wait w = { .pid = r->pid, .waits_for = r->waits_for, .pipe_id = r->pipe_id };

		if (m->schema >= 6 && r->pipe_id) {
			if (!kind && !(kind = store_prepare(st, "SELECT kind = 'socket' FROM pipes WHERE run_id = ?1 AND pipe_id = ?2"))) {
				rc = -EIO;
				break;
			}
			sqlite3_reset(kind);
			sqlite3_bind_int64(kind, 1, m->run_id);
			sqlite3_bind_int64(kind, 2, r->pipe_id);
			if ((rc = store_step(st, kind)) < 0)
				break;
			w.socket = rc == 1 && sqlite3_column_int(kind, 0);
			rc = 0;
		}
		viz_one_wait_add(m, w);
	}
	sqlite3_finalize(kind);
	return rc;
}

/*
 * The whole graph's edges into a new *g, for its cycles, and in *raw the
 * rows between two of the sorted pids[0..npids), sorted: hang_holders as
 * stored (the view's first part without its GROUP BY, which a repeated
 * edge does not change) and the view's waits for children (few). Reading
 * the view whole, grouped and ordered, took 0.8 s for a 1000-worker
 * deadlock's 500,500 edges; this, 0.08 s. 0 or -EIO.
 */
static int viz_load_waitgraph(struct store *st, struct viz_model *m, const int *pids, size_t npids,
			      struct viz_waitgraph **g, struct viz_raw_wait **raw, size_t *nraw)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT blocked_pid, holder_pid, seq, coalesce(pipe_id, 0), 0 FROM hang_holders"
					    " WHERE run_id = ?1 AND holder_pid <> blocked_pid UNION ALL"
					    " SELECT pid, waits_for, seq, 0, 1 FROM wait_for WHERE run_id = ?1 AND reason = 'child'");
	size_t cap = 0;
	int rc;

	*g = NULL;
	*raw = NULL;
	*nraw = 0;
	if (!s)
		return -EIO;
	*g = viz_waitgraph_new();
	sqlite3_bind_int64(s, 1, m->run_id);
	while ((rc = store_step(st, s)) == 1) {
		int pid = sqlite3_column_int(s, 0), waits_for = sqlite3_column_int(s, 1);

		viz_waitgraph_add(*g, pid, waits_for);
		if (!bsearch(&pid, pids, npids, sizeof(*pids), viz_cmp_int) ||
		    !bsearch(&waits_for, pids, npids, sizeof(*pids), viz_cmp_int))
			continue;
		if (*nraw == cap)
			*raw = xrealloc(*raw, (cap = cap ? 2 * cap : 64) * sizeof(**raw));
		(*raw)[(*nraw)++] = (struct viz_raw_wait){ .pid = pid, .waits_for = waits_for,
							   .seq = sqlite3_column_int64(s, 2),
							   .pipe_id = sqlite3_column_int64(s, 3),
							   .child = sqlite3_column_int(s, 4) };
	}
	sqlite3_finalize(s);
	if (*nraw)
		qsort(*raw, *nraw, sizeof(**raw), viz_raw_wait_cmp);
	return rc < 0 ? -EIO : 0;
}

int viz_model_load_waits(struct store *st, struct viz_model *m, const int *pids, size_t npids)
{
	struct sbuf among = { 0 };
	struct viz_waitgraph *g;
	struct viz_raw_wait *raw;
	size_t before = m->nwaits, nraw;
	struct viz_wait one;
	int *sorted, rc;

	if (m->schema < 5)
		return 0;
	if (!pids) {
		rc = viz_load_wait_edges(st, m, NULL);
		viz_waits_mark_cycles(m->waits + before, m->nwaits - before);
		return rc;
	}
	sorted = xcalloc(npids + 1, sizeof(*sorted));
	memcpy(sorted, pids, npids * sizeof(*pids));
	qsort(sorted, npids, sizeof(*sorted), viz_cmp_int);
	rc = viz_load_waitgraph(st, m, sorted, npids, &g, &raw, &nraw);
	if (rc == 0 && (rc = viz_raw_waits_add(st, m, raw, nraw)) == 1) {
		/* Not certain from the rows: the view itself, for those pids. */
		for (size_t i = 0; i < npids; i++)
			sbuf_printf(&among, "%s%d", i ? ", " : "", pids[i]);
		rc = viz_load_wait_edges(st, m, among.s);
	}
	if (g)
		viz_waitgraph_mark(g, m->waits + before, m->nwaits - before);
	if (rc == 0 && m->nwaits == before && viz_waitgraph_first(g, &one))
		viz_one_wait_add(m, one);
	if (rc == 0 && g && m->nwaits > before) {
		/* The waits to and from the processes not drawn, one bundle per drawn process and way. */
		struct viz_wait *bundles;
		size_t nb = viz_waitgraph_bundle(g, sorted, npids, &bundles);

		for (size_t i = 0; i < nb; i++)
			viz_one_wait_add(m, bundles[i]);
		free(bundles);
	}
	viz_waitgraph_free(g);
	sbuf_release(&among);
	free(raw);
	free(sorted);
	return rc;
}

/*
 * The pool parent's shutdown in order, from its first close of a write end:
 * its closes of write ends, close_range, reaps and the wait it hung in, so
 * that a caption says how the strategies differ. Pool runs only. 0 or -EIO.
 */
static int viz_load_shutdown(struct store *st, struct viz_model *m)
{
	sqlite3_stmt *s;
	size_t len = 0, steps = 0;
	int64_t parent = 0, first = -1;
	bool used;
	int rc;

	if (!m->pool)
		return 0;
	/*
	 * The parent and its first close first, then its events from there:
	 * as one statement, SQLite read all the run's events and holds for
	 * them (0.13 s for 1000 workers); bound, they are a range of each key.
	 */
	s = store_prepare(st, "SELECT p.pid, (SELECT min(h.to_seq) FROM holds h WHERE h.run_id = p.run_id AND h.pid = p.pid"
			      " AND h.pipe_end = 'write' AND h.pipe_id IS NOT NULL AND h.to_kind = 'close')"
			      " FROM processes p WHERE p.run_id = ?1 AND p.role = 'parent'");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, m->run_id);
	if ((rc = store_step(st, s)) == 1 && sqlite3_column_type(s, 1) != SQLITE_NULL) {
		/* A pool has one parent. */
		parent = sqlite3_column_int64(s, 0);
		first = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	s = store_prepare(st, "SELECT e.kind, e.pipe_id, c.worker_index FROM events e"
			      " LEFT JOIN processes c ON c.run_id = e.run_id AND c.pid = e.other_pid"
			      " WHERE e.run_id = ?1 AND e.pid = ?2 AND e.seq >= ?3"
			      " AND e.kind IN ('close', 'close_range', 'reap', 'hang')"
			      " AND (e.kind <> 'close' OR e.pipe_end = 'write') ORDER BY e.seq");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, m->run_id);
	sqlite3_bind_int64(s, 2, parent);
	sqlite3_bind_int64(s, 3, first < 0 ? INT64_MAX : first);
	while ((rc = store_step(st, s)) == 1) {
		const char *kind = viz_col_text(s, 0);
		long long pipe = sqlite3_column_int64(s, 1), worker = sqlite3_column_int64(s, 2);
		size_t room = sizeof(m->shutdown) - len;
		int n;

		if (++steps > 6) {
			snprintf(m->shutdown + len, room, " …");
			break;
		}
		if (!strcmp(kind, "close"))
			n = snprintf(m->shutdown + len, room, "%scloses pipe %lld", len ? ", " : "", pipe);
		else if (!strcmp(kind, "close_range"))
			n = snprintf(m->shutdown + len, room, "%scloses a range", len ? ", " : "");
		else if (!strcmp(kind, "reap"))
			n = snprintf(m->shutdown + len, room, "%sreaps worker %lld", len ? ", " : "", worker);
		else
			n = snprintf(m->shutdown + len, room, "%shangs waiting for worker %lld", len ? ", " : "", worker);
		/* Six steps of at most 40 bytes each fit: nothing is cut. */
		assert(n > 0 && (size_t)n < room);
		len += (size_t)n;
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	/*
	 * A close touches what it closes, so the closed write ends are among
	 * the used ones, which have an index of their own (version 11): the
	 * run's other holds are not read (0.06 s for 1000 workers).
	 */
	used = viz_has_index(st, "holds_used_write_ends");
	s = store_preparef(st, "SELECT count(*) FROM holds h %s JOIN processes w USING (run_id, pid)"
			       " JOIN pipes q ON q.run_id = h.run_id AND q.pipe_id = h.pipe_id"
			       " WHERE h.run_id = ?1 AND w.role = 'worker' AND h.pipe_end = 'write'%s"
			       " AND q.channel <> w.worker_index AND h.to_kind IN ('close', 'close_range')",
			   used ? "INDEXED BY holds_used_write_ends" : "",
			   used ? " AND h.pipe_end IN ('write', 'socket') AND h.touched_seq IS NOT NULL" : "");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, m->run_id);
	if ((rc = store_step(st, s)) == 1)
		m->sibling_closes = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

/* Sets own_pid of each pipe held by one live process alone, both ends (a socket: it and its peer). */
static void viz_mark_own(struct viz_model *m)
{
	struct viz_pipe_index *idx = viz_pipe_index_new(m);
	/* Per pipe: its one holder (0 none yet, -1 several), the ends held (1 write or socket, 2 read), 4 a leak. */
	int *holder = xcalloc(m->npipes + 1, sizeof(*holder));
	unsigned char *ends = xcalloc(m->npipes + 1, 1);

	for (size_t i = 0; i < m->nprocs; i++)
		for (size_t j = 0; m->procs[i].alive && j < m->procs[i].nfds; j++) {
			const struct viz_fd *f = &m->procs[i].fds[j];
			size_t k = f->pipe_id ? viz_pipe_at(m, idx, f->pipe_id) : m->npipes;

			if (k == m->npipes)
				continue;
			holder[k] = holder[k] == 0 || holder[k] == m->procs[i].pid ? m->procs[i].pid : -1;
			ends[k] |= f->leaked ? 4 : f->write_end || f->socket_end ? 1 : 2;
		}
	for (size_t k = 0; k < m->npipes; k++) {
		struct viz_pipe *p = &m->pipes[k];
		size_t peer = p->socket ? viz_pipe_at(m, idx, p->peer_id) : k;

		if (holder[k] <= 0 || (ends[k] & 4) || peer == m->npipes)
			continue;
		if (p->socket ? holder[peer] == holder[k] && !(ends[peer] & 4) : ends[k] == 3)
			p->own_pid = holder[k];
	}
	free(idx);
	free(holder);
	free(ends);
}

int viz_model_load_run(struct store *st, int64_t run_id, struct viz_model *m)
{
	memset(m, 0, sizeof(*m));
	m->run_id = run_id;
	return viz_load_run(st, m);
}

int viz_model_load(struct store *st, int64_t run_id, const char *moment, int max, int keep, struct viz_model *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->run_id = run_id;
	if ((rc = viz_load_run(st, m)) < 0 || (rc = viz_moment_seq(st, run_id, moment, m->last_seq, &m->seq)) < 0)
		goto fail;
	if (strspn(moment, "0123456789") == strlen(moment))
		snprintf(m->moment, sizeof(m->moment), "seq %lld", (long long)m->seq);
	else
		snprintf(m->moment, sizeof(m->moment), "%s (seq %lld)", moment, (long long)m->seq);
	if ((rc = viz_load_procs(st, m)) < 0 || (rc = viz_load_fds(st, m)) < 0)
		goto fail;
	viz_model_cut(m, max, keep);
	if ((rc = viz_load_blockers(st, m)) < 0 || (rc = viz_load_blocked(st, m)) < 0 ||
	    (rc = viz_load_hang(st, m, max, keep)) < 0 || (rc = viz_load_shutdown(st, m)) < 0)
		goto fail;
	viz_mark_own(m);
	return 0;
fail:
	viz_model_release(m);
	return rc;
}

void viz_model_release(struct viz_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		for (size_t j = 0; j < m->procs[i].nfds; j++)
			free(m->procs[i].fds[j].detail);
		free(m->procs[i].fds);
	}
	free(m->procs);
	free(m->pipes);
	free(m->waits);
	memset(m, 0, sizeof(*m));
}

/* The index of pipe_id in m->pipes, which a recorded run loads by pipe_id: -1 if absent. */
static ssize_t viz_pipe_index(const struct viz_model *m, int64_t pipe_id)
{
	for (size_t i = 0; i < m->npipes; i++)
		if (m->pipes[i].pipe_id == pipe_id)
			return (ssize_t)i;
	return -1;
}

void viz_model_cut(struct viz_model *m, int max, int keep)
{
	size_t below = m->nprocs ? m->nprocs - 1 : 0;

	size_t drawn = 0, seen = 0;

	m->cut_procs = m->cut_pipes = 0;
	m->cut_max = max;
	m->cut_keep = keep;
	if (m->pool || max < 0)
		return;
	for (size_t i = 0; i < m->npipes; i++)
		m->pipes[i].cut = below > (size_t)max;
	for (size_t i = 1; below > (size_t)max && i < m->nprocs; i++) {
		size_t k = i - 1;

		m->procs[i].cut = !(k < (size_t)keep || k + (size_t)keep >= below);
		m->cut_procs += m->procs[i].cut;
	}
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct viz_proc *p = &m->procs[i];
		int64_t last = 0;

		/* A process's fds on one pipe are usually side by side: one search for them. */
		for (size_t j = 0; !p->cut && j < p->nfds; j++) {
			ssize_t k;

			if (!p->fds[j].pipe_id || p->fds[j].pipe_id == last)
				continue;
			last = p->fds[j].pipe_id;
			if ((k = viz_pipe_index(m, last)) >= 0)
				m->pipes[k].cut = false;
		}
	}
	/*
	 * Still too many pipes (the last of a deep chain holds every pipe above
	 * it): only the first and last max of them, in the order they were made.
	 */
	for (size_t i = 0; i < m->npipes; i++)
		drawn += !m->pipes[i].cut;
	for (size_t i = 0; drawn > 2 * (size_t)max && i < m->npipes; i++)
		if (!m->pipes[i].cut) {
			m->pipes[i].cut = seen >= (size_t)max && seen < drawn - (size_t)max;
			seen++;
		}
	for (size_t i = 0; i < m->npipes; i++)
		m->cut_pipes += m->pipes[i].cut;
}
