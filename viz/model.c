/* model.c: the fd graph of one run at one moment, loaded from the trace database.
 *
 * A moment S is "the state right after event S": a hold is live at S when
 * from_seq <= S and it had not ended by then (to_seq > S or NULL). Named
 * moments resolve to seqs:
 *   spawned   the top process's last close of a read end (every worker forked)
 *   shutdown  the event before the top process's first close of a write end
 *             whose read end another process holds, and it does not
 *   blocked   the first process found blocked on a pipe (`blocked`, or `hang`)
 *   hang      the first `hang` event (deadlock detected)
 *   busiest   the most processes alive at once, before the first of them
 *             starts to let go of its stdio (see viz_busiest)
 *   end       the run's last event
 * The top process is the pool parent, or a recorded program's first process
 * (whose parent is pooltrace).
 */
#include "model.h"

#include "store.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of schema 5 that older files, read as they are, lack (their runs are all pool runs). */
#define VIZ_V5(m, column) ((m)->schema >= 5 ? column : "NULL")
/* Socketpairs came with schema 6: kind and peer_id of pipes. */
#define VIZ_V6(m, column, otherwise) ((m)->schema >= 6 ? column : otherwise)

/* The top process's closes of pipe ends it held: the pool parent's, or a recorded program's first process's. */
#define VIZ_TOP_CLOSES(end)                                                                                     \
	"FROM holds h JOIN processes p USING (run_id, pid) WHERE h.run_id = ?1 AND h.pipe_end = '" end "'"      \
	" AND h.pipe_id IS NOT NULL AND h.to_kind = 'close' AND (p.role = 'parent' OR (p.role = 'process'"      \
	" AND p.ppid = (SELECT supervisor_pid FROM runs WHERE id = ?1)))"
/*
 * Its first close of a write end whose read end another process holds, and
 * it does not: its writing to another process ends. A shell's close of a
 * pipe's write end after it forked the writer, or a runtime's of a child's
 * ends after a spawn, are not that: it still holds the read end. A reader
 * that held on until it exited counts even if its exit has the lower seq:
 * it may see EOF, exit and be recorded before the close that woke it is.
 */
#define VIZ_READ_HELD(who, gone)                                                                                 \
	"EXISTS (SELECT 1 FROM holds r %s WHERE r.run_id = ?1 AND r.pipe_id = h.pipe_id AND r.pipe_end = 'read'" \
	" AND r.pid " who " AND r.from_seq < h.to_seq AND (r.to_seq IS NULL OR r.to_seq > h.to_seq" gone "))"
static const char viz_shutdown_sql[] = "SELECT min(h.to_seq) - 1 " VIZ_TOP_CLOSES("write") " AND NOT "
	VIZ_READ_HELD("= h.pid", "") " AND " VIZ_READ_HELD("<> h.pid", " OR r.to_kind = 'exit'");

/*
 * The shutdown moment of run in *seq, -1 if it has none. 0 or -EIO. The
 * read ends of a pipe are found through schema 7's index (without it, a
 * 1000-worker run took 14 s: SQLite scanned all the run's holds for each
 * close); an older file read as it is has none.
 */
