/* test_faults.c: crashes, kills and signals end in a complete trace, the right outcome and no process left. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Starts `pooltrace run --db DB EXTRA...` in the background, with tag (a
 * "NAME=VALUE", or NULL) in its environment; returns its pid.
 */
static pid_t spawn_tagged(const char *tag, const char *db, char *const extra[])
{
	char *argv[32] = { POOLTRACE_BIN, "run", "--db", (char *)db, NULL };
	int n = 4;
	pid_t pid;

	for (int i = 0; extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	t_sanitizer_env();
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		if (tag)
			putenv((char *)tag);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static pid_t spawn_pooltrace(const char *db, char *const extra[])
{
	return spawn_tagged(NULL, db, extra);
}

/* Process group of pid, or -1. */
static pid_t pgid_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int pgrp = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	if (!fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')) || sscanf(p + 1, " %*c %*d %d", &pgrp) != 1)
		pgrp = -1;
	fclose(f);
	return pgrp;
}

/*
 * The pool parent: the child of pooltrace that leads its own process group
 * (the other child is the guard, in pooltrace's group). Waits until it exists.
 */
static pid_t pool_parent_of(pid_t sup)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)sup, (int)sup);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		int child;

		while (f && fscanf(f, "%d", &child) == 1)
			if (pgid_of(child) == child) {
				fclose(f);
				return child;
			}
		if (f)
			fclose(f);
		usleep(10000);
	}
	cr_assert_fail("the pool parent never appeared");
	return -1;
}

static int wait_status(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(faults, a_crashing_worker_is_recorded_with_its_signal, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("crash.db");

	cr_assert_eq(t_run(&r, "run --db crash.db -s reverse-close -w 3 -t 30 --crash-worker 1"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'crashed' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT term_signal FROM processes WHERE worker_index = 1"), SIGSEGV);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN processes p ON p.pid = e.other_pid WHERE "
				   "e.kind = 'reap' AND p.worker_index = 1 AND e.signal = %d", SIGSEGV), 1);
	/* The others finished their share, and the parent lived to reap everyone. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE role = 'worker' AND exit_code = 0"), 2);
	cr_expect_eq(t_sql_int(db, "SELECT exit_code FROM processes WHERE role = 'parent'"), 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE reap_seq IS NULL"), 0);
}

/*
 * Killing a deadlock starts with the pool parent, whose death closes its write
 * ends. Unless pooltrace holds copies of them, a worker sees EOF, runs on and
 * records read_zero and exit (it did in nearly every run), or is killed while
 * writing a record (1 run in 40): the trace then shows what the kill caused.
 */
Test(faults, a_killed_deadlock_runs_no_further_and_tears_no_record, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("frozen.db");

	for (int i = 0; i < 6; i++)
		cr_assert_eq(t_run(&r, "run --db frozen.db -s naive -w %d -t 12 -q --hang-ms 100", 3 + i % 3), 0, "%s",
			     r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE outcome = 'deadlock'"), 6);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN runs u ON u.id = e.run_id WHERE e.pid != u.supervisor_pid"
				   " AND e.seq > (SELECT min(seq) FROM events k WHERE k.run_id = e.run_id AND k.kind = 'kill')"),
		     0, "a pool process recorded an event after the kill");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE term_signal IS NOT %d", SIGKILL), 0,
		     "a pool process ended otherwise than by the kill");
	cr_expect_eq(t_sql_int(db, "SELECT total(events_torn) FROM runs"), 0);
}

