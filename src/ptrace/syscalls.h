/* syscalls.h: the calls `record` stops at, one row each, and the seccomp program made from those rows. */
#ifndef POOLTRACE_SYSCALLS_H
#define POOLTRACE_SYSCALLS_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum syscall_flag {
	SYSCALL_FD = 1 << 0,      /* changes an fd table or reaps: always stopped at */
	SYSCALL_IO = 1 << 1,      /* reads or writes: stopped at only with --io */
	SYSCALL_DUPFD = 1 << 2,   /* fcntl: stopped at only when it makes an fd (F_DUPFD, F_DUPFD_CLOEXEC) */
	SYSCALL_BLIND = 1 << 3,   /* stopped at only to say the trace misses what it does (row.incomplete) */
	SYSCALL_UNTRACED = 1 << 4, /* clone, clone3: stopped at to keep a CLONE_UNTRACED child traced */
	SYSCALL_IF_UNTRACED = 1 << 5, /* clone: stopped at only when args[0] has CLONE_UNTRACED */
	SYSCALL_TIMER = 1 << 6,   /* arms a timer whose caught signal may wake a blocked program: the deadlock check asks */
	SYSCALL_RIGHTS = 1 << 7,  /* fds may arrive in it (SCM_RIGHTS): its exit is stopped at when it has room for them */
	SYSCALL_IO_EITHER = 1 << 8, /* SYSCALL_IO whose one fd (io_in) is written to when it is a pipe's write end (vmsplice) */
};

/*
 * How the tracer decodes a call at its entry and exit (tracer.c's
 * tracer_decoders, indexed by these): one per kind of call, as strace's
 * syscallent names a decoder per row. SYSCALL_DEC_NONE: nothing to decode
 * beyond the flags (a blind call, a clone kept traced, a read or write of --io).
 */
enum syscall_decoder {
	SYSCALL_DEC_NONE = 0,
	SYSCALL_DEC_PIPE,
	SYSCALL_DEC_SOCKETPAIR,
	SYSCALL_DEC_CLOSE,
	SYSCALL_DEC_CLOSE_RANGE,
	SYSCALL_DEC_DUP,        /* dup, fcntl F_DUPFD*: a new fd */
	SYSCALL_DEC_DUP2,       /* dup2, dup3: onto a given fd, which it may replace */
	SYSCALL_DEC_SHUTDOWN,
	SYSCALL_DEC_WAIT4,
	SYSCALL_DEC_WAITID,
	SYSCALL_DEC_EXEC,
	SYSCALL_DEC_RECVMMSG,
	SYSCALL_DEC_ALARM,
	SYSCALL_DEC_SETITIMER,
	SYSCALL_DEC_TIMER_SETTIME,
	SYSCALL_DEC_COUNT
};

struct syscall_row {
	uint32_t arch;          /* AUDIT_ARCH_X86_64 or AUDIT_ARCH_I386 */
	int nr;                 /* its number in that ABI */
	const char *name;
	unsigned flags;         /* enum syscall_flag */
	const char *incomplete; /* SYSCALL_BLIND: why the run is incomplete once it is called */
	enum syscall_decoder decoder;
	/* SYSCALL_IO: the argument that is the fd it reads from, and the one it writes to; -1: none. */
	int8_t io_in, io_out;
};

/*
 * What the filter also stops at without a row: every x32 call (an x86-64
 * call number with __X32_SYSCALL_BIT set, below SYSCALL_X32_END), which is
 * blind too. Numbers past that are no call at all (syscall(-1)): ENOSYS.
 */
#define SYSCALL_X32_BIT 0x40000000u
#define SYSCALL_X32_END (SYSCALL_X32_BIT + 1024u)
#define SYSCALL_X32_INCOMPLETE "x32 calls, whose fds are not followed"

extern const struct syscall_row syscall_table[];
extern const size_t syscall_table_len;

/* The row of call nr in arch, or NULL when it is not stopped at. Constant time (an index by number). */
const struct syscall_row *syscall_find(uint32_t arch, long nr);

/* Whether nr (x86-64) is a read or write that --io follows. */
bool syscall_is_io(long nr);

/*
 * Whether the filter would stop at this call (SECCOMP_RET_TRACE): the same
 * decision, made in C, for a program pooltrace attached to, which runs
 * without the filter (one cannot be added to a running process) and so
 * stops at every call. args are the call's six arguments.
 */
bool syscall_stops(uint32_t arch, long nr, const uint64_t args[6], bool io);

/* The largest program syscall_filter writes. */
/* i386's clone (its clone3 has x86-64's number, 435). */
#define SYSCALL_I386_CLONE 120

#define SYSCALL_FILTER_MAX 256

/*
 * Writes the seccomp program into code (SYSCALL_FILTER_MAX instructions):
 * SECCOMP_RET_TRACE for each row (its SYSCALL_IO rows only when io), for
 * fcntl only when it makes an fd, for clone only with CLONE_UNTRACED, and
 * for every x32 call; SECCOMP_RET_ALLOW for everything else. Returns the number of instructions.
 */
size_t syscall_filter(bool io, struct sock_filter *code);

#endif