static int viz_shutdown_seq(struct store *st, int64_t run, int64_t *seq)
{
	int64_t schema;
	sqlite3_stmt *s;
	const char *index;
	int rc;

	*seq = -1;
	if (store_int(st, "SELECT user_version FROM pragma_user_version WHERE ?1", 1, 0, &schema) < 0)
		return -EIO;
	index = schema >= 7 ? "INDEXED BY holds_read_ends" : "";
	if (!(s = store_preparef(st, viz_shutdown_sql, index, index)))
		return -EIO;
	sqlite3_bind_int64(s, 1, run);
	if ((rc = store_step(st, s)) == 1 && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*seq = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}
static const char viz_spawned_sql[] = "SELECT max(h.to_seq) " VIZ_TOP_CLOSES("read");
/* The first hang event: the deadlock found. */
static const char viz_hang_sql[] = "SELECT min(seq) FROM events WHERE run_id = ?1 AND kind = 'hang'";

/*
 * The last stretch of events during which the most processes of ?1, the run,
 * were alive at once: from a fork to the event before the next death. One
 * row: its first seq and its last (NULL: it lasts to the run's end). A
 * process lives from its fork event to its exit (or, killed, its reap).
 */
static const char viz_busiest_sql[] =
	"WITH d(seq, delta) AS (SELECT fork_seq, 1 FROM processes WHERE run_id = ?1 AND fork_seq IS NOT NULL"
	" UNION ALL SELECT coalesce(exit_seq, reap_seq), -1 FROM processes WHERE run_id = ?1"
	" AND fork_seq IS NOT NULL AND coalesce(exit_seq, reap_seq) IS NOT NULL),"
	" c AS (SELECT seq, sum(sum(delta)) OVER (ORDER BY seq) AS alive FROM d GROUP BY seq)"
	" SELECT seq, lead(seq) OVER (ORDER BY seq) - 1 FROM c ORDER BY alive DESC, seq DESC LIMIT 1";

/*
 * ?1 the run, ?2..?3 a stretch: the first close of stdin, stdout or stderr on
 * a pipe end by a process that has exec'd, that is, a program letting go of
 * its stdio (coreutils closes it on the way out; sort closes stdin once it
 * has read it all). A shell's own closes after a fork are of other fds, and
 * a child's before its exec are its set-up.
 */
static const char viz_stdio_close_sql[] =
	"SELECT min(e.seq) FROM events e WHERE e.run_id = ?1 AND e.seq BETWEEN ?2 AND ?3 AND e.kind = 'close'"
	" AND e.pipe_id IS NOT NULL AND e.fd BETWEEN 0 AND 2 AND EXISTS (SELECT 1 FROM events x"
	" WHERE x.run_id = ?1 AND x.pid = e.pid AND x.kind = 'exec' AND x.seq < e.seq)";

/*
 * The busiest moment of run in *seq: the last event of the busiest stretch
 * (its first seq in *from) before its first close of stdio by a program.
 * last is the run's last seq. Both -1 for a run with no process; seq may be
 * NULL. 0 or -EIO.
 */
static int viz_busiest(struct store *st, int64_t run, int64_t last, int64_t *from, int64_t *seq)
{
	sqlite3_stmt *s = store_prepare(st, viz_busiest_sql);
	int64_t unused;
	int rc;

	if (!seq)
		seq = &unused;
	*from = *seq = -1;
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, run);
	if ((rc = store_step(st, s)) == 1) {
		*from = sqlite3_column_int64(s, 0);
		*seq = sqlite3_column_type(s, 1) == SQLITE_NULL ? last : sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	if (rc == 0 || seq == &unused)
		return 0;
	if (!(s = store_prepare(st, viz_stdio_close_sql)))
		return -EIO;
	sqlite3_bind_int64(s, 1, run);
	sqlite3_bind_int64(s, 2, *from + 1);
	sqlite3_bind_int64(s, 3, *seq);
	if ((rc = store_step(st, s)) == 1 && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*seq = sqlite3_column_int64(s, 0) - 1;
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
}

const char *viz_default_moment(struct store *st, int64_t run)
{
	int64_t shutdown, hang, from;

	if (viz_shutdown_seq(st, run, &shutdown) < 0 || viz_busiest(st, run, -1, &from, NULL) < 0)
		return NULL;
	/*
	 * A pool's shutdown comes once every worker is up. A shell closes the
	 * first pipe's write end before it forks the second stage, and a runtime
	 * that spawns children closes the child's ends while the child has not
	 * exec'd yet: such a shutdown shows a half-built pipeline.
	 */
	if (shutdown >= 0 && shutdown >= from)
		return "shutdown";
	if (store_int(st, viz_hang_sql, run, -1, &hang) < 0)
		return NULL;
	if (hang >= 0)
		return "hang";
	return from >= 0 ? "busiest" : "end";
}

/* Resolves moment to a seq in *seq. 0, -EINVAL (no such moment in this run) or -EIO. */
static int viz_moment_seq(struct store *st, int64_t run, const char *moment, int64_t last, int64_t *seq)
{
	long v;

	if (!strcmp(moment, "end")) {
		*seq = last;
		return 0;
	}
	if (!strcmp(moment, "blocked")) {
		int64_t first;

		if (store_int(st, "SELECT min(seq) FROM events WHERE run_id = ?1 AND kind IN ('blocked', 'hang')", run,
			      -1, &first) < 0)
			return -EIO;
		if (first < 0)
			return error("run %lld has no blocked moment: no process was found blocked on a pipe",
				     (long long)run), -EINVAL;
		/* The whole first look: the blocked (or hang) events recorded together. */
		sqlite3_stmt *s = store_preparef(st, "SELECT coalesce((SELECT min(seq) FROM events WHERE run_id = ?1"
						     " AND seq > %lld AND kind NOT IN ('blocked', 'hang')),"
						     " (SELECT max(seq) + 1 FROM events WHERE run_id = ?1)) - 1",
						 (long long)first);
		int rc;

		if (!s)
			return -EIO;
		sqlite3_bind_int64(s, 1, run);
		if ((rc = store_step(st, s)) == 1)
			*seq = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		return rc == 1 ? 0 : -EIO;
	}
	if (!strcmp(moment, "hang")) {
		if (store_int(st, viz_hang_sql, run, -1, seq) < 0)
			return -EIO;
		if (*seq < 0)
			return error("run %lld has no hang moment: no deadlock was detected", (long long)run), -EINVAL;
		return 0;
	}
	if (!strcmp(moment, "busiest")) {
		int64_t from;

		if (viz_busiest(st, run, last, &from, seq) < 0)
			return -EIO;
		if (*seq < 0)
			return error("run %lld has no busiest moment: it has no process", (long long)run), -EINVAL;
		return 0;
	}
	if (!strcmp(moment, "shutdown") || !strcmp(moment, "spawned")) {
		int is_shutdown = moment[1] == 'h';

		if ((is_shutdown ? viz_shutdown_seq(st, run, seq) : store_int(st, viz_spawned_sql, run, -1, seq)) < 0)
			return -EIO;
		if (*seq < 0)
			return error("run %lld has no %s moment: its top process (the pool parent, or the program's"
				     " first) never closed the %s end of a pipe made in the run; try --at end or a seq",
				     (long long)run, moment, is_shutdown ? "write" : "read"), -EINVAL;
		return 0;
	}
	if (parse_long(moment, 1, (long)last, &v) < 0)
		return error("moment '%s' is not one of %s (1..%lld for run %lld)", moment, VIZ_MOMENTS,
			     (long long)last, (long long)run), -EINVAL;
	*seq = v;
	return 0;
}

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

static void viz_one_proc(struct viz_model *m, sqlite3_stmt *s)
{
	struct viz_proc *p;

	if (m->nprocs == m->procs_cap)
		m->procs = xrealloc(m->procs, (m->procs_cap = m->procs_cap ? m->procs_cap * 2 : 16) * sizeof(*m->procs));
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

static void viz_one_fd(struct viz_model *m, sqlite3_stmt *s, bool leaked)
{
	int pid = sqlite3_column_int(s, 0);
	struct viz_proc *p = m->last_proc;
	struct viz_fd *f;

	/* Rows come by pid: look a process up once, not once per fd. */
	if (!p || p->pid != pid)
		p = m->last_proc = viz_find_proc(m, pid);
	if (!p || !p->alive)
		return;
	if (p->nfds == p->cap)
		p->fds = xrealloc(p->fds, (p->cap = p->cap ? p->cap * 2 : 8) * sizeof(*p->fds));
	f = &p->fds[p->nfds++];
	f->fd = sqlite3_column_int(s, 1);
	f->pipe_id = sqlite3_column_int64(s, 2);
	f->inode = (uint64_t)sqlite3_column_int64(s, 3);
	f->write_end = sqlite3_column_int(s, 4);
	f->foreign = sqlite3_column_int(s, 5);
	f->detail = viz_dup_col(s, 6);
	f->socket_end = sqlite3_column_int(s, 7);
	f->leaked = leaked;
	m->leaked_now += f->leaked;
}

/* (pid, fd) order, as the holds key sorts. */
static int viz_cmp_key(int pid_a, int fd_a, int pid_b, int fd_b)
{
	return pid_a != pid_b ? (pid_a > pid_b) - (pid_a < pid_b) : (fd_a > fd_b) - (fd_a < fd_b);
}

/*
 * The fds held at the moment, each marked leaked when leaked_write_ends
 * counts it: the view's rule, not a copy of it. Both come in (pid, fd)
 * order, the holds key, so they are merged in one pass (an EXISTS per hold
 * cost ~2 s for a 1000-worker run). A process holds a given fd on a given
 * pipe's write end by inheritance at most once, so (pid, fd, pipe) names
 * the leaked hold.
 */
static int viz_load_fds(struct store *st, struct viz_model *m)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT h.pid, h.fd, coalesce(h.pipe_id, 0), coalesce(h.inode, 0),"
					    " h.pipe_end = 'write', h.is_foreign, h.detail, h.pipe_end = 'socket'"
					    " FROM holds h WHERE h.run_id = ?1 AND h.from_seq <= ?2"
					    " AND (h.to_seq IS NULL OR h.to_seq > ?2) ORDER BY h.pid, h.fd");
	sqlite3_stmt *l = store_prepare(st, "SELECT pid, fd, pipe_id FROM leaked_write_ends WHERE run_id = ?1"
					    " ORDER BY pid, fd");
	int rc = -1, lrc = 0;

	m->last_proc = NULL;
	if (!s || !l)
		goto out;
	sqlite3_bind_int64(s, 1, m->run_id);
	sqlite3_bind_int64(s, 2, m->seq);
	sqlite3_bind_int64(l, 1, m->run_id);
	lrc = store_step(st, l);
	while (lrc >= 0 && (rc = store_step(st, s)) == 1) {
		int pid = sqlite3_column_int(s, 0), fd = sqlite3_column_int(s, 1);
		bool leaked = false;

		while (lrc == 1 && viz_cmp_key(sqlite3_column_int(l, 0), sqlite3_column_int(l, 1), pid, fd) < 0)
			lrc = store_step(st, l);
		if (lrc == 1 && viz_cmp_key(sqlite3_column_int(l, 0), sqlite3_column_int(l, 1), pid, fd) == 0)
			leaked = sqlite3_column_int64(l, 2) == sqlite3_column_int64(s, 2);
		viz_one_fd(m, s, leaked);
	}
out:
	sqlite3_finalize(s);
	sqlite3_finalize(l);
	return rc < 0 || lrc < 0 ? -EIO : 0;
}

static void viz_one_pipe(struct viz_model *m, sqlite3_stmt *s)
{
	if (m->npipes == m->pipes_cap)
		m->pipes = xrealloc(m->pipes, (m->pipes_cap = m->pipes_cap ? m->pipes_cap * 2 : 16) * sizeof(*m->pipes));
	m->pipes[m->npipes++] = (struct viz_pipe){ .pipe_id = sqlite3_column_int64(s, 0),
						   .inode = (uint64_t)sqlite3_column_int64(s, 1),
						   .channel = sqlite3_column_int(s, 2),
						   .socket = sqlite3_column_int(s, 3),
						   .peer_id = sqlite3_column_int64(s, 4) };
}

static int viz_load_pipes(struct store *st, struct viz_model *m)
{
	return viz_each_row(st,
			    /* The live pipes from one pass over the run's holds: holds have no
			     * index by pipe, and an EXISTS per pipe scanned them all for every
			     * pipe with no holder left (28 s at the end of a 1000-worker run). */
			    store_preparef(st, "SELECT pipe_id, inode, coalesce(channel, -1), %s FROM pipes"
					       " WHERE run_id = ?1 AND created_seq <= ?2 AND pipe_id IN (SELECT h.pipe_id FROM holds h"
					       " WHERE h.run_id = ?1 AND h.pipe_id IS NOT NULL AND h.from_seq <= ?2"
					       " AND (h.to_seq IS NULL OR h.to_seq > ?2)) ORDER BY channel, pipe_id",
					       VIZ_V6(m, "kind = 'socket', coalesce(peer_id, 0)", "0, 0")),
			    m, viz_one_pipe);
}

/* The run's own row: strategy, workers, outcome, and its last event. 0, -EINVAL or -EIO. */
static int viz_load_run(struct store *st, struct viz_model *m)
{
	sqlite3_stmt *s;
	int rc;

	if (store_int(st, "SELECT user_version FROM pragma_user_version WHERE ?1", 1, 0, &m->schema) < 0)
		return -EIO;
	s = store_preparef(st, "SELECT coalesce(strategy, ''), coalesce(workers, 0), coalesce(outcome, ''),"
					    /* Every run ends with lifecycle events (reaps at the least), so
					     * the last of those is the run's last; skipping the per-task
					     * kinds keeps their chunks packed. */
					    " (SELECT max(seq) FROM events WHERE run_id = ?1 AND kind NOT IN ('write', 'read', 'task')),"
					    " %s FROM runs WHERE id = ?1", VIZ_V5(m, "command"));
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, m->run_id);
	rc = store_step(st, s);
	if (rc == 1) {
		snprintf(m->strategy, sizeof(m->strategy), "%s", viz_col_text(s, 0));
		m->workers = sqlite3_column_int(s, 1);
		snprintf(m->outcome, sizeof(m->outcome), "%s", viz_col_text(s, 2));
		m->last_seq = sqlite3_column_int64(s, 3);
		snprintf(m->command, sizeof(m->command), "%s", viz_col_text(s, 4));
	}
	sqlite3_finalize(s);
	if (rc < 0)
		return -EIO;
	if (rc == 0)
		return error("%s: no run %lld", st->path, (long long)m->run_id), -EINVAL;
	if (m->last_seq < 1)
		return error("run %lld recorded no events (outcome %s): nothing to draw", (long long)m->run_id,
			     m->outcome[0] ? m->outcome : "none: pooltrace was killed or the run is still going"),
		       -EINVAL;
	return 0;
}

