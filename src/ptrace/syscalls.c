/* syscalls.c: the calls `record` stops at, one row each, and the seccomp program made from those rows.
 *
 * One table, two uses, as strace's syscallent tables: the seccomp program
 * is generated from it (so the calls stopped at and the calls decoded cannot
 * drift apart), and --io asks it which calls are reads and writes.
 *
 * Invariants:
 *   1. A call that can change an fd table or reap is stopped at in every ABI
 *      the kernel lets a program use: an x86-64 one is followed; an i386 one
 *      (int $0x80, or a 32-bit program) and any x32 call are stopped at only
 *      to mark the run incomplete. None runs unseen.
 *   2. Every other call runs with no stop at all (SECCOMP_RET_ALLOW).
 */
#include "ptrace/syscalls.h"

#include "base/util.h"

#include <assert.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#define X86_64(nr, flags, dec) { AUDIT_ARCH_X86_64, SYS_##nr, #nr, flags, NULL, SYSCALL_DEC_##dec, -1, -1 }
/* A read or write of --io: the fd arguments it reads from and writes to. */
#define X86_64_IO(nr, flags, in, out) { AUDIT_ARCH_X86_64, SYS_##nr, #nr, flags, NULL, SYSCALL_DEC_NONE, in, out }
#define I386_BLIND(nr, name) { AUDIT_ARCH_I386, nr, name, SYSCALL_BLIND, "i386 (32-bit) calls, whose fds are not followed", SYSCALL_DEC_NONE, -1, -1 }
#define BLIND(nr, name, why) { AUDIT_ARCH_X86_64, nr, name, SYSCALL_BLIND, why, SYSCALL_DEC_NONE, -1, -1 }
#define URING "an io_uring ring, whose operations on pipes are not followed"

