/* capture.h: the system-call wrappers the pool makes its calls through; each does the real call, then records it. */
#ifndef POOLTRACE_CAPTURE_H
#define POOLTRACE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct evlog;

/*
 * Sets the log this process (and, through fork, its children) records into.
 * log == NULL turns recording off: the wrappers then only make the real call,
 * which is the untraced baseline of `run --no-trace`. io_events == false skips
 * the per-task write/read/task events, except each worker's first read, which
 * anchors the leaked_write_ends view.
 */
void capture_init(struct evlog *log, bool io_events);

/* pipe(2); channel is the worker the pipe is for. Returns pipe's result. */
int capture_pipe(int fds[2], int channel);
/*
 * fork(2). The `fork` event's seq is taken before the call; the child fills it
 * in (worker_index < 0 marks the pool parent) and then, before returning 0,
 * observes its fds in /proc/self/fd and records one `inherit` each.
 */
pid_t capture_fork(int worker_index);
/* close(2), close_range(2) and dup2(2): return the real call's result, errno kept. */
int capture_close(int fd);
int capture_close_range(unsigned first, unsigned last);
int capture_dup2(int oldfd, int newfd);
/* write(2)/read(2) of one task code; a read of 0 bytes is recorded as read_zero. */
ssize_t capture_write(int fd, const void *buf, size_t n, int task_code);
ssize_t capture_read(int fd, void *buf, size_t n);
/* waitpid(2); a successful wait is recorded as `reap` with the status. */
pid_t capture_waitpid(pid_t pid, int *status);
/* A worker starts task `code`. */
void capture_task(int code);
/* A reader's own check of what it read (scenario atomic): records, whole and torn. */
void capture_check(long intact, long torn);
/* Records `exit`, then _exit(code). */
_Noreturn void capture_exit(int code);

#endif
