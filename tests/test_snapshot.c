/* test_snapshot.c: `pooltrace snapshot` on programs started without pooltrace and already hung, the way users find them. */
#include "helpers.h"
#include "base/util.h"
#include "procfs/proctree.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG(name) POOLTRACE_PROGRAMS "/" name

/* The process groups a test started; its .fini kills them, whatever the test's end. */
static pid_t snap_groups[8];
static int snap_ngroups;

static void snap_kill_all(void)
{
	for (int i = 0; i < snap_ngroups; i++) {
		kill(-snap_groups[i], SIGKILL);
		while (waitpid(-snap_groups[i], NULL, 0) > 0)
			;
	}
	snap_ngroups = 0;
}

/* Starts `sh -c cmd` in a process group of its own, untraced, stdio on /dev/null; returns its pid. */
static pid_t snap_start(const char *cmd)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	snap_groups[snap_ngroups++] = pid;
	return pid;
}

/* Every live process of group pgid as "pid state wchan nfds", one a line, in pid order. */
static void snap_state(pid_t pgid, char *buf, size_t len)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	pid_t pids[256];
	int n = 0;
	size_t off = 0;

	cr_assert_not_null(dir);
	while ((de = readdir(dir)) && n < 256) {
		char path[300], stat[512], *p;
		int pgrp = 0, fd;
		ssize_t k;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		/* read, not fgets: a name may hold a newline */
		k = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		stat[k > 0 ? k : 0] = '\0';
		if ((p = strrchr(stat, ')')) && sscanf(p + 2, "%*c %*d %d", &pgrp) == 1 && pgrp == pgid && p[2] != 'Z')
			pids[n++] = atoi(de->d_name);
	}
	closedir(dir);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (pids[j] < pids[i]) {
				pid_t t = pids[i];
				pids[i] = pids[j];
				pids[j] = t;
			}
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		char path[64], wchan[64] = "", stat[512], *p;
		int nfds = 0, fd;
		ssize_t k;
		DIR *d;

		snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pids[i]);
		if ((fd = open(path, O_RDONLY)) >= 0) {
			k = read(fd, wchan, sizeof(wchan) - 1);
			wchan[k > 0 ? k : 0] = '\0';
			close(fd);
		}
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pids[i]);
		stat[0] = '\0';
		if ((fd = open(path, O_RDONLY)) >= 0) {
			k = read(fd, stat, sizeof(stat) - 1);
			stat[k > 0 ? k : 0] = '\0';
			close(fd);
		}
		p = strrchr(stat, ')');
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pids[i]);
		if ((d = opendir(path))) {
			for (struct dirent *e; (e = readdir(d));)
				nfds += isdigit((unsigned char)e->d_name[0]) != 0;
			closedir(d);
		}
		off += (size_t)snprintf(buf + off, len - off, "%d %c %s %d\n", (int)pids[i], p ? p[2] : '?', wchan, nfds);
	}
}

/* Waits until group pgid has want processes, every one asleep (S) and the same twice 100 ms apart. */
static void snap_wait_hung(pid_t pgid, int want, char *state, size_t len)
{
	char again[4096];

	for (int tries = 0; tries < 100; tries++) {
		usleep(100 * 1000);
		snap_state(pgid, state, len);
		if (t_lines(state) != want || strstr(state, " R ") || strstr(state, " D "))
			continue;
		usleep(100 * 1000);
		snap_state(pgid, again, sizeof(again));
		if (!strcmp(state, again))
			return;
	}
	cr_assert_fail("the program never hung: %s", state);
}

/*
 * The textbook pool, started without pooltrace and hung: the snapshot finds
 * the deadlock (exit 3), stores every wait of it (N child and pipe waits
 * plus N(N-1)/2 leaked write ends: N + N(N-1)/2 wait_for edges, every one on
 * the cycle), names the parent's wait4 and worker 0's read, and leaves every
 * process as it was: the same processes in the same calls, with the same fds.
 */
static void snap_check_pool(int n)
{
	char before[4096], after[4096], cmd[256];
	const char *db = t_path("s.db");
	struct t_result r;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec %s %d", PROG("leakypool"), n);
	pid = snap_start(cmd);
	snap_wait_hung(pid, n + 1, before, sizeof(before));
	cr_assert_eq(t_run(&r, "snapshot --db s.db %d", (int)pid), 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: ") == r.out, "%s", r.out);
	cr_expect(strstr(r.out, "(leakypool) waits in wait4 for its child pid") != NULL, "the parent's wait4: %s", r.out);
	cr_expect(strstr(r.out, "waits in read(fd 0) for data or EOF on pipe:[") != NULL, "worker 0's read: %s", r.out);
	int64_t run = t_sql_int(db, "SELECT max(id) FROM runs");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE id = %lld AND source = 'snapshot' AND outcome = 'deadlock'",
			       (long long)run), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = %lld", (long long)run), n + n * (n - 1) / 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = %lld AND reason = 'child' AND pid = %d",
			       (long long)run, (int)pid), 1, "the parent waits for worker 0");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE run_id = %lld", (long long)run), n + 1);
	snap_state(pid, after, sizeof(after));
	cr_expect_str_eq(after, before, "the program is as it was");
	/* The readers work on it. */
	cr_expect_eq(t_run(&r, "render --db s.db --run %lld --format dot -o -", (long long)run), 0, "%s", r.err);
	cr_expect(strstr(r.out, "deadlock") != NULL);
	snap_kill_all();
}