const struct syscall_row syscall_table[] = {
	X86_64(pipe, SYSCALL_FD, PIPE),
	X86_64(pipe2, SYSCALL_FD, PIPE),
	X86_64(socketpair, SYSCALL_FD, SOCKETPAIR),
	X86_64(close, SYSCALL_FD, CLOSE),
	X86_64(close_range, SYSCALL_FD, CLOSE_RANGE),
	X86_64(dup, SYSCALL_FD, DUP),
	X86_64(dup2, SYSCALL_FD, DUP2),
	X86_64(dup3, SYSCALL_FD, DUP2),
	X86_64(fcntl, SYSCALL_FD | SYSCALL_DUPFD, DUP),
	/* A socketpair end's reader may see EOF. */
	X86_64(shutdown, SYSCALL_FD, SHUTDOWN),
	X86_64(wait4, SYSCALL_FD, WAIT4),
	X86_64(waitid, SYSCALL_FD, WAITID),
	X86_64(execve, SYSCALL_FD, EXEC),
	X86_64(execveat, SYSCALL_FD, EXEC),
	/* A copy of another process's fd, made with no call pooltrace follows: a pipe's is found later (tracer_reread). */
	BLIND(SYS_pidfd_getfd, "pidfd_getfd", "pidfd_getfd copies of other processes' fds, held only from when pooltrace next reads the table"),
	/* fds may arrive in them (SCM_RIGHTS); their exit is stopped at only when they have room for them. */
	X86_64_IO(recvmsg, SYSCALL_FD | SYSCALL_IO | SYSCALL_RIGHTS, 0, -1),
	X86_64(recvmmsg, SYSCALL_FD | SYSCALL_RIGHTS, RECVMMSG),
	X86_64_IO(read, SYSCALL_IO, 0, -1),
	X86_64_IO(write, SYSCALL_IO, -1, 0),
	X86_64_IO(readv, SYSCALL_IO, 0, -1),
	X86_64_IO(writev, SYSCALL_IO, -1, 0),
	/* With offset -1 they read and write a pipe like readv and writev. */
	X86_64_IO(preadv2, SYSCALL_IO, 0, -1),
	X86_64_IO(pwritev2, SYSCALL_IO, -1, 0),
	/* splice(fd_in, off_in, fd_out, ...), tee(fd_in, fd_out, ...), sendfile(out_fd, in_fd, ...). */
	X86_64_IO(splice, SYSCALL_IO, 0, 2),
	/* tee copies without consuming: only its write is an event. */
	X86_64_IO(tee, SYSCALL_IO, -1, 1),
	X86_64_IO(sendfile, SYSCALL_IO, 1, 0),
	/* Its fd is a pipe's read end (a read) or write end (a write): the tracer looks. */
	X86_64_IO(vmsplice, SYSCALL_IO | SYSCALL_IO_EITHER, 0, -1),
	X86_64_IO(recvfrom, SYSCALL_IO, 0, -1),
	X86_64_IO(sendto, SYSCALL_IO, -1, 0),
	X86_64_IO(sendmsg, SYSCALL_IO, -1, 0),
	/* Their child must stay traced: it inherits the filter, which needs a tracer. */
	X86_64(clone, SYSCALL_UNTRACED | SYSCALL_IF_UNTRACED, NONE),
	X86_64(clone3, SYSCALL_UNTRACED, NONE),
	/* A handler their signal runs may write the pipe every thread waits on: not a deadlock yet. */
	X86_64(alarm, SYSCALL_TIMER, ALARM),
	X86_64(setitimer, SYSCALL_TIMER, SETITIMER),
	X86_64(timer_settime, SYSCALL_TIMER, TIMER_SETTIME),
	/* A ring closes, reads and writes pipes with no call of its own. */
	BLIND(SYS_io_uring_setup, "io_uring_setup", URING),
	/* i386 numbers, from the kernel's arch/x86/entry/syscalls/syscall_32.tbl. */
	I386_BLIND(6, "close"),
	I386_BLIND(7, "waitpid"),
	I386_BLIND(11, "execve"),
	I386_BLIND(41, "dup"),
	I386_BLIND(42, "pipe"),
	I386_BLIND(55, "fcntl"),
	I386_BLIND(63, "dup2"),
	I386_BLIND(102, "socketcall"),
	I386_BLIND(114, "wait4"),
	I386_BLIND(221, "fcntl64"),
	I386_BLIND(284, "waitid"),
	I386_BLIND(330, "dup3"),
	I386_BLIND(331, "pipe2"),
	I386_BLIND(337, "recvmmsg"),
	I386_BLIND(358, "execveat"),
	I386_BLIND(360, "socketpair"),
	I386_BLIND(372, "recvmsg"),
	I386_BLIND(373, "shutdown"),
	/* Their child must stay traced too (the flags are ebx, or clone_args' first word). */
	{ AUDIT_ARCH_I386, SYSCALL_I386_CLONE, "clone", SYSCALL_UNTRACED | SYSCALL_IF_UNTRACED, NULL, SYSCALL_DEC_NONE, -1, -1 },
	{ AUDIT_ARCH_I386, 435, "clone3", SYSCALL_UNTRACED, NULL, SYSCALL_DEC_NONE, -1, -1 },
	{ AUDIT_ARCH_I386, 425, "io_uring_setup", SYSCALL_BLIND, URING, SYSCALL_DEC_NONE, -1, -1 },
	I386_BLIND(436, "close_range"),
};
const size_t syscall_table_len = sizeof(syscall_table) / sizeof(syscall_table[0]);

/*
 * syscall_find's index: each ABI's rows by number, made at the first
 * lookup. An attached program stops at every call, and each stop asks up
 * to three times: a scan of the table each time was most of a stop's cost.
 * No row's number is past SYSCALL_NR_INDEX (asserted as it is made).
 */
#define SYSCALL_NR_INDEX 512
static const struct syscall_row *syscall_index[2][SYSCALL_NR_INDEX];
static bool syscall_indexed; /* made at the first lookup; the tracer, its only user, is one thread */

