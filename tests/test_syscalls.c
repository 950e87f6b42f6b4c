/* test_syscalls.c: the seccomp program made from the call table stops at exactly the table's calls. */
#include "ptrace/syscalls.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

/*
 * Runs a classic BPF program on one seccomp_data, as the kernel would, for
 * the instructions syscall_filter uses (32-bit loads, jumps, returns).
 */
static uint32_t run_filter(const struct sock_filter *code, size_t n, const struct seccomp_data *d)
{
	uint32_t a = 0;

	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &code[pc];

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			cr_assert(f->k + 4 <= sizeof(*d) && f->k % 4 == 0, "load at %u", f->k);
			memcpy(&a, (const char *)d + f->k, 4);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & f->k) ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= f->k ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			cr_assert_fail("instruction %#x at %zu is not one the test knows", f->code, pc);
		}
	}
	cr_assert_fail("the program ran off its end");
	return 0;
}

static uint32_t verdict2(bool io, uint32_t arch, int nr, uint64_t arg0, uint64_t arg1)
{
	struct sock_filter code[SYSCALL_FILTER_MAX];
	struct seccomp_data d;
	size_t n = syscall_filter(io, code);

	memset(&d, 0, sizeof(d));
	d.arch = arch;
	d.nr = nr;
	d.args[0] = arg0;
	d.args[1] = arg1;
	return run_filter(code, n, &d);
}

static uint32_t verdict(bool io, uint32_t arch, int nr, uint64_t arg1)
{
	return verdict2(io, arch, nr, 0, arg1);
}

Test(syscalls, every_row_is_stopped_at_and_io_rows_only_with_io)
{
	for (size_t i = 0; i < syscall_table_len; i++) {
		const struct syscall_row *row = &syscall_table[i];
		uint64_t arg = (row->flags & SYSCALL_DUPFD) ? F_DUPFD_CLOEXEC : 0;
		uint64_t arg0 = (row->flags & SYSCALL_IF_UNTRACED) ? CLONE_UNTRACED | SIGCHLD : 0;
		bool always = row->flags & (SYSCALL_FD | SYSCALL_BLIND | SYSCALL_UNTRACED | SYSCALL_TIMER);

		cr_expect_eq(verdict2(true, row->arch, row->nr, arg0, arg), SECCOMP_RET_TRACE, "%s (%d) with --io",
			     row->name, row->nr);
		cr_expect_eq(verdict2(false, row->arch, row->nr, arg0, arg), always ? SECCOMP_RET_TRACE : SECCOMP_RET_ALLOW,
			     "%s (%d) without --io", row->name, row->nr);
		cr_expect(!(row->flags & SYSCALL_BLIND) || row->incomplete, "%s says why the run is incomplete", row->name);
	}
}