Test(snapshot, a_hung_pool_started_without_pooltrace_is_diagnosed_and_left_as_it_was, .timeout = 60,
     .fini = snap_kill_all)
{
	snap_check_pool(3);
	snap_check_pool(5);
}

/*
 * Python's classic mistake: Popen(stdout=PIPE).wait() on a child that
 * writes more than the pipe holds. The child waits for room, the parent for
 * the child: a cycle of two, and the pipe is full.
 */
Test(snapshot, popen_wait_on_a_full_pipe_is_a_cycle_of_two, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096];
	struct t_result r;
	pid_t pid;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		cr_skip_test("no python3");
	pid = snap_start("exec python3 -c 'import subprocess, sys\n"
			 "p = subprocess.Popen([sys.executable, \"-c\", \"import sys; sys.stdout.write(200000 * \\\"x\\\")\"],"
			 " stdout=subprocess.PIPE)\n"
			 "p.wait()'");
	snap_wait_hung(pid, 2, state, sizeof(state));
	cr_assert_eq(t_run(&r, "snapshot --db p.db %d", (int)pid), 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "2 of 2 processes can never move again; 2 of them wait for each other") != NULL, "%s",
		  r.out);
	cr_expect(strstr(r.out, "waits in write(fd 1) for room on pipe:[") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "which is full (65536 of 65536 bytes)") != NULL, "%s", r.out);
	cr_expect_eq(t_sql_int(t_path("p.db"), "SELECT count(*) FROM wait_for"), 2);
}

/* `sleep 100 | cat`: cat waits, but sleep can still close: no deadlock, and it says what cat waits for. */
Test(snapshot, a_reader_whose_writer_can_move_is_no_deadlock, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096];
	struct t_result r;
	pid_t pid = snap_start("sleep 100 | cat");

	snap_wait_hung(pid, 3, state, sizeof(state));
	cr_assert_eq(t_run(&r, "snapshot --db c.db %d", (int)pid), 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "no deadlock: ") == r.out, "%s", r.out);
	cr_expect(strstr(r.out, "(cat) waits in read(fd 0) for data or EOF on pipe:[") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "(sleep, fd 1, can move)") != NULL, "%s", r.out);
	cr_expect_eq(t_sql_int(t_path("c.db"), "SELECT count(*) FROM runs WHERE outcome = 'ok'"), 1);
}

/*
 * A program names itself: cat copied to a file whose name holds an escape
 * sequence and a newline. The words show them as \xNN, so the terminal gets
 * neither (the name in the database stays as it is).
 */
Test(snapshot, a_name_with_control_characters_is_escaped_in_the_words, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096], cmd[1024];
	struct t_result r;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "p=\"%s/$(printf 'x\\033[31my\\nz')\"; cp /bin/cat \"$p\" && sleep 100 | \"$p\"",
		 t_tmpdir());
	pid = snap_start(cmd);
	snap_wait_hung(pid, 3, state, sizeof(state));
	cr_assert_eq(t_run(&r, "snapshot --db n.db %d", (int)pid), 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "(x\\x1b[31my\\x0az) waits in read(fd 0)") != NULL, "%s", r.out);
	cr_expect(strchr(r.out, '\033') == NULL, "no escape reaches the terminal: %s", r.out);
	cr_expect_eq(t_lines(r.out), 3, "the name's newline is no line of its own: %s", r.out);
}

/* Bad input: one line, exit 2, and no run stored. */
Test(snapshot, bad_input_exits_2_with_one_line, .timeout = 60)
{
	static const char *const args[] = { "", "abc", "0", "--all 1", "999999999", "--bogus 1" };
	struct t_result r;

	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		cr_expect_eq(t_run(&r, "snapshot --db b.db %s", args[i]), 2, "'%s': %s", args[i], r.err);
		cr_expect_eq(t_lines(r.err), 1, "'%s': %s", args[i], r.err);
	}
	cr_expect(access(t_path("b.db"), F_OK) != 0, "nothing was stored");
}

/*
 * As an ordinary user: that user's own hung pool is diagnosed; a process of
 * root's is refused (exit 2), since its fds may not be read.
 */