Test(faults, sigkill_of_the_pool_parent_keeps_every_event_and_says_killed, .timeout = 60)
{
	const char *db = t_path("killed.db");
	pid_t sup = spawn_pooltrace(db, (char *[]){ "-s", "reverse-close", "-w", "3", "-t", "400", "--task-ms", "5",
						    NULL });
	pid_t parent = pool_parent_of(sup);

	usleep(300000);
	cr_assert_eq(kill(parent, SIGKILL), 0);
	cr_expect_eq(wait_status(sup), 0);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'killed' FROM runs"), 1);
	cr_expect_gt(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'write' AND pid = %d", (int)parent), 0,
		     "the parent's writes before the kill are stored");
	cr_expect_eq(t_sql_int(db, "SELECT term_signal FROM processes WHERE role = 'parent'"), SIGKILL);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE reap_seq IS NULL"), 0);
	/* Every task code a worker read had been recorded as written. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events r WHERE r.kind = 'read' AND r.result = 4 AND NOT EXISTS "
				   "(SELECT 1 FROM events w WHERE w.kind = 'write' AND w.arg = r.arg)"), 0);
	cr_expect_not(t_pgrp_alive(parent));
}

Test(faults, per_task_events_are_committed_while_the_run_goes_on, .timeout = 60)
{
	const char *db = t_path("live.db");
	pid_t sup = spawn_pooltrace(db, (char *[]){ "-s", "reverse-close", "-w", "2", "-t", "100000", "--task-ms", "1",
						    NULL });
	int64_t tasks = 0;

	pool_parent_of(sup);
	/* Packed events wait in memory until a commit writes them: one must come
	 * within ~50 ms; 2 s is far less than a 4096-event chunk takes to fill. */
	for (int i = 0; i < 40 && tasks <= 0; i++) {
		usleep(50000);
		tasks = t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'task'");
	}
	cr_expect_gt(tasks, 0, "no task event was committed during the run");
	cr_expect_eq(t_sql_int(db, "SELECT outcome IS NULL FROM runs"), 1, "the run was still going");
	cr_assert_eq(kill(sup, SIGTERM), 0);
	cr_expect_eq(wait_status(sup), 128 + SIGTERM);
}

static void interrupt_with(int sig)
{
	const char *db = t_path("int.db");
	struct t_result r;
	pid_t sup, parent;

	/* A first run that must come through the interrupted second one untouched. */
	cr_assert_eq(t_run(&r, "run --db int.db -s child-close -w 2 -t 4"), 0, "%s", r.err);
	sup = spawn_pooltrace(db, (char *[]){ "-s", "child-close", "-w", "3", "-t", "100000", "--task-ms", "1", NULL });
	parent = pool_parent_of(sup);
	usleep(300000);
	cr_assert_eq(kill(sup, sig), 0);
	cr_expect_eq(wait_status(sup), 128 + sig);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'interrupted' FROM runs WHERE id = 2"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs WHERE id = 1"), 1);
	cr_expect_gt(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 2 AND kind = 'task'"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 2 AND kind = 'kill'"), 4);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE run_id = 2 AND reap_seq IS NULL"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
	cr_expect_not(t_pgrp_alive(parent));
}

Test(faults, sigterm_to_pooltrace_kills_the_pool_and_says_interrupted, .timeout = 60)
{
	interrupt_with(SIGTERM);
}

Test(faults, sigint_to_pooltrace_kills_the_pool_and_says_interrupted, .timeout = 60)
{
	interrupt_with(SIGINT);
}

Test(faults, a_full_log_drops_events_only_with_a_recorded_count, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("overflow.db");
	int64_t dropped;

	/* A 64-record log whose writers may not wait: some events must be lost. */
	cr_assert_eq(t_run(&r, "run --db overflow.db -s child-close -w 2 -t 20000 --log-size 64 --log-wait-ms 0"), 0,
		     "%s", r.err);
	dropped = t_sql_int(db, "SELECT events_dropped FROM runs WHERE id = 1");
	cr_expect_gt(dropped, 0);
	cr_expect(strstr(r.err, "dropped") != NULL, "the run warns: %s", r.err);
	/* Every lost event is accounted for by an overflow event where it was noticed. */
	cr_expect_eq(t_sql_int(db, "SELECT sum(arg) FROM events WHERE run_id = 1 AND kind = 'overflow'"), dropped);
	/* The per-task events are the ones a busy pool loses; kept + dropped covers them all. */
	cr_expect_geq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 1 AND kind IN ('write', 'read', 'task')")
			      + dropped, 60000);
	cr_expect_eq(t_sql_int(db, "SELECT max(seq) = count(*) FROM events WHERE run_id = 1"), 1, "seq stays dense");
}

Test(faults, a_tiny_log_with_waiting_loses_nothing, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("tiny.db");

	cr_assert_eq(t_run(&r, "run --db tiny.db -s close-range -w 3 -t 30000 --log-size 64"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT events_dropped FROM runs"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'task'"), 30000);
	cr_expect_eq(t_sql_int(db, "SELECT max(seq) = count(*) FROM events"), 1, "seq is dense from 1");
}

/*
 * SIGKILL of pooltrace, which no handler can see, at delay_us after it
 * started: within a second no process of its run may be alive. The pool's
 * processes are found by a tag in their environment, which they inherit.
 */