/* EOF blockers of the run, and those still holding on at the moment. 0 or -EIO. */
static int viz_load_blockers(struct store *st, struct viz_model *m)
{
	sqlite3_stmt *s;
	int rc;

	if (store_int(st, "SELECT count(*) FROM eof_blockers WHERE run_id = ?1", m->run_id, 0, &m->blockers_run) < 0)
		return -EIO;
	/* Materialized first: the blockers are few, the holds the EXISTS looks
	 * at are many, and the planner would otherwise test every hold. */
	s = store_prepare(st, "WITH b AS MATERIALIZED (SELECT run_id, pid, fd, pipe_id FROM eof_blockers"
			      " WHERE run_id = ?1 AND close_seq <= ?2)"
			      " SELECT count(*) FROM b WHERE EXISTS (SELECT 1 FROM holds h WHERE h.run_id = b.run_id"
			      " AND h.pid = b.pid AND h.fd = b.fd AND h.pipe_id = b.pipe_id AND h.from_seq <= ?2"
			      " AND (h.to_seq IS NULL OR h.to_seq > ?2))");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, m->run_id);
	sqlite3_bind_int64(s, 2, m->seq);
	if ((rc = store_step(st, s)) == 1)
		m->blockers_now = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc < 0 ? -EIO : 0;
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

