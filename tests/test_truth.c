/* test_truth.c: what the trace says matches what the kernel did, as strace -f -yy saw it on the same run. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* (pid, fd, inode) triples, kept sorted for comparison. */
struct triple {
	long pid, fd, inode;
};

struct set {
	struct triple *v;
	size_t n, cap;
};

static void set_add(struct set *s, long pid, long fd, long inode)
{
	if (s->n == s->cap)
		s->v = realloc(s->v, (s->cap = s->cap ? s->cap * 2 : 256) * sizeof(*s->v));
	s->v[s->n++] = (struct triple){ pid, fd, inode };
}

static int triple_cmp(const void *a, const void *b)
{
	const struct triple *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->fd != y->fd)
		return x->fd < y->fd ? -1 : 1;
	return (x->inode > y->inode) - (x->inode < y->inode);
}

static void expect_same(struct set *a, struct set *b, const char *what)
{
	qsort(a->v, a->n, sizeof(*a->v), triple_cmp);
	qsort(b->v, b->n, sizeof(*b->v), triple_cmp);
	cr_expect_eq(a->n, b->n, "%s: strace saw %zu, the trace has %zu", what, a->n, b->n);
	for (size_t i = 0; i < a->n && i < b->n; i++)
		cr_expect_eq(triple_cmp(&a->v[i], &b->v[i]), 0, "%s #%zu: strace (%ld fd %ld pipe:[%ld]) trace (%ld fd %ld pipe:[%ld])",
			     what, i, a->v[i].pid, a->v[i].fd, a->v[i].inode, b->v[i].pid, b->v[i].fd, b->v[i].inode);
}

/* The model strace's lines imply: per pid, fd -> pipe inode (pool pipes only). */
#define MAXP 64
#define MAXFD 64
struct model {
	long pid[MAXP];
	long ino[MAXP][MAXFD];
	int n;
};

static long *model_table(struct model *m, long pid)
{
	for (int i = 0; i < m->n; i++)
		if (m->pid[i] == pid)
			return m->ino[i];
	cr_assert_lt(m->n, MAXP);
	m->pid[m->n] = pid;
	memset(m->ino[m->n], 0, sizeof(m->ino[0]));
	return m->ino[m->n++];
}

struct line {
	long pid;
	char text[1024];
};

/*
 * Reads strace -f output, stitching "<unfinished ...>" with its "<... resumed>"
 * into one line, placed where the call started (that is when it took effect
 * for clone, whose child copies the table as it was then).
 */
static size_t read_strace(const char *path, struct line **out)
{
	FILE *f = fopen(path, "r");
	struct line *v = NULL;
	size_t n = 0, cap = 0;
	char buf[2048];

	cr_assert_not_null(f, "no strace output");
	while (fgets(buf, sizeof(buf), f)) {
		long pid;
		int off;
		char *p;

		if (sscanf(buf, "%ld %n", &pid, &off) != 1)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		p = buf + off;
		if ((p = strstr(buf + off, "<... ")) && strstr(p, " resumed>")) {
			for (size_t i = n; i-- > 0;) {
				char *u = strstr(v[i].text, " <unfinished ...>");

				if (v[i].pid == pid && u) {
					*u = '\0';
					strncat(v[i].text, strstr(p, " resumed>") + 9, sizeof(v[i].text) - strlen(v[i].text) - 1);
					break;
				}
			}
			continue;
		}
		if (n == cap)
			v = realloc(v, (cap = cap ? cap * 2 : 1024) * sizeof(*v));
		v[n].pid = pid;
		snprintf(v[n].text, sizeof(v[n].text), "%s", buf + off);
		n++;
	}
	fclose(f);
	*out = v;
	return n;
}