static bool sigkill_leaves_nothing(const char *name, char *const extra[], useconds_t delay_us)
{
	static int trial;
	char tag[96], db[64];
	pid_t sup;
	int alive = -1, status;

	snprintf(tag, sizeof(tag), "POOLTRACE_TEST_TAG=%d-%s-%d", (int)getpid(), name, trial);
	snprintf(db, sizeof(db), "kill%d.db", trial++);
	sup = spawn_tagged(tag, t_path(db), extra);
	usleep(delay_us);
	cr_assert_eq(kill(sup, SIGKILL), 0);
	status = wait_status(sup);
	/* A run may already have ended on its own; then too nothing may be left. */
	cr_expect(status == 128 + SIGKILL || status == 0, "%s: exit %d", name, status);
	for (int i = 0; i < 100 && alive; i++) {
		alive = t_tagged_alive(tag);
		if (alive)
			usleep(10000);
	}
	cr_expect_eq(alive, 0, "%s: %d processes of the run outlived pooltrace by a second (killed after %u us)",
		     name, alive, (unsigned)delay_us);
	return status == 128 + SIGKILL;
}

Test(faults, sigkill_of_pooltrace_during_start_up_leaves_no_process, .timeout = 60)
{
	/* From exec to the pool's fork takes some tens of ms (creating the
	 * trace file): these moments fall before, during and after it. */
	for (useconds_t us = 0; us <= 100000; us += 10000)
		cr_expect(sigkill_leaves_nothing("startup", (char *[]){ "-s", "naive", "-w", "8", "-t", "100", NULL }, us));
}

Test(faults, sigkill_of_pooltrace_while_the_pool_works_leaves_no_process, .timeout = 60)
{
	/* Busy pools: blocked on pipes, and on the full event log (close-all
	 * with a tiny log whose writers wait for room). */
	sigkill_leaves_nothing("running", (char *[]){ "-s", "child-close", "-w", "4", "-t", "100000", "--task-ms", "1",
						      NULL }, 300000);
	sigkill_leaves_nothing("fulllog", (char *[]){ "-s", "close-all", "-w", "4", "-t", "1000000", "--log-size", "64",
						      "--log-wait-ms", "600000", NULL }, 300000);
}

Test(faults, sigkill_of_pooltrace_during_the_deadlock_check_leaves_no_process, .timeout = 120)
{
	int killed = 0;

	/* 300 workers: the deadlock is confirmed at ~0.2 s, its evidence
	 * recorded by ~0.3 s, the pool reaped by ~0.4 s (run --stats): these
	 * moments fall before, in and after the check. */
	for (useconds_t ms = 150; ms <= 350; ms += 50)
		killed += sigkill_leaves_nothing("deadlock", (char *[]){ "-s", "naive", "-w", "300", "-t", "300",
									 "--hang-ms", "20", NULL }, ms * 1000);
	cr_expect_geq(killed, 3, "only %d of 5 runs were still going when killed", killed);
}

/* A failed fork is the system's failure, not bad input: exit 1, not 2. */
Test(faults, a_fork_that_fails_for_lack_of_processes_exits_1, .timeout = 60)
{
	struct t_result r;

	if (getuid() != 0 || system("command -v setpriv >/dev/null 2>&1") != 0)
		cr_skip_test("needs root and setpriv to run as a user with a process limit");
	/* RLIMIT_NPROC does not bind root: run as nobody, allowed one process
	 * (the guard cannot start) or two (the pool cannot be forked). */
	for (int limit = 1; limit <= 2; limit++) {
		/* LeakSanitizer's own check at exit needs a thread, which the
		 * limit forbids: it is off for this one process. */
		t_sh(&r, "ASAN_OPTIONS=detect_leaks=0 setpriv --reuid=65534 --regid=65534 --clear-groups bash -c "
			 "'ulimit -u %d && exec \"$PT\" run --no-trace -w 2'", limit);
		cr_expect_eq(r.status, 1, "limit %d: exit %d: %s", limit, r.status, r.err);
		cr_expect(strstr(r.err, "Resource temporarily unavailable") != NULL, "limit %d: %s", limit, r.err);
		cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	}
}

/*
 * A full disk mid-run: exit 1, what was committed stays, the run's row says
 * it failed and why, and readers skip it when choosing the default run.
 */