Test(snapshot, a_user_reads_their_own_tree_and_is_refused_roots, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096], cmd[512];
	struct t_result r;
	pid_t pid;

	if (getuid() != 0 || system("command -v setpriv >/dev/null 2>&1") != 0)
		cr_skip_test("needs root and setpriv to run as another user");
	snprintf(cmd, sizeof(cmd), "exec setpriv --reuid=65534 --regid=65534 --clear-groups %s 3", PROG("leakypool"));
	pid = snap_start(cmd);
	snap_wait_hung(pid, 4, state, sizeof(state));
	cr_assert_eq(t_sh(&r, "chmod 1777 . && setpriv --reuid=65534 --regid=65534 --clear-groups \"$PT\" snapshot --db u.db %d",
			  (int)pid), 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: 4 of 4 processes") != NULL, "%s", r.out);
	cr_expect_eq(t_sh(&r, "setpriv --reuid=65534 --regid=65534 --clear-groups \"$PT\" snapshot --db u.db 1"), 2,
		     "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "process 1: its fds may not be read") != NULL, "%s", r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
}

/*
 * The snapshot cannot be stored (as a user, --db in a directory of root's):
 * the diagnosis is printed all the same, then one error line, exit 1.
 */
Test(snapshot, a_snapshot_that_cannot_be_stored_still_says_why_it_is_stuck, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096], cmd[512];
	struct t_result r;
	pid_t pid;

	if (getuid() != 0 || system("command -v setpriv >/dev/null 2>&1") != 0)
		cr_skip_test("needs root and setpriv to run as another user");
	snprintf(cmd, sizeof(cmd), "exec setpriv --reuid=65534 --regid=65534 --clear-groups %s 3", PROG("leakypool"));
	pid = snap_start(cmd);
	snap_wait_hung(pid, 4, state, sizeof(state));
	cr_assert_eq(t_sh(&r, "chmod 755 . && mkdir -m 755 ro && setpriv --reuid=65534 --regid=65534 --clear-groups"
			      " \"$PT\" snapshot --db ro/s.db %d", (int)pid), 1, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: 4 of 4 processes can never move again") == r.out, "%s", r.out);
	cr_expect(strstr(r.out, "(leakypool) waits in wait4 for its child pid") != NULL, "%s", r.out);
	cr_expect(strstr(r.err, "ro/s.db: cannot create") != NULL, "%s", r.err);
	cr_expect_eq(t_lines(r.err), 1, "one error line, no summary: %s", r.err);
	cr_expect(access(t_path("ro/s.db"), F_OK) != 0, "nothing was stored");
}

/* The same on a full disk (a 64 KiB tmpfs, filled): the words, then one error line, exit 1. */
Test(snapshot, a_snapshot_on_a_full_disk_still_says_what_waits, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096];
	struct t_result r;
	pid_t pid;

	if (getuid() != 0)
		cr_skip_test("needs root to mount a tmpfs");
	pid = snap_start("sleep 100 | cat");
	snap_wait_hung(pid, 3, state, sizeof(state));
	if (t_sh(&r, "mkdir full && mount -t tmpfs -o size=64k tmpfs full && { dd if=/dev/zero of=full/fill bs=4k;"
		     " true; } 2>/dev/null") != 0)
		cr_skip_test("no tmpfs to mount: %s", r.err);
	cr_assert_eq(t_run(&r, "snapshot --db full/s.db %d", (int)pid), 1, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "no deadlock: ") == r.out, "%s", r.out);
	cr_expect(strstr(r.out, "(cat) waits in read(fd 0) for data or EOF on pipe:[") != NULL, "%s", r.out);
	cr_expect(strstr(r.err, "pooltrace: full/s.db: ") == r.err, "%s", r.err);
	cr_expect_eq(t_lines(r.err), 1, "one error line, no summary: %s", r.err);
}

/*
 * --all as a user (of a uid no other process has) counts the processes it
 * may read, that user's hung pool, not every process of the machine, and
 * says how many others it could not read.
 */