/* Runs `pooltrace run ARGS` under strace -f -yy; every pipe, close, dup2 and inherited pipe fd must match. */
static void compare_with_strace(const char *args, const char *outcome)
{
	struct set s_close = { 0 }, t_close = { 0 }, s_dup = { 0 }, t_dup = { 0 }, s_inh = { 0 }, t_inh = { 0 };
	struct set s_pipe = { 0 }, t_pipe = { 0 };
	struct model m = { .n = 0 };
	struct t_result r;
	struct line *lines;
	size_t n;
	int64_t supervisor;
	sqlite3 *db;
	sqlite3_stmt *st;

	/* LeakSanitizer cannot run under ptrace; leaks are checked by the other tests.
	 * strace's own exit status is not ours to judge: when the pool is killed
	 * it may report ptrace bookkeeping errors; the run's outcome is checked
	 * from the database instead. */
	t_sh(&r, "ASAN_OPTIONS=detect_leaks=0 strace -f -yy -qq -o strace.txt "
		 "-e trace=pipe,pipe2,close,close_range,dup2,dup3,clone,clone3,fork,vfork "
		 "\"$PT\" run --db s.db %s", args);
	cr_assert_eq(t_sql_int(t_path("s.db"), "SELECT outcome = '%s' FROM runs", outcome), 1, "%s: %s", args, r.err);
	/* pooltrace itself: its hang evidence takes and drops copies of the
	 * pool's fds (pidfd_getfd), which strace shows as closes of pipes. */
	supervisor = t_sql_int(t_path("s.db"), "SELECT supervisor_pid FROM runs");
	n = read_strace(t_path("strace.txt"), &lines);
	for (size_t i = 0; i < n; i++) {
		const char *t = lines[i].text;
		long pid = lines[i].pid, a, b, ino, ino2, child;
		long *tab;

		if (pid == supervisor)
			continue;
		tab = model_table(&m, pid);

		if (sscanf(t, "pipe%*[2]([%ld<pipe:[%ld]>, %ld<pipe:[%*d]>]", &a, &ino, &b) == 3 ||
		    sscanf(t, "pipe([%ld<pipe:[%ld]>, %ld<pipe:[%*d]>]", &a, &ino, &b) == 3) {
			if (!strstr(t, "= 0"))
				continue;
			set_add(&s_pipe, pid, a, ino);
			set_add(&s_pipe, pid, b, ino);
			if (a < MAXFD && b < MAXFD)
				tab[a] = tab[b] = ino;
		} else if (sscanf(t, "close(%ld<pipe:[%ld]>) = 0", &a, &ino) == 2) {
			set_add(&s_close, pid, a, ino);
			if (a < MAXFD)
				tab[a] = 0;
		} else if (sscanf(t, "close_range(%ld", &a) == 1 && strstr(t, "= 0")) {
			for (long fd = a; fd < MAXFD; fd++)
				tab[fd] = 0;
		} else if (sscanf(t, "dup2(%ld<pipe:[%ld]>, %ld", &a, &ino, &b) == 3 && strstr(t, "= ")) {
			set_add(&s_dup, pid, b, ino);
			if (b < MAXFD)
				tab[b] = ino;
		} else if ((!strncmp(t, "clone(", 6) || !strncmp(t, "clone3(", 7) || !strncmp(t, "fork(", 5)) &&
			   sscanf(strrchr(t, '='), "= %ld", &child) == 1 && child > 0) {
			long *ct = model_table(&m, child);

			/* What the child is born with: the parent's table as clone copied it. */
			memcpy(ct, model_table(&m, pid), sizeof(m.ino[0]));
			for (long fd = 0; fd < MAXFD; fd++)
				if (ct[fd])
					set_add(&s_inh, child, fd, ct[fd]);
		}
		(void)ino2;
	}
	cr_assert_eq(sqlite3_open_v2(t_path("s.db"), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	/* Nothing but pool processes made pipe syscalls; restrict inherit to pool pipes. */
#define FILL(set, sql)                                                                                         \
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));        \
	while (sqlite3_step(st) == SQLITE_ROW)                                                                 \
		set_add(&set, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)); \
	sqlite3_finalize(st)
	FILL(t_close, "SELECT pid, fd, inode FROM events WHERE kind = 'close' AND result = 0 AND inode IS NOT NULL");
	FILL(t_dup, "SELECT pid, fd, inode FROM events WHERE kind = 'dup2' AND result >= 0 AND inode IS NOT NULL");
	FILL(t_inh, "SELECT pid, fd, inode FROM events WHERE kind = 'inherit' AND pipe_id IS NOT NULL");
	FILL(t_pipe, "SELECT pid, fd, inode FROM events WHERE kind = 'pipe' UNION ALL "
		     "SELECT pid, fd2, inode FROM events WHERE kind = 'pipe'");
	sqlite3_close(db);
	cr_expect_gt(s_close.n, 0, "strace saw no close of a pipe");
	expect_same(&s_pipe, &t_pipe, "pipe");
	expect_same(&s_close, &t_close, "close");
	expect_same(&s_dup, &t_dup, "dup2");
	expect_same(&s_inh, &t_inh, "inherit");
	free(lines);
	free(s_close.v), free(t_close.v), free(s_dup.v), free(t_dup.v);
	free(s_inh.v), free(t_inh.v), free(s_pipe.v), free(t_pipe.v);
}

