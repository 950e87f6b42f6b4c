/* wake.h: what /proc says about a signal that could still wake a process whose threads are all blocked. */
#ifndef POOLTRACE_WAKE_H
#define POOLTRACE_WAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Whether signal sig, sent to process pid, would run a handler: the process
 * catches it (SigCgt) and at least one of its threads tids[0..ntids) does
 * not block it (SigBlk). A handler runs in a blocked thread and may write
 * the pipe another waits on. A signal ignored, blocked everywhere, or left
 * to its default action wakes no one (the default of SIGALRM ends the
 * process: a watchdog, not a way out of a deadlock). False when /proc
 * cannot say.
 */
bool wake_caught(pid_t pid, const pid_t *tids, size_t ntids, int sig);

/*
 * The signals of process pid's POSIX timers (timer_create) that notify by a
 * signal, from /proc/PID/timers, into sigs[0..max). Returns how many
 * (possibly more than max), or -errno when the file cannot be read (a kernel
 * without CONFIG_CHECKPOINT_RESTORE, or another user's process).
 */
int wake_timer_signals(pid_t pid, int *sigs, size_t max);

#endif