Test(syscalls, everything_else_runs_unstopped)
{
	/* fcntl only when it makes an fd. */
	cr_expect_eq(verdict(true, AUDIT_ARCH_X86_64, SYS_fcntl, F_GETFL), SECCOMP_RET_ALLOW);
	cr_expect_eq(verdict(false, AUDIT_ARCH_X86_64, SYS_fcntl, F_DUPFD), SECCOMP_RET_TRACE);
	cr_expect_eq(verdict(true, AUDIT_ARCH_X86_64, SYS_getpid, 0), SECCOMP_RET_ALLOW);
	/* clone only with CLONE_UNTRACED: a fork or a thread runs unstopped (its events come from ptrace). */
	cr_expect_eq(verdict2(true, AUDIT_ARCH_X86_64, SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_FILES, 0),
		     SECCOMP_RET_ALLOW);
	cr_expect_eq(verdict2(false, AUDIT_ARCH_X86_64, SYS_clone, CLONE_UNTRACED | SIGCHLD, 0), SECCOMP_RET_TRACE);
	cr_expect_eq(verdict(true, AUDIT_ARCH_X86_64, SYS_openat, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(verdict(true, AUDIT_ARCH_I386, 20 /* getpid */, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(verdict(true, AUDIT_ARCH_AARCH64, SYS_close, 0), SECCOMP_RET_ALLOW);
	cr_expect(syscall_is_io(SYS_preadv2) && syscall_is_io(SYS_read) && !syscall_is_io(SYS_close));
}

/* Invariant 1 of syscalls.c: no ABI lets an fd change run unseen. */
Test(syscalls, i386_and_x32_calls_that_change_fds_are_stopped_at)
{
	cr_expect_eq(verdict(false, AUDIT_ARCH_I386, 6 /* close */, 0), SECCOMP_RET_TRACE);
	cr_expect_eq(verdict(false, AUDIT_ARCH_I386, 42 /* pipe */, 0), SECCOMP_RET_TRACE);
	cr_expect_eq(verdict(false, AUDIT_ARCH_X86_64, (int)(SYSCALL_X32_BIT | SYS_close), 0), SECCOMP_RET_TRACE);
	cr_expect_eq(verdict(false, AUDIT_ARCH_X86_64, (int)(SYSCALL_X32_BIT | SYS_getpid), 0), SECCOMP_RET_TRACE);
	/* No call at all: it fails with ENOSYS, and marks nothing. */
	cr_expect_eq(verdict(false, AUDIT_ARCH_X86_64, -1, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(verdict(false, AUDIT_ARCH_X86_64, (int)SYSCALL_X32_END, 0), SECCOMP_RET_ALLOW);
	for (int nr = 0; nr < 460; nr++) {
		const struct syscall_row *row = syscall_find(AUDIT_ARCH_I386, nr);

		/* clone with no CLONE_UNTRACED runs on, as x86-64's. */
		cr_expect_eq(verdict(false, AUDIT_ARCH_I386, nr, 0),
			     row && nr != SYSCALL_I386_CLONE ? SECCOMP_RET_TRACE : SECCOMP_RET_ALLOW, "i386 %d", nr);
	}
	cr_expect_eq(verdict2(false, AUDIT_ARCH_I386, SYSCALL_I386_CLONE, CLONE_UNTRACED | SIGCHLD, 0), SECCOMP_RET_TRACE);
	cr_expect_eq(verdict2(false, AUDIT_ARCH_I386, SYSCALL_I386_CLONE, SIGCHLD, 0), SECCOMP_RET_ALLOW);
}

/* record -p has no filter: syscall_stops decides in C, and must decide as the filter does, call for call. */
Test(syscalls, the_attached_tracers_decision_is_the_filters)
{
	const uint32_t arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64 };
	const uint64_t arg0s[] = { 0, CLONE_UNTRACED | SIGCHLD, CLONE_VM | CLONE_THREAD };
	const uint64_t arg1s[] = { 0, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFL };
	const long extra[] = { -1, SYSCALL_X32_BIT | SYS_close, SYSCALL_X32_BIT | SYS_getpid, SYSCALL_X32_END - 1,
			       SYSCALL_X32_END };
	size_t stops = 0;

	for (int io = 0; io < 2; io++)
		for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++)
			for (long nr = 0; nr < 460 + (long)(sizeof(extra) / sizeof(extra[0])); nr++) {
				long n = nr < 460 ? nr : extra[nr - 460];

				for (size_t i = 0; i < sizeof(arg0s) / sizeof(arg0s[0]); i++)
					for (size_t j = 0; j < sizeof(arg1s) / sizeof(arg1s[0]); j++) {
						uint64_t args[6] = { arg0s[i], arg1s[j], 0, 0, 0, 0 };
						bool want = verdict2(io, arches[a], (int)n, arg0s[i], arg1s[j]) == SECCOMP_RET_TRACE;

						stops += want;
						cr_expect_eq(syscall_stops(arches[a], n, args, io), want,
							     "arch %#x nr %ld args %#llx %#llx io %d", arches[a], n,
							     (unsigned long long)arg0s[i], (unsigned long long)arg1s[j], io);
					}
			}
	cr_expect_gt(stops, 0);
}

/*
 * The table drives the tracer's dispatch (tracer_decoders): every x86-64
 * call that changes an fd table or reaps has a decoder or is a read whose
 * fds arrive (SCM_RIGHTS); every decoder is some row's; each read or write
 * names the fd argument(s) --io looks at, and nothing else does. The
 * index syscall_find uses gives each row back, and nothing for other numbers.
 */
Test(syscalls, the_table_names_each_calls_decoder_and_fd_arguments)
{
	bool used[SYSCALL_DEC_COUNT] = { false };

	for (size_t i = 0; i < syscall_table_len; i++) {
		const struct syscall_row *row = &syscall_table[i];

		cr_expect_eq(syscall_find(row->arch, row->nr), row, "%s (%d) is found", row->name, row->nr);
		cr_expect(row->decoder < SYSCALL_DEC_COUNT, "%s", row->name);
		if (row->decoder < SYSCALL_DEC_COUNT)
			used[row->decoder] = true;
		if (row->arch == AUDIT_ARCH_X86_64 && (row->flags & SYSCALL_FD))
			cr_expect(row->decoder != SYSCALL_DEC_NONE || (row->flags & SYSCALL_RIGHTS), "%s has a decoder",
				  row->name);
		if (row->flags & SYSCALL_IO) {
			cr_expect(row->io_in >= 0 || row->io_out >= 0, "%s names its fd", row->name);
			cr_expect(row->io_in < 6 && row->io_out < 6, "%s", row->name);
		} else {
			cr_expect(row->io_in < 0 && row->io_out < 0, "%s is no read or write", row->name);
		}
		if (row->arch == AUDIT_ARCH_I386)
			cr_expect_eq(row->decoder, SYSCALL_DEC_NONE, "i386 %s is not decoded (blind, or a clone kept traced)",
				     row->name);
	}
	for (int d = 1; d < SYSCALL_DEC_COUNT; d++)
		cr_expect(used[d], "decoder %d is some row's", d);
	/* Both ends of splice and sendfile, each in its place. */
	cr_expect_eq(syscall_find(AUDIT_ARCH_X86_64, SYS_splice)->io_out, 2);
	cr_expect_eq(syscall_find(AUDIT_ARCH_X86_64, SYS_sendfile)->io_in, 1);
	cr_expect_eq(syscall_find(AUDIT_ARCH_X86_64, SYS_dup3)->decoder, SYSCALL_DEC_DUP2);
	for (long nr = -2; nr < 1100; nr++) {
		size_t rows = 0;

		for (size_t i = 0; i < syscall_table_len; i++)
			rows += syscall_table[i].arch == AUDIT_ARCH_X86_64 && syscall_table[i].nr == nr;
		cr_expect_eq(syscall_find(AUDIT_ARCH_X86_64, nr) != NULL, rows == 1, "x86-64 %ld", nr);
	}
	cr_expect_null(syscall_find(AUDIT_ARCH_AARCH64, SYS_close));
}