Test(snapshot, all_as_a_user_counts_only_the_processes_it_may_read, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096], cmd[512];
	struct t_result r;
	pid_t pid;

	if (getuid() != 0 || system("command -v setpriv >/dev/null 2>&1") != 0)
		cr_skip_test("needs root and setpriv to run as another user");
	snprintf(cmd, sizeof(cmd), "exec setpriv --reuid=61234 --regid=61234 --clear-groups %s 3", PROG("leakypool"));
	pid = snap_start(cmd);
	snap_wait_hung(pid, 4, state, sizeof(state));
	cr_assert_eq(t_sh(&r, "chmod 1777 . && setpriv --reuid=61234 --regid=61234 --clear-groups \"$PT\" snapshot --db a.db --all"),
		     3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: 4 of 4 processes can never move again") == r.out, "%s", r.out);
	cr_expect(strstr(r.out, " processes of other users could not be read, and are not counted: a holder among them"
				" would not be seen)\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.err, "; 4 processes, 4 threads, ") != NULL, "%s", r.err);
	cr_expect_eq(t_sql_int(t_path("a.db"), "SELECT count(*) FROM processes"), 4);
}

/*
 * alarmwake posix: the parent waits for a child that waits for the parent's
 * write end, but a POSIX timer's SIGUSR1, caught, will close it: no deadlock,
 * and the words say what wakes it.
 */
Test(snapshot, a_caught_posix_timer_signal_can_wake_it, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096], cmd[512];
	struct t_result r;
	pid_t pid;

	if (access("/proc/self/timers", R_OK) != 0)
		cr_skip_test("no /proc/PID/timers (a kernel without CONFIG_CHECKPOINT_RESTORE)");
	snprintf(cmd, sizeof(cmd), "exec %s posix 60", PROG("alarmwake"));
	pid = snap_start(cmd);
	snap_wait_hung(pid, 2, state, sizeof(state));
	cr_assert_eq(t_run(&r, "snapshot --db t.db %d", (int)pid), 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "no deadlock: ") == r.out, "%s", r.out);
	cr_expect(strstr(r.out, "(alarmwake) waits in wait4 for its child pid ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "; a timer's signal (SIGUSR1) that it catches can wake it\n") != NULL, "%s", r.out);
}

/*
 * A named FIFO is no pipe of the tree's own: a shell holds it open both
 * ways (fd 3) and waits in wait4 for cat, which reads it. Its write end is held only
 * by the two, but any process may open the FIFO and write: no deadlock, and
 * the words say why. Its fds are stored as files, by path, not as pipes.
 */
Test(snapshot, a_named_fifo_can_be_opened_by_anyone_so_it_can_wake, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096], cmd[1024], want[600];
	const char *fifo = t_path("f");
	struct t_result r;
	struct stat st;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "mkfifo %s && exec 3<>%s && cat %s >/dev/null; :", fifo, fifo, fifo);
	pid = snap_start(cmd);
	snap_wait_hung(pid, 2, state, sizeof(state));
	cr_assert_eq(t_run(&r, "snapshot --db f.db %d", (int)pid), 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "no deadlock: ") == r.out, "%s", r.out);
	snprintf(want, sizeof(want), " for data or EOF on the FIFO %s, which any process allowed to open it may write: it can"
		 " be woken\n", fifo);
	cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
	cr_assert_eq(stat(fifo, &st), 0);
	cr_expect_eq(t_sql_int(t_path("f.db"), "SELECT count(*) FROM pipes WHERE inode = %llu", (unsigned long long)st.st_ino),
		     0, "the FIFO is no pipe");
	cr_expect_eq(t_sql_int(t_path("f.db"), "SELECT count(*) FROM events WHERE kind = 'found' AND fd = 3 AND detail = '%s'",
			       fifo), 2, "the FIFO's fds are stored by path");
	cr_expect_eq(t_sql_int(t_path("f.db"), "SELECT count(*) FROM events WHERE kind = 'hang' AND detail LIKE '%%syscall=read %%'"
			       " AND inode IS NULL AND pipe_id IS NULL"), 1, "cat's wait names no pipe");
}

/*
 * One process reading a pipe whose only write end it holds waits for itself
 * alone: a deadlock, stored with outcome deadlock and its hang event, but no
 * wait_for edge (the view is of waits between processes, as for record);
 * the words and explain say it is a wait for itself, not a cycle.
 */
Test(snapshot, a_process_waiting_for_itself_alone_is_said_to, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096], want[128];
	struct t_result r;
	pid_t pid;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		cr_skip_test("no python3");
	pid = snap_start("exec python3 -c 'import os; r, w = os.pipe(); os.read(r, 1)'");
	snap_wait_hung(pid, 1, state, sizeof(state));
	cr_assert_eq(t_run(&r, "snapshot --db w.db %d", (int)pid), 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: 1 of 1 processes can never move again; one of them waits for itself alone:\n") ==
		  r.out, "%s", r.out);
	cr_expect_eq(t_sql_int(t_path("w.db"), "SELECT count(*) FROM runs WHERE outcome = 'deadlock'"), 1);
	cr_expect_eq(t_sql_int(t_path("w.db"), "SELECT count(*) FROM wait_for"), 0, "no self-edge");
	cr_expect_eq(t_sql_int(t_path("w.db"), "SELECT count(*) FROM hang_holders WHERE blocked_pid = holder_pid"), 1);
	cr_assert_eq(t_run(&r, "explain --db w.db"), 0, "%s", r.err);
	snprintf(want, sizeof(want), "why it hung: process %d (python3", (int)pid);
	cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
	cr_expect(strstr(r.out, ") waits for itself alone (no other process takes part):\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "whose write end only its own process holds (fd ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "fix: no rule of docs/explain.md fits this wait: the process holds the end that would wake"
				" it\n") != NULL, "%s", r.out);
	cr_assert_eq(t_run(&r, "explain --db w.db --json"), 0, "%s", r.err);
	snprintf(want, sizeof(want), "\"self_deadlock\": %d", (int)pid);
	cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
}

/* Starts n textbook pools of 3 workers (`leakypool 3`, 4 processes each) and waits until each hangs; their pids into pid. */
static void snap_start_pools(int n, pid_t *pid)
{
	char state[4096];

	for (int i = 0; i < n; i++)
		pid[i] = snap_start("exec " PROG("leakypool") " 3");
	for (int i = 0; i < n; i++)
		snap_wait_hung(pid[i], 4, state, sizeof(state));
}

/*
 * Two hung trees are two separate deadlocks, not one cycle of 8: each is
 * told in turn, led by its root, and --json gives each cycle's pids.
 */