static void viz_one_wait(struct viz_model *m, sqlite3_stmt *s)
{
	if (m->nwaits == m->waits_cap)
		m->waits = xrealloc(m->waits, (m->waits_cap = m->waits_cap ? m->waits_cap * 2 : 16) * sizeof(*m->waits));
	m->waits[m->nwaits++] = (struct viz_wait){ .pid = sqlite3_column_int(s, 0),
						   .waits_for = sqlite3_column_int(s, 1),
						   .pipe_id = sqlite3_column_int64(s, 2),
						   .socket = sqlite3_column_int(s, 3) };
}

/*
 * From the moment a deadlock was detected on: what each process still alive
 * was blocked in (its hang event), and the wait-for graph (schema 5's view)
 * with the edges on a cycle marked. Nothing before that moment.
 */
static int viz_load_hang(struct store *st, struct viz_model *m)
{
	int64_t first;
	int rc;

	if (store_int(st, viz_hang_sql, m->run_id, -1, &first) < 0)
		return -EIO;
	if (first < 0 || m->seq < first)
		return 0;
	rc = viz_each_row(st, store_prepare(st, "SELECT pid, fd, pipe_id, inode, other_pid, detail, result, arg FROM events"
						"  WHERE run_id = ?1 AND kind = 'hang' ORDER BY seq"),
			  m, viz_one_hang);
	return rc < 0 ? rc : viz_model_load_waits(st, m);
}