Test(faults, a_full_disk_marks_the_run_failed_and_keeps_the_file, .timeout = 60)
{
	struct t_result r;
	const char *dir = t_path("small");
	char db[600];

	snprintf(db, sizeof(db), "%s/f.db", dir);
	t_sh(&r, "mkdir small && mount -t tmpfs -o size=400k tmpfs small");
	if (r.status != 0)
		cr_skip_test("cannot mount a small tmpfs here: %s", r.err);
	cr_expect_eq(t_run(&r, "run --db small/f.db -q -s child-close -w 2 -t 2"), 0, "%s", r.err);
	t_run(&r, "run --db small/f.db -s child-close -w 2 -t 200000");
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_expect(strstr(r.err, "database or disk is full") != NULL, "%s", r.err);
	/* One line: it also said "the trace could not be stored; stopping the pool", and each failed try of the mark. */
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE id = 2 AND outcome = 'failed' AND failure LIKE '%%full%%'"),
		     1);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs WHERE id = 1"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
	/* With a small log, the kill events after the failure find it full: they are not stored, and
	 * nothing tries to (it aborted on session.c's assertion, exit 134). */
	t_run(&r, "run --db small/f.db -q -s child-close -w 2 -t 400000 --log-size 1024");
	cr_expect_eq(r.status, 1, "small log: exit %d: %s", r.status, r.err);
	cr_expect_eq(t_lines(r.err), 1, "small log: %s", r.err);
	/* The default run of a reader is the newest that did not fail. */
	cr_expect_eq(t_run(&r, "render --db small/f.db -o out.svg"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "query --db small/f.db --csv 'SELECT max(id) FROM runs'"), 0, "%s", r.err);
	t_sh(&r, "umount small");
}

/*
 * record on a full disk: exit 1 within seconds (it used to hang forever, its
 * killed program stuck in its last ptrace stop), the run marked failed,
 * nothing of the program left running, and the file whole.
 */
Test(faults, record_on_a_full_disk_fails_the_run_and_leaves_nothing_running, .timeout = 60)
{
	struct t_result r;
	char db[600], tag[96];
	uint64_t t0;

	snprintf(db, sizeof(db), "%s/r.db", t_path("small"));
	snprintf(tag, sizeof(tag), "POOLTRACE_TEST_TAG=fullrec-%d", (int)getpid());
	t_sh(&r, "mkdir small && mount -t tmpfs -o size=300k tmpfs small");
	if (r.status != 0)
		cr_skip_test("cannot mount a small tmpfs here: %s", r.err);
	t0 = (uint64_t)time(NULL);
	t_sh(&r, "%s timeout -s KILL 30 \"$PT\" record --io --db small/r.db -- sh -c"
		 " 'for i in $(seq 3000); do echo hi | cat >/dev/null; done'", tag);
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_expect((uint64_t)time(NULL) - t0 <= 10, "record took %llu s to fail", (unsigned long long)(time(NULL) - t0));
	cr_expect(strstr(r.err, "database or disk is full") != NULL, "%s", r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	for (int i = 0; i < 100 && t_tagged_alive(tag); i++)
		usleep(10000);
	cr_expect_eq(t_tagged_alive(tag), 0, "the program outlived pooltrace");
	/* It was seen not marked failed under load (2 runs in 20): the write that filled the disk
	 * had left no room for the mark, nor for the checkpoint meant to free some; the session now
	 * keeps room for it (see session.c's SESSION_RESERVE and the test below). */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE outcome IS NOT 'failed'"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
	t_sh(&r, "umount small");
}

/*
 * The disk fills exactly at the final commit (POOLTRACE_TEST_FULL_AT_FINISH
 * fills it just before, and keeps it full), after earlier commits left
 * this run's pages in the WAL: exit 1, one line, and the run marked failed.
 * (Before the session kept room for the mark: exit 1 but the outcome NULL,
 * "could not be marked as failed either": the mark found no room, nor did
 * the checkpoint that was to free the WAL, which must grow the file first.)
 */
Test(faults, a_disk_that_fills_at_the_final_commit_still_marks_the_run_failed, .timeout = 60)
{
	static const char *const cmds[] = {
		"record --io --db small/f.db -- sh -c 'for i in $(seq 60); do echo hi | cat >/dev/null; done' >/dev/null",
		"run --db small/f.db -s child-close -w 2 -t 100 --task-ms 5",
	};
	char db[600];
	struct t_result r;

	snprintf(db, sizeof(db), "%s/f.db", t_path("small"));
	t_sh(&r, "mkdir small && mount -t tmpfs -o size=4m tmpfs small");
	if (r.status != 0)
		cr_skip_test("cannot mount a small tmpfs here: %s", r.err);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		t_sh(&r, "rm -f small/*");
		t_sh(&r, "POOLTRACE_TEST_FULL_AT_FINISH=1 \"$PT\" %s", cmds[i]);
		cr_expect_eq(r.status, 1, "%s: exit %d: %s", cmds[i], r.status, r.err);
		cr_expect(strstr(r.err, "database or disk is full") != NULL, "%s: %s", cmds[i], r.err);
		cr_expect_eq(t_lines(r.err), 1, "%s: %s", cmds[i], r.err);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE outcome = 'failed' AND failure LIKE '%%full%%'"),
			     1, "%s: %s", cmds[i], r.err);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
		/* The kept room and the filler were unlinked files: nothing is left beside the trace. */
		cr_expect_eq(t_sh(&r, "ls -A small | grep -v '^f\\.db' | wc -l | grep -qx 0"), 0, "%s", cmds[i]);
	}
	t_sh(&r, "umount small");
}

