/* pin.h: copies of pool pipe fds held by pooltrace while it kills the pool, so no pipe changes state meanwhile. */
#ifndef POOLTRACE_PIN_H
#define POOLTRACE_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The pool is killed in steps (its parent first, then the rest). A pipe end
 * copied here keeps that end open while its holders die, so a process still
 * alive never sees EOF (or EPIPE) caused by the kill and never runs again.
 */
struct pin {
	bool proc_only;          /* skip pidfd_getfd, open through /proc (as where it is refused) */
	size_t via_proc;         /* copies opened through /proc */
	struct pin_copy {
		int fd;        /* our copy */
		ino_t inode;   /* the pipe */
		bool write;    /* which end */
	} *v;
	size_t n, cap;
};

/*
 * Copies pid's fd if it is a pipe end not copied yet: pidfd_getfd(2), or
 * where the kernel refuses that, a fresh open of /proc/PID/fd/N for the same
 * end. Returns 0 (also when that end was already held), or -EIO if pid or the
 * fd is gone, is not a pipe, or the kernel allows neither.
 */
int pin_fd(struct pin *p, pid_t pid, int fd);

/* Copies every pipe end pid holds (one copy per pipe and end). Returns how many are held now in all. */
size_t pin_pipes(struct pin *p, pid_t pid);

/* Closes every copy (proc_only is kept): only once the processes that held the pipes are dead. */
void pin_release(struct pin *p);

#endif