Test(truth, naive_matches_strace_call_by_call, .timeout = 120)
{
	compare_with_strace("-s naive -w 4 -t 12 --hang-ms 300", "deadlock");
}

Test(truth, reverse_close_matches_strace_call_by_call, .timeout = 120)
{
	compare_with_strace("-s reverse-close -w 4 -t 12 --hang-ms 300", "ok");
}

Test(truth, child_close_matches_strace_call_by_call, .timeout = 120)
{
	compare_with_strace("-s child-close -w 4 -t 12 --hang-ms 300", "ok");
}

Test(truth, close_range_matches_strace_call_by_call, .timeout = 120)
{
	compare_with_strace("-s close-range -w 4 -t 12 --hang-ms 300", "ok");
}

/* The pipe scenarios' closes and dup2s too: their own fds (dup2 onto 0, 1 and 3), EPIPE, a writer's deadlock. */
Test(truth, scenarios_match_strace_call_by_call, .timeout = 240)
{
	static const char *const runs[][2] = {
		{ "--scenario eof", "ok" },
		{ "--scenario sigpipe-ignored", "ok" },
		{ "--scenario full-pipe-stuck --tasks 20000 --hang-ms 300", "deadlock" },
		{ "--scenario atomic --tasks 20", "ok" },
	};

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct t_result r;

		t_sh(&r, "rm -f s.db s.db-wal s.db-shm strace.txt");
		compare_with_strace(runs[i][0], runs[i][1]);
	}
}

Test(truth, pool_processes_hold_no_fd_of_the_tracer_and_foreign_fds_are_recorded, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("iso.db");

	/* fd 7 comes from "the user's shell": it must show up everywhere, marked
	 * foreign. So must fd 300, though it lies above the soft fd limit the
	 * shell lowered after opening it: the new processes probe their whole fd
	 * table, not just the part below the limit. */
	cr_assert_eq(t_sh(&r, "bash -c 'exec 300<%s/Makefile; ulimit -Sn 64 && "
			      "\"$PT\" run --db iso.db -s reverse-close -w 3 -t 6 7<%s/README.md'",
			  POOLTRACE_SRC, POOLTRACE_SRC),
		     0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'inherit' AND fd = 7 AND is_foreign = 1 "
				   "AND detail LIKE '%%README.md'"), 4, "parent and 3 workers inherit fd 7");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'inherit' AND fd = 300 AND is_foreign = 1 "
				   "AND detail LIKE '%%Makefile'"), 4, "parent and 3 workers inherit fd 300");
	/* No pool process ever held the database, its journal, or any fd the pool did not get from outside. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'inherit' AND detail LIKE '%%iso.db%%'"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events w JOIN processes p USING (run_id, pid) WHERE "
				   "w.kind = 'inherit' AND w.is_foreign = 1 AND p.role = 'worker' AND NOT EXISTS "
				   "(SELECT 1 FROM events x JOIN processes q USING (run_id, pid) WHERE x.kind = 'inherit' "
				   "AND q.role = 'parent' AND x.fd = w.fd AND x.detail IS w.detail AND x.inode IS w.inode)"),
		     0, "a worker was born with a foreign fd its parent did not have");
	/* Pool pipes are never foreign, foreign fds never have a pipe_id. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'inherit' AND "
				   "(is_foreign = 1) = (pipe_id IS NOT NULL)"), 0);
}

Test(truth, holds_agree_with_the_events_they_come_from, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("holds.db");

	cr_assert_eq(t_run(&r, "run --db holds.db -s child-close -w 4 -t 8"), 0, "%s", r.err);
	/* Every close of a pool pipe ends exactly one hold of that pid/fd, at that seq. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e WHERE e.kind = 'close' AND e.pipe_id IS NOT NULL AND "
				   "(SELECT count(*) FROM holds h WHERE h.pid = e.pid AND h.fd = e.fd AND "
				   "h.to_seq = e.seq AND h.to_kind = 'close') <> 1"), 0);
	/* A process holds an fd number at most once at any moment. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds a JOIN holds b ON a.pid = b.pid AND a.fd = b.fd AND "
				   "a.from_seq < b.from_seq WHERE a.from_seq < coalesce(b.to_seq, 1e18) AND "
				   "b.from_seq < coalesce(a.to_seq, 1e18)"), 0);
	/* Nothing is still open when every process has exited. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE to_seq IS NULL"), 0);
}