/*
 * The program's top process exits and pooltrace reaps it; a stranger then
 * gets its pid. A SIGTERM to pooltrace kills what is left of the program
 * (here a sleep), never the stranger: a reaped process leaves the tracer's
 * table at once. (It used to stay, and the kill-all hit its old pid.)
 */
Test(faults, record_never_kills_a_process_that_took_a_reaped_pid, .timeout = 60)
{
	struct t_result r;

	if (access("/proc/sys/kernel/ns_last_pid", W_OK) != 0)
		cr_skip_test("needs root and /proc/sys/kernel/ns_last_pid to hand out a chosen pid");
	t_sh(&r, "\"$PT\" record --db p.db -q -- sh -c 'echo $$ > top.pid; exec 1>&-; sleep 20 & exit 0' & pt=$!;"
		 " while [ ! -s top.pid ]; do sleep 0.01; done; top=$(cat top.pid);"
		 " while kill -0 $top 2>/dev/null; do sleep 0.01; done;"
		 " for try in 1 2 3 4 5; do echo $((top - 1)) > /proc/sys/kernel/ns_last_pid; sleep 100 & s=$!;"
		 "   [ $s = $top ] && break; kill $s; s=; done;"
		 " [ -n \"$s\" ] || { kill -TERM $pt; wait $pt; exit 77; };"
		 " kill -TERM $pt; wait $pt; st=$?;"
		 " if kill -0 $s 2>/dev/null; then kill $s; echo \"stranger alive, pooltrace $st\"; exit 0; fi;"
		 " echo \"stranger $s (the top's old pid) was killed, pooltrace $st\"; exit 1");
	if (r.status == 77)
		cr_skip_test("another process took the pid first, five times");
	cr_expect_eq(r.status, 0, "%s %s", r.out, r.err);
	cr_expect(strstr(r.out, "pooltrace 143") != NULL, "%s %s", r.out, r.err);
	cr_expect_eq(t_sql_int(t_path("p.db"), "SELECT count(*) FROM runs WHERE outcome = 'interrupted'"), 1);
}

/*
 * A signal whose default action would end pooltrace silently (SIGUSR1,
 * SIGALRM, ...) ends the run as interrupted, stored, exit 128+N, for run and
 * record alike; a file-size limit (SIGXFSZ) fails the run instead of killing
 * pooltrace without a word. (The outcome used to stay NULL.)
 */
Test(faults, every_catchable_fatal_signal_ends_the_run_with_an_outcome, .timeout = 120)
{
	static const struct {
		const char *cmd;
		int sig;
	} cases[] = {
		{ "record --db s.db -q -- sleep 30", SIGUSR1 },
		{ "record --db s.db -q -- sleep 30", SIGALRM },
		{ "run --db s.db -q -s child-close -w 2 -t 1 --task-ms 30000", SIGUSR2 },
		{ "run --db s.db -q -s child-close -w 2 -t 1 --task-ms 30000", SIGPROF },
	};
	const char *db = t_path("s.db");
	struct t_result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t_sh(&r, "\"$PT\" %s & p=$!; sleep 0.5; kill -%d $p; wait $p", cases[i].cmd, cases[i].sig);
		cr_expect_eq(r.status, 128 + cases[i].sig, "%s, signal %d: exit %d %s", cases[i].cmd, cases[i].sig, r.status,
			     r.err);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE id = %zu AND outcome = 'interrupted'", i + 1), 1,
			     "%s, signal %d", cases[i].cmd, cases[i].sig);
	}
	t_sh(&r, "ulimit -f 300; \"$PT\" record --io --db big.db -- sh -c 'for i in $(seq 3000); do echo hi | cat; done'"
		 " >/dev/null");
	cr_expect_eq(r.status, 1, "exit %d %s", r.status, r.err);
	/* Marked failed, unless the limit also refused that write, which is then said. */
	if (!strstr(r.err, "could not be marked as failed either"))
		cr_expect_eq(t_sql_int(t_path("big.db"), "SELECT count(*) FROM runs WHERE outcome = 'failed'"), 1, "%s",
			     r.err);
	cr_expect_eq(t_sql_int(t_path("big.db"), "SELECT count(*) FROM runs WHERE outcome IS NOT 'failed'"
					      " AND outcome IS NOT NULL"), 0);
}

