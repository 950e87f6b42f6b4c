/* test_snapshot.c: `pooltrace snapshot` on programs started without pooltrace and already hung, the way users find them. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		FILE *f;
		int pgrp = 0;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(stat, sizeof(stat), f) && (p = strrchr(stat, ')')) && sscanf(p + 2, "%*c %*d %d", &pgrp) == 1 &&
		    pgrp == pgid && p[2] != 'Z')
			pids[n++] = atoi(de->d_name);
		fclose(f);
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

/* The shell that runs pooltrace waits for it, which is not in the tree but will exit: no false deadlock. */
Test(snapshot, the_shell_running_pooltrace_is_not_taken_for_stuck, .timeout = 60)
{
	struct t_result r;

	cr_expect_eq(t_sh(&r, "bash -c 'exec 3> >(cat); \"$PT\" snapshot --db s.db $$; exit $?'"), 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "no deadlock") == r.out, "%s", r.out);
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
