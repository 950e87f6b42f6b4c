/* test_hang.c: the /proc evidence reads the kernel right: blocked reads, write-end holders, link modes. */
#include "procfs/hang.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* fdinfo's flags line, the documented source of an fd's access mode. */
static int fdinfo_accmode(pid_t pid, int fd)
{
	char path[64], line[256];
	unsigned flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) == 1)
			break;
	fclose(f);
	return (int)(flags & O_ACCMODE);
}

Test(hang, the_fd_links_mode_bits_agree_with_fdinfo_flags)
{
	int p[2];
	char path[64];
	struct stat st;

	cr_assert_eq(pipe(p), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", p[i]);
		cr_assert_eq(lstat(path, &st), 0);
		cr_expect_eq((st.st_mode & S_IWUSR) != 0, fdinfo_accmode(getpid(), p[i]) == O_WRONLY);
		cr_expect_eq((st.st_mode & S_IRUSR) != 0, fdinfo_accmode(getpid(), p[i]) == O_RDONLY);
	}
	close(p[0]);
	close(p[1]);
}

static void collect(void *ctx, uint64_t inode, pid_t pid, int fd)
{
	int *found = ctx;

	(void)inode;
	if (pid == getpid())
		found[0] = fd;
	else
		found[1] = fd;
}

Test(hang, a_reader_blocked_on_a_pipe_is_seen_with_its_fd_and_the_writers, .timeout = 30)
{
	int p[2], found[2] = { -1, -1 };
	struct hang_proc *a = NULL, *b = NULL, self;
	ssize_t na = 0, nb;
	uint64_t ino;
	pid_t child;

	cr_assert_eq(pipe(p), 0);
	child = fork();
	if (child == 0) {
		char c;

		setpgid(0, 0);
		read(p[0], &c, 1); /* blocks: the parent never writes; it also holds p[1] */
		_exit(0);
	}
	setpgid(child, child);
	for (int i = 0; i < 200; i++) {
		hang_procs_free(a, na);
		na = hang_scan(child, &a);
		/* The kernel reports wchan "0" while it cannot unwind the task
		 * (seen here now and then for a sleeping reader): sample again. */
		if (na == 1 && a[0].wait == HANG_PIPE_READ && strstr(a[0].wchan, "pipe"))
			break;
		usleep(10000);
	}
	cr_assert_eq(na, 1);
	cr_expect_eq(a[0].pid, child);
	cr_expect_eq(a[0].state, 'S');
	cr_expect_eq(a[0].wait, HANG_PIPE_READ);
	cr_expect_eq(a[0].fd, p[0]);
	cr_expect(strstr(a[0].wchan, "pipe") != NULL, "wchan %s", a[0].wchan);
	cr_expect(hang_all_blocked(a, 1));
	usleep(20000);
	nb = hang_scan(child, &b);
	cr_expect(hang_same(a, (size_t)na, b, (size_t)nb));
	/* Both the child and we hold the write end. */
	ino = a[0].inode;
	memset(&self, 0, sizeof(self));
	self.pid = getpid();
	struct hang_proc both[2] = { a[0], self };
	for (int m = HANG_FDS_PIDFD; m <= HANG_FDS_PROC; m++) {
		found[0] = found[1] = -1;
		/* This kernel lets a parent pidfd_getfd its child's fds: no process goes through /proc. */
		cr_assert_eq(hang_holders((enum hang_fd_method)m, both, 2, &(struct hang_wants){ .write_of = &ino, .nwrite = 1 },
					  collect, found),
			     m == HANG_FDS_PROC ? 2u : 0u, "method %d", m);
		cr_expect_eq(found[0], p[1], "method %d", m);
		cr_expect_eq(found[1], p[1], "method %d", m);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	hang_procs_free(a, na);
	hang_procs_free(b, nb);
	close(p[0]);
	close(p[1]);
}

Test(hang, a_sleeping_process_is_not_blocked_on_a_pipe, .timeout = 30)
{
	struct hang_proc *a = NULL;
	ssize_t n = 0;
	pid_t child = fork();

	if (child == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	setpgid(child, child);
	usleep(50000);
	n = hang_scan(child, &a);
	cr_assert_eq(n, 1);
	cr_expect_eq(a[0].wait, HANG_RUNNING);
	cr_expect_not(hang_all_blocked(a, (size_t)n));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	hang_procs_free(a, n);
}

/* A child that polls fds[0..n) (timeout ms) forever, in a process group of its own; scanned once it sleeps. */
static struct hang_proc poll_child(const int *fds, int n, int timeout)
{
	struct pollfd p[4];
	struct hang_proc *a = NULL, out;
	ssize_t na = 0;
	pid_t child;

	cr_assert_leq(n, 4);
	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	child = fork();
	if (child == 0) {
		setpgid(0, 0);
		for (;;)
			poll(p, (nfds_t)n, timeout);
	}
	setpgid(child, child);
	for (int i = 0; i < 200; i++) {
		hang_procs_free(a, na);
		na = hang_scan(child, &a);
		if (na == 1 && a[0].state == 'S' && a[0].syscall_nr >= 0)
			break;
		usleep(10000);
	}
	cr_assert_eq(na, 1);
	out = a[0];
	a[0].polled = NULL; /* the caller's now: it frees out.polled */
	hang_procs_free(a, na);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return out;
}

/*
 * poll with no timeout on pipe ends only: stuck, waiting on each fd (a read
 * end for the write end's holders, a write end for the read end's). With a
 * timeout, or with an fd that is no pipe (an eventfd), it can wake by itself.
 */
Test(hang, a_process_in_poll_waits_on_each_of_its_pipe_fds, .timeout = 30)
{
	int in[2], out[2], ev = eventfd(0, 0), fds[3];
	struct stat st_in, st_out;
	struct hang_proc p;
	char fill[65536] = { 0 };

	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe2(out, O_NONBLOCK), 0);
	while (write(out[1], fill, sizeof(fill)) > 0)
		; /* full: its write end is not writable */
	cr_assert_geq(ev, 0);
	fstat(in[0], &st_in);
	fstat(out[1], &st_out);
	fds[0] = in[0], fds[1] = out[1], fds[2] = ev;

	p = poll_child(fds, 2, -1);
	cr_expect_eq(p.wait, HANG_POLL);
	cr_assert_eq(p.npolled, 2);
	cr_expect_eq(p.polled[0].fd, in[0]);
	cr_expect_eq(p.polled[0].wait, HANG_PIPE_READ);
	cr_expect_eq(p.polled[0].inode, st_in.st_ino);
	cr_expect_eq(p.polled[1].fd, out[1]);
	cr_expect_eq(p.polled[1].wait, HANG_PIPE_WRITE);
	cr_expect_eq(p.polled[1].inode, st_out.st_ino);
	cr_expect(hang_all_blocked(&p, 1));
	char text[128];
	hang_describe(&p, text, sizeof(text));
	cr_expect(strstr(text, "syscall=poll fds=") != NULL, "%s", text);

	free(p.polled);
	p = poll_child(fds, 2, 10000);
	cr_expect_eq(p.wait, HANG_RUNNING, "a timeout wakes it");
	cr_expect_null(p.polled);
	p = poll_child(fds, 3, -1);
	cr_expect_eq(p.wait, HANG_RUNNING, "an eventfd can be written from anywhere");
	cr_expect_null(p.polled);
	for (int i = 0; i < 2; i++) {
		close(in[i]);
		close(out[i]);
	}
	close(ev);
}