Test(snapshot, two_hung_trees_are_told_as_two_separate_deadlocks, .timeout = 60, .fini = snap_kill_all)
{
	struct t_result r;
	char want[160];
	pid_t pid[2], got[8];
	const char *json;

	snap_start_pools(2, pid);
	cr_assert_eq(t_run(&r, "snapshot --db s.db -q %d %d", (int)pid[0], (int)pid[1]), 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: 8 of 8 processes can never move again; 8 of them are in 2 separate cycles of"
				" waits, each a deadlock of its own:\n") == r.out, "%s", r.out);
	for (int i = 0; i < 2; i++) {
		snprintf(want, sizeof(want), "\n  the %s, 4 processes that wait for each other:\n    pid %d (leakypool) waits in wait4",
			 i ? "second" : "first", (int)pid[i]);
		cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
	}
	cr_expect(strstr(r.out, "the cycle") == NULL && strstr(r.out, "stuck behind") == NULL, "%s", r.out);
	cr_expect_eq(t_lines(r.out), 1 + 2 * (1 + 4), "a line for each cycle and each of its processes: %s", r.out);
	cr_assert_eq(t_run(&r, "snapshot --db s.db --json %d %d", (int)pid[0], (int)pid[1]), 3, "%s%s", r.out, r.err);
	cr_assert_not_null(json = strstr(r.out, "\"cycles\": "), "%s", r.out);
	cr_assert_eq(sscanf(json, "\"cycles\": [[%d, %d, %d, %d], [%d, %d, %d, %d]], ", &got[0], &got[1], &got[2], &got[3],
			    &got[4], &got[5], &got[6], &got[7]), 8, "%s", r.out);
	cr_expect(got[0] == pid[0] && got[4] == pid[1], "each cycle is led by its tree's root: %s", r.out);
	cr_expect(strstr(r.out, "\"deadlocked\": 8, ") != NULL, "the keys before stay: %s", r.out);
}

/* Past 6 separate deadlocks, the first 3 are told and the rest counted, with the root of each: --json has every one. */
Test(snapshot, past_six_deadlocks_the_first_three_are_told_and_the_rest_counted, .timeout = 60, .fini = snap_kill_all)
{
	struct t_result r;
	char want[256];
	pid_t pid[7];

	snap_start_pools(7, pid);
	cr_assert_eq(t_run(&r, "snapshot --db s.db -q %d %d %d %d %d %d %d", (int)pid[0], (int)pid[1], (int)pid[2],
			   (int)pid[3], (int)pid[4], (int)pid[5], (int)pid[6]), 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: 28 of 28 processes can never move again; 28 of them are in 7 separate cycles of"
				" waits, each a deadlock of its own:\n") == r.out, "%s", r.out);
	cr_expect(strstr(r.out, "\n  the third, 4 processes that wait for each other:\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "the fourth") == NULL, "%s", r.out);
	snprintf(want, sizeof(want), "\n  ... and 4 more cycles, through pids %d, %d, %d, %d (leakypool); --json has each\n",
		 (int)pid[3], (int)pid[4], (int)pid[5], (int)pid[6]);
	cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
	cr_expect_eq(t_lines(r.out), 1 + 3 * (1 + 4) + 1, "%s", r.out);
	cr_assert_eq(t_run(&r, "snapshot --db s.db --json %d %d %d %d %d %d %d", (int)pid[0], (int)pid[1], (int)pid[2],
			   (int)pid[3], (int)pid[4], (int)pid[5], (int)pid[6]), 3, "%s%s", r.out, r.err);
	snprintf(want, sizeof(want), "], [%d, ", (int)pid[6]);
	cr_expect(strstr(r.out, want) != NULL, "the seventh cycle too: %s", r.out);
}

/*
 * A process waiting for itself alone is a deadlock of its own beside a hung
 * tree's cycle: two separate ones, the second named as the wait it is.
 */
Test(snapshot, a_process_waiting_for_itself_beside_a_hung_tree_is_a_second_deadlock, .timeout = 60,
     .fini = snap_kill_all)
{
	char state[4096], want[256];
	struct t_result r;
	pid_t pid[2];

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		cr_skip_test("no python3");
	snap_start_pools(1, &pid[0]);
	pid[1] = snap_start("exec python3 -c 'import os; r, w = os.pipe(); os.read(r, 1)'");
	snap_wait_hung(pid[1], 1, state, sizeof(state));
	cr_assert_eq(t_run(&r, "snapshot --db s.db -q %d %d", (int)pid[0], (int)pid[1]), 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: 5 of 5 processes can never move again; 5 of them are in 2 separate cycles of"
				" waits, each a deadlock of its own:\n  the first, 4 processes that wait for each other:\n") ==
		  r.out, "%s", r.out);
	snprintf(want, sizeof(want), "\n  the second, pid %d (python3), waits for itself alone:\n    pid %d (python3) waits in"
		 " read(fd ", (int)pid[1], (int)pid[1]);
	cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
}

/*
 * The textbook pool in a pid namespace of its own (unshare --pid --fork):
 * its parent waits for worker 0 by its pid there (2), which is mapped to the
 * pid pooltrace sees: the deadlock is found, and stored with the child's
 * pid as the trace knows it (the wait_for edge).
 */
