/* test_pin.c: a held copy keeps a pipe end open after every holder died, whichever way it was taken. */
#include "pool/pin.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* A child that holds what it inherited (minus close_fd) until killed. */
static pid_t holder(int close_fd)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (close_fd >= 0)
			close(close_fd);
		for (;;)
			pause();
	}
	return pid;
}

static void end_holder(pid_t pid)
{
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
}

static void check_a_held_write_end_keeps_eof_away(bool proc_only)
{
	struct pin pin = { .proc_only = proc_only };
	int p[2];
	char c;
	pid_t child;

	cr_assert_eq(pipe(p), 0);
	child = holder(p[0]);
	close(p[1]); /* now only the child holds the write end */
	cr_assert_eq(pin_fd(&pin, child, p[1]), 0);
	cr_expect_eq(pin.n, 1);
	cr_expect_eq(pin.via_proc, proc_only ? 1u : 0u, "taken the wrong way");
	cr_expect_eq(pin_fd(&pin, child, p[1]), 0, "an end already held is no error");
	cr_expect_eq(pin.n, 1, "one copy per pipe and end");
	end_holder(child);
	cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	cr_expect_eq(read(p[0], &c, 1), -1, "EOF although a copy of the write end is held");
	cr_expect_eq(errno, EAGAIN);
	pin_release(&pin);
	cr_expect_eq(pin.n, 0);
	cr_expect_eq(read(p[0], &c, 1), 0, "no EOF once the copy is closed");
	close(p[0]);
}

Test(pin, a_copy_taken_with_pidfd_getfd_keeps_eof_away)
{
	check_a_held_write_end_keeps_eof_away(false);
}

Test(pin, a_copy_opened_through_proc_keeps_eof_away)
{
	check_a_held_write_end_keeps_eof_away(true);
}

static void check_every_pipe_end_is_held_once(bool proc_only)
{
	struct pin pin = { .proc_only = proc_only };
	int a[2], b[2], ready[2], null = open("/dev/null", O_RDONLY);
	pid_t child;
	char c;

	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	cr_assert_eq(pipe(ready), 0);
	cr_assert_geq(null, 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		/* Only these five, at 100..104: the test runner's own pipes go. */
		dup2(a[0], 100), dup2(a[1], 101), dup2(b[0], 102), dup2(b[1], 103), dup2(null, 104);
		close_range(0, 99, 0);
		close_range(105, ~0U, 0);
		for (;;)
			pause();
	}
	/* EOF on `ready` once the child has closed its copy: its table is down to those five. */
	close(ready[1]);
	cr_assert_eq(read(ready[0], &c, 1), 0);
	close(ready[0]);
	cr_expect_eq(pin_pipes(&pin, child), 4, "two pipes, both ends");
	cr_expect_eq(pin_pipes(&pin, child), 4, "nothing twice");
	cr_expect_eq(pin_fd(&pin, child, 104), -EIO, "not a pipe");
	cr_expect_eq(pin_fd(&pin, child, 900), -EIO, "not open");
	end_holder(child);
	pin_release(&pin);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]), close(null);
}

Test(pin, every_pipe_end_of_a_process_is_held_once)
{
	check_every_pipe_end_is_held_once(false);
	check_every_pipe_end_is_held_once(true);
}
