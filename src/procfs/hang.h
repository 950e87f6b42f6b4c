/* hang.h: deadlock evidence from the kernel's own view: /proc/PID/{stat,wchan,syscall}, and the fd tables. */
#ifndef POOLTRACE_HANG_H
#define POOLTRACE_HANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs/pollwait.h"

/*
 * HANG_SOCK_*: blocked reading (writing) a socket. hang.c cannot tell a
 * socketpair of the program's from a socket to the outside world; the
 * caller, which can, turns the latter into HANG_RUNNING (not stuck for good).
 */
enum hang_wait { HANG_RUNNING = 0, HANG_PIPE_READ, HANG_PIPE_WRITE, HANG_CHILD_WAIT, HANG_ZOMBIE, HANG_SOCK_READ,
		 HANG_SOCK_WRITE, HANG_POLL, HANG_JOIN };

/*
 * HANG_JOIN: blocked in futex_wait, with no timeout, on the word the kernel
 * clears when another live thread of the same process exits
 * (CLONE_CHILD_CLEARTID), holding that thread's tid: pthread_join (and
 * std::thread::join) waits for a thread this way, and only that thread's
 * exit wakes it. Any other futex wait (a lock, a condition variable) counts
 * as HANG_RUNNING: its waker is not known.
 */

/*
 * HANG_POLL: blocked in poll, select or an epoll wait with no timeout, on
 * fds each of which is a pipe end (HANG_PIPE_READ for a read end: its write
 * end's holders wake it; HANG_PIPE_WRITE for a write end) or a socket
 * (HANG_SOCK_READ). Waiting on anything else, it is HANG_RUNNING.
 */
struct hang_fdwait {
	int fd;
	enum hang_wait wait;
	uint64_t inode;
};

/*
 * One thread as /proc showed it: a process's only thread, or one of a
 * threaded program's (a process is stuck only when all its threads are).
 */
struct hang_proc {
	pid_t pid;           /* its process (thread group) */
	pid_t tid;           /* the thread: pid for a single-threaded process */
	char state;          /* /proc/PID/stat field 3 */
	char wchan[40];      /* /proc/PID/wchan */
	long syscall_nr;     /* /proc/PID/syscall; -1: not in a system call */
	long syscall_arg0;
	enum hang_wait wait; /* what it is blocked on, if anything */
	int fd;              /* HANG_PIPE_*, HANG_SOCK_*: the fd argument */
	uint64_t inode;      /* HANG_PIPE_*, HANG_SOCK_*: that fd's pipe (socket) inode */
	long queued;         /* HANG_PIPE_*: bytes in the pipe (FIONREAD); -1: unknown */
	long capacity;       /* HANG_PIPE_*: its capacity (F_GETPIPE_SZ); -1: unknown */
	struct hang_fdwait *polled; /* HANG_POLL: the fds it waits on (hang_procs_free frees them) */
	int npolled;
	pid_t joins;         /* HANG_JOIN: the thread it waits for */
	uint64_t clear_tid;  /* from hang_task: the word cleared when this thread exits; 0: unknown */
	uint64_t futex_addr; /* in futex_wait with no timeout: the word, and the value it waits to change */
	uint32_t futex_val;
	long switches;       /* voluntary + involuntary context switches */
	int fd_table_size;   /* FDSize in /proc/PID/status: every fd is below it */
};

/* How hang_holders reads a process's fds. */
enum hang_fd_method {
	HANG_FDS_PIDFD, /* pidfd_getfd each fd, then fstat and F_GETFL; /proc where refused */
	HANG_FDS_PROC,  /* stat each /proc/PID/fd/N link, and its mode bits for the end */
};

/*
 * Lists every live process in process group pgid (the pool) with its state.
 * One blocked on a socket counts as running: the pool has none of its own.
 * The pool's processes have one thread each: only the main one is looked at.
 * *out is allocated (hang_procs_free); returns the count, or -EIO if /proc is unreadable.
 */
ssize_t hang_scan(pid_t pgid, struct hang_proc **out);

/* A thread of a traced program. */
struct hang_task {
	pid_t pid, tid;
	uint64_t clear_tid; /* its CLONE_CHILD_CLEARTID word (0: unknown): finds its joiner */
};

/* The same for the threads tasks[0..ntasks) (those still there), for a traced program. */
ssize_t hang_scan_tasks(const struct hang_task *tasks, size_t ntasks, struct hang_proc **out);

/* Frees what hang_scan or hang_scan_tasks made: procs[0..n) and what they point to. */
void hang_procs_free(struct hang_proc *procs, ssize_t n);

