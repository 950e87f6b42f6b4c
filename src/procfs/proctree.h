/* proctree.h: the processes /proc lists, each with its parent and name, and the trees they form. */
#ifndef POOLTRACE_PROCTREE_H
#define POOLTRACE_PROCTREE_H

#include "base/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proctree_proc {
	pid_t pid, ppid;
	char comm[32]; /* /proc/PID/stat's name */
};

/* pid's parent and name from /proc/PID/stat. Returns 0, or -errno (-ENOENT: no such process). */
int proctree_stat(pid_t pid, pid_t *ppid, char *comm, size_t len);

/* Every process in /proc but the caller, in /proc's order; *out is allocated. Returns how many. */
size_t proctree_list(struct proctree_proc **out);

/*
 * Moves the trees rooted at roots[0..nroots) to the front of p[0..n),
 * breadth first (each root, then every process after its parent), and
 * returns how many that is. A root not in p is left out.
 */
size_t proctree_select(struct proctree_proc *p, size_t n, const pid_t *roots, size_t nroots);

/* Puts into *pipes (value 1) the inode of every pipe process pid holds an fd of. Returns 0, or -errno. */
int proctree_pipes_of(pid_t pid, struct inomap *pipes);

/*
 * Of the pipes in `pipes` (inode -> any value), puts into *outside (value 1)
 * each one that a process not inside(ctx, pid), and not the caller, holds
 * an fd of: a pipe such a process may still write or read, whatever the
 * tree does. Reads every process's fd table (by the link's target's inode,
 * no fdinfo). Returns how many processes could not be read (another user's).
 */
size_t proctree_outside_pipes(const struct inomap *pipes, bool (*inside)(void *ctx, pid_t pid), void *ctx,
			      struct inomap *outside);

#endif
