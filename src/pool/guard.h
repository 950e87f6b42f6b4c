/* guard.h: a watcher process that kills the pool if pooltrace dies, by any means, before the pool does. */
#ifndef POOLTRACE_GUARD_H
#define POOLTRACE_GUARD_H

#include <sys/types.h>

struct guard;

/*
 * Starts the watcher: a child of the calling process that holds no fd, ignores
 * terminal signals, and waits for its parent's death (PR_SET_PDEATHSIG). Call
 * before forking the pool. Returns NULL with an error printed on failure.
 */
struct guard *guard_start(void);

/*
 * Names the process group the watcher kills with SIGKILL if pooltrace dies
 * first. Async-signal-safe: the pool parent calls it on itself right after
 * fork, and pooltrace on the pid fork returned; whichever comes first counts.
 */
void guard_watch(struct guard *g, pid_t pgid);

/*
 * For the pool parent, right after fork: it dies with SIGKILL when pooltrace
 * (its parent) dies, and at once if pooltrace is already gone. This covers the
 * moment before guard_watch has named its group. Async-signal-safe.
 */
void guard_bind_child(pid_t supervisor);

/* Pooltrace is done: the watcher exits without killing and is reaped. NULL is fine. */
void guard_stop(struct guard *g);

#endif