/*
 * Marks HANG_RUNNING every thread blocked on a pipe or socket for which
 * inside (given its inode, and whether it is a socket) says false: a pipe the
 * program did not make (its stdin from a shell's pipeline, a FIFO) or a
 * socket to anything but the program's own socketpairs may be written or
 * read by a process outside the program, which may yet wake it. inside NULL:
 * every pipe is the program's and every socket leads outside (the pool).
 */
void hang_outside(struct hang_proc *p, size_t n, bool (*inside)(void *ctx, uint64_t inode, bool socket), void *ctx);

/*
 * Marks HANG_RUNNING every thread blocked on a pipe whose waking end (the
 * write end for a reader, the read end for a writer; any end for an fd in a
 * poll) is also held by a process outside the program: one that reopened it
 * through /proc/PID/fd/N, or was handed it, may yet write or read. Walks
 * every process in /proc whose fds may be read; program(ctx, pid) says which
 * are the program's. Returns how many processes could not be read (their
 * fds are unknown), so the caller can say a deadlock was found without them.
 */
size_t hang_outside_holders(struct hang_proc *p, size_t n, bool (*program)(void *ctx, pid_t pid), void *ctx);

/* True when p is blocked reading or writing a pipe or a socket. */
bool hang_on_io(const struct hang_proc *p);

/* True when every process is blocked on a pipe, in wait4/waitid, or a zombie. */
bool hang_all_blocked(const struct hang_proc *p, size_t n);

/*
 * True when the two scans show the same processes, none of which ran in
 * between (context-switch counts unchanged): a consistent snapshot.
 */
bool hang_same(const struct hang_proc *a, size_t na, const struct hang_proc *b, size_t nb);

/* The name of system call nr (x86-64) among those a blocked thread is found in; "?" for the others. */
const char *hang_call_name(long nr);

/* "state=S wchan=anon_pipe_read syscall=read fd=0 queued=0" for the hang event's detail. */
void hang_describe(const struct hang_proc *p, char *buf, size_t len);

/*
 * The blocked processes already reported, so that each (process, pipe, end)
 * gets one `blocked` event however long it stays blocked.
 */
struct hang_seen {
	struct hang_seen_key { pid_t pid; uint64_t inode; int wait; } *v;
	size_t n, cap;
};
/* True, and p remembered, if p is blocked on a pipe (or in poll on pipes) and was not reported yet. */
bool hang_seen_first(struct hang_seen *s, const struct hang_proc *p);
void hang_seen_release(struct hang_seen *s);

struct evlog_record;
/*
 * Fills a hang or blocked event (kind and pid already set) with p's evidence:
 * the text; for a pipe its fd, inode and the end it waits on, and in result
 * and arg the bytes queued and the capacity; for a wait, the awaited pid.
 */
void hang_evidence(const struct hang_proc *p, struct evlog_record *r);

/* The evidence's text alone, into buf: "tid=N " for a thread other than the leader, then hang_describe's. */
void hang_evidence_text(const struct hang_proc *p, char *buf, size_t len);

/*
 * The thread through which process pid's fd table is read
 * (/proc/PID/task/TID/fd): pid itself, unless its main thread has exited
 * (pthread_exit) while others run on; then one of those. pid when none is.
 */
pid_t hang_fd_thread(pid_t pid);

/* The fds hang_holders looks for, by inode; each set sorted. */
struct hang_wants {
	const uint64_t *write_of; /* pipes a process waits to read: their write ends can wake it */
	size_t nwrite;
	const uint64_t *read_of;  /* pipes a process waits to write to: their read ends */
	size_t nread;
	const uint64_t *sock_of;  /* sockets whose peer a process waits on: any fd of them */
	size_t nsock;
};

/*
 * Who can wake the processes blocked on pipes and socketpairs: for each fd
 * among procs that wants names, calls fn(ctx, inode, pid, fd), reading the
 * fds as method says. Each of procs is one process (pid), read through its
 * thread tid (0: its main one), which must be live: a main thread that
 * called pthread_exit shows no fds, its process's other threads do
 * (hang_fd_thread).
 * procs[i].fd_table_size may be 0: it is then read from /proc. Returns how many processes were read through /proc (all of them for
 * HANG_FDS_PROC; for HANG_FDS_PIDFD, those the kernel refused pidfd_getfd).
 */
size_t hang_holders(enum hang_fd_method method, const struct hang_proc *procs, size_t n,
		    const struct hang_wants *wants, void (*fn)(void *ctx, uint64_t inode, pid_t pid, int fd), void *ctx);

#endif
