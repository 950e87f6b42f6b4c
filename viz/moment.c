/* moment.c: which event a named moment of a run is (render's and compare's --at).
 *
 * A moment S is "the state right after event S". Named moments:
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
#include "viz/moment.h"

#include "store/store.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
/* The same through schema 7's index of hang rows: without it, SQLite reads the run's events (0.04 s for 1000 workers). */
static const char viz_hang_indexed_sql[] = "SELECT min(seq) FROM event_rows INDEXED BY event_rows_hangs"
					   " WHERE run_id = ?1 AND kind = 'hang'";

int viz_hang_seq(struct store *st, int64_t run, int64_t *seq)
{
	int64_t schema;

	if (store_int(st, "SELECT user_version FROM pragma_user_version WHERE ?1", 1, 0, &schema) < 0)
		return -EIO;
	return store_int(st, schema >= 7 ? viz_hang_indexed_sql : viz_hang_sql, run, -1, seq);
}

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
	if (viz_hang_seq(st, run, &hang) < 0)
		return NULL;
	if (hang >= 0)
		return "hang";
	return from >= 0 ? "busiest" : "end";
}

int viz_moment_seq(struct store *st, int64_t run, const char *moment, int64_t last, int64_t *seq)
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
		if (viz_hang_seq(st, run, seq) < 0)
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
