/*
 * pollpair.c: a parent and a child that wait for each other, the parent in
 * poll, select or epoll_wait. The child reads tasks until EOF, then answers;
 * the parent waits for the answer before closing the task pipe, so neither
 * ever wakes. `pollpair timeout` waits with a timeout instead and closes the
 * task pipe after three of them: slow, but no deadlock.
 * Usage: pollpair poll|ppoll|select|pselect|epoll|timeout
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

/* Waits until fd is readable, as mode says. Returns 1 when it is, 0 on a timeout. */
static int wait_readable(const char *mode, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	fd_set set;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	if (!strcmp(mode, "poll"))
		return poll(&p, 1, -1) > 0;
	if (!strcmp(mode, "ppoll"))
		return ppoll(&p, 1, NULL, NULL) > 0;
	if (!strcmp(mode, "select"))
		return select(fd + 1, &set, NULL, NULL, NULL) > 0;
	if (!strcmp(mode, "pselect"))
		return pselect(fd + 1, &set, NULL, NULL, NULL, NULL) > 0;
	if (!strcmp(mode, "epoll")) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		int ep = epoll_create1(EPOLL_CLOEXEC), n;

		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -1;
		n = epoll_wait(ep, &ev, 1, -1);
		close(ep);
		return n > 0;
	}
	return poll(&p, 1, 300) > 0; /* timeout */
}

int main(int argc, char **argv)
{
	int tasks[2], answers[2], status;
	const char *mode = argc > 1 ? argv[1] : "poll";
	char buf[64];
	ssize_t n;
	long sum = 0;
	pid_t pid;

	if (pipe(tasks) < 0 || pipe(answers) < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(tasks[1]);
		close(answers[0]);
		while ((n = read(tasks[0], buf, sizeof(buf))) > 0)
			sum += n;
		dprintf(answers[1], "%ld\n", sum);
		_exit(0);
	}
	close(tasks[0]);
	close(answers[1]);
	if (write(tasks[1], "task", 4) != 4)
		return 1;
	/* The bug: the answer comes only after the child's EOF, which needs tasks[1] closed first. */
	for (int timeouts = 0; !wait_readable(mode, answers[0]);)
		if (++timeouts == 3)
			close(tasks[1]);
	n = read(answers[0], buf, sizeof(buf) - 1);
	waitpid(pid, &status, 0);
	printf("%.*s", (int)(n > 0 ? n : 0), buf);
	return 0;
}
