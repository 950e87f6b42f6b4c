/* guard.c: a watcher process that kills the pool if pooltrace dies, by any means, before the pool does.
 *
 * The pool runs in its own process group. If pooltrace is SIGKILLed (or
 * crashes) nobody would be left to stop it: a naive pool blocks forever. The
 * watcher is pooltrace's child, made with clone() and no exit signal, so the
 * supervisor's waitpid(-1) (which reaps pool orphans as subreaper) never sees
 * it. It asks the kernel to signal it when pooltrace dies (PR_SET_PDEATHSIG)
 * and then kills the named process group.
 *
 * Invariants:
 *   1. The watcher holds no fd: it closes all it inherited, so it can keep no
 *      pipe of the caller's open, and the pool never sees anything of it.
 *   2. It kills only after pooltrace died without calling guard_stop, and only
 *      the group guard_watch named (or nothing, if none was named yet; the
 *      pool parent then dies by its own PR_SET_PDEATHSIG: guard_bind_child).
 *   3. A process group id cannot be reused while any member lives, and the
 *      kill follows pooltrace's death within microseconds, while the pool's
 *      members are still alive or unreaped.
 *
 * States: RUNNING --pooltrace dies--> KILL (if a group was named) --> exit
 *         RUNNING --guard_stop--> exit, reaped by pooltrace
 */
#include "pool/guard.h"

#include "base/util.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct guard {
	_Atomic pid_t pgid;  /* the pool's group, 0 until named */
	_Atomic int stopped; /* guard_stop was called: exit without killing */
	pid_t pid;           /* the watcher (in the supervisor's copy) */
};

/* The signal the watcher waits for: sent by the kernel (parent death) or by guard_stop. */
#define GUARD_WAKE SIGUSR1

static _Noreturn void guard_main(struct guard *g, pid_t supervisor)
{
	sigset_t all, wake;

	/* Everything blocked: terminal signals and a stray SIGTERM stay pending
	 * and harmless, only GUARD_WAKE is taken (and SIGKILL, always). */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	syscall(SYS_close_range, 0U, ~0U, 0U);
	prctl(PR_SET_NAME, "pooltrace-guard");
	prctl(PR_SET_PDEATHSIG, GUARD_WAKE);
	sigemptyset(&wake);
	sigaddset(&wake, GUARD_WAKE);
	/* If pooltrace died before the prctl, no signal will ever come. */
	while (getppid() == supervisor && !atomic_load(&g->stopped))
		sigwaitinfo(&wake, NULL);
	if (!atomic_load(&g->stopped)) {
		pid_t pgid = atomic_load(&g->pgid);

		if (pgid > 0)
			kill(-pgid, SIGKILL);
	}
	_exit(0);
}

struct guard *guard_start(void)
{
	struct guard *g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t self = getpid(), pid;

	if (g == MAP_FAILED) {
		error("cannot map the guard's page: %s", strerror(errno));
		return NULL;
	}
	memset(g, 0, sizeof(*g));
	/* A clone child with no exit signal: waitpid(-1) without __WCLONE
	 * ignores it, so the supervisor's reaping of the pool is unchanged. */
	pid = (pid_t)syscall(SYS_clone, 0UL, NULL, NULL, NULL, 0UL);
	if (pid < 0) {
		error("cannot start the guard process: %s", strerror(errno));
		munmap(g, sizeof(*g));
		return NULL;
	}
	if (pid == 0)
		guard_main(g, self);
	g->pid = pid;
	return g;
}

void guard_watch(struct guard *g, pid_t pgid)
{
	if (g)
		atomic_store(&g->pgid, pgid);
}

void guard_bind_child(pid_t supervisor)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != supervisor)
		_exit(1); /* pooltrace died before the prctl took effect */
}

void guard_stop(struct guard *g)
{
	pid_t pid;

	if (!g)
		return;
	atomic_store(&g->stopped, 1);
	kill(g->pid, GUARD_WAKE);
	do
		pid = waitpid(g->pid, NULL, __WCLONE);
	while (pid < 0 && errno == EINTR);
	munmap(g, sizeof(*g));
}
