/* fdmodel.c: the fd tables of a run's processes as its events describe them: events in, holds out.
 *
 * Nothing here is a model of what the kernel should have done: holds begin
 * only at observed events (pipe, inherit, dup2) and end only at recorded ones.
 * It knows no SQLite and no process: tests feed it events directly.
 *
 * Invariants:
 *   1. Each (pid, fd) has at most one open hold; opening fd again ends the
 *      old hold at the same seq (a dup2 onto an open fd).
 *   2. Every hold is handed to the ended callback exactly once: when it ends,
 *      or at fdmodel_finish with to_seq 0.
 *   3. touched_seq, when set, lies in [from_seq, to_seq]: only calls made by
 *      the holder on that fd while it held it count.
 */
#include "core/fdmodel.h"

#include "base/pidmap.h"
#include "base/util.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct fdmodel_proc {
	pid_t pid;                   /* 0: empty slot */
	uint64_t begin_seq;          /* inherited holds start here; 0 when its fork was not seen */
	struct fdmodel_hold **by_fd; /* NULL: fd not held */
	size_t nfds;
};
_Static_assert(offsetof(struct fdmodel_proc, pid) == 0, "a pidmap entry begins with its key");

struct fdmodel {
	fdmodel_ended_fn *ended;
	void *ctx;
	struct pidmap procs;         /* struct fdmodel_proc by pid; only grows */
};

struct fdmodel *fdmodel_new(fdmodel_ended_fn *ended, void *ctx)
{
	struct fdmodel *m = xcalloc(1, sizeof(*m));

	m->ended = ended;
	m->ctx = ctx;
	m->procs = (struct pidmap)PIDMAP_INIT(struct fdmodel_proc);
	return m;
}

void fdmodel_hold_free(struct fdmodel_hold *h)
{
	if (h) {
		free(h->detail);
		free(h);
	}
}

void fdmodel_free(struct fdmodel *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->procs.cap; i++) {
		struct fdmodel_proc *p = pidmap_at(&m->procs, i);

		for (size_t fd = 0; p && fd < p->nfds; fd++)
			fdmodel_hold_free(p->by_fd[fd]);
		if (p)
			free(p->by_fd);
	}
	pidmap_release(&m->procs);
	free(m);
}

/* The process's table; created empty when create, else NULL if unknown. */
static struct fdmodel_proc *fdmodel_proc(struct fdmodel *m, pid_t pid, int create)
{
	return create ? pidmap_put(&m->procs, pid) : pidmap_get(&m->procs, pid);
}

static struct fdmodel_hold *fdmodel_held(struct fdmodel_proc *p, int fd)
{
	return p && fd >= 0 && (size_t)fd < p->nfds ? p->by_fd[fd] : NULL;
}

static void fdmodel_end(struct fdmodel *m, struct fdmodel_proc *p, int fd, uint64_t seq, const char *kind,
			int touched)
{
	struct fdmodel_hold *h = fdmodel_held(p, fd);

	if (!h)
		return;
	p->by_fd[fd] = NULL;
	assert(seq >= h->from_seq);
	h->to_seq = seq;
	h->to_kind = kind;
	if (touched && !h->touched_seq)
		h->touched_seq = seq;
	m->ended(m->ctx, h);
}

void fdmodel_begin(struct fdmodel *m, pid_t pid, uint64_t seq)
{
	fdmodel_proc(m, pid, 1)->begin_seq = seq;
}

static void fdmodel_add(struct fdmodel *m, pid_t pid, int fd, uint64_t inode, int end, int64_t pipe_id,
			const char *detail, uint64_t seq, const char *kind)
{
	struct fdmodel_proc *p = fdmodel_proc(m, pid, 1);
	struct fdmodel_hold *h;

	if (fd < 0)
		return;
	if ((size_t)fd >= p->nfds) {
		size_t n = p->nfds ? p->nfds : 16;

		while (n <= (size_t)fd)
			n *= 2;
		p->by_fd = xrealloc(p->by_fd, n * sizeof(*p->by_fd));
		memset(p->by_fd + p->nfds, 0, (n - p->nfds) * sizeof(*p->by_fd));
		p->nfds = n;
	}
	assert(!p->by_fd[fd]);
	h = xcalloc(1, sizeof(*h));
	*h = (struct fdmodel_hold){ .inode = inode, .from_seq = seq, .pipe_id = pipe_id, .from_kind = kind,
				    .detail = detail && *detail ? xstrdup(detail) : NULL, .pid = pid, .fd = fd,
				    .end = (uint8_t)end };
	p->by_fd[fd] = h;
}

void fdmodel_inherit(struct fdmodel *m, pid_t pid, int fd, uint64_t inode, int end, int64_t pipe_id,
		     const char *detail, uint64_t seq)
{
	struct fdmodel_proc *p = fdmodel_proc(m, pid, 0);

	/* Observed after fork, but held since fork copied the fd table. */
	if (p && p->begin_seq && p->begin_seq <= seq)
		seq = p->begin_seq;
	fdmodel_end(m, p, fd, seq, "inherit", 0);
	fdmodel_add(m, pid, fd, inode, end, pipe_id, detail, seq, "inherit");
}

void fdmodel_open(struct fdmodel *m, pid_t pid, int fd, uint64_t inode, int end, int64_t pipe_id,
		  const char *detail, uint64_t seq, const char *kind)
{
	fdmodel_end(m, fdmodel_proc(m, pid, 0), fd, seq, kind, 1);
	fdmodel_add(m, pid, fd, inode, end, pipe_id, detail, seq, kind);
}

void fdmodel_touch(struct fdmodel *m, pid_t pid, int fd, uint64_t seq)
{
	struct fdmodel_hold *h = fdmodel_held(fdmodel_proc(m, pid, 0), fd);

	if (h && !h->touched_seq)
		h->touched_seq = seq;
}

void fdmodel_close(struct fdmodel *m, pid_t pid, int fd, uint64_t seq, const char *kind)
{
	fdmodel_end(m, fdmodel_proc(m, pid, 0), fd, seq, kind, 1);
}

void fdmodel_close_range(struct fdmodel *m, pid_t pid, int first, int last, uint64_t seq, const char *kind)
{
	struct fdmodel_proc *p = fdmodel_proc(m, pid, 0);

	for (size_t fd = first < 0 ? 0 : (size_t)first; p && fd < p->nfds && fd <= (size_t)last; fd++)
		fdmodel_end(m, p, (int)fd, seq, kind, 1);
}

void fdmodel_end_process(struct fdmodel *m, pid_t pid, uint64_t seq, const char *kind)
{
	struct fdmodel_proc *p = fdmodel_proc(m, pid, 0);

	for (size_t fd = 0; p && fd < p->nfds; fd++)
		fdmodel_end(m, p, (int)fd, seq, kind, 0);
}

void fdmodel_finish(struct fdmodel *m)
{
	for (size_t i = 0; i < m->procs.cap; i++) {
		struct fdmodel_proc *p = pidmap_at(&m->procs, i);

		for (size_t fd = 0; p && fd < p->nfds; fd++) {
			struct fdmodel_hold *h = p->by_fd[fd];

			if (h) {
				p->by_fd[fd] = NULL;
				m->ended(m->ctx, h);
			}
		}
	}
}