Test(snapshot, a_wait_inside_a_pid_namespace_names_its_child_there, .timeout = 60, .fini = snap_kill_all)
{
	char state[4096], cmd[512];
	const char *db = t_path("ns.db");
	struct t_result r;
	pid_t pid;

	if (getuid() != 0 || system("command -v unshare >/dev/null 2>&1") != 0)
		cr_skip_test("needs root and unshare for a pid namespace");
	snprintf(cmd, sizeof(cmd), "exec unshare --pid --fork %s 3", PROG("leakypool"));
	pid = snap_start(cmd);
	snap_wait_hung(pid, 5, state, sizeof(state));
	cr_assert_eq(t_run(&r, "snapshot --db ns.db %d", (int)pid), 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: 5 of 5 processes can never move again; 4 of them wait for each other:\n") == r.out,
		  "%s", r.out);
	cr_expect(strstr(r.out, " (pid 2 in its pid namespace): pid ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "stuck behind it: 1\n") != NULL, "unshare waits for the pool: %s", r.out);
	/* 3 child and pipe waits and 3 leaked write ends on the cycle, and unshare's wait for the pool. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for"), 3 + 3 + 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for w JOIN processes c ON c.run_id = w.run_id AND"
				   " c.pid = w.waits_for WHERE w.reason = 'child' AND c.ppid = w.pid"), 2);
}

/* The shell that runs pooltrace waits for it, which is not in the tree but will exit: no false deadlock. */
Test(snapshot, the_shell_running_pooltrace_is_not_taken_for_stuck, .timeout = 60)
{
	struct t_result r;

	cr_expect_eq(t_sh(&r, "bash -c 'exec 3> >(cat); \"$PT\" snapshot --db s.db $$; exit $?'"), 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "no deadlock") == r.out, "%s", r.out);
}

/* ---- record -p: attach to a running tree, follow it, let it go ---- */

/* How many live processes of group pgid a tracer has (TracerPid not 0), or are stopped (state T or t). */
static int attach_traced_or_stopped(pid_t pgid, bool stopped)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(dir);
	while ((de = readdir(dir))) {
		char path[300], buf[4096], *p;
		int fd, pgrp = 0;
		ssize_t k;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[k > 0 ? k : 0] = '\0';
		if (!(p = strrchr(buf, ')')) || sscanf(p + 2, "%*c %*d %d", &pgrp) != 1 || pgrp != pgid || p[2] == 'Z')
			continue;
		if (stopped) {
			n += p[2] == 'T' || p[2] == 't';
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[k > 0 ? k : 0] = '\0';
		n += (p = strstr(buf, "TracerPid:")) && atoi(p + 10) != 0;
	}
	closedir(dir);
	return n;
}

/* The number in file path (a loop's counter), or -1. */
static long attach_counter(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Whether the loop writing counter path still goes round: its count grows within 3 s. */
static bool attach_loop_moves(const char *path)
{
	long first = attach_counter(path);

	for (int i = 0; i < 30; i++) {
		usleep(100 * 1000);
		if (attach_counter(path) > first)
			return true;
	}
	return false;
}

#define ATTACH_LOOP "i=0; while :; do echo x | cat >/dev/null; i=$((i+1)); echo $i > %s; sleep 0.05; done"

/*
 * A shell loop started without pooltrace, attached to for a second: its
 * pipes, forks, closes and reaps are recorded, and after the detach the loop
 * goes round as before, traced by no one and stopped nowhere.
 */
Test(attach, a_running_shell_loop_is_followed_and_let_go, .timeout = 60, .fini = snap_kill_all)
{
	char cmd[512];
	const char *db = t_path("a.db"), *count = t_path("count");
	struct t_result r;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), ATTACH_LOOP, count);
	pid = snap_start(cmd);
	cr_assert(attach_loop_moves(count), "the loop runs");
	cr_assert_eq(t_run(&r, "record --db a.db -p %d --for 1", (int)pid), 0, "%s", r.err);
	cr_expect(strstr(r.err, ": detached; ") != NULL, "%s", r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE source = 'attach' AND outcome = 'detached'"
				   " AND exit_status IS NULL AND command LIKE 'sh -c %%'"), 1);
	/* About 15 rounds in a second, each a pipe, two forks, their closes and two reaps. */
	cr_expect_geq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'pipe' AND pid = %d", (int)pid), 3);
	cr_expect_geq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'fork' AND other_pid = %d", (int)pid), 6);
	cr_expect_geq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'reap' AND pid = %d", (int)pid), 6);
	cr_expect_geq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'close' AND pipe_id IS NOT NULL"), 6);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'found' AND fd IS NULL AND pid = %d", (int)pid),
		     1, "the shell is found at the attach");
	/* Every reap names a process the trace saw fork. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e WHERE kind = 'reap' AND other_pid NOT IN"
				   " (SELECT pid FROM processes WHERE run_id = e.run_id)"), 0);
	cr_expect_eq(attach_traced_or_stopped(pid, false), 0, "no process of the loop is traced after the detach");
	cr_expect_eq(attach_traced_or_stopped(pid, true), 0, "none is stopped");
	cr_expect(attach_loop_moves(count), "the loop goes on");
}

/*
 * The textbook pool, hung without pooltrace: attached, the deadlock is found
 * and recorded (exit 3, the cycle's N + N(N-1)/2 waits), and the pool is left
 * as it was, every process in the same call with the same fds, traced by no one.
 */
