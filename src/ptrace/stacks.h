/* stacks.h: record --stacks: a traced thread's user-space stack, unwound and named with libdwfl while it is stopped. */
#ifndef POOLTRACE_STACKS_H
#define POOLTRACE_STACKS_H

#include <stdint.h>
#include <sys/types.h>

struct stacks;
struct stackrows;

struct stacks *stacks_new(void);
/* Ends every libdwfl session and frees what was kept. */
void stacks_free(struct stacks *s);

/*
 * The stack of thread tid of process tgid, which must be in a ptrace stop
 * of ours (a seccomp, syscall-exit or event stop): its id in stacks_rows(),
 * kept there with its frames the first time it is seen. 0 when nothing
 * could be unwound (the thread gone, no module at its pc).
 */
int64_t stacks_capture(struct stacks *s, pid_t tgid, pid_t tid);

/* Event seq had stack id (0: none, nothing kept). */
void stacks_link(struct stacks *s, uint64_t seq, int64_t id);

/* Process tgid exec'd or ended: its session (what it maps) is ended; the next capture starts another. */
void stacks_forget(struct stacks *s, pid_t tgid);

/* Every stack and event link kept, for session_finish. */
const struct stackrows *stacks_rows(const struct stacks *s);

#endif
