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
};

struct syscall_row {
	uint32_t arch;          /* AUDIT_ARCH_X86_64 or AUDIT_ARCH_I386 */
	int nr;                 /* its number in that ABI */
	const char *name;
	unsigned flags;         /* enum syscall_flag */
	const char *incomplete; /* SYSCALL_BLIND: why the run is incomplete once it is called */
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

/* The row of call nr in arch, or NULL when it is not stopped at. */
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