Test(attach, a_hung_pool_is_recorded_as_deadlocked_and_left_running, .timeout = 60, .fini = snap_kill_all)
{
	char before[4096], after[4096], cmd[256];
	const char *db = t_path("h.db");
	struct t_result r;
	pid_t pid;
	int n = 4;

	snprintf(cmd, sizeof(cmd), "exec %s %d", PROG("leakypool"), n);
	pid = snap_start(cmd);
	snap_wait_hung(pid, n + 1, before, sizeof(before));
	cr_assert_eq(t_run(&r, "record --db h.db -p %d", (int)pid), 3, "%s", r.err);
	cr_expect(strstr(r.err, ": deadlock, left running; 5 processes;") != NULL, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE source = 'attach' AND outcome = 'deadlock'"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for"), n + n * (n - 1) / 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'kill'"), 0, "nothing was killed");
	snap_state(pid, after, sizeof(after));
	cr_expect_str_eq(after, before, "the pool is as it was");
	cr_expect_eq(attach_traced_or_stopped(pid, false), 0, "no process is traced after the detach");
	cr_expect_eq(t_run(&r, "explain --db h.db"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "left the program as it was") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "waits in wait4 for process") != NULL, "%s", r.out);
}

/* A group-stopped process (^Z, SIGSTOP) stays stopped through the attach and the detach, as it was. */
Test(attach, a_stopped_process_stays_stopped, .timeout = 60, .fini = snap_kill_all)
{
	char cmd[1024];
	pid_t pid = snap_start("exec sleep 100"), pt;
	int status;

	usleep(200 * 1000);
	kill(pid, SIGSTOP);
	for (int i = 0; i < 50 && attach_traced_or_stopped(pid, true) != 1; i++)
		usleep(20 * 1000);
	cr_assert_eq(attach_traced_or_stopped(pid, true), 1, "sleep is stopped");
	snprintf(cmd, sizeof(cmd), "exec %s record -q --db %s -p %d --for 2", POOLTRACE_BIN, t_path("s.db"), (int)pid);
	pt = snap_start(cmd);
	for (int i = 0; i < 100 && attach_traced_or_stopped(pid, false) == 0; i++)
		usleep(20 * 1000);
	cr_assert_eq(attach_traced_or_stopped(pid, false), 1, "pooltrace attached");
	for (int i = 0; i < 10; i++) {
		usleep(50 * 1000);
		cr_expect_eq(attach_traced_or_stopped(pid, true), 1, "it stays stopped while attached");
	}
	cr_assert_eq(waitpid(pt, &status, 0), pt);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "pooltrace: status %d", status);
	usleep(100 * 1000);
	cr_expect_eq(attach_traced_or_stopped(pid, true), 1, "it is still stopped");
	cr_expect_eq(attach_traced_or_stopped(pid, false), 0, "and traced by no one");
	kill(pid, SIGCONT);
}

/* pooltrace SIGKILLed while attached: the program goes on, traced by no one (no PTRACE_O_EXITKILL). */
Test(attach, the_program_survives_a_kill_of_pooltrace, .timeout = 60, .fini = snap_kill_all)
{
	char cmd[1024];
	const char *count = t_path("count");
	pid_t pid, pt;

	snprintf(cmd, sizeof(cmd), ATTACH_LOOP, count);
	pid = snap_start(cmd);
	cr_assert(attach_loop_moves(count), "the loop runs");
	snprintf(cmd, sizeof(cmd), "exec %s record --db %s -p %d", POOLTRACE_BIN, t_path("k.db"), (int)pid);
	pt = snap_start(cmd);
	for (int i = 0; i < 100 && attach_traced_or_stopped(pid, false) == 0; i++)
		usleep(20 * 1000);
	cr_assert_gt(attach_traced_or_stopped(pid, false), 0, "pooltrace attached");
	usleep(300 * 1000);
	kill(pt, SIGKILL);
	waitpid(pt, NULL, 0);
	usleep(200 * 1000);
	cr_expect_eq(attach_traced_or_stopped(pid, false), 0, "no process is traced once pooltrace is gone");
	cr_expect_eq(attach_traced_or_stopped(pid, true), 0, "none is stopped");
	cr_expect(attach_loop_moves(count), "the loop goes on");
}

/* Bad input: one line, exit 2, and no run stored. */
Test(attach, bad_input_exits_2_with_one_line, .timeout = 60)
{
	char own[64];
	const char *args[] = { "-p abc", "-p 0", "-p 999999999", "-p 1 -- true", "--for 1 -- true",
			       "--kill-on-deadlock -- true", "-p 1 --for 0", own };
	struct t_result r;

	snprintf(own, sizeof(own), "-p %d", (int)getpid()); /* pooltrace's ancestor */
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		cr_expect_eq(t_run(&r, "record --db b.db %s", args[i]), 2, "'%s': %s", args[i], r.err);
		cr_expect_eq(t_lines(r.err), 1, "'%s': %s", args[i], r.err);
	}
	cr_expect(access(t_path("b.db"), F_OK) != 0, "nothing was stored");
}