/*
 * Before any deadlock: the processes found blocked on a pipe (a `blocked`
 * event) that had not run again by the moment, each with what it was
 * blocked in and how full the pipe was. 0 or -EIO.
 */
static int viz_load_blocked(struct store *st, struct viz_model *m)
{
	return viz_each_row(st, store_prepare(st, "SELECT b.pid, b.fd, b.pipe_id, b.inode, b.other_pid, b.detail, b.result,"
						  " b.arg FROM events b WHERE b.run_id = ?1 AND b.kind = 'blocked'"
						  " AND b.seq <= ?2 AND NOT EXISTS (SELECT 1 FROM events x WHERE"
						  " x.run_id = b.run_id AND x.pid = b.pid AND x.seq > b.seq AND x.seq <= ?2)"
						  " ORDER BY b.seq"),
			    m, viz_one_hang);
}

int viz_model_load_waits(struct store *st, struct viz_model *m)
{
	int rc;

	if (m->schema < 5)
		return 0;
	rc = viz_each_row(st, store_preparef(st, "SELECT w.pid, w.waits_for, coalesce(w.pipe_id, 0), %s FROM wait_for w"
						 " WHERE w.run_id = ?1 ORDER BY w.seq, w.waits_for",
						 VIZ_V6(m, "coalesce((SELECT p.kind = 'socket' FROM pipes p WHERE p.run_id = w.run_id"
							   " AND p.pipe_id = w.pipe_id), 0)", "0")),
			  m, viz_one_wait);
	viz_waits_mark_cycles(m->waits, m->nwaits);
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
	int rc;

	if (!m->strategy[0])
		return 0;
	s = store_prepare(st, "SELECT e.kind, e.pipe_id, c.worker_index FROM events e"
			      " JOIN processes p ON p.run_id = e.run_id AND p.pid = e.pid AND p.role = 'parent'"
			      " LEFT JOIN processes c ON c.run_id = e.run_id AND c.pid = e.other_pid"
			      " WHERE e.run_id = ?1 AND e.kind IN ('close', 'close_range', 'reap', 'hang')"
			      " AND (e.kind <> 'close' OR e.pipe_end = 'write') AND e.seq >= (SELECT min(h.to_seq)"
			      "  FROM holds h JOIN processes q USING (run_id, pid) WHERE h.run_id = ?1 AND q.role = 'parent'"
			      "  AND h.pipe_end = 'write' AND h.pipe_id IS NOT NULL AND h.to_kind = 'close')"
			      " ORDER BY e.seq");
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, m->run_id);
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
	return store_int(st, "SELECT count(*) FROM holds h JOIN processes w USING (run_id, pid)"
			     " JOIN pipes q ON q.run_id = h.run_id AND q.pipe_id = h.pipe_id"
			     " WHERE h.run_id = ?1 AND w.role = 'worker' AND h.pipe_end = 'write'"
			     " AND q.channel <> w.worker_index AND h.to_kind IN ('close', 'close_range')",
			 m->run_id, 0, &m->sibling_closes) < 0 ? -EIO : 0;
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