/*
 * Out of fds, record saw no inherited fd and no deadlock, and hung. It
 * raises its own soft limit after the fork (the program keeps its 6), and
 * refuses, before the program runs, when the hard limit is too low.
 */
Test(faults, record_raises_its_own_fd_limit_and_refuses_one_too_low, .timeout = 60)
{
	struct t_result r;

	/* Criterion's own fds are closed first: the program needs its 6 for stdio and two pipes. */
	t_sh(&r, "bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}; [ $n -gt 2 ] && eval \"exec $n>&-\"; done;"
		 " ulimit -Sn 6; exec \"$PT\" record --db l.db -- %s 2'", POOLTRACE_PROGRAMS "/leakypool");
	cr_expect_eq(r.status, 137, "exit %d %s", r.status, r.err);
	cr_expect(strstr(r.err, "deadlock") && strstr(r.err, "leaked write ends 1,"), "%s", r.err);
	cr_expect_eq(t_sh(&r, "ulimit -Sn 6; \"$PT\" record --db l.db -q -- sh -c 'ulimit -n'"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "6\n", "the program's own limit");
	t_sh(&r, "ulimit -Sn 20 && ulimit -Hn 20 && \"$PT\" record --db l.db -- touch ran.txt");
	cr_expect_eq(r.status, 1, "exit %d %s", r.status, r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, "the fd limit is 20") != NULL, "%s", r.err);
	cr_expect_neq(access(t_path("ran.txt"), F_OK), 0, "the program ran");
}

/*
 * A SIGKILL of record right after it forked (before it seizes the child)
 * leaves nothing behind: the child asks for SIGKILL at pooltrace's death
 * until it is seized. Before, about one start in sixty left the child
 * stopped before its exec (state T). The window is ~100 us wide, so this
 * kills 150 starts at once after launching them; it catches the old
 * behaviour about nine times in ten.
 */
Test(faults, sigkill_of_record_right_after_its_fork_leaves_no_stopped_child, .timeout = 120)
{
	struct t_result r;
	char tag[96];

	snprintf(tag, sizeof(tag), "POOLTRACE_TEST_TAG=fork9-%d", (int)getpid());
	t_sh(&r, "for i in $(seq 150); do %s \"$PT\" record --db k.db -q -- sleep 30 & kill -9 $!; done; wait", tag);
	for (int i = 0; i < 100 && t_tagged_alive(tag); i++)
		usleep(10000);
	cr_expect_eq(t_tagged_alive(tag), 0, "a child outlived a SIGKILLed pooltrace");
	/* What a failure left behind, found by its tag. */
	t_sh(&r, "for d in /proc/[0-9]*; do grep -qz '%s' $d/environ 2>/dev/null && kill -9 ${d#/proc/}; done; exit 0", tag);
}

/*
 * A trace that cannot be read or made is a failure of the system or of the
 * file (exit 1, said as such), not bad input (exit 2, which they got): a
 * truncated trace, a disk too full to create one (and nothing of ours left
 * there: the temporary file's -wal and -shm stayed), no fd left. A file
 * that is not a trace stays bad input.
 */
