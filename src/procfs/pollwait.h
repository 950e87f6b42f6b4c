/* pollwait.h: the fds a thread blocked in poll, ppoll, select, pselect6 or an epoll wait is waiting on. */
#ifndef POOLTRACE_POLLWAIT_H
#define POOLTRACE_POLLWAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A wait on more fds than this is taken for one that may wake (not read):
 * select's FD_SETSIZE, and far more than a pool's parent polls. */
enum { POLLWAIT_MAX = 1024 };

/* True when nr is one of the calls that wait on several fds at once. */
bool pollwait_is_call(long nr);

/*
 * The fds thread tid of process pid waits on, in call nr with arguments
 * args (from /proc/PID/task/TID/syscall), into fds[0..POLLWAIT_MAX).
 * Returns their count, or -EIO when the thread may wake by itself or the list
 * cannot be known: a timeout, more than POLLWAIT_MAX fds, memory or an epoll
 * registration that cannot be read (process_vm_readv, /proc/PID/fdinfo).
 */
int pollwait_fds(pid_t pid, pid_t tid, long nr, const unsigned long args[6], int *fds);

#endif