/* Where pipe_id is in m->pipes, through idx (sorted by pipe_id); m->npipes if it is not there. */
static size_t viz_pipe_at(const struct viz_model *m, const struct viz_pipe_index *idx, int64_t pipe_id)
{
	struct viz_pipe_index key = { .pipe_id = pipe_id };
	const struct viz_pipe_index *hit = bsearch(&key, idx, m->npipes, sizeof(*idx), viz_pipe_index_cmp);

	return hit ? hit->k : m->npipes;
}

/* Sets own_pid of each pipe held by one live process alone, both ends (a socket: it and its peer). */
static void viz_mark_own(struct viz_model *m)
{
	struct viz_pipe_index *idx = xcalloc(m->npipes + 1, sizeof(*idx));
	/* Per pipe: its one holder (0 none yet, -1 several), the ends held (1 write or socket, 2 read), 4 a leak. */
	int *holder = xcalloc(m->npipes + 1, sizeof(*holder));
	unsigned char *ends = xcalloc(m->npipes + 1, 1);

	for (size_t k = 0; k < m->npipes; k++)
		idx[k] = (struct viz_pipe_index){ m->pipes[k].pipe_id, k };
	qsort(idx, m->npipes, sizeof(*idx), viz_pipe_index_cmp);
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

int viz_model_load(struct store *st, int64_t run_id, const char *moment, struct viz_model *m)
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
	if ((rc = viz_load_procs(st, m)) < 0 || (rc = viz_load_fds(st, m)) < 0 || (rc = viz_load_pipes(st, m)) < 0 ||
	    (rc = viz_load_blockers(st, m)) < 0 || (rc = viz_load_blocked(st, m)) < 0 || (rc = viz_load_hang(st, m)) < 0 ||
	    (rc = viz_load_shutdown(st, m)) < 0)
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