Test(faults, a_damaged_full_or_fd_starved_database_is_exit_1, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -s child-close -w 3 -t 30"), 0, "%s", r.err);
	t_sh(&r, "head -c $(($(stat -c %%s t.db) / 2)) t.db > half.db");
	t_run(&r, "query --db half.db 'SELECT count(*) FROM events'");
	cr_expect_eq(r.status, 1, "truncated, query: exit %d %s", r.status, r.err);
	cr_expect(strstr(r.err, "malformed") != NULL, "%s", r.err);
	t_run(&r, "run --db half.db -q -w 2");
	cr_expect_eq(r.status, 1, "truncated, run: exit %d %s", r.status, r.err);
	t_sh(&r, "ulimit -n 4; \"$PT\" query --db t.db 'SELECT 1'");
	cr_expect_eq(r.status, 1, "no fds: exit %d %s", r.status, r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	t_sh(&r, "echo hello > text.db; \"$PT\" query --db text.db 'SELECT 1'");
	cr_expect_eq(r.status, 2, "a text file: exit %d %s", r.status, r.err);
	t_sh(&r, "mkdir tiny && mount -t tmpfs -o size=16k tmpfs tiny");
	if (r.status != 0)
		cr_skip_test("cannot mount a small tmpfs here: %s", r.err);
	t_run(&r, "run --db tiny/n.db -q -w 2 -t 2");
	cr_expect_eq(r.status, 1, "full disk at creation: exit %d %s", r.status, r.err);
	cr_expect_eq(t_sh(&r, "ls -A tiny"), 0);
	cr_expect_str_eq(r.out, "", "left in the full directory: %s", r.out);
	t_sh(&r, "umount tiny");
}

/*
 * A SIGINT or SIGTERM while record counts leaked write ends and EOF blockers
 * ends the count at once, the run stored with its outcome, exit 128+N, the
 * summary saying the counts were not made. (Ctrl-C waited for the count: 63 s
 * for a program that made and closed 16,000 pipes, before schema 10.) The
 * real counts now take milliseconds, so POOLTRACE_TEST_ENDLESS_COUNT adds a
 * statement to them that only the signal can end: without the progress
 * handler this test runs into its timeout.
 */
static void check_signal_stops_the_count(int sig)
{
	struct t_result r;
	char db[16];

	snprintf(db, sizeof(db), "c%d.db", sig);
	t_sh(&r, "POOLTRACE_TEST_ENDLESS_COUNT=1 \"$PT\" record --db %s -- sh -c '\"$0\" 16000 close && : > done%d'"
		 " %s/manypipes & p=$!; while [ ! -e done%d ]; do sleep 0.05; done; sleep 1; t0=$(date +%%s);"
		 " kill -%d $p; wait $p; st=$?; echo \"$st $(( $(date +%%s) - t0 ))\"",
		 db, sig, POOLTRACE_PROGRAMS, sig, sig);
	cr_expect_eq(atoi(r.out), 128 + sig, "exit and seconds: %s %s", r.out, r.err);
	cr_expect(strchr(r.out, ' ') && atoi(strchr(r.out, ' ')) <= 3, "took %s s to stop", r.out);
	cr_expect(strstr(r.err, ": ok, status 0;") && strstr(r.err, "not counted"), "%s", r.err);
	cr_expect_eq(t_sql_int(t_path(db), "SELECT count(*) FROM runs WHERE outcome = 'ok'"), 1);
	cr_expect_eq(t_sql_int(t_path(db), "SELECT count(*) FROM pipes"), 16000, "the run is stored whole");
}

Test(faults, sigint_while_record_counts_stops_the_count, .timeout = 120)
{
	check_signal_stops_the_count(SIGINT);
}

Test(faults, sigterm_while_record_counts_stops_the_count, .timeout = 120)
{
	check_signal_stops_the_count(SIGTERM);
}

/*
 * A program whose pipe a process outside it also holds is not deadlocked:
 * that process may write. Here a sleep outside the program reopens worker
 * 1's inherited write end of pipe 1 (through /proc) for 3 s; only once it
 * exits is the naive pool stuck, and only then killed. (It was killed at
 * the first check, a second in.)
 */
Test(faults, record_never_kills_a_program_an_outsider_can_still_wake, .timeout = 60)
{
	struct t_result r;

	/* --hang-ms 2000: the outsider must be in place before the first check, however slow this
	 * machine is (under ASan and a loaded machine, 1000 ms was not always enough). */
	t_sh(&r, "t0=$(date +%%s%%N); \"$PT\" record --db o.db --hang-ms 2000 -- %s 2 & pt=$!; sleep 0.4;"
		 " top=$(pgrep -P $pt | head -1); w0=$(pgrep -P $top | sort -n | head -1);"
		 " w1=$(pgrep -P $top | sort -n | tail -1); pipe=$(readlink /proc/$w0/fd/0);"
		 /* Worker 1's fd on pipe 1 (the fd numbers depend on what the test runner left open). */
		 " fd=$(for f in /proc/$w1/fd/*; do [ \"$(readlink $f)\" = \"$pipe\" ] && echo ${f##*/}; done | head -1);"
		 " [ -n \"$fd\" ] || { echo no-fd; exit 9; };"
		 " (exec sleep 3 9>/proc/$w1/fd/$fd) & wait $pt; st=$?;"
		 " echo \"$st $(( ($(date +%%s%%N) - t0) / 1000000 ))\"", POOLTRACE_PROGRAMS "/leakypool");
	cr_assert_eq(r.status, 0, "%s %s", r.out, r.err);
	cr_expect(!strncmp(r.out, "137 ", 4), "exit and ms: %s %s", r.out, r.err);
	cr_expect(atoi(r.out + 4) >= 3000, "killed after %s ms, while the outsider held the write end", r.out + 4);
	cr_expect_eq(t_sql_int(t_path("o.db"), "SELECT count(*) FROM runs WHERE outcome = 'deadlock'"), 1);
}

/*
 * A SIGTERM that arrives once the pool is reaped, while the trace is being
 * committed, is honoured after the commit: the run is stored whole, with the
 * outcome it had, and pooltrace exits 128+15. (It used to exit 0.)
 */
Test(faults, sigterm_during_the_final_commit_is_honoured_after_it, .timeout = 120)
{
	const char *db = t_path("late.db");
	char path[64];
	pid_t sup, parent;

	/* 1000 workers: committing half a million holds takes most of a second. */
	sup = spawn_pooltrace(db, (char *[]){ "-s", "naive", "-w", "1000", "-t", "1000", "--hang-ms", "50", NULL });
	parent = pool_parent_of(sup);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)sup, (int)sup);
	/* Every process of the pool is reaped (killed with the deadlock): none
	 * of pooltrace's children is in the pool's group any more, and the run
	 * is in its final commit. */
	for (int i = 0, members = 1; i < 30000 && members; i++) {
		FILE *f = fopen(path, "r");
		int child;

		members = 0;
		while (f && fscanf(f, "%d", &child) == 1)
			members += pgid_of(child) == parent;
		if (f)
			fclose(f);
		if (members)
			usleep(1000);
	}
	cr_assert_eq(kill(sup, SIGTERM), 0);
	cr_expect_eq(wait_status(sup), 128 + SIGTERM);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends"), 1000 * 999 / 2);
}

