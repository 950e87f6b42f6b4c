/*
 * passfd.c: a pipe's write end passed to a child over a socketpair
 * (SCM_RIGHTS), not by fork: the parent makes the pipe after forking. The
 * child writes into the fd it received and closes it; the parent reads to
 * EOF. `passfd keep`: the child keeps the fd and waits for a word from the
 * parent, who waits for EOF: a deadlock over the received fd. `passfd mmsg`:
 * the write ends of two pipes, one a message over a SOCK_SEQPACKET pair,
 * both taken by one recvmmsg; the child writes into each and closes both.
 */
#define _GNU_SOURCE /* recvmmsg */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int send_fd(int sock, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "f", 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char control[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1 || !(c = CMSG_FIRSTHDR(&mh)) || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Two messages of one fd each, in one call: fds[0], fds[1]. */
static int recv_fds_mmsg(int sock, int fds[2])
{
	char control[2][CMSG_SPACE(sizeof(int))], bytes[2];
	struct iovec iov[2] = { { &bytes[0], 1 }, { &bytes[1], 1 } };
	struct mmsghdr v[2];
	struct cmsghdr *c;

	memset(v, 0, sizeof(v));
	for (int i = 0; i < 2; i++) {
		v[i].msg_hdr.msg_iov = &iov[i];
		v[i].msg_hdr.msg_iovlen = 1;
		v[i].msg_hdr.msg_control = control[i];
		v[i].msg_hdr.msg_controllen = sizeof(control[i]);
	}
	if (recvmmsg(sock, v, 2, 0, NULL) != 2)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (!(c = CMSG_FIRSTHDR(&v[i].msg_hdr)) || c->cmsg_type != SCM_RIGHTS)
			return -1;
		memcpy(&fds[i], CMSG_DATA(c), sizeof(int));
	}
	return 0;
}

static int mmsg(void)
{
	int sv[2], p[2], q[2], w[2];
	char buf[16];
	ssize_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || (pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		close(sv[0]);
		if (recv_fds_mmsg(sv[1], w) < 0 || write(w[0], "one\n", 4) != 4 || write(w[1], "two\n", 4) != 4)
			_exit(1);
		close(w[0]);
		close(w[1]);
		_exit(0);
	}
	close(sv[1]);
	if (pipe(p) < 0 || pipe(q) < 0 || send_fd(sv[0], p[1]) < 0 || send_fd(sv[0], q[1]) < 0)
		return 1;
	close(p[1]);
	close(q[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	while ((n = read(q[0], buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	waitpid(pid, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	int sv[2], p[2], keep = argc > 1 && !strcmp(argv[1], "keep");
	char buf[16];
	ssize_t n;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "mmsg"))
		return mmsg();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || (pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		int w;

		close(sv[0]);
		if ((w = recv_fd(sv[1])) < 0 || write(w, "hi\n", 3) != 3)
			_exit(1);
		if (keep)
			n = read(sv[1], buf, 1); /* the parent never writes: it waits for EOF on w's pipe */
		close(w);
		_exit(0);
	}
	close(sv[1]);
	if (pipe(p) < 0 || send_fd(sv[0], p[1]) < 0)
		return 1;
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	waitpid(pid, NULL, 0);
	return 0;
}