/*
 * A process whose main thread called pthread_exit while its other thread
 * reads a pipe whose write end it holds itself (tests/programs/threadexit.c
 * stuck): deadlocked. Its fds are read through the live thread, its zombie
 * main thread is not taken for the process's end. (Before: "no deadlock",
 * /proc/PID/fd being empty once the main thread is gone.)
 */
Test(snapshot, a_process_whose_main_thread_exited_is_read_through_its_live_thread, .timeout = 60, .fini = snap_kill_all)
{
	char cmd[256];
	struct t_result r;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec %s stuck", PROG("threadexit"));
	pid = snap_start(cmd);
	/* Until the main thread has gone and the other is in its read. */
	for (int tries = 0; tries < 50; tries++) {
		usleep(100 * 1000);
		if (t_run(&r, "snapshot --db s.db %d", (int)pid) == 3)
			break;
	}
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "deadlock: 1 of 1 processes") == r.out, "%s", r.out);
	cr_expect(strstr(r.out, "waits in read(fd ") != NULL && strstr(r.out, "its write end is held by pid ") != NULL,
		  "%s", r.out);
	cr_expect(strstr(r.out, "is a zombie") == NULL, "%s", r.out);
}

/*
 * A pipe the tree was handed from outside (its reader is a process outside
 * it) is not the program's: attached, its holders are no leaks, as a pipe
 * inherited from outside is none under record -- CMD. (Before: 2 leaked
 * write ends a round, the sleeps' fd 7, and explain blamed the shell.)
 */
Test(attach, a_pipe_held_outside_the_tree_is_not_the_programs, .timeout = 60)
{
	const char *db = t_path("o.db");
	struct t_result r;

	/* The loop's fd 7 is the write end of a pipe whose reader, cat, is not of the tree. */
	cr_assert_eq(t_sh(&r, "{ sh -c 'while :; do sleep 0.02; done' 7>&1 >/dev/null & echo $! >loop.pid; wait; } | cat >/dev/null &"
			  " sleep 0.3; s=$(cat loop.pid); \"$PT\" record --db o.db -p $s --for 1; st=$?; kill $s; exit $st"),
		     0, "%s%s", r.out, r.err);
	cr_expect_geq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'fork'"), 5);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pipes"), 0, "the outside pipe is no pipe of the run");
	cr_expect_gt(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'found' AND fd = 7"), 0);
}

static bool proctree_test_inside_none(void *ctx, pid_t pid)
{
	(void)ctx;
	(void)pid;
	return false;
}

/*
 * `threadexit stuck`: the main thread has exited (pthread_exit) and the
 * other one reads a pipe it holds both ends of. /proc/PID/fd is then empty;
 * the attach's readers of fd tables (which pipes the tree holds, which of
 * them a process outside holds too) read it through the live thread: the
 * pipe is the tree's, and seen held by that process when it is outside.
 * (Before: no pipe at all.)
 */
Test(attach, a_process_whose_main_thread_exited_holds_its_pipes_for_the_attach, .timeout = 60, .fini = snap_kill_all)
{
	pid_t pid = snap_start("exec " PROG("threadexit") " stuck");
	struct inomap mine = { 0 }, outside = { 0 };
	char path[384], link[64], buf[512], *p;
	uint64_t inode = 0;
	struct dirent *de;
	DIR *task;

	/* Until its main thread is a zombie and the other one is blocked reading its second pipe. */
	for (int i = 0; i < 300 && !inode; i++) {
		usleep(10 * 1000);
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (read_small_file(path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')) || p[2] != 'Z')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		if (!(task = opendir(path)))
			continue;
		while ((de = readdir(task)) && !inode) {
			unsigned long nr, fd;
			ssize_t n;

			if (atoi(de->d_name) <= 0 || atoi(de->d_name) == pid)
				continue;
			/* read(fd, ...): "0 0xFD ..." in its syscall file. */
			snprintf(path, sizeof(path), "/proc/%d/task/%s/syscall", (int)pid, de->d_name);
			if (read_small_file(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%lu 0x%lx", &nr, &fd) != 2 || nr != 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/fd/%lu", (int)pid, de->d_name, fd);
			if ((n = readlink(path, link, sizeof(link) - 1)) > 6) {
				link[n] = '\0';
				if (!strncmp(link, "pipe:[", 6))
					inode = strtoull(link + 6, NULL, 10);
			}
		}
		closedir(task);
	}
	cr_assert_neq(inode, 0, "threadexit's thread holds a pipe, its main thread gone");
	cr_assert_eq(proctree_pipes_of(pid, &mine), 0);
	cr_expect_eq(inomap_get(&mine, inode), 1, "the pipe is the process's");
	proctree_outside_pipes(&mine, proctree_test_inside_none, NULL, &outside);
	cr_expect_eq(inomap_get(&outside, inode), 1, "held by a process outside the tree, when it is outside");
	inomap_release(&mine);
	inomap_release(&outside);
}