static void syscall_build_index(void)
{
	for (size_t i = 0; i < syscall_table_len; i++) {
		const struct syscall_row *row = &syscall_table[i];

		/* Checked in every build (an assert goes with NDEBUG): a row past the index would write outside it. */
		if (row->nr < 0 || row->nr >= SYSCALL_NR_INDEX)
			die("syscalls.c: %s (%d) is past the index of %d numbers", row->name, row->nr, SYSCALL_NR_INDEX);
		assert(!syscall_index[row->arch == AUDIT_ARCH_I386][row->nr]); /* one row per call */
		/* A read or write has an fd to look at; every other row none. */
		assert(!(row->flags & SYSCALL_IO) == (row->io_in < 0 && row->io_out < 0));
		syscall_index[row->arch == AUDIT_ARCH_I386][row->nr] = row;
	}
	syscall_indexed = true;
}

const struct syscall_row *syscall_find(uint32_t arch, long nr)
{
	if (!syscall_indexed)
		syscall_build_index();
	if (arch != AUDIT_ARCH_X86_64 && arch != AUDIT_ARCH_I386)
		return NULL;
	return nr >= 0 && nr < SYSCALL_NR_INDEX ? syscall_index[arch == AUDIT_ARCH_I386][nr] : NULL;
}

bool syscall_is_io(long nr)
{
	const struct syscall_row *row = syscall_find(AUDIT_ARCH_X86_64, nr);

	return row && (row->flags & SYSCALL_IO);
}

static bool syscall_stopped(const struct syscall_row *row, bool io)
{
	return (row->flags & (SYSCALL_FD | SYSCALL_BLIND | SYSCALL_UNTRACED | SYSCALL_TIMER)) || (io && (row->flags & SYSCALL_IO));
}

bool syscall_stops(uint32_t arch, long nr, const uint64_t args[6], bool io)
{
	const struct syscall_row *row;
	/* The filter compares 32-bit words: the low one of nr and of each argument. */
	uint32_t nr32 = (uint32_t)nr, arg0 = (uint32_t)args[0], arg1 = (uint32_t)args[1];

	if (arch == AUDIT_ARCH_X86_64 && nr32 >= SYSCALL_X32_BIT)
		return nr32 < SYSCALL_X32_END;
	if (!(row = syscall_find(arch, (long)nr32)) || !syscall_stopped(row, io))
		return false;
	if (row->flags & SYSCALL_IF_UNTRACED)
		return (arg0 & CLONE_UNTRACED) != 0;
	if (row->flags & SYSCALL_DUPFD)
		return arg1 == F_DUPFD || arg1 == F_DUPFD_CLOEXEC;
	return true;
}

/* code[n++] = ins, within the program's bound. */
#define EMIT(ins)                                  \
	do {                                       \
		assert(n < SYSCALL_FILTER_MAX);    \
		code[n++] = (struct sock_filter)ins; \
	} while (0)

/* The checks of one ABI's rows: nr is loaded; each match returns TRACE. */
static size_t syscall_filter_arch(uint32_t arch, bool io, struct sock_filter *code, size_t n)
{
	for (size_t i = 0; i < syscall_table_len; i++) {
		const struct syscall_row *row = &syscall_table[i];

		if (row->arch != arch || !syscall_stopped(row, io) || (row->flags & (SYSCALL_DUPFD | SYSCALL_IF_UNTRACED)))
			continue;
		EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)row->nr, 0, 1));
		EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
	}
	return n;
}

size_t syscall_filter(bool io, struct sock_filter *code)
{
	size_t n = 0, jump;

	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	jump = n;
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 0)); /* jf: to the i386 part, set below */
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SYSCALL_X32_BIT, 0, 2));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SYSCALL_X32_END, 1, 0));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE)); /* an x32 call */
	n = syscall_filter_arch(AUDIT_ARCH_X86_64, io, code, n);
	/* clone only with CLONE_UNTRACED (in the low word of its flags); else on to fcntl. */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_UNTRACED, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	/* fcntl only when it makes an fd. */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, 0, 4));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD, 1, 0));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD_CLOEXEC, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	/* A jump offset is 8 bits: the x86-64 part must stay shorter than that. */
	assert(n - jump - 1 <= 255);
	code[jump].jf = (uint8_t)(n - jump - 1);
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	n = syscall_filter_arch(AUDIT_ARCH_I386, io, code, n);
	/* i386 clone, as x86-64's: only with CLONE_UNTRACED (ebx). */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYSCALL_I386_CLONE, 0, 3));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_UNTRACED, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	return n;
}