/*
 * Another writer holds the database locked for longer than SQLite's busy
 * timeout (10 s) while record runs a program: the program is neither
 * stalled nor killed, its events wait in memory, and they are stored once
 * the lock is free: the same forks as a run without the lock, outcome ok,
 * exit 0. (Before: "database is locked" after 10 s, the program killed,
 * exit 1.)
 */
Test(faults, a_writer_holding_the_lock_for_long_stalls_nothing_and_loses_nothing, .timeout = 120)
{
	const char *db = t_path("l.db");
	const char *prog = "sh -c 'for i in $(seq 36); do echo hi | cat >/dev/null; sleep 0.4; done'";
	struct t_result r;
	int64_t forks;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		cr_skip_test("no python3 to hold the lock");
	cr_assert_eq(t_sh(&r, "\"$PT\" record --db l.db -q -- %s", prog), 0, "%s", r.err);
	forks = t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 1 AND kind = 'fork'");
	cr_assert_gt(forks, 36);
	/* Once record's run is there, the lock is taken and held 12 s while the program goes on. */
	cr_assert_eq(t_sh(&r, "\"$PT\" record --db l.db -- %s > out 2>&1 & pt=$!\n"
			      "python3 -c \"import sqlite3, time\n"
			      "c = sqlite3.connect('l.db', isolation_level=None, timeout=30)\n"
			      "while c.execute('SELECT count(*) FROM runs').fetchone()[0] < 2: time.sleep(0.05)\n"
			      "time.sleep(0.5)\n"
			      "c.execute('BEGIN EXCLUSIVE')\n"
			      "time.sleep(12)\n"
			      "c.execute('ROLLBACK')\"\n"
			      "wait $pt; echo \"exit $?\"; cat out",
			  prog),
		     0, "%s", r.err);
	cr_expect(strncmp(r.out, "exit 0\n", 7) == 0, "%s", r.out);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE id = 2 AND outcome = 'ok'"), 1, "%s", r.out);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 2 AND kind = 'fork'"), forks);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE run_id = 2 AND reap_seq IS NULL"), 0);
}
